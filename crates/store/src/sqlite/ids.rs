//! The id index: which row (`seq`) holds a record id.
//!
//! Vendor ids are random, so a B-tree of them takes each new entry at a random place:
//! every record of a batch dirtied a different index page, and WAL writes whole pages
//! (one 16 KB page per new record in the main file; even with 1 KB pages the two
//! statements and the page writes were a third of the writer's time). So ids are
//! indexed in two tiers:
//!
//! * `PATH-ids` (its own file) maps `xxh3_64(id)` to `seq` for every row up to its
//!   watermark. It is written in sorted runs of [`FLUSH_EVERY`] entries, which touch
//!   neighbouring pages once each instead of one page per record. A run lands in the
//!   small table `call_ids_recent`, which is merged into the big `call_ids` once it
//!   holds an eighth of it (see [`merge_due`]): a run written straight into `call_ids`
//!   touched nearly all of its pages, so that every run cost as much as the whole index
//!   (store_bench: the two tables write ~345 bytes per record less at 1 M records, ~1,300
//!   at 3 M, i.e. ~11 and ~43 MB per run of 32,768; the cost grew with the index).
//!   A merge costs the whole big table once, inside the commit that triggers it.
//! * The writer keeps the rows after the watermark in memory ([`IdCache`]), with a
//!   Bloom filter of every indexed id, so a new id (most of a backfill) is known to be
//!   new without touching the disk.
//!
//! The file is derived data, never the only copy of anything: every hit is checked
//! against `calls.id` (hash collisions and stale entries are harmless); rows after
//! the watermark are read from `calls` itself (by the writer when it starts, or when
//! another process wrote meanwhile, and by readers directly). SQLite commits the two
//! files one after the other, so after a crash the index may be behind `calls` (it
//! catches up) or ahead of it (it is rebuilt). A deleted `PATH-ids` is rebuilt.

use crate::StoreError;
use rusqlite::{Connection, OptionalExtension, params};
use std::path::{Path, PathBuf};

/// Page size of the index file: the main file's. It was 1 KB (when each record
/// dirtied a random index page); but SQLite's page caches share one LRU list counted
/// in pages, whatever their size, and a sorted run walking tens of thousands of small
/// index pages pushed the main file's pages out of the writer's cache: past about a
/// million records every insert read its B-tree pages back from the file (4.5 cache
/// misses per record; the writer's time per record doubled). A file made with other
/// pages is converted when the writer opens it (see [`convert_page_size`]).
pub(crate) const PAGE_SIZE: u32 = 16 * 1024;

/// Rows indexed per sorted run while catching up (bounds the memory of a rebuild).
const CATCH_UP_RUN: usize = 1 << 20;

/// Rows the writer keeps in memory before writing them to the index file as one
/// sorted run. Readers scan at most about this many rows of `calls` for an id.
pub(crate) const FLUSH_EVERY: usize = 32_768;

/// Entries `call_ids_recent` may hold before it is merged into `call_ids`, at least.
const RECENT_MIN: usize = 4 * FLUSH_EVERY;
/// ... and at most `1 / RECENT_SHARE` of `call_ids`: a run costs the pages of the
/// recent table, a merge the pages of the big one, once per `RECENT_SHARE`-th of it.
const RECENT_SHARE: usize = 8;

/// Whether `call_ids_recent` (`recent` entries) is due to be merged into `call_ids`
/// (`indexed` entries).
fn merge_due(recent: usize, indexed: usize) -> bool {
    recent >= RECENT_MIN.max(indexed / RECENT_SHARE)
}

/// Move every entry of `call_ids_recent` into `call_ids` (in key order: neighbouring
/// pages in turn), inside the caller's transaction.
fn merge_recent(conn: &Connection) -> Result<(), StoreError> {
    conn.execute_batch(
        "INSERT OR IGNORE INTO ix.call_ids (h, seq) SELECT h, seq FROM ix.call_ids_recent ORDER BY h, seq;
         DELETE FROM ix.call_ids_recent;",
    )
    .map_err(db)
}

fn db(e: rusqlite::Error) -> StoreError {
    StoreError::Db(format!("id index: {e}"))
}

/// The index file of the database at `path`.
pub(crate) fn path_of(path: &Path) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push("-ids");
    PathBuf::from(p)
}

