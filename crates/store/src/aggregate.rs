//! Stats aggregation in Rust, shared by every backend: the backend streams the matching
//! rows' few columns, this module buckets them. Doing it here (not in SQL) keeps the
//! time-zone arithmetic exact for any zone (each row gets its own UTC offset) and gives
//! an exact p90.

use crate::content::millis;
use crate::{GroupBy, StatsRow};
use jiff::tz::TimeZone;
use std::collections::HashMap;

/// The key for rows without an agent in `--by agent`.
pub const NO_AGENT: &str = "(none)";

#[derive(Debug, Default)]
struct Acc {
    calls: u64,
    answered: u64,
    talk_total: i64,
    /// Talk seconds of answered calls with a duration.
    answered_talk: Vec<i64>,
    first_ms: i64,
    last_ms: i64,
    label: Option<String>,
}

impl Acc {
    fn new(ms: i64) -> Self {
        Acc { first_ms: ms, last_ms: ms, ..Acc::default() }
    }

    fn push(&mut self, started_ms: i64, answered: bool, talk: Option<i64>) {
        self.calls += 1;
        if let Some(t) = talk {
            self.talk_total += t;
        }
        if answered {
            self.answered += 1;
            if let Some(t) = talk {
                self.answered_talk.push(t);
            }
        }
        self.first_ms = self.first_ms.min(started_ms);
        self.last_ms = self.last_ms.max(started_ms);
    }

    fn finish(mut self, key: String) -> StatsRow {
        let n = self.answered_talk.len();
        let (mean, p90) = if n == 0 {
            (None, None)
        } else {
            self.answered_talk.sort_unstable();
            let sum: i64 = self.answered_talk.iter().sum();
            // Nearest-rank percentile: the smallest value with at least 90 % at or below it.
            let rank = (n * 9).div_ceil(10).max(1);
            (Some(sum as f64 / n as f64), Some(self.answered_talk[rank - 1]))
        };
        StatsRow {
            key,
            label: self.label,
            calls: self.calls,
            answered: self.answered,
            answered_rate: if self.calls == 0 { 0.0 } else { self.answered as f64 / self.calls as f64 },
            talk_seconds_total: self.talk_total,
            talk_seconds_mean: mean,
            talk_seconds_p90: p90,
            first_call: Some(millis(self.first_ms)),
            last_call: Some(millis(self.last_ms)),
        }
    }
}

/// Buckets rows by one [`GroupBy`].
pub(crate) struct Aggregator {
    by: GroupBy,
    tz: TimeZone,
    /// `Some` when the zone has one offset all year (the common `Asia/Shanghai` case).
    fixed_offset: Option<i64>,
    by_text: HashMap<String, Acc>,
    by_number: HashMap<i64, Acc>,
}

impl Aggregator {
    /// An empty aggregator; `tz` is used for `day` / `hour` / `weekday`.
    pub fn new(by: GroupBy, tz: &TimeZone) -> Self {
        Aggregator {
            by,
            tz: tz.clone(),
            fixed_offset: tz.to_fixed_offset().ok().map(|o| i64::from(o.seconds())),
            by_text: HashMap::new(),
            by_number: HashMap::new(),
        }
    }

    /// Whether the grouping reads the row's text key (else the key comes from `started_ms`).
    pub fn needs_text_key(&self) -> bool {
        !matches!(self.by, GroupBy::Day | GroupBy::Hour | GroupBy::Weekday)
    }

    /// Local seconds since the epoch in the configured zone.
    fn local_seconds(&self, started_ms: i64) -> i64 {
        let utc = started_ms.div_euclid(1000);
        let offset = match self.fixed_offset {
            Some(o) => o,
            None => i64::from(self.tz.to_offset(millis(started_ms)).seconds()),
        };
        utc + offset
    }

    /// Add one row. `key` is the text key (provider, source, agent id, disposition) and
    /// `label` the agent's name; both are ignored for time groupings.
    pub fn push(&mut self, key: Option<&str>, label: Option<&str>, started_ms: i64, answered: bool, talk: Option<i64>) {
        if self.needs_text_key() {
            let key = key.unwrap_or(NO_AGENT);
            let acc = match self.by_text.get_mut(key) {
                Some(a) => a,
                None => self.by_text.entry(key.to_string()).or_insert_with(|| Acc::new(started_ms)),
            };
            // The label is the name on the group's latest call.
            if let Some(l) = label
                && (acc.label.is_none() || started_ms >= acc.last_ms)
                && acc.label.as_deref() != Some(l)
            {
                acc.label = Some(l.to_string());
            }
            acc.push(started_ms, answered, talk);
        } else {
            let local = self.local_seconds(started_ms);
            let bucket = match self.by {
                GroupBy::Day => local.div_euclid(86_400),
                GroupBy::Hour => local.rem_euclid(86_400) / 3_600,
                // 1970-01-01 was a Thursday (ISO 4).
                _ => (local.div_euclid(86_400) + 3).rem_euclid(7) + 1,
            };
            self.by_number.entry(bucket).or_insert_with(|| Acc::new(started_ms)).push(started_ms, answered, talk);
        }
    }

