//! Recording archival (issue 13): copy every call's audio out of the vendor's expiring
//! links into an object store (local directory or S3-compatible bucket) before they die.
//!
//! - [`RecordingsConfig`] parses `[recordings]`.
//! - [`Queue`] is the durable download queue (its own SQLite file): one row per
//!   (record id, recording index), links closest to expiry first, every link ending
//!   `archived`, `failed` or `expired` with a reason.
//! - [`Archiver`] works the queue with bounded concurrency and per-host pacing,
//!   streaming each body into the [`Archive`] under
//!   `{source}/{yyyy}/{mm}/{dd}/{id}-{n}.{ext}` with its size and SHA-256.

mod archiver;
pub mod audio;
mod config;
mod fetch;
pub mod key;
mod pacing;
mod queue;
mod record_update;
mod storage;

pub use archiver::{ArchivedHook, Archiver, CommitHook, DRAIN_PATIENCE, RunOptions, RunSummary};
pub use config::{RecordingsConfig, StoreLocation};
pub use fetch::Fetched;
pub use pacing::HostPacer;
pub use queue::{Job, JobStatus, NewJob, Queue, QueueStats};
pub use record_update::store_hook;
pub use storage::{Archive, is_staging_name};

/// What can go wrong outside a single download (a download's own failure is a reason
/// stored on its queue row).
#[derive(Debug, thiserror::Error)]
pub enum RecordingsError {
    /// `[recordings]` is wrong.
    #[error("{0}")]
    Config(String),
    /// The queue database failed.
    #[error("recording queue: {0}")]
    Queue(String),
    /// The archive (object store) failed.
    #[error("recording archive: {0}")]
    Storage(String),
}
