//! The page shell and its static assets, embedded in the binary with `include_str!`
//! (no CDN, no npm: the build needs nothing but cargo).

use crate::i18n::Lang;
use crate::query::Form;
use axum::extract::RawQuery;
use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};

const INDEX: &str = include_str!("../assets/index.html");
const CSS: &str = include_str!("../assets/app.css");
const JS: &str = include_str!("../assets/app.js");
const ICON: &str = include_str!("../assets/icon.svg");

/// The shell's labels: `{{key}}` in index.html → (Chinese, English).
const LABELS: &[(&str, &str, &str)] = &[
    ("title", "话单 · 通话数据看板", "huadan · call dashboard"),
    ("nav_overview", "总览", "Overview"),
    ("nav_agents", "坐席", "Agents"),
    ("nav_calls", "通话记录", "Calls"),
    ("nav_sources", "数据源", "Sources"),
    ("switch_label", "English", "中文"),
    ("switch_lang", "en", "zh"),
    ("logout", "退出", "Sign out"),
    ("login_title", "登录话单看板", "Sign in to huadan"),
    (
        "login_hint",
        "请输入 API 令牌（配置文件 server.api_tokens 中的值）。令牌只保存在本浏览器标签页的会话中，关闭即清除。",
        "Enter an API token (a value from server.api_tokens in the config). It is kept in this tab's session only and forgotten when the tab closes.",
    ),
    ("login_token", "API 令牌", "API token"),
    ("login_submit", "登录", "Sign in"),
    ("login_bad", "令牌无效，请重试。", "That token is not valid."),
    ("loading", "加载中…", "Loading…"),
    ("role_admin", "管理员", "admin"),
    ("role_viewer", "只读", "viewer"),
    ("sync_started", "已开始同步，稍后刷新查看状态。", "Sync started; the state refreshes shortly."),
    ("sync_failed", "无法开始同步：", "Could not start the sync: "),
];

/// Fill the shell's `{{key}}` placeholders for `lang`.
pub(crate) fn render_index(lang: Lang) -> String {
    let mut html = INDEX.replace("{{lang}}", lang.code());
    for (key, zh, en) in LABELS {
        html = html.replace(&format!("{{{{{key}}}}}"), lang.pick(zh, en));
    }
    html
}

fn with_type(body: &'static str, content_type: &'static str) -> Response {
    let mut resp = body.into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    resp
}

/// `GET /`: the shell in the language of `?lang=` (Chinese by default).
pub(crate) async fn index(RawQuery(q): RawQuery) -> Response {
    let lang = Form::parse(q.as_deref()).lang();
    let mut resp = Html(render_index(lang)).into_response();
    resp.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; img-src 'self' data:; media-src *; style-src 'self' 'unsafe-inline'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'",
        ),
    );
    resp
}

/// `GET /assets/app.css`.
pub(crate) async fn css() -> Response {
    with_type(CSS, "text/css; charset=utf-8")
}

/// `GET /assets/app.js`.
pub(crate) async fn js() -> Response {
    with_type(JS, "text/javascript; charset=utf-8")
}

/// `GET /assets/icon.svg`.
pub(crate) async fn icon() -> Response {
    with_type(ICON, "image/svg+xml")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_placeholder_is_filled_in_both_languages() {
        for lang in [Lang::Zh, Lang::En] {
            let html = render_index(lang);
            assert!(!html.contains("{{"), "unfilled placeholder in {lang:?}");
        }
        assert!(render_index(Lang::Zh).contains("通话记录"));
        assert!(render_index(Lang::En).contains(r#"lang="en""#));
    }
}
