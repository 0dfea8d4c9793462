//! Versioned schema migrations, embedded in the binary and applied at open, each in
//! its own transaction, recorded in `schema_migrations`.

use crate::StoreError;
use rusqlite::{Connection, params};

/// `(version, name, SQL)`, in order. Never edit a released migration: add a new one.
const MIGRATIONS: &[(u32, &str, &str)] = &[
    (1, "init", include_str!("../../migrations/sqlite/0001_init.sql")),
    (2, "overview_index", include_str!("../../migrations/sqlite/0002_overview_index.sql")),
    (3, "fewer_indexes", include_str!("../../migrations/sqlite/0003_fewer_indexes.sql")),
    (4, "id_index_file", include_str!("../../migrations/sqlite/0004_id_index_file.sql")),
    (5, "body_dicts", include_str!("../../migrations/sqlite/0005_body_dicts.sql")),
    (6, "fts_automerge", include_str!("../../migrations/sqlite/0006_fts_automerge.sql")),
];

/// The newest schema version this build knows.
pub(crate) const LATEST: u32 = 6;

fn db(version: u32) -> impl Fn(rusqlite::Error) -> StoreError {
    move |e| StoreError::Migration { version, message: e.to_string() }
}

/// Bring the database up to [`LATEST`]; refuse a database from a newer huadan.
pub(crate) fn migrate(conn: &mut Connection) -> Result<u32, StoreError> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
             version    INTEGER PRIMARY KEY,
             name       TEXT    NOT NULL,
             applied_at INTEGER NOT NULL
         )",
    )
    .map_err(db(0))?;
    let current: u32 =
        conn.query_row("SELECT coalesce(max(version), 0) FROM schema_migrations", [], |r| r.get(0)).map_err(db(0))?;
    if current > LATEST {
        return Err(StoreError::Migration {
            version: current,
            message: format!(
                "the database was written by a newer huadan (schema {current}, this build knows {LATEST}); upgrade huadan"
            ),
        });
    }
    for &(version, name, sql) in MIGRATIONS.iter().filter(|(v, _, _)| *v > current) {
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).map_err(db(version))?;
        tx.execute_batch(sql).map_err(db(version))?;
        let now = jiff::Timestamp::now().as_millisecond();
        tx.execute(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?1, ?2, ?3)",
            params![version, name, now],
        )
        .map_err(db(version))?;
        tx.commit().map_err(db(version))?;
        tracing::info!(version, name, "applied store migration");
    }
    Ok(LATEST.max(current))
}
