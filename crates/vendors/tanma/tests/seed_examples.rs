//! The seed document's own examples (tests/fixtures/, copied verbatim), parsed and
//! normalised. The full normalised page is a reviewed snapshot
//! (`seed_response_normalized.json`; regenerate with `UPDATE_SNAPSHOTS=1` and review
//! the diff).

use bytes::Bytes;
use huadan_model::{Direction, Disposition, TranscriptStatus};
use huadan_tanma::client::parse_answer;
use huadan_tanma::normalize::{normalize, normalize_raw};
use huadan_tanma::wire::{CallListRequest, CallRecordWire};
use huadan_vendor::http::Answer;
use std::path::PathBuf;

fn fixture(name: &str) -> String {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name);
    std::fs::read_to_string(p).unwrap()
}

fn seed_answer() -> Answer {
    Answer { status: 200, headers: Default::default(), body: Bytes::from(fixture("seed_response_example.json")) }
}

#[test]
fn seed_request_example_parses() {
    let req: CallListRequest = serde_json::from_str(&fixture("seed_request_example.json")).unwrap();
    assert_eq!(req.start_time.as_deref(), Some("2025-03-21 00:00:00"));
    assert_eq!(req.end_time.as_deref(), Some("2025-03-27 23:59:59"));
    assert_eq!(req.kind.as_deref(), Some("chat"));
    assert_eq!((req.page_no, req.page_size), (Some(1), Some(30)));
    // Our serialisation uses exactly the doc's keys.
    let ours = serde_json::to_value(&req).unwrap();
    let doc: serde_json::Value = serde_json::from_str(&fixture("seed_request_example.json")).unwrap();
    assert_eq!(ours, doc);
}

#[test]
fn seed_response_example_every_record_typed() {
    let doc: serde_json::Value = serde_json::from_str(&fixture("seed_response_example.json")).unwrap();
    let result = doc["data"]["result"].as_array().unwrap();
    assert_eq!(result.len(), 8);
    for raw in result {
        assert_eq!(raw.as_object().unwrap().len(), 34);
        let w: CallRecordWire = serde_json::from_value(raw.clone()).unwrap();
        // Typed and back: every one of the 34 fields survives.
        assert_eq!(serde_json::to_value(&w).unwrap(), *raw);
    }
}

#[test]
fn seed_response_example_normalised_snapshot() {
    let page = parse_answer(&seed_answer()).unwrap().data;
    assert_eq!(
        (page.total_count, page.total_page, page.page_no, page.page_size),
        (Some(8), Some(1), Some(1), Some(30))
    );
    assert_eq!(page.message.as_deref(), Some("38秒"));
    let records: Vec<_> = page.result.iter().map(|raw| normalize_raw("tanma", raw.clone()).unwrap()).collect();
    // The `Value` entry point gives the same records.
    let via_value: Vec<_> = page.result.iter().map(|raw| normalize("tanma", &raw.to_value()).unwrap()).collect();
    assert_eq!(records, via_value);
    let got = serde_json::to_string_pretty(&records).unwrap() + "\n";
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/seed_response_normalized.json");
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&path, &got).unwrap();
    }
    let want = std::fs::read_to_string(&path).expect("snapshot missing: run with UPDATE_SNAPSHOTS=1 and review it");
    // Compared as JSON values: object key order depends on serde_json's features.
    let (got, want): (serde_json::Value, serde_json::Value) =
        (serde_json::from_str(&got).unwrap(), serde_json::from_str(&want).unwrap());
    assert_eq!(got, want, "normalised seed example differs from the reviewed snapshot");
}

