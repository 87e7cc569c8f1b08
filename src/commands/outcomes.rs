//! `campaign report`, `campaign simulate-outcomes`, `followups`, `report
//! winback-rates` and `at-risk`: the application layer's outcome services,
//! rendered.

use std::path::Path;

use anyhow::{bail, Result};
use serde_json::json;
use winback_app::outcomes::{self, AtRiskMethod, AtRiskRequest, CheckIn};
use winback_domain::decision::format_money as money;
use winback_domain::period::{date_of, day_number};

use crate::cli::{AtRiskArgs, FollowupsArgs, Format};
use crate::output::{emit, emit_json, emit_rows, num, row_limit, Rows};

pub fn report(
    db: &str,
    config: Option<&Path>,
    name: &str,
    as_of: Option<chrono::NaiveDate>,
    format: Format,
) -> Result<()> {
    let mut w = super::assess::load(db, config)?;
    let cr = outcomes::report(&mut w, name, as_of.map(day_number))?;
    if format == Format::Json {
        return emit_json(&cr);
    }
    let pct = |x: f64| format!("{:.1}%", 100.0 * x);
    let (r, o) = (&cr.report, &cr.report.overall);
    let mut s = format!(
        "campaign '{}' ({} + {} days, measured to {}{})\n",
        cr.campaign,
        date_of(cr.start),
        cr.window_days,
        date_of(cr.as_of),
        if cr.window_open { "; the window is still open" } else { "" }
    );
    let unreached: Vec<String> =
        cr.treated_not_reached.iter().filter(|(_, n)| **n > 0).map(|(k, n)| format!("{n} {k}")).collect();
    if !unreached.is_empty() {
        s += &format!(
            "treatment members not reached ({}) count as treated: intention to treat, so the lift is not flattered\n",
            unreached.join(", ")
        );
    }
    if cr.survey.answers > 0 {
        s += &format!(
            "exit survey: {} of {} contacted answered ({}); {} said they would not come back (now keep in touch)\n",
            cr.survey.answers,
            cr.survey.contacted,
            pct(cr.survey.rate),
            cr.survey.said_no
        );
    }
    for c in &cr.contaminated {
        s += &format!(
            "warning: {} holdout members were contacted by campaign '{}' while this window was open; the holdout is no longer untouched, so the lift understates the effect\n",
            c.members, c.campaign
        );
    }
    s += &format!(
        "won back: treatment {}/{} = {} ({}–{}), holdout {}/{} = {} ({}–{})\n",
        o.treatment.won,
        o.treatment.n,
        pct(o.treatment.rate),
        pct(o.treatment.low),
        pct(o.treatment.high),
        o.control.won,
        o.control.n,
        pct(o.control.rate),
        pct(o.control.low),
        pct(o.control.high)
    );
    s += &format!(
        "lift: {:+.1} points (95% interval {:+.1} to {:+.1}){}\n",
        100.0 * o.lift,
        100.0 * o.lift_low,
        100.0 * o.lift_high,
        if o.lift_low > 0.0 { ": the campaign worked" } else { ": not distinguishable from no effect" }
    );
    s += &format!(
        "revenue per member in the window: treatment {}, holdout {}; incremental revenue {}, margin {}\noffer cost (coupons redeemed): {}; ROI {}\ntreatment win-back rate is {}.\n",
        money(r.revenue_per_treated),
        money(r.revenue_per_control),
        money(r.incremental_revenue),
        money(r.incremental_margin),
        money(r.offer_cost),
        r.roi.map_or("– (no offers)".into(), |x| format!("{:.0}%", 100.0 * x)),
        r.against_band
    );
    for (title, rows) in [("by strategy", &r.by_strategy), ("by reason category", &r.by_category)] {
        let mut t =
            Rows::new(vec![title, "treated", "won", "rate", "held out", "won ", "rate ", "lift", "95% interval"]);
        for g in rows {
            t.push(vec![
                json!(g.group),
                json!(g.treatment.n),
                json!(g.treatment.won),
                json!(pct(g.treatment.rate)),
                json!(g.control.n),
                json!(g.control.won),
                json!(pct(g.control.rate)),
                json!(format!("{:+.1}", 100.0 * g.lift)),
                json!(format!("{:+.1} to {:+.1}", 100.0 * g.lift_low, 100.0 * g.lift_high)),
            ]);
        }
        s += &format!("{}\n", t.table(1));
    }
    if !cr.still_active.is_empty() {
        let mut t = Rows::new(vec!["strategy", "won back", "active 30d", "60d", "90d", "180d"]);
        for c in &cr.still_active {
            let mut row = vec![json!(c.strategy), json!(c.won_back)];
            row.extend(c.active.iter().map(|x| x.map_or(json!("–"), |v| json!(pct(v)))));
            t.push(row);
        }
        s += &format!("still active N days after their return (re-defection curve):\n{}\n", t.table(1));
    }
    emit(&s)
}

