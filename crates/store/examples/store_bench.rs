//! Store benchmark: `cargo run --release -p huadan-store --example store_bench [-- RECORDS [DB_PATH [BATCH [MODE [RUNS]]]]]`.
//!
//! Builds realistic records (five providers, agents, legs, recordings, raw vendor JSON of
//! about 1.5 KB, Chinese transcripts on the Tanma share), upserts RECORDS of them
//! (default 1,000,000) in batches of BATCH (default 1,000) as the sync engine does, then times the
//! queries the issue sets targets for. Prints one line per figure. MODE (5th argument):
//! `pipelined` (default; batch N+1 is prepared while batch N is written, as `huadan sync`
//! does), `ahead2` (two batches prepared at once while one is written, as a bulk loader
//! may; `aheadN` for N), or `sequential` (each commit awaited before the next batch is
//! handed over). RUNS (6th argument, default 1): the import is run that many times, each
//! into a fresh database, and the median is printed too (this VM's speed drifts by a
//! third within minutes; one run is not a figure); the queries run on the last.

#[path = "common/alloc.rs"]
mod alloc;
#[path = "common/records.rs"]
mod records;
#[path = "common/write_ahead.rs"]
mod write_ahead;

use futures::StreamExt;
use huadan_model::{CallRecord, Provider};
use huadan_store::{Batch, CallFilter, CallQuery, GroupBy, SqliteStore, Store, SyncState};
use records::{Rng, SOURCES, record, ts};
use std::time::{Duration, Instant};
use write_ahead::write_ahead;

const DEFAULT_BATCH: usize = 1000;
/// Calls are spread over 90 days from here, in time order as a sync would write them
/// (2024-10-01T00:00:00+08:00 is 2024-09-30T16:00Z).
const DAY0: i64 = 1_727_712_000;
/// The 90 days, in seconds.
const SPAN: i64 = 90 * 86_400;
/// Batches built ahead (outside the timing) and then committed one after the other.
const ROUND: usize = 20;
/// CPU seconds this process has used so far (user + system, all threads), from
/// /proc/self/stat: on a shared machine, throughput per CPU-second is the fair figure.
fn cpu_seconds() -> f64 {
    stat_cpu_seconds("/proc/self/stat")
}

/// CPU seconds the calling thread has used (the bench's main thread builds the records;
/// everything else in the process is the store: writer, encoder, checkpointer).
fn thread_cpu_seconds() -> f64 {
    stat_cpu_seconds("/proc/thread-self/stat")
}

/// CPU seconds used so far by the live threads named `name` (`/proc/self/task/*/stat`).
fn named_threads_cpu_seconds(name: &str) -> f64 {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else { return 0.0 };
    tasks
        .flatten()
        .filter_map(|t| std::fs::read_to_string(t.path().join("stat")).ok())
        .filter(|stat| {
            stat.split_once(" (").and_then(|(_, r)| r.split_once(") ")).is_some_and(|(comm, _)| comm == name)
        })
        .map(|stat| {
            let f: Vec<&str> = stat.rsplit_once(") ").map(|(_, r)| r).unwrap_or_default().split(' ').collect();
            (f.get(11).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0)
                + f.get(12).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0))
                / 100.0
        })
        .sum()
}

/// Bytes this process has written so far (`wchar` of /proc/self/io: every write call,
/// WAL frames and checkpoints included, whether or not it reached the disk yet).
fn written_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/io")
        .ok()
        .and_then(|io| io.lines().find_map(|l| l.strip_prefix("wchar: ").and_then(|v| v.trim().parse().ok())))
        .unwrap_or(0)
}

