//! `huadan export`.

use crate::args::ExportArgs;
use crate::error::CliError;
use std::path::Path;
use std::process::ExitCode;

/// Run `huadan export`.
pub async fn run(config: Option<&Path>, args: ExportArgs) -> Result<ExitCode, CliError> {
    let _ = (config, args);
    Err(super::not_yet("export"))
}
