//! `huadan sandbox`: the five fake vendors until SIGINT/SIGTERM.
//!
//! stdout carries exactly one line — the JSON with every fake's endpoint and
//! credentials — flushed at once so that a parent process can read it; everything
//! else goes to stderr.

use crate::args::SandboxArgs;
use crate::error::CliError;
use huadan_fakekit::{DatasetSpec, Faults};
use huadan_sandbox::{Sandbox, SandboxOptions};
use std::io::Write;
use std::process::ExitCode;

/// Build the sandbox options from the flags; bad flags are usage errors.
pub fn options(args: &SandboxArgs) -> Result<SandboxOptions, CliError> {
    let faults = Faults::parse(&args.faults).map_err(|e| CliError::usage(e.to_string()))?;
    let options = huadan_sandbox::parse_options(&args.options).map_err(|e| CliError::usage(e.to_string()))?;
    if args.days == 0 {
        return Err(CliError::usage("--days must be at least 1"));
    }
    Ok(SandboxOptions {
        host: args.host.clone(),
        base_port: args.base_port,
        spec: DatasetSpec {
            seed: args.seed,
            days: args.days,
            calls_per_day: args.calls_per_day,
            late: 0.0,
            update: 0.0,
        },
        faults,
        limits: !args.no_limits,
        options,
        ..SandboxOptions::default()
    })
}

/// Run `huadan sandbox`.
pub async fn run(args: SandboxArgs) -> Result<ExitCode, CliError> {
    let opts = options(&args)?;
    let sandbox = Sandbox::start(opts).await.map_err(|e| CliError::Runtime(e.into()))?;
    // Handlers first: whoever read the start line may signal at once.
    let stop = super::Signals::install().first();
    // The config is complete before the start line is printed, and it appears whole
    // (written beside, then renamed): whoever waits for either never reads half a file.
    if let Some(path) = &args.write_config {
        write_whole(path, &sandbox.config_toml("sqlite://huadan.db"))
            .map_err(|e| CliError::Runtime(anyhow::anyhow!("cannot write {}: {e}", path.display())))?;
        eprintln!("wrote {}", path.display());
    }
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{}", sandbox.info_line())?;
    stdout.flush()?;
    drop(stdout);
    eprintln!(
        "sandbox: five fake vendors serving {} days × {} calls/day each (seed {}); Ctrl-C to stop",
        args.days, args.calls_per_day, args.seed
    );
    stop.await;
    eprintln!("sandbox: shutting down");
    sandbox.shutdown().await;
    Ok(ExitCode::SUCCESS)
}

/// Write `text` to `path` so that it appears whole: into a temporary file beside it, then
/// renamed over it.
fn write_whole(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = std::path::PathBuf::from(tmp);
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, path)
}
