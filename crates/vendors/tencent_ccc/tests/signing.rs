//! TC3-HMAC-SHA256 known answers produced by the official SDK
//! (`tencentcloud-sdk-python-common`; regenerate with `gen_tc3_vectors.py`).

use huadan_tencent_ccc::auth;

#[derive(serde::Deserialize)]
struct Vector {
    label: String,
    secret_id: String,
    secret_key: String,
    host: String,
    content_type: String,
    timestamp: i64,
    body: String,
    authorization: String,
}

fn vectors() -> Vec<Vector> {
    serde_json::from_str(include_str!("fixtures/tc3_vectors.json")).unwrap()
}

#[test]
fn tc3_signature_matches_the_official_sdk() {
    let vs = vectors();
    assert!(vs.len() >= 3);
    for v in vs {
        let got = auth::authorization(
            &v.secret_id,
            &v.secret_key,
            "ccc",
            v.timestamp,
            &[("content-type", &v.content_type), ("host", &v.host)],
            v.body.as_bytes(),
        );
        assert_eq!(got, v.authorization, "vector {}", v.label);
    }
}

#[test]
fn tencent_ccc_credential_date_is_utc_not_beijing() {
    let v = vectors().into_iter().find(|v| v.label == "beijing_early_morning_utc_date_differs").unwrap();
    // 01:30 Beijing on 2024-06-16 is still 2024-06-15 in UTC.
    assert_eq!(
        huadan_model::time::gmt8_date(jiff::Timestamp::from_second(v.timestamp).unwrap()).to_string(),
        "2024-06-16"
    );
    assert!(v.authorization.contains("/2024-06-15/ccc/tc3_request"));
    let headers = [("content-type", v.content_type.as_str()), ("host", v.host.as_str())];
    let beijing = auth::authorization_with_date(
        &v.secret_id,
        &v.secret_key,
        "2024-06-16",
        "ccc",
        v.timestamp,
        &headers,
        v.body.as_bytes(),
    );
    assert_ne!(beijing, v.authorization, "a Beijing-date signature must differ from the SDK's");
    let utc = auth::authorization(&v.secret_id, &v.secret_key, "ccc", v.timestamp, &headers, v.body.as_bytes());
    assert_eq!(utc, v.authorization);
}

#[test]
fn tc3_signature_changes_with_every_input() {
    let v = &vectors()[0];
    let h = [("content-type", v.content_type.as_str()), ("host", v.host.as_str())];
    let base = auth::authorization(&v.secret_id, &v.secret_key, "ccc", v.timestamp, &h, v.body.as_bytes());
    assert_ne!(base, auth::authorization(&v.secret_id, "other", "ccc", v.timestamp, &h, v.body.as_bytes()));
    assert_ne!(base, auth::authorization(&v.secret_id, &v.secret_key, "ccc", v.timestamp + 1, &h, v.body.as_bytes()));
    assert_ne!(base, auth::authorization(&v.secret_id, &v.secret_key, "ccc", v.timestamp, &h, b"{}"));
    assert_ne!(base, auth::authorization(&v.secret_id, &v.secret_key, "cvm", v.timestamp, &h, v.body.as_bytes()));
}