/// The key an id is indexed under (collisions are resolved against `calls.id`).
pub(crate) fn hash(id: &str) -> i64 {
    twox_hash::XxHash3_64::oneshot(id.as_bytes()) as i64
}

/// Attach the index file of `main` (`None`: an in-memory index, for in-memory
/// databases) to `conn` as [`SCHEMA`], in WAL mode with small pages.
pub(crate) fn attach(conn: &Connection, main: Option<&Path>) -> Result<(), rusqlite::Error> {
    let file = main.map(path_of).map(|p| p.to_string_lossy().into_owned()).unwrap_or_else(|| ":memory:".into());
    conn.execute("ATTACH DATABASE ?1 AS ix", [file])?;
    conn.execute_batch(&format!(
        "PRAGMA ix.page_size = {PAGE_SIZE};
         PRAGMA ix.synchronous = NORMAL;
         PRAGMA ix.journal_size_limit = 67108864;"
    ))?;
    if main.is_some() {
        let mode: String = conn.query_row("PRAGMA ix.journal_mode = WAL", [], |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CANTOPEN),
                Some(format!("the id index cannot use WAL mode (it is in {mode})")),
            ));
        }
    }
    Ok(())
}

/// Give an index file made with another page size (1 KB before) [`PAGE_SIZE`] pages,
/// by `VACUUM`, which needs the file to itself: when another connection has it open
/// (another process using the store) this gives up at once and leaves the file as it
/// is (it works with any page size); a later open tries again. Call it on the writer's
/// connection before anything else uses the file. An error only when the file cannot
/// be put back in WAL mode.
pub(crate) fn convert_page_size(conn: &Connection) -> Result<(), StoreError> {
    let size: u32 = conn.query_row("PRAGMA ix.page_size", [], |r| r.get(0)).map_err(db)?;
    if size == PAGE_SIZE {
        return Ok(());
    }
    let mode = |m: &str| conn.query_row(&format!("PRAGMA ix.journal_mode = {m}"), [], |r| r.get::<_, String>(0));
    // Leaving WAL mode needs every other connection gone; SQLITE_BUSY (or a mode
    // still WAL) means someone else has the file open.
    if !mode("DELETE").is_ok_and(|m| !m.eq_ignore_ascii_case("wal")) {
        tracing::info!(
            page_size = size,
            "the id index keeps its page size for now (another connection has it open); the next open tries again"
        );
        return Ok(());
    }
    let vacuumed = conn.execute_batch(&format!("PRAGMA ix.page_size = {PAGE_SIZE}; VACUUM ix;"));
    let back = mode("WAL").map_err(db)?;
    if !back.eq_ignore_ascii_case("wal") {
        return Err(StoreError::Db(format!("id index: cannot return to WAL mode (it is in {back})")));
    }
    match vacuumed {
        Ok(()) => tracing::info!(from = size, to = PAGE_SIZE, "converted the id index to larger pages"),
        Err(e) => tracing::warn!(page_size = size, error = %e, "the id index keeps its page size (VACUUM failed)"),
    }
    Ok(())
}

/// Create the index's tables if missing (writer only).
pub(crate) fn create(conn: &Connection) -> Result<(), StoreError> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS ix.call_ids (
             h    INTEGER NOT NULL,
             seq  INTEGER NOT NULL,
             PRIMARY KEY (h, seq)
         ) WITHOUT ROWID;
         CREATE TABLE IF NOT EXISTS ix.call_ids_recent (
             h    INTEGER NOT NULL,
             seq  INTEGER NOT NULL,
             PRIMARY KEY (h, seq)
         ) WITHOUT ROWID;
         CREATE TABLE IF NOT EXISTS ix.call_ids_meta (
             key    TEXT PRIMARY KEY,
             value  INTEGER NOT NULL
         );",
    )
    .map_err(db)
}

/// The highest `seq` up to which the index is complete.
fn watermark(conn: &Connection) -> Result<i64, StoreError> {
    conn.prepare_cached("SELECT value FROM ix.call_ids_meta WHERE key = 'watermark'")
        .map_err(db)?
        .query_row([], |r| r.get::<_, i64>(0))
        .optional()
        .map_err(db)
        .map(|w| w.unwrap_or(0))
}

/// Record that the index is complete up to `seq`.
pub(crate) fn set_watermark(conn: &Connection, seq: i64) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO ix.call_ids_meta (key, value) VALUES ('watermark', ?1)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )
    .map_err(db)?
    .execute([seq])
    .map_err(db)?;
    Ok(())
}

