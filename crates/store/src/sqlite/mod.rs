//! The embedded SQLite backend (`sqlite://PATH`).
//!
//! One writer connection (behind a mutex: SQLite allows one writer at a time anyway)
//! and a small pool of read connections; WAL lets reads proceed during writes. Every
//! call runs on tokio's blocking pool. SQL specific to SQLite lives in this module
//! only: `filter` (WHERE clauses), `read`, `write`, `migrate` and the migration files.

mod checkpoint;
mod dicts;
mod filter;
mod ids;
mod migrate;
mod pool;
mod read;
mod stored;
mod write;

pub use stored::StoredPage;

use crate::content;
use crate::prepared::{self, Prepared, Rows};
use crate::streaming;
use crate::{
    Batch, CallFilter, CallPage, CallQuery, GroupBy, SourceStatus, StatsRow, Store, StoreError, SyncState, WriteStats,
};
use async_trait::async_trait;
use futures::StreamExt;
use futures::stream::{self, BoxStream};
use huadan_model::CallRecord;
use pool::ReadPool;
use rusqlite::{Connection, OpenFlags, TransactionBehavior};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

/// How many read connections a store keeps.
const READERS: usize = 4;
/// How long a connection waits for a lock held by another process before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);
/// Batches from this size are encoded on a second thread while being written.
const PIPELINE_FROM: usize = 128;
/// Records per chunk handed from the encoding thread to the writer.
const PIPELINE_CHUNK: usize = 64;
/// Encoded chunks that may wait for the writer.
const PIPELINE_DEPTH: usize = 8;
/// Page cache of the writer's main file (KiB). The ids no longer live in this file (see
/// `ids`), so its hot pages are the right-hand edges of its B-trees: 16 MB is plenty.
const WRITER_CACHE_KIB: i64 = 16 * 1024;
/// Soft limit of SQLite's heap in the process (bytes). The writer's caches (20 MB) fit
/// well under it; readers' caches (16 MB each) share the rest, recycling pages rather
/// than growing past it (the OS page cache still holds the file).
const SOFT_HEAP_LIMIT: i64 = 48 << 20;
/// WAL size (bytes) at which the writer checkpoints by itself (see `checkpoint`).
const WAL_CHECKPOINT_BYTES: i64 = 256 << 20;
/// How a batch prepared by this store is marked (see [`Prepared`]).
const KIND: &str = "sqlite";
/// Rows per internal page of [`Store::export`].
pub const EXPORT_PAGE: usize = 1000;

/// The SQLite store. Cheap to clone (shared handles).
#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    writer: Mutex<Writer>,
    readers: ReadPool,
    checkpointer: checkpoint::Checkpointer,
    dicts: Arc<crate::dicts::Dicts>,
}

/// The writer connection and what it knows of the id index.
struct Writer {
    conn: Connection,
    ids: ids::IdCache,
}

fn open_err(path: &Path, e: impl std::fmt::Display) -> StoreError {
    StoreError::Open { url: format!("sqlite://{}", path.display()), message: e.to_string() }
}

fn configure(conn: &Connection, path: &Path, writer: bool) -> Result<(), rusqlite::Error> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    ids::attach(conn, Some(path))?;
    conn.set_prepared_statement_cache_capacity(64);
    // NORMAL is safe in WAL mode: a crash never corrupts or half-applies a transaction;
    // at worst the last transactions before a power cut are lost (both records and
    // checkpoint, together).
    // No mmap: mapped pages count towards the process's resident memory, and a full
    // export would touch the whole file; the OS page cache serves reads just as well.
    conn.execute_batch(
        "PRAGMA synchronous = NORMAL;
         PRAGMA temp_store = MEMORY;
         PRAGMA mmap_size = 0;",
    )?;
    if writer {
        // Checkpoints normally run on their own thread (see `checkpoint`); the
        // writer's automatic one (at about 256 MB of WAL whatever the page size) is a
        // backstop. See WRITER_CACHE_KIB for the page cache.
        let page_size: i64 = conn.query_row("PRAGMA page_size", [], |r| r.get(0))?;
        // The id index file needs little cache: it is read in sequence (the Bloom filter
        // at the first write, sorted runs) or for ids the filter says may be stored.
        conn.execute_batch(&format!(
            "PRAGMA main.cache_size = -{}; PRAGMA ix.cache_size = -4096;
             PRAGMA wal_autocheckpoint = {}; PRAGMA main.journal_size_limit = 134217728;",
            WRITER_CACHE_KIB,
            WAL_CHECKPOINT_BYTES / page_size.max(512)
        ))?;
    } else {
        // 16 MB of page cache per reader keeps a streamed export's memory flat.
        conn.execute_batch("PRAGMA main.cache_size = -16384; PRAGMA ix.cache_size = -2048; PRAGMA query_only = ON;")?;
    }
    Ok(())
}

