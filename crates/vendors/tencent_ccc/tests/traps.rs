//! One test per trap of VENDORS.md § tencent_ccc, against the sandbox fake: the client
//! gets every record exactly once, and a naive client is really bitten.

mod common;

use common::*;
use huadan_model::{Direction, Disposition, HangupSide, TranscriptStatus};
use huadan_tencent_ccc::client::classify;
use huadan_vendor::{ErrorClass, FetchError, PlanError, Vendor, Window};
use jiff::SignedDuration;
use std::collections::BTreeSet;

/// 2024-06-16 01:30 Beijing time: inside the 00:00–08:00 band where the Beijing date
/// and the UTC date differ.
const EARLY_BEIJING: &str = "2024-06-15T17:30:00Z";

fn day_window(s: &Served) -> Window {
    let now = s.clock.now();
    Window::new(now - SignedDuration::from_hours(24), now)
}

#[tokio::test]
async fn tencent_ccc_credential_date_is_utc_client_syncs_fake_refuses_beijing_date() {
    let s = serve(context(EARLY_BEIJING, 3, 600, 0.0)).await;
    let client = s.client();
    let w = day_window(&s);
    let (records, _) = fetch_window(&client, &w).await.unwrap();
    assert!(!records.is_empty());
    assert_eq!(s.ctx.counters.get("auth_failures"), 0);

    // A naive client that puts the Beijing date in the credential scope is refused.
    let now = s.now();
    let beijing = huadan_model::time::gmt8_date(s.clock.now()).to_string();
    assert_eq!(beijing, "2024-06-16");
    let (status, _, v) =
        s.naive(&s.body(now - 3600, now, 0, 10), Knobs { date: Some(beijing), ..Knobs::default() }).await;
    assert_eq!(status, 200);
    assert_eq!(error_code(&v), Some("AuthFailure.SignatureFailure"));
    // The same request with the UTC date passes.
    let (_, _, v) = s.naive(&s.body(now - 3600, now, 0, 10), Knobs::default()).await;
    assert_eq!(error_code(&v), None, "{v}");
}

#[tokio::test]
async fn tencent_ccc_page_number_starts_at_zero() {
    let s = serve(context("2024-06-15T09:00:00Z", 2, 800, 0.0)).await;
    let client = s.client().with_page_size(25);
    let w = day_window(&s);
    let expected = s.expected_count(&w);
    assert!(expected > 100, "{expected}");
    let (records, requests) = fetch_window(&client, &w).await.unwrap();
    let ids: BTreeSet<_> = records.iter().map(|r| r.id.clone()).collect();
    assert_eq!(records.len() as u64, expected, "every record once");
    assert_eq!(ids.len(), records.len(), "no duplicates across pages");
    assert_eq!(requests, expected.div_ceil(25), "one request per page, no extra empty page");
    assert!(records.iter().all(|r| w.contains(r.started_at)));

    // A naive client paging from 1 never sees the first page (after the quota's second).
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let (e0, e1) = (w.start.as_second(), w.end.as_second());
    let (_, _, p0) = s.naive(&s.body(e0, e1, 0, 25), Knobs::default()).await;
    let (_, _, p1) = s.naive(&s.body(e0, e1, 1, 25), Knobs::default()).await;
    let first: Vec<_> =
        p0["Response"]["TelCdrList"].as_array().unwrap().iter().map(|r| r["SessionId"].clone()).collect();
    let second: Vec<_> =
        p1["Response"]["TelCdrList"].as_array().unwrap().iter().map(|r| r["SessionId"].clone()).collect();
    assert_eq!(first.len(), 25);
    assert!(first.iter().all(|id| !second.contains(id)), "page 1 is the second page, not the first");
    assert_eq!(p0["Response"]["TotalCount"].as_u64(), Some(expected));
}

