//! The seed document's own examples, parsed verbatim and normalised to an expected
//! record; and the source settings (CONTRACT.md §1).

mod common;

use common::*;
use huadan_model::{Agent, CallRecord, Direction, Disposition, DurationPrecision, Party, Provider};
use huadan_tencent_ads::wire::{CallRecordWire, Envelope, ListData};
use huadan_vendor::{Vendor, Window};
use serde_json::Value;

const SEED_ANSWER: &str = include_str!("fixtures/seed_list_answer.json");
const SEED_REQUEST: &str = include_str!("fixtures/seed_request_example.txt");

fn expected_seed_record(raw: Value) -> CallRecord {
    let id = "clouspstn_16-230110-7186854205522307833167331989018423960427189";
    let mut r = CallRecord::new("ads", Provider::TencentAds, id, t("2023-01-10T03:04:50Z"));
    r.account = Some("20458".into());
    r.direction = Direction::Outbound;
    r.caller = Party::number("13810433402");
    r.callee = Party::number("13717983965");
    r.agent = Some(Agent { phone: Some("13810433402".into()), ..Agent::default() });
    r.ringing_at = Some(t("2023-01-10T03:04:51Z"));
    r.answered_at = Some(t("2023-01-10T03:05:00Z"));
    r.ended_at = Some(t("2023-01-10T03:05:14Z"));
    r.talk_seconds = Some(14);
    r.ring_seconds = Some(9);
    r.total_seconds = Some(24);
    r.duration_precision = DurationPrecision::Second;
    r.disposition = Disposition::Answered;
    r.disposition_detail = "0".into();
    r.channel = Some("pstn".into());
    r.lead_id = Some("218000154".into());
    r.raw = raw.into();
    r
}

#[test]
fn seed_answer_parses_verbatim() {
    let env: Envelope<ListData> = serde_json::from_str(SEED_ANSWER).unwrap();
    assert_eq!(env.code, 0);
    let data = env.data.unwrap();
    let info = data.page_info.unwrap();
    assert_eq!(
        (info.page, info.page_size, info.total_number, info.total_page),
        (Some(2), Some(10), Some(99), Some(10))
    );
    assert_eq!(data.request_id.as_deref(), Some("223255a1-2d02-44d0-8c1b-7217302de746"));
    assert_eq!(data.entities.len(), 1);
    let raw = data.entities[0].clone();
    let got = huadan_tencent_ads::normalize::normalize("ads", &raw).unwrap();
    assert_eq!(got, expected_seed_record(raw.clone()));
    // The contract's JSON view: UTC instants with a Z, the id from source and call_id.
    let json = serde_json::to_value(&got).unwrap();
    assert_eq!(json["id"], "ads:clouspstn_16-230110-7186854205522307833167331989018423960427189");
    assert_eq!(json["started_at"], "2023-01-10T03:04:50Z");
    assert_eq!(json["direction"], "outbound");
    assert_eq!(json["raw"], raw);
}

#[test]
fn seed_record_round_trips_through_the_fakes_wire_type() {
    let env: Value = serde_json::from_str(SEED_ANSWER).unwrap();
    let raw = env["data"]["entities"][0].clone();
    let wire: CallRecordWire = serde_json::from_value(raw.clone()).unwrap();
    // What the fake serialises has exactly the vendor's keys and values.
    assert_eq!(serde_json::to_value(&wire).unwrap(), raw);
    let whole: Envelope<ListData<CallRecordWire>> = serde_json::from_str(SEED_ANSWER).unwrap();
    assert_eq!(serde_json::to_value(&whole).unwrap(), env);
}

