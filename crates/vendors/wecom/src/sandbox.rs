//! The WeCom fake: `gettoken` and `dial/get_dial_record`, as WeCom answers them.
//!
//! * Auth exactly as WeCom: `gettoken` checks corpid (41002 / 40013) and corpsecret
//!   (41004 / 40001); within its lifetime a repeated `gettoken` returns the same token
//!   with the seconds it has left (counted in `tokens_issued`; new tokens in
//!   `tokens_minted`); a list call with no / an unknown / an expired token gets
//!   41001 / 40014 / 42001 — all with HTTP 200.
//! * Limits: WeCom's base frequency limit, per corp and API, 10,000 calls a minute and
//!   150,000 an hour (fixed windows; `wecom.requests_per_minute` /
//!   `wecom.requests_per_hour` override them for tests; `gettoken` has its own minute
//!   window, `wecom.gettoken_per_minute`) → 45009.
//! * Traps: a closed range; `end < start` or a start in the future → 600018; a span over
//!   30 days (inclusive) is **silently cut** to the 30 days before `end_time`
//!   (`spans_truncated`); `limit` over 100 is treated as 100; no record id; durations
//!   in minutes; `callee[].phone` a JSON number for mobiles (strings for landlines,
//!   whose leading 0 a number would lose; `wecom.phone_as_string` makes all strings).
//! * Records are distinguishable as real ones are: a WeCom user places one call at a
//!   time, so no two calls of the same second share a caller.
//! * Faults: `http500` / `timeout` (generic), `ratelimit` → 45009, `token_expiry` →
//!   the current token dies (42001; never in its first 64 uses); `update`: before its update instant a record is
//!   served with its caller's minutes not yet settled (one minute short), then final.
//! * Options: `wecom.token_ttl_seconds` (default 7200), `wecom.token_fresh_uses`
//!   (default 64).

use crate::PROVIDER;
use crate::wire::{
    Callee, Caller, DIAL_RECORD_PATH, DialRecord, DialRecordRequest, ErrorBody, MAX_LIMIT, MAX_SPAN_SECS, Phone,
    TOKEN_PATH, TokenResponse,
};
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use huadan_fakekit::generate::{self, AgentProfile};
use huadan_fakekit::{CallSeed, Fake, FakeContext, FakeQuota, FaultKind, mix};
use huadan_model::Instant;
use jiff::SignedDuration;
use parking_lot::Mutex;
use rand::Rng;
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

/// How many colleagues the fake company has.
const ROSTER: usize = 24;

/// A `token_expiry` fault spares a token's first uses — more than the sync engine's
/// workers (≤ 16), so that every worker's retry after a refresh gets through and a
/// forced expiry is never seen twice in a row (which would read as a bad secret).
/// `wecom.token_fresh_uses` overrides it (tests with a sequential client use 1).
const FRESH_USES: u64 = 64;

struct Tokens {
    current: Option<(String, Instant)>,
    /// Requests the current token has served (a `token_expiry` fault never hits a
    /// token in its first [`FRESH_USES`] uses: a real token does not die the second
    /// it is issued).
    uses: u64,
    expired: BTreeSet<String>,
    minted: u64,
}

struct HourWindow {
    epoch: std::time::Instant,
    hour: u64,
    count: u32,
    limit: u32,
}

impl HourWindow {
    fn admit(&mut self, enabled: bool) -> bool {
        if !enabled {
            return true;
        }
        let hour = self.epoch.elapsed().as_secs() / 3600;
        if hour != self.hour {
            self.hour = hour;
            self.count = 0;
        }
        if self.count >= self.limit {
            return false;
        }
        self.count += 1;
        true
    }
}

struct FakeState {
    ctx: FakeContext,
    corp_id: String,
    corp_secret: String,
    roster: Vec<AgentProfile>,
    tokens: Mutex<Tokens>,
    token_ttl: i64,
    fresh_uses: u64,
    phone_as_string: bool,
    list_minute: FakeQuota,
    list_hour: Mutex<HourWindow>,
    token_minute: FakeQuota,
}

