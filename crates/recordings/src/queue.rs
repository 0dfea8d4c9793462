//! The durable download queue: one row per (record id, recording index) in its own
//! SQLite file, so that a crash or restart never loses a link that still has to be
//! fetched, and so that every link ends `archived`, `failed` or `expired` — with a reason.
//!
//! One archiver works a queue at a time ([`Queue::recover`] hands jobs left `fetching`
//! by a killed process back to `pending`).

use jiff::Timestamp;
use rusqlite::{Connection, OptionalExtension, params};
use std::path::Path;
use std::sync::Mutex;

use crate::RecordingsError;

/// Where a job stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobStatus {
    /// Waiting for its (next) attempt.
    Pending,
    /// Being downloaded.
    Fetching,
    /// Fully written to the archive.
    Archived,
    /// Gave up on a link with no known expiry after the configured attempts.
    Failed,
    /// The link expired before it could be fetched.
    Expired,
}

impl JobStatus {
    /// The name stored and printed.
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Pending => "pending",
            JobStatus::Fetching => "fetching",
            JobStatus::Archived => "archived",
            JobStatus::Failed => "failed",
            JobStatus::Expired => "expired",
        }
    }

    fn parse(s: &str) -> JobStatus {
        match s {
            "fetching" => JobStatus::Fetching,
            "archived" => JobStatus::Archived,
            "failed" => JobStatus::Failed,
            "expired" => JobStatus::Expired,
            _ => JobStatus::Pending,
        }
    }
}

/// A recording link to fetch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewJob {
    /// The call's id (`{source}:{provider_call_id}`).
    pub record_id: String,
    /// Index in the record's `recordings`.
    pub index: u32,
    /// The call's source name.
    pub source: String,
    /// When the call started (names the archive day).
    pub started_at: Timestamp,
    /// The vendor's link.
    pub url: String,
    /// When the link dies, where known.
    pub expires_at: Option<Timestamp>,
}

/// A job as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    /// What was enqueued.
    pub job: NewJob,
    /// Where it stands.
    pub status: JobStatus,
    /// Attempts made so far.
    pub attempts: u32,
    /// Why the last attempt failed (or why it expired / failed for good).
    pub last_error: Option<String>,
    /// The object key, once archived.
    pub archived_path: Option<String>,
    /// Size in bytes, once archived.
    pub size: Option<u64>,
    /// SHA-256 (hex), once archived.
    pub sha256: Option<String>,
}

/// Counts per status and archived bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueueStats {
    /// Fully written.
    pub archived: u64,
    /// Waiting (including those being fetched).
    pub pending: u64,
    /// Given up (unknown expiry, attempts exhausted).
    pub failed: u64,
    /// Link expired first.
    pub expired: u64,
    /// Bytes archived.
    pub bytes: u64,
}

/// The queue.
pub struct Queue {
    conn: Mutex<Connection>,
}

impl std::fmt::Debug for Queue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Queue")
    }
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS recording_jobs (
    record_id       TEXT    NOT NULL,
    idx             INTEGER NOT NULL,
    source          TEXT    NOT NULL,
    started_at      INTEGER NOT NULL,
    url             TEXT    NOT NULL,
    expires_at      INTEGER,
    status          TEXT    NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_error      TEXT,
    archived_path   TEXT,
    size            INTEGER,
    sha256          TEXT,
    enqueued_at     INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    PRIMARY KEY (record_id, idx)
);
CREATE INDEX IF NOT EXISTS recording_jobs_due ON recording_jobs (status, next_attempt_at);
";

fn ms(t: Timestamp) -> i64 {
    t.as_millisecond()
}

fn ts(ms: i64) -> Timestamp {
    Timestamp::from_millisecond(ms).unwrap_or(Timestamp::UNIX_EPOCH)
}

fn db(e: rusqlite::Error) -> RecordingsError {
    RecordingsError::Queue(e.to_string())
}

const JOB_COLUMNS: &str =
    "record_id, idx, source, started_at, url, expires_at, status, attempts, last_error, archived_path, size, sha256";

fn row_to_job(r: &rusqlite::Row<'_>) -> rusqlite::Result<Job> {
    Ok(Job {
        job: NewJob {
            record_id: r.get(0)?,
            index: r.get(1)?,
            source: r.get(2)?,
            started_at: ts(r.get(3)?),
            url: r.get(4)?,
            expires_at: r.get::<_, Option<i64>>(5)?.map(ts),
        },
        status: JobStatus::parse(&r.get::<_, String>(6)?),
        attempts: r.get(7)?,
        last_error: r.get(8)?,
        archived_path: r.get(9)?,
        size: r.get::<_, Option<i64>>(10)?.map(|v| v.max(0) as u64),
        sha256: r.get(11)?,
    })
}

