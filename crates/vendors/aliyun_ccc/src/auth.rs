//! Alibaba Cloud API signing, both schemes the RPC endpoint accepts:
//!
//! * **signature v1** (`SignatureMethod=HMAC-SHA1`, `SignatureVersion=1.0`): every
//!   parameter in the query, sorted, RFC 3986-encoded; string to sign
//!   `METHOD&%2F&` + encode(canonical query); Base64 HMAC-SHA1 keyed with `secret + "&"`.
//! * **ACS3-HMAC-SHA256** (what the current `alibabacloud-*` SDKs send): a canonical
//!   request of method, path, sorted encoded query, the signed headers
//!   (`name:value\n`, lower-case, trimmed, sorted) and the payload's SHA-256; hex
//!   HMAC-SHA256 over `ACS3-HMAC-SHA256\n` + hex SHA-256(canonical request), keyed with
//!   the plain secret. The verifier follows the request's own `SignedHeaders` list.
//!
//! Pure functions, shared by the client (signing) and the fake (verifying).

use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Digest;
use std::collections::BTreeMap;

/// The ACS3 algorithm name.
pub const ACS3: &str = "ACS3-HMAC-SHA256";
/// SHA-256 of the empty payload, hex.
pub const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// Which signature the client sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SignatureVersion {
    /// ACS3-HMAC-SHA256 (default, what the current SDKs send).
    #[default]
    Acs3,
    /// RPC signature v1, HMAC-SHA1.
    V1,
}

impl SignatureVersion {
    /// Read the `signature_version` setting: `acs3` / `v3` / `ACS3-HMAC-SHA256`, or `v1`.
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "acs3" | "v3" | "acs3-hmac-sha256" => Some(SignatureVersion::Acs3),
            "v1" | "1.0" | "hmac-sha1" => Some(SignatureVersion::V1),
            _ => None,
        }
    }
}

/// RFC 3986 percent-encoding as Alibaba Cloud signs it: unreserved characters
/// (`A-Z a-z 0-9 - _ . ~`) kept, everything else as `%XX` of its UTF-8 bytes (so a
/// space is `%20`, `*` is `%2A`, `~` stays).
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `k=v&k=v` with keys sorted and both sides encoded.
pub fn canonical_query(params: &BTreeMap<String, String>) -> String {
    params.iter().map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v))).collect::<Vec<_>>().join("&")
}

/// The v1 signature of `params` (which must not contain `Signature`) for `method`.
pub fn sign_v1(method: &str, params: &BTreeMap<String, String>, secret: &str) -> String {
    let string_to_sign =
        format!("{}&{}&{}", method.to_ascii_uppercase(), percent_encode("/"), percent_encode(&canonical_query(params)));
    // HMAC takes keys of any length: the error arm is unreachable; an empty signature
    // would simply be refused by the server.
    let Ok(mut mac) = <Hmac<sha1::Sha1> as Mac>::new_from_slice(format!("{secret}&").as_bytes()) else {
        return String::new();
    };
    mac.update(string_to_sign.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// Hex SHA-256 of `data`.
pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(sha2::Sha256::digest(data))
}

/// The ACS3 canonical request. `headers` maps lower-case names to their values (several
/// values of one name joined by `,` after sorting); only those in `signed` are used.
pub fn acs3_canonical_request(
    method: &str,
    path: &str,
    query: &BTreeMap<String, String>,
    headers: &BTreeMap<String, Vec<String>>,
    signed: &[String],
    payload_sha256: &str,
) -> String {
    let mut names: Vec<String> = signed.iter().map(|s| s.trim().to_ascii_lowercase()).collect();
    names.sort();
    names.dedup();
    let mut canonical_headers = String::new();
    for n in &names {
        let mut values: Vec<String> =
            headers.get(n).map(|vs| vs.iter().map(|v| v.trim().to_string()).collect()).unwrap_or_default();
        values.sort();
        canonical_headers.push_str(&format!("{n}:{}\n", values.join(",")));
    }
    format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        method.to_ascii_uppercase(),
        if path.is_empty() { "/" } else { path },
        canonical_query(query),
        canonical_headers,
        names.join(";"),
        payload_sha256
    )
}

