//! One source's run on a store shared by several processes (PostgreSQL): the fleet.
//!
//! The first worker to arrive plans the run for everyone ([`Store::plan_run`], under
//! the source's lock); every worker of every process then claims windows
//! ([`Store::claim_window`], `FOR UPDATE SKIP LOCKED`), keeps its lease alive with a
//! heartbeat while it fetches, and finishes each window in ONE transaction with its
//! records and the source's merged state ([`Store::finish_window`]), which the store
//! refuses when the lease was lost. A worker that cannot renew its lease stops fetching
//! the window before the lease can expire; a killed worker's window is claimed again
//! once its lease expires. Requests are paced by the fleet-wide quota
//! ([`Limiter::shared`]). Workers keep polling until every window of the run is
//! finished, so that a dead worker's windows are always taken over.
//!
//! The sync state is recomputed from the plan and the finished windows on every
//! finish (idempotent, in the same transaction): the checkpoint is the end of the
//! contiguous run of `done` main windows, as in the single-process writer.
//!
//! [`Store::plan_run`]: huadan_store::Store::plan_run
//! [`Store::claim_window`]: huadan_store::Store::claim_window
//! [`Store::finish_window`]: huadan_store::Store::finish_window

use crate::engine::{Event, SourceRun};
use crate::limiter::Limiter;
use crate::planner::{self, REASON_FAILED, REASON_PENDING, RangeInput};
use crate::retry::{self, Counters, FetchFailure};
use crate::{CommitHook, SourceReport};
use huadan_model::{CallRecord, Instant};
use huadan_store::{
    Claim, DynStore, OpenWindow, PlannedWindow, RunPlan, RunTicket, RunView, StoreError, SyncState, WindowClaim,
    WindowDone, WindowKind, WindowStatus, WriteStats,
};
use huadan_vendor::{Cursor, Window};
use jiff::SignedDuration;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::watch;

/// Records of a window written (fenced) before the window is finished.
const FLUSH_AT: usize = 1000;

/// The most pages read from one window piece before paging is declared broken.
const MAX_PAGES_PER_WINDOW: u64 = 200_000;

/// Planned windows longer than this are cut, so that a backfill spreads over the fleet.
const FLEET_CHUNK: SignedDuration = SignedDuration::from_hours(24);

/// Store errors in a row after which a worker gives the source up for this run.
const MAX_STORE_ERRORS: u32 = 5;

/// How the engine shares work through a shared store (PostgreSQL).
#[derive(Debug, Clone)]
pub struct FleetOptions {
    /// Use the shared path when the store shares work (`false`: always in-process).
    pub enabled: bool,
    /// This process's identity in leases and the audit trail.
    pub worker: String,
    /// How long a window lease lasts without a heartbeat (renewed every third of it).
    pub lease: Duration,
    /// Do not plan a new run of a source whose last run finished less than this ago
    /// (`None`: half of `[sync] interval_seconds`; a run with `--since`/`--until` always plans).
    pub min_gap: Option<Duration>,
}

impl Default for FleetOptions {
    fn default() -> Self {
        FleetOptions { enabled: true, worker: worker_identity(), lease: Duration::from_secs(30), min_gap: None }
    }
}

/// `hostname-pid-random`: unique per process, readable in the audit trail.
pub fn worker_identity() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "host".into());
    let tag: u32 = rand::random();
    format!("{host}-{}-{:06x}", std::process::id(), tag & 0xff_ffff)
}

/// What the plan keeps for the state merge ([`RunPlan::context`]).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Context {
    /// The source's open windows when the run was planned.
    old_open: Vec<OpenWindow>,
    /// The open windows re-visited by this run, in the order of the revisit windows.
    revisits: Vec<OpenWindow>,
}

/// How one window ended ([`WindowDone::outcome`]).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Outcome {
    /// Pieces holding records that may still change.
    pending: Vec<Window>,
    /// Pieces that kept failing, with the error.
    failed: Vec<(Window, String)>,
}

