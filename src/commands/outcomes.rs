//! What campaigns achieved, measured from the transactions in the store (so it
//! updates as new ones are imported): `campaign report`, `campaign
//! simulate-outcomes`, `followups`, `report winback-rates`; and `at-risk`.

use std::collections::HashMap;
use std::path::Path;

use anyhow::{bail, Context, Result};
use rand::{Rng, SeedableRng};
use serde_json::json;
use winback_domain::campaign::{
    outcome, own_rate, report as campaign_report, still_active, Arm, Measured, MemberOutcome, MemberState,
};
use winback_domain::decision::format_money as money;
use winback_domain::period::{date_of, day_number};
use winback_domain::playbook::Audience;
use winback_domain::status::{own_gap, Status};
use winback_store::{CampaignRow, FollowupRow, MemberRow, Store};

use super::assess::World;
use super::campaign::{find, load_playbook, load_playbook_text, today};
use crate::cli::{AtRiskArgs, FollowupsArgs, Format};
use crate::output::{emit, emit_json, emit_rows, num, row_limit, Rows};

/// Every customer's purchases (day, amount), by store id.
fn purchases(store: &mut dyn Store) -> Result<HashMap<i64, Vec<(i32, f64)>>> {
    let s = store.transaction_log()?;
    let mut m: HashMap<i64, Vec<(i32, f64)>> = HashMap::new();
    for i in 0..s.log.len() {
        let amount = s.log.amount.as_ref().map_or(0.0, |a| a[i]);
        m.entry(s.customer_ids[s.log.customer[i] as usize]).or_default().push((s.log.day[i], amount));
    }
    Ok(m)
}

/// The day a member's window opens: their contact for treated members who were
/// contacted, the campaign date otherwise (the holdout's reference).
fn window_start(c: &CampaignRow, m: &MemberRow) -> i32 {
    if m.m.arm == Arm::Treatment {
        m.contacted_day.unwrap_or(c.c.start_day).max(c.c.start_day)
    } else {
        c.c.start_day
    }
}

struct Measures {
    members: Vec<MemberRow>,
    outcomes: Vec<MemberOutcome>,
}

fn measure(store: &mut dyn Store, c: &CampaignRow, buys: &HashMap<i64, Vec<(i32, f64)>>) -> Result<Measures> {
    let members = store.campaign_members(c.id)?;
    let outcomes = members
        .iter()
        .map(|m| {
            outcome(buys.get(&m.m.customer_id).map_or(&[][..], |v| v.as_slice()), window_start(c, m), c.c.window_days)
        })
        .collect();
    Ok(Measures { members, outcomes })
}

/// Margin per unit of revenue across the shop (1 when no costs are recorded).
fn margin_rate(w: &World) -> f64 {
    let (rev, cost) = w.facts.customers.iter().fold((0.0, 0.0), |(r, c), f| (r + f.revenue_with_cost, c + f.cost));
    if rev > 0.0 {
        1.0 - cost / rev
    } else {
        1.0
    }
}

