//! Versioned schema migrations, embedded in the binary and applied at open, each in its
//! own transaction, recorded in `schema_migrations`. A database-wide advisory lock makes
//! several processes opening the same database at once apply each migration once.

use super::db;
use crate::StoreError;
use tokio_postgres::Client;

/// `(version, name, SQL)`, in order. Never edit a released migration: add a new one.
const MIGRATIONS: &[(u32, &str, &str)] = &[
    (1, "init", include_str!("../../migrations/postgres/0001_init.sql")),
    (2, "fleet", include_str!("../../migrations/postgres/0002_fleet.sql")),
    (3, "trigram_pending_list", include_str!("../../migrations/postgres/0003_trigram_pending_list.sql")),
    (4, "cheaper_writes", include_str!("../../migrations/postgres/0004_cheaper_writes.sql")),
    (5, "body_dicts", include_str!("../../migrations/postgres/0005_body_dicts.sql")),
    (6, "agents_pending_list", include_str!("../../migrations/postgres/0006_agents_pending_list.sql")),
];

/// The newest schema version this build knows.
pub(crate) const LATEST: u32 = 6;

/// Advisory lock key held while migrating (any constant shared by every huadan).
pub(crate) const LOCK_KEY: i64 = 0x6875_6164_616e_0001;

fn mig(version: u32) -> impl Fn(tokio_postgres::Error) -> StoreError {
    move |e| StoreError::Migration { version, message: db(e).to_string() }
}

/// Bring the schema up to [`LATEST`]; refuse a database from a newer huadan. Returns
/// whether transcript search has a trigram index (`pg_trgm` available).
pub(crate) async fn migrate(client: &mut Client) -> Result<bool, StoreError> {
    let mut tx = client.transaction().await.map_err(mig(0))?;
    match migrate_in(&mut tx).await {
        Ok(trigram) => {
            tx.commit().await.map_err(mig(LATEST))?;
            Ok(trigram)
        }
        Err(e) => {
            // Release the lock now, not whenever the connection is next used.
            let _ = tx.rollback().await;
            Err(e)
        }
    }
}

async fn migrate_in(tx: &mut tokio_postgres::Transaction<'_>) -> Result<bool, StoreError> {
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&LOCK_KEY]).await.map_err(mig(0))?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
             version    INTEGER PRIMARY KEY,
             name       TEXT    NOT NULL,
             applied_at BIGINT  NOT NULL
         )",
    )
    .await
    .map_err(mig(0))?;
    let current: i32 =
        tx.query_one("SELECT coalesce(max(version), 0) FROM schema_migrations", &[]).await.map_err(mig(0))?.get(0);
    let current = u32::try_from(current).unwrap_or(0);
    if current > LATEST {
        return Err(StoreError::Migration {
            version: current,
            message: format!(
                "the database was written by a newer huadan (schema {current}, this build knows {LATEST}); upgrade huadan"
            ),
        });
    }
    for &(version, name, sql) in MIGRATIONS.iter().filter(|(v, _, _)| *v > current) {
        let sp = tx.savepoint("migration").await.map_err(mig(version))?;
        sp.batch_execute(sql).await.map_err(mig(version))?;
        let now = jiff::Timestamp::now().as_millisecond();
        sp.execute(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
            &[&(version as i32), &name, &now],
        )
        .await
        .map_err(mig(version))?;
        sp.commit().await.map_err(mig(version))?;
        tracing::info!(version, name, "applied store migration");
    }
    Ok(trigram_index(tx).await)
}

/// Index transcripts with `pg_trgm` when the extension is (or can be) installed, so
/// that `ILIKE '%text%'` searches use an index. Without it search still works, by scan.
async fn trigram_index(tx: &mut tokio_postgres::Transaction<'_>) -> bool {
    // A failed statement aborts the transaction: try inside a savepoint. The extension
    // goes into `public`, never into a per-store schema (dropping that schema would take
    // the extension, and every other schema's index on it, along).
    let Ok(sp) = tx.savepoint("trigram").await else { return false };
    let schema: Option<String> = async {
        if let Err(e) = sp.batch_execute("CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public").await {
            tracing::info!(error = %db(e), "pg_trgm not available: transcript search scans");
            return None;
        }
        sp.query_opt(
            "SELECT n.nspname::text FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
             WHERE e.extname = 'pg_trgm'",
            &[],
        )
        .await
        .ok()
        .flatten()
        .map(|row| row.get(0))
    }
    .await;
    let Some(schema) = schema else {
        let _ = sp.rollback().await;
        return false;
    };
    // The schema name comes from the catalog; quoted as an identifier all the same.
    let sql = format!(
        "CREATE INDEX IF NOT EXISTS calls_transcript_trgm ON calls USING gin (transcript {}.gin_trgm_ops)
         WITH (gin_pending_list_limit = 16384) WHERE transcript IS NOT NULL",
        quote_ident(&schema)
    );
    match sp.batch_execute(&sql).await {
        Ok(()) => sp.commit().await.is_ok(),
        Err(e) => {
            tracing::info!(error = %db(e), "no trigram index: transcript search scans");
            let _ = sp.rollback().await;
            false
        }
    }
}

/// `"name"` with inner quotes doubled.
pub(crate) fn quote_ident(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}
