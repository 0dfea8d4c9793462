//! One test per trap of VENDORS.md § tencent_ads, against the sandbox fake: the client
//! gets every record exactly once, and a naive client is bitten.

mod common;

use common::*;
use huadan_model::time::{format_gmt8, gmt8_date, gmt8_day_start};
use huadan_model::{Disposition, Provider};
use huadan_tencent_ads::client::LOCKOUT;
use huadan_vendor::{ErrorClass, FetchError, Vendor, Window};
use jiff::SignedDuration;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

/// A dense morning: about 0.7 calls a second around 10:00 Beijing on a Wednesday, so
/// that many seconds hold two or more calls.
fn dense() -> huadan_fakekit::Dataset {
    dataset(7, 1, 20_000, "2024-06-12T04:00:00Z")
}

fn dense_window() -> Window {
    Window::new(gmt8("2024-06-12 10:00:00"), gmt8("2024-06-12 10:15:00"))
}

/// A naive paginator: page 1, then `search_after` = the last record's time, trusting
/// the vendor's strictly-greater rule. With `repeat_second` it re-asks from one second
/// earlier but forgets to de-duplicate.
async fn naive(run: &Running, w: Window, page_size: usize, repeat_second: bool) -> Vec<u64> {
    let date = gmt8_date(w.start).to_string();
    let base = vec![
        ("account_id", run.account_id.to_string()),
        ("page_size", page_size.to_string()),
        ("start_date", date.clone()),
        ("end_date", date),
        ("page", "1".to_string()),
    ];
    let mut keys = Vec::new();
    let mut after: Option<String> = Some(format_gmt8(w.start - SignedDuration::from_secs(1)));
    for _ in 0..2000 {
        let mut params = base.clone();
        if let Some(a) = &after {
            params.push(("search_after", a.clone()));
        }
        let v = raw_get(&run.endpoint, &run.token, &params).await;
        assert_eq!(v["code"], 0, "{v}");
        let entities = v["data"]["entities"].as_array().unwrap().clone();
        let mut last = None;
        for e in &entities {
            let at = gmt8(e["call_start_time"].as_str().unwrap());
            last = Some(at);
            if w.contains(at) {
                keys.push(key_of(e["call_id"].as_str().unwrap()));
            }
        }
        match last {
            Some(l) if entities.len() == page_size && l < w.end => {
                let from = Some(format_gmt8(if repeat_second { l - SignedDuration::from_secs(1) } else { l }));
                if from == after {
                    break; // stuck inside one busy second: a naive loop would spin forever
                }
                after = from;
            }
            _ => break,
        }
    }
    keys
}

#[tokio::test]
async fn ads_search_after_tie_at_page_boundary() {
    let run = serve(context(dense(), &[("tencent_ads.requests_per_minute", "100000")])).await;
    let w = dense_window();
    let expected = run.expected_keys(w.start, w.end);
    assert!(expected.len() > 300, "{}", expected.len());

    // The data really has ties: several calls in one second.
    let mut per_second: BTreeMap<i64, u32> = BTreeMap::new();
    for c in run.ctx.dataset.calls_between(Provider::TencentAds, w.start, w.end) {
        *per_second.entry(c.at.as_second()).or_default() += 1;
    }
    assert!(per_second.values().filter(|n| **n >= 2).count() > 20);

    let client = run.client(5);
    let got = drain(&client, w).await.unwrap();
    let got = got.unique_keys();
    assert!(got == expected, "tie-safe client: {} of {} records", got.len(), expected.len());

    // The fake bites a naive strict-> paginator: records in a boundary second are lost…
    let strict = naive(&run, w, 5, false).await;
    let strict_set: BTreeSet<u64> = strict.iter().copied().collect();
    assert!(strict_set.len() < expected.len(), "strict > lost nothing ({} of {})", strict_set.len(), expected.len());
    assert!(strict_set.is_subset(&expected));
    // …and one that re-asks from a second earlier without de-duplicating doubles them.
    let repeat = naive(&run, w, 5, true).await;
    let repeat_set: BTreeSet<u64> = repeat.iter().copied().collect();
    assert!(repeat_set.is_subset(&expected));
    assert!(repeat.len() > repeat_set.len(), "no record came twice");
}

