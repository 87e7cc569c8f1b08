//! The purchase models at the edge of their parameter space, where a mixing
//! distribution collapses to a point: every customer has the same chance of
//! leaving after a purchase (BG/NBD and MBG/NBD with a, b → ∞ and a/(a+b) = p), or
//! the same drop-out rate (Pareto/NBD with s, β → ∞ and s/β = μ).
//!
//! On shops where people leave because of events (a late parcel, a bad batch)
//! rather than by a drop-out propensity of their own, the full models' likelihood
//! keeps rising towards that edge: the optimiser walks a and b to 1e8 or beyond,
//! and the predictions' hypergeometric series then take minutes. The limit is a
//! model in its own right with one parameter fewer; fitted directly, it converges
//! cleanly, and its predictions have closed forms (or a bounded quadrature).

use super::bgnbd::{beta_geometric_ll, XTerms};
use super::{ln_time_ratio, sigmoid, PurchaseModel};
use crate::data::RfmData;
use crate::fit::{fit_model, numeric_grad, with_params, Fit, FitError, FitOptions, Likelihood};
use crate::parallel::sum_rows;
use crate::special::{ln_integral_decreasing, log_add_exp, LnGammaRatio};

/// BG/NBD (Fader, Hardie & Lee 2005) in the limit a, b → ∞ with a/(a+b) = p: each
/// customer leaves after any purchase with the same probability `p`; purchase
/// rates still vary, λ ~ Gamma(r, α).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct BgNbdCommon {
    pub r: f64,
    pub alpha: f64,
    pub p: f64,
}

/// MBG/NBD (Batislam et al. 2007) in the same limit: a customer may also leave
/// right after the first purchase, with the same probability `p`.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct MbgNbdCommon {
    pub r: f64,
    pub alpha: f64,
    pub p: f64,
}

/// Pareto/NBD (Schmittlein, Morrison & Colombo 1987) in the limit s, β → ∞ with
/// s/β = μ: every lifetime is exponential with the same rate `mu`.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct ParetoNbdCommon {
    pub r: f64,
    pub alpha: f64,
    pub mu: f64,
}

/// The likelihoods are fitted in (r, α, q) with q = p/(1−p) > 0, so that the
/// shared log-parameter optimiser keeps p inside (0, 1).
struct BgLik<'a> {
    data: &'a RfmData,
    /// MBG/NBD: drop-out also possible after the first purchase.
    modified: bool,
}

impl Likelihood for BgLik<'_> {
    const NAMES: &'static [&'static str] = &["r", "alpha", "q"];

    fn customers(&self) -> f64 {
        self.data.customers()
    }

    fn start(&self) -> Vec<f64> {
        let (mx, _, mt) = self.data.means();
        vec![1.0, mt / mx.max(1e-3), 0.1]
    }

    /// FHL (2005) eq. (6) as a, b → ∞: B(a, b+x)/B(a, b) → (1−p)^x and
    /// a/(b+x−1) → p/(1−p), so
    /// ℓ = ln Γ(r+x) − ln Γ(r) + r ln α + x ln(1−p) + ln[(α+T)^−(r+x) + δ(x>0) q (α+t_x)^−(r+x)].
    /// MBG/NBD (Batislam et al. 2007 eq. 4) in the limit: (1−p)^(x+1) and the
    /// second branch for every x.
    fn ll_grad(&self, p: &[f64], grad: &mut [f64]) -> f64 {
        let (r, alpha, q) = (p[0], p[1], p[2]);
        let shift = if self.modified { 1.0 } else { 0.0 };
        let g_r = LnGammaRatio::new(r);
        let per_x: Vec<XTerms> = self
            .data
            .xs
            .iter()
            .map(|&x| {
                let can_leave = self.modified || x > 0.0;
                XTerms {
                    c: g_r.at(x) - (x + shift) * q.ln_1p(),
                    dr: g_r.d_at(x),
                    // the third parameter's slot: d/dq of the x-only part
                    da: -(x + shift) / (1.0 + q),
                    db: 0.0,
                    ln_q: can_leave.then(|| q.ln()),
                    dbq: 0.0,
                }
            })
            .collect();
        let mut g4 = [0.0; 4];
        let ll = beta_geometric_ll(self.data, r, alpha, q, &per_x, &mut g4);
        grad.copy_from_slice(&g4[..3]);
        ll
    }
}

