//! Late-arriving records against the real vendor clients and the sandbox's fakes,
//! in process, with the fakes' clock advanced between runs: the second run's lookback
//! catches the records that arrived after the first run read their window.

use huadan_config::Config;
use huadan_fakekit::{Clock, Dataset, DatasetSpec, FaultKind, Faults};
use huadan_model::Provider;
use huadan_sandbox::{Sandbox, SandboxOptions};
use huadan_store::CallFilter;
use huadan_sync::{Engine, EngineOptions, NoProgress, SyncOptions};
use jiff::SignedDuration;
use std::sync::Arc;
use std::time::Duration;

/// The calls an hour holds per vendor around the range's end (the quietest vendor's):
/// with half of them late by 2 to 20 minutes, about 20 across the vendors are still to
/// come when the first run reads, and the first run reads a few thousand records.
const CALLS_PER_HOUR: u32 = 1_000;
/// How far before now the test's range ends.
const UNTIL_AGO_MINS: i64 = 16;

/// `spec.calls_per_day`, scaled so that the hour(s) holding the range's end have
/// [`CALLS_PER_HOUR`] calls for the quietest vendor, whatever the time of day (hours
/// are generated lazily, and the runs read only the range's hours and the lookback).
fn calls_per_day_for(spec: &DatasetSpec, clock: &Clock) -> u32 {
    let probe = Dataset::new(*spec, clock.clone());
    let end = (clock.now() - SignedDuration::from_mins(UNTIL_AGO_MINS)).as_second();
    // The calls still to come lie in the last minutes before the end, which may begin
    // in the hour before.
    let hours = [end, end - 5 * 60].map(|t| t.div_euclid(3600) * 3600);
    let least = Provider::ALL.iter().flat_map(|p| hours.map(|h| probe.bucket_count(*p, h))).min().unwrap_or(0).max(1);
    let scale = f64::from(CALLS_PER_HOUR) / f64::from(least);
    (f64::from(spec.calls_per_day) * scale).ceil().clamp(1.0, f64::from(u32::MAX)) as u32
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sandbox_late_records_are_caught_by_lookback() {
    let clock = Clock::real();
    // The clock is real, so the calls near `until` follow the time of day (busy
    // mornings, near-empty nights and weekends): a fixed 40,000 a day left a CI run at
    // 23:09 Beijing nothing to catch, and 120,000 a day one at 00:43 on a Sunday.
    // The rate is scaled so that the hour of `until` holds the same number of calls at
    // any time of day.
    let spec = DatasetSpec { seed: 3, days: 1, calls_per_day: 120_000, late: 0.0, update: 0.0 };
    let spec = DatasetSpec { calls_per_day: calls_per_day_for(&spec, &clock), ..spec };
    let options = SandboxOptions {
        spec,
        faults: Faults::none().with(FaultKind::Late, 0.5),
        limits: false,
        clock: clock.clone(),
        ..Default::default()
    };
    eprintln!("calls per day per vendor: {}", options.spec.calls_per_day);
    let sandbox = Sandbox::start(options).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("late.db").display());
    // Late calls arrive 2 to 20 minutes late: a 30-minute lookback covers them.
    let toml = sandbox.config_toml(&url).replace("[[sources]]\n", "[[sources]]\nlookback_seconds = 1800\n");
    let config = Config::from_toml_str(&toml, &|_| None).unwrap();
    let store = huadan_store::open(&url).await.unwrap();
    let c = clock.clone();
    let engine = Engine::new(&config, store.clone())
        .unwrap()
        .with_options(EngineOptions { now: Some(Arc::new(move || c.now())), ..Default::default() });

    // The range ends 16 minutes ago: some of its late calls have not arrived yet.
    let until = (clock.now() - SignedDuration::from_mins(UNTIL_AGO_MINS)).round(jiff::Unit::Second).unwrap();
    let since = until - SignedDuration::from_mins(40);
    let first = SyncOptions { since: Some(since), until: Some(until), ..Default::default() };
    let r1 = tokio::time::timeout(Duration::from_secs(120), engine.run(&first, &NoProgress)).await.unwrap();
    assert!(r1.all_ok(), "{r1:?}");

    // Four minutes on (within every vendor's signature clock tolerance), every call
    // before `until` is visible; an incremental run re-reads the lookback.
    clock.advance(SignedDuration::from_mins(4) + SignedDuration::from_secs(2));
    let second = SyncOptions { until: Some(until), ..Default::default() };
    let r2 = tokio::time::timeout(Duration::from_secs(120), engine.run(&second, &NoProgress)).await.unwrap();
    assert!(r2.all_ok(), "{r2:?}");
    let caught: u64 = r2.sources.iter().map(|s| s.inserted).sum();
    eprintln!("first run fetched {}, second run caught {caught}", r1.sources.iter().map(|s| s.fetched).sum::<u64>());

    let dataset = sandbox.dataset().clone();
    let mut mismatches = Vec::new();
    for s in &config.sources {
        let stored = store.count(&CallFilter { sources: vec![s.name.clone()], ..Default::default() }).await.unwrap();
        let expected = dataset.count_between(s.kind, since, until);
        if s.kind != huadan_model::Provider::Tanma {
            // Closed ranges (Tencent CCC) and whole GMT+8 days (Tencent Ads) return
            // harmless extras at the edges; what matters is that none inside is
            // missing or doubled. (Tanma filters on the transcript's creation time,
            // not the call start, so its total is compared instead.)
            let inside = CallFilter {
                sources: vec![s.name.clone()],
                since: Some(since),
                until: Some(until),
                ..Default::default()
            };
            let stored_inside = store.count(&inside).await.unwrap();
            if stored_inside != expected {
                mismatches.push(format!("{}: stored {stored_inside} in range, expected {expected}", s.name));
            }
            continue;
        }
        if stored != expected {
            mismatches.push(format!("{}: stored {stored}, expected {expected}", s.name));
        }
    }
    assert!(mismatches.is_empty(), "{mismatches:?}");
    assert!(caught > 0, "the second run must catch late records: {r2:?}");
    sandbox.shutdown().await;
}
