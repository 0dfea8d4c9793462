//! Bad answers from a tiny axum server: truncated JSON, an HTML error page, wrong types,
//! an empty body, HTTP 502, and every WeCom error code of the table — each a classified
//! `FetchError`, never a panic or a silently skipped page; a retry then gets the page.

mod common;

use axum::http::StatusCode;
use axum::response::IntoResponse;
use common::*;
use huadan_vendor::{ErrorClass, FetchError, Vendor, Window};
use jiff::SignedDuration;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

const GOOD: &str = r#"{"errcode":0,"errmsg":"ok","record":[{"call_time":1718420000,"total_duration":2,"call_type":1,"caller":{"userid":"agent001","duration":2},"callee":[{"phone":13800138000,"duration":2}]}]}"#;

/// A server whose list call answers `status` + `body` for the first `bad_times` calls,
/// then the good page.
async fn server(
    status: u16,
    content_type: &'static str,
    body: &'static str,
    bad_times: usize,
) -> (String, Arc<AtomicUsize>) {
    let calls = Arc::new(AtomicUsize::new(0));
    let c = calls.clone();
    let router = axum::Router::new()
        .route(
            "/cgi-bin/gettoken",
            axum::routing::get(|| async {
                axum::Json(serde_json::json!({"errcode":0,"errmsg":"ok","access_token":"T","expires_in":7200}))
            }),
        )
        .route(
            "/cgi-bin/dial/get_dial_record",
            axum::routing::post(move || {
                let c = c.clone();
                async move {
                    let n = c.fetch_add(1, Ordering::SeqCst);
                    if n < bad_times {
                        (StatusCode::from_u16(status).unwrap(), [("content-type", content_type)], body).into_response()
                    } else {
                        ([("content-type", "application/json")], GOOD).into_response()
                    }
                }
            }),
        );
    (serve_router(router).await, calls)
}

fn window() -> Window {
    let end: huadan_model::Instant = "2024-06-15T04:00:00Z".parse().unwrap();
    Window::new(end - SignedDuration::from_hours(1), end)
}

async fn first_error(status: u16, ct: &'static str, body: &'static str) -> FetchError {
    let (url, _) = server(status, ct, body, 1).await;
    let c = client_for(&url, "ww1", "s");
    c.fetch(&window(), None).await.unwrap_err()
}

