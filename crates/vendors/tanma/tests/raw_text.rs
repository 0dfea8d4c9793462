//! A fetched record's `raw` is the vendor's record text, compact: byte for byte what
//! was sent minus the whitespace outside strings (no `Value` tree in between, so
//! numbers, escapes, JSON-in-string fields and unknown keys stay as sent), and the
//! record is normalised exactly as the `Value` entry point normalises it.

mod common;

use axum::Router;
use axum::routing::post;
use common::*;
use huadan_tanma::sandbox::Credentials;
use huadan_tanma::wire::CALL_LIST_PATH;
use huadan_vendor::{Vendor, Window};

/// One record as a vendor might format it: indentation, spaces around `:`, tabs and
/// newlines; strings with inner spaces and escapes (JSON in a string); numbers as
/// strings; a key the wire type does not know.
const PRETTY_RECORD: &str = "{\n  \"id\" : 661181201146016,\n\t\"status\": \"2\", \"msgTime\": \"2025-03-21 18:34:16\",\r\n  \"gmtCreateTime\": \"2025-03-25 14:26:23\", \"preCost\": 3260, \"sendName\": \"朱 佳玉\",\n  \"departmentName\": \"[{\\\"id\\\": 1, \\\"name\\\": \\\"销售 部\\\"}]\",\n  \"content\": \"{\\\"Sentences\\\":[{\\\"EndTime\\\":900,\\\"BeginTime\\\":0,\\\"Text\\\":\\\"喂 \\\\u4f60\\\",\\\"ChannelId\\\":0}]}\",\n  \"extra\": { \"n\": [1, 2.50, null] }\n}";

/// The same record, compact.
const COMPACT_RECORD: &str = r#"{"id":661181201146016,"status":"2","msgTime":"2025-03-21 18:34:16","gmtCreateTime":"2025-03-25 14:26:23","preCost":3260,"sendName":"朱 佳玉","departmentName":"[{\"id\": 1, \"name\": \"销售 部\"}]","content":"{\"Sentences\":[{\"EndTime\":900,\"BeginTime\":0,\"Text\":\"喂 \\u4f60\",\"ChannelId\":0}]}","extra":{"n":[1,2.50,null]}}"#;

/// Two records of the window's extra second (15:00:00 Beijing, the window's end): one
/// readable, one that would not read. Both are dropped, as before.
const EXTRA_SECOND: &str = r#"{"id": 7, "msgTime": "2025-03-25 15:00:00", "gmtCreateTime": "2025-03-25 15:00:00"},
  {"id": 8, "status": "soon", "gmtCreateTime": "2025-03-25 15:00:00"}"#;

#[tokio::test]
async fn tanma_fetched_raw_is_the_compact_record_text() {
    let body = format!(
        "{{\n \"code\": 0, \"message\" : \"success\",\n \"data\": {{ \"totalCount\": 3, \"totalPage\": 1, \"pageNo\": 1, \"pageSize\": 100,\n  \"result\": [\n {PRETTY_RECORD},\n  {EXTRA_SECOND}\n\t], \"message\": \"4秒\" }}\n}}\n"
    );
    let endpoint = serve(Router::new().route(CALL_LIST_PATH, post(move || async move { body }))).await;
    let c = client(&endpoint, &Credentials::for_seed(1));
    let w = Window::new("2025-03-25T06:00:00Z".parse().unwrap(), "2025-03-25T07:00:00Z".parse().unwrap());
    let page = c.fetch(&w, None).await.unwrap();
    assert_eq!(page.records.len(), 1, "the extra second's records are dropped");
    let r = &page.records[0];
    assert_eq!(r.raw.get(), COMPACT_RECORD, "byte-identical to the compact record text");
    assert!(!r.raw.get().contains('\n') && !r.raw.get().contains(": 2"), "no whitespace leaks into raw");
    assert_eq!(r.agent.as_ref().unwrap().department.as_deref(), Some("销售 部"));
    assert_eq!(r.transcript.as_ref().unwrap().sentences[0].text, "喂 你");
    let value: serde_json::Value = serde_json::from_str(PRETTY_RECORD).unwrap();
    let mut via_value = c.normalize(&value).unwrap();
    assert_eq!(via_value.raw, value);
    assert_eq!(r.raw, value);
    via_value.raw = r.raw.clone();
    assert_eq!(*r, via_value);
}