fn fit_common(data: &RfmData, opts: &FitOptions, modified: bool) -> Result<(f64, f64, f64, Fit<()>), FitError> {
    if data.repeaters() == 0.0 {
        return Err(FitError::NotIdentifiable(
            "no customer has a repeat purchase, so nothing can be learned about purchase rates; use a longer observation window".into(),
        ));
    }
    let (est, mut fit) = fit_model(&BgLik { data, modified }, opts)?;
    let q = est[2];
    let p = q / (1.0 + q);
    // delta method: dp/dq = 1/(1+q)²
    fit.std_errors[2] /= (1.0 + q) * (1.0 + q);
    fit.names = vec!["r", "alpha", "p"];
    fit.ranges[2] = crate::fit::Range::Probability;
    Ok((est[0], est[1], p, fit))
}

/// Fit BG/NBD at its common-drop-out limit.
pub fn fit_bgnbd(data: &RfmData, opts: &FitOptions) -> Result<Fit<BgNbdCommon>, FitError> {
    let (r, alpha, p, fit) = fit_common(data, opts, false)?;
    Ok(with_params(fit, BgNbdCommon { r, alpha, p }))
}

/// Fit MBG/NBD at its common-drop-out limit.
pub fn fit_mbgnbd(data: &RfmData, opts: &FitOptions) -> Result<Fit<MbgNbdCommon>, FitError> {
    let (r, alpha, p, fit) = fit_common(data, opts, true)?;
    Ok(with_params(fit, MbgNbdCommon { r, alpha, p }))
}

/// One customer's log-likelihood at the a, b → ∞ limit, as [`BgLik`] sums
/// it but in p rather than the fit's odds q = p/(1−p):
/// ln Γ(r+x)/Γ(r) + ln[(1−p)^(x+m) α^r (α+T)^−(r+x) + δ p (1−p)^(x+m−1) α^r (α+t_x)^−(r+x)],
/// m = 1 for MBG/NBD (δ = 1) and 0 for BG/NBD (δ = [x > 0]). A fit whose odds
/// ran past 1e16 reports p = 1, where the odds form is ∞ − ∞; this form
/// gives the limit (0⁰ = 1: one repeat purchase, then gone).
fn common_ll_one(r: f64, alpha: f64, p: f64, modified: bool, x: f64, t_x: f64, t: f64) -> f64 {
    if !(RfmData::new([(x, t_x, t)]).is_ok() && p > 0.0 && p <= 1.0) {
        return f64::NAN;
    }
    let m = if modified { 1.0 } else { 0.0 };
    let ln_1mp = (-p).ln_1p();
    let pow = |k: f64| if k == 0.0 { 0.0 } else { k * ln_1mp };
    let rate_part = |tau: f64| -r * (tau / alpha).ln_1p() - x * (alpha + tau).ln();
    let alive = pow(x + m) + rate_part(t);
    let gone = if modified || x > 0.0 { p.ln() + pow(x + m - 1.0) + rate_part(t_x) } else { f64::NEG_INFINITY };
    LnGammaRatio::new(r).at(x) + log_add_exp(alive, gone)
}

/// Expected purchases in (T, T+t] of a customer known to be active, with
/// λ ~ Gamma(r+x, α+T) (the posterior) and a common drop-out chance p after each
/// purchase: E[(1 − e^(−λpt))/p] (FHL 2005 §3, E[X(t) | λ, p] = (1 − e^(−λpt))/p)
/// = (1 − ((α+T)/(α+T+pt))^(r+x)) / p.
fn geometric_active(shape: f64, rate: f64, p: f64, t: f64) -> f64 {
    -(-shape * (p * t / rate).ln_1p()).exp_m1() / p
}

impl PurchaseModel for BgNbdCommon {
    fn name(&self) -> &'static str {
        "bgnbd"
    }

    fn params(&self) -> Vec<(&'static str, f64)> {
        vec![("r", self.r), ("alpha", self.alpha), ("p", self.p)]
    }

    fn log_likelihood_one(&self, x: f64, t_x: f64, t: f64) -> f64 {
        common_ll_one(self.r, self.alpha, self.p, false, x, t_x, t)
    }

    /// FHL (2005) eq. (13) in the limit: 1 / (1 + δ(x>0) p/(1−p) ((α+T)/(α+t_x))^(r+x)).
    fn prob_alive(&self, x: f64, t_x: f64, t: f64) -> f64 {
        if x == 0.0 {
            return 1.0;
        }
        let ln_odds = (self.p / (1.0 - self.p)).ln() + (self.r + x) * ln_time_ratio(self.alpha, t_x, t);
        sigmoid(-ln_odds)
    }

    fn expected_purchases_if_alive(&self, horizon: f64, x: f64, t: f64) -> f64 {
        geometric_active(self.r + x, self.alpha + t, self.p, horizon)
    }

    /// FHL (2005) eq. (7) in the limit: (1 − (α/(α+pt))^r) / p.
    fn expected_purchases_new(&self, horizon: f64) -> f64 {
        geometric_active(self.r, self.alpha, self.p, horizon)
    }
}