impl SqliteStore {
    /// Open (creating and migrating as needed) the database at `path`.
    pub async fn open(path: impl Into<PathBuf>) -> Result<Self, StoreError> {
        let path = path.into();
        tokio::task::spawn_blocking(move || Self::open_blocking(path)).await.map_err(join_err)?
    }

    /// [`SqliteStore::open`] for callers that are not async.
    pub fn open_blocking(path: PathBuf) -> Result<Self, StoreError> {
        // SQLite's heap in this process, all connections together, stays under this
        // soft limit (caches give pages back rather than grow): a 1 M-record sync
        // otherwise grew it in steps past its configured caches (to ~140 MB with a
        // 64 MB cache; the cause is not found yet: it appeared with the attached id
        // index file, and was worst on Tanma's transcripts).
        // SAFETY: a plain setter of a process-wide limit, callable at any time.
        unsafe {
            rusqlite::ffi::sqlite3_soft_heap_limit64(SOFT_HEAP_LIMIT);
        }

        if path.as_os_str().is_empty() {
            return Err(StoreError::BadUrl("sqlite://".into()));
        }
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
            && !dir.is_dir()
        {
            return Err(open_err(&path, format!("the directory {} does not exist", dir.display())));
        }
        let mut writer = Connection::open(&path).map_err(|e| open_err(&path, e))?;
        // A new database gets 16 KB pages (the default is 4 KB): a stored body is one
        // to two KB, so four times fewer pages (and WAL frames, checksums, page-cache
        // entries) per batch. Ignored for an existing database: its page size is fixed.
        writer.execute_batch("PRAGMA page_size = 16384;").map_err(|e| open_err(&path, e))?;
        let mode: String =
            writer.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0)).map_err(|e| open_err(&path, e))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(open_err(&path, format!("the database cannot use WAL mode (journal mode is {mode})")));
        }
        configure(&writer, &path, true).map_err(|e| open_err(&path, e))?;
        // Converting the id index's pages must not wait for other processes' connections.
        writer.busy_timeout(Duration::ZERO).map_err(|e| open_err(&path, e))?;
        let converted = ids::convert_page_size(&writer);
        writer.busy_timeout(BUSY_TIMEOUT).map_err(|e| open_err(&path, e))?;
        converted?;
        migrate::migrate(&mut writer)?;
        ids::create(&writer)?;
        let dicts = dicts::open(&writer, &path)?;
        {
            let tx =
                writer.transaction_with_behavior(TransactionBehavior::Immediate).map_err(|e| open_err(&path, e))?;
            ids::catch_up(&tx)?;
            tx.commit().map_err(|e| open_err(&path, e))?;
        }
        let mut readers = Vec::with_capacity(READERS);
        for _ in 0..READERS {
            let flags =
                OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI;
            let conn = Connection::open_with_flags(&path, flags).map_err(|e| open_err(&path, e))?;
            configure(&conn, &path, false).map_err(|e| open_err(&path, e))?;
            readers.push(conn);
        }
        let checkpointer = checkpoint::Checkpointer::start(&path, |c| {
            c.busy_timeout(BUSY_TIMEOUT)?;
            ids::attach(c, Some(&path))
        })
        .map_err(|e| open_err(&path, e))?;
        Ok(SqliteStore {
            inner: Arc::new(Inner {
                path,
                writer: Mutex::new(Writer { conn: writer, ids: ids::IdCache::default() }),
                readers: ReadPool::new(readers),
                checkpointer,
                dicts,
            }),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Every file a store at `path` may consist of: the database, its id index
    /// (`PATH-ids`, rebuilt when missing) and their WAL and shared-memory files.
    pub fn files(path: &Path) -> Vec<PathBuf> {
        let index = ids::path_of(path);
        let with = |p: &Path, suffix: &str| {
            let mut s = p.as_os_str().to_owned();
            s.push(suffix);
            PathBuf::from(s)
        };
        ["", "-wal", "-shm"].iter().flat_map(|sfx| [with(path, sfx), with(&index, sfx)]).collect()
    }

    /// Refresh the query planner's statistics (`PRAGMA optimize`); worth running after
    /// a large import.
    pub async fn optimize(&self) -> Result<(), StoreError> {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            let w = inner.writer.lock().unwrap_or_else(PoisonError::into_inner);
            w.conn
                .execute_batch("PRAGMA analysis_limit = 1000; PRAGMA optimize = 0x10002;")
                .map_err(|e| StoreError::Db(e.to_string()))
        })
        .await
        .map_err(join_err)?
    }

    /// Up to `limit` records as they are stored (no decoding), newest first, after
    /// `cursor` (a cursor of this store's pages over every record). For `huadan copy`.
    pub async fn stored_page(&self, cursor: Option<String>, limit: usize) -> Result<StoredPage, StoreError> {
        self.read(move |c| stored::page(c, cursor.as_deref(), limit)).await
    }

    /// Run `f` on a read connection. A body compressed with a dictionary another
    /// process trained since this store opened makes it load the database's
    /// dictionaries and run `f` again.
    async fn read<T: Send + 'static>(
        &self,
        f: impl Fn(&Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            let conn = inner.readers.get();
            match f(&conn) {
                Err(StoreError::UnknownDictionary { .. }) => {
                    dicts::reload(&inner.dicts, &conn)?;
                    f(&conn)
                }
                done => done,
            }
        })
        .await
        .map_err(join_err)?
    }
}

