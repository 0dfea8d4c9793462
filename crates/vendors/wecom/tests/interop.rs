//! The official SDK (`wechatpy`, tests/python/wecom_interop.py) against the fake: the
//! right credentials get exactly the records our client gets; a wrong secret gets
//! WeCom's auth error. Needs HUADAN_TEST_PYTHON (scripts/test sets it).

mod common;

use common::*;
use huadan_fakekit::{FaultKind, Faults};
use jiff::SignedDuration;
use std::collections::BTreeSet;
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

async fn run(python: &str, args: &[String]) -> serde_json::Value {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../tests/python/wecom_interop.py");
    let out = tokio::time::timeout(
        Duration::from_secs(120),
        tokio::process::Command::new(python).arg(script).args(args).kill_on_drop(true).output(),
    )
    .await
    .expect("wechatpy run timed out")
    .expect("cannot run python");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "python failed: {}\n{}", stdout, String::from_utf8_lossy(&out.stderr));
    serde_json::from_str(stdout.lines().last().unwrap_or("")).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

#[tokio::test]
async fn wecom_wechatpy_gets_the_records_and_the_auth_error() {
    let Some(py) = python() else { return };
    let s = serve(Opts {
        faults: Faults::none().with(FaultKind::TokenExpiry, 0.1),
        options: vec![("wecom.token_fresh_uses", "1".into())],
        ..Opts::default()
    })
    .await;
    let range = last(s.now(), SignedDuration::from_hours(72));
    let (lo, hi) = huadan_wecom::client::closed_range(&range).unwrap();
    let args =
        |secret: &str| vec![s.url.clone(), s.corp_id.clone(), secret.to_string(), lo.to_string(), hi.to_string()];

    let v = run(&py, &args(&s.corp_secret)).await;
    assert_eq!(v["ok"], true, "{v}");
    let raws = v["records"].as_array().unwrap();
    assert_eq!(raws.len() as u64, s.expected(range));
    assert!(v["pages"].as_u64().unwrap() > 3);
    // wechatpy refreshed on the fake's 42001 by itself, once per injected expiry.
    let injected = s.count("token_expired_injected");
    assert!(injected > 0);
    assert_eq!(v["token_fetches"].as_u64().unwrap(), 1 + injected);

    // The same records, by id, as our own client gets.
    let theirs: BTreeSet<String> =
        raws.iter().map(|r| huadan_wecom::normalize::normalize("wecom-hq", None, r).unwrap().id).collect();
    let ours = sync(&s.client(), range, s.now(), 0).await.unwrap();
    let ours: BTreeSet<String> = ours.records.into_iter().map(|r| r.id).collect();
    assert_eq!(theirs.len(), raws.len());
    assert_eq!(theirs, ours);

    let v = run(&py, &args("wrong-secret")).await;
    assert_eq!(v["ok"], false);
    assert_eq!(v["errcode"], 40001, "{v}");
    assert!(v["errmsg"].as_str().unwrap().contains("invalid credential"));
}
