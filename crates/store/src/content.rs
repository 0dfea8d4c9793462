//! How a [`CallRecord`] is laid out for storage: the core columns, the JSON body and
//! its content hash. Shared by every backend, so that "unchanged" means the same thing
//! everywhere.

use crate::StoreError;
use huadan_model::{CallRecord, Instant};
use sha2::{Digest, Sha256};

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
    /// [`pack`]).
    pub body: Vec<u8>,
    /// First 16 bytes of SHA-256 over the JSON.
    pub hash: [u8; 16],
}

/// Split a record into columns, body and hash.
pub(crate) fn encode(mut r: CallRecord) -> Result<Encoded, StoreError> {
    r.synced_at = None;
    let mut buf = Vec::with_capacity(4096);
    serde_json::to_writer(&mut buf, &r)
        .map_err(|e| StoreError::Db(format!("record {} cannot be serialised: {e}", r.id)))?;
    let digest = Sha256::digest(&buf);
    let body = pack(&buf);
    let mut hash = [0u8; 16];
    hash.copy_from_slice(&digest[..16]);
    let transcript = r.transcript.as_ref().map(|t| t.text()).filter(|t| !t.is_empty());
    let (agent_id, agent_name) = match r.agent {
        Some(a) => (a.id, a.name),
        None => (None, None),
    };
    Ok(Encoded {
        provider: r.provider.as_str(),
        started_ms: r.started_at.as_millisecond(),
        direction: r.direction.as_str(),
        disposition: r.disposition.as_str(),
        agent_id,
        agent_name,
        caller_number: r.caller.number,
        callee_number: r.callee.number,
        talk_seconds: r.talk_seconds,
        transcript,
        body,
        hash,
        id: r.id,
        source: r.source,
    })
}

/// Encode a batch, on two threads when it is large enough to be worth it (serialising
/// is the costliest part of a commit outside SQLite).
pub(crate) fn encode_all(records: Vec<CallRecord>) -> Result<Vec<Encoded>, StoreError> {
    const PARALLEL_FROM: usize = 256;
    if records.len() < PARALLEL_FROM {
        return records.into_iter().map(encode).collect();
    }
    let mut first = records;
    let second = first.split_off(first.len() / 2);
    let (a, b) = std::thread::scope(|s| {
        let other = s.spawn(move || second.into_iter().map(encode).collect::<Result<Vec<_>, _>>());
        let mine = first.into_iter().map(encode).collect::<Result<Vec<_>, _>>();
        (mine, other.join())
    });
    let mut out = a?;
    out.extend(b.map_err(|_| StoreError::Db("a record could not be serialised (encoder thread panicked)".into()))??);
    Ok(out)
}

/// Tag byte of a Snappy-compressed body. JSON never starts with it, so a body is either
/// `Z` + Snappy(JSON) or plain JSON (`{…`), and both read back.
const SNAPPY: u8 = b'Z';

/// Compress a JSON body (Snappy: about 2–3× smaller at several hundred MB/s, which
/// halves what every commit and checkpoint writes).
pub(crate) fn pack(json: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(1 + snap::raw::max_compress_len(json.len()));
    out.push(SNAPPY);
    out.resize(1 + snap::raw::max_compress_len(json.len()), 0);
    match snap::raw::Encoder::new().compress(json, &mut out[1..]) {
        Ok(n) => {
            out.truncate(1 + n);
            out
        }
        // Only fails for inputs over ~4 GB: store it plain.
        Err(_) => json.to_vec(),
    }
}

/// A stored body back to JSON bytes.
fn unpack<'a>(id_hint: &str, body: &'a [u8]) -> Result<std::borrow::Cow<'a, [u8]>, StoreError> {
    match body.split_first() {
        Some((&SNAPPY, packed)) => snap::raw::Decoder::new()
            .decompress_vec(packed)
            .map(std::borrow::Cow::Owned)
            .map_err(|e| StoreError::Corrupt { id: id_hint.to_string(), message: e.to_string() }),
        _ => Ok(std::borrow::Cow::Borrowed(body)),
    }
}

/// Rebuild a record from its stored body and `synced_at`.
pub(crate) fn decode(id_hint: &str, body: &[u8], synced_ms: i64) -> Result<CallRecord, StoreError> {
    let json = unpack(id_hint, body)?;
    let mut r: CallRecord = serde_json::from_slice(&json)
        .map_err(|e| StoreError::Corrupt { id: id_hint.to_string(), message: e.to_string() })?;
    r.synced_at = Some(millis(synced_ms));
    Ok(r)
}

/// Unix milliseconds → instant (clamped to the representable range).
pub(crate) fn millis(ms: i64) -> Instant {
    Instant::from_millisecond(ms).unwrap_or(if ms < 0 { Instant::MIN } else { Instant::MAX })
}

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
    fn packed_and_plain_bodies_both_read_back() {
        let r = CallRecord::new("s", Provider::Wecom, "话单-1", "2024-01-01T00:00:00Z".parse().unwrap());
        let json = serde_json::to_vec(&r).unwrap();
        let packed = pack(&json);
        assert_eq!(packed[0], SNAPPY);
        assert!(packed.len() < json.len());
        assert_eq!(decode("x", &packed, 0).unwrap().id, r.id);
        assert_eq!(decode("x", &json, 0).unwrap().id, r.id);
        assert!(matches!(decode("x", b"Zgarbage", 0), Err(StoreError::Corrupt { .. })));
    }
}
