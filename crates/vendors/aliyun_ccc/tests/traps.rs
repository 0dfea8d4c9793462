//! One test per VENDORS.md trap, against the fake served on 127.0.0.1: the client gets
//! every record exactly once, and a naive client really loses some.

mod common;

use common::*;
use huadan_aliyun_ccc::client::{PageCursor, Phase};
use huadan_fakekit::Clock;
use huadan_vendor::{Cursor, Vendor, Window};
use jiff::SignedDuration;

/// A naive client's pages after page 1: trust page 1's `TotalCount` and fetch pages
/// 2..=ceil(total / 100) (at most 100), then stop.
async fn naive_rest_by_total(v: &dyn Vendor, w: &Window, total: u64) -> Vec<huadan_model::CallRecord> {
    let mut out = Vec::new();
    for page in 2..=total.div_ceil(100).min(100) {
        let c = PageCursor { phase: Phase::Main, page: page as u32, total: Some(total), seen: 0, top_ms: None };
        out.extend(v.fetch(w, Some(&Cursor(serde_json::to_value(c).unwrap()))).await.unwrap().records);
    }
    out
}

/// Trap: at most 100 × 100 = 10,000 records per query. 50,000+ records in one day:
/// bisecting on page 1's total (as the engine does) gets every one; a naive client
/// asking for the whole day gets 10,000 and loses the rest; page 101 is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aliyun_ten_thousand_per_query_fifty_thousand_in_a_day_exact() {
    // Wednesday 2024-06-12 in Beijing; the clock stands the next day.
    let clock = Clock::fixed(t("2024-06-13T04:00:00Z"));
    let s = serve(spec(11, 3, 50_000), clock, Opts::default()).await;
    let day = Window::new(t("2024-06-11T16:00:00Z"), t("2024-06-12T16:00:00Z"));
    let expected = expected_ids(&s, &day);
    assert!(expected.len() >= 50_000, "the day holds {} records", expected.len());

    let v = client(&s, "");
    assert_eq!(v.limits().max_records_per_query, Some(10_000));
    let (got, windows) = sync_bisecting(&v, day).await.unwrap();
    let got_ids = ids(&got);
    assert_eq!(got_ids, expected, "bisection over {windows} windows");
    // Duplicates only where a record starts exactly on a bisection boundary (EndTime is inclusive).
    assert!(got.len() - got_ids.len() <= windows, "{} duplicates", got.len() - got_ids.len());
    assert!(windows >= 6, "{windows} windows");
    assert_eq!(s.ctx.counters.get("page_limit_refused"), 0, "the client never asked for page 101");

    // The naive client: the whole day in one query, every page it may ask for.
    let naive = run_window(&v, &day).await.unwrap();
    assert_eq!(ids(&naive).len(), 10_000);
    assert!(expected.len() - 10_000 >= 40_000, "naive client lost {}", expected.len() - 10_000);

    // And the fake refuses page 101.
    let (status, body) = raw_v1(&s, &window_params(&day, 101, 100), &nonce(), &now_stamp()).await;
    assert_eq!(status, 400);
    assert_eq!(body["Code"], "InvalidParameter");
    assert_eq!(s.ctx.counters.get("page_limit_refused"), 1);
    let (status, body) = raw_v1(&s, &window_params(&day, 1, 101), &nonce(), &now_stamp()).await;
    assert_eq!((status, body["Code"].as_str()), (400, Some("InvalidParameter")));
}