#[tokio::test]
async fn tencent_ccc_page_size_at_most_100_and_limit_offset_ignored() {
    let s = serve(context("2024-06-15T09:00:00Z", 2, 800, 0.0)).await;
    let now = s.now();
    let (_, _, v) = s.naive(&s.body(now - 86400, now, 0, 101), Knobs::default()).await;
    assert_eq!(error_code(&v), Some("InvalidParameterValue"));
    let (_, _, v) = s.naive(&s.body(now - 86400, now, 0, 0), Knobs::default()).await;
    assert_eq!(error_code(&v), Some("InvalidParameterValue"));
    // Limit/Offset are deprecated: a client paging with Offset gets page 0 again and again.
    let mut b0 = s.body(now - 86400, now, 0, 50);
    b0["Offset"] = 0.into();
    b0["Limit"] = 50.into();
    let mut b1 = b0.clone();
    b1["Offset"] = 50.into();
    let (_, _, v0) = s.naive(&b0, Knobs::default()).await;
    let (_, _, v1) = s.naive(&b1, Knobs::default()).await;
    assert_eq!(v0["Response"]["TelCdrList"], v1["Response"]["TelCdrList"]);
    assert_eq!(v0["Response"]["TelCdrList"].as_array().unwrap().len(), 50);
    // Without PageSize / PageNumber the API refuses (they are required).
    let (_, _, v) = s
        .naive(
            &serde_json::json!({"SdkAppId": s.sdk_app_id, "StartTimeStamp": now - 60, "EndTimeStamp": now, "Limit": 10, "Offset": 0}),
            Knobs::default(),
        )
        .await;
    assert_eq!(error_code(&v), Some("MissingParameter"));
    // The real client asks for 100 per page.
    let body = s.client().request_body(1, 2, 0, huadan_tencent_ccc::wire::MAX_PAGE_SIZE);
    assert_eq!(body.page_size, Some(100));
    assert_eq!(body.page_number, Some(0));
}

#[tokio::test]
async fn tencent_ccc_quota_20_requests_per_second() {
    let s = serve(context("2024-06-15T09:00:00Z", 1, 100, 0.0)).await;
    let now = s.now();
    // A burst of 100 at once: the fake admits at most 20 per second of the burst and
    // refuses the rest with RequestLimitExceeded.
    let body = s.body(now - 600, now, 0, 1);
    let started = std::time::Instant::now();
    let futs: Vec<_> = (0..100).map(|_| s.naive(&body, Knobs::default())).collect();
    let answers = futures::future::join_all(futs).await;
    let windows_spanned = started.elapsed().as_secs() + 2;
    let limited = answers.iter().filter(|(_, _, v)| error_code(v) == Some("RequestLimitExceeded")).count();
    let admitted = answers.iter().filter(|(_, _, v)| error_code(v).is_none()).count();
    assert_eq!(limited + admitted, 100);
    assert!(admitted as u64 <= 20 * windows_spanned, "{admitted} admitted within {windows_spanned} quota windows");
    assert!(limited > 0);
    assert_eq!(s.ctx.counters.get("rate_limited"), limited as u64);
    assert!(matches!(classify("RequestLimitExceeded").0, ErrorClass::RateLimited { .. }));

    // The same client paced at the quota (≥ 55 ms apart: fixed one-second windows leave no room for jitter at exactly 50 ms) is never refused.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let before = s.ctx.counters.get("rate_limited");
    let client = s.client();
    let w = Window::new(s.clock.now() - SignedDuration::from_mins(10), s.clock.now());
    let mut tick = tokio::time::interval(std::time::Duration::from_millis(55));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    for _ in 0..30 {
        tick.tick().await;
        client.fetch(&w, None).await.unwrap();
    }
    assert_eq!(s.ctx.counters.get("rate_limited"), before);
    assert_eq!(client.limits().quota.per_second, Some(20.0));
}

