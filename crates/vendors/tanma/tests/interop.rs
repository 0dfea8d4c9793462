//! Interop: Tanma has no official SDK, so `tests/python/tanma_interop.py` — a small
//! client written from the seed document alone (requests + hashlib) — is pointed at the
//! fake: the right secret lists exactly the dataset's records, a wrong secret gets
//! Tanma's signature error.

mod common;

use common::*;
use huadan_model::time::format_gmt8;
use huadan_tanma::client::codes;
use huadan_tanma::sandbox::Credentials;
use jiff::SignedDuration;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::Duration;

fn python() -> Option<String> {
    match std::env::var("HUADAN_TEST_PYTHON") {
        Ok(p) if !p.is_empty() => Some(p),
        _ => {
            println!("skipped: HUADAN_TEST_PYTHON not set (scripts/test sets it)");
            None
        }
    }
}

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../tests/python/tanma_interop.py")
}

/// Run the Python client (in a blocking thread, bounded by a timeout).
async fn run_python(py: String, endpoint: String, creds: Credentials, start: String, end: String) -> Value {
    let task = tokio::task::spawn_blocking(move || {
        std::process::Command::new(py)
            .arg(script())
            .arg(endpoint)
            .arg(start)
            .arg(end)
            .arg("50")
            .env("TANMA_APP_ID", creds.app_id)
            .env("TANMA_APP_KEY", creds.app_key)
            .env("TANMA_APP_SECRET", creds.app_secret)
            .output()
            .unwrap()
    });
    let out = tokio::time::timeout(Duration::from_secs(60), task).await.expect("python client timed out").unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "python failed: {}\n{stdout}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}"))
}

#[tokio::test]
async fn python_client_from_the_doc_reads_the_fake() {
    let Some(py) = python() else { return };
    let mut ctx = context(47, 2, 500);
    ctx.options.insert("tanma.wide_ids".into(), "true".into());
    let (endpoint, creds) = start(&ctx).await;
    let now = ctx.dataset.now();
    let (s, e) = (now - SignedDuration::from_hours(30), now - SignedDuration::from_hours(2));
    // The doc's closed range of whole seconds: [s, e - 1s] is the half-open [s, e).
    let out = run_python(
        py.clone(),
        endpoint.clone(),
        creds.clone(),
        format_gmt8(s),
        format_gmt8(e - SignedDuration::from_secs(1)),
    )
    .await;
    assert_eq!(out["ok"], true, "{out}");
    let ids: Vec<String> = out["ids"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect();
    let set: BTreeSet<String> = ids.iter().cloned().collect();
    assert_eq!(set.len(), ids.len(), "no duplicates");
    assert_eq!(set, expected_ids(&ctx, s, e), "exactly the dataset's records, ids > 2^53 intact");
    assert_eq!(out["total"], ids.len());
    assert!(out["pages"].as_u64().unwrap() > 1);
    assert!(out["sentences"].as_u64().unwrap() > 0);
    assert!(out["statuses"]["0"].as_u64().unwrap() > 0 && out["statuses"]["2"].as_u64().unwrap() > 0);

    // The huadan client agrees with the independent one.
    let c = client(&endpoint, &creds);
    let run = sync(&c, huadan_vendor::Window::new(s, e), now).await.unwrap();
    assert_eq!(run.ids(), set);

    // Wrong secret: Tanma's signature error, in Tanma's shape.
    let mut wrong = creds.clone();
    wrong.app_secret = "0".repeat(32);
    let out = run_python(py, endpoint, wrong, format_gmt8(s), format_gmt8(e)).await;
    assert_eq!(out["ok"], false);
    assert_eq!(out["code"], codes::BAD_SIGN, "{out}");
    assert_eq!(out["message"], "签名校验失败");
}
