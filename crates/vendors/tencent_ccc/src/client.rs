//! The `DescribeTelCdr` client behind the [`Vendor`] trait.
//!
//! * One signed `POST /` per [`Vendor::fetch`]; pages numbered **from 0**, `PageSize`
//!   100, the next page while the page was full and `TotalCount` says there is more.
//! * Windows are half-open `[start, end)`; the API's range is read as closed, so the
//!   client asks for `StartTimeStamp = start`, `EndTimeStamp = end` (whole seconds): a
//!   record at exactly `end` may come twice across adjacent windows (an upsert), never
//!   zero times under either reading. An empty window makes no request at all (the
//!   seed's own `EndTimeStamp < StartTimeStamp` example is refused by the API).
//! * Limits: 20 requests/second, a window shorter than 90 days, `StartTimeStamp` no
//!   older than 180 days (planning an older range is a [`huadan_vendor::PlanError`], never a gap).
//! * Errors: HTTP 200 with `Response.Error.Code`, classified by [`classify`].

use crate::auth;
use crate::normalize;
use crate::wire::{ACTION, DescribeTelCdrRequest, Envelope, ListResponse, MAX_PAGE_SIZE, SERVICE, TelCdrInfo, VERSION};
use async_trait::async_trait;
use huadan_config::{ConfigError, Secret, SourceConfig};
use huadan_model::{CallRecord, Instant, Provider};
use huadan_vendor::http::{Answer, Http};
use huadan_vendor::{
    Cursor, ErrorClass, FetchError, NormalizeError, Page, ProbeReport, Quota, Vendor, VendorLimits, Window,
};
use jiff::SignedDuration;
use serde::Deserialize;
use std::sync::Arc;

/// The vendor-specific keys of a `tencent_ccc` source (CONTRACT.md §1).
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// API key id (`AKID…`).
    pub secret_id: Secret,
    /// API key secret.
    pub secret_key: Secret,
    /// `ap-guangzhou`, … (sent as `X-TC-Region` when set).
    #[serde(default)]
    pub region: Option<String>,
    /// The contact-center application id.
    pub sdk_app_id: i64,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("secret_id", &self.secret_id)
            .field("secret_key", &self.secret_key)
            .field("region", &self.region)
            .field("sdk_app_id", &self.sdk_app_id)
            .finish()
    }
}

/// The documented limits of `DescribeTelCdr`.
pub fn documented_limits() -> VendorLimits {
    VendorLimits {
        // "a range shorter than 90 days": a window of 89 days stays clear of the edge.
        max_span: SignedDuration::from_hours(89 * 24),
        min_span: SignedDuration::from_secs(1),
        max_records_per_query: None,
        // `StartTimeStamp` no older than 180 days; one hour of margin so that a window
        // planned at the edge is still inside when its request is finally sent.
        max_age: Some(SignedDuration::from_hours(180 * 24 - 1)),
        default_lookback: SignedDuration::from_mins(15),
        quota: Quota { per_second: Some(20.0), per_minute: None },
        // ASR goes Processing → Complete after the call; recordings appear late.
        settle_within: Some(SignedDuration::from_hours(2)),
    }
}

