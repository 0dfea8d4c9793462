//! The commented `huadan.toml` that `huadan init` writes.

/// A complete, commented configuration; every `${VAR}` must be set in the environment
/// (or replaced) before use. A test parses it, so it never drifts from the parser.
pub const TEMPLATE: &str = r#"# huadan.toml — every call record from every platform, in one place you control.
# Any string may reference an environment variable as ${NAME}; a missing variable is an
# error naming the variable. Remove the sources you do not use.

# Time zone for times given without an offset (CLI --since/--until) and per-day stats.
timezone = "Asia/Shanghai"

[store]
# sqlite://PATH (embedded, the default) or postgres://user:pass@host:5432/db
url = "sqlite://huadan.db"

[server]
listen = "127.0.0.1:8080"
# Bearer tokens for the REST API. A plain string has full access; a viewer sees phone
# numbers masked:  { token = "${HUADAN_VIEWER_TOKEN}", role = "viewer" }
api_tokens = ["${HUADAN_API_TOKEN}"]

[sync]
backfill_days = 30        # the first sync of a source starts this far back
interval_seconds = 300    # how often `huadan serve` / `huadan sync --follow` polls

# Every source also accepts: requests_per_second / requests_per_minute (the quota to
# stay under; defaults are each vendor's documented limit), lookback_seconds (how far
# before the checkpoint an incremental run starts again) and enabled = false.

[[sources]]
name = "wecom-hq"                      # unique; becomes part of every record id
kind = "wecom"                         # WeCom public phone (企业微信公费电话)
endpoint = "https://qyapi.weixin.qq.com"
corp_id = "${WECOM_CORP_ID}"
corp_secret = "${WECOM_DIAL_SECRET}"

[[sources]]
name = "tencent-ccc"
kind = "tencent_ccc"                   # Tencent Cloud Contact Center (腾讯云联络中心)
endpoint = "https://ccc.tencentcloudapi.com"
secret_id = "${TENCENTCLOUD_SECRET_ID}"
secret_key = "${TENCENTCLOUD_SECRET_KEY}"
region = "ap-guangzhou"
sdk_app_id = 1400000000

[[sources]]
name = "aliyun-ccc"
kind = "aliyun_ccc"                    # Alibaba Cloud Contact Center (阿里云云呼叫中心)
endpoint = "https://ccc.cn-shanghai.aliyuncs.com"
access_key_id = "${ALIBABA_CLOUD_ACCESS_KEY_ID}"
access_key_secret = "${ALIBABA_CLOUD_ACCESS_KEY_SECRET}"
instance_id = "ccc-test"

[[sources]]
name = "tencent-ads"
kind = "tencent_ads"                   # Tencent Ads lead calls (腾讯广告)
endpoint = "https://api.e.qq.com"
access_token = "${TENCENT_ADS_ACCESS_TOKEN}"
account_id = 2045867

[[sources]]
name = "tanma"
kind = "tanma"                         # Tanma SCRM work phones (探马)
endpoint = "https://tanma.example.invalid"   # your Tanma open-API host
app_id = "${TANMA_APP_ID}"
app_key = "${TANMA_APP_KEY}"
app_secret = "${TANMA_APP_SECRET}"
"#;
