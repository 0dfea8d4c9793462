//! `TelCdrInfo` → [`CallRecord`] (CONTRACT.md §3, VENDORS.md § tencent_ccc). Pure.
//!
//! * id: `SessionId`; `started_at`: `Time` (else `StartTimestamp`); a timestamp of `0`
//!   means "did not happen".
//! * direction: `CallType` 6 → internal, else `Direction` 0 inbound / 1 outbound.
//! * numbers: `Caller` / `Callee` as sent (`0086…` kept). With number protection the
//!   number is empty and `ProtectedCaller` / `ProtectedCallee` holds an opaque id: it
//!   goes to the party's `user_id` (it identifies the party, but is not dialable).
//! * agent: `SeatUser`; skill groups: the call's `SkillGroup` and
//!   `QueuedSkillGroupName`, else the seat's `SkillGroupNameList`.
//! * participants: one per `ServeParticipants` leg, ordered by `Sequence`.
//! * disposition: [`END_STATUS`], the one table; an unknown code is `unknown` with the
//!   verbatim `EndStatusString` in `disposition_detail`, logged once per code.
//! * transcript: `AsrStatus` `Processing` → pending (the record may still change),
//!   `Complete` → done (the text itself is behind `AsrUrl`, kept in `raw`).

use crate::wire::{IvrKeyPressed, ServeParticipant, TelCdrInfo};
use huadan_model::{
    Agent, CallRecord, Direction, Disposition, HangupSide, Instant, Participant, Party, Provider, Recording,
    Transcript, TranscriptStatus,
};
use huadan_vendor::NormalizeError;
use std::collections::BTreeSet;
use std::sync::Mutex;

/// `EndStatus` → (`EndStatusString`, unified disposition): the one place this mapping
/// lives (VENDORS.md § tencent_ccc).
pub const END_STATUS: &[(i64, &str, Disposition)] = &[
    (0, "error", Disposition::Failed),
    (1, "ok", Disposition::Answered),
    (2, "unconnected", Disposition::NoAnswer),
    (17, "seatGiveUp", Disposition::NoAnswer),
    (100, "blackList", Disposition::Blocked),
    (101, "seatForward", Disposition::Answered),
    (102, "ivrGiveUp", Disposition::Abandoned),
    (103, "waitingGiveUp", Disposition::Abandoned),
    (104, "ringingGiveUp", Disposition::Abandoned),
    (105, "noSeatOnline", Disposition::NoAgent),
    (106, "notWorkTime", Disposition::NoAgent),
    (107, "ivrEnd", Disposition::Answered),
    (108, "restrictedCallee", Disposition::Blocked),
    (109, "tooManyRequest", Disposition::Blocked),
    (110, "restrictedArea", Disposition::Blocked),
    (111, "restrictedTime", Disposition::Blocked),
    (201, "unknown", Disposition::Unknown),
    (202, "notAnswer", Disposition::NoAnswer),
    (203, "userReject", Disposition::Rejected),
    (204, "powerOff", Disposition::Unreachable),
    (205, "numberNotExist", Disposition::InvalidNumber),
    (206, "busy", Disposition::Busy),
    (207, "outOfCredit", Disposition::Unreachable),
    (208, "operatorError", Disposition::Failed),
    (209, "callerCancel", Disposition::Canceled),
    (210, "notInService", Disposition::Unreachable),
    (211, "clientError", Disposition::Failed),
    (212, "carrierBlocked", Disposition::Blocked),
    // Newer codes, as the official SDK (tencentcloud-sdk-python-ccc, DescribeTelCdr
    // EndStatus docs) lists them; older records never carry them.
    (213, "callReminder", Disposition::Unreachable),
    (215, "numberInvalid", Disposition::InvalidNumber),
    (216, "callRestricted", Disposition::Blocked),
    (217, "calleeRestricted", Disposition::Blocked),
    (218, "areaRestricted", Disposition::Blocked),
    (219, "promptCallForwarding", Disposition::Unreachable),
    (220, "callerCancelWhileRing", Disposition::Canceled),
    (221, "callerCancelWithoutRing", Disposition::Unreachable),
    (222, "voiceMailReached", Disposition::NoAnswer),
    (501, "callConflict", Disposition::Failed),
    (502, "clientTimeout", Disposition::Failed),
    (503, "voipClientError", Disposition::Failed),
];

/// `ivrEnd`: answered by the IVR alone, no agent.
pub const IVR_END: i64 = 107;

