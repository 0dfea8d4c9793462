//! The write path: one transaction per batch, records and sync state together.
//!
//! A batch is sorted by id and written in pieces (see [`write_unique`]). New rows go in
//! by binary `COPY` straight into `calls` (no conflict arbitration, no arrays to unpack:
//! the cheapest insert there is); while every piece so far was new, a piece is copied
//! without looking anything up first. Otherwise a piece costs at most three statements:
//! one `SELECT … FOR UPDATE` finds (and locks, in id order) the stored rows and their
//! hashes, fetching bodies only where the hash differs (for the archived-path
//! carry-over); the new rows go in by `COPY`; the changed ones by the one `UPSERT`
//! below (columns bound as arrays and expanded with `unnest`, `ON CONFLICT (id) DO
//! UPDATE … WHERE the hash differs`). Unchanged rows are not touched (their
//! `synced_at` neither).
//!
//! Every `COPY` runs inside a savepoint: one that meets a stored row (a guess that
//! proved wrong, or another writer inserting the same id in the meantime) fails with
//! a unique violation, is rolled back, and the piece is written the looked-up way.
//!
//! A large batch is written as a pipeline (see [`commit_records`]): sorted by id, cut
//! into chunks, each chunk serialised on a blocking thread while the server merges the
//! chunk before it, all in the batch's one transaction.

use super::db;
use crate::content::{self, Encoded};
use crate::packing::Codebook;
use crate::{StoreError, SyncState, WriteStats};
use futures::SinkExt;
use huadan_model::CallRecord;
use std::collections::HashMap;
use std::sync::Arc;
use tokio_postgres::error::SqlState;
use tokio_postgres::{Row, Statement, Transaction};

/// Records per statement when a batch is written in a pipeline (see [`commit_records`]).
const CHUNK: usize = 500;

/// Savepoints one batch may use for `COPY` (one per piece with new rows); the pieces
/// after that insert through the `UPSERT`. Each savepoint that writes is a
/// subtransaction, and more than 64 of them in one transaction overflow PostgreSQL's
/// per-session cache, slowing every other session's snapshots while it runs.
const COPY_SAVEPOINTS: u32 = 32;

/// How a batch's pieces are written, carried from one piece to the next.
struct Pieces {
    /// Savepoints left for `COPY` (see [`COPY_SAVEPOINTS`]).
    copies: u32,
    /// Whether no piece so far had a stored row: the next one is then copied straight
    /// away, without looking it up first (a batch of new records costs one `COPY` per
    /// piece and no lookup). A `COPY` that meets a stored row is rolled back and the piece is
    /// written the looked-up way, as is every piece after it until a lookup finds no
    /// stored row again.
    all_new: bool,
    /// [`COPY`], prepared on first use.
    copy: Option<Statement>,
}

impl Pieces {
    fn new() -> Self {
        Pieces { copies: COPY_SAVEPOINTS, all_new: true, copy: None }
    }

    /// Take one savepoint for a `COPY`, if any is left.
    fn take_copy(&mut self) -> bool {
        let left = self.copies > 0;
        self.copies = self.copies.saturating_sub(1);
        left
    }
}

/// The stored rows of a piece, locked in id order: `(id, body)`, the body only where
/// the stored hash differs from the incoming one.
const LOOKUP: &str = "
SELECT c.id, CASE WHEN c.content_hash <> t.h THEN c.record END
FROM calls c JOIN unnest($1::text[], $2::bytea[]) AS t(id, h) ON c.id = t.id
ORDER BY c.id COLLATE \"C\" FOR UPDATE OF c";

/// New rows, in binary; the column order of [`copy_data`].
const COPY: &str = "
COPY calls (id, source, provider, started_at, direction, disposition, agent_id, agent_name,
            caller_number, callee_number, talk_seconds, content_hash, synced_at, record, transcript)
