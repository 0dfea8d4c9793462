//! Wire record → [`CallRecord`] (CONTRACT.md §3, VENDORS.md § tencent_ads). Pure.
//!
//! Every time is a GMT+8 wall-clock string (`"2023-01-10 11:04:50"` is
//! `2023-01-10T03:04:50Z`); reading them as UTC would shift every call by 8 hours.

use crate::wire::CallRecordWire;
use huadan_model::time::parse_gmt8;
use huadan_model::{
    Agent, CallRecord, Direction, Disposition, HangupSide, Instant, Party, Provider, RawJson, Recording,
};
use huadan_vendor::NormalizeError;
use jiff::SignedDuration;
use serde::Deserialize;

/// How long a `call_record_url` stays valid, counted from the end of the call.
pub const RECORDING_VALIDITY: SignedDuration = SignedDuration::from_hours(7 * 24);

/// `end_status` → unified disposition (VENDORS.md table).
pub fn disposition(end_status: i64) -> Disposition {
    match end_status {
        0 => Disposition::Answered,
        1 => Disposition::Rejected,
        2 => Disposition::NoAnswer,
        3 | 4 | 6 => Disposition::Unreachable,
        5 => Disposition::Busy,
        7 => Disposition::InvalidNumber,
        8 | 9 => Disposition::Canceled,
        _ => Disposition::Unknown,
    }
}

