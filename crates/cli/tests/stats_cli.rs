//! `huadan stats --by …` as a process, over a store seeded through `huadan_store`.

use huadan_model::{Agent, CallRecord, Disposition, Provider};
use huadan_store::{Batch, SqliteStore, StatsRow, Store};
use std::process::{Command, Output};

fn seeded() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("h.db");
    // Around Beijing midnight: 15:59:59Z is 23:59:59 on 03-01, 16:00:00Z is 00:00 on 03-02.
    let rows = [
        ("2024-03-01T01:00:00Z", "w1", "王芳", Disposition::Answered, Some(60)),
        ("2024-03-01T15:59:59Z", "w1", "王芳", Disposition::Answered, Some(120)),
        ("2024-03-01T16:00:00Z", "l2", "李雷", Disposition::NoAnswer, Some(0)),
        ("2024-03-02T02:00:00Z", "l2", "李雷", Disposition::Answered, Some(30)),
        ("2024-03-02T03:00:00Z", "l2", "李雷", Disposition::Answered, None),
    ];
    let records: Vec<CallRecord> = rows
        .iter()
        .enumerate()
        .map(|(i, (t, agent, name, disp, talk))| {
            let mut r = CallRecord::new("tanma", Provider::Tanma, &format!("c{i}"), t.parse().unwrap());
            r.disposition = *disp;
            r.talk_seconds = *talk;
            r.agent = Some(Agent { id: Some(agent.to_string()), name: Some(name.to_string()), ..Agent::default() });
            r
        })
        .collect();
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
        let store = SqliteStore::open(&db).await.unwrap();
        store.commit(Batch { source: "tanma".into(), records, state: None }).await.unwrap();
    });
    std::fs::write(
        dir.path().join("huadan.toml"),
        format!("timezone = \"Asia/Shanghai\"\n[store]\nurl = \"sqlite://{}\"\n", db.display()),
    )
    .unwrap();
    dir
}

fn run(dir: &tempfile::TempDir, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_huadan"))
        .arg("--config")
        .arg(dir.path().join("huadan.toml"))
        .arg("stats")
        .args(args)
        .env_remove("RUST_LOG")
        .output()
        .unwrap()
}

fn json(dir: &tempfile::TempDir, args: &[&str]) -> Vec<StatsRow> {
    let mut all = args.to_vec();
    all.extend(["--format", "json"]);
    let out = run(dir, &all);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn by_day_uses_beijing_days() {
    let d = seeded();
    let rows = json(&d, &["--by", "day"]);
    let got: Vec<(&str, u64, u64)> = rows.iter().map(|r| (r.key.as_str(), r.calls, r.answered)).collect();
    assert_eq!(got, [("2024-03-01", 2, 2), ("2024-03-02", 3, 2)]);
    assert_eq!(rows[0].talk_seconds_total, 180);
    assert_eq!(rows[0].talk_seconds_mean, Some(90.0));
    assert_eq!(rows[0].talk_seconds_p90, Some(120));
    assert!((rows[1].answered_rate - 2.0 / 3.0).abs() < 1e-9);
    // Mean over answered calls with a duration: only the 30 s call.
    assert_eq!(rows[1].talk_seconds_mean, Some(30.0));
}

#[test]
fn by_hour_and_weekday() {
    let d = seeded();
    let hours: Vec<String> = json(&d, &["--by", "hour"]).into_iter().map(|r| r.key).collect();
    assert_eq!(hours, ["00", "09", "10", "11", "23"]);
    let weekdays: Vec<(String, u64)> = json(&d, &["--by", "weekday"]).into_iter().map(|r| (r.key, r.calls)).collect();
    // 2024-03-01 was a Friday.
    assert_eq!(weekdays, [("5".to_string(), 2), ("6".to_string(), 3)]);
}

#[test]
fn by_agent_has_names_and_first_and_last_call() {
    let d = seeded();
    let rows = json(&d, &["--by", "agent"]);
    assert_eq!(rows[0].key, "l2");
    assert_eq!(rows[0].label.as_deref(), Some("李雷"));
    assert_eq!(rows[0].first_call.unwrap().to_string(), "2024-03-01T16:00:00Z");
    assert_eq!(rows[0].last_call.unwrap().to_string(), "2024-03-02T03:00:00Z");
    let out = run(&d, &["--by", "agent"]);
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("agent  name") && lines[0].contains("first_call"), "{text}");
    assert!(lines[1].starts_with("l2     李雷"), "{text}");
    assert!(lines[1].contains("66.7%"), "{text}");
}

#[test]
fn filters_and_formats() {
    let d = seeded();
    let rows = json(&d, &["--by", "disposition", "--since", "2024-03-02"]);
    assert_eq!(rows.iter().map(|r| (r.key.as_str(), r.calls)).collect::<Vec<_>>(), [("answered", 2), ("no_answer", 1)]);
    let csv = String::from_utf8(run(&d, &["--by", "provider", "--format", "csv"]).stdout).unwrap();
    assert_eq!(
        csv.lines().next(),
        Some(
            "key,label,calls,answered,answered_rate,talk_seconds_total,talk_seconds_mean,talk_seconds_p90,first_call,last_call"
        )
    );
    assert!(csv.lines().nth(1).unwrap().starts_with("tanma,,5,4,0.8000,210,70.0,120,"), "{csv}");
    let jsonl = String::from_utf8(run(&d, &["--by", "source", "--format", "jsonl"]).stdout).unwrap();
    assert_eq!(jsonl.lines().count(), 1);
    let empty = json(&d, &["--by", "day", "--agent", "nobody"]);
    assert!(empty.is_empty());
}

#[test]
fn a_bad_grouping_exits_2_naming_by() {
    let d = seeded();
    let out = run(&d, &["--by", "week"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--by") && stderr.contains("weekday"), "{stderr}");
}
