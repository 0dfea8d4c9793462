//! Test doubles for the engine: an in-memory [`Store`] with the same all-or-nothing
//! commit as the real ones (and injectable commit failures), and a fake [`Vendor`]
//! over a seeded `huadan_fakekit::Dataset` with a fixed clock, injectable errors,
//! totals over a cap, pending records, late records and a quota it enforces itself.
#![allow(dead_code)]

use async_trait::async_trait;
use futures::stream::BoxStream;
use huadan_fakekit::{Clock, Dataset, DatasetSpec};
use huadan_model::{CallRecord, Instant, Provider, Transcript, TranscriptStatus};
use huadan_store::{
    Batch, CallFilter, CallPage, CallQuery, GroupBy, SourceStatus, StatsRow, Store, StoreError, SyncState, WriteStats,
};
use huadan_vendor::{
    Cursor, ErrorClass, FetchError, NormalizeError, Page, PlanError, ProbeReport, Quota, Vendor, VendorLimits, Window,
};
use jiff::SignedDuration;
use parking_lot::Mutex;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

// ---------------------------------------------------------------------------------
// Store

#[derive(Default)]
pub struct MemStore {
    inner: Mutex<Inner>,
    /// What `write_lanes` answers (0: the default, one).
    lanes: usize,
    /// How long each commit takes (so that writes in lanes overlap).
    delay: Duration,
}

#[derive(Default)]
struct Inner {
    records: BTreeMap<String, CallRecord>,
    states: BTreeMap<String, SyncState>,
    commits: u64,
    fail_at: BTreeSet<u64>,
    /// How many times each id was inserted as new (must stay 1).
    inserts: BTreeMap<String, u32>,
    /// Sources with a failed commit, and the records written for them since.
    after_failure: BTreeMap<String, usize>,
    /// Commits under way, per source.
    writing: BTreeMap<String, u32>,
    /// The most commits ever under way at once: in all, and of one source.
    max_writing: u32,
    max_writing_one_source: u32,
    /// Commits whose state moved a source's checkpoint backwards.
    checkpoint_regressions: u32,
}

impl MemStore {
    pub fn new() -> Arc<Self> {
        Arc::new(MemStore::default())
    }
    /// A store that takes `delay` per commit and lets callers run `lanes` at once.
    pub fn with_lanes(lanes: usize, delay: Duration) -> Arc<Self> {
        Arc::new(MemStore { lanes, delay, ..MemStore::default() })
    }
    /// The most commits under way at once: `(in all, of one source)`.
    pub fn max_writing(&self) -> (u32, u32) {
        let i = self.inner.lock();
        (i.max_writing, i.max_writing_one_source)
    }
    /// Commits whose state moved a checkpoint backwards (must stay 0).
    pub fn checkpoint_regressions(&self) -> u32 {
        self.inner.lock().checkpoint_regressions
    }
    /// Make the `n`-th commit from now (1-based) fail, writing nothing.
    pub fn fail_commit_in(&self, n: u64) {
        let mut i = self.inner.lock();
        let at = i.commits + n;
        i.fail_at.insert(at);
    }
    pub fn ids(&self, source: &str) -> BTreeSet<String> {
        self.inner.lock().records.values().filter(|r| r.source == source).map(|r| r.id.clone()).collect()
    }
    pub fn len(&self) -> usize {
        self.inner.lock().records.len()
    }
    pub fn record(&self, id: &str) -> Option<CallRecord> {
        self.inner.lock().records.get(id).cloned()
    }
    pub fn state(&self, source: &str) -> Option<SyncState> {
        self.inner.lock().states.get(source).cloned()
    }
    pub fn max_inserts(&self) -> u32 {
        self.inner.lock().inserts.values().copied().max().unwrap_or(0)
    }
    /// Records of `source` written after one of its commits failed (`None`: none failed).
    pub fn written_after_a_failure(&self, source: &str) -> Option<usize> {
        self.inner.lock().after_failure.get(source).copied()
    }
}

fn same(a: &CallRecord, b: &CallRecord) -> bool {
    let mut a = a.clone();
    let mut b = b.clone();
    a.synced_at = None;
    b.synced_at = None;
    a == b
}

