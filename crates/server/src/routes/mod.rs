//! The routes, merged in one place ([`router`]). Every `/v1` route and `/metrics` need a
//! bearer token; `/healthz` and `/openapi.json` do not.

pub mod calls;
pub mod export;
pub(crate) mod params_doc;
pub mod recordings;
pub mod sources;
pub mod stats;
pub mod system;

use crate::auth::{self, Caller};
use crate::error::ApiError;
use crate::metrics;
use crate::params::Params;
use crate::state::AppState;
use axum::Router;
use axum::http::Uri;
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use huadan_store::CallFilter;

/// The whole API over `state`.
pub fn router(state: AppState) -> Router {
    let protected = Router::new()
        .route("/v1/calls", get(calls::list))
        .route("/v1/calls/{id}", get(calls::get_one))
        .route("/v1/calls/{id}/recordings/{n}", get(recordings::get_one))
        .route("/v1/stats", get(stats::stats))
        .route("/v1/export.csv", get(export::csv))
        .route("/v1/export.jsonl", get(export::jsonl))
        .route("/v1/sources", get(sources::list))
        .route("/v1/sources/{name}/sync", post(sources::sync))
        .route("/metrics", get(system::metrics))
        .route_layer(middleware::from_fn_with_state(state.clone(), auth::require_token));
    let open = Router::new().route("/healthz", get(system::healthz)).route("/openapi.json", get(system::openapi));
    let dashboard = huadan_dashboard::router(std::sync::Arc::new(state.clone()));
    protected
        .merge(open)
        .merge(dashboard)
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(state.clone(), metrics::count_requests))
        .with_state(state)
}

async fn not_found(uri: Uri) -> Response {
    ApiError::NotFound(format!("no route for `{}`", uri.path())).into_response()
}

async fn method_not_allowed() -> Response {
    ApiError::MethodNotAllowed.into_response()
}

/// The filter of a request; viewers may not filter by number (a substring search
/// would reveal the masked digits one at a time).
pub(crate) fn caller_filter(caller: &Caller, params: &Params, state: &AppState) -> Result<CallFilter, ApiError> {
    let filter = params.filter(&state.inner.tz)?;
    if filter.number.is_some() && caller.masks_numbers() {
        return Err(ApiError::Forbidden("viewer tokens cannot filter by phone number"));
    }
    Ok(filter)
}
