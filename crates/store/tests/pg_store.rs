//! PostgreSQL-only behaviour: connection errors, migrations, a connection lost
//! mid-batch, concurrent writers, large batches. (The shared store suite runs against
//! both backends from `upsert.rs` / `query.rs`.)

mod common;

use common::pg as pg_common;

use common::*;
use huadan_model::Provider;
use huadan_store::{Batch, CallFilter, PgStore, Store, StoreError, SyncState};
use pg_common::{Schema, url};
use std::time::Duration;

#[tokio::test]
async fn pg_connection_errors_are_clear_and_redact_the_password() {
    // Nothing listens on port 1: no server needed for this one.
    let err = PgStore::open("postgres://huadan:hunter2@127.0.0.1:1/db").await.err().unwrap();
    let msg = err.to_string();
    assert!(matches!(err, StoreError::Open { .. }), "{msg}");
    assert!(!msg.contains("hunter2"), "{msg}");
    assert!(msg.contains("postgres://huadan:****@127.0.0.1:1/db"), "{msg}");
    assert!(msg.to_lowercase().contains("connect"), "{msg}");
    let err = PgStore::open("postgres://u:pw@[bad").await.err().unwrap();
    assert!(!err.to_string().contains(":pw@"), "{err}");
}

#[tokio::test]
async fn pg_migrations_are_recorded_and_a_newer_schema_is_refused() {
    let Some(url) = url() else { return };
    let schema = Schema::new(&url);
    {
        let s = PgStore::open_in_schema(&schema.store_url(), &schema.name).await.unwrap();
        s.commit(Batch { source: "src".into(), records: vec![rec("src", Provider::Wecom, 1, 0)], state: None })
            .await
            .unwrap();
        assert!(s.has_trigram_index(), "pg_trgm is available on the test server");
    }
    // Reopening keeps the data and applies nothing twice.
    let s = PgStore::open_in_schema(&schema.store_url(), &schema.name).await.unwrap();
    assert_eq!(s.count(&CallFilter::default()).await.unwrap(), 1);
    let c = schema.client().await;
    assert_eq!(migration_versions(&c).await, [1, 2, 3, 4, 5, 6]);
    c.execute("INSERT INTO schema_migrations VALUES (99, 'future', 0)", &[]).await.unwrap();
    let err = PgStore::open_in_schema(&schema.store_url(), &schema.name).await.err().unwrap();
    assert!(err.to_string().contains("newer huadan"), "{err}");
}

#[tokio::test]
async fn pg_opening_one_database_from_many_processes_at_once_migrates_once() {
    let Some(url) = url() else { return };
    let schema = Schema::new(&url);
    let opens: Vec<_> = (0..4)
        .map(|_| {
            let (url, name) = (schema.store_url(), schema.name.clone());
            tokio::spawn(async move { PgStore::open_in_schema(&url, &name).await.map(|_| ()) })
        })
        .collect();
    for o in opens {
        o.await.unwrap().unwrap();
    }
    let n: i64 = schema.client().await.query_one("SELECT count(*) FROM schema_migrations", &[]).await.unwrap().get(0);
    assert_eq!(n, 6, "each migration recorded once");
}

