//! `huadan copy --from URL --to URL`: copy every record and every source's sync state
//! from one store to another (typically `sqlite://huadan.db` → `postgres://…`, to
//! graduate from the embedded default).
//!
//! * Streamed: keyset pages over (started_at, id), newest first, the next page read
//!   while the previous one is written; memory stays flat. SQLite → PostgreSQL moves
//!   the rows as they are stored (columns, hash, compressed body): nothing is decoded
//!   or serialised again.
//! * Resumable: after each written page the position is saved in the destination
//!   (PostgreSQL: its `store_meta` table), so an interrupted copy continues where it
//!   stopped. Saving after the write, not with it, is safe: at worst one page is sent
//!   again, and re-sent records are skipped as unchanged.
//! * Verified: at the end, the record count of every source must be the same on both
//!   sides, else the command fails (exit 1) and says which source differs.

use crate::error::CliError;
use huadan_store::{
    Batch, CallFilter, CallPage, CallQuery, DynStore, PgStore, SqliteStore, StoreError, StoredPage, redact_url,
};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

/// `huadan copy` arguments.
#[derive(Debug, clap::Args)]
pub struct CopyArgs {
    /// The store to copy from (sqlite://PATH or postgres://…).
    #[arg(long, value_name = "URL")]
    pub from: String,
    /// The store to copy into (created and migrated as needed).
    #[arg(long, value_name = "URL")]
    pub to: String,
    /// Records per page.
    #[arg(long, default_value_t = 5000, value_name = "N")]
    pub page: usize,
    /// Ignore a saved position and copy everything again.
    #[arg(long)]
    pub restart: bool,
}

/// The destination, with where it keeps the copy's position when it can.
struct Destination {
    store: DynStore,
    pg: Option<PgStore>,
}

async fn open(url: &str) -> Result<(DynStore, Option<PgStore>), CliError> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let pg = PgStore::open(url).await?;
        return Ok((Arc::new(pg.clone()), Some(pg)));
    }
    Ok((huadan_store::open(url).await?, None))
}

impl Destination {
    fn key(from: &str) -> String {
        format!("copy-position:{}", redact_url(from))
    }

    async fn position(&self, from: &str) -> Result<Option<String>, CliError> {
        match &self.pg {
            Some(pg) => Ok(pg.meta(&Self::key(from)).await?.filter(|v| v != DONE)),
            None => Ok(None),
        }
    }

    async fn save(&self, from: &str, value: &str) -> Result<(), CliError> {
        if let Some(pg) = &self.pg {
            pg.set_meta(&Self::key(from), value).await?;
        }
        Ok(())
    }
}

/// A page on its way from the source to the destination.
enum Page {
    /// Decoded records (any store to any store).
    Records(CallPage),
    /// Rows as SQLite stores them, for PostgreSQL to take as they are.
    Stored(StoredPage),
}

impl Page {
    fn len(&self) -> usize {
        match self {
            Page::Records(p) => p.items.len(),
            Page::Stored(p) => p.len(),
        }
    }

    fn next_cursor(&self) -> Option<String> {
        match self {
            Page::Records(p) => p.next_cursor.clone(),
            Page::Stored(p) => p.next_cursor().map(str::to_string),
        }
    }
}

/// The SQLite store at a `sqlite://PATH` URL, opened directly (for the stored-row path).
async fn sqlite_source(url: &str) -> Result<Option<SqliteStore>, CliError> {
    let Some(path) = url.strip_prefix("sqlite://") else { return Ok(None) };
    let path = path.split(['?', '#']).next().unwrap_or_default();
    Ok(Some(SqliteStore::open(path).await?))
}

/// Pages being committed at once (each on its own connection).
const WRITERS: usize = 2;

/// The saved position once a copy has finished (a new run starts from the top).
const DONE: &str = "done";

