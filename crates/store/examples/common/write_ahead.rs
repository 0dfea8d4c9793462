//! Writing batches as `huadan sync` does: batch N+1 is prepared while batch N is written.

use huadan_store::{Batch, Store, StoreError, WriteStats};

/// Write `batches` in order, each prepared while the one before it is written.
pub async fn write_ahead(
    store: &impl Store,
    batches: impl IntoIterator<Item = Batch>,
) -> Result<WriteStats, StoreError> {
    let mut stats = WriteStats::default();
    let mut pending = None;
    for batch in batches {
        let next = store.prepare(batch);
        pending = Some(match pending.take() {
            Some(write) => {
                let (written, next) = tokio::join!(store.write(write), next);
                stats += written?;
                next?
            }
            None => next.await?,
        });
    }
    if let Some(write) = pending {
        stats += store.write(write).await?;
    }
    Ok(stats)
}
