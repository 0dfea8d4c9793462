//! The wire format of `DescribeTelCdr` (API 3.0, version 2020-02-10), shared by the
//! client (deserialise) and the sandbox fake (serialise).
//!
//! Field names are Tencent's, verbatim. Deserialisation is tolerant: every field is
//! optional, integers may arrive as JSON strings, `null` means absent. Timestamps of `0`
//! (as in the seed's `ServeParticipants` example) mean "did not happen" and are read as
//! absent by the normaliser, not here.

use serde::{Deserialize, Deserializer, Serialize};

/// The action name (`X-TC-Action`).
pub const ACTION: &str = "DescribeTelCdr";
/// The API version (`X-TC-Version`).
pub const VERSION: &str = "2020-02-10";
/// The service name in the credential scope and the default host.
pub const SERVICE: &str = "ccc";
/// The largest `PageSize` the API accepts.
pub const MAX_PAGE_SIZE: u32 = 100;

/// The request body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct DescribeTelCdrRequest {
    /// Application id (required).
    #[serde(rename = "SdkAppId", default, skip_serializing_if = "Option::is_none")]
    pub sdk_app_id: Option<i64>,
    /// Start, unix seconds.
    #[serde(rename = "StartTimeStamp", default, skip_serializing_if = "Option::is_none")]
    pub start_time_stamp: Option<i64>,
    /// End, unix seconds.
    #[serde(rename = "EndTimeStamp", default, skip_serializing_if = "Option::is_none")]
    pub end_time_stamp: Option<i64>,
    /// Page size, ≤ 100 (required).
    #[serde(rename = "PageSize", default, skip_serializing_if = "Option::is_none")]
    pub page_size: Option<i64>,
    /// Page number, **from 0** (required).
    #[serde(rename = "PageNumber", default, skip_serializing_if = "Option::is_none")]
    pub page_number: Option<i64>,
    /// Deprecated; ignored by the API.
    #[serde(rename = "Limit", default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
    /// Deprecated; ignored by the API.
    #[serde(rename = "Offset", default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<i64>,
    /// Filter by phone numbers.
    #[serde(rename = "Phones", default, skip_serializing_if = "Option::is_none")]
    pub phones: Option<Vec<String>>,
    /// Filter by session ids.
    #[serde(rename = "SessionIds", default, skip_serializing_if = "Option::is_none")]
    pub session_ids: Option<Vec<String>>,
}

/// The envelope of every API 3.0 answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Envelope<T> {
    /// Everything lives under `Response`.
    #[serde(rename = "Response")]
    pub response: T,
}

/// `Response` of a `DescribeTelCdr` answer: either the data or an `Error`. Records are
/// kept as raw JSON so that `CallRecord::raw` holds exactly what the vendor sent.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ListResponse {
    /// Set when the request failed.
    #[serde(rename = "Error", default)]
    pub error: Option<ApiError>,
    /// Number of records in the whole range.
    #[serde(rename = "TotalCount", default, deserialize_with = "lenient_i64")]
    pub total_count: Option<i64>,
    /// This page's records.
    #[serde(rename = "TelCdrList", default)]
    pub tel_cdr_list: Option<Vec<huadan_model::RawJson>>,
    /// The request id.
    #[serde(rename = "RequestId", default)]
    pub request_id: Option<String>,
}

/// A successful answer as the fake writes it.
#[derive(Debug, Clone, Serialize)]
pub struct ListResponseOut<'a> {
    /// Number of records in the whole range.
    #[serde(rename = "TotalCount")]
    pub total_count: u64,
    /// This page's records.
    #[serde(rename = "TelCdrList")]
    pub tel_cdr_list: &'a [TelCdrInfo],
    /// The request id.
    #[serde(rename = "RequestId")]
    pub request_id: &'a str,
}

/// An error answer's `Response`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ErrorResponse {
    /// The error.
    #[serde(rename = "Error")]
    pub error: ApiError,
    /// The request id.
    #[serde(rename = "RequestId")]
    pub request_id: String,
}

/// `{"Code": "...", "Message": "..."}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiError {
    /// `AuthFailure.SignatureFailure`, `RequestLimitExceeded`, …
    #[serde(rename = "Code", default)]
    pub code: String,
    /// Human text.
    #[serde(rename = "Message", default)]
    pub message: String,
}

/// An IVR key press with its label.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct IvrKeyPressed {
    /// The key.
    #[serde(rename = "Key", default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// What the key meant in the menu.
    #[serde(rename = "Label", default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

