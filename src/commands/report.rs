//! `winback report defection|journey`.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};
use serde_json::json;
use winback_domain::decision::format_money as money;
use winback_domain::defection::Report;
use winback_domain::period::day_number;

use crate::cli::{DefectionArgs, JourneyArgs, ReportCommand, ReportFormat};
use crate::html::{bars, columns, esc, pareto, STYLE};
use crate::output::{emit_rows, num, Rows};

pub fn run(db: &str, config: Option<&Path>, cmd: &ReportCommand) -> Result<()> {
    match cmd {
        ReportCommand::Defection(a) => defection(db, config, a),
        ReportCommand::Journey(a) => journey(db, config, a),
        ReportCommand::WinbackRates { format } => super::outcomes::winback_rates(db, config, *format),
    }
}

fn defection(db: &str, config: Option<&Path>, a: &DefectionArgs) -> Result<()> {
    let mut w = super::assess::load(db, config)?;
    let r = winback_app::reports::defection(&mut w, a.since.map(day_number))?;
    let text = match a.format {
        ReportFormat::Json => format!("{}\n", serde_json::to_string_pretty(&r)?),
        ReportFormat::Table => text(&r),
        ReportFormat::Html => html(&r),
    };
    match &a.output {
        Some(p) => {
            let mut f = std::fs::File::create(p).with_context(|| format!("cannot write {}", p.display()))?;
            f.write_all(text.as_bytes())?;
            eprintln!("wrote {}", p.display());
            Ok(())
        }
        None => crate::output::emit(&text),
    }
}

/// Why the last months look lower (they are censored, not better).
const RECENT: &str = "The last months look lower than they will: a customer counts as lost only once overdue by their own rhythm, so recent months fill in later.";

fn headline(r: &Report) -> String {
    format!(
        "{} of {} customers lost{} as of {}, worth {} in net revenue; {:.0}% of them gave no reason yet.",
        r.lost,
        r.customers,
        r.since.as_ref().map_or(String::new(), |s| format!(" since {s}")),
        r.as_of,
        money(r.lost_net_revenue),
        100.0 * r.share_without_reason
    )
}

fn text(r: &Report) -> String {
    let mut s = format!("{}\n\nlost per month\n", headline(r));
    let mut m = Rows::new(vec!["month", "lost", "net revenue"]);
    for x in &r.by_month {
        m.push(vec![json!(x.month), json!(x.lost), num(x.net_revenue)]);
    }
    s += &format!("{}\n{RECENT}\n\nreasons, by revenue lost (Pareto)\n", m.table(2));
    let mut t = Rows::new(vec!["reason", "customers", "revenue lost", "share", "cumulative", "systemic", "specific"]);
    for x in &r.reasons {
        t.push(vec![
            json!(x.label),
            json!(x.customers),
            num(x.revenue_lost),
            json!(format!("{:.0}%", 100.0 * x.share_of_revenue_lost)),
            json!(format!("{:.0}%", 100.0 * x.cumulative_share)),
            json!(x.systemic),
            json!(x.specific),
        ]);
    }
    s += &format!(
        "{}\nby count: {}\nsystemic {} / specific {} reasons; {} lost customers ({:.0}%) have no recorded reason: ask them.\n",
        t.table(2),
        ranked_labels(r).join(", "),
        r.systemic_reasons,
        r.specific_reasons,
        r.lost_without_reason,
        100.0 * r.share_without_reason
    );
    if !r.open_causes.is_empty() {
        let mut c = Rows::new(vec!["cause", "title", "status", "held customers", "value held back"]);
        for x in &r.open_causes {
            c.push(vec![
                json!(format!("#{}", x.id)),
                json!(x.title),
                json!(x.status),
                json!(x.held_customers),
                num(x.held_value),
            ]);
        }
        s += &format!("\nopen root causes, by the value they hold back\n{}\n", c.table(2));
    }
    if !r.suggestions.is_empty() {
        s += "\nwhat customers suggest\n";
        for (cat, list) in &r.suggestions {
            s += &format!("  {cat}: {}\n", top_suggestions(list, 3).join("; "));
        }
    }
    s += "\nSWOT\n";
    for (h, xs) in [
        ("strengths", &r.swot.strengths),
        ("weaknesses", &r.swot.weaknesses),
        ("opportunities", &r.swot.opportunities),
        ("threats", &r.swot.threats),
    ] {
        s += &format!("  {h}:\n");
        for x in xs {
            s += &format!("    - {x}\n");
        }
    }
    if let Some(t) = &r.tracking {
        let actual = t.actual_curve.last().copied().unwrap_or(0.0);
        s += &format!(
            "\nhow well the model predicts (fitted up to {}, judged to {}: {actual:.0} repeat purchases made)\n",
            t.calibration_end, t.observation_end
        );
        if let Some(why) = &t.undecided {
            s += &format!("  none chosen: {why}\n");
        }
        for m in &t.models {
            s += &format!(
                "  {}{}: {} expected, RMSE per customer {}\n",
                crate::output::model_title(&m.model),
                if t.best.as_deref() == Some(m.model.as_str()) { " (used)" } else { "" },
                m.predicted.map_or("–".into(), |v| format!("{v:.0}")),
                m.rmse.map_or("–".into(), |v| format!("{v:.3}"))
            );
        }
    }
    s
}

