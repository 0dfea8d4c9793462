//! `huadan.toml`: reading, `${ENV}` interpolation and validation (CONTRACT.md §1).
//!
//! The common keys of every source (`name`, `kind`, `endpoint`, quotas, …) are checked
//! here; the vendor-specific keys (credentials, account ids) stay in
//! [`SourceConfig::settings`] and are checked by the vendor's own settings type through
//! [`SourceConfig::vendor_settings`], so that nothing outside a vendor's room knows its
//! field names. Every error names the key (and the source) it is about.
//!
//! ```
//! let cfg = huadan_config::Config::from_toml_str(r#"
//! [[sources]]
//! name = "ads"
//! kind = "tencent_ads"
//! endpoint = "http://127.0.0.1:9103"
//! access_token = "t"
//! account_id = 1
//! "#, &|_| None).unwrap();
//! assert_eq!(cfg.sources[0].name, "ads");
//! assert_eq!(cfg.store.url, "sqlite://huadan.db");
//! ```

mod error;
mod interpolate;
mod secret;
mod template;

pub use error::ConfigError;
pub use secret::Secret;
pub use template::TEMPLATE;

use huadan_model::Provider;
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// The whole configuration file.
#[derive(Debug, Clone)]
pub struct Config {
    /// `[store]`: where records are kept.
    pub store: StoreConfig,
    /// `[server]`: the REST API.
    pub server: ServerConfig,
    /// `[sync]`: backfill depth and polling interval.
    pub sync: SyncConfig,
    /// Time zone for times given without an offset and for per-day stats.
    pub timezone: String,
    /// `[recordings]`: recording archival settings, kept raw until that feature reads them.
    pub recordings: Option<toml::Table>,
    /// `[[sources]]`, in file order.
    pub sources: Vec<SourceConfig>,
    /// The file this came from, if any.
    pub path: Option<PathBuf>,
}

/// `[store]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreConfig {
    /// `sqlite://PATH` (default `sqlite://huadan.db`) or `postgres://user:pass@host/db`.
    #[serde(default = "default_store_url")]
    pub url: String,
}

/// `[server]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    /// Address to listen on (default `127.0.0.1:8080`).
    #[serde(default = "default_listen")]
    pub listen: String,
    /// Bearer tokens for the REST API: a plain string (full access) or
    /// `{ token = "...", role = "viewer" }` (phone numbers masked).
    #[serde(default)]
    pub api_tokens: Vec<ApiToken>,
}

/// `[sync]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyncConfig {
    /// How far back the first sync of a source starts, in days (default 30).
    #[serde(default = "default_backfill_days")]
    pub backfill_days: u32,
    /// Seconds between polls in `huadan serve` / `huadan sync --follow` (default 300).
    #[serde(default = "default_interval")]
    pub interval_seconds: u64,
}

/// What a REST API token may see.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Everything.
    #[default]
    Admin,
    /// Everything, with phone numbers masked; cannot start syncs.
    Viewer,
}

/// One API token.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum ApiToken {
    /// A plain token string: admin.
    Plain(Secret),
    /// A token with a role.
    WithRole {
        /// The token.
        token: Secret,
        /// Its role (default admin).
        #[serde(default)]
        role: Role,
    },
}

impl ApiToken {
    /// The token's secret value.
    pub fn secret(&self) -> &Secret {
        match self {
            ApiToken::Plain(s) | ApiToken::WithRole { token: s, .. } => s,
        }
    }

    /// The token's role.
    pub fn role(&self) -> Role {
        match self {
            ApiToken::Plain(_) => Role::Admin,
            ApiToken::WithRole { role, .. } => *role,
        }
    }
}

/// One `[[sources]]` entry: the keys every vendor shares, and the rest for the vendor.
/// Its `Debug` prints the vendor keys' names only, never their values (credentials).
#[derive(Clone)]
pub struct SourceConfig {
    /// Unique name; part of every record id (letters, digits, `-`, `_`, `.`).
    pub name: String,
    /// Which vendor.
    pub kind: Provider,
    /// Base URL of the vendor API (point it at the sandbox to test).
    pub endpoint: url::Url,
    /// `enabled = false` keeps the source configured but skipped.
    pub enabled: bool,
    /// Quota override: requests per second huadan must stay under.
    pub requests_per_second: Option<f64>,
    /// Quota override: requests per minute huadan must stay under.
    pub requests_per_minute: Option<u32>,
    /// How far before the checkpoint an incremental run starts again.
    pub lookback_seconds: Option<u64>,
    /// Per-request timeout in seconds (default 30).
    pub timeout_seconds: Option<u64>,
    /// The vendor-specific keys, `${ENV}` already interpolated.
    pub settings: toml::Table,
}

