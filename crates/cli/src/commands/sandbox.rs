//! `huadan sandbox`.

use crate::args::SandboxArgs;
use crate::error::CliError;
use std::process::ExitCode;

/// Run `huadan sandbox`.
pub async fn run(args: SandboxArgs) -> Result<ExitCode, CliError> {
    let _ = args;
    Err(super::not_yet("sandbox"))
}
