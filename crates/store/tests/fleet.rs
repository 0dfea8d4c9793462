//! Sharing the work between processes: window leases (`SELECT … FOR UPDATE SKIP
//! LOCKED`), heartbeats, expiry and takeover, fenced commits, the fleet-wide quota.
//! The shared suite checks what each backend promises (SQLite: nothing is shared, the
//! quota is local); the PostgreSQL tests race real connections.

#[macro_use]
mod common;

use common::pg::{Schema, url};
use common::*;
use huadan_model::Provider;
use huadan_store::{
    CallFilter, Claim, DynStore, PgStore, PlannedWindow, RunPlan, RunTicket, RunView, StoreError, SyncState,
    WindowClaim, WindowDone, WindowKind, WindowStatus,
};
use std::sync::Arc;
use std::time::Duration;

/// A plan of `n` consecutive one-hour main windows from `at(0)`.
fn plan_of(n: i64) -> RunPlan {
    RunPlan {
        range_start: at(0),
        range_end: at(n * 3600),
        advance: true,
        context: serde_json::json!({"note": "test"}),
        windows: (0..n)
            .map(|i| PlannedWindow { start: at(i * 3600), end: at((i + 1) * 3600), kind: WindowKind::Main })
            .collect(),
    }
}

/// The checkpoint merge the engine does, reduced: end of the contiguous done prefix.
fn done(records: Vec<huadan_model::CallRecord>) -> WindowDone {
    WindowDone {
        records,
        failed: false,
        outcome: serde_json::json!({}),
        update: Box::new(|stored: Option<SyncState>, view: &RunView| {
            let mut s = stored.unwrap_or_default();
            s.source = "src".into();
            s.checkpoint = view
                .windows
                .iter()
                .take_while(|w| w.status == WindowStatus::Done)
                .last()
                .map(|w| w.end)
                .or(s.checkpoint);
            if view.finished() {
                s.last_success = Some(view.range_end);
            }
            s
        }),
    }
}

async fn plan(s: &DynStore, n: i64) -> i64 {
    let p = plan_of(n);
    match s.plan_run("src", "planner", Duration::ZERO, Box::new(move |_| Ok(p))).await.unwrap() {
        RunTicket::Run { generation, windows, planned: true, range_start, range_end } => {
            assert_eq!((range_start, range_end), (at(0), at(n * 3600)));
            assert_eq!(windows, n as usize);
            generation
        }
        other => panic!("expected a new plan, got {other:?}"),
    }
}

async fn claim(s: &DynStore, generation: i64, owner: &str, ttl: Duration) -> Option<WindowClaim> {
    match s.claim_window("src", generation, owner, ttl).await.unwrap() {
        Claim::Window(c) => Some(c),
        _ => None,
    }
}

// ---- shared suite ---------------------------------------------------------------------

async fn the_quota_is_shared_only_by_a_store_that_shares_work() {
    let (_g, s) = store().await;
    let grant = s.reserve_slots("src", Duration::from_millis(10), 4).await.unwrap();
    if !s.shares_work() {
        // One process: nothing to share, the engine paces locally and plans in-process.
        assert_eq!(grant, None);
        let err = s.plan_run("src", "w", Duration::ZERO, Box::new(|_| Ok(plan_of(1)))).await.unwrap_err();
        assert!(matches!(err, StoreError::NotShared(_)), "{err}");
        assert!(s.lease_audit("src").await.unwrap().is_empty());
        return;
    }
    let first = grant.expect("a shared store grants slots");
    assert_eq!((first.count, first.interval), (4, Duration::from_millis(10)));
    // The next grant starts after the four slots already given out (store clock).
    let second = s.reserve_slots("src", Duration::from_millis(10), 4).await.unwrap().unwrap();
    let gap = second.first_at.duration_since(first.first_at);
    assert!(gap >= jiff::SignedDuration::from_millis(40), "{first:?} then {second:?}");
    // A rate-limit answer holds every slot back.
    s.hold_quota("src", Duration::from_secs(2)).await.unwrap();
    let third = s.reserve_slots("src", Duration::from_millis(10), 1).await.unwrap().unwrap();
    assert!(third.first_in >= jiff::SignedDuration::from_secs(1), "{third:?}");
}

