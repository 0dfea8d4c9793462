//! The SQLite store's compression dictionaries (the format is in `crate::packing`).
//!
//! A provider's records are written with Snappy until the store has seen
//! [`TRAIN_AFTER`] of them; then a background thread (`huadan-dict`, one at a time)
//! samples that provider's newest [`SAMPLES`] stored bodies, trains a dictionary of up
//! to [`DICT_SIZE`] bytes, commits it to `body_dicts`, and only then hands it to the
//! writer: no body is ever written with a dictionary that is not durably stored first.
//! Bodies already written stay as they are (both forms read back).
//!
//! Every dictionary of the database is registered when the store opens; one trained
//! by another process later is loaded when a read meets a body that needs it.

use crate::StoreError;
use crate::packing::{self, Codebook, Dict};
use huadan_model::{CallRecord, Provider};
use rusqlite::{Connection, OptionalExtension, params};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::Duration;

/// Records of a provider written without a dictionary before one is trained.
pub(crate) const TRAIN_AFTER: u64 = 2_000;
/// Stored bodies a dictionary is trained on (about 100 times the dictionary's size).
pub(crate) const SAMPLES: usize = 1_000;
/// Largest dictionary.
pub(crate) const DICT_SIZE: usize = 32 * 1024;
/// A failed training is tried again after this many times more records.
const BACKOFF: u64 = 4;

fn db(e: rusqlite::Error) -> StoreError {
    StoreError::Db(e.to_string())
}

/// The store's dictionaries and their training.
pub(crate) struct Dicts {
    path: PathBuf,
    book: RwLock<Arc<Codebook>>,
    training: Mutex<Training>,
}

#[derive(Default)]
struct Training {
    /// Records written without a dictionary since the store opened, per provider.
    without: HashMap<&'static str, u64>,
    /// How many such records make a provider's next training start.
    after: HashMap<&'static str, u64>,
    /// A training thread is running.
    busy: bool,
}

/// Register every dictionary in the database; the newest of each provider.
fn load_all(conn: &Connection) -> Result<Codebook, StoreError> {
    let mut st =
        conn.prepare_cached("SELECT id, provider, dict FROM body_dicts ORDER BY created_at, id").map_err(db)?;
    let mut rows = st.query([]).map_err(db)?;
    let mut book = Codebook::new();
    while let Some(row) = rows.next().map_err(db)? {
        let (id, provider, bytes): (i64, String, Vec<u8>) =
            (row.get(0).map_err(db)?, row.get(1).map_err(db)?, row.get(2).map_err(db)?);
        match packing::register(bytes) {
            Some(d) if d.id as i64 == id => {
                if let Some(p) = Provider::ALL.iter().find(|p| p.as_str() == provider) {
                    book.insert(p.as_str(), d);
                }
            }
            // Its bodies will not read back (and say so); new records do not use it.
            _ => tracing::warn!(dictionary = format!("{id:016x}"), "a stored compression dictionary is damaged"),
        }
    }
    Ok(book)
}

impl Dicts {
    /// The dictionaries of the database `conn` is open on (at `path`).
    pub fn open(conn: &Connection, path: &Path) -> Result<Arc<Self>, StoreError> {
        let book = load_all(conn)?;
        Ok(Arc::new(Dicts {
            path: path.to_path_buf(),
            book: RwLock::new(Arc::new(book)),
            training: Mutex::new(Training::default()),
        }))
    }

