//! The engine on a shop whose customers leave because of events (late parcels,
//! unanswered tickets), with a known future: fits reach their limit and say so,
//! `--model auto` compares on a holdout, and the backtest's figures equal a
//! recomputation from the generator's own record of what happened.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use chrono::NaiveDate;
use winback_app::analyze::{self, AnalyzeRequest};
use winback_app::backtest::{self, BacktestRequest, ListScore};
use winback_app::{config, demo};
use winback_domain::analysis::ModelKind;
use winback_domain::business::{generate_with, Churn};
use winback_domain::period::{day_number, Period};

const CUSTOMERS: usize = 1200;
const SEED: u64 = 11;

fn shop(name: &str) -> (demo::Demo, PathBuf) {
    let d = std::env::temp_dir().join(format!("winback-engine-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    let req = demo::DemoRequest { customers: CUSTOMERS, seed: SEED, dir: d.clone(), store: None, churn: Churn::Events };
    (demo::run(&req, &config::load(None).unwrap(), &mut |_| {}).unwrap(), d)
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn request(model: ModelKind) -> AnalyzeRequest {
    AnalyzeRequest {
        model,
        observation_end: None,
        period: Period::Day,
        time_unit: Some(Period::Week),
        horizon: None,
        margin: 1.0,
        discount_rate: 0.1,
    }
}

#[test]
fn event_driven_churn_fits_to_a_named_limit_and_auto_compares_on_a_holdout() {
    let (d, folder) = shop("fit");
    let mut store = winback_store::open(&d.store).unwrap();
    let t0 = std::time::Instant::now();
    let a = analyze::run(store.as_mut(), &request(ModelKind::Bgnbd)).unwrap();
    let secs = t0.elapsed().as_secs_f64();
    let words = a.fit.limit.clone().expect("BG/NBD at its limit on event-driven churn");
    assert!(words.contains("drop-out does not vary between customers"), "{words}");
    let names: Vec<&str> = a.fit.params.iter().map(|p| p.0).collect();
    assert_eq!(names, ["r", "alpha", "p"]);
    assert!(a.fit.params.iter().all(|(_, v)| v.is_finite() && *v > 0.0));
    let p = a.fit.param("p").unwrap();
    assert!(p > 0.01 && p < 0.2, "a few percent leave after each order: {p}");
    assert!(a.fit.converged);
    assert!(secs < 20.0, "fit and score {CUSTOMERS} customers in bounded time: {secs:.1} s");
    // the scores are finite and sensible
    let facts = store.customer_facts().unwrap();
    for f in &facts.customers {
        let s = f.score.expect("everyone scored");
        assert!((0.0..=1.0).contains(&s.p_alive) && s.expected_purchases.is_finite() && s.expected_purchases < 200.0);
    }

    let auto = analyze::run(store.as_mut(), &request(ModelKind::Auto)).unwrap();
    let c = auto.comparison.expect("two years of history are compared");
    assert_eq!(c.models.len(), 3);
    let min = c.models.iter().filter(|m| m.error.is_none()).map(|m| m.rmse).fold(f64::INFINITY, f64::min);
    let best = c.models.iter().find(|m| Some(m.model) == c.best.map(winback_domain::tracking::kind_name)).unwrap();
    assert!(best.rmse <= min * 1.01, "the chosen model's holdout error is the lowest, or within 1% of it");
    assert_eq!(auto.fit.model, best.model, "the chosen model is fitted");
    assert!(c.actual > 0.0);
    for m in &c.models {
        assert!((m.predicted / c.actual - 1.0).abs() < 0.5, "{}: {} vs {}", m.model, m.predicted, c.actual);
    }
    // the run records the comparison for the report
    let runs = store.runs().unwrap();
    assert_eq!(runs.last().map(|r| r.model.as_str()), Some(best.model));
    let _ = std::fs::remove_dir_all(folder);
}

/// Recompute a list's precision and recall from the generator's orders.
fn recount(list: &[String], left: &HashSet<String>) -> (usize, f64, f64) {
    let hits = list.iter().filter(|c| left.contains(*c)).count();
    let precision = if list.is_empty() { 0.0 } else { hits as f64 / list.len() as f64 };
    (hits, precision, hits as f64 / left.len() as f64)
}

fn same(s: &ListScore, (hits, precision, recall): (usize, f64, f64)) {
    assert_eq!(s.hits, hits);
    assert!((s.precision - precision).abs() < 1e-12 && (s.recall - recall).abs() < 1e-12, "{s:?}");
}

#[test]
fn the_backtest_measures_its_lists_against_the_known_future() {
    let (d, folder) = shop("backtest");
    let mut store = winback_store::open(&d.store).unwrap();
    let (as_of, until) = (date(2025, 2, 1), date(2025, 6, 30));
    let b = backtest::run(
        store.as_mut(),
        &config::load(None).unwrap(),
        &BacktestRequest {
            as_of,
            until: Some(until),
            model: ModelKind::Bgnbd,
            period: Period::Day,
            time_unit: Some(Period::Week),
            window_days: 90,
            min_drop: 0.1,
            min_risk: 0.25,
            playbook: None,
        },
    )
    .unwrap();

    // the generator's truth: who bought in (as_of, until], and who bought by as_of
    let truth = generate_with(CUSTOMERS, SEED, Churn::Events);
    let (a, u) = (day_number(as_of), day_number(until));
    let bought_after: HashSet<String> =
        truth.orders.iter().filter(|o| o.amount > 0.0 && o.day > a && o.day <= u).map(|o| o.customer.clone()).collect();
    let known: HashSet<&str> =
        truth.orders.iter().filter(|o| o.amount > 0.0 && o.day <= a).map(|o| o.customer.as_str()).collect();
    assert_eq!(b.customers, known.len(), "customers are those who had bought by the replay day");

    // the at-risk base and who of it left
    let left: HashSet<String> = b.lists.active.iter().filter(|c| !bought_after.contains(*c)).cloned().collect();
    let reported: HashSet<String> = b.lists.left.iter().cloned().collect();
    assert_eq!(reported, left);
    assert_eq!(b.at_risk.base, b.lists.active.len());
    assert_eq!(b.at_risk.left, left.len());
    same(&b.at_risk.rule, recount(&b.lists.at_risk_rule, &left));
    same(&b.at_risk.warning, recount(&b.lists.at_risk_warning, &left));
    let base_rate = left.len() as f64 / b.lists.active.len() as f64;
    assert!((b.at_risk.warning.lift - b.at_risk.warning.precision / base_rate).abs() < 1e-12);
    // most of those counted as gone really had left by then, by the generator's record
    let departed: HashMap<&str, i32> = truth.departures.iter().map(|(c, d, _)| (c.as_str(), *d)).collect();
    let really = left.iter().filter(|c| departed.get(c.as_str()).is_some_and(|d| *d <= u)).count();
    assert!(really as f64 > 0.6 * left.len() as f64, "{really} of {}", left.len());

    // lost customers who came back on their own
    let back = b.lists.lost.iter().filter(|c| bought_after.contains(*c)).count();
    assert_eq!(b.lost.came_back, back);
    assert_eq!(b.lost.by_tier.iter().map(|g| g.count).sum::<usize>(), back);
    assert_eq!(b.lost.by_decision.iter().map(|g| g.customers).sum::<usize>(), b.lost.listed);

    // the early warning beats the first rule where it counts: at 30% recall
    let (w, r) = (
        b.at_risk.warning.at_recall.clone().expect("reaches 30%"),
        b.at_risk.rule.at_recall.clone().expect("reaches 30%"),
    );
    assert!(w.lift > r.lift, "warning {w:?} vs rule {r:?}");
    assert!(w.lift > 1.8, "{w:?}");

    // the model against the purchases made
    assert!(b.purchases.actual > 0.0 && (b.purchases.predicted / b.purchases.actual - 1.0).abs() < 0.5);
    let _ = std::fs::remove_dir_all(folder);
}
