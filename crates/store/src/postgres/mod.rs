//! The PostgreSQL backend (`postgres://user:pass@host:5432/db`).
//!
//! A small connection pool (deadpool) over tokio-postgres; the same schema as SQLite
//! through versioned migrations (`migrations/postgres/`, embedded); the same record
//! layout, content hash, cursor and stats code (`content`, `cursor`, `aggregate`).
//! SQL specific to PostgreSQL lives in this module only.
//!
//! A batch is one transaction: if the connection is lost mid-batch the transaction
//! either committed or did not, and re-sending the batch is harmless (upserts by id,
//! unchanged rows skipped by hash). Reads retry once on a connection that turned out
//! to be closed.

pub(crate) mod dicts;
mod filter;
mod lease;
mod migrate;
mod quota;
mod read;
mod write;

use crate::cursor::Position;
use crate::fleet::{Claim, ClaimRecord, PlanFn, RunTicket, SlotGrant, WindowClaim, WindowDone};
use crate::prepared::{self, Prepared, Rows};
use crate::{
    Batch, CallFilter, CallPage, CallQuery, GroupBy, SourceStatus, StatsRow, Store, StoreError, SyncState, WriteStats,
    redact_url,
};
use async_trait::async_trait;
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use futures::stream::{self, BoxStream, StreamExt};
use huadan_model::CallRecord;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;
use tokio_postgres::NoTls;

/// How a batch prepared by this store is marked (see [`Prepared`]).
const KIND: &str = "postgres";
/// Connections a store keeps open at most.
const POOL_SIZE: usize = 4;
/// Writes of different sources' batches that may run at once (see
/// [`Store::write_lanes`]); the pool keeps connections for reads besides.
const WRITE_LANES: usize = 2;
/// How long to wait for a connection (to the server, or from the busy pool).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Rows per internal page of [`Store::export`].
const EXPORT_PAGE: usize = crate::EXPORT_PAGE;

/// Run a read (`$body` with `$c` bound to a pooled client); once more on a fresh
/// connection if the first one turned out to be closed (e.g. the server restarted).
macro_rules! read {
    ($store:expr, |$c:ident| $body:expr) => {{
        let mut attempt = 0;
        loop {
            attempt += 1;
            let pooled = $store.client().await?;
            let $c: &tokio_postgres::Client = &pooled;
            match $body.await {
                // A body compressed with a dictionary another worker trained since.
                Err(StoreError::UnknownDictionary { .. }) if attempt == 1 => {
                    dicts::reload(&$store.inner.dicts, $c).await?;
                }
                Err(e) if attempt == 1 && pooled.is_closed() => {
                    tracing::warn!(error = %e, "PostgreSQL connection lost; retrying the read once");
                }
                other => break other,
            }
        }
    }};
}

/// The PostgreSQL store. Cheap to clone (shared pool).
#[derive(Clone)]
pub struct PgStore {
    inner: Arc<Inner>,
}

struct Inner {
    pool: Pool,
    /// The URL with its password redacted, for messages.
    url: String,
    /// Whether transcript search has a trigram index.
    trigram: bool,
    /// The compression dictionaries bodies are written with.
    dicts: Arc<crate::dicts::Dicts>,
    /// Ids of dictionaries `commit_stored` has committed to `body_dicts` (not stored
    /// again with every page of a copy).
    copied_dicts: std::sync::Mutex<std::collections::HashSet<u64>>,
}

/// A driver error in plain words (the server's message, code and detail when it sent one).
pub(crate) fn db(e: tokio_postgres::Error) -> StoreError {
    StoreError::Db(describe(&e))
}

pub(crate) fn describe(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(d) => {
            let mut s = format!("{} (SQLSTATE {})", d.message(), d.code().code());
            if let Some(detail) = d.detail() {
                s.push_str(": ");
                s.push_str(detail);
            }
            s
        }
        None => match std::error::Error::source(e) {
            Some(src) => format!("{e}: {src}"),
            None => e.to_string(),
        },
    }
}

/// Whether a schema name is a plain identifier (letters, digits, `_`; ≤ 63 bytes).
fn plain_ident(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        && !s.as_bytes()[0].is_ascii_digit()
}

