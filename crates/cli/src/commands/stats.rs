//! `huadan stats`.

use crate::args::StatsArgs;
use crate::error::CliError;
use std::path::Path;
use std::process::ExitCode;

/// Run `huadan stats`.
pub async fn run(config: Option<&Path>, args: StatsArgs) -> Result<ExitCode, CliError> {
    let _ = (config, args);
    Err(super::not_yet("stats"))
}
