//! [`CallRecord`] and the structures inside it, exactly as CONTRACT.md §3 names them.
//!
//! Every field is always serialised (absent values as `null`, lists as `[]`) so that
//! consumers see one stable shape.

use crate::{Direction, Disposition, DurationPrecision, HangupSide, Instant, Provider, RawJson, TranscriptStatus};
use serde::{Deserialize, Serialize};

/// One end of a call: a phone number, a platform user, or both.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Party {
    /// Phone number as the vendor sent it (digits kept, never re-formatted).
    pub number: Option<String>,
    /// The vendor's user / seat id for a colleague.
    pub user_id: Option<String>,
    /// Display name, where known.
    pub name: Option<String>,
}

impl Party {
    /// A party known only by number.
    pub fn number(n: impl Into<String>) -> Self {
        Party { number: Some(n.into()), ..Party::default() }
    }

    /// A party known only by platform user id.
    pub fn user(id: impl Into<String>) -> Self {
        Party { user_id: Some(id.into()), ..Party::default() }
    }

    /// True when nothing at all is known of this party.
    pub fn is_empty(&self) -> bool {
        self.number.is_none() && self.user_id.is_none() && self.name.is_none()
    }
}

/// The company-side person who handled the call.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Agent {
    /// The vendor's agent / seat / user id.
    pub id: Option<String>,
    /// Display name.
    pub name: Option<String>,
    /// The agent's own phone number.
    pub phone: Option<String>,
    /// E-mail, where the vendor gives it.
    pub email: Option<String>,
    /// Staff (job) number.
    pub staff_number: Option<String>,
    /// Skill groups / queues the call went through.
    pub skill_groups: Vec<String>,
    /// Department name(s), joined with ` / ` when the vendor gives a path.
    pub department: Option<String>,
}

/// One leg of a call: a ring, answer and hang-up of one participant.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Participant {
    /// `agent`, `customer`, `callee`, `caller`, `ivr`, … as the vendor describes the leg.
    pub role: String,
    /// Phone number of this leg.
    pub number: Option<String>,
    /// Platform user / seat id of this leg.
    pub user_id: Option<String>,
    /// Name, where known.
    pub name: Option<String>,
    /// When this leg started ringing.
    pub ringing_at: Option<Instant>,
    /// When this leg answered.
    pub answered_at: Option<Instant>,
    /// When this leg ended.
    pub ended_at: Option<Instant>,
    /// Talk seconds on this leg.
    pub talk_seconds: Option<i64>,
    /// This leg's own recording, if any.
    pub recording_url: Option<String>,
    /// For a transferred leg: who it came from.
    pub transfer_from: Option<String>,
    /// For a transferring leg: who it went to.
    pub transfer_to: Option<String>,
}

/// A recording of the call.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Recording {
    /// The vendor's link.
    pub url: String,
    /// When the vendor's link stops working, where known.
    pub expires_at: Option<Instant>,
    /// Where huadan archived the audio (set only once fully written).
    pub archived_path: Option<String>,
}

/// One transcribed sentence.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Sentence {
    /// Start, milliseconds from the start of the recording.
    pub begin_ms: i64,
    /// End, milliseconds from the start of the recording.
    pub end_ms: i64,
    /// The audio channel (speaker), as the vendor numbers it.
    pub channel: Option<String>,
    /// The text.
    pub text: String,
}

/// Speech-to-text of the call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transcript {
    /// Whether it is finished.
    pub status: TranscriptStatus,
    /// The sentences, in order (empty unless `done`).
    #[serde(default)]
    pub sentences: Vec<Sentence>,
}

impl Transcript {
    /// All sentence texts joined by newlines: what transcript search indexes.
    pub fn text(&self) -> String {
        let mut out = String::new();
        for (i, s) in self.sentences.iter().enumerate() {
            if i > 0 {
                out.push('\n');
            }
            out.push_str(&s.text);
        }
        out
    }
}

