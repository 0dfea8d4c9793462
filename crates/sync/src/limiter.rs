//! The per-source request limiter: a GCRA-style spacer with no burst.
//!
//! Every request of a source waits for [`Limiter::acquire`]. Grants are serialised and
//! spaced by at least `1 / rate` measured between the *actual* grant instants (a waiter
//! that wakes late pushes the next grant back rather than letting it catch up), so in
//! any half-open interval of length `T` at most `rate × T` requests start: the quota
//! is never exceeded, not even for an instant. A rate-limit answer from the vendor
//! ([`Limiter::penalize`]) holds every request back for the `retry_after` and lowers
//! the pace for a while; successes bring it back to the quota.
//!
//! On a store shared by several processes ([`Limiter::shared`]) the quota is the
//! fleet's, not the process's: the limiter reserves a few request slots at a time from
//! the store ([`huadan_store::Store::reserve_slots`]: globally unique start times
//! `1 / rate` apart) and starts each request at its slot, so N processes together are
//! spaced exactly as one is. Slots it cannot use in time are dropped, never bunched.

use huadan_store::DynStore;
use std::collections::VecDeque;
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

/// The extra share of the rate a fleet paces at. One process spaces its requests
/// between their *actual* starts (a late start pushes the next one back); a fleet can
/// only space the *planned* slots, and one process starting late while the next slot
/// belongs to another bunches the two. With 0.93 × 0.985 a vendor allowing 10 requests
/// per fixed one-second window tolerates about 90 ms between a slot and the request's
/// arrival (0.97 tolerated 45 ms, and a CI run with three workers, the sandbox and
/// PostgreSQL on two loaded cores once had Tanma refuse one request of 99).
const FLEET_HEADROOM: f64 = 0.93;

/// A fleet slot woken up later than this is void (never used late).
const MAX_LATE: Duration = Duration::from_millis(10);

/// How often a request may find its fleet slots void before pacing locally for once.
const MAX_VOID: u32 = 20;

/// How much of the quota (in time) one reservation from a shared store covers.
const SLOT_CHUNK: Duration = Duration::from_millis(250);

/// The most slots one reservation takes.
const MAX_SLOTS: u32 = 8;

/// Spaces the requests of one source.
pub struct Limiter {
    /// Requests per second; `None` means unlimited.
    rate: Option<f64>,
    /// The fleet-wide quota, when the store is shared.
    shared: Option<(DynStore, String)>,
    state: Mutex<State>,
}

impl std::fmt::Debug for Limiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Limiter")
            .field("rate", &self.rate)
            .field("shared", &self.shared.as_ref().map(|(_, s)| s))
            .finish_non_exhaustive()
    }
}

#[derive(Debug)]
struct State {
    /// Earliest instant the next request may start.
    next: Option<Instant>,
    /// Current share of the rate (1.0 normally, lower after rate-limit answers).
    factor: f64,
    /// Slots reserved from the shared store, in order.
    slots: VecDeque<Instant>,
}

impl Limiter {
    /// A limiter at `rate` requests per second (`None`: unlimited).
    pub fn new(rate: Option<f64>) -> Self {
        let rate = rate.filter(|r| r.is_finite() && *r > 0.0);
        Limiter { rate, shared: None, state: Mutex::new(State { next: None, factor: 1.0, slots: VecDeque::new() }) }
    }

    /// A limiter at `rate` requests per second for the whole fleet sharing `store`
    /// (stores that share nothing answer no slots, and the pace is local).
    pub fn shared(rate: Option<f64>, store: DynStore, source: &str) -> Self {
        let mut l = Limiter::new(rate);
        if store.shares_work() {
            l.shared = Some((store, source.to_string()));
        }
        l
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
        if let Some((store, source)) = &self.shared {
            let interval = Duration::from_secs_f64(1.0 / (rate * s.factor * FLEET_HEADROOM));
            let tolerance = (interval / 4).min(MAX_LATE);
            for void in 1..=MAX_VOID {
                let Some(slot) = next_slot(&mut s, store, source, rate, interval, tolerance).await else { break };
                wait_until(slot).await;
                if Instant::now() <= slot + tolerance {
                    return;
                }
                // Woke up too late (a loaded machine): the slot is void, take the next.
                if void == MAX_VOID {
                    tracing::warn!(source = %source, "fleet request slots keep passing unused; pacing locally");
                }
            }
        }
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
        if let Some((store, source)) = &self.shared {
            // The whole fleet holds back; slots reserved before the answer are void.
            s.slots.clear();
            if let Err(e) = store.hold_quota(source, wait).await {
                tracing::warn!(source = %source, error = %e, "cannot hold back the fleet's quota");
            }
        }
    }

    /// A request succeeded: recover the pace towards the full rate.
    pub async fn succeeded(&self) {
        let mut s = self.state.lock().await;
        if s.factor < 1.0 {
            s.factor = (s.factor + 0.02).min(1.0);
        }
    }
}

/// Sleep to just before `slot`, then yield until it (the timer wheel rounds up).
async fn wait_until(slot: Instant) {
    if let Some(early) = slot.checked_sub(SPIN) {
        tokio::time::sleep_until(early).await;
    }
    while Instant::now() < slot {
        tokio::task::yield_now().await;
    }
}

/// The next usable fleet slot (reserving more from the store when none is left), or
/// `None` when the store shares no quota. Slots already past by more than `tolerance`
/// are dropped: using them late could bunch up with another worker's.
async fn next_slot(
    s: &mut State,
    store: &DynStore,
    source: &str,
    rate: f64,
    interval: Duration,
    tolerance: Duration,
) -> Option<Instant> {
    let mut failures = 0u32;
    loop {
        let now = Instant::now();
        let held = s.next.filter(|n| *n > now);
        while let Some(&t) = s.slots.front() {
            if t + tolerance < now || held.is_some_and(|h| t < h) {
                s.slots.pop_front();
            } else {
                break;
            }
        }
        if let Some(t) = s.slots.pop_front() {
            return Some(t);
        }
        if let Some(h) = held {
            wait_until(h).await;
            continue;
        }
        let count = ((rate * s.factor * SLOT_CHUNK.as_secs_f64()).ceil() as u32).clamp(1, MAX_SLOTS);
        match store.reserve_slots(source, interval, count).await {
            Ok(Some(g)) => {
                let now = Instant::now();
                let late = g.first_in.unsigned_abs();
                let base = if g.first_in.is_negative() { now.checked_sub(late).unwrap_or(now) } else { now + late };
                s.slots.extend((0..g.count).map(|i| base + g.interval * i));
            }
            Ok(None) => return None,
            Err(e) => {
                // Without the shared pace, wait well beyond it rather than risk the quota.
                failures += 1;
                tracing::warn!(source, error = %e, failures, "cannot reserve quota from the store; waiting");
                tokio::time::sleep((interval * 8).max(Duration::from_millis(100))).await;
                if failures >= 10 {
                    s.next = Some(Instant::now() + interval * 8);
                    return None;
                }
            }
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
