//! `huadan export` as a process over a seeded SQLite store: CSV (with and without BOM),
//! JSON Lines, Parquet; the CLI filters; usage errors exit 2 naming the flag.

use huadan_model::{CallRecord, Direction, Disposition, Instant, Provider};
use huadan_store::Batch;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn huadan() -> Command {
    Command::new(env!("CARGO_BIN_EXE_huadan"))
}

fn seed(dir: &Path) -> PathBuf {
    let db = dir.join("export.db");
    let url = format!("sqlite://{}", db.display());
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let store = huadan_store::open(&url).await.unwrap();
        for (source, provider) in [("hq", Provider::Wecom), ("ccc", Provider::TencentCcc)] {
            let records = (0..25)
                .map(|i| {
                    let at = Instant::from_second(1_709_251_200 + i * 3600).unwrap();
                    let mut r = CallRecord::new(source, provider, &format!("c{i}"), at);
                    r.direction = if i % 2 == 0 { Direction::Inbound } else { Direction::Outbound };
                    r.disposition = if i % 3 == 0 { Disposition::NoAnswer } else { Disposition::Answered };
                    r.talk_seconds = Some(i * 10);
                    r.caller.number = Some(format!("1381234{i:04}"));
                    r.remark = Some("备注, with comma".into());
                    r.raw = serde_json::json!({ "i": i }).into();
                    r
                })
                .collect();
            store.commit(Batch { source: source.into(), records, state: None }).await.unwrap();
        }
    });
    let cfg = dir.join("huadan.toml");
    std::fs::write(&cfg, format!("[store]\nurl = \"{url}\"\n")).unwrap();
    cfg
}

fn export(cfg: &Path, args: &[&str]) -> Output {
    huadan().arg("--config").arg(cfg).arg("export").args(args).output().unwrap()
}

#[test]
fn export_writes_csv_jsonl_and_parquet_files() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = seed(dir.path());
    let csv = dir.path().join("all.csv");
    let out = export(&cfg, &["--format", "csv", "--bom", "--output", csv.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("exported 50 records"));
    let bytes = std::fs::read(&csv).unwrap();
    assert!(bytes.starts_with(b"\xEF\xBB\xBFid,source,provider"));
    let text = String::from_utf8(bytes).unwrap();
    assert_eq!(text.matches("\r\n").count(), 51);
    assert!(text.contains("\"备注, with comma\""));

    let jsonl = dir.path().join("some.jsonl");
    let out = export(
        &cfg,
        &["--format", "jsonl", "--source", "ccc", "--disposition", "answered", "--since", "2024-03-01 12:00:00"],
    );
    assert_eq!(out.status.code(), Some(2), "--output is required");
    let out = export(
        &cfg,
        &[
            "--format",
            "jsonl",
            "--output",
            jsonl.to_str().unwrap(),
            "--source",
            "ccc",
            "--disposition",
            "answered",
            "--since",
            "2024-03-01 12:00:00",
        ],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let recs: Vec<CallRecord> =
        std::fs::read_to_string(&jsonl).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    // 12:00 Beijing = 04:00Z: hours 4..24 of ccc, answered (i % 3 != 0).
    let want = (4..25).filter(|i| i % 3 != 0).count();
    assert_eq!(recs.len(), want);
    assert!(recs.iter().all(|r| r.source == "ccc" && r.disposition == Disposition::Answered));
    assert!(recs.windows(2).all(|w| w[0].started_at >= w[1].started_at), "newest first");

    let pq = dir.path().join("all.parquet");
    let out = export(&cfg, &["--format", "parquet", "--output", pq.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let bytes = std::fs::read(&pq).unwrap();
    assert!(bytes.starts_with(b"PAR1") && bytes.ends_with(b"PAR1"));
}

#[test]
fn export_usage_errors_exit_2_naming_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = seed(dir.path());
    let o = dir.path().join("x.jsonl");
    let out = export(&cfg, &["--format", "jsonl", "--bom", "--output", o.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--bom"));
    let out = export(&cfg, &["--format", "csv", "--since", "yesterday", "--output", o.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--since"));
    let out = export(&cfg, &["--format", "csv", "--provider", "tencent", "--output", o.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--provider"));
    assert!(!o.exists());
}