#[async_trait]
impl Store for MemStore {
    fn write_lanes(&self) -> usize {
        self.lanes.max(1)
    }
    async fn commit(&self, batch: Batch) -> Result<WriteStats, StoreError> {
        if !self.delay.is_zero() {
            {
                let mut i = self.inner.lock();
                let n = {
                    let n = i.writing.entry(batch.source.clone()).or_insert(0);
                    *n += 1;
                    *n
                };
                let all = i.writing.values().sum();
                i.max_writing = i.max_writing.max(all);
                i.max_writing_one_source = i.max_writing_one_source.max(n);
            }
            tokio::time::sleep(self.delay).await;
            if let Some(n) = self.inner.lock().writing.get_mut(&batch.source) {
                *n -= 1;
            }
        }
        let mut i = self.inner.lock();
        i.commits += 1;
        let n = i.commits;
        if i.fail_at.remove(&n) {
            i.after_failure.entry(batch.source.clone()).or_insert(0);
            return Err(StoreError::Db("injected commit failure".into()));
        }
        if let Some(after) = i.after_failure.get_mut(&batch.source) {
            *after += batch.records.len();
        }
        let mut stats = WriteStats::default();
        for r in batch.records {
            match i.records.get(&r.id) {
                None => {
                    stats.inserted += 1;
                    *i.inserts.entry(r.id.clone()).or_insert(0) += 1;
                    i.records.insert(r.id.clone(), r);
                }
                Some(old) if same(old, &r) => stats.unchanged += 1,
                Some(_) => {
                    stats.updated += 1;
                    i.records.insert(r.id.clone(), r);
                }
            }
        }
        if let Some(s) = batch.state {
            let before = i.states.get(&batch.source).and_then(|s| s.checkpoint);
            if before.is_some_and(|b| s.checkpoint.is_none_or(|c| c < b)) {
                i.checkpoint_regressions += 1;
            }
            i.states.insert(batch.source.clone(), s);
        }
        Ok(stats)
    }
    async fn load_state(&self, source: &str) -> Result<Option<SyncState>, StoreError> {
        Ok(self.inner.lock().states.get(source).cloned())
    }
    async fn sources(&self) -> Result<Vec<SourceStatus>, StoreError> {
        let i = self.inner.lock();
        Ok(i.states
            .values()
            .map(|s| SourceStatus {
                state: s.clone(),
                records: i.records.values().filter(|r| r.source == s.source).count() as u64,
            })
            .collect())
    }
    async fn calls(&self, _q: &CallQuery) -> Result<CallPage, StoreError> {
        Err(StoreError::Db("not supported by the test store".into()))
    }
    async fn call(&self, id: &str) -> Result<Option<CallRecord>, StoreError> {
        Ok(self.inner.lock().records.get(id).cloned())
    }
    async fn count(&self, _f: &CallFilter) -> Result<u64, StoreError> {
        Ok(self.inner.lock().records.len() as u64)
    }
    async fn stats(
        &self,
        _f: &CallFilter,
        _by: GroupBy,
        _tz: &jiff::tz::TimeZone,
    ) -> Result<Vec<StatsRow>, StoreError> {
        Err(StoreError::Db("not supported by the test store".into()))
    }
    fn export(&self, _f: CallFilter) -> BoxStream<'static, Result<CallRecord, StoreError>> {
        Box::pin(futures::stream::empty())
    }
}

// ---------------------------------------------------------------------------------
// Vendor

/// Decides, per request, whether to answer with an error instead.
pub type Injector = Box<dyn Fn(&Call) -> Option<FetchError> + Send + Sync>;

/// One request the fake received.
#[derive(Debug, Clone)]
pub struct Call {
    pub n: u64,
    pub at: std::time::Instant,
    pub window: Window,
    pub offset: u64,
}

pub struct FakeVendor {
    pub name: String,
    pub provider: Provider,
    pub dataset: Dataset,
    pub limits: VendorLimits,
    pub page_size: usize,
    /// Probability a record's transcript stays pending for a while.
    pub pending: f64,
    pub latency: Duration,
    pub inject: Mutex<Option<Injector>>,
    pub calls: Mutex<Vec<Call>>,
    pub resets: AtomicU32,
    pub requests: AtomicU64,
    /// Requests that would have paged past `max_records_per_query` (must stay 0).
    pub beyond_cap: AtomicU64,
    /// Requests over the quota in some one-second window, as the vendor counts.
    pub over_quota: AtomicU64,
    /// Requests being answered right now, and the most ever at once.
    pub in_flight: AtomicU64,
    pub max_in_flight: AtomicU64,
}

pub fn t(s: &str) -> Instant {
    s.parse().unwrap()
}

pub const NOW: &str = "2024-06-15T04:00:00Z";

pub fn dataset(days: u32, calls_per_day: u32, late: f64) -> Dataset {
    let spec = DatasetSpec { seed: 7, days, calls_per_day, late, update: 0.0 };
    Dataset::new(spec, Clock::fixed(t(NOW)))
}

pub fn limits() -> VendorLimits {
    VendorLimits {
        max_span: SignedDuration::from_hours(24 * 30),
        min_span: SignedDuration::from_secs(1),
        max_records_per_query: None,
        max_age: None,
        default_lookback: SignedDuration::from_mins(30),
        quota: Quota::default(),
        settle_within: None,
    }
}

