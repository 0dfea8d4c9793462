//! Serde types mirroring Tanma's `POST /api/v3/app/getCallList` JSON exactly (seed 002),
//! shared by the client (deserialise) and the sandbox fake (serialise).
//!
//! Tolerance, where the vendor is loose or we cannot be sure of it:
//! * counters (`totalCount`, `totalPage`, `pageNo`, `pageSize`, `status`, `preCost`,
//!   `cost`) accept a JSON number or a numeric string, and `null` / absence;
//! * `id` and `salesId` are 15-digit integers: they are read as **strings of digits**
//!   (from a number or a string) and never pass through `f64`;
//! * every other field may be missing or `null`.
//!
//! Three fields carry **JSON inside a string** (`content`, `message`,
//! `departmentName`); they stay strings here and are parsed by [`crate::normalize`].

use serde::{Deserialize, Deserializer, Serialize};

/// The path of the call-list API.
pub const CALL_LIST_PATH: &str = "/api/v3/app/getCallList";

/// `type` for call records (the doc's request example shows `chat`, which lists
/// chat voice messages, not calls).
pub const TYPE_CALL: &str = "call";

/// `code` of a successful answer.
pub const CODE_OK: i64 = 0;

/// The request body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallListRequest {
    /// `YYYY-MM-DD HH:MM:SS`, GMT+8, inclusive (the doc's example ends at `23:59:59`).
    #[serde(rename = "startTime", default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<String>,
    /// `YYYY-MM-DD HH:MM:SS`, GMT+8, inclusive.
    #[serde(rename = "endTime", default, skip_serializing_if = "Option::is_none")]
    pub end_time: Option<String>,
    /// Required: `call` for calls.
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    /// Required: page number, from 1.
    #[serde(rename = "pageNo", default, deserialize_with = "lenient_i64")]
    pub page_no: Option<i64>,
    /// Required: records per page.
    #[serde(rename = "pageSize", default, deserialize_with = "lenient_i64")]
    pub page_size: Option<i64>,
}

/// The answer envelope: `{"code", "message", "data"}`. On an error `data` is `null`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope<D> {
    /// `0` on success, else the error code.
    #[serde(deserialize_with = "lenient_code")]
    pub code: i64,
    /// `success`, or the error message.
    #[serde(default)]
    pub message: Option<String>,
    /// The page, or `null` on an error.
    #[serde(default = "none")]
    pub data: Option<D>,
}

fn none<D>() -> Option<D> {
    None
}

/// `data` of a successful answer, generic over how records are held (typed
/// [`CallRecordWire`] for the fake, raw JSON for the client, which keeps records
/// verbatim).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallListData<R> {
    /// Records matching the query, all pages.
    #[serde(rename = "totalCount", default, deserialize_with = "lenient_u64")]
    pub total_count: Option<u64>,
    /// Number of pages at this `pageSize`.
    #[serde(rename = "totalPage", default, deserialize_with = "lenient_u64")]
    pub total_page: Option<u64>,
    /// The page served (from 1).
    #[serde(rename = "pageNo", default, deserialize_with = "lenient_u64")]
    pub page_no: Option<u64>,
    /// The page size served.
    #[serde(rename = "pageSize", default, deserialize_with = "lenient_u64")]
    pub page_size: Option<u64>,
    /// The records, newest `gmtCreateTime` first.
    pub result: Vec<R>,
    /// A summary string (the doc shows `"38秒"`: the transcribed audio on the page,
    /// seconds rounded up from the sum of `cost`).
    #[serde(default)]
    pub message: Option<String>,
}

