//! PostgreSQL bulk-upsert benchmark:
//! `HUADAN_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test cargo run --release -p huadan-store --example pg_bench [-- RECORDS [BATCH]]`.
//!
//! Builds realistic records (agents, legs, recordings, ~1.5 KB of raw vendor JSON,
//! Chinese transcripts on a fifth of them) up front, then commits them in batches
//! (default 200,000 records in batches of 1,000, each with a sync-state update, as the
//! sync engine does) into a fresh schema, which is dropped afterwards. Prints the
//! insert rate, the rate of re-sending unchanged records, and of sending changed ones,
//! each also per CPU-second (this process + its PostgreSQL backends), the fair figure
//! on a shared machine.

use huadan_model::{
    Agent, CallRecord, Direction, Disposition, Participant, Provider, Recording, Sentence, Transcript, TranscriptStatus,
};
use huadan_store::{Batch, CallFilter, PgStore, Store, SyncState};
use std::time::Instant;

/// xorshift64*: deterministic, dependency-free.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const PHRASES: [&str; 6] = [
    "您好，这里是华东售后服务中心",
    "请问有什么可以帮您",
    "上个月的订单能不能申请退款",
    "好的，我帮您查询一下",
    "这个价格可以再优惠一点吗",
    "祝您生活愉快，再见",
];

fn record(rng: &mut Rng, n: u64, start: i64) -> CallRecord {
    let ts = |s: i64| huadan_model::Instant::from_second(s).unwrap_or(huadan_model::Instant::UNIX_EPOCH);
    let pid = format!("{:016x}-{n:08}", rng.next());
    let mut r = CallRecord::new("tencent-ccc", Provider::TencentCcc, &pid, ts(start));
    let agent_no = rng.below(200);
    let customer = format!("1{}{:09}", 3 + rng.below(6), rng.below(1_000_000_000));
    let agent_phone = format!("0216{:07}", 1_000_000 + agent_no);
    r.direction = if rng.below(2) == 0 { Direction::Inbound } else { Direction::Outbound };
    let answered = rng.below(100) < 62;
    r.disposition = if answered { Disposition::Answered } else { Disposition::NoAnswer };
    let ring = 3 + rng.below(25) as i64;
    let talk = if answered { 5 + rng.below(600) as i64 } else { 0 };
    r.ring_seconds = Some(ring);
    r.talk_seconds = Some(talk);
    r.ended_at = Some(ts(start + ring + talk));
    r.caller.number = Some(customer.clone());
    r.callee.number = Some(agent_phone.clone());
    r.agent = Some(Agent {
        id: Some(format!("agent-{agent_no:04}")),
        name: Some(format!("坐席{agent_no:03}")),
        phone: Some(agent_phone.clone()),
        skill_groups: vec!["售后".into()],
        ..Agent::default()
    });
    r.participants = vec![Participant {
        role: "agent".into(),
        number: Some(agent_phone.clone()),
        talk_seconds: Some(talk),
        ..Participant::default()
    }];
    if answered {
        r.recordings = vec![Recording {
            url: format!("https://records.example.com/{pid}.mp3?sign={:032x}", rng.next()),
            expires_at: Some(ts(start + 7 * 86_400)),
            archived_path: None,
        }];
    }
    if n.is_multiple_of(5) && answered {
        r.transcript = Some(Transcript {
            status: TranscriptStatus::Done,
            sentences: (0..6)
                .map(|i| Sentence {
                    begin_ms: i * 4000,
                    end_ms: i * 4000 + 3500,
                    channel: Some((i % 2).to_string()),
                    text: PHRASES[rng.below(PHRASES.len() as u64) as usize].into(),
                })
                .collect(),
        });
    }
    r.raw = serde_json::json!({
        "SessionId": pid, "SdkAppId": 1_400_000_000u64, "Caller": customer, "Callee": agent_phone,
        "Time": start, "Duration": talk, "RingDuration": ring, "EndStatus": if answered { 1 } else { 2 },
        "SeatUser": { "UserId": format!("agent-{agent_no:04}"), "Name": format!("坐席{agent_no:03}"),
            "Mail": format!("agent{agent_no}@example.com"), "StaffNumber": format!("{:05}", 10_000 + agent_no),
            "PhoneNumber": agent_phone, "SkillGroupNameList": ["售后", "VIP"] },
        "StartTimestamp": start, "AcceptTimestamp": start + ring, "EndedTimestamp": start + ring + talk,
        "RecordURL": format!("https://records.example.com/{pid}.mp3"), "RecordId": format!("{:024x}", rng.next()),
        "IVRKeyPressedEx": [{ "Key": "1", "Label": "售后服务", "Timestamp": start + 2 },
            { "Key": "3", "Label": "人工服务", "Timestamp": start + 5 }],
        "ServeParticipants": [{ "Mail": format!("agent{agent_no}@example.com"), "Type": "staff",
            "CallId": format!("{pid}-1"), "StartTimestamp": start + 1, "AcceptTimestamp": start + ring,
            "EndedTimestamp": start + ring + talk, "SkillGroupId": 1001, "SkillGroupName": "售后" }],
        "SkillGroupId": 1001, "SkillGroupName": "售后", "QueuedTimestamp": start + 6, "CallerLocation": "上海市",
        "ClientData": format!("lead={:x}", rng.next()), "StaffHangup": "agent", "Extra": "x".repeat(200)
    });
    r
}

