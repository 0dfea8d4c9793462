//! Crash safety: `huadan sync` is killed with SIGKILL at many different points of a
//! backfill and restarted each time; afterwards the store holds exactly the dataset —
//! nothing missing, nothing doubled — and at every kill the stored checkpoint claimed
//! only records that were really stored.

mod support;

use huadan_config::Config;
use huadan_fakekit::Dataset;
use huadan_model::{Instant, Provider};
use huadan_store::CallFilter;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;
use support::{Sandbox, huadan};

/// `huadan sync --until T`: no `--since`, so every restart continues from the stored
/// checkpoint (minus the lookback), as a real restart would.
fn sync_cmd(dir: &Path, until: &str) -> Command {
    let mut c = huadan();
    c.current_dir(dir)
        .args(["--config", "huadan.toml", "sync", "--until", until])
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    c
}

/// For every source whose list API filters on the call start, the records stored
/// before the checkpoint are at least the dataset's: the checkpoint never claims
/// records that are not stored.
async fn check_checkpoints(dir: &Path, config: &Config, dataset: &Dataset, origin: Instant) -> u64 {
    let store = huadan_store::open(&format!("sqlite://{}", dir.join("huadan.db").display())).await.unwrap();
    for s in &config.sources {
        if !matches!(s.kind, Provider::TencentCcc | Provider::Wecom) {
            continue;
        }
        let Some(cp) = store.load_state(&s.name).await.unwrap().and_then(|st| st.checkpoint) else { continue };
        let filter =
            CallFilter { sources: vec![s.name.clone()], since: Some(origin), until: Some(cp), ..Default::default() };
        let stored = store.count(&filter).await.unwrap();
        let expected = dataset.count_between(s.kind, origin, cp);
        assert!(stored >= expected, "{}: checkpoint {cp} claims {expected} records, {stored} stored", s.name);
    }
    store.count(&CallFilter::default()).await.unwrap()
}

#[test]
fn sigkill_at_twenty_points_then_restart_leaves_the_store_equal_to_the_dataset() {
    // Big enough that twenty kills land before the backfill ends on a fast day (3 × 2,000
    // calls a day ran out after 18 kills on one: ~1,000 records stored per restart).
    let sandbox = Sandbox::start(5, 3, 5000, &["--no-limits"]);
    let (dir, spec) = (sandbox.dir(), sandbox.spec);
    // The first run's backfill reaches back beyond the dataset's first day.
    sandbox.edit_config(|t| {
        t.replace(&format!("backfill_days = {}", spec.days), &format!("backfill_days = {}", spec.days + 1))
    });
    let config: Config = sandbox.config();
    assert_eq!(config.sync.backfill_days, spec.days + 1);
    let (dataset, origin, until) = sandbox.expectation();
    let until_s = until.to_string();
    let expected_total: u64 = config.sources.iter().map(|s| dataset.count_between(s.kind, origin, until)).sum();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();

    let mut kills = 0;
    let mut counts = Vec::new();
    for i in 0..60u64 {
        if kills >= 24 {
            break;
        }
        let mut child = sync_cmd(dir, &until_s).spawn().unwrap();
        // Kill points spread from "still starting up" to "deep in the pages".
        let delay = Duration::from_millis(150 + (i * 211) % 1000);
        std::thread::sleep(delay);
        if child.try_wait().unwrap().is_some() {
            // It finished before the kill: the backfill is complete.
            break;
        }
        child.kill().unwrap(); // SIGKILL
        let status = child.wait().unwrap();
        assert!(!status.success());
        kills += 1;
        let stored = rt.block_on(check_checkpoints(dir, &config, &dataset, origin));
        counts.push(stored);
    }
    assert!(kills >= 20, "only {kills} kills landed during the backfill (counts {counts:?})");
    assert!(counts.iter().any(|c| *c > 0 && *c < expected_total), "kills must land mid-backfill: {counts:?}");

    let out = sync_cmd(dir, &until_s).stdout(Stdio::piped()).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    rt.block_on(async {
        let store = sandbox.store().await;
        for s in &config.sources {
            let n = store.count(&CallFilter { sources: vec![s.name.clone()], ..Default::default() }).await.unwrap();
            let expected = dataset.count_between(s.kind, origin, until);
            assert_eq!(n, expected, "{}: stored {n}, dataset {expected}", s.name);
            let state = store.load_state(&s.name).await.unwrap().unwrap();
            assert!(state.last_error.is_none(), "{}: {:?}", s.name, state.last_error);
            assert_eq!(state.checkpoint, Some(until), "{}", s.name);
        }
    });
    eprintln!("{kills} kills; stored after each: {counts:?}; expected {expected_total}");
}
