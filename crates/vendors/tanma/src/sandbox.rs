//! The Tanma fake: `POST /api/v3/app/getCallList`, answering as Tanma does.
//!
//! * **Auth**: the four headers `appId`, `appKey`, `timestamp`, `sign` are required
//!   (else [`codes::MISSING_AUTH`]); `appId`/`appKey` must be this sandbox's
//!   ([`codes::UNKNOWN_APP`]); `sign` must be [`crate::auth::sign`]
//!   ([`codes::BAD_SIGN`]); `timestamp` must be within ±5 minutes of the **wall clock**
//!   ([`codes::EXPIRED`]) — the request's age is real time, whatever the dataset's
//!   clock says, so tests may move the dataset clock freely.
//! * **Body**: `type` required (`call` serves calls; `chat`, the doc's example value,
//!   serves chat voice messages — none in this dataset, so an empty list; anything else
//!   [`codes::BAD_PARAMETER`]); `pageNo` ≥ 1; `pageSize` 1..=100 (the sandbox's limit);
//!   `startTime`/`endTime` exactly `YYYY-MM-DD HH:MM:SS` GMT+8, a **closed** range, each
//!   optional (dataset start / now).
//! * **The filter is on `gmtCreateTime`** = the dataset call's `seed.at`; `msgTime` (the
//!   call) lies minutes to weeks earlier. One wire record per dataset call, newest
//!   `gmtCreateTime` first; `totalCount`/`totalPage` on every page.
//! * **Records change**: a share of records ([`DEFAULT_PENDING`], option
//!   `tanma.pending`) are still transcribing for 1–30 minutes after they appear
//!   (`status` 1 转换中, or 3 排队中 — any status but 0 and 2 is pending) and then
//!   settle to `2 转换成功` with `content` = `{"Sentences":[…]}` or `0 转换失败` with the
//!   speech engine's status object in `message` and `content`. After the dataset's
//!   `updated_at` a record's `receiveName` changes (the customer got a remark).
//! * **Ids** are 15-digit integers, growing with creation time; option
//!   `tanma.wide_ids=true` adds 2^53 so every id is beyond a double's exact range.
//! * **Faults**: `http500`/`timeout` via [`FakeContext::generic_fault`]; `ratelimit` and
//!   the quota (10 requests/second, when limits are on) answer [`codes::RATE_LIMITED`];
//!   `token_expiry` answers [`codes::EXPIRED`]. Every vendor error is HTTP 200 with
//!   `{"code", "message", "data": null}`.
//!
//! Counters: `requests`, `auth_failures`, `stale_timestamps`, `rate_limited`,
//! `token_expired`, `bad_requests`, `records_served`, `pending_served`, `updated_served`.

use crate::auth;
use crate::client::codes;
use crate::wire::{
    CALL_LIST_PATH, CallListData, CallListRequest, CallRecordWire, DepartmentWire, Envelope, SentenceWire,
    SentencesContent, SpeechStatus, TYPE_CALL,
};
use axum::Router;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use bytes::Bytes;
use huadan_fakekit::generate::{self, AgentProfile};
use huadan_fakekit::{CallSeed, Dataset, Fake, FakeContext, FakeQuota, FaultKind, mix};
use huadan_model::time::{GMT8, format_gmt8, parse_gmt8};
use huadan_model::{Instant, Provider};
use jiff::SignedDuration;
use rand::Rng;
use rand::seq::SliceRandom;
use std::sync::Arc;
use subtle::ConstantTimeEq;

/// Share of records still pending for a while after they appear.
pub const DEFAULT_PENDING: f64 = 0.35;
/// A pending record settles this many seconds after it appears, at the earliest…
pub const SETTLE_MIN_S: i64 = 60;
/// …and at the latest.
pub const SETTLE_MAX_S: i64 = 1800;
/// The sandbox's largest `pageSize`.
pub const MAX_PAGE_SIZE: i64 = 100;
/// The sandbox's quota, requests per second.
pub const QUOTA_PER_SECOND: u32 = 10;
/// Added to every id with `tanma.wide_ids`.
pub const WIDE_ID_OFFSET: u64 = 1 << 53;
const SETTLE_SALT: u64 = 0x7A_4D_A1;
/// Ids count seconds from 2015-01-01 UTC, shifted left 21 bits, plus the call's index
/// in its hour: 15 digits for dates in the 2020s.
const ID_EPOCH_S: i64 = 1_420_070_400;

