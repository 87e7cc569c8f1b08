//! Per-customer scores from fitted models: probability alive, expected purchases,
//! expected spend, lifetime value, and the value at stake if the customer has left.

use serde::Serialize;
use winback_stats::clv::{lifetime_value, ValueSettings};
use winback_stats::models::{gammagamma::GammaGamma, PurchaseModel};

use crate::summary::CustomerSummary;

/// How future value is counted.
#[derive(Debug, Clone, Copy)]
pub struct ScoreSettings {
    /// Prediction horizon, in the summary's time unit.
    pub horizon: f64,
    /// Share of revenue kept as profit (1 = value in revenue).
    pub margin: f64,
    /// Discount rate per year, and the length of one time unit in days.
    pub annual_discount_rate: f64,
    pub unit_days: f64,
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct CustomerScore {
    pub p_alive: f64,
    /// Expected purchases in the horizon.
    pub expected_purchases: f64,
    /// Expected spend per purchase (Gamma-Gamma), when the log has amounts.
    pub expected_spend: Option<f64>,
    /// Discounted expected margin over the horizon.
    pub lifetime_value: Option<f64>,
    /// (1 − P(alive)) × what the customer spent in the observed period (or their
    /// purchase count without amounts): the revenue of a relationship that has
    /// probably ended. Sorting by it puts the most valuable lost customers first.
    pub value_at_stake: f64,
}

/// Score every customer; two threads for large bases.
pub fn score(
    model: &(dyn PurchaseModel + Sync),
    spend: Option<&GammaGamma>,
    customers: &[CustomerSummary],
    s: &ScoreSettings,
) -> Vec<CustomerScore> {
    // At most 52 cash-flow steps over the horizon, at least one time unit each.
    let step = (s.horizon / 52.0).max(1.0).min(s.horizon.max(f64::MIN_POSITIVE));
    let years_per_step = step * s.unit_days / 365.25;
    let value = ValueSettings {
        horizon: s.horizon,
        step,
        discount_per_step: (1.0 + s.annual_discount_rate).powf(years_per_step) - 1.0,
        margin: s.margin,
    };
    let one = |c: &CustomerSummary| {
        let (x, tx, t) = (f64::from(c.frequency), c.recency, c.t);
        let p_alive = model.prob_alive(x, tx, t);
        let expected_purchases = model.expected_purchases(s.horizon, x, tx, t);
        let expected_spend = spend.map(|g| g.expected_spend(x, c.monetary_value));
        let lifetime_value = expected_spend.map(|m| lifetime_value(model, x, tx, t, m, &value));
        let past = if spend.is_some() { c.total_value } else { x + 1.0 };
        CustomerScore {
            p_alive,
            expected_purchases,
            expected_spend,
            lifetime_value,
            value_at_stake: (1.0 - p_alive) * past,
        }
    };
    if customers.len() < 20_000 {
        return customers.iter().map(one).collect();
    }
    let mid = customers.len() / 2;
    let (a, b) = customers.split_at(mid);
    std::thread::scope(|sc| {
        let h = sc.spawn(|| b.iter().map(one).collect::<Vec<_>>());
        let mut out: Vec<CustomerScore> = a.iter().map(one).collect();
        out.extend(h.join().expect("scoring worker panicked"));
        out
    })
}

/// Indices of `scores` ordered by value at stake, largest first (ties: least
/// likely alive first).
pub fn rank_by_value_at_stake(scores: &[CustomerScore]) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..scores.len()).collect();
    idx.sort_by(|&i, &j| {
        let (a, b) = (&scores[i], &scores[j]);
        b.value_at_stake.total_cmp(&a.value_at_stake).then(a.p_alive.total_cmp(&b.p_alive))
    });
    idx
}
