//! `GET /v1/stats`.

use super::caller_filter;
use super::params_doc::{FilterParams, StatsParams};
use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};
use crate::openapi::schemas::{GroupBySchema, StatsRowSchema};
use crate::params::{FILTER_PARAMS, Params};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Extension, RawQuery, State};
use huadan_store::{GroupBy, StatsRow};
use serde::Serialize;
use utoipa::ToSchema;

/// Aggregates, one row per group.
#[derive(Debug, Serialize, ToSchema)]
pub struct StatsResponse {
    /// The grouping used.
    #[schema(value_type = GroupBySchema)]
    pub by: GroupBy,
    /// One row per group: count, answered, answered rate, total / mean / p90 talk
    /// seconds, first and last call.
    #[schema(value_type = Vec<StatsRowSchema>)]
    pub rows: Vec<StatsRow>,
}

/// Counts, answered rate and talk time, grouped.
#[utoipa::path(
    get,
    path = "/v1/stats",
    tag = "stats",
    params(StatsParams, FilterParams),
    responses(
        (status = 200, description = "Aggregates per group", body = StatsResponse),
        (status = 400, description = "Unknown or malformed parameter", body = ErrorBody),
        (status = 401, description = "Missing or wrong bearer token", body = ErrorBody),
        (status = 403, description = "Viewer tokens cannot filter by number", body = ErrorBody),
        (status = 500, description = "Store failure", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn stats(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    RawQuery(query): RawQuery,
) -> Result<Json<StatsResponse>, ApiError> {
    let params = Params::parse(query.as_deref(), &[FILTER_PARAMS, &["by"]])?;
    let filter = caller_filter(&caller, &params, &state)?;
    let by = params.group_by()?;
    let rows = state.inner.store.stats(&filter, by, &state.inner.tz).await?;
    Ok(Json(StatsResponse { by, rows }))
}
