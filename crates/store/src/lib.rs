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
mod archived;
mod content;
mod cursor;
mod dicts;
pub mod fleet;
mod json;
mod packing;
mod postgres;
mod prepared;
mod sqlite;
mod streaming;
mod types;

pub use aggregate::NO_AGENT;
pub use fleet::{
    Claim, ClaimRecord, PlanFn, PlannedWindow, RunPlan, RunTicket, RunView, SlotGrant, StateUpdate, WindowClaim,
    WindowDone, WindowKind, WindowRow, WindowStatus,
};
pub use json::{JsonPage, JsonRecords};
pub use postgres::PgStore;
pub use prepared::Prepared;
pub use sqlite::{EXPORT_PAGE, SqliteStore, StoredPage};
pub use types::{
    Batch, CallFilter, CallPage, CallQuery, GroupBy, OpenWindow, ROLLUP_SLOT_SECONDS, RollupCell, SourceStatus,
    StatsRow, SyncState, WriteStats,
};

use async_trait::async_trait;
use futures::stream::BoxStream;
use huadan_model::CallRecord;
use std::sync::Arc;
use std::time::Duration;

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
    /// A stored body was compressed with a dictionary this process has not loaded (yet):
    /// the store loads its dictionaries and reads again.
    #[error("stored row {id} needs compression dictionary {dict:016x}, which is not in this store")]
    UnknownDictionary {
        /// The row's id.
        id: String,
        /// The dictionary's id.
        dict: u64,
    },
    /// A pagination cursor that this store did not issue.
    #[error("invalid cursor: {0}")]
    BadCursor(String),
    /// A worker's lease on a window was lost (expired, or taken over by another worker):
    /// its commit is refused so that only the window's current holder writes it.
    #[error("the lease on window {window} of `{source_name}` held by {owner} was lost; commit refused")]
    LeaseLost {
        /// The source.
        source_name: String,
        /// The window, `[start, end)`.
        window: String,
        /// The worker whose lease it was.
        owner: String,
    },
    /// The store cannot share work between processes (the embedded SQLite store).
    #[error("{0} needs a store shared by several processes (PostgreSQL)")]
    NotShared(&'static str),
}

