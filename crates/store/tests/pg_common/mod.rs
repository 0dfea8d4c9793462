//! PostgreSQL test support: each test gets its own schema, dropped when the guard goes.
#![allow(dead_code)]

use huadan_store::{DynStore, PgStore};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

/// The test server's URL, or `None` (and a printed reason) when the tests must skip.
pub fn url() -> Option<String> {
    match std::env::var("HUADAN_TEST_POSTGRES_URL") {
        Ok(u) if !u.is_empty() => Some(u),
        _ => {
            eprintln!("skipped: HUADAN_TEST_POSTGRES_URL not set (scripts/test sets it)");
            None
        }
    }
}

/// A schema that is dropped (with everything in it) when this is dropped.
pub struct Schema {
    pub url: String,
    pub name: String,
}

impl Schema {
    /// A fresh, unique schema name on the test server (created by the store's open).
    pub fn new(url: &str) -> Schema {
        static N: AtomicU32 = AtomicU32::new(0);
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
        let name = format!("t_{}_{}_{}", std::process::id(), N.fetch_add(1, Ordering::SeqCst), nanos);
        Schema { url: url.to_string(), name }
    }

    /// The server URL with `application_name` = the schema name, so that the schema's
    /// connections can be found (and ended) when it is dropped.
    pub fn store_url(&self) -> String {
        let sep = if self.url.contains('?') { '&' } else { '?' };
        format!("{}{sep}application_name={}", self.url, self.name)
    }

    /// A connection of its own (search path = this schema).
    pub async fn client(&self) -> tokio_postgres::Client {
        let mut config: tokio_postgres::Config = self.url.parse().unwrap();
        config.options(format!("-c search_path={},public", self.name));
        let (client, conn) = config.connect(tokio_postgres::NoTls).await.unwrap();
        tokio::spawn(conn);
        client
    }
}

impl Drop for Schema {
    fn drop(&mut self) {
        let (url, name) = (self.url.clone(), self.name.clone());
        // Drop may run inside a runtime: do the cleanup on a thread of its own.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            rt.block_on(async move {
                if let Ok((client, conn)) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await {
                    tokio::spawn(conn);
                    // The test's runtime may be the one blocked in this drop, so its pooled
                    // connections cannot finish what they were doing: end them first.
                    let _ = client
                        .execute(
                            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1",
                            &[&name],
                        )
                        .await;
                    let _ = client
                        .batch_execute(&format!("SET lock_timeout = '10s'; DROP SCHEMA IF EXISTS {name} CASCADE"))
                        .await;
                }
            });
        })
        .join();
    }
}

/// A fresh PostgreSQL store in its own schema, or `None` when the tests must skip.
pub async fn pg_store() -> Option<(Schema, DynStore)> {
    let url = url()?;
    let schema = Schema::new(&url);
    let s = PgStore::open_in_schema(&schema.store_url(), &schema.name).await.unwrap();
    Some((schema, Arc::new(s)))
}
