//! Store benchmark: `cargo run --release -p huadan-store --example store_bench [-- RECORDS [DB_PATH [BATCH]]]`.
//!
//! Builds realistic records (five providers, agents, legs, recordings, raw vendor JSON of
//! about 1.5 KB, Chinese transcripts on the Tanma share), upserts RECORDS of them
//! (default 1,000,000) in batches of BATCH (default 1,000) as the sync engine does, then times the
//! queries the issue sets targets for. Prints one line per figure.

use futures::StreamExt;
use huadan_model::{
    Agent, CallRecord, Direction, Disposition, HangupSide, Participant, Provider, Recording, Sentence, Transcript,
    TranscriptStatus,
};
use huadan_store::{Batch, CallFilter, CallQuery, GroupBy, SqliteStore, Store, SyncState};
use std::time::{Duration, Instant};

const DEFAULT_BATCH: usize = 1000;
const SOURCES: [(&str, Provider); 5] = [
    ("wecom-hq", Provider::Wecom),
    ("tencent-ccc", Provider::TencentCcc),
    ("aliyun-ccc", Provider::AliyunCcc),
    ("tencent-ads", Provider::TencentAds),
    ("tanma", Provider::Tanma),
];
const PHRASES: [&str; 12] = [
    "您好，这里是华东售后服务中心",
    "请问有什么可以帮您",
    "我想咨询一下这个套餐的价格",
    "上个月的订单能不能申请退款",
    "好的，我帮您查询一下",
    "请您提供一下手机号码后四位",
    "物流显示已经签收了",
    "这个价格可以再优惠一点吗",
    "我们这边会在三个工作日内处理",
    "感谢您的耐心等待",
    "还有其他问题吗",
    "祝您生活愉快，再见",
];

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

fn ts(secs: i64) -> huadan_model::Instant {
    huadan_model::Instant::from_second(secs).unwrap_or(huadan_model::Instant::UNIX_EPOCH)
}