#[tokio::test]
async fn ads_more_calls_in_one_second_than_a_page_holds() {
    // Just after midnight on a very busy account: 0.7 calls a second from 00:00 Beijing.
    let ds = dataset(7, 1, 1_000_000, "2024-06-11T16:20:00Z");
    let run = serve(context(ds, &[("tencent_ads.requests_per_minute", "100000")])).await;
    // A window starting at midnight (positions counted from page 1), and one starting
    // mid-day (the fallback must re-read from the start of the date).
    for (w, name) in [
        (Window::new(gmt8("2024-06-12 00:00:00"), gmt8("2024-06-12 00:15:00")), "day-aligned"),
        (Window::new(gmt8("2024-06-12 00:05:00"), gmt8("2024-06-12 00:12:00")), "mid-day"),
    ] {
        let expected = run.expected_keys(w.start, w.end);
        let mut per_second: BTreeMap<i64, u32> = BTreeMap::new();
        for c in run.ctx.dataset.calls_between(Provider::TencentAds, w.start, w.end) {
            *per_second.entry(c.at.as_second()).or_default() += 1;
        }
        assert!(per_second.values().any(|n| *n >= 3), "{name}: no second holds three calls");
        let fallback_before = run.ctx.counters.get("page_requests");
        // Pages of 2: some seconds hold more than a page; search_after alone would loop.
        let got = drain(&run.client(2), w).await.unwrap();
        assert_eq!(got.unique_keys(), expected, "{name}");
        assert!(run.ctx.counters.get("page_requests") > fallback_before + 1, "{name}: no page-number fallback");
        assert!((got.requests as usize) < expected.len(), "{name}: {} requests", got.requests);
    }
}

#[tokio::test]
async fn ads_mid_day_windows_return_every_record() {
    let ds = dataset(11, 5, 3000, "2024-06-14T06:00:00Z");
    let run = serve(context(ds, &[])).await;
    let client = run.client(50);
    // Starts and ends mid-day, crosses a Beijing midnight.
    let w = Window::new(gmt8("2024-06-11 10:17:23"), gmt8("2024-06-12 09:02:11"));
    let planned = client.plan(w, w.end).unwrap();
    assert_eq!(planned, vec![w]);
    let (a, b) = huadan_tencent_ads::client::window_dates(&w);
    assert_eq!((a.to_string(), b.to_string()), ("2024-06-11".to_string(), "2024-06-12".to_string()));
    let got = drain(&client, w).await.unwrap();
    let expected = run.expected_keys(w.start, w.end);
    assert!(expected.len() > 500);
    assert_eq!(got.unique_keys(), expected);
    // The first request of a mid-day window jumps with search_after rather than paging
    // from midnight: far fewer requests than pages of the whole days.
    let whole_days = run.ctx.dataset.count_between(
        Provider::TencentAds,
        gmt8_day_start(gmt8_date(w.start)),
        gmt8_day_start(gmt8_date(w.end).tomorrow().unwrap()),
    );
    assert!((got.requests as u64) < whole_days / 50, "{} requests", got.requests);
}

#[tokio::test]
async fn ads_gmt8_dates_not_utc() {
    let ds = dataset(3, 3, 2000, "2024-06-14T06:00:00Z");
    let run = serve(context(ds, &[])).await;
    // One Beijing day: 2024-06-12 00:00 +08:00 is 2024-06-11T16:00Z.
    let w = Window::new(gmt8("2024-06-12 00:00:00"), gmt8("2024-06-13 00:00:00"));
    let got = drain(&run.client(100), w).await.unwrap();
    let expected = run.expected_keys(w.start, w.end);
    assert_eq!(got.unique_keys(), expected);
    for r in &got.records {
        assert!(w.contains(r.started_at), "{} outside {w}", r.started_at);
        assert_eq!(
            huadan_model::time::format_gmt8(r.started_at),
            r.raw.to_value()["call_start_time"].as_str().unwrap()
        );
    }
    // A naive client that takes the UTC date of the window start asks for the wrong
    // day and, reading the answer's times as UTC, keeps records 8 hours off.
    let utc_date = w.start.to_zoned(jiff::tz::TimeZone::UTC).date().to_string();
    let v = raw_get(
        &run.endpoint,
        &run.token,
        &[
            ("account_id", run.account_id.to_string()),
            ("page_size", "100".into()),
            ("page", "1".into()),
            ("start_date", utc_date.clone()),
            ("end_date", utc_date),
        ],
    )
    .await;
    let naive_hits = v["data"]["entities"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| {
            let as_utc: huadan_model::Instant =
                format!("{}Z", e["call_start_time"].as_str().unwrap().replace(' ', "T")).parse().unwrap();
            w.contains(as_utc) && expected.contains(&key_of(e["call_id"].as_str().unwrap()))
        })
        .count();
    assert_eq!(naive_hits, 0, "a UTC-reading client kept records of the right day");
}

