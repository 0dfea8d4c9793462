//! The write path: one transaction per batch, records and sync state together.

use crate::content::Encoded;
use crate::{StoreError, SyncState, WriteStats};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

fn db(e: rusqlite::Error) -> StoreError {
    StoreError::Db(e.to_string())
}

/// Upsert `records` and replace `source`'s state (when given) in one transaction.
/// A record whose stored hash equals its new hash is left untouched (its `synced_at`
/// too); a changed one is updated in place with `synced_at = now_ms`.
pub(crate) fn commit(
    conn: &mut Connection,
    source: &str,
    records: &[Encoded],
    state: Option<&SyncState>,
    now_ms: i64,
) -> Result<WriteStats, StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(db)?;
    let mut stats = WriteStats::default();
    {
        let mut find = tx.prepare_cached("SELECT seq, content_hash FROM calls WHERE id = ?1").map_err(db)?;
        let mut insert = tx
            .prepare_cached(
                "INSERT INTO calls (id, source, provider, started_at, direction, disposition, agent_id, agent_name,
                                    caller_number, callee_number, talk_seconds, content_hash, synced_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
                 ON CONFLICT (id) DO NOTHING",
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
            // Most records of a sync are new: try the insert first; only on a conflict
            // look the row up and compare hashes.
            let inserted = insert
                .execute(params![
                    r.id,
                    r.source,
                    r.provider,
                    r.started_ms,
                    r.direction,
                    r.disposition,
                    r.agent_id,
                    r.agent_name,
                    r.caller_number,
                    r.callee_number,
                    r.talk_seconds,
                    &r.hash[..],
                    now_ms
                ])
                .map_err(|e| record_error(&r.id, e))?;
            let seq = if inserted == 1 {
                stats.inserted += 1;
                tx.last_insert_rowid()
            } else {
                let (seq, hash): (i64, Vec<u8>) =
                    find.query_row([&r.id], |row| Ok((row.get(0)?, row.get(1)?))).map_err(db)?;
                if hash.as_slice() == r.hash {
                    stats.unchanged += 1;
                    continue;
                }
                update
                    .execute(params![
                        seq,
                        r.source,
                        r.provider,
                        r.started_ms,
                        r.direction,
                        r.disposition,
                        r.agent_id,
                        r.agent_name,
                        r.caller_number,
                        r.callee_number,
                        r.talk_seconds,
                        &r.hash[..],
                        now_ms
                    ])
                    .map_err(|e| record_error(&r.id, e))?;
                let old: Option<String> = old_text.query_row([seq], |row| row.get(0)).optional().map_err(db)?;
                if let Some(old) = old {
                    fts_del.execute(params![seq, old]).map_err(db)?;
                    del_text.execute([seq]).map_err(db)?;
                }
                stats.updated += 1;
                seq
            };
            put_body.execute(params![seq, r.body]).map_err(db)?;
            if let Some(text) = &r.transcript {
                put_text.execute(params![seq, text]).map_err(db)?;
                fts_put.execute(params![seq, text]).map_err(db)?;
            }
        }
    }
    if let Some(state) = state {
        write_state(&tx, source, state, now_ms)?;
    }
    tx.commit().map_err(db)?;
    Ok(stats)
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
