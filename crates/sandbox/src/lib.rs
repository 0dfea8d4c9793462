//! The sandbox: the five vendor fakes served side by side, one HTTP server per vendor,
//! each at its own root so that official SDKs can point at them unchanged
//! (CONTRACT.md §5).
//!
//! Ports `P..P+4` in the order wecom, tencent_ccc, aliyun_ccc, tencent_ads, tanma
//! (`base_port = 0` picks free ports). All five read one seeded [`Dataset`] and one
//! [`Clock`]; each has its own fault injector (seeded per vendor, so a failing run
//! replays) and its own counters, served at `GET /_huadan/sandbox/stats`.
//!
//! ```no_run
//! # async fn demo() -> Result<(), huadan_sandbox::SandboxError> {
//! let sandbox = huadan_sandbox::Sandbox::start(huadan_sandbox::SandboxOptions::default()).await?;
//! println!("{}", sandbox.info_line());
//! sandbox.shutdown().await;
//! # Ok(()) }
//! ```

mod config_file;
pub mod recordings;

use axum::routing::get;
use huadan_fakekit::{Clock, Counters, Dataset, DatasetSpec, FakeContext, FaultInjector, FaultKind, Faults};
use huadan_model::Provider;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// The vendors in port order: `base_port + i` serves `PORT_ORDER[i]`.
pub const PORT_ORDER: [Provider; 5] =
    [Provider::Wecom, Provider::TencentCcc, Provider::AliyunCcc, Provider::TencentAds, Provider::Tanma];

/// The path every fake answers with its counters.
pub const STATS_PATH: &str = "/_huadan/sandbox/stats";

/// How to run the sandbox.
#[derive(Debug, Clone)]
pub struct SandboxOptions {
    /// Address to bind (default 127.0.0.1).
    pub host: String,
    /// First port; 0 picks free ports.
    pub base_port: u16,
    /// Dataset seed, days and volume (late / update probabilities are taken from `faults`).
    pub spec: DatasetSpec,
    /// Fault probabilities.
    pub faults: Faults,
    /// Enforce the vendors' quotas (`--no-limits` switches them off).
    pub limits: bool,
    /// How long a `timeout` fault stalls.
    pub stall: Duration,
    /// Vendor-specific switches, `vendor.key` → value.
    pub options: BTreeMap<String, String>,
    /// The clock (real by default; tests may fix or advance it).
    pub clock: Clock,
}

impl Default for SandboxOptions {
    fn default() -> Self {
        SandboxOptions {
            host: "127.0.0.1".into(),
            base_port: 0,
            spec: DatasetSpec::default(),
            faults: Faults::none(),
            limits: true,
            stall: Duration::from_secs(35),
            options: BTreeMap::new(),
            clock: Clock::real(),
        }
    }
}

/// The sandbox could not start.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    /// A port could not be bound.
    #[error("cannot listen on {addr} for the {vendor} fake: {message}")]
    Bind {
        /// The address tried.
        addr: String,
        /// Which fake.
        vendor: Provider,
        /// The OS error.
        message: String,
    },
    /// A `--option` was not `vendor.key=value`.
    #[error("bad --option `{0}`: expected vendor.key=value, e.g. aliyun_ccc.string_numbers=true")]
    BadOption(String),
}

/// One running fake.
struct RunningFake {
    provider: Provider,
    addr: SocketAddr,
    credentials: Map<String, Value>,
    counters: Arc<Counters>,
    faults: Arc<FaultInjector>,
    task: JoinHandle<()>,
}

/// The five fakes, running.
pub struct Sandbox {
    fakes: Vec<RunningFake>,
    dataset: Dataset,
    stop: watch::Sender<bool>,
    limits: bool,
}

/// Parse `vendor.key=value` switches.
pub fn parse_options(items: &[String]) -> Result<BTreeMap<String, String>, SandboxError> {
    let mut out = BTreeMap::new();
    for item in items {
        let (k, v) = item.split_once('=').ok_or_else(|| SandboxError::BadOption(item.clone()))?;
        let (vendor, key) = k.split_once('.').ok_or_else(|| SandboxError::BadOption(item.clone()))?;
        if vendor.parse::<Provider>().is_err() || key.is_empty() {
            return Err(SandboxError::BadOption(item.clone()));
        }
        out.insert(k.to_string(), v.to_string());
    }
    Ok(out)
}

