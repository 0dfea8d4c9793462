//! The client: one signed `ListCallDetailRecords` request per [`Vendor::fetch`], the
//! page-number cursor, and the vendor's error-code table.
//!
//! Paging rules (VENDORS.md traps):
//! * `PageNumber` 1–100 × `PageSize` ≤ 100: a query reaches 10,000 records at most, so
//!   [`VendorLimits::max_records_per_query`] is 10,000 and the engine bisects any window
//!   whose page-1 total is larger. The client never asks for page 101.
//! * `TotalCount` is only filled on page 1 (later pages say 0): the client reports it
//!   only from page 1 and never stops on a later page's 0; it stops on a short page.
//! * The default order is newest first. Records arriving while a window is paged are
//!   inserted at the top and push older ones down: stopping after `ceil(total / size)`
//!   pages would drop the oldest, so the client keeps paging until a short page; and
//!   since the records that arrived on top were passed already, when it has seen more
//!   records than page 1 announced it re-reads `[newest start on page 1, end]` once
//!   (the catch-up pass). Duplicates are harmless: writes are upserts by id.

use crate::auth::{self, SignatureVersion};
use crate::normalize;
use crate::wire::{self, ErrorBody, ListResponse};
use async_trait::async_trait;
use huadan_config::{ConfigError, Secret, SourceConfig};
use huadan_model::{CallRecord, Instant, Provider, RawJson};
use huadan_vendor::http::{Answer, Http};
use huadan_vendor::{
    Cursor, ErrorClass, FetchError, NormalizeError, Page, ProbeReport, Quota, Vendor, VendorLimits, Window,
};
use jiff::SignedDuration;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The vendor-specific keys of an `aliyun_ccc` source (CONTRACT.md §1).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// The AccessKey id.
    pub access_key_id: String,
    /// The AccessKey secret.
    pub access_key_secret: Secret,
    /// The contact-centre instance (`ccc-test`).
    pub instance_id: String,
    /// Optional: `"acs3"` (default, ACS3-HMAC-SHA256) or `"v1"` (HMAC-SHA1).
    #[serde(default)]
    pub signature_version: Option<String>,
}

/// The documented limits. Aliyun documents no per-API quota for
/// `ListCallDetailRecords`; 10 requests per second is the common default for CCC list
/// APIs and a safe assumption (config may override it).
pub fn documented_limits() -> VendorLimits {
    VendorLimits {
        // No documented span limit: one day keeps pages shallow; bisection handles volume.
        max_span: SignedDuration::from_hours(24),
        // StartTime / EndTime are milliseconds; the engine bisects in whole seconds.
        min_span: SignedDuration::from_secs(1),
        max_records_per_query: Some(wire::MAX_PAGE_NUMBER as u64 * wire::MAX_PAGE_SIZE as u64),
        max_age: None,
        // A record appears when the call ends; calls last up to ~40 minutes.
        default_lookback: SignedDuration::from_hours(1),
        quota: Quota { per_second: Some(10.0), per_minute: None },
        // Recordings become ready and satisfaction arrives after the call.
        settle_within: Some(SignedDuration::from_hours(1)),
    }
}

/// An `aliyun_ccc` source, ready to fetch.
pub struct AliyunCcc {
    source: String,
    endpoint: url::Url,
    access_key_id: String,
    secret: Secret,
    instance_id: String,
    signature: SignatureVersion,
    limits: VendorLimits,
    http: Http,
    page_size: u32,
    clock_offset: SignedDuration,
    fixed_nonce: Option<String>,
}

impl std::fmt::Debug for AliyunCcc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AliyunCcc")
            .field("source", &self.source)
            .field("endpoint", &self.endpoint.as_str())
            .field("instance_id", &self.instance_id)
            .field("signature", &self.signature)
            .finish_non_exhaustive()
    }
}

/// Where a window's paging stands (serialised into the opaque [`Cursor`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageCursor {
    /// Which pass.
    pub phase: Phase,
    /// The page number to request (1-based).
    pub page: u32,
    /// Page 1's `TotalCount`.
    pub total: Option<u64>,
    /// Records seen in the main pass so far.
    pub seen: u64,
    /// The newest `StartTime` (ms) on page 1.
    pub top_ms: Option<i64>,
}

