//! The sandbox fake of `GET /v3.0/leads_call_records/get`.
//!
//! Faithful where it matters to a client:
//! * authentication as the vendor checks it: `access_token` (11005 empty, 11004
//!   malformed, 11002 unknown, 11000 expired), `timestamp` within ±300 s of the real
//!   wall clock (12001), `nonce` at most 32 characters (12003) and never reused with the
//!   token (12002); missing parameters 12000;
//! * `start_date` / `end_date` are GMT+8 dates, inclusive, at most 30 days apart;
//!   every time in the answer is a GMT+8 wall-clock string;
//! * `search_after` (page ignored when it is set) returns records *strictly* later
//!   than the given second, so calls sharing the boundary second are lost by a naive
//!   client; page numbers work without it; records are ordered by start time;
//! * the per-minute quota (default 1000 a minute: the vendor's FAQ gives every app
//!   1000 requests a minute per interface by default, so the demo's 30-day sync of
//!   about 60 pages is far below it; [`FakeQuota`]); over it the app is **locked
//!   out** (default 300 s): 11017 on the breach, 11008 while locked, with a
//!   `Retry-After` header giving the seconds left;
//! * `--faults`: `ratelimit` answers 11016 / 11019 (with `Retry-After: 1`),
//!   `token_expiry` 11000; `http500` / `timeout` as every fake does;
//! * a record with an update (`update` fault) first shows no recording (answered
//!   calls) or no lead id (others); after its update time it shows them;
//! * `call_record_url` is served only within 7 days of the call's end.
//!
//! The codes 12001/12002/12003 and 12005 (other bad parameters) are this sandbox's
//! choice inside the 12000 range that VENDORS.md names for parameter errors; the public
//! return-code table we could read names 12000 only.
//!
//! Options (`--option tencent_ads.KEY=VALUE`): `requests_per_minute` (default 1000),
//! `lockout_seconds` (default 300), `token_expired=true` (every request gets 11000),
//! `max_page_size` (default 100).

use crate::auth::{self, AuthRejection, NonceBook};
use crate::wire::{CallRecordWire, Envelope, LIST_PATH, ListData, PageInfo};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use huadan_fakekit::{CallSeed, Fake, FakeContext, FakeQuota, FaultKind, QuotaRefusal, generate, mix};
use huadan_model::time::{format_gmt8, gmt8_day_start, parse_gmt8};
use huadan_model::{Instant, Provider};
use jiff::SignedDuration;
use jiff::civil::Date;
use parking_lot::Mutex;
use rand::Rng;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// The sandbox's advertiser account (the seed document's example).
pub const ACCOUNT_ID: i64 = 2_045_867;

/// The documented per-app quota the fake enforces by default.
pub const DEFAULT_REQUESTS_PER_MINUTE: u32 = 1000;

/// The default lock-out after a quota breach.
pub const DEFAULT_LOCKOUT_SECONDS: u64 = 300;

/// The largest `page_size` the fake accepts by default.
pub const DEFAULT_MAX_PAGE_SIZE: i64 = 100;

const PROVIDER: Provider = Provider::TencentAds;

/// The access token the fake accepts for a dataset seed: 32 hex characters.
pub fn token_for_seed(seed: u64) -> String {
    format!("{:016x}{:016x}", mix(&[seed, 0xAD5_70C3]), mix(&[seed, 0xAD5_70C4]))
}

struct FakeState {
    ctx: FakeContext,
    token: String,
    nonces: Mutex<NonceBook>,
    quota: Mutex<FakeQuota>,
    rpm: u32,
    lockout: Duration,
    locked_until: Mutex<Option<std::time::Instant>>,
    token_expired: bool,
    max_page_size: i64,
    roster: Vec<generate::AgentProfile>,
}

