//! How a record's JSON body is compressed for storage, and read back.
//!
//! A stored body is one of:
//! - `E` + the 8-byte id of a dictionary (little endian) + a zstd frame compressed with
//!   that dictionary. Call records of one provider share most of their text (field
//!   names, enum values, URL shapes, agent names), so a dictionary trained on a
//!   database's own records makes a ~3 KB record 4–5 times smaller than Snappy does,
//!   and every commit, checkpoint and page read moves that many fewer bytes. A store
//!   trains and keeps its dictionaries (see `sqlite::dicts`); the id is the XXH3-64 of
//!   the dictionary's bytes, so it names the same dictionary in every database;
//! - `Z` + Snappy: what is written while a provider has no dictionary yet (and all
//!   that versions before dictionaries wrote);
//! - plain JSON (`{…`; written by the first versions; still read).
//!
//! JSON never starts with `E` or `Z`, so the first byte always tells them apart.
//! Dictionaries are registered process-wide ([`register`]) and never freed: a process
//! knows a handful (one per provider per database).

use crate::StoreError;
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::{LazyLock, PoisonError, RwLock};
use zstd::zstd_safe::{CCtx, CDict, CParameter, DCtx, DDict};

/// Tag of a body compressed with a dictionary.
const DICT: u8 = b'E';
/// Tag of a Snappy-compressed body.
const SNAPPY: u8 = b'Z';
/// zstd level for bodies: with a good dictionary, level 1 costs about what Snappy costs.
const LEVEL: i32 = 1;
/// Largest JSON body a compressed body may claim (a record is a few KB): a larger
/// claim is a corrupt header, not an allocation to attempt.
const MAX_BODY: u64 = 64 << 20;

/// A compression dictionary, prepared for both directions.
pub(crate) struct Dict {
    /// XXH3-64 of `bytes`: the id stored in front of every body it compressed.
    pub id: u64,
    /// The dictionary as trained (what a store keeps).
    pub bytes: Vec<u8>,
    cdict: CDict<'static>,
    ddict: DDict<'static>,
}

impl std::fmt::Debug for Dict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Dict({:016x}, {} bytes)", self.id, self.bytes.len())
    }
}

static REGISTRY: LazyLock<RwLock<HashMap<u64, &'static Dict>>> = LazyLock::new(Default::default);

/// The id of a dictionary's bytes.
pub(crate) fn dict_id(bytes: &[u8]) -> u64 {
    twox_hash::XxHash3_64::oneshot(bytes)
}

/// Make a dictionary known to this process (once per id); `None` when zstd cannot
/// load it (corrupt bytes).
pub(crate) fn register(bytes: Vec<u8>) -> Option<&'static Dict> {
    let id = dict_id(&bytes);
    if let Some(d) = lookup(id) {
        return Some(d);
    }
    let cdict = CDict::try_create(&bytes, LEVEL)?;
    let ddict = DDict::try_create(&bytes)?;
    let mut map = REGISTRY.write().unwrap_or_else(PoisonError::into_inner);
    // Leaked on purpose: bodies may be read with it for as long as the process lives,
    // and a process only ever knows a handful.
    Some(*map.entry(id).or_insert_with(|| Box::leak(Box::new(Dict { id, bytes, cdict, ddict }))))
}

/// A registered dictionary by id.
pub(crate) fn lookup(id: u64) -> Option<&'static Dict> {
    REGISTRY.read().unwrap_or_else(PoisonError::into_inner).get(&id).copied()
}

/// The dictionary id a body needs, if it was compressed with one.
pub(crate) fn needs_dict(body: &[u8]) -> Option<u64> {
    match body.split_first() {
        Some((&DICT, rest)) => rest.get(..8).and_then(|b| b.try_into().ok()).map(u64::from_le_bytes),
        _ => None,
    }
}

/// The dictionary to compress each provider's records with (providers without one
/// get Snappy).
pub(crate) type Codebook = HashMap<&'static str, &'static Dict>;

/// `Err(UnknownDictionary)` when `body` needs a dictionary this process has not
/// registered: for bodies that leave a read as stored and are decompressed later,
/// elsewhere, so that the read itself meets the error (and the store's retry loads it).
pub(crate) fn check_known(id_hint: &str, body: &[u8]) -> Result<(), StoreError> {
    match needs_dict(body) {
        Some(dict) if lookup(dict).is_none() => Err(StoreError::UnknownDictionary { id: id_hint.to_string(), dict }),
        _ => Ok(()),
    }
}

