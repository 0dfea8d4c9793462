//! `--write-config`: a ready `huadan.toml` pointing at the running sandbox.

use serde_json::Value;
use std::fmt::Write;

/// Render the sandbox info (`{"wecom":{"endpoint":…,…},…}`) as a `huadan.toml` with one
/// source per vendor, named after its kind with `-` for `_`.
pub fn render(info: &Value, store_url: &str, days: u32) -> String {
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
        let text = render(&info, "sqlite://x.db", 7);
        let parsed: toml::Table = text.parse().unwrap();
        let sources = parsed["sources"].as_array().unwrap();
        assert_eq!(sources.len(), 2);
        let by_name = |n: &str| sources.iter().find(|s| s["name"].as_str() == Some(n)).unwrap();
        assert_eq!(by_name("wecom")["corp_id"].as_str(), Some("ww\"x"));
        assert_eq!(by_name("wecom")["kind"].as_str(), Some("wecom"));
        assert_eq!(by_name("tencent-ads")["account_id"].as_integer(), Some(2045867));
        assert_eq!(parsed["sync"]["backfill_days"].as_integer(), Some(7));
    }
}