/// The seat (agent) who served the call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct SeatUser {
    /// Name.
    #[serde(rename = "Name", default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// E-mail (CCC seats log in with it).
    #[serde(rename = "Mail", default, skip_serializing_if = "Option::is_none")]
    pub mail: Option<String>,
    /// Staff number.
    #[serde(rename = "StaffNumber", default, skip_serializing_if = "Option::is_none")]
    pub staff_number: Option<String>,
    /// Phone, with the `0086` prefix.
    #[serde(rename = "Phone", default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// Nickname.
    #[serde(rename = "Nick", default, skip_serializing_if = "Option::is_none")]
    pub nick: Option<String>,
    /// User id.
    #[serde(rename = "UserId", default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// The seat's skill groups.
    #[serde(rename = "SkillGroupNameList", default, skip_serializing_if = "Option::is_none")]
    pub skill_group_name_list: Option<Vec<String>>,
}

/// One serving leg (a seat that rang, answered, transferred).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct ServeParticipant {
    /// Seat e-mail.
    #[serde(rename = "Mail", default, skip_serializing_if = "Option::is_none")]
    pub mail: Option<String>,
    /// Seat phone.
    #[serde(rename = "Phone", default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// Ring, unix seconds (0 = never).
    #[serde(
        rename = "RingTimestamp",
        default,
        deserialize_with = "lenient_i64",
        skip_serializing_if = "Option::is_none"
    )]
    pub ring_timestamp: Option<i64>,
    /// Answer, unix seconds (0 = never).
    #[serde(
        rename = "AcceptTimestamp",
        default,
        deserialize_with = "lenient_i64",
        skip_serializing_if = "Option::is_none"
    )]
    pub accept_timestamp: Option<i64>,
    /// End, unix seconds.
    #[serde(
        rename = "EndedTimestamp",
        default,
        deserialize_with = "lenient_i64",
        skip_serializing_if = "Option::is_none"
    )]
    pub ended_timestamp: Option<i64>,
    /// Recording id of this leg.
    #[serde(rename = "RecordId", default, skip_serializing_if = "Option::is_none")]
    pub record_id: Option<String>,
    /// `staffSeat`, `outboundSeat`, `staffPhoneSeat`.
    #[serde(rename = "Type", default, skip_serializing_if = "Option::is_none")]
    pub r#type: Option<String>,
    /// Transferred from (seat).
    #[serde(rename = "TransferFrom", default, skip_serializing_if = "Option::is_none")]
    pub transfer_from: Option<String>,
    /// Type of the transferring party.
    #[serde(rename = "TransferFromType", default, skip_serializing_if = "Option::is_none")]
    pub transfer_from_type: Option<String>,
    /// Transferred to (seat).
    #[serde(rename = "TransferTo", default, skip_serializing_if = "Option::is_none")]
    pub transfer_to: Option<String>,
    /// Type of the party transferred to.
    #[serde(rename = "TransferToType", default, skip_serializing_if = "Option::is_none")]
    pub transfer_to_type: Option<String>,
    /// Skill group id.
    #[serde(
        rename = "SkillGroupId",
        default,
        deserialize_with = "lenient_i64",
        skip_serializing_if = "Option::is_none"
    )]
    pub skill_group_id: Option<i64>,
    /// This leg's end status.
    #[serde(rename = "EndStatusString", default, skip_serializing_if = "Option::is_none")]
    pub end_status_string: Option<String>,
    /// This leg's recording.
    #[serde(rename = "RecordURL", default, skip_serializing_if = "Option::is_none")]
    pub record_url: Option<String>,
    /// Order of the leg, from 0.
    #[serde(rename = "Sequence", default, deserialize_with = "lenient_i64", skip_serializing_if = "Option::is_none")]
    pub sequence: Option<i64>,
    /// Start, unix seconds.
    #[serde(
        rename = "StartTimestamp",
        default,
        deserialize_with = "lenient_i64",
        skip_serializing_if = "Option::is_none"
    )]
    pub start_timestamp: Option<i64>,
    /// Skill group name.
    #[serde(rename = "SkillGroupName", default, skip_serializing_if = "Option::is_none")]
    pub skill_group_name: Option<String>,
    /// Recording copied to the customer's own COS bucket.
    #[serde(rename = "CustomRecordURL", default, skip_serializing_if = "Option::is_none")]
    pub custom_record_url: Option<String>,
}