#[tokio::test]
async fn tencent_ccc_start_no_older_than_180_days_and_span_under_90_days() {
    let s = serve(context("2024-06-15T09:00:00Z", 200, 24, 0.0)).await;
    let client = s.client();
    let now_i = s.clock.now();
    let now = s.now();
    // Planning beyond 180 days is a clear error, never a silent gap.
    let too_old = Window::new(now_i - SignedDuration::from_hours(181 * 24), now_i);
    assert!(matches!(client.plan(too_old, now_i), Err(PlanError::TooOld { .. })));
    // The fake bites a client that asks anyway.
    let (_, _, v) = s.naive(&s.body(now - 181 * 86400, now - 170 * 86400, 0, 10), Knobs::default()).await;
    assert_eq!(error_code(&v), Some("InvalidParameterValue"));
    // And one that asks for 90 days in one go.
    let (_, _, v) = s.naive(&s.body(now - 95 * 86400, now - 5 * 86400, 0, 10), Knobs::default()).await;
    assert_eq!(error_code(&v), Some("InvalidParameterValue"));
    let (_, _, v) = s.naive(&s.body(now - 95 * 86400, now - 5 * 86400 - 1, 0, 10), Knobs::default()).await;
    assert_eq!(error_code(&v), None, "just under 90 days is fine: {v}");

    // 179 days: planned into windows under 90 days, every one accepted, every record once.
    let range = Window::new(now_i - SignedDuration::from_hours(179 * 24), now_i);
    let windows = client.plan(range, now_i).unwrap();
    assert!(windows.len() >= 3);
    assert!(windows.iter().all(|w| w.span() < SignedDuration::from_hours(90 * 24)));
    let (records, raw) = sync(&client, range, now_i).await;
    let expected = s.expected_count(&range);
    assert_eq!(records.len() as u64, expected);
    assert!(raw - expected <= windows.len() as u64, "only window-edge records may repeat");
    assert_eq!(s.ctx.counters.get("invalid_parameter"), 2);
}

#[tokio::test]
async fn tencent_ccc_end_before_start_empty_on_client_invalid_in_fake() {
    let s = serve(context("2024-06-15T09:00:00Z", 2, 200, 0.0)).await;
    let client = s.client();
    let now_i = s.clock.now();
    let backwards = Window::new(now_i, now_i - SignedDuration::from_hours(1));
    let page = client.fetch(&backwards, None).await.unwrap();
    assert!(page.records.is_empty() && page.next.is_none());
    assert_eq!(s.ctx.counters.get("requests"), 0, "no request for an empty range");
    assert!(client.plan(backwards, now_i).unwrap().is_empty());

    // The seed's own example: EndTimeStamp 1590147606 < StartTimeStamp 1590547606.
    let example = include_str!("fixtures/seed_input_example.txt");
    assert!(example.contains("StartTimeStamp=1590547606") && example.contains("EndTimeStamp=1590147606"));
    let (status, ct, v) = s
        .naive(
            &serde_json::json!({"SdkAppId": s.sdk_app_id, "StartTimeStamp": 1590547606, "EndTimeStamp": 1590147606, "PageSize": 10, "PageNumber": 0}),
            Knobs::default(),
        )
        .await;
    assert_eq!((status, ct.as_str()), (200, "application/json"));
    assert_eq!(error_code(&v), Some("InvalidParameterValue"));
    assert!(v["Response"]["Error"]["Message"].as_str().unwrap().contains("earlier"));
}

#[tokio::test]
async fn tencent_ccc_signature_expire_secret_id_not_found_signature_failure() {
    let s = serve(context("2024-06-15T09:00:00Z", 1, 50, 0.0)).await;
    let now = s.now();
    let body = s.body(now - 600, now, 0, 10);
    let (_, ct, v) = s.naive(&body, Knobs { timestamp: Some(now - 301), ..Knobs::default() }).await;
    assert_eq!(error_code(&v), Some("AuthFailure.SignatureExpire"));
    assert_eq!(ct, "application/json", "the SDK reads error bodies only under the bare type");
    let (_, _, v) = s.naive(&body, Knobs { timestamp: Some(now + 301), ..Knobs::default() }).await;
    assert_eq!(error_code(&v), Some("AuthFailure.SignatureExpire"));
    let (_, _, v) = s.naive(&body, Knobs { timestamp: Some(now - 299), ..Knobs::default() }).await;
    assert_eq!(error_code(&v), None, "{v}");
    let (_, _, v) = s.naive(&body, Knobs { secret_id: Some("AKIDnobody".into()), ..Knobs::default() }).await;
    assert_eq!(error_code(&v), Some("AuthFailure.SecretIdNotFound"));
    let (_, _, v) = s.naive(&body, Knobs { secret_key: Some("wrong".into()), ..Knobs::default() }).await;
    assert_eq!(error_code(&v), Some("AuthFailure.SignatureFailure"));
    assert_eq!(s.ctx.counters.get("auth_failures"), 4);

    assert_eq!(classify("AuthFailure.SignatureExpire").0, ErrorClass::RefreshAuth);
    assert_eq!(classify("AuthFailure.SignatureFailure").0, ErrorClass::Fatal);
    assert_eq!(classify("AuthFailure.SecretIdNotFound").0, ErrorClass::Fatal);

    // The client with a wrong secret gets a classified, fatal error that says what to do.
    let bad = common::source_config(&s.url, &s.secret_id, "not-the-key", s.sdk_app_id);
    let clock = s.clock.clone();
    let client = huadan_tencent_ccc::TencentCcc::from_source(&bad).unwrap().with_clock(move || clock.now().as_second());
    let err = client.probe().await.unwrap_err();
    assert_eq!(err.code(), "AuthFailure.SignatureFailure");
    assert_eq!(err.class(), ErrorClass::Fatal);
    assert!(err.to_string().contains("secret_key"), "{err}");
    // A client whose clock is 10 minutes off: SignatureExpire → RefreshAuth.
    let src = common::source_config(&s.url, &s.secret_id, &s.secret_key, s.sdk_app_id);
    let clock = s.clock.clone();
    let skewed =
        huadan_tencent_ccc::TencentCcc::from_source(&src).unwrap().with_clock(move || clock.now().as_second() - 600);
    assert_eq!(skewed.probe().await.unwrap_err().class(), ErrorClass::RefreshAuth);
    assert!(s.client().probe().await.unwrap().detail.contains("records in the last hour"));
}

