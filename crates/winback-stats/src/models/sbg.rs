//! sBG (shifted-beta-geometric) for contractual retention: Fader & Hardie (2007),
//! "How to Project Customer Retention", Journal of Interactive Marketing 21(1),
//! 76–90 (FH07 below); residual value from Fader & Hardie (2010), "Customer-Base
//! Valuation in a Contractual Setting: The Perils of Ignoring Heterogeneity",
//! Marketing Science 29(1), 85–93 (FH10 below).
//!
//! Each period a subscriber cancels with probability θ ~ Beta(α, β).

use crate::data::SurvivalData;
use crate::fit::{fit_model, numeric_grad, with_params, Fit, FitError, FitOptions, Likelihood};
use crate::special::{ln_beta, ln_hyp2f1};

/// sBG parameters (both > 0).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Sbg {
    pub alpha: f64,
    pub beta: f64,
}

struct Lik<'a>(&'a SurvivalData);

impl Likelihood for Lik<'_> {
    const NAMES: &'static [&'static str] = &["alpha", "beta"];

    fn customers(&self) -> f64 {
        self.0.cohort()
    }

    fn start(&self) -> Vec<f64> {
        vec![1.0, 1.0]
    }

    fn ll_grad(&self, p: &[f64], grad: &mut [f64]) -> f64 {
        numeric_grad(|q| Sbg { alpha: q[0], beta: q[1] }.log_likelihood(self.0), p, grad)
    }
}

/// Fit sBG to one cohort's survivor counts by maximum likelihood.
pub fn fit(data: &SurvivalData, opts: &FitOptions) -> Result<Fit<Sbg>, FitError> {
    if data.survivors.windows(2).all(|w| w[0] == w[1]) {
        return Err(FitError::NotIdentifiable(
            "no customer churned in the observed periods: retention cannot be estimated".into(),
        ));
    }
    let (p, fit) = fit_model(&Lik(data), opts)?;
    Ok(with_params(fit, Sbg { alpha: p[0], beta: p[1] }))
}

impl Sbg {
    /// FH07 eq. (B3): Σ_t (n_{t−1} − n_t) ln P(T = t) + n_last ln S(last).
    pub fn log_likelihood(&self, data: &SurvivalData) -> f64 {
        let s = &data.survivors;
        let k = s.len() - 1;
        let churn = self.churn_probabilities(k);
        let mut ll = 0.0;
        for t in 1..=k {
            let lost = s[t - 1] - s[t];
            if lost > 0.0 {
                ll += lost * churn[t - 1].ln();
            }
        }
        ll + s[k] * self.survival(k as u32).ln()
    }

    /// P(T = t) for t = 1..=k, FH07 eq. (7) by its recursion:
    /// P(T=1) = α/(α+β), P(T=t) = (β+t−2)/(α+β+t−1) · P(T=t−1).
    pub fn churn_probabilities(&self, k: usize) -> Vec<f64> {
        let (a, b) = (self.alpha, self.beta);
        let mut out = Vec::with_capacity(k);
        let mut p = a / (a + b);
        for t in 1..=k {
            if t > 1 {
                let tf = t as f64;
                p *= (b + tf - 2.0) / (a + b + tf - 1.0);
            }
            out.push(p);
        }
        out
    }

    /// S(t) = B(α, β+t)/B(α, β), the share of the cohort still active after t periods (FH07 eq. 8).
    pub fn survival(&self, t: u32) -> f64 {
        (ln_beta(self.alpha, self.beta + t as f64) - ln_beta(self.alpha, self.beta)).exp()
    }

    /// Retention rate from period t−1 to t, r_t = (β+t−1)/(α+β+t−1) (FH07 eq. 9).
    pub fn retention_rate(&self, t: u32) -> f64 {
        let tf = t as f64;
        (self.beta + tf - 1.0) / (self.alpha + self.beta + tf - 1.0)
    }

    /// Discounted expected residual lifetime of a customer who has made `renewals`
    /// renewals (is at the end of period `renewals`, FH10 eq. 6):
    /// DERL = B(α, β+n)/B(α, β+n−1) · 2F1(1, β+n; α+β+n; 1/(1+d)), n = renewals + 1,
    /// in periods' worth of payments, `discount` per period.
    pub fn discounted_residual_lifetime(&self, renewals: u32, discount: f64) -> f64 {
        let (a, b) = (self.alpha, self.beta);
        let n = renewals as f64 + 1.0;
        let ratio = (ln_beta(a, b + n) - ln_beta(a, b + n - 1.0)).exp();
        match ln_hyp2f1(1.0, b + n, a + b + n, 1.0 / (1.0 + discount)) {
            Ok(v) => ratio * v.value(),
            Err(_) => f64::NAN,
        }
    }

    /// Residual value of a subscriber paying `value_per_period` (FH10 eq. 6 times the payment).
    pub fn residual_value(&self, value_per_period: f64, renewals: u32, discount: f64) -> f64 {
        value_per_period * self.discounted_residual_lifetime(renewals, discount)
    }
}