pub fn report(
    db: &str,
    config: Option<&Path>,
    name: &str,
    as_of: Option<chrono::NaiveDate>,
    format: Format,
) -> Result<()> {
    let mut w = super::assess::load(db, config)?;
    let c = find(w.store.as_mut(), name)?;
    let pb = load_playbook_text(&c.c.playbook, &w.config.taxonomy)?;
    let buys = purchases(w.store.as_mut())?;
    let last = buys.values().flatten().map(|p| p.0).max().unwrap_or(c.c.start_day);
    let as_of = as_of.map_or(last, day_number);
    let ms = measure(w.store.as_mut(), &c, &buys)?;
    let measured: Vec<Measured> = ms
        .members
        .iter()
        .zip(&ms.outcomes)
        .map(|(m, o)| {
            let arm = if m.m.arm == Arm::Treatment { Arm::Treatment } else { Arm::Control };
            let incentive = pb.strategies.get(&m.m.strategy).and_then(|s| s.incentive);
            let offer_cost = match (arm, incentive, &m.m.coupon, o.returned_day) {
                // the coupon is taken to be redeemed on the first order back, within its validity
                (Arm::Treatment, Some(i), Some(_), Some(d)) if d <= c.c.start_day + i.expiry_days => {
                    i.cost(o.first_order)
                }
                _ => 0.0,
            };
            Measured { arm, strategy: &m.m.strategy, category: &m.m.category, tier: &m.m.tier, outcome: *o, offer_cost }
        })
        .collect();
    let r = campaign_report(&measured, margin_rate(&w));
    let curve = redefection(&w, &ms, &buys, as_of);
    let open = as_of < c.c.start_day + c.c.window_days;
    // members the treatment did not reach still count as treated (intention to
    // treat): leaving them out would flatter the lift
    let state = |s: MemberState| ms.members.iter().filter(|m| m.m.arm == Arm::Treatment && m.m.state == s).count();
    let not_reached = [
        ("failed", state(MemberState::Failed)),
        ("pending", state(MemberState::Pending)),
        ("unconfirmed", state(MemberState::Claimed)),
        ("skipped", state(MemberState::Skipped)),
    ];
    if format == Format::Json {
        let reach: serde_json::Map<String, serde_json::Value> =
            not_reached.iter().map(|(k, n)| (k.to_string(), json!(n))).collect();
        return emit_json(
            &json!({"campaign": c.c.name, "start": date_of(c.c.start_day).to_string(), "window_days": c.c.window_days,
            "as_of": date_of(as_of).to_string(), "window_open": open, "report": r, "still_active": curve,
            "treated_not_reached": reach, "counted_as": "intention to treat: every treatment member counts as treated"}),
        );
    }
    let pct = |x: f64| format!("{:.1}%", 100.0 * x);
    let o = &r.overall;
    let mut s = format!(
        "campaign '{}' ({} + {} days, measured to {}{})\n",
        c.c.name,
        date_of(c.c.start_day),
        c.c.window_days,
        date_of(as_of),
        if open { "; the window is still open" } else { "" }
    );
    let unreached: Vec<String> = not_reached.iter().filter(|(_, n)| *n > 0).map(|(k, n)| format!("{n} {k}")).collect();
    if !unreached.is_empty() {
        s += &format!(
            "treatment members not reached ({}) count as treated: intention to treat, so the lift is not flattered\n",
            unreached.join(", ")
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
    if !curve.is_empty() {
        let mut t = Rows::new(vec!["strategy", "won back", "active 30d", "60d", "90d", "180d"]);
        for (strategy, n, shares) in &curve {
            let mut row = vec![json!(strategy), json!(n)];
            row.extend(shares.iter().map(|x| x.map_or(json!("–"), |v| json!(pct(v)))));
            t.push(row);
        }
        s += &format!("still active N days after their return (re-defection curve):\n{}\n", t.table(1));
    }
    emit(&s)
}

/// Share of won-back treated customers still active 30/60/90/180 days after
/// their return, per strategy (None where nobody is observable that long).
#[allow(clippy::type_complexity)]
fn redefection(
    w: &World,
    ms: &Measures,
    buys: &HashMap<i64, Vec<(i32, f64)>>,
    as_of: i32,
) -> Vec<(String, usize, Vec<Option<f64>>)> {
    let rules = &w.config.rules.status;
    let facts: HashMap<i64, &winback_domain::facts::CustomerFacts> =
        w.facts.customers.iter().map(|f| (f.id, f)).collect();
    let mut by: std::collections::BTreeMap<&str, Vec<(i32, i32, i32)>> = Default::default();
    for (m, o) in ms.members.iter().zip(&ms.outcomes) {
        let (Some(ret), true) = (o.returned_day, m.m.arm == Arm::Treatment) else { continue };
        let last = buys.get(&m.m.customer_id).and_then(|v| v.iter().map(|p| p.0).max()).unwrap_or(ret);
        let gap = facts.get(&m.m.customer_id).and_then(|f| own_gap(f)).unwrap_or(30.0).max(rules.min_gap_days);
        by.entry(&m.m.strategy).or_default().push((ret, last, (rules.lapsed_gaps * gap).round() as i32));
    }
    by.into_iter()
        .map(|(s, v)| {
            let shares = [30, 60, 90, 180]
                .iter()
                .map(|&d| {
                    let seen: Vec<bool> =
                        v.iter().filter_map(|&(r, l, lapse)| still_active(r, l, lapse, as_of, d)).collect();
                    (!seen.is_empty()).then(|| seen.iter().filter(|x| **x).count() as f64 / seen.len() as f64)
                })
                .collect();
            (s.to_string(), v.len(), shares)
        })
        .collect()
}

/// Simulated returns with a known true lift: control members come back with
/// probability `base`, treated ones with `base + lift`, on a uniform day in the
/// window, spending about their usual order.
pub fn simulate(db: &str, name: &str, base: f64, lift: f64, seed: u64, output: &Path) -> Result<()> {
    if !(0.0..=1.0).contains(&base) || !(0.0..=1.0).contains(&(base + lift)) {
        bail!("--base-rate and --base-rate + --lift must be between 0 and 1");
    }
    let mut store = super::store::open(db)?;
    let c = find(store.as_mut(), name)?;
    let facts = store.customer_facts()?;
    let mean: HashMap<i64, f64> = facts
        .customers
        .iter()
        .map(|f| (f.id, if f.purchases > 0 { (f.revenue / f.purchases as f64).max(1.0) } else { 20.0 }))
        .collect();
    let members = store.campaign_members(c.id)?;
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut w = csv::Writer::from_path(output).with_context(|| format!("cannot write {}", output.display()))?;
    w.write_record(["order_id", "customer_id", "order_date", "total"])?;
    let mut n = 0;
    for m in &members {
        let p = if m.m.arm == Arm::Treatment { base + lift } else { base };
        let u: f64 = rng.random();
        let d = window_start(&c, m) + rng.random_range(1..=c.c.window_days);
        if u < p {
            let amount = mean.get(&m.m.customer_id).copied().unwrap_or(20.0) * rng.random_range(0.7..1.3);
            w.write_record([
                format!("SIM-{}-{}", c.id, m.external_id),
                m.external_id.clone(),
                date_of(d).to_string(),
                format!("{amount:.2}"),
            ])?;
            n += 1;
        }
    }
    w.flush()?;
    emit(&format!(
        "{}: {n} simulated returns for {} members (holdout rate {base}, treatment {}); import with `winback import transactions {}`\n",
        output.display(),
        members.len(),
        base + lift,
        output.display()
    ))
}

pub fn followups(db: &str, config: Option<&Path>, a: &FollowupsArgs) -> Result<()> {
    let mut w = super::assess::load(db, config)?;
    let as_of = a.as_of.map_or_else(today, day_number);
    if let Some(rec) = &a.record {
        let (campaign, customer) = (&rec[0], &rec[1]);
        let c = find(w.store.as_mut(), campaign)?;
        let m = w
            .store
            .campaign_members(c.id)?
            .into_iter()
            .find(|m| &m.external_id == customer)
            .with_context(|| format!("customer '{customer}' is not in campaign '{campaign}'"))?;
        let satisfied = match a.satisfied.as_deref().map(str::to_lowercase).as_deref() {
            None => None,
            Some("yes" | "y" | "true" | "1") => Some(true),
            Some("no" | "n" | "false" | "0") => Some(false),
            Some(x) => bail!("--satisfied '{x}': yes or no"),
        };
        if a.score.is_some_and(|s| !(0..=10).contains(&s)) {
            bail!("--score is 0 to 10");
        }
        w.store.record_followup(&FollowupRow {
            campaign_id: c.id,
            customer_id: m.m.customer_id,
            offset_days: a.offset,
            done_day: as_of,
            satisfied,
            score: a.score,
            note: a.note.clone(),
        })?;
        return emit(&format!("recorded the {}-day check-in with {customer} ({campaign})\n", a.offset));
    }
    let buys = purchases(w.store.as_mut())?;
    let done: HashMap<(i64, i64, i32), FollowupRow> =
        w.store.followups()?.into_iter().map(|f| ((f.campaign_id, f.customer_id, f.offset_days), f)).collect();
    let status: HashMap<i64, Status> =
        w.facts.customers.iter().zip(&w.assessed).map(|(f, x)| (f.id, x.status.status)).collect();
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
    for c in w.store.campaigns()? {
        let ms = measure(w.store.as_mut(), &c, &buys)?;
        for (m, o) in ms.members.iter().zip(&ms.outcomes) {
            let (Some(ret), true) = (o.returned_day, m.m.arm == Arm::Treatment) else { continue };
            // lapsed again: the latest analysis saw their return and still calls them gone
            let again = w.facts.run.as_ref().is_some_and(|r| r.observation_end > ret)
                && status.get(&m.m.customer_id).is_some_and(|s| s.is_gone());
            for &off in &w.config.rules.followup_days {
                let due = ret + off;
                let rec = done.get(&(c.id, m.m.customer_id, off));
                if a.due && (rec.is_some() || due > as_of) {
                    continue;
                }
                rows.push(vec![
                    json!(c.c.name),
                    json!(m.external_id),
                    json!(date_of(ret).to_string()),
                    json!(format!("{off} days")),
                    json!(date_of(due).to_string()),
                    json!(rec.map(|r| date_of(r.done_day).to_string())),
                    json!(rec.and_then(|r| r.satisfied)),
                    json!(rec.and_then(|r| r.score)),
                    json!(rec.and_then(|r| r.note.clone())),
                    json!(again),
                ]);
            }
        }
    }
    emit_rows(rows, a.format, 0)
}

pub fn winback_rates(db: &str, config: Option<&Path>, format: Format) -> Result<()> {
    let mut w = super::assess::load(db, config)?;
    let buys = purchases(w.store.as_mut())?;
    let mut groups: std::collections::BTreeMap<(String, String), (u64, u64)> = Default::default();
    for c in w.store.campaigns()? {
        let ms = measure(w.store.as_mut(), &c, &buys)?;
        for (m, o) in ms.members.iter().zip(&ms.outcomes) {
            if m.m.arm != Arm::Treatment || !matches!(m.m.state, MemberState::Sent | MemberState::Task) {
                continue;
            }
            let won = u64::from(o.returned_day.is_some());
            for key in [
                ("all".to_string(), "all".to_string()),
                ("reason".to_string(), m.m.category.clone()),
                ("tier".to_string(), m.m.tier.clone()),
            ] {
                let e = groups.entry(key).or_default();
                e.0 += won;
                e.1 += 1;
            }
        }
    }
    if groups.is_empty() {
        groups.insert(("all".into(), "all".into()), (0, 0));
    }
    let mut rows =
        Rows::for_format(vec!["by", "group", "contacted", "won", "prior", "own_rate", "low", "high", "moved"], format);
    for ((by, g), (won, n)) in &groups {
        let r = own_rate(g, *won, *n);
        rows.push(vec![
            json!(by),
            json!(g),
            json!(n),
            json!(won),
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
    let (_, pb) = load_playbook(a.playbook.as_deref(), &w.config.taxonomy)?;
    let runs = w.store.runs()?;
    let previous: HashMap<i64, f64> = match runs.len() {
        n if n >= 2 => w.store.run_scores(runs[n - 2].id)?.into_iter().collect(),
        _ => HashMap::new(),
    };
    let events = w.store.events()?;
    let mut recent: HashMap<i64, Vec<(i32, &str)>> = HashMap::new();
    for (c, d, k) in &events {
        if *d <= w.as_of && *d > w.as_of - a.window {
            recent.entry(*c).or_default().push((*d, k.as_str()));
        }
    }
    struct Row {
        i: usize,
        why: Vec<String>,
        categories: Vec<String>,
        stake: f64,
    }
    let mut out: Vec<Row> = Vec::new();
    for (i, (f, x)) in w.facts.customers.iter().zip(&w.assessed).enumerate() {
        if !matches!(x.status.status, Status::Active | Status::AtRisk) {
            continue;
        }
        let mut why = Vec::new();
        let mut categories = Vec::new();
        if let (Some(s), Some(p)) = (f.score, previous.get(&f.id)) {
            if p - s.p_alive >= a.min_drop {
                why.push(format!("P(alive) fell from {p:.2} to {:.2} since the previous run", s.p_alive));
            }
        }
        for cause in &w.causes {
            for cat in &cause.categories {
                let kinds = w.config.rules.exposure.get(cat.as_str()).map_or(&[][..], |v| v.as_slice());
                let hit = recent.get(&f.id).and_then(|evs| {
                    evs.iter().find(|(d, k)| kinds.iter().any(|x| x == k) && cause.fixed_on.is_none_or(|fx| *d <= fx))
                });
                if let Some((d, k)) = hit {
                    why.push(format!(
                        "{k} on {} while \"{}\" was {}",
                        date_of(*d),
                        cause.title,
                        if cause.status.holds() {
                            cause.status.name().replace('_', " ")
                        } else {
                            "not yet fixed".into()
                        }
                    ));
                    categories.push(cat.to_string());
                }
            }
        }
        if !why.is_empty() {
            let stake = f.score.map_or(f.net_revenue(), |s| s.value_at_stake.max(0.0));
            out.push(Row { i, why, categories, stake });
        }
    }
    out.sort_by(|x, y| y.stake.total_cmp(&x.stake).then(x.i.cmp(&y.i)));
    let total = out.len();
    out.truncate(row_limit(a.top, a.format));
    let tiers = winback_domain::decision::tier_cutoffs(&w.facts.customers, &w.config.rules.decision);
    let mut rows = Rows::for_format(
        vec!["customer", "name", "status", "p_alive", "value_at_stake", "why", "suggested", "steps"],
        a.format,
    );
    for r in &out {
        let (f, x) = (&w.facts.customers[r.i], &w.assessed[r.i]);
        let net = f.net_revenue();
        let tier = if net >= tiers.0 {
            "top"
        } else if net >= tiers.1 {
            "mid"
        } else {
            "low"
        };
        let aud = Audience {
            audience: "at_risk",
            decision: None,
            categories: &r.categories,
            tier,
            segment: f.segment.as_deref(),
        };
        let (suggested, steps) = pb
            .choose(&aud)
            .map_or(("–".to_string(), String::new()), |(rule, s)| (rule.strategy.clone(), s.steps.join(", ")));
        rows.push(vec![
            json!(f.external_id),
            json!(f.name),
            json!(x.status.status.name()),
            f.score.map_or(serde_json::Value::Null, |s| num(s.p_alive)),
            num(r.stake),
            json!(r.why.join("; ")),
            json!(suggested),
            json!(steps),
        ]);
    }
    if a.format == Format::Table {
        return emit(&format!("{}\n{} of {total} shown.\n", rows.table(2), out.len()));
    }
    emit_rows(rows, a.format, 4)
}
