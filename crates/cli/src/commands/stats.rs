//! `huadan stats --by …`: counts, answered rate and talk time per group.

use crate::args::{CallsFormat, StatsArgs};
use crate::error::CliError;
use crate::filters;
use crate::output::{self, Table, csv_row, opt, write_result};
use huadan_store::{GroupBy, StatsRow};
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

const CSV_COLUMNS: &[&str] = &[
    "key",
    "label",
    "calls",
    "answered",
    "answered_rate",
    "talk_seconds_total",
    "talk_seconds_mean",
    "talk_seconds_p90",
    "first_call",
    "last_call",
];

fn csv_cells(r: &StatsRow) -> Vec<String> {
    vec![
        r.key.clone(),
        opt(r.label.as_ref()),
        r.calls.to_string(),
        r.answered.to_string(),
        format!("{:.4}", r.answered_rate),
        r.talk_seconds_total.to_string(),
        opt(r.talk_seconds_mean.map(|m| format!("{m:.1}"))),
        opt(r.talk_seconds_p90),
        opt(r.first_call),
        opt(r.last_call),
    ]
}

/// Run `huadan stats`.
pub async fn run(config: Option<&Path>, args: StatsArgs) -> Result<ExitCode, CliError> {
    let by: GroupBy = args.by.parse().map_err(|e| CliError::usage(format!("--by: {e}")))?;
    let ctx = filters::prepare(config, &args.filter).await?;
    let rows = ctx.store.stats(&ctx.filter, by, &ctx.tz).await?;
    let mut out = output::stdout();
    let res = match args.format {
        CallsFormat::Table => table(&rows, by, &args.by, &ctx.tz).write(&mut out),
        CallsFormat::Json => (|| {
            serde_json::to_writer_pretty(&mut out, &rows)?;
            out.write_all(b"\n")
        })(),
        CallsFormat::Jsonl => rows.iter().try_for_each(|r| {
            serde_json::to_writer(&mut out, r)?;
            out.write_all(b"\n")
        }),
        CallsFormat::Csv => std::iter::once(CSV_COLUMNS.iter().map(|c| c.to_string()).collect::<Vec<_>>())
            .chain(rows.iter().map(csv_cells))
            .try_for_each(|cells| csv_row(&mut out, &cells)),
    };
    if write_result(res.and_then(|_| out.flush()))? && rows.is_empty() && args.format == CallsFormat::Table {
        eprintln!("no stored calls match");
    }
    Ok(ExitCode::SUCCESS)
}

fn table(rows: &[StatsRow], by: GroupBy, by_name: &str, tz: &jiff::tz::TimeZone) -> Table {
    let agent = by == GroupBy::Agent;
    let mut cols: Vec<(&str, bool)> = vec![(by_name, false)];
    if agent {
        cols.push(("name", false));
    }
    cols.extend([
        ("calls", true),
        ("answered", true),
        ("rate", true),
        ("talk_total_s", true),
        ("talk_mean_s", true),
        ("talk_p90_s", true),
    ]);
    if agent {
        cols.extend([("first_call", false), ("last_call", false)]);
    }
    let mut t = Table::new(&cols);
    let local = |t: Option<huadan_model::Instant>| {
        opt(t.map(|t| t.to_zoned(tz.clone()).strftime("%Y-%m-%d %H:%M").to_string()))
    };
    for r in rows {
        let mut cells = vec![r.key.clone()];
        if agent {
            cells.push(output::truncate(r.label.as_deref().unwrap_or(""), 20));
        }
        cells.extend([
            r.calls.to_string(),
            r.answered.to_string(),
            format!("{:.1}%", r.answered_rate * 100.0),
            r.talk_seconds_total.to_string(),
            opt(r.talk_seconds_mean.map(|m| format!("{m:.1}"))),
            opt(r.talk_seconds_p90),
        ]);
        if agent {
            cells.extend([local(r.first_call), local(r.last_call)]);
        }
        t.row(cells);
    }
    t
}