/// One record of the call list (34 fields in the doc's example).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallRecordWire {
    /// Record id, a 15-digit integer; read as digits, written as a JSON number.
    #[serde(deserialize_with = "digits", serialize_with = "as_json_integer")]
    pub id: String,
    /// Speech-to-text task id.
    #[serde(default)]
    pub task_id: Option<String>,
    /// WeCom corp id.
    #[serde(default)]
    pub corp_id: Option<String>,
    /// `call`.
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    /// Message id of the call in the chat archive.
    #[serde(default)]
    pub msg_id: Option<String>,
    /// Always `null` in the doc.
    #[serde(default)]
    pub create_time: Option<String>,
    /// Audio length, milliseconds.
    #[serde(default, deserialize_with = "lenient_i64")]
    pub pre_cost: Option<i64>,
    /// Audio transcribed, milliseconds (0 when the transcription failed).
    #[serde(default, deserialize_with = "lenient_i64")]
    pub cost: Option<i64>,
    /// `2` 转换成功, `0` 转换失败; anything else is still pending (e.g. `1` 转换中).
    #[serde(default, deserialize_with = "lenient_i64")]
    pub status: Option<i64>,
    /// JSON **in a string**: the speech engine's status object on failure, else `null`.
    #[serde(default)]
    pub message: Option<String>,
    /// Always `null` in the doc.
    #[serde(default)]
    pub sender: Option<serde_json::Value>,
    /// Always `null` in the doc.
    #[serde(default)]
    pub sender_type: Option<serde_json::Value>,
    /// Always `null` in the doc.
    #[serde(default)]
    pub recipient: Option<serde_json::Value>,
    /// Always `null` in the doc.
    #[serde(default)]
    pub recipient_type: Option<serde_json::Value>,
    /// `web`.
    #[serde(default)]
    pub method: Option<String>,
    /// The owning account's id (15 digits), kept as digits.
    #[serde(default, deserialize_with = "opt_digits", serialize_with = "opt_as_json_integer")]
    pub sales_id: Option<String>,
    /// When this speech-to-text record was created, GMT+8 — **what the time filter
    /// applies to**.
    #[serde(default)]
    pub gmt_create_time: Option<String>,
    /// JSON **in a string**: `[{"id","level","name"}]`, the employee's departments.
    #[serde(default)]
    pub department_name: Option<String>,
    /// The employee.
    #[serde(default)]
    pub send_name: Option<String>,
    /// Avatar URL.
    #[serde(default)]
    pub send_avatar: Option<String>,
    /// Thumbnail avatar URL.
    #[serde(default)]
    pub send_thumb_avatar: Option<String>,
    /// Whether the sender is a WeChat user.
    #[serde(default)]
    pub send_is_wx: Option<serde_json::Value>,
    /// The customer (empty for unknown work-phone callers).
    #[serde(default)]
    pub receive_name: Option<String>,
    /// Avatar URL.
    #[serde(default)]
    pub receive_avatar: Option<String>,
    /// Thumbnail avatar URL.
    #[serde(default)]
    pub receive_thumb_avatar: Option<String>,
    /// Whether the receiver is a WeChat user.
    #[serde(default)]
    pub receive_is_wx: Option<serde_json::Value>,
    /// When the call happened, GMT+8 (can be weeks before `gmtCreateTime`).
    #[serde(default)]
    pub msg_time: Option<String>,
    /// The owning account's name.
    #[serde(default)]
    pub sales_name: Option<String>,
    /// `微信语音` (WeChat voice) or `电销手机` (work phone).
    #[serde(default)]
    pub call_type: Option<String>,
    /// JSON **in a string**: `{"Sentences":[…]}` when done, the status object on
    /// failure, `null` while pending.
    #[serde(default)]
    pub content: Option<String>,
    /// The recording.
    #[serde(default)]
    pub url: Option<String>,
    /// The employee's user id.
    #[serde(default)]
    pub user_id: Option<String>,
    /// The chat id.
    #[serde(default)]
    pub chat_id: Option<String>,
    /// `转换成功`, `转换失败`, `转换中`…
    #[serde(default)]
    pub status_str: Option<String>,
}

/// The decoded `content` of a finished transcription.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SentencesContent {
    /// The sentences.
    #[serde(rename = "Sentences", default)]
    pub sentences: Vec<SentenceWire>,
}

/// One sentence inside `content`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SentenceWire {
    /// End, ms from the start of the audio.
    #[serde(rename = "EndTime", default, deserialize_with = "lenient_i64")]
    pub end_time: Option<i64>,
    /// Start, ms from the start of the audio.
    #[serde(rename = "BeginTime", default, deserialize_with = "lenient_i64")]
    pub begin_time: Option<i64>,
    /// The text.
    #[serde(rename = "Text", default)]
    pub text: Option<String>,
    /// The audio channel.
    #[serde(rename = "ChannelId", default, deserialize_with = "lenient_i64")]
    pub channel_id: Option<i64>,
}

/// The speech engine's status object inside `message` / `content` of a failed record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpeechStatus {
    /// Task id.
    #[serde(rename = "TaskId", default)]
    pub task_id: Option<String>,
    /// E.g. `SUCCESS_WITH_NO_VALID_FRAGMENT`.
    #[serde(rename = "StatusText", default)]
    pub status_text: Option<String>,
    /// Unix ms.
    #[serde(rename = "RequestTime", default, deserialize_with = "lenient_i64")]
    pub request_time: Option<i64>,
    /// Unix ms.
    #[serde(rename = "SolveTime", default, deserialize_with = "lenient_i64")]
    pub solve_time: Option<i64>,
    /// E.g. `21050003`.
    #[serde(rename = "StatusCode", default, deserialize_with = "lenient_i64")]
    pub status_code: Option<i64>,
}

/// One department inside `departmentName`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DepartmentWire {
    /// Department id.
    #[serde(default, deserialize_with = "opt_digits", serialize_with = "opt_as_json_integer")]
    pub id: Option<String>,
    /// The path of ids, dot separated (`0.93186.105610.`).
    #[serde(default)]
    pub level: Option<String>,
    /// The department's name.
    #[serde(default)]
    pub name: Option<String>,
}

// ---- lenient scalar readers ------------------------------------------------------------

#[derive(Deserialize)]
#[serde(untagged)]
enum NumOrText {
    U(u64),
    I(i64),
    F(f64),
    S(String),
}