/// Plan the run from the state stored when the plan is made.
fn plan(run: &PlanInput, stored: Option<&SyncState>) -> Result<RunPlan, String> {
    let range = planner::run_range(stored, &run.input);
    let main = run.vendor.plan(range, run.input.now).map_err(|e| format!("cannot plan {range}: {e}"))?;
    let limits = run.vendor.limits();
    let main = planner::chunk(main, run.chunk.unwrap_or(FLEET_CHUNK).min(FLEET_CHUNK), limits.min_span);
    let revisits = planner::revisits(stored, &range);
    let advance = stored.and_then(|s| s.checkpoint).is_none_or(|c| range.start <= c);
    let context = Context { old_open: stored.map(|s| s.open_windows.clone()).unwrap_or_default(), revisits };
    let windows = main
        .iter()
        .map(|w| PlannedWindow { start: w.start, end: w.end, kind: WindowKind::Main })
        .chain(context.revisits.iter().map(|o| PlannedWindow { start: o.start, end: o.end, kind: WindowKind::Revisit }))
        .collect();
    Ok(RunPlan {
        range_start: range.start,
        range_end: range.end,
        advance,
        context: serde_json::to_value(&context).unwrap_or_default(),
        windows,
    })
}

#[derive(Clone)]
struct PlanInput {
    vendor: huadan_vendor::DynVendor,
    input: RangeInput,
    chunk: Option<SignedDuration>,
}

/// The source's new state: the stored one with the checkpoint, backfill start and open
/// windows recomputed from the run's plan and finished windows (idempotent), and the
/// run's summary once every window is finished.
pub(crate) fn merge_state(
    source: &str,
    stored: Option<SyncState>,
    view: &RunView,
    settle_within: Option<SignedDuration>,
    now: Instant,
    worker: &str,
) -> SyncState {
    let mut state = stored.unwrap_or_default();
    state.source = source.to_string();
    let ctx: Context = serde_json::from_value(view.context.clone()).unwrap_or_default();
    if view.advance && state.backfill_start.is_none_or(|b| view.range_start < b) {
        state.backfill_start = Some(view.range_start);
    }
    let mains: Vec<_> = view.windows.iter().filter(|w| w.kind == WindowKind::Main).collect();
    if view.advance {
        let done = mains.iter().take_while(|w| w.status == WindowStatus::Done).last();
        if let Some(w) = done
            && state.checkpoint.is_none_or(|c| c < w.end)
        {
            state.checkpoint = Some(w.end);
        }
    }
    // Old open windows: resolved by their finished re-visit, or covered by finished
    // main windows (re-added below if still pending or failed).
    let revisit_rows: Vec<_> = view.windows.iter().filter(|w| w.kind == WindowKind::Revisit).collect();
    let resolved = |o: &OpenWindow| {
        let revisited = ctx.revisits.iter().zip(&revisit_rows).any(|(r, row)| r == o && row.status.finished());
        let over: Vec<_> = mains.iter().filter(|m| m.start < o.end && o.start < m.end).collect();
        let covered = !over.is_empty()
            && over.iter().all(|m| m.status.finished())
            && over.first().is_some_and(|m| m.start <= o.start)
            && over.last().is_some_and(|m| o.end <= m.end);
        revisited || covered
    };
    let mut open: Vec<OpenWindow> = ctx.old_open.iter().filter(|o| !resolved(o)).cloned().collect();
    let mut new_open: Vec<OpenWindow> = Vec::new();
    let mut failed = 0usize;
    let mut first_failure = None;
    for row in view.windows.iter().filter(|w| w.status.finished()) {
        let outcome: Outcome = row.outcome.clone().and_then(|o| serde_json::from_value(o).ok()).unwrap_or_default();
        let history = |w: &Window, new_open: &[OpenWindow]| {
            let mut opened_at = now;
            let mut attempts = 0;
            for o in ctx.old_open.iter().chain(new_open) {
                if o.start < w.end && w.start < o.end {
                    opened_at = opened_at.min(o.opened_at);
                    attempts = attempts.max(o.attempts);
                }
            }
            (opened_at, attempts)
        };
        for w in outcome.pending {
            let (opened_at, attempts) = history(&w, &new_open);
            if settle_within.is_some_and(|limit| opened_at + limit >= now) {
                new_open.push(OpenWindow {
                    start: w.start,
                    end: w.end,
                    reason: REASON_PENDING.into(),
                    attempts: attempts + 1,
                    error: None,
                    opened_at,
                });
            }
        }
        for (w, error) in outcome.failed {
            let (opened_at, attempts) = history(&w, &new_open);
            failed += 1;
            if first_failure.is_none() {
                first_failure = Some(format!("window {w}: {error}"));
            }
            new_open.push(OpenWindow {
                start: w.start,
                end: w.end,
                reason: REASON_FAILED.into(),
                attempts: attempts + 1,
                error: Some(error),
                opened_at,
            });
        }
    }
    open.extend(new_open);
    open.sort_by(|a, b| a.start.cmp(&b.start).then(a.end.cmp(&b.end)));
    open.dedup();
    state.open_windows = open;
    if view.finished() {
        state.last_run = Some(now);
        state.last_error =
            first_failure.map(|f| format!("{failed} window(s) failed and will be retried on the next run; first: {f}"));
        if state.last_error.is_none() {
            state.last_success = Some(now);
        }
        state.last_run_stats = Some(serde_json::json!({
            "windows": view.windows.len(),
            "generation": view.generation,
            "finished_by": worker,
        }));
    }
    state
}

