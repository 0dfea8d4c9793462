//! REST API, exports and dashboard (PLACEHOLDER until the query-surface issue).
