//! `[recordings] archive = true` under `huadan serve`: the archiver runs for as long as
//! the server does, fed by the post-commit hook of every scheduled or on-demand sync.

use crate::error::ServerError;
use huadan_config::{Config, ConfigError};
use huadan_recordings::{Archiver, RecordingsConfig};
use huadan_store::DynStore;
use std::sync::Arc;

/// The archiver `[recordings]` asks for (`None`: no section, or `archive = false`).
pub fn archiver(config: &Config, store: &DynStore) -> Result<Option<Arc<Archiver>>, ServerError> {
    let Some(table) = &config.recordings else { return Ok(None) };
    let bad = |e: huadan_recordings::RecordingsError| ConfigError::invalid("recordings", e.to_string());
    let cfg = RecordingsConfig::from_table(table).map_err(bad)?;
    if !cfg.archive {
        return Ok(None);
    }
    Ok(Some(Archiver::open(&cfg, &config.store.url, store.clone()).map_err(bad)?))
}
