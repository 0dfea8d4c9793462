//! The Overview page: headline figures, calls per day by provider, answered rate per
//! day, weekday × hour heatmap.

use super::{filter_bar, heading, viewer_note};
use crate::DashboardHost;
use crate::auth::Viewer;
use crate::charts;
use crate::error::UiError;
use crate::format::{duration, esc, percent, thousands};
use crate::query::{DEFAULT_DAYS, Form, period_dates};
use huadan_model::Provider;
use std::fmt::Write;

pub(super) async fn render(host: &dyn DashboardHost, v: Viewer, form: &Form) -> Result<String, UiError> {
    let lang = form.lang();
    let tz = host.timezone();
    let mut filter = form.filter(tz, Some(DEFAULT_DAYS))?;
    bound_period(&mut filter, tz)?;
    let o = crate::overview(host.store().as_ref(), &filter, tz).await?;
    let period = match period_dates(&filter, tz) {
        Some((a, b)) => format!("{a} — {b}"),
        None => lang.pick("全部时间", "All time").to_string(),
    };
    let mut s = heading(lang.pick("总览", "Overview"), &period);
    s.push_str(viewer_note(lang, v));
    s.push_str(&filter_bar(host, v, form, &filter, "overview", false).await?);

    let avg = o.talk_seconds_mean().map(|m| duration(lang, m.round() as i64)).unwrap_or_else(|| "—".into());
    let cards = [
        ("calls", lang.pick("通话总量", "Calls"), thousands(o.calls), String::new()),
        (
            "answered-rate",
            lang.pick("接通率", "Answered rate"),
            percent(o.answered_rate()),
            format!("{} {}", lang.pick("已接通", "answered"), thousands(o.answered)),
        ),
        ("talk-total", lang.pick("通话总时长", "Talk time"), duration(lang, o.talk_seconds_total), String::new()),
        (
            "talk-mean",
            lang.pick("平均通话时长", "Average talk time"),
            avg,
            lang.pick("按已接通通话计", "per answered call").to_string(),
        ),
        (
            "missed-inbound",
            lang.pick("未接来电", "Missed inbound"),
            thousands(o.missed_inbound),
            lang.pick("呼入未接通", "inbound, not answered").to_string(),
        ),
    ];
    s.push_str(r#"<section class="cards">"#);
    for (id, label, value, note) in cards {
        let _ = write!(
            s,
            r#"<div class="card" data-figure="{id}"><div class="label">{}</div><div class="value">{}</div><div class="note">{}</div></div>"#,
            esc(label),
            esc(&value),
            esc(&note)
        );
    }
    s.push_str("</section>");

    let names: [&str; 5] = std::array::from_fn(|i| Provider::ALL.get(i).map_or("", |p| lang.provider(*p)));
    let days: Vec<(String, [u64; 5])> = o.days.iter().map(|(k, d)| (k.clone(), d.by_provider)).collect();
    let rates: Vec<(String, Option<f64>)> = o
        .days
        .iter()
        .map(|(k, d)| (k.clone(), (d.calls() > 0).then(|| d.answered as f64 / d.calls() as f64)))
        .collect();
    let mut legend = String::from(r#"<div class="legend">"#);
    for (i, name) in names.iter().enumerate() {
        let _ =
            write!(legend, r#"<span><i style="background:{}"></i>{}</span>"#, charts::PROVIDER_COLOURS[i], esc(name));
    }
    legend.push_str("</div>");
    let _ = write!(
        s,
        r#"<section class="panel"><div class="panel-head"><h2>{}</h2>{legend}</div>{}</section>"#,
        lang.pick("每日通话量（按平台）", "Calls per day by provider"),
        charts::stacked_days(lang, &days, &names)
    );
    let _ = write!(
        s,
        r#"<div class="two"><section class="panel"><div class="panel-head"><h2>{}</h2></div>{}</section><section class="panel"><div class="panel-head"><h2>{}</h2></div>{}</section></div>"#,
        lang.pick("每日接通率", "Answered rate per day"),
        charts::rate_days(lang, &rates),
        lang.pick("通话时段分布（星期 × 小时）", "When calls happen (weekday × hour)"),
        charts::heatmap(lang, &o.heatmap)
    );
    Ok(s)
}

/// Give an open-ended period its other end (today, or [`DEFAULT_DAYS`] before the end)
/// and refuse one longer than [`crate::overview::MAX_DAYS`].
fn bound_period(f: &mut huadan_store::CallFilter, tz: &jiff::tz::TimeZone) -> Result<(), UiError> {
    let day = jiff::SignedDuration::from_hours(24);
    if f.until.is_none() {
        let tomorrow =
            huadan_model::Instant::now().to_zoned(tz.clone()).date().tomorrow().map_err(|e| UiError::bad("to", e))?;
        f.until = Some(tomorrow.to_zoned(tz.clone()).map_err(|e| UiError::bad("to", e))?.timestamp());
    }
    if f.since.is_none() {
        f.since = f.until.map(|u| u - day * DEFAULT_DAYS as i32);
    }
    match period_dates(f, tz) {
        Some((a, b)) if (b - a).get_days() < crate::overview::MAX_DAYS as i32 => Ok(()),
        Some(_) => Err(UiError::bad("from", format!("the period is longer than {} days", crate::overview::MAX_DAYS))),
        None => Err(UiError::bad("to", "the period ends before it starts")),
    }
}