/// The credentials this sandbox accepts (derived from the dataset seed).
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// `appId`.
    pub app_id: String,
    /// `appKey`.
    pub app_key: String,
    /// `appSecret`.
    pub app_secret: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials").field("app_id", &self.app_id).finish_non_exhaustive()
    }
}

impl Credentials {
    /// The credentials of the sandbox built from dataset seed `seed`.
    pub fn for_seed(seed: u64) -> Self {
        let h = |i: u64| mix(&[seed, 0x7A4A, i]);
        Credentials {
            app_id: format!("{:016x}", h(1)),
            app_key: format!("{:016x}{:016x}", h(2), h(3)),
            app_secret: format!("{:016x}{:016x}", h(4), h(5)),
        }
    }
}

/// Turns dataset calls into Tanma wire records, deterministically.
#[derive(Debug, Clone)]
pub struct Generator {
    dataset: Dataset,
    /// For recording links (`FakeContext::recording_url`).
    ctx: FakeContext,
    roster: Vec<AgentProfile>,
    corp_id: String,
    corp_hash: String,
    sales_id: String,
    pending: f64,
    wide_ids: bool,
}

const COMPANIES: &[&str] = &["向量智享科技", "麦田房产", "优选商贸", "华信物流", "德润教育", "星辰医疗"];
const FAILURES: &[((&str, i64), u32)] = &[
    (("SUCCESS_WITH_NO_VALID_FRAGMENT", 21050003), 80),
    (("FILE_DOWNLOAD_FAILED", 41050002), 12),
    (("UNSUPPORTED_SAMPLE_RATE", 41050008), 8),
];

