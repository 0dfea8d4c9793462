//! `huadan sync` with `[recordings] archive = true` against `huadan sandbox` (HTTP 500s
//! on): the sync itself queues and archives every recording link of the records it
//! stores — no `recordings fetch` needed — each file byte-identical to what its link
//! serves, and each stored record naming its archived copy.

mod support;

use std::io::{Read, Write};
use std::process::{Command, Output};
use std::time::Duration;
use support::Sandbox;

fn run(dir: &std::path::Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_huadan"))
        .arg("--config")
        .arg(dir.join("huadan.toml"))
        .args(args)
        .env_remove("RUST_LOG")
        .output()
        .unwrap()
}

/// `GET url` over plain HTTP/1.1 on 127.0.0.1: (status, body).
fn get(url: &str) -> (u16, Vec<u8>) {
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = rest.split_at(rest.find('/').unwrap());
    assert!(host.starts_with("127.0.0.1:"), "{url}");
    let mut s = std::net::TcpStream::connect(host).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    assert!(!head.to_ascii_lowercase().contains("transfer-encoding: chunked"), "{head}");
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    (status, raw[split + 4..].to_vec())
}

/// What a link serves, retrying the sandbox's injected 500s (bounded).
fn fetch(url: &str) -> Vec<u8> {
    for _ in 0..40 {
        let (status, body) = get(url);
        if status == 200 {
            return body;
        }
        assert_eq!(status, 500, "{url}");
    }
    panic!("{url} kept failing");
}

#[test]
fn sync_archives_every_recording_of_every_source() {
    let sb = Sandbox::start(9, 2, 12, &["--faults", "http500=0.1"]);
    let (dir, cfg) = (sb.dir(), sb.dir().join("huadan.toml"));
    let archive = dir.join("archive");
    let text = std::fs::read_to_string(&cfg).unwrap().replace(
        "[store]\nurl = \"sqlite://huadan.db\"",
        &format!("[store]\nurl = \"sqlite://{}\"", dir.join("h.db").display()),
    );
    assert!(text.contains("h.db"), "the store points into the temp dir");
    let text = format!(
        "{text}\n[recordings]\narchive = true\nstore = \"file://{}\"\nper_host_interval_ms = 0\nretry_base_seconds = 0.05\nretry_max_seconds = 0.2\n",
        archive.display()
    );
    std::fs::write(&cfg, text).unwrap();

    let sync = run(dir, &["sync"]);
    let stderr = String::from_utf8_lossy(&sync.stderr).to_string();
    assert!(sync.status.success(), "{stderr}");
    assert!(stderr.contains("recordings: archived"), "{stderr}");

    // Every recording of every stored record is archived, and the record says where.
    let calls = run(dir, &["calls", "--format", "jsonl", "--limit", "100000"]);
    assert!(calls.status.success());
    let mut recordings = Vec::new();
    for l in String::from_utf8_lossy(&calls.stdout).lines() {
        let v: serde_json::Value = serde_json::from_str(l).unwrap();
        for r in v["recordings"].as_array().unwrap() {
            let url = r["url"].as_str().unwrap().to_string();
            let path = r["archived_path"].as_str().map(String::from);
            recordings.push((v["source"].as_str().unwrap().to_string(), url, path));
        }
    }
    let sources: std::collections::BTreeSet<&str> = recordings.iter().map(|(s, _, _)| s.as_str()).collect();
    for s in ["tencent-ads", "tencent-ccc", "tanma"] {
        assert!(sources.contains(s), "{s} handed out recordings: {sources:?}");
    }
    let missing: Vec<_> = recordings.iter().filter(|(_, _, p)| p.is_none()).collect();
    assert!(missing.is_empty(), "{} of {} not archived: {:?}", missing.len(), recordings.len(), &missing[..1]);

    let status = run(dir, &["recordings", "status", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(v["archived"].as_u64(), Some(recordings.len() as u64), "{v}");
    assert_eq!((v["pending"].as_u64(), v["failed"].as_u64(), v["expired"].as_u64()), (Some(0), Some(0), Some(0)));

    // Each archived file is exactly what its link serves (and a valid MP3).
    let mut bytes = 0;
    for (source, url, path) in &recordings {
        let path = path.as_deref().unwrap();
        assert!(path.starts_with(&format!("{source}/")) && path.ends_with(".mp3"), "{path}");
        let file = std::fs::read(archive.join(path)).unwrap();
        assert_eq!(&file[..2], &[0xFF, 0xFB], "{path}");
        assert!(file == fetch(url), "{path} differs from what {url} serves");
        bytes += file.len() as u64;
    }
    assert_eq!(v["bytes"].as_u64(), Some(bytes));

    // A second sync re-reads the lookback: nothing is fetched again, no path is lost.
    let again = run(dir, &["sync"]);
    assert!(again.status.success(), "{}", String::from_utf8_lossy(&again.stderr));
    assert!(String::from_utf8_lossy(&again.stderr).contains("recordings: archived 0 "));
    let calls = run(dir, &["calls", "--format", "jsonl", "--limit", "100000"]);
    let archived_after = String::from_utf8_lossy(&calls.stdout).matches("\"archived_path\":\"").count();
    assert_eq!(archived_after, recordings.len());
}
