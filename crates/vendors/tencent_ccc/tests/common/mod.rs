//! Shared test plumbing: serve the fake on 127.0.0.1:0, build a client for it, drive
//! the client through the `Vendor` trait with a small bounded loop, and send hand-made
//! ("naive") signed requests.
#![allow(dead_code)]

use huadan_config::{Config, SourceConfig};
use huadan_fakekit::{Clock, Dataset, DatasetSpec, FakeContext};
use huadan_model::{CallRecord, Instant};
use huadan_tencent_ccc::{TencentCcc, auth, wire};
use huadan_vendor::{ErrorClass, FetchError, Vendor, Window};
use std::collections::BTreeMap;
use std::time::Duration;

/// A fake served on a loopback port.
pub struct Served {
    pub url: String,
    pub host: String,
    pub ctx: FakeContext,
    pub secret_id: String,
    pub secret_key: String,
    pub sdk_app_id: i64,
    pub clock: Clock,
}

pub fn t(s: &str) -> Instant {
    s.parse().unwrap()
}

/// A dataset with a fixed clock at `now`.
pub fn context(now: &str, days: u32, calls_per_day: u32, update: f64) -> FakeContext {
    let clock = Clock::fixed(t(now));
    let spec = DatasetSpec { seed: 20240615, days, calls_per_day, late: 0.0, update };
    FakeContext::new(Dataset::new(spec, clock))
}

pub async fn serve(ctx: FakeContext) -> Served {
    let fake = huadan_tencent_ccc::fake(ctx.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, fake.router).await;
    });
    let c = &fake.credentials;
    Served {
        url: format!("http://{addr}"),
        host: addr.to_string(),
        secret_id: c["secret_id"].as_str().unwrap().to_string(),
        secret_key: c["secret_key"].as_str().unwrap().to_string(),
        sdk_app_id: c["sdk_app_id"].as_i64().unwrap(),
        clock: ctx.dataset.clock().clone(),
        ctx,
    }
}

pub fn source_config(url: &str, secret_id: &str, secret_key: &str, sdk_app_id: i64) -> SourceConfig {
    let text = format!(
        "[[sources]]\nname = \"ccc\"\nkind = \"tencent_ccc\"\nendpoint = \"{url}\"\nsecret_id = \"{secret_id}\"\nsecret_key = \"{secret_key}\"\nregion = \"ap-guangzhou\"\nsdk_app_id = {sdk_app_id}\ntimeout_seconds = 5\n"
    );
    Config::from_toml_str(&text, &|_| None).unwrap().sources.remove(0)
}

impl Served {
    /// A client of this fake whose `X-TC-Timestamp` follows the fake's clock.
    pub fn client(&self) -> TencentCcc {
        let src = source_config(&self.url, &self.secret_id, &self.secret_key, self.sdk_app_id);
        let clock = self.clock.clone();
        TencentCcc::from_source(&src).unwrap().with_clock(move || clock.now().as_second())
    }

    pub fn now(&self) -> i64 {
        self.clock.now().as_second()
    }

    /// Every call the dataset holds in the closed second range `[s, e]`, as SessionIds
    /// are not known here: count only.
    pub fn expected_count(&self, w: &Window) -> u64 {
        self.ctx.dataset.count_between(huadan_tencent_ccc::PROVIDER, w.start, w.end)
    }

