//! Reading records as they are stored (columns, hash and compressed body), for
//! `huadan copy`: the rows go to another store without being decoded into records and
//! serialised again, which is most of the cost of a copy.

use crate::StoreError;
use crate::content::Encoded;
use crate::cursor::{self, Position};
use huadan_model::{Direction, Disposition, Provider};
use rusqlite::{Connection, Row};

/// A page of stored records, newest first, as [`super::SqliteStore::stored_page`] reads
/// them; written elsewhere by [`crate::PgStore::commit_stored`].
pub struct StoredPage {
    pub(crate) rows: Vec<Encoded>,
    next_cursor: Option<String>,
}

impl StoredPage {
    /// How many records the page holds.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether the page is empty.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Where the next page starts (the same cursors as [`crate::Store::calls`] pages
    /// over every record); `None` after the last page.
    pub fn next_cursor(&self) -> Option<&str> {
        self.next_cursor.as_deref()
    }
}

fn db(e: rusqlite::Error) -> StoreError {
    StoreError::Db(e.to_string())
}

/// The `&'static` name of a stored enum value, or a corrupt-row error.
fn known<T: Copy>(all: &[T], name: fn(T) -> &'static str, value: &str, id: &str) -> Result<&'static str, StoreError> {
    all.iter()
        .map(|v| name(*v))
        .find(|n| *n == value)
        .ok_or_else(|| StoreError::Corrupt { id: id.into(), message: format!("unknown value `{value}`") })
}

fn row(r: &Row<'_>) -> Result<Encoded, StoreError> {
    let id: String = r.get(0).map_err(db)?;
    let provider: String = r.get(2).map_err(db)?;
    let direction: String = r.get(4).map_err(db)?;
    let disposition: String = r.get(5).map_err(db)?;
    let hash: Vec<u8> = r.get(11).map_err(db)?;
    let hash: [u8; 16] = hash
        .try_into()
        .map_err(|_| StoreError::Corrupt { id: id.clone(), message: "content hash is not 16 bytes".into() })?;
    Ok(Encoded {
        provider: known(Provider::ALL, Provider::as_str, &provider, &id)?,
        direction: known(Direction::ALL, Direction::as_str, &direction, &id)?,
        disposition: known(Disposition::ALL, Disposition::as_str, &disposition, &id)?,
        source: r.get(1).map_err(db)?,
        started_ms: r.get(3).map_err(db)?,
        agent_id: r.get(6).map_err(db)?,
        agent_name: r.get(7).map_err(db)?,
        caller_number: r.get(8).map_err(db)?,
        callee_number: r.get(9).map_err(db)?,
        talk_seconds: r.get(10).map_err(db)?,
        hash,
        body: r.get(12).map_err(db)?,
        transcript: r.get(13).map_err(db)?,
        id,
    })
}

/// Up to `limit` stored records after `after` (a cursor), newest first.
pub(crate) fn page(conn: &Connection, after: Option<&str>, limit: usize) -> Result<StoredPage, StoreError> {
    let after: Option<Position> = after.map(cursor::decode).transpose()?;
    let (ms, id) = match &after {
        Some(p) => (p.started_ms, p.id.as_str()),
        None => (i64::MAX, ""),
    };
    let lim = i64::try_from(limit.saturating_add(1)).unwrap_or(i64::MAX);
    // Two statements, so that each walks `calls_started` backwards from where it starts.
    const COLUMNS: &str = "SELECT c.id, c.source, c.provider, c.started_at, c.direction, c.disposition,
            c.agent_id, c.agent_name, c.caller_number, c.callee_number, c.talk_seconds, c.content_hash,
            b.record, t.text";
    const TAIL: &str = "ORDER BY c.started_at DESC, c.id DESC LIMIT ?3) c
         JOIN call_bodies b ON b.seq = c.seq
         LEFT JOIN call_transcripts t ON t.seq = c.seq
         ORDER BY c.started_at DESC, c.id DESC";
    let sql = match after {
        Some(_) => format!("{COLUMNS} FROM (SELECT * FROM calls c WHERE (c.started_at, c.id) < (?1, ?2) {TAIL}"),
        None => format!("{COLUMNS} FROM (SELECT * FROM calls c WHERE ?1 IS NOT NULL AND ?2 IS NOT NULL {TAIL}"),
    };
    let mut st = conn.prepare_cached(&sql).map_err(db)?;
    let mut rows = st.query(rusqlite::params![ms, id, lim]).map_err(db)?;
    let mut out = Vec::with_capacity(limit.min(100_000));
    let mut more = false;
    while let Some(r) = rows.next().map_err(db)? {
        if out.len() == limit {
            more = true;
            break;
        }
        out.push(row(r)?);
    }
    // The bodies leave this store as they are: their dictionaries must be known to
    // the process (an unknown one makes the store load them and read again).
    for r in &out {
        crate::packing::check_known(&r.id, &r.body)?;
    }
    let next_cursor = if more {
        out.last().map(|r: &Encoded| cursor::encode(&Position { started_ms: r.started_ms, id: r.id.clone() }))
    } else {
        None
    };
    Ok(StoredPage { rows: out, next_cursor })
}
