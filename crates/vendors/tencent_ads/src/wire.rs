//! Wire types of `GET /v3.0/leads_call_records/get`, mirroring the vendor's JSON
//! exactly (seed 003). Shared by the client (deserialise) and the fake (serialise).
//!
//! Reading is tolerant where vendors are sloppy: numbers may come as strings, any
//! optional field may be missing or `null`, and empty strings mean "not given".

use serde::{Deserialize, Deserializer, Serialize};

/// The list API's path, below the endpoint.
pub const LIST_PATH: &str = "/v3.0/leads_call_records/get";

/// Every answer: `{"code", "message", "message_cn", "data"}`; `code != 0` is an error
/// (always with HTTP 200).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope<T> {
    /// 0 on success, else the vendor's error code.
    #[serde(deserialize_with = "de::i64_lenient")]
    pub code: i64,
    /// English error text (empty on success).
    #[serde(default, deserialize_with = "de::string_lenient")]
    pub message: String,
    /// Chinese error text (empty on success).
    #[serde(default, deserialize_with = "de::string_lenient")]
    pub message_cn: String,
    /// The payload, only when `code == 0`.
    #[serde(default = "none", skip_serializing_if = "Option::is_none")]
    pub data: Option<T>,
}

fn none<T>() -> Option<T> {
    None
}

/// `data` of a list answer. `E` is [`serde_json::Value`] for the client (which keeps
/// every record verbatim) and [`CallRecordWire`] for the fake.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound(deserialize = "E: Deserialize<'de>"))]
pub struct ListData<E = serde_json::Value> {
    /// Paging information.
    #[serde(default)]
    pub page_info: Option<PageInfo>,
    /// The vendor's id of this request.
    #[serde(default, deserialize_with = "de::opt_string_lenient")]
    pub request_id: Option<String>,
    /// The call records, ordered by `call_start_time` ascending.
    #[serde(default = "Vec::new", deserialize_with = "de::vec_or_null")]
    pub entities: Vec<E>,
}

/// `page_info`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PageInfo {
    /// Page number (1-based); meaningless when `search_after` was sent.
    #[serde(default, deserialize_with = "de::opt_i64_lenient")]
    pub page: Option<i64>,
    /// Page size.
    #[serde(default, deserialize_with = "de::opt_i64_lenient")]
    pub page_size: Option<i64>,
    /// How many records match the dates.
    #[serde(default, deserialize_with = "de::opt_i64_lenient")]
    pub total_number: Option<i64>,
    /// `ceil(total_number / page_size)`.
    #[serde(default, deserialize_with = "de::opt_i64_lenient")]
    pub total_page: Option<i64>,
}

/// One element of `entities`: one lead call.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CallRecordWire {
    /// The call's unique id.
    #[serde(default, deserialize_with = "de::string_lenient")]
    pub call_id: String,
    /// The advertiser account.
    #[serde(default, deserialize_with = "de::opt_i64_lenient")]
    pub account_id: Option<i64>,
    /// The lead (线索) id.
    #[serde(default, deserialize_with = "de::opt_i64_lenient")]
    pub leads_id: Option<i64>,
    /// Calling number (mobile or landline with area code).
    #[serde(default, deserialize_with = "de::opt_string_lenient")]
    pub caller: Option<String>,
    /// Called number.
    #[serde(default, deserialize_with = "de::opt_string_lenient")]
    pub callee: Option<String>,
    /// `CALL_IN` or `CALL_OUT`.
    #[serde(default, deserialize_with = "de::opt_string_lenient")]
    pub call_direction: Option<String>,
    /// Talk seconds.
    #[serde(default, deserialize_with = "de::opt_i64_lenient")]
    pub duration: Option<i64>,
    /// GMT+8 wall clock `YYYY-MM-DD HH:MM:SS`: what `start_date`, `end_date` and
    /// `search_after` filter on.
    #[serde(default, deserialize_with = "de::string_lenient")]
    pub call_start_time: String,
    /// GMT+8 wall clock.
    #[serde(default, deserialize_with = "de::opt_string_lenient")]
    pub call_end_time: Option<String>,
    /// GMT+8 wall clock.
    #[serde(default, deserialize_with = "de::opt_string_lenient")]
    pub ring_time: Option<String>,
    /// GMT+8 wall clock; empty when not answered.
    #[serde(default, deserialize_with = "de::opt_string_lenient")]
    pub answer_time: Option<String>,
    /// 0 normal … 10 other (see `normalize`).
    #[serde(default, deserialize_with = "de::opt_i64_lenient")]
    pub end_status: Option<i64>,
    /// Recording link, valid for 7 days; empty when there is none.
    #[serde(default, deserialize_with = "de::opt_string_lenient")]
    pub call_record_url: Option<String>,
}

