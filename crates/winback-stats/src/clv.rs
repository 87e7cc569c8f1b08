//! Customer lifetime value as a discounted cash flow of expected purchases (Fader,
//! Hardie & Lee 2005, "RFM and CLV", JMR 42(4), eq. 2, summed in discrete steps as
//! analysts and lifetimes' `customer_lifetime_value` do).

use crate::models::PurchaseModel;

/// How future value is counted: over `horizon` periods, in steps of `step` periods,
/// each step's cash discounted by `(1 + discount_per_step)^k`, with a `margin` share
/// of spend kept as profit.
#[derive(Debug, Clone, Copy)]
pub struct ValueSettings {
    pub horizon: f64,
    pub step: f64,
    pub discount_per_step: f64,
    pub margin: f64,
}

/// Σ_k margin · spend · (E[Y(t_k)] − E[Y(t_{k−1})]) / (1 + d)^k with t_k = min(k·step, horizon).
pub fn lifetime_value(model: &dyn PurchaseModel, x: f64, t_x: f64, t: f64, spend: f64, s: &ValueSettings) -> f64 {
    s.margin * spend * model.prob_alive(x, t_x, t) * discounted_purchases_if_alive(model, x, t, s)
}

/// Σ_k (E[Y(t_k)] − E[Y(t_{k−1})]) / (1 + d)^k for a customer who is still active:
/// every E[Y] is P(alive) times its active part ([`PurchaseModel::expected_purchases_if_alive`]),
/// so the discounted sum is too, and this part depends on (x, T) only.
pub fn discounted_purchases_if_alive(model: &dyn PurchaseModel, x: f64, t: f64, s: &ValueSettings) -> f64 {
    if !(s.horizon > 0.0 && s.step > 0.0) {
        return 0.0;
    }
    let steps = (s.horizon / s.step).ceil() as usize;
    let mut prev = 0.0;
    let mut total = 0.0;
    let mut discount = 1.0;
    for k in 1..=steps {
        let tk = (k as f64 * s.step).min(s.horizon);
        let cum = model.expected_purchases_if_alive(tk, x, t).max(0.0);
        discount /= 1.0 + s.discount_per_step;
        total += (cum - prev) * discount;
        prev = cum;
    }
    total
}
