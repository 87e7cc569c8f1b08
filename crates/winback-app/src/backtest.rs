//! How far to trust the lists, on the shop's own history: replay the store as
//! it was on a past day (the transactions, touchpoints and reasons known then;
//! causes fixed later count as not yet fixed), build the `lost`, decision and
//! at-risk lists as they would have been, and measure them against what the
//! customers did afterwards.
//!
//! The outcome is observed, not modelled: a customer "came back" or "stayed" if
//! they bought at least once after the replay day, up to `until`; "left"
//! otherwise. Over a window of a few months that is what a shop can check.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

use chrono::NaiveDate;
use serde::Serialize;
use winback_domain::analysis::{fit_histories, fit_spend, Histories, ModelKind};
use winback_domain::assess::{assess, Settings};
use winback_domain::causes::CauseStatus;
use winback_domain::decision::tier_cutoffs;
use winback_domain::facts::LatestScore;
use winback_domain::log::TransactionLog;
use winback_domain::period::{date_of, day_number, Period};
use winback_domain::score::{score, score_histories, CustomerScore, ScoreSettings};
use winback_domain::status::Status;
use winback_domain::summary::{summarise, Summary, SummaryOptions};
use winback_domain::tracking::{choose, compare, CANDIDATES};
use winback_store::Store;

use crate::campaigns::load_playbook;
use crate::config::Config;
use crate::outcomes::{at_risk_rule, tier_of, AtRiskRequest, RiskInput};
use crate::{AppError, Result};

/// What to replay.
#[derive(Debug, Clone)]
pub struct BacktestRequest<'a> {
    pub as_of: NaiveDate,
    /// The end of the outcome window; `None`: the last stored transaction.
    pub until: Option<NaiveDate>,
    pub model: ModelKind,
    pub period: Period,
    pub time_unit: Option<Period>,
    /// Touchpoints in this many days before the replay day count (and P(alive)
    /// is compared with its value this many days earlier).
    pub window_days: i32,
    /// The at-risk rule's P(alive) fall.
    pub min_drop: f64,
    /// The early warning lists customers from this risk up.
    pub min_risk: f64,
    pub playbook: Option<&'a Path>,
}

/// A list measured against who left: `hits` of the `listed` left.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ListScore {
    pub listed: usize,
    pub hits: usize,
    pub precision: f64,
    pub recall: f64,
    /// Precision over the base rate.
    pub lift: f64,
    /// The shortest head of the list (in its order) that finds this share of
    /// those who left, when the list gets that far.
    pub at_recall: Option<Cut>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Cut {
    pub recall_target: f64,
    pub listed: usize,
    pub precision: f64,
    pub recall: f64,
    pub lift: f64,
}

