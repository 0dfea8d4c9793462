//! The OpenAPI 3.1 document, generated from the handlers' `#[utoipa::path]` attributes
//! and the schema types.

pub mod schemas;

use crate::error::{ErrorBody, ErrorDetail};
use crate::routes::{calls, export, recordings, sources, stats, system};
use utoipa::Modify;
use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "huadan",
        description = "Call detail records from five telephony / CRM platforms, normalised into one shape. \
                       Every /v1 route and /metrics need `Authorization: Bearer <token>`; viewer tokens see \
                       phone numbers masked. Errors are `{ \"error\": { \"code\", \"message\" } }`."
    ),
    paths(
        calls::list,
        calls::get_one,
        recordings::get_one,
        stats::stats,
        export::csv,
        export::jsonl,
        sources::list,
        sources::sync,
        system::healthz,
        system::metrics,
        system::openapi,
    ),
    components(schemas(ErrorBody, ErrorDetail, schemas::NonEmptyString)),
    modifiers(&BearerAuth)
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The document as a value.
pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    doc.info.version = env!("CARGO_PKG_VERSION").to_string();
    doc
}

/// The document as JSON text.
pub fn json() -> String {
    // Serialising the document's own types cannot fail.
    document().to_json().unwrap_or_else(|_| "{}".to_string())
}

#[cfg(test)]
mod tests {
    use huadan_model::{CallRecord, Disposition, Provider};
    use serde_json::Value;

    fn doc() -> Value {
        serde_json::from_str(&super::json()).unwrap()
    }

    #[test]
    fn call_record_schema_matches_serde() {
        let d = doc();
        let props = d["components"]["schemas"]["CallRecord"]["properties"].as_object().unwrap();
        let rec = CallRecord::new("s", Provider::Wecom, "1", huadan_model::Instant::UNIX_EPOCH);
        let v = serde_json::to_value(&rec).unwrap();
        let mut schema_keys: Vec<_> = props.keys().cloned().collect();
        let mut record_keys: Vec<_> = v.as_object().unwrap().keys().cloned().collect();
        schema_keys.sort();
        record_keys.sort();
        assert_eq!(schema_keys, record_keys);
    }

    #[test]
    fn enum_schemas_list_the_model_spellings() {
        let d = doc();
        let list = |name: &str| -> Vec<String> {
            d["components"]["schemas"][name]["enum"]
                .as_array()
                .unwrap_or_else(|| panic!("{name}: {}", d["components"]["schemas"][name]))
                .iter()
                .map(|v| v.as_str().unwrap().to_string())
                .collect()
        };
        assert_eq!(list("Provider"), Provider::ALL.iter().map(|p| p.as_str()).collect::<Vec<_>>());
        assert_eq!(list("Disposition"), Disposition::ALL.iter().map(|p| p.as_str()).collect::<Vec<_>>());
    }

    #[test]
    fn every_route_is_documented() {
        let d = doc();
        let paths = d["paths"].as_object().unwrap();
        for p in [
            "/v1/calls",
            "/v1/calls/{id}",
            "/v1/stats",
            "/v1/export.csv",
            "/v1/export.jsonl",
            "/v1/sources",
            "/v1/sources/{name}/sync",
            "/healthz",
            "/metrics",
            "/openapi.json",
        ] {
            assert!(paths.contains_key(p), "{p} missing");
        }
        assert_eq!(d["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");
    }

    /// Every `$ref` in the document points at a schema the document defines.
    #[test]
    fn every_reference_resolves() {
        fn walk(v: &Value, refs: &mut Vec<String>) {
            match v {
                Value::Object(m) => {
                    if let Some(Value::String(r)) = m.get("$ref") {
                        refs.push(r.clone());
                    }
                    m.values().for_each(|x| walk(x, refs));
                }
                Value::Array(a) => a.iter().for_each(|x| walk(x, refs)),
                _ => {}
            }
        }
        let d = doc();
        let mut refs = Vec::new();
        walk(&d, &mut refs);
        assert!(!refs.is_empty());
        for r in refs {
            let name = r.strip_prefix("#/components/schemas/").unwrap_or_else(|| panic!("odd ref {r}"));
            assert!(d["components"]["schemas"].get(name).is_some(), "{r} does not resolve");
        }
    }
}
