//! `exp` and `ln` over slices, without branches, so that the compiler
//! evaluates two (SSE2) or four (AVX2) values per instruction.
//!
//! The likelihood sums spend most of their time in one `exp` and one `ln` per
//! customer history; glibc's are accurate and fast, but one call at a time.
//! These are the same algorithms as FreeBSD's msun (Sun Microsystems, fdlibm
//! `e_exp.c`, 2004, and `e_log.c`, 1993, both under 1 ulp), their branches
//! turned into selects: `exp` for x ≤ 0 only (the sums need no more; k is
//! rounded to nearest where fdlibm rounds half away, an equally valid
//! reduction), `ln` for positive normal numbers, others through `f64::ln`
//! in a second pass. Only IEEE
//! additions, multiplications and divisions in a fixed order (Rust never fuses
//! them), so the AVX2 path returns the same bits as the SSE2 one.

// fdlibm's constants as it prints them (each is the double its hex gives)
#![allow(clippy::excessive_precision)]

const LN2_HI: f64 = 6.93147180369123816490e-01; // 0x3fe62e42 fee00000
const LN2_LO: f64 = 1.90821492927058770002e-10; // 0x3dea39ef 35793c76
const INV_LN2: f64 = std::f64::consts::LOG2_E; // 0x3ff71547 652b82fe

// e_exp.c: R(r²) ≈ r (e^r + 1)/(e^r − 1), |error| < 2^−59 on [0, ln2/2]
const P1: f64 = 1.66666666666666019037e-01;
const P2: f64 = -2.77777777770155933842e-03;
const P3: f64 = 6.61375632143793436117e-05;
const P4: f64 = -1.65339022054652515390e-06;
const P5: f64 = 4.13813679705723846039e-08;

// e_log.c: R(s) ≈ (ln(1+f) − 2s)/s with s = f/(2+f), |error| < 2^−58.45
const LG1: f64 = 6.666666666666735130e-01;
const LG2: f64 = 3.999999999940941908e-01;
const LG3: f64 = 2.857142874366239149e-01;
const LG4: f64 = 2.222219843214978396e-01;
const LG5: f64 = 1.818357216161805012e-01;
const LG6: f64 = 1.531383769920937332e-01;
const LG7: f64 = 1.479819860511658591e-01;

/// 1.5 · 2^52: adding and subtracting it rounds a double below 2^51 in
/// magnitude to the nearest integer (no `roundpd` before SSE4.1).
const ROUND: f64 = 6755399441055744.0;

/// Below this, e^x is subnormal or zero; the sums treat it as zero.
const EXP_FLOOR: f64 = -708.0;

/// e^x for x ≤ 0 (fdlibm `e_exp.c`): x = k ln2 + r with |r| ≤ ln2/2, e^r from a
/// rational approximation, scaled by 2^k through the exponent bits. Returns 0
/// below −708 (where e^x < 2^−1021) and NaN for NaN.
#[inline(always)]
fn exp_nonpositive(x: f64) -> f64 {
    let xc = if x < EXP_FLOOR { EXP_FLOOR } else { x };
    let k = (xc * INV_LN2 + ROUND) - ROUND;
    let hi = xc - k * LN2_HI; // exact: k has at most 11 bits, LN2_HI 32
    let lo = k * LN2_LO;
    let r = hi - lo;
    let rr = r * r;
    let c = r - rr * (P1 + rr * (P2 + rr * (P3 + rr * (P4 + rr * P5))));
    let y = 1.0 + (r * c / (2.0 - c) - lo + hi);
    // 2^k with k in [−1021, 0]: k + 1023 lands in the low bits of
    // 2^52 + k + 1023, and shifted up it is the exponent field.
    let scale = f64::from_bits((k + (1023.0 + 4503599627370496.0)).to_bits() << 52);
    if x < EXP_FLOOR {
        0.0
    } else {
        y * scale
    }
}

