//! [`RecordView`]: a record read from its JSON for the tabular exports, borrowing from
//! the JSON text wherever it can. The nested fields the exports print as JSON (`agent`,
//! `participants`, `recordings`, `transcript`, `raw`) stay raw JSON text, copied out
//! exactly as stored; nothing builds a `serde_json::Value` tree or a [`CallRecord`].
//!
//! The stored JSON is what `serde_json` made of the record, so each nested field's text
//! is exactly what serialising that field again would give.
//!
//! [`CallRecord`]: huadan_model::CallRecord

use huadan_model::Instant;
use serde::Deserialize;
use serde::de::{Deserializer, Visitor};
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::fmt;

/// A string borrowed from the JSON text when it holds no escapes, owned otherwise.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Text<'a>(pub Cow<'a, str>);

impl Text<'_> {
    /// The string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: serde::de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Borrowed(v)))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v.to_string())))
            }
            fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v)))
            }
        }
        d.deserialize_str(V)
    }
}

/// One end of the call.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct PartyView<'a> {
    /// Phone number.
    #[serde(borrow)]
    pub number: Option<Text<'a>>,
    /// Platform user id.
    #[serde(borrow)]
    pub user_id: Option<Text<'a>>,
    /// Display name.
    #[serde(borrow)]
    pub name: Option<Text<'a>>,
}

fn second() -> Text<'static> {
    Text(Cow::Borrowed("second"))
}

/// The fields of a record the exports print, read from its JSON (CONTRACT.md §3 names).
#[derive(Debug, Clone, Deserialize)]
pub struct RecordView<'a> {
    /// `"{source}:{provider_call_id}"`.
    #[serde(borrow)]
    pub id: Text<'a>,
    /// The source name.
    #[serde(borrow)]
    pub source: Text<'a>,
    /// The provider kind.
    #[serde(borrow)]
    pub provider: Text<'a>,
    /// The vendor's id.
    #[serde(borrow)]
    pub provider_call_id: Text<'a>,
    /// Account.
    #[serde(borrow, default)]
    pub account: Option<Text<'a>>,
    /// Direction.
    #[serde(borrow)]
    pub direction: Text<'a>,
    /// Caller.
    #[serde(borrow, default)]
    pub caller: PartyView<'a>,
    /// Callee.
    #[serde(borrow, default)]
    pub callee: PartyView<'a>,
    /// The agent object, as JSON text.
    #[serde(borrow, default)]
    pub agent: Option<&'a RawValue>,
    /// The agent's id (read from `agent` by [`RecordView::parse`]).
    #[serde(skip)]
    pub agent_id: Option<Text<'a>>,
    /// The agent's name (read from `agent` by [`RecordView::parse`]).
    #[serde(skip)]
    pub agent_name: Option<Text<'a>>,
    /// Every leg, as JSON text.
    #[serde(borrow, default)]
    pub participants: Option<&'a RawValue>,
    /// Start.
    pub started_at: Instant,
    /// Ringing.
    #[serde(default)]
    pub ringing_at: Option<Instant>,
    /// Answered.
    #[serde(default)]
    pub answered_at: Option<Instant>,
    /// Ended.
    #[serde(default)]
    pub ended_at: Option<Instant>,
    /// Talk seconds.
    #[serde(default)]
    pub talk_seconds: Option<i64>,
    /// Ring seconds.
    #[serde(default)]
    pub ring_seconds: Option<i64>,
    /// IVR seconds.
    #[serde(default)]
    pub ivr_seconds: Option<i64>,
    /// Queue seconds.
    #[serde(default)]
    pub queue_seconds: Option<i64>,
    /// Total seconds.
    #[serde(default)]
    pub total_seconds: Option<i64>,
    /// `second` or `minute`.
    #[serde(borrow, default = "second")]
    pub duration_precision: Text<'a>,
    /// Unified outcome.
    #[serde(borrow)]
    pub disposition: Text<'a>,
    /// The vendor's own status.
    #[serde(borrow, default)]
    pub disposition_detail: Text<'a>,
    /// Who hung up.
    #[serde(borrow, default)]
    pub hangup_side: Option<Text<'a>>,
    /// Recordings, as JSON text.
    #[serde(borrow, default)]
    pub recordings: Option<&'a RawValue>,
    /// The transcript, as JSON text.
    #[serde(borrow, default)]
    pub transcript: Option<&'a RawValue>,
    /// The transcript's status (read from `transcript` by [`RecordView::parse`]).
    #[serde(skip)]
    pub transcript_status: Option<Text<'a>>,
    /// The transcript's sentences joined by newlines (read by [`RecordView::parse`]).
    #[serde(skip)]
    pub transcript_text: Option<String>,
    /// Channel.
    #[serde(borrow, default)]
    pub channel: Option<Text<'a>>,
    /// Lead id.
    #[serde(borrow, default)]
    pub lead_id: Option<Text<'a>>,
    /// Remark.
    #[serde(borrow, default)]
    pub remark: Option<Text<'a>>,
    /// Satisfaction.
    #[serde(borrow, default)]
    pub satisfaction: Option<Text<'a>>,
    /// IVR keys.
    #[serde(borrow, default)]
    pub ivr_keys: Option<Text<'a>>,
    /// Location.
    #[serde(borrow, default)]
    pub location: Option<Text<'a>>,
    /// The vendor's record, as JSON text (`None` when `null`).
    #[serde(borrow, default)]
    pub raw: Option<&'a RawValue>,
    /// When huadan last wrote the record.
    #[serde(default)]
    pub synced_at: Option<Instant>,
}

#[derive(Deserialize)]
struct AgentIds<'a> {
    #[serde(borrow, default)]
    id: Option<Text<'a>>,
    #[serde(borrow, default)]
    name: Option<Text<'a>>,
}

#[derive(Deserialize)]
struct TranscriptText<'a> {
    #[serde(borrow)]
    status: Text<'a>,
    #[serde(borrow, default)]
    sentences: Vec<SentenceText<'a>>,
}

#[derive(Deserialize)]
struct SentenceText<'a> {
    #[serde(borrow, default)]
    text: Text<'a>,
}

impl<'a> RecordView<'a> {
    /// Read a record's JSON object.
    pub fn parse(json: &'a [u8]) -> Result<Self, serde_json::Error> {
        let mut v: RecordView<'a> = serde_json::from_slice(json)?;
        if let Some(agent) = v.agent {
            let ids: AgentIds<'a> = serde_json::from_str(agent.get())?;
            v.agent_id = ids.id;
            v.agent_name = ids.name;
        }
        if let Some(t) = v.transcript {
            let t: TranscriptText<'a> = serde_json::from_str(t.get())?;
            let mut text = String::new();
            for (i, s) in t.sentences.iter().enumerate() {
                if i > 0 {
                    text.push('\n');
                }
                text.push_str(s.text.as_str());
            }
            v.transcript_status = Some(t.status);
            v.transcript_text = Some(text);
        }
        Ok(v)
    }
}
