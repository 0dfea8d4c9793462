//! The tie-safe cursor against a minimal, hand-checkable vendor: a fixed list of calls,
//! whole GMT+8 days, strictly-greater `search_after`, page numbers without it. A
//! property test throws random tie patterns, page sizes and windows at it.

mod common;

use axum::extract::{Query, State};
use common::*;
use huadan_model::Instant;
use huadan_model::time::{format_gmt8, gmt8_day_start, parse_gmt8};
use huadan_vendor::{Cursor, Vendor, Window};
use parking_lot::Mutex;
use proptest::prelude::*;
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

type Calls = Arc<Mutex<Vec<(Instant, String)>>>;

async fn mini_vendor(
    State(calls): State<Calls>,
    Query(q): Query<HashMap<String, String>>,
) -> axum::Json<serde_json::Value> {
    let date = |k: &str| q[k].parse::<jiff::civil::Date>().unwrap();
    let (from, to) = (gmt8_day_start(date("start_date")), gmt8_day_start(date("end_date").tomorrow().unwrap()));
    let size: usize = q["page_size"].parse().unwrap();
    let mut all: Vec<(Instant, String)> = calls.lock().iter().filter(|(t, _)| *t >= from && *t < to).cloned().collect();
    all.sort();
    let page: Vec<_> = match q.get("search_after") {
        Some(sa) => {
            let sa = parse_gmt8(sa).unwrap();
            all.into_iter().filter(|(t, _)| *t > sa).take(size).collect()
        }
        None => {
            let p: usize = q["page"].parse().unwrap();
            all.into_iter().skip((p - 1) * size).take(size).collect()
        }
    };
    let entities: Vec<serde_json::Value> = page
        .iter()
        .map(|(t, id)| serde_json::json!({"call_id": id, "call_start_time": format_gmt8(*t), "end_status": 0}))
        .collect();
    axum::Json(serde_json::json!({"code": 0, "message": "", "message_cn": "", "data": {"entities": entities}}))
}

async fn mini(calls: Vec<(Instant, String)>) -> (Running, Calls) {
    let shared: Calls = Arc::new(Mutex::new(calls));
    let router = axum::Router::new()
        .route("/v3.0/leads_call_records/get", axum::routing::get(mini_vendor))
        .with_state(shared.clone());
    let endpoint = serve_router(router).await;
    let run = Running {
        endpoint,
        token: "0123456789abcdef0123456789abcdef".into(),
        account_id: 1,
        ctx: context(dataset(1, 1, 1, "2024-03-03T00:00:00Z"), &[]),
    };
    (run, shared)
}

async fn ids(vendor: &dyn Vendor, w: Window) -> (Vec<String>, u32) {
    let mut out = Vec::new();
    let mut cursor: Option<Cursor> = None;
    let mut requests = 0;
    loop {
        requests += 1;
        assert!(requests < 500, "runaway paging");
        let page = vendor.fetch(&w, cursor.as_ref()).await.unwrap();
        out.extend(page.records.into_iter().map(|r| r.provider_call_id));
        match page.next {
            Some(c) => cursor = Some(c),
            None => return (out, requests),
        }
    }
}

#[tokio::test]
async fn ads_tie_cursor_hand_made() {
    // Page size 3. 10:00:01 holds four calls (more than a page), 10:00:03 two calls
    // that straddle a page boundary.
    let at = |s: &str| gmt8(&format!("2024-03-01 {s}"));
    let calls = vec![
        (at("10:00:00"), "a".to_string()),
        (at("10:00:01"), "b1".into()),
        (at("10:00:01"), "b2".into()),
        (at("10:00:01"), "b3".into()),
        (at("10:00:01"), "b4".into()),
        (at("10:00:02"), "c".into()),
        (at("10:00:03"), "d1".into()),
        (at("10:00:03"), "d2".into()),
        (at("10:00:04"), "e".into()),
        (at("23:59:59"), "f".into()),
    ];
    let (run, _) = mini(calls).await;
    let client = run.client(3);
    let day = Window::new(gmt8("2024-03-01 00:00:00"), gmt8("2024-03-02 00:00:00"));
    let (got, requests) = ids(&client, day).await;
    assert_eq!(got, vec!["a", "b1", "b2", "b3", "b4", "c", "d1", "d2", "e", "f"]);
    assert!(requests <= 8, "{requests} requests");
    // A window starting inside the busy second's neighbourhood and ending mid-day.
    let mid = Window::new(at("10:00:01"), at("10:00:04"));
    let (got, _) = ids(&client, mid).await;
    assert_eq!(got, vec!["b1", "b2", "b3", "b4", "c", "d1", "d2"]);
}

fn arb_calls() -> impl Strategy<Value = Vec<(i64, u8)>> {
    // Offsets in seconds from 2024-03-01 00:00 Beijing across two days, with bursts.
    proptest::collection::vec((0i64..(2 * 86_400), 1u8..6), 0..40)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, .. ProptestConfig::default() })]
    #[test]
    fn ads_cursor_every_record_once(
        bursts in arb_calls(),
        page_size in 1u32..5,
        start_off in 0i64..(2 * 86_400),
        len in 1i64..(2 * 86_400),
    ) {
        let base = gmt8("2024-03-01 00:00:00");
        let mut calls = Vec::new();
        for (i, (off, n)) in bursts.iter().enumerate() {
            // Bursts cluster: several calls in one second, some seconds reused.
            let sec = off - off % 7;
            for j in 0..*n {
                calls.push((base + jiff::SignedDuration::from_secs(sec), format!("c{i}-{j}")));
            }
        }
        let w = Window::new(
            base + jiff::SignedDuration::from_secs(start_off),
            base + jiff::SignedDuration::from_secs((start_off + len).min(2 * 86_400)),
        );
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let (run, _) = mini(calls.clone()).await;
            let client = run.client(page_size);
            let mut got = Vec::new();
            for part in client.plan(w, w.end).unwrap() {
                let (a, b) = huadan_tencent_ads::client::window_dates(&part);
                assert!(a <= b && (b - a).get_days() <= 29);
                got.extend(ids(&client, part).await.0);
            }
            let want: BTreeSet<String> =
                calls.iter().filter(|(t, _)| w.contains(*t)).map(|(_, id)| id.clone()).collect();
            let set: BTreeSet<String> = got.iter().cloned().collect();
            assert_eq!(set.len(), got.len(), "a record came twice");
            assert_eq!(set, want);
        });
    }
}
