//! Setting `recordings[n].archived_path` on the stored record once its object is written.
//!
//! Done through the generic [`Store`] API (read the record, set the path, commit it back),
//! so it works on every backend without a backend-specific method.

use futures::FutureExt;
use huadan_store::{Batch, DynStore};
use std::sync::Arc;

use crate::archiver::ArchivedHook;

/// A hook for [`crate::Archiver::with_hook`] that writes the archive key into the stored
/// record's `recordings[n].archived_path`.
///
/// A recording is identified by its index `n` (as in the queue and the key
/// `{id}-{n}`), not by its link: vendors rotate signed links, and a re-sync that stored
/// a fresh link for the same recording does not make the archived copy any less its
/// audio. A record that no longer has a recording at `n` is left alone (the queue
/// still knows the key).
pub fn store_hook(store: DynStore) -> ArchivedHook {
    Arc::new(move |job, fetched| {
        let store = store.clone();
        async move {
            let id = &job.job.record_id;
            let Some(mut record) = store.call(id).await.map_err(|e| e.to_string())? else {
                return Err(format!("record {id} is not in the store"));
            };
            let n = job.job.index as usize;
            match record.recordings.get_mut(n) {
                Some(r) => {
                    if r.archived_path.as_deref() == Some(fetched.key.as_str()) {
                        return Ok(());
                    }
                    r.archived_path = Some(fetched.key.clone());
                }
                None => return Err(format!("record {id} no longer has recordings[{n}]")),
            }
            let source = record.source.clone();
            store.commit(Batch { source, records: vec![record], state: None }).await.map_err(|e| e.to_string())?;
            Ok(())
        }
        .boxed()
    })
}
