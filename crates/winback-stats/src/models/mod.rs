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

/// ln((α+T)/(α+t_x)), exact also where α is so large that the ratio rounds
/// to 1 (a fit towards r → ∞ keeps r/α, the purchase rate, moderate, and
/// (r+x) times this log finite).
#[inline]
pub(crate) fn ln_time_ratio(alpha: f64, t_x: f64, t: f64) -> f64 {
    ((t - t_x) / (alpha + t_x)).ln_1p()
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

/// Expected purchases of an active BG/NBD-family customer over a horizon `t`,
/// by quadrature, for where the 2F1 closed form cannot be evaluated (r in the
/// billions, as a fit on a few extreme histories can end): given λ and p they
/// buy (1 − e^{−λpt})/p (FHL 2005 §3, the step before eq. 7); λ's posterior
/// Gamma(k, α+T), k = r+x, turns e^{−λpt} into (1 + p·u)^−k, u = t/(α+T); what
/// is left is the mean of that over p ~ Beta(a, b) (b = b+x for BG/NBD,
/// b+x+1 for MBG/NBD), taken here.
///
/// On the logit scale y = ln(p/(1−p)) the Beta density is log-concave with
/// exponential tails and the integrand analytic in a strip, so the trapezoid
/// rule converges geometrically (Trefethen & Weideman 2014, SIAM Review 56(3),
/// §5). Steps of 0.25 (a quarter of the spread when that is narrower) out
/// from the mode until the rest of the tail, summed as geometric, is below
/// 1e-17 of the whole; the density is normalised by its own sum, so ln B(a, b)
/// is never needed.
pub(crate) fn beta_mean_purchases(k: f64, u: f64, a: f64, b: f64) -> f64 {
    // ln σ(y) without overflow
    let ln_sig = |y: f64| if y > 0.0 { -(-y).exp().ln_1p() } else { y - y.exp().ln_1p() };
    let ln_dens = |y: f64| a * ln_sig(y) + b * ln_sig(-y);
    // (1 − (1 + p·u)^−k)/p, → k·u as p → 0 (and taken as that once p is
    // small enough for p·u to lose digits: with a small, the Beta's left tail
    // still carries weight at p = σ(−745), where σ underflows)
    let f = |p: f64| if p * u * k.max(1.0) < 1e-280 { k * u } else { -(-k * (p * u).ln_1p()).exp_m1() / p };
    let mode = (a / b).ln();
    if !(mode.is_finite() && k.is_finite() && u.is_finite()) {
        return f64::NAN;
    }
    let h = 0.25 * (1.0 / a + 1.0 / b).sqrt().min(1.0);
    let top = ln_dens(mode);
    let (mut mass, mut sum) = (1.0, f(sigmoid(mode)));
    for dir in [-1.0, 1.0] {
        let (mut prev_m, mut prev_s) = (1.0, sum.max(f64::MIN_POSITIVE));
        for j in 1..=20_000 {
            let y = mode + dir * f64::from(j) * h;
            let m = (ln_dens(y) - top).exp();
            let s = m * f(sigmoid(y));
            mass += m;
            sum += s;
            if m == 0.0 {
                break;
            }
            // far out both ratios settle to e^{−a·h} or e^{−b·h}
            let (rm, rs) = (m / prev_m, s / prev_s);
            (prev_m, prev_s) = (m, s);
            let tail = |v: f64, r: f64| if r < 1.0 { v * r / (1.0 - r) } else { f64::INFINITY };
            let (tm, ts) = (tail(m, rm), tail(s, rs));
            if (tm <= 1e-17 * mass && ts <= 1e-17 * sum) || j == 20_000 {
                if tm.is_finite() && ts.is_finite() {
                    mass += tm;
                    sum += ts;
                }
                break;
            }
        }
    }
    sum / mass
}
