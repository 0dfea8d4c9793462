//! Benchmark: archive N recordings (default 10,000) from a recording host on 127.0.0.1
//! into a local directory; prints recordings/s, MB/s and peak RSS.
//!
//! `cargo run --release -p huadan-recordings --example archive_bench -- [N] [concurrency] [samples] [store]`
//! (samples per WAV at 8 kHz 16-bit: 8000 = 1 s = 16 KB, the default). With `store` as
//! the 4th argument the N records are first committed to a SQLite store in the temp dir
//! and each archived object's key is written back into its record (the full pipeline of
//! `huadan sync`/`serve`: read the record, set `archived_path`, commit).

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
    let with_store = args.get(4).is_some_and(|s| s == "store");

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
    let mut a = Archiver::new(cfg.clone(), queue.clone(), Archive::open(&cfg).expect("archive")).expect("archiver");
    let mut store_check = None;
    if with_store {
        let store: huadan_store::DynStore =
            Arc::new(huadan_store::SqliteStore::open(tmp.path().join("calls.db")).await.expect("store"));
        for chunk in jobs.chunks(1000) {
            let records = chunk
                .iter()
                .map(|j| {
                    let id = j.record_id.strip_prefix("bench:").unwrap_or(&j.record_id);
                    let mut r =
                        huadan_model::CallRecord::new("bench", huadan_model::Provider::TencentAds, id, j.started_at);
                    r.recordings = vec![huadan_model::Recording {
                        url: j.url.clone(),
                        expires_at: j.expires_at,
                        archived_path: None,
                    }];
                    r
                })
                .collect();
            store.commit(huadan_store::Batch { source: "bench".into(), records, state: None }).await.expect("commit");
        }
        a = a.with_hook(huadan_recordings::store_hook(store.clone()));
        store_check = Some(store);
    }
    let t = Instant::now();
    let s = a.run(RunOptions { until_idle: true, deadline: Some(Duration::from_secs(1800)) }).await.expect("run");
    let secs = t.elapsed().as_secs_f64();
    let stats = queue.stats().expect("stats");
    if let Some(store) = &store_check {
        let last = store.call(&format!("bench:{}", n - 1)).await.expect("read").expect("stored");
        assert!(last.recordings[0].archived_path.is_some(), "the store hook set archived_path");
    }
    println!(
        "{n} recordings ({} B each), concurrency {conc}{}: enqueue {:.2}s; archived {} in {:.2}s = {:.0} recordings/s, {:.1} MB/s; \
         queue archived={} pending={} failed={} expired={} bytes={}; peak RSS {} MB",
        44 + 2 * samples,
        if with_store { ", archived_path written to a SQLite store" } else { "" },
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
