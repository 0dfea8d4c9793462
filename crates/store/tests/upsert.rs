//! Writes: idempotent upserts, in-place updates, one transaction per batch; the shared
//! tests on SQLite and on PostgreSQL (`both_backends!`), the SQLite file's own checks
//! once (PostgreSQL's are in `pg_store.rs`).

#[macro_use]
mod common;

use common::*;
use huadan_model::{Disposition, Provider};
use huadan_store::{Batch, CallFilter, CallQuery, SqliteStore, Store, StoreError, SyncState};

async fn upserting_the_same_records_twice_creates_no_duplicates_and_keeps_synced_at() {
    let (_d, s) = store().await;
    let recs: Vec<_> = (0..200).map(|n| rec("src", Provider::Tanma, n, i64::from(n) * 60)).collect();
    let first = put(&s, "src", recs.clone()).await;
    assert_eq!((first.inserted, first.updated, first.unchanged), (200, 0, 0));
    let before = s.call("src:c000007").await.unwrap().unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let second = put(&s, "src", recs).await;
    assert_eq!((second.inserted, second.updated, second.unchanged), (0, 0, 200));
    assert_eq!(s.count(&CallFilter::default()).await.unwrap(), 200);
    let after = s.call("src:c000007").await.unwrap().unwrap();
    assert_eq!(before.synced_at, after.synced_at, "an unchanged record keeps its synced_at");
    assert_eq!(before, after);
}

async fn a_changed_record_is_updated_in_place_with_a_new_synced_at() {
    let (_d, s) = store().await;
    let original = with_text(rec("src", Provider::Tanma, 1, 0), &["您好，请问需要退款吗"]);
    put(&s, "src", vec![original.clone()]).await;
    let old = s.call("src:c000001").await.unwrap().unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;

    let mut changed = with_text(original.clone(), &["价格可以再优惠一点"]);
    changed.disposition = Disposition::Busy;
    changed.talk_seconds = Some(0);
    changed.remark = Some("回访".into());
    let w = put(&s, "src", vec![changed]).await;
    assert_eq!((w.inserted, w.updated, w.unchanged), (0, 1, 0));

    let new = s.call("src:c000001").await.unwrap().unwrap();
    assert_eq!(new.disposition, Disposition::Busy);
    assert_eq!(new.remark.as_deref(), Some("回访"));
    assert!(new.synced_at > old.synced_at, "{:?} !> {:?}", new.synced_at, old.synced_at);
    assert_eq!(s.count(&CallFilter::default()).await.unwrap(), 1);
    // Indexed columns follow the body.
    let busy = CallFilter { dispositions: vec![Disposition::Busy], ..CallFilter::default() };
    assert_eq!(s.count(&busy).await.unwrap(), 1);
    // The transcript index follows too: the old text is gone, the new one is found.
    let text = |t: &str| CallFilter { text: Some(t.into()), ..CallFilter::default() };
    assert_eq!(s.count(&text("请问需要退款")).await.unwrap(), 0);
    assert_eq!(s.count(&text("退款")).await.unwrap(), 0);
    assert_eq!(s.count(&text("可以再优惠")).await.unwrap(), 1);
}

async fn the_same_id_twice_in_one_batch_keeps_the_last() {
    let (_d, s) = store().await;
    let a = rec("src", Provider::Wecom, 5, 0);
    let mut b = a.clone();
    b.remark = Some("second".into());
    let w = put(&s, "src", vec![a, b]).await;
    assert_eq!((w.inserted, w.updated), (1, 1));
    assert_eq!(s.call("src:c000005").await.unwrap().unwrap().remark.as_deref(), Some("second"));
}

