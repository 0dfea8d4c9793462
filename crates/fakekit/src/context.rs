//! What a vendor fake is built from ([`FakeContext`]) and what it returns ([`Fake`]).

use crate::{Dataset, FaultInjector};
use parking_lot::Mutex;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Named counters a fake keeps (`requests`, `tokens_issued`, `rate_limited`,
/// `auth_failures`…), readable by tests and served by the sandbox at
/// `GET /_huadan/sandbox/stats`.
#[derive(Debug, Default)]
pub struct Counters(Mutex<BTreeMap<String, u64>>);

impl Counters {
    /// Add one to `name`.
    pub fn incr(&self, name: &str) {
        self.add(name, 1);
    }

    /// Add `n` to `name`.
    pub fn add(&self, name: &str, n: u64) {
        *self.0.lock().entry(name.to_string()).or_insert(0) += n;
    }

    /// The value of `name` (0 if never counted).
    pub fn get(&self, name: &str) -> u64 {
        self.0.lock().get(name).copied().unwrap_or(0)
    }

    /// All counters.
    pub fn snapshot(&self) -> BTreeMap<String, u64> {
        self.0.lock().clone()
    }
}

/// Everything a vendor fake needs; cheap to clone.
#[derive(Debug, Clone)]
pub struct FakeContext {
    /// The seeded dataset (with its clock).
    pub dataset: Dataset,
    /// Request-level fault injection.
    pub faults: Arc<FaultInjector>,
    /// Whether quotas are enforced (`--no-limits` turns them off).
    pub limits: bool,
    /// What the fake did.
    pub counters: Arc<Counters>,
    /// How long a `timeout` fault stalls before answering 504 (must exceed the
    /// client's request timeout to be seen as one; default 35 s).
    pub stall: std::time::Duration,
    /// Vendor-specific switches (`string_numbers = "true"` for Aliyun…), from
    /// `--option vendor.key=value`.
    pub options: BTreeMap<String, String>,
    /// This fake's own base URL (`http://127.0.0.1:9103`) when it runs in the sandbox:
    /// recording links then point at the sandbox's audio route (see
    /// [`FakeContext::recording_url`]) instead of the vendor's real storage host.
    pub public_base: Option<String>,
}

/// The sandbox's audio route: `GET {public_base}/_huadan/sandbox/recordings/{key}`.
pub const SANDBOX_RECORDINGS_PATH: &str = "/_huadan/sandbox/recordings";

impl FakeContext {
    /// A context with no faults, limits on, and the given dataset.
    pub fn new(dataset: Dataset) -> Self {
        let seed = dataset.spec().seed;
        FakeContext {
            dataset,
            faults: Arc::new(FaultInjector::new(crate::Faults::none(), seed)),
            limits: true,
            counters: Arc::new(Counters::default()),
            stall: std::time::Duration::from_secs(35),
            options: BTreeMap::new(),
            public_base: None,
        }
    }

    /// The recording link a fake hands out: `vendor_url` unchanged outside the sandbox;
    /// in the sandbox, the same file name under this fake's own audio route, with the
    /// link's expiry (unix seconds) in the query so that the route can refuse it later.
    pub fn recording_url(&self, vendor_url: &str, expires_at: Option<jiff::Timestamp>) -> String {
        let Some(base) = &self.public_base else { return vendor_url.to_string() };
        let path = vendor_url.split(['?', '#']).next().unwrap_or(vendor_url);
        let path = path.split_once("://").map_or(path, |(_, rest)| rest);
        let key: String = path
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') { c } else { '_' })
            .collect();
        match expires_at {
            Some(t) => format!("{base}{SANDBOX_RECORDINGS_PATH}/{key}?expires={}", t.as_second()),
            None => format!("{base}{SANDBOX_RECORDINGS_PATH}/{key}"),
        }
    }

    /// Roll the vendor-neutral request faults: `http500` answers an HTML error page
    /// with status 500 (as a gateway would); `timeout` stalls for [`FakeContext::stall`]
    /// and then answers 504. `None` means: serve the request normally. Vendors roll
    /// `ratelimit` and `token_expiry` themselves, in their own error shapes.
    pub async fn generic_fault(&self) -> Option<axum::response::Response> {
        use crate::FaultKind;
        use axum::response::IntoResponse;
        if self.faults.roll(FaultKind::Timeout) {
            self.counters.incr("fault_timeout");
            tokio::time::sleep(self.stall).await;
            return Some((axum::http::StatusCode::GATEWAY_TIMEOUT, "upstream timed out").into_response());
        }
        if self.faults.roll(FaultKind::Http500) {
            self.counters.incr("fault_http500");
            let page = "<html><head><title>500 Internal Server Error</title></head><body><center><h1>500 Internal Server Error</h1></center><hr><center>nginx</center></body></html>";
            return Some(
                (
                    axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                    [(axum::http::header::CONTENT_TYPE, "text/html")],
                    page,
                )
                    .into_response(),
            );
        }
        None
    }

    /// A vendor-specific switch, parsed as a boolean (`true`/`1`/`yes`).
    pub fn flag(&self, key: &str) -> bool {
        self.options.get(key).is_some_and(|v| matches!(v.as_str(), "true" | "1" | "yes"))
    }
}

/// A running vendor fake: its HTTP routes (rooted at `/`, as the vendor's own host is)
/// and the credentials a client must use, as the JSON object printed on the sandbox's
/// start line (without `endpoint`, which the sandbox adds). The same object's keys are
/// the source's settings in a `huadan.toml`.
pub struct Fake {
    /// The vendor's HTTP API.
    pub router: axum::Router,
    /// `{"corp_id": …, "corp_secret": …}` etc.
    pub credentials: serde_json::Map<String, serde_json::Value>,
}

#[cfg(test)]
mod recording_url_tests {
    use super::*;
    use crate::{Clock, DatasetSpec};

    #[test]
    fn recording_url_points_at_the_sandbox_only_when_public_base_is_set() {
        let ds = Dataset::new(DatasetSpec::default(), Clock::fixed("2026-11-20T00:00:00Z".parse().unwrap()));
        let mut ctx = FakeContext::new(ds);
        let vendor = "https://ccc-record-1.cos.ap-guangzhou.myqcloud.com/1/s-0.mp3?sign=x";
        assert_eq!(ctx.recording_url(vendor, None), vendor);
        ctx.public_base = Some("http://127.0.0.1:9101".into());
        let exp: jiff::Timestamp = "2026-11-27T00:00:00Z".parse().unwrap();
        assert_eq!(
            ctx.recording_url(vendor, Some(exp)),
            format!(
                "http://127.0.0.1:9101/_huadan/sandbox/recordings/ccc-record-1.cos.ap-guangzhou.myqcloud.com_1_s-0.mp3?expires={}",
                exp.as_second()
            )
        );
    }
}
