//! The official SDKs against the fake — `alibabacloud-ccc20200701` (ACS3-HMAC-SHA256) and
//! `aliyun-python-sdk-core` (RPC signature v1, HMAC-SHA1): right credentials → every
//! record of the window; wrong secret → `SignatureDoesNotMatch`.

mod common;

use common::*;
use huadan_fakekit::Clock;
use huadan_vendor::Window;
use std::process::Command;

fn python() -> Option<String> {
    match std::env::var("HUADAN_TEST_PYTHON") {
        Ok(p) if !p.is_empty() => Some(p),
        _ => {
            println!("skipped: HUADAN_TEST_PYTHON not set (scripts/test sets it)");
            None
        }
    }
}

fn run_sdk(py: &str, s: &Served, secret: &str, w: &Window, mode: &str) -> serde_json::Value {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../tests/python/aliyun_ccc_interop.py");
    let out = Command::new(py)
        .arg(script)
        .arg(s.addr.to_string())
        .arg(&s.access_key_id)
        .arg(secret)
        .arg(huadan_aliyun_ccc::sandbox::INSTANCE_ID)
        .arg(w.start.as_millisecond().to_string())
        .arg(w.end.as_millisecond().to_string())
        .arg(mode)
        .output()
        .expect("run python");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "sdk failed: {stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aliyun_official_sdk_interop() {
    let Some(py) = python() else { return };
    for string_numbers in ["false", "true"] {
        let s = serve(
            spec(31, 2, 5_000),
            Clock::fixed(t("2024-06-13T04:00:00Z")),
            Opts { options: vec![("aliyun_ccc.string_numbers", string_numbers)], ..Opts::default() },
        )
        .await;
        let w = Window::new(t("2024-06-12T01:00:00Z"), t("2024-06-12T04:00:00Z"));
        let expected = expected_ids(&s, &w).len() as u64;
        assert!(expected > 100);
        for mode in ["acs3", "v1"] {
            let failures_before = s.ctx.counters.get("auth_failures");
            let ok = tokio::task::block_in_place(|| run_sdk(&py, &s, &s.secret, &w, mode));
            assert_eq!(ok["ok"], true, "{mode}: {ok}");
            assert_eq!(ok["total"], expected, "{mode}: {ok}");
            assert_eq!(ok["records"], expected, "{mode}: {ok}");
            assert_eq!(ok["unique"], expected, "{mode}: {ok}");
            assert!(ok["first"]["ContactId"].as_str().unwrap().starts_with("job-"));
            assert_eq!(s.ctx.counters.get("auth_failures"), failures_before, "{mode}");
            // The SDK really used the scheme under test.
            let scheme = if mode == "v1" { "signed_v1" } else { "signed_acs3" };
            assert!(
                s.ctx.counters.get(scheme) >= ok["pages"].as_u64().unwrap(),
                "{mode}: {:?}",
                s.ctx.counters.snapshot()
            );

            let bad = tokio::task::block_in_place(|| run_sdk(&py, &s, "wrong-secret", &w, mode));
            assert_eq!(bad["ok"], false, "{mode}: {bad}");
            assert_eq!(bad["code"], "SignatureDoesNotMatch", "{mode}: {bad}");
            assert_eq!(bad["status"], 400, "{mode}: {bad}");
            assert!(s.ctx.counters.get("auth_failures") > failures_before, "{mode}");
        }
    }
}
