//! WeCom's error codes, mapped once to what the engine should do and what a user
//! should do (VENDORS.md § wecom). Errors arrive as `{errcode, errmsg}` with HTTP 200.

use huadan_vendor::{ErrorClass, FetchError};

/// Where the error came from: the token endpoint treats a bad secret as final.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    /// `GET /cgi-bin/gettoken`.
    GetToken,
    /// `POST /cgi-bin/dial/get_dial_record` (and other token-authenticated calls).
    Api,
}

/// The class and the plain-words meaning of one WeCom `errcode`.
pub fn classify(code: i64, endpoint: Endpoint) -> (ErrorClass, &'static str) {
    use ErrorClass::*;
    match (code, endpoint) {
        (-1, _) => (Retry, "WeCom is busy (system busy); retried with backoff"),
        (45009, _) => (
            RateLimited { retry_after: None },
            "WeCom frequency limit reached (45009: per corp and API 10,000 calls a minute, 150,000 an hour); huadan waits and slows down",
        ),
        (45011 | 45033, _) => {
            (RateLimited { retry_after: None }, "too many calls at once; huadan waits and slows down")
        }
        (40001, Endpoint::GetToken) => {
            (Fatal, "WeCom rejected corp_secret: use the secret of the app granted 公费电话 (public phone) access")
        }
        (40001, Endpoint::Api) => (
            RefreshAuth,
            "WeCom rejected the credential; a new token is fetched once — if it persists, check corp_secret",
        ),
        (40014, _) => (RefreshAuth, "the access token is invalid (replaced or revoked); a new token is fetched once"),
        (42001, _) => (RefreshAuth, "the access token expired; a new token is fetched once"),
        (41001, _) => (Fatal, "the request carried no access token (a huadan bug: please report it)"),
        (40013, _) => {
            (Fatal, "WeCom does not know this corp_id: copy it from 我的企业 → 企业信息 in the admin console")
        }
        (41002, _) => (Fatal, "corp_id is missing: set corp_id for this source"),
        (41004, _) => (Fatal, "corp_secret is missing: set corp_secret for this source"),
        (60020, _) => (
            Fatal,
            "WeCom refuses calls from this machine's IP: add it to the app's 企业可信IP (trusted IPs) in the admin console",
        ),
        (48002, _) => (
            Fatal,
            "this app may not call the public-phone API: add it to 公费电话 → 可调用接口的应用 in the admin console",
        ),
        (60011, _) => (Fatal, "the app has no permission for these users: widen its visible range (可见范围)"),
        (600018, _) => (
            Fatal,
            "WeCom rejected the time range (end before start, or start in the future): check this machine's clock",
        ),
        (47001, _) => (Fatal, "WeCom could not parse the request body (a huadan bug: please report it)"),
        _ => (Fatal, "an unexpected WeCom error: look the code up in WeCom's error code reference"),
    }
}

/// A [`FetchError::Vendor`] for a WeCom error answer.
pub fn vendor_error(code: i64, errmsg: &str, endpoint: Endpoint) -> FetchError {
    let (class, meaning) = classify(code, endpoint);
    FetchError::Vendor { code: code.to_string(), message: errmsg.to_string(), meaning: Some(meaning), class }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_matches_vendors_md() {
        let c = |code, e| classify(code, e).0;
        assert_eq!(c(-1, Endpoint::Api), ErrorClass::Retry);
        assert_eq!(c(45009, Endpoint::Api), ErrorClass::RateLimited { retry_after: None });
        assert_eq!(c(42001, Endpoint::Api), ErrorClass::RefreshAuth);
        assert_eq!(c(40014, Endpoint::Api), ErrorClass::RefreshAuth);
        assert_eq!(c(40001, Endpoint::Api), ErrorClass::RefreshAuth);
        assert_eq!(c(40001, Endpoint::GetToken), ErrorClass::Fatal);
        for code in [40013, 60020, 48002, 600018, 123456] {
            assert_eq!(c(code, Endpoint::Api), ErrorClass::Fatal, "{code}");
        }
    }
}
