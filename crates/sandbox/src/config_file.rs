//! `--write-config`: a ready `huadan.toml` pointing at the running sandbox.

use serde_json::Value;
use std::fmt::Write;

/// The client-side pace written for every source of a sandbox that enforces no quota
/// (`--no-limits`): without it huadan would still pace each source at its vendor's
/// documented quota, which is what the sandbox was asked to drop.
pub const NO_LIMITS_REQUESTS_PER_SECOND: u32 = 100_000;

/// Render the sandbox info (`{"wecom":{"endpoint":…,…},…}`) as a `huadan.toml` with one
/// source per vendor, named after its kind with `-` for `_`. When the fakes enforce no
/// quota (`limits` false), every source gets `requests_per_second =`
/// [`NO_LIMITS_REQUESTS_PER_SECOND`] so that huadan does not pace itself either.
pub fn render(info: &Value, store_url: &str, days: u32, limits: bool) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# Written by `huadan sandbox --write-config`: every source points at the sandbox.");
    let _ = writeln!(out, "# The credentials are the sandbox's own, not real ones.\n");
    let _ = writeln!(out, "[store]\nurl = {}\n", toml_str(store_url));
    let _ = writeln!(out, "[sync]\nbackfill_days = {days}\ninterval_seconds = 60\n");
    if let Some(map) = info.as_object() {
        for (kind, entry) in map {
            let _ = writeln!(out, "[[sources]]");
            let _ = writeln!(out, "name = {}", toml_str(&kind.replace('_', "-")));
            let _ = writeln!(out, "kind = {}", toml_str(kind));
            if !limits {
                let _ = writeln!(out, "# The sandbox runs with --no-limits: no vendor quota to keep to.");
                let _ = writeln!(out, "requests_per_second = {NO_LIMITS_REQUESTS_PER_SECOND}");
            }
            if let Some(fields) = entry.as_object() {
                for (k, v) in fields {
                    let rendered = match v {
                        Value::String(s) => toml_str(s),
                        Value::Number(n) => n.to_string(),
                        Value::Bool(b) => b.to_string(),
                        other => toml_str(&other.to_string()),
                    };
                    let _ = writeln!(out, "{k} = {rendered}");
                }
            }
            out.push('\n');
        }
    }
    out
}

/// A TOML basic string with the necessary escapes.
fn toml_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_parseable_config() {
        let info = serde_json::json!({
            "wecom": {"endpoint": "http://127.0.0.1:9100", "corp_id": "ww\"x", "corp_secret": "s"},
            "tencent_ads": {"endpoint": "http://127.0.0.1:9103", "access_token": "t", "account_id": 2045867}
        });
        let text = render(&info, "sqlite://x.db", 7, true);
        let parsed: toml::Table = text.parse().unwrap();
        let sources = parsed["sources"].as_array().unwrap();
        assert_eq!(sources.len(), 2);
        let by_name = |n: &str| sources.iter().find(|s| s["name"].as_str() == Some(n)).unwrap();
        assert_eq!(by_name("wecom")["corp_id"].as_str(), Some("ww\"x"));
        assert_eq!(by_name("wecom")["kind"].as_str(), Some("wecom"));
        assert_eq!(by_name("tencent-ads")["account_id"].as_integer(), Some(2045867));
        assert_eq!(parsed["sync"]["backfill_days"].as_integer(), Some(7));
        assert!(sources.iter().all(|s| s.get("requests_per_second").is_none()), "quotas in force: vendor pace");
    }

    #[test]
    fn without_limits_the_client_is_not_paced_either() {
        let info = serde_json::json!({"tanma": {"endpoint": "http://127.0.0.1:9104", "app_id": "a"}});
        let parsed: toml::Table = render(&info, "sqlite://x.db", 1, false).parse().unwrap();
        let source = &parsed["sources"].as_array().unwrap()[0];
        assert_eq!(source["requests_per_second"].as_integer(), Some(i64::from(NO_LIMITS_REQUESTS_PER_SECOND)));
        // And huadan's own config reader accepts it.
        let config = huadan_config::Config::from_toml_str(&render(&info, "sqlite://x.db", 1, false), &|_| None);
        assert!(config.is_ok(), "{config:?}");
    }
}
