//! What campaigns achieved, measured from the transactions in the store (so it
//! updates as new ones are imported): campaign reports, simulated outcomes,
//! follow-ups, win-back rates; and active customers at risk.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use rand::{Rng, SeedableRng};
use serde::Serialize;
use winback_domain::campaign::{
    outcome, own_rate, report as campaign_report, still_active, Arm, Measured, MemberOutcome, MemberState, OwnRate,
    Report,
};
use winback_domain::period::{date_of, iso_day, iso_opt_day};
use winback_domain::playbook::Audience;
use winback_domain::status::{own_gap, Status};
use winback_store::{CampaignRow, FollowupRow, MemberRow, Store};

use crate::assess::World;
use crate::campaigns::{find, frozen_playbook, load_playbook};
use crate::{AppError, Result};

/// Every customer's purchases (day, amount), by store id.
pub fn purchases(store: &mut dyn Store) -> Result<HashMap<i64, Vec<(i32, f64)>>> {
    let s = store.transaction_log()?;
    let mut m: HashMap<i64, Vec<(i32, f64)>> = HashMap::new();
    for i in 0..s.log.len() {
        let amount = s.log.amount.as_ref().map_or(0.0, |a| a[i]);
        m.entry(s.customer_ids[s.log.customer[i] as usize]).or_default().push((s.log.day[i], amount));
    }
    Ok(m)
}

/// The day a member's window opens: their contact for treated members who were
/// contacted, the campaign date otherwise (the holdout's reference).
fn window_start(c: &CampaignRow, m: &MemberRow) -> i32 {
    if m.m.arm == Arm::Treatment {
        m.contacted_day.unwrap_or(c.c.start_day).max(c.c.start_day)
    } else {
        c.c.start_day
    }
}

struct Measures {
    members: Vec<MemberRow>,
    outcomes: Vec<MemberOutcome>,
}

fn measure(store: &mut dyn Store, c: &CampaignRow, buys: &HashMap<i64, Vec<(i32, f64)>>) -> Result<Measures> {
    let members = store.campaign_members(c.id)?;
    let outcomes = members
        .iter()
        .map(|m| {
            outcome(buys.get(&m.m.customer_id).map_or(&[][..], |v| v.as_slice()), window_start(c, m), c.c.window_days)
        })
        .collect();
    Ok(Measures { members, outcomes })
}

/// Margin per unit of revenue across the shop (1 when no costs are recorded).
fn margin_rate(w: &World) -> f64 {
    let (rev, cost) = w.facts.customers.iter().fold((0.0, 0.0), |(r, c), f| (r + f.revenue_with_cost, c + f.cost));
    if rev > 0.0 {
        1.0 - cost / rev
    } else {
        1.0
    }
}

/// Share of won-back treated customers still active N days after their return.
#[derive(Debug, Clone, Serialize)]
pub struct Redefection {
    pub strategy: String,
    pub won_back: usize,
    /// At 30, 60, 90 and 180 days; None where nobody is observable that long.
    pub active: Vec<Option<f64>>,
}

/// Holdout members of this campaign another campaign contacted while this
/// one's window was open (created with `include_holdouts`).
#[derive(Debug, Clone, Serialize)]
pub struct Contamination {
    pub campaign: String,
    pub members: usize,
}

/// A campaign's measured outcome.
#[derive(Debug, Clone, Serialize)]
pub struct CampaignReport {
    pub campaign: String,
    #[serde(serialize_with = "iso_day")]
    pub start: i32,
    pub window_days: i32,
    #[serde(serialize_with = "iso_day")]
    pub as_of: i32,
    pub window_open: bool,
    pub report: Report,
    pub still_active: Vec<Redefection>,
    /// Treatment members the treatment did not reach, by state: they count as
    /// treated (intention to treat), or leaving them out would flatter the lift.
    pub treated_not_reached: BTreeMap<&'static str, usize>,
    pub counted_as: &'static str,
    /// Holdout members contacted by later campaigns: the comparison is weakened.
    pub contaminated: Vec<Contamination>,
    pub survey: SurveyRate,
}