/// One realistic record of `source` starting at `start` (Unix seconds).
fn record(rng: &mut Rng, n: u64, source: &str, provider: Provider, start: i64) -> CallRecord {
    let pid = format!("{:016x}-{n:08}", rng.next());
    let mut r = CallRecord::new(source, provider, &pid, ts(start));
    let agent_no = rng.below(200);
    let customer = format!("1{}{:09}", 3 + rng.below(6), rng.below(1_000_000_000));
    let agent_phone = format!("0216{:07}", 1_000_000 + agent_no);
    let inbound = rng.below(2) == 0;
    r.direction = if inbound { Direction::Inbound } else { Direction::Outbound };
    let roll = rng.below(100);
    r.disposition = match roll {
        0..62 => Disposition::Answered,
        62..80 => Disposition::NoAnswer,
        80..86 => Disposition::Busy,
        86..92 => Disposition::Abandoned,
        92..96 => Disposition::Unreachable,
        _ => Disposition::Failed,
    };
    let answered = r.disposition == Disposition::Answered;
    let ring = 3 + rng.below(25) as i64;
    let talk = if answered { 5 + rng.below(600) as i64 } else { 0 };
    r.ring_seconds = Some(ring);
    r.talk_seconds = Some(talk);
    r.total_seconds = Some(ring + talk);
    r.ringing_at = Some(ts(start + 1));
    r.answered_at = answered.then(|| ts(start + 1 + ring));
    r.ended_at = Some(ts(start + 1 + ring + talk));
    r.disposition_detail =
        ["ANSWERED", "NoAnswer", "busy", "ringingGiveUp", "3", "poweroff"][rng.below(6) as usize].into();
    r.hangup_side = Some(if rng.below(2) == 0 { HangupSide::Agent } else { HangupSide::Customer });
    let (caller, callee) = if inbound { (&customer, &agent_phone) } else { (&agent_phone, &customer) };
    r.caller.number = Some(caller.clone());
    r.callee.number = Some(callee.clone());
    r.account = Some("1400000000".into());
    r.agent = Some(Agent {
        id: Some(format!("agent-{agent_no:04}")),
        name: Some(format!("坐席{agent_no:03}")),
        phone: Some(agent_phone.clone()),
        email: Some(format!("agent{agent_no}@example.com")),
        staff_number: Some(format!("{:05}", 10_000 + agent_no)),
        skill_groups: vec!["售后".into(), "VIP".into()],
        department: Some("华东大区 / 上海".into()),
    });
    r.participants = vec![
        Participant {
            role: "agent".into(),
            number: Some(agent_phone.clone()),
            user_id: Some(format!("agent-{agent_no:04}")),
            ringing_at: r.ringing_at,
            answered_at: r.answered_at,
            ended_at: r.ended_at,
            talk_seconds: Some(talk),
            ..Participant::default()
        },
        Participant {
            role: "customer".into(),
            number: Some(customer.clone()),
            ended_at: r.ended_at,
            ..Participant::default()
        },
    ];
    if answered {
        r.recordings = vec![Recording {
            url: format!("https://records.example.com/{source}/{pid}.mp3?sign={:032x}", rng.next()),
            expires_at: Some(ts(start + 86_400 * 7)),
            archived_path: None,
        }];
    }
    r.channel = Some("pstn".into());
    r.location = Some("上海市".into());
    if provider == Provider::Tanma && answered {
        let k = 4 + rng.below(8) as usize;
        r.transcript = Some(Transcript {
            status: TranscriptStatus::Done,
            sentences: (0..k)
                .map(|i| Sentence {
                    begin_ms: i as i64 * 4000,
                    end_ms: i as i64 * 4000 + 3500,
                    channel: Some((i % 2).to_string()),
                    text: PHRASES[rng.below(PHRASES.len() as u64) as usize].into(),
                })
                .collect(),
        });
    }
    // The vendor's record as received: ~1.5 KB of the kind of fields vendors send.
    r.raw = serde_json::json!({
        "SessionId": pid, "SdkAppId": 1_400_000_000u64, "Caller": caller, "Callee": callee,
        "Time": start, "Direction": if inbound { 0 } else { 1 }, "Duration": talk, "RingDuration": ring,
        "EndStatus": roll, "EndStatusString": r.disposition_detail, "SeatUser": { "UserId": format!("agent-{agent_no:04}"),
        "Name": format!("坐席{agent_no:03}"), "Mail": format!("agent{agent_no}@example.com"), "StaffNumber": format!("{:05}", 10_000 + agent_no),
        "PhoneNumber": agent_phone, "SkillGroupNameList": ["售后", "VIP"] },
        "StartTimestamp": start, "AcceptTimestamp": start + ring, "EndedTimestamp": start + ring + talk,
        "RecordURL": format!("https://records.example.com/{source}/{pid}.mp3"), "RecordId": format!("{:024x}", rng.next()),
        "CustomRecordURL": "", "ProtectedCaller": "", "ProtectedCallee": "", "Uui": "",
        "IVRKeyPressed": ["1", "3"], "IVRKeyPressedEx": [{ "Key": "1", "Label": "售后服务", "Timestamp": start + 2 },
        { "Key": "3", "Label": "人工服务", "Timestamp": start + 5 }],
        "ServeParticipants": [{ "Mail": format!("agent{agent_no}@example.com"), "Phone": agent_phone, "Type": "staff",
            "CallId": format!("{pid}-1"), "StartTimestamp": start + 1, "RingTimestamp": start + 1,
            "AcceptTimestamp": start + ring, "EndedTimestamp": start + ring + talk, "RecordId": "", "Sequence": 0,
            "SkillGroupId": 1001, "SkillGroupName": "售后", "Transfer": false, "RecordURL": "" }],
        "SkillGroupId": 1001, "SkillGroupName": "售后", "Remark": "", "AsrUrl": "", "QueuedSkillGroupName": "售后",
        "VoicemailRecordURL": [], "QueuedTimestamp": start + 6, "PostIVRKeyPressed": [], "CallerLocation": "上海市",
        "IVRDuration": 6, "RingTimestamp": start + 7, "AcceptTimestampEx": start + ring, "AsyncData": "",
        "ClientData": format!("lead={:x}", rng.next()), "StaffHangup": "agent", "Extra": "x".repeat(120)
    });
    r
}