/// The keys [`SourceConfig`] itself reads; everything else belongs to the vendor.
pub const COMMON_SOURCE_KEYS: &[&str] = &[
    "name",
    "kind",
    "endpoint",
    "enabled",
    "requests_per_second",
    "requests_per_minute",
    "lookback_seconds",
    "timeout_seconds",
];

impl std::fmt::Debug for SourceConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SourceConfig")
            .field("name", &self.name)
            .field("kind", &self.kind)
            .field("endpoint", &self.endpoint.as_str())
            .field("enabled", &self.enabled)
            .field("requests_per_second", &self.requests_per_second)
            .field("requests_per_minute", &self.requests_per_minute)
            .field("lookback_seconds", &self.lookback_seconds)
            .field("timeout_seconds", &self.timeout_seconds)
            .field("settings", &self.settings.keys().map(|k| format!("{k}=<redacted>")).collect::<Vec<_>>())
            .finish()
    }
}

impl SourceConfig {
    /// Deserialize the vendor-specific keys into the vendor's settings type (which
    /// should use `#[serde(deny_unknown_fields)]`). Errors name the source and key.
    pub fn vendor_settings<T: serde::de::DeserializeOwned>(&self) -> Result<T, ConfigError> {
        T::deserialize(self.settings.clone())
            .map_err(|e| ConfigError::Source { source_name: self.name.clone(), message: e.to_string() })
    }
}

fn default_store_url() -> String {
    "sqlite://huadan.db".into()
}
fn default_listen() -> String {
    "127.0.0.1:8080".into()
}
fn default_backfill_days() -> u32 {
    30
}
fn default_interval() -> u64 {
    300
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig { url: default_store_url() }
    }
}
impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig { listen: default_listen(), api_tokens: Vec::new() }
    }
}
impl Default for SyncConfig {
    fn default() -> Self {
        SyncConfig { backfill_days: default_backfill_days(), interval_seconds: default_interval() }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            store: StoreConfig::default(),
            server: ServerConfig::default(),
            sync: SyncConfig::default(),
            timezone: huadan_model::time::DEFAULT_TIMEZONE.into(),
            recordings: None,
            sources: Vec::new(),
            path: None,
        }
    }
}

impl Config {
    /// Where the config is looked for: `explicit`, else `$HUADAN_CONFIG`, else `./huadan.toml`.
    pub fn locate(explicit: Option<&Path>) -> PathBuf {
        if let Some(p) = explicit {
            return p.to_path_buf();
        }
        match std::env::var_os("HUADAN_CONFIG") {
            Some(p) if !p.is_empty() => PathBuf::from(p),
            _ => PathBuf::from("huadan.toml"),
        }
    }

    /// Read and validate a config file, interpolating `${ENV}` from the process
    /// environment.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError::Io { path: path.display().to_string(), message: e.to_string() })?;
        let mut cfg = Self::from_toml_str(&text, &|name| std::env::var(name).ok())?;
        cfg.path = Some(path.to_path_buf());
        Ok(cfg)
    }

    /// Parse and validate config text; `env` resolves `${NAME}` references.
    pub fn from_toml_str(text: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let mut root: toml::Table = text.parse().map_err(|e: toml::de::Error| ConfigError::Parse {
            message: e.message().to_string(),
            line: e.span().map(|s| text[..s.start.min(text.len())].lines().count().max(1)),
        })?;
        interpolate::interpolate_table(&mut root, "", env)?;

        let mut cfg = Config::default();
        let mut sources = Vec::new();
        for (key, value) in root {
            match key.as_str() {
                "store" => cfg.store = section(value, "store")?,
                "server" => cfg.server = section(value, "server")?,
                "sync" => cfg.sync = section(value, "sync")?,
                "timezone" => {
                    let tz = value.as_str().ok_or_else(|| ConfigError::invalid("timezone", "must be a string"))?;
                    huadan_model::time::timezone(tz).map_err(|e| ConfigError::invalid("timezone", e.to_string()))?;
                    cfg.timezone = tz.to_string();
                }
                "recordings" => {
                    cfg.recordings = Some(match value {
                        toml::Value::Table(t) => t,
                        _ => return Err(ConfigError::invalid("recordings", "must be a table")),
                    })
                }
                "sources" => {
                    let toml::Value::Array(items) = value else {
                        return Err(ConfigError::invalid("sources", "must be an array of tables ([[sources]])"));
                    };
                    for (i, item) in items.into_iter().enumerate() {
                        sources.push(parse_source(i, item)?);
                    }
                }
                other => return Err(ConfigError::UnknownKey { key: other.to_string(), source_name: None }),
            }
        }
        validate_store_url(&cfg.store.url)?;
        for (i, s) in sources.iter().enumerate() {
            if sources[..i].iter().any(|o| o.name == s.name) {
                return Err(ConfigError::DuplicateSource { name: s.name.clone() });
            }
        }
        cfg.sources = sources;
        Ok(cfg)
    }

    /// The configured time zone (validated at load).
    pub fn tz(&self) -> jiff::tz::TimeZone {
        huadan_model::time::timezone(&self.timezone).unwrap_or(jiff::tz::TimeZone::fixed(huadan_model::time::GMT8))
    }

    /// The source called `name`.
    pub fn source(&self, name: &str) -> Option<&SourceConfig> {
        self.sources.iter().find(|s| s.name == name)
    }
}

