//! Self-contained HTML with inline SVG charts: readable in any browser, no server,
//! no scripts, nothing fetched.

/// At most `n` characters, with an ellipsis when cut (the full text goes in a <title>).
fn short(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        s.chars().take(n - 1).collect::<String>() + "…"
    }
}

pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// Vertical bars (e.g. one per month), with each value written above its bar.
pub fn columns(title: &str, labels: &[String], values: &[f64], fmt: &dyn Fn(f64) -> String) -> String {
    let (w, h, left, bottom) = (760.0, 240.0, 40.0, 40.0);
    let max = values.iter().copied().fold(0.0_f64, f64::max).max(1e-9);
    let n = values.len().max(1) as f64;
    let bw = (w - left - 10.0) / n;
    let mut s = format!(
        r#"<figure><figcaption>{}</figcaption><svg viewBox="0 0 {w} {h}" width="100%" role="img" aria-label="{}">"#,
        esc(title),
        esc(title)
    );
    s += &format!(r##"<line x1="{left}" y1="{y}" x2="{w}" y2="{y}" stroke="#999"/>"##, y = h - bottom);
    for (i, (l, v)) in labels.iter().zip(values).enumerate() {
        let bh = (h - bottom - 20.0) * v / max;
        let x = left + i as f64 * bw;
        let y = h - bottom - bh;
        s += &format!(
            r##"<rect x="{:.1}" y="{y:.1}" width="{:.1}" height="{bh:.1}" fill="#c0392b"><title>{}: {}</title></rect>"##,
            x + 2.0,
            (bw - 4.0).max(1.0),
            esc(l),
            fmt(*v)
        );
        if n <= 30.0 {
            s += &format!(
                r#"<text x="{:.1}" y="{:.1}" font-size="9" text-anchor="middle">{}</text>"#,
                x + bw / 2.0,
                y - 3.0,
                fmt(*v)
            );
            s += &format!(
                r#"<text x="{:.1}" y="{:.1}" font-size="9" text-anchor="end" transform="rotate(-45 {:.1} {:.1})">{}</text>"#,
                x + bw / 2.0,
                h - bottom + 12.0,
                x + bw / 2.0,
                h - bottom + 12.0,
                esc(l)
            );
        }
    }
    s + "</svg></figure>"
}

/// A Pareto chart: bars ranked by value with the cumulative share as a line.
pub fn pareto(title: &str, labels: &[String], values: &[f64], cumulative: &[f64]) -> String {
    let (w, h, left, bottom) = (760.0, 300.0, 70.0, 110.0);
    let max = values.iter().copied().fold(0.0_f64, f64::max).max(1e-9);
    let n = values.len().max(1) as f64;
    let bw = (w - left - 40.0) / n;
    let top = 20.0;
    let plot = h - bottom - top;
    let mut s = format!(
        r#"<figure><figcaption>{}</figcaption><svg viewBox="0 0 {w} {h}" width="100%" role="img" aria-label="{}">"#,
        esc(title),
        esc(title)
    );
    s += &format!(r##"<line x1="{left}" y1="{y}" x2="{x}" y2="{y}" stroke="#999"/>"##, y = h - bottom, x = w - 40.0);
    let mut points = Vec::new();
    for (i, (l, v)) in labels.iter().zip(values).enumerate() {
        let bh = plot * v / max;
        let x = left + i as f64 * bw;
        s += &format!(
            r##"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{bh:.1}" fill="#2c7fb8"><title>{}: {:.0}</title></rect>"##,
            x + 3.0,
            h - bottom - bh,
            (bw - 6.0).max(1.0),
            esc(l),
            v
        );
        s += &format!(
            r#"<text x="{:.1}" y="{:.1}" font-size="10" text-anchor="end" transform="rotate(-40 {:.1} {:.1})"><title>{}</title>{}</text>"#,
            x + bw / 2.0,
            h - bottom + 12.0,
            x + bw / 2.0,
            h - bottom + 12.0,
            esc(l),
            esc(&short(l, 22))
        );
        let c = cumulative.get(i).copied().unwrap_or(0.0);
        points.push(format!("{:.1},{:.1}", x + bw / 2.0, h - bottom - plot * c));
    }
    s += &format!(r##"<polyline points="{}" fill="none" stroke="#e67e22" stroke-width="2"/>"##, points.join(" "));
    for (p, c) in points.iter().zip(cumulative) {
        let (x, y) = p.split_once(',').unwrap_or(("0", "0"));
        s += &format!(
            r##"<circle cx="{x}" cy="{y}" r="3" fill="#e67e22"><title>{:.0}% cumulative</title></circle>"##,
            100.0 * c
        );
    }
    s += &format!(
        r##"<text x="{}" y="{top}" font-size="10" fill="#e67e22">100%</text><text x="{}" y="{}" font-size="10" fill="#e67e22">0%</text>"##,
        w - 36.0,
        w - 36.0,
        h - bottom
    );
    s + "</svg></figure>"
}

/// Horizontal bars, one per labelled value (e.g. causes by value held back).
pub fn bars(title: &str, labels: &[String], values: &[f64], fmt: &dyn Fn(f64) -> String) -> String {
    let row = 26.0;
    let (w, left) = (760.0, 300.0);
    let h = row * labels.len().max(1) as f64 + 10.0;
    let max = values.iter().copied().fold(0.0_f64, f64::max).max(1e-9);
    let mut s = format!(
        r#"<figure><figcaption>{}</figcaption><svg viewBox="0 0 {w} {h}" width="100%" role="img" aria-label="{}">"#,
        esc(title),
        esc(title)
    );
    for (i, (l, v)) in labels.iter().zip(values).enumerate() {
        let y = 5.0 + i as f64 * row;
        let bw = (w - left - 90.0) * v / max;
        s += &format!(
            r#"<text x="{:.1}" y="{:.1}" font-size="11" text-anchor="end"><title>{}</title>{}</text>"#,
            left - 6.0,
            y + 15.0,
            esc(l),
            esc(&short(l, 44))
        );
        s += &format!(r##"<rect x="{left}" y="{y:.1}" width="{bw:.1}" height="{:.1}" fill="#8e44ad"/>"##, row - 8.0);
        s += &format!(r#"<text x="{:.1}" y="{:.1}" font-size="11">{}</text>"#, left + bw + 4.0, y + 14.0, fmt(*v));
    }
    s + "</svg></figure>"
}

pub const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:900px;margin:2em auto;padding:0 1em;color:#222}
h1{font-size:1.6em}h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;width:100%;font-size:.9em}th,td{padding:.3em .5em;border-bottom:1px solid #eee;text-align:left}
td.n{text-align:right;font-variant-numeric:tabular-nums}figure{margin:1em 0}figcaption{font-weight:600;margin-bottom:.3em}
.swot{display:grid;grid-template-columns:1fr 1fr;gap:1em}.swot div{background:#f7f7f7;padding:.5em 1em;border-radius:6px}
.headline{font-size:1.1em;background:#fdf2f0;padding:.8em 1em;border-radius:6px}
.note{color:#555;font-size:.9em;margin-top:-.4em}";

/// Lines over a shared x axis in a captioned figure (the chart is the web
/// app's, so the report and the dashboard draw it the same way).
pub fn lines(title: &str, x_label: &str, x: &[f64], series: &[(String, Vec<f64>)]) -> String {
    format!(
        "<figure><figcaption>{}</figcaption>{}</figure>",
        esc(title),
        winback_web::svg::lines(title, x_label, x, series)
    )
}
