//! The archiver: works the queue with bounded concurrency and per-host pacing.

use futures::future::BoxFuture;
use huadan_model::CallRecord;
use jiff::{SignedDuration, Timestamp};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;
use tokio::task::JoinSet;

use crate::RecordingsError;
use crate::config::RecordingsConfig;
use crate::fetch::{Fetched, fetch_one};
use crate::pacing::HostPacer;
use crate::queue::{Job, JobStatus, NewJob, Queue};
use crate::storage::Archive;

/// Called after an object is fully written and the queue says `archived` (phase 2: the
/// store sets the record's `recordings[n].archived_path`).
pub type ArchivedHook = Arc<dyn Fn(Job, Fetched) -> BoxFuture<'static, Result<(), String>> + Send + Sync>;

/// A hook called with records just committed to the store (the shape of
/// `huadan_sync::CommitHook`, without depending on the sync crate).
pub type CommitHook = Arc<dyn Fn(&[CallRecord]) + Send + Sync>;

/// While draining ([`Archiver::drain`]), a retry due later than this is left queued.
pub const DRAIN_PATIENCE: Duration = Duration::from_secs(30);

/// How long [`Archiver::run`] works.
#[derive(Debug, Clone, Copy, Default)]
pub struct RunOptions {
    /// Return once no job is pending (every link archived, failed or expired).
    /// Otherwise keep waiting for new jobs ([`Archiver::wake`]).
    pub until_idle: bool,
    /// Return after this long regardless (in-flight downloads are abandoned and stay
    /// queued).
    pub deadline: Option<Duration>,
}

/// What a run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunSummary {
    /// Objects written.
    pub archived: u64,
    /// Failed attempts that will be retried.
    pub retried: u64,
    /// Jobs that ended `failed`.
    pub failed: u64,
    /// Jobs that ended `expired` after a failed attempt (links that expired while
    /// waiting are counted by the queue, not here).
    pub expired: u64,
    /// Bytes written.
    pub bytes: u64,
}

/// The archiver.
pub struct Archiver {
    cfg: RecordingsConfig,
    queue: Arc<Queue>,
    archive: Archive,
    client: reqwest::Client,
    pacer: Arc<HostPacer>,
    wake: Arc<Notify>,
    hook: Option<ArchivedHook>,
    /// Set by [`Archiver::drain`]: finish once idle, and by this instant at the latest.
    drain: std::sync::Mutex<Option<tokio::time::Instant>>,
}

impl std::fmt::Debug for Archiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Archiver({:?})", self.archive)
    }
}