/// Trap: TotalCount is only filled on page 1; later pages say 0. The client neither
/// stops early nor loops; clients that trust a later page's total lose records.
#[tokio::test]
async fn aliyun_total_only_on_page_one() {
    let clock = Clock::fixed(t("2024-06-13T04:00:00Z"));
    let s = serve(spec(12, 2, 8_000), clock, Opts::default()).await;
    // 10:00–12:00 Beijing, a busy morning.
    let w = Window::new(t("2024-06-12T02:00:00Z"), t("2024-06-12T04:00:00Z"));
    let expected = expected_ids(&s, &w);
    assert!(expected.len() > 350, "{}", expected.len());

    // On the wire: page 1 says the total, page 2 says 0.
    let (_, p1) = raw_v1(&s, &window_params(&w, 1, 100), &nonce(), &now_stamp()).await;
    let (_, p2) = raw_v1(&s, &window_params(&w, 2, 100), &nonce(), &now_stamp()).await;
    assert_eq!(p1["Data"]["TotalCount"], expected.len() as u64);
    assert_eq!(p2["Data"]["TotalCount"], 0);
    assert_eq!(p2["Data"]["List"].as_array().unwrap().len(), 100);

    let v = client(&s, "");
    let got = run_window(&v, &w).await.unwrap();
    assert_eq!(got.len(), expected.len(), "every record exactly once");
    assert_eq!(ids(&got), expected);
    let requests = s.ctx.counters.get("requests");
    // Pages up to the first short one, and not one more.
    assert_eq!(requests, 2 + (expected.len() / 100) as u64 + 1, "no extra pages");

    // Naive: "stop once I have seen the latest page's TotalCount" → stops after page 2.
    let mut naive = Vec::new();
    let mut cursor = None;
    loop {
        let (_, body) = raw_v1(&s, &window_params(&w, cursor.unwrap_or(1), 100), &nonce(), &now_stamp()).await;
        let list = body["Data"]["List"].as_array().unwrap().clone();
        naive.extend(list);
        let total = body["Data"]["TotalCount"].as_u64().unwrap();
        if naive.len() as u64 >= total || cursor.unwrap_or(1) >= 100 {
            break;
        }
        cursor = Some(cursor.unwrap_or(1) + 1);
    }
    assert_eq!(naive.len(), 200, "the naive client stopped at page 2 and lost {}", expected.len() - 200);
}

/// Trap: newest first while records arrive. Records arriving during paging land on top
/// and push the oldest down: the client still gets every record of the window (short
/// page + catch-up pass); stopping after ceil(total/100) pages loses the oldest, and
/// not re-reading the top loses the new ones.
#[tokio::test]
async fn aliyun_newest_first_with_arrivals_loses_nothing() {
    let start_clock = t("2024-06-12T02:30:00Z");
    let run = |label: &'static str| async move {
        let clock = Clock::fixed(start_clock);
        let s = serve(spec(13, 2, 20_000), clock.clone(), Opts::default()).await;
        // The window reaches past now: calls keep arriving in it.
        let w = Window::new(t("2024-06-12T01:30:00Z"), t("2024-06-12T03:30:00Z"));
        let v = client(&s, "");
        let before = expected_ids(&s, &w).len();
        let mut out = Vec::new();
        let first = v.fetch(&w, None).await.unwrap();
        let total = first.total.unwrap();
        assert_eq!(total as usize, before);
        out.extend(first.records);
        // Ten minutes pass between page 1 and page 2.
        clock.advance(SignedDuration::from_mins(10));
        let after = expected_ids(&s, &w);
        assert!(after.len() > before + 50, "{before} -> {}", after.len());
        let got = match label {
            "client" => {
                let mut cursor = first.next;
                while let Some(c) = cursor {
                    let p = v.fetch(&w, Some(&c)).await.unwrap();
                    out.extend(p.records);
                    cursor = p.next;
                }
                out
            }
            "no_catch_up" => {
                let mut cursor = first.next;
                while let Some(c) = cursor {
                    let pos: PageCursor = serde_json::from_value(c.0.clone()).unwrap();
                    if pos.phase == Phase::CatchUp {
                        break;
                    }
                    let p = v.fetch(&w, Some(&c)).await.unwrap();
                    out.extend(p.records);
                    cursor = p.next;
                }
                out
            }
            _ => {
                out.extend(naive_rest_by_total(&v, &w, total).await);
                out
            }
        };
        (ids(&got), after)
    };
    let (got, expected) = run("client").await;
    assert_eq!(got, expected, "the client lost {}", expected.difference(&got).count());

    let (got, expected) = run("by_total").await;
    let lost = expected.difference(&got).count();
    assert!(lost > 50, "paging by page-1 total lost only {lost}");

    let (got, expected) = run("no_catch_up").await;
    let lost = expected.difference(&got).count();
    assert!(lost > 50, "skipping the catch-up lost only {lost}");
}

