//! The binary's error: which exit code, and one clear sentence.

use huadan_config::ConfigError;

/// Everything a command can fail with, by exit code.
#[derive(Debug)]
pub enum CliError {
    /// Bad usage (exit 2): a bad flag value, an unknown source name.
    Usage(String),
    /// Bad configuration (exit 2).
    Config(ConfigError),
    /// Runtime failure (exit 1): a source failed, the store is unreachable.
    Runtime(anyhow::Error),
}

impl std::fmt::Display for CliError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CliError::Usage(m) => f.write_str(m),
            CliError::Config(e) => write!(f, "{e}"),
            CliError::Runtime(e) => write!(f, "{e:#}"),
        }
    }
}

impl std::error::Error for CliError {}

impl CliError {
    /// The process exit code for this error.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Usage(_) | CliError::Config(_) => 2,
            CliError::Runtime(_) => 1,
        }
    }

    /// A usage error.
    pub fn usage(m: impl Into<String>) -> Self {
        CliError::Usage(m.into())
    }
}

impl From<ConfigError> for CliError {
    fn from(e: ConfigError) -> Self {
        CliError::Config(e)
    }
}

impl From<anyhow::Error> for CliError {
    fn from(e: anyhow::Error) -> Self {
        CliError::Runtime(e)
    }
}

impl From<huadan_store::StoreError> for CliError {
    fn from(e: huadan_store::StoreError) -> Self {
        CliError::Runtime(e.into())
    }
}

impl From<std::io::Error> for CliError {
    fn from(e: std::io::Error) -> Self {
        CliError::Runtime(e.into())
    }
}