/// Hex ACS3-HMAC-SHA256 signature of a canonical request.
pub fn sign_acs3(canonical_request: &str, secret: &str) -> String {
    let string_to_sign = format!("{ACS3}\n{}", sha256_hex(canonical_request.as_bytes()));
    let Ok(mut mac) = <Hmac<sha2::Sha256> as Mac>::new_from_slice(secret.as_bytes()) else {
        return String::new();
    };
    mac.update(string_to_sign.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// The `Authorization` header value.
pub fn acs3_authorization(access_key_id: &str, signed: &[String], signature: &str) -> String {
    let mut names: Vec<String> = signed.iter().map(|s| s.to_ascii_lowercase()).collect();
    names.sort();
    names.dedup();
    format!("{ACS3} Credential={access_key_id},SignedHeaders={},Signature={signature}", names.join(";"))
}

/// The parts of an ACS3 `Authorization` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acs3Authorization {
    /// `Credential=`: the AccessKeyId.
    pub access_key_id: String,
    /// `SignedHeaders=`, split on `;`.
    pub signed_headers: Vec<String>,
    /// `Signature=`, hex.
    pub signature: String,
}

/// Read an `ACS3-HMAC-SHA256 Credential=…,SignedHeaders=…,Signature=…` header.
pub fn parse_acs3_authorization(value: &str) -> Option<Acs3Authorization> {
    let rest = value.trim().strip_prefix(ACS3)?.trim_start();
    let (mut ak, mut sh, mut sig) = (None, None, None);
    for part in rest.split(',') {
        let (k, v) = part.trim().split_once('=')?;
        match k.trim() {
            "Credential" => ak = Some(v.trim().to_string()),
            "SignedHeaders" => sh = Some(v.trim().split(';').map(|s| s.trim().to_ascii_lowercase()).collect()),
            "Signature" => sig = Some(v.trim().to_string()),
            _ => {}
        }
    }
    Some(Acs3Authorization { access_key_id: ak?, signed_headers: sh?, signature: sig? })
}

/// Constant-time comparison of two signatures.
pub fn same_signature(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    /// The public known answer of signature v1 (VENDORS.md): ECS DescribeRegions.
    #[test]
    fn aliyun_signature_v1_known_answer() {
        let params = map(&[
            ("AccessKeyId", "testid"),
            ("Action", "DescribeRegions"),
            ("Format", "XML"),
            ("SignatureMethod", "HMAC-SHA1"),
            ("SignatureNonce", "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf"),
            ("SignatureVersion", "1.0"),
            ("Timestamp", "2016-02-23T12:46:24Z"),
            ("Version", "2014-05-26"),
        ]);
        assert_eq!(sign_v1("GET", &params, "testsecret"), "OLeaidS1JvxuMvnyHOwuJ+uX5qY=");
        assert_ne!(sign_v1("POST", &params, "testsecret"), "OLeaidS1JvxuMvnyHOwuJ+uX5qY=");
        assert_ne!(sign_v1("GET", &params, "testsecreT"), "OLeaidS1JvxuMvnyHOwuJ+uX5qY=");
    }

    #[test]
    fn aliyun_rfc3986_encoding_rules() {
        assert_eq!(percent_encode("a b*c~d/e+f=g"), "a%20b%2Ac~d%2Fe%2Bf%3Dg");
        assert_eq!(percent_encode("默认"), "%E9%BB%98%E8%AE%A4");
        assert_eq!(percent_encode("AZaz09-_.~"), "AZaz09-_.~");
    }

    /// Known answer computed with the official SDK's own signer
    /// (`alibabacloud_tea_openapi.utils.Utils.get_authorization`) for this request,
    /// including an extra signed `user-agent` header with spaces to trim.
    #[test]
    fn aliyun_acs3_known_answer_from_the_official_sdk() {
        let query = map(&[
            ("InstanceId", "ccc-test"),
            ("PageNumber", "1"),
            ("PageSize", "100"),
            ("StartTime", "1532448000000"),
            ("EndTime", "1532707199000"),
            ("Note", "a b*~/"),
        ]);
        let mut headers: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (k, v) in [
            ("host", "ccc.cn-shanghai.aliyuncs.com"),
            ("x-acs-action", "ListCallDetailRecords"),
            ("x-acs-version", "2020-07-01"),
            ("x-acs-date", "2024-03-01T08:00:00Z"),
            ("x-acs-signature-nonce", "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf"),
            ("x-acs-content-sha256", EMPTY_SHA256),
            ("user-agent", "  huadan-test "),
        ] {
            headers.insert(k.into(), vec![v.into()]);
        }
        let signed: Vec<String> = headers.keys().cloned().collect();
        let cr = acs3_canonical_request("POST", "/", &query, &headers, &signed, EMPTY_SHA256);
        let sig = sign_acs3(&cr, "testsecret");
        assert_eq!(sig, "fef4314c69f7d79d5e6ab870dd2fc639e5a38502fca46e00139686e99b35012b");
        let auth = acs3_authorization("testid", &signed, &sig);
        assert_eq!(
            auth,
            "ACS3-HMAC-SHA256 Credential=testid,SignedHeaders=host;user-agent;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version,Signature=fef4314c69f7d79d5e6ab870dd2fc639e5a38502fca46e00139686e99b35012b"
        );
        let parsed = parse_acs3_authorization(&auth).unwrap();
        assert_eq!(parsed.access_key_id, "testid");
        assert_eq!(parsed.signed_headers, signed);
        assert!(same_signature(&parsed.signature, &sig));
        assert_eq!(sha256_hex(b""), EMPTY_SHA256);
    }

    #[test]
    fn signature_version_setting() {
        assert_eq!(SignatureVersion::parse("v1"), Some(SignatureVersion::V1));
        assert_eq!(SignatureVersion::parse("ACS3-HMAC-SHA256"), Some(SignatureVersion::Acs3));
        assert_eq!(SignatureVersion::parse("v2"), None);
    }
}
