//! Which purchase model predicts this shop best: each candidate is fitted to the
//! first two thirds of the history (the calibration period) and judged on the
//! last third it did not see — the tracking check of Fader, Hardie & Lee (2005),
//! Figs. 2–4 (expected vs actual cumulative repeat purchases in the holdout) and
//! §4.2 (conditional expectations per customer).

use chrono::{Duration, NaiveDate};
use rustc_hash::FxHashSet;
use serde::Serialize;
use winback_stats::fit::FitOptions;

use crate::analysis::{fit_histories, Histories, PurchaseModelKind};
use crate::log::TransactionLog;
use crate::period::{date_of, day_number};
use crate::score::{score_histories, ScoreSettings};
use crate::summary::{summarise, SummaryOptions};

/// One candidate's showing on the holdout.
#[derive(Debug, Clone, Serialize)]
pub struct ModelTrack {
    pub model: &'static str,
    /// The parameters fitted on the calibration period.
    pub params: Vec<(&'static str, f64)>,
    /// The limit the fit reached, in words (see `analysis`).
    pub limit: Option<String>,
    pub log_likelihood: f64,
    pub bic: f64,
    /// Repeat purchases in the holdout: expected by the model, summed over customers.
    pub predicted: f64,
    /// Mean absolute error per customer, and root mean squared error.
    pub mae: f64,
    pub rmse: f64,
    /// Expected cumulative repeat purchases at each holdout point (`Comparison::points`).
    pub curve: Vec<f64>,
    /// Why the model could not be fitted, when it could not.
    pub error: Option<String>,
}

/// The candidates side by side.
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    #[serde(serialize_with = "iso")]
    pub calibration_end: NaiveDate,
    #[serde(serialize_with = "iso")]
    pub observation_end: NaiveDate,
    /// Customers first seen by the calibration end: those the check is about.
    pub customers: usize,
    /// Repeat purchases they made in the holdout.
    pub actual: f64,
    /// Holdout points in time units after the calibration end, and the actual
    /// cumulative repeat purchases at each.
    pub points: Vec<f64>,
    pub actual_curve: Vec<f64>,
    pub models: Vec<ModelTrack>,
    /// Lowest root mean squared error per customer (within 1%, the cheapest
    /// model); `None` when no candidate could be fitted or too few customers
    /// took part to tell the models apart (see `undecided`).
    pub best: Option<PurchaseModelKind>,
    /// Why no model was chosen although some could be fitted, in words.
    pub undecided: Option<String>,
    /// The check runs on every `sample`-th customer (1 = everyone), to bound its
    /// cost on very large bases; `customers` and the counts are of that sample.
    pub sample: usize,
    pub time_unit: &'static str,
    /// Length of the holdout in time units.
    pub holdout: f64,
}

fn iso<S: serde::Serializer>(d: &NaiveDate, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(d)
}

/// The models `--model auto` chooses among.
pub const CANDIDATES: [PurchaseModelKind; 3] =
    [PurchaseModelKind::Bgnbd, PurchaseModelKind::Paretonbd, PurchaseModelKind::Mbgnbd];

/// The model to fit: the one asked for, or with `Auto` the comparison's best
/// (BG/NBD when there is too little history to compare).
pub fn choose(asked: crate::analysis::ModelKind, comparison: Option<&Comparison>) -> Option<PurchaseModelKind> {
    match asked {
        crate::analysis::ModelKind::Auto => Some(comparison.and_then(|c| c.best).unwrap_or(PurchaseModelKind::Bgnbd)),
        other => other.purchase(),
    }
}

/// Too little history to split: fewer than this many time units in all.
const MIN_UNITS: f64 = 6.0;
/// At most this many points on the tracking curve.
const MAX_POINTS: usize = 40;
/// Customers the check runs on; larger bases are thinned to about this many.
const CHECK_CUSTOMERS: usize = 20_000;
/// Fewer customers than this in the check say nothing about which model is
/// better (a handful of histories can be fitted by anything): the default is used.
const MIN_JUDGED: usize = 30;

