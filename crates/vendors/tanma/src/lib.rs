//! Vendor room: Tanma SCRM call list with speech-to-text (`tanma`, seed 002).
//!
//! * [`wire`] — serde types of `POST /api/v3/app/getCallList`, ids kept as digits;
//! * [`auth`] — the `appId`/`appKey`/`timestamp`/`sign` headers and **the** sign formula;
//! * [`client`] — one signed request per fetch, GMT+8 closed ranges on `gmtCreateTime`,
//!   `pageNo`/`totalPage` paging, error classification;
//! * [`normalize`] — wire → [`huadan_model::CallRecord`]: JSON inside strings parsed,
//!   pending transcripts marked as still changing;
//! * [`sandbox`] — the fake, with the vendor's traps.
//!
//! ```
//! let cfg = huadan_config::Config::from_toml_str(r#"
//! [[sources]]
//! name = "tanma"
//! kind = "tanma"
//! endpoint = "http://127.0.0.1:9104"
//! app_id = "a"
//! app_key = "k"
//! app_secret = "s"
//! "#, &|_| None).unwrap();
//! let vendor = huadan_tanma::build(&cfg.sources[0]).unwrap();
//! assert_eq!(vendor.source(), "tanma");
//! ```

pub mod auth;
pub mod client;
pub mod normalize;
pub mod sandbox;
pub mod wire;

use huadan_config::{ConfigError, Secret, SourceConfig};
use huadan_fakekit::{Fake, FakeContext};
use huadan_model::Provider;
use huadan_vendor::DynVendor;
use huadan_vendor::http::Http;
use serde::Deserialize;
use std::sync::Arc;

pub use client::TanmaClient;

/// The provider this room implements.
pub const PROVIDER: Provider = Provider::Tanma;

/// The vendor keys of a `kind = "tanma"` source (CONTRACT.md §1).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// The open-platform application id (`appId` header).
    pub app_id: String,
    /// The application key (`appKey` header).
    pub app_key: Secret,
    /// The application secret: only ever used inside the `sign` header.
    pub app_secret: Secret,
}

/// Build a client for one configured source (validates the vendor's settings keys).
pub fn build(source: &SourceConfig) -> Result<DynVendor, ConfigError> {
    let settings: Settings = source.vendor_settings()?;
    if settings.app_id.trim().is_empty() {
        return Err(ConfigError::Source {
            source_name: source.name.clone(),
            message: "`app_id` must not be empty".into(),
        });
    }
    let limits = huadan_vendor::apply_overrides(client::documented_limits(), source);
    Ok(Arc::new(TanmaClient::new(
        &source.name,
        source.endpoint.as_str(),
        &settings.app_id,
        settings.app_key,
        settings.app_secret,
        Http::for_source(source),
        limits,
    )))
}

/// The sandbox fake of this vendor.
pub fn fake(ctx: FakeContext) -> Fake {
    sandbox::fake(ctx)
}
