//! The write path: one transaction per batch, records and sync state together.

use super::ids;
use crate::content::Encoded;
use crate::{StoreError, SyncState, WriteStats};
use rusqlite::{Connection, OptionalExtension, ToSql, TransactionBehavior, params};

fn db(e: rusqlite::Error) -> StoreError {
    StoreError::Db(e.to_string())
}

/// Upsert `records` and replace `source`'s state (when given) in one transaction.
/// A record whose stored hash equals its new hash is left untouched (its `synced_at`
/// too); a changed one is updated in place with `synced_at = now_ms`. Records may
/// still be arriving while the first are written; an `Err` among them rolls the whole
/// batch back. The records written are moved to `spent` rather than freed here: the
/// encoding threads allocated them, and freeing them on this thread made it wait for
/// the allocator's locks while those threads were allocating (see [`crate::content::free_later`]).
pub(crate) fn commit(
    conn: &mut Connection,
    id_cache: &mut ids::IdCache,
    source: &str,
    records: impl IntoIterator<Item = Result<Encoded, StoreError>>,
    state: Option<&SyncState>,
    now_ms: i64,
    spent: &mut Vec<Encoded>,
) -> Result<WriteStats, StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(db)?;
    let mut stats = WriteStats::default();
    let committed_ids = {
        let mut index = id_cache.begin(&tx)?;
        let mut stored_body = tx.prepare_cached("SELECT record FROM call_bodies WHERE seq = ?1").map_err(db)?;
        let mut insert = tx
            .prepare_cached(
                "INSERT INTO calls (id, source, provider, started_at, direction, disposition, agent_id, agent_name,
                                    caller_number, callee_number, talk_seconds, content_hash, synced_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
            )
            .map_err(db)?;
        let mut update = tx
            .prepare_cached(
                "UPDATE calls SET source = ?2, provider = ?3, started_at = ?4, direction = ?5, disposition = ?6,
                                  agent_id = ?7, agent_name = ?8, caller_number = ?9, callee_number = ?10,
                                  talk_seconds = ?11, content_hash = ?12, synced_at = ?13
                 WHERE seq = ?1",
            )
            .map_err(db)?;
        let mut put_body =
            tx.prepare_cached("INSERT OR REPLACE INTO call_bodies (seq, record) VALUES (?1, ?2)").map_err(db)?;
        // The FTS index is external-content: removing a row needs its old text.
        let mut old_text = tx.prepare_cached("SELECT text FROM call_transcripts WHERE seq = ?1").map_err(db)?;
        let mut del_text = tx.prepare_cached("DELETE FROM call_transcripts WHERE seq = ?1").map_err(db)?;
        let mut put_text = tx.prepare_cached("INSERT INTO call_transcripts (seq, text) VALUES (?1, ?2)").map_err(db)?;
        let mut fts_del = tx
            .prepare_cached("INSERT INTO calls_fts (calls_fts, rowid, text) VALUES ('delete', ?1, ?2)")
            .map_err(db)?;
        let mut fts_put = tx.prepare_cached("INSERT INTO calls_fts (rowid, text) VALUES (?1, ?2)").map_err(db)?;

        for r in records {
            let owned = r?;
            let r = &owned;
            'one: {
                let key = ids::hash(&r.id);
                // The incoming record with the stored archived paths carried over, if any.
                let mut carried = None;
                let seq = if let Some((seq, hash)) = index.find(key, &r.id)? {
                    if hash.as_slice() == r.hash {
                        stats.unchanged += 1;
                        break 'one;
                    }
                    let old: Vec<u8> = stored_body.query_row([seq], |row| row.get(0)).map_err(db)?;
                    super::dicts::ensure(&tx, &old)?;
                    carried = crate::archived::carry_over(r, &old)?;
                    let r = carried.as_ref().unwrap_or(r);
                    if hash.as_slice() == r.hash {
                        stats.unchanged += 1;
                        break 'one;
                    }
                    update.execute(&row_params(&seq, r, &now_ms)[..]).map_err(|e| record_error(&r.id, e))?;
                    let old: Option<String> = old_text.query_row([seq], |row| row.get(0)).optional().map_err(db)?;
                    if let Some(old) = old {
                        fts_del.execute(params![seq, old]).map_err(db)?;
                        del_text.execute([seq]).map_err(db)?;
                    }
                    stats.updated += 1;
                    seq
                } else {
                    insert.execute(&row_params(&r.id, r, &now_ms)[..]).map_err(|e| record_error(&r.id, e))?;
                    stats.inserted += 1;
                    let seq = tx.last_insert_rowid();
                    index.add(key, seq);
                    seq
                };
                let r = carried.as_ref().unwrap_or(r);
                put_body.execute(params![seq, r.body]).map_err(db)?;
                if let Some(text) = &r.transcript {
                    put_text.execute(params![seq, text]).map_err(db)?;
                    fts_put.execute(params![seq, text]).map_err(db)?;
                }
            }
            spent.push(owned);
        }
        index.finish()?
    };
    if let Some(state) = state {
        write_state(&tx, source, state, now_ms)?;
    }
    tx.commit().map_err(db)?;
    id_cache.committed(committed_ids);
    Ok(stats)
}

/// The 13 parameters shared by the insert (`?1` = id) and the update (`?1` = seq):
/// one list, so the two statements can never bind columns in different orders.
fn row_params<'a>(first: &'a dyn ToSql, r: &'a Encoded, now_ms: &'a i64) -> [&'a dyn ToSql; 13] {
    [
        first,
        &r.source,
        &r.provider,
        &r.started_ms,
        &r.direction,
        &r.disposition,
        &r.agent_id,
        &r.agent_name,
        &r.caller_number,
        &r.callee_number,
        &r.talk_seconds,
        &r.hash,
        now_ms,
    ]
}

