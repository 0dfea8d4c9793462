//! One test per WeCom trap, against the fake: the client gets every record exactly
//! once, and a naive client is bitten.

mod common;

use common::*;
use huadan_fakekit::{FaultKind, Faults};
use huadan_model::{Direction, Disposition, DurationPrecision};
use huadan_vendor::{ErrorClass, FetchError, Vendor, Window};
use jiff::SignedDuration;
use serde_json::json;
use std::sync::Arc;

const DAY: i64 = 86_400;

fn days(n: i64) -> SignedDuration {
    SignedDuration::from_secs(n * DAY)
}

#[tokio::test]
async fn wecom_one_token_for_ten_thousand_records() {
    let s = serve(Opts { days: 12, calls_per_day: 1000, ..Opts::default() }).await;
    let c = s.client();
    let range = last(s.now(), days(11));
    let expected = s.expected(range);
    assert!(expected >= 10_000, "dataset too small: {expected}");
    let got = sync(&c, range, s.now(), 0).await.unwrap();
    assert_eq!(assert_unique(&got.records) as u64, expected);
    assert!(got.requests > 100);
    assert_eq!(s.count("tokens_issued"), 1, "one gettoken for the whole sync");
    assert_eq!(s.count("gettoken_requests"), 1);
    assert_eq!(c.tokens_fetched().await, 1);
}

#[tokio::test]
async fn wecom_token_single_flight_under_concurrent_fetches() {
    let s = serve(Opts::default()).await;
    let c = Arc::new(s.client());
    let now = s.now();
    let windows: Vec<Window> = (1..=8).map(|h| Window::new(now - SignedDuration::from_hours(h), now)).collect();
    let run = |c: Arc<huadan_wecom::WecomClient>, ws: Vec<Window>| async move {
        let tasks: Vec<_> = ws
            .into_iter()
            .map(|w| {
                let c = c.clone();
                tokio::spawn(async move { c.fetch(&w, None).await })
            })
            .collect();
        let mut out = Vec::new();
        for t in tasks {
            out.push(t.await.unwrap());
        }
        out
    };
    for r in run(c.clone(), windows.clone()).await {
        r.unwrap();
    }
    assert_eq!(s.count("gettoken_requests"), 1, "8 concurrent cold fetches, one gettoken");

    // The fake's token expires (WeCom's clock): every in-flight fetch gets 42001 …
    s.clock.advance(SignedDuration::from_secs(7300));
    for r in run(c.clone(), windows.clone()).await {
        let e = r.unwrap_err();
        assert_eq!(e.code(), "42001");
        assert_eq!(e.class(), ErrorClass::RefreshAuth);
    }
    // … the engine calls reset_auth for each, then retries them all at once: one refresh.
    for _ in 0..8 {
        c.reset_auth().await;
    }
    for r in run(c.clone(), windows).await {
        r.unwrap();
    }
    assert_eq!(s.count("gettoken_requests"), 2);
    assert_eq!(s.count("tokens_minted"), 2);
}

#[tokio::test]
async fn wecom_token_cached_for_expires_in_then_renewed_before_expiry() {
    use std::sync::atomic::{AtomicU64, Ordering};
    let s = serve(Opts::default()).await;
    let base = std::time::Instant::now();
    let offset = Arc::new(AtomicU64::new(0));
    let o = offset.clone();
    let c =
        s.client().with_token_clock(Arc::new(move || base + std::time::Duration::from_secs(o.load(Ordering::SeqCst))));
    let w = last(s.now(), SignedDuration::from_hours(1));
    c.fetch(&w, None).await.unwrap();
    // 2 hours pass on both clocks: the client renews on its own, WeCom never says 42001.
    offset.store(7200, Ordering::SeqCst);
    s.clock.advance(SignedDuration::from_secs(7200));
    let w = last(s.now(), SignedDuration::from_hours(1));
    c.fetch(&w, None).await.unwrap();
    assert_eq!(s.count("gettoken_requests"), 2);
    assert_eq!(s.count("auth_failures"), 0);
}

