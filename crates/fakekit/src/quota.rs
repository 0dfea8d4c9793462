//! [`FakeQuota`]: a vendor's documented rate limit, enforced as fixed windows (per
//! calendar second and/or per minute), with an optional lock-out after a breach
//! (Tencent Ads locks an app out for 5 minutes).

use parking_lot::Mutex;
use std::time::{Duration, Instant};

/// A fixed-window request counter; `check` admits or refuses one request.
#[derive(Debug)]
pub struct FakeQuota {
    per_second: Option<u32>,
    per_minute: Option<u32>,
    lockout: Option<Duration>,
    enabled: bool,
    state: Mutex<QuotaState>,
}

#[derive(Debug)]
struct QuotaState {
    epoch: Instant,
    second: u64,
    in_second: u32,
    minute: u64,
    in_minute: u32,
    locked_until: Option<Instant>,
    refused: u64,
}

/// Why a request was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuotaRefusal {
    /// Over the per-second or per-minute count.
    OverLimit,
    /// Still locked out after an earlier breach.
    LockedOut,
}

impl FakeQuota {
    /// A quota; `enabled = false` (`--no-limits`) admits everything.
    pub fn new(per_second: Option<u32>, per_minute: Option<u32>, enabled: bool) -> Self {
        let epoch = Instant::now();
        FakeQuota {
            per_second,
            per_minute,
            lockout: None,
            enabled,
            state: Mutex::new(QuotaState {
                epoch,
                second: 0,
                in_second: 0,
                minute: 0,
                in_minute: 0,
                locked_until: None,
                refused: 0,
            }),
        }
    }

    /// After a breach, refuse everything for `d`.
    pub fn with_lockout(mut self, d: Duration) -> Self {
        self.lockout = Some(d);
        self
    }

    /// Admit one request now, or say why not. A refused request does not count.
    pub fn check(&self) -> Result<(), QuotaRefusal> {
        if !self.enabled {
            return Ok(());
        }
        let now = Instant::now();
        let mut s = self.state.lock();
        if let Some(until) = s.locked_until {
            if now < until {
                s.refused += 1;
                return Err(QuotaRefusal::LockedOut);
            }
            s.locked_until = None;
        }
        let elapsed = now.duration_since(s.epoch);
        let sec = elapsed.as_secs();
        let min = sec / 60;
        if sec != s.second {
            s.second = sec;
            s.in_second = 0;
        }
        if min != s.minute {
            s.minute = min;
            s.in_minute = 0;
        }
        let over =
            self.per_second.is_some_and(|l| s.in_second >= l) || self.per_minute.is_some_and(|l| s.in_minute >= l);
        if over {
            s.refused += 1;
            if let Some(d) = self.lockout {
                s.locked_until = Some(now + d);
            }
            return Err(QuotaRefusal::OverLimit);
        }
        s.in_second += 1;
        s.in_minute += 1;
        Ok(())
    }

    /// How many requests were refused so far.
    pub fn refused(&self) -> u64 {
        self.state.lock().refused
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_over_the_per_second_count_and_locks_out() {
        let q = FakeQuota::new(Some(3), None, true);
        let admitted = (0..10).filter(|_| q.check().is_ok()).count();
        assert!((3..=6).contains(&admitted), "{admitted}");
        assert!(q.refused() >= 4);

        let q = FakeQuota::new(None, Some(2), true).with_lockout(Duration::from_secs(300));
        assert!(q.check().is_ok() && q.check().is_ok());
        assert_eq!(q.check(), Err(QuotaRefusal::OverLimit));
        assert_eq!(q.check(), Err(QuotaRefusal::LockedOut));

        let off = FakeQuota::new(Some(1), None, false);
        assert!((0..100).all(|_| off.check().is_ok()));
    }
}
