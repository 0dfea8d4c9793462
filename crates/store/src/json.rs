//! Records as JSON straight from storage, without building a [`CallRecord`].
//!
//! A stored body is the record serialised by `serde_json` with `synced_at` left out
//! (`"synced_at":null` as its last member, see `content`); serving it only takes
//! decompressing it and splicing `synced_at` in. The result is byte for byte what
//! `serde_json` makes of the decoded record (a test holds the two paths together),
//! at a fraction of the cost: the REST API's pages and the exports use it.
//!
//! A body of another layout (not ending in `"synced_at":null}`) is decoded and
//! re-serialised instead, so the output is always a complete record.

use crate::content;
use crate::{CallPage, StoreError};
use futures::StreamExt;
use futures::stream::BoxStream;
use huadan_model::CallRecord;
use std::io::Write as _;

/// Several records as JSON objects, back to back in one buffer (one allocation per
/// page rather than per record).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JsonRecords {
    buf: Vec<u8>,
    ends: Vec<usize>,
}

/// The last member of every body this version stores.
const STORED_TAIL: &[u8] = br#","synced_at":null}"#;

impl JsonRecords {
    /// An empty set with room for about `records` records of `bytes` in all.
    pub fn with_capacity(records: usize, bytes: usize) -> Self {
        JsonRecords { buf: Vec::with_capacity(bytes), ends: Vec::with_capacity(records) }
    }

    /// How many records.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Total JSON bytes.
    pub fn byte_len(&self) -> usize {
        self.buf.len()
    }

    /// The `i`-th record's JSON object.
    pub fn get(&self, i: usize) -> Option<&[u8]> {
        let end = *self.ends.get(i)?;
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        Some(&self.buf[start..end])
    }

    /// Every record's JSON object, in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &[u8]> + '_ {
        (0..self.ends.len()).map(move |i| {
            let start = if i == 0 { 0 } else { self.ends[i - 1] };
            &self.buf[start..self.ends[i]]
        })
    }

    /// Append a record, serialised.
    pub fn push_record(&mut self, r: &CallRecord) -> Result<(), StoreError> {
        serde_json::to_writer(&mut self.buf, r)
            .map_err(|e| StoreError::Db(format!("record {} cannot be serialised: {e}", r.id)))?;
        self.ends.push(self.buf.len());
        Ok(())
    }

    /// Append a record from its stored body and `synced_at` (Unix milliseconds).
    pub(crate) fn push_stored(&mut self, id: &str, body: &[u8], synced_ms: i64) -> Result<(), StoreError> {
        let start = self.buf.len();
        if let Err(e) = content::unpack_into(id, body, &mut self.buf) {
            self.buf.truncate(start);
            return Err(e);
        }
        if self.buf[start..].ends_with(STORED_TAIL) {
            // `null}` → `"2024-03-01T08:00:00Z"}`, exactly as serde_json writes an instant.
            self.buf.truncate(self.buf.len() - b"null}".len());
            write!(self.buf, "\"{}\"}}", content::millis(synced_ms)).map_err(|e| StoreError::Db(e.to_string()))?;
            self.ends.push(self.buf.len());
            return Ok(());
        }
        let json = self.buf.split_off(start);
        let record = content::decode(id, &json, synced_ms)?;
        self.push_record(&record)
    }

    /// Append the records as one JSON array, `[{…},{…}]`.
    pub fn write_array(&self, out: &mut Vec<u8>) {
        out.reserve(self.buf.len() + self.ends.len() + 2);
        out.push(b'[');
        for (i, item) in self.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(item);
        }
        out.push(b']');
    }
}

/// Rows as stored (id, compressed body, `synced_at`), copied out of the database so
/// that unpacking them ([`StoredRows::into_json`]) can run apart from the query.
#[derive(Debug, Default)]
pub(crate) struct StoredRows {
    buf: Vec<u8>,
    /// Per row: where its id ends, where its body ends (in `buf`), its `synced_at`.
    rows: Vec<(usize, usize, i64)>,
}