#[tokio::test]
async fn wecom_token_refreshed_once_on_42001_records_exact() {
    let faults = Faults::none().with(FaultKind::TokenExpiry, 0.15);
    let s = serve(Opts { faults, options: vec![("wecom.token_fresh_uses", "1".into())], ..Opts::default() }).await;
    let c = s.client();
    let range = last(s.now(), days(9));
    let got = sync(&c, range, s.now(), 0).await.unwrap();
    assert_eq!(assert_unique(&got.records) as u64, s.expected(range));
    let injected = s.count("token_expired_injected");
    assert!(injected > 0);
    assert_eq!(got.refreshes, injected);
    // One new token per expiry, never one per request.
    assert_eq!(s.count("tokens_minted"), 1 + injected);
    assert_eq!(s.count("gettoken_requests"), 1 + injected);
}

#[tokio::test]
async fn wecom_wrong_secret_and_corp_id_are_fatal() {
    let s = serve(Opts::default()).await;
    let w = last(s.now(), SignedDuration::from_hours(1));
    let bad = client_for(&s.url, &s.corp_id, "not-the-secret");
    let e = bad.fetch(&w, None).await.unwrap_err();
    assert_eq!(e.code(), "40001");
    assert_eq!(e.class(), ErrorClass::Fatal);
    assert!(e.to_string().contains("corp_secret"), "{e}");
    assert!(!e.to_string().contains(&s.corp_secret));
    let bad = client_for(&s.url, "ww0000", &s.corp_secret);
    let e = bad.fetch(&w, None).await.unwrap_err();
    assert_eq!((e.code().as_str(), e.class()), ("40013", ErrorClass::Fatal));
    // Nothing was listed with a bad credential.
    assert_eq!(s.count("requests"), 0);
}

