//! Pareto/NBD: Schmittlein, Morrison & Colombo (1987), "Counting Your Customers:
//! Who Are They and What Will They Do Next?", Management Science 33(1), 1–24, in the
//! form of Fader & Hardie (2005), "A Note on Deriving the Pareto/NBD Model and
//! Related Expressions" (FH05 below).
//!
//! While active, a customer buys at Poisson rate λ ~ Gamma(r, α); their lifetime is
//! exponential with rate μ ~ Gamma(s, β).

use super::{sigmoid, PurchaseModel};
use crate::data::RfmData;
use crate::fit::{fit_model, numeric_grad, with_params, Fit, FitError, FitOptions, Likelihood};
use crate::parallel::sum_rows;
use crate::special::{ln_1m_exp, ln_gamma, ln_hyp2f1, ln_integral_decreasing, log_add_exp};

/// Pareto/NBD parameters (all > 0).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct ParetoNbd {
    pub r: f64,
    pub alpha: f64,
    pub s: f64,
    pub beta: f64,
}

struct Lik<'a>(&'a RfmData);

impl Likelihood for Lik<'_> {
    const NAMES: &'static [&'static str] = &["r", "alpha", "s", "beta"];

    fn customers(&self) -> f64 {
        self.0.customers()
    }

    fn start(&self) -> Vec<f64> {
        let (mx, _, mt) = self.0.means();
        vec![1.0, mt / mx.max(1e-3), 1.0, mt]
    }

    fn ll_grad(&self, p: &[f64], grad: &mut [f64]) -> f64 {
        // The derivatives of 2F1 in its parameters have no convenient closed form;
        // the data are compressed, so central differences are affordable.
        numeric_grad(|q| total_ll(self.0, &ParetoNbd { r: q[0], alpha: q[1], s: q[2], beta: q[3] }), p, grad)
    }
}

fn total_ll(d: &RfmData, m: &ParetoNbd) -> f64 {
    let lg_r = ln_gamma(m.r);
    let base = m.r * m.alpha.ln() + m.s * m.beta.ln() - lg_r;
    let per_x: Vec<f64> = d.xs.iter().map(|&x| ln_gamma(m.r + x)).collect();
    sum_rows::<1>(d.x.len(), |i| {
        let x = d.x[i];
        let ll = per_x[d.x_idx[i] as usize] + base + m.ln_bracket(x, d.t_x[i], d.t[i]);
        [d.weight[i] * ll]
    })[0]
}

/// Fit Pareto/NBD by maximum likelihood.
pub fn fit(data: &RfmData, opts: &FitOptions) -> Result<Fit<ParetoNbd>, FitError> {
    if data.repeaters() == 0.0 {
        return Err(FitError::NotIdentifiable(
            "no customer has a repeat purchase, so nothing can be learned about purchase rates; use a longer observation window".into(),
        ));
    }
    let (p, fit) = fit_model(&Lik(data), opts)?;
    Ok(with_params(fit, ParetoNbd { r: p[0], alpha: p[1], s: p[2], beta: p[3] }))
}

impl ParetoNbd {
    /// Total log-likelihood of `data`.
    pub fn log_likelihood(&self, data: &RfmData) -> f64 {
        total_ll(data, self)
    }

