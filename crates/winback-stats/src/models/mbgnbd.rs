//! MBG/NBD: Batislam, Denizel & Filiztekin (2007), "Empirical validation and
//! comparison of models for customer base analysis", IJRM 24(3), 201–209; also
//! Hoppe & Wagner (2007), "Customer base analysis: the case for a central variant of
//! the Betageometric/NBD model", Marketing Journal of Research and Management 3(2).
//!
//! As BG/NBD, but a customer may also drop out right after the first purchase, so
//! a customer who never came back is not certain to be alive.

use super::bgnbd::{beta_geometric_ll, XTerms};
use super::{beta_mean_purchases, ln_time_ratio, ratio_near_one, sigmoid, PurchaseModel};
use crate::data::RfmData;
use crate::fit::{fit_model_sampled, other_starts, with_params, Fit, FitError, FitOptions, Likelihood};
use crate::special::{ln_hyp2f1, LnGammaRatio};

/// MBG/NBD parameters (all > 0), named as in BG/NBD.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct MbgNbd {
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
        let (mx, _, mt) = self.0.means();
        vec![1.0, mt / mx.max(1e-3), 1.0, 1.0]
    }

    fn other_starts(&self) -> Vec<Vec<f64>> {
        other_starts(self.0.x.len(), &self.start(), &[1])
    }

    /// Batislam et al. (2007) eq. (4): Γ(r+x)α^r/Γ(r) · B(a, b+x+1)/B(a,b) ·
    /// [(α+T)^−(r+x) + a/(b+x) (α+t_x)^−(r+x)], for every x including 0.
    fn ll_grad(&self, p: &[f64], grad: &mut [f64]) -> f64 {
        let (r, alpha, a, b) = (p[0], p[1], p[2], p[3]);
        // x-free terms once per evaluation, as in BG/NBD
        let ln_a = a.ln();
        let (g_r, g_b, g_ab) = (LnGammaRatio::new(r), LnGammaRatio::new(b), LnGammaRatio::new(a + b));
        let per_x: Vec<XTerms> = self
            .0
            .xs
            .iter()
            .map(|&x| {
                let dg_abx = g_ab.d_at(x + 1.0);
                XTerms {
                    // as in BG/NBD, ratios of Γ that stay exact towards the limits
                    c: g_r.at(x) + g_b.at(x + 1.0) - g_ab.at(x + 1.0),
                    dr: g_r.d_at(x),
                    da: -dg_abx,
                    db: g_b.d_at(x + 1.0) - dg_abx,
                    ln_q: Some(ln_a - (b + x).ln()),
                    dbq: -1.0 / (b + x),
                }
            })
            .collect();
        beta_geometric_ll(self.0, r, alpha, a, &per_x, grad)
    }
}

/// Fit MBG/NBD by maximum likelihood.
pub fn fit(data: &RfmData, opts: &FitOptions) -> Result<Fit<MbgNbd>, FitError> {
    if data.repeaters() == 0.0 {
        return Err(FitError::NotIdentifiable(
            "no customer has a repeat purchase, so nothing can be learned about purchase rates; use a longer observation window".into(),
        ));
    }
    let sample = data.sample();
    let (p, fit) = fit_model_sampled(&Lik(data), sample.as_ref().map(Lik).as_ref(), opts)?;
    Ok(with_params(fit, MbgNbd { r: p[0], alpha: p[1], a: p[2], b: p[3] }))
}

impl MbgNbd {
    /// Total log-likelihood of `data`.
    pub fn log_likelihood(&self, data: &RfmData) -> f64 {
        let mut g = [0.0; 4];
        Lik(data).ll_grad(&[self.r, self.alpha, self.a, self.b], &mut g)
    }
}

impl PurchaseModel for MbgNbd {
    fn name(&self) -> &'static str {
        "mbgnbd"
    }

    fn params(&self) -> Vec<(&'static str, f64)> {
        vec![("r", self.r), ("alpha", self.alpha), ("a", self.a), ("b", self.b)]
    }

    fn log_likelihood_one(&self, x: f64, t_x: f64, t: f64) -> f64 {
        RfmData::new([(x, t_x, t)]).map(|d| self.log_likelihood(&d)).unwrap_or(f64::NAN)
    }

    /// Batislam et al. (2007) eq. (5): 1 / (1 + a/(b+x) ((α+T)/(α+t_x))^(r+x)).
    fn prob_alive(&self, x: f64, t_x: f64, t: f64) -> f64 {
        let ln_odds = (self.a / (self.b + x)).ln() + (self.r + x) * ln_time_ratio(self.alpha, t_x, t);
        sigmoid(-ln_odds)
    }

    /// Batislam et al. (2007) eq. (6), with the 2F1 factor through Euler's
    /// transformation as for BG/NBD: (1−z)^(r+x) 2F1(r+x, b+x+1; a+b+x; z)
    /// = (1−z)^(a−1) 2F1(a+b−r, a−1; a+b+x; z).
    fn expected_purchases_if_alive(&self, horizon: f64, x: f64, t: f64) -> f64 {
        let (r, alpha, b) = (self.r, self.alpha, self.b);
        let z = horizon / (alpha + t + horizon);
        let v = ratio_near_one(self.a, |a| {
            let g = ln_hyp2f1(a + b - r, a - 1.0, a + b + x, z);
            let g = g.map(|v| v.mul_value((a - 1.0) * (-z).ln_1p())).unwrap_or(f64::NAN);
            (a + b + x) / (a - 1.0) * (1.0 - g)
        });
        if v.is_finite() {
            v
        } else {
            // an active customer has survived x + 1 chances to leave: p ~ Beta(a, b+x+1)
            beta_mean_purchases(r + x, horizon / (alpha + t), self.a, b + x + 1.0)
        }
    }

    /// E[X(t)] = b/(a−1) [1 − (α/(α+t))^r 2F1(r, b+1; a+b; t/(α+t))].
    fn expected_purchases_new(&self, horizon: f64) -> f64 {
        let (r, alpha, b) = (self.r, self.alpha, self.b);
        let z = horizon / (alpha + horizon);
        let v = ratio_near_one(self.a, |a| {
            let g = ln_hyp2f1(a + b - r, a - 1.0, a + b, z);
            let g = g.map(|v| v.mul_value((a - 1.0) * (-z).ln_1p())).unwrap_or(f64::NAN);
            b / (a - 1.0) * (1.0 - g)
        });
        // leaving at once (chance p) or buying as BG/NBD's: E[(1−p)·…] over
        // Beta(a, b) is b/(a+b) times the mean over Beta(a, b+1)
        let v = if v.is_finite() {
            v
        } else {
            self.b / (self.a + b) * beta_mean_purchases(r, horizon / alpha, self.a, b + 1.0)
        };
        v.max(0.0)
    }
}