#[tokio::test]
async fn ads_stale_timestamp_and_reused_nonce_rejected() {
    let run = serve(context(dataset(1, 1, 200, "2024-06-14T06:00:00Z"), &[])).await;
    let params = vec![
        ("account_id", run.account_id.to_string()),
        ("page_size", "10".into()),
        ("page", "1".into()),
        ("start_date", "2024-06-14".into()),
        ("end_date", "2024-06-14".into()),
    ];
    let now = jiff::Timestamp::now().as_second();
    let stale = raw_get_with(&run.endpoint, &run.token, now - 301, "n-stale", &params).await;
    assert_eq!(stale["code"], 12001, "{stale}");
    let ahead = raw_get_with(&run.endpoint, &run.token, now + 301, "n-ahead", &params).await;
    assert_eq!(ahead["code"], 12001, "{ahead}");
    let first = raw_get_with(&run.endpoint, &run.token, now, "n-once", &params).await;
    assert_eq!(first["code"], 0, "{first}");
    let again = raw_get_with(&run.endpoint, &run.token, now, "n-once", &params).await;
    assert_eq!(again["code"], 12002, "{again}");
    let long = raw_get_with(&run.endpoint, &run.token, now, &"n".repeat(33), &params).await;
    assert_eq!(long["code"], 12003, "{long}");
    let missing = raw_get(&run.endpoint, "", &params).await;
    assert_eq!(missing["code"], 11005, "{missing}");
    assert_eq!(run.ctx.counters.get("stale_timestamps"), 2);
    assert_eq!(run.ctx.counters.get("nonces_reused"), 1);
    // Our client draws a fresh nonce and the current time every request.
    let client = run.client(10);
    let w = Window::new(gmt8("2024-06-14 00:00:00"), gmt8("2024-06-14 14:00:00"));
    for _ in 0..3 {
        client.fetch(&w, None).await.unwrap();
    }
}

#[tokio::test]
async fn ads_token_errors_stop_the_source_with_oauth_advice() {
    let ds = dataset(1, 1, 200, "2024-06-14T06:00:00Z");
    let run = serve(context(ds.clone(), &[])).await;
    let w = Window::new(gmt8("2024-06-14 00:00:00"), gmt8("2024-06-14 14:00:00"));
    for (token, code) in [("0123456789abcdef0123456789abcdef", "11002"), ("not a token!", "11004")] {
        let err = run.client_with_token(token, 10).fetch(&w, None).await.unwrap_err();
        let FetchError::Vendor { code: c, meaning, class, .. } = &err else { panic!("{err:?}") };
        assert_eq!(c, code);
        assert_eq!(*class, ErrorClass::Fatal);
        assert!(meaning.unwrap().contains("OAuth"), "{err}");
        assert!(!err.to_string().contains(&run.token));
    }
    // An expired token: refresh-auth once (our token is static, so nothing changes)…
    let expired = serve(context(ds, &[("tencent_ads.token_expired", "true")])).await;
    let client = expired.client(10);
    let err = client.fetch(&w, None).await.unwrap_err();
    assert_eq!(err.class(), ErrorClass::RefreshAuth);
    assert_eq!(err.code(), "11000");
    assert!(err.to_string().contains("refresh_token"), "{err}");
    client.reset_auth().await;
    // …and the second answer in a row is the same, which the engine treats as fatal.
    let again = client.fetch(&w, None).await.unwrap_err();
    assert_eq!(again.class(), ErrorClass::RefreshAuth);
    assert!(expired.ctx.counters.get("auth_failures") >= 2);
}

