//! How fast the fake serves (and the client reads) records with limits off.
//!
//! `cargo run --release -p huadan-tencent-ccc --example fake_throughput [RECORDS] [IN_FLIGHT] [raw]`
//!
//! With `raw`, pages are requested with hand-signed requests and only read as bytes:
//! the fake's own cost, without the client's parsing and normalising.
//!
//! Serves the fake on 127.0.0.1:0 with a fixed clock, splits one range holding about
//! RECORDS calls into IN_FLIGHT windows fetched concurrently through the `Vendor`
//! trait, and prints records/second.

use huadan_config::Config;
use huadan_fakekit::{Clock, Dataset, DatasetSpec, FakeContext};
use huadan_vendor::{Vendor, Window};
use jiff::SignedDuration;
use std::sync::Arc;

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let want: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let in_flight: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(4);
    let raw_mode = args.next().as_deref() == Some("raw");
    let now: jiff::Timestamp = "2024-06-15T09:00:00Z".parse().unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    let clock = Clock::fixed(now);
    let days = 10u32;
    let spec = DatasetSpec { seed: 1, days, calls_per_day: (want / days as u64) as u32 + 1, late: 0.0, update: 0.0 };
    let mut ctx = FakeContext::new(Dataset::new(spec, clock.clone()));
    ctx.limits = false;
    let fake = huadan_tencent_ccc::fake(ctx.clone());
    let listener = match tokio::net::TcpListener::bind("127.0.0.1:0").await {
        Ok(l) => l,
        Err(e) => return eprintln!("bind: {e}"),
    };
    let addr = listener.local_addr().map(|a| a.to_string()).unwrap_or_default();
    tokio::spawn(async move {
        let _ = axum::serve(listener, fake.router).await;
    });
    let c = &fake.credentials;
    let text = format!(
        "[[sources]]\nname = \"bench\"\nkind = \"tencent_ccc\"\nendpoint = \"http://{addr}\"\nsecret_id = \"{}\"\nsecret_key = \"{}\"\nsdk_app_id = {}\n",
        c["secret_id"].as_str().unwrap_or_default(),
        c["secret_key"].as_str().unwrap_or_default(),
        c["sdk_app_id"]
    );
    let Ok(mut cfg) = Config::from_toml_str(&text, &|_| None) else { return eprintln!("config") };
    let src = cfg.sources.remove(0);
    let Ok(client) = huadan_tencent_ccc::TencentCcc::from_source(&src) else { return eprintln!("client") };
    let client = Arc::new(client.with_clock(move || clock.now().as_second()));
    let range = Window::new(ctx.dataset.origin(), now);
    let total = ctx.dataset.count_between(huadan_tencent_ccc::PROVIDER, range.start, range.end);
    let step = SignedDuration::from_secs(range.span().as_secs() / in_flight as i64 + 1);
    let windows = range.split_by(step);
    let started = std::time::Instant::now();
    let mut tasks = Vec::new();
    for w in windows {
        let client = client.clone();
        let expected = ctx.dataset.count_between(huadan_tencent_ccc::PROVIDER, w.start, w.end);
        let (url, host) = (format!("http://{addr}"), addr.clone());
        let (id, key) = (
            c["secret_id"].as_str().unwrap_or_default().to_string(),
            c["secret_key"].as_str().unwrap_or_default().to_string(),
        );
        let app = c["sdk_app_id"].as_i64().unwrap_or_default();
        let clock = ctx.dataset.clock().clone();
        tasks.push(tokio::spawn(async move {
            if raw_mode {
                let http = reqwest::Client::new();
                let mut bytes = 0usize;
                for page in 0..expected.div_ceil(100) {
                    let body = format!(
                        r#"{{"SdkAppId":{app},"StartTimeStamp":{},"EndTimeStamp":{},"PageSize":100,"PageNumber":{page}}}"#,
                        w.start.as_second(),
                        w.end.as_second() - 1
                    );
                    let ts = clock.now().as_second();
                    let authz = huadan_tencent_ccc::auth::authorization(
                        &id,
                        &key,
                        "ccc",
                        ts,
                        &[("content-type", "application/json"), ("host", &host)],
                        body.as_bytes(),
                    );
                    let resp = http
                        .post(&url)
                        .header("Content-Type", "application/json")
                        .header("X-TC-Action", "DescribeTelCdr")
                        .header("X-TC-Version", "2020-02-10")
                        .header("X-TC-Timestamp", ts.to_string())
                        .header("Authorization", authz)
                        .body(body)
                        .send()
                        .await;
                    if let Ok(r) = resp {
                        bytes += r.bytes().await.map(|b| b.len()).unwrap_or(0);
                    }
                }
                eprintln!("window {w}: {expected} records, {bytes} bytes");
                return expected;
            }
            let mut n = 0u64;
            let mut cursor = None;
            loop {
                match client.fetch(&w, cursor.as_ref()).await {
                    Ok(p) => {
                        n += p.records.len() as u64;
                        match p.next {
                            Some(c) => cursor = Some(c),
                            None => return n,
                        }
                    }
                    Err(e) => {
                        eprintln!("fetch failed: {e}");
                        return n;
                    }
                }
            }
        }));
    }
    let mut got = 0;
    for t in tasks {
        got += t.await.unwrap_or(0);
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "dataset {total} records; fetched+normalised {got} in {secs:.2} s with {in_flight} in flight = {:.0} records/s ({} requests)",
        got as f64 / secs,
        ctx.counters.get("requests")
    );
}
