//! `huadan calls` as a process, over a store seeded through `huadan_store` directly.

use huadan_model::{Agent, CallRecord, Direction, Disposition, Provider, Sentence, Transcript, TranscriptStatus};
use huadan_store::{Batch, SqliteStore, Store};
use std::process::{Command, Output};

/// A temp dir with a config whose store holds six records (see [`records`]).
struct Seeded {
    dir: tempfile::TempDir,
}

fn at(s: &str) -> huadan_model::Instant {
    s.parse().unwrap()
}

fn records() -> Vec<CallRecord> {
    let mut out = Vec::new();
    let specs = [
        // (source, provider, id, started_at, direction, disposition, agent, caller, text)
        (
            "ads",
            Provider::TencentAds,
            "a1",
            "2024-03-01T00:00:00Z",
            Direction::Inbound,
            Disposition::Answered,
            "王芳",
            "13800000001",
            None,
        ),
        (
            "ads",
            Provider::TencentAds,
            "a2",
            "2024-03-01T15:59:59Z",
            Direction::Outbound,
            Disposition::NoAnswer,
            "王芳",
            "13800000002",
            None,
        ),
        (
            "ads",
            Provider::TencentAds,
            "a3",
            "2024-03-01T16:00:00Z",
            Direction::Inbound,
            Disposition::Busy,
            "李雷",
            "13800000003",
            None,
        ),
        (
            "tanma-x",
            Provider::Tanma,
            "t1",
            "2024-03-02T01:00:00Z",
            Direction::Outbound,
            Disposition::Answered,
            "李雷",
            "13900000004",
            Some("您好，我想申请退款"),
        ),
        (
            "tanma-x",
            Provider::Tanma,
            "t2",
            "2024-03-02T02:00:00Z",
            Direction::Outbound,
            Disposition::Answered,
            "韩梅梅",
            "13900000005",
            Some("这个价格可以, \"优惠\"吗"),
        ),
        (
            "tanma-x",
            Provider::Tanma,
            "t3",
            "2024-03-02T03:00:00Z",
            Direction::Inbound,
            Disposition::Answered,
            "韩梅梅",
            "13900000006",
            Some("好的谢谢"),
        ),
    ];
    for (i, (source, provider, id, t, dir, disp, agent, caller, text)) in specs.into_iter().enumerate() {
        let mut r = CallRecord::new(source, provider, id, at(t));
        r.direction = dir;
        r.disposition = disp;
        r.talk_seconds = Some(if disp == Disposition::Answered { 30 * (i as i64 + 1) } else { 0 });
        r.caller.number = Some(caller.into());
        r.callee.number = Some(format!("0216000000{i}"));
        r.agent = Some(Agent { id: Some(format!("ag-{agent}")), name: Some(agent.into()), ..Agent::default() });
        r.transcript = text.map(|t| Transcript {
            status: TranscriptStatus::Done,
            sentences: vec![Sentence { begin_ms: 0, end_ms: 1000, channel: None, text: t.into() }],
        });
        r.raw = serde_json::json!({ "id": id }).into();
        out.push(r);
    }
    out
}

fn seeded() -> Seeded {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("h.db");
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let store = SqliteStore::open(&db).await.unwrap();
        let (ads, tanma): (Vec<_>, Vec<_>) = records().into_iter().partition(|r| r.source == "ads");
        store.commit(Batch { source: "ads".into(), records: ads, state: None }).await.unwrap();
        store.commit(Batch { source: "tanma-x".into(), records: tanma, state: None }).await.unwrap();
    });
    let config = format!(
        "timezone = \"Asia/Shanghai\"\n[store]\nurl = \"sqlite://{}\"\n\n[[sources]]\nname = \"ads\"\nkind = \"tencent_ads\"\nendpoint = \"http://127.0.0.1:9\"\naccess_token = \"t\"\naccount_id = 1\n",
        db.display()
    );
    std::fs::write(dir.path().join("huadan.toml"), config).unwrap();
    Seeded { dir }
}

impl Seeded {
    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_huadan"))
            .arg("--config")
            .arg(self.dir.path().join("huadan.toml"))
            .args(args)
            .env_remove("RUST_LOG")
            .output()
            .unwrap()
    }

    /// Ids printed by `calls --format jsonl ARGS`.
    fn ids(&self, args: &[&str]) -> Vec<String> {
        let mut all = vec!["calls", "--format", "jsonl"];
        all.extend_from_slice(args);
        let out = self.run(&all);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str::<CallRecord>(l).unwrap().id)
            .collect()
    }
}

#[test]
fn jsonl_prints_full_records_newest_first() {
    let s = seeded();
    let out = s.run(&["calls", "--format", "jsonl"]);
    assert_eq!(out.status.code(), Some(0));
    let recs: Vec<CallRecord> =
        String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let ids: Vec<&str> = recs.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["tanma-x:t3", "tanma-x:t2", "tanma-x:t1", "ads:a3", "ads:a2", "ads:a1"]);
    let mut want = records();
    want.reverse();
    for (got, want) in recs.iter().zip(want) {
        assert!(got.synced_at.is_some());
        let mut got = got.clone();
        got.synced_at = None;
        assert_eq!(got, want, "the record round-trips through store and CLI");
    }
}

