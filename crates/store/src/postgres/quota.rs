//! A source's vendor quota shared by the whole fleet: one row per source holding the
//! earliest start of its next request (server microseconds). A worker reserves a few
//! consecutive request slots with one atomic `INSERT … ON CONFLICT DO UPDATE …
//! RETURNING`; no two workers ever get the same slot, so the fleet's requests are spaced
//! `interval` apart exactly as one process's are (no burst, never above the rate).

use super::db;
use crate::StoreError;
use crate::fleet::SlotGrant;
use std::time::Duration;
use tokio_postgres::Client;

/// The server clock in Unix microseconds, read when the expression is evaluated: in
/// `SET` and `RETURNING` that is after the row lock was obtained, so the delay handed
/// back is measured from (almost) the moment the answer leaves, whatever the lock wait.
/// The worker adds it to the instant the answer arrived: it errs late by the return
/// trip only, the same small amount for every worker.
const NOW_US: &str = "(extract(epoch FROM clock_timestamp()) * 1000000)::bigint";

fn micros(d: Duration) -> i64 {
    i64::try_from(d.as_micros()).unwrap_or(i64::MAX / 4)
}

/// See [`crate::Store::reserve_slots`].
pub(crate) async fn reserve_slots(
    c: &Client,
    source: &str,
    interval: Duration,
    count: u32,
) -> Result<SlotGrant, StoreError> {
    let count = count.max(1);
    let interval_us = micros(interval).max(1);
    let span = interval_us.saturating_mul(i64::from(count));
    let row = c
        .query_one(
            &format!(
                "INSERT INTO quota_slots AS q (source, next_us) VALUES ($1, {NOW_US} + $2)
                 ON CONFLICT (source) DO UPDATE SET next_us = greatest(q.next_us, {NOW_US}) + $2
                 RETURNING q.next_us - $2 - {NOW_US}, q.next_us - $2"
            ),
            &[&source, &span],
        )
        .await
        .map_err(db)?;
    let (first_in, first_at): (i64, i64) = (row.get(0), row.get(1));
    let first_at = huadan_model::Instant::from_microsecond(first_at)
        .map_err(|e| StoreError::Db(format!("the quota row of `{source}` holds an impossible time: {e}")))?;
    Ok(SlotGrant {
        first_in: jiff::SignedDuration::from_micros(first_in),
        first_at,
        interval: Duration::from_micros(interval_us as u64),
        count,
    })
}

/// See [`crate::Store::hold_quota`].
pub(crate) async fn hold_quota(c: &Client, source: &str, wait: Duration) -> Result<(), StoreError> {
    c.execute(
        &format!(
            "INSERT INTO quota_slots AS q (source, next_us) VALUES ($1, {NOW_US} + $2)
             ON CONFLICT (source) DO UPDATE SET next_us = greatest(q.next_us, {NOW_US} + $2)"
        ),
        &[&source, &micros(wait)],
    )
    .await
    .map_err(db)?;
    Ok(())
}
