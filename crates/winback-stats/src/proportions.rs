//! Proportions: confidence intervals for a rate and for the difference of two
//! (a campaign's lift), the smallest lift a test can detect, and the Beta
//! distribution for win-back rates that start from an industry prior.

use crate::special::ln_beta;

/// Φ⁻¹(p), the standard normal quantile (Acklam's rational approximation, relative
/// error below 1.2e-9, refined by one Halley step on erfc).
#[allow(clippy::excessive_precision)] // the published coefficients, as printed
pub fn normal_quantile(p: f64) -> f64 {
    if !(p > 0.0 && p < 1.0) {
        return if p == 0.0 {
            f64::NEG_INFINITY
        } else if p == 1.0 {
            f64::INFINITY
        } else {
            f64::NAN
        };
    }
    const A: [f64; 6] = [
        -3.969683028665376e1,
        2.209460984245205e2,
        -2.759285104469687e2,
        1.383577518672690e2,
        -3.066479806614716e1,
        2.506628277459239,
    ];
    const B: [f64; 5] =
        [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
    const C: [f64; 6] = [
        -7.784894002430293e-3,
        -3.223964580411365e-1,
        -2.400758277161838,
        -2.549732539343734,
        4.374664141464968,
        2.938163982698783,
    ];
    const D: [f64; 4] = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
    let tail = |q: f64| {
        let q = (-2.0 * q.ln()).sqrt();
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    };
    let x = if p < 0.02425 {
        tail(p)
    } else if p > 1.0 - 0.02425 {
        -tail(1.0 - p)
    } else {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    };
    // one Halley step: e = Φ(x) − p
    let e = 0.5 * libm::erfc(-x / std::f64::consts::SQRT_2) - p;
    let u = e * (2.0 * std::f64::consts::PI).sqrt() * (x * x / 2.0).exp();
    x - u / (1.0 + x * u / 2.0)
}

/// The Wilson score interval for x successes in n (Wilson 1927; Newcombe 1998, method 3).
pub fn wilson(x: u64, n: u64, z: f64) -> (f64, f64) {
    if n == 0 {
        return (0.0, 1.0);
    }
    let (x, n) = (x as f64, n as f64);
    let p = x / n;
    let z2 = z * z;
    let centre = p + z2 / (2.0 * n);
    let half = z * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    let d = 1.0 + z2 / n;
    (((centre - half) / d).max(0.0), ((centre + half) / d).min(1.0))
}

/// p1 − p2 with Newcombe's hybrid score interval (Newcombe 1998, method 10),
/// which keeps its coverage for small groups and rates near 0 or 1.
pub fn diff_interval(x1: u64, n1: u64, x2: u64, n2: u64, z: f64) -> (f64, f64, f64) {
    let p1 = if n1 > 0 { x1 as f64 / n1 as f64 } else { 0.0 };
    let p2 = if n2 > 0 { x2 as f64 / n2 as f64 } else { 0.0 };
    let (l1, u1) = wilson(x1, n1, z);
    let (l2, u2) = wilson(x2, n2, z);
    let d = p1 - p2;
    let lo = d - ((p1 - l1).powi(2) + (u2 - p2).powi(2)).sqrt();
    let hi = d + ((u1 - p1).powi(2) + (p2 - l2).powi(2)).sqrt();
    (d, lo, hi)
}

/// The smallest absolute difference between two rates a two-sided test at level
/// `alpha` detects with probability `power`, for groups of n1 and n2 around the
/// base rate p: (z₁₋α/₂ + z_power) × √(p(1−p)(1/n1 + 1/n2)).
pub fn minimum_detectable_lift(n1: u64, n2: u64, p: f64, alpha: f64, power: f64) -> f64 {
    if n1 == 0 || n2 == 0 {
        return f64::INFINITY;
    }
    let z = normal_quantile(1.0 - alpha / 2.0) + normal_quantile(power);
    z * (p * (1.0 - p) * (1.0 / n1 as f64 + 1.0 / n2 as f64)).sqrt()
}

/// The regularised incomplete beta function I_x(a, b), by its continued fraction
/// evaluated with the modified Lentz method (Press et al., Numerical Recipes,
/// 3rd ed., §6.4, eq. 6.4.5), on the side where it converges fast.
pub fn inc_beta(a: f64, b: f64, x: f64) -> f64 {
    if !(x > 0.0) {
        return 0.0;
    }
    if !(x < 1.0) {
        return 1.0;
    }
    let front = (a * x.ln() + b * (1.0 - x).ln() - ln_beta(a, b)).exp();
    if x < (a + 1.0) / (a + b + 2.0) {
        front * beta_cf(a, b, x) / a
    } else {
        1.0 - front * beta_cf(b, a, 1.0 - x) / b
    }
}

fn beta_cf(a: f64, b: f64, x: f64) -> f64 {
    const TINY: f64 = 1e-300;
    let mut c = 1.0;
    let mut d = 1.0 - (a + b) * x / (a + 1.0);
    if d.abs() < TINY {
        d = TINY;
    }
    d = 1.0 / d;
    let mut h = d;
    for m in 1..10_000 {
        let m = m as f64;
        let m2 = 2.0 * m;
        for aa in
            [m * (b - m) * x / ((a + m2 - 1.0) * (a + m2)), -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1.0))]
        {
            d = 1.0 + aa * d;
            if d.abs() < TINY {
                d = TINY;
            }
            c = 1.0 + aa / c;
            if c.abs() < TINY {
                c = TINY;
            }
            d = 1.0 / d;
            h *= d * c;
        }
        if (d * c - 1.0).abs() < 1e-15 {
            break;
        }
    }
    h
}

