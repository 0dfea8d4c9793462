//! Pages of records as the store hands them out (JSON, [`JsonRecords`]) → one export
//! format, masking phone numbers first when asked. JSON Lines copies each record's JSON
//! through; CSV and Parquet read a [`RecordView`] of it.

use super::view::RecordView;
use super::{CsvWriter, JsonlWriter, ParquetWriter};
use huadan_model::CallRecord;
use huadan_store::JsonRecords;
use std::io::{self, Write};

/// The output format of an encoder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    /// CSV, with or without a byte-order mark.
    Csv { bom: bool },
    /// JSON Lines.
    Jsonl,
    /// Parquet, row groups of this many records.
    Parquet { batch_rows: usize },
}

enum Writer<W: Write + Send> {
    Csv(CsvWriter<W>),
    Jsonl(JsonlWriter<W>),
    Parquet(Box<ParquetWriter<W>>),
}

/// Writes pages of records in one format.
pub(crate) struct PageEncoder<W: Write + Send> {
    writer: Writer<W>,
    mask: bool,
    rows: u64,
}

fn unreadable(e: serde_json::Error) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("a stored record cannot be read: {e}"))
}

/// A record's JSON with every phone number masked (and `raw` dropped), as viewers see it.
pub(crate) fn masked(json: &[u8]) -> io::Result<Vec<u8>> {
    let mut r: CallRecord = serde_json::from_slice(json).map_err(unreadable)?;
    r.mask_numbers();
    serde_json::to_vec(&r).map_err(io::Error::other)
}

/// Pages at least this long are rendered on two threads.
const PARALLEL_FROM: usize = 64;

/// Render records as CSV rows (`csv`) or JSON lines, masked when `mask`.
fn render(items: &[&[u8]], csv: bool, mask: bool) -> io::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(items.iter().map(|j| j.len() + 512).sum());
    let mut rows = CsvWriter::rows_only(&mut out);
    for &json in items {
        let masked_json;
        let json = if mask {
            masked_json = masked(json)?;
            &masked_json[..]
        } else {
            json
        };
        if csv {
            rows.write(&RecordView::parse(json).map_err(unreadable)?)?;
        } else {
            let out = rows.get_mut();
            out.extend_from_slice(json);
            out.push(b'\n');
        }
    }
    Ok(out)
}

impl<W: Write + Send> PageEncoder<W> {
    /// Start the output (BOM and header for CSV).
    pub fn new(out: W, format: Format, mask: bool) -> io::Result<Self> {
        let writer = match format {
            Format::Csv { bom } => Writer::Csv(CsvWriter::new(out, bom)?),
            Format::Jsonl => Writer::Jsonl(JsonlWriter::new(out)),
            Format::Parquet { batch_rows } => {
                Writer::Parquet(Box::new(ParquetWriter::new(out, batch_rows).map_err(io::Error::other)?))
            }
        };
        Ok(PageEncoder { writer, mask, rows: 0 })
    }

    /// Write every record of `page`. CSV rows (and masked JSON lines) of a large page
    /// are rendered in two halves on two threads, then written in order; Parquet and
    /// unmasked JSON Lines (a copy) are written as they are read.
    pub fn write_page(&mut self, page: &JsonRecords) -> io::Result<()> {
        let mask = self.mask;
        let csv = matches!(self.writer, Writer::Csv(_));
        let out = match &mut self.writer {
            Writer::Parquet(w) => {
                for json in page.iter() {
                    let masked_json;
                    let json = if mask {
                        masked_json = masked(json)?;
                        &masked_json[..]
                    } else {
                        json
                    };
                    w.write(&RecordView::parse(json).map_err(unreadable)?).map_err(io::Error::other)?;
                }
                self.rows += page.len() as u64;
                return Ok(());
            }
            Writer::Jsonl(w) if !mask => {
                for json in page.iter() {
                    w.write_json(json)?;
                }
                self.rows += page.len() as u64;
                return Ok(());
            }
            Writer::Jsonl(w) => w.get_mut(),
            Writer::Csv(w) => w.get_mut(),
        };
        let items: Vec<&[u8]> = page.iter().collect();
        if items.len() < PARALLEL_FROM {
            out.write_all(&render(&items, csv, mask)?)?;
        } else {
            let (first, second) = items.split_at(items.len() / 2);
            let (a, b) = std::thread::scope(|s| {
                let other = s.spawn(|| render(first, csv, mask));
                let mine = render(second, csv, mask);
                (other.join(), mine)
            });
            let a = a.map_err(|_| io::Error::other("an export thread stopped unexpectedly"))??;
            out.write_all(&a)?;
            out.write_all(&b?)?;
        }
        self.rows += items.len() as u64;
        Ok(())
    }

    /// Records written so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// The output, for the text formats (the HTTP export drains its buffer between
    /// pages); `None` for Parquet.
    pub fn text_output(&mut self) -> Option<&mut W> {
        match &mut self.writer {
            Writer::Csv(w) => Some(w.get_mut()),
            Writer::Jsonl(w) => Some(w.get_mut()),
            Writer::Parquet(_) => None,
        }
    }

    /// Finish the file (Parquet's last row group and footer) and return the output.
    pub fn finish(self) -> io::Result<W> {
        match self.writer {
            Writer::Csv(w) => w.finish(),
            Writer::Jsonl(w) => w.finish(),
            Writer::Parquet(w) => w.finish().map_err(io::Error::other),
        }
    }
}
