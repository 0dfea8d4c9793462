//! The planner: which range a run covers, how it is cut into windows, and how a window
//! that holds too many records is split.
//!
//! * First run of a source: `now − backfill_days` .. now.
//! * Incremental run: `checkpoint − lookback` .. now (late-arriving records).
//! * `--since` / `--until` override either end.
//! * The range is cut by the vendor ([`huadan_vendor::Vendor::plan`]: span limit, oldest
//!   reachable instant, calendar alignment); for unlimited sources the windows are cut
//!   further so that several can be fetched at once.
//! * Open windows (pending records, failed windows) not already inside the range are
//!   re-visited on their own.
//! * A window whose first page reports more records than one query can page through is
//!   bisected, aligned to the vendor's `min_span`, until the pieces fit.

use huadan_model::Instant;
use huadan_store::{OpenWindow, SyncState};
use huadan_vendor::{VendorLimits, Window};
use jiff::SignedDuration;

/// What the planner needs to know about a run besides the stored state.
#[derive(Debug, Clone)]
pub struct RangeInput {
    /// `--since`.
    pub since: Option<Instant>,
    /// `--until`.
    pub until: Option<Instant>,
    /// `[sync] backfill_days`.
    pub backfill_days: u32,
    /// Lookback for incremental runs.
    pub lookback: SignedDuration,
    /// Now.
    pub now: Instant,
}

/// The range of a run: `[start, end)`.
pub fn run_range(state: Option<&SyncState>, input: &RangeInput) -> Window {
    let end = input.until.map_or(input.now, |u| u.min(input.now));
    let start = match (input.since, state.and_then(|s| s.checkpoint)) {
        (Some(since), _) => since,
        (None, Some(checkpoint)) => checkpoint - input.lookback,
        (None, None) => input.now - SignedDuration::from_hours(24 * input.backfill_days as i64),
    };
    Window::new(start, end)
}

/// The open windows that must be visited on their own because the run's range does
/// not contain them.
pub fn revisits(state: Option<&SyncState>, range: &Window) -> Vec<OpenWindow> {
    let Some(state) = state else { return Vec::new() };
    state.open_windows.iter().filter(|o| !(range.start <= o.start && o.end <= range.end)).cloned().collect()
}

/// Whether a pending window has waited longer than the vendor's settle limit.
pub fn settle_expired(open: &OpenWindow, limits: &VendorLimits, now: Instant) -> bool {
    match limits.settle_within {
        Some(limit) => open.reason == REASON_PENDING && open.opened_at + limit < now,
        None => open.reason == REASON_PENDING,
    }
}

/// `reason` of an open window whose records may still change.
pub const REASON_PENDING: &str = "pending";
/// `reason` of an open window that failed and must be retried.
pub const REASON_FAILED: &str = "failed";

/// Cut windows further, into pieces of about `target` (a whole multiple of `min_span`),
/// so that several can be in flight at once. Windows already shorter stay whole.
pub fn chunk(windows: Vec<Window>, target: SignedDuration, min_span: SignedDuration) -> Vec<Window> {
    let unit = min_span.max(SignedDuration::from_secs(1));
    let units = (target.as_secs() / unit.as_secs().max(1)).max(1);
    let piece = SignedDuration::from_secs(units * unit.as_secs());
    windows.into_iter().flat_map(|w| if w.span() > piece { w.split_by(piece) } else { vec![w] }).collect()
}

/// The part of `w` from `from` on, with its start moved down to `w`'s `min_span` grid
/// (so calendar-aligned windows stay aligned); `w` itself when `from` is not inside.
pub fn narrow(w: &Window, from: Instant, min_span: SignedDuration) -> Window {
    if from <= w.start || from >= w.end {
        return *w;
    }
    let unit = min_span.max(SignedDuration::from_secs(1)).as_secs();
    let offset = from.duration_since(w.start).as_secs() / unit * unit;
    match w.start.checked_add(SignedDuration::from_secs(offset)) {
        Ok(start) if start < w.end => Window::new(start, w.end),
        _ => *w,
    }
}