impl Inner {
    /// Serialise, hash and compress a batch with the store's dictionaries (no database
    /// access): what [`Store::prepare`] hands out and a small `commit` writes at once.
    fn encode(&self, batch: Batch) -> Result<Prepared, StoreError> {
        let Batch { source, records, state } = batch;
        let (book, missing) = self.dicts.for_batch(&records);
        let rows = content::encode_all(records, &book)?;
        Ok(Prepared::encoded(KIND, source, state, rows, missing))
    }

    /// [`Inner::encode`] for [`Store::prepare`]: a batch of [`PIPELINE_FROM`] records or
    /// more is encoded in the background (see [`crate::streaming`]) and its write takes
    /// the rows as they are ready; a smaller one is encoded here.
    fn prepare(&self, batch: Batch) -> Result<Prepared, StoreError> {
        if batch.records.len() < PIPELINE_FROM {
            return self.encode(batch);
        }
        let Batch { source, records, state } = batch;
        let (book, missing) = self.dicts.for_batch(&records);
        let rows = streaming::encode_streamed(records, book);
        Ok(Prepared { source, state, rows: Rows::Streamed { store: KIND, rows, missing } })
    }

    /// Write a batch this store encoded; one another store encoded is refused.
    fn write_encoded(&self, prepared: Prepared) -> Result<WriteStats, StoreError> {
        let Prepared { source, state, rows } = prepared;
        match rows {
            Rows::Encoded { store: KIND, rows, missing } => {
                let n = rows.len();
                self.write_rows(&source, state.as_ref(), rows.into_iter().map(Ok), n, &missing)
            }
            Rows::Streamed { store: KIND, rows, missing } => {
                let n = rows.len();
                self.write_rows(&source, state.as_ref(), rows, n, &missing)
            }
            Rows::Encoded { store, .. } | Rows::Streamed { store, .. } => {
                Err(prepared::wrong_store(store, "the SQLite store"))
            }
            // `Store::write` commits plain batches before they get here.
            Rows::Plain(_) => Err(StoreError::Db("a plain batch reached the encoded write".into())),
        }
    }

