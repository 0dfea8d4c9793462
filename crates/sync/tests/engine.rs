//! The engine against a fake vendor over a seeded dataset with a fixed clock: exact
//! backfills, lookback, bisection, retries, open windows, the checkpoint, the limiter.

mod support;

use huadan_config::Config;
use huadan_store::DynStore;
use huadan_sync::{Engine, EngineOptions, NoProgress, RetryPolicy, SyncOptions};
use huadan_vendor::{DynVendor, ErrorClass, FetchError, Quota};
use jiff::SignedDuration;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use support::*;

fn fast_policy() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 4,
        base_delay: Duration::from_millis(2),
        max_delay: Duration::from_millis(20),
        max_rate_limited: 10,
        max_refreshes: 3,
    }
}

fn config(backfill_days: u32) -> Config {
    let mut c = Config::default();
    c.sync.backfill_days = backfill_days;
    c
}

fn engine(store: &Arc<MemStore>, vendors: Vec<Arc<FakeVendor>>, backfill_days: u32) -> Engine {
    let clock = vendors[0].dataset.clock().clone();
    let store: DynStore = store.clone();
    let vendors: Vec<DynVendor> = vendors.into_iter().map(|v| v as DynVendor).collect();
    Engine::with_vendors(&config(backfill_days), store, vendors).with_options(EngineOptions {
        retry: fast_policy(),
        now: Some(Arc::new(move || clock.now())),
        ..Default::default()
    })
}

async fn run(e: &Engine) -> huadan_sync::SyncReport {
    tokio::time::timeout(Duration::from_secs(60), e.run(&SyncOptions::default(), &NoProgress)).await.unwrap()
}

fn backfill_start(v: &FakeVendor, days: i64) -> huadan_model::Instant {
    v.dataset.now() - SignedDuration::from_hours(24 * days)
}

#[tokio::test]
async fn full_backfill_is_exact_and_second_run_adds_nothing() {
    let v = Arc::new(FakeVendor::new("ccc", dataset(3, 3000, 0.0), limits()));
    let store = MemStore::new();
    let e = engine(&store, vec![v.clone()], 3);
    let r = run(&e).await;
    assert!(r.all_ok(), "{r:?}");
    let expected = v.expected_ids(backfill_start(&v, 3), v.dataset.now());
    assert!(expected.len() > 5000, "{}", expected.len());
    assert_eq!(store.ids("ccc"), expected);
    assert_eq!(r.sources[0].inserted as usize, expected.len());
    assert_eq!(store.max_inserts(), 1);
    let state = store.state("ccc").unwrap();
    assert_eq!(state.checkpoint, Some(v.dataset.now()));
    assert!(state.open_windows.is_empty());
    assert!(state.last_success.is_some() && state.last_error.is_none());

    let before = v.requests.load(Ordering::SeqCst);
    let r2 = run(&e).await;
    assert!(r2.all_ok());
    assert_eq!((r2.sources[0].inserted, r2.sources[0].updated), (0, 0));
    // Only the lookback was read again: one window, a page or so.
    assert!(v.requests.load(Ordering::SeqCst) - before <= 3);
    assert_eq!(store.ids("ccc"), expected);
}

#[tokio::test]
async fn late_arriving_records_are_caught_by_lookback() {
    let v = Arc::new(FakeVendor::new("late", dataset(1, 20000, 0.3), limits()));
    let store = MemStore::new();
    let e = engine(&store, vec![v.clone()], 1);
    assert!(run(&e).await.all_ok());
    let start = backfill_start(&v, 1);
    let first = store.ids("late").len();
    // Half an hour later, calls of the last half hour have arrived late.
    v.dataset.clock().advance(SignedDuration::from_mins(25));
    let now_visible = v.expected_ids(start, v.dataset.now() - SignedDuration::from_mins(25));
    assert!(now_visible.len() > first, "the dataset must hold late calls");
    let r = run(&e).await;
    assert!(r.all_ok());
    let expected = v.expected_ids(start, v.dataset.now());
    assert_eq!(store.ids("late"), expected);
    assert!(r.sources[0].inserted > 0);
}

