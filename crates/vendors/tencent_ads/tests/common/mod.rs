//! Shared test helpers: serve the fake (or any router) on 127.0.0.1:0, build a client,
//! drain windows through the `Vendor` trait with a small bounded retry loop.
#![allow(dead_code)]

use huadan_config::Secret;
use huadan_fakekit::{Clock, Dataset, DatasetSpec, FakeContext};
use huadan_model::{CallRecord, Instant, Provider};
use huadan_tencent_ads::client::{Client, documented_limits};
use huadan_vendor::http::Http;
use huadan_vendor::{Cursor, ErrorClass, FetchError, Vendor, Window};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

/// A running fake.
pub struct Running {
    pub endpoint: String,
    pub token: String,
    pub account_id: i64,
    pub ctx: FakeContext,
}

pub fn t(s: &str) -> Instant {
    s.parse().unwrap()
}

pub fn gmt8(s: &str) -> Instant {
    huadan_model::time::parse_gmt8(s).unwrap()
}

pub fn dataset(seed: u64, days: u32, calls_per_day: u32, now: &str) -> Dataset {
    let spec = DatasetSpec { seed, days, calls_per_day, late: 0.0, update: 0.0 };
    Dataset::new(spec, Clock::fixed(t(now)))
}

pub async fn serve_router(router: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    format!("http://{addr}")
}

pub async fn serve(ctx: FakeContext) -> Running {
    let fake = huadan_tencent_ads::fake(ctx.clone());
    let token = fake.credentials["access_token"].as_str().unwrap().to_string();
    let account_id = fake.credentials["account_id"].as_i64().unwrap();
    let endpoint = serve_router(fake.router).await;
    Running { endpoint, token, account_id, ctx }
}

pub fn context(ds: Dataset, options: &[(&str, &str)]) -> FakeContext {
    let mut ctx = FakeContext::new(ds);
    ctx.options = options.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<BTreeMap<_, _>>();
    ctx
}

impl Running {
    pub fn client(&self, page_size: u32) -> Client {
        self.client_with_token(&self.token.clone(), page_size)
    }

    pub fn client_with_token(&self, token: &str, page_size: u32) -> Client {
        let url: url::Url = self.endpoint.parse().unwrap();
        Client::new(
            "ads",
            &url,
            Secret::new(token),
            self.account_id,
            Http::new(Duration::from_secs(10)),
            documented_limits(),
        )
        .with_page_size(page_size)
    }

    /// The keys of the dataset calls in `[start, end)` (what the client must return).
    pub fn expected_keys(&self, start: Instant, end: Instant) -> BTreeSet<u64> {
        self.ctx.dataset.calls_between(Provider::TencentAds, start, end).map(|c| c.key).collect()
    }
}

/// The dataset key inside a fake `call_id` (`clouspstn_16-YYMMDD-{key:020}…`).
pub fn key_of(call_id: &str) -> u64 {
    call_id[20..40].parse().unwrap()
}

/// What draining produced.
#[derive(Debug, Default)]
pub struct Drained {
    pub records: Vec<CallRecord>,
    pub requests: u32,
    pub rate_limited: u32,
    pub waited: Duration,
    pub refreshed: u32,
}

impl Drained {
    pub fn keys(&self) -> Vec<u64> {
        self.records.iter().map(|r| key_of(&r.provider_call_id)).collect()
    }

    /// Keys, asserting none came twice.
    pub fn unique_keys(&self) -> BTreeSet<u64> {
        let keys = self.keys();
        let set: BTreeSet<u64> = keys.iter().copied().collect();
        assert_eq!(set.len(), keys.len(), "a record came twice");
        set
    }
}

/// plan → fetch until `next` is None, for every window; retry a classified Retry up to
/// 5 times, wait out a RateLimited (bounded), refresh auth once in a row (as the
/// engine does: a second RefreshAuth in a row is fatal); anything else is returned.
pub async fn drain(vendor: &dyn Vendor, range: Window) -> Result<Drained, FetchError> {
    let mut out = Drained::default();
    let windows = vendor.plan(range, range.end).expect("plan");
    for w in windows {
        let mut cursor: Option<Cursor> = None;
        let mut pages = 0;
        loop {
            pages += 1;
            assert!(pages < 5000, "runaway paging in {w}");
            let mut attempts = 0;
            let mut refreshed = false;
            let page = loop {
                out.requests += 1;
                match vendor.fetch(&w, cursor.as_ref()).await {
                    Ok(p) => break p,
                    Err(e) => {
                        attempts += 1;
                        assert!(attempts < 20, "gave up after {attempts} attempts: {e}");
                        match e.class() {
                            ErrorClass::Retry if attempts <= 5 => {}
                            ErrorClass::RefreshAuth if !refreshed => {
                                out.refreshed += 1;
                                refreshed = true;
                                vendor.reset_auth().await;
                                continue;
                            }
                            ErrorClass::RateLimited { retry_after } => {
                                out.rate_limited += 1;
                                let wait = retry_after.unwrap_or(Duration::from_secs(1));
                                assert!(wait <= Duration::from_secs(10), "test would wait {wait:?}");
                                tokio::time::sleep(wait).await;
                                out.waited += wait;
                            }
                            _ => return Err(e),
                        }
                    }
                }
            };
            out.records.extend(page.records);
            match page.next {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
    }
    Ok(out)
}

/// One raw list request, signed with a fresh nonce and the current time.
pub async fn raw_get(endpoint: &str, token: &str, params: &[(&str, String)]) -> serde_json::Value {
    raw_get_with(endpoint, token, jiff::Timestamp::now().as_second(), &huadan_tencent_ads::auth::new_nonce(), params)
        .await
}

pub async fn raw_get_with(
    endpoint: &str,
    token: &str,
    timestamp: i64,
    nonce: &str,
    params: &[(&str, String)],
) -> serde_json::Value {
    let body = raw_body(endpoint, token, timestamp, nonce, params).await;
    serde_json::from_slice(&body).unwrap()
}

pub async fn raw_body(endpoint: &str, token: &str, timestamp: i64, nonce: &str, params: &[(&str, String)]) -> Vec<u8> {
    let http = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap();
    http.get(format!("{endpoint}/v3.0/leads_call_records/get"))
        .query(&huadan_tencent_ads::auth::auth_query(token, timestamp, nonce))
        .query(params)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap()
        .to_vec()
}