/// The fake's credentials for a dataset seed: `(corp_id, corp_secret)`.
pub fn credentials(seed: u64) -> (String, String) {
    let corp_id = format!("ww{:016x}", mix(&[seed, 0x3EC0, 1]));
    let secret: String = (2..5u64).map(|i| format!("{:016x}", mix(&[seed, 0x3EC0, i]))).collect();
    (corp_id, secret[..43].to_string())
}

fn option<T: std::str::FromStr>(ctx: &FakeContext, key: &str) -> Option<T> {
    ctx.options.get(key).and_then(|v| v.parse().ok())
}

/// Build the fake (see the module docs).
pub fn fake(ctx: FakeContext) -> Fake {
    let state = Arc::new(fake_state(ctx));
    let (corp_id, corp_secret) = (state.corp_id.clone(), state.corp_secret.clone());
    let router =
        Router::new().route(TOKEN_PATH, get(gettoken)).route(DIAL_RECORD_PATH, post(get_dial_record)).with_state(state);
    let mut credentials = serde_json::Map::new();
    credentials.insert("corp_id".into(), corp_id.into());
    credentials.insert("corp_secret".into(), corp_secret.into());
    Fake { router, credentials }
}

fn fake_state(ctx: FakeContext) -> FakeState {
    let seed = ctx.dataset.spec().seed;
    let (corp_id, corp_secret) = credentials(seed);
    let per_minute = option::<u32>(&ctx, "wecom.requests_per_minute").unwrap_or(10_000);
    let per_hour = option::<u32>(&ctx, "wecom.requests_per_hour").unwrap_or(150_000);
    let gettoken_per_minute = option::<u32>(&ctx, "wecom.gettoken_per_minute").unwrap_or(per_minute);
    FakeState {
        roster: generate::roster(seed, ROSTER),
        tokens: Mutex::new(Tokens { current: None, uses: 0, expired: BTreeSet::new(), minted: 0 }),
        token_ttl: option::<i64>(&ctx, "wecom.token_ttl_seconds").unwrap_or(7200).max(1),
        fresh_uses: option::<u64>(&ctx, "wecom.token_fresh_uses").unwrap_or(FRESH_USES),
        phone_as_string: ctx.flag("wecom.phone_as_string"),
        list_minute: FakeQuota::new(None, Some(per_minute), ctx.limits),
        list_hour: Mutex::new(HourWindow { epoch: std::time::Instant::now(), hour: 0, count: 0, limit: per_hour }),
        token_minute: FakeQuota::new(None, Some(gettoken_per_minute), ctx.limits),
        corp_id,
        corp_secret,
        ctx,
    }
}

/// A WeCom error answer (HTTP 200, as WeCom sends them).
fn wecom_error(code: i64, msg: &str) -> Response {
    let errmsg = format!("{msg}, more info at https://open.work.weixin.qq.com/devtool/query?e={code}");
    Json(ErrorBody { errcode: code, errmsg }).into_response()
}

async fn gettoken(State(s): State<Arc<FakeState>>, Query(q): Query<HashMap<String, String>>) -> Response {
    let c = &s.ctx.counters;
    c.incr("gettoken_requests");
    match q.get("corpid").map(String::as_str) {
        None | Some("") => return wecom_error(41002, "corpid missing"),
        Some(id) if id != s.corp_id => {
            c.incr("auth_failures");
            return wecom_error(40013, "invalid corpid");
        }
        _ => {}
    }
    match q.get("corpsecret").map(String::as_str) {
        None | Some("") => return wecom_error(41004, "corpsecret missing"),
        Some(secret) if secret != s.corp_secret => {
            c.incr("auth_failures");
            return wecom_error(40001, "invalid credential");
        }
        _ => {}
    }
    if s.token_minute.check().is_err() {
        c.incr("rate_limited");
        return wecom_error(45009, "api freq out of limit");
    }
    let now = s.ctx.dataset.now();
    let mut t = s.tokens.lock();
    let (token, expires_at) = match &t.current {
        Some((tok, exp)) if *exp > now => (tok.clone(), *exp),
        _ => {
            if let Some((old, _)) = t.current.take() {
                t.expired.insert(old);
            }
            t.minted += 1;
            let token: String =
                (0..4u64).map(|i| format!("{:016x}", mix(&[s.ctx.dataset.spec().seed, 0x70CE, t.minted, i]))).collect();
            let exp = now.checked_add(SignedDuration::from_secs(s.token_ttl)).unwrap_or(now);
            t.current = Some((token.clone(), exp));
            t.uses = 0;
            c.incr("tokens_minted");
            (token, exp)
        }
    };
    drop(t);
    c.incr("tokens_issued");
    let left = expires_at.duration_since(now).as_secs().max(1);
    Json(TokenResponse { errcode: 0, errmsg: "ok".into(), access_token: Some(token), expires_in: Some(left) })
        .into_response()
}

