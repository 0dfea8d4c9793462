//! TC3-HMAC-SHA256, Tencent Cloud API 3.0's request signature, used by the client to
//! sign and by the sandbox fake to verify.
//!
//! 1. canonical request: `POST`, `/`, empty query, canonical headers (names and values
//!    lower-cased and trimmed, sorted by name, `name:value\n` each), signed header names
//!    (`;`-joined), hex SHA-256 of the body;
//! 2. string to sign: `TC3-HMAC-SHA256`, the `X-TC-Timestamp`, the credential scope
//!    `date/service/tc3_request`, hex SHA-256 of the canonical request;
//! 3. key chain: HMAC(`"TC3"+SecretKey`, date) → HMAC(·, service) → HMAC(·,
//!    `"tc3_request"`), and the signature is the hex HMAC of the string to sign.
//!
//! **Trap**: `date` is the **UTC** date of the timestamp ([`credential_date`]). Using
//! the Beijing date breaks every request between 00:00 and 08:00 Beijing time.
//! The known-answer tests in `tests/signing.rs` come from the official Python SDK.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// The algorithm name, first word of the `Authorization` header.
pub const ALGORITHM: &str = "TC3-HMAC-SHA256";
/// The last element of the credential scope.
pub const TERMINATOR: &str = "tc3_request";
/// How far `X-TC-Timestamp` may be from the server's clock (`AuthFailure.SignatureExpire`
/// beyond).
pub const MAX_SKEW_SECONDS: i64 = 300;

type HmacSha256 = Hmac<Sha256>;

fn hmac(key: &[u8], msg: &[u8]) -> Vec<u8> {
    // HMAC accepts keys of any length, so `new_from_slice` cannot fail here.
    let mut mac = match HmacSha256::new_from_slice(key) {
        Ok(m) => m,
        Err(_) => return Vec::new(),
    };
    mac.update(msg);
    mac.finalize().into_bytes().to_vec()
}

/// Lower-case hex SHA-256.
pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// The credential-scope date: the **UTC** calendar date of `timestamp` (`YYYY-MM-DD`).
pub fn credential_date(timestamp: i64) -> String {
    match jiff::Timestamp::from_second(timestamp) {
        Ok(t) => t.to_zoned(jiff::tz::TimeZone::UTC).date().to_string(),
        Err(_) => "1970-01-01".to_string(),
    }
}

/// Canonical headers and the signed-headers list from `(name, value)` pairs: names and
/// values lower-cased and trimmed, sorted by name.
pub fn canonical_headers(headers: &[(&str, &str)]) -> (String, String) {
    let mut hs: Vec<(String, String)> =
        headers.iter().map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_ascii_lowercase())).collect();
    hs.sort();
    let canonical: String = hs.iter().map(|(k, v)| format!("{k}:{v}\n")).collect();
    let signed = hs.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>().join(";");
    (canonical, signed)
}

/// The canonical request of a `POST /` with an empty query string.
pub fn canonical_request(headers: &[(&str, &str)], payload: &[u8]) -> String {
    let (canonical, signed) = canonical_headers(headers);
    format!("POST\n/\n\n{canonical}\n{signed}\n{}", sha256_hex(payload))
}

/// The string to sign.
pub fn string_to_sign(timestamp: i64, date: &str, service: &str, canonical_request: &str) -> String {
    format!("{ALGORITHM}\n{timestamp}\n{date}/{service}/{TERMINATOR}\n{}", sha256_hex(canonical_request.as_bytes()))
}

/// The hex signature of `string_to_sign` under the key chain of `secret_key`, `date`,
/// `service`.
pub fn signature(secret_key: &str, date: &str, service: &str, string_to_sign: &str) -> String {
    let k_date = hmac(format!("TC3{secret_key}").as_bytes(), date.as_bytes());
    let k_service = hmac(&k_date, service.as_bytes());
    let k_signing = hmac(&k_service, TERMINATOR.as_bytes());
    hex::encode(hmac(&k_signing, string_to_sign.as_bytes()))
}

/// The `Authorization` header for a request signed with an explicit credential-scope
/// `date`. Use [`authorization`] (UTC date) unless you are demonstrating the trap.
pub fn authorization_with_date(
    secret_id: &str,
    secret_key: &str,
    date: &str,
    service: &str,
    timestamp: i64,
    headers: &[(&str, &str)],
    payload: &[u8],
) -> String {
    let creq = canonical_request(headers, payload);
    let sts = string_to_sign(timestamp, date, service, &creq);
    let sig = signature(secret_key, date, service, &sts);
    let (_, signed) = canonical_headers(headers);
    format!("{ALGORITHM} Credential={secret_id}/{date}/{service}/{TERMINATOR}, SignedHeaders={signed}, Signature={sig}")
}