/// Compare `kinds` on a calibration/holdout split of `log` up to `opts.observation_end`.
/// `None` when the history is too short to split (under six time units, or no
/// repeat purchase in the calibration period).
pub fn compare(log: &TransactionLog, opts: &SummaryOptions, kinds: &[PurchaseModelKind]) -> Option<Comparison> {
    let first = log.day.iter().copied().min()?;
    let obs_end = day_number(opts.observation_end);
    let unit = opts.time_unit.unwrap_or(opts.period);
    let period = opts.period;
    let span_units = f64::from(obs_end - first) / unit.days();
    if span_units < MIN_UNITS {
        return None;
    }
    // the last third, in whole periods
    let holdout_periods = ((f64::from(obs_end - first) / 3.0 / period.days()).round() as i32).max(1);
    let cal_end = opts.observation_end - Duration::days(i64::from(holdout_periods) * period.days() as i64);
    let cal_opts = SummaryOptions { calibration_end: Some(cal_end), ..*opts };
    let mut summary = summarise(log, &cal_opts).ok()?;
    let sample = summary.customers.len().div_ceil(CHECK_CUSTOMERS).max(1);
    if sample > 1 {
        summary.customers = summary.customers.iter().step_by(sample).copied().collect();
    }
    if summary.customers.iter().all(|c| c.frequency == 0) {
        return None;
    }
    let scale = period.days() / unit.days();
    let cal_period = period.index(day_number(cal_end));
    let obs_period = period.index(obs_end);
    let n_periods = (obs_period - cal_period).max(1);
    let step = (n_periods as usize).div_ceil(MAX_POINTS).max(1) as i32;
    let marks: Vec<i32> = (1..=n_periods).filter(|j| j % step == 0 || *j == n_periods).collect();
    let points: Vec<f64> = marks.iter().map(|&j| f64::from(j) * scale).collect();

    // actual: repeat periods after the calibration end, of the calibration customers
    let in_cal: FxHashSet<u32> = summary.customers.iter().map(|c| c.customer).collect();
    let mut seen: FxHashSet<(u32, i32)> = FxHashSet::default();
    let mut per_period = vec![0.0; n_periods as usize + 1];
    for i in 0..log.len() {
        let (c, d) = (log.customer[i], log.day[i]);
        let refund = log.amount.as_ref().is_some_and(|a| a[i] < 0.0);
        let p = period.index(d);
        if refund || p <= cal_period || p > obs_period || !in_cal.contains(&c) || !seen.insert((c, p)) {
            continue;
        }
        per_period[(p - cal_period) as usize] += 1.0;
    }
    let mut cumulative = Vec::with_capacity(per_period.len());
    let mut acc = 0.0;
    for v in &per_period {
        acc += v;
        cumulative.push(acc);
    }
    let actual_curve: Vec<f64> = marks.iter().map(|&j| cumulative[j as usize]).collect();
    let actual = acc;

    let n = summary.customers.len();
    let horizon = summary.holdout_length;
    let settings =
        |h: f64| ScoreSettings { horizon: h, margin: 1.0, annual_discount_rate: 0.0, unit_days: unit.days() };
    let mut models = Vec::new();
    // found once for every fit and every score below
    let histories = Histories::of(&summary.customers);
    let score = |m: &(dyn winback_stats::models::PurchaseModel + Sync), s: &ScoreSettings| {
        score_histories(m, None, &summary.customers, &histories, s)
    };
    for &kind in kinds {
        let name = kind_name(kind);
        let fitted = match fit_histories(kind, &summary.customers, &histories, &FitOptions::default()) {
            Ok(f) => f,
            Err(e) => {
                models.push(ModelTrack {
                    model: name,
                    params: vec![],
                    limit: None,
                    log_likelihood: f64::NAN,
                    bic: f64::NAN,
                    predicted: f64::NAN,
                    mae: f64::NAN,
                    rmse: f64::NAN,
                    curve: vec![],
                    error: Some(e.to_string()),
                });
                continue;
            }
        };
        let m = fitted.model.as_ref();
        let scores = score(m, &settings(horizon));
        let (mut predicted, mut abs, mut sq) = (0.0, 0.0, 0.0);
        for (c, s) in summary.customers.iter().zip(&scores) {
            let e = s.expected_purchases - f64::from(c.holdout_frequency);
            predicted += s.expected_purchases;
            abs += e.abs();
            sq += e * e;
        }
        let curve =
            points.iter().map(|&t| score(m, &settings(t)).iter().map(|s| s.expected_purchases).sum::<f64>()).collect();
        models.push(ModelTrack {
            model: name,
            params: fitted.report.params.clone(),
            limit: fitted.report.limit.clone(),
            log_likelihood: fitted.report.log_likelihood,
            bic: fitted.report.bic,
            predicted,
            mae: abs / n as f64,
            rmse: (sq / n as f64).sqrt(),
            curve,
            error: None,
        });
    }
    // The models predict conditional means, and the mean is what squared error
    // rewards (absolute error rewards the median, which for counts that are
    // mostly zero favours whichever model predicts least): the lowest RMSE wins.
    // Within 1% of it counts as a tie, and ties go to the cheaper model (BG/NBD,
    // MBG/NBD, then Pareto/NBD, whose fit costs several times theirs).
    let min = models.iter().filter(|m| m.error.is_none()).map(|m| m.rmse).fold(f64::INFINITY, f64::min);
    let cost = |k: &PurchaseModelKind| match k {
        PurchaseModelKind::Bgnbd => 0,
        PurchaseModelKind::Mbgnbd => 1,
        PurchaseModelKind::Paretonbd => 2,
    };
    let best = kinds
        .iter()
        .zip(&models)
        .filter(|(_, m)| m.error.is_none() && m.rmse.is_finite() && m.rmse <= min * 1.01)
        .min_by_key(|(k, _)| cost(k))
        .map(|(k, _)| *k);
    let (best, undecided) = match best {
        Some(_) if n < MIN_JUDGED => (
            None,
            Some(format!(
                "only {n} customer{} had bought by the calibration end: too few to tell the models apart, so BG/NBD is used",
                if n == 1 { "" } else { "s" }
            )),
        ),
        b => (b, None),
    };
    Some(Comparison {
        calibration_end: cal_end,
        observation_end: date_of(obs_end),
        customers: n,
        actual,
        points,
        actual_curve,
        models,
        best,
        undecided,
        sample,
        time_unit: unit.name(),
        holdout: horizon,
    })
}

