//! The Tanma client: one signed `POST /api/v3/app/getCallList` per [`Vendor::fetch`].
//!
//! **Windows.** The list API filters on `gmtCreateTime` (when the speech-to-text record
//! was created, GMT+8, whole seconds), not on `msgTime` (when the call happened, possibly
//! weeks earlier), so huadan's windows and checkpoints run on creation time while
//! `started_at` is `msgTime`. The doc's own example asks `00:00:00 … 23:59:59`, i.e. a
//! **closed** range of whole seconds. A half-open window `[s, e)` holds the seconds
//! `⌈s⌉ … ⌈e⌉−1`; we ask for the closed range `⌈s⌉ … ⌈e⌉` — one second more — and drop
//! the records stamped exactly `⌈e⌉` (they belong to the next window). So whichever way
//! Tanma reads `endTime` (inclusive, as documented, or exclusive), no boundary second is
//! lost and none is taken twice. A window that holds no whole second is answered
//! without a request.
//!
//! **Paging.** `pageNo` from 1, `pageSize` up to [`MAX_PAGE_SIZE`]; the next page exists
//! while `pageNo < totalPage` (falling back to `totalCount`, then to a full page, when a
//! counter is missing). The cursor is `{"pageNo": n}`. Records come newest first: a
//! record created while we page pushes the rest down a place, which can repeat one
//! record at a page boundary (harmless: upserts) but never skips one.
//!
//! **Records change.** A transcription still pending normalises to a pending
//! transcript ([`huadan_model::CallRecord::may_change`]); the engine re-visits such a
//! window until it settles, at most [`SETTLE_WITHIN_HOURS`] hours.
//!
//! **Auth** is a signature per request ([`crate::auth`]); there is no token, so
//! [`Vendor::reset_auth`] has nothing to drop, and a "timestamp expired" answer is
//! [`ErrorClass::RefreshAuth`]: the retry carries a fresh timestamp, and a second one in
//! a row (a skewed clock) stops the source with advice.

use crate::auth::SignedHeaders;
use crate::normalize;
use crate::wire::{CALL_LIST_PATH, CODE_OK, CallListData, CallListRequest, Envelope, TYPE_CALL};
use async_trait::async_trait;
use huadan_config::Secret;
use huadan_model::time::{format_gmt8, parse_gmt8};
use huadan_model::{CallRecord, Instant, Provider, RawJson};
use huadan_vendor::http::{Answer, Http};
use huadan_vendor::{
    Cursor, ErrorClass, FetchError, NormalizeError, Page, ProbeReport, Quota, Vendor, VendorLimits, Window,
};
use jiff::SignedDuration;
use serde_json::value::RawValue;
use std::sync::Arc;

/// The largest `pageSize` huadan asks for (the sandbox refuses more).
pub const MAX_PAGE_SIZE: u32 = 100;
/// How long a window with pending transcripts stays open for re-visits.
pub const SETTLE_WITHIN_HOURS: i64 = 24;

/// Tanma's error codes (`code` of the answer envelope, HTTP 200). The public document
/// lists none; these are the codes huadan's sandbox answers with, each classified once
/// in [`classify`]. An unknown code ≥ 50000 is treated as a server fault (retried), any
/// other unknown code as fatal with the vendor's message.
pub mod codes {
    /// Success.
    pub const OK: i64 = 0;
    /// A body parameter was refused (time format, `type`, `pageNo`, `pageSize`).
    pub const BAD_PARAMETER: i64 = 10001;
    /// A signing header is missing.
    pub const MISSING_AUTH: i64 = 10002;
    /// `appId` unknown, or `appKey` does not belong to it.
    pub const UNKNOWN_APP: i64 = 10003;
    /// `sign` does not match.
    pub const BAD_SIGN: i64 = 10004;
    /// `timestamp` more than 5 minutes from the server's clock.
    pub const EXPIRED: i64 = 10005;
    /// Over the request rate.
    pub const RATE_LIMITED: i64 = 10029;
    /// System busy.
    pub const BUSY: i64 = 50000;
}

