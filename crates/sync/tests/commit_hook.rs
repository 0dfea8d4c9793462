//! `EngineOptions::on_commit`: the writer hands every committed batch to the hook right
//! after the store accepted it — never a record the store does not hold.

mod support;

use huadan_config::Config;
use huadan_store::DynStore;
use huadan_sync::{Engine, EngineOptions, NoProgress, RetryPolicy, SyncOptions};
use huadan_vendor::DynVendor;
use parking_lot::Mutex;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;
use support::*;

/// What the hook saw: each id, and whether the store held it at that moment.
type Seen = Arc<Mutex<Vec<(String, bool)>>>;

/// An engine whose hook records what it saw.
fn engine(store: &Arc<MemStore>, v: &Arc<FakeVendor>, seen: Seen) -> Engine {
    let clock = v.dataset.clock().clone();
    let mut c = Config::default();
    c.sync.backfill_days = 2;
    let dyn_store: DynStore = store.clone();
    let check = store.clone();
    let hook = Arc::new(move |records: &[huadan_model::CallRecord]| {
        seen.lock().extend(records.iter().map(|r| (r.id.clone(), check.record(&r.id).is_some())));
    });
    Engine::with_vendors(&c, dyn_store, vec![v.clone() as DynVendor]).with_options(EngineOptions {
        retry: RetryPolicy {
            base_delay: Duration::from_millis(2),
            max_delay: Duration::from_millis(20),
            ..Default::default()
        },
        now: Some(Arc::new(move || clock.now())),
        on_commit: Some(hook),
        ..Default::default()
    })
}

#[tokio::test]
async fn every_committed_record_reaches_the_hook_after_the_commit() {
    let v = Arc::new(FakeVendor::new("ccc", dataset(2, 3000, 0.0), limits()));
    let store = MemStore::new();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let e = engine(&store, &v, seen.clone());
    let r = tokio::time::timeout(Duration::from_secs(60), e.run(&SyncOptions::default(), &NoProgress)).await.unwrap();
    assert!(r.all_ok(), "{r:?}");
    assert!(seen.lock().iter().all(|(_, stored)| *stored), "a record reached the hook before the store had it");
    let seen: BTreeSet<String> = seen.lock().iter().map(|(id, _)| id.clone()).collect();
    assert!(seen.len() > 3000, "{}", seen.len());
    assert_eq!(seen, store.ids("ccc"));
}

#[tokio::test]
async fn a_failed_commit_hands_nothing_to_the_hook() {
    let v = Arc::new(FakeVendor::new("ccc", dataset(2, 3000, 0.0), limits()));
    let store = MemStore::new();
    store.fail_commit_in(1);
    let seen = Arc::new(Mutex::new(Vec::new()));
    let e = engine(&store, &v, seen.clone());
    let r = tokio::time::timeout(Duration::from_secs(60), e.run(&SyncOptions::default(), &NoProgress)).await.unwrap();
    assert!(!r.all_ok(), "the injected failure stops the source");
    // The first batch was refused: none of it reached the hook.
    assert!(seen.lock().iter().all(|(_, stored)| *stored));
    let seen: BTreeSet<String> = seen.lock().iter().map(|(id, _)| id.clone()).collect();
    assert_eq!(seen, store.ids("ccc"));
}
