//! The Tencent Ads client: one signed `GET /v3.0/leads_call_records/get` per fetch,
//! GMT+8 whole-day windows, a tie-safe `search_after` cursor, and the vendor's error
//! codes classified once.
//!
//! ## Windows
//! The API filters on `start_date` / `end_date`: GMT+8 calendar dates, inclusive, at
//! most 30 days apart. [`Client`] plans windows whose inner boundaries are GMT+8
//! midnights and that cover at most 30 dates each. A window that starts or ends in
//! the middle of a day (the engine's incremental head, a bisected half) still asks
//! for whole days and keeps only the records inside `[start, end)`; the first request
//! of a mid-day window jumps to its start with `search_after`.
//!
//! ## Errors
//! [`classify`] maps the vendor's return codes. The token is configured, not fetched,
//! so `reset_auth` has nothing to drop: an expired token (11000) is `RefreshAuth`, which
//! the engine retries once (an injected `token_expiry` fault passes) and then, the same
//! answer coming back, stops the source with the OAuth advice; an invalid or malformed
//! token (11002/11004/11005) is fatal at once. Over the per-minute quota the vendor
//! locks the app out for 5 minutes (11017, then 11008): `RateLimited` with the
//! `Retry-After` the answer carries, else the documented 300 s.
//!
//! ## Ties at page boundaries
//! Past page 1 the vendor wants `search_after` = the last record's `call_start_time`
//! and returns records strictly later than it. Calls sharing that second across a
//! page boundary would be lost. The cursor therefore remembers the last second `T`
//! and the `call_id`s already returned at `T`; the next request asks for everything
//! after `T − 1 s` and drops those ids. If a whole page holds nothing but second `T`
//! (more calls in one second than a page holds), `search_after` cannot move on, and the
//! cursor falls back to page numbers, starting from the page that holds the first
//! record of `T` (its position is counted as pages go by), until it is past `T`.

use crate::auth;
use crate::normalize;
use crate::wire::{Envelope, LIST_PATH, ListData};
use async_trait::async_trait;
use huadan_config::Secret;
use huadan_model::time::{format_gmt8, gmt8_date, gmt8_day_start, parse_gmt8};
use huadan_model::{CallRecord, Instant, Provider, RawJson};
use huadan_vendor::http::{Answer, Http};
use huadan_vendor::{
    Cursor, ErrorClass, FetchError, NormalizeError, Page, PlanError, ProbeReport, Quota, Vendor, VendorLimits, Window,
};
use jiff::SignedDuration;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::time::Duration;

/// Records per page the client asks for (the vendor's usual maximum).
pub const DEFAULT_PAGE_SIZE: u32 = 100;

/// The most dates one query may cover: `end_date − start_date ≤ 30` would allow 31;
/// we stay at 30 to be safe at the edge.
pub const MAX_DATES_PER_QUERY: i64 = 30;

/// How long an app that went over its per-minute quota is locked out.
pub const LOCKOUT: Duration = Duration::from_secs(300);

/// The documented per-app, per-interface quota: 1000 requests a minute (20 000 a day
/// for read interfaces; the daily cap is reported as 11018).
pub const REQUESTS_PER_MINUTE: u32 = 1000;

/// The limits the engine must respect for this vendor: windows of at most 30 GMT+8
/// dates, bisection no finer than a day (the API cannot ask for less), no cap on how
/// deep `search_after` pages, the documented 1000 requests a minute, and a 2-hour
/// lookback (a lead call is listed once it has ended, which for a long call is well
/// after its start time, the field the API filters on).
pub fn documented_limits() -> VendorLimits {
    VendorLimits {
        max_span: SignedDuration::from_hours(24 * MAX_DATES_PER_QUERY),
        min_span: SignedDuration::from_hours(24),
        max_records_per_query: None,
        max_age: None,
        default_lookback: SignedDuration::from_hours(2),
        quota: Quota { per_second: None, per_minute: Some(REQUESTS_PER_MINUTE) },
        settle_within: None,
    }
}

/// Split `range` into windows whose inner boundaries are GMT+8 midnights, each covering
/// at most `max_dates` GMT+8 dates. The first window may start and the last may end
/// mid-day; together they cover `range` exactly.
pub fn plan_gmt8_days(range: Window, max_dates: i64) -> Vec<Window> {
    let mut out = Vec::new();
    let mut start = range.start;
    while start < range.end {
        let next_date = gmt8_date(start).checked_add(jiff::Span::new().days(max_dates.max(1)));
        let end = match next_date {
            Ok(d) => gmt8_day_start(d).min(range.end),
            Err(_) => range.end,
        };
        if end <= start {
            out.push(Window::new(start, range.end));
            break;
        }
        out.push(Window::new(start, end));
        start = end;
    }
    out
}