/// The machine's idle (idle + iowait), stolen and total CPU ticks so far, all CPUs
/// (the `cpu` line of /proc/stat).
fn system_ticks() -> [u64; 3] {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let f: Vec<u64> =
        stat.lines().next().unwrap_or_default().split_whitespace().skip(1).filter_map(|v| v.parse().ok()).collect();
    // user nice system idle iowait irq softirq steal (guest ticks are inside user).
    let at = |i: usize| f.get(i).copied().unwrap_or(0);
    [at(3) + at(4), at(7), (0..8).map(at).sum()]
}

fn stat_cpu_seconds(file: &str) -> f64 {
    let Ok(stat) = std::fs::read_to_string(file) else { return 0.0 };
    // Fields after the `(comm)`: state is field 3, utime 14, stime 15.
    let Some(rest) = stat.rsplit_once(") ").map(|(_, r)| r) else { return 0.0 };
    let f: Vec<&str> = rest.split(' ').collect();
    let ticks: f64 = f.get(11).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0)
        + f.get(12).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    ticks / 100.0
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn percentile(mut v: Vec<Duration>, p: f64) -> Duration {
    v.sort();
    let rank = ((v.len() as f64) * p).ceil() as usize;
    v[rank.clamp(1, v.len()) - 1]
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let total: u64 = args.get(1).map(|s| s.parse()).transpose()?.unwrap_or(1_000_000);
    let dir = tempfile::tempdir()?;
    let path = args.get(2).map(std::path::PathBuf::from).unwrap_or_else(|| dir.path().join("bench.db"));
    let batch_size: usize = args.get(3).map(|s| s.parse()).transpose()?.unwrap_or(DEFAULT_BATCH).max(1);
    // Batches prepared ahead of the one being written; 0: sequential.
    let ahead: usize = match args.get(4).map(String::as_str) {
        None | Some("pipelined") => 1,
        Some("sequential") => 0,
        Some(mode) => match mode.strip_prefix("ahead").and_then(|n| n.parse::<usize>().ok()).filter(|&n| n > 0) {
            Some(n) => n,
            None => return Err(format!("unknown mode `{mode}`: pipelined, ahead2 (aheadN) or sequential").into()),
        },
    };
    // How many times the import is run (each into a fresh database; median reported).
    let runs: usize = args.get(5).map(|s| s.parse()).transpose()?.unwrap_or(1).max(1);
    let mut sample = record(&mut Rng(0x9E37_79B9_7F4A_7C15), 0, "tanma", Provider::Tanma, DAY0);
    let raw_len = sample.raw.get().len();
    sample.transcript = None;
    let rec_len = serde_json::to_string(&sample)?.len();
    println!(
        "records: {total}, raw JSON {raw_len} bytes, full record JSON {rec_len} bytes (+ transcript on answered Tanma calls)"
    );

    // What serialising + hashing alone costs (the part of a commit done outside SQLite).
    let probe: Vec<CallRecord> =
        (0..5000).map(|i| record(&mut Rng(i + 1), i, "tanma", Provider::Tanma, DAY0)).collect();
    let t = Instant::now();
    let mut bytes = 0;
    for r in &probe {
        let body = serde_json::to_string(r)?;
        bytes += body.len() + twox_hash::XxHash3_128::oneshot(body.as_bytes()).to_be_bytes().len();
    }
    println!(
        "serialise + hash only: {:.0} records/s ({} bytes)",
        probe.len() as f64 / t.elapsed().as_secs_f64(),
        bytes / probe.len()
    );
    drop(probe);

    // The import is run RUNS times, each into a fresh database (this VM's speed varies
    // from minute to minute: one run is not a figure); the queries below use the last.
    let mut rates = Vec::with_capacity(runs);
    let mut store = None;
    for run in 1..=runs {
        drop(store.take());
        for file in SqliteStore::files(&path) {
            let _ = std::fs::remove_file(file);
        }
        let s = SqliteStore::open(&path).await?;
        let label = if runs > 1 { format!("run {run}/{runs}") } else { String::new() };
        rates.push(import(&s, &path, total, batch_size, ahead, &label).await?);
        store = Some(s);
    }
    let store = store.ok_or("no run")?;
    if runs > 1 {
        let mut sorted = rates.clone();
        sorted.sort_by(f64::total_cmp);
        println!(
            "upsert, median of {runs} runs: {:.0} records/s (runs: {})",
            sorted[runs / 2],
            rates.iter().map(|r| format!("{r:.0}")).collect::<Vec<_>>().join(" / ")
        );
    }
    let batches = total.div_ceil(batch_size as u64);
    let written = total;

    // Re-writing an unchanged batch (the lookback overlap of every incremental sync).
    let mut rng2 = Rng(0x9E37_79B9_7F4A_7C15);
    let _ = record(&mut rng2, 0, "tanma", Provider::Tanma, DAY0);
    let again: Vec<CallRecord> = (1..=(batch_size as u64 * 10).min(written))
        .map(|i| {
            let b = (i - 1) / batch_size as u64;
            let (source, provider) = SOURCES[(b % 5) as usize];
            let base = DAY0 + (SPAN * b as i64) / batches as i64;
            let step = (SPAN / batches as i64).max(1);
            let start = base + rng2.below(step as u64) as i64;
            record(&mut rng2, i, source, provider, start)
        })
        .collect();
    let t = Instant::now();
    let mut unchanged = 0;
    for chunk in again.chunks(batch_size) {
        let source = chunk[0].source.clone();
        unchanged += store.commit(Batch { source, records: chunk.to_vec(), state: None }).await?.unchanged;
    }
    println!(
        "re-upsert of unchanged records: {:.0} records/s ({unchanged} unchanged)",
        unchanged as f64 / t.elapsed().as_secs_f64()
    );

    let t = Instant::now();
    store.optimize().await?;
    println!("optimize (PRAGMA optimize after the import): {:.0} ms", ms(t.elapsed()));

    // First page, source + time range (a day inside the range), varied.
    let mut lat = Vec::new();
    let mut first = None;
    let mut rows = 0;
    for i in 0..300 {
        let (source, _) = SOURCES[i % 5];
        let since = DAY0 + (i as i64 * 7919 % 85) * 86_400;
        let q = CallQuery {
            filter: CallFilter {
                sources: vec![source.into()],
                since: Some(ts(since)),
                until: Some(ts(since + 3 * 86_400)),
                ..CallFilter::default()
            },
            limit: 50,
            cursor: None,
        };
        let t = Instant::now();
        let page = store.calls(&q).await?;
        let e = t.elapsed();
        rows += page.items.len();
        first.get_or_insert(e);
        lat.push(e);
    }
    println!(
        "first page (50 rows, source + 3-day range) over {total}: first {:.2} ms, median {:.2} ms, p99 {:.2} ms ({:.1} rows per page)",
        ms(first.unwrap_or_default()),
        ms(percentile(lat.clone(), 0.5)),
        ms(percentile(lat, 0.99)),
        rows as f64 / 300.0
    );

    // Next page through the cursor.
    let q = CallQuery {
        filter: CallFilter { sources: vec!["tanma".into()], ..CallFilter::default() },
        limit: 50,
        cursor: None,
    };
    let p1 = store.calls(&q).await?;
    let t = Instant::now();
    let p2 = store.calls(&CallQuery { cursor: p1.next_cursor, ..q }).await?;
    println!("second page via cursor (50 rows, source filter): {:.2} ms ({} rows)", ms(t.elapsed()), p2.items.len());

    let tz = huadan_model::time::timezone("Asia/Shanghai")?;
    for (name, by) in [("day", GroupBy::Day), ("agent", GroupBy::Agent), ("provider", GroupBy::Provider)] {
        let t = Instant::now();
        let rows = store.stats(&CallFilter::default(), by, &tz).await?;
        let calls: u64 = rows.iter().map(|r| r.calls).sum();
        println!(
            "stats --by {name} over {calls} records (Asia/Shanghai): {:.0} ms, {} groups",
            ms(t.elapsed()),
            rows.len()
        );
    }

    let t = Instant::now();
    let c = store.count(&CallFilter::default()).await?;
    println!("count(*) over {c}: {:.0} ms", ms(t.elapsed()));

    for text in ["申请退款", "价格", "价"] {
        let t = Instant::now();
        let page = store
            .calls(&CallQuery {
                filter: CallFilter { text: Some(text.into()), ..CallFilter::default() },
                limit: 50,
                cursor: None,
            })
            .await?;
        println!(
            "transcript search `{text}` ({} chars), first page: {:.1} ms ({} rows)",
            text.chars().count(),
            ms(t.elapsed()),
            page.items.len()
        );
    }

    let t = Instant::now();
    let mut s = store.export(CallFilter { sources: vec!["tencent-ccc".into()], ..CallFilter::default() });
    let mut k = 0u64;
    while let Some(r) = s.next().await {
        r?;
        k += 1;
    }
    println!("export stream (one source): {:.0} records/s ({k} records)", k as f64 / t.elapsed().as_secs_f64());

    // The stored JSON as the API's exports read it (no decoding), each page written out
    // as a JSON array (what the consumer does while the next page is decompressed).
    let t = Instant::now();
    let mut s = store.export_json(CallFilter { sources: vec!["tencent-ccc".into()], ..CallFilter::default() });
    let (mut k, mut out) = (0u64, Vec::new());
    while let Some(page) = s.next().await {
        let page = page?;
        k += page.len() as u64;
        out.clear();
        page.write_array(&mut out);
    }
    println!(
        "export stream as stored JSON (one source, pages written out): {:.0} records/s ({k} records)",
        k as f64 / t.elapsed().as_secs_f64()
    );
    let size = std::fs::metadata(&path)?.len();
    println!("database size: {:.0} MB", size as f64 / 1e6);
    Ok(())
}