/// How many contacted members answered the exit survey.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SurveyRate {
    /// Treatment members contacted (sent or handed over as a task).
    pub contacted: usize,
    pub answers: usize,
    /// answers / contacted; 0 when nobody was contacted.
    pub rate: f64,
    /// Answered no to coming back (now keep in touch).
    pub said_no: usize,
}

/// Measure campaign `name` up to `as_of` (default: the last transaction).
pub fn report(w: &mut World, name: &str, as_of: Option<i32>) -> Result<CampaignReport> {
    let c = find(w.store.as_mut(), name)?;
    let pb = frozen_playbook(&c, &w.config.taxonomy)?;
    let buys = purchases(w.store.as_mut())?;
    let last = buys.values().flatten().map(|p| p.0).max().unwrap_or(c.c.start_day);
    // never before the campaign began: with no orders since, nothing is measured yet
    let as_of = as_of.unwrap_or_else(|| last.max(c.c.start_day));
    let ms = measure(w.store.as_mut(), &c, &buys)?;
    let measured: Vec<Measured> = ms
        .members
        .iter()
        .zip(&ms.outcomes)
        .map(|(m, o)| {
            let arm = m.m.arm;
            let incentive = pb.strategies.get(&m.m.strategy).and_then(|s| s.incentive);
            let offer_cost = match (arm, incentive, &m.m.coupon, o.returned_day) {
                // the coupon is taken to be redeemed on the first order back, within its validity
                (Arm::Treatment, Some(i), Some(_), Some(d)) if d <= c.c.start_day + i.expiry_days => {
                    i.cost(o.first_order)
                }
                _ => 0.0,
            };
            Measured { arm, strategy: &m.m.strategy, category: &m.m.category, tier: &m.m.tier, outcome: *o, offer_cost }
        })
        .collect();
    let r = campaign_report(&measured, margin_rate(w));
    let curve = redefection(w, &ms, &buys, as_of);
    let state = |s: MemberState| ms.members.iter().filter(|m| m.m.arm == Arm::Treatment && m.m.state == s).count();
    let treated_not_reached = [
        ("failed", state(MemberState::Failed)),
        ("pending", state(MemberState::Pending)),
        ("unconfirmed", state(MemberState::Claimed)),
        ("skipped", state(MemberState::Skipped)),
    ]
    .into_iter()
    .collect();
    // later campaigns that treated this one's holdout inside its window
    let controls: std::collections::HashSet<i64> =
        ms.members.iter().filter(|m| m.m.arm == Arm::Control).map(|m| m.m.customer_id).collect();
    let end = c.c.start_day + c.c.window_days;
    let mut contaminated = Vec::new();
    for other in w.store.campaigns()? {
        if other.id == c.id || other.c.start_day > end || other.c.start_day + other.c.window_days < c.c.start_day {
            continue;
        }
        let n = w
            .store
            .campaign_members(other.id)?
            .iter()
            .filter(|m| m.m.arm == Arm::Treatment && controls.contains(&m.m.customer_id))
            .count();
        if n > 0 {
            contaminated.push(Contamination { campaign: other.c.name, members: n });
        }
    }
    let contacted = ms
        .members
        .iter()
        .filter(|m| m.m.arm == Arm::Treatment && matches!(m.m.state, MemberState::Sent | MemberState::Task))
        .count();
    let (answers, said_no) = crate::survey::by_campaign(w.store.as_mut())?.get(&c.id).copied().unwrap_or_default();
    let survey = SurveyRate {
        contacted,
        answers,
        rate: if contacted > 0 { answers as f64 / contacted as f64 } else { 0.0 },
        said_no,
    };
    Ok(CampaignReport {
        campaign: c.c.name.clone(),
        start: c.c.start_day,
        window_days: c.c.window_days,
        as_of,
        window_open: as_of < end,
        report: r,
        still_active: curve,
        treated_not_reached,
        counted_as: "intention to treat: every treatment member counts as treated",
        contaminated,
        survey,
    })
}