/// Per-thread zstd contexts (their tables are reused from record to record).
struct Contexts {
    cctx: Option<CCtx<'static>>,
    dctx: Option<DCtx<'static>>,
}

thread_local! {
    static CONTEXTS: RefCell<Contexts> = const { RefCell::new(Contexts { cctx: None, dctx: None }) };
}

fn new_cctx() -> Option<CCtx<'static>> {
    let mut c = CCtx::try_create()?;
    // The body's tag carries the dictionary id and the content hash detects change:
    // the frame needs neither zstd's dictionary id nor a checksum. Its content size
    // sizes reads.
    for p in [
        CParameter::CompressionLevel(LEVEL),
        CParameter::DictIdFlag(false),
        CParameter::ChecksumFlag(false),
        CParameter::ContentSizeFlag(true),
    ] {
        c.set_parameter(p).ok()?;
    }
    Some(c)
}

/// Compress `json` into a new body (allocated at its exact size) with `dict`, or with
/// Snappy when there is none. `scratch` takes the compressor's worst-case output.
pub(crate) fn pack(json: &[u8], dict: Option<&'static Dict>, scratch: &mut Vec<u8>) -> Vec<u8> {
    if let Some(dict) = dict {
        let n = CONTEXTS.with(|cell| {
            let mut contexts = cell.borrow_mut();
            if contexts.cctx.is_none() {
                contexts.cctx = new_cctx();
            }
            let cctx = contexts.cctx.as_mut()?;
            cctx.ref_cdict(&dict.cdict).ok()?;
            scratch.clear();
            scratch.reserve(zstd::zstd_safe::compress_bound(json.len()));
            cctx.compress2(scratch, json).ok()
        });
        if let Some(n) = n {
            let mut out = Vec::with_capacity(9 + n);
            out.push(DICT);
            out.extend_from_slice(&dict.id.to_le_bytes());
            out.extend_from_slice(&scratch[..n]);
            return out;
        }
        // zstd could not start (out of memory): Snappy below.
    }
    scratch.resize(snap::raw::max_compress_len(json.len()), 0);
    match snap::raw::Encoder::new().compress(json, scratch) {
        Ok(n) => {
            let mut out = Vec::with_capacity(1 + n);
            out.push(SNAPPY);
            out.extend_from_slice(&scratch[..n]);
            out
        }
        // Only fails for inputs over ~4 GB: store it plain.
        Err(_) => json.to_vec(),
    }
}

/// Append a stored body's JSON to `out`. A body whose dictionary this process does not
/// know gives [`StoreError::UnknownDictionary`]: the caller loads its store's
/// dictionaries and tries again.
pub(crate) fn unpack_into(id_hint: &str, body: &[u8], out: &mut Vec<u8>) -> Result<(), StoreError> {
    let corrupt = |message: String| StoreError::Corrupt { id: id_hint.to_string(), message };
    match body.split_first() {
        Some((&DICT, rest)) => {
            let id = needs_dict(body).ok_or_else(|| corrupt("compressed body without its dictionary id".into()))?;
            let dict = lookup(id).ok_or_else(|| StoreError::UnknownDictionary { id: id_hint.to_string(), dict: id })?;
            let frame = &rest[8..];
            let size = zstd::zstd_safe::get_frame_content_size(frame)
                .ok()
                .flatten()
                .ok_or_else(|| corrupt("compressed body without a content size".into()))?;
            let size = usize::try_from(size)
                .ok()
                .filter(|s| (*s as u64) <= MAX_BODY)
                .ok_or_else(|| corrupt(format!("compressed body claims {size} bytes")))?;
            CONTEXTS.with(|cell| {
                let mut contexts = cell.borrow_mut();
                if contexts.dctx.is_none() {
                    contexts.dctx = DCtx::try_create();
                }
                let dctx = contexts.dctx.as_mut().ok_or_else(|| corrupt("cannot start zstd".into()))?;
                let start = out.len();
                out.resize(start + size, 0);
                let n = dctx
                    .decompress_using_ddict(&mut out[start..], frame, &dict.ddict)
                    .map_err(|code| corrupt(zstd::zstd_safe::get_error_name(code).to_string()))?;
                out.truncate(start + n);
                Ok(())
            })
        }
        Some((&SNAPPY, packed)) => {
            let start = out.len();
            let len = snap::raw::decompress_len(packed).map_err(|e| corrupt(e.to_string()))?;
            out.resize(start + len, 0);
            let n =
                snap::raw::Decoder::new().decompress(packed, &mut out[start..]).map_err(|e| corrupt(e.to_string()))?;
            out.truncate(start + n);
            Ok(())
        }
        _ => {
            out.extend_from_slice(body);
            Ok(())
        }
    }
}

