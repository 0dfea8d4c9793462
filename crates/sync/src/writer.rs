//! The single store writer. Every source's pages arrive over one bounded channel; the
//! writer batches them into transactions and owns each source's [`SyncState`] during a
//! run. A finished window's last records and the source's new state are committed in
//! the same transaction, and the checkpoint only ever moves to the end of the last
//! *contiguous* run of finished windows: windows finishing out of order, or a window
//! that failed, never let it pass a gap.

use crate::CommitHook;
use crate::planner::{REASON_FAILED, REASON_PENDING};
use huadan_model::{CallRecord, Instant};
use huadan_store::{Batch, DynStore, OpenWindow, StoreError, SyncState, WriteStats};
use huadan_vendor::Window;
use jiff::SignedDuration;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::sync::{mpsc, oneshot};

/// Records buffered across sources before the writer commits without waiting for more.
/// Bigger transactions cost less per record, buffered records cost memory:
/// `sync_bench.sh` (session 7) gave 1,000 → 1,500 about +6 % throughput for a peak RSS
/// of 118 → 126 MB over 1 M records; 2,000 about +14 % but 138–142 MB (target ≤ 150).
const FLUSH_AT: usize = 1500;

/// Which planned window a message is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Slot {
    /// A window of the run's contiguous range (takes part in the checkpoint).
    Main(usize),
    /// An open window from an earlier run, re-visited on its own.
    Revisit(usize),
}

/// How a window ended.
#[derive(Debug, Default)]
pub(crate) struct Outcome {
    /// Pieces holding records that may still change.
    pub pending: Vec<Window>,
    /// Pieces that kept failing, with the error.
    pub failed: Vec<(Window, String)>,
}

/// A message to the writer.
pub(crate) enum Msg {
    /// A source starts: its ledger for this run.
    Begin { source: usize, ledger: Box<Ledger> },
    /// Records of a window still in progress.
    Records { source: usize, records: Vec<CallRecord> },
    /// A window is finished: its last records, committed with the new state.
    WindowDone { source: usize, slot: Slot, outcome: Outcome, records: Vec<CallRecord> },
    /// The source's run is over; the writer commits the final state and answers.
    End { source: usize, end: EndOfRun, reply: oneshot::Sender<WriterReport> },
}

/// What the source task tells the writer at the end of its run.
pub(crate) struct EndOfRun {
    /// The error that stopped the source, if any.
    pub error: Option<String>,
    /// Counters for `last_run_stats`.
    pub stats: serde_json::Value,
    /// When the run ended.
    pub now: Instant,
}

/// What the writer did for one source.
#[derive(Debug, Default)]
pub(crate) struct WriterReport {
    /// New / changed / unchanged records.
    pub written: WriteStats,
    /// Windows that failed (recorded as open).
    pub failed_windows: usize,
    /// The first window error.
    pub first_failure: Option<String>,
    /// A store error, which makes the source fail.
    pub store_error: Option<String>,
    /// The checkpoint after the run.
    pub checkpoint: Option<Instant>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    Waiting,
    Done,
    Failed,
}

/// One source's bookkeeping for a run.
#[derive(Debug)]
pub(crate) struct Ledger {
    state: SyncState,
    /// The last state the store accepted (written again, with the error, when a later
    /// commit fails: a state that was never stored must not be claimed).
    committed: SyncState,
    main: Vec<(Window, Status)>,
    advance: bool,
    old_open: Vec<(OpenWindow, bool)>,
    revisits: Vec<OpenWindow>,
    new_open: Vec<OpenWindow>,
    settle_within: Option<SignedDuration>,
    now: Instant,
    buffer: Vec<CallRecord>,
    report: WriterReport,
    stop: Arc<AtomicBool>,
}

