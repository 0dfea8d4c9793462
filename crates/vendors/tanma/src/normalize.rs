//! Tanma wire record → [`CallRecord`] (CONTRACT.md §3, VENDORS.md § tanma). Pure.
//!
//! | Tanma | record |
//! |---|---|
//! | `id` (15-digit integer) | `provider_call_id`, as its exact digits |
//! | `corpId` | `account` |
//! | `msgTime` (GMT+8; when the call happened) | `started_at` (falls back to `gmtCreateTime` if absent) |
//! | `preCost` (audio ms) | `talk_seconds` (rounded), `ended_at = started_at + preCost` |
//! | `sendName` / `userId` | the employee: `agent`, `caller`, participant `agent` |
//! | `receiveName` | the customer: `callee`, participant `customer` (empty → unknown) |
//! | `departmentName` (JSON in a string) | `agent.department`: names joined with ` / ` |
//! | `callType` | `channel`: 微信语音 → `wechat_voice`, 电销手机 → `work_phone` |
//! | `url` | `recordings[0]` |
//! | `status` 2 + `content` (JSON in a string) | `transcript` done with sentences |
//! | `status` 0 + `message`/`content` (JSON status object) | `transcript` failed; reason in `remark` |
//! | any other `status` (1 转换中, …) or none | `transcript` pending → [`CallRecord::may_change`] |
//! | `statusStr` | `disposition_detail`, verbatim |
//!
//! Direction: Tanma names the employee the *sender* and the customer the *receiver*
//! whichever way the call went, so `direction` is `unknown`; `caller`/`callee` follow
//! the vendor's send/receive naming. Every record is a recorded call with audio, so a
//! positive `preCost` means `answered`; no audio leaves the disposition `unknown`.
//!
//! The raw record is kept verbatim in `raw`, JSON-in-string fields as the strings
//! received. A JSON-in-string field that does not parse never fails the record: an
//! unreadable `content` of a finished transcript becomes one sentence holding the text,
//! an unreadable `departmentName` is used as the department name as it is.

use crate::wire::{CallRecordWire, DepartmentWire, SentencesContent, SpeechStatus};
use huadan_model::time::parse_gmt8;
use huadan_model::{
    Agent, CallRecord, Direction, Disposition, Instant, Participant, Party, Provider, RawJson, Recording, Sentence,
    Transcript, TranscriptStatus,
};
use huadan_vendor::NormalizeError;
use jiff::SignedDuration;

/// `status` of a finished transcription (转换成功).
pub const STATUS_DONE: i64 = 2;
/// `status` of a failed transcription (转换失败).
pub const STATUS_FAILED: i64 = 0;

/// What a `status` means: 2 done, 0 failed, anything else (or none) pending.
pub fn transcript_status(status: Option<i64>) -> TranscriptStatus {
    match status {
        Some(STATUS_DONE) => TranscriptStatus::Done,
        Some(STATUS_FAILED) => TranscriptStatus::Failed,
        _ => TranscriptStatus::Pending,
    }
}

/// `callType` → unified channel; `None` for a type we do not know (kept in `raw`).
pub fn channel(call_type: &str) -> Option<&'static str> {
    match call_type.trim() {
        "微信语音" => Some("wechat_voice"),
        "电销手机" => Some("work_phone"),
        _ => None,
    }
}

/// The instant a record's `gmtCreateTime` names: the instant the list API filters on.
pub fn created_at(wire: &CallRecordWire) -> Option<Instant> {
    wire.gmt_create_time.as_deref().and_then(|s| parse_gmt8(s).ok())
}

/// Parse `content` of a finished transcription into sentences. Plain text (not JSON):
/// one sentence spanning the audio with the text as received; JSON without
/// `Sentences`: none.
pub fn parse_sentences(content: &str, audio_ms: Option<i64>) -> Vec<Sentence> {
    if content.trim().is_empty() {
        return Vec::new();
    }
    let Ok(value) = serde_json::from_str::<serde_json::Value>(content) else {
        return vec![Sentence { begin_ms: 0, end_ms: audio_ms.unwrap_or(0), channel: None, text: content.to_string() }];
    };
    // JSON without readable `Sentences` (a status object): nothing to show.
    let Ok(parsed) = serde_json::from_value::<SentencesContent>(value) else { return Vec::new() };
    parsed
        .sentences
        .into_iter()
        .map(|s| Sentence {
            begin_ms: s.begin_time.unwrap_or(0),
            end_ms: s.end_time.or(s.begin_time).unwrap_or(0),
            channel: s.channel_id.map(|c| c.to_string()),
            text: s.text.unwrap_or_default(),
        })
        .collect()
}

