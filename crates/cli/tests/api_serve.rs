//! `huadan serve` as a process: it syncs `huadan sandbox` on schedule and serves the
//! records over the REST API; it refuses an open API off loopback; SIGTERM stops it
//! cleanly (exit 0).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const TOKEN: &str = "serve-test-token-123";

fn huadan() -> Command {
    Command::new(env!("CARGO_BIN_EXE_huadan"))
}

struct Kill(Child);
impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// One HTTP/1.1 request over a fresh connection; `(status, body)`.
fn http(addr: SocketAddr, method: &str, path: &str, token: Option<&str>) -> Option<(u16, String)> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(20))).ok()?;
    let auth = token.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
    write!(s, "{method} {path} HTTP/1.1\r\nHost: {addr}\r\n{auth}Content-Length: 0\r\nConnection: close\r\n\r\n")
        .ok()?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).ok()?;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let status = text.get(9..12)?.parse().ok()?;
    let (head, body) = text.split_once("\r\n\r\n")?;
    let body =
        if head.to_ascii_lowercase().contains("transfer-encoding: chunked") { dechunk(body) } else { body.to_string() };
    Some((status, body))
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = s.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 {
            break;
        }
        out.push_str(&rest[..n]);
        s = &rest[n + 2..];
    }
    out
}

fn wait_until<T>(secs: u64, mut f: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < deadline {
        if let Some(v) = f() {
            return Some(v);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    None
}

#[test]
fn serve_syncs_the_sandbox_on_schedule_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("huadan.toml");
    let mut sandbox = huadan()
        .args(["sandbox", "--base-port", "0", "--seed", "5", "--days", "2", "--calls-per-day", "20", "--write-config"])
        .arg(&cfg)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(sandbox.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let _sandbox = Kill(sandbox);
    assert!(line.starts_with('{'), "sandbox start line: {line}");
    wait_until(10, || std::fs::metadata(&cfg).ok().filter(|m| m.len() > 0)).expect("sandbox wrote its config");
    std::thread::sleep(Duration::from_millis(100));

    let port = free_port();
    let db = dir.path().join("serve.db");
    let text = std::fs::read_to_string(&cfg).unwrap();
    let text = text.replace("url = \"sqlite://huadan.db\"", &format!("url = \"sqlite://{}\"", db.display()));
    let text = text.replace(
        "[sync]\n",
        &format!("[server]\nlisten = \"127.0.0.1:{port}\"\napi_tokens = [\"{TOKEN}\"]\n\n[sync]\n"),
    );
    std::fs::write(&cfg, text).unwrap();

    let serve =
        huadan().arg("--config").arg(&cfg).arg("serve").stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
    let mut serve = Kill(serve);
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    wait_until(30, || http(addr, "GET", "/healthz", None).filter(|(s, _)| *s == 200)).expect("serve came up");

    // The first scheduled round starts at once: wait until every source has synced.
    let sources = wait_until(120, || {
        let (status, body) = http(addr, "GET", "/v1/sources", Some(TOKEN))?;
        assert_eq!(status, 200, "{body}");
        let v: serde_json::Value = serde_json::from_str(&body).ok()?;
        let all = v["sources"].as_array()?.clone();
        let done = all.len() == 5 && all.iter().all(|s| s["last_success"].is_string() && s["running"] == false);
        done.then_some(all)
    })
    .expect("every source synced by the scheduler");
    let total: u64 = sources.iter().map(|s| s["records"].as_u64().unwrap()).sum();
    assert!(total > 0, "{sources:?}");

    let (status, body) = http(addr, "GET", "/v1/calls?limit=5&source=tencent-ccc", Some(TOKEN)).unwrap();
    assert_eq!(status, 200, "{body}");
    let page: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(page["items"].as_array().unwrap().len(), 5);
    assert!(page["items"].as_array().unwrap().iter().all(|r| r["source"] == "tencent-ccc"));
    let (status, _) = http(addr, "GET", "/v1/calls", None).unwrap();
    assert_eq!(status, 401);
    let (status, body) = http(addr, "POST", "/v1/sources/wecom/sync", Some(TOKEN)).unwrap();
    assert!(status == 202 || status == 409, "{status} {body}");
    let (status, metrics) = http(addr, "GET", "/metrics", Some(TOKEN)).unwrap();
    assert_eq!(status, 200);
    assert!(metrics.contains("huadan_sync_records_fetched_total{source=\"tanma\"}"), "{metrics}");

    let pid = serve.0.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let code = wait_until(30, || serve.0.try_wait().unwrap()).expect("serve exited after SIGTERM");
    let mut err = String::new();
    serve.0.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    assert!(code.success(), "exit {code:?}: {err}");
    assert!(err.contains("REST API on http://127.0.0.1:"), "{err}");
    assert!(!err.contains(TOKEN), "the token was printed");
}

#[test]
fn serve_refuses_an_open_api_off_loopback_with_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("huadan.toml");
    let db = dir.path().join("x.db");
    std::fs::write(&cfg, format!("[store]\nurl = \"sqlite://{}\"\n[server]\nlisten = \"0.0.0.0:0\"\n", db.display()))
        .unwrap();
    let out = huadan().arg("--config").arg(&cfg).arg("serve").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("refusing to listen on 0.0.0.0:0") && err.contains("server.api_tokens"), "{err}");
}

#[test]
fn serve_says_the_open_api_is_loopback_only() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("huadan.toml");
    let port = free_port();
    let db = dir.path().join("x.db");
    std::fs::write(
        &cfg,
        format!("[store]\nurl = \"sqlite://{}\"\n[server]\nlisten = \"127.0.0.1:{port}\"\n", db.display()),
    )
    .unwrap();
    let child = huadan().arg("--config").arg(&cfg).arg("serve").stderr(Stdio::piped()).spawn().unwrap();
    let mut child = Kill(child);
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    wait_until(30, || http(addr, "GET", "/healthz", None).filter(|(s, _)| *s == 200)).expect("serve came up");
    let (status, _) = http(addr, "GET", "/v1/calls", None).unwrap();
    assert_eq!(status, 200, "no tokens: open on loopback");
    Command::new("kill").args(["-TERM", &child.0.id().to_string()]).status().unwrap();
    wait_until(30, || child.0.try_wait().unwrap()).expect("exited");
    let mut err = String::new();
    child.0.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    assert!(err.contains("no server.api_tokens configured") && err.contains("loopback only"), "{err}");
}
