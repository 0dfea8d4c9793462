//! Shared test plumbing: serve the fake (or a tiny canned server) on 127.0.0.1:0, build a
//! client for it, and drive it through the `Vendor` trait with a small loop of our own.
#![allow(dead_code)]

use huadan_aliyun_ccc::{AliyunCcc, auth, sandbox, wire};
use huadan_config::{Config, SourceConfig};
use huadan_fakekit::{Clock, Dataset, DatasetSpec, FakeContext, Faults};
use huadan_model::{CallRecord, Instant, Provider};
use huadan_vendor::{ErrorClass, FetchError, Vendor, Window};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

/// A running fake.
pub struct Served {
    pub addr: SocketAddr,
    pub ctx: FakeContext,
    pub access_key_id: String,
    pub secret: String,
}

impl Served {
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }
}

/// Options for [`serve`].
#[derive(Default)]
pub struct Opts {
    pub options: Vec<(&'static str, &'static str)>,
    pub limits: bool,
    pub faults: Option<Faults>,
}

pub fn spec(seed: u64, days: u32, calls_per_day: u32) -> DatasetSpec {
    DatasetSpec { seed, days, calls_per_day, late: 0.0, update: 0.0 }
}

pub fn t(s: &str) -> Instant {
    s.parse().unwrap()
}

/// Serve the fake for `spec` with the given clock.
pub async fn serve(spec: DatasetSpec, clock: Clock, opts: Opts) -> Served {
    let dataset = Dataset::new(spec, clock);
    let mut ctx = FakeContext::new(dataset);
    ctx.limits = opts.limits;
    if let Some(f) = opts.faults {
        ctx.faults = std::sync::Arc::new(huadan_fakekit::FaultInjector::new(f, spec.seed));
    }
    for (k, v) in opts.options {
        ctx.options.insert(k.to_string(), v.to_string());
    }
    let fake = huadan_aliyun_ccc::fake(ctx.clone());
    let access_key_id = fake.credentials["access_key_id"].as_str().unwrap().to_string();
    let secret = fake.credentials["access_key_secret"].as_str().unwrap().to_string();
    assert_eq!(fake.credentials["instance_id"], sandbox::INSTANCE_ID);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, fake.router).await;
    });
    Served { addr, ctx, access_key_id, secret }
}

/// A source config for an endpoint, with extra raw TOML lines.
pub fn source(endpoint: &str, ak: &str, secret: &str, instance: &str, extra: &str) -> SourceConfig {
    let text = format!(
        "[[sources]]\nname = \"aliyun-ccc\"\nkind = \"aliyun_ccc\"\nendpoint = \"{endpoint}\"\naccess_key_id = \"{ak}\"\naccess_key_secret = \"{secret}\"\ninstance_id = \"{instance}\"\ntimeout_seconds = 10\n{extra}\n"
    );
    Config::from_toml_str(&text, &|_| None).unwrap().sources.remove(0)
}

/// A client of the served fake.
pub fn client(s: &Served, extra: &str) -> AliyunCcc {
    AliyunCcc::from_source(&source(&s.endpoint(), &s.access_key_id, &s.secret, sandbox::INSTANCE_ID, extra)).unwrap()
}

/// Fetch one page, retrying Retry-class errors a bounded number of times.
pub async fn fetch_retrying(
    v: &dyn Vendor,
    w: &Window,
    c: Option<&huadan_vendor::Cursor>,
) -> Result<huadan_vendor::Page, FetchError> {
    let mut last = None;
    for _ in 0..5 {
        match v.fetch(w, c).await {
            Ok(p) => return Ok(p),
            Err(e) if e.class() == ErrorClass::Retry => {
                last = Some(e);
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap())
}

/// The client's own loop over one window: fetch until `next` is `None`.
pub async fn run_window(v: &dyn Vendor, w: &Window) -> Result<Vec<CallRecord>, FetchError> {
    let mut out = Vec::new();
    let mut cursor = None;
    for _ in 0..250 {
        let page = fetch_retrying(v, w, cursor.as_ref()).await?;
        out.extend(page.records);
        match page.next {
            Some(c) => cursor = Some(c),
            None => return Ok(out),
        }
    }
    panic!("window {w} did not finish within 250 pages");
}

/// What the engine will do: fetch page 1; if its total exceeds the vendor's
/// `max_records_per_query`, bisect the window and recurse; else page to the end.
pub async fn sync_bisecting(v: &dyn Vendor, w: Window) -> Result<(Vec<CallRecord>, usize), FetchError> {
    let max = v.limits().max_records_per_query.unwrap_or(u64::MAX);
    let mut stack = vec![w];
    let mut out = Vec::new();
    let mut windows = 0;
    while let Some(w) = stack.pop() {
        let first = fetch_retrying(v, &w, None).await?;
        if first.total.is_some_and(|t| t > max)
            && let Some((a, b)) = w.bisect(v.limits().min_span)
        {
            stack.push(b);
            stack.push(a);
            continue;
        }
        windows += 1;
        out.extend(first.records);
        let mut cursor = first.next;
        let mut guard = 0;
        while let Some(c) = cursor {
            guard += 1;
            assert!(guard < 250, "window {w} did not finish");
            let p = fetch_retrying(v, &w, Some(&c)).await?;
            out.extend(p.records);
            cursor = p.next;
        }
    }
    Ok((out, windows))
}

/// The ContactIds the fake holds for `[start, end]` (EndTime is inclusive).
pub fn expected_ids(s: &Served, w: &Window) -> std::collections::BTreeSet<String> {
    let end = w.end + jiff::SignedDuration::from_millis(1);
    s.ctx.dataset.calls_between(Provider::AliyunCcc, w.start, end).map(|c| sandbox::contact_id(&c)).collect()
}

pub fn ids(records: &[CallRecord]) -> std::collections::BTreeSet<String> {
    records.iter().map(|r| r.provider_call_id.clone()).collect()
}

/// A v1-signed GET of the list API with these parameters (plus the common ones); the
/// answer's status and JSON body.
pub async fn raw_v1(s: &Served, params: &[(&str, String)], nonce: &str, timestamp: &str) -> (u16, serde_json::Value) {
    let mut q: BTreeMap<String, String> = params.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
    for (k, v) in [
        ("Action", wire::ACTION),
        ("Version", wire::VERSION),
        ("Format", "JSON"),
        ("AccessKeyId", s.access_key_id.as_str()),
        ("SignatureMethod", "HMAC-SHA1"),
        ("SignatureVersion", "1.0"),
        ("SignatureNonce", nonce),
        ("Timestamp", timestamp),
    ] {
        q.entry(k.to_string()).or_insert_with(|| v.to_string());
    }
    let sig = auth::sign_v1("GET", &q, &s.secret);
    q.insert("Signature".into(), sig);
    let url = format!("{}/?{}", s.endpoint(), auth::canonical_query(&q));
    let resp = reqwest::get(url).await.unwrap();
    let status = resp.status().as_u16();
    let body: serde_json::Value = resp.json().await.unwrap();
    (status, body)
}

pub fn now_stamp() -> String {
    Instant::now().strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

pub fn nonce() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// The list parameters of a window.
pub fn window_params(w: &Window, page: u32, size: u32) -> Vec<(&'static str, String)> {
    vec![
        ("InstanceId", sandbox::INSTANCE_ID.to_string()),
        ("PageNumber", page.to_string()),
        ("PageSize", size.to_string()),
        ("StartTime", w.start.as_millisecond().to_string()),
        ("EndTime", w.end.as_millisecond().to_string()),
    ]
}
