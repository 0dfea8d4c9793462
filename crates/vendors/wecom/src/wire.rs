//! Serde types mirroring WeCom's JSON exactly (seed 000, VENDORS.md § wecom), shared by
//! the client (deserialise) and the sandbox fake (serialise).
//!
//! Tolerant where WeCom is inconsistent: `callee[].phone` is a JSON number in the
//! document's example and a string elsewhere; numbers may arrive as numeric strings;
//! a callee carries either `userid` or `phone`.

use serde::{Deserialize, Deserializer, Serialize};

/// `GET /cgi-bin/gettoken` path.
pub const TOKEN_PATH: &str = "/cgi-bin/gettoken";
/// `POST /cgi-bin/dial/get_dial_record` path.
pub const DIAL_RECORD_PATH: &str = "/cgi-bin/dial/get_dial_record";
/// The most records one page may hold; a larger `limit` is treated as this.
pub const MAX_LIMIT: u64 = 100;
/// The longest closed range `[start_time, end_time]` one query answers, in seconds
/// (inclusive: `end_time - start_time + 1 <= MAX_SPAN_SECS`).
pub const MAX_SPAN_SECS: i64 = 30 * 86_400;

/// The answer of `gettoken`: a token and its lifetime, or an error.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenResponse {
    /// 0 on success.
    #[serde(deserialize_with = "flex_i64")]
    pub errcode: i64,
    /// `ok`, or what went wrong.
    #[serde(default)]
    pub errmsg: String,
    /// The access token (absent on error).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_token: Option<String>,
    /// Seconds the token stays valid (7200 normally).
    #[serde(default, deserialize_with = "flex_opt_i64", skip_serializing_if = "Option::is_none")]
    pub expires_in: Option<i64>,
}

/// Every WeCom error answer: `{"errcode": N, "errmsg": "..."}` with HTTP 200.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// The code.
    #[serde(deserialize_with = "flex_i64")]
    pub errcode: i64,
    /// Its text.
    #[serde(default)]
    pub errmsg: String,
}

/// The body of `get_dial_record`. Every field is optional for WeCom; huadan always
/// sends all four.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DialRecordRequest {
    /// First second of the closed range (unix seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<i64>,
    /// Last second of the closed range (unix seconds, inclusive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_time: Option<i64>,
    /// Paging offset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
    /// Page size (default 100; larger is treated as 100).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
}

/// The answer of `get_dial_record`. Records stay raw JSON here so that each one is kept
/// verbatim in `raw`; [`DialRecord`] reads them. `R` is how a record is held: the
/// client reads each one as its JSON text ([`huadan_model::RawJson`], no `Value` tree);
/// [`serde_json::Value`] (the default) suits tests and the fake's checks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound(deserialize = "R: Deserialize<'de>", serialize = "R: Serialize"))]
pub struct DialRecordResponse<R = serde_json::Value> {
    /// 0 on success.
    #[serde(deserialize_with = "flex_i64")]
    pub errcode: i64,
    /// `ok`, or what went wrong.
    #[serde(default)]
    pub errmsg: String,
    /// The page of records (absent on error; `null` or absent is read as empty).
    #[serde(default, deserialize_with = "null_as_empty")]
    pub record: Vec<R>,
}

/// One dial record. WeCom gives it no id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DialRecord {
    /// When the call was placed (unix seconds).
    #[serde(deserialize_with = "flex_i64")]
    pub call_time: i64,
    /// Total talk time in MINUTES: for a multi-party call the sum over every
    /// participant, the caller included.
    #[serde(default, deserialize_with = "flex_i64")]
    pub total_duration: i64,
    /// 1 single-party call, 2 multi-party call.
    #[serde(default, deserialize_with = "flex_i64")]
    pub call_type: i64,
    /// The WeCom user who placed the call.
    pub caller: Caller,
    /// Who was called: colleagues (`userid`) and outside numbers (`phone`).
    #[serde(default, deserialize_with = "null_as_empty")]
    pub callee: Vec<Callee>,
}