/// The failure reason of a failed transcription, from the status object in `message`
/// (or `content`): `"SUCCESS_WITH_NO_VALID_FRAGMENT (StatusCode 21050003)"`; the string
/// itself when it is not such an object.
pub fn failure_reason(message: Option<&str>, content: Option<&str>) -> Option<String> {
    let text = message.filter(|m| !m.trim().is_empty()).or(content.filter(|c| !c.trim().is_empty()))?;
    match serde_json::from_str::<SpeechStatus>(text) {
        Ok(SpeechStatus { status_text: Some(t), status_code, .. }) => Some(match status_code {
            Some(c) => format!("{t} (StatusCode {c})"),
            None => t,
        }),
        Ok(SpeechStatus { status_code: Some(c), .. }) => Some(format!("StatusCode {c}")),
        _ => Some(text.to_string()),
    }
}

/// The departments in `departmentName`; a value that is not the JSON array is taken as
/// one department name.
pub fn parse_departments(department_name: &str) -> Vec<DepartmentWire> {
    if department_name.trim().is_empty() {
        return Vec::new();
    }
    match serde_json::from_str::<Vec<DepartmentWire>>(department_name) {
        Ok(d) => d,
        Err(_) => vec![DepartmentWire { id: None, level: None, name: Some(department_name.to_string()) }],
    }
}

fn non_empty(s: &Option<String>) -> Option<String> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string)
}

/// Normalise one raw record (as received) for `source`.
pub fn normalize(source: &str, raw: &serde_json::Value) -> Result<CallRecord, NormalizeError> {
    let wire: CallRecordWire = serde_json::from_value(raw.clone()).map_err(parse_error)?;
    let mut r = normalize_wire(source, &wire)?;
    r.raw = RawJson::from_value(raw);
    Ok(r)
}

/// Read one record kept as its JSON text into the wire type (no `Value` tree).
pub fn parse_raw(raw: &RawJson) -> Result<CallRecordWire, NormalizeError> {
    raw.parse().map_err(parse_error)
}

fn parse_error(e: serde_json::Error) -> NormalizeError {
    NormalizeError(format!("tanma record: {e}"))
}

/// Normalise one record kept as the JSON text Tanma sent (how the client reads a page:
/// no `Value` tree is built); the text becomes `CallRecord::raw` as is.
pub fn normalize_raw(source: &str, raw: RawJson) -> Result<CallRecord, NormalizeError> {
    let mut r = normalize_wire(source, &parse_raw(&raw)?)?;
    r.raw = raw;
    Ok(r)
}

