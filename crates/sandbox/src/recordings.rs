//! `GET /_huadan/sandbox/recordings/{key}`: the audio behind every fake's recording links
//! (when a fake runs in the sandbox its links point here, see
//! `FakeContext::recording_url`). Answers a small valid MP3 (silent MPEG-1 Layer III
//! frames, length drawn from the key), refuses a link past its `expires` (unix seconds,
//! on the dataset's clock) with a JSON error, and rolls the fake's generic faults.

use axum::extract::{Path, Query};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use huadan_fakekit::FakeContext;
use std::collections::HashMap;

/// One MPEG-1 Layer III frame: 128 kbit/s, 44.1 kHz, no padding (417 bytes), silent.
const FRAME_LEN: usize = 417;

/// A silent MP3 of `frames` frames.
pub fn silent_mp3(frames: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(frames * FRAME_LEN);
    for _ in 0..frames {
        let start = out.len();
        out.extend_from_slice(&[0xFF, 0xFB, 0x90, 0x64]);
        out.resize(start + FRAME_LEN, 0);
    }
    out
}

/// Frames for a key: 8–39 (0.2–1 s), stable per key.
fn frames_for(key: &str) -> usize {
    let h = key.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3));
    8 + (h % 32) as usize
}

/// The handler.
pub async fn serve(ctx: FakeContext, key: String, query: HashMap<String, String>) -> Response {
    ctx.counters.incr("recording_requests");
    if key.len() > 256 || !key.ends_with(".mp3") {
        return (StatusCode::NOT_FOUND, "no such recording").into_response();
    }
    if let Some(exp) = query.get("expires") {
        let Ok(exp) = exp.parse::<i64>() else {
            return (StatusCode::BAD_REQUEST, "bad expires").into_response();
        };
        if ctx.dataset.now().as_second() >= exp {
            ctx.counters.incr("recording_expired");
            return (
                StatusCode::FORBIDDEN,
                [(header::CONTENT_TYPE, "application/json")],
                r#"{"code":"RecordingExpired","message":"the recording link has expired"}"#,
            )
                .into_response();
        }
    }
    if let Some(fault) = ctx.generic_fault().await {
        return fault;
    }
    ([(header::CONTENT_TYPE, "audio/mpeg")], silent_mp3(frames_for(&key))).into_response()
}

/// The route, for one fake's router.
pub fn route(ctx: FakeContext) -> axum::routing::MethodRouter {
    axum::routing::get(move |Path(key): Path<String>, Query(q): Query<HashMap<String, String>>| {
        let ctx = ctx.clone();
        async move { serve(ctx, key, q).await }
    })
}