/// Everything the workers of one source in this process share.
struct Shared {
    store: DynStore,
    vendor: huadan_vendor::DynVendor,
    limiter: Limiter,
    policy: crate::RetryPolicy,
    counters: Counters,
    fleet: FleetOptions,
    generation: AtomicI64,
    stop: AtomicBool,
    fatal: std::sync::Mutex<Option<String>>,
    written: std::sync::Mutex<WriteStats>,
    lost: AtomicU64,
    /// Windows this process finished with failed pieces, and the first failure.
    failures: std::sync::Mutex<(usize, Option<String>)>,
    events: tokio::sync::mpsc::UnboundedSender<Event>,
    shutdown: watch::Receiver<bool>,
    now: Option<crate::NowFn>,
    hook: Option<CommitHook>,
}

impl Shared {
    fn stopped(&self) -> bool {
        self.stop.load(Ordering::SeqCst) || *self.shutdown.borrow()
    }

    fn fail(&self, message: String) {
        let mut f = self.fatal.lock().unwrap_or_else(|p| p.into_inner());
        if f.is_none() {
            *f = Some(message);
        }
        self.stop.store(true, Ordering::SeqCst);
    }

    fn now(&self) -> Instant {
        self.now.as_ref().map_or_else(Instant::now, |f| f())
    }
}