impl Archiver {
    /// An archiver over a queue and an archive.
    pub fn new(cfg: RecordingsConfig, queue: Arc<Queue>, archive: Archive) -> Result<Archiver, RecordingsError> {
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| RecordingsError::Config(format!("http client: {e}")))?;
        Ok(Archiver {
            pacer: Arc::new(HostPacer::new(cfg.per_host_interval())),
            cfg,
            queue,
            archive,
            client,
            wake: Arc::new(Notify::new()),
            hook: None,
            drain: std::sync::Mutex::new(None),
        })
    }

    /// An archiver for `[recordings]` over the store at `store_url`: the queue file
    /// ([`RecordingsConfig::queue_path`]), the archive, and a hook that writes each
    /// object's key into the stored record ([`crate::store_hook`]).
    pub fn open(
        cfg: &RecordingsConfig,
        store_url: &str,
        store: huadan_store::DynStore,
    ) -> Result<Arc<Archiver>, RecordingsError> {
        let queue = Arc::new(Queue::open(&cfg.queue_path(store_url))?);
        let archive = Archive::open(cfg)?;
        Ok(Arc::new(Archiver::new(cfg.clone(), queue, archive)?.with_hook(crate::store_hook(store))))
    }

    /// A post-commit hook for the sync engine (`huadan_sync::EngineOptions::on_commit`):
    /// queues the recordings of every committed record ([`Archiver::enqueue_records`])
    /// and wakes the archiver. A queue failure is logged (the links are queued again by
    /// the next sync that sees the record, or by `huadan recordings fetch`).
    pub fn commit_hook(self: &Arc<Self>) -> CommitHook {
        let me = self.clone();
        Arc::new(move |records: &[CallRecord]| {
            if let Err(e) = me.enqueue_records(records) {
                tracing::warn!(error = %e, records = records.len(), "recordings of synced records not queued");
            }
        })
    }

    /// Make a running [`Archiver::run`] return once nothing is in flight and no pending
    /// job comes due within [`DRAIN_PATIENCE`] (a link waiting out a longer backoff stays
    /// queued for the next run), and within `within` at the latest (in-flight downloads
    /// are then abandoned and stay queued); `Duration::ZERO` stops it now.
    pub fn drain(&self, within: Duration) {
        let at = tokio::time::Instant::now() + within;
        let mut d = self.drain.lock().unwrap_or_else(|p| p.into_inner());
        *d = Some(d.map_or(at, |old| old.min(at)));
        drop(d);
        self.wake.notify_one();
    }

    fn drain_deadline(&self) -> Option<tokio::time::Instant> {
        *self.drain.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Call `hook` after each object is archived.
    pub fn with_hook(mut self, hook: ArchivedHook) -> Self {
        self.hook = Some(hook);
        self
    }

    /// The queue.
    pub fn queue(&self) -> &Arc<Queue> {
        &self.queue
    }

    /// The archive.
    pub fn archive(&self) -> &Archive {
        &self.archive
    }

    /// Wake a running archiver (new jobs were enqueued).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// The jobs a record calls for under the config: its recordings not yet archived,
    /// from a source that is archived, of a call recent enough.
    pub fn plan(cfg: &RecordingsConfig, record: &CallRecord, now: Timestamp) -> Vec<NewJob> {
        if !cfg.wants_source(&record.source) || !cfg.wants_age(record.started_at, now) {
            return Vec::new();
        }
        record
            .recordings
            .iter()
            .enumerate()
            .filter(|(_, r)| r.archived_path.is_none() && !r.url.is_empty())
            .map(|(i, r)| NewJob {
                record_id: record.id.clone(),
                index: i as u32,
                source: record.source.clone(),
                started_at: record.started_at,
                url: r.url.clone(),
                expires_at: r.expires_at,
            })
            .collect()
    }

    /// Queue the recordings of these records (see [`Archiver::plan`]) and wake the
    /// archiver; a recording already archived whose record lacks the path gets it
    /// written back again. Returns how many jobs were added or revived.
    pub fn enqueue_records(&self, records: &[CallRecord]) -> Result<usize, RecordingsError> {
        let now = Timestamp::now();
        let jobs: Vec<NewJob> = records.iter().flat_map(|r| Self::plan(&self.cfg, r, now)).collect();
        let n = self.queue.enqueue(&jobs, now)?;
        if n > 0 {
            self.wake();
        }
        self.repair_paths(records)?;
        Ok(n)
    }

    /// Recordings the queue has archived but whose record arrived without the path
    /// (writing it back failed, e.g. the store was briefly unavailable): the path is
    /// written again, in the background. Returns how many were sent to be repaired.
    fn repair_paths(&self, records: &[CallRecord]) -> Result<usize, RecordingsError> {
        let Some(hook) = &self.hook else { return Ok(0) };
        let mut todo = Vec::new();
        for r in records.iter().filter(|r| self.cfg.wants_source(&r.source)) {
            for (n, rec) in r.recordings.iter().enumerate() {
                if rec.archived_path.is_some() || rec.url.is_empty() {
                    continue;
                }
                if let Some(job) = self.queue.get(&r.id, n as u32)?
                    && job.status == JobStatus::Archived
                    && let (Some(key), Some(size), Some(sha256)) =
                        (job.archived_path.clone(), job.size, job.sha256.clone())
                {
                    todo.push((job, Fetched { key, size, sha256 }));
                }
            }
        }
        let Ok(rt) = tokio::runtime::Handle::try_current() else { return Ok(0) };
        let count = todo.len();
        if count > 0 {
            let hook = hook.clone();
            rt.spawn(async move {
                for (job, f) in todo {
                    let (id, n) = (job.job.record_id.clone(), job.job.index);
                    if let Err(e) = hook(job, f).await {
                        tracing::warn!(record = %id, index = n, error = %e, "archived path still not written back");
                    }
                }
            });
        }
        Ok(count)
    }

    /// Work the queue.
    pub async fn run(&self, opts: RunOptions) -> Result<RunSummary, RecordingsError> {
        let started = tokio::time::Instant::now();
        let run_deadline = opts.deadline.map(|d| started + d);
        self.queue.recover()?;
        self.archive.clean_local_staging()?;
        let mut summary = RunSummary::default();
        let mut tasks: JoinSet<(Job, Result<Fetched, String>)> = JoinSet::new();
        loop {
            let draining = self.drain_deadline();
            let until_idle = opts.until_idle || draining.is_some();
            let deadline = match (run_deadline, draining) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            if deadline.is_some_and(|d| tokio::time::Instant::now() >= d) {
                tasks.abort_all();
                self.queue.recover()?;
                return Ok(summary);
            }
            let free = self.cfg.concurrency.saturating_sub(tasks.len());
            for job in self.queue.claim(free, Timestamp::now())? {
                let client = self.client.clone();
                let archive = self.archive.clone();
                let pacer = self.pacer.clone();
                let stall = self.cfg.stall_timeout();
                tasks.spawn(async move {
                    let host = url::Url::parse(&job.job.url)
                        .ok()
                        .and_then(|u| u.host_str().map(|h| format!("{h}:{}", u.port_or_known_default().unwrap_or(0))))
                        .unwrap_or_default();
                    pacer.wait(&host).await;
                    let r = fetch_one(&client, &archive, &job, stall).await;
                    (job, r)
                });
            }
            let sleep_for = if tasks.is_empty() {
                match self.queue.next_due()? {
                    None if until_idle => return Ok(summary),
                    Some(t)
                        if draining.is_some()
                            && t > Timestamp::now()
                                .saturating_add(
                                    SignedDuration::try_from(DRAIN_PATIENCE).unwrap_or(SignedDuration::ZERO),
                                )
                                .unwrap_or(t) =>
                    {
                        return Ok(summary);
                    }
                    None => Duration::from_secs(3600),
                    Some(t) => {
                        let d = t.duration_since(Timestamp::now());
                        Duration::try_from(d.max(SignedDuration::ZERO))
                            .unwrap_or_default()
                            .max(Duration::from_millis(5))
                    }
                }
            } else {
                Duration::from_secs(3600)
            };
            let sleep_for = match deadline {
                Some(d) => sleep_for.min(d.saturating_duration_since(tokio::time::Instant::now())),
                None => sleep_for,
            };
            tokio::select! {
                done = tasks.join_next(), if !tasks.is_empty() => {
                    if let Some(done) = done {
                        let (job, result) = done.map_err(|e| RecordingsError::Queue(format!("download task: {e}")))?;
                        self.settle(job, result, &mut summary).await?;
                    }
                }
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(sleep_for) => {}
            }
        }
    }

    async fn settle(
        &self,
        job: Job,
        result: Result<Fetched, String>,
        summary: &mut RunSummary,
    ) -> Result<(), RecordingsError> {
        let now = Timestamp::now();
        let (id, n) = (job.job.record_id.clone(), job.job.index);
        match result {
            Ok(f) => {
                self.queue.mark_archived(&id, n, &f.key, f.size, &f.sha256, now)?;
                summary.archived += 1;
                summary.bytes += f.size;
                tracing::debug!(record = %id, index = n, key = %f.key, size = f.size, "recording archived");
                if let Some(hook) = &self.hook
                    && let Err(e) = hook(job, f).await
                {
                    tracing::warn!(record = %id, index = n, error = %e, "recording archived but the record was not updated");
                }
            }
            Err(reason) => {
                let backoff = SignedDuration::try_from(self.cfg.backoff(job.attempts)).unwrap_or(SignedDuration::MAX);
                let next = now.saturating_add(backoff).unwrap_or(now);
                let (retry_at, terminal, why) = match job.job.expires_at {
                    Some(exp) => {
                        let last_chance = exp.saturating_sub(SignedDuration::from_secs(1)).unwrap_or(exp);
                        if next < exp {
                            (Some(next), JobStatus::Expired, reason)
                        } else if last_chance > now {
                            (Some(last_chance), JobStatus::Expired, reason)
                        } else {
                            let why =
                                format!("link expired at {exp} after {} attempts; last error: {reason}", job.attempts);
                            (None, JobStatus::Expired, why)
                        }
                    }
                    None if job.attempts >= self.cfg.max_attempts_without_expiry => (
                        None,
                        JobStatus::Failed,
                        format!("gave up after {} attempts (link expiry unknown); last error: {reason}", job.attempts),
                    ),
                    None => (Some(next), JobStatus::Failed, reason),
                };
                match (retry_at, terminal) {
                    (Some(_), _) => summary.retried += 1,
                    (None, JobStatus::Expired) => summary.expired += 1,
                    (None, _) => summary.failed += 1,
                }
                tracing::info!(record = %id, index = n, attempt = job.attempts, reason = %why, "recording download failed");
                self.queue.mark_failed(&id, n, &why, retry_at, terminal, now)?;
            }
        }
        Ok(())
    }
}
