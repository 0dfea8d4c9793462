//! Benchmark: archive N recordings (default 10,000) from a recording host on 127.0.0.1
//! into a local directory; prints recordings/s, MB/s and peak RSS.
//!
//! `cargo run --release -p huadan-recordings --example archive_bench -- [N] [concurrency] [samples]`
//! (samples per WAV at 8 kHz 16-bit: 8000 = 1 s = 16 KB, the default).

use axum::Router;
use axum::extract::Path;
use axum::http::header;
use huadan_recordings::audio::sine_wav;
use huadan_recordings::{Archive, Archiver, NewJob, Queue, RecordingsConfig, RunOptions};
use jiff::{SignedDuration, Timestamp};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn peak_rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: u64 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(10_000);
    let conc: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(16);
    let samples: u32 = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(8000);

    let app = Router::new().route(
        "/rec/{name}",
        axum::routing::get(move |Path(name): Path<String>| async move {
            let seed: u64 = name.trim_end_matches(".wav").parse().unwrap_or(0);
            ([(header::CONTENT_TYPE, "audio/wav")], sine_wav(samples, seed))
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });

    let tmp = tempfile::tempdir().expect("tempdir");
    let mut cfg = RecordingsConfig::local(&tmp.path().join("archive"));
    cfg.concurrency = conc;
    cfg.per_host_interval_ms = 0;
    cfg.retry_base_seconds = 0.1;
    let queue = Arc::new(Queue::open(&tmp.path().join("queue.db")).expect("queue"));
    let now = Timestamp::now();
    let started: Timestamp = "2026-11-20T03:04:05Z".parse().expect("ts");
    let jobs: Vec<NewJob> = (0..n)
        .map(|i| NewJob {
            record_id: format!("bench:{i}"),
            index: 0,
            source: "bench".into(),
            started_at: started + SignedDuration::from_secs((i % 86_400) as i64 * 7),
            url: format!("{base}/rec/{i}.wav"),
            expires_at: Some(now + SignedDuration::from_hours(1 + (i % 100) as i64)),
        })
        .collect();
    let t = Instant::now();
    queue.enqueue(&jobs, now).expect("enqueue");
    let enqueue = t.elapsed();
    let a = Archiver::new(cfg.clone(), queue.clone(), Archive::open(&cfg).expect("archive")).expect("archiver");
    let t = Instant::now();
    let s = a.run(RunOptions { until_idle: true, deadline: Some(Duration::from_secs(1800)) }).await.expect("run");
    let secs = t.elapsed().as_secs_f64();
    let stats = queue.stats().expect("stats");
    println!(
        "{n} recordings ({} B each), concurrency {conc}: enqueue {:.2}s; archived {} in {:.2}s = {:.0} recordings/s, {:.1} MB/s; \
         queue archived={} pending={} failed={} expired={} bytes={}; peak RSS {} MB",
        44 + 2 * samples,
        enqueue.as_secs_f64(),
        s.archived,
        secs,
        s.archived as f64 / secs,
        s.bytes as f64 / secs / 1e6,
        stats.archived,
        stats.pending,
        stats.failed,
        stats.expired,
        stats.bytes,
        peak_rss_kb() / 1024
    );
}