/// Classify a Tanma error code into a [`FetchError::Vendor`] with its meaning.
pub fn classify(code: i64, message: &str) -> FetchError {
    let (class, meaning): (ErrorClass, &'static str) = match code {
        codes::BAD_PARAMETER => {
            (ErrorClass::Fatal, "Tanma refused a request parameter; this is a huadan bug, please report it")
        }
        codes::MISSING_AUTH => {
            (ErrorClass::Fatal, "Tanma did not receive the signing headers; a proxy may be stripping them")
        }
        codes::UNKNOWN_APP => (ErrorClass::Fatal, "Tanma does not know this app: check app_id and app_key"),
        codes::BAD_SIGN => (ErrorClass::Fatal, "Tanma rejected the signature: check app_secret"),
        codes::EXPIRED => (
            ErrorClass::RefreshAuth,
            "Tanma says the request timestamp is more than 5 minutes off; retried with a fresh one — if it persists, fix this machine's clock (NTP)",
        ),
        codes::RATE_LIMITED => {
            (ErrorClass::RateLimited { retry_after: None }, "over Tanma's request rate; huadan slows down and retries")
        }
        c if c >= codes::BUSY => (ErrorClass::Retry, "Tanma reported a server-side error; retried"),
        _ => (ErrorClass::Fatal, "an error code huadan does not know; see Tanma's message"),
    };
    FetchError::Vendor { code: code.to_string(), message: message.to_string(), meaning: Some(meaning), class }
}

/// The documented (and, where Tanma publishes nothing, assumed) limits.
///
/// * `max_span` 1 day: the doc's example spans 7 days; a day keeps re-visits of windows
///   with pending transcripts cheap.
/// * `min_span` 1 s: `gmtCreateTime` has second precision.
/// * no cap on records per query (`totalPage` pages through everything), no max age.
/// * quota: none published; huadan assumes 10 requests per second (the sandbox's).
/// * lookback 30 min: records become visible up to ~20 minutes after `gmtCreateTime`.
/// * `settle_within` 24 h.
pub fn documented_limits() -> VendorLimits {
    VendorLimits {
        max_span: SignedDuration::from_hours(24),
        min_span: SignedDuration::from_secs(1),
        max_records_per_query: None,
        max_age: None,
        default_lookback: SignedDuration::from_mins(30),
        quota: Quota { per_second: Some(10.0), per_minute: None },
        settle_within: Some(SignedDuration::from_hours(SETTLE_WITHIN_HOURS)),
    }
}

/// The closed GMT+8 range sent for a half-open window, and the second to drop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryRange {
    /// `startTime`: `⌈s⌉`.
    pub start_time: String,
    /// `endTime`: `⌈e⌉` (one second past the window, see the module docs).
    pub end_time: String,
    /// `⌈e⌉`: records created at this second belong to the next window.
    pub drop_second: Instant,
}

fn ceil_second(t: Instant) -> Instant {
    let s = t.as_second() + i64::from(t.subsec_nanosecond() > 0);
    Instant::from_second(s).unwrap_or(t)
}

impl QueryRange {
    /// The range for `window`; `None` when it holds no whole second.
    pub fn for_window(window: &Window) -> Option<QueryRange> {
        let (s, e) = (ceil_second(window.start), ceil_second(window.end));
        if e <= s {
            return None;
        }
        Some(QueryRange { start_time: format_gmt8(s), end_time: format_gmt8(e), drop_second: e })
    }
}

/// A Tanma source, ready to fetch.
#[derive(Clone)]
pub struct TanmaClient {
    source: String,
    url: String,
    app_id: String,
    app_key: Secret,
    app_secret: Secret,
    http: Http,
    limits: VendorLimits,
    page_size: u32,
    now_ms: Arc<dyn Fn() -> i64 + Send + Sync>,
}

impl std::fmt::Debug for TanmaClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TanmaClient")
            .field("source", &self.source)
            .field("url", &self.url)
            .field("app_id", &self.app_id)
            .field("page_size", &self.page_size)
            .finish_non_exhaustive()
    }
}