async fn a_large_batch_keeps_its_order_when_encoded_on_several_threads() {
    let (_d, s) = store().await;
    // 1,000 records; c000005 at positions 10 and 100 (different encoding chunks), then
    // c000007 at 999: the later occurrence wins each time, as in a small batch.
    let mut recs: Vec<_> = (0..1000).map(|n| rec("src", Provider::Tanma, n, i64::from(n) * 60)).collect();
    for (pos, id, remark) in [(10, 5, "first"), (100, 5, "second"), (999, 7, "last")] {
        recs[pos] = rec("src", Provider::Tanma, id, i64::from(id) * 60);
        recs[pos].remark = Some(remark.into());
    }
    let w = put(&s, "src", recs).await;
    assert_eq!(w.inserted + w.updated + w.unchanged, 1000);
    assert_eq!(s.count(&CallFilter::default()).await.unwrap(), 997);
    assert_eq!(s.call("src:c000005").await.unwrap().unwrap().remark.as_deref(), Some("second"));
    assert_eq!(s.call("src:c000007").await.unwrap().unwrap().remark.as_deref(), Some("last"));
}

fn state(source: &str, checkpoint_secs: i64) -> SyncState {
    SyncState { source: source.into(), checkpoint: Some(at(checkpoint_secs)), ..SyncState::default() }
}

async fn records_and_checkpoint_commit_together() {
    let (_d, s) = store().await;
    let mut st = state("src", 3600);
    st.last_error = Some("quota".into());
    st.last_success = Some(at(10));
    s.commit(Batch { source: "src".into(), records: vec![rec("src", Provider::Tanma, 1, 0)], state: Some(st.clone()) })
        .await
        .unwrap();
    assert_eq!(s.load_state("src").await.unwrap(), Some(st.clone()));
    assert_eq!(s.load_state("other").await.unwrap(), None);
    let sources = s.sources().await.unwrap();
    assert_eq!(sources.len(), 1);
    assert_eq!(sources[0].records, 1);
    assert_eq!(sources[0].state, st);
}

async fn a_failed_batch_leaves_neither_records_nor_checkpoint() {
    let (_d, s) = store().await;
    // A committed baseline.
    s.commit(Batch {
        source: "src".into(),
        records: vec![rec("src", Provider::Tanma, 1, 0)],
        state: Some(state("src", 60)),
    })
    .await
    .unwrap();

    // Mid-batch failure: the third record violates a constraint (empty id).
    let mut bad = rec("src", Provider::Tanma, 3, 120);
    bad.id = String::new();
    let mut changed_first = rec("src", Provider::Tanma, 1, 0);
    changed_first.remark = Some("must not stick".into());
    let batch = Batch {
        source: "src".into(),
        records: vec![changed_first, rec("src", Provider::Tanma, 2, 60), bad, rec("src", Provider::Tanma, 4, 180)],
        state: Some(state("src", 7200)),
    };
    let err = s.commit(batch).await.unwrap_err();
    assert!(matches!(err, StoreError::Db(_)), "{err}");
    assert!(err.to_string().contains("rolled back"), "{err}");

    // Failure at the very end, after every record was written: the state write fails.
    let batch = Batch {
        source: String::new(),
        records: vec![rec("src", Provider::Tanma, 5, 240)],
        state: Some(state("", 9999)),
    };
    assert!(s.commit(batch).await.is_err());

    assert_eq!(s.count(&CallFilter::default()).await.unwrap(), 1, "no record of the failed batches");
    assert_eq!(s.call("src:c000001").await.unwrap().unwrap().remark, None, "no update of the failed batch");
    assert_eq!(s.load_state("src").await.unwrap().unwrap().checkpoint, Some(at(60)), "checkpoint unchanged");
    assert_eq!(s.sources().await.unwrap().len(), 1);

    // The store is still usable afterwards.
    put(&s, "src", vec![rec("src", Provider::Tanma, 6, 300)]).await;
    assert_eq!(s.count(&CallFilter::default()).await.unwrap(), 2);
}

