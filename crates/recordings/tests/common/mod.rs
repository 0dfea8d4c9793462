//! A tiny recording host on 127.0.0.1 serving generated WAVs, with faults and expiry.
#![allow(dead_code)]

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use huadan_recordings::audio::sine_wav;
use jiff::Timestamp;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How one recording URL behaves.
#[derive(Clone, Default)]
pub struct Plan {
    pub body: Vec<u8>,
    /// First N requests answer 500.
    pub fail_500: u32,
    /// Then N requests answer 200 with a JSON error document.
    pub json_200: u32,
    /// Then N requests send half the body and break off.
    pub truncate: u32,
    /// Then N requests send half the body and stall.
    pub stall: u32,
    /// After this instant the link answers 403 with a JSON error.
    pub expires_at: Option<Timestamp>,
    /// Send the body in 4 KiB chunks with this pause between them.
    pub drip: Option<Duration>,
}

#[derive(Default)]
pub struct ServerState {
    pub plans: HashMap<String, Plan>,
    /// Names in request order.
    pub log: Vec<String>,
    /// Bytes sent per name (partial sends included).
    pub bytes_sent: HashMap<String, u64>,
}

pub type Shared = Arc<Mutex<ServerState>>;

pub struct AudioServer {
    pub base: String,
    pub state: Shared,
}

impl AudioServer {
    pub async fn start() -> AudioServer {
        Self::start_on("127.0.0.1:0").await
    }

    pub async fn start_on(addr: &str) -> AudioServer {
        let state: Shared = Arc::default();
        let app = Router::new().route("/rec/{name}", axum::routing::get(serve)).with_state(state.clone());
        let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        AudioServer { base, state }
    }

    /// Register a recording; returns its URL.
    pub fn add(&self, name: &str, plan: Plan) -> String {
        self.state.lock().unwrap().plans.insert(name.to_string(), plan);
        format!("{}/rec/{name}", self.base)
    }

    pub fn log(&self) -> Vec<String> {
        self.state.lock().unwrap().log.clone()
    }

    pub fn requests(&self, name: &str) -> usize {
        self.log().iter().filter(|n| *n == name).count()
    }
}

pub fn sha256_hex(b: &[u8]) -> String {
    hex::encode(Sha256::digest(b))
}

pub fn wav(seed: u64, samples: u32) -> Vec<u8> {
    sine_wav(samples, seed)
}

async fn serve(State(state): State<Shared>, Path(name): Path<String>) -> Response {
    enum Mode {
        Full,
        E500,
        Json,
        Truncate,
        Stall,
        Expired,
    }
    let (plan, mode) = {
        let mut s = state.lock().unwrap();
        s.log.push(name.clone());
        let Some(p) = s.plans.get_mut(&name) else {
            return (StatusCode::NOT_FOUND, "no such recording").into_response();
        };
        let mode = if p.expires_at.is_some_and(|e| Timestamp::now() >= e) {
            Mode::Expired
        } else if p.fail_500 > 0 {
            p.fail_500 -= 1;
            Mode::E500
        } else if p.json_200 > 0 {
            p.json_200 -= 1;
            Mode::Json
        } else if p.truncate > 0 {
            p.truncate -= 1;
            Mode::Truncate
        } else if p.stall > 0 {
            p.stall -= 1;
            Mode::Stall
        } else {
            Mode::Full
        };
        (p.clone(), mode)
    };
    let json = |code: StatusCode, msg: &str| {
        (code, [(header::CONTENT_TYPE, "application/json")], format!("{{\"code\":\"{msg}\"}}")).into_response()
    };
    match mode {
        Mode::Expired => json(StatusCode::FORBIDDEN, "RecordUrlExpired"),
        Mode::E500 => json(StatusCode::INTERNAL_SERVER_ERROR, "InternalError"),
        Mode::Json => json(StatusCode::OK, "AccessDenied"),
        Mode::Full | Mode::Truncate | Mode::Stall => {
            let total = plan.body.len();
            let send_upto = match mode {
                Mode::Full => total,
                _ => total / 2,
            };
            let body = Bytes::from(plan.body);
            let drip = plan.drip;
            let stall = matches!(mode, Mode::Stall);
            let st = state.clone();
            let stream = async_stream(body, send_upto, drip, stall, st, name);
            Response::builder()
                .status(StatusCode::OK)
                .header(header::CONTENT_TYPE, "audio/wav")
                .header(header::CONTENT_LENGTH, total)
                .body(Body::from_stream(stream))
                .unwrap()
        }
    }
}

fn async_stream(
    body: Bytes,
    send_upto: usize,
    drip: Option<Duration>,
    stall: bool,
    state: Shared,
    name: String,
) -> impl futures::Stream<Item = Result<Bytes, std::io::Error>> {
    let total = body.len();
    futures::stream::unfold(0usize, move |pos| {
        let body = body.clone();
        let state = state.clone();
        let name = name.clone();
        async move {
            if pos >= send_upto {
                if send_upto == total {
                    return None;
                }
                if stall {
                    tokio::time::sleep(Duration::from_secs(30)).await;
                    return None;
                }
                // Let what was sent reach the client before the connection is cut.
                tokio::time::sleep(Duration::from_millis(50)).await;
                return Some((Err(std::io::Error::other("cut off")), usize::MAX));
            }
            if let Some(d) = drip
                && pos > 0
            {
                tokio::time::sleep(d).await;
            }
            let end = (pos + 4096).min(send_upto);
            *state.lock().unwrap().bytes_sent.entry(name).or_default() += (end - pos) as u64;
            Some((Ok(body.slice(pos..end)), end))
        }
    })
}
