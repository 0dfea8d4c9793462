//! Signing against the fake: both schemes accepted, every auth error in the vendor's
//! shape and classified, nonce reuse and clock skew refused, SignedHeaders followed.

mod common;

use common::*;
use huadan_aliyun_ccc::{auth, sandbox, wire};
use huadan_fakekit::{Clock, FaultKind, Faults};
use huadan_vendor::{ErrorClass, FetchError, Vendor, Window};
use jiff::SignedDuration;
use std::collections::BTreeMap;

fn window() -> Window {
    Window::new(t("2024-06-12T02:00:00Z"), t("2024-06-12T02:30:00Z"))
}

async fn served() -> Served {
    serve(spec(21, 2, 3_000), Clock::fixed(t("2024-06-13T04:00:00Z")), Opts::default()).await
}

fn vendor_code(e: &FetchError) -> (&str, ErrorClass) {
    match e {
        FetchError::Vendor { code, class, .. } => (code.as_str(), *class),
        other => panic!("expected a vendor error, got {other:?}"),
    }
}

#[tokio::test]
async fn aliyun_acs3_default_and_v1_option_both_accepted() {
    let s = served().await;
    let acs3 = client(&s, "");
    assert_eq!(acs3.signature_version(), auth::SignatureVersion::Acs3);
    let v1 = client(&s, "signature_version = \"v1\"");
    assert_eq!(v1.signature_version(), auth::SignatureVersion::V1);
    let a = run_window(&acs3, &window()).await.unwrap();
    let b = run_window(&v1, &window()).await.unwrap();
    assert_eq!(ids(&a), ids(&b));
    assert_eq!(ids(&a), expected_ids(&s, &window()));
    assert_eq!(s.ctx.counters.get("auth_failures"), 0);
    let report = acs3.probe().await.unwrap();
    assert!(report.detail.contains("signature accepted"), "{}", report.detail);
}

#[tokio::test]
async fn aliyun_wrong_secret_is_signature_does_not_match_fatal() {
    let s = served().await;
    for extra in ["", "signature_version = \"v1\""] {
        let bad = huadan_aliyun_ccc::AliyunCcc::from_source(&source(
            &s.endpoint(),
            &s.access_key_id,
            "not-the-secret",
            sandbox::INSTANCE_ID,
            extra,
        ))
        .unwrap();
        let e = bad.fetch(&window(), None).await.unwrap_err();
        assert_eq!(vendor_code(&e), ("SignatureDoesNotMatch", ErrorClass::Fatal), "{extra}");
        assert!(e.to_string().contains("access_key_secret"), "{e}");
        assert!(!e.to_string().contains("not-the-secret"));
    }
    let unknown = huadan_aliyun_ccc::AliyunCcc::from_source(&source(
        &s.endpoint(),
        "LTAI-nobody",
        &s.secret,
        sandbox::INSTANCE_ID,
        "",
    ))
    .unwrap();
    let e = unknown.fetch(&window(), None).await.unwrap_err();
    assert_eq!(vendor_code(&e), ("InvalidAccessKeyId.NotFound", ErrorClass::Fatal));
    let wrong_instance =
        huadan_aliyun_ccc::AliyunCcc::from_source(&source(&s.endpoint(), &s.access_key_id, &s.secret, "ccc-other", ""))
            .unwrap();
    let e = wrong_instance.fetch(&window(), None).await.unwrap_err();
    assert_eq!(vendor_code(&e), ("NotExists.InstanceId", ErrorClass::Fatal));
    assert!(s.ctx.counters.get("auth_failures") >= 3);
}

/// Trap: a reused SignatureNonce is refused (`SignatureNonceUsed`, retryable: the
/// retry signs with a fresh nonce).
#[tokio::test]
async fn aliyun_signature_nonce_reuse_refused() {
    let s = served().await;
    for extra in ["", "signature_version = \"v1\""] {
        let nonce = uuid::Uuid::new_v4().to_string();
        let v = client(&s, extra).with_fixed_nonce(&nonce);
        v.fetch(&window(), None).await.unwrap();
        let e = v.fetch(&window(), None).await.unwrap_err();
        assert_eq!(vendor_code(&e), ("SignatureNonceUsed", ErrorClass::Retry), "{extra}");
    }
    assert_eq!(s.ctx.counters.get("nonce_reused"), 2);
    // The real client draws a fresh nonce per request.
    let v = client(&s, "");
    for _ in 0..3 {
        v.fetch(&window(), None).await.unwrap();
    }
}