#[test]
fn json_is_one_array_and_limit_applies() {
    let s = seeded();
    let out = s.run(&["calls", "--format", "json", "--limit", "2"]);
    assert_eq!(out.status.code(), Some(0));
    let v: Vec<CallRecord> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(), ["tanma-x:t3", "tanma-x:t2"]);
    let none = s.run(&["calls", "--format", "json", "--source", "ads", "--text", "退款"]);
    assert_eq!(serde_json::from_slice::<Vec<CallRecord>>(&none.stdout).unwrap().len(), 0);
}

#[test]
fn csv_has_a_header_and_quotes_what_needs_quoting() {
    let s = seeded();
    let out = s.run(&["calls", "--format", "csv"]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    assert!(header.starts_with("id,source,provider,provider_call_id,direction,started_at"), "{header}");
    assert_eq!(lines.count(), 6);
    assert!(text.contains("tanma-x:t2,tanma-x,tanma,t2,outbound,2024-03-02T02:00:00Z"), "{text}");
    assert!(text.contains(",韩梅梅,"), "{text}");
}

#[test]
fn table_shows_times_in_the_configured_zone() {
    let s = seeded();
    let out = s.run(&["calls", "--limit", "3"]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("started_at"), "{text}");
    assert_eq!(lines.len(), 4, "{text}");
    // 2024-03-02T03:00:00Z is 11:00 in Shanghai.
    assert!(lines[1].starts_with("2024-03-02 11:00:00"), "{text}");
    assert!(lines[1].contains("韩梅梅") && lines[1].ends_with("tanma-x:t3"), "{text}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("more match"));
}

#[test]
fn every_filter_flag() {
    let s = seeded();
    assert_eq!(s.ids(&["--source", "ads"]), ["ads:a3", "ads:a2", "ads:a1"]);
    assert_eq!(s.ids(&["--source", "tanma-x", "--source", "ads", "--limit", "1"]), ["tanma-x:t3"]);
    assert_eq!(s.ids(&["--provider", "tanma"]).len(), 3);
    // Local (Shanghai) times: 2024-03-02 00:00 +08 is 2024-03-01T16:00Z.
    assert_eq!(s.ids(&["--until", "2024-03-02"]), ["ads:a2", "ads:a1"]);
    // --until is exclusive: 10:00 in Shanghai is t2's 02:00Z.
    assert_eq!(s.ids(&["--since", "2024-03-02", "--until", "2024-03-02 10:00:00"]), ["tanma-x:t1", "ads:a3"]);
    assert_eq!(s.ids(&["--since", "2024-03-02T02:00:00Z"]), ["tanma-x:t3", "tanma-x:t2"]);
    assert_eq!(s.ids(&["--direction", "inbound"]), ["tanma-x:t3", "ads:a3", "ads:a1"]);
    assert_eq!(s.ids(&["--disposition", "no_answer", "--disposition", "busy"]), ["ads:a3", "ads:a2"]);
    assert_eq!(s.ids(&["--agent", "王芳"]), ["ads:a2", "ads:a1"]);
    assert_eq!(s.ids(&["--agent", "ag-李雷"]), ["tanma-x:t1", "ads:a3"]);
    assert_eq!(s.ids(&["--number", "13900000005"]), ["tanma-x:t2"]);
    assert_eq!(s.ids(&["--number", "0216000000"]).len(), 6, "callee substring");
    assert_eq!(s.ids(&["--text", "申请退款"]), ["tanma-x:t1"]);
    assert_eq!(s.ids(&["--text", "退款"]), ["tanma-x:t1"]);
    assert_eq!(s.ids(&["--text", "价"]), ["tanma-x:t2"]);
    assert_eq!(s.ids(&["--text", "\"优惠\""]), ["tanma-x:t2"]);
    assert_eq!(s.ids(&["--agent", "' OR 1=1 --"]), Vec::<String>::new(), "values are data");
    assert_eq!(s.ids(&["--text", "' OR '1'='1"]), Vec::<String>::new());
}

#[test]
fn bad_flag_values_exit_2_naming_the_flag() {
    let s = seeded();
    for (args, flag) in [
        (&["calls", "--disposition", "hung_up"][..], "--disposition"),
        (&["calls", "--provider", "tencent"][..], "--provider"),
        (&["calls", "--direction", "sideways"][..], "--direction"),
        (&["calls", "--since", "yesterday"][..], "--since"),
        (&["calls", "--since", "2024-03-02", "--until", "2024-03-01"][..], "--since"),
        (&["calls", "--limit", "0"][..], "--limit"),
        (&["calls", "--limit", "many"][..], "--limit"),
        (&["calls", "--format", "xml"][..], "--format"),
        (&["calls", "--source", "nope"][..], "nope"),
    ] {
        let out = s.run(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(flag), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"));
    }
}

#[test]
fn a_closed_pipe_is_not_an_error() {
    let s = seeded();
    let mut child = Command::new(env!("CARGO_BIN_EXE_huadan"))
        .arg("--config")
        .arg(s.dir.path().join("huadan.toml"))
        .args(["calls", "--format", "jsonl"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert!(!String::from_utf8_lossy(&out.stderr).contains("panicked"));
    assert_eq!(out.status.code(), Some(0));
}
