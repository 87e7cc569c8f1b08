//! Parameter recovery: simulate 100,000 customers from known parameters, fit, and
//! check that each true value lies inside the fit's 95% interval in the large
//! majority of seeds. The parameters of these models are strongly correlated, so
//! when a sample is unusual every parameter misses together; each test therefore
//! also checks that the fit's log-likelihood is at least that of the true
//! parameters on the same sample, which shows a miss is sampling, not the optimiser.

use winback_stats::data::{DiscreteData, RfmData, SpendData, SurvivalData};
use winback_stats::fit::{Fit, FitOptions};
use winback_stats::models::{
    bgbb::BgBb, bgnbd::BgNbd, gammagamma::GammaGamma, mbgnbd::MbgNbd, paretonbd::ParetoNbd, sbg::Sbg,
};
use winback_stats::{models, simulate};

const CUSTOMERS: usize = 100_000;

/// Observation lengths spread like a cohort acquired over 12 weeks and watched for 39.
fn observation_lengths(n: usize) -> Vec<f64> {
    (0..n).map(|i| 27.0 + 12.0 * (i as f64 + 0.5) / n as f64).collect()
}

fn rfm(h: &[simulate::History]) -> RfmData {
    RfmData::new(h.iter().map(|c| (c.x, c.t_x, c.t))).unwrap()
}

/// Count the (seed, parameter) pairs whose 95% interval holds the truth.
fn coverage<P>(
    truth: &[f64],
    seeds: std::ops::Range<u64>,
    run: impl Fn(u64) -> (Fit<P>, Vec<f64>, f64),
) -> (usize, usize) {
    let mut hit = 0;
    let mut total = 0;
    for seed in seeds {
        let (fit, est, ll_truth) = run(seed);
        assert!(fit.converged, "seed {seed}: {}", fit.message);
        assert!(
            fit.log_likelihood >= ll_truth - 1e-6,
            "seed {seed}: LL {} below LL at the truth {ll_truth}",
            fit.log_likelihood
        );
        for (i, &t) in truth.iter().enumerate() {
            let (lo, hi) = fit.interval95(i, est[i]);
            total += 1;
            if lo <= t && t <= hi {
                hit += 1;
            } else {
                println!("seed {seed}: {} = {} outside [{lo:.4}, {hi:.4}]", fit.names[i], t);
            }
        }
    }
    (hit, total)
}

#[track_caller]
fn assert_majority((hit, total): (usize, usize)) {
    assert!(hit as f64 >= 0.8 * total as f64, "only {hit} of {total} intervals cover the truth");
}

#[test]
fn bgnbd_recovers_known_parameters() {
    let truth = BgNbd { r: 0.243, alpha: 4.41, a: 0.793, b: 2.43 };
    let ts = observation_lengths(CUSTOMERS);
    assert_majority(coverage(&[truth.r, truth.alpha, truth.a, truth.b], 0..6, |seed| {
        let data = rfm(&simulate::bgnbd(&truth, &ts, seed));
        let fit = models::bgnbd::fit(&data, &FitOptions::default()).unwrap();
        let p = fit.params;
        (fit, vec![p.r, p.alpha, p.a, p.b], truth.log_likelihood(&data))
    }));
}

#[test]
fn mbgnbd_recovers_known_parameters() {
    let truth = MbgNbd { r: 0.525, alpha: 6.18, a: 0.891, b: 1.61 };
    let ts = observation_lengths(CUSTOMERS);
    assert_majority(coverage(&[truth.r, truth.alpha, truth.a, truth.b], 10..15, |seed| {
        let data = rfm(&simulate::mbgnbd(&truth, &ts, seed));
        let fit = models::mbgnbd::fit(&data, &FitOptions::default()).unwrap();
        let p = fit.params;
        (fit, vec![p.r, p.alpha, p.a, p.b], truth.log_likelihood(&data))
    }));
}

#[test]
fn paretonbd_recovers_known_parameters() {
    let truth = ParetoNbd { r: 0.553, alpha: 10.58, s: 0.606, beta: 11.67 };
    let ts = observation_lengths(CUSTOMERS);
    assert_majority(coverage(&[truth.r, truth.alpha, truth.s, truth.beta], 20..25, |seed| {
        let data = rfm(&simulate::paretonbd(&truth, &ts, seed));
        let fit = models::paretonbd::fit(&data, &FitOptions::default()).unwrap();
        let p = fit.params;
        (fit, vec![p.r, p.alpha, p.s, p.beta], truth.log_likelihood(&data))
    }));
}

#[test]
fn gammagamma_recovers_known_parameters() {
    let truth = GammaGamma { p: 6.25, q: 3.74, gamma: 15.44 };
    let xs: Vec<u32> = (0..CUSTOMERS).map(|i| 1 + (i % 7) as u32).collect();
    assert_majority(coverage(&[truth.p, truth.q, truth.gamma], 30..40, |seed| {
        let z = simulate::gammagamma(&truth, &xs, seed);
        let data = SpendData::new(xs.iter().zip(&z).map(|(&x, &z)| (x as f64, z))).unwrap();
        let fit = models::gammagamma::fit(&data, &FitOptions::default()).unwrap();
        let p = fit.params;
        (fit, vec![p.p, p.q, p.gamma], truth.log_likelihood(&data))
    }));
}

#[test]
fn bgbb_recovers_known_parameters() {
    let truth = BgBb { alpha: 1.204, beta: 0.750, gamma: 0.657, delta: 2.783 };
    assert_majority(coverage(&[truth.alpha, truth.beta, truth.gamma, truth.delta], 40..46, |seed| {
        let h = simulate::bgbb(&truth, CUSTOMERS, 6, seed);
        let data = DiscreteData::weighted(h.into_iter().map(|(x, tx)| (x, tx, 6, 1.0))).unwrap();
        let fit = models::bgbb::fit(&data, &FitOptions::default()).unwrap();
        let p = fit.params;
        (fit, vec![p.alpha, p.beta, p.gamma, p.delta], truth.log_likelihood(&data))
    }));
}

#[test]
fn sbg_recovers_known_parameters() {
    let truth = Sbg { alpha: 0.704, beta: 1.182 };
    assert_majority(coverage(&[truth.alpha, truth.beta], 50..60, |seed| {
        let counts = simulate::sbg(&truth, CUSTOMERS, 7, seed);
        let data = SurvivalData::new(counts).unwrap();
        let fit = models::sbg::fit(&data, &FitOptions::default()).unwrap();
        let p = fit.params;
        (fit, vec![p.alpha, p.beta], truth.log_likelihood(&data))
    }));
}
