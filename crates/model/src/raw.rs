//! [`RawJson`]: the vendor's record exactly as received, kept as JSON text.
//!
//! Keeping the text (instead of a `serde_json::Value` tree) means a record's `raw` is
//! written out again by copying it, not by walking and re-serialising a tree of
//! hundreds of nodes — the costliest part of storing a record. The text is kept in a
//! canonical compact form (no whitespace outside strings), so that the stored body, and
//! therefore its content hash, does not depend on how the vendor formatted its answer.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;
use std::fmt;

/// A JSON value held as its compact text. Serialises as that JSON value (not as a
/// string); equal when the texts are equal.
#[derive(Clone)]
pub struct RawJson(Box<RawValue>);

impl RawJson {
    /// JSON `null`.
    pub fn null() -> Self {
        RawJson(raw_null())
    }

    /// The compact text of `value`.
    pub fn from_value(value: &serde_json::Value) -> Self {
        match serde_json::value::to_raw_value(value) {
            Ok(raw) => RawJson(raw),
            // A `Value` always serialises (its map keys are strings).
            Err(_) => RawJson::null(),
        }
    }

    /// Take raw JSON text (already known to be valid JSON, e.g. captured while parsing
    /// an answer), made compact if it has whitespace outside strings.
    pub fn from_raw(raw: Box<RawValue>) -> Self {
        if needs_minify(raw.get()) { RawJson(minify(raw.get()).unwrap_or(raw)) } else { RawJson(raw) }
    }

    /// Parse JSON text; errors when it is not one valid JSON value.
    pub fn from_text(text: &str) -> Result<Self, serde_json::Error> {
        let raw: Box<RawValue> = serde_json::from_str(text)?;
        Ok(RawJson::from_raw(raw))
    }

    /// The JSON text (compact).
    pub fn get(&self) -> &str {
        self.0.get()
    }

    /// The text as a `RawValue`.
    pub fn as_raw_value(&self) -> &RawValue {
        &self.0
    }

    /// Whether this is JSON `null`.
    pub fn is_null(&self) -> bool {
        self.0.get() == "null"
    }

    /// Parse into a `serde_json::Value` (for tests and display; `Null` if the text
    /// does not parse, which cannot happen for a value built by this type).
    pub fn to_value(&self) -> serde_json::Value {
        serde_json::from_str(self.0.get()).unwrap_or(serde_json::Value::Null)
    }

    /// The value at a JSON pointer (`/a/0/b`), parsed, if present.
    pub fn pointer(&self, pointer: &str) -> Option<serde_json::Value> {
        self.to_value().pointer(pointer).cloned()
    }

    /// Deserialize the text into a typed value.
    pub fn parse<'a, T: Deserialize<'a>>(&'a self) -> Result<T, serde_json::Error> {
        serde_json::from_str(self.0.get())
    }
}

fn raw_null() -> Box<RawValue> {
    // "null" is valid JSON: this cannot fail.
    RawValue::from_string("null".to_string()).unwrap_or_else(|_| unreachable!("`null` is valid JSON"))
}

/// Whether `text` (valid JSON) has any whitespace outside string literals.
///
/// Every record of every page passes through here, so it jumps from quote to quote
/// with `memchr` (SIMD) instead of walking byte by byte: only the short stretches
/// between strings (punctuation, numbers, literals) are looked at one byte at a time.
fn needs_minify(text: &str) -> bool {
    let b = text.as_bytes();
    let mut i = 0;
    loop {
        // Outside a string, up to the next quote.
        let open = memchr::memchr(b'"', &b[i..]).map_or(b.len(), |p| i + p);
        if b[i..open].iter().any(|c| matches!(c, b' ' | b'\n' | b'\r' | b'\t')) {
            return true;
        }
        if open == b.len() {
            return false;
        }
        // Inside the string: to its closing quote, stepping over escapes.
        let mut j = open + 1;
        loop {
            match memchr::memchr2(b'"', b'\\', &b[j..]) {
                None => return false,
                Some(p) if b[j + p] == b'\\' => j += p + 2,
                Some(p) => {
                    i = j + p + 1;
                    break;
                }
            }
            if j >= b.len() {
                return false;
            }
        }
    }
}

/// `text` with the whitespace outside strings removed (strings are copied verbatim,
/// escapes included, so nothing inside the values changes).
fn minify(text: &str) -> Option<Box<RawValue>> {
    let mut out = String::with_capacity(text.len());
    let mut in_str = false;
    let mut escaped = false;
    for c in text.chars() {
        if in_str {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_str = false;
            }
        } else if c == '"' {
            in_str = true;
            out.push(c);
        } else if !matches!(c, ' ' | '\n' | '\r' | '\t') {
            out.push(c);
        }
    }
    RawValue::from_string(out).ok()
}

impl Default for RawJson {
    fn default() -> Self {
        RawJson::null()
    }
}

impl PartialEq for RawJson {
    fn eq(&self, other: &Self) -> bool {
        self.0.get() == other.0.get()
    }
}

impl Eq for RawJson {}

impl fmt::Debug for RawJson {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.get())
    }
}