/// Why a token is refused, if it is.
fn check_token(s: &FakeState, token: Option<&str>) -> Option<Response> {
    let c = &s.ctx.counters;
    let Some(token) = token.filter(|t| !t.is_empty()) else {
        c.incr("auth_failures");
        return Some(wecom_error(41001, "access_token missing"));
    };
    let now = s.ctx.dataset.now();
    let mut t = s.tokens.lock();
    match &t.current {
        Some((cur, exp)) if cur == token => {
            if *exp > now {
                return None;
            }
            let old = cur.clone();
            t.current = None;
            t.expired.insert(old);
            c.incr("auth_failures");
            Some(wecom_error(42001, "access_token expired"))
        }
        _ if t.expired.contains(token) => {
            c.incr("auth_failures");
            Some(wecom_error(42001, "access_token expired"))
        }
        _ => {
            c.incr("auth_failures");
            Some(wecom_error(40014, "invalid access_token"))
        }
    }
}

async fn get_dial_record(
    State(s): State<Arc<FakeState>>,
    Query(q): Query<HashMap<String, String>>,
    body: Bytes,
) -> Response {
    if let Some(r) = s.ctx.generic_fault().await {
        return r;
    }
    let c = &s.ctx.counters;
    c.incr("requests");
    if let Some(r) = check_token(&s, q.get("access_token").map(String::as_str)) {
        return r;
    }
    let used_before = {
        let mut t = s.tokens.lock();
        t.uses += 1;
        t.uses > s.fresh_uses
    };
    if used_before && s.ctx.faults.roll(FaultKind::TokenExpiry) {
        let mut t = s.tokens.lock();
        if let Some((old, _)) = t.current.take() {
            t.expired.insert(old);
        }
        c.incr("token_expired_injected");
        c.incr("auth_failures");
        return wecom_error(42001, "access_token expired");
    }
    if s.ctx.faults.roll(FaultKind::RateLimit)
        || s.list_minute.check().is_err()
        || !s.list_hour.lock().admit(s.ctx.limits)
    {
        c.incr("rate_limited");
        return wecom_error(45009, "api freq out of limit");
    }
    let req: DialRecordRequest = if body.iter().all(u8::is_ascii_whitespace) {
        DialRecordRequest::default()
    } else {
        match serde_json::from_slice(&body) {
            Ok(r) => r,
            Err(_) => return wecom_error(47001, "data format error"),
        }
    };
    let now = s.ctx.dataset.now().as_second();
    let (start, end) = match (req.start_time, req.end_time) {
        (Some(a), Some(b)) => (a, b),
        (Some(a), None) => (a, now),
        (None, Some(b)) => (b.saturating_sub(MAX_SPAN_SECS - 1), b),
        (None, None) => (now - (MAX_SPAN_SECS - 1), now),
    };
    if end < start || start > now {
        c.incr("bad_ranges");
        return wecom_error(600018, "invalid start_time or end_time");
    }
    // The trap: longer than 30 days (inclusive) is cut to the 30 days before end_time.
    let start = if end.saturating_sub(start) >= MAX_SPAN_SECS {
        c.incr("spans_truncated");
        end - (MAX_SPAN_SECS - 1)
    } else {
        start
    };
    let limit = match req.limit {
        None | Some(0) => MAX_LIMIT,
        Some(l) => l.min(MAX_LIMIT),
    } as usize;
    let offset = req.offset.unwrap_or(0);
    let (Ok(from), Ok(to)) = (Instant::from_second(start), Instant::from_second(end.saturating_add(1))) else {
        return wecom_error(600018, "invalid start_time or end_time");
    };
    let seeds = s.ctx.dataset.page(PROVIDER, from, to, offset, limit);
    let record = s.records(&seeds);
    c.add("records_served", record.len() as u64);
    Json(DialRecordAnswer { errcode: 0, errmsg: "ok", record }).into_response()
}