/// A stored body back to JSON bytes (borrowed when it is stored plain).
pub(crate) fn unpack<'a>(id_hint: &str, body: &'a [u8]) -> Result<std::borrow::Cow<'a, [u8]>, StoreError> {
    match body.first() {
        Some(&DICT | &SNAPPY) => {
            let mut out = Vec::new();
            unpack_into(id_hint, body, &mut out)?;
            Ok(std::borrow::Cow::Owned(out))
        }
        _ => Ok(std::borrow::Cow::Borrowed(body)),
    }
}

/// Train a dictionary of at most `max_size` bytes from sample JSON bodies laid end to
/// end in `data` (`sizes` gives each one's length).
pub(crate) fn train(data: &[u8], sizes: &[usize], max_size: usize) -> Result<Vec<u8>, String> {
    zstd::dict::from_continuous(data, sizes, max_size).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Sample records alike in shape, as a provider's are.
    fn samples(n: usize) -> (Vec<u8>, Vec<usize>) {
        let (mut data, mut sizes) = (Vec::new(), Vec::new());
        for i in 0..n {
            let s = format!(
                r#"{{"id":"src:{i:08}","provider":"tanma","caller":{{"number":"1380000{:04}","user_id":null}},"agent":{{"id":"agent-{:03}","name":"坐席{:03}"}},"talk_seconds":{},"raw":{{"callId":"{i:08}","startTime":"2024-10-01 10:{:02}:00","status":"ANSWERED"}}}}"#,
                i % 9973,
                i % 50,
                i % 50,
                i * 7 % 600,
                i % 60
            );
            sizes.push(s.len());
            data.extend_from_slice(s.as_bytes());
        }
        (data, sizes)
    }

    #[test]
    fn a_trained_dictionary_compresses_and_reads_back() {
        let (data, sizes) = samples(2000);
        let dict = register(train(&data, &sizes, 16 * 1024).unwrap()).unwrap();
        assert_eq!(dict.id, dict_id(&dict.bytes));
        let json = &data[..sizes[0]];
        let body = pack(json, Some(dict), &mut Vec::new());
        assert_eq!((body[0], needs_dict(&body)), (DICT, Some(dict.id)));
        let snappy = pack(json, None, &mut Vec::new());
        assert_eq!(snappy[0], SNAPPY);
        assert!(body.len() < snappy.len() / 2, "{} vs {}", body.len(), snappy.len());
        assert_eq!(unpack("x", &body).unwrap().as_ref(), json);
        assert_eq!(unpack("x", &snappy).unwrap().as_ref(), json);
        assert_eq!(unpack("x", json).unwrap().as_ref(), json);
        // Appending keeps what is already there.
        let mut out = b"prefix".to_vec();
        unpack_into("x", &body, &mut out).unwrap();
        assert_eq!(&out[6..], json);
        // Registering the same bytes again gives the same dictionary.
        assert!(std::ptr::eq(register(dict.bytes.clone()).unwrap(), dict));
    }

    #[test]
    fn unknown_dictionaries_and_damaged_bodies_are_errors() {
        let mut body = vec![DICT];
        body.extend_from_slice(&0x1234_5678_9abc_def0u64.to_le_bytes());
        body.extend_from_slice(b"frame");
        assert!(matches!(unpack("x", &body), Err(StoreError::UnknownDictionary { dict: 0x1234_5678_9abc_def0, .. })));
        assert!(matches!(unpack("x", b"E12"), Err(StoreError::Corrupt { .. })));
        assert!(matches!(unpack("x", b"Zgarbage"), Err(StoreError::Corrupt { .. })));
        let (data, sizes) = samples(2000);
        let dict = register(train(&data, &sizes, 8 * 1024).unwrap()).unwrap();
        let mut body = pack(&data[..sizes[0]], Some(dict), &mut Vec::new());
        let last = body.len() - 1;
        body.truncate(last);
        assert!(matches!(unpack("x", &body), Err(StoreError::Corrupt { .. })));
        assert!(register(b"\x37\xa4\x30\xec garbage that claims to be a dictionary".to_vec()).is_none());
    }
}
