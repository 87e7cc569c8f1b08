//! Pareto/NBD: Schmittlein, Morrison & Colombo (1987), "Counting Your Customers:
//! Who Are They and What Will They Do Next?", Management Science 33(1), 1–24, in the
//! form of Fader & Hardie (2005), "A Note on Deriving the Pareto/NBD Model and
//! Related Expressions" (FH05 below).
//!
//! While active, a customer buys at Poisson rate λ ~ Gamma(r, α); their lifetime is
//! exponential with rate μ ~ Gamma(s, β).

use super::{sigmoid, PurchaseModel};
use crate::data::RfmData;
use crate::fit::{fit_model, other_starts, with_params, Fit, FitError, FitOptions, Likelihood};
use crate::parallel::{sum_rows, with_costly_map};
use crate::special::{
    ln_1m_exp, ln_hyp2f1, ln_hyp2f1_near_one, ln_integral_decreasing, ln_integral_decreasing_moments, log_add_exp,
    LnGammaRatio,
};

/// Pareto/NBD parameters (all > 0).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct ParetoNbd {
    pub r: f64,
    pub alpha: f64,
    pub s: f64,
    pub beta: f64,
}

/// ln F and its gradient at one (x, τ) pair (None where the series is not
/// used), as [`Lik`] needs them.
type LnF = Option<(f64, [f64; 4])>;

struct Lik<'a> {
    data: &'a RfmData,
    pairs: &'a Pairs,
    /// ln F at every pair for given parameters: on two threads for a fit
    /// ([`with_costly_map`]), serial in tests.
    ln_f: &'a (dyn Fn(&ParetoNbd) -> Vec<LnF> + Sync),
}

struct Pairs {
    /// Distinct (x, τ) pairs with τ a T or a t_x of some row: A0 = F(t_x) − F(T)
    /// and F depends on (x, τ) alone, so F is computed once per pair. With daily
    /// periods a million histories hold a few thousand pairs.
    pairs: Vec<(f64, f64)>,
    /// Per row: the pair of (x, t_x) and of (x, T).
    row_pairs: Vec<(u32, u32)>,
}

impl Pairs {
    fn of(data: &RfmData) -> Self {
        let mut index: rustc_hash::FxHashMap<(u32, u32), u32> = rustc_hash::FxHashMap::default();
        let mut pairs = Vec::new();
        let mut pair = |xi: u32, ti: u32, x: f64, t: f64| {
            *index.entry((xi, ti)).or_insert_with(|| {
                pairs.push((x, t));
                (pairs.len() - 1) as u32
            })
        };
        // τ indexed in one space: T values first, then t_x values
        let nt = data.ts.len() as u32;
        let row_pairs = (0..data.x.len())
            .map(|i| {
                let (x, xi) = (data.x[i], data.x_idx[i]);
                let tx = pair(xi, nt + data.tx_idx[i], x, data.t_x[i]);
                let t = pair(xi, data.t_idx[i], x, data.t[i]);
                (tx, t)
            })
            .collect();
        Pairs { pairs, row_pairs }
    }

    /// ln F at pair `k` (past r + s + x = 200 the quadrature takes over).
    fn ln_f(&self, m: &ParetoNbd, k: usize) -> LnF {
        let (x, t) = self.pairs[k];
        if m.r + m.s + x <= 200.0 {
            m.ln_f_grad(x, t)
        } else {
            None
        }
    }
}

