//! The seeded dataset: how many calls each hour holds and when each one happened,
//! computed per hour bucket on demand.
//!
//! A call's *query time* is the instant the vendor's list API filters on (call start
//! for most vendors, the speech-to-text creation time for Tanma). Calls exist for the
//! hours from `days` days before the dataset's anchor up to now; a call is visible once
//! the clock has passed its [`Dataset::visible_at`] (late-arriving calls later than
//! their query time).

use crate::{Clock, mix, unit};
use huadan_model::{Instant, Provider, time::GMT8};
use jiff::SignedDuration;
use parking_lot::Mutex;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::sync::Arc;

const HOUR: i64 = 3600;
/// At most this many generated buckets are kept (per dataset, all vendors together)…
const CACHE_BUCKETS: usize = 64;
/// …and at most this many slots in them (24 bytes each: about 6 MB), so memory stays
/// bounded however large the dataset.
const CACHE_SLOTS: usize = 256 * 1024;

/// The parameters of a dataset (`--seed`, `--days`, `--calls-per-day`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DatasetSpec {
    /// Seed for everything.
    pub seed: u64,
    /// How many days of history before now.
    pub days: u32,
    /// Average calls per day per vendor (weekdays more, weekends fewer).
    pub calls_per_day: u32,
    /// Probability a call arrives late (`--faults late=P`).
    pub late: f64,
    /// Probability a call changes after it was first served (`--faults update=P`).
    pub update: f64,
}

impl Default for DatasetSpec {
    fn default() -> Self {
        DatasetSpec { seed: 42, days: 30, calls_per_day: 200, late: 0.0, update: 0.0 }
    }
}

/// One generated call: its deterministic key, its query time, and an RNG seeded for it
/// alone, from which the vendor's fake draws every other field.
#[derive(Debug, Clone)]
pub struct CallSeed {
    /// Unique within (seed, vendor): stable across runs.
    pub key: u64,
    /// The instant the vendor's list API filters on.
    pub at: Instant,
    /// Position within its hour bucket (0-based).
    pub index: u32,
    /// The call's own random stream.
    pub rng: ChaCha8Rng,
}

/// A deterministic, lazily generated set of calls per vendor.
#[derive(Debug, Clone)]
pub struct Dataset {
    spec: DatasetSpec,
    clock: Clock,
    origin: Instant,
    /// Recently generated buckets (shared by clones): paging through a window asks for
    /// the same edge buckets on every request.
    cache: Arc<Mutex<SlotCache>>,
}

/// Relative call volume per GMT+8 hour of day: quiet nights, a morning peak at 10:00,
/// lunch dip, afternoon peak at 15:00–16:00, tail into the evening.
const HOUR_WEIGHTS: [f64; 24] = [
    0.05, 0.03, 0.02, 0.02, 0.02, 0.05, 0.15, 0.4, 1.1, 1.9, 2.3, 2.1, 1.2, 1.0, 1.9, 2.2, 2.1, 1.6, 1.0, 0.6, 0.45,
    0.3, 0.15, 0.08,
];
/// Monday..Sunday volume factors.
const WEEKDAY_WEIGHTS: [f64; 7] = [1.15, 1.1, 1.05, 1.05, 1.0, 0.4, 0.25];

impl Dataset {
    /// A dataset covering `spec.days` whole GMT+8 days before today, and today up to now.
    pub fn new(spec: DatasetSpec, clock: Clock) -> Self {
        let now = clock.now();
        let today = huadan_model::time::gmt8_date(now);
        let origin = huadan_model::time::gmt8_day_start(today) - SignedDuration::from_hours(24 * spec.days as i64);
        Dataset { spec, clock, origin, cache: Arc::default() }
    }

    /// The parameters.
    pub fn spec(&self) -> &DatasetSpec {
        &self.spec
    }

    /// The clock the fakes read.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// Now, by the dataset's clock.
    pub fn now(&self) -> Instant {
        self.clock.now()
    }

