//! Tencent Ads request authentication: every request carries `access_token`,
//! `timestamp` (unix seconds, at most 300 s off the server's clock) and `nonce`
//! (at most 32 characters, never reused with the same token) in its query string.
//! There is no signature; the token comes from the vendor's OAuth 2.0 flow and lives
//! one day.
//!
//! The client side ([`auth_query`], [`new_nonce`]) and the fake's check
//! ([`verify`], [`NonceBook`]) live together so that they cannot drift apart.

use std::collections::{HashSet, VecDeque};

/// The largest clock difference the vendor accepts, in seconds.
pub const MAX_SKEW_SECONDS: i64 = 300;

/// The longest nonce the vendor accepts.
pub const MAX_NONCE_LEN: usize = 32;

/// Where a user gets a new token (shown in fatal token errors).
pub const OAUTH_HELP: &str = "Tencent Ads access tokens come from OAuth 2.0 and live 24 hours: exchange your \
refresh_token at https://api.e.qq.com/oauth/token (grant_type=refresh_token), or have the account owner \
re-authorise your app (https://developers.e.qq.com/oauth/authorize) if the refresh token has expired too \
(30 days); then put the new token in `access_token` of this source";

/// A fresh nonce: 32 lowercase hex characters from 128 random bits, so that it is
/// unique for all practical purposes and never longer than [`MAX_NONCE_LEN`].
pub fn new_nonce() -> String {
    format!("{:032x}", rand::random::<u128>())
}

/// The three authentication parameters, in the order the vendor's examples use.
pub fn auth_query(access_token: &str, timestamp: i64, nonce: &str) -> [(&'static str, String); 3] {
    [("access_token", access_token.to_string()), ("timestamp", timestamp.to_string()), ("nonce", nonce.to_string())]
}

/// Why the vendor refuses a request's authentication, with the vendor's code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthRejection {
    /// 12000: `access_token`, `timestamp` or `nonce` is missing.
    Missing,
    /// 11005: `access_token` is empty.
    TokenEmpty,
    /// 11004: `access_token` is not shaped like a token.
    TokenMalformed,
    /// 11002: `access_token` is not a token the vendor issued.
    TokenInvalid,
    /// 11000: the token has expired.
    TokenExpired,
    /// 12001: `timestamp` is not an integer or more than 300 s off.
    Timestamp,
    /// 12002: this nonce was used before with this token.
    NonceReused,
    /// 12003: the nonce is longer than 32 characters.
    NonceInvalid,
}

impl AuthRejection {
    /// The vendor's code.
    pub fn code(self) -> i64 {
        match self {
            AuthRejection::Missing => 12000,
            AuthRejection::TokenEmpty => 11005,
            AuthRejection::TokenMalformed => 11004,
            AuthRejection::TokenInvalid => 11002,
            AuthRejection::TokenExpired => 11000,
            AuthRejection::Timestamp => 12001,
            AuthRejection::NonceReused => 12002,
            AuthRejection::NonceInvalid => 12003,
        }
    }

    /// The vendor's English message.
    pub fn message(self) -> &'static str {
        match self {
            AuthRejection::Missing => {
                "Your request is missing a required parameter which is one of access_token, timestamp and nonce."
            }
            AuthRejection::TokenEmpty => "Access token is empty.",
            AuthRejection::TokenMalformed => "Access token is malformed.",
            AuthRejection::TokenInvalid => "Access token is invalid.",
            AuthRejection::TokenExpired => "Access token is expired.",
            AuthRejection::Timestamp => "The timestamp is invalid or out of the allowed range of 300 seconds.",
            AuthRejection::NonceReused => "The nonce has been used before.",
            AuthRejection::NonceInvalid => "The nonce is invalid: at most 32 characters.",
        }
    }

    /// The vendor's Chinese message.
    pub fn message_cn(self) -> &'static str {
        match self {
            AuthRejection::Missing => "请求缺少必填参数 access_token、timestamp 或 nonce",
            AuthRejection::TokenEmpty => "access_token 为必填字段,请传入正确的 access_token",
            AuthRejection::TokenMalformed => "您的 access_token 格式不正确,请通过 oauth/authorize 接口获取 token",
            AuthRejection::TokenInvalid => "您的 access_token 无效,请通过 oauth/authorize 接口获取 token。",
            AuthRejection::TokenExpired => "您的 access_token 已过期,请通过 oauth/token 接口获取最新 token",
            AuthRejection::Timestamp => "timestamp 无效或与服务器时间相差超过 300 秒",
            AuthRejection::NonceReused => "nonce 已被使用过,请更换 nonce",
            AuthRejection::NonceInvalid => "nonce 无效,不能超过 32 个字符",
        }
    }
}

/// The nonces seen recently, per the fake's single token. Nonces older than the
/// accepted clock skew are forgotten: a replay of one is refused by its timestamp.
#[derive(Debug, Default)]
pub struct NonceBook {
    seen: HashSet<String>,
    order: VecDeque<(i64, String)>,
}

