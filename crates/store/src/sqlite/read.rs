//! The read path: pages, single records, counts, sync state and the stats scan.

use super::filter::{self, Where};
use super::{EXPORT_PAGE, SqliteStore};
use crate::aggregate::Aggregator;
use crate::content;
use crate::cursor::{self, Position};
use crate::json::StoredRows;
use crate::{
    CallFilter, CallPage, CallQuery, GroupBy, JsonPage, JsonRecords, SourceStatus, StatsRow, StoreError, SyncState,
};
use futures::StreamExt;
use futures::stream::{self, BoxStream};
use huadan_model::CallRecord;
use rusqlite::{Connection, OptionalExtension, params_from_iter};
use std::collections::BTreeMap;
use std::sync::Arc;

fn db(e: rusqlite::Error) -> StoreError {
    StoreError::Db(e.to_string())
}

/// Default page size when the query says 0.
pub(crate) const DEFAULT_LIMIT: usize = 50;

/// One page, newest first.
pub(crate) fn calls(conn: &Connection, q: &CallQuery) -> Result<CallPage, StoreError> {
    let after = q.cursor.as_deref().map(cursor::decode).transpose()?;
    page(conn, &q.filter, after.as_ref(), if q.limit == 0 { DEFAULT_LIMIT } else { q.limit })
}

/// One page after `after` (exclusive).
pub(crate) fn page(
    conn: &Connection,
    f: &CallFilter,
    after: Option<&Position>,
    limit: usize,
) -> Result<CallPage, StoreError> {
    let mut items = Vec::with_capacity(limit.min(1024));
    let (_, next_cursor) = page_rows(conn, f, after, limit, |id, body, synced_ms| {
        items.push(content::decode(id, body, synced_ms)?);
        Ok(())
    })?;
    Ok(CallPage { items, next_cursor })
}

/// [`calls`], the stored bodies passed through as JSON.
pub(crate) fn calls_json(conn: &Connection, q: &CallQuery) -> Result<JsonPage, StoreError> {
    let after = q.cursor.as_deref().map(cursor::decode).transpose()?;
    let limit = if q.limit == 0 { DEFAULT_LIMIT } else { q.limit };
    let mut items = JsonRecords::with_capacity(limit.min(1024), limit.min(1024) * 2048);
    let (_, next_cursor) = page_rows(conn, &q.filter, after.as_ref(), limit, |id, body, synced_ms| {
        items.push_stored(id, body, synced_ms)
    })?;
    Ok(JsonPage { items, next_cursor })
}

/// Run the page query and hand each row's id, stored body and `synced_at` to `each`;
/// returns the last row's position and the next page's cursor (when there is more).
fn page_rows(
    conn: &Connection,
    f: &CallFilter,
    after: Option<&Position>,
    limit: usize,
    mut each: impl FnMut(&str, &[u8], i64) -> Result<(), StoreError>,
) -> Result<(Option<Position>, Option<String>), StoreError> {
    let mut w: Where = filter::build(f);
    if let Some(p) = after {
        w.and_clause(|w| {
            let ms = w.param(p.started_ms);
            let id = w.param(p.id.clone());
            format!("(c.started_at, c.id) < ({ms}, {id})")
        });
    }
    let lim = w.param((limit.saturating_add(1)).min(i64::MAX as usize) as i64);
    // Pick the page's rows on the narrow table first, then fetch only their bodies.
    let sql = format!(
        "SELECT c.id, c.started_at, c.synced_at, b.record
         FROM (SELECT c.seq, c.id, c.started_at, c.synced_at FROM calls c WHERE {}
               ORDER BY c.started_at DESC, c.id DESC LIMIT {lim}) c
         JOIN call_bodies b ON b.seq = c.seq
         ORDER BY c.started_at DESC, c.id DESC",
        w.sql()
    );
    let mut st = conn.prepare_cached(&sql).map_err(db)?;
    let mut rows = st.query(params_from_iter(w.params.iter())).map_err(db)?;
    let mut n = 0usize;
    let mut last = Position { started_ms: 0, id: String::new() };
    let mut more = false;
    while let Some(row) = rows.next().map_err(db)? {
        if n == limit {
            more = true;
            break;
        }
        let id = row.get_ref(0).map_err(db)?.as_str().map_err(|e| StoreError::Db(e.to_string()))?;
        let synced_ms: i64 = row.get(2).map_err(db)?;
        let body = row
            .get_ref(3)
            .map_err(db)?
            .as_bytes()
            .map_err(|e| StoreError::Corrupt { id: id.into(), message: e.to_string() })?;
        each(id, body, synced_ms)?;
        // Only the last row's position is kept: one reused string, not one per row.
        last.id.clear();
        last.id.push_str(id);
        last.started_ms = row.get(1).map_err(db)?;
        n += 1;
    }
    let last = (n > 0).then_some(last);
    let next_cursor = if more { last.as_ref().map(cursor::encode) } else { None };
    Ok((last, next_cursor))
}

