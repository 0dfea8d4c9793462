//! Sharing a source's run between workers: one plan per generation, windows leased
//! with `SELECT … FOR UPDATE SKIP LOCKED`, heartbeats, expiry and fenced commits.
//!
//! Lock order, everywhere: the source's `fleet_runs` row, then window rows. Every lease
//! time is the server's clock ([`NOW_MS`]), so workers on machines with different
//! clocks still agree on who holds what.

use super::{db, write};
use crate::content::{self, Encoded};
use crate::fleet::{
    Claim, ClaimRecord, PlanFn, RunTicket, RunView, WindowClaim, WindowDone, WindowKind, WindowRow, WindowStatus,
};
use crate::packing::Codebook;
use crate::{StoreError, SyncState, WriteStats};
use huadan_model::{CallRecord, Instant};
use std::sync::Arc;
use std::time::Duration;
use tokio_postgres::{Client, Transaction};

/// The server's clock in Unix milliseconds (a constant expression, no input).
pub(crate) const NOW_MS: &str = "(extract(epoch FROM clock_timestamp()) * 1000)::bigint";

fn ms(t: Instant) -> i64 {
    t.as_millisecond()
}

fn instant(ms: i64) -> Instant {
    content::millis(ms)
}

fn ttl_ms(ttl: Duration) -> i64 {
    i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX / 4).max(1)
}

/// Serialise and hash records off the async threads.
pub(crate) async fn encode(records: Vec<CallRecord>, book: Arc<Codebook>) -> Result<Vec<Encoded>, StoreError> {
    if records.is_empty() {
        return Ok(Vec::new());
    }
    tokio::task::spawn_blocking(move || content::encode_all(records, &book))
        .await
        .map_err(|e| StoreError::Db(format!("a database task stopped unexpectedly: {e}")))?
}

async fn now_ms(tx: &Transaction<'_>) -> Result<i64, StoreError> {
    Ok(tx.query_one(&format!("SELECT {NOW_MS}"), &[]).await.map_err(db)?.get(0))
}

/// See [`crate::Store::plan_run`].
pub(crate) async fn plan_run(
    client: &mut Client,
    source: &str,
    owner: &str,
    min_gap: Duration,
    plan: PlanFn,
) -> Result<RunTicket, StoreError> {
    let tx = client.transaction().await.map_err(db)?;
    tx.execute(
        "INSERT INTO fleet_runs (source, generation, planned_by, planned_at, range_start, range_end, advance,
                                 context, finished_at)
         VALUES ($1, 0, '', 0, 0, 0, false, 'null', 0) ON CONFLICT (source) DO NOTHING",
        &[&source],
    )
    .await
    .map_err(db)?;
    let row = tx
        .query_one(
            "SELECT generation, finished_at, range_start, range_end FROM fleet_runs WHERE source = $1 FOR UPDATE",
            &[&source],
        )
        .await
        .map_err(db)?;
    let (generation, finished_at): (i64, Option<i64>) = (row.get(0), row.get(1));
    let (range_start, range_end) = (instant(row.get(2)), instant(row.get(3)));
    let now = now_ms(&tx).await?;
    if finished_at.is_none() {
        let counts = tx
            .query_one(
                "SELECT count(*), count(*) FILTER (WHERE status IN ('todo', 'claimed'))
                 FROM work_windows WHERE source = $1 AND generation = $2",
                &[&source, &generation],
            )
            .await
            .map_err(db)?;
        let (total, open): (i64, i64) = (counts.get(0), counts.get(1));
        if open > 0 {
            tx.commit().await.map_err(db)?;
            return Ok(RunTicket::Run { generation, windows: total as usize, planned: false, range_start, range_end });
        }
    } else if finished_at.is_some_and(|f| f > 0 && now - f < ttl_ms(min_gap)) && !min_gap.is_zero() {
        tx.commit().await.map_err(db)?;
        return Ok(RunTicket::Idle);
    }
    let state = tx.query_opt("SELECT state FROM sync_state WHERE source = $1", &[&source]).await.map_err(db)?;
    let state: Option<SyncState> = match state {
        Some(r) => Some(
            serde_json::from_str(r.get(0))
                .map_err(|e| StoreError::Corrupt { id: format!("sync state of {source}"), message: e.to_string() })?,
        ),
        None => None,
    };
    let plan = match plan(state.as_ref()) {
        Ok(p) => p,
        Err(why) => {
            tx.rollback().await.map_err(db)?;
            return Ok(RunTicket::Refused(why));
        }
    };
    let generation = generation + 1;
    // Only the current generation's windows are kept; the audit trail keeps the history.
    tx.execute("DELETE FROM work_windows WHERE source = $1", &[&source]).await.map_err(db)?;
    let seqs: Vec<i32> = (0..plan.windows.len() as i32).collect();
    let kinds: Vec<&str> = plan.windows.iter().map(|w| w.kind.as_str()).collect();
    let starts: Vec<i64> = plan.windows.iter().map(|w| ms(w.start)).collect();
    let ends: Vec<i64> = plan.windows.iter().map(|w| ms(w.end)).collect();
    tx.execute(
        "INSERT INTO work_windows (source, generation, seq, kind, start_ms, end_ms)
         SELECT $1, $2, t.seq, t.kind, t.s, t.e FROM unnest($3::int4[], $4::text[], $5::int8[], $6::int8[])
             AS t(seq, kind, s, e)",
        &[&source, &generation, &seqs, &kinds, &starts, &ends],
    )
    .await
    .map_err(db)?;
    let context = plan.context.to_string();
    let finished = if plan.windows.is_empty() { Some(now) } else { None };
    tx.execute(
        "UPDATE fleet_runs SET generation = $2, planned_by = $3, planned_at = $4, range_start = $5, range_end = $6,
                advance = $7, context = $8, finished_at = $9
         WHERE source = $1",
        &[
            &source,
            &generation,
            &owner,
            &now,
            &ms(plan.range_start),
            &ms(plan.range_end),
            &plan.advance,
            &context,
            &finished,
        ],
    )
    .await
    .map_err(db)?;
    // The audit trail is for diagnostics: keep a week of it.
    tx.execute("DELETE FROM lease_audit WHERE source = $1 AND claimed_at < $2", &[&source, &(now - 7 * 86_400_000)])
        .await
        .map_err(db)?;
    tx.commit().await.map_err(db)?;
    tracing::info!(source, generation, windows = plan.windows.len(), owner, "planned a shared run");
    Ok(RunTicket::Run {
        generation,
        windows: plan.windows.len(),
        planned: true,
        range_start: plan.range_start,
        range_end: plan.range_end,
    })
}

