//! How a [`CallRecord`] is laid out for storage: the core columns, the JSON body and
//! its content hash. Shared by every backend, so that "unchanged" means the same thing
//! everywhere.

use crate::StoreError;
use crate::packing::{self, Codebook};
use huadan_model::{CallRecord, Instant};

/// A record ready to be written.
#[derive(Debug, Clone)]
pub(crate) struct Encoded {
    pub id: String,
    pub source: String,
    pub provider: &'static str,
    pub started_ms: i64,
    pub direction: &'static str,
    pub disposition: &'static str,
    pub agent_id: Option<String>,
    pub agent_name: Option<String>,
    pub caller_number: Option<String>,
    pub callee_number: Option<String>,
    pub talk_seconds: Option<i64>,
    /// Transcript text (sentences joined by newlines), when there is any.
    pub transcript: Option<String>,
    /// The stored body: the record as JSON (`synced_at` left out), compressed (see
    /// [`packing::pack`]).
    pub body: Vec<u8>,
    /// XXH3-128 of the JSON (see [`content_hash`]).
    pub hash: [u8; 16],
}

/// Split a record into columns, body and hash.
#[cfg(test)]
pub(crate) fn encode(mut r: CallRecord) -> Result<Encoded, StoreError> {
    encode_in_place(&mut r, &Codebook::new())
}

/// Per-thread scratch buffers, reused from record to record: the JSON text and the
/// compressor's output are both several KB, and allocating and freeing them per record
/// made glibc's malloc consolidate its free lists on nearly every record.
struct Scratch {
    json: Vec<u8>,
    packed: Vec<u8>,
}

thread_local! {
    static SCRATCH: std::cell::RefCell<Scratch> = std::cell::RefCell::new(Scratch {
        json: Vec::with_capacity(8192),
        packed: Vec::with_capacity(8192),
    });
}

/// [`encode`] without consuming the record: its strings are moved out (left empty) and
/// the rest stays for the caller to drop, so that a batch's records can be freed in one
/// go after the whole batch is encoded.
fn encode_in_place(r: &mut CallRecord, book: &Codebook) -> Result<Encoded, StoreError> {
    r.synced_at = None;
    let (body, hash) = SCRATCH.with(|cell| {
        let mut scratch = cell.borrow_mut();
        let Scratch { json, packed } = &mut *scratch;
        json.clear();
        serde_json::to_writer(&mut *json, &*r)
            .map_err(|e| StoreError::Db(format!("record {} cannot be serialised: {e}", r.id)))?;
        let dict = book.get(r.provider.as_str()).copied();
        Ok::<_, StoreError>((packing::pack(json, dict, packed), content_hash(json)))
    })?;
    let transcript = r.transcript.as_ref().map(|t| t.text()).filter(|t| !t.is_empty());
    let (agent_id, agent_name) = match r.agent.as_mut() {
        Some(a) => (a.id.take(), a.name.take()),
        None => (None, None),
    };
    Ok(Encoded {
        provider: r.provider.as_str(),
        started_ms: r.started_at.as_millisecond(),
        direction: r.direction.as_str(),
        disposition: r.disposition.as_str(),
        agent_id,
        agent_name,
        caller_number: r.caller.number.take(),
        callee_number: r.callee.number.take(),
        talk_seconds: r.talk_seconds,
        transcript,
        body,
        hash,
        id: std::mem::take(&mut r.id),
        source: std::mem::take(&mut r.source),
    })
}

/// The content hash of a record's JSON: XXH3-128 in its canonical (big-endian) byte
/// order. It only detects change (it is not a security boundary), and XXH3 is a fixed,
/// platform-independent algorithm, so equal JSON hashes equally in every process.
fn content_hash(json: &[u8]) -> [u8; 16] {
    twox_hash::XxHash3_128::oneshot(json).to_be_bytes()
}

/// Encode a run of records, then free them all together.
fn encode_run(mut records: Vec<CallRecord>, book: &Codebook) -> Result<Vec<Encoded>, StoreError> {
    let out = encode_slice(&mut records, book);
    drop(records);
    out
}

/// Encode records in place (their strings are moved out; the caller frees the rest).
pub(crate) fn encode_slice(records: &mut [CallRecord], book: &Codebook) -> Result<Vec<Encoded>, StoreError> {
    records.iter_mut().map(|r| encode_in_place(r, book)).collect()
}

