//! A batch encoded in the background and handed out in order as it is ready, so that
//! its write can start before its last records are encoded.
//!
//! A prepared batch used to be encoded whole before its write could start. With batch
//! N+1 encoded while N was written, the writer waited whenever N+1's encoding took longer
//! than N's write, and the encoding threads waited whenever it took less: each side idle
//! in turn (store_bench: one of the two cores idle a fifth of the time). Here the write
//! of N+1 takes its chunks as soon as they are done while the rest are still being
//! encoded; the writer only waits when it has caught up with the encoders, and then both
//! encoders have the two cores.

use crate::StoreError;
use crate::content::{self, Encoded};
use crate::packing::Codebook;
use huadan_model::CallRecord;
use std::collections::BTreeMap;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex, PoisonError};

/// Records per chunk that the encoding threads take in turn.
const CHUNK: usize = 64;
/// Encoding threads per batch.
const THREADS: usize = 2;

/// A chunk of encoded rows, numbered by its place in the batch.
type Chunk = (usize, Result<Vec<Encoded>, StoreError>);

/// The rows of a batch being encoded by background threads: an iterator over them in the
/// batch's order, each waiting for its chunk if need be. A chunk that failed to encode
/// yields its error (the write rolls the batch back); so does the end of the encoding
/// before every row was handed out (an encoding thread that died), so a batch is never
/// written in part as if it were whole. Dropping it stops the threads at their next chunk.
pub(crate) struct StreamedRows {
    rx: Receiver<Chunk>,
    /// Chunks that arrived before their turn.
    early: BTreeMap<usize, Result<Vec<Encoded>, StoreError>>,
    /// The chunk whose rows are being handed out.
    current: std::vec::IntoIter<Encoded>,
    /// The number of the next chunk to hand out.
    next: usize,
    /// How many chunks the batch has.
    chunks: usize,
    /// How many rows the batch has.
    len: usize,
    /// An error was handed out: nothing more follows.
    done: bool,
}

impl std::fmt::Debug for StreamedRows {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "StreamedRows({} rows, chunk {}/{})", self.len, self.next, self.chunks)
    }
}

impl StreamedRows {
    /// How many rows the batch has (all of them, handed out or not).
    pub(crate) fn len(&self) -> usize {
        self.len
    }
}

impl Iterator for StreamedRows {
    type Item = Result<Encoded, StoreError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(row) = self.current.next() {
                return Some(Ok(row));
            }
            if self.done || self.next == self.chunks {
                return None;
            }
            let chunk = match self.early.remove(&self.next) {
                Some(chunk) => chunk,
                None => match self.rx.recv() {
                    Ok((i, chunk)) if i != self.next => {
                        self.early.insert(i, chunk);
                        continue;
                    }
                    Ok((_, chunk)) => chunk,
                    // Every thread is gone and this chunk never came.
                    Err(_) => Err(StoreError::Db("the batch could not be encoded (encoder thread stopped)".into())),
                },
            };
            self.next += 1;
            match chunk {
                Ok(rows) => self.current = rows.into_iter(),
                Err(e) => {
                    self.done = true;
                    return Some(Err(e));
                }
            }
        }
    }
}

/// Start encoding `records` with `book` on background threads (at low priority, see
/// [`content::lower_priority`]); the rows come out of the returned iterator in order.
/// When no thread can be started, the batch is encoded here, before returning.
pub(crate) fn encode_streamed(records: Vec<CallRecord>, book: Arc<Codebook>) -> StreamedRows {
    let len = records.len();
    let chunks = len.div_ceil(CHUNK);
    let (tx, rx) = channel();
    let work = Arc::new(Work { records: Mutex::new(records.into_iter().enumerate()), book, tx });
    let started = (0..THREADS)
        .filter(|_| {
            let work = work.clone();
            content::background_thread()
                .spawn(move || {
                    content::lower_priority();
                    work.run();
                })
                .is_ok()
        })
        .count();
    if started == 0 {
        work.run();
    }
    // The threads hold the only other references: once they end, the channel closes.
    drop(work);
    StreamedRows { rx, early: BTreeMap::new(), current: Vec::new().into_iter(), next: 0, chunks, len, done: false }
}

/// What the encoding threads share.
struct Work {
    /// The records not taken yet, numbered.
    records: Mutex<std::iter::Enumerate<std::vec::IntoIter<CallRecord>>>,
    book: Arc<Codebook>,
    /// Where encoded chunks go (each thread sends through its own clone).
    tx: Sender<Chunk>,
}