/// Upsert `total` new records into `store` (at `path`) in batches of `batch_size`, as a
/// sync writes them, and print the import's figures (naming the run by `label`, when
/// not empty). Returns the records per second.
async fn import(
    store: &SqliteStore,
    path: &std::path::Path,
    total: u64,
    batch_size: usize,
    ahead: usize,
    label: &str,
) -> Result<f64, Box<dyn std::error::Error>> {
    // The same records in every run (and as the re-upsert below rebuilds them).
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let _ = record(&mut rng, 0, "tanma", Provider::Tanma, DAY0);
    let mut commit_time = Duration::ZERO;
    let mut commit_cpu = 0.0;
    // The whole machine's idle, stolen and total ticks during the commits.
    let mut machine = [0u64; 3];
    let (import_cpu, main_cpu) = (cpu_seconds(), thread_cpu_seconds());
    // The SQLite writer runs on tokio's blocking threads, checkpoints on their own
    // thread; encoding threads (one per batch) are what remains.
    let (writer_cpu, ckpt_cpu) =
        (named_threads_cpu_seconds("tokio-rt-worker"), named_threads_cpu_seconds("huadan-checkpt"));
    let io_before = written_bytes();
    let mut written = 0u64;
    let mut n = 0u64;
    let batches = total.div_ceil(batch_size as u64);
    let mut made = 0u64;
    let mut b = 0u64;
    while b < batches {
        // A round of batches is built first (outside the timing), then committed.
        let mut round = Vec::with_capacity(ROUND);
        while b < batches && round.len() < ROUND {
            let (source, provider) = SOURCES[(b % 5) as usize];
            let count = (total - made).min(batch_size as u64);
            made += count;
            let base = DAY0 + (SPAN * b as i64) / batches as i64;
            let step = (SPAN / batches as i64).max(1);
            let records: Vec<CallRecord> = (0..count)
                .map(|_| {
                    n += 1;
                    let start = base + rng.below(step as u64) as i64;
                    record(&mut rng, n, source, provider, start)
                })
                .collect();
            let state = SyncState { source: source.into(), checkpoint: Some(ts(base + step)), ..SyncState::default() };
            round.push(Batch { source: source.into(), records, state: Some(state) });
            b += 1;
        }
        let t = Instant::now();
        let c = cpu_seconds();
        let sys = system_ticks();
        if ahead > 0 {
            // As `huadan sync` writes (ahead = 1): batch N+1 is prepared while batch N is
            // written.
            written += write_ahead(store, round, store.write_lanes(), ahead).await?.inserted;
        } else {
            for batch in round {
                written += store.commit(batch).await?.inserted;
            }
        }
        commit_time += t.elapsed();
        commit_cpu += cpu_seconds() - c;
        let now = system_ticks();
        for k in 0..3 {
            machine[k] += now[k] - sys[k];
        }
    }
    // Background work (checkpoints) may run while the next batch is being built, so
    // the store's CPU is counted over the whole import: process minus main thread.
    // That CPU per second of commits ("cores busy") tells how well the pipeline overlaps,
    // apart from how fast the CPU was (records per second and CPU per record move
    // together as this VM's speed drifts). It includes the checkpoints that ran between
    // rounds, so it reads a little above the process's CPU during the commits alone
    // (records/s over "records per CPU-second during commits").
    let store_cpu = (cpu_seconds() - import_cpu) - (thread_cpu_seconds() - main_cpu);
    let writer_cpu = named_threads_cpu_seconds("tokio-rt-worker") - writer_cpu;
    let ckpt_cpu = named_threads_cpu_seconds("huadan-checkpt") - ckpt_cpu;
    let per = |cpu: f64| cpu * 1e6 / written.max(1) as f64;
    let (run, tag) =
        if label.is_empty() { (String::new(), String::new()) } else { (format!("{label}, "), format!(" ({label})")) };
    let mode = match ahead {
        0 => "sequential".to_string(),
        1 => "pipelined".to_string(),
        n => format!("pipelined, {n} batches prepared ahead"),
    };
    println!(
        "upsert ({run}{mode}: new records, batches of {batch_size}, one transaction each with the checkpoint): {:.0} records/s ({written} in {:.1} s wall; {:.0} records per CPU-second during commits, {:.0} per store-CPU-second over the import = {:.1} µs of CPU per record; {:.2} of the 2 cores busy; load average {})",
        written as f64 / commit_time.as_secs_f64(),
        commit_time.as_secs_f64(),
        written as f64 / commit_cpu.max(0.01),
        written as f64 / store_cpu.max(0.01),
        store_cpu * 1e6 / written.max(1) as f64,
        store_cpu / commit_time.as_secs_f64(),
        std::fs::read_to_string("/proc/loadavg").unwrap_or_default().split(' ').next().unwrap_or("?")
    );

    println!(
        "upsert machine{tag}: during the commits the CPUs were idle {:.1} % and stolen by the hypervisor {:.1} % of the time",
        machine[0] as f64 * 100.0 / machine[2].max(1) as f64,
        machine[1] as f64 * 100.0 / machine[2].max(1) as f64
    );
    println!(
        "upsert CPU per record{tag}: SQLite writer {:.1} µs, encoding {:.1} µs, background checkpoints {:.1} µs; a writer with a core to itself would take {:.0} records/s",
        per(writer_cpu),
        per(store_cpu - writer_cpu - ckpt_cpu),
        per(ckpt_cpu),
        1e6 / per(writer_cpu).max(0.01)
    );
    let db_bytes = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    println!(
        "upsert bytes per record{tag}: {:.0} written (WAL frames and checkpoints), database file {:.0}",
        (written_bytes() - io_before) as f64 / written.max(1) as f64,
        db_bytes as f64 / written.max(1) as f64
    );

    Ok(written as f64 / commit_time.as_secs_f64())
}