/// Build the fake.
pub fn fake(ctx: FakeContext) -> Fake {
    let opt = |k: &str| ctx.options.get(&format!("tencent_ads.{k}")).and_then(|v| v.parse::<u64>().ok());
    let rpm = opt("requests_per_minute").map(|v| v as u32).unwrap_or(DEFAULT_REQUESTS_PER_MINUTE);
    let lockout = Duration::from_secs(opt("lockout_seconds").unwrap_or(DEFAULT_LOCKOUT_SECONDS));
    let max_page_size = opt("max_page_size").map(|v| v as i64).unwrap_or(DEFAULT_MAX_PAGE_SIZE);
    let seed = ctx.dataset.spec().seed;
    let token = token_for_seed(seed);
    let state = Arc::new(FakeState {
        quota: Mutex::new(FakeQuota::new(None, Some(rpm), ctx.limits).with_lockout(lockout)),
        rpm,
        lockout,
        locked_until: Mutex::new(None),
        token_expired: ctx.flag("tencent_ads.token_expired"),
        max_page_size,
        roster: generate::roster(seed, 24),
        nonces: Mutex::new(NonceBook::default()),
        token: token.clone(),
        ctx,
    });
    let router = axum::Router::new()
        .route(LIST_PATH, get(list))
        .route("/leads_call_records/record/{file}", get(recording))
        .with_state(state);
    let mut credentials = serde_json::Map::new();
    credentials.insert("access_token".into(), token.into());
    credentials.insert("account_id".into(), ACCOUNT_ID.into());
    Fake { router, credentials }
}

fn error(code: i64, message: &str, message_cn: &str) -> Response {
    let body: Envelope<ListData<CallRecordWire>> =
        Envelope { code, message: message.to_string(), message_cn: message_cn.to_string(), data: None };
    axum::Json(body).into_response()
}

fn error_retry_after(code: i64, message: &str, message_cn: &str, wait: Duration) -> Response {
    let mut r = error(code, message, message_cn);
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    if let Ok(v) = HeaderValue::from_str(&secs.max(1).to_string()) {
        r.headers_mut().insert(header::RETRY_AFTER, v);
    }
    r
}

/// A request the fake refuses after authentication: the vendor's code and messages.
struct Refusal {
    code: i64,
    message: String,
    message_cn: String,
}

fn bad_param(what: &str) -> Refusal {
    Refusal { code: 12005, message: format!("Invalid parameter: {what}."), message_cn: format!("参数错误:{what}") }
}

async fn list(
    State(st): State<Arc<FakeState>>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let ctx = &st.ctx;
    ctx.counters.incr("requests");
    if let Some(r) = ctx.generic_fault().await {
        return r;
    }
    // Authentication, against the real wall clock (as the vendor's servers do).
    let now_s = jiff::Timestamp::now().as_second();
    let checked = {
        let mut book = st.nonces.lock();
        auth::verify(
            &st.token,
            q.get("access_token").map(String::as_str),
            q.get("timestamp").map(String::as_str),
            q.get("nonce").map(String::as_str),
            now_s,
            &mut book,
        )
    };
    if let Err(rej) = checked {
        ctx.counters.incr("auth_failures");
        match rej {
            AuthRejection::Timestamp => ctx.counters.incr("stale_timestamps"),
            AuthRejection::NonceReused => ctx.counters.incr("nonces_reused"),
            _ => {}
        }
        return error(rej.code(), rej.message(), rej.message_cn());
    }
    if st.token_expired || ctx.faults.roll(FaultKind::TokenExpiry) {
        ctx.counters.incr("auth_failures");
        let rej = AuthRejection::TokenExpired;
        return error(rej.code(), rej.message(), rej.message_cn());
    }
    if ctx.faults.roll(FaultKind::RateLimit) {
        ctx.counters.incr("rate_limited");
        return if rand::thread_rng().gen_bool(0.5) {
            error_retry_after(
                11016,
                "Application has reached the request limit per second.",
                "应用程序已达到每秒的请求限制,请稍后再试",
                Duration::from_secs(1),
            )
        } else {
            error_retry_after(
                11019,
                "Your request is much too frequent.",
                "您的请求过于频繁或主体/开发者的频控已达到上限",
                Duration::from_secs(1),
            )
        };
    }
    match check_quota(&st) {
        Ok(()) => {}
        Err(QuotaRefusal::OverLimit) => {
            ctx.counters.incr("rate_limited");
            ctx.counters.incr("lockouts");
            return error_retry_after(
                11017,
                "Application has reached the request limit per minute.",
                "应用请求已达分钟频次上限,请登陆开发者后台查看当前接口对应分配的频次,并在要求范围内请求接口。",
                st.lockout,
            );
        }
        Err(QuotaRefusal::LockedOut) => {
            ctx.counters.incr("rate_limited");
            let left = st
                .locked_until
                .lock()
                .map(|u| u.saturating_duration_since(std::time::Instant::now()))
                .unwrap_or(st.lockout);
            return error_retry_after(
                11008,
                "Application request limit has been exceeded.",
                "该应用的请求次数已达限制,请稍后重试",
                left,
            );
        }
    }
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("127.0.0.1");
    let base = format!("http://{host}");
    match answer_list(&st, &q, &base) {
        Ok(r) => r,
        Err(r) => {
            ctx.counters.incr("bad_parameters");
            error(r.code, &r.message, &r.message_cn)
        }
    }
}