/// ln x for a positive normal x (fdlibm `e_log.c`): x = 2^k m with m in
/// [√2/2, √2) by integer operations on the bits, then ln(1+f) = 2s + s R(s²)
/// with f = m − 1, s = f/(2+f). Other inputs give garbage: see [`ln`].
#[inline(always)]
fn ln_normal(x: f64) -> f64 {
    // fdlibm's split point: adding 1 − 0x3fe6a09e (√2/2's high word) to the
    // high word carries into the exponent exactly when m ≥ √2
    const SHIFT: u64 = (0x3ff0_0000 - 0x3fe6_a09e) << 32;
    let u = x.to_bits().wrapping_add(SHIFT);
    // k = exponent − 1023, through 2^52 + e rather than an i64 conversion,
    // which has no vector form before AVX-512
    let dk = f64::from_bits(0x4330_0000_0000_0000 | (u >> 52)) - (4503599627370496.0 + 1023.0);
    let m = f64::from_bits((u & 0x000f_ffff_ffff_ffff) + (0x3fe6_a09e << 32));
    let f = m - 1.0;
    let hfsq = 0.5 * f * f;
    let s = f / (2.0 + f);
    let z = s * s;
    let w = z * z;
    let t1 = w * (LG2 + w * (LG4 + w * LG6));
    let t2 = z * (LG1 + w * (LG3 + w * (LG5 + w * LG7)));
    let r = t2 + t1;
    s * (hfsq + r) + dk * LN2_LO - hfsq + f + dk * LN2_HI
}

/// `out[i] = xs[i].ln()` within an ulp of glibc, for any input (zero,
/// negative, subnormal, ∞ and NaN go through `f64::ln`, a second pass that
/// finds none in a likelihood's usual run). `out` is at least as long as `xs`.
pub fn ln(xs: &[f64], out: &mut [f64]) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2, checked just above.
        return unsafe { ln_avx2(xs, out) };
    }
    ln_any(xs, out)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn ln_avx2(xs: &[f64], out: &mut [f64]) {
    ln_any(xs, out)
}

/// Where [`ln_normal`] holds.
const NORMAL: std::ops::RangeInclusive<f64> = f64::MIN_POSITIVE..=f64::MAX;

#[inline(always)]
fn ln_any(xs: &[f64], out: &mut [f64]) {
    let out = &mut out[..xs.len()];
    let mut odd = false;
    for (o, &x) in out.iter_mut().zip(xs) {
        *o = ln_normal(x);
        odd |= !NORMAL.contains(&x);
    }
    if odd {
        for (o, &x) in out.iter_mut().zip(xs) {
            if !NORMAL.contains(&x) {
                *o = x.ln();
            }
        }
    }
}

/// For each gap g = b − a: `ln(1 + e^−|g|)` and σ(g) = 1/(1 + e^−g), computed
/// as `(g ≥ 0 ? 1 : e) / (1 + e)` with e = e^−|g|: the pieces of
/// ln(e^a + e^b) = max(a, b) + ln(1 + e^−|g|) and of its derivative, where
/// e^b has the share σ(g). The outputs are at least as long as `gaps`.
pub fn log_sum_exp_parts(gaps: &[f64], ln_1pe: &mut [f64], weight: &mut [f64]) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2, checked just above.
        return unsafe { log_sum_exp_parts_avx2(gaps, ln_1pe, weight) };
    }
    log_sum_exp_parts_any(gaps, ln_1pe, weight)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn log_sum_exp_parts_avx2(gaps: &[f64], ln_1pe: &mut [f64], weight: &mut [f64]) {
    log_sum_exp_parts_any(gaps, ln_1pe, weight)
}

