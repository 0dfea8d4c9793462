//! Schema-only mirrors of the record types from `huadan-model` and `huadan-store`, which
//! do not depend on utoipa. They exist only to describe the JSON those types produce;
//! `tests::call_record_schema_matches_serde` keeps them in step with the real types.

#![allow(dead_code)]

use serde::Serialize;
use utoipa::ToSchema;

/// A vendor kind.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = Provider)]
pub enum ProviderSchema {
    /// WeCom public phone.
    Wecom,
    /// Tencent Cloud Contact Center.
    TencentCcc,
    /// Alibaba Cloud Contact Center.
    AliyunCcc,
    /// Tencent Ads lead calls.
    TencentAds,
    /// Tanma SCRM.
    Tanma,
}

/// Which way a call went.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = Direction)]
pub enum DirectionSchema {
    /// A customer called in.
    Inbound,
    /// The company called out.
    Outbound,
    /// Colleague to colleague.
    Internal,
    /// Not said.
    Unknown,
}

/// How a call ended.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = Disposition)]
pub enum DispositionSchema {
    /// Connected.
    Answered,
    /// Rang out.
    NoAnswer,
    /// Busy.
    Busy,
    /// Rejected.
    Rejected,
    /// Caller gave up.
    Abandoned,
    /// Caller cancelled.
    Canceled,
    /// Unreachable.
    Unreachable,
    /// No such number.
    InvalidNumber,
    /// Blocked.
    Blocked,
    /// No agent available.
    NoAgent,
    /// System error.
    Failed,
    /// Unmapped.
    Unknown,
}

/// Unit of the vendor's durations.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = DurationPrecision)]
pub enum DurationPrecisionSchema {
    /// Seconds.
    Second,
    /// Minutes.
    Minute,
}

/// Who hung up.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = HangupSide)]
pub enum HangupSideSchema {
    /// The agent.
    Agent,
    /// The customer.
    Customer,
    /// The platform.
    System,
}

/// Where a transcript stands.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = TranscriptStatus)]
pub enum TranscriptStatusSchema {
    /// Not finished.
    Pending,
    /// Finished.
    Done,
    /// Failed.
    Failed,
}

/// One end of a call.
#[derive(Serialize, ToSchema)]
#[schema(as = Party)]
pub struct PartySchema {
    /// Phone number as the vendor sent it (masked for viewer tokens).
    number: Option<String>,
    /// Platform user id.
    user_id: Option<String>,
    /// Display name.
    name: Option<String>,
}

/// The company-side agent.
#[derive(Serialize, ToSchema)]
#[schema(as = Agent)]
pub struct AgentSchema {
    /// Agent id.
    id: Option<String>,
    /// Name.
    name: Option<String>,
    /// The agent's phone (masked for viewer tokens).
    phone: Option<String>,
    /// E-mail.
    email: Option<String>,
    /// Staff number.
    staff_number: Option<String>,
    /// Skill groups.
    skill_groups: Vec<String>,
    /// Department.
    department: Option<String>,
}

/// One leg of a call.
#[derive(Serialize, ToSchema)]
#[schema(as = Participant)]
pub struct ParticipantSchema {
    /// Role of the leg.
    role: String,
    /// Number (masked for viewer tokens).
    number: Option<String>,
    /// Platform user id.
    user_id: Option<String>,
    /// Name.
    name: Option<String>,
    /// Ring start.
    #[schema(format = DateTime)]
    ringing_at: Option<String>,
    /// Answer.
    #[schema(format = DateTime)]
    answered_at: Option<String>,
    /// End.
    #[schema(format = DateTime)]
    ended_at: Option<String>,
    /// Talk seconds.
    talk_seconds: Option<i64>,
    /// This leg's recording.
    recording_url: Option<String>,
    /// Transferred from.
    transfer_from: Option<String>,
    /// Transferred to.
    transfer_to: Option<String>,
}

/// A recording.
#[derive(Serialize, ToSchema)]
#[schema(as = Recording)]
pub struct RecordingSchema {
    /// The vendor's link.
    url: String,
    /// When the link expires.
    #[schema(format = DateTime)]
    expires_at: Option<String>,
    /// Where huadan archived it.
    archived_path: Option<String>,
}

/// A transcribed sentence.
#[derive(Serialize, ToSchema)]
#[schema(as = Sentence)]
pub struct SentenceSchema {
    /// Start, ms.
    begin_ms: i64,
    /// End, ms.
    end_ms: i64,
    /// Speaker channel.
    channel: Option<String>,
    /// Text.
    text: String,
}

