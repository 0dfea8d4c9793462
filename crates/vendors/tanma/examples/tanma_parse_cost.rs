//! Where the client's time per record goes: decoding a 100-record `getCallList`
//! page and normalising its records, two ways:
//!
//! * `value`: each record as a `serde_json::Value` tree (read from the record's text,
//!   as `parse_answer` did), normalised through `normalize(&Value)`, which
//!   re-serialises the tree into `raw` (how the client read a page before);
//! * `text`: each record kept as its JSON text (`RawJson`), the typed record parsed
//!   from it, the text kept as `raw` (how the client reads a page now).
//!
//! `cargo run --release -p huadan-tanma --example tanma_parse_cost -- [PAGES] [pretty]`
//!
//! `pretty` serves the page pretty-printed (whitespace that `raw` must not keep).

use huadan_tanma::client::parse_answer;
use huadan_tanma::normalize::{normalize, normalize_raw};
use huadan_tanma::wire::{CallListData, Envelope};
use huadan_vendor::http::Answer;

/// A 100-record answer (compact unless `pretty`) built from the seed example's 8 records, with distinct ids.
fn page_answer(pretty: bool) -> Answer {
    let mut seed: serde_json::Value =
        serde_json::from_str(include_str!("../tests/fixtures/seed_response_example.json")).unwrap_or_default();
    let records = seed["data"]["result"].as_array().cloned().unwrap_or_default();
    let list: Vec<serde_json::Value> = (0..100u64)
        .filter_map(|i| {
            let mut r = records.get(i as usize % records.len().max(1))?.clone();
            r["id"] = (660_000_000_000_000 + i).into();
            Some(r)
        })
        .collect();
    seed["data"]["result"] = list.into();
    let body = if pretty { serde_json::to_vec_pretty(&seed) } else { serde_json::to_vec(&seed) }.unwrap_or_default();
    Answer { status: 200, headers: Default::default(), body: body.into() }
}

fn value_page(answer: &Answer) -> usize {
    type Raw = Box<serde_json::value::RawValue>;
    let envelope: Envelope<Raw> = answer.json().unwrap_or_else(|e| panic!("page: {e}"));
    let data = envelope.data.unwrap_or_else(|| panic!("no data"));
    let page: CallListData<Raw> = serde_json::from_str(data.get()).unwrap_or_else(|e| panic!("page: {e}"));
    page.result
        .iter()
        .filter_map(|raw| serde_json::from_str::<serde_json::Value>(raw.get()).ok())
        .filter_map(|raw| normalize("s", &raw).ok())
        .count()
}

fn text_page(answer: &Answer) -> usize {
    let page = parse_answer(answer).unwrap_or_else(|e| panic!("page: {e}"));
    page.data.result.into_iter().filter_map(|raw| normalize_raw("s", raw).ok()).count()
}

fn main() {
    huadan_fakekit::parse_cost::compare("tanma", page_answer, |a| a.body.len(), value_page, text_page);
}