/// The table entry for a code.
pub fn end_status(code: i64) -> Option<(&'static str, Disposition)> {
    END_STATUS.iter().find(|(c, _, _)| *c == code).map(|(_, s, d)| (*s, *d))
}

static LOGGED_UNKNOWN: Mutex<BTreeSet<i64>> = Mutex::new(BTreeSet::new());

/// Record that `code` was met with no mapping; true only the first time per process
/// (so the warning is logged once per code, not once per record).
pub fn first_sighting_of_unknown(code: i64) -> bool {
    match LOGGED_UNKNOWN.lock() {
        Ok(mut set) => set.insert(code),
        Err(poisoned) => poisoned.into_inner().insert(code),
    }
}

/// Disposition and `disposition_detail` of a record.
pub fn disposition(code: Option<i64>, text: Option<&str>) -> (Disposition, String) {
    let text = text.map(str::trim).filter(|s| !s.is_empty());
    match code.and_then(|c| end_status(c).map(|e| (c, e))) {
        Some((c, (name, d))) => (
            d,
            text.map(str::to_string).unwrap_or_else(|| if name.is_empty() { c.to_string() } else { name.to_string() }),
        ),
        None => {
            let detail = match (text, code) {
                (Some(t), _) => t.to_string(),
                (None, Some(c)) => c.to_string(),
                (None, None) => String::new(),
            };
            if let Some(c) = code
                && first_sighting_of_unknown(c)
            {
                tracing::warn!(
                    provider = "tencent_ccc",
                    end_status = c,
                    end_status_string = %detail,
                    "EndStatus not in the mapping table; records with it get disposition `unknown`"
                );
            }
            (Disposition::Unknown, detail)
        }
    }
}

fn ts(v: Option<i64>) -> Option<Instant> {
    v.filter(|s| *s > 0).and_then(|s| Instant::from_second(s).ok())
}

fn non_empty(v: &Option<String>) -> Option<String> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string)
}

fn secs_between(a: Option<Instant>, b: Option<Instant>) -> Option<i64> {
    match (a, b) {
        (Some(a), Some(b)) if b >= a => Some(b.as_second() - a.as_second()),
        _ => None,
    }
}

fn party(number: &Option<String>, protected: &Option<String>) -> Party {
    Party {
        number: non_empty(number),
        user_id: if non_empty(number).is_none() { non_empty(protected) } else { None },
        name: None,
    }
}

fn keys_text(keys: &[IvrKeyPressed]) -> Option<String> {
    let parts: Vec<String> = keys
        .iter()
        .filter_map(|k| {
            let key = non_empty(&k.key);
            let label = non_empty(&k.label);
            match (key, label) {
                (Some(k), Some(l)) if k != l => Some(format!("{k}({l})")),
                (Some(k), _) => Some(k),
                (None, Some(l)) => Some(l),
                (None, None) => None,
            }
        })
        .collect();
    if parts.is_empty() { None } else { Some(parts.join(",")) }
}

