//! `huadan demo`: the first thing a new user runs. Starts the sandbox in-process,
//! (re)creates an embedded SQLite (`huadan-demo.db`), syncs the last `--days` days of
//! all five vendors, prints the per-source summary and headline stats, then serves the
//! REST API until Ctrl-C (`--no-serve` exits after the sync). Recordings are archived
//! into `huadan-demo-recordings/` next to the database: queued as they are synced,
//! fetched in the background while the API serves.

use crate::args::DemoArgs;
use crate::error::CliError;
use huadan_config::Config;
use huadan_fakekit::DatasetSpec;
use huadan_sandbox::{Sandbox, SandboxOptions};
use huadan_store::{CallFilter, GroupBy};
use std::process::ExitCode;
use std::time::Instant;

/// Run `huadan demo`.
pub async fn run(args: DemoArgs) -> Result<ExitCode, CliError> {
    let started = Instant::now();
    remove_db(&args.db)?;
    // Recordings are archived next to the demo database (recreated each run too).
    let db_dir = std::path::absolute(&args.db)
        .map_err(|e| CliError::Runtime(anyhow::anyhow!("{}: {e}", args.db.display())))?
        .parent()
        .map(std::path::Path::to_path_buf)
        .unwrap_or_default();
    let archive_dir = db_dir.join("huadan-demo-recordings");
    let queue = db_dir.join("huadan-demo-recordings.db");
    remove_db(&queue)?;
    match std::fs::remove_dir_all(&archive_dir) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            return Err(CliError::Runtime(anyhow::anyhow!("cannot remove old {}: {e}", archive_dir.display())));
        }
        _ => {}
    }
    let sandbox = Sandbox::start(SandboxOptions {
        spec: DatasetSpec {
            seed: args.seed,
            days: args.days,
            calls_per_day: args.calls_per_day,
            late: 0.0,
            update: 0.0,
        },
        ..SandboxOptions::default()
    })
    .await
    .map_err(|e| CliError::Runtime(e.into()))?;
    eprintln!(
        "demo: five fake vendors running on 127.0.0.1 (seed {}, {} calls/day each)",
        args.seed, args.calls_per_day
    );

    let store_url = format!("sqlite://{}", args.db.display());
    // A fresh bearer token per demo run: the API is never open, even on loopback.
    let token = uuid::Uuid::new_v4().simple().to_string();
    let toml_str = |p: &std::path::Path| p.display().to_string().replace('\\', "\\\\").replace('"', "\\\"");
    let config_text = format!(
        "{}\n[server]\nlisten = \"{}\"\napi_tokens = [\"{token}\"]\n\n[recordings]\narchive = true\nstore = \"file://{}\"\nqueue = \"{}\"\nper_host_interval_ms = 0\n",
        sandbox.config_toml(&store_url),
        args.listen.replace('"', ""),
        toml_str(&archive_dir),
        toml_str(&queue),
    );
    let config = Config::from_toml_str(&config_text, &|_| None)?;
    let store = super::open_store(&config).await?;
    let archiver = super::archiving::archiver(&config, &store)?;
    let engine = huadan_sync::Engine::new(&config, store.clone())?
        .with_options(super::archiving::engine_options(archiver.as_ref()));
    let background = archiver.map(super::archiving::Background::start);

    eprintln!("demo: syncing the last {} days of all five vendors into {}", args.days, args.db.display());
    let progress = super::sync::Display::new();
    let report = engine.run(&huadan_sync::SyncOptions::default(), &progress).await;
    progress.clear();
    super::sync::print_summary(&report);
    if let Some(b) = background {
        // What is left is archived in the background while the API serves.
        let then = if args.no_serve {
            "--no-serve: not archived in this demo"
        } else {
            "archived in the background while the API serves"
        };
        b.finish(std::time::Duration::ZERO, then).await?;
    }

    let tz = config.tz();
    let stats = store.stats(&CallFilter::default(), GroupBy::Provider, &tz).await?;
    let calls: u64 = stats.iter().map(|r| r.calls).sum();
    let answered: u64 = stats.iter().map(|r| r.answered).sum();
    let talk: i64 = stats.iter().map(|r| r.talk_seconds_total).sum();
    println!();
    println!(
        "{} calls stored · {:.1}% answered · {:.1} hours of talk · synced in {:.1} s",
        calls,
        if calls > 0 { answered as f64 * 100.0 / calls as f64 } else { 0.0 },
        talk as f64 / 3600.0,
        started.elapsed().as_secs_f64()
    );
    for r in &stats {
        println!(
            "  {:<12} {:>7} calls  {:>5.1}% answered  mean talk {:>4.0} s",
            r.key,
            r.calls,
            r.answered_rate * 100.0,
            r.talk_seconds_mean.unwrap_or(0.0)
        );
    }

    let code = if report.all_ok() { ExitCode::SUCCESS } else { ExitCode::from(1) };
    if args.no_serve {
        sandbox.shutdown().await;
        return Ok(code);
    }
    let listener = tokio::net::TcpListener::bind(&config.server.listen)
        .await
        .map_err(|e| CliError::Runtime(anyhow::anyhow!("cannot listen on {}: {e}", config.server.listen)))?;
    let addr = listener.local_addr()?;
    let stop = super::Signals::install().first();
    println!();
    println!("REST API and dashboard on http://{addr}/ — API token: {token}");
    println!("  try: curl -H 'Authorization: Bearer {token}' 'http://{addr}/v1/calls?limit=3'");
    println!("  new calls keep arriving in the sandbox and are synced every minute; Ctrl-C to stop");
    huadan_server::serve(&config, store, listener, stop).await.map_err(|e| CliError::Runtime(e.into()))?;
    sandbox.shutdown().await;
    Ok(code)
}

/// Remove the demo database and its side files, so each run starts fresh.
fn remove_db(path: &std::path::Path) -> Result<(), CliError> {
    for p in huadan_store::SqliteStore::files(path) {
        match std::fs::remove_file(&p) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(CliError::Runtime(anyhow::anyhow!("cannot remove old {}: {e}", p.display()))),
        }
    }
    Ok(())
}
