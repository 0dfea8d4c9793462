//! The write path: one transaction per batch, records and sync state together.
//!
//! The records go in as ONE statement: columns bound as arrays and expanded with
//! `unnest`, merged with `INSERT … ON CONFLICT (id) DO UPDATE … WHERE the hash
//! differs`. Unchanged rows are not touched (their `synced_at` neither); `RETURNING`
//! says which rows were inserted and which updated.
//!
//! A large batch is written as a pipeline (see [`commit_records`]): sorted by id, cut
//! into chunks, each chunk serialised on a blocking thread while the server merges the
//! chunk before it, all in the batch's one transaction.

use super::db;
use crate::content::{self, Encoded};
use crate::{StoreError, SyncState, WriteStats};
use huadan_model::CallRecord;
use std::collections::HashMap;
use tokio_postgres::{Row, Transaction};

/// Records per statement when a batch is written in a pipeline (see [`commit_records`]).
const CHUNK: usize = 500;

const UPSERT: &str = "
INSERT INTO calls AS c (id, source, provider, started_at, direction, disposition, agent_id, agent_name,
                        caller_number, callee_number, talk_seconds, content_hash, synced_at, record, transcript)
SELECT t.id, t.source, t.provider, t.started_at, t.direction, t.disposition, t.agent_id, t.agent_name,
       t.caller_number, t.callee_number, t.talk_seconds, t.content_hash, $13, t.record, t.transcript
FROM unnest($1::text[], $2::text[], $3::text[], $4::int8[], $5::text[], $6::text[], $7::text[], $8::text[],
            $9::text[], $10::text[], $11::int8[], $12::bytea[], $14::bytea[], $15::text[])
     AS t(id, source, provider, started_at, direction, disposition, agent_id, agent_name,
          caller_number, callee_number, talk_seconds, content_hash, record, transcript)
ON CONFLICT (id) DO UPDATE SET
    source = excluded.source, provider = excluded.provider, started_at = excluded.started_at,
    direction = excluded.direction, disposition = excluded.disposition, agent_id = excluded.agent_id,
    agent_name = excluded.agent_name, caller_number = excluded.caller_number,
    callee_number = excluded.callee_number, talk_seconds = excluded.talk_seconds,
    content_hash = excluded.content_hash, synced_at = excluded.synced_at, record = excluded.record,
    transcript = excluded.transcript
WHERE c.content_hash <> excluded.content_hash
RETURNING c.id, (c.xmax = 0) AS inserted";

/// Upsert `records` and replace `source`'s state (when given) inside `tx`.
pub(crate) async fn commit(
    tx: &Transaction<'_>,
    source: &str,
    records: &[Encoded],
    state: Option<&SyncState>,
    now_ms: i64,
) -> Result<WriteStats, StoreError> {
    let mut stats = WriteStats::default();
    // Archived recording paths survive a re-sent record (see `crate::archived`).
    let carried = crate::archived::carry_over_pg(tx, records).await?;
    let records: &[Encoded] = carried.as_deref().unwrap_or(records);
    // One row per id (the last occurrence wins, as if written one after the other).
    let mut last: HashMap<&str, usize> = HashMap::with_capacity(records.len());
    let mut occurrences: HashMap<&str, u32> = HashMap::new();
    for (i, r) in records.iter().enumerate() {
        last.insert(&r.id, i);
        *occurrences.entry(&r.id).or_default() += 1;
    }
    let repeated: Vec<&str> = occurrences.iter().filter(|(_, n)| **n > 1).map(|(id, _)| *id).collect();
    if !repeated.is_empty() {
        // Ids repeated within the batch: count each occurrence against the one before,
        // exactly as a row-by-row writer would (the first against the stored hash).
        let rows = tx
            .query("SELECT id, content_hash FROM calls WHERE id = ANY($1) FOR UPDATE", &[&repeated])
            .await
            .map_err(db)?;
        let mut seen: HashMap<String, Vec<u8>> = rows.into_iter().map(|r| (r.get(0), r.get(1))).collect();
        for r in records.iter().filter(|r| occurrences[r.id.as_str()] > 1) {
            match seen.get(&r.id) {
                None => stats.inserted += 1,
                Some(h) if h.as_slice() == r.hash => stats.unchanged += 1,
                Some(_) => stats.updated += 1,
            }
            seen.insert(r.id.clone(), r.hash.to_vec());
        }
    }
    let mut rows: Vec<&Encoded> =
        records.iter().enumerate().filter(|(i, r)| last[r.id.as_str()] == *i).map(|(_, r)| r).collect();
    // Rows locked in one global order: concurrent writers of overlapping batches wait
    // for each other instead of deadlocking.
    rows.sort_unstable_by(|a, b| a.id.as_bytes().cmp(b.id.as_bytes()));
    if !rows.is_empty() {
        let changed = upsert(tx, &rows, now_ms).await?;
        let mut single = WriteStats::default();
        let mut touched = 0u64;
        for row in &changed {
            let id: &str = row.get(0);
            if occurrences[id] > 1 {
                continue;
            }
            touched += 1;
            if row.get::<_, bool>(1) {
                single.inserted += 1;
            } else {
                single.updated += 1;
            }
        }
        let singles = rows.iter().filter(|r| occurrences[r.id.as_str()] == 1).count() as u64;
        single.unchanged = singles - touched;
        stats += single;
    }
    if let Some(state) = state {
        write_state(tx, source, state, now_ms).await?;
    }
    Ok(stats)
}