    /// The first instant that can hold a call.
    pub fn origin(&self) -> Instant {
        self.origin
    }

    fn salt(p: Provider) -> u64 {
        p as u64 + 1
    }

    fn bucket_start(t: Instant) -> i64 {
        t.as_second().div_euclid(HOUR) * HOUR
    }

    /// How many calls the hour starting at `bucket` (unix seconds, hour-aligned) holds,
    /// whether or not they are visible yet. Cheap: no call is generated.
    pub fn bucket_count(&self, p: Provider, bucket: i64) -> u32 {
        let Ok(t) = Instant::from_second(bucket) else { return 0 };
        if t < self.origin {
            return 0;
        }
        // GMT+8 is a fixed offset: hour of day and weekday are plain arithmetic
        // (1970-01-01 was a Thursday, Monday-zero offset 3).
        let local = t.as_second() + i64::from(GMT8.seconds());
        let hour_w = HOUR_WEIGHTS[local.div_euclid(HOUR).rem_euclid(24) as usize];
        let day_w = WEEKDAY_WEIGHTS[(local.div_euclid(24 * HOUR) + 3).rem_euclid(7) as usize];
        let mean_weight = HOUR_WEIGHTS.iter().sum::<f64>() * WEEKDAY_WEIGHTS.iter().sum::<f64>() / 7.0;
        let expected = self.spec.calls_per_day as f64 * hour_w * day_w / mean_weight;
        // ±20 % deterministic noise per bucket, rounded stochastically.
        let noise = 0.8 + 0.4 * unit(&[self.spec.seed, Self::salt(p), bucket as u64, 1]);
        let x = expected * noise;
        let frac = unit(&[self.spec.seed, Self::salt(p), bucket as u64, 2]);
        (x.floor() + if frac < x.fract() { 1.0 } else { 0.0 }) as u32
    }

    /// The calls of one hour bucket, ordered by query time then key (visible or not).
    pub fn bucket_calls(&self, p: Provider, bucket: i64) -> Vec<CallSeed> {
        self.bucket_slots(p, bucket).iter().copied().map(Slot::seed).collect()
    }

    /// The calls (visible or not) whose query time is the whole second `second`, in
    /// the order [`Dataset::bucket_calls`] gives them: the same-second neighbours of a
    /// call without building its whole bucket.
    pub fn calls_at_second(&self, p: Provider, second: i64) -> Vec<CallSeed> {
        let slots = self.bucket_slots(p, second.div_euclid(HOUR) * HOUR);
        let (lo, hi) = in_range(&slots, second, second.saturating_add(1));
        slots[lo..hi].iter().copied().map(Slot::seed).collect()
    }

    /// The compact form of a bucket: `(query time, key, index)` sorted, with no RNG
    /// built yet. Counting, skipping and filtering work on these; only the calls
    /// actually returned get their RNG. Served from a small bounded cache when the
    /// bucket was generated recently.
    fn bucket_slots(&self, p: Provider, bucket: i64) -> Arc<[Slot]> {
        let salt = Self::salt(p);
        if let Some(hit) = self.cache.lock().get(salt, bucket) {
            return hit;
        }
        let slots: Arc<[Slot]> = self.generate_slots(p, bucket).into();
        self.cache.lock().put(salt, bucket, slots.clone());
        slots
    }

    fn generate_slots(&self, p: Provider, bucket: i64) -> Vec<Slot> {
        let n = self.bucket_count(p, bucket);
        let mut out: Vec<Slot> = (0..n)
            .map(|index| {
                let key = mix(&[self.spec.seed, Self::salt(p), bucket as u64, index as u64]);
                let offset = (mix(&[key, 3]) % HOUR as u64) as i64;
                Slot { at: bucket + offset, key, index }
            })
            .collect();
        out.sort_unstable_by(|a, b| a.at.cmp(&b.at).then(a.key.cmp(&b.key)));
        out
    }

