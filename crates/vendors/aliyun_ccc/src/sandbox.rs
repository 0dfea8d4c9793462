//! The sandbox fake of Alibaba Cloud CCC's `ListCallDetailRecords` (RPC, 2020-07-01).
//!
//! What it reproduces (VENDORS.md § aliyun_ccc):
//! * both signatures: ACS3-HMAC-SHA256 (following the request's own `SignedHeaders`,
//!   which must cover `host`, `x-acs-date` and `x-acs-signature-nonce`) and RPC v1
//!   (HMAC-SHA1 over the sorted query); a reused `SignatureNonce` →
//!   `SignatureNonceUsed`; a timestamp more than 15 minutes off the wall clock →
//!   `InvalidTimeStamp.Expired`; unknown key → `InvalidAccessKeyId.NotFound`; wrong
//!   secret → `SignatureDoesNotMatch`. Errors are HTTP 4xx/5xx with
//!   `{"RequestId","HostId","Code","Message","Recommend"}`;
//! * `PageNumber` and `PageSize` 1–100 (page 101 is `InvalidParameter`), so a query
//!   reaches 10,000 records at most;
//! * `TotalCount` only on page 1 (0 on later pages);
//! * newest first unless `SortOrder=ASC`; `StartTime` / `EndTime` in milliseconds,
//!   `EndTime` inclusive; defaults: start of today (GMT+8) .. now; `ContactId` ignores
//!   every other filter;
//! * the quota (10 requests/second, `Throttling.User`), injected `ratelimit` and
//!   `token_expiry` (`InvalidTimeStamp.Expired`) faults, and record updates (a recording
//!   becomes ready, a satisfaction score arrives).
//!
//! Switches (`--option aliyun_ccc.NAME=true`): `string_numbers` answers every number and
//! boolean as a string, like the doc's example; `doc_fields` uses the doc page's field
//! set (`Satisfaction`, no `TalkTime`…) instead of the SDK model's; `forbidden` answers
//! `Forbidden.RAM` (an AccessKey without the CCC permission).

use crate::auth;
use crate::wire::{self, CallDetailRecord, ErrorBody};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use huadan_fakekit::generate::{self, AgentProfile};
use huadan_fakekit::{CallSeed, Fake, FakeContext, FakeQuota, FaultKind, mix};
use huadan_model::{Instant, Provider, time};
use jiff::SignedDuration;
use rand::Rng;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

/// The instance id the sandbox serves.
pub const INSTANCE_ID: &str = "ccc-sandbox";
/// The documented quota the fake enforces (requests per second).
pub const QUOTA_PER_SECOND: u32 = 10;
/// Allowed clock skew of a signed request.
pub const MAX_SKEW: SignedDuration = SignedDuration::from_mins(15);
const PROVIDER: Provider = Provider::AliyunCcc;

/// The credentials of a sandbox seeded with `seed`.
pub fn credentials(seed: u64) -> (String, String) {
    let ak = format!("LTAI5t{:016X}", mix(&[seed, 0xA11]) >> 4);
    let secret = format!("{:016x}{:016x}", mix(&[seed, 0x5EC, 1]), mix(&[seed, 0x5EC, 2]));
    (ak, secret[..30].to_string())
}

struct Sandbox {
    ctx: FakeContext,
    access_key_id: String,
    secret: String,
    roster: Vec<AgentProfile>,
    hotline: String,
    quota: FakeQuota,
    nonces: Mutex<HashMap<String, i64>>,
    /// Window totals by (start, end, now), so that paging a window counts it once.
    counts: Mutex<HashMap<CacheKey, u64>>,
}

/// (start ms, end ms, clock ms or 0 once settled).
type CacheKey = (i64, i64, i64);

/// A window's cache key: its bounds, plus the clock reading while calls may still
/// appear in it (late calls come up to 20 minutes late); a window that ended well
/// before now never changes.
fn cache_key(start: Instant, end: Instant, now: Instant) -> CacheKey {
    let settled = end.checked_add(SignedDuration::from_mins(80)).is_ok_and(|t| t <= now);
    (start.as_millisecond(), end.as_millisecond(), if settled { 0 } else { now.as_millisecond() })
}

