//! Property tests: customer bases the models did not generate — a handful of
//! customers, everyone new, one buyer in thousands, T from minutes to decades,
//! spend from cents to millions — fit and score without a panic, with every
//! number finite and in range, in bounded time, and with a fit no worse than
//! any point of a grid over the parameter space.

use proptest::prelude::*;
use proptest::test_runner::RngSeed;
use winback_stats::fit::FitOptions;
use winback_stats::models::{bgnbd::BgNbd, mbgnbd::MbgNbd, paretonbd::ParetoNbd, PurchaseModel};

use crate::analysis::{fit_purchase, fit_spend, rfm_data, PurchaseModelKind};
use crate::score::{score, ScoreSettings};
use crate::summary::CustomerSummary;

/// The cases are drawn from a fixed seed so the suite gives the same answer
/// every run (the optimisers still have known weak spots on some bases, noted
/// at the checks); to explore, change it or raise `cases` and run
/// `cargo test --release -p winback-domain --lib properties`: what fails is
/// kept in proptest-regressions/ and replayed first.
const SEED: RngSeed = RngSeed::Fixed(20261203);

/// One customer: (x, where t_x falls in [0, T] as a share, T, mean spend).
fn customer() -> impl Strategy<Value = (u32, f64, f64, f64)> {
    (
        prop_oneof![3 => Just(0u32), 3 => 1u32..5, 2 => 5u32..200, 1 => 1000u32..6000],
        prop_oneof![Just(0.0), Just(1.0), 0.0..=1.0f64],
        prop_oneof![1 => Just(0.0), 1 => 1e-3..1.0f64, 4 => 1.0..400.0f64, 1 => 400.0..20_000.0f64],
        prop_oneof![Just(0.0), 0.01..1.0f64, 1.0..1e3f64, 1e5..1e8f64],
    )
}

fn base(rows: &[(u32, f64, f64, f64)], copies: usize) -> Vec<CustomerSummary> {
    let mut out = Vec::new();
    for _ in 0..copies {
        for &(x, share, t, m) in rows {
            // whole periods, as a daily or weekly log gives them, most of the time
            let t = if t > 1.0 { t.round() } else { t };
            // a repeat purchase is after the first: t_x > 0, so T > 0
            let x = if t > 0.0 { x } else { 0 };
            let tx = if x == 0 { 0.0 } else { (share.max(1e-3) * t).min(t) };
            let i = out.len() as u32;
            out.push(CustomerSummary::from_rfm(i, x, tx, t, if x == 0 { 0.0 } else { m }));
        }
    }
    out
}

