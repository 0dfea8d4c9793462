//! The API's one error type ([`ApiError`]: status + JSON body in one `IntoResponse`) and
//! the server's start-up / run error ([`ServerError`]).

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use huadan_store::StoreError;
use serde::Serialize;

/// Everything a request can fail with. Each variant has one HTTP status and one stable
/// `code`; the body is always `{ "error": { "code", "message" } }`.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// No `Authorization: Bearer …` header, or a token that is not configured.
    #[error("{0}")]
    Unauthorized(&'static str),
    /// The token is valid but its role may not do this.
    #[error("{0}")]
    Forbidden(&'static str),
    /// A query parameter this route does not know.
    #[error("unknown query parameter `{0}`")]
    UnknownParameter(String),
    /// A query parameter whose value cannot be used.
    #[error("query parameter `{param}`: {message}")]
    BadParameter {
        /// The parameter's name.
        param: String,
        /// What is wrong with its value.
        message: String,
    },
    /// A `cursor` this server did not issue (or that no longer decodes).
    #[error("query parameter `cursor`: not a cursor this server issued ({0})")]
    BadCursor(String),
    /// The thing named in the path does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The HTTP method is not served on this path.
    #[error("method not allowed on this path")]
    MethodNotAllowed,
    /// A sync of this source is already running.
    #[error("a sync of source `{0}` is already running")]
    SyncRunning(String),
    /// The source is configured with `enabled = false`.
    #[error("source `{0}` is disabled (enabled = false in the config)")]
    SourceDisabled(String),
    /// The store failed; the details go to the log, never to the client.
    #[error("internal error")]
    Internal(String),
}

impl ApiError {
    /// Shorthand for [`ApiError::BadParameter`].
    pub fn bad_param(param: &str, message: impl Into<String>) -> Self {
        ApiError::BadParameter { param: param.to_string(), message: message.into() }
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::UnknownParameter(_) | ApiError::BadParameter { .. } | ApiError::BadCursor(_) => {
                StatusCode::BAD_REQUEST
            }
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::SyncRunning(_) | ApiError::SourceDisabled(_) => StatusCode::CONFLICT,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Unauthorized(_) => "unauthorized",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::UnknownParameter(_) => "unknown_parameter",
            ApiError::BadParameter { .. } => "bad_parameter",
            ApiError::BadCursor(_) => "bad_cursor",
            ApiError::NotFound(_) => "not_found",
            ApiError::MethodNotAllowed => "method_not_allowed",
            ApiError::SyncRunning(_) => "sync_running",
            ApiError::SourceDisabled(_) => "source_disabled",
            ApiError::Internal(_) => "internal",
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::BadCursor(m) => ApiError::BadCursor(m),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

/// The JSON body of every error answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// What went wrong.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Stable machine-readable code: `unauthorized`, `forbidden`, `unknown_parameter`,
    /// `bad_parameter`, `bad_cursor`, `not_found`, `method_not_allowed`,
    /// `sync_running`, `source_disabled`, `internal`.
    pub code: String,
    /// One sentence for people.
    pub message: String,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Internal(detail) = &self {
            tracing::error!(error = %detail, "request failed");
        }
        let status = self.status();
        let body = ErrorBody { error: ErrorDetail { code: self.code().to_string(), message: self.to_string() } };
        let mut resp = (status, Json(body)).into_response();
        if status == StatusCode::UNAUTHORIZED {
            resp.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        resp
    }
}

/// Why the server could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// No API tokens are configured and the listen address is not loopback: the API
    /// would be open to the network.
    #[error(
        "refusing to listen on {addr}: server.api_tokens is empty, so the API would be open to anyone who can reach \
         this address; add a token to server.api_tokens or listen on 127.0.0.1"
    )]
    OpenOnNetwork {
        /// The address asked for.
        addr: String,
    },
    /// A configured token is an empty string (an environment variable set to nothing?).
    #[error("server.api_tokens[{index}] is empty; every token must be a non-empty string")]
    EmptyToken {
        /// Position in the list.
        index: usize,
    },
    /// The configuration cannot be used (time zone, a source's settings).
    #[error(transparent)]
    Config(#[from] huadan_config::ConfigError),
    /// Accepting connections or serving failed.
    #[error("server I/O error: {0}")]
    Io(#[from] std::io::Error),
}