async fn a_shared_run_is_planned_once_and_joined_by_the_others() {
    let (_g, s) = store().await;
    if !s.shares_work() {
        return;
    }
    let generation = plan(&s, 3).await;
    // A second worker joins instead of planning (its plan function is never called).
    let t = s.plan_run("src", "other", Duration::ZERO, Box::new(|_| panic!("must not plan"))).await.unwrap();
    assert_eq!(
        t,
        RunTicket::Run { generation, windows: 3, planned: false, range_start: at(0), range_end: at(3 * 3600) }
    );
    // Windows come out in plan order, each once.
    let ttl = Duration::from_secs(30);
    let mut claims = Vec::new();
    for owner in ["a", "b", "a"] {
        claims.push(claim(&s, generation, owner, ttl).await.unwrap());
    }
    assert_eq!(claims.iter().map(|c| c.seq).collect::<Vec<_>>(), [0, 1, 2]);
    assert!(matches!(s.claim_window("src", generation, "c", ttl).await.unwrap(), Claim::Busy { unfinished: 3, .. }));
    // Out of order: window 1 first leaves the checkpoint alone; then 0 moves it to 1's end.
    s.finish_window(&claims[1], done(vec![rec("src", Provider::Wecom, 2, 3700)])).await.unwrap();
    assert_eq!(s.load_state("src").await.unwrap().and_then(|st| st.checkpoint), None);
    s.finish_window(&claims[0], done(vec![rec("src", Provider::Wecom, 1, 10)])).await.unwrap();
    assert_eq!(s.load_state("src").await.unwrap().unwrap().checkpoint, Some(at(7200)));
    // A released window is claimable again, by anyone.
    s.release_window(&claims[2]).await.unwrap();
    let again = claim(&s, generation, "c", ttl).await.unwrap();
    assert_eq!((again.seq, again.fence), (2, claims[2].fence + 1));
    s.finish_window(&again, done(Vec::new())).await.unwrap();
    assert_eq!(s.claim_window("src", generation, "c", ttl).await.unwrap(), Claim::Finished);
    let state = s.load_state("src").await.unwrap().unwrap();
    assert_eq!((state.checkpoint, state.last_success), (Some(at(10_800)), Some(at(10_800))));
    assert_eq!(s.count(&CallFilter::default()).await.unwrap(), 2);
    // Finished a moment ago: with a minimum gap, nobody plans again.
    let t = s.plan_run("src", "x", Duration::from_secs(60), Box::new(|_| panic!("must not plan"))).await.unwrap();
    assert_eq!(t, RunTicket::Idle);
    let audit = s.lease_audit("src").await.unwrap();
    assert_eq!(audit.iter().map(|a| a.how.as_str()).collect::<Vec<_>>(), ["done", "done", "released", "done"]);
}

both_backends!(
    the_quota_is_shared_only_by_a_store_that_shares_work,
    a_shared_run_is_planned_once_and_joined_by_the_others
);

// ---- PostgreSQL: real connections racing ------------------------------------------------

