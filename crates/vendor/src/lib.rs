//! The vendor seam: what every vendor room implements and the sync engine drives.
//!
//! A vendor knows its own signing, paging cursor, wire format, limits and error codes;
//! it knows nothing of checkpoints, retries or storage. The sync engine knows those and
//! nothing of any vendor's field names. The two meet in [`Vendor`]:
//!
//! * [`Vendor::plan`] splits a time range into windows the vendor can answer
//!   (its span limit, its oldest reachable instant, its calendar alignment);
//! * [`Vendor::fetch`] makes **exactly one** list request for one page of one window and
//!   returns normalised records plus the vendor's own cursor for the next page;
//! * errors come back as [`FetchError`] already classified ([`ErrorClass`]) by the
//!   vendor's own code table;
//! * [`VendorLimits`] tells the engine the quota, how many records one query can page
//!   through (for bisection), the default lookback and how long records may still change.
//!
//! Windows are half-open `[start, end)`. A vendor whose API takes closed ranges or whole
//! days converts at its edge; it must return every record whose query-time lies in the
//! window and may return extras (writes are upserts keyed by id, so extras are harmless).

mod error;
pub mod http;
mod window;

pub use error::{ErrorClass, FetchError, NormalizeError, PlanError, snippet};
pub use window::Window;

use async_trait::async_trait;
use huadan_model::{CallRecord, Instant, Provider};
use jiff::SignedDuration;
use std::sync::Arc;

/// The documented request rate of a vendor API (either or both bounds).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Quota {
    /// Requests per second.
    pub per_second: Option<f64>,
    /// Requests per minute.
    pub per_minute: Option<u32>,
}

impl Quota {
    /// The steady rate this quota allows, in requests per second (the tighter bound).
    pub fn rate_per_second(&self) -> Option<f64> {
        match (self.per_second, self.per_minute) {
            (Some(s), Some(m)) => Some(s.min(m as f64 / 60.0)),
            (Some(s), None) => Some(s),
            (None, Some(m)) => Some(m as f64 / 60.0),
            (None, None) => None,
        }
    }
}

/// What the engine must respect when driving a vendor.
#[derive(Debug, Clone, PartialEq)]
pub struct VendorLimits {
    /// The longest window one query may cover (WeCom 30 days, Tencent CCC < 90 days…).
    pub max_span: SignedDuration,
    /// The shortest window bisection may produce (1 s for second-precision APIs, one day
    /// for date-granular ones). A window this short that still holds too many records is
    /// an error recorded against the window, not a silent truncation.
    pub min_span: SignedDuration,
    /// How many records one query can page through at most (Aliyun: 100 × 100); a
    /// window whose first page reports a larger total is bisected by the engine.
    pub max_records_per_query: Option<u64>,
    /// How far back the API reaches from now (Tencent CCC: 180 days); asking for older
    /// data is a [`PlanError::TooOld`], never a silent gap.
    pub max_age: Option<SignedDuration>,
    /// Default lookback for incremental runs (late-arriving records).
    pub default_lookback: SignedDuration,
    /// The documented quota; config may override it.
    pub quota: Quota,
    /// How long a window holding records that may still change (pending transcripts)
    /// stays open for re-visits; `None` when the vendor's records never change.
    pub settle_within: Option<SignedDuration>,
}

/// The vendor's own paging position inside a window (offset, page number,
/// `search_after`…), opaque to the engine. Only the vendor that produced it reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct Cursor(pub serde_json::Value);

/// One page of one window.
#[derive(Debug, Clone, Default)]
pub struct Page {
    /// Normalised records, each with its `raw` vendor record.
    pub records: Vec<CallRecord>,
    /// Where the next page starts, or `None` when the window is exhausted.
    pub next: Option<Cursor>,
    /// The total the vendor reports for the whole window, when it does (and only where
    /// it means it: Aliyun fills it on page 1 only).
    pub total: Option<u64>,
}

/// What `huadan doctor` learned from one cheap signed request.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ProbeReport {
    /// A short human summary (`"token ok, 3 records in the last hour"`).
    pub detail: String,
}

/// One configured source of one vendor, ready to fetch.
#[async_trait]
pub trait Vendor: Send + Sync + 'static {
    /// Which vendor this is.
    fn provider(&self) -> Provider;

    /// The configured source name (first part of every record id).
    fn source(&self) -> &str;

    /// Limits, with config overrides (quota) already applied.
    fn limits(&self) -> &VendorLimits;

    /// Split `range` into windows this vendor can answer. The default splits by
    /// `max_span` and refuses ranges older than `max_age` (relative to `now`).
    /// Vendors with calendar-aligned queries (whole GMT+8 days) override it.
    fn plan(&self, range: Window, now: Instant) -> Result<Vec<Window>, PlanError> {
        default_plan(self.limits(), range, now)
    }

    /// Make one list request: the page at `cursor` (the first page when `None`) of
    /// `window`. Exactly one request to the vendor's list API (a token fetch may come
    /// on top), so the engine's limiter accounts for it.
    async fn fetch(&self, window: &Window, cursor: Option<&Cursor>) -> Result<Page, FetchError>;

    /// Normalise one raw vendor record (as stored in `raw`). Pure; used by `fetch` and
    /// for re-normalising stored records after a mapping fix.
    fn normalize(&self, raw: &serde_json::Value) -> Result<CallRecord, NormalizeError>;

    /// Forget cached credentials (a token) after an [`ErrorClass::RefreshAuth`] answer;
    /// the next fetch obtains fresh ones.
    async fn reset_auth(&self) {}

    /// `huadan doctor`: one cheap signed request proving endpoint and credentials.
    async fn probe(&self) -> Result<ProbeReport, FetchError>;
}

/// A shared, dynamically dispatched vendor.
pub type DynVendor = Arc<dyn Vendor>;

/// The default planner: refuse ranges beyond `max_age`, split the rest by `max_span`.
pub fn default_plan(limits: &VendorLimits, range: Window, now: Instant) -> Result<Vec<Window>, PlanError> {
    if range.is_empty() {
        return Ok(Vec::new());
    }
    if let Some(max_age) = limits.max_age {
        let oldest = now - max_age;
        if range.start < oldest {
            return Err(PlanError::TooOld { requested: range.start, oldest });
        }
    }
    Ok(range.split_by(limits.max_span))
}

/// Apply a source's config overrides (`requests_per_second`, `requests_per_minute`,
/// `lookback_seconds`) to a vendor's documented limits.
pub fn apply_overrides(mut limits: VendorLimits, source: &huadan_config::SourceConfig) -> VendorLimits {
    if source.requests_per_second.is_some() || source.requests_per_minute.is_some() {
        limits.quota = Quota { per_second: source.requests_per_second, per_minute: source.requests_per_minute };
    }
    if let Some(s) = source.lookback_seconds {
        limits.default_lookback = SignedDuration::from_secs(s as i64);
    }
    limits
}