impl NonceBook {
    /// Record `nonce` (sent with `timestamp`) unless it was seen; forget old ones.
    pub fn check_and_record(&mut self, nonce: &str, timestamp: i64, now: i64) -> Result<(), AuthRejection> {
        while let Some((t, _)) = self.order.front() {
            if *t >= now - 2 * MAX_SKEW_SECONDS {
                break;
            }
            if let Some((_, old)) = self.order.pop_front() {
                self.seen.remove(&old);
            }
        }
        if self.seen.contains(nonce) {
            return Err(AuthRejection::NonceReused);
        }
        self.seen.insert(nonce.to_string());
        self.order.push_back((timestamp.max(now), nonce.to_string()));
        Ok(())
    }

    /// How many nonces are remembered.
    pub fn len(&self) -> usize {
        self.seen.len()
    }

    /// Whether none are remembered.
    pub fn is_empty(&self) -> bool {
        self.seen.is_empty()
    }
}

/// Check a request's authentication parameters as the vendor does, in its order:
/// presence, token shape, token, timestamp window, nonce length, nonce reuse.
pub fn verify(
    expected_token: &str,
    access_token: Option<&str>,
    timestamp: Option<&str>,
    nonce: Option<&str>,
    now: i64,
    book: &mut NonceBook,
) -> Result<(), AuthRejection> {
    let (Some(token), Some(ts), Some(nonce)) = (access_token, timestamp, nonce) else {
        return Err(AuthRejection::Missing);
    };
    if token.is_empty() {
        return Err(AuthRejection::TokenEmpty);
    }
    if token.len() > 128 || !token.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        return Err(AuthRejection::TokenMalformed);
    }
    if token != expected_token {
        return Err(AuthRejection::TokenInvalid);
    }
    let ts: i64 = ts.trim().parse().map_err(|_| AuthRejection::Timestamp)?;
    if (ts - now).abs() > MAX_SKEW_SECONDS {
        return Err(AuthRejection::Timestamp);
    }
    if nonce.is_empty() {
        return Err(AuthRejection::Missing);
    }
    if nonce.chars().count() > MAX_NONCE_LEN {
        return Err(AuthRejection::NonceInvalid);
    }
    book.check_and_record(nonce, ts, now)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "8f2c5a1e9b7d4c3a2f1e0d9c8b7a6f5e";

    #[test]
    fn known_answer_query() {
        let q = auth_query(TOKEN, 1_494_840_119, "a1b2c3d4e5f60718");
        let text = q.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&");
        assert_eq!(text, "access_token=8f2c5a1e9b7d4c3a2f1e0d9c8b7a6f5e&timestamp=1494840119&nonce=a1b2c3d4e5f60718");
    }

    #[test]
    fn nonces_are_32_hex_and_unique() {
        let mut seen = HashSet::new();
        for _ in 0..10_000 {
            let n = new_nonce();
            assert_eq!(n.len(), MAX_NONCE_LEN);
            assert!(n.chars().all(|c| c.is_ascii_hexdigit()));
            assert!(seen.insert(n));
        }
    }

    #[test]
    fn verify_in_the_vendors_order() {
        let now = 1_700_000_000;
        let mut book = NonceBook::default();
        let ts = now.to_string();
        let v = |b: &mut NonceBook, t: Option<&str>, ts: &str, n: &str| verify(TOKEN, t, Some(ts), Some(n), now, b);
        assert_eq!(verify(TOKEN, Some(TOKEN), None, Some("n"), now, &mut book), Err(AuthRejection::Missing));
        assert_eq!(v(&mut book, Some(""), &ts, "n"), Err(AuthRejection::TokenEmpty));
        assert_eq!(v(&mut book, Some("bad token!"), &ts, "n"), Err(AuthRejection::TokenMalformed));
        assert_eq!(v(&mut book, Some("0000"), &ts, "n"), Err(AuthRejection::TokenInvalid));
        assert_eq!(v(&mut book, Some(TOKEN), &(now - 301).to_string(), "n1"), Err(AuthRejection::Timestamp));
        assert_eq!(v(&mut book, Some(TOKEN), &(now + 301).to_string(), "n1"), Err(AuthRejection::Timestamp));
        assert_eq!(v(&mut book, Some(TOKEN), "17e8", "n1"), Err(AuthRejection::Timestamp));
        assert_eq!(v(&mut book, Some(TOKEN), &(now - 300).to_string(), "n1"), Ok(()));
        assert_eq!(v(&mut book, Some(TOKEN), &ts, "n1"), Err(AuthRejection::NonceReused));
        assert_eq!(v(&mut book, Some(TOKEN), &ts, &"x".repeat(33)), Err(AuthRejection::NonceInvalid));
        assert_eq!(v(&mut book, Some(TOKEN), &ts, &"x".repeat(32)), Ok(()));
    }

    #[test]
    fn nonce_book_forgets_only_what_timestamps_already_refuse() {
        let mut book = NonceBook::default();
        for i in 0..1000 {
            book.check_and_record(&format!("n{i}"), 1000 + i, 1000 + i).unwrap();
        }
        // Still within 2 × skew: remembered.
        assert_eq!(book.check_and_record("n999", 2000, 2000), Err(AuthRejection::NonceReused));
        book.check_and_record("late", 5000, 5000).unwrap();
        assert!(book.len() <= 2, "{}", book.len());
    }
}