#[tokio::test]
async fn wecom_invalid_token_is_40014() {
    let s = serve(Opts::default()).await;
    let http = reqwest::Client::new();
    let v: serde_json::Value = http
        .post(format!("{}/cgi-bin/dial/get_dial_record?access_token=forged", s.url))
        .json(&json!({}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["errcode"], 40014);
    let v: serde_json::Value =
        http.post(format!("{}/cgi-bin/dial/get_dial_record", s.url)).send().await.unwrap().json().await.unwrap();
    assert_eq!(v["errcode"], 41001);
}

#[tokio::test]
async fn wecom_limit_capped_at_100_naive_client_stops_early() {
    let s = serve(Opts::default()).await;
    let range = last(s.now(), days(2));
    let expected = s.expected(range);
    assert!(expected > 150);
    // Naive: asks for 500 a page and takes a page shorter than 500 as the last one.
    let (lo, hi) = huadan_wecom::client::closed_range(&range).unwrap();
    let mut naive = 0;
    let mut offset = 0;
    loop {
        let v = raw_list(&s, json!({"start_time": lo, "end_time": hi, "offset": offset, "limit": 500})).await;
        assert_eq!(v["errcode"], 0);
        let n = v["record"].as_array().unwrap().len();
        assert!(n <= 100, "WeCom never returns more than 100");
        naive += n as u64;
        offset += n;
        if n < 500 {
            break;
        }
    }
    assert_eq!(naive, 100, "the naive client stopped after one capped page");
    let got = sync(&s.client(), range, s.now(), 0).await.unwrap();
    assert_eq!(assert_unique(&got.records) as u64, expected);
}

#[tokio::test]
async fn wecom_short_page_is_the_last_page() {
    let s = serve(Opts::default()).await;
    // Find a window holding exactly 200 records: two full pages, then an empty one.
    let now = s.now();
    let all: Vec<_> = s.dataset.calls_between(huadan_wecom::PROVIDER, now - days(3), now).collect();
    let start = all[0].at;
    let end = all[200].at; // half-open: the 201st call is outside
    let w = Window::new(start, end);
    assert_eq!(s.expected(w), 200);
    let c = s.client();
    let p1 = c.fetch(&w, None).await.unwrap();
    assert_eq!(p1.records.len(), 100);
    let p2 = c.fetch(&w, p1.next.as_ref()).await.unwrap();
    assert_eq!(p2.records.len(), 100);
    let p3 = c.fetch(&w, p2.next.as_ref()).await.unwrap();
    assert!(p3.records.is_empty() && p3.next.is_none());
    // One more record: a short second page ends the window.
    let w = Window::new(start, all[150].at);
    let p1 = c.fetch(&w, None).await.unwrap();
    let p2 = c.fetch(&w, p1.next.as_ref()).await.unwrap();
    assert_eq!(p2.records.len(), 50);
    assert!(p2.next.is_none());
    assert_eq!(p1.total, None, "WeCom reports no total");
}

#[tokio::test]
async fn wecom_closed_range_boundary_counted_once() {
    let s = serve(Opts { calls_per_day: 2000, ..Opts::default() }).await;
    let now = s.now();
    let calls: Vec<_> = s.dataset.calls_between(huadan_wecom::PROVIDER, now - days(1), now).collect();
    let boundary = calls[calls.len() / 2].at;
    let (a, b) = (Window::new(now - days(1), boundary), Window::new(boundary, now));
    let c = s.client();
    let mut out = Synced::default();
    fetch_window(&c, &a, &mut out, 0).await.unwrap();
    fetch_window(&c, &b, &mut out, 0).await.unwrap();
    assert_eq!(assert_unique(&out.records) as u64, s.expected(Window::new(now - days(1), now)));
    assert!(out.records.iter().any(|r| r.started_at == boundary));

    // Naive: passes the half-open window's end as end_time — the closed range takes the
    // boundary second into both windows.
    let at_boundary =
        s.dataset.calls_between(huadan_wecom::PROVIDER, boundary, boundary + SignedDuration::from_secs(1)).count();
    let count = |v: serde_json::Value| {
        v["record"].as_array().unwrap().iter().filter(|r| r["call_time"] == boundary.as_second()).count()
    };
    let first = raw_list(&s, json!({"start_time": boundary.as_second() - 600, "end_time": boundary.as_second()})).await;
    let second = raw_list(&s, json!({"start_time": boundary.as_second(), "end_time": boundary.as_second() + 1})).await;
    assert_eq!(count(first) + count(second), 2 * at_boundary, "the boundary second is read twice");
}

#[tokio::test]
async fn wecom_bad_range_is_600018() {
    let s = serve(Opts::default()).await;
    let now = s.now().as_second();
    let v = raw_list(&s, json!({"start_time": now - 10, "end_time": now - 20})).await;
    assert_eq!(v["errcode"], 600018);
    let v = raw_list(&s, json!({"start_time": now + 3600, "end_time": now + 7200})).await;
    assert_eq!(v["errcode"], 600018);
    assert_eq!(s.count("bad_ranges"), 2);
    // Absurd numbers are a range error or a format error, never a crash of the fake.
    for body in [
        json!({"start_time": i64::MIN, "end_time": i64::MAX}),
        json!({"end_time": i64::MIN}),
        json!({"start_time": now - 10, "end_time": now, "offset": -1}),
        json!({"start_time": "yesterday"}),
    ] {
        let v = raw_list(&s, body.clone()).await;
        assert_ne!(v["errcode"], 0, "{body}");
    }
    // A start at the dawn of time with no end is just a (silently cut) long span.
    let v = raw_list(&s, json!({"start_time": i64::MIN})).await;
    assert_eq!(v["errcode"], 0);
    // A window entirely in the future reaches WeCom as one: classified fatal, with advice.
    let c = s.client();
    let w = Window::new(s.now() + SignedDuration::from_hours(1), s.now() + SignedDuration::from_hours(2));
    let e = c.fetch(&w, None).await.unwrap_err();
    assert_eq!((e.code().as_str(), e.class()), ("600018", ErrorClass::Fatal));
    assert!(e.to_string().contains("clock"));
}

#[tokio::test]
async fn wecom_silent_30_day_truncation() {
    let s = serve(Opts { days: 100, calls_per_day: 40, ..Opts::default() }).await;
    let c = s.client();
    let range = last(s.now(), days(90));
    let expected = s.expected(range);
    // The client plans ≤ 30-day windows: exact.
    let windows = c.plan(range, s.now()).unwrap();
    assert_eq!(windows.len(), 3);
    let got = sync(&c, range, s.now(), 0).await.unwrap();
    assert_eq!(assert_unique(&got.records) as u64, expected);
    assert_eq!(s.count("spans_truncated"), 0);
    // Even one 90-day window handed straight to fetch is walked in 30-day sub-ranges.
    let mut out = Synced::default();
    fetch_window(&c, &range, &mut out, 0).await.unwrap();
    assert_eq!(assert_unique(&out.records) as u64, expected);
    assert_eq!(s.count("spans_truncated"), 0);

    // Naive: one 90-day request — no error, and only the last 30 days come back.
    let (lo, hi) = huadan_wecom::client::closed_range(&range).unwrap();
    let mut naive = 0u64;
    let mut offset = 0;
    loop {
        let v = raw_list(&s, json!({"start_time": lo, "end_time": hi, "offset": offset, "limit": 100})).await;
        assert_eq!(v["errcode"], 0, "WeCom says nothing");
        let n = v["record"].as_array().unwrap().len();
        naive += n as u64;
        offset += n;
        if n < 100 {
            break;
        }
    }
    let last30 = s.expected(Window::new(s.now() - days(30), s.now()));
    assert_eq!(naive, last30);
    assert!(naive < expected / 2, "naive got {naive} of {expected}");
    assert!(s.count("spans_truncated") > 0);
}

#[tokio::test]
async fn wecom_thirty_day_window_is_inclusive_at_the_edge() {
    let s = serve(Opts { days: 40, calls_per_day: 100, ..Opts::default() }).await;
    let now = s.now();
    let first = s.dataset.calls_between(huadan_wecom::PROVIDER, now - days(35), now).next().unwrap().at;
    // Exactly 30 days starting on a call: [first, first + 30 d) → closed [first, first + 30 d − 1 s].
    let w = Window::new(first, first + days(30));
    let mut out = Synced::default();
    fetch_window(&s.client(), &w, &mut out, 0).await.unwrap();
    assert!(out.records.iter().any(|r| r.started_at == first), "the first second is kept");
    assert_eq!(out.records.len() as u64, s.expected(w));
    assert_eq!(s.count("spans_truncated"), 0);
    // One second more (end_time = start + 30 d, inclusive) and WeCom drops the first second.
    let v = raw_list(&s, json!({"start_time": first.as_second(), "end_time": first.as_second() + 30 * DAY})).await;
    assert!(v["record"].as_array().unwrap().iter().all(|r| r["call_time"] != first.as_second()));
    assert_eq!(s.count("spans_truncated"), 1);
}

#[tokio::test]
async fn wecom_minutes_become_seconds_and_multi_party_talk_is_callers() {
    let s = serve(Opts::default()).await;
    let range = last(s.now(), days(3));
    let got = sync(&s.client(), range, s.now(), 0).await.unwrap();
    let mut multi = 0;
    for r in &got.records {
        assert_eq!(r.duration_precision, DurationPrecision::Minute);
        assert_eq!(r.disposition, Disposition::Answered, "only connected calls are listed");
        let caller_min = r.raw.to_value()["caller"]["duration"].as_i64().unwrap();
        assert_eq!(r.talk_seconds, Some(caller_min * 60));
        let total = r.raw.to_value()["total_duration"].as_i64().unwrap();
        if r.raw.to_value()["call_type"] == 2 {
            multi += 1;
            let sum: i64 =
                r.raw.to_value()["callee"].as_array().unwrap().iter().map(|c| c["duration"].as_i64().unwrap()).sum();
            assert_eq!(total, caller_min + sum, "the fake's total is the sum over everyone");
            assert!(r.talk_seconds.unwrap() < total * 60, "talk time is the caller's, not the total");
        } else {
            assert_eq!(total, caller_min);
        }
    }
    assert!(multi > 5, "the fake serves multi-party calls ({multi})");
}

#[tokio::test]
async fn wecom_callee_phone_number_or_string() {
    let s = serve(Opts::default()).await;
    let got = sync(&s.client(), last(s.now(), days(3)), s.now(), 0).await.unwrap();
    let (mut numbers, mut strings, mut landlines) = (0, 0, 0);
    for r in &got.records {
        for (c, p) in r.raw.to_value()["callee"].as_array().unwrap().iter().zip(&r.participants[1..]) {
            assert!(c.get("userid").is_some() != c.get("phone").is_some(), "a callee has userid or phone");
            match &c["phone"] {
                serde_json::Value::Number(n) => {
                    numbers += 1;
                    assert_eq!(p.number.as_deref(), Some(n.to_string().as_str()));
                }
                serde_json::Value::String(t) => {
                    strings += 1;
                    landlines += t.starts_with('0') as i32;
                    assert_eq!(p.number.as_deref(), Some(t.as_str()), "digits kept as sent");
                }
                _ => assert_eq!(p.user_id.as_deref(), c["userid"].as_str()),
            }
        }
    }
    assert!(numbers > 10 && strings > 10 && landlines > 5, "{numbers} {strings} {landlines}");
    // A naive wire type with `phone: String` cannot read what the fake serves.
    #[derive(serde::Deserialize)]
    #[allow(dead_code)]
    struct StrictCallee {
        phone: Option<String>,
    }
    let strict_failures = got
        .records
        .iter()
        .flat_map(|r| r.raw.to_value()["callee"].as_array().unwrap().clone())
        .filter(|c| serde_json::from_value::<StrictCallee>(c.clone()).is_err())
        .count();
    assert_eq!(strict_failures, numbers);
}

#[tokio::test]
async fn wecom_direction_internal_only_when_every_callee_is_a_colleague() {
    let s = serve(Opts::default()).await;
    let got = sync(&s.client(), last(s.now(), days(3)), s.now(), 0).await.unwrap();
    let (mut internal, mut outbound) = (0, 0);
    for r in &got.records {
        let all_users = r.raw.to_value()["callee"].as_array().unwrap().iter().all(|c| c.get("userid").is_some());
        let want = if all_users { Direction::Internal } else { Direction::Outbound };
        assert_eq!(r.direction, want);
        internal += (want == Direction::Internal) as i32;
        outbound += (want == Direction::Outbound) as i32;
    }
    assert!(internal > 5 && outbound > internal, "{internal} internal, {outbound} outbound");
}

#[tokio::test]
async fn wecom_update_served_in_place_same_id() {
    let s = serve(Opts { update: 1.0, ..Opts::default() }).await;
    let range = last(s.now(), SignedDuration::from_hours(6));
    let before = sync(&s.client(), range, s.now(), 0).await.unwrap();
    assert!(s.count("unsettled_served") > 0);
    s.clock.advance(SignedDuration::from_hours(1));
    let after = sync(&s.client(), range, s.now(), 0).await.unwrap();
    assert_eq!(before.records.len(), after.records.len());
    let mut changed = 0;
    for (a, b) in before.records.iter().zip(&after.records) {
        assert_eq!(a.id, b.id, "a settled record keeps its id");
        if a.talk_seconds != b.talk_seconds {
            changed += 1;
            assert_eq!(a.talk_seconds.unwrap() + 60, b.talk_seconds.unwrap());
        }
    }
    assert!(changed > 0);
}

#[tokio::test]
async fn wecom_fake_is_deterministic() {
    let a = serve(Opts::default()).await;
    let b = serve(Opts::default()).await;
    let (lo, hi) = huadan_wecom::client::closed_range(&last(a.now(), days(2))).unwrap();
    let body = json!({"start_time": lo, "end_time": hi, "offset": 100, "limit": 100});
    let x = serde_json::to_string(&raw_list(&a, body.clone()).await).unwrap();
    let y = serde_json::to_string(&raw_list(&b, body).await).unwrap();
    assert_eq!(x, y);
    assert!(x.len() > 1000);
}

#[tokio::test]
async fn wecom_quota_45009_is_rate_limited() {
    let s = serve(Opts { options: vec![("wecom.requests_per_minute", "3".into())], ..Opts::default() }).await;
    let c = s.client();
    let w = last(s.now(), SignedDuration::from_hours(1));
    let mut errors = Vec::new();
    for _ in 0..5 {
        if let Err(e) = c.fetch(&w, None).await {
            errors.push(e);
        }
    }
    assert!(!errors.is_empty());
    for e in &errors {
        assert_eq!(e.code(), "45009");
        assert!(matches!(e.class(), ErrorClass::RateLimited { .. }));
    }
    assert_eq!(s.count("rate_limited") as usize, errors.len());
}

#[tokio::test]
async fn wecom_faults_are_classified_and_retried_to_an_exact_result() {
    let faults =
        Faults::none().with(FaultKind::Http500, 0.1).with(FaultKind::RateLimit, 0.1).with(FaultKind::Timeout, 0.03);
    let s = serve(Opts { faults, ..Opts::default() }).await;
    let c = client_for(&s.url, &s.corp_id, &s.corp_secret);
    let range = last(s.now(), days(9));
    let got = sync(&c, range, s.now(), 1_000).await.unwrap();
    assert_eq!(assert_unique(&got.records) as u64, s.expected(range));
    assert!(got.retries > 0);
    assert!(s.count("fault_http500") > 0 && s.count("rate_limited") > 0);
    // A single 500 is a retryable HTTP error.
    let faults = Faults::none().with(FaultKind::Http500, 1.0);
    let s = serve(Opts { faults, ..Opts::default() }).await;
    let e = s.client().fetch(&last(s.now(), SignedDuration::from_hours(1)), None).await.unwrap_err();
    assert!(matches!(e, FetchError::Http { status: 500, .. }), "{e:?}");
    assert_eq!(e.class(), ErrorClass::Retry);
}

#[tokio::test]
async fn wecom_probe_proves_credentials_without_a_time_range() {
    let s = serve(Opts::default()).await;
    let r = s.client().probe().await.unwrap();
    assert!(r.detail.contains("calls in the last 30 days"), "{}", r.detail);
    assert_eq!(s.count("bad_ranges"), 0);
    let e = client_for(&s.url, &s.corp_id, "wrong").probe().await.unwrap_err();
    assert_eq!((e.code().as_str(), e.class()), ("40001", ErrorClass::Fatal));
}

#[tokio::test]
async fn wecom_gettoken_per_request_is_rate_limited_cached_token_is_not() {
    let opts =
        || Opts { calls_per_day: 1000, options: vec![("wecom.gettoken_per_minute", "20".into())], ..Opts::default() };
    // Naive: one gettoken per page — WeCom's gettoken limit answers 45009 on the 21st.
    let s = serve(opts()).await;
    let http = reqwest::Client::new();
    let mut refused = 0;
    for _ in 0..30 {
        let v: serde_json::Value = http
            .get(format!("{}/cgi-bin/gettoken", s.url))
            .query(&[("corpid", s.corp_id.as_str()), ("corpsecret", s.corp_secret.as_str())])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        refused += (v["errcode"] == 45009) as u32;
    }
    assert_eq!(refused, 10);
    // The client: 60+ pages on one token, under the same limit.
    let s = serve(opts()).await;
    let range = last(s.now(), days(9));
    let got = sync(&s.client(), range, s.now(), 0).await.unwrap();
    assert!(got.requests > 30);
    assert_eq!(got.records.len() as u64, s.expected(range));
    assert_eq!(s.count("gettoken_requests"), 1);
}

#[tokio::test]
async fn wecom_no_limits_admits_everything() {
    let s = serve(Opts { options: vec![("wecom.requests_per_minute", "2".into())], limits: false, ..Opts::default() })
        .await;
    let got = sync(&s.client(), last(s.now(), days(3)), s.now(), 0).await.unwrap();
    assert!(got.requests > 2);
    assert_eq!(s.count("rate_limited"), 0);
}

/// The engine's policy (a second refresh in a row is fatal) with 16 concurrent workers
/// under injected token expiries: every worker finishes, exactly.
#[tokio::test]
async fn wecom_token_expiry_fault_never_hits_a_worker_twice_in_a_row() {
    let faults = Faults::none().with(FaultKind::TokenExpiry, 0.05);
    let s = serve(Opts { calls_per_day: 3000, faults, ..Opts::default() }).await;
    let c = Arc::new(s.client());
    let range = last(s.now(), days(8));
    let pieces = range.split_by(SignedDuration::from_hours(12));
    let tasks: Vec<_> = pieces
        .chunks(pieces.len().div_ceil(16))
        .map(|ws| {
            let (c, ws) = (c.clone(), ws.to_vec());
            tokio::spawn(async move {
                let mut out = Synced::default();
                for w in &ws {
                    fetch_window(c.as_ref(), w, &mut out, 0).await?;
                }
                Ok::<_, FetchError>(out)
            })
        })
        .collect();
    assert_eq!(tasks.len(), 16);
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap().unwrap().records);
    }
    assert_eq!(assert_unique(&all) as u64, s.expected(range));
    assert!(s.count("token_expired_injected") > 0);
}
