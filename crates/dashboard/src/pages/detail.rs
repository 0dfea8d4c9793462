//! The Call detail page: every field, the legs as a timeline (ring → answer → end, with
//! transfers), an audio player per recording, the transcript as a dialogue.

use super::calls::{disposition_badge, party};
use super::heading;
use crate::DashboardHost;
use crate::auth::Viewer;
use crate::error::UiError;
use crate::format::{clock, duration, esc, offset_ms, time};
use crate::i18n::Lang;
use crate::query::Form;
use huadan_model::{CallRecord, Instant, Participant};
use jiff::tz::TimeZone;
use std::fmt::Write;

pub(super) async fn render(host: &dyn DashboardHost, v: Viewer, form: &Form, id: &str) -> Result<String, UiError> {
    let lang = form.lang();
    let tz = host.timezone();
    let mut r = host.store().call(id).await?.ok_or_else(|| UiError::NotFound(format!("no call has id `{id}`")))?;
    if v.masks_numbers() {
        r.mask_numbers();
    }
    let title = format!(
        "{} → {}",
        r.caller.number.clone().or_else(|| r.caller.name.clone()).unwrap_or_else(|| "?".into()),
        r.callee.number.clone().or_else(|| r.callee.name.clone()).unwrap_or_else(|| "?".into())
    );
    let mut s = format!(
        r#"<p class="crumbs"><a href="javascript:history.back()">{}</a></p>"#,
        lang.pick("← 返回列表", "← Back")
    );
    s.push_str(&heading(&title, &format!("{} · {} · {}", time(r.started_at, tz), lang.provider(r.provider), r.source)));
    s.push_str(r#"<div class="detail">"#);
    s.push_str(&fields(lang, &r, tz));
    s.push_str(r#"<div class="side">"#);
    s.push_str(&timeline(lang, &r, tz));
    s.push_str(&recordings(lang, &r, tz));
    s.push_str(&transcript(lang, &r));
    if !r.raw.is_null() {
        let raw = serde_json::to_string_pretty(&r.raw.to_value()).unwrap_or_default();
        let _ = write!(
            s,
            r#"<section class="panel"><details><summary>{}</summary><pre class="raw">{}</pre></details></section>"#,
            lang.pick("厂商原始数据", "Vendor's raw record"),
            esc(&raw)
        );
    }
    s.push_str("</div></div>");
    Ok(s)
}

fn opt<T: ToString>(v: &Option<T>) -> String {
    v.as_ref().map(|x| esc(&x.to_string())).unwrap_or_else(|| r#"<span class="muted">—</span>"#.into())
}

fn fields(lang: Lang, r: &CallRecord, tz: &TimeZone) -> String {
    let t = |x: &Option<Instant>| x.map(|i| time(i, tz)).unwrap_or_else(|| "—".into());
    let d = |x: &Option<i64>| x.map(|n| format!("{} ({n}s)", duration(lang, n))).unwrap_or_else(|| "—".into());
    let agent = r.agent.as_ref();
    let rows: Vec<(&str, String)> = vec![
        (lang.pick("结果", "Outcome"), disposition_badge(lang, r)),
        (lang.pick("厂商状态", "Vendor status"), esc(&r.disposition_detail)),
        (lang.pick("方向", "Direction"), esc(lang.direction(r.direction))),
        (lang.pick("主叫", "Caller"), party(lang, &r.caller)),
        (lang.pick("被叫", "Callee"), party(lang, &r.callee)),
        (
            lang.pick("坐席", "Agent"),
            agent
                .map(|a| {
                    format!(
                        "{} {}",
                        opt(&a.name),
                        a.id.as_deref().map(|i| format!(r#"<span class="id">{}</span>"#, esc(i))).unwrap_or_default()
                    )
                })
                .unwrap_or_else(|| "—".into()),
        ),
        (lang.pick("坐席电话", "Agent phone"), agent.map(|a| opt(&a.phone)).unwrap_or_else(|| "—".into())),
        (lang.pick("坐席邮箱", "Agent email"), agent.map(|a| opt(&a.email)).unwrap_or_else(|| "—".into())),
        (lang.pick("工号", "Staff number"), agent.map(|a| opt(&a.staff_number)).unwrap_or_else(|| "—".into())),
        (lang.pick("技能组", "Skill groups"), agent.map(|a| esc(&a.skill_groups.join("、"))).unwrap_or_default()),
        (lang.pick("部门", "Department"), agent.map(|a| opt(&a.department)).unwrap_or_else(|| "—".into())),
        (lang.pick("开始", "Started"), time(r.started_at, tz)),
        (lang.pick("振铃", "Ringing"), t(&r.ringing_at)),
        (lang.pick("接通", "Answered"), t(&r.answered_at)),
        (lang.pick("结束", "Ended"), t(&r.ended_at)),
        (lang.pick("通话时长", "Talk"), d(&r.talk_seconds)),
        (lang.pick("振铃时长", "Ringing time"), d(&r.ring_seconds)),
        (lang.pick("IVR 时长", "IVR time"), d(&r.ivr_seconds)),
        (lang.pick("排队时长", "Queue time"), d(&r.queue_seconds)),
        (lang.pick("总时长", "Total"), d(&r.total_seconds)),
        (lang.pick("时长精度", "Duration precision"), esc(r.duration_precision.as_str())),
        (lang.pick("挂断方", "Hung up by"), r.hangup_side.map(|h| esc(lang.hangup(h))).unwrap_or_else(|| "—".into())),
        (lang.pick("渠道", "Channel"), opt(&r.channel)),
        (lang.pick("线索 ID", "Lead id"), opt(&r.lead_id)),
        (lang.pick("备注", "Remark"), opt(&r.remark)),
        (lang.pick("满意度", "Satisfaction"), opt(&r.satisfaction)),
        (lang.pick("IVR 按键", "IVR keys"), opt(&r.ivr_keys)),
        (lang.pick("归属地", "Location"), opt(&r.location)),
        (lang.pick("账号", "Account"), opt(&r.account)),
        (lang.pick("来源", "Source"), esc(&r.source)),
        (lang.pick("平台", "Provider"), esc(lang.provider(r.provider))),
        (lang.pick("厂商通话 ID", "Vendor call id"), format!(r#"<code>{}</code>"#, esc(&r.provider_call_id))),
        (lang.pick("记录 ID", "Record id"), format!(r#"<code>{}</code>"#, esc(&r.id))),
        (lang.pick("同步时间", "Synced at"), t(&r.synced_at)),
    ];
    let mut s = format!(r#"<section class="panel fields"><h2>{}</h2><dl>"#, lang.pick("通话信息", "Call"));
    for (k, v) in rows {
        let _ = write!(s, "<dt>{}</dt><dd>{v}</dd>", esc(k));
    }
    s.push_str("</dl></section>");
    s
}

/// The legs on one time axis: ringing (light) then talking (solid) until the end.
fn timeline(lang: Lang, r: &CallRecord, tz: &TimeZone) -> String {
    let legs: Vec<Participant> = if r.participants.is_empty() {
        vec![Participant {
            role: lang.pick("通话", "call").to_string(),
            number: r.callee.number.clone(),
            name: r.callee.name.clone(),
            ringing_at: r.ringing_at.or(Some(r.started_at)),
            answered_at: r.answered_at,
            ended_at: r.ended_at,
            talk_seconds: r.talk_seconds,
            ..Participant::default()
        }]
    } else {
        r.participants.clone()
    };
    let start =
        legs.iter().filter_map(|p| p.ringing_at.or(p.answered_at)).chain([r.started_at]).min().unwrap_or(r.started_at);
    let end = legs
        .iter()
        .filter_map(|p| p.ended_at)
        .chain(r.ended_at)
        .max()
        .unwrap_or(start)
        .max(start + jiff::SignedDuration::from_secs(1));
    let span = ((end.as_millisecond() - start.as_millisecond()) as f64 / 1000.0).max(1.0);
    let pos =
        |t: Instant| (((t.as_millisecond() - start.as_millisecond()) as f64 / 1000.0) / span * 100.0).clamp(0.0, 100.0);
    let mut s = format!(
        r#"<section class="panel"><h2>{}</h2><div class="timeline"><div class="tl-axis"><span>{}</span><span>{}</span></div>"#,
        lang.pick("通话过程", "Legs"),
        clock(start, tz),
        clock(end, tz)
    );
    for p in &legs {
        let who = p.name.clone().or_else(|| p.number.clone()).or_else(|| p.user_id.clone()).unwrap_or_default();
        let ring = p.ringing_at.unwrap_or(start);
        let stop = p.ended_at.unwrap_or(end);
        let mut bar = String::new();
        match p.answered_at {
            Some(a) => {
                let _ = write!(
                    bar,
                    r#"<i class="ring" style="left:{:.2}%;width:{:.2}%"></i>"#,
                    pos(ring),
                    (pos(a) - pos(ring)).max(0.3)
                );
                let _ = write!(
                    bar,
                    r#"<i class="talk" style="left:{:.2}%;width:{:.2}%"></i>"#,
                    pos(a),
                    (pos(stop) - pos(a)).max(0.3)
                );
            }
            None => {
                let _ = write!(
                    bar,
                    r#"<i class="ring missed" style="left:{:.2}%;width:{:.2}%"></i>"#,
                    pos(ring),
                    (pos(stop) - pos(ring)).max(0.3)
                );
            }
        }
        let mut notes = Vec::new();
        notes.push(format!(
            "{} {}",
            lang.pick("振铃", "ring"),
            p.ringing_at.map(|t| clock(t, tz)).unwrap_or_else(|| "—".into())
        ));
        notes.push(match p.answered_at {
            Some(t) => format!("{} {}", lang.pick("接通", "answer"), clock(t, tz)),
            None => lang.pick("未接通", "not answered").to_string(),
        });
        notes.push(format!(
            "{} {}",
            lang.pick("结束", "end"),
            p.ended_at.map(|t| clock(t, tz)).unwrap_or_else(|| "—".into())
        ));
        if let Some(from) = &p.transfer_from {
            notes.push(format!("{} {from}", lang.pick("转接自", "transferred from")));
        }
        if let Some(to) = &p.transfer_to {
            notes.push(format!("{} {to}", lang.pick("转接至", "transferred to")));
        }
        let _ = write!(
            s,
            r#"<div class="leg"><div class="leg-who"><b>{}</b> <span class="muted">{}</span></div><div class="leg-bar">{bar}</div><div class="leg-notes">{}</div></div>"#,
            esc(&p.role),
            esc(&who),
            esc(&notes.join(" · "))
        );
    }
    s.push_str("</div></section>");
    s
}

fn recordings(lang: Lang, r: &CallRecord, tz: &TimeZone) -> String {
    if r.recordings.is_empty() {
        return String::new();
    }
    let mut s = format!(r#"<section class="panel"><h2>{}</h2>"#, lang.pick("录音", "Recordings"));
    for (i, rec) in r.recordings.iter().enumerate() {
        let expires = rec
            .expires_at
            .map(|t| {
                format!(r#"<span class="muted">{} {}</span>"#, lang.pick("链接有效期至", "link expires"), time(t, tz))
            })
            .unwrap_or_default();
        let _ = write!(
            s,
            r#"<div class="recording"><div>{} {} {expires}</div><audio controls preload="none" src="{}"></audio></div>"#,
            lang.pick("录音", "Recording"),
            i + 1,
            esc(&rec.url)
        );
    }
    s.push_str("</section>");
    s
}

fn transcript(lang: Lang, r: &CallRecord) -> String {
    let Some(t) = &r.transcript else { return String::new() };
    let status = match t.status {
        huadan_model::TranscriptStatus::Pending => lang.pick("转写中", "pending"),
        huadan_model::TranscriptStatus::Done => lang.pick("已完成", "done"),
        huadan_model::TranscriptStatus::Failed => lang.pick("转写失败", "failed"),
    };
    let mut s = format!(
        r#"<section class="panel" id="transcript"><h2>{} <span class="muted small">{status}</span></h2><div class="dialogue">"#,
        lang.pick("通话转写", "Transcript")
    );
    let first_channel = t.sentences.iter().find_map(|x| x.channel.clone());
    for line in &t.sentences {
        let side = if line.channel.is_some() && line.channel != first_channel { "right" } else { "left" };
        let who = match line.channel.as_deref() {
            Some(c) => format!("{} {c}", lang.pick("声道", "channel")),
            None => String::new(),
        };
        let _ = write!(
            s,
            r#"<div class="line {side}"><div class="meta">{} – {} {}</div><div class="bubble">{}</div></div>"#,
            offset_ms(line.begin_ms),
            offset_ms(line.end_ms),
            esc(&who),
            esc(&line.text)
        );
    }
    s.push_str("</div></section>");
    s
}
