//! One source's run: plan, fetch windows with a few workers behind the source's
//! limiter, hand pages to the single writer, and report.

use crate::SourceReport;
use crate::limiter::Limiter;
use crate::planner::{self, RangeInput};
use crate::retry::{self, Counters, FetchFailure, RetryPolicy};
use crate::writer::{EndOfRun, Ledger, Msg, Outcome, Slot};
use huadan_model::Instant;
use huadan_store::DynStore;
use huadan_vendor::{Cursor, DynVendor, Window};
use jiff::SignedDuration;
use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot, watch};

/// The most pages the engine reads from one window piece before declaring the vendor's
/// paging broken (a cursor that never ends).
const MAX_PAGES_PER_WINDOW: u64 = 200_000;

/// A progress event, forwarded to the caller's [`crate::Progress`] by the run loop.
pub(crate) enum Event {
    Planned(String, usize),
    WindowDone(String, u64),
}

/// Everything one source's run needs.
pub(crate) struct SourceRun {
    pub idx: usize,
    pub vendor: DynVendor,
    pub rate: Option<f64>,
    pub lookback: SignedDuration,
    pub backfill_days: u32,
    pub workers: usize,
    pub policy: RetryPolicy,
    pub since: Option<Instant>,
    pub until: Option<Instant>,
    pub store: DynStore,
    pub tx: mpsc::Sender<Msg>,
    pub events: mpsc::UnboundedSender<Event>,
    pub shutdown: watch::Receiver<bool>,
    /// For unlimited sources: cut windows to about this span so several run at once.
    pub chunk: Option<SignedDuration>,
    /// The clock.
    pub now: Option<crate::NowFn>,
}

struct Shared {
    idx: usize,
    vendor: DynVendor,
    limiter: Limiter,
    policy: RetryPolicy,
    counters: Counters,
    tx: mpsc::Sender<Msg>,
    stop: Arc<AtomicBool>,
    fatal: std::sync::Mutex<Option<String>>,
    queue: std::sync::Mutex<VecDeque<Job>>,
    /// Pieces being fetched right now (they may still add pieces to the queue).
    active: AtomicUsize,
    /// Workers of this source.
    workers: usize,
    events: mpsc::UnboundedSender<Event>,
    shutdown: watch::Receiver<bool>,
}

/// One planned window, possibly cut into pieces fetched by several workers; the
/// worker that finishes its last piece reports the window to the writer.
struct Tracker {
    slot: Slot,
    /// Pieces not finished yet.
    remaining: AtomicUsize,
    outcome: std::sync::Mutex<Outcome>,
    records: AtomicU64,
}

/// A piece of a planned window.
struct Job {
    piece: Window,
    tracker: Arc<Tracker>,
}

