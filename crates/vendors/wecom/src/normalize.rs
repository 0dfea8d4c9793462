//! WeCom dial record → [`CallRecord`] (CONTRACT.md §3, VENDORS.md § wecom). Pure.
//!
//! * **No record id**: the id is a fingerprint of what identifies the call — the dial
//!   second, the caller, and the callees with their talk times (see [`fingerprint`]).
//! * **Minutes**: `total_duration` and every `duration` are minutes; they become seconds
//!   with `duration_precision = "minute"`. The talk time of the call is the caller's
//!   duration (for a multi-party call `total_duration` is the sum over everyone).
//! * Only connected calls are listed: disposition `answered`. Direction `internal` when
//!   every callee is a colleague (`userid`), otherwise `outbound`.

use crate::wire::{Callee, DialRecord};
use huadan_model::{
    Agent, CallRecord, Direction, Disposition, DurationPrecision, Participant, Party, Provider, RawJson,
};
use huadan_vendor::NormalizeError;
use sha2::{Digest, Sha256};

/// Seconds per reported minute.
const MINUTE: i64 = 60;

/// The deterministic id of a dial record: 32 hex characters of SHA-256 over an
/// unambiguous (length-prefixed) encoding of the call time, the caller's userid and the
/// callees — each by userid and/or phone digits, with its duration — in sorted order.
///
/// The same call always gets the same id: callee order, a phone sent as a JSON number
/// or as a string, key order and whitespace do not matter. Two different calls never
/// share one: a WeCom user places one call at a time, so two real records agree on
/// (call time, caller) only when they describe the same call — and the callees with
/// their durations are included as well. The caller's own duration, `total_duration`
/// (derived from the durations) and `call_type` (derived from the callees) are left
/// out, so a record whose billing settles later is updated in place, not duplicated.
pub fn fingerprint(record: &DialRecord) -> String {
    let mut callees: Vec<(String, String, i64)> = record
        .callee
        .iter()
        .map(|c| {
            (c.userid.clone().unwrap_or_default(), c.phone.as_ref().map(|p| p.digits()).unwrap_or_default(), c.duration)
        })
        .collect();
    callees.sort();
    let mut h = Sha256::new();
    h.update(b"wecom-dial-v1");
    field(&mut h, record.call_time.to_string().as_bytes());
    field(&mut h, record.caller.userid.as_bytes());
    field(&mut h, callees.len().to_string().as_bytes());
    for (userid, phone, duration) in &callees {
        field(&mut h, userid.as_bytes());
        field(&mut h, phone.as_bytes());
        field(&mut h, duration.to_string().as_bytes());
    }
    let digest = h.finalize();
    hex::encode(&digest[..16])
}

/// Length-prefixed, so that no two different field lists encode to the same bytes.
fn field(h: &mut Sha256, bytes: &[u8]) {
    h.update((bytes.len() as u64).to_be_bytes());
    h.update(bytes);
}

/// Read one raw record (as received) into the wire type.
pub fn parse(raw: &serde_json::Value) -> Result<DialRecord, NormalizeError> {
    <DialRecord as serde::Deserialize>::deserialize(raw).map_err(parse_error)
}

/// Read one record kept as its JSON text into the wire type (no `Value` tree).
pub fn parse_raw(raw: &RawJson) -> Result<DialRecord, NormalizeError> {
    raw.parse().map_err(parse_error)
}

fn parse_error(e: serde_json::Error) -> NormalizeError {
    NormalizeError(format!("wecom dial record: {e}"))
}

fn minutes(m: i64) -> Result<i64, NormalizeError> {
    if m < 0 {
        return Err(NormalizeError(format!("wecom dial record: negative duration {m}")));
    }
    m.checked_mul(MINUTE).ok_or_else(|| NormalizeError(format!("wecom dial record: duration {m} too large")))
}

fn party(c: &Callee) -> Party {
    Party { number: c.phone.as_ref().map(|p| p.digits()), user_id: c.userid.clone(), name: None }
}

/// Normalise one raw dial record of source `source`; `account` is the corp id.
pub fn normalize(source: &str, account: Option<&str>, raw: &serde_json::Value) -> Result<CallRecord, NormalizeError> {
    let mut out = normalize_wire(source, account, &parse(raw)?)?;
    out.raw = RawJson::from_value(raw);
    Ok(out)
}

/// Normalise one record kept as the JSON text WeCom sent (how the client reads a page:
/// no `Value` tree is built); the text becomes `CallRecord::raw` as is.
pub fn normalize_raw(source: &str, account: Option<&str>, raw: RawJson) -> Result<CallRecord, NormalizeError> {
    let mut out = normalize_wire(source, account, &parse_raw(&raw)?)?;
    out.raw = raw;
    Ok(out)
}

