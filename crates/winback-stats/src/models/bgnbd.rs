//! BG/NBD: Fader, Hardie & Lee (2005), "'Counting Your Customers' the Easy Way: An
//! Alternative to the Pareto/NBD Model", Marketing Science 24(2), 275–284.
//!
//! While active, a customer buys at Poisson rate λ ~ Gamma(r, α); after each
//! purchase they drop out with probability p ~ Beta(a, b).

use super::{ratio_near_one, sigmoid, PurchaseModel};
use crate::data::RfmData;
use crate::fit::{fit_model_sampled, with_params, Fit, FitError, FitOptions, Likelihood};
use crate::parallel::sum_rows;
use crate::special::{digamma, ln_beta, ln_gamma, ln_hyp2f1};

/// BG/NBD parameters (all > 0).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct BgNbd {
    pub r: f64,
    pub alpha: f64,
    pub a: f64,
    pub b: f64,
}

pub(crate) struct Lik<'a>(pub(crate) &'a RfmData);

impl Likelihood for Lik<'_> {
    const NAMES: &'static [&'static str] = &["r", "alpha", "a", "b"];

    fn customers(&self) -> f64 {
        self.0.customers()
    }

    fn start(&self) -> Vec<f64> {
        // λ has mean r/α; start it at the observed purchase rate.
        let (mx, _, mt) = self.0.means();
        vec![1.0, mt / mx.max(1e-3), 1.0, 1.0]
    }

    /// FHL (2005) eq. (6) summed over customers, with its gradient.
    fn ll_grad(&self, p: &[f64], grad: &mut [f64]) -> f64 {
        let (r, alpha, a, b) = (p[0], p[1], p[2], p[3]);
        // the terms that do not depend on x, once per evaluation (the same
        // expressions in the same order: the same bits as computed per x)
        let (lg_r, ln_alpha, lb_ab, ln_a) = (ln_gamma(r), alpha.ln(), ln_beta(a, b), a.ln());
        let (dg_r, dg_ab, dg_b) = (digamma(r), digamma(a + b), digamma(b));
        let per_x: Vec<XTerms> = self
            .0
            .xs
            .iter()
            .map(|&x| {
                let dg_abx = digamma(a + b + x);
                XTerms {
                    c: ln_gamma(r + x) - lg_r + r * ln_alpha + ln_beta(a, b + x) - lb_ab,
                    dr: digamma(r + x) - dg_r + ln_alpha,
                    da: dg_ab - dg_abx,
                    db: dg_ab + digamma(b + x) - dg_b - dg_abx,
                    // Dropping out right after the first purchase is impossible in BG/NBD.
                    ln_q: if x > 0.0 { Some(ln_a - (b + x - 1.0).ln()) } else { None },
                    dbq: if x > 0.0 { -1.0 / (b + x - 1.0) } else { 0.0 },
                }
            })
            .collect();
        beta_geometric_ll(self.0, r, alpha, a, &per_x, grad)
    }
}

/// The x-only part of a BG/NBD-family log-likelihood and its derivatives.
pub(crate) struct XTerms {
    /// ln of the factor common to both branches.
    pub c: f64,
    pub dr: f64,
    pub da: f64,
    pub db: f64,
    /// ln of the weight of the "dropped out after the last purchase" branch, if possible.
    pub ln_q: Option<f64>,
    /// d ln_q / d b.
    pub dbq: f64,
}

