//! The sandbox fake of `DescribeTelCdr`: `POST /` exactly as Tencent Cloud API 3.0
//! serves it.
//!
//! * Verifies TC3-HMAC-SHA256 by recomputing the signature from the request it actually
//!   received, following the client's `SignedHeaders` (which must include `content-type`
//!   and `host`) and the **UTC** date of `X-TC-Timestamp`: `AuthFailure.SecretIdNotFound`,
//!   `AuthFailure.SignatureExpire` (> 5 minutes of skew), `AuthFailure.SignatureFailure`.
//! * Every answer is HTTP 200 with `Content-Type: application/json` exactly (the
//!   official Python SDK ignores an error body under any other type).
//! * Limits: 20 requests/second (`RequestLimitExceeded`), `PageSize` 1..=100,
//!   `PageNumber` from 0, `StartTimeStamp` no older than 180 days, a range shorter than
//!   90 days, `EndTimeStamp` ≥ `StartTimeStamp` (else `InvalidParameterValue`);
//!   deprecated `Limit` / `Offset` are accepted and ignored.
//! * The range `[StartTimeStamp, EndTimeStamp]` is closed and filters on `Time`; one
//!   dataset call is one `TelCdrInfo`. Answered calls have `AsrStatus` `Processing`
//!   for a while, then `Complete`; after `Dataset::updated_at` a call is served in a
//!   second version (a remark, a COS copy of the recording).
//! * Options: `tencent_ccc.protected_numbers=true` hides every customer number behind
//!   a `Protected*` id (number protection switched on for the application).

use crate::auth::{self, MAX_SKEW_SECONDS, ParsedAuthorization};
use crate::wire::{
    ACTION, ApiError, DescribeTelCdrRequest, Envelope, ErrorResponse, IvrKeyPressed, ListResponseOut, MAX_PAGE_SIZE,
    SERVICE, SeatUser, ServeParticipant, TelCdrInfo, VERSION,
};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use huadan_fakekit::generate::{self, AgentProfile};
use huadan_fakekit::{CallSeed, Fake, FakeContext, FakeQuota, FaultKind, mix};
use huadan_model::{Instant, Provider};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use std::sync::Arc;

const PROVIDER: Provider = Provider::TencentCcc;
/// `StartTimeStamp` may be at most this old.
pub const MAX_AGE_SECONDS: i64 = 180 * 24 * 3600;
/// `EndTimeStamp − StartTimeStamp` must be shorter than this.
pub const MAX_SPAN_SECONDS: i64 = 90 * 24 * 3600;
/// The documented quota.
pub const REQUESTS_PER_SECOND: u32 = 20;

/// The fake's credentials and state.
struct FakeState {
    ctx: FakeContext,
    secret_id: String,
    secret_key: String,
    sdk_app_id: i64,
    quota: FakeQuota,
    roster: Vec<AgentProfile>,
    /// Skill group → indexes of its members in `roster`.
    groups: Vec<(String, Vec<usize>)>,
    hotline: String,
    outbound_lines: [String; 3],
    protect_all: bool,
}

/// The credentials the fake of dataset seed `seed` accepts: (secret_id, secret_key, sdk_app_id).
pub fn credentials_for(seed: u64) -> (String, String, i64) {
    let id = format!("AKIDhuadan{:016X}", mix(&[seed, 0xCCC1]));
    let key = format!("{:016x}{:016x}", mix(&[seed, 0xCCC2]), mix(&[seed, 0xCCC3]));
    let app = 1_400_000_000 + (mix(&[seed, 0xCCC4]) % 100_000) as i64;
    (id, key, app)
}

/// Build the fake.
pub fn fake(ctx: FakeContext) -> Fake {
    let state = Arc::new(fake_state(ctx));
    let mut credentials = serde_json::Map::new();
    credentials.insert("secret_id".into(), state.secret_id.clone().into());
    credentials.insert("secret_key".into(), state.secret_key.clone().into());
    credentials.insert("sdk_app_id".into(), state.sdk_app_id.into());
    let router = axum::Router::new().route("/", axum::routing::post(handle)).with_state(state);
    Fake { router, credentials }
}

