//! The REST API over a seeded SQLite store: every route, every error, auth and viewer
//! masking (exports included), injection strings as filter values.

mod common;

use common::*;
use huadan_model::{CallRecord, Disposition};
use std::sync::atomic::Ordering;
use std::time::Duration;

fn items(a: &Answer) -> Vec<CallRecord> {
    serde_json::from_value(a.json()["items"].clone()).unwrap()
}

/// Walk every page of `/v1/calls?{query}` and return the records.
async fn all_pages(app: &axum::Router, query: &str, limit: usize) -> Vec<CallRecord> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..1000 {
        let mut uri = format!("/v1/calls?limit={limit}");
        if !query.is_empty() {
            uri.push('&');
            uri.push_str(query);
        }
        if let Some(c) = &cursor {
            uri.push_str(&format!("&cursor={}", enc(c)));
        }
        let a = get(app, &uri).await;
        assert_eq!(a.status, 200, "{uri}: {}", a.text());
        out.extend(items(&a));
        cursor = a.json()["next_cursor"].as_str().map(str::to_string);
        if cursor.is_none() {
            return out;
        }
    }
    panic!("pagination did not end");
}

fn ids(v: &[CallRecord]) -> Vec<String> {
    v.iter().map(|r| r.id.clone()).collect()
}

fn expected(pred: impl Fn(&CallRecord) -> bool) -> Vec<String> {
    seed_newest_first().into_iter().filter(|r| pred(r)).map(|r| r.id).collect()
}

#[tokio::test]
async fn calls_pages_newest_first_through_a_tie_with_opaque_cursor() {
    let (_d, _s, _r, _st, app) = app().await;
    let first = get(&app, "/v1/calls").await;
    assert_eq!(first.status, 200);
    assert_eq!(items(&first).len(), 50, "default limit is 50");
    let all = all_pages(&app, "", 7).await;
    assert_eq!(ids(&all), expected(|_| true));
    for (got, want) in all.iter().zip(seed_newest_first()) {
        assert!(same_record(got, &want), "{} differs", got.id);
    }
    let last = get(&app, "/v1/calls?limit=1000").await;
    assert_eq!(items(&last).len(), 90);
    assert!(last.json()["next_cursor"].is_null());
}

#[tokio::test]
async fn calls_every_filter_matches_the_seed() {
    let (_d, _s, _r, _st, app) = app().await;
    let cases: Vec<(String, Vec<String>)> = vec![
        ("source=hq".into(), expected(|r| r.source == "hq")),
        ("source=hq&source=ali".into(), expected(|r| r.source == "hq" || r.source == "ali")),
        ("provider=tencent_ccc".into(), expected(|r| r.provider.as_str() == "tencent_ccc")),
        ("since=2024-03-01T10:00:00Z".into(), expected(|r| r.started_at >= "2024-03-01T10:00:00Z".parse().unwrap())),
        // No offset: read in Asia/Shanghai, i.e. 2024-03-01T16:00:00Z.
        ("until=2024-03-02".into(), expected(|r| r.started_at < "2024-03-01T16:00:00Z".parse().unwrap())),
        ("direction=internal".into(), expected(|r| r.direction.as_str() == "internal")),
        (
            "disposition=busy&disposition=no_answer".into(),
            expected(|r| matches!(r.disposition, Disposition::Busy | Disposition::NoAnswer)),
        ),
        ("agent=a3".into(), expected(|r| r.agent_id() == Some("a3"))),
        (format!("agent={}", enc("王五")), expected(|r| r.agent_id() == Some("a2"))),
        ("number=13810000042".into(), expected(|r| r.caller.number.as_deref() == Some("13810000042"))),
        ("number=0216123001".into(), expected(|r| r.callee.number.as_deref().unwrap().starts_with("0216123001"))),
        (format!("text={}", enc("我要退款")), expected(|r| r.transcript_text().contains("我要退款"))),
        (format!("text={}", enc("退")), expected(|r| r.transcript_text().contains('退'))),
        (format!("text={}", enc("订单")), expected(|r| r.transcript_text().contains("订单"))),
        (
            format!("source=ccc&disposition=answered&since={}", enc("2024-03-01 12:00:00")),
            expected(|r| {
                r.source == "ccc"
                    && r.disposition == Disposition::Answered
                    && r.started_at >= "2024-03-01T04:00:00Z".parse().unwrap()
            }),
        ),
    ];
    for (q, want) in cases {
        assert!(!want.is_empty(), "{q}: the seed should match something");
        let got = all_pages(&app, &q, 1000).await;
        assert_eq!(ids(&got), want, "{q}");
    }
}