/// Normalise a typed record. Its `raw` is left JSON `null`: the caller, which holds the
/// record as received, sets it ([`normalize`], [`normalize_raw`] and the client do).
pub fn normalize_wire(source: &str, account: Option<&str>, rec: &DialRecord) -> Result<CallRecord, NormalizeError> {
    let started_at = huadan_model::time::from_unix_seconds(rec.call_time)
        .map_err(|e| NormalizeError(format!("wecom dial record: call_time: {e}")))?;
    let id = fingerprint(rec);
    let mut out = CallRecord::new(source, Provider::Wecom, &id, started_at);
    out.account = account.map(str::to_string);
    out.duration_precision = DurationPrecision::Minute;
    out.disposition = Disposition::Answered;
    out.channel = Some("pstn".into());

    let all_colleagues = !rec.callee.is_empty() && rec.callee.iter().all(|c| c.userid.is_some() && c.phone.is_none());
    out.direction = if all_colleagues { Direction::Internal } else { Direction::Outbound };

    out.caller = Party::user(rec.caller.userid.clone());
    // The callee shown is the first outside number (the customer), else the first colleague.
    out.callee =
        rec.callee.iter().find(|c| c.phone.is_some()).or_else(|| rec.callee.first()).map(party).unwrap_or_default();
    out.agent = Some(Agent { id: Some(rec.caller.userid.clone()), ..Agent::default() });

    // Talk time of the call = the caller's duration; a single-party record without a
    // caller duration falls back to the total (equal by definition for call_type 1).
    let caller_minutes =
        if rec.caller.duration == 0 && rec.call_type != 2 { rec.total_duration } else { rec.caller.duration };
    let talk = minutes(caller_minutes)?;
    out.talk_seconds = Some(talk);
    // `total_seconds` (start to end) stays unknown: WeCom gives no ring time, and its
    // `total_duration` is a sum over participants, not a span of time (kept in `raw`).

    let mut participants = Vec::with_capacity(rec.callee.len() + 1);
    participants.push(Participant {
        role: "caller".into(),
        user_id: Some(rec.caller.userid.clone()),
        talk_seconds: Some(talk),
        ..Participant::default()
    });
    for c in &rec.callee {
        participants.push(Participant {
            role: "callee".into(),
            number: c.phone.as_ref().map(|p| p.digits()),
            user_id: c.userid.clone(),
            talk_seconds: Some(minutes(c.duration)?),
            ..Participant::default()
        });
    }
    out.participants = participants;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn multi_party_talk_time_is_the_callers() {
        let raw = json!({"call_time":1536940800,"total_duration":20,"call_type":2,
            "caller":{"userid":"tony","duration":10},
            "callee":[{"phone":138000800,"duration":5},{"userid":"tom","duration":5}]});
        let r = normalize("hq", Some("ww1"), &raw).unwrap();
        assert_eq!(r.talk_seconds, Some(600));
        assert_eq!(r.direction, Direction::Outbound);
        assert_eq!(r.callee.number.as_deref(), Some("138000800"));
        assert_eq!(r.participants.len(), 3);
        assert_eq!(r.participants[2].talk_seconds, Some(300));
        assert_eq!(r.duration_precision, DurationPrecision::Minute);
        assert_eq!(r.raw, raw);
    }

    #[test]
    fn internal_when_every_callee_is_a_colleague() {
        let raw = json!({"call_time":1,"total_duration":2,"call_type":1,
            "caller":{"userid":"a","duration":2},"callee":[{"userid":"b","duration":2}]});
        assert_eq!(normalize("s", None, &raw).unwrap().direction, Direction::Internal);
    }

    #[test]
    fn fingerprint_ignores_order_and_phone_type() {
        let a: DialRecord = serde_json::from_value(json!({"call_time":5,"total_duration":3,"call_type":2,
            "caller":{"userid":"u","duration":1},
            "callee":[{"phone":13800138000u64,"duration":1},{"userid":"v","duration":1}]}))
        .unwrap();
        let b: DialRecord = serde_json::from_value(json!({"call_type":2,"call_time":"5","total_duration":3,
            "callee":[{"userid":"v","duration":1},{"phone":"13800138000","duration":1}],
            "caller":{"duration":1,"userid":"u"}}))
        .unwrap();
        assert_eq!(fingerprint(&a), fingerprint(&b));
        assert_eq!(fingerprint(&a).len(), 32);
    }
}
