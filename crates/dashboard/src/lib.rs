//! huadan's dashboard: the web page a call-centre lead opens every morning.
//!
//! Served at `/`. The page itself is a small shell (HTML, CSS and a little hand-written
//! JS, all embedded in the binary with `include_str!`); after login it fetches
//! server-rendered HTML fragments (with inline SVG charts) from `/ui/…` with
//! `Authorization: Bearer <token>`, the same tokens and roles as `/v1`: viewer tokens see
//! every phone number masked and cannot filter by number; the "sync now" button posts to
//! `/v1/sources/{name}/sync`, which the API itself guards.
//!
//! Labels are Simplified Chinese by default, English with `lang=en`.
//!
//! The server mounts it with one line, given any state implementing [`DashboardHost`]:
//!
//! ```no_run
//! # fn mount(api: axum::Router, host: std::sync::Arc<dyn huadan_dashboard::DashboardHost>) -> axum::Router {
//! api.merge(huadan_dashboard::router(host))
//! # }
//! ```

mod assets;
mod auth;
mod charts;
mod error;
mod format;
mod i18n;
pub mod overview;
mod pages;
mod query;

pub use error::UiError;
pub use i18n::Lang;
pub use overview::{DayFigures, Overview, overview};

use axum::Router;
use axum::routing::get;
use huadan_config::Role;
use huadan_model::Provider;
use huadan_store::DynStore;
use jiff::tz::TimeZone;
use std::sync::Arc;

/// A configured source as the Sources page shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceEntry {
    /// The source's name.
    pub name: String,
    /// Its vendor.
    pub provider: Provider,
    /// `enabled = false` sources are listed but never synced.
    pub enabled: bool,
    /// Whether a sync of it is running right now.
    pub running: bool,
}

/// What the dashboard needs from the server hosting it.
pub trait DashboardHost: Send + Sync + 'static {
    /// The store to read.
    fn store(&self) -> &DynStore;

    /// The configured time zone (days, hours and the period are taken in it).
    fn timezone(&self) -> &TimeZone;

    /// The role of a request's bearer token (`None` when the request had no
    /// `Authorization: Bearer` header). `None` refuses the request (401). A host with no
    /// tokens configured answers `Some(Role::Admin)` for every request, as `/v1` does.
    fn role_of(&self, bearer: Option<&str>) -> Option<Role>;

    /// The configured sources, in config order (sources with stored records but no
    /// config entry are listed after them by the dashboard itself).
    fn sources(&self) -> Vec<SourceEntry> {
        Vec::new()
    }
}

/// The dashboard's routes: `/` (the page), `/assets/*` (CSS, JS, icon) and the
/// bearer-protected fragments under `/ui/`. Their state is `host`, so the router fits
/// into an app of any state type `S` (merge it before adding the app's fallback).
pub fn router<S: Clone + Send + Sync + 'static>(host: Arc<dyn DashboardHost>) -> Router<S> {
    Router::new()
        .route("/", get(assets::index))
        .route("/assets/app.css", get(assets::css))
        .route("/assets/app.js", get(assets::js))
        .route("/assets/icon.svg", get(assets::icon))
        .route("/ui/whoami", get(pages::whoami))
        .route("/ui/overview", get(pages::overview_page))
        .route("/ui/agents", get(pages::agents_page))
        .route("/ui/calls", get(pages::calls_page))
        .route("/ui/calls/{id}", get(pages::call_page))
        .route("/ui/sources", get(pages::sources_page))
        .with_state(host)
}
