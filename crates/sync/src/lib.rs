//! The sync engine: turns the vendor seam into complete, correct, incremental syncs.
//!
//! PLACEHOLDER BODY — the public API below is fixed (the CLI, the server's scheduler and
//! the demo call it); the sync-engine issue fills in planner, limiter, retry and the
//! single store writer behind it.

use huadan_config::{Config, ConfigError};
use huadan_model::Instant;
use huadan_store::DynStore;
use serde::Serialize;
use std::time::Duration;

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

/// The engine for one config and one store.
pub struct Engine {
    config: Config,
    store: DynStore,
}

impl Engine {
    /// Validate the sources (building their clients) and prepare to sync.
    pub fn new(config: &Config, store: DynStore) -> Result<Self, ConfigError> {
        Ok(Engine { config: config.clone(), store })
    }

    /// The store this engine writes to.
    pub fn store(&self) -> &DynStore {
        &self.store
    }

    /// One run over the selected sources, each independently; never panics on a
    /// vendor's failure (it is in the report and in the source's sync state).
    pub async fn run(&self, options: &SyncOptions, progress: &dyn Progress) -> SyncReport {
        let _ = (options, progress, &self.config);
        SyncReport::default()
    }
}

mod secs {
    pub fn serialize<S: serde::Serializer>(d: &std::time::Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(d.as_secs_f64())
    }
}