    /// ln A0 of FH05 eq. (22), where s/(r+s+x) · A0 = s ∫_{t_x}^{T} (α+τ)^−(r+x) (β+τ)^−(s+1) dτ
    /// is the chance of the history for a customer who died at some τ in (t_x, T].
    /// Closed form F(t_x) − F(T), F(t) = 2F1(r+s+x, s+1; r+s+x+1; (α−β)/(α+t)) / (α+t)^(r+s+x)
    /// when α ≥ β, and with α and β swapped (second parameter r+x) when α < β: the
    /// choice keeps the 2F1 argument in [0, 1).
    pub fn ln_a0(&self, x: f64, t_x: f64, t: f64) -> f64 {
        if t_x >= t {
            return f64::NEG_INFINITY;
        }
        let (r, s) = (self.r, self.s);
        let rsx = r + s + x;
        if rsx > 200.0 {
            // Far from the literature's ranges (r or s running large in a fit) the
            // 2F1 series below can need millions of terms: integrate instead,
            // A0 = (r+s+x) ∫_{t_x}^{T} (α+τ)^−(r+x) (β+τ)^−(s+1) dτ (FH05 eq. 22).
            let (k1, k2) = (r + x, s + 1.0);
            let (al, be) = (self.alpha, self.beta);
            return rsx.ln()
                + ln_integral_decreasing(
                    |t| -k1 * (al + t).ln() - k2 * (be + t).ln(),
                    |t| -k1 / (al + t) - k2 / (be + t),
                    -al.min(be),
                    t_x,
                    t,
                );
        }
        let (big, small, b2) =
            if self.alpha >= self.beta { (self.alpha, self.beta, s + 1.0) } else { (self.beta, self.alpha, r + x) };
        let ln_f = |tt: f64| -> f64 {
            let z = (big - small) / (big + tt);
            match ln_hyp2f1(rsx, b2, rsx + 1.0, z) {
                Ok(v) if v.sign > 0.0 => v.ln - rsx * (big + tt).ln(),
                _ => f64::NAN,
            }
        };
        let (f1, f2) = (ln_f(t_x), ln_f(t));
        f1 + ln_1m_exp(f2 - f1)
    }

    /// ln of the bracket in FH05 eq. (22):
    /// (α+T)^−(r+x) (β+T)^−s + s/(r+s+x) · A0.
    fn ln_bracket(&self, x: f64, t_x: f64, t: f64) -> f64 {
        let (r, s) = (self.r, self.s);
        let alive = -(r + x) * (self.alpha + t).ln() - s * (self.beta + t).ln();
        let died = (s / (r + s + x)).ln() + self.ln_a0(x, t_x, t);
        log_add_exp(alive, died)
    }
}

impl PurchaseModel for ParetoNbd {
    fn name(&self) -> &'static str {
        "paretonbd"
    }

    fn params(&self) -> Vec<(&'static str, f64)> {
        vec![("r", self.r), ("alpha", self.alpha), ("s", self.s), ("beta", self.beta)]
    }

    fn log_likelihood_one(&self, x: f64, t_x: f64, t: f64) -> f64 {
        ln_gamma(self.r + x) - ln_gamma(self.r)
            + self.r * self.alpha.ln()
            + self.s * self.beta.ln()
            + self.ln_bracket(x, t_x, t)
    }

    /// FH05 eq. (18): 1 / (1 + s/(r+s+x) (α+T)^(r+x) (β+T)^s A0).
    fn prob_alive(&self, x: f64, t_x: f64, t: f64) -> f64 {
        let (r, s) = (self.r, self.s);
        let ln_odds =
            (s / (r + s + x)).ln() + (r + x) * (self.alpha + t).ln() + s * (self.beta + t).ln() + self.ln_a0(x, t_x, t);
        if ln_odds == f64::NEG_INFINITY {
            return 1.0;
        }
        sigmoid(-ln_odds)
    }

    /// FH05 eq. (20) (Schmittlein et al. 1987 eq. 22):
    /// (r+x)(β+T) / ((α+T)(s−1)) · [1 − ((β+T)/(β+T+t))^(s−1)] · P(alive).
    fn expected_purchases(&self, horizon: f64, x: f64, t_x: f64, t: f64) -> f64 {
        let u = ((self.beta + t + horizon) / (self.beta + t)).ln();
        let core = (self.r + x) * (self.beta + t) / (self.alpha + t) * one_minus_pow_over(self.s - 1.0, u);
        (core * self.prob_alive(x, t_x, t)).max(0.0)
    }

    /// FH05 eq. (17): rβ / (α(s−1)) [1 − (β/(β+t))^(s−1)].
    fn expected_purchases_new(&self, horizon: f64) -> f64 {
        let u = ((self.beta + horizon) / self.beta).ln();
        (self.r * self.beta / self.alpha * one_minus_pow_over(self.s - 1.0, u)).max(0.0)
    }
}

/// (1 − e^(−k u)) / k, continuous at k = 0 (where it is u).
fn one_minus_pow_over(k: f64, u: f64) -> f64 {
    if (k * u).abs() < 1e-12 {
        u
    } else {
        -(-k * u).exp_m1() / k
    }
}