/// [`crate::wire::DialRecordResponse`] as served, with typed records: the same keys in the same
/// order, so the same bytes as through a `serde_json::Value`.
#[derive(serde::Serialize)]
struct DialRecordAnswer {
    errcode: i64,
    errmsg: &'static str,
    record: Vec<DialRecord>,
}

impl FakeState {
    /// The wire records of a page of calls, one per call.
    fn records(&self, seeds: &[CallSeed]) -> Vec<DialRecord> {
        let callers = self.callers(seeds);
        let now = self.ctx.dataset.now();
        seeds
            .iter()
            .map(|seed| {
                let caller = callers.get(&seed.key).copied().unwrap_or(0);
                let settled = self.ctx.dataset.updated_at(seed).is_none_or(|t| t <= now);
                if !settled {
                    self.ctx.counters.incr("unsettled_served");
                }
                self.record(seed, caller, settled)
            })
            .collect()
    }

    /// Each call's caller: its own preference (the first draw of its rng), moved to the
    /// next free colleague when an earlier call of the same second already has it —
    /// one user cannot place two calls at once.
    fn callers(&self, seeds: &[CallSeed]) -> HashMap<u64, usize> {
        // Only the seconds of the page matter: the calls (visible or not) sharing one.
        let seconds: BTreeSet<i64> = seeds.iter().map(|s| s.at.as_second()).collect();
        let mut out = HashMap::with_capacity(seeds.len());
        for sec in seconds {
            let calls = self.ctx.dataset.calls_at_second(PROVIDER, sec);
            let mut taken: Vec<usize> = Vec::with_capacity(calls.len());
            for call in &calls {
                let preferred = call.rng.clone().gen_range(0..ROSTER);
                let chosen =
                    (0..ROSTER).map(|k| (preferred + k) % ROSTER).find(|a| !taken.contains(a)).unwrap_or(preferred);
                taken.push(chosen);
                out.insert(call.key, chosen);
            }
        }
        out
    }

    fn phone(&self, rng: &mut impl Rng) -> Phone {
        if rng.gen_bool(0.8) {
            let m = generate::mobile(rng);
            match m.parse::<u64>() {
                Ok(n) if !self.phone_as_string && rng.gen_bool(0.6) => Phone::Number(n),
                _ => Phone::Text(m),
            }
        } else {
            Phone::Text(generate::landline(rng))
        }
    }

    fn colleague(&self, rng: &mut impl Rng, not: &[usize]) -> Option<usize> {
        let start = rng.gen_range(0..ROSTER);
        (0..ROSTER).map(|k| (start + k) % ROSTER).find(|a| !not.contains(a))
    }