    /// When a call becomes visible: its query time, or later for a late-arriving call
    /// (`late` probability; 2 to 20 minutes late).
    pub fn visible_at(&self, seed: &CallSeed) -> Instant {
        Instant::from_second(self.visible_second(seed.key, seed.at.as_second())).unwrap_or(seed.at)
    }

    fn visible_second(&self, key: u64, at: i64) -> i64 {
        if self.spec.late > 0.0 && unit(&[key, 4]) < self.spec.late {
            at + 120 + (mix(&[key, 5]) % 1080) as i64
        } else {
            at
        }
    }

    /// For a call that changes after it was first served (`update` probability), the
    /// instant its second version appears (1 to 30 minutes after it became visible);
    /// `None` for calls that never change by fault. Vendors with inherent changes
    /// (pending transcripts) use [`Dataset::settles_at`] with their own probability.
    pub fn updated_at(&self, seed: &CallSeed) -> Option<Instant> {
        self.settles_at(seed, self.spec.update, 60, 1800, 6)
    }

    /// Deterministically decide with probability `p` whether a call changes later, and
    /// if so when: between `min_s` and `max_s` seconds after it became visible. `salt`
    /// keeps independent decisions independent.
    pub fn settles_at(&self, seed: &CallSeed, p: f64, min_s: i64, max_s: i64, salt: u64) -> Option<Instant> {
        if p <= 0.0 || unit(&[seed.key, salt]) >= p {
            return None;
        }
        let span = (max_s - min_s).max(1) as u64;
        let delay = min_s + (mix(&[seed.key, salt, 7]) % span) as i64;
        self.visible_at(seed).checked_add(SignedDuration::from_secs(delay)).ok()
    }

    /// Whether a call is visible now.
    pub fn is_visible(&self, seed: &CallSeed, now: Instant) -> bool {
        self.visible_at(seed) <= now
    }

    /// The hour buckets overlapping `[start, end)`, clamped to the dataset's existence.
    fn buckets(&self, start: Instant, end: Instant) -> impl Iterator<Item = i64> + use<> {
        let lo = Self::bucket_start(start.max(self.origin));
        let hi = end.min(self.now().checked_add(SignedDuration::from_hours(1)).unwrap_or(end)).as_second();
        (0..).map(move |i| lo + i * HOUR).take_while(move |b| *b < hi)
    }

    /// Whether every call of bucket `b` lies in `[start, end)` and is visible by `now`
    /// (so that its count can be used without generating it).
    fn whole(&self, b: i64, start: i64, end: i64, now: i64) -> bool {
        // A late call is at most 20 minutes late.
        b >= start && b + HOUR <= end && b + HOUR + 20 * 60 <= now
    }

    /// The index range of bucket `b`'s slots with time in `[s, e)` that may be visible
    /// by `now`, and whether all of them are (no late calls: visible once their time
    /// has come; else only once the bucket ended more than the longest delay ago).
    fn candidates(&self, slots: &[Slot], b: i64, s: i64, e: i64, now: i64) -> (usize, usize, bool) {
        if self.spec.late <= 0.0 {
            let (lo, hi) = in_range(slots, s, e.min(now.saturating_add(1)));
            (lo, hi, true)
        } else {
            let (lo, hi) = in_range(slots, s, e);
            (lo, hi, b + HOUR + 20 * 60 <= now)
        }
    }

