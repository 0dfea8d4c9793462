//! Reads: every filter, ordering, the cursor, transcript search, stats, export; each
//! test on SQLite and on PostgreSQL (`both_backends!`).

#[macro_use]
mod common;

use common::*;
use futures::StreamExt;
use huadan_model::{Direction, Disposition, Provider};
use huadan_store::{CallFilter, CallQuery, GroupBy, NO_AGENT, StoreError};
use std::collections::HashSet;

fn f() -> CallFilter {
    CallFilter::default()
}

async fn seeded() -> (Guard, huadan_store::DynStore) {
    let (d, s) = store().await;
    let mut a: Vec<_> = (0..30).map(|n| rec("ccc-a", Provider::TencentCcc, n, i64::from(n) * 3600)).collect();
    a[4] = with_text(a[4].clone(), &["您好，这里是售后", "我想申请退款，价格太贵了"]);
    a[5] = with_text(a[5].clone(), &["请问价格是多少", "100% 满意 a_b"]);
    a[6] = with_text(a[6].clone(), &["Hello REFUND please"]);
    put(&s, "ccc-a", a).await;
    let b: Vec<_> = (100..120).map(|n| rec("tanma-b", Provider::Tanma, n, i64::from(n - 100) * 3600 + 1800)).collect();
    put(&s, "tanma-b", b).await;
    (d, s)
}

async fn ids(s: &huadan_store::DynStore, filter: CallFilter) -> Vec<String> {
    all_ids(s, filter, 7).await
}

async fn pages_are_newest_first_and_complete() {
    let (_d, s) = seeded().await;
    let all = ids(&s, f()).await;
    assert_eq!(all.len(), 50);
    assert_eq!(all.iter().collect::<HashSet<_>>().len(), 50, "no repeats");
    let page = s.calls(&CallQuery { filter: f(), limit: 0, cursor: None }).await.unwrap();
    let times: Vec<_> = page.items.iter().map(|r| r.started_at).collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "newest first");
    // limit 0 means the default page size, 50: exactly all rows, no next page.
    assert_eq!(page.items.len(), 50);
    assert_eq!(page.next_cursor, None);
    let short = s.calls(&CallQuery { filter: f(), limit: 49, cursor: None }).await.unwrap();
    assert!(short.next_cursor.is_some());
}

async fn ties_on_started_at_are_ordered_by_id_and_never_skipped() {
    let (_d, s) = store().await;
    let recs: Vec<_> = (0..25).map(|n| rec("src", Provider::Wecom, n, 0)).collect();
    put(&s, "src", recs).await;
    let got = all_ids(&s, f(), 4).await;
    let mut want: Vec<String> = (0..25).map(|n| format!("src:c{n:06}")).collect();
    want.sort();
    want.reverse();
    assert_eq!(got, want);
}

