//! Every configuration error ends the real binary with exit code 2 and one sentence
//! that names the key (and source) at fault; nothing panics, no secret is printed.

use std::process::{Command, Output};

const GOOD: &str = r#"
timezone = "Asia/Shanghai"

[store]
url = "sqlite://STORE"

[[sources]]
name = "ads"
kind = "tencent_ads"
endpoint = "http://127.0.0.1:9103"
access_token = "s3cr3t-token-value"
account_id = 1
"#;

fn run_with(config: &str, args: &[&str]) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huadan.toml");
    let config = config.replace("STORE", &dir.path().join("h.db").display().to_string());
    std::fs::write(&path, config).unwrap();
    Command::new(env!("CARGO_BIN_EXE_huadan"))
        .arg("--config")
        .arg(&path)
        .args(args)
        .env_remove("HUADAN_TEST_MISSING_VAR")
        .env_remove("RUST_LOG")
        .output()
        .unwrap()
}

/// Run `calls` and `stats` with `config`; both must exit 2 with every `needles` named.
fn expect_config_error(config: &str, needles: &[&str]) {
    for cmd in [&["calls"][..], &["stats", "--by", "day"][..]] {
        let out = run_with(config, cmd);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{cmd:?}: {stderr}");
        for n in needles {
            assert!(stderr.contains(n), "{cmd:?}: `{n}` not named in: {stderr}");
        }
        assert!(stderr.trim_start().starts_with("error: "), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert!(!stderr.contains("s3cr3t-token-value"), "secret printed: {stderr}");
        assert!(out.stdout.is_empty(), "nothing on stdout on error");
    }
}

#[test]
fn the_good_config_works() {
    let out = run_with(GOOD, &["calls"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn missing_env_var_names_the_variable_and_the_key() {
    let cfg = GOOD.replace("\"s3cr3t-token-value\"", "\"${HUADAN_TEST_MISSING_VAR}\"");
    expect_config_error(&cfg, &["HUADAN_TEST_MISSING_VAR", "access_token"]);
}

#[test]
fn unknown_top_level_key_is_named() {
    expect_config_error(&GOOD.replace("timezone = \"Asia/Shanghai\"", "colour = \"blue\""), &["colour"]);
}

#[test]
fn unknown_section_key_is_named() {
    expect_config_error(&GOOD.replace("[store]\n", "[store]\npool = 3\n"), &["pool"]);
}

#[test]
fn unknown_source_key_names_key_and_source() {
    expect_config_error(&GOOD.replace("account_id = 1", "account_id = 1\nacount = 2"), &["acount", "ads"]);
}

#[test]
fn bad_kind_names_the_kind_and_source() {
    expect_config_error(
        &GOOD.replace("kind = \"tencent_ads\"", "kind = \"tencent\""),
        &["tencent", "ads", "tencent_ads"],
    );
}

#[test]
fn duplicate_source_name_is_named() {
    let dup = format!("{GOOD}\n{}", &GOOD[GOOD.find("[[sources]]").unwrap()..]);
    expect_config_error(&dup, &["ads", "unique"]);
}

#[test]
fn malformed_endpoint_url_names_the_key() {
    expect_config_error(&GOOD.replace("http://127.0.0.1:9103", "not a url"), &["endpoint", "not a url"]);
    expect_config_error(&GOOD.replace("http://127.0.0.1:9103", "ftp://127.0.0.1"), &["endpoint"]);
}

#[test]
fn malformed_store_url_names_the_key() {
    expect_config_error(&GOOD.replace("sqlite://STORE", "mysql://127.0.0.1/db"), &["store.url"]);
}

#[test]
fn bad_timezone_names_the_key() {
    expect_config_error(&GOOD.replace("Asia/Shanghai", "Mars/Olympus"), &["timezone"]);
}

#[test]
fn invalid_toml_names_the_line() {
    expect_config_error(&GOOD.replace("account_id = 1", "account_id = = 1"), &["line"]);
}

#[test]
fn missing_config_file_says_how_to_make_one() {
    let out = Command::new(env!("CARGO_BIN_EXE_huadan"))
        .args(["--config", "/nonexistent/huadan.toml", "calls"])
        .env_remove("HUADAN_CONFIG")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("huadan init"));
}

#[test]
fn an_unopenable_store_is_a_runtime_error() {
    let out = run_with(&GOOD.replace("sqlite://STORE", "sqlite:///nonexistent-dir/x/h.db"), &["calls"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("does not exist"), "{stderr}");
}
