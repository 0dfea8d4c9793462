//! `CallDetailRecord` → [`CallRecord`] (CONTRACT.md §3, VENDORS.md § aliyun_ccc). Pure.
//!
//! * id `ContactId`; `account` = `InstanceId`; times are unix milliseconds;
//! * `ContactType`: Inbound → inbound, Outbound / Back2Back (two-leg callback) → outbound
//!   (the doc's text also spells `INBOUND` / `OUTBOND`: any case, both spellings);
//! * `ContactDisposition`: Success → answered, NoAnswer → no_answer,
//!   AbandonedInContactFlow / AbandonedInQueue / AbandonedRing → abandoned,
//!   Reject → rejected; the vendor's value kept in `disposition_detail`;
//! * `ReleaseInitiator` agent / customer → `hangup_side`;
//! * `AgentIds`, `AgentNames`, `SkillGroupIds`, `SkillGroupNames` are comma-separated:
//!   split into the agent (the first) and one participant per agent;
//! * `talk_seconds` = `TalkTime` when present, else `CallDuration` (which, for inbound
//!   calls, counts from IVR entry); satisfaction from `SatisfactionIndex` or `Satisfaction`.

use crate::wire::CallDetailRecord;
use huadan_model::{
    Agent, CallRecord, Direction, Disposition, HangupSide, Instant, Participant, Party, Provider, RawJson, time,
};
use huadan_vendor::NormalizeError;

/// Normalise one raw record of source `source`.
pub fn normalize(source: &str, raw: &serde_json::Value) -> Result<CallRecord, NormalizeError> {
    let w: CallDetailRecord = serde_json::from_value(raw.clone()).map_err(parse_error)?;
    let mut r = normalize_wire(source, &w)?;
    r.raw = RawJson::from_value(raw);
    Ok(r)
}

/// Normalise one record kept as the JSON text the vendor sent (how the client reads a
/// page: no `Value` tree is built); the text becomes `CallRecord::raw` as is.
pub fn normalize_raw(source: &str, raw: RawJson) -> Result<CallRecord, NormalizeError> {
    let w: CallDetailRecord = raw.parse().map_err(parse_error)?;
    let mut r = normalize_wire(source, &w)?;
    r.raw = raw;
    Ok(r)
}

fn parse_error(e: serde_json::Error) -> NormalizeError {
    NormalizeError(format!("CallDetailRecord: {e}"))
}

/// Normalise a typed record. Its `raw` is left JSON `null`: the caller, which holds the
/// record as received, sets it ([`normalize`] and [`normalize_raw`] do).
pub fn normalize_wire(source: &str, w: &CallDetailRecord) -> Result<CallRecord, NormalizeError> {
    let id = w
        .contact_id
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| NormalizeError("CallDetailRecord without ContactId".into()))?;
    let start_ms = w.start_time.ok_or_else(|| NormalizeError(format!("record {id} has no StartTime")))?;
    let started_at = ms(start_ms, "StartTime")?;
    let mut r = CallRecord::new(source, Provider::AliyunCcc, id, started_at);
    r.account = w.instance_id.clone().filter(|s| !s.is_empty());
    r.direction = direction(w.contact_type.as_deref());
    r.caller = number_party(w.calling_number.as_deref());
    r.callee = number_party(w.called_number.as_deref());
    r.answered_at = positive_ms(w.established_time, "EstablishedTime")?;
    r.ended_at = positive_ms(w.release_time, "ReleaseTime")?;
    r.talk_seconds = w.talk_time.or(w.call_duration);
    r.ring_seconds = w.ring_time;
    r.ivr_seconds = w.ivr_time;
    r.queue_seconds = w.queue_time;
    r.total_seconds = r.ended_at.map(|e| e.duration_since(started_at).as_secs().max(0));
    r.disposition_detail = w.contact_disposition.clone().unwrap_or_default();
    r.disposition = disposition(w.contact_disposition.as_deref());
    r.hangup_side = hangup_side(w.release_initiator.as_deref());
    r.satisfaction = w.satisfaction_index.clone().or_else(|| w.satisfaction.clone()).filter(|s| !s.is_empty());
    r.location = match r.direction {
        Direction::Inbound => w.caller_location.clone(),
        _ => w.callee_location.clone(),
    }
    .filter(|s| !s.is_empty());
    r.channel = Some("pstn".into());

    let agent_ids = split_list(w.agent_ids.as_deref());
    let agent_names = split_list(w.agent_names.as_deref());
    let skill_names = split_list(w.skill_group_names.as_deref());
    let skill_groups = if skill_names.is_empty() { split_list(w.skill_group_ids.as_deref()) } else { skill_names };
    let n_agents = agent_ids.len().max(agent_names.len());
    for i in 0..n_agents {
        r.participants.push(Participant {
            role: "agent".into(),
            user_id: agent_ids.get(i).cloned(),
            name: agent_names.get(i).cloned(),
            ..Participant::default()
        });
    }
    if n_agents > 0 || !skill_groups.is_empty() {
        r.agent = Some(Agent {
            id: agent_ids.first().cloned(),
            name: agent_names.first().cloned(),
            skill_groups,
            ..Agent::default()
        });
    }
    Ok(r)
}

fn ms(v: i64, field: &str) -> Result<Instant, NormalizeError> {
    time::from_unix_millis(v).map_err(|e| NormalizeError(format!("{field}: {e}")))
}