/// Build the fake.
pub fn fake(ctx: FakeContext) -> Fake {
    let seed = ctx.dataset.spec().seed;
    let (access_key_id, secret) = credentials(seed);
    let mut credentials = serde_json::Map::new();
    credentials.insert("access_key_id".into(), access_key_id.clone().into());
    credentials.insert("access_key_secret".into(), secret.clone().into());
    credentials.insert("instance_id".into(), INSTANCE_ID.into());
    let sandbox = Arc::new(Sandbox {
        quota: FakeQuota::new(Some(QUOTA_PER_SECOND), None, ctx.limits),
        roster: generate::roster(seed, 24),
        hotline: format!("0571{:08}", 20_000_000 + mix(&[seed, 0x407]) % 70_000_000),
        ctx,
        access_key_id,
        secret,
        nonces: Mutex::new(HashMap::new()),
        counts: Mutex::new(HashMap::new()),
    });
    let router = axum::Router::new()
        .route("/", axum::routing::any(handle))
        .fallback(|| async {
            render(
                error(
                    StatusCode::NOT_FOUND,
                    "InvalidAction.NotFound",
                    "Specified api is not found, please check your url and method.",
                ),
                "",
            )
        })
        .with_state(sandbox);
    Fake { router, credentials }
}

/// An error answer of the vendor: HTTP status, code and message.
#[derive(Debug)]
struct ApiError {
    status: StatusCode,
    code: String,
    message: String,
}

/// An error in the vendor's shape (rendered with the request id by [`render`]).
fn error(status: StatusCode, code: &str, message: &str) -> ApiError {
    ApiError { status, code: code.into(), message: message.into() }
}

/// `{"RequestId","HostId","Code","Message","Recommend"}` with the error's status.
fn render(e: ApiError, request_id: &str) -> Response {
    let body = ErrorBody {
        request_id: Some(if request_id.is_empty() {
            "00000000-0000-0000-0000-000000000000".into()
        } else {
            request_id.into()
        }),
        recommend: Some(format!("https://api.aliyun.com/troubleshoot?q={}&product=CCC", e.code)),
        code: Some(e.code),
        message: Some(e.message),
        host_id: Some("ccc.cn-shanghai.aliyuncs.com".into()),
    };
    let json = serde_json::to_string(&body).unwrap_or_default();
    (e.status, [(header::CONTENT_TYPE, "application/json;charset=utf-8")], json).into_response()
}

/// Percent-decode a query component (`+` is a space, as form encoding writes it).
fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                match u8::from_str_radix(std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("zz"), 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 3;
                    }
                    Err(_) => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `a=1&b=2` → map (decoded; the last of repeated keys wins).
fn parse_pairs(q: &str) -> BTreeMap<String, String> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (decode(k), decode(v)),
            None => (decode(p), String::new()),
        })
        .collect()
}

fn request_id(parts: &[u64]) -> String {
    let h = mix(parts);
    let l = mix(&[h, 1]);
    format!(
        "{:08X}-{:04X}-{:04X}-{:04X}-{:012X}",
        h >> 32,
        (h >> 16) & 0xFFFF,
        h & 0xFFFF,
        l >> 48,
        l & 0xFFFF_FFFF_FFFF
    )
}

/// Who signed, and what the request asked for.
struct Verified {
    action: String,
    version: String,
}

impl Sandbox {
    /// How many calls `[start, end)` holds now (cached per window and clock reading).
    fn count(&self, start: Instant, end: Instant, now: Instant) -> u64 {
        let key = cache_key(start, end, now);
        if let Some(n) = self.counts.lock().unwrap_or_else(|p| p.into_inner()).get(&key) {
            return *n;
        }
        let n = self.ctx.dataset.count_between(PROVIDER, start, end);
        let mut counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        if counts.len() > 4096 {
            counts.clear();
        }
        counts.insert(key, n);
        n
    }