fn hex32(rng: &mut impl Rng) -> String {
    format!("{:016x}{:016x}", rng.r#gen::<u64>(), rng.r#gen::<u64>())
}

fn ceil_div(a: i64, b: i64) -> i64 {
    (a + b - 1).div_euclid(b)
}

impl Generator {
    /// A generator for the context's dataset and options (`tanma.pending`,
    /// `tanma.wide_ids`).
    pub fn new(ctx: &FakeContext) -> Self {
        let seed = ctx.dataset.spec().seed;
        let pending = ctx
            .options
            .get("tanma.pending")
            .and_then(|v| v.parse::<f64>().ok())
            .filter(|p| (0.0..=1.0).contains(p))
            .unwrap_or(DEFAULT_PENDING);
        Generator {
            dataset: ctx.dataset.clone(),
            ctx: ctx.clone(),
            roster: generate::roster(seed, 24),
            corp_id: format!("ww{:016x}", mix(&[seed, 0xC0, 1])),
            corp_hash: format!("{:016x}{:016x}", mix(&[seed, 0xC0, 2]), mix(&[seed, 0xC0, 3])),
            sales_id: format!("{}", 400_000_000_000_000 + mix(&[seed, 0xC0, 4]) % 100_000_000_000_000),
            pending,
            wide_ids: ctx.flag("tanma.wide_ids"),
        }
    }

    /// The record id of a call.
    pub fn id(&self, seed: &CallSeed) -> String {
        let base = (((seed.at.as_second() - ID_EPOCH_S).max(0) as u64) << 21) | u64::from(seed.index & 0x1F_FFFF);
        (if self.wide_ids { base + WIDE_ID_OFFSET } else { base }).to_string()
    }

    /// When a call's transcription finishes, if it is still pending for a while after
    /// it appears; `None` when it is finished as soon as it is visible.
    pub fn settles_at(&self, seed: &CallSeed) -> Option<Instant> {
        self.dataset.settles_at(seed, self.pending, SETTLE_MIN_S, SETTLE_MAX_S, SETTLE_SALT)
    }

    /// The wire record of `seed` as served at `now`.
    pub fn record(&self, seed: &CallSeed, now: Instant) -> CallRecordWire {
        let mut rng = seed.rng.clone();
        // Every draw happens, in this order, whatever the record's state at `now`.
        let agent_index = rng.gen_range(0..self.roster.len());
        let agent = &self.roster[agent_index];
        let wechat = rng.gen_bool(0.6);
        let talk = generate::talk_seconds(&mut rng);
        let pre_cost = talk * 1000 + rng.gen_range(0..100i64) * 10;
        let delay_s: i64 = match *generate::weighted(&mut rng, &[(0u8, 60), (1, 25), (2, 10), (3, 5)]) {
            0 => rng.gen_range(60..1800),
            1 => rng.gen_range(1800..43_200),
            2 => rng.gen_range(43_200..7 * 86_400),
            _ => rng.gen_range(7 * 86_400..30 * 86_400),
        };
        let done = rng.gen_bool(0.78);
        let (fail_text, fail_code) = *generate::weighted(&mut rng, FAILURES);
        let n_sentences = (talk / 10).clamp(1, 12) as usize;
        let lines = generate::transcript(&mut rng, talk, n_sentences);
        let cost_gap = rng.gen_range(0..15i64) * 10;
        let task_id = hex32(&mut rng);
        let msg_rand: u64 = rng.r#gen();
        let file_hex = hex32(&mut rng);
        let customer = generate::person_name(&mut rng);
        let company = COMPANIES.choose(&mut rng).copied().unwrap_or("优选商贸");
        let customer_named = rng.gen_bool(if wechat { 1.0 } else { 0.3 });
        let second_dept = rng.gen_bool(0.15);
        let request_delay_ms = rng.gen_range(200..1500i64);
        let solve_ms = rng.gen_range(2000..12_000i64);
        let queued = rng.gen_bool(0.2);
        let line_no = rng.gen_range(1..20u32);

        let at = seed.at;
        let at_ms = at.as_millisecond();
        let msg_time = at - SignedDuration::from_secs(delay_s + ceil_div(pre_cost, 1000));
        let msg_ms = msg_time.as_millisecond();
        let settles = self.settles_at(seed);
        let pending = settles.is_some_and(|t| now < t);
        let request_time = at_ms + request_delay_ms;
        let solve_time = settles.map(|t| t.as_millisecond()).unwrap_or(request_time + solve_ms);
        let updated = self.dataset.updated_at(seed).is_some_and(|t| now >= t);

        // The roster assigns departments round-robin over six names: one id per name.
        let dept_index = agent_index % 6;
        let mut departments = vec![dept(105_600 + dept_index as u64, &agent.department)];
        if second_dept {
            departments.push(dept(106_199, "麦田房产"));
        }
        let receive_name = match (customer_named, updated) {
            (true, false) => customer.clone(),
            (true, true) | (false, true) => format!("{customer}-{company}"),
            (false, false) => String::new(),
        };
        let local = msg_time.to_zoned(jiff::tz::TimeZone::fixed(GMT8));
        // The vendor's OSS object URL (permanent: VENDORS.md gives it no expiry), or in
        // the sandbox the same file under the sandbox's audio route.
        let url = self.ctx.recording_url(
            &format!(
                "https://tmblueoss.wechatsi.com/{}/{}/{:02}/{}/{file_hex}.mp3",
                self.corp_hash,
                local.strftime("%Y%m"),
                local.day(),
                if wechat { "WechatSmallFile" } else { "resource" }
            ),
            None,
        );
        let msg_id = if wechat {
            format!("{msg_rand}_{msg_ms}_external")
        } else {
            // One work phone per employee: a stable device prefix.
            format!("{:016x}_{msg_ms}_{line_no}", mix(&[self.dataset.spec().seed, agent_index as u64, 0xD0]))
        };

        let (status, status_str, content, message, cost) = if pending {
            if queued { (3, "排队中", None, None, 0) } else { (1, "转换中", None, None, 0) }
        } else if done {
            let sentences = SentencesContent {
                sentences: lines
                    .into_iter()
                    .map(|(b, e, ch, text)| SentenceWire {
                        end_time: Some(e),
                        begin_time: Some(b),
                        text: Some(text),
                        channel_id: Some(i64::from(ch)),
                    })
                    .collect(),
            };
            let json = serde_json::to_string(&sentences).unwrap_or_default();
            (2, "转换成功", Some(json), None, (pre_cost - cost_gap).max(0))
        } else {
            let status = SpeechStatus {
                task_id: Some(task_id.clone()),
                status_text: Some(fail_text.to_string()),
                request_time: Some(request_time),
                solve_time: Some(solve_time),
                status_code: Some(fail_code),
            };
            let json = serde_json::to_string(&status).unwrap_or_default();
            (0, "转换失败", Some(json.clone()), Some(json), 0)
        };

        CallRecordWire {
            id: self.id(seed),
            task_id: Some(task_id),
            corp_id: Some(self.corp_id.clone()),
            kind: Some(TYPE_CALL.into()),
            msg_id: Some(msg_id),
            create_time: None,
            pre_cost: Some(pre_cost),
            cost: Some(cost),
            status: Some(status),
            message,
            sender: None,
            sender_type: None,
            recipient: None,
            recipient_type: None,
            method: Some("web".into()),
            sales_id: Some(self.sales_id.clone()),
            gmt_create_time: Some(format_gmt8(at)),
            department_name: Some(serde_json::to_string(&departments).unwrap_or_default()),
            send_name: Some(agent.name.clone()),
            send_avatar: None,
            send_thumb_avatar: None,
            send_is_wx: None,
            receive_name: Some(receive_name),
            receive_avatar: None,
            receive_thumb_avatar: None,
            receive_is_wx: None,
            msg_time: Some(format_gmt8(msg_time)),
            sales_name: Some("admin".into()),
            call_type: Some(if wechat { "微信语音" } else { "电销手机" }.into()),
            content,
            url: Some(url),
            user_id: Some(agent.id.clone()),
            chat_id: None,
            status_str: Some(status_str.into()),
        }
    }
}

fn dept(id: u64, name: &str) -> DepartmentWire {
    DepartmentWire { id: Some(id.to_string()), level: Some(format!("0.93186.{id}.")), name: Some(name.to_string()) }
}

/// The running fake's state.
struct TanmaFake {
    ctx: FakeContext,
    creds: Credentials,
    quota: FakeQuota,
    generator: Generator,
}

fn vendor_error(code: i64, message: &str) -> Response {
    axum::Json(Envelope::<()> { code, message: Some(message.to_string()), data: None }).into_response()
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim).filter(|s| !s.is_empty())
}