/// The unified call record (CONTRACT.md §3).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallRecord {
    /// `"{source}:{provider_call_id}"`, stable across re-syncs.
    pub id: String,
    /// The configured source name.
    pub source: String,
    /// Which platform.
    pub provider: Provider,
    /// The vendor's own id (or WeCom's deterministic fingerprint).
    pub provider_call_id: String,
    /// SdkAppId / InstanceId / account_id / corpId.
    #[serde(default)]
    pub account: Option<String>,
    /// Which way the call went.
    pub direction: Direction,
    /// Who placed the call.
    #[serde(default)]
    pub caller: Party,
    /// Who was called.
    #[serde(default)]
    pub callee: Party,
    /// The company-side agent, where known.
    #[serde(default)]
    pub agent: Option<Agent>,
    /// Every leg the vendor reports.
    #[serde(default)]
    pub participants: Vec<Participant>,
    /// When the call was placed / entered the system.
    pub started_at: Instant,
    /// When it started ringing.
    #[serde(default)]
    pub ringing_at: Option<Instant>,
    /// When it was answered.
    #[serde(default)]
    pub answered_at: Option<Instant>,
    /// When it ended.
    #[serde(default)]
    pub ended_at: Option<Instant>,
    /// Seconds actually talking; `None` when the vendor gives no duration.
    #[serde(default)]
    pub talk_seconds: Option<i64>,
    /// Seconds ringing.
    #[serde(default)]
    pub ring_seconds: Option<i64>,
    /// Seconds in IVR.
    #[serde(default)]
    pub ivr_seconds: Option<i64>,
    /// Seconds queued for an agent.
    #[serde(default)]
    pub queue_seconds: Option<i64>,
    /// Seconds from start to end.
    #[serde(default)]
    pub total_seconds: Option<i64>,
    /// `second`, or `minute` where the vendor reports minutes.
    #[serde(default)]
    pub duration_precision: DurationPrecision,
    /// Unified outcome.
    pub disposition: Disposition,
    /// The vendor's own status, verbatim.
    #[serde(default)]
    pub disposition_detail: String,
    /// Who hung up.
    #[serde(default)]
    pub hangup_side: Option<HangupSide>,
    /// Recordings of the call.
    #[serde(default)]
    pub recordings: Vec<Recording>,
    /// Speech-to-text, where the vendor provides it.
    #[serde(default)]
    pub transcript: Option<Transcript>,
    /// `pstn`, `wecom_voip`, `wechat_voice`, `work_phone`, …
    #[serde(default)]
    pub channel: Option<String>,
    /// Tencent Ads lead id.
    #[serde(default)]
    pub lead_id: Option<String>,
    /// Free-text remark.
    #[serde(default)]
    pub remark: Option<String>,
    /// Satisfaction rating, as the vendor gives it.
    #[serde(default)]
    pub satisfaction: Option<String>,
    /// Keys pressed in the IVR.
    #[serde(default)]
    pub ivr_keys: Option<String>,
    /// Caller location (province / city), where given.
    #[serde(default)]
    pub location: Option<String>,
    /// The vendor's record as received (compact JSON text; see [`RawJson`]).
    pub raw: RawJson,
    /// When huadan last wrote this record (set by the store).
    #[serde(default)]
    pub synced_at: Option<Instant>,
}

impl CallRecord {
    /// A record with the identifying fields set and everything else empty / unknown.
    /// Normalisers start from this and fill in what their vendor gives.
    pub fn new(source: &str, provider: Provider, provider_call_id: &str, started_at: Instant) -> Self {
        CallRecord {
            id: format!("{source}:{provider_call_id}"),
            source: source.to_string(),
            provider,
            provider_call_id: provider_call_id.to_string(),
            account: None,
            direction: Direction::Unknown,
            caller: Party::default(),
            callee: Party::default(),
            agent: None,
            participants: Vec::new(),
            started_at,
            ringing_at: None,
            answered_at: None,
            ended_at: None,
            talk_seconds: None,
            ring_seconds: None,
            ivr_seconds: None,
            queue_seconds: None,
            total_seconds: None,
            duration_precision: DurationPrecision::Second,
            disposition: Disposition::Unknown,
            disposition_detail: String::new(),
            hangup_side: None,
            recordings: Vec::new(),
            transcript: None,
            channel: None,
            lead_id: None,
            remark: None,
            satisfaction: None,
            ivr_keys: None,
            location: None,
            raw: RawJson::null(),
            synced_at: None,
        }
    }

    /// Whether the vendor may still change this record (a transcript still pending),
    /// so that its window must be re-visited.
    pub fn may_change(&self) -> bool {
        matches!(&self.transcript, Some(t) if t.status == TranscriptStatus::Pending)
    }

    /// The transcript's text, or an empty string.
    pub fn transcript_text(&self) -> String {
        self.transcript.as_ref().map(Transcript::text).unwrap_or_default()
    }

    /// The agent's id, if any.
    pub fn agent_id(&self) -> Option<&str> {
        self.agent.as_ref().and_then(|a| a.id.as_deref())
    }