#[inline(always)]
fn log_sum_exp_parts_any(gaps: &[f64], ln_1pe: &mut [f64], weight: &mut [f64]) {
    let n = gaps.len();
    let (ln_1pe, weight) = (&mut ln_1pe[..n], &mut weight[..n]);
    for i in 0..n {
        let g = gaps[i];
        let e = exp_nonpositive(-g.abs());
        let one_e = 1.0 + e;
        // 1 + e is in [1, 2] or NaN, which must stay NaN (a select)
        ln_1pe[i] = if one_e.is_nan() { one_e } else { ln_normal(one_e) };
        weight[i] = if g >= 0.0 { 1.0 } else { e } / one_e;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ulps(a: f64, b: f64) -> u64 {
        (a.to_bits() as i64 - b.to_bits() as i64).unsigned_abs()
    }

    #[test]
    fn exp_within_an_ulp_of_glibc() {
        let mut worst = 0;
        let mut x = 0.0;
        while x > -707.9 {
            worst = worst.max(ulps(exp_nonpositive(x), x.exp()));
            x -= 0.000_731_3;
        }
        // msun and glibc each err by under 1 ulp, so they differ by at most 1
        assert!(worst <= 1, "worst {worst} ulps");
        for x in [-1e-300, -1e-20, -2f64.powi(-28), -0.5 * std::f64::consts::LN_2, -1.5 * std::f64::consts::LN_2] {
            assert!(ulps(exp_nonpositive(x), x.exp()) <= 1, "{x}");
        }
        assert_eq!(exp_nonpositive(0.0), 1.0);
        assert_eq!(exp_nonpositive(-0.0), 1.0);
        assert_eq!(exp_nonpositive(-708.5), 0.0);
        assert_eq!(exp_nonpositive(f64::NEG_INFINITY), 0.0);
        assert!(exp_nonpositive(f64::NAN).is_nan());
    }

    #[test]
    fn ln_within_an_ulp_of_glibc() {
        let mut worst = 0;
        let mut m = 1.0;
        while m <= 2.0 {
            worst = worst.max(ulps(ln_normal(m), m.ln()));
            m += 0.000_001_37;
        }
        // and across the exponents, from the smallest normal to the largest
        let mut x = f64::MIN_POSITIVE;
        while x < f64::MAX / 1.38 {
            worst = worst.max(ulps(ln_normal(x), x.ln()));
            x *= 1.370_001;
        }
        assert!(worst <= 1, "worst {worst} ulps");
        assert_eq!(ln_normal(1.0), 0.0);
        assert_eq!(ln_normal(2.0), std::f64::consts::LN_2);
        let edges =
            [1.0 + f64::EPSILON, f64::from_bits(0x3ff6_a09e_0000_0000), std::f64::consts::SQRT_2, 2.0 - f64::EPSILON];
        for m in edges.into_iter().chain([f64::MIN_POSITIVE, f64::MAX, 0.5, 1e-300, 1e300]) {
            assert!(ulps(ln_normal(m), m.ln()) <= 1, "{m}");
        }
        // the slice function, odd inputs included
        let xs = [2.5, 0.0, -1.0, 1e-310, f64::INFINITY, f64::NAN, 7.0, 1.0];
        let mut out = [0.0; 8];
        ln(&xs, &mut out);
        for (&x, o) in xs.iter().zip(out) {
            let want = x.ln();
            assert!(ulps(o, want) <= 1 || (o.is_nan() && want.is_nan()), "{x}: {o} vs {want}");
        }
    }

    #[test]
    fn parts_match_the_scalar_formulas() {
        let gaps: Vec<f64> = (0..1001)
            .map(|i| (i as f64 - 500.0) * 0.37)
            .chain([f64::INFINITY, f64::NEG_INFINITY, -800.0, 0.0])
            .collect();
        let (mut l, mut w) = (vec![0.0; gaps.len()], vec![0.0; gaps.len()]);
        log_sum_exp_parts(&gaps, &mut l, &mut w);
        for (i, &g) in gaps.iter().enumerate() {
            let e = (-g.abs()).exp();
            let want_w = if g >= 0.0 { 1.0 / (1.0 + e) } else { e / (1.0 + e) };
            assert!((l[i] - (1.0 + e).ln()).abs() <= 2.3e-16, "{g}");
            assert!((w[i] - want_w).abs() <= 2.3e-16, "{g}");
        }
        // NaN stays NaN: a likelihood that cannot be evaluated must say so
        let (mut l1, mut w1) = ([0.0; 1], [0.0; 1]);
        log_sum_exp_parts(&[f64::NAN], &mut l1, &mut w1);
        assert!(l1[0].is_nan() && w1[0].is_nan());
        // the portable path gives the same bits as whichever ran above
        let (mut l2, mut w2) = (vec![0.0; gaps.len()], vec![0.0; gaps.len()]);
        log_sum_exp_parts_any(&gaps, &mut l2, &mut w2);
        assert!(l.iter().zip(&l2).all(|(a, b)| a.to_bits() == b.to_bits()));
        assert!(w.iter().zip(&w2).all(|(a, b)| a.to_bits() == b.to_bits()));
    }
}
