//! `GET /v1/sources` and `POST /v1/sources/{name}/sync`.

use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};
use crate::openapi::schemas::ProviderSchema;
use crate::params::Params;
use crate::scheduler::StartError;
use crate::state::AppState;
use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{Extension, Path, RawQuery, State};
use axum::http::StatusCode;
use huadan_model::{Instant, Provider};
use serde::Serialize;
use std::collections::HashMap;
use utoipa::ToSchema;

/// One source's sync state.
#[derive(Debug, Serialize, ToSchema)]
pub struct SourceView {
    /// Source name.
    pub name: String,
    /// Vendor kind (`null` for a source that has records but is no longer configured).
    #[schema(value_type = Option<ProviderSchema>)]
    pub provider: Option<Provider>,
    /// Whether the source is in the config.
    pub configured: bool,
    /// Whether it is synced (`enabled = false` sources are not).
    pub enabled: bool,
    /// Whether a sync of it is running now.
    pub running: bool,
    /// End of the last contiguous fully stored range.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub checkpoint: Option<Instant>,
    /// Where the stored history starts.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub backfill_start: Option<Instant>,
    /// When a run last finished without error.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_success: Option<Instant>,
    /// When a run last ended.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_run: Option<Instant>,
    /// The last run's error; `null` after a clean run.
    pub last_error: Option<String>,
    /// Records stored for the source.
    pub records: u64,
    /// Windows still to be re-visited (pending or failed).
    pub open_windows: u64,
    /// Counters of the last run, as the sync engine recorded them.
    pub last_run_stats: Option<serde_json::Value>,
}

/// Every source.
#[derive(Debug, Serialize, ToSchema)]
pub struct SourcesResponse {
    /// Configured sources in config order, then any others that have stored records.
    pub sources: Vec<SourceView>,
}

/// A sync was started.
#[derive(Debug, Serialize, ToSchema)]
pub struct SyncStarted {
    /// The source.
    pub source: String,
    /// Always `started`; follow progress in `GET /v1/sources`.
    pub status: String,
}

/// Each source's sync state and record count.
#[utoipa::path(
    get,
    path = "/v1/sources",
    tag = "sources",
    responses(
        (status = 200, description = "Every source", body = SourcesResponse),
        (status = 400, description = "Unknown query parameter", body = ErrorBody),
        (status = 401, description = "Missing or wrong bearer token", body = ErrorBody),
        (status = 500, description = "Store failure", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn list(State(state): State<AppState>, RawQuery(query): RawQuery) -> Result<Json<SourcesResponse>, ApiError> {
    Params::parse(query.as_deref(), &[])?;
    let mut stored: HashMap<String, huadan_store::SourceStatus> =
        state.inner.store.sources().await?.into_iter().map(|s| (s.state.source.clone(), s)).collect();
    let scheduler = &state.inner.scheduler;
    let mut out = Vec::new();
    for src in &state.inner.sources {
        let status = stored.remove(&src.name);
        out.push(view(&src.name, Some(src.provider), true, src.enabled, scheduler.is_running(&src.name), status));
    }
    let mut rest: Vec<_> = stored.into_iter().collect();
    rest.sort_by(|a, b| a.0.cmp(&b.0));
    for (name, status) in rest {
        out.push(view(&name, None, false, false, false, Some(status)));
    }
    Ok(Json(SourcesResponse { sources: out }))
}

fn view(
    name: &str,
    provider: Option<Provider>,
    configured: bool,
    enabled: bool,
    running: bool,
    status: Option<huadan_store::SourceStatus>,
) -> SourceView {
    let (state, records) = match status {
        Some(s) => (s.state, s.records),
        None => (huadan_store::SyncState::default(), 0),
    };
    SourceView {
        name: name.to_string(),
        provider,
        configured,
        enabled,
        running,
        checkpoint: state.checkpoint,
        backfill_start: state.backfill_start,
        last_success: state.last_success,
        last_run: state.last_run,
        last_error: state.last_error,
        records,
        open_windows: state.open_windows.len() as u64,
        last_run_stats: state.last_run_stats,
    }
}

/// Start a sync of one source now (admin tokens only).
#[utoipa::path(
    post,
    path = "/v1/sources/{name}/sync",
    tag = "sources",
    params(("name" = String, Path, description = "The source name")),
    responses(
        (status = 202, description = "The sync started; follow it in GET /v1/sources", body = SyncStarted),
        (status = 400, description = "Unknown query parameter", body = ErrorBody),
        (status = 401, description = "Missing or wrong bearer token", body = ErrorBody),
        (status = 403, description = "Viewer tokens cannot start syncs", body = ErrorBody),
        (status = 404, description = "No source has this name", body = ErrorBody),
        (status = 409, description = "A sync of this source is running, or it is disabled", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn sync(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    name: Result<Path<String>, PathRejection>,
    RawQuery(query): RawQuery,
) -> Result<(StatusCode, Json<SyncStarted>), ApiError> {
    Params::parse(query.as_deref(), &[])?;
    let Path(name) = name.map_err(|e| ApiError::bad_param("name", e.body_text()))?;
    if !caller.may_sync() {
        return Err(ApiError::Forbidden("viewer tokens cannot start syncs"));
    }
    match state.inner.scheduler.start(&name) {
        Ok(()) => Ok((StatusCode::ACCEPTED, Json(SyncStarted { source: name, status: "started".into() }))),
        Err(StartError::Unknown(n)) => Err(ApiError::NotFound(format!("no source named `{n}` is configured"))),
        Err(StartError::Disabled(n)) => Err(ApiError::SourceDisabled(n)),
        Err(StartError::Running(n)) => Err(ApiError::SyncRunning(n)),
    }
}