impl PgStore {
    /// Open (migrating as needed) the database at `url`
    /// (`postgres://user:pass@host:5432/db`, libpq-style parameters accepted).
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        Self::open_with(url, None).await
    }

    /// Like [`PgStore::open`], with every table in `schema` (created if missing). Lets
    /// several independent stores share one database (tests do this).
    pub async fn open_in_schema(url: &str, schema: &str) -> Result<Self, StoreError> {
        Self::open_with(url, Some(schema)).await
    }

    async fn open_with(url: &str, schema: Option<&str>) -> Result<Self, StoreError> {
        let redacted = redact_url(url);
        let open_err = |message: String| StoreError::Open { url: redacted.clone(), message };
        let mut config = tokio_postgres::Config::from_str(url).map_err(|e| open_err(format!("bad URL: {e}")))?;
        if config.get_application_name().is_none() {
            config.application_name("huadan");
        }
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        if let Some(schema) = schema {
            if !plain_ident(schema) {
                return Err(open_err(format!("`{schema}` is not a plain schema name")));
            }
            let (client, conn) = config.connect(NoTls).await.map_err(|e| open_err(describe(&e)))?;
            let task = tokio::spawn(conn);
            // Under the migration lock: concurrent `CREATE SCHEMA IF NOT EXISTS` can race.
            let created = client
                .batch_execute(&format!(
                    "BEGIN; SELECT pg_advisory_xact_lock({}); CREATE SCHEMA IF NOT EXISTS {schema}; COMMIT",
                    migrate::LOCK_KEY
                ))
                .await;
            drop(client);
            let _ = task.await;
            created.map_err(|e| open_err(describe(&e)))?;
            config.options(format!("-c search_path={schema},public"));
        }
        let manager = Manager::from_config(config, NoTls, ManagerConfig { recycling_method: RecyclingMethod::Fast });
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(CONNECT_TIMEOUT * 3))
            .create_timeout(Some(CONNECT_TIMEOUT))
            .build()
            .map_err(|e| open_err(e.to_string()))?;
        let mut client = pool.get().await.map_err(|e| open_err(pool_message(&e)))?;
        let trigram = migrate::migrate(&mut client).await?;
        let dicts = dicts::open(&**client, pool.clone()).await?;
        drop(client);
        Ok(PgStore { inner: Arc::new(Inner { pool, url: redacted, trigram, dicts, copied_dicts: Default::default() }) })
    }

    /// Whether transcript search is served by a `pg_trgm` index (else by a scan).
    pub fn has_trigram_index(&self) -> bool {
        self.inner.trigram
    }

    /// A value from the store's small key/value table (`store_meta`).
    pub async fn meta(&self, key: &str) -> Result<Option<String>, StoreError> {
        let key = key.to_string();
        read!(self, |c| read::meta(c, &key))
    }

    /// Set (or replace) a `store_meta` value.
    pub async fn set_meta(&self, key: &str, value: &str) -> Result<(), StoreError> {
        let client = self.client().await?;
        client
            .execute(
                "INSERT INTO store_meta (key, value, updated_at) VALUES ($1, $2, $3)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                &[&key, &value, &jiff::Timestamp::now().as_millisecond()],
            )
            .await
            .map_err(db)?;
        Ok(())
    }

    async fn export_page(&self, filter: &CallFilter, after: Option<&Position>) -> Result<CallPage, StoreError> {
        read!(self, |c| read::page(c, filter, after, EXPORT_PAGE))
    }

    /// Write records read as stored from another store ([`crate::SqliteStore::stored_page`]),
    /// as they are (same columns, hash and body: nothing is decoded or serialised again;
    /// the dictionaries the bodies were compressed with are stored along, in the same
    /// transaction), counted as [`Store::commit`] counts them. For `huadan copy`.
    pub async fn commit_stored(&self, page: crate::StoredPage) -> Result<WriteStats, StoreError> {
        let now = jiff::Timestamp::now().as_millisecond();
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db)?;
        let known = self.inner.copied_dicts.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
        let bodies = page.rows.iter().map(|r| (r.id.as_str(), r.provider, r.body.as_slice()));
        let stored = dicts::store_used(&*tx, bodies, &known).await?;
        let stats = write::commit(&tx, "", &page.rows, None, now).await?;
        commit_tx(tx).await?;
        self.inner.copied_dicts.lock().unwrap_or_else(std::sync::PoisonError::into_inner).extend(stored);
        Ok(stats)
    }

    async fn client(&self) -> Result<deadpool_postgres::Object, StoreError> {
        self.inner.pool.get().await.map_err(|e| StoreError::Db(format!("{}: {}", self.inner.url, pool_message(&e))))
    }
}