    /// What new records are compressed with.
    pub fn book(&self) -> Arc<Codebook> {
        self.book.read().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Load dictionaries another process added (a read met a body that needs one).
    pub fn reload(&self, conn: &Connection) -> Result<(), StoreError> {
        let loaded = load_all(conn)?;
        let mut book = self.book.write().unwrap_or_else(PoisonError::into_inner);
        let mut merged = (**book).clone();
        for (provider, d) in loaded {
            merged.entry(provider).or_insert(d);
        }
        *book = Arc::new(merged);
        Ok(())
    }

    /// Per provider, how many of `records` `book` has no dictionary for.
    pub fn missing(book: &Codebook, records: &[CallRecord]) -> Vec<(&'static str, u64)> {
        let mut out: Vec<(&'static str, u64)> = Vec::new();
        for r in records {
            let p = r.provider.as_str();
            if book.contains_key(p) {
                continue;
            }
            match out.iter_mut().find(|(q, _)| *q == p) {
                Some((_, n)) => *n += 1,
                None => out.push((p, 1)),
            }
        }
        out
    }

    /// Note records committed without a dictionary; start a training when a provider
    /// has had enough of them and none is running.
    pub fn written(self: &Arc<Self>, missing: &[(&'static str, u64)]) {
        if missing.is_empty() {
            return;
        }
        let provider = {
            let mut t = self.training.lock().unwrap_or_else(PoisonError::into_inner);
            for (p, n) in missing {
                *t.without.entry(p).or_default() += n;
            }
            if t.busy {
                return;
            }
            let book = self.book();
            // The provider with the most records waiting first (ties by name).
            let due = t
                .without
                .iter()
                .filter(|(p, n)| !book.contains_key(**p) && **n >= t.after.get(**p).copied().unwrap_or(TRAIN_AFTER))
                .max_by_key(|(p, n)| (**n, **p));
            let Some((p, _)) = due else { return };
            let p = *p;
            t.busy = true;
            p
        };
        let me = self.clone();
        let started = std::thread::Builder::new().name("huadan-dict".into()).spawn(move || me.train(provider));
        if let Err(e) = started {
            tracing::warn!(error = %e, "cannot start the dictionary thread; records stay compressed with Snappy");
            self.training.lock().unwrap_or_else(PoisonError::into_inner).busy = false;
        }
    }

    /// The training thread's work: sample, train, store, publish.
    fn train(&self, provider: &'static str) {
        let result = train_and_store(&self.path, provider);
        let mut t = self.training.lock().unwrap_or_else(PoisonError::into_inner);
        t.busy = false;
        match result {
            Ok(dict) => {
                let mut book = self.book.write().unwrap_or_else(PoisonError::into_inner);
                let mut next = (**book).clone();
                next.insert(provider, dict);
                *book = Arc::new(next);
                tracing::debug!(provider, ?dict, "trained a compression dictionary");
            }
            Err(e) => {
                let after = t.after.entry(provider).or_insert(TRAIN_AFTER);
                *after = after.saturating_mul(BACKOFF);
                tracing::info!(provider, error = %e, retry_after = *after, "no compression dictionary yet");
            }
        }
        t.without.insert(provider, 0);
    }
}

/// Train a dictionary for `provider` from its newest stored bodies and commit it.
fn train_and_store(path: &Path, provider: &'static str) -> Result<&'static Dict, String> {
    let conn = Connection::open(path).map_err(|e| e.to_string())?;
    conn.busy_timeout(Duration::from_secs(30)).map_err(|e| e.to_string())?;
    let (data, sizes) = sample(&conn, provider).map_err(|e| e.to_string())?;
    if sizes.len() < SAMPLES / 4 {
        return Err(format!("only {} records to learn from", sizes.len()));
    }
    let bytes = packing::train(&data, &sizes, DICT_SIZE)?;
    drop(data);
    let dict = packing::register(bytes).ok_or("zstd cannot load the dictionary it trained")?;
    conn.execute(
        "INSERT INTO body_dicts (id, provider, dict, samples, created_at) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (id) DO NOTHING",
        params![dict.id as i64, provider, dict.bytes, sizes.len() as i64, jiff::Timestamp::now().as_millisecond()],
    )
    .map_err(|e| e.to_string())?;
    Ok(dict)
}

/// The JSON of `provider`'s newest stored bodies, end to end, and each one's length.
fn sample(conn: &Connection, provider: &str) -> Result<(Vec<u8>, Vec<usize>), StoreError> {
    let mut st = conn
        .prepare(
            "SELECT c.id, b.record FROM calls c JOIN call_bodies b ON b.seq = c.seq
             WHERE c.provider = ?1 ORDER BY c.seq DESC LIMIT ?2",
        )
        .map_err(db)?;
    let mut rows = st.query(params![provider, SAMPLES as i64]).map_err(db)?;
    let (mut data, mut sizes) = (Vec::new(), Vec::new());
    while let Some(row) = rows.next().map_err(db)? {
        let id: String = row.get(0).map_err(db)?;
        let body: Vec<u8> = row.get(1).map_err(db)?;
        let start = data.len();
        // A body this process cannot read is left out of the sample.
        if packing::unpack_into(&id, &body, &mut data).is_ok() {
            sizes.push(data.len() - start);
        } else {
            data.truncate(start);
        }
    }
    Ok((data, sizes))
}

/// Register the dictionary a stored body needs, if it is in the database (a body
/// written by another process after this one loaded the dictionaries). For the writer,
/// which reads a stored body inside its transaction; reads go through the store's
/// retry on [`StoreError::UnknownDictionary`] instead.
pub(crate) fn ensure(conn: &Connection, body: &[u8]) -> Result<(), StoreError> {
    let Some(id) = packing::needs_dict(body) else { return Ok(()) };
    if packing::lookup(id).is_some() {
        return Ok(());
    }
    let bytes: Option<Vec<u8>> = conn
        .query_row("SELECT dict FROM body_dicts WHERE id = ?1", [id as i64], |r| r.get(0))
        .optional()
        .map_err(db)?;
    if let Some(bytes) = bytes {
        packing::register(bytes);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Batch, SqliteStore, Store};
    use huadan_model::CallRecord;

    /// What another process does: train a dictionary (salted, so each call gives a new
    /// one this process has never registered), store it, and rewrite `id`'s body with it.
    fn rewrite_with_a_new_dictionary(path: &Path, id: &str, salt: &str) -> u64 {
        let conn = Connection::open(path).unwrap();
        let stored: Vec<u8> = conn
            .query_row("SELECT b.record FROM calls c JOIN call_bodies b ON b.seq = c.seq WHERE c.id = ?1", [id], |r| {
                r.get(0)
            })
            .unwrap();
        let json = packing::unpack("x", &stored).unwrap().into_owned();
        let (mut data, mut sizes) = (Vec::new(), Vec::new());
        for i in 0..800 {
            let sample = format!("{salt}{}", String::from_utf8(json.clone()).unwrap()).replace("c1", &format!("c{i}"));
            sizes.push(sample.len());
            data.extend_from_slice(sample.as_bytes());
        }
        let bytes = packing::train(&data, &sizes, 4096).unwrap();
        let dict = packing::dict_id(&bytes);
        assert!(packing::lookup(dict).is_none());
        let mut c = zstd::bulk::Compressor::with_dictionary(1, &bytes).unwrap();
        c.set_parameter(zstd::zstd_safe::CParameter::DictIdFlag(false)).unwrap();
        let mut body = vec![b'E'];
        body.extend_from_slice(&dict.to_le_bytes());
        body.extend(c.compress(&json).unwrap());
        conn.execute(
            "UPDATE call_bodies SET record = ?1 WHERE seq = (SELECT seq FROM calls WHERE id = ?2)",
            params![body, id],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO body_dicts (id, provider, dict, samples, created_at) VALUES (?1, 'tanma', ?2, 800, 0)",
            params![dict as i64, bytes],
        )
        .unwrap();
        dict
    }

    #[tokio::test]
    async fn a_dictionary_another_process_trained_is_loaded_by_every_read_that_needs_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.db");
        let s = SqliteStore::open(&path).await.unwrap();
        let mut r = CallRecord::new("src", Provider::Tanma, "c1", "2024-10-01T00:00:00Z".parse().unwrap());
        r.remark = Some("另一个进程".into());
        s.commit(Batch { source: "src".into(), records: vec![r.clone()], state: None }).await.unwrap();
        r.synced_at = None;

        // A record read by id.
        let dict = rewrite_with_a_new_dictionary(&path, "src:c1", "a");
        let mut got = s.call("src:c1").await.unwrap().unwrap();
        got.synced_at = None;
        assert_eq!(got, r);
        assert!(packing::lookup(dict).is_some());
        // The store now also compresses new Tanma records with it.
        assert!(s.inner.dicts.book().contains_key("tanma"));

        // Rows handed out as stored (`huadan copy`), decompressed by the receiver.
        let dict = rewrite_with_a_new_dictionary(&path, "src:c1", "b");
        let page = s.stored_page(None, 10).await.unwrap();
        assert_eq!(page.len(), 1);
        assert!(packing::lookup(dict).is_some());
        let mut got = crate::content::decode("x", &page.rows[0].body, 0).unwrap();
        got.synced_at = None;
        assert_eq!(got, r);

        // Stored JSON streamed to an export, decompressed on another thread.
        let dict = rewrite_with_a_new_dictionary(&path, "src:c1", "c");
        let pages: Vec<_> = futures::StreamExt::collect(s.export_json(crate::CallFilter::default())).await;
        let json = pages.into_iter().next().unwrap().unwrap();
        assert_eq!(json.len(), 1);
        assert!(packing::lookup(dict).is_some());
        let mut got: CallRecord = serde_json::from_slice(json.get(0).unwrap()).unwrap();
        got.synced_at = None;
        assert_eq!(got, r);
    }

    /// A migrated database in a temp dir, with a connection to it.
    fn migrated() -> (tempfile::TempDir, std::path::PathBuf, Connection) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.db");
        let mut conn = Connection::open(&path).unwrap();
        crate::sqlite::migrate::migrate(&mut conn).unwrap();
        (dir, path, conn)
    }

    #[test]
    fn a_training_starts_at_the_threshold_one_at_a_time() {
        let (_dir, path, conn) = migrated();
        let dicts = Dicts::open(&conn, &path).unwrap();
        let busy = || dicts.training.lock().unwrap().busy;
        // The test holds the database (not in WAL mode here): the training thread waits
        // at its first read until the checks below are done, however fast it would be.
        conn.execute_batch("BEGIN EXCLUSIVE").unwrap();
        dicts.written(&[("tanma", TRAIN_AFTER - 1), ("wecom", TRAIN_AFTER - 1)]);
        assert!(!busy(), "not below the threshold");
        dicts.written(&[("tanma", 6), ("wecom", 1)]);
        assert!(busy(), "at the threshold");
        // One at a time, the most records first: WeCom waits for Tanma's to end.
        assert_eq!(dicts.training.lock().unwrap().without.get("wecom"), Some(&TRAIN_AFTER));
        conn.execute_batch("COMMIT").unwrap();
        // With no records to learn from, the training fails and backs off.
        let start = std::time::Instant::now();
        while busy() {
            assert!(start.elapsed() < Duration::from_secs(30), "the training never ended");
            std::thread::sleep(Duration::from_millis(10));
        }
        let t = dicts.training.lock().unwrap();
        assert_eq!(t.after.get("tanma"), Some(&(TRAIN_AFTER * BACKOFF)));
        assert_eq!(t.without.get("tanma"), Some(&0));
        assert!(dicts.book().is_empty());
    }

    #[test]
    fn training_without_enough_records_is_an_error_not_a_dictionary() {
        let (_dir, path, conn) = migrated();
        let err = train_and_store(&path, "tanma").unwrap_err();
        assert!(err.contains("only 0 records"), "{err}");
        let n: i64 = conn.query_row("SELECT count(*) FROM body_dicts", [], |r| r.get(0)).unwrap();
        assert_eq!(n, 0);
    }
}