impl StoredRows {
    /// Room for `rows` rows of about 1 KB.
    pub fn with_capacity(rows: usize) -> Self {
        StoredRows { buf: Vec::with_capacity(rows * 1024), rows: Vec::with_capacity(rows) }
    }

    /// Copy one row in.
    pub fn push(&mut self, id: &str, body: &[u8], synced_ms: i64) {
        self.buf.extend_from_slice(id.as_bytes());
        let id_end = self.buf.len();
        self.buf.extend_from_slice(body);
        self.rows.push((id_end, self.buf.len(), synced_ms));
    }

    /// How many rows.
    pub fn rows_len(&self) -> usize {
        self.rows.len()
    }

    /// Unpack every row into JSON (see [`JsonRecords::push_stored`]).
    pub fn into_json(self) -> Result<JsonRecords, StoreError> {
        let mut out = JsonRecords::with_capacity(self.rows.len(), self.buf.len() * 2);
        let mut start = 0;
        for &(id_end, body_end, synced_ms) in &self.rows {
            // Ids were copied in from `&str`s, so they are UTF-8.
            let id = std::str::from_utf8(&self.buf[start..id_end]).map_err(|e| StoreError::Db(e.to_string()))?;
            out.push_stored(id, &self.buf[id_end..body_end], synced_ms)?;
            start = body_end;
        }
        Ok(out)
    }
}

/// [`CallPage`] with the records already serialised.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JsonPage {
    /// The records, newest first.
    pub items: JsonRecords,
    /// Opaque cursor for the next page; `None` on the last page.
    pub next_cursor: Option<String>,
}

impl JsonPage {
    /// Serialise a decoded page (the fallback of backends without a pass-through path).
    pub fn from_page(page: &CallPage) -> Result<Self, StoreError> {
        let mut items = JsonRecords::with_capacity(page.items.len(), page.items.len() * 2048);
        for r in &page.items {
            items.push_record(r)?;
        }
        Ok(JsonPage { items, next_cursor: page.next_cursor.clone() })
    }

    /// The page as one JSON document, `{"items":[…],"next_cursor":…}`: the same bytes
    /// `serde_json` makes of the equivalent [`CallPage`].
    pub fn to_json(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.items.byte_len() + self.items.len() + 128);
        out.extend_from_slice(br#"{"items":"#);
        self.items.write_array(&mut out);
        out.extend_from_slice(br#","next_cursor":"#);
        // A string (or null) always serialises.
        let _ = serde_json::to_writer(&mut out, &self.next_cursor);
        out.push(b'}');
        out
    }
}

/// Records per page of [`serialise_stream`].
const STREAM_PAGE: usize = 1000;

/// The default [`crate::Store::export_json`]: decoded records serialised a page at a
/// time. The records before a failure are still handed out, then the failure.
pub(crate) fn serialise_stream(
    records: BoxStream<'static, Result<CallRecord, StoreError>>,
) -> BoxStream<'static, Result<JsonRecords, StoreError>> {
    records
        .ready_chunks(STREAM_PAGE)
        .flat_map(|chunk| {
            let mut out = JsonRecords::with_capacity(chunk.len(), chunk.len() * 2048);
            let mut failure = None;
            for r in chunk {
                if let Err(e) = r.and_then(|r| out.push_record(&r)) {
                    failure = Some(e);
                    break;
                }
            }
            let page = (!out.is_empty()).then_some(Ok(out));
            futures::stream::iter(page.into_iter().chain(failure.map(Err)))
        })
        .boxed()
}

#[cfg(test)]
mod tests {
    use super::*;
    use huadan_model::{Agent, Provider, Sentence, Transcript, TranscriptStatus};