impl TanmaClient {
    /// A client for `endpoint` (scheme, host and any path prefix; the API path is
    /// appended) signing with the given credentials.
    pub fn new(
        source: &str,
        endpoint: &str,
        app_id: &str,
        app_key: Secret,
        app_secret: Secret,
        http: Http,
        limits: VendorLimits,
    ) -> Self {
        TanmaClient {
            source: source.to_string(),
            url: format!("{}{}", endpoint.trim_end_matches('/'), CALL_LIST_PATH),
            app_id: app_id.to_string(),
            app_key,
            app_secret,
            http,
            limits,
            page_size: MAX_PAGE_SIZE,
            now_ms: Arc::new(|| jiff::Timestamp::now().as_millisecond()),
        }
    }

    /// Ask for `n` records per page (1..=[`MAX_PAGE_SIZE`]; clamped).
    pub fn with_page_size(mut self, n: u32) -> Self {
        self.page_size = n.clamp(1, MAX_PAGE_SIZE);
        self
    }

    /// Take request timestamps (ms) from `now_ms` instead of the system clock (tests of
    /// clock skew).
    pub fn with_clock(mut self, now_ms: impl Fn() -> i64 + Send + Sync + 'static) -> Self {
        self.now_ms = Arc::new(now_ms);
        self
    }

    /// The records per page this client asks for.
    pub fn page_size(&self) -> u32 {
        self.page_size
    }

    fn page_no(cursor: Option<&Cursor>) -> Result<u64, FetchError> {
        let Some(c) = cursor else { return Ok(1) };
        c.0.get("pageNo").and_then(|v| v.as_u64()).filter(|n| *n >= 1).ok_or_else(|| FetchError::Vendor {
            code: "cursor".into(),
            message: format!("not a tanma cursor: {}", c.0),
            meaning: Some("the stored paging position is not Tanma's; a huadan bug"),
            class: ErrorClass::Fatal,
        })
    }

    /// One signed list request (no interpretation of the answer).
    pub async fn request(&self, body: &CallListRequest) -> Result<Answer, FetchError> {
        let headers =
            SignedHeaders::new(&self.app_id, self.app_key.expose(), self.app_secret.expose(), (self.now_ms)());
        let req = headers.apply(self.http.client().post(&self.url)).json(body);
        self.http.send(req).await
    }

    /// One page of `range`, as Tanma's envelope data with raw records.
    async fn list(&self, range: &QueryRange, page_no: u64, page_size: u32) -> Result<ListPage, FetchError> {
        let body = CallListRequest {
            start_time: Some(range.start_time.clone()),
            end_time: Some(range.end_time.clone()),
            kind: Some(TYPE_CALL.into()),
            page_no: Some(page_no as i64),
            page_size: Some(page_size as i64),
        };
        let answer = self.request(&body).await?;
        parse_answer(&answer)
    }
}

/// A successful answer: the page's data with each record as received.
#[derive(Debug)]
pub struct ListPage {
    /// Counters and summary; each record kept as its compact JSON text (no `Value`
    /// tree), read by [`normalize::parse_raw`].
    pub data: CallListData<RawJson>,
}

/// Read an answer: a vendor error code is classified, a body that is not the documented
/// envelope is a [`FetchError::BadAnswer`] (or [`FetchError::Http`] with an error
/// status), never an empty page.
pub fn parse_answer(answer: &Answer) -> Result<ListPage, FetchError> {
    let envelope: Envelope<Box<RawValue>> = answer.json()?;
    if envelope.code != CODE_OK {
        return Err(classify(envelope.code, envelope.message.as_deref().unwrap_or("")));
    }
    if !answer.is_success() {
        return Err(answer.http_error());
    }
    let Some(data) = envelope.data else {
        return Err(FetchError::bad_answer("code 0 without `data`", &answer.body));
    };
    let data: CallListData<RawJson> = serde_json::from_str(data.get())
        .map_err(|e| FetchError::bad_answer(format!("`data` is not a call list: {e}"), &answer.body))?;
    Ok(ListPage { data })
}

