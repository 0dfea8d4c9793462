//! `huadan doctor`: one line per source — config valid, endpoint reachable, credentials
//! accepted (one cheap signed request through `Vendor::probe`), the quota in force —
//! and, when something is wrong, the vendor's own error code and what it means.

use crate::error::CliError;
use huadan_config::{Config, SourceConfig};
use huadan_vendor::{DynVendor, Quota};
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

/// How long the TCP reachability check may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long the signed probe may take (the vendor's own request timeout applies too).
const PROBE_TIMEOUT: Duration = Duration::from_secs(45);

/// Run `huadan doctor`.
pub async fn run(config: Option<&Path>) -> Result<ExitCode, CliError> {
    let path = Config::locate(config);
    if !path.exists() {
        return Err(CliError::usage(format!(
            "no config file at {}; run `huadan init` to write one, or pass --config PATH",
            path.display()
        )));
    }
    let config = Config::load(&path)?;
    if config.sources.is_empty() {
        println!("no sources configured in {}", path.display());
        return Ok(ExitCode::from(1));
    }
    let checks = config.sources.iter().map(check);
    let lines = futures::future::join_all(checks).await;
    let mut all_ok = true;
    for (ok, line) in lines {
        all_ok &= ok;
        println!("{line}");
    }
    Ok(if all_ok { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

async fn check(source: &SourceConfig) -> (bool, String) {
    let head = format!(
        "{:<16} {:<12}{}",
        source.name,
        source.kind.to_string(),
        if source.enabled { "" } else { " (disabled)" }
    );
    let vendor: DynVendor = match huadan_vendors::build(source) {
        Ok(v) => v,
        Err(e) => return (false, format!("FAIL {head} config invalid: {e}")),
    };
    if let Err(e) = reachable(source).await {
        return (false, format!("FAIL {head} config ok; endpoint {} unreachable: {e}", source.endpoint));
    }
    let quota = quota_text(source, vendor.limits().quota);
    match tokio::time::timeout(PROBE_TIMEOUT, vendor.probe()).await {
        Err(_) => (false, format!("FAIL {head} config ok, endpoint reachable; no answer within {PROBE_TIMEOUT:?}")),
        Ok(Err(e)) => {
            (false, format!("FAIL {head} config ok, endpoint reachable; credentials not accepted: {e} [{}]", e.code()))
        }
        Ok(Ok(report)) => {
            let detail = if report.detail.is_empty() { String::new() } else { format!(" ({})", report.detail) };
            (true, format!("ok   {head} config ok, endpoint reachable, credentials accepted{detail}; quota {quota}"))
        }
    }
}

async fn reachable(source: &SourceConfig) -> Result<(), String> {
    let endpoint = &source.endpoint;
    let host = endpoint.host_str().ok_or_else(|| "no host in the URL".to_string())?;
    let port = endpoint.port_or_known_default().ok_or_else(|| "no port for this scheme".to_string())?;
    match tokio::time::timeout(CONNECT_TIMEOUT, tokio::net::TcpStream::connect((host, port))).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err(format!("no TCP connection within {CONNECT_TIMEOUT:?}")),
    }
}

/// The quota in force: the config's override, else the vendor's documented one.
fn quota_text(source: &SourceConfig, documented: Quota) -> String {
    let (q, origin) = if source.requests_per_second.is_some() || source.requests_per_minute.is_some() {
        (Quota { per_second: source.requests_per_second, per_minute: source.requests_per_minute }, "from config")
    } else {
        (documented, "documented")
    };
    let mut parts = Vec::new();
    if let Some(s) = q.per_second {
        parts.push(format!("{s} req/s"));
    }
    if let Some(m) = q.per_minute {
        parts.push(format!("{m} req/min"));
    }
    if parts.is_empty() {
        "none documented (unlimited)".to_string()
    } else {
        format!("{} ({origin})", parts.join(", "))
    }
}