fn check_scores(
    model: &(dyn PurchaseModel + Sync),
    spend: Option<&winback_stats::models::gammagamma::GammaGamma>,
    c: &[CustomerSummary],
) -> Result<(), TestCaseError> {
    let s = ScoreSettings { horizon: 52.0, margin: 0.3, annual_discount_rate: 0.1, unit_days: 7.0 };
    for (c, sc) in c.iter().zip(score(model, spend, c, &s)) {
        prop_assert!(sc.p_alive.is_finite() && (0.0..=1.0).contains(&sc.p_alive), "{c:?}: {sc:?}");
        prop_assert!(sc.expected_purchases.is_finite() && sc.expected_purchases >= 0.0, "{c:?}: {sc:?}");
        prop_assert!(sc.value_at_stake.is_finite() && sc.value_at_stake >= 0.0, "{c:?}: {sc:?}");
        for v in [sc.expected_spend, sc.lifetime_value].into_iter().flatten() {
            prop_assert!(v.is_finite() && v >= 0.0, "{c:?}: {sc:?}");
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, rng_seed: SEED, ..ProptestConfig::default() })]

    #[test]
    fn any_base_fits_and_scores_within_range(
        rows in proptest::collection::vec(customer(), 1..40),
        copies in prop_oneof![3 => Just(1usize), 1 => 2usize..50],
    ) {
        let c = base(&rows, copies);
        let opts = FitOptions::default();
        let observed: Vec<&CustomerSummary> = c.iter().filter(|c| c.t > 0.0).collect();
        for kind in [PurchaseModelKind::Bgnbd, PurchaseModelKind::Mbgnbd, PurchaseModelKind::Paretonbd] {
            let t0 = std::time::Instant::now();
            let fitted = match fit_purchase(kind, &c, &opts) {
                Ok(f) => f,
                // a refusal is an answer only with nothing to learn from: no
                // observed customer, or none who bought again
                Err(e) => {
                    prop_assert!(observed.iter().all(|c| c.frequency == 0), "{kind:?} refused {c:?}: {e}");
                    continue;
                }
            };
            let r = &fitted.report;
            prop_assert!(r.log_likelihood.is_finite(), "{kind:?}: {r:?}");
            for (n, v) in &r.params {
                prop_assert!(v.is_finite() && *v > 0.0, "{kind:?} {n} = {v}: {r:?}");
            }
            check_scores(fitted.model.as_ref(), None, &c).map_err(|e| TestCaseError::fail(format!("{e}\n{kind:?}: {r:?}")))?;
            // scoring included: a small base takes milliseconds, never many
            // seconds. Pareto/NBD gets 10 s: where its fit wanders to r → ∞
            // and β → 0 at once (β = 1e-304, s = 1e-3) A0's integrand is
            // nearly flat over ~700 units of ln(τ + β), ~350 pieces a row, and
            // the fit takes ~800 evaluations (2.4 s for six customers on an
            // idle machine, regression file; known and left)
            let limit = if kind == PurchaseModelKind::Paretonbd { 10.0 } else { 2.0 };
            prop_assert!(t0.elapsed().as_secs_f64() < limit, "{kind:?} took {:?} on {} customers", t0.elapsed(), c.len());
            // the maximum is no lower than the likelihood anywhere on a grid
            // of 3⁴ points spanning the parameter space at the data's time
            // scale, nor at (1, 1, 1, 1) (the full model's maximum, when the
            // likelihood-ratio test preferred its limit)
            let data = rfm_data(observed.iter().copied()).expect("observed rows are valid");
            let best = r.edge.as_ref().map_or(r.log_likelihood, |e| e.0.max(r.log_likelihood));
            let scale = observed.iter().map(|c| c.t).sum::<f64>() / observed.len() as f64;
            let shapes = [0.1, 1.0, 10.0];
            let times = [1e-2 * scale, scale, 1e2 * scale];
            // (r, α, a, b) or (r, α, s, β): β is a time scale
            let fourth = if kind == PurchaseModelKind::Paretonbd { times } else { shapes };
            let mut points = vec![[1.0; 4]];
            for r0 in shapes {
                for a0 in times {
                    for s0 in shapes {
                        points.extend(fourth.iter().map(|&t0| [r0, a0, s0, t0]));
                    }
                }
            }
            for [r0, a0, s0, t0] in points {
                let point = match kind {
                    PurchaseModelKind::Bgnbd => BgNbd { r: r0, alpha: a0, a: s0, b: t0 }.log_likelihood(&data),
                    PurchaseModelKind::Mbgnbd => MbgNbd { r: r0, alpha: a0, a: s0, b: t0 }.log_likelihood(&data),
                    PurchaseModelKind::Paretonbd => ParetoNbd { r: r0, alpha: a0, s: s0, beta: t0 }.log_likelihood(&data),
                };
                prop_assert!(!(point > best + 1e-6 * best.abs() + 1e-6), "{kind:?}: LL {best} below {point} at ({r0}, {a0}, {s0}, {t0}): {r:?}");
            }
        }
        if let Ok((gg, report)) = fit_spend(&c, &opts) {
            prop_assert!(report.log_likelihood.is_finite(), "{report:?}");
            prop_assert!(gg.p.is_finite() && gg.q.is_finite() && gg.gamma.is_finite(), "{report:?}");
            if let Ok(m) = fit_purchase(PurchaseModelKind::Bgnbd, &c, &opts) {
                check_scores(m.model.as_ref(), Some(&gg), &c)?;
            }
        }
    }
}

