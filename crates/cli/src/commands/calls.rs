//! `huadan calls`: stored records, newest first, as a table, JSON, JSONL or CSV.

use crate::args::{CallsArgs, CallsFormat};
use crate::error::CliError;
use crate::filters;
use crate::output::{self, Table, csv_row, opt, write_result};
use huadan_model::CallRecord;
use huadan_store::CallQuery;
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

/// Records fetched from the store per request.
const PAGE: usize = 1000;

/// CSV columns, in order.
const CSV_COLUMNS: &[&str] = &[
    "id",
    "source",
    "provider",
    "provider_call_id",
    "direction",
    "started_at",
    "answered_at",
    "ended_at",
    "talk_seconds",
    "ring_seconds",
    "disposition",
    "disposition_detail",
    "caller_number",
    "callee_number",
    "agent_id",
    "agent_name",
    "channel",
    "transcript_status",
    "synced_at",
];

fn csv_cells(r: &CallRecord) -> Vec<String> {
    vec![
        r.id.clone(),
        r.source.clone(),
        r.provider.to_string(),
        r.provider_call_id.clone(),
        r.direction.to_string(),
        r.started_at.to_string(),
        opt(r.answered_at),
        opt(r.ended_at),
        opt(r.talk_seconds),
        opt(r.ring_seconds),
        r.disposition.to_string(),
        r.disposition_detail.clone(),
        opt(r.caller.number.as_ref()),
        opt(r.callee.number.as_ref()),
        opt(r.agent.as_ref().and_then(|a| a.id.as_ref())),
        opt(r.agent.as_ref().and_then(|a| a.name.as_ref())),
        opt(r.channel.as_ref()),
        opt(r.transcript.as_ref().map(|t| t.status)),
        opt(r.synced_at),
    ]
}

fn party(p: &huadan_model::Party) -> String {
    p.number.clone().or_else(|| p.name.clone()).or_else(|| p.user_id.clone()).unwrap_or_default()
}

/// Run `huadan calls`.
pub async fn run(config: Option<&Path>, args: CallsArgs) -> Result<ExitCode, CliError> {
    if args.limit == 0 {
        return Err(CliError::usage("--limit must be at least 1"));
    }
    let ctx = filters::prepare(config, &args.filter).await?;
    let mut out = output::stdout();
    let mut table = Table::new(&[
        ("started_at", false),
        ("source", false),
        ("direction", false),
        ("disposition", false),
        ("talk_s", true),
        ("caller", false),
        ("callee", false),
        ("agent", false),
        ("id", false),
    ]);
    let tz = ctx.tz.clone();
    let mut shown = 0usize;
    let mut cursor = None;
    let mut more = false;
    let mut open = true;
    match args.format {
        CallsFormat::Json => open = write_result(out.write_all(b"["))?,
        CallsFormat::Csv => open = write_result(csv_row(&mut out, CSV_COLUMNS))?,
        _ => {}
    }
    while open && shown < args.limit {
        let want = (args.limit - shown).min(PAGE);
        let page =
            ctx.store.calls(&CallQuery { filter: ctx.filter.clone(), limit: want, cursor: cursor.take() }).await?;
        for r in &page.items {
            let res = match args.format {
                CallsFormat::Table => {
                    table.row(vec![
                        r.started_at.to_zoned(tz.clone()).strftime("%Y-%m-%d %H:%M:%S").to_string(),
                        r.source.clone(),
                        r.direction.to_string(),
                        r.disposition.to_string(),
                        opt(r.talk_seconds),
                        party(&r.caller),
                        party(&r.callee),
                        output::truncate(
                            &r.agent.as_ref().and_then(|a| a.name.clone().or_else(|| a.id.clone())).unwrap_or_default(),
                            16,
                        ),
                        r.id.clone(),
                    ]);
                    Ok(())
                }
                CallsFormat::Json => (|| {
                    if shown > 0 {
                        out.write_all(b",")?;
                    }
                    out.write_all(b"\n")?;
                    serde_json::to_writer(&mut out, r)?;
                    Ok(())
                })(),
                CallsFormat::Jsonl => (|| {
                    serde_json::to_writer(&mut out, r)?;
                    out.write_all(b"\n")
                })(),
                CallsFormat::Csv => csv_row(&mut out, &csv_cells(r)),
            };
            shown += 1;
            if !write_result(res)? {
                open = false;
                break;
            }
        }
        match page.next_cursor {
            Some(c) if shown < args.limit => cursor = Some(c),
            Some(_) => more = true,
            None => break,
        }
    }
    if !open {
        return Ok(ExitCode::SUCCESS);
    }
    let res = match args.format {
        CallsFormat::Table => table.write(&mut out),
        CallsFormat::Json => out.write_all(if shown > 0 { b"\n]\n" } else { b"]\n" }),
        _ => Ok(()),
    };
    if write_result(res.and_then(|_| out.flush()))? {
        if shown == 0 && args.format == CallsFormat::Table {
            eprintln!("no stored calls match");
        } else if more && args.format == CallsFormat::Table {
            eprintln!("showing the newest {shown}; more match (raise --limit or narrow the filters)");
        }
    }
    Ok(ExitCode::SUCCESS)
}
