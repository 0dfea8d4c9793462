//! [`ThreadedWriter`]: file output written by a thread of its own, so that the write
//! system calls (copying hundreds of MB into the page cache) overlap with reading and
//! rendering the next records instead of following them.

use std::fs::File;
use std::io::{self, Write};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

/// Bytes collected before a chunk is handed to the writing thread.
const CHUNK: usize = 256 * 1024;
/// Chunks waiting for the writing thread (bounds memory to about this many × [`CHUNK`]).
const QUEUED: usize = 4;

/// A buffered `Write` over a file whose full buffers are written by another thread.
pub(crate) struct ThreadedWriter {
    buf: Vec<u8>,
    tx: Option<SyncSender<Vec<u8>>>,
    /// Written chunks coming back to be filled again (no fresh allocation, and no page
    /// faults, per chunk).
    spare: Receiver<Vec<u8>>,
    thread: Option<JoinHandle<io::Result<File>>>,
}

impl ThreadedWriter {
    /// Start the writing thread for `file`.
    pub fn new(file: File) -> io::Result<Self> {
        let (tx, rx) = sync_channel::<Vec<u8>>(QUEUED);
        let (spare_tx, spare) = sync_channel::<Vec<u8>>(QUEUED + 2);
        let thread = std::thread::Builder::new().name("huadan-export-write".into()).spawn(move || {
            let mut file = file;
            for mut chunk in rx {
                file.write_all(&chunk)?;
                chunk.clear();
                let _ = spare_tx.try_send(chunk);
            }
            Ok(file)
        })?;
        Ok(ThreadedWriter { buf: Vec::with_capacity(CHUNK * 2), tx: Some(tx), spare, thread: Some(thread) })
    }

    /// Hand what is buffered to the writing thread.
    fn send(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let next = self.spare.try_recv().unwrap_or_else(|_| Vec::with_capacity(CHUNK * 2));
        let chunk = std::mem::replace(&mut self.buf, next);
        let sent = self.tx.as_ref().is_some_and(|tx| tx.send(chunk).is_ok());
        if sent { Ok(()) } else { Err(self.stopped()) }
    }

    /// The writing thread stopped early: its error.
    fn stopped(&mut self) -> io::Error {
        self.tx = None;
        match self.thread.take().map(JoinHandle::join) {
            Some(Ok(Err(e))) => e,
            _ => io::Error::other("the export's file writer stopped unexpectedly"),
        }
    }

    /// Write everything out, wait for the writing thread and return the file.
    pub fn finish(mut self) -> io::Result<File> {
        self.send()?;
        self.tx = None;
        match self.thread.take().map(JoinHandle::join) {
            Some(Ok(result)) => result,
            _ => Err(io::Error::other("the export's file writer stopped unexpectedly")),
        }
    }
}

impl Write for ThreadedWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK {
            self.send()?;
        }
        Ok(data.len())
    }

    /// Hands the buffer to the writing thread (which writes it soon); [`ThreadedWriter::finish`]
    /// waits until everything is written.
    fn flush(&mut self) -> io::Result<()> {
        self.send()
    }
}

impl Drop for ThreadedWriter {
    fn drop(&mut self) {
        // Not finished (an error elsewhere): stop the thread and wait for it.
        self.tx = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_everything_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out");
        let mut w = ThreadedWriter::new(File::create(&path).unwrap()).unwrap();
        let mut want = Vec::new();
        for i in 0..5000u32 {
            let line = format!("{i} {}\n", "x".repeat((i % 300) as usize));
            w.write_all(line.as_bytes()).unwrap();
            want.extend_from_slice(line.as_bytes());
        }
        w.flush().unwrap();
        w.finish().unwrap().sync_all().unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), want);
    }

    #[test]
    fn a_failed_write_is_reported() {
        // A file opened read-only: the thread's first write fails, and the failure
        // comes back to the caller (at a later send or at finish), never silently.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ro");
        std::fs::write(&path, b"").unwrap();
        let mut w = ThreadedWriter::new(File::open(&path).unwrap()).unwrap();
        let chunk = vec![b'a'; CHUNK];
        let mut failed = false;
        for _ in 0..(QUEUED + 4) {
            if w.write_all(&chunk).is_err() {
                failed = true;
                break;
            }
        }
        assert!(failed || w.finish().is_err());
    }
}
