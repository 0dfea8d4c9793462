//! Prometheus metrics, counted by the server itself (no registry crate): HTTP requests by
//! route and status, and per source what the sync engine's [`SourceReport`]s say —
//! records fetched / inserted / updated, list requests, retries, vendor errors, the
//! request rate of the last run (the quota in use), whether a sync is running.
//!
//! `huadan_vendor_errors_total{source, code}` counts vendor errors by the vendor's own
//! code (`LimitExceeded`, `45009`, or `timeout` / `transport` / `http_503` /
//! `bad_answer`), as each source's client meets them ([`count_errors`] wraps the
//! clients); errors a run reported that no wrapped client saw (a sync runner of its own)
//! are counted under `code="unknown"`. At most [`MAX_CODES_PER_SOURCE`] codes are kept
//! per source (the rest count as `other`), so the label set stays bounded.
//! The engine exposes no live limiter state, so the quota in use is the last run's
//! average request rate.

mod vendor_errors;
pub(crate) use vendor_errors::count_errors;

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

/// Distinct vendor error codes kept per source; further codes count as `other`.
pub const MAX_CODES_PER_SOURCE: usize = 32;
/// Longest code label kept (longer codes are cut at a character boundary).
const MAX_CODE_LEN: usize = 64;

/// The server's counters.
#[derive(Debug, Default)]
pub struct Metrics {
    http: Mutex<BTreeMap<(&'static str, String, u16), u64>>,
    sources: Mutex<BTreeMap<String, SourceCounters>>,
    /// Source → vendor error code → count.
    vendor_errors: Mutex<BTreeMap<String, BTreeMap<String, u64>>>,
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

    /// Count one vendor error of `source` under the vendor's `code`.
    pub fn record_vendor_error(&self, source: &str, code: &str) {
        let mut map = lock(&self.vendor_errors);
        let codes = map.entry(source.to_string()).or_default();
        if let Some(n) = codes.get_mut(code) {
            *n += 1;
            return;
        }
        let label = if codes.len() >= MAX_CODES_PER_SOURCE {
            "other".to_string()
        } else {
            let mut end = code.len().min(MAX_CODE_LEN);
            while !code.is_char_boundary(end) {
                end -= 1;
            }
            if end == 0 { "unknown".to_string() } else { code[..end].to_string() }
        };
        *codes.entry(label).or_default() += 1;
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
        self.render_vendor_errors(&mut out, &sources);
        out
    }

    fn render_vendor_errors(&self, out: &mut String, sources: &BTreeMap<String, SourceCounters>) {
        let mut by_code = lock(&self.vendor_errors).clone();
        // Errors the runs reported beyond what the wrapped clients counted.
        for (source, c) in sources {
            let seen: u64 = by_code.get(source).map_or(0, |codes| codes.values().sum());
            if c.errors > seen {
                *by_code.entry(source.clone()).or_default().entry("unknown".into()).or_default() += c.errors - seen;
            }
        }
        out.push_str(
            "# HELP huadan_vendor_errors_total Vendor errors met (retried or not), by the vendor's error code.\n",
        );
        out.push_str("# TYPE huadan_vendor_errors_total counter\n");
        for (source, codes) in &by_code {
            for (code, n) in codes {
                let _ = writeln!(
                    out,
                    "huadan_vendor_errors_total{{source=\"{}\",code=\"{}\"}} {n}",
                    escape(source),
                    escape(code)
                );
            }
        }
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
    fn vendor_error_codes_are_bounded_and_escaped() {
        let m = Metrics::default();
        m.record_vendor_error("hq", "45009");
        m.record_vendor_error("hq", "45009");
        m.record_vendor_error("hq", "a\"b");
        m.record_vendor_error("hq", &"长".repeat(40));
        for i in 0..100 {
            m.record_vendor_error("hq", &format!("code-{i}"));
        }
        let text = m.render();
        assert!(text.contains("huadan_vendor_errors_total{source=\"hq\",code=\"45009\"} 2"), "{text}");
        assert!(text.contains("code=\"a\\\"b\"} 1"), "{text}");
        assert!(text.contains(&format!("code=\"{}\"}} 1", "长".repeat(21))), "cut at a char boundary: {text}");
        let lines = text.lines().filter(|l| l.starts_with("huadan_vendor_errors_total{")).count();
        assert_eq!(lines, MAX_CODES_PER_SOURCE + 1, "{text}");
        assert!(text.contains("code=\"other\"} 71"), "{text}");
        // A run that reported fewer errors than were counted adds nothing.
        m.record_sync(&SourceReport { source: "hq".into(), errors: 3, ..SourceReport::default() });
        assert!(!m.render().contains("code=\"unknown\""));
    }

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
        // No client counted them: the run's two errors have no known code.
        assert!(text.contains("huadan_vendor_errors_total{source=\"wecom\\\"hq\",code=\"unknown\"} 2"), "{text}");
        assert!(text.contains("huadan_vendor_request_rate{source=\"wecom\\\"hq\"} 2"));
    }
}
