//! PostgreSQL bulk-upsert benchmark:
//! `HUADAN_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test cargo run --release -p huadan-store --example pg_bench [-- RECORDS [BATCH [MODE]]]`.
//!
//! Builds realistic records (agents, legs, recordings, ~1.5 KB of raw vendor JSON,
//! Chinese transcripts on a fifth of them) up front, then commits them in batches
//! (default 200,000 records in batches of 1,000, batch k all of source k mod 5, each
//! with its source's sync-state update, as the sync engine hands them over) into a
//! fresh schema, which is dropped afterwards. MODE: `pipelined` (default: as `huadan
//! sync` writes, batch N+1 prepared while the batches before it are written, as many
//! at once as the store's write lanes, one source's in order), a number of lanes to
//! use instead, or `sequential` (each commit awaited before the next batch). Prints the
//! insert rate, the rate of re-sending unchanged records, and of sending changed ones,
//! each also per CPU-second (this process + its PostgreSQL backends), the fair figure
//! on a shared machine, and the server's CPU time per record. With `PG_BENCH_KEEP` set
//! the schema is kept (its name printed) for a look at the tables and plans.

#[path = "common/alloc.rs"]
mod alloc;
#[path = "common/records.rs"]
mod records;
#[path = "common/write_ahead.rs"]
mod write_ahead;

use huadan_model::CallRecord;
use huadan_store::{Batch, CallFilter, PgStore, Store, SyncState};
use records::{Rng, SOURCES, record};
use std::time::Instant;
use write_ahead::write_ahead;

/// CPU seconds (user + system) a process has used, from /proc/PID/stat.
fn cpu_seconds(pid: &str) -> f64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { return 0.0 };
    let Some(rest) = stat.rsplit_once(") ").map(|(_, r)| r) else { return 0.0 };
    let f: Vec<&str> = rest.split(' ').collect();
    let ticks: f64 = f.get(11).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0)
        + f.get(12).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    ticks / 100.0
}

/// CPU seconds of this process and of the server backends serving it (same machine).
async fn cpu(url: &str, app: &str) -> (f64, f64) {
    let mut server = 0.0;
    if let Ok((client, conn)) = tokio_postgres::connect(url, tokio_postgres::NoTls).await {
        tokio::spawn(conn);
        if let Ok(rows) = client.query("SELECT pid FROM pg_stat_activity WHERE application_name = $1", &[&app]).await {
            server = rows.iter().map(|r| cpu_seconds(&r.get::<_, i32>(0).to_string())).sum();
        }
    }
    (cpu_seconds("self"), server)
}