/// CPU seconds this process has used so far (user + system, all threads), from
/// /proc/self/stat: on a shared machine, throughput per CPU-second is the fair figure.
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else { return 0.0 };
    // Fields after the `(comm)`: state is field 3, utime 14, stime 15.
    let Some(rest) = stat.rsplit_once(") ").map(|(_, r)| r) else { return 0.0 };
    let f: Vec<&str> = rest.split(' ').collect();
    let ticks: f64 = f.get(11).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0)
        + f.get(12).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    ticks / 100.0
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn percentile(mut v: Vec<Duration>, p: f64) -> Duration {
    v.sort();
    let rank = ((v.len() as f64) * p).ceil() as usize;
    v[rank.clamp(1, v.len()) - 1]
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let total: u64 = args.get(1).map(|s| s.parse()).transpose()?.unwrap_or(1_000_000);
    let dir = tempfile::tempdir()?;
    let path = args.get(2).map(std::path::PathBuf::from).unwrap_or_else(|| dir.path().join("bench.db"));
    let batch_size: usize = args.get(3).map(|s| s.parse()).transpose()?.unwrap_or(DEFAULT_BATCH).max(1);
    let _ = std::fs::remove_file(&path);
    let store = SqliteStore::open(&path).await?;

    // Calls spread over 90 days, in time order as a sync would write them.
    let day0: i64 = 1_727_712_000; // 2024-10-01T00:00:00+08:00 is 2024-09-30T16:00Z
    let span: i64 = 90 * 86_400;
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut sample = record(&mut rng, 0, "tanma", Provider::Tanma, day0);
    let raw_len = serde_json::to_string(&sample.raw)?.len();
    sample.transcript = None;
    let rec_len = serde_json::to_string(&sample)?.len();
    println!(
        "records: {total}, raw JSON {raw_len} bytes, full record JSON {rec_len} bytes (+ transcript on answered Tanma calls)"
    );

    // What serialising + hashing alone costs (the part of a commit done outside SQLite).
    let probe: Vec<CallRecord> =
        (0..5000).map(|i| record(&mut Rng(i + 1), i, "tanma", Provider::Tanma, day0)).collect();
    let t = Instant::now();
    let mut bytes = 0;
    for r in &probe {
        let body = serde_json::to_string(r)?;
        bytes += body.len() + twox_hash::XxHash3_128::oneshot(body.as_bytes()).to_be_bytes().len();
    }
    println!(
        "serialise + hash only: {:.0} records/s ({} bytes)",
        probe.len() as f64 / t.elapsed().as_secs_f64(),
        bytes / probe.len()
    );
    drop(probe);

    let mut commit_time = Duration::ZERO;
    let mut commit_cpu = 0.0;
    let mut written = 0u64;
    let mut n = 0u64;
    let batches = total.div_ceil(batch_size as u64);
    for b in 0..batches {
        let (source, provider) = SOURCES[(b % 5) as usize];
        let count = (total - written).min(batch_size as u64);
        let base = day0 + (span * b as i64) / batches as i64;
        let step = (span / batches as i64).max(1);
        let records: Vec<CallRecord> = (0..count)
            .map(|_| {
                n += 1;
                let start = base + rng.below(step as u64) as i64;
                record(&mut rng, n, source, provider, start)
            })
            .collect();
        let state = SyncState { source: source.into(), checkpoint: Some(ts(base + step)), ..SyncState::default() };
        let t = Instant::now();
        let c = cpu_seconds();
        let w = store.commit(Batch { source: source.into(), records, state: Some(state) }).await?;
        commit_time += t.elapsed();
        commit_cpu += cpu_seconds() - c;
        written += w.inserted;
    }
    println!(
        "upsert (new records, batches of {batch_size}, one transaction each with the checkpoint): {:.0} records/s ({written} in {:.1} s wall; {:.0} records per CPU-second, load average {})",
        written as f64 / commit_time.as_secs_f64(),
        commit_time.as_secs_f64(),
        written as f64 / commit_cpu.max(0.01),
        std::fs::read_to_string("/proc/loadavg").unwrap_or_default().split(' ').next().unwrap_or("?")
    );

    // Re-writing an unchanged batch (the lookback overlap of every incremental sync).
    let mut rng2 = Rng(0x9E37_79B9_7F4A_7C15);
    let _ = record(&mut rng2, 0, "tanma", Provider::Tanma, day0);
    let again: Vec<CallRecord> = (1..=(batch_size as u64 * 10).min(written))
        .map(|i| {
            let b = (i - 1) / batch_size as u64;
            let (source, provider) = SOURCES[(b % 5) as usize];
            let base = day0 + (span * b as i64) / batches as i64;
            let step = (span / batches as i64).max(1);
            let start = base + rng2.below(step as u64) as i64;
            record(&mut rng2, i, source, provider, start)
        })
        .collect();
    let t = Instant::now();
    let mut unchanged = 0;
    for chunk in again.chunks(batch_size) {
        let source = chunk[0].source.clone();
        unchanged += store.commit(Batch { source, records: chunk.to_vec(), state: None }).await?.unchanged;
    }
    println!(
        "re-upsert of unchanged records: {:.0} records/s ({unchanged} unchanged)",
        unchanged as f64 / t.elapsed().as_secs_f64()
    );

    let t = Instant::now();
    store.optimize().await?;
    println!("optimize (PRAGMA optimize after the import): {:.0} ms", ms(t.elapsed()));

    // First page, source + time range (a day inside the range), varied.
    let mut lat = Vec::new();
    let mut first = None;
    let mut rows = 0;
    for i in 0..300 {
        let (source, _) = SOURCES[i % 5];
        let since = day0 + (i as i64 * 7919 % 85) * 86_400;
        let q = CallQuery {
            filter: CallFilter {
                sources: vec![source.into()],
                since: Some(ts(since)),
                until: Some(ts(since + 3 * 86_400)),
                ..CallFilter::default()
            },
            limit: 50,
            cursor: None,
        };
        let t = Instant::now();
        let page = store.calls(&q).await?;
        let e = t.elapsed();
        rows += page.items.len();
        first.get_or_insert(e);
        lat.push(e);
    }
    println!(
        "first page (50 rows, source + 3-day range) over {total}: first {:.2} ms, median {:.2} ms, p99 {:.2} ms ({:.1} rows per page)",
        ms(first.unwrap_or_default()),
        ms(percentile(lat.clone(), 0.5)),
        ms(percentile(lat, 0.99)),
        rows as f64 / 300.0
    );

    // Next page through the cursor.
    let q = CallQuery {
        filter: CallFilter { sources: vec!["tanma".into()], ..CallFilter::default() },
        limit: 50,
        cursor: None,
    };
    let p1 = store.calls(&q).await?;
    let t = Instant::now();
    let p2 = store.calls(&CallQuery { cursor: p1.next_cursor, ..q }).await?;
    println!("second page via cursor (50 rows, source filter): {:.2} ms ({} rows)", ms(t.elapsed()), p2.items.len());

    let tz = huadan_model::time::timezone("Asia/Shanghai")?;
    for (name, by) in [("day", GroupBy::Day), ("agent", GroupBy::Agent), ("provider", GroupBy::Provider)] {
        let t = Instant::now();
        let rows = store.stats(&CallFilter::default(), by, &tz).await?;
        let calls: u64 = rows.iter().map(|r| r.calls).sum();
        println!(
            "stats --by {name} over {calls} records (Asia/Shanghai): {:.0} ms, {} groups",
            ms(t.elapsed()),
            rows.len()
        );
    }

    let t = Instant::now();
    let c = store.count(&CallFilter::default()).await?;
    println!("count(*) over {c}: {:.0} ms", ms(t.elapsed()));

    for text in ["申请退款", "价格", "价"] {
        let t = Instant::now();
        let page = store
            .calls(&CallQuery {
                filter: CallFilter { text: Some(text.into()), ..CallFilter::default() },
                limit: 50,
                cursor: None,
            })
            .await?;
        println!(
            "transcript search `{text}` ({} chars), first page: {:.1} ms ({} rows)",
            text.chars().count(),
            ms(t.elapsed()),
            page.items.len()
        );
    }

    let t = Instant::now();
    let mut s = store.export(CallFilter { sources: vec!["tencent-ccc".into()], ..CallFilter::default() });
    let mut k = 0u64;
    while let Some(r) = s.next().await {
        r?;
        k += 1;
    }
    println!("export stream (one source): {:.0} records/s ({k} records)", k as f64 / t.elapsed().as_secs_f64());
    let size = std::fs::metadata(&path)?.len();
    println!("database size: {:.0} MB", size as f64 / 1e6);
    Ok(())
}
