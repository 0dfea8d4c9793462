//! The registry: the one place that lists the five vendor kinds. Adding a sixth vendor
//! means adding its room under `crates/vendors/` and one line in each `match` here.

use huadan_config::{Config, ConfigError, SourceConfig};
use huadan_fakekit::{Fake, FakeContext};
use huadan_model::Provider;
use huadan_vendor::DynVendor;

/// Build the client for one configured source; the vendor validates its own keys.
pub fn build(source: &SourceConfig) -> Result<DynVendor, ConfigError> {
    match source.kind {
        Provider::Wecom => huadan_wecom::build(source),
        Provider::TencentCcc => huadan_tencent_ccc::build(source),
        Provider::AliyunCcc => huadan_aliyun_ccc::build(source),
        Provider::TencentAds => huadan_tencent_ads::build(source),
        Provider::Tanma => huadan_tanma::build(source),
    }
}

/// Build the sandbox fake of one vendor.
pub fn fake(kind: Provider, ctx: FakeContext) -> Fake {
    match kind {
        Provider::Wecom => huadan_wecom::fake(ctx),
        Provider::TencentCcc => huadan_tencent_ccc::fake(ctx),
        Provider::AliyunCcc => huadan_aliyun_ccc::fake(ctx),
        Provider::TencentAds => huadan_tencent_ads::fake(ctx),
        Provider::Tanma => huadan_tanma::fake(ctx),
    }
}

/// Check every source's vendor-specific settings (unknown / missing keys) by building
/// its client; the first error names the source and the key.
pub fn validate(config: &Config) -> Result<(), ConfigError> {
    for s in &config.sources {
        build(s)?;
    }
    Ok(())
}

/// Build clients for the enabled sources, optionally only those named.
pub fn build_enabled(config: &Config, only: &[String]) -> Result<Vec<DynVendor>, ConfigError> {
    for name in only {
        if config.source(name).is_none() {
            return Err(ConfigError::invalid(
                "--source",
                format!("names no configured source: `{name}` (configured: {})", names(config)),
            ));
        }
    }
    config
        .sources
        .iter()
        .filter(|s| if only.is_empty() { s.enabled } else { only.contains(&s.name) })
        .map(build)
        .collect()
}

fn names(config: &Config) -> String {
    config.sources.iter().map(|s| s.name.as_str()).collect::<Vec<_>>().join(", ")
}
