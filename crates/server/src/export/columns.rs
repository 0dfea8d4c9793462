//! The fixed column set of the tabular exports (CSV and Parquet), in order.
//!
//! The core fields of CONTRACT.md §3 as plain columns (parties flattened to
//! `caller_number`, `caller_user_id`, …), then the nested fields JSON-encoded:
//! `agent`, `participants`, `recordings`, `transcript`, `raw`. `transcript_text` is the
//! transcript's sentences joined by newlines, for reading in a spreadsheet.
//! Instants are UTC (`2024-03-01T08:00:00Z` in CSV, `timestamp[us, UTC]` in Parquet);
//! durations are whole seconds.

use huadan_model::{CallRecord, Instant};
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
    pub get: for<'a> fn(&'a CallRecord) -> Cell<'a>,
}

impl std::fmt::Debug for Column {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Column").field("name", &self.name).field("ty", &self.ty).finish()
    }
}

fn text(s: &str) -> Cell<'_> {
    Cell::Text(Cow::Borrowed(s))
}
fn opt(s: &Option<String>) -> Cell<'_> {
    s.as_deref().map_or(Cell::Null, text)
}
fn int(v: Option<i64>) -> Cell<'static> {
    v.map_or(Cell::Null, Cell::Int)
}
fn time(v: Option<Instant>) -> Cell<'static> {
    v.map_or(Cell::Null, Cell::Timestamp)
}
fn json<T: serde::Serialize>(v: &T) -> Cell<'static> {
    // Serialising the record's own types to a String cannot fail (no maps with
    // non-string keys, no custom serialisers that error).
    serde_json::to_string(v).map_or(Cell::Null, |s| Cell::Text(Cow::Owned(s)))
}

const fn col(
    name: &'static str,
    ty: ColumnType,
    required: bool,
    get: for<'a> fn(&'a CallRecord) -> Cell<'a>,
) -> Column {
    Column { name, ty, required, get }
}

use ColumnType::{Int, Text, Timestamp};

/// Every column, in output order.
pub const COLUMNS: &[Column] = &[
    col("id", Text, true, |r| text(&r.id)),
    col("source", Text, true, |r| text(&r.source)),
    col("provider", Text, true, |r| text(r.provider.as_str())),
    col("provider_call_id", Text, true, |r| text(&r.provider_call_id)),
    col("account", Text, false, |r| opt(&r.account)),
    col("direction", Text, true, |r| text(r.direction.as_str())),
    col("caller_number", Text, false, |r| opt(&r.caller.number)),
    col("caller_user_id", Text, false, |r| opt(&r.caller.user_id)),
    col("caller_name", Text, false, |r| opt(&r.caller.name)),
    col("callee_number", Text, false, |r| opt(&r.callee.number)),
    col("callee_user_id", Text, false, |r| opt(&r.callee.user_id)),
    col("callee_name", Text, false, |r| opt(&r.callee.name)),
    col("agent_id", Text, false, |r| r.agent.as_ref().map_or(Cell::Null, |a| opt(&a.id))),
    col("agent_name", Text, false, |r| r.agent.as_ref().map_or(Cell::Null, |a| opt(&a.name))),
    col("started_at", Timestamp, true, |r| Cell::Timestamp(r.started_at)),
    col("ringing_at", Timestamp, false, |r| time(r.ringing_at)),
    col("answered_at", Timestamp, false, |r| time(r.answered_at)),
    col("ended_at", Timestamp, false, |r| time(r.ended_at)),
    col("talk_seconds", Int, false, |r| int(r.talk_seconds)),
    col("ring_seconds", Int, false, |r| int(r.ring_seconds)),
    col("ivr_seconds", Int, false, |r| int(r.ivr_seconds)),
    col("queue_seconds", Int, false, |r| int(r.queue_seconds)),
    col("total_seconds", Int, false, |r| int(r.total_seconds)),
    col("duration_precision", Text, true, |r| text(r.duration_precision.as_str())),
    col("disposition", Text, true, |r| text(r.disposition.as_str())),
    col("disposition_detail", Text, true, |r| text(&r.disposition_detail)),
    col("hangup_side", Text, false, |r| r.hangup_side.map_or(Cell::Null, |h| text(h.as_str()))),
    col("channel", Text, false, |r| opt(&r.channel)),
    col("lead_id", Text, false, |r| opt(&r.lead_id)),
    col("remark", Text, false, |r| opt(&r.remark)),
    col("satisfaction", Text, false, |r| opt(&r.satisfaction)),
    col("ivr_keys", Text, false, |r| opt(&r.ivr_keys)),
    col("location", Text, false, |r| opt(&r.location)),
    col("transcript_status", Text, false, |r| r.transcript.as_ref().map_or(Cell::Null, |t| text(t.status.as_str()))),
    col("transcript_text", Text, false, |r| {
        r.transcript.as_ref().map_or(Cell::Null, |t| Cell::Text(Cow::Owned(t.text())))
    }),
    col("synced_at", Timestamp, false, |r| time(r.synced_at)),
    col("agent", Text, false, |r| r.agent.as_ref().map_or(Cell::Null, json)),
    col("participants", Text, true, |r| json(&r.participants)),
    col("recordings", Text, true, |r| json(&r.recordings)),
    col("transcript", Text, false, |r| r.transcript.as_ref().map_or(Cell::Null, json)),
    col("raw", Text, false, |r| if r.raw.is_null() { Cell::Null } else { json(&r.raw) }),
];

#[cfg(test)]
mod tests {
    use super::*;

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