/// Split a window in two at the whole `min_span` unit nearest its middle (so calendar
/// aligned windows stay aligned); `None` when it is not longer than `min_span`.
pub fn bisect(w: &Window, min_span: SignedDuration) -> Option<(Window, Window)> {
    let unit = min_span.max(SignedDuration::from_secs(1)).as_secs();
    let span = w.span().as_secs();
    let units = span / unit;
    if units < 2 && !(units == 1 && span > unit) {
        return None;
    }
    let half_units = (units / 2).max(1);
    let mid = w.start.checked_add(SignedDuration::from_secs(half_units * unit)).ok()?;
    if mid <= w.start || mid >= w.end {
        return None;
    }
    Some((Window::new(w.start, mid), Window::new(mid, w.end)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Instant {
        s.parse().unwrap()
    }

    fn input(now: &str) -> RangeInput {
        RangeInput { since: None, until: None, backfill_days: 30, lookback: SignedDuration::from_mins(10), now: t(now) }
    }

    #[test]
    fn first_run_starts_backfill_days_ago() {
        let r = run_range(None, &input("2024-06-30T00:00:00Z"));
        assert_eq!(r, Window::new(t("2024-05-31T00:00:00Z"), t("2024-06-30T00:00:00Z")));
    }

    #[test]
    fn incremental_run_starts_at_checkpoint_minus_lookback() {
        let state = SyncState { checkpoint: Some(t("2024-06-29T12:00:00Z")), ..Default::default() };
        let r = run_range(Some(&state), &input("2024-06-30T00:00:00Z"));
        assert_eq!(r.start, t("2024-06-29T11:50:00Z"));
        let mut i = input("2024-06-30T00:00:00Z");
        i.since = Some(t("2024-06-01T00:00:00Z"));
        i.until = Some(t("2024-06-02T00:00:00Z"));
        assert_eq!(run_range(Some(&state), &i), Window::new(t("2024-06-01T00:00:00Z"), t("2024-06-02T00:00:00Z")));
    }

    #[test]
    fn bisect_keeps_day_alignment() {
        let day = SignedDuration::from_hours(24);
        let w = Window::new(t("2024-05-31T16:00:00Z"), t("2024-06-03T16:00:00Z"));
        let (a, b) = bisect(&w, day).unwrap();
        assert_eq!(a.end, t("2024-06-01T16:00:00Z"));
        assert_eq!(b.end, w.end);
        let one = Window::new(w.start, t("2024-06-01T16:00:00Z"));
        assert!(bisect(&one, day).is_none());
        let secs = Window::new(w.start, w.start + SignedDuration::from_secs(3));
        let (a, b) = bisect(&secs, SignedDuration::from_secs(1)).unwrap();
        assert_eq!((a.span().as_secs(), b.span().as_secs()), (1, 2));
        let one_sec = Window::new(w.start, w.start + SignedDuration::from_secs(1));
        assert!(bisect(&one_sec, SignedDuration::from_secs(1)).is_none());
    }

    #[test]
    fn pending_window_narrows_to_the_first_pending_record() {
        let w = Window::new(t("2024-05-31T16:00:00Z"), t("2024-06-03T16:00:00Z"));
        let n = narrow(&w, t("2024-06-02T10:00:00Z"), SignedDuration::from_hours(24));
        assert_eq!(n, Window::new(t("2024-06-01T16:00:00Z"), w.end));
        let n = narrow(&w, t("2024-06-02T10:00:07Z"), SignedDuration::from_secs(1));
        assert_eq!(n.start, t("2024-06-02T10:00:07Z"));
        assert_eq!(narrow(&w, t("2024-05-01T00:00:00Z"), SignedDuration::from_secs(1)), w);
    }

    #[test]
    fn chunks_cover_exactly() {
        let w = Window::new(t("2024-06-01T00:00:00Z"), t("2024-06-02T01:30:00Z"));
        let parts = chunk(vec![w], SignedDuration::from_hours(6), SignedDuration::from_secs(1));
        assert_eq!(parts.len(), 5);
        assert_eq!(parts[0].start, w.start);
        assert_eq!(parts.last().unwrap().end, w.end);
        for p in parts.windows(2) {
            assert_eq!(p[0].end, p[1].start);
        }
    }

    #[test]
    fn revisits_skip_windows_inside_the_range() {
        let open = |s: &str, e: &str| OpenWindow {
            start: t(s),
            end: t(e),
            reason: REASON_FAILED.into(),
            attempts: 1,
            error: None,
            opened_at: t(s),
        };
        let state = SyncState {
            open_windows: vec![
                open("2024-06-01T00:00:00Z", "2024-06-01T01:00:00Z"),
                open("2024-06-29T23:00:00Z", "2024-06-30T00:00:00Z"),
            ],
            ..Default::default()
        };
        let range = Window::new(t("2024-06-29T00:00:00Z"), t("2024-06-30T00:00:00Z"));
        let r = revisits(Some(&state), &range);
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].start, t("2024-06-01T00:00:00Z"));
    }
}