/// Two stores (two pools, as two processes would have) on one fresh schema.
async fn two_stores() -> Option<(Schema, DynStore, DynStore)> {
    let url = url()?;
    let schema = Schema::new(&url);
    let a = PgStore::open_in_schema(&schema.store_url(), &schema.name).await.unwrap();
    let b = PgStore::open_in_schema(&schema.store_url(), &schema.name).await.unwrap();
    Some((schema, Arc::new(a), Arc::new(b)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn pg_two_connections_racing_for_one_window_exactly_one_wins() {
    let Some((_schema, a, b)) = two_stores().await else { return };
    for round in 0..10 {
        let generation = plan(&a, 1).await;
        let ttl = Duration::from_secs(30);
        let race = |s: DynStore, owner: &'static str| {
            tokio::spawn(async move { s.claim_window("src", generation, owner, ttl).await.unwrap() })
        };
        let tasks = [race(a.clone(), "a1"), race(b.clone(), "b1"), race(a.clone(), "a2"), race(b.clone(), "b2")];
        let mut won = Vec::new();
        for t in tasks {
            if let Claim::Window(c) = t.await.unwrap() {
                won.push(c);
            }
        }
        assert_eq!(won.len(), 1, "round {round}: {won:?}");
        a.finish_window(&won[0], done(Vec::new())).await.unwrap_or_else(|e| {
            // Whichever store's worker won, the commit goes through the other pool too.
            panic!("round {round}: {e}")
        });
    }
}

#[tokio::test]
async fn pg_expired_lease_is_taken_over_and_the_old_holder_is_fenced() {
    let Some((_schema, a, b)) = two_stores().await else { return };
    let generation = plan(&a, 1).await;
    let short = Duration::from_millis(300);
    let old = claim(&a, generation, "worker-a", short).await.unwrap();
    // While the lease runs nobody else gets the window; a heartbeat extends it.
    assert!(matches!(b.claim_window("src", generation, "worker-b", short).await.unwrap(), Claim::Busy { .. }));
    assert!(a.renew_window(&old, short).await.unwrap());
    // worker-a stops heartbeating (as if killed). Wait until its lease has expired.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let new = loop {
        assert!(std::time::Instant::now() < deadline, "the expired lease was never taken over");
        if let Some(c) = claim(&b, generation, "worker-b", Duration::from_secs(30)).await {
            break c;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(new.seq, old.seq);
    assert!(new.fence > old.fence);
    // The old holder can neither renew nor commit: nothing it sends is written.
    assert!(!a.renew_window(&old, short).await.unwrap());
    let err = a.finish_window(&old, done(vec![rec("src", Provider::Tanma, 1, 0)])).await.unwrap_err();
    assert!(matches!(err, StoreError::LeaseLost { .. }), "{err}");
    let err = a.write_window_records(&old, vec![rec("src", Provider::Tanma, 2, 0)]).await.unwrap_err();
    assert!(matches!(err, StoreError::LeaseLost { .. }), "{err}");
    assert_eq!(a.count(&CallFilter::default()).await.unwrap(), 0);
    assert_eq!(a.load_state("src").await.unwrap(), None, "a refused commit writes no state");
    // The new holder's commit goes through, records and state together.
    b.finish_window(&new, done(vec![rec("src", Provider::Tanma, 3, 0)])).await.unwrap();
    assert_eq!(a.count(&CallFilter::default()).await.unwrap(), 1);
    assert_eq!(a.load_state("src").await.unwrap().unwrap().checkpoint, Some(at(3600)));
    // The audit trail shows two leases, one after the other.
    let audit = a.lease_audit("src").await.unwrap();
    assert_eq!(audit.len(), 2, "{audit:?}");
    assert_eq!((audit[0].owner.as_str(), audit[0].how.as_str()), ("worker-a", "expired"));
    assert_eq!((audit[1].owner.as_str(), audit[1].how.as_str()), ("worker-b", "done"));
    assert!(audit[0].ended_at <= audit[1].claimed_at, "{audit:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn pg_quota_slots_from_two_stores_never_collide() {
    let Some((_schema, a, b)) = two_stores().await else { return };
    let interval = Duration::from_millis(4);
    let reserve = |s: DynStore| {
        tokio::spawn(async move {
            let mut slots = Vec::new();
            for _ in 0..25 {
                let g = s.reserve_slots("src", interval, 2).await.unwrap().unwrap();
                assert!(g.first_in <= jiff::SignedDuration::from_millis(500), "{g:?}");
                let first = g.first_at.as_microsecond();
                slots.extend((0..i64::from(g.count)).map(|i| first + i * g.interval.as_micros() as i64));
            }
            slots
        })
    };
    let (x, y) = (reserve(a.clone()), reserve(b.clone()));
    let mut all: Vec<i64> = x.await.unwrap();
    all.extend(y.await.unwrap());
    all.sort();
    assert_eq!(all.len(), 100);
    // On the store's clock every slot is unique and a full interval from the next:
    // two workers reserving at once never get overlapping slots.
    let min_gap = all.windows(2).map(|w| w[1] - w[0]).min().unwrap();
    assert!(min_gap >= interval.as_micros() as i64, "two slots {min_gap} µs apart");
}
