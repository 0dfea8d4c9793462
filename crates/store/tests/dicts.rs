//! SQLite's compression dictionaries: trained from the store's own records once a
//! provider has enough of them, stored before any body uses them, and every record
//! reads back the same whichever way its body was compressed.

mod common;

use common::*;
use huadan_model::Provider;
use huadan_store::{CallFilter, SqliteStore, Store};
use std::path::Path;
use std::time::{Duration, Instant};

/// Body tags as stored: (records with a dictionary, with Snappy, mean body bytes of each).
fn body_forms(path: &Path) -> (u64, u64, f64, f64) {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.query_row(
        "SELECT coalesce(sum(substr(record, 1, 1) = x'45'), 0), coalesce(sum(substr(record, 1, 1) = x'5A'), 0),
                coalesce(avg(CASE WHEN substr(record, 1, 1) = x'45' THEN length(record) END), 0),
                coalesce(avg(CASE WHEN substr(record, 1, 1) = x'5A' THEN length(record) END), 0)
         FROM call_bodies",
        [],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
    )
    .unwrap()
}

fn dictionaries(path: &Path) -> Vec<(String, i64)> {
    let conn = rusqlite::Connection::open(path).unwrap();
    let mut st = conn.prepare("SELECT provider, samples FROM body_dicts ORDER BY created_at").unwrap();
    st.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().map(Result::unwrap).collect()
}

#[tokio::test]
async fn a_provider_gets_a_dictionary_from_its_own_records_and_every_record_reads_back() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("d.db");
    let s = SqliteStore::open(&path).await.unwrap();
    put_range(&s, Provider::Tanma, 0..1_500).await;
    put_range(&s, Provider::Wecom, 100_000..100_300).await;
    assert!(dictionaries(&path).is_empty(), "not before enough records");
    put_range(&s, Provider::Tanma, 1_500..2_500).await;

    // Trained in the background; bounded wait.
    let start = Instant::now();
    while dictionaries(&path).is_empty() {
        assert!(start.elapsed() < Duration::from_secs(60), "no dictionary was trained");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(dictionaries(&path), [("tanma".to_string(), 1_000)], "Tanma's only: WeCom has too few records");
    // The writer takes it up right after it is stored.
    let next = write_until_a_dictionary_is_used(&s, &path, Provider::Tanma, 2_500).await;
    let snappy_before = body_forms(&path).1;
    put_range(&s, Provider::Tanma, next..3_000).await;
    put_range(&s, Provider::Wecom, 100_300..100_400).await;

    let (with_dict, snappy, dict_mean, snappy_mean) = body_forms(&path);
    assert_eq!(with_dict + snappy_before, 3_000 + 300, "every Tanma record after the dictionary uses it");
    assert_eq!(snappy, snappy_before + 100, "WeCom's stay Snappy");
    assert!(dict_mean * 2.0 < snappy_mean, "{dict_mean} vs {snappy_mean}");

    // Every record reads back as written, through every read path.
    let check = |s: SqliteStore| async move {
        for (provider, n) in [(Provider::Tanma, 0), (Provider::Tanma, 2_600), (Provider::Wecom, 100_350)] {
            let want = rec("src", provider, n, i64::from(n) * 60);
            let mut got = s.call(&want.id).await.unwrap().unwrap();
            got.synced_at = None;
            assert_eq!(got, want);
        }
        let all = s.export(CallFilter::default());
        let ids: Vec<String> =
            futures::StreamExt::collect::<Vec<_>>(all).await.into_iter().map(|r| r.unwrap().id).collect();
        assert_eq!(ids.len(), 3_400);
        let json: Vec<_> = futures::StreamExt::collect(s.export_json(CallFilter::default())).await;
        let text: usize = json.into_iter().map(|p| p.unwrap().len()).sum();
        assert_eq!(text, 3_400);
    };
    check(s.clone()).await;
    drop(s);
    // A reopened store knows the dictionary from the database.
    check(SqliteStore::open(&path).await.unwrap()).await;
}

#[tokio::test]
async fn a_store_that_keeps_few_records_of_each_provider_trains_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("d.db");
    let s = SqliteStore::open(&path).await.unwrap();
    for (i, p) in [Provider::Tanma, Provider::Wecom, Provider::AliyunCcc].into_iter().enumerate() {
        let base = 10_000 * (i as u32 + 1);
        put_range(&s, p, base..base + 600).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(dictionaries(&path).is_empty());
    assert_eq!(body_forms(&path).1, 1_800);
    assert_eq!(s.count(&CallFilter::default()).await.unwrap(), 1_800);
}
