//! BG/NBD: Fader, Hardie & Lee (2005), "'Counting Your Customers' the Easy Way: An
//! Alternative to the Pareto/NBD Model", Marketing Science 24(2), 275–284.
//!
//! While active, a customer buys at Poisson rate λ ~ Gamma(r, α); after each
//! purchase they drop out with probability p ~ Beta(a, b).

use super::{beta_mean_purchases, ln_time_ratio, ratio_near_one, sigmoid, PurchaseModel};
use crate::data::RfmData;
use crate::fit::{fit_model_sampled, other_starts, with_params, Fit, FitError, FitOptions, Likelihood};
use crate::parallel::sum_blocks;
use crate::special::{ln_beta, ln_gamma, ln_hyp2f1, LnGammaRatio};

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

    fn other_starts(&self) -> Vec<Vec<f64>> {
        other_starts(self.0.x.len(), &self.start(), &[1])
    }

    /// FHL (2005) eq. (6) summed over customers, with its gradient.
    fn ll_grad(&self, p: &[f64], grad: &mut [f64]) -> f64 {
        let (r, alpha, a, b) = (p[0], p[1], p[2], p[3]);
        // the terms that do not depend on x, once per evaluation
        let ln_a = a.ln();
        let (g_r, g_b, g_ab) = (LnGammaRatio::new(r), LnGammaRatio::new(b), LnGammaRatio::new(a + b));
        let per_x: Vec<XTerms> = self
            .0
            .xs
            .iter()
            .map(|&x| {
                let dg_abx = g_ab.d_at(x);
                XTerms {
                    // ln Γ(r+x)/Γ(r) + ln B(a, b+x)/B(a, b) and their
                    // derivatives, as ratios that stay exact towards the
                    // r → ∞ and a, b → ∞ limits
                    c: g_r.at(x) + g_b.at(x) - g_ab.at(x),
                    dr: g_r.d_at(x),
                    da: -dg_abx,
                    db: g_b.d_at(x) - dg_abx,
                    // Dropping out right after the first purchase is impossible in BG/NBD.
                    ln_q: if x > 0.0 { Some(ln_a - (b + (x - 1.0)).ln()) } else { None },
                    dbq: if x > 0.0 { -1.0 / (b + (x - 1.0)) } else { 0.0 },
                }
            })
            .collect();
        beta_geometric_ll(self.0, r, alpha, a, &per_x, grad)
    }
}

/// The x-only part of a BG/NBD-family log-likelihood and its derivatives.
pub(crate) struct XTerms {
    /// ln of the factor common to both branches, but for α^r (which
    /// [`beta_geometric_ll`] joins with (α+T)^−r).
    pub c: f64,
    pub dr: f64,
    pub da: f64,
    pub db: f64,
    /// ln of the weight of the "dropped out after the last purchase" branch, if possible.
    pub ln_q: Option<f64>,
    /// d ln_q / d b.
    pub dbq: f64,
}