impl Likelihood for Lik<'_> {
    const NAMES: &'static [&'static str] = &["r", "alpha", "s", "beta"];

    fn customers(&self) -> f64 {
        self.data.customers()
    }

    fn start(&self) -> Vec<f64> {
        let (mx, _, mt) = self.data.means();
        vec![1.0, mt / mx.max(1e-3), 1.0, mt]
    }

    fn other_starts(&self) -> Vec<Vec<f64>> {
        other_starts(self.data.x.len(), &self.start(), &[1, 3])
    }

    /// FH05 eq. (22) summed over customers, with its analytic gradient: ln A0 and
    /// its derivatives from one pass of the 2F1 series ([`ln_f_grad`]), or by
    /// differentiating A0's integral under the integral sign where the series is
    /// slow ([`ln_a0_grad_by_quadrature`]).
    fn ll_grad(&self, p: &[f64], grad: &mut [f64]) -> f64 {
        let d = self.data;
        let m = ParetoNbd { r: p[0], alpha: p[1], s: p[2], beta: p[3] };
        let ln_f = (self.ln_f)(&m);
        let (r, alpha, s, beta) = (m.r, m.alpha, m.s, m.beta);
        // α^r β^s go inside the bracket (see `ln_a0_scaled`); what is added to
        // ln A0 from the series, and its derivatives
        let (ln_al, ln_be) = (alpha.ln(), beta.ln());
        let shift = r * ln_al + s * ln_be;
        let g_r = LnGammaRatio::new(r);
        let per_x: Vec<(f64, f64)> = d.xs.iter().map(|&x| (g_r.at(x), g_r.d_at(x))).collect();
        let out = sum_rows::<5>(d.x.len(), |i| {
            let (x, t_x, t, w) = (d.x[i], d.t_x[i], d.t[i], d.weight[i]);
            let (lg, dg) = per_x[d.x_idx[i] as usize];
            let rsx = r + s + x;
            // α^r (α+T)^−(r+x) β^s (β+T)^−s, as in `alive_scaled`
            let (l1, l2) = ((t / alpha).ln_1p(), (t / beta).ln_1p());
            let alive = -r * l1 - x * (alpha + t).ln() - s * l2;
            let (ptx, pt) = self.pairs.row_pairs[i];
            let a0 = if t_x >= t {
                None
            } else {
                match (ln_f[ptx as usize], ln_f[pt as usize]) {
                    (Some(f1), Some(f2)) => a0_from_f(f1, f2)
                        .map(|(v, g)| (v + shift, [g[0] + ln_al, g[1] + r / alpha, g[2] + ln_be, g[3] + s / beta])),
                    _ => None,
                }
                .or_else(|| Some(m.ln_a0_scaled_grad_off_series(x, t_x, t)))
            };
            let (died, ga0) = match a0 {
                Some((la0, g)) => ((s / rsx).ln() + la0, g),
                None => (f64::NEG_INFINITY, [0.0; 4]),
            };
            let bracket = log_add_exp(alive, died);
            let wd = if died == f64::NEG_INFINITY { 0.0 } else { sigmoid(died - alive) };
            let wa = 1.0 - wd;
            // d alive/dα = (r/α)·T/(α+T) − x/(α+T): r/α − (r+x)/(α+T) without cancelling
            let gr = dg - wa * l1 + wd * (ga0[0] - 1.0 / rsx);
            let gal = wa * ((r / alpha) * (t / (alpha + t)) - x / (alpha + t)) + wd * ga0[1];
            let gs = -wa * l2 + wd * (1.0 / s - 1.0 / rsx + ga0[2]);
            let gbe = wa * (s / beta) * (t / (beta + t)) + wd * ga0[3];
            [w * (lg + bracket), w * gr, w * gal, w * gs, w * gbe]
        });
        grad.copy_from_slice(&out[1..]);
        out[0]
    }
}

fn total_ll(d: &RfmData, m: &ParetoNbd) -> f64 {
    let g_r = LnGammaRatio::new(m.r);
    let per_x: Vec<f64> = d.xs.iter().map(|&x| g_r.at(x)).collect();
    sum_rows::<1>(d.x.len(), |i| {
        let x = d.x[i];
        let ll = per_x[d.x_idx[i] as usize] + m.ln_bracket(x, d.t_x[i], d.t[i]);
        [d.weight[i] * ll]
    })[0]
}

