//! The fixed column set of the tabular exports (CSV and Parquet), in order.
//!
//! The core fields of CONTRACT.md §3 as plain columns (parties flattened to
//! `caller_number`, `caller_user_id`, …), then the nested fields JSON-encoded:
//! `agent`, `participants`, `recordings`, `transcript`, `raw`. `transcript_text` is the
//! transcript's sentences joined by newlines, for reading in a spreadsheet.
//! Instants are UTC (`2024-03-01T08:00:00Z` in CSV, `timestamp[us, UTC]` in Parquet);
//! durations are whole seconds. Cells are read from a [`RecordView`] (the record's
//! JSON, nested fields copied out as stored).

use super::view::{RecordView, Text};
use huadan_model::Instant;
use serde_json::value::RawValue;
use std::borrow::Cow;

/// A column's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    /// UTF-8 text (JSON-encoded for nested fields).
    Text,
    /// 64-bit integer (seconds).
    Int,
    /// An instant, UTC.
    Timestamp,
}

/// One cell.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell<'a> {
    /// No value.
    Null,
    /// Text.
    Text(Cow<'a, str>),
    /// An integer.
    Int(i64),
    /// An instant.
    Timestamp(Instant),
}

/// One export column.
#[derive(Clone, Copy)]
pub struct Column {
    /// The header / field name.
    pub name: &'static str,
    /// Its type.
    pub ty: ColumnType,
    /// Whether every record has a value.
    pub required: bool,
    /// Reads the cell from a record.
    pub get: for<'a> fn(&'a RecordView<'_>) -> Cell<'a>,
}

impl std::fmt::Debug for Column {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Column").field("name", &self.name).field("ty", &self.ty).finish()
    }
}

fn text<'a>(s: &'a Text<'_>) -> Cell<'a> {
    Cell::Text(Cow::Borrowed(s.as_str()))
}
fn opt<'a>(s: &'a Option<Text<'_>>) -> Cell<'a> {
    s.as_ref().map_or(Cell::Null, text)
}
fn int(v: Option<i64>) -> Cell<'static> {
    v.map_or(Cell::Null, Cell::Int)
}
fn time(v: Option<Instant>) -> Cell<'static> {
    v.map_or(Cell::Null, Cell::Timestamp)
}
/// A nested field's JSON text, as stored (`null` → no value).
fn json<'a>(v: Option<&'a RawValue>) -> Cell<'a> {
    v.map_or(Cell::Null, |v| Cell::Text(Cow::Borrowed(v.get())))
}
/// A list's JSON text; an absent list is `[]`.
fn list<'a>(v: Option<&'a RawValue>) -> Cell<'a> {
    Cell::Text(Cow::Borrowed(v.map_or("[]", RawValue::get)))
}

const fn col(
    name: &'static str,
    ty: ColumnType,
    required: bool,
    get: for<'a> fn(&'a RecordView<'_>) -> Cell<'a>,
) -> Column {
    Column { name, ty, required, get }
}

use ColumnType::{Int, Text as TextCol, Timestamp};

