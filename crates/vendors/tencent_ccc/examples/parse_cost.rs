//! Where the client's time per record goes: decoding a 100-record page and normalising.
//!
//! `cargo run --release -p huadan-tencent-ccc --example parse_cost`

use huadan_tencent_ccc::wire::{Envelope, ListResponse};
use std::time::Instant;

fn main() {
    // A realistic 100-record page from the fake's own generator, via a served request is
    // overkill here: build it from the seed example repeated with distinct ids.
    let one: serde_json::Value =
        match serde_json::from_str(include_str!("../tests/fixtures/seed_telcdrlist_sample.json")) {
            Ok(serde_json::Value::Array(mut a)) if !a.is_empty() => a.remove(0),
            _ => return eprintln!("fixture"),
        };
    let list: Vec<serde_json::Value> = (0..100)
        .map(|i| {
            let mut r = one.clone();
            r["SessionId"] = format!("s-{i}").into();
            r
        })
        .collect();
    let body =
        serde_json::to_vec(&serde_json::json!({"Response": {"TotalCount": 100, "TelCdrList": list, "RequestId": "x"}}))
            .unwrap_or_default();
    let n = 300;
    let t = Instant::now();
    let mut pages = Vec::new();
    for _ in 0..n {
        let env: Envelope<ListResponse> =
            serde_json::from_slice(&body).unwrap_or(Envelope { response: ListResponse::default() });
        pages.push(env.response.tel_cdr_list.unwrap_or_default());
    }
    let parse = t.elapsed().as_secs_f64() / (n as f64 * 100.0);
    let t = Instant::now();
    let mut count = 0;
    for page in pages {
        for raw in page {
            if huadan_tencent_ccc::normalize::normalize_raw("s", Some("1"), raw).is_ok() {
                count += 1;
            }
        }
    }
    let norm = t.elapsed().as_secs_f64() / count.max(1) as f64;
    println!(
        "{} bytes/record: parse {:.1} µs/record, normalise {:.1} µs/record",
        body.len() / 100,
        parse * 1e6,
        norm * 1e6
    );
}