fn non_empty(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

fn time(field: &str, s: &Option<String>) -> Result<Option<Instant>, NormalizeError> {
    match non_empty(s) {
        None => Ok(None),
        Some(v) => parse_gmt8(v).map(Some).map_err(|e| NormalizeError(format!("{field}: {e}"))),
    }
}

fn secs_between(a: Option<Instant>, b: Option<Instant>) -> Option<i64> {
    match (a, b) {
        (Some(a), Some(b)) if b >= a => Some(b.duration_since(a).as_secs()),
        _ => None,
    }
}

/// The instant a record's list query filters on (`call_start_time`, GMT+8).
pub fn query_time(wire: &CallRecordWire) -> Result<Instant, NormalizeError> {
    if wire.call_start_time.trim().is_empty() {
        return Err(NormalizeError("call_start_time is missing".into()));
    }
    parse_gmt8(&wire.call_start_time).map_err(|e| NormalizeError(format!("call_start_time: {e}")))
}

/// Normalise one raw record (as received) of source `source`.
pub fn normalize(source: &str, raw: &serde_json::Value) -> Result<CallRecord, NormalizeError> {
    let wire = CallRecordWire::deserialize(raw).map_err(parse_error)?;
    let mut r = normalize_wire(source, &wire)?;
    r.raw = RawJson::from_value(raw);
    Ok(r)
}

/// Read one record kept as its JSON text into the wire type (no `Value` tree).
pub fn parse_raw(raw: &RawJson) -> Result<CallRecordWire, NormalizeError> {
    raw.parse().map_err(parse_error)
}

fn parse_error(e: serde_json::Error) -> NormalizeError {
    NormalizeError(format!("not a call record: {e}"))
}

/// Normalise one record kept as the JSON text the vendor sent (how the client reads a
/// page: no `Value` tree is built); the text becomes `CallRecord::raw` as is.
pub fn normalize_raw(source: &str, raw: RawJson) -> Result<CallRecord, NormalizeError> {
    let mut r = normalize_wire(source, &parse_raw(&raw)?)?;
    r.raw = raw;
    Ok(r)
}

/// Normalise an already parsed wire record. Its `raw` is left JSON `null`: the caller,
/// which holds the record as received, sets it ([`normalize`], [`normalize_raw`] and
/// the client do).
pub fn normalize_wire(source: &str, w: &CallRecordWire) -> Result<CallRecord, NormalizeError> {
    let call_id = w.call_id.trim();
    if call_id.is_empty() {
        return Err(NormalizeError("call_id is missing".into()));
    }
    let started = query_time(w)?;
    let mut r = CallRecord::new(source, Provider::TencentAds, call_id, started);
    r.account = w.account_id.map(|a| a.to_string());
    r.direction = match non_empty(&w.call_direction) {
        Some("CALL_IN") => Direction::Inbound,
        Some("CALL_OUT") => Direction::Outbound,
        _ => Direction::Unknown,
    };
    r.caller = non_empty(&w.caller).map(Party::number).unwrap_or_default();
    r.callee = non_empty(&w.callee).map(Party::number).unwrap_or_default();
    // The advertiser's side of a lead call: the caller of an outbound call, the
    // callee of an inbound one.
    let company_side = match r.direction {
        Direction::Outbound => non_empty(&w.caller),
        Direction::Inbound => non_empty(&w.callee),
        _ => None,
    };
    r.agent = company_side.map(|p| Agent { phone: Some(p.to_string()), ..Agent::default() });
    r.ringing_at = time("ring_time", &w.ring_time)?;
    r.answered_at = time("answer_time", &w.answer_time)?;
    r.ended_at = time("call_end_time", &w.call_end_time)?;
    r.talk_seconds = w.duration;
    r.ring_seconds = secs_between(r.ringing_at, r.answered_at.or(r.ended_at));
    r.total_seconds = secs_between(Some(started), r.ended_at);
    match w.end_status {
        Some(s) => {
            r.disposition = disposition(s);
            r.disposition_detail = s.to_string();
        }
        None => r.disposition = Disposition::Unknown,
    }
    r.hangup_side = match (w.end_status, r.direction) {
        // 8 caller hung up / 9 caller cancelled: the caller's side.
        (Some(8 | 9), Direction::Outbound) => Some(HangupSide::Agent),
        (Some(8 | 9), Direction::Inbound) => Some(HangupSide::Customer),
        // 1 rejected: the callee's side.
        (Some(1), Direction::Outbound) => Some(HangupSide::Customer),
        (Some(1), Direction::Inbound) => Some(HangupSide::Agent),
        _ => None,
    };
    if let Some(url) = non_empty(&w.call_record_url) {
        let from = r.ended_at.unwrap_or(started);
        r.recordings.push(Recording {
            url: url.to_string(),
            expires_at: from.checked_add(RECORDING_VALIDITY).ok(),
            archived_path: None,
        });
    }
    r.channel = Some("pstn".into());
    r.lead_id = w.leads_id.filter(|id| *id != 0).map(|id| id.to_string());
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_end_status_maps_per_vendors_md() {
        let expected = [
            (0, "answered"),
            (1, "rejected"),
            (2, "no_answer"),
            (3, "unreachable"),
            (4, "unreachable"),
            (5, "busy"),
            (6, "unreachable"),
            (7, "invalid_number"),
            (8, "canceled"),
            (9, "canceled"),
            (10, "unknown"),
            (11, "unknown"),
        ];
        for (s, d) in expected {
            assert_eq!(disposition(s).as_str(), d, "end_status {s}");
        }
    }

    #[test]
    fn ads_gmt8_wall_clock_times_at_midnight() {
        let raw = json!({"call_id":"a","call_direction":"CALL_IN","call_start_time":"2024-02-29 23:59:59",
            "ring_time":"2024-02-29 23:59:59","answer_time":"","call_end_time":"2024-03-01 00:00:00",
            "end_status":2,"duration":0,"call_record_url":""});
        let r = normalize("ads", &raw).unwrap();
        assert_eq!(r.started_at.to_string(), "2024-02-29T15:59:59Z");
        assert_eq!(r.ended_at.unwrap().to_string(), "2024-02-29T16:00:00Z");
        assert_eq!(r.total_seconds, Some(1));
        assert_eq!(r.ring_seconds, Some(1));
        assert_eq!(r.disposition, Disposition::NoAnswer);
        assert!(r.recordings.is_empty());
        assert_eq!(r.answered_at, None);
    }

    #[test]
    fn recording_expires_seven_days_after_the_call() {
        let raw = json!({"call_id":"b","call_direction":"CALL_OUT","call_start_time":"2024-03-01 10:00:00",
            "call_end_time":"2024-03-01 10:01:00","end_status":0,"duration":50,"leads_id":"7",
            "call_record_url":"https://rec.example/b.mp3"});
        let r = normalize("ads", &raw).unwrap();
        assert_eq!(r.recordings[0].expires_at.unwrap().to_string(), "2024-03-08T02:01:00Z");
        assert_eq!(r.lead_id.as_deref(), Some("7"));
        assert_eq!(r.raw, raw);
    }

    #[test]
    fn missing_id_or_bad_time_is_an_error_not_a_guess() {
        assert!(normalize("s", &json!({"call_start_time":"2024-03-01 10:00:00"})).is_err());
        assert!(normalize("s", &json!({"call_id":"x","call_start_time":"2024-03-01T10:00:00+08:00Z"})).is_err());
        assert!(normalize("s", &json!({"call_id":"x"})).is_err());
        assert!(normalize("s", &json!("not an object")).is_err());
    }
}
