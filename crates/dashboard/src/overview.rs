//! The overview's figures, computed from the store's own stats (the same numbers
//! `/v1/stats` gives): per day of the period one `by provider` pass (headline figures,
//! calls per day stacked by provider, answered rate per day) and one `by hour` pass (the
//! weekday × hour heatmap), and one count (missed inbound calls), all run concurrently —
//! or, on a store that has it (SQLite), all of it from one [`Store::rollup`] pass.

use huadan_model::{Direction, Disposition, Provider};
use huadan_store::{CallFilter, GroupBy, RollupCell, Store, StoreError};
use jiff::civil::Date;
use jiff::tz::TimeZone;
use std::collections::BTreeMap;

/// Everything the overview page shows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Overview {
    /// Calls in the period.
    pub calls: u64,
    /// Answered calls.
    pub answered: u64,
    /// Sum of talk seconds.
    pub talk_seconds_total: i64,
    /// Inbound calls not answered.
    pub missed_inbound: u64,
    /// Per day (`YYYY-MM-DD` in the time zone): calls per provider, in
    /// [`Provider::ALL`] order, and answered calls.
    pub days: BTreeMap<String, DayFigures>,
    /// Calls by ISO weekday (index 0 = Monday) and hour of day.
    pub heatmap: [[u64; 24]; 7],
}

/// One day's figures.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DayFigures {
    /// Calls per provider, in [`Provider::ALL`] order.
    pub by_provider: [u64; 5],
    /// Answered calls.
    pub answered: u64,
}

impl DayFigures {
    /// All calls of the day.
    pub fn calls(&self) -> u64 {
        self.by_provider.iter().sum()
    }
}

impl Overview {
    /// answered / calls (0 with no calls).
    pub fn answered_rate(&self) -> f64 {
        if self.calls == 0 { 0.0 } else { self.answered as f64 / self.calls as f64 }
    }

    /// Mean talk seconds per answered call.
    pub fn talk_seconds_mean(&self) -> Option<f64> {
        (self.answered > 0).then(|| self.talk_seconds_total as f64 / self.answered as f64)
    }
}

fn provider_index(p: Provider) -> usize {
    Provider::ALL.iter().position(|x| *x == p).unwrap_or(0)
}

/// The longest period the overview draws (one bar per day).
pub const MAX_DAYS: i64 = 400;

/// Compute the overview of `filter` over its period (`since..until`, both required:
/// the page always has one). Each day of the period is read with two `stats` calls
/// (`by provider` and `by hour`), so the whole period is read twice, plus one count for
/// missed inbound calls; the calls run concurrently.
pub async fn overview(store: &dyn Store, filter: &CallFilter, tz: &TimeZone) -> Result<Overview, StoreError> {
    let days = period_days(filter, tz)?;
    // The period in ROLLUP_PARTS consecutive parts read concurrently (one reader each).
    let parts = split(filter, if days.len() > 2 { ROLLUP_PARTS } else { 1 });
    let rolled = futures::future::try_join_all(parts.iter().map(|f| store.rollup(f))).await?;
    match rolled.into_iter().collect::<Option<Vec<Vec<RollupCell>>>>() {
        Some(parts) => Ok(from_rollup(&parts.concat(), &days, tz)),
        None => via_stats(store, filter, tz, &days).await,
    }
}

/// How many concurrent parts the rollup of a period is read in.
const ROLLUP_PARTS: i64 = 4;

/// `filter` with its (bounded) period cut into `n` consecutive half-open parts.
fn split(filter: &CallFilter, n: i64) -> Vec<CallFilter> {
    let (Some(since), Some(until)) = (filter.since, filter.until) else { return vec![filter.clone()] };
    let (a, b) = (since.as_millisecond(), until.as_millisecond());
    if n <= 1 || b - a < n {
        return vec![filter.clone()];
    }
    let cut = |i: i64| huadan_model::Instant::from_millisecond(a + (b - a) * i / n).ok();
    (0..n)
        .map(|i| CallFilter {
            since: if i == 0 { Some(since) } else { cut(i) },
            until: if i == n - 1 { Some(until) } else { cut(i + 1) },
            ..filter.clone()
        })
        .collect()
}

