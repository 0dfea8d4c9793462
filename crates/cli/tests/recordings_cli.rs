//! `huadan recordings fetch` / `status` as a process, over a seeded store and a recording
//! host on 127.0.0.1.

mod support;

use huadan_model::{CallRecord, Provider, Recording};
use huadan_recordings::audio::sine_wav;
use huadan_store::{Batch, SqliteStore, Store};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::process::{Command, Output};

/// Serves `GET /rec/{seed}.wav` with `sine_wav(4000, seed)`; `/gone/...` answers 403.
fn audio_host() -> String {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", l.local_addr().unwrap());
    std::thread::spawn(move || {
        for conn in l.incoming().take(200) {
            let Ok(mut c) = conn else { continue };
            let mut buf = vec![0u8; 4096];
            let n = c.read(&mut buf).unwrap_or(0);
            let req = String::from_utf8_lossy(&buf[..n]).to_string();
            let path = req.split_whitespace().nth(1).unwrap_or("/").to_string();
            let resp = match path.strip_prefix("/rec/").and_then(|p| p.strip_suffix(".wav")).and_then(|s| s.parse().ok()) {
                Some(seed) => {
                    let body = sine_wav(4000, seed);
                    let mut r = format!("HTTP/1.1 200 OK\r\nContent-Type: audio/wav\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len()).into_bytes();
                    r.extend_from_slice(&body);
                    r
                }
                None => b"HTTP/1.1 403 Forbidden\r\nContent-Type: application/json\r\nContent-Length: 13\r\nConnection: close\r\n\r\n{\"code\":403}\n".to_vec(),
            };
            let _ = c.write_all(&resp);
        }
    });
    base
}

fn rec(url: String, expires_at: Option<jiff::Timestamp>) -> Recording {
    Recording { url, expires_at, archived_path: None }
}

fn run(dir: &std::path::Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_huadan"))
        .arg("--config")
        .arg(dir.join("huadan.toml"))
        .args(args)
        .env_remove("RUST_LOG")
        .output()
        .unwrap()
}

#[test]
fn recordings_fetch_archives_and_status_counts() {
    let dir = tempfile::tempdir().unwrap();
    let base = audio_host();
    let db = dir.path().join("h.db");
    let now = jiff::Timestamp::now();
    let started = now - jiff::SignedDuration::from_hours(2);
    let mut a1 = CallRecord::new("ads", Provider::TencentAds, "a1", started);
    a1.recordings = vec![rec(format!("{base}/rec/1.wav"), None), rec(format!("{base}/rec/2.wav"), None)];
    let mut a2 = CallRecord::new("ads", Provider::TencentAds, "a2", started);
    a2.recordings = vec![rec(format!("{base}/rec/3.wav"), Some(now + jiff::SignedDuration::from_hours(1)))];
    let mut a3 = CallRecord::new("ads", Provider::TencentAds, "a3", started);
    a3.recordings = vec![rec(format!("{base}/gone/4.wav"), Some(now - jiff::SignedDuration::from_hours(1)))];
    let mut w1 = CallRecord::new("wecom", Provider::Wecom, "w1", started);
    w1.recordings = vec![rec(format!("{base}/rec/5.wav"), None)];
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let store = SqliteStore::open(&db).await.unwrap();
        store.commit(Batch { source: "ads".into(), records: vec![a1, a2, a3], state: None }).await.unwrap();
        store.commit(Batch { source: "wecom".into(), records: vec![w1], state: None }).await.unwrap();
    });
    let archive = dir.path().join("archive");
    std::fs::write(
        dir.path().join("huadan.toml"),
        format!(
            "[store]\nurl = \"sqlite://{}\"\n\n[recordings]\narchive = true\nstore = \"file://{}\"\nexclude_sources = [\"wecom\"]\nper_host_interval_ms = 0\nretry_base_seconds = 0.05\n",
            db.display(),
            archive.display()
        ),
    )
    .unwrap();

    let out = run(dir.path(), &["recordings", "fetch"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let status = run(dir.path(), &["recordings", "status", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(v["archived"], 3);
    assert_eq!(v["expired"], 1, "the dead link is kept as expired, not dropped");
    assert_eq!(v["pending"], 0);
    assert_eq!(v["bytes"], 3 * (44 + 8000));
    let day = huadan_model::time::gmt8_date(started);
    let dayp = format!("ads/{:04}/{:02}/{:02}", day.year(), day.month(), day.day());
    assert_eq!(std::fs::read(archive.join(format!("{dayp}/ads_a1-1.wav"))).unwrap(), sine_wav(4000, 2));
    assert_eq!(std::fs::read(archive.join(format!("{dayp}/ads_a2-0.wav"))).unwrap(), sine_wav(4000, 3));
    assert!(!archive.join("wecom").exists(), "opted-out source not archived");
    // The stored records now name their archived copies.
    let calls = run(dir.path(), &["calls", "--source", "ads", "--format", "jsonl"]);
    let mut paths: Vec<String> = String::from_utf8_lossy(&calls.stdout)
        .lines()
        .flat_map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            v["recordings"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|r| r["archived_path"].as_str().map(String::from))
                .collect::<Vec<_>>()
        })
        .collect();
    paths.sort();
    assert_eq!(paths, [format!("{dayp}/ads_a1-0.wav"), format!("{dayp}/ads_a1-1.wav"), format!("{dayp}/ads_a2-0.wav")]);

    // A second backfill queues nothing new.
    let again = run(dir.path(), &["recordings", "fetch", "--source", "ads"]);
    assert!(again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("queued 0 recordings"));

    // No [recordings] section: a usage error.
    std::fs::write(dir.path().join("huadan.toml"), format!("[store]\nurl = \"sqlite://{}\"\n", db.display())).unwrap();
    assert_eq!(run(dir.path(), &["recordings", "status"]).status.code(), Some(2));
}

/// `huadan sandbox` → `huadan sync` (Tencent Ads) → `huadan recordings fetch`, with
/// HTTP 500s on: every recording link the sandbox handed out ends archived, as MP3.
#[test]
fn recordings_fetch_from_the_sandbox_with_faults() {
    let sb = support::Sandbox::start(5, 2, 15, &["--faults", "http500=0.15"]);
    let (dir, cfg) = (sb.dir(), sb.dir().join("huadan.toml"));
    let archive = dir.join("archive");
    let text = std::fs::read_to_string(&cfg).unwrap().replace(
        "[store]\nurl = \"sqlite://huadan.db\"",
        &format!("[store]\nurl = \"sqlite://{}\"", dir.join("h.db").display()),
    );
    assert!(text.contains("h.db"), "the store points into the temp dir");
    let text = format!(
        "{text}\n[recordings]\narchive = true\nstore = \"file://{}\"\ninclude_sources = [\"tencent-ads\"]\nper_host_interval_ms = 0\nretry_base_seconds = 0.05\nretry_max_seconds = 0.2\n",
        archive.display()
    );
    std::fs::write(&cfg, text).unwrap();

    let sync = run(dir, &["sync", "--source", "tencent-ads"]);
    assert!(sync.status.success(), "{}", String::from_utf8_lossy(&sync.stderr));
    let calls = run(dir, &["calls", "--source", "tencent-ads", "--format", "jsonl", "--limit", "100000"]);
    let urls: Vec<String> = String::from_utf8_lossy(&calls.stdout)
        .lines()
        .flat_map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            v["recordings"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["url"].as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        })
        .collect();
    assert!(urls.len() >= 5, "the sandbox handed out recordings: {}", urls.len());
    assert!(urls.iter().all(|u| u.contains("/_huadan/sandbox/recordings/") && u.contains("expires=")), "{urls:?}");

    let out = run(dir, &["recordings", "fetch"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let status = run(dir, &["recordings", "status", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(v["archived"], urls.len(), "{v}");
    assert_eq!((v["pending"].as_u64(), v["failed"].as_u64(), v["expired"].as_u64()), (Some(0), Some(0), Some(0)));
    let mut files = vec![];
    let mut stack = vec![archive.clone()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            if e.file_type().unwrap().is_dir() {
                stack.push(e.path());
            } else {
                files.push(e.path());
            }
        }
    }
    assert_eq!(files.len(), urls.len());
    for f in files {
        assert!(f.to_string_lossy().contains("/tencent-ads/") && f.extension().unwrap() == "mp3", "{f:?}");
        assert_eq!(&std::fs::read(&f).unwrap()[..2], &[0xFF, 0xFB]);
    }
}