/// The `Authorization` header for a `POST /` whose signed headers are `headers`, sent at
/// `timestamp` (the same value goes into `X-TC-Timestamp`).
pub fn authorization(
    secret_id: &str,
    secret_key: &str,
    service: &str,
    timestamp: i64,
    headers: &[(&str, &str)],
    payload: &[u8],
) -> String {
    authorization_with_date(secret_id, secret_key, &credential_date(timestamp), service, timestamp, headers, payload)
}

/// A parsed `Authorization` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedAuthorization {
    /// The SecretId.
    pub secret_id: String,
    /// The credential-scope date as sent.
    pub date: String,
    /// The credential-scope service as sent.
    pub service: String,
    /// The signed header names, as sent (lower-cased).
    pub signed_headers: Vec<String>,
    /// The hex signature.
    pub signature: String,
}

/// Why an `Authorization` header could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed TC3 Authorization header: {0}")]
pub struct AuthorizationParseError(pub &'static str);

impl ParsedAuthorization {
    /// Parse `TC3-HMAC-SHA256 Credential=ID/DATE/SERVICE/tc3_request, SignedHeaders=a;b, Signature=HEX`.
    pub fn parse(header: &str) -> Result<Self, AuthorizationParseError> {
        let rest =
            header.trim().strip_prefix(ALGORITHM).ok_or(AuthorizationParseError("algorithm is not TC3-HMAC-SHA256"))?;
        let (mut credential, mut signed, mut sig) = (None, None, None);
        for part in rest.split(',') {
            let part = part.trim();
            if let Some(v) = part.strip_prefix("Credential=") {
                credential = Some(v);
            } else if let Some(v) = part.strip_prefix("SignedHeaders=") {
                signed = Some(v);
            } else if let Some(v) = part.strip_prefix("Signature=") {
                sig = Some(v);
            }
        }
        let credential = credential.ok_or(AuthorizationParseError("no Credential"))?;
        let mut scope = credential.split('/');
        let (Some(secret_id), Some(date), Some(service), Some(term), None) =
            (scope.next(), scope.next(), scope.next(), scope.next(), scope.next())
        else {
            return Err(AuthorizationParseError("Credential is not ID/date/service/tc3_request"));
        };
        if term != TERMINATOR || secret_id.is_empty() {
            return Err(AuthorizationParseError("Credential is not ID/date/service/tc3_request"));
        }
        let signed = signed.ok_or(AuthorizationParseError("no SignedHeaders"))?;
        let signed_headers: Vec<String> =
            signed.split(';').map(|h| h.trim().to_ascii_lowercase()).filter(|h| !h.is_empty()).collect();
        if signed_headers.is_empty() {
            return Err(AuthorizationParseError("empty SignedHeaders"));
        }
        let signature = sig.ok_or(AuthorizationParseError("no Signature"))?.to_string();
        Ok(ParsedAuthorization {
            secret_id: secret_id.to_string(),
            date: date.to_string(),
            service: service.to_string(),
            signed_headers,
            signature,
        })
    }
}

/// Compare two hex signatures without an early exit.
pub fn signatures_equal(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credential_date_is_utc_not_beijing() {
        // 2024-06-16 01:30 Beijing = 2024-06-15 17:30 UTC.
        assert_eq!(credential_date(1718472600), "2024-06-15");
        assert_eq!(credential_date(1551113065), "2019-02-25");
    }

    #[test]
    fn canonical_headers_sorted_lowercased_trimmed() {
        let (c, s) = canonical_headers(&[("Host", " CCC.tencentcloudapi.com "), ("Content-Type", "application/json")]);
        assert_eq!(c, "content-type:application/json\nhost:ccc.tencentcloudapi.com\n");
        assert_eq!(s, "content-type;host");
    }

    #[test]
    fn parses_what_it_writes() {
        let h = authorization(
            "AKID1",
            "k",
            "ccc",
            1718472600,
            &[("content-type", "application/json"), ("host", "h")],
            b"{}",
        );
        let p = ParsedAuthorization::parse(&h).unwrap();
        assert_eq!(p.secret_id, "AKID1");
        assert_eq!(p.date, "2024-06-15");
        assert_eq!(p.service, "ccc");
        assert_eq!(p.signed_headers, vec!["content-type", "host"]);
        assert_eq!(p.signature.len(), 64);
        assert!(ParsedAuthorization::parse("HMAC x").is_err());
        assert!(ParsedAuthorization::parse("TC3-HMAC-SHA256 Credential=a/b, SignedHeaders=host, Signature=x").is_err());
        assert!(signatures_equal("abc", "abc") && !signatures_equal("abc", "abd") && !signatures_equal("ab", "abc"));
    }
}
