//! The opaque pagination cursor: a position in the newest-first order
//! (`started_at` desc, `id` desc), shared by every backend.
//!
//! On the wire it is URL-safe base64 of `v1:{started_at_ms}:{id}`; callers must treat
//! it as opaque. Because it names a position rather than an offset, pages stay stable
//! while rows are inserted before or after it.

use crate::StoreError;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// A position in the newest-first order: the last row of the previous page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Position {
    /// The row's `started_at`, Unix milliseconds.
    pub started_ms: i64,
    /// The row's id.
    pub id: String,
}

/// Encode a position as an opaque cursor.
pub(crate) fn encode(p: &Position) -> String {
    URL_SAFE_NO_PAD.encode(format!("v1:{}:{}", p.started_ms, p.id))
}

/// Decode a cursor this store issued; anything else is [`StoreError::BadCursor`].
pub(crate) fn decode(cursor: &str) -> Result<Position, StoreError> {
    let bad = || StoreError::BadCursor("it was not issued by this server; start again without a cursor".into());
    let bytes = URL_SAFE_NO_PAD.decode(cursor.trim()).map_err(|_| bad())?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    let rest = text.strip_prefix("v1:").ok_or_else(bad)?;
    let (ms, id) = rest.split_once(':').ok_or_else(bad)?;
    let started_ms = ms.parse::<i64>().map_err(|_| bad())?;
    if id.is_empty() {
        return Err(bad());
    }
    Ok(Position { started_ms, id: id.to_string() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_ids_with_colons_and_chinese() {
        let p = Position { started_ms: 1_700_000_000_123, id: "tanma-华东:abc:1".into() };
        assert_eq!(decode(&encode(&p)).unwrap(), p);
    }

    #[test]
    fn malformed_cursors_are_bad_cursor() {
        for c in ["", "!!!", "djI6MTox", &URL_SAFE_NO_PAD.encode("v1:x:id"), &URL_SAFE_NO_PAD.encode("v1:12:")] {
            assert!(matches!(decode(c), Err(StoreError::BadCursor(_))), "{c}");
        }
    }
}
