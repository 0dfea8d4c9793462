//! Bad answers from a tiny test server: every one is a classified `FetchError` (and the
//! retryable ones are retried by the engine), never a panic or a silently skipped page.

mod common;

use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use huadan_vendor::{ErrorClass, FetchError, Vendor, Window};

async fn serve_fixed(status: StatusCode, content_type: &'static str, body: &'static str) -> String {
    let app = axum::Router::new().route(
        "/",
        axum::routing::post(
            move || async move { (status, [(header::CONTENT_TYPE, content_type)], body).into_response() },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    format!("http://{addr}")
}

async fn fetch_from(url: &str) -> Result<huadan_vendor::Page, FetchError> {
    let src = common::source_config(url, "AKIDx", "k", 1400000000);
    let client = huadan_tencent_ccc::TencentCcc::from_source(&src).unwrap();
    let now = jiff::Timestamp::now();
    client.fetch(&Window::new(now - jiff::SignedDuration::from_hours(1), now), None).await
}

const GOOD_RECORD: &str =
    r#"{"SessionId":"s-1","Time":1718436600,"Direction":0,"EndStatus":1,"EndStatusString":"ok","Duration":30}"#;

#[tokio::test]
async fn bad_answers_are_classified_errors() {
    let cases: Vec<(&str, StatusCode, &'static str, &'static str)> = vec![
        (
            "truncated JSON",
            StatusCode::OK,
            "application/json",
            r#"{"Response":{"TotalCount":2,"TelCdrList":[{"SessionId":"a""#,
        ),
        ("HTML error page", StatusCode::OK, "text/html", "<html><body><h1>504 Gateway Time-out</h1></body></html>"),
        (
            "wrong types",
            StatusCode::OK,
            "application/json",
            r#"{"Response":{"TotalCount":"many","TelCdrList":"none","RequestId":"x"}}"#,
        ),
        (
            "record of the wrong type",
            StatusCode::OK,
            "application/json",
            r#"{"Response":{"TotalCount":1,"TelCdrList":[{"SessionId":"s","Time":1718436600,"Duration":"long"}],"RequestId":"x"}}"#,
        ),
        (
            "record without SessionId",
            StatusCode::OK,
            "application/json",
            r#"{"Response":{"TotalCount":1,"TelCdrList":[{"Time":1718436600}],"RequestId":"x"}}"#,
        ),
        ("no list and no error", StatusCode::OK, "application/json", r#"{"Response":{"RequestId":"x"}}"#),
        ("empty body", StatusCode::OK, "application/json", ""),
        ("HTTP 502", StatusCode::BAD_GATEWAY, "text/html", "<html>502 Bad Gateway</html>"),
        (
            "HTTP 500 JSON without Error",
            StatusCode::INTERNAL_SERVER_ERROR,
            "application/json",
            r#"{"Response":{"RequestId":"x"}}"#,
        ),
    ];
    for (what, status, ct, body) in cases {
        let url = serve_fixed(status, ct, body).await;
        let err = fetch_from(&url).await.expect_err(what);
        assert_eq!(err.class(), ErrorClass::Retry, "{what}: {err}");
        assert!(matches!(err, FetchError::BadAnswer { .. } | FetchError::Http { .. }), "{what}: {err:?}");
    }
}

#[tokio::test]
async fn vendor_error_with_a_non_200_status_keeps_its_code() {
    let url = serve_fixed(
        StatusCode::SERVICE_UNAVAILABLE,
        "application/json",
        r#"{"Response":{"Error":{"Code":"InternalError","Message":"busy"},"RequestId":"x"}}"#,
    )
    .await;
    let err = fetch_from(&url).await.unwrap_err();
    assert_eq!(err.code(), "InternalError");
    assert_eq!(err.class(), ErrorClass::Retry);
}

#[tokio::test]
async fn a_short_page_ends_the_window_and_total_is_reported() {
    let body: &'static str = Box::leak(
        format!(r#"{{"Response":{{"TotalCount":1,"TelCdrList":[{GOOD_RECORD}],"RequestId":"x"}}}}"#).into_boxed_str(),
    );
    let url = serve_fixed(StatusCode::OK, "application/json", body).await;
    let page = fetch_from(&url).await.unwrap();
    assert_eq!(page.records.len(), 1);
    assert_eq!(page.total, Some(1));
    assert!(page.next.is_none());
}

#[tokio::test]
async fn unreachable_endpoint_is_a_retryable_transport_error() {
    // Bind then drop a listener: the port is (almost certainly) closed.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let err = fetch_from(&format!("http://127.0.0.1:{port}")).await.unwrap_err();
    assert_eq!(err.class(), ErrorClass::Retry, "{err}");
}
