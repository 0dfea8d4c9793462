//! The Agents page: one row per agent id across every vendor it appears in, sortable in
//! the browser (each cell carries its sort value).

use super::{filter_bar, heading, viewer_note};
use crate::DashboardHost;
use crate::auth::Viewer;
use crate::error::UiError;
use crate::format::{duration, esc, percent, thousands, time};
use crate::query::{DEFAULT_DAYS, Form};
use huadan_model::Provider;
use huadan_store::{CallFilter, GroupBy, NO_AGENT};
use std::collections::HashMap;
use std::fmt::Write;

pub(super) async fn render(host: &dyn DashboardHost, v: Viewer, form: &Form) -> Result<String, UiError> {
    let lang = form.lang();
    let tz = host.timezone();
    let store = host.store();
    let filter = form.filter(tz, Some(DEFAULT_DAYS))?;
    let providers: Vec<Provider> =
        if filter.providers.is_empty() { Provider::ALL.to_vec() } else { filter.providers.clone() };
    let per_provider = providers.iter().map(|p| {
        let f = CallFilter { providers: vec![*p], ..filter.clone() };
        async move { store.stats(&f, GroupBy::Agent, tz).await.map(|rows| (*p, rows)) }
    });
    let (rows, per_provider) =
        futures::try_join!(store.stats(&filter, GroupBy::Agent, tz), futures::future::try_join_all(per_provider))?;
    let mut seen_in: HashMap<String, Vec<Provider>> = HashMap::new();
    for (p, rs) in per_provider {
        for r in rs {
            seen_in.entry(r.key).or_default().push(p);
        }
    }

    let mut s = heading(
        lang.pick("坐席", "Agents"),
        lang.pick("同一坐席在各平台的通话合并统计", "Each agent across every vendor they appear in"),
    );
    s.push_str(viewer_note(lang, v));
    s.push_str(&filter_bar(host, v, form, &filter, "agents", false).await?);
    let cols = [
        (lang.pick("坐席", "Agent"), "text"),
        (lang.pick("平台", "Vendors"), "text"),
        (lang.pick("通话量", "Calls"), "num"),
        (lang.pick("接通", "Answered"), "num"),
        (lang.pick("接通率", "Answered rate"), "num"),
        (lang.pick("通话总时长", "Talk time"), "num"),
        (lang.pick("平均处理时长", "Avg handle time"), "num"),
        (lang.pick("首次通话", "First call"), "num"),
        (lang.pick("最近通话", "Last call"), "num"),
    ];
    s.push_str(r#"<section class="panel flush"><table class="data sortable" id="agents-table"><thead><tr>"#);
    for (i, (label, kind)) in cols.iter().enumerate() {
        let _ = write!(
            s,
            r#"<th data-kind="{kind}" data-col="{i}"{}>{}</th>"#,
            if i == 2 { r#" data-sorted="desc""# } else { "" },
            esc(label)
        );
    }
    s.push_str("</tr></thead><tbody>");
    if rows.is_empty() {
        let _ = write!(
            s,
            r#"<tr><td colspan="9" class="empty">{}</td></tr>"#,
            lang.pick("该时段没有通话", "No calls in this period")
        );
    }
    for r in &rows {
        let no_agent = r.key == NO_AGENT;
        let name = if no_agent {
            lang.pick("（未分配坐席）", "(no agent)").to_string()
        } else {
            r.label.clone().unwrap_or_else(|| r.key.clone())
        };
        let vendors: String = seen_in
            .get(&r.key)
            .map(|ps| {
                let mut ps = ps.clone();
                ps.sort();
                ps.iter()
                    .map(|p| format!(r#"<span class="chip p-{}">{}</span>"#, p.as_str(), esc(lang.provider(*p))))
                    .collect()
            })
            .unwrap_or_default();
        let aht = if r.answered > 0 { r.talk_seconds_total / r.answered as i64 } else { 0 };
        let agent_cell = if no_agent {
            format!(r#"<span class="muted">{}</span>"#, esc(&name))
        } else {
            let link = form_urlencoded::Serializer::new(String::new()).append_pair("agent", &r.key).finish();
            format!(r##"<a href="#/calls?{link}">{}</a><span class="id">{}</span>"##, esc(&name), esc(&r.key))
        };
        let first = r.first_call.map(|t| (t.as_second(), time(t, tz))).unwrap_or((0, String::new()));
        let last = r.last_call.map(|t| (t.as_second(), time(t, tz))).unwrap_or((0, String::new()));
        let _ = write!(
            s,
            r#"<tr data-agent="{}"><td data-v="{}">{agent_cell}</td><td data-v="{}">{vendors}</td><td class="n" data-v="{}">{}</td><td class="n" data-v="{}">{}</td><td class="n" data-v="{:.6}">{}</td><td class="n" data-v="{}">{}</td><td class="n" data-v="{aht}">{}</td><td class="t" data-v="{}">{}</td><td class="t" data-v="{}">{}</td></tr>"#,
            esc(&r.key),
            esc(&name),
            seen_in.get(&r.key).map_or(0, Vec::len),
            r.calls,
            thousands(r.calls),
            r.answered,
            thousands(r.answered),
            r.answered_rate,
            percent(r.answered_rate),
            r.talk_seconds_total,
            duration(lang, r.talk_seconds_total),
            duration(lang, aht),
            first.0,
            first.1,
            last.0,
            last.1,
        );
    }
    s.push_str("</tbody></table></section>");
    Ok(s)
}
