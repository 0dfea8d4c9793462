//! Shared by the CLI's process tests: a `huadan sandbox` process with its config
//! written into a temp dir, and bounded waits on child processes.

#![allow(dead_code)]

use huadan_fakekit::{Clock, Dataset, DatasetSpec};
use huadan_model::Instant;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::Duration;

/// The `huadan` binary under test.
pub fn huadan() -> Command {
    Command::new(env!("CARGO_BIN_EXE_huadan"))
}

/// A running `huadan sandbox` (killed on drop) and the temp dir holding its config.
pub struct Sandbox {
    child: Child,
    dir: tempfile::TempDir,
    /// The dataset it serves.
    pub spec: DatasetSpec,
    /// Its start line: per vendor kind, the endpoint and credentials.
    pub info: serde_json::Value,
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Sandbox {
    /// Start one with `extra` sandbox flags (e.g. `--no-limits`) and wait for its config.
    pub fn start(seed: u64, days: u32, calls_per_day: u32, extra: &[&str]) -> Sandbox {
        let dir = tempfile::tempdir().unwrap();
        let cfg = dir.path().join("huadan.toml");
        let mut child = huadan()
            .args(["sandbox", "--base-port", "0", "--seed", &seed.to_string(), "--days", &days.to_string()])
            .args(["--calls-per-day", &calls_per_day.to_string()])
            .args(extra)
            .arg("--write-config")
            .arg(&cfg)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let info: serde_json::Value =
            serde_json::from_str(line.trim()).unwrap_or_else(|e| panic!("sandbox start line: {e}: {line}"));
        // The sandbox writes its config whole before it prints the start line.
        assert!(cfg.exists(), "no config at {} after the start line", cfg.display());
        let spec = DatasetSpec { seed, days, calls_per_day, late: 0.0, update: 0.0 };
        Sandbox { child, dir, spec, info }
    }

    /// The temp dir holding `huadan.toml` (and the store, `huadan.db`).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Rewrite the config file with `edit`.
    pub fn edit_config(&self, edit: impl FnOnce(String) -> String) {
        let cfg = self.dir().join("huadan.toml");
        let text = std::fs::read_to_string(&cfg).unwrap();
        std::fs::write(&cfg, edit(text)).unwrap();
    }

    /// The parsed config.
    pub fn config(&self) -> huadan_config::Config {
        huadan_config::Config::load(&self.dir().join("huadan.toml")).unwrap()
    }

    /// The dataset as served, with its first instant and today's GMT+8 midnight.
    pub fn expectation(&self) -> (Dataset, Instant, Instant) {
        let d = Dataset::new(self.spec, Clock::real());
        let until = d.origin() + jiff::SignedDuration::from_hours(24 * self.spec.days as i64);
        (d.clone(), d.origin(), until)
    }

    /// `GET /_huadan/sandbox/stats` of one vendor kind (e.g. `tanma`).
    pub fn stats(&self, kind: &str) -> serde_json::Value {
        use std::io::{Read, Write};
        let endpoint = self.info[kind]["endpoint"].as_str().unwrap();
        let host = endpoint.trim_start_matches("http://").split('/').next().unwrap();
        let mut s = std::net::TcpStream::connect(host).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        write!(s, "GET {} HTTP/1.0\r\nHost: {host}\r\n\r\n", huadan_sandbox::STATS_PATH).unwrap();
        let mut body = String::new();
        s.read_to_string(&mut body).unwrap();
        let json = body.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or_default();
        serde_json::from_str(json).unwrap_or_else(|e| panic!("stats of {kind}: {e}: {body}"))
    }

    /// The store in the temp dir.
    pub async fn store(&self) -> huadan_store::DynStore {
        huadan_store::open(&format!("sqlite://{}", self.dir().join("huadan.db").display())).await.unwrap()
    }
}

/// Wait for `child` to exit, killing it and failing the test after `limit`.
pub fn wait_bounded(child: &mut Child, limit: Duration, what: &str) -> ExitStatus {
    let deadline = std::time::Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("{what} did not exit within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Send `signal` (e.g. "TERM") to a child process.
pub fn signal(child: &Child, signal: &str) {
    let ok = Command::new("kill").arg(format!("-{signal}")).arg(child.id().to_string()).status().unwrap();
    assert!(ok.success(), "kill -{signal} failed");
}
