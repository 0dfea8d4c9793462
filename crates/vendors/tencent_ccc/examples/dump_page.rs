//! Print a few records the fake serves, as the wire sends them (to eyeball realism).
//!
//! `cargo run -p huadan-tencent-ccc --example dump_page [N]`

use huadan_fakekit::{Clock, Dataset, DatasetSpec, FakeContext};

#[tokio::main]
async fn main() {
    let n: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(3);
    let now: jiff::Timestamp = "2024-06-15T09:00:00Z".parse().unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    let spec = DatasetSpec { seed: 42, days: 1, calls_per_day: 2000, late: 0.0, update: 0.0 };
    let ctx = FakeContext::new(Dataset::new(spec, Clock::fixed(now)));
    let fake = huadan_tencent_ccc::fake(ctx);
    let Ok(listener) = tokio::net::TcpListener::bind("127.0.0.1:0").await else { return eprintln!("bind failed") };
    let Ok(addr) = listener.local_addr() else { return };
    tokio::spawn(async move {
        let _ = axum::serve(listener, fake.router).await;
    });
    let c = &fake.credentials;
    let (id, key) = (c["secret_id"].as_str().unwrap_or_default(), c["secret_key"].as_str().unwrap_or_default());
    let ts = now.as_second();
    let body = format!(
        r#"{{"SdkAppId":{},"StartTimeStamp":{},"EndTimeStamp":{ts},"PageSize":{n},"PageNumber":0}}"#,
        c["sdk_app_id"],
        ts - 7200
    );
    let host = addr.to_string();
    let authz = huadan_tencent_ccc::auth::authorization(
        id,
        key,
        "ccc",
        ts,
        &[("content-type", "application/json"), ("host", &host)],
        body.as_bytes(),
    );
    let resp = reqwest::Client::new()
        .post(format!("http://{addr}/"))
        .header("Content-Type", "application/json")
        .header("X-TC-Action", "DescribeTelCdr")
        .header("X-TC-Version", "2020-02-10")
        .header("X-TC-Timestamp", ts.to_string())
        .header("Authorization", authz)
        .body(body)
        .send()
        .await;
    match resp {
        Ok(r) => {
            let text = r.text().await.unwrap_or_default();
            match serde_json::from_str::<serde_json::Value>(&text) {
                Ok(v) => println!("{}", serde_json::to_string_pretty(&v).unwrap_or(text)),
                Err(_) => println!("{text}"),
            }
        }
        Err(e) => eprintln!("request failed: {e}"),
    }
}