    /// Write rows (possibly still being encoded: an `Err` among them rolls the batch
    /// back) and the state in one transaction (see [`write::commit`]); then free the
    /// rows off this thread and count the records towards the providers' dictionaries.
    fn write_rows(
        &self,
        source: &str,
        state: Option<&SyncState>,
        rows: impl IntoIterator<Item = Result<content::Encoded, StoreError>>,
        expected: usize,
        missing: &[(&'static str, u64)],
    ) -> Result<WriteStats, StoreError> {
        let now = jiff::Timestamp::now().as_millisecond();
        let mut guard = self.writer.lock().unwrap_or_else(PoisonError::into_inner);
        let w = &mut *guard;
        let mut spent = Vec::with_capacity(expected);
        let stats = write::commit(&mut w.conn, &mut w.ids, source, rows, state, now, &mut spent)?;
        self.checkpointer.written(usize::try_from(stats.inserted + stats.updated).unwrap_or(usize::MAX));
        drop(guard);
        content::free_later(spent);
        self.dicts.written(missing);
        Ok(stats)
    }
}

/// `records` cut into chunks of `chunk`, dealt alternately to two lists (chunks 0, 2, 4…
/// and 1, 3, 5…), each keeping its chunks in order.
fn alternate_chunks(records: Vec<CallRecord>, chunk: usize) -> (Vec<CallRecord>, Vec<CallRecord>) {
    let chunk = chunk.max(1);
    let (mut even, mut odd) = (Vec::with_capacity(records.len() / 2 + chunk), Vec::with_capacity(records.len() / 2));
    for (i, r) in records.into_iter().enumerate() {
        if (i / chunk).is_multiple_of(2) { even.push(r) } else { odd.push(r) }
    }
    (even, odd)
}

fn join_err(e: tokio::task::JoinError) -> StoreError {
    StoreError::Db(format!("a database task stopped unexpectedly: {e}"))
}

#[async_trait]
impl Store for SqliteStore {
    async fn commit(&self, batch: Batch) -> Result<WriteStats, StoreError> {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            if batch.records.len() < PIPELINE_FROM {
                return inner.write_encoded(inner.encode(batch)?);
            }
            let Batch { source, records, state } = batch;
            let (book, missing) = inner.dicts.for_batch(&records);
            // A pipeline: two threads serialise, hash and compress alternate chunks of
            // records while this one writes the chunks already done, in order, in the
            // same transaction (encoding costs about what writing does). Not
            // `streaming::encode_streamed` (what `prepare` uses): its channel is
            // unbounded so that a prepared batch encodes while the batch before it is
            // written; here, with nothing to overlap but this batch, the encoders held
            // to PIPELINE_DEPTH chunks ahead kept more of the two cores busy
            // (store_bench `sequential`, 300 k, batches of 1,500, session 11 review:
            // 1.58–1.66 vs 1.51–1.56 with the streaming encoder).
            let expected = records.len();
            let (even, odd) = alternate_chunks(records, PIPELINE_CHUNK);
            let (tx_even, rx_even) = std::sync::mpsc::sync_channel(PIPELINE_DEPTH);
            let (tx_odd, rx_odd) = std::sync::mpsc::sync_channel(PIPELINE_DEPTH);
            std::thread::scope(|s| {
                for (records, tx) in [(even, tx_even), (odd, tx_odd)] {
                    let book = &book;
                    content::background_thread()
                        .spawn_scoped(s, move || {
                            content::lower_priority();
                            content::encode_chunks(records, PIPELINE_CHUNK, book, |chunk| tx.send(chunk).is_ok())
                        })
                        .map_err(|e| StoreError::Db(format!("cannot start an encoding thread: {e}")))?;
                }
                // Chunk 0 from the first thread, chunk 1 from the second, and so on; a
                // thread that stopped ends the sequence (the count check below notices).
                // The receivers move into the iterator, so that dropping it (on an error)
                // stops both threads at their next chunk.
                let mut turn = 0usize;
                let rx = std::iter::from_fn(move || {
                    let chunk = if turn.is_multiple_of(2) { rx_even.recv() } else { rx_odd.recv() };
                    turn += 1;
                    chunk.ok()
                });
                let received = std::cell::Cell::new(0usize);
                let encoded = rx
                    .flat_map(|chunk: Result<Vec<content::Encoded>, StoreError>| {
                        let (ok, err) = match chunk {
                            Ok(v) => (v, None),
                            Err(e) => (Vec::new(), Some(Err(e))),
                        };
                        received.set(received.get() + ok.len());
                        ok.into_iter().map(Ok).chain(err)
                    })
                    // The channel also ends if the encoder died: never commit part of
                    // a batch (with its checkpoint) as if it were all of it.
                    .chain(std::iter::from_fn(|| {
                        (received.get() != expected).then(|| {
                            received.set(expected);
                            Err(StoreError::Db("the batch could not be encoded (encoder thread stopped)".into()))
                        })
                    }));
                inner.write_rows(&source, state.as_ref(), encoded, expected, &missing)
            })
        })
        .await
        .map_err(join_err)?
    }