#[tokio::test]
async fn pg_a_connection_lost_mid_batch_stores_nothing_and_the_retry_stores_everything() {
    let Some(url) = url() else { return };
    let schema = Schema::new(&url);
    let app = schema.name.clone();
    let store = PgStore::open_in_schema(&schema.store_url(), &schema.name).await.unwrap();
    let state = |secs| SyncState { source: "src".into(), checkpoint: Some(at(secs)), ..SyncState::default() };
    store
        .commit(Batch {
            source: "src".into(),
            records: vec![rec("src", Provider::Tanma, 0, 0)],
            state: Some(state(60)),
        })
        .await
        .unwrap();

    // Hold a lock so the next batch stalls inside its transaction, then cut its
    // connection from the server side.
    let mut locker = schema.client().await;
    let tx = locker.transaction().await.unwrap();
    tx.batch_execute("LOCK TABLE calls IN EXCLUSIVE MODE").await.unwrap();
    let batch = Batch {
        source: "src".into(),
        records: (1..500).map(|n| rec("src", Provider::Tanma, n, i64::from(n) * 60)).collect(),
        state: Some(state(30_000)),
    };
    let pending = {
        let (store, batch) = (store.clone(), batch.clone());
        tokio::spawn(async move { store.commit(batch).await })
    };
    let killer = schema.client().await;
    let mut killed = 0i64;
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        killed = killer
            .query_one(
                "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                  WHERE application_name = $1 AND wait_event_type = 'Lock') t",
                &[&app],
            )
            .await
            .unwrap()
            .get(0);
        if killed > 0 {
            break;
        }
    }
    assert_eq!(killed, 1, "the batch's connection was waiting on the lock");
    let err = tokio::time::timeout(Duration::from_secs(20), pending).await.unwrap().unwrap().unwrap_err();
    assert!(matches!(err, StoreError::Db(_)), "{err}");
    tx.rollback().await.unwrap();

    // Neither the records nor the checkpoint of the lost batch.
    assert_eq!(store.count(&CallFilter::default()).await.unwrap(), 1);
    assert_eq!(store.load_state("src").await.unwrap().unwrap().checkpoint, Some(at(60)));
    // The caller sends it again: everything arrives, once.
    let w = store.commit(batch).await.unwrap();
    assert_eq!(w.inserted, 499);
    assert_eq!(store.count(&CallFilter::default()).await.unwrap(), 500);
    assert_eq!(store.load_state("src").await.unwrap().unwrap().checkpoint, Some(at(30_000)));
}

#[tokio::test]
async fn pg_concurrent_overlapping_batches_neither_deadlock_nor_duplicate() {
    let Some((_schema, s)) = pg_common::pg_store().await else { return };
    let writers: Vec<_> = (0..4u32)
        .map(|w| {
            let s = s.clone();
            tokio::spawn(async move {
                for round in 0..5u32 {
                    // Every writer covers the same ids, in a different order each time.
                    let mut recs: Vec<_> = (0..300).map(|n| rec("src", Provider::Tanma, n, i64::from(n))).collect();
                    recs.rotate_left(((w * 5 + round) * 37 % 300) as usize);
                    if w % 2 == 1 {
                        recs.reverse();
                    }
                    s.commit(Batch { source: "src".into(), records: recs, state: None }).await.unwrap();
                }
            })
        })
        .collect();
    for w in writers {
        w.await.unwrap();
    }
    assert_eq!(s.count(&CallFilter::default()).await.unwrap(), 300);
}

#[tokio::test]
async fn pg_a_large_batch_counts_new_changed_and_unchanged_rows() {
    let Some((_schema, s)) = pg_common::pg_store().await else { return };
    let first: Vec<_> = (0..3000).map(|n| rec("src", Provider::AliyunCcc, n, i64::from(n))).collect();
    let w = put(&s, "src", first.clone()).await;
    assert_eq!((w.inserted, w.updated, w.unchanged), (3000, 0, 0));
    let mut second = first;
    for r in second.iter_mut().step_by(3) {
        r.remark = Some("changed".into());
    }
    second.extend((3000..3500).map(|n| rec("src", Provider::AliyunCcc, n, i64::from(n))));
    let w = put(&s, "src", second).await;
    assert_eq!((w.inserted, w.updated, w.unchanged), (500, 1000, 2000));
    assert_eq!(s.count(&CallFilter::default()).await.unwrap(), 3500);
}

