//! The per-source request limiter: a GCRA-style spacer with no burst.
//!
//! Every request of a source waits for [`Limiter::acquire`]. Grants are serialised and
//! spaced by at least `1 / rate` measured between the *actual* grant instants (a waiter
//! that wakes late pushes the next grant back rather than letting it catch up), so in
//! any half-open interval of length `T` at most `rate × T` requests start: the quota
//! is never exceeded, not even for an instant. A rate-limit answer from the vendor
//! ([`Limiter::penalize`]) holds every request back for the `retry_after` and lowers
//! the pace for a while; successes bring it back to the quota.

use std::time::Duration;
use tokio::sync::Mutex;
use tokio::time::Instant;

/// How far below the documented quota the engine paces by default: it absorbs the
/// jitter between our send time and the vendor's arrival time, so that a vendor
/// counting requests in fixed one-second windows never sees one too many.
pub const QUOTA_HEADROOM: f64 = 0.985;

/// How long before its slot a waiter stops sleeping and yields instead.
const SPIN: Duration = Duration::from_millis(2);

/// The slowest pace a rate-limit answer can push a limiter to, as a share of its rate.
const MIN_FACTOR: f64 = 0.5;

/// Spaces the requests of one source.
#[derive(Debug)]
pub struct Limiter {
    /// Requests per second; `None` means unlimited.
    rate: Option<f64>,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    /// Earliest instant the next request may start.
    next: Option<Instant>,
    /// Current share of the rate (1.0 normally, lower after rate-limit answers).
    factor: f64,
}

impl Limiter {
    /// A limiter at `rate` requests per second (`None`: unlimited).
    pub fn new(rate: Option<f64>) -> Self {
        let rate = rate.filter(|r| r.is_finite() && *r > 0.0);
        Limiter { rate, state: Mutex::new(State { next: None, factor: 1.0 }) }
    }

    /// The configured rate in requests per second.
    pub fn rate(&self) -> Option<f64> {
        self.rate
    }

    /// Wait until one more request may start, and account for it.
    pub async fn acquire(&self) {
        let Some(rate) = self.rate else { return };
        // The lock is held across the sleep on purpose: grants are serialised, so the
        // spacing is between real start instants.
        let mut s = self.state.lock().await;
        if let Some(next) = s.next {
            // The timer wheel has millisecond ticks and rounds up: sleep to just before
            // the slot, then yield until it, so that late wake-ups do not eat the quota.
            if let Some(early) = next.checked_sub(SPIN) {
                tokio::time::sleep_until(early).await;
            }
            while Instant::now() < next {
                tokio::task::yield_now().await;
            }
        }
        let now = Instant::now();
        let interval = Duration::from_secs_f64(1.0 / (rate * s.factor));
        s.next = Some(now + interval);
    }

    /// The vendor said "too many requests": hold every request back for `retry_after`
    /// (one interval at least) and slow down.
    pub async fn penalize(&self, retry_after: Option<Duration>) {
        let mut s = self.state.lock().await;
        s.factor = (s.factor * 0.8).max(MIN_FACTOR);
        let base = self.rate.map(|r| Duration::from_secs_f64(1.0 / (r * s.factor))).unwrap_or(Duration::ZERO);
        let wait = retry_after.unwrap_or(Duration::from_secs(1)).max(base);
        let until = Instant::now() + wait;
        s.next = Some(s.next.map_or(until, |n| n.max(until)));
    }

    /// A request succeeded: recover the pace towards the full rate.
    pub async fn succeeded(&self) {
        let mut s = self.state.lock().await;
        if s.factor < 1.0 {
            s.factor = (s.factor + 0.02).min(1.0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn unlimited_never_waits() {
        let l = Limiter::new(None);
        let t = Instant::now();
        for _ in 0..1000 {
            l.acquire().await;
        }
        assert!(t.elapsed() < Duration::from_millis(200));
    }

    #[tokio::test]
    async fn penalty_holds_back_the_next_request() {
        let l = Limiter::new(Some(1000.0));
        l.acquire().await;
        l.penalize(Some(Duration::from_millis(150))).await;
        let t = Instant::now();
        l.acquire().await;
        assert!(t.elapsed() >= Duration::from_millis(145), "{:?}", t.elapsed());
    }
}