/// Distinct suggestions, most frequent first, with their counts.
fn top_suggestions(list: &[String], n: usize) -> Vec<String> {
    let mut m: std::collections::BTreeMap<&str, usize> = Default::default();
    for x in list {
        *m.entry(x.as_str()).or_default() += 1;
    }
    let mut v: Vec<(&str, usize)> = m.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    v.into_iter().take(n).map(|(s, k)| format!("\"{s}\" ({k}×)")).collect()
}

fn html(r: &Report) -> String {
    let mut s = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Defection report {}</title><style>{STYLE}</style></head><body>",
        esc(&r.as_of)
    );
    s += &format!("<h1>Defection report</h1><p class=\"headline\">{}</p>", esc(&headline(r)));
    let months: Vec<String> = r.by_month.iter().map(|m| m.month.clone()).collect();
    s += "<h2>Lost customers per month</h2>";
    s += &columns(
        "Customers lost per month (month of their last purchase or contract end)",
        &months,
        &r.by_month.iter().map(|m| m.lost as f64).collect::<Vec<_>>(),
        &|v| format!("{v:.0}"),
    );
    s += &format!("<p class=\"note\">{RECENT}</p>");
    s += &columns(
        "Net revenue of the customers lost, per month",
        &months,
        &r.by_month.iter().map(|m| m.net_revenue).collect::<Vec<_>>(),
        &|v| format!("{:.0}", v),
    );
    s += "<h2>Why they left</h2>";
    let labels: Vec<String> = r.reasons.iter().map(|x| x.label.clone()).collect();
    s += &pareto(
        "Reasons by revenue lost, with the cumulative share (Pareto)",
        &labels,
        &r.reasons.iter().map(|x| x.revenue_lost).collect::<Vec<_>>(),
        &r.reasons.iter().map(|x| x.cumulative_share).collect::<Vec<_>>(),
    );
    s += "<table><tr><th>reason</th><th>customers</th><th>revenue lost</th><th>share</th><th>cumulative</th><th>systemic</th><th>specific</th></tr>";
    for x in &r.reasons {
        s += &format!(
            "<tr><td>{}</td><td class=n>{}</td><td class=n>{}</td><td class=n>{:.0}%</td><td class=n>{:.0}%</td><td class=n>{}</td><td class=n>{}</td></tr>",
            esc(&x.label),
            x.customers,
            money(x.revenue_lost),
            100.0 * x.share_of_revenue_lost,
            100.0 * x.cumulative_share,
            x.systemic,
            x.specific
        );
    }
    s += &format!(
        "</table><p>Ranked by count: {}. {} systemic and {} specific reasons. <strong>{} lost customers ({:.0}%) have no recorded reason</strong>: they are the ones still to ask.</p>",
        esc(&ranked_labels(r).join(", ")),
        r.systemic_reasons,
        r.specific_reasons,
        r.lost_without_reason,
        100.0 * r.share_without_reason
    );
    if !r.open_causes.is_empty() {
        s += "<h2>Open root causes</h2>";
        s += &bars(
            "Value held back by causes not yet fixed (customers held from outreach)",
            &r.open_causes.iter().map(|c| format!("#{} {} ({})", c.id, c.title, c.held_customers)).collect::<Vec<_>>(),
            &r.open_causes.iter().map(|c| c.held_value).collect::<Vec<_>>(),
            &money,
        );
    }
    if !r.suggestions.is_empty() {
        s += "<h2>What customers suggest</h2><ul>";
        for (cat, list) in &r.suggestions {
            s += &format!("<li><strong>{}</strong>: {}</li>", esc(cat), esc(&top_suggestions(list, 3).join("; ")));
        }
        s += "</ul>";
    }
    s += "<h2>SWOT</h2><div class=\"swot\">";
    for (h, xs) in [
        ("Strengths", &r.swot.strengths),
        ("Weaknesses", &r.swot.weaknesses),
        ("Opportunities", &r.swot.opportunities),
        ("Threats", &r.swot.threats),
    ] {
        s += &format!("<div><h3>{h}</h3><ul>");
        for x in xs {
            s += &format!("<li>{}</li>", esc(x));
        }
        s += "</ul></div>";
    }
    s += "</div>";
    if let Some(t) = &r.tracking {
        s += &tracking_html(t);
    }
    s + "</body></html>\n"
}