/// The storage backend.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Upsert `batch.records` and, when given, replace the source's sync state, in one
    /// transaction. Returns how many records were new, changed or unchanged.
    async fn commit(&self, batch: Batch) -> Result<WriteStats, StoreError>;

    /// Serialise and compress `batch` for [`Store::write`] without touching the
    /// database, so that a caller can prepare batch N+1 while batch N is being written.
    /// The default keeps the batch as it is.
    async fn prepare(&self, batch: Batch) -> Result<Prepared, StoreError> {
        Ok(Prepared::plain(batch))
    }

    /// Write a batch made by this store's [`Store::prepare`]: exactly what
    /// [`Store::commit`] of the batch does, in one transaction. Batches are written in
    /// the order of the calls; a caller that needs them in order awaits each write
    /// before starting the next. The default commits the plain batch.
    async fn write(&self, prepared: Prepared) -> Result<WriteStats, StoreError> {
        self.commit(prepared.into_batch()?).await
    }

    /// How many [`Store::write`]s this store can usefully run at once, each in its own
    /// transaction. A caller may then write batches of *different* sources side by side;
    /// one source's batches stay one after the other, in order (each may carry that
    /// source's checkpoint). 1 (the default): one write at a time.
    fn write_lanes(&self) -> usize {
        1
    }

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

    /// [`Store::calls`] with every record already serialised as JSON (the same bytes
    /// `serde_json` makes of it); backends pass stored bodies through without
    /// building records. The default serialises [`Store::calls`]' page.
    async fn calls_json(&self, query: &CallQuery) -> Result<JsonPage, StoreError> {
        JsonPage::from_page(&self.calls(query).await?)
    }

    /// [`Store::export`] as JSON, a page of records at a time, streamed with bounded
    /// memory. The default serialises [`Store::export`]'s records.
    fn export_json(&self, filter: CallFilter) -> BoxStream<'static, Result<JsonRecords, StoreError>> {
        json::serialise_stream(self.export(filter))
    }

    /// Counts and talk time of the matching records in [`ROLLUP_SLOT_SECONDS`] UTC slots
    /// by provider, inbound-or-not and answered-or-not, read in one pass (dashboards
    /// bucket the slots into local days and hours themselves). Backends without it
    /// answer `Ok(None)` and callers fall back to [`Store::stats`].
    async fn rollup(&self, filter: &CallFilter) -> Result<Option<Vec<RollupCell>>, StoreError> {
        let _ = filter;
        Ok(None)
    }

    // ---- Sharing the work between processes ([`fleet`]). The defaults are those of a
    // store used by one process only (SQLite): nothing is shared, the engine schedules
    // windows in-process and paces the quota locally.

    /// Whether several processes may share this store's sync work (leases, windows,
    /// fleet-wide quota). `false`: the default, the single-process engine is used.
    fn shares_work(&self) -> bool {
        false
    }

    /// Join the source's unfinished run, or (if none, and the last one finished at
    /// least `min_gap` ago) plan a new one with `plan`, for the whole fleet, under the
    /// source's lock.
    async fn plan_run(
        &self,
        source: &str,
        owner: &str,
        min_gap: Duration,
        plan: PlanFn,
    ) -> Result<RunTicket, StoreError> {
        let _ = (source, owner, min_gap, plan);
        Err(StoreError::NotShared("planning a shared run"))
    }

    /// Lease the next claimable window of `generation` to `owner` for `ttl`: one never
    /// claimed, released, or whose holder's lease expired (`FOR UPDATE SKIP LOCKED`).
    async fn claim_window(
        &self,
        source: &str,
        generation: i64,
        owner: &str,
        ttl: Duration,
    ) -> Result<Claim, StoreError> {
        let _ = (source, generation, owner, ttl);
        Err(StoreError::NotShared("claiming a window"))
    }

    /// Heartbeat: extend the lease by `ttl` from now. `Ok(false)`: the lease is lost
    /// (expired or taken over); the worker must stop fetching the window.
    async fn renew_window(&self, claim: &WindowClaim, ttl: Duration) -> Result<bool, StoreError> {
        let _ = (claim, ttl);
        Ok(true)
    }

    /// Give a claimed window back unfinished (shutdown, a fatal source error).
    async fn release_window(&self, claim: &WindowClaim) -> Result<(), StoreError> {
        let _ = claim;
        Ok(())
    }

    /// Upsert records of a window still being fetched, if (and only if) `claim` still
    /// holds the lease ([`StoreError::LeaseLost`] otherwise).
    async fn write_window_records(
        &self,
        claim: &WindowClaim,
        records: Vec<CallRecord>,
    ) -> Result<WriteStats, StoreError> {
        let _ = (claim, records);
        Err(StoreError::NotShared("writing a leased window"))
    }

    /// In one transaction: check `claim` still holds the lease (else
    /// [`StoreError::LeaseLost`] and nothing is written), upsert the window's last
    /// records, mark it done or failed, and replace the source's state with
    /// `done.update(stored state, generation)`.
    async fn finish_window(&self, claim: &WindowClaim, done: WindowDone) -> Result<WriteStats, StoreError> {
        let _ = (claim, done);
        Err(StoreError::NotShared("finishing a leased window"))
    }

    /// Reserve `count` request slots `interval` apart from `source`'s fleet-wide quota.
    /// `Ok(None)`: no shared quota (pace locally).
    async fn reserve_slots(
        &self,
        source: &str,
        interval: Duration,
        count: u32,
    ) -> Result<Option<SlotGrant>, StoreError> {
        let _ = (source, interval, count);
        Ok(None)
    }

    /// The vendor said "too many requests": no slot of `source` starts within `wait`.
    async fn hold_quota(&self, source: &str, wait: Duration) -> Result<(), StoreError> {
        let _ = (source, wait);
        Ok(())
    }

    /// Every window lease of `source` kept in the audit trail, oldest first (empty
    /// when nothing is shared).
    async fn lease_audit(&self, source: &str) -> Result<Vec<ClaimRecord>, StoreError> {
        let _ = source;
        Ok(Vec::new())
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