/// Share of won-back treated customers still active 30/60/90/180 days after
/// their return, per strategy.
fn redefection(w: &World, ms: &Measures, buys: &HashMap<i64, Vec<(i32, f64)>>, as_of: i32) -> Vec<Redefection> {
    let rules = &w.config.rules.status;
    let facts: HashMap<i64, &winback_domain::facts::CustomerFacts> =
        w.facts.customers.iter().map(|f| (f.id, f)).collect();
    let mut by: BTreeMap<&str, Vec<(i32, i32, i32)>> = BTreeMap::new();
    for (m, o) in ms.members.iter().zip(&ms.outcomes) {
        let (Some(ret), true) = (o.returned_day, m.m.arm == Arm::Treatment) else { continue };
        let last = buys.get(&m.m.customer_id).and_then(|v| v.iter().map(|p| p.0).max()).unwrap_or(ret);
        let gap = facts.get(&m.m.customer_id).and_then(|f| own_gap(f)).unwrap_or(30.0).max(rules.min_gap_days);
        by.entry(&m.m.strategy).or_default().push((ret, last, (rules.lapsed_gaps * gap).round() as i32));
    }
    by.into_iter()
        .map(|(s, v)| {
            let active = [30, 60, 90, 180]
                .iter()
                .map(|&d| {
                    let seen: Vec<bool> =
                        v.iter().filter_map(|&(r, l, lapse)| still_active(r, l, lapse, as_of, d)).collect();
                    (!seen.is_empty()).then(|| seen.iter().filter(|x| **x).count() as f64 / seen.len() as f64)
                })
                .collect();
            Redefection { strategy: s.to_string(), won_back: v.len(), active }
        })
        .collect()
}

/// Simulated returns with a known true lift, written as a transactions CSV:
/// control members come back with probability `base`, treated ones with
/// `base + lift`, on a uniform day in the window, spending about their usual
/// order. Returns (returns written, members).
pub fn simulate(
    store: &mut dyn Store,
    name: &str,
    base: f64,
    lift: f64,
    seed: u64,
    output: &Path,
) -> Result<(usize, usize)> {
    if !(0.0..=1.0).contains(&base) || !(0.0..=1.0).contains(&(base + lift)) {
        return Err(AppError::Invalid("--base-rate and --base-rate + --lift must be between 0 and 1".into()));
    }
    let c = find(store, name)?;
    let facts = store.customer_facts()?;
    let mean: HashMap<i64, f64> = facts
        .customers
        .iter()
        .map(|f| (f.id, if f.purchases > 0 { (f.revenue / f.purchases as f64).max(1.0) } else { 20.0 }))
        .collect();
    let members = store.campaign_members(c.id)?;
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let file_err = |e: csv::Error| AppError::File { path: output.display().to_string(), message: e.to_string() };
    let mut w = csv::Writer::from_path(output).map_err(file_err)?;
    w.write_record(["order_id", "customer_id", "order_date", "total"]).map_err(file_err)?;
    let mut n = 0;
    for m in &members {
        let p = if m.m.arm == Arm::Treatment { base + lift } else { base };
        let u: f64 = rng.random();
        let d = window_start(&c, m) + rng.random_range(1..=c.c.window_days.max(1));
        if u < p {
            let amount = mean.get(&m.m.customer_id).copied().unwrap_or(20.0) * rng.random_range(0.7..1.3);
            w.write_record([
                format!("SIM-{}-{}", c.id, m.external_id),
                m.external_id.clone(),
                date_of(d).to_string(),
                format!("{amount:.2}"),
            ])
            .map_err(file_err)?;
            n += 1;
        }
    }
    w.flush().map_err(|e| AppError::File { path: output.display().to_string(), message: e.to_string() })?;
    Ok((n, members.len()))
}

/// A check-in with a won-back customer to record.
#[derive(Debug, Clone)]
pub struct CheckIn<'a> {
    pub campaign: &'a str,
    pub customer: &'a str,
    pub offset_days: i32,
    pub day: i32,
    pub satisfied: Option<bool>,
    /// 0 to 10.
    pub score: Option<i32>,
    pub note: Option<String>,
}

/// Record a check-in.
pub fn record_followup(store: &mut dyn Store, f: &CheckIn) -> Result<()> {
    if f.score.is_some_and(|s| !(0..=10).contains(&s)) {
        return Err(AppError::Invalid("the score is 0 to 10".into()));
    }
    let c = find(store, f.campaign)?;
    let m =
        store.campaign_members(c.id)?.into_iter().find(|m| m.external_id == f.customer).ok_or_else(|| {
            AppError::NotFound(format!("customer '{}' is not in campaign '{}'", f.customer, f.campaign))
        })?;
    store.record_followup(&FollowupRow {
        campaign_id: c.id,
        customer_id: m.m.customer_id,
        offset_days: f.offset_days,
        done_day: f.day,
        satisfied: f.satisfied,
        score: f.score,
        note: f.note.clone(),
    })?;
    Ok(())
}