/// Bring the index level with `calls`, inside the caller's write transaction: index
/// the rows after the watermark, or start over when the index claims rows `calls`
/// does not have (its file committed, the main one did not). Returns the watermark,
/// which is then `max(seq)` of `calls`. Nearly free when nothing is missing.
pub(crate) fn catch_up(conn: &Connection) -> Result<i64, StoreError> {
    let mut from = watermark(conn)?;
    let last: i64 = conn
        .prepare_cached("SELECT coalesce(max(seq), 0) FROM calls")
        .map_err(db)?
        .query_row([], |r| r.get(0))
        .map_err(db)?;
    if from == last {
        return Ok(last);
    }
    if from > last {
        tracing::warn!(watermark = from, rows = last, "the id index is ahead of the calls table; rebuilding it");
        conn.execute_batch("DELETE FROM ix.call_ids; DELETE FROM ix.call_ids_recent;").map_err(db)?;
        from = 0;
    }
    let mut read = conn.prepare_cached("SELECT seq, id FROM calls WHERE seq > ?1 ORDER BY seq LIMIT ?2").map_err(db)?;
    let mut put = conn.prepare_cached("INSERT OR IGNORE INTO ix.call_ids (h, seq) VALUES (?1, ?2)").map_err(db)?;
    let mut run: Vec<(i64, i64)> = Vec::new();
    let mut indexed = 0usize;
    loop {
        run.clear();
        let mut rows = read.query(params![from, CATCH_UP_RUN as i64]).map_err(db)?;
        while let Some(row) = rows.next().map_err(db)? {
            let (h, seq) = keyed_row(row)?;
            run.push((h, seq));
            from = seq;
        }
        if run.is_empty() {
            break;
        }
        write_sorted(&mut put, &mut run)?;
        indexed += run.len();
    }
    if indexed > 0 {
        tracing::info!(rows = indexed, "indexed record ids");
    }
    set_watermark(conn, last)?;
    Ok(last)
}

/// `(hash(id), seq)` of a `SELECT seq, id` row.
fn keyed_row(row: &rusqlite::Row<'_>) -> Result<(i64, i64), StoreError> {
    let seq: i64 = row.get(0).map_err(db)?;
    let id = row
        .get_ref(1)
        .map_err(db)?
        .as_str()
        .map_err(|e| StoreError::Corrupt { id: format!("row {seq}"), message: format!("id is not text: {e}") })?;
    Ok((hash(id), seq))
}

/// Write `(hash, seq)` entries to the index file in key order: a sorted run fills
/// neighbouring pages instead of one random page per entry.
fn write_sorted(put: &mut rusqlite::CachedStatement<'_>, run: &mut [(i64, i64)]) -> Result<(), StoreError> {
    run.sort_unstable();
    for (h, seq) in run.iter() {
        put.execute(params![h, seq]).map_err(db)?;
    }
    Ok(())
}

/// A Bloom filter over id hashes: "certainly not stored" without touching the disk.
struct Bloom {
    bits: Vec<u64>,
    /// `bits.len() * 64 - 1` (the bit count is a power of two).
    mask: u64,
    count: usize,
}

impl Bloom {
    /// Bits per expected entry (with four probes: about 0.2 % false positives at
    /// 16, 2 % when the filter has filled to 8 and is rebuilt).
    const BITS_PER_ENTRY: usize = 16;
    const PROBES: u64 = 4;

    fn with_capacity(entries: usize) -> Self {
        let bits = (entries.max(1 << 16) * Self::BITS_PER_ENTRY).next_power_of_two();
        Bloom { bits: vec![0; bits / 64], mask: bits as u64 - 1, count: 0 }
    }

    /// Probe positions of `h` in a filter of `mask + 1` bits: double hashing from the
    /// two halves of the hash.
    fn probes(h: i64, mask: u64) -> impl Iterator<Item = u64> {
        let h = h as u64;
        let step = h.rotate_left(32) | 1;
        (0..Self::PROBES).map(move |i| h.wrapping_add(i.wrapping_mul(step)) & mask)
    }

    fn insert(&mut self, h: i64) {
        for pos in Self::probes(h, self.mask) {
            self.bits[(pos / 64) as usize] |= 1 << (pos % 64);
        }
        self.count += 1;
    }

