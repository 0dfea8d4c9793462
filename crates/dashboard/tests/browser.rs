//! End to end in real headless Chromium (Debian `chromium` + `chromium-driver`), driven
//! through chromedriver's W3C WebDriver API: log in with a token, the overview's figures
//! equal `/v1/stats`, filter the call list, open a call, read its transcript.
//!
//! `HUADAN_SCREENSHOTS=1` also writes the 1440×900 screenshots to docs/screenshots/.

mod common;
mod webdriver;

use common::*;
use huadan_model::{CallRecord, Disposition};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use webdriver::{Browser, CHROMEDRIVER, CHROMIUM};

const CONFIG: &str = r#"
timezone = "Asia/Shanghai"

[server]
api_tokens = ["admin-token-0123456789", { token = "viewer-token-9876543210", role = "viewer" }]

[[sources]]
name = "wecom-hq"
kind = "wecom"
endpoint = "http://127.0.0.1:9"
corp_id = "ww0"
corp_secret = "s"

[[sources]]
name = "ccc-sh"
kind = "tencent_ccc"
endpoint = "http://127.0.0.1:9"
secret_id = "i"
secret_key = "k"
region = "ap-shanghai"
sdk_app_id = 1400000000

[[sources]]
name = "ali-bj"
kind = "aliyun_ccc"
endpoint = "http://127.0.0.1:9"
access_key_id = "i"
access_key_secret = "s"
instance_id = "ccc-test"

[[sources]]
name = "ads-leads"
kind = "tencent_ads"
endpoint = "http://127.0.0.1:9"
access_token = "t"
account_id = 2045867

[[sources]]
name = "tanma-sales"
kind = "tanma"
endpoint = "http://127.0.0.1:9"
app_id = "a"
app_key = "k"
app_secret = "s"
"#;

