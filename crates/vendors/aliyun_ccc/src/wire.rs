//! The JSON of `ListCallDetailRecords` (RPC, version 2020-07-01), field for field.
//!
//! Tolerant where the vendor is inconsistent: the doc's example writes every number and
//! boolean as a string (`"TotalCount": "11"`, `"RecordingReady": "true"`), the SDK model
//! uses real numbers; both parse. Field names drift between the doc page and the SDK
//! model (`Satisfaction` / `SatisfactionIndex`, `TalkTime` only in the SDK): both are
//! here. Shared by the client (deserialise) and the fake (serialise; see
//! [`stringify_scalars`] for the doc's all-strings form).

use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize};

/// The API's action name.
pub const ACTION: &str = "ListCallDetailRecords";
/// The API's version.
pub const VERSION: &str = "2020-07-01";
/// `PageNumber` and `PageSize` both range over 1..=100.
pub const MAX_PAGE_NUMBER: u32 = 100;
/// The largest `PageSize`.
pub const MAX_PAGE_SIZE: u32 = 100;

/// A successful answer: `{"RequestId","Code":"OK","HttpStatusCode":200,"Message","Data":{…}}`.
/// `R` is how a record is held: the client reads each one as its JSON text
/// ([`huadan_model::RawJson`], no `Value` tree); [`serde_json::Value`] is the default.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", bound(deserialize = "R: Deserialize<'de>", serialize = "R: Serialize"))]
pub struct ListResponse<R = serde_json::Value> {
    /// Request id.
    #[serde(default, deserialize_with = "de_opt_string", skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// `OK` on success.
    #[serde(default, deserialize_with = "de_opt_string", skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// HTTP status echoed in the body (a string in the doc's example).
    #[serde(default, deserialize_with = "de_opt_i64", skip_serializing_if = "Option::is_none")]
    pub http_status_code: Option<i64>,
    /// Message (`无` in the doc's example).
    #[serde(default, deserialize_with = "de_opt_string", skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<ListData<R>>,
}

/// `Data`: one page of records, each held as `R` (see [`ListResponse`]).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", bound(deserialize = "R: Deserialize<'de>", serialize = "R: Serialize"))]
pub struct ListData<R = serde_json::Value> {
    /// The window's total — **only on page 1**; later pages say 0.
    #[serde(default, deserialize_with = "de_opt_i64", skip_serializing_if = "Option::is_none")]
    pub total_count: Option<i64>,
    /// The page number echoed.
    #[serde(default, deserialize_with = "de_opt_i64", skip_serializing_if = "Option::is_none")]
    pub page_number: Option<i64>,
    /// The page size echoed.
    #[serde(default, deserialize_with = "de_opt_i64", skip_serializing_if = "Option::is_none")]
    pub page_size: Option<i64>,
    /// The records, kept as raw JSON so that `raw` is exactly what the vendor sent;
    /// each is read through [`CallDetailRecord`]. `null` reads as empty.
    #[serde(default, deserialize_with = "de_null_vec")]
    pub list: Vec<R>,
}

