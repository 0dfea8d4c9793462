//! `build`: the vendor keys of CONTRACT.md §1, unknown keys refused, secrets never shown.

use huadan_config::Config;
use huadan_vendor::Vendor;

fn source(extra: &str) -> Result<huadan_vendor::DynVendor, huadan_config::ConfigError> {
    let toml =
        format!("[[sources]]\nname = \"wecom-hq\"\nkind = \"wecom\"\nendpoint = \"http://127.0.0.1:9\"\n{extra}");
    let cfg = Config::from_toml_str(&toml, &|_| None).unwrap();
    huadan_wecom::build(&cfg.sources[0])
}

#[test]
fn wecom_build_accepts_the_contract_keys_and_applies_overrides() {
    let v = source("corp_id = \"ww0123456789\"\ncorp_secret = \"s3cr3t-value\"\nrequests_per_minute = 60\nlookback_seconds = 600\n")
        .unwrap();
    assert_eq!(v.source(), "wecom-hq");
    assert_eq!(v.provider(), huadan_model::Provider::Wecom);
    assert_eq!(v.limits().quota.per_minute, Some(60));
    assert_eq!(v.limits().default_lookback, jiff::SignedDuration::from_secs(600));
    assert_eq!(v.limits().max_span, jiff::SignedDuration::from_secs(30 * 86_400));
    let c = huadan_wecom::build_client(
        &Config::from_toml_str(
            "[[sources]]\nname = \"w\"\nkind = \"wecom\"\nendpoint = \"http://127.0.0.1:9\"\ncorp_id = \"ww1\"\ncorp_secret = \"s3cr3t-value\"\n",
            &|_| None,
        )
        .unwrap()
        .sources[0],
    )
    .unwrap();
    assert!(!format!("{c:?}").contains("s3cr3t"));
    assert_eq!(c.limits().quota.per_minute, Some(2_500), "documented pace: 150,000 an hour spread evenly");
}

#[test]
fn wecom_build_refuses_unknown_and_missing_keys() {
    let e = source("corp_id = \"ww1\"\ncorp_secret = \"x\"\nagent_id = 1000002\n").err().unwrap().to_string();
    assert!(e.contains("agent_id") && e.contains("wecom-hq"), "{e}");
    let e = source("corp_id = \"ww1\"\n").err().unwrap().to_string();
    assert!(e.contains("corp_secret"), "{e}");
    let e = source("corp_id = \"\"\ncorp_secret = \"x\"\n").err().unwrap().to_string();
    assert!(e.contains("corp_id"), "{e}");
    let e = source("corp_id = \"ww1\"\ncorp_secret = \"s3cr3t-value\"\ncorp_secrt = \"s3cr3t-value\"\n")
        .err()
        .unwrap()
        .to_string();
    assert!(!e.contains("s3cr3t-value"), "{e}");
}