/// The model check of `analyze --model auto`: expected against actual cumulative
/// repeat purchases over the holdout (FHL 2005, Fig. 2), and each model's error.
fn tracking_html(t: &winback_domain::defection::Tracking) -> String {
    let mut series = vec![("actual".to_string(), t.actual_curve.clone())];
    for m in &t.models {
        if !m.curve.is_empty() {
            series.push((crate::output::model_title(&m.model).to_string(), m.curve.clone()));
        }
    }
    let mut s = "<h2>How well the model predicts</h2>".to_string();
    s += &format!(
        "<p>Each model was fitted to the purchases up to {} and asked to predict the repeat purchases until {}; the one with the lowest root mean squared error per customer{} is the one used.</p>",
        esc(&t.calibration_end),
        esc(&t.observation_end),
        t.best.as_deref().map_or(String::new(), |b| format!(" ({})", crate::output::model_title(b)))
    );
    if let Some(why) = &t.undecided {
        s += &format!("<p>This time none was chosen: {}.</p>", esc(why));
    }
    s += &crate::html::lines(
        "Cumulative repeat purchases after the calibration end: actual and expected",
        &format!("{}s after {}", t.time_unit, t.calibration_end),
        &t.points,
        &series,
    );
    s += "<table><tr><th>model</th><th>expected</th><th>actual</th><th>RMSE per customer</th></tr>";
    let actual = t.actual_curve.last().copied().unwrap_or(0.0);
    for m in &t.models {
        let num = |v: Option<f64>, d: usize| v.map_or("–".to_string(), |v| format!("{v:.d$}"));
        s += &format!(
            "<tr><td>{}</td><td>{}</td><td>{actual:.0}</td><td>{}</td></tr>",
            esc(crate::output::model_title(&m.model)),
            num(m.predicted, 0),
            num(m.rmse, 3)
        );
    }
    s + "</table>"
}

fn journey(db: &str, config: Option<&Path>, a: &JourneyArgs) -> Result<()> {
    let mut w = super::assess::load(db, config)?;
    let out = winback_app::reports::journey(&mut w, a.window)?;
    let mut rows = Rows::for_format(
        vec![
            "event",
            "lost_with",
            "lost",
            "share_lost",
            "stayed_with",
            "stayed",
            "share_stayed",
            "risk_ratio",
            "ci_low",
            "ci_high",
        ],
        a.format,
    );
    for x in &out {
        rows.push(vec![
            json!(x.kind),
            json!(x.lost_with),
            json!(x.lost),
            num(x.share_lost),
            json!(x.stayed_with),
            json!(x.stayed),
            num(x.share_stayed),
            num(x.risk_ratio),
            num(x.ci_low),
            num(x.ci_high),
        ]);
    }
    if a.format == crate::cli::Format::Table {
        let mut s = format!("{}\n", rows.table(3));
        s += &format!(
            "window: the {} days up to each customer's last purchase or event (lost: when they were lost; active: their latest), as of {}.\nrisk ratio = share_lost / share_stayed (95% interval, Katz); above 1, the event precedes defection.\n",
            a.window,
            winback_domain::period::date_of(w.as_of)
        );
        if let Some(top) = out.iter().find(|x| x.ci_low > 1.0) {
            s += &format!(
                "strongest signal: {} — {:.0}% of lost customers had one vs {:.0}% of those who stayed ({:.1}x, {:.1}–{:.1}).\n",
                top.kind,
                100.0 * top.share_lost,
                100.0 * top.share_stayed,
                top.risk_ratio,
                top.ci_low,
                top.ci_high
            );
        }
        return crate::output::emit(&s);
    }
    emit_rows(rows, a.format, 3)
}

/// The categories ranked by customers, by their labels (as the table shows them).
fn ranked_labels(r: &winback_domain::defection::Report) -> Vec<String> {
    r.ranked_by_count
        .iter()
        .map(|k| r.reasons.iter().find(|x| x.category == *k).map_or_else(|| k.clone(), |x| x.label.clone()))
        .collect()
}