/// The passes over one window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// The window itself, newest first.
    Main,
    /// `[newest start of page 1, end]`, for records that arrived on top meanwhile.
    CatchUp,
}

impl PageCursor {
    fn first() -> Self {
        PageCursor { phase: Phase::Main, page: 1, total: None, seen: 0, top_ms: None }
    }

    fn read(c: Option<&Cursor>) -> Result<Self, FetchError> {
        match c {
            None => Ok(Self::first()),
            Some(c) => serde_json::from_value(c.0.clone()).map_err(|e| {
                FetchError::bad_answer(format!("not an aliyun_ccc cursor: {e}"), c.0.to_string().as_bytes())
            }),
        }
    }

    fn cursor(&self) -> Cursor {
        Cursor(serde_json::to_value(self).unwrap_or(serde_json::Value::Null))
    }

    /// What follows a page of `len` records (of at most `size`) whose newest start is
    /// `newest_ms`, given page 1's `total` if this was page 1.
    pub fn advance(mut self, len: usize, size: u32, total: Option<u64>, newest_ms: Option<i64>) -> Option<Self> {
        let full = len as u64 >= size as u64 && len > 0;
        match self.phase {
            Phase::Main => {
                if self.page == 1 {
                    self.total = total;
                    self.top_ms = newest_ms;
                }
                self.seen += len as u64;
                if full && self.page < wire::MAX_PAGE_NUMBER {
                    return Some(PageCursor { page: self.page + 1, ..self });
                }
                if full {
                    tracing::warn!(
                        "aliyun_ccc: page {} is full; the API cannot page further (window holds ≥ 10,000 records)",
                        self.page
                    );
                }
                // The list grew while we paged (records arrived on top): re-read the top.
                match (self.total, self.top_ms) {
                    (Some(t), Some(_)) if self.seen > t => Some(PageCursor { phase: Phase::CatchUp, page: 1, ..self }),
                    _ => None,
                }
            }
            Phase::CatchUp => {
                (full && self.page < wire::MAX_PAGE_NUMBER).then_some(PageCursor { page: self.page + 1, ..self })
            }
        }
    }
}

impl AliyunCcc {
    /// Build from a source's config (validates the vendor keys).
    pub fn from_source(source: &SourceConfig) -> Result<Self, ConfigError> {
        let s: Settings = source.vendor_settings()?;
        let signature = match s.signature_version.as_deref() {
            None => SignatureVersion::Acs3,
            Some(v) => SignatureVersion::parse(v).ok_or_else(|| ConfigError::Source {
                source_name: source.name.clone(),
                message: format!("`signature_version = \"{v}\"` is not known; use \"acs3\" (default) or \"v1\""),
            })?,
        };
        for (key, value) in [("access_key_id", s.access_key_id.as_str()), ("instance_id", s.instance_id.as_str())] {
            if value.trim().is_empty() {
                return Err(ConfigError::Source {
                    source_name: source.name.clone(),
                    message: format!("`{key}` must not be empty"),
                });
            }
        }
        Ok(AliyunCcc {
            source: source.name.clone(),
            endpoint: source.endpoint.clone(),
            access_key_id: s.access_key_id,
            secret: s.access_key_secret,
            instance_id: s.instance_id,
            signature,
            limits: huadan_vendor::apply_overrides(documented_limits(), source),
            http: Http::for_source(source),
            page_size: wire::MAX_PAGE_SIZE,
            clock_offset: SignedDuration::ZERO,
            fixed_nonce: None,
        })
    }

    /// Use another page size (1–100; default 100). For tests that page small windows.
    pub fn with_page_size(mut self, size: u32) -> Self {
        self.page_size = size.clamp(1, wire::MAX_PAGE_SIZE);
        self
    }

    /// Sign with a clock this far off (tests of the vendor's 15-minute skew check).
    pub fn with_clock_offset(mut self, offset: SignedDuration) -> Self {
        self.clock_offset = offset;
        self
    }

    /// Sign every request with this nonce (tests of the vendor's nonce-reuse check).
    pub fn with_fixed_nonce(mut self, nonce: &str) -> Self {
        self.fixed_nonce = Some(nonce.to_string());
        self
    }

