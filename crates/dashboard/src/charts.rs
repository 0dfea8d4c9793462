//! Server-drawn SVG charts: stacked daily bars, a daily rate line and a weekday × hour
//! heatmap. Plain strings, no scripting; `<title>` children give hover tooltips.

use crate::format::{esc, percent, thousands};
use crate::i18n::Lang;
use std::fmt::Write;

/// The providers' colours, in `Provider::ALL` order (restrained, distinguishable).
pub(crate) const PROVIDER_COLOURS: [&str; 5] = ["#3e63dd", "#2b9a8f", "#e0a33b", "#8e6bd1", "#d9665b"];

const W: f64 = 1000.0;
const PAD_L: f64 = 48.0;
const PAD_R: f64 = 12.0;
const PAD_T: f64 = 12.0;
const PAD_B: f64 = 28.0;

/// A "nice" axis maximum and step for values up to `max`.
fn nice_axis(max: u64) -> (u64, u64) {
    if max == 0 {
        return (4, 1);
    }
    let raw = (max as f64 / 4.0).max(1.0);
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0].iter().map(|m| m * mag).find(|s| *s >= raw).unwrap_or(10.0 * mag);
    let step = step.ceil().max(1.0) as u64;
    (step * max.div_ceil(step), step)
}

fn short_day(key: &str) -> &str {
    key.get(5..).unwrap_or(key)
}

/// Calls per day, stacked by provider. `days`: (`YYYY-MM-DD`, calls per provider).
pub(crate) fn stacked_days(lang: Lang, days: &[(String, [u64; 5])], names: &[&str; 5]) -> String {
    let h = 210.0;
    let plot_h = h - PAD_T - PAD_B;
    let plot_w = W - PAD_L - PAD_R;
    let max = days.iter().map(|(_, v)| v.iter().sum::<u64>()).max().unwrap_or(0);
    let (top, step) = nice_axis(max);
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg class="chart" viewBox="0 0 {W} {h}" role="img" aria-label="{}">"#,
        lang.pick("每日通话量", "Calls per day")
    );
    let mut v = 0;
    while v <= top {
        let y = PAD_T + plot_h - plot_h * v as f64 / top as f64;
        let _ = write!(
            s,
            r#"<line class="grid" x1="{PAD_L}" x2="{}" y1="{y:.1}" y2="{y:.1}"/><text class="axis" x="{}" y="{:.1}" text-anchor="end">{}</text>"#,
            W - PAD_R,
            PAD_L - 6.0,
            y + 4.0,
            thousands(v)
        );
        v += step;
    }
    let n = days.len().max(1) as f64;
    let slot = plot_w / n;
    let bar = (slot * 0.7).max(1.0);
    let label_every = (days.len() / 12).max(1);
    for (i, (day, vals)) in days.iter().enumerate() {
        let x = PAD_L + slot * i as f64 + (slot - bar) / 2.0;
        let mut y = PAD_T + plot_h;
        let total: u64 = vals.iter().sum();
        let mut tip = format!("{day}  {}: {}", lang.pick("合计", "Total"), thousands(total));
        for (p, c) in vals.iter().enumerate() {
            if *c > 0 {
                let _ = write!(tip, "\n{}: {}", names[p], thousands(*c));
            }
        }
        let _ = write!(s, "<g><title>{}</title>", esc(&tip));
        for (p, c) in vals.iter().enumerate() {
            if *c == 0 {
                continue;
            }
            let bh = plot_h * *c as f64 / top as f64;
            y -= bh;
            let _ = write!(
                s,
                r#"<rect x="{x:.1}" y="{y:.1}" width="{bar:.1}" height="{bh:.1}" fill="{}"/>"#,
                PROVIDER_COLOURS[p]
            );
        }
        s.push_str("</g>");
        if i % label_every == 0 {
            let _ = write!(
                s,
                r#"<text class="axis" x="{:.1}" y="{}" text-anchor="middle">{}</text>"#,
                x + bar / 2.0,
                h - 8.0,
                esc(short_day(day))
            );
        }
    }
    s.push_str("</svg>");
    s
}