/// The caller of a dial record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Caller {
    /// The caller's WeCom userid.
    pub userid: String,
    /// The caller's talk time, in MINUTES.
    #[serde(default, deserialize_with = "flex_i64")]
    pub duration: i64,
}

/// One callee: a colleague (`userid`) or an outside number (`phone`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Callee {
    /// The colleague's userid, when the callee is inside the company.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub userid: Option<String>,
    /// The outside number, when the callee is outside: a JSON number or a string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<Phone>,
    /// This callee's talk time, in MINUTES.
    #[serde(default, deserialize_with = "flex_i64")]
    pub duration: i64,
}

/// A phone number as WeCom sends it: a JSON number (as in the document's example) or
/// a string.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Phone {
    /// `"phone": 13800138000`.
    Number(u64),
    /// `"phone": "13800138000"`.
    Text(String),
}

impl Phone {
    /// The digits as sent (a number printed in decimal, a string as is).
    pub fn digits(&self) -> String {
        match self {
            Phone::Number(n) => n.to_string(),
            Phone::Text(s) => s.trim().to_string(),
        }
    }
}

/// An integer that may arrive as a JSON number or a numeric string.
fn flex_i64<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Flex {
        Int(i64),
        Float(f64),
        Text(String),
    }
    match Flex::deserialize(d)? {
        Flex::Int(i) => Ok(i),
        Flex::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Ok(f as i64),
        Flex::Float(f) => Err(serde::de::Error::custom(format!("expected a whole number, got {f}"))),
        Flex::Text(s) => {
            s.trim().parse().map_err(|_| serde::de::Error::custom(format!("expected a whole number, got \"{s}\"")))
        }
    }
}

fn flex_opt_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    #[derive(Deserialize)]
    struct Wrap(#[serde(deserialize_with = "flex_i64")] i64);
    Option::<Wrap>::deserialize(d).map(|o| o.map(|w| w.0))
}

fn null_as_empty<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Vec<T>, D::Error> {
    Option::<Vec<T>>::deserialize(d).map(Option::unwrap_or_default)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_as_number_or_string() {
        let a: Callee = serde_json::from_str(r#"{"phone":138000800,"duration":10}"#).unwrap();
        let b: Callee = serde_json::from_str(r#"{"phone":"138000800","duration":"10"}"#).unwrap();
        assert_eq!(a.phone.as_ref().unwrap().digits(), "138000800");
        assert_eq!(b.phone.as_ref().unwrap().digits(), "138000800");
        assert_eq!(a.duration, 10);
        assert_eq!(b.duration, 10);
        let c: Callee = serde_json::from_str(r#"{"phone":"02161234567","duration":1}"#).unwrap();
        assert_eq!(c.phone.unwrap().digits(), "02161234567");
    }

    #[test]
    fn wrong_types_are_errors_not_defaults() {
        assert!(serde_json::from_str::<DialRecord>(r#"{"call_time":"soon","caller":{"userid":"a"}}"#).is_err());
        assert!(serde_json::from_str::<DialRecordResponse>(r#"{"errcode":0,"record":{"a":1}}"#).is_err());
        assert!(serde_json::from_str::<DialRecordResponse>(r#"{}"#).is_err());
        let r: DialRecordResponse = serde_json::from_str(r#"{"errcode":"0","errmsg":"ok","record":null}"#).unwrap();
        assert!(r.record.is_empty());
    }

    #[test]
    fn request_serialises_the_seed_shape() {
        let req = DialRecordRequest {
            start_time: Some(1536508800),
            end_time: Some(1536940800),
            offset: Some(0),
            limit: Some(100),
        };
        assert_eq!(
            serde_json::to_string(&req).unwrap(),
            r#"{"start_time":1536508800,"end_time":1536940800,"offset":0,"limit":100}"#
        );
    }
}