#[tokio::test]
async fn tencent_ccc_fake_follows_signed_headers() {
    let s = serve(context("2024-06-15T09:00:00Z", 1, 50, 0.0)).await;
    let now = s.now();
    let body = s.body(now - 600, now, 0, 10);
    // SDK style (content-type;host) and with an extra signed header both pass.
    let (_, _, v) = s.naive(&body, Knobs::default()).await;
    assert_eq!(error_code(&v), None);
    let (_, _, v) = s.naive(&body, Knobs { sign_region: true, ..Knobs::default() }).await;
    assert_eq!(error_code(&v), None, "{v}");
    // A signed header changed in transit is caught.
    let (_, _, v) =
        s.naive(&body, Knobs { sign_region: true, send_region: Some("ap-shanghai".into()), ..Knobs::default() }).await;
    assert_eq!(error_code(&v), Some("AuthFailure.SignatureFailure"));
    // An unsigned header may change freely.
    let (_, _, v) = s.naive(&body, Knobs { send_region: Some("ap-shanghai".into()), ..Knobs::default() }).await;
    assert_eq!(error_code(&v), None);
    // host must be signed.
    let (_, _, v) = s.naive(&body, Knobs { drop_host: true, ..Knobs::default() }).await;
    assert_eq!(error_code(&v), Some("AuthFailure.SignatureFailure"));
    // Another action or version is refused before anything else.
    let (_, _, v) = s.naive(&body, Knobs { action: Some("DescribeTelCdrs".into()), ..Knobs::default() }).await;
    assert_eq!(error_code(&v), Some("InvalidAction"));
    let (_, _, v) = s.naive(&body, Knobs { version: Some("2019-01-01".into()), ..Knobs::default() }).await;
    assert_eq!(error_code(&v), Some("NoSuchVersion"));
    // The real client signs content-type;host;x-tc-action and is accepted.
    s.client().probe().await.unwrap();
}

#[tokio::test]
async fn tencent_ccc_asr_processing_is_pending_then_complete() {
    let s = serve(context("2024-06-15T09:00:00Z", 1, 3000, 0.0)).await;
    let client = s.client();
    let now_i = s.clock.now();
    let w = Window::new(now_i - SignedDuration::from_mins(40), now_i);
    let (records, _) = fetch_window(&client, &w).await.unwrap();
    let pending: Vec<_> = records.iter().filter(|r| r.may_change()).map(|r| r.id.clone()).collect();
    assert!(!pending.is_empty(), "recent answered calls are still being transcribed");
    assert!(records.iter().any(|r| r.transcript.as_ref().is_some_and(|t| t.status == TranscriptStatus::Done)));
    assert!(client.limits().settle_within.is_some());
    // An hour later every transcript is done; the same window, re-visited, says so.
    s.clock.advance(SignedDuration::from_hours(1));
    let (again, _) = fetch_window(&client, &w).await.unwrap();
    assert_eq!(again.len(), records.len());
    for id in &pending {
        let r = again.iter().find(|r| &r.id == id).unwrap();
        assert_eq!(r.transcript.as_ref().unwrap().status, TranscriptStatus::Done, "{id}");
        assert!(r.raw.to_value()["AsrUrl"].as_str().unwrap().starts_with("https://"));
    }
}