impl PurchaseModel for MbgNbdCommon {
    fn name(&self) -> &'static str {
        "mbgnbd"
    }

    fn params(&self) -> Vec<(&'static str, f64)> {
        vec![("r", self.r), ("alpha", self.alpha), ("p", self.p)]
    }

    fn log_likelihood_one(&self, x: f64, t_x: f64, t: f64) -> f64 {
        common_ll_one(self.r, self.alpha, self.p, true, x, t_x, t)
    }

    /// Batislam et al. (2007) eq. (5) in the limit: 1 / (1 + p/(1−p) ((α+T)/(α+t_x))^(r+x)).
    fn prob_alive(&self, x: f64, t_x: f64, t: f64) -> f64 {
        let ln_odds = (self.p / (1.0 - self.p)).ln() + (self.r + x) * ln_time_ratio(self.alpha, t_x, t);
        sigmoid(-ln_odds)
    }

    fn expected_purchases_if_alive(&self, horizon: f64, x: f64, t: f64) -> f64 {
        geometric_active(self.r + x, self.alpha + t, self.p, horizon)
    }

    /// Just after the first purchase a customer is still there with chance 1 − p.
    fn expected_purchases_new(&self, horizon: f64) -> f64 {
        (1.0 - self.p) * geometric_active(self.r, self.alpha, self.p, horizon)
    }
}

struct ParetoLik<'a>(&'a RfmData);

impl Likelihood for ParetoLik<'_> {
    const NAMES: &'static [&'static str] = &["r", "alpha", "mu"];

    fn customers(&self) -> f64 {
        self.0.customers()
    }

    fn start(&self) -> Vec<f64> {
        let (mx, _, mt) = self.0.means();
        vec![1.0, mt / mx.max(1e-3), 1.0 / mt.max(1e-3)]
    }

    fn ll_grad(&self, p: &[f64], grad: &mut [f64]) -> f64 {
        numeric_grad(|q| pareto_total(self.0, &ParetoNbdCommon { r: q[0], alpha: q[1], mu: q[2] }), p, grad)
    }
}

fn pareto_total(d: &RfmData, m: &ParetoNbdCommon) -> f64 {
    let g_r = LnGammaRatio::new(m.r);
    let per_x: Vec<f64> = d.xs.iter().map(|&x| g_r.at(x)).collect();
    sum_rows::<1>(d.x.len(), |i| {
        let (alive, died) = m.ln_branches(d.x[i], d.t_x[i], d.t[i]);
        [d.weight[i] * (per_x[d.x_idx[i] as usize] + log_add_exp(alive, died))]
    })[0]
}

/// Fit Pareto/NBD at its common-drop-out-rate limit.
pub fn fit_paretonbd(data: &RfmData, opts: &FitOptions) -> Result<Fit<ParetoNbdCommon>, FitError> {
    if data.repeaters() == 0.0 {
        return Err(FitError::NotIdentifiable(
            "no customer has a repeat purchase, so nothing can be learned about purchase rates; use a longer observation window".into(),
        ));
    }
    let (p, fit) = fit_model(&ParetoLik(data), opts)?;
    Ok(with_params(fit, ParetoNbdCommon { r: p[0], alpha: p[1], mu: p[2] }))
}

impl ParetoNbdCommon {
    /// ln of the two branches of the likelihood with λ integrated out (Fader &
    /// Hardie 2005, "A Note on Deriving the Pareto/NBD Model", eq. 3, μ fixed):
    /// still active, (α+T)^−(r+x) e^(−μT); died at τ in (t_x, T],
    /// μ ∫ e^(−μτ) (α+τ)^−(r+x) dτ, each times α^r, taken inside as
    /// (1+τ/α)^−r (α+τ)^−x; the factor Γ(r+x)/Γ(r) is left out. Towards r → ∞ (one
    /// purchase rate r/α for all) r ln α and (r+x) ln(α+T) are each huge and
    /// their difference was noise a fit read as a log-likelihood of 1e79.
    fn ln_branches(&self, x: f64, t_x: f64, t: f64) -> (f64, f64) {
        let (r, alpha, mu) = (self.r, self.alpha, self.mu);
        let g = |tau: f64| -mu * tau - r * (tau / alpha).ln_1p() - x * (alpha + tau).ln();
        let alive = g(t);
        let died = mu.ln() + ln_integral_decreasing(g, |tau| -mu - (r + x) / (alpha + tau), -alpha, t_x, t);
        (alive, died)
    }
}

