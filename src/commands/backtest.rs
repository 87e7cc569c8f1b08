//! `winback backtest`

use std::path::Path;

use anyhow::Result;
use serde_json::json;
use winback_app::backtest::{self, Backtest, BacktestRequest, Group, ListScore};

use crate::cli::{BacktestArgs, Format};
use crate::output::{emit, emit_rows, fmt_num, num, Rows};
use crate::progress::Spinner;

pub fn run(db: &str, config: Option<&Path>, a: &BacktestArgs) -> Result<()> {
    let config = crate::config::load(config)?;
    let mut store = super::store::open(db)?;
    let spin = Spinner::new(format!("replaying the store as of {}", a.as_of));
    let b = backtest::run(
        store.as_mut(),
        &config,
        &BacktestRequest {
            as_of: a.as_of,
            until: a.until,
            model: a.model,
            period: a.period,
            time_unit: a.time_unit,
            window_days: a.window,
            min_drop: a.min_drop,
            min_risk: a.min_risk,
            playbook: a.playbook.as_deref(),
        },
    )?;
    spin.finish();
    for n in &b.notes {
        eprintln!("note: {n}");
    }
    match a.format {
        Format::Json => emit(&format!("{}\n", serde_json::to_string_pretty(&b)?)),
        Format::Csv => emit_rows(measures(&b, a.format), a.format, 4),
        Format::Table => emit(&text(&b)),
    }
}

/// Every figure as one row (list, group, measure, value), for machines.
fn measures(b: &Backtest, format: Format) -> Rows {
    let mut rows = Rows::for_format(vec!["list", "group", "measure", "value"], format);
    let mut put = |list: &str, group: &str, measure: &str, v: f64| {
        rows.push(vec![json!(list), json!(group), json!(measure), num(v)]);
    };
    put("lost", "all", "listed", b.lost.listed as f64);
    put("lost", "all", "came_back", b.lost.came_back as f64);
    for g in b.lost.by_tier.iter().chain(&b.lost.by_decision) {
        put("lost", &g.group, "listed", g.customers as f64);
        put("lost", &g.group, "came_back", g.count as f64);
    }
    put("at_risk", "all", "base", b.at_risk.base as f64);
    put("at_risk", "all", "left", b.at_risk.left as f64);
    for (name, s) in [("rule", &b.at_risk.rule), ("warning", &b.at_risk.warning)] {
        put(name, "all", "listed", s.listed as f64);
        put(name, "all", "precision", s.precision);
        put(name, "all", "recall", s.recall);
        put(name, "all", "lift", s.lift);
        if let Some(c) = &s.at_recall {
            put(name, "at_recall_0.3", "listed", c.listed as f64);
            put(name, "at_recall_0.3", "precision", c.precision);
            put(name, "at_recall_0.3", "lift", c.lift);
        }
    }
    put("model", b.purchases.model, "predicted", b.purchases.predicted);
    put("model", b.purchases.model, "actual", b.purchases.actual);
    put("model", b.purchases.model, "mae", b.purchases.mae);
    rows
}

fn pct(v: f64) -> String {
    if v.is_finite() {
        format!("{:.0}%", 100.0 * v)
    } else {
        "–".into()
    }
}

fn group_table(title: &'static str, what: &'static str, gs: &[Group]) -> String {
    if gs.is_empty() {
        return String::new();
    }
    let mut rows = Rows::new(vec![title, "customers", what, "rate"]);
    for g in gs {
        rows.push(vec![json!(g.group), json!(g.customers), json!(g.count), json!(pct(g.rate))]);
    }
    format!("{}\n", rows.table(0))
}

fn list_line(name: &str, s: &ListScore) -> String {
    if s.listed == 0 {
        return format!("  {name}: nobody listed\n");
    }
    let head = match &s.at_recall {
        Some(c) => format!(
            "; its first {} find {} of those who left with precision {} (lift {:.2})",
            c.listed,
            pct(c.recall),
            pct(c.precision),
            c.lift
        ),
        None => "; it never finds 30% of those who left".into(),
    };
    format!(
        "  {name}: {} listed, {} of them left: precision {}, recall {}, lift {:.2} over the base rate{head}\n",
        s.listed,
        s.hits,
        pct(s.precision),
        pct(s.recall),
        s.lift
    )
}

fn text(b: &Backtest) -> String {
    let mut s = format!(
        "The store as of {} ({} customers), against what they did in the {} days up to {}.\n\n",
        b.as_of,
        fmt_num(b.customers as f64, 0),
        b.days,
        b.until
    );
    s += &format!(
        "LOST LIST: {} listed as lapsed, lost or churned; {} ({}) bought again on their own.\n",
        b.lost.listed,
        b.lost.came_back,
        pct(b.lost.rate)
    );
    s += &group_table("value tier", "came back", &b.lost.by_tier);
    s += &group_table("decision", "came back", &b.lost.by_decision);
    let r = &b.at_risk;
    s += &format!(
        "\nAT RISK: of {} active customers, {} ({}) did not buy again: the base rate.\n",
        r.base,
        r.left,
        pct(r.base_rate)
    );
    s += &list_line("rule (P(alive) fell, an open cause's touchpoint)", &r.rule);
    s += &group_table("listed for", "left", &r.rule_by_reason);
    s += &list_line("early warning (P(alive) and the touchpoints that preceded defection)", &r.warning);
    s += &group_table("listed for", "left", &r.warning_by_reason);
    let p = &b.purchases;
    s += &format!(
        "\nMODEL ({}{}): {} repeat purchases expected after {} from {} customers, {} made; error per customer {:.2}.\n",
        crate::output::model_title(p.model),
        if p.limit.is_some() { ", at its limit" } else { "" },
        fmt_num(p.predicted, 0),
        b.as_of,
        fmt_num(p.customers as f64, 0),
        fmt_num(p.actual, 0),
        p.mae
    );
    s
}