#[tokio::test]
async fn tencent_ccc_changed_record_is_served_in_a_second_version() {
    let s = serve(context("2024-06-15T09:00:00Z", 1, 2000, 1.0)).await;
    let client = s.client();
    let now_i = s.clock.now();
    let w = Window::new(now_i - SignedDuration::from_mins(3), now_i);
    let (before, _) = fetch_window(&client, &w).await.unwrap();
    assert!(!before.is_empty());
    s.clock.advance(SignedDuration::from_hours(1));
    let (after, _) = fetch_window(&client, &w).await.unwrap();
    assert_eq!(after.len(), before.len(), "same calls, same ids");
    let changed = after.iter().zip(&before).filter(|(a, b)| a.id == b.id && a.remark != b.remark).count();
    assert!(changed * 2 > before.len(), "{changed} of {} changed", before.len());
    assert!(after.iter().all(|r| r.remark.as_deref() == Some("已回访：客户确认收到资料")));
}

#[tokio::test]
async fn tencent_ccc_full_record_contact_centre_mix() {
    let s = serve(context("2024-06-15T09:00:00Z", 3, 3000, 0.0)).await;
    let client = s.client();
    let now_i = s.clock.now();
    let range = Window::new(now_i - SignedDuration::from_hours(48), now_i);
    let (records, _) = sync(&client, range, now_i).await;
    let n = records.len();
    assert!(n > 3000, "{n}");
    let rs: Vec<_> = records.values().collect();
    let frac = |f: &dyn Fn(&&huadan_model::CallRecord) -> bool| rs.iter().filter(|r| f(r)).count() as f64 / n as f64;
    let inbound = frac(&|r| r.direction == Direction::Inbound);
    assert!((0.5..0.7).contains(&inbound), "inbound {inbound}");
    let answered = frac(&|r| r.disposition == Disposition::Answered);
    assert!((0.45..0.8).contains(&answered), "answered {answered}");
    for d in [
        Disposition::Abandoned,
        Disposition::NoAgent,
        Disposition::NoAnswer,
        Disposition::Busy,
        Disposition::Rejected,
        Disposition::Blocked,
        Disposition::Unreachable,
        Disposition::Canceled,
        Disposition::Failed,
    ] {
        assert!(rs.iter().any(|r| r.disposition == d), "no {d}");
    }
    for detail in ["ivrGiveUp", "waitingGiveUp", "ringingGiveUp", "notWorkTime", "noSeatOnline", "ivrEnd"] {
        assert!(rs.iter().any(|r| r.disposition_detail == detail), "no {detail}");
    }
    // A newer code (documented by the official SDK, absent from older records).
    assert!(
        rs.iter().any(|r| r.disposition == Disposition::Canceled && r.disposition_detail == "callerCancelWhileRing")
    );
    assert!(rs.iter().all(|r| r.disposition != Disposition::Unknown), "every generated code is mapped");
    // ivrEnd calls are answered by the IVR, with no agent.
    assert!(rs.iter().filter(|r| r.disposition_detail == "ivrEnd").all(|r| r.agent.is_none()));
    // Transfers between agents.
    let transferred: Vec<_> = rs.iter().filter(|r| r.participants.len() == 2).collect();
    assert!(!transferred.is_empty());
    for r in &transferred {
        let (a, b) = (&r.participants[0], &r.participants[1]);
        assert_eq!(a.transfer_to, b.user_id);
        assert_eq!(b.transfer_from, a.user_id);
        assert_ne!(a.user_id, b.user_id);
        assert!(a.recording_url.is_some() && b.recording_url.is_some(), "per-leg recordings");
        assert_eq!(r.talk_seconds, Some(a.talk_seconds.unwrap() + b.talk_seconds.unwrap()));
    }
    // Answered inbound calls: IVR, queue, ring, agent, recording.
    let ans_in: Vec<_> =
        rs.iter().filter(|r| r.direction == Direction::Inbound && r.disposition_detail == "ok").collect();
    assert!(ans_in.iter().all(|r| r.ivr_seconds.unwrap() > 0 && r.queue_seconds.is_some() && r.agent.is_some()));
    assert!(ans_in.iter().all(|r| !r.recordings.is_empty() && r.ivr_keys.is_some()));
    assert!(ans_in.iter().any(|r| r.satisfaction.is_some()));
    assert!(ans_in.iter().all(|r| r.agent.as_ref().unwrap().email.as_deref().unwrap().ends_with("@example.com")));
    // Hang-up sides, protected numbers, voicemail.
    for side in [HangupSide::Agent, HangupSide::Customer, HangupSide::System] {
        assert!(rs.iter().any(|r| r.hangup_side == Some(side)), "no {side}");
    }
    assert!(rs.iter().any(|r| r.caller.number.is_none() && r.caller.user_id.is_some()), "protected caller");
    assert!(rs.iter().any(|r| r.callee.number.is_none() && r.callee.user_id.is_some()), "protected callee");
    assert!(rs.iter().any(|r| r.recordings.iter().any(|x| x.url.contains("voicemail"))));
    assert!(rs.iter().all(|r| r.caller.number.as_deref().is_none_or(|n| n.starts_with("0086"))));
    assert!(rs.iter().all(|r| r.account.as_deref() == Some(s.sdk_app_id.to_string().as_str())));
    // Agents come from the shared roster.
    let roster = huadan_fakekit::generate::roster(20240615, 24);
    assert!(
        rs.iter().filter_map(|r| r.agent.as_ref()).all(|a| roster.iter().any(|p| Some(&p.name) == a.name.as_ref()))
    );
}