async fn run(
    store: &PgStore,
    batches: &[Vec<CallRecord>],
    label: &str,
    url: &str,
    app: &str,
    lanes: usize,
) -> Result<(), Box<dyn std::error::Error>> {
    let total: usize = batches.iter().map(Vec::len).sum();
    // The batches are built (cloned) before the clock starts: the figure is the store's.
    let prepared: Vec<Batch> = batches
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let source = b.first().map(|r| r.source.clone()).unwrap_or_default();
            let state = SyncState {
                source: source.clone(),
                checkpoint: b.last().map(|r| r.started_at),
                last_run_stats: Some(serde_json::json!({ "batch": i })),
                ..SyncState::default()
            };
            Batch { source, records: b.clone(), state: Some(state) }
        })
        .collect();
    let (c0, s0) = cpu(url, app).await;
    let t = Instant::now();
    let mut stats = huadan_store::WriteStats::default();
    if lanes > 0 {
        stats += write_ahead(store, prepared, lanes, 1).await?;
    } else {
        for batch in prepared {
            stats += store.commit(batch).await?;
        }
    }
    let secs = t.elapsed().as_secs_f64();
    let (c1, s1) = cpu(url, app).await;
    let (client_cpu, server_cpu) = (c1 - c0, s1 - s0);
    println!(
        "{label}: {total} records in {secs:.2} s = {:.0} records/s wall (inserted {}, updated {}, unchanged {}); \
         CPU: huadan {client_cpu:.1} s, PostgreSQL backends {server_cpu:.1} s = {:.0} records per CPU-second, \
         {:.1} µs of server CPU per record",
        total as f64 / secs,
        stats.inserted,
        stats.updated,
        stats.unchanged,
        total as f64 / (client_cpu + server_cpu).max(1e-9),
        server_cpu * 1e6 / (total as f64).max(1.0)
    );
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::var("HUADAN_TEST_POSTGRES_URL")
        .map_err(|_| "set HUADAN_TEST_POSTGRES_URL, e.g. postgres://postgres@127.0.0.1:5432/test")?;
    let args: Vec<String> = std::env::args().collect();
    let total: u64 = args.get(1).map(|s| s.parse()).transpose()?.unwrap_or(200_000);
    let batch: usize = args.get(2).map(|s| s.parse()).transpose()?.unwrap_or(1000);
    // 0: sequential; else how many writes may be under way at once.
    let lanes: Option<usize> = match args.get(3).map(String::as_str) {
        None | Some("pipelined") => None,
        Some("sequential") => Some(0),
        Some(lanes) if lanes.parse::<usize>().is_ok_and(|n| n > 0) => Some(lanes.parse()?),
        Some(other) => {
            return Err(format!("unknown mode `{other}`: pipelined, sequential or a number of write lanes").into());
        }
    };
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let t0: i64 = 1_727_712_000;
    // Batch k is all of source k % 5, as a sync of five sources hands them over.
    let records: Vec<CallRecord> = (0..total)
        .map(|n| {
            let (source, provider) = SOURCES[(n as usize / batch.max(1)) % SOURCES.len()];
            record(&mut rng, n, source, provider, t0 + n as i64 * 7)
        })
        .collect();
    let raw_mean = records.iter().map(|r| r.raw.get().len()).sum::<usize>() / records.len().max(1);
    let json_mean = records.iter().map(|r| serde_json::to_vec(r).map(|v| v.len()).unwrap_or(0)).sum::<usize>()
        / records.len().max(1);
    println!("records: {total}, batch {batch}, raw JSON mean {raw_mean} B, whole record JSON mean {json_mean} B");
    let batches: Vec<Vec<CallRecord>> = records.chunks(batch).map(<[CallRecord]>::to_vec).collect();

    let schema = format!("bench_{}", std::process::id());
    let app = format!("huadan_{schema}");
    let sep = if url.contains('?') { '&' } else { '?' };
    let store = PgStore::open_in_schema(&format!("{url}{sep}application_name={app}"), &schema).await?;
    let lanes = lanes.unwrap_or_else(|| store.write_lanes());
    println!(
        "writes under way at once: {}",
        if lanes == 0 { "one, each awaited before the next is prepared".into() } else { lanes.to_string() }
    );
    let outcome = async {
        run(&store, &batches, "insert (new records)", &url, &app, lanes).await?;
        run(&store, &batches, "re-send (all unchanged)", &url, &app, lanes).await?;
        let changed: Vec<Vec<CallRecord>> = batches
            .iter()
            .map(|b| {
                b.iter()
                    .cloned()
                    .map(|mut r| {
                        r.remark = Some("回访".into());
                        r
                    })
                    .collect()
            })
            .collect();
        run(&store, &changed, "update (all changed)", &url, &app, lanes).await?;
        let n = store.count(&CallFilter::default()).await?;
        println!("stored: {n}");
        Ok::<(), Box<dyn std::error::Error>>(())
    }
    .await;
    drop(store);
    if std::env::var_os("PG_BENCH_KEEP").is_some() {
        println!("kept schema {schema}");
        return outcome;
    }
    let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await?;
    tokio::spawn(conn);
    client.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE")).await?;
    outcome
}
