//! `huadan recordings`: the recording archive's queue (`status`) and a backfill (`fetch`).

use crate::args::FilterArgs;
use crate::error::CliError;
use clap::{Args, Subcommand, ValueEnum};
use futures::StreamExt;
use huadan_config::Config;
use huadan_recordings::{Archive, Archiver, Queue, RecordingsConfig, RunOptions};
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

/// `huadan recordings`.
#[derive(Debug, Args)]
pub struct RecordingsArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: RecordingsCommand,
}

/// `huadan recordings …`.
#[derive(Debug, Subcommand)]
pub enum RecordingsCommand {
    /// Archived, pending, failed and expired recordings, and bytes archived.
    Status {
        /// Output format.
        #[arg(long, value_enum, default_value_t = StatusFormat::Table)]
        format: StatusFormat,
    },
    /// Queue the recordings of stored records matching the filters and archive them now.
    Fetch(Box<FetchArgs>),
}

/// Output of `recordings status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StatusFormat {
    /// One line per status.
    Table,
    /// One JSON object.
    Json,
}

/// `huadan recordings fetch`.
#[derive(Debug, Args)]
pub struct FetchArgs {
    /// Which records.
    #[command(flatten)]
    pub filter: FilterArgs,
    /// Also retry recordings that ended `failed` (and `expired` ones whose link may live).
    #[arg(long)]
    pub retry_failed: bool,
    /// Stop after this many seconds; what is left stays queued.
    #[arg(long, default_value_t = 3600)]
    pub timeout_seconds: u64,
}

fn recordings_config(config: &Config) -> Result<RecordingsConfig, CliError> {
    let table = config
        .recordings
        .as_ref()
        .ok_or_else(|| CliError::usage("no [recordings] section in the config (see `huadan init`)"))?;
    RecordingsConfig::from_table(table).map_err(|e| CliError::usage(e.to_string()))
}

fn runtime(e: huadan_recordings::RecordingsError) -> CliError {
    CliError::Runtime(e.into())
}

/// Run `huadan recordings`.
pub async fn run(config_path: Option<&Path>, args: RecordingsArgs) -> Result<ExitCode, CliError> {
    let config = super::load_config(config_path)?;
    let cfg = recordings_config(&config)?;
    let queue = Arc::new(Queue::open(&cfg.queue_path(&config.store.url)).map_err(runtime)?);
    match args.command {
        RecordingsCommand::Status { format } => {
            let s = queue.stats().map_err(runtime)?;
            match format {
                StatusFormat::Json => println!(
                    "{}",
                    serde_json::json!({
                        "archived": s.archived, "pending": s.pending, "failed": s.failed,
                        "expired": s.expired, "bytes": s.bytes,
                    })
                ),
                StatusFormat::Table => {
                    println!("archived  {}", s.archived);
                    println!("pending   {}", s.pending);
                    println!("failed    {}", s.failed);
                    println!("expired   {}", s.expired);
                    println!("bytes     {}", s.bytes);
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        RecordingsCommand::Fetch(a) => {
            if !cfg.archive {
                return Err(CliError::usage("[recordings] archive = false: nothing to fetch"));
            }
            let filter = crate::filters::to_filter(&a.filter, &config.tz())?;
            let store = super::open_store(&config).await?;
            let archiver = Archiver::new(cfg.clone(), queue.clone(), Archive::open(&cfg).map_err(runtime)?)
                .map_err(runtime)?
                .with_hook(huadan_recordings::store_hook(store.clone()));
            if a.retry_failed {
                queue.retry_failed(true, jiff::Timestamp::now()).map_err(runtime)?;
            }
            let mut records = store.export(filter);
            let mut batch = Vec::with_capacity(500);
            let mut queued = 0;
            while let Some(r) = records.next().await {
                batch.push(r?);
                if batch.len() == 500 {
                    queued += archiver.enqueue_records(&batch).map_err(runtime)?;
                    batch.clear();
                }
            }
            queued += archiver.enqueue_records(&batch).map_err(runtime)?;
            eprintln!("queued {queued} recordings");
            let opts = RunOptions { until_idle: true, deadline: Some(Duration::from_secs(a.timeout_seconds)) };
            let run = archiver.run(opts);
            let summary = tokio::select! {
                s = run => s.map_err(runtime)?,
                _ = super::shutdown_signal() => {
                    eprintln!("interrupted: what is left stays queued");
                    return Ok(ExitCode::from(1));
                }
            };
            let s = queue.stats().map_err(runtime)?;
            eprintln!(
                "archived {} ({} bytes) this run; queue: archived {}, pending {}, failed {}, expired {}",
                summary.archived, summary.bytes, s.archived, s.pending, s.failed, s.expired
            );
            Ok(if s.failed > 0 || s.pending > 0 { ExitCode::from(1) } else { ExitCode::SUCCESS })
        }
    }
}