async fn every_filter() {
    let (_d, s) = seeded().await;
    let count = |filter: CallFilter| {
        let s = s.clone();
        async move { ids(&s, filter).await.len() }
    };
    assert_eq!(count(CallFilter { sources: vec!["ccc-a".into()], ..f() }).await, 30);
    assert_eq!(count(CallFilter { sources: vec!["ccc-a".into(), "tanma-b".into()], ..f() }).await, 50);
    assert_eq!(count(CallFilter { sources: vec!["nope".into()], ..f() }).await, 0);
    assert_eq!(count(CallFilter { providers: vec![Provider::Tanma], ..f() }).await, 20);
    assert_eq!(count(CallFilter { providers: vec![Provider::Tanma, Provider::TencentCcc], ..f() }).await, 50);
    // since is inclusive, until exclusive.
    assert_eq!(count(CallFilter { since: Some(at(3600)), until: Some(at(3 * 3600)), ..f() }).await, 4);
    assert_eq!(count(CallFilter { since: Some(at(29 * 3600)), ..f() }).await, 1);
    assert_eq!(count(CallFilter { until: Some(at(1)), ..f() }).await, 1);
    // n even → inbound: 15 of 0..30, 10 of 100..120.
    assert_eq!(count(CallFilter { directions: vec![Direction::Inbound], ..f() }).await, 25);
    assert_eq!(count(CallFilter { directions: vec![Direction::Internal], ..f() }).await, 0);
    // n % 3 == 0 → no_answer: 10 of 0..30, 7 of 100..120 (102, 105, …, 120 excluded → 102..117: 6+1).
    let no_answer = (0..30).chain(100..120).filter(|n| n % 3 == 0).count();
    assert_eq!(count(CallFilter { dispositions: vec![Disposition::NoAnswer], ..f() }).await, no_answer);
    assert_eq!(count(CallFilter { dispositions: vec![Disposition::NoAnswer, Disposition::Answered], ..f() }).await, 50);
    // Agent by id or exact name.
    let a1 = (0..30).chain(100..120).filter(|n| n % 4 == 1).count();
    assert_eq!(count(CallFilter { agent: Some("a1".into()), ..f() }).await, a1);
    assert_eq!(count(CallFilter { agent: Some("坐席1".into()), ..f() }).await, a1);
    assert_eq!(count(CallFilter { agent: Some("坐席".into()), ..f() }).await, 0, "names match exactly");
    // Number: caller or callee, whole or partial.
    assert_eq!(count(CallFilter { number: Some("13800000007".into()), ..f() }).await, 1);
    assert_eq!(count(CallFilter { number: Some("02160000007".into()), ..f() }).await, 1);
    assert_eq!(count(CallFilter { number: Some("0000107".into()), ..f() }).await, 1);
    assert_eq!(count(CallFilter { number: Some("138".into()), ..f() }).await, 50);
    // Combined.
    let combined = CallFilter {
        sources: vec!["tanma-b".into()],
        directions: vec![Direction::Inbound],
        since: Some(at(10 * 3600)),
        ..f()
    };
    let got = ids(&s, combined).await;
    assert_eq!(got, ["tanma-b:c000118", "tanma-b:c000116", "tanma-b:c000114", "tanma-b:c000112", "tanma-b:c000110"]);
    // count() agrees with paging.
    assert_eq!(s.count(&CallFilter { providers: vec![Provider::Tanma], ..f() }).await.unwrap(), 20);
}

async fn transcript_search_finds_chinese_phrases_of_any_length() {
    let (_d, s) = seeded().await;
    let text = |t: &str| CallFilter { text: Some(t.into()), ..f() };
    // Three characters or more: the FTS5 trigram index.
    assert_eq!(ids(&s, text("申请退款")).await, ["ccc-a:c000004"]);
    assert_eq!(ids(&s, text("价格是多少")).await, ["ccc-a:c000005"]);
    assert_eq!(ids(&s, text("refund")).await, ["ccc-a:c000006"], "ASCII case folds");
    assert_eq!(ids(&s, text("退款，价格")).await, ["ccc-a:c000004"]);
    assert_eq!(ids(&s, text("退款价格")).await, Vec::<String>::new(), "must be contiguous");
    // Two characters, one character: the slower scan.
    assert_eq!(ids(&s, text("退款")).await, ["ccc-a:c000004"]);
    assert_eq!(ids(&s, text("价格")).await, ["ccc-a:c000005", "ccc-a:c000004"]);
    assert_eq!(ids(&s, text("价")).await, ["ccc-a:c000005", "ccc-a:c000004"]);
    assert_eq!(ids(&s, text("售")).await, ["ccc-a:c000004"]);
    assert_eq!(ids(&s, text(" 退款 ")).await, ["ccc-a:c000004"], "surrounding blanks are ignored");
    // LIKE wildcards in the query are literal.
    assert_eq!(ids(&s, text("%")).await, ["ccc-a:c000005"]);
    assert_eq!(ids(&s, text("_")).await, ["ccc-a:c000005"]);
    assert_eq!(ids(&s, text("%%%")).await, Vec::<String>::new());
    // Combined with another filter.
    assert_eq!(
        ids(&s, CallFilter { text: Some("价格".into()), directions: vec![Direction::Inbound], ..f() }).await,
        ["ccc-a:c000004"]
    );
    assert_eq!(s.count(&text("价")).await.unwrap(), 2);
}

