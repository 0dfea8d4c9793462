//! Scheduled and on-demand syncs: every enabled source every `sync.interval_seconds`,
//! plus `POST /v1/sources/{name}/sync`; never two runs of one source at once; on
//! shutdown, running syncs get a grace period and are then aborted (the engine commits
//! records and checkpoint in one transaction, so an abort loses nothing stored).

use crate::metrics::Metrics;
use futures::future::BoxFuture;
use huadan_sync::{Engine, NoProgress, SyncOptions, SyncReport};
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinSet;

/// Runs one source's sync. The server uses [`EngineRunner`]; tests plug in their own.
pub trait SyncRunner: Send + Sync + 'static {
    /// Sync `source` once; once `stop` turns true, wind down (start no new window).
    fn run_source(&self, source: String, stop: watch::Receiver<bool>) -> BoxFuture<'static, SyncReport>;
}

/// [`SyncRunner`] over the sync engine.
pub struct EngineRunner(pub Arc<Engine>);

impl SyncRunner for EngineRunner {
    fn run_source(&self, source: String, stop: watch::Receiver<bool>) -> BoxFuture<'static, SyncReport> {
        let engine = self.0.clone();
        Box::pin(async move {
            let options = SyncOptions { sources: vec![source], ..SyncOptions::default() };
            engine.run_until(&options, &NoProgress, stop).await
        })
    }
}

/// Why a sync was not started.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StartError {
    /// No configured source has this name.
    #[error("no source named `{0}` is configured")]
    Unknown(String),
    /// The source is configured with `enabled = false`.
    #[error("source `{0}` is disabled (enabled = false)")]
    Disabled(String),
    /// A run of the source is in progress.
    #[error("a sync of source `{0}` is already running")]
    Running(String),
}

/// A configured source as the scheduler sees it.
#[derive(Debug, Clone)]
pub struct ScheduledSource {
    /// Its name.
    pub name: String,
    /// Whether scheduled and on-demand syncs may run.
    pub enabled: bool,
}

/// The scheduler: which sources are running, and the tasks running them.
pub struct Scheduler {
    runner: Arc<dyn SyncRunner>,
    sources: Vec<ScheduledSource>,
    running: Mutex<HashSet<String>>,
    tasks: Mutex<JoinSet<()>>,
    metrics: Arc<Metrics>,
    stop: watch::Sender<bool>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Removes a source from the running set when its task ends, however it ends.
struct RunningGuard {
    scheduler: Arc<Scheduler>,
    source: String,
}

impl Drop for RunningGuard {
    fn drop(&mut self) {
        lock(&self.scheduler.running).remove(&self.source);
        self.scheduler.metrics.set_running(&self.source, false);
    }
}

impl Scheduler {
    /// A scheduler over `sources` using `runner`.
    pub fn new(runner: Arc<dyn SyncRunner>, sources: Vec<ScheduledSource>, metrics: Arc<Metrics>) -> Arc<Self> {
        Arc::new(Scheduler {
            runner,
            sources,
            running: Mutex::new(HashSet::new()),
            tasks: Mutex::new(JoinSet::new()),
            metrics,
            stop: watch::channel(false).0,
        })
    }

    /// The configured sources.
    pub fn sources(&self) -> &[ScheduledSource] {
        &self.sources
    }

    /// Whether a run of `source` is in progress.
    pub fn is_running(&self, source: &str) -> bool {
        lock(&self.running).contains(source)
    }

    /// Start a run of `source` in the background, unless one is running.
    pub fn start(self: &Arc<Self>, source: &str) -> Result<(), StartError> {
        let Some(src) = self.sources.iter().find(|s| s.name == source) else {
            return Err(StartError::Unknown(source.to_string()));
        };
        if !src.enabled {
            return Err(StartError::Disabled(source.to_string()));
        }
        if !lock(&self.running).insert(source.to_string()) {
            return Err(StartError::Running(source.to_string()));
        }
        self.metrics.set_running(source, true);
        let guard = RunningGuard { scheduler: self.clone(), source: source.to_string() };
        let run = self.runner.run_source(source.to_string(), self.stop.subscribe());
        let metrics = self.metrics.clone();
        let mut tasks = lock(&self.tasks);
        while tasks.try_join_next().is_some() {}
        tasks.spawn(async move {
            let _guard = guard;
            tracing::info!(source = %_guard.source, "sync started");
            let report = run.await;
            for s in &report.sources {
                metrics.record_sync(s);
                if s.ok {
                    tracing::info!(source = %s.source, fetched = s.fetched, inserted = s.inserted, updated = s.updated, "sync finished");
                } else {
                    tracing::warn!(source = %s.source, error = s.error.as_deref().unwrap_or("unknown"), "sync failed");
                }
            }
        });
        Ok(())
    }

    /// Start every enabled source that is not already running.
    pub fn start_all_due(self: &Arc<Self>) {
        for s in self.sources.iter().filter(|s| s.enabled) {
            match self.start(&s.name) {
                Ok(()) => {}
                Err(StartError::Running(_)) => {
                    tracing::info!(source = %s.name, "previous sync still running; skipping this round")
                }
                Err(e) => tracing::warn!(source = %s.name, error = %e, "scheduled sync not started"),
            }
        }
    }

    /// Start due sources now and then every `interval`, until `stop` turns true.
    pub async fn run_every(self: Arc<Self>, interval: Duration, mut stop: watch::Receiver<bool>) {
        let mut ticker = tokio::time::interval(interval.max(Duration::from_secs(1)));
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            tokio::select! {
                _ = ticker.tick() => self.start_all_due(),
                changed = stop.changed() => {
                    if changed.is_err() || *stop.borrow() {
                        break;
                    }
                }
            }
        }
    }

    /// Tell running syncs to stop, wait up to `grace` for them, then abort what is left.
    pub async fn shutdown(&self, grace: Duration) {
        self.stop.send_replace(true);
        let mut tasks = std::mem::take(&mut *lock(&self.tasks));
        if tasks.is_empty() {
            return;
        }
        tracing::info!(running = tasks.len(), "waiting for running syncs to finish");
        let drained = tokio::time::timeout(grace, async { while tasks.join_next().await.is_some() {} }).await;
        if drained.is_err() {
            tracing::warn!(running = tasks.len(), "syncs still running after the grace period; aborting them");
            tasks.abort_all();
            while tasks.join_next().await.is_some() {}
        }
    }
}
