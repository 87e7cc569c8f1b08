//! Charts drawn on the server as SVG (no script; the CSP allows no inline
//! styles, so sizes are attributes). Labels are escaped here: the output is
//! inserted into pages as markup.

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

/// Vertical bars, one per (label, value), with a title for screen readers.
pub fn columns(title: &str, items: &[(String, f64)], unit: &str) -> String {
    let (w, h, pad) = (640.0, 220.0, 28.0);
    let max = items.iter().map(|x| x.1).fold(0.0_f64, f64::max).max(1e-9);
    let n = items.len().max(1) as f64;
    let step = (w - 2.0 * pad) / n;
    let mut s = format!(
        "<svg class=\"chart\" viewBox=\"0 0 {w} {h}\" role=\"img\" aria-label=\"{}\"><title>{}</title>",
        esc(title),
        esc(title)
    );
    for (i, (label, v)) in items.iter().enumerate() {
        let bh = (h - 2.0 * pad) * v / max;
        let x = pad + i as f64 * step;
        s += &format!(
            "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"#1f5fbf\"><title>{}: {}{}</title></rect>",
            x + step * 0.1,
            h - pad - bh,
            step * 0.8,
            bh,
            esc(label),
            fmt(*v),
            esc(unit)
        );
        // every other label when crowded
        if items.len() <= 12 || i % 2 == 0 {
            s += &format!(
                "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"middle\" fill=\"#5b6475\">{}</text>",
                x + step / 2.0,
                h - pad + 14.0,
                esc(label)
            );
        }
    }
    s += &format!(
        "<text x=\"{pad}\" y=\"14\" font-size=\"11\" fill=\"#5b6475\">max {}{}</text></svg>",
        fmt(max),
        esc(unit)
    );
    s
}

/// Horizontal bars with their labels and values, largest first as given.
pub fn bars(title: &str, items: &[(String, f64)], money: bool) -> String {
    let (w, row) = (640.0, 26.0);
    let h = row * items.len().max(1) as f64 + 8.0;
    let max = items.iter().map(|x| x.1).fold(0.0_f64, f64::max).max(1e-9);
    let mut s = format!(
        "<svg class=\"chart\" viewBox=\"0 0 {w} {h}\" role=\"img\" aria-label=\"{}\"><title>{}</title>",
        esc(title),
        esc(title)
    );
    for (i, (label, v)) in items.iter().enumerate() {
        let y = 4.0 + i as f64 * row;
        let bw = 300.0 * v / max;
        let value = if money { winback_domain::decision::format_money(*v) } else { fmt(*v) };
        s += &format!(
            "<text x=\"0\" y=\"{:.1}\" font-size=\"13\" fill=\"#1d2330\">{}</text><rect x=\"230\" y=\"{:.1}\" width=\"{bw:.1}\" height=\"{:.1}\" fill=\"#1f5fbf\"/><text x=\"{:.1}\" y=\"{:.1}\" font-size=\"12\" fill=\"#5b6475\">{}</text>",
            y + 16.0,
            esc(label),
            y + 3.0,
            row - 8.0,
            236.0 + bw,
            y + 16.0,
            esc(&value)
        );
    }
    s + "</svg>"
}

fn fmt(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

/// Lines over a shared x axis (e.g. cumulative purchases per week), one colour
/// each with a legend; the first series (the actual one) drawn thick.
pub fn lines(title: &str, x_label: &str, x: &[f64], series: &[(String, Vec<f64>)]) -> String {
    const COLOURS: [&str; 5] = ["#222222", "#c0392b", "#1f5fbf", "#229954", "#b9770e"];
    let (w, h, left, bottom, top) = (640.0, 240.0, 52.0, 34.0, 30.0);
    let xmax = x.iter().copied().fold(0.0_f64, f64::max).max(1e-9);
    let ymax =
        series.iter().flat_map(|s| s.1.iter().copied()).filter(|v| v.is_finite()).fold(0.0_f64, f64::max).max(1e-9);
    let px = |v: f64| left + (w - left - 10.0) * v / xmax;
    let py = |v: f64| h - bottom - (h - bottom - top) * v / ymax;
    let mut s = format!(
        "<svg class=\"chart\" viewBox=\"0 0 {w} {h}\" role=\"img\" aria-label=\"{}\"><title>{}</title>",
        esc(title),
        esc(title)
    );
    s += &format!("<line x1=\"{left}\" y1=\"{y}\" x2=\"{w}\" y2=\"{y}\" stroke=\"#999999\"/>", y = h - bottom);
    s += &format!("<line x1=\"{left}\" y1=\"{top}\" x2=\"{left}\" y2=\"{y}\" stroke=\"#999999\"/>", y = h - bottom);
    for k in 0..=4 {
        let (v, xv) = (ymax * f64::from(k) / 4.0, xmax * f64::from(k) / 4.0);
        s += &format!(
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"10\" text-anchor=\"end\" fill=\"#5b6475\">{}</text>",
            left - 4.0,
            py(v) + 3.0,
            fmt(v)
        );
        s += &format!(
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"10\" text-anchor=\"middle\" fill=\"#5b6475\">{}</text>",
            px(xv),
            h - bottom + 13.0,
            fmt(xv)
        );
    }
    s += &format!(
        "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"middle\" fill=\"#5b6475\">{}</text>",
        (left + w) / 2.0,
        h - 4.0,
        esc(x_label)
    );
    for (i, (name, ys)) in series.iter().enumerate() {
        let colour = COLOURS[i % COLOURS.len()];
        let pts: Vec<String> = x
            .iter()
            .zip(ys)
            .filter(|(_, y)| y.is_finite())
            .map(|(a, b)| format!("{:.1},{:.1}", px(*a), py(*b)))
            .collect();
        s += &format!(
            "<polyline fill=\"none\" stroke=\"{colour}\" stroke-width=\"{}\" points=\"{}\"><title>{}</title></polyline>",
            if i == 0 { "3" } else { "1.5" },
            pts.join(" "),
            esc(name)
        );
        s += &format!(
            "<text x=\"{:.1}\" y=\"14\" font-size=\"11\" fill=\"{colour}\">— {}</text>",
            left + 130.0 * i as f64,
            esc(name)
        );
    }
    s + "</svg>"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_escaped_and_sizes_follow_values() {
        let s = columns("lost <by> month", &[("<a>".into(), 2.0), ("b".into(), 1.0)], "");
        assert!(s.contains("&lt;a&gt;") && !s.contains("<a>"));
        assert!(s.contains("height=\"164.0\"") && s.contains("height=\"82.0\""), "{s}");
        let b = bars("x", &[("price".into(), 1234.5)], true);
        assert!(b.contains("1,234.50"));
    }
}
