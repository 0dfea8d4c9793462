//! The HTTP plumbing every vendor client shares: one pooled client per source, a
//! timeout on every request, and a uniform mapping of transport failures and
//! unreadable bodies to [`FetchError`].

use crate::FetchError;
use bytes::Bytes;
use std::time::Duration;

/// Default per-request timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// A pooled HTTP client with a per-request timeout.
#[derive(Debug, Clone)]
pub struct Http {
    client: reqwest::Client,
    timeout: Duration,
}

/// A received answer: status, headers and the whole body.
#[derive(Debug, Clone)]
pub struct Answer {
    /// HTTP status code.
    pub status: u16,
    /// Response headers.
    pub headers: reqwest::header::HeaderMap,
    /// The body.
    pub body: Bytes,
}

impl Http {
    /// A client whose every request times out after `timeout`.
    pub fn new(timeout: Duration) -> Self {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .pool_max_idle_per_host(16)
            .tcp_nodelay(true)
            .user_agent(concat!("huadan/", env!("CARGO_PKG_VERSION")))
            .build()
            .unwrap_or_else(|_| reqwest::Client::new());
        Http { client, timeout }
    }

    /// A client with the source's `timeout_seconds` (default 30 s).
    pub fn for_source(source: &huadan_config::SourceConfig) -> Self {
        Self::new(source.timeout_seconds.map(Duration::from_secs).unwrap_or(DEFAULT_TIMEOUT))
    }

    /// The underlying client, to build requests with.
    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// Send a request and read the whole body, mapping timeouts and transport errors.
    /// Any status is returned as an [`Answer`]: the vendor decides what a 4xx body means.
    pub async fn send(&self, request: reqwest::RequestBuilder) -> Result<Answer, FetchError> {
        let response = request.send().await.map_err(|e| self.map_err(e))?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.bytes().await.map_err(|e| self.map_err(e))?;
        Ok(Answer { status, headers, body })
    }

    fn map_err(&self, e: reqwest::Error) -> FetchError {
        if e.is_timeout() {
            FetchError::Timeout(self.timeout)
        } else {
            // reqwest's Display never includes query strings' secrets beyond the URL; strip
            // the URL entirely so that an access token in a query string is never logged.
            FetchError::Transport(e.without_url().to_string())
        }
    }
}

impl Answer {
    /// Parse the body as JSON into `T`; an empty, truncated, HTML or wrongly shaped body
    /// is a [`FetchError::BadAnswer`] (retryable), with a 5xx status a
    /// [`FetchError::Http`].
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T, FetchError> {
        match serde_json::from_slice::<T>(&self.body) {
            Ok(v) => Ok(v),
            Err(_) if self.status >= 400 => {
                Err(FetchError::Http { status: self.status, snippet: crate::error::snippet(&self.body) })
            }
            Err(e) if self.body.is_empty() => {
                Err(FetchError::bad_answer(format!("empty body (HTTP {}): {e}", self.status), &self.body))
            }
            Err(e) => Err(FetchError::bad_answer(format!("HTTP {}: {e}", self.status), &self.body)),
        }
    }

    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// A [`FetchError::Http`] for this answer.
    pub fn http_error(&self) -> FetchError {
        FetchError::Http { status: self.status, snippet: crate::error::snippet(&self.body) }
    }
}
