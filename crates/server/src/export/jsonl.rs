//! JSON Lines: one CONTRACT.md §3 record per line, exactly what `serde_json` makes of a
//! [`CallRecord`] (the same objects the REST API returns), `\n` terminated.

use huadan_model::CallRecord;
use std::io::{self, Write};

/// Writes records as JSON lines.
pub struct JsonlWriter<W: Write> {
    out: W,
    rows: u64,
}

impl<W: Write> JsonlWriter<W> {
    /// Start writing to `out`.
    pub fn new(out: W) -> Self {
        JsonlWriter { out, rows: 0 }
    }

    /// Write one record as one line.
    pub fn write(&mut self, r: &CallRecord) -> io::Result<()> {
        serde_json::to_writer(&mut self.out, r).map_err(io::Error::other)?;
        self.out.write_all(b"\n")?;
        self.rows += 1;
        Ok(())
    }

    /// Write one record's JSON object (as the store hands it out) as one line.
    pub fn write_json(&mut self, json: &[u8]) -> io::Result<()> {
        self.out.write_all(json)?;
        self.out.write_all(b"\n")?;
        self.rows += 1;
        Ok(())
    }

    /// Records written so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Mutable access to the output (the HTTP export drains its buffer between chunks).
    pub fn get_mut(&mut self) -> &mut W {
        &mut self.out
    }

    /// Flush and return the output.
    pub fn finish(mut self) -> io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }
}
