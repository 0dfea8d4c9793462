//! The values that cross the [`crate::Store`] trait when several processes share the
//! work through one database (the "fleet", see `docs/architecture.md`).
//!
//! A *run* of a source is planned once, by whichever worker gets there first, into
//! numbered windows of one *generation*; every worker then claims windows with a lease
//! (owner, fencing token, expiry), renews it while it fetches, and finishes the window
//! in one transaction with its records and the source's merged sync state. A commit
//! whose lease was lost is refused ([`crate::StoreError::LeaseLost`]); a window whose
//! lease expired can be claimed again. The vendor quota is shared through
//! [`crate::Store::reserve_slots`]: globally unique request start times.
//!
//! The embedded SQLite store is a single process and does not share work: its
//! defaults grant nothing and the engine keeps its in-process scheduling.

use crate::SyncState;
use huadan_model::{CallRecord, Instant};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Whether a planned window is part of the run's contiguous range or a re-visit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WindowKind {
    /// A window of the run's contiguous range: takes part in the checkpoint.
    Main,
    /// An open window of an earlier run, re-visited on its own.
    Revisit,
}

impl WindowKind {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            WindowKind::Main => "main",
            WindowKind::Revisit => "revisit",
        }
    }

    /// Parse the stored spelling (anything else is a re-visit: it never moves a checkpoint).
    pub fn parse(s: &str) -> Self {
        if s == "main" { WindowKind::Main } else { WindowKind::Revisit }
    }
}

/// One window of a plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedWindow {
    /// Start (inclusive).
    pub start: Instant,
    /// End (exclusive).
    pub end: Instant,
    /// Main or re-visit.
    pub kind: WindowKind,
}

/// What a worker planned for a source's run, stored for the whole fleet.
#[derive(Debug, Clone, PartialEq)]
pub struct RunPlan {
    /// The run's range start.
    pub range_start: Instant,
    /// The run's range end.
    pub range_end: Instant,
    /// Whether finished main windows may move the checkpoint (no gap before the range).
    pub advance: bool,
    /// Engine data kept with the plan and handed back in [`RunView::context`]
    /// (the open windows at plan time); opaque to the store.
    pub context: serde_json::Value,
    /// The windows, main windows in time order first.
    pub windows: Vec<PlannedWindow>,
}

/// Plans a run from the source's sync state as stored when the plan is made (under
/// the source's lock); `Err` is a reason the source cannot be planned.
pub type PlanFn = Box<dyn FnOnce(Option<&SyncState>) -> Result<RunPlan, String> + Send>;

/// The answer of [`crate::Store::plan_run`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunTicket {
    /// Work on this generation: planned just now (`planned`) or joined.
    Run {
        /// The generation to claim windows of.
        generation: i64,
        /// Windows in the generation.
        windows: usize,
        /// Whether this call planned it.
        planned: bool,
        /// The run's range start.
        range_start: Instant,
        /// The run's range end.
        range_end: Instant,
    },
    /// The source's last run finished less than `min_gap` ago: nothing to do.
    Idle,
    /// The plan function refused (its reason).
    Refused(String),
}

/// A window leased to one worker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WindowClaim {
    /// The window's row id.
    pub id: i64,
    /// The source.
    pub source: String,
    /// The generation it belongs to.
    pub generation: i64,
    /// Its position in the plan.
    pub seq: i32,
    /// Main or re-visit.
    pub kind: WindowKind,
    /// Start (inclusive).
    pub start: Instant,
    /// End (exclusive).
    pub end: Instant,
    /// The worker holding it.
    pub owner: String,
    /// The fencing token: grows every time the window changes hands.
    pub fence: i64,
    /// How long the lease is valid from the moment the claim was answered.
    pub valid_for: Duration,
}

/// The answer of [`crate::Store::claim_window`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// A window is yours.
    Window(WindowClaim),
    /// Nothing to claim right now, but windows are still in other workers' hands (their
    /// leases may yet expire): ask again, no later than `next_expiry`.
    Busy {
        /// Windows not finished yet.
        unfinished: u64,
        /// Time until the earliest lease of another worker expires.
        next_expiry: Option<Duration>,
    },
    /// Every window of the generation is finished.
    Finished,
}

