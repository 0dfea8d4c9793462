//! Vendor room: Alibaba Cloud Contact Center (`aliyun_ccc`), `ListCallDetailRecords`
//! (RPC, version 2020-07-01).
//!
//! * [`wire`] — the JSON, tolerant of numbers and booleans written as strings;
//! * [`auth`] — signature v1 (HMAC-SHA1) and ACS3-HMAC-SHA256, with known answers;
//! * [`client`] — the page-number cursor (page-1-only totals, newest-first catch-up),
//!   the error-code table, through the [`huadan_vendor::Vendor`] trait;
//! * [`normalize`] — wire record → [`huadan_model::CallRecord`];
//! * [`sandbox`] — the fake: both signatures, nonce and skew checks, the 100 × 100
//!   paging limit, `TotalCount` only on page 1, string numbers on request.

pub mod auth;
pub mod client;
pub mod normalize;
pub mod sandbox;
pub mod wire;

use huadan_config::{ConfigError, SourceConfig};
use huadan_fakekit::{Fake, FakeContext};
use huadan_model::Provider;
use huadan_vendor::DynVendor;
use std::sync::Arc;

pub use client::AliyunCcc;

/// The provider this room implements.
pub const PROVIDER: Provider = Provider::AliyunCcc;

/// Build a client for one configured source (validates the vendor's settings keys:
/// `access_key_id`, `access_key_secret`, `instance_id`, optional `signature_version`).
pub fn build(source: &SourceConfig) -> Result<DynVendor, ConfigError> {
    Ok(Arc::new(AliyunCcc::from_source(source)?))
}

/// The sandbox fake of this vendor.
pub fn fake(ctx: FakeContext) -> Fake {
    sandbox::fake(ctx)
}
