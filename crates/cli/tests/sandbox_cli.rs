//! `huadan sandbox` as a process: exactly one JSON line on stdout, --write-config,
//! clean exit on SIGTERM and SIGINT, bad flags are usage errors.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn huadan() -> Command {
    Command::new(env!("CARGO_BIN_EXE_huadan"))
}

fn wait_exit(child: &mut std::process::Child, within: Duration) -> Option<std::process::ExitStatus> {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    None
}

fn start_and_signal(signal: &str) {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("sandbox.toml");
    let mut child = huadan()
        .args(["sandbox", "--base-port", "0", "--days", "2", "--write-config"])
        .arg(&cfg)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let info: serde_json::Value = serde_json::from_str(line.trim()).unwrap();
    for kind in ["wecom", "tencent_ccc", "aliyun_ccc", "tencent_ads", "tanma"] {
        assert!(info[kind]["endpoint"].as_str().unwrap().starts_with("http://127.0.0.1:"), "{kind}: {line}");
    }
    // --write-config is written right after the line; give it a moment.
    let deadline = Instant::now() + Duration::from_secs(5);
    while !cfg.exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let text = std::fs::read_to_string(&cfg).unwrap();
    assert_eq!(text.matches("[[sources]]").count(), 5);

    let status = Command::new("kill").args([signal, &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let exit = wait_exit(&mut child, Duration::from_secs(10)).expect("sandbox must exit after the signal");
    assert!(exit.success(), "exit status {exit:?}");
}

#[test]
fn sandbox_prints_one_json_line_and_stops_cleanly_on_sigterm() {
    start_and_signal("-TERM");
}

#[test]
fn sandbox_stops_cleanly_on_sigint() {
    start_and_signal("-INT");
}

#[test]
fn sandbox_bad_faults_spec_is_a_usage_error() {
    let out = huadan().args(["sandbox", "--base-port", "0", "--faults", "http500=2"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--faults") && err.contains("http500"), "{err}");
    assert!(out.stdout.is_empty());
}
