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

criterion_group!(benches, fits);
criterion_main!(benches);