/// A window's state in a generation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WindowStatus {
    /// Not claimed yet (or released).
    Todo,
    /// Leased to a worker.
    Claimed,
    /// Fetched and stored completely.
    Done,
    /// Fetched with pieces that kept failing (recorded in the sync state).
    Failed,
}

impl WindowStatus {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            WindowStatus::Todo => "todo",
            WindowStatus::Claimed => "claimed",
            WindowStatus::Done => "done",
            WindowStatus::Failed => "failed",
        }
    }

    /// Parse the stored spelling.
    pub fn parse(s: &str) -> Self {
        match s {
            "claimed" => WindowStatus::Claimed,
            "done" => WindowStatus::Done,
            "failed" => WindowStatus::Failed,
            _ => WindowStatus::Todo,
        }
    }

    /// Done or failed.
    pub fn finished(self) -> bool {
        matches!(self, WindowStatus::Done | WindowStatus::Failed)
    }
}

/// One window of a generation as [`RunView`] shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct WindowRow {
    /// Position in the plan.
    pub seq: i32,
    /// Main or re-visit.
    pub kind: WindowKind,
    /// Start (inclusive).
    pub start: Instant,
    /// End (exclusive).
    pub end: Instant,
    /// Its state.
    pub status: WindowStatus,
    /// What its finisher reported ([`WindowDone::outcome`]).
    pub outcome: Option<serde_json::Value>,
}

/// A generation as the state merge of [`WindowDone::update`] sees it, after the
/// finishing window's own row was updated.
#[derive(Debug, Clone, PartialEq)]
pub struct RunView {
    /// The generation.
    pub generation: i64,
    /// The run's range start.
    pub range_start: Instant,
    /// The run's range end.
    pub range_end: Instant,
    /// Whether main windows may move the checkpoint.
    pub advance: bool,
    /// The plan's [`RunPlan::context`].
    pub context: serde_json::Value,
    /// Every window, by `seq`.
    pub windows: Vec<WindowRow>,
}

impl RunView {
    /// Whether every window is done or failed.
    pub fn finished(&self) -> bool {
        self.windows.iter().all(|w| w.status.finished())
    }
}

/// Computes the source's new sync state from the stored one (read under the source's
/// lock) and the generation; runs inside the finishing transaction.
pub type StateUpdate = Box<dyn FnOnce(Option<SyncState>, &RunView) -> SyncState + Send>;

/// What [`crate::Store::finish_window`] commits in one transaction.
pub struct WindowDone {
    /// The window's last records.
    pub records: Vec<CallRecord>,
    /// Whether some piece kept failing (the window ends `failed`, not `done`).
    pub failed: bool,
    /// The engine's account of the window (pending and failed pieces), kept on the row.
    pub outcome: serde_json::Value,
    /// The state merge.
    pub update: StateUpdate,
}

impl std::fmt::Debug for WindowDone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WindowDone")
            .field("records", &self.records.len())
            .field("failed", &self.failed)
            .field("outcome", &self.outcome)
            .finish_non_exhaustive()
    }
}

/// Request start times reserved from a fleet-wide quota: `count` slots, the first
/// `first_in` from the moment the answer was produced, then one every `interval`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlotGrant {
    /// Delay until the first slot; negative when it began a moment ago (an idle quota
    /// grants "now", and the answer took a little while to leave).
    pub first_in: jiff::SignedDuration,
    /// The first slot on the store's clock (what makes slots unique fleet-wide).
    pub first_at: Instant,
    /// Spacing of the slots.
    pub interval: Duration,
    /// How many slots.
    pub count: u32,
}

/// One lease of a window, as the audit trail keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClaimRecord {
    /// The generation.
    pub generation: i64,
    /// The window's position in the plan.
    pub seq: i32,
    /// Window start.
    pub start: Instant,
    /// Window end.
    pub end: Instant,
    /// Who held it.
    pub owner: String,
    /// The fencing token of this lease.
    pub fence: i64,
    /// When it was claimed (database clock).
    pub claimed_at: Instant,
    /// When it ended: released or finished, else the last lease expiry.
    pub ended_at: Instant,
    /// `done`, `failed`, `released`, `expired` or `held` (still leased).
    pub how: String,
}