/// One call record (`TelCdrInfo`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct TelCdrInfo {
    /// Caller number (empty when number protection is on).
    #[serde(rename = "Caller", default, skip_serializing_if = "Option::is_none")]
    pub caller: Option<String>,
    /// Callee number (empty when number protection is on).
    #[serde(rename = "Callee", default, skip_serializing_if = "Option::is_none")]
    pub callee: Option<String>,
    /// When the call was placed, unix seconds.
    #[serde(rename = "Time", default, deserialize_with = "lenient_i64", skip_serializing_if = "Option::is_none")]
    pub time: Option<i64>,
    /// 0 inbound, 1 outbound.
    #[serde(rename = "Direction", default, deserialize_with = "lenient_i64", skip_serializing_if = "Option::is_none")]
    pub direction: Option<i64>,
    /// 1 outbound, 2 inbound, 3 audio (VoIP) inbound, 5 predictive outbound, 6 internal.
    #[serde(rename = "CallType", default, deserialize_with = "lenient_i64", skip_serializing_if = "Option::is_none")]
    pub call_type: Option<i64>,
    /// Talk seconds.
    #[serde(rename = "Duration", default, deserialize_with = "lenient_i64", skip_serializing_if = "Option::is_none")]
    pub duration: Option<i64>,
    /// Recording.
    #[serde(rename = "RecordURL", default, skip_serializing_if = "Option::is_none")]
    pub record_url: Option<String>,
    /// Recording id.
    #[serde(rename = "RecordId", default, skip_serializing_if = "Option::is_none")]
    pub record_id: Option<String>,
    /// The seat who served the call.
    #[serde(rename = "SeatUser", default, skip_serializing_if = "Option::is_none")]
    pub seat_user: Option<SeatUser>,
    /// End status code (see `normalize::END_STATUS`).
    #[serde(rename = "EndStatus", default, deserialize_with = "lenient_i64", skip_serializing_if = "Option::is_none")]
    pub end_status: Option<i64>,
    /// Skill group name.
    #[serde(rename = "SkillGroup", default, skip_serializing_if = "Option::is_none")]
    pub skill_group: Option<String>,
    /// Caller's location.
    #[serde(rename = "CallerLocation", default, skip_serializing_if = "Option::is_none")]
    pub caller_location: Option<String>,
    /// Seconds in IVR.
    #[serde(
        rename = "IVRDuration",
        default,
        deserialize_with = "lenient_i64",
        skip_serializing_if = "Option::is_none"
    )]
    pub ivr_duration: Option<i64>,
    /// Ring, unix seconds.
    #[serde(
        rename = "RingTimestamp",
        default,
        deserialize_with = "lenient_i64",
        skip_serializing_if = "Option::is_none"
    )]
    pub ring_timestamp: Option<i64>,
    /// Answer, unix seconds.
    #[serde(
        rename = "AcceptTimestamp",
        default,
        deserialize_with = "lenient_i64",
        skip_serializing_if = "Option::is_none"
    )]
    pub accept_timestamp: Option<i64>,
    /// End, unix seconds.
    #[serde(
        rename = "EndedTimestamp",
        default,
        deserialize_with = "lenient_i64",
        skip_serializing_if = "Option::is_none"
    )]
    pub ended_timestamp: Option<i64>,
    /// IVR keys pressed.
    #[serde(rename = "IVRKeyPressed", default, skip_serializing_if = "Option::is_none")]
    pub ivr_key_pressed: Option<Vec<String>>,
    /// IVR keys pressed, with labels.
    #[serde(rename = "IVRKeyPressedEx", default, skip_serializing_if = "Option::is_none")]
    pub ivr_key_pressed_ex: Option<Vec<IvrKeyPressed>>,
    /// `seat`, `user` or `system`.
    #[serde(rename = "HungUpSide", default, skip_serializing_if = "Option::is_none")]
    pub hung_up_side: Option<String>,
    /// Serving legs.
    #[serde(rename = "ServeParticipants", default, skip_serializing_if = "Option::is_none")]
    pub serve_participants: Option<Vec<ServeParticipant>>,
    /// Skill group id.
    #[serde(
        rename = "SkillGroupId",
        default,
        deserialize_with = "lenient_i64",
        skip_serializing_if = "Option::is_none"
    )]
    pub skill_group_id: Option<i64>,
    /// End status text (`ok`, `ringingGiveUp`, …).
    #[serde(rename = "EndStatusString", default, skip_serializing_if = "Option::is_none")]
    pub end_status_string: Option<String>,
    /// Session start, unix seconds.
    #[serde(
        rename = "StartTimestamp",
        default,
        deserialize_with = "lenient_i64",
        skip_serializing_if = "Option::is_none"
    )]
    pub start_timestamp: Option<i64>,
    /// Entered the queue, unix seconds.
    #[serde(
        rename = "QueuedTimestamp",
        default,
        deserialize_with = "lenient_i64",
        skip_serializing_if = "Option::is_none"
    )]
    pub queued_timestamp: Option<i64>,
    /// Post-call (satisfaction) IVR keys.
    #[serde(rename = "PostIVRKeyPressed", default, skip_serializing_if = "Option::is_none")]
    pub post_ivr_key_pressed: Option<Vec<IvrKeyPressed>>,
    /// Satisfaction keys (`noInput` when none was pressed).
    #[serde(rename = "PostIVRKeyPressedEx", default, skip_serializing_if = "Option::is_none")]
    pub post_ivr_key_pressed_ex: Option<Vec<IvrKeyPressed>>,
    /// Queue skill group id.
    #[serde(
        rename = "QueuedSkillGroupId",
        default,
        deserialize_with = "lenient_i64",
        skip_serializing_if = "Option::is_none"
    )]
    pub queued_skill_group_id: Option<i64>,
    /// The record id.
    #[serde(rename = "SessionId", default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    /// Number-protection id of the caller (then `Caller` is empty).
    #[serde(rename = "ProtectedCaller", default, skip_serializing_if = "Option::is_none")]
    pub protected_caller: Option<String>,
    /// Number-protection id of the callee (then `Callee` is empty).
    #[serde(rename = "ProtectedCallee", default, skip_serializing_if = "Option::is_none")]
    pub protected_callee: Option<String>,
    /// Customer data (User-to-User Interface).
    #[serde(rename = "UUI", default, skip_serializing_if = "Option::is_none")]
    pub uui: Option<String>,
    /// Where the ASR text is, once `AsrStatus` is `Complete`.
    #[serde(rename = "AsrUrl", default, skip_serializing_if = "Option::is_none")]
    pub asr_url: Option<String>,
    /// `Complete`, `Processing` or `NotExists`.
    #[serde(rename = "AsrStatus", default, skip_serializing_if = "Option::is_none")]
    pub asr_status: Option<String>,
    /// Recording copied to the customer's own COS bucket.
    #[serde(rename = "CustomRecordURL", default, skip_serializing_if = "Option::is_none")]
    pub custom_record_url: Option<String>,
    /// Remark.
    #[serde(rename = "Remark", default, skip_serializing_if = "Option::is_none")]
    pub remark: Option<String>,
    /// Queue skill group name.
    #[serde(rename = "QueuedSkillGroupName", default, skip_serializing_if = "Option::is_none")]
    pub queued_skill_group_name: Option<String>,
    /// Voicemail recordings left during the call.
    #[serde(rename = "VoicemailRecordURL", default, skip_serializing_if = "Option::is_none")]
    pub voicemail_record_url: Option<Vec<String>>,
}