#[tokio::test]
async fn migrations_are_recorded_and_reopening_keeps_the_data() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.db");
    {
        let s = SqliteStore::open(&path).await.unwrap();
        s.commit(Batch { source: "src".into(), records: vec![rec("src", Provider::Wecom, 1, 0)], state: None })
            .await
            .unwrap();
    }
    let s = SqliteStore::open(&path).await.unwrap();
    assert_eq!(s.count(&CallFilter::default()).await.unwrap(), 1);
    let conn = rusqlite::Connection::open(&path).unwrap();
    let versions: Vec<u32> = conn
        .prepare("SELECT version FROM schema_migrations")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(versions, [1, 2, 3, 4, 5, 6]);
    // The transcript index merges sixteen segments at a time (migration 6).
    let automerge: i64 =
        conn.query_row("SELECT v FROM calls_fts_config WHERE k = 'automerge'", [], |r| r.get(0)).unwrap();
    assert_eq!(automerge, 16);
    let mode: String = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
    assert_eq!(mode, "wal");
    // A database from a newer huadan is refused with a clear message.
    conn.execute("INSERT INTO schema_migrations VALUES (99, 'future', 0)", []).unwrap();
    drop(s);
    let err = SqliteStore::open(&path).await.err().unwrap();
    assert!(err.to_string().contains("newer huadan"), "{err}");
}

#[tokio::test]
async fn open_by_url_and_url_errors() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("u.db").display());
    let s = huadan_store::open(&url).await.unwrap();
    assert_eq!(s.calls(&CallQuery::default()).await.unwrap().items.len(), 0);
    assert!(matches!(huadan_store::open("mysql://x").await, Err(StoreError::BadUrl(_))));
    assert!(matches!(huadan_store::open("sqlite://").await, Err(StoreError::BadUrl(_))));
    let missing_dir = format!("sqlite://{}", dir.path().join("no/such/dir/x.db").display());
    let err = huadan_store::open(&missing_dir).await.err().unwrap();
    assert!(err.to_string().contains("does not exist"), "{err}");
    let pg = huadan_store::open("postgres://u:hunter2@127.0.0.1:5432/db").await.err().unwrap();
    assert!(!pg.to_string().contains("hunter2"), "{pg}");
}

async fn a_prepared_batch_is_invisible_until_written_and_writes_what_commit_would() {
    let (_d, s) = store().await;
    // Large enough for the encoding threads; one id twice, transcripts on some.
    let mut recs: Vec<_> = (0..600)
        .map(|n| {
            let r = rec("src", Provider::Tanma, n, i64::from(n) * 60);
            if n % 3 == 0 { with_text(r, &["您好，请问需要退款吗"]) } else { r }
        })
        .collect();
    let mut again = recs[10].clone();
    again.remark = Some("later".into());
    recs.push(again);
    let state = SyncState { source: "src".into(), checkpoint: Some(at(36_000)), ..SyncState::default() };
    let prepared = s.prepare(Batch { source: "src".into(), records: recs.clone(), state: Some(state) }).await.unwrap();
    assert_eq!((prepared.len(), prepared.source()), (601, "src"));
    assert_eq!(s.count(&CallFilter::default()).await.unwrap(), 0, "preparing writes nothing");
    assert!(s.load_state("src").await.unwrap().is_none());

    let w = s.write(prepared).await.unwrap();
    assert_eq!((w.inserted, w.updated, w.unchanged), (600, 1, 0));
    assert_eq!(s.load_state("src").await.unwrap().unwrap().checkpoint, Some(at(36_000)));
    for n in [0usize, 10, 599] {
        let mut stored = s.call(&recs[n].id).await.unwrap().unwrap();
        stored.synced_at = None;
        let expected = if n == 10 { recs[600].clone() } else { recs[n].clone() };
        assert_eq!(stored, expected);
    }
    // The first 600 again: record 10 goes back to its first version (updated), the
    // other 599 are unchanged.
    let again = s.prepare(Batch { source: "src".into(), records: recs[..600].to_vec(), state: None }).await.unwrap();
    let w = s.write(again).await.unwrap();
    assert_eq!((w.inserted, w.updated, w.unchanged), (0, 1, 599));
}

