//! Journey signals: which touchpoints (support tickets, late deliveries,
//! complaints, returns…) precede defection. For each event kind, the share of
//! lost customers who had one in the window before they were lost, against the
//! share of customers who stayed who had one in the window before the analysis
//! date, as a risk ratio with a 95% confidence interval.

use rustc_hash::{FxHashMap, FxHashSet};
use serde::Serialize;

use crate::facts::CustomerFacts;
use crate::status::{Status, StatusCall};

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Signal {
    pub kind: String,
    pub lost_with: usize,
    pub lost: usize,
    pub stayed_with: usize,
    pub stayed: usize,
    pub share_lost: f64,
    pub share_stayed: f64,
    /// share_lost / share_stayed, and its 95% interval.
    pub risk_ratio: f64,
    pub ci_low: f64,
    pub ci_high: f64,
}

/// The risk ratio of two proportions a/n1 and c/n2 with the Katz log interval:
/// SE(ln RR) = sqrt(1/a − 1/n1 + 1/c − 1/n2) (Katz, Baptista, Azen & Pike 1978).
/// A zero count gets the usual 0.5 added to both counts of each group
/// (Haldane–Anscombe), so the interval stays finite.
pub fn risk_ratio(a: usize, n1: usize, c: usize, n2: usize) -> (f64, f64, f64) {
    if n1 == 0 || n2 == 0 {
        return (f64::NAN, f64::NAN, f64::NAN);
    }
    let (mut a, mut n1, mut c, mut n2) = (a as f64, n1 as f64, c as f64, n2 as f64);
    if a == 0.0 || c == 0.0 {
        a += 0.5;
        c += 0.5;
        n1 += 0.5;
        n2 += 0.5;
    }
    let rr = (a / n1) / (c / n2);
    let se = (1.0 / a - 1.0 / n1 + 1.0 / c - 1.0 / n2).max(0.0).sqrt();
    (rr, rr * (-1.959_963_984_540_054 * se).exp(), rr * (1.959_963_984_540_054 * se).exp())
}

/// `events` are (customer id, day, kind). Both groups are looked at over the
/// `window` days up to and including their last activity (purchase or event, not
/// after `as_of`): for a lost customer (lost or churned) that is when they were
/// lost; for one who stayed (active) it is their latest contact. Anchoring both
/// on a last order keeps order-linked events (returns, late deliveries) from
/// favouring one group. Ranked by risk ratio, highest first.
pub fn signals(
    facts: &[CustomerFacts],
    statuses: &[StatusCall],
    events: &[(i64, i32, String)],
    as_of: i32,
    window: i32,
) -> Vec<Signal> {
    let mut last_event: FxHashMap<i64, i32> = FxHashMap::default();
    for (c, d, _) in events {
        let e = last_event.entry(*c).or_insert(*d);
        *e = (*e).max(*d);
    }
    // customer id → (is lost, window end)
    let mut group: FxHashMap<i64, (bool, i32)> = FxHashMap::default();
    for (f, s) in facts.iter().zip(statuses) {
        let lost = s.status.is_lost();
        if !lost && s.status != Status::Active {
            continue;
        }
        let end = f.last_day.into_iter().chain(last_event.get(&f.id).copied()).max().map(|d| d.min(as_of));
        if let (Some(end), true) = (end, f.last_day.is_some()) {
            group.insert(f.id, (lost, end));
        }
    }
    let lost = group.values().filter(|g| g.0).count();
    let stayed = group.len() - lost;
    let mut had: FxHashMap<&str, FxHashSet<i64>> = FxHashMap::default();
    for (c, d, kind) in events {
        let entry = had.entry(kind.as_str()).or_default();
        if let Some(&(_, end)) = group.get(c) {
            if *d <= end && *d > end - window {
                entry.insert(*c);
            }
        }
    }
    let mut out: Vec<Signal> = had
        .into_iter()
        .map(|(kind, who)| {
            let lost_with = who.iter().filter(|c| group[*c].0).count();
            let stayed_with = who.len() - lost_with;
            let (rr, lo, hi) = risk_ratio(lost_with, lost, stayed_with, stayed);
            Signal {
                kind: kind.to_string(),
                lost_with,
                lost,
                stayed_with,
                stayed,
                share_lost: if lost > 0 { lost_with as f64 / lost as f64 } else { 0.0 },
                share_stayed: if stayed > 0 { stayed_with as f64 / stayed as f64 } else { 0.0 },
                risk_ratio: rr,
                ci_low: lo,
                ci_high: hi,
            }
        })
        .collect();
    out.sort_by(|a, b| b.risk_ratio.total_cmp(&a.risk_ratio).then(a.kind.cmp(&b.kind)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn katz_interval_matches_a_hand_computation() {
        // 30/100 vs 10/100: RR 3, SE = sqrt(1/30 − 1/100 + 1/10 − 1/100) = 0.3367
        let (rr, lo, hi) = risk_ratio(30, 100, 10, 100);
        assert!((rr - 3.0).abs() < 1e-12);
        let se: f64 = (1.0 / 30.0 - 0.01 + 0.1 - 0.01_f64).sqrt();
        assert!((lo - 3.0 * (-1.959964 * se).exp()).abs() < 1e-5);
        assert!((hi - 3.0 * (1.959964 * se).exp()).abs() < 1e-5);
        assert!((lo - 1.5508).abs() < 1e-3 && (hi - 5.8033).abs() < 1e-3, "{lo} {hi}");
        let (rr, lo, hi) = risk_ratio(0, 50, 5, 100);
        assert!(rr.is_finite() && lo > 0.0 && hi.is_finite() && rr < 1.0);
    }
}
