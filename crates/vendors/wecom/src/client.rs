//! The WeCom client behind the [`Vendor`] trait: token, closed ranges, offset paging.
//!
//! * A half-open window `[start, end)` becomes WeCom's closed range
//!   `[ceil(start), ceil(end) − 1]` in unix seconds (call times are whole seconds).
//! * WeCom silently cuts a range longer than 30 days to the 30 days before `end_time`.
//!   [`Vendor::plan`] splits by 30 days, and `fetch` additionally walks any longer
//!   window in ≤ 30-day sub-ranges through its cursor, so no window can lose records.
//! * Paging: `offset`/`limit` with `limit = 100` (WeCom caps it there); a page shorter
//!   than 100 is the last. There is no total.
//! * The cursor is `{"from": <first second of the current sub-range>, "offset": n}`.

use crate::auth::{Lease, TokenCache, TokenClock};
use crate::codes::{Endpoint, vendor_error};
use crate::wire::{
    DIAL_RECORD_PATH, DialRecordRequest, DialRecordResponse, ErrorBody, MAX_LIMIT, MAX_SPAN_SECS, TOKEN_PATH,
    TokenResponse,
};
use async_trait::async_trait;
use huadan_config::Secret;
use huadan_model::{CallRecord, Instant, Provider, RawJson};
use huadan_vendor::http::{Answer, Http};
use huadan_vendor::{
    Cursor, ErrorClass, FetchError, NormalizeError, Page, ProbeReport, Quota, Vendor, VendorLimits, Window,
};
use jiff::SignedDuration;
use serde::Deserialize;

/// The vendor keys of a `wecom` source (CONTRACT.md §1).
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// The corp id (`ww…`), from 我的企业 → 企业信息.
    pub corp_id: String,
    /// The secret of the self-built app listed under 公费电话 → 可调用接口的应用.
    pub corp_secret: Secret,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings").field("corp_id", &self.corp_id).field("corp_secret", &self.corp_secret).finish()
    }
}

/// WeCom's documented limits, as huadan drives them:
///
/// * span: 30 days per query (closed range, inclusive);
/// * quota: WeCom's base frequency limit is 10,000 calls a minute and 150,000 an hour
///   per corp and API; huadan paces at 2,500 a minute (the hourly limit spread evenly,
///   so a long backfill never trips the hourly window);
/// * lookback 2 h: `call_time` is the dial time and a record appears only once the
///   call has ended, so a long call shows up well after its `call_time`.
pub fn documented_limits() -> VendorLimits {
    VendorLimits {
        max_span: SignedDuration::from_secs(MAX_SPAN_SECS),
        min_span: SignedDuration::from_secs(1),
        max_records_per_query: None,
        max_age: None,
        default_lookback: SignedDuration::from_hours(2),
        quota: Quota { per_second: None, per_minute: Some(2_500) },
        settle_within: None,
    }
}

/// The closed range `[start_time, end_time]` (unix seconds) holding exactly the whole
/// seconds of a half-open window, or `None` when it holds none.
pub fn closed_range(window: &Window) -> Option<(i64, i64)> {
    let ceil = |t: Instant| {
        let s = t.as_second();
        if t.subsec_nanosecond() > 0 { s + 1 } else { s }
    };
    let (lo, hi) = (ceil(window.start), ceil(window.end) - 1);
    (hi >= lo).then_some((lo, hi))
}

/// Where the next page starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, Deserialize)]
pub struct Position {
    /// First second of the current ≤ 30-day sub-range.
    pub from: i64,
    /// Offset within it.
    pub offset: u64,
}

/// One configured WeCom source.
pub struct WecomClient {
    source: String,
    base: String,
    settings: Settings,
    http: Http,
    limits: VendorLimits,
    tokens: TokenCache,
}

impl std::fmt::Debug for WecomClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WecomClient").field("source", &self.source).field("base", &self.base).finish()
    }
}

impl WecomClient {
    /// A client for `source` at `endpoint` (its scheme, host and optional path prefix).
    pub fn new(source: &str, endpoint: &str, settings: Settings, http: Http, limits: VendorLimits) -> Self {
        WecomClient {
            source: source.to_string(),
            base: endpoint.trim_end_matches('/').to_string(),
            settings,
            http,
            limits,
            tokens: TokenCache::default(),
        }
    }