    /// Every call visible now with query time in `[start, end)`, in time order,
    /// generated bucket by bucket as the iterator advances.
    pub fn calls_between(&self, p: Provider, start: Instant, end: Instant) -> impl Iterator<Item = CallSeed> + '_ {
        let now = self.now().as_second();
        let (s, e) = (start.as_second(), end.as_second());
        self.buckets(start, end)
            .flat_map(move |b| {
                let slots = self.bucket_slots(p, b);
                let (lo, hi) = in_range(&slots, s, e);
                (lo..hi).map(move |i| slots[i])
            })
            .filter(move |c| self.visible_second(c.key, c.at) <= now)
            .map(Slot::seed)
    }

    /// How many calls [`Dataset::calls_between`] would yield, generating only the
    /// buckets cut by the range edges or holding late calls.
    pub fn count_between(&self, p: Provider, start: Instant, end: Instant) -> u64 {
        let now = self.now().as_second();
        let (s, e) = (start.as_second(), end.as_second());
        let mut total = 0u64;
        for b in self.buckets(start, end) {
            if self.whole(b, s, e, now) {
                total += self.bucket_count(p, b) as u64;
            } else {
                let slots = self.bucket_slots(p, b);
                let (lo, hi, all_visible) = self.candidates(&slots, b, s, e, now);
                total += if all_visible {
                    (hi - lo) as u64
                } else {
                    slots[lo..hi].iter().filter(|c| self.visible_second(c.key, c.at) <= now).count() as u64
                };
            }
        }
        total
    }

    /// The calls at positions `offset .. offset + limit` of [`Dataset::calls_between`],
    /// skipping whole buckets by count so that a deep page costs little.
    pub fn page(&self, p: Provider, start: Instant, end: Instant, offset: u64, limit: usize) -> Vec<CallSeed> {
        let now = self.now().as_second();
        let (s, e) = (start.as_second(), end.as_second());
        let mut skipped = 0u64;
        let mut out = Vec::with_capacity(limit);
        for b in self.buckets(start, end) {
            if out.len() >= limit {
                break;
            }
            if self.whole(b, s, e, now) && skipped < offset {
                let n = self.bucket_count(p, b) as u64;
                if skipped + n <= offset {
                    skipped += n;
                    continue;
                }
            }
            let slots = self.bucket_slots(p, b);
            let (mut lo, hi, all_visible) = self.candidates(&slots, b, s, e, now);
            if all_visible && skipped < offset {
                // Every call in range is visible: skip by position, not one by one.
                let n = ((offset - skipped) as usize).min(hi - lo);
                skipped += n as u64;
                lo += n;
            }
            for &c in &slots[lo..hi] {
                if self.visible_second(c.key, c.at) > now {
                    continue;
                }
                if skipped < offset {
                    skipped += 1;
                    continue;
                }
                if out.len() >= limit {
                    break;
                }
                out.push(c.seed());
            }
        }
        out
    }
}

/// A call before its RNG is built: 24 bytes instead of a few hundred.
#[derive(Debug, Clone, Copy)]
struct Slot {
    at: i64,
    key: u64,
    index: u32,
}

/// The index range of the slots (sorted by time) with time in `[s, e)`.
fn in_range(slots: &[Slot], s: i64, e: i64) -> (usize, usize) {
    let lo = slots.partition_point(|c| c.at < s);
    let hi = lo + slots[lo..].partition_point(|c| c.at < e);
    (lo, hi)
}

/// A small least-recently-used cache of generated buckets, bounded in entries and
/// in slots.
#[derive(Debug, Default)]
struct SlotCache {
    entries: Vec<CacheEntry>,
    slots: usize,
    tick: u64,
}

#[derive(Debug)]
struct CacheEntry {
    salt: u64,
    bucket: i64,
    used: u64,
    slots: Arc<[Slot]>,
}

impl SlotCache {
    fn get(&mut self, salt: u64, bucket: i64) -> Option<Arc<[Slot]>> {
        self.tick += 1;
        let tick = self.tick;
        let e = self.entries.iter_mut().find(|e| e.salt == salt && e.bucket == bucket)?;
        e.used = tick;
        Some(e.slots.clone())
    }

    fn put(&mut self, salt: u64, bucket: i64, slots: Arc<[Slot]>) {
        if slots.len() > CACHE_SLOTS / 4 || self.entries.iter().any(|e| e.salt == salt && e.bucket == bucket) {
            return;
        }
        while !self.entries.is_empty()
            && (self.entries.len() >= CACHE_BUCKETS || self.slots + slots.len() > CACHE_SLOTS)
        {
            let Some((oldest, _)) = self.entries.iter().enumerate().min_by_key(|(_, e)| e.used) else { break };
            let gone = self.entries.swap_remove(oldest);
            self.slots -= gone.slots.len();
        }
        self.tick += 1;
        self.slots += slots.len();
        self.entries.push(CacheEntry { salt, bucket, used: self.tick, slots });
    }
}