/// What the code means and what the engine should do about it.
pub fn classify(code: &str) -> (ErrorClass, &'static str) {
    match code {
        "AuthFailure.SignatureExpire" => (
            ErrorClass::RefreshAuth,
            "the request timestamp is more than 5 minutes off Tencent Cloud's clock; retried with a fresh signature, and if it persists check this machine's clock (NTP)",
        ),
        "AuthFailure.SignatureFailure" => (
            ErrorClass::Fatal,
            "signature rejected: secret_key does not belong to secret_id; check the source's credentials",
        ),
        "AuthFailure.SecretIdNotFound" | "AuthFailure.InvalidSecretId" => {
            (ErrorClass::Fatal, "secret_id is unknown or disabled; check the source's secret_id in the CAM console")
        }
        "AuthFailure.TokenFailure" | "AuthFailure.InvalidAuthorization" | "AuthFailure.MFAFailure" => {
            (ErrorClass::Fatal, "the Authorization header was refused; check the source's credentials")
        }
        "AuthFailure.UnauthorizedOperation" | "UnauthorizedOperation" => (
            ErrorClass::Fatal,
            "the key lacks permission for ccc:DescribeTelCdr; grant it in CAM (e.g. QcloudCCCReadOnlyAccess)",
        ),
        c if c.starts_with("RequestLimitExceeded") => {
            (ErrorClass::RateLimited { retry_after: None }, "over the 20 requests/second quota; slowing down")
        }
        c if c.starts_with("InternalError") => (ErrorClass::Retry, "Tencent Cloud internal error; retried"),
        "ServiceUnavailable" | "ResourceUnavailable" | "FailedOperation" => {
            (ErrorClass::Retry, "the service is temporarily unavailable; retried")
        }
        "InvalidParameter.InstanceNotExist" | "InvalidParameterValue.InstanceNotExist" | "ResourceNotFound" => {
            (ErrorClass::Fatal, "no contact-center application with this sdk_app_id; check the source's sdk_app_id")
        }
        c if c.starts_with("InvalidParameter") || c == "MissingParameter" || c == "UnknownParameter" => (
            ErrorClass::Fatal,
            "the API refused the query's parameters (range older than 180 days, 90 days or longer, or end before start)",
        ),
        "InvalidAction" | "NoSuchVersion" | "UnsupportedRegion" | "UnsupportedProtocol" | "NoSuchProduct" => {
            (ErrorClass::Fatal, "the endpoint does not serve DescribeTelCdr 2020-02-10 here; check endpoint and region")
        }
        "IpInBlacklist" | "IpNotInWhitelist" => {
            (ErrorClass::Fatal, "this machine's IP is not allowed by the account's access settings")
        }
        _ => (ErrorClass::Fatal, "unrecognised Tencent Cloud error code; see the message"),
    }
}

/// A [`FetchError::Vendor`] for an API error answer.
pub fn vendor_error(code: &str, message: &str) -> FetchError {
    let (class, meaning) = classify(code);
    FetchError::Vendor { code: code.to_string(), message: message.to_string(), meaning: Some(meaning), class }
}

type NowFn = Arc<dyn Fn() -> i64 + Send + Sync>;

/// One configured `tencent_ccc` source.
pub struct TencentCcc {
    source: String,
    url: String,
    host: String,
    settings: Settings,
    account: String,
    limits: VendorLimits,
    http: Http,
    page_size: u32,
    now: NowFn,
}

impl std::fmt::Debug for TencentCcc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TencentCcc")
            .field("source", &self.source)
            .field("url", &self.url)
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

/// The `Host` value a request to `endpoint` carries (with the port when not default).
fn host_of(endpoint: &url::Url) -> Option<String> {
    let host = endpoint.host_str()?;
    Some(match endpoint.port() {
        Some(p) => format!("{host}:{p}"),
        None => host.to_string(),
    })
}

impl TencentCcc {
    /// Validate a source's settings and build its client (system clock, 100 per page).
    pub fn from_source(source: &SourceConfig) -> Result<Self, ConfigError> {
        let settings: Settings = source.vendor_settings()?;
        let bad =
            |message: &str| ConfigError::Source { source_name: source.name.clone(), message: message.to_string() };
        if settings.secret_id.expose().trim().is_empty() {
            return Err(bad("`secret_id` is empty"));
        }
        if settings.secret_key.expose().is_empty() {
            return Err(bad("`secret_key` is empty"));
        }
        if settings.sdk_app_id <= 0 {
            return Err(bad("`sdk_app_id` must be a positive integer"));
        }
        let host = host_of(&source.endpoint).ok_or_else(|| bad("`endpoint` has no host"))?;
        // The API lives at the root: sign and send `POST /`.
        let mut url = source.endpoint.clone();
        url.set_path("/");
        url.set_query(None);
        Ok(TencentCcc {
            source: source.name.clone(),
            url: url.to_string(),
            host,
            account: settings.sdk_app_id.to_string(),
            settings,
            limits: huadan_vendor::apply_overrides(documented_limits(), source),
            http: Http::for_source(source),
            page_size: MAX_PAGE_SIZE,
            now: Arc::new(|| jiff::Timestamp::now().as_second()),
        })
    }

