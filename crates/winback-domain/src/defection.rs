//! The defection report: who was lost when, what they were worth, why they left
//! (a Pareto view by count and by revenue), their suggestions, the ones still to
//! ask, the open causes holding customers back, and a SWOT drawn from the data.

use rustc_hash::FxHashMap;
use serde::Serialize;

use crate::causes::RootCause;
use crate::decision::value_if_won;
use crate::facts::CustomerFacts;
use crate::period::date_of;
use crate::reasons::{Reason, Scope, Taxonomy};
use crate::status::{Status, StatusCall};

/// Everything the report reads. `facts` and `statuses` are aligned.
pub struct Input<'a> {
    pub facts: &'a [CustomerFacts],
    pub statuses: &'a [StatusCall],
    pub reasons: &'a [Reason],
    pub causes: &'a [RootCause],
    pub taxonomy: &'a Taxonomy,
    /// (customer id, product, net revenue)
    pub products: &'a [(i64, String, f64)],
    pub as_of: i32,
    /// Only customers lost on or after this day.
    pub since: Option<i32>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct MonthRow {
    pub month: String,
    pub lost: usize,
    pub net_revenue: f64,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ReasonRow {
    pub category: String,
    pub label: String,
    /// Lost customers who gave this reason.
    pub customers: usize,
    /// Their net revenue, split evenly over each customer's distinct reasons so
    /// that the column adds up to the revenue of lost customers with a reason.
    pub revenue_lost: f64,
    pub share_of_revenue_lost: f64,
    /// Running share down the list (ranked by revenue): the Pareto curve.
    pub cumulative_share: f64,
    pub systemic: usize,
    pub specific: usize,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CauseRow {
    pub id: i64,
    pub title: String,
    pub status: String,
    /// Lapsed, lost or churned customers whose reasons link here.
    pub held_customers: usize,
    /// What they would bring back over the run's horizon (see `decision::value_if_won`).
    pub held_value: f64,
}

#[derive(Debug, Clone, Serialize, PartialEq, Default)]
pub struct Swot {
    pub strengths: Vec<String>,
    pub weaknesses: Vec<String>,
    pub opportunities: Vec<String>,
    pub threats: Vec<String>,
}

/// How the purchase models tracked a holdout of the history (from the latest
/// run's `--model auto` comparison, `tracking::Comparison`): the cumulative
/// repeat purchases expected by each model against those made.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq, Default)]
#[serde(default)]
pub struct Tracking {
    pub calibration_end: String,
    pub observation_end: String,
    pub time_unit: String,
    pub points: Vec<f64>,
    pub actual_curve: Vec<f64>,
    pub models: Vec<TrackedModel>,
    pub best: Option<String>,
    /// Why no model was chosen (too few customers to tell them apart).
    pub undecided: Option<String>,
}

#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq, Default)]
#[serde(default)]
pub struct TrackedModel {
    pub model: String,
    pub curve: Vec<f64>,
    /// Mean absolute and root mean squared error per customer over the holdout
    /// (null when not fitted).
    pub mae: Option<f64>,
    pub rmse: Option<f64>,
    pub predicted: Option<f64>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Report {
    /// The model comparison of the latest run, when it made one.
    pub tracking: Option<Tracking>,
    pub as_of: String,
    pub since: Option<String>,
    pub customers: usize,
    pub lost: usize,
    pub lost_net_revenue: f64,
    pub by_month: Vec<MonthRow>,
    /// Ranked by revenue lost.
    pub reasons: Vec<ReasonRow>,
    /// Category keys ranked by number of customers.
    pub ranked_by_count: Vec<String>,
    pub systemic_reasons: usize,
    pub specific_reasons: usize,
    /// Category → the customers' own suggestions.
    pub suggestions: Vec<(String, Vec<String>)>,
    pub lost_without_reason: usize,
    pub share_without_reason: f64,
    /// Causes not fixed, ranked by the value they hold back.
    pub open_causes: Vec<CauseRow>,
    pub swot: Swot,
}

/// The day a lost customer was lost: their contract's end, else their last purchase.
pub fn lost_day(f: &CustomerFacts, s: &StatusCall) -> Option<i32> {
    if s.status == Status::Churned {
        f.contract_end.or(f.last_day)
    } else {
        f.last_day
    }
}

fn month(day: i32) -> String {
    date_of(day).format("%Y-%m").to_string()
}

pub fn build(i: &Input) -> Report {
    let by_id: FxHashMap<i64, usize> = i.facts.iter().enumerate().map(|(k, f)| (f.id, k)).collect();
    let lost: Vec<usize> = (0..i.facts.len())
        .filter(|&k| i.statuses[k].status.is_lost())
        .filter(|&k| match (i.since, lost_day(&i.facts[k], &i.statuses[k])) {
            (Some(s), Some(d)) => d >= s,
            (Some(_), None) => false,
            (None, _) => true,
        })
        .collect();
    let is_lost: rustc_hash::FxHashSet<i64> = lost.iter().map(|&k| i.facts[k].id).collect();

    let mut months: std::collections::BTreeMap<String, MonthRow> = Default::default();
    for &k in &lost {
        if let Some(d) = lost_day(&i.facts[k], &i.statuses[k]) {
            let m = months.entry(month(d)).or_insert_with(|| MonthRow { month: month(d), lost: 0, net_revenue: 0.0 });
            m.lost += 1;
            m.net_revenue += i.facts[k].net_revenue();
        }
    }

    // reasons of lost customers, per customer
    let mut per_customer: FxHashMap<i64, Vec<&Reason>> = FxHashMap::default();
    for r in i.reasons.iter().filter(|r| is_lost.contains(&r.customer_id)) {
        per_customer.entry(r.customer_id).or_default().push(r);
    }
    let mut rows: FxHashMap<String, ReasonRow> = FxHashMap::default();
    let (mut systemic, mut specific) = (0, 0);
    let mut suggestions: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    let mut customer_ids: Vec<&i64> = per_customer.keys().collect();
    customer_ids.sort_unstable();
    for id in customer_ids {
        let rs = &per_customer[id];
        let net = i.facts[by_id[id]].net_revenue();
        let mut cats: Vec<&str> = rs.iter().map(|r| r.category.as_str()).collect();
        cats.sort_unstable();
        cats.dedup();
        for c in &cats {
            let row = rows.entry((*c).to_string()).or_insert_with(|| ReasonRow {
                category: (*c).to_string(),
                label: i.taxonomy.label(&rs.iter().find(|r| r.category.as_str() == *c).expect("present").category),
                customers: 0,
                revenue_lost: 0.0,
                share_of_revenue_lost: 0.0,
                cumulative_share: 0.0,
                systemic: 0,
                specific: 0,
            });
            row.customers += 1;
            row.revenue_lost += net / cats.len() as f64;
        }
        for r in rs {
            let row = rows.get_mut(r.category.as_str()).expect("added above");
            match r.scope {
                Scope::Systemic => {
                    systemic += 1;
                    row.systemic += 1;
                }
                Scope::Specific => {
                    specific += 1;
                    row.specific += 1;
                }
            }
            if let Some(s) = r.suggestion.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
                suggestions.entry(r.category.to_string()).or_default().push(s.to_string());
            }
        }
    }
    let mut reasons: Vec<ReasonRow> = rows.into_values().collect();
    let total: f64 = reasons.iter().map(|r| r.revenue_lost).sum();
    reasons.sort_by(|a, b| b.revenue_lost.total_cmp(&a.revenue_lost).then(a.category.cmp(&b.category)));
    let mut cum = 0.0;
    for r in &mut reasons {
        r.share_of_revenue_lost = if total > 0.0 { r.revenue_lost / total } else { 0.0 };
        cum += r.share_of_revenue_lost;
        r.cumulative_share = cum;
    }
    let mut ranked_by_count: Vec<&ReasonRow> = reasons.iter().collect();
    ranked_by_count.sort_by(|a, b| b.customers.cmp(&a.customers).then(a.category.cmp(&b.category)));
    let ranked_by_count: Vec<String> = ranked_by_count.iter().map(|r| r.category.clone()).collect();

    let open_causes = open_causes(i, &by_id);
    let without = lost.len() - per_customer.len();
    let lost_net: f64 = lost.iter().map(|&k| i.facts[k].net_revenue()).sum();
    let suggestions: Vec<(String, Vec<String>)> = suggestions.into_iter().collect();
    let swot = swot(i, &reasons, &suggestions, &open_causes);
    Report {
        tracking: None,
        as_of: date_of(i.as_of).to_string(),
        since: i.since.map(|d| date_of(d).to_string()),
        customers: i.facts.len(),
        lost: lost.len(),
        lost_net_revenue: lost_net,
        by_month: months.into_values().collect(),
        reasons,
        ranked_by_count,
        systemic_reasons: systemic,
        specific_reasons: specific,
        suggestions,
        lost_without_reason: without,
        share_without_reason: if lost.is_empty() { 0.0 } else { without as f64 / lost.len() as f64 },
        open_causes,
        swot,
    }
}

fn open_causes(i: &Input, by_id: &FxHashMap<i64, usize>) -> Vec<CauseRow> {
    let mut out: Vec<CauseRow> = i
        .causes
        .iter()
        .filter(|c| c.status.holds())
        .map(|c| {
            let mut held: Vec<i64> = i
                .reasons
                .iter()
                .filter(|r| r.cause == Some(c.id))
                .map(|r| r.customer_id)
                .filter(|id| by_id.get(id).is_some_and(|&k| i.statuses[k].status.is_gone()))
                .collect();
            held.sort_unstable();
            held.dedup();
            CauseRow {
                id: c.id,
                title: c.title.clone(),
                status: c.status.name().into(),
                held_customers: held.len(),
                held_value: held.iter().map(|id| value_if_won(&i.facts[by_id[id]], i.as_of)).sum(),
            }
        })
        .collect();
    out.sort_by(|a, b| b.held_value.total_cmp(&a.held_value).then(a.id.cmp(&b.id)));
    out
}

fn swot(i: &Input, reasons: &[ReasonRow], suggestions: &[(String, Vec<String>)], open: &[CauseRow]) -> Swot {
    let money = crate::decision::format_money;
    let mut s = Swot::default();
    // strengths: what customers who stay buy
    let active: rustc_hash::FxHashSet<i64> =
        i.facts.iter().zip(i.statuses).filter(|(_, s)| s.status == Status::Active).map(|(f, _)| f.id).collect();
    let mut products: FxHashMap<&str, f64> = FxHashMap::default();
    for (_, p, v) in i.products.iter().filter(|(c, _, _)| active.contains(c)) {
        *products.entry(p.as_str()).or_default() += v;
    }
    let total: f64 = products.values().sum();
    let mut top: Vec<(&str, f64)> = products.into_iter().collect();
    top.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(b.0)));
    for (p, v) in top.iter().take(3) {
        s.strengths.push(format!(
            "active customers buy {p}: {} ({:.0}% of their revenue)",
            money(*v),
            100.0 * v / total
        ));
    }
    let active_share = {
        let all: f64 = i.facts.iter().map(CustomerFacts::net_revenue).sum();
        let act: f64 = i.facts.iter().filter(|f| active.contains(&f.id)).map(CustomerFacts::net_revenue).sum();
        if all > 0.0 {
            act / all
        } else {
            0.0
        }
    };
    s.strengths.push(format!("{} active customers bring {:.0}% of all revenue", active.len(), 100.0 * active_share));
    // weaknesses: systemic reasons costing the most
    for r in reasons.iter().filter(|r| r.systemic > 0 && !matches!(r.category.as_str(), "competitor")).take(3) {
        s.weaknesses.push(format!(
            "{}: {} lost customers, {} revenue lost",
            r.label,
            r.customers,
            money(r.revenue_lost)
        ));
    }
    for c in open.iter().take(2) {
        s.weaknesses.push(format!(
            "still {}: {} ({} customers held)",
            c.status.replace('_', " "),
            c.title,
            c.held_customers
        ));
    }
    // threats: competitors and price
    for r in reasons.iter().filter(|r| matches!(r.category.as_str(), "competitor" | "price")) {
        s.threats.push(format!("{}: {} lost customers, {} revenue lost", r.label, r.customers, money(r.revenue_lost)));
    }
    // opportunities: what customers asked for, and fixes to announce
    let mut asked: Vec<(&str, usize)> = {
        let mut m: FxHashMap<&str, usize> = FxHashMap::default();
        for (_, list) in suggestions {
            for x in list {
                *m.entry(x.as_str()).or_default() += 1;
            }
        }
        m.into_iter().collect()
    };
    asked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    for (x, n) in asked.iter().take(3) {
        s.opportunities.push(format!("customers suggest \"{x}\" ({n}×)"));
    }
    for c in i.causes.iter().filter(|c| !c.status.holds()) {
        if let Some(a) = &c.announcement {
            s.opportunities.push(format!("announce the fix for \"{}\": {a}", c.title));
        }
    }
    s
}