impl Ledger {
    /// A ledger for a run over `main` (contiguous, in time order) and `revisits`.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        source: &str,
        stored: Option<SyncState>,
        range: Window,
        main: Vec<Window>,
        revisits: Vec<OpenWindow>,
        settle_within: Option<SignedDuration>,
        now: Instant,
        stop: Arc<AtomicBool>,
    ) -> Self {
        let mut state = stored.unwrap_or_else(|| SyncState { source: source.to_string(), ..Default::default() });
        state.source = source.to_string();
        // The checkpoint may move only when this run starts at or before it (no gap).
        let advance = state.checkpoint.is_none_or(|c| range.start <= c);
        if state.backfill_start.is_none_or(|b| range.start < b) && advance {
            state.backfill_start = Some(range.start);
        }
        let committed = state.clone();
        let old_open = std::mem::take(&mut state.open_windows).into_iter().map(|o| (o, false)).collect();
        Ledger {
            committed,
            state,
            main: main.into_iter().map(|w| (w, Status::Waiting)).collect(),
            advance,
            old_open,
            revisits,
            new_open: Vec::new(),
            settle_within,
            now,
            buffer: Vec::new(),
            report: WriterReport::default(),
            stop,
        }
    }

    fn window_done(&mut self, slot: Slot, outcome: Outcome) {
        let fully = outcome.failed.is_empty();
        match slot {
            Slot::Main(i) => {
                if let Some(m) = self.main.get_mut(i) {
                    m.1 = if fully { Status::Done } else { Status::Failed };
                }
            }
            Slot::Revisit(i) => {
                if let Some(r) = self.revisits.get(i) {
                    let r = r.clone();
                    for (o, resolved) in &mut self.old_open {
                        if *o == r {
                            *resolved = true;
                        }
                    }
                }
            }
        }
        for w in outcome.pending {
            let (opened_at, attempts) = self.history(&w);
            let open = OpenWindow {
                start: w.start,
                end: w.end,
                reason: REASON_PENDING.into(),
                attempts: attempts + 1,
                error: None,
                opened_at,
            };
            let expired = self.settle_within.is_none_or(|limit| opened_at + limit < self.now);
            if expired {
                tracing::warn!(
                    source = %self.state.source, window = %w,
                    "records still pending after the settle limit; no longer re-visiting this window"
                );
            } else {
                self.new_open.push(open);
            }
        }
        for (w, error) in outcome.failed {
            let (opened_at, attempts) = self.history(&w);
            tracing::warn!(source = %self.state.source, window = %w, %error, "window failed; it will be retried on the next run");
            self.report.failed_windows += 1;
            if self.report.first_failure.is_none() {
                self.report.first_failure = Some(format!("window {w}: {error}"));
            }
            self.new_open.push(OpenWindow {
                start: w.start,
                end: w.end,
                reason: REASON_FAILED.into(),
                attempts: attempts + 1,
                error: Some(error),
                opened_at,
            });
        }
        // Old open windows covered by finished main windows are resolved (re-added
        // above if they are still pending or failed).
        for (o, resolved) in &mut self.old_open {
            if *resolved {
                continue;
            }
            let w = Window::new(o.start, o.end);
            let overlapping: Vec<_> = self.main.iter().filter(|(m, _)| m.start < w.end && w.start < m.end).collect();
            let covered = !overlapping.is_empty()
                && overlapping.iter().all(|(_, s)| *s != Status::Waiting)
                && overlapping.first().is_some_and(|(m, _)| m.start <= w.start)
                && overlapping.last().is_some_and(|(m, _)| w.end <= m.end);
            if covered {
                *resolved = true;
            }
        }
        if self.advance {
            let mut end = None;
            for (w, s) in &self.main {
                if *s != Status::Done {
                    break;
                }
                end = Some(w.end);
            }
            if let Some(e) = end
                && self.state.checkpoint.is_none_or(|c| c < e)
            {
                self.state.checkpoint = Some(e);
            }
        }
        self.state.open_windows = self.open_windows();
    }

    /// When the history of windows overlapping `w` began, and how often they were tried.
    fn history(&self, w: &Window) -> (Instant, u32) {
        let mut opened_at = self.now;
        let mut attempts = 0;
        for o in self.old_open.iter().map(|(o, _)| o).chain(self.new_open.iter()) {
            if o.start < w.end && w.start < o.end {
                opened_at = opened_at.min(o.opened_at);
                attempts = attempts.max(o.attempts);
            }
        }
        (opened_at, attempts)
    }

    fn open_windows(&self) -> Vec<OpenWindow> {
        let mut out: Vec<OpenWindow> =
            self.old_open.iter().filter(|(_, resolved)| !resolved).map(|(o, _)| o.clone()).collect();
        out.extend(self.new_open.iter().cloned());
        out.sort_by(|a, b| a.start.cmp(&b.start).then(a.end.cmp(&b.end)));
        out.dedup();
        out
    }
}

