//! The overview's figures, computed from the store's own stats (the same numbers
//! `/v1/stats` gives): one `by day` pass per provider (headline figures, calls per day
//! stacked by provider, answered rate per day), one `by hour` pass per day of the
//! period (the weekday × hour heatmap) and one count (missed inbound calls), all run
//! concurrently.

use huadan_model::{Direction, Disposition, Provider};
use huadan_store::{CallFilter, GroupBy, Store, StoreError};
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

/// Compute the overview of `filter` (its period should be bounded: the heatmap is
/// built one day at a time over `since..until`; without both it is built in one pass
/// per weekday-agnostic hour and left empty).
pub async fn overview(store: &dyn Store, filter: &CallFilter, tz: &TimeZone) -> Result<Overview, StoreError> {
    let providers: Vec<Provider> =
        if filter.providers.is_empty() { Provider::ALL.to_vec() } else { filter.providers.clone() };

    let day_passes = providers.iter().map(|p| {
        let f = CallFilter { providers: vec![*p], ..filter.clone() };
        async move { store.stats(&f, GroupBy::Day, tz).await.map(|rows| (*p, rows)) }
    });

    let days: Vec<(Date, CallFilter)> = match crate::query::period_dates(filter, tz) {
        Some((start, last)) if (last - start).get_days() <= 400 => {
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
        _ => Vec::new(),
    };
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

    let (by_day, by_hour, missed_inbound) = futures::try_join!(
        futures::future::try_join_all(day_passes),
        futures::future::try_join_all(hour_passes),
        missed
    )?;

    let mut o = Overview { missed_inbound, ..Overview::default() };
    for (p, rows) in by_day {
        let i = provider_index(p);
        for r in rows {
            o.calls += r.calls;
            o.answered += r.answered;
            o.talk_seconds_total += r.talk_seconds_total;
            let day = o.days.entry(r.key).or_default();
            day.by_provider[i] += r.calls;
            day.answered += r.answered;
        }
    }
    for (d, _) in &days {
        o.days.entry(d.to_string()).or_default();
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