/// Trap: the doc's example writes every number and boolean as a string. The fake
/// answers either way; the client reads both to the same records.
#[tokio::test]
async fn aliyun_numbers_and_booleans_as_strings() {
    let w = Window::new(t("2024-06-12T02:00:00Z"), t("2024-06-12T02:20:00Z"));
    let clock = Clock::fixed(t("2024-06-13T04:00:00Z"));
    let plain = serve(spec(14, 2, 3_000), clock.clone(), Opts::default()).await;
    let strings = serve(
        spec(14, 2, 3_000),
        clock,
        Opts { options: vec![("aliyun_ccc.string_numbers", "true")], ..Opts::default() },
    )
    .await;
    let (_, body) = raw_v1(&strings, &window_params(&w, 1, 100), &nonce(), &now_stamp()).await;
    assert!(body["HttpStatusCode"].is_string() && body["Data"]["TotalCount"].is_string());
    assert!(body["Data"]["List"][0]["StartTime"].is_string() && body["Data"]["List"][0]["RecordingReady"].is_string());
    let (_, body) = raw_v1(&plain, &window_params(&w, 1, 100), &nonce(), &now_stamp()).await;
    assert!(body["Data"]["TotalCount"].is_number() && body["Data"]["List"][0]["RecordingReady"].is_boolean());

    let a = run_window(&client(&plain, ""), &w).await.unwrap();
    let b = run_window(&client(&strings, ""), &w).await.unwrap();
    assert!(a.len() > 10);
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(&b) {
        let (mut x, mut y) = (x.clone(), y.clone());
        assert!(y.raw.to_value()["CallDuration"].is_string());
        x.raw = huadan_model::RawJson::null();
        y.raw = huadan_model::RawJson::null();
        assert_eq!(x, y);
    }
    let first = client(&strings, "").fetch(&w, None).await.unwrap();
    assert_eq!(first.total, Some(a.len() as u64));
}

/// Trap: field drift between the doc page and the SDK model. With the doc's field set
/// (no `TalkTime`, `Satisfaction`) talk time falls back to `CallDuration`; with the
/// SDK's, `TalkTime` wins (inbound `CallDuration` counts from IVR entry).
#[tokio::test]
async fn aliyun_field_drift_talk_time_and_satisfaction() {
    let w = Window::new(t("2024-06-12T01:00:00Z"), t("2024-06-12T03:00:00Z"));
    let clock = Clock::fixed(t("2024-06-13T04:00:00Z"));
    let sdk = serve(spec(15, 2, 3_000), clock.clone(), Opts::default()).await;
    let doc =
        serve(spec(15, 2, 3_000), clock, Opts { options: vec![("aliyun_ccc.doc_fields", "true")], ..Opts::default() })
            .await;
    let a = run_window(&client(&sdk, ""), &w).await.unwrap();
    let b = run_window(&client(&doc, ""), &w).await.unwrap();
    assert_eq!(ids(&a), ids(&b));
    let mut longer = 0;
    let mut rated = 0;
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x.talk_seconds, x.raw.to_value()["TalkTime"].as_i64());
        assert!(y.raw.pointer("/TalkTime").is_none());
        assert_eq!(y.talk_seconds, y.raw.to_value()["CallDuration"].as_i64());
        if x.direction == huadan_model::Direction::Inbound && x.disposition.is_answered() {
            assert!(y.talk_seconds > x.talk_seconds, "inbound CallDuration includes IVR and queue");
            longer += 1;
        }
        if x.satisfaction.is_some() {
            rated += 1;
            assert_eq!(x.satisfaction, x.raw.to_value()["SatisfactionIndex"].as_str().map(String::from));
            assert_eq!(y.satisfaction, y.raw.to_value()["Satisfaction"].as_str().map(String::from));
            assert_eq!(x.satisfaction, y.satisfaction);
        }
    }
    assert!(longer > 5 && rated > 5, "{longer} inbound answered, {rated} rated");
}

