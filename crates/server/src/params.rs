//! Strict query-string parsing: an unknown parameter, a repeated single-valued one, an
//! empty or malformed value is a 400 that names the parameter. Filter values become
//! [`CallFilter`] fields (data bound by the store, never SQL).

use crate::error::ApiError;
use huadan_store::{CallFilter, GroupBy};
use jiff::tz::TimeZone;
use std::str::FromStr;

/// The filter parameters shared by `/v1/calls`, `/v1/stats` and the exports (the CLI's
/// filter flags in snake_case). `source`, `provider`, `direction` and `disposition` may
/// repeat.
pub const FILTER_PARAMS: &[&str] =
    &["source", "provider", "since", "until", "direction", "disposition", "agent", "number", "text"];

/// Largest page `/v1/calls` serves.
pub const MAX_LIMIT: usize = 1000;
/// Page size when `limit` is not given.
pub const DEFAULT_LIMIT: usize = 50;

/// A decoded query string, checked against the parameters a route accepts.
#[derive(Debug, Default)]
pub struct Params {
    pairs: Vec<(String, String)>,
}

impl Params {
    /// Decode `query` (`a=1&b=2`) and reject any name outside `allowed`.
    pub fn parse(query: Option<&str>, allowed: &[&[&str]]) -> Result<Self, ApiError> {
        let mut pairs = Vec::new();
        for (k, v) in form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
            if !allowed.iter().any(|set| set.contains(&k.as_ref())) {
                return Err(ApiError::UnknownParameter(k.into_owned()));
            }
            pairs.push((k.into_owned(), v.into_owned()));
        }
        Ok(Params { pairs })
    }

    /// Every value of a repeatable parameter; each must be non-empty.
    pub fn all(&self, name: &str) -> Result<Vec<&str>, ApiError> {
        self.pairs.iter().filter(|(k, _)| k == name).map(|(_, v)| non_empty(name, v)).collect()
    }

    /// The value of a single-valued parameter: absent, or given once and non-empty.
    pub fn one(&self, name: &str) -> Result<Option<&str>, ApiError> {
        let mut it = self.pairs.iter().filter(|(k, _)| k == name);
        let first = it.next();
        if it.next().is_some() {
            return Err(ApiError::bad_param(name, "given more than once; it takes one value"));
        }
        first.map(|(_, v)| non_empty(name, v)).transpose()
    }

    /// A repeatable parameter parsed into an enum; the error lists the accepted values.
    pub fn all_parsed<T: FromStr>(&self, name: &str) -> Result<Vec<T>, ApiError>
    where
        T::Err: std::fmt::Display,
    {
        self.all(name)?
            .into_iter()
            .map(|v| v.parse::<T>().map_err(|e| ApiError::bad_param(name, e.to_string())))
            .collect()
    }

    /// The shared filter parameters; times without an offset are read in `tz`.
    pub fn filter(&self, tz: &TimeZone) -> Result<CallFilter, ApiError> {
        let time = |name: &str| -> Result<_, ApiError> {
            self.one(name)?
                .map(|v| {
                    huadan_model::time::parse_user_time(v, tz).map_err(|e| ApiError::bad_param(name, e.to_string()))
                })
                .transpose()
        };
        Ok(CallFilter {
            sources: self.all("source")?.into_iter().map(str::to_string).collect(),
            providers: self.all_parsed("provider")?,
            since: time("since")?,
            until: time("until")?,
            directions: self.all_parsed("direction")?,
            dispositions: self.all_parsed("disposition")?,
            agent: self.one("agent")?.map(str::to_string),
            number: self.one("number")?.map(str::to_string),
            text: self.one("text")?.map(str::to_string),
        })
    }

    /// `limit`: 1..=[`MAX_LIMIT`], default [`DEFAULT_LIMIT`].
    pub fn limit(&self) -> Result<usize, ApiError> {
        match self.one("limit")? {
            None => Ok(DEFAULT_LIMIT),
            Some(v) => match v.parse::<usize>() {
                Ok(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
                _ => Err(ApiError::bad_param("limit", format!("`{v}` is not a whole number from 1 to {MAX_LIMIT}"))),
            },
        }
    }

    /// `by` for stats, default `provider`.
    pub fn group_by(&self) -> Result<GroupBy, ApiError> {
        match self.one("by")? {
            None => Ok(GroupBy::Provider),
            Some(v) => v.parse::<GroupBy>().map_err(|e| ApiError::bad_param("by", e)),
        }
    }
}

fn non_empty<'a>(name: &str, v: &'a str) -> Result<&'a str, ApiError> {
    if v.is_empty() { Err(ApiError::bad_param(name, "must not be empty")) } else { Ok(v) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use huadan_model::{Direction, Provider};

    fn tz() -> TimeZone {
        huadan_model::time::timezone("Asia/Shanghai").unwrap()
    }

    #[test]
    fn every_filter_parameter_is_read() {
        let q = "source=a&source=b&provider=wecom&since=2024-03-01&until=2024-03-02%2008:00:00\
                 &direction=inbound&disposition=no_answer&agent=%E5%BC%A0%E4%B8%89&number=138&text=%E9%80%80%E6%AC%BE";
        let p = Params::parse(Some(q), &[FILTER_PARAMS]).unwrap();
        let f = p.filter(&tz()).unwrap();
        assert_eq!(f.sources, ["a", "b"]);
        assert_eq!(f.providers, [Provider::Wecom]);
        assert_eq!(f.since.unwrap().to_string(), "2024-02-29T16:00:00Z");
        assert_eq!(f.until.unwrap().to_string(), "2024-03-02T00:00:00Z");
        assert_eq!(f.directions, [Direction::Inbound]);
        assert_eq!(f.agent.as_deref(), Some("张三"));
        assert_eq!(f.text.as_deref(), Some("退款"));
    }

    #[test]
    fn unknown_repeated_empty_and_malformed_name_the_parameter() {
        let e = Params::parse(Some("sorce=a"), &[FILTER_PARAMS]).unwrap_err();
        assert_eq!(e.to_string(), "unknown query parameter `sorce`");
        let p = Params::parse(Some("agent=a&agent=b"), &[FILTER_PARAMS]).unwrap();
        assert!(p.filter(&tz()).unwrap_err().to_string().contains("`agent`"));
        let p = Params::parse(Some("number="), &[FILTER_PARAMS]).unwrap();
        assert!(p.filter(&tz()).unwrap_err().to_string().contains("`number`: must not be empty"));
        let p = Params::parse(Some("since=yesterday"), &[FILTER_PARAMS]).unwrap();
        assert!(p.filter(&tz()).unwrap_err().to_string().contains("`since`"));
        let p = Params::parse(Some("provider=tencent"), &[FILTER_PARAMS]).unwrap();
        assert!(p.filter(&tz()).unwrap_err().to_string().contains("tencent_ccc"));
        for bad in ["0", "1001", "-1", "ten", "1e3"] {
            let p = Params::parse(Some(&format!("limit={bad}")), &[&["limit"]]).unwrap();
            assert!(p.limit().unwrap_err().to_string().contains("`limit`"), "{bad}");
        }
        let p = Params::parse(Some("by=week"), &[&["by"]]).unwrap();
        assert!(p.group_by().unwrap_err().to_string().contains("`by`"));
    }
}
