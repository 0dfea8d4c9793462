//! Where the client's time per record goes: decoding a 100-record `ListCallDetailRecords`
//! page and normalising its records, two ways:
//!
//! * `value`: each record as a `serde_json::Value` tree, normalised through
//!   `normalize(&Value)`, which re-serialises the tree into `raw` (how the client read
//!   a page before);
//! * `text`: each record kept as its JSON text (`RawJson`), the typed record parsed
//!   from it, the text kept as `raw` (how the client reads a page now).
//!
//! `cargo run --release -p huadan-aliyun-ccc --example aliyun_parse_cost -- [PAGES] [pretty]`
//!
//! `pretty` serves the page pretty-printed (whitespace that `raw` must not keep).

use huadan_aliyun_ccc::client::read_answer;
use huadan_aliyun_ccc::normalize::{normalize, normalize_raw};
use huadan_aliyun_ccc::wire::ListResponse;
use huadan_vendor::http::Answer;

/// A 100-record answer (compact unless `pretty`) built from the seed example's record, with distinct ids.
fn page_answer(pretty: bool) -> Answer {
    let mut seed: serde_json::Value =
        serde_json::from_str(include_str!("../tests/fixtures/seed_list_response.json")).unwrap_or_default();
    let one = seed["Data"]["List"][0].clone();
    let list: Vec<serde_json::Value> = (0..100)
        .map(|i| {
            let mut r = one.clone();
            r["ContactId"] = format!("job-{}", 125_152_394_144_124_921u64 + i).into();
            r
        })
        .collect();
    seed["Data"]["List"] = list.into();
    let body = if pretty { serde_json::to_vec_pretty(&seed) } else { serde_json::to_vec(&seed) }.unwrap_or_default();
    Answer { status: 200, headers: Default::default(), body: body.into() }
}

fn value_page(answer: &Answer) -> usize {
    let page: ListResponse = answer.json().unwrap_or_else(|e| panic!("page: {e}"));
    page.data.unwrap_or_default().list.iter().filter_map(|raw| normalize("s", raw).ok()).count()
}

fn text_page(answer: &Answer) -> usize {
    let page = read_answer(answer).unwrap_or_else(|e| panic!("page: {e}"));
    page.data.unwrap_or_default().list.into_iter().filter_map(|raw| normalize_raw("s", raw).ok()).count()
}

fn main() {
    huadan_fakekit::parse_cost::compare("aliyun_ccc", page_answer, |a| a.body.len(), value_page, text_page);
}