async fn batches_prepared_ahead_are_written_in_the_order_of_the_writes() {
    let (_d, s) = store().await;
    let first = rec("src", Provider::Wecom, 1, 0);
    let mut second = first.clone();
    second.remark = Some("second".into());
    let a = s.prepare(Batch { source: "src".into(), records: vec![first], state: None }).await.unwrap();
    let b = s.prepare(Batch { source: "src".into(), records: vec![second.clone()], state: None }).await.unwrap();
    s.write(a).await.unwrap();
    let w = s.write(b).await.unwrap();
    assert_eq!((w.inserted, w.updated), (0, 1));
    assert_eq!(s.call(&second.id).await.unwrap().unwrap().remark.as_deref(), Some("second"));

    // Batches large enough to be encoded in the background (SQLite), both prepared
    // before either is written: the rows of each come out whole and in order.
    let v = |remark: &str| -> Vec<_> {
        (10..400)
            .map(|n| {
                let mut r = rec("src", Provider::Tanma, n, i64::from(n));
                r.remark = Some(remark.into());
                r
            })
            .collect()
    };
    let a = s.prepare(Batch { source: "src".into(), records: v("v1"), state: None }).await.unwrap();
    let b = s.prepare(Batch { source: "src".into(), records: v("v2"), state: None }).await.unwrap();
    assert_eq!((a.len(), b.len()), (390, 390));
    assert_eq!(s.write(a).await.unwrap().inserted, 390);
    let w = s.write(b).await.unwrap();
    assert_eq!((w.inserted, w.updated), (0, 390));
    for r in v("v2") {
        assert_eq!(s.call(&r.id).await.unwrap().unwrap().remark.as_deref(), Some("v2"));
    }
}

async fn a_prepared_batch_with_a_bad_record_leaves_nothing_behind() {
    let (_d, s) = store().await;
    let mut recs: Vec<_> = (0..300).map(|n| rec("src", Provider::AliyunCcc, n, i64::from(n))).collect();
    recs[150].id = String::new();
    let state = SyncState { source: "src".into(), checkpoint: Some(at(300)), ..SyncState::default() };
    let prepared = s.prepare(Batch { source: "src".into(), records: recs, state: Some(state) }).await.unwrap();
    assert!(s.write(prepared).await.is_err());
    assert_eq!(s.count(&CallFilter::default()).await.unwrap(), 0);
    assert!(s.load_state("src").await.unwrap().is_none());
}

async fn a_plain_prepared_batch_is_committed_as_it_is() {
    let (_d, s) = store().await;
    let batch = Batch { source: "src".into(), records: vec![rec("src", Provider::Wecom, 1, 0)], state: None };
    let w = s.write(huadan_store::Prepared::plain(batch)).await.unwrap();
    assert_eq!(w.inserted, 1);
}

/// A batch prepared by one kind of store (bodies compressed its way) is refused by the
/// other, and nothing is written.
#[tokio::test]
async fn a_batch_prepared_by_another_kind_of_store_is_refused() {
    let Some((_schema, pg)) = pg::pg_store().await else { return };
    let dir = tempfile::tempdir().unwrap();
    let sqlite = SqliteStore::open(dir.path().join("t.db")).await.unwrap();
    // One record (encoded at once) and 300 (SQLite: encoded in the background).
    for n in [1, 300] {
        let batch = || Batch {
            source: "src".into(),
            records: (0..n).map(|i| rec("src", Provider::Wecom, i, 0)).collect(),
            state: None,
        };
        let err = pg.write(sqlite.prepare(batch()).await.unwrap()).await.unwrap_err();
        assert!(err.to_string().contains("prepared by the sqlite store"), "{err}");
        let err = sqlite.write(pg.prepare(batch()).await.unwrap()).await.unwrap_err();
        assert!(err.to_string().contains("prepared by the postgres store"), "{err}");
        assert_eq!(pg.count(&CallFilter::default()).await.unwrap(), 0);
        assert_eq!(sqlite.count(&CallFilter::default()).await.unwrap(), 0);
        let err = huadan_store::Prepared::into_batch(sqlite.prepare(batch()).await.unwrap()).unwrap_err();
        assert!(err.to_string().contains("plain batches"), "{err}");
    }
}