    /// Check the request's signature (ACS3 or v1), timestamp and nonce.
    fn verify(
        &self,
        method: &Method,
        uri: &Uri,
        headers: &HeaderMap,
        params: &BTreeMap<String, String>,
        body: &[u8],
    ) -> Result<Verified, ApiError> {
        let bad = |status: StatusCode, code: &str, msg: &str| {
            self.ctx.counters.incr("auth_failures");
            Err(error(status, code, msg))
        };
        let authz = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).unwrap_or("");
        if authz.starts_with("ACS3-") {
            let Some(a) = auth::parse_acs3_authorization(authz) else {
                return bad(
                    StatusCode::BAD_REQUEST,
                    "IncompleteSignature",
                    "The request signature does not conform to Aliyun standards.",
                );
            };
            if a.access_key_id != self.access_key_id {
                return bad(StatusCode::NOT_FOUND, "InvalidAccessKeyId.NotFound", "Specified access key is not found.");
            }
            for required in ["host", "x-acs-date", "x-acs-signature-nonce"] {
                if !a.signed_headers.iter().any(|h| h == required) {
                    return bad(
                        StatusCode::BAD_REQUEST,
                        "IncompleteSignature",
                        &format!(
                            "The request signature does not conform to Aliyun standards. SignedHeaders must include {required}."
                        ),
                    );
                }
            }
            let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
            self.check_time(&header("x-acs-date"))?;
            let mut signed_values: BTreeMap<String, Vec<String>> = BTreeMap::new();
            for name in &a.signed_headers {
                let vals: Vec<String> =
                    headers.get_all(name.as_str()).iter().filter_map(|v| v.to_str().ok()).map(String::from).collect();
                signed_values.insert(name.clone(), vals);
            }
            let payload = auth::sha256_hex(body);
            let cr = auth::acs3_canonical_request(
                method.as_str(),
                uri.path(),
                params,
                &signed_values,
                &a.signed_headers,
                &payload,
            );
            let expected = auth::sign_acs3(&cr, &self.secret);
            if !auth::same_signature(&expected, &a.signature) {
                return bad(
                    StatusCode::BAD_REQUEST,
                    "SignatureDoesNotMatch",
                    &format!(
                        "Specified signature does not match our calculation. The canonical request is: {}",
                        cr.replace('\n', "\\n")
                    ),
                );
            }
            self.check_nonce(&header("x-acs-signature-nonce"))?;
            self.ctx.counters.incr("signed_acs3");
            Ok(Verified { action: header("x-acs-action"), version: header("x-acs-version") })
        } else if let Some(signature) = params.get("Signature") {
            let p = |k: &str| params.get(k).cloned().unwrap_or_default();
            if p("AccessKeyId") != self.access_key_id {
                return bad(StatusCode::NOT_FOUND, "InvalidAccessKeyId.NotFound", "Specified access key is not found.");
            }
            if p("SignatureMethod") != "HMAC-SHA1" || p("SignatureVersion") != "1.0" {
                return bad(
                    StatusCode::BAD_REQUEST,
                    "InvalidParameter",
                    "SignatureMethod must be HMAC-SHA1 and SignatureVersion 1.0.",
                );
            }
            self.check_time(&p("Timestamp"))?;
            let mut unsigned = params.clone();
            unsigned.remove("Signature");
            let expected = auth::sign_v1(method.as_str(), &unsigned, &self.secret);
            if !auth::same_signature(&expected, signature) {
                let sts =
                    format!("{}&%2F&{}", method.as_str(), auth::percent_encode(&auth::canonical_query(&unsigned)));
                return bad(
                    StatusCode::BAD_REQUEST,
                    "SignatureDoesNotMatch",
                    &format!("Specified signature is not matched with our calculation. server string to sign is:{sts}"),
                );
            }
            self.check_nonce(&p("SignatureNonce"))?;
            self.ctx.counters.incr("signed_v1");
            Ok(Verified { action: p("Action"), version: p("Version") })
        } else {
            bad(
                StatusCode::BAD_REQUEST,
                "MissingSignature",
                "The input parameter \"Signature\" that is mandatory for processing this request is not supplied.",
            )
        }
    }

    /// The timestamp must be within 15 minutes of the wall clock (auth uses real time,
    /// not the dataset's clock).
    fn check_time(&self, ts: &str) -> Result<(), ApiError> {
        let Ok(t) = ts.parse::<Instant>() else {
            self.ctx.counters.incr("auth_failures");
            return Err(error(
                StatusCode::BAD_REQUEST,
                "InvalidTimeStamp.Format",
                "Specified time stamp or date value is not well formatted.",
            ));
        };
        let skew = Instant::now().duration_since(t).abs();
        if skew > MAX_SKEW {
            self.ctx.counters.incr("auth_failures");
            self.ctx.counters.incr("skew_refused");
            return Err(error(
                StatusCode::BAD_REQUEST,
                "InvalidTimeStamp.Expired",
                "Specified time stamp or date value is expired.",
            ));
        }
        Ok(())
    }

    fn check_nonce(&self, nonce: &str) -> Result<(), ApiError> {
        if nonce.is_empty() {
            self.ctx.counters.incr("auth_failures");
            return Err(error(
                StatusCode::BAD_REQUEST,
                "MissingSignatureNonce",
                "SignatureNonce is mandatory for this action.",
            ));
        }
        let now = Instant::now().as_second();
        let mut seen = self.nonces.lock().unwrap_or_else(|p| p.into_inner());
        if seen.len() > 50_000 {
            seen.retain(|_, t| now - *t < 2 * MAX_SKEW.as_secs());
        }
        if seen.insert(nonce.to_string(), now).is_some() {
            self.ctx.counters.incr("nonce_reused");
            return Err(error(
                StatusCode::BAD_REQUEST,
                "SignatureNonceUsed",
                "Specified signature nonce was used already.",
            ));
        }
        Ok(())
    }
}