async fn filter_values_are_data_never_sql() {
    let (_d, s) = seeded().await;
    let evil = [
        "'; DROP TABLE calls; --",
        "' OR '1'='1",
        "\" OR 1=1 --",
        "x') UNION SELECT id, started_at, synced_at, record FROM calls --",
        "*",
        "NEAR(价格 退款)",
        "\"",
        "%' OR 1=1 OR '%",
    ];
    for e in evil {
        for filter in [
            CallFilter { sources: vec![e.into()], ..f() },
            CallFilter { agent: Some(e.into()), ..f() },
            CallFilter { number: Some(e.into()), ..f() },
            CallFilter { text: Some(e.into()), ..f() },
        ] {
            let page = s.calls(&CallQuery { filter: filter.clone(), limit: 100, cursor: None }).await.unwrap();
            assert!(page.items.is_empty(), "{e} matched something via {filter:?}");
            assert_eq!(s.count(&filter).await.unwrap(), 0);
            assert!(s.stats(&filter, GroupBy::Source, &jiff::tz::TimeZone::UTC).await.unwrap().is_empty());
        }
    }
    assert_eq!(s.count(&f()).await.unwrap(), 50, "table intact");
}

async fn a_malformed_cursor_is_bad_cursor() {
    let (_d, s) = seeded().await;
    for c in ["garbage", "", "dj", "////"] {
        let err = s.calls(&CallQuery { filter: f(), limit: 5, cursor: Some(c.into()) }).await.unwrap_err();
        assert!(matches!(err, StoreError::BadCursor(_)), "{c}: {err}");
    }
}

async fn cursor_pagination_is_stable_while_rows_are_inserted() {
    let (_d, s) = store().await;
    let initial: Vec<_> = (0..200).map(|n| rec("src", Provider::Tanma, n, i64::from(n % 50) * 60)).collect();
    put(&s, "src", initial).await;
    let existing: Vec<String> = all_ids(&s, f(), 1000).await;

    // A writer keeps inserting newer, older and same-second rows while we page.
    let writer = {
        let s = s.clone();
        tokio::spawn(async move {
            for round in 0..40u32 {
                let n = 1000 + round * 3;
                let newer = rec("src", Provider::Tanma, n, 100_000 + i64::from(round));
                let older = rec("src", Provider::Tanma, n + 1, -100_000 - i64::from(round));
                let tie = rec("src", Provider::Tanma, n + 2, i64::from(round % 50) * 60);
                put(&s, "src", vec![newer, older, tie]).await;
                tokio::task::yield_now().await;
            }
        })
    };
    let mut seen = Vec::new();
    let mut cursor = None;
    for _ in 0..1000 {
        let page = s.calls(&CallQuery { filter: f(), limit: 9, cursor: cursor.clone() }).await.unwrap();
        seen.extend(page.items.into_iter().map(|r| r.id));
        // Interleave with the writer deterministically too.
        put(&s, "src", vec![rec("src", Provider::Tanma, 5000 + seen.len() as u32, 200_000 + seen.len() as i64)]).await;
        cursor = page.next_cursor;
        if cursor.is_none() {
            break;
        }
    }
    writer.await.unwrap();
    let unique: HashSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "no row repeated");
    let got: Vec<&String> = seen.iter().filter(|id| existing.contains(id)).collect();
    assert_eq!(got, existing.iter().collect::<Vec<_>>(), "every pre-existing row once, in order");
}

