//! [`Window`]: a half-open time range `[start, end)`.

use huadan_model::Instant;
use jiff::SignedDuration;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A half-open range of instants `[start, end)`: the unit of fetching, checkpointing
/// and error bookkeeping.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Window {
    /// First instant included.
    pub start: Instant,
    /// First instant not included.
    pub end: Instant,
}

impl Window {
    /// `[start, end)`.
    pub fn new(start: Instant, end: Instant) -> Self {
        Window { start, end }
    }

    /// True when the window holds no instant.
    pub fn is_empty(&self) -> bool {
        self.end <= self.start
    }

    /// Its length.
    pub fn span(&self) -> SignedDuration {
        self.end.duration_since(self.start)
    }

    /// Whether `t` lies inside.
    pub fn contains(&self, t: Instant) -> bool {
        self.start <= t && t < self.end
    }

    /// Consecutive windows of at most `max` covering this one exactly.
    pub fn split_by(&self, max: SignedDuration) -> Vec<Window> {
        let mut out = Vec::new();
        if self.is_empty() || max <= SignedDuration::ZERO {
            return out;
        }
        let mut start = self.start;
        while start < self.end {
            let end = start.checked_add(max).map(|e| e.min(self.end)).unwrap_or(self.end);
            out.push(Window::new(start, end));
            start = end;
        }
        out
    }

    /// Two halves, split at the whole second nearest the middle; `None` when the window
    /// is not longer than `min` (it cannot be split further).
    pub fn bisect(&self, min: SignedDuration) -> Option<(Window, Window)> {
        let span = self.span();
        if span <= min || span < SignedDuration::from_secs(2) {
            return None;
        }
        let half = SignedDuration::from_secs(span.as_secs() / 2);
        let mid = self.start.checked_add(half).ok()?;
        Some((Window::new(self.start, mid), Window::new(mid, self.end)))
    }
}

impl fmt::Display for Window {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}, {})", self.start, self.end)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Instant {
        s.parse().unwrap()
    }

    #[test]
    fn split_covers_exactly_without_overlap() {
        let w = Window::new(t("2024-01-01T00:00:00Z"), t("2024-03-31T00:00:00Z"));
        let parts = w.split_by(SignedDuration::from_hours(30 * 24));
        assert_eq!(parts.len(), 3);
        assert_eq!(parts[0].start, w.start);
        assert_eq!(parts.last().unwrap().end, w.end);
        for pair in parts.windows(2) {
            assert_eq!(pair[0].end, pair[1].start);
        }
        assert!(parts.iter().all(|p| p.span() <= SignedDuration::from_hours(720)));
    }

    #[test]
    fn bisect_stops_at_min() {
        let w = Window::new(t("2024-01-01T00:00:00Z"), t("2024-01-01T00:00:10Z"));
        let (a, b) = w.bisect(SignedDuration::from_secs(1)).unwrap();
        assert_eq!(a.end, b.start);
        assert_eq!(a.span(), SignedDuration::from_secs(5));
        let tiny = Window::new(w.start, t("2024-01-01T00:00:01Z"));
        assert!(tiny.bisect(SignedDuration::from_secs(1)).is_none());
        let day = Window::new(w.start, t("2024-01-02T00:00:00Z"));
        assert!(day.bisect(SignedDuration::from_hours(24)).is_none());
    }
}
