//! Shared helpers for the server's integration tests: a seeded SQLite store, a config
//! with an admin and a viewer token, a sync runner the test controls, and a one-shot
//! HTTP helper over the router.
#![allow(dead_code)]

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use futures::future::BoxFuture;
use futures::stream::{self, BoxStream};
use huadan_config::Config;
use huadan_model::{
    Agent, CallRecord, Direction, Disposition, Instant, Provider, Sentence, Transcript, TranscriptStatus,
};
use huadan_server::{AppState, SyncRunner};
use huadan_store::{
    Batch, CallFilter, CallPage, CallQuery, DynStore, GroupBy, SourceStatus, StatsRow, Store, StoreError, SyncState,
    WriteStats,
};
use huadan_sync::{SourceReport, SyncReport};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tower::ServiceExt;

pub const ADMIN: &str = "admin-secret-0123456789";
pub const VIEWER: &str = "viewer-secret-9876543210";

/// The configured sources: three enabled ones holding the seed, one disabled.
pub const CONFIG: &str = r#"
[server]
listen = "127.0.0.1:0"
api_tokens = ["admin-secret-0123456789", { token = "viewer-secret-9876543210", role = "viewer" }]

[sync]
interval_seconds = 3600

[[sources]]
name = "hq"
kind = "wecom"
endpoint = "http://127.0.0.1:9"
corp_id = "ww0"
corp_secret = "s"

[[sources]]
name = "ccc"
kind = "tencent_ccc"
endpoint = "http://127.0.0.1:9"
secret_id = "i"
secret_key = "k"
region = "ap-guangzhou"
sdk_app_id = 1400000000

[[sources]]
name = "ali"
kind = "aliyun_ccc"
endpoint = "http://127.0.0.1:9"
access_key_id = "i"
access_key_secret = "s"
instance_id = "ccc-test"

[[sources]]
name = "off"
kind = "tanma"
endpoint = "http://127.0.0.1:9"
enabled = false
app_id = "a"
app_key = "k"
app_secret = "s"
"#;

pub fn config() -> Config {
    Config::from_toml_str(CONFIG, &|_| None).unwrap()
}

/// `2024-03-01T00:00:00Z` + `secs`.
pub fn at(secs: i64) -> Instant {
    Instant::from_second(1_709_251_200 + secs).unwrap()
}

pub const AGENTS: [&str; 5] = ["张三", "李四", "王五", "赵六", "钱七"];
pub const SOURCES: [(&str, Provider); 3] =
    [("hq", Provider::Wecom), ("ccc", Provider::TencentCcc), ("ali", Provider::AliyunCcc)];

/// The seed: 90 records over three sources, every filterable field varied; records 10
/// and 11 share a start second (a cursor tie); one id needs percent-encoding.
pub fn seed_records() -> Vec<CallRecord> {
    (0..90u32)
        .map(|i| {
            let (source, provider) = SOURCES[(i % 3) as usize];
            let secs = if i == 11 { 10 * 2220 } else { i64::from(i) * 2220 };
            let pid = if i == 42 { "x/y:z 42".to_string() } else { format!("c{i:04}") };
            let mut r = CallRecord::new(source, provider, &pid, at(secs));
            r.direction = [Direction::Inbound, Direction::Outbound, Direction::Internal][(i / 3 % 3) as usize];
            r.disposition = match i % 4 {
                0 => Disposition::NoAnswer,
                1 if i % 8 == 1 => Disposition::Busy,
                _ => Disposition::Answered,
            };
            r.disposition_detail = format!("vendor-{}", i % 4);
            r.talk_seconds =
                if r.disposition == Disposition::Answered { Some(i64::from(10 + (i * 37) % 300)) } else { Some(0) };
            r.caller.number = Some(format!("138{:08}", 10_000_000 + i));
            r.callee.number = Some(format!("0216123{i:04}"));
            let a = (i % 5) as usize;
            r.agent = Some(Agent {
                id: Some(format!("a{a}")),
                name: Some(AGENTS[a].to_string()),
                phone: Some(format!("1390000{i:04}")),
                ..Agent::default()
            });
            if i % 6 == 0 {
                let second = if i % 12 == 0 { "我要退款，谢谢" } else { "查询订单状态" };
                r.transcript = Some(Transcript {
                    status: TranscriptStatus::Done,
                    sentences: vec![
                        Sentence {
                            begin_ms: 0,
                            end_ms: 900,
                            channel: Some("0".into()),
                            text: "您好，这里是客服".into(),
                        },
                        Sentence { begin_ms: 1000, end_ms: 1900, channel: Some("1".into()), text: second.into() },
                    ],
                });
            }
            if i % 7 == 0 {
                r.remark = Some(format!("客户说\"好的\", 明天\n再打 #{i}"));
            }
            r.raw = serde_json::json!({ "phone": r.caller.number, "i": i }).into();
            r
        })
        .collect()
}

