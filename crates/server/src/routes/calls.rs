//! `GET /v1/calls` and `GET /v1/calls/{id}`.

use super::caller_filter;
use super::params_doc::{FilterParams, PageParams};
use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};
use crate::openapi::schemas::{CallPageSchema, CallRecordSchema};
use crate::params::{FILTER_PARAMS, Params};
use crate::state::AppState;
use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{Extension, Path, RawQuery, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use huadan_model::CallRecord;
use huadan_store::CallQuery;

/// List records, newest first, one page at a time.
#[utoipa::path(
    get,
    path = "/v1/calls",
    tag = "calls",
    params(FilterParams, PageParams),
    responses(
        (status = 200, description = "A page of records, newest first", body = CallPageSchema),
        (status = 400, description = "Unknown or malformed parameter, or a bad cursor", body = ErrorBody),
        (status = 401, description = "Missing or wrong bearer token", body = ErrorBody),
        (status = 403, description = "Viewer tokens cannot filter by number", body = ErrorBody),
        (status = 500, description = "Store failure", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let params = Params::parse(query.as_deref(), &[FILTER_PARAMS, &["limit", "cursor"]])?;
    let filter = caller_filter(&caller, &params, &state)?;
    let q = CallQuery { filter, limit: params.limit()?, cursor: params.one("cursor")?.map(str::to_string) };
    if caller.masks_numbers() {
        let mut page = state.inner.store.calls(&q).await?;
        page.items.iter_mut().for_each(CallRecord::mask_numbers);
        return Ok(Json(page).into_response());
    }
    // Everyone else gets the stored JSON passed through (no record is decoded).
    let page = state.inner.store.calls_json(&q).await?;
    Ok(([(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], page.to_json()).into_response())
}

/// One record by id.
#[utoipa::path(
    get,
    path = "/v1/calls/{id}",
    tag = "calls",
    params(("id" = String, Path, description = "The record id, `{source}:{provider_call_id}`")),
    responses(
        (status = 200, description = "The record", body = CallRecordSchema),
        (status = 400, description = "Unknown query parameter", body = ErrorBody),
        (status = 401, description = "Missing or wrong bearer token", body = ErrorBody),
        (status = 404, description = "No record has this id", body = ErrorBody),
        (status = 500, description = "Store failure", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn get_one(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    id: Result<Path<String>, PathRejection>,
    RawQuery(query): RawQuery,
) -> Result<Json<CallRecord>, ApiError> {
    Params::parse(query.as_deref(), &[])?;
    let Path(id) = id.map_err(|e| ApiError::bad_param("id", e.body_text()))?;
    let mut rec =
        state.inner.store.call(&id).await?.ok_or_else(|| ApiError::NotFound(format!("no call has id `{id}`")))?;
    if caller.masks_numbers() {
        rec.mask_numbers();
    }
    Ok(Json(rec))
}