/// Speech-to-text.
#[derive(Serialize, ToSchema)]
#[schema(as = Transcript)]
pub struct TranscriptSchema {
    /// Status.
    status: TranscriptStatusSchema,
    /// Sentences.
    sentences: Vec<SentenceSchema>,
}

/// The unified call record (CONTRACT.md §3).
#[derive(Serialize, ToSchema)]
#[schema(as = CallRecord)]
pub struct CallRecordSchema {
    /// `{source}:{provider_call_id}`.
    id: String,
    /// Source name.
    source: String,
    /// Vendor kind.
    provider: ProviderSchema,
    /// The vendor's id.
    provider_call_id: String,
    /// Account / instance.
    account: Option<String>,
    /// Direction.
    direction: DirectionSchema,
    /// Caller.
    caller: PartySchema,
    /// Callee.
    callee: PartySchema,
    /// Agent.
    agent: Option<AgentSchema>,
    /// Legs.
    participants: Vec<ParticipantSchema>,
    /// Start, UTC.
    #[schema(format = DateTime)]
    started_at: String,
    /// Ring start.
    #[schema(format = DateTime)]
    ringing_at: Option<String>,
    /// Answer.
    #[schema(format = DateTime)]
    answered_at: Option<String>,
    /// End.
    #[schema(format = DateTime)]
    ended_at: Option<String>,
    /// Talk seconds.
    talk_seconds: Option<i64>,
    /// Ring seconds.
    ring_seconds: Option<i64>,
    /// IVR seconds.
    ivr_seconds: Option<i64>,
    /// Queue seconds.
    queue_seconds: Option<i64>,
    /// Total seconds.
    total_seconds: Option<i64>,
    /// Duration unit.
    duration_precision: DurationPrecisionSchema,
    /// Outcome.
    disposition: DispositionSchema,
    /// The vendor's status, verbatim.
    disposition_detail: String,
    /// Who hung up.
    hangup_side: Option<HangupSideSchema>,
    /// Recordings.
    recordings: Vec<RecordingSchema>,
    /// Transcript.
    transcript: Option<TranscriptSchema>,
    /// Channel.
    channel: Option<String>,
    /// Lead id.
    lead_id: Option<String>,
    /// Remark.
    remark: Option<String>,
    /// Satisfaction.
    satisfaction: Option<String>,
    /// IVR keys.
    ivr_keys: Option<String>,
    /// Location.
    location: Option<String>,
    /// The vendor's record as received (`null` for viewer tokens).
    raw: serde_json::Value,
    /// When huadan last wrote it.
    #[schema(format = DateTime)]
    synced_at: Option<String>,
}

/// A page of records, newest first.
#[derive(Serialize, ToSchema)]
#[schema(as = CallPage)]
pub struct CallPageSchema {
    /// The records.
    items: Vec<CallRecordSchema>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    next_cursor: Option<String>,
}

/// One group's aggregates.
#[derive(Serialize, ToSchema)]
#[schema(as = StatsRow)]
pub struct StatsRowSchema {
    /// Group key (provider, source, agent id, `2024-03-01`, `09`, …).
    key: String,
    /// Label where the key is an id (agent name).
    label: Option<String>,
    /// Calls.
    calls: u64,
    /// Answered calls.
    answered: u64,
    /// answered / calls.
    answered_rate: f64,
    /// Sum of talk seconds.
    talk_seconds_total: i64,
    /// Mean talk seconds over answered calls with a duration.
    talk_seconds_mean: Option<f64>,
    /// 90th percentile talk seconds.
    talk_seconds_p90: Option<i64>,
    /// Earliest call.
    #[schema(format = DateTime)]
    first_call: Option<String>,
    /// Latest call.
    #[schema(format = DateTime)]
    last_call: Option<String>,
}

/// A grouping for `/v1/stats`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = GroupBy)]
pub enum GroupBySchema {
    /// By provider.
    Provider,
    /// By source.
    Source,
    /// By agent.
    Agent,
    /// By day (configured time zone).
    Day,
    /// By hour of day.
    Hour,
    /// By ISO weekday.
    Weekday,
    /// By disposition.
    Disposition,
}

/// A non-empty string.
pub struct NonEmptyString;

impl utoipa::PartialSchema for NonEmptyString {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        ObjectBuilder::new().schema_type(Type::String).min_length(Some(1)).into()
    }
}

impl ToSchema for NonEmptyString {
    fn name() -> std::borrow::Cow<'static, str> {
        "NonEmptyString".into()
    }
}
