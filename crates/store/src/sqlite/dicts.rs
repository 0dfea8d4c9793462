//! The SQLite store's compression dictionaries: what `crate::dicts` leaves to the
//! backend. Samples come from the store's newest bodies; a training runs on its own
//! thread (`huadan-dict`) with its own connection and commits the dictionary to
//! `body_dicts` before handing it over.
//!
//! Every dictionary of the database is registered when the store opens; one trained
//! by another process later is loaded when a read meets a body that needs it.

use crate::StoreError;
use crate::dicts::{Dicts, Done, SAMPLES, Trainer, book_from, train_from};
use crate::packing::{self, Codebook, Dict};
use rusqlite::{Connection, OptionalExtension, params};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

fn db(e: rusqlite::Error) -> StoreError {
    StoreError::Db(e.to_string())
}

/// Every dictionary in the database, registered; the newest of each provider.
fn load_all(conn: &Connection) -> Result<Codebook, StoreError> {
    let mut st =
        conn.prepare_cached("SELECT id, provider, dict FROM body_dicts ORDER BY created_at, id").map_err(db)?;
    let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).map_err(db)?;
    Ok(book_from(rows.collect::<Result<Vec<_>, _>>().map_err(db)?))
}

/// The dictionaries of the database `conn` is open on (at `path`).
pub(crate) fn open(conn: &Connection, path: &Path) -> Result<Arc<Dicts>, StoreError> {
    Ok(Dicts::new(load_all(conn)?, SqliteTrainer { path: path.to_path_buf() }))
}

/// Load dictionaries another process added (a read met a body that needs one).
pub(crate) fn reload(dicts: &Dicts, conn: &Connection) -> Result<(), StoreError> {
    dicts.merge(load_all(conn)?);
    Ok(())
}

/// Trains on a thread of its own, with a connection of its own to the database.
struct SqliteTrainer {
    path: PathBuf,
}

impl Trainer for SqliteTrainer {
    fn start(&self, provider: &'static str, done: Done) -> Result<(), String> {
        let path = self.path.clone();
        std::thread::Builder::new()
            .name("huadan-dict".into())
            .spawn(move || done(train_and_store(&path, provider)))
            .map(drop)
            .map_err(|e| e.to_string())
    }
}

/// Train a dictionary for `provider` from its newest stored bodies and commit it.
fn train_and_store(path: &Path, provider: &'static str) -> Result<&'static Dict, String> {
    let conn = Connection::open(path).map_err(|e| e.to_string())?;
    conn.busy_timeout(Duration::from_secs(30)).map_err(|e| e.to_string())?;
    let samples = sample(&conn, provider).map_err(|e| e.to_string())?;
    let (dict, learnt) = train_from(samples.iter().map(|(id, body)| (id.as_str(), body.as_slice())))?;
    drop(samples);
    conn.execute(
        "INSERT INTO body_dicts (id, provider, dict, samples, created_at) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (id) DO NOTHING",
        params![dict.id as i64, provider, dict.bytes, learnt as i64, jiff::Timestamp::now().as_millisecond()],
    )
    .map_err(|e| e.to_string())?;
    Ok(dict)
}

/// `provider`'s newest stored bodies, with their ids.
fn sample(conn: &Connection, provider: &str) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
    let mut st = conn
        .prepare(
            "SELECT c.id, b.record FROM calls c JOIN call_bodies b ON b.seq = c.seq
             WHERE c.provider = ?1 ORDER BY c.seq DESC LIMIT ?2",
        )
        .map_err(db)?;
    let rows = st.query_map(params![provider, SAMPLES as i64], |r| Ok((r.get(0)?, r.get(1)?))).map_err(db)?;
    rows.collect::<Result<Vec<_>, _>>().map_err(db)
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
    use crate::dicts::{BACKOFF, TRAIN_AFTER};
    use crate::{Batch, SqliteStore, Store};
    use huadan_model::CallRecord;
    use huadan_model::Provider;

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
        let dicts = open(&conn, &path).unwrap();
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