/// The inclusive GMT+8 dates a window needs: the date of its first instant and the
/// date of its last instant (`end` is excluded).
pub fn window_dates(window: &Window) -> (Date, Date) {
    let last = window.end.checked_sub(SignedDuration::from_nanos(1)).unwrap_or(window.end).max(window.start);
    (gmt8_date(window.start), gmt8_date(last))
}

/// What the code table says about one vendor error code: a user-facing meaning and
/// what the engine should do. `retry_after` is the `Retry-After` header, when sent.
pub fn classify(code: i64, retry_after: Option<Duration>) -> (Option<&'static str>, ErrorClass) {
    use ErrorClass::*;
    let limited = |default: Duration| RateLimited { retry_after: Some(retry_after.unwrap_or(default)) };
    match code {
        10000 => (Some("the vendor is busy; retrying"), Retry),
        10001 => (Some("the Marketing API is in temporary maintenance; retrying"), Retry),
        11000 => (Some(TOKEN_EXPIRED), RefreshAuth),
        11002 | 11004 | 11005 => (Some(TOKEN_INVALID), Fatal),
        11007 => (Some("the app (client_id) behind this access_token is invalid; re-authorise the app"), Fatal),
        11014 => (
            Some(
                "the token's app is not granted this API (ads_management / ads_insights / account_management / \
                 audience_management / user_actions); grant it in the developer console and re-authorise",
            ),
            Fatal,
        ),
        11008 => (Some(LOCKED_OUT), limited(LOCKOUT)),
        11017 => (Some(LOCKED_OUT), limited(LOCKOUT)),
        11016 => (Some("over the app's per-second request limit; slowing down"), limited(Duration::from_secs(1))),
        11019 => (
            Some("requests too frequent for this advertiser or developer; slowing down"),
            limited(Duration::from_secs(10)),
        ),
        11018 => (
            Some(
                "the app's daily request quota is used up; the next run after midnight (GMT+8) continues, or apply \
                 for a larger quota",
            ),
            Fatal,
        ),
        12001 => {
            (Some("the vendor refused our timestamp: this machine's clock is more than 300 s off; fix it (NTP)"), Fatal)
        }
        12002 => (Some("the vendor saw this nonce before; retrying with a fresh one"), Retry),
        12000..=12999 => (
            Some("the vendor rejected the request's parameters (a huadan bug or an API change; please report it)"),
            Fatal,
        ),
        _ => (Some("an error code huadan does not know; see the vendor's return-code table"), Fatal),
    }
}

const TOKEN_EXPIRED: &str = "the access_token has expired. Tencent Ads access tokens come from OAuth 2.0 and live \
24 hours: exchange your refresh_token at https://api.e.qq.com/oauth/token (grant_type=refresh_token), or have the \
account owner re-authorise your app if the refresh token (30 days) has expired too; then set `access_token` of this \
source";

const TOKEN_INVALID: &str = "the access_token is not valid (wrong, malformed or empty). Get a token through the \
Tencent Ads OAuth 2.0 flow (https://developers.e.qq.com/oauth/authorize, then oauth/token) and set \
`access_token` of this source";

const LOCKED_OUT: &str = "over the app's per-minute quota: Tencent Ads locks the app out for 5 minutes; waiting it \
out (lower requests_per_minute if this repeats)";

/// The paging position inside one window (serialised into [`Cursor`]).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TieCursor {
    /// The last `call_start_time` returned (GMT+8 wall clock).
    pub after: String,
    /// The `call_id`s at exactly `after` already returned.
    pub seen: Vec<String>,
    /// How many records of the queried dates lie before `after`, where known.
    #[serde(default)]
    pub before: Option<u64>,
    /// Page-number fallback: the next page to ask for (no `search_after`).
    #[serde(default)]
    pub page: Option<u64>,
    /// The page size of the page-number fallback (pages are positions, so it must stay
    /// the same while the fallback lasts).
    #[serde(default)]
    pub page_size: Option<u64>,
}

/// One configured Tencent Ads source.
#[derive(Debug)]
pub struct Client {
    source: String,
    base: String,
    account_id: i64,
    access_token: Secret,
    http: Http,
    limits: VendorLimits,
    page_size: u32,
}

enum Mode {
    /// First page: page 1, with `search_after` when the window starts mid-day.
    First { jumped: bool },
    /// `search_after` = T − 1 s.
    After,
    /// Page-number fallback at page `p`.
    Paging(u64),
}

