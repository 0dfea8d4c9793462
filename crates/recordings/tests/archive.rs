//! The archiver against a recording host on 127.0.0.1 with faults and expiry.

mod common;

use common::{AudioServer, Plan, sha256_hex, wav};
use huadan_model::{CallRecord, Provider, Recording};
use huadan_recordings::key::object_key;
use huadan_recordings::{Archive, Archiver, JobStatus, NewJob, Queue, RecordingsConfig, RunOptions, is_staging_name};
use jiff::{SignedDuration, Timestamp};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

fn fast_config(dir: &Path, concurrency: usize) -> RecordingsConfig {
    let mut cfg = RecordingsConfig::local(&dir.join("archive"));
    cfg.concurrency = concurrency;
    cfg.per_host_interval_ms = 0;
    cfg.stall_timeout_seconds = 0.4;
    cfg.retry_base_seconds = 0.05;
    cfg.retry_max_seconds = 0.3;
    cfg
}

fn archiver(dir: &Path, cfg: RecordingsConfig) -> Archiver {
    let queue = Arc::new(Queue::open(&dir.join("queue.db")).unwrap());
    let archive = Archive::open(&cfg).unwrap();
    Archiver::new(cfg, queue, archive).unwrap()
}

fn started() -> Timestamp {
    "2026-11-20T03:04:05Z".parse().unwrap()
}

fn job(id: &str, url: &str, expires_at: Option<Timestamp>) -> NewJob {
    NewJob { record_id: id.into(), index: 0, source: "ads".into(), started_at: started(), url: url.into(), expires_at }
}

fn files_under(root: &Path) -> Vec<PathBuf> {
    let mut out = vec![];
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else { continue };
        for e in rd.flatten() {
            if e.file_type().unwrap().is_dir() {
                stack.push(e.path());
            } else {
                out.push(e.path());
            }
        }
    }
    out.sort();
    out
}

