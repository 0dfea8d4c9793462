//! Building blocks for the sandbox's vendor fakes.
//!
//! Each vendor room has a `sandbox.rs` that turns the shared, seeded [`Dataset`] into its
//! own wire records and serves them over its own HTTP shape. What they share lives here:
//!
//! * [`Clock`] — real time, or a fixed / advanceable one for tests;
//! * [`Dataset`] — deterministic calls per hour bucket, generated on demand, so ten
//!   million records can be served without holding them: the same (seed, vendor,
//!   bucket) always yields the same calls;
//! * [`generate`] — realistic pieces: a roster of agents with Chinese names in skill groups
//!   and departments, mainland mobile and landline numbers, talk times, transcripts;
//! * [`Faults`] / [`FaultInjector`] — the `--faults` spec and seeded injection;
//! * [`FakeQuota`] — the vendor's rate limit, as fixed windows;
//! * [`Counters`] — what the fake did (tokens issued, requests, rate-limited…), for tests;
//! * [`FakeContext`] / [`Fake`] — what a vendor's fake is built from and returns.

mod clock;
mod context;
mod dataset;
mod faults;
pub mod generate;
pub mod parse_cost;
mod quota;

pub use clock::Clock;
pub use context::{Counters, Fake, FakeContext, SANDBOX_RECORDINGS_PATH};
pub use dataset::{CallSeed, Dataset, DatasetSpec};
pub use faults::{FaultInjector, FaultKind, Faults, FaultsParseError};
pub use quota::{FakeQuota, QuotaRefusal};

/// A stable 64-bit mix of several numbers (SplitMix64 over the inputs): the basis of
/// every deterministic choice in the sandbox.
pub fn mix(parts: &[u64]) -> u64 {
    let mut h: u64 = 0x9E37_79B9_7F4A_7C15;
    for &p in parts {
        h ^= p;
        h = h.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = h;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        h = z ^ (z >> 31);
    }
    h
}

/// `mix` mapped to `[0, 1)`.
pub fn unit(parts: &[u64]) -> f64 {
    (mix(parts) >> 11) as f64 / (1u64 << 53) as f64
}
