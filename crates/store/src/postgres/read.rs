//! The read path: pages, single records, counts, sync state and the stats scan.

use super::db;
use super::filter::{self, Where};
use crate::aggregate::Aggregator;
use crate::content;
use crate::cursor::{self, Position};
use crate::{CallFilter, CallPage, CallQuery, GroupBy, SourceStatus, StatsRow, StoreError, SyncState};
use futures::{StreamExt, pin_mut};
use huadan_model::CallRecord;
use std::collections::BTreeMap;
use tokio_postgres::Client;

/// Default page size when the query says 0.
pub(crate) const DEFAULT_LIMIT: usize = 50;

/// One page, newest first.
pub(crate) async fn calls(c: &Client, q: &CallQuery) -> Result<CallPage, StoreError> {
    let after = q.cursor.as_deref().map(cursor::decode).transpose()?;
    page(c, &q.filter, after.as_ref(), if q.limit == 0 { DEFAULT_LIMIT } else { q.limit }).await
}

/// One page after `after` (exclusive).
pub(crate) async fn page(
    c: &Client,
    f: &CallFilter,
    after: Option<&Position>,
    limit: usize,
) -> Result<CallPage, StoreError> {
    let mut w: Where = filter::build(f);
    if let Some(p) = after {
        w.and_clause(|w| {
            let ms = w.param(p.started_ms);
            let id = w.param(p.id.clone());
            format!("(c.started_at, c.id) < ({ms}, {id})")
        });
    }
    let lim = w.param((limit.saturating_add(1)).min(i64::MAX as usize) as i64);
    let sql = format!(
        "SELECT c.id, c.started_at, c.synced_at, c.record FROM calls c WHERE {}
         ORDER BY c.started_at DESC, c.id DESC LIMIT {lim}",
        w.sql()
    );
    let rows = c.query(&sql, &w.refs()).await.map_err(db)?;
    let mut items = Vec::with_capacity(limit.min(rows.len()));
    let mut last: Option<Position> = None;
    let more = rows.len() > limit;
    for row in rows.iter().take(limit) {
        let id: String = row.get(0);
        let started_ms: i64 = row.get(1);
        let synced_ms: i64 = row.get(2);
        let body: &[u8] = row.get(3);
        items.push(content::decode(&id, body, synced_ms)?);
        last = Some(Position { started_ms, id });
    }
    let next_cursor = if more { last.as_ref().map(cursor::encode) } else { None };
    Ok(CallPage { items, next_cursor })
}

/// One record by id.
pub(crate) async fn call(c: &Client, id: &str) -> Result<Option<CallRecord>, StoreError> {
    let row = c.query_opt("SELECT synced_at, record FROM calls WHERE id = $1", &[&id]).await.map_err(db)?;
    row.map(|r| content::decode(id, r.get::<_, &[u8]>(1), r.get(0))).transpose()
}

/// How many records match.
pub(crate) async fn count(c: &Client, f: &CallFilter) -> Result<u64, StoreError> {
    let w = filter::build(f);
    let sql = format!("SELECT count(*) FROM calls c WHERE {}", w.sql());
    let n: i64 = c.query_one(&sql, &w.refs()).await.map_err(db)?.get(0);
    Ok(n.max(0) as u64)
}

fn decode_state(source: &str, json: &str) -> Result<SyncState, StoreError> {
    serde_json::from_str(json)
        .map_err(|e| StoreError::Corrupt { id: format!("sync state of {source}"), message: e.to_string() })
}

/// One source's state.
pub(crate) async fn load_state(c: &Client, source: &str) -> Result<Option<SyncState>, StoreError> {
    let row = c.query_opt("SELECT state FROM sync_state WHERE source = $1", &[&source]).await.map_err(db)?;
    row.map(|r| decode_state(source, r.get(0))).transpose()
}