/// Directions, dispositions, hang-up sides and agent lists of generated records
/// normalise per the VENDORS.md tables; every kind appears.
#[tokio::test]
async fn aliyun_generated_mix_normalises() {
    let w = Window::new(t("2024-06-12T00:00:00Z"), t("2024-06-12T06:00:00Z"));
    let s = serve(spec(16, 2, 4_000), Clock::fixed(t("2024-06-13T04:00:00Z")), Opts::default()).await;
    let got = run_window(&client(&s, ""), &w).await.unwrap();
    let mut seen = std::collections::BTreeSet::new();
    let mut multi_agent = 0;
    for r in &got {
        let kind = r.raw.to_value()["ContactType"].as_str().unwrap().to_string();
        let raw = r.raw.to_value();
        let d = raw["ContactDisposition"].as_str().unwrap();
        seen.insert(kind.clone());
        seen.insert(d.to_string());
        let dir = if kind == "Inbound" { "inbound" } else { "outbound" };
        assert_eq!(r.direction.as_str(), dir);
        assert_eq!(r.disposition_detail, d);
        assert_eq!(r.account.as_deref(), Some("ccc-sandbox"));
        assert!(r.hangup_side.is_some());
        assert!(w.contains(r.started_at));
        if r.participants.len() > 1 {
            multi_agent += 1;
            assert!(r.raw.to_value()["AgentIds"].as_str().unwrap().contains(','));
        }
        if d == "Success" {
            assert!(r.answered_at.is_some() && r.talk_seconds.unwrap() > 0);
        }
    }
    for k in ["Inbound", "Outbound", "Back2Back", "Success", "NoAnswer", "AbandonedInQueue", "AbandonedRing", "Reject"]
    {
        assert!(seen.contains(k), "{k} never generated");
    }
    assert!(multi_agent > 0);
}

/// After a record's update time the fake serves a second version (recording ready,
/// satisfaction arrived), same id.
#[tokio::test]
async fn aliyun_records_change_after_update() {
    let clock = Clock::fixed(t("2024-06-12T03:00:00Z"));
    let mut sp = spec(17, 1, 30_000);
    sp.update = 1.0;
    let s = serve(sp, clock.clone(), Opts::default()).await;
    // Updates come 1–30 minutes after a call: none of this minute's calls changed yet.
    let w = Window::new(t("2024-06-12T02:59:01Z"), t("2024-06-12T03:00:00Z"));
    let v = client(&s, "");
    let before = run_window(&v, &w).await.unwrap();
    let answered_before: Vec<_> = before.iter().filter(|r| r.disposition.is_answered()).collect();
    assert!(!answered_before.is_empty());
    assert!(answered_before.iter().all(|r| r.raw.to_value()["RecordingReady"] == false));
    clock.advance(SignedDuration::from_mins(45));
    let after = run_window(&v, &w).await.unwrap();
    assert_eq!(ids(&before), ids(&after));
    assert!(after.iter().filter(|r| r.disposition.is_answered()).all(|r| r.raw.to_value()["RecordingReady"] == true));
}

/// Same seed, same requests → byte-identical pages.
#[tokio::test]
async fn aliyun_fake_is_deterministic() {
    let w = Window::new(t("2024-06-12T02:00:00Z"), t("2024-06-12T03:00:00Z"));
    let clock = Clock::fixed(t("2024-06-13T04:00:00Z"));
    let a = serve(spec(18, 2, 3_000), clock.clone(), Opts::default()).await;
    let b = serve(spec(18, 2, 3_000), clock, Opts::default()).await;
    for page in 1..=2 {
        let (_, x) = raw_v1(&a, &window_params(&w, page, 50), &nonce(), &now_stamp()).await;
        let (_, y) = raw_v1(&b, &window_params(&w, page, 50), &nonce(), &now_stamp()).await;
        assert_eq!(serde_json::to_string(&x).unwrap(), serde_json::to_string(&y).unwrap());
        assert_eq!(x["Data"]["List"].as_array().unwrap().len(), 50);
    }
}