/// The seed's curl example names the parameters our client sends (and shows that the
/// vendor's own example would be refused: its dates are 61 days apart).
#[tokio::test]
async fn seed_request_example_parameters_match_the_client() {
    let mut names: Vec<&str> = vec!["access_token", "nonce"];
    for line in SEED_REQUEST.lines().filter(|l| l.starts_with("-d '")) {
        names.push(line.trim_start_matches("-d '").split('=').next().unwrap());
    }
    assert!(SEED_REQUEST.contains("tamp=<TIMESTAMP>"));
    names.push("timestamp");
    let seen = std::sync::Arc::new(parking_lot::Mutex::new(Vec::<String>::new()));
    let s2 = seen.clone();
    let router = axum::Router::new().route(
        "/v3.0/leads_call_records/get",
        axum::routing::get(move |q: axum::extract::RawQuery| {
            let s2 = s2.clone();
            async move {
                s2.lock().push(q.0.unwrap_or_default());
                SEED_ANSWER
            }
        }),
    );
    let endpoint = serve_router(router).await;
    let run = Running {
        endpoint,
        token: "0123456789abcdef0123456789abcdef".into(),
        account_id: 2045867,
        ctx: context(dataset(1, 1, 10, "2023-01-11T00:00:00Z"), &[]),
    };
    // A mid-day window of 2023-01-10: the client jumps there with search_after.
    let w = Window::new(gmt8("2023-01-10 09:00:00"), gmt8("2023-01-10 12:00:00"));
    let page = run.client(10).fetch(&w, None).await.unwrap();
    assert_eq!(page.records.len(), 1);
    assert_eq!(page.records[0], expected_seed_record(page.records[0].raw.to_value()));
    let query = seen.lock()[0].clone();
    let mut sent: Vec<&str> = query.split('&').map(|kv| kv.split('=').next().unwrap()).collect();
    sent.sort();
    names.sort();
    assert_eq!(sent, names);
    assert!(query.contains("start_date=2023-01-10") && query.contains("end_date=2023-01-10"), "{query}");
    assert!(query.contains("search_after=2023-01-10+08%3A59%3A59"), "{query}");
    // A page of 10 holding one record is the last page.
    assert!(page.next.is_none());
}

#[test]
fn settings_keys_as_in_the_contract() {
    let toml = |extra: &str| {
        format!(
            "[[sources]]\nname = \"tencent-ads\"\nkind = \"tencent_ads\"\nendpoint = \"https://api.e.qq.com\"\n\
             access_token = \"${{TENCENT_ADS_ACCESS_TOKEN}}\"\n{extra}"
        )
    };
    let env = |name: &str| match name {
        "TENCENT_ADS_ACCESS_TOKEN" => Some("s3cr3t0123456789abcdef0123456789".to_string()),
        "ADS_ACCOUNT" => Some("2045867".to_string()),
        _ => None,
    };
    let cfg =
        huadan_config::Config::from_toml_str(&toml("account_id = 2045867\nrequests_per_minute = 600"), &env).unwrap();
    let v = huadan_tencent_ads::build(&cfg.sources[0]).unwrap();
    assert_eq!(v.provider(), Provider::TencentAds);
    assert_eq!(v.source(), "tencent-ads");
    assert_eq!(v.limits().quota.per_minute, Some(600), "config override applies");
    assert_eq!(v.limits().min_span, jiff::SignedDuration::from_hours(24));
    // account_id through ${ENV} arrives as a string of digits.
    let cfg = huadan_config::Config::from_toml_str(&toml("account_id = \"${ADS_ACCOUNT}\""), &env).unwrap();
    assert!(huadan_tencent_ads::build(&cfg.sources[0]).is_ok());
    // Unknown and missing keys are errors naming the key and the source.
    let cfg = huadan_config::Config::from_toml_str(&toml("account_id = 1\npage_size = 5"), &env).unwrap();
    let err = huadan_tencent_ads::build(&cfg.sources[0]).err().unwrap().to_string();
    assert!(err.contains("page_size") && err.contains("tencent-ads"), "{err}");
    let cfg = huadan_config::Config::from_toml_str(&toml(""), &env).unwrap();
    let err = huadan_tencent_ads::build(&cfg.sources[0]).err().unwrap().to_string();
    assert!(err.contains("account_id"), "{err}");
    let cfg = huadan_config::Config::from_toml_str(&toml("account_id = -3"), &env).unwrap();
    assert!(huadan_tencent_ads::build(&cfg.sources[0]).is_err());
    // The token never shows in Debug output.
    let settings: huadan_tencent_ads::Settings =
        huadan_config::Config::from_toml_str(&toml("account_id = 1"), &env).unwrap().sources[0]
            .vendor_settings()
            .unwrap();
    assert!(!format!("{settings:?}").contains("s3cr3t"));
    let client = huadan_tencent_ads::client::Client::new(
        "x",
        &"https://api.e.qq.com".parse().unwrap(),
        settings.access_token,
        1,
        huadan_vendor::http::Http::new(std::time::Duration::from_secs(1)),
        huadan_tencent_ads::client::documented_limits(),
    );
    assert!(!format!("{client:?}").contains("s3cr3t"));
}