/// The model a fit report describes, its times in units `scale` times as
/// long (α, β in time units, μ per time unit).
fn model_of(r: &crate::analysis::FitReport, scale: f64) -> Box<dyn PurchaseModel> {
    use winback_stats::models::limits::{BgNbdCommon, MbgNbdCommon, ParetoNbdCommon};
    let p = |n: &str| r.param(n).expect("a fitted parameter");
    let (rr, alpha) = (p("r"), p("alpha") / scale);
    match (r.model, r.limit.is_some()) {
        ("bgnbd", false) => Box::new(BgNbd { r: rr, alpha, a: p("a"), b: p("b") }),
        ("mbgnbd", false) => Box::new(MbgNbd { r: rr, alpha, a: p("a"), b: p("b") }),
        ("paretonbd", false) => Box::new(ParetoNbd { r: rr, alpha, s: p("s"), beta: p("beta") / scale }),
        ("bgnbd", true) => Box::new(BgNbdCommon { r: rr, alpha, p: p("p") }),
        ("mbgnbd", true) => Box::new(MbgNbdCommon { r: rr, alpha, p: p("p") }),
        _ => Box::new(ParetoNbdCommon { r: rr, alpha, mu: p("mu") * scale }),
    }
}

fn total(m: &dyn PurchaseModel, c: &[CustomerSummary]) -> f64 {
    c.iter().filter(|c| c.t > 0.0).map(|c| m.log_likelihood_one(f64::from(c.frequency), c.recency, c.t)).sum()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, rng_seed: SEED, ..ProptestConfig::default() })]

    /// The models have no time scale of their own: at a fit's parameters,
    /// the same base in weeks instead of days (α and β a seventh) has a
    /// log-likelihood (a density in the x purchase times) higher by exactly
    /// Σx·ln 7. A likelihood that is rounding noise far out in the parameter
    /// space (a fit once read 24 in days and 192 in weeks there) breaks this;
    /// and the batched sum the fit reports is the per-customer formula's.
    #[test]
    fn likelihoods_do_not_depend_on_the_time_unit(rows in proptest::collection::vec(customer(), 2..30)) {
        let days = base(&rows, 1);
        let weeks: Vec<CustomerSummary> = days
            .iter()
            .map(|c| CustomerSummary::from_rfm(c.customer, c.frequency, c.recency / 7.0, c.t / 7.0, c.monetary_value))
            .collect();
        let sum_x: f64 = days.iter().filter(|c| c.t > 0.0).map(|c| f64::from(c.frequency)).sum();
        let opts = FitOptions { std_errors: false, ..FitOptions::default() };
        for kind in [PurchaseModelKind::Bgnbd, PurchaseModelKind::Mbgnbd, PurchaseModelKind::Paretonbd] {
            for (from, to, scale) in [(&days, &weeks, 7.0), (&weeks, &days, 1.0 / 7.0)] {
                let Ok(f) = fit_purchase(kind, from, &opts) else { continue };
                let here = total(model_of(&f.report, 1.0).as_ref(), from);
                let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * (1.0 + a.abs().max(b.abs()));
                prop_assert!(close(here, f.report.log_likelihood), "{kind:?}: reported {} vs per customer {here}\n{:?}", f.report.log_likelihood, f.report);
                // (a fit run to the float limit, α = 1.8e308, has no image in the other unit)
                let moved = model_of(&f.report, scale);
                if moved.params().iter().any(|(_, v)| !v.is_finite()) {
                    continue;
                }
                let there = total(moved.as_ref(), to);
                let want = here + sum_x * scale.ln();
                prop_assert!(close(there, want), "{kind:?}: {there} in the other unit vs {here} + {} = {want}\n{:?}", sum_x * scale.ln(), f.report);
            }
        }
    }
}
