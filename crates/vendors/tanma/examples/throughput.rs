//! Sync throughput of the Tanma client against its own fake (no quota), on loopback.
//!
//! `cargo run --release -p huadan-tanma --example throughput [DAYS] [CALLS_PER_DAY]`
//!
//! Prints records, requests, wall time, records/s and mean request latency, and checks
//! the record count against the dataset.

use huadan_config::Secret;
use huadan_fakekit::{Clock, Dataset, DatasetSpec, FakeContext};
use huadan_model::Provider;
use huadan_tanma::TanmaClient;
use huadan_tanma::client::documented_limits;
use huadan_tanma::sandbox::Credentials;
use huadan_vendor::http::Http;
use huadan_vendor::{Cursor, Vendor, Window};
use std::collections::HashSet;
use std::time::{Duration, Instant as WallInstant};

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let days: u32 = args.next().and_then(|a| a.parse().ok()).unwrap_or(30);
    let per_day: u32 = args.next().and_then(|a| a.parse().ok()).unwrap_or(2000);
    let now: huadan_model::Instant = "2025-03-25T06:00:00Z".parse().expect("instant");
    let spec = DatasetSpec { seed: 1, days, calls_per_day: per_day, late: 0.0, update: 0.0 };
    let mut ctx = FakeContext::new(Dataset::new(spec, Clock::fixed(now)));
    ctx.limits = false;
    let dataset = ctx.dataset.clone();
    let fake = huadan_tanma::fake(ctx);
    let creds = Credentials::for_seed(1);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, fake.router).await;
    });
    let client = TanmaClient::new(
        "bench",
        &format!("http://{addr}"),
        &creds.app_id,
        Secret::new(creds.app_key.clone()),
        Secret::new(creds.app_secret.clone()),
        Http::new(Duration::from_secs(30)),
        documented_limits(),
    );
    let range = Window::new(dataset.origin(), now);
    let expected = dataset.count_between(Provider::Tanma, range.start, range.end);
    let started = WallInstant::now();
    let (mut records, mut requests) = (0u64, 0u64);
    let mut ids = HashSet::new();
    let mut latency = Duration::ZERO;
    for w in client.plan(range, now).expect("plan") {
        let mut cursor: Option<Cursor> = None;
        loop {
            let t = WallInstant::now();
            let page = client.fetch(&w, cursor.as_ref()).await.expect("fetch");
            latency += t.elapsed();
            requests += 1;
            records += page.records.len() as u64;
            ids.extend(page.records.into_iter().map(|r| r.provider_call_id));
            match page.next {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
    }
    let wall = started.elapsed();
    println!(
        "days={days} calls_per_day={per_day} records={records} distinct={} expected={expected} requests={requests} wall={:.2}s records_per_s={:.0} mean_request_ms={:.2}",
        ids.len(),
        wall.as_secs_f64(),
        records as f64 / wall.as_secs_f64(),
        latency.as_secs_f64() * 1000.0 / requests as f64
    );
    assert_eq!(ids.len() as u64, expected, "every record exactly once");
    assert_eq!(records, expected);
}
