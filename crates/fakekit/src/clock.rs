//! [`Clock`]: what "now" is for a fake.

use huadan_model::Instant;
use jiff::SignedDuration;
use parking_lot::Mutex;
use std::sync::Arc;

/// The fakes' notion of now: the real clock plus an adjustable offset, or a fixed
/// instant. Clones share state, so a test can advance the clock of a running fake.
#[derive(Clone, Debug)]
pub struct Clock(Arc<Mutex<ClockState>>);

#[derive(Debug)]
enum ClockState {
    Real { offset: SignedDuration },
    Fixed(Instant),
}

impl Clock {
    /// The real wall clock.
    pub fn real() -> Self {
        Clock(Arc::new(Mutex::new(ClockState::Real { offset: SignedDuration::ZERO })))
    }

    /// Stopped at `t` until advanced.
    pub fn fixed(t: Instant) -> Self {
        Clock(Arc::new(Mutex::new(ClockState::Fixed(t))))
    }

    /// Now.
    pub fn now(&self) -> Instant {
        match &*self.0.lock() {
            ClockState::Real { offset } => Instant::now().checked_add(*offset).unwrap_or_else(|_| Instant::now()),
            ClockState::Fixed(t) => *t,
        }
    }

    /// Move the clock forward (or back, with a negative duration).
    pub fn advance(&self, by: SignedDuration) {
        let mut s = self.0.lock();
        match &mut *s {
            ClockState::Real { offset } => *offset += by,
            ClockState::Fixed(t) => *t = t.checked_add(by).unwrap_or(*t),
        }
    }
}

impl Default for Clock {
    fn default() -> Self {
        Clock::real()
    }
}
