//! `huadan sync --follow`: polls every `interval_seconds` until SIGINT/SIGTERM, then
//! finishes the windows in hand and exits 0; a second signal exits at once (130). After
//! any of these the store is consistent: a plain re-run completes it exactly.

mod support;

use huadan_store::CallFilter;
use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::Duration;
use support::{Sandbox, huadan, signal, wait_bounded};

/// `huadan sync --follow --since … [--until …]` with stderr lines forwarded to a channel.
fn follow(sb: &Sandbox, extra: &[&str]) -> (Child, mpsc::Receiver<String>) {
    let (_, origin, _) = sb.expectation();
    let mut child = huadan()
        .current_dir(sb.dir())
        .args(["--config", "huadan.toml", "sync", "--follow", "--since", &origin.to_string()])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = mpsc::channel();
    let stderr = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    (child, rx)
}

/// Read stderr lines until `n` of them contain `needle`; all lines read so far.
fn wait_for_lines(rx: &mpsc::Receiver<String>, needle: &str, n: usize, limit: Duration) -> Vec<String> {
    let deadline = std::time::Instant::now() + limit;
    let mut seen = Vec::new();
    let mut hits = 0;
    while hits < n {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => {
                hits += usize::from(line.contains(needle));
                seen.push(line);
            }
            Err(_) => panic!("waited {limit:?} for {n}× `{needle}`; stderr so far:\n{}", seen.join("\n")),
        }
    }
    seen
}

/// Records stored per source against what the sandbox holds in `[origin, until)` on the
/// axis its list API filters on (every run here stops at `until`).
fn assert_store_exact(sb: &Sandbox) {
    let (dataset, origin, until) = sb.expectation();
    let config = sb.config();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let store = rt.block_on(sb.store());
    for s in &config.sources {
        let filter = CallFilter { sources: vec![s.name.clone()], ..Default::default() };
        let stored = rt.block_on(store.count(&filter)).unwrap();
        let expected = dataset.count_between(s.kind, origin, until);
        assert!(expected > 0);
        assert_eq!(stored, expected, "source {}: stored {stored}, the sandbox holds {expected}", s.name);
    }
}

fn plain_sync(sb: &Sandbox) {
    let (_, origin, until) = sb.expectation();
    let mut child = huadan()
        .current_dir(sb.dir())
        .args(["--config", "huadan.toml", "sync", "--since", &origin.to_string(), "--until", &until.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let status = wait_bounded(&mut child, Duration::from_secs(180), "huadan sync");
    assert!(status.success(), "plain sync after the follow run: {status:?}");
}

#[test]
fn follow_polls_every_interval_until_sigterm_then_exits_0() {
    let sb = Sandbox::start(21, 2, 200, &[]);
    sb.edit_config(|t| t.replace("interval_seconds = 60", "interval_seconds = 1"));
    let (_, _, until) = sb.expectation();
    let (mut child, rx) = follow(&sb, &["--until", &until.to_string()]);
    // Two complete runs, each followed by the wait for the next one.
    wait_for_lines(&rx, "next run in 1s", 2, Duration::from_secs(120));
    signal(&child, "TERM");
    let status = wait_bounded(&mut child, Duration::from_secs(30), "huadan sync --follow after SIGTERM");
    let rest: Vec<String> = rx.try_iter().collect();
    assert!(status.success(), "exit {status:?}; stderr tail:\n{}", rest.join("\n"));
    assert!(rest.iter().any(|l| l.contains("stopping after the windows in hand")), "{}", rest.join("\n"));
    let mut stdout = String::new();
    std::io::Read::read_to_string(&mut child.stdout.take().unwrap(), &mut stdout).unwrap();
    assert!(stdout.matches("SOURCE").count() >= 2, "a summary after every run:\n{stdout}");
    // Every run after the first re-read the same range and added nothing.
    let news: Vec<u64> = stdout
        .lines()
        .filter(|l| l.contains(" ok "))
        .filter_map(|l| l.split_whitespace().nth(4).and_then(|n| n.parse().ok()))
        .collect();
    assert!(news.len() >= 10 && news[5..].iter().all(|&n| n == 0), "{stdout}");
    assert_store_exact(&sb);
}

#[test]
fn sigterm_mid_run_finishes_the_windows_in_hand_and_loses_nothing() {
    // With the vendors' quotas on, a backfill of this size takes several seconds.
    let sb = Sandbox::start(22, 4, 3000, &[]);
    let (_, _, until) = sb.expectation();
    let (mut child, rx) = follow(&sb, &["--until", &until.to_string()]);
    wait_for_lines(&rx, "window(s) to fetch", 1, Duration::from_secs(60));
    std::thread::sleep(Duration::from_millis(500));
    signal(&child, "TERM");
    let status = wait_bounded(&mut child, Duration::from_secs(60), "huadan sync --follow after SIGTERM");
    let rest: Vec<String> = rx.try_iter().collect();
    assert!(status.code().is_some(), "exited by itself, not by the signal: {status:?}");
    assert!(rest.iter().any(|l| l.contains("stopping after the windows in hand")), "{}", rest.join("\n"));
    // Whatever the interrupted run stored, a plain run completes it exactly, without doubles.
    plain_sync(&sb);
    assert_store_exact(&sb);
}

#[test]
fn a_second_signal_exits_at_once_with_130() {
    let sb = Sandbox::start(23, 4, 3000, &[]);
    let (_, _, until) = sb.expectation();
    let (mut child, rx) = follow(&sb, &["--until", &until.to_string()]);
    wait_for_lines(&rx, "window(s) to fetch", 1, Duration::from_secs(60));
    signal(&child, "INT");
    wait_for_lines(&rx, "stopping after the windows in hand", 1, Duration::from_secs(10));
    signal(&child, "INT");
    let status = wait_bounded(&mut child, Duration::from_secs(10), "huadan sync --follow after a second SIGINT");
    assert_eq!(status.code(), Some(130), "{status:?}");
    plain_sync(&sb);
    assert_store_exact(&sb);
}
