//! Query-parameter descriptions for the OpenAPI document (the parsing itself is in
//! [`crate::params`], which rejects anything not listed here).

#![allow(dead_code)]

use crate::openapi::schemas::{DirectionSchema, DispositionSchema, GroupBySchema, NonEmptyString, ProviderSchema};
use utoipa::IntoParams;

/// The shared filters.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FilterParams {
    /// Source name; repeat for several.
    #[param(style = Form, explode, value_type = Option<Vec<NonEmptyString>>)]
    source: Option<Vec<String>>,
    /// Provider kind; repeat for several.
    #[param(style = Form, explode, inline)]
    provider: Option<Vec<ProviderSchema>>,
    /// Calls started at or after this time: RFC 3339, `YYYY-MM-DD` or
    /// `YYYY-MM-DD HH:MM:SS` (without an offset: the configured time zone).
    #[param(
        min_length = 1,
        pattern = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?(Z|[+-][0-9]{2}:[0-9]{2})?)?$"
    )]
    since: Option<String>,
    /// Calls started before this time (same forms as `since`).
    #[param(
        min_length = 1,
        pattern = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?(Z|[+-][0-9]{2}:[0-9]{2})?)?$"
    )]
    until: Option<String>,
    /// Direction; repeat for several.
    #[param(style = Form, explode, inline)]
    direction: Option<Vec<DirectionSchema>>,
    /// Disposition; repeat for several.
    #[param(style = Form, explode, inline)]
    disposition: Option<Vec<DispositionSchema>>,
    /// Agent id or exact agent name.
    #[param(min_length = 1)]
    agent: Option<String>,
    /// Part of the caller's or callee's number (not allowed for viewer tokens).
    #[param(min_length = 1)]
    number: Option<String>,
    /// Text the transcript contains (Chinese phrases work; 1–2 characters too).
    #[param(min_length = 1)]
    text: Option<String>,
}

/// Paging of `/v1/calls`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Page size, 1 to 1000 (default 50).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    #[param(min_length = 1)]
    cursor: Option<String>,
}

/// Grouping of `/v1/stats`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatsParams {
    /// How to group (default `provider`).
    #[param(inline)]
    by: Option<GroupBySchema>,
}

/// CSV options.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CsvParams {
    /// Start with a UTF-8 byte-order mark (Excel on Chinese Windows).
    bom: Option<bool>,
}
