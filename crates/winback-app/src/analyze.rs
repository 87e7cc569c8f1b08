//! Analysing the store: summarise every customer's purchases, fit the purchase
//! model (and Gamma-Gamma spend when there are amounts), score every customer
//! and record the run.

use chrono::NaiveDate;
use serde::Serialize;
use serde_json::{json, Map, Value};
use winback_domain::analysis::{fit_histories, fit_spend, FitReport, Histories, ModelKind};
use winback_domain::period::{date_of, day_number, Period};
use winback_domain::score::{score_histories, ScoreSettings};
use winback_domain::summary::{summarise, SummaryOptions};
use winback_domain::tracking::{choose, compare, Comparison, CANDIDATES};
use winback_store::{NewRun, ScoreRow, Store};

use crate::{AppError, Result};

/// What to fit, and over which period.
#[derive(Debug, Clone)]
pub struct AnalyzeRequest {
    pub model: ModelKind,
    /// Last day observed; `None`: the last stored transaction.
    pub observation_end: Option<NaiveDate>,
    pub period: Period,
    pub time_unit: Option<Period>,
    /// Prediction horizon in time units; `None`: one year.
    pub horizon: Option<f64>,
    pub margin: f64,
    pub discount_rate: f64,
}

/// A recorded analysis run.
#[derive(Debug, Clone, Serialize)]
pub struct Analysis {
    pub id: i64,
    #[serde(serialize_with = "iso")]
    pub end: NaiveDate,
    pub customers: usize,
    /// Customers with P(alive) below 0.5.
    pub lost: usize,
    /// Refunds left out of the purchases.
    pub returns: usize,
    pub fit: FitReport,
    pub spend: Option<FitReport>,
    /// What the user should know (a spend model that did not converge…).
    pub notes: Vec<String>,
    /// With `--model auto`: how the candidates did on a holdout of the history.
    pub comparison: Option<Comparison>,
}

fn iso<S: serde::Serializer>(d: &NaiveDate, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.collect_str(d)
}

fn invalid(message: impl Into<String>) -> AppError {
    AppError::Invalid(message.into())
}