both_backends!(
    a_prepared_batch_is_invisible_until_written_and_writes_what_commit_would,
    batches_prepared_ahead_are_written_in_the_order_of_the_writes,
    a_prepared_batch_with_a_bad_record_leaves_nothing_behind,
    a_plain_prepared_batch_is_committed_as_it_is,
    a_large_batch_keeps_its_order_when_encoded_on_several_threads,
    upserting_the_same_records_twice_creates_no_duplicates_and_keeps_synced_at,
    a_changed_record_is_updated_in_place_with_a_new_synced_at,
    the_same_id_twice_in_one_batch_keeps_the_last,
    records_and_checkpoint_commit_together,
    a_failed_batch_leaves_neither_records_nor_checkpoint,
);

#[tokio::test]
async fn a_large_batch_failing_while_it_is_still_being_encoded_leaves_nothing() {
    // Large batches are encoded on a second thread while being written: a bad record
    // near the end (written after many chunks) must still roll back all of them.
    let (_d, s) = store().await;
    put(&s, "src", vec![rec("src", Provider::Tanma, 1, 0)]).await;
    let mut records: Vec<_> = (2..2000).map(|n| rec("src", Provider::Tanma, n, i64::from(n))).collect();
    records[1900].id = String::new();
    let err = s.commit(Batch { source: "src".into(), records, state: Some(state("src", 7200)) }).await.unwrap_err();
    assert!(err.to_string().contains("rolled back"), "{err}");
    assert_eq!(s.count(&CallFilter::default()).await.unwrap(), 1);
    assert_eq!(s.load_state("src").await.unwrap(), None);
    // And a large batch that is fine is written whole, with its checkpoint.
    let records: Vec<_> = (2..2000).map(|n| rec("src", Provider::Tanma, n, i64::from(n))).collect();
    let w = s.commit(Batch { source: "src".into(), records, state: Some(state("src", 7200)) }).await.unwrap();
    assert_eq!((w.inserted, w.updated, w.unchanged), (1998, 0, 0));
    assert_eq!(s.count(&CallFilter::default()).await.unwrap(), 1999);
    assert_eq!(s.load_state("src").await.unwrap().unwrap().checkpoint, Some(at(7200)));
}

/// The query plan of `sql` on `conn`, one line per step.
fn plan(conn: &rusqlite::Connection, sql: &str) -> String {
    let mut st = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
    let rows = st.query_map([], |r| r.get::<_, String>(3)).unwrap();
    rows.map(Result::unwrap).collect::<Vec<_>>().join(" | ")
}

