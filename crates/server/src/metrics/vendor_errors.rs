//! Vendor errors by code: each source's client wrapped so that every failed vendor
//! request is counted under the vendor's error code ([`FetchError::code`]) before the
//! engine sees it (retried or not). The engine's reports only carry a count per run.

use super::Metrics;
use async_trait::async_trait;
use huadan_model::{CallRecord, Instant, Provider};
use huadan_vendor::{
    Cursor, DynVendor, FetchError, NormalizeError, Page, PlanError, ProbeReport, Vendor, VendorLimits, Window,
};
use std::sync::Arc;

/// A vendor client that counts its errors into [`Metrics`]; everything else is the
/// wrapped client's own behaviour.
struct Counting {
    inner: DynVendor,
    metrics: Arc<Metrics>,
}

impl Counting {
    fn count<T>(&self, result: Result<T, FetchError>) -> Result<T, FetchError> {
        if let Err(e) = &result {
            self.metrics.record_vendor_error(self.inner.source(), &e.code());
        }
        result
    }
}

#[async_trait]
impl Vendor for Counting {
    fn provider(&self) -> Provider {
        self.inner.provider()
    }

    fn source(&self) -> &str {
        self.inner.source()
    }

    fn limits(&self) -> &VendorLimits {
        self.inner.limits()
    }

    fn plan(&self, range: Window, now: Instant) -> Result<Vec<Window>, PlanError> {
        self.inner.plan(range, now)
    }

    async fn fetch(&self, window: &Window, cursor: Option<&Cursor>) -> Result<Page, FetchError> {
        self.count(self.inner.fetch(window, cursor).await)
    }

    fn normalize(&self, raw: &serde_json::Value) -> Result<CallRecord, NormalizeError> {
        self.inner.normalize(raw)
    }

    async fn reset_auth(&self) {
        self.inner.reset_auth().await
    }

    async fn probe(&self) -> Result<ProbeReport, FetchError> {
        self.count(self.inner.probe().await)
    }
}

/// Wrap every client so that its errors are counted by code into `metrics`.
pub(crate) fn count_errors(vendors: &[DynVendor], metrics: &Arc<Metrics>) -> Vec<DynVendor> {
    vendors.iter().map(|v| Arc::new(Counting { inner: v.clone(), metrics: metrics.clone() }) as DynVendor).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A vendor whose every request fails with the next of `codes`.
    struct Failing {
        limits: VendorLimits,
        codes: std::sync::Mutex<Vec<FetchError>>,
    }

    #[async_trait]
    impl Vendor for Failing {
        fn provider(&self) -> Provider {
            Provider::TencentCcc
        }
        fn source(&self) -> &str {
            "ccc"
        }
        fn limits(&self) -> &VendorLimits {
            &self.limits
        }
        async fn fetch(&self, _: &Window, _: Option<&Cursor>) -> Result<Page, FetchError> {
            Err(self.codes.lock().unwrap().pop().unwrap_or(FetchError::Timeout(std::time::Duration::from_secs(1))))
        }
        fn normalize(&self, _: &serde_json::Value) -> Result<CallRecord, NormalizeError> {
            unreachable!("not called")
        }
        async fn probe(&self) -> Result<ProbeReport, FetchError> {
            Err(FetchError::Http { status: 503, snippet: String::new() })
        }
    }

    fn limit_exceeded() -> FetchError {
        FetchError::Vendor {
            code: "LimitExceeded".into(),
            message: "slow down".into(),
            meaning: None,
            class: huadan_vendor::ErrorClass::RateLimited { retry_after: None },
        }
    }

    #[tokio::test]
    async fn errors_are_counted_by_code_and_passed_on_unchanged() {
        let metrics = Arc::new(Metrics::default());
        let vendor: DynVendor = Arc::new(Failing {
            limits: VendorLimits {
                max_span: jiff::SignedDuration::from_hours(24),
                min_span: jiff::SignedDuration::from_secs(1),
                max_records_per_query: None,
                max_age: None,
                default_lookback: jiff::SignedDuration::from_mins(30),
                quota: huadan_vendor::Quota::default(),
                settle_within: None,
            },
            codes: std::sync::Mutex::new(vec![limit_exceeded(), limit_exceeded()]),
        });
        let wrapped = count_errors(&[vendor], &metrics).remove(0);
        assert_eq!((wrapped.source(), wrapped.provider()), ("ccc", Provider::TencentCcc));
        let w = Window::new("2024-01-01T00:00:00Z".parse().unwrap(), "2024-01-02T00:00:00Z".parse().unwrap());
        for _ in 0..3 {
            let e = wrapped.fetch(&w, None).await.unwrap_err();
            assert!(matches!(e, FetchError::Vendor { .. } | FetchError::Timeout(_)), "{e}");
        }
        assert!(wrapped.probe().await.is_err());
        let text = metrics.render();
        assert!(text.contains("huadan_vendor_errors_total{source=\"ccc\",code=\"LimitExceeded\"} 2"), "{text}");
        assert!(text.contains("huadan_vendor_errors_total{source=\"ccc\",code=\"timeout\"} 1"), "{text}");
        assert!(text.contains("huadan_vendor_errors_total{source=\"ccc\",code=\"http_503\"} 1"), "{text}");
    }
}
