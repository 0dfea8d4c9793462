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
    r.raw = serde_json::json!({ "n": n, "备注": "回访" }).into();
    if n == 777 {
        r.transcript = Some(huadan_model::Transcript {
            status: huadan_model::TranscriptStatus::Done,
            sentences: vec![huadan_model::Sentence {
                begin_ms: 0,
                end_ms: 900,
                channel: Some("0".into()),
                text: "我想申请退款".into(),
            }],
        });
    }
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

/// Wait (at most 20 s) until the server has no session named `app` left.
async fn sessions_ended(url: &str, app: &str) {
    let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(conn);
    for _ in 0..2000 {
        let row = client
            .query_one("SELECT count(*) FROM pg_stat_activity WHERE application_name = $1", &[&app])
            .await
            .unwrap();
        if row.get::<_, i64>(0) == 0 {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("the killed copy's sessions ({app}) did not end within 20 s");
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
    assert!(b.transcript.is_some());
    let search = CallFilter { text: Some("申请退款".into()), ..CallFilter::default() };
    assert_eq!(dst.count(&search).await.unwrap(), 1, "transcripts arrive searchable");

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

#[tokio::test]
async fn copy_killed_mid_way_resumes_where_it_stopped() {
    let Some(url) = pg_url() else { return };
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("src.db");
    let src = SqliteStore::open(&db).await.unwrap();
    // Enough pages (1,000 of 20) that the kill lands long before the copy could finish.
    let total = 20_000u32;
    let records: Vec<_> = (0..total).map(|i| rec("ads", i)).collect();
    for chunk in records.chunks(1000) {
        src.commit(Batch { source: "ads".into(), records: chunk.to_vec(), state: None }).await.unwrap();
    }
    let schema = Schema { url: url.clone(), name: format!("copykill_{}", std::process::id()) };
    drop(PgStore::open_in_schema(&url, &schema.name).await.unwrap());
    let from = format!("sqlite://{}", db.display());
    let to = schema.store_url();
    let dst = PgStore::open(&to).await.unwrap();
    let key = format!("copy-position:{from}");

    // Small pages; SIGKILL as soon as the copy has saved a position part-way. The
    // child's sessions carry their own application name so that the test can see them end.
    let app = format!("copykill_child_{}", std::process::id());
    let child_to = format!("{to}&application_name={app}");
    let mut child = Command::new(env!("CARGO_BIN_EXE_huadan"))
        .args(["copy", "--from", &from, "--to", &child_to, "--page", "20"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut saved = None;
    for _ in 0..6000 {
        if let Some(p) = dst.meta(&key).await.unwrap().filter(|p| p != "done") {
            saved = Some(p);
            break;
        }
        if child.try_wait().unwrap().is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(saved.is_some(), "the copy saved a position before it was killed");
    // A COMMIT the child sent just before the kill is still carried out by the server
    // after the process is gone: read the position only once its sessions have ended.
    sessions_ended(&url, &app).await;
    let at_kill = dst.count(&CallFilter::default()).await.unwrap();
    assert!(at_kill < u64::from(total), "killed part-way ({at_kill} of {total} copied)");

    // The next run resumes from the saved position (never from the top), sends at most
    // what was left, and ends complete and verified.
    let position = dst.meta(&key).await.unwrap().unwrap();
    assert_ne!(position, "done");
    let left = {
        let mut n = 0usize;
        let mut cursor = Some(position);
        while let Some(c) = cursor {
            let page =
                src.calls(&CallQuery { filter: CallFilter::default(), limit: 500, cursor: Some(c) }).await.unwrap();
            n += page.items.len();
            cursor = page.next_cursor;
        }
        n
    };
    assert!(left < total as usize);
    let (ok, stdout, stderr) = copy(&from, &to, &["--page", "20"]);
    assert!(ok, "{stdout}\n{stderr}");
    assert!(stderr.contains("resuming"), "{stderr}");
    assert!(stdout.contains(&format!("copied {left} records")), "only what was left ({left}): {stdout}");
    assert!(!stdout.contains("MISMATCH"), "{stdout}");
    assert_eq!(dst.count(&CallFilter::default()).await.unwrap(), u64::from(total));
    assert_eq!(dst.meta(&key).await.unwrap().as_deref(), Some("done"));
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