fn lenient_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    use serde::de::Error;
    match Option::<NumOrText>::deserialize(d)? {
        None => Ok(None),
        Some(NumOrText::U(u)) => i64::try_from(u).map(Some).map_err(D::Error::custom),
        Some(NumOrText::I(i)) => Ok(Some(i)),
        Some(NumOrText::F(f)) if f.fract() == 0.0 && f.abs() < 9.0e15 => Ok(Some(f as i64)),
        Some(NumOrText::F(f)) => Err(D::Error::custom(format!("expected an integer, got {f}"))),
        Some(NumOrText::S(s)) if s.trim().is_empty() => Ok(None),
        Some(NumOrText::S(s)) => {
            s.trim().parse().map(Some).map_err(|_| D::Error::custom(format!("expected an integer, got `{s}`")))
        }
    }
}

fn lenient_u64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    use serde::de::Error;
    match lenient_i64(d)? {
        None => Ok(None),
        Some(i) => u64::try_from(i).map(Some).map_err(|_| D::Error::custom(format!("expected a count, got {i}"))),
    }
}

fn lenient_code<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    use serde::de::Error;
    lenient_i64(d)?.ok_or_else(|| D::Error::custom("`code` is null"))
}

/// Digits of an integer id, read from a JSON number or string without going through
/// `f64` (a float here means the sender already lost precision: refused).
fn opt_digits<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    use serde::de::Error;
    match Option::<NumOrText>::deserialize(d)? {
        None => Ok(None),
        Some(NumOrText::U(u)) => Ok(Some(u.to_string())),
        Some(NumOrText::I(i)) => Ok(Some(i.to_string())),
        Some(NumOrText::F(f)) => Err(D::Error::custom(format!("an id must be an exact integer, got {f}"))),
        Some(NumOrText::S(s)) if s.trim().is_empty() => Ok(None),
        Some(NumOrText::S(s)) => Ok(Some(s.trim().to_string())),
    }
}

/// The record id's digits, read through its JSON text: an integer too long for 64 bits
/// keeps its exact digits (as a JSON number it would otherwise be read as a rounded
/// `f64`, and refused); anything else is read as [`opt_digits`] reads it.
fn digits<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    use serde::de::Error;
    let text = Box::<serde_json::value::RawValue>::deserialize(d)?;
    let text = text.get().trim();
    if is_long_integer(text) {
        return Ok(text.to_string());
    }
    let mut de = serde_json::Deserializer::from_str(text);
    opt_digits(&mut de).map_err(D::Error::custom)?.ok_or_else(|| D::Error::custom("`id` is missing or null"))
}

/// Whether `text` is a JSON integer that fits neither `i64` nor `u64`.
fn is_long_integer(text: &str) -> bool {
    let digits = text.strip_prefix('-').unwrap_or(text);
    !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && text.parse::<i64>().is_err()
        && text.parse::<u64>().is_err()
}

/// Write a string of digits as a bare JSON integer (as Tanma does), or as a string if
/// it is not one.
fn as_json_integer<S: serde::Serializer>(v: &str, s: S) -> Result<S::Ok, S::Error> {
    match v.parse::<u64>() {
        Ok(n) => s.serialize_u64(n),
        Err(_) => s.serialize_str(v),
    }
}

fn opt_as_json_integer<S: serde::Serializer>(v: &Option<String>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(v) => as_json_integer(v, s),
        None => s.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_accept_numbers_strings_and_null() {
        let d: CallListData<serde_json::Value> =
            serde_json::from_str(r#"{"totalCount":"8","totalPage":1,"pageNo":null,"result":[]}"#).unwrap();
        assert_eq!((d.total_count, d.total_page, d.page_no, d.page_size), (Some(8), Some(1), None, None));
        let bad = serde_json::from_str::<CallListData<serde_json::Value>>(r#"{"totalCount":"many","result":[]}"#);
        assert!(bad.is_err());
    }

    #[test]
    fn ids_are_digits_never_floats() {
        let r: CallRecordWire = serde_json::from_str(r#"{"id":9007199254740993,"salesId":"445499900074176"}"#).unwrap();
        assert_eq!(r.id, "9007199254740993");
        assert_eq!(r.sales_id.as_deref(), Some("445499900074176"));
        let back = serde_json::to_string(&r).unwrap();
        assert!(back.starts_with(r#"{"id":9007199254740993,"#), "{back}");
        assert!(serde_json::from_str::<CallRecordWire>(r#"{"id":6.6e14}"#).is_err());
        assert!(serde_json::from_str::<CallRecordWire>(r#"{"id":null}"#).is_err());
    }

    #[test]
    fn error_envelope_has_null_data() {
        let e: Envelope<CallListData<serde_json::Value>> =
            serde_json::from_str(r#"{"code":10004,"message":"签名校验失败","data":null}"#).unwrap();
        assert_eq!(e.code, 10004);
        assert!(e.data.is_none());
    }
}
