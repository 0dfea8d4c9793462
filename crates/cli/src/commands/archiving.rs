//! Recording archival next to a sync (`huadan sync`, `huadan demo`): with
//! `[recordings] archive = true` the sync engine's post-commit hook queues the recording
//! links of every committed record, and an [`Archiver`] works the queue meanwhile.

use crate::error::CliError;
use huadan_config::Config;
use huadan_recordings::{Archiver, RecordingsConfig, RunOptions, RunSummary};
use huadan_store::DynStore;
use huadan_sync::EngineOptions;
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;

/// How long a one-shot `huadan sync` keeps archiving after its last window is stored;
/// what is left stays queued for the next sync or `huadan recordings fetch`.
pub const DRAIN: Duration = Duration::from_secs(600);

/// What happens to links a sync leaves queued.
pub const LEFT_FOR_NEXT: &str = "the next sync or `huadan recordings fetch` continues";

/// The archiver `[recordings]` asks for (`None`: no section, or `archive = false`).
pub fn archiver(config: &Config, store: &DynStore) -> Result<Option<Arc<Archiver>>, CliError> {
    let Some(table) = &config.recordings else { return Ok(None) };
    let cfg = RecordingsConfig::from_table(table).map_err(|e| CliError::usage(e.to_string()))?;
    if !cfg.archive {
        return Ok(None);
    }
    Archiver::open(&cfg, &config.store.url, store.clone()).map(Some).map_err(|e| CliError::Runtime(e.into()))
}

/// Engine options whose post-commit hook feeds `archiver` (defaults otherwise).
pub fn engine_options(archiver: Option<&Arc<Archiver>>) -> EngineOptions {
    EngineOptions { on_commit: archiver.map(|a| a.commit_hook()), ..EngineOptions::default() }
}

/// An archiver working its queue in the background until [`Background::finish`].
pub struct Background {
    archiver: Arc<Archiver>,
    task: JoinHandle<Result<RunSummary, huadan_recordings::RecordingsError>>,
}

impl Background {
    /// Start working the queue.
    pub fn start(archiver: Arc<Archiver>) -> Background {
        let a = archiver.clone();
        let task = tokio::spawn(async move { a.run(RunOptions { until_idle: false, deadline: None }).await });
        Background { archiver, task }
    }

    /// Finish what is due (within `within`), then report on stderr what this run did and
    /// what the queue holds; `then` says what happens to what is left.
    pub async fn finish(self, within: Duration, then: &str) -> Result<RunSummary, CliError> {
        self.archiver.drain(within);
        let summary = self
            .task
            .await
            .map_err(|e| CliError::Runtime(anyhow::anyhow!("archiver task: {e}")))?
            .map_err(|e| CliError::Runtime(e.into()))?;
        let s = self.archiver.queue().stats().map_err(|e| CliError::Runtime(e.into()))?;
        eprintln!(
            "recordings: archived {} ({} bytes) this run; queue: archived {}, pending {}, failed {}, expired {}",
            summary.archived, summary.bytes, s.archived, s.pending, s.failed, s.expired
        );
        if s.pending > 0 {
            eprintln!("recordings: {} still queued ({then})", s.pending);
        }
        Ok(summary)
    }
}
