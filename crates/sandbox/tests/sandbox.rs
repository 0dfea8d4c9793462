//! The sandbox as a whole: five fakes on five ports, counters, config, shutdown.

use huadan_model::Provider;
use huadan_sandbox::{PORT_ORDER, STATS_PATH, Sandbox, SandboxOptions};
use std::time::Duration;

#[tokio::test]
async fn five_fakes_on_five_ports_with_stats_and_clean_shutdown() {
    let sandbox = Sandbox::start(SandboxOptions::default()).await.unwrap();
    let info = sandbox.info();
    let mut endpoints = Vec::new();
    for p in PORT_ORDER {
        let e = info[p.as_str()]["endpoint"].as_str().unwrap().to_string();
        assert!(e.starts_with("http://127.0.0.1:"), "{e}");
        endpoints.push(e);
    }
    let mut uniq = endpoints.clone();
    uniq.sort();
    uniq.dedup();
    assert_eq!(uniq.len(), 5, "{endpoints:?}");
    assert!(!sandbox.info_line().contains('\n'));

    let client = reqwest::Client::new();
    for (p, e) in PORT_ORDER.iter().zip(&endpoints) {
        let v: serde_json::Value = client.get(format!("{e}{STATS_PATH}")).send().await.unwrap().json().await.unwrap();
        assert_eq!(v["vendor"], p.as_str());
        assert!(v["faults_injected"]["http500"].is_number());
    }

    let cfg_text = sandbox.config_toml("sqlite://x.db");
    let cfg = huadan_config::Config::from_toml_str(&cfg_text, &|_| None).unwrap();
    assert_eq!(cfg.sources.len(), 5);
    assert_eq!(cfg.source("tencent-ccc").unwrap().kind, Provider::TencentCcc);
    assert_eq!(cfg.source("tencent-ccc").unwrap().endpoint.as_str().trim_end_matches('/'), endpoints[1]);

    let stopped = tokio::time::timeout(Duration::from_secs(10), sandbox.shutdown()).await;
    assert!(stopped.is_ok(), "shutdown must finish");
    let after = client.get(format!("{}{STATS_PATH}", endpoints[0])).timeout(Duration::from_secs(2)).send().await;
    assert!(after.is_err(), "the port must be closed after shutdown");
}

#[tokio::test]
async fn fixed_base_port_gives_consecutive_ports_in_contract_order() {
    // Find five free consecutive ports by trying a few bases.
    for base in [47_310u16, 48_410, 49_510, 50_610] {
        let opts = SandboxOptions { base_port: base, ..SandboxOptions::default() };
        let Ok(sandbox) = Sandbox::start(opts).await else { continue };
        for (i, p) in PORT_ORDER.iter().enumerate() {
            assert_eq!(sandbox.endpoint(*p), format!("http://127.0.0.1:{}", base + i as u16));
        }
        sandbox.shutdown().await;
        return;
    }
    panic!("no free port range found");
}

#[test]
fn bad_option_is_rejected_with_the_form() {
    let err = huadan_sandbox::parse_options(&["aliyun_ccc.string_numbers".into()]).unwrap_err();
    assert!(err.to_string().contains("vendor.key=value"));
    assert!(huadan_sandbox::parse_options(&["nosuch.x=1".into()]).is_err());
    let ok = huadan_sandbox::parse_options(&["aliyun_ccc.string_numbers=true".into()]).unwrap();
    assert_eq!(ok["aliyun_ccc.string_numbers"], "true");
}
