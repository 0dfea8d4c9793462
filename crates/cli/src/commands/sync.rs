//! `huadan sync`: pull records into the store, with progress and a summary table.
//!
//! On a TTY each source gets a progress bar (windows, records, rate); otherwise plain
//! log lines go to stderr. The summary table goes to stdout. Exit 0 only if every
//! selected source succeeded. `--follow` runs again every `[sync] interval_seconds`
//! until SIGINT/SIGTERM, then finishes the windows in hand and exits.
//! On a shared (PostgreSQL) store several `huadan sync` / `huadan serve` processes
//! share each run by leasing windows (`--worker-id`, `--lease-seconds`).
//! With `[recordings] archive = true` the recording links of committed records are
//! queued as they are stored and archived meanwhile; a one-shot sync then finishes
//! what is due (see [`super::archiving`]).

use crate::args::SyncArgs;
use crate::error::CliError;
use huadan_model::time::parse_user_time;
use huadan_sync::{Engine, FleetOptions, Progress, SourceReport, SyncOptions, SyncReport};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::collections::HashMap;
use std::io::IsTerminal;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// Run `huadan sync`.
pub async fn run(config: Option<&Path>, args: SyncArgs) -> Result<ExitCode, CliError> {
    let config = super::load_config(config)?;
    let tz = config.tz();
    let time = |flag: &str, v: &Option<String>| {
        v.as_deref().map(|s| parse_user_time(s, &tz)).transpose().map_err(|e| CliError::usage(format!("{flag}: {e}")))
    };
    let since = time("--since", &args.since)?;
    let until = time("--until", &args.until)?;
    if let (Some(s), Some(u)) = (since, until)
        && s >= u
    {
        return Err(CliError::usage(format!("--since ({s}) must be before --until ({u})")));
    }
    for name in &args.sources {
        if config.source(name).is_none() {
            let known: Vec<&str> = config.sources.iter().map(|s| s.name.as_str()).collect();
            return Err(CliError::usage(format!(
                "--source `{name}` names no configured source (configured: {})",
                known.join(", ")
            )));
        }
    }
    if args.sources.is_empty() && !config.sources.iter().any(|s| s.enabled) {
        return Err(CliError::usage("no enabled source in the config; add a [[sources]] entry or enable one"));
    }
    let store = super::open_store(&config).await?;
    let archiver = super::archiving::archiver(&config, &store)?;
    let engine = Engine::new(&config, store)?.with_options(super::archiving::engine_options(archiver.as_ref()));
    let background = archiver.map(super::archiving::Background::start);
    let fleet = FleetOptions {
        worker: args.worker_id.clone().unwrap_or_else(huadan_sync::worker_identity),
        lease: Duration::from_secs(args.lease_seconds),
        min_gap: if args.follow { None } else { Some(Duration::ZERO) },
        ..FleetOptions::default()
    };
    if engine.store().shares_work() {
        eprintln!("sync: worker {} sharing the work through the store", fleet.worker);
    }
    let engine = engine.with_fleet(fleet);
    let options = SyncOptions { sources: args.sources.clone(), since, until };
    let progress = Display::new();

    let report = if args.follow {
        let (tx, rx) = watch::channel(false);
        let mut signals = super::Signals::install();
        tokio::spawn(async move {
            signals.recv().await;
            eprintln!("sync: stopping after the windows in hand (send the signal again to kill)");
            let _ = tx.send(true);
            signals.recv().await;
            std::process::exit(130);
        });
        let interval = Duration::from_secs(config.sync.interval_seconds.max(1));
        loop {
            let report = engine.run_until(&options, &progress, rx.clone()).await;
            progress.clear();
            print_summary(&report);
            if *rx.borrow() {
                break report;
            }
            eprintln!("sync: next run in {}s (Ctrl-C to stop)", interval.as_secs());
            let mut r = rx.clone();
            tokio::select! {
                _ = tokio::time::sleep(interval) => {}
                _ = r.wait_for(|v| *v) => {}
            }
            if *rx.borrow() {
                break report;
            }
        }
    } else {
        let report = engine.run(&options, &progress).await;
        progress.clear();
        print_summary(&report);
        report
    };
    if let Some(b) = background {
        // After a stop signal in --follow mode, only what is in hand stops: nothing waits.
        let within = if args.follow { Duration::ZERO } else { super::archiving::DRAIN };
        b.finish(within, super::archiving::LEFT_FOR_NEXT).await?;
    }
    for s in report.sources.iter().filter(|s| !s.ok) {
        eprintln!("error: source `{}`: {}", s.source, s.error.as_deref().unwrap_or("failed"));
    }
    Ok(if report.all_ok() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

/// Progress bars on a TTY, log lines otherwise.
pub(crate) struct Display {
    bars: Option<MultiProgress>,
    sources: Mutex<HashMap<String, SourceProgress>>,
}

struct SourceProgress {
    bar: Option<ProgressBar>,
    windows: usize,
    done: usize,
    records: u64,
    started: Instant,
    last_line: Instant,
}

impl Display {
    pub(crate) fn new() -> Self {
        let bars = std::io::stderr()
            .is_terminal()
            .then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr_with_hz(8)));
        Display { bars, sources: Mutex::new(HashMap::new()) }
    }

    pub(crate) fn clear(&self) {
        if let Some(m) = &self.bars {
            let _ = m.clear();
        }
        if let Ok(mut s) = self.sources.lock() {
            s.clear();
        }
    }
}