    /// Send a hand-made request: `body` signed with the given knobs.
    pub async fn naive(&self, body: &serde_json::Value, knobs: Knobs) -> (u16, String, serde_json::Value) {
        let payload = serde_json::to_vec(body).unwrap();
        let ts = knobs.timestamp.unwrap_or_else(|| self.now());
        let secret_id = knobs.secret_id.clone().unwrap_or_else(|| self.secret_id.clone());
        let secret_key = knobs.secret_key.clone().unwrap_or_else(|| self.secret_key.clone());
        let date = knobs.date.clone().unwrap_or_else(|| auth::credential_date(ts));
        let region = "ap-guangzhou";
        let mut signed: Vec<(&str, &str)> = vec![("content-type", "application/json"), ("host", &self.host)];
        if knobs.sign_region {
            signed.push(("x-tc-region", region));
        }
        if knobs.drop_host {
            signed.retain(|(k, _)| *k != "host");
        }
        let authz = auth::authorization_with_date(&secret_id, &secret_key, &date, "ccc", ts, &signed, &payload);
        let sent_region = knobs.send_region.clone().unwrap_or_else(|| region.to_string());
        let resp = reqwest::Client::new()
            .post(&self.url)
            .header("Content-Type", "application/json")
            .header("X-TC-Action", knobs.action.as_deref().unwrap_or(wire::ACTION))
            .header("X-TC-Version", knobs.version.as_deref().unwrap_or(wire::VERSION))
            .header("X-TC-Timestamp", ts.to_string())
            .header("X-TC-Region", sent_region)
            .header("Authorization", authz)
            .body(payload)
            .timeout(Duration::from_secs(10))
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        let ct = resp.headers().get("content-type").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
        let v: serde_json::Value = serde_json::from_slice(&resp.bytes().await.unwrap()).unwrap();
        (status, ct, v)
    }

    /// A valid body for `[s, e]`, page `n` of `size`.
    pub fn body(&self, s: i64, e: i64, n: i64, size: i64) -> serde_json::Value {
        serde_json::json!({"SdkAppId": self.sdk_app_id, "StartTimeStamp": s, "EndTimeStamp": e, "PageSize": size, "PageNumber": n})
    }
}

/// Ways a hand-made request departs from a correct one.
#[derive(Default, Clone)]
pub struct Knobs {
    pub timestamp: Option<i64>,
    pub secret_id: Option<String>,
    pub secret_key: Option<String>,
    pub date: Option<String>,
    pub sign_region: bool,
    pub send_region: Option<String>,
    pub drop_host: bool,
    pub action: Option<String>,
    pub version: Option<String>,
}

pub fn error_code(v: &serde_json::Value) -> Option<&str> {
    v["Response"]["Error"]["Code"].as_str()
}

/// Fetch every page of one window, retrying classified errors a bounded number of times.
pub async fn fetch_window(v: &dyn Vendor, w: &Window) -> Result<(Vec<CallRecord>, u64), FetchError> {
    let mut out = Vec::new();
    let mut cursor = None;
    let mut requests = 0u64;
    let mut failures_in_a_row = 0;
    let mut refreshed = false;
    for _ in 0..10_000 {
        requests += 1;
        match v.fetch(w, cursor.as_ref()).await {
            Ok(page) => {
                failures_in_a_row = 0;
                refreshed = false;
                out.extend(page.records);
                match page.next {
                    Some(c) => cursor = Some(c),
                    None => return Ok((out, requests)),
                }
            }
            Err(e) => {
                failures_in_a_row += 1;
                match e.class() {
                    ErrorClass::Retry if failures_in_a_row <= 8 => {}
                    ErrorClass::RateLimited { .. } if failures_in_a_row <= 50 => {
                        tokio::time::sleep(Duration::from_millis(60)).await;
                    }
                    ErrorClass::RefreshAuth if !refreshed => {
                        refreshed = true;
                        v.reset_auth().await;
                    }
                    _ => return Err(e),
                }
            }
        }
    }
    panic!("window {w} did not finish in 10000 requests");
}

/// Plan `range` and fetch every window; records keyed by id (a record at a window edge
/// may come twice: an upsert), plus how many raw records arrived.
pub async fn sync(v: &dyn Vendor, range: Window, now: Instant) -> (BTreeMap<String, CallRecord>, u64) {
    let windows = v.plan(range, now).unwrap();
    let mut all = BTreeMap::new();
    let mut raw = 0;
    for w in windows {
        let (records, _) = fetch_window(v, &w).await.unwrap();
        raw += records.len() as u64;
        for r in records {
            all.insert(r.id.clone(), r);
        }
    }
    (all, raw)
}
