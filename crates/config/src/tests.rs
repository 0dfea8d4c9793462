use super::*;

fn env(name: &str) -> Option<String> {
    match name {
        "SECRET" => Some("s3cr3t".into()),
        "EMPTY" => Some(String::new()),
        _ if name.ends_with("_ID") || name.ends_with("SECRET") || name.ends_with("TOKEN") || name.ends_with("KEY") => {
            Some(format!("v-{name}"))
        }
        _ => None,
    }
}

fn parse(text: &str) -> Result<Config, ConfigError> {
    Config::from_toml_str(text, &env)
}

const ONE: &str = r#"
[[sources]]
name = "w"
kind = "wecom"
endpoint = "http://127.0.0.1:9100"
corp_id = "ww1"
corp_secret = "${SECRET}"
"#;

#[test]
fn template_parses_and_defaults_apply() {
    let cfg = parse(TEMPLATE).expect("template must parse");
    assert_eq!(cfg.sources.len(), 5);
    assert_eq!(cfg.store.url, "sqlite://huadan.db");
    assert_eq!(cfg.sync.backfill_days, 30);
    let kinds: Vec<_> = cfg.sources.iter().map(|s| s.kind).collect();
    assert_eq!(kinds, Provider::ALL.to_vec());
}

#[test]
fn env_is_interpolated_into_vendor_settings() {
    let cfg = parse(ONE).unwrap();
    let s = &cfg.sources[0];
    assert_eq!(s.settings["corp_secret"].as_str(), Some("s3cr3t"));
    assert!(s.enabled);
    assert!(!s.settings.contains_key("name"));
}

#[test]
fn missing_env_names_variable_and_key() {
    let err = parse(&ONE.replace("${SECRET}", "${NOPE}")).unwrap_err();
    assert_eq!(err, ConfigError::MissingEnv { var: "NOPE".into(), key: "sources.w.corp_secret".into() });
    assert!(err.to_string().contains("NOPE") && err.to_string().contains("sources.w.corp_secret"));
}

#[test]
fn empty_env_value_is_kept_not_missing() {
    let cfg = parse(&ONE.replace("${SECRET}", "${EMPTY}")).unwrap();
    assert_eq!(cfg.sources[0].settings["corp_secret"].as_str(), Some(""));
}

#[test]
fn unknown_top_level_and_section_keys_are_named() {
    let err = parse("colour = 1").unwrap_err();
    assert!(matches!(&err, ConfigError::UnknownKey { key, .. } if key == "colour"), "{err}");
    let err = parse("[sync]\nbackfil_days = 3").unwrap_err();
    assert!(err.to_string().contains("backfil_days"), "{err}");
}

#[test]
fn vendor_settings_unknown_key_names_key_and_source() {
    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct W {
        corp_id: String,
        corp_secret: Secret,
    }
    let cfg = parse(&format!("{ONE}corp_secert = \"x\"\n")).unwrap();
    let err = cfg.sources[0].vendor_settings::<W>().unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("corp_secert") && msg.contains("`w`"), "{msg}");
}

#[test]
fn bad_kind_duplicate_name_and_bad_url() {
    let err = parse(&ONE.replace("\"wecom\"", "\"wechat\"")).unwrap_err();
    assert!(matches!(&err, ConfigError::BadKind { kind, source_name, .. } if kind == "wechat" && source_name == "w"));
    assert!(err.to_string().contains("tencent_ccc"));

    let err = parse(&format!("{ONE}{ONE}")).unwrap_err();
    assert_eq!(err, ConfigError::DuplicateSource { name: "w".into() });

    let err = parse(&ONE.replace("http://127.0.0.1:9100", "127.0.0.1:9100")).unwrap_err();
    assert!(matches!(&err, ConfigError::BadUrl { key, .. } if key == "sources.w.endpoint"), "{err}");
    let err = parse(&ONE.replace("http://127.0.0.1:9100", "ftp://x")).unwrap_err();
    assert!(matches!(err, ConfigError::BadUrl { .. }));
}

#[test]
fn bad_values_name_their_key() {
    let err = parse(&format!("{ONE}requests_per_minute = -3\n")).unwrap_err();
    assert!(err.to_string().contains("sources.w.requests_per_minute"), "{err}");
    let err = parse("[store]\nurl = \"mysql://x\"").unwrap_err();
    assert!(err.to_string().contains("store.url"), "{err}");
    let err = parse("timezone = \"Mars/Olympus\"").unwrap_err();
    assert!(err.to_string().contains("timezone"), "{err}");
    let err = parse(&ONE.replace("name = \"w\"", "name = \"a:b\"")).unwrap_err();
    assert!(err.to_string().contains("sources[0].name"), "{err}");
    let err = parse("[[sources]]\nname=\"x\"\nendpoint=\"http://h\"").unwrap_err();
    assert!(err.to_string().contains("sources.x.kind"), "{err}");
}

#[test]
fn toml_syntax_error_gives_line() {
    let err = parse("[store]\nurl = \"sqlite://x\"\n[sync\n").unwrap_err();
    assert!(matches!(err, ConfigError::Parse { line: Some(3), .. }), "{err:?}");
}

#[test]
fn api_tokens_plain_and_viewer() {
    let cfg = parse("[server]\napi_tokens = [\"${SECRET}\", { token = \"v\", role = \"viewer\" }]").unwrap();
    assert_eq!(cfg.server.api_tokens[0].role(), Role::Admin);
    assert_eq!(cfg.server.api_tokens[0].secret().expose(), "s3cr3t");
    assert_eq!(cfg.server.api_tokens[1].role(), Role::Viewer);
}

#[test]
fn secrets_never_print() {
    let s = Secret::new("hunter2");
    assert_eq!(format!("{s}"), "********");
    assert!(!format!("{s:?}").contains("hunter2"));
    let cfg = parse("[server]\napi_tokens = [\"${SECRET}\"]").unwrap();
    assert!(!format!("{cfg:?}").contains("s3cr3t"));
    let cfg = parse(ONE).unwrap();
    let dbg = format!("{cfg:?}");
    assert!(!dbg.contains("s3cr3t") && dbg.contains("corp_secret=<redacted>"), "{dbg}");
}