/// A SQLite store in a temp dir holding [`seed_records`], with a sync state per source.
pub async fn seeded_store() -> (tempfile::TempDir, DynStore) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("api.db").display());
    let store = huadan_store::open(&url).await.unwrap();
    let all = seed_records();
    for (source, _) in SOURCES {
        let records: Vec<_> = all.iter().filter(|r| r.source == source).cloned().collect();
        let state = SyncState {
            source: source.into(),
            checkpoint: Some(at(200_000)),
            backfill_start: Some(at(0)),
            last_success: Some(at(200_100)),
            last_run: Some(at(200_100)),
            last_error: if source == "ali" { Some("vendor said 500".into()) } else { None },
            ..SyncState::default()
        };
        store.commit(Batch { source: source.into(), records, state: Some(state) }).await.unwrap();
    }
    (dir, store)
}

/// A sync runner that blocks each run until [`GateRunner::release`] and counts runs.
pub struct GateRunner {
    pub started: AtomicUsize,
    pub finished: AtomicUsize,
    pub concurrent: AtomicUsize,
    pub max_concurrent: AtomicUsize,
    pub run_for: Option<Duration>,
    /// Whether a gated run ends early when told to stop (a well-behaved engine).
    pub honour_stop: bool,
    gate: tokio::sync::Semaphore,
}

impl Default for GateRunner {
    fn default() -> Self {
        GateRunner {
            started: AtomicUsize::new(0),
            finished: AtomicUsize::new(0),
            concurrent: AtomicUsize::new(0),
            max_concurrent: AtomicUsize::new(0),
            run_for: None,
            honour_stop: false,
            gate: tokio::sync::Semaphore::new(0),
        }
    }
}

/// [`GateRunner`] as the scheduler's runner.
pub struct Gate(pub Arc<GateRunner>);

impl GateRunner {
    /// Runs wait for `release`.
    pub fn gated() -> Arc<Self> {
        Arc::new(GateRunner::default())
    }
    /// Runs take `d` each.
    pub fn timed(d: Duration) -> Arc<Self> {
        Arc::new(GateRunner { run_for: Some(d), ..GateRunner::default() })
    }
    /// Runs wait for `release` or for the scheduler's stop signal.
    pub fn stoppable() -> Arc<Self> {
        Arc::new(GateRunner { honour_stop: true, ..GateRunner::default() })
    }
    /// Let `n` waiting runs finish.
    pub fn release(&self, n: usize) {
        self.gate.add_permits(n);
    }
}

impl SyncRunner for Gate {
    fn run_source(
        &self,
        source: String,
        mut stop: tokio::sync::watch::Receiver<bool>,
    ) -> BoxFuture<'static, SyncReport> {
        let me = self.0.clone();
        Box::pin(async move {
            me.started.fetch_add(1, Ordering::SeqCst);
            let now = me.concurrent.fetch_add(1, Ordering::SeqCst) + 1;
            me.max_concurrent.fetch_max(now, Ordering::SeqCst);
            match me.run_for {
                Some(d) => tokio::time::sleep(d).await,
                None if me.honour_stop => {
                    tokio::select! {
                        p = me.gate.acquire() => p.unwrap().forget(),
                        _ = stop.wait_for(|s| *s) => {}
                    }
                }
                None => me.gate.acquire().await.unwrap().forget(),
            }
            me.concurrent.fetch_sub(1, Ordering::SeqCst);
            me.finished.fetch_add(1, Ordering::SeqCst);
            SyncReport {
                sources: vec![SourceReport {
                    source,
                    ok: true,
                    fetched: 5,
                    inserted: 3,
                    updated: 1,
                    requests: 2,
                    elapsed: Duration::from_millis(100),
                    ..SourceReport::default()
                }],
            }
        })
    }
}