fn section<T: serde::de::DeserializeOwned>(value: toml::Value, name: &str) -> Result<T, ConfigError> {
    T::deserialize(value).map_err(|e| ConfigError::invalid(name, e.to_string()))
}

fn validate_store_url(url: &str) -> Result<(), ConfigError> {
    if url.starts_with("sqlite://") || url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(())
    } else {
        Err(ConfigError::invalid("store.url", "must start with sqlite:// or postgres://".to_string()))
    }
}

fn parse_source(index: usize, value: toml::Value) -> Result<SourceConfig, ConfigError> {
    let toml::Value::Table(mut t) = value else {
        return Err(ConfigError::invalid(format!("sources[{index}]"), "must be a table"));
    };
    let name = match t.remove("name") {
        Some(toml::Value::String(s)) => s,
        Some(_) => return Err(ConfigError::invalid(format!("sources[{index}].name"), "must be a string")),
        None => return Err(ConfigError::invalid(format!("sources[{index}].name"), "is required")),
    };
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')) {
        return Err(ConfigError::invalid(
            format!("sources[{index}].name"),
            format!("`{name}` must be non-empty and use only letters, digits, `-`, `_` and `.`"),
        ));
    }
    let key = |k: &str| format!("sources.{name}.{k}");
    let kind_text = match t.remove("kind") {
        Some(toml::Value::String(s)) => s,
        Some(_) => return Err(ConfigError::invalid(key("kind"), "must be a string")),
        None => return Err(ConfigError::invalid(key("kind"), "is required")),
    };
    let kind = kind_text.parse::<Provider>().map_err(|e| ConfigError::BadKind {
        source_name: name.clone(),
        kind: kind_text.clone(),
        expected: e.expected,
    })?;
    let endpoint_text = match t.remove("endpoint") {
        Some(toml::Value::String(s)) => s,
        Some(_) => return Err(ConfigError::invalid(key("endpoint"), "must be a string")),
        None => return Err(ConfigError::invalid(key("endpoint"), "is required")),
    };
    let endpoint = url::Url::parse(&endpoint_text)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
        .ok_or_else(|| ConfigError::BadUrl { key: key("endpoint"), value: endpoint_text.clone() })?;
    let enabled = match t.remove("enabled") {
        None => true,
        Some(toml::Value::Boolean(b)) => b,
        Some(_) => return Err(ConfigError::invalid(key("enabled"), "must be true or false")),
    };
    let requests_per_second = match t.remove("requests_per_second") {
        None => None,
        Some(toml::Value::Float(f)) if f > 0.0 => Some(f),
        Some(toml::Value::Integer(i)) if i > 0 => Some(i as f64),
        Some(_) => return Err(ConfigError::invalid(key("requests_per_second"), "must be a positive number")),
    };
    let requests_per_minute = match t.remove("requests_per_minute") {
        None => None,
        Some(toml::Value::Integer(i)) if i > 0 && i <= u32::MAX as i64 => Some(i as u32),
        Some(_) => return Err(ConfigError::invalid(key("requests_per_minute"), "must be a positive integer")),
    };
    let lookback_seconds = match t.remove("lookback_seconds") {
        None => None,
        Some(toml::Value::Integer(i)) if i >= 0 => Some(i as u64),
        Some(_) => return Err(ConfigError::invalid(key("lookback_seconds"), "must be a whole number of seconds")),
    };
    let timeout_seconds = match t.remove("timeout_seconds") {
        None => None,
        Some(toml::Value::Integer(i)) if i > 0 => Some(i as u64),
        Some(_) => {
            return Err(ConfigError::invalid(key("timeout_seconds"), "must be a positive whole number of seconds"));
        }
    };
    Ok(SourceConfig {
        name,
        kind,
        endpoint,
        enabled,
        requests_per_second,
        requests_per_minute,
        lookback_seconds,
        timeout_seconds,
        settings: t,
    })
}

#[cfg(test)]
mod tests;
