//! Writing batches as `huadan sync` does: the next batch is prepared while the batches
//! before it are written, as many at once as the store has write lanes, one source's in
//! order. A bulk loader may prepare more than one batch ahead (`ahead`).

use huadan_store::{Batch, Prepared, Store, StoreError, WriteStats};
use std::collections::VecDeque;
use tokio::task::JoinHandle;

/// Write `batches` with up to `lanes` writes under way at once (each on its own
/// connection) while up to `ahead` (at least one) of the following batches are being
/// prepared; a source's batches are written one after the other, in order (each carries
/// that source's checkpoint). `ahead` = 1 is what `huadan sync` does.
///
/// Each preparation is a task of its own, started as soon as there is room for it: a
/// preparation that only starts when its future is first polled (as with
/// `StreamExt::buffered`, which hands out a finished item without polling the ones behind
/// it) leaves the encoders idle while the writer works.
pub async fn write_ahead<S: Store + Clone + 'static>(
    store: &S,
    batches: impl IntoIterator<Item = Batch>,
    lanes: usize,
    ahead: usize,
) -> Result<WriteStats, StoreError> {
    let stopped = |e: tokio::task::JoinError| StoreError::Db(format!("a write stopped unexpectedly: {e}"));
    let mut stats = WriteStats::default();
    let mut running: tokio::task::JoinSet<(String, Result<WriteStats, StoreError>)> = tokio::task::JoinSet::new();
    let mut busy: Vec<String> = Vec::new();
    let mut batches = batches.into_iter();
    let mut preparing: VecDeque<JoinHandle<Result<Prepared, StoreError>>> = VecDeque::new();
    loop {
        while preparing.len() < ahead.max(1) {
            let Some(batch) = batches.next() else { break };
            let store = store.clone();
            preparing.push_back(tokio::spawn(async move { store.prepare(batch).await }));
        }
        let Some(next) = preparing.pop_front() else { break };
        let prepared = next.await.map_err(stopped)??;
        let source = prepared.source().to_string();
        while running.len() >= lanes.max(1) || busy.contains(&source) {
            let Some(done) = running.join_next().await else { break };
            let (done, written) = done.map_err(stopped)?;
            busy.retain(|s| *s != done);
            stats += written?;
        }
        busy.push(source.clone());
        let store = store.clone();
        running.spawn(async move { (source, store.write(prepared).await) });
    }
    while let Some(done) = running.join_next().await {
        stats += done.map_err(stopped)?.1?;
    }
    Ok(stats)
}