/// Milliseconds where `0` / absent mean "did not happen".
fn positive_ms(v: Option<i64>, field: &str) -> Result<Option<Instant>, NormalizeError> {
    match v {
        Some(x) if x > 0 => ms(x, field).map(Some),
        _ => Ok(None),
    }
}

fn number_party(n: Option<&str>) -> Party {
    match n.map(str::trim).filter(|s| !s.is_empty()) {
        Some(n) => Party::number(n),
        None => Party::default(),
    }
}

/// `ContactType` → direction.
pub fn direction(contact_type: Option<&str>) -> Direction {
    match contact_type.map(|s| s.trim().to_ascii_lowercase()).as_deref() {
        Some("inbound") => Direction::Inbound,
        Some("outbound" | "outbond" | "back2back") => Direction::Outbound,
        Some("internal") => Direction::Internal,
        _ => Direction::Unknown,
    }
}

/// `ContactDisposition` → disposition (VENDORS.md table).
pub fn disposition(d: Option<&str>) -> Disposition {
    match d.map(str::trim) {
        Some("Success") => Disposition::Answered,
        Some("NoAnswer") => Disposition::NoAnswer,
        Some("AbandonedInContactFlow" | "AbandonedInQueue" | "AbandonedRing") => Disposition::Abandoned,
        Some("Reject") => Disposition::Rejected,
        _ => Disposition::Unknown,
    }
}

/// `ReleaseInitiator` → hang-up side.
pub fn hangup_side(s: Option<&str>) -> Option<HangupSide> {
    match s.map(|s| s.trim().to_ascii_lowercase()).as_deref() {
        Some("agent") => Some(HangupSide::Agent),
        Some("customer") => Some(HangupSide::Customer),
        Some("system") => Some(HangupSide::System),
        _ => None,
    }
}

/// A comma-separated list → its non-empty, trimmed items.
pub fn split_list(s: Option<&str>) -> Vec<String> {
    s.unwrap_or("").split(',').map(str::trim).filter(|x| !x.is_empty()).map(String::from).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn aliyun_back2back_is_outbound_and_doc_spellings_read() {
        assert_eq!(direction(Some("Back2Back")), Direction::Outbound);
        assert_eq!(direction(Some("OUTBOND")), Direction::Outbound);
        assert_eq!(direction(Some("INBOUND")), Direction::Inbound);
        assert_eq!(direction(Some("Whatever")), Direction::Unknown);
    }

    #[test]
    fn aliyun_disposition_table() {
        for (v, d) in [
            ("Success", Disposition::Answered),
            ("NoAnswer", Disposition::NoAnswer),
            ("AbandonedInContactFlow", Disposition::Abandoned),
            ("AbandonedInQueue", Disposition::Abandoned),
            ("AbandonedRing", Disposition::Abandoned),
            ("Reject", Disposition::Rejected),
            ("SomethingNew", Disposition::Unknown),
        ] {
            assert_eq!(disposition(Some(v)), d, "{v}");
        }
        assert_eq!(hangup_side(Some("agent")), Some(HangupSide::Agent));
        assert_eq!(hangup_side(Some("customer")), Some(HangupSide::Customer));
        assert_eq!(hangup_side(None), None);
    }

    #[test]
    fn aliyun_comma_lists_become_arrays() {
        let raw = json!({
            "ContactId": "job-1", "StartTime": 1700000000000i64, "ContactType": "Inbound",
            "AgentIds": "a1@i,a2@i", "AgentNames": "张三, 李四", "SkillGroupIds": "s1@i,s2@i",
            "SkillGroupNames": "售前,售后", "ContactDisposition": "Success"
        });
        let r = normalize("src", &raw).unwrap();
        let a = r.agent.unwrap();
        assert_eq!(a.id.as_deref(), Some("a1@i"));
        assert_eq!(a.name.as_deref(), Some("张三"));
        assert_eq!(a.skill_groups, vec!["售前", "售后"]);
        assert_eq!(r.participants.len(), 2);
        assert_eq!(r.participants[1].name.as_deref(), Some("李四"));
        assert_eq!(r.participants[1].user_id.as_deref(), Some("a2@i"));
    }

    #[test]
    fn aliyun_talk_time_preferred_over_call_duration() {
        let with =
            json!({"ContactId": "x", "StartTime": 1, "CallDuration": 95, "TalkTime": 60, "SatisfactionIndex": 4});
        let without = json!({"ContactId": "x", "StartTime": "1", "CallDuration": "95", "Satisfaction": "2"});
        let a = normalize("s", &with).unwrap();
        let b = normalize("s", &without).unwrap();
        assert_eq!(a.talk_seconds, Some(60));
        assert_eq!(a.satisfaction.as_deref(), Some("4"));
        assert_eq!(b.talk_seconds, Some(95));
        assert_eq!(b.satisfaction.as_deref(), Some("2"));
    }

    #[test]
    fn records_without_id_or_start_are_errors() {
        assert!(normalize("s", &json!({"StartTime": 1})).is_err());
        assert!(normalize("s", &json!({"ContactId": "x"})).is_err());
        assert!(normalize("s", &json!({"ContactId": "x", "StartTime": "soon"})).is_err());
        assert!(normalize("s", &json!([1, 2])).is_err());
    }
}
