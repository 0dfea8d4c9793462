//! A minimal W3C WebDriver client over chromedriver's HTTP API (plain JSON calls), and
//! the headless Chromium it drives: fresh profile, no network side traffic, no
//! downloads of any browser.
#![allow(dead_code)]

use serde_json::{Value, json};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// chromedriver (killed on drop) and one browser session.
pub struct Browser {
    driver: Child,
    http: reqwest::Client,
    base: String,
    session: String,
    _profile: tempfile::TempDir,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl Browser {
    /// Start chromedriver on a free loopback port and open a 1440×900 headless session.
    pub async fn start() -> Browser {
        let port = free_port();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let http = reqwest::Client::builder().timeout(Duration::from_secs(60)).no_proxy().build().unwrap();
        let base = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(r) = http.get(format!("{base}/status")).send().await
                && r.status().is_success()
            {
                break;
            }
            assert!(Instant::now() < deadline, "chromedriver did not come up");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let profile = tempfile::tempdir().unwrap();
        let args = vec![
            "--headless".to_string(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--disable-quic".into(),
            "--no-first-run".into(),
            "--disable-background-networking".into(),
            "--disable-component-update".into(),
            "--disable-sync".into(),
            "--disable-dev-shm-usage".into(),
            "--hide-scrollbars".into(),
            "--lang=zh-CN".into(),
            "--window-size=1440,900".into(),
            format!("--user-data-dir={}", profile.path().display()),
        ];
        let caps = json!({ "capabilities": { "alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": { "binary": CHROMIUM, "args": args }
        }}});
        let mut b = Browser { driver, http, base, session: String::new(), _profile: profile };
        let v = b.call("POST", "/session", caps).await;
        b.session = v["sessionId"].as_str().expect("a session id").to_string();
        b.fit_viewport(1440, 900).await;
        b
    }

    async fn call(&self, method: &str, path: &str, body: Value) -> Value {
        let url = format!("{}{}", self.base, path);
        let req = match method {
            "GET" => self.http.get(url),
            "DELETE" => self.http.delete(url),
            _ => self.http.post(url).json(&body),
        };
        let resp = req.send().await.expect("webdriver request");
        let status = resp.status();
        let v: Value = resp.json().await.expect("webdriver json");
        assert!(status.is_success(), "webdriver {method} {path}: {status} {v}");
        v["value"].clone()
    }

    /// Resize the window so that the viewport (what screenshots show) is `w`×`h`.
    async fn fit_viewport(&self, w: i64, h: i64) {
        for _ in 0..3 {
            let inner = self.js("return [window.innerWidth, window.innerHeight];", json!([])).await;
            let (iw, ih) = (inner[0].as_i64().unwrap_or(w), inner[1].as_i64().unwrap_or(h));
            if (iw, ih) == (w, h) {
                return;
            }
            let rect = self.call("GET", &self.s("/window/rect"), json!(null)).await;
            let (ow, oh) = (rect["width"].as_i64().unwrap_or(w), rect["height"].as_i64().unwrap_or(h));
            self.call("POST", &self.s("/window/rect"), json!({ "width": ow + (w - iw), "height": oh + (h - ih) }))
                .await;
        }
    }

    fn s(&self, rest: &str) -> String {
        format!("/session/{}{}", self.session, rest)
    }

    pub async fn goto(&self, url: &str) {
        self.call("POST", &self.s("/url"), json!({ "url": url })).await;
    }

    /// Run `script` (a function body; `arguments` available) and return its value.
    pub async fn js(&self, script: &str, args: Value) -> Value {
        self.call("POST", &self.s("/execute/sync"), json!({ "script": script, "args": args })).await
    }

    /// Wait until `script` returns something truthy (20 s at most).
    pub async fn wait_for(&self, what: &str, script: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let v = self.js(script, json!([])).await;
            if !(v.is_null() || v == json!(false) || v == json!("")) {
                return v;
            }
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Wait until the page `page` (`overview`, `calls`, `call`, …) has loaded.
    pub async fn wait_page(&self, page: &str) {
        let script = format!(
            "var m = document.getElementById('main'); return m && m.dataset.state === 'ready' && m.dataset.page === '{page}' && !m.hasAttribute('aria-busy');"
        );
        self.wait_for(&format!("page {page}"), &script).await;
    }

    pub async fn find(&self, css: &str) -> String {
        let v = self.call("POST", &self.s("/element"), json!({ "using": "css selector", "value": css })).await;
        v[ELEMENT].as_str().unwrap_or_else(|| panic!("no element {css}: {v}")).to_string()
    }

    pub async fn click(&self, css: &str) {
        let e = self.find(css).await;
        self.call("POST", &self.s(&format!("/element/{e}/click")), json!({})).await;
    }

    pub async fn type_into(&self, css: &str, text: &str) {
        let e = self.find(css).await;
        self.call("POST", &self.s(&format!("/element/{e}/clear")), json!({})).await;
        self.call("POST", &self.s(&format!("/element/{e}/value")), json!({ "text": text })).await;
    }

    pub async fn text(&self, css: &str) -> String {
        let e = self.find(css).await;
        self.call("GET", &self.s(&format!("/element/{e}/text")), json!(null))
            .await
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// A PNG of the viewport.
    pub async fn screenshot(&self) -> Vec<u8> {
        use base64::Engine as _;
        let v = self.call("GET", &self.s("/screenshot"), json!(null)).await;
        base64::engine::general_purpose::STANDARD.decode(v.as_str().unwrap()).unwrap()
    }

    pub async fn close(&self) {
        self.call("DELETE", &self.s(""), json!(null)).await;
    }
}