    async fn prepare(&self, batch: Batch) -> Result<Prepared, StoreError> {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || inner.prepare(batch)).await.map_err(join_err)?
    }

    async fn write(&self, prepared: Prepared) -> Result<WriteStats, StoreError> {
        if matches!(prepared.rows, Rows::Plain(_)) {
            return self.commit(prepared.into_batch()?).await;
        }
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || inner.write_encoded(prepared)).await.map_err(join_err)?
    }

    async fn load_state(&self, source: &str) -> Result<Option<SyncState>, StoreError> {
        let source = source.to_string();
        self.read(move |c| read::load_state(c, &source)).await
    }

    async fn sources(&self) -> Result<Vec<SourceStatus>, StoreError> {
        self.read(read::sources).await
    }

    async fn calls(&self, query: &CallQuery) -> Result<CallPage, StoreError> {
        let query = query.clone();
        self.read(move |c| read::calls(c, &query)).await
    }

    async fn call(&self, id: &str) -> Result<Option<CallRecord>, StoreError> {
        let id = id.to_string();
        self.read(move |c| read::call(c, &id)).await
    }

    async fn count(&self, filter: &CallFilter) -> Result<u64, StoreError> {
        let filter = filter.clone();
        self.read(move |c| read::count(c, &filter)).await
    }

    async fn stats(
        &self,
        filter: &CallFilter,
        by: GroupBy,
        tz: &jiff::tz::TimeZone,
    ) -> Result<Vec<StatsRow>, StoreError> {
        let (filter, tz) = (filter.clone(), tz.clone());
        self.read(move |c| read::stats(c, &filter, by, &tz)).await
    }

    async fn rollup(&self, filter: &CallFilter) -> Result<Option<Vec<crate::RollupCell>>, StoreError> {
        let filter = filter.clone();
        self.read(move |c| read::rollup(c, &filter)).await.map(Some)
    }

    async fn calls_json(&self, query: &CallQuery) -> Result<crate::JsonPage, StoreError> {
        let query = query.clone();
        self.read(move |c| read::calls_json(c, &query)).await
    }

    fn export_json(&self, filter: CallFilter) -> BoxStream<'static, Result<crate::JsonRecords, StoreError>> {
        read::export_json(self.clone(), filter)
    }

    fn export(&self, filter: CallFilter) -> BoxStream<'static, Result<CallRecord, StoreError>> {
        // Keyset pages of EXPORT_PAGE rows: memory stays flat however many rows match.
        struct S {
            store: SqliteStore,
            filter: Arc<CallFilter>,
            after: Option<crate::cursor::Position>,
            done: bool,
        }
        let start = S { store: self.clone(), filter: Arc::new(filter), after: None, done: false };
        stream::unfold(start, |mut s| async move {
            if s.done {
                return None;
            }
            let (filter, after) = (s.filter.clone(), s.after.clone());
            let res = s
                .store
                .read(move |c| {
                    let page = read::page(c, &filter, after.as_ref(), EXPORT_PAGE)?;
                    let last = page.items.last().map(|r| crate::cursor::Position {
                        started_ms: r.started_at.as_millisecond(),
                        id: r.id.clone(),
                    });
                    Ok((page, last))
                })
                .await;
            match res {
                Ok((page, last)) => {
                    s.done = page.next_cursor.is_none();
                    s.after = last;
                    Some((Ok(page.items), s))
                }
                Err(e) => {
                    s.done = true;
                    Some((Err(e), s))
                }
            }
        })
        .flat_map(|page: Result<Vec<CallRecord>, StoreError>| match page {
            Ok(items) => stream::iter(items.into_iter().map(Ok)).left_stream(),
            Err(e) => stream::once(async move { Err(e) }).right_stream(),
        })
        .boxed()
    }
}