fn fake_state(ctx: FakeContext) -> FakeState {
    let seed = ctx.dataset.spec().seed;
    let (secret_id, secret_key, sdk_app_id) = credentials_for(seed);
    let h = mix(&[seed, 0xCCC5]);
    let roster = generate::roster(seed, 24);
    FakeState {
        quota: FakeQuota::new(Some(REQUESTS_PER_SECOND), None, ctx.limits),
        groups: groups_of(&roster),
        roster,
        hotline: format!("00864008{:06}", h % 1_000_000),
        outbound_lines: [
            format!("00862161{:06}", (h >> 20) % 1_000_000),
            format!("00862161{:06}", (h >> 40) % 1_000_000),
            format!("0086755{:08}", (h >> 8) % 100_000_000),
        ],
        protect_all: ctx.flag("tencent_ccc.protected_numbers"),
        secret_id,
        secret_key,
        sdk_app_id,
        ctx,
    }
}

fn groups_of(roster: &[AgentProfile]) -> Vec<(String, Vec<usize>)> {
    let mut groups: Vec<(String, Vec<usize>)> = Vec::new();
    for (i, a) in roster.iter().enumerate() {
        match groups.iter_mut().find(|(g, _)| *g == a.skill_group) {
            Some((_, m)) => m.push(i),
            None => groups.push((a.skill_group.clone(), vec![i])),
        }
    }
    groups
}

/// A deterministic request id (same request → same id, so pages are byte-identical).
fn request_id(seed: u64, body: &[u8]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in body {
        h ^= *b as u64;
        h = h.wrapping_mul(0x100_0000_01b3);
    }
    let a = mix(&[seed, h, 1]);
    let b = mix(&[seed, h, 2]);
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        (b >> 48) | 0x8000,
        b & 0xffff_ffff_ffff
    )
}

