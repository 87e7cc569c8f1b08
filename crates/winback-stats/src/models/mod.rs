//! The customer-base models. Each module holds one model: its parameters, its
//! likelihood (with the paper and equation it comes from), the fit, and the
//! predictions the literature derives for it.

pub mod bgbb;
pub mod bgnbd;
pub mod gammagamma;
pub mod limits;
pub mod mbgnbd;
pub mod paretonbd;
pub mod sbg;

/// What every continuous-time purchase model (BG/NBD, MBG/NBD, Pareto/NBD) predicts
/// for a customer with `x` repeat purchases, the last at `t_x`, observed for `t`
/// periods since their first purchase.
pub trait PurchaseModel {
    /// Short name, as on the command line (`bgnbd`, `paretonbd`, `mbgnbd`).
    fn name(&self) -> &'static str;
    /// Parameters in the literature's order and notation.
    fn params(&self) -> Vec<(&'static str, f64)>;
    /// ln of the likelihood of one customer's history.
    fn log_likelihood_one(&self, x: f64, t_x: f64, t: f64) -> f64;
    /// P(customer is still active at `t`).
    fn prob_alive(&self, x: f64, t_x: f64, t: f64) -> f64;
    /// Expected purchases in (t, t + horizon] of a customer who is still active.
    /// It depends on x and T but not on t_x, so it can be computed once per
    /// (x, T) and shared by every history with those.
    fn expected_purchases_if_alive(&self, horizon: f64, x: f64, t: f64) -> f64;
    /// Expected purchases in (t, t + horizon]: P(alive) times what an active
    /// customer buys, the form of FHL (2005) eq. (10), FH05 eq. (20) and their kin.
    fn expected_purchases(&self, horizon: f64, x: f64, t_x: f64, t: f64) -> f64 {
        (self.expected_purchases_if_alive(horizon, x, t) * self.prob_alive(x, t_x, t)).max(0.0)
    }
    /// Expected purchases in (0, horizon] for a customer just acquired (the first
    /// purchase not counted).
    fn expected_purchases_new(&self, horizon: f64) -> f64;
}

/// Logistic function 1/(1+e^−v), without overflow.
#[inline]
pub(crate) fn sigmoid(v: f64) -> f64 {
    if v >= 0.0 {
        1.0 / (1.0 + (-v).exp())
    } else {
        let e = v.exp();
        e / (1.0 + e)
    }
}

/// (1 − G)/(a − 1), continuous at a = 1 where G(a) → 1: there, the mean of the values
/// at a ± 1e-6.
pub(crate) fn ratio_near_one(a: f64, f: impl Fn(f64) -> f64) -> f64 {
    if (a - 1.0).abs() > 1e-6 {
        f(a)
    } else {
        0.5 * (f(1.0 - 1e-6) + f(1.0 + 1e-6))
    }
}