    /// Which signature this client sends.
    pub fn signature_version(&self) -> SignatureVersion {
        self.signature
    }

    fn now(&self) -> Instant {
        Instant::now().checked_add(self.clock_offset).unwrap_or_else(|_| Instant::now())
    }

    fn nonce(&self) -> String {
        self.fixed_nonce.clone().unwrap_or_else(|| uuid::Uuid::new_v4().to_string())
    }

    fn host_header(&self) -> String {
        let host = self.endpoint.host_str().unwrap_or_default();
        match self.endpoint.port() {
            Some(p) => format!("{host}:{p}"),
            None => host.to_string(),
        }
    }

    /// The URL with exactly the query string that was signed.
    fn url_with(&self, query: &BTreeMap<String, String>) -> url::Url {
        let mut url = self.endpoint.clone();
        let q = auth::canonical_query(query);
        url.set_query(if q.is_empty() { None } else { Some(&q) });
        url
    }

    /// Send one signed list request with these API parameters.
    async fn call(&self, params: BTreeMap<String, String>) -> Result<ListResponse<RawJson>, FetchError> {
        let timestamp = self.now().strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
        let nonce = self.nonce();
        let request = match self.signature {
            SignatureVersion::V1 => {
                let mut q = params;
                for (k, v) in [
                    ("Action", wire::ACTION),
                    ("Version", wire::VERSION),
                    ("Format", "JSON"),
                    ("AccessKeyId", self.access_key_id.as_str()),
                    ("SignatureMethod", "HMAC-SHA1"),
                    ("SignatureVersion", "1.0"),
                    ("SignatureNonce", nonce.as_str()),
                    ("Timestamp", timestamp.as_str()),
                ] {
                    q.insert(k.into(), v.into());
                }
                let sig = auth::sign_v1("GET", &q, self.secret.expose());
                q.insert("Signature".into(), sig);
                self.http.client().get(self.url_with(&q)).header("accept", "application/json")
            }
            SignatureVersion::Acs3 => {
                let headers: Vec<(&str, String)> = vec![
                    ("host", self.host_header()),
                    ("x-acs-action", wire::ACTION.into()),
                    ("x-acs-version", wire::VERSION.into()),
                    ("x-acs-date", timestamp),
                    ("x-acs-signature-nonce", nonce),
                    ("x-acs-content-sha256", auth::EMPTY_SHA256.into()),
                    ("accept", "application/json".into()),
                ];
                let map: BTreeMap<String, Vec<String>> =
                    headers.iter().map(|(k, v)| (k.to_string(), vec![v.clone()])).collect();
                let signed: Vec<String> = map.keys().cloned().collect();
                let path = self.endpoint.path().to_string();
                let cr = auth::acs3_canonical_request("POST", &path, &params, &map, &signed, auth::EMPTY_SHA256);
                let sig = auth::sign_acs3(&cr, self.secret.expose());
                let mut rb = self.http.client().post(self.url_with(&params));
                // reqwest sends `Host` itself, with the same value as signed.
                for (k, v) in headers.iter().filter(|(k, _)| *k != "host") {
                    rb = rb.header(*k, v.as_str());
                }
                rb.header("authorization", auth::acs3_authorization(&self.access_key_id, &signed, &sig))
            }
        };
        let answer = self.http.send(request).await?;
        read_answer(&answer)
    }

    fn params(&self, start_ms: i64, end_ms: i64, page: u32, size: u32) -> BTreeMap<String, String> {
        let mut p = BTreeMap::new();
        p.insert("InstanceId".into(), self.instance_id.clone());
        p.insert("PageNumber".into(), page.to_string());
        p.insert("PageSize".into(), size.to_string());
        p.insert("StartTime".into(), start_ms.to_string());
        p.insert("EndTime".into(), end_ms.to_string());
        p
    }
}