/// Run `huadan copy`.
pub async fn run(args: CopyArgs) -> Result<ExitCode, CliError> {
    if args.page == 0 {
        return Err(CliError::usage("--page must be at least 1"));
    }
    if args.from == args.to {
        return Err(CliError::usage("--from and --to name the same store"));
    }
    let (from, _) = open(&args.from).await?;
    let (store, pg) = open(&args.to).await?;
    let to = Destination { store, pg };
    let resume = if args.restart { None } else { to.position(&args.from).await? };
    if let Some(p) = &resume {
        eprintln!("resuming the copy from {} at a saved position ({p})", redact_url(&args.from));
    } else if to.pg.is_none() {
        eprintln!(
            "note: this destination keeps no copy position; an interrupted copy starts over (quickly: unchanged records are skipped)"
        );
    }

    let started = Instant::now();
    // SQLite → PostgreSQL: rows as stored, no decoding and re-encoding.
    let stored_from = if to.pg.is_some() { sqlite_source(&args.from).await? } else { None };
    // Reader: the next page is fetched while the previous one is being written. One
    // page waits in the channel at most: the pages in memory are the one being written,
    // the one waiting and the one being read, whatever the size of the store.
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Result<Page, StoreError>>(1);
    let reader = {
        let (from, page) = (from.clone(), args.page);
        let mut cursor = resume.clone();
        tokio::spawn(async move {
            loop {
                let res = match &stored_from {
                    Some(sqlite) => sqlite.stored_page(cursor.clone(), page).await.map(Page::Stored),
                    None => from
                        .calls(&CallQuery { filter: CallFilter::default(), limit: page, cursor: cursor.clone() })
                        .await
                        .map(Page::Records),
                };
                let next = res.as_ref().ok().and_then(Page::next_cursor);
                let last = next.is_none();
                cursor = next;
                if tx.send(res).await.is_err() || last {
                    return;
                }
            }
        })
    };
    // Writers: up to WRITERS pages committed at once (pages hold disjoint ids, so their
    // transactions never wait for each other), finished in page order: the saved
    // position only ever moves past pages that are all committed.
    let mut copied = 0u64;
    let mut written = huadan_store::WriteStats::default();
    let mut next_report = 100_000u64;
    let mut inflight = std::collections::VecDeque::new();
    let mut input_open = true;
    loop {
        while input_open && inflight.len() < WRITERS {
            let Some(page) = rx.recv().await else {
                input_open = false;
                break;
            };
            let page = page?;
            copied += page.len() as u64;
            let next = page.next_cursor();
            let (store, pg) = (to.store.clone(), to.pg.clone());
            inflight.push_back(tokio::spawn(async move {
                let stats = match page {
                    Page::Records(p) if !p.items.is_empty() => {
                        store.commit(Batch { source: String::new(), records: p.items, state: None }).await?
                    }
                    Page::Stored(p) if !p.is_empty() => match &pg {
                        Some(pg) => pg.commit_stored(p).await?,
                        None => huadan_store::WriteStats::default(),
                    },
                    _ => huadan_store::WriteStats::default(),
                };
                Ok::<_, StoreError>((stats, next))
            }));
        }
        let Some(oldest) = inflight.pop_front() else { break };
        let (stats, next) =
            oldest.await.map_err(|e| CliError::Runtime(anyhow::anyhow!("a copy writer stopped: {e}")))??;
        written += stats;
        match &next {
            Some(c) => to.save(&args.from, c).await?,
            None => to.save(&args.from, DONE).await?,
        }
        if copied >= next_report {
            let secs = started.elapsed().as_secs_f64();
            eprintln!("{copied} records copied ({:.0}/s)", copied as f64 / secs.max(1e-9));
            next_report += 100_000;
        }
    }
    let _ = reader.await;

    // Sync states: where each source's next sync starts.
    let sources = from.sources().await?;
    for s in &sources {
        if let Some(state) = from.load_state(&s.state.source).await? {
            to.store.commit(Batch { source: state.source.clone(), records: Vec::new(), state: Some(state) }).await?;
        }
    }

    // Verify: the same count per source on both sides.
    let mut mismatches = Vec::new();
    for s in &sources {
        let filter = CallFilter { sources: vec![s.state.source.clone()], ..CallFilter::default() };
        let (a, b) = (from.count(&filter).await?, to.store.count(&filter).await?);
        println!("{:<24} {a:>10} → {b:>10}{}", s.state.source, if a == b { "" } else { "  MISMATCH" });
        if a != b {
            mismatches.push(format!("{} ({a} → {b})", s.state.source));
        }
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "copied {copied} records in {secs:.1}s ({:.0}/s): {} new, {} changed, {} already there",
        copied as f64 / secs.max(1e-9),
        written.inserted,
        written.updated,
        written.unchanged
    );
    if mismatches.is_empty() {
        Ok(ExitCode::SUCCESS)
    } else {
        Err(CliError::Runtime(anyhow::anyhow!(
            "record counts differ after the copy for: {} (was either store written to during the copy?)",
            mismatches.join(", ")
        )))
    }
}
