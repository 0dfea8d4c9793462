//! `huadan sync` on a terminal draws a progress bar per source (windows, records, rate)
//! instead of the plain log lines it writes when stderr is not a TTY. The terminal is a
//! pseudo-terminal from util-linux `script`.

mod support;

use std::process::Command;
use std::time::Duration;
use support::{Sandbox, wait_bounded};

#[test]
fn a_terminal_gets_progress_bars_per_source() {
    if Command::new("script").arg("--version").output().is_err() {
        panic!("util-linux `script` is needed for the pseudo-terminal (apt-get install -y bsdutils)");
    }
    let sb = Sandbox::start(31, 2, 1000, &["--no-limits"]);
    let (_, origin, until) = sb.expectation();
    let cmd = format!("{} --config huadan.toml sync --since {origin} --until {until}", env!("CARGO_BIN_EXE_huadan"));
    let out_path = sb.dir().join("tty.out");
    let mut child = Command::new("script")
        .current_dir(sb.dir())
        .args(["-qec", &cmd])
        .arg(&out_path)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let status = wait_bounded(&mut child, Duration::from_secs(120), "huadan sync under script");
    assert!(status.success(), "{status:?}");
    let raw = std::fs::read(&out_path).unwrap();
    let text = String::from_utf8_lossy(&raw).replace('\r', "\n");
    for source in ["wecom", "tencent-ccc", "aliyun-ccc", "tencent-ads", "tanma"] {
        let bar = text.lines().rev().find(|l| l.contains(source) && l.contains(" windows "));
        let bar = bar.unwrap_or_else(|| panic!("no progress bar for {source} in:\n{text}"));
        assert!(bar.contains("records"), "{bar}");
    }
    assert!(!text.contains("window(s) to fetch"), "plain log lines on a terminal:\n{text}");
    // The summary table still follows the bars.
    assert!(text.contains("SOURCE") && text.contains("FETCHED"), "{text}");
}