impl Shared {
    fn stopped(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    fn fail(&self, message: String) {
        let mut f = self.fatal.lock().unwrap_or_else(|p| p.into_inner());
        if f.is_none() {
            *f = Some(message);
        }
        self.stop.store(true, Ordering::SeqCst);
    }

    /// The next piece to fetch; waits while other workers may still split theirs.
    async fn next_job(&self) -> Option<Job> {
        loop {
            if self.stopped() || *self.shutdown.borrow() {
                return None;
            }
            {
                let mut q = self.queue.lock().unwrap_or_else(|p| p.into_inner());
                if let Some(job) = q.pop_front() {
                    self.active.fetch_add(1, Ordering::SeqCst);
                    return Some(job);
                }
                if self.active.load(Ordering::SeqCst) == 0 {
                    return None;
                }
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// Put pieces of a window at the front of the queue (they belong to windows
    /// already started, which hold the checkpoint back until they finish).
    fn push_front(&self, tracker: &Arc<Tracker>, pieces: [Window; 2]) {
        tracker.remaining.fetch_add(2, Ordering::SeqCst);
        let mut q = self.queue.lock().unwrap_or_else(|p| p.into_inner());
        q.push_front(Job { piece: pieces[1], tracker: tracker.clone() });
        q.push_front(Job { piece: pieces[0], tracker: tracker.clone() });
    }
}

/// Run one source to the end and report.
pub(crate) async fn run_source(run: SourceRun) -> SourceReport {
    let started = std::time::Instant::now();
    let vendor = run.vendor.clone();
    let mut report = SourceReport {
        source: vendor.source().to_string(),
        provider: vendor.provider().to_string(),
        ..Default::default()
    };
    let clock = run.now.clone();
    let now_fn = move || clock.as_ref().map_or_else(Instant::now, |f| f());
    let now = now_fn();
    let limits = vendor.limits().clone();

    let stored = match run.store.load_state(vendor.source()).await {
        Ok(s) => s,
        Err(e) => {
            report.error = Some(format!("cannot read the sync state: {e}"));
            report.elapsed = started.elapsed();
            return report;
        }
    };
    let input = RangeInput {
        since: run.since,
        until: run.until,
        backfill_days: run.backfill_days,
        lookback: run.lookback,
        now,
    };
    let range = planner::run_range(stored.as_ref(), &input);
    let stop = Arc::new(AtomicBool::new(false));
    let planned = vendor.plan(range, now);
    let (main, plan_error) = match planned {
        Ok(w) => (w, None),
        Err(e) => (Vec::new(), Some(format!("cannot plan {range}: {e}"))),
    };
    let main = match run.chunk {
        Some(target) => planner::chunk(main, target, limits.min_span),
        None => main,
    };
    let revisits = planner::revisits(stored.as_ref(), &range);
    let ledger = Ledger::new(
        vendor.source(),
        stored,
        range,
        main.clone(),
        revisits.clone(),
        limits.settle_within,
        now,
        stop.clone(),
    );
    let shared = Arc::new(Shared {
        idx: run.idx,
        vendor: vendor.clone(),
        limiter: Limiter::new(run.rate),
        policy: run.policy.clone(),
        counters: Counters::default(),
        tx: run.tx.clone(),
        stop,
        fatal: std::sync::Mutex::new(plan_error),
        queue: std::sync::Mutex::new(VecDeque::new()),
        active: AtomicUsize::new(0),
        workers: run.workers.clamp(1, 16),
        events: run.events.clone(),
        shutdown: run.shutdown.clone(),
    });
    if shared.fatal.lock().map(|f| f.is_some()).unwrap_or(false) {
        shared.stop.store(true, Ordering::SeqCst);
    }
    {
        let mut q = shared.queue.lock().unwrap_or_else(|p| p.into_inner());
        let job = |slot, piece| Job {
            piece,
            tracker: Arc::new(Tracker {
                slot,
                remaining: AtomicUsize::new(1),
                outcome: std::sync::Mutex::new(Outcome::default()),
                records: AtomicU64::new(0),
            }),
        };
        q.extend(main.iter().enumerate().map(|(i, w)| job(Slot::Main(i), *w)));
        q.extend(revisits.iter().enumerate().map(|(i, o)| job(Slot::Revisit(i), Window::new(o.start, o.end))));
    }
    let total_windows = main.len() + revisits.len();
    tracing::info!(source = vendor.source(), %range, windows = total_windows, "planned");
    let _ = run.events.send(Event::Planned(vendor.source().to_string(), total_windows));

    if run.tx.send(Msg::Begin { source: run.idx, ledger: Box::new(ledger) }).await.is_err() {
        report.error = Some("the store writer stopped".into());
        report.elapsed = started.elapsed();
        return report;
    }

    let workers = shared.workers;
    let mut handles = Vec::with_capacity(workers);
    for _ in 0..workers {
        let s = shared.clone();
        handles.push(tokio::spawn(async move { worker(s).await }));
    }
    for h in handles {
        if let Err(e) = h.await {
            shared.fail(format!("internal error in a sync worker: {e}"));
        }
    }

    let left = shared.queue.lock().map(|q| q.len()).unwrap_or(0);
    let mut error = shared.fatal.lock().ok().and_then(|f| f.clone());
    if error.is_none() && left > 0 {
        error = Some(format!("stopped with {left} windows left; the next run picks them up"));
    }
    let c = &shared.counters;
    report.fetched = c.fetched.load(Ordering::Relaxed);
    report.requests = c.requests.load(Ordering::Relaxed);
    report.retries = c.retries.load(Ordering::Relaxed);
    report.errors = c.errors.load(Ordering::Relaxed);
    let stats = serde_json::json!({
        "fetched": report.fetched,
        "requests": report.requests,
        "retries": report.retries,
        "errors": report.errors,
        "rate_limited": c.rate_limited.load(Ordering::Relaxed),
        "windows": total_windows,
    });
    let (reply_tx, reply_rx) = oneshot::channel();
    let end = EndOfRun { error: error.clone(), stats, now: now_fn() };
    let written = if run.tx.send(Msg::End { source: run.idx, end, reply: reply_tx }).await.is_ok() {
        reply_rx.await.ok()
    } else {
        None
    };
    match written {
        Some(w) => {
            report.inserted = w.written.inserted;
            report.updated = w.written.updated;
            report.error = w.store_error.or(error).or_else(|| {
                w.first_failure.map(|f| {
                    format!("{} window(s) failed and will be retried on the next run; first: {f}", w.failed_windows)
                })
            });
        }
        None => report.error = error.or_else(|| Some("the store writer stopped".into())),
    }
    report.ok = report.error.is_none();
    report.elapsed = started.elapsed();
    report
}

async fn worker(s: Arc<Shared>) {
    while let Some(job) = s.next_job().await {
        let result = fetch_piece(&s, &job).await;
        s.active.fetch_sub(1, Ordering::SeqCst);
        let Some(last) = result else { return };
        let t = &job.tracker;
        if t.remaining.fetch_sub(1, Ordering::SeqCst) != 1 {
            // Other pieces of the window are still out: their records are sent already.
            if !send_records(&s, last).await {
                return;
            }
            continue;
        }
        let outcome = std::mem::take(&mut *t.outcome.lock().unwrap_or_else(|p| p.into_inner()));
        let count = t.records.load(Ordering::SeqCst);
        if s.tx.send(Msg::WindowDone { source: s.idx, slot: t.slot, outcome, records: last }).await.is_err() {
            s.fail("the store writer stopped".into());
            return;
        }
        let _ = s.events.send(Event::WindowDone(s.vendor.source().to_string(), count));
    }
}

/// Fetch every page of one piece of a window. A piece whose first page reports more
/// records than one query can page through is bisected; so is a long piece of a
/// source whose latency keeps the limiter from reaching the quota with the pieces in
/// flight (more pieces, more requests in flight). Returns the last page's records (to
/// be committed with the window's state when this is the window's last piece); `None`
/// when the source stopped meanwhile.
async fn fetch_piece(s: &Shared, job: &Job) -> Option<Vec<huadan_model::CallRecord>> {
    let limits = s.vendor.limits();
    let piece = job.piece;
    let tracker = &job.tracker;
    let mut cursor: Option<Cursor> = None;
    let mut first = true;
    let mut pages = 0u64;
    // The earliest start of a record that may still change: the re-visit window
    // starts there (a vendor's query time is never before the call started).
    let mut pending_from: Option<huadan_model::Instant> = None;
    let fail = |why: String| tracker.outcome.lock().unwrap_or_else(|p| p.into_inner()).failed.push((piece, why));
    loop {
        if s.stopped() {
            return None;
        }
        let page = match retry::fetch_page(&s.vendor, &s.limiter, &s.policy, &s.counters, &piece, cursor.as_ref()).await
        {
            Ok(p) => p,
            Err(FetchFailure::Fatal(e)) => {
                s.fail(format!("{e}"));
                return None;
            }
            Err(f @ FetchFailure::Window { .. }) => {
                fail(f.to_string());
                return Some(Vec::new());
            }
        };
        pages += 1;
        tracker.records.fetch_add(page.records.len() as u64, Ordering::SeqCst);
        if first {
            first = false;
            if let (Some(total), Some(cap)) = (page.total, limits.max_records_per_query)
                && total > cap
            {
                match planner::bisect(&piece, limits.min_span) {
                    Some((a, b)) => {
                        tracing::debug!(source = s.vendor.source(), window = %piece, total, cap, "bisecting");
                        s.push_front(tracker, [a, b]);
                    }
                    None => fail(format!(
                        "the window holds {total} records, more than the {cap} one query can page through, \
                         and cannot be split further"
                    )),
                }
                // The records are real: store them (the halves fetch them again;
                // upserts make that harmless).
                return Some(page.records);
            }
            if page.next.is_some()
                && wants_more_in_flight(s, &page)
                && let Some((a, b)) = planner::bisect(&piece, limits.min_span)
            {
                tracing::debug!(source = s.vendor.source(), window = %piece, "splitting to put more requests in flight");
                s.push_front(tracker, [a, b]);
                return Some(page.records);
            }
        }
        for r in page.records.iter().filter(|r| r.may_change()) {
            pending_from = Some(pending_from.map_or(r.started_at, |p| p.min(r.started_at)));
        }
        let next = page.next;
        if next.is_some() && next == cursor {
            fail("the vendor returned the same page cursor twice".into());
            return Some(page.records);
        }
        if next.is_none() {
            if let Some(from) = pending_from {
                let w = planner::narrow(&piece, from, limits.min_span);
                tracker.outcome.lock().unwrap_or_else(|p| p.into_inner()).pending.push(w);
            }
            return Some(page.records);
        }
        if !send_records(s, page.records).await {
            return None;
        }
        if pages >= MAX_PAGES_PER_WINDOW {
            fail(format!("more than {MAX_PAGES_PER_WINDOW} pages; paging looks broken"));
            return Some(Vec::new());
        }
        cursor = next;
    }
}

/// Whether one more piece in flight is needed to reach the quota: the request took
/// longer than the pieces in flight (less a spare) can cover at the source's rate, a worker is free,
/// and the piece has enough pages left to be worth one extra request. (Pieces are cut
/// in time, not by count: a busy piece can still leave a tail with fewer in flight.)
fn wants_more_in_flight(s: &Shared, page: &huadan_vendor::Page) -> bool {
    let latency = Duration::from_micros(s.counters.last_latency_us.load(Ordering::Relaxed));
    let (Some(rate), Some(total)) = (s.limiter.rate(), page.total) else { return false };
    let per_page = page.records.len().max(1) as u64;
    let pages_left = total.saturating_sub(per_page) / per_page;
    let in_flight = s.active.load(Ordering::SeqCst).max(1);
    let queued = s.queue.lock().map(|q| q.len()).unwrap_or(0);
    // One piece beyond what the latency needs: pieces are cut in time, so one busy piece
    // may be left alone at the end; a spare keeps the quota reached through that tail.
    // (Extra pieces only wait at the limiter; they never add requests per second.)
    pages_left >= 8 && in_flight + queued < s.workers && latency.as_secs_f64() * rate + 1.0 > in_flight as f64
}

async fn send_records(s: &Shared, records: Vec<huadan_model::CallRecord>) -> bool {
    if records.is_empty() {
        return true;
    }
    if s.tx.send(Msg::Records { source: s.idx, records }).await.is_err() {
        s.fail("the store writer stopped".into());
        return false;
    }
    true
}

/// How long `--follow` sleeps between runs, interruptible by shutdown.
pub(crate) async fn sleep_or_shutdown(d: Duration, shutdown: &mut watch::Receiver<bool>) -> bool {
    if *shutdown.borrow() {
        return true;
    }
    tokio::select! {
        _ = tokio::time::sleep(d) => false,
        // A dropped sender can never signal again: stop too.
        _ = shutdown.wait_for(|v| *v) => true,
    }
}
