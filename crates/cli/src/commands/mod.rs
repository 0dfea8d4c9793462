//! One module per subcommand. Each takes its parsed arguments and returns the exit code.

pub mod archiving;
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

/// SIGINT (Ctrl-C) and SIGTERM handlers, installed when created: a signal that arrives
/// before [`Signals::recv`] is awaited is not lost and does not kill the process with the
/// default action, and every signal is seen (a second one too).
pub struct Signals {
    #[cfg(unix)]
    streams: Option<(tokio::signal::unix::Signal, tokio::signal::unix::Signal)>,
}

impl Signals {
    /// Install the handlers now.
    pub fn install() -> Signals {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let streams = signal(SignalKind::interrupt()).ok().zip(signal(SignalKind::terminate()).ok());
            Signals { streams }
        }
        #[cfg(not(unix))]
        Signals {}
    }

    /// The next SIGINT or SIGTERM.
    pub async fn recv(&mut self) {
        #[cfg(unix)]
        if let Some((int, term)) = self.streams.as_mut() {
            tokio::select! {
                _ = int.recv() => {}
                _ = term.recv() => {}
            }
            return;
        }
        let _ = tokio::signal::ctrl_c().await;
    }

    /// A future resolving on the first signal, for servers' graceful shutdown.
    pub async fn first(mut self) {
        self.recv().await
    }
}

/// Resolves on the first SIGINT (Ctrl-C) or SIGTERM after it is first awaited.
pub async fn shutdown_signal() {
    Signals::install().recv().await
}
