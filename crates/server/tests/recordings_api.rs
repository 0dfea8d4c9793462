//! `GET /v1/calls/{id}/recordings/{n}`: archived audio with HTTP Range, viewer policy,
//! and clear 404s for what is not archived.

mod common;

use axum::body::Body;
use axum::http::Request;
use common::*;
use huadan_config::Config;
use huadan_recordings::{Archive, NewJob, Queue, RecordingsConfig};
use std::sync::Arc;
use tower::ServiceExt;

async fn ranged(app: &axum::Router, uri: &str, token: &str, range: &str) -> Answer {
    let req = Request::builder()
        .uri(uri)
        .header("authorization", format!("Bearer {token}"))
        .header("range", range)
        .body(Body::empty())
        .unwrap();
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = axum::body::to_bytes(resp.into_body(), usize::MAX).await.unwrap().to_vec();
    Answer { status, headers, body }
}

async fn app_with_recordings(
    viewers_may_listen: bool,
) -> (tempfile::TempDir, tempfile::TempDir, axum::Router, Vec<u8>) {
    let (store_dir, store) = seeded_store().await;
    let dir = tempfile::tempdir().unwrap();
    let archive_dir = dir.path().join("archive");
    let queue_path = dir.path().join("q.db");
    let text = format!(
        "{CONFIG}\n[recordings]\narchive = true\nstore = \"file://{}\"\nqueue = \"{}\"\nviewers_may_listen = {viewers_may_listen}\n",
        archive_dir.display(),
        queue_path.display()
    );
    let config = Config::from_toml_str(&text, &|_| None).unwrap();
    // One archived recording (the second of call hq:c0000), one still pending.
    let cfg = RecordingsConfig::from_table(config.recordings.as_ref().unwrap()).unwrap();
    let audio = huadan_recordings::audio::sine_wav(5000, 7);
    let key = "hq/2024/03/01/hq_c0000-1.wav";
    Archive::open(&cfg).unwrap().put_small(key, audio.clone()).await.unwrap();
    let q = Queue::open(&queue_path).unwrap();
    let now = jiff::Timestamp::now();
    let job = |n: u32| NewJob {
        record_id: "hq:c0000".into(),
        index: n,
        source: "hq".into(),
        started_at: at(0),
        url: format!("http://127.0.0.1:9/{n}.wav"),
        expires_at: None,
    };
    q.enqueue(&[job(0), job(1)], now).unwrap();
    q.mark_archived("hq:c0000", 1, key, audio.len() as u64, "x", now).unwrap();
    let state = huadan_server::AppState::with_runner(&config, store, Arc::new(Gate(GateRunner::gated()))).unwrap();
    (store_dir, dir, huadan_server::router(state), audio)
}

#[tokio::test]
async fn recording_streams_whole_and_ranged() {
    let (_s, _d, app, audio) = app_with_recordings(false).await;
    let uri = "/v1/calls/hq:c0000/recordings/1";
    let a = call(&app, "GET", uri, Some(ADMIN)).await;
    assert_eq!(a.status, 200);
    assert_eq!(a.headers["content-type"], "audio/wav");
    assert_eq!(a.headers["accept-ranges"], "bytes");
    assert_eq!(a.body, audio);

    let r = ranged(&app, uri, ADMIN, "bytes=100-1099").await;
    assert_eq!(r.status, 206);
    assert_eq!(r.headers["content-range"], format!("bytes 100-1099/{}", audio.len()).as_str());
    assert_eq!(r.body, audio[100..1100]);
    let tail = ranged(&app, uri, ADMIN, "bytes=-10").await;
    assert_eq!((tail.status.as_u16(), tail.body.as_slice()), (206, &audio[audio.len() - 10..]));
    let open = ranged(&app, uri, ADMIN, "bytes=10000-").await;
    assert_eq!(open.body, audio[10000..]);
    let bad = ranged(&app, uri, ADMIN, &format!("bytes={}-", audio.len())).await;
    assert_eq!(bad.status, 416);
    assert_eq!(bad.headers["content-range"], format!("bytes */{}", audio.len()).as_str());
}

#[tokio::test]
async fn recording_not_archived_or_unknown_is_404_and_viewers_follow_config() {
    let (_s, _d, app, audio) = app_with_recordings(false).await;
    let pending = call(&app, "GET", "/v1/calls/hq:c0000/recordings/0", Some(ADMIN)).await;
    assert_eq!(pending.status, 404);
    assert!(pending.text().contains("pending"), "{}", pending.text());
    assert_eq!(call(&app, "GET", "/v1/calls/nope/recordings/0", Some(ADMIN)).await.status, 404);
    assert_eq!(call(&app, "GET", "/v1/calls/hq:c0000/recordings/x", Some(ADMIN)).await.status, 400);
    assert_eq!(call(&app, "GET", "/v1/calls/hq:c0000/recordings/1", None).await.status, 401);
    assert_eq!(call(&app, "GET", "/v1/calls/hq:c0000/recordings/1", Some(VIEWER)).await.status, 403);

    let (_s2, _d2, app, _) = app_with_recordings(true).await;
    let v = call(&app, "GET", "/v1/calls/hq:c0000/recordings/1", Some(VIEWER)).await;
    assert_eq!((v.status.as_u16(), v.body), (200, audio));
}