/// Customers of one group and how many of them did the thing counted.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Group {
    pub group: String,
    pub customers: usize,
    pub count: usize,
    pub rate: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct LostCheck {
    /// Lapsed, lost and churned customers on the replay day.
    pub listed: usize,
    /// Of them, bought again by `until` without being asked.
    pub came_back: usize,
    pub rate: f64,
    pub by_tier: Vec<Group>,
    /// Per decision: how many came back on their own (a win-back offer to them
    /// would have been spent on someone who was coming back anyway).
    pub by_decision: Vec<Group>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AtRiskCheck {
    /// Active and at-risk customers on the replay day, and those of them who left.
    pub base: usize,
    pub left: usize,
    pub base_rate: f64,
    /// `winback at-risk`'s rule (P(alive) fall, a touchpoint of an open cause).
    pub rule: ListScore,
    pub rule_by_reason: Vec<Group>,
    /// The early warning (`winback at-risk --rank risk`).
    pub warning: ListScore,
    pub warning_by_reason: Vec<Group>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PurchaseCheck {
    pub model: &'static str,
    pub limit: Option<String>,
    pub customers: usize,
    /// Repeat purchases after the replay day up to `until`: expected and made.
    pub predicted: f64,
    pub actual: f64,
    /// Mean absolute error per customer.
    pub mae: f64,
}

/// The lists as they were, and how they did.
#[derive(Debug, Clone, Serialize)]
pub struct Backtest {
    #[serde(serialize_with = "iso")]
    pub as_of: NaiveDate,
    #[serde(serialize_with = "iso")]
    pub until: NaiveDate,
    pub days: i64,
    /// Customers with a purchase by the replay day.
    pub customers: usize,
    pub lost: LostCheck,
    pub at_risk: AtRiskCheck,
    pub purchases: PurchaseCheck,
    /// The lists themselves (customer ids in list order), for a closer look.
    pub lists: Lists,
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Default)]
pub struct Lists {
    pub lost: Vec<String>,
    pub at_risk_rule: Vec<String>,
    pub at_risk_warning: Vec<String>,
    /// Active (or at risk) on the replay day: the at-risk lists' base.
    pub active: Vec<String>,
    /// Of them, no purchase after it.
    pub left: Vec<String>,
}

fn iso<S: serde::Serializer>(d: &NaiveDate, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.collect_str(d)
}

fn invalid(m: impl Into<String>) -> AppError {
    AppError::Invalid(m.into())
}

/// The log's rows up to `day`.
fn until_day(log: &TransactionLog, day: i32) -> TransactionLog {
    let keep: Vec<usize> = (0..log.len()).filter(|&i| log.day[i] <= day).collect();
    TransactionLog {
        ids: log.ids.clone(),
        customer: keep.iter().map(|&i| log.customer[i]).collect(),
        day: keep.iter().map(|&i| log.day[i]).collect(),
        amount: log.amount.as_ref().map(|a| keep.iter().map(|&i| a[i]).collect()),
    }
}

/// Score a summary with a model, per customer index of the log.
fn scores_by_customer(s: &Summary, scores: &[CustomerScore]) -> HashMap<u32, CustomerScore> {
    s.customers.iter().zip(scores).map(|(c, x)| (c.customer, *x)).collect()
}

/// Measure a list (store ids in order) against who left.
pub fn list_score(list: &[i64], left: &HashSet<i64>, base: usize, recall_target: f64) -> ListScore {
    let base_rate = if base > 0 { left.len() as f64 / base as f64 } else { f64::NAN };
    let ratio = |a: usize, b: usize| if b > 0 { a as f64 / b as f64 } else { 0.0 };
    let mut hits = 0;
    let mut at_recall = None;
    for (k, id) in list.iter().enumerate() {
        if left.contains(id) {
            hits += 1;
        }
        if at_recall.is_none() && !left.is_empty() && ratio(hits, left.len()) >= recall_target {
            let precision = ratio(hits, k + 1);
            at_recall = Some(Cut {
                recall_target,
                listed: k + 1,
                precision,
                recall: ratio(hits, left.len()),
                lift: precision / base_rate,
            });
        }
    }
    let precision = ratio(hits, list.len());
    ListScore {
        listed: list.len(),
        hits,
        precision,
        recall: ratio(hits, left.len()),
        lift: precision / base_rate,
        at_recall,
    }
}

fn groups(m: BTreeMap<String, (usize, usize)>) -> Vec<Group> {
    m.into_iter()
        .map(|(group, (customers, count))| Group {
            group,
            customers,
            count,
            rate: if customers > 0 { count as f64 / customers as f64 } else { 0.0 },
        })
        .collect()
}

/// Replay the store on `r.as_of` and measure its lists up to `r.until`.
pub fn run(store: &mut dyn Store, config: &Config, r: &BacktestRequest) -> Result<Backtest> {
    let stored = store.transaction_log()?;
    let Some(last) = stored.log.day.iter().copied().max() else {
        return Err(invalid("the store has no purchases yet: import some first"));
    };
    let first = stored.log.day.iter().copied().min().unwrap_or(last);
    let a = day_number(r.as_of);
    let until = r.until.map_or(last, day_number);
    if a <= first {
        return Err(invalid(format!(
            "--as-of {} is before the first stored purchase ({}): nothing to replay",
            r.as_of,
            date_of(first)
        )));
    }
    if until <= a {
        return Err(invalid(format!(
            "--until {} must be after --as-of {} (the last stored purchase is on {})",
            date_of(until),
            r.as_of,
            date_of(last)
        )));
    }
    let mut notes = Vec::new();
    if until > last {
        notes.push(format!(
            "the store's purchases end on {}: a customer counts as gone if they did not buy by then",
            date_of(last)
        ));
    }
    // 1. the models, as they would have been fitted then
    let then = until_day(&stored.log, a);
    let opts =
        SummaryOptions { period: r.period, time_unit: r.time_unit, observation_end: r.as_of, calibration_end: None };
    let summary = summarise(&then, &opts).map_err(|e| invalid(e.to_string()))?;
    let comparison = match r.model {
        ModelKind::Auto => compare(&then, &opts, &CANDIDATES),
        _ => None,
    };
    let kind = choose(r.model, comparison.as_ref()).ok_or_else(|| invalid("backtest fits a purchase model"))?;
    let fit_opts = winback_stats::fit::FitOptions::default();
    let histories = Histories::of(&summary.customers);
    let fitted = fit_histories(kind, &summary.customers, &histories, &fit_opts).map_err(|e| invalid(e.to_string()))?;
    let spend = match then.amount {
        Some(_) => fit_spend(&summary.customers, &fit_opts).ok().filter(|s| s.1.converged),
        None => None,
    };
    let unit = summary.time_unit;
    let year = (365.0 / unit.days()).round();
    let settings =
        |h: f64| ScoreSettings { horizon: h, margin: 1.0, annual_discount_rate: 0.1, unit_days: unit.days() };
    let now = score_histories(
        fitted.model.as_ref(),
        spend.as_ref().map(|s| &s.0),
        &summary.customers,
        &histories,
        &settings(year),
    );
    let now_by = scores_by_customer(&summary, &now);
    // P(alive) a window earlier, by the same model: the rule's "fell since"
    let earlier_end = r.as_of - chrono::Duration::days(i64::from(r.window_days));
    let previous: HashMap<i64, f64> = match summarise(&then, &SummaryOptions { observation_end: earlier_end, ..opts }) {
        Ok(e) => {
            let s = score(fitted.model.as_ref(), None, &e.customers, &settings(year));
            e.customers.iter().zip(&s).map(|(c, x)| (stored.customer_ids[c.customer as usize], x.p_alive)).collect()
        }
        Err(_) => HashMap::new(),
    };

    // 2. the store as it was
    let mut facts = store.customer_facts_until(Some(a))?.customers;
    facts.retain(|f| f.purchases > 0);
    let log_index: HashMap<i64, u32> = stored.customer_ids.iter().enumerate().map(|(i, id)| (*id, i as u32)).collect();
    for f in &mut facts {
        if let Some(s) = log_index.get(&f.id).and_then(|i| now_by.get(i)) {
            f.score = Some(LatestScore {
                frequency: 0,
                p_alive: s.p_alive,
                expected_purchases: s.expected_purchases,
                expected_spend: s.expected_spend,
                value_at_stake: s.value_at_stake,
                lifetime_value: s.lifetime_value,
            });
        }
    }
    let reasons: Vec<_> = store.reasons()?.into_iter().filter(|x| x.day <= a).collect();
    let causes: Vec<_> = store
        .causes()?
        .into_iter()
        .map(|mut c| {
            if c.fixed_on.is_some_and(|d| d > a) {
                c.fixed_on = None;
                c.status = CauseStatus::InProgress;
            }
            c
        })
        .collect();
    let events: Vec<_> = store.events()?.into_iter().filter(|e| e.1 <= a).collect();
    let horizon = winback_domain::assess::horizon_words(year, unit.name());
    let assessed = assess(
        &facts,
        &reasons,
        &causes,
        &Settings { rules: &config.rules, taxonomy: &config.taxonomy, as_of: a, horizon: &horizon },
    );

    // 3. what happened after
    let bought_after: HashSet<i64> = (0..stored.log.len())
        .filter(|&i| {
            let d = stored.log.day[i];
            d > a && d <= until && stored.log.amount.as_ref().is_none_or(|am| am[i] >= 0.0)
        })
        .map(|i| stored.customer_ids[stored.log.customer[i] as usize])
        .collect();

    // lost, by tier and decision
    let tiers = tier_cutoffs(&facts, &config.rules.decision);
    let (mut by_tier, mut by_decision) = (BTreeMap::new(), BTreeMap::new());
    let mut lists = Lists::default();
    let mut came_back = 0;
    for (f, x) in facts.iter().zip(&assessed) {
        let Some(v) = &x.verdict else { continue };
        let back = bought_after.contains(&f.id);
        lists.lost.push(f.external_id.clone());
        came_back += usize::from(back);
        for (m, key) in [
            (&mut by_tier, tier_of(f.net_revenue(), tiers).to_string()),
            (&mut by_decision, v.decision.name().to_string()),
        ] {
            let e: &mut (usize, usize) = m.entry(key).or_default();
            e.0 += 1;
            e.1 += usize::from(back);
        }
    }
    let listed = lists.lost.len();
    let lost = LostCheck {
        listed,
        came_back,
        rate: if listed > 0 { came_back as f64 / listed as f64 } else { 0.0 },
        by_tier: groups(by_tier),
        by_decision: groups(by_decision),
    };

    // at risk: the rule and the early warning, against who left
    let active: Vec<usize> =
        (0..facts.len()).filter(|&i| matches!(assessed[i].status.status, Status::Active | Status::AtRisk)).collect();
    let left: HashSet<i64> = active.iter().map(|&i| facts[i].id).filter(|id| !bought_after.contains(id)).collect();
    lists.active = active.iter().map(|&i| facts[i].external_id.clone()).collect();
    lists.left =
        active.iter().filter(|&&i| left.contains(&facts[i].id)).map(|&i| facts[i].external_id.clone()).collect();
    let (_, playbook) = load_playbook(r.playbook, &config.taxonomy)?;
    let input = RiskInput {
        facts: &facts,
        assessed: &assessed,
        causes: &causes,
        events: &events,
        as_of: a,
        config,
        playbook: &playbook,
    };
    let rule = at_risk_rule(
        &input,
        &previous,
        &AtRiskRequest {
            min_drop: r.min_drop,
            window_days: r.window_days,
            playbook: None,
            method: crate::outcomes::AtRiskMethod::Rule,
        },
    );
    let warning = crate::outcomes::warning_list(&input, r.window_days, r.min_risk);
    let rule_ids: Vec<i64> = rule.iter().map(|x| facts[x.index].id).collect();
    let warn_ids: Vec<i64> = warning.iter().map(|x| facts[x.index].id).collect();
    lists.at_risk_rule = rule.iter().map(|x| x.customer.clone()).collect();
    lists.at_risk_warning = warning.iter().map(|x| x.customer.clone()).collect();
    let mut rule_reasons: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for x in &rule {
        let hit = usize::from(left.contains(&facts[x.index].id));
        let mut seen = HashSet::new();
        for w in &x.why {
            let key = if w.starts_with("P(alive) fell") {
                "P(alive) fell".to_string()
            } else {
                // "kind on DATE while "cause" was …": the cause
                w.split('"').nth(1).map_or_else(|| w.clone(), |c| format!("met \"{c}\""))
            };
            if seen.insert(key.clone()) {
                let e = rule_reasons.entry(key).or_default();
                e.0 += 1;
                e.1 += hit;
            }
        }
    }
    let mut warn_reasons: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for x in &warning {
        let hit = usize::from(left.contains(&facts[x.index].id));
        let kinds: Vec<String> = x
            .why
            .iter()
            .filter(|w| !w.starts_with("P(alive)"))
            .filter_map(|w| w.split(' ').next())
            .map(String::from)
            .collect();
        let keys = if kinds.is_empty() { vec!["low P(alive) alone".to_string()] } else { kinds };
        for k in keys {
            let e = warn_reasons.entry(k).or_default();
            e.0 += 1;
            e.1 += hit;
        }
    }
    const RECALL: f64 = 0.3;
    let at_risk = AtRiskCheck {
        base: active.len(),
        left: left.len(),
        base_rate: if active.is_empty() { 0.0 } else { left.len() as f64 / active.len() as f64 },
        rule: list_score(&rule_ids, &left, active.len(), RECALL),
        rule_by_reason: groups(rule_reasons),
        warning: list_score(&warn_ids, &left, active.len(), RECALL),
        warning_by_reason: groups(warn_reasons),
    };

    // the model: expected repeat purchases after the replay day against those made
    let window = f64::from(until - a) / unit.days();
    let expected = score_histories(fitted.model.as_ref(), None, &summary.customers, &histories, &settings(window));
    let mut made: HashMap<u32, HashSet<i32>> = HashMap::new();
    for i in 0..stored.log.len() {
        let d = stored.log.day[i];
        if d > a && d <= until && stored.log.amount.as_ref().is_none_or(|am| am[i] >= 0.0) {
            made.entry(stored.log.customer[i]).or_default().insert(r.period.index(d));
        }
    }
    let (mut predicted, mut actual, mut abs) = (0.0, 0.0, 0.0);
    for (c, e) in summary.customers.iter().zip(&expected) {
        let n = made.get(&c.customer).map_or(0, HashSet::len) as f64;
        predicted += e.expected_purchases;
        actual += n;
        abs += (e.expected_purchases - n).abs();
    }
    let purchases = PurchaseCheck {
        model: fitted.report.model,
        limit: fitted.report.limit.clone(),
        customers: summary.customers.len(),
        predicted,
        actual,
        mae: abs / summary.customers.len().max(1) as f64,
    };
    Ok(Backtest {
        as_of: r.as_of,
        until: date_of(until),
        days: i64::from(until - a),
        customers: facts.len(),
        lost,
        at_risk,
        purchases,
        lists,
        notes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_scores_count_hits_in_order() {
        let left: HashSet<i64> = [1, 2, 3, 4].into_iter().collect();
        // base 10 customers, 4 left: base rate 0.4
        let s = list_score(&[1, 9, 2, 8, 3], &left, 10, 0.5);
        assert_eq!((s.listed, s.hits), (5, 3));
        assert!((s.precision - 0.6).abs() < 1e-12 && (s.recall - 0.75).abs() < 1e-12);
        assert!((s.lift - 1.5).abs() < 1e-12);
        let c = s.at_recall.expect("reaches half");
        assert_eq!(c.listed, 3);
        assert!((c.precision - 2.0 / 3.0).abs() < 1e-12 && (c.lift - 2.0 / 3.0 / 0.4).abs() < 1e-12);
        assert!(list_score(&[9], &left, 10, 0.3).at_recall.is_none());
    }
}
