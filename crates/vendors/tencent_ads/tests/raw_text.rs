//! A fetched record's `raw` is the vendor's record text, compact: byte for byte what
//! was sent minus the whitespace outside strings (no `Value` tree in between, so
//! numbers, escapes and unknown keys stay as sent), and the record is normalised
//! exactly as the `Value` entry point normalises it.

mod common;

use common::*;
use huadan_vendor::{Vendor, Window};

/// One record as a vendor might format it: indentation, spaces around `:`, tabs and
/// newlines; strings with inner spaces and escapes; numbers as strings; a key the wire
/// type does not know.
const PRETTY_RECORD: &str = "{\n  \"call_id\" : \"clouspstn_16-230110-1\",\n\t\"account_id\": 20458, \"leads_id\": \"218000154\",\r\n  \"caller\": \"13810433402\", \"callee\": \"13717983965\", \"call_direction\": \"CALL_OUT\",\n  \"duration\": 14, \"call_start_time\": \"2023-01-10 11:04:50\", \"call_end_time\": \"2023-01-10 11:05:14\",\n  \"ring_time\": \"2023-01-10 11:04:51\", \"answer_time\": \"2023-01-10 11:05:00\", \"end_status\": 0,\n  \"call_record_url\": \"https://rec.example/a b\\u0020c.mp3\", \"note\": \"a  b\\t \\\"q\\\"\",\n  \"extra\": { \"n\": [1, 2.50, null] }\n}";

/// The same record, compact.
const COMPACT_RECORD: &str = r#"{"call_id":"clouspstn_16-230110-1","account_id":20458,"leads_id":"218000154","caller":"13810433402","callee":"13717983965","call_direction":"CALL_OUT","duration":14,"call_start_time":"2023-01-10 11:04:50","call_end_time":"2023-01-10 11:05:14","ring_time":"2023-01-10 11:04:51","answer_time":"2023-01-10 11:05:00","end_status":0,"call_record_url":"https://rec.example/a b\u0020c.mp3","note":"a  b\t \"q\"","extra":{"n":[1,2.50,null]}}"#;

#[tokio::test]
async fn ads_fetched_raw_is_the_compact_record_text() {
    let body = format!(
        "{{\n \"code\": 0, \"message\" : \"\", \"message_cn\": \"\",\n \"data\": {{\n  \"page_info\": {{ \"page\": 1, \"page_size\": 10, \"total_number\": 1, \"total_page\": 1 }},\n  \"entities\": [\n {PRETTY_RECORD}\n\t]\n }}\n}}\n"
    );
    let router =
        axum::Router::new().route("/v3.0/leads_call_records/get", axum::routing::get(move || async move { body }));
    let run = Running {
        endpoint: serve_router(router).await,
        token: "0123456789abcdef0123456789abcdef".into(),
        account_id: 2045867,
        ctx: context(dataset(1, 1, 10, "2023-01-11T00:00:00Z"), &[]),
    };
    let c = run.client(10);
    let w = Window::new(gmt8("2023-01-10 09:00:00"), gmt8("2023-01-10 12:00:00"));
    let page = c.fetch(&w, None).await.unwrap();
    assert_eq!(page.records.len(), 1);
    let r = &page.records[0];
    assert_eq!(r.raw.get(), COMPACT_RECORD, "byte-identical to the compact record text");
    assert!(!r.raw.get().contains('\n') && !r.raw.get().contains(": "), "no whitespace leaks into raw");
    assert_eq!(r.lead_id.as_deref(), Some("218000154"));
    assert_eq!(r.recordings[0].url, "https://rec.example/a b c.mp3");
    let value: serde_json::Value = serde_json::from_str(PRETTY_RECORD).unwrap();
    let mut via_value = c.normalize(&value).unwrap();
    assert_eq!(via_value.raw, value);
    assert_eq!(r.raw, value);
    via_value.raw = r.raw.clone();
    assert_eq!(*r, via_value);
}
