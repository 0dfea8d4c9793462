//! The driver shared by the vendor crates' `*_parse_cost` examples: time decoding and
//! normalising a 100-record page two ways (each record as a `serde_json::Value` tree,
//! or as its JSON text) and print µs per record for both.
//!
//! Arguments of such an example: `[PAGES] [pretty]` (default 300 pages, compact JSON).

use std::time::Instant;

/// Records in the page each example builds.
pub const RECORDS_PER_PAGE: usize = 100;

/// µs per record over `pages` decodes of `page`, the best of three runs.
fn per_record<P>(pages: usize, page: &P, decode: fn(&P) -> usize) -> f64 {
    (0..3)
        .map(|_| {
            let t = Instant::now();
            let n: usize = (0..pages).map(|_| decode(page)).sum();
            t.elapsed().as_secs_f64() * 1e6 / n.max(1) as f64
        })
        .fold(f64::INFINITY, f64::min)
}

/// Read the arguments, build the page with `build(pretty)`, check both decoders read
/// all [`RECORDS_PER_PAGE`] records, time them and print one line for `vendor`.
pub fn compare<P>(
    vendor: &str,
    build: fn(bool) -> P,
    bytes: fn(&P) -> usize,
    value_page: fn(&P) -> usize,
    text_page: fn(&P) -> usize,
) {
    let pages: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(300);
    let pretty = std::env::args().nth(2).as_deref() == Some("pretty");
    let page = build(pretty);
    assert_eq!(value_page(&page), RECORDS_PER_PAGE, "the value-tree decoder lost records");
    assert_eq!(text_page(&page), RECORDS_PER_PAGE, "the raw-text decoder lost records");
    let value = per_record(pages, &page, value_page);
    let text = per_record(pages, &page, text_page);
    println!(
        "{vendor}: {} bytes/record{}: value tree {value:.2} µs/record, raw text {text:.2} µs/record (decode + normalise)",
        bytes(&page) / RECORDS_PER_PAGE,
        if pretty { " (pretty)" } else { "" }
    );
}
