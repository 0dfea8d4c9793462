//! Bad answers from a tiny axum server (not the fake): each becomes a classified
//! `FetchError`, never a panic or a silently empty page; a retry then gets the records.

mod common;

use axum::Router;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use common::*;
use huadan_tanma::sandbox::Credentials;
use huadan_tanma::wire::CALL_LIST_PATH;
use huadan_vendor::{ErrorClass, FetchError, Vendor, Window};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

const GOOD: &str = r#"{"code":0,"message":"success","data":{"totalCount":2,"totalPage":1,"pageNo":1,"pageSize":100,"result":[
 {"id":661181201146016,"status":2,"msgTime":"2025-03-21 18:34:16","gmtCreateTime":"2025-03-25 14:26:23","preCost":3260,"content":"{\"Sentences\":[{\"EndTime\":900,\"BeginTime\":0,\"Text\":\"喂\",\"ChannelId\":0}]}"},
 {"id":"661181201146017","status":"1","msgTime":"2025-03-21 18:35:16","gmtCreateTime":"2025-03-25 14:26:24","preCost":"5000"}],"message":"1秒"}}"#;

fn creds() -> Credentials {
    Credentials::for_seed(1)
}

fn window() -> Window {
    Window::new("2025-03-25T06:00:00Z".parse().unwrap(), "2025-03-25T07:00:00Z".parse().unwrap())
}

fn answer(status: u16, content_type: &'static str, body: &'static str) -> Response {
    (StatusCode::from_u16(status).unwrap(), [(axum::http::header::CONTENT_TYPE, content_type)], body).into_response()
}

/// A server answering `body` with `status` on the call-list path.
async fn server(status: u16, content_type: &'static str, body: &'static str) -> String {
    serve(Router::new().route(CALL_LIST_PATH, post(move || async move { answer(status, content_type, body) }))).await
}

async fn fetch_from(status: u16, content_type: &'static str, body: &'static str) -> FetchError {
    let endpoint = server(status, content_type, body).await;
    client(&endpoint, &creds()).fetch(&window(), None).await.expect_err("a bad answer must be an error")
}

#[tokio::test]
async fn truncated_json_is_a_retryable_bad_answer() {
    let e = fetch_from(200, "application/json", &GOOD[..180]).await;
    assert!(matches!(e, FetchError::BadAnswer { .. }), "{e:?}");
    assert_eq!(e.class(), ErrorClass::Retry);
}

#[tokio::test]
async fn html_error_page_is_classified() {
    let html = "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>";
    let e = fetch_from(200, "text/html", html).await;
    assert!(matches!(e, FetchError::BadAnswer { .. }), "{e:?}");
    assert_eq!(e.class(), ErrorClass::Retry);
    let e = fetch_from(500, "text/html", html).await;
    assert!(matches!(e, FetchError::Http { status: 500, .. }), "{e:?}");
    assert_eq!(e.class(), ErrorClass::Retry);
}

#[tokio::test]
async fn http_502_is_retryable() {
    let e = fetch_from(502, "text/plain", "Bad Gateway").await;
    assert!(matches!(e, FetchError::Http { status: 502, .. }), "{e:?}");
    assert_eq!(e.class(), ErrorClass::Retry);
}

#[tokio::test]
async fn empty_body_is_a_bad_answer() {
    let e = fetch_from(200, "application/json", "").await;
    assert!(matches!(e, FetchError::BadAnswer { ref message, .. } if message.contains("empty")), "{e:?}");
    assert_eq!(e.class(), ErrorClass::Retry);
}

#[tokio::test]
async fn wrong_types_are_bad_answers_never_skipped_records() {
    for body in [
        // result is an object, not an array
        r#"{"code":0,"message":"success","data":{"totalCount":1,"totalPage":1,"result":{"id":1}}}"#,
        // data is an array
        r#"{"code":0,"message":"success","data":[]}"#,
        // code 0 without data
        r#"{"code":0,"message":"success","data":null}"#,
        // counters that are not numbers
        r#"{"code":0,"message":"success","data":{"totalCount":"lots","totalPage":1,"result":[]}}"#,
        // code is not a number
        r#"{"code":"ok","message":"success","data":null}"#,
        // a record whose id is a float: precision already lost upstream
        r#"{"code":0,"message":"success","data":{"totalCount":1,"totalPage":1,"result":[{"id":6.6e14,"msgTime":"2025-03-21 18:34:16"}]}}"#,
        // a record whose call time is unreadable
        r#"{"code":0,"message":"success","data":{"totalCount":1,"totalPage":1,"result":[{"id":1,"msgTime":"21/03/2025"}]}}"#,
        // a record that is not an object
        r#"{"code":0,"message":"success","data":{"totalCount":1,"totalPage":1,"result":[42]}}"#,
    ] {
        let e = fetch_from(200, "application/json", body).await;
        assert!(matches!(e, FetchError::BadAnswer { .. }), "{body}: {e:?}");
        assert_eq!(e.class(), ErrorClass::Retry, "{body}");
    }
}

#[tokio::test]
async fn vendor_error_with_http_error_status_keeps_its_code() {
    let e = fetch_from(500, "application/json", r#"{"code":50000,"message":"系统繁忙","data":null}"#).await;
    assert_eq!((e.code(), e.class()), ("50000".to_string(), ErrorClass::Retry));
    let e = fetch_from(200, "application/json", r#"{"code":777,"message":"未知错误","data":null}"#).await;
    assert_eq!(e.class(), ErrorClass::Fatal);
    assert!(e.to_string().contains("未知错误"), "{e}");
}

#[tokio::test]
async fn lenient_good_answer_is_read() {
    let endpoint = server(200, "application/json", GOOD).await;
    let page = client(&endpoint, &creds()).fetch(&window(), None).await.unwrap();
    assert_eq!(page.records.len(), 2);
    assert_eq!(page.total, Some(2));
    assert!(page.next.is_none());
    assert_eq!(page.records[1].provider_call_id, "661181201146017");
    assert!(page.records[1].may_change(), "status \"1\" is pending");
    assert_eq!(page.records[1].talk_seconds, Some(5));
}

#[tokio::test]
async fn each_bad_answer_then_a_retry_gets_every_record() {
    // 502, HTML, truncated, empty, wrong type, then the good page.
    let bad: [(u16, &'static str, &'static str); 5] = [
        (502, "text/plain", "Bad Gateway"),
        (200, "text/html", "<html>oops</html>"),
        (200, "application/json", &GOOD[..120]),
        (200, "application/json", ""),
        (200, "application/json", r#"{"code":0,"message":"success","data":[]}"#),
    ];
    let calls = Arc::new(AtomicUsize::new(0));
    let n = calls.clone();
    let router = Router::new().route(
        CALL_LIST_PATH,
        post(move || {
            let i = n.fetch_add(1, Ordering::SeqCst);
            async move {
                match bad.get(i) {
                    Some((s, ct, b)) => answer(*s, ct, b),
                    None => answer(200, "application/json", GOOD),
                }
            }
        }),
    );
    let endpoint = serve(router).await;
    let c = client(&endpoint, &creds());
    let mut run = Run::default();
    let page = fetch_retrying(&c, &window(), None, &mut run).await.unwrap();
    assert_eq!(run.retried.len(), 5);
    assert!(run.retried.iter().all(|e| e.class() == ErrorClass::Retry));
    assert_eq!(page.records.len(), 2);
    assert_eq!(calls.load(Ordering::SeqCst), 6);
}
