//! In-process timings of the hot paths: fitting on CDNOW and on 100,000 simulated
//! customers, and per-customer predictions. The comparison with lifetimes (same
//! data, same machine) is `bench/run.sh`.

use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;
use winback_stats::data::{RfmData, SpendData};
use winback_stats::fit::FitOptions;
use winback_stats::models::{bgnbd, gammagamma, mbgnbd, paretonbd, PurchaseModel};
use winback_stats::simulate;
use winback_stats::special::ln_hyp2f1;

fn cdnow() -> Vec<(f64, f64, f64, f64)> {
    let path = format!("{}/../../tests/data/cdnow_customers_summary_with_transactions.csv", env!("CARGO_MANIFEST_DIR"));
    let mut rdr = csv::Reader::from_path(path).expect("test data present");
    rdr.records()
        .map(|r| {
            let r = r.expect("row");
            let f = |i: usize| r[i].parse::<f64>().expect("number");
            (f(1), f(2), f(3), f(4))
        })
        .collect()
}

fn fits(c: &mut Criterion) {
    let rows = cdnow();
    let rfm = RfmData::new(rows.iter().map(|r| (r.0, r.1, r.2))).unwrap();
    let spend = SpendData::from_customers(rows.iter().map(|r| (r.0, r.3))).unwrap().0;
    let o = FitOptions::default();
    let mut g = c.benchmark_group("fit_cdnow");
    g.bench_function("bgnbd", |b| b.iter(|| bgnbd::fit(black_box(&rfm), &o).unwrap()));
    g.bench_function("mbgnbd", |b| b.iter(|| mbgnbd::fit(black_box(&rfm), &o).unwrap()));
    g.bench_function("paretonbd", |b| b.iter(|| paretonbd::fit(black_box(&rfm), &o).unwrap()));
    g.bench_function("gammagamma", |b| b.iter(|| gammagamma::fit(black_box(&spend), &o).unwrap()));
    g.finish();

    // 100,000 customers observed 27..39 weeks: continuous T, so ~all rows distinct.
    let truth = bgnbd::BgNbd { r: 0.243, alpha: 4.41, a: 0.793, b: 2.43 };
    let ts: Vec<f64> = (0..100_000).map(|i| 27.0 + 12.0 * (i as f64 + 0.5) / 1e5).collect();
    let h = simulate::bgnbd(&truth, &ts, 1);
    let big = RfmData::new(h.iter().map(|c| (c.x, c.t_x, c.t))).unwrap();
    let mut g = c.benchmark_group("fit_100k");
    g.sample_size(10);
    g.bench_function("bgnbd", |b| b.iter(|| bgnbd::fit(black_box(&big), &o).unwrap()));
    g.finish();

    let mut g = c.benchmark_group("predict_cdnow");
    let m = bgnbd::fit(&rfm, &o).unwrap().params;
    g.bench_function("bgnbd_prob_alive_and_expected_39", |b| {
        b.iter(|| {
            rows.iter().map(|r| m.prob_alive(r.0, r.1, r.2) + m.expected_purchases(39.0, r.0, r.1, r.2)).sum::<f64>()
        })
    });
    let p = paretonbd::fit(&rfm, &o).unwrap().params;
    g.bench_function("paretonbd_prob_alive_and_expected_39", |b| {
        b.iter(|| {
            rows.iter().map(|r| p.prob_alive(r.0, r.1, r.2) + p.expected_purchases(39.0, r.0, r.1, r.2)).sum::<f64>()
        })
    });
    g.bench_function("hyp2f1_near_one", |b| b.iter(|| ln_hyp2f1(black_box(10.2), 3.4, 15.3, black_box(0.97)).unwrap()));
    g.finish();
}

/// The likelihoods the fits evaluate, on 200,000 customers with daily periods
/// (T and t_x whole days, as a shop's log gives): every history nearly distinct,
/// but only a few hundred distinct T and t_x values, which the likelihoods
/// exploit. Fits on the same data show what the analytic gradients buy.
fn likelihoods(c: &mut Criterion) {
    let n = 200_000;
    let ts: Vec<f64> = (0..n).map(|i| (281 + (i * 84) / n) as f64).collect();
    let days = |h: &[simulate::History]| {
        RfmData::new(h.iter().map(|c| (c.x, if c.x > 0.0 { c.t_x.floor().max(1.0) } else { 0.0 }, c.t))).unwrap()
    };
    // CDNOW's estimates with time in days
    let bg_truth = bgnbd::BgNbd { r: 0.243, alpha: 4.41 * 7.0, a: 0.793, b: 2.43 };
    let pn_truth = paretonbd::ParetoNbd { r: 0.553, alpha: 10.58 * 7.0, s: 0.606, beta: 11.67 * 7.0 };
    let bg = days(&simulate::bgnbd(&bg_truth, &ts, 3));
    let pn = days(&simulate::paretonbd(&pn_truth, &ts, 4));
    let o = FitOptions::default();
    let mut g = c.benchmark_group("likelihood_200k_daily");
    g.sample_size(20);
    g.bench_function("bgnbd_value", |b| b.iter(|| black_box(&bg_truth).log_likelihood(black_box(&bg))));
    g.bench_function("paretonbd_value", |b| b.iter(|| black_box(&pn_truth).log_likelihood(black_box(&pn))));
    g.bench_function("bgnbd_fit", |b| b.iter(|| bgnbd::fit(black_box(&bg), &o).unwrap()));
    g.bench_function("paretonbd_fit", |b| b.iter(|| paretonbd::fit(black_box(&pn), &o).unwrap()));
    g.finish();
}

criterion_group!(benches, fits, likelihoods);
criterion_main!(benches);
