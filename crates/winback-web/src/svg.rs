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