#[tokio::test]
async fn wecom_bad_answers_are_classified_retryable() {
    let cases: [(&str, u16, &str, &str); 7] = [
        ("truncated json", 200, "application/json", r#"{"errcode":0,"errmsg":"ok","record":[{"call_time":17184"#),
        ("html error page", 200, "text/html", "<html><body><h1>502 Bad Gateway</h1></body></html>"),
        ("empty body", 200, "application/json", ""),
        ("record not a list", 200, "application/json", r#"{"errcode":0,"errmsg":"ok","record":"none"}"#),
        (
            "call_time not a number",
            200,
            "application/json",
            r#"{"errcode":0,"errmsg":"ok","record":[{"call_time":"yesterday","caller":{"userid":"a","duration":1},"callee":[]}]}"#,
        ),
        (
            "caller missing",
            200,
            "application/json",
            r#"{"errcode":0,"errmsg":"ok","record":[{"call_time":1718420000,"total_duration":1}]}"#,
        ),
        ("no errcode", 200, "application/json", r#"{"record":[]}"#),
    ];
    for (name, status, ct, body) in cases {
        let e = first_error(status, ct, body).await;
        assert!(matches!(&e, FetchError::BadAnswer { .. }), "{name}: {e:?}");
        if name == "call_time not a number" {
            assert!(e.to_string().contains("yesterday"), "the record is quoted: {e}");
        }
        assert_eq!(e.class(), ErrorClass::Retry, "{name}");
    }
}

#[tokio::test]
async fn wecom_http_502_is_retryable_and_a_retry_gets_the_page() {
    for (body, ct) in [("", "text/plain"), ("<html><h1>502 Bad Gateway</h1></html>", "text/html")] {
        let e = first_error(502, ct, body).await;
        assert!(matches!(e, FetchError::Http { status: 502, .. }), "{e:?}");
        assert_eq!(e.class(), ErrorClass::Retry);
    }
    // Through the loop: two bad answers, then the page — nothing skipped.
    let (url, calls) = server(502, "text/html", "<html>bad gateway</html>", 2).await;
    let c = client_for(&url, "ww1", "s");
    let mut out = Synced::default();
    fetch_window(&c, &window(), &mut out, 5).await.unwrap();
    assert_eq!(out.retries, 2);
    assert_eq!(out.records.len(), 1);
    assert_eq!(calls.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn wecom_error_codes_are_classified_with_a_meaning() {
    let table: [(&'static str, &str, ErrorClass); 9] = [
        (r#"{"errcode":-1,"errmsg":"system busy"}"#, "-1", ErrorClass::Retry),
        (
            r#"{"errcode":45009,"errmsg":"api freq out of limit"}"#,
            "45009",
            ErrorClass::RateLimited { retry_after: None },
        ),
        (r#"{"errcode":42001,"errmsg":"access_token expired"}"#, "42001", ErrorClass::RefreshAuth),
        (r#"{"errcode":40014,"errmsg":"invalid access_token"}"#, "40014", ErrorClass::RefreshAuth),
        (r#"{"errcode":40013,"errmsg":"invalid corpid"}"#, "40013", ErrorClass::Fatal),
        (r#"{"errcode":60020,"errmsg":"not allow to access from your ip"}"#, "60020", ErrorClass::Fatal),
        (r#"{"errcode":48002,"errmsg":"api forbidden"}"#, "48002", ErrorClass::Fatal),
        (r#"{"errcode":600018,"errmsg":"invalid time"}"#, "600018", ErrorClass::Fatal),
        (r#"{"errcode":"45009","errmsg":"string code"}"#, "45009", ErrorClass::RateLimited { retry_after: None }),
    ];
    for (body, code, class) in table {
        let e = first_error(200, "application/json", body).await;
        assert_eq!(e.code(), code, "{body}");
        assert_eq!(e.class(), class, "{body}");
        assert!(matches!(&e, FetchError::Vendor { meaning: Some(m), .. } if !m.is_empty()), "{e:?}");
    }
}

/// A server answering the list calls with `bodies` in turn (HTTP 200), the last one
/// repeated; counts gettoken calls.
async fn sequence(bodies: Vec<&'static str>) -> (String, Arc<AtomicUsize>) {
    let calls = Arc::new(AtomicUsize::new(0));
    let tokens = Arc::new(AtomicUsize::new(0));
    let t = tokens.clone();
    let router = axum::Router::new()
        .route(
            "/cgi-bin/gettoken",
            axum::routing::get(move || {
                let n = t.fetch_add(1, Ordering::SeqCst);
                async move {
                    axum::Json(
                        serde_json::json!({"errcode":0,"errmsg":"ok","access_token":format!("T{n}"),"expires_in":7200}),
                    )
                }
            }),
        )
        .route(
            "/cgi-bin/dial/get_dial_record",
            axum::routing::post(move || {
                let n = calls.fetch_add(1, Ordering::SeqCst);
                let body = bodies[n.min(bodies.len() - 1)];
                async move { ([("content-type", "application/json")], body).into_response() }
            }),
        );
    (serve_router(router).await, tokens)
}

const E40001: &str = r#"{"errcode":40001,"errmsg":"invalid credential"}"#;

#[tokio::test]
async fn wecom_40001_refreshes_once_then_fatal() {
    let w = window();
    // A cached token refused with 40001: RefreshAuth; the refresh's fresh token refused
    // again: Fatal (a bad secret), whatever the engine's policy.
    let (url, tokens) = sequence(vec![GOOD, E40001, E40001]).await;
    let c = client_for(&url, "ww1", "s");
    assert_eq!(c.fetch(&w, None).await.unwrap().records.len(), 1);
    let e = c.fetch(&w, None).await.unwrap_err();
    assert_eq!((e.code().as_str(), e.class()), ("40001", ErrorClass::RefreshAuth));
    c.reset_auth().await;
    let e = c.fetch(&w, None).await.unwrap_err();
    assert_eq!((e.code().as_str(), e.class()), ("40001", ErrorClass::Fatal));
    assert!(e.to_string().contains("corp_secret"));
    assert_eq!(tokens.load(Ordering::SeqCst), 2);

    // A cached token refused, the fresh one accepted: the page comes through.
    let (url, tokens) = sequence(vec![GOOD, E40001, GOOD]).await;
    let c = client_for(&url, "ww1", "s");
    let mut out = Synced::default();
    for _ in 0..2 {
        fetch_window(&c, &w, &mut out, 0).await.unwrap();
    }
    assert_eq!(out.records.len(), 2);
    assert_eq!(out.refreshes, 1);
    assert_eq!(tokens.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn wecom_gettoken_bad_answers_are_classified() {
    for (body, status, check) in [
        (r#"{"errcode":0,"errmsg":"ok"}"#, 200, "bad_answer"),
        (r#"{"errcode":40001,"errmsg":"invalid credential"}"#, 200, "40001"),
        ("<html>oops</html>", 502, "http_502"),
        (r#"{"errcode":0,"errmsg":"ok","access_token":"T","expires_in":"7200"}"#, 200, "ok"),
    ] {
        let router = axum::Router::new()
            .route(
                "/cgi-bin/gettoken",
                axum::routing::get(
                    move || async move { (StatusCode::from_u16(status).unwrap(), body).into_response() },
                ),
            )
            .route("/cgi-bin/dial/get_dial_record", axum::routing::post(|| async { GOOD }));
        let url = serve_router(router).await;
        let c = client_for(&url, "ww1", "s");
        match c.fetch(&window(), None).await {
            Ok(p) => assert_eq!((check, p.records.len()), ("ok", 1)),
            Err(e) => {
                assert_eq!(e.code(), check);
                let want = if check == "40001" { ErrorClass::Fatal } else { ErrorClass::Retry };
                assert_eq!(e.class(), want);
            }
        }
    }
}

#[tokio::test]
async fn wecom_foreign_cursor_is_refused_not_misread() {
    let (url, calls) = server(200, "application/json", GOOD, 0).await;
    let c = client_for(&url, "ww1", "s");
    let w = window();
    for cursor in [serde_json::json!("page-2"), serde_json::json!({"from": 0, "offset": 100})] {
        let e = c.fetch(&w, Some(&huadan_vendor::Cursor(cursor))).await.unwrap_err();
        assert_eq!((e.code().as_str(), e.class()), ("huadan.bad_cursor", ErrorClass::Fatal));
    }
    assert_eq!(calls.load(Ordering::SeqCst), 0, "nothing was requested with a foreign cursor");
}
