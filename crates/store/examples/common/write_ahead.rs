//! Writing batches as `huadan sync` does: batch N+1 is prepared while the batches before
//! it are written, as many at once as the store has write lanes, one source's in order.

use huadan_store::{Batch, Store, StoreError, WriteStats};

/// Write `batches` with up to `lanes` writes under way at once (each on its own
/// connection), the next batch prepared meanwhile; a source's batches are written one
/// after the other, in order (each carries that source's checkpoint).
pub async fn write_ahead<S: Store + Clone + 'static>(
    store: &S,
    batches: impl IntoIterator<Item = Batch>,
    lanes: usize,
) -> Result<WriteStats, StoreError> {
    let stopped = |e: tokio::task::JoinError| StoreError::Db(format!("a write stopped unexpectedly: {e}"));
    let mut stats = WriteStats::default();
    let mut running: tokio::task::JoinSet<(String, Result<WriteStats, StoreError>)> = tokio::task::JoinSet::new();
    let mut busy: Vec<String> = Vec::new();
    for batch in batches {
        let prepared = store.prepare(batch).await?;
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