/// Read an optional integer that may arrive as a number, a numeric string, an empty
/// string or `null`. A float with no fractional part is accepted too.
pub fn lenient_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    use serde::de::Error;
    let v = Option::<serde_json::Value>::deserialize(d)?;
    match v {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::Number(n)) => {
            if let Some(i) = n.as_i64() {
                Ok(Some(i))
            } else if let Some(f) = n.as_f64().filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15) {
                Ok(Some(f as i64))
            } else {
                Err(D::Error::custom(format!("expected an integer, got {n}")))
            }
        }
        Some(serde_json::Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(serde_json::Value::String(s)) => {
            s.trim().parse::<i64>().map(Some).map_err(|_| D::Error::custom(format!("expected an integer, got \"{s}\"")))
        }
        Some(other) => Err(D::Error::custom(format!("expected an integer, got {other}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_as_numbers_strings_or_null() {
        let r: TelCdrInfo =
            serde_json::from_str(r#"{"Duration":"60","Time":1590547606,"EndStatus":null,"IVRDuration":""}"#).unwrap();
        assert_eq!(r.duration, Some(60));
        assert_eq!(r.time, Some(1590547606));
        assert_eq!(r.end_status, None);
        assert_eq!(r.ivr_duration, None);
        assert!(serde_json::from_str::<TelCdrInfo>(r#"{"Duration":"sixty"}"#).is_err());
        assert!(serde_json::from_str::<TelCdrInfo>(r#"{"Duration":[1]}"#).is_err());
    }

    #[test]
    fn request_serialises_only_what_is_set() {
        let req = DescribeTelCdrRequest {
            sdk_app_id: Some(1400000000),
            start_time_stamp: Some(1),
            end_time_stamp: Some(2),
            page_size: Some(100),
            page_number: Some(0),
            ..Default::default()
        };
        assert_eq!(
            serde_json::to_string(&req).unwrap(),
            r#"{"SdkAppId":1400000000,"StartTimeStamp":1,"EndTimeStamp":2,"PageSize":100,"PageNumber":0}"#
        );
    }
}