#[tokio::test]
async fn pg_a_batch_failing_in_its_last_chunk_keeps_none_of_its_earlier_chunks() {
    let Some((_schema, s)) = pg_common::pg_store().await else { return };
    let baseline = Batch {
        source: "src".into(),
        records: vec![rec("src", Provider::Tanma, 1, 0)],
        state: Some(SyncState { source: "src".into(), checkpoint: Some(at(60)), ..SyncState::default() }),
    };
    s.commit(baseline).await.unwrap();
    // 2,000 records (several pipelined chunks); the one with the largest id, written in
    // the last chunk, breaks a constraint (empty source).
    let mut records: Vec<_> = (0..2000).map(|n| rec("src", Provider::Tanma, n, i64::from(n))).collect();
    records[0].remark = Some("must not stick".into());
    let last = records.iter_mut().max_by(|a, b| a.id.cmp(&b.id)).unwrap();
    last.source = String::new();
    let state = SyncState { source: "src".into(), checkpoint: Some(at(99_999)), ..SyncState::default() };
    let err = s.commit(Batch { source: "src".into(), records, state: Some(state) }).await.unwrap_err();
    assert!(err.to_string().contains("rolled back"), "{err}");
    assert_eq!(s.count(&CallFilter::default()).await.unwrap(), 1, "nothing of the failed batch");
    assert_eq!(s.call("src:c000000").await.unwrap(), None);
    assert_eq!(s.call("src:c000001").await.unwrap().unwrap().remark, None);
    assert_eq!(s.load_state("src").await.unwrap().unwrap().checkpoint, Some(at(60)));
}

#[tokio::test]
async fn pg_a_large_batch_with_a_repeated_id_counts_every_occurrence() {
    let Some((_schema, s)) = pg_common::pg_store().await else { return };
    let mut records: Vec<_> = (0..1500).map(|n| rec("src", Provider::Tanma, n, i64::from(n))).collect();
    let mut again = records[700].clone();
    again.remark = Some("second".into());
    records.push(again.clone());
    records.push(again);
    let w = put(&s, "src", records).await;
    assert_eq!((w.inserted, w.updated, w.unchanged), (1500, 1, 1));
    assert_eq!(s.count(&CallFilter::default()).await.unwrap(), 1500);
    assert_eq!(s.call("src:c000700").await.unwrap().unwrap().remark.as_deref(), Some("second"));
}

#[tokio::test]
async fn pg_concurrent_overlapping_large_batches_neither_deadlock_nor_duplicate() {
    let Some((_schema, s)) = pg_common::pg_store().await else { return };
    let writers: Vec<_> = (0..3u32)
        .map(|w| {
            let s = s.clone();
            tokio::spawn(async move {
                let mut stats = huadan_store::WriteStats::default();
                for round in 0..3u32 {
                    // Several chunks each; every writer covers the same ids in its own order.
                    let mut recs: Vec<_> = (0..1600).map(|n| rec("src", Provider::Tanma, n, i64::from(n))).collect();
                    recs.rotate_left(((w * 3 + round) * 211 % 1600) as usize);
                    if w % 2 == 1 {
                        recs.reverse();
                    }
                    stats += s.commit(Batch { source: "src".into(), records: recs, state: None }).await.unwrap();
                }
                stats
            })
        })
        .collect();
    let mut inserted = 0;
    for w in writers {
        let stats = w.await.unwrap();
        assert_eq!(stats.inserted + stats.updated + stats.unchanged, 3 * 1600);
        inserted += stats.inserted;
    }
    assert_eq!(inserted, 1600, "each id inserted exactly once across the writers");
    assert_eq!(s.count(&CallFilter::default()).await.unwrap(), 1600);
}

/// The schema versions applied, in order.
async fn migration_versions(c: &tokio_postgres::Client) -> Vec<i32> {
    let rows = c.query("SELECT version FROM schema_migrations ORDER BY version", &[]).await.unwrap();
    rows.iter().map(|r| r.get(0)).collect()
}

/// Every record of `sqlite` into `pg` as stored (`huadan copy`'s path), `page` at a time.
async fn copy_all(sqlite: &huadan_store::SqliteStore, pg: &PgStore, page: usize) -> huadan_store::WriteStats {
    let (mut cursor, mut stats) = (None, huadan_store::WriteStats::default());
    for _ in 0..10_000 {
        let p = sqlite.stored_page(cursor, page).await.unwrap();
        cursor = p.next_cursor().map(str::to_string);
        stats += pg.commit_stored(p).await.unwrap();
        if cursor.is_none() {
            return stats;
        }
    }
    panic!("more pages than records");
}

