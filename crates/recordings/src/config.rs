//! `[recordings]` in `huadan.toml`: parsed here from the raw table the config crate keeps.

use huadan_config::Secret;
use jiff::{SignedDuration, Timestamp};
use serde::Deserialize;
use std::time::Duration;

use crate::RecordingsError;

/// `[recordings]`: whether and where recordings are archived.
///
/// ```toml
/// [recordings]
/// archive = true
/// store = "s3://calls/audio"          # or "file:///var/lib/huadan/recordings"
/// endpoint = "${S3_ENDPOINT}"          # S3-compatible only; omit for AWS
/// region = "us-east-1"
/// access_key_id = "${S3_KEY}"
/// secret_access_key = "${S3_SECRET}"
/// include_sources = ["ads"]            # opt-in (default: every source)
/// exclude_sources = ["wecom"]          # opt-out
/// max_age_days = 30                    # never fetch recordings of older calls
/// concurrency = 4
/// per_host_interval_ms = 100
/// ```
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordingsConfig {
    /// Archive recordings at all (default false).
    #[serde(default)]
    pub archive: bool,
    /// `file:///absolute/path` or `s3://bucket[/prefix]`.
    pub store: String,
    /// S3-compatible endpoint (e.g. `http://127.0.0.1:9000`); AWS when absent.
    #[serde(default)]
    pub endpoint: Option<String>,
    /// S3 region (default `us-east-1`).
    #[serde(default)]
    pub region: Option<String>,
    /// S3 access key id.
    #[serde(default)]
    pub access_key_id: Option<Secret>,
    /// S3 secret access key.
    #[serde(default)]
    pub secret_access_key: Option<Secret>,
    /// Allow a plain-http endpoint (default: true when `endpoint` starts with `http://`).
    #[serde(default)]
    pub allow_http: Option<bool>,
    /// Only these sources are archived (default: all).
    #[serde(default)]
    pub include_sources: Option<Vec<String>>,
    /// These sources are never archived.
    #[serde(default)]
    pub exclude_sources: Vec<String>,
    /// Recordings of calls that started more than this many days ago are not fetched.
    #[serde(default)]
    pub max_age_days: Option<u32>,
    /// Downloads at once (default 4).
    #[serde(default = "default_concurrency")]
    pub concurrency: usize,
    /// Minimum gap between two requests to the same host, in milliseconds (default 100).
    #[serde(default = "default_pacing")]
    pub per_host_interval_ms: u64,
    /// A download that delivers no byte for this long is abandoned and retried (default 30).
    #[serde(default = "default_stall")]
    pub stall_timeout_seconds: f64,
    /// First retry delay in seconds; doubles per attempt (default 5).
    #[serde(default = "default_backoff")]
    pub retry_base_seconds: f64,
    /// Longest retry delay in seconds (default 3600).
    #[serde(default = "default_backoff_max")]
    pub retry_max_seconds: f64,
    /// Attempts for a link whose expiry is unknown before it is marked `failed` (default 10).
    #[serde(default = "default_attempts")]
    pub max_attempts_without_expiry: u32,
    /// The download queue's SQLite file (default: `huadan-recordings.db` next to the store).
    #[serde(default)]
    pub queue: Option<String>,
    /// Whether `viewer` API tokens may listen to recordings (default false).
    #[serde(default)]
    pub viewers_may_listen: bool,
}

fn default_concurrency() -> usize {
    4
}
fn default_pacing() -> u64 {
    100
}
fn default_stall() -> f64 {
    30.0
}
fn default_backoff() -> f64 {
    5.0
}
fn default_backoff_max() -> f64 {
    3600.0
}
fn default_attempts() -> u32 {
    10
}

/// Where the archive lives, as parsed from `store`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreLocation {
    /// A local directory.
    File(std::path::PathBuf),
    /// An S3(-compatible) bucket and key prefix (no leading/trailing `/`).
    S3 {
        /// The bucket.
        bucket: String,
        /// The key prefix, possibly empty.
        prefix: String,
    },
}