impl Client {
    /// A client for `endpoint` (e.g. `https://api.e.qq.com`, or the sandbox).
    pub fn new(
        source: &str,
        endpoint: &url::Url,
        access_token: Secret,
        account_id: i64,
        http: Http,
        limits: VendorLimits,
    ) -> Self {
        let mut base = endpoint.as_str().trim_end_matches('/').to_string();
        if let Some(stripped) = base.strip_suffix("/v3.0") {
            base = stripped.to_string();
        }
        Client {
            source: source.to_string(),
            base,
            account_id,
            access_token,
            http,
            limits,
            page_size: DEFAULT_PAGE_SIZE,
        }
    }

    /// Ask for `n` records per page (tests use small pages to provoke ties).
    pub fn with_page_size(mut self, n: u32) -> Self {
        self.page_size = n.max(1);
        self
    }

    /// The page size in use.
    pub fn page_size(&self) -> u32 {
        self.page_size
    }

    async fn send(&self, params: &[(&str, String)]) -> Result<Answer, FetchError> {
        let timestamp = jiff::Timestamp::now().as_second();
        let nonce = auth::new_nonce();
        let request = self
            .http
            .client()
            .get(format!("{}{}", self.base, LIST_PATH))
            .query(&auth::auth_query(self.access_token.expose(), timestamp, &nonce))
            .query(params);
        self.http.send(request).await
    }

    /// Send one list request and return its `data`, or the classified error.
    async fn list(&self, params: &[(&str, String)]) -> Result<ListData<RawJson>, FetchError> {
        let answer = self.send(params).await?;
        read_answer(&answer)
    }

    fn base_params(&self, start: Date, end: Date, page_size: u64) -> Vec<(&'static str, String)> {
        vec![
            ("account_id", self.account_id.to_string()),
            ("page_size", page_size.to_string()),
            ("start_date", start.to_string()),
            ("end_date", end.to_string()),
        ]
    }
}

/// Turn an HTTP answer into the list's `data` or a classified [`FetchError`]. Each
/// record is kept as its compact JSON text (no `Value` tree).
pub fn read_answer(answer: &Answer) -> Result<ListData<RawJson>, FetchError> {
    let envelope = answer.json::<Envelope<ListData<RawJson>>>()?;
    if envelope.code != 0 {
        let retry_after = answer
            .headers
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let (meaning, class) = classify(envelope.code, retry_after);
        let message = match (envelope.message.is_empty(), envelope.message_cn.is_empty()) {
            (false, false) => format!("{} / {}", envelope.message, envelope.message_cn),
            (false, true) => envelope.message,
            (true, false) => envelope.message_cn,
            (true, true) => String::new(),
        };
        return Err(FetchError::Vendor { code: envelope.code.to_string(), message, meaning, class });
    }
    if !answer.is_success() {
        return Err(answer.http_error());
    }
    envelope.data.ok_or_else(|| FetchError::bad_answer("code 0 but no `data`", &answer.body))
}

impl Client {
    /// One record of a page, read from its text (no `Value` tree); the text becomes
    /// `raw` as is. A record that does not read is a bad answer quoting the record.
    fn record(&self, raw: RawJson) -> Result<CallRecord, FetchError> {
        let bad = |e: NormalizeError| FetchError::bad_answer(e.0, raw.get().as_bytes());
        let wire = normalize::parse_raw(&raw).map_err(bad)?;
        let mut record = normalize::normalize_wire(&self.source, &wire).map_err(bad)?;
        record.raw = raw;
        Ok(record)
    }
}

fn cursor_error(message: String) -> FetchError {
    FetchError::Vendor {
        code: "cursor".into(),
        message,
        meaning: Some("an internal paging cursor could not be read (a huadan bug)"),
        class: ErrorClass::Fatal,
    }
}

#[async_trait]
impl Vendor for Client {
    fn provider(&self) -> Provider {
        Provider::TencentAds
    }

    fn source(&self) -> &str {
        &self.source
    }

    fn limits(&self) -> &VendorLimits {
        &self.limits
    }

    fn plan(&self, range: Window, now: Instant) -> Result<Vec<Window>, PlanError> {
        if range.is_empty() {
            return Ok(Vec::new());
        }
        if let Some(max_age) = self.limits.max_age {
            let oldest = now - max_age;
            if range.start < oldest {
                return Err(PlanError::TooOld { requested: range.start, oldest });
            }
        }
        let days = (self.limits.max_span.as_secs() / 86_400).clamp(1, MAX_DATES_PER_QUERY);
        Ok(plan_gmt8_days(range, days))
    }

