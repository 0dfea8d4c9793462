//! Compression dictionaries, the part both stores share: which dictionary each provider's
//! records are compressed with (the format is in `crate::packing`), and when to train
//! the next one.
//!
//! A provider's records are written with Snappy until the store has written
//! [`TRAIN_AFTER`] of them; then the store's [`Trainer`] (one training at a time) samples
//! that provider's newest [`SAMPLES`] stored bodies, trains a dictionary of up to
//! [`DICT_SIZE`] bytes, stores it in the database's `body_dicts` table, and only then
//! hands it back: no body is ever written with a dictionary that is not durably stored
//! first. Bodies already written stay as they are (both forms read back). Where the
//! samples come from and how the dictionary is stored is each backend's
//! (`sqlite::dicts`, `postgres::dicts`).

use crate::packing::{self, Codebook, Dict};
use huadan_model::{CallRecord, Provider};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError, RwLock};

/// Records of a provider written without a dictionary before one is trained.
pub(crate) const TRAIN_AFTER: u64 = 2_000;
/// Stored bodies a dictionary is trained on (about 100 times the dictionary's size).
pub(crate) const SAMPLES: usize = 1_000;
/// Largest dictionary.
pub(crate) const DICT_SIZE: usize = 32 * 1024;
/// A failed training is tried again after this many times more records.
pub(crate) const BACKOFF: u64 = 4;

/// How a training's outcome is handed back: the dictionary (already stored in the
/// database), or why there is none.
pub(crate) type Done = Box<dyn FnOnce(Result<&'static Dict, String>) + Send>;

/// A backend's way of training a dictionary in the background.
pub(crate) trait Trainer: Send + Sync + 'static {
    /// Start training `provider`'s dictionary off the caller's thread (sample its
    /// newest stored bodies, train, store the dictionary durably), then call `done`
    /// exactly once with the outcome. `Err` when it cannot even start (`done` is then
    /// never called).
    fn start(&self, provider: &'static str, done: Done) -> Result<(), String>;
}

/// A store's dictionaries and their training.
pub(crate) struct Dicts {
    book: RwLock<Arc<Codebook>>,
    pub(crate) training: Mutex<Training>,
    trainer: Box<dyn Trainer>,
}

/// Where the trainings stand.
#[derive(Default)]
pub(crate) struct Training {
    /// Records written without a dictionary since the store opened, per provider.
    pub without: HashMap<&'static str, u64>,
    /// How many such records make a provider's next training start.
    pub after: HashMap<&'static str, u64>,
    /// A training is running.
    pub busy: bool,
}

/// A codebook from a database's `body_dicts` rows `(id, provider, bytes)` in the order
/// they were created: every dictionary registered, the newest of each provider used.
/// A damaged one is left out (its bodies will not read back, and say so).
pub(crate) fn book_from(rows: impl IntoIterator<Item = (i64, String, Vec<u8>)>) -> Codebook {
    let mut book = Codebook::new();
    for (id, provider, bytes) in rows {
        match packing::register(bytes) {
            Some(d) if d.id as i64 == id => {
                if let Some(p) = Provider::ALL.iter().find(|p| p.as_str() == provider) {
                    book.insert(p.as_str(), d);
                }
            }
            _ => tracing::warn!(dictionary = format!("{id:016x}"), "a stored compression dictionary is damaged"),
        }
    }
    book
}

/// Train a dictionary from sample stored bodies `(id, body)` and register it: the
/// dictionary and how many samples it learnt from. A body this process cannot read is
/// left out; too few samples is an error.
pub(crate) fn train_from<'a>(
    bodies: impl IntoIterator<Item = (&'a str, &'a [u8])>,
) -> Result<(&'static Dict, usize), String> {
    let (mut data, mut sizes) = (Vec::new(), Vec::new());
    for (id, body) in bodies {
        let start = data.len();
        if packing::unpack_into(id, body, &mut data).is_ok() {
            sizes.push(data.len() - start);
        } else {
            data.truncate(start);
        }
    }
    if sizes.len() < SAMPLES / 4 {
        return Err(format!("only {} records to learn from", sizes.len()));
    }
    let bytes = packing::train(&data, &sizes, DICT_SIZE)?;
    let dict = packing::register(bytes).ok_or_else(|| "zstd cannot load the dictionary it trained".to_string())?;
    Ok((dict, sizes.len()))
}

