//! Every example of the seed document (000, `get_dial_record`), parsed verbatim from
//! tests/fixtures/ and normalised to the expected records (snapshot in
//! tests/fixtures/seed_response.normalized.json).

mod common;

use huadan_vendor::{Vendor, Window};
use huadan_wecom::wire::{DialRecordRequest, DialRecordResponse};
use serde_json::Value;

const REQUEST: &str = include_str!("fixtures/seed_request.json");
const RESPONSE: &str = include_str!("fixtures/seed_response.json");
const EXPECTED: &str = include_str!("fixtures/seed_response.normalized.json");

#[test]
fn wecom_seed_response_normalises_to_the_snapshot() {
    let resp: DialRecordResponse = serde_json::from_str(RESPONSE).unwrap();
    assert_eq!(resp.errcode, 0);
    assert_eq!(resp.record.len(), 2);
    let got: Vec<Value> = resp
        .record
        .iter()
        .map(|raw| {
            serde_json::to_value(huadan_wecom::normalize::normalize("wecom-hq", Some("ww0123456789"), raw).unwrap())
                .unwrap()
        })
        .collect();
    if std::env::var_os("WECOM_SNAPSHOT_PRINT").is_some() {
        println!("{}", serde_json::to_string_pretty(&got).unwrap());
    }
    let expected: Vec<Value> = serde_json::from_str(EXPECTED).unwrap();
    assert_eq!(got, expected);
}

#[tokio::test]
async fn wecom_seed_request_is_what_the_client_sends() {
    let want: DialRecordRequest = serde_json::from_str(REQUEST).unwrap();
    // The seed asks for [1536508800, 1536940800] closed: the half-open window
    // [1536508800, 1536940801) must produce exactly that body.
    let seen = std::sync::Arc::new(parking_lot::Mutex::new(None::<Value>));
    let s2 = seen.clone();
    let router = axum::Router::new()
        .route(
            "/cgi-bin/gettoken",
            axum::routing::get(|| async {
                axum::Json(serde_json::json!({"errcode":0,"errmsg":"ok","access_token":"T","expires_in":7200}))
            }),
        )
        .route(
            "/cgi-bin/dial/get_dial_record",
            axum::routing::post(move |body: axum::Json<Value>| {
                let s2 = s2.clone();
                async move {
                    *s2.lock() = Some(body.0);
                    RESPONSE
                }
            }),
        );
    let url = common::serve_router(router).await;
    let c = common::client_for(&url, "ww0123456789", "secret");
    let w = Window::new(
        huadan_model::time::from_unix_seconds(1536508800).unwrap(),
        huadan_model::time::from_unix_seconds(1536940801).unwrap(),
    );
    let page = c.fetch(&w, None).await.unwrap();
    let body = seen.lock().clone().unwrap();
    assert_eq!(body, serde_json::to_value(&want).unwrap());
    assert_eq!(body, serde_json::from_str::<Value>(REQUEST).unwrap());
    assert_eq!(page.records.len(), 2);
    assert!(page.next.is_none(), "2 < 100: the last page");
    let expected: Vec<Value> = serde_json::from_str(EXPECTED).unwrap();
    assert_eq!(serde_json::to_value(&page.records).unwrap(), Value::Array(expected));
}