impl RecordingsConfig {
    /// Parse `[recordings]` (already `${ENV}`-interpolated) and check it.
    pub fn from_table(table: &toml::Table) -> Result<Self, RecordingsError> {
        let cfg: RecordingsConfig = toml::Value::Table(table.clone())
            .try_into()
            .map_err(|e: toml::de::Error| RecordingsError::Config(format!("[recordings]: {}", e.message())))?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// A config archiving to a local directory with defaults (used by tests and examples).
    pub fn local(dir: &std::path::Path) -> Self {
        RecordingsConfig {
            archive: true,
            store: format!("file://{}", dir.display()),
            endpoint: None,
            region: None,
            access_key_id: None,
            secret_access_key: None,
            allow_http: None,
            include_sources: None,
            exclude_sources: Vec::new(),
            max_age_days: None,
            concurrency: default_concurrency(),
            per_host_interval_ms: default_pacing(),
            stall_timeout_seconds: default_stall(),
            retry_base_seconds: default_backoff(),
            retry_max_seconds: default_backoff_max(),
            max_attempts_without_expiry: default_attempts(),
            queue: None,
            viewers_may_listen: false,
        }
    }

    fn validate(&self) -> Result<(), RecordingsError> {
        let bad = |k: &str, m: &str| Err(RecordingsError::Config(format!("[recordings] {k}: {m}")));
        self.location()?;
        if self.concurrency == 0 || self.concurrency > 256 {
            return bad("concurrency", "must be between 1 and 256");
        }
        for (k, v) in [
            ("stall_timeout_seconds", self.stall_timeout_seconds),
            ("retry_base_seconds", self.retry_base_seconds),
            ("retry_max_seconds", self.retry_max_seconds),
        ] {
            if !(v.is_finite() && v > 0.0 && v < 1e7) {
                return bad(k, "must be a positive number of seconds");
            }
        }
        if let Some(inc) = &self.include_sources
            && let Some(both) = inc.iter().find(|s| self.exclude_sources.contains(s))
        {
            return bad("include_sources", &format!("source {both:?} is also in exclude_sources"));
        }
        if matches!(self.location()?, StoreLocation::File(_))
            && (self.endpoint.is_some() || self.access_key_id.is_some() || self.secret_access_key.is_some())
        {
            return bad("endpoint", "S3 settings given but store is a file:// URL");
        }
        if self.access_key_id.is_some() != self.secret_access_key.is_some() {
            return bad("access_key_id", "access_key_id and secret_access_key go together");
        }
        Ok(())
    }

    /// The parsed `store` URL.
    pub fn location(&self) -> Result<StoreLocation, RecordingsError> {
        let err = |m: &str| RecordingsError::Config(format!("[recordings] store: {m}"));
        if let Some(path) = self.store.strip_prefix("file://") {
            if !path.starts_with('/') {
                return Err(err("file:// needs an absolute path (file:///var/lib/huadan/recordings)"));
            }
            return Ok(StoreLocation::File(path.into()));
        }
        if let Some(rest) = self.store.strip_prefix("s3://") {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            if bucket.is_empty() {
                return Err(err("s3:// needs a bucket (s3://bucket/prefix)"));
            }
            return Ok(StoreLocation::S3 { bucket: bucket.to_string(), prefix: prefix.trim_matches('/').to_string() });
        }
        Err(err("must start with file:// or s3://"))
    }

    /// Whether recordings of `source` are archived.
    pub fn wants_source(&self, source: &str) -> bool {
        self.archive
            && !self.exclude_sources.iter().any(|s| s == source)
            && self.include_sources.as_ref().is_none_or(|inc| inc.iter().any(|s| s == source))
    }

    /// Whether a call that started at `started_at` is recent enough to fetch at `now`.
    pub fn wants_age(&self, started_at: Timestamp, now: Timestamp) -> bool {
        match self.max_age_days {
            None => true,
            Some(days) => now.duration_since(started_at) <= SignedDuration::from_hours(24 * i64::from(days)),
        }
    }

    /// The queue file: `queue` if set, else `huadan-recordings.db` in the directory of a
    /// `sqlite://` store (the current directory for any other store).
    pub fn queue_path(&self, store_url: &str) -> std::path::PathBuf {
        if let Some(q) = &self.queue {
            return q.into();
        }
        let name = "huadan-recordings.db";
        match store_url.strip_prefix("sqlite://") {
            Some(db) => match std::path::Path::new(db).parent() {
                Some(dir) if !dir.as_os_str().is_empty() => dir.join(name),
                _ => name.into(),
            },
            None => name.into(),
        }
    }

    pub(crate) fn stall_timeout(&self) -> Duration {
        Duration::from_secs_f64(self.stall_timeout_seconds)
    }

    pub(crate) fn per_host_interval(&self) -> Duration {
        Duration::from_millis(self.per_host_interval_ms)
    }

    /// The retry delay after `attempts` failed attempts (1 = first failure).
    pub(crate) fn backoff(&self, attempts: u32) -> Duration {
        let exp = 2f64.powi(attempts.saturating_sub(1).min(40) as i32);
        Duration::from_secs_f64((self.retry_base_seconds * exp).min(self.retry_max_seconds))
    }
}
