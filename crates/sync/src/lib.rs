//! The sync engine: turns the vendor seam into complete, correct, incremental syncs.
//!
//! * [`planner`] — the run's range (backfill, `checkpoint − lookback`, `--since`),
//!   windows within the vendor's span, open windows to re-visit, bisection;
//! * [`limiter`] — one limiter per source at the vendor's quota, never above it;
//! * [`retry`] — what to do with each [`huadan_vendor::ErrorClass`];
//! * `engine` — each source a task with a few workers;
//! * `writer` — the single store writer: records and state committed together, the
//!   checkpoint at the end of the last contiguous fully stored range.

mod engine;
pub mod fleet;
pub mod limiter;
pub mod planner;
pub mod retry;
mod writer;

pub use fleet::{FleetOptions, worker_identity};
pub use retry::RetryPolicy;

use huadan_config::{Config, ConfigError};
use huadan_model::Instant;
use huadan_store::DynStore;
use huadan_vendor::DynVendor;
use jiff::SignedDuration;
use serde::Serialize;
use std::time::Duration;
use tokio::sync::{mpsc, watch};

/// What one run covers.
#[derive(Debug, Clone, Default)]
pub struct SyncOptions {
    /// Only these sources (empty: every enabled source).
    pub sources: Vec<String>,
    /// Start here instead of at `checkpoint − lookback` (or the backfill start).
    pub since: Option<Instant>,
    /// Stop here instead of now.
    pub until: Option<Instant>,
}

/// One source's outcome of a run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SourceReport {
    /// Source name.
    pub source: String,
    /// Provider kind.
    pub provider: String,
    /// Whether every window of the run was stored.
    pub ok: bool,
    /// Records received from the vendor.
    pub fetched: u64,
    /// Records new to the store.
    pub inserted: u64,
    /// Records changed in place.
    pub updated: u64,
    /// List requests made.
    pub requests: u64,
    /// Requests retried.
    pub retries: u64,
    /// Errors met (retried or not).
    pub errors: u64,
    /// Wall time of this source's run.
    #[serde(with = "secs")]
    pub elapsed: Duration,
    /// The error that stopped the source, in plain words.
    pub error: Option<String>,
}

/// A whole run's outcome.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SyncReport {
    /// Per source, in config order.
    pub sources: Vec<SourceReport>,
}

impl SyncReport {
    /// True when every selected source succeeded.
    pub fn all_ok(&self) -> bool {
        self.sources.iter().all(|s| s.ok)
    }
}

/// Live progress, for bars on a TTY or log lines.
pub trait Progress: Send + Sync {
    /// A source planned `windows` windows.
    fn planned(&self, source: &str, windows: usize) {
        let _ = (source, windows);
    }
    /// A window of a source was stored with `records` records.
    fn window_done(&self, source: &str, records: u64) {
        let _ = (source, records);
    }
    /// A source finished.
    fn finished(&self, report: &SourceReport) {
        let _ = report;
    }
}

/// Progress that shows nothing.
pub struct NoProgress;
impl Progress for NoProgress {}

/// Where the engine reads "now" (tests pin it to a fake vendor's clock).
pub type NowFn = std::sync::Arc<dyn Fn() -> Instant + Send + Sync>;

/// Called by the store writer with a batch's records right after the store committed
/// them (never before, never for a batch that failed): e.g. to queue new recording
/// links for archival. It runs on the writer task, so it must be quick and not block.
pub type CommitHook = std::sync::Arc<dyn Fn(&[huadan_model::CallRecord]) + Send + Sync>;

/// Tuning knobs of the engine (defaults suit production; tests shorten them).
#[derive(Clone)]
pub struct EngineOptions {
    /// Retry policy for every source.
    pub retry: RetryPolicy,
    /// Share of the quota the limiter paces at (see [`limiter::QUOTA_HEADROOM`]).
    pub headroom: f64,
    /// Windows fetched at once per source.
    pub workers: usize,
    /// For sources without a quota, cut windows to about this span so that several
    /// can be fetched at once.
    pub unlimited_chunk: SignedDuration,
    /// Capacity (in pages) of the channel to the store writer.
    pub channel_capacity: usize,
    /// The clock (`None`: the system clock).
    pub now: Option<NowFn>,
    /// Called after every successful commit of records (see [`CommitHook`]).
    pub on_commit: Option<CommitHook>,
    /// Sharing the work with other processes on a shared store (PostgreSQL).
    pub fleet: FleetOptions,
}