    /// Replace the clock that ages tokens (tests).
    pub fn with_token_clock(mut self, clock: TokenClock) -> Self {
        self.tokens = TokenCache::new(clock);
        self
    }

    /// How many tokens this client has fetched.
    pub async fn tokens_fetched(&self) -> u64 {
        self.tokens.fetched().await
    }

    async fn fetch_token(&self) -> Result<(Secret, i64), FetchError> {
        let request = self
            .http
            .client()
            .get(format!("{}{TOKEN_PATH}", self.base))
            .query(&[("corpid", self.settings.corp_id.as_str()), ("corpsecret", self.settings.corp_secret.expose())]);
        let answer = self.http.send(request).await?;
        let t: TokenResponse = read(&answer, Endpoint::GetToken)?;
        match t.access_token {
            Some(token) if !token.is_empty() => {
                let expires_in = t.expires_in.unwrap_or(7200);
                tracing::debug!(source = %self.source, expires_in, "wecom access token fetched");
                Ok((Secret::new(token), expires_in))
            }
            _ => Err(FetchError::bad_answer("gettoken answered ok without an access_token", &answer.body)),
        }
    }

    async fn token(&self) -> Result<Lease, FetchError> {
        self.tokens.get(|| self.fetch_token()).await
    }

    /// One `get_dial_record` request with the cached (or a fresh) token. A refused
    /// token is invalidated here, so the next call fetches a new one; a freshly fetched
    /// token refused with 40001 means a bad secret: fatal.
    /// Each record is kept as its compact JSON text.
    pub async fn dial_records(&self, body: &DialRecordRequest) -> Result<Vec<RawJson>, FetchError> {
        let lease = self.token().await?;
        let request = self
            .http
            .client()
            .post(format!("{}{DIAL_RECORD_PATH}", self.base))
            .query(&[("access_token", lease.token.expose())])
            .json(body);
        let answer = self.http.send(request).await?;
        match read::<DialRecordResponse<RawJson>>(&answer, Endpoint::Api) {
            Ok(r) => Ok(r.record),
            Err(e) => {
                if e.class() == ErrorClass::RefreshAuth {
                    self.tokens.invalidate(lease.generation).await;
                    if lease.fresh
                        && let FetchError::Vendor { code, message, .. } = &e
                        && code == "40001"
                    {
                        return Err(FetchError::Vendor {
                            code: code.clone(),
                            message: message.clone(),
                            meaning: Some("WeCom rejected a token it had just issued: check corp_secret"),
                            class: ErrorClass::Fatal,
                        });
                    }
                }
                Err(e)
            }
        }
    }
}

impl WecomClient {
    /// One record of a page, read from its text (no `Value` tree); the text becomes
    /// `raw` as is. A record that does not read is a bad answer quoting the record.
    fn record(&self, raw: RawJson) -> Result<CallRecord, FetchError> {
        let bad = |e: NormalizeError| FetchError::bad_answer(e.0, raw.get().as_bytes());
        let wire = crate::normalize::parse_raw(&raw).map_err(bad)?;
        let mut record =
            crate::normalize::normalize_wire(&self.source, Some(&self.settings.corp_id), &wire).map_err(bad)?;
        record.raw = raw;
        Ok(record)
    }
}

/// Read a WeCom answer: an `errcode` other than 0 is the vendor's error (whatever the
/// HTTP status); a non-2xx status without one is an HTTP error; anything unreadable is
/// a bad answer.
fn read<T: serde::de::DeserializeOwned>(answer: &Answer, endpoint: Endpoint) -> Result<T, FetchError> {
    if let Ok(e) = serde_json::from_slice::<ErrorBody>(&answer.body)
        && e.errcode != 0
    {
        return Err(vendor_error(e.errcode, &e.errmsg, endpoint));
    }
    if !answer.is_success() {
        return Err(answer.http_error());
    }
    answer.json::<T>()
}

fn bad_cursor(c: &Cursor) -> FetchError {
    FetchError::Vendor {
        code: "huadan.bad_cursor".into(),
        message: format!("cursor {} was not made by the wecom client for this window", c.0),
        meaning: Some("a checkpoint from another source or version: re-run the sync from an earlier --since"),
        class: ErrorClass::Fatal,
    }
}

