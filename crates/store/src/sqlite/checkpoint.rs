//! WAL checkpoints on a thread of their own.
//!
//! Copying the WAL's pages back into the database file (and the two fsyncs around it)
//! is about a third of a commit's time when the committing writer does it itself
//! (SQLite's automatic checkpoint). Here a background thread with its own connection
//! runs a `PASSIVE` checkpoint (which never blocks the writer nor readers) after every
//! [`EVERY_RECORDS`] written records, so the writer goes on writing meanwhile. Once the
//! WAL is fully copied back, SQLite rewinds it at the next write. The writer's own
//! automatic checkpoint stays on, at a higher threshold, as a backstop in case the
//! background one falls behind.

use rusqlite::Connection;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};

/// Records written between two background checkpoints (about 20–40 MB of WAL).
pub(crate) const EVERY_RECORDS: usize = 12_000;

/// Handle held by the store: counts written records and wakes the thread. Dropping
/// it stops the thread and waits for it, so that its connection is closed when the
/// store is (a store opened next in the same process may need the files to itself).
pub(crate) struct Checkpointer {
    wake: SyncSender<()>,
    thread: Option<std::thread::JoinHandle<()>>,
    since: AtomicUsize,
}

impl Checkpointer {
    /// Start the thread on its own connection to `path`. The thread ends when the
    /// handle is dropped.
    pub fn start(path: &Path, configure: impl FnOnce(&Connection) -> rusqlite::Result<()>) -> Result<Self, String> {
        let conn = Connection::open(path).map_err(|e| e.to_string())?;
        configure(&conn).map_err(|e| e.to_string())?;
        let (wake, rx) = sync_channel(1);
        let thread = std::thread::Builder::new()
            .name("huadan-checkpt".into())
            .spawn(move || run(&conn, &rx))
            .map_err(|e| format!("cannot start the checkpoint thread: {e}"))?;
        Ok(Checkpointer { wake, thread: Some(thread), since: AtomicUsize::new(0) })
    }

    /// Note `records` written (committed); wake the thread every [`EVERY_RECORDS`].
    pub fn written(&self, records: usize) {
        let before = self.since.fetch_add(records, Ordering::Relaxed);
        if before + records >= EVERY_RECORDS {
            self.since.store(0, Ordering::Relaxed);
            match self.wake.try_send(()) {
                // Full: a checkpoint is already requested, this one joins it.
                Ok(()) | Err(TrySendError::Full(())) => {}
                Err(TrySendError::Disconnected(())) => {
                    tracing::warn!("the SQLite checkpoint thread stopped; the writer checkpoints by itself")
                }
            }
        }
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        // Dropping the only sender (swapped for one whose receiver is already gone)
        // ends the thread's loop, after a checkpoint in progress.
        drop(std::mem::replace(&mut self.wake, sync_channel(0).0));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn run(conn: &Connection, wake: &Receiver<()>) {
    while wake.recv().is_ok() {
        // (busy, WAL frames, frames copied back). A failure is not fatal: the writer's
        // automatic checkpoint still runs; the next request tries again.
        let res = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?, r.get::<_, i64>(2)?))
        });
        match res {
            Ok((_, log, done)) => tracing::trace!(log, done, "background WAL checkpoint"),
            Err(e) => tracing::debug!("background WAL checkpoint failed: {e}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_the_wal_back_in_the_background_once_enough_was_written() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.db");
        let writer = Connection::open(&path).unwrap();
        writer
            .execute_batch(
                "PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 0;
                 CREATE TABLE t (x BLOB); INSERT INTO t VALUES (zeroblob(200000));",
            )
            .unwrap();
        // Until a checkpoint, the rows live in the WAL only.
        let db_len = || std::fs::metadata(&path).unwrap().len();
        assert!(db_len() < 200_000);
        let c = Checkpointer::start(&path, |_| Ok(())).unwrap();
        c.written(EVERY_RECORDS - 1);
        std::thread::sleep(std::time::Duration::from_millis(50));
        assert!(db_len() < 200_000, "no checkpoint before EVERY_RECORDS");
        c.written(1);
        // Bounded wait (up to 10 s) for the thread's checkpoint to reach the file.
        let copied = (0..1000).any(|_| {
            std::thread::sleep(std::time::Duration::from_millis(10));
            db_len() >= 200_000
        });
        assert!(copied, "the background checkpoint copied the WAL back");
    }
}
