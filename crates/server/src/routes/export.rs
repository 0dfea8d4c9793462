//! `GET /v1/export.csv` and `GET /v1/export.jsonl`: streamed.

use super::caller_filter;
use super::params_doc::{CsvParams, FilterParams};
use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};
use crate::export::{TextFormat, http_body};
use crate::params::{FILTER_PARAMS, Params};
use crate::state::AppState;
use axum::body::Body;
use axum::extract::{Extension, RawQuery, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

async fn export(state: AppState, caller: Caller, params: Params, format: TextFormat) -> Result<Response, ApiError> {
    let filter = caller_filter(&caller, &params, &state)?;
    let body = http_body(state.inner.store.export_json(filter), format, caller.masks_numbers()).await?;
    let (content_type, file) = match format {
        TextFormat::Csv { .. } => ("text/csv; charset=utf-8", "calls.csv"),
        TextFormat::Jsonl => ("application/x-ndjson", "calls.jsonl"),
    };
    let mut resp = Body::from_stream(body).into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{file}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(resp)
}

/// Every matching record as CSV (UTF-8; the column set is fixed and documented).
#[utoipa::path(
    get,
    path = "/v1/export.csv",
    tag = "export",
    params(FilterParams, CsvParams),
    responses(
        (status = 200, description = "CSV with a header row", content_type = "text/csv", body = String),
        (status = 400, description = "Unknown or malformed parameter", body = ErrorBody),
        (status = 401, description = "Missing or wrong bearer token", body = ErrorBody),
        (status = 403, description = "Viewer tokens cannot filter by number", body = ErrorBody),
        (status = 500, description = "Store failure", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn csv(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let params = Params::parse(query.as_deref(), &[FILTER_PARAMS, &["bom"]])?;
    let bom = match params.one("bom")? {
        None | Some("false") | Some("0") => false,
        Some("true") | Some("1") => true,
        Some(v) => return Err(ApiError::bad_param("bom", format!("`{v}` is not true or false"))),
    };
    export(state, caller, params, TextFormat::Csv { bom }).await
}

/// Every matching record as JSON Lines (one CONTRACT §3 record per line).
#[utoipa::path(
    get,
    path = "/v1/export.jsonl",
    tag = "export",
    params(FilterParams),
    responses(
        (status = 200, description = "One JSON record per line", content_type = "application/x-ndjson", body = String),
        (status = 400, description = "Unknown or malformed parameter", body = ErrorBody),
        (status = 401, description = "Missing or wrong bearer token", body = ErrorBody),
        (status = 403, description = "Viewer tokens cannot filter by number", body = ErrorBody),
        (status = 500, description = "Store failure", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn jsonl(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let params = Params::parse(query.as_deref(), &[FILTER_PARAMS])?;
    export(state, caller, params, TextFormat::Jsonl).await
}