/// Trap: a timestamp more than 15 minutes off → `InvalidTimeStamp.Expired`; 10 minutes is fine.
#[tokio::test]
async fn aliyun_clock_skew_over_fifteen_minutes_refused() {
    let s = served().await;
    for extra in ["", "signature_version = \"v1\""] {
        for skew in [SignedDuration::from_mins(16), SignedDuration::from_mins(-16)] {
            let v = client(&s, extra).with_clock_offset(skew);
            let e = v.fetch(&window(), None).await.unwrap_err();
            assert_eq!(vendor_code(&e), ("InvalidTimeStamp.Expired", ErrorClass::RefreshAuth));
            assert!(e.to_string().contains("clock"), "{e}");
        }
        let v = client(&s, extra).with_clock_offset(SignedDuration::from_mins(10));
        v.fetch(&window(), None).await.unwrap();
    }
    assert_eq!(s.ctx.counters.get("skew_refused"), 4);
}

/// A hand-built ACS3 request, signing `signed` of the headers sent.
async fn acs3_request(
    s: &Served,
    headers: &[(&str, String)],
    signed: &[&str],
    tamper: Option<(&str, &str)>,
) -> (u16, serde_json::Value) {
    let w = window();
    let query: BTreeMap<String, String> =
        window_params(&w, 1, 10).into_iter().map(|(k, v)| (k.to_string(), v)).collect();
    let mut all: BTreeMap<String, Vec<String>> = BTreeMap::new();
    all.insert("host".into(), vec![s.addr.to_string()]);
    for (k, v) in headers {
        all.insert(k.to_string(), vec![v.clone()]);
    }
    let signed: Vec<String> = signed.iter().map(|x| x.to_string()).collect();
    let cr = auth::acs3_canonical_request("POST", "/", &query, &all, &signed, auth::EMPTY_SHA256);
    let sig = auth::sign_acs3(&cr, &s.secret);
    let mut rb = reqwest::Client::new()
        .post(format!("{}/?{}", s.endpoint(), auth::canonical_query(&query)))
        .header("authorization", auth::acs3_authorization(&s.access_key_id, &signed, &sig));
    for (k, v) in headers {
        let v = match tamper {
            Some((name, value)) if name == *k => value.to_string(),
            _ => v.clone(),
        };
        rb = rb.header(*k, v);
    }
    let resp = rb.send().await.unwrap();
    (resp.status().as_u16(), resp.json().await.unwrap())
}

fn acs3_headers() -> Vec<(&'static str, String)> {
    vec![
        ("x-acs-action", wire::ACTION.to_string()),
        ("x-acs-version", wire::VERSION.to_string()),
        ("x-acs-date", now_stamp()),
        ("x-acs-signature-nonce", nonce()),
        ("x-acs-content-sha256", auth::EMPTY_SHA256.to_string()),
        ("user-agent", "AlibabaCloud (Linux) Python/3.11 TeaDSL/2".to_string()),
        ("x-unsigned-extra", "anything".to_string()),
    ]
}