impl Sandbox {
    /// Bind the five ports and start serving.
    pub async fn start(options: SandboxOptions) -> Result<Sandbox, SandboxError> {
        let mut spec = options.spec;
        spec.late = options.faults.get(FaultKind::Late);
        spec.update = options.faults.get(FaultKind::Update);
        let dataset = Dataset::new(spec, options.clock.clone());
        let (stop, stop_rx) = watch::channel(false);
        let mut fakes = Vec::with_capacity(PORT_ORDER.len());
        for (i, provider) in PORT_ORDER.into_iter().enumerate() {
            let port = if options.base_port == 0 { 0 } else { options.base_port.saturating_add(i as u16) };
            let addr = format!("{}:{}", options.host, port);
            let listener = TcpListener::bind(&addr).await.map_err(|e| SandboxError::Bind {
                addr: addr.clone(),
                vendor: provider,
                message: e.to_string(),
            })?;
            let local = listener.local_addr().map_err(|e| SandboxError::Bind {
                addr: addr.clone(),
                vendor: provider,
                message: e.to_string(),
            })?;
            let counters = Arc::new(Counters::default());
            let faults = Arc::new(FaultInjector::new(options.faults, spec.seed ^ ((i as u64 + 1) << 32)));
            let ctx = FakeContext {
                dataset: dataset.clone(),
                faults: faults.clone(),
                limits: options.limits,
                counters: counters.clone(),
                stall: options.stall,
                options: options.options.clone(),
                public_base: Some(format!("http://{local}")),
            };
            let audio_ctx = ctx.clone();
            let fake = huadan_vendors::fake(provider, ctx);
            let stats_counters = counters.clone();
            let stats_faults = faults.clone();
            let router = fake
                .router
                .route(&format!("{}/{{key}}", huadan_fakekit::SANDBOX_RECORDINGS_PATH), recordings::route(audio_ctx));
            let router = router.route(
                STATS_PATH,
                get(move || {
                    let body = stats_json(provider, &stats_counters, &stats_faults);
                    async move { axum::Json(body) }
                }),
            );
            let mut rx = stop_rx.clone();
            let task = tokio::spawn(async move {
                let shutdown = async move {
                    while !*rx.borrow() {
                        if rx.changed().await.is_err() {
                            break;
                        }
                    }
                };
                if let Err(e) = axum::serve(listener, router).with_graceful_shutdown(shutdown).await {
                    tracing::error!(vendor = %provider, error = %e, "sandbox fake stopped");
                }
            });
            fakes.push(RunningFake { provider, addr: local, credentials: fake.credentials, counters, faults, task });
        }
        Ok(Sandbox { fakes, dataset, stop, limits: options.limits })
    }

    /// The base URL of one vendor's fake.
    pub fn endpoint(&self, provider: Provider) -> String {
        self.fakes.iter().find(|f| f.provider == provider).map(|f| format!("http://{}", f.addr)).unwrap_or_default()
    }

    /// The counters of one vendor's fake.
    pub fn counters(&self, provider: Provider) -> Option<Arc<Counters>> {
        self.fakes.iter().find(|f| f.provider == provider).map(|f| f.counters.clone())
    }

    /// The fault injector of one vendor's fake (what it injected so far).
    pub fn faults(&self, provider: Provider) -> Option<Arc<FaultInjector>> {
        self.fakes.iter().find(|f| f.provider == provider).map(|f| f.faults.clone())
    }

    /// The shared dataset (to compute expected counts).
    pub fn dataset(&self) -> &Dataset {
        &self.dataset
    }

    /// `{"wecom":{"endpoint":…,"corp_id":…,…},…}`: what a client needs.
    pub fn info(&self) -> Value {
        let mut root = Map::new();
        for f in &self.fakes {
            let mut entry = Map::new();
            entry.insert("endpoint".into(), Value::String(format!("http://{}", f.addr)));
            entry.extend(f.credentials.clone());
            root.insert(f.provider.as_str().into(), Value::Object(entry));
        }
        Value::Object(root)
    }

    /// [`Sandbox::info`] on one line: the sandbox's start line.
    pub fn info_line(&self) -> String {
        self.info().to_string()
    }

    /// A ready `huadan.toml` with one source per fake.
    pub fn config_toml(&self, store_url: &str) -> String {
        config_file::render(&self.info(), store_url, self.dataset.spec().days, self.limits)
    }

    /// Stop serving and wait for the servers to finish their requests in hand.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        for f in self.fakes {
            let mut task = f.task;
            if tokio::time::timeout(Duration::from_secs(5), &mut task).await.is_err() {
                task.abort();
            }
        }
    }
}

fn stats_json(provider: Provider, counters: &Counters, faults: &FaultInjector) -> Value {
    let injected: Map<String, Value> =
        FaultKind::ALL.iter().map(|k| (k.name().to_string(), json!(faults.injected(*k)))).collect();
    json!({ "vendor": provider.as_str(), "counters": counters.snapshot(), "faults_injected": injected })
}