/// Every column, in output order.
pub const COLUMNS: &[Column] = &[
    col("id", TextCol, true, |r| text(&r.id)),
    col("source", TextCol, true, |r| text(&r.source)),
    col("provider", TextCol, true, |r| text(&r.provider)),
    col("provider_call_id", TextCol, true, |r| text(&r.provider_call_id)),
    col("account", TextCol, false, |r| opt(&r.account)),
    col("direction", TextCol, true, |r| text(&r.direction)),
    col("caller_number", TextCol, false, |r| opt(&r.caller.number)),
    col("caller_user_id", TextCol, false, |r| opt(&r.caller.user_id)),
    col("caller_name", TextCol, false, |r| opt(&r.caller.name)),
    col("callee_number", TextCol, false, |r| opt(&r.callee.number)),
    col("callee_user_id", TextCol, false, |r| opt(&r.callee.user_id)),
    col("callee_name", TextCol, false, |r| opt(&r.callee.name)),
    col("agent_id", TextCol, false, |r| opt(&r.agent_id)),
    col("agent_name", TextCol, false, |r| opt(&r.agent_name)),
    col("started_at", Timestamp, true, |r| Cell::Timestamp(r.started_at)),
    col("ringing_at", Timestamp, false, |r| time(r.ringing_at)),
    col("answered_at", Timestamp, false, |r| time(r.answered_at)),
    col("ended_at", Timestamp, false, |r| time(r.ended_at)),
    col("talk_seconds", Int, false, |r| int(r.talk_seconds)),
    col("ring_seconds", Int, false, |r| int(r.ring_seconds)),
    col("ivr_seconds", Int, false, |r| int(r.ivr_seconds)),
    col("queue_seconds", Int, false, |r| int(r.queue_seconds)),
    col("total_seconds", Int, false, |r| int(r.total_seconds)),
    col("duration_precision", TextCol, true, |r| text(&r.duration_precision)),
    col("disposition", TextCol, true, |r| text(&r.disposition)),
    col("disposition_detail", TextCol, true, |r| text(&r.disposition_detail)),
    col("hangup_side", TextCol, false, |r| opt(&r.hangup_side)),
    col("channel", TextCol, false, |r| opt(&r.channel)),
    col("lead_id", TextCol, false, |r| opt(&r.lead_id)),
    col("remark", TextCol, false, |r| opt(&r.remark)),
    col("satisfaction", TextCol, false, |r| opt(&r.satisfaction)),
    col("ivr_keys", TextCol, false, |r| opt(&r.ivr_keys)),
    col("location", TextCol, false, |r| opt(&r.location)),
    col("transcript_status", TextCol, false, |r| opt(&r.transcript_status)),
    col("transcript_text", TextCol, false, |r| {
        r.transcript_text.as_deref().map_or(Cell::Null, |t| Cell::Text(Cow::Borrowed(t)))
    }),
    col("synced_at", Timestamp, false, |r| time(r.synced_at)),
    col("agent", TextCol, false, |r| json(r.agent)),
    col("participants", TextCol, true, |r| list(r.participants)),
    col("recordings", TextCol, true, |r| list(r.recordings)),
    col("transcript", TextCol, false, |r| json(r.transcript)),
    col("raw", TextCol, false, |r| json(r.raw)),
];

#[cfg(test)]
mod tests {
    use super::*;
    use huadan_model::{
        Agent, CallRecord, HangupSide, Participant, Provider, Recording, Sentence, Transcript, TranscriptStatus,
    };

    /// Each column read straight from a decoded record: what the view must agree with.
    fn from_record(r: &CallRecord, name: &str) -> Option<String> {
        let s = |v: &Option<String>| v.clone();
        let t = |v: Option<Instant>| v.map(|t| t.to_string());
        let i = |v: Option<i64>| v.map(|v| v.to_string());
        let j = |v: &dyn erased::Ser| Some(v.json());
        match name {
            "id" => Some(r.id.clone()),
            "source" => Some(r.source.clone()),
            "provider" => Some(r.provider.as_str().into()),
            "provider_call_id" => Some(r.provider_call_id.clone()),
            "account" => s(&r.account),
            "direction" => Some(r.direction.as_str().into()),
            "caller_number" => s(&r.caller.number),
            "caller_user_id" => s(&r.caller.user_id),
            "caller_name" => s(&r.caller.name),
            "callee_number" => s(&r.callee.number),
            "callee_user_id" => s(&r.callee.user_id),
            "callee_name" => s(&r.callee.name),
            "agent_id" => r.agent.as_ref().and_then(|a| a.id.clone()),
            "agent_name" => r.agent.as_ref().and_then(|a| a.name.clone()),
            "started_at" => Some(r.started_at.to_string()),
            "ringing_at" => t(r.ringing_at),
            "answered_at" => t(r.answered_at),
            "ended_at" => t(r.ended_at),
            "talk_seconds" => i(r.talk_seconds),
            "ring_seconds" => i(r.ring_seconds),
            "ivr_seconds" => i(r.ivr_seconds),
            "queue_seconds" => i(r.queue_seconds),
            "total_seconds" => i(r.total_seconds),
            "duration_precision" => Some(r.duration_precision.as_str().into()),
            "disposition" => Some(r.disposition.as_str().into()),
            "disposition_detail" => Some(r.disposition_detail.clone()),
            "hangup_side" => r.hangup_side.map(|h| h.as_str().into()),
            "channel" => s(&r.channel),
            "lead_id" => s(&r.lead_id),
            "remark" => s(&r.remark),
            "satisfaction" => s(&r.satisfaction),
            "ivr_keys" => s(&r.ivr_keys),
            "location" => s(&r.location),
            "transcript_status" => r.transcript.as_ref().map(|t| t.status.as_str().into()),
            "transcript_text" => r.transcript.as_ref().map(Transcript::text),
            "synced_at" => t(r.synced_at),
            "agent" => r.agent.as_ref().and_then(|a| j(a)),
            "participants" => j(&r.participants),
            "recordings" => j(&r.recordings),
            "transcript" => r.transcript.as_ref().and_then(|t| j(t)),
            // Through serde, whatever type holds `raw`.
            "raw" => (!serde_json::to_value(&r.raw).unwrap().is_null()).then(|| j(&r.raw)).flatten(),
            other => panic!("no reference for column {other}"),
        }
    }