/// One `CallDetailRecord`: the doc page's fields plus the SDK model's.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CallDetailRecord {
    /// The call id (`job-…`): the record id.
    #[serde(default, deserialize_with = "de_opt_string", skip_serializing_if = "Option::is_none")]
    pub contact_id: Option<String>,
    /// Contact-centre instance.
    #[serde(default, deserialize_with = "de_opt_string", skip_serializing_if = "Option::is_none")]
    pub instance_id: Option<String>,
    /// `Inbound` / `Outbound` / `Back2Back` (the doc's text also says `INBOUND` / `OUTBOND`).
    #[serde(default, deserialize_with = "de_opt_string", skip_serializing_if = "Option::is_none")]
    pub contact_type: Option<String>,
    /// `Success`, `NoAnswer`, `AbandonedInContactFlow`, `AbandonedInQueue`, `AbandonedRing`, `Reject`.
    #[serde(default, deserialize_with = "de_opt_string", skip_serializing_if = "Option::is_none")]
    pub contact_disposition: Option<String>,
    /// Caller number.
    #[serde(default, deserialize_with = "de_opt_string", skip_serializing_if = "Option::is_none")]
    pub calling_number: Option<String>,
    /// Callee number.
    #[serde(default, deserialize_with = "de_opt_string", skip_serializing_if = "Option::is_none")]
    pub called_number: Option<String>,
    /// Comma-separated agent ids.
    #[serde(default, deserialize_with = "de_opt_string", skip_serializing_if = "Option::is_none")]
    pub agent_ids: Option<String>,
    /// Comma-separated agent names.
    #[serde(default, deserialize_with = "de_opt_string", skip_serializing_if = "Option::is_none")]
    pub agent_names: Option<String>,
    /// Comma-separated skill-group ids.
    #[serde(default, deserialize_with = "de_opt_string", skip_serializing_if = "Option::is_none")]
    pub skill_group_ids: Option<String>,
    /// Comma-separated skill-group names.
    #[serde(default, deserialize_with = "de_opt_string", skip_serializing_if = "Option::is_none")]
    pub skill_group_names: Option<String>,
    /// Start, unix milliseconds (inbound: entering the IVR; outbound: dialling).
    #[serde(default, deserialize_with = "de_opt_i64", skip_serializing_if = "Option::is_none")]
    pub start_time: Option<i64>,
    /// Connected, unix milliseconds; absent when the call never connected.
    #[serde(default, deserialize_with = "de_opt_i64", skip_serializing_if = "Option::is_none")]
    pub established_time: Option<i64>,
    /// End, unix milliseconds.
    #[serde(default, deserialize_with = "de_opt_i64", skip_serializing_if = "Option::is_none")]
    pub release_time: Option<i64>,
    /// Seconds; for inbound calls counted from IVR entry (so not talk time).
    #[serde(default, deserialize_with = "de_opt_i64", skip_serializing_if = "Option::is_none")]
    pub call_duration: Option<i64>,
    /// Seconds talking (SDK model only).
    #[serde(default, deserialize_with = "de_opt_i64", skip_serializing_if = "Option::is_none")]
    pub talk_time: Option<i64>,
    /// Seconds ringing (SDK model only).
    #[serde(default, deserialize_with = "de_opt_i64", skip_serializing_if = "Option::is_none")]
    pub ring_time: Option<i64>,
    /// Seconds in the IVR (SDK model only).
    #[serde(default, deserialize_with = "de_opt_i64", skip_serializing_if = "Option::is_none")]
    pub ivr_time: Option<i64>,
    /// Seconds queued (SDK model only).
    #[serde(default, deserialize_with = "de_opt_i64", skip_serializing_if = "Option::is_none")]
    pub queue_time: Option<i64>,
    /// Seconds waiting (SDK model only).
    #[serde(default, deserialize_with = "de_opt_i64", skip_serializing_if = "Option::is_none")]
    pub wait_time: Option<i64>,
    /// Seconds on hold (SDK model only).
    #[serde(default, deserialize_with = "de_opt_i64", skip_serializing_if = "Option::is_none")]
    pub held_time: Option<i64>,
    /// Seconds recorded (SDK model only).
    #[serde(default, deserialize_with = "de_opt_i64", skip_serializing_if = "Option::is_none")]
    pub recording_duration: Option<i64>,
    /// Whether the recording exists yet.
    #[serde(default, deserialize_with = "de_opt_bool", skip_serializing_if = "Option::is_none")]
    pub recording_ready: Option<bool>,
    /// `agent` / `customer` (hang-up side).
    #[serde(default, deserialize_with = "de_opt_string", skip_serializing_if = "Option::is_none")]
    pub release_initiator: Option<String>,
    /// Why the call ended (SDK model only).
    #[serde(default, deserialize_with = "de_opt_string", skip_serializing_if = "Option::is_none")]
    pub release_reason: Option<String>,
    /// Satisfaction, as the doc page spells it.
    #[serde(default, deserialize_with = "de_opt_string", skip_serializing_if = "Option::is_none")]
    pub satisfaction: Option<String>,
    /// Satisfaction, as the SDK model spells it.
    #[serde(default, deserialize_with = "de_opt_string", skip_serializing_if = "Option::is_none")]
    pub satisfaction_index: Option<String>,
    /// Satisfaction in words (SDK model only).
    #[serde(default, deserialize_with = "de_opt_string", skip_serializing_if = "Option::is_none")]
    pub satisfaction_description: Option<String>,
    /// `IVR` / `SMS`.
    #[serde(default, deserialize_with = "de_opt_string", skip_serializing_if = "Option::is_none")]
    pub satisfaction_survey_channel: Option<String>,
    /// Whether a survey was offered.
    #[serde(default, deserialize_with = "de_opt_bool", skip_serializing_if = "Option::is_none")]
    pub satisfaction_survey_offered: Option<bool>,
    /// Caller's location (SDK model only).
    #[serde(default, deserialize_with = "de_opt_string", skip_serializing_if = "Option::is_none")]
    pub caller_location: Option<String>,
    /// Callee's location (SDK model only).
    #[serde(default, deserialize_with = "de_opt_string", skip_serializing_if = "Option::is_none")]
    pub callee_location: Option<String>,
}

