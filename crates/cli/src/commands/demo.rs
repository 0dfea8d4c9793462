//! `huadan demo`.

use crate::args::DemoArgs;
use crate::error::CliError;
use std::process::ExitCode;

/// Run `huadan demo`.
pub async fn run(args: DemoArgs) -> Result<ExitCode, CliError> {
    let _ = args;
    Err(super::not_yet("demo"))
}
