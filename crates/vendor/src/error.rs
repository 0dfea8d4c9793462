//! Errors at the seam, each carrying what the engine needs to decide: retry, refresh
//! the token, wait out a rate limit, or stop the source.

use huadan_model::Instant;
use std::time::Duration;

/// What the engine should do about a failed fetch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// Transient: retry with exponential backoff and jitter.
    Retry,
    /// The token / credential is stale: call [`crate::Vendor::reset_auth`] and retry once;
    /// a second refresh in a row is fatal (a bad secret).
    RefreshAuth,
    /// Over the vendor's quota: wait (at least `retry_after` when given) and retry;
    /// the limiter slows down.
    RateLimited {
        /// How long the vendor asked us to wait, where it says.
        retry_after: Option<Duration>,
    },
    /// Will not get better by retrying (bad credentials, API not granted, bad
    /// parameters): stop this source with the message.
    Fatal,
}

/// One fetch failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FetchError {
    /// No answer within the request timeout.
    #[error("the vendor did not answer within {0:?}")]
    Timeout(Duration),
    /// Connection refused / reset, DNS, TLS.
    #[error("cannot reach the vendor: {0}")]
    Transport(String),
    /// A non-success HTTP status without a vendor error body we could read.
    #[error("HTTP {status} from the vendor: {snippet}")]
    Http {
        /// The status code.
        status: u16,
        /// The start of the body, for the log.
        snippet: String,
    },
    /// The answer could not be understood: truncated or non-JSON body, wrong shape,
    /// or a record that does not normalise. Retried; never skipped silently.
    #[error("bad answer from the vendor: {message} (body starts: {snippet})")]
    BadAnswer {
        /// What was wrong.
        message: String,
        /// The start of the body.
        snippet: String,
    },
    /// The vendor answered with one of its own error codes.
    #[error("vendor error {code}: {message}{}", meaning.map(|m| format!(" ({m})")).unwrap_or_default())]
    Vendor {
        /// The vendor's code, verbatim (`45009`, `AuthFailure.SignatureFailure`…).
        code: String,
        /// The vendor's message.
        message: String,
        /// What the code means and what to do, from the vendor's table.
        meaning: Option<&'static str>,
        /// What the engine should do.
        class: ErrorClass,
    },
}

impl FetchError {
    /// How the engine should treat this error.
    pub fn class(&self) -> ErrorClass {
        match self {
            FetchError::Timeout(_) | FetchError::Transport(_) | FetchError::BadAnswer { .. } => ErrorClass::Retry,
            FetchError::Http { status, .. } => match status {
                429 => ErrorClass::RateLimited { retry_after: None },
                408 | 425 | 500..=599 => ErrorClass::Retry,
                _ => ErrorClass::Fatal,
            },
            FetchError::Vendor { class, .. } => *class,
        }
    }

    /// The vendor's code, or a short kind for transport-level failures (used as the
    /// `code` label of the vendor-error metric).
    pub fn code(&self) -> String {
        match self {
            FetchError::Timeout(_) => "timeout".into(),
            FetchError::Transport(_) => "transport".into(),
            FetchError::Http { status, .. } => format!("http_{status}"),
            FetchError::BadAnswer { .. } => "bad_answer".into(),
            FetchError::Vendor { code, .. } => code.clone(),
        }
    }

    /// A [`FetchError::BadAnswer`] with the body's first 200 characters.
    pub fn bad_answer(message: impl Into<String>, body: &[u8]) -> Self {
        FetchError::BadAnswer { message: message.into(), snippet: snippet(body) }
    }
}

/// The first 200 characters of a body, lossily decoded, on one line.
pub fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let mut s: String = text.chars().take(200).map(|c| if c.is_control() { ' ' } else { c }).collect();
    if text.chars().count() > 200 {
        s.push('…');
    }
    s
}

/// A raw record could not be turned into a [`huadan_model::CallRecord`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot normalise record: {0}")]
pub struct NormalizeError(pub String);

impl From<NormalizeError> for FetchError {
    fn from(e: NormalizeError) -> Self {
        FetchError::BadAnswer { message: e.0, snippet: String::new() }
    }
}

/// A range cannot be planned for this vendor.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    /// The vendor keeps no data that old.
    #[error("the vendor only serves data from {oldest} on; {requested} is too old (use a later --since)")]
    TooOld {
        /// The requested start.
        requested: Instant,
        /// The oldest instant the vendor serves.
        oldest: Instant,
    },
}
