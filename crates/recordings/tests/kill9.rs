//! kill -9 in the middle of downloads, restart, and everything completes exactly once.
//!
//! The archiver runs in a child process: this test binary re-run with
//! `--ignored --exact kill9_child_worker` and `HUADAN_REC_CHILD_DIR` set.

mod common;

use common::{AudioServer, Plan, wav};
use huadan_recordings::key::object_key;
use huadan_recordings::{Archive, Archiver, JobStatus, NewJob, Queue, RecordingsConfig, RunOptions, is_staging_name};
use jiff::Timestamp;
use std::path::Path;
use std::process::{Child, Command};
use std::sync::Arc;
use std::time::{Duration, Instant};

const CHILD_ENV: &str = "HUADAN_REC_CHILD_DIR";

fn config(dir: &Path) -> RecordingsConfig {
    let mut cfg = RecordingsConfig::local(&dir.join("archive"));
    cfg.concurrency = 3;
    cfg.per_host_interval_ms = 0;
    cfg.stall_timeout_seconds = 2.0;
    cfg.retry_base_seconds = 0.05;
    cfg
}

fn spawn_child(dir: &Path) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args(["--ignored", "--exact", "kill9_child_worker", "--nocapture", "--test-threads", "1"])
        .env(CHILD_ENV, dir)
        .spawn()
        .unwrap()
}

/// The child: work the queue in `HUADAN_REC_CHILD_DIR` until idle.
#[test]
#[ignore = "child process of kill9_mid_download_restart_completes_no_duplicates"]
fn kill9_child_worker() {
    let Ok(dir) = std::env::var(CHILD_ENV) else {
        panic!("run by kill9_mid_download_restart_completes_no_duplicates only");
    };
    let dir = Path::new(&dir);
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let cfg = config(dir);
        let queue = Arc::new(Queue::open(&dir.join("queue.db")).unwrap());
        let a = Archiver::new(cfg.clone(), queue, Archive::open(&cfg).unwrap()).unwrap();
        a.run(RunOptions { until_idle: true, deadline: Some(Duration::from_secs(60)) }).await.unwrap();
    });
}

fn files(root: &Path) -> Vec<String> {
    let mut out = vec![];
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else { continue };
        for e in rd.flatten() {
            if e.file_type().unwrap().is_dir() {
                stack.push(e.path());
            } else {
                out.push(e.path().strip_prefix(root).unwrap().to_string_lossy().to_string());
            }
        }
    }
    out.sort();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill9_mid_download_restart_completes_no_duplicates() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let root = dir.join("archive");
    let srv = AudioServer::start().await;
    let started: Timestamp = "2026-11-20T03:04:05Z".parse().unwrap();
    let mut expected = std::collections::BTreeMap::new();
    let mut jobs = vec![];
    for i in 0..5u64 {
        // ~200 KB dripped in 4 KiB chunks every 15 ms: about 0.75 s per recording.
        let body = wav(i, 100_000);
        let url = srv.add(
            &format!("k{i}.wav"),
            Plan { body: body.clone(), drip: Some(Duration::from_millis(15)), ..Plan::default() },
        );
        let id = format!("ads:k{i}");
        expected.insert(object_key("ads", &id, 0, started, "wav"), body);
        jobs.push(NewJob { record_id: id, index: 0, source: "ads".into(), started_at: started, url, expires_at: None });
    }
    Queue::open(&dir.join("queue.db")).unwrap().enqueue(&jobs, Timestamp::now()).unwrap();

    // First run: kill -9 once downloads are under way.
    let mut child = spawn_child(dir);
    let t0 = Instant::now();
    loop {
        let sent: u64 = srv.state.lock().unwrap().bytes_sent.values().sum();
        if sent > 100_000 {
            break;
        }
        assert!(t0.elapsed() < Duration::from_secs(60), "child never started downloading");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();

    // Killed mid-download: some jobs were left `fetching`, and anything under a final key is whole.
    let q = Queue::open(&dir.join("queue.db")).unwrap();
    let mid: Vec<_> = q.all().unwrap();
    assert!(mid.iter().any(|j| j.status == JobStatus::Fetching), "killed mid-download");
    for f in files(&root) {
        let name = f.rsplit('/').next().unwrap();
        if !is_staging_name(name) {
            assert_eq!(std::fs::read(root.join(&f)).unwrap(), expected[&f], "{f} is whole");
        }
    }
    assert!(
        files(&root).iter().any(|f| is_staging_name(f.rsplit('/').next().unwrap())),
        "a staging file was left behind"
    );
    drop(q);

    // Restart: completes.
    let mut child = spawn_child(dir);
    let t0 = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if t0.elapsed() > Duration::from_secs(90) {
            child.kill().unwrap();
            panic!("restarted archiver did not finish");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(status.success());
    let q = Queue::open(&dir.join("queue.db")).unwrap();
    let all = q.all().unwrap();
    assert_eq!(all.len(), 5);
    assert!(all.iter().all(|j| j.status == JobStatus::Archived), "{all:?}");
    // Exactly one object per recording, whole; no staging leftovers.
    let got = files(&root);
    assert_eq!(got, expected.keys().cloned().collect::<Vec<_>>());
    for (k, body) in &expected {
        assert_eq!(&std::fs::read(root.join(k)).unwrap(), body, "{k}");
    }
}
