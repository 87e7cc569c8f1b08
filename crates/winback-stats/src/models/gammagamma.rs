//! Gamma-Gamma spend model: Fader, Hardie & Lee (2005), "RFM and CLV: Using Iso-Value
//! Curves for Customer Base Analysis", JMR 42(4), 415–430, in the form of Fader &
//! Hardie (2013), "The Gamma-Gamma Model of Monetary Value" (FH13 below).
//!
//! Each transaction's value is Gamma(p, ν) with ν ~ Gamma(q, γ) across customers; the
//! mean z̄ of a customer's x repeat purchases is then Gamma(px, νx).

use crate::data::SpendData;
use crate::fit::{fit_model_sampled, with_params, Fit, FitError, FitOptions, Likelihood};
use crate::parallel::sum_blocks;
use crate::special::{digamma, ln_gamma};

/// Rows per batch of `ln`.
const BLOCK: usize = 256;

/// Gamma-Gamma parameters (all > 0): p, q and γ (`gamma`; lifetimes calls it v).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct GammaGamma {
    pub p: f64,
    pub q: f64,
    pub gamma: f64,
}

pub(crate) struct Lik<'a>(pub(crate) &'a SpendData);

impl Likelihood for Lik<'_> {
    const NAMES: &'static [&'static str] = &["p", "q", "gamma"];

    fn customers(&self) -> f64 {
        self.0.customers()
    }

    fn start(&self) -> Vec<f64> {
        // E[Z] = pγ/(q−1): start with p = 1, q = 2 and γ at the mean spend.
        let d = self.0;
        let mean = d.z.iter().zip(&d.weight).map(|(z, w)| z * w).sum::<f64>() / d.customers();
        vec![1.0, 2.0, mean]
    }

    /// FH13 eq. (3): f(z̄ | p, q, γ; x) =
    /// Γ(px+q) / (Γ(px)Γ(q)) · γ^q z̄^(px−1) x^(px) / (γ + x z̄)^(px+q).
    fn ll_grad(&self, params: &[f64], grad: &mut [f64]) -> f64 {
        let (p, q, g) = (params[0], params[1], params[2]);
        let d = self.0;
        let (lg_q, dg_q, ln_g) = (ln_gamma(q), digamma(q), g.ln());
        // the terms in x alone, once per distinct x: (ln Γ(px+q) − ln Γ(px) + px ln x, ψ(px+q), ψ(px), ln x)
        let per_x: Vec<[f64; 4]> =
            d.xs.iter()
                .map(|&x| {
                    let px = p * x;
                    [ln_gamma(px + q) - ln_gamma(px) + px * x.ln(), digamma(px + q), digamma(px), x.ln()]
                })
                .collect();
        let out = sum_blocks::<4>(d.x.len(), BLOCK, |rows, acc| {
            // ln(γ + x z̄), one a row, a block at a time (crate::batch)
            let (xs, zs, weights, ln_zs) =
                (&d.x[rows.clone()], &d.z[rows.clone()], &d.weight[rows.clone()], &d.ln_z[rows.clone()]);
            let x_idx = &d.x_idx[rows];
            let (mut dens, mut l_dens) = ([0.0; BLOCK], [0.0; BLOCK]);
            let n = xs.len();
            for j in 0..n {
                dens[j] = g + xs[j] * zs[j];
            }
            crate::batch::ln(&dens[..n], &mut l_dens);
            for j in 0..n {
                let (x, w, lz, den, l_den) = (xs[j], weights[j], ln_zs[j], dens[j], l_dens[j]);
                let [lg, psi, psi_px, lx] = per_x[x_idx[j] as usize];
                let px = p * x;
                let v = [
                    w * (lg - lg_q + q * ln_g + (px - 1.0) * lz - (px + q) * l_den),
                    w * x * (psi - psi_px + lz + lx - l_den),
                    w * (psi - dg_q + ln_g - l_den),
                    w * (q / g - (px + q) / den),
                ];
                for (s, v) in acc.iter_mut().zip(v) {
                    *s += v;
                }
            }
        });
        grad.copy_from_slice(&out[1..]);
        out[0]
    }
}

/// Fit the Gamma-Gamma model by maximum likelihood.
pub fn fit(data: &SpendData, opts: &FitOptions) -> Result<Fit<GammaGamma>, FitError> {
    let sample = data.sample();
    let (p, fit) = fit_model_sampled(&Lik(data), sample.as_ref().map(Lik).as_ref(), opts)?;
    Ok(with_params(fit, GammaGamma { p: p[0], q: p[1], gamma: p[2] }))
}

impl GammaGamma {
    /// Total log-likelihood of `data`.
    pub fn log_likelihood(&self, data: &SpendData) -> f64 {
        let mut g = [0.0; 3];
        Lik(data).ll_grad(&[self.p, self.q, self.gamma], &mut g)
    }

    /// Expected spend per transaction of a customer with `x` repeat purchases of mean
    /// value `mean_spend`, FH13 eq. (5): (q−1)/(px+q−1) · pγ/(q−1) + px/(px+q−1) · z̄.
    /// With x = 0 this is the population mean pγ/(q−1). Infinite where the
    /// posterior mean does not exist (p·x + q ≤ 1: with q ≤ 1 for everyone
    /// without repeat purchases), never negative.
    pub fn expected_spend(&self, x: f64, mean_spend: f64) -> f64 {
        let (p, q, g) = (self.p, self.q, self.gamma);
        if x <= 0.0 {
            return self.population_mean_spend();
        }
        let shape = p * x + q - 1.0;
        if shape > 0.0 {
            (p * (g + x * mean_spend)) / shape
        } else {
            f64::INFINITY
        }
    }

    /// E[Z] = pγ/(q−1), the mean spend per transaction across customers (FH13 eq. 4).
    pub fn population_mean_spend(&self) -> f64 {
        if self.q > 1.0 {
            self.p * self.gamma / (self.q - 1.0)
        } else {
            f64::INFINITY
        }
    }
}