/// Every source with a state or records, by name.
pub(crate) async fn sources(c: &Client) -> Result<Vec<SourceStatus>, StoreError> {
    let mut out: BTreeMap<String, SourceStatus> = BTreeMap::new();
    for row in c.query("SELECT source, state FROM sync_state", &[]).await.map_err(db)? {
        let source: String = row.get(0);
        let state = decode_state(&source, row.get(1))?;
        out.insert(source, SourceStatus { state, records: 0 });
    }
    for row in c.query("SELECT source, count(*) FROM calls GROUP BY source", &[]).await.map_err(db)? {
        let source: String = row.get(0);
        let n: i64 = row.get(1);
        out.entry(source.clone())
            .or_insert_with(|| SourceStatus { state: SyncState { source, ..SyncState::default() }, records: 0 })
            .records = n.max(0) as u64;
    }
    Ok(out.into_values().collect())
}

/// Stream the matching rows' few columns through an [`Aggregator`].
pub(crate) async fn stats(
    c: &Client,
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
        GroupBy::Day | GroupBy::Hour | GroupBy::Weekday => "NULL::text",
    };
    let label = if by == GroupBy::Agent { "c.agent_name" } else { "NULL::text" };
    let w = filter::build(f);
    let sql = format!(
        "SELECT {key}, {label}, c.started_at, c.disposition = '{answered}', c.talk_seconds FROM calls c WHERE {}",
        w.sql(),
        answered = content::ANSWERED
    );
    let rows = c.query_raw(&sql, w.refs()).await.map_err(db)?;
    pin_mut!(rows);
    while let Some(row) = rows.next().await {
        let row = row.map_err(db)?;
        let k: Option<&str> = row.get(0);
        let l: Option<&str> = row.get(1);
        agg.push(k, l, row.get(2), row.get(3), row.get(4));
    }
    Ok(agg.finish())
}

/// A `store_meta` value.
pub(crate) async fn meta(c: &Client, key: &str) -> Result<Option<String>, StoreError> {
    let row = c.query_opt("SELECT value FROM store_meta WHERE key = $1", &[&key]).await.map_err(db)?;
    Ok(row.map(|r| r.get(0)))
}

/// [`crate::Store::rollup`]: counted and summed by the server (`GROUP BY` over the
/// slot, provider, inbound and answered), so only the cells cross the wire.
pub(crate) async fn rollup(c: &Client, f: &CallFilter) -> Result<Vec<crate::RollupCell>, StoreError> {
    use huadan_model::Provider;
    let slot_ms = crate::ROLLUP_SLOT_SECONDS * 1000;
    let w = filter::build(f);
    // Floor division (a slot starts at or before its calls, also before 1970). The
    // slot width is a constant of this build, not input.
    let sql = format!(
        "SELECT (c.started_at - ((c.started_at % {slot_ms}) + {slot_ms}) % {slot_ms}) / {slot_ms} AS slot,
                c.provider, c.direction = 'inbound', c.disposition = '{answered}',
                count(*), coalesce(sum(c.talk_seconds), 0)::int8
         FROM calls c WHERE {} GROUP BY 1, 2, 3, 4",
        w.sql(),
        answered = content::ANSWERED
    );
    let rows = c.query(&sql, &w.refs()).await.map_err(db)?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let slot: i64 = row.get(0);
        let provider: &str = row.get(1);
        let Some(p) = Provider::ALL.iter().find(|x| x.as_str() == provider) else {
            return Err(StoreError::Corrupt {
                id: format!("a row in the slot starting at {}", slot * slot_ms),
                message: format!("unknown provider `{provider}`"),
            });
        };
        let calls: i64 = row.get(4);
        out.push(crate::RollupCell {
            slot_start: content::millis(slot * slot_ms),
            provider: *p,
            inbound: row.get(2),
            answered: row.get(3),
            calls: calls.max(0) as u64,
            talk_seconds: row.get(5),
        });
    }
    out.sort_by(|a, b| {
        (a.slot_start, a.provider, a.inbound, a.answered).cmp(&(b.slot_start, b.provider, b.inbound, b.answered))
    });
    Ok(out)
}
