//! `huadan sync` and `huadan doctor` as processes against `huadan sandbox` as a process:
//! a full backfill stores exactly the sandbox's dataset, a second run adds nothing, and
//! with faults on (HTTP 500, timeouts, rate limits, expired tokens) it is still exact.

mod support;

use huadan_config::Config;
use huadan_store::CallFilter;
use std::path::Path;
use std::process::{Output, Stdio};
use std::time::Duration;
use support::{Sandbox, huadan, wait_bounded};

/// The sandbox these tests use: seed 11, `faults` on, `extra_source_keys` added to every
/// `[[sources]]` entry of its config.
fn start(days: u32, calls_per_day: u32, faults: &str, extra_source_keys: &str) -> Sandbox {
    let sb = Sandbox::start(11, days, calls_per_day, &["--faults", faults]);
    if !extra_source_keys.is_empty() {
        sb.edit_config(|t| t.replace("[[sources]]\n", &format!("[[sources]]\n{extra_source_keys}\n")));
    }
    sb
}

fn sync(dir: &Path, args: &[&str]) -> Output {
    let mut child = huadan()
        .current_dir(dir)
        .args(["--config", "huadan.toml", "sync"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Bounded: a sync that hangs fails the test instead of blocking it.
    wait_bounded(&mut child, Duration::from_secs(240), "huadan sync");
    child.wait_with_output().unwrap()
}

/// Summary rows: source → (fetched, new, updated).
fn summary(out: &Output) -> Vec<(String, String, u64, u64, u64)> {
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .skip_while(|l| !l.starts_with("SOURCE"))
        .skip(1)
        .filter_map(|l| {
            let c: Vec<&str> = l.split_whitespace().collect();
            (c.len() >= 10).then(|| {
                (
                    c[0].to_string(),
                    c[2].to_string(),
                    c[3].parse().unwrap(),
                    c[4].parse().unwrap(),
                    c[5].parse().unwrap(),
                )
            })
        })
        .collect()
}

async fn stored_counts(dir: &Path, config: &Config) -> Vec<(String, u64)> {
    let url = format!("sqlite://{}", dir.join("huadan.db").display());
    let store = huadan_store::open(&url).await.unwrap();
    let mut out = Vec::new();
    for s in &config.sources {
        let n = store.count(&CallFilter { sources: vec![s.name.clone()], ..Default::default() }).await.unwrap();
        out.push((s.name.clone(), n));
    }
    out
}

fn assert_exact(sb: &Sandbox, counts: &[(String, u64)]) {
    let (dataset, origin, until) = sb.expectation();
    let config = sb.config();
    for (name, n) in counts {
        let kind = config.source(name).unwrap().kind;
        let expected = dataset.count_between(kind, origin, until);
        assert!(expected > 0);
        assert_eq!(*n, expected, "source {name}: stored {n}, the sandbox holds {expected}");
    }
}

fn since_until(sb: &Sandbox) -> (String, String) {
    let (_, origin, until) = sb.expectation();
    (origin.to_string(), until.to_string())
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

#[test]
fn sandbox_full_backfill_is_exact_and_second_run_adds_nothing() {
    let sb = start(3, 400, "", "");
    let (since, until) = since_until(&sb);
    let out = sync(sb.dir(), &["--since", &since, "--until", &until]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "exit {:?}\n{stderr}", out.status);
    let rows = summary(&out);
    assert_eq!(rows.len(), 5, "{}", String::from_utf8_lossy(&out.stdout));
    assert!(rows.iter().all(|r| r.1 == "ok"));
    let counts = rt().block_on(stored_counts(sb.dir(), &sb.config()));
    assert_exact(&sb, &counts);
    // Plain log lines when stderr is not a TTY.
    assert!(stderr.contains("window(s) to fetch"), "{stderr}");

    let again = sync(sb.dir(), &["--since", &since, "--until", &until]);
    assert!(again.status.success());
    for (name, status, fetched, new, _updated) in summary(&again) {
        assert_eq!(status, "ok");
        assert!(fetched > 0, "{name} re-read the range");
        assert_eq!(new, 0, "{name}: a second run must add nothing");
    }
    let counts2 = rt().block_on(stored_counts(sb.dir(), &sb.config()));
    assert_eq!(counts, counts2);
}

#[test]
fn sandbox_sync_with_faults_is_still_exact() {
    // Short request timeouts so that the sandbox's stalls are seen as timeouts quickly.
    let sb = start(3, 1500, "http500=0.05,timeout=0.02,ratelimit=0.05,token_expiry=0.01", "timeout_seconds = 2");
    let (since, until) = since_until(&sb);
    let out = sync(sb.dir(), &["--since", &since, "--until", &until]);
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    // A window that kept failing is recorded and retried by the next run; at most one
    // extra run is allowed to finish the job.
    let out = if out.status.success() { out } else { sync(sb.dir(), &["--since", &since, "--until", &until]) };
    assert!(
        out.status.success(),
        "first run:\n{stdout}\n{stderr}\nsecond run:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let counts = rt().block_on(stored_counts(sb.dir(), &sb.config()));
    assert_exact(&sb, &counts);
    let rows = summary(&out);
    assert_eq!(rows.len(), 5);
    eprintln!("{stdout}");
}

#[test]
fn sync_unknown_source_is_a_usage_error() {
    let sb = start(1, 50, "", "");
    let out = sync(sb.dir(), &["--source", "nope"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("nope") && stderr.contains("wecom"), "{stderr}");
    let out = sync(sb.dir(), &["--since", "yesterday"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn sync_of_one_failing_source_exits_1_and_the_others_still_sync() {
    let sb = start(1, 100, "", "");
    // Break one source's secret: its vendor answers with its own auth error.
    let cfg = sb.dir().join("huadan.toml");
    let text = std::fs::read_to_string(&cfg).unwrap();
    let broken = text
        .lines()
        .map(|l| if l.starts_with("secret_key") { "secret_key = \"wrong-secret\"".to_string() } else { l.to_string() })
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(&cfg, broken).unwrap();
    let out = sync(sb.dir(), &[]);
    assert_eq!(out.status.code(), Some(1));
    let rows = summary(&out);
    let ccc = rows.iter().find(|r| r.0 == "tencent-ccc").unwrap();
    assert_eq!(ccc.1, "FAILED");
    assert!(rows.iter().filter(|r| r.0 != "tencent-ccc").all(|r| r.1 == "ok" && r.2 > 0), "{rows:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("tencent-ccc") && stderr.contains("AuthFailure"), "{stderr}");
    assert!(!stderr.contains("wrong-secret"), "a secret was printed");

    let doctor = huadan().current_dir(sb.dir()).args(["--config", "huadan.toml", "doctor"]).output().unwrap();
    assert_eq!(doctor.status.code(), Some(1));
    let text = String::from_utf8_lossy(&doctor.stdout);
    assert_eq!(text.lines().count(), 5, "{text}");
    let bad = text.lines().find(|l| l.contains("tencent-ccc")).unwrap();
    assert!(bad.starts_with("FAIL") && bad.contains("AuthFailure"), "{bad}");
    assert!(text.lines().filter(|l| !l.contains("tencent-ccc")).all(|l| l.starts_with("ok") && l.contains("quota")));
}

#[test]
fn doctor_reports_an_unreachable_endpoint() {
    let sb = start(1, 50, "", "");
    let cfg = sb.dir().join("huadan.toml");
    let config = sb.config();
    let wecom = config.source("wecom").unwrap().endpoint.to_string();
    let text = std::fs::read_to_string(&cfg).unwrap();
    // A port nobody listens on: bind one and drop it.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    std::fs::write(&cfg, text.replace(wecom.trim_end_matches('/'), &format!("http://127.0.0.1:{port}"))).unwrap();
    let doctor = huadan().current_dir(sb.dir()).args(["--config", "huadan.toml", "doctor"]).output().unwrap();
    assert_eq!(doctor.status.code(), Some(1));
    let text = String::from_utf8_lossy(&doctor.stdout);
    let line = text.lines().find(|l| l.contains("wecom")).unwrap();
    assert!(line.starts_with("FAIL") && line.contains("unreachable"), "{line}");
}
