//! `huadan doctor`.

use crate::error::CliError;
use std::path::Path;
use std::process::ExitCode;

/// Run `huadan doctor`.
pub async fn run(config: Option<&Path>) -> Result<ExitCode, CliError> {
    let _ = config;
    Err(super::not_yet("doctor"))
}
