//! Vendor room: WeCom public phone (企业微信公费电话, `wecom`), seed 000 and
//! VENDORS.md § wecom.
//!
//! * [`wire`] — serde types of `gettoken` and `dial/get_dial_record`;
//! * [`auth`] — the access-token cache (cached for `expires_in`, single-flight refresh);
//! * [`codes`] — WeCom's error codes → [`huadan_vendor::ErrorClass`] with a meaning;
//! * [`client`] — closed ranges, ≤ 30-day sub-ranges, offset paging, through the
//!   [`huadan_vendor::Vendor`] trait;
//! * [`normalize`] — wire record → [`huadan_model::CallRecord`], with the fingerprint
//!   that stands in for the id WeCom does not give;
//! * [`sandbox`] — the fake.
//!
//! ```
//! let raw = serde_json::json!({"call_time":1536508800,"total_duration":10,"call_type":1,
//!     "caller":{"userid":"tony","duration":10},"callee":[{"phone":138000800,"duration":10}]});
//! let rec = huadan_wecom::normalize::normalize("wecom-hq", None, &raw).unwrap();
//! assert_eq!(rec.talk_seconds, Some(600)); // minutes → seconds
//! assert_eq!(rec.duration_precision.as_str(), "minute");
//! ```

pub mod auth;
pub mod client;
pub mod codes;
pub mod normalize;
pub mod sandbox;
pub mod wire;

use huadan_config::{ConfigError, SourceConfig};
use huadan_fakekit::{Fake, FakeContext};
use huadan_model::Provider;
use huadan_vendor::DynVendor;
use std::sync::Arc;

pub use client::{Settings, WecomClient, documented_limits};

/// The provider this room implements.
pub const PROVIDER: Provider = Provider::Wecom;

/// Build a client for one configured source (validates the vendor's settings keys:
/// `corp_id`, `corp_secret`).
pub fn build(source: &SourceConfig) -> Result<DynVendor, ConfigError> {
    Ok(Arc::new(build_client(source)?))
}

/// Like [`build`], returning the concrete client (tests, benchmarks).
pub fn build_client(source: &SourceConfig) -> Result<WecomClient, ConfigError> {
    let settings: Settings = source.vendor_settings()?;
    let missing = |key: &str| ConfigError::Source {
        source_name: source.name.clone(),
        message: format!("`{key}` must not be empty"),
    };
    if settings.corp_id.trim().is_empty() {
        return Err(missing("corp_id"));
    }
    if settings.corp_secret.expose().trim().is_empty() {
        return Err(missing("corp_secret"));
    }
    let limits = huadan_vendor::apply_overrides(documented_limits(), source);
    let http = huadan_vendor::http::Http::for_source(source);
    Ok(WecomClient::new(&source.name, source.endpoint.as_str(), settings, http, limits))
}

/// The sandbox fake of this vendor.
pub fn fake(ctx: FakeContext) -> Fake {
    sandbox::fake(ctx)
}