/// See [`crate::Store::claim_window`].
pub(crate) async fn claim_window(
    client: &mut Client,
    source: &str,
    generation: i64,
    owner: &str,
    ttl: Duration,
) -> Result<Claim, StoreError> {
    let ttl = ttl_ms(ttl);
    let tx = client.transaction().await.map_err(db)?;
    let now = now_ms(&tx).await?;
    let row = tx
        .query_opt(
            "WITH c AS (
                 SELECT id FROM work_windows
                 WHERE source = $1 AND generation = $2
                   AND (status = 'todo' OR (status = 'claimed' AND lease_until < $3))
                 ORDER BY seq LIMIT 1
                 FOR UPDATE SKIP LOCKED)
             UPDATE work_windows w
             SET status = 'claimed', owner = $4, fence = w.fence + 1, lease_until = $3 + $5, attempts = w.attempts + 1
             FROM c WHERE w.id = c.id
             RETURNING w.id, w.seq, w.kind, w.start_ms, w.end_ms, w.fence",
            &[&source, &generation, &now, &owner, &ttl],
        )
        .await
        .map_err(db)?;
    let Some(row) = row else {
        let r = tx
            .query_one(
                "SELECT count(*) FILTER (WHERE status IN ('todo', 'claimed')),
                        min(lease_until) FILTER (WHERE status = 'claimed')
                 FROM work_windows WHERE source = $1 AND generation = $2",
                &[&source, &generation],
            )
            .await
            .map_err(db)?;
        tx.commit().await.map_err(db)?;
        let (open, expiry): (i64, Option<i64>) = (r.get(0), r.get(1));
        if open == 0 {
            return Ok(Claim::Finished);
        }
        let next_expiry = expiry.map(|e| Duration::from_millis(u64::try_from(e - now).unwrap_or(0)));
        return Ok(Claim::Busy { unfinished: open as u64, next_expiry });
    };
    let claim = WindowClaim {
        id: row.get(0),
        source: source.to_string(),
        generation,
        seq: row.get(1),
        kind: WindowKind::parse(row.get(2)),
        start: instant(row.get(3)),
        end: instant(row.get(4)),
        owner: owner.to_string(),
        fence: row.get(5),
        valid_for: Duration::from_millis(ttl as u64),
    };
    // The previous holder (if any) let its lease expire: its audit entry ends there.
    tx.execute(
        "UPDATE lease_audit SET how = 'expired'
         WHERE source = $1 AND generation = $2 AND seq = $3 AND ended_at IS NULL AND how = 'held'",
        &[&source, &generation, &claim.seq],
    )
    .await
    .map_err(db)?;
    tx.execute(
        "INSERT INTO lease_audit (source, generation, seq, start_ms, end_ms, owner, fence, claimed_at, lease_until)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        &[&source, &generation, &claim.seq, &ms(claim.start), &ms(claim.end), &owner, &claim.fence, &now, &(now + ttl)],
    )
    .await
    .map_err(db)?;
    tx.commit().await.map_err(db)?;
    Ok(Claim::Window(claim))
}