async fn handle(State(s): State<Arc<Sandbox>>, method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    s.ctx.counters.incr("requests");
    if let Some(r) = s.ctx.generic_fault().await {
        return r;
    }
    let mut params = parse_pairs(uri.query().unwrap_or(""));
    let is_form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let acs3 = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with("ACS3-"));
    if is_form && !acs3 {
        // v1 over POST may carry its parameters in a form body.
        params.extend(parse_pairs(&String::from_utf8_lossy(&body)));
    }
    let seed = s.ctx.dataset.spec().seed;
    let rid = request_id(&[
        seed,
        s.ctx.counters.get("requests"),
        mix(&params
            .iter()
            .filter(|(k, _)| !matches!(k.as_str(), "Signature" | "SignatureNonce" | "Timestamp"))
            .map(|(k, v)| mix(&[k.len() as u64, hash_str(k), hash_str(v)]))
            .collect::<Vec<_>>()),
    ]);
    match answer(&s, &method, &uri, &headers, &params, &body, &rid) {
        Ok(resp) => {
            let json = if s.ctx.flag("aliyun_ccc.string_numbers") {
                let mut value = serde_json::to_value(&resp).unwrap_or_default();
                wire::stringify_scalars(&mut value);
                serde_json::to_string(&value).unwrap_or_default()
            } else {
                // Straight from the typed records: the same bytes as through a `Value`,
                // into one buffer sized for the page.
                let n = resp.data.as_ref().map_or(0, |d| d.list.len());
                let mut buf = Vec::with_capacity(512 + n * 1536);
                match serde_json::to_writer(&mut buf, &resp) {
                    Ok(()) => String::from_utf8(buf).unwrap_or_default(),
                    Err(_) => String::new(),
                }
            };
            (
                StatusCode::OK,
                [
                    (header::CONTENT_TYPE, "application/json;charset=utf-8"),
                    (header::HeaderName::from_static("x-acs-request-id"), rid.as_str()),
                ],
                json,
            )
                .into_response()
        }
        Err(e) => render(e, &rid),
    }
}

/// A successful answer as served: [`wire::ListResponse`] with typed records, serialised
/// directly (the same keys, order and omissions as `ListResponse`/`ListData`).
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ListAnswer {
    #[serde(skip_serializing_if = "Option::is_none")]
    request_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    http_status_code: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    data: Option<ListAnswerData>,
}

/// [`wire::ListData`] with typed records.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ListAnswerData {
    #[serde(skip_serializing_if = "Option::is_none")]
    total_count: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    page_number: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    page_size: Option<i64>,
    list: Vec<CallDetailRecord>,
}