fn record_created_at(raw: &serde_json::Value) -> Option<Instant> {
    raw.get("gmtCreateTime").and_then(|v| v.as_str()).and_then(|s| parse_gmt8(s).ok())
}

#[async_trait]
impl Vendor for TanmaClient {
    fn provider(&self) -> Provider {
        Provider::Tanma
    }

    fn source(&self) -> &str {
        &self.source
    }

    fn limits(&self) -> &VendorLimits {
        &self.limits
    }

    async fn fetch(&self, window: &Window, cursor: Option<&Cursor>) -> Result<Page, FetchError> {
        let page_no = Self::page_no(cursor)?;
        let Some(range) = QueryRange::for_window(window) else {
            return Ok(Page { records: Vec::new(), next: None, total: Some(0) });
        };
        let page = self.list(&range, page_no, self.page_size).await?.data;
        let served = page.result.len() as u64;
        let page_size = u64::from(self.page_size);
        let more = match (page.total_page, page.total_count) {
            (Some(pages), _) => page_no < pages,
            (None, Some(total)) => page_no.saturating_mul(page_size) < total,
            (None, None) => served >= page_size,
        };
        let mut records = Vec::with_capacity(page.result.len());
        for raw in page.result {
            // Read from the record's text, which becomes `raw` as is (no `Value` tree).
            let wire = match normalize::parse_raw(&raw) {
                Ok(wire) => wire,
                // A record of the extra second is dropped unread, even an unreadable one.
                Err(_) if record_created_at(&raw.to_value()) == Some(range.drop_second) => continue,
                Err(e) => return Err(e.into()),
            };
            if normalize::created_at(&wire) == Some(range.drop_second) {
                continue;
            }
            let mut record = normalize::normalize_wire(&self.source, &wire)?;
            record.raw = raw;
            records.push(record);
        }
        Ok(Page {
            records,
            next: more.then(|| Cursor(serde_json::json!({ "pageNo": page_no + 1 }))),
            total: page.total_count,
        })
    }

    fn normalize(&self, raw: &serde_json::Value) -> Result<CallRecord, NormalizeError> {
        normalize::normalize(&self.source, raw)
    }

