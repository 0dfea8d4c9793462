//! The dashboard over HTTP with a real SQLite store: bearer auth on every fragment,
//! viewer masking, the overview's figures against the store's stats, every filter,
//! cursor paging, call detail, sources.

mod common;

use common::*;
use huadan_model::{Direction, Disposition, Provider};
use huadan_store::{CallFilter, GroupBy};

async fn get(base: &str, path: &str, token: Option<&str>) -> (u16, String) {
    let mut req = client().get(format!("{base}{path}"));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.text().await.unwrap())
}

/// The text of `<div class="value">` in the card `data-figure="{id}"`.
fn figure(html: &str, id: &str) -> String {
    let at = html.find(&format!(r#"data-figure="{id}""#)).unwrap_or_else(|| panic!("no figure {id}"));
    let rest = &html[at..];
    let v = rest.find(r#"class="value">"#).unwrap() + r#"class="value">"#.len();
    rest[v..v + rest[v..].find('<').unwrap()].to_string()
}

fn count_rows(html: &str) -> usize {
    html.matches(r#"<tr class="row-link""#).count()
}

#[tokio::test]
async fn every_fragment_requires_a_valid_bearer_token() {
    let (_d, store, _) = seeded_store(3, 20).await;
    let base = serve(huadan_dashboard::router(host(store))).await;
    for path in ["/ui/whoami", "/ui/overview", "/ui/agents", "/ui/calls", "/ui/calls/x", "/ui/sources"] {
        assert_eq!(get(&base, path, None).await.0, 401, "{path} without a token");
        assert_eq!(get(&base, path, Some("wrong")).await.0, 401, "{path} with a wrong token");
    }
    let (status, body) = get(&base, "/ui/whoami", Some(VIEWER)).await;
    assert_eq!((status, body.as_str()), (200, r#"{"role":"viewer"}"#));
    // The page and its assets are public (they hold no data).
    let (status, page) = get(&base, "/", None).await;
    assert_eq!(status, 200);
    assert!(page.contains("通话记录") && page.contains("/assets/app.js"));
    assert!(get(&base, "/?lang=en", None).await.1.contains(">Calls<"));
    for a in ["/assets/app.js", "/assets/app.css", "/assets/icon.svg"] {
        assert_eq!(get(&base, a, None).await.0, 200, "{a}");
    }
}

#[tokio::test]
async fn overview_figures_equal_the_store_stats() {
    let (_d, store, all) = seeded_store(20, 60).await;
    let tz = tz();
    let base = serve(huadan_dashboard::router(host(store.clone()))).await;
    let today = huadan_model::Instant::now().to_zoned(tz.clone()).date();
    let from = today.checked_sub(jiff::Span::new().days(9)).unwrap();
    let q = format!("/ui/overview?from={from}&to={today}&source=&provider=");
    let (status, html) = get(&base, &q, Some(ADMIN)).await;
    assert_eq!(status, 200, "{html}");

    let since = from.to_zoned(tz.clone()).unwrap().timestamp();
    let until = today.tomorrow().unwrap().to_zoned(tz.clone()).unwrap().timestamp();
    let filter = CallFilter { since: Some(since), until: Some(until), ..CallFilter::default() };
    let rows = store.stats(&filter, GroupBy::Provider, &tz).await.unwrap();
    let calls: u64 = rows.iter().map(|r| r.calls).sum();
    let answered: u64 = rows.iter().map(|r| r.answered).sum();
    assert!(calls > 300, "the period holds the seed: {calls}");
    assert_eq!(figure(&html, "calls"), fmt_thousands(calls));
    assert_eq!(figure(&html, "answered-rate"), format!("{:.1}%", answered as f64 * 100.0 / calls as f64));
    // Missed inbound, counted from the seed itself.
    let missed = all
        .iter()
        .filter(|r| r.started_at >= since && r.started_at < until)
        .filter(|r| r.direction == Direction::Inbound && !r.disposition.is_answered())
        .count() as u64;
    assert_eq!(figure(&html, "missed-inbound"), fmt_thousands(missed));
    // Ten days on the axis, a 7 × 24 heatmap whose cells add up to the calls.
    assert_eq!(html.matches(r#"class="cell""#).count(), 168);
    let o = huadan_dashboard::overview(store.as_ref(), &filter, &tz).await.unwrap();
    assert_eq!(o.days.len(), 10);
    assert_eq!(o.heatmap.iter().flatten().sum::<u64>(), calls);
    assert_eq!(o.days.values().map(|d| d.calls()).sum::<u64>(), calls);

    // A provider filter narrows every figure.
    let (_, html) = get(&base, &format!("/ui/overview?from={from}&to={today}&provider=tanma"), Some(ADMIN)).await;
    let tanma = rows.iter().find(|r| r.key == "tanma").unwrap().calls;
    assert_eq!(figure(&html, "calls"), fmt_thousands(tanma));
}

fn fmt_thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[tokio::test]
async fn calls_filters_page_with_the_cursor_and_mask_for_viewers() {
    let (_d, store, all) = seeded_store(4, 40).await;
    let base = serve(huadan_dashboard::router(host(store))).await;

    // Paging: walk every page of inbound no-answer calls; ids newest first, none twice.
    let want: Vec<&str> = {
        let mut v: Vec<_> = all
            .iter()
            .filter(|r| r.direction == Direction::Inbound && r.disposition == Disposition::NoAnswer)
            .collect();
        v.sort_by(|a, b| b.started_at.cmp(&a.started_at).then(b.id.cmp(&a.id)));
        v.iter().map(|r| r.id.as_str()).collect()
    };
    let mut got: Vec<String> = Vec::new();
    let mut path = "/ui/calls?direction=inbound&disposition=no_answer&agent=&text=".to_string();
    for _ in 0..50 {
        let (status, html) = get(&base, &path, Some(ADMIN)).await;
        assert_eq!(status, 200, "{html}");
        for part in html.split(r#"<tr class="row-link" data-href=""#).skip(1) {
            let id_at = part.find(r#"data-id=""#).unwrap() + 9;
            got.push(part[id_at..id_at + part[id_at..].find('"').unwrap()].to_string());
        }
        match html.find(r##"id="next-page" href="#/calls?"##) {
            Some(at) => {
                let start = at + r##"id="next-page" href="#/calls?"##.len();
                let q = &html[start..start + html[start..].find('"').unwrap()];
                path = format!("/ui/calls?{}", q.replace("&amp;", "&"));
            }
            None => break,
        }
    }
    assert_eq!(got, want);
    assert!(!want.is_empty());

    // Transcript text, agent and provider filters.
    let (_, html) = get(&base, &format!("/ui/calls?text={}", enc("滤网报警")), Some(ADMIN)).await;
    let with_text = all.iter().filter(|r| r.transcript_text().contains("滤网报警")).count();
    assert_eq!(count_rows(&html), with_text.min(50));
    assert!(html.contains(&format!("共 {} 条", fmt_thousands(with_text as u64))), "count shown");
    let (_, html) = get(&base, "/ui/calls?agent=1003&provider=aliyun_ccc&lang=en", Some(ADMIN)).await;
    let n = all.iter().filter(|r| r.agent_id() == Some("1003") && r.provider == Provider::AliyunCcc).count();
    assert_eq!(count_rows(&html), n.min(50));
    assert!(html.contains("Aliyun CCC") && !html.contains("腾讯广告"));

    // Viewers: masked numbers, no number filter (not even offered).
    let newest = want.first().unwrap();
    let rec = all.iter().find(|r| r.id == *newest).unwrap();
    let number = rec.caller.number.clone().unwrap();
    let (_, admin_html) = get(&base, "/ui/calls?direction=inbound&disposition=no_answer", Some(ADMIN)).await;
    assert!(admin_html.contains(&number));
    assert!(admin_html.contains(r#"name="number""#));
    let (_, viewer_html) = get(&base, "/ui/calls?direction=inbound&disposition=no_answer", Some(VIEWER)).await;
    assert!(!viewer_html.contains(&number), "viewer sees {number}");
    assert!(viewer_html.contains(&huadan_model::mask_number(&number)));
    assert!(!viewer_html.contains(r#"name="number""#));
    let (status, _) = get(&base, &format!("/ui/calls?number={}", &number[..5]), Some(VIEWER)).await;
    assert_eq!(status, 403);
    let (status, body) = get(&base, "/ui/calls?provider=tencent", Some(ADMIN)).await;
    assert_eq!(status, 400);
    assert!(body.contains("provider"), "{body}");
    let (status, _) = get(&base, "/ui/calls?cursor=garbage", Some(ADMIN)).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn call_detail_shows_every_part_and_masks_for_viewers() {
    let (_d, store, all) = seeded_store(3, 40).await;
    let base = serve(huadan_dashboard::router(host(store))).await;
    let tanma = all.iter().find(|r| r.transcript.is_some()).expect("a transcript in the seed");
    let (status, html) = get(&base, &format!("/ui/calls/{}", enc(&tanma.id)), Some(ADMIN)).await;
    assert_eq!(status, 200);
    let sentences = &tanma.transcript.as_ref().unwrap().sentences;
    assert_eq!(html.matches(r#"<div class="bubble">"#).count(), sentences.len());
    assert!(html.contains(&sentences[1].text));
    assert!(html.contains(r#"<div class="line right">"#) && html.contains(r#"<div class="line left">"#));
    assert!(html.contains("<audio controls"));
    assert!(html.contains(&tanma.provider_call_id));
    assert!(html.contains("厂商原始数据"));

    let transferred = all.iter().find(|r| r.participants.len() == 2).expect("a transfer in the seed");
    let (_, html) = get(&base, &format!("/ui/calls/{}?lang=en", enc(&transferred.id)), Some(ADMIN)).await;
    assert_eq!(html.matches(r#"<div class="leg">"#).count(), 2);
    assert!(html.contains("transferred to") && html.contains("transferred from"));

    let number = tanma.caller.number.clone().unwrap();
    let (_, html) = get(&base, &format!("/ui/calls/{}", enc(&tanma.id)), Some(VIEWER)).await;
    assert!(!html.contains(&number));
    assert!(!html.contains("厂商原始数据"), "raw carries numbers: hidden for viewers");
    let (status, _) = get(&base, "/ui/calls/nope:1", Some(ADMIN)).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn agents_merge_vendors_and_sources_explain_errors() {
    let (_d, store, all) = seeded_store(3, 60).await;
    let base = serve(huadan_dashboard::router(host(store))).await;
    let (status, html) = get(&base, "/ui/agents", Some(ADMIN)).await;
    assert_eq!(status, 200);
    let n = all.iter().filter(|r| r.agent_id() == Some("1001")).count() as u64;
    let row_at = html.find(r#"<tr data-agent="1001">"#).expect("agent 1001 listed once");
    let row = &html[row_at..row_at + html[row_at..].find("</tr>").unwrap()];
    assert!(row.contains("王芳"));
    assert!(row.contains(&format!(r#"data-v="{n}">"#)), "{row}");
    let vendors: std::collections::BTreeSet<_> =
        all.iter().filter(|r| r.agent_id() == Some("1001")).map(|r| r.provider).collect();
    assert_eq!(row.matches("class=\"chip").count(), vendors.len());
    assert_eq!(html.matches(r#"<tr data-agent="1001">"#).count(), 1);

    let (_, html) = get(&base, "/ui/sources", Some(ADMIN)).await;
    assert_eq!(html.matches(r#"<article class="source""#).count(), 5);
    assert!(html.contains("厂商拒绝了登录凭证"), "plain words for the auth error");
    assert_eq!(html.matches("data-sync=").count(), 5);
    let (_, html) = get(&base, "/ui/sources?lang=en", Some(VIEWER)).await;
    assert_eq!(html.matches("data-sync=").count(), 0, "viewers cannot sync");
    assert!(html.contains("refused the credentials"));
}

/// The store without its one-pass rollup, as a backend that lacks it looks.
struct NoRollup(huadan_store::DynStore);

#[async_trait::async_trait]
impl huadan_store::Store for NoRollup {
    async fn commit(&self, b: huadan_store::Batch) -> Result<huadan_store::WriteStats, huadan_store::StoreError> {
        self.0.commit(b).await
    }
    async fn load_state(&self, s: &str) -> Result<Option<huadan_store::SyncState>, huadan_store::StoreError> {
        self.0.load_state(s).await
    }
    async fn sources(&self) -> Result<Vec<huadan_store::SourceStatus>, huadan_store::StoreError> {
        self.0.sources().await
    }
    async fn calls(&self, q: &huadan_store::CallQuery) -> Result<huadan_store::CallPage, huadan_store::StoreError> {
        self.0.calls(q).await
    }
    async fn call(&self, id: &str) -> Result<Option<huadan_model::CallRecord>, huadan_store::StoreError> {
        self.0.call(id).await
    }
    async fn count(&self, f: &CallFilter) -> Result<u64, huadan_store::StoreError> {
        self.0.count(f).await
    }
    async fn stats(
        &self,
        f: &CallFilter,
        by: GroupBy,
        tz: &jiff::tz::TimeZone,
    ) -> Result<Vec<huadan_store::StatsRow>, huadan_store::StoreError> {
        self.0.stats(f, by, tz).await
    }
    fn export(
        &self,
        f: CallFilter,
    ) -> futures::stream::BoxStream<'static, Result<huadan_model::CallRecord, huadan_store::StoreError>> {
        self.0.export(f)
    }
}

#[tokio::test]
async fn overview_from_the_rollup_equals_overview_from_stats() {
    let (_d, store, _) = seeded_store(12, 50).await;
    let tz = tz();
    let today = huadan_model::Instant::now().to_zoned(tz.clone()).date();
    let since = today.checked_sub(jiff::Span::new().days(10)).unwrap().to_zoned(tz.clone()).unwrap().timestamp();
    let until = today.tomorrow().unwrap().to_zoned(tz.clone()).unwrap().timestamp();
    assert!(store.rollup(&CallFilter::default()).await.unwrap().is_some(), "SQLite has the one-pass rollup");
    let plain = NoRollup(store.clone());
    for filter in [
        CallFilter { since: Some(since), until: Some(until), ..CallFilter::default() },
        CallFilter {
            since: Some(since),
            until: Some(until),
            providers: vec![Provider::Tanma, Provider::Wecom],
            directions: vec![Direction::Inbound],
            ..CallFilter::default()
        },
        CallFilter {
            since: Some(since),
            until: Some(until),
            dispositions: vec![Disposition::Busy],
            ..CallFilter::default()
        },
    ] {
        let fast = huadan_dashboard::overview(store.as_ref(), &filter, &tz).await.unwrap();
        let slow = huadan_dashboard::overview(&plain, &filter, &tz).await.unwrap();
        assert!(fast.calls > 0, "{filter:?}");
        assert_eq!(fast, slow, "{filter:?}");
    }
}