impl std::fmt::Debug for EngineOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EngineOptions")
            .field("retry", &self.retry)
            .field("headroom", &self.headroom)
            .field("workers", &self.workers)
            .field("unlimited_chunk", &self.unlimited_chunk)
            .field("channel_capacity", &self.channel_capacity)
            .field("now", &self.now.as_ref().map(|_| "custom"))
            .field("on_commit", &self.on_commit.as_ref().map(|_| "hook"))
            .field("fleet", &self.fleet)
            .finish()
    }
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            retry: RetryPolicy::default(),
            headroom: limiter::QUOTA_HEADROOM,
            workers: 4,
            unlimited_chunk: SignedDuration::from_hours(6),
            channel_capacity: 16,
            now: None,
            on_commit: None,
            fleet: FleetOptions::default(),
        }
    }
}

/// The engine for one config and one store.
pub struct Engine {
    config: Config,
    store: DynStore,
    vendors: Vec<DynVendor>,
    options: EngineOptions,
}

impl Engine {
    /// Validate the sources (building their clients) and prepare to sync.
    #[cfg(feature = "registry")]
    pub fn new(config: &Config, store: DynStore) -> Result<Self, ConfigError> {
        let vendors = config.sources.iter().map(huadan_vendors::build).collect::<Result<Vec<_>, _>>()?;
        Ok(Self::with_vendors(config, store, vendors))
    }

    /// Validate the sources (building their clients) and prepare to sync. This build
    /// has no vendor registry (feature `registry` off): use [`Engine::with_vendors`].
    #[cfg(not(feature = "registry"))]
    pub fn new(config: &Config, store: DynStore) -> Result<Self, ConfigError> {
        let _ = (config, store);
        Err(ConfigError::invalid("sources", "this build of huadan-sync has no vendor registry"))
    }

    /// An engine over clients built elsewhere (tests, embedders). Sources are named by
    /// the vendors; a vendor without a `[[sources]]` entry counts as enabled and uses
    /// its documented limits.
    pub fn with_vendors(config: &Config, store: DynStore, vendors: Vec<DynVendor>) -> Self {
        Engine { config: config.clone(), store, vendors, options: EngineOptions::default() }
    }

    /// Replace the tuning knobs.
    pub fn with_options(mut self, options: EngineOptions) -> Self {
        self.options = options;
        self
    }

    /// Replace how the engine shares work on a shared store (keeps the other knobs).
    pub fn with_fleet(mut self, fleet: FleetOptions) -> Self {
        self.options.fleet = fleet;
        self
    }

    /// The store this engine writes to.
    pub fn store(&self) -> &DynStore {
        &self.store
    }

    /// The clients, in config order.
    pub fn vendors(&self) -> &[DynVendor] {
        &self.vendors
    }

    /// One run over the selected sources, each independently; never panics on a
    /// vendor's failure (it is in the report and in the source's sync state).
    pub async fn run(&self, options: &SyncOptions, progress: &dyn Progress) -> SyncReport {
        let (_tx, rx) = watch::channel(false);
        self.run_until(options, progress, rx).await
    }