FROM STDIN (FORMAT binary)";

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
    let mut rows: Vec<&Encoded> = records.iter().collect();
    // Rows locked in one global order: concurrent writers of overlapping batches wait
    // for each other instead of deadlocking.
    rows.sort_by(|a, b| a.id.as_bytes().cmp(b.id.as_bytes()));
    let stats = if rows.windows(2).any(|w| w[0].id == w[1].id) {
        commit_repeated(tx, records, now_ms).await?
    } else {
        let mut pieces = Pieces::new();
        let mut stats = WriteStats::default();
        for piece in rows.chunks(CHUNK) {
            stats += write_unique(tx, piece, now_ms, &mut pieces).await?;
        }
        stats
    };
    if let Some(state) = state {
        write_state(tx, source, state, now_ms).await?;
    }
    Ok(stats)
}

/// [`commit`]'s records when some id occurs more than once: one `UPSERT` of the last
/// occurrences, each occurrence counted as a row-by-row writer would count it.
async fn commit_repeated(tx: &Transaction<'_>, records: &[Encoded], now_ms: i64) -> Result<WriteStats, StoreError> {
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
    book: Arc<Codebook>,
) -> Result<WriteStats, StoreError> {
    records.sort_by(|a, b| a.id.as_bytes().cmp(b.id.as_bytes()));
    let repeated = records.windows(2).any(|w| w[0].id == w[1].id);
    if repeated || records.len() <= CHUNK {
        let encoded =
            tokio::task::spawn_blocking(move || content::encode_all(records, &book)).await.map_err(stopped)??;
        return commit(tx, source, &encoded, state, now_ms).await;
    }
    let (send, mut chunks) = tokio::sync::mpsc::channel::<Result<Vec<Encoded>, StoreError>>(2);
    let encoder = tokio::task::spawn_blocking(move || {
        let mut rest = records.into_iter();
        // A small first chunk: the server starts sooner.
        let mut size = CHUNK / 5;
        loop {
            let chunk: Vec<CallRecord> = rest.by_ref().take(size).collect();
            size = CHUNK;
            // A closed channel: the writer failed and gave up; stop encoding.
            if chunk.is_empty() || send.blocking_send(content::encode_all(chunk, &book)).is_err() {
                return;
            }
        }
    });
    let mut stats = WriteStats::default();
    let mut pieces = Pieces::new();
    while let Some(chunk) = chunks.recv().await {
        let chunk = chunk?;
        let rows: Vec<&Encoded> = chunk.iter().collect();
        stats += write_unique(tx, &rows, now_ms, &mut pieces).await?;
    }
    encoder.await.map_err(stopped)?;
    if let Some(state) = state {
        write_state(tx, source, state, now_ms).await?;
    }
    Ok(stats)
}

/// Encode a whole batch for [`commit`], sorted by id first (a stable sort: repeated ids
/// keep their order), so that rows are locked in one global order; bodies compressed
/// with `book`'s dictionaries.
pub(crate) fn encode_sorted(mut records: Vec<CallRecord>, book: &Codebook) -> Result<Vec<Encoded>, StoreError> {
    records.sort_by(|a, b| a.id.as_bytes().cmp(b.id.as_bytes()));
    content::encode_all(records, book)
}

/// What a piece's stored row says about an incoming record.
enum Stored {
    /// No stored row: insert.
    New,
    /// Stored with the same hash: leave it alone.
    Same,
    /// Stored with another hash: merge (the record with the archived paths carried over
    /// when there were any).
    Changed(Option<Box<Encoded>>),
}

