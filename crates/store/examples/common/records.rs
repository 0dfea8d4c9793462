//! Realistic call records for the store benchmarks (store_bench, pg_bench), so that
//! both backends are measured on the very same records: ~1.6 KB of vendor `raw`, agents,
//! participants, recordings, and transcripts on answered Tanma calls.

#![allow(dead_code)]

use huadan_model::{
    Agent, CallRecord, Direction, Disposition, HangupSide, Participant, Provider, Recording, Sentence, Transcript,
    TranscriptStatus,
};

/// The five sources records are spread over (`n % 5`).
pub const SOURCES: [(&str, Provider); 5] = [
    ("wecom-hq", Provider::Wecom),
    ("tencent-ccc", Provider::TencentCcc),
    ("aliyun-ccc", Provider::AliyunCcc),
    ("tencent-ads", Provider::TencentAds),
    ("tanma", Provider::Tanma),
];
pub const PHRASES: [&str; 12] = [
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

/// Unix seconds → instant.
pub fn ts(secs: i64) -> huadan_model::Instant {
    huadan_model::Instant::from_second(secs).unwrap_or(huadan_model::Instant::UNIX_EPOCH)
}

/// One realistic record of `source` starting at `start` (Unix seconds).
/// Record `n` of `source`, started at `start` (Unix seconds).
pub fn record(rng: &mut Rng, n: u64, source: &str, provider: Provider, start: i64) -> CallRecord {
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
    })
    .into();
    r
}
