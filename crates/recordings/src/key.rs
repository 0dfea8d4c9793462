//! The stable object key of a recording: `{source}/{yyyy}/{mm}/{dd}/{id}-{n}.{ext}`.

use jiff::Timestamp;

/// Audio file extensions kept as they are when the vendor's URL ends with one.
const KNOWN_EXTENSIONS: &[&str] = &["wav", "mp3", "m4a", "amr", "ogg", "opus", "flac", "aac", "silk", "wma"];

/// Replace everything but `[A-Za-z0-9._-]` (and a leading `.`) with `_`, so an id like
/// `ads:123/4` cannot escape its directory or clash with the store's own temp names.
pub fn sanitise(part: &str) -> String {
    let mut out: String = part
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' { c } else { '_' })
        .collect();
    if out.starts_with('.') {
        out.replace_range(0..1, "_");
    }
    if out.is_empty() {
        out.push('_');
    }
    out
}

/// The audio extension named by a URL's path, if it names a known one.
pub fn extension_from_url(url: &str) -> Option<&'static str> {
    let path = url.split(['?', '#']).next().unwrap_or(url);
    let last = path.rsplit('/').next().unwrap_or(path);
    let ext = last.rsplit_once('.')?.1.to_ascii_lowercase();
    KNOWN_EXTENSIONS.iter().copied().find(|k| *k == ext)
}

/// The object key (relative to the store's root / prefix). The day is the call's
/// Beijing (GMT+8) date, like every per-day view in huadan.
pub fn object_key(source: &str, record_id: &str, index: u32, started_at: Timestamp, ext: &str) -> String {
    let d = huadan_model::time::gmt8_date(started_at);
    format!(
        "{}/{:04}/{:02}/{:02}/{}-{}.{}",
        sanitise(source),
        d.year(),
        d.month(),
        d.day(),
        sanitise(record_id),
        index,
        sanitise(ext)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_uses_beijing_date_and_sanitises_the_id() {
        // 2026-03-01 17:30 UTC is already 2 March in Beijing.
        let t: Timestamp = "2026-03-01T17:30:00Z".parse().unwrap();
        assert_eq!(object_key("ads", "ads:12/3#4", 0, t, "wav"), "ads/2026/03/02/ads_12_3_4-0.wav");
        assert_eq!(sanitise("../x"), "_._x");
        assert_eq!(sanitise(""), "_");
    }

    #[test]
    fn extension_from_url_ignores_query_and_unknown() {
        assert_eq!(extension_from_url("https://h/x/a.MP3?sig=1.wav"), Some("mp3"));
        assert_eq!(extension_from_url("https://h/x/play?id=1"), None);
        assert_eq!(extension_from_url("https://h/x/a.exe"), None);
    }
}
