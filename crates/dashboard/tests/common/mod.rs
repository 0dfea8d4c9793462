//! Shared by the dashboard's tests: a tiny [`DashboardHost`] over a real SQLite store
//! seeded with realistic records (five sources, agents shared across vendors, Tanma
//! transcripts, a transferred Tencent CCC call), and an HTTP server on 127.0.0.1.
#![allow(dead_code)]

use huadan_config::Role;
use huadan_dashboard::{DashboardHost, SourceEntry};
use huadan_model::{
    Agent, CallRecord, Direction, Disposition, HangupSide, Instant, Participant, Provider, Recording, Sentence,
    Transcript, TranscriptStatus,
};
use huadan_store::{Batch, DynStore, SyncState};
use jiff::tz::TimeZone;
use std::sync::Arc;

pub const ADMIN: &str = "admin-token-0123456789";
pub const VIEWER: &str = "viewer-token-9876543210";

pub const SOURCES: [(&str, Provider); 5] = [
    ("wecom-hq", Provider::Wecom),
    ("ccc-sh", Provider::TencentCcc),
    ("ali-bj", Provider::AliyunCcc),
    ("ads-leads", Provider::TencentAds),
    ("tanma-sales", Provider::Tanma),
];

/// Agents appear under the same id at several vendors.
pub const AGENTS: [(&str, &str); 10] = [
    ("1001", "王芳"),
    ("1002", "李娜"),
    ("1003", "张伟"),
    ("1004", "刘洋"),
    ("1005", "陈静"),
    ("1006", "杨磊"),
    ("1007", "赵敏"),
    ("1008", "黄婷"),
    ("1009", "周杰"),
    ("1010", "吴霞"),
];

const DIALOGUE: [(&str, &str); 8] = [
    ("0", "您好，这里是华东售后服务中心，我是客服{agent}，请问有什么可以帮您？"),
    ("1", "你好，我上周买的空气净化器一直显示滤网报警。"),
    ("0", "好的，麻烦您提供一下订单手机号的后四位，我帮您查询一下。"),
    ("1", "后四位是{tail}。"),
    ("0", "查到了，您的机器还在保修期内，我们可以免费为您更换滤网。"),
    ("1", "那太好了，大概多久能到？我想申请退款运费。"),
    ("0", "三个工作日内寄出，运费我们这边承担，稍后短信通知您物流单号。"),
    ("1", "好的，谢谢你。"),
];

pub fn tz() -> TimeZone {
    huadan_model::time::timezone("Asia/Shanghai").unwrap()
}

/// xorshift64*: deterministic.
pub struct Rng(pub u64);
impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn secs(s: i64) -> Instant {
    Instant::from_second(s).unwrap()
}

/// `per_day` records a day for the `days` days ending today (Beijing), office hours
/// weighted, weekends quieter.
pub fn seed_records(days: i64, per_day: u64) -> Vec<CallRecord> {
    let tz = tz();
    let today = Instant::now().to_zoned(tz.clone()).date();
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    let mut out = Vec::new();
    let mut n = 0u64;
    for d in 0..days {
        let date = today.checked_sub(jiff::Span::new().days(d)).unwrap();
        let midnight = date.to_zoned(tz.clone()).unwrap().timestamp().as_second();
        let weekend = date.weekday().to_monday_one_offset() >= 6;
        let count = if weekend { per_day / 3 } else { per_day - per_day / 8 + rng.below(per_day / 4 + 1) };
        for _ in 0..count {
            n += 1;
            // Hours 8–20, peaking at 10 and 15.
            let hour =
                [8, 9, 9, 10, 10, 10, 11, 11, 13, 14, 14, 15, 15, 15, 16, 16, 17, 18, 19, 20][rng.below(20) as usize];
            let start = midnight + hour * 3600 + rng.below(3600) as i64;
            if start > Instant::now().as_second() - 60 {
                continue;
            }
            let (source, provider) = SOURCES[[0, 1, 1, 1, 2, 2, 3, 4, 4, 4][rng.below(10) as usize]];
            out.push(record(&mut rng, n, source, provider, start));
        }
    }
    out
}