fn screenshot_dir() -> Option<PathBuf> {
    (std::env::var("HUADAN_SCREENSHOTS").as_deref() == Ok("1"))
        .then(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/screenshots"))
}

async fn shot(b: &Browser, name: &str) {
    let png = b.screenshot().await;
    // PNG IHDR: width and height as big-endian u32 at bytes 16..24.
    assert_eq!(&png[1..4], b"PNG");
    let w = u32::from_be_bytes(png[16..20].try_into().unwrap());
    let h = u32::from_be_bytes(png[20..24].try_into().unwrap());
    assert_eq!((w, h), (1440, 900), "{name} screenshot size");
    if let Some(dir) = screenshot_dir() {
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
    }
}

/// The server's whole router (API + dashboard), as `huadan serve` mounts it.
async fn app(store: huadan_store::DynStore) -> axum::Router {
    let config = huadan_config::Config::from_toml_str(CONFIG, &|_| None).unwrap();
    let state = huadan_server::AppState::new(&config, store).unwrap();
    huadan_server::router(state)
}

async fn api(base: &str, path: &str) -> Value {
    let r = client().get(format!("{base}{path}")).bearer_auth(ADMIN).send().await.unwrap();
    assert!(r.status().is_success(), "{path}: {}", r.status());
    r.json().await.unwrap()
}

fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn figure_js(id: &str) -> String {
    format!("var e = document.querySelector('[data-figure=\"{id}\"] .value'); return e ? e.textContent : null;")
}

#[tokio::test]
async fn browser_login_overview_filter_open_call_transcript() {
    if !Path::new(CHROMIUM).exists() || !Path::new(CHROMEDRIVER).exists() {
        if std::env::var_os("HUADAN_TEST_PYTHON").is_none() {
            eprintln!("skipped: chromium / chromium-driver not installed (scripts/test installs them)");
            return;
        }
        panic!("{CHROMIUM} and {CHROMEDRIVER} are required under scripts/test");
    }
    let (_d, store, _all) = seeded_store(30, 70).await;
    let base = serve(app(store).await).await;
    let b = Browser::start().await;

    // Login: the page asks for a token; a wrong one is refused; the right one enters.
    b.goto(&format!("{base}/")).await;
    b.wait_for("login form", "return !document.getElementById('login').hidden;").await;
    shot(&b, "login").await;
    b.type_into("#token", "not-a-token").await;
    b.click("#login-form button[type=submit]").await;
    b.wait_for("login error", "return !document.getElementById('login-error').hidden;").await;
    b.type_into("#token", ADMIN).await;
    b.click("#login-form button[type=submit]").await;
    b.wait_page("overview").await;
    let stored = b.js("return sessionStorage.getItem('huadan.token');", json!([])).await;
    assert_eq!(stored, json!(ADMIN), "the token lives in sessionStorage");
    let local = b.js("return localStorage.getItem('huadan.token');", json!([])).await;
    assert!(local.is_null(), "never in localStorage");

    // The overview's figures equal /v1/stats over the same default period (30 days).
    let from = b.js("return document.querySelector('form.filters input[name=from]').value;", json!([])).await;
    let to = b.js("return document.querySelector('form.filters input[name=to]').value;", json!([])).await;
    let (from, to) = (from.as_str().unwrap().to_string(), to.as_str().unwrap().to_string());
    let until = to.parse::<jiff::civil::Date>().unwrap().tomorrow().unwrap();
    let stats = api(&base, &format!("/v1/stats?by=provider&since={from}&until={until}")).await;
    let rows = stats["rows"].as_array().or_else(|| stats.as_array()).expect("stats rows").clone();
    let calls: u64 = rows.iter().map(|r| r["calls"].as_u64().unwrap()).sum();
    let answered: u64 = rows.iter().map(|r| r["answered"].as_u64().unwrap()).sum();
    assert!(calls > 1000, "{calls}");
    assert_eq!(b.js(&figure_js("calls"), json!([])).await, json!(thousands(calls)));
    assert_eq!(
        b.js(&figure_js("answered-rate"), json!([])).await,
        json!(format!("{:.1}%", answered as f64 * 100.0 / calls as f64))
    );
    let missed_q: String =
        Disposition::ALL.iter().filter(|d| !d.is_answered()).map(|d| format!("&disposition={}", d.as_str())).collect();
    let missed =
        api(&base, &format!("/v1/stats?by=provider&since={from}&until={until}&direction=inbound{missed_q}")).await;
    let missed: u64 = missed["rows"]
        .as_array()
        .or_else(|| missed.as_array())
        .unwrap()
        .iter()
        .map(|r| r["calls"].as_u64().unwrap())
        .sum();
    assert_eq!(b.js(&figure_js("missed-inbound"), json!([])).await, json!(thousands(missed)));
    shot(&b, "overview").await;

    // Agents: a sortable table; clicking "calls" sorts ascending.
    b.click("[data-nav=agents]").await;
    b.wait_page("agents").await;
    let first = b.js("return document.querySelector('#agents-table tbody tr').dataset.agent;", json!([])).await;
    shot(&b, "agents").await;
    b.click("#agents-table th[data-col='2']").await;
    let after = b.js("return document.querySelector('#agents-table tbody tr').dataset.agent;", json!([])).await;
    assert_ne!(first, after, "sorting by calls ascending changes the first row");

    // Calls: filter by provider and transcript text; the rows equal /v1/calls.
    b.click("[data-nav=calls]").await;
    b.wait_page("calls").await;
    b.js("document.querySelector('form.filters select[name=provider]').value = 'tanma';", json!([])).await;
    b.type_into("form.filters input[name=text]", "退款运费").await;
    b.click("form.filters button[type=submit]").await;
    b.wait_for("filtered list", "return location.hash.indexOf('provider=tanma') > 0 && document.getElementById('main').dataset.state === 'ready';").await;
    let page = api(&base, &format!("/v1/calls?provider=tanma&text={}&limit=50", enc("退款运费"))).await;
    let items: Vec<CallRecord> = serde_json::from_value(page["items"].clone()).unwrap();
    assert!(!items.is_empty());
    let shown = b.js("return Array.from(document.querySelectorAll('#calls-table tr.row-link')).map(function (r) { return r.dataset.id; });", json!([])).await;
    let want: Vec<String> = items.iter().map(|r| r.id.clone()).collect();
    assert_eq!(shown, json!(want));
    shot(&b, "calls").await;

    // Open the first call: its transcript is on the page.
    b.click("#calls-table tr.row-link td a").await;
    b.wait_page("call").await;
    let transcript = b.text("#transcript").await;
    let rec = &items[0];
    for s in &rec.transcript.as_ref().unwrap().sentences {
        assert!(transcript.contains(&s.text), "{} missing from {transcript}", s.text);
    }
    shot(&b, "call").await;

    // Sources: each source's state, the failed one explained.
    b.click("[data-nav=sources]").await;
    b.wait_page("sources").await;
    assert!(b.text(".source[data-source='ali-bj'] .error-box").await.contains("凭证"));
    shot(&b, "sources").await;

    // The English switch.
    b.click(".nav-foot a[data-lang=en]").await;
    b.wait_page("sources").await;
    assert_eq!(b.text("[data-nav=calls]").await, "Calls");
    b.goto(&format!("{base}/?lang=en#/overview")).await;
    b.wait_page("overview").await;
    shot(&b, "overview-en").await;
    b.close().await;
}
