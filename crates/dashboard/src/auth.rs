//! Who is asking: the bearer token of a fragment request, resolved by the host to a role.

use crate::DashboardHost;
use crate::error::UiError;
use axum::http::{HeaderMap, header};
use huadan_config::Role;

/// The caller of a fragment request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Viewer {
    pub(crate) role: Role,
}

impl Viewer {
    /// Viewer tokens see every phone number masked.
    pub(crate) fn masks_numbers(self) -> bool {
        self.role == Role::Viewer
    }
}

/// The caller of a request, or 401. A malformed `Authorization` header is refused
/// outright, even by an open host.
pub(crate) fn caller(host: &dyn DashboardHost, headers: &HeaderMap) -> Result<Viewer, UiError> {
    let bearer = match headers.get(header::AUTHORIZATION) {
        None => None,
        Some(v) => {
            let v = v.to_str().map_err(|_| UiError::Unauthorized)?;
            let (scheme, rest) = v.split_once(' ').ok_or(UiError::Unauthorized)?;
            if !scheme.eq_ignore_ascii_case("bearer") {
                return Err(UiError::Unauthorized);
            }
            Some(rest.trim())
        }
    };
    host.role_of(bearer).map(|role| Viewer { role }).ok_or(UiError::Unauthorized)
}