    async fn fetch(&self, window: &Window, cursor: Option<&Cursor>) -> Result<Page, FetchError> {
        if window.is_empty() {
            return Ok(Page::default());
        }
        let (start_date, end_date) = window_dates(window);
        let state: Option<TieCursor> =
            cursor.map(|c| serde_json::from_value(c.0.clone()).map_err(|e| cursor_error(e.to_string()))).transpose()?;
        let tie: Option<Instant> = match &state {
            Some(s) => Some(parse_gmt8(&s.after).map_err(|e| cursor_error(e.to_string()))?),
            None => None,
        };
        let one_sec = SignedDuration::from_secs(1);
        // The fallback pages with the largest page size we use, so that re-reading from
        // the start of the dates (after a mid-day jump) costs few requests.
        let fallback_size = (self.page_size as u64).max(DEFAULT_PAGE_SIZE as u64);
        let page_size = match &state {
            Some(TieCursor { page: Some(_), page_size: Some(f), .. }) => (*f).max(1),
            Some(TieCursor { page: Some(_), .. }) => fallback_size,
            _ => self.page_size as u64,
        };
        let mut params = self.base_params(start_date, end_date, page_size);
        let mode = match (&state, tie) {
            (Some(TieCursor { page: Some(p), .. }), _) => {
                params.push(("page", p.to_string()));
                Mode::Paging(*p)
            }
            (Some(_), Some(t)) => {
                params.push(("page", "1".into()));
                params.push(("search_after", format_gmt8(t - one_sec)));
                Mode::After
            }
            _ => {
                params.push(("page", "1".into()));
                let day_start = gmt8_day_start(start_date);
                if window.start > day_start {
                    let floor = Instant::from_second(window.start.as_second()).unwrap_or(window.start);
                    params.push(("search_after", format_gmt8(floor - one_sec)));
                    Mode::First { jumped: true }
                } else {
                    Mode::First { jumped: false }
                }
            }
        };

        let data = self.list(&params).await?;

        let mut parsed: Vec<(Instant, CallRecord)> = Vec::with_capacity(data.entities.len());
        for raw in data.entities {
            let rec = self.record(raw)?;
            parsed.push((rec.started_at, rec));
        }
        if parsed.windows(2).any(|w| w[1].0 < w[0].0) {
            return Err(FetchError::bad_answer("records are not in call_start_time order", b""));
        }
        if let (Mode::After, Some(t), Some(first)) = (&mode, tie, parsed.first())
            && first.0 < t
        {
            return Err(FetchError::bad_answer(
                format!("search_after was not applied: got {} after {}", format_gmt8(first.0), format_gmt8(t)),
                b"",
            ));
        }

        let seen: HashSet<&str> =
            state.as_ref().map(|s| s.seen.iter().map(String::as_str).collect()).unwrap_or_default();
        let full = parsed.len() as u64 >= page_size;
        let last = parsed.last().map(|(t, _)| *t);

        // The cursor for the next page, computed before the records move out.
        let next = match last {
            None => None,
            Some(_) if !full => None,
            Some(l) if l >= window.end => None,
            Some(l) if tie.is_some_and(|t| l <= t) => {
                // A whole page inside second T: search_after cannot move on. (In the
                // page-number fallback, a page still before T keeps paging too.)
                let t = tie.unwrap_or(l);
                let mut seen_next: Vec<String> = state.as_ref().map(|s| s.seen.clone()).unwrap_or_default();
                for (at, r) in &parsed {
                    if *at == t && !seen_next.contains(&r.provider_call_id) {
                        seen_next.push(r.provider_call_id.clone());
                    }
                }
                let before = state.as_ref().and_then(|s| s.before);
                let (page, size) = match mode {
                    Mode::Paging(p) => (p + 1, page_size),
                    _ => (before.map(|b| b / fallback_size + 1).unwrap_or(1), fallback_size),
                };
                Some(TieCursor {
                    after: format_gmt8(t),
                    seen: seen_next,
                    before,
                    page: Some(page),
                    page_size: Some(size),
                })
            }
            Some(l) => {
                let mut seen_next: Vec<String> = Vec::new();
                for (t, r) in &parsed {
                    if *t == l && !seen_next.contains(&r.provider_call_id) {
                        seen_next.push(r.provider_call_id.clone());
                    }
                }
                let earlier = parsed.iter().filter(|(t, _)| *t < l).count() as u64;
                let before = match mode {
                    Mode::Paging(p) => Some((p - 1) * page_size + earlier),
                    Mode::First { jumped: false } => Some(earlier),
                    Mode::First { jumped: true } => None,
                    Mode::After => state.as_ref().and_then(|s| s.before).map(|b| b + earlier),
                };
                Some(TieCursor { after: format_gmt8(l), seen: seen_next, before, page: None, page_size: None })
            }
        };

        let mut ids: HashSet<String> = HashSet::new();
        let mut records = Vec::with_capacity(parsed.len());
        for (t, rec) in parsed {
            let already = match tie {
                Some(tt) => t < tt || (t == tt && seen.contains(rec.provider_call_id.as_str())),
                None => false,
            };
            if already || !ids.insert(rec.provider_call_id.clone()) {
                continue;
            }
            if window.contains(t) {
                records.push(rec);
            }
        }

        let whole_days = window.start == gmt8_day_start(start_date)
            && end_date.tomorrow().map(gmt8_day_start).is_ok_and(|e| e == window.end);
        let total = match mode {
            Mode::First { jumped: false } if whole_days => {
                data.page_info.and_then(|p| p.total_number).and_then(|n| u64::try_from(n).ok())
            }
            _ => None,
        };
        let next = match next {
            Some(c) => {
                Some(Cursor(serde_json::to_value(&c).map_err(|e| cursor_error(format!("cannot write cursor: {e}")))?))
            }
            None => None,
        };
        Ok(Page { records, next, total })
    }