/// CPU seconds (user + system) a process has used, from /proc/PID/stat.
fn cpu_seconds(pid: &str) -> f64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { return 0.0 };
    let Some(rest) = stat.rsplit_once(") ").map(|(_, r)| r) else { return 0.0 };
    let f: Vec<&str> = rest.split(' ').collect();
    let ticks: f64 = f.get(11).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0)
        + f.get(12).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    ticks / 100.0
}

/// CPU seconds of this process and of the server backends serving it (same machine).
async fn cpu(url: &str, app: &str) -> (f64, f64) {
    let mut server = 0.0;
    if let Ok((client, conn)) = tokio_postgres::connect(url, tokio_postgres::NoTls).await {
        tokio::spawn(conn);
        if let Ok(rows) = client.query("SELECT pid FROM pg_stat_activity WHERE application_name = $1", &[&app]).await {
            server = rows.iter().map(|r| cpu_seconds(&r.get::<_, i32>(0).to_string())).sum();
        }
    }
    (cpu_seconds("self"), server)
}

async fn run(
    store: &PgStore,
    batches: &[Vec<CallRecord>],
    label: &str,
    url: &str,
    app: &str,
) -> Result<(), Box<dyn std::error::Error>> {
    let total: usize = batches.iter().map(Vec::len).sum();
    let (c0, s0) = cpu(url, app).await;
    let t = Instant::now();
    let mut stats = huadan_store::WriteStats::default();
    for (i, b) in batches.iter().enumerate() {
        let state = SyncState {
            source: "tencent-ccc".into(),
            checkpoint: b.last().map(|r| r.started_at),
            last_run_stats: Some(serde_json::json!({ "batch": i })),
            ..SyncState::default()
        };
        stats += store.commit(Batch { source: "tencent-ccc".into(), records: b.clone(), state: Some(state) }).await?;
    }
    let secs = t.elapsed().as_secs_f64();
    let (c1, s1) = cpu(url, app).await;
    let (client_cpu, server_cpu) = (c1 - c0, s1 - s0);
    println!(
        "{label}: {total} records in {secs:.2} s = {:.0} records/s wall (inserted {}, updated {}, unchanged {}); \
         CPU: huadan {client_cpu:.1} s, PostgreSQL backends {server_cpu:.1} s = {:.0} records per CPU-second",
        total as f64 / secs,
        stats.inserted,
        stats.updated,
        stats.unchanged,
        total as f64 / (client_cpu + server_cpu).max(1e-9)
    );
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::var("HUADAN_TEST_POSTGRES_URL")
        .map_err(|_| "set HUADAN_TEST_POSTGRES_URL, e.g. postgres://postgres@127.0.0.1:5432/test")?;
    let args: Vec<String> = std::env::args().collect();
    let total: u64 = args.get(1).map(|s| s.parse()).transpose()?.unwrap_or(200_000);
    let batch: usize = args.get(2).map(|s| s.parse()).transpose()?.unwrap_or(1000);
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let t0: i64 = 1_727_712_000;
    let records: Vec<CallRecord> = (0..total).map(|n| record(&mut rng, n, t0 + n as i64 * 7)).collect();
    let raw_mean = records.iter().map(|r| r.raw.to_string().len()).sum::<usize>() / records.len().max(1);
    let json_mean = records.iter().map(|r| serde_json::to_vec(r).map(|v| v.len()).unwrap_or(0)).sum::<usize>()
        / records.len().max(1);
    println!("records: {total}, batch {batch}, raw JSON mean {raw_mean} B, whole record JSON mean {json_mean} B");
    let batches: Vec<Vec<CallRecord>> = records.chunks(batch).map(<[CallRecord]>::to_vec).collect();

    let schema = format!("bench_{}", std::process::id());
    let app = format!("huadan_{schema}");
    let sep = if url.contains('?') { '&' } else { '?' };
    let store = PgStore::open_in_schema(&format!("{url}{sep}application_name={app}"), &schema).await?;
    let outcome = async {
        run(&store, &batches, "insert (new records)", &url, &app).await?;
        run(&store, &batches, "re-send (all unchanged)", &url, &app).await?;
        let changed: Vec<Vec<CallRecord>> = batches
            .iter()
            .map(|b| {
                b.iter()
                    .cloned()
                    .map(|mut r| {
                        r.remark = Some("回访".into());
                        r
                    })
                    .collect()
            })
            .collect();
        run(&store, &changed, "update (all changed)", &url, &app).await?;
        let n = store.count(&CallFilter::default()).await?;
        println!("stored: {n}");
        Ok::<(), Box<dyn std::error::Error>>(())
    }
    .await;
    drop(store);
    let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await?;
    tokio::spawn(conn);
    client.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE")).await?;
    outcome
}