impl PurchaseModel for ParetoNbdCommon {
    fn name(&self) -> &'static str {
        "paretonbd"
    }

    fn params(&self) -> Vec<(&'static str, f64)> {
        vec![("r", self.r), ("alpha", self.alpha), ("mu", self.mu)]
    }

    fn log_likelihood_one(&self, x: f64, t_x: f64, t: f64) -> f64 {
        let (alive, died) = self.ln_branches(x, t_x, t);
        LnGammaRatio::new(self.r).at(x) + log_add_exp(alive, died)
    }

    fn prob_alive(&self, x: f64, t_x: f64, t: f64) -> f64 {
        let (alive, died) = self.ln_branches(x, t_x, t);
        if died == f64::NEG_INFINITY {
            return 1.0;
        }
        sigmoid(alive - died)
    }

    /// FH05 eq. (20) as s, β → ∞: (r+x)/(α+T) · (1 − e^(−μt))/μ · P(alive).
    fn expected_purchases_if_alive(&self, horizon: f64, x: f64, t: f64) -> f64 {
        (self.r + x) / (self.alpha + t) * -(-self.mu * horizon).exp_m1() / self.mu
    }

    /// FH05 eq. (17) in the limit: r/α · (1 − e^(−μt))/μ.
    fn expected_purchases_new(&self, horizon: f64) -> f64 {
        self.r / self.alpha * -(-self.mu * horizon).exp_m1() / self.mu
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::{bgnbd::BgNbd, mbgnbd::MbgNbd, paretonbd::ParetoNbd};

    const CASES: [(f64, f64, f64); 5] =
        [(0.0, 0.0, 30.0), (1.0, 5.0, 30.0), (4.0, 28.0, 39.0), (12.0, 10.0, 52.0), (2.0, 1.0, 2.0)];

    fn close(a: f64, b: f64, tol: f64) {
        assert!((a - b).abs() <= tol * b.abs().max(1e-12), "{a} vs {b}");
    }

    /// The common drop-out p is a probability: its interval stays inside (0, 1)
    /// and covers the simulated truth.
    #[test]
    fn the_common_drop_out_has_an_interval_inside_zero_one() {
        use crate::{data::RfmData, fit::FitOptions, simulate};
        let truth = BgNbd { r: 0.8, alpha: 6.0, a: 0.3e6, b: 0.7e6 };
        for (n, seed) in [(3000, 7), (12, 8)] {
            let h = simulate::bgnbd(&truth, &vec![52.0; n], seed);
            let data = RfmData::new(h.iter().map(|c| (c.x, c.t_x, c.t))).unwrap();
            let f = fit_bgnbd(&data, &FitOptions::default()).unwrap();
            assert_eq!(f.names[2], "p");
            let (lo, hi) = f.interval95(2, f.params.p);
            assert!(
                0.0 < lo && lo < f.params.p && f.params.p < hi && hi < 1.0,
                "{n}: p {} in [{lo}, {hi}]",
                f.params.p
            );
            if n > 100 {
                assert!(lo < 0.3 && 0.3 < hi, "p {} in [{lo}, {hi}]", f.params.p);
            }
        }
    }

    /// The limit formulas agree with the full models at a large concentration.
    #[test]
    fn limits_agree_with_the_full_models_near_the_edge() {
        let (r, alpha, p) = (0.8, 6.0, 0.07);
        let k = 1e6;
        let full = BgNbd { r, alpha, a: p * k, b: (1.0 - p) * k };
        let lim = BgNbdCommon { r, alpha, p };
        let mfull = MbgNbd { r, alpha, a: p * k, b: (1.0 - p) * k };
        let mlim = MbgNbdCommon { r, alpha, p };
        for (x, tx, t) in CASES {
            close(lim.prob_alive(x, tx, t), full.prob_alive(x, tx, t), 1e-4);
            close(lim.log_likelihood_one(x, tx, t), full.log_likelihood_one(x, tx, t), 1e-5);
            close(lim.expected_purchases(20.0, x, tx, t), full.expected_purchases(20.0, x, tx, t), 1e-4);
            close(mlim.prob_alive(x, tx, t), mfull.prob_alive(x, tx, t), 1e-4);
            close(mlim.log_likelihood_one(x, tx, t), mfull.log_likelihood_one(x, tx, t), 1e-5);
            close(mlim.expected_purchases(20.0, x, tx, t), mfull.expected_purchases(20.0, x, tx, t), 1e-4);
        }
        close(lim.expected_purchases_new(40.0), full.expected_purchases_new(40.0), 1e-4);
        close(mlim.expected_purchases_new(40.0), mfull.expected_purchases_new(40.0), 1e-4);

        let (s_mu, s) = (0.02, 1e7);
        let pfull = ParetoNbd { r, alpha, s, beta: s / s_mu };
        let plim = ParetoNbdCommon { r, alpha, mu: s_mu };
        for (x, tx, t) in CASES {
            close(plim.prob_alive(x, tx, t), pfull.prob_alive(x, tx, t), 1e-4);
            close(plim.log_likelihood_one(x, tx, t), pfull.log_likelihood_one(x, tx, t), 1e-5);
            close(plim.expected_purchases(20.0, x, tx, t), pfull.expected_purchases(20.0, x, tx, t), 1e-4);
        }
        close(plim.expected_purchases_new(40.0), pfull.expected_purchases_new(40.0), 1e-5);
    }

    /// The quadrature that takes over from 2F1 for large r + s + x agrees with it
    /// where both work.
    #[test]
    fn pareto_a0_by_quadrature_matches_the_series() {
        for (r, alpha, s, beta, x, tx, t) in [
            (50.0, 10.0, 60.0, 30.0, 20.0, 5.0, 40.0),
            (0.55, 10.6, 0.61, 11.7, 3.0, 20.0, 38.0),
            (120.0, 300.0, 40.0, 2.0, 10.0, 0.5, 30.0),
            // β ≪ α (a fit on odd data ran there): z = 1 − 1e-49 rounds to 1,
            // and the integrand's pole is 1e-57 from t_x = 0
            (0.0466, 4.36e-8, 0.004584, 3.49e-57, 0.0, 0.0, 2946.0),
            (0.0466, 4.36e-8, 0.004584, 3.49e-57, 2.0, 0.0, 190.0),
            (0.0466, 4.36e-8, 0.004584, 3.49e-57, 3.0, 81.0, 82.0),
            // and s → 0 as well: c − a − b = −s, poles cancelling in the 1 − z form
            (0.1674, 0.3811, 1.4075e-11, 5.829e-27, 0.0, 0.0, 243.0),
        ] {
            let m = ParetoNbd { r, alpha, s, beta };
            let (k1, k2) = (r + x, s + 1.0);
            let quad = (r + s + x).ln()
                + ln_integral_decreasing(
                    |u| -k1 * (alpha + u).ln() - k2 * (beta + u).ln(),
                    |u| -k1 / (alpha + u) - k2 / (beta + u),
                    -alpha.min(beta),
                    tx,
                    t,
                );
            close(quad, m.ln_a0(x, tx, t), 1e-10);
        }
        // where the 2F1 route fails and ln A0 is the quadrature's: against the
        // integral taken to 30 digits (mpmath, points at each power of ten)
        let m = ParetoNbd { r: 0.1674, alpha: 0.3811, s: 1.4075e-11, beta: 5.829e-27 };
        close(m.ln_a0(0.0, 0.0, 243.0), 2.519_529_426_908_414, 1e-12);
        for (x, tx, t) in [(0.0, 0.0, 243.0), (1.0, 0.52, 0.53), (3.0, 144.0, 145.0)] {
            let p = m.prob_alive(x, tx, t);
            assert!(p.is_finite() && (0.0..=1.0).contains(&p), "P(alive) {p}");
        }
    }

    /// The quadrature against closed forms: k = 1 (e^(−μτ)/(α+τ) has none, but
    /// μ = 0 gives ln((α+t1)/(α+t0)); k = 0 gives (e^(−μt0) − e^(−μt1))/μ).
    #[test]
    fn quadrature_matches_closed_forms() {
        // ln ∫_{t0}^{t1} e^(−μτ) (α+τ)^(−k) dτ, the died branch's integral
        let ln_integral = |k: f64, mu: f64, alpha: f64, t0: f64, t1: f64| -> f64 {
            ln_integral_decreasing(|t| -mu * t - k * (alpha + t).ln(), |t| -mu - k / (alpha + t), -alpha, t0, t1)
        };
        close(ln_integral(1.0, 1e-300, 2.0, 1.0, 50.0).exp(), (52.0f64 / 3.0).ln(), 1e-10);
        let mu = 0.3;
        close(ln_integral(0.0, mu, 2.0, 1.0, 50.0).exp(), ((-mu).exp() - (-mu * 50.0).exp()) / mu, 1e-10);
        // steep: most of the mass right at t0
        let v = ln_integral(400.0, 0.01, 0.5, 3.0, 300.0);
        close(v, -399.0f64.ln() - 0.03 - 399.0 * 3.5f64.ln(), 1e-3);
    }
}