fn until_idle() -> RunOptions {
    RunOptions { until_idle: true, deadline: Some(Duration::from_secs(60)) }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_every_recording_present_checksums_match_no_partial_visible() {
    let tmp = tempfile::tempdir().unwrap();
    let srv = AudioServer::start().await;
    let a = archiver(tmp.path(), fast_config(tmp.path(), 4));
    let root = tmp.path().join("archive");
    let far = Timestamp::now() + SignedDuration::from_hours(24);

    let mut expected: HashMap<String, Vec<u8>> = HashMap::new(); // final key -> bytes
    let mut jobs = vec![];
    for i in 0..24u64 {
        let body = wav(i, 20_000 + 1_000 * i as u32);
        let mut plan = Plan { body: body.clone(), ..Plan::default() };
        match i % 6 {
            1 => plan.fail_500 = 2,
            2 => plan.truncate = 1,
            3 => plan.stall = 1,
            4 => plan.json_200 = 1,
            5 => {
                plan.fail_500 = 1;
                plan.truncate = 1;
            }
            _ => {}
        }
        let url = srv.add(&format!("r{i}.wav"), plan);
        let id = format!("ads:call/{i}");
        expected.insert(object_key("ads", &id, 0, started(), "wav"), body);
        jobs.push(job(&id, &url, if i % 2 == 0 { Some(far) } else { None }));
    }
    a.queue().enqueue(&jobs, Timestamp::now()).unwrap();

    // Watch the archive while it is written: a file under a final key must always be complete.
    let stop = Arc::new(AtomicBool::new(false));
    let watcher = {
        let (stop, root, expected) = (stop.clone(), root.clone(), expected.clone());
        std::thread::spawn(move || {
            let mut violations = vec![];
            let mut looks = 0u32;
            while !stop.load(Ordering::Relaxed) && looks < 100_000 {
                looks += 1;
                for f in files_under(&root) {
                    let name = f.file_name().unwrap().to_string_lossy().to_string();
                    if is_staging_name(&name) {
                        continue;
                    }
                    let key = f.strip_prefix(&root).unwrap().to_string_lossy().to_string();
                    if let Ok(bytes) = std::fs::read(&f)
                        && expected.get(&key) != Some(&bytes)
                    {
                        violations.push(format!("{key}: {} bytes", bytes.len()));
                    }
                }
                std::thread::sleep(Duration::from_millis(2));
            }
            (violations, looks)
        })
    };
    let summary = a.run(until_idle()).await.unwrap();
    stop.store(true, Ordering::Relaxed);
    let (violations, looks) = watcher.join().unwrap();
    assert!(violations.is_empty(), "partial files seen under final keys: {violations:?}");
    assert!(looks > 5, "the watcher looked {looks} times");

    assert_eq!(summary.archived, 24);
    assert!(summary.retried >= 4 * 4, "faults caused retries: {summary:?}");
    let stats = a.queue().stats().unwrap();
    assert_eq!((stats.archived, stats.pending, stats.failed, stats.expired), (24, 0, 0, 0));
    assert_eq!(stats.bytes, expected.values().map(|b| b.len() as u64).sum::<u64>());
    for j in a.queue().all().unwrap() {
        assert_eq!(j.status, JobStatus::Archived);
        let key = j.archived_path.clone().unwrap();
        let want = &expected[&key];
        let got = std::fs::read(root.join(&key)).unwrap();
        assert_eq!(&got, want, "{key}");
        assert_eq!(j.sha256.as_deref(), Some(sha256_hex(want).as_str()));
        assert_eq!(j.size, Some(want.len() as u64));
    }
    // Exactly one file per recording, no staging leftovers.
    let files = files_under(&root);
    assert_eq!(files.len(), 24, "{files:?}");
    // Every faulty link was asked more than once, a healthy one exactly once.
    assert_eq!(srv.requests("r0.wav"), 1);
    assert_eq!(srv.requests("r1.wav"), 3);
    assert_eq!(srv.requests("r2.wav"), 2);
    assert_eq!(srv.requests("r3.wav"), 2);
    assert_eq!(srv.requests("r4.wav"), 2);
    assert_eq!(srv.requests("r5.wav"), 3);
}

#[tokio::test]
async fn expired_link_is_marked_expired_with_reason_never_dropped() {
    let tmp = tempfile::tempdir().unwrap();
    let srv = AudioServer::start().await;
    let a = archiver(tmp.path(), fast_config(tmp.path(), 2));
    let now = Timestamp::now();
    let soon = now + SignedDuration::from_millis(1500);
    let always_500 = srv.add("bad.wav", Plan { body: wav(1, 1000), fail_500: 10_000, ..Plan::default() });
    let gone = srv.add("gone.wav", Plan { body: wav(2, 1000), ..Plan::default() });
    // The host already refuses this link (its clock is ahead of what we were told).
    let refused = srv.add(
        "refused.wav",
        Plan { body: wav(3, 1000), expires_at: Some(now - SignedDuration::from_secs(1)), ..Plan::default() },
    );
    let fine = srv.add("fine.wav", Plan { body: wav(4, 1000), ..Plan::default() });
    a.queue()
        .enqueue(
            &[
                job("ads:bad", &always_500, Some(soon)),
                job("ads:gone", &gone, Some(now - SignedDuration::from_secs(5))),
                job("ads:refused", &refused, Some(soon)),
                job("ads:fine", &fine, Some(soon)),
            ],
            now,
        )
        .unwrap();
    a.run(until_idle()).await.unwrap();

    let jobs: HashMap<String, _> = a.queue().all().unwrap().into_iter().map(|j| (j.job.record_id.clone(), j)).collect();
    assert_eq!(jobs.len(), 4, "nothing dropped");
    assert_eq!(jobs["ads:fine"].status, JobStatus::Archived);
    for id in ["ads:bad", "ads:gone", "ads:refused"] {
        assert_eq!(jobs[id].status, JobStatus::Expired, "{id}");
    }
    let bad = jobs["ads:bad"].last_error.clone().unwrap();
    assert!(bad.contains("expired") && bad.contains("HTTP 500"), "{bad}");
    assert!(jobs["ads:bad"].attempts >= 3, "retried until expiry: {}", jobs["ads:bad"].attempts);
    let refused_why = jobs["ads:refused"].last_error.clone().unwrap();
    assert!(refused_why.contains("HTTP 403") && refused_why.contains("RecordUrlExpired"), "{refused_why}");
    assert!(jobs["ads:gone"].last_error.clone().unwrap().contains("before it was fetched"));
    assert_eq!(srv.requests("gone.wav"), 0, "an expired link is not fetched");
    let stats = a.queue().stats().unwrap();
    assert_eq!((stats.archived, stats.expired, stats.pending), (1, 3, 0));
}

#[tokio::test]
async fn closest_to_expiry_goes_first() {
    let tmp = tempfile::tempdir().unwrap();
    let srv = AudioServer::start().await;
    let a = archiver(tmp.path(), fast_config(tmp.path(), 1));
    let now = Timestamp::now();
    let h = |m: i64| Some(now + SignedDuration::from_mins(m));
    let expiries =
        [("e300", h(300)), ("e60", h(60)), ("none", None), ("e180", h(180)), ("e120", h(120)), ("e10", h(10))];
    let jobs: Vec<NewJob> = expiries
        .iter()
        .enumerate()
        .map(|(i, (name, exp))| {
            job(&format!("ads:{name}"), &srv.add(name, Plan { body: wav(i as u64, 500), ..Plan::default() }), *exp)
        })
        .collect();
    a.queue().enqueue(&jobs, now).unwrap();
    a.run(until_idle()).await.unwrap();
    assert_eq!(srv.log(), ["e10", "e60", "e120", "e180", "e300", "none"]);
}

#[tokio::test]
async fn unknown_expiry_fails_after_max_attempts_with_reason() {
    let tmp = tempfile::tempdir().unwrap();
    let srv = AudioServer::start().await;
    let mut cfg = fast_config(tmp.path(), 1);
    cfg.max_attempts_without_expiry = 3;
    let a = archiver(tmp.path(), cfg);
    let url = srv.add("x.wav", Plan { body: wav(1, 100), json_200: 100, ..Plan::default() });
    a.queue().enqueue(&[job("ads:x", &url, None)], Timestamp::now()).unwrap();
    a.run(until_idle()).await.unwrap();
    let j = a.queue().get("ads:x", 0).unwrap().unwrap();
    assert_eq!(j.status, JobStatus::Failed);
    let why = j.last_error.unwrap();
    assert!(why.contains("gave up after 3 attempts") && why.contains("not audio"), "{why}");
    assert_eq!(srv.requests("x.wav"), 3);
    assert!(files_under(&tmp.path().join("archive")).is_empty(), "a JSON error is never archived as audio");
}

#[tokio::test]
async fn per_host_pacing_spaces_requests() {
    let tmp = tempfile::tempdir().unwrap();
    let srv = AudioServer::start().await;
    let mut cfg = fast_config(tmp.path(), 4);
    cfg.per_host_interval_ms = 60;
    let a = archiver(tmp.path(), cfg);
    let jobs: Vec<NewJob> = (0..6)
        .map(|i| {
            job(&format!("ads:p{i}"), &srv.add(&format!("p{i}"), Plan { body: wav(i, 100), ..Plan::default() }), None)
        })
        .collect();
    a.queue().enqueue(&jobs, Timestamp::now()).unwrap();
    let t0 = std::time::Instant::now();
    a.run(until_idle()).await.unwrap();
    assert!(t0.elapsed() >= Duration::from_millis(5 * 60), "6 requests to one host take 5 gaps: {:?}", t0.elapsed());
    assert_eq!(a.queue().stats().unwrap().archived, 6);
}

#[test]
fn enqueue_is_idempotent_and_a_rotated_link_revives_an_expired_job() {
    let q = Queue::in_memory().unwrap();
    let now = Timestamp::now();
    let past = Some(now - SignedDuration::from_secs(1));
    assert_eq!(q.enqueue(&[job("ads:1", "http://127.0.0.1:1/a", past)], now).unwrap(), 1);
    assert_eq!(q.enqueue(&[job("ads:1", "http://127.0.0.1:1/a", past)], now).unwrap(), 0);
    assert_eq!(q.expire_due(now).unwrap(), 1);
    assert_eq!(q.all().unwrap().len(), 1);
    // The vendor hands out a fresh link on the next sync.
    let fresh = Some(now + SignedDuration::from_hours(1));
    assert_eq!(q.enqueue(&[job("ads:1", "http://127.0.0.1:1/b", fresh)], now).unwrap(), 1);
    let j = q.get("ads:1", 0).unwrap().unwrap();
    assert_eq!((j.status, j.job.url.as_str(), j.attempts), (JobStatus::Pending, "http://127.0.0.1:1/b", 0));
    // Archived jobs are never reset by a new link.
    q.mark_archived("ads:1", 0, "k", 1, "00", now).unwrap();
    assert_eq!(q.enqueue(&[job("ads:1", "http://127.0.0.1:1/c", fresh)], now).unwrap(), 0);
    assert_eq!(q.get("ads:1", 0).unwrap().unwrap().status, JobStatus::Archived);
}

#[test]
fn plan_follows_source_opt_in_out_max_age_and_skips_archived() {
    let now = Timestamp::now();
    let mut r = CallRecord::new("ads", Provider::TencentAds, "9", now - SignedDuration::from_hours(24 * 3));
    r.recordings = vec![
        Recording { url: "http://127.0.0.1:1/a.mp3".into(), expires_at: None, archived_path: None },
        Recording { url: "http://127.0.0.1:1/b.mp3".into(), expires_at: None, archived_path: Some("k".into()) },
        Recording { url: "http://127.0.0.1:1/c.mp3".into(), expires_at: None, archived_path: None },
    ];
    let mut cfg = RecordingsConfig::local(Path::new("/tmp/x"));
    let idx: Vec<u32> = Archiver::plan(&cfg, &r, now).iter().map(|j| j.index).collect();
    assert_eq!(idx, [0, 2]);
    cfg.max_age_days = Some(2);
    assert!(Archiver::plan(&cfg, &r, now).is_empty(), "older than max_age_days");
    cfg.max_age_days = Some(4);
    cfg.exclude_sources = vec!["ads".into()];
    assert!(Archiver::plan(&cfg, &r, now).is_empty(), "opted out");
    cfg.exclude_sources = vec![];
    cfg.include_sources = Some(vec!["wecom".into()]);
    assert!(Archiver::plan(&cfg, &r, now).is_empty(), "not opted in");
    cfg.include_sources = Some(vec!["ads".into()]);
    assert_eq!(Archiver::plan(&cfg, &r, now).len(), 2);
    cfg.archive = false;
    assert!(Archiver::plan(&cfg, &r, now).is_empty(), "archive = false");
}

#[test]
fn config_parses_and_refuses_unknown_keys() {
    let t: toml::Table = toml::from_str(
        r#"archive = true
store = "s3://calls/audio/"
endpoint = "http://127.0.0.1:9000"
access_key_id = "k"
secret_access_key = "s"
exclude_sources = ["wecom"]
max_age_days = 7"#,
    )
    .unwrap();
    let cfg = RecordingsConfig::from_table(&t).unwrap();
    assert_eq!(
        cfg.location().unwrap(),
        huadan_recordings::StoreLocation::S3 { bucket: "calls".into(), prefix: "audio".into() }
    );
    assert!(!format!("{cfg:?}").contains("\"s\""), "secrets are not Debug-printed");
    let bad: toml::Table = toml::from_str("store = \"file:///x\"\narchiv = true").unwrap();
    let e = RecordingsConfig::from_table(&bad).unwrap_err().to_string();
    assert!(e.contains("archiv"), "{e}");
    let rel: toml::Table = toml::from_str("store = \"file://rel/x\"").unwrap();
    assert!(RecordingsConfig::from_table(&rel).unwrap_err().to_string().contains("absolute"));
    let half: toml::Table = toml::from_str("store = \"s3://b\"\naccess_key_id = \"k\"").unwrap();
    assert!(RecordingsConfig::from_table(&half).unwrap_err().to_string().contains("secret_access_key"));
    let zero: toml::Table = toml::from_str("store = \"s3://b\"\nconcurrency = 0").unwrap();
    assert!(RecordingsConfig::from_table(&zero).unwrap_err().to_string().contains("concurrency"));
}

#[test]
fn queue_file_sits_next_to_a_sqlite_store() {
    let cfg = RecordingsConfig::local(Path::new("/tmp/x"));
    assert_eq!(cfg.queue_path("sqlite:///var/lib/huadan/huadan.db"), Path::new("/var/lib/huadan/huadan-recordings.db"));
    assert_eq!(cfg.queue_path("sqlite://huadan.db"), Path::new("huadan-recordings.db"));
    assert_eq!(cfg.queue_path("postgres://u@h/db"), Path::new("huadan-recordings.db"));
}

#[tokio::test]
async fn commit_hook_queues_wanted_recordings_and_drain_leaves_long_backoffs_queued() {
    let tmp = tempfile::tempdir().unwrap();
    let srv = AudioServer::start().await;
    let mut cfg = fast_config(tmp.path(), 2);
    cfg.exclude_sources = vec!["wecom".into()];
    cfg.max_age_days = Some(30);
    // A failed attempt waits an hour: longer than the drain's patience.
    cfg.retry_base_seconds = 3600.0;
    cfg.retry_max_seconds = 3600.0;
    let a = Arc::new(archiver(tmp.path(), cfg));
    let ok = srv.add("ok.wav", Plan { body: wav(1, 800), ..Plan::default() });
    let flaky = srv.add("flaky.wav", Plan { body: wav(2, 800), fail_500: 1, ..Plan::default() });
    let now = Timestamp::now();
    let with = |source: &str, id: &str, at: Timestamp, urls: &[&str]| {
        let mut r = CallRecord::new(source, Provider::TencentAds, id, at);
        r.recordings = urls.iter().map(|u| Recording { url: (*u).into(), ..Recording::default() }).collect();
        r
    };
    let mut archived_already = with("ads", "done", now, &[&ok]);
    archived_already.recordings[0].archived_path = Some("ads/x/done-0.wav".into());
    let records = vec![
        with("ads", "a", now, &[&ok, &flaky]),
        with("wecom", "w", now, &[&ok]), // opted out
        with("ads", "old", now - SignedDuration::from_hours(24 * 40), &[&ok]), // too old
        archived_already,
    ];
    let run = tokio::spawn({
        let a = a.clone();
        async move { a.run(RunOptions { until_idle: false, deadline: Some(Duration::from_secs(60)) }).await }
    });
    (a.commit_hook())(&records);
    let queued: Vec<(String, u32)> =
        a.queue().all().unwrap().into_iter().map(|j| (j.job.record_id.clone(), j.job.index)).collect();
    assert_eq!(queued, [("ads:a".to_string(), 0), ("ads:a".to_string(), 1)]);
    // Wait (bounded) until the good link is archived and the flaky one has failed once.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let jobs = a.queue().all().unwrap();
        if jobs[0].status == JobStatus::Archived && jobs[1].attempts == 1 && jobs[1].status == JobStatus::Pending {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{jobs:?}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let t = std::time::Instant::now();
    a.drain(Duration::from_secs(50));
    let summary = run.await.unwrap().unwrap();
    assert!(t.elapsed() < Duration::from_secs(5), "drain did not wait out the hour: {:?}", t.elapsed());
    assert_eq!((summary.archived, summary.retried), (1, 1));
    let stats = a.queue().stats().unwrap();
    assert_eq!((stats.archived, stats.pending), (1, 1), "the flaky link stays queued");
}

#[tokio::test]
async fn a_path_that_could_not_be_written_back_is_repaired_when_the_record_comes_again() {
    let tmp = tempfile::tempdir().unwrap();
    let srv = AudioServer::start().await;
    let store: huadan_store::DynStore =
        Arc::new(huadan_store::SqliteStore::open(tmp.path().join("calls.db")).await.unwrap());
    let url = srv.add("r.wav", Plan { body: wav(7, 800), ..Plan::default() });
    let mut record = CallRecord::new("ads", Provider::TencentAds, "r", Timestamp::now());
    record.recordings = vec![Recording { url, ..Recording::default() }];
    store
        .commit(huadan_store::Batch { source: "ads".into(), records: vec![record.clone()], state: None })
        .await
        .unwrap();
    // The first write-back fails (the store was unavailable); later ones go through.
    let real = huadan_recordings::store_hook(store.clone());
    let failed_once = Arc::new(AtomicBool::new(false));
    let hook: huadan_recordings::ArchivedHook = Arc::new({
        let failed_once = failed_once.clone();
        move |job, f| {
            if failed_once.swap(true, Ordering::SeqCst) {
                real(job, f)
            } else {
                Box::pin(async { Err("store unavailable".to_string()) })
            }
        }
    });
    let a = archiver(tmp.path(), fast_config(tmp.path(), 1)).with_hook(hook);
    a.enqueue_records(std::slice::from_ref(&record)).unwrap();
    a.run(until_idle()).await.unwrap();
    assert_eq!(a.queue().get("ads:r", 0).unwrap().unwrap().status, JobStatus::Archived);
    assert_eq!(store.call("ads:r").await.unwrap().unwrap().recordings[0].archived_path, None);

    // The record comes again (a re-sync, or `recordings fetch`): nothing is downloaded
    // again, and the path is written back.
    assert_eq!(a.enqueue_records(&[record]).unwrap(), 0);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let path = loop {
        if let Some(p) = store.call("ads:r").await.unwrap().unwrap().recordings[0].archived_path.clone() {
            break p;
        }
        assert!(tokio::time::Instant::now() < deadline, "the path was never written back");
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    assert_eq!(Some(path), a.queue().get("ads:r", 0).unwrap().unwrap().archived_path);
    assert_eq!(srv.requests("r.wav"), 1);
}