    fn normalize(&self, raw: &serde_json::Value) -> Result<CallRecord, NormalizeError> {
        normalize::normalize(&self.source, raw)
    }

    async fn probe(&self) -> Result<ProbeReport, FetchError> {
        let today = gmt8_date(jiff::Timestamp::now());
        let mut params = self.base_params(today, today, 1);
        params.push(("page", "1".into()));
        let data = self.list(&params).await?;
        let n = data.page_info.and_then(|p| p.total_number).unwrap_or(data.entities.len() as i64);
        Ok(ProbeReport {
            detail: format!("token accepted; {n} lead calls today (GMT+8) in account {}", self.account_id),
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
    fn plan_aligns_inner_boundaries_to_gmt8_midnight() {
        // 2024-01-01 10:30 Beijing .. 2024-03-05 09:00 Beijing.
        let range = Window::new(t("2024-01-01T02:30:00Z"), t("2024-03-05T01:00:00Z"));
        let w = plan_gmt8_days(range, 30);
        assert_eq!(w.first().unwrap().start, range.start);
        assert_eq!(w.last().unwrap().end, range.end);
        for pair in w.windows(2) {
            assert_eq!(pair[0].end, pair[1].start);
            assert_eq!(format_gmt8(pair[0].end).split(' ').nth(1), Some("00:00:00"));
        }
        for win in &w {
            let (a, b) = window_dates(win);
            let days = (b - a).get_days();
            assert!(days <= 29, "{win}: {a}..{b}");
        }
        assert_eq!(format_gmt8(w[0].end), "2024-01-31 00:00:00");
        assert_eq!(w.len(), 3);
    }

    #[test]
    fn window_dates_exclude_the_end_instant() {
        let w = Window::new(t("2024-02-28T16:00:00Z"), t("2024-02-29T16:00:00Z"));
        let (a, b) = window_dates(&w);
        assert_eq!((a.to_string(), b.to_string()), ("2024-02-29".into(), "2024-02-29".into()));
        let w = Window::new(t("2024-02-28T16:00:00Z"), t("2024-02-29T16:00:01Z"));
        assert_eq!(window_dates(&w).1.to_string(), "2024-03-01");
    }

    #[test]
    fn code_table() {
        use ErrorClass::*;
        assert_eq!(classify(11000, None).1, RefreshAuth);
        for c in [11002, 11004, 11005] {
            assert_eq!(classify(c, None).1, Fatal);
            assert!(classify(c, None).0.unwrap().contains("OAuth"));
        }
        assert!(classify(11000, None).0.unwrap().contains("OAuth"));
        assert_eq!(classify(11017, None).1, RateLimited { retry_after: Some(LOCKOUT) });
        assert_eq!(
            classify(11008, Some(Duration::from_secs(7))).1,
            RateLimited { retry_after: Some(Duration::from_secs(7)) }
        );
        assert!(matches!(classify(11016, None).1, RateLimited { .. }));
        assert!(matches!(classify(11019, None).1, RateLimited { .. }));
        assert_eq!(classify(10000, None).1, Retry);
        assert_eq!(classify(12002, None).1, Retry);
        assert_eq!(classify(12001, None).1, Fatal);
        assert_eq!(classify(12005, None).1, Fatal);
        assert_eq!(classify(11018, None).1, Fatal);
        assert_eq!(classify(99999, None).1, Fatal);
    }
}
