//! Time helpers. Every instant huadan stores is UTC; three vendors speak GMT+8
//! wall-clock strings (`"2023-01-10 11:04:50"` is `2023-01-10T03:04:50Z`).

use crate::Instant;
use jiff::civil::{Date, DateTime};
use jiff::tz::{Offset, TimeZone};

/// China Standard Time, UTC+8 all year (no DST since 1991).
pub const GMT8: Offset = Offset::constant(8);

/// A time string or number could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot read `{value}` as {expected}")]
pub struct TimeParseError {
    /// The rejected input.
    pub value: String,
    /// What form was expected.
    pub expected: &'static str,
}

fn err(value: &str, expected: &'static str) -> TimeParseError {
    TimeParseError { value: value.to_string(), expected }
}

/// Read a GMT+8 wall-clock string `YYYY-MM-DD HH:MM:SS` (a `T` separator is accepted
/// too) as an instant.
pub fn parse_gmt8(s: &str) -> Result<Instant, TimeParseError> {
    let dt: DateTime = s.trim().replacen(' ', "T", 1).parse().map_err(|_| err(s, "a GMT+8 `YYYY-MM-DD HH:MM:SS`"))?;
    GMT8.to_timestamp(dt).map_err(|_| err(s, "a GMT+8 `YYYY-MM-DD HH:MM:SS`"))
}

/// Format an instant as a GMT+8 wall-clock string `YYYY-MM-DD HH:MM:SS`.
pub fn format_gmt8(t: Instant) -> String {
    t.to_zoned(TimeZone::fixed(GMT8)).strftime("%Y-%m-%d %H:%M:%S").to_string()
}

/// The GMT+8 calendar date an instant falls on.
pub fn gmt8_date(t: Instant) -> Date {
    t.to_zoned(TimeZone::fixed(GMT8)).date()
}

/// The instant a GMT+8 calendar date starts (00:00:00 Beijing time).
pub fn gmt8_day_start(d: Date) -> Instant {
    // Midnight on a valid civil date with a fixed offset is always representable.
    GMT8.to_timestamp(d.to_datetime(jiff::civil::Time::midnight())).unwrap_or(Instant::UNIX_EPOCH)
}

/// Unix seconds → instant.
pub fn from_unix_seconds(s: i64) -> Result<Instant, TimeParseError> {
    Instant::from_second(s).map_err(|_| err(&s.to_string(), "unix seconds"))
}

/// Unix milliseconds → instant.
pub fn from_unix_millis(ms: i64) -> Result<Instant, TimeParseError> {
    Instant::from_millisecond(ms).map_err(|_| err(&ms.to_string(), "unix milliseconds"))
}

/// Parse a user-supplied time (CLI `--since`, API `since=`): RFC 3339 with an offset,
/// `YYYY-MM-DD` (midnight) or `YYYY-MM-DD HH:MM:SS`; a time without an offset is read in
/// `tz`.
pub fn parse_user_time(s: &str, tz: &TimeZone) -> Result<Instant, TimeParseError> {
    let s = s.trim();
    if let Ok(t) = s.parse::<Instant>() {
        return Ok(t);
    }
    let expected = "RFC 3339, `YYYY-MM-DD` or `YYYY-MM-DD HH:MM:SS`";
    // Try the full date-time first: jiff's `Date` parser would accept a date-time and
    // silently drop its time of day.
    let dt: DateTime = if let Ok(dt) = s.replacen(' ', "T", 1).parse::<DateTime>() {
        dt
    } else {
        s.parse::<Date>().map_err(|_| err(s, expected))?.to_datetime(jiff::civil::Time::midnight())
    };
    dt.to_zoned(tz.clone()).map(|z| z.timestamp()).map_err(|_| err(s, expected))
}

/// The configured default time zone name.
pub const DEFAULT_TIMEZONE: &str = "Asia/Shanghai";

/// Resolve a time-zone name; `Asia/Shanghai` (and `+08:00`) work even where the
/// system has no tz database.
pub fn timezone(name: &str) -> Result<TimeZone, TimeParseError> {
    match name {
        "Asia/Shanghai" | "Asia/Chongqing" | "PRC" | "+08:00" | "GMT+8" => {
            Ok(TimeZone::get(name).unwrap_or_else(|_| TimeZone::fixed(GMT8)))
        }
        "UTC" | "Z" => Ok(TimeZone::UTC),
        _ => TimeZone::get(name).map_err(|_| err(name, "an IANA time-zone name")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gmt8_strings_are_eight_hours_ahead_of_utc() {
        let t = parse_gmt8("2023-01-10 11:04:50").unwrap();
        assert_eq!(t.to_string(), "2023-01-10T03:04:50Z");
        assert_eq!(format_gmt8(t), "2023-01-10 11:04:50");
    }

    #[test]
    fn day_boundaries_in_beijing() {
        let late = parse_gmt8("2024-02-29 23:59:59").unwrap();
        let early = parse_gmt8("2024-03-01 00:00:00").unwrap();
        assert_eq!(late.to_string(), "2024-02-29T15:59:59Z");
        assert_eq!(gmt8_date(late).to_string(), "2024-02-29");
        assert_eq!(gmt8_date(early).to_string(), "2024-03-01");
        assert_eq!(gmt8_day_start(gmt8_date(early)), early);
    }

    #[test]
    fn user_times_in_configured_zone() {
        let tz = timezone("Asia/Shanghai").unwrap();
        assert_eq!(parse_user_time("2024-03-01", &tz).unwrap().to_string(), "2024-02-29T16:00:00Z");
        assert_eq!(parse_user_time("2024-03-01 08:00:00", &tz).unwrap().to_string(), "2024-03-01T00:00:00Z");
        assert_eq!(parse_user_time("2024-03-01T08:00:00+08:00", &tz).unwrap().to_string(), "2024-03-01T00:00:00Z");
        assert!(parse_user_time("yesterday", &tz).is_err());
        assert!(parse_gmt8("2024-13-01 00:00:00").is_err());
    }
}
