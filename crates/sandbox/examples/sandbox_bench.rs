//! Sandbox benchmark: how fast the fakes serve, on ONE core, and that memory stays flat
//! however many records are served.
//!
//! The sandbox runs on its own thread with a single-threaded runtime (one core); the
//! clients (our own vendor clients, through the registry, limits off) run on the other.
//! Prints one line per figure:
//!
//! ```sh
//! cargo run --release -p huadan-sandbox --example sandbox_bench            # pages/s across vendors
//! cargo run --release -p huadan-sandbox --example sandbox_bench -- 10000000 # + 10M records, flat RSS
//! ```

use huadan_config::Config;
use huadan_fakekit::{Clock, DatasetSpec};
use huadan_model::Provider;
use huadan_sandbox::{Sandbox, SandboxOptions};
use huadan_vendor::{Cursor, DynVendor, Window};
use std::sync::mpsc;
use std::time::{Duration, Instant};

fn main() {
    let big: Option<u64> = std::env::args().nth(1).and_then(|a| a.parse().ok());
    pages_per_second_across_vendors();
    if let Some(n) = big {
        ten_million_flat(n);
    }
}

/// Start a sandbox on a dedicated single-threaded runtime; returns its config text and
/// a handle that stops it and reports the sandbox thread's CPU seconds.
fn spawn_sandbox(spec: DatasetSpec) -> (String, mpsc::Sender<()>, mpsc::Receiver<f64>) {
    let (info_tx, info_rx) = mpsc::channel();
    let (stop_tx, stop_rx) = mpsc::channel::<()>();
    let (cpu_tx, cpu_rx) = mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        rt.block_on(async move {
            let opts = SandboxOptions { spec, limits: false, clock: Clock::real(), ..SandboxOptions::default() };
            let sandbox = Sandbox::start(opts).await.expect("sandbox");
            info_tx.send(sandbox.config_toml("sqlite://unused.db")).expect("send");
            let cpu0 = thread_cpu_seconds();
            // Poll for the stop signal without blocking the runtime.
            loop {
                if stop_rx.try_recv().is_ok() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            let _ = cpu_tx.send(thread_cpu_seconds() - cpu0);
            sandbox.shutdown().await;
        });
    });
    let cfg = info_rx.recv().expect("sandbox config");
    (cfg, stop_tx, cpu_rx)
}

/// utime + stime of the calling thread, in seconds (Linux /proc).
fn thread_cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/thread-self/stat") else { return 0.0 };
    let after = stat.rsplit(')').next().unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks: f64 = f.get(11).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0)
        + f.get(12).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    ticks / 100.0
}

fn rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmRSS:")).map(|l| l.to_string()))
        .and_then(|l| l.split_whitespace().nth(1).and_then(|k| k.parse::<f64>().ok()))
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0)
}

fn vendors(cfg: &str) -> Vec<DynVendor> {
    let config = Config::from_toml_str(cfg, &|_| None).expect("config");
    config.sources.iter().map(|s| huadan_vendors::build(s).expect("client")).collect()
}

/// Page through `window` of one vendor, bisecting over the vendor's per-query cap;
/// returns (pages, records).
async fn drain(v: &DynVendor, window: Window, max_pages: u64) -> (u64, u64) {
    let mut pages = 0;
    let mut records = 0;
    let mut todo = v.plan(window, huadan_model::Instant::now()).expect("plan");
    while let Some(w) = todo.pop() {
        let mut cursor: Option<Cursor> = None;
        loop {
            if pages >= max_pages {
                return (pages, records);
            }
            let page = match v.fetch(&w, cursor.as_ref()).await {
                Ok(p) => p,
                Err(e) => panic!("{} fetch failed: {e}", v.source()),
            };
            pages += 1;
            if cursor.is_none()
                && let (Some(total), Some(cap)) = (page.total, v.limits().max_records_per_query)
                && total > cap
                && let Some((a, b)) = w.bisect(v.limits().min_span)
            {
                todo.push(a);
                todo.push(b);
                break;
            }
            records += page.records.len() as u64;
            match page.next {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
    }
    (pages, records)
}

fn pages_per_second_across_vendors() {
    let spec = DatasetSpec { seed: 7, days: 20, calls_per_day: 20_000, late: 0.0, update: 0.0 };
    let (cfg, stop, cpu) = spawn_sandbox(spec);
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().expect("runtime");
    let now = huadan_model::Instant::now();
    let window =
        Window::new(now - jiff::SignedDuration::from_hours(24 * 19), now - jiff::SignedDuration::from_hours(1));
    let t0 = Instant::now();
    let (pages, records) = rt.block_on(async {
        let mut tasks = Vec::new();
        let only = std::env::var("HUADAN_BENCH_VENDOR").ok();
        for v in vendors(&cfg) {
            if only.as_deref().is_some_and(|o| o != v.provider().as_str()) {
                continue;
            }
            for lane in 0..4 {
                let v = v.clone();
                // Four lanes per vendor, each over its own slice of the window.
                let span = window.span().as_secs() / 4;
                let start = window.start + jiff::SignedDuration::from_secs(span * lane);
                let w = Window::new(start, start + jiff::SignedDuration::from_secs(span));
                tasks.push(tokio::spawn(async move { drain(&v, w, 1_000).await }));
            }
        }
        let mut pages = 0;
        let mut records = 0;
        for t in tasks {
            let (p, r) = t.await.expect("task");
            pages += p;
            records += r;
        }
        (pages, records)
    });
    let wall = t0.elapsed().as_secs_f64();
    let _ = stop.send(());
    let sandbox_cpu = cpu.recv().unwrap_or(0.0);
    println!("sandbox_pages_served: {pages} pages, {records} records, 5 vendors, {wall:.2} s wall");
    println!("sandbox_pages_per_second_wall: {:.0}", pages as f64 / wall);
    println!(
        "sandbox_pages_per_sandbox_cpu_second: {:.0} (sandbox thread used {sandbox_cpu:.2} s of one core)",
        pages as f64 / sandbox_cpu.max(0.01)
    );
}

fn ten_million_flat(n: u64) {
    let days = 80u32;
    let spec = DatasetSpec { seed: 11, days, calls_per_day: (n / days as u64) as u32 + 1, late: 0.0, update: 0.0 };
    let (cfg, stop, _cpu) = spawn_sandbox(spec);
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().expect("runtime");
    let ccc = vendors(&cfg).into_iter().find(|v| v.provider() == Provider::TencentCcc).expect("tencent_ccc");
    let now = huadan_model::Instant::now();
    let start = now - jiff::SignedDuration::from_hours(24 * (days as i64 + 1));
    let t0 = Instant::now();
    let rss0 = rss_mb();
    let (records, rss_max) = rt.block_on(async {
        let mut records = 0u64;
        let mut rss_max = rss0;
        // One-day windows, pages streamed and dropped: the only memory is one page.
        let mut day = start;
        while day < now && records < n {
            let w = Window::new(day, (day + jiff::SignedDuration::from_hours(24)).min(now));
            let (_, r) = drain(&ccc, w, u64::MAX).await;
            records += r;
            rss_max = rss_max.max(rss_mb());
            day = w.end;
        }
        (records, rss_max)
    });
    let wall = t0.elapsed().as_secs_f64();
    let _ = stop.send(());
    println!("sandbox_big_dataset_records_served: {records} in {wall:.1} s ({:.0} records/s)", records as f64 / wall);
    println!("sandbox_big_dataset_rss_mb: start {rss0:.1}, max {rss_max:.1} (whole process: sandbox + client)");
}