/// Run one source on a shared store and report this process's part.
pub(crate) async fn run_source(
    run: SourceRun,
    fleet: FleetOptions,
    interval: Duration,
    hook: Option<CommitHook>,
) -> SourceReport {
    let started = std::time::Instant::now();
    let vendor = run.vendor.clone();
    let source = vendor.source().to_string();
    let mut report =
        SourceReport { source: source.clone(), provider: vendor.provider().to_string(), ..Default::default() };
    let now = run.now.as_ref().map_or_else(Instant::now, |f| f());
    let input = PlanInput {
        vendor: vendor.clone(),
        input: RangeInput {
            since: run.since,
            until: run.until,
            backfill_days: run.backfill_days,
            lookback: run.lookback,
            now,
        },
        chunk: run.chunk,
    };
    let explicit = run.since.is_some() || run.until.is_some();
    let min_gap = if explicit { Duration::ZERO } else { fleet.min_gap.unwrap_or(interval / 2) };
    let shared = Arc::new(Shared {
        store: run.store.clone(),
        limiter: Limiter::shared(run.rate, run.store.clone(), &source),
        vendor,
        policy: run.policy.clone(),
        counters: Counters::default(),
        fleet,
        generation: AtomicI64::new(0),
        stop: AtomicBool::new(false),
        fatal: std::sync::Mutex::new(None),
        written: std::sync::Mutex::new(WriteStats::default()),
        lost: AtomicU64::new(0),
        failures: std::sync::Mutex::new((0, None)),
        events: run.events.clone(),
        shutdown: run.shutdown.clone(),
        now: run.now.clone(),
        hook,
    });
    // A run joins the source's open shared run whatever its range; when that one did
    // not cover an explicitly requested range, the requested one is planned next.
    for round in 0..3 {
        let plan_input = input.clone();
        let worker_id = shared.fleet.worker.clone();
        let ticket = run.store.plan_run(&source, &worker_id, min_gap, Box::new(move |s| plan(&plan_input, s))).await;
        let (covered, planned) = match ticket {
            Ok(RunTicket::Run { generation, windows, planned, range_start, range_end }) => {
                tracing::info!(source, generation, windows, planned, worker = %worker_id, "working on a shared run");
                let _ = run.events.send(Event::Planned(source.clone(), windows));
                shared.generation.store(generation, Ordering::SeqCst);
                let covered =
                    run.since.is_none_or(|s| range_start <= s) && run.until.is_none_or(|u| u.min(now) <= range_end);
                (covered, planned)
            }
            Ok(RunTicket::Idle) => {
                if round == 0 {
                    tracing::info!(source, "the fleet synced this source moments ago; nothing to do");
                    let _ = run.events.send(Event::Planned(source.clone(), 0));
                }
                break;
            }
            Ok(RunTicket::Refused(why)) => {
                shared.fail(why);
                break;
            }
            Err(e) => {
                shared.fail(format!("cannot plan the shared run: {e}"));
                break;
            }
        };
        let workers = run.workers.clamp(1, 16);
        let handles: Vec<_> = (0..workers).map(|_| tokio::spawn(worker(shared.clone()))).collect();
        for h in handles {
            if let Err(e) = h.await {
                shared.fail(format!("internal error in a sync worker: {e}"));
            }
        }
        if planned || !explicit || covered || shared.stopped() {
            break;
        }
        tracing::info!(source, "the joined run did not cover the requested range; planning it");
    }
    let c = &shared.counters;
    report.fetched = c.fetched.load(Ordering::Relaxed);
    report.requests = c.requests.load(Ordering::Relaxed);
    report.retries = c.retries.load(Ordering::Relaxed);
    report.errors = c.errors.load(Ordering::Relaxed);
    let written = *shared.written.lock().unwrap_or_else(|p| p.into_inner());
    report.inserted = written.inserted;
    report.updated = written.updated;
    report.error = shared.fatal.lock().ok().and_then(|f| f.clone()).or_else(|| {
        let (n, first) = shared.failures.lock().map(|f| f.clone()).unwrap_or_default();
        first.map(|f| format!("{n} window(s) failed and will be retried on the next run; first: {f}"))
    });
    let lost = shared.lost.load(Ordering::Relaxed);
    if lost > 0 {
        tracing::warn!(source = %report.source, lost, "window leases lost to other workers (their commits were refused)");
    }
    report.ok = report.error.is_none();
    report.elapsed = started.elapsed();
    report
}

/// Claim windows until the run is finished (or the source stops).
async fn worker(s: Arc<Shared>) {
    let poll = (s.fleet.lease / 4).clamp(Duration::from_millis(50), Duration::from_secs(1));
    let mut store_errors = 0u32;
    loop {
        if s.stopped() {
            return;
        }
        let generation = s.generation.load(Ordering::SeqCst);
        match s.store.claim_window(s.vendor.source(), generation, &s.fleet.worker, s.fleet.lease).await {
            Ok(Claim::Window(claim)) => {
                store_errors = 0;
                work(&s, claim).await;
            }
            Ok(Claim::Busy { next_expiry, .. }) => {
                store_errors = 0;
                // Another worker holds the rest: ask again soon, or when its lease ends.
                let wait = next_expiry.map_or(poll, |e| (e + Duration::from_millis(5)).min(poll));
                let mut shutdown = s.shutdown.clone();
                tokio::select! {
                    _ = tokio::time::sleep(wait) => {}
                    _ = shutdown.wait_for(|v| *v) => return,
                }
            }
            Ok(Claim::Finished) => return,
            Err(e) => {
                store_errors += 1;
                tracing::warn!(source = s.vendor.source(), error = %e, "cannot claim a window");
                if store_errors >= MAX_STORE_ERRORS {
                    s.fail(format!("cannot claim work from the store: {e}"));
                    return;
                }
                tokio::time::sleep(poll).await;
            }
        }
    }
}