/// Strict `YYYY-MM-DD HH:MM:SS`.
fn parse_body_time(s: &str) -> Option<Instant> {
    let b = s.as_bytes();
    let shape = b.len() == 19
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b' '
        && b[13] == b':'
        && b[16] == b':'
        && b.iter().enumerate().all(|(i, c)| matches!(i, 4 | 7 | 10 | 13 | 16) || c.is_ascii_digit());
    if !shape {
        return None;
    }
    parse_gmt8(s).ok()
}

impl TanmaFake {
    /// `None` when the request is authentic, else Tanma's refusal.
    fn check_auth(&self, headers: &HeaderMap) -> Option<Response> {
        let fail = |code, msg| {
            self.ctx.counters.incr("auth_failures");
            Some(vendor_error(code, msg))
        };
        let (Some(app_id), Some(app_key), Some(ts), Some(sign)) = (
            header(headers, auth::HEADER_APP_ID),
            header(headers, auth::HEADER_APP_KEY),
            header(headers, auth::HEADER_TIMESTAMP),
            header(headers, auth::HEADER_SIGN),
        ) else {
            return fail(codes::MISSING_AUTH, "缺少签名参数(appId、appKey、timestamp、sign)");
        };
        let id_ok: bool = app_id.as_bytes().ct_eq(self.creds.app_id.as_bytes()).into();
        let key_ok: bool = app_key.as_bytes().ct_eq(self.creds.app_key.as_bytes()).into();
        if !(id_ok && key_ok) {
            return fail(codes::UNKNOWN_APP, "appId或appKey无效");
        }
        if !auth::verify(app_id, ts, &self.creds.app_secret, sign) {
            return fail(codes::BAD_SIGN, "签名校验失败");
        }
        if auth::is_fresh(ts, jiff::Timestamp::now().as_millisecond()) != Some(true) {
            self.ctx.counters.incr("stale_timestamps");
            return fail(codes::EXPIRED, "请求已过期,请检查timestamp");
        }
        None
    }

    fn bad_request(&self, message: &str) -> Response {
        self.ctx.counters.incr("bad_requests");
        vendor_error(codes::BAD_PARAMETER, message)
    }

