//! The official SDK (`tencentcloud-sdk-python-ccc`, `CccClient` with an http endpoint
//! override) against the fake: right credentials → records; wrong secret → the vendor's
//! auth error. Needs `HUADAN_TEST_PYTHON` (set by `scripts/test`).

mod common;

use huadan_fakekit::{Clock, Dataset, DatasetSpec, FakeContext};
use std::collections::BTreeSet;
use std::time::Duration;

#[tokio::test]
async fn official_sdk_gets_records_and_auth_errors() {
    let Some(python) = std::env::var_os("HUADAN_TEST_PYTHON") else {
        println!("skipped: HUADAN_TEST_PYTHON not set (scripts/test sets it)");
        return;
    };
    // The SDK signs with the real time: the fake runs on the real clock.
    let spec = DatasetSpec { seed: 77, days: 2, calls_per_day: 800, late: 0.0, update: 0.0 };
    let s = common::serve(FakeContext::new(Dataset::new(spec, Clock::real()))).await;
    let end = s.now();
    let start = end - 86_400;
    let script = format!("{}/../../../tests/python/tencent_ccc_interop.py", env!("CARGO_MANIFEST_DIR"));
    let run = tokio::process::Command::new(python)
        .arg(&script)
        .args([&s.host, &s.secret_id, &s.secret_key, &s.sdk_app_id.to_string(), &start.to_string(), &end.to_string()])
        .env("NO_PROXY", "127.0.0.1")
        .env("no_proxy", "127.0.0.1")
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(120), run).await.expect("SDK run timed out").unwrap();
    assert!(out.status.success(), "SDK run failed: {}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();

    let w = huadan_vendor::Window::new(
        huadan_model::time::from_unix_seconds(start).unwrap(),
        huadan_model::time::from_unix_seconds(end + 1).unwrap(),
    );
    let expected = s.expected_count(&w);
    assert!(expected > 200, "{expected}");
    assert_eq!(v["total"].as_u64(), Some(expected), "{v}");
    let ids: BTreeSet<&str> = v["ids"].as_array().unwrap().iter().map(|i| i.as_str().unwrap()).collect();
    assert_eq!(ids.len() as u64, expected, "the SDK paged from 0 through every record once");
    assert!(v["sample"]["SessionId"].is_string());
    assert!(v["sample"]["EndStatusString"].is_string());
    assert_eq!(v["wrong_secret_key"], "AuthFailure.SignatureFailure", "{v}");
    assert_eq!(v["wrong_secret_id"], "AuthFailure.SecretIdNotFound", "{v}");
    assert_eq!(s.ctx.counters.get("auth_failures"), 2);
}