pub fn simulate(db: &str, name: &str, base: f64, lift: f64, seed: u64, output: &Path) -> Result<()> {
    let mut store = super::store::open(db)?;
    let (n, members) = outcomes::simulate(store.as_mut(), name, base, lift, seed, output)?;
    emit(&format!(
        "{}: {n} simulated returns for {members} members (holdout rate {base}, treatment {}); import with `winback import transactions {}`\n",
        output.display(),
        base + lift,
        output.display()
    ))
}

pub fn followups(db: &str, config: Option<&Path>, a: &FollowupsArgs) -> Result<()> {
    let as_of = a.as_of.map_or_else(winback_app::campaigns::today, day_number);
    if let Some(rec) = &a.record {
        let satisfied = match a.satisfied.as_deref().map(str::to_lowercase).as_deref() {
            None => None,
            Some("yes" | "y" | "true" | "1") => Some(true),
            Some("no" | "n" | "false" | "0") => Some(false),
            Some(x) => bail!("--satisfied '{x}': yes or no"),
        };
        let mut store = super::store::open(db)?;
        outcomes::record_followup(
            store.as_mut(),
            &CheckIn {
                campaign: &rec[0],
                customer: &rec[1],
                offset_days: a.offset,
                day: as_of,
                satisfied,
                score: a.score,
                note: a.note.clone(),
            },
        )?;
        return emit(&format!("recorded the {}-day check-in with {} ({})\n", a.offset, rec[1], rec[0]));
    }
    let mut w = super::assess::load(db, config)?;
    let mut rows = Rows::for_format(
        vec![
            "campaign",
            "customer",
            "returned",
            "check_in",
            "due",
            "done",
            "satisfied",
            "score",
            "note",
            "lapsed_again",
        ],
        a.format,
    );
    for f in outcomes::followups(&mut w, as_of, a.due)? {
        rows.push(vec![
            json!(f.campaign),
            json!(f.customer),
            json!(date_of(f.returned).to_string()),
            json!(format!("{} days", f.offset_days)),
            json!(date_of(f.due).to_string()),
            json!(f.done.map(|d| date_of(d).to_string())),
            json!(f.satisfied),
            json!(f.score),
            json!(f.note),
            json!(f.lapsed_again),
        ]);
    }
    emit_rows(rows, a.format, 0)
}

pub fn winback_rates(db: &str, config: Option<&Path>, format: Format) -> Result<()> {
    let mut w = super::assess::load(db, config)?;
    let mut rows =
        Rows::for_format(vec!["by", "group", "contacted", "won", "prior", "own_rate", "low", "high", "moved"], format);
    for (by, r) in outcomes::winback_rates(&mut w)? {
        rows.push(vec![
            json!(by),
            json!(r.group),
            json!(r.contacted),
            json!(r.won),
            num(r.prior_mean),
            num(r.posterior_mean),
            num(r.low),
            num(r.high),
            num(r.moved),
        ]);
    }
    if format == Format::Table {
        return emit(&format!(
            "{}\nprior: the 20–40% industry band as Beta(23.9, 55.8); each row's own rate is the posterior after its contacted customers (95% interval).\n",
            rows.table(3)
        ));
    }
    emit_rows(rows, format, 4)
}

pub fn at_risk(db: &str, config: Option<&Path>, a: &AtRiskArgs) -> Result<()> {
    let mut w = super::assess::load(db, config)?;
    let mut out = outcomes::at_risk(
        &mut w,
        &AtRiskRequest {
            min_drop: a.min_drop,
            window_days: a.window,
            playbook: a.playbook.as_deref(),
            method: if a.rule { AtRiskMethod::Rule } else { AtRiskMethod::Warning { min_risk: a.min_risk } },
        },
    )?;
    let total = out.len();
    out.truncate(row_limit(a.top, a.format));
    let mut rows = Rows::for_format(
        vec![
            "customer",
            "name",
            "status",
            "p_alive",
            if a.rule { "value_at_stake" } else { "risk" },
            if a.rule { "" } else { "expected_loss" },
            "why",
            "suggested",
            "steps",
        ]
        .into_iter()
        .filter(|c| !c.is_empty())
        .collect(),
        a.format,
    );
    for r in &out {
        let mut row =
            vec![json!(r.customer), json!(r.name), json!(r.status), r.p_alive.map_or(serde_json::Value::Null, num)];
        if let Some(risk) = r.risk {
            row.push(num(risk));
        }
        row.extend([
            num(r.value_at_stake),
            json!(r.why.join("; ")),
            json!(r.suggested.as_deref().unwrap_or("–")),
            json!(r.steps.join(", ")),
        ]);
        rows.push(row);
    }
    if a.format == Format::Table {
        return emit(&format!("{}\n{} of {total} shown.\n", rows.table(2), out.len()));
    }
    emit_rows(rows, a.format, 4)
}
