//! `--faults "http500=0.05,timeout=0.02,ratelimit=0.05,token_expiry=0.01,late=0.01,update=0.02"`.

use parking_lot::Mutex;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};

/// A kind of injected failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FaultKind {
    /// Answer HTTP 500 with an HTML error page.
    Http500,
    /// Stall past the client's timeout, then drop the request.
    Timeout,
    /// Answer the vendor's own rate-limit error.
    RateLimit,
    /// Declare the token / signature expired with the vendor's own error.
    TokenExpiry,
    /// A call appears in a past window after that window was read (data-level).
    Late,
    /// A call changes after it was first served (data-level).
    Update,
}

impl FaultKind {
    /// All kinds, in spec order.
    pub const ALL: [FaultKind; 6] = [
        FaultKind::Http500,
        FaultKind::Timeout,
        FaultKind::RateLimit,
        FaultKind::TokenExpiry,
        FaultKind::Late,
        FaultKind::Update,
    ];

    /// The spec name.
    pub fn name(self) -> &'static str {
        match self {
            FaultKind::Http500 => "http500",
            FaultKind::Timeout => "timeout",
            FaultKind::RateLimit => "ratelimit",
            FaultKind::TokenExpiry => "token_expiry",
            FaultKind::Late => "late",
            FaultKind::Update => "update",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Probabilities per fault kind.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Faults {
    p: [f64; 6],
}

/// A `--faults` spec could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "bad --faults spec `{spec}`: {reason} (expected e.g. \"http500=0.05,timeout=0.02,ratelimit=0.05,token_expiry=0.01,late=0.01,update=0.02\")"
)]
pub struct FaultsParseError {
    /// The whole spec.
    pub spec: String,
    /// What is wrong.
    pub reason: String,
}

impl Faults {
    /// No faults.
    pub fn none() -> Self {
        Faults::default()
    }

    /// Parse `kind=p,kind=p`; probabilities in `[0, 1]`.
    pub fn parse(spec: &str) -> Result<Self, FaultsParseError> {
        let bad = |reason: String| FaultsParseError { spec: spec.to_string(), reason };
        let mut f = Faults::default();
        for part in spec.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (k, v) = part.split_once('=').ok_or_else(|| bad(format!("`{part}` is not kind=probability")))?;
            let kind = FaultKind::ALL
                .into_iter()
                .find(|x| x.name() == k.trim())
                .ok_or_else(|| bad(format!("unknown fault kind `{}`", k.trim())))?;
            let p: f64 = v.trim().parse().map_err(|_| bad(format!("`{}` is not a number", v.trim())))?;
            if !(0.0..=1.0).contains(&p) {
                return Err(bad(format!("probability {p} is outside 0..1")));
            }
            f.p[kind.index()] = p;
        }
        Ok(f)
    }

    /// The probability of one kind.
    pub fn get(&self, kind: FaultKind) -> f64 {
        self.p[kind.index()]
    }

    /// Set the probability of one kind.
    pub fn with(mut self, kind: FaultKind, p: f64) -> Self {
        self.p[kind.index()] = p.clamp(0.0, 1.0);
        self
    }
}

impl fmt::Display for Faults {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = FaultKind::ALL
            .iter()
            .filter(|k| self.get(**k) > 0.0)
            .map(|k| format!("{}={}", k.name(), self.get(*k)))
            .collect();
        f.write_str(&parts.join(","))
    }
}

/// Rolls request-level faults from a seeded RNG (the same request sequence gets the
/// same faults, so a failing test replays) and counts what it injected.
#[derive(Debug)]
pub struct FaultInjector {
    faults: Faults,
    rng: Mutex<ChaCha8Rng>,
    injected: [AtomicU64; 6],
}

impl FaultInjector {
    /// An injector for `faults`, seeded with `seed`.
    pub fn new(faults: Faults, seed: u64) -> Self {
        FaultInjector {
            faults,
            rng: Mutex::new(ChaCha8Rng::seed_from_u64(seed ^ 0xFA17)),
            injected: Default::default(),
        }
    }

    /// The configured probabilities.
    pub fn faults(&self) -> &Faults {
        &self.faults
    }

    /// Decide whether to inject `kind` into this request (and count it if so).
    pub fn roll(&self, kind: FaultKind) -> bool {
        let p = self.faults.get(kind);
        if p <= 0.0 {
            return false;
        }
        let hit = self.rng.lock().gen_bool(p);
        if hit {
            self.injected[kind.index()].fetch_add(1, Ordering::Relaxed);
        }
        hit
    }

    /// Count a data-level fault the fake applied.
    pub fn count(&self, kind: FaultKind) {
        self.injected[kind.index()].fetch_add(1, Ordering::Relaxed);
    }

    /// How many of `kind` were injected so far.
    pub fn injected(&self, kind: FaultKind) -> u64 {
        self.injected[kind.index()].load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_contract_example() {
        let f =
            Faults::parse("http500=0.05,timeout=0.02,ratelimit=0.05,token_expiry=0.01,late=0.01,update=0.02").unwrap();
        assert_eq!(f.get(FaultKind::Http500), 0.05);
        assert_eq!(f.get(FaultKind::Update), 0.02);
        assert_eq!(Faults::parse(&f.to_string()).unwrap(), f);
        assert!(Faults::parse("http501=0.1").unwrap_err().to_string().contains("http501"));
        assert!(Faults::parse("timeout=2").is_err());
        assert_eq!(Faults::parse("").unwrap(), Faults::none());
    }

    #[test]
    fn same_seed_same_rolls() {
        let f = Faults::none().with(FaultKind::Http500, 0.3);
        let a = FaultInjector::new(f, 9);
        let b = FaultInjector::new(f, 9);
        let x: Vec<bool> = (0..200).map(|_| a.roll(FaultKind::Http500)).collect();
        let y: Vec<bool> = (0..200).map(|_| b.roll(FaultKind::Http500)).collect();
        assert_eq!(x, y);
        assert!(a.injected(FaultKind::Http500) > 20);
        assert!(!a.roll(FaultKind::Timeout));
    }
}