/// Verify, check the action, the quota and the injected faults, then list.
fn answer(
    s: &Sandbox,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    params: &BTreeMap<String, String>,
    body: &[u8],
    rid: &str,
) -> Result<ListAnswer, ApiError> {
    let v = s.verify(method, uri, headers, params, body)?;
    if v.action != wire::ACTION {
        return Err(error(
            StatusCode::NOT_FOUND,
            "InvalidAction.NotFound",
            "Specified api is not found, please check your url and method.",
        ));
    }
    if v.version != wire::VERSION {
        return Err(error(StatusCode::BAD_REQUEST, "InvalidVersion", "Specified parameter Version is not valid."));
    }
    if s.ctx.flag("aliyun_ccc.forbidden") {
        return Err(error(
            StatusCode::FORBIDDEN,
            "Forbidden.RAM",
            "User not authorized to operate on the specified resource, or this API doesn't support RAM.",
        ));
    }
    if s.quota.check().is_err() || s.ctx.faults.roll(FaultKind::RateLimit) {
        s.ctx.counters.incr("rate_limited");
        return Err(error(
            StatusCode::TOO_MANY_REQUESTS,
            "Throttling.User",
            "Request was denied due to user flow control.",
        ));
    }
    if s.ctx.faults.roll(FaultKind::TokenExpiry) {
        s.ctx.counters.incr("auth_failures");
        return Err(error(
            StatusCode::BAD_REQUEST,
            "InvalidTimeStamp.Expired",
            "Specified time stamp or date value is expired.",
        ));
    }
    list(s, params, rid)
}

fn hash_str(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ b as u64).wrapping_mul(0x0100_0000_01b3))
}

fn int_param(params: &BTreeMap<String, String>, name: &str) -> Result<Option<i64>, ApiError> {
    match params.get(name).map(|v| v.trim()).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => v.parse::<i64>().map(Some).map_err(|_| {
            error(StatusCode::BAD_REQUEST, "InvalidParameter", &format!("The specified parameter {name} is not valid."))
        }),
    }
}

/// Answer one list request.
fn list(s: &Sandbox, params: &BTreeMap<String, String>, rid: &str) -> Result<ListAnswer, ApiError> {
    let ctx = &s.ctx;
    let missing = |name: &str| {
        error(
            StatusCode::BAD_REQUEST,
            "MissingParameter",
            &format!("The input parameter \"{name}\" that is mandatory for processing this request is not supplied."),
        )
    };
    let instance = params.get("InstanceId").cloned().unwrap_or_default();
    if instance.is_empty() {
        return Err(missing("InstanceId"));
    }
    if instance != INSTANCE_ID {
        return Err(error(
            StatusCode::NOT_FOUND,
            "NotExists.InstanceId",
            &format!("The specified instance {instance} does not exist."),
        ));
    }
    let page = int_param(params, "PageNumber")?.ok_or_else(|| missing("PageNumber"))?;
    let size = int_param(params, "PageSize")?.ok_or_else(|| missing("PageSize"))?;
    if !(1..=wire::MAX_PAGE_NUMBER as i64).contains(&page) {
        ctx.counters.incr("page_limit_refused");
        return Err(error(
            StatusCode::BAD_REQUEST,
            "InvalidParameter",
            "The specified parameter PageNumber is out of range [1, 100].",
        ));
    }
    if !(1..=wire::MAX_PAGE_SIZE as i64).contains(&size) {
        return Err(error(
            StatusCode::BAD_REQUEST,
            "InvalidParameter",
            "The specified parameter PageSize is out of range [1, 100].",
        ));
    }
    let now = ctx.dataset.now();
    let today = time::gmt8_day_start(time::gmt8_date(now));
    let start = match int_param(params, "StartTime")? {
        Some(ms) => time::from_unix_millis(ms)
            .map_err(|e| error(StatusCode::BAD_REQUEST, "InvalidParameter", &e.to_string()))?,
        None => today,
    };
    // EndTime is inclusive: the half-open range ends one millisecond later.
    let end = match int_param(params, "EndTime")? {
        Some(ms) => time::from_unix_millis(ms.saturating_add(1))
            .map_err(|e| error(StatusCode::BAD_REQUEST, "InvalidParameter", &e.to_string()))?,
        None => now,
    };
    let ascending = params.get("SortOrder").is_some_and(|v| v.eq_ignore_ascii_case("ASC"));
    let (page, size) = (page as u64, size as u64);
    let filters: Vec<(&str, String)> =
        ["ContactId", "ContactType", "ContactDisposition", "CallingNumber", "CalledNumber", "AgentId", "SkillGroupId"]
            .iter()
            .filter_map(|k| params.get(*k).filter(|v| !v.is_empty()).map(|v| (*k, v.clone())))
            .collect();

    let (total, seeds): (u64, Vec<CallSeed>) = if filters.is_empty() && end > start {
        let count = s.count(start, end, now);
        let from = (page - 1) * size;
        let to = (page * size).min(count);
        // The dataset keeps recently generated hours, so paging a window generates
        // its edge hours once and skips the others by count.
        let seeds = if from >= to {
            Vec::new()
        } else if ascending {
            ctx.dataset.page(PROVIDER, start, end, from, (to - from) as usize)
        } else {
            let mut v = ctx.dataset.page(PROVIDER, start, end, count - to, (to - from) as usize);
            v.reverse();
            v
        };
        (count, seeds)
    } else {
        // Filtered: generate and match (ContactId ignores every other parameter).
        let (fs, fe, only_id) = match filters.iter().find(|(k, _)| *k == "ContactId") {
            Some((_, id)) => match contact_id_second(id) {
                Some(sec) => {
                    let t = Instant::from_second(sec).unwrap_or(Instant::UNIX_EPOCH);
                    (t, t + SignedDuration::from_secs(1), true)
                }
                None => (start, start, true),
            },
            None => (start, end, false),
        };
        let mut matched: Vec<CallSeed> = ctx
            .dataset
            .calls_between(PROVIDER, fs, fe)
            .filter(|c| {
                let rec = s.record(c.clone(), now);
                filters.iter().filter(|(k, _)| !only_id || *k == "ContactId").all(|(k, v)| matches_filter(&rec, k, v))
            })
            .collect();
        if !ascending {
            matched.reverse();
        }
        let total = matched.len() as u64;
        let seeds = matched.into_iter().skip(((page - 1) * size) as usize).take(size as usize).collect();
        (total, seeds)
    };
    let list: Vec<CallDetailRecord> = seeds.into_iter().map(|c| s.record(c, now)).collect();
    ctx.counters.incr("pages_served");
    ctx.counters.add("records_served", list.len() as u64);
    Ok(ListAnswer {
        request_id: Some(rid.to_string()),
        code: Some("OK".into()),
        http_status_code: Some(200),
        message: Some("Success".into()),
        data: Some(ListAnswerData {
            // Trap: only page 1 carries the total.
            total_count: Some(if page == 1 { total as i64 } else { 0 }),
            page_number: Some(page as i64),
            page_size: Some(size as i64),
            list,
        }),
    })
}

