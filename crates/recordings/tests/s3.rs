//! Archiving to an S3-compatible bucket: a minimal in-process S3 fake on 127.0.0.1
//! (PUT / multipart / GET with Range / HEAD), no cloud.

mod common;

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use common::{AudioServer, Plan, sha256_hex, wav};
use futures::StreamExt;
use huadan_recordings::{Archive, Archiver, JobStatus, NewJob, Queue, RecordingsConfig, RunOptions};
use jiff::Timestamp;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Default)]
struct S3State {
    objects: HashMap<String, Vec<u8>>,
    uploads: HashMap<String, (String, BTreeMap<u32, Vec<u8>>)>,
    next_upload: u64,
    completed: u32,
    aborted: u32,
    signed_requests: u32,
    unsigned_requests: u32,
    secret_seen: bool,
}

type S3 = Arc<Mutex<S3State>>;

fn query(uri: &Uri) -> HashMap<String, String> {
    uri.query()
        .unwrap_or("")
        .split('&')
        .filter(|s| !s.is_empty())
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (k.to_string(), v.to_string())
        })
        .collect()
}

fn xml(body: String) -> Response {
    (StatusCode::OK, [(header::CONTENT_TYPE, "application/xml")], body).into_response()
}

async fn s3(
    axum::extract::State(st): axum::extract::State<S3>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut s = st.lock().unwrap();
    let auth = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).unwrap_or("");
    if auth.starts_with("AWS4-HMAC-SHA256 Credential=test-key/") {
        s.signed_requests += 1;
    } else {
        s.unsigned_requests += 1;
    }
    if format!("{headers:?}{uri}").contains("test-secret") || String::from_utf8_lossy(&body).contains("test-secret") {
        s.secret_seen = true;
    }
    let key = uri.path().trim_start_matches('/').to_string(); // "bucket/key..."
    let q = query(&uri);
    let etag = |b: &[u8]| format!("\"{}\"", &sha256_hex(b)[..16]);
    match method {
        Method::POST if q.contains_key("uploads") => {
            s.next_upload += 1;
            let id = format!("up{}", s.next_upload);
            s.uploads.insert(id.clone(), (key.clone(), BTreeMap::new()));
            xml(format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?><InitiateMultipartUploadResult><Bucket>b</Bucket><Key>{key}</Key><UploadId>{id}</UploadId></InitiateMultipartUploadResult>"
            ))
        }
        Method::PUT if q.contains_key("uploadId") => {
            let n: u32 = q.get("partNumber").and_then(|n| n.parse().ok()).unwrap_or(0);
            let Some((_, parts)) = s.uploads.get_mut(&q["uploadId"]) else {
                return (StatusCode::NOT_FOUND, "<Error><Code>NoSuchUpload</Code></Error>").into_response();
            };
            parts.insert(n, body.to_vec());
            (StatusCode::OK, [(header::ETAG, etag(&body))]).into_response()
        }
        Method::POST if q.contains_key("uploadId") => {
            let Some((k, parts)) = s.uploads.remove(&q["uploadId"]) else {
                return (StatusCode::NOT_FOUND, "<Error><Code>NoSuchUpload</Code></Error>").into_response();
            };
            let all: Vec<u8> = parts.into_values().flatten().collect();
            let e = etag(&all);
            s.objects.insert(k.clone(), all);
            s.completed += 1;
            xml(format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?><CompleteMultipartUploadResult><Bucket>b</Bucket><Key>{k}</Key><ETag>{e}</ETag></CompleteMultipartUploadResult>"
            ))
        }
        Method::DELETE if q.contains_key("uploadId") => {
            s.uploads.remove(&q["uploadId"]);
            s.aborted += 1;
            StatusCode::NO_CONTENT.into_response()
        }
        Method::PUT => {
            let e = etag(&body);
            s.objects.insert(key, body.to_vec());
            (StatusCode::OK, [(header::ETAG, e)]).into_response()
        }
        Method::GET | Method::HEAD => {
            let Some(obj) = s.objects.get(&key) else {
                return (
                    StatusCode::NOT_FOUND,
                    [(header::CONTENT_TYPE, "application/xml")],
                    "<Error><Code>NoSuchKey</Code></Error>",
                )
                    .into_response();
            };
            let len = obj.len();
            let range = headers
                .get(header::RANGE)
                .and_then(|v| v.to_str().ok())
                .and_then(|r| r.strip_prefix("bytes="))
                .and_then(|r| r.split_once('-'))
                .and_then(|(a, b)| Some((a.parse::<usize>().ok()?, b.parse::<usize>().ok().unwrap_or(len - 1))));
            let (status, slice, extra) = match range {
                Some((a, b)) if a < len => {
                    let b = b.min(len - 1);
                    (StatusCode::PARTIAL_CONTENT, obj[a..=b].to_vec(), Some(format!("bytes {a}-{b}/{len}")))
                }
                _ => (StatusCode::OK, obj.clone(), None),
            };
            let mut r = Response::builder()
                .status(status)
                .header(header::ETAG, etag(obj))
                .header(header::LAST_MODIFIED, "Sat, 21 Nov 2026 02:00:00 GMT")
                .header(header::CONTENT_LENGTH, slice.len());
            if let Some(cr) = extra {
                r = r.header(header::CONTENT_RANGE, cr);
            }
            let body = if method == Method::HEAD { Vec::new() } else { slice };
            r.body(axum::body::Body::from(body)).unwrap()
        }
        _ => (StatusCode::METHOD_NOT_ALLOWED, "").into_response(),
    }
}