/// Σ w · [c + r ln α + ln((α+T)^−(r+x) + q (α+t_x)^−(r+x))] over the rows and
/// its gradient: the shape shared by BG/NBD (FHL 2005 eq. 6) and MBG/NBD
/// (Batislam et al. 2007).
///
/// α^r (α+τ)^−(r+x) is taken as e^{−r ln(1+τ/α) − x ln(α+τ)}: towards the
/// r → ∞ limit (every customer buying at the same rate r/α, which a fit on
/// regular buyers approaches) r ln α and (r+x) ln(α+T) are each ~1e226 and
/// their difference noise; a fit read that noise as a log-likelihood of 0.
pub(crate) fn beta_geometric_ll(d: &RfmData, r: f64, alpha: f64, a: f64, per_x: &[XTerms], grad: &mut [f64]) -> f64 {
    // once per distinct T and t_x
    let at = |v: &[f64]| v.iter().map(|&t| Tau::new(alpha, t)).collect::<Vec<_>>();
    let (per_t, per_tx) = (at(&d.ts), at(&d.txs));
    let rate = r / alpha;
    let out = sum_blocks::<5>(d.x.len(), BLOCK, |rows, acc| {
        // a3 = ln[α^r (α+T)^−(r+x)], and for a repeater a4 = ln q + ln[α^r (α+t_x)^−(r+x)];
        // ln(e^a3 + e^a4) = max + ln(1 + e^−|a4−a3|), and the weight of the
        // a4 branch, for the whole block at once (one exp and one ln a row,
        // one call at a time, were half the fit's time).
        let n = rows.len();
        let (xs, weights) = (&d.x[rows.clone()], &d.weight[rows.clone()]);
        let (x_idx, t_idx, tx_idx) = (&d.x_idx[rows.clone()], &d.t_idx[rows.clone()], &d.tx_idx[rows]);
        let (mut a3s, mut a4s, mut gaps) = ([0.0; BLOCK], [0.0; BLOCK], [0.0; BLOCK]);
        let (mut ln_1pe, mut w4s) = ([0.0; BLOCK], [0.0; BLOCK]);
        for j in 0..n {
            let x = xs[j];
            let a3 = per_t[t_idx[j] as usize].ln_weight(r, x);
            // a non-repeater has no a4 branch (its weight comes out 0)
            let a4 = match per_x[x_idx[j] as usize].ln_q {
                Some(ln_q) => ln_q + per_tx[tx_idx[j] as usize].ln_weight(r, x),
                None => f64::NEG_INFINITY,
            };
            (a3s[j], a4s[j], gaps[j]) = (a3, a4, a4 - a3);
        }
        crate::batch::log_sum_exp_parts(&gaps[..n], &mut ln_1pe, &mut w4s);
        for j in 0..n {
            let x = xs[j];
            let k = &per_x[x_idx[j] as usize];
            let w = weights[j];
            let t3 = &per_t[t_idx[j] as usize];
            let (ll, w4, t4) = if k.ln_q.is_some() {
                (a3s[j].max(a4s[j]) + ln_1pe[j], w4s[j], &per_tx[tx_idx[j] as usize])
            } else {
                (a3s[j], 0.0, &Tau::NONE)
            };
            let w3 = 1.0 - w4;
            let gr = k.dr - w3 * t3.ln_ratio - w4 * t4.ln_ratio;
            // r/α − (r+x)/(α+τ) as (r/α)·τ/(α+τ) − x/(α+τ), no cancellation
            let gal = rate * (w3 * t3.share + w4 * t4.share) - x * (w3 * t3.inv + w4 * t4.inv);
            let ga = k.da + w4 / a;
            let gb = k.db + w4 * k.dbq;
            for (s, v) in acc.iter_mut().zip([w * (k.c + ll), w * gr, w * gal, w * ga, w * gb]) {
                *s += v;
            }
        }
    });
    grad.copy_from_slice(&out[1..]);
    out[0]
}

/// Rows per batch of `exp` and `ln`: the five arrays of a block (10 KiB) stay in L1.
const BLOCK: usize = 256;

/// What a time τ (a T or a t_x) contributes at one α: ln(α^r (α+τ)^−(r+x))
/// = −r·ln_ratio − x·ln and the derivatives' pieces.
struct Tau {
    /// ln(α+τ)
    ln: f64,
    /// ln(1 + τ/α)
    ln_ratio: f64,
    /// 1/(α+τ)
    inv: f64,
    /// τ/(α+τ): α times d ln_ratio/dα, negated (τ/(α(α+τ)) itself would
    /// underflow at α ~ 1e224)
    share: f64,
}

impl Tau {
    /// A branch with no weight (a non-repeater's a4).
    const NONE: Tau = Tau { ln: 0.0, ln_ratio: 0.0, inv: 0.0, share: 0.0 };

    fn new(alpha: f64, tau: f64) -> Tau {
        let inv = 1.0 / (alpha + tau);
        Tau { ln: (alpha + tau).ln(), ln_ratio: (tau / alpha).ln_1p(), inv, share: tau * inv }
    }

