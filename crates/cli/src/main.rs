//! The `huadan` binary: argument parsing, logging, exit codes. Each subcommand lives in
//! its own module under `commands/`; the work itself is done by the library crates.
//!
//! Exit codes (CONTRACT.md §2): 0 success, 1 runtime failure, 2 bad usage or config.

mod args;
mod commands;
mod error;
mod filters;
mod malloc;
mod output;

use args::{Cli, Command, LogFormat};
use clap::Parser;
use error::CliError;
use std::process::ExitCode;

fn main() -> ExitCode {
    malloc::tune();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // clap prints help/version to stdout (exit 0) and usage errors to stderr (exit 2).
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    init_logging(cli.verbose, cli.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}

async fn run(cli: Cli) -> Result<ExitCode, CliError> {
    let config_path = cli.config.as_deref();
    match cli.command {
        Command::Init(a) => commands::init::run(config_path, a).await,
        Command::Doctor => commands::doctor::run(config_path).await,
        Command::Sync(a) => commands::sync::run(config_path, a).await,
        Command::Calls(a) => commands::calls::run(config_path, a).await,
        Command::Stats(a) => commands::stats::run(config_path, a).await,
        Command::Export(a) => commands::export::run(config_path, a).await,
        Command::Serve => commands::serve::run(config_path).await,
        Command::Sandbox(a) => commands::sandbox::run(a).await,
        Command::Demo(a) => commands::demo::run(a).await,
        Command::Recordings(a) => commands::recordings::run(config_path, a).await,
        Command::Copy(a) => commands::copy::run(a).await,
    }
}

fn init_logging(verbose: u8, format: LogFormat) {
    use tracing_subscriber::EnvFilter;
    let default = match verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(ansi);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}