    /// The rows: time groupings in time order, the others by call count (desc), then key.
    pub fn finish(self) -> Vec<StatsRow> {
        if self.needs_text_key() {
            let mut rows: Vec<StatsRow> = self.by_text.into_iter().map(|(k, a)| a.finish(k)).collect();
            rows.sort_by(|a, b| b.calls.cmp(&a.calls).then_with(|| a.key.cmp(&b.key)));
            if self.by != GroupBy::Agent {
                for r in &mut rows {
                    r.label = None;
                }
            }
            rows
        } else {
            let mut buckets: Vec<(i64, Acc)> = self.by_number.into_iter().collect();
            buckets.sort_by_key(|(k, _)| *k);
            buckets
                .into_iter()
                .map(|(k, a)| {
                    let key = match self.by {
                        GroupBy::Day => day_string(k),
                        GroupBy::Hour => format!("{k:02}"),
                        _ => k.to_string(),
                    };
                    a.finish(key)
                })
                .collect()
        }
    }
}

/// Days since 1970-01-01 → `YYYY-MM-DD`.
fn day_string(days: i64) -> String {
    let epoch = jiff::civil::date(1970, 1, 1);
    match epoch.checked_add(jiff::Span::new().days(days)) {
        Ok(d) => d.to_string(),
        Err(_) => format!("day {days}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(s: &str) -> i64 {
        s.parse::<jiff::Timestamp>().unwrap().as_millisecond()
    }

    #[test]
    fn beijing_midnight_splits_days() {
        let tz = TimeZone::fixed(jiff::tz::offset(8));
        let mut a = Aggregator::new(GroupBy::Day, &tz);
        a.push(None, None, ms("2024-02-29T15:59:59Z"), true, Some(10)); // 23:59:59 +08
        a.push(None, None, ms("2024-02-29T16:00:00Z"), false, None); // 00:00:00 +08
        let rows = a.finish();
        assert_eq!(rows.iter().map(|r| r.key.as_str()).collect::<Vec<_>>(), ["2024-02-29", "2024-03-01"]);
        assert_eq!(rows[0].answered, 1);
        assert_eq!(rows[1].answered_rate, 0.0);
    }

    #[test]
    fn zone_with_dst_uses_each_rows_own_offset() {
        let Ok(tz) = TimeZone::get("America/New_York") else {
            eprintln!("skipped: no tz database on this machine");
            return;
        };
        let mut a = Aggregator::new(GroupBy::Hour, &tz);
        a.push(None, None, ms("2024-01-15T14:00:00Z"), true, Some(1)); // 09 EST (-5)
        a.push(None, None, ms("2024-07-15T13:00:00Z"), true, Some(1)); // 09 EDT (-4)
        let rows = a.finish();
        assert_eq!(rows.len(), 1, "{rows:?}");
        assert_eq!(rows[0].key, "09");
        assert_eq!(rows[0].calls, 2);
    }

    #[test]
    fn weekday_is_iso_monday_one() {
        let mut a = Aggregator::new(GroupBy::Weekday, &TimeZone::UTC);
        a.push(None, None, ms("2024-03-04T12:00:00Z"), true, None); // Monday
        a.push(None, None, ms("2024-03-10T12:00:00Z"), true, None); // Sunday
        let keys: Vec<String> = a.finish().into_iter().map(|r| r.key).collect();
        assert_eq!(keys, ["1", "7"]);
    }

    #[test]
    fn mean_and_p90_over_answered_calls_with_a_duration() {
        let mut a = Aggregator::new(GroupBy::Provider, &TimeZone::UTC);
        for t in 1..=10 {
            a.push(Some("tanma"), None, t, true, Some(t * 10));
        }
        a.push(Some("tanma"), None, 100, true, None);
        a.push(Some("tanma"), None, 200, false, Some(0));
        let r = &a.finish()[0];
        assert_eq!(r.calls, 12);
        assert_eq!(r.answered, 11);
        assert_eq!(r.talk_seconds_total, 550);
        assert_eq!(r.talk_seconds_mean, Some(55.0));
        assert_eq!(r.talk_seconds_p90, Some(90));
        assert_eq!(r.first_call.unwrap().as_millisecond(), 1);
        assert_eq!(r.last_call.unwrap().as_millisecond(), 200);
    }

    #[test]
    fn agent_label_is_the_latest_name() {
        let mut a = Aggregator::new(GroupBy::Agent, &TimeZone::UTC);
        a.push(Some("a1"), Some("王芳"), 10, true, None);
        a.push(Some("a1"), Some("王芳 (主管)"), 20, true, None);
        a.push(Some("a1"), Some("old"), 5, true, None);
        a.push(None, None, 7, false, None);
        let rows = a.finish();
        assert_eq!(rows[0].key, "a1");
        assert_eq!(rows[0].label.as_deref(), Some("王芳 (主管)"));
        assert_eq!(rows[1].key, NO_AGENT);
    }
}