    #[inline]
    fn ln_weight(&self, r: f64, x: f64) -> f64 {
        -r * self.ln_ratio - x * self.ln
    }
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
        (self.a / (self.b + (x - 1.0))).ln() + (self.r + x) * ln_time_ratio(self.alpha, t_x, t)
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
            p += (ln_beta(a + 1.0, b + (kf - 1.0)) - ln_beta(a, b)).exp() * tail;
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
        let v = ratio_near_one(self.a, |a| {
            let g = ln_hyp2f1(a + b - 1.0 - r, a - 1.0, a + b + (x - 1.0), z);
            let g = g.map(|v| v.mul_value((a - 1.0) * (-z).ln_1p())).unwrap_or(f64::NAN);
            (a + b + (x - 1.0)) / (a - 1.0) * (1.0 - g)
        });
        if v.is_finite() {
            v
        } else {
            beta_mean_purchases(r + x, horizon / (alpha + t), self.a, b + x)
        }
    }

    /// FHL (2005) eq. (7), through the same Euler transformation.
    fn expected_purchases_new(&self, horizon: f64) -> f64 {
        let (r, alpha, b) = (self.r, self.alpha, self.b);
        let z = horizon / (alpha + horizon);
        let v = ratio_near_one(self.a, |a| {
            let g = ln_hyp2f1(a + b - 1.0 - r, a - 1.0, a + b - 1.0, z);
            let g = g.map(|v| v.mul_value((a - 1.0) * (-z).ln_1p())).unwrap_or(f64::NAN);
            (a + b - 1.0) / (a - 1.0) * (1.0 - g)
        });
        if v.is_finite() { v } else { beta_mean_purchases(r, horizon / alpha, self.a, b) }.max(0.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// FHL (2005) eq. (6) for one customer, term by term.
    fn ll_one(p: &[f64; 4], x: f64, tx: f64, t: f64) -> f64 {
        let [r, alpha, a, b] = *p;
        let head = ln_gamma(r + x) - ln_gamma(r) + r * alpha.ln() + ln_beta(a, b + x) - ln_beta(a, b);
        let a3 = -(r + x) * (alpha + t).ln();
        if x == 0.0 {
            return head + a3;
        }
        let a4 = (a / (b + x - 1.0)).ln() - (r + x) * (alpha + tx).ln();
        head + a3.max(a4) + (1.0 + (-(a3 - a4).abs()).exp()).ln()
    }

    #[test]
    fn batched_sum_matches_eq6_customer_by_customer() {
        // histories from customers new on the last day to long repeaters, over
        // blocks of rows, at ordinary and extreme parameters
        let rows: Vec<(f64, f64, f64)> = (0..1500)
            .map(|i| {
                let t = (i % 97) as f64 * 0.9 + 0.01;
                let x = ((i * 7) % 23) as f64;
                let tx = if x > 0.0 { t * ((i % 13) as f64 + 1.0) / 14.0 } else { 0.0 };
                (x, tx, t)
            })
            .collect();
        let d = RfmData::new(rows.iter().copied()).expect("valid rows");
        for p in [[0.24, 4.4, 0.79, 2.4], [5.0, 0.01, 30.0, 0.05], [0.001, 900.0, 0.01, 400.0], [60.0, 1e-4, 1e3, 1e3]]
        {
            let want: f64 = rows.iter().map(|&(x, tx, t)| ll_one(&p, x, tx, t)).sum();
            let mut g = [0.0; 4];
            let got = Lik(&d).ll_grad(&p, &mut g);
            assert!((got - want).abs() <= 1e-9 * want.abs(), "{p:?}: {got} vs {want}");
            // the gradient against central differences of the reference
            for k in 0..4 {
                let h = 1e-4 * p[k];
                let (mut up, mut down) = (p, p);
                up[k] += h;
                down[k] -= h;
                let f = |q: &[f64; 4]| rows.iter().map(|&(x, tx, t)| ll_one(q, x, tx, t)).sum::<f64>();
                let num = (f(&up) - f(&down)) / (2.0 * h);
                assert!((g[k] - num).abs() <= 1e-5 * num.abs().max(1.0), "{p:?} d{k}: {} vs {num}", g[k]);
            }
        }
    }

    #[test]
    fn far_towards_the_limit_the_likelihood_stays_the_limits() {
        // a, b → ∞ with a/(a+b) = p fixed is a common drop-out chance p; at
        // a = 2.5e305 ln Γ(a) is ~1.8e308 and differences of such logs were
        // noise (a fit read +3.8e5 there and kept it)
        let d = RfmData::new([(0.0, 0.0, 30.0), (2.0, 20.0, 30.0), (5.0, 28.0, 30.0), (1.0, 3.0, 25.0)]).expect("rows");
        let p = 0.1;
        let ll = |a: f64| Lik(&d).ll_grad(&[1.0, 4.4, a, a * (1.0 - p) / p], &mut [0.0; 4]);
        let far = ll(2.56e305);
        assert!(far.is_finite() && far < 0.0, "{far}");
        for a in [1e9, 1e12, 1e20, 1e100] {
            assert!((ll(a) - far).abs() < 1e-6 * far.abs(), "{a}: {} vs {far}", ll(a));
        }
    }

    #[test]
    fn towards_equal_purchase_rates_the_likelihood_stays_the_limits() {
        // r → ∞ with r/α = λ fixed is one purchase rate λ for everyone:
        // ℓ → x ln λ + ln B(a, b+x)/B(a, b) + ln(e^{−λT} + δ(x>0) a/(b+x−1) e^{−λ t_x});
        // at r = 2.7e223 r ln α and (r+x) ln(α+T) are ~1e226 and their
        // difference was noise (a fit read 0 there and kept it)
        let rows = [(0.0, 0.0, 30.0), (2.0, 20.0, 30.0), (5.0, 28.0, 30.0), (1.0, 3.0, 25.0)];
        let d = RfmData::new(rows).expect("rows");
        let (lambda, a, b) = (0.15, 0.8, 2.4);
        let limit: f64 = rows
            .iter()
            .map(|&(x, tx, t): &(f64, f64, f64)| {
                let alive = -lambda * t;
                let gone = if x > 0.0 { (a / (b + x - 1.0)).ln() - lambda * tx } else { f64::NEG_INFINITY };
                x * lambda.ln() + ln_beta(a, b + x) - ln_beta(a, b) + crate::special::log_add_exp(alive, gone)
            })
            .sum();
        for r in [1e9, 1e12, 1e50, 2.7e223] {
            let mut g = [0.0; 4];
            let ll = Lik(&d).ll_grad(&[r, r / lambda, a, b], &mut g);
            assert!((ll - limit).abs() < 1e-7 * limit.abs(), "r = {r}: {ll} vs {limit}");
            // on the log scale the optimiser sees, the slopes in r and α are
            // the rate's, finite and opposite: along r/α = λ they cancel (to
            // O(1/r)); noise in either would not
            let (sr, sa) = (r * g[0], r / lambda * g[1]);
            assert!(sr.is_finite() && sr.abs() > 0.1 && (sr + sa).abs() < 1e-6, "r = {r}: {sr} + {sa}");
            let m = BgNbd { r, alpha: r / lambda, a, b };
            let want = 1.0 / (1.0 + a / (b + 1.0) * (lambda * 10.0).exp());
            assert!((m.prob_alive(2.0, 20.0, 30.0) - want).abs() < 1e-7, "r = {r}: {}", m.prob_alive(2.0, 20.0, 30.0));
        }
    }

    /// The quadrature that takes over where the 2F1 series cannot be summed
    /// gives the closed forms' values where both work (FHL eq. 10 and eq. 7,
    /// Batislam et al. eq. 6), and stays finite and between its limits where
    /// the series fails (r in the billions, which a fit on odd data reached).
    #[test]
    fn expected_purchases_by_quadrature_match_the_closed_forms() {
        use super::super::{beta_mean_purchases, mbgnbd::MbgNbd};
        let close = |got: f64, want: f64, what: &str| {
            assert!((got - want).abs() <= 1e-12 * want.abs(), "{what}: {got} vs {want}");
        };
        for (r, alpha, a, b) in
            [(0.243, 4.41, 0.793, 2.43), (2.0, 30.0, 3.5, 0.4), (0.05, 0.2, 0.02, 0.05), (40.0, 500.0, 300.0, 900.0)]
        {
            let (bg, mbg) = (BgNbd { r, alpha, a, b }, MbgNbd { r, alpha, a, b });
            for (x, t, h) in [(0.0, 10.0, 39.0), (2.0, 30.0, 52.0), (25.0, 38.0, 1.0), (7.0, 500.0, 1e4)] {
                let u = h / (alpha + t);
                close(beta_mean_purchases(r + x, u, a, b + x), bg.expected_purchases_if_alive(h, x, t), "BG/NBD");
                close(
                    beta_mean_purchases(r + x, u, a, b + x + 1.0),
                    mbg.expected_purchases_if_alive(h, x, t),
                    "MBG/NBD",
                );
            }
            close(beta_mean_purchases(r, 52.0 / alpha, a, b), bg.expected_purchases_new(52.0), "BG/NBD new");
            let mbg_new = b / (a + b) * beta_mean_purchases(r, 52.0 / alpha, a, b + 1.0);
            close(mbg_new, mbg.expected_purchases_new(52.0), "MBG/NBD new");
        }
        // where the series gives up: a rate r/α of 6,500 a period, all but certain
        let m = MbgNbd { r: 3_857_084_265.1, alpha: 590_558.4, a: 0.1441, b: 0.1521 };
        for (x, t) in [(0.0, 0.47), (1045.0, 160.0)] {
            let e = m.expected_purchases_if_alive(52.0, x, t);
            let rate = (m.r + x) / (m.alpha + t);
            // at most what a customer who never left would buy; at least one purchase's worth
            assert!(e.is_finite() && e > 1.0 && e <= rate * 52.0, "E = {e}, rate {rate}");
        }
        let e = m.expected_purchases_new(52.0);
        assert!(e.is_finite() && e > 0.0 && e <= m.r / m.alpha * 52.0, "{e}");
    }
}
