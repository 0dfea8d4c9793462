//! The byte stream behind `GET /v1/export.csv` and `/v1/export.jsonl`: records are
//! encoded as they come out of the store, a page at a time, so memory stays flat.

use super::encode::{Format, PageEncoder};
use bytes::Bytes;
use futures::stream::{self, BoxStream, Stream, StreamExt};
use huadan_store::{JsonRecords, StoreError};
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

/// Pages read ahead of the encoder, and encoded chunks ahead of the client (bounds
/// memory; lets the store read the next page while the last one is encoded and sent).
const AHEAD: usize = 2;

/// Encode the store's pages of records as `format`. The first page is read (and
/// encoded) before anything is sent, so that a store that fails at once gives the
/// caller an error to answer with a proper status; a failure later ends the stream with
/// an error (the connection is cut, the client sees a truncated body rather than a
/// silently short export). The rest is encoded on a blocking thread, one chunk per page.
pub async fn http_body(
    pages: BoxStream<'static, Result<JsonRecords, StoreError>>,
    format: TextFormat,
    mask_numbers: bool,
) -> Result<impl Stream<Item = Result<Bytes, io::Error>> + Send + 'static, StoreError> {
    // Fused: after an empty first read the rest must not poll the store's stream again.
    let mut pages = pages.fuse();
    let first = pages.next().await.transpose()?;
    let format = match format {
        TextFormat::Csv { bom } => Format::Csv { bom },
        TextFormat::Jsonl => Format::Jsonl,
    };
    let mut encoder = PageEncoder::new(Vec::with_capacity(256 * 1024), format, mask_numbers).map_err(io_err)?;
    if let Some(page) = &first {
        encoder.write_page(page).map_err(io_err)?;
    }
    let head = take(&mut encoder);
    if first.is_none() {
        return Ok(stream::once(async move { Ok(head) }).left_stream());
    }

    let (page_tx, mut page_rx) = tokio::sync::mpsc::channel::<Result<JsonRecords, StoreError>>(AHEAD);
    let (bytes_tx, bytes_rx) = tokio::sync::mpsc::channel::<Result<Bytes, io::Error>>(AHEAD);
    // Dropping the body (client gone) closes `bytes_rx`: the encoder stops at its next
    // send, which closes `page_rx`, which stops this reader at its next send.
    tokio::spawn(async move {
        while let Some(page) = pages.next().await {
            let failed = page.is_err();
            if page_tx.send(page).await.is_err() || failed {
                break;
            }
        }
    });
    tokio::task::spawn_blocking(move || {
        while let Some(page) = page_rx.blocking_recv() {
            let chunk = page
                .map_err(|e| {
                    tracing::error!(error = %e, "export stream failed; cutting the response");
                    io::Error::other(e)
                })
                .and_then(|page| encoder.write_page(&page))
                .map(|()| take(&mut encoder));
            let failed = chunk.is_err();
            if bytes_tx.blocking_send(chunk).is_err() || failed {
                break;
            }
        }
    });
    let rest = stream::unfold(bytes_rx, |mut rx| async move { rx.recv().await.map(|item| (item, rx)) });
    Ok(stream::once(async move { Ok(head) }).chain(rest).right_stream())
}

/// What the encoder wrote since the last call.
fn take(encoder: &mut PageEncoder<Vec<u8>>) -> Bytes {
    encoder
        .text_output()
        .map(|buf| Bytes::from(std::mem::replace(buf, Vec::with_capacity(256 * 1024))))
        .unwrap_or_default()
}

/// Writing to a `Vec` fails only if a stored record cannot be read.
fn io_err(e: io::Error) -> StoreError {
    StoreError::Db(format!("encoding the export failed: {e}"))
}
