//! huadan's query surface: the REST API of CONTRACT.md §4 (axum), the scheduled sync
//! behind `huadan serve`, and the CSV / JSON Lines / Parquet exports.
//!
//! * [`serve`] — the whole server: API + a sync of every enabled source every
//!   `sync.interval_seconds` (never two runs of one source at once) + graceful shutdown;
//! * [`router`] — the API alone over an [`AppState`], for tests and embedding;
//! * [`export`] — the export writers, used by `huadan export` and the export routes.
//!
//! Auth: bearer tokens from `server.api_tokens`, compared in constant time; viewer tokens
//! see every phone number masked (exports too) and cannot start syncs. With no tokens
//! configured the API is open, and [`serve`] refuses any listen address but loopback.
//!
//! ```no_run
//! # async fn demo(config: huadan_config::Config, store: huadan_store::DynStore) -> Result<(), huadan_server::ServerError> {
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! huadan_server::serve(&config, store, listener, async { let _ = tokio::signal::ctrl_c().await; }).await
//! # }
//! ```

pub mod archiving;
mod auth;
mod dashboard;
mod error;
pub mod export;
mod metrics;
pub mod openapi;
mod params;
mod routes;
mod scheduler;
mod state;

pub use auth::{Caller, Tokens};
pub use error::{ApiError, ErrorBody, ErrorDetail, ServerError};
pub use metrics::Metrics;
pub use params::{DEFAULT_LIMIT, MAX_LIMIT};
pub use routes::router;
pub use scheduler::{EngineRunner, ScheduledSource, Scheduler, StartError, SyncRunner};
pub use state::{AppState, SourceInfo};

use huadan_config::Config;
use huadan_store::DynStore;
use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

/// How long running syncs get to finish after shutdown is asked for, before they are
/// aborted (an abort loses nothing stored: records and checkpoint commit together).
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// Refuse to serve an open API (no tokens configured) on anything but loopback.
pub fn check_listen(config: &Config, addr: SocketAddr) -> Result<(), ServerError> {
    if config.server.api_tokens.is_empty() && !addr.ip().is_loopback() {
        return Err(ServerError::OpenOnNetwork { addr: addr.to_string() });
    }
    Ok(())
}

/// Serve the API on `listener` and sync every enabled source every
/// `sync.interval_seconds` (the first round starts at once), until `shutdown`
/// completes; then stop accepting, finish in-flight requests, give running syncs
/// [`SHUTDOWN_GRACE`] and return.
pub async fn serve(
    config: &Config,
    store: DynStore,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServerError> {
    let addr = listener.local_addr()?;
    check_listen(config, addr)?;
    let archiver = archiving::archiver(config, &store)?;
    let options = huadan_sync::EngineOptions {
        on_commit: archiver.as_ref().map(|a| a.commit_hook()),
        ..huadan_sync::EngineOptions::default()
    };
    let state = AppState::with_engine_options(config, store, options)?;
    // The archiver works its queue for as long as the server runs, fed by every sync.
    let archiving = archiver.map(|a| {
        let task = tokio::spawn({
            let a = a.clone();
            async move {
                let r = a.run(huadan_recordings::RunOptions { until_idle: false, deadline: None }).await;
                if let Err(e) = &r {
                    tracing::error!(error = %e, "recording archiver stopped; recordings are no longer archived");
                }
                r
            }
        });
        (a, task)
    });
    if state.is_open() {
        tracing::warn!(%addr, "server.api_tokens is empty: the API is open to anyone on this machine (loopback only)");
    }
    let enabled = config.sources.iter().filter(|s| s.enabled).count();
    tracing::info!(%addr, sources = enabled, interval_seconds = config.sync.interval_seconds, "serving");

    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let scheduler = state.scheduler().clone();
    let ticker =
        tokio::spawn(scheduler.clone().run_every(Duration::from_secs(config.sync.interval_seconds), stop_rx.clone()));

    let mut http_stop = stop_rx;
    let app = router(state);
    let server = axum::serve(listener, app).with_graceful_shutdown(async move {
        let _ = http_stop.wait_for(|stop| *stop).await;
    });
    let signal = tokio::spawn(async move {
        shutdown.await;
        tracing::info!("shutting down: no new syncs, finishing in-flight requests");
        let _ = stop_tx.send(true);
    });
    let served = server.await;
    signal.abort();
    let _ = ticker.await;
    scheduler.shutdown(SHUTDOWN_GRACE).await;
    if let Some((a, task)) = archiving {
        // Downloads in hand are abandoned and stay queued for the next start.
        a.drain(Duration::ZERO);
        match task.await {
            Ok(Ok(s)) => tracing::info!(archived = s.archived, bytes = s.bytes, "recording archiver stopped"),
            Ok(Err(_)) => {}
            Err(e) => tracing::error!(error = %e, "recording archiver task failed"),
        }
    }
    served?;
    Ok(())
}
