//! CLI filter flags → [`huadan_store::CallFilter`], with errors naming the flag.

use crate::args::FilterArgs;
use crate::error::CliError;
use huadan_store::CallFilter;

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
    Ok(CallFilter {
        sources: args.sources.clone(),
        providers: list("--provider", &args.providers)?,
        since: time("--since", &args.since)?,
        until: time("--until", &args.until)?,
        directions: list("--direction", &args.directions)?,
        dispositions: list("--disposition", &args.dispositions)?,
        agent: args.agent.clone(),
        number: args.number.clone(),
        text: args.text.clone(),
    })
}
