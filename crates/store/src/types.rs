//! The values that cross the [`crate::Store`] trait.

use huadan_model::{CallRecord, Direction, Disposition, Instant, Provider};
use serde::{Deserialize, Serialize};

/// Which records a query, stats or export covers. Empty lists / `None` mean "any".
/// Every value is bound as a SQL parameter.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CallFilter {
    /// Source names.
    pub sources: Vec<String>,
    /// Providers.
    pub providers: Vec<Provider>,
    /// `started_at >= since`.
    pub since: Option<Instant>,
    /// `started_at < until`.
    pub until: Option<Instant>,
    /// Directions.
    pub directions: Vec<Direction>,
    /// Dispositions.
    pub dispositions: Vec<Disposition>,
    /// Agent id or exact agent name.
    pub agent: Option<String>,
    /// Matches caller or callee number (substring).
    pub number: Option<String>,
    /// Transcript contains this text (FTS; 1–2 character queries by a slower path).
    pub text: Option<String>,
}

/// A page request.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CallQuery {
    /// Which records.
    pub filter: CallFilter,
    /// Page size (callers cap it: CLI any, API ≤ 1000).
    pub limit: usize,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// A page of records, newest first.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CallPage {
    /// The records.
    pub items: Vec<CallRecord>,
    /// Opaque cursor for the next page; `None` on the last page.
    pub next_cursor: Option<String>,
}

/// How `stats` groups.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupBy {
    /// By provider.
    Provider,
    /// By source name.
    Source,
    /// By agent (id, with name as label).
    Agent,
    /// By calendar day in the configured time zone (`YYYY-MM-DD`).
    Day,
    /// By hour of day in the configured time zone (`00`..`23`).
    Hour,
    /// By ISO weekday in the configured time zone (`1` Monday .. `7` Sunday).
    Weekday,
    /// By unified disposition.
    Disposition,
}

impl std::str::FromStr for GroupBy {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "provider" => GroupBy::Provider,
            "source" => GroupBy::Source,
            "agent" => GroupBy::Agent,
            "day" => GroupBy::Day,
            "hour" => GroupBy::Hour,
            "weekday" => GroupBy::Weekday,
            "disposition" => GroupBy::Disposition,
            _ => {
                return Err(format!(
                    "`{s}` is not a grouping; expected provider, source, agent, day, hour, weekday or disposition"
                ));
            }
        })
    }
}

/// One group's aggregates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatsRow {
    /// The group key (provider, source, agent id, `2024-03-01`, `09`, …).
    pub key: String,
    /// A human label where the key is an id (agent name).
    pub label: Option<String>,
    /// Number of calls.
    pub calls: u64,
    /// Number answered.
    pub answered: u64,
    /// answered / calls (0 when no calls).
    pub answered_rate: f64,
    /// Sum of talk seconds.
    pub talk_seconds_total: i64,
    /// Mean talk seconds over answered calls with a duration.
    pub talk_seconds_mean: Option<f64>,
    /// 90th percentile talk seconds over answered calls with a duration.
    pub talk_seconds_p90: Option<i64>,
    /// Earliest call in the group.
    pub first_call: Option<Instant>,
    /// Latest call in the group.
    pub last_call: Option<Instant>,
}

/// A window the engine must come back to: records that may still change, or a window
/// that failed and must be retried on the next run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenWindow {
    /// Window start (inclusive).
    pub start: Instant,
    /// Window end (exclusive).
    pub end: Instant,
    /// `pending` (records may change) or `failed`.
    pub reason: String,
    /// How many times it was attempted.
    pub attempts: u32,
    /// The last error, for `failed`.
    pub error: Option<String>,
    /// When it was first opened (for the settle cap).
    pub opened_at: Instant,
}

/// A source's sync bookkeeping, owned by the sync engine and stored as a whole.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SyncState {
    /// The source name.
    pub source: String,
    /// End of the last contiguous fully stored range: the next incremental run starts
    /// at `checkpoint − lookback`.
    pub checkpoint: Option<Instant>,
    /// Where the stored history starts (the first backfill's start).
    pub backfill_start: Option<Instant>,
    /// Windows to re-visit.
    pub open_windows: Vec<OpenWindow>,
    /// When a run last finished without error.
    pub last_success: Option<Instant>,
    /// When a run last ended (success or not).
    pub last_run: Option<Instant>,
    /// The last run's error, in plain words; `None` after a clean run.
    pub last_error: Option<String>,
    /// Free-form counters of the last run (fetched, new, updated, requests…).
    pub last_run_stats: Option<serde_json::Value>,
}

/// A source's state plus how many records it has.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceStatus {
    /// The stored state.
    pub state: SyncState,
    /// Records stored for the source.
    pub records: u64,
}

/// What [`crate::Store::commit`] writes in one transaction.
#[derive(Debug, Clone, Default)]
pub struct Batch {
    /// The source the records and state belong to.
    pub source: String,
    /// Records to upsert (may be empty).
    pub records: Vec<CallRecord>,
    /// The source's new sync state, replacing the stored one (when `Some`).
    pub state: Option<SyncState>,
}

/// What a commit did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WriteStats {
    /// Records not seen before.
    pub inserted: u64,
    /// Records whose content changed.
    pub updated: u64,
    /// Records identical to what was stored.
    pub unchanged: u64,
}

impl std::ops::AddAssign for WriteStats {
    fn add_assign(&mut self, o: Self) {
        self.inserted += o.inserted;
        self.updated += o.updated;
        self.unchanged += o.unchanged;
    }
}

/// The width of a [`RollupCell`]'s slot: 15 minutes, so that every real time zone's
/// offset (a multiple of 15 minutes) maps a slot into exactly one local hour.
pub const ROLLUP_SLOT_SECONDS: i64 = 900;

/// One cell of [`crate::Store::rollup`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RollupCell {
    /// Start of the UTC slot ([`ROLLUP_SLOT_SECONDS`] wide).
    pub slot_start: Instant,
    /// The provider.
    pub provider: Provider,
    /// Whether the calls were inbound.
    pub inbound: bool,
    /// Whether the calls were answered.
    pub answered: bool,
    /// How many calls.
    pub calls: u64,
    /// Sum of their talk seconds.
    pub talk_seconds: i64,
}
