//! The byte stream behind `GET /v1/export.csv` and `/v1/export.jsonl`: records are
//! encoded as they come out of the store, a few hundred at a time, so memory stays flat.

use super::{CsvWriter, JsonlWriter};
use bytes::Bytes;
use futures::stream::{self, BoxStream, Stream, StreamExt};
use huadan_model::CallRecord;
use huadan_store::StoreError;
use std::io;

/// The text formats the HTTP export serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextFormat {
    /// CSV, optionally with a UTF-8 byte-order mark.
    Csv {
        /// Start with a BOM.
        bom: bool,
    },
    /// JSON Lines.
    Jsonl,
}

enum Encoder {
    Csv(CsvWriter<Vec<u8>>),
    Jsonl(JsonlWriter<Vec<u8>>),
}

impl Encoder {
    fn write(&mut self, r: &CallRecord) -> io::Result<()> {
        match self {
            Encoder::Csv(w) => w.write(r),
            Encoder::Jsonl(w) => w.write(r),
        }
    }

    fn take(&mut self) -> Bytes {
        let buf = match self {
            Encoder::Csv(w) => w.get_mut(),
            Encoder::Jsonl(w) => w.get_mut(),
        };
        Bytes::from(std::mem::take(buf))
    }
}

/// Records per encoded chunk (at most; fewer when the store has fewer ready).
const CHUNK_RECORDS: usize = 256;

/// Encode `records` as `format`. The first record is read before anything is sent, so
/// that a store that fails at once gives the caller an error to answer with a proper
/// status; a failure later ends the stream with an error (the connection is cut, the
/// client sees a truncated body rather than a silently short export).
pub async fn http_body(
    records: BoxStream<'static, Result<CallRecord, StoreError>>,
    format: TextFormat,
    mask_numbers: bool,
) -> Result<impl Stream<Item = Result<Bytes, io::Error>> + Send + 'static, StoreError> {
    // Fused: after an empty first read the rest must not poll the store's stream again.
    let mut records = records.fuse();
    let first = records.next().await.transpose()?;
    let records = prefetch(records);
    let mut encoder = match format {
        TextFormat::Csv { bom } => Encoder::Csv(CsvWriter::new(Vec::with_capacity(64 * 1024), bom).map_err(io_err)?),
        TextFormat::Jsonl => Encoder::Jsonl(JsonlWriter::new(Vec::with_capacity(64 * 1024))),
    };
    if let Some(mut rec) = first {
        if mask_numbers {
            rec.mask_numbers();
        }
        encoder.write(&rec).map_err(io_err)?;
    }
    let head = encoder.take();
    let rest = records.ready_chunks(CHUNK_RECORDS).map(move |chunk| {
        for item in chunk {
            let mut rec = item.map_err(|e| {
                tracing::error!(error = %e, "export stream failed; cutting the response");
                io::Error::other(e)
            })?;
            if mask_numbers {
                rec.mask_numbers();
            }
            encoder.write(&rec)?;
        }
        Ok(encoder.take())
    });
    Ok(stream::once(async move { Ok(head) }).chain(rest))
}

/// Records read ahead of the encoder (bounds memory; lets the store decode the next
/// page while the last one is encoded and sent).
const PREFETCH: usize = 2048;

/// Drive `records` from a task of its own into a bounded channel, so that reading the
/// store overlaps with encoding and sending. Dropping the returned stream (client gone)
/// stops the task at its next send.
fn prefetch(
    mut records: impl Stream<Item = Result<CallRecord, StoreError>> + Send + Unpin + 'static,
) -> impl Stream<Item = Result<CallRecord, StoreError>> + Send + Unpin + 'static {
    let (tx, rx) = tokio::sync::mpsc::channel(PREFETCH);
    tokio::spawn(async move {
        while let Some(item) = records.next().await {
            let failed = item.is_err();
            if tx.send(item).await.is_err() || failed {
                break;
            }
        }
    });
    Box::pin(stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|item| (item, rx)) }))
}

/// Writing to a `Vec` fails only if serialising fails, which the record types never do.
fn io_err(e: io::Error) -> StoreError {
    StoreError::Db(format!("encoding the export failed: {e}"))
}
