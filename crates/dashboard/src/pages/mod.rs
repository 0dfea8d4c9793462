//! The fragment handlers behind `/ui/…`: each checks the bearer token, reads the form,
//! queries the store and answers an HTML fragment the page drops in place.

mod agents;
mod calls;
mod detail;
mod overview;
mod sources;

use crate::DashboardHost;
use crate::auth::{Viewer, caller};
use crate::error::UiError;
use crate::format::esc;
use crate::i18n::Lang;
use crate::query::Form;
use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};
use huadan_config::Role;
use huadan_model::{Direction, Disposition, Provider};
use huadan_store::CallFilter;
use std::fmt::Write;
use std::sync::Arc;

type Host = State<Arc<dyn DashboardHost>>;

/// A fragment answer that no cache keeps (it may carry numbers).
fn fragment(html: String) -> Response {
    let mut resp = Html(html).into_response();
    resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

/// `GET /ui/whoami`: the token's role (the login form checks the token with it).
pub(crate) async fn whoami(State(host): Host, headers: HeaderMap) -> Result<Response, UiError> {
    let v = caller(host.as_ref(), &headers)?;
    let role = match v.role {
        Role::Admin => "admin",
        Role::Viewer => "viewer",
    };
    Ok(Json(serde_json::json!({ "role": role })).into_response())
}

/// `GET /ui/overview`.
pub(crate) async fn overview_page(
    State(host): Host,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Result<Response, UiError> {
    let v = caller(host.as_ref(), &headers)?;
    let form = Form::parse(q.as_deref());
    overview::render(host.as_ref(), v, &form).await.map(fragment)
}

/// `GET /ui/agents`.
pub(crate) async fn agents_page(
    State(host): Host,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Result<Response, UiError> {
    let v = caller(host.as_ref(), &headers)?;
    let form = Form::parse(q.as_deref());
    agents::render(host.as_ref(), v, &form).await.map(fragment)
}

/// `GET /ui/calls`.
pub(crate) async fn calls_page(
    State(host): Host,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Result<Response, UiError> {
    let v = caller(host.as_ref(), &headers)?;
    let form = Form::parse(q.as_deref());
    calls::render(host.as_ref(), v, &form).await.map(fragment)
}

/// `GET /ui/calls/{id}`.
pub(crate) async fn call_page(
    State(host): Host,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> Result<Response, UiError> {
    let v = caller(host.as_ref(), &headers)?;
    let form = Form::parse(q.as_deref());
    detail::render(host.as_ref(), v, &form, &id).await.map(fragment)
}

/// `GET /ui/sources`.
pub(crate) async fn sources_page(
    State(host): Host,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Result<Response, UiError> {
    let v = caller(host.as_ref(), &headers)?;
    let form = Form::parse(q.as_deref());
    sources::render(host.as_ref(), v, &form).await.map(fragment)
}

/// Every source name known (configured first, then any with stored records).
async fn source_names(host: &dyn DashboardHost) -> Result<Vec<String>, UiError> {
    let mut names: Vec<String> = host.sources().into_iter().map(|s| s.name).collect();
    for s in host.store().sources().await? {
        if !names.contains(&s.state.source) {
            names.push(s.state.source);
        }
    }
    Ok(names)
}

/// `<option>`s for a select, the current value selected.
fn options<'a>(current: Option<&str>, any: &str, items: impl IntoIterator<Item = (&'a str, String)>) -> String {
    let mut s = format!(r#"<option value="">{}</option>"#, esc(any));
    for (value, label) in items {
        let sel = if current == Some(value) { " selected" } else { "" };
        let _ = write!(s, r#"<option value="{}"{sel}>{}</option>"#, esc(value), esc(&label));
    }
    s
}

fn select(name: &str, label: &str, opts: String) -> String {
    format!(r#"<label class="field"><span>{}</span><select name="{name}">{opts}</select></label>"#, esc(label))
}

fn input(name: &str, label: &str, kind: &str, value: Option<&str>, placeholder: &str) -> String {
    format!(
        r#"<label class="field"><span>{}</span><input type="{kind}" name="{name}" value="{}" placeholder="{}"></label>"#,
        esc(label),
        esc(value.unwrap_or("")),
        esc(placeholder)
    )
}

/// The filter bar. `full` adds direction, disposition, agent, number (not for viewers)
/// and transcript text (the Calls page has every CLI filter).
async fn filter_bar(
    host: &dyn DashboardHost,
    v: Viewer,
    form: &Form,
    filter: &CallFilter,
    page: &str,
    full: bool,
) -> Result<String, UiError> {
    let lang = form.lang();
    let tz = host.timezone();
    let any = lang.pick("全部", "All");
    let (from, to) = match crate::query::period_dates(filter, tz) {
        Some((a, b)) => (Some(a.to_string()), Some(b.to_string())),
        None => (filter.since.map(|t| t.to_zoned(tz.clone()).date().to_string()), None),
    };
    let mut s = format!(r#"<form class="filters" data-page="{page}">"#);
    s.push_str(&input("from", lang.pick("开始日期", "From"), "date", from.as_deref(), ""));
    s.push_str(&input("to", lang.pick("结束日期", "To"), "date", to.as_deref(), ""));
    let names = source_names(host).await?;
    s.push_str(&select(
        "source",
        lang.pick("来源", "Source"),
        options(form.get("source"), any, names.iter().map(|n| (n.as_str(), n.clone()))),
    ));
    s.push_str(&select(
        "provider",
        lang.pick("平台", "Provider"),
        options(form.get("provider"), any, Provider::ALL.iter().map(|p| (p.as_str(), lang.provider(*p).to_string()))),
    ));
    if full {
        s.push_str(&select(
            "direction",
            lang.pick("方向", "Direction"),
            options(
                form.get("direction"),
                any,
                Direction::ALL.iter().map(|d| (d.as_str(), lang.direction(*d).to_string())),
            ),
        ));
        s.push_str(&select(
            "disposition",
            lang.pick("结果", "Outcome"),
            options(
                form.get("disposition"),
                any,
                Disposition::ALL.iter().map(|d| (d.as_str(), lang.disposition(*d).to_string())),
            ),
        ));
        s.push_str(&input(
            "agent",
            lang.pick("坐席", "Agent"),
            "text",
            form.get("agent"),
            lang.pick("工号或姓名", "id or name"),
        ));
        if !v.masks_numbers() {
            s.push_str(&input(
                "number",
                lang.pick("号码", "Number"),
                "search",
                form.get("number"),
                lang.pick("号码片段", "part of a number"),
            ));
        }
        s.push_str(&input(
            "text",
            lang.pick("通话内容", "Transcript"),
            "search",
            form.get("text"),
            lang.pick("转写文本关键词", "words said"),
        ));
    }
    let _ = write!(
        s,
        r#"<div class="actions"><button type="submit" class="primary">{}</button><button type="reset" class="ghost" data-clear>{}</button></div></form>"#,
        lang.pick("查询", "Apply"),
        lang.pick("重置", "Reset")
    );
    Ok(s)
}

/// The page heading with a subtitle.
fn heading(title: &str, subtitle: &str) -> String {
    format!(r#"<header class="page-head"><h1>{}</h1><p class="sub">{}</p></header>"#, esc(title), esc(subtitle))
}

/// A role note under the heading for viewer tokens.
fn viewer_note(lang: Lang, v: Viewer) -> &'static str {
    if v.masks_numbers() {
        match lang {
            Lang::Zh => r#"<p class="notice">当前为只读令牌：号码已脱敏，不能按号码筛选。</p>"#,
            Lang::En => r#"<p class="notice">Viewer token: phone numbers are masked and cannot be searched.</p>"#,
        }
    } else {
        ""
    }
}