#[test]
fn seed_failed_wechat_voice_record() {
    let page = parse_answer(&seed_answer()).unwrap().data;
    let r = normalize_raw("tanma", page.result[0].clone()).unwrap();
    assert_eq!(r.id, "tanma:661181201146016");
    assert_eq!(r.provider_call_id, "661181201146016");
    assert_eq!(r.account.as_deref(), Some("wwd074f3968f56dcb0"));
    // msgTime 2025-03-21 18:34:16 GMT+8, although created 03-25.
    assert_eq!(r.started_at.to_string(), "2025-03-21T10:34:16Z");
    assert_eq!(r.talk_seconds, Some(3));
    assert_eq!(r.ended_at.unwrap().to_string(), "2025-03-21T10:34:19.26Z");
    assert_eq!(r.channel.as_deref(), Some("wechat_voice"));
    assert_eq!(r.direction, Direction::Unknown);
    assert_eq!(r.disposition, Disposition::Answered);
    assert_eq!(r.disposition_detail, "转换失败");
    let agent = r.agent.as_ref().unwrap();
    assert_eq!(agent.name.as_deref(), Some("朱佳玉"));
    assert_eq!(agent.department.as_deref(), Some("白立宏测试1"));
    assert_eq!(r.caller.name.as_deref(), Some("朱佳玉"));
    assert_eq!(r.callee.name.as_deref(), Some("赵润-向量智享科技"));
    let t = r.transcript.as_ref().unwrap();
    assert_eq!(t.status, TranscriptStatus::Failed);
    assert!(t.sentences.is_empty());
    assert_eq!(
        r.remark.as_deref(),
        Some("speech-to-text failed: SUCCESS_WITH_NO_VALID_FRAGMENT (StatusCode 21050003)")
    );
    assert_eq!(
        r.recordings[0].url,
        "https://tmblueoss.wechatsi.com/04ef60faba714b92e6371ad2dc516871/202503/21/WechatSmallFile/b9d6980b7b0c4189a6978eff7ff496aa.mp3"
    );
    // raw keeps the JSON-in-string fields as the strings received.
    assert!(r.raw.to_value()["message"].as_str().unwrap().starts_with("{\"TaskId\":\"315bb32e"));
    assert!(r.raw.to_value()["departmentName"].is_string());
    assert!(!r.may_change());
}

#[test]
fn seed_two_departments_and_weeks_old_call() {
    let page = parse_answer(&seed_answer()).unwrap().data;
    let r = normalize_raw("tanma", page.result[1].clone()).unwrap();
    assert_eq!(r.agent.as_ref().unwrap().department.as_deref(), Some("zr部门 / 麦田房产"));
    // Created 2025-03-25 10:02:06, called 2025-02-26 22:56:26: 27 days earlier.
    assert_eq!(r.started_at.to_string(), "2025-02-26T14:56:26Z");
}

#[test]
fn seed_done_work_phone_record_with_sentences() {
    let page = parse_answer(&seed_answer()).unwrap().data;
    let r = normalize_raw("tanma", page.result[4].clone()).unwrap();
    assert_eq!(r.provider_call_id, "660475461327008");
    assert_eq!(r.channel.as_deref(), Some("work_phone"));
    assert_eq!(r.disposition_detail, "转换成功");
    assert_eq!(r.talk_seconds, Some(21));
    assert_eq!(r.callee.name, None, "empty receiveName is an unknown customer");
    assert_eq!(r.agent.as_ref().unwrap().department.as_deref(), Some("zr子子子部门"));
    let t = r.transcript.as_ref().unwrap();
    assert_eq!(t.status, TranscriptStatus::Done);
    assert_eq!(t.sentences.len(), 3);
    assert_eq!((t.sentences[0].begin_ms, t.sentences[0].end_ms), (0, 5599));
    assert_eq!(t.sentences[1].text, "您本月实时话费零元,剩余话费付两千八百六十二点四九元。");
    assert_eq!((t.sentences[2].begin_ms, t.sentences[2].end_ms), (13923, 20980));
    assert!(t.sentences.iter().all(|s| s.channel.as_deref() == Some("1")));
    assert_eq!(r.remark, None);
    assert!(r.transcript_text().starts_with("您好,欢迎您使用北京联通自助查费直通车。\n"));
}
