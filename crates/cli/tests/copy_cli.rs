//! `huadan copy` as a process: SQLite → PostgreSQL, verified by counts, resumable.

use huadan_model::{CallRecord, Provider};
use huadan_store::{Batch, CallFilter, CallQuery, PgStore, SqliteStore, Store, SyncState};
use std::process::Command;

fn pg_url() -> Option<String> {
    match std::env::var("HUADAN_TEST_POSTGRES_URL") {
        Ok(u) if !u.is_empty() => Some(u),
        _ => {
            eprintln!("skipped: HUADAN_TEST_POSTGRES_URL not set (scripts/test sets it)");
            None
        }
    }
}

fn rec(source: &str, n: u32) -> CallRecord {
    let at = huadan_model::Instant::from_second(1_709_251_200 + i64::from(n) * 37).unwrap();
    let mut r = CallRecord::new(source, Provider::Tanma, &format!("c{n:06}"), at);
    r.talk_seconds = Some(i64::from(n % 90));
    r.raw = serde_json::json!({ "n": n, "备注": "回访" });
    r
}

/// A schema of the test server, dropped at the end.
struct Schema {
    url: String,
    name: String,
}

impl Schema {
    /// The URL whose connections use only this schema.
    fn store_url(&self) -> String {
        let sep = if self.url.contains('?') { '&' } else { '?' };
        format!("{}{sep}options=-c%20search_path%3D{}", self.url, self.name)
    }
}

impl Drop for Schema {
    fn drop(&mut self) {
        let (url, name) = (self.url.clone(), self.name.clone());
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            rt.block_on(async move {
                if let Ok((client, conn)) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await {
                    tokio::spawn(conn);
                    let _ = client.batch_execute(&format!("DROP SCHEMA IF EXISTS {name} CASCADE")).await;
                }
            });
        })
        .join();
    }
}

fn copy(from: &str, to: &str, extra: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_huadan"))
        .args(["copy", "--from", from, "--to", to])
        .args(extra)
        .output()
        .unwrap();
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into(), String::from_utf8_lossy(&out.stderr).into())
}

#[tokio::test]
async fn copy_from_sqlite_to_postgres_is_complete_verified_and_resumable() {
    let Some(url) = pg_url() else { return };
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("src.db");
    let src = SqliteStore::open(&db).await.unwrap();
    let sizes = [("ads", 1200u32), ("ccc", 345), ("tanma", 7)];
    for (source, n) in sizes {
        let records: Vec<_> = (0..n).map(|i| rec(source, i)).collect();
        for chunk in records.chunks(500) {
            src.commit(Batch { source: source.into(), records: chunk.to_vec(), state: None }).await.unwrap();
        }
        let state = SyncState {
            source: source.into(),
            checkpoint: Some(huadan_model::Instant::from_second(1_709_251_200 + 3600).unwrap()),
            ..SyncState::default()
        };
        src.commit(Batch { source: source.into(), records: vec![], state: Some(state) }).await.unwrap();
    }
    let schema = Schema { url: url.clone(), name: format!("copy_{}", std::process::id()) };
    // Create the (empty) schema the destination URL points into.
    drop(PgStore::open_in_schema(&url, &schema.name).await.unwrap());
    let from = format!("sqlite://{}", db.display());
    let to = schema.store_url();

    let (ok, stdout, stderr) = copy(&from, &to, &["--page", "100"]);
    assert!(ok, "{stdout}\n{stderr}");
    assert!(stdout.contains("copied 1552 records"), "{stdout}");
    assert!(!stdout.contains("MISMATCH"), "{stdout}");

    let dst = PgStore::open(&to).await.unwrap();
    for (source, n) in sizes {
        let f = CallFilter { sources: vec![source.into()], ..CallFilter::default() };
        assert_eq!(dst.count(&f).await.unwrap(), u64::from(n), "{source}");
        assert_eq!(dst.load_state(source).await.unwrap(), src.load_state(source).await.unwrap(), "{source}");
    }
    let mut a = src.call("ads:c000777").await.unwrap().unwrap();
    let mut b = dst.call("ads:c000777").await.unwrap().unwrap();
    (a.synced_at, b.synced_at) = (None, None);
    assert_eq!(a, b, "records arrive whole");

    // Interrupted after the first 3 pages: the next run continues from there.
    let page3 = {
        let mut cursor = None;
        for _ in 0..3 {
            cursor =
                src.calls(&CallQuery { filter: CallFilter::default(), limit: 100, cursor }).await.unwrap().next_cursor;
        }
        cursor.unwrap()
    };
    dst.set_meta(&format!("copy-position:{from}"), &page3).await.unwrap();
    let (ok, stdout, stderr) = copy(&from, &to, &["--page", "100"]);
    assert!(ok, "{stdout}\n{stderr}");
    assert!(stderr.contains("resuming"), "{stderr}");
    assert!(stdout.contains("copied 1252 records"), "only what was left: {stdout}");
    assert!(stdout.contains("0 new, 0 changed, 1252 already there"), "{stdout}");

    // A finished copy starts from the top next time; a store written to behind the
    // copy's back fails the count check.
    src.commit(Batch { source: "ccc".into(), records: vec![rec("ccc", 99_999)], state: None }).await.unwrap();
    let (ok, stdout, _) = copy(&from, &to, &["--page", "500"]);
    assert!(ok, "{stdout}");
    assert!(stdout.contains("copied 1553 records"), "{stdout}");
    dst.commit(Batch { source: "ccc".into(), records: vec![rec("ccc", 88_888)], state: None }).await.unwrap();
    let (ok, stdout, stderr) = copy(&from, &to, &[]);
    assert!(!ok);
    assert!(stdout.contains("MISMATCH"), "{stdout}");
    assert!(stderr.contains("record counts differ") && stderr.contains("ccc (346 → 347)"), "{stderr}");
}

#[test]
fn copy_refuses_the_same_store_and_redacts_passwords() {
    let (ok, _, stderr) = copy("sqlite://a.db", "sqlite://a.db", &[]);
    assert!(!ok && stderr.contains("same store"), "{stderr}");
    let dir = tempfile::tempdir().unwrap();
    let from = format!("sqlite://{}", dir.path().join("a.db").display());
    let (ok, _, stderr) = copy(&from, "postgres://huadan:hunter2@127.0.0.1:1/db", &[]);
    assert!(!ok, "{stderr}");
    assert!(!stderr.contains("hunter2") && stderr.contains("huadan:****@127.0.0.1:1"), "{stderr}");
}
