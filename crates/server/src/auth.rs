//! Bearer-token authentication: tokens from `server.api_tokens`, compared in constant
//! time; the caller's role travels to the handlers as a [`Caller`] request extension.

use crate::error::{ApiError, ServerError};
use crate::state::AppState;
use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use huadan_config::{Role, ServerConfig};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The configured tokens, kept only as SHA-256 digests so that the comparison takes the
/// same time whatever the lengths, and so the secret values are not held in the state.
#[derive(Clone, Default)]
pub struct Tokens {
    entries: Vec<([u8; 32], Role)>,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Tokens({} configured)", self.entries.len())
    }
}

fn digest(s: &str) -> [u8; 32] {
    Sha256::digest(s.as_bytes()).into()
}

impl Tokens {
    /// Read `server.api_tokens`; an empty token is an error.
    pub fn from_config(server: &ServerConfig) -> Result<Self, ServerError> {
        let mut entries = Vec::with_capacity(server.api_tokens.len());
        for (index, t) in server.api_tokens.iter().enumerate() {
            let value = t.secret().expose();
            if value.trim().is_empty() {
                return Err(ServerError::EmptyToken { index });
            }
            entries.push((digest(value), t.role()));
        }
        Ok(Tokens { entries })
    }

    /// True when no token is configured (the API is open, loopback only).
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The role of `presented`, if it is a configured token. Every configured token is
    /// compared (no early exit), each in constant time.
    pub fn role_of(&self, presented: &str) -> Option<Role> {
        let d = digest(presented);
        let mut found: Option<Role> = None;
        for (want, role) in &self.entries {
            let hit: bool = want.ct_eq(&d).into();
            if hit && found.is_none() {
                found = Some(*role);
            }
        }
        found
    }
}

/// Who is asking, as established by [`require_token`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caller {
    /// The token's role (admin when no tokens are configured).
    pub role: Role,
}

impl Caller {
    /// Whether phone numbers must be masked for this caller.
    pub fn masks_numbers(&self) -> bool {
        self.role == Role::Viewer
    }

    /// Whether this caller may start syncs.
    pub fn may_sync(&self) -> bool {
        self.role == Role::Admin
    }
}

/// Middleware: 401 unless the request carries `Authorization: Bearer <configured token>`;
/// with no tokens configured every caller is admin (the server then only listens on
/// loopback, see [`crate::check_listen`]).
pub async fn require_token(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let tokens = &state.inner.tokens;
    let caller = if tokens.is_empty() {
        Caller { role: Role::Admin }
    } else {
        let Some(value) = req.headers().get(header::AUTHORIZATION) else {
            return ApiError::Unauthorized("missing `Authorization: Bearer <token>` header").into_response();
        };
        let presented = value.to_str().ok().and_then(|v| {
            let (scheme, rest) = v.split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
        });
        let Some(presented) = presented else {
            return ApiError::Unauthorized("the Authorization header must be `Bearer <token>`").into_response();
        };
        match tokens.role_of(presented) {
            Some(role) => Caller { role },
            None => return ApiError::Unauthorized("the bearer token is not valid").into_response(),
        }
    };
    req.extensions_mut().insert(caller);
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use huadan_config::{ApiToken, Secret};

    fn cfg(tokens: Vec<ApiToken>) -> ServerConfig {
        ServerConfig { api_tokens: tokens, ..ServerConfig::default() }
    }

    #[test]
    fn roles_by_token_and_unknown_rejected() {
        let t = Tokens::from_config(&cfg(vec![
            ApiToken::Plain(Secret::new("admin-token")),
            ApiToken::WithRole { token: Secret::new("view-token"), role: Role::Viewer },
        ]))
        .unwrap();
        assert_eq!(t.role_of("admin-token"), Some(Role::Admin));
        assert_eq!(t.role_of("view-token"), Some(Role::Viewer));
        assert_eq!(t.role_of("admin-toke"), None);
        assert_eq!(t.role_of(""), None);
        assert_eq!(format!("{t:?}"), "Tokens(2 configured)");
    }

    #[test]
    fn empty_token_is_refused() {
        let err = Tokens::from_config(&cfg(vec![ApiToken::Plain(Secret::new("  "))])).unwrap_err();
        assert!(err.to_string().contains("api_tokens[0] is empty"), "{err}");
    }
}