#[tokio::test]
async fn filter_values_are_data_never_sql() {
    let (_d, store, _r, _st, app) = app().await;
    let nasty = [
        "' OR '1'='1",
        "'; DROP TABLE calls; --",
        "%' OR 1=1 --",
        "\") OR 1=1 --",
        "a\" OR \"1\"=\"1",
        "*",
        "NEAR(退款 订单)",
        "%",
        "_",
        "\\",
    ];
    for v in nasty {
        for p in ["source", "agent", "number", "text"] {
            let a = get(&app, &format!("/v1/calls?{p}={}", enc(v))).await;
            assert_eq!(a.status, 200, "{p}={v}: {}", a.text());
            assert_eq!(items(&a).len(), 0, "{p}={v} matched records");
            let s = get(&app, &format!("/v1/stats?{p}={}", enc(v))).await;
            assert_eq!(s.status, 200, "stats {p}={v}");
        }
    }
    assert_eq!(store.count(&Default::default()).await.unwrap(), 90, "the table is intact");
}

#[tokio::test]
async fn bad_parameters_are_400_naming_the_parameter() {
    let (_d, _s, _r, _st, app) = app().await;
    let cases = [
        ("/v1/calls?sorce=hq", "unknown_parameter", "`sorce`"),
        ("/v1/calls?limit=0", "bad_parameter", "`limit`"),
        ("/v1/calls?limit=1001", "bad_parameter", "`limit`"),
        ("/v1/calls?limit=abc", "bad_parameter", "`limit`"),
        ("/v1/calls?limit=5&limit=6", "bad_parameter", "`limit`"),
        ("/v1/calls?since=yesterday", "bad_parameter", "`since`"),
        ("/v1/calls?until=2024-02-30", "bad_parameter", "`until`"),
        ("/v1/calls?provider=tencent", "bad_parameter", "`provider`"),
        ("/v1/calls?direction=sideways", "bad_parameter", "`direction`"),
        ("/v1/calls?disposition=maybe", "bad_parameter", "`disposition`"),
        ("/v1/calls?agent=", "bad_parameter", "`agent`"),
        ("/v1/calls?agent=a1&agent=a2", "bad_parameter", "`agent`"),
        ("/v1/calls?cursor=not-a-cursor", "bad_cursor", "`cursor`"),
        ("/v1/calls?cursor=eyJ4IjoxfQ", "bad_cursor", "`cursor`"),
        ("/v1/calls/hq:c0000?pretty=1", "unknown_parameter", "`pretty`"),
        ("/v1/stats?by=week", "bad_parameter", "`by`"),
        ("/v1/stats?limit=5", "unknown_parameter", "`limit`"),
        ("/v1/export.csv?bom=maybe", "bad_parameter", "`bom`"),
        ("/v1/export.jsonl?bom=true", "unknown_parameter", "`bom`"),
        ("/v1/export.jsonl?since=nope", "bad_parameter", "`since`"),
        ("/v1/sources?x=1", "unknown_parameter", "`x`"),
    ];
    for (uri, code, names) in cases {
        let a = get(&app, uri).await;
        assert_eq!(a.status, 400, "{uri}: {}", a.text());
        assert_eq!(a.code(), code, "{uri}");
        assert!(a.message().contains(names), "{uri}: {}", a.message());
        assert_eq!(a.headers["content-type"], "application/json");
    }
}

#[tokio::test]
async fn call_by_id_and_404() {
    let (_d, _s, _r, _st, app) = app().await;
    let want = seed_records().into_iter().find(|r| r.id == "hq:x/y:z 42").unwrap();
    let a = get(&app, &format!("/v1/calls/{}", "hq:x%2Fy:z%2042")).await;
    assert_eq!(a.status, 200, "{}", a.text());
    let got: CallRecord = serde_json::from_value(a.json()).unwrap();
    assert!(same_record(&got, &want));
    assert!(got.synced_at.is_some());
    let a = get(&app, "/v1/calls/hq:c0003").await;
    assert_eq!(a.json()["id"], "hq:c0003");
    let a = get(&app, "/v1/calls/hq:nope").await;
    assert_eq!(a.status, 404);
    assert_eq!(a.code(), "not_found");
    assert!(a.message().contains("hq:nope"));
}