impl Queue {
    /// Open (creating if needed) the queue file.
    pub fn open(path: &Path) -> Result<Queue, RecordingsError> {
        let conn = Connection::open(path).map_err(db)?;
        Self::init(conn)
    }

    /// An in-memory queue (tests).
    pub fn in_memory() -> Result<Queue, RecordingsError> {
        Self::init(Connection::open_in_memory().map_err(db)?)
    }

    fn init(conn: Connection) -> Result<Queue, RecordingsError> {
        conn.busy_timeout(std::time::Duration::from_secs(10)).map_err(db)?;
        conn.pragma_update(None, "journal_mode", "WAL").map_err(db)?;
        conn.pragma_update(None, "synchronous", "NORMAL").map_err(db)?;
        conn.execute_batch(SCHEMA).map_err(db)?;
        Ok(Queue { conn: Mutex::new(conn) })
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Add links. A link already queued is left alone unless its URL changed (a vendor
    /// rotated it) and it is not archived: then it gets the new URL and expiry and is
    /// pending again with a fresh attempt count. Returns how many rows were added or revived.
    pub fn enqueue(&self, jobs: &[NewJob], now: Timestamp) -> Result<usize, RecordingsError> {
        let mut conn = self.conn();
        let tx = conn.transaction().map_err(db)?;
        let mut changed = 0;
        {
            let mut stmt = tx
                .prepare_cached(
                    "INSERT INTO recording_jobs (record_id, idx, source, started_at, url, expires_at, status,
                         attempts, next_attempt_at, enqueued_at, updated_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'pending', 0, ?7, ?7, ?7)
                     ON CONFLICT (record_id, idx) DO UPDATE SET
                         url = excluded.url, expires_at = excluded.expires_at, status = 'pending',
                         attempts = 0, next_attempt_at = excluded.next_attempt_at,
                         updated_at = excluded.updated_at
                     WHERE recording_jobs.url <> excluded.url
                       AND recording_jobs.status NOT IN ('archived', 'fetching')",
                )
                .map_err(db)?;
            for j in jobs {
                changed += stmt
                    .execute(params![
                        j.record_id,
                        j.index,
                        j.source,
                        ms(j.started_at),
                        j.url,
                        j.expires_at.map(ms),
                        ms(now)
                    ])
                    .map_err(db)?;
            }
        }
        tx.commit().map_err(db)?;
        Ok(changed)
    }

    /// Hand jobs a killed archiver left `fetching` back to `pending`. Returns how many.
    pub fn recover(&self) -> Result<usize, RecordingsError> {
        self.conn().execute("UPDATE recording_jobs SET status = 'pending' WHERE status = 'fetching'", []).map_err(db)
    }

    /// Mark pending jobs whose link has expired as `expired`; returns how many.
    pub fn expire_due(&self, now: Timestamp) -> Result<usize, RecordingsError> {
        self.conn()
            .execute(
                "UPDATE recording_jobs SET status = 'expired', updated_at = ?1,
                     last_error = 'link expired at ' || strftime('%Y-%m-%dT%H:%M:%SZ', expires_at / 1000, 'unixepoch')
                         || ' before it was fetched' || CASE WHEN last_error IS NULL THEN ''
                         ELSE ' (' || attempts || ' attempts; last error: ' || last_error || ')' END
                 WHERE status = 'pending' AND expires_at IS NOT NULL AND expires_at <= ?1",
                params![ms(now)],
            )
            .map_err(db)
    }

    /// Take up to `n` due jobs, the links closest to expiry first (unknown expiry last),
    /// and mark them `fetching`.
    pub fn claim(&self, n: usize, now: Timestamp) -> Result<Vec<Job>, RecordingsError> {
        if n == 0 {
            return Ok(Vec::new());
        }
        self.expire_due(now)?;
        let mut conn = self.conn();
        let tx = conn.transaction().map_err(db)?;
        let jobs = {
            let mut stmt = tx
                .prepare_cached(&format!(
                    "SELECT {JOB_COLUMNS} FROM recording_jobs
                     WHERE status = 'pending' AND next_attempt_at <= ?1
                     ORDER BY expires_at IS NULL, expires_at, enqueued_at, record_id, idx LIMIT ?2"
                ))
                .map_err(db)?;
            let rows = stmt.query_map(params![ms(now), n as i64], row_to_job).map_err(db)?;
            rows.collect::<Result<Vec<_>, _>>().map_err(db)?
        };
        {
            let mut upd = tx
                .prepare_cached(
                    "UPDATE recording_jobs SET status = 'fetching', attempts = attempts + 1, updated_at = ?3
                     WHERE record_id = ?1 AND idx = ?2",
                )
                .map_err(db)?;
            for j in &jobs {
                upd.execute(params![j.job.record_id, j.job.index, ms(now)]).map_err(db)?;
            }
        }
        tx.commit().map_err(db)?;
        Ok(jobs
            .into_iter()
            .map(|mut j| {
                j.status = JobStatus::Fetching;
                j.attempts += 1;
                j
            })
            .collect())
    }

    /// Record a fully written object.
    pub fn mark_archived(
        &self,
        record_id: &str,
        index: u32,
        key: &str,
        size: u64,
        sha256: &str,
        now: Timestamp,
    ) -> Result<(), RecordingsError> {
        self.conn()
            .execute(
                "UPDATE recording_jobs SET status = 'archived', archived_path = ?3, size = ?4, sha256 = ?5,
                     last_error = NULL, updated_at = ?6
                 WHERE record_id = ?1 AND idx = ?2",
                params![record_id, index, key, size as i64, sha256, ms(now)],
            )
            .map_err(db)?;
        Ok(())
    }

    /// Record a failed attempt: retry at `retry_at`, or, when `retry_at` is `None`,
    /// finish the job as `terminal` (failed / expired) with `reason`.
    pub fn mark_failed(
        &self,
        record_id: &str,
        index: u32,
        reason: &str,
        retry_at: Option<Timestamp>,
        terminal: JobStatus,
        now: Timestamp,
    ) -> Result<(), RecordingsError> {
        let (status, next) = match retry_at {
            Some(t) => ("pending", ms(t)),
            None => (terminal.as_str(), ms(now)),
        };
        self.conn()
            .execute(
                "UPDATE recording_jobs SET status = ?3, next_attempt_at = ?4, last_error = ?5, updated_at = ?6
                 WHERE record_id = ?1 AND idx = ?2",
                params![record_id, index, status, next, reason, ms(now)],
            )
            .map_err(db)?;
        Ok(())
    }

    /// When the earliest pending job becomes due, if any job is pending.
    pub fn next_due(&self) -> Result<Option<Timestamp>, RecordingsError> {
        let v: Option<i64> = self
            .conn()
            .query_row("SELECT MIN(next_attempt_at) FROM recording_jobs WHERE status = 'pending'", [], |r| r.get(0))
            .map_err(db)?;
        Ok(v.map(ts))
    }

    /// Put `failed` (and, with `expired_too`, `expired`) jobs back to `pending` for a
    /// backfill; an expired link is only worth it if the vendor still serves it.
    pub fn retry_failed(&self, expired_too: bool, now: Timestamp) -> Result<usize, RecordingsError> {
        let sql = if expired_too {
            "UPDATE recording_jobs SET status = 'pending', attempts = 0, next_attempt_at = ?1
             WHERE status = 'failed' OR (status = 'expired' AND (expires_at IS NULL OR expires_at > ?1))"
        } else {
            "UPDATE recording_jobs SET status = 'pending', attempts = 0, next_attempt_at = ?1 WHERE status = 'failed'"
        };
        self.conn().execute(sql, params![ms(now)]).map_err(db)
    }

    /// One job.
    pub fn get(&self, record_id: &str, index: u32) -> Result<Option<Job>, RecordingsError> {
        self.conn()
            .query_row(
                &format!("SELECT {JOB_COLUMNS} FROM recording_jobs WHERE record_id = ?1 AND idx = ?2"),
                params![record_id, index],
                row_to_job,
            )
            .optional()
            .map_err(db)
    }

    /// Every job, in key order (for status listings and tests).
    pub fn all(&self) -> Result<Vec<Job>, RecordingsError> {
        let conn = self.conn();
        let mut stmt =
            conn.prepare(&format!("SELECT {JOB_COLUMNS} FROM recording_jobs ORDER BY record_id, idx")).map_err(db)?;
        let rows = stmt.query_map([], row_to_job).map_err(db)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(db)
    }

    /// Counts per status and archived bytes.
    pub fn stats(&self) -> Result<QueueStats, RecordingsError> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare("SELECT status, COUNT(*), COALESCE(SUM(size), 0) FROM recording_jobs GROUP BY status")
            .map_err(db)?;
        let mut s = QueueStats::default();
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?, r.get::<_, i64>(2)?)))
            .map_err(db)?;
        for row in rows {
            let (status, n, bytes) = row.map_err(db)?;
            let n = n.max(0) as u64;
            match JobStatus::parse(&status) {
                JobStatus::Archived => {
                    s.archived += n;
                    s.bytes += bytes.max(0) as u64;
                }
                JobStatus::Pending | JobStatus::Fetching => s.pending += n,
                JobStatus::Failed => s.failed += n,
                JobStatus::Expired => s.expired += n,
            }
        }
        Ok(s)
    }
}