/// ln A0 = ln(F(t_x) − F(T)) and its gradient from ln F and its gradient at both
/// ends: d ln A0 = (d ln F1 − e^Δ d ln F2) / (1 − e^Δ), Δ = ln F2 − ln F1. None
/// when rounding leaves F(T) ≥ F(t_x) (the caller integrates instead).
fn a0_from_f((f1, g1): (f64, [f64; 4]), (f2, g2): (f64, [f64; 4])) -> Option<(f64, [f64; 4])> {
    let e = (f2 - f1).exp();
    if !(e < 1.0) {
        return None;
    }
    let k = 1.0 / (1.0 - e);
    Some((f1 + ln_1m_exp(f2 - f1), std::array::from_fn(|j| (g1[j] - e * g2[j]) * k)))
}

/// Fit Pareto/NBD by maximum likelihood.
pub fn fit(data: &RfmData, opts: &FitOptions) -> Result<Fit<ParetoNbd>, FitError> {
    if data.repeaters() == 0.0 {
        return Err(FitError::NotIdentifiable(
            "no customer has a repeat purchase, so nothing can be learned about purchase rates; use a longer observation window".into(),
        ));
    }
    let pairs = Pairs::of(data);
    // the hypergeometric terms are most of an evaluation (~150 ns to µs a
    // pair): shared with a second thread from 512 pairs (CDNOW has 1,050)
    let (p, fit) = with_costly_map(
        pairs.pairs.len(),
        512,
        |m: &ParetoNbd, k| pairs.ln_f(m, k),
        |map| fit_model(&Lik { data, pairs: &pairs, ln_f: &|m: &ParetoNbd| map.map(*m) }, opts),
    )?;
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
        // Far from the literature's ranges (r or s running large in a fit) the
        // 2F1 series can need millions of terms, and with s → 0 and β ≪ α its
        // 1 − z form has cancelling poles at z = 1: integrate instead,
        // A0 = (r+s+x) ∫_{t_x}^{T} (α+τ)^−(r+x) (β+τ)^−(s+1) dτ (FH05 eq. 22).
        let by_quadrature = || {
            let (k1, k2) = (r + x, s + 1.0);
            let (al, be) = (self.alpha, self.beta);
            rsx.ln()
                + ln_integral_decreasing(
                    |t| -k1 * (al + t).ln() - k2 * (be + t).ln(),
                    |t| -k1 / (al + t) - k2 / (be + t),
                    -al.min(be),
                    t_x,
                    t,
                )
        };
        if rsx > 200.0 {
            return by_quadrature();
        }
        let v = self.ln_a0_by_series(x, t_x, t);
        if v.is_nan() || v == f64::INFINITY {
            by_quadrature()
        } else {
            v
        }
    }

    /// [`ParetoNbd::ln_a0`] from the closed form alone (r + s + x ≤ 200): NaN
    /// where its 2F1 cannot be evaluated.
    fn ln_a0_by_series(&self, x: f64, t_x: f64, t: f64) -> f64 {
        let (r, s) = (self.r, self.s);
        let rsx = r + s + x;
        let (big, small, b2) =
            if self.alpha >= self.beta { (self.alpha, self.beta, s + 1.0) } else { (self.beta, self.alpha, r + x) };
        let ln_f = |tt: f64| -> f64 {
            // 1 − z = (small + τ)/(big + τ) exactly: with β ≪ α z rounds to 1
            let (z, y) = ((big - small) / (big + tt), (small + tt) / (big + tt));
            let f =
                if y <= 0.25 { ln_hyp2f1_near_one(rsx, b2, rsx + 1.0, y) } else { ln_hyp2f1(rsx, b2, rsx + 1.0, z) };
            match f {
                Ok(v) if v.sign > 0.0 => v.ln - rsx * (big + tt).ln(),
                _ => f64::NAN,
            }
        };
        let (f1, f2) = (ln_f(t_x), ln_f(t));
        f1 + ln_1m_exp(f2 - f1)
    }

    /// ln of α^r β^s times the bracket in FH05 eq. (22):
    /// α^r β^s [(α+T)^−(r+x) (β+T)^−s + s/(r+s+x) · A0].
    fn ln_bracket(&self, x: f64, t_x: f64, t: f64) -> f64 {
        let died = (self.s / (self.r + self.s + x)).ln() + self.ln_a0_scaled(x, t_x, t);
        log_add_exp(self.alive_scaled(x, t), died)
    }

    /// ln[α^r (α+T)^−(r+x) β^s (β+T)^−s] = −r ln(1+T/α) − x ln(α+T) − s ln(1+T/β):
    /// towards r → ∞ or s → ∞ (one purchase or drop-out rate for everyone,
    /// which fits on thin data approach) r ln α and (r+x) ln(α+T) are each
    /// huge and their difference was noise a fit read as likelihood.
    fn alive_scaled(&self, x: f64, t: f64) -> f64 {
        -self.r * (t / self.alpha).ln_1p() - x * (self.alpha + t).ln() - self.s * (t / self.beta).ln_1p()
    }

    /// r ln α + s ln β + ln A0, for the same reason: from the series plus the
    /// logs where r + s + x ≤ 200 (the sum is then moderate), else the
    /// integral with α^r β^s inside.
    fn ln_a0_scaled(&self, x: f64, t_x: f64, t: f64) -> f64 {
        if t_x >= t {
            return f64::NEG_INFINITY;
        }
        let (r, s, al, be) = (self.r, self.s, self.alpha, self.beta);
        if r + s + x <= 200.0 {
            return self.ln_a0(x, t_x, t) + r * al.ln() + s * be.ln();
        }
        (r + s + x).ln()
            + ln_integral_decreasing(
                |u| -r * (u / al).ln_1p() - x * (al + u).ln() - s * (u / be).ln_1p() - (be + u).ln(),
                |u| -(r + x) / (al + u) - (s + 1.0) / (be + u),
                -al.min(be),
                t_x,
                t,
            )
    }

    /// ln F(t) and its derivatives in (r, α, s, β), where (FH05 eq. 22 as in
    /// [`ParetoNbd::ln_a0`]) F(t) = 2F1(A, B; A+1; z) (c+t)^−A with A = r+s+x,
    /// z = (c−d)/(c+t), (c, d, B) = (α, β, s+1) when α ≥ β, else (β, α, r+x).
    /// With c = A + 1 the series is Σ A/(A+n) u_n, u_n = (B)_n zⁿ/n!, and its
    /// derivatives are series of the same terms: ∂/∂A: Σ n/(A+n)² u_n; ∂/∂B:
    /// Σ A/(A+n) u_n H_n, H_n = Σ_{k<n} 1/(B+k); ∂/∂z: Σ A/(A+n) (B)_n z^(n−1)/(n−1)!.
    /// None when z > 0.9 (the series would be long) or it does not settle.
    fn ln_f_grad(&self, x: f64, tt: f64) -> Option<(f64, [f64; 4])> {
        let (r, s) = (self.r, self.s);
        let a = r + s + x;
        let swap = self.alpha < self.beta;
        let (c, d, b) = if swap { (self.beta, self.alpha, r + x) } else { (self.alpha, self.beta, s + 1.0) };
        let ct = c + tt;
        let z = (c - d) / ct;
        if z > 0.9 {
            return None;
        }
        let (mut u, mut v, mut h) = (1.0_f64, 0.0_f64, 0.0_f64);
        let (mut s0, mut sa, mut sb, mut sz) = (1.0_f64, 0.0_f64, 0.0_f64, 0.0_f64);
        for n in 0..20_000 {
            let nf = n as f64;
            let m = nf + 1.0;
            // step from n to n + 1
            v = if n == 0 { b } else { v * (b + nf) * z / nf };
            let ratio = (b + nf) * z / m;
            u *= ratio;
            h += 1.0 / (b + nf);
            let am = a + m;
            let q = a / am;
            s0 += q * u;
            sa += m / (am * am) * u;
            sb += q * u * h;
            sz += q * v;
            let rr = ratio.max(z);
            if rr < 1.0 {
                // the tails of all four sums, the z-derivative's (terms n·u_n/z) the heaviest
                let tail = (q * u * (1.0 + h)).max(q * v * z) * rr / ((1.0 - rr) * (1.0 - rr));
                if tail <= 1e-17 * s0 || u == 0.0 {
                    break;
                }
            }
            if n == 19_999 || !s0.is_finite() {
                return None;
            }
        }
        let lc = ct.ln();
        let ln_f = s0.ln() - a * lc;
        let (fa, fb, fz) = (sa / s0 - lc, sb / s0, sz / s0);
        // z = (c − d)/(c + t): ∂z/∂c = (t + d)/(c + t)², ∂z/∂d = −1/(c + t)
        let fc = -a / ct + fz * (tt + d) / (ct * ct);
        let fd = -fz / ct;
        let g = if swap {
            [fa + fb, fd, fa, fc] // B = r + x; c = β, d = α
        } else {
            [fa, fc, fa + fb, fd] // B = s + 1; c = α, d = β
        };
        Some((ln_f, g))
    }

    /// [`ParetoNbd::ln_a0_scaled`] and its gradient where the one-pass series
    /// does not serve: by quadrature, but where the integrand's pole lies so
    /// close to t_x that the quadrature would need hundreds of pieces (within
    /// 1e-30·(T − t_x): fits on odd data run β to 1e-305, and took seconds)
    /// and the 2F1 near z = 1 can give the value, that value and central
    /// differences of it.
    fn ln_a0_scaled_grad_off_series(&self, x: f64, t_x: f64, t: f64) -> (f64, [f64; 4]) {
        let pole_gap = self.alpha.min(self.beta) + t_x;
        if self.r + self.s + x > 200.0 || pole_gap * 1e30 > t - t_x {
            return self.ln_a0_scaled_grad_by_quadrature(x, t_x, t);
        }
        // the closed form's value only: where it fails, one quadrature pass
        // gives value and gradient at once (differences would take nine)
        let series = |m: &ParetoNbd| m.ln_a0_by_series(x, t_x, t) + m.r * m.alpha.ln() + m.s * m.beta.ln();
        let v = series(self);
        if !v.is_finite() {
            return self.ln_a0_scaled_grad_by_quadrature(x, t_x, t);
        }
        let p = [self.r, self.alpha, self.s, self.beta];
        let at = |k: usize, f: f64| {
            let mut q = p;
            q[k] *= f;
            series(&ParetoNbd { r: q[0], alpha: q[1], s: q[2], beta: q[3] })
        };
        let h = 1e-6;
        let g = std::array::from_fn(|k| (at(k, 1.0 + h) - at(k, 1.0 - h)) / (2.0 * h * p[k]));
        if v.is_finite() && g.iter().all(|d: &f64| d.is_finite()) {
            (v, g)
        } else {
            self.ln_a0_scaled_grad_by_quadrature(x, t_x, t)
        }
    }

    /// r ln α + s ln β + ln A0 = ln(r+s+x) + ln ∫_{t_x}^{T} e^{g(τ)} dτ,
    /// g = −r ln(1+τ/α) − x ln(α+τ) − s ln(1+τ/β) − ln(β+τ) (α^r β^s inside, see
    /// [`ParetoNbd::ln_a0_scaled`]), and its derivatives, ∂/∂θ = ∂ ln(r+s+x)/∂θ
    /// + E[∂g/∂θ] under the normalised integrand, all from one Gauss–Legendre pass.
    fn ln_a0_scaled_grad_by_quadrature(&self, x: f64, t_x: f64, t: f64) -> (f64, [f64; 4]) {
        let (r, s, al, be) = (self.r, self.s, self.alpha, self.beta);
        let rsx = r + s + x;
        let (ra, sb) = (r / al, s / be);
        let (ln_i, e) = ln_integral_decreasing_moments(
            |u| -r * (u / al).ln_1p() - x * (al + u).ln() - s * (u / be).ln_1p() - (be + u).ln(),
            |u| -(r + x) / (al + u) - (s + 1.0) / (be + u),
            |u| {
                [
                    -(u / al).ln_1p(),
                    ra * (u / (al + u)) - x / (al + u),
                    -(u / be).ln_1p(),
                    sb * (u / (be + u)) - 1.0 / (be + u),
                ]
            },
            -al.min(be),
            t_x,
            t,
        );
        (rsx.ln() + ln_i, [1.0 / rsx + e[0], e[1], 1.0 / rsx + e[2], e[3]])
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
        LnGammaRatio::new(self.r).at(x) + self.ln_bracket(x, t_x, t)
    }

    /// FH05 eq. (18): 1 / (1 + s/(r+s+x) (α+T)^(r+x) (β+T)^s A0), the odds
    /// with α^r β^s in both parts.
    fn prob_alive(&self, x: f64, t_x: f64, t: f64) -> f64 {
        let (r, s) = (self.r, self.s);
        let ln_odds = (s / (r + s + x)).ln() + self.ln_a0_scaled(x, t_x, t) - self.alive_scaled(x, t);
        if ln_odds == f64::NEG_INFINITY {
            return 1.0;
        }
        sigmoid(-ln_odds)
    }

    /// FH05 eq. (20) (Schmittlein et al. 1987 eq. 22):
    /// (r+x)(β+T) / ((α+T)(s−1)) · [1 − ((β+T)/(β+T+t))^(s−1)] · P(alive).
    fn expected_purchases_if_alive(&self, horizon: f64, x: f64, t: f64) -> f64 {
        // ln1p: with β + T ≫ horizon the ratio rounds; the rate (r+x)/(α+T)
        // first, for r and α both near 1e306 on a fit towards r → ∞
        let u = (horizon / (self.beta + t)).ln_1p();
        (self.r + x) / (self.alpha + t) * (self.beta + t) * one_minus_pow_over(self.s - 1.0, u)
    }

    /// FH05 eq. (17): rβ / (α(s−1)) [1 − (β/(β+t))^(s−1)].
    fn expected_purchases_new(&self, horizon: f64) -> f64 {
        let u = (horizon / self.beta).ln_1p();
        (self.r / self.alpha * self.beta * one_minus_pow_over(self.s - 1.0, u)).max(0.0)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fit::numeric_grad;

    /// The analytic gradient against central differences of the likelihood, on
    /// parameters that take every path: the series with α ≥ β and α < β, z past
    /// 0.9 (quadrature), r + s + x past 200 (quadrature), and a purchase on the
    /// last day (no died branch).
    #[test]
    fn analytic_gradient_matches_central_differences() {
        let data = RfmData::new([
            (0.0, 0.0, 38.0),
            (0.0, 0.0, 0.5),
            (1.0, 2.0, 30.0),
            (3.0, 20.0, 35.0),
            (7.0, 31.9, 32.0),
            (2.0, 9.0, 9.0),
            (40.0, 200.0, 260.0),
        ])
        .unwrap();
        for p in [
            [0.553, 10.58, 0.606, 11.67],
            [0.553, 11.67, 0.606, 10.58],
            [2.0, 50.0, 1.5, 0.3],
            [0.8, 3.0, 300.0, 400.0],
            [150.0, 30.0, 80.0, 2.0],
        ] {
            let pairs = Pairs::of(&data);
            let serial = |m: &ParetoNbd| (0..pairs.pairs.len()).map(|k| pairs.ln_f(m, k)).collect();
            let lik = Lik { data: &data, pairs: &pairs, ln_f: &serial };
            let mut ga = [0.0; 4];
            let mut gn = [0.0; 4];
            let la = lik.ll_grad(&p, &mut ga);
            let ln = numeric_grad(
                |q| total_ll(&data, &ParetoNbd { r: q[0], alpha: q[1], s: q[2], beta: q[3] }),
                &p,
                &mut gn,
            );
            assert!((la - ln).abs() < 1e-9 * ln.abs(), "{p:?}: LL {la} vs {ln}");
            for j in 0..4 {
                let scale = gn[j].abs().max(1e-3);
                assert!((ga[j] - gn[j]).abs() < 2e-6 * scale, "{p:?} d{j}: analytic {} vs numeric {}", ga[j], gn[j]);
            }
        }
    }
}