/// The writer task: runs until every sender is gone.
///
/// Batches are written in the order they were made, up to the store's
/// [`write_lanes`](huadan_store::Store::write_lanes) at once (SQLite: one; PostgreSQL:
/// two), never two of one source at once: a source's batches are committed one after
/// the other, so its checkpoint never runs ahead of its records. The next batch is
/// prepared (serialised and compressed, see [`huadan_store::Store::prepare`]) while the
/// ones before it are being written, and pages keep arriving meanwhile. While every
/// lane is busy, buffers are flushed only once they hold [`FLUSH_AT`] records: the rest
/// wait for a write to end and go into the next batch together. (Letting the writer go
/// on receiving while a prepared batch waits, two batches ahead, was tried on SQLite:
/// more CPU per record, lower throughput.)
pub(crate) async fn run(store: DynStore, mut rx: mpsc::Receiver<Msg>, sources: usize, hook: Option<CommitHook>) {
    let mut ledgers: Vec<Option<Box<Ledger>>> = (0..sources).map(|_| None).collect();
    let lanes = store.write_lanes().max(1);
    let mut out = Out { store, hook, in_flight: Vec::with_capacity(lanes), lanes };
    loop {
        let event = if out.in_flight.is_empty() {
            Event::Msg(rx.recv().await)
        } else {
            tokio::select! {
                (result, i, _) = next_written(&mut out.in_flight) => Event::Written(i, result),
                msg = rx.recv() => Event::Msg(msg),
            }
        };
        match event {
            Event::Written(i, result) => account(&mut out, &mut ledgers, i, result),
            Event::Msg(None) => break,
            Event::Msg(Some(msg)) => {
                handle(&mut out, &mut ledgers, msg).await;
                while let Ok(msg) = rx.try_recv() {
                    handle(&mut out, &mut ledgers, msg).await;
                }
            }
        }
        // A free lane: whatever is buffered goes, source by source, each batch waiting
        // for a lane in turn (prepared meanwhile). A source whose write is under way
        // keeps buffering until that write ends.
        if out.in_flight.len() < out.lanes {
            for i in 0..ledgers.len() {
                if !out.writing(i) {
                    flush(&mut out, &mut ledgers, i).await;
                }
            }
        }
    }
    settle(&mut out, &mut ledgers, None).await;
}

/// The first of `in_flight`'s writes to end: its result and index.
type NextWritten<'a> = futures::future::SelectAll<&'a mut tokio::task::JoinHandle<Result<WriteStats, StoreError>>>;

fn next_written(in_flight: &mut [InFlight]) -> NextWritten<'_> {
    futures::future::select_all(in_flight.iter_mut().map(|w| &mut w.task))
}

/// What woke the writer.
enum Event {
    /// The write under way at this index of `in_flight` ended.
    Written(usize, Result<Result<WriteStats, StoreError>, tokio::task::JoinError>),
    /// A message, or `None`: every sender is gone.
    Msg(Option<Msg>),
}

/// Where committed batches go: the store, then the post-commit hook.
struct Out {
    store: DynStore,
    hook: Option<CommitHook>,
    /// The batches being written (at most `lanes`, at most one per source).
    in_flight: Vec<InFlight>,
    /// How many writes may be under way at once.
    lanes: usize,
}

impl Out {
    /// Whether a write of `source` is under way.
    fn writing(&self, source: usize) -> bool {
        self.in_flight.iter().any(|w| w.source == source)
    }
}

/// A batch handed to the store and not yet answered for.
struct InFlight {
    /// Whose batch it is.
    source: usize,
    /// The state it stores (the ledger's `committed` once it is written).
    state: Option<SyncState>,
    /// A copy of its records for the post-commit hook (only when there is a hook).
    records: Option<Vec<CallRecord>>,
    task: tokio::task::JoinHandle<Result<WriteStats, StoreError>>,
}

async fn handle(out: &mut Out, ledgers: &mut [Option<Box<Ledger>>], msg: Msg) {
    match msg {
        Msg::Begin { source, ledger } => {
            if let Some(slot) = ledgers.get_mut(source) {
                *slot = Some(ledger);
            }
        }
        Msg::Records { source, records } => {
            let total = {
                let Some(Some(l)) = ledgers.get_mut(source) else { return };
                l.buffer.extend(records);
                l.buffer.len()
            };
            if total >= FLUSH_AT {
                flush(out, ledgers, source).await;
            }
        }
        Msg::WindowDone { source, slot, outcome, records } => {
            let batch = {
                let Some(Some(l)) = ledgers.get_mut(source) else { return };
                l.buffer.extend(records);
                if l.report.store_error.is_some() {
                    return;
                }
                l.window_done(slot, outcome);
                Batch {
                    source: l.state.source.clone(),
                    records: std::mem::take(&mut l.buffer),
                    state: Some(l.state.clone()),
                }
            };
            commit(out, ledgers, source, batch).await;
        }
        Msg::End { source, end, reply } => {
            // The source's last batch is answered for before its final state is made.
            settle(out, ledgers, Some(source)).await;
            let batch = {
                let Some(Some(l)) = ledgers.get_mut(source) else { return };
                let mut state = l.state.clone();
                state.open_windows = l.open_windows();
                state.last_run = Some(end.now);
                let error = l.report.store_error.clone().or(end.error).or_else(|| l.report.first_failure.clone());
                if error.is_none() {
                    state.last_success = Some(end.now);
                }
                state.last_error = error;
                state.last_run_stats = Some(end.stats);
                Batch { source: state.source.clone(), records: std::mem::take(&mut l.buffer), state: Some(state) }
            };
            commit(out, ledgers, source, batch).await;
            settle(out, ledgers, Some(source)).await;
            let Some(Some(l)) = ledgers.get_mut(source) else { return };
            if l.report.store_error.is_some() {
                // Records after a failed commit are not written, and neither is a state
                // that could claim them; only the error is recorded.
                let mut s = l.committed.clone();
                s.last_run = Some(end.now);
                s.last_error = l.report.store_error.clone();
                let _ = out.store.commit(Batch { source: s.source.clone(), records: Vec::new(), state: Some(s) }).await;
            }
            l.report.checkpoint = l.state.checkpoint;
            let report = std::mem::take(&mut l.report);
            ledgers[source] = None;
            let _ = reply.send(report);
        }
    }
}