fn matches_filter(r: &CallDetailRecord, key: &str, value: &str) -> bool {
    let has = |list: &Option<String>| list.as_deref().unwrap_or("").split(',').any(|x| x == value);
    match key {
        "ContactId" => r.contact_id.as_deref() == Some(value),
        "ContactType" => r.contact_type.as_deref() == Some(value),
        "ContactDisposition" => r.contact_disposition.as_deref() == Some(value),
        "CallingNumber" => r.calling_number.as_deref() == Some(value),
        "CalledNumber" => r.called_number.as_deref() == Some(value),
        "AgentId" => has(&r.agent_ids),
        "SkillGroupId" => has(&r.skill_group_ids),
        _ => true,
    }
}

/// The `ContactId` the fake gives a call: `job-` + its start second + 8 digits (18
/// digits, like the doc's `job-125152394144124921`).
pub fn contact_id(c: &CallSeed) -> String {
    format!("job-{}{:08}", c.at.as_second(), mix(&[c.key, 0x1D]) % 100_000_000)
}

/// `job-<unix seconds><8 digits>` → the second the call started.
fn contact_id_second(id: &str) -> Option<i64> {
    let digits = id.strip_prefix("job-")?;
    if digits.len() != 18 {
        return None;
    }
    digits[..10].parse().ok()
}

/// The SDK's `ReleaseReason` texts by disposition.
fn release_reason(disposition: &str, initiator: &str) -> &'static str {
    match (disposition, initiator) {
        ("Success", "agent") => "坐席挂机",
        ("Success", _) => "客户挂机",
        ("NoAnswer", _) => "无人接听",
        ("Reject", _) => "客户拒接",
        _ => "客户放弃",
    }
}