impl Dicts {
    /// Dictionaries starting with `book` (what the database holds), trained by `trainer`.
    pub fn new(book: Codebook, trainer: impl Trainer) -> Arc<Self> {
        Arc::new(Dicts {
            book: RwLock::new(Arc::new(book)),
            training: Mutex::new(Training::default()),
            trainer: Box::new(trainer),
        })
    }

    /// What new records are compressed with.
    pub fn book(&self) -> Arc<Codebook> {
        self.book.read().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Add dictionaries loaded again from the database (another process trained them):
    /// a provider that had none gets one; one that had one keeps it.
    pub fn merge(&self, loaded: Codebook) {
        let mut book = self.book.write().unwrap_or_else(PoisonError::into_inner);
        let mut merged = (**book).clone();
        for (provider, d) in loaded {
            merged.entry(provider).or_insert(d);
        }
        *book = Arc::new(merged);
    }

    /// What a batch of `records` is compressed with, and per provider how many of them
    /// it has no dictionary for (to hand to [`Dicts::written`] once they are committed).
    pub fn for_batch(&self, records: &[CallRecord]) -> (Arc<Codebook>, Vec<(&'static str, u64)>) {
        let book = self.book();
        let missing = missing(&book, records);
        (book, missing)
    }

    /// Note records committed without a dictionary; start a training when a provider
    /// has had enough of them and none is running.
    pub fn written(self: &Arc<Self>, missing: &[(&'static str, u64)]) {
        if missing.is_empty() {
            return;
        }
        let provider = {
            let mut t = self.training.lock().unwrap_or_else(PoisonError::into_inner);
            for (p, n) in missing {
                *t.without.entry(p).or_default() += n;
            }
            if t.busy {
                return;
            }
            let book = self.book();
            // The provider with the most records waiting first (ties by name).
            let due = t
                .without
                .iter()
                .filter(|(p, n)| !book.contains_key(**p) && **n >= t.after.get(**p).copied().unwrap_or(TRAIN_AFTER))
                .max_by_key(|(p, n)| (**n, **p));
            let Some((p, _)) = due else { return };
            let p = *p;
            t.busy = true;
            p
        };
        let me = self.clone();
        if let Err(e) = self.trainer.start(provider, Box::new(move |result| me.trained(provider, result))) {
            tracing::warn!(error = %e, "cannot start a dictionary training; records stay compressed with Snappy");
            self.training.lock().unwrap_or_else(PoisonError::into_inner).busy = false;
        }
    }

    /// A training's end: publish its dictionary, or back off.
    fn trained(&self, provider: &'static str, result: Result<&'static Dict, String>) {
        let mut t = self.training.lock().unwrap_or_else(PoisonError::into_inner);
        t.busy = false;
        match result {
            Ok(dict) => {
                let mut book = self.book.write().unwrap_or_else(PoisonError::into_inner);
                let mut next = (**book).clone();
                next.insert(provider, dict);
                *book = Arc::new(next);
                tracing::debug!(provider, ?dict, "trained a compression dictionary");
            }
            Err(e) => {
                let after = t.after.entry(provider).or_insert(TRAIN_AFTER);
                *after = after.saturating_mul(BACKOFF);
                tracing::info!(provider, error = %e, retry_after = *after, "no compression dictionary yet");
            }
        }
        t.without.insert(provider, 0);
    }
}

/// Per provider, how many of `records` `book` has no dictionary for.
fn missing(book: &Codebook, records: &[CallRecord]) -> Vec<(&'static str, u64)> {
    let mut out: Vec<(&'static str, u64)> = Vec::new();
    for r in records {
        let p = r.provider.as_str();
        if book.contains_key(p) {
            continue;
        }
        match out.iter_mut().find(|(q, _)| *q == p) {
            Some((_, n)) => *n += 1,
            None => out.push((p, 1)),
        }
    }
    out
}