/// One pass: the store's 15-minute slots bucketed into local days and hours here.
fn from_rollup(cells: &[RollupCell], days: &[(Date, CallFilter)], tz: &TimeZone) -> Overview {
    let mut o = Overview::default();
    for (d, _) in days {
        o.days.insert(d.to_string(), DayFigures::default());
    }
    let mut last: Option<(huadan_model::Instant, String, usize, usize)> = None;
    for c in cells {
        let (day, weekday, hour) = match &last {
            Some((slot, day, w, h)) if *slot == c.slot_start => (day.clone(), *w, *h),
            _ => {
                let z = c.slot_start.to_zoned(tz.clone());
                let v = (
                    z.date().to_string(),
                    usize::try_from(z.weekday().to_monday_zero_offset()).unwrap_or(0),
                    usize::from(z.hour().unsigned_abs()),
                );
                last = Some((c.slot_start, v.0.clone(), v.1, v.2));
                v
            }
        };
        o.calls += c.calls;
        o.talk_seconds_total += c.talk_seconds;
        if c.answered {
            o.answered += c.calls;
        } else if c.inbound {
            o.missed_inbound += c.calls;
        }
        let fig = o.days.entry(day).or_default();
        fig.by_provider[provider_index(c.provider)] += c.calls;
        if c.answered {
            fig.answered += c.calls;
        }
        o.heatmap[weekday.min(6)][hour.min(23)] += c.calls;
    }
    o
}

fn period_days(filter: &CallFilter, tz: &TimeZone) -> Result<Vec<(Date, CallFilter)>, StoreError> {
    let days: Vec<(Date, CallFilter)> = match crate::query::period_dates(filter, tz) {
        Some((start, last)) if (last - start).get_days() < MAX_DAYS as i32 => {
            let mut out = Vec::new();
            let mut d = start;
            while d <= last {
                let lo = d.to_zoned(tz.clone()).map(|z| z.timestamp()).ok();
                let hi = d.tomorrow().ok().and_then(|n| n.to_zoned(tz.clone()).ok()).map(|z| z.timestamp());
                let since = match (lo, filter.since) {
                    (Some(a), Some(b)) => Some(a.max(b)),
                    (a, b) => a.or(b),
                };
                let until = match (hi, filter.until) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
                out.push((d, CallFilter { since, until, ..filter.clone() }));
                match d.tomorrow() {
                    Ok(n) => d = n,
                    Err(_) => break,
                }
            }
            out
        }
        _ => {
            return Err(StoreError::Db(format!(
                "the overview needs a period of 1 to {MAX_DAYS} days (since and until)"
            )));
        }
    };
    Ok(days)
}

/// Without [`Store::rollup`]: per day one `by provider` and one `by hour` stats call.
async fn via_stats(
    store: &dyn Store,
    filter: &CallFilter,
    tz: &TimeZone,
    days: &[(Date, CallFilter)],
) -> Result<Overview, StoreError> {
    let provider_passes = days
        .iter()
        .map(|(d, f)| async move { store.stats(f, GroupBy::Provider, tz).await.map(|rows| (d.to_string(), rows)) });
    let hour_passes = days.iter().map(|(d, f)| async move {
        store.stats(f, GroupBy::Hour, tz).await.map(|rows| (d.weekday().to_monday_zero_offset(), rows))
    });

    let missed_filter = {
        let inbound_ok = filter.directions.is_empty() || filter.directions.contains(&Direction::Inbound);
        let not_answered: Vec<Disposition> = Disposition::ALL
            .iter()
            .copied()
            .filter(|d| !d.is_answered() && (filter.dispositions.is_empty() || filter.dispositions.contains(d)))
            .collect();
        (inbound_ok && !not_answered.is_empty()).then(|| CallFilter {
            directions: vec![Direction::Inbound],
            dispositions: not_answered,
            ..filter.clone()
        })
    };
    let missed = async {
        match &missed_filter {
            Some(f) => store.count(f).await,
            None => Ok(0),
        }
    };

    let (by_provider, by_hour, missed_inbound) = futures::try_join!(
        futures::future::try_join_all(provider_passes),
        futures::future::try_join_all(hour_passes),
        missed
    )?;

    let mut o = Overview { missed_inbound, ..Overview::default() };
    for (d, _) in days {
        o.days.insert(d.to_string(), DayFigures::default());
    }
    for (day, rows) in by_provider {
        let fig = o.days.entry(day).or_default();
        for r in rows {
            o.calls += r.calls;
            o.answered += r.answered;
            o.talk_seconds_total += r.talk_seconds_total;
            fig.answered += r.answered;
            if let Ok(p) = r.key.parse::<Provider>() {
                fig.by_provider[provider_index(p)] += r.calls;
            }
        }
    }
    for (weekday, rows) in by_hour {
        let w = usize::try_from(weekday).unwrap_or(0).min(6);
        for r in rows {
            if let Ok(h) = r.key.parse::<usize>()
                && h < 24
            {
                o.heatmap[w][h] += r.calls;
            }
        }
    }
    Ok(o)
}
