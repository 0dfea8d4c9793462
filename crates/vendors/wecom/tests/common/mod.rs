//! Test harness: the fake served on 127.0.0.1:0, a client built from a `huadan.toml`
//! source, and a small sync loop over the `Vendor` trait (plan → fetch until done, a
//! bounded number of retries for retryable errors, one token refresh on RefreshAuth).
#![allow(dead_code)]

use huadan_fakekit::{Clock, Counters, Dataset, DatasetSpec, FakeContext, FaultInjector, Faults};
use huadan_model::{CallRecord, Instant};
use huadan_vendor::{Cursor, ErrorClass, FetchError, Vendor, Window};
use huadan_wecom::WecomClient;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

/// The fixed "now" of most tests.
pub const NOW: &str = "2024-06-15T04:00:00Z";

/// A running fake.
pub struct Served {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// What the fake counted.
    pub counters: Arc<Counters>,
    /// The dataset it serves.
    pub dataset: Dataset,
    /// Its clock.
    pub clock: Clock,
    /// `corp_id`, `corp_secret`.
    pub corp_id: String,
    /// The secret.
    pub corp_secret: String,
}

/// Options for [`serve`].
pub struct Opts {
    pub days: u32,
    pub calls_per_day: u32,
    pub faults: Faults,
    pub update: f64,
    pub options: Vec<(&'static str, String)>,
    pub limits: bool,
}

impl Default for Opts {
    fn default() -> Self {
        Opts { days: 10, calls_per_day: 200, faults: Faults::none(), update: 0.0, options: Vec::new(), limits: true }
    }
}

/// Serve an axum router on 127.0.0.1:0; returns its base URL.
pub async fn serve_router(router: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    format!("http://{addr}")
}

/// Serve the WeCom fake with a fixed clock at [`NOW`].
pub async fn serve(opts: Opts) -> Served {
    let clock = Clock::fixed(NOW.parse().unwrap());
    let spec =
        DatasetSpec { seed: 7, days: opts.days, calls_per_day: opts.calls_per_day, late: 0.0, update: opts.update };
    let dataset = Dataset::new(spec, clock.clone());
    let mut ctx = FakeContext::new(dataset.clone());
    ctx.faults = Arc::new(FaultInjector::new(opts.faults, 99));
    ctx.limits = opts.limits;
    ctx.stall = Duration::from_millis(300);
    ctx.options = opts.options.into_iter().map(|(k, v)| (k.to_string(), v)).collect::<BTreeMap<_, _>>();
    let counters = ctx.counters.clone();
    let fake = huadan_wecom::fake(ctx);
    let corp_id = fake.credentials["corp_id"].as_str().unwrap().to_string();
    let corp_secret = fake.credentials["corp_secret"].as_str().unwrap().to_string();
    let url = serve_router(fake.router).await;
    Served { url, counters, dataset, clock, corp_id, corp_secret }
}

/// A client for `url` built from a config source, as `huadan` builds it.
pub fn client_for(url: &str, corp_id: &str, corp_secret: &str) -> WecomClient {
    let toml = format!(
        "[[sources]]\nname = \"wecom-hq\"\nkind = \"wecom\"\nendpoint = \"{url}\"\ncorp_id = \"{corp_id}\"\ncorp_secret = \"{corp_secret}\"\ntimeout_seconds = 5\n"
    );
    let cfg = huadan_config::Config::from_toml_str(&toml, &|_| None).unwrap();
    huadan_wecom::build_client(&cfg.sources[0]).unwrap()
}

impl Served {
    /// A client with the right credentials.
    pub fn client(&self) -> WecomClient {
        client_for(&self.url, &self.corp_id, &self.corp_secret)
    }

    /// The fake's now.
    pub fn now(&self) -> Instant {
        self.clock.now()
    }

    /// How many calls the dataset holds in `[start, end)`.
    pub fn expected(&self, w: Window) -> u64 {
        self.dataset.count_between(huadan_wecom::PROVIDER, w.start, w.end)
    }

    /// A counter.
    pub fn count(&self, name: &str) -> u64 {
        self.counters.get(name)
    }
}

/// What a sync loop saw.
#[derive(Debug, Default)]
pub struct Synced {
    pub records: Vec<CallRecord>,
    pub requests: u64,
    pub retries: u64,
    pub refreshes: u64,
}

/// Fetch one window to the end, retrying retryable errors (at most `max_retries` in
/// all) and refreshing the token once per RefreshAuth.
pub async fn fetch_window(v: &dyn Vendor, w: &Window, out: &mut Synced, max_retries: u64) -> Result<(), FetchError> {
    let mut cursor: Option<Cursor> = None;
    let mut refreshed = false;
    for _ in 0..100_000 {
        out.requests += 1;
        match v.fetch(w, cursor.as_ref()).await {
            Ok(page) => {
                refreshed = false;
                out.records.extend(page.records);
                match page.next {
                    Some(c) => cursor = Some(c),
                    None => return Ok(()),
                }
            }
            Err(e) => match e.class() {
                ErrorClass::RefreshAuth if !refreshed => {
                    refreshed = true;
                    out.refreshes += 1;
                    v.reset_auth().await;
                }
                ErrorClass::Retry | ErrorClass::RateLimited { .. } if out.retries < max_retries => {
                    out.retries += 1;
                }
                _ => return Err(e),
            },
        }
    }
    panic!("fetch loop did not finish");
}

/// plan → fetch every window.
pub async fn sync(v: &dyn Vendor, range: Window, now: Instant, max_retries: u64) -> Result<Synced, FetchError> {
    let mut out = Synced::default();
    for w in v.plan(range, now).unwrap() {
        fetch_window(v, &w, &mut out, max_retries).await?;
    }
    Ok(out)
}

/// Asserts every record id is unique and returns how many there are.
pub fn assert_unique(records: &[CallRecord]) -> usize {
    let mut ids: Vec<&str> = records.iter().map(|r| r.id.as_str()).collect();
    ids.sort();
    let n = ids.len();
    ids.dedup();
    assert_eq!(ids.len(), n, "duplicate record ids");
    n
}

/// `[now - d, now)`.
pub fn last(now: Instant, d: jiff::SignedDuration) -> Window {
    Window::new(now - d, now)
}

/// A raw `get_dial_record` request as a naive client would send it (no token
/// handling beyond one gettoken): returns the JSON answer.
pub async fn raw_list(s: &Served, body: serde_json::Value) -> serde_json::Value {
    let http = reqwest::Client::new();
    let tok: serde_json::Value = http
        .get(format!("{}/cgi-bin/gettoken", s.url))
        .query(&[("corpid", s.corp_id.as_str()), ("corpsecret", s.corp_secret.as_str())])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = tok["access_token"].as_str().unwrap().to_string();
    http.post(format!("{}/cgi-bin/dial/get_dial_record", s.url))
        .query(&[("access_token", token.as_str())])
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}
