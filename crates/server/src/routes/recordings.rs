//! `GET /v1/calls/{id}/recordings/{n}`: the archived audio of a call's n-th recording,
//! streamed from the recording archive with HTTP Range support (the dashboard's player
//! seeks). Viewer tokens are refused unless `[recordings] viewers_may_listen = true`.

use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};
use crate::params::Params;
use crate::state::AppState;
use axum::body::Body;
use axum::extract::rejection::PathRejection;
use axum::extract::{Extension, Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use huadan_config::{Config, ConfigError};
use huadan_recordings::{Archive, JobStatus, Queue, RecordingsConfig};
use std::sync::Arc;

/// What the route needs from `[recordings]`.
#[derive(Clone)]
pub struct RecordingsAccess {
    queue: Arc<Queue>,
    archive: Archive,
    viewers_may_listen: bool,
}

impl RecordingsAccess {
    /// Open the queue and archive named by `[recordings]`; `None` without that section.
    pub fn from_config(config: &Config) -> Result<Option<RecordingsAccess>, ConfigError> {
        let Some(table) = &config.recordings else { return Ok(None) };
        let bad = |e: huadan_recordings::RecordingsError| ConfigError::invalid("recordings", e.to_string());
        let cfg = RecordingsConfig::from_table(table).map_err(bad)?;
        let queue = Arc::new(Queue::open(&cfg.queue_path(&config.store.url)).map_err(bad)?);
        let archive = Archive::open(&cfg).map_err(bad)?;
        Ok(Some(RecordingsAccess { queue, archive, viewers_may_listen: cfg.viewers_may_listen }))
    }
}

/// A parsed single `Range: bytes=…` against an object of `size` bytes: `Ok(None)` for
/// the whole object, `Err(())` when unsatisfiable or malformed.
fn parse_range(h: Option<&str>, size: u64) -> Result<Option<std::ops::Range<u64>>, ()> {
    let Some(h) = h else { return Ok(None) };
    let spec = h.trim().strip_prefix("bytes=").ok_or(())?;
    if spec.contains(',') {
        return Err(()); // multiple ranges: not served
    }
    let (a, b) = spec.split_once('-').ok_or(())?;
    let (a, b) = (a.trim(), b.trim());
    let range = if a.is_empty() {
        let n: u64 = b.parse().map_err(|_| ())?;
        if n == 0 {
            return Err(());
        }
        size.saturating_sub(n)..size
    } else {
        let start: u64 = a.parse().map_err(|_| ())?;
        let end = if b.is_empty() { size } else { b.parse::<u64>().map_err(|_| ())?.saturating_add(1).min(size) };
        if start >= size || end <= start {
            return Err(());
        }
        start..end
    };
    Ok(Some(range))
}

fn content_type(key: &str) -> &'static str {
    match key.rsplit('.').next().unwrap_or("") {
        "wav" => "audio/wav",
        "mp3" => "audio/mpeg",
        "m4a" => "audio/mp4",
        "ogg" | "opus" => "audio/ogg",
        "flac" => "audio/flac",
        "amr" => "audio/amr",
        "aac" => "audio/aac",
        _ => "application/octet-stream",
    }
}

/// The archived audio of recording `n` of call `id`.
#[utoipa::path(
    get,
    path = "/v1/calls/{id}/recordings/{n}",
    tag = "calls",
    params(
        ("id" = String, Path, description = "The call's id"),
        ("n" = u32, Path, description = "Index in the call's `recordings`"),
    ),
    responses(
        (status = 200, description = "The whole recording", content_type = "application/octet-stream", body = Vec<u8>),
        (status = 206, description = "The requested byte range", content_type = "application/octet-stream", body = Vec<u8>),
        (status = 400, description = "Unknown or malformed parameter", body = ErrorBody),
        (status = 401, description = "Missing or wrong bearer token", body = ErrorBody),
        (status = 403, description = "Viewer tokens may not listen (config)", body = ErrorBody),
        (status = 404, description = "No such call, recording, or not archived (yet)", body = ErrorBody),
        (status = 416, description = "Unsatisfiable range"),
        (status = 500, description = "Archive failure", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn get_one(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    path: Result<Path<(String, u32)>, PathRejection>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    Params::parse(query.as_deref(), &[])?;
    let Path((id, n)) = path.map_err(|e| ApiError::bad_param("n", e.body_text()))?;
    let Some(access) = &state.inner.recordings else {
        return Err(ApiError::NotFound("recording archival is not configured ([recordings])".into()));
    };
    if caller.masks_numbers() && !access.viewers_may_listen {
        return Err(ApiError::Forbidden("viewer tokens may not listen to recordings"));
    }
    let job = access.queue.get(&id, n).map_err(|e| ApiError::Internal(e.to_string()))?;
    let key = match job {
        Some(j) if j.status == JobStatus::Archived => j.archived_path,
        Some(j) => {
            return Err(ApiError::NotFound(format!(
                "recording {n} of call `{id}` is not archived ({}{})",
                j.status.as_str(),
                j.last_error.map(|e| format!(": {e}")).unwrap_or_default()
            )));
        }
        None => None,
    };
    let Some(key) = key else {
        return Err(ApiError::NotFound(format!("recording {n} of call `{id}` is not archived")));
    };
    let size = access
        .archive
        .size(&key)
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .ok_or_else(|| ApiError::NotFound(format!("recording {n} of call `{id}` is missing from the archive")))?;
    let range_header = headers.get(header::RANGE).and_then(|v| v.to_str().ok());
    let range = match parse_range(range_header, size) {
        Ok(r) => r,
        Err(()) => {
            return Ok((StatusCode::RANGE_NOT_SATISFIABLE, [(header::CONTENT_RANGE, format!("bytes */{size}"))])
                .into_response());
        }
    };
    let (status, r) = match range {
        Some(r) => (StatusCode::PARTIAL_CONTENT, r),
        None => (StatusCode::OK, 0..size),
    };
    let stream = if r.is_empty() {
        futures::stream::empty().boxed()
    } else {
        access.archive.read_range(&key, r.clone()).await.map_err(|e| ApiError::Internal(e.to_string()))?
    };
    let mut resp = Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, content_type(&key))
        .header(header::ACCEPT_RANGES, "bytes")
        .header(header::CONTENT_LENGTH, r.end - r.start);
    if status == StatusCode::PARTIAL_CONTENT {
        resp = resp.header(header::CONTENT_RANGE, format!("bytes {}-{}/{size}", r.start, r.end - 1));
    }
    resp.body(Body::from_stream(stream)).map_err(|e| ApiError::Internal(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::parse_range;

    #[test]
    fn ranges() {
        assert_eq!(parse_range(None, 10), Ok(None));
        assert_eq!(parse_range(Some("bytes=0-3"), 10), Ok(Some(0..4)));
        assert_eq!(parse_range(Some("bytes=4-"), 10), Ok(Some(4..10)));
        assert_eq!(parse_range(Some("bytes=-3"), 10), Ok(Some(7..10)));
        assert_eq!(parse_range(Some("bytes=5-100"), 10), Ok(Some(5..10)));
        assert_eq!(parse_range(Some("bytes=10-"), 10), Err(()));
        assert_eq!(parse_range(Some("bytes=0-1,3-4"), 10), Err(()));
        assert_eq!(parse_range(Some("items=0-1"), 10), Err(()));
    }
}