#[tokio::test]
async fn stats_by_agent_match_a_recount() {
    let (_d, _s, _r, _st, app) = app().await;
    let a = get(&app, "/v1/stats?by=agent").await;
    assert_eq!(a.status, 200, "{}", a.text());
    let v = a.json();
    assert_eq!(v["by"], "agent");
    let rows = v["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 5);
    let seed = seed_records();
    for row in rows {
        let key = row["key"].as_str().unwrap();
        let mine: Vec<_> = seed.iter().filter(|r| r.agent_id() == Some(key)).collect();
        let answered: Vec<_> = mine.iter().filter(|r| r.disposition == Disposition::Answered).collect();
        assert_eq!(row["calls"], mine.len() as u64, "{key}");
        assert_eq!(row["answered"], answered.len() as u64, "{key}");
        let rate = answered.len() as f64 / mine.len() as f64;
        assert!((row["answered_rate"].as_f64().unwrap() - rate).abs() < 1e-9, "{key}");
        let total: i64 = mine.iter().filter_map(|r| r.talk_seconds).sum();
        assert_eq!(row["talk_seconds_total"], total, "{key}");
        let mean = answered.iter().filter_map(|r| r.talk_seconds).sum::<i64>() as f64 / answered.len() as f64;
        assert!((row["talk_seconds_mean"].as_f64().unwrap() - mean).abs() < 1e-6, "{key}");
        let first = mine.iter().map(|r| r.started_at).min().unwrap();
        let last = mine.iter().map(|r| r.started_at).max().unwrap();
        assert_eq!(row["first_call"], first.to_string(), "{key}");
        assert_eq!(row["last_call"], last.to_string(), "{key}");
        let idx: usize = key[1..].parse().unwrap();
        assert_eq!(row["label"], AGENTS[idx]);
        assert!(row["talk_seconds_p90"].is_i64());
    }
    for by in ["provider", "source", "day", "hour", "weekday", "disposition"] {
        let a = get(&app, &format!("/v1/stats?by={by}&source=hq")).await;
        assert_eq!(a.status, 200, "{by}");
        let total: u64 = a.json()["rows"].as_array().unwrap().iter().map(|r| r["calls"].as_u64().unwrap()).sum();
        assert_eq!(total, 30, "{by}");
    }
    let d = get(&app, "/v1/stats").await;
    assert_eq!(d.json()["by"], "provider", "default grouping");
}

#[tokio::test]
async fn sources_show_state_and_counts_of_every_configured_source() {
    let (_d, _s, _r, _st, app) = app().await;
    let a = get(&app, "/v1/sources").await;
    assert_eq!(a.status, 200);
    let v = a.json();
    let s = v["sources"].as_array().unwrap();
    let names: Vec<_> = s.iter().map(|x| x["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["hq", "ccc", "ali", "off"]);
    assert_eq!(s[0]["records"], 30);
    assert_eq!(s[0]["provider"], "wecom");
    assert_eq!(s[0]["checkpoint"], at(200_000).to_string());
    assert_eq!(s[0]["last_success"], at(200_100).to_string());
    assert!(s[0]["last_error"].is_null());
    assert_eq!(s[2]["last_error"], "vendor said 500");
    assert_eq!(s[3]["enabled"], false);
    assert_eq!(s[3]["records"], 0);
    assert!(s[3]["checkpoint"].is_null());
    assert_eq!(s[0]["running"], false);
}

#[tokio::test]
async fn sync_starts_once_409_while_running_404_unknown_409_disabled() {
    let (_d, _s, runner, state, app) = app().await;
    let a = call(&app, "POST", "/v1/sources/hq/sync", Some(ADMIN)).await;
    assert_eq!(a.status, 202, "{}", a.text());
    assert_eq!(a.json()["source"], "hq");
    let a = call(&app, "POST", "/v1/sources/hq/sync", Some(ADMIN)).await;
    assert_eq!(a.status, 409);
    assert_eq!(a.code(), "sync_running");
    // Another source is independent.
    assert_eq!(call(&app, "POST", "/v1/sources/ccc/sync", Some(ADMIN)).await.status, 202);
    let s = get(&app, "/v1/sources").await.json();
    assert_eq!(s["sources"][0]["running"], true);
    let a = call(&app, "POST", "/v1/sources/nope/sync", Some(ADMIN)).await;
    assert_eq!((a.status.as_u16(), a.code().as_str()), (404, "not_found"));
    let a = call(&app, "POST", "/v1/sources/off/sync", Some(ADMIN)).await;
    assert_eq!((a.status.as_u16(), a.code().as_str()), (409, "source_disabled"));
    let a = call(&app, "POST", "/v1/sources/hq/sync", Some(VIEWER)).await;
    assert_eq!((a.status.as_u16(), a.code().as_str()), (403, "forbidden"));

    // Both runs are spawned; wait (bounded) until both are inside the runner before
    // letting them finish, or a run that starts late finds its permit at once.
    for _ in 0..3000 {
        if runner.started.load(Ordering::SeqCst) == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    runner.release(2);
    // Bounded, generous for a loaded machine: both runs finish and leave the scheduler.
    let settled = |n: usize| {
        runner.finished.load(Ordering::SeqCst) == n
            && !state.scheduler().is_running("hq")
            && !state.scheduler().is_running("ccc")
    };
    for _ in 0..3000 {
        if settled(2) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(runner.finished.load(Ordering::SeqCst), 2);
    assert_eq!(runner.max_concurrent.load(Ordering::SeqCst), 2, "hq and ccc ran side by side");
    let a = call(&app, "POST", "/v1/sources/hq/sync", Some(ADMIN)).await;
    assert_eq!(a.status, 202, "a finished source can sync again");
    runner.release(1);
    for _ in 0..3000 {
        if settled(3) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    let m = get(&app, "/metrics").await.text();
    // Both runs of hq (3 records each) and the one of ccc are counted once finished.
    assert!(m.contains("huadan_sync_records_inserted_total{source=\"hq\"} 6"), "{m}");
    assert!(m.contains("huadan_sync_runs_total{source=\"hq\"} 2"), "{m}");
    assert!(m.contains("huadan_sync_runs_total{source=\"ccc\"} 1"), "{m}");
}

#[tokio::test]
async fn auth_none_wrong_malformed_are_401_json_and_healthz_is_open() {
    let (_d, _s, _r, _st, app) = app().await;
    let routes = [
        ("GET", "/v1/calls"),
        ("GET", "/v1/calls/hq:c0000"),
        ("GET", "/v1/stats?by=agent"),
        ("GET", "/v1/export.csv"),
        ("GET", "/v1/export.jsonl"),
        ("GET", "/v1/sources"),
        ("POST", "/v1/sources/hq/sync"),
        ("GET", "/metrics"),
    ];
    for (m, uri) in routes {
        for token in [None, Some("wrong"), Some(""), Some(&ADMIN[..ADMIN.len() - 1])] {
            let a = call(&app, m, uri, token).await;
            assert_eq!(a.status, 401, "{m} {uri} {token:?}");
            assert_eq!(a.code(), "unauthorized");
            assert_eq!(a.headers["www-authenticate"], "Bearer");
        }
        // Not a bearer scheme at all.
        let req = axum::http::Request::builder()
            .method(m)
            .uri(uri)
            .header("authorization", format!("Basic {ADMIN}"))
            .body(axum::body::Body::empty())
            .unwrap();
        let resp = tower::ServiceExt::oneshot(app.clone(), req).await.unwrap();
        assert_eq!(resp.status(), 401, "Basic {uri}");
    }
    let h = call(&app, "GET", "/healthz", None).await;
    assert_eq!(h.status, 200);
    assert_eq!(h.json()["status"], "ok");
    let o = call(&app, "GET", "/openapi.json", None).await;
    assert_eq!(o.status, 200);
    assert!(o.json()["openapi"].as_str().unwrap().starts_with("3."));
    // Auth is checked before parameters: no hint about the API to an unknown caller.
    assert_eq!(call(&app, "GET", "/v1/calls?bogus=1", None).await.status, 401);
}

fn assert_no_clear_numbers(body: &str, what: &str) {
    for r in seed_records() {
        for n in [&r.caller.number, &r.callee.number, &r.agent.as_ref().unwrap().phone] {
            let n = n.as_deref().unwrap();
            assert!(!body.contains(n), "{what}: {n} in clear");
        }
    }
}

#[tokio::test]
async fn viewer_sees_numbers_masked_everywhere_exports_included() {
    let (_d, _s, _r, _st, app) = app().await;
    let list = call(&app, "GET", "/v1/calls?limit=1000", Some(VIEWER)).await;
    assert_eq!(list.status, 200);
    assert_no_clear_numbers(&list.text(), "list");
    let recs = items(&list);
    assert_eq!(recs.len(), 90);
    let r0 = recs.iter().find(|r| r.id == "hq:c0000").unwrap();
    assert_eq!(r0.caller.number.as_deref(), Some("138****0000"));
    assert_eq!(r0.callee.number.as_deref(), Some("021****0000"));
    assert!(r0.raw.is_null(), "raw carries numbers verbatim");
    let one = call(&app, "GET", "/v1/calls/hq:c0003", Some(VIEWER)).await;
    assert_no_clear_numbers(&one.text(), "one");
    assert_eq!(one.json()["caller"]["number"], "138****0003");
    for uri in ["/v1/export.csv", "/v1/export.jsonl"] {
        let a = call(&app, "GET", uri, Some(VIEWER)).await;
        assert_eq!(a.status, 200);
        let body = a.text();
        assert_no_clear_numbers(&body, uri);
        assert!(body.contains("138****0003"), "{uri}");
    }
    // The admin sees them.
    let a = get(&app, "/v1/export.csv").await;
    assert!(a.text().contains("13810000003"));
    // A substring search would reveal masked digits one at a time.
    let a = call(&app, "GET", "/v1/calls?number=1381", Some(VIEWER)).await;
    assert_eq!((a.status.as_u16(), a.code().as_str()), (403, "forbidden"));
    let a = call(&app, "GET", "/v1/export.csv?number=1381", Some(VIEWER)).await;
    assert_eq!(a.status, 403);
}

#[tokio::test]
async fn csv_export_streams_every_matching_row_with_optional_bom() {
    let (_d, _s, _r, _st, app) = app().await;
    let a = get(&app, "/v1/export.csv").await;
    assert_eq!(a.status, 200);
    assert_eq!(a.headers["content-type"], "text/csv; charset=utf-8");
    assert!(a.headers["content-disposition"].to_str().unwrap().contains("calls.csv"));
    let body = a.text();
    assert!(body.starts_with("id,source,provider,provider_call_id,"));
    // Rows end in CRLF; remarks hold a bare LF inside quotes, so count CRLFs.
    assert_eq!(body.matches("\r\n").count(), 91, "header + 90 rows");
    assert!(body.contains("\"客户说\"\"好的\"\", 明天\n再打 #7\""));
    let b = get(&app, "/v1/export.csv?bom=true&source=ali").await;
    assert!(b.body.starts_with(b"\xEF\xBB\xBFid,"));
    assert_eq!(b.text().matches("\r\n").count(), 31);
    let e = get(&app, "/v1/export.csv?source=nobody").await;
    assert_eq!(e.text().matches("\r\n").count(), 1, "header only");
}

#[tokio::test]
async fn jsonl_export_is_one_contract_record_per_line() {
    let (_d, _s, _r, _st, app) = app().await;
    let a = get(&app, &format!("/v1/export.jsonl?text={}", enc("您好"))).await;
    assert_eq!(a.status, 200);
    assert_eq!(a.headers["content-type"], "application/x-ndjson");
    let text = a.text();
    assert!(text.ends_with('\n'));
    let got: Vec<CallRecord> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let want: Vec<_> = seed_newest_first().into_iter().filter(|r| r.transcript.is_some()).collect();
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(&want) {
        assert!(same_record(g, w), "{}", g.id);
    }
}

#[tokio::test]
async fn unknown_route_404_and_wrong_method_405_are_json() {
    let (_d, _s, _r, _st, app) = app().await;
    let a = get(&app, "/v1/nope").await;
    assert_eq!((a.status.as_u16(), a.code().as_str()), (404, "not_found"));
    let a = call(&app, "DELETE", "/v1/calls", Some(ADMIN)).await;
    assert_eq!((a.status.as_u16(), a.code().as_str()), (405, "method_not_allowed"));
    let a = call(&app, "GET", "/v1/sources/hq/sync", Some(ADMIN)).await;
    assert_eq!(a.status, 405);
}

#[tokio::test]
async fn metrics_count_requests_by_route_template_and_status() {
    let (_d, _s, _r, _st, app) = app().await;
    get(&app, "/v1/calls/hq:c0000").await;
    get(&app, "/v1/calls/hq:c0003").await;
    get(&app, "/v1/calls?limit=0").await;
    call(&app, "GET", "/v1/calls", None).await;
    let a = get(&app, "/metrics").await;
    assert_eq!(a.status, 200);
    assert!(a.headers["content-type"].to_str().unwrap().starts_with("text/plain; version=0.0.4"));
    let m = a.text();
    assert!(m.contains("huadan_http_requests_total{method=\"GET\",route=\"/v1/calls/{id}\",status=\"200\"} 2"), "{m}");
    assert!(m.contains("huadan_http_requests_total{method=\"GET\",route=\"/v1/calls\",status=\"400\"} 1"), "{m}");
    assert!(m.contains("huadan_http_requests_total{method=\"GET\",route=\"/v1/calls\",status=\"401\"} 1"), "{m}");
    assert!(!m.contains("hq:c0000"), "raw paths never become labels");
}