    /// Replace every phone number in the record (caller, callee, agent phone,
    /// participants) with its masked form, for viewer tokens. `raw` is replaced by
    /// `null`, since it would carry the numbers verbatim.
    pub fn mask_numbers(&mut self) {
        fn m(n: &mut Option<String>) {
            if let Some(v) = n.as_mut() {
                *v = crate::mask_number(v);
            }
        }
        m(&mut self.caller.number);
        m(&mut self.callee.number);
        if let Some(a) = self.agent.as_mut() {
            m(&mut a.phone);
        }
        for p in &mut self.participants {
            m(&mut p.number);
        }
        self.raw = RawJson::null();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn arb_opt_string() -> impl Strategy<Value = Option<String>> {
        proptest::option::of("[0-9a-z话单 ]{0,12}")
    }

    fn arb_instant() -> impl Strategy<Value = Instant> {
        (1_500_000_000i64..1_900_000_000).prop_map(|s| Instant::from_second(s).unwrap())
    }

    prop_compose! {
        fn arb_record()(
            source in "[a-z][a-z0-9-]{0,10}",
            pid in "[A-Za-z0-9-]{1,20}",
            p in 0usize..5, d in 0usize..4, disp in 0usize..12,
            started in arb_instant(),
            ended in proptest::option::of(arb_instant()),
            talk in proptest::option::of(0i64..100_000),
            caller in arb_opt_string(), callee in arb_opt_string(),
            remark in arb_opt_string(),
            texts in proptest::collection::vec("[\\u4e00-\\u9fa5a-z ]{0,20}", 0..4),
            raw_n in any::<i64>(),
        ) -> CallRecord {
            let mut r = CallRecord::new(&source, Provider::ALL[p], &pid, started);
            r.direction = Direction::ALL[d];
            r.disposition = Disposition::ALL[disp];
            r.ended_at = ended;
            r.talk_seconds = talk;
            r.caller.number = caller;
            r.callee.number = callee;
            r.remark = remark;
            r.transcript = Some(Transcript {
                status: TranscriptStatus::Done,
                sentences: texts.into_iter().enumerate().map(|(i, t)| Sentence {
                    begin_ms: i as i64 * 1000, end_ms: i as i64 * 1000 + 900, channel: Some("0".into()), text: t,
                }).collect(),
            });
            r.raw = RawJson::from_value(&serde_json::json!({"n": raw_n, "s": "原始"}));
            r
        }
    }

    proptest! {
        #[test]
        fn json_round_trip(r in arb_record()) {
            let json = serde_json::to_string(&r).unwrap();
            let back: CallRecord = serde_json::from_str(&json).unwrap();
            prop_assert_eq!(back, r);
        }
    }

    #[test]
    fn serialises_contract_field_names_and_utc_instants() {
        let mut r = CallRecord::new("s", Provider::TencentCcc, "x", "2024-03-01T08:00:00Z".parse().unwrap());
        r.direction = Direction::Inbound;
        r.disposition = Disposition::NoAnswer;
        let v = serde_json::to_value(&r).unwrap();
        for key in [
            "id",
            "source",
            "provider",
            "provider_call_id",
            "account",
            "direction",
            "caller",
            "callee",
            "agent",
            "participants",
            "started_at",
            "ringing_at",
            "answered_at",
            "ended_at",
            "talk_seconds",
            "ring_seconds",
            "ivr_seconds",
            "queue_seconds",
            "total_seconds",
            "duration_precision",
            "disposition",
            "disposition_detail",
            "hangup_side",
            "recordings",
            "transcript",
            "channel",
            "lead_id",
            "remark",
            "satisfaction",
            "ivr_keys",
            "location",
            "raw",
            "synced_at",
        ] {
            assert!(v.get(key).is_some(), "missing {key}");
        }
        assert_eq!(v["started_at"], "2024-03-01T08:00:00Z");
        assert_eq!(v["provider"], "tencent_ccc");
        assert_eq!(v["disposition"], "no_answer");
        assert_eq!(v["duration_precision"], "second");
    }

    #[test]
    fn masking_hides_numbers_and_raw() {
        let mut r = CallRecord::new("s", Provider::Tanma, "1", Instant::UNIX_EPOCH);
        r.caller.number = Some("13812348000".into());
        r.raw = RawJson::from_value(&serde_json::json!({"phone": "13812348000"}));
        r.mask_numbers();
        assert_eq!(r.caller.number.as_deref(), Some("138****8000"));
        assert!(r.raw.is_null());
    }
}
