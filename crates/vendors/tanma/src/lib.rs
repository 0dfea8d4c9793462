//! Vendor room: Tanma SCRM call list (`tanma`). PLACEHOLDER — the vendor issue fills in the five parts:
//! `wire` (serde types), `auth` (signing / token), `client` (paging through the
//! [`huadan_vendor::Vendor`] trait), `normalize` (wire → [`huadan_model::CallRecord`])
//! and `sandbox` (the fake).

use huadan_config::{ConfigError, SourceConfig};
use huadan_fakekit::{Fake, FakeContext};
use huadan_model::Provider;
use huadan_vendor::DynVendor;

/// The provider this room implements.
pub const PROVIDER: Provider = Provider::Tanma;

/// Build a client for one configured source (validates the vendor's settings keys).
pub fn build(source: &SourceConfig) -> Result<DynVendor, ConfigError> {
    Err(ConfigError::Source {
        source_name: source.name.clone(),
        message: "the tanma client is not implemented yet".into(),
    })
}

/// The sandbox fake of this vendor.
pub fn fake(_ctx: FakeContext) -> Fake {
    Fake { router: axum::Router::new(), credentials: serde_json::Map::new() }
}