    /// One call's wire record, every field drawn from the call's own rng.
    fn record(&self, seed: &CallSeed, caller: usize, settled: bool) -> DialRecord {
        let mut rng = seed.rng.clone();
        let _preferred: usize = rng.gen_range(0..ROSTER); // consumed by `callers`
        let minutes = |secs: i64| ((secs + 59) / 60).max(1);
        let multi = rng.gen_bool(0.12);
        let caller_minutes = minutes(generate::talk_seconds(&mut rng));
        let mut used = vec![caller];
        let mut callee = Vec::new();
        let n = if multi { rng.gen_range(2..=4) } else { 1 };
        for _ in 0..n {
            let colleague_p = if multi { 0.4 } else { 0.15 };
            let duration = if multi { rng.gen_range(1..=caller_minutes) } else { caller_minutes };
            let who = if rng.gen_bool(colleague_p) { self.colleague(&mut rng, &used) } else { None };
            match who {
                Some(a) => {
                    used.push(a);
                    callee.push(Callee { userid: Some(self.roster[a].id.clone()), phone: None, duration });
                }
                None => callee.push(Callee { userid: None, phone: Some(self.phone(&mut rng)), duration }),
            }
        }
        let caller_duration = if settled { caller_minutes } else { caller_minutes - 1 };
        let total =
            if multi { caller_duration + callee.iter().map(|c| c.duration).sum::<i64>() } else { caller_duration };
        DialRecord {
            call_time: seed.at.as_second(),
            total_duration: total,
            call_type: if multi { 2 } else { 1 },
            caller: Caller { userid: self.roster[caller].id.clone(), duration: caller_duration },
            callee,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use huadan_fakekit::{Clock, Dataset, DatasetSpec};

    fn state() -> FakeState {
        // Dense (many calls share a second) with late and changing calls.
        let spec = DatasetSpec { seed: 9, days: 1, calls_per_day: 60_000, late: 0.2, update: 0.2 };
        fake_state(FakeContext::new(Dataset::new(spec, Clock::fixed("2025-03-25T06:10:00Z".parse().unwrap()))))
    }

    /// The callers as first written: every call of each touched hour, second by second.
    fn callers_from_whole_buckets(s: &FakeState, seeds: &[CallSeed]) -> HashMap<u64, usize> {
        let buckets: BTreeSet<i64> = seeds.iter().map(|s| s.at.as_second().div_euclid(3600) * 3600).collect();
        let mut out = HashMap::new();
        for b in buckets {
            let calls = s.ctx.dataset.bucket_calls(PROVIDER, b);
            let mut i = 0;
            while i < calls.len() {
                let mut j = i;
                while j < calls.len() && calls[j].at == calls[i].at {
                    j += 1;
                }
                let mut taken: Vec<usize> = Vec::new();
                for call in &calls[i..j] {
                    let preferred = call.rng.clone().gen_range(0..ROSTER);
                    let chosen =
                        (0..ROSTER).map(|k| (preferred + k) % ROSTER).find(|a| !taken.contains(a)).unwrap_or(preferred);
                    taken.push(chosen);
                    out.insert(call.key, chosen);
                }
                i = j;
            }
        }
        out
    }

    #[test]
    fn callers_of_a_page_match_whole_bucket_assignment() {
        let s = state();
        let d = &s.ctx.dataset;
        let (from, to) = (d.now() - SignedDuration::from_hours(3), d.now());
        let mut clashes = 0;
        for offset in [0u64, 100, 1000, 2500] {
            let seeds = d.page(PROVIDER, from, to, offset, 100);
            assert_eq!(seeds.len(), 100);
            let want = callers_from_whole_buckets(&s, &seeds);
            let got = s.callers(&seeds);
            for seed in &seeds {
                assert_eq!(got.get(&seed.key), want.get(&seed.key));
                clashes += usize::from(got[&seed.key] != seed.rng.clone().gen_range(0..ROSTER));
            }
        }
        assert!(clashes > 0, "some caller was moved to a free colleague");
    }

    #[test]
    fn typed_answer_serialises_as_the_wire_response_does() {
        let s = state();
        let d = &s.ctx.dataset;
        let seeds = d.page(PROVIDER, d.now() - SignedDuration::from_hours(2), d.now(), 0, 100);
        let typed = serde_json::to_string(&DialRecordAnswer { errcode: 0, errmsg: "ok", record: s.records(&seeds) });
        let values = s.records(&seeds).iter().map(|r| serde_json::to_value(r).unwrap()).collect();
        let wire = crate::wire::DialRecordResponse { errcode: 0, errmsg: "ok".into(), record: values };
        assert_eq!(typed.unwrap(), serde_json::to_string(&wire).unwrap());
    }
}
