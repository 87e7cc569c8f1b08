//! Published maximum-likelihood estimates, reproduced.

use crate::common::*;
use winback_stats::data::{DiscreteData, SpendData, SurvivalData};
use winback_stats::fit::FitOptions;
use winback_stats::models::{bgbb, bgnbd, gammagamma, mbgnbd, paretonbd, sbg};

#[test]
fn bgnbd_cdnow_matches_fader_hardie_lee_2005() {
    // FHL (2005) "Counting your customers the easy way", §5: r = 0.243, α = 4.414,
    // a = 0.793, b = 2.426, LL = −9582.4.
    let fit = bgnbd::fit(&cdnow_rfm(), &FitOptions::default()).unwrap();
    let m = fit.params;
    println!("{fit:?}");
    assert!(fit.converged, "{}", fit.message);
    assert_3sig(m.r, 0.243, "r");
    assert_3sig(m.alpha, 4.41, "alpha");
    assert_3sig(m.a, 0.793, "a");
    assert_3sig(m.b, 2.43, "b");
    assert!((fit.log_likelihood + 9582.4).abs() < 0.1, "LL {}", fit.log_likelihood);
    assert_eq!(fit.customers, 2357.0);
    assert!(fit.std_errors.iter().all(|s| s.is_finite() && *s > 0.0));
    // Without standard errors: the same estimates bit for bit, NaN errors, 2k
    // fewer evaluations of the likelihood.
    let quick = bgnbd::fit(&cdnow_rfm(), &FitOptions { std_errors: false, ..FitOptions::default() }).unwrap();
    assert_eq!((quick.params.r, quick.params.alpha, quick.params.a, quick.params.b), (m.r, m.alpha, m.a, m.b));
    assert_eq!(quick.log_likelihood, fit.log_likelihood);
    assert!(quick.std_errors.len() == 4 && quick.std_errors.iter().all(|s| s.is_nan()));
}

#[test]
fn paretonbd_cdnow_matches_fader_hardie_lee_2005() {
    // FHL (2005) §5 (and Fader & Hardie's Pareto/NBD note): r = 0.553, α = 10.578,
    // s = 0.606, β = 11.669, LL = −9595.0.
    let fit = paretonbd::fit(&cdnow_rfm(), &FitOptions::default()).unwrap();
    let m = fit.params;
    println!("{fit:?}");
    assert!(fit.converged, "{}", fit.message);
    assert_3sig(m.r, 0.553, "r");
    assert_3sig(m.alpha, 10.6, "alpha");
    assert_3sig(m.s, 0.606, "s");
    assert_3sig(m.beta, 11.7, "beta");
    assert!((fit.log_likelihood + 9595.0).abs() < 0.1, "LL {}", fit.log_likelihood);
}

#[test]
fn mbgnbd_cdnow_matches_batislam_et_al() {
    let fit = mbgnbd::fit(&cdnow_rfm(), &FitOptions::default()).unwrap();
    let m = fit.params;
    println!("{fit:?}");
    assert!(fit.converged, "{}", fit.message);
    assert_3sig(m.r, 0.525, "r");
    assert_3sig(m.alpha, 6.18, "alpha");
    assert_3sig(m.a, 0.891, "a");
    assert_3sig(m.b, 1.61, "b");
}

#[test]
fn gammagamma_cdnow_matches_fader_hardie_2013() {
    // FH (2013) "The Gamma-Gamma model of monetary value": p = 6.25, q = 3.74, γ = 15.44
    // on the 946 repeat customers.
    let (data, skipped) = SpendData::from_customers(cdnow().into_iter().map(|(x, _, _, z)| (x, z))).unwrap();
    assert_eq!(data.customers() as usize + skipped, 2357);
    let fit = gammagamma::fit(&data, &FitOptions::default()).unwrap();
    println!("{fit:?} skipped {skipped}");
    let m = fit.params;
    assert!(fit.converged, "{}", fit.message);
    assert_3sig(m.p, 6.25, "p");
    assert_3sig(m.q, 3.74, "q");
    assert_3sig(m.gamma, 15.4, "gamma");
}

#[test]
fn bgbb_donations_matches_fader_hardie_shang_2010() {
    // FHS (2010) Table 2: α = 1.204, β = 0.750, γ = 0.657, δ = 2.783, LL = −33,225.6.
    let (_, rows) = read_csv("donations.csv");
    let data = DiscreteData::weighted(
        rows.iter()
            .map(|r| (r[0].parse().unwrap(), r[1].parse().unwrap(), r[2].parse().unwrap(), r[3].parse().unwrap())),
    )
    .unwrap();
    assert_eq!(data.customers(), 11104.0);
    let fit = bgbb::fit(&data, &FitOptions::default()).unwrap();
    println!("{fit:?}");
    let m = fit.params;
    assert!(fit.converged, "{}", fit.message);
    assert_3sig(m.alpha, 1.20, "alpha");
    assert_3sig(m.beta, 0.750, "beta");
    assert_3sig(m.gamma, 0.657, "gamma");
    assert_3sig(m.delta, 2.78, "delta");
    assert!((fit.log_likelihood + 33225.6).abs() < 0.1, "LL {}", fit.log_likelihood);
}

#[test]
fn sbg_matches_fader_hardie_2007_both_segments() {
    let (header, rows) = read_csv("sbg_survivors.csv");
    for (col, alpha, beta, ll) in [(1, 0.704, 1.182, -1680.27), (2, 0.668, 3.806, -1611.16)] {
        // Fit on years 0..7, as in the paper.
        let counts: Vec<f64> = rows.iter().take(8).map(|r| r[col].parse().unwrap()).collect();
        let fit = sbg::fit(&SurvivalData::new(counts).unwrap(), &FitOptions::default()).unwrap();
        println!("{} {fit:?}", header[col]);
        assert!(fit.converged);
        assert_3sig(fit.params.alpha, alpha, "alpha");
        assert_3sig(fit.params.beta, beta, "beta");
        assert!((fit.log_likelihood - ll).abs() < 0.05, "LL {}", fit.log_likelihood);
    }
}
