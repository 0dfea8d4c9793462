//! A small fixed pool of read connections (WAL lets them read while the one writer
//! writes). Callers run on blocking threads, so waiting for a free connection blocks.

use rusqlite::Connection;
use std::sync::{Condvar, Mutex, PoisonError};

/// Read connections, handed out one at a time.
pub(crate) struct ReadPool {
    free: Mutex<Vec<Connection>>,
    available: Condvar,
}

/// A borrowed connection; goes back to the pool when dropped.
pub(crate) struct Lease<'a> {
    pool: &'a ReadPool,
    conn: Option<Connection>,
}

impl ReadPool {
    /// A pool over already opened connections.
    pub fn new(conns: Vec<Connection>) -> Self {
        ReadPool { free: Mutex::new(conns), available: Condvar::new() }
    }

    /// Take a connection, waiting for one to be returned if all are in use.
    pub fn get(&self) -> Lease<'_> {
        let mut free = self.free.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            if let Some(conn) = free.pop() {
                return Lease { pool: self, conn: Some(conn) };
            }
            free = self.available.wait(free).unwrap_or_else(PoisonError::into_inner);
        }
    }
}

impl std::ops::Deref for Lease<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        // Only `drop` takes the connection out.
        self.conn.as_ref().unwrap_or_else(|| unreachable!("lease used after drop"))
    }
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            self.pool.free.lock().unwrap_or_else(PoisonError::into_inner).push(conn);
            self.pool.available.notify_one();
        }
    }
}
