//! Benchmark (run by hand, release): sync one busy day from the fake through the client,
//! bisecting as the engine does, and report records per second and requests.
//!
//! `cargo run --release -p huadan-aliyun-ccc --example sync_day -- [CALLS_PER_DAY] [acs3|v1]`

use huadan_aliyun_ccc::{AliyunCcc, sandbox};
use huadan_config::Config;
use huadan_fakekit::{Clock, Dataset, DatasetSpec, FakeContext};
use huadan_model::Provider;
use huadan_vendor::{Vendor, Window};
use std::collections::BTreeSet;
use std::time::Instant as StdInstant;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let calls_per_day: u32 = args.next().map(|a| a.parse()).transpose()?.unwrap_or(50_000);
    let scheme = args.next().unwrap_or_else(|| "acs3".into());
    let spec = DatasetSpec { seed: 11, days: 3, calls_per_day, late: 0.0, update: 0.0 };
    let dataset = Dataset::new(spec, Clock::fixed("2024-06-13T04:00:00Z".parse()?));
    let mut ctx = FakeContext::new(dataset);
    ctx.limits = false;
    let fake = huadan_aliyun_ccc::fake(ctx.clone());
    let ak = fake.credentials["access_key_id"].as_str().unwrap_or_default().to_string();
    let sk = fake.credentials["access_key_secret"].as_str().unwrap_or_default().to_string();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        let _ = axum::serve(listener, fake.router).await;
    });
    let toml = format!(
        "[[sources]]\nname = \"bench\"\nkind = \"aliyun_ccc\"\nendpoint = \"http://{addr}\"\naccess_key_id = \"{ak}\"\naccess_key_secret = \"{sk}\"\ninstance_id = \"{}\"\nsignature_version = \"{scheme}\"\n",
        sandbox::INSTANCE_ID
    );
    let source = Config::from_toml_str(&toml, &|_| None)?.sources.remove(0);
    let v = AliyunCcc::from_source(&source)?;
    let day = Window::new("2024-06-11T16:00:00Z".parse()?, "2024-06-12T16:00:00Z".parse()?);
    let expected = ctx.dataset.count_between(Provider::AliyunCcc, day.start, day.end);

    let started = StdInstant::now();
    let max = v.limits().max_records_per_query.unwrap_or(u64::MAX);
    let (mut stack, mut ids, mut fetched, mut requests) = (vec![day], BTreeSet::new(), 0u64, 0u64);
    while let Some(w) = stack.pop() {
        let mut page = v.fetch(&w, None).await?;
        requests += 1;
        if page.total.is_some_and(|t| t > max)
            && let Some((a, b)) = w.bisect(v.limits().min_span)
        {
            stack.extend([b, a]);
            continue;
        }
        loop {
            fetched += page.records.len() as u64;
            ids.extend(page.records.into_iter().map(|r| r.provider_call_id));
            let Some(c) = page.next else { break };
            page = v.fetch(&w, Some(&c)).await?;
            requests += 1;
        }
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{scheme}: {} unique of {expected} expected, {fetched} fetched, {requests} requests in {secs:.2} s: {:.0} records/s, {:.1} ms/request",
        ids.len(),
        fetched as f64 / secs,
        secs * 1000.0 / requests as f64
    );
    if ids.len() as u64 != expected {
        return Err(format!("lost {} records", expected - ids.len() as u64).into());
    }
    Ok(())
}