fn record(rng: &mut Rng, n: u64, source: &str, provider: Provider, start: i64) -> CallRecord {
    let mut r = CallRecord::new(source, provider, &format!("{}-{n:06}", &source[..3]), secs(start));
    r.direction =
        if provider == Provider::TencentAds || rng.below(10) < 6 { Direction::Inbound } else { Direction::Outbound };
    r.disposition = match rng.below(20) {
        0..=14 => Disposition::Answered,
        15 | 16 => Disposition::NoAnswer,
        17 => Disposition::Busy,
        18 => Disposition::Abandoned,
        _ => Disposition::Rejected,
    };
    r.disposition_detail = r.disposition.as_str().to_uppercase();
    let (aid, aname) = AGENTS[rng.below(10) as usize];
    let customer = format!("1{}{:09}", [3, 5, 8][rng.below(3) as usize], rng.below(1_000_000_000));
    let line = format!("021-6{:07}", rng.below(10_000_000));
    let (caller, callee) =
        if r.direction == Direction::Inbound { (customer.clone(), line) } else { (line, customer.clone()) };
    r.caller.number = Some(caller);
    r.callee.number = Some(callee);
    r.agent = Some(Agent {
        id: Some(aid.into()),
        name: Some(aname.into()),
        phone: Some(format!("139{:08}", aid.parse::<u64>().unwrap() * 7919)),
        skill_groups: vec!["售后服务".into()],
        department: Some("华东客服部".into()),
        ..Agent::default()
    });
    let ring = 3 + rng.below(20) as i64;
    r.ringing_at = Some(secs(start));
    r.ring_seconds = Some(ring);
    if r.disposition.is_answered() {
        let talk = 20 + rng.below(400) as i64;
        r.answered_at = Some(secs(start + ring));
        r.ended_at = Some(secs(start + ring + talk));
        r.talk_seconds = Some(talk);
        r.total_seconds = Some(ring + talk);
        r.hangup_side = Some(if rng.below(2) == 0 { HangupSide::Customer } else { HangupSide::Agent });
        r.recordings = vec![Recording { url: format!("http://127.0.0.1:9/rec/{n}.mp3"), ..Recording::default() }];
        if provider == Provider::Tanma {
            let tail = &customer[customer.len() - 4..];
            let mut at = 0i64;
            r.transcript = Some(Transcript {
                status: TranscriptStatus::Done,
                sentences: DIALOGUE
                    .iter()
                    .map(|(ch, text)| {
                        let len = 1500 + text.chars().count() as i64 * 180;
                        let s = Sentence {
                            begin_ms: at,
                            end_ms: at + len,
                            channel: Some((*ch).into()),
                            text: text.replace("{agent}", aname).replace("{tail}", tail),
                        };
                        at += len + 400;
                        s
                    })
                    .collect(),
            });
            r.channel = Some("work_phone".into());
        }
        if provider == Provider::TencentCcc && n.is_multiple_of(5) {
            let (bid, bname) = AGENTS[((n / 5) % 10) as usize];
            let half = talk / 2;
            r.participants = vec![
                Participant {
                    role: "seat".into(),
                    user_id: Some(aid.into()),
                    name: Some(aname.into()),
                    ringing_at: Some(secs(start)),
                    answered_at: Some(secs(start + ring)),
                    ended_at: Some(secs(start + ring + half)),
                    talk_seconds: Some(half),
                    transfer_to: Some(bid.into()),
                    ..Participant::default()
                },
                Participant {
                    role: "seat".into(),
                    user_id: Some(bid.into()),
                    name: Some(bname.into()),
                    ringing_at: Some(secs(start + ring + half)),
                    answered_at: Some(secs(start + ring + half + 4)),
                    ended_at: Some(secs(start + ring + talk)),
                    talk_seconds: Some(talk - half - 4),
                    transfer_from: Some(aid.into()),
                    ..Participant::default()
                },
            ];
        }
    } else {
        r.ended_at = Some(secs(start + ring));
        r.talk_seconds = Some(0);
        r.total_seconds = Some(ring);
        r.hangup_side = Some(HangupSide::Customer);
    }
    r.location = Some(["上海", "北京", "杭州", "南京", "苏州"][rng.below(5) as usize].into());
    r.raw = serde_json::json!({ "callId": r.provider_call_id, "phone": customer }).into();
    r
}

/// A SQLite store in a temp dir with `seed_records(days, per_day)` and a sync state
/// per source (`ali-bj`'s last run failed).
pub async fn seeded_store(days: i64, per_day: u64) -> (tempfile::TempDir, DynStore, Vec<CallRecord>) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("dash.db").display());
    let store = huadan_store::open(&url).await.unwrap();
    let all = seed_records(days, per_day);
    let now = Instant::now();
    for (source, _) in SOURCES {
        let records: Vec<_> = all.iter().filter(|r| r.source == source).cloned().collect();
        let state = SyncState {
            source: source.into(),
            checkpoint: Some(now - jiff::SignedDuration::from_mins(12)),
            backfill_start: records.iter().map(|r| r.started_at).min(),
            last_success: Some(now - jiff::SignedDuration::from_mins(if source == "ali-bj" { 190 } else { 7 })),
            last_run: Some(now - jiff::SignedDuration::from_mins(7)),
            last_error: (source == "ali-bj").then(|| {
                "fetching 2026-11-21 09:00..10:00: the vendor refused the credentials (InvalidAccessKeyId.NotFound): check access_key_id".to_string()
            }),
            ..SyncState::default()
        };
        store.commit(Batch { source: source.into(), records, state: Some(state) }).await.unwrap();
    }
    (dir, store, all)
}

/// The test host: tokens in memory, the five seed sources configured.
pub struct TestHost {
    pub store: DynStore,
    pub tz: TimeZone,
    pub tokens: Vec<(String, Role)>,
}

impl DashboardHost for TestHost {
    fn store(&self) -> &DynStore {
        &self.store
    }
    fn timezone(&self) -> &TimeZone {
        &self.tz
    }
    fn role_of(&self, bearer: Option<&str>) -> Option<Role> {
        if self.tokens.is_empty() {
            return Some(Role::Admin);
        }
        let b = bearer?;
        self.tokens.iter().find(|(t, _)| t == b).map(|(_, r)| *r)
    }
    fn sources(&self) -> Vec<SourceEntry> {
        SOURCES
            .iter()
            .map(|(n, p)| SourceEntry { name: (*n).into(), provider: *p, enabled: true, running: false })
            .collect()
    }
}

pub fn host(store: DynStore) -> Arc<dyn DashboardHost> {
    Arc::new(TestHost { store, tz: tz(), tokens: vec![(ADMIN.into(), Role::Admin), (VIEWER.into(), Role::Viewer)] })
}

/// Serve `app` on 127.0.0.1 (a free port); returns the base URL.
pub async fn serve(app: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    format!("http://{addr}")
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder().timeout(std::time::Duration::from_secs(30)).no_proxy().build().unwrap()
}

pub fn enc(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}
