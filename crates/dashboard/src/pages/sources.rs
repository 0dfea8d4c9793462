//! The Sources page: each source's sync state, its last error in plain words, its
//! records, and a "sync now" button (admins; it posts to `/v1/sources/{name}/sync`).

use super::{heading, viewer_note};
use crate::DashboardHost;
use crate::auth::Viewer;
use crate::error::UiError;
use crate::format::{esc, thousands, time};
use crate::i18n::Lang;
use crate::query::Form;
use huadan_store::SourceStatus;
use std::collections::HashMap;
use std::fmt::Write;

/// A one-line explanation of a sync error for a call-centre lead, from its wording.
pub(crate) fn explain(lang: Lang, error: &str) -> &'static str {
    let e = error.to_ascii_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| e.contains(w));
    if has(&["401", "403", "auth", "credential", "secret", "signature", "token", "permission", "forbidden"]) {
        lang.pick(
            "厂商拒绝了登录凭证：请检查配置中的密钥或授权是否过期。",
            "The vendor refused the credentials: check the keys in the config and whether access has expired.",
        )
    } else if has(&["rate", "limit", "quota", "429", "too many"]) {
        lang.pick(
            "厂商限流或额度用尽：稍后会自动重试。",
            "The vendor is rate-limiting or the quota is used up: it will be retried later.",
        )
    } else if has(&["timeout", "timed out", "connect", "dns", "network", "unreachable", "refused"]) {
        lang.pick(
            "连不上厂商接口：网络或厂商服务暂时不可用。",
            "Could not reach the vendor: the network or the vendor's service is down.",
        )
    } else if has(&["500", "502", "503", "504", "server error", "internal"]) {
        lang.pick(
            "厂商接口返回服务器错误：通常是临时故障，下次同步会重试。",
            "The vendor's server failed: usually temporary, the next sync retries.",
        )
    } else {
        lang.pick("同步未完成：详情见下方原文。", "The sync did not finish: the details are below.")
    }
}

pub(super) async fn render(host: &dyn DashboardHost, v: Viewer, form: &Form) -> Result<String, UiError> {
    let lang = form.lang();
    let tz = host.timezone();
    let mut stored: HashMap<String, SourceStatus> =
        host.store().sources().await?.into_iter().map(|s| (s.state.source.clone(), s)).collect();
    let mut rows = Vec::new();
    for c in host.sources() {
        let st = stored.remove(&c.name);
        rows.push((c.name.clone(), Some(c), st));
    }
    let mut rest: Vec<_> = stored.into_iter().collect();
    rest.sort_by(|a, b| a.0.cmp(&b.0));
    rows.extend(rest.into_iter().map(|(n, st)| (n, None, Some(st))));

    let mut s =
        heading(lang.pick("数据源", "Sources"), lang.pick("各厂商账号的同步状态", "Sync state of each vendor account"));
    s.push_str(viewer_note(lang, v));
    s.push_str(r#"<section class="sources">"#);
    if rows.is_empty() {
        let _ = write!(s, r#"<p class="empty">{}</p>"#, lang.pick("还没有配置数据源。", "No sources configured yet."));
    }
    let may_sync = !v.masks_numbers();
    for (name, conf, st) in rows {
        let state = st.as_ref().map(|s| s.state.clone()).unwrap_or_default();
        let records = st.as_ref().map_or(0, |s| s.records);
        let (status_class, status) = match (&conf, &state.last_error, state.last_run) {
            (Some(c), _, _) if c.running => ("run", lang.pick("同步中", "Syncing")),
            (Some(c), _, _) if !c.enabled => ("off", lang.pick("已停用", "Disabled")),
            (None, _, _) => ("off", lang.pick("未在配置中", "Not configured")),
            (_, Some(_), _) => ("bad", lang.pick("出错", "Error")),
            (_, None, None) => ("off", lang.pick("尚未同步", "Never synced")),
            (_, None, Some(_)) => ("ok", lang.pick("正常", "OK")),
        };
        let provider = conf.as_ref().map(|c| lang.provider(c.provider)).unwrap_or("");
        let t = |x: Option<huadan_model::Instant>| x.map(|i| time(i, tz)).unwrap_or_else(|| "—".into());
        let _ = write!(
            s,
            r#"<article class="source" data-source="{}"><div class="source-head"><div><h2>{}</h2><span class="muted">{}</span></div><span class="status {status_class}">{}</span></div><dl>"#,
            esc(&name),
            esc(&name),
            esc(provider),
            status
        );
        for (k, val) in [
            (lang.pick("记录数", "Records"), thousands(records)),
            (lang.pick("最近成功", "Last success"), t(state.last_success)),
            (lang.pick("最近运行", "Last run"), t(state.last_run)),
            (lang.pick("已同步至", "Synced up to"), t(state.checkpoint)),
            (lang.pick("历史起点", "History from"), t(state.backfill_start)),
            (lang.pick("待重访窗口", "Windows to revisit"), state.open_windows.len().to_string()),
        ] {
            let _ = write!(s, "<dt>{}</dt><dd>{}</dd>", esc(k), esc(&val));
        }
        s.push_str("</dl>");
        if let Some(err) = &state.last_error {
            let _ = write!(
                s,
                r#"<div class="error-box"><p>{}</p><code>{}</code></div>"#,
                esc(explain(lang, err)),
                esc(err)
            );
        }
        if may_sync && conf.as_ref().is_some_and(|c| c.enabled) {
            let _ = write!(
                s,
                r#"<div class="source-actions"><button class="primary" data-sync="{}">{}</button><span class="sync-msg"></span></div>"#,
                esc(&name),
                lang.pick("立即同步", "Sync now")
            );
        }
        s.push_str("</article>");
    }
    s.push_str("</section>");
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_explained_in_plain_words() {
        assert!(explain(Lang::Zh, "auth failed: the vendor refused the credentials (401)").contains("凭证"));
        assert!(explain(Lang::En, "rate limited by the vendor, retry after 30s").contains("rate-limiting"));
        assert!(explain(Lang::Zh, "cannot connect to 127.0.0.1:9: connection refused").contains("连不上"));
        assert!(explain(Lang::En, "strange").contains("did not finish"));
    }
}