/// A JSON answer with `Content-Type: application/json` exactly.
fn json_answer(body: Vec<u8>) -> Response {
    (StatusCode::OK, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

fn error_answer(code: &str, message: impl Into<String>, rid: &str) -> Response {
    let env = Envelope {
        response: ErrorResponse {
            error: ApiError { code: code.to_string(), message: message.into() },
            request_id: rid.to_string(),
        },
    };
    json_answer(serde_json::to_vec(&env).unwrap_or_default())
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Check the signature of a received request; `Err((code, message))` in Tencent's terms.
fn verify(st: &FakeState, headers: &HeaderMap, body: &[u8], now: i64) -> Result<(), (&'static str, String)> {
    let Some(authz) = header_str(headers, "authorization") else {
        return Err(("AuthFailure.SignatureFailure", "The request is missing the Authorization header.".into()));
    };
    let parsed = ParsedAuthorization::parse(authz)
        .map_err(|e| ("AuthFailure.InvalidAuthorization", format!("Authorization header is invalid: {}", e.0)))?;
    let Some(ts) = header_str(headers, "x-tc-timestamp").and_then(|t| t.trim().parse::<i64>().ok()) else {
        return Err(("MissingParameter", "The request is missing a required parameter `X-TC-Timestamp`.".into()));
    };
    if parsed.secret_id != st.secret_id {
        return Err((
            "AuthFailure.SecretIdNotFound",
            "The SecretId is not found, please ensure that your SecretId is correct.".into(),
        ));
    }
    if (now - ts).abs() > MAX_SKEW_SECONDS {
        return Err((
            "AuthFailure.SignatureExpire",
            format!(
                "Signature expired. Timestamp of the request: {ts}, server time: {now}; the difference must be within 300 seconds."
            ),
        ));
    }
    let fail =
        |why: &str| ("AuthFailure.SignatureFailure", format!("The provided credentials could not be validated. {why}"));
    for required in ["content-type", "host"] {
        if !parsed.signed_headers.iter().any(|h| h == required) {
            return Err(fail(&format!("SignedHeaders must include `{required}`.")));
        }
    }
    let mut pairs: Vec<(&str, &str)> = Vec::with_capacity(parsed.signed_headers.len());
    for name in &parsed.signed_headers {
        match header_str(headers, name) {
            Some(v) => pairs.push((name.as_str(), v)),
            None => return Err(fail(&format!("Signed header `{name}` is not in the request."))),
        }
    }
    // Recompute with the UTC date of the timestamp, whatever the credential scope says.
    let date = auth::credential_date(ts);
    let creq = auth::canonical_request(&pairs, body);
    let sts = auth::string_to_sign(ts, &date, SERVICE, &creq);
    let expected = auth::signature(&st.secret_key, &date, SERVICE, &sts);
    if parsed.date != date || parsed.service != SERVICE || !auth::signatures_equal(&expected, &parsed.signature) {
        return Err(fail("Please check your signature is correct."));
    }
    Ok(())
}

/// Validated query parameters.
struct Query {
    start: i64,
    end: i64,
    page_size: u32,
    page_number: u64,
    phones: Vec<String>,
    session_ids: Vec<String>,
}

fn validate(st: &FakeState, body: &[u8], now: i64) -> Result<Query, (&'static str, String)> {
    let req: DescribeTelCdrRequest = serde_json::from_slice(body)
        .map_err(|e| ("InvalidParameter", format!("The request body is not a valid DescribeTelCdr request: {e}")))?;
    let missing = |p: &str| ("MissingParameter", format!("The request is missing a required parameter `{p}`."));
    let invalid = |m: String| ("InvalidParameterValue", m);
    let app = req.sdk_app_id.ok_or_else(|| missing("SdkAppId"))?;
    if app != st.sdk_app_id {
        return Err(("InvalidParameterValue.InstanceNotExist", format!("SdkAppId {app} does not exist.")));
    }
    let start = req.start_time_stamp.ok_or_else(|| missing("StartTimeStamp"))?;
    let end = req.end_time_stamp.ok_or_else(|| missing("EndTimeStamp"))?;
    let page_size = req.page_size.ok_or_else(|| missing("PageSize"))?;
    let page_number = req.page_number.ok_or_else(|| missing("PageNumber"))?;
    if !(1..=MAX_PAGE_SIZE as i64).contains(&page_size) {
        return Err(invalid(format!("PageSize must be between 1 and 100, got {page_size}.")));
    }
    if page_number < 0 {
        return Err(invalid(format!("PageNumber starts at 0, got {page_number}.")));
    }
    if end < start {
        return Err(invalid(format!("EndTimeStamp {end} is earlier than StartTimeStamp {start}.")));
    }
    if start < now - MAX_AGE_SECONDS {
        return Err(invalid(format!(
            "StartTimeStamp {start} is more than 180 days ago; records that old cannot be queried."
        )));
    }
    if end - start >= MAX_SPAN_SECONDS {
        return Err(invalid("The time range must be shorter than 90 days.".to_string()));
    }
    Ok(Query {
        start,
        end,
        page_size: page_size as u32,
        page_number: page_number as u64,
        phones: req.phones.unwrap_or_default(),
        session_ids: req.session_ids.unwrap_or_default(),
    })
}

async fn handle(State(st): State<Arc<FakeState>>, headers: HeaderMap, body: Bytes) -> Response {
    let ctx = &st.ctx;
    ctx.counters.incr("requests");
    if let Some(r) = ctx.generic_fault().await {
        return r;
    }
    let seed = ctx.dataset.spec().seed;
    let rid = request_id(seed, &body);
    let now_i = ctx.dataset.now();
    let now = now_i.as_second();

    if header_str(&headers, "x-tc-action") != Some(ACTION) {
        return error_answer("InvalidAction", "The requested action does not exist.", &rid);
    }
    if header_str(&headers, "x-tc-version") != Some(VERSION) {
        return error_answer("NoSuchVersion", "The requested version does not exist or is not supported.", &rid);
    }
    if let Err((code, msg)) = verify(&st, &headers, &body, now) {
        ctx.counters.incr("auth_failures");
        return error_answer(code, msg, &rid);
    }
    if ctx.faults.roll(FaultKind::TokenExpiry) {
        ctx.counters.incr("auth_failures");
        ctx.counters.incr("fault_token_expiry");
        return error_answer("AuthFailure.SignatureExpire", "Signature expired.", &rid);
    }
    if ctx.faults.roll(FaultKind::RateLimit) || st.quota.check().is_err() {
        ctx.counters.incr("rate_limited");
        return error_answer(
            "RequestLimitExceeded",
            "Your current request times exceeds the limit (20 requests per second), please try again later.",
            &rid,
        );
    }
    let q = match validate(&st, &body, now) {
        Ok(q) => q,
        Err((code, msg)) => {
            ctx.counters.incr("invalid_parameter");
            return error_answer(code, msg, &rid);
        }
    };
    let (Ok(s), Ok(e)) = (Instant::from_second(q.start), Instant::from_second(q.end.saturating_add(1))) else {
        return error_answer("InvalidParameterValue", "Timestamps out of range.", &rid);
    };
    let offset = q.page_number.saturating_mul(q.page_size as u64);
    let (total, records): (u64, Vec<TelCdrInfo>) = if q.phones.is_empty() && q.session_ids.is_empty() {
        let total = ctx.dataset.count_between(PROVIDER, s, e);
        let seeds =
            if offset >= total { Vec::new() } else { ctx.dataset.page(PROVIDER, s, e, offset, q.page_size as usize) };
        (total, seeds.into_iter().map(|c| st.record(c, now_i)).collect())
    } else {
        let all: Vec<TelCdrInfo> =
            ctx.dataset.calls_between(PROVIDER, s, e).map(|c| st.record(c, now_i)).filter(|r| q.matches(r)).collect();
        let total = all.len() as u64;
        (total, all.into_iter().skip(offset as usize).take(q.page_size as usize).collect())
    };
    ctx.counters.incr("pages_served");
    ctx.counters.add("records_served", records.len() as u64);
    let out = Envelope { response: ListResponseOut { total_count: total, tel_cdr_list: &records, request_id: &rid } };
    // One buffer sized for the page rather than grown from empty.
    let mut buf = Vec::with_capacity(512 + records.len() * 2048);
    if serde_json::to_writer(&mut buf, &out).is_err() {
        buf.clear();
    }
    json_answer(buf)
}

impl Query {
    fn matches(&self, r: &TelCdrInfo) -> bool {
        let phone_ok = self.phones.is_empty()
            || [&r.caller, &r.callee].iter().any(|n| n.as_ref().is_some_and(|n| self.phones.contains(n)));
        let id_ok = self.session_ids.is_empty() || r.session_id.as_ref().is_some_and(|s| self.session_ids.contains(s));
        phone_ok && id_ok
    }
}

/// `0086`-prefixed, as CCC writes numbers (`0086138…`, `008621…`).
fn with_0086(n: &str) -> String {
    format!("0086{}", n.strip_prefix('0').unwrap_or(n))
}

const MENU: &[(&str, &str)] =
    &[("1", "售前咨询"), ("2", "售后服务"), ("3", "大客户"), ("4", "投诉处理"), ("0", "售后服务")];
const REMARKS: &[&str] =
    &["客户咨询报价，已发资料", "要求下周回电", "投诉物流慢，已登记", "老客户续费意向", "已加微信跟进"];
const SATISFACTION: &[(&str, &str)] = &[("1", "非常满意"), ("2", "满意"), ("3", "一般"), ("4", "不满意")];

/// One simulated seat leg.
struct Leg {
    agent: usize,
    ring: i64,
    accept: i64,
    end: i64,
    status: &'static str,
    transfer_to: Option<usize>,
    transfer_from: Option<usize>,
}

impl FakeState {
    fn group_id(name: &str) -> i64 {
        let i = MENU.iter().position(|(_, g)| *g == name).unwrap_or(0);
        1000 + i as i64
    }

    fn pick_agent(&self, rng: &mut ChaCha8Rng, group: &str) -> usize {
        match self.groups.iter().find(|(g, _)| g == group) {
            Some((_, members)) if !members.is_empty() => members[rng.gen_range(0..members.len())],
            _ => rng.gen_range(0..self.roster.len().max(1)),
        }
    }

    fn session_id(key: u64) -> String {
        let a = mix(&[key, 0x5E55]);
        let b = mix(&[key, 0x5E56]);
        format!(
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xfff,
            ((b >> 48) & 0x3fff) | 0x8000,
            b & 0xffff_ffff_ffff
        )
    }

    /// A recording link: the vendor's COS object URL, or in the sandbox the same file
    /// under the sandbox's audio route (`FakeContext::recording_url`). VENDORS.md gives
    /// CCC links no expiry, so none is set.
    fn record_url(&self, session: &str, suffix: &str) -> String {
        self.ctx.recording_url(
            &format!(
                "https://ccc-record-{}.cos.ap-guangzhou.myqcloud.com/{}/{session}{suffix}.mp3",
                self.sdk_app_id, self.sdk_app_id
            ),
            None,
        )
    }

    /// The wire record of one dataset call, drawn from its own RNG.
    fn record(&self, seed: CallSeed, now: Instant) -> TelCdrInfo {
        let ds = &self.ctx.dataset;
        let mut rng = seed.rng.clone();
        let start = seed.at.as_second();
        let session = Self::session_id(seed.key);
        let hour = seed.at.to_zoned(jiff::tz::TimeZone::fixed(huadan_model::time::GMT8)).hour();
        let customer = with_0086(&generate::customer_number(&mut rng));
        let (province, city) = generate::LOCATIONS[rng.gen_range(0..generate::LOCATIONS.len())];
        let protect = self.protect_all || rng.gen_bool(0.04);
        let inbound = rng.gen_bool(0.6);
        let mut r = TelCdrInfo {
            session_id: Some(session.clone()),
            time: Some(start),
            start_timestamp: Some(start),
            direction: Some(if inbound { 0 } else { 1 }),
            call_type: Some(if inbound {
                2
            } else if rng.gen_bool(0.1) {
                5
            } else {
                1
            }),
            uui: Some(String::new()),
            remark: Some(String::new()),
            ivr_key_pressed: Some(Vec::new()),
            ivr_key_pressed_ex: Some(Vec::new()),
            post_ivr_key_pressed: Some(Vec::new()),
            voicemail_record_url: Some(Vec::new()),
            serve_participants: Some(Vec::new()),
            record_url: Some(String::new()),
            custom_record_url: Some(String::new()),
            asr_url: Some(String::new()),
            ..TelCdrInfo::default()
        };
        let mut legs: Vec<Leg> = Vec::new();
        let mut group: Option<&'static str> = None;
        let (code, ended, side): (i64, i64, &str);
        let mut ring_at = 0i64;
        let mut accept_at = 0i64;
        let mut queued_at = 0i64;
        let mut talk = 0i64;

        if inbound {
            r.caller = Some(customer.clone());
            r.callee = Some(self.hotline.clone());
            r.caller_location = Some(format!("{province}{city}"));
            let off_hours = !(8..21).contains(&hour);
            let blocked = rng.gen_bool(0.01);
            let ivr = if blocked { 0 } else { rng.gen_range(6..=40) };
            r.ivr_duration = Some(ivr);
            let choice: i64 = if blocked {
                100
            } else if off_hours && rng.gen_bool(0.85) {
                106
            } else {
                *generate::weighted(
                    &mut rng,
                    &[(1, 640), (102, 60), (103, 80), (104, 60), (105, 20), (107, 90), (211, 10), (17, 10), (101, 20)],
                )
            };
            if !matches!(choice, 100 | 106) {
                let (key, g) = MENU[rng.gen_range(0..MENU.len())];
                group = Some(g);
                r.ivr_key_pressed = Some(vec![key.to_string()]);
                r.ivr_key_pressed_ex =
                    Some(vec![IvrKeyPressed { key: Some(key.to_string()), label: Some(g.to_string()) }]);
            }
            let after_ivr = start + ivr;
            match choice {
                100 => {
                    (code, ended, side) = (100, start + 1, "system");
                }
                106 => {
                    if rng.gen_bool(0.3) {
                        r.voicemail_record_url = Some(vec![self.record_url(&session, "-voicemail")]);
                        (code, ended, side) = (106, after_ivr + rng.gen_range(10..=60), "user");
                    } else {
                        (code, ended, side) = (106, after_ivr, "system");
                    }
                }
                102 => {
                    (code, ended, side) = (102, start + rng.gen_range(2..=ivr.max(3)), "user");
                    r.ivr_duration = Some(ended - start);
                    r.ivr_key_pressed = Some(Vec::new());
                    r.ivr_key_pressed_ex = Some(Vec::new());
                    group = None;
                }
                107 => {
                    (code, ended, side) = (107, after_ivr, if rng.gen_bool(0.7) { "user" } else { "system" });
                }
                103 => {
                    queued_at = after_ivr;
                    (code, ended, side) = (103, queued_at + rng.gen_range(15..=180), "user");
                }
                105 => {
                    queued_at = after_ivr;
                    (code, ended, side) = (105, queued_at + rng.gen_range(1..=5), "system");
                }
                _ => {
                    // Reaches a seat: 1 ok, 104 ringingGiveUp, 17 seatGiveUp, 211 clientError, 101 seatForward.
                    queued_at = after_ivr;
                    let g = group.unwrap_or("售后服务");
                    let a = self.pick_agent(&mut rng, g);
                    ring_at = queued_at + rng.gen_range(0..=45);
                    let ring = generate::ring_seconds(&mut rng);
                    match choice {
                        104 => {
                            let e = ring_at + ring;
                            legs.push(Leg {
                                agent: a,
                                ring: ring_at,
                                accept: 0,
                                end: e,
                                status: "ringingGiveUp",
                                transfer_to: None,
                                transfer_from: None,
                            });
                            (code, ended, side) = (104, e, "user");
                        }
                        17 => {
                            let e = ring_at + 30;
                            legs.push(Leg {
                                agent: a,
                                ring: ring_at,
                                accept: 0,
                                end: e,
                                status: "seatGiveUp",
                                transfer_to: None,
                                transfer_from: None,
                            });
                            (code, ended, side) = (17, e, "system");
                        }
                        211 => {
                            let e = ring_at + rng.gen_range(1..=5);
                            legs.push(Leg {
                                agent: a,
                                ring: ring_at,
                                accept: 0,
                                end: e,
                                status: "clientError",
                                transfer_to: None,
                                transfer_from: None,
                            });
                            (code, ended, side) = (211, e, "system");
                        }
                        _ => {
                            accept_at = ring_at + ring.min(15);
                            let t1 = generate::talk_seconds(&mut rng);
                            let transfer = choice == 101 || rng.gen_bool(0.1);
                            if transfer {
                                let g2 = if g == "投诉处理" { "大客户" } else { "投诉处理" };
                                let b = self.pick_agent(&mut rng, g2);
                                let b = if b == a { (a + 1) % self.roster.len().max(1) } else { b };
                                let t_end = accept_at + t1;
                                let ring_b = t_end;
                                let accept_b = ring_b + rng.gen_range(2..=10);
                                let t2 = generate::talk_seconds(&mut rng);
                                legs.push(Leg {
                                    agent: a,
                                    ring: ring_at,
                                    accept: accept_at,
                                    end: t_end,
                                    status: "transfer",
                                    transfer_to: Some(b),
                                    transfer_from: None,
                                });
                                legs.push(Leg {
                                    agent: b,
                                    ring: ring_b,
                                    accept: accept_b,
                                    end: accept_b + t2,
                                    status: "ok",
                                    transfer_to: None,
                                    transfer_from: Some(a),
                                });
                                talk = t1 + t2;
                                ended = accept_b + t2;
                            } else {
                                legs.push(Leg {
                                    agent: a,
                                    ring: ring_at,
                                    accept: accept_at,
                                    end: accept_at + t1,
                                    status: "ok",
                                    transfer_to: None,
                                    transfer_from: None,
                                });
                                talk = t1;
                                ended = accept_at + t1;
                            }
                            code = if choice == 101 { 101 } else { 1 };
                            side = if rng.gen_bool(0.4) { "seat" } else { "user" };
                            if rng.gen_bool(0.5) {
                                let (k, l) = SATISFACTION
                                    [*generate::weighted(&mut rng, &[(0usize, 60), (1, 25), (2, 10), (3, 5)])];
                                r.post_ivr_key_pressed =
                                    Some(vec![IvrKeyPressed { key: Some(k.into()), label: Some(l.into()) }]);
                            }
                        }
                    }
                }
            }
        } else {
            let a = rng.gen_range(0..self.roster.len().max(1));
            group = self.roster.get(a).map(|p| match p.skill_group.as_str() {
                "售前咨询" => "售前咨询",
                "售后服务" => "售后服务",
                "大客户" => "大客户",
                "投诉处理" => "投诉处理",
                _ => "售前咨询",
            });
            r.caller = Some(self.outbound_lines[rng.gen_range(0..self.outbound_lines.len())].clone());
            r.callee = Some(customer.clone());
            r.caller_location = Some("上海上海".to_string());
            r.ivr_duration = Some(0);
            if rng.gen_bool(0.2) {
                r.uui = Some(format!("crm-lead-{}", rng.gen_range(100_000..999_999)));
            }
            let choice = *generate::weighted(
                &mut rng,
                &[
                    (1i64, 520),
                    (202, 170),
                    (203, 50),
                    (204, 30),
                    (205, 20),
                    (206, 60),
                    (207, 10),
                    (208, 10),
                    (209, 50),
                    (210, 20),
                    (108, 10),
                    (109, 10),
                    (110, 10),
                    (111, 5),
                    (212, 10),
                    (220, 10),
                ],
            );
            let dial = start + rng.gen_range(1..=4);
            let ring = generate::ring_seconds(&mut rng);
            let (e, s, status): (i64, &str, &'static str) = match choice {
                1 => {
                    ring_at = dial;
                    accept_at = dial + ring.min(20);
                    talk = generate::talk_seconds(&mut rng);
                    (accept_at + talk, if rng.gen_bool(0.55) { "seat" } else { "user" }, "ok")
                }
                202 => {
                    ring_at = dial;
                    (dial + rng.gen_range(30..=60), "system", "notAnswer")
                }
                203 => {
                    ring_at = dial;
                    (dial + rng.gen_range(2..=15), "user", "userReject")
                }
                209 => {
                    ring_at = dial;
                    (dial + rng.gen_range(2..=20), "seat", "callerCancel")
                }
                220 => {
                    ring_at = dial;
                    (dial + rng.gen_range(1..=8), "seat", "callerCancelWhileRing")
                }
                108 | 109 | 110 | 111 | 212 => (start, "system", "blocked"),
                _ => (dial + rng.gen_range(2..=12), "system", "failed"),
            };
            (code, ended, side) = (choice, e, s);
            legs.push(Leg {
                agent: a,
                ring: start,
                accept: start,
                end: e,
                status,
                transfer_to: None,
                transfer_from: None,
            });
        }

        let name = crate::normalize::end_status(code).map(|e| e.0).unwrap_or("unknown");
        r.end_status = Some(code);
        r.end_status_string = Some(name.to_string());
        r.hung_up_side = Some(side.to_string());
        r.duration = Some(talk);
        r.ring_timestamp = Some(ring_at);
        r.accept_timestamp = Some(accept_at);
        r.ended_timestamp = Some(ended);
        r.queued_timestamp = Some(queued_at);
        if let Some(g) = group {
            r.skill_group = Some(g.to_string());
            r.skill_group_id = Some(Self::group_id(g));
            if queued_at > 0 {
                r.queued_skill_group_name = Some(g.to_string());
                r.queued_skill_group_id = Some(Self::group_id(g));
            }
        }
        let answered = talk > 0;
        let mut participants = Vec::with_capacity(legs.len());
        for (i, l) in legs.iter().enumerate() {
            let Some(p) = self.roster.get(l.agent) else { continue };
            let leg_answered = answered && l.accept > 0 && l.end > l.accept;
            let rec_id = format!("{}-{i}", &session[..8]);
            participants.push(ServeParticipant {
                mail: Some(p.email.clone()),
                phone: Some(with_0086(&p.phone)),
                ring_timestamp: Some(l.ring),
                accept_timestamp: Some(l.accept),
                ended_timestamp: Some(l.end),
                record_id: Some(if leg_answered { rec_id.clone() } else { String::new() }),
                r#type: Some(if inbound { "staffSeat" } else { "outboundSeat" }.to_string()),
                transfer_from: Some(
                    l.transfer_from.and_then(|a| self.roster.get(a)).map(|a| a.email.clone()).unwrap_or_default(),
                ),
                transfer_from_type: Some(if l.transfer_from.is_some() { "staffSeat" } else { "" }.to_string()),
                transfer_to: Some(
                    l.transfer_to.and_then(|a| self.roster.get(a)).map(|a| a.email.clone()).unwrap_or_default(),
                ),
                transfer_to_type: Some(if l.transfer_to.is_some() { "staffSeat" } else { "" }.to_string()),
                skill_group_id: Some(group.map(Self::group_id).unwrap_or(0)),
                end_status_string: Some(l.status.to_string()),
                record_url: Some(if leg_answered {
                    self.record_url(&session, &format!("-{i}"))
                } else {
                    String::new()
                }),
                sequence: Some(i as i64),
                start_timestamp: Some(l.ring),
                skill_group_name: Some(group.unwrap_or("").to_string()),
                custom_record_url: Some(String::new()),
            });
        }
        if let Some(first) = legs.first().and_then(|l| self.roster.get(l.agent)) {
            r.seat_user = Some(SeatUser {
                name: Some(first.name.clone()),
                mail: Some(first.email.clone()),
                staff_number: Some(first.staff_number.clone()),
                phone: Some(with_0086(&first.phone)),
                nick: Some(first.name.clone()),
                user_id: Some(first.email.clone()),
                skill_group_name_list: Some(vec![first.skill_group.clone()]),
            });
        }
        r.serve_participants = Some(participants);
        if protect {
            if inbound {
                r.protected_caller = Some(format!("pc{:016x}", mix(&[seed.key, 0x9C])));
                r.caller = Some(String::new());
            } else {
                r.protected_callee = Some(format!("pc{:016x}", mix(&[seed.key, 0x9C])));
                r.callee = Some(String::new());
            }
        }
        if answered {
            r.record_url = Some(self.record_url(&session, ""));
            r.record_id = Some(format!("{}-r", &session[..8]));
            let done = ds.settles_at(&seed, 1.0, 90, 1800, 0xA5A).is_none_or(|t| t <= now);
            if done {
                r.asr_status = Some("Complete".into());
                r.asr_url =
                    Some(format!("https://ccc-asr-{}.cos.ap-guangzhou.myqcloud.com/{session}.json", self.sdk_app_id));
            } else {
                r.asr_status = Some("Processing".into());
            }
            if rng.gen_bool(0.25) {
                r.remark = Some(REMARKS[rng.gen_range(0..REMARKS.len())].to_string());
            }
        } else {
            r.asr_status = Some("NotExists".into());
        }
        // The second version of a call that changes after it was first served.
        if ds.updated_at(&seed).is_some_and(|t| t <= now) {
            r.remark = Some("已回访：客户确认收到资料".to_string());
            if answered {
                r.custom_record_url = Some(self.ctx.recording_url(
                    &format!("https://customer-archive.cos.ap-shanghai.myqcloud.com/ccc/{session}.mp3"),
                    None,
                ));
            }
        }
        r
    }
}

#[cfg(test)]
mod recording_link_tests {
    use super::*;
    use huadan_fakekit::{Clock, Dataset, DatasetSpec};

    fn ctx(public_base: Option<&str>) -> FakeContext {
        let spec = DatasetSpec { seed: 3, days: 2, calls_per_day: 300, late: 0.0, update: 0.5 };
        let mut c = FakeContext::new(Dataset::new(spec, Clock::fixed("2025-03-25T06:00:00Z".parse().unwrap())));
        c.public_base = public_base.map(String::from);
        c
    }

    /// Every recording link of every record (call, legs, voicemail, customer copy).
    fn links(st: &FakeState) -> Vec<String> {
        let ds = &st.ctx.dataset;
        let now = ds.now();
        let mut out = Vec::new();
        for c in ds.calls_between(PROVIDER, ds.origin(), now) {
            let r = st.record(c, now);
            out.extend(r.record_url.clone());
            out.extend(r.custom_record_url.clone());
            out.extend(r.voicemail_record_url.clone().unwrap_or_default());
            for p in r.serve_participants.clone().unwrap_or_default() {
                out.extend(p.record_url.clone());
                out.extend(p.custom_record_url.clone());
            }
        }
        out.retain(|u| !u.is_empty());
        out
    }

    #[test]
    fn in_the_sandbox_every_recording_link_points_at_the_audio_route() {
        let base = "http://127.0.0.1:9102";
        let sandboxed = links(&fake_state(ctx(Some(base))));
        assert!(sandboxed.len() > 100, "{}", sandboxed.len());
        let route = format!("{base}{}/", huadan_fakekit::SANDBOX_RECORDINGS_PATH);
        assert!(sandboxed.iter().all(|u| u.starts_with(&route) && u.ends_with(".mp3")), "{:?}", &sandboxed[..3]);
        assert!(sandboxed.iter().any(|u| u.contains("customer-archive")), "the customer's COS copy too");
        // Outside the sandbox: the vendor's own COS links, one for one.
        let vendor = links(&fake_state(ctx(None)));
        assert_eq!(vendor.len(), sandboxed.len());
        assert!(vendor.iter().all(|u| u.starts_with("https://") && u.contains(".cos.")), "{:?}", &vendor[..3]);
    }
}