    fn list(&self, body: &[u8]) -> Response {
        let Ok(req) = serde_json::from_slice::<CallListRequest>(body) else {
            return self.bad_request("请求参数格式错误");
        };
        let kind = match req.kind.as_deref().map(str::trim) {
            None | Some("") => return self.bad_request("type不能为空"),
            Some(k @ (TYPE_CALL | "chat")) => k,
            Some(_) => return self.bad_request("type参数错误"),
        };
        let page_no = match req.page_no {
            Some(n) if n >= 1 => n,
            Some(_) => return self.bad_request("pageNo必须大于0"),
            None => return self.bad_request("pageNo不能为空"),
        };
        let page_size = match req.page_size {
            Some(n) if (1..=MAX_PAGE_SIZE).contains(&n) => n,
            Some(_) => return self.bad_request("pageSize必须在1到100之间"),
            None => return self.bad_request("pageSize不能为空"),
        };
        let data = &self.ctx.dataset;
        let now = data.now();
        let start = match req.start_time.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => data.origin(),
            Some(s) => match parse_body_time(s) {
                Some(t) => t,
                None => return self.bad_request("startTime格式错误,应为yyyy-MM-dd HH:mm:ss"),
            },
        };
        let end_inclusive = match req.end_time.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => now,
            Some(s) => match parse_body_time(s) {
                Some(t) => t,
                None => return self.bad_request("endTime格式错误,应为yyyy-MM-dd HH:mm:ss"),
            },
        };
        if end_inclusive < start {
            return self.bad_request("开始时间不能大于结束时间");
        }
        // Closed range of whole seconds → the dataset's half-open range.
        let end = end_inclusive.checked_add(SignedDuration::from_secs(1)).unwrap_or(end_inclusive);
        let total = if kind == TYPE_CALL { data.count_between(Provider::Tanma, start, end) } else { 0 };
        let size = page_size as u64;
        let total_page = total.div_ceil(size);
        let page_no = page_no as u64;
        let mut result = Vec::new();
        if page_no <= total_page {
            // Newest first: page p holds descending positions [(p-1)·size, p·size).
            let hi = total - (page_no - 1) * size;
            let lo = total.saturating_sub(page_no * size);
            let seeds = data.page(Provider::Tanma, start, end, lo, (hi - lo) as usize);
            for seed in seeds.iter().rev() {
                let rec = self.generator.record(seed, now);
                if !matches!(rec.status, Some(0) | Some(2)) {
                    self.ctx.counters.incr("pending_served");
                }
                if data.updated_at(seed).is_some_and(|t| now >= t) {
                    self.ctx.counters.incr("updated_served");
                }
                result.push(rec);
            }
        }
        self.ctx.counters.add("records_served", result.len() as u64);
        let cost_ms: i64 = result.iter().filter_map(|r| r.cost).sum();
        let records = result.len();
        let page = CallListData {
            total_count: Some(total),
            total_page: Some(total_page),
            page_no: Some(page_no),
            page_size: Some(size),
            result,
            message: Some(format!("{}秒", ceil_div(cost_ms, 1000))),
        };
        let envelope = Envelope { code: codes::OK, message: Some("success".into()), data: Some(page) };
        // Serialised into one buffer sized for the page (as `axum::Json` would answer,
        // without growing its buffer from 128 bytes).
        let mut buf = Vec::with_capacity(512 + records * 3072);
        match serde_json::to_writer(&mut buf, &envelope) {
            Ok(()) => ([(axum::http::header::CONTENT_TYPE, "application/json")], buf).into_response(),
            Err(e) => (axum::http::StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
        }
    }
}

async fn get_call_list(State(fake): State<Arc<TanmaFake>>, headers: HeaderMap, body: Bytes) -> Response {
    fake.ctx.counters.incr("requests");
    if let Some(r) = fake.ctx.generic_fault().await {
        return r;
    }
    if let Some(r) = fake.check_auth(&headers) {
        return r;
    }
    if fake.quota.check().is_err() || fake.ctx.faults.roll(FaultKind::RateLimit) {
        fake.ctx.counters.incr("rate_limited");
        return vendor_error(codes::RATE_LIMITED, "请求过于频繁,请稍后再试");
    }
    if fake.ctx.faults.roll(FaultKind::TokenExpiry) {
        fake.ctx.counters.incr("token_expired");
        return vendor_error(codes::EXPIRED, "请求已过期,请检查timestamp");
    }
    fake.list(&body)
}

/// Build the fake for `ctx`.
pub fn fake(ctx: FakeContext) -> Fake {
    let creds = Credentials::for_seed(ctx.dataset.spec().seed);
    let mut credentials = serde_json::Map::new();
    credentials.insert("app_id".into(), creds.app_id.clone().into());
    credentials.insert("app_key".into(), creds.app_key.clone().into());
    credentials.insert("app_secret".into(), creds.app_secret.clone().into());
    let state = Arc::new(TanmaFake {
        quota: FakeQuota::new(Some(QUOTA_PER_SECOND), None, ctx.limits),
        generator: Generator::new(&ctx),
        creds,
        ctx,
    });
    Fake { router: Router::new().route(CALL_LIST_PATH, post(get_call_list)).with_state(state), credentials }
}