/// A check-in due (or done) with a won-back customer.
#[derive(Debug, Clone, Serialize)]
pub struct Followup {
    pub campaign: String,
    pub customer: String,
    #[serde(serialize_with = "iso_day")]
    pub returned: i32,
    pub offset_days: i32,
    #[serde(serialize_with = "iso_day")]
    pub due: i32,
    #[serde(serialize_with = "iso_opt_day")]
    pub done: Option<i32>,
    pub satisfied: Option<bool>,
    pub score: Option<i32>,
    pub note: Option<String>,
    /// The latest analysis saw their return and still calls them gone.
    pub lapsed_again: bool,
}

/// Check-ins for every won-back treated member; `due_only`: only those due on
/// or before `as_of` and not yet recorded.
pub fn followups(w: &mut World, as_of: i32, due_only: bool) -> Result<Vec<Followup>> {
    let buys = purchases(w.store.as_mut())?;
    let done: HashMap<(i64, i64, i32), FollowupRow> =
        w.store.followups()?.into_iter().map(|f| ((f.campaign_id, f.customer_id, f.offset_days), f)).collect();
    let status: HashMap<i64, Status> =
        w.facts.customers.iter().zip(&w.assessed).map(|(f, x)| (f.id, x.status.status)).collect();
    let mut out = Vec::new();
    for c in w.store.campaigns()? {
        let ms = measure(w.store.as_mut(), &c, &buys)?;
        for (m, o) in ms.members.iter().zip(&ms.outcomes) {
            let (Some(ret), true) = (o.returned_day, m.m.arm == Arm::Treatment) else { continue };
            let again = w.facts.run.as_ref().is_some_and(|r| r.observation_end > ret)
                && status.get(&m.m.customer_id).is_some_and(|s| s.is_gone());
            for &off in &w.config.rules.followup_days {
                let due = ret + off;
                let rec = done.get(&(c.id, m.m.customer_id, off));
                if due_only && (rec.is_some() || due > as_of) {
                    continue;
                }
                out.push(Followup {
                    campaign: c.c.name.clone(),
                    customer: m.external_id.clone(),
                    returned: ret,
                    offset_days: off,
                    due,
                    done: rec.map(|r| r.done_day),
                    satisfied: rec.and_then(|r| r.satisfied),
                    score: rec.and_then(|r| r.score),
                    note: rec.and_then(|r| r.note.clone()),
                    lapsed_again: again,
                });
            }
        }
    }
    Ok(out)
}

/// Observed win-back rates of contacted treatment members, overall, by reason
/// category and by tier, each shrunk towards the industry band.
pub fn winback_rates(w: &mut World) -> Result<Vec<(String, OwnRate)>> {
    let buys = purchases(w.store.as_mut())?;
    let mut groups: BTreeMap<(String, String), (u64, u64)> = BTreeMap::new();
    for c in w.store.campaigns()? {
        let ms = measure(w.store.as_mut(), &c, &buys)?;
        for (m, o) in ms.members.iter().zip(&ms.outcomes) {
            if m.m.arm != Arm::Treatment || !matches!(m.m.state, MemberState::Sent | MemberState::Task) {
                continue;
            }
            let won = u64::from(o.returned_day.is_some());
            for key in [
                ("all".to_string(), "all".to_string()),
                ("reason".to_string(), m.m.category.clone()),
                ("tier".to_string(), m.m.tier.clone()),
            ] {
                let e = groups.entry(key).or_default();
                e.0 += won;
                e.1 += 1;
            }
        }
    }
    if groups.is_empty() {
        groups.insert(("all".into(), "all".into()), (0, 0));
    }
    Ok(groups.into_iter().map(|((by, g), (won, n))| (by, own_rate(&g, won, n))).collect())
}