#[tokio::test]
async fn ads_quota_lockout_is_waited_out() {
    let ds = dataset(5, 1, 4000, "2024-06-14T06:00:00Z");
    let run =
        serve(context(ds, &[("tencent_ads.requests_per_minute", "3"), ("tencent_ads.lockout_seconds", "1")])).await;
    let w = Window::new(gmt8("2024-06-14 09:00:00"), gmt8("2024-06-14 09:30:00"));
    let client = run.client(20);
    for _ in 0..3 {
        client.fetch(&w, None).await.unwrap();
    }
    let breach = client.fetch(&w, None).await.unwrap_err();
    assert_eq!(breach.code(), "11017");
    assert_eq!(breach.class(), ErrorClass::RateLimited { retry_after: Some(Duration::from_secs(1)) });
    let locked = client.fetch(&w, None).await.unwrap_err();
    assert_eq!(locked.code(), "11008");
    assert!(matches!(locked.class(), ErrorClass::RateLimited { retry_after: Some(d) } if d <= Duration::from_secs(1)));
    // The whole window still arrives: the loop waits every lock-out out.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let got = drain(&client, w).await.unwrap();
    assert_eq!(got.unique_keys(), run.expected_keys(w.start, w.end));
    assert!(got.rate_limited >= 1, "never locked out");
    assert!(run.ctx.counters.get("lockouts") >= 2);
    // The documented quota, and the lock-out the client assumes without a header.
    assert_eq!(client.limits().quota.per_minute, Some(1000));
    assert_eq!(LOCKOUT, Duration::from_secs(300));
}

#[tokio::test]
async fn ads_recording_appears_after_update_and_expires_after_seven_days() {
    let spec = huadan_fakekit::DatasetSpec { seed: 9, days: 12, calls_per_day: 800, late: 0.0, update: 1.0 };
    let clock = huadan_fakekit::Clock::fixed(t("2024-06-14T06:00:00Z"));
    let ds = huadan_fakekit::Dataset::new(spec, clock.clone());
    let run = serve(context(ds, &[])).await;
    let client = run.client(100);
    let recent = Window::new(gmt8("2024-06-14 13:30:00"), gmt8("2024-06-14 14:00:00"));
    let now = run.ctx.dataset.now();
    let pending: BTreeSet<u64> = run
        .ctx
        .dataset
        .calls_between(Provider::TencentAds, recent.start, recent.end)
        .filter(|c| run.ctx.dataset.updated_at(c).is_some_and(|u| u > now))
        .map(|c| c.key)
        .collect();
    assert!(pending.len() > 5, "{}", pending.len());
    let before = drain(&client, recent).await.unwrap();
    let answered = |d: &Drained| d.records.iter().filter(|r| r.disposition == Disposition::Answered).count();
    assert!(answered(&before) > 5);
    for r in &before.records {
        let waiting = pending.contains(&key_of(&r.provider_call_id));
        match (r.disposition == Disposition::Answered, waiting) {
            (true, true) => assert!(r.recordings.is_empty(), "recording before its update"),
            (true, false) => assert_eq!(r.recordings.len(), 1),
            (false, true) => assert!(r.lead_id.is_none(), "lead linked before its update"),
            (false, false) => assert!(r.lead_id.is_some()),
        }
    }
    clock.advance(SignedDuration::from_hours(2));
    let after = drain(&client, recent).await.unwrap();
    assert_eq!(after.unique_keys(), before.unique_keys());
    for r in &after.records {
        assert!(r.lead_id.is_some());
        if r.disposition == Disposition::Answered {
            let rec = &r.recordings[0];
            assert_eq!(rec.expires_at, Some(r.ended_at.unwrap() + SignedDuration::from_hours(168)));
            assert!(rec.url.starts_with(&run.endpoint), "{}", rec.url);
        } else {
            assert!(r.recordings.is_empty());
        }
    }
    // The recording link is served.
    let url = &after.records.iter().find(|r| !r.recordings.is_empty()).unwrap().recordings[0].url;
    let audio = reqwest::get(url).await.unwrap();
    assert_eq!(audio.status(), 200);
    // Ten days ago: past the 7-day validity, no link any more.
    let old = Window::new(gmt8("2024-06-04 09:00:00"), gmt8("2024-06-04 12:00:00"));
    let old = drain(&client, old).await.unwrap();
    assert!(answered(&old) > 5);
    assert!(old.records.iter().all(|r| r.recordings.is_empty()));
}

#[tokio::test]
async fn ads_same_seed_same_pages() {
    let a = serve(context(dataset(21, 2, 1000, "2024-06-14T06:00:00Z"), &[])).await;
    let b = serve(context(dataset(21, 2, 1000, "2024-06-14T06:00:00Z"), &[])).await;
    let params = vec![
        ("account_id", a.account_id.to_string()),
        ("page_size", "50".into()),
        ("page", "3".into()),
        ("start_date", "2024-06-13".into()),
        ("end_date", "2024-06-14".into()),
    ];
    let now = jiff::Timestamp::now().as_second();
    let x = raw_body(&a.endpoint, &a.token, now, "nonce-a", &params).await;
    let y = raw_body(&b.endpoint, &b.token, now, "nonce-b", &params).await;
    let strip = |body: Vec<u8>, ep: &str| String::from_utf8(body).unwrap().replace(ep, "EP");
    assert_eq!(strip(x, &a.endpoint), strip(y, &b.endpoint));
    assert_eq!(a.token, b.token);
}