impl Sandbox {
    /// One wire record, drawn from the call's own RNG; after its `updated_at` the second
    /// version (recording ready, satisfaction filled in).
    fn record(&self, mut c: CallSeed, now: Instant) -> CallDetailRecord {
        let updated = self.ctx.dataset.updated_at(&c);
        let second_version = updated.is_some_and(|t| t <= now);
        let first_of_two = updated.is_some() && !second_version;
        if second_version {
            self.ctx.counters.incr("updated_served");
        }
        let rng = &mut c.rng;
        let contact_type = *generate::weighted(rng, &[("Inbound", 45), ("Outbound", 40), ("Back2Back", 15)]);
        let inbound = contact_type == "Inbound";
        let disposition = if inbound {
            *generate::weighted(
                rng,
                &[
                    ("Success", 72),
                    ("AbandonedInContactFlow", 7),
                    ("AbandonedInQueue", 9),
                    ("AbandonedRing", 6),
                    ("NoAnswer", 6),
                ],
            )
        } else {
            *generate::weighted(rng, &[("Success", 55), ("NoAnswer", 30), ("Reject", 15)])
        };
        let answered = disposition == "Success";
        let customer = generate::customer_number(rng);
        let agent = &self.roster[rng.gen_range(0..self.roster.len())];
        let second_agent = (answered && rng.gen_bool(0.08)).then(|| &self.roster[rng.gen_range(0..self.roster.len())]);
        let ivr = if inbound { rng.gen_range(4..40i64) } else { 0 };
        let queue = if inbound && disposition != "AbandonedInContactFlow" { rng.gen_range(0..60i64) } else { 0 };
        let ring = generate::ring_seconds(rng);
        let talk = if answered { generate::talk_seconds(rng) } else { 0 };
        let held = if answered && rng.gen_bool(0.1) { rng.gen_range(5..60i64) } else { 0 };
        let initiator = if answered {
            if rng.gen_bool(0.55) { "customer" } else { "agent" }
        } else if inbound {
            "customer"
        } else {
            "agent"
        };
        let satisfaction_offered = answered && inbound && rng.gen_bool(0.5);
        let satisfaction = rng.gen_range(1..=5i64);
        let (province, city) = generate::LOCATIONS[rng.gen_range(0..generate::LOCATIONS.len())];

        let start_ms = c.at.as_millisecond();
        let reached_agent = !matches!(disposition, "AbandonedInContactFlow" | "AbandonedInQueue");
        let pre = (ivr + queue) * 1000;
        let established = answered.then_some(start_ms + pre + ring * 1000);
        let release = match established {
            Some(e) => e + (talk + held) * 1000,
            None => start_ms + pre + if reached_agent { ring * 1000 } else { 0 },
        };
        // CallDuration: inbound counts from IVR entry; outbound from connection.
        let call_duration = if inbound { (release - start_ms) / 1000 } else { talk + held };
        let doc_fields = self.ctx.flag("aliyun_ccc.doc_fields");
        let instance = INSTANCE_ID;
        let mut agent_ids = String::new();
        let mut agent_names = String::new();
        let mut skill_ids = String::new();
        let mut skill_names = String::new();
        if reached_agent {
            let agents: Vec<&AgentProfile> = std::iter::once(agent).chain(second_agent).collect();
            agent_ids = agents.iter().map(|a| format!("{}@{instance}", a.id)).collect::<Vec<_>>().join(",");
            agent_names = agents.iter().map(|a| a.name.clone()).collect::<Vec<_>>().join(",");
            let mut groups: Vec<&str> = agents.iter().map(|a| a.skill_group.as_str()).collect();
            groups.dedup();
            skill_ids = groups
                .iter()
                .map(|g| format!("skg-{:x}@{instance}", hash_str(g) % 0xFFFF))
                .collect::<Vec<_>>()
                .join(",");
            skill_names = groups.join(",");
        }
        let recording_ready = answered && !first_of_two;
        let show_satisfaction = satisfaction_offered && !first_of_two;
        let (calling, called) =
            if inbound { (customer, self.hotline.clone()) } else { (self.hotline.clone(), customer) };
        let location = Some(format!("{province} {city}"));
        let opt = |s: String| (!s.is_empty()).then_some(s);
        let mut r = CallDetailRecord {
            contact_id: Some(contact_id(&c)),
            instance_id: Some(instance.into()),
            contact_type: Some(contact_type.into()),
            contact_disposition: Some(disposition.into()),
            calling_number: Some(calling),
            called_number: Some(called),
            agent_ids: opt(agent_ids),
            agent_names: opt(agent_names),
            skill_group_ids: opt(skill_ids),
            skill_group_names: opt(skill_names),
            start_time: Some(start_ms),
            established_time: established,
            release_time: Some(release),
            call_duration: Some(call_duration),
            recording_ready: Some(recording_ready),
            release_initiator: Some(initiator.into()),
            satisfaction_survey_offered: Some(satisfaction_offered),
            satisfaction_survey_channel: satisfaction_offered.then(|| "IVR".into()),
            ..CallDetailRecord::default()
        };
        if doc_fields {
            r.satisfaction = show_satisfaction.then(|| satisfaction.to_string());
        } else {
            r.satisfaction_index = show_satisfaction.then(|| satisfaction.to_string());
            r.satisfaction_description = show_satisfaction
                .then(|| ["非常不满意", "不满意", "一般", "满意", "非常满意"][(satisfaction - 1) as usize].to_string());
            r.talk_time = Some(talk);
            r.ring_time = Some(if reached_agent { ring } else { 0 });
            r.ivr_time = Some(ivr);
            r.queue_time = Some(queue);
            r.wait_time = Some(queue + if reached_agent { ring } else { 0 });
            r.held_time = Some(held);
            r.recording_duration = Some(if recording_ready { talk + held } else { 0 });
            r.release_reason = Some(release_reason(disposition, initiator).into());
            if inbound {
                r.caller_location = location;
                r.callee_location = Some("浙江 杭州".into());
            } else {
                r.caller_location = Some("浙江 杭州".into());
                r.callee_location = location;
            }
        }
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_query_components() {
        let m = parse_pairs("a=b%20c&d=%2A%7E&e=x+y&f");
        assert_eq!(m["a"], "b c");
        assert_eq!(m["d"], "*~");
        assert_eq!(m["e"], "x y");
        assert_eq!(m["f"], "");
        assert_eq!(decode("100%"), "100%");
        assert_eq!(decode("%E9%BB%98"), "默");
    }

    #[test]
    fn typed_answer_serialises_as_the_wire_response_does() {
        use huadan_fakekit::{Clock, Dataset, DatasetSpec};
        let spec = DatasetSpec { seed: 5, days: 2, calls_per_day: 300, late: 0.0, update: 0.3 };
        let ctx = FakeContext::new(Dataset::new(spec, Clock::fixed("2025-03-25T06:00:00Z".parse().unwrap())));
        let seed = ctx.dataset.spec().seed;
        let s = Sandbox {
            quota: FakeQuota::new(Some(QUOTA_PER_SECOND), None, false),
            roster: generate::roster(seed, 24),
            hotline: "057120000000".into(),
            access_key_id: String::new(),
            secret: String::new(),
            nonces: Mutex::new(HashMap::new()),
            counts: Mutex::new(HashMap::new()),
            ctx,
        };
        let now = s.ctx.dataset.now();
        let seeds: Vec<CallSeed> =
            s.ctx.dataset.calls_between(PROVIDER, s.ctx.dataset.origin(), now).take(60).collect();
        assert_eq!(seeds.len(), 60);
        let typed = ListAnswer {
            request_id: Some("rid".into()),
            code: Some("OK".into()),
            http_status_code: Some(200),
            message: Some("Success".into()),
            data: Some(ListAnswerData {
                total_count: Some(60),
                page_number: Some(1),
                page_size: Some(60),
                list: seeds.iter().map(|c| s.record(c.clone(), now)).collect(),
            }),
        };
        let via_value = wire::ListResponse {
            request_id: Some("rid".into()),
            code: Some("OK".into()),
            http_status_code: Some(200),
            message: Some("Success".into()),
            data: Some(wire::ListData {
                total_count: Some(60),
                page_number: Some(1),
                page_size: Some(60),
                list: seeds.iter().map(|c| serde_json::to_value(s.record(c.clone(), now)).unwrap()).collect(),
            }),
        };
        let a = serde_json::to_string(&typed).unwrap();
        let b = serde_json::to_string(&serde_json::to_value(&via_value).unwrap()).unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn contact_ids_carry_their_second() {
        assert_eq!(contact_id_second("job-171000000012345678"), Some(1_710_000_000));
        assert_eq!(contact_id_second("job-125152394144124921"), Some(1_251_523_941));
        assert_eq!(contact_id_second("x"), None);
    }
}
