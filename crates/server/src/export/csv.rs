//! CSV (RFC 4180: comma separated, CRLF line ends, fields quoted when they hold a comma,
//! quote, CR or LF), UTF-8, optionally starting with a byte-order mark so that Excel on
//! Chinese Windows reads it as UTF-8. The header row is [`COLUMNS`]' names.

use super::columns::{COLUMNS, Cell};
use super::view::RecordView;
use std::io::{self, Write};

/// The UTF-8 byte-order mark.
pub const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Writes records as CSV rows.
pub struct CsvWriter<W: Write> {
    out: W,
    rows: u64,
}

impl<W: Write> CsvWriter<W> {
    /// Start a file: the BOM when `bom`, then the header row.
    pub fn new(mut out: W, bom: bool) -> io::Result<Self> {
        if bom {
            out.write_all(BOM)?;
        }
        let header: Vec<&str> = COLUMNS.iter().map(|c| c.name).collect();
        out.write_all(header.join(",").as_bytes())?;
        out.write_all(b"\r\n")?;
        Ok(CsvWriter { out, rows: 0 })
    }

    /// Rows only, no BOM or header: for rendering part of a file on another thread.
    pub(crate) fn rows_only(out: W) -> Self {
        CsvWriter { out, rows: 0 }
    }

    /// Write one record as one row.
    pub fn write(&mut self, r: &RecordView<'_>) -> io::Result<()> {
        for (i, c) in COLUMNS.iter().enumerate() {
            if i > 0 {
                self.out.write_all(b",")?;
            }
            match (c.get)(r) {
                Cell::Null => {}
                Cell::Int(v) => write!(self.out, "{v}")?,
                Cell::Timestamp(t) => write!(self.out, "{t}")?,
                Cell::Text(s) => write_field(&mut self.out, &s)?,
            }
        }
        self.out.write_all(b"\r\n")?;
        self.rows += 1;
        Ok(())
    }

    /// Rows written so far (header not counted).
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

/// One field, quoted when it holds a comma, quote, CR or LF (quotes doubled). Works on
/// bytes: none of the four is ever part of a multi-byte UTF-8 character.
fn write_field<W: Write>(out: &mut W, s: &str) -> io::Result<()> {
    let bytes = s.as_bytes();
    if !bytes.iter().any(|&b| matches!(b, b',' | b'"' | b'\r' | b'\n')) {
        return out.write_all(bytes);
    }
    out.write_all(b"\"")?;
    let mut rest = bytes;
    while let Some(i) = rest.iter().position(|&b| b == b'"') {
        // Up to and including the quote, then the quote again.
        out.write_all(&rest[..=i])?;
        out.write_all(b"\"")?;
        rest = &rest[i + 1..];
    }
    out.write_all(rest)?;
    out.write_all(b"\"")
}

#[cfg(test)]
mod tests {
    use super::*;
    use huadan_model::{CallRecord, Provider, Sentence, Transcript, TranscriptStatus};

    #[test]
    fn quotes_what_needs_quoting_and_keeps_chinese() {
        let mut r = CallRecord::new("s", Provider::Tanma, "1", "2024-03-01T08:00:00Z".parse().unwrap());
        r.remark = Some("客户说\"好的\", 明天\n再打".into());
        r.talk_seconds = Some(42);
        r.transcript = Some(Transcript {
            status: TranscriptStatus::Done,
            sentences: vec![Sentence { text: "您好".into(), ..Sentence::default() }],
        });
        let mut w = CsvWriter::new(Vec::new(), true).unwrap();
        let json = serde_json::to_vec(&r).unwrap();
        w.write(&RecordView::parse(&json).unwrap()).unwrap();
        let bytes = w.finish().unwrap();
        assert!(bytes.starts_with(BOM));
        let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
        let (header, row) = text.split_once("\r\n").unwrap();
        assert!(header.starts_with("id,source,provider,provider_call_id,"));
        assert!(row.contains(",\"客户说\"\"好的\"\", 明天\n再打\","), "{row}");
        assert!(row.contains(",2024-03-01T08:00:00Z,"));
        assert!(row.contains(",42,"));
        assert!(row.contains(",done,您好,"));
        assert!(row.ends_with("\r\n"));
    }
}