/// The lease of the window in hand: renewed in the background; `valid` turns false (and
/// the worker stops fetching) when a renewal is refused or the lease would expire
/// before a renewal got through.
struct Lease {
    valid: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<()>,
    deadline: Arc<std::sync::Mutex<tokio::time::Instant>>,
}

impl Lease {
    fn start(s: &Arc<Shared>, claim: &WindowClaim, claimed_at: tokio::time::Instant) -> Lease {
        let margin = claim.valid_for / 5;
        let valid = Arc::new(AtomicBool::new(true));
        let deadline = Arc::new(std::sync::Mutex::new(claimed_at + claim.valid_for - margin));
        let (v, d, store, claim, ttl) =
            (valid.clone(), deadline.clone(), s.store.clone(), claim.clone(), s.fleet.lease);
        let task = tokio::spawn(async move {
            loop {
                tokio::time::sleep(ttl / 3).await;
                let sent = tokio::time::Instant::now();
                match store.renew_window(&claim, ttl).await {
                    Ok(true) => *d.lock().unwrap_or_else(|p| p.into_inner()) = sent + ttl - margin,
                    Ok(false) => {
                        tracing::warn!(source = %claim.source, window = %Window::new(claim.start, claim.end),
                            "window lease lost; stopping this window");
                        v.store(false, Ordering::SeqCst);
                        return;
                    }
                    Err(e) => tracing::warn!(source = %claim.source, error = %e, "cannot renew a window lease"),
                }
            }
        });
        Lease { valid, task, deadline }
    }

