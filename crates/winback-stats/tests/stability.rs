//! No NaN, no infinity, no panic at the edges: x = 0, x in the thousands, T in the
//! tens of thousands of periods, and parameters far from the data's.

use winback_stats::models::{bgnbd::BgNbd, mbgnbd::MbgNbd, paretonbd::ParetoNbd, sbg::Sbg, PurchaseModel};

fn models() -> Vec<Box<dyn PurchaseModel>> {
    let mut v: Vec<Box<dyn PurchaseModel>> = Vec::new();
    for &(r, alpha, a, b) in &[(0.243, 4.41, 0.793, 2.43), (0.243 * 7.0, 30.9, 1.7, 0.3), (5.0, 0.01, 0.05, 40.0)] {
        v.push(Box::new(BgNbd { r, alpha, a, b }));
        v.push(Box::new(MbgNbd { r, alpha, a, b }));
    }
    for &(r, alpha, s, beta) in
        &[(0.553, 10.58, 0.606, 11.67), (0.553, 74.0, 0.606, 81.7), (2.0, 1.0, 3.0, 500.0), (0.5, 900.0, 0.2, 0.5)]
    {
        v.push(Box::new(ParetoNbd { r, alpha, s, beta }));
    }
    v
}

#[test]
fn predictions_stay_finite_and_in_range_at_the_edges() {
    let histories = [
        (0.0, 0.0, 1.0),
        (0.0, 0.0, 50_000.0),
        (1.0, 0.001, 50_000.0),
        (3000.0, 20_000.0, 20_000.0),
        (3000.0, 100.0, 40_000.0),
        (5000.0, 49_999.0, 50_000.0),
        (1.0, 1e-9, 1e-6),
    ];
    for m in models() {
        for &(x, tx, t) in &histories {
            let p = m.prob_alive(x, tx, t);
            assert!(
                p.is_finite() && (0.0..=1.0).contains(&p),
                "{} {:?} P(alive)({x},{tx},{t}) = {p}",
                m.name(),
                m.params()
            );
            for h in [0.5, 52.0, 10_000.0] {
                let e = m.expected_purchases(h, x, tx, t);
                assert!(e.is_finite() && e >= 0.0, "{} {:?} E[Y({h})|{x},{tx},{t}] = {e}", m.name(), m.params());
            }
            let ll = m.log_likelihood_one(x, tx, t);
            // A density in the purchase times, so it may exceed 1; it must be finite.
            assert!(ll.is_finite(), "{} {:?} LL({x},{tx},{t}) = {ll}", m.name(), m.params());
        }
        for h in [1e-6, 1.0, 1e4] {
            let e = m.expected_purchases_new(h);
            assert!(e.is_finite() && e >= 0.0, "{} E[X({h})] = {e}", m.name());
        }
    }
}

#[test]
fn a_heavy_recent_buyer_is_alive_and_a_long_gone_one_is_not() {
    for m in models().iter().take(2) {
        assert!(m.prob_alive(3000.0, 19_999.0, 20_000.0) > 0.99, "{}", m.name());
        assert!(m.prob_alive(3000.0, 100.0, 40_000.0) < 1e-6, "{}", m.name());
    }
}

#[test]
fn pareto_a0_closed_form_matches_its_integral() {
    // s/(r+s+x)·A0 = s ∫_{t_x}^{T} (α+τ)^−(r+x) (β+τ)^−(s+1) dτ (FH05), by Simpson's rule.
    for &(r, alpha, s, beta) in &[(0.553, 10.58, 0.606, 11.67), (0.553, 2.0, 0.606, 40.0), (1.5, 60.0, 2.0, 3.0)] {
        let m = ParetoNbd { r, alpha, s, beta };
        for &(x, tx, t) in &[(1.0, 2.0, 39.0), (5.0, 30.0, 38.0), (12.0, 0.5, 39.0)] {
            let n = 200_000;
            let h = (t - tx) / n as f64;
            let f = |tau: f64| (alpha + tau).powf(-(r + x)) * (beta + tau).powf(-(s + 1.0));
            let mut sum = f(tx) + f(t);
            for i in 1..n {
                sum += f(tx + i as f64 * h) * if i % 2 == 1 { 4.0 } else { 2.0 };
            }
            let integral = sum * h / 3.0;
            let a0 = m.ln_a0(x, tx, t).exp() / (r + s + x);
            assert!((a0 - integral).abs() < 1e-10 * integral, "A0 {a0} vs ∫ {integral} at {x},{tx},{t}");
        }
    }
}

#[test]
fn sbg_retention_and_residual_value() {
    // FH07: retention rises with tenure, r_t = (β+t−1)/(α+β+t−1); S(t) telescopes.
    let m = Sbg { alpha: 0.704, beta: 1.182 };
    assert!((m.retention_rate(1) - 1.182 / 1.886).abs() < 1e-12);
    assert!(m.retention_rate(5) > m.retention_rate(2));
    let s: Vec<f64> = (0..6).map(|t| m.survival(t)).collect();
    for t in 1..6 {
        assert!((s[t] / s[t - 1] - m.retention_rate(t as u32)).abs() < 1e-12);
    }
    // DERL by brute force: Σ_{k≥1} S(n+k)/S(n) /(1+d)^k... FH10 eq. (6) counts the
    // payment at the next renewal as the first, undiscounted: Σ_{k≥0} S(n+k)/S(n−1)/(1+d)^k.
    let d: f64 = 0.1;
    for renewals in [0u32, 3, 10] {
        let n = renewals + 1;
        let brute: f64 = (0..20_000).map(|k| m.survival(n + k) / m.survival(n - 1) / (1.0 + d).powi(k as i32)).sum();
        let derl = m.discounted_residual_lifetime(renewals, d);
        assert!((derl - brute).abs() < 1e-6 * brute, "renewals {renewals}: DERL {derl} vs {brute}");
    }
}