/// [`crate::Store::export_json`]: keyset pages of [`EXPORT_PAGE`] rows. Each page's
/// query runs on the blocking pool and only copies the stored rows out; unpacking them
/// into JSON runs on another blocking thread, up to two pages at once, while the next
/// page is queried (the query alone keeps one thread busy). Memory stays flat however
/// many rows match.
pub(crate) fn export_json(
    store: SqliteStore,
    filter: CallFilter,
) -> BoxStream<'static, Result<JsonRecords, StoreError>> {
    struct S {
        store: SqliteStore,
        filter: Arc<CallFilter>,
        after: Option<Position>,
        done: bool,
    }
    let start = S { store, filter: Arc::new(filter), after: None, done: false };
    stream::unfold(start, |mut s| async move {
        if s.done {
            return None;
        }
        let (filter, after) = (s.filter.clone(), s.after.take());
        let res = s.store.read(move |c| stored_page(c, &filter, after.as_ref(), EXPORT_PAGE)).await;
        match res {
            Ok((rows, last, more)) => {
                s.done = !more;
                s.after = last;
                if rows.rows_len() == 0 { None } else { Some((Ok(rows), s)) }
            }
            Err(e) => {
                s.done = true;
                Some((Err(e), s))
            }
        }
    })
    // The page is decompressed on a blocking thread started here, as soon as the page
    // is read, not inside the future `buffered` queues: `buffered` hands out a finished
    // page without polling the futures queued behind it, so a task started inside them
    // would only begin when the consumer asks for the next page, and the next page
    // would not be decompressed while the consumer handles this one.
    .map(|rows: Result<StoredRows, StoreError>| {
        let task = rows.map(|rows| tokio::task::spawn_blocking(move || rows.into_json()));
        async move { task?.await.map_err(super::join_err)? }
    })
    .buffered(2)
    .boxed()
}

/// One page after `after`, its rows copied out as stored, with the position of its
/// last row and whether more follow.
fn stored_page(
    conn: &Connection,
    f: &CallFilter,
    after: Option<&Position>,
    limit: usize,
) -> Result<(StoredRows, Option<Position>, bool), StoreError> {
    let mut rows = StoredRows::with_capacity(limit.min(1024));
    let (last, next_cursor) = page_rows(conn, f, after, limit, |id, body, synced_ms| {
        // Decompressed later, on another thread: its dictionary must be known by then.
        crate::packing::check_known(id, body)?;
        rows.push(id, body, synced_ms);
        Ok(())
    })?;
    Ok((rows, last, next_cursor.is_some()))
}

