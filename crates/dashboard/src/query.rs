//! The fragments' query strings: the same filters as the CLI and `/v1` (provider, source,
//! direction, disposition, agent, number, text, period), read leniently because they
//! come from an HTML form: an empty field means "any", and the period may be given as
//! inclusive dates (`from`, `to`, what a date picker gives) or as `since` / `until`
//! in the API's forms.

use crate::error::UiError;
use crate::i18n::Lang;
use huadan_model::{Instant, time::parse_user_time};
use huadan_store::CallFilter;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use std::str::FromStr;

/// A decoded query string.
#[derive(Debug, Default, Clone)]
pub(crate) struct Form {
    pairs: Vec<(String, String)>,
}

/// Days the overview and agents pages cover when no period is chosen.
pub(crate) const DEFAULT_DAYS: i64 = 30;

impl Form {
    pub(crate) fn parse(query: Option<&str>) -> Self {
        let pairs = form_urlencoded::parse(query.unwrap_or("").as_bytes())
            .map(|(k, v)| (k.into_owned(), v.trim().to_string()))
            .collect();
        Form { pairs }
    }

    /// The first non-empty value of `name`.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.pairs.iter().find(|(k, v)| k == name && !v.is_empty()).map(|(_, v)| v.as_str())
    }

    /// Every non-empty value of `name`.
    pub(crate) fn all(&self, name: &str) -> Vec<&str> {
        self.pairs.iter().filter(|(k, v)| k == name && !v.is_empty()).map(|(_, v)| v.as_str()).collect()
    }

    fn parsed<T: FromStr>(&self, name: &str) -> Result<Vec<T>, UiError>
    where
        T::Err: std::fmt::Display,
    {
        self.all(name).into_iter().map(|v| v.parse::<T>().map_err(|e| UiError::bad(name, e))).collect()
    }

    pub(crate) fn lang(&self) -> Lang {
        Lang::parse(self.get("lang"))
    }

    /// The filter; `default_days` gives a period ending today when none is chosen.
    pub(crate) fn filter(&self, tz: &TimeZone, default_days: Option<i64>) -> Result<CallFilter, UiError> {
        let (since, until) = self.period(tz, default_days)?;
        Ok(CallFilter {
            sources: self.all("source").into_iter().map(str::to_string).collect(),
            providers: self.parsed("provider")?,
            since,
            until,
            directions: self.parsed("direction")?,
            dispositions: self.parsed("disposition")?,
            agent: self.get("agent").map(str::to_string),
            number: self.get("number").map(str::to_string),
            text: self.get("text").map(str::to_string),
        })
    }

    fn period(&self, tz: &TimeZone, default_days: Option<i64>) -> Result<(Option<Instant>, Option<Instant>), UiError> {
        let date = |name: &str| -> Result<Option<Date>, UiError> {
            self.get(name)
                .map(|v| v.parse::<Date>().map_err(|_| UiError::bad(name, format!("`{v}` is not a date (YYYY-MM-DD)"))))
                .transpose()
        };
        let time = |name: &str| -> Result<Option<Instant>, UiError> {
            self.get(name).map(|v| parse_user_time(v, tz).map_err(|e| UiError::bad(name, e))).transpose()
        };
        let day_start = |d: Date| -> Result<Instant, UiError> {
            d.to_zoned(tz.clone()).map(|z| z.timestamp()).map_err(|e| UiError::bad("from", e))
        };
        let mut since = time("since")?;
        let mut until = time("until")?;
        let (from, to) = (date("from")?, date("to")?);
        if let Some(d) = from {
            since = Some(day_start(d)?);
        }
        if let Some(d) = to {
            let next = d.tomorrow().map_err(|e| UiError::bad("to", e))?;
            until = Some(day_start(next)?);
        }
        if since.is_none()
            && until.is_none()
            && let Some(days) = default_days
        {
            let today = Instant::now().to_zoned(tz.clone()).date();
            let end = today.tomorrow().map_err(|e| UiError::bad("to", e))?;
            let start = end.checked_sub(jiff::Span::new().days(days)).map_err(|e| UiError::bad("from", e))?;
            return Ok((Some(day_start(start)?), Some(day_start(end)?)));
        }
        Ok((since, until))
    }

    /// The query string again (without `cursor` and `lang`), for links.
    pub(crate) fn filter_query(&self) -> String {
        let mut s = form_urlencoded::Serializer::new(String::new());
        for (k, v) in &self.pairs {
            if !v.is_empty() && k != "cursor" && k != "lang" && k != "sort" {
                s.append_pair(k, v);
            }
        }
        s.finish()
    }
}

/// The inclusive date range a filter's period covers, in `tz` (for headings and the
/// chart's day axis).
pub(crate) fn period_dates(f: &CallFilter, tz: &TimeZone) -> Option<(Date, Date)> {
    let (since, until) = (f.since?, f.until?);
    let start = since.to_zoned(tz.clone()).date();
    let last = (until - jiff::SignedDuration::from_millis(1)).to_zoned(tz.clone()).date();
    (start <= last).then_some((start, last))
}

#[cfg(test)]
mod tests {
    use super::*;
    use huadan_model::{Direction, Provider};

    fn tz() -> TimeZone {
        huadan_model::time::timezone("Asia/Shanghai").unwrap()
    }

    #[test]
    fn empty_fields_mean_any_and_dates_are_inclusive() {
        let f = Form::parse(Some(
            "provider=tanma&source=&direction=inbound&agent=&from=2024-03-01&to=2024-03-07&text=%E9%80%80%E6%AC%BE",
        ));
        let filter = f.filter(&tz(), Some(30)).unwrap();
        assert_eq!(filter.providers, [Provider::Tanma]);
        assert!(filter.sources.is_empty());
        assert_eq!(filter.directions, [Direction::Inbound]);
        assert_eq!(filter.agent, None);
        assert_eq!(filter.text.as_deref(), Some("退款"));
        assert_eq!(filter.since.unwrap().to_string(), "2024-02-29T16:00:00Z");
        assert_eq!(filter.until.unwrap().to_string(), "2024-03-07T16:00:00Z");
        assert_eq!(period_dates(&filter, &tz()).unwrap().1.to_string(), "2024-03-07");
    }

    #[test]
    fn bad_values_name_the_field() {
        let e = Form::parse(Some("provider=tencent")).filter(&tz(), None).unwrap_err();
        assert!(e.to_string().contains("`provider`"), "{e}");
        let e = Form::parse(Some("from=yesterday")).filter(&tz(), None).unwrap_err();
        assert!(e.to_string().contains("`from`"), "{e}");
    }

    #[test]
    fn default_period_only_when_none_given() {
        let f = Form::parse(None).filter(&tz(), Some(30)).unwrap();
        let (a, b) = period_dates(&f, &tz()).unwrap();
        assert_eq!((b - a).get_days(), 29);
        assert_eq!(Form::parse(None).filter(&tz(), None).unwrap().since, None);
        let f = Form::parse(Some("since=2024-03-01")).filter(&tz(), Some(30)).unwrap();
        assert_eq!(f.until, None);
    }
}
