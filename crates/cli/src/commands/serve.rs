//! `huadan serve`: the REST API and the scheduled sync of every enabled source, until
//! SIGINT/SIGTERM.

use crate::error::CliError;
use huadan_server::ServerError;
use std::net::SocketAddr;
use std::path::Path;
use std::process::ExitCode;

/// Run `huadan serve`.
pub async fn run(config: Option<&Path>) -> Result<ExitCode, CliError> {
    let config = super::load_config(config)?;
    let listen = config.server.listen.clone();
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host(&listen)
        .await
        .map_err(|e| CliError::usage(format!("server.listen `{listen}` is not a host:port to listen on: {e}")))?
        .collect();
    let addr =
        *addrs.first().ok_or_else(|| CliError::usage(format!("server.listen `{listen}` resolves to no address")))?;
    // Refuse an open API off loopback before binding anything.
    for a in &addrs {
        huadan_server::check_listen(&config, *a).map_err(server_err)?;
    }
    let store = super::open_store(&config).await?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| CliError::Runtime(anyhow::anyhow!("cannot listen on {addr} (server.listen): {e}")))?;
    let bound = listener.local_addr().map_err(|e| CliError::Runtime(e.into()))?;
    let enabled = config.sources.iter().filter(|s| s.enabled).count();
    // Handlers before the address is announced: whoever read it may signal at once.
    let stop = super::Signals::install().first();
    eprintln!(
        "huadan serve: REST API on http://{bound}/v1 ({enabled} enabled source(s), synced every {}s); Ctrl-C to stop",
        config.sync.interval_seconds.max(1)
    );
    if config.server.api_tokens.is_empty() {
        eprintln!(
            "huadan serve: no server.api_tokens configured: the API is open without a token, so it listens on \
             loopback only ({bound})"
        );
    }
    huadan_server::serve(&config, store, listener, stop).await.map_err(server_err)?;
    eprintln!("huadan serve: stopped");
    Ok(ExitCode::SUCCESS)
}

fn server_err(e: ServerError) -> CliError {
    match e {
        ServerError::Config(c) => CliError::Config(c),
        e @ (ServerError::OpenOnNetwork { .. } | ServerError::EmptyToken { .. }) => CliError::usage(e.to_string()),
        e @ ServerError::Io(_) => CliError::Runtime(e.into()),
    }
}