#[tokio::test]
async fn a_version_2_database_is_upgraded_and_reads_still_use_indexes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v2.db");
    {
        // A database as huadan wrote it with schema 2, with a row in it.
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(
            "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL);
             INSERT INTO schema_migrations VALUES (1, 'init', 0), (2, 'overview_index', 0);",
        )
        .unwrap();
        conn.execute_batch(include_str!("../migrations/sqlite/0001_init.sql")).unwrap();
        conn.execute_batch(include_str!("../migrations/sqlite/0002_overview_index.sql")).unwrap();
    }
    let s = sqlite_at(&path).await;
    put(&s, "src", (1..=300).map(|n| rec("src", Provider::Wecom, n, i64::from(n) * 60)).collect()).await;
    let conn = rusqlite::Connection::open(&path).unwrap();
    let indexes: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'calls' AND sql IS NOT NULL ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(indexes, ["calls_range_cover", "calls_source_started"]);

    // Newest-first pages and their cursor: an index walk, no sorting.
    let page = plan(&conn, "SELECT c.seq FROM calls c WHERE 1 ORDER BY c.started_at DESC, c.id DESC LIMIT 51");
    assert!(page.contains("calls_range_cover") && !page.contains("TEMP B-TREE"), "{page}");
    let next = plan(
        &conn,
        "SELECT c.seq FROM calls c WHERE (c.started_at, c.id) < (5, 'x') ORDER BY c.started_at DESC, c.id DESC LIMIT 51",
    );
    assert!(
        next.contains("SEARCH c USING COVERING INDEX calls_range_cover") && !next.contains("TEMP B-TREE"),
        "{next}"
    );
    let source = plan(
        &conn,
        "SELECT c.seq FROM calls c WHERE c.source IN ('src') AND c.started_at >= 0 AND c.started_at < 9
         ORDER BY c.started_at DESC, c.id DESC LIMIT 51",
    );
    assert!(source.contains("calls_source_started") && !source.contains("TEMP B-TREE"), "{source}");
    // Aggregates (by day, by agent) and the agent filter read the covering index only.
    for sql in [
        "SELECT c.started_at, c.disposition = 'answered', c.talk_seconds FROM calls c WHERE c.started_at >= 0",
        "SELECT c.agent_id, c.agent_name, c.started_at, c.talk_seconds FROM calls c WHERE 1",
        "SELECT c.seq FROM calls c WHERE (c.agent_id = 'a' OR c.agent_name = 'a') ORDER BY c.started_at DESC, c.id DESC LIMIT 51",
    ] {
        let p = plan(&conn, sql);
        assert!(p.contains("COVERING INDEX calls_range_cover") && !p.contains("TEMP B-TREE"), "{sql}: {p}");
    }
    // The data written before and after the upgrade reads back in order.
    let all = s.calls(&CallQuery { limit: 500, ..CallQuery::default() }).await.unwrap();
    assert_eq!(all.items.len(), 300);
    assert_eq!(all.items[0].id, "src:c000300");
}

/// Remove the id index file of the store at `path` (with its WAL side files).
fn remove_id_index(path: &std::path::Path) {
    for f in SqliteStore::files(path).into_iter().filter(|f| f.to_string_lossy().contains("-ids")) {
        let _ = std::fs::remove_file(f);
    }
}

#[tokio::test]
async fn a_version_3_database_with_records_is_upgraded_and_its_ids_stay_unique() {
    let dir = tempfile::tempdir().unwrap();
    let (old, path) = (dir.path().join("source.db"), dir.path().join("v3.db"));
    let recs: Vec<_> = (1..=300).map(|n| rec("src", Provider::Wecom, n, i64::from(n) * 60)).collect();
    {
        let s = sqlite_at(&old).await;
        put(&s, "src", recs.clone()).await;
    }
    {
        // A database as huadan wrote it with schema 3 (a UNIQUE `calls.id`, no id index
        // file), holding those records.
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(
            "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL);
             INSERT INTO schema_migrations VALUES (1, 'init', 0), (2, 'overview_index', 0), (3, 'fewer_indexes', 0);",
        )
        .unwrap();
        for sql in [
            include_str!("../migrations/sqlite/0001_init.sql"),
            include_str!("../migrations/sqlite/0002_overview_index.sql"),
            include_str!("../migrations/sqlite/0003_fewer_indexes.sql"),
        ] {
            conn.execute_batch(sql).unwrap();
        }
        conn.execute("ATTACH DATABASE ?1 AS old", [old.to_string_lossy()]).unwrap();
        conn.execute_batch(
            "INSERT INTO calls SELECT * FROM old.calls; INSERT INTO call_bodies SELECT * FROM old.call_bodies;",
        )
        .unwrap();
    }
    let s = sqlite_at(&path).await;
    assert_eq!(s.count(&CallFilter::default()).await.unwrap(), 300);
    let got = s.call("src:c000123").await.unwrap().unwrap();
    assert_eq!((got.id.as_str(), got.started_at), (recs[122].id.as_str(), recs[122].started_at));
    // Every old id is found again: re-writing them changes nothing, new ones are added.
    let mut again = recs.clone();
    again.extend((301..=310).map(|n| rec("src", Provider::Wecom, n, i64::from(n) * 60)));
    let w = put(&s, "src", again).await;
    assert_eq!((w.inserted, w.updated, w.unchanged), (10, 0, 300));
    assert_eq!(s.count(&CallFilter::default()).await.unwrap(), 310);
}