    /// Use `now` (unix seconds) instead of the system clock for `X-TC-Timestamp`
    /// (tests with a fixed sandbox clock).
    pub fn with_clock(mut self, now: impl Fn() -> i64 + Send + Sync + 'static) -> Self {
        self.now = Arc::new(now);
        self
    }

    /// Ask for `n` records per page (1..=100) instead of 100 (tests of paging).
    pub fn with_page_size(mut self, n: u32) -> Self {
        self.page_size = n.clamp(1, MAX_PAGE_SIZE);
        self
    }

    /// The request body for one page of `[start, end]` (unix seconds, closed).
    pub fn request_body(&self, start: i64, end: i64, page: u64, page_size: u32) -> DescribeTelCdrRequest {
        DescribeTelCdrRequest {
            sdk_app_id: Some(self.settings.sdk_app_id),
            start_time_stamp: Some(start),
            end_time_stamp: Some(end),
            page_size: Some(page_size as i64),
            page_number: Some(page as i64),
            ..Default::default()
        }
    }

    /// Sign and send one `DescribeTelCdr`; the decoded `Response` or a classified error.
    async fn call(&self, body: &DescribeTelCdrRequest) -> Result<ListResponse, FetchError> {
        let payload =
            serde_json::to_vec(body).map_err(|e| FetchError::Transport(format!("cannot encode request: {e}")))?;
        let timestamp = (self.now)();
        let content_type = "application/json";
        let authorization = auth::authorization(
            self.settings.secret_id.expose(),
            self.settings.secret_key.expose(),
            SERVICE,
            timestamp,
            &[("content-type", content_type), ("host", &self.host), ("x-tc-action", ACTION)],
            &payload,
        );
        let mut req = self
            .http
            .client()
            .post(&self.url)
            .header("Content-Type", content_type)
            .header("Host", &self.host)
            .header("X-TC-Action", ACTION)
            .header("X-TC-Version", VERSION)
            .header("X-TC-Timestamp", timestamp.to_string())
            .header("Authorization", authorization);
        if let Some(region) = self.settings.region.as_deref().filter(|r| !r.is_empty()) {
            req = req.header("X-TC-Region", region);
        }
        let answer = self.http.send(req.body(payload)).await?;
        decode(&answer)
    }

    fn page_of(&self, cursor: Option<&Cursor>) -> Result<u64, FetchError> {
        match cursor {
            None => Ok(0),
            Some(c) => c.0.get("page").and_then(|p| p.as_u64()).ok_or_else(|| {
                FetchError::bad_answer("cursor is not a tencent_ccc page cursor", c.0.to_string().as_bytes())
            }),
        }
    }
}

/// Decode an answer: the vendor's error (HTTP 200 with `Response.Error`), an HTTP error,
/// or the list.
pub fn decode(answer: &Answer) -> Result<ListResponse, FetchError> {
    let parsed: Result<Envelope<ListResponse>, FetchError> = answer.json();
    match parsed {
        Ok(env) => {
            if let Some(e) = env.response.error {
                return Err(vendor_error(&e.code, &e.message));
            }
            if !answer.is_success() {
                return Err(answer.http_error());
            }
            if env.response.tel_cdr_list.is_none() {
                return Err(FetchError::bad_answer("answer has neither Error nor TelCdrList", &answer.body));
            }
            Ok(env.response)
        }
        Err(e) if !answer.is_success() => match e {
            FetchError::Http { .. } => Err(e),
            _ => Err(answer.http_error()),
        },
        Err(e) => Err(e),
    }
}

/// The page after `page` (0-based), or `None` when the window is exhausted: a page
/// shorter than `page_size` is the last, and so is the one that reaches `TotalCount`.
pub fn next_page(page: u64, page_size: u32, received: u64, total: Option<u64>) -> Option<u64> {
    let full = received >= page_size as u64;
    let more = total.is_none_or(|t| (page + 1).saturating_mul(page_size as u64) < t);
    (full && more).then_some(page + 1)
}