/// Fit, score and record a run.
pub fn run(store: &mut dyn Store, a: &AnalyzeRequest) -> Result<Analysis> {
    if a.model.purchase().is_none() && a.model != ModelKind::Auto {
        return Err(invalid("analyze fits a purchase model: auto, bgnbd, paretonbd or mbgnbd"));
    }
    let t0 = std::time::Instant::now();
    let stored = store.transaction_log()?;
    tracing::info!(rows = stored.log.len(), secs = t0.elapsed().as_secs_f64(), "transactions loaded");
    if stored.log.is_empty() {
        return Err(invalid("the store has no purchases yet: run `winback import transactions FILE` first"));
    }
    let mut notes = Vec::new();
    let latest = stored.log.day.iter().copied().max().unwrap_or_default();
    let today = crate::campaigns::today();
    // one mistyped year (2099 for 2019) would date the analysis there and call
    // everyone lost: the default end is the last purchase up to today (a day
    // ahead is a time zone, not a typo)
    let until_today = stored.log.day.iter().copied().filter(|&d| d <= today + 1).max();
    let end = match (a.observation_end, until_today) {
        (Some(end), _) => end,
        (None, Some(last)) if last < latest => {
            let later = stored.log.day.iter().filter(|&&d| d > last).count();
            notes.push(format!(
                "{later} purchase{} dated after today (the latest {}): the analysis runs as of the last purchase before, {}, without {}; fix their dates, or pass --observation-end to include them",
                if later == 1 { " is" } else { "s are" },
                date_of(latest),
                date_of(last),
                if later == 1 { "it" } else { "them" }
            ));
            date_of(last)
        }
        _ => date_of(latest),
    };
    let opts = SummaryOptions { period: a.period, time_unit: a.time_unit, observation_end: end, calibration_end: None };
    let summary = summarise(&stored.log, &opts).map_err(|e| invalid(e.to_string()))?;
    let comparison = match a.model {
        ModelKind::Auto => {
            let c = compare(&stored.log, &opts, &CANDIDATES);
            tracing::info!(secs = t0.elapsed().as_secs_f64(), "models compared");
            c
        }
        _ => None,
    };
    let kind = choose(a.model, comparison.as_ref()).ok_or_else(|| invalid("no purchase model to fit"))?;
    tracing::info!(customers = summary.customers.len(), secs = t0.elapsed().as_secs_f64(), "summarised");
    let fit_opts = winback_stats::fit::FitOptions::default();
    // the distinct histories, found once for the fit and the scores
    let histories = Histories::of(&summary.customers);
    let fitted = fit_histories(kind, &summary.customers, &histories, &fit_opts).map_err(|e| invalid(e.to_string()))?;
    let spend = match stored.log.amount {
        Some(_) => match fit_spend(&summary.customers, &fit_opts) {
            Ok(s) if !s.1.converged => {
                notes.push(format!(
                    "the Gamma-Gamma spend model did not converge ({}); expected spend falls back to each customer's own mean",
                    s.1.message
                ));
                None
            }
            Ok(s) => Some(s),
            Err(e) => {
                notes.push(format!("no spend model ({e})"));
                None
            }
        },
        None => None,
    };
    let unit = summary.time_unit;
    let horizon = a.horizon.unwrap_or((365.0 / unit.days()).round());
    let settings =
        ScoreSettings { horizon, margin: a.margin, annual_discount_rate: a.discount_rate, unit_days: unit.days() };
    let scores =
        score_histories(fitted.model.as_ref(), spend.as_ref().map(|s| &s.0), &summary.customers, &histories, &settings);
    let rows: Vec<ScoreRow> = summary
        .customers
        .iter()
        .zip(&scores)
        .map(|(c, s)| ScoreRow {
            customer_id: stored.customer_ids[c.customer as usize],
            frequency: i64::from(c.frequency),
            recency: c.recency,
            t: c.t,
            monetary_value: c.monetary_value,
            p_alive: s.p_alive,
            expected_purchases: s.expected_purchases,
            expected_spend: s.expected_spend,
            lifetime_value: s.lifetime_value,
            value_at_stake: s.value_at_stake,
        })
        .collect();
    let mut params = fit_json(&fitted.report);
    if let (Some(c), Some(m)) = (&comparison, params.as_object_mut()) {
        m.insert("selection".into(), serde_json::to_value(c).unwrap_or(Value::Null));
    }
    let run = NewRun {
        model: fitted.report.model.into(),
        params: params.to_string(),
        spend_params: spend.as_ref().map(|s| fit_json(&s.1).to_string()),
        log_likelihood: fitted.report.log_likelihood,
        customers: rows.len() as i64,
        converged: fitted.report.converged,
        period: a.period.name().into(),
        time_unit: unit.name().into(),
        observation_end: day_number(end),
        horizon,
    };
    tracing::info!(secs = t0.elapsed().as_secs_f64(), "fitted and scored");
    let id = store.save_run(&run, &rows)?;
    tracing::info!(secs = t0.elapsed().as_secs_f64(), "run saved");
    let lost = scores.iter().filter(|s| s.p_alive < 0.5).count();
    Ok(Analysis {
        id,
        end,
        customers: rows.len(),
        lost,
        returns: stored.returns,
        fit: fitted.report,
        spend: spend.map(|s| s.1),
        notes,
        comparison,
    })
}

fn num(v: f64) -> Value {
    serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number)
}

/// The fit as one JSON object with named parameters (also how runs store it).
pub fn fit_json(r: &FitReport) -> Value {
    let params: Map<String, Value> = r.params.iter().map(|(n, v)| (n.to_string(), num(*v))).collect();
    let se: Map<String, Value> =
        r.params.iter().zip(&r.std_errors).map(|((n, _), s)| (n.to_string(), num(*s))).collect();
    let ci: Map<String, Value> = r
        .params
        .iter()
        .zip(&r.intervals)
        .map(|((n, _), (lo, hi))| (n.to_string(), json!([num(*lo), num(*hi)])))
        .collect();
    let mut o = json!({
        "model": r.model,
        "params": params,
        "std_errors": se,
        "interval95": ci,
        "log_likelihood": num(r.log_likelihood),
        "customers": num(r.customers),
        "aic": num(r.aic),
        "bic": num(r.bic),
        "converged": r.converged,
        "iterations": r.iterations,
        "evaluations": r.evaluations,
        "starts": r.starts,
        "message": r.message,
    });
    if let Some(m) = o.as_object_mut() {
        if let Some((n, why)) = r.excluded {
            m.insert("excluded".into(), json!({"rows": n, "reason": why}));
        }
        if let Some(words) = &r.limit {
            m.insert("limit".into(), json!(words));
        }
        if let Some(lambda) = r.common_rate {
            m.insert("common_purchase_rate".into(), num(lambda));
        }
        if let Some(words) = &r.caution {
            m.insert("caution".into(), json!(words));
        }
        if let Some((ll, params)) = &r.edge {
            let p: Map<String, Value> = params.iter().map(|(n, v)| (n.to_string(), num(*v))).collect();
            m.insert("full_model_at_edge".into(), json!({"log_likelihood": num(*ll), "params": p}));
        }
    }
    o
}