/// Normalise a typed record. Its `raw` is left JSON `null`: the caller, which holds the
/// record as received, sets it ([`normalize`], [`normalize_raw`] and the client do).
pub fn normalize_wire(source: &str, w: &CallRecordWire) -> Result<CallRecord, NormalizeError> {
    if w.id.is_empty() || !w.id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(NormalizeError(format!("tanma record id `{}` is not an integer", w.id)));
    }
    let bad_time = |field: &str, v: &str| NormalizeError(format!("tanma record {}: `{field}` = `{v}`", w.id));
    let started_at = match (w.msg_time.as_deref(), w.gmt_create_time.as_deref()) {
        (Some(m), _) if !m.trim().is_empty() => parse_gmt8(m).map_err(|_| bad_time("msgTime", m))?,
        (_, Some(g)) if !g.trim().is_empty() => parse_gmt8(g).map_err(|_| bad_time("gmtCreateTime", g))?,
        _ => return Err(NormalizeError(format!("tanma record {} has neither msgTime nor gmtCreateTime", w.id))),
    };
    let mut r = CallRecord::new(source, Provider::Tanma, &w.id, started_at);
    r.account = non_empty(&w.corp_id);
    r.direction = Direction::Unknown;

    let audio_ms = w.pre_cost.filter(|ms| *ms >= 0);
    if let Some(ms) = audio_ms {
        r.talk_seconds = Some((ms + 500) / 1000);
        r.ended_at = started_at.checked_add(SignedDuration::from_millis(ms)).ok();
    }
    r.disposition = if audio_ms.is_some_and(|ms| ms > 0) { Disposition::Answered } else { Disposition::Unknown };
    r.disposition_detail = non_empty(&w.status_str).or_else(|| w.status.map(|s| s.to_string())).unwrap_or_default();

    let departments = w.department_name.as_deref().map(parse_departments).unwrap_or_default();
    let department_names: Vec<String> =
        departments.iter().filter_map(|d| d.name.as_deref()).filter(|n| !n.is_empty()).map(str::to_string).collect();
    let employee = non_empty(&w.send_name);
    let employee_id = non_empty(&w.user_id);
    let customer = non_empty(&w.receive_name);
    if employee.is_some() || employee_id.is_some() || !department_names.is_empty() {
        r.agent = Some(Agent {
            id: employee_id.clone(),
            name: employee.clone(),
            department: (!department_names.is_empty()).then(|| department_names.join(" / ")),
            ..Agent::default()
        });
    }
    r.caller = Party { number: None, user_id: employee_id.clone(), name: employee.clone() };
    r.callee = Party { number: None, user_id: None, name: customer.clone() };
    let url = non_empty(&w.url);
    r.participants = vec![
        Participant {
            role: "agent".into(),
            user_id: employee_id,
            name: employee,
            talk_seconds: r.talk_seconds,
            recording_url: url.clone(),
            ..Participant::default()
        },
        Participant { role: "customer".into(), name: customer, talk_seconds: r.talk_seconds, ..Participant::default() },
    ];
    if let Some(url) = url {
        r.recordings.push(Recording { url, expires_at: None, archived_path: None });
    }
    r.channel = w.call_type.as_deref().and_then(channel).map(str::to_string);

    let status = transcript_status(w.status);
    let sentences = match status {
        TranscriptStatus::Done => w.content.as_deref().map(|c| parse_sentences(c, audio_ms)).unwrap_or_default(),
        _ => Vec::new(),
    };
    if status == TranscriptStatus::Failed {
        r.remark = failure_reason(w.message.as_deref(), w.content.as_deref())
            .map(|reason| format!("speech-to-text failed: {reason}"));
    }
    r.transcript = Some(Transcript { status, sentences });
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rec(status: serde_json::Value, content: serde_json::Value) -> serde_json::Value {
        json!({"id": 660475461327008u64, "status": status, "content": content, "msgTime": "2025-03-21 14:22:45",
               "gmtCreateTime": "2025-03-21 14:43:03", "preCost": 21000, "callType": "电销手机"})
    }

    #[test]
    fn any_status_but_0_and_2_is_pending() {
        for s in [json!(1), json!(3), json!(-1), json!("1"), json!(null)] {
            let r = normalize("t", &rec(s.clone(), json!(null))).unwrap();
            assert_eq!(r.transcript.as_ref().unwrap().status, TranscriptStatus::Pending, "{s}");
            assert!(r.may_change());
        }
        assert!(!normalize("t", &rec(json!(2), json!("{\"Sentences\":[]}"))).unwrap().may_change());
        assert!(!normalize("t", &rec(json!(0), json!(null))).unwrap().may_change());
    }

    #[test]
    fn started_at_is_msg_time_in_gmt8() {
        let r = normalize("t", &rec(json!(2), json!(null))).unwrap();
        assert_eq!(r.started_at.to_string(), "2025-03-21T06:22:45Z");
        assert_eq!(r.ended_at.unwrap().to_string(), "2025-03-21T06:23:06Z");
        assert_eq!(r.talk_seconds, Some(21));
        assert_eq!(r.channel.as_deref(), Some("work_phone"));
    }

    #[test]
    fn unreadable_content_is_kept_as_one_sentence() {
        let s = parse_sentences("您好，请问", Some(3000));
        assert_eq!(s, vec![Sentence { begin_ms: 0, end_ms: 3000, channel: None, text: "您好，请问".into() }]);
        assert!(parse_sentences("", None).is_empty());
    }

    #[test]
    fn department_fallbacks() {
        assert_eq!(parse_departments("销售部")[0].name.as_deref(), Some("销售部"));
        assert!(parse_departments("").is_empty());
        assert_eq!(parse_departments(r#"[{"id":1,"name":"a"},{"id":"2","name":"b"}]"#).len(), 2);
    }

    #[test]
    fn failure_reason_from_status_object_or_text() {
        assert_eq!(
            failure_reason(Some(r#"{"StatusText":"FILE_DOWNLOAD_FAILED","StatusCode":41050002}"#), None).as_deref(),
            Some("FILE_DOWNLOAD_FAILED (StatusCode 41050002)")
        );
        assert_eq!(failure_reason(None, Some("音频过短")).as_deref(), Some("音频过短"));
        assert_eq!(failure_reason(None, None), None);
    }

    #[test]
    fn bad_times_and_ids_are_errors_not_panics() {
        assert!(normalize("t", &json!({"id": 1, "msgTime": "yesterday"})).is_err());
        assert!(normalize("t", &json!({"id": 1})).is_err());
        assert!(normalize("t", &json!({"id": "12ab", "msgTime": "2025-03-21 14:22:45"})).is_err());
        assert!(normalize("t", &json!({"msgTime": "2025-03-21 14:22:45"})).is_err());
        assert!(normalize("t", &json!([1, 2])).is_err());
    }
}