async fn flush(out: &mut Out, ledgers: &mut [Option<Box<Ledger>>], source: usize) {
    let batch = {
        let Some(Some(l)) = ledgers.get_mut(source) else { return };
        if l.buffer.is_empty() || l.report.store_error.is_some() {
            return;
        }
        Batch { source: l.state.source.clone(), records: std::mem::take(&mut l.buffer), state: None }
    };
    commit(out, ledgers, source, batch).await;
}

/// Hand `batch` to the store: prepare it (while the writes before it run), wait for the
/// source's own write under way and for a free lane, then start this one. Nothing of a
/// source is written after one of its writes failed.
async fn commit(out: &mut Out, ledgers: &mut [Option<Box<Ledger>>], source: usize, batch: Batch) {
    if ledgers.get(source).and_then(Option::as_ref).is_none_or(|l| l.report.store_error.is_some()) {
        return;
    }
    let state = batch.state.clone();
    // The hook sees the records only once the store has them: a copy is kept for it.
    let records = match &out.hook {
        Some(_) if !batch.records.is_empty() => Some(batch.records.clone()),
        _ => None,
    };
    let prepared = out.store.prepare(batch).await;
    while out.writing(source) || out.in_flight.len() >= out.lanes {
        let (result, i, _) = next_written(&mut out.in_flight).await;
        account(out, ledgers, i, result);
    }
    let Some(Some(l)) = ledgers.get_mut(source) else { return };
    if l.report.store_error.is_some() {
        return;
    }
    match prepared {
        Ok(prepared) => {
            let store = out.store.clone();
            let task = tokio::spawn(async move { store.write(prepared).await });
            out.in_flight.push(InFlight { source, state, records, task });
        }
        Err(e) => failed(l, &e.to_string()),
    }
}

/// Account for the ended write at index `i` of `in_flight`.
fn account(
    out: &mut Out,
    ledgers: &mut [Option<Box<Ledger>>],
    i: usize,
    result: Result<Result<WriteStats, StoreError>, tokio::task::JoinError>,
) {
    let write = out.in_flight.swap_remove(i);
    written(out, ledgers, write, result);
}

/// Wait for the writes under way (only `source`'s, when given) and account for them.
async fn settle(out: &mut Out, ledgers: &mut [Option<Box<Ledger>>], source: Option<usize>) {
    while let Some(i) = out.in_flight.iter().position(|w| source.is_none_or(|s| w.source == s)) {
        let result = (&mut out.in_flight[i].task).await;
        account(out, ledgers, i, result);
    }
}

/// Account for an ended write: the source's counters and committed state, then the
/// hook; or the error, which stops the source.
fn written(
    out: &Out,
    ledgers: &mut [Option<Box<Ledger>>],
    write: InFlight,
    result: Result<Result<WriteStats, StoreError>, tokio::task::JoinError>,
) {
    let Some(Some(l)) = ledgers.get_mut(write.source) else { return };
    match result {
        Ok(Ok(stats)) => {
            l.report.written += stats;
            if let Some(s) = write.state {
                l.committed = s;
            }
            if let (Some(hook), Some(records)) = (&out.hook, write.records) {
                hook(&records);
            }
        }
        Ok(Err(e)) => failed(l, &e.to_string()),
        Err(e) => failed(l, &format!("the write stopped unexpectedly: {e}")),
    }
}

/// A write of `l`'s source failed: stop the source; nothing more of it is written.
fn failed(l: &mut Ledger, error: &str) {
    tracing::error!(source = %l.state.source, %error, "store write failed; stopping the source");
    l.report.store_error = Some(format!("cannot write to the store: {error}"));
    l.stop.store(true, Ordering::SeqCst);
}