#[tokio::test]
async fn tencent_ccc_same_seed_byte_identical_pages() {
    let a = serve(context("2024-06-15T09:00:00Z", 2, 500, 0.0)).await;
    let b = serve(context("2024-06-15T09:00:00Z", 2, 500, 0.0)).await;
    let now = a.now();
    let body = a.body(now - 86400, now, 1, 100);
    let (_, _, va) = a.naive(&body, Knobs::default()).await;
    let (_, _, vb) = b.naive(&body, Knobs::default()).await;
    assert_eq!(serde_json::to_string(&va).unwrap(), serde_json::to_string(&vb).unwrap());
    assert_eq!(va["Response"]["TelCdrList"].as_array().unwrap().len(), 100);
}

#[tokio::test]
async fn tencent_ccc_faults_in_vendor_shape_are_classified_and_survived() {
    use huadan_fakekit::{FaultInjector, FaultKind, Faults};
    let mut ctx = context("2024-06-15T09:00:00Z", 1, 1500, 0.0);
    let faults =
        Faults::none().with(FaultKind::RateLimit, 0.15).with(FaultKind::TokenExpiry, 0.1).with(FaultKind::Http500, 0.1);
    ctx.faults = std::sync::Arc::new(FaultInjector::new(faults, 7));
    let s = serve(ctx).await;
    let client = s.client().with_page_size(50);
    let w = day_window(&s);
    let (records, _) = fetch_window(&client, &w).await.unwrap();
    let ids: BTreeSet<_> = records.iter().map(|r| r.id.clone()).collect();
    assert_eq!(records.len() as u64, s.expected_count(&w));
    assert_eq!(ids.len(), records.len());
    assert!(s.ctx.counters.get("rate_limited") > 0);
    assert!(s.ctx.counters.get("fault_token_expiry") > 0);
    assert!(s.ctx.counters.get("fault_http500") > 0);
}