/// Encode `records` a chunk of `chunk` records at a time, handing each chunk to `send`
/// as soon as it is ready (stopping early when `send` returns `false`: the receiver has
/// given up). Lets a writer store chunk N while chunk N+1 is being encoded.
pub(crate) fn encode_chunks(
    mut records: Vec<CallRecord>,
    chunk: usize,
    book: &Codebook,
    mut send: impl FnMut(Result<Vec<Encoded>, StoreError>) -> bool,
) {
    let chunk = chunk.max(1);
    let mut start = 0;
    while start < records.len() {
        let end = (start + chunk).min(records.len());
        let encoded = encode_slice(&mut records[start..end], book);
        let failed = encoded.is_err();
        if !send(encoded) || failed {
            return;
        }
        start = end;
    }
    // `records` (their strings moved out) are freed here, on the encoding thread.
    records.clear();
}

/// Encode a batch: on the calling thread when it is small, else on two encoding threads
/// (see [`background_thread`]) while the caller waits. The threads take chunks of
/// [`SHARE_CHUNK`] records in turn rather than half the batch each: when one of them
/// gets less of the CPU (it shares a core with the database writer), the other does
/// more of the work instead of waiting for it at the end.
pub(crate) fn encode_all(mut records: Vec<CallRecord>, book: &Codebook) -> Result<Vec<Encoded>, StoreError> {
    const PARALLEL_FROM: usize = 256;
    if records.len() < PARALLEL_FROM {
        return encode_run(records, book);
    }
    let count = records.len().div_ceil(SHARE_CHUNK);
    // Each thread takes the next chunk (a slice of the batch, encoded in place: no
    // record is moved) off the queue and keeps what it made, numbered.
    let queue = std::sync::Mutex::new(records.chunks_mut(SHARE_CHUNK).enumerate());
    let work = || {
        lower_priority();
        let mut made = Vec::new();
        loop {
            let next = queue.lock().unwrap_or_else(std::sync::PoisonError::into_inner).next();
            let Some((i, chunk)) = next else { return made };
            made.push((i, encode_slice(chunk, book)));
        }
    };
    let mut made: Vec<(usize, Result<Vec<Encoded>, StoreError>)> = std::thread::scope(|s| {
        // A thread that cannot be started leaves its share to the other one.
        let threads: Vec<_> = (0..2).filter_map(|_| background_thread().spawn_scoped(s, work).ok()).collect();
        threads.into_iter().map(|t| t.join()).collect::<Result<Vec<_>, _>>().map(|v| v.into_iter().flatten().collect())
    })
    .map_err(|_| StoreError::Db("a record could not be encoded (encoder thread panicked)".into()))?;
    // What is left of the records (their strings were moved out) is freed in one go.
    drop(records);
    if made.len() != count {
        return Err(StoreError::Db("cannot start an encoding thread".into()));
    }
    made.sort_unstable_by_key(|(i, _)| *i);
    let mut out = Vec::with_capacity(count * SHARE_CHUNK);
    for (_, encoded) in made {
        out.extend(encoded?);
    }
    Ok(out)
}

/// Records per chunk that [`encode_all`]'s threads take in turn.
const SHARE_CHUNK: usize = 64;

/// Free `spent` on a short-lived thread of its own, at low priority. The rows of a
/// written batch were allocated by the encoding threads; freeing them on the database
/// writer's thread made it wait for the allocator's locks while the encoding threads
/// of the next batch allocated (a third of the writer's waits in `store_bench`).
pub(crate) fn free_later(spent: Vec<Encoded>) {
    if spent.is_empty() {
        return;
    }
    let spawned = std::thread::Builder::new().name("huadan-free".into()).spawn(move || {
        lower_priority();
        drop(spent);
    });
    // No thread to be had: the caller frees them after all (dropped with the error).
    drop(spawned);
}

/// A builder for an encoding thread.
pub(crate) fn background_thread() -> std::thread::Builder {
    std::thread::Builder::new().name("huadan-encode".into())
}

/// Lower the calling thread's scheduling priority (nice 10). Encoding threads call it:
/// when they and the database writer want the CPU at the same time, the writer (the
/// one thread that cannot be split) should get it; encoding uses what is left. Linux
/// only (there `setpriority` on process 0 applies to the calling thread); elsewhere a
/// no-op.
pub(crate) fn lower_priority() {
    #[cfg(target_os = "linux")]
    // SAFETY: `setpriority` only changes the calling thread's nice value; a failure
    // (not permitted) leaves it as it was, which is harmless.
    unsafe {
        libc::setpriority(libc::PRIO_PROCESS, 0, 10);
    }
}

/// Rebuild a record from its stored body and `synced_at`.
pub(crate) fn decode(id_hint: &str, body: &[u8], synced_ms: i64) -> Result<CallRecord, StoreError> {
    let json = packing::unpack(id_hint, body)?;
    let mut r: CallRecord = serde_json::from_slice(&json)
        .map_err(|e| StoreError::Corrupt { id: id_hint.to_string(), message: e.to_string() })?;
    r.synced_at = Some(millis(synced_ms));
    Ok(r)
}

