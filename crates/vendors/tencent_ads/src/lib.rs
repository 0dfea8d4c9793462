//! Vendor room: Tencent Ads lead call records (`tencent_ads`, seed 003,
//! `GET /v3.0/leads_call_records/get`).
//!
//! * [`wire`] — serde types mirroring the vendor's JSON;
//! * [`auth`] — `access_token` + `timestamp` (±300 s) + `nonce` (≤ 32 chars, unique);
//! * [`client`] — GMT+8 whole-day windows, the tie-safe `search_after` cursor, the
//!   error-code table, through the [`huadan_vendor::Vendor`] trait;
//! * [`normalize`] — wire record → [`huadan_model::CallRecord`];
//! * [`sandbox`] — the fake, with the vendor's auth checks, quota and lock-out, and its
//!   strictly-greater `search_after`.
//!
//! ```
//! let cfg = huadan_config::Config::from_toml_str(r#"
//! [[sources]]
//! name = "ads"
//! kind = "tencent_ads"
//! endpoint = "https://api.e.qq.com"
//! access_token = "0123456789abcdef0123456789abcdef"
//! account_id = 2045867
//! "#, &|_| None).unwrap();
//! let vendor = huadan_tencent_ads::build(&cfg.sources[0]).unwrap();
//! assert_eq!(vendor.limits().quota.per_minute, Some(1000));
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
use serde::Deserialize;
use std::sync::Arc;

/// The provider this room implements.
pub const PROVIDER: Provider = Provider::TencentAds;

/// The vendor keys of a `tencent_ads` source (CONTRACT.md §1).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// OAuth 2.0 access token of the app authorised on the advertiser account
    /// (lives 24 hours; refresh it with the refresh token).
    pub access_token: Secret,
    /// The advertiser account id (直客账号或子客账号), e.g. `2045867`; a number, or a
    /// string of digits (as `${ENV}` interpolation gives).
    #[serde(deserialize_with = "wire::de::i64_lenient")]
    pub account_id: i64,
}

/// Build a client for one configured source (validates the vendor's settings keys).
pub fn build(source: &SourceConfig) -> Result<DynVendor, ConfigError> {
    let settings: Settings = source.vendor_settings()?;
    if settings.access_token.expose().trim().is_empty() {
        return Err(ConfigError::Source {
            source_name: source.name.clone(),
            message: "`access_token` is empty; get one through the Tencent Ads OAuth 2.0 flow".into(),
        });
    }
    if settings.account_id <= 0 {
        return Err(ConfigError::Source {
            source_name: source.name.clone(),
            message: format!("`account_id` must be a positive advertiser account id, not {}", settings.account_id),
        });
    }
    let limits = huadan_vendor::apply_overrides(client::documented_limits(), source);
    let http = huadan_vendor::http::Http::for_source(source);
    Ok(Arc::new(client::Client::new(
        &source.name,
        &source.endpoint,
        settings.access_token,
        settings.account_id,
        http,
        limits,
    )))
}

/// The sandbox fake of this vendor.
pub fn fake(ctx: FakeContext) -> Fake {
    sandbox::fake(ctx)
}
