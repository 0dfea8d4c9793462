//! `huadan export`: stream every matching record into a CSV, JSON Lines or Parquet file.

use crate::args::{ExportArgs, ExportFormat as Format};
use crate::error::CliError;
use huadan_server::export::{ExportError, ExportFormat, ExportOptions, export_to_path};
use std::path::Path;
use std::process::ExitCode;

/// Run `huadan export`.
pub async fn run(config: Option<&Path>, args: ExportArgs) -> Result<ExitCode, CliError> {
    let config = super::load_config(config)?;
    let filter = crate::filters::to_filter(&args.filter, &config.tz())?;
    if args.bom && args.format != Format::Csv {
        return Err(CliError::usage("--bom applies to --format csv only"));
    }
    let format = match args.format {
        Format::Csv => ExportFormat::Csv,
        Format::Jsonl => ExportFormat::Jsonl,
        Format::Parquet => ExportFormat::Parquet,
    };
    let store = super::open_store(&config).await?;
    let options = ExportOptions { format, bom: args.bom, ..ExportOptions::default() };
    let started = std::time::Instant::now();
    let n = export_to_path(&store, filter, &options, &args.output).await.map_err(|e| match e {
        ExportError::Store(s) => CliError::from(s),
        other => CliError::Runtime(other.into()),
    })?;
    eprintln!("exported {n} records to {} in {:.1}s", args.output.display(), started.elapsed().as_secs_f64());
    Ok(ExitCode::SUCCESS)
}
