//! The Calls page: every CLI filter, pages of 50 newest first with the store's cursor,
//! numbers masked for viewer tokens.

use super::{filter_bar, heading, viewer_note};
use crate::DashboardHost;
use crate::auth::Viewer;
use crate::error::UiError;
use crate::format::{duration, esc, thousands, time};
use crate::i18n::Lang;
use crate::query::Form;
use huadan_model::{CallRecord, Party};
use huadan_store::CallQuery;
use std::fmt::Write;

/// Rows per page.
pub(crate) const PAGE: usize = 50;

pub(crate) fn party(lang: Lang, p: &Party) -> String {
    match (&p.number, &p.name, &p.user_id) {
        (Some(n), Some(name), _) => {
            format!(r#"<span class="num">{}</span> <span class="muted">{}</span>"#, esc(n), esc(name))
        }
        (Some(n), None, _) => format!(r#"<span class="num">{}</span>"#, esc(n)),
        (None, Some(name), _) => esc(name),
        (None, None, Some(id)) => format!(r#"<span class="muted">{}</span>"#, esc(id)),
        _ => format!(r#"<span class="muted">{}</span>"#, lang.pick("未知", "unknown")),
    }
}

pub(crate) fn disposition_badge(lang: Lang, r: &CallRecord) -> String {
    let class = if r.disposition.is_answered() { "ok" } else { "bad" };
    format!(
        r#"<span class="badge {class}" title="{}">{}</span>"#,
        esc(&r.disposition_detail),
        esc(lang.disposition(r.disposition))
    )
}

pub(super) async fn render(host: &dyn DashboardHost, v: Viewer, form: &Form) -> Result<String, UiError> {
    let lang = form.lang();
    let tz = host.timezone();
    let filter = form.filter(tz, None)?;
    if filter.number.is_some() && v.masks_numbers() {
        return Err(UiError::Forbidden("viewer tokens cannot filter by phone number"));
    }
    let cursor = form.get("cursor").map(str::to_string);
    let query = CallQuery { filter: filter.clone(), limit: PAGE, cursor: cursor.clone() };
    let store = host.store();
    let (mut page, total) = futures::try_join!(store.calls(&query), store.count(&filter))?;
    if v.masks_numbers() {
        page.items.iter_mut().for_each(CallRecord::mask_numbers);
    }

    let mut s = heading(
        lang.pick("通话记录", "Calls"),
        &match lang {
            Lang::Zh => format!("共 {} 条，按时间倒序", thousands(total)),
            Lang::En => format!("{} calls, newest first", thousands(total)),
        },
    );
    s.push_str(viewer_note(lang, v));
    s.push_str(&filter_bar(host, v, form, &filter, "calls", true).await?);
    s.push_str(r#"<section class="panel flush"><table class="data" id="calls-table"><thead><tr>"#);
    for h in [
        lang.pick("开始时间", "Started"),
        lang.pick("平台 / 来源", "Provider / source"),
        lang.pick("方向", "Direction"),
        lang.pick("主叫", "Caller"),
        lang.pick("被叫", "Callee"),
        lang.pick("坐席", "Agent"),
        lang.pick("结果", "Outcome"),
        lang.pick("通话时长", "Talk"),
        "",
    ] {
        let _ = write!(s, "<th>{}</th>", esc(h));
    }
    s.push_str("</tr></thead><tbody>");
    if page.items.is_empty() {
        let _ = write!(
            s,
            r#"<tr><td colspan="9" class="empty">{}</td></tr>"#,
            lang.pick("没有符合条件的通话", "No calls match")
        );
    }
    for r in &page.items {
        let agent = r.agent.as_ref().and_then(|a| a.name.clone().or_else(|| a.id.clone())).unwrap_or_default();
        let talk = r.talk_seconds.map(|t| duration(lang, t)).unwrap_or_else(|| "—".into());
        let mut extras = String::new();
        if !r.recordings.is_empty() {
            let _ = write!(extras, r#"<span class="icon" title="{}">♪</span>"#, lang.pick("有录音", "recorded"));
        }
        if r.transcript.as_ref().is_some_and(|t| !t.sentences.is_empty()) {
            let _ = write!(extras, r#"<span class="icon" title="{}">文</span>"#, lang.pick("有转写", "transcript"));
        }
        let id_enc: String = form_urlencoded::byte_serialize(r.id.as_bytes()).collect();
        let _ = write!(
            s,
            r##"<tr class="row-link" data-href="#/call/{id_enc}" data-id="{}"><td class="t"><a href="#/call/{id_enc}">{}</a></td><td><span class="chip p-{}">{}</span> <span class="muted">{}</span></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class="n">{}</td><td>{extras}</td></tr>"##,
            esc(&r.id),
            time(r.started_at, tz),
            r.provider.as_str(),
            esc(lang.provider(r.provider)),
            esc(&r.source),
            esc(lang.direction(r.direction)),
            party(lang, &r.caller),
            party(lang, &r.callee),
            esc(&agent),
            disposition_badge(lang, r),
            talk,
        );
    }
    s.push_str("</tbody></table></section>");
    let base = form.filter_query();
    s.push_str(r#"<nav class="pager">"#);
    if cursor.is_some() {
        let _ = write!(s, r#"<button class="ghost" data-back>{}</button>"#, lang.pick("← 上一页", "← Previous"));
    }
    if let Some(next) = &page.next_cursor {
        let mut q = form_urlencoded::Serializer::new(base.clone());
        q.append_pair("cursor", next);
        let _ = write!(
            s,
            r##"<a class="button" id="next-page" href="#/calls?{}">{}</a>"##,
            esc(&q.finish()),
            lang.pick("下一页 →", "Next →")
        );
    }
    s.push_str("</nav>");
    Ok(s)
}
