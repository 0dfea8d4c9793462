//! Crash safety: `huadan sync` is killed with SIGKILL at many different points of a
//! backfill and restarted each time; afterwards the store holds exactly the dataset —
//! nothing missing, nothing doubled — and at every kill the stored checkpoint claimed
//! only records that were really stored.

use huadan_config::Config;
use huadan_fakekit::{Clock, Dataset, DatasetSpec};
use huadan_model::{Instant, Provider};
use huadan_store::CallFilter;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

fn huadan() -> Command {
    Command::new(env!("CARGO_BIN_EXE_huadan"))
}

struct Guard(Child);
impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_sandbox(dir: &Path, spec: &DatasetSpec) -> Guard {
    let cfg = dir.join("huadan.toml");
    let mut child = huadan()
        .args(["sandbox", "--base-port", "0", "--no-limits", "--seed", &spec.seed.to_string()])
        .args(["--days", &spec.days.to_string(), "--calls-per-day", &spec.calls_per_day.to_string()])
        .arg("--write-config")
        .arg(&cfg)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    assert!(line.starts_with('{'), "{line}");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !cfg.exists() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(100));
    Guard(child)
}

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
    let dir = tempfile::tempdir().unwrap();
    let spec = DatasetSpec { seed: 5, days: 3, calls_per_day: 2000, late: 0.0, update: 0.0 };
    let _sandbox = start_sandbox(dir.path(), &spec);
    // The first run's backfill reaches back beyond the dataset's first day.
    let cfg_path = dir.path().join("huadan.toml");
    let text = std::fs::read_to_string(&cfg_path).unwrap();
    let text = text.replace(&format!("backfill_days = {}", spec.days), &format!("backfill_days = {}", spec.days + 1));
    std::fs::write(&cfg_path, text).unwrap();
    let config = Config::load(&cfg_path).unwrap();
    assert_eq!(config.sync.backfill_days, spec.days + 1);
    let dataset = Dataset::new(spec, Clock::real());
    let origin = dataset.origin();
    let until = origin + jiff::SignedDuration::from_hours(24 * spec.days as i64);
    let until_s = until.to_string();
    let expected_total: u64 = config.sources.iter().map(|s| dataset.count_between(s.kind, origin, until)).sum();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();

    let mut kills = 0;
    let mut counts = Vec::new();
    for i in 0..60u64 {
        if kills >= 24 {
            break;
        }
        let mut child = sync_cmd(dir.path(), &until_s).spawn().unwrap();
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
        let stored = rt.block_on(check_checkpoints(dir.path(), &config, &dataset, origin));
        counts.push(stored);
    }
    assert!(kills >= 20, "only {kills} kills landed during the backfill (counts {counts:?})");
    assert!(counts.iter().any(|c| *c > 0 && *c < expected_total), "kills must land mid-backfill: {counts:?}");

    let out = sync_cmd(dir.path(), &until_s).stdout(Stdio::piped()).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    rt.block_on(async {
        let store = huadan_store::open(&format!("sqlite://{}", dir.path().join("huadan.db").display())).await.unwrap();
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