    async fn probe(&self) -> Result<ProbeReport, FetchError> {
        let now = jiff::Timestamp::now();
        let window = Window::new(now - SignedDuration::from_hours(1), now);
        let range =
            QueryRange::for_window(&window).ok_or_else(|| FetchError::bad_answer("the probe window is empty", b""))?;
        let page = self.list(&range, 1, 1).await?.data;
        Ok(ProbeReport {
            detail: format!(
                "signature accepted, {} records created in the last hour",
                page.total_count.map(|n| n.to_string()).unwrap_or_else(|| "?".into())
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Instant {
        s.parse().unwrap()
    }

    #[test]
    fn half_open_window_becomes_closed_gmt8_range_plus_one_second() {
        // [2025-03-21 00:00:00, 2025-03-28 00:00:00) Beijing.
        let w = Window::new(t("2025-03-20T16:00:00Z"), t("2025-03-27T16:00:00Z"));
        let r = QueryRange::for_window(&w).unwrap();
        assert_eq!(r.start_time, "2025-03-21 00:00:00");
        assert_eq!(r.end_time, "2025-03-28 00:00:00");
        assert_eq!(r.drop_second, w.end);
        // Fractional edges: the first whole second at or after each edge.
        let w = Window::new(t("2025-03-20T15:59:59.2Z"), t("2025-03-20T16:00:10.5Z"));
        let r = QueryRange::for_window(&w).unwrap();
        assert_eq!((r.start_time.as_str(), r.end_time.as_str()), ("2025-03-21 00:00:00", "2025-03-21 00:00:11"));
        // No whole second inside: no request at all.
        assert!(
            QueryRange::for_window(&Window::new(t("2025-03-20T16:00:00.1Z"), t("2025-03-20T16:00:00.9Z"))).is_none()
        );
        assert!(QueryRange::for_window(&Window::new(w.end, w.start)).is_none());
    }

    #[test]
    fn midnight_beijing_is_the_previous_utc_day() {
        let w = Window::new(t("2024-02-29T15:59:59Z"), t("2024-02-29T16:00:01Z"));
        let r = QueryRange::for_window(&w).unwrap();
        assert_eq!((r.start_time.as_str(), r.end_time.as_str()), ("2024-02-29 23:59:59", "2024-03-01 00:00:01"));
    }

    #[test]
    fn every_code_is_classified() {
        use ErrorClass::*;
        let class = |c| classify(c, "m").class();
        assert_eq!(class(codes::BAD_PARAMETER), Fatal);
        assert_eq!(class(codes::MISSING_AUTH), Fatal);
        assert_eq!(class(codes::UNKNOWN_APP), Fatal);
        assert_eq!(class(codes::BAD_SIGN), Fatal);
        assert_eq!(class(codes::EXPIRED), RefreshAuth);
        assert_eq!(class(codes::RATE_LIMITED), RateLimited { retry_after: None });
        assert_eq!(class(codes::BUSY), Retry);
        assert_eq!(class(50301), Retry);
        assert_eq!(class(777), Fatal);
        let e = classify(codes::BAD_SIGN, "签名校验失败");
        assert!(e.to_string().contains("app_secret"), "{e}");
        assert_eq!(e.code(), "10004");
    }

    #[test]
    fn cursor_round_trip_and_garbage() {
        assert_eq!(TanmaClient::page_no(None).unwrap(), 1);
        assert_eq!(TanmaClient::page_no(Some(&Cursor(serde_json::json!({"pageNo": 7})))).unwrap(), 7);
        assert!(TanmaClient::page_no(Some(&Cursor(serde_json::json!({"pageNo": 0})))).is_err());
        assert!(TanmaClient::page_no(Some(&Cursor(serde_json::json!("x")))).is_err());
    }

    #[test]
    fn ids_beyond_u64_keep_their_digits() {
        let body = r#"{"code":0,"message":"success","data":{"totalCount":1,"result":[
            {"id": 123456789012345678901234, "msgTime":"2025-03-21 14:22:45"}]}}"#;
        let answer = Answer { status: 200, headers: Default::default(), body: body.as_bytes().to_vec().into() };
        let raw = parse_answer(&answer).unwrap().data.result.remove(0);
        // `raw` is the vendor's text, compact, the long integer as sent.
        assert_eq!(raw.get(), r#"{"id":123456789012345678901234,"msgTime":"2025-03-21 14:22:45"}"#);
        let r = normalize::normalize_raw("s", raw.clone()).unwrap();
        assert_eq!(r.provider_call_id, "123456789012345678901234");
        assert_eq!(r.raw, raw);
        // The `Value` entry point reads the digits too, when they come as a string.
        let v = serde_json::json!({"id": "123456789012345678901234", "msgTime": "2025-03-21 14:22:45"});
        assert_eq!(normalize::normalize("s", &v).unwrap().provider_call_id, "123456789012345678901234");
        // A long negative or fractional id is still refused.
        for id in ["-123456789012345678901234", "1.5", "1e30", "true"] {
            let text = format!(r#"{{"id":{id},"msgTime":"2025-03-21 14:22:45"}}"#);
            assert!(normalize::normalize_raw("s", RawJson::from_text(&text).unwrap()).is_err(), "{id}");
        }
    }

    #[test]
    fn debug_never_shows_credentials() {
        let c = TanmaClient::new(
            "s",
            "http://127.0.0.1:1",
            "app",
            Secret::new("KEYVALUE"),
            Secret::new("SECRETVALUE"),
            Http::new(std::time::Duration::from_secs(1)),
            documented_limits(),
        );
        let d = format!("{c:?}");
        assert!(!d.contains("KEYVALUE") && !d.contains("SECRETVALUE"), "{d}");
    }
}
