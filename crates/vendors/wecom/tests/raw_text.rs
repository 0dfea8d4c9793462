//! A fetched record's `raw` is the vendor's record text, compact: byte for byte what
//! WeCom sent minus the whitespace outside strings (no `Value` tree in between, so
//! numbers, escapes and unknown keys stay as sent), and the record is normalised
//! exactly as the `Value` entry point normalises it.

mod common;

use common::*;
use huadan_vendor::{Vendor, Window};

/// One record as a vendor might format it: indentation, spaces around `:`, tabs and
/// newlines; strings with inner spaces and escapes; a key the wire type does not know.
const PRETTY_RECORD: &str = "{\n  \"call_time\" : 1718420000,\n\t\"total_duration\": 2, \"call_type\": 1,\r\n  \"caller\": { \"userid\": \"agent 001\", \"duration\": 2 },\n  \"callee\": [ { \"phone\": 13800138000, \"duration\": 2 } ],\n  \"note\": \"a  b\\t\\u00e9 \\\"q\\\"\",\n  \"extra\": { \"n\": [1, 2.50, null] }\n}";

/// The same record, compact.
const COMPACT_RECORD: &str = r#"{"call_time":1718420000,"total_duration":2,"call_type":1,"caller":{"userid":"agent 001","duration":2},"callee":[{"phone":13800138000,"duration":2}],"note":"a  b\t\u00e9 \"q\"","extra":{"n":[1,2.50,null]}}"#;

#[tokio::test]
async fn wecom_fetched_raw_is_the_compact_record_text() {
    let body = format!(
        "{{ \"errcode\": 0,\n \"errmsg\": \"ok\",\n \"record\": [\n {PRETTY_RECORD} ,\n {PRETTY_RECORD}\n ]\n}}\n"
    );
    let router = axum::Router::new()
        .route(
            "/cgi-bin/gettoken",
            axum::routing::get(|| async {
                axum::Json(serde_json::json!({"errcode":0,"errmsg":"ok","access_token":"T","expires_in":7200}))
            }),
        )
        .route("/cgi-bin/dial/get_dial_record", axum::routing::post(move || async move { body }));
    let url = serve_router(router).await;
    let c = client_for(&url, "ww1", "s");
    let end: huadan_model::Instant = "2024-06-15T04:00:00Z".parse().unwrap();
    let page = c.fetch(&Window::new(end - jiff::SignedDuration::from_hours(2), end), None).await.unwrap();
    assert_eq!(page.records.len(), 2);
    let value: serde_json::Value = serde_json::from_str(PRETTY_RECORD).unwrap();
    for r in &page.records {
        assert_eq!(r.raw.get(), COMPACT_RECORD, "byte-identical to the compact record text");
        assert!(!r.raw.get().contains('\n') && !r.raw.get().contains(": "), "no whitespace leaks into raw");
        // The same record as the `Value` entry point makes it (raw: the same JSON).
        let mut via_value = c.normalize(&value).unwrap();
        assert_eq!(via_value.raw, value);
        assert_eq!(r.raw, value);
        via_value.raw = r.raw.clone();
        assert_eq!(*r, via_value);
    }
}
