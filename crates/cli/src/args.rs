//! Command-line arguments (CONTRACT.md §2). Names here are a public contract.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// huadan (话单): every call record from every platform, in one place you control.
#[derive(Debug, Parser)]
#[command(name = "huadan", version, about, long_about = None)]
pub struct Cli {
    /// Config file (default: $HUADAN_CONFIG, else ./huadan.toml).
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,

    /// More log output (-v info, -vv debug, -vvv trace); RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// Log format.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines on stderr.
    Text,
    /// One JSON object per line on stderr.
    Json,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write a commented huadan.toml template (refuses to overwrite).
    Init(InitArgs),
    /// Check each source: config valid, endpoint reachable, credentials accepted.
    Doctor,
    /// Pull records from the vendors into the store.
    Sync(SyncArgs),
    /// List stored records, newest first.
    Calls(CallsArgs),
    /// Counts, answered rate and talk time, grouped.
    Stats(StatsArgs),
    /// Stream a full export to a file.
    Export(ExportArgs),
    /// REST API + dashboard + scheduled sync of all enabled sources.
    Serve,
    /// Run the five fake vendor APIs.
    Sandbox(SandboxArgs),
    /// Sandbox + sync + serve in one process on an embedded SQLite.
    Demo(DemoArgs),
    /// The recording archive: queue status, backfill.
    Recordings(crate::commands::recordings::RecordingsArgs),
    /// Copy every record and sync state from one store to another (e.g. SQLite → PostgreSQL).
    Copy(crate::commands::copy::CopyArgs),
}

/// `huadan init`.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// Where to write (default: the --config path, else ./huadan.toml).
    #[arg(long, value_name = "PATH")]
    pub output: Option<PathBuf>,
}

/// `huadan sync`.
#[derive(Debug, Args)]
pub struct SyncArgs {
    /// Only these sources (repeatable; default: every enabled source).
    #[arg(long = "source", value_name = "NAME")]
    pub sources: Vec<String>,
    /// Sync from this time (RFC 3339, YYYY-MM-DD or YYYY-MM-DD HH:MM:SS).
    #[arg(long, value_name = "T")]
    pub since: Option<String>,
    /// Sync up to this time (default: now).
    #[arg(long, value_name = "T")]
    pub until: Option<String>,
    /// Keep polling every sync.interval_seconds until SIGINT/SIGTERM.
    #[arg(long)]
    pub follow: bool,
    /// On a shared (PostgreSQL) store: this worker's name in window leases
    /// (default: hostname-pid-random).
    #[arg(long, value_name = "NAME")]
    pub worker_id: Option<String>,
    /// On a shared (PostgreSQL) store: how long a window lease lasts without a heartbeat;
    /// a killed worker's windows are taken over after this.
    #[arg(long, value_name = "SECONDS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub lease_seconds: u64,
}

/// Filters shared by `calls`, `stats` and `export`.
#[derive(Debug, Args, Clone, Default)]
pub struct FilterArgs {
    /// Source name (repeatable).
    #[arg(long = "source", value_name = "NAME")]
    pub sources: Vec<String>,
    /// Provider kind (repeatable).
    #[arg(long = "provider", value_name = "KIND")]
    pub providers: Vec<String>,
    /// Calls started at or after T.
    #[arg(long, value_name = "T")]
    pub since: Option<String>,
    /// Calls started before T.
    #[arg(long, value_name = "T")]
    pub until: Option<String>,
    /// inbound, outbound, internal, unknown (repeatable).
    #[arg(long = "direction", value_name = "DIR")]
    pub directions: Vec<String>,
    /// answered, no_answer, busy, … (repeatable).
    #[arg(long = "disposition", value_name = "D")]
    pub dispositions: Vec<String>,
    /// Agent id or name.
    #[arg(long, value_name = "AGENT")]
    pub agent: Option<String>,
    /// Matches caller or callee number.
    #[arg(long, value_name = "NUMBER")]
    pub number: Option<String>,
    /// Transcript contains this text.
    #[arg(long, value_name = "TEXT")]
    pub text: Option<String>,
}

/// Output format of `calls`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CallsFormat {
    /// Aligned columns.
    Table,
    /// One JSON array.
    Json,
    /// One JSON object per line.
    Jsonl,
    /// CSV with a header row.
    Csv,
}

/// `huadan calls`.
#[derive(Debug, Args)]
pub struct CallsArgs {
    /// Which records.
    #[command(flatten)]
    pub filter: FilterArgs,
    /// At most N records.
    #[arg(long, default_value_t = 50)]
    pub limit: usize,
    /// Output format.
    #[arg(long, value_enum, default_value_t = CallsFormat::Table)]
    pub format: CallsFormat,
}

/// `huadan stats`.
#[derive(Debug, Args)]
pub struct StatsArgs {
    /// Which records.
    #[command(flatten)]
    pub filter: FilterArgs,
    /// Grouping: provider, source, agent, day, hour, weekday, disposition.
    #[arg(long, default_value = "provider")]
    pub by: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t = CallsFormat::Table)]
    pub format: CallsFormat,
}

/// Export format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// CSV (UTF-8).
    Csv,
    /// One JSON object per line.
    Jsonl,
    /// Apache Parquet.
    Parquet,
}

/// `huadan export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Which records.
    #[command(flatten)]
    pub filter: FilterArgs,
    /// Format.
    #[arg(long, value_enum)]
    pub format: ExportFormat,
    /// Output file.
    #[arg(long, value_name = "FILE")]
    pub output: PathBuf,
    /// CSV only: start with a UTF-8 byte-order mark (Excel on Chinese Windows).
    #[arg(long)]
    pub bom: bool,
}

/// `huadan sandbox`.
#[derive(Debug, Args, Clone)]
pub struct SandboxArgs {
    /// Address to bind.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,
    /// First port; the five fakes use P..P+4 (wecom, tencent_ccc, aliyun_ccc,
    /// tencent_ads, tanma). 0 picks free ports.
    #[arg(long, default_value_t = 9100)]
    pub base_port: u16,
    /// Dataset seed.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Days of history.
    #[arg(long, default_value_t = 30)]
    pub days: u32,
    /// Average calls per day per vendor.
    #[arg(long, default_value_t = 200)]
    pub calls_per_day: u32,
    /// Fault injection, e.g. "http500=0.05,timeout=0.02,ratelimit=0.05,token_expiry=0.01,late=0.01,update=0.02".
    #[arg(long, default_value = "")]
    pub faults: String,
    /// Switch off the vendors' quotas (benchmarks).
    #[arg(long)]
    pub no_limits: bool,
    /// Also write a ready huadan.toml pointing at the sandbox.
    #[arg(long, value_name = "FILE")]
    pub write_config: Option<PathBuf>,
    /// Vendor-specific switch, `vendor.key=value` (e.g. `aliyun_ccc.string_numbers=true`).
    #[arg(long = "option", value_name = "VENDOR.KEY=VALUE")]
    pub options: Vec<String>,
}

/// `huadan demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Exit after the sync instead of serving.
    #[arg(long)]
    pub no_serve: bool,
    /// The demo database (recreated each run).
    #[arg(long, default_value = "huadan-demo.db")]
    pub db: PathBuf,
    /// Average calls per day per vendor in the demo dataset.
    #[arg(long, default_value_t = 200)]
    pub calls_per_day: u32,
    /// Days of history to sync.
    #[arg(long, default_value_t = 30)]
    pub days: u32,
    /// Dataset seed.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Where the REST API + dashboard listen.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: String,
}