#[cfg(test)]
mod tests {
    use super::*;
    use huadan_fakekit::{Clock, DatasetSpec};

    fn ctx() -> FakeContext {
        let spec = DatasetSpec { seed: 11, days: 2, calls_per_day: 400, late: 0.0, update: 0.0 };
        FakeContext::new(Dataset::new(spec, Clock::fixed("2025-03-25T06:00:00Z".parse().unwrap())))
    }

    #[test]
    fn in_the_sandbox_recording_links_point_at_the_audio_route() {
        let mut sandboxed = ctx();
        sandboxed.public_base = Some("http://127.0.0.1:9104".into());
        let (plain, boxed) = (Generator::new(&ctx()), Generator::new(&sandboxed));
        let now = sandboxed.dataset.now();
        let route = format!("http://127.0.0.1:9104{}/", huadan_fakekit::SANDBOX_RECORDINGS_PATH);
        let mut n = 0;
        for s in sandboxed.dataset.calls_between(Provider::Tanma, sandboxed.dataset.origin(), now) {
            let (a, b) = (plain.record(&s, now), boxed.record(&s, now));
            let (a, b) = (a.url.unwrap_or_default(), b.url.unwrap_or_default());
            assert!(a.starts_with("https://tmblueoss.wechatsi.com/") && a.ends_with(".mp3"), "{a}");
            assert!(b.starts_with(&route) && b.ends_with(".mp3"), "{b}");
            n += 1;
        }
        assert!(n > 300, "{n}");
    }

    #[test]
    fn ids_are_15_digits_unique_and_grow_with_creation_time() {
        let c = ctx();
        let g = Generator::new(&c);
        let seeds: Vec<_> = c.dataset.calls_between(Provider::Tanma, c.dataset.origin(), c.dataset.now()).collect();
        assert!(seeds.len() > 300);
        let ids: Vec<u64> = seeds.iter().map(|s| g.id(s).parse().unwrap()).collect();
        assert!(ids.iter().all(|id| id.to_string().len() == 15), "{:?}", &ids[..3]);
        let mut sorted = ids.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), ids.len());
        assert!(ids.windows(2).all(|w| w[0] >> 21 <= w[1] >> 21), "ids grow with creation time");
    }

    #[test]
    fn msg_time_precedes_create_time_by_minutes_to_weeks() {
        let c = ctx();
        let g = Generator::new(&c);
        let now = c.dataset.now();
        let mut gaps = Vec::new();
        for s in c.dataset.calls_between(Provider::Tanma, c.dataset.origin(), now) {
            let r = g.record(&s, now);
            let created = parse_gmt8(r.gmt_create_time.as_deref().unwrap()).unwrap();
            let called = parse_gmt8(r.msg_time.as_deref().unwrap()).unwrap();
            assert_eq!(created, s.at);
            gaps.push(created.duration_since(called).as_secs());
        }
        assert!(gaps.iter().all(|g| *g >= 60));
        assert!(gaps.iter().any(|g| *g > 7 * 86_400), "some calls are transcribed weeks later");
        assert!(gaps.iter().filter(|g| **g < 1800).count() > gaps.len() / 3);
    }

    #[test]
    fn same_seed_same_record() {
        let (a, b) = (ctx(), ctx());
        let s = a.dataset.calls_between(Provider::Tanma, a.dataset.origin(), a.dataset.now()).nth(5).unwrap();
        let now = a.dataset.now();
        let ra = serde_json::to_string(&Generator::new(&a).record(&s, now)).unwrap();
        let rb = serde_json::to_string(&Generator::new(&b).record(&s, now)).unwrap();
        assert_eq!(ra, rb);
    }

    #[test]
    fn body_times_are_strict() {
        assert!(parse_body_time("2025-03-21 00:00:00").is_some());
        for bad in ["2025-03-21T00:00:00", "2025-03-21", "2025-3-21 00:00:00", "2025-03-21 00:00:00.5", "x"] {
            assert!(parse_body_time(bad).is_none(), "{bad}");
        }
    }
}
