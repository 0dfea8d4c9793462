//! The seed document's examples, parsed verbatim; and bad answers from a tiny canned
//! server, each a classified error (and a retry), never a panic or a skipped page.

mod common;

use axum::http::StatusCode;
use axum::response::IntoResponse;
use common::*;
use huadan_model::{Direction, Disposition, HangupSide};
use huadan_vendor::{ErrorClass, FetchError, Vendor, Window};
use std::sync::{Arc, Mutex};

const SEED_JSON: &str = include_str!("fixtures/seed_list_response.json");
const SEED_XML: &str = include_str!("fixtures/seed_list_response.xml");
const SEED_REQUEST: &str = include_str!("fixtures/seed_request_example.txt");

/// A server answering the queued (status, content type, body) in turn (the last one
/// repeats), recording each request's query string.
async fn canned(answers: Vec<(u16, &'static str, String)>) -> (String, Arc<Mutex<Vec<String>>>) {
    let queue = Arc::new(Mutex::new(answers));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let (q, s2) = (queue.clone(), seen.clone());
    let app = axum::Router::new().fallback(move |uri: axum::http::Uri| {
        let (q, s2) = (q.clone(), s2.clone());
        async move {
            s2.lock().unwrap().push(uri.query().unwrap_or("").to_string());
            let mut q = q.lock().unwrap();
            let (status, ct, body) = if q.len() > 1 { q.remove(0) } else { q[0].clone() };
            (StatusCode::from_u16(status).unwrap(), [(axum::http::header::CONTENT_TYPE, ct)], body).into_response()
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}"), seen)
}

fn vendor_for(endpoint: &str, extra: &str) -> huadan_aliyun_ccc::AliyunCcc {
    huadan_aliyun_ccc::AliyunCcc::from_source(&source(endpoint, "testid", "testsecret", "ccc-test", extra)).unwrap()
}

fn window() -> Window {
    Window::new(t("2018-07-24T16:00:00Z"), t("2018-07-27T16:00:00Z"))
}

/// The doc's JSON example (every number a string), through the whole client path,
/// normalised to the expected record.
#[tokio::test]
async fn aliyun_seed_json_example_normalises() {
    let (endpoint, _) = canned(vec![(200, "application/json", SEED_JSON.to_string())]).await;
    let v = vendor_for(&endpoint, "");
    let page = v.fetch(&window(), None).await.unwrap();
    assert_eq!(page.total, Some(11));
    assert_eq!(page.records.len(), 1);
    // A 1-record page is short (PageSize 100 asked): the window is done.
    assert!(page.next.is_none());
    let r = &page.records[0];
    let raw: serde_json::Value = serde_json::from_str(SEED_JSON).unwrap();
    assert_eq!(r.raw, raw["Data"]["List"][0], "raw kept verbatim");
    let got = serde_json::to_value(r).unwrap();
    let expected = serde_json::json!({
        "id": "aliyun-ccc:job-125152394144124921",
        "source": "aliyun-ccc",
        "provider": "aliyun_ccc",
        "provider_call_id": "job-125152394144124921",
        "account": "ccc-test",
        "direction": "outbound",
        "caller": {"number": "053xxxx3128", "user_id": null, "name": null},
        "callee": {"number": "133xxxx2315", "user_id": null, "name": null},
        "agent": {"id": "user-test@ccc-test", "name": "云呼测试坐席", "phone": null, "email": null,
                  "staff_number": null, "skill_groups": ["默认技能组"], "department": null},
        "participants": [{"role": "agent", "number": null, "user_id": "user-test@ccc-test", "name": "云呼测试坐席",
                          "ringing_at": null, "answered_at": null, "ended_at": null, "talk_seconds": null,
                          "recording_url": null, "transfer_from": null, "transfer_to": null}],
        "started_at": "2018-07-24T16:00:00Z",
        "ringing_at": null,
        "answered_at": "2018-07-24T16:00:00Z",
        "ended_at": "2018-07-27T15:59:59Z",
        "talk_seconds": 30,
        "ring_seconds": null,
        "ivr_seconds": null,
        "queue_seconds": null,
        "total_seconds": 259199,
        "duration_precision": "second",
        "disposition": "answered",
        "disposition_detail": "Success",
        "hangup_side": "agent",
        "recordings": [],
        "transcript": null,
        "channel": "pstn",
        "lead_id": null,
        "remark": null,
        "satisfaction": "1",
        "ivr_keys": null,
        "location": null,
        "raw": raw["Data"]["List"][0],
        "synced_at": null
    });
    assert_eq!(got, expected);
    assert_eq!(r.direction, Direction::Outbound);
    assert_eq!(r.disposition, Disposition::Answered);
    assert_eq!(r.hangup_side, Some(HangupSide::Agent));
}

/// The doc's XML example carries the same record: read its flat `<List>` element and
/// compare with the JSON example's record, field by field.
#[test]
fn aliyun_seed_xml_example_matches_the_json_one() {
    let list = SEED_XML.split("<List>").nth(1).unwrap().split("</List>").next().unwrap();
    let mut fields = serde_json::Map::new();
    for line in list.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let name = &line[1..line.find('>').unwrap()];
        let value = &line[line.find('>').unwrap() + 1..line.rfind("</").unwrap()];
        fields.insert(name.to_string(), value.into());
    }
    let json: serde_json::Value = serde_json::from_str(SEED_JSON).unwrap();
    assert_eq!(serde_json::Value::Object(fields.clone()), json["Data"]["List"][0]);
    let r = huadan_aliyun_ccc::normalize::normalize("aliyun-ccc", &serde_json::Value::Object(fields)).unwrap();
    assert_eq!(r.provider_call_id, "job-125152394144124921");
    assert_eq!(r.talk_seconds, Some(30));
    for tag in ["<TotalCount>11</TotalCount>", "<PageSize>10</PageSize>", "<Code>OK</Code>"] {
        assert!(SEED_XML.contains(tag));
    }
}

/// The doc's request example: `Action=ListCallDetailRecords&InstanceId=ccc-test&PageNumber=1&PageSize=100`
/// plus common parameters — what the v1 client sends on page 1.
#[tokio::test]
async fn aliyun_seed_request_example_matches_what_the_client_sends() {
    let (endpoint, seen) = canned(vec![(200, "application/json", SEED_JSON.to_string())]).await;
    vendor_for(&endpoint, "signature_version = \"v1\"").fetch(&window(), None).await.unwrap();
    vendor_for(&endpoint, "").fetch(&window(), None).await.unwrap();
    let seen = seen.lock().unwrap().clone();
    let wanted: Vec<String> = SEED_REQUEST
        .lines()
        .map(|l| l.trim().trim_start_matches("http(s)://[Endpoint]/?").trim_start_matches('&').to_string())
        .filter(|p| p.contains('=') && !p.contains('<'))
        .collect();
    assert_eq!(wanted, ["Action=ListCallDetailRecords", "InstanceId=ccc-test", "PageNumber=1", "PageSize=100"]);
    let v1: Vec<&str> = seen[0].split('&').collect();
    for p in &wanted {
        assert!(v1.contains(&p.as_str()), "{p} not in {v1:?}");
    }
    for p in [
        "Version=2020-07-01",
        "Format=JSON",
        "SignatureMethod=HMAC-SHA1",
        "SignatureVersion=1.0",
        "StartTime=1532448000000",
    ] {
        assert!(v1.contains(&p), "{p}");
    }
    // ACS3 carries Action in the x-acs-action header, the rest in the query.
    let acs3: Vec<&str> = seen[1].split('&').collect();
    for p in &wanted[1..] {
        assert!(acs3.contains(&p.as_str()), "{p}");
    }
}

/// Bad answers: each is a classified error (retryable where it may pass), never a
/// panic and never a page silently skipped.
#[tokio::test]
async fn aliyun_bad_answers_are_classified() {
    let truncated = SEED_JSON[..SEED_JSON.len() / 2].to_string();
    let html = "<html><body><h1>502 Bad Gateway</h1></body></html>".to_string();
    let wrong_types = r#"{"RequestId":"x","Code":"OK","Data":{"TotalCount":"eleven","List":[]}}"#.to_string();
    let bad_record = r#"{"RequestId":"x","Code":"OK","Data":{"TotalCount":2,"List":[{"ContactId":"a","StartTime":1},{"ContactId":"b","StartTime":"soon"}]}}"#.to_string();
    let no_id = r#"{"RequestId":"x","Code":"OK","Data":{"TotalCount":1,"List":[{"StartTime":1}]}}"#.to_string();
    let no_data = r#"{"RequestId":"x","Code":"OK"}"#.to_string();
    let list_object = r#"{"RequestId":"x","Code":"OK","Data":{"List":{"ContactId":"a"}}}"#.to_string();
    let cases: Vec<(u16, &'static str, String, &str, ErrorClass)> = vec![
        (200, "application/json", truncated, "bad_answer", ErrorClass::Retry),
        (200, "text/html", html.clone(), "bad_answer", ErrorClass::Retry),
        (502, "text/html", html, "http_502", ErrorClass::Retry),
        (502, "text/plain", String::new(), "http_502", ErrorClass::Retry),
        (200, "application/json", String::new(), "bad_answer", ErrorClass::Retry),
        (200, "application/json", wrong_types, "bad_answer", ErrorClass::Retry),
        (200, "application/json", bad_record, "bad_answer", ErrorClass::Retry),
        (200, "application/json", no_id, "bad_answer", ErrorClass::Retry),
        (200, "application/json", no_data, "bad_answer", ErrorClass::Retry),
        (200, "application/json", list_object, "bad_answer", ErrorClass::Retry),
        (
            503,
            "application/json",
            r#"{"RequestId":"r","Code":"ServiceUnavailable","Message":"busy"}"#.into(),
            "ServiceUnavailable",
            ErrorClass::Retry,
        ),
        (
            500,
            "application/json",
            r#"{"RequestId":"r","Code":"InternalService.Common","Message":"An internal service error occurred. x"}"#
                .into(),
            "InternalService.Common",
            ErrorClass::Retry,
        ),
        (
            403,
            "application/json",
            r#"{"RequestId":"r","Code":"Forbidden.RAM","Message":"no"}"#.into(),
            "Forbidden.RAM",
            ErrorClass::Fatal,
        ),
        (
            200,
            "application/json",
            r#"{"RequestId":"r","Code":"Throttling.Api","Message":"slow down","HttpStatusCode":429}"#.into(),
            "Throttling.Api",
            ErrorClass::RateLimited { retry_after: None },
        ),
    ];
    for (status, ct, body, code, class) in cases {
        let snippet = body.chars().take(40).collect::<String>();
        let (endpoint, _) = canned(vec![(status, ct, body)]).await;
        let e = vendor_for(&endpoint, "").fetch(&window(), None).await.unwrap_err();
        assert_eq!((e.code().as_str(), e.class()), (code, class), "{status} {snippet}: {e}");
    }
}

/// A bad answer is retried and the page then arrives: nothing lost.
#[tokio::test]
async fn aliyun_bad_answer_then_retry_gets_the_page() {
    let (endpoint, seen) = canned(vec![
        (502, "text/html", "<html>bad gateway</html>".into()),
        (200, "application/json", "{\"Code\":\"OK\",\"Data\":{\"List\":[".into()),
        (200, "application/json", SEED_JSON.to_string()),
    ])
    .await;
    let v = vendor_for(&endpoint, "");
    let records = run_window(&v, &window()).await.unwrap();
    assert_eq!(records.len(), 1);
    assert_eq!(seen.lock().unwrap().len(), 3);
    let e: FetchError = vendor_for("http://127.0.0.1:9", "").fetch(&window(), None).await.unwrap_err();
    assert_eq!(e.class(), ErrorClass::Retry, "{e}");
}

/// A server that answers every page full, with TotalCount 0 after page 1, cannot make
/// the client loop: it stops at page 100 (never asks for 101) and re-reads the top at
/// most once.
#[tokio::test]
async fn aliyun_always_full_pages_never_loop_forever() {
    let records: Vec<serde_json::Value> = (0..100)
        .map(|i| serde_json::json!({"ContactId": format!("job-{i}"), "StartTime": 1532448000000i64 + i}))
        .collect();
    let page = |total: u32| {
        serde_json::json!({"RequestId": "r", "Code": "OK", "Data": {"TotalCount": total, "PageNumber": 1, "PageSize": 100, "List": records}})
            .to_string()
    };
    let (endpoint, seen) = canned(vec![(200, "application/json", page(150)), (200, "application/json", page(0))]).await;
    let v = vendor_for(&endpoint, "");
    let got = run_window(&v, &window()).await.unwrap();
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 200, "100 pages, then at most 100 catch-up pages");
    assert_eq!(got.len(), 20_000);
    assert!(seen.iter().all(|q| !q.contains("PageNumber=101")));
}

/// One record as a vendor might format it: indentation, spaces around `:`, tabs and
/// newlines; strings with inner spaces and escapes; numbers as strings and as numbers;
/// a key the wire type does not know.
const PRETTY_RECORD: &str = "{\n  \"ContactId\" : \"job-125152394144124921\",\n\t\"StartTime\": \"1532448000000\", \"CallDuration\": 30,\r\n  \"ContactType\": \"Outbound\", \"AgentIds\": \"a1@i, a2@i\",\n  \"AgentNames\": \"张 三,\\u674e\\u56db\", \"Note\": \"a  b\\t \\\"q\\\"\",\n  \"Extra\": { \"N\": [1, 2.50, null] }\n}";

/// The same record, compact.
const COMPACT_RECORD: &str = r#"{"ContactId":"job-125152394144124921","StartTime":"1532448000000","CallDuration":30,"ContactType":"Outbound","AgentIds":"a1@i, a2@i","AgentNames":"张 三,\u674e\u56db","Note":"a  b\t \"q\"","Extra":{"N":[1,2.50,null]}}"#;

/// A fetched record's `raw` is the vendor's record text, compact: byte for byte what
/// was sent minus the whitespace outside strings (no `Value` tree in between), and the
/// record is the one the `Value` entry point makes.
#[tokio::test]
async fn aliyun_fetched_raw_is_the_compact_record_text() {
    let body = format!(
        "{{\n \"RequestId\": \"r\", \"Code\" : \"OK\",\n \"Data\": {{ \"TotalCount\": 2, \"List\": [\n {PRETTY_RECORD},\n\t{PRETTY_RECORD} ] }}\n}}\n"
    );
    let (endpoint, _) = canned(vec![(200, "application/json", body)]).await;
    let v = vendor_for(&endpoint, "");
    let page = v.fetch(&window(), None).await.unwrap();
    assert_eq!(page.records.len(), 2);
    let value: serde_json::Value = serde_json::from_str(PRETTY_RECORD).unwrap();
    for r in &page.records {
        assert_eq!(r.raw.get(), COMPACT_RECORD, "byte-identical to the compact record text");
        assert!(!r.raw.get().contains('\n') && !r.raw.get().contains(": "), "no whitespace leaks into raw");
        assert_eq!(r.agent.as_ref().unwrap().name.as_deref(), Some("张 三"));
        assert_eq!(r.participants[1].name.as_deref(), Some("李四"));
        let mut via_value = v.normalize(&value).unwrap();
        assert_eq!(via_value.raw, value);
        assert_eq!(r.raw, value);
        via_value.raw = r.raw.clone();
        assert_eq!(*r, via_value);
    }
}
