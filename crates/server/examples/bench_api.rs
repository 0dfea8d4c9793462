//! Benchmarks of the query surface (README → Benchmarks). Release build:
//!
//! ```text
//! cargo run --release -p huadan-server --example bench_api -- seed   /tmp/bench.db 1000000
//! cargo run --release -p huadan-server --example bench_api -- serve  /tmp/bench.db 127.0.0.1:18080
//! wrk -t2 -c32 -d30s --latency -H 'Authorization: Bearer bench-token' \
//!     'http://127.0.0.1:18080/v1/calls?limit=50&source=bench-tencent_ccc'
//! cargo run --release -p huadan-server --example bench_api -- export /tmp/bench.db /tmp/bench.csv
//! cargo run --release -p huadan-server --example bench_api -- stats  /tmp/bench.db
//! ```
//!
//! `seed` writes N synthetic records (five sources, one per vendor kind, 200 agents, 30
//! days, realistic `raw` payloads, a transcript on every tenth call); `serve` serves
//! them with the admin token `bench-token`; `export` and `stats` time one CSV export /
//! one `stats?by=agent` through the HTTP routes' own code paths and print the process's
//! peak RSS.

use huadan_config::Config;
use huadan_model::{
    Agent, CallRecord, Direction, Disposition, Instant, Provider, Sentence, Transcript, TranscriptStatus,
};
use huadan_store::{Batch, CallFilter, DynStore, GroupBy};
use std::time::{Duration, Instant as Clock};

const TOKEN: &str = "bench-token";

fn usage() -> ! {
    eprintln!("usage: bench_api seed DB N | serve DB ADDR | export DB OUT.csv | stats DB");
    std::process::exit(2)
}

fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|kb| kb.parse::<f64>().ok()))
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// Peak anonymous (heap) RSS, sampled every 20 ms by a thread: VmHWM also counts the
/// database pages SQLite maps into memory (`mmap_size`), which are file cache.
fn sample_anon_rss() -> std::sync::Arc<std::sync::atomic::AtomicU64> {
    let peak = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let p = peak.clone();
    std::thread::spawn(move || {
        loop {
            let kb = std::fs::read_to_string("/proc/self/status").ok().and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with("RssAnon:"))
                    .and_then(|l| l.split_whitespace().nth(1).and_then(|kb| kb.parse::<u64>().ok()))
            });
            if let Some(kb) = kb {
                p.fetch_max(kb, std::sync::atomic::Ordering::Relaxed);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    });
    peak
}

fn record(i: u64) -> CallRecord {
    let provider = Provider::ALL[(i % 5) as usize];
    let source = format!("bench-{}", provider.as_str());
    // 30 days of calls, newest last.
    let started =
        Instant::from_second(1_709_251_200 + (i as i64 * 2_592_000) / 1_000_000).unwrap_or(Instant::UNIX_EPOCH);
    let mut r = CallRecord::new(&source, provider, &format!("b{i:09}"), started);
    r.account = Some("1400000000".into());
    r.direction = Direction::ALL[(i % 3) as usize];
    r.disposition = match i % 10 {
        0 | 1 => Disposition::NoAnswer,
        2 => Disposition::Busy,
        3 => Disposition::Abandoned,
        _ => Disposition::Answered,
    };
    r.disposition_detail = format!("status-{}", i % 10);
    r.talk_seconds = Some(if r.disposition == Disposition::Answered { ((i * 7919) % 900) as i64 } else { 0 });
    r.ring_seconds = Some((i % 30) as i64);
    r.ended_at = Some(started + Duration::from_secs(r.talk_seconds.unwrap_or(0) as u64 + 30));
    r.total_seconds = Some(r.talk_seconds.unwrap_or(0) + 30);
    r.caller.number = Some(format!("13{:09}", (i * 7_654_321) % 1_000_000_000));
    r.callee.number = Some(format!("021{:08}", i % 100_000_000));
    let a = i % 200;
    r.agent = Some(Agent {
        id: Some(format!("agent-{a:03}")),
        name: Some(format!("坐席{a:03}")),
        phone: Some(format!("139{a:08}")),
        skill_groups: vec!["售后".into()],
        ..Agent::default()
    });
    r.channel = Some("pstn".into());
    if i.is_multiple_of(10) {
        r.transcript = Some(Transcript {
            status: TranscriptStatus::Done,
            sentences: ["您好，这里是客服中心", "我想查询一下订单的物流", "好的，请稍等"]
                .iter()
                .enumerate()
                .map(|(k, t)| Sentence {
                    begin_ms: k as i64 * 3000,
                    end_ms: k as i64 * 3000 + 2500,
                    channel: Some((k % 2).to_string()),
                    text: t.to_string(),
                })
                .collect(),
        });
    }
    r.raw = serde_json::json!({
        "SessionId": format!("b{i:09}"), "Caller": r.caller.number, "Callee": r.callee.number,
        "Time": started.as_second(), "Direction": i % 2, "Duration": r.talk_seconds,
        "RecordURL": format!("https://example.invalid/rec/{i}.mp3"), "SeatUser": {"Mail": "a@example.invalid",
        "StaffNumber": format!("{a:04}"), "Nick": format!("坐席{a:03}")}, "EndStatusString": "ok",
        "StartTimestamp": started.as_second(), "QueuedTimestamp": started.as_second(), "AcceptTimestamp": started.as_second() + 5,
        "EndedTimestamp": started.as_second() + 60, "IVRKeyPressed": ["1", "3"], "ProtectedCaller": "",
    })
    .into();
    r
}