impl FakeVendor {
    pub fn new(name: &str, dataset: Dataset, limits: VendorLimits) -> Self {
        FakeVendor {
            name: name.into(),
            provider: Provider::TencentCcc,
            dataset,
            limits,
            page_size: 100,
            pending: 0.0,
            latency: Duration::ZERO,
            inject: Mutex::new(None),
            calls: Mutex::new(Vec::new()),
            resets: AtomicU32::new(0),
            requests: AtomicU64::new(0),
            beyond_cap: AtomicU64::new(0),
            over_quota: AtomicU64::new(0),
            in_flight: AtomicU64::new(0),
            max_in_flight: AtomicU64::new(0),
        }
    }

    pub fn set_inject(&self, f: impl Fn(&Call) -> Option<FetchError> + Send + Sync + 'static) {
        *self.inject.lock() = Some(Box::new(f));
    }

    pub fn clear_inject(&self) {
        *self.inject.lock() = None;
    }

    /// Every record id visible now in `[start, end)`.
    pub fn expected_ids(&self, start: Instant, end: Instant) -> BTreeSet<String> {
        self.dataset.calls_between(self.provider, start, end).map(|c| format!("{}:{}", self.name, c.key)).collect()
    }

    fn settles_at(&self, seed: &huadan_fakekit::CallSeed) -> Option<Instant> {
        self.dataset.settles_at(seed, self.pending, 600, 1800, 11)
    }
}

pub fn vendor_error(code: &str, class: ErrorClass) -> FetchError {
    FetchError::Vendor { code: code.into(), message: format!("injected {code}"), meaning: None, class }
}

#[async_trait]
impl Vendor for FakeVendor {
    fn provider(&self) -> Provider {
        self.provider
    }
    fn source(&self) -> &str {
        &self.name
    }
    fn limits(&self) -> &VendorLimits {
        &self.limits
    }
    fn plan(&self, range: Window, now: Instant) -> Result<Vec<Window>, PlanError> {
        huadan_vendor::default_plan(&self.limits, range, now)
    }
    async fn fetch(&self, window: &Window, cursor: Option<&Cursor>) -> Result<Page, FetchError> {
        let offset = cursor.and_then(|c| c.0.as_u64()).unwrap_or(0);
        let n = self.requests.fetch_add(1, Ordering::SeqCst) + 1;
        let call = Call { n, at: std::time::Instant::now(), window: *window, offset };
        {
            let mut calls = self.calls.lock();
            calls.push(call.clone());
            if let Some(rate) = self.limits.quota.rate_per_second() {
                // The vendor's own count: requests within the last second, sliding.
                let horizon = call.at - Duration::from_secs(1);
                let recent = calls.iter().rev().take_while(|c| c.at > horizon).count();
                if recent as f64 > rate.floor() {
                    self.over_quota.fetch_add(1, Ordering::SeqCst);
                }
            }
        }
        if !self.latency.is_zero() {
            let now_in = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
            self.max_in_flight.fetch_max(now_in, Ordering::SeqCst);
            tokio::time::sleep(self.latency).await;
            self.in_flight.fetch_sub(1, Ordering::SeqCst);
        }
        if let Some(e) = self.inject.lock().as_ref().and_then(|f| f(&call)) {
            return Err(e);
        }
        if let Some(cap) = self.limits.max_records_per_query
            && offset >= cap
        {
            self.beyond_cap.fetch_add(1, Ordering::SeqCst);
            return Err(vendor_error("PageBeyondCap", ErrorClass::Fatal));
        }
        let now = self.dataset.now();
        let total = self.dataset.count_between(self.provider, window.start, window.end);
        let seeds = self.dataset.page(self.provider, window.start, window.end, offset, self.page_size);
        let records: Vec<CallRecord> = seeds
            .iter()
            .map(|c| {
                let mut r = CallRecord::new(&self.name, self.provider, &c.key.to_string(), c.at);
                if self.pending > 0.0 {
                    let status = match self.settles_at(c) {
                        Some(at) if at > now => TranscriptStatus::Pending,
                        _ => TranscriptStatus::Done,
                    };
                    r.transcript = Some(Transcript { status, sentences: Vec::new() });
                }
                r.raw = serde_json::json!({ "key": c.key.to_string() }).into();
                r
            })
            .collect();
        let next_offset = offset + records.len() as u64;
        let next = (next_offset < total && !records.is_empty()).then(|| Cursor(serde_json::json!(next_offset)));
        Ok(Page { records, next, total: Some(total) })
    }
    fn normalize(&self, raw: &serde_json::Value) -> Result<CallRecord, NormalizeError> {
        Err(NormalizeError(format!("not supported: {raw}")))
    }
    async fn reset_auth(&self) {
        self.resets.fetch_add(1, Ordering::SeqCst);
    }
    async fn probe(&self) -> Result<ProbeReport, FetchError> {
        Ok(ProbeReport { detail: "ok".into() })
    }
}