/// Σ w · [c + ln((α+T)^−(r+x) + q (α+t_x)^−(r+x))] over the rows and its gradient:
/// the shape shared by BG/NBD (FHL 2005 eq. 6) and MBG/NBD (Batislam et al. 2007).
pub(crate) fn beta_geometric_ll(d: &RfmData, r: f64, alpha: f64, a: f64, per_x: &[XTerms], grad: &mut [f64]) -> f64 {
    // ln(α+τ) and 1/(α+τ) once per distinct T and t_x
    let at = |v: &[f64]| v.iter().map(|&t| ((alpha + t).ln(), 1.0 / (alpha + t))).collect::<Vec<_>>();
    let (per_t, per_tx) = (at(&d.ts), at(&d.txs));
    let out = sum_rows::<5>(d.x.len(), |i| {
        let x = d.x[i];
        let k = &per_x[d.x_idx[i] as usize];
        let w = d.weight[i];
        let (l_at, inv_t) = per_t[d.t_idx[i] as usize];
        let a3 = -(r + x) * l_at;
        let (ll, w4, l_tx, inv_tx) = match k.ln_q {
            Some(ln_q) => {
                let (l_tx, inv_tx) = per_tx[d.tx_idx[i] as usize];
                let a4 = ln_q - (r + x) * l_tx;
                // ln(e^a3 + e^a4) and the weight of the a4 branch from one exp.
                // ln(1 + e) rather than ln_1p(e): e ≤ 1, so rounding 1 + e costs
                // at most 1.1e-16 absolute, far below an ulp of the sum, and
                // ln is a third of log1p's time (perf, CDNOW fit).
                let gap = a4 - a3;
                let e = (-gap.abs()).exp();
                let one_e = 1.0 + e;
                let w4 = if gap >= 0.0 { 1.0 / one_e } else { e / one_e };
                (a3.max(a4) + one_e.ln(), w4, l_tx, inv_tx)
            }
            None => (a3, 0.0, 0.0, 0.0),
        };
        let w3 = 1.0 - w4;
        let gr = k.dr - w3 * l_at - w4 * l_tx;
        let gal = r / alpha - (r + x) * (w3 * inv_t + w4 * inv_tx);
        let ga = k.da + w4 / a;
        let gb = k.db + w4 * k.dbq;
        [w * (k.c + ll), w * gr, w * gal, w * ga, w * gb]
    });
    grad.copy_from_slice(&out[1..]);
    out[0]
}

/// Fit BG/NBD by maximum likelihood.
///
/// ```
/// use winback_stats::{data::RfmData, fit::FitOptions, models::bgnbd};
/// let data = RfmData::new([(0.0, 0.0, 30.0), (2.0, 20.0, 30.0), (5.0, 28.0, 30.0), (1.0, 3.0, 25.0)]).unwrap();
/// let fit = bgnbd::fit(&data, &FitOptions::default()).unwrap();
/// assert!(fit.log_likelihood.is_finite());
/// ```
pub fn fit(data: &RfmData, opts: &FitOptions) -> Result<Fit<BgNbd>, FitError> {
    if data.repeaters() == 0.0 {
        return Err(FitError::NotIdentifiable(
            "no customer has a repeat purchase, so nothing can be learned about purchase rates; use a longer observation window".into(),
        ));
    }
    let sample = data.sample();
    let (p, fit) = fit_model_sampled(&Lik(data), sample.as_ref().map(Lik).as_ref(), opts)?;
    Ok(with_params(fit, BgNbd { r: p[0], alpha: p[1], a: p[2], b: p[3] }))
}

impl BgNbd {
    /// Total log-likelihood of `data`.
    pub fn log_likelihood(&self, data: &RfmData) -> f64 {
        let mut g = [0.0; 4];
        Lik(data).ll_grad(&[self.r, self.alpha, self.a, self.b], &mut g)
    }

    /// ln[a/(b+x−1)] + (r+x) ln[(α+T)/(α+t_x)]: the log odds of having dropped out.
    fn ln_death_odds(&self, x: f64, t_x: f64, t: f64) -> f64 {
        (self.a / (self.b + x - 1.0)).ln() + (self.r + x) * ((self.alpha + t) / (self.alpha + t_x)).ln()
    }

    /// P(X(t) = k): probability of exactly `k` purchases in (0, t] for a new
    /// customer, FHL (2005) eq. (8).
    pub fn prob_purchases(&self, k: u32, t: f64) -> f64 {
        let (r, alpha, a, b) = (self.r, self.alpha, self.a, self.b);
        let kf = k as f64;
        let lp = (alpha / (alpha + t)).ln();
        let lq = (t / (alpha + t)).ln();
        let first = ln_beta(a, b + kf) - ln_beta(a, b) + ln_gamma(r + kf) - ln_gamma(r) - ln_gamma(kf + 1.0)
            + r * lp
            + if k > 0 { kf * lq } else { 0.0 };
        let mut p = first.exp();
        if k > 0 {
            // 1 − P(NBD(r, α/(α+t)) < k), the NBD count reaching k.
            let tail = nbd_tail(r, lp, lq, k);
            p += (ln_beta(a + 1.0, b + kf - 1.0) - ln_beta(a, b)).exp() * tail;
        }
        p.clamp(0.0, 1.0)
    }
}