/// A fresh PostgreSQL store (own schema) and a fresh SQLite store (`path`), for copies
/// from one to the other; `None` when the test server is not configured. Bind `schema`
/// and `dir` for the whole test: dropping them drops the schema and the SQLite files.
struct Pair {
    pg: PgStore,
    sqlite: huadan_store::SqliteStore,
    path: std::path::PathBuf,
    schema: Schema,
    dir: tempfile::TempDir,
}

async fn pair() -> Option<Pair> {
    let url = url()?;
    let schema = Schema::new(&url);
    let pg = PgStore::open_in_schema(&schema.store_url(), &schema.name).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.db");
    let sqlite = huadan_store::SqliteStore::open(&path).await.unwrap();
    Some(Pair { pg, sqlite, path, schema, dir })
}

/// Record `id` reads the same from both stores (`synced_at` aside).
async fn assert_same_record(sqlite: &huadan_store::SqliteStore, pg: &PgStore, id: &str) {
    let mut a = sqlite.call(id).await.unwrap().unwrap();
    let mut b = pg.call(id).await.unwrap().unwrap();
    (a.synced_at, b.synced_at) = (None, None);
    assert_eq!(a, b, "{id}");
}

#[tokio::test]
async fn pg_stored_pages_from_sqlite_arrive_whole_and_count_as_unchanged_when_sent_again() {
    // Every part is bound: the temp dir and the schema live until the test ends.
    let Some(Pair { pg, sqlite, path: _, schema: _schema, dir: _dir }) = pair().await else { return };
    let mut records: Vec<_> = (0..700).map(|n| rec("src", Provider::Tanma, n, i64::from(n) * 60)).collect();
    records[5] = with_text(records[5].clone(), &["我想申请退款"]);
    sqlite.commit(Batch { source: "src".into(), records, state: None }).await.unwrap();
    for round in 0..2 {
        let stats = copy_all(&sqlite, &pg, 300).await;
        let want = if round == 0 { (700, 0, 0) } else { (0, 0, 700) };
        assert_eq!((stats.inserted, stats.updated, stats.unchanged), want, "round {round}");
    }
    for id in ["src:c000000", "src:c000005", "src:c000699"] {
        assert_same_record(&sqlite, &pg, id).await;
    }
    let search = CallFilter { text: Some("申请退款".into()), ..CallFilter::default() };
    assert_eq!(pg.count(&search).await.unwrap(), 1);
    assert_eq!(pg.count(&CallFilter::default()).await.unwrap(), 700);
}

#[tokio::test]
async fn pg_copy_brings_the_sqlite_dictionaries_along_with_the_bodies() {
    let Some(Pair { pg, sqlite, path, schema, dir: _dir }) = pair().await else { return };
    put_range(&sqlite, Provider::Tanma, 0..2_500).await;
    let next = write_until_a_dictionary_is_used(&sqlite, &path, Provider::Tanma, 2_500).await;
    put_range(&sqlite, Provider::Tanma, next..next + 200).await;
    let total = u64::from(next + 200);
    let stats = copy_all(&sqlite, &pg, 1_000).await;
    assert_eq!(stats.inserted, total);
    assert_eq!(pg.count(&CallFilter::default()).await.unwrap(), total);
    let client = schema.client().await;
    let row = client.query_one("SELECT count(*) FROM calls WHERE get_byte(record, 0) = 69", &[]).await.unwrap();
    assert_eq!(row.get::<_, i64>(0), bodies_with_a_dictionary(&path), "bodies arrive as they are stored");
    let dicts = client.query("SELECT provider, samples FROM body_dicts", &[]).await.unwrap();
    let dicts: Vec<(String, i32)> = dicts.iter().map(|r| (r.get(0), r.get(1))).collect();
    assert_eq!(dicts, [("tanma".to_string(), 0)], "the dictionary came along (trained elsewhere: 0 samples here)");
    for n in [0, next + 199] {
        assert_same_record(&sqlite, &pg, &format!("src:c{n:06}")).await;
    }
    // Sent again: unchanged, and the dictionary is not stored twice.
    assert_eq!(copy_all(&sqlite, &pg, 1_000).await.unchanged, total);
    let n: i64 = client.query_one("SELECT count(*) FROM body_dicts", &[]).await.unwrap().get(0);
    assert_eq!(n, 1);
}