#[tokio::test]
async fn ads_dates_at_most_30_days_apart_and_page_size_checked() {
    let run = serve(context(dataset(1, 40, 100, "2024-06-14T06:00:00Z"), &[])).await;
    let p = |s: &str, e: &str, size: &str| {
        vec![
            ("account_id", run.account_id.to_string()),
            ("page_size", size.to_string()),
            ("page", "1".to_string()),
            ("start_date", s.to_string()),
            ("end_date", e.to_string()),
        ]
    };
    // The seed's own request example spans two months: the vendor refuses that.
    let v = raw_get(&run.endpoint, &run.token, &p("2023-01-01", "2023-03-03", "10")).await;
    assert_eq!(v["code"], 12005, "{v}");
    let v = raw_get(&run.endpoint, &run.token, &p("2024-05-01", "2024-05-31", "10")).await;
    assert_eq!(v["code"], 0, "{v}");
    let v = raw_get(&run.endpoint, &run.token, &p("2024-05-01", "2024-06-01", "10")).await;
    assert_eq!(v["code"], 12005, "{v}");
    let v = raw_get(&run.endpoint, &run.token, &p("2024-05-01", "2024-05-02", "0")).await;
    assert_eq!(v["code"], 12005, "{v}");
    // The client's plan never asks for more than 30 dates at once.
    let client = run.client(100);
    let range = Window::new(gmt8("2024-05-05 08:00:00"), gmt8("2024-06-14 14:00:00"));
    for w in client.plan(range, range.end).unwrap() {
        let (a, b) = huadan_tencent_ads::client::window_dates(&w);
        assert!((b - a).get_days() <= 29, "{w}");
    }
}

#[tokio::test]
async fn ads_thirty_day_backfill_exact_count() {
    let ds = dataset(42, 31, 200, "2024-06-14T06:00:00Z");
    let run = serve(context(ds, &[])).await;
    let client = run.client(100);
    let end = run.ctx.dataset.now();
    let range = Window::new(end - SignedDuration::from_hours(24 * 30), end);
    let got = drain(&client, range).await.unwrap();
    let expected = run.expected_keys(range.start, range.end);
    assert_eq!(got.unique_keys(), expected);
    assert!(expected.len() > 4000, "{}", expected.len());
    // About one request per page: no runaway paging.
    assert!((got.requests as usize) < expected.len() / 100 + 10, "{} requests", got.requests);
}

#[tokio::test]
async fn ads_probe_is_one_signed_request() {
    let run = serve(context(dataset(1, 1, 200, "2024-06-14T06:00:00Z"), &[])).await;
    let report = run.client(100).probe().await.unwrap();
    assert!(report.detail.contains("token accepted"), "{}", report.detail);
    assert_eq!(run.ctx.counters.get("requests"), 1);
    let err = run.client_with_token("ffffffffffffffffffffffffffffffff", 100).probe().await.unwrap_err();
    assert_eq!(err.code(), "11002");
}

#[tokio::test]
async fn ads_sync_with_faults_gets_every_record_once() {
    use huadan_fakekit::{FaultInjector, FaultKind, Faults};
    let faults = Faults::parse("http500=0.05,ratelimit=0.04,token_expiry=0.05").unwrap();
    let mut ctx = context(dataset(33, 4, 2000, "2024-06-14T06:00:00Z"), &[]);
    ctx.faults = std::sync::Arc::new(FaultInjector::new(faults, 33));
    let run = serve(ctx).await;
    let client = run.client(100);
    let range = Window::new(gmt8("2024-06-11 00:00:00"), gmt8("2024-06-14 12:00:00"));
    let got = drain(&client, range).await.unwrap();
    assert_eq!(got.unique_keys(), run.expected_keys(range.start, range.end));
    let f = &run.ctx.faults;
    assert!(f.injected(FaultKind::Http500) > 0 && f.injected(FaultKind::RateLimit) > 0);
    assert!(f.injected(FaultKind::TokenExpiry) > 0 && got.refreshed > 0);
    assert!(got.rate_limited > 0);
}