/// One record by id.
pub(crate) fn call(conn: &Connection, id: &str) -> Result<Option<CallRecord>, StoreError> {
    let Some(seq) = super::ids::find_seq(conn, id)? else { return Ok(None) };
    let found: Option<(i64, Vec<u8>)> = conn
        .prepare_cached(
            "SELECT c.synced_at, b.record FROM calls c JOIN call_bodies b ON b.seq = c.seq WHERE c.seq = ?1",
        )
        .map_err(db)?
        .query_row([seq], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()
        .map_err(db)?;
    found.map(|(synced, body)| content::decode(id, &body, synced)).transpose()
}

/// How many records match.
pub(crate) fn count(conn: &Connection, f: &CallFilter) -> Result<u64, StoreError> {
    let w = filter::build(f);
    let sql = format!("SELECT count(*) FROM calls c WHERE {}", w.sql());
    let n: i64 = conn
        .prepare_cached(&sql)
        .map_err(db)?
        .query_row(params_from_iter(w.params.iter()), |r| r.get(0))
        .map_err(db)?;
    Ok(n.max(0) as u64)
}

fn decode_state(source: &str, json: &str) -> Result<SyncState, StoreError> {
    serde_json::from_str(json)
        .map_err(|e| StoreError::Corrupt { id: format!("sync state of {source}"), message: e.to_string() })
}

/// One source's state.
pub(crate) fn load_state(conn: &Connection, source: &str) -> Result<Option<SyncState>, StoreError> {
    let json: Option<String> = conn
        .prepare_cached("SELECT state FROM sync_state WHERE source = ?1")
        .map_err(db)?
        .query_row([source], |r| r.get(0))
        .optional()
        .map_err(db)?;
    json.map(|j| decode_state(source, &j)).transpose()
}

/// Every source with a state or records, by name.
pub(crate) fn sources(conn: &Connection) -> Result<Vec<SourceStatus>, StoreError> {
    let mut out: BTreeMap<String, SourceStatus> = BTreeMap::new();
    let mut st = conn.prepare_cached("SELECT source, state FROM sync_state").map_err(db)?;
    let mut rows = st.query([]).map_err(db)?;
    while let Some(row) = rows.next().map_err(db)? {
        let source: String = row.get(0).map_err(db)?;
        let json = row
            .get_ref(1)
            .map_err(db)?
            .as_str()
            .map_err(|e| StoreError::Corrupt { id: format!("sync state of {source}"), message: e.to_string() })?;
        let state = decode_state(&source, json)?;
        out.insert(source, SourceStatus { state, records: 0 });
    }
    let mut st = conn.prepare_cached("SELECT source, count(*) FROM calls GROUP BY source").map_err(db)?;
    let mut rows = st.query([]).map_err(db)?;
    while let Some(row) = rows.next().map_err(db)? {
        let source: String = row.get(0).map_err(db)?;
        let n: i64 = row.get(1).map_err(db)?;
        out.entry(source.clone())
            .or_insert_with(|| SourceStatus { state: SyncState { source, ..SyncState::default() }, records: 0 })
            .records = n.max(0) as u64;
    }
    Ok(out.into_values().collect())
}

/// Stream the matching rows' few columns through an [`Aggregator`].
pub(crate) fn stats(
    conn: &Connection,
    f: &CallFilter,
    by: GroupBy,
    tz: &jiff::tz::TimeZone,
) -> Result<Vec<StatsRow>, StoreError> {
    let mut agg = Aggregator::new(by, tz);
    let key = match by {
        GroupBy::Provider => "c.provider",
        GroupBy::Source => "c.source",
        GroupBy::Agent => "c.agent_id",
        GroupBy::Disposition => "c.disposition",
        GroupBy::Day | GroupBy::Hour | GroupBy::Weekday => "NULL",
    };
    let label = if by == GroupBy::Agent { "c.agent_name" } else { "NULL" };
    let w = filter::build(f);
    let sql = format!(
        "SELECT {key}, {label}, c.started_at, c.disposition = '{answered}', c.talk_seconds FROM calls c WHERE {}",
        w.sql(),
        answered = content::ANSWERED
    );
    let mut st = conn.prepare_cached(&sql).map_err(db)?;
    let mut rows = st.query(params_from_iter(w.params.iter())).map_err(db)?;
    while let Some(row) = rows.next().map_err(db)? {
        let k = row.get_ref(0).map_err(db)?.as_str_or_null().map_err(|e| StoreError::Db(e.to_string()))?;
        let l = row.get_ref(1).map_err(db)?.as_str_or_null().map_err(|e| StoreError::Db(e.to_string()))?;
        let started: i64 = row.get(2).map_err(db)?;
        let answered: bool = row.get(3).map_err(db)?;
        let talk: Option<i64> = row.get(4).map_err(db)?;
        agg.push(k, l, started, answered, talk);
    }
    Ok(agg.finish())
}

/// [`crate::Store::rollup`]: one pass over the matching rows (the covering index
/// `calls_range_cover` holds every column read), bucketed here.
pub(crate) fn rollup(conn: &Connection, f: &CallFilter) -> Result<Vec<crate::RollupCell>, StoreError> {
    use huadan_model::Provider;
    use std::collections::HashMap;
    let slot_ms = crate::ROLLUP_SLOT_SECONDS * 1000;
    let w = filter::build(f);
    let sql = format!(
        "SELECT c.started_at, c.provider, c.direction = 'inbound', c.disposition = '{answered}', c.talk_seconds FROM calls c WHERE {}",
        w.sql(),
        answered = content::ANSWERED
    );
    let mut st = conn.prepare_cached(&sql).map_err(db)?;
    let mut rows = st.query(params_from_iter(w.params.iter())).map_err(db)?;
    // Key: (slot, provider index, inbound, answered) → (calls, talk).
    let mut cells: HashMap<(i64, u8, bool, bool), (u64, i64)> = HashMap::new();
    while let Some(row) = rows.next().map_err(db)? {
        let started: i64 = row.get(0).map_err(db)?;
        let provider = row.get_ref(1).map_err(db)?.as_str().map_err(|e| StoreError::Db(e.to_string()))?;
        let Some(p) = Provider::ALL.iter().position(|x| x.as_str() == provider) else {
            return Err(StoreError::Corrupt {
                id: format!("a row started at {started}"),
                message: format!("unknown provider `{provider}`"),
            });
        };
        let inbound: bool = row.get(2).map_err(db)?;
        let answered: bool = row.get(3).map_err(db)?;
        let talk: Option<i64> = row.get(4).map_err(db)?;
        let e = cells.entry((started.div_euclid(slot_ms), p as u8, inbound, answered)).or_default();
        e.0 += 1;
        e.1 += talk.unwrap_or(0);
    }
    let mut out: Vec<crate::RollupCell> = cells
        .into_iter()
        .map(|((slot, p, inbound, answered), (calls, talk_seconds))| crate::RollupCell {
            slot_start: content::millis(slot * slot_ms),
            provider: Provider::ALL[usize::from(p)],
            inbound,
            answered,
            calls,
            talk_seconds,
        })
        .collect();
    out.sort_by(|a, b| {
        (a.slot_start, a.provider, a.inbound, a.answered).cmp(&(b.slot_start, b.provider, b.inbound, b.answered))
    });
    Ok(out)
}

#[cfg(test)]
mod tests {
    use crate::{Batch, CallFilter, CallQuery, SqliteStore, Store};
    use futures::StreamExt;
    use huadan_model::{CallRecord, Provider};

    #[tokio::test]
    async fn json_export_and_pages_match_the_decoding_path_across_pages() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path().join("t.db")).await.unwrap();
        let n = super::EXPORT_PAGE * 2 + 345;
        let records: Vec<CallRecord> = (0..n)
            .map(|i| {
                let started = huadan_model::Instant::from_second(1_700_000_000 + (i as i64 / 3)).unwrap();
                let mut r = CallRecord::new("s", Provider::Tanma, &format!("c{i:05}"), started);
                r.remark = Some(format!("备注 \"{i}\""));
                r
            })
            .collect();
        store.commit(Batch { source: "s".into(), records, state: None }).await.unwrap();

        let decoded: Vec<CallRecord> =
            store.export(CallFilter::default()).map(|r| r.unwrap()).collect::<Vec<_>>().await;
        let pages: Vec<_> = store.export_json(CallFilter::default()).map(|p| p.unwrap()).collect().await;
        assert_eq!(pages.len(), 3);
        let json: Vec<Vec<u8>> = pages.iter().flat_map(|p| p.iter().map(<[u8]>::to_vec)).collect();
        assert_eq!(json.len(), n);
        for (j, r) in json.iter().zip(&decoded) {
            assert_eq!(j, &serde_json::to_vec(r).unwrap());
        }

        // Pages through the API's path: same records, same cursors.
        let mut q = CallQuery { filter: CallFilter::default(), limit: 700, cursor: None };
        let mut seen = 0;
        loop {
            let fast = store.calls_json(&q).await.unwrap();
            let slow = store.calls(&q).await.unwrap();
            assert_eq!(fast.to_json(), serde_json::to_vec(&slow).unwrap());
            seen += fast.items.len();
            match fast.next_cursor {
                Some(c) => q.cursor = Some(c),
                None => break,
            }
        }
        assert_eq!(seen, n);
    }
}