/// Write `rows` (unique ids, in id order) inside `tx`: straight by `COPY` while the
/// batch's pieces were all new (see [`Pieces`]); else look the stored rows up (and lock
/// them), carry archived paths over, `COPY` the new rows (while savepoints last),
/// `UPSERT` the changed ones.
async fn write_unique(
    tx: &Transaction<'_>,
    rows: &[&Encoded],
    now_ms: i64,
    pieces: &mut Pieces,
) -> Result<WriteStats, StoreError> {
    let mut stats = WriteStats::default();
    if pieces.all_new && pieces.take_copy() {
        if copy_new(tx, pieces, rows, now_ms).await? {
            stats.inserted += rows.len() as u64;
            return Ok(stats);
        }
        pieces.all_new = false;
    }
    let kinds = lookup(tx, rows).await?;
    let new: Vec<&Encoded> =
        rows.iter().zip(&kinds).filter(|(_, k)| matches!(k, Stored::New)).map(|(r, _)| *r).collect();
    pieces.all_new = new.len() == rows.len();
    let copied = !new.is_empty() && pieces.take_copy() && copy_new(tx, pieces, &new, now_ms).await?;
    if copied {
        stats.inserted += new.len() as u64;
    }
    let mut merge: Vec<&Encoded> = Vec::new();
    for (r, kind) in rows.iter().zip(&kinds) {
        match kind {
            Stored::Same => stats.unchanged += 1,
            Stored::New if copied => {}
            Stored::New | Stored::Changed(None) => merge.push(r),
            Stored::Changed(Some(merged)) => merge.push(merged.as_ref()),
        }
    }
    if !merge.is_empty() {
        let changed = upsert(tx, &merge, now_ms).await?;
        for row in &changed {
            if row.get::<_, bool>(1) {
                stats.inserted += 1;
            } else {
                stats.updated += 1;
            }
        }
        stats.unchanged += (merge.len() - changed.len()) as u64;
    }
    Ok(stats)
}

/// What is stored for each of `rows` (same order), the stored rows locked (`FOR
/// UPDATE`, in id order) so that an archiver committing a path concurrently cannot slip
/// in between this read and the write (see `crate::archived`).
async fn lookup(tx: &Transaction<'_>, rows: &[&Encoded]) -> Result<Vec<Stored>, StoreError> {
    let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
    let hashes: Vec<&[u8]> = rows.iter().map(|r| &r.hash[..]).collect();
    let found = tx.query(LOOKUP, &[&ids, &hashes]).await.map_err(db)?;
    // A stored body another worker compressed with a dictionary trained since.
    super::dicts::ensure(tx, found.iter().filter_map(|row| row.get::<_, Option<&[u8]>>(1))).await?;
    let mut stored: HashMap<&str, Option<&[u8]>> = HashMap::with_capacity(found.len());
    for row in &found {
        stored.insert(row.get(0), row.get(1));
    }
    rows.iter()
        .map(|r| match stored.get(r.id.as_str()) {
            None => Ok(Stored::New),
            Some(None) => Ok(Stored::Same),
            Some(Some(body)) => crate::archived::carry_over(r, body).map(|m| Stored::Changed(m.map(Box::new))),
        })
        .collect()
}

/// Insert `rows` (none of them stored, as far as the caller knows) by binary `COPY`
/// inside a savepoint. `false` (and nothing written) when one of them is stored after
/// all (or was inserted by another writer in the meantime): the caller merges them
/// instead.
async fn copy_new(
    tx: &Transaction<'_>,
    pieces: &mut Pieces,
    rows: &[&Encoded],
    now_ms: i64,
) -> Result<bool, StoreError> {
    tx.batch_execute("SAVEPOINT huadan_copy").await.map_err(db)?;
    match copy_rows(tx, pieces, rows, now_ms).await {
        Ok(()) => {
            tx.batch_execute("RELEASE SAVEPOINT huadan_copy").await.map_err(db)?;
            Ok(true)
        }
        Err(CopyError::Db(e)) if e.code() == Some(&SqlState::UNIQUE_VIOLATION) => {
            tx.batch_execute("ROLLBACK TO SAVEPOINT huadan_copy; RELEASE SAVEPOINT huadan_copy").await.map_err(db)?;
            Ok(false)
        }
        Err(CopyError::Db(e)) => Err(written(e)),
        Err(CopyError::TooLarge(message)) => Err(StoreError::Db(format!("{message}; the whole batch was rolled back"))),
    }
}

