//! `huadan sync`.

use crate::args::SyncArgs;
use crate::error::CliError;
use std::path::Path;
use std::process::ExitCode;

/// Run `huadan sync`.
pub async fn run(config: Option<&Path>, args: SyncArgs) -> Result<ExitCode, CliError> {
    let _ = (config, args);
    Err(super::not_yet("sync"))
}
