//! Prometheus metrics, counted by the server itself (no registry crate): HTTP requests by
//! route and status, and per source what the sync engine's [`SourceReport`]s say —
//! records fetched / inserted / updated, list requests, retries, vendor errors, the
//! request rate of the last run (the quota in use), whether a sync is running.
//!
//! The engine reports errors as a count per run, not by vendor error code, and exposes
//! no live limiter state; so `huadan_vendor_errors_total` is per source (not per code)
//! and the quota in use is the last run's average request rate.

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use huadan_sync::SourceReport;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;

use crate::state::AppState;

#[derive(Debug, Default, Clone)]
struct SourceCounters {
    runs_ok: u64,
    runs_failed: u64,
    fetched: u64,
    inserted: u64,
    updated: u64,
    requests: u64,
    retries: u64,
    errors: u64,
    last_rate: Option<f64>,
    last_duration: Option<f64>,
    running: bool,
}

/// The server's counters.
#[derive(Debug, Default)]
pub struct Metrics {
    http: Mutex<BTreeMap<(&'static str, String, u16), u64>>,
    sources: Mutex<BTreeMap<String, SourceCounters>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic while holding the lock only ever leaves counters half-updated.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn method_label(m: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    match *m {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::HEAD => "HEAD",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::OPTIONS => "OPTIONS",
        _ => "OTHER",
    }
}

impl Metrics {
    /// Count one answered request. `route` is the route template (`/v1/calls/{id}`),
    /// never the raw path, so the label set stays bounded.
    pub fn record_http(&self, method: &axum::http::Method, route: &str, status: u16) {
        *lock(&self.http).entry((method_label(method), route.to_string(), status)).or_default() += 1;
    }

    /// Mark a source's sync as started or finished.
    pub fn set_running(&self, source: &str, running: bool) {
        lock(&self.sources).entry(source.to_string()).or_default().running = running;
    }

    /// Add one finished run of a source.
    pub fn record_sync(&self, report: &SourceReport) {
        let mut map = lock(&self.sources);
        let c = map.entry(report.source.clone()).or_default();
        if report.ok {
            c.runs_ok += 1;
        } else {
            c.runs_failed += 1;
        }
        c.fetched += report.fetched;
        c.inserted += report.inserted;
        c.updated += report.updated;
        c.requests += report.requests;
        c.retries += report.retries;
        c.errors += report.errors;
        let secs = report.elapsed.as_secs_f64();
        c.last_duration = Some(secs);
        c.last_rate = (secs > 0.0).then(|| report.requests as f64 / secs);
    }

    /// The Prometheus text exposition (format 0.0.4).
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(4096);
        out.push_str("# HELP huadan_http_requests_total HTTP requests answered, by method, route and status.\n");
        out.push_str("# TYPE huadan_http_requests_total counter\n");
        for ((method, route, status), n) in lock(&self.http).iter() {
            let _ = writeln!(
                out,
                "huadan_http_requests_total{{method=\"{method}\",route=\"{}\",status=\"{status}\"}} {n}",
                escape(route)
            );
        }
        let sources = lock(&self.sources).clone();
        type Get = fn(&SourceCounters) -> Option<f64>;
        let families: &[(&str, &str, &str, Get)] = &[
            ("huadan_sync_runs_total", "counter", "Finished sync runs that stored every window.", |c| {
                Some(c.runs_ok as f64)
            }),
            ("huadan_sync_runs_failed_total", "counter", "Finished sync runs that ended with an error.", |c| {
                Some(c.runs_failed as f64)
            }),
            ("huadan_sync_records_fetched_total", "counter", "Records received from the vendor.", |c| {
                Some(c.fetched as f64)
            }),
            ("huadan_sync_records_inserted_total", "counter", "Records new to the store.", |c| Some(c.inserted as f64)),
            ("huadan_sync_records_updated_total", "counter", "Records changed in place.", |c| Some(c.updated as f64)),
            ("huadan_vendor_requests_total", "counter", "List requests made to the vendor.", |c| {
                Some(c.requests as f64)
            }),
            ("huadan_vendor_retries_total", "counter", "Vendor requests retried.", |c| Some(c.retries as f64)),
            (
                "huadan_vendor_errors_total",
                "counter",
                "Vendor errors met (retried or not); the engine does not report them by code yet.",
                |c| Some(c.errors as f64),
            ),
            (
                "huadan_vendor_request_rate",
                "gauge",
                "Quota in use: the last run's average vendor requests per second.",
                |c| c.last_rate,
            ),
            ("huadan_sync_last_run_seconds", "gauge", "Wall time of the last finished run.", |c| c.last_duration),
            ("huadan_sync_running", "gauge", "1 while a sync of the source is running.", |c| {
                Some(if c.running { 1.0 } else { 0.0 })
            }),
        ];
        for (name, kind, help, get) in families {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
            for (source, c) in &sources {
                if let Some(v) = get(c) {
                    let _ = writeln!(out, "{name}{{source=\"{}\"}} {v}", escape(source));
                }
            }
        }
        out
    }
}

fn escape(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// Middleware counting every answered request by its route template.
pub async fn count_requests(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let route = req.extensions().get::<MatchedPath>().map(|p| p.as_str().to_string());
    let resp = next.run(req).await;
    let route = route.as_deref().unwrap_or("unmatched");
    state.inner.metrics.record_http(&method, route, resp.status().as_u16());
    resp
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn renders_http_and_sync_families() {
        let m = Metrics::default();
        m.record_http(&axum::http::Method::GET, "/v1/calls", 200);
        m.record_http(&axum::http::Method::GET, "/v1/calls", 200);
        m.record_sync(&SourceReport {
            source: "wecom\"hq".into(),
            ok: true,
            fetched: 10,
            inserted: 7,
            updated: 1,
            requests: 4,
            errors: 2,
            elapsed: Duration::from_secs(2),
            ..SourceReport::default()
        });
        let text = m.render();
        assert!(text.contains("huadan_http_requests_total{method=\"GET\",route=\"/v1/calls\",status=\"200\"} 2"));
        assert!(text.contains("huadan_sync_records_inserted_total{source=\"wecom\\\"hq\"} 7"));
        assert!(text.contains("huadan_vendor_errors_total{source=\"wecom\\\"hq\"} 2"));
        assert!(text.contains("huadan_vendor_request_rate{source=\"wecom\\\"hq\"} 2"));
    }
}
