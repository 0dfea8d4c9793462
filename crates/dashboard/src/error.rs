//! [`UiError`]: what a fragment request can fail with, answered as a small HTML notice
//! (the page shows it in place) with the matching status.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use huadan_store::StoreError;

/// A fragment request failed.
#[derive(Debug, thiserror::Error)]
pub enum UiError {
    /// No or wrong bearer token.
    #[error("the bearer token is missing or not valid")]
    Unauthorized,
    /// The token's role may not do this.
    #[error("{0}")]
    Forbidden(&'static str),
    /// A form value that cannot be used.
    #[error("`{param}`: {message}")]
    BadParameter {
        /// The field.
        param: String,
        /// What is wrong.
        message: String,
    },
    /// Nothing has this id.
    #[error("{0}")]
    NotFound(String),
    /// The store failed (details go to the log only).
    #[error("internal error")]
    Store(#[from] StoreError),
}

impl UiError {
    /// Shorthand for [`UiError::BadParameter`].
    pub fn bad(param: &str, message: impl std::fmt::Display) -> Self {
        UiError::BadParameter { param: param.to_string(), message: message.to_string() }
    }

    fn status(&self) -> StatusCode {
        match self {
            UiError::Unauthorized => StatusCode::UNAUTHORIZED,
            UiError::Forbidden(_) => StatusCode::FORBIDDEN,
            UiError::BadParameter { .. } => StatusCode::BAD_REQUEST,
            UiError::NotFound(_) => StatusCode::NOT_FOUND,
            UiError::Store(StoreError::BadCursor(_)) => StatusCode::BAD_REQUEST,
            UiError::Store(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for UiError {
    fn into_response(self) -> Response {
        if let UiError::Store(e) = &self {
            tracing::error!(error = %e, "dashboard request failed");
        }
        let status = self.status();
        let body = format!("<div class=\"notice error\">{}</div>", crate::format::esc(&self.to_string()));
        let mut resp = (status, Html(body)).into_response();
        if status == StatusCode::UNAUTHORIZED {
            resp.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        resp
    }
}