impl Slot {
    fn seed(self) -> CallSeed {
        CallSeed {
            key: self.key,
            at: Instant::from_second(self.at).unwrap_or(Instant::UNIX_EPOCH),
            index: self.index,
            rng: ChaCha8Rng::seed_from_u64(self.key),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ds(cpd: u32) -> Dataset {
        let spec = DatasetSpec { seed: 7, days: 10, calls_per_day: cpd, late: 0.0, update: 0.0 };
        Dataset::new(spec, Clock::fixed("2024-06-15T04:00:00Z".parse().unwrap()))
    }

    #[test]
    fn same_bucket_same_calls() {
        let a = ds(500);
        let b = ds(500);
        let bucket = a.origin().as_second() + 10 * HOUR;
        let x: Vec<_> = a.bucket_calls(Provider::Wecom, bucket).iter().map(|c| (c.key, c.at)).collect();
        let y: Vec<_> = b.bucket_calls(Provider::Wecom, bucket).iter().map(|c| (c.key, c.at)).collect();
        assert_eq!(x, y);
        assert!(!x.is_empty());
    }

    #[test]
    fn volume_averages_calls_per_day_and_peaks_in_business_hours() {
        let d = ds(1000);
        let total = d.count_between(Provider::TencentCcc, d.origin(), d.now());
        let per_day = total as f64 / 10.5;
        assert!((600.0..1400.0).contains(&per_day), "{per_day}");
        let b10 = d.bucket_count(Provider::TencentCcc, d.origin().as_second() + 10 * HOUR);
        let b3 = d.bucket_count(Provider::TencentCcc, d.origin().as_second() + 3 * 24 * HOUR + 3 * HOUR);
        assert!(b10 > b3 * 5, "10:00 {b10} vs 03:00 {b3}");
    }

    #[test]
    fn paging_matches_iteration_and_count() {
        let d = ds(300);
        let (s, e) = (d.origin() + SignedDuration::from_mins(17), d.now());
        let all: Vec<u64> = d.calls_between(Provider::Tanma, s, e).map(|c| c.key).collect();
        assert_eq!(all.len() as u64, d.count_between(Provider::Tanma, s, e));
        let mut paged = Vec::new();
        let mut off = 0;
        loop {
            let p = d.page(Provider::Tanma, s, e, off, 100);
            if p.is_empty() {
                break;
            }
            off += p.len() as u64;
            paged.extend(p.into_iter().map(|c| c.key));
        }
        assert_eq!(paged, all);
        let mut uniq = all.clone();
        uniq.sort();
        uniq.dedup();
        assert_eq!(uniq.len(), all.len());
    }

    #[test]
    fn bucket_cache_stays_bounded_and_answers_as_generation_does() {
        let d = ds(20_000);
        let first = d.origin().as_second();
        for i in 0..(CACHE_BUCKETS as i64 * 3) {
            let b = first + i * HOUR;
            let cached: Vec<(i64, u64)> = d.bucket_slots(Provider::Wecom, b).iter().map(|c| (c.at, c.key)).collect();
            let fresh: Vec<(i64, u64)> = d.generate_slots(Provider::Wecom, b).iter().map(|c| (c.at, c.key)).collect();
            assert_eq!(cached, fresh);
            let cache = d.cache.lock();
            assert!(cache.entries.len() <= CACHE_BUCKETS && cache.slots <= CACHE_SLOTS);
            assert_eq!(cache.slots, cache.entries.iter().map(|e| e.slots.len()).sum::<usize>());
        }
        assert_eq!(d.cache.lock().entries.len(), CACHE_BUCKETS);
    }

    #[test]
    fn calls_at_second_are_the_bucket_calls_of_that_second() {
        let d = ds(20_000);
        let b = d.origin().as_second() + 34 * HOUR;
        let all = d.bucket_calls(Provider::Wecom, b);
        let mut seen = 0;
        for sec in b..b + HOUR {
            let want: Vec<u64> = all.iter().filter(|c| c.at.as_second() == sec).map(|c| c.key).collect();
            let got: Vec<u64> = d.calls_at_second(Provider::Wecom, sec).iter().map(|c| c.key).collect();
            assert_eq!(got, want, "{sec}");
            seen += got.len();
        }
        assert_eq!(seen, all.len());
        assert!(all.windows(2).any(|w| w[0].at == w[1].at), "some second holds two calls");
    }

    #[test]
    fn bucket_hour_and_weekday_match_the_calendar() {
        let d = ds(1000);
        let tz = jiff::tz::TimeZone::fixed(GMT8);
        for i in 0..(24 * 9) {
            let b = d.origin().as_second() + i * HOUR;
            let local = Instant::from_second(b).unwrap().to_zoned(tz.clone());
            let sec = b + i64::from(GMT8.seconds());
            assert_eq!(sec.div_euclid(HOUR).rem_euclid(24), i64::from(local.hour()));
            assert_eq!(
                (sec.div_euclid(24 * HOUR) + 3).rem_euclid(7),
                i64::from(local.weekday().to_monday_zero_offset())
            );
        }
    }

    #[test]
    fn paging_with_late_calls_matches_iteration() {
        let spec = DatasetSpec { seed: 3, days: 1, calls_per_day: 5000, late: 0.3, update: 0.0 };
        let d = Dataset::new(spec, Clock::fixed("2024-06-15T04:10:00Z".parse().unwrap()));
        let (s, e) = (d.now() - SignedDuration::from_mins(150), d.now());
        let all: Vec<u64> = d.calls_between(Provider::AliyunCcc, s, e).map(|c| c.key).collect();
        assert_eq!(all.len() as u64, d.count_between(Provider::AliyunCcc, s, e));
        let mut paged = Vec::new();
        for off in (0..all.len() as u64 + 100).step_by(37) {
            paged.extend(d.page(Provider::AliyunCcc, s, e, off, 37).into_iter().map(|c| c.key));
        }
        assert_eq!(paged, all);
    }

    #[test]
    fn calls_after_now_are_not_counted_until_their_time() {
        let spec = DatasetSpec { seed: 2, days: 1, calls_per_day: 20000, late: 0.0, update: 0.0 };
        let clock = Clock::fixed("2024-06-15T04:10:00Z".parse().unwrap());
        let d = Dataset::new(spec, clock.clone());
        let (s, e) = (d.now() - SignedDuration::from_hours(1), d.now() + SignedDuration::from_hours(1));
        let before = d.count_between(Provider::Wecom, s, e);
        assert_eq!(before, d.calls_between(Provider::Wecom, s, e).count() as u64);
        assert!(d.page(Provider::Wecom, s, e, 0, 100_000).iter().all(|c| c.at <= d.now()));
        clock.advance(SignedDuration::from_mins(10));
        let after = d.count_between(Provider::Wecom, s, e);
        assert!(after > before + 50, "{before} -> {after}");
        assert_eq!(after as usize, d.page(Provider::Wecom, s, e, 0, 100_000).len());
    }

    #[test]
    fn late_calls_appear_after_their_delay() {
        let spec = DatasetSpec { seed: 1, days: 1, calls_per_day: 20000, late: 0.5, update: 0.0 };
        let clock = Clock::fixed("2024-06-15T04:00:00Z".parse().unwrap());
        let d = Dataset::new(spec, clock.clone());
        let (s, e) = (d.now() - SignedDuration::from_hours(1), d.now());
        let before = d.count_between(Provider::TencentAds, s, e);
        clock.advance(SignedDuration::from_mins(30));
        let after = d.count_between(Provider::TencentAds, s, e);
        assert!(after > before, "{before} -> {after}");
    }
}
