//! One module per subcommand. Each takes its parsed arguments and returns the exit code.

pub mod calls;
pub mod copy;
pub mod demo;
pub mod doctor;
pub mod export;
pub mod init;
pub mod recordings;
pub mod sandbox;
pub mod serve;
pub mod stats;
pub mod sync;

use crate::error::CliError;
use huadan_config::Config;
use std::path::Path;

/// Load the config (explicit path, `$HUADAN_CONFIG` or `./huadan.toml`) and validate
/// every source's vendor settings; any problem is a [`CliError::Config`] (exit 2).
pub fn load_config(path: Option<&Path>) -> Result<Config, CliError> {
    let path = Config::locate(path);
    if !path.exists() {
        return Err(CliError::usage(format!(
            "no config file at {}; run `huadan init` to write one, or pass --config PATH",
            path.display()
        )));
    }
    let config = Config::load(&path)?;
    huadan_vendors::validate(&config)?;
    Ok(config)
}

/// Open the configured store.
pub async fn open_store(config: &Config) -> Result<huadan_store::DynStore, CliError> {
    Ok(huadan_store::open(&config.store.url).await?)
}

/// Resolves on the first SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match (signal(SignalKind::interrupt()), signal(SignalKind::terminate())) {
            (Ok(mut int), Ok(mut term)) => {
                tokio::select! {
                    _ = int.recv() => {}
                    _ = term.recv() => {}
                }
            }
            _ => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
