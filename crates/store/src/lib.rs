//! Storage: the [`Store`] trait every backend implements, and the types that cross it.
//!
//! The URL scheme picks the backend ([`open`]): `sqlite://PATH` (embedded, default) or
//! `postgres://…` ([`PgStore`]). Callers (sync engine, CLI, REST API) only ever see `dyn Store`.
//!
//! Guarantees every backend gives:
//! * [`Store::commit`] writes a batch of records (upserts keyed by `id`) **and** the
//!   source's sync state in one transaction: both or neither become visible;
//! * re-writing an unchanged record changes nothing (not even `synced_at`); a changed
//!   record is updated in place;
//! * [`Store::calls`] pages newest first with an opaque keyset cursor, stable while new
//!   rows arrive (no row skipped or repeated);
//! * every filter value is bound as a parameter, never spliced into SQL.

mod aggregate;
mod content;
mod cursor;
mod postgres;
mod sqlite;
mod types;

pub use aggregate::NO_AGENT;
pub use postgres::PgStore;
pub use sqlite::{EXPORT_PAGE, SqliteStore};
pub use types::{
    Batch, CallFilter, CallPage, CallQuery, GroupBy, OpenWindow, ROLLUP_SLOT_SECONDS, RollupCell, SourceStatus,
    StatsRow, SyncState, WriteStats,
};

use async_trait::async_trait;
use futures::stream::BoxStream;
use huadan_model::CallRecord;
use std::sync::Arc;

/// A storage failure.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The URL names no supported backend, or is malformed.
    #[error("unsupported store URL `{0}`: use sqlite://PATH or postgres://user:pass@host:5432/db")]
    BadUrl(String),
    /// The database could not be opened or reached (URL shown with its password redacted).
    #[error("cannot open store {url}: {message}")]
    Open {
        /// The URL, password redacted.
        url: String,
        /// What went wrong.
        message: String,
    },
    /// A migration failed.
    #[error("migration {version} failed: {message}")]
    Migration {
        /// The migration's version.
        version: u32,
        /// What went wrong.
        message: String,
    },
    /// A query or write failed.
    #[error("database error: {0}")]
    Db(String),
    /// A stored row could not be decoded (a record written by a newer huadan?).
    #[error("stored row {id} cannot be read: {message}")]
    Corrupt {
        /// The row's id.
        id: String,
        /// What went wrong.
        message: String,
    },
    /// A pagination cursor that this store did not issue.
    #[error("invalid cursor: {0}")]
    BadCursor(String),
}

/// The storage backend.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Upsert `batch.records` and, when given, replace the source's sync state, in one
    /// transaction. Returns how many records were new, changed or unchanged.
    async fn commit(&self, batch: Batch) -> Result<WriteStats, StoreError>;

    /// The sync state of one source, if it ever synced.
    async fn load_state(&self, source: &str) -> Result<Option<SyncState>, StoreError>;

    /// Every known source's state with its record count.
    async fn sources(&self) -> Result<Vec<SourceStatus>, StoreError>;

    /// One page of records matching `query`, newest first.
    async fn calls(&self, query: &CallQuery) -> Result<CallPage, StoreError>;

    /// One record by id.
    async fn call(&self, id: &str) -> Result<Option<CallRecord>, StoreError>;

    /// How many records match.
    async fn count(&self, filter: &CallFilter) -> Result<u64, StoreError>;

    /// Aggregates grouped by `by`; `day` / `hour` / `weekday` buckets are taken in `tz`.
    async fn stats(
        &self,
        filter: &CallFilter,
        by: GroupBy,
        tz: &jiff::tz::TimeZone,
    ) -> Result<Vec<StatsRow>, StoreError>;

    /// Every matching record, newest first, streamed with bounded memory.
    fn export(&self, filter: CallFilter) -> BoxStream<'static, Result<CallRecord, StoreError>>;

    /// Counts and talk time of the matching records in [`ROLLUP_SLOT_SECONDS`] UTC slots
    /// by provider, inbound-or-not and answered-or-not, read in one pass (dashboards
    /// bucket the slots into local days and hours themselves). Backends without it
    /// answer `Ok(None)` and callers fall back to [`Store::stats`].
    async fn rollup(&self, filter: &CallFilter) -> Result<Option<Vec<RollupCell>>, StoreError> {
        let _ = filter;
        Ok(None)
    }
}

/// A shared store.
pub type DynStore = Arc<dyn Store>;

/// Open (creating and migrating as needed) the store at `url`.
///
/// `sqlite://huadan.db` is relative to the working directory, `sqlite:///var/lib/h.db`
/// absolute.
pub async fn open(url: &str) -> Result<DynStore, StoreError> {
    if let Some(path) = url.strip_prefix("sqlite://") {
        let path = path.split(['?', '#']).next().unwrap_or_default();
        if path.is_empty() {
            return Err(StoreError::BadUrl(url.to_string()));
        }
        return Ok(Arc::new(SqliteStore::open(path).await?));
    }
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok(Arc::new(PgStore::open(url).await?));
    }
    Err(StoreError::BadUrl(redact_url(url)))
}

/// `scheme://user:****@host/db`: a URL safe to print.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{}:****{}", &url[..s + 3], user, &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn redacts_password() {
        assert_eq!(super::redact_url("postgres://u:p%40ss@h:5432/db"), "postgres://u:****@h:5432/db");
        assert_eq!(super::redact_url("sqlite://huadan.db"), "sqlite://huadan.db");
    }
}