/// Filters work as documented; `ContactId` ignores the other parameters.
#[tokio::test]
async fn aliyun_fake_filters() {
    let w = Window::new(t("2024-06-12T02:00:00Z"), t("2024-06-12T03:00:00Z"));
    let s = serve(spec(19, 2, 3_000), Clock::fixed(t("2024-06-13T04:00:00Z")), Opts::default()).await;
    let mut p = window_params(&w, 1, 100);
    p.push(("ContactType", "Inbound".into()));
    let (_, body) = raw_v1(&s, &p, &nonce(), &now_stamp()).await;
    let list = body["Data"]["List"].as_array().unwrap();
    assert!(!list.is_empty() && list.iter().all(|r| r["ContactType"] == "Inbound"));
    let id = list[0]["ContactId"].as_str().unwrap().to_string();
    let p = vec![
        ("InstanceId", "ccc-sandbox".to_string()),
        ("PageNumber", "1".into()),
        ("PageSize", "10".into()),
        ("ContactId", id.clone()),
        ("ContactType", "Outbound".into()),
    ];
    let (_, body) = raw_v1(&s, &p, &nonce(), &now_stamp()).await;
    assert_eq!(body["Data"]["TotalCount"], 1);
    assert_eq!(body["Data"]["List"][0]["ContactId"], id.as_str());
}

/// Without StartTime / EndTime the service answers from the start of today (GMT+8) to now.
#[tokio::test]
async fn aliyun_fake_default_range_is_today_until_now() {
    // 11:00 Beijing.
    let s = serve(spec(20, 2, 3_000), Clock::fixed(t("2024-06-12T03:00:00Z")), Opts::default()).await;
    let p = vec![("InstanceId", "ccc-sandbox".to_string()), ("PageNumber", "1".into()), ("PageSize", "100".into())];
    let (_, body) = raw_v1(&s, &p, &nonce(), &now_stamp()).await;
    let today = Window::new(t("2024-06-11T16:00:00Z"), t("2024-06-12T03:00:00Z"));
    let expected = s.ctx.dataset.count_between(huadan_model::Provider::AliyunCcc, today.start, today.end);
    assert!(expected > 50);
    assert_eq!(body["Data"]["TotalCount"], expected);
    // Newest first.
    let starts: Vec<i64> =
        body["Data"]["List"].as_array().unwrap().iter().map(|r| r["StartTime"].as_i64().unwrap()).collect();
    assert!(starts.windows(2).all(|w| w[0] >= w[1]), "not newest first");
    let mut asc = p.clone();
    asc.push(("SortOrder", "ASC".into()));
    let (_, body) = raw_v1(&s, &asc, &nonce(), &now_stamp()).await;
    let first = body["Data"]["List"][0]["StartTime"].as_i64().unwrap();
    assert!(first >= today.start.as_millisecond() && first < starts[starts.len() - 1]);
}

/// `Forbidden.*` (an AccessKey without the CCC permission) is fatal, with a hint.
#[tokio::test]
async fn aliyun_forbidden_is_fatal() {
    let s = serve(
        spec(24, 2, 3_000),
        Clock::fixed(t("2024-06-13T04:00:00Z")),
        Opts { options: vec![("aliyun_ccc.forbidden", "true")], ..Opts::default() },
    )
    .await;
    let w = Window::new(t("2024-06-12T02:00:00Z"), t("2024-06-12T03:00:00Z"));
    let e = client(&s, "").fetch(&w, None).await.unwrap_err();
    assert_eq!(e.code(), "Forbidden.RAM");
    assert_eq!(e.class(), huadan_vendor::ErrorClass::Fatal);
    assert!(e.to_string().contains("RAM"), "{e}");
}
