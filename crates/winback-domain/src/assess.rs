//! Status and, for the customers who are gone, the win-back decision: one pass
//! over every customer, as `winback lost`, `customers` and the reports see them.

use rustc_hash::FxHashMap;

use crate::causes::RootCause;
use crate::decision::{decide, tier_cutoffs, Context, Verdict};
use crate::facts::CustomerFacts;
use crate::reasons::{Reason, Taxonomy};
use crate::rules::Rules;
use crate::status::{classify, shop_gap, StatusCall};

/// One customer's assessment, aligned with the facts it came from.
#[derive(Debug, Clone)]
pub struct Assessment {
    pub status: StatusCall,
    /// For lapsed, lost and churned customers.
    pub verdict: Option<Verdict>,
}

pub struct Settings<'a> {
    pub rules: &'a Rules,
    pub taxonomy: &'a Taxonomy,
    pub as_of: i32,
    /// Words for the analysis horizon, e.g. "the next 52 weeks".
    pub horizon: &'a str,
}

pub fn assess(facts: &[CustomerFacts], reasons: &[Reason], causes: &[RootCause], s: &Settings) -> Vec<Assessment> {
    let gap = shop_gap(facts);
    let mut by_customer: FxHashMap<i64, Vec<&Reason>> = FxHashMap::default();
    for r in reasons {
        by_customer.entry(r.customer_id).or_default().push(r);
    }
    let cx = Context {
        as_of: s.as_of,
        total_net_revenue: facts.iter().map(CustomerFacts::net_revenue).sum(),
        tier_cutoffs: tier_cutoffs(facts, &s.rules.decision),
        horizon: s.horizon,
        rules: &s.rules.decision,
        taxonomy: s.taxonomy,
        causes,
    };
    facts
        .iter()
        .map(|f| {
            let status = classify(f, s.as_of, gap, &s.rules.status);
            let verdict = status
                .status
                .is_gone()
                .then(|| decide(f, by_customer.get(&f.id).map_or(&[][..], |v| v.as_slice()), &cx));
            Assessment { status, verdict }
        })
        .collect()
}

/// "the next 52 weeks" for a horizon of 52 in unit "week".
pub fn horizon_words(horizon: f64, unit: &str) -> String {
    let n = if horizon.fract() == 0.0 { format!("{horizon:.0}") } else { format!("{horizon:.1}") };
    format!("the next {n} {unit}{}", if horizon == 1.0 { "" } else { "s" })
}
