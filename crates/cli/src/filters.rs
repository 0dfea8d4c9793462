//! CLI filter flags → [`huadan_store::CallFilter`], with errors naming the flag, and the
//! shared set-up of the read commands (config, time zone, store).

use crate::args::FilterArgs;
use crate::error::CliError;
use huadan_store::{CallFilter, DynStore, StoreError};
use std::path::Path;

/// Parse the shared filter flags; times without an offset are read in `tz`.
pub fn to_filter(args: &FilterArgs, tz: &jiff::tz::TimeZone) -> Result<CallFilter, CliError> {
    fn list<T: std::str::FromStr>(flag: &str, values: &[String]) -> Result<Vec<T>, CliError>
    where
        T::Err: std::fmt::Display,
    {
        values.iter().map(|v| v.parse::<T>().map_err(|e| CliError::usage(format!("{flag}: {e}")))).collect()
    }
    let time = |flag: &str, v: &Option<String>| -> Result<_, CliError> {
        v.as_deref()
            .map(|s| huadan_model::time::parse_user_time(s, tz).map_err(|e| CliError::usage(format!("{flag}: {e}"))))
            .transpose()
    };
    let filter = CallFilter {
        sources: args.sources.clone(),
        providers: list("--provider", &args.providers)?,
        since: time("--since", &args.since)?,
        until: time("--until", &args.until)?,
        directions: list("--direction", &args.directions)?,
        dispositions: list("--disposition", &args.dispositions)?,
        agent: args.agent.clone(),
        number: args.number.clone(),
        text: args.text.clone(),
    };
    if let (Some(since), Some(until)) = (filter.since, filter.until)
        && since >= until
    {
        return Err(CliError::usage(format!("--since ({since}) must be before --until ({until})")));
    }
    Ok(filter)
}

/// What a read command (`calls`, `stats`) works with.
pub struct ReadContext {
    /// The configured time zone.
    pub tz: jiff::tz::TimeZone,
    /// The parsed filter.
    pub filter: CallFilter,
    /// The open store.
    pub store: DynStore,
}

/// Load the config, parse the filter flags, open the store, and check that every
/// `--source` names a configured source or one with stored records.
pub async fn prepare(config_path: Option<&Path>, args: &FilterArgs) -> Result<ReadContext, CliError> {
    let config = crate::commands::load_config(config_path)?;
    let tz = config.tz();
    let filter = to_filter(args, &tz)?;
    let store = huadan_store::open(&config.store.url).await.map_err(store_open_error)?;
    let unknown: Vec<&String> = filter.sources.iter().filter(|s| config.source(s).is_none()).collect();
    if !unknown.is_empty() {
        let stored = store.sources().await?;
        if let Some(name) = unknown.iter().find(|n| !stored.iter().any(|s| &&s.state.source == *n)) {
            let mut known: Vec<&str> = config.sources.iter().map(|s| s.name.as_str()).collect();
            known.extend(stored.iter().map(|s| s.state.source.as_str()));
            known.sort_unstable();
            known.dedup();
            let known = if known.is_empty() { "none yet".to_string() } else { known.join(", ") };
            return Err(CliError::usage(format!("--source: no source is named `{name}` (known: {known})")));
        }
    }
    Ok(ReadContext { tz, filter, store })
}

/// A store URL the backend rejects is a configuration error (exit 2); a store that
/// cannot be opened is a runtime error (exit 1).
fn store_open_error(e: StoreError) -> CliError {
    match e {
        StoreError::BadUrl(_) => CliError::usage(format!("`store.url`: {e}")),
        other => other.into(),
    }
}
