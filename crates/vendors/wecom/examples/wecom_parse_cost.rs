//! Where the client's time per record goes: decoding a 100-record `get_dial_record`
//! page and normalising its records, two ways:
//!
//! * `value`: each record as a `serde_json::Value` tree, normalised through
//!   `normalize(&Value)`, which re-serialises the tree into `raw` (how the client read
//!   a page before);
//! * `text`: each record kept as its JSON text (`RawJson`), the typed record parsed
//!   from it, the text kept as `raw` (how the client reads a page now).
//!
//! `cargo run --release -p huadan-wecom --example wecom_parse_cost -- [PAGES] [pretty]`
//!
//! `pretty` serves the page pretty-printed (whitespace that `raw` must not keep).

use huadan_model::RawJson;
use huadan_wecom::normalize::{normalize, normalize_raw};
use huadan_wecom::wire::DialRecordResponse;

/// A 100-record page (compact unless `pretty`) built from the seed example's records,
/// with distinct call times (so distinct fingerprints).
fn page_body(pretty: bool) -> Vec<u8> {
    let seed: serde_json::Value =
        serde_json::from_str(include_str!("../tests/fixtures/seed_response.json")).unwrap_or_default();
    let records = seed["record"].as_array().cloned().unwrap_or_default();
    let list: Vec<serde_json::Value> = (0..100)
        .filter_map(|i| {
            let mut r = records.get(i % records.len().max(1))?.clone();
            r["call_time"] = (1_536_508_800 + i as i64).into();
            Some(r)
        })
        .collect();
    let page = serde_json::json!({"errcode": 0, "errmsg": "ok", "record": list});
    if pretty { serde_json::to_vec_pretty(&page) } else { serde_json::to_vec(&page) }.unwrap_or_default()
}

fn value_page(body: &[u8]) -> usize {
    let page: DialRecordResponse = serde_json::from_slice(body).unwrap_or_else(|e| panic!("page: {e}"));
    page.record.iter().filter_map(|raw| normalize("s", Some("ww1"), raw).ok()).count()
}

fn text_page(body: &[u8]) -> usize {
    let page: DialRecordResponse<RawJson> = serde_json::from_slice(body).unwrap_or_else(|e| panic!("page: {e}"));
    page.record.into_iter().filter_map(|raw| normalize_raw("s", Some("ww1"), raw).ok()).count()
}

fn main() {
    huadan_fakekit::parse_cost::compare("wecom", page_body, Vec::len, |b| value_page(b), |b| text_page(b));
}