    /// Whether the window may still be fetched.
    fn held(&self) -> bool {
        self.valid.load(Ordering::SeqCst)
            && tokio::time::Instant::now() < *self.deadline.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// How fetching a window ended.
enum Fetched {
    /// Every piece fetched (some may have failed): finish it.
    Complete(Vec<CallRecord>, Outcome),
    /// The lease was lost: leave the window to its new holder.
    Lost,
    /// The source stopped (fatal error, store failure or shutdown): give it back.
    Stopped,
}

async fn work(s: &Arc<Shared>, claim: WindowClaim) {
    let lease = Lease::start(s, &claim, tokio::time::Instant::now());
    let fetched = fetch_window(s, &claim, &lease).await;
    match fetched {
        Fetched::Complete(records, outcome) => {
            if !lease.held() {
                s.lost.fetch_add(1, Ordering::Relaxed);
                return;
            }
            let count = records.len() as u64;
            let committed = s.hook.as_ref().map(|_| records.clone());
            let (source, settle, worker) =
                (claim.source.clone(), s.vendor.limits().settle_within, s.fleet.worker.clone());
            let now = s.now();
            let failure = outcome.failed.first().map(|(w, e)| format!("window {w}: {e}"));
            let done = WindowDone {
                records,
                failed: !outcome.failed.is_empty(),
                outcome: serde_json::to_value(&outcome).unwrap_or_default(),
                update: Box::new(move |stored, view| merge_state(&source, stored, view, settle, now, &worker)),
            };
            drop(lease);
            match s.store.finish_window(&claim, done).await {
                Ok(w) => {
                    *s.written.lock().unwrap_or_else(|p| p.into_inner()) += w;
                    if let (Some(hook), Some(records)) = (&s.hook, committed) {
                        hook(&records);
                    }
                    if let Some(f) = failure {
                        let mut failures = s.failures.lock().unwrap_or_else(|p| p.into_inner());
                        failures.0 += 1;
                        failures.1.get_or_insert(f);
                    }
                    let _ = s.events.send(Event::WindowDone(claim.source.clone(), count));
                }
                Err(StoreError::LeaseLost { .. }) => {
                    tracing::warn!(source = %claim.source, window = %Window::new(claim.start, claim.end),
                        "finishing refused: the window's lease was lost");
                    s.lost.fetch_add(1, Ordering::Relaxed);
                }
                Err(e) => s.fail(format!("cannot write to the store: {e}")),
            }
        }
        Fetched::Lost => {
            s.lost.fetch_add(1, Ordering::Relaxed);
        }
        Fetched::Stopped => {
            drop(lease);
            if let Err(e) = s.store.release_window(&claim).await {
                tracing::warn!(source = %claim.source, error = %e, "cannot release a window (its lease will expire)");
            }
        }
    }
}

/// Fetch every page of a claimed window, bisecting pieces over the vendor's cap.
async fn fetch_window(s: &Shared, claim: &WindowClaim, lease: &Lease) -> Fetched {
    let limits = s.vendor.limits().clone();
    let mut pieces = std::collections::VecDeque::from([Window::new(claim.start, claim.end)]);
    let mut outcome = Outcome::default();
    let mut buffer: Vec<CallRecord> = Vec::new();
    while let Some(piece) = pieces.pop_front() {
        let mut cursor: Option<Cursor> = None;
        let mut first = true;
        let mut pages = 0u64;
        let mut pending_from: Option<Instant> = None;
        loop {
            if s.stop.load(Ordering::SeqCst) {
                return Fetched::Stopped;
            }
            if !lease.held() {
                return Fetched::Lost;
            }
            let page =
                match retry::fetch_page(&s.vendor, &s.limiter, &s.policy, &s.counters, &piece, cursor.as_ref()).await {
                    Ok(p) => p,
                    Err(FetchFailure::Fatal(e)) => {
                        s.fail(e.to_string());
                        return Fetched::Stopped;
                    }
                    Err(f @ FetchFailure::Window { .. }) => {
                        outcome.failed.push((piece, f.to_string()));
                        break;
                    }
                };
            pages += 1;
            if first {
                first = false;
                if let (Some(total), Some(cap)) = (page.total, limits.max_records_per_query)
                    && total > cap
                {
                    match planner::bisect(&piece, limits.min_span) {
                        Some((a, b)) => {
                            pieces.push_front(b);
                            pieces.push_front(a);
                        }
                        None => outcome.failed.push((
                            piece,
                            format!(
                                "the window holds {total} records, more than the {cap} one query can page \
                                 through, and cannot be split further"
                            ),
                        )),
                    }
                    buffer.extend(page.records);
                    break;
                }
            }
            for r in page.records.iter().filter(|r| r.may_change()) {
                pending_from = Some(pending_from.map_or(r.started_at, |p| p.min(r.started_at)));
            }
            buffer.extend(page.records);
            let next = page.next;
            if next.is_some() && next == cursor {
                outcome.failed.push((piece, "the vendor returned the same page cursor twice".into()));
                break;
            }
            if next.is_none() {
                if let Some(from) = pending_from {
                    outcome.pending.push(planner::narrow(&piece, from, limits.min_span));
                }
                break;
            }
            if pages >= MAX_PAGES_PER_WINDOW {
                outcome.failed.push((piece, format!("more than {MAX_PAGES_PER_WINDOW} pages; paging looks broken")));
                break;
            }
            cursor = next;
            if buffer.len() >= FLUSH_AT {
                let records = std::mem::take(&mut buffer);
                let committed = s.hook.as_ref().map(|_| records.clone());
                match s.store.write_window_records(claim, records).await {
                    Ok(w) => {
                        *s.written.lock().unwrap_or_else(|p| p.into_inner()) += w;
                        if let (Some(hook), Some(records)) = (&s.hook, committed) {
                            hook(&records);
                        }
                    }
                    Err(StoreError::LeaseLost { .. }) => return Fetched::Lost,
                    Err(e) => {
                        s.fail(format!("cannot write to the store: {e}"));
                        return Fetched::Stopped;
                    }
                }
            }
        }
    }
    Fetched::Complete(buffer, outcome)
}

#[cfg(test)]
mod tests {
    use super::*;
    use huadan_store::WindowRow;

    fn at(h: i64) -> Instant {
        Instant::from_second(1_709_251_200 + h * 3600).unwrap()
    }

    fn row(seq: i32, kind: WindowKind, a: i64, b: i64, status: WindowStatus, outcome: Option<Outcome>) -> WindowRow {
        WindowRow {
            seq,
            kind,
            start: at(a),
            end: at(b),
            status,
            outcome: outcome.map(|o| serde_json::to_value(o).unwrap()),
        }
    }

    fn view(windows: Vec<WindowRow>, context: Context) -> RunView {
        RunView {
            generation: 1,
            range_start: at(0),
            range_end: at(72),
            advance: true,
            context: serde_json::to_value(context).unwrap(),
            windows,
        }
    }

    #[test]
    fn checkpoint_stops_at_the_first_unfinished_or_failed_main_window() {
        use WindowStatus::*;
        let failed = Outcome { pending: vec![], failed: vec![(Window::new(at(48), at(60)), "boom".into())] };
        let v = view(
            vec![
                row(0, WindowKind::Main, 0, 24, Done, None),
                row(1, WindowKind::Main, 24, 48, Done, None),
                row(2, WindowKind::Main, 48, 72, Claimed, None),
            ],
            Context::default(),
        );
        let s = merge_state("src", None, &v, None, at(100), "w");
        assert_eq!(s.checkpoint, Some(at(48)));
        assert_eq!(s.backfill_start, Some(at(0)));
        assert!(s.last_run.is_none(), "the run is not finished yet");

        let mut v2 = v.clone();
        v2.windows[2] = row(2, WindowKind::Main, 48, 72, Failed, Some(failed));
        let s2 = merge_state("src", Some(s), &v2, None, at(100), "w");
        assert_eq!(s2.checkpoint, Some(at(48)), "a failed window holds the checkpoint back");
        assert_eq!(s2.open_windows.len(), 1);
        assert_eq!(s2.open_windows[0].reason, REASON_FAILED);
        assert!(s2.last_error.as_deref().unwrap().contains("boom"));
        assert!(s2.last_success.is_none());
        assert_eq!(s2.last_run, Some(at(100)));
    }

    #[test]
    fn out_of_order_windows_do_not_move_the_checkpoint_past_a_gap() {
        use WindowStatus::*;
        let v = view(
            vec![
                row(0, WindowKind::Main, 0, 24, Todo, None),
                row(1, WindowKind::Main, 24, 48, Done, None),
                row(2, WindowKind::Main, 48, 72, Done, None),
            ],
            Context::default(),
        );
        let s = merge_state("src", None, &v, None, at(100), "w");
        assert_eq!(s.checkpoint, None);
    }

    #[test]
    fn a_revisited_open_window_is_resolved_and_pending_pieces_stay_open() {
        use WindowStatus::*;
        let old = OpenWindow {
            start: at(-48),
            end: at(-24),
            reason: REASON_PENDING.into(),
            attempts: 1,
            error: None,
            opened_at: at(-40),
        };
        let ctx = Context { old_open: vec![old.clone()], revisits: vec![old.clone()] };
        let pending = Outcome { pending: vec![Window::new(at(10), at(24))], failed: vec![] };
        let v = view(
            vec![
                row(0, WindowKind::Main, 0, 24, Done, Some(pending)),
                row(1, WindowKind::Revisit, -48, -24, Done, None),
            ],
            ctx,
        );
        let settle = Some(SignedDuration::from_hours(1000));
        let stored = SyncState { source: "src".into(), open_windows: vec![old], ..Default::default() };
        let s = merge_state("src", Some(stored), &v, settle, at(30), "w");
        assert_eq!(s.open_windows.len(), 1, "{:?}", s.open_windows);
        assert_eq!((s.open_windows[0].start, s.open_windows[0].end), (at(10), at(24)));
        assert_eq!(s.last_success, Some(at(30)));
        // Without a settle limit in the future, pending pieces are not kept.
        let s = merge_state("src", None, &v, None, at(30), "w");
        assert!(s.open_windows.is_empty());
    }
}
