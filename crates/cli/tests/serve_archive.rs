//! `huadan serve` with `[recordings] archive = true`: the archiver runs in the
//! background, fed by the scheduled syncs of `huadan sandbox`, until every recording is
//! archived and served back by `GET /v1/calls/{id}/recordings/{n}`; SIGTERM still stops
//! the server cleanly.

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use support::{Sandbox, huadan};

const TOKEN: &str = "serve-archive-token-1";

struct Kill(Child);
impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `GET path` with the token: (status, head, body bytes).
fn get(addr: SocketAddr, path: &str) -> Option<(u16, String, Vec<u8>)> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(20))).ok()?;
    write!(s, "GET {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {TOKEN}\r\nConnection: close\r\n\r\n")
        .ok()?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).ok()?;
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let status = head.get(9..12)?.parse().ok()?;
    Some((status, head, raw[split + 4..].to_vec()))
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

/// (record id, index, archived path) of every recording in the store.
fn recordings(cfg: &std::path::Path) -> Vec<(String, usize, Option<String>)> {
    let out = huadan().arg("--config").arg(cfg).args(["calls", "--format", "jsonl", "--limit", "100000"]).output();
    let out = out.unwrap();
    let mut all = Vec::new();
    for l in String::from_utf8_lossy(&out.stdout).lines() {
        let v: serde_json::Value = serde_json::from_str(l).unwrap();
        for (n, r) in v["recordings"].as_array().unwrap().iter().enumerate() {
            all.push((v["id"].as_str().unwrap().to_string(), n, r["archived_path"].as_str().map(String::from)));
        }
    }
    all
}

#[test]
fn serve_archives_what_its_scheduled_syncs_store() {
    let sb = Sandbox::start(7, 2, 10, &[]);
    let (dir, cfg) = (sb.dir(), sb.dir().join("huadan.toml"));
    let archive = dir.join("archive");
    let text = std::fs::read_to_string(&cfg).unwrap();
    let text =
        text.replace("url = \"sqlite://huadan.db\"", &format!("url = \"sqlite://{}\"", dir.join("serve.db").display()));
    let text = text.replace(
        "[sync]\n",
        // Port 0: serve picks a free port and names it on stderr (no race for a port).
        &format!("[server]\nlisten = \"127.0.0.1:0\"\napi_tokens = [\"{TOKEN}\"]\n\n[sync]\n"),
    );
    // Scheduled syncs every few seconds: a run that met a fault is soon followed by another.
    let text = text.replace("interval_seconds = 60", "interval_seconds = 5");
    let text = format!(
        "{text}\n[recordings]\narchive = true\nstore = \"file://{}\"\nper_host_interval_ms = 0\n",
        archive.display()
    );
    std::fs::write(&cfg, text).unwrap();

    let serve = huadan().arg("--config").arg(&cfg).arg("serve").stdout(Stdio::null()).stderr(Stdio::piped()).spawn();
    let mut serve = Kill(serve.unwrap());
    // Every stderr line of serve goes to a channel: the address first, the rest for
    // diagnostics.
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    let stderr = BufReader::new(serve.0.stderr.take().unwrap());
    std::thread::spawn(move || {
        for line in stderr.lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut seen = Vec::new();
    let addr: SocketAddr = loop {
        let line = rx.recv_timeout(Duration::from_secs(60)).unwrap_or_else(|e| panic!("serve: {e}; {seen:?}"));
        if let Some(rest) = line.split("REST API on http://").nth(1) {
            break rest.split('/').next().unwrap().parse().unwrap();
        }
        seen.push(line);
    };

    // Every recording the scheduled syncs stored ends archived, the record saying where.
    let all = wait_until(120, || {
        let all = recordings(&cfg);
        let sources: std::collections::BTreeSet<&str> =
            all.iter().filter_map(|(id, _, _)| id.split(':').next()).collect();
        (sources.len() >= 3 && all.iter().all(|(_, _, p)| p.is_some())).then_some(all.clone())
    })
    .unwrap_or_else(|| {
        let _ = serve.0.kill();
        let err: Vec<String> = rx.try_iter().collect();
        let left: Vec<_> = recordings(&cfg).into_iter().filter(|(_, _, p)| p.is_none()).collect();
        panic!("not every recording archived by the running server: {left:?}\nserve stderr:\n{}", err.join("\n"));
    });
    assert!(all.len() >= 10, "{}", all.len());

    // …and is served back from the archive.
    for (id, n, path) in all.iter().take(5) {
        let (status, head, body) = get(addr, &format!("/v1/calls/{id}/recordings/{n}")).unwrap();
        assert_eq!(status, 200, "{head}");
        assert_eq!(body, std::fs::read(archive.join(path.as_deref().unwrap())).unwrap());
        assert_eq!(&body[..2], &[0xFF, 0xFB]);
    }

    let pid = serve.0.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let code = wait_until(30, || serve.0.try_wait().unwrap()).expect("serve exited after SIGTERM");
    let err: Vec<String> = rx.try_iter().collect();
    assert!(code.success(), "exit {code:?}: {}", err.join("\n"));
}