/// Unix seconds of an instant, rounded up (an end bound).
fn ceil_secs(t: Instant) -> i64 {
    let s = t.as_second();
    if t.subsec_nanosecond() > 0 { s + 1 } else { s }
}

#[async_trait]
impl Vendor for TencentCcc {
    fn provider(&self) -> Provider {
        Provider::TencentCcc
    }

    fn source(&self) -> &str {
        &self.source
    }

    fn limits(&self) -> &VendorLimits {
        &self.limits
    }

    async fn fetch(&self, window: &Window, cursor: Option<&Cursor>) -> Result<Page, FetchError> {
        if window.is_empty() {
            return Ok(Page::default());
        }
        let page = self.page_of(cursor)?;
        let (start, end) = (window.start.as_second(), ceil_secs(window.end));
        let resp = self.call(&self.request_body(start, end, page, self.page_size)).await?;
        let list = resp.tel_cdr_list.unwrap_or_default();
        let total = resp.total_count.and_then(|t| u64::try_from(t).ok());
        let received = list.len() as u64;
        let mut records = Vec::with_capacity(list.len());
        for raw in list {
            // The typed record is read from the text; the text itself becomes `raw`.
            let bad = |message: String, id: String| {
                FetchError::bad_answer(format!("page {page}: {message}"), format!("record SessionId={id}").as_bytes())
            };
            let w: TelCdrInfo = raw.parse().map_err(|e| {
                let id = raw.pointer("/SessionId").map(|v| v.to_string()).unwrap_or_default();
                bad(format!("TelCdrInfo does not parse: {e}"), id)
            })?;
            let record = normalize::normalize_wire(&self.source, Some(&self.account), &w, raw)
                .map_err(|e| bad(e.0, format!("{:?}", w.session_id.as_deref().unwrap_or_default())))?;
            records.push(record);
        }
        let next = next_page(page, self.page_size, received, total).map(|n| Cursor(serde_json::json!({ "page": n })));
        Ok(Page { records, next, total })
    }

    fn normalize(&self, raw: &serde_json::Value) -> Result<CallRecord, NormalizeError> {
        normalize::normalize(&self.source, Some(&self.account), raw)
    }

    async fn probe(&self) -> Result<ProbeReport, FetchError> {
        let now = (self.now)();
        let resp = self.call(&self.request_body(now - 3600, now, 0, 1)).await?;
        let n = resp.total_count.unwrap_or(0);
        Ok(ProbeReport { detail: format!("signature accepted, {n} records in the last hour") })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_page_from_zero_stops_at_total_or_short_page() {
        assert_eq!(next_page(0, 100, 100, Some(250)), Some(1));
        assert_eq!(next_page(1, 100, 100, Some(250)), Some(2));
        assert_eq!(next_page(2, 100, 50, Some(250)), None);
        // Exactly a multiple of the page size: no extra empty request.
        assert_eq!(next_page(1, 100, 100, Some(200)), None);
        assert_eq!(next_page(0, 100, 0, Some(0)), None);
        // Without a total, a full page asks for the next one.
        assert_eq!(next_page(4, 100, 100, None), Some(5));
        // A total that shrank under us: a short page ends the window.
        assert_eq!(next_page(0, 100, 40, Some(500)), None);
    }

    #[test]
    fn window_end_rounds_up_and_host_keeps_the_port() {
        let t: Instant = "2024-06-15T00:00:00.5Z".parse().unwrap();
        assert_eq!(ceil_secs(t), t.as_second() + 1);
        let whole: Instant = "2024-06-15T00:00:00Z".parse().unwrap();
        assert_eq!(ceil_secs(whole), whole.as_second());
        let u = url::Url::parse("http://127.0.0.1:9101/x").unwrap();
        assert_eq!(host_of(&u).as_deref(), Some("127.0.0.1:9101"));
        let u = url::Url::parse("https://ccc.tencentcloudapi.com").unwrap();
        assert_eq!(host_of(&u).as_deref(), Some("ccc.tencentcloudapi.com"));
    }
}