    fn may_contain(&self, h: i64) -> bool {
        Self::probes(h, self.mask).all(|pos| self.bits[(pos / 64) as usize] & (1 << (pos % 64)) != 0)
    }

    /// Whether the filter is too full to stay selective.
    fn is_full(&self) -> bool {
        self.count * (Self::BITS_PER_ENTRY / 2) > self.bits.len() * 64
    }
}

/// What the writer knows of the id index (see the module docs). Built on the first
/// write; dropped (and built again at the next) after any failed write, so that it
/// never holds rows of a transaction that did not commit.
#[derive(Default)]
pub(crate) struct IdCache {
    state: Option<Cached>,
}

struct Cached {
    bloom: Bloom,
    /// Rows after the watermark: hash → seq, and the rare second row under one hash.
    tail: std::collections::HashMap<i64, i64>,
    tail_collisions: Vec<(i64, i64)>,
    /// The index file is complete up to this `seq`.
    watermark: i64,
    /// Entries in `call_ids` and in `call_ids_recent`, as counted when the cache was built
    /// plus this process's runs since (another writer's runs are not seen: the counts
    /// only time the merges).
    indexed: usize,
    recent: usize,
    /// `max(seq)` of `calls` after this process's last write.
    last_seq: i64,
}

impl Cached {
    fn add_tail(&mut self, h: i64, seq: i64) {
        self.bloom.insert(h);
        if let Some(other) = self.tail.insert(h, seq) {
            self.tail_collisions.push((h, other));
        }
    }

    fn tail_len(&self) -> usize {
        self.tail.len() + self.tail_collisions.len()
    }

    /// Read the rows of `calls` after `from` into the tail.
    fn load_tail(&mut self, conn: &Connection, from: i64) -> Result<(), StoreError> {
        let mut st = conn.prepare_cached("SELECT seq, id FROM calls WHERE seq > ?1 ORDER BY seq").map_err(db)?;
        let mut rows = st.query([from]).map_err(db)?;
        while let Some(row) = rows.next().map_err(db)? {
            let (h, seq) = keyed_row(row)?;
            self.add_tail(h, seq);
            self.last_seq = self.last_seq.max(seq);
        }
        Ok(())
    }

    /// Build from the index file and the rows after its watermark.
    fn build(conn: &Connection) -> Result<Self, StoreError> {
        let watermark = catch_up_if_far_behind(conn)?;
        let count = |table: &str| {
            conn.query_row(&format!("SELECT count(*) FROM ix.{table}"), [], |r| r.get::<_, i64>(0))
                .map(|n| usize::try_from(n).unwrap_or(0))
                .map_err(db)
        };
        let (indexed, recent) = (count("call_ids")?, count("call_ids_recent")?);
        let mut c = Cached {
            bloom: Bloom::with_capacity(2 * (indexed + recent) + FLUSH_EVERY),
            tail: std::collections::HashMap::new(),
            tail_collisions: Vec::new(),
            watermark,
            indexed,
            recent,
            last_seq: watermark,
        };
        let mut st =
            conn.prepare("SELECT h FROM ix.call_ids UNION ALL SELECT h FROM ix.call_ids_recent").map_err(db)?;
        let mut rows = st.query([]).map_err(db)?;
        while let Some(row) = rows.next().map_err(db)? {
            c.bloom.insert(row.get(0).map_err(db)?);
        }
        c.load_tail(conn, watermark)?;
        Ok(c)
    }
}

/// [`catch_up`] when the index file is ahead of `calls` or far behind it (more than
/// a few runs: the tail is meant to stay small); otherwise just the watermark.
fn catch_up_if_far_behind(conn: &Connection) -> Result<i64, StoreError> {
    let watermark = watermark(conn)?;
    let last = max_seq(conn)?;
    if watermark > last || last - watermark > 4 * FLUSH_EVERY as i64 { catch_up(conn) } else { Ok(watermark) }
}

fn max_seq(conn: &Connection) -> Result<i64, StoreError> {
    conn.prepare_cached("SELECT coalesce(max(seq), 0) FROM calls").map_err(db)?.query_row([], |r| r.get(0)).map_err(db)
}

