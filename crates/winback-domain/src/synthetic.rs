//! Synthetic transaction logs drawn from a purchase model and Gamma-Gamma spend:
//! for demos, benchmarks and tests with known answers.

use chrono::NaiveDate;
use winback_stats::models::{bgnbd::BgNbd, gammagamma::GammaGamma, mbgnbd::MbgNbd, paretonbd::ParetoNbd};
use winback_stats::simulate;

use crate::analysis::PurchaseModelKind;
use crate::log::TransactionLog;
use crate::period::day_number;

/// What to simulate. Model parameters are in `unit_days` time units (e.g. weeks,
/// as in the literature's CDNOW fits).
#[derive(Debug, Clone)]
pub struct SyntheticLog {
    pub model: PurchaseModelKind,
    /// Parameters in the literature's order for `model`.
    pub params: [f64; 4],
    pub spend: Option<GammaGamma>,
    pub customers: usize,
    /// First purchases are spread evenly over `acquisition_days` from `start`.
    pub start: NaiveDate,
    pub acquisition_days: u32,
    pub observation_end: NaiveDate,
    pub unit_days: f64,
    pub seed: u64,
}

/// Draw the log. Purchases fall on whole days (time within a day is dropped).
pub fn generate(s: &SyntheticLog) -> TransactionLog {
    let start = day_number(s.start);
    let end = day_number(s.observation_end);
    let first: Vec<i32> = (0..s.customers)
        .map(|i| start + ((i as f64 + 0.5) / s.customers.max(1) as f64 * f64::from(s.acquisition_days)) as i32)
        .collect();
    // observation length in units, counted from the first purchase
    let ts: Vec<f64> = first.iter().map(|&f| f64::from((end - f).max(0)) / s.unit_days).collect();
    let [p0, p1, p2, p3] = s.params;
    let histories = match s.model {
        PurchaseModelKind::Bgnbd => simulate::bgnbd(&BgNbd { r: p0, alpha: p1, a: p2, b: p3 }, &ts, s.seed),
        PurchaseModelKind::Mbgnbd => simulate::mbgnbd(&MbgNbd { r: p0, alpha: p1, a: p2, b: p3 }, &ts, s.seed),
        PurchaseModelKind::Paretonbd => {
            simulate::paretonbd(&ParetoNbd { r: p0, alpha: p1, s: p2, beta: p3 }, &ts, s.seed)
        }
    };
    let amounts = s.spend.map(|g| {
        let counts: Vec<usize> = histories.iter().map(|h| h.purchases.len() + 1).collect();
        simulate::transaction_amounts(&g, &counts, s.seed.wrapping_add(1))
    });
    let rows: usize = histories.iter().map(|h| h.purchases.len() + 1).sum();
    let mut log = TransactionLog {
        ids: (1..=s.customers).map(|i| format!("C{i:07}")).collect(),
        customer: Vec::with_capacity(rows),
        day: Vec::with_capacity(rows),
        amount: amounts.as_ref().map(|_| Vec::with_capacity(rows)),
    };
    for (i, h) in histories.iter().enumerate() {
        let times = std::iter::once(0.0).chain(h.purchases.iter().copied());
        for (k, t) in times.enumerate() {
            log.customer.push(i as u32);
            log.day.push(first[i] + (t * s.unit_days).floor() as i32);
            if let (Some(a), Some(am)) = (log.amount.as_mut(), amounts.as_ref()) {
                // cents, as a shop records them
                a.push((am[i][k] * 100.0).round() / 100.0);
            }
        }
    }
    log
}