/// An error answer: HTTP 4xx/5xx with `{"RequestId","Code","Message"}` (plus `HostId`,
/// `Recommend` on the real service).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ErrorBody {
    /// Request id.
    #[serde(default, deserialize_with = "de_opt_string", skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// The error code (`SignatureDoesNotMatch`, `Throttling.User`…).
    #[serde(default, deserialize_with = "de_opt_string", skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// The message.
    #[serde(default, deserialize_with = "de_opt_string", skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The host that answered.
    #[serde(default, deserialize_with = "de_opt_string", skip_serializing_if = "Option::is_none")]
    pub host_id: Option<String>,
    /// A link to the diagnosis page.
    #[serde(default, deserialize_with = "de_opt_string", skip_serializing_if = "Option::is_none")]
    pub recommend: Option<String>,
}

/// Rewrite every number and boolean in `v` as a string, as the doc's JSON example does
/// (`200` → `"200"`, `true` → `"true"`). Used by the fake's `string_numbers` switch.
pub fn stringify_scalars(v: &mut serde_json::Value) {
    use serde_json::Value;
    match v {
        Value::Number(n) => *v = Value::String(n.to_string()),
        Value::Bool(b) => *v = Value::String(b.to_string()),
        Value::Array(items) => items.iter_mut().for_each(stringify_scalars),
        Value::Object(map) => map.values_mut().for_each(stringify_scalars),
        Value::Null | Value::String(_) => {}
    }
}

/// A string, or a number/boolean taken as its text; `null` → `None`.
fn de_opt_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    use serde_json::Value;
    match Option::<Value>::deserialize(d)? {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(Value::Bool(b)) => Ok(Some(b.to_string())),
        Some(other) => Err(de::Error::custom(format!("expected a string, got {other}"))),
    }
}

/// An integer, or a string holding one (`"11"`); `null` and `""` → `None`.
fn de_opt_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    use serde_json::Value;
    match Option::<Value>::deserialize(d)? {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_i64()
            .or_else(|| n.as_f64().filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15).map(|f| f as i64))
            .map(Some)
            .ok_or_else(|| de::Error::custom(format!("expected an integer, got {n}"))),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => s
            .trim()
            .parse::<i64>()
            .map(Some)
            .map_err(|_| de::Error::custom(format!("expected an integer, got \"{s}\""))),
        Some(other) => Err(de::Error::custom(format!("expected an integer, got {other}"))),
    }
}

/// A boolean, or `"true"` / `"false"` (any case); `null` and `""` → `None`.
fn de_opt_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    use serde_json::Value;
    match Option::<Value>::deserialize(d)? {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(b)),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => Ok(Some(true)),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => Ok(Some(false)),
        Some(other) => Err(de::Error::custom(format!("expected a boolean, got {other}"))),
    }
}

/// A list, with `null` read as empty.
fn de_null_vec<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Vec<T>, D::Error> {
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn numbers_and_booleans_parse_as_strings_or_natively() {
        let a: CallDetailRecord = serde_json::from_value(
            json!({"StartTime": "1532448000000", "RecordingReady": "true", "CallDuration": "30"}),
        )
        .unwrap();
        let b: CallDetailRecord =
            serde_json::from_value(json!({"StartTime": 1532448000000i64, "RecordingReady": true, "CallDuration": 30}))
                .unwrap();
        assert_eq!(a, b);
        assert_eq!(a.start_time, Some(1532448000000));
        assert_eq!(a.recording_ready, Some(true));
        let d: ListData = serde_json::from_value(json!({"TotalCount": "0", "List": null})).unwrap();
        assert_eq!(d.total_count, Some(0));
        assert!(d.list.is_empty());
    }

    #[test]
    fn wrong_types_are_errors_not_defaults() {
        assert!(serde_json::from_value::<CallDetailRecord>(json!({"StartTime": "yesterday"})).is_err());
        assert!(serde_json::from_value::<CallDetailRecord>(json!({"RecordingReady": "maybe"})).is_err());
        assert!(serde_json::from_value::<CallDetailRecord>(json!({"ContactId": {"a": 1}})).is_err());
        assert!(serde_json::from_value::<ListData>(json!({"List": {"a": 1}})).is_err());
    }

    #[test]
    fn stringify_turns_every_scalar_into_text() {
        let mut v = json!({"A": 1, "B": [true, null, "x"], "C": {"D": 2.5}});
        stringify_scalars(&mut v);
        assert_eq!(v, json!({"A": "1", "B": ["true", null, "x"], "C": {"D": "2.5"}}));
    }
}