async fn copy_rows(tx: &Transaction<'_>, pieces: &mut Pieces, rows: &[&Encoded], now_ms: i64) -> Result<(), CopyError> {
    let data = copy_data(rows, now_ms)?;
    let statement = match &pieces.copy {
        Some(statement) => statement.clone(),
        None => pieces.copy.insert(tx.prepare(COPY).await?).clone(),
    };
    let sink = tx.copy_in(&statement).await?;
    futures::pin_mut!(sink);
    // One message for the whole piece: the server reads it in one go.
    sink.as_mut().send(std::io::Cursor::new(data)).await?;
    sink.finish().await?;
    Ok(())
}

/// Why a `COPY` failed.
enum CopyError {
    /// The server (or the connection) refused it.
    Db(tokio_postgres::Error),
    /// A value does not fit the binary format (a field over 2 GB).
    TooLarge(String),
}

impl From<tokio_postgres::Error> for CopyError {
    fn from(e: tokio_postgres::Error) -> Self {
        CopyError::Db(e)
    }
}

/// `rows` in PostgreSQL's binary `COPY` format, in [`COPY`]'s column order: the
/// header, one tuple per row (field count, then each field as its length and bytes, -1
/// for NULL; text as UTF-8, `int8` big-endian, `bytea` as is), the trailer.
fn copy_data(rows: &[&Encoded], now_ms: i64) -> Result<Vec<u8>, CopyError> {
    const FIELDS: i16 = 15;
    let size: usize = rows.iter().map(|r| 256 + r.body.len() + r.transcript.as_ref().map_or(0, String::len)).sum();
    let mut out = Vec::with_capacity(size + 32);
    out.extend_from_slice(b"PGCOPY\n\xff\r\n\0");
    out.extend_from_slice(&0i32.to_be_bytes()); // flags
    out.extend_from_slice(&0i32.to_be_bytes()); // header extension length
    let now = now_ms.to_be_bytes();
    for r in rows {
        let started = r.started_ms.to_be_bytes();
        let talk = r.talk_seconds.map(i64::to_be_bytes);
        let fields: [Option<&[u8]>; FIELDS as usize] = [
            Some(r.id.as_bytes()),
            Some(r.source.as_bytes()),
            Some(r.provider.as_bytes()),
            Some(&started),
            Some(r.direction.as_bytes()),
            Some(r.disposition.as_bytes()),
            text(&r.agent_id),
            text(&r.agent_name),
            text(&r.caller_number),
            text(&r.callee_number),
            talk.as_ref().map(|b| &b[..]),
            Some(&r.hash),
            Some(&now),
            Some(&r.body),
            text(&r.transcript),
        ];
        out.extend_from_slice(&FIELDS.to_be_bytes());
        for field in fields {
            put_field(&mut out, &r.id, field)?;
        }
    }
    out.extend_from_slice(&(-1i16).to_be_bytes());
    Ok(out)
}

/// A nullable text column's bytes.
fn text(s: &Option<String>) -> Option<&[u8]> {
    s.as_deref().map(str::as_bytes)
}

/// One binary `COPY` field of record `id`.
fn put_field(out: &mut Vec<u8>, id: &str, value: Option<&[u8]>) -> Result<(), CopyError> {
    match value {
        None => out.extend_from_slice(&(-1i32).to_be_bytes()),
        Some(bytes) => {
            let len = i32::try_from(bytes.len())
                .map_err(|_| CopyError::TooLarge(format!("record {id} has a field of {} bytes", bytes.len())))?;
            out.extend_from_slice(&len.to_be_bytes());
            out.extend_from_slice(bytes);
        }
    }
    Ok(())
}

fn written(e: tokio_postgres::Error) -> StoreError {
    StoreError::Db(format!("a record cannot be written ({}); the whole batch was rolled back", db(e)))
}

/// The error for an encoding task that stopped (panicked or was cancelled).
pub(crate) fn stopped(e: tokio::task::JoinError) -> StoreError {
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
    .map_err(written)
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
