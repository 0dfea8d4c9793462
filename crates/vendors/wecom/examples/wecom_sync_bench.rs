//! Benchmark (run by hand, release): the WeCom client syncing a 30-day backfill from the
//! fake on 127.0.0.1, sequentially, with limits off — how many records and requests a
//! second the client + fake pair manages, and how many tokens it took.
//!
//! `cargo run --release -p huadan-wecom --example wecom_sync_bench -- [calls_per_day] [days]`

use huadan_fakekit::{Clock, Dataset, DatasetSpec, FakeContext};
use huadan_vendor::{Cursor, Window};
use jiff::SignedDuration;
use std::time::Instant as Wall;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let calls_per_day: u32 = args.next().map(|a| a.parse()).transpose()?.unwrap_or(20_000);
    let days: i64 = args.next().map(|a| a.parse()).transpose()?.unwrap_or(30);
    let clock = Clock::fixed("2024-06-15T04:00:00Z".parse()?);
    let spec = DatasetSpec { seed: 7, days: days as u32 + 1, calls_per_day, late: 0.0, update: 0.0 };
    let dataset = Dataset::new(spec, clock.clone());
    let mut ctx = FakeContext::new(dataset.clone());
    ctx.limits = false;
    let counters = ctx.counters.clone();
    let fake = huadan_wecom::fake(ctx);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move {
        let _ = axum::serve(listener, fake.router).await;
    });
    let toml = format!(
        "[[sources]]\nname = \"bench\"\nkind = \"wecom\"\nendpoint = \"{url}\"\ncorp_id = \"{}\"\ncorp_secret = \"{}\"\n",
        fake.credentials["corp_id"].as_str().unwrap_or_default(),
        fake.credentials["corp_secret"].as_str().unwrap_or_default()
    );
    let cfg = huadan_config::Config::from_toml_str(&toml, &|_| None)?;
    let client = huadan_wecom::build(&cfg.sources[0])?;
    let now = clock.now();
    let range = Window::new(now - SignedDuration::from_hours(24 * days), now);
    let expected = dataset.count_between(huadan_wecom::PROVIDER, range.start, range.end);

    let t = Wall::now();
    let (mut records, mut requests) = (0u64, 0u64);
    for w in client.plan(range, now)? {
        let mut cursor: Option<Cursor> = None;
        loop {
            let page = client.fetch(&w, cursor.as_ref()).await?;
            requests += 1;
            records += page.records.len() as u64;
            match page.next {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
    }
    let secs = t.elapsed().as_secs_f64();
    println!(
        "wecom sync bench: {days} days x {calls_per_day} calls/day: {records} records (expected {expected}) in {requests} requests, {secs:.2} s => {:.0} records/s, {:.0} requests/s, tokens issued {}",
        records as f64 / secs,
        requests as f64 / secs,
        counters.get("tokens_issued")
    );
    Ok(())
}
