//! The sandbox's audio route behind every fake's recording links: small valid MP3s,
//! expiry on the dataset's clock, and the generic faults.

use huadan_fakekit::{Faults, SANDBOX_RECORDINGS_PATH};
use huadan_model::Provider;
use huadan_sandbox::{Sandbox, SandboxOptions};

#[tokio::test]
async fn sandbox_recordings_route_serves_mp3_refuses_expired_links_and_rolls_faults() {
    let sandbox = Sandbox::start(SandboxOptions::default()).await.unwrap();
    let base = sandbox.endpoint(Provider::TencentAds);
    let http = reqwest::Client::new();
    let url = format!("{base}{SANDBOX_RECORDINGS_PATH}/host_a_b-1.mp3");
    let r = http.get(&url).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "audio/mpeg");
    let body = r.bytes().await.unwrap();
    assert_eq!(&body[..2], &[0xFF, 0xFB], "an MPEG frame sync");
    assert_eq!(body.len() % 417, 0, "whole frames");
    assert!(body.len() >= 8 * 417);
    // Same key, same bytes.
    assert_eq!(http.get(&url).send().await.unwrap().bytes().await.unwrap(), body);

    let now = jiff::Timestamp::now().as_second();
    let live = http.get(format!("{url}?expires={}", now + 3600)).send().await.unwrap();
    assert_eq!(live.status(), 200);
    let dead = http.get(format!("{url}?expires={}", now - 1)).send().await.unwrap();
    assert_eq!(dead.status(), 403);
    assert!(dead.text().await.unwrap().contains("RecordingExpired"));
    assert_eq!(http.get(format!("{base}{SANDBOX_RECORDINGS_PATH}/x.exe")).send().await.unwrap().status(), 404);
    sandbox.shutdown().await;

    let faulty =
        Sandbox::start(SandboxOptions { faults: Faults::parse("http500=1").unwrap(), ..SandboxOptions::default() })
            .await
            .unwrap();
    let url = format!("{}{SANDBOX_RECORDINGS_PATH}/host_a_b-1.mp3", faulty.endpoint(Provider::TencentCcc));
    assert_eq!(http.get(&url).send().await.unwrap().status(), 500);
    faulty.shutdown().await;
}
