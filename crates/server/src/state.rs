//! [`AppState`]: what every handler shares.

use crate::auth::Tokens;
use crate::error::ServerError;
use crate::metrics::Metrics;
use crate::scheduler::{EngineRunner, ScheduledSource, Scheduler, SyncRunner};
use huadan_config::{Config, ConfigError};
use huadan_model::Provider;
use huadan_store::DynStore;
use huadan_sync::{Engine, EngineOptions};
use jiff::tz::TimeZone;
use std::sync::Arc;

/// A configured source, as `/v1/sources` lists it.
#[derive(Debug, Clone)]
pub struct SourceInfo {
    /// Its name.
    pub name: String,
    /// Its vendor.
    pub provider: Provider,
    /// `enabled = false` sources are listed but never synced.
    pub enabled: bool,
}

/// Shared state behind every route (cheap to clone).
#[derive(Clone)]
pub struct AppState {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) store: DynStore,
    pub(crate) tokens: Tokens,
    pub(crate) tz: TimeZone,
    pub(crate) sources: Vec<SourceInfo>,
    pub(crate) scheduler: Arc<Scheduler>,
    pub(crate) metrics: Arc<Metrics>,
    /// `[recordings]`: the archive behind `/v1/calls/{id}/recordings/{n}`, if configured.
    pub(crate) recordings: Option<crate::routes::recordings::RecordingsAccess>,
}

impl AppState {
    /// State for `config` and `store`, syncing through the sync engine.
    pub fn new(config: &Config, store: DynStore) -> Result<Self, ServerError> {
        Self::with_engine_options(config, store, EngineOptions::default())
    }

    /// State syncing through the sync engine tuned by `options` (e.g. a post-commit
    /// hook feeding the recording archiver).
    pub fn with_engine_options(config: &Config, store: DynStore, options: EngineOptions) -> Result<Self, ServerError> {
        let metrics = Arc::new(Metrics::default());
        // Every source's client counts its errors by vendor code into the metrics.
        let vendors = crate::metrics::count_errors(Engine::new(config, store.clone())?.vendors(), &metrics);
        let engine = Engine::with_vendors(config, store.clone(), vendors).with_options(options);
        Self::with_runner_and_metrics(config, store, Arc::new(EngineRunner(Arc::new(engine))), metrics)
    }

    /// State whose syncs run through `runner` (tests use a runner they control).
    pub fn with_runner(config: &Config, store: DynStore, runner: Arc<dyn SyncRunner>) -> Result<Self, ServerError> {
        Self::with_runner_and_metrics(config, store, runner, Arc::new(Metrics::default()))
    }

    fn with_runner_and_metrics(
        config: &Config,
        store: DynStore,
        runner: Arc<dyn SyncRunner>,
        metrics: Arc<Metrics>,
    ) -> Result<Self, ServerError> {
        let tokens = Tokens::from_config(&config.server)?;
        let tz = huadan_model::time::timezone(&config.timezone)
            .map_err(|e| ConfigError::invalid("timezone", e.to_string()))?;
        let sources: Vec<SourceInfo> = config
            .sources
            .iter()
            .map(|s| SourceInfo { name: s.name.clone(), provider: s.kind, enabled: s.enabled })
            .collect();
        let recordings = crate::routes::recordings::RecordingsAccess::from_config(config)?;
        let scheduled = sources.iter().map(|s| ScheduledSource { name: s.name.clone(), enabled: s.enabled }).collect();
        let scheduler = Scheduler::new(runner, scheduled, metrics.clone());
        Ok(AppState { inner: Arc::new(Inner { store, tokens, tz, sources, scheduler, metrics, recordings }) })
    }

    /// The scheduler (to start the periodic loop, or to shut it down).
    pub fn scheduler(&self) -> &Arc<Scheduler> {
        &self.inner.scheduler
    }

    /// The metrics registry.
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.inner.metrics
    }

    /// Whether the API is open (no tokens configured).
    pub fn is_open(&self) -> bool {
        self.inner.tokens.is_empty()
    }
}