    fn rich(i: u64) -> CallRecord {
        let mut r =
            CallRecord::new("s", Provider::TencentCcc, &format!("id-{i}"), "2024-03-01T08:00:00Z".parse().unwrap());
        r.caller.number = Some("13812348000".into());
        r.remark = Some("客户说\"好的\",\n明天\u{1}再打".into());
        r.agent = Some(Agent { id: Some("a1".into()), name: Some("坐席".into()), ..Agent::default() });
        r.transcript = Some(Transcript {
            status: TranscriptStatus::Done,
            sentences: vec![Sentence { text: "您好".into(), ..Sentence::default() }],
        });
        r.raw = serde_json::from_str(r#"{"z":1,"a":[1.5,"x",null],"中":{"k":true},"big":12345678901234567}"#).unwrap();
        r
    }

    #[test]
    fn pass_through_equals_decode_then_serialise() {
        for synced_ms in [0, 1_709_280_000_123, 1_709_280_000_000] {
            let e = content::encode(rich(1)).unwrap();
            let mut fast = JsonRecords::default();
            fast.push_stored(&e.id, &e.body, synced_ms).unwrap();
            let decoded = content::decode(&e.id, &e.body, synced_ms).unwrap();
            assert_eq!(fast.get(0).unwrap(), serde_json::to_vec(&decoded).unwrap().as_slice());
        }
    }

    #[test]
    fn other_layouts_are_decoded_and_reserialised() {
        // A plain (uncompressed) body whose members are in another order.
        let mut v = serde_json::to_value(rich(2)).unwrap();
        let synced = v.as_object_mut().unwrap().shift_remove("synced_at").unwrap();
        assert!(synced.is_null());
        let mut obj = serde_json::Map::new();
        obj.insert("synced_at".into(), serde_json::Value::Null);
        obj.extend(v.as_object().unwrap().clone());
        let body = serde_json::to_vec(&obj).unwrap();
        let mut out = JsonRecords::default();
        out.push_stored("s:id-2", &body, 5_000).unwrap();
        let want = content::decode("s:id-2", &body, 5_000).unwrap();
        assert_eq!(out.get(0).unwrap(), serde_json::to_vec(&want).unwrap().as_slice());
    }

    #[test]
    fn stored_rows_unpack_like_pushing_them_one_by_one() {
        let mut rows = StoredRows::with_capacity(2);
        let mut direct = JsonRecords::default();
        for i in 0..3 {
            let e = content::encode(rich(i)).unwrap();
            rows.push(&e.id, &e.body, 1_000 + i as i64);
            direct.push_stored(&e.id, &e.body, 1_000 + i as i64).unwrap();
        }
        assert_eq!(rows.into_json().unwrap(), direct);
        assert!(StoredRows::default().into_json().unwrap().is_empty());
    }

    #[test]
    fn corrupt_body_is_an_error_not_output() {
        let mut out = JsonRecords::default();
        let err = out.push_stored("x", b"Z\xff\xff\xff\xff\xff", 0).unwrap_err();
        assert!(matches!(err, StoreError::Corrupt { .. }), "{err}");
        assert!(out.is_empty());
    }

    #[tokio::test]
    async fn default_stream_hands_out_the_records_before_a_failure() {
        let records: Vec<Result<CallRecord, StoreError>> =
            vec![Ok(rich(1)), Ok(rich(2)), Err(StoreError::Db("gone".into())), Ok(rich(3))];
        let pages: Vec<_> = serialise_stream(futures::stream::iter(records).boxed()).collect().await;
        assert_eq!(pages.len(), 2, "{pages:?}");
        assert_eq!(pages[0].as_ref().unwrap().len(), 2);
        assert!(matches!(pages[1], Err(StoreError::Db(_))));
    }

    #[test]
    fn page_document_matches_serde() {
        let records: Vec<_> = (0..3).map(rich).collect();
        for next_cursor in [None, Some("abc\"".to_string())] {
            let page = CallPage { items: records.clone(), next_cursor };
            let json = JsonPage::from_page(&page).unwrap();
            assert_eq!(json.items.len(), 3);
            assert_eq!(json.to_json(), serde_json::to_vec(&page).unwrap());
        }
        let empty = CallPage::default();
        assert_eq!(JsonPage::from_page(&empty).unwrap().to_json(), serde_json::to_vec(&empty).unwrap());
    }
}
