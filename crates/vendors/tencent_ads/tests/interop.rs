//! Interop: an independent Python client (tests/python/tencent_ads_interop.py, written
//! from the vendor's documentation with `requests`) against our fake: the right token
//! gets every record; a wrong one gets the vendor's 11002.

mod common;

use common::*;
use std::collections::BTreeSet;
use std::time::Duration;

async fn run_python(python: &str, args: &[String]) -> (i32, serde_json::Value) {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../tests/python/tencent_ads_interop.py");
    let child = tokio::process::Command::new(python).arg(script).args(args).kill_on_drop(true).output();
    let out = tokio::time::timeout(Duration::from_secs(120), child).await.expect("python timed out").unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line =
        stdout.lines().last().unwrap_or_else(|| panic!("no output; stderr: {}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code().unwrap_or(-1), serde_json::from_str(line).unwrap())
}

#[tokio::test]
async fn python_client_gets_records_and_the_vendors_auth_error() {
    let Ok(python) = std::env::var("HUADAN_TEST_PYTHON") else {
        println!("skipped: HUADAN_TEST_PYTHON not set (scripts/test sets it)");
        return;
    };
    let run = serve(context(dataset(17, 3, 3000, "2024-06-14T06:00:00Z"), &[])).await;
    let args = |token: &str| {
        vec![
            "--endpoint".to_string(),
            run.endpoint.clone(),
            "--access-token".into(),
            token.to_string(),
            "--account-id".into(),
            run.account_id.to_string(),
            "--start-date".into(),
            "2024-06-12".into(),
            "--end-date".into(),
            "2024-06-13".into(),
            "--page-size".into(),
            "50".into(),
        ]
    };
    let (status, out) = run_python(&python, &args(&run.token)).await;
    assert_eq!(status, 0, "{out}");
    let expected = run.expected_keys(gmt8("2024-06-12 00:00:00"), gmt8("2024-06-14 00:00:00"));
    let got: Vec<u64> = out["call_ids"].as_array().unwrap().iter().map(|v| key_of(v.as_str().unwrap())).collect();
    let set: BTreeSet<u64> = got.iter().copied().collect();
    assert_eq!(set.len(), got.len());
    assert!(set == expected, "python got {} of {}", set.len(), expected.len());
    assert!(expected.len() > 1000);

    let (status, out) = run_python(&python, &args("ffffffffffffffffffffffffffffffff")).await;
    assert_eq!(status, 3, "{out}");
    assert_eq!(out["code"], 11002);
    assert_eq!(out["message"], "Access token is invalid.");
    assert!(run.ctx.counters.get("auth_failures") >= 1);
}
