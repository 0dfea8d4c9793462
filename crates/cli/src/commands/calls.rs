//! `huadan calls`.

use crate::args::CallsArgs;
use crate::error::CliError;
use std::path::Path;
use std::process::ExitCode;

/// Run `huadan calls`.
pub async fn run(config: Option<&Path>, args: CallsArgs) -> Result<ExitCode, CliError> {
    let _ = (config, args);
    Err(super::not_yet("calls"))
}