/// Turn an HTTP answer into a list response or a classified error.
/// Each record is kept as its compact JSON text.
pub fn read_answer(answer: &Answer) -> Result<ListResponse<RawJson>, FetchError> {
    if !answer.is_success() {
        if let Ok(err) = serde_json::from_slice::<ErrorBody>(&answer.body)
            && let Some(code) = err.code.filter(|c| !c.is_empty())
        {
            return Err(vendor_error(&code, err.message.unwrap_or_default(), answer.status));
        }
        return Err(answer.http_error());
    }
    let resp: ListResponse<RawJson> = answer.json()?;
    match resp.code.as_deref() {
        Some("OK") | Some("200") => {}
        Some(code) => return Err(vendor_error(code, resp.message.clone().unwrap_or_default(), answer.status)),
        None => return Err(FetchError::bad_answer("answer without `Code`", &answer.body)),
    }
    if resp.data.is_none() {
        return Err(FetchError::bad_answer("answer without `Data`", &answer.body));
    }
    Ok(resp)
}

/// A vendor error, classified by [`classify`].
pub fn vendor_error(code: &str, message: String, status: u16) -> FetchError {
    let (class, meaning) = classify(code, status);
    FetchError::Vendor { code: code.to_string(), message, meaning, class }
}

/// The vendor's error codes → what the engine should do, and what to tell the user.
pub fn classify(code: &str, status: u16) -> (ErrorClass, Option<&'static str>) {
    let rate = ErrorClass::RateLimited { retry_after: None };
    match code {
        "Throttling" | "Throttling.User" | "Throttling.Api" | "Throttling.System" => {
            (rate, Some("Alibaba Cloud throttled the request; huadan slows down and retries"))
        }
        c if c.starts_with("Throttling") => (rate, Some("throttled; huadan slows down and retries")),
        "ServiceUnavailable" | "InternalService.Common" | "InternalError" | "ServiceTimeout" => {
            (ErrorClass::Retry, Some("a transient fault at Alibaba Cloud; retried"))
        }
        "SignatureNonceUsed" => (ErrorClass::Retry, Some("a signature nonce was reused; retried with a fresh one")),
        "InvalidTimeStamp.Expired" => (
            ErrorClass::RefreshAuth,
            Some(
                "the request's timestamp is more than 15 minutes off; if this repeats, fix this machine's clock (NTP)",
            ),
        ),
        "InvalidAccessKeyId.NotFound" | "InvalidAccessKeyId" => {
            (ErrorClass::Fatal, Some("the AccessKey id does not exist; check `access_key_id`"))
        }
        "InvalidAccessKeyId.Inactive" => {
            (ErrorClass::Fatal, Some("the AccessKey is disabled; enable it in the RAM console or use another"))
        }
        "SignatureDoesNotMatch" | "IncompleteSignature" | "MissingSignature" => {
            (ErrorClass::Fatal, Some("the signature was refused; check `access_key_secret`"))
        }
        c if c.starts_with("Forbidden") => (
            ErrorClass::Fatal,
            Some("the AccessKey lacks permission for ccc:ListCallDetailRecords on this instance; grant it in RAM"),
        ),
        c if c.starts_with("NotExists.InstanceId") || c.starts_with("InvalidInstance") => {
            (ErrorClass::Fatal, Some("no such contact-centre instance; check `instance_id`"))
        }
        c if c.starts_with("InvalidParameter") || c.starts_with("MissingParameter") || c.starts_with("Parameter") => {
            (ErrorClass::Fatal, Some("a request parameter was refused; this is a huadan bug, please report it"))
        }
        _ if status == 429 => (rate, None),
        _ if status >= 500 || status == 408 => (ErrorClass::Retry, None),
        _ => (ErrorClass::Fatal, None),
    }
}

fn window_ms(w: &Window) -> (i64, i64) {
    (w.start.as_millisecond(), w.end.as_millisecond())
}

#[async_trait]
impl Vendor for AliyunCcc {
    fn provider(&self) -> Provider {
        Provider::AliyunCcc
    }

    fn source(&self) -> &str {
        &self.source
    }

    fn limits(&self) -> &VendorLimits {
        &self.limits
    }