/// Upsert `records` (any order, ids possibly repeated) and replace `source`'s state
/// (when given) inside `tx`, serialising them on the way.
///
/// Sorted by id first (a stable sort: repeated ids keep their order), so that rows are
/// locked in one global order across the whole batch. A batch of unique ids is then
/// written CHUNK records per statement, the next chunk serialised on a blocking thread
/// while the server merges the one before: the client's work and the server's overlap
/// instead of adding up. A batch with repeated ids (rare) is written as one piece.
pub(crate) async fn commit_records(
    tx: &Transaction<'_>,
    source: &str,
    mut records: Vec<CallRecord>,
    state: Option<&SyncState>,
    now_ms: i64,
) -> Result<WriteStats, StoreError> {
    records.sort_by(|a, b| a.id.as_bytes().cmp(b.id.as_bytes()));
    let repeated = records.windows(2).any(|w| w[0].id == w[1].id);
    if repeated || records.len() <= CHUNK {
        let encoded = tokio::task::spawn_blocking(move || content::encode_all(records)).await.map_err(stopped)??;
        return commit(tx, source, &encoded, state, now_ms).await;
    }
    let (send, mut chunks) = tokio::sync::mpsc::channel::<Result<Vec<Encoded>, StoreError>>(2);
    let encoder = tokio::task::spawn_blocking(move || {
        let mut rest = records.into_iter();
        loop {
            let chunk: Vec<CallRecord> = rest.by_ref().take(CHUNK).collect();
            // A closed channel: the writer failed and gave up; stop encoding.
            if chunk.is_empty() || send.blocking_send(content::encode_all(chunk)).is_err() {
                return;
            }
        }
    });
    let mut stats = WriteStats::default();
    while let Some(chunk) = chunks.recv().await {
        let chunk = chunk?;
        // Archived recording paths survive a re-sent record (see `crate::archived`).
        let carried = crate::archived::carry_over_pg(tx, &chunk).await?;
        let chunk: &[Encoded] = carried.as_deref().unwrap_or(&chunk);
        let rows: Vec<&Encoded> = chunk.iter().collect();
        let changed = upsert(tx, &rows, now_ms).await?;
        for row in &changed {
            if row.get::<_, bool>(1) {
                stats.inserted += 1;
            } else {
                stats.updated += 1;
            }
        }
        stats.unchanged += (rows.len() - changed.len()) as u64;
    }
    encoder.await.map_err(stopped)?;
    if let Some(state) = state {
        write_state(tx, source, state, now_ms).await?;
    }
    Ok(stats)
}

fn stopped(e: tokio::task::JoinError) -> StoreError {
    StoreError::Db(format!("a record could not be serialised (encoder task stopped: {e})"))
}

/// The one `UPSERT` statement over `rows` (unique ids, in id order): the rows it
/// inserted or updated, as `(id, inserted)`.
async fn upsert(tx: &Transaction<'_>, rows: &[&Encoded], now_ms: i64) -> Result<Vec<Row>, StoreError> {
    let col = |f: fn(&Encoded) -> &str| rows.iter().map(|r| f(r)).collect::<Vec<&str>>();
    let opt = |f: fn(&Encoded) -> Option<&str>| rows.iter().map(|r| f(r)).collect::<Vec<Option<&str>>>();
    let ids = col(|r| &r.id);
    let sources = col(|r| &r.source);
    let providers = col(|r| r.provider);
    let started: Vec<i64> = rows.iter().map(|r| r.started_ms).collect();
    let directions = col(|r| r.direction);
    let dispositions = col(|r| r.disposition);
    let agent_ids = opt(|r| r.agent_id.as_deref());
    let agent_names = opt(|r| r.agent_name.as_deref());
    let callers = opt(|r| r.caller_number.as_deref());
    let callees = opt(|r| r.callee_number.as_deref());
    let talk: Vec<Option<i64>> = rows.iter().map(|r| r.talk_seconds).collect();
    let hashes: Vec<&[u8]> = rows.iter().map(|r| &r.hash[..]).collect();
    let bodies: Vec<&[u8]> = rows.iter().map(|r| r.body.as_slice()).collect();
    let texts = opt(|r| r.transcript.as_deref());
    tx.query(
        UPSERT,
        &[
            &ids,
            &sources,
            &providers,
            &started,
            &directions,
            &dispositions,
            &agent_ids,
            &agent_names,
            &callers,
            &callees,
            &talk,
            &hashes,
            &now_ms,
            &bodies,
            &texts,
        ],
    )
    .await
    .map_err(|e| StoreError::Db(format!("a record cannot be written ({}); the whole batch was rolled back", db(e))))
}

async fn write_state(tx: &Transaction<'_>, source: &str, state: &SyncState, now_ms: i64) -> Result<(), StoreError> {
    let mut state = state.clone();
    if state.source.is_empty() {
        state.source = source.to_string();
    }
    let json =
        serde_json::to_string(&state).map_err(|e| StoreError::Db(format!("sync state cannot be serialised: {e}")))?;
    tx.execute(
        "INSERT INTO sync_state (source, state, checkpoint, last_success, last_error, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (source) DO UPDATE SET state = excluded.state, checkpoint = excluded.checkpoint,
             last_success = excluded.last_success, last_error = excluded.last_error, updated_at = excluded.updated_at",
        &[
            &source,
            &json,
            &state.checkpoint.map(|t| t.as_millisecond()),
            &state.last_success.map(|t| t.as_millisecond()),
            &state.last_error,
            &now_ms,
        ],
    )
    .await
    .map_err(|e| {
        StoreError::Db(format!(
            "sync state of `{source}` cannot be written ({}); the whole batch was rolled back",
            db(e)
        ))
    })?;
    Ok(())
}