impl Work {
    /// Take the next chunk of records, encode it, send it; until none are left or the
    /// receiver is gone. Each chunk's records are freed here, on the encoding thread.
    fn run(&self) {
        let tx = self.tx.clone();
        loop {
            let (i, mut chunk) = {
                let mut records = self.records.lock().unwrap_or_else(PoisonError::into_inner);
                let mut chunk = Vec::with_capacity(CHUNK);
                let mut first = None;
                for (n, r) in records.by_ref().take(CHUNK) {
                    first.get_or_insert(n);
                    chunk.push(r);
                }
                match first {
                    Some(n) => (n / CHUNK, chunk),
                    None => return,
                }
            };
            let encoded = content::encode_slice(&mut chunk, &self.book);
            drop(chunk);
            if tx.send((i, encoded)).is_err() {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use huadan_model::Provider;

    fn records(n: usize) -> Vec<CallRecord> {
        (0..n)
            .map(|i| {
                let mut r =
                    CallRecord::new("s", Provider::Tanma, &format!("id-{i}"), "2024-01-01T00:00:00Z".parse().unwrap());
                r.remark = Some("备注".repeat(i % 5));
                r
            })
            .collect()
    }

    /// The rows of `chunks` chunks (`len` rows) sent by hand through `rx`.
    fn received(rx: Receiver<Chunk>, chunks: usize, len: usize) -> StreamedRows {
        StreamedRows { rx, early: BTreeMap::new(), current: Vec::new().into_iter(), next: 0, chunks, len, done: false }
    }

    #[test]
    fn rows_come_out_in_the_batch_order_and_match_the_whole_batch_encoding() {
        for n in [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 10 * CHUNK + 7] {
            let whole = content::encode_all(records(n), &Codebook::new()).unwrap();
            let streamed = encode_streamed(records(n), Arc::new(Codebook::new()));
            assert_eq!(streamed.len(), n);
            let rows: Vec<Encoded> = streamed.collect::<Result<_, _>>().unwrap();
            assert_eq!(
                rows.iter().map(|e| (&e.id, e.hash, &e.body)).collect::<Vec<_>>(),
                whole.iter().map(|e| (&e.id, e.hash, &e.body)).collect::<Vec<_>>(),
                "{n} records"
            );
        }
    }

    /// The shared work of `n` records, with the receiving end of its chunks.
    fn work(n: usize) -> (Work, Receiver<Chunk>) {
        let (tx, rx) = channel();
        let work =
            Work { records: Mutex::new(records(n).into_iter().enumerate()), book: Arc::new(Codebook::new()), tx };
        (work, rx)
    }

    #[test]
    fn the_records_are_taken_in_numbered_chunks_of_64() {
        let (work, rx) = work(2 * CHUNK + 22);
        work.run();
        drop(work);
        let sizes: Vec<(usize, usize)> = rx.iter().map(|(i, c)| (i, c.unwrap().len())).collect();
        assert_eq!(sizes, [(0, 64), (1, 64), (2, 22)]);
    }

    #[test]
    fn encoding_stops_when_the_receiver_gives_up() {
        let (work, rx) = work(10 * CHUNK);
        drop(rx);
        work.run();
        // One chunk taken (its send failed), the other nine left untouched.
        assert_eq!(work.records.lock().unwrap().len(), 9 * CHUNK);
    }

    #[test]
    fn a_chunk_that_never_comes_ends_the_rows_with_an_error() {
        // Chunk 1 of 3 is missing and the senders are gone (a thread that died).
        let (tx, rx) = channel();
        let mut encoded = content::encode_all(records(2 * CHUNK + 3), &Codebook::new()).unwrap();
        let last = encoded.split_off(2 * CHUNK);
        encoded.truncate(CHUNK);
        tx.send((2, Ok(last))).unwrap();
        tx.send((0, Ok(encoded))).unwrap();
        drop(tx);
        let rows = received(rx, 3, 2 * CHUNK + 3);
        let out: Vec<_> = rows.collect();
        assert_eq!(out.len(), CHUNK + 1, "the first chunk, then the error, then nothing");
        assert!(out[..CHUNK].iter().all(Result::is_ok));
        let err = out[CHUNK].as_ref().map(|_| ()).unwrap_err().to_string();
        assert!(err.contains("encoder thread stopped"), "{err}");
    }

    #[test]
    fn a_chunk_that_failed_hands_out_its_error_and_stops() {
        let (tx, rx) = channel();
        tx.send((1, Ok(Vec::new()))).unwrap();
        tx.send((0, Err(StoreError::Db("record x cannot be serialised".into())))).unwrap();
        drop(tx);
        let rows = received(rx, 2, 2);
        let out: Vec<_> = rows.collect();
        assert_eq!(out.len(), 1);
        assert!(out[0].is_err());
    }
}