/// Tolerant deserialisers: numbers as strings, `null`, missing.
pub mod de {
    use super::*;
    use serde::de::Error;
    use serde_json::Value;

    fn value_to_i64<E: Error>(v: Value) -> Result<Option<i64>, E> {
        match v {
            Value::Null => Ok(None),
            Value::Number(n) => n
                .as_i64()
                .or_else(|| n.as_f64().filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15).map(|f| f as i64))
                .map(Some)
                .ok_or_else(|| E::custom(format!("expected an integer, got {n}"))),
            Value::String(s) if s.trim().is_empty() => Ok(None),
            Value::String(s) => {
                s.trim().parse::<i64>().map(Some).map_err(|_| E::custom(format!("expected an integer, got \"{s}\"")))
            }
            other => Err(E::custom(format!("expected an integer, got {other}"))),
        }
    }

    fn value_to_string<E: Error>(v: Value) -> Result<Option<String>, E> {
        match v {
            Value::Null => Ok(None),
            Value::String(s) => Ok(Some(s)),
            Value::Number(n) => Ok(Some(n.to_string())),
            Value::Bool(b) => Ok(Some(b.to_string())),
            other => Err(E::custom(format!("expected a string, got {other}"))),
        }
    }

    /// An integer, from a number or a numeric string; required.
    pub fn i64_lenient<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
        value_to_i64(Value::deserialize(d)?)?.ok_or_else(|| D::Error::custom("expected an integer, got null"))
    }

    /// An optional integer, from a number, a numeric string, `""` or `null`.
    pub fn opt_i64_lenient<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
        value_to_i64(Value::deserialize(d)?)
    }

    /// A string (numbers accepted); `null` → `""`.
    pub fn string_lenient<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
        Ok(value_to_string(Value::deserialize(d)?)?.unwrap_or_default())
    }

    /// An optional string (numbers accepted).
    pub fn opt_string_lenient<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
        value_to_string(Value::deserialize(d)?)
    }

    /// A list, with `null` read as empty.
    pub fn vec_or_null<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Vec<T>, D::Error> {
        Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_as_strings_and_nulls_are_read() {
        let v: CallRecordWire = serde_json::from_str(
            r#"{"call_id":"x","account_id":"20458","leads_id":null,"duration":"14","end_status":"0",
                "call_start_time":"2023-01-10 11:04:50","answer_time":"","caller":13810433402}"#,
        )
        .unwrap();
        assert_eq!(v.account_id, Some(20458));
        assert_eq!(v.leads_id, None);
        assert_eq!(v.duration, Some(14));
        assert_eq!(v.end_status, Some(0));
        assert_eq!(v.answer_time.as_deref(), Some(""));
        assert_eq!(v.caller.as_deref(), Some("13810433402"));
        let bad = serde_json::from_str::<CallRecordWire>(r#"{"call_id":"x","duration":"long"}"#);
        assert!(bad.is_err());
    }

    #[test]
    fn entities_null_is_empty_and_code_may_be_a_string() {
        let e: Envelope<ListData> =
            serde_json::from_str(r#"{"code":"0","data":{"page_info":null,"entities":null}}"#).unwrap();
        assert_eq!(e.code, 0);
        assert!(e.data.unwrap().entities.is_empty());
        assert!(serde_json::from_str::<Envelope<ListData>>(r#"{"message":"no code"}"#).is_err());
    }
}
