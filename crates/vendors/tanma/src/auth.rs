//! Tanma's request signing: four headers on every request, no token.
//!
//! | header | value |
//! |---|---|
//! | `appId` | the application id |
//! | `appKey` | the application key |
//! | `timestamp` | milliseconds since the Unix epoch, decimal |
//! | `sign` | [`sign`]`(appId, timestamp, appSecret)` |
//!
//! The public document names the headers but not the formula. huadan uses the one in
//! VENDORS.md § tanma, `lowercase hex MD5(appId + timestamp + appSecret)`; it lives in
//! [`sign`] alone, so a correction is a one-line change, and the sandbox verifies with
//! the same function ([`verify`]).
//!
//! Freshness: the sandbox refuses a `timestamp` more than [`MAX_SKEW_MS`] (5 minutes)
//! away from its wall clock, in either direction, with code
//! [`crate::client::codes::EXPIRED`].

use md5::{Digest, Md5};
use subtle::ConstantTimeEq;

/// Header names, exactly as the doc spells them.
pub const HEADER_APP_ID: &str = "appId";
/// See [`HEADER_APP_ID`].
pub const HEADER_APP_KEY: &str = "appKey";
/// See [`HEADER_APP_ID`].
pub const HEADER_TIMESTAMP: &str = "timestamp";
/// See [`HEADER_APP_ID`].
pub const HEADER_SIGN: &str = "sign";

/// How far a request's `timestamp` may be from the server's clock: ±5 minutes.
pub const MAX_SKEW_MS: i64 = 5 * 60 * 1000;

/// **The** signing formula: lowercase hex MD5 of `app_id + timestamp + app_secret`
/// (plain concatenation, UTF-8, `timestamp` as the decimal string sent in the header).
pub fn sign(app_id: &str, timestamp: &str, app_secret: &str) -> String {
    let mut h = Md5::new();
    h.update(app_id.as_bytes());
    h.update(timestamp.as_bytes());
    h.update(app_secret.as_bytes());
    hex::encode(h.finalize())
}

/// Whether `given` is the right signature (constant-time; the hex case is ignored).
pub fn verify(app_id: &str, timestamp: &str, app_secret: &str, given: &str) -> bool {
    let expected = sign(app_id, timestamp, app_secret);
    let given = given.trim().to_ascii_lowercase();
    expected.as_bytes().ct_eq(given.as_bytes()).into()
}

/// Whether a `timestamp` header (ms) is within [`MAX_SKEW_MS`] of `now_ms`; `None` when
/// it is not a number at all.
pub fn is_fresh(timestamp: &str, now_ms: i64) -> Option<bool> {
    let ts: i64 = timestamp.trim().parse().ok()?;
    Some((now_ms - ts).abs() <= MAX_SKEW_MS)
}

/// The four header values of one request (the secret itself is never among them).
#[derive(Clone, PartialEq, Eq)]
pub struct SignedHeaders {
    /// `appId`.
    pub app_id: String,
    /// `appKey`.
    pub app_key: String,
    /// `timestamp`, ms.
    pub timestamp: String,
    /// `sign`.
    pub sign: String,
}

impl std::fmt::Debug for SignedHeaders {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignedHeaders")
            .field("app_id", &self.app_id)
            .field("app_key", &"<redacted>")
            .field("timestamp", &self.timestamp)
            .field("sign", &"<redacted>")
            .finish()
    }
}

impl SignedHeaders {
    /// Sign a request made at `now_ms`.
    pub fn new(app_id: &str, app_key: &str, app_secret: &str, now_ms: i64) -> Self {
        let timestamp = now_ms.to_string();
        SignedHeaders {
            app_id: app_id.to_string(),
            app_key: app_key.to_string(),
            sign: sign(app_id, &timestamp, app_secret),
            timestamp,
        }
    }

    /// Add the four headers to a request.
    pub fn apply(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        request
            .header(HEADER_APP_ID, &self.app_id)
            .header(HEADER_APP_KEY, &self.app_key)
            .header(HEADER_TIMESTAMP, &self.timestamp)
            .header(HEADER_SIGN, &self.sign)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Known answers computed independently (Python `hashlib.md5((a + t + s).encode())`).
    #[test]
    fn sign_known_answers() {
        assert_eq!(sign("tmapp001", "1742883984490", "secret"), "481bb23fffdd04595aaa48a13ef136c6");
        assert_eq!(
            sign("4f9c2a71", "1700000000000", "0123456789abcdef0123456789abcdef"),
            "cfc42ad024440837abc89aebfe74a28b"
        );
    }

    #[test]
    fn verify_accepts_right_and_refuses_wrong() {
        let s = sign("a", "1", "s");
        assert!(verify("a", "1", "s", &s));
        assert!(verify("a", "1", "s", &s.to_ascii_uppercase()));
        assert!(!verify("a", "1", "t", &s));
        assert!(!verify("a", "2", "s", &s));
        assert!(!verify("a", "1", "s", ""));
    }

    #[test]
    fn freshness_window_is_five_minutes_both_ways() {
        let now = 1_700_000_000_000;
        assert_eq!(is_fresh(&(now - MAX_SKEW_MS).to_string(), now), Some(true));
        assert_eq!(is_fresh(&(now + MAX_SKEW_MS).to_string(), now), Some(true));
        assert_eq!(is_fresh(&(now - MAX_SKEW_MS - 1).to_string(), now), Some(false));
        assert_eq!(is_fresh(&(now + MAX_SKEW_MS + 1).to_string(), now), Some(false));
        // Seconds instead of milliseconds are 50 years stale.
        assert_eq!(is_fresh(&(now / 1000).to_string(), now), Some(false));
        assert_eq!(is_fresh("soon", now), None);
    }

    #[test]
    fn debug_redacts_key_and_sign() {
        let h = SignedHeaders::new("app", "KEY123", "SECRET", 1);
        let d = format!("{h:?}");
        assert!(!d.contains("KEY123") && !d.contains(&h.sign) && !d.contains("SECRET"), "{d}");
    }
}