async fn stats_by_every_grouping() {
    let (_d, s) = seeded().await;
    let shanghai = huadan_model::time::timezone("Asia/Shanghai").unwrap();
    let by = |g: GroupBy| {
        let (s, tz) = (s.clone(), shanghai.clone());
        async move { s.stats(&f(), g, &tz).await.unwrap() }
    };
    let p = by(GroupBy::Provider).await;
    assert_eq!(p.iter().map(|r| (r.key.as_str(), r.calls)).collect::<Vec<_>>(), [("tencent_ccc", 30), ("tanma", 20)]);
    let ccc = &p[0];
    let answered: Vec<i64> = (0..30).filter(|n| n % 3 != 0).map(|n| n % 100).collect();
    assert_eq!(ccc.answered, answered.len() as u64);
    assert!((ccc.answered_rate - 20.0 / 30.0).abs() < 1e-9);
    assert_eq!(ccc.talk_seconds_total, answered.iter().sum::<i64>());
    assert_eq!(ccc.talk_seconds_mean, Some(answered.iter().sum::<i64>() as f64 / 20.0));
    let mut sorted = answered.clone();
    sorted.sort();
    assert_eq!(ccc.talk_seconds_p90, Some(sorted[17]));
    assert_eq!(ccc.first_call, Some(at(0)));
    assert_eq!(ccc.last_call, Some(at(29 * 3600)));
    assert_eq!(ccc.label, None);

    let src = by(GroupBy::Source).await;
    assert_eq!(src.iter().map(|r| r.key.as_str()).collect::<Vec<_>>(), ["ccc-a", "tanma-b"]);

    let agents = by(GroupBy::Agent).await;
    assert_eq!(agents.len(), 4);
    assert!(agents.iter().all(|r| r.label.as_deref() == Some(&format!("坐席{}", &r.key[1..])[..])), "{agents:?}");
    assert_eq!(agents.iter().map(|r| r.calls).sum::<u64>(), 50);

    let disp = by(GroupBy::Disposition).await;
    assert_eq!(disp.iter().map(|r| r.key.as_str()).collect::<Vec<_>>(), ["answered", "no_answer"]);
    assert_eq!(disp[1].answered, 0);

    // 2024-03-01T00:00Z is 08:00 in Shanghai; hours 16..=29 after it fall on 03-02.
    let days = by(GroupBy::Day).await;
    assert_eq!(days.iter().map(|r| r.key.as_str()).collect::<Vec<_>>(), ["2024-03-01", "2024-03-02"]);
    let ccc_day1 = (0..30).filter(|h| 8 + h < 24).count() as u64;
    let tanma_day1 = (0..20).filter(|h| 8 + h < 24).count() as u64;
    assert_eq!(days[0].calls, ccc_day1 + tanma_day1);
    let hours = by(GroupBy::Hour).await;
    assert_eq!(hours.len(), 24);
    assert_eq!(hours[8].key, "08");
    assert_eq!(hours[8].calls, 3, "08:00 and 08:30 on day one, 08:00 on day two");
    let weekdays = by(GroupBy::Weekday).await;
    // 2024-03-01 was a Friday.
    assert_eq!(weekdays.iter().map(|r| r.key.as_str()).collect::<Vec<_>>(), ["5", "6"]);

    // In UTC everything is on 03-01 and 03-02 differently.
    let utc = s.stats(&f(), GroupBy::Day, &jiff::tz::TimeZone::UTC).await.unwrap();
    assert_eq!(utc[0].calls, 24 + 20, "hours 0..=23 of ccc and all of tanma (00:30..19:30)");

    // Filters apply to stats.
    let only_b =
        s.stats(&CallFilter { sources: vec!["tanma-b".into()], ..f() }, GroupBy::Source, &shanghai).await.unwrap();
    assert_eq!(only_b.len(), 1);
}

async fn calls_without_agent_group_under_none() {
    let (_d, s) = store().await;
    let mut r = rec("src", Provider::TencentAds, 1, 0);
    r.agent = None;
    put(&s, "src", vec![r]).await;
    let rows = s.stats(&f(), GroupBy::Agent, &jiff::tz::TimeZone::UTC).await.unwrap();
    assert_eq!(rows[0].key, NO_AGENT);
}