fn leg(p: &ServeParticipant) -> Participant {
    let ringing_at = ts(p.ring_timestamp);
    let answered_at = ts(p.accept_timestamp);
    let ended_at = ts(p.ended_timestamp);
    Participant {
        role: non_empty(&p.r#type).unwrap_or_else(|| "agent".to_string()),
        number: non_empty(&p.phone),
        user_id: non_empty(&p.mail),
        name: None,
        ringing_at,
        answered_at,
        ended_at,
        talk_seconds: secs_between(answered_at, ended_at),
        recording_url: non_empty(&p.record_url).or_else(|| non_empty(&p.custom_record_url)),
        transfer_from: non_empty(&p.transfer_from),
        transfer_to: non_empty(&p.transfer_to),
    }
}

/// Normalise one raw record for `source`, whose `SdkAppId` is `account`.
pub fn normalize(source: &str, account: Option<&str>, raw: &serde_json::Value) -> Result<CallRecord, NormalizeError> {
    normalize_owned(source, account, raw.clone())
}

/// [`normalize`], taking the raw record by value.
pub fn normalize_owned(
    source: &str,
    account: Option<&str>,
    raw: serde_json::Value,
) -> Result<CallRecord, NormalizeError> {
    use serde::Deserialize;
    let w = TelCdrInfo::deserialize(&raw).map_err(|e| NormalizeError(format!("TelCdrInfo does not parse: {e}")))?;
    normalize_wire(source, account, &w, huadan_model::RawJson::from_value(&raw))
}

/// Normalise a record kept as the JSON text the vendor sent (how the client reads a
/// page: no `Value` tree is built; the text becomes `CallRecord::raw` as is).
pub fn normalize_raw(
    source: &str,
    account: Option<&str>,
    raw: huadan_model::RawJson,
) -> Result<CallRecord, NormalizeError> {
    let w: TelCdrInfo = raw.parse().map_err(|e| NormalizeError(format!("TelCdrInfo does not parse: {e}")))?;
    normalize_wire(source, account, &w, raw)
}

/// Normalise a typed record; `raw` is stored as given.
pub fn normalize_wire(
    source: &str,
    account: Option<&str>,
    w: &TelCdrInfo,
    raw: huadan_model::RawJson,
) -> Result<CallRecord, NormalizeError> {
    let id = non_empty(&w.session_id).ok_or_else(|| NormalizeError("TelCdrInfo has no SessionId".into()))?;
    let started_at = ts(w.time)
        .or_else(|| ts(w.start_timestamp))
        .ok_or_else(|| NormalizeError(format!("record {id} has neither Time nor StartTimestamp")))?;
    let mut r = CallRecord::new(source, Provider::TencentCcc, &id, started_at);
    r.account = account.map(str::to_string);
    r.direction = match (w.call_type, w.direction) {
        (Some(6), _) => Direction::Internal,
        (_, Some(0)) => Direction::Inbound,
        (_, Some(1)) => Direction::Outbound,
        _ => Direction::Unknown,
    };
    r.caller = party(&w.caller, &w.protected_caller);
    r.callee = party(&w.callee, &w.protected_callee);

    let (disp, detail) = disposition(w.end_status, w.end_status_string.as_deref());
    r.disposition = disp;
    r.disposition_detail = detail;

    let mut skill_groups: Vec<String> = Vec::new();
    for g in [non_empty(&w.skill_group), non_empty(&w.queued_skill_group_name)].into_iter().flatten() {
        if !skill_groups.contains(&g) {
            skill_groups.push(g);
        }
    }
    r.agent = w.seat_user.as_ref().and_then(|s| {
        let agent = Agent {
            id: non_empty(&s.user_id).or_else(|| non_empty(&s.mail)),
            name: non_empty(&s.name).or_else(|| non_empty(&s.nick)),
            phone: non_empty(&s.phone),
            email: non_empty(&s.mail),
            staff_number: non_empty(&s.staff_number),
            skill_groups: if skill_groups.is_empty() {
                s.skill_group_name_list
                    .clone()
                    .unwrap_or_default()
                    .into_iter()
                    .filter(|g| !g.trim().is_empty())
                    .collect()
            } else {
                skill_groups.clone()
            },
            department: None,
        };
        (agent.id.is_some() || agent.name.is_some() || agent.phone.is_some() || agent.email.is_some()).then_some(agent)
    });
    if w.end_status == Some(IVR_END) {
        r.agent = None;
    }

    let mut legs: Vec<&ServeParticipant> = w.serve_participants.iter().flatten().collect();
    legs.sort_by_key(|p| p.sequence.unwrap_or(i64::MAX));
    r.participants = legs.into_iter().map(leg).collect();

    r.ringing_at = ts(w.ring_timestamp);
    r.answered_at = ts(w.accept_timestamp);
    r.ended_at = ts(w.ended_timestamp);
    r.talk_seconds = w.duration.filter(|d| *d >= 0);
    r.ivr_seconds = w.ivr_duration.filter(|d| *d >= 0);
    r.ring_seconds = secs_between(r.ringing_at, r.answered_at.or(r.ended_at));
    r.queue_seconds = secs_between(ts(w.queued_timestamp), r.ringing_at.or(r.answered_at).or(r.ended_at));
    r.total_seconds = secs_between(Some(started_at), r.ended_at);

    r.hangup_side = match w.hung_up_side.as_deref().map(str::trim) {
        Some("seat") => Some(HangupSide::Agent),
        Some("user") => Some(HangupSide::Customer),
        Some("system") => Some(HangupSide::System),
        _ => None,
    };

    let mut urls: Vec<String> = Vec::new();
    let voicemail = w.voicemail_record_url.iter().flatten().map(|u| Some(u.clone())).collect::<Vec<_>>();
    for u in [non_empty(&w.record_url), non_empty(&w.custom_record_url)].iter().chain(voicemail.iter()) {
        if let Some(u) = non_empty(u)
            && !urls.contains(&u)
        {
            urls.push(u);
        }
    }
    r.recordings = urls.into_iter().map(|url| Recording { url, expires_at: None, archived_path: None }).collect();

    r.transcript = match w.asr_status.as_deref().map(str::trim) {
        Some("Processing") => Some(Transcript { status: TranscriptStatus::Pending, sentences: Vec::new() }),
        Some("Complete") => Some(Transcript { status: TranscriptStatus::Done, sentences: Vec::new() }),
        _ => None,
    };
    r.channel = Some(if w.call_type == Some(3) { "voip" } else { "pstn" }.to_string());
    r.remark = non_empty(&w.remark);
    r.ivr_keys = match &w.ivr_key_pressed {
        Some(keys) if keys.iter().any(|k| !k.trim().is_empty()) => {
            Some(keys.iter().map(|k| k.trim()).filter(|k| !k.is_empty()).collect::<Vec<_>>().join(","))
        }
        _ => w.ivr_key_pressed_ex.as_deref().and_then(keys_text),
    };
    r.satisfaction = w
        .post_ivr_key_pressed_ex
        .as_deref()
        .and_then(keys_text)
        .or_else(|| w.post_ivr_key_pressed.as_deref().and_then(keys_text));
    r.location = non_empty(&w.caller_location);
    r.raw = raw;
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_documented_end_status_maps_as_vendors_md_says() {
        use Disposition::*;
        let expect: &[(i64, Disposition)] = &[
            (1, Answered),
            (0, Failed),
            (2, NoAnswer),
            (17, NoAnswer),
            (100, Blocked),
            (101, Answered),
            (102, Abandoned),
            (103, Abandoned),
            (104, Abandoned),
            (105, NoAgent),
            (106, NoAgent),
            (107, Answered),
            (108, Blocked),
            (110, Blocked),
            (111, Blocked),
            (109, Blocked),
            (201, Unknown),
            (202, NoAnswer),
            (203, Rejected),
            (204, Unreachable),
            (207, Unreachable),
            (210, Unreachable),
            (205, InvalidNumber),
            (206, Busy),
            (208, Failed),
            (211, Failed),
            (209, Canceled),
            (212, Blocked),
            (213, Unreachable),
            (215, InvalidNumber),
            (216, Blocked),
            (217, Blocked),
            (218, Blocked),
            (219, Unreachable),
            (220, Canceled),
            (221, Unreachable),
            (222, NoAnswer),
            (501, Failed),
            (502, Failed),
            (503, Failed),
        ];
        assert_eq!(expect.len(), END_STATUS.len());
        for (code, d) in expect {
            assert_eq!(end_status(*code).map(|e| e.1), Some(*d), "code {code}");
        }
    }

    #[test]
    fn tencent_ccc_unknown_end_status_is_unknown_with_verbatim_text_logged_once() {
        let (d, detail) = disposition(Some(299), Some("someFutureStatus"));
        assert_eq!(d, Disposition::Unknown);
        assert_eq!(detail, "someFutureStatus");
        // The first call above logged it; a later sighting does not log again.
        assert!(!first_sighting_of_unknown(299));
        assert!(first_sighting_of_unknown(-98765));
        assert_eq!(disposition(Some(-4242), None), (Disposition::Unknown, "-4242".to_string()));
        assert_eq!(disposition(Some(104), Some("ringingGiveUp")), (Disposition::Abandoned, "ringingGiveUp".into()));
        assert_eq!(disposition(Some(104), None), (Disposition::Abandoned, "ringingGiveUp".into()));
    }

    #[test]
    fn zero_timestamps_are_absent_and_protected_numbers_go_to_user_id() {
        let raw = serde_json::json!({
            "SessionId": "s1", "Time": 1700000000, "Direction": 0, "Caller": "", "ProtectedCaller": "pc-1",
            "Callee": "008602161234567", "EndStatus": 107, "EndStatusString": "ivrEnd",
            "SeatUser": {"Name": "x", "Mail": "x@y"}, "RingTimestamp": 0, "AcceptTimestamp": 0, "EndedTimestamp": 1700000030,
            "AsrStatus": "Processing"
        });
        let r = normalize("src", Some("1400000000"), &raw).unwrap();
        assert_eq!(r.caller.number, None);
        assert_eq!(r.caller.user_id.as_deref(), Some("pc-1"));
        assert_eq!(r.callee.number.as_deref(), Some("008602161234567"));
        assert_eq!(r.ringing_at, None);
        assert_eq!(r.total_seconds, Some(30));
        assert_eq!(r.agent, None, "ivrEnd has no agent");
        assert_eq!(r.disposition, Disposition::Answered);
        assert!(r.may_change());
        assert!(normalize("src", None, &serde_json::json!({"Time": 1})).is_err());
        assert!(normalize("src", None, &serde_json::json!({"SessionId": "x"})).is_err());
    }
}
