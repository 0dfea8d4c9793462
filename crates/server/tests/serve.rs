//! `serve`: the loopback rule, a real TCP round trip and graceful shutdown; the
//! scheduler's interval, no-overlap rule and shutdown grace; store failures as 500s.

mod common;

use common::*;
use huadan_config::Config;
use huadan_server::{AppState, Metrics, ScheduledSource, Scheduler, ServerError};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[test]
fn open_api_is_refused_off_loopback() {
    let open = Config::default();
    for addr in ["0.0.0.0:8080", "192.168.1.5:8080", "[::]:8080"] {
        let err = huadan_server::check_listen(&open, addr.parse().unwrap()).unwrap_err();
        assert!(matches!(err, ServerError::OpenOnNetwork { .. }));
        let msg = err.to_string();
        assert!(msg.contains("server.api_tokens is empty") && msg.contains("127.0.0.1"), "{msg}");
    }
    for addr in ["127.0.0.1:8080", "[::1]:8080"] {
        huadan_server::check_listen(&open, addr.parse().unwrap()).unwrap();
    }
    huadan_server::check_listen(&config(), "0.0.0.0:8080".parse().unwrap()).unwrap();
}

async fn http_get(addr: std::net::SocketAddr, path: &str, token: Option<&str>) -> String {
    let mut s =
        tokio::time::timeout(Duration::from_secs(5), tokio::net::TcpStream::connect(addr)).await.unwrap().unwrap();
    let auth = token.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n{auth}Connection: close\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut out)).await.unwrap().unwrap();
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test]
async fn serve_answers_over_tcp_and_shuts_down_gracefully() {
    let (_dir, store) = seeded_store().await;
    // Tokens, no sources: the real engine has nothing to run.
    let cfg = Config::from_toml_str(
        "[server]\napi_tokens = [\"admin-secret-0123456789\"]\n[sync]\ninterval_seconds = 1\n",
        &|_| None,
    )
    .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        huadan_server::serve(&cfg, store, listener, async move {
            let _ = rx.await;
        })
        .await
    });
    let health = http_get(addr, "/healthz", None).await;
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    let calls = http_get(addr, "/v1/calls?limit=2&source=hq", Some(ADMIN)).await;
    assert!(calls.starts_with("HTTP/1.1 200"), "{calls}");
    assert!(calls.contains("\"next_cursor\""));
    let denied = http_get(addr, "/v1/calls", None).await;
    assert!(denied.starts_with("HTTP/1.1 401"), "{denied}");
    tx.send(()).unwrap();
    let res = tokio::time::timeout(Duration::from_secs(15), server).await.expect("serve returns after shutdown");
    res.unwrap().unwrap();
    assert!(tokio::net::TcpStream::connect(addr).await.is_err(), "listener closed");
}

#[tokio::test]
async fn serve_starts_an_open_api_on_a_loopback_listener() {
    // `serve` applies the loopback rule to the listener it is given: loopback here, so
    // an open API (no tokens) must start; the refusal itself is `open_api_is_refused_off_loopback`
    // and, as a process, the CLI test `serve_refuses_an_open_api_off_loopback_with_exit_2`.
    let (_dir, store) = seeded_store().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let res = tokio::time::timeout(
        Duration::from_secs(10),
        huadan_server::serve(&Config::default(), store, listener, async {}),
    )
    .await
    .unwrap();
    assert!(res.is_ok(), "open API on loopback is allowed: {res:?}");
}

fn one_source(name: &str) -> Vec<ScheduledSource> {
    vec![ScheduledSource { name: name.into(), enabled: true }]
}

#[tokio::test(start_paused = true)]
async fn scheduled_sync_never_overlaps_runs_of_one_source() {
    // Runs take 2.5 intervals: ticks at 0, 1, 2, 3, 4, 5 s; a run started at 0 s ends at
    // 2.5 s, so the ticks at 1 and 2 s are skipped, the one at 3 s starts the next run.
    let runner = GateRunner::timed(Duration::from_millis(2500));
    let sched = Scheduler::new(Arc::new(Gate(runner.clone())), one_source("hq"), Arc::new(Metrics::default()));
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let ticker = tokio::spawn(sched.clone().run_every(Duration::from_secs(1), stop_rx));
    tokio::time::sleep(Duration::from_millis(5500)).await;
    stop_tx.send(true).unwrap();
    ticker.await.unwrap();
    assert_eq!(runner.started.load(Ordering::SeqCst), 2, "runs at 0 s and 3 s only");
    assert_eq!(runner.max_concurrent.load(Ordering::SeqCst), 1, "never two runs of one source");
    sched.shutdown(Duration::from_secs(10)).await;
    assert_eq!(runner.finished.load(Ordering::SeqCst), 2, "shutdown waited for the running sync");
}