impl fmt::Display for RawJson {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.get())
    }
}

impl From<serde_json::Value> for RawJson {
    fn from(value: serde_json::Value) -> Self {
        RawJson::from_value(&value)
    }
}

impl From<&serde_json::Value> for RawJson {
    fn from(value: &serde_json::Value) -> Self {
        RawJson::from_value(value)
    }
}

impl PartialEq<serde_json::Value> for RawJson {
    fn eq(&self, other: &serde_json::Value) -> bool {
        &self.to_value() == other
    }
}

impl Serialize for RawJson {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for RawJson {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // Deserialising from text keeps the text; from any other deserializer (a
        // `Value`, say) `RawValue` re-serialises the value compactly.
        let raw = Box::<RawValue>::deserialize(deserializer)?;
        Ok(RawJson::from_raw(raw))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The byte-by-byte walk `needs_minify` replaced: the reference it must agree with.
    fn needs_minify_reference(text: &str) -> bool {
        let (mut in_str, mut escaped) = (false, false);
        for &b in text.as_bytes() {
            if in_str {
                if escaped {
                    escaped = false;
                } else if b == b'\\' {
                    escaped = true;
                } else if b == b'"' {
                    in_str = false;
                }
            } else if b == b'"' {
                in_str = true;
            } else if matches!(b, b' ' | b'\n' | b'\r' | b'\t') {
                return true;
            }
        }
        false
    }

    proptest::proptest! {
        /// Any text made of JSON's structural characters, quotes, backslashes,
        /// whitespace and letters (valid JSON or not): same answer as the reference.
        #[test]
        fn needs_minify_agrees_with_the_reference(text in "[{}\\[\\]:,\"\\\\ \t\nab1é坐]{0,40}") {
            proptest::prop_assert_eq!(needs_minify(&text), needs_minify_reference(&text));
        }
    }

    #[test]
    fn whitespace_is_found_outside_strings_only() {
        let cases = [
            r#"{"a":1}"#,
            r#"{"a": 1}"#,
            r#"{"a b":"c d"}"#,
            r#"{"a":"x\" y"}"#,
            r#"{"a":"x\\" ,"b":1}"#,
            r#"{"a":"x\\"}"#,
            r#"["\\\"", 2]"#,
            r#"["\\\"",2]"#,
            "{\"k\":\"坐席\t001\"}",
            "{\"k\":\"坐席\"\n}",
            r#""only a string""#,
            "12",
            " 12",
            r#"{"a":"\u00e9 "}"#,
            r#"{"a":"ends with backslash\\"}"#,
        ];
        for text in cases {
            assert_eq!(needs_minify(text), needs_minify_reference(text), "{text}");
        }
        // Every prefix too (truncated text must not panic, whatever it answers).
        for text in cases {
            for end in (0..=text.len()).filter(|e| text.is_char_boundary(*e)) {
                let _ = needs_minify(&text[..end]);
            }
        }
    }

    #[test]
    fn keeps_compact_text_and_serialises_as_json_not_a_string() {
        let r = RawJson::from_text(r#"{"a":1,"b":"x y"}"#).unwrap();
        assert_eq!(r.get(), r#"{"a":1,"b":"x y"}"#);
        assert_eq!(serde_json::to_string(&r).unwrap(), r#"{"a":1,"b":"x y"}"#);
        assert_eq!(serde_json::to_value(&r).unwrap(), json!({"a": 1, "b": "x y"}));
    }

    #[test]
    fn vendor_formatting_does_not_change_the_text() {
        let pretty = "{\n  \"a\" : [1, 2],\t\"s\": \"in \\\" string  \\\\\" ,\r\n \"c\":{ }\n}";
        let r = RawJson::from_text(pretty).unwrap();
        assert_eq!(r.get(), r#"{"a":[1,2],"s":"in \" string  \\","c":{}}"#);
        assert_eq!(r, RawJson::from_text(r.get()).unwrap());
        assert_eq!(r.to_value(), serde_json::from_str::<serde_json::Value>(pretty).unwrap());
    }

    #[test]
    fn from_value_round_trips_and_compares() {
        let v = json!({"n": 5, "s": "原始", "l": [null, true]});
        let r = RawJson::from_value(&v);
        assert_eq!(r.to_value(), v);
        assert_eq!(r, v);
        assert_eq!(r.pointer("/l/1"), Some(json!(true)));
        assert_eq!(r.pointer("/missing"), None);
        assert_ne!(r, RawJson::null());
        assert!(RawJson::null().is_null());
        assert!(RawJson::default().is_null());
    }

    #[test]
    fn deserialises_inside_a_struct_from_text_and_from_value() {
        #[derive(serde::Deserialize)]
        struct W {
            raw: RawJson,
        }
        let w: W = serde_json::from_str(r#"{"raw": { "k" : "v" }}"#).unwrap();
        assert_eq!(w.raw.get(), r#"{"k":"v"}"#);
        let w: W = serde_json::from_value(json!({"raw": {"k": "v"}})).unwrap();
        assert_eq!(w.raw.get(), r#"{"k":"v"}"#);
        assert!(RawJson::from_text("{oops").is_err());
    }
}