/// Answered rate per day (days without calls leave a gap).
pub(crate) fn rate_days(lang: Lang, days: &[(String, Option<f64>)]) -> String {
    // Drawn half-width on the page: a narrower canvas keeps the labels legible.
    const W: f64 = 560.0;
    let h = 200.0;
    let plot_h = h - PAD_T - PAD_B;
    let plot_w = W - PAD_L - PAD_R;
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg class="chart" viewBox="0 0 {W} {h}" role="img" aria-label="{}">"#,
        lang.pick("每日接通率", "Answered rate per day")
    );
    for pct in [0, 25, 50, 75, 100] {
        let y = PAD_T + plot_h - plot_h * pct as f64 / 100.0;
        let _ = write!(
            s,
            r#"<line class="grid" x1="{PAD_L}" x2="{}" y1="{y:.1}" y2="{y:.1}"/><text class="axis" x="{}" y="{:.1}" text-anchor="end">{pct}%</text>"#,
            W - PAD_R,
            PAD_L - 6.0,
            y + 4.0
        );
    }
    let n = days.len().max(1) as f64;
    let slot = plot_w / n;
    let label_every = (days.len() / 6).max(1);
    let mut path = String::new();
    let mut pen_down = false;
    let mut dots = String::new();
    for (i, (day, rate)) in days.iter().enumerate() {
        let x = PAD_L + slot * i as f64 + slot / 2.0;
        if let Some(r) = rate {
            let y = PAD_T + plot_h - plot_h * r.clamp(0.0, 1.0);
            let _ = write!(path, "{}{x:.1},{y:.1} ", if pen_down { "L" } else { "M" });
            pen_down = true;
            let _ = write!(
                dots,
                r#"<circle cx="{x:.1}" cy="{y:.1}" r="3"><title>{} {}</title></circle>"#,
                esc(day),
                percent(*r)
            );
        } else {
            pen_down = false;
        }
        if i % label_every == 0 {
            let _ = write!(
                s,
                r#"<text class="axis" x="{x:.1}" y="{}" text-anchor="middle">{}</text>"#,
                h - 8.0,
                esc(short_day(day))
            );
        }
    }
    let _ = write!(s, r#"<path class="rate" d="{}"/><g class="dots">{dots}</g></svg>"#, path.trim_end());
    s
}

/// Calls by weekday (rows, Monday first) and hour (columns).
pub(crate) fn heatmap(lang: Lang, grid: &[[u64; 24]; 7]) -> String {
    let (cell_w, cell_h, left, top) = (21.0, 24.0, 40.0, 20.0);
    let w = left + cell_w * 24.0 + 4.0;
    let h = top + cell_h * 7.0 + 4.0;
    let max = grid.iter().flat_map(|r| r.iter()).copied().max().unwrap_or(0).max(1);
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg class="chart heat" viewBox="0 0 {w} {h}" role="img" aria-label="{}">"#,
        lang.pick("星期 × 小时 通话量", "Calls by weekday and hour")
    );
    for hour in (0..24).step_by(3) {
        let _ = write!(
            s,
            r#"<text class="axis" x="{:.1}" y="13" text-anchor="middle">{hour:02}</text>"#,
            left + cell_w * hour as f64 + cell_w / 2.0
        );
    }
    for (d, row) in grid.iter().enumerate() {
        let y = top + cell_h * d as f64;
        let _ = write!(
            s,
            r#"<text class="axis" x="{}" y="{:.1}" text-anchor="end">{}</text>"#,
            left - 8.0,
            y + cell_h / 2.0 + 4.0,
            lang.weekday(d + 1)
        );
        for (hour, c) in row.iter().enumerate() {
            let x = left + cell_w * hour as f64;
            let t = (*c as f64 / max as f64).sqrt();
            let opacity = if *c == 0 { 0.0 } else { 0.08 + 0.92 * t };
            let _ = write!(
                s,
                r#"<rect class="cell" x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" rx="3" fill-opacity="{opacity:.3}"><title>{} {hour:02}:00  {}</title></rect>"#,
                x + 1.0,
                y + 1.0,
                cell_w - 2.0,
                cell_h - 2.0,
                lang.weekday(d + 1),
                thousands(*c)
            );
        }
    }
    s.push_str("</svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axis_is_nice_and_covers_the_max() {
        assert_eq!(nice_axis(0), (4, 1));
        let (top, step) = nice_axis(1234);
        assert!(top >= 1234 && top % step == 0, "{top} {step}");
        assert_eq!(nice_axis(8), (8, 2));
    }

    #[test]
    fn stacked_bars_escape_and_stack() {
        let days = vec![("2024-03-01".to_string(), [3, 0, 1, 0, 0])];
        let svg = stacked_days(Lang::En, &days, &["<W>", "b", "c", "d", "e"]);
        assert!(svg.contains("&lt;W&gt;: 3"), "{svg}");
        assert_eq!(svg.matches("<rect").count(), 2);
        assert!(svg.contains(">03-01<"));
    }

    #[test]
    fn heatmap_has_168_cells() {
        let mut g = [[0u64; 24]; 7];
        g[0][9] = 5;
        let svg = heatmap(Lang::Zh, &g);
        assert_eq!(svg.matches("class=\"cell\"").count(), 168);
        assert!(svg.contains("周一 09:00  5"));
    }
}
