//! BG/BB: Fader, Hardie & Shang (2010), "Customer-Base Analysis in a Discrete-Time
//! Noncontractual Setting", Marketing Science 29(6), 1086–1108 (FHS below).
//!
//! At each of n transaction opportunities an active customer buys with probability
//! p ~ Beta(α, β), and becomes inactive before the next with probability θ ~ Beta(γ, δ).

use crate::data::DiscreteData;
use crate::fit::{fit_model, numeric_grad, with_params, Fit, FitError, FitOptions, Likelihood};
use crate::special::{ln_beta, ln_gamma, log_add_exp};

/// BG/BB parameters (all > 0).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct BgBb {
    pub alpha: f64,
    pub beta: f64,
    pub gamma: f64,
    pub delta: f64,
}

struct Lik<'a>(&'a DiscreteData);

impl Likelihood for Lik<'_> {
    const NAMES: &'static [&'static str] = &["alpha", "beta", "gamma", "delta"];

    fn customers(&self) -> f64 {
        self.0.customers()
    }

    fn start(&self) -> Vec<f64> {
        vec![1.0, 1.0, 1.0, 1.0]
    }

    fn ll_grad(&self, p: &[f64], grad: &mut [f64]) -> f64 {
        let d = self.0;
        numeric_grad(
            |q| {
                let m = BgBb { alpha: q[0], beta: q[1], gamma: q[2], delta: q[3] };
                (0..d.x.len()).map(|i| d.weight[i] * m.ln_likelihood_one(d.x[i], d.t_x[i], d.n[i])).sum()
            },
            p,
            grad,
        )
    }
}

/// Fit BG/BB by maximum likelihood.
pub fn fit(data: &DiscreteData, opts: &FitOptions) -> Result<Fit<BgBb>, FitError> {
    let (p, fit) = fit_model(&Lik(data), opts)?;
    Ok(with_params(fit, BgBb { alpha: p[0], beta: p[1], gamma: p[2], delta: p[3] }))
}

impl BgBb {
    /// Total log-likelihood of `data`.
    pub fn log_likelihood(&self, data: &DiscreteData) -> f64 {
        (0..data.x.len()).map(|i| data.weight[i] * self.ln_likelihood_one(data.x[i], data.t_x[i], data.n[i])).sum()
    }

    /// FHS eq. (5): L = B(α+x, β+n−x)/B(α,β) · B(γ, δ+n)/B(γ,δ)
    ///   + Σ_{i=0}^{n−t_x−1} B(α+x, β+t_x−x+i)/B(α,β) · B(γ+1, δ+t_x+i)/B(γ,δ).
    pub fn ln_likelihood_one(&self, x: u32, t_x: u32, n: u32) -> f64 {
        let (a, b, g, d) = (self.alpha, self.beta, self.gamma, self.delta);
        let (xf, txf, nf) = (x as f64, t_x as f64, n as f64);
        let lb_ab = ln_beta(a, b);
        let lb_gd = ln_beta(g, d);
        let mut ll = ln_beta(a + xf, b + nf - xf) - lb_ab + ln_beta(g, d + nf) - lb_gd;
        for i in 0..(n - t_x) {
            let i = i as f64;
            ll = log_add_exp(ll, ln_beta(a + xf, b + txf - xf + i) - lb_ab + ln_beta(g + 1.0, d + txf + i) - lb_gd);
        }
        ll
    }

    /// P(alive at opportunity n+1 | x, t_x, n), FHS eq. (11):
    /// B(α+x, β+n−x)/B(α,β) · B(γ, δ+n+1)/B(γ,δ) / L.
    pub fn prob_alive(&self, x: u32, t_x: u32, n: u32) -> f64 {
        let (a, b, g, d) = (self.alpha, self.beta, self.gamma, self.delta);
        let (xf, nf) = (x as f64, n as f64);
        let num = ln_beta(a + xf, b + nf - xf) - ln_beta(a, b) + ln_beta(g, d + nf + 1.0) - ln_beta(g, d);
        (num - self.ln_likelihood_one(x, t_x, n)).exp().min(1.0)
    }

    /// Expected transactions in the next `future` opportunities, FHS eq. (13):
    /// 1/L · B(α+x+1, β+n−x)/B(α,β) · δ/(γ−1) · Γ(γ+δ)/Γ(1+δ)
    ///   · [Γ(1+δ+n)/Γ(γ+δ+n) − Γ(1+δ+n+n*)/Γ(γ+δ+n+n*)].
    pub fn expected_purchases(&self, future: u32, x: u32, t_x: u32, n: u32) -> f64 {
        let (a, b, g, d) = (self.alpha, self.beta, self.gamma, self.delta);
        let (xf, nf, ns) = (x as f64, n as f64, future as f64);
        let ln_pre = ln_beta(a + xf + 1.0, b + nf - xf) - ln_beta(a, b) + ln_gamma(g + d)
            - ln_gamma(1.0 + d)
            - self.ln_likelihood_one(x, t_x, n);
        let bracket = gamma_ratio_diff(g, d, nf, ns);
        (ln_pre.exp() * d * bracket).max(0.0)
    }

    /// Expected transactions in the first `n` opportunities of a new customer, FHS eq. (7):
    /// α/(α+β) · δ/(γ−1) · [1 − Γ(γ+δ)/Γ(γ+δ+n) · Γ(1+δ+n)/Γ(1+δ)].
    pub fn expected_purchases_new(&self, n: u32) -> f64 {
        let (a, b, g, d) = (self.alpha, self.beta, self.gamma, self.delta);
        let bracket = gamma_ratio_diff(g, d, 0.0, n as f64) * (ln_gamma(g + d) - ln_gamma(1.0 + d)).exp();
        a / (a + b) * d * bracket
    }

    /// P(X(n) = x) for a new customer, FHS eq. (8).
    pub fn prob_purchases(&self, x: u32, n: u32) -> f64 {
        let (a, b, g, d) = (self.alpha, self.beta, self.gamma, self.delta);
        let (xf, nf) = (x as f64, n as f64);
        let ln_choose = |k: f64, m: f64| ln_gamma(m + 1.0) - ln_gamma(k + 1.0) - ln_gamma(m - k + 1.0);
        let mut ll =
            ln_choose(xf, nf) + ln_beta(a + xf, b + nf - xf) - ln_beta(a, b) + ln_beta(g, d + nf) - ln_beta(g, d);
        for i in x..n {
            let i = i as f64;
            ll = log_add_exp(
                ll,
                ln_choose(xf, i) + ln_beta(a + xf, b + i - xf) - ln_beta(a, b) + ln_beta(g + 1.0, d + i)
                    - ln_beta(g, d),
            );
        }
        ll.exp()
    }
}

/// [Γ(1+δ+n)/Γ(γ+δ+n) − Γ(1+δ+n+m)/Γ(γ+δ+n+m)] / (γ−1), continuous at γ = 1.
fn gamma_ratio_diff(g: f64, d: f64, n: f64, m: f64) -> f64 {
    let f = |g: f64| {
        let t1 = (ln_gamma(1.0 + d + n) - ln_gamma(g + d + n)).exp();
        let t2 = (ln_gamma(1.0 + d + n + m) - ln_gamma(g + d + n + m)).exp();
        (t1 - t2) / (g - 1.0)
    };
    super::ratio_near_one(g, f)
}