fn rate(records: u64, started: Instant) -> f64 {
    records as f64 / started.elapsed().as_secs_f64().max(0.001)
}

impl Progress for Display {
    fn planned(&self, source: &str, windows: usize) {
        let bar = self.bars.as_ref().map(|m| {
            let style = ProgressStyle::with_template("{prefix:>14} [{bar:30.cyan/blue}] {pos}/{len} windows  {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> ");
            let b = m.add(ProgressBar::new(windows as u64).with_style(style).with_prefix(source.to_string()));
            b.set_message("0 records");
            b
        });
        if bar.is_none() {
            eprintln!("sync: {source}: {windows} window(s) to fetch");
        }
        if let Ok(mut s) = self.sources.lock() {
            let now = Instant::now();
            s.insert(
                source.to_string(),
                SourceProgress { bar, windows, done: 0, records: 0, started: now, last_line: now },
            );
        }
    }

    fn window_done(&self, source: &str, records: u64) {
        let Ok(mut s) = self.sources.lock() else { return };
        let Some(p) = s.get_mut(source) else { return };
        p.done += 1;
        p.records += records;
        let r = rate(p.records, p.started);
        match &p.bar {
            Some(b) => {
                b.inc(1);
                b.set_message(format!("{} records, {:.0}/s", p.records, r));
            }
            None => {
                if p.done == p.windows || p.last_line.elapsed() >= Duration::from_secs(2) {
                    p.last_line = Instant::now();
                    eprintln!(
                        "sync: {source}: {}/{} windows, {} records, {:.0} records/s",
                        p.done, p.windows, p.records, r
                    );
                }
            }
        }
    }

    fn finished(&self, report: &SourceReport) {
        let Ok(mut s) = self.sources.lock() else { return };
        if let Some(p) = s.get_mut(&report.source)
            && let Some(b) = p.bar.take()
        {
            b.finish_with_message(format!("{} records, {}", p.records, if report.ok { "done" } else { "FAILED" }));
        } else if self.bars.is_none() {
            eprintln!(
                "sync: {}: {} in {:.1}s",
                report.source,
                if report.ok { "done" } else { "failed" },
                report.elapsed.as_secs_f64()
            );
        }
    }
}

/// The summary table, one row per source.
pub(crate) fn print_summary(report: &SyncReport) {
    println!(
        "{:<16} {:<12} {:<6} {:>9} {:>9} {:>9} {:>9} {:>8} {:>7} {:>8}",
        "SOURCE", "PROVIDER", "STATUS", "FETCHED", "NEW", "UPDATED", "REQUESTS", "RETRIES", "ERRORS", "TIME"
    );
    for s in &report.sources {
        println!(
            "{:<16} {:<12} {:<6} {:>9} {:>9} {:>9} {:>9} {:>8} {:>7} {:>7.1}s",
            s.source,
            s.provider,
            if s.ok { "ok" } else { "FAILED" },
            s.fetched,
            s.inserted,
            s.updated,
            s.requests,
            s.retries,
            s.errors,
            s.elapsed.as_secs_f64()
        );
    }
}
