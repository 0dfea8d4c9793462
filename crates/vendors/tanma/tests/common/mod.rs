//! Shared test helpers: serve a router on 127.0.0.1:0, build a client for the fake,
//! and a tiny driver loop over the `Vendor` trait with bounded retries.
#![allow(dead_code)]

use huadan_config::Secret;
use huadan_fakekit::{Clock, Dataset, DatasetSpec, FakeContext, Faults};
use huadan_model::{CallRecord, Instant};
use huadan_tanma::TanmaClient;
use huadan_tanma::client::documented_limits;
use huadan_tanma::sandbox::{Credentials, Generator};
use huadan_vendor::http::Http;
use huadan_vendor::{Cursor, ErrorClass, FetchError, Page, Vendor, Window};
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

/// Serve `router` on an ephemeral loopback port; returns `http://127.0.0.1:PORT`.
pub async fn serve(router: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    format!("http://{addr}")
}

/// A fixed "now" for deterministic tests: a Tuesday, 14:00 Beijing.
pub fn fixed_now() -> Instant {
    "2025-03-25T06:00:00Z".parse().unwrap()
}

/// A context with a fixed clock and no quota.
pub fn context(seed: u64, days: u32, calls_per_day: u32) -> FakeContext {
    let spec = DatasetSpec { seed, days, calls_per_day, late: 0.0, update: 0.0 };
    let mut ctx = FakeContext::new(Dataset::new(spec, Clock::fixed(fixed_now())));
    ctx.limits = false;
    ctx
}

/// Same, with faults injected.
pub fn context_with_faults(seed: u64, days: u32, calls_per_day: u32, faults: Faults) -> FakeContext {
    let mut ctx = context(seed, days, calls_per_day);
    ctx.faults = Arc::new(huadan_fakekit::FaultInjector::new(faults, seed));
    ctx
}

/// Start the fake of `ctx`; returns the endpoint and the sandbox's credentials.
pub async fn start(ctx: &FakeContext) -> (String, Credentials) {
    let fake = huadan_tanma::fake(ctx.clone());
    let creds = Credentials::for_seed(ctx.dataset.spec().seed);
    assert_eq!(fake.credentials["app_secret"], creds.app_secret.as_str());
    (serve(fake.router).await, creds)
}

/// A client for `endpoint`.
pub fn client(endpoint: &str, creds: &Credentials) -> TanmaClient {
    client_with_secret(endpoint, creds, &creds.app_secret)
}

/// A client for `endpoint` signing with `secret`.
pub fn client_with_secret(endpoint: &str, creds: &Credentials, secret: &str) -> TanmaClient {
    TanmaClient::new(
        "tm",
        endpoint,
        &creds.app_id,
        Secret::new(creds.app_key.clone()),
        Secret::new(secret),
        Http::new(Duration::from_secs(10)),
        documented_limits(),
    )
}

/// What a driver run saw.
#[derive(Debug, Default)]
pub struct Run {
    /// Every record, in order received (duplicates kept).
    pub records: Vec<CallRecord>,
    /// Pages fetched successfully.
    pub pages: usize,
    /// Errors retried.
    pub retried: Vec<FetchError>,
}

impl Run {
    /// Distinct provider ids.
    pub fn ids(&self) -> BTreeSet<String> {
        self.records.iter().map(|r| r.provider_call_id.clone()).collect()
    }
}

/// Fetch one page, retrying retryable errors (bounded). A `RefreshAuth` is retried once
/// after `reset_auth`; `Fatal` is returned.
pub async fn fetch_retrying(v: &dyn Vendor, w: &Window, c: Option<&Cursor>, run: &mut Run) -> Result<Page, FetchError> {
    let mut refreshed = false;
    for _ in 0..40 {
        match v.fetch(w, c).await {
            Ok(p) => return Ok(p),
            Err(e) => match e.class() {
                ErrorClass::Retry => run.retried.push(e),
                ErrorClass::RateLimited { .. } => {
                    run.retried.push(e);
                    tokio::time::sleep(Duration::from_millis(120)).await;
                }
                ErrorClass::RefreshAuth if !refreshed => {
                    refreshed = true;
                    v.reset_auth().await;
                    run.retried.push(e);
                }
                _ => return Err(e),
            },
        }
        if run.retried.len() > 200 {
            break;
        }
    }
    Err(FetchError::Transport("gave up after bounded retries".into()))
}

/// Plan `range` with the vendor and fetch every page of every window.
pub async fn sync(v: &dyn Vendor, range: Window, now: Instant) -> Result<Run, FetchError> {
    let mut run = Run::default();
    for w in v.plan(range, now).expect("plan") {
        let mut cursor: Option<Cursor> = None;
        for _ in 0..10_000 {
            let page = fetch_retrying(v, &w, cursor.as_ref(), &mut run).await?;
            run.pages += 1;
            run.records.extend(page.records);
            match page.next {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
    }
    Ok(run)
}

/// The ids the dataset holds with creation time in `[start, end)`.
pub fn expected_ids(ctx: &FakeContext, start: Instant, end: Instant) -> BTreeSet<String> {
    let g = Generator::new(ctx);
    ctx.dataset.calls_between(huadan_model::Provider::Tanma, start, end).map(|s| g.id(&s)).collect()
}

/// Assert each record appears exactly once.
pub fn assert_no_duplicates(run: &Run) {
    assert_eq!(run.ids().len(), run.records.len(), "a record was received twice");
}