async fn export_streams_every_matching_record_across_internal_pages() {
    let (_d, s) = store().await;
    let n = huadan_store::EXPORT_PAGE as u32 * 2 + 17;
    let recs: Vec<_> = (0..n).map(|i| rec("src", Provider::AliyunCcc, i, i64::from(i / 3))).collect();
    put(&s, "src", recs).await;
    let mut stream = s.export(f());
    let mut seen = HashSet::new();
    let mut last = None;
    while let Some(r) = stream.next().await {
        let r = r.unwrap();
        if let Some(prev) = last {
            assert!(r.started_at <= prev);
        }
        last = Some(r.started_at);
        assert!(seen.insert(r.id), "repeated");
    }
    assert_eq!(seen.len(), n as usize);
    let filtered: Vec<_> = s.export(CallFilter { number: Some("13800000001".into()), ..f() }).collect().await;
    assert_eq!(filtered.len(), 1);
}

/// The cells a rollup must hold for `records`, computed here from the records
/// themselves (not by either backend).
fn expected_rollup(records: &[huadan_model::CallRecord]) -> Vec<huadan_store::RollupCell> {
    use std::collections::BTreeMap;
    let slot_ms = huadan_store::ROLLUP_SLOT_SECONDS * 1000;
    type Key = (i64, String, bool, bool);
    let mut cells: BTreeMap<Key, (u64, i64, Provider)> = BTreeMap::new();
    for r in records {
        let slot = r.started_at.as_millisecond().div_euclid(slot_ms);
        let key = (
            slot,
            r.provider.as_str().to_string(),
            r.direction == Direction::Inbound,
            r.disposition == Disposition::Answered,
        );
        let e = cells.entry(key).or_insert((0, 0, r.provider));
        e.0 += 1;
        e.1 += r.talk_seconds.unwrap_or(0);
    }
    let mut out: Vec<_> = cells
        .into_iter()
        .map(|((slot, _, inbound, answered), (calls, talk_seconds, provider))| huadan_store::RollupCell {
            slot_start: huadan_model::Instant::from_millisecond(slot * slot_ms).unwrap(),
            provider,
            inbound,
            answered,
            calls,
            talk_seconds,
        })
        .collect();
    out.sort_by(|a, b| {
        (a.slot_start, a.provider, a.inbound, a.answered).cmp(&(b.slot_start, b.provider, b.inbound, b.answered))
    });
    out
}

async fn rollup_counts_every_slot_provider_direction_and_answer() {
    let (_d, s) = store().await;
    // Several calls per 15-minute slot (every 7 minutes), two providers, all four
    // direction × answer combinations, and a call on a slot's first millisecond.
    let a: Vec<_> = (0..60).map(|n| rec("ccc-a", Provider::TencentCcc, n, i64::from(n) * 420)).collect();
    let b: Vec<_> = (100..130).map(|n| rec("tanma-b", Provider::Tanma, n, i64::from(n - 100) * 300 + 900)).collect();
    put(&s, "ccc-a", a.clone()).await;
    put(&s, "tanma-b", b.clone()).await;
    let all: Vec<_> = a.iter().chain(&b).cloned().collect();
    let got = s.rollup(&f()).await.unwrap().expect("this backend has a rollup");
    assert_eq!(got, expected_rollup(&all));
    assert_eq!(got.iter().map(|c| c.calls).sum::<u64>(), 90);
    // Filters apply as everywhere else.
    let only_b = CallFilter { sources: vec!["tanma-b".into()], ..f() };
    assert_eq!(s.rollup(&only_b).await.unwrap().unwrap(), expected_rollup(&b));
    let answered = CallFilter { sources: vec!["ccc-a".into()], dispositions: vec![Disposition::Answered], ..f() };
    let want: Vec<_> = a.iter().filter(|r| r.disposition == Disposition::Answered).cloned().collect();
    assert_eq!(s.rollup(&answered).await.unwrap().unwrap(), expected_rollup(&want));
}

both_backends!(
    pages_are_newest_first_and_complete,
    ties_on_started_at_are_ordered_by_id_and_never_skipped,
    every_filter,
    transcript_search_finds_chinese_phrases_of_any_length,
    filter_values_are_data_never_sql,
    a_malformed_cursor_is_bad_cursor,
    cursor_pagination_is_stable_while_rows_are_inserted,
    stats_by_every_grouping,
    calls_without_agent_group_under_none,
    export_streams_every_matching_record_across_internal_pages,
    rollup_counts_every_slot_provider_direction_and_answer,
);