/// What flags an active customer as at risk.
#[derive(Debug, Clone)]
pub struct AtRiskRequest<'a> {
    /// A fall in P(alive) since the previous run at least this large.
    pub min_drop: f64,
    /// Events within this many days before the analysis date.
    pub window_days: i32,
    pub playbook: Option<&'a Path>,
    pub method: AtRiskMethod,
}

/// How `at_risk` finds the customers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum AtRiskMethod {
    /// The early warning (`winback_domain::warning`): P(alive) and the touchpoints
    /// met since the last order, weighed by how strongly each kind preceded
    /// defection here; listed from this estimated risk up, most expected loss first.
    Warning { min_risk: f64 },
    /// The first rule: P(alive) fell by `min_drop` since the previous run, or a
    /// touchpoint of an open cause in the window; most value at stake first.
    Rule,
}

impl Default for AtRiskMethod {
    fn default() -> Self {
        AtRiskMethod::Warning { min_risk: 0.25 }
    }
}

/// An active customer who looks like the ones who left.
#[derive(Debug, Clone, Serialize)]
pub struct AtRisk {
    /// Index into the world's customers.
    #[serde(skip)]
    pub index: usize,
    pub customer: String,
    pub name: Option<String>,
    pub status: &'static str,
    pub p_alive: Option<f64>,
    pub value_at_stake: f64,
    pub why: Vec<String>,
    pub suggested: Option<String>,
    pub steps: Vec<String>,
    /// The early warning's estimate that they are leaving (`--rank risk`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub risk: Option<f64>,
}

/// Active and at-risk customers whose P(alive) fell, or who met a root cause
/// that made others leave, most valuable first.
pub fn at_risk(w: &mut World, a: &AtRiskRequest) -> Result<Vec<AtRisk>> {
    let (_, pb) = load_playbook(a.playbook, &w.config.taxonomy)?;
    let runs = w.store.runs()?;
    let previous: HashMap<i64, f64> = match runs.len() {
        n if n >= 2 => w.store.run_scores(runs[n - 2].id)?.into_iter().collect(),
        _ => HashMap::new(),
    };
    let events = w.store.events()?;
    let input = RiskInput {
        facts: &w.facts.customers,
        assessed: &w.assessed,
        causes: &w.causes,
        events: &events,
        as_of: w.as_of,
        config: &w.config,
        playbook: &pb,
    };
    Ok(match a.method {
        AtRiskMethod::Rule => at_risk_rule(&input, &previous, a),
        AtRiskMethod::Warning { min_risk } => warning_list(&input, a.window_days, min_risk),
    })
}

/// The early warning as an at-risk list, each with the playbook's suggestion
/// (the touchpoints' categories from the config's exposure map).
pub fn warning_list(r: &RiskInput, window_days: i32, min_risk: f64) -> Vec<AtRisk> {
    let statuses: Vec<_> = r.assessed.iter().map(|x| x.status.clone()).collect();
    let journey = winback_domain::journey::signals(r.facts, &statuses, r.events, r.as_of, window_days);
    let found = winback_domain::warning::early_warning(
        r.facts,
        r.assessed,
        r.events,
        &journey,
        &winback_domain::warning::WarningSettings { window_days, min_risk, as_of: r.as_of },
    );
    let tiers = winback_domain::decision::tier_cutoffs(r.facts, &r.config.rules.decision);
    found
        .into_iter()
        .map(|w| {
            let f = &r.facts[w.index];
            let categories: Vec<String> = r
                .config
                .rules
                .exposure
                .iter()
                .filter(|(_, kinds)| kinds.iter().any(|k| w.why.iter().any(|y| y.starts_with(&format!("{k} on ")))))
                .map(|(c, _)| c.to_string())
                .collect();
            let aud = Audience {
                audience: "at_risk",
                decision: None,
                categories: &categories,
                tier: tier_of(f.net_revenue(), tiers),
                segment: f.segment.as_deref(),
            };
            let chosen = r.playbook.choose(&aud);
            AtRisk {
                index: w.index,
                customer: f.external_id.clone(),
                name: f.name.clone(),
                status: r.assessed[w.index].status.status.name(),
                p_alive: f.score.map(|s| s.p_alive),
                value_at_stake: w.expected_loss,
                why: w.why,
                suggested: chosen.map(|(rule, _)| rule.strategy.clone()),
                steps: chosen.map_or_else(Vec::new, |(_, s)| s.steps.clone()),
                risk: Some(w.risk),
            }
        })
        .collect()
}

