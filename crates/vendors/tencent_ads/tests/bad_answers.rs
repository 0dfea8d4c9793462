//! Bad answers from a tiny test server give a classified error (and a retry), never a
//! panic or a silently skipped page; and the GMT+8 midnight edges of a window.

mod common;

use axum::extract::{RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use common::*;
use huadan_tencent_ads::client::LOCKOUT;
use huadan_vendor::{ErrorClass, FetchError, Vendor, Window};
use parking_lot::Mutex;
use std::sync::Arc;
use std::time::Duration;

#[derive(Clone)]
struct Canned {
    status: u16,
    content_type: &'static str,
    body: String,
    delay: Duration,
}

type Shared = Arc<Mutex<(Canned, Vec<String>)>>;

async fn canned(State(s): State<Shared>, q: RawQuery) -> Response {
    let c = {
        let mut g = s.lock();
        g.1.push(q.0.unwrap_or_default());
        g.0.clone()
    };
    tokio::time::sleep(c.delay).await;
    (StatusCode::from_u16(c.status).unwrap(), [(header::CONTENT_TYPE, c.content_type)], c.body).into_response()
}

async fn server() -> (Running, Shared) {
    let shared: Shared = Arc::new(Mutex::new((
        Canned { status: 200, content_type: "application/json", body: String::new(), delay: Duration::ZERO },
        Vec::new(),
    )));
    let router = axum::Router::new()
        .route("/v3.0/leads_call_records/get", axum::routing::get(canned))
        .with_state(shared.clone());
    let endpoint = serve_router(router).await;
    let run = Running {
        endpoint,
        token: "0123456789abcdef0123456789abcdef".into(),
        account_id: 2045867,
        ctx: context(dataset(1, 1, 10, "2024-03-03T00:00:00Z"), &[]),
    };
    (run, shared)
}

fn set(s: &Shared, status: u16, content_type: &'static str, body: &str) {
    s.lock().0 = Canned { status, content_type, body: body.to_string(), delay: Duration::ZERO };
}

fn entity(id: &str, start: &str) -> String {
    format!(
        r#"{{"call_id":"{id}","account_id":2045867,"leads_id":1,"caller":"13800000000","callee":"13900000000",
        "call_direction":"CALL_IN","duration":0,"call_start_time":"{start}","call_end_time":"{start}",
        "ring_time":"{start}","answer_time":"","end_status":2,"call_record_url":""}}"#
    )
}

fn list(entities: &[String]) -> String {
    format!(
        r#"{{"code":0,"message":"","message_cn":"","data":{{"page_info":{{"page":1,"page_size":10,"total_number":{n},"total_page":1}},"request_id":"r","entities":[{e}]}}}}"#,
        n = entities.len(),
        e = entities.join(",")
    )
}