    mod erased {
        pub trait Ser {
            fn json(&self) -> String;
        }
        impl<T: serde::Serialize> Ser for T {
            fn json(&self) -> String {
                serde_json::to_string(self).unwrap()
            }
        }
    }

    fn cell_text(c: Cell<'_>) -> Option<String> {
        match c {
            Cell::Null => None,
            Cell::Text(s) => Some(s.into_owned()),
            Cell::Int(v) => Some(v.to_string()),
            Cell::Timestamp(t) => Some(t.to_string()),
        }
    }

    fn full() -> CallRecord {
        let at = |s: &str| s.parse::<Instant>().unwrap();
        let mut r = CallRecord::new("hq", Provider::AliyunCcc, "x/y:\"1\"", at("2024-03-01T08:00:00.250Z"));
        r.account = Some("ccc-1".into());
        r.caller.number = Some("13812348000".into());
        r.caller.name = Some("张三".into());
        r.callee.user_id = Some("u\\1".into());
        r.agent = Some(Agent {
            id: Some("a\"1".into()),
            name: Some("坐席\t一".into()),
            phone: Some("13900000000".into()),
            skill_groups: vec!["售后".into()],
            ..Agent::default()
        });
        r.participants =
            vec![Participant { role: "agent".into(), number: Some("139".into()), ..Participant::default() }];
        r.ringing_at = Some(at("2024-03-01T08:00:01Z"));
        r.answered_at = Some(at("2024-03-01T08:00:05Z"));
        r.ended_at = Some(at("2024-03-01T08:01:05Z"));
        r.talk_seconds = Some(60);
        r.total_seconds = Some(65);
        r.disposition_detail = "ok,\"fine\"".into();
        r.hangup_side = Some(HangupSide::Customer);
        r.recordings = vec![Recording { url: "https://x.invalid/a.mp3".into(), ..Recording::default() }];
        r.transcript = Some(Transcript {
            status: TranscriptStatus::Done,
            sentences: vec![
                Sentence { text: "您好\n".into(), ..Sentence::default() },
                Sentence { text: "再见".into(), ..Sentence::default() },
            ],
        });
        r.remark = Some("客户说\"好的\", 明天\n再打".into());
        r.location = Some("上海".into());
        r.raw = serde_json::from_str(r#"{"z":1,"a":[1.5,"\u0001",null],"中":{"k":true}}"#).unwrap();
        r.synced_at = Some(at("2024-03-02T00:00:00.001Z"));
        r
    }

    #[test]
    fn every_cell_read_from_json_matches_the_record() {
        let bare = CallRecord::new("s", Provider::Tanma, "1", "2024-01-01T00:00:00Z".parse().unwrap());
        for r in [full(), bare] {
            let json = serde_json::to_vec(&r).unwrap();
            let view = RecordView::parse(&json).unwrap();
            for c in COLUMNS {
                let got = cell_text((c.get)(&view));
                assert_eq!(got, from_record(&r, c.name), "column {}", c.name);
                assert!(!c.required || got.is_some(), "required column {} empty", c.name);
            }
        }
    }

    #[test]
    fn names_are_unique_and_core_fields_present() {
        let mut names: Vec<_> = COLUMNS.iter().map(|c| c.name).collect();
        for core in [
            "id",
            "source",
            "provider",
            "provider_call_id",
            "direction",
            "caller_number",
            "callee_number",
            "started_at",
            "talk_seconds",
            "disposition",
        ] {
            assert!(names.contains(&core), "{core}");
        }
        names.sort();
        names.dedup();
        assert_eq!(names.len(), COLUMNS.len());
    }
}