/// What the at-risk lists look at: the store as of one day (today's, or a
/// backtest's replay).
pub struct RiskInput<'a> {
    pub facts: &'a [winback_domain::facts::CustomerFacts],
    pub assessed: &'a [winback_domain::assess::Assessment],
    pub causes: &'a [winback_domain::causes::RootCause],
    /// (customer id, day, kind); later days than `as_of` are ignored.
    pub events: &'a [(i64, i32, String)],
    pub as_of: i32,
    pub config: &'a crate::config::Config,
    pub playbook: &'a winback_domain::playbook::Playbook,
}

/// The rule of `winback at-risk`: active or at-risk customers whose P(alive) fell
/// by `min_drop` since `previous` (P(alive) by customer id), or who met an open
/// cause's touchpoint in the last `window_days`; most value at stake first.
pub fn at_risk_rule(r: &RiskInput, previous: &HashMap<i64, f64>, a: &AtRiskRequest) -> Vec<AtRisk> {
    let mut recent: HashMap<i64, Vec<(i32, &str)>> = HashMap::new();
    for (c, d, k) in r.events {
        if *d <= r.as_of && *d > r.as_of - a.window_days {
            recent.entry(*c).or_default().push((*d, k.as_str()));
        }
    }
    let tiers = winback_domain::decision::tier_cutoffs(r.facts, &r.config.rules.decision);
    let mut out: Vec<AtRisk> = Vec::new();
    for (i, (f, x)) in r.facts.iter().zip(r.assessed).enumerate() {
        if !matches!(x.status.status, Status::Active | Status::AtRisk) {
            continue;
        }
        let mut why = Vec::new();
        let mut categories = Vec::new();
        if let (Some(s), Some(p)) = (f.score, previous.get(&f.id)) {
            if p - s.p_alive >= a.min_drop {
                why.push(format!("P(alive) fell from {p:.2} to {:.2} since the previous run", s.p_alive));
            }
        }
        for cause in r.causes {
            for cat in &cause.categories {
                let kinds = r.config.rules.exposure.get(cat.as_str()).map_or(&[][..], |v| v.as_slice());
                let hit = recent.get(&f.id).and_then(|evs| {
                    evs.iter().find(|(d, k)| kinds.iter().any(|x| x == k) && cause.fixed_on.is_none_or(|fx| *d <= fx))
                });
                if let Some((d, k)) = hit {
                    why.push(format!(
                        "{k} on {} while \"{}\" was {}",
                        date_of(*d),
                        cause.title,
                        if cause.status.holds() {
                            cause.status.name().replace('_', " ")
                        } else {
                            "not yet fixed".into()
                        }
                    ));
                    categories.push(cat.to_string());
                }
            }
        }
        if why.is_empty() {
            continue;
        }
        let net = f.net_revenue();
        let tier = tier_of(net, tiers);
        let aud = Audience {
            audience: "at_risk",
            decision: None,
            categories: &categories,
            tier,
            segment: f.segment.as_deref(),
        };
        let chosen = r.playbook.choose(&aud);
        out.push(AtRisk {
            index: i,
            customer: f.external_id.clone(),
            name: f.name.clone(),
            status: x.status.status.name(),
            p_alive: f.score.map(|s| s.p_alive),
            value_at_stake: f.score.map_or(net, |s| s.value_at_stake.max(0.0)),
            why,
            suggested: chosen.map(|(rule, _)| rule.strategy.clone()),
            steps: chosen.map_or_else(Vec::new, |(_, s)| s.steps.clone()),
            risk: None,
        });
    }
    out.sort_by(|x, y| y.value_at_stake.total_cmp(&x.value_at_stake).then(x.index.cmp(&y.index)));
    out
}

/// "top", "mid" or "low" by net revenue, with `tier_cutoffs`.
pub fn tier_of(net: f64, tiers: (f64, f64)) -> &'static str {
    if net >= tiers.0 {
        "top"
    } else if net >= tiers.1 {
        "mid"
    } else {
        "low"
    }
}