/// See [`crate::Store::renew_window`].
pub(crate) async fn renew_window(client: &mut Client, claim: &WindowClaim, ttl: Duration) -> Result<bool, StoreError> {
    let ttl = ttl_ms(ttl);
    let tx = client.transaction().await.map_err(db)?;
    let now = now_ms(&tx).await?;
    let n = tx
        .execute(
            "UPDATE work_windows SET lease_until = $4 + $5
             WHERE id = $1 AND owner = $2 AND fence = $3 AND status = 'claimed' AND lease_until >= $4",
            &[&claim.id, &claim.owner, &claim.fence, &now, &ttl],
        )
        .await
        .map_err(db)?;
    if n == 1 {
        audit_end(&tx, claim, None, now + ttl).await?;
    }
    tx.commit().await.map_err(db)?;
    Ok(n == 1)
}

/// Move the claim's audit entry: `how = None` extends it to `at` (heartbeat), else ends it.
async fn audit_end(tx: &Transaction<'_>, claim: &WindowClaim, how: Option<&str>, at: i64) -> Result<(), StoreError> {
    let key = "source = $1 AND generation = $2 AND seq = $3 AND fence = $4 AND how = 'held'";
    let r = match how {
        None => {
            tx.execute(
                &format!("UPDATE lease_audit SET lease_until = $5 WHERE {key}"),
                &[&claim.source, &claim.generation, &claim.seq, &claim.fence, &at],
            )
            .await
        }
        Some(how) => {
            tx.execute(
                &format!("UPDATE lease_audit SET ended_at = $5, how = $6 WHERE {key}"),
                &[&claim.source, &claim.generation, &claim.seq, &claim.fence, &at, &how],
            )
            .await
        }
    };
    r.map_err(db)?;
    Ok(())
}

/// See [`crate::Store::release_window`].
pub(crate) async fn release_window(client: &mut Client, claim: &WindowClaim) -> Result<(), StoreError> {
    let tx = client.transaction().await.map_err(db)?;
    let now = now_ms(&tx).await?;
    let n = tx
        .execute(
            "UPDATE work_windows SET status = 'todo', owner = NULL, lease_until = NULL
             WHERE id = $1 AND owner = $2 AND fence = $3 AND status = 'claimed'",
            &[&claim.id, &claim.owner, &claim.fence],
        )
        .await
        .map_err(db)?;
    if n == 1 {
        audit_end(&tx, claim, Some("released"), now).await?;
    }
    tx.commit().await.map_err(db)
}

/// Lock the claim's window row if, and only if, the claim still holds its lease.
async fn fence(tx: &Transaction<'_>, claim: &WindowClaim) -> Result<i64, StoreError> {
    let now = now_ms(tx).await?;
    let held = tx
        .query_opt(
            "SELECT 1 FROM work_windows
             WHERE id = $1 AND owner = $2 AND fence = $3 AND status = 'claimed' AND lease_until >= $4
             FOR UPDATE",
            &[&claim.id, &claim.owner, &claim.fence, &now],
        )
        .await
        .map_err(db)?;
    match held {
        Some(_) => Ok(now),
        None => Err(StoreError::LeaseLost {
            source_name: claim.source.clone(),
            window: format!("[{}, {})", claim.start, claim.end),
            owner: claim.owner.clone(),
        }),
    }
}

