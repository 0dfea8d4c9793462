//! [`AppState`] as the dashboard's host: its store, time zone, tokens and sources.

use crate::state::AppState;
use huadan_config::Role;
use huadan_dashboard::{DashboardHost, SourceEntry};
use huadan_store::DynStore;
use jiff::tz::TimeZone;

impl DashboardHost for AppState {
    fn store(&self) -> &DynStore {
        &self.inner.store
    }

    fn timezone(&self) -> &TimeZone {
        &self.inner.tz
    }

    fn role_of(&self, bearer: Option<&str>) -> Option<Role> {
        // The same rule as `/v1`: with no tokens configured every caller is admin.
        if self.inner.tokens.is_empty() {
            return Some(Role::Admin);
        }
        self.inner.tokens.role_of(bearer?)
    }

    fn sources(&self) -> Vec<SourceEntry> {
        self.inner
            .sources
            .iter()
            .map(|s| SourceEntry {
                name: s.name.clone(),
                provider: s.provider,
                enabled: s.enabled,
                running: self.inner.scheduler.is_running(&s.name),
            })
            .collect()
    }
}