async fn open(db: &str) -> DynStore {
    match huadan_store::open(&format!("sqlite://{db}")).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("cannot open {db}: {e}");
            std::process::exit(1)
        }
    }
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(cmd), Some(db)) = (args.first(), args.get(1)) else { usage() };
    let store = open(db).await;
    match cmd.as_str() {
        "seed" => {
            let n: u64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or_else(|| usage());
            let t = Clock::now();
            let batch = 5000u64;
            let mut i = 0;
            while i < n {
                // One commit per source per chunk, as the sync writer would.
                let end = (i + batch * 5).min(n);
                for k in 0..5u64 {
                    let records: Vec<_> = (i..end).filter(|j| j % 5 == k).map(record).collect();
                    if records.is_empty() {
                        continue;
                    }
                    let source = records[0].source.clone();
                    if let Err(e) = store.commit(Batch { source, records, state: None }).await {
                        eprintln!("commit failed: {e}");
                        std::process::exit(1);
                    }
                }
                i = end;
                if i.is_multiple_of(100_000) || i == n {
                    eprintln!("{i} records, {:.1}s", t.elapsed().as_secs_f64());
                }
            }
            println!("seeded {n} records in {:.1}s", t.elapsed().as_secs_f64());
        }
        "serve" => {
            let addr = args.get(2).map_or("127.0.0.1:18080", String::as_str);
            let cfg = Config::from_toml_str(&format!("[server]\napi_tokens = [\"{TOKEN}\"]\n"), &|_| None)
                .unwrap_or_else(|e| panic!("bench config: {e}"));
            let listener = tokio::net::TcpListener::bind(addr).await.unwrap_or_else(|e| panic!("bind {addr}: {e}"));
            eprintln!("serving {db} on http://{addr} (token {TOKEN}); Ctrl-C to stop");
            let res = huadan_server::serve(&cfg, store, listener, async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await;
            eprintln!("stopped: {res:?}; peak RSS {:.1} MB", peak_rss_mb());
        }
        "export" => {
            let out = args.get(2).map_or("/tmp/bench.csv", String::as_str);
            let anon = sample_anon_rss();
            let t = Clock::now();
            let opts = huadan_server::export::ExportOptions::default();
            match huadan_server::export::export_to_path(&store, CallFilter::default(), &opts, out.as_ref()).await {
                Ok(n) => println!(
                    "csv export: {n} records in {:.2}s, peak RSS {:.1} MB (VmHWM, incl. SQLite mmap), peak anonymous RSS {:.1} MB",
                    t.elapsed().as_secs_f64(),
                    peak_rss_mb(),
                    anon.load(std::sync::atomic::Ordering::Relaxed) as f64 / 1024.0
                ),
                Err(e) => {
                    eprintln!("export failed: {e}");
                    std::process::exit(1)
                }
            }
        }
        "stats" => {
            let tz = huadan_model::time::timezone("Asia/Shanghai").unwrap_or(jiff::tz::TimeZone::UTC);
            for by in [GroupBy::Agent, GroupBy::Provider, GroupBy::Day] {
                let t = Clock::now();
                match store.stats(&CallFilter::default(), by, &tz).await {
                    Ok(rows) => println!("stats by {by:?}: {} groups in {:.3}s", rows.len(), t.elapsed().as_secs_f64()),
                    Err(e) => eprintln!("stats failed: {e}"),
                }
            }
        }
        "page" => {
            // Where a `/v1/calls?limit=50&source=…` request spends its time, serially.
            let q = huadan_store::CallQuery {
                filter: CallFilter { sources: vec!["bench-tencent_ccc".into()], ..CallFilter::default() },
                limit: 50,
                cursor: None,
            };
            let n = 500;
            let t = Clock::now();
            let mut bytes = 0;
            let mut ser = Duration::ZERO;
            for _ in 0..n {
                let page = store.calls(&q).await.unwrap_or_else(|e| panic!("{e}"));
                let s = Clock::now();
                bytes += serde_json::to_vec(&page).map_or(0, |v| v.len());
                ser += s.elapsed();
            }
            let total = t.elapsed();
            println!(
                "decoded (viewer path): {n} pages: {:.3} ms/page total, of which JSON encoding {:.3} ms; {} bytes/page",
                total.as_secs_f64() * 1000.0 / n as f64,
                ser.as_secs_f64() * 1000.0 / n as f64,
                bytes / n
            );
            let t = Clock::now();
            let mut bytes = 0;
            for _ in 0..n {
                let page = store.calls_json(&q).await.unwrap_or_else(|e| panic!("{e}"));
                bytes += page.to_json().len();
            }
            println!(
                "passed through (admin path): {n} pages: {:.3} ms/page; {} bytes/page",
                t.elapsed().as_secs_f64() * 1000.0 / n as f64,
                bytes / n
            );
        }
        _ => usage(),
    }
}