/// Admit one request under the per-minute quota. When a lock-out ends, counting starts
/// afresh: a real 5-minute lock-out always outlasts the minute it was earned in, and a
/// shortened one (`lockout_seconds`, for tests) must behave the same.
fn check_quota(st: &FakeState) -> Result<(), QuotaRefusal> {
    let mut locked = st.locked_until.lock();
    if locked.is_some_and(|u| std::time::Instant::now() >= u) {
        *locked = None;
        *st.quota.lock() = FakeQuota::new(None, Some(st.rpm), st.ctx.limits).with_lockout(st.lockout);
    }
    let verdict = st.quota.lock().check();
    if verdict == Err(QuotaRefusal::OverLimit) {
        *locked = Some(std::time::Instant::now() + st.lockout);
    }
    verdict
}

fn int_param(q: &HashMap<String, String>, key: &str) -> Result<Option<i64>, Refusal> {
    match q.get(key).map(|s| s.trim()) {
        None | Some("") => Ok(None),
        Some(v) => v.parse::<i64>().map(Some).map_err(|_| bad_param(&format!("{key} must be an integer"))),
    }
}

fn date_param(q: &HashMap<String, String>, key: &str) -> Result<Date, Refusal> {
    let v = q.get(key).ok_or_else(|| bad_param(&format!("{key} is required")))?;
    if v.len() != 10 {
        return Err(bad_param(&format!("{key} must be YYYY-MM-DD")));
    }
    v.parse::<Date>().map_err(|_| bad_param(&format!("{key} must be YYYY-MM-DD")))
}

fn answer_list(st: &FakeState, q: &HashMap<String, String>, base: &str) -> Result<Response, Refusal> {
    let ctx = &st.ctx;
    let account = int_param(q, "account_id")?.ok_or_else(|| bad_param("account_id is required"))?;
    if account != ACCOUNT_ID {
        return Err(Refusal {
            code: 11014,
            message: "The API you requested is out of the scope of authority.".into(),
            message_cn: "您请求的账号超出了授权范围".into(),
        });
    }
    let page_size = int_param(q, "page_size")?.ok_or_else(|| bad_param("page_size is required"))?;
    if page_size < 1 || page_size > st.max_page_size {
        return Err(bad_param(&format!("page_size must be between 1 and {}", st.max_page_size)));
    }
    let start_date = date_param(q, "start_date")?;
    let end_date = date_param(q, "end_date")?;
    if end_date < start_date {
        return Err(bad_param("end_date must not be before start_date"));
    }
    if (end_date - start_date).get_days() > 30 {
        return Err(bad_param("end_date and start_date must be at most 30 days apart"));
    }
    let search_after = match q.get("search_after").map(|s| s.trim()).filter(|s| !s.is_empty()) {
        Some(s) => Some(parse_gmt8(s).map_err(|_| bad_param("search_after must be YYYY-MM-DD HH:MM:SS"))?),
        None => None,
    };
    let page = int_param(q, "page")?;
    if search_after.is_none() && page.is_none() {
        return Err(bad_param("page is required"));
    }
    let page = page.unwrap_or(1);
    if search_after.is_none() && page < 1 {
        return Err(bad_param("page must be at least 1"));
    }
    let range_start = gmt8_day_start(start_date);
    let range_end = end_date.tomorrow().map(gmt8_day_start).unwrap_or(range_start);
    let ps = page_size as usize;
    let seeds = match search_after {
        Some(after) => {
            ctx.counters.incr("search_after_requests");
            // Strictly greater than the given second.
            let from = (after + SignedDuration::from_secs(1)).max(range_start);
            ctx.dataset.page(PROVIDER, from, range_end, 0, ps)
        }
        None => {
            ctx.counters.incr("page_requests");
            let offset = (page as u64 - 1).saturating_mul(page_size as u64);
            ctx.dataset.page(PROVIDER, range_start, range_end, offset, ps)
        }
    };
    let total = ctx.dataset.count_between(PROVIDER, range_start, range_end) as i64;
    let now = ctx.dataset.now();
    let entities: Vec<CallRecordWire> = seeds.into_iter().map(|s| wire_record(st, s, now, base)).collect();
    ctx.counters.add("records_served", entities.len() as u64);
    let request_id = {
        let h = mix(&[
            range_start.as_second() as u64,
            range_end.as_second() as u64,
            page as u64,
            page_size as u64,
            search_after.map(|t| t.as_second() as u64).unwrap_or(0),
        ]);
        format!(
            "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
            h >> 32,
            (h >> 16) & 0xffff,
            h & 0xffff,
            (h >> 48) & 0xffff,
            h & 0xffff_ffff_ffff
        )
    };
    let body = Envelope {
        code: 0,
        message: String::new(),
        message_cn: String::new(),
        data: Some(ListData {
            page_info: Some(PageInfo {
                page: Some(if search_after.is_some() { 1 } else { page }),
                page_size: Some(page_size),
                total_number: Some(total),
                total_page: Some((total + page_size - 1) / page_size),
            }),
            request_id: Some(request_id),
            entities,
        }),
    };
    Ok(axum::Json(body).into_response())
}

