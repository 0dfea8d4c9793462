//! `build` from a huadan.toml source (CONTRACT.md §1 keys), limits with overrides, and
//! `probe` (huadan doctor) against the fake.

mod common;

use common::*;
use huadan_config::{Config, ConfigError};
use huadan_tanma::client::codes;
use huadan_tanma::sandbox::Credentials;
use huadan_vendor::{Quota, Window};
use jiff::SignedDuration;

fn source_toml(endpoint: &str, creds: &Credentials, extra: &str) -> String {
    format!(
        "[[sources]]\nname = \"tm\"\nkind = \"tanma\"\nendpoint = \"{endpoint}\"\napp_id = \"{}\"\napp_key = \"${{TANMA_APP_KEY}}\"\napp_secret = \"${{TANMA_APP_SECRET}}\"\n{extra}",
        creds.app_id
    )
}

fn load(text: &str, creds: &Credentials) -> Config {
    let (key, secret) = (creds.app_key.clone(), creds.app_secret.clone());
    Config::from_toml_str(text, &move |name| match name {
        "TANMA_APP_KEY" => Some(key.clone()),
        "TANMA_APP_SECRET" => Some(secret.clone()),
        _ => None,
    })
    .unwrap()
}

#[tokio::test]
async fn built_from_config_fetches_and_probes_the_fake() {
    let ctx = context(53, 1, 300);
    let (endpoint, creds) = start(&ctx).await;
    let cfg = load(&source_toml(&format!("{endpoint}/"), &creds, ""), &creds);
    let v = huadan_tanma::build(&cfg.sources[0]).unwrap();
    assert_eq!(v.source(), "tm");
    assert_eq!(v.provider(), huadan_model::Provider::Tanma);
    let limits = v.limits();
    assert_eq!(limits.quota, Quota { per_second: Some(10.0), per_minute: None });
    assert_eq!(limits.settle_within, Some(SignedDuration::from_hours(24)));
    assert_eq!(limits.min_span, SignedDuration::from_secs(1));
    let now = ctx.dataset.now();
    let w = Window::new(now - SignedDuration::from_hours(3), now);
    let run = sync(v.as_ref(), w, now).await.unwrap();
    assert_eq!(run.ids(), expected_ids(&ctx, w.start, w.end));
    // normalize through the trait is the same as in fetch.
    let again = v.normalize(&run.records[0].raw.to_value()).unwrap();
    assert_eq!(again, run.records[0]);

    // probe: one cheap signed request (against the real clock: the fixed dataset clock
    // is in 2025, so the last hour is empty, which is still a successful probe).
    let before = ctx.counters.get("requests");
    let report = v.probe().await.unwrap();
    assert!(report.detail.contains("signature accepted"), "{}", report.detail);
    assert_eq!(ctx.counters.get("requests"), before + 1);

    let mut wrong = creds.clone();
    wrong.app_secret = "wrong".into();
    let cfg = load(&source_toml(&endpoint, &wrong, ""), &wrong);
    let err = huadan_tanma::build(&cfg.sources[0]).unwrap().probe().await.unwrap_err();
    assert_eq!(err.code(), codes::BAD_SIGN.to_string());
}

#[test]
fn overrides_apply_to_documented_limits() {
    let creds = Credentials::for_seed(1);
    let cfg =
        load(&source_toml("http://127.0.0.1:9", &creds, "requests_per_second = 2\nlookback_seconds = 600\n"), &creds);
    let v = huadan_tanma::build(&cfg.sources[0]).unwrap();
    assert_eq!(v.limits().quota.per_second, Some(2.0));
    assert_eq!(v.limits().default_lookback, SignedDuration::from_secs(600));
}

#[test]
fn unknown_and_missing_keys_name_the_key_and_source() {
    let creds = Credentials::for_seed(1);
    let cfg = load(&source_toml("http://127.0.0.1:9", &creds, "app_token = \"x\"\n"), &creds);
    let err = huadan_tanma::build(&cfg.sources[0]).map(|_| ()).unwrap_err();
    assert!(
        matches!(&err, ConfigError::Source { source_name, message } if source_name == "tm" && message.contains("app_token")),
        "{err}"
    );

    let text = "[[sources]]\nname = \"tm\"\nkind = \"tanma\"\nendpoint = \"http://127.0.0.1:9\"\napp_id = \"a\"\napp_key = \"k\"\n";
    let cfg = Config::from_toml_str(text, &|_| None).unwrap();
    let err = huadan_tanma::build(&cfg.sources[0]).map(|_| ()).unwrap_err();
    assert!(err.to_string().contains("app_secret"), "{err}");

    let text = "[[sources]]\nname = \"tm\"\nkind = \"tanma\"\nendpoint = \"http://127.0.0.1:9\"\napp_id = \" \"\napp_key = \"k\"\napp_secret = \"s\"\n";
    let cfg = Config::from_toml_str(text, &|_| None).unwrap();
    assert!(huadan_tanma::build(&cfg.sources[0]).map(|_| ()).unwrap_err().to_string().contains("app_id"));
}

#[test]
fn fake_credentials_are_the_contract_keys() {
    let ctx = context(1, 1, 10);
    let fake = huadan_tanma::fake(ctx);
    let mut keys: Vec<&str> = fake.credentials.keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(keys, ["app_id", "app_key", "app_secret"]);
}