    async fn fetch(&self, window: &Window, cursor: Option<&Cursor>) -> Result<Page, FetchError> {
        let pos = PageCursor::read(cursor)?;
        let (start_ms, end_ms) = window_ms(window);
        // EndTime is read as inclusive by the service (the doc's example ends at
        // 23:59:59.000); sending `end` returns at most a few extras at exactly `end`.
        let from = match pos.phase {
            Phase::Main => start_ms,
            Phase::CatchUp => pos.top_ms.unwrap_or(start_ms).max(start_ms),
        };
        let resp = self.call(self.params(from, end_ms, pos.page, self.page_size)).await?;
        let data = resp.data.unwrap_or_default();
        let mut records = Vec::with_capacity(data.list.len());
        let mut newest: Option<i64> = None;
        for raw in data.list {
            // Read from the record's text, which becomes `raw` as is (no `Value` tree).
            let rec = normalize::normalize_raw(&self.source, raw)?;
            let ms = rec.started_at.as_millisecond();
            newest = Some(newest.map_or(ms, |n| n.max(ms)));
            records.push(rec);
        }
        let is_first = pos.phase == Phase::Main && pos.page == 1;
        let total = if is_first { data.total_count.map(|t| t.max(0) as u64) } else { None };
        let next = pos.advance(records.len(), self.page_size, total, newest).map(|c| c.cursor());
        Ok(Page { records, next, total })
    }

    fn normalize(&self, raw: &serde_json::Value) -> Result<CallRecord, NormalizeError> {
        normalize::normalize(&self.source, raw)
    }

    async fn probe(&self) -> Result<ProbeReport, FetchError> {
        let end = Instant::now();
        let start = end - SignedDuration::from_hours(1);
        let resp = self.call(self.params(start.as_millisecond(), end.as_millisecond(), 1, 1)).await?;
        let total = resp.data.and_then(|d| d.total_count).unwrap_or(0);
        Ok(ProbeReport { detail: format!("signature accepted, {total} records in the last hour") })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliyun_error_table() {
        assert!(matches!(classify("Throttling.User", 400).0, ErrorClass::RateLimited { .. }));
        assert!(matches!(classify("Throttling.Api", 503).0, ErrorClass::RateLimited { .. }));
        assert!(matches!(classify("Throttling", 429).0, ErrorClass::RateLimited { .. }));
        assert_eq!(classify("ServiceUnavailable", 503).0, ErrorClass::Retry);
        assert_eq!(classify("InternalService.Common", 500).0, ErrorClass::Retry);
        assert_eq!(classify("SomethingNew", 502).0, ErrorClass::Retry);
        assert_eq!(classify("InvalidAccessKeyId.NotFound", 404).0, ErrorClass::Fatal);
        assert_eq!(classify("SignatureDoesNotMatch", 400).0, ErrorClass::Fatal);
        assert_eq!(classify("Forbidden.RAM", 403).0, ErrorClass::Fatal);
        assert_eq!(classify("Forbidden.NoPermission", 403).0, ErrorClass::Fatal);
        assert_eq!(classify("InvalidTimeStamp.Expired", 400).0, ErrorClass::RefreshAuth);
        assert_eq!(classify("SignatureNonceUsed", 400).0, ErrorClass::Retry);
        assert!(classify("Forbidden.RAM", 403).1.unwrap().contains("RAM"));
    }

    /// TotalCount is only on page 1: later pages' 0 must not stop paging, and paging
    /// ends on a short page, never past page 100.
    #[test]
    fn aliyun_total_only_on_page_one_cursor_rules() {
        let c = PageCursor::first();
        let c = c.advance(100, 100, Some(250), Some(5000)).unwrap();
        assert_eq!((c.page, c.total, c.top_ms, c.seen), (2, Some(250), Some(5000), 100));
        // Page 2 says TotalCount 0 (the client passes None for later pages): keep going.
        let c = c.advance(100, 100, None, Some(4000)).unwrap();
        assert_eq!((c.page, c.total, c.top_ms), (3, Some(250), Some(5000)));
        assert_eq!(c.advance(50, 100, None, Some(10)), None);
        // More seen than announced: records arrived on top → one catch-up pass.
        let up = c.advance(60, 100, None, Some(10)).unwrap();
        assert_eq!((up.phase, up.page), (Phase::CatchUp, 1));
        assert_eq!(up.advance(3, 100, None, Some(6000)), None);
        // Never page 101.
        let last = PageCursor { page: 100, total: Some(10_000), seen: 9_900, ..PageCursor::first() };
        assert_eq!(last.advance(100, 100, None, None), None);
        // An empty page ends it.
        assert_eq!(PageCursor::first().advance(0, 100, Some(0), None), None);
    }
}