/// See [`crate::Store::write_window_records`].
pub(crate) async fn write_window_records(
    client: &mut Client,
    claim: &WindowClaim,
    records: Vec<CallRecord>,
    book: Arc<Codebook>,
) -> Result<WriteStats, StoreError> {
    let encoded = encode(records, book).await?;
    let tx = client.transaction().await.map_err(db)?;
    let now = fence(&tx, claim).await?;
    let stats = write::commit(&tx, &claim.source, &encoded, None, now).await?;
    tx.commit().await.map_err(|e| lost_commit(&e))?;
    Ok(stats)
}

fn lost_commit(e: &tokio_postgres::Error) -> StoreError {
    StoreError::Db(format!("the window's records may not have been stored ({}); send them again", super::describe(e)))
}

/// See [`crate::Store::finish_window`].
pub(crate) async fn finish_window(
    client: &mut Client,
    claim: &WindowClaim,
    done: WindowDone,
    book: Arc<Codebook>,
) -> Result<WriteStats, StoreError> {
    let WindowDone { records, failed, outcome, update } = done;
    let encoded = encode(records, book).await?;
    let source = claim.source.as_str();
    let tx = client.transaction().await.map_err(db)?;
    // The source's lock first (it serialises state merges), then the window's.
    let run = tx
        .query_one(
            "SELECT generation, range_start, range_end, advance, context FROM fleet_runs WHERE source = $1 FOR UPDATE",
            &[&source],
        )
        .await
        .map_err(db)?;
    let now = fence(&tx, claim).await?;
    let status = if failed { WindowStatus::Failed } else { WindowStatus::Done };
    tx.execute(
        "UPDATE work_windows SET status = $2, outcome = $3, lease_until = NULL WHERE id = $1",
        &[&claim.id, &status.as_str(), &outcome.to_string()],
    )
    .await
    .map_err(db)?;
    let rows = tx
        .query(
            "SELECT seq, kind, start_ms, end_ms, status, outcome FROM work_windows
             WHERE source = $1 AND generation = $2 ORDER BY seq",
            &[&source, &claim.generation],
        )
        .await
        .map_err(db)?;
    let view = RunView {
        generation: run.get(0),
        range_start: instant(run.get(1)),
        range_end: instant(run.get(2)),
        advance: run.get(3),
        context: serde_json::from_str(run.get(4)).unwrap_or(serde_json::Value::Null),
        windows: rows
            .iter()
            .map(|r| WindowRow {
                seq: r.get(0),
                kind: WindowKind::parse(r.get(1)),
                start: instant(r.get(2)),
                end: instant(r.get(3)),
                status: WindowStatus::parse(r.get(4)),
                outcome: r.get::<_, Option<&str>>(5).and_then(|s| serde_json::from_str(s).ok()),
            })
            .collect(),
    };
    let stored = tx.query_opt("SELECT state FROM sync_state WHERE source = $1", &[&source]).await.map_err(db)?;
    let stored: Option<SyncState> = match stored {
        Some(r) => Some(
            serde_json::from_str(r.get(0))
                .map_err(|e| StoreError::Corrupt { id: format!("sync state of {source}"), message: e.to_string() })?,
        ),
        None => None,
    };
    let state = update(stored, &view);
    let stats = write::commit(&tx, source, &encoded, Some(&state), now).await?;
    if view.finished() && view.generation == claim.generation {
        tx.execute("UPDATE fleet_runs SET finished_at = $2 WHERE source = $1", &[&source, &now]).await.map_err(db)?;
    }
    audit_end(&tx, claim, Some(status.as_str()), now).await?;
    tx.commit().await.map_err(|e| lost_commit(&e))?;
    Ok(stats)
}

/// See [`crate::Store::lease_audit`].
pub(crate) async fn lease_audit(c: &Client, source: &str) -> Result<Vec<ClaimRecord>, StoreError> {
    let rows = c
        .query(
            "SELECT generation, seq, start_ms, end_ms, owner, fence, claimed_at, coalesce(ended_at, lease_until), how
             FROM lease_audit WHERE source = $1 ORDER BY claimed_at, id",
            &[&source],
        )
        .await
        .map_err(db)?;
    Ok(rows
        .iter()
        .map(|r| ClaimRecord {
            generation: r.get(0),
            seq: r.get(1),
            start: instant(r.get(2)),
            end: instant(r.get(3)),
            owner: r.get(4),
            fence: r.get(5),
            claimed_at: instant(r.get(6)),
            ended_at: instant(r.get(7)),
            how: r.get(8),
        })
        .collect())
}
