//! Measure the client against the sandbox fake, in-process on 127.0.0.1:
//! `cargo run --release -p huadan-tencent-ads --example ads_sync -- [DAYS] [CALLS_PER_DAY] [PAGE_SIZE]`
//!
//! Prints records, requests, wall time, requests/record, and how many records a naive
//! strict-`>` `search_after` client loses on the same data.

use huadan_config::Secret;
use huadan_fakekit::{Clock, Dataset, DatasetSpec, FakeContext};
use huadan_model::Provider;
use huadan_model::time::{format_gmt8, gmt8_date};
use huadan_tencent_ads::client::{Client, documented_limits};
use huadan_vendor::{Cursor, Vendor, Window};
use jiff::SignedDuration;
use std::collections::HashSet;
use std::time::{Duration, Instant as StdInstant};

#[tokio::main]
async fn main() {
    let args: Vec<u64> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let days = args.first().copied().unwrap_or(30) as u32;
    let per_day = args.get(1).copied().unwrap_or(200) as u32;
    let page_size = args.get(2).copied().unwrap_or(100) as u32;
    let now: huadan_model::Instant = "2024-06-14T06:00:00Z".parse().expect("instant");
    let spec = DatasetSpec { seed: 42, days: days + 1, calls_per_day: per_day, late: 0.0, update: 0.0 };
    let mut ctx = FakeContext::new(Dataset::new(spec, Clock::fixed(now)));
    ctx.limits = false;
    let fake = huadan_tencent_ads::fake(ctx.clone());
    let token = fake.credentials["access_token"].as_str().unwrap_or_default().to_string();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let endpoint = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move {
        let _ = axum::serve(listener, fake.router).await;
    });
    let url: url::Url = endpoint.parse().expect("url");
    let http = huadan_vendor::http::Http::new(Duration::from_secs(30));
    let client = Client::new("ads", &url, Secret::new(token.clone()), 2_045_867, http, documented_limits())
        .with_page_size(page_size);
    let range = Window::new(now - SignedDuration::from_hours(24 * days as i64), now);
    let expected = ctx.dataset.count_between(Provider::TencentAds, range.start, range.end);

    let t0 = StdInstant::now();
    let mut requests = 0u64;
    let mut ids = HashSet::new();
    let mut dups = 0u64;
    for w in client.plan(range, now).expect("plan") {
        let mut cursor: Option<Cursor> = None;
        loop {
            requests += 1;
            let page = client.fetch(&w, cursor.as_ref()).await.expect("fetch");
            for r in page.records {
                if !ids.insert(r.provider_call_id) {
                    dups += 1;
                }
            }
            match page.next {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
    }
    let elapsed = t0.elapsed();

    // The naive strict-> client over the same windows.
    let http = reqwest::Client::new();
    let mut naive = HashSet::new();
    for w in client.plan(range, now).expect("plan") {
        let (a, b) = huadan_tencent_ads::client::window_dates(&w);
        let mut after: Option<String> = Some(format_gmt8(w.start - SignedDuration::from_secs(1)));
        loop {
            let mut q = vec![
                ("account_id", "2045867".to_string()),
                ("page_size", page_size.to_string()),
                ("page", "1".to_string()),
                ("start_date", a.to_string()),
                ("end_date", b.to_string()),
            ];
            if let Some(x) = &after {
                q.push(("search_after", x.clone()));
            }
            let nonce = huadan_tencent_ads::auth::new_nonce();
            let v: serde_json::Value = http
                .get(format!("{endpoint}/v3.0/leads_call_records/get"))
                .query(&huadan_tencent_ads::auth::auth_query(&token, jiff::Timestamp::now().as_second(), &nonce))
                .query(&q)
                .send()
                .await
                .expect("send")
                .json()
                .await
                .expect("json");
            let es = v["data"]["entities"].as_array().cloned().unwrap_or_default();
            let mut last = None;
            for e in &es {
                let at = huadan_model::time::parse_gmt8(e["call_start_time"].as_str().unwrap_or_default()).expect("t");
                if w.contains(at) {
                    naive.insert(e["call_id"].as_str().unwrap_or_default().to_string());
                }
                last = Some(at);
            }
            match last {
                Some(l) if es.len() as u32 == page_size && l < w.end => after = Some(format_gmt8(l)),
                _ => break,
            }
        }
    }
    let _ = gmt8_date(now);
    println!(
        "days={days} calls_per_day={per_day} page_size={page_size} expected={expected} got={} dups={dups} \
         requests={requests} elapsed={:.3}s records/s={:.0} naive_strict_got={} naive_lost={}",
        ids.len(),
        elapsed.as_secs_f64(),
        ids.len() as f64 / elapsed.as_secs_f64(),
        naive.len(),
        expected as usize - naive.len().min(expected as usize),
    );
    println!(
        "at the declared quota ({} req/min, engine pace 98.5%): {:.1} s of requests",
        huadan_tencent_ads::client::REQUESTS_PER_MINUTE,
        requests as f64 / (huadan_tencent_ads::client::REQUESTS_PER_MINUTE as f64 * 0.985 / 60.0)
    );
}
