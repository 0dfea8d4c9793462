//! Exports: CSV, JSON Lines and Parquet writers over [`huadan_store::Store::export`]'s
//! stream, with flat memory (records are written as they arrive; Parquet holds one row
//! group at a time).
//!
//! * [`export_to_path`]: what `huadan export` calls;
//! * [`http_body`]: the byte stream behind `GET /v1/export.csv` / `.jsonl`;
//! * [`CsvWriter`], [`JsonlWriter`], [`ParquetWriter`]: the writers themselves, over any
//!   `io::Write`.
//!
//! The CSV and Parquet column set is fixed and documented in [`columns`].
//!
//! ```no_run
//! # async fn demo(store: huadan_store::DynStore) -> Result<(), huadan_server::export::ExportError> {
//! use huadan_server::export::{export_to_path, ExportFormat, ExportOptions};
//! let options = ExportOptions { format: ExportFormat::Csv, bom: true, ..ExportOptions::default() };
//! let n = export_to_path(&store, Default::default(), &options, "calls.csv".as_ref()).await?;
//! println!("{n} records");
//! # Ok(()) }
//! ```

pub mod columns;
pub mod csv;
mod encode;
pub mod jsonl;
pub mod parquet;
mod stream;
mod threaded;
pub mod view;

pub use csv::CsvWriter;
pub use jsonl::JsonlWriter;
pub use parquet::ParquetWriter;
pub use stream::{TextFormat, http_body};

use encode::{Format, PageEncoder};
use futures::StreamExt;
use huadan_store::{CallFilter, DynStore, JsonRecords, StoreError};
use std::fs::File;
use std::path::{Path, PathBuf};

/// Which file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ExportFormat {
    /// CSV, UTF-8.
    #[default]
    Csv,
    /// One JSON record per line.
    Jsonl,
    /// Apache Parquet.
    Parquet,
}

/// How to export.
#[derive(Debug, Clone)]
pub struct ExportOptions {
    /// The format.
    pub format: ExportFormat,
    /// CSV only: start with a UTF-8 byte-order mark.
    pub bom: bool,
    /// Mask every phone number (viewer access).
    pub mask_numbers: bool,
    /// Parquet only: records per row group.
    pub parquet_batch_rows: usize,
}

impl Default for ExportOptions {
    fn default() -> Self {
        ExportOptions {
            format: ExportFormat::Csv,
            bom: false,
            mask_numbers: false,
            parquet_batch_rows: parquet::DEFAULT_BATCH_ROWS,
        }
    }
}

/// An export failed.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// Reading from the store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Writing the file failed.
    #[error("cannot write {path}: {message}")]
    Write {
        /// The file.
        path: String,
        /// What went wrong.
        message: String,
    },
}

/// Stream every record matching `filter` into the file at `path`. The data goes to
/// `PATH.partial` first and is renamed over `path` only when complete, so a failed
/// export never leaves a truncated file under the requested name. Returns the number
/// of records written.
pub async fn export_to_path(
    store: &DynStore,
    filter: CallFilter,
    options: &ExportOptions,
    path: &Path,
) -> Result<u64, ExportError> {
    let partial = partial_path(path);
    let result = write_file(store, filter, options, &partial).await;
    match result {
        Ok(n) => {
            std::fs::rename(&partial, path).map_err(|e| write_err(path, e))?;
            Ok(n)
        }
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            Err(e)
        }
    }
}

fn partial_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(".partial");
    path.with_file_name(name)
}

fn write_err(path: &Path, e: impl std::fmt::Display) -> ExportError {
    ExportError::Write { path: path.display().to_string(), message: e.to_string() }
}

/// Pages (of [`huadan_store::EXPORT_PAGE`] records) in flight between the store reader
/// and the file writer: bounds memory to a few MB of JSON.
const IN_FLIGHT: usize = 4;

/// Read the store's pages of JSON on the async side and encode + write them on a
/// blocking thread, with a small bounded channel between them, so that reading the
/// next page overlaps with writing the last one while memory stays flat.
async fn write_file(
    store: &DynStore,
    filter: CallFilter,
    options: &ExportOptions,
    path: &Path,
) -> Result<u64, ExportError> {
    let file = File::create(path).map_err(|e| write_err(path, e))?;
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<JsonRecords, StoreError>>(IN_FLIGHT);
    let writer_opts = options.clone();
    let writer_path = path.to_path_buf();
    let writer = tokio::task::spawn_blocking(move || write_pages(file, rx, &writer_opts, &writer_path));
    let mut pages = store.export_json(filter);
    while let Some(page) = pages.next().await {
        let failed = page.is_err();
        if tx.send(page).await.is_err() || failed {
            break; // the writer stopped (its error is reported below), or the store failed
        }
    }
    drop(tx);
    writer.await.map_err(|e| write_err(path, format!("export writer stopped: {e}")))?
}

fn write_pages(
    file: File,
    mut rx: tokio::sync::mpsc::Receiver<Result<JsonRecords, StoreError>>,
    options: &ExportOptions,
    path: &Path,
) -> Result<u64, ExportError> {
    let out = threaded::ThreadedWriter::new(file).map_err(|e| write_err(path, e))?;
    let format = match options.format {
        ExportFormat::Csv => Format::Csv { bom: options.bom },
        ExportFormat::Jsonl => Format::Jsonl,
        ExportFormat::Parquet => Format::Parquet { batch_rows: options.parquet_batch_rows },
    };
    let mut encoder = PageEncoder::new(out, format, options.mask_numbers).map_err(|e| write_err(path, e))?;
    while let Some(page) = rx.blocking_recv() {
        encoder.write_page(&page?).map_err(|e| write_err(path, e))?;
    }
    let n = encoder.rows();
    let out = encoder.finish().map_err(|e| write_err(path, e))?;
    out.finish().map_err(|e| write_err(path, e))?.sync_all().map_err(|e| write_err(path, e))?;
    Ok(n)
}