/// End statuses with their weights: mostly answered, then no answer, rejections…
const END_STATUS: &[(i64, u32)] =
    &[(0, 55), (1, 6), (2, 15), (3, 3), (4, 2), (5, 5), (6, 4), (7, 2), (8, 4), (9, 3), (10, 1)];

/// One dataset call as the vendor would serve it now.
fn wire_record(st: &FakeState, mut seed: CallSeed, now: Instant, base: &str) -> CallRecordWire {
    let rng = &mut seed.rng;
    let outbound = rng.gen_bool(0.7);
    let agent = &st.roster[rng.gen_range(0..st.roster.len())];
    let customer = generate::customer_number(rng);
    let status = *generate::weighted(rng, END_STATUS);
    let start = seed.at;
    let ring = start + SignedDuration::from_secs(rng.gen_range(0..=2));
    let ring_secs = generate::ring_seconds(rng);
    let talk = generate::talk_seconds(rng);
    let leads_id = 218_000_000 + (seed.key % 1_000_000) as i64;
    let (answer, end, duration) = if status == 0 {
        let answer = ring + SignedDuration::from_secs(ring_secs);
        (Some(answer), answer + SignedDuration::from_secs(talk), talk)
    } else {
        (None, ring + SignedDuration::from_secs(ring_secs), 0)
    };
    let date = format_gmt8(start);
    let yymmdd = format!("{}{}{}", &date[2..4], &date[5..7], &date[8..10]);
    let call_id = format!(
        "clouspstn_16-{yymmdd}-{:020}{:020}{:03}",
        seed.key,
        rng.r#gen::<u64>() % 10u64.pow(19),
        rng.gen_range(0..1000)
    );
    let updated = st.ctx.dataset.updated_at(&seed).map(|t| now >= t);
    let recording_live = now < end + SignedDuration::from_hours(7 * 24);
    let recording = match (status, updated) {
        (0, Some(false)) => String::new(), // still being processed
        (0, _) if recording_live => st.ctx.recording_url(
            &format!("{base}/leads_call_records/record/{call_id}.mp3"),
            Some(end + SignedDuration::from_hours(7 * 24)),
        ),
        _ => String::new(),
    };
    let leads = match (status, updated) {
        (s, Some(false)) if s != 0 => 0, // lead not linked yet
        _ => leads_id,
    };
    let (caller, callee) = if outbound { (agent.phone.clone(), customer) } else { (customer, agent.phone.clone()) };
    CallRecordWire {
        call_id,
        account_id: Some(ACCOUNT_ID),
        leads_id: Some(leads),
        caller: Some(caller),
        callee: Some(callee),
        call_direction: Some(if outbound { "CALL_OUT" } else { "CALL_IN" }.into()),
        duration: Some(duration),
        call_start_time: format_gmt8(start),
        call_end_time: Some(format_gmt8(end)),
        ring_time: Some(format_gmt8(ring)),
        answer_time: Some(answer.map(format_gmt8).unwrap_or_default()),
        end_status: Some(status),
        call_record_url: Some(recording),
    }
}

async fn recording(Path(file): Path<String>) -> Response {
    if !file.ends_with(".mp3") || file.len() > 128 {
        return (StatusCode::NOT_FOUND, "no such recording").into_response();
    }
    // A tiny MPEG frame header followed by silence: enough for an archiver to store.
    let mut body = vec![0xFF, 0xFB, 0x90, 0x64];
    body.resize(417, 0);
    ([(header::CONTENT_TYPE, "audio/mpeg")], body).into_response()
}
