//! Shared helpers for the store's integration tests.
#![allow(dead_code)]

use huadan_model::{Agent, CallRecord, Direction, Disposition, Provider, Sentence, Transcript, TranscriptStatus};
use huadan_store::{Batch, DynStore, SqliteStore, Store};
use std::sync::Arc;

#[path = "../pg_common/mod.rs"]
pub mod pg;

/// The backends every shared store test runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite in a temp dir.
    Sqlite,
    /// PostgreSQL at `HUADAN_TEST_POSTGRES_URL`, in a schema of the test's own.
    Postgres,
}

tokio::task_local! {
    /// The backend the running test uses (set by [`both_backends!`]).
    static BACKEND: Backend;
}

/// Keeps a test's store alive; cleans up (temp dir, schema) when dropped.
pub enum Guard {
    /// The SQLite file's directory.
    Dir(tempfile::TempDir),
    /// The PostgreSQL schema.
    Schema(pg::Schema),
}

/// Run one shared test body on `backend` (PostgreSQL: skipped, saying why, when the
/// test server is not configured).
pub async fn run(backend: Backend, body: impl std::future::Future<Output = ()>) {
    if backend == Backend::Postgres && pg::url().is_none() {
        return;
    }
    BACKEND.scope(backend, body).await;
}

/// Every test named here runs twice: `on_sqlite::NAME` and `on_postgres::NAME`, so the
/// two backends can never drift. Each NAME is an `async fn NAME()` of the test file.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        mod on_sqlite {
            $( #[tokio::test] async fn $name() { $crate::common::run($crate::common::Backend::Sqlite, super::$name()).await } )*
        }
        mod on_postgres {
            $( #[tokio::test] async fn $name() { $crate::common::run($crate::common::Backend::Postgres, super::$name()).await } )*
        }
    };
}

/// A fresh store on the running test's backend (SQLite outside [`both_backends!`]).
pub async fn store() -> (Guard, DynStore) {
    match BACKEND.try_with(|b| *b).unwrap_or(Backend::Sqlite) {
        Backend::Sqlite => {
            let dir = tempfile::tempdir().unwrap();
            let s = SqliteStore::open(dir.path().join("t.db")).await.unwrap();
            (Guard::Dir(dir), Arc::new(s))
        }
        Backend::Postgres => {
            let (schema, s) = pg::pg_store().await.expect("run() checked the URL");
            (Guard::Schema(schema), s)
        }
    }
}

/// `2024-03-01T00:00:00Z` + `secs`.
pub fn at(secs: i64) -> huadan_model::Instant {
    huadan_model::Instant::from_second(1_709_251_200 + secs).unwrap()
}

/// A plain record.
pub fn rec(source: &str, provider: Provider, n: u32, secs: i64) -> CallRecord {
    let mut r = CallRecord::new(source, provider, &format!("c{n:06}"), at(secs));
    r.direction = if n.is_multiple_of(2) { Direction::Inbound } else { Direction::Outbound };
    r.disposition = if n.is_multiple_of(3) { Disposition::NoAnswer } else { Disposition::Answered };
    r.talk_seconds = Some(if r.disposition == Disposition::Answered { i64::from(n % 100) } else { 0 });
    r.caller.number = Some(format!("138{n:08}"));
    r.callee.number = Some(format!("0216{n:07}"));
    r.agent =
        Some(Agent { id: Some(format!("a{}", n % 4)), name: Some(format!("坐席{}", n % 4)), ..Agent::default() });
    r.raw = serde_json::json!({ "id": n, "vendor": provider.as_str() }).into();
    r
}

/// Give a record a transcript.
pub fn with_text(mut r: CallRecord, lines: &[&str]) -> CallRecord {
    r.transcript = Some(Transcript {
        status: TranscriptStatus::Done,
        sentences: lines
            .iter()
            .enumerate()
            .map(|(i, t)| Sentence {
                begin_ms: i as i64 * 1000,
                end_ms: i as i64 * 1000 + 900,
                channel: Some("0".into()),
                text: t.to_string(),
            })
            .collect(),
    });
    r
}

/// Commit records without state.
pub async fn put(store: &DynStore, source: &str, records: Vec<CallRecord>) -> huadan_store::WriteStats {
    store.commit(Batch { source: source.into(), records, state: None }).await.unwrap()
}

/// Records `range` of `provider` (see [`rec`], source `src`) into `store`, 500 a batch.
pub async fn put_range(store: &impl Store, provider: Provider, range: std::ops::Range<u32>) {
    let records: Vec<_> = range.map(|n| rec("src", provider, n, i64::from(n) * 60)).collect();
    for chunk in records.chunks(500) {
        store.commit(Batch { source: "src".into(), records: chunk.to_vec(), state: None }).await.unwrap();
    }
}

/// SQLite at `path`: how many stored bodies are compressed with a dictionary.
pub fn bodies_with_a_dictionary(path: &std::path::Path) -> i64 {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.query_row("SELECT count(*) FROM call_bodies WHERE substr(record, 1, 1) = x'45'", [], |r| r.get(0)).unwrap()
}

/// SQLite trains a provider's dictionary in the background: keep writing that
/// provider's records (10 at a time, numbered from `next`) until the writer uses one
/// (bounded wait). Returns the next unused number.
pub async fn write_until_a_dictionary_is_used(
    store: &SqliteStore,
    path: &std::path::Path,
    provider: Provider,
    mut next: u32,
) -> u32 {
    let start = std::time::Instant::now();
    while bodies_with_a_dictionary(path) == 0 {
        assert!(start.elapsed() < std::time::Duration::from_secs(60), "no dictionary was trained and used");
        put_range(store, provider, next..next + 10).await;
        next += 10;
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    next
}

/// All ids matching `query`, paging through with `limit`.
pub async fn all_ids(store: &DynStore, filter: huadan_store::CallFilter, limit: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut cursor = None;
    for _ in 0..10_000 {
        let page = store.calls(&huadan_store::CallQuery { filter: filter.clone(), limit, cursor }).await.unwrap();
        out.extend(page.items.into_iter().map(|r| r.id));
        cursor = page.next_cursor;
        if cursor.is_none() {
            return out;
        }
    }
    panic!("pagination did not end");
}