async fn start_s3() -> (String, S3) {
    let st: S3 = Arc::default();
    let app = Router::new().fallback(s3).with_state(st.clone());
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", l.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    (base, st)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_archive_to_in_process_fake_with_faults_and_range_reads() {
    let (endpoint, st) = start_s3().await;
    let srv = AudioServer::start().await;
    let table: toml::Table = toml::from_str(&format!(
        "archive = true\nstore = \"s3://calls/audio\"\nendpoint = \"{endpoint}\"\nregion = \"us-east-1\"\naccess_key_id = \"test-key\"\nsecret_access_key = \"test-secret\"\nconcurrency = 3\nper_host_interval_ms = 0\nstall_timeout_seconds = 0.4\nretry_base_seconds = 0.05\nretry_max_seconds = 0.2"
    ))
    .unwrap();
    let cfg = RecordingsConfig::from_table(&table).unwrap();
    let archive = Archive::open(&cfg).unwrap();
    let a = Archiver::new(cfg, Arc::new(Queue::in_memory().unwrap()), archive.clone()).unwrap();
    let started: Timestamp = "2026-11-20T03:04:05Z".parse().unwrap();
    let mut bodies = HashMap::new();
    let mut jobs = vec![];
    for i in 0..8u64 {
        let body = wav(i, 30_000);
        let plan = Plan {
            body: body.clone(),
            truncate: u32::from(i % 3 == 1),
            stall: u32::from(i % 3 == 2),
            ..Plan::default()
        };
        let url = srv.add(&format!("s{i}.wav"), plan);
        let id = format!("ads:s:{i}");
        bodies.insert(id.clone(), body);
        jobs.push(NewJob { record_id: id, index: 0, source: "ads".into(), started_at: started, url, expires_at: None });
    }
    a.queue().enqueue(&jobs, Timestamp::now()).unwrap();
    a.run(RunOptions { until_idle: true, deadline: Some(Duration::from_secs(60)) }).await.unwrap();

    let all = a.queue().all().unwrap();
    assert_eq!(all.len(), 8);
    {
        let s = st.lock().unwrap();
        for j in &all {
            assert_eq!(j.status, JobStatus::Archived, "{j:?}");
            let key = j.archived_path.clone().unwrap();
            assert!(key.starts_with("ads/2026/11/20/ads_s_"), "{key}");
            let body = &bodies[&j.job.record_id];
            assert_eq!(s.objects.get(&format!("calls/audio/{key}")), Some(body), "{key}");
            assert_eq!(j.sha256.clone().unwrap(), sha256_hex(body));
        }
        assert_eq!(s.objects.len(), 8, "one object per recording");
        assert_eq!(s.completed, 8, "objects appear only on CompleteMultipartUpload");
        assert!(s.aborted >= 4, "broken downloads abort their upload: {}", s.aborted);
        assert!(s.uploads.is_empty(), "no upload left open");
        assert_eq!(s.unsigned_requests, 0);
        assert!(s.signed_requests > 0);
        assert!(!s.secret_seen, "the secret key never travels");
    }

    // Range reads stream back the right bytes (what the API's player will ask for).
    let j = &all[0];
    let key = j.archived_path.clone().unwrap();
    let body = &bodies[&j.job.record_id];
    assert_eq!(archive.size(&key).await.unwrap(), Some(body.len() as u64));
    let mut got = vec![];
    let mut s = archive.read_range(&key, 100..1100).await.unwrap();
    while let Some(c) = s.next().await {
        got.extend_from_slice(&c.unwrap());
    }
    assert_eq!(got, body[100..1100]);
    assert_eq!(archive.size("ads/none.wav").await.unwrap(), None);
}