#[tokio::test]
async fn window_over_the_cap_is_bisected_until_it_fits() {
    let mut l = limits();
    l.max_records_per_query = Some(400);
    let v = Arc::new(FakeVendor::new("capped", dataset(2, 4000, 0.0), l));
    let store = MemStore::new();
    let e = engine(&store, vec![v.clone()], 2);
    let r = run(&e).await;
    assert!(r.all_ok(), "{r:?}");
    assert_eq!(v.beyond_cap.load(Ordering::SeqCst), 0, "never paged past the cap");
    assert_eq!(store.ids("capped"), v.expected_ids(backfill_start(&v, 2), v.dataset.now()));
}

#[tokio::test]
async fn unsplittable_window_over_the_cap_is_recorded_not_truncated() {
    let mut l = limits();
    l.max_records_per_query = Some(50);
    l.min_span = SignedDuration::from_hours(24);
    l.max_span = SignedDuration::from_hours(24);
    let v = Arc::new(FakeVendor::new("daily", dataset(2, 3000, 0.0), l));
    let store = MemStore::new();
    let e = engine(&store, vec![v.clone()], 2);
    let r = run(&e).await;
    assert!(!r.all_ok());
    let err = r.sources[0].error.clone().unwrap();
    assert!(err.contains("cannot be split further"), "{err}");
    let state = store.state("daily").unwrap();
    assert!(state.open_windows.iter().all(|o| o.reason == "failed" && o.error.is_some()));
    assert!(!state.open_windows.is_empty());
    // The checkpoint never passes a failed window.
    let first_failed = state.open_windows.iter().map(|o| o.start).min().unwrap();
    assert!(state.checkpoint.is_none_or(|c| c <= first_failed));
    assert_eq!(v.beyond_cap.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn transient_errors_are_retried_and_the_result_is_exact() {
    let v = Arc::new(FakeVendor::new("flaky", dataset(2, 3000, 0.0), limits()));
    // About one request in four fails, seeded, in any order the workers make them.
    v.set_inject(|c| match huadan_fakekit::mix(&[9, c.n]) % 8 {
        0 => Some(FetchError::Http { status: 500, snippet: "<html>".into() }),
        1 => Some(FetchError::Timeout(Duration::from_millis(10))),
        _ => None,
    });
    let store = MemStore::new();
    let mut e = engine(&store, vec![v.clone()], 2);
    let clock = v.dataset.clock().clone();
    e = e.with_options(EngineOptions {
        retry: RetryPolicy { max_attempts: 10, ..fast_policy() },
        now: Some(Arc::new(move || clock.now())),
        ..Default::default()
    });
    let r = run(&e).await;
    assert!(r.all_ok(), "{r:?}");
    assert!(r.sources[0].retries > 10 && r.sources[0].errors > 10);
    assert_eq!(store.ids("flaky"), v.expected_ids(backfill_start(&v, 2), v.dataset.now()));
}

#[tokio::test]
async fn window_that_keeps_failing_is_recorded_and_retried_next_run() {
    let v = Arc::new(FakeVendor::new("stuck", dataset(3, 500, 0.0), limits()));
    let store = MemStore::new();
    let clock = v.dataset.clock().clone();
    let cfg = config(3);
    let sstore: DynStore = store.clone();
    let e = Engine::with_vendors(&cfg, sstore, vec![v.clone() as DynVendor]).with_options(EngineOptions {
        retry: fast_policy(),
        unlimited_chunk: SignedDuration::from_hours(12),
        now: Some(Arc::new(move || clock.now())),
        ..Default::default()
    });
    // Every request for the third 12-hour window fails.
    let bad_start = backfill_start(&v, 3) + SignedDuration::from_hours(24);
    v.set_inject(move |c| (c.window.start == bad_start).then(|| FetchError::Transport("connection reset".into())));
    let r = run(&e).await;
    assert!(!r.all_ok());
    assert!(r.sources[0].error.as_ref().unwrap().contains("will be retried"), "{r:?}");
    let state = store.state("stuck").unwrap();
    assert_eq!(state.open_windows.len(), 1);
    let open = &state.open_windows[0];
    assert_eq!((open.start, open.reason.as_str()), (bad_start, "failed"));
    assert!(open.error.as_ref().unwrap().contains("connection reset"));
    assert_eq!(state.checkpoint, Some(bad_start), "checkpoint stops before the failed window");
    assert!(state.last_error.is_some());

    v.clear_inject();
    let r = run(&e).await;
    assert!(r.all_ok(), "{r:?}");
    let state = store.state("stuck").unwrap();
    assert!(state.open_windows.is_empty());
    assert_eq!(state.checkpoint, Some(v.dataset.now()));
    assert_eq!(store.ids("stuck"), v.expected_ids(backfill_start(&v, 3), v.dataset.now()));
}

#[tokio::test]
async fn stale_tokens_are_refreshed_and_only_a_persistent_refusal_is_fatal() {
    let good = Arc::new(FakeVendor::new("good", dataset(1, 1000, 0.0), limits()));
    good.set_inject(|c| (c.n == 2).then(|| vendor_error("42001", ErrorClass::RefreshAuth)));
    // A token revoked again right after its refresh (two stale answers in a row, as a
    // fault-injecting vendor produces now and then) is still not a bad secret.
    let twice = Arc::new(FakeVendor::new("twice", dataset(1, 1000, 0.0), limits()));
    let first = std::sync::Mutex::new(None::<(huadan_vendor::Window, u32)>);
    twice.set_inject(move |c| {
        // The first request of the first window and its retry after the refresh.
        let mut f = first.lock().unwrap();
        let (w, seen) = f.get_or_insert((c.window, 0));
        (*w == c.window && c.offset == 0 && *seen < 2).then(|| {
            *seen += 1;
            vendor_error("42001", ErrorClass::RefreshAuth)
        })
    });
    let bad = Arc::new(FakeVendor::new("bad", dataset(1, 1000, 0.0), limits()));
    bad.set_inject(|_| Some(vendor_error("40001", ErrorClass::RefreshAuth)));
    let store = MemStore::new();
    let e = engine(&store, vec![good.clone(), twice.clone(), bad.clone()], 1);
    let r = run(&e).await;
    assert!(r.sources[0].ok, "{r:?}");
    assert_eq!(good.resets.load(Ordering::SeqCst), 1);
    assert!(r.sources[1].ok, "{r:?}");
    assert_eq!(twice.resets.load(Ordering::SeqCst), 2);
    assert_eq!(store.ids("twice"), twice.expected_ids(backfill_start(&twice, 1), twice.dataset.now()));
    assert!(!r.sources[2].ok);
    assert!(r.sources[2].error.as_ref().unwrap().contains("40001"));
    assert_eq!(bad.resets.load(Ordering::SeqCst), 3, "three refreshes in a row, then fatal");
    assert_eq!(bad.requests.load(Ordering::SeqCst), 4);
    assert_eq!(store.ids("good"), good.expected_ids(backfill_start(&good, 1), good.dataset.now()));
    assert!(store.ids("bad").is_empty());
    assert!(store.state("bad").unwrap().last_error.unwrap().contains("40001"));
}

#[tokio::test]
async fn one_fatal_source_never_stops_the_others() {
    let a = Arc::new(FakeVendor::new("a", dataset(2, 2000, 0.0), limits()));
    let b = Arc::new(FakeVendor::new("b", dataset(2, 2000, 0.0), limits()));
    b.set_inject(|c| (c.n > 3).then(|| vendor_error("48002", ErrorClass::Fatal)));
    let store = MemStore::new();
    let e = engine(&store, vec![a.clone(), b.clone()], 2);
    let r = run(&e).await;
    assert!(r.sources[0].ok && !r.sources[1].ok);
    assert!(r.sources[1].error.as_ref().unwrap().contains("48002"));
    assert_eq!(store.ids("a"), a.expected_ids(backfill_start(&a, 2), a.dataset.now()));
    // What b stored before failing is consistent: its checkpoint covers only stored data.
    let sb = store.state("b").unwrap();
    if let Some(cp) = sb.checkpoint {
        let stored = store.ids("b");
        assert!(b.expected_ids(backfill_start(&b, 2), cp).is_subset(&stored));
    }
}

#[tokio::test]
async fn rate_limit_answers_slow_down_and_never_crash() {
    let mut l = limits();
    l.quota = Quota { per_second: Some(400.0), per_minute: None };
    let v = Arc::new(FakeVendor::new("throttled", dataset(1, 3000, 0.0), l));
    v.set_inject(|c| {
        (c.n % 7 == 0).then(|| {
            vendor_error(
                "RequestLimitExceeded",
                ErrorClass::RateLimited { retry_after: Some(Duration::from_millis(30)) },
            )
        })
    });
    let store = MemStore::new();
    let e = engine(&store, vec![v.clone()], 1);
    let r = run(&e).await;
    assert!(r.all_ok(), "{r:?}");
    assert_eq!(store.ids("throttled"), v.expected_ids(backfill_start(&v, 1), v.dataset.now()));
    let stats = store.state("throttled").unwrap().last_run_stats.unwrap();
    assert!(stats["rate_limited"].as_u64().unwrap() > 0);
}

#[tokio::test]
async fn pending_windows_stay_open_until_they_settle() {
    let mut l = limits();
    l.settle_within = Some(SignedDuration::from_hours(6));
    let mut fv = FakeVendor::new("tanma", dataset(1, 3000, 0.0), l);
    fv.pending = 0.05;
    let v = Arc::new(fv);
    let store = MemStore::new();
    let e = engine(&store, vec![v.clone()], 1);
    assert!(run(&e).await.all_ok());
    let state = store.state("tanma").unwrap();
    assert!(!state.open_windows.is_empty(), "recent pending transcripts keep a window open");
    assert!(state.open_windows.iter().all(|o| o.reason == "pending"));
    let pending_before = store.ids("tanma").iter().filter(|id| store.record(id).unwrap().may_change()).count();
    assert!(pending_before > 0);

    // Everything settles within 30 minutes; an hour later the lookback no longer covers
    // the open windows, so only their re-visit can update the records.
    v.dataset.clock().advance(SignedDuration::from_hours(2));
    let r = run(&e).await;
    assert!(r.all_ok(), "{r:?}");
    assert!(r.sources[0].updated as usize >= pending_before, "{r:?}");
    let state = store.state("tanma").unwrap();
    assert!(state.open_windows.is_empty(), "{:?}", state.open_windows);
    assert!(store.ids("tanma").iter().all(|id| !store.record(id).unwrap().may_change()));
}

#[tokio::test]
async fn pending_window_is_dropped_after_the_settle_limit() {
    let mut l = limits();
    l.settle_within = Some(SignedDuration::from_mins(5));
    let mut fv = FakeVendor::new("slow", dataset(1, 3000, 0.0), l);
    fv.pending = 0.05;
    let v = Arc::new(fv);
    let store = MemStore::new();
    let e = engine(&store, vec![v.clone()], 1);
    assert!(run(&e).await.all_ok());
    assert!(!store.state("slow").unwrap().open_windows.is_empty());
    // 9 minutes on, some transcripts are still pending, but the limit has passed.
    v.dataset.clock().advance(SignedDuration::from_mins(9));
    assert!(run(&e).await.all_ok());
    assert!(store.state("slow").unwrap().open_windows.is_empty());
}

#[tokio::test]
async fn checkpoint_never_passes_a_gap_when_windows_finish_out_of_order() {
    let v = Arc::new(FakeVendor::new("gap", dataset(2, 2000, 0.0), limits()));
    let store = MemStore::new();
    let clock = v.dataset.clock().clone();
    let sstore: DynStore = store.clone();
    let e = Engine::with_vendors(&config(2), sstore, vec![v.clone() as DynVendor]).with_options(EngineOptions {
        retry: fast_policy(),
        workers: 4,
        unlimited_chunk: SignedDuration::from_hours(3),
        now: Some(Arc::new(move || clock.now())),
        ..Default::default()
    });
    // The first window is slow and then fails for good: later windows finish first.
    let first = backfill_start(&v, 2);
    v.set_inject(move |c| {
        if c.window.start == first {
            std::thread::sleep(Duration::from_millis(30));
            Some(FetchError::Http { status: 503, snippet: String::new() })
        } else {
            None
        }
    });
    let r = run(&e).await;
    assert!(!r.all_ok());
    let state = store.state("gap").unwrap();
    assert_eq!(state.checkpoint, None, "nothing before the gap, so no checkpoint");
    assert_eq!(state.open_windows.len(), 1);
    // Every other window is stored.
    let expected = v.expected_ids(first + SignedDuration::from_hours(3), v.dataset.now());
    assert!(expected.is_subset(&store.ids("gap")));
}

#[tokio::test]
async fn failed_commit_never_claims_unstored_records() {
    let v = Arc::new(FakeVendor::new("disk", dataset(3, 2000, 0.0), limits()));
    let store = MemStore::new();
    let e = engine(&store, vec![v.clone()], 3);
    store.fail_commit_in(3);
    let r = run(&e).await;
    assert!(!r.all_ok());
    assert!(r.sources[0].error.as_ref().unwrap().contains("store"), "{r:?}");
    // The batch prepared while the failed one was being written is dropped, and so is
    // every later one: only the error-only state follows a failed write.
    assert_eq!(store.written_after_a_failure("disk"), Some(0));
    let state = store.state("disk");
    if let Some(cp) = state.and_then(|s| s.checkpoint) {
        assert!(v.expected_ids(backfill_start(&v, 3), cp).is_subset(&store.ids("disk")));
    }
    let r = run(&e).await;
    assert!(r.all_ok(), "{r:?}");
    assert_eq!(store.ids("disk"), v.expected_ids(backfill_start(&v, 3), v.dataset.now()));
    assert_eq!(store.max_inserts(), 1);
}

#[tokio::test]
async fn writes_of_different_sources_share_the_lanes_and_one_source_stays_in_order() {
    // A store with two write lanes (as PostgreSQL has), each commit taking a while:
    // three sources' batches are written side by side, never two of one source at
    // once, and every source ends exact with its checkpoint never moving back.
    let vendors: Vec<Arc<FakeVendor>> =
        ["a", "b", "c"].iter().map(|n| Arc::new(FakeVendor::new(n, dataset(2, 4000, 0.0), limits()))).collect();
    let store = MemStore::with_lanes(2, Duration::from_millis(3));
    let e = engine(&store, vendors.clone(), 2);
    let r = run(&e).await;
    assert!(r.all_ok(), "{r:?}");
    for v in &vendors {
        let expected = v.expected_ids(backfill_start(v, 2), v.dataset.now());
        assert!(expected.len() > 3000, "{}", expected.len());
        assert_eq!(store.ids(&v.name), expected);
        assert_eq!(store.state(&v.name).and_then(|s| s.checkpoint), Some(v.dataset.now()));
    }
    assert_eq!(store.max_writing(), (2, 1), "two writes at once, never two of one source");
    assert_eq!(store.checkpoint_regressions(), 0);
    assert_eq!(store.max_inserts(), 1);
}

#[tokio::test]
async fn a_failed_write_in_one_lane_stops_only_its_source() {
    let vendors: Vec<Arc<FakeVendor>> =
        ["x", "y"].iter().map(|n| Arc::new(FakeVendor::new(n, dataset(3, 2000, 0.0), limits()))).collect();
    let store = MemStore::with_lanes(2, Duration::from_millis(2));
    let e = engine(&store, vendors.clone(), 3);
    store.fail_commit_in(3);
    let r = run(&e).await;
    let failed: Vec<&str> = r.sources.iter().filter(|s| s.error.is_some()).map(|s| s.source.as_str()).collect();
    assert_eq!(failed.len(), 1, "{r:?}");
    let (bad, good) = if failed[0] == "x" { (&vendors[0], &vendors[1]) } else { (&vendors[1], &vendors[0]) };
    // Nothing of the failed source after its failed write; its checkpoint claims only
    // stored records; the other source is complete.
    assert_eq!(store.written_after_a_failure(&bad.name), Some(0));
    if let Some(cp) = store.state(&bad.name).and_then(|s| s.checkpoint) {
        assert!(bad.expected_ids(backfill_start(bad, 3), cp).is_subset(&store.ids(&bad.name)));
    }
    assert_eq!(store.ids(&good.name), good.expected_ids(backfill_start(good, 3), good.dataset.now()));
    let r = run(&e).await;
    assert!(r.all_ok(), "{r:?}");
    assert_eq!(store.ids(&bad.name), bad.expected_ids(backfill_start(bad, 3), bad.dataset.now()));
    assert_eq!(store.max_inserts(), 1);
}

#[tokio::test]
async fn limiter_holds_the_quota_in_every_window() {
    // 200 fetches at a quota of 50 req/s, paced with the production headroom. The
    // starts are seen by the vendor, a little after the limiter granted them (the OS
    // may preempt the thread in between); the headroom (1.5 %, 15 ms a second) is
    // what absorbs that jitter, exactly as it does against a real vendor. Pacing at
    // 100 % of the quota would let one preempted start put 51 in one second.
    let mut l = limits();
    l.quota = Quota { per_second: Some(50.0), per_minute: None };
    let mut fv = FakeVendor::new("paced", dataset(1, 2600, 0.0), l);
    fv.page_size = 10;
    fv.latency = Duration::from_millis(15);
    let v = Arc::new(fv);
    let store = MemStore::new();
    let clock = v.dataset.clock().clone();
    let sstore: DynStore = store.clone();
    let e = Engine::with_vendors(&config(1), sstore, vec![v.clone() as DynVendor]).with_options(EngineOptions {
        retry: fast_policy(),
        headroom: huadan_sync::limiter::QUOTA_HEADROOM,
        workers: 4,
        now: Some(Arc::new(move || clock.now())),
        ..Default::default()
    });
    let start = backfill_start(&v, 1);
    let opts = SyncOptions { since: Some(start), ..Default::default() };
    let t0 = std::time::Instant::now();
    let r = tokio::time::timeout(Duration::from_secs(60), e.run(&opts, &NoProgress)).await.unwrap();
    let elapsed = t0.elapsed();
    assert!(r.all_ok(), "{r:?}");
    let calls = v.calls.lock().clone();
    let n = calls.len();
    assert!(n >= 200, "{n}");
    let span = calls.last().unwrap().at - calls.first().unwrap().at;
    let floor = Duration::from_secs_f64((n - 1) as f64 / 50.0);
    assert!(span >= floor, "{n} requests in {span:?} < {floor:?}");
    assert!(elapsed.as_secs_f64() < floor.as_secs_f64() * 1.3 + 0.5, "{elapsed:?} is far below the quota");
    // No sliding one-second window holds more than 50 starts.
    for (i, c) in calls.iter().enumerate() {
        let in_window = calls[i..].iter().take_while(|d| d.at - c.at < Duration::from_secs(1)).count();
        assert!(in_window <= 50, "{in_window} requests within one second");
    }
    assert_eq!(v.over_quota.load(Ordering::SeqCst), 0);
    assert_eq!(store.ids("paced"), v.expected_ids(start, v.dataset.now()));
}

#[tokio::test]
async fn slow_vendor_gets_more_requests_in_flight_to_reach_the_quota() {
    // 80 ms per request at 50 req/s: one request at a time would reach 12.5 req/s;
    // the engine must split the window to keep about four in flight.
    let mut l = limits();
    l.quota = Quota { per_second: Some(50.0), per_minute: None };
    let mut fv = FakeVendor::new("slow", dataset(1, 2600, 0.0), l);
    fv.page_size = 10;
    fv.latency = Duration::from_millis(80);
    let v = Arc::new(fv);
    let store = MemStore::new();
    let clock = v.dataset.clock().clone();
    let sstore: DynStore = store.clone();
    let e = Engine::with_vendors(&config(1), sstore, vec![v.clone() as DynVendor]).with_options(EngineOptions {
        retry: fast_policy(),
        // The production headroom absorbs the jitter between grant and arrival.
        headroom: huadan_sync::limiter::QUOTA_HEADROOM,
        workers: 8,
        now: Some(Arc::new(move || clock.now())),
        ..Default::default()
    });
    let start = backfill_start(&v, 1);
    let opts = SyncOptions { since: Some(start), ..Default::default() };
    let t0 = std::time::Instant::now();
    let r = tokio::time::timeout(Duration::from_secs(60), e.run(&opts, &NoProgress)).await.unwrap();
    let elapsed = t0.elapsed().as_secs_f64();
    assert!(r.all_ok(), "{r:?}");
    let n = v.calls.lock().len();
    let floor = (n - 1) as f64 / 50.0;
    let sequential = n as f64 * 0.080;
    assert!(v.max_in_flight.load(Ordering::SeqCst) >= 4, "max in flight {}", v.max_in_flight.load(Ordering::SeqCst));
    // Within 1.6 x the quota's floor (a time-cut piece busier than the others leaves a
    // tail), and far below one-at-a-time.
    assert!(elapsed < floor * 1.6 + 0.3, "{n} requests took {elapsed:.2}s; the quota allows {floor:.2}s");
    assert!(elapsed < sequential * 0.5, "{elapsed:.2}s vs {sequential:.2}s one at a time");
    assert_eq!(v.over_quota.load(Ordering::SeqCst), 0);
    // Splitting costs a request per split, not a second pass.
    let records = store.ids("slow").len();
    assert!(n < records / 10 + 40, "{n} requests for {records} records");
    assert_eq!(store.ids("slow"), v.expected_ids(start, v.dataset.now()));
}
