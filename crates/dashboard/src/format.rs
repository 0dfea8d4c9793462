//! Small formatting helpers: HTML escaping, thousands separators, durations, times.

use crate::i18n::Lang;
use huadan_model::Instant;
use jiff::tz::TimeZone;

/// Escape text for HTML element content and double-quoted attributes.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// `1234567` → `1,234,567`.
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A rate as `87.3%`.
pub fn percent(rate: f64) -> String {
    format!("{:.1}%", rate * 100.0)
}

/// Seconds as a short duration: `2分05秒` / `2m 05s`, `3小时12分` / `3h 12m`.
pub fn duration(lang: Lang, secs: i64) -> String {
    let secs = secs.max(0);
    let (h, m, s) = (secs / 3600, (secs % 3600) / 60, secs % 60);
    match (lang, h > 0) {
        (Lang::Zh, true) => format!("{}小时{:02}分", thousands(h as u64), m),
        (Lang::Zh, false) if m > 0 => format!("{m}分{s:02}秒"),
        (Lang::Zh, false) => format!("{s}秒"),
        (Lang::En, true) => format!("{}h {:02}m", thousands(h as u64), m),
        (Lang::En, false) if m > 0 => format!("{m}m {s:02}s"),
        (Lang::En, false) => format!("{s}s"),
    }
}

/// `2024-03-01 09:30:05` in `tz`.
pub fn time(t: Instant, tz: &TimeZone) -> String {
    t.to_zoned(tz.clone()).strftime("%Y-%m-%d %H:%M:%S").to_string()
}

/// `HH:MM:SS` in `tz`.
pub fn clock(t: Instant, tz: &TimeZone) -> String {
    t.to_zoned(tz.clone()).strftime("%H:%M:%S").to_string()
}

/// Milliseconds into a call as `m:ss`.
pub fn offset_ms(ms: i64) -> String {
    let s = ms.max(0) / 1000;
    format!("{}:{:02}", s / 60, s % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(esc("<a href=\"x\">&'"), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;");
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(thousands(100), "100");
        assert_eq!(duration(Lang::Zh, 125), "2分05秒");
        assert_eq!(duration(Lang::En, 3 * 3600 + 720), "3h 12m");
        assert_eq!(duration(Lang::Zh, 9), "9秒");
        assert_eq!(percent(0.8734), "87.3%");
        assert_eq!(offset_ms(65_400), "1:05");
    }
}