impl IdCache {
    /// Start using the index inside the caller's write transaction on `conn`: bring
    /// the cache up to date with what other processes wrote since this one last did.
    pub fn begin<'c>(&mut self, conn: &'c Connection) -> Result<Ids<'c>, StoreError> {
        let cached = match self.state.take() {
            None => Cached::build(conn)?,
            Some(mut c) => {
                let (watermark, last) = (watermark(conn)?, max_seq(conn)?);
                if watermark > last || watermark < c.watermark || last < c.last_seq || c.bloom.is_full() {
                    // The index file is ahead of `calls`, or was replaced: start over.
                    Cached::build(conn)?
                } else {
                    if last > c.last_seq {
                        // Another process wrote rows meanwhile.
                        let from = c.last_seq;
                        c.load_tail(conn, from)?;
                    }
                    if watermark > c.watermark {
                        c.tail.retain(|_, seq| *seq > watermark);
                        c.tail_collisions.retain(|(_, seq)| *seq > watermark);
                        c.watermark = watermark;
                    }
                    c.last_seq = last;
                    c
                }
            }
        };
        Ok(Ids {
            cached,
            conn,
            find_indexed: conn
                .prepare_cached(
                    "SELECT c.seq, c.content_hash FROM ix.call_ids i CROSS JOIN calls c ON c.seq = i.seq
                     WHERE i.h = ?1 AND c.id = ?2
                     UNION ALL
                     SELECT c.seq, c.content_hash FROM ix.call_ids_recent i CROSS JOIN calls c ON c.seq = i.seq
                     WHERE i.h = ?1 AND c.id = ?2
                     LIMIT 1",
                )
                .map_err(db)?,
            find_row: conn.prepare_cached("SELECT content_hash FROM calls WHERE seq = ?1 AND id = ?2").map_err(db)?,
        })
    }

    /// The transaction of `ids` committed: keep what it learnt.
    pub fn committed(&mut self, ids: Committed) {
        self.state = Some(ids.0);
    }
}

/// The id index inside one write transaction ([`IdCache::begin`]).
pub(crate) struct Ids<'c> {
    cached: Cached,
    conn: &'c Connection,
    find_indexed: rusqlite::CachedStatement<'c>,
    find_row: rusqlite::CachedStatement<'c>,
}

/// The cache after a transaction, to hand back once it committed.
pub(crate) struct Committed(Cached);

impl Ids<'_> {
    /// The row holding `id` and its content hash, if stored.
    pub fn find(&mut self, h: i64, id: &str) -> Result<Option<(i64, Vec<u8>)>, StoreError> {
        if !self.cached.bloom.may_contain(h) {
            return Ok(None);
        }
        let c = &self.cached;
        let in_tail =
            c.tail.get(&h).copied().into_iter().chain(c.tail_collisions.iter().filter(|e| e.0 == h).map(|e| e.1));
        for seq in in_tail.collect::<Vec<_>>() {
            let found: Option<Vec<u8>> =
                self.find_row.query_row(params![seq, id], |r| r.get(0)).optional().map_err(db)?;
            if let Some(hash) = found {
                return Ok(Some((seq, hash)));
            }
        }
        self.find_indexed.query_row(params![h, id], |row| Ok((row.get(0)?, row.get(1)?))).optional().map_err(db)
    }

    /// A new row holds the id hashed to `h`.
    pub fn add(&mut self, h: i64, seq: i64) {
        self.cached.add_tail(h, seq);
        self.cached.last_seq = self.cached.last_seq.max(seq);
    }

    /// Before the commit: write the tail to the index file when it has grown to a run.
    pub fn finish(mut self) -> Result<Committed, StoreError> {
        let c = &mut self.cached;
        if c.tail_len() >= FLUSH_EVERY {
            let mut run: Vec<(i64, i64)> = c.tail.drain().chain(c.tail_collisions.drain(..)).collect();
            let mut put = self
                .conn
                .prepare_cached("INSERT OR IGNORE INTO ix.call_ids_recent (h, seq) VALUES (?1, ?2)")
                .map_err(db)?;
            write_sorted(&mut put, &mut run)?;
            c.recent += run.len();
            if merge_due(c.recent, c.indexed) {
                merge_recent(self.conn)?;
                c.indexed += c.recent;
                c.recent = 0;
            }
            set_watermark(self.conn, c.last_seq)?;
            c.watermark = c.last_seq;
        }
        Ok(Committed(self.cached))
    }
}