/// P(N ≥ k) for N negative binomial with pmf Γ(r+j)/(Γ(r) j!) p^r q^j (ln p = lp,
/// ln q = lq), summing whichever side is shorter so that no cancellation occurs.
pub(crate) fn nbd_tail(r: f64, lp: f64, lq: f64, k: u32) -> f64 {
    let ln_pmf =
        |j: f64| ln_gamma(r + j) - ln_gamma(r) - ln_gamma(j + 1.0) + r * lp + if j > 0.0 { j * lq } else { 0.0 };
    let mean = r * lq.exp() / lp.exp();
    if (k as f64) <= mean {
        let head: f64 = (0..k).map(|j| ln_pmf(j as f64).exp()).sum();
        (1.0 - head).max(0.0)
    } else {
        let mut s = 0.0;
        let mut j = k as f64;
        loop {
            let v = ln_pmf(j).exp();
            s += v;
            if v <= 1e-17 * s || j > k as f64 + 1e7 || v == 0.0 {
                break;
            }
            j += 1.0;
        }
        s.min(1.0)
    }
}

impl PurchaseModel for BgNbd {
    fn name(&self) -> &'static str {
        "bgnbd"
    }

    fn params(&self) -> Vec<(&'static str, f64)> {
        vec![("r", self.r), ("alpha", self.alpha), ("a", self.a), ("b", self.b)]
    }

    fn log_likelihood_one(&self, x: f64, t_x: f64, t: f64) -> f64 {
        match RfmData::new([(x, t_x, t)]) {
            Ok(d) => self.log_likelihood(&d),
            Err(_) => f64::NAN,
        }
    }

    /// FHL (2005) eq. (13) / Fader, Hardie & Lee (2008) note "Computing P(alive)
    /// using the BG/NBD model": 1 / (1 + δ(x>0) a/(b+x−1) ((α+T)/(α+t_x))^(r+x)).
    fn prob_alive(&self, x: f64, t_x: f64, t: f64) -> f64 {
        if x == 0.0 {
            return 1.0;
        }
        sigmoid(-self.ln_death_odds(x, t_x, t))
    }

    /// FHL (2005) eq. (10). The 2F1 factor is taken through Euler's transformation
    /// (A&S 15.3.3): ((α+T)/(α+T+t))^(r+x) 2F1(r+x, b+x; a+b+x−1; z)
    /// = (1−z)^(a−1) 2F1(a+b−1−r, a−1; a+b+x−1; z), z = t/(α+T+t), whose series
    /// converges fast for any x instead of overflowing for large x.
    fn expected_purchases_if_alive(&self, horizon: f64, x: f64, t: f64) -> f64 {
        let (r, alpha, b) = (self.r, self.alpha, self.b);
        let z = horizon / (alpha + t + horizon);
        ratio_near_one(self.a, |a| {
            let g = ln_hyp2f1(a + b - 1.0 - r, a - 1.0, a + b + x - 1.0, z);
            let g = g.map(|v| v.mul_value((a - 1.0) * (-z).ln_1p())).unwrap_or(f64::NAN);
            (a + b + x - 1.0) / (a - 1.0) * (1.0 - g)
        })
    }

    /// FHL (2005) eq. (7), through the same Euler transformation.
    fn expected_purchases_new(&self, horizon: f64) -> f64 {
        let (r, alpha, b) = (self.r, self.alpha, self.b);
        let z = horizon / (alpha + horizon);
        ratio_near_one(self.a, |a| {
            let g = ln_hyp2f1(a + b - 1.0 - r, a - 1.0, a + b - 1.0, z);
            let g = g.map(|v| v.mul_value((a - 1.0) * (-z).ln_1p())).unwrap_or(f64::NAN);
            (a + b - 1.0) / (a - 1.0) * (1.0 - g)
        })
        .max(0.0)
    }
}