#[async_trait]
impl Vendor for WecomClient {
    fn provider(&self) -> Provider {
        Provider::Wecom
    }

    fn source(&self) -> &str {
        &self.source
    }

    fn limits(&self) -> &VendorLimits {
        &self.limits
    }

    async fn fetch(&self, window: &Window, cursor: Option<&Cursor>) -> Result<Page, FetchError> {
        let Some((lo, hi)) = closed_range(window) else {
            return Ok(Page::default());
        };
        let pos = match cursor {
            None => Position { from: lo, offset: 0 },
            Some(c) => {
                let p: Position = serde_json::from_value(c.0.clone()).map_err(|_| bad_cursor(c))?;
                if p.from < lo || p.from > hi {
                    return Err(bad_cursor(c));
                }
                p
            }
        };
        // Never more than 30 days inclusive: WeCom would silently drop the start.
        let to = hi.min(pos.from + MAX_SPAN_SECS - 1);
        let body = DialRecordRequest {
            start_time: Some(pos.from),
            end_time: Some(to),
            offset: Some(pos.offset),
            limit: Some(MAX_LIMIT),
        };
        let raws = self.dial_records(&body).await?;
        let n = raws.len() as u64;
        tracing::debug!(source = %self.source, start_time = pos.from, end_time = to, offset = pos.offset, records = n, "wecom get_dial_record");
        let records = raws.into_iter().map(|raw| self.record(raw)).collect::<Result<Vec<CallRecord>, _>>()?;
        let next = if n >= MAX_LIMIT {
            Some(Position { from: pos.from, offset: pos.offset + n })
        } else if to < hi {
            Some(Position { from: to + 1, offset: 0 })
        } else {
            None
        };
        let next = next.map(|p| Cursor(serde_json::json!({"from": p.from, "offset": p.offset})));
        Ok(Page { records, next, total: None })
    }

    fn normalize(&self, raw: &serde_json::Value) -> Result<CallRecord, NormalizeError> {
        crate::normalize::normalize(&self.source, Some(&self.settings.corp_id), raw)
    }

    async fn reset_auth(&self) {
        self.tokens.reset().await;
    }

    /// One `get_dial_record` without a time range (WeCom then reads its last 30 days)
    /// and `limit = 1`: proves endpoint, corp id, secret, IP allow-list and the API
    /// grant, without depending on this machine's clock.
    async fn probe(&self) -> Result<ProbeReport, FetchError> {
        let body = DialRecordRequest { start_time: None, end_time: None, offset: Some(0), limit: Some(1) };
        let records = self.dial_records(&body).await?;
        let detail = if records.is_empty() {
            "token ok, public-phone records readable (none in the last 30 days)".to_string()
        } else {
            "token ok, public-phone records readable (calls in the last 30 days)".to_string()
        };
        Ok(ProbeReport { detail })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(a: &str, b: &str) -> Window {
        Window::new(a.parse().unwrap(), b.parse().unwrap())
    }

    #[test]
    fn half_open_window_becomes_closed_seconds() {
        assert_eq!(
            closed_range(&w("2024-01-01T00:00:00Z", "2024-01-01T01:00:00Z")),
            Some((1704067200, 1704067200 + 3599))
        );
        // Sub-second edges: only whole seconds inside [start, end) are asked for.
        assert_eq!(
            closed_range(&w("2024-01-01T00:00:00.5Z", "2024-01-01T00:00:02.5Z")),
            Some((1704067201, 1704067202))
        );
        assert_eq!(closed_range(&w("2024-01-01T00:00:00.2Z", "2024-01-01T00:00:00.9Z")), None);
        assert_eq!(closed_range(&w("2024-01-01T00:00:01Z", "2024-01-01T00:00:01Z")), None);
    }

    #[test]
    fn thirty_day_window_is_exactly_thirty_days_inclusive() {
        let (lo, hi) = closed_range(&w("2024-01-01T00:00:00Z", "2024-01-31T00:00:00Z")).unwrap();
        assert_eq!(hi - lo + 1, MAX_SPAN_SECS);
        assert_eq!(documented_limits().max_span, SignedDuration::from_secs(MAX_SPAN_SECS));
    }
}