/// The q-quantile of Beta(a, b), by bisection on `inc_beta` (60 halvings: exact to
/// double precision on [0, 1]).
pub fn beta_quantile(a: f64, b: f64, q: f64) -> f64 {
    let (mut lo, mut hi) = (0.0_f64, 1.0_f64);
    for _ in 0..60 {
        let mid = 0.5 * (lo + hi);
        if inc_beta(a, b, mid) < q {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

/// A Beta prior whose mean is the middle of [lo, hi] and whose 95% interval is
/// about [lo, hi] (moments matched: sd = (hi − lo) / 3.92).
pub fn beta_from_band(lo: f64, hi: f64) -> (f64, f64) {
    let m = 0.5 * (lo + hi);
    let sd = (hi - lo) / (2.0 * 1.959_963_984_540_054);
    let k = m * (1.0 - m) / (sd * sd) - 1.0;
    (m * k, (1.0 - m) * k)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_quantiles() {
        assert!((normal_quantile(0.975) - 1.959_963_984_540_054).abs() < 1e-13);
        assert!((normal_quantile(0.8) - 0.841_621_233_572_914_3).abs() < 1e-13);
        assert!((normal_quantile(1e-10) + 6.361_340_902_404_056).abs() < 1e-10);
        assert!((normal_quantile(0.5)).abs() < 1e-15);
    }

    #[test]
    fn newcombe_example() {
        // Newcombe (1998), Table II, example (a): 56/70 − 48/80, method 10: 0.0524 to 0.3339
        let (d, lo, hi) = diff_interval(56, 70, 48, 80, normal_quantile(0.975));
        assert!((d - 0.2).abs() < 1e-12);
        assert!((lo - 0.0524).abs() < 5e-5 && (hi - 0.3339).abs() < 5e-5, "{lo} {hi}");
        // Newcombe (1998), Table I: Wilson interval for 81/263 is 0.2553 to 0.3662
        let (l, h) = wilson(81, 263, normal_quantile(0.975));
        assert!((l - 0.2553).abs() < 5e-5 && (h - 0.3662).abs() < 5e-5, "{l} {h}");
    }

    #[test]
    fn incomplete_beta_identities_and_quantiles() {
        // I_x(a, 1) = x^a; I_x(1, b) = 1 − (1 − x)^b
        assert!((inc_beta(2.5, 1.0, 0.3) - 0.3_f64.powf(2.5)).abs() < 1e-14);
        assert!((inc_beta(1.0, 4.2, 0.3) - (1.0 - 0.7_f64.powf(4.2))).abs() < 1e-14);
        // integers: I_x(a, b) = Σ_{j=a}^{a+b−1} C(a+b−1, j) x^j (1−x)^{a+b−1−j}
        let (a, b, x) = (7u32, 12u32, 0.41_f64);
        let n = a + b - 1;
        let choose = |n: u32, k: u32| (1..=k).fold(1.0, |acc, i| acc * f64::from(n + 1 - i) / f64::from(i));
        let want: f64 = (a..=n).map(|j| choose(n, j) * x.powi(j as i32) * (1.0 - x).powi((n - j) as i32)).sum();
        assert!((inc_beta(7.0, 12.0, x) - want).abs() < 1e-13);
        // symmetry, and quantiles invert it
        assert!((inc_beta(23.9, 55.8, 0.25) + inc_beta(55.8, 23.9, 0.75) - 1.0).abs() < 1e-13);
        for (a, b, q) in [(23.9, 55.8, 0.025), (0.5, 0.5, 0.9), (300.0, 700.0, 0.5)] {
            let x = beta_quantile(a, b, q);
            assert!((inc_beta(a, b, x) - q).abs() < 1e-12, "{a} {b} {q}");
        }
    }

    #[test]
    fn detectable_lift_and_band_prior() {
        // 72 treated vs 8 control around 20%: only a lift of 0.42 or more shows
        let m = minimum_detectable_lift(72, 8, 0.2, 0.05, 0.8);
        assert!((m - 2.8015842 * (0.16_f64 * (1.0 / 72.0 + 1.0 / 8.0)).sqrt()).abs() < 1e-6);
        let (a, b) = beta_from_band(0.2, 0.4);
        assert!((a / (a + b) - 0.3).abs() < 1e-12);
        let (lo, hi) = (beta_quantile(a, b, 0.025), beta_quantile(a, b, 0.975));
        assert!((lo - 0.2).abs() < 0.01 && (hi - 0.4).abs() < 0.01, "{lo} {hi}");
    }
}