#[tokio::test]
async fn tencent_ccc_build_validates_settings_and_hides_credentials() {
    let src = common::source_config("http://127.0.0.1:9", "AKIDx", "supersecretkey", 1400000000);
    let v = huadan_tencent_ccc::build(&src).unwrap();
    assert_eq!(v.limits().max_span, SignedDuration::from_hours(89 * 24));
    assert_eq!(v.limits().quota.per_second, Some(20.0));
    let c = huadan_tencent_ccc::TencentCcc::from_source(&src).unwrap();
    assert!(!format!("{c:?}").contains("supersecretkey"));

    let text = "[[sources]]\nname = \"c\"\nkind = \"tencent_ccc\"\nendpoint = \"http://127.0.0.1:9\"\nsecret_id = \"a\"\nsecret_key = \"b\"\nsdk_app_id = 1\nsdkappid = 2\n";
    let src = huadan_config::Config::from_toml_str(text, &|_| None).unwrap().sources.remove(0);
    let err = huadan_tencent_ccc::build(&src).err().unwrap().to_string();
    assert!(err.contains("sdkappid") && err.contains("`c`"), "{err}");
    let text = "[[sources]]\nname = \"c\"\nkind = \"tencent_ccc\"\nendpoint = \"http://127.0.0.1:9\"\nsecret_id = \"a\"\nsecret_key = \"b\"\n";
    let src = huadan_config::Config::from_toml_str(text, &|_| None).unwrap().sources.remove(0);
    let err = huadan_tencent_ccc::build(&src).err().unwrap().to_string();
    assert!(err.contains("sdk_app_id"), "{err}");
    // requests_per_second in the config overrides the documented quota.
    let text = "[[sources]]\nname = \"c\"\nkind = \"tencent_ccc\"\nendpoint = \"http://127.0.0.1:9\"\nsecret_id = \"a\"\nsecret_key = \"b\"\nsdk_app_id = 1\nrequests_per_second = 5\n";
    let src = huadan_config::Config::from_toml_str(text, &|_| None).unwrap().sources.remove(0);
    assert_eq!(huadan_tencent_ccc::build(&src).unwrap().limits().quota.per_second, Some(5.0));
}

#[test]
fn tencent_ccc_every_error_code_is_classified_with_a_meaning() {
    for (code, want) in [
        ("InternalError", ErrorClass::Retry),
        ("InternalError.DBError", ErrorClass::Retry),
        ("InvalidParameter.InstanceNotExist", ErrorClass::Fatal),
        ("InvalidParameterValue", ErrorClass::Fatal),
        ("InvalidParameterValue.InstanceNotExist", ErrorClass::Fatal),
        ("RequestLimitExceeded.UinLimitExceeded", ErrorClass::RateLimited { retry_after: None }),
        ("AuthFailure.UnauthorizedOperation", ErrorClass::Fatal),
        ("MissingParameter", ErrorClass::Fatal),
        ("ServiceUnavailable", ErrorClass::Retry),
        ("SomethingNew", ErrorClass::Fatal),
    ] {
        let (class, meaning) = classify(code);
        assert_eq!(class, want, "{code}");
        assert!(!meaning.is_empty());
    }
    let e = huadan_tencent_ccc::client::vendor_error("InternalError.DBError", "db");
    assert!(matches!(e, FetchError::Vendor { class: ErrorClass::Retry, .. }));
}

#[tokio::test]
async fn tencent_ccc_protected_numbers_and_filters() {
    let mut ctx = context("2024-06-15T09:00:00Z", 1, 500, 0.0);
    ctx.options.insert("tencent_ccc.protected_numbers".into(), "true".into());
    let s = serve(ctx).await;
    let w = Window::new(s.clock.now() - SignedDuration::from_hours(6), s.clock.now());
    let (records, _) = fetch_window(&s.client(), &w).await.unwrap();
    assert!(!records.is_empty());
    for r in &records {
        let customer = if r.direction == Direction::Inbound { &r.caller } else { &r.callee };
        assert!(
            customer.number.is_none() && customer.user_id.as_deref().is_some_and(|u| u.starts_with("pc")),
            "{:?}",
            r.raw
        );
    }
    // SessionIds filter: exactly the asked record.
    let id = records[3].provider_call_id.clone();
    let mut body = s.body(w.start.as_second(), w.end.as_second(), 0, 100);
    body["SessionIds"] = serde_json::json!([id]);
    let (_, _, v) = s.naive(&body, Knobs::default()).await;
    assert_eq!(v["Response"]["TotalCount"], 1);
    assert_eq!(v["Response"]["TelCdrList"][0]["SessionId"], serde_json::json!(id));
    // Phones filter on the company's hotline: only inbound calls.
    let hotline = records.iter().find(|r| r.direction == Direction::Inbound).unwrap().callee.number.clone().unwrap();
    let mut body = s.body(w.start.as_second(), w.end.as_second(), 0, 100);
    body["Phones"] = serde_json::json!([hotline]);
    let (_, _, v) = s.naive(&body, Knobs::default()).await;
    let n = records.iter().filter(|r| r.direction == Direction::Inbound).count();
    assert_eq!(v["Response"]["TotalCount"].as_u64(), Some(n as u64));
}