fn record_error(id: &str, e: rusqlite::Error) -> StoreError {
    StoreError::Db(format!("record `{id}` cannot be written ({e}); the whole batch was rolled back"))
}

fn write_state(conn: &Connection, source: &str, state: &SyncState, now_ms: i64) -> Result<(), StoreError> {
    let mut state = state.clone();
    if state.source.is_empty() {
        state.source = source.to_string();
    }
    let json =
        serde_json::to_string(&state).map_err(|e| StoreError::Db(format!("sync state cannot be serialised: {e}")))?;
    conn.prepare_cached(
        "INSERT INTO sync_state (source, state, checkpoint, last_success, last_error, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (source) DO UPDATE SET state = excluded.state, checkpoint = excluded.checkpoint,
             last_success = excluded.last_success, last_error = excluded.last_error, updated_at = excluded.updated_at",
    )
    .and_then(|mut st| {
        st.execute(params![
            source,
            json,
            state.checkpoint.map(|t| t.as_millisecond()),
            state.last_success.map(|t| t.as_millisecond()),
            state.last_error,
            now_ms
        ])
    })
    .map_err(|e| {
        StoreError::Db(format!("sync state of `{source}` cannot be written ({e}); the whole batch was rolled back"))
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::encode_all;
    use crate::packing::Codebook;
    use huadan_model::{CallRecord, Provider};

    fn rec(n: usize, remark: &str) -> CallRecord {
        let mut r = CallRecord::new("s", Provider::Tanma, &format!("c{n}"), "2024-01-01T00:00:00Z".parse().unwrap());
        r.remark = Some(remark.into());
        r
    }

    fn db() -> Connection {
        let mut conn = Connection::open_in_memory().unwrap();
        super::super::migrate::migrate(&mut conn).unwrap();
        ids::attach(&conn, None).unwrap();
        ids::create(&conn).unwrap();
        conn
    }

    fn stored(conn: &Connection, id: &str) -> (i64, i64, Vec<u8>) {
        conn.query_row(
            "SELECT c.seq, c.synced_at, b.record FROM calls c JOIN call_bodies b USING (seq) WHERE c.id = ?1",
            [id],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
        )
        .unwrap()
    }

    #[test]
    fn a_large_batch_mixing_new_unchanged_changed_and_repeated_ids() {
        let mut conn = db();
        // 100 stored first: c0..c99.
        let first = encode_all((0..100).map(|n| rec(n, "v1")).collect(), &Codebook::new()).unwrap();
        let w =
            commit(&mut conn, &mut ids::IdCache::default(), "s", first.into_iter().map(Ok), None, 1, &mut Vec::new())
                .unwrap();
        assert_eq!((w.inserted, w.updated, w.unchanged), (100, 0, 0));
        let before = stored(&conn, "s:c5");

        // 200 records: c0..c99 again (c10..c19 changed), c100..c199 new, with c150
        // repeated inside the first chunk (changed) and c20 repeated later (same).
        let mut again: Vec<CallRecord> =
            (0..200).map(|n| rec(n, if (10..20).contains(&n) { "v2" } else { "v1" })).collect();
        again.insert(30, rec(150, "early"));
        again.push(rec(20, "v1"));
        let batch = encode_all(again, &Codebook::new()).unwrap();
        let w =
            commit(&mut conn, &mut ids::IdCache::default(), "s", batch.into_iter().map(Ok), None, 2, &mut Vec::new())
                .unwrap();
        // c150 is inserted by its first occurrence, then updated by the later one.
        assert_eq!((w.inserted, w.updated, w.unchanged), (100, 10 + 1, 90 + 1));
        assert_eq!(stored(&conn, "s:c5"), before, "unchanged rows are not touched");
        let count: i64 = conn.query_row("SELECT count(*) FROM calls", [], |r| r.get(0)).unwrap();
        assert_eq!(count, 200);
        let bodies: i64 = conn.query_row("SELECT count(*) FROM call_bodies", [], |r| r.get(0)).unwrap();
        assert_eq!(bodies, 200);
        for (id, remark, synced) in [("s:c15", "v2", 2), ("s:c150", "v1", 2), ("s:c120", "v1", 2), ("s:c50", "v1", 1)] {
            let (_, synced_at, body) = stored(&conn, id);
            let r = crate::content::decode(id, &body, synced_at).unwrap();
            assert_eq!((r.id.as_str(), r.remark.as_deref(), synced_at), (id, Some(remark), synced));
        }
    }

    #[test]
    fn a_bad_record_in_a_large_batch_is_named_and_nothing_is_kept() {
        let mut conn = db();
        let mut records: Vec<CallRecord> = (0..130).map(|n| rec(n, "v1")).collect();
        records[70].id = String::new(); // violates CHECK (length(id) > 0)
        let batch = encode_all(records, &Codebook::new()).unwrap();
        let err =
            commit(&mut conn, &mut ids::IdCache::default(), "s", batch.into_iter().map(Ok), None, 1, &mut Vec::new())
                .unwrap_err()
                .to_string();
        assert!(err.contains("record ``"), "{err}");
        let count: i64 = conn.query_row("SELECT count(*) FROM calls", [], |r| r.get(0)).unwrap();
        assert_eq!(count, 0);
    }
}