/// PostgreSQL body tags as stored: (with a dictionary, with Snappy).
async fn pg_body_forms(client: &tokio_postgres::Client) -> (i64, i64) {
    let row = client
        .query_one(
            "SELECT count(*) FILTER (WHERE get_byte(record, 0) = 69), count(*) FILTER (WHERE get_byte(record, 0) = 90)
             FROM calls",
            &[],
        )
        .await
        .unwrap();
    (row.get(0), row.get(1))
}

/// The dictionaries in a PostgreSQL store: (provider, samples), oldest first.
async fn pg_dictionaries(client: &tokio_postgres::Client) -> Vec<(String, i32)> {
    let rows = client.query("SELECT provider, samples FROM body_dicts ORDER BY created_at, id", &[]).await.unwrap();
    rows.iter().map(|r| (r.get(0), r.get(1))).collect()
}

#[tokio::test]
async fn pg_a_provider_gets_a_dictionary_from_its_own_records_shared_by_every_worker() {
    let Some(url) = url() else { return };
    let schema = Schema::new(&url);
    let a = PgStore::open_in_schema(&schema.store_url(), &schema.name).await.unwrap();
    // A second worker on the same database, open before any dictionary exists.
    let b = PgStore::open_in_schema(&schema.store_url(), &schema.name).await.unwrap();
    let client = schema.client().await;
    put_range(&a, Provider::Tanma, 0..1_500).await;
    put_range(&a, Provider::Wecom, 100_000..100_300).await;
    assert!(pg_dictionaries(&client).await.is_empty(), "not before enough records");
    put_range(&a, Provider::Tanma, 1_500..2_500).await;
    let start = std::time::Instant::now();
    while pg_dictionaries(&client).await.is_empty() {
        assert!(start.elapsed() < Duration::from_secs(60), "no dictionary was trained");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(pg_dictionaries(&client).await, [("tanma".to_string(), 1_000)], "Tanma's only");
    // The writer takes it up once it is stored.
    let mut next = 2_500;
    while pg_body_forms(&client).await.0 == 0 {
        assert!(start.elapsed() < Duration::from_secs(60), "the dictionary was never used");
        put_range(&a, Provider::Tanma, next..next + 10).await;
        next += 10;
    }
    let snappy_before = pg_body_forms(&client).await.1;
    put_range(&a, Provider::Tanma, next..3_000).await;
    let (with_dict, snappy) = pg_body_forms(&client).await;
    assert_eq!((with_dict + snappy_before, snappy), (3_000 + 300, snappy_before), "every later Tanma body uses it");
    let sizes = client
        .query_one(
            "SELECT avg(length(record)) FILTER (WHERE get_byte(record, 0) = 69)::float8,
                    avg(length(record)) FILTER (WHERE get_byte(record, 0) = 90 AND provider = 'tanma')::float8
             FROM calls",
            &[],
        )
        .await
        .unwrap();
    let (dict_mean, snappy_mean): (f64, f64) = (sizes.get(0), sizes.get(1));
    assert!(dict_mean * 2.0 < snappy_mean, "{dict_mean} vs {snappy_mean}");

    // The other worker, after as many records of its own, takes the stored dictionary
    // instead of training a second one.
    put_range(&b, Provider::Tanma, 10_000..12_500).await;
    let mut n = 12_500;
    let before = pg_body_forms(&client).await.0;
    while pg_body_forms(&client).await.0 == before {
        assert!(start.elapsed() < Duration::from_secs(90), "the second worker never used the dictionary");
        put_range(&b, Provider::Tanma, n..n + 10).await;
        n += 10;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(pg_dictionaries(&client).await.len(), 1, "one dictionary for the provider, shared");

    // Every record reads back as written, from either worker and from a reopened store.
    let reopened = PgStore::open_in_schema(&schema.store_url(), &schema.name).await.unwrap();
    for s in [&a, &b, &reopened] {
        for (provider, n) in [(Provider::Tanma, 0), (Provider::Tanma, 2_990), (Provider::Wecom, 100_100)] {
            let want = rec("src", provider, n, i64::from(n) * 60);
            let mut got = s.call(&want.id).await.unwrap().unwrap();
            got.synced_at = None;
            assert_eq!(got, want);
        }
        let all: Vec<_> = futures::StreamExt::collect(s.export(CallFilter::default())).await;
        assert!(all.iter().all(Result::is_ok));
        assert_eq!(all.len() as u64, s.count(&CallFilter::default()).await.unwrap());
    }
}

/// What another worker does: train a dictionary this process has never seen (salted),
/// store it, and rewrite `id`'s body with it.
async fn rewrite_with_a_dictionary_of_another_worker(
    client: &tokio_postgres::Client,
    json: &[u8],
    id: &str,
    salt: &str,
) {
    let text = std::str::from_utf8(json).unwrap();
    let (mut data, mut sizes) = (Vec::new(), Vec::new());
    for i in 0..800 {
        let sample = format!("{salt}{text}").replace("c000001", &format!("c{i:06}"));
        sizes.push(sample.len());
        data.extend_from_slice(sample.as_bytes());
    }
    let bytes = zstd::dict::from_continuous(&data, &sizes, 4096).unwrap();
    let dict = twox_hash::XxHash3_64::oneshot(&bytes);
    let mut c = zstd::bulk::Compressor::with_dictionary(1, &bytes).unwrap();
    c.set_parameter(zstd::zstd_safe::CParameter::DictIdFlag(false)).unwrap();
    let mut body = vec![b'E'];
    body.extend_from_slice(&dict.to_le_bytes());
    body.extend(c.compress(json).unwrap());
    client.execute("UPDATE calls SET record = $1 WHERE id = $2", &[&body, &id]).await.unwrap();
    client
        .execute(
            "INSERT INTO body_dicts (id, provider, dict, samples, created_at) VALUES ($1, 'tanma', $2, 800, 0)",
            &[&(dict as i64), &bytes],
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn pg_a_body_compressed_with_a_dictionary_trained_since_is_read_and_rewritten() {
    let Some(url) = url() else { return };
    let schema = Schema::new(&url);
    let s = PgStore::open_in_schema(&schema.store_url(), &schema.name).await.unwrap();
    let client = schema.client().await;
    let mut r = rec("src", Provider::Tanma, 1, 60);
    s.commit(Batch { source: "src".into(), records: vec![r.clone()], state: None }).await.unwrap();
    let json = serde_json::to_vec(&r).unwrap();

    // A read meets it: the store loads the database's dictionaries and reads again.
    rewrite_with_a_dictionary_of_another_worker(&client, &json, "src:c000001", "a").await;
    let mut got = s.call("src:c000001").await.unwrap().unwrap();
    got.synced_at = None;
    assert_eq!(got, r);

    // The writer meets it (a changed record, compared with the stored one for the
    // archived paths to carry over): loaded inside the batch's transaction.
    rewrite_with_a_dictionary_of_another_worker(&client, &json, "src:c000001", "b").await;
    r.remark = Some("改过".into());
    let stats = s.commit(Batch { source: "src".into(), records: vec![r.clone()], state: None }).await.unwrap();
    assert_eq!(stats.updated, 1);
    let mut got = s.call("src:c000001").await.unwrap().unwrap();
    got.synced_at = None;
    assert_eq!(got, r);
}

#[tokio::test]
async fn pg_a_new_id_inserted_by_another_writer_meanwhile_is_merged_not_refused() {
    let Some((schema, s)) = pg_common::pg_store().await else { return };
    // A valid stored row for `src:c000001`, kept aside and removed again.
    put(&s, "src", vec![rec("src", Provider::Tanma, 1, 1)]).await;
    let other = schema.client().await;
    other
        .batch_execute(
            "CREATE TABLE aside AS SELECT * FROM calls WHERE id = 'src:c000001';
             DELETE FROM calls WHERE id = 'src:c000001';
             BEGIN;
             INSERT INTO calls SELECT * FROM aside;",
        )
        .await
        .unwrap();
    // This batch sees no stored row for c000001, so it copies it as new, and its COPY
    // waits for the other (uncommitted) insert of the same id.
    let mut changed = rec("src", Provider::Tanma, 1, 1);
    changed.remark = Some("newer".into());
    let records = vec![changed, rec("src", Provider::Tanma, 2, 2)];
    let writer = {
        let s = s.clone();
        tokio::spawn(async move { s.commit(Batch { source: "src".into(), records, state: None }).await })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!writer.is_finished(), "the COPY waits for the other writer's insert");
    other.batch_execute("COMMIT").await.unwrap();
    let w = writer.await.unwrap().unwrap();
    assert_eq!((w.inserted, w.updated, w.unchanged), (1, 1, 0));
    assert_eq!(s.count(&CallFilter::default()).await.unwrap(), 2);
    assert_eq!(s.call("src:c000001").await.unwrap().unwrap().remark.as_deref(), Some("newer"));
}

#[tokio::test]
async fn pg_a_schema_3_database_migrates_to_fewer_indexes_and_keeps_its_rows() {
    let Some((source_schema, source)) = pg_common::pg_store().await else { return };
    let records: Vec<_> = (0..50).map(|n| rec("src", Provider::Tanma, n, i64::from(n))).collect();
    put(&source, "src", records.clone()).await;
    // A database as huadan with schema 3 left it, holding those rows.
    let schema = Schema::new(&source_schema.url);
    let c = source_schema.client().await;
    c.batch_execute(&format!("CREATE SCHEMA {0}; SET search_path = {0}, public;", schema.name)).await.unwrap();
    c.batch_execute(include_str!("../migrations/postgres/0001_init.sql")).await.unwrap();
    c.batch_execute(include_str!("../migrations/postgres/0002_fleet.sql")).await.unwrap();
    c.batch_execute(
        "CREATE INDEX calls_transcript_trgm ON calls USING gin (transcript public.gin_trgm_ops)
             WHERE transcript IS NOT NULL;
         CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL);
         INSERT INTO schema_migrations VALUES (1, 'init', 0), (2, 'fleet', 0), (3, 'trigram_pending_list', 0);",
    )
    .await
    .unwrap();
    c.batch_execute(include_str!("../migrations/postgres/0003_trigram_pending_list.sql")).await.unwrap();
    c.batch_execute(&format!("INSERT INTO {}.calls SELECT * FROM {}.calls", schema.name, source_schema.name))
        .await
        .unwrap();

    let s = PgStore::open_in_schema(&schema.store_url(), &schema.name).await.unwrap();
    let mine = schema.client().await;
    assert_eq!(migration_versions(&mine).await, [1, 2, 3, 4, 5, 6]);
    let indexes: Vec<String> = mine
        .query(
            "SELECT indexname::text FROM pg_indexes WHERE schemaname = current_schema() AND tablename = 'calls'
             ORDER BY 1",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(
        indexes,
        ["calls_agents", "calls_pkey", "calls_range_cover", "calls_source_started", "calls_transcript_trgm"]
    );
    for index in ["calls_agents", "calls_transcript_trgm"] {
        let options: Vec<String> = mine
            .query_one(
                "SELECT coalesce(reloptions, '{}')::text[] FROM pg_class
                 WHERE relname = $1 AND relnamespace = current_schema()::regnamespace",
                &[&index],
            )
            .await
            .unwrap()
            .get(0);
        assert_eq!(options, ["gin_pending_list_limit=16384"], "{index}");
    }
    assert_eq!(s.count(&CallFilter::default()).await.unwrap(), 50);
    let agent = records[7].agent_id().unwrap().to_string();
    let by_agent = s.count(&CallFilter { agent: Some(agent.clone()), ..CallFilter::default() }).await.unwrap();
    let expected = records.iter().filter(|r| r.agent_id() == Some(agent.as_str())).count() as u64;
    assert_eq!(by_agent, expected);
    // The migrated rows count as stored: sent again they are unchanged.
    let w = put(&(std::sync::Arc::new(s) as huadan_store::DynStore), "src", records).await;
    assert_eq!((w.inserted, w.updated, w.unchanged), (0, 0, 50));
}
