//! A batch made ready ahead of its write: [`crate::Store::prepare`] serialises and
//! compresses it (no database access), [`crate::Store::write`] writes it. A caller that
//! prepares batch N+1 while batch N is being written keeps the encoding threads and the
//! database busy at the same time instead of one after the other.

use crate::content::Encoded;
use crate::streaming::StreamedRows;
use crate::{Batch, StoreError, SyncState};
use huadan_model::CallRecord;

/// A [`Batch`] made ready for one store's [`crate::Store::write`].
pub struct Prepared {
    pub(crate) source: String,
    pub(crate) state: Option<SyncState>,
    pub(crate) rows: Rows,
}

/// What a [`Prepared`] batch holds.
pub(crate) enum Rows {
    /// The records as they came (a store without a prepare step writes them with
    /// `commit`).
    Plain(Vec<CallRecord>),
    /// Encoded by the store named `store`: only that kind of store may write them (the
    /// bodies' compression differs between backends).
    Encoded {
        /// Which backend encoded them (`sqlite` or `postgres`).
        store: &'static str,
        /// The rows, in the batch's order (PostgreSQL: sorted by id).
        rows: Vec<Encoded>,
        /// Providers of the batch that had no compression dictionary yet, with their
        /// record counts (SQLite: they count towards training one).
        missing: Vec<(&'static str, u64)>,
    },
    /// Still being encoded by the store named `store` (SQLite): the rows come out in
    /// order as they are ready, so the write can start before the encoding ends.
    Streamed {
        /// Which backend is encoding them.
        store: &'static str,
        /// The rows, in the batch's order.
        rows: StreamedRows,
        /// As for [`Rows::Encoded`].
        missing: Vec<(&'static str, u64)>,
    },
}

impl Prepared {
    /// A batch kept as it is: written by the store's [`crate::Store::commit`].
    pub fn plain(batch: Batch) -> Self {
        Prepared { source: batch.source, state: batch.state, rows: Rows::Plain(batch.records) }
    }

    /// Rows encoded by the backend `store`.
    pub(crate) fn encoded(
        store: &'static str,
        source: String,
        state: Option<SyncState>,
        rows: Vec<Encoded>,
        missing: Vec<(&'static str, u64)>,
    ) -> Self {
        Prepared { source, state, rows: Rows::Encoded { store, rows, missing } }
    }

    /// The source the batch belongs to.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// How many records the batch holds.
    pub fn len(&self) -> usize {
        match &self.rows {
            Rows::Plain(r) => r.len(),
            Rows::Encoded { rows, .. } => rows.len(),
            Rows::Streamed { rows, .. } => rows.len(),
        }
    }

    /// Whether the batch holds no records (it may still carry a state).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The batch as it came, for a store that writes plain batches; an error if another
    /// store encoded it.
    pub fn into_batch(self) -> Result<Batch, StoreError> {
        match self.rows {
            Rows::Plain(records) => Ok(Batch { source: self.source, records, state: self.state }),
            Rows::Encoded { store, .. } | Rows::Streamed { store, .. } => {
                Err(wrong_store(store, "a store that writes plain batches"))
            }
        }
    }
}

/// The error for a batch prepared by one kind of store and handed to another.
pub(crate) fn wrong_store(prepared_by: &str, written_by: &str) -> StoreError {
    StoreError::Db(format!(
        "a batch prepared by the {prepared_by} store cannot be written by {written_by}; prepare it with the store that writes it"
    ))
}
