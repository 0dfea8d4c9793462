//! The PostgreSQL store's compression dictionaries: what `crate::dicts` leaves to the
//! backend.
//!
//! A body compressed with a dictionary trained on the database's own records is about a
//! fifth of the Snappy body (pg_bench: 315 against 1,609 bytes), so the table, its WAL
//! and every read and re-sent batch move that much less (pg_bench, session 8: server
//! CPU per inserted row 35.1 / 30.1 → 29.9 / 28.4 µs, re-sends +22 %). So the store
//! trains and keeps dictionaries as the SQLite store does, in `body_dicts`. A training runs as a task of the runtime the
//! store was opened on: it first takes a dictionary another worker sharing the
//! database already trained for the provider, if there is one; otherwise it samples
//! the provider's newest stored bodies, trains on a blocking thread and commits the
//! dictionary before handing it over.
//!
//! Every dictionary is registered when the store opens. One another worker trained
//! since is loaded when a read meets a body that needs it (the store's reads retry once
//! after [`reload`]), and by the writer before it reads a stored body ([`ensure`]).

use super::db;
use crate::StoreError;
use crate::dicts::{Dicts, Done, SAMPLES, Trainer, book_from, train_from};
use crate::packing::{self, Codebook, Dict};
use deadpool_postgres::Pool;
use std::collections::HashSet;
use std::sync::Arc;
use tokio_postgres::GenericClient;

/// Every dictionary in the database, registered; the newest of each provider.
async fn load_all(c: &impl GenericClient) -> Result<Codebook, StoreError> {
    let rows = c.query("SELECT id, provider, dict FROM body_dicts ORDER BY created_at, id", &[]).await.map_err(db)?;
    Ok(book_from(rows.into_iter().map(|r| (r.get(0), r.get(1), r.get(2)))))
}

/// The dictionaries of the database `c` is connected to; trainings use `pool`, as
/// tasks of the current runtime.
pub(crate) async fn open(c: &impl GenericClient, pool: Pool) -> Result<Arc<Dicts>, StoreError> {
    let book = load_all(c).await?;
    Ok(Dicts::new(book, PgTrainer { pool, runtime: tokio::runtime::Handle::current() }))
}

/// Load dictionaries another worker added (a read met a body that needs one).
pub(crate) async fn reload(dicts: &Dicts, c: &impl GenericClient) -> Result<(), StoreError> {
    dicts.merge(load_all(c).await?);
    Ok(())
}

/// Register the dictionaries `bodies` need that this process does not know yet (bodies
/// another worker wrote after this one loaded the dictionaries). For the writer, which
/// reads stored bodies inside its transaction.
pub(crate) async fn ensure<'a>(
    c: &impl GenericClient,
    bodies: impl IntoIterator<Item = &'a [u8]>,
) -> Result<(), StoreError> {
    let mut unknown: Vec<i64> = bodies
        .into_iter()
        .filter_map(packing::needs_dict)
        .filter(|id| packing::lookup(*id).is_none())
        .map(|id| id as i64)
        .collect();
    if unknown.is_empty() {
        return Ok(());
    }
    unknown.sort_unstable();
    unknown.dedup();
    let rows = c.query("SELECT dict FROM body_dicts WHERE id = ANY($1)", &[&unknown]).await.map_err(db)?;
    for row in rows {
        packing::register(row.get(0));
    }
    Ok(())
}

/// Store the dictionaries `bodies` (`(record id, provider, body)`) were compressed
/// with, except those in `known`, so that they read back here (all are registered in
/// this process: read from another store). For `huadan copy`, inside the transaction
/// of the bodies; returns the ids stored, for the caller to add to `known` once that
/// transaction has committed.
pub(crate) async fn store_used<'a>(
    c: &impl GenericClient,
    bodies: impl IntoIterator<Item = (&'a str, &'a str, &'a [u8])>,
    known: &HashSet<u64>,
) -> Result<Vec<u64>, StoreError> {
    let mut used: Vec<(&'static Dict, &str)> = Vec::new();
    for (record, provider, body) in bodies {
        let Some(id) = packing::needs_dict(body) else { continue };
        if known.contains(&id) || used.iter().any(|(d, _)| d.id == id) {
            continue;
        }
        // `check_known` on the reading side made sure it is registered.
        let dict = packing::lookup(id).ok_or_else(|| StoreError::UnknownDictionary { id: record.into(), dict: id })?;
        used.push((dict, provider));
    }
    let now = jiff::Timestamp::now().as_millisecond();
    for &(dict, provider) in &used {
        c.execute(
            "INSERT INTO body_dicts (id, provider, dict, samples, created_at) VALUES ($1, $2, $3, 0, $4)
             ON CONFLICT (id) DO NOTHING",
            &[&(dict.id as i64), &provider, &dict.bytes, &now],
        )
        .await
        .map_err(db)?;
    }
    Ok(used.into_iter().map(|(d, _)| d.id).collect())
}

/// Trains as a task of the runtime the store was opened on, with a pooled connection.
struct PgTrainer {
    pool: Pool,
    runtime: tokio::runtime::Handle,
}

impl Trainer for PgTrainer {
    fn start(&self, provider: &'static str, done: Done) -> Result<(), String> {
        let pool = self.pool.clone();
        self.runtime.spawn(async move { done(train_and_store(&pool, provider).await) });
        Ok(())
    }
}

/// `provider`'s dictionary: the newest one in the database (another worker trained
/// it), else one trained from its newest stored bodies and committed.
async fn train_and_store(pool: &Pool, provider: &'static str) -> Result<&'static Dict, String> {
    let client = pool.get().await.map_err(|e| e.to_string())?;
    let text = |e: tokio_postgres::Error| super::describe(&e);
    let theirs = client
        .query_opt(
            "SELECT dict FROM body_dicts WHERE provider = $1 ORDER BY created_at DESC, id DESC LIMIT 1",
            &[&provider],
        )
        .await
        .map_err(text)?;
    if let Some(row) = theirs {
        return packing::register(row.get(0)).ok_or_else(|| "a stored compression dictionary is damaged".into());
    }
    let rows = client
        .query(
            "SELECT id, record FROM calls WHERE provider = $1 ORDER BY started_at DESC LIMIT $2",
            &[&provider, &(SAMPLES as i64)],
        )
        .await
        .map_err(text)?;
    let (dict, samples) =
        tokio::task::spawn_blocking(move || train_from(rows.iter().map(|row| (row.get(0), row.get(1)))))
            .await
            .map_err(|e| e.to_string())??;
    client
        .execute(
            "INSERT INTO body_dicts (id, provider, dict, samples, created_at) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (id) DO NOTHING",
            &[&(dict.id as i64), &provider, &dict.bytes, &(samples as i32), &jiff::Timestamp::now().as_millisecond()],
        )
        .await
        .map_err(text)?;
    Ok(dict)
}