pub fn kind_name(kind: PurchaseModelKind) -> &'static str {
    match kind {
        PurchaseModelKind::Bgnbd => "bgnbd",
        PurchaseModelKind::Paretonbd => "paretonbd",
        PurchaseModelKind::Mbgnbd => "mbgnbd",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::business::{generate_with, Churn};
    use crate::log::CustomerIds;
    use crate::period::Period;

    fn log_of(b: &crate::business::Business) -> TransactionLog {
        let mut ids = CustomerIds::new();
        let mut index = std::collections::HashMap::new();
        let mut log = TransactionLog { ids: CustomerIds::new(), customer: vec![], day: vec![], amount: Some(vec![]) };
        for o in &b.orders {
            let k = *index.entry(o.customer.clone()).or_insert_with(|| {
                ids.push(&o.customer);
                ids.len() as u32 - 1
            });
            log.customer.push(k);
            log.day.push(o.day);
            if let Some(a) = log.amount.as_mut() {
                a.push(o.amount);
            }
        }
        log.ids = ids;
        log
    }

    #[test]
    fn compares_on_the_last_third_and_the_actual_curve_adds_up() {
        let b = generate_with(800, 5, Churn::Mixed);
        let log = log_of(&b);
        let opts = SummaryOptions {
            period: Period::Day,
            time_unit: Some(Period::Week),
            observation_end: b.end,
            calibration_end: None,
        };
        let kinds = [PurchaseModelKind::Bgnbd, PurchaseModelKind::Mbgnbd];
        let c = compare(&log, &opts, &kinds).expect("long enough");
        // two years: the holdout is the last 243 or 244 days
        assert!((c.observation_end - c.calibration_end).num_days().abs_diff(243) <= 1);
        let holdout: u32 = summarise(&log, &SummaryOptions { calibration_end: Some(c.calibration_end), ..opts })
            .expect("summary")
            .customers
            .iter()
            .map(|c| c.holdout_frequency)
            .sum();
        assert_eq!(c.actual, f64::from(holdout));
        assert_eq!(c.actual_curve.last().copied(), Some(c.actual));
        assert!(c.actual_curve.windows(2).all(|w| w[0] <= w[1]));
        assert_eq!(c.points.len(), c.actual_curve.len());
        for m in &c.models {
            assert!(m.error.is_none(), "{:?}", m.error);
            assert_eq!(m.curve.len(), c.points.len());
            assert!(m.curve.windows(2).all(|w| w[0] <= w[1] + 1e-9));
            // the curve ends at the summed per-customer expectation
            assert!((m.curve.last().copied().unwrap_or(0.0) - m.predicted).abs() < 1e-6 * m.predicted.max(1.0));
            assert!(m.mae > 0.0 && m.mae.is_finite() && m.rmse >= m.mae);
            // a fair model predicts the holdout within a third
            assert!((m.predicted / c.actual - 1.0).abs() < 0.33, "{} {} vs {}", m.model, m.predicted, c.actual);
        }
        let best = c.best.expect("a best model");
        let min = c.models.iter().map(|m| m.rmse).fold(f64::INFINITY, f64::min);
        let chosen = c.models.iter().find(|m| m.model == kind_name(best)).map(|m| m.rmse).unwrap_or(f64::NAN);
        assert!(chosen <= min * 1.01, "{chosen} vs {min}");
    }

    #[test]
    fn too_short_a_history_is_not_split() {
        let mut ids = CustomerIds::new();
        ids.push("a");
        let log = TransactionLog { ids, customer: vec![0, 0], day: vec![100, 110], amount: None };
        let opts = SummaryOptions {
            period: Period::Day,
            time_unit: Some(Period::Week),
            observation_end: date_of(120),
            calibration_end: None,
        };
        assert!(compare(&log, &opts, &[PurchaseModelKind::Bgnbd]).is_none());
    }

    /// A handful of customers can be fitted by any model: the check reports the
    /// fits but chooses none, says why, and `auto` falls back to BG/NBD.
    #[test]
    fn a_handful_of_customers_decide_nothing() {
        let b = generate_with(800, 5, Churn::Mixed);
        let full = log_of(&b);
        // the first six customers only
        let keep: Vec<usize> = (0..full.len()).filter(|&i| full.customer[i] < 6).collect();
        let log = TransactionLog {
            ids: (0..6).map(|i| full.ids[i].to_string()).collect(),
            customer: keep.iter().map(|&i| full.customer[i]).collect(),
            day: keep.iter().map(|&i| full.day[i]).collect(),
            amount: None,
        };
        let opts = SummaryOptions {
            period: Period::Day,
            time_unit: Some(Period::Week),
            observation_end: b.end,
            calibration_end: None,
        };
        let c = compare(&log, &opts, &CANDIDATES).expect("two years of history with repeat purchases");
        assert!(c.customers < MIN_JUDGED);
        assert_eq!(c.best, None);
        assert!(c.undecided.as_deref().is_some_and(|w| w.contains("too few")), "{:?}", c.undecided);
        assert_eq!(choose(crate::analysis::ModelKind::Auto, Some(&c)), Some(PurchaseModelKind::Bgnbd));
    }
}