/// The router over a seeded store with a gated runner.
pub async fn app() -> (tempfile::TempDir, DynStore, Arc<GateRunner>, AppState, Router) {
    let (dir, store) = seeded_store().await;
    let runner = GateRunner::gated();
    let state = AppState::with_runner(&config(), store.clone(), Arc::new(Gate(runner.clone()))).unwrap();
    let router = huadan_server::router(state.clone());
    (dir, store, runner, state, router)
}

/// An answer.
pub struct Answer {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }
    pub fn text(&self) -> String {
        String::from_utf8(self.body.clone()).unwrap()
    }
    /// The error code of a JSON error body.
    pub fn code(&self) -> String {
        self.json()["error"]["code"].as_str().unwrap().to_string()
    }
    pub fn message(&self) -> String {
        self.json()["error"]["message"].as_str().unwrap().to_string()
    }
}

/// One request through the router.
pub async fn call(app: &Router, method: &str, uri: &str, token: Option<&str>) -> Answer {
    let mut req = Request::builder().method(method).uri(uri);
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    let resp = app.clone().oneshot(req.body(Body::empty()).unwrap()).await.unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = axum::body::to_bytes(resp.into_body(), usize::MAX).await.unwrap().to_vec();
    Answer { status, headers, body }
}

/// GET as admin.
pub async fn get(app: &Router, uri: &str) -> Answer {
    call(app, "GET", uri, Some(ADMIN)).await
}

/// Percent-encode a query value.
pub fn enc(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Records of the seed, newest first (started_at desc, then id desc).
pub fn seed_newest_first() -> Vec<CallRecord> {
    let mut v = seed_records();
    v.sort_by(|a, b| b.started_at.cmp(&a.started_at).then_with(|| b.id.cmp(&a.id)));
    v
}

/// Compare ignoring `synced_at` (set by the store).
pub fn same_record(a: &CallRecord, b: &CallRecord) -> bool {
    let (mut a, mut b) = (a.clone(), b.clone());
    a.synced_at = None;
    b.synced_at = None;
    a == b
}

/// A store whose every read fails, with a detail that must not reach clients.
pub struct BrokenStore {
    pub export_after: usize,
}

fn broken() -> StoreError {
    StoreError::Db("disk on fire at /secret/path".into())
}

#[async_trait::async_trait]
impl Store for BrokenStore {
    async fn commit(&self, _: Batch) -> Result<WriteStats, StoreError> {
        Err(broken())
    }
    async fn load_state(&self, _: &str) -> Result<Option<SyncState>, StoreError> {
        Err(broken())
    }
    async fn sources(&self) -> Result<Vec<SourceStatus>, StoreError> {
        Err(broken())
    }
    async fn calls(&self, _: &CallQuery) -> Result<CallPage, StoreError> {
        Err(broken())
    }
    async fn call(&self, _: &str) -> Result<Option<CallRecord>, StoreError> {
        Err(broken())
    }
    async fn count(&self, _: &CallFilter) -> Result<u64, StoreError> {
        Err(broken())
    }
    async fn stats(&self, _: &CallFilter, _: GroupBy, _: &jiff::tz::TimeZone) -> Result<Vec<StatsRow>, StoreError> {
        Err(broken())
    }
    fn export(&self, _: CallFilter) -> BoxStream<'static, Result<CallRecord, StoreError>> {
        let good = seed_records().into_iter().take(self.export_after).map(Ok);
        Box::pin(stream::iter(good.chain(std::iter::once(Err(broken())))))
    }
}
