//! The retry policy: what the engine does with each [`ErrorClass`].
//!
//! * `Retry` → exponential backoff with full jitter, a bounded number of attempts, then
//!   the window is recorded as failed (and retried on the next run);
//! * `RefreshAuth` → `vendor.reset_auth()` and one more try; only
//!   [`RetryPolicy::max_refreshes`] refresh answers in a row are fatal (a bad secret, not
//!   a stale token: a token revoked again right after its refresh happens, and one such
//!   coincidence must not stop a source);
//! * `RateLimited` → the limiter holds back for `retry_after` and slows down; bounded too;
//! * `Fatal` → the source stops with the vendor's message.

use crate::limiter::Limiter;
use huadan_vendor::{Cursor, DynVendor, ErrorClass, FetchError, Page, Window};
use rand::Rng;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// How hard the engine tries before giving up on a window.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Attempts for a transient error (the first try included).
    pub max_attempts: u32,
    /// First backoff; doubled on every further attempt.
    pub base_delay: Duration,
    /// Longest backoff.
    pub max_delay: Duration,
    /// How many rate-limit answers one request may meet before its window fails.
    pub max_rate_limited: u32,
    /// How many "credentials stale" answers in a row one request may meet (each
    /// followed by a token refresh) before the source stops as misconfigured.
    pub max_refreshes: u32,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 6,
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(20),
            max_rate_limited: 30,
            max_refreshes: 3,
        }
    }
}

impl RetryPolicy {
    /// The backoff before attempt `attempt + 1` (1-based `attempt`): full jitter over
    /// `base × 2^(attempt-1)`, capped, and never less than a quarter of it.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let exp = self.base_delay.saturating_mul(1u32 << attempt.saturating_sub(1).min(16));
        let cap = exp.min(self.max_delay);
        let lo = cap / 4;
        let span = cap.saturating_sub(lo);
        let jitter = rand::thread_rng().gen_range(0.0..=1.0);
        lo + span.mul_f64(jitter)
    }
}

/// Per-source counters shared by the source's workers.
#[derive(Debug, Default)]
pub struct Counters {
    /// List requests made.
    pub requests: AtomicU64,
    /// Requests retried.
    pub retries: AtomicU64,
    /// Errors met.
    pub errors: AtomicU64,
    /// Records received.
    pub fetched: AtomicU64,
    /// Rate-limit answers received.
    pub rate_limited: AtomicU64,
    /// How long the last successful request took, in microseconds (limiter wait
    /// excluded).
    pub last_latency_us: AtomicU64,
}

impl Counters {
    fn bump(c: &AtomicU64) {
        c.fetch_add(1, Ordering::Relaxed);
    }
}

/// Why a page could not be fetched.
#[derive(Debug, Clone, thiserror::Error)]
pub enum FetchFailure {
    /// The window keeps failing: record it and carry on with the other windows.
    #[error("{error} (gave up after {attempts} attempts)")]
    Window {
        /// The last error.
        error: FetchError,
        /// Attempts made.
        attempts: u32,
    },
    /// The source cannot go on (bad credentials, API not granted…).
    #[error("{0}")]
    Fatal(FetchError),
}

/// Fetch one page with the policy applied: limiter before every request, retries,
/// token refresh and rate-limit waits.
pub async fn fetch_page(
    vendor: &DynVendor,
    limiter: &Limiter,
    policy: &RetryPolicy,
    counters: &Counters,
    window: &Window,
    cursor: Option<&Cursor>,
) -> Result<Page, FetchFailure> {
    let mut attempts = 0u32;
    let mut rate_limited = 0u32;
    let mut refreshes = 0u32;
    loop {
        limiter.acquire().await;
        attempts += 1;
        Counters::bump(&counters.requests);
        let sent = std::time::Instant::now();
        let error = match vendor.fetch(window, cursor).await {
            Ok(page) => {
                counters.last_latency_us.store(sent.elapsed().as_micros() as u64, Ordering::Relaxed);
                limiter.succeeded().await;
                counters.fetched.fetch_add(page.records.len() as u64, Ordering::Relaxed);
                return Ok(page);
            }
            Err(e) => e,
        };
        Counters::bump(&counters.errors);
        match error.class() {
            ErrorClass::Retry => {
                refreshes = 0;
                if attempts >= policy.max_attempts {
                    return Err(FetchFailure::Window { error, attempts });
                }
                tracing::debug!(source = vendor.source(), %window, %error, attempts, "retrying");
                tokio::time::sleep(policy.backoff(attempts)).await;
            }
            ErrorClass::RefreshAuth => {
                if refreshes >= policy.max_refreshes {
                    return Err(FetchFailure::Fatal(error));
                }
                tracing::info!(source = vendor.source(), %error, "credentials stale: refreshing");
                vendor.reset_auth().await;
                refreshes += 1;
                // A refresh does not count against the transient-error budget.
                attempts = attempts.saturating_sub(1);
            }
            ErrorClass::RateLimited { retry_after } => {
                refreshes = 0;
                rate_limited += 1;
                Counters::bump(&counters.rate_limited);
                attempts = attempts.saturating_sub(1);
                if rate_limited > policy.max_rate_limited {
                    return Err(FetchFailure::Window { error, attempts: attempts + rate_limited });
                }
                tracing::info!(source = vendor.source(), %error, "rate limited: slowing down");
                limiter.penalize(retry_after).await;
            }
            ErrorClass::Fatal => return Err(FetchFailure::Fatal(error)),
        }
        Counters::bump(&counters.retries);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        let p = RetryPolicy {
            max_attempts: 5,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(1),
            max_rate_limited: 3,
            max_refreshes: 3,
        };
        for _ in 0..50 {
            let b1 = p.backoff(1);
            assert!(b1 >= Duration::from_millis(25) && b1 <= Duration::from_millis(100), "{b1:?}");
            let b3 = p.backoff(3);
            assert!(b3 >= Duration::from_millis(100) && b3 <= Duration::from_millis(400), "{b3:?}");
            assert!(p.backoff(30) <= Duration::from_secs(1));
        }
    }
}
