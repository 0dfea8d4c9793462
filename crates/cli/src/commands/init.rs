//! `huadan init`: write the commented config template; never overwrite.

use crate::args::InitArgs;
use crate::error::CliError;
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

/// Run `huadan init`.
pub async fn run(config: Option<&Path>, args: InitArgs) -> Result<ExitCode, CliError> {
    let path = args.output.unwrap_or_else(|| huadan_config::Config::locate(config));
    let mut file = match std::fs::OpenOptions::new().write(true).create_new(true).open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            return Err(CliError::usage(format!(
                "{} already exists; huadan init never overwrites a config (remove it first or use --output)",
                path.display()
            )));
        }
        Err(e) => return Err(CliError::Runtime(anyhow::anyhow!("cannot create {}: {e}", path.display()))),
    };
    file.write_all(huadan_config::TEMPLATE.as_bytes())?;
    println!("wrote {}; edit the sources, set the ${{…}} variables, then run `huadan doctor`", path.display());
    Ok(ExitCode::SUCCESS)
}
