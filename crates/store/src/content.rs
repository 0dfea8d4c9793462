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
    /// The record as JSON, `synced_at` left out.
    pub body: String,
    /// First 16 bytes of SHA-256 over `body`.
    pub hash: [u8; 16],
}

/// Split a record into columns, body and hash.
pub(crate) fn encode(mut r: CallRecord) -> Result<Encoded, StoreError> {
    r.synced_at = None;
    let body = serde_json::to_string(&r)
        .map_err(|e| StoreError::Db(format!("record {} cannot be serialised: {e}", r.id)))?;
    let digest = Sha256::digest(body.as_bytes());
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

/// Rebuild a record from its stored body and `synced_at`.
pub(crate) fn decode(id_hint: &str, body: &str, synced_ms: i64) -> Result<CallRecord, StoreError> {
    let mut r: CallRecord = serde_json::from_str(body)
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
}