    /// Like [`Engine::run`], but once `shutdown` turns true no new window is started:
    /// the windows in hand are finished and stored, the rest is left for the next run.
    pub async fn run_until(
        &self,
        options: &SyncOptions,
        progress: &dyn Progress,
        shutdown: watch::Receiver<bool>,
    ) -> SyncReport {
        let selected: Vec<&DynVendor> = self
            .vendors
            .iter()
            .filter(|v| {
                if options.sources.is_empty() {
                    self.config.source(v.source()).is_none_or(|s| s.enabled)
                } else {
                    options.sources.iter().any(|n| n == v.source())
                }
            })
            .collect();
        let mut report = SyncReport::default();
        for name in &options.sources {
            if !self.vendors.iter().any(|v| v.source() == name) {
                report.sources.push(SourceReport {
                    source: name.clone(),
                    error: Some(format!("no configured source is named `{name}`")),
                    ..Default::default()
                });
            }
        }
        let (tx, rx) = mpsc::channel(self.options.channel_capacity.max(1));
        let writer = tokio::spawn(writer::run(self.store.clone(), rx, selected.len(), self.options.on_commit.clone()));
        let (ev_tx, mut ev_rx) = mpsc::unbounded_channel();
        let mut tasks = Vec::new();
        for (idx, vendor) in selected.iter().enumerate() {
            let source_cfg = self.config.source(vendor.source());
            let limits = vendor.limits();
            let quota = match source_cfg {
                Some(s) if s.requests_per_second.is_some() || s.requests_per_minute.is_some() => {
                    huadan_vendor::Quota { per_second: s.requests_per_second, per_minute: s.requests_per_minute }
                }
                _ => limits.quota,
            };
            let rate = quota.rate_per_second().map(|r| r * self.options.headroom);
            let lookback = source_cfg
                .and_then(|s| s.lookback_seconds)
                .map(|s| SignedDuration::from_secs(s as i64))
                .unwrap_or(limits.default_lookback);
            let run = engine::SourceRun {
                idx,
                vendor: (*vendor).clone(),
                rate,
                lookback,
                backfill_days: self.config.sync.backfill_days,
                workers: self.options.workers,
                policy: self.options.retry.clone(),
                since: options.since,
                until: options.until,
                store: self.store.clone(),
                tx: tx.clone(),
                events: ev_tx.clone(),
                shutdown: shutdown.clone(),
                now: self.options.now.clone(),
                chunk: if rate.is_none() { Some(self.options.unlimited_chunk) } else { None },
            };
            if self.options.fleet.enabled && self.store.shares_work() {
                let interval = Duration::from_secs(self.config.sync.interval_seconds.max(1));
                let (fleet, hook) = (self.options.fleet.clone(), self.options.on_commit.clone());
                tasks.push(tokio::spawn(fleet::run_source(run, fleet, interval, hook)));
            } else {
                tasks.push(tokio::spawn(engine::run_source(run)));
            }
        }
        drop(tx);
        drop(ev_tx);
        let mut joined = futures::future::join_all(tasks);
        let results = loop {
            tokio::select! {
                ev = ev_rx.recv() => match ev {
                    Some(engine::Event::Planned(s, n)) => progress.planned(&s, n),
                    Some(engine::Event::WindowDone(s, n)) => progress.window_done(&s, n),
                    None => break (&mut joined).await,
                },
                r = &mut joined => break r,
            }
        };
        while let Ok(ev) = ev_rx.try_recv() {
            match ev {
                engine::Event::Planned(s, n) => progress.planned(&s, n),
                engine::Event::WindowDone(s, n) => progress.window_done(&s, n),
            }
        }
        let _ = writer.await;
        let mut by_source = Vec::new();
        for (r, v) in results.into_iter().zip(selected.iter()) {
            let r = r.unwrap_or_else(|e| SourceReport {
                source: v.source().to_string(),
                provider: v.provider().to_string(),
                error: Some(format!("internal error: {e}")),
                ..Default::default()
            });
            progress.finished(&r);
            by_source.push(r);
        }
        by_source.extend(report.sources);
        report.sources = by_source;
        report
    }

    /// Run, then again every `[sync] interval_seconds`, until `shutdown` turns true;
    /// the run in hand finishes its windows first. Returns the last run's report.
    pub async fn follow(
        &self,
        options: &SyncOptions,
        progress: &dyn Progress,
        mut shutdown: watch::Receiver<bool>,
    ) -> SyncReport {
        let interval = Duration::from_secs(self.config.sync.interval_seconds.max(1));
        loop {
            let report = self.run_until(options, progress, shutdown.clone()).await;
            if engine::sleep_or_shutdown(interval, &mut shutdown).await {
                return report;
            }
        }
    }
}

mod secs {
    pub fn serialize<S: serde::Serializer>(d: &std::time::Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(d.as_secs_f64())
    }
}