/// Commit a write transaction; a failure here may or may not have stored the batch.
async fn commit_tx(tx: deadpool_postgres::Transaction<'_>) -> Result<(), StoreError> {
    tx.commit()
        .await
        .map_err(|e| StoreError::Db(format!("the batch may not have been stored ({}); send it again", describe(&e))))
}

fn pool_message(e: &deadpool_postgres::PoolError) -> String {
    match e {
        deadpool_postgres::PoolError::Backend(e) => describe(e),
        deadpool_postgres::PoolError::Timeout(_) => "timed out waiting for a database connection".into(),
        other => other.to_string(),
    }
}

#[async_trait]
impl Store for PgStore {
    async fn commit(&self, batch: Batch) -> Result<WriteStats, StoreError> {
        let now = jiff::Timestamp::now().as_millisecond();
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db)?;
        let (book, missing) = self.inner.dicts.for_batch(&batch.records);
        // Records are serialised off the async threads, overlapping the server's work.
        let stats = write::commit_records(&tx, &batch.source, batch.records, batch.state.as_ref(), now, book).await?;
        commit_tx(tx).await?;
        self.inner.dicts.written(&missing);
        Ok(stats)
    }

    async fn prepare(&self, batch: Batch) -> Result<Prepared, StoreError> {
        let Batch { source, records, state } = batch;
        let (book, missing) = self.inner.dicts.for_batch(&records);
        let rows = tokio::task::spawn_blocking(move || write::encode_sorted(records, &book))
            .await
            .map_err(write::stopped)??;
        Ok(Prepared::encoded(KIND, source, state, rows, missing))
    }

    async fn write(&self, prepared: Prepared) -> Result<WriteStats, StoreError> {
        let Prepared { source, state, rows } = prepared;
        let (rows, missing) = match rows {
            Rows::Encoded { store: KIND, rows, missing } => (rows, missing),
            Rows::Encoded { store, .. } | Rows::Streamed { store, .. } => {
                return Err(prepared::wrong_store(store, "the PostgreSQL store"));
            }
            Rows::Plain(records) => return self.commit(Batch { source, records, state }).await,
        };
        let now = jiff::Timestamp::now().as_millisecond();
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db)?;
        let stats = write::commit(&tx, &source, &rows, state.as_ref(), now).await?;
        commit_tx(tx).await?;
        self.inner.dicts.written(&missing);
        Ok(stats)
    }

    /// Two: one server backend per batch, so two batches of different sources are
    /// merged on both cores at once while the next is encoded (`pg_bench` insert, 400,000
    /// records in batches of 5,000, session 9: 46,691–51,388 records/s with one write at
    /// a time, 53,983–67,991 with two, 62,621 with three).
    fn write_lanes(&self) -> usize {
        WRITE_LANES
    }

    async fn load_state(&self, source: &str) -> Result<Option<SyncState>, StoreError> {
        let source = source.to_string();
        read!(self, |c| read::load_state(c, &source))
    }

    async fn sources(&self) -> Result<Vec<SourceStatus>, StoreError> {
        read!(self, |c| read::sources(c))
    }

    async fn calls(&self, query: &CallQuery) -> Result<CallPage, StoreError> {
        read!(self, |c| read::calls(c, query))
    }

    async fn call(&self, id: &str) -> Result<Option<CallRecord>, StoreError> {
        read!(self, |c| read::call(c, id))
    }

    async fn count(&self, filter: &CallFilter) -> Result<u64, StoreError> {
        read!(self, |c| read::count(c, filter))
    }

    async fn stats(
        &self,
        filter: &CallFilter,
        by: GroupBy,
        tz: &jiff::tz::TimeZone,
    ) -> Result<Vec<StatsRow>, StoreError> {
        read!(self, |c| read::stats(c, filter, by, tz))
    }

    async fn rollup(&self, filter: &CallFilter) -> Result<Option<Vec<crate::RollupCell>>, StoreError> {
        read!(self, |c| read::rollup(c, filter)).map(Some)
    }

    fn export(&self, filter: CallFilter) -> BoxStream<'static, Result<CallRecord, StoreError>> {
        // Keyset pages of EXPORT_PAGE rows: memory stays flat however many rows match.
        struct S {
            store: PgStore,
            filter: Arc<CallFilter>,
            after: Option<Position>,
            done: bool,
        }
        let start = S { store: self.clone(), filter: Arc::new(filter), after: None, done: false };
        stream::unfold(start, |mut s| async move {
            if s.done {
                return None;
            }
            let (filter, after) = (s.filter.clone(), s.after.clone());
            let res = s.store.export_page(&filter, after.as_ref()).await;
            match res {
                Ok(page) => {
                    s.after = page
                        .items
                        .last()
                        .map(|r| Position { started_ms: r.started_at.as_millisecond(), id: r.id.clone() });
                    s.done = page.next_cursor.is_none();
                    Some((stream::iter(page.items.into_iter().map(Ok)).boxed(), s))
                }
                Err(e) => {
                    s.done = true;
                    Some((stream::iter([Err(e)]).boxed(), s))
                }
            }
        })
        .flatten()
        .boxed()
    }

    fn shares_work(&self) -> bool {
        true
    }

    async fn plan_run(
        &self,
        source: &str,
        owner: &str,
        min_gap: Duration,
        plan: PlanFn,
    ) -> Result<RunTicket, StoreError> {
        let mut client = self.client().await?;
        lease::plan_run(&mut client, source, owner, min_gap, plan).await
    }

    async fn claim_window(
        &self,
        source: &str,
        generation: i64,
        owner: &str,
        ttl: Duration,
    ) -> Result<Claim, StoreError> {
        let mut client = self.client().await?;
        lease::claim_window(&mut client, source, generation, owner, ttl).await
    }

    async fn renew_window(&self, claim: &WindowClaim, ttl: Duration) -> Result<bool, StoreError> {
        let mut client = self.client().await?;
        lease::renew_window(&mut client, claim, ttl).await
    }

    async fn release_window(&self, claim: &WindowClaim) -> Result<(), StoreError> {
        let mut client = self.client().await?;
        lease::release_window(&mut client, claim).await
    }

    async fn write_window_records(
        &self,
        claim: &WindowClaim,
        records: Vec<CallRecord>,
    ) -> Result<WriteStats, StoreError> {
        let (book, missing) = self.inner.dicts.for_batch(&records);
        let mut client = self.client().await?;
        let stats = lease::write_window_records(&mut client, claim, records, book).await?;
        self.inner.dicts.written(&missing);
        Ok(stats)
    }

    async fn finish_window(&self, claim: &WindowClaim, done: WindowDone) -> Result<WriteStats, StoreError> {
        let (book, missing) = self.inner.dicts.for_batch(&done.records);
        let mut client = self.client().await?;
        let stats = lease::finish_window(&mut client, claim, done, book).await?;
        self.inner.dicts.written(&missing);
        Ok(stats)
    }

    async fn reserve_slots(
        &self,
        source: &str,
        interval: Duration,
        count: u32,
    ) -> Result<Option<SlotGrant>, StoreError> {
        let client = self.client().await?;
        quota::reserve_slots(&client, source, interval, count).await.map(Some)
    }

    async fn hold_quota(&self, source: &str, wait: Duration) -> Result<(), StoreError> {
        let client = self.client().await?;
        quota::hold_quota(&client, source, wait).await
    }

    async fn lease_audit(&self, source: &str) -> Result<Vec<ClaimRecord>, StoreError> {
        read!(self, |c| lease::lease_audit(c, source))
    }
}
