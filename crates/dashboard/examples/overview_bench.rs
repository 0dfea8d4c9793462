//! Overview benchmark: `cargo run --release -p huadan-dashboard --example overview_bench [-- RECORDS [DB_PATH]]`.
//!
//! Fills a SQLite store with RECORDS calls (default 1,000,000; five providers, ten
//! agents, spread over the 30 days ending today in Asia/Shanghai) unless DB_PATH already
//! holds them, then times the dashboard's overview over the whole default period (every
//! record) as the `/ui/overview` handler computes it: five `by day` passes, one `by hour`
//! pass per day, one count. Prints the record count and the min / median / max of 7 runs.

use huadan_dashboard::overview;
use huadan_model::{Agent, CallRecord, Direction, Disposition, Instant, Provider};
use huadan_store::{Batch, CallFilter, SyncState};
use std::time::Instant as Clock;

const SOURCES: [(&str, Provider); 5] = [
    ("wecom-hq", Provider::Wecom),
    ("ccc-sh", Provider::TencentCcc),
    ("ali-bj", Provider::AliyunCcc),
    ("ads-leads", Provider::TencentAds),
    ("tanma-sales", Provider::Tanma),
];

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let records: u64 = args.next().map(|a| a.parse()).transpose()?.unwrap_or(1_000_000);
    let path = args.next().unwrap_or_else(|| "/tmp/huadan-overview-bench.db".into());
    let tz = huadan_model::time::timezone("Asia/Shanghai")?;
    let store = huadan_store::open(&format!("sqlite://{path}")).await?;

    let today = Instant::now().to_zoned(tz.clone()).date();
    let end = today.tomorrow()?.to_zoned(tz.clone())?.timestamp();
    let start = today.checked_sub(jiff::Span::new().days(29))?.to_zoned(tz.clone())?.timestamp();
    let filter = CallFilter { since: Some(start), until: Some(end), ..CallFilter::default() };

    let have = store.count(&filter).await?;
    if have < records {
        let t = Clock::now();
        let mut rng = Rng(0x1234_5678_9abc_def1);
        let span = (Instant::now().as_second() - 60 - start.as_second()).max(1) as u64;
        let mut batch: Vec<Vec<CallRecord>> = vec![Vec::new(); 5];
        for n in have..records {
            let s = rng.below(5) as usize;
            let (source, provider) = SOURCES[s];
            let at = Instant::from_second(start.as_second() + rng.below(span) as i64)?;
            let mut r = CallRecord::new(source, provider, &format!("b{n:09}"), at);
            r.direction = if rng.below(10) < 6 { Direction::Inbound } else { Direction::Outbound };
            r.disposition = if rng.below(4) == 0 { Disposition::NoAnswer } else { Disposition::Answered };
            r.talk_seconds = Some(if r.disposition.is_answered() { 10 + rng.below(400) as i64 } else { 0 });
            r.caller.number = Some(format!("138{:08}", rng.below(100_000_000)));
            r.callee.number = Some(format!("021{:08}", rng.below(100_000_000)));
            let a = rng.below(10);
            r.agent =
                Some(Agent { id: Some(format!("10{a:02}")), name: Some(format!("坐席{a}")), ..Agent::default() });
            batch[s].push(r);
            if batch[s].len() == 1000 {
                let records = std::mem::take(&mut batch[s]);
                store.commit(Batch { source: source.into(), records, state: None }).await?;
            }
        }
        for (s, records) in batch.into_iter().enumerate() {
            let state = SyncState { source: SOURCES[s].0.into(), ..SyncState::default() };
            store.commit(Batch { source: SOURCES[s].0.into(), records, state: Some(state) }).await?;
        }
        println!("wrote {} records in {:.1} s", records - have, t.elapsed().as_secs_f64());
    }
    let total = store.count(&filter).await?;
    let mut times = Vec::new();
    let mut calls = 0;
    for _ in 0..7 {
        let t = Clock::now();
        let o = overview(store.as_ref(), &filter, &tz).await?;
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        calls = o.calls;
    }
    times.sort_by(|a, b| a.total_cmp(b));
    println!(
        "overview over {total} records ({calls} in the period, 30 days): min {:.0} ms, median {:.0} ms, max {:.0} ms",
        times[0], times[3], times[6]
    );
    Ok(())
}
