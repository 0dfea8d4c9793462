//! Vendor room: Tencent Cloud Contact Center (`tencent_ccc`), `DescribeTelCdr` (API 3.0,
//! version 2020-02-10; VENDORS.md § tencent_ccc, seed 001).
//!
//! * [`wire`] — serde types mirroring the vendor's JSON, shared by client and fake;
//! * [`auth`] — TC3-HMAC-SHA256 signing (credential date = **UTC** date);
//! * [`client`] — paging (`PageNumber` from 0), windows, error classification, limits,
//!   through the [`huadan_vendor::Vendor`] trait;
//! * [`normalize`] — `TelCdrInfo` → [`huadan_model::CallRecord`], with the one
//!   `EndStatus` table;
//! * [`sandbox`] — the fake: verifies signatures as Tencent does, enforces the quota and
//!   every documented limit, answers in Tencent's error shape.

#![warn(missing_docs)]

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

pub use client::{Settings, TencentCcc};

/// The provider this room implements.
pub const PROVIDER: Provider = Provider::TencentCcc;

/// Build a client for one configured source (validates the vendor's settings keys:
/// `secret_id`, `secret_key`, `sdk_app_id`, optional `region`).
pub fn build(source: &SourceConfig) -> Result<DynVendor, ConfigError> {
    Ok(Arc::new(TencentCcc::from_source(source)?))
}

/// The sandbox fake of this vendor.
pub fn fake(ctx: FakeContext) -> Fake {
    sandbox::fake(ctx)
}