#[tokio::test]
async fn a_lost_id_index_is_rebuilt_and_no_record_is_doubled() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ids.db");
    let recs: Vec<_> = (1..=500).map(|n| rec("src", Provider::Tanma, n, i64::from(n) * 60)).collect();
    {
        let s = sqlite_at(&path).await;
        put(&s, "src", recs[..400].to_vec()).await;
    }
    assert!(SqliteStore::files(&path).iter().any(|f| f.ends_with("ids.db-ids") && f.exists()));
    remove_id_index(&path);
    let s = sqlite_at(&path).await;
    assert!(s.call("src:c000399").await.unwrap().is_some());
    let w = put(&s, "src", recs.clone()).await;
    assert_eq!((w.inserted, w.updated, w.unchanged), (100, 0, 400));
    assert_eq!(s.count(&CallFilter::default()).await.unwrap(), 500);
}

/// The SQLite store at `path`, as the shared helpers take it.
async fn sqlite_at(path: &std::path::Path) -> huadan_store::DynStore {
    std::sync::Arc::new(SqliteStore::open(path).await.unwrap())
}

/// The id index file of the store at `path`.
fn id_index_file(path: &std::path::Path) -> std::path::PathBuf {
    SqliteStore::files(path).into_iter().find(|f| f.to_string_lossy().ends_with("-ids")).unwrap()
}

/// The page size of the id index file of the store at `path`.
fn id_index_page_size(path: &std::path::Path) -> i64 {
    rusqlite::Connection::open(id_index_file(path)).unwrap().query_row("PRAGMA page_size", [], |r| r.get(0)).unwrap()
}

#[tokio::test]
async fn an_id_index_with_small_pages_is_converted_when_nobody_else_has_it_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pages.db");
    let recs: Vec<_> = (1..=300).map(|n| rec("src", Provider::Tanma, n, i64::from(n) * 60)).collect();
    {
        let s = sqlite_at(&path).await;
        put(&s, "src", recs[..200].to_vec()).await;
    }
    assert_eq!(id_index_page_size(&path), 16384, "new index files get the large pages");
    // An index file as earlier versions made it: 1 KB pages, in WAL mode.
    let ix = id_index_file(&path);
    {
        let c = rusqlite::Connection::open(&ix).unwrap();
        c.busy_timeout(std::time::Duration::from_secs(10)).unwrap();
        c.query_row("PRAGMA journal_mode = DELETE", [], |r| r.get::<_, String>(0)).unwrap();
        c.execute_batch("PRAGMA page_size = 1024; VACUUM;").unwrap();
        c.query_row("PRAGMA journal_mode = WAL", [], |r| r.get::<_, String>(0)).unwrap();
    }
    assert_eq!(id_index_page_size(&path), 1024);

    // Another connection has the file open: it is left as it is, and still works.
    {
        let other = rusqlite::Connection::open(&ix).unwrap();
        let _: i64 = other.query_row("SELECT count(*) FROM call_ids", [], |r| r.get(0)).unwrap();
        let s = sqlite_at(&path).await;
        let w = put(&s, "src", recs[..250].to_vec()).await;
        assert_eq!((w.inserted, w.updated, w.unchanged), (50, 0, 200));
        drop(s);
        assert_eq!(id_index_page_size(&path), 1024);
    }
    // Alone: converted, in WAL mode again, and every stored id is still found.
    let s = sqlite_at(&path).await;
    assert_eq!(id_index_page_size(&path), 16384);
    let mode: String =
        rusqlite::Connection::open(&ix).unwrap().query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
    assert_eq!(mode, "wal");
    let w = put(&s, "src", recs.clone()).await;
    assert_eq!((w.inserted, w.updated, w.unchanged), (50, 0, 250));
    assert_eq!(s.count(&CallFilter::default()).await.unwrap(), 300);
}