/// The fake follows the request's own SignedHeaders list (the SDK signs every header it
/// sends, e.g. `user-agent`); unsigned headers are ignored; a tampered signed header or a
/// list missing `x-acs-signature-nonce` is refused.
#[tokio::test]
async fn aliyun_acs3_verifier_follows_signed_headers() {
    let s = served().await;
    let all_signed = [
        "host",
        "user-agent",
        "x-acs-action",
        "x-acs-content-sha256",
        "x-acs-date",
        "x-acs-signature-nonce",
        "x-acs-version",
    ];
    let (status, body) = acs3_request(&s, &acs3_headers(), &all_signed, None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["Data"]["List"].as_array().unwrap().len(), 10);

    let (status, body) = acs3_request(&s, &acs3_headers(), &all_signed, Some(("user-agent", "evil"))).await;
    assert_eq!((status, body["Code"].as_str()), (400, Some("SignatureDoesNotMatch")));

    // Unsigned headers may change freely.
    let (status, _) = acs3_request(&s, &acs3_headers(), &all_signed, Some(("x-unsigned-extra", "other"))).await;
    assert_eq!(status, 200);

    let without_nonce: Vec<&str> = all_signed.iter().copied().filter(|h| *h != "x-acs-signature-nonce").collect();
    let (status, body) = acs3_request(&s, &acs3_headers(), &without_nonce, None).await;
    assert_eq!((status, body["Code"].as_str()), (400, Some("IncompleteSignature")));
    assert!(body["RequestId"].is_string() && body["Message"].is_string());
}

/// Quota and injected faults answer in the vendor's shapes and are classified.
#[tokio::test]
async fn aliyun_throttling_and_faults_classified() {
    // The quota: 10 requests per second.
    let s =
        serve(spec(22, 2, 3_000), Clock::fixed(t("2024-06-13T04:00:00Z")), Opts { limits: true, ..Opts::default() })
            .await;
    let v = std::sync::Arc::new(client(&s, ""));
    let mut handles = Vec::new();
    for _ in 0..30 {
        let v = v.clone();
        handles.push(tokio::spawn(async move { v.fetch(&window(), None).await }));
    }
    let mut limited = 0;
    for h in handles {
        if let Err(e) = h.await.unwrap() {
            assert_eq!(vendor_code(&e).0, "Throttling.User");
            assert!(matches!(e.class(), ErrorClass::RateLimited { .. }));
            limited += 1;
        }
    }
    assert!(limited >= 10, "{limited} throttled");
    assert_eq!(s.ctx.counters.get("rate_limited"), limited);

    for (kind, check) in [
        (FaultKind::RateLimit, "Throttling.User"),
        (FaultKind::TokenExpiry, "InvalidTimeStamp.Expired"),
        (FaultKind::Http500, "http_500"),
    ] {
        let s = serve(
            spec(23, 2, 3_000),
            Clock::fixed(t("2024-06-13T04:00:00Z")),
            Opts { faults: Some(Faults::none().with(kind, 1.0)), ..Opts::default() },
        )
        .await;
        let e = client(&s, "").fetch(&window(), None).await.unwrap_err();
        assert_eq!(e.code(), check);
        let class = e.class();
        match kind {
            FaultKind::RateLimit => assert!(matches!(class, ErrorClass::RateLimited { .. })),
            FaultKind::TokenExpiry => assert_eq!(class, ErrorClass::RefreshAuth),
            _ => assert_eq!(class, ErrorClass::Retry),
        }
    }
}

#[test]
fn aliyun_settings_are_validated() {
    let ok = source("http://127.0.0.1:1", "ak", "sk-very-secret", "ccc-test", "");
    assert!(huadan_aliyun_ccc::build(&ok).is_ok());
    let bad = source("http://127.0.0.1:1", "ak", "sk", "ccc-test", "instance = \"x\"");
    let e = huadan_aliyun_ccc::build(&bad).err().unwrap().to_string();
    assert!(e.contains("instance") && e.contains("aliyun-ccc"), "{e}");
    let bad = source("http://127.0.0.1:1", "ak", "sk", "ccc-test", "signature_version = \"v2\"");
    let e = huadan_aliyun_ccc::build(&bad).err().unwrap().to_string();
    assert!(e.contains("signature_version"), "{e}");
    let empty = source("http://127.0.0.1:1", "", "sk", "ccc-test", "");
    assert!(huadan_aliyun_ccc::build(&empty).is_err());
    let v = huadan_aliyun_ccc::AliyunCcc::from_source(&ok).unwrap();
    assert!(!format!("{v:?}").contains("sk-very-secret"), "{v:?}");
    let quota = source("http://127.0.0.1:1", "ak", "sk", "ccc-test", "requests_per_second = 3");
    let v = huadan_aliyun_ccc::build(&quota).unwrap();
    assert_eq!(v.limits().quota.per_second, Some(3.0));
}
