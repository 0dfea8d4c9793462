//! Parquet: one typed column per [`COLUMNS`] entry (text as UTF-8 `BYTE_ARRAY`,
//! seconds as `INT64`, instants as `INT64 TIMESTAMP(MICROS, UTC)`), Snappy compressed,
//! one row group per batch of records so memory stays flat however long the export.

use super::columns::{COLUMNS, Cell, ColumnType};
use super::view::RecordView;
use parquet::basic::{Compression, LogicalType, Repetition, TimeUnit, Type as PhysicalType};
use parquet::data_type::{ByteArray, ByteArrayType, Int64Type};
use parquet::errors::ParquetError;
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::types::Type;
use std::io::Write;
use std::sync::Arc;

/// Rows per row group by default.
pub const DEFAULT_BATCH_ROWS: usize = 8192;

/// One column's values for the current batch: present values, plus definition levels
/// (1 present, 0 null) for optional columns.
enum Buffer {
    Bytes { values: Vec<ByteArray>, defs: Vec<i16> },
    Ints { values: Vec<i64>, defs: Vec<i16> },
}

impl Buffer {
    fn clear(&mut self) {
        match self {
            Buffer::Bytes { values, defs } => {
                values.clear();
                defs.clear();
            }
            Buffer::Ints { values, defs } => {
                values.clear();
                defs.clear();
            }
        }
    }
}

/// Writes records into a Parquet file.
pub struct ParquetWriter<W: Write + Send> {
    writer: SerializedFileWriter<W>,
    buffers: Vec<Buffer>,
    pending: usize,
    batch_rows: usize,
    rows: u64,
}

/// The file schema: `message call_record { … }`.
pub fn schema() -> Result<Type, ParquetError> {
    let mut fields = Vec::with_capacity(COLUMNS.len());
    for c in COLUMNS {
        let repetition = if c.required { Repetition::REQUIRED } else { Repetition::OPTIONAL };
        let (physical, logical) = match c.ty {
            ColumnType::Text => (PhysicalType::BYTE_ARRAY, LogicalType::String),
            ColumnType::Int => (PhysicalType::INT64, LogicalType::integer(64, true)),
            ColumnType::Timestamp => (PhysicalType::INT64, LogicalType::timestamp(true, TimeUnit::MICROS)),
        };
        let field = Type::primitive_type_builder(c.name, physical)
            .with_repetition(repetition)
            .with_logical_type(Some(logical))
            .build()?;
        fields.push(Arc::new(field));
    }
    Type::group_type_builder("call_record").with_fields(fields).build()
}

impl<W: Write + Send> ParquetWriter<W> {
    /// Start a file with row groups of `batch_rows` records (at least 1).
    pub fn new(out: W, batch_rows: usize) -> Result<Self, ParquetError> {
        let props = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .set_created_by(format!("huadan {}", env!("CARGO_PKG_VERSION")))
            .build();
        let writer = SerializedFileWriter::new(out, Arc::new(schema()?), Arc::new(props))?;
        let batch_rows = batch_rows.max(1);
        let buffers = COLUMNS
            .iter()
            .map(|c| match c.ty {
                ColumnType::Text => Buffer::Bytes { values: Vec::with_capacity(batch_rows), defs: Vec::new() },
                ColumnType::Int | ColumnType::Timestamp => {
                    Buffer::Ints { values: Vec::with_capacity(batch_rows), defs: Vec::new() }
                }
            })
            .collect();
        Ok(ParquetWriter { writer, buffers, pending: 0, batch_rows, rows: 0 })
    }

    /// Add one record; a full batch is written out as a row group.
    pub fn write(&mut self, r: &RecordView<'_>) -> Result<(), ParquetError> {
        for (c, buf) in COLUMNS.iter().zip(self.buffers.iter_mut()) {
            let cell = (c.get)(r);
            let present = !matches!(cell, Cell::Null);
            match buf {
                Buffer::Bytes { values, defs } => {
                    if let Cell::Text(s) = cell {
                        values.push(ByteArray::from(s.into_owned().into_bytes()));
                    }
                    if !c.required {
                        defs.push(i16::from(present));
                    }
                }
                Buffer::Ints { values, defs } => {
                    match cell {
                        Cell::Int(v) => values.push(v),
                        Cell::Timestamp(t) => values.push(t.as_microsecond()),
                        _ => {}
                    }
                    if !c.required {
                        defs.push(i16::from(present));
                    }
                }
            }
            if c.required && !present {
                return Err(ParquetError::General(format!(
                    "record {}: required column `{}` has no value",
                    r.id.as_str(),
                    c.name
                )));
            }
        }
        self.pending += 1;
        self.rows += 1;
        if self.pending >= self.batch_rows {
            self.flush_row_group()?;
        }
        Ok(())
    }

    fn flush_row_group(&mut self) -> Result<(), ParquetError> {
        if self.pending == 0 {
            return Ok(());
        }
        let mut rg = self.writer.next_row_group()?;
        let mut i = 0;
        while let Some(mut col) = rg.next_column()? {
            let required = COLUMNS[i].required;
            match &self.buffers[i] {
                Buffer::Bytes { values, defs } => {
                    col.typed::<ByteArrayType>().write_batch(values, (!required).then_some(&defs[..]), None)?;
                }
                Buffer::Ints { values, defs } => {
                    col.typed::<Int64Type>().write_batch(values, (!required).then_some(&defs[..]), None)?;
                }
            }
            col.close()?;
            i += 1;
        }
        rg.close()?;
        for b in &mut self.buffers {
            b.clear();
        }
        self.pending = 0;
        Ok(())
    }

    /// Records written so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Write the last row group and the footer; returns the output.
    pub fn finish(mut self) -> Result<W, ParquetError> {
        self.flush_row_group()?;
        let mut out = self.writer.into_inner()?;
        out.flush()?;
        Ok(out)
    }
}