#[tokio::test]
async fn bad_answers_are_classified_never_skipped() {
    let (run, s) = server().await;
    let client = run.client(10);
    let w = Window::new(gmt8("2024-03-01 00:00:00"), gmt8("2024-03-02 00:00:00"));
    let good = entity("a", "2024-03-01 10:00:00");
    let cases: Vec<(&str, u16, &'static str, String)> = vec![
        ("truncated JSON", 200, "application/json", list(std::slice::from_ref(&good))[..60].to_string()),
        ("HTML error page", 200, "text/html", "<html><body><h1>502 Bad Gateway</h1></body></html>".to_string()),
        ("wrong types: entities", 200, "application/json", r#"{"code":0,"data":{"entities":"none"}}"#.into()),
        ("wrong types: code", 200, "application/json", r#"{"code":"zero","data":{}}"#.into()),
        (
            "wrong types: duration",
            200,
            "application/json",
            list(&[good.replace("\"duration\":0", "\"duration\":\"long\"")]),
        ),
        ("empty body", 200, "application/json", String::new()),
        ("HTTP 502", 502, "text/html", "<html><body>502 Bad Gateway</body></html>".into()),
        ("HTTP 503 JSON-less", 503, "text/plain", "upstream overloaded".into()),
        ("code 0 without data", 200, "application/json", r#"{"code":0,"message":"","message_cn":""}"#.into()),
        ("a record without call_start_time", 200, "application/json", list(&[good.clone(), entity("b", "")])),
        ("a record without call_id", 200, "application/json", list(&[good.clone(), entity("", "2024-03-01 11:00:00")])),
        (
            "records out of order",
            200,
            "application/json",
            list(&[entity("c", "2024-03-01 12:00:00"), entity("d", "2024-03-01 11:00:00")]),
        ),
    ];
    for (name, status, ct, body) in cases {
        set(&s, status, ct, &body);
        let err = client.fetch(&w, None).await.expect_err(name);
        assert_eq!(err.class(), ErrorClass::Retry, "{name}: {err}");
        match (&err, status) {
            (FetchError::Http { status: st, .. }, 500..) => assert_eq!(*st, status, "{name}"),
            (FetchError::BadAnswer { .. }, 200) => {}
            other => panic!("{name}: unexpected {other:?}"),
        }
        assert!(!err.to_string().contains(&run.token), "{name}: token leaked");
    }
    // After the bad answers, the same request works.
    set(&s, 200, "application/json", &list(std::slice::from_ref(&good)));
    let page = client.fetch(&w, None).await.unwrap();
    assert_eq!(page.records.len(), 1);
    // A vendor error without Retry-After: the documented 5-minute lock-out is assumed.
    set(
        &s,
        200,
        "application/json",
        r#"{"code":11017,"message":"Application has reached the request limit per minute.","message_cn":""}"#,
    );
    let err = client.fetch(&w, None).await.unwrap_err();
    assert_eq!(err.class(), ErrorClass::RateLimited { retry_after: Some(LOCKOUT) });
}

#[tokio::test]
async fn a_stalled_answer_is_a_timeout() {
    let (run, s) = server().await;
    s.lock().0.delay = Duration::from_secs(3);
    let url: url::Url = run.endpoint.parse().unwrap();
    let client = huadan_tencent_ads::client::Client::new(
        "ads",
        &url,
        huadan_config::Secret::new(run.token.clone()),
        run.account_id,
        huadan_vendor::http::Http::new(Duration::from_millis(500)),
        huadan_tencent_ads::client::documented_limits(),
    );
    let w = Window::new(gmt8("2024-03-01 00:00:00"), gmt8("2024-03-02 00:00:00"));
    let err = client.fetch(&w, None).await.unwrap_err();
    assert!(matches!(err, FetchError::Timeout(_)), "{err:?}");
    assert_eq!(err.class(), ErrorClass::Retry);
}

#[tokio::test]
async fn ads_call_at_23_59_59_and_00_00_00_beijing() {
    let (run, s) = server().await;
    let client = run.client(10);
    // The vendor answers whole days; a call at the last second of 1 March and one at
    // the first second of 2 March (Beijing time).
    set(
        &s,
        200,
        "application/json",
        &list(&[entity("late", "2024-03-01 23:59:59"), entity("early", "2024-03-02 00:00:00")]),
    );
    let day1 = Window::new(gmt8("2024-03-01 00:00:00"), gmt8("2024-03-02 00:00:00"));
    let day2 = Window::new(gmt8("2024-03-02 00:00:00"), gmt8("2024-03-03 00:00:00"));
    assert_eq!(day1.end.to_string(), "2024-03-01T16:00:00Z");
    let p1 = client.fetch(&day1, None).await.unwrap();
    let p2 = client.fetch(&day2, None).await.unwrap();
    let q = s.lock().1.clone();
    assert!(q[0].contains("start_date=2024-03-01") && q[0].contains("end_date=2024-03-01"), "{}", q[0]);
    assert!(q[1].contains("start_date=2024-03-02") && q[1].contains("end_date=2024-03-02"), "{}", q[1]);
    assert!(!q[0].contains("search_after") && !q[1].contains("search_after"), "day-aligned windows start at page 1");
    let ids = |p: &huadan_vendor::Page| p.records.iter().map(|r| r.provider_call_id.clone()).collect::<Vec<_>>();
    assert_eq!(ids(&p1), vec!["late"]);
    assert_eq!(ids(&p2), vec!["early"]);
    assert_eq!(p1.records[0].started_at.to_string(), "2024-03-01T15:59:59Z");
    assert_eq!(p2.records[0].started_at.to_string(), "2024-03-01T16:00:00Z");
    // The whole-day window reports the vendor's total; a mid-day one does not.
    assert_eq!(p1.total, Some(2));
    let mid = Window::new(gmt8("2024-03-01 12:00:00"), gmt8("2024-03-02 00:00:00"));
    let p3 = client.fetch(&mid, None).await.unwrap();
    assert_eq!(p3.total, None);
    assert_eq!(ids(&p3), vec!["late"]);
    assert!(s.lock().1[2].contains("search_after=2024-03-01+11%3A59%3A59"), "{}", s.lock().1[2]);
}