#[tokio::test(start_paused = true)]
async fn scheduled_sync_runs_every_interval_when_runs_are_short() {
    let runner = GateRunner::timed(Duration::from_millis(100));
    let sources = vec![
        ScheduledSource { name: "a".into(), enabled: true },
        ScheduledSource { name: "b".into(), enabled: true },
        ScheduledSource { name: "off".into(), enabled: false },
    ];
    let metrics = Arc::new(Metrics::default());
    let sched = Scheduler::new(Arc::new(Gate(runner.clone())), sources, metrics.clone());
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let ticker = tokio::spawn(sched.clone().run_every(Duration::from_secs(10), stop_rx));
    tokio::time::sleep(Duration::from_millis(25_500)).await;
    stop_tx.send(true).unwrap();
    ticker.await.unwrap();
    sched.shutdown(Duration::from_secs(1)).await;
    assert_eq!(runner.started.load(Ordering::SeqCst), 6, "two enabled sources at 0, 10 and 20 s");
    assert!(metrics.render().contains("huadan_sync_runs_total{source=\"a\"} 3"));
    assert!(!metrics.render().contains("source=\"off\""));
}

#[tokio::test(start_paused = true)]
async fn shutdown_tells_running_syncs_to_stop_and_waits_for_them() {
    let runner = GateRunner::stoppable();
    let sched = Scheduler::new(Arc::new(Gate(runner.clone())), one_source("hq"), Arc::new(Metrics::default()));
    sched.start("hq").unwrap();
    tokio::task::yield_now().await;
    let t0 = tokio::time::Instant::now();
    sched.shutdown(Duration::from_secs(30)).await;
    assert_eq!(runner.finished.load(Ordering::SeqCst), 1, "the run wound down on its own");
    assert!(t0.elapsed() < Duration::from_secs(1), "no need to wait out the grace period");
}

#[tokio::test(start_paused = true)]
async fn shutdown_aborts_a_sync_stuck_past_the_grace_period() {
    let runner = GateRunner::gated();
    let sched = Scheduler::new(Arc::new(Gate(runner.clone())), one_source("hq"), Arc::new(Metrics::default()));
    sched.start("hq").unwrap();
    tokio::task::yield_now().await;
    assert!(sched.is_running("hq"));
    sched.shutdown(Duration::from_secs(3)).await;
    assert!(!sched.is_running("hq"), "the aborted run left the running set");
    assert_eq!(runner.finished.load(Ordering::SeqCst), 0);
}

fn broken_app(export_after: usize) -> axum::Router {
    let store: huadan_store::DynStore = Arc::new(BrokenStore { export_after });
    let state = AppState::with_runner(&config(), store, Arc::new(Gate(GateRunner::gated()))).unwrap();
    huadan_server::router(state)
}

#[tokio::test]
async fn store_failures_are_500_without_details() {
    let app = broken_app(0);
    for uri in
        ["/v1/calls", "/v1/calls/hq:c0000", "/v1/stats?by=agent", "/v1/sources", "/v1/export.csv", "/v1/export.jsonl"]
    {
        let a = get(&app, uri).await;
        assert_eq!(a.status, 500, "{uri}");
        assert_eq!(a.code(), "internal");
        assert_eq!(a.message(), "internal error");
        assert!(!a.text().contains("secret"), "{uri} leaked the detail");
    }
}

#[tokio::test]
async fn export_failing_midway_cuts_the_body_instead_of_ending_it_cleanly() {
    let app = broken_app(3);
    let req = axum::http::Request::get("/v1/export.csv")
        .header("authorization", format!("Bearer {ADMIN}"))
        .body(axum::body::Body::empty())
        .unwrap();
    let resp = tower::ServiceExt::oneshot(app, req).await.unwrap();
    assert_eq!(resp.status(), 200, "headers went out with the first record");
    let body = axum::body::to_bytes(resp.into_body(), usize::MAX).await;
    assert!(body.is_err(), "a truncated export must not look complete");
}
