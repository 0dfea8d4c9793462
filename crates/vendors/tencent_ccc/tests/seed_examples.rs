//! The seed document's own examples (copied byte-for-byte into `fixtures/`), parsed and
//! normalised to an expected record (snapshot in `fixtures/seed_example_normalized.json`;
//! regenerate with `UPDATE_SNAPSHOTS=1` and review the diff).

use huadan_model::{Direction, Disposition};
use huadan_tencent_ccc::normalize::normalize;
use huadan_tencent_ccc::wire::{Envelope, ListResponse, TelCdrInfo};

const OUTPUT: &str = include_str!("fixtures/seed_output_example.json");
const SAMPLE: &str = include_str!("fixtures/seed_telcdrlist_sample.json");

fn snapshot(name: &str, value: &serde_json::Value) {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&path, serde_json::to_string_pretty(value).unwrap() + "\n").unwrap();
    }
    let want: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap_or_default()).unwrap();
    // Compared as JSON values: key order is not part of the contract.
    assert_eq!(value, &want, "snapshot {name} differs (UPDATE_SNAPSHOTS=1 to accept)");
}

#[test]
fn seed_output_example_parses_and_normalises() {
    let env: Envelope<ListResponse> = serde_json::from_str(OUTPUT).unwrap();
    let resp = env.response;
    assert!(resp.error.is_none());
    assert_eq!(resp.total_count, Some(2));
    assert_eq!(resp.request_id.as_deref(), Some("abc"));
    let list = resp.tel_cdr_list.unwrap();
    assert_eq!(list.len(), 2);
    // Every field of the example is read by the typed wire record, losslessly.
    for raw in &list {
        let typed: TelCdrInfo = raw.parse().unwrap();
        let back = serde_json::to_value(&typed).unwrap();
        assert_eq!(back, raw.to_value(), "wire type drops or changes a field");
    }
    let records: Vec<_> = list
        .iter()
        .map(|r| huadan_tencent_ccc::normalize::normalize_raw("seed", Some("1400000000"), r.clone()).unwrap())
        .collect();
    // Normalising the same record from a `Value` gives the same result.
    assert_eq!(normalize("seed", Some("1400000000"), &list[0].to_value()).unwrap(), records[0]);
    let r = &records[0];
    assert_eq!(r.id, "seed:abc");
    assert_eq!(r.started_at.to_string(), "2020-05-27T02:46:46Z");
    assert_eq!(r.direction, Direction::Inbound);
    assert_eq!(r.disposition, Disposition::Answered);
    assert_eq!(r.disposition_detail, "abc", "EndStatusString verbatim");
    assert_eq!(r.talk_seconds, Some(60));
    assert_eq!(r.ivr_seconds, Some(5));
    assert_eq!(r.hangup_side, None, "`abc` is not seat/user/system");
    assert_eq!(r.participants.len(), 1);
    assert_eq!(r.participants[0].ringing_at, None, "0 means never");
    assert_eq!(r.agent.as_ref().unwrap().skill_groups, vec!["abc".to_string()]);
    assert_eq!(r.raw, list[0]);
    assert_eq!(records[1].talk_seconds, Some(62));
    assert_eq!(records[1].started_at.to_string(), "2020-05-27T02:47:10Z");
    snapshot("seed_example_normalized.json", &serde_json::to_value(&records).unwrap());
}

#[test]
fn seed_telcdrlist_sample_parses_like_the_example() {
    let list: Vec<serde_json::Value> = serde_json::from_str(SAMPLE).unwrap();
    assert_eq!(list.len(), 2);
    let records: Vec<_> = list.iter().map(|r| normalize("seed", Some("1400000000"), r).unwrap()).collect();
    // The parameter table's sample differs from the example only by RecordId's absence.
    let env: Envelope<ListResponse> = serde_json::from_str(OUTPUT).unwrap();
    let from_example: Vec<_> = env
        .response
        .tel_cdr_list
        .unwrap()
        .iter()
        .map(|r| normalize("seed", Some("1400000000"), &r.to_value()).unwrap())
        .collect();
    for (a, b) in records.iter().zip(&from_example) {
        let mut a = a.clone();
        a.raw = b.raw.clone();
        assert_eq!(&a, b);
    }
}