/// The `seq` of `id` as a reader sees it: through the index, or among the rows after
/// its watermark (committed to `calls` but not yet to the index file).
pub(crate) fn find_seq(conn: &Connection, id: &str) -> Result<Option<i64>, StoreError> {
    conn.prepare_cached(
        "SELECT c.seq FROM ix.call_ids i CROSS JOIN calls c ON c.seq = i.seq WHERE i.h = ?1 AND c.id = ?2
         UNION ALL
         SELECT c.seq FROM ix.call_ids_recent i CROSS JOIN calls c ON c.seq = i.seq WHERE i.h = ?1 AND c.id = ?2
         UNION ALL
         SELECT seq FROM calls
          WHERE seq > (SELECT coalesce(max(value), 0) FROM ix.call_ids_meta WHERE key = 'watermark') AND id = ?2
         LIMIT 1",
    )
    .map_err(db)?
    .query_row(params![hash(id), id], |r| r.get(0))
    .optional()
    .map_err(db)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db() -> Connection {
        let mut conn = Connection::open_in_memory().unwrap();
        super::super::migrate::migrate(&mut conn).unwrap();
        attach(&conn, None).unwrap();
        create(&conn).unwrap();
        conn
    }

    fn add(conn: &Connection, id: &str) -> i64 {
        conn.execute(
            "INSERT INTO calls (id, source, provider, started_at, direction, disposition, content_hash, synced_at)
             VALUES (?1, 's', 'tanma', 0, 'inbound', 'answered', x'00', 0)",
            [id],
        )
        .unwrap();
        conn.last_insert_rowid()
    }

    #[test]
    fn catch_up_indexes_rows_after_the_watermark_and_rebuilds_an_index_that_is_ahead() {
        let conn = db();
        let a = add(&conn, "s:a");
        let b = add(&conn, "s:b");
        assert_eq!(find_seq(&conn, "s:b").unwrap(), Some(b), "rows after the watermark are found directly");
        assert_eq!(catch_up(&conn).unwrap(), b);
        let n: i64 = conn.query_row("SELECT count(*) FROM ix.call_ids", [], |r| r.get(0)).unwrap();
        assert_eq!(n, 2);
        assert_eq!(find_seq(&conn, "s:a").unwrap(), Some(a));
        assert_eq!(find_seq(&conn, "s:zz").unwrap(), None);
        // The index file committed a batch the main file did not: entries and a
        // watermark beyond the last row.
        conn.execute("INSERT INTO ix.call_ids VALUES (?1, 99)", [hash("s:ghost")]).unwrap();
        set_watermark(&conn, 99).unwrap();
        assert_eq!(find_seq(&conn, "s:ghost").unwrap(), None, "a stale entry is never a hit");
        assert_eq!(catch_up(&conn).unwrap(), b);
        let n: i64 = conn.query_row("SELECT count(*) FROM ix.call_ids", [], |r| r.get(0)).unwrap();
        assert_eq!(n, 2, "rebuilt from the calls table");
    }

    #[test]
    fn the_bloom_filter_never_forgets_and_rarely_errs() {
        let mut bloom = Bloom::with_capacity(100_000);
        for n in 0..100_000 {
            bloom.insert(hash(&format!("s:{n}")));
        }
        assert!((0..100_000).all(|n| bloom.may_contain(hash(&format!("s:{n}")))), "no false negatives");
        let false_positives = (0..100_000).filter(|n| bloom.may_contain(hash(&format!("other:{n}")))).count();
        assert!(false_positives < 1_000, "{false_positives} false positives in 100,000");
        assert!(!bloom.is_full());
    }

    #[test]
    fn a_hash_collision_is_resolved_by_the_stored_id() {
        let conn = db();
        let a = add(&conn, "s:a");
        let b = add(&conn, "s:b");
        catch_up(&conn).unwrap();
        // Pretend "s:b" hashes like "s:a": both rows under one key.
        conn.execute("DELETE FROM ix.call_ids WHERE seq = ?1", [b]).unwrap();
        conn.execute("INSERT INTO ix.call_ids VALUES (?1, ?2)", params![hash("s:a"), b]).unwrap();
        let mut cache = IdCache::default();
        let mut ids = cache.begin(&conn).unwrap();
        assert_eq!(ids.find(hash("s:a"), "s:a").unwrap().map(|f| f.0), Some(a));
        assert_eq!(ids.find(hash("s:a"), "s:b").unwrap().map(|f| f.0), Some(b));
        assert_eq!(ids.find(hash("s:b"), "s:b").unwrap(), None);
        // The same in the in-memory tail.
        let c = add(&conn, "s:c");
        ids.add(hash("s:a"), c);
        assert_eq!(ids.find(hash("s:a"), "s:c").unwrap().map(|f| f.0), Some(c));
        assert_eq!(ids.find(hash("s:a"), "s:a").unwrap().map(|f| f.0), Some(a));
    }

    #[test]
    fn the_tail_is_written_as_one_run_and_rows_of_other_writers_are_found() {
        let conn = db();
        let mut cache = IdCache::default();
        let mut ids = cache.begin(&conn).unwrap();
        for n in 0..FLUSH_EVERY {
            let id = format!("s:{n}");
            let seq = add(&conn, &id);
            ids.add(hash(&id), seq);
        }
        let committed = ids.finish().unwrap();
        cache.committed(committed);
        let n: i64 = conn.query_row("SELECT count(*) FROM ix.call_ids_recent", [], |r| r.get(0)).unwrap();
        assert_eq!(n as usize, FLUSH_EVERY, "a run lands in the recent table");
        assert_eq!(find_seq(&conn, "s:7").unwrap(), Some(8), "readers find it there");
        assert_eq!(watermark(&conn).unwrap(), FLUSH_EVERY as i64);
        // Another process adds a row; this writer finds it at its next transaction.
        let other = add(&conn, "s:other");
        let mut ids = cache.begin(&conn).unwrap();
        assert_eq!(ids.find(hash("s:other"), "s:other").unwrap().map(|f| f.0), Some(other));
        assert_eq!(ids.find(hash("s:7"), "s:7").unwrap().map(|f| f.0), Some(8));
        assert_eq!(ids.find(hash("s:nope"), "s:nope").unwrap(), None);
    }

    #[test]
    fn the_recent_table_is_merged_into_the_big_one_once_it_holds_its_share() {
        assert!(!merge_due(RECENT_MIN - 1, 0));
        assert!(merge_due(RECENT_MIN, 0));
        assert!(!merge_due(RECENT_MIN, RECENT_MIN * RECENT_SHARE + RECENT_SHARE));
        assert!(merge_due(2 * RECENT_MIN, 2 * RECENT_MIN * RECENT_SHARE));

        let conn = db();
        let a = add(&conn, "s:a");
        let b = add(&conn, "s:b");
        let c = add(&conn, "s:c");
        conn.execute("INSERT INTO ix.call_ids VALUES (?1, ?2)", params![hash("s:a"), a]).unwrap();
        for (id, seq) in [("s:b", b), ("s:c", c), ("s:a", a)] {
            conn.execute("INSERT INTO ix.call_ids_recent VALUES (?1, ?2)", params![hash(id), seq]).unwrap();
        }
        set_watermark(&conn, c).unwrap();
        let mut cache = IdCache::default();
        let mut ids = cache.begin(&conn).unwrap();
        assert_eq!((ids.cached.indexed, ids.cached.recent), (1, 3));
        for (id, seq) in [("s:a", a), ("s:b", b), ("s:c", c)] {
            assert_eq!(ids.find(hash(id), id).unwrap().map(|f| f.0), Some(seq), "{id} before the merge");
        }
        drop(ids);
        merge_recent(&conn).unwrap();
        let count =
            |t: &str| conn.query_row(&format!("SELECT count(*) FROM ix.{t}"), [], |r| r.get::<_, i64>(0)).unwrap();
        assert_eq!((count("call_ids"), count("call_ids_recent")), (3, 0), "an entry in both is kept once");
        let mut cache = IdCache::default();
        let mut ids = cache.begin(&conn).unwrap();
        for (id, seq) in [("s:a", a), ("s:b", b), ("s:c", c)] {
            assert_eq!(ids.find(hash(id), id).unwrap().map(|f| f.0), Some(seq), "{id} after the merge");
            assert_eq!(find_seq(&conn, id).unwrap(), Some(seq));
        }
        assert_eq!(ids.find(hash("s:d"), "s:d").unwrap(), None);
        // A rebuild empties both tables before indexing `calls` again.
        conn.execute("INSERT INTO ix.call_ids_recent VALUES (?1, 99)", [hash("s:ghost")]).unwrap();
        set_watermark(&conn, 99).unwrap();
        assert_eq!(catch_up(&conn).unwrap(), c);
        assert_eq!((count("call_ids"), count("call_ids_recent")), (3, 0));
    }
}
