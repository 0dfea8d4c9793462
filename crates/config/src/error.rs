//! Configuration errors: each names the key (and the source) it is about.

/// Something is wrong with `huadan.toml`. The binary maps every variant to exit code 2.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config file {path}: {message}")]
    Io {
        /// The path tried.
        path: String,
        /// The OS error.
        message: String,
    },
    /// The file is not valid TOML.
    #[error("config is not valid TOML{}: {message}", line.map(|l| format!(" (line {l})")).unwrap_or_default())]
    Parse {
        /// The parser's message.
        message: String,
        /// 1-based line, where known.
        line: Option<usize>,
    },
    /// `${NAME}` names a variable that is not set.
    #[error("environment variable `{var}` is not set (referenced by `{key}`); set it or change the config")]
    MissingEnv {
        /// The variable.
        var: String,
        /// The key whose value referenced it.
        key: String,
    },
    /// A key huadan does not know.
    #[error("unknown key `{key}`{}", source_name.as_ref().map(|s| format!(" in source `{s}`")).unwrap_or_default())]
    UnknownKey {
        /// The key.
        key: String,
        /// The source it appeared in, if any.
        source_name: Option<String>,
    },
    /// `kind` names no vendor.
    #[error("source `{source_name}`: `kind = \"{kind}\"` is not a known vendor; expected one of: {expected}")]
    BadKind {
        /// The source.
        source_name: String,
        /// The rejected kind.
        kind: String,
        /// The accepted kinds.
        expected: String,
    },
    /// Two sources share a name.
    #[error("two sources are named `{name}`; source names must be unique")]
    DuplicateSource {
        /// The repeated name.
        name: String,
    },
    /// A URL could not be parsed or has the wrong scheme.
    #[error("`{key}` is not a valid http(s) URL: `{value}`")]
    BadUrl {
        /// The key.
        key: String,
        /// The rejected value.
        value: String,
    },
    /// A vendor's own settings were rejected (unknown or missing key, wrong type).
    #[error("source `{source_name}`: {message}")]
    Source {
        /// The source.
        source_name: String,
        /// The deserializer's message, which names the key.
        message: String,
    },
    /// Any other invalid value.
    #[error("`{key}` {message}")]
    Invalid {
        /// The key.
        key: String,
        /// What is wrong with it.
        message: String,
    },
}

impl ConfigError {
    /// Shorthand for [`ConfigError::Invalid`].
    pub fn invalid(key: impl Into<String>, message: impl Into<String>) -> Self {
        ConfigError::Invalid { key: key.into(), message: message.into() }
    }
}