/// Unix milliseconds → instant (clamped to the representable range).
pub(crate) fn millis(ms: i64) -> Instant {
    Instant::from_millisecond(ms).unwrap_or(if ms < 0 { Instant::MIN } else { Instant::MAX })
}

/// Append a stored body's JSON to `out` (the pass-through read path of
/// [`crate::json`], which never builds a record).
pub(crate) use packing::unpack_into;

/// The disposition that counts as answered, as stored.
pub(crate) const ANSWERED: &str = "answered";

#[cfg(test)]
mod tests {
    use super::*;
    use huadan_model::{Disposition, Provider};

    #[test]
    fn answered_constant_matches_the_model() {
        assert_eq!(ANSWERED, Disposition::Answered.as_str());
        assert!(Disposition::Answered.is_answered());
    }

    #[test]
    fn synced_at_does_not_change_the_hash() {
        let mut r = CallRecord::new("s", Provider::Tanma, "1", "2024-01-01T00:00:00Z".parse().unwrap());
        let a = encode(r.clone()).unwrap();
        r.synced_at = Some("2025-01-01T00:00:00Z".parse().unwrap());
        let b = encode(r.clone()).unwrap();
        assert_eq!(a.hash, b.hash);
        r.remark = Some("changed".into());
        assert_ne!(encode(r).unwrap().hash, a.hash);
    }

    #[test]
    fn content_hash_is_canonical_xxh3_128() {
        // The published XXH3-128 of empty input, in canonical (big-endian) byte order:
        // the stored hash must not depend on the platform or the process.
        let expected = [0x99, 0xaa, 0x06, 0xd3, 0x01, 0x47, 0x98, 0xd8, 0x60, 0x01, 0xc3, 0x24, 0x46, 0x8d, 0x49, 0x7f];
        assert_eq!(content_hash(b""), expected);
        assert_ne!(content_hash(b"{}"), content_hash(b"{ }"));
    }

    #[test]
    fn encoding_a_batch_matches_encoding_one_by_one() {
        // The batch path reuses per-thread buffers and frees records late: it must give
        // exactly what encoding each record alone gives, on both encoder threads.
        let records: Vec<CallRecord> = (0..600)
            .map(|i| {
                let mut r =
                    CallRecord::new("s", Provider::Tanma, &format!("id-{i}"), "2024-01-01T00:00:00Z".parse().unwrap());
                r.remark = Some("备注".repeat(i % 7));
                r
            })
            .collect();
        let batch = encode_all(records.clone(), &Codebook::new()).unwrap();
        assert_eq!(batch.len(), records.len());
        for (r, e) in records.into_iter().zip(&batch) {
            let json = serde_json::to_vec(&r).unwrap();
            let one = encode(r).unwrap();
            assert_eq!((&one.id, one.hash, &one.body), (&e.id, e.hash, &e.body));
            assert_eq!(e.hash, content_hash(&json));
            assert_eq!(decode("x", &e.body, 0).unwrap().id, e.id);
        }
    }

    #[test]
    fn chunked_encoding_matches_the_batch_and_stops_when_the_receiver_gives_up() {
        let records: Vec<CallRecord> = (0..150)
            .map(|i| CallRecord::new("s", Provider::Tanma, &format!("id-{i}"), "2024-01-01T00:00:00Z".parse().unwrap()))
            .collect();
        let whole = encode_all(records.clone(), &Codebook::new()).unwrap();
        let mut sizes = Vec::new();
        let mut got = Vec::new();
        encode_chunks(records.clone(), 64, &Codebook::new(), |chunk| {
            let chunk = chunk.unwrap();
            sizes.push(chunk.len());
            got.extend(chunk);
            true
        });
        assert_eq!(sizes, [64, 64, 22]);
        assert_eq!(
            got.iter().map(|e| (&e.id, e.hash)).collect::<Vec<_>>(),
            whole.iter().map(|e| (&e.id, e.hash)).collect::<Vec<_>>()
        );
        let mut calls = 0;
        encode_chunks(records, 64, &Codebook::new(), |_| {
            calls += 1;
            false
        });
        assert_eq!(calls, 1);
    }

    #[test]
    fn packed_and_plain_bodies_both_read_back() {
        let r = CallRecord::new("s", Provider::Wecom, "话单-1", "2024-01-01T00:00:00Z".parse().unwrap());
        let json = serde_json::to_vec(&r).unwrap();
        let packed = packing::pack(&json, None, &mut Vec::new());
        assert_eq!(packed[0], b'Z');
        assert!(packed.len() < json.len());
        assert_eq!(decode("x", &packed, 0).unwrap().id, r.id);
        assert_eq!(decode("x", &json, 0).unwrap().id, r.id);
        assert!(matches!(decode("x", b"Zgarbage", 0), Err(StoreError::Corrupt { .. })));
    }
}
