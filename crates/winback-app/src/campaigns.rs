//! Campaigns: select the customers a playbook targets, split them into
//! treatment and a random holdout, freeze them; list, inspect and preview.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::{json, Value};
use winback_domain::campaign::{assign, coupon_code, Arm, MemberState, Target};
use winback_domain::causes::{CauseStatus, RootCause};
use winback_domain::facts::CustomerFacts;
use winback_domain::period::{date_of, day_number};
use winback_domain::playbook::{Audience, Playbook, DEFAULT};
use winback_domain::reasons::{Reason, Taxonomy};
use winback_stats::proportions::minimum_detectable_lift;
use winback_store::{CampaignRow, MemberRow, NewCampaign, NewMember, Store};

use crate::assess::World;
use crate::{AppError, Result};

/// Today, as a day number (UTC).
pub fn today() -> i32 {
    day_number(chrono::Utc::now().date_naive())
}

/// The playbook in use: `path`, else ./playbook.toml, else the default.
/// Returns its text (frozen with a campaign) and the parsed playbook.
pub fn load_playbook(path: Option<&Path>, taxonomy: &Taxonomy) -> Result<(String, Playbook)> {
    let file = path.map(Path::to_path_buf).or_else(|| Some(PathBuf::from("playbook.toml")).filter(|p| p.exists()));
    let text = match &file {
        Some(f) => std::fs::read_to_string(f)
            .map_err(|e| AppError::File { path: f.display().to_string(), message: e.to_string() })?,
        None => DEFAULT.to_string(),
    };
    let name = file.as_ref().map_or_else(|| "the default playbook".to_string(), |f| f.display().to_string());
    parse_playbook(&text, taxonomy, &name).map(|p| (text, p))
}

/// Parse a playbook, every problem listed with `name` in front.
pub fn parse_playbook(text: &str, taxonomy: &Taxonomy, name: &str) -> Result<Playbook> {
    Playbook::parse(text, taxonomy).map_err(|problems| {
        let list: Vec<String> = problems.iter().map(|p| format!("  {name}: {p}")).collect();
        AppError::Invalid(format!("the playbook has {} problem(s):\n{}", problems.len(), list.join("\n")))
    })
}

/// A campaign's frozen playbook.
pub fn frozen_playbook(c: &CampaignRow, taxonomy: &Taxonomy) -> Result<Playbook> {
    parse_playbook(&c.c.playbook, taxonomy, "the campaign's frozen playbook")
}

/// The campaign called `name`; the error lists the campaigns there are.
pub fn find(store: &mut dyn Store, name: &str) -> Result<CampaignRow> {
    let all = store.campaigns()?;
    let names: Vec<String> = all.iter().map(|c| c.c.name.clone()).collect();
    all.into_iter().find(|c| c.c.name == name).ok_or_else(|| {
        AppError::NotFound(format!(
            "no campaign '{name}'{}",
            if names.is_empty() {
                "; create one with `winback campaign create NAME`".into()
            } else {
                format!(" (campaigns: {})", names.join(", "))
            }
        ))
    })
}

/// The channel to use: the customer's preferred one if the strategy allows it
/// and they consented, else the first in the strategy's order they can be reached on.
pub fn channel_for(f: &CustomerFacts, channels: &[String], opted_out: &[&str]) -> Option<String> {
    let ok = |c: &str| f.reachable(c) && !opted_out.contains(&c);
    if let Some(p) = f.preferred_channel.as_deref() {
        if channels.iter().any(|c| c == p) && ok(p) {
            return Some(p.to_string());
        }
    }
    channels.iter().find(|c| ok(c)).cloned()
}

/// Secrets for tokens and codes: ChaCha seeded from the operating system's
/// random source.
fn secret_rng() -> rand::rngs::StdRng {
    <rand::rngs::StdRng as rand::SeedableRng>::from_os_rng()
}

/// An unguessable member token: 128 random bits. It reaches the customer in
/// their links (unsubscribe, survey); the store keeps only its SHA-256.
pub fn member_token(rng: &mut rand::rngs::StdRng) -> String {
    let (a, b) = (rand::RngCore::next_u64(rng), rand::RngCore::next_u64(rng));
    format!("{a:016x}{b:016x}")
}

/// A name for a campaign: printable, short, not a path (it names the task list).
pub fn check_name(name: &str) -> Result<()> {
    if name.trim().is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(AppError::Invalid(format!(
            "campaign name '{}': give 1 to 100 printable characters",
            name.escape_debug()
        )));
    }
    if name.contains(['/', '\\']) || name.starts_with('.') {
        return Err(AppError::Invalid(format!(
            "campaign name '{name}': no slashes and no leading dot (it names the task list file)"
        )));
    }
    Ok(())
}

/// Reasons grouped by customer id.
pub fn by_customer(reasons: &[Reason]) -> HashMap<i64, Vec<&Reason>> {
    let mut m: HashMap<i64, Vec<&Reason>> = HashMap::new();
    for r in reasons {
        m.entry(r.customer_id).or_default().push(r);
    }
    m
}

/// What to create.
#[derive(Debug, Clone)]
pub struct CreateRequest<'a> {
    pub name: &'a str,
    pub target: Target,
    /// Share held out at random, in [0, 1).
    pub holdout: f64,
    pub seed: u64,
    pub window_days: i32,
    /// The expected win-back rate without contact, for the detectable lift.
    pub base_rate: f64,
    /// Start day (default today).
    pub start: Option<i32>,
    /// Nobody contacted within this many days is selected.
    pub cap_days: i32,
    pub include_held: bool,
    /// Select members of another campaign's holdout whose window is still open.
    /// It contaminates that campaign's comparison; its report then says so.
    pub include_holdouts: bool,
    pub playbook: Option<&'a Path>,
    /// Select and report, freeze nothing.
    pub dry_run: bool,
}

/// Why selected-looking customers were left out.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LeftOut {
    /// Held by an unfixed root cause.
    pub held: usize,
    /// Contacted within the frequency cap.
    pub capped: usize,
    /// In the holdout of a campaign still measuring.
    pub holdout: usize,
    /// No consented channel.
    pub no_channel: usize,
    /// Matched no playbook rule.
    pub no_rule: usize,
}

/// A campaign as selected (and frozen unless a dry run or empty).
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    /// The campaign's id once frozen.
    pub id: Option<i64>,
    pub name: String,
    #[serde(serialize_with = "winback_domain::period::iso_day")]
    pub start: i32,
    pub seed: u64,
    pub selected: usize,
    pub treatment: usize,
    pub control: usize,
    pub left_out: LeftOut,
    /// Members taken from another open campaign's holdout (`include_holdouts`).
    pub from_other_holdouts: usize,
    /// The smallest lift detectable at 80% power, 5% two-sided.
    pub detectable_lift: f64,
    /// (holdout share, detectable lift) for other shares.
    pub alternatives: Vec<(f64, f64)>,
    /// (strategy, channel, members), sorted.
    pub by_strategy: Vec<(String, String, usize)>,
    pub frozen: bool,
}

/// Control members of campaigns whose outcome window is open on `day`.
pub fn open_holdouts(store: &mut dyn Store, day: i32) -> Result<HashSet<i64>> {
    let mut held_out = HashSet::new();
    for other in store.campaigns()? {
        if other.c.start_day + other.c.window_days >= day {
            held_out.extend(
                store
                    .campaign_members(other.id)?
                    .into_iter()
                    .filter(|m| m.m.arm == Arm::Control)
                    .map(|m| m.m.customer_id),
            );
        }
    }
    Ok(held_out)
}

/// Select, split and (unless a dry run) freeze a campaign in one transaction.
pub fn create(w: &mut World, a: &CreateRequest) -> Result<Plan> {
    if !(0.0..1.0).contains(&a.holdout) {
        return Err(AppError::Invalid("the holdout share must be at least 0 and below 1".into()));
    }
    if !(a.base_rate > 0.0 && a.base_rate < 1.0) {
        return Err(AppError::Invalid("the base rate must be between 0 and 1".into()));
    }
    if a.window_days < 1 {
        return Err(AppError::Invalid("the outcome window must be at least a day".into()));
    }
    check_name(a.name)?;
    if w.facts.run.is_none() {
        return Err(AppError::Invalid(
            "no analysis run yet: run `winback analyze` first, so decisions have scores behind them".into(),
        ));
    }
    let (text, pb) = load_playbook(a.playbook, &w.config.taxonomy)?;
    let start = a.start.unwrap_or_else(today);
    let capped: HashSet<i64> = w.store.contacted_since(start - a.cap_days)?.into_iter().collect();
    let opt_outs = w.store.opt_outs()?;
    let reasons = by_customer(&w.reasons);
    let mut left = LeftOut::default();
    let mut from_other_holdouts = 0;
    let mut rng = secret_rng();
    // the holdout of a campaign whose window is still open stays untouched, or
    // its report would count contacted customers as controls
    let held_out = open_holdouts(w.store.as_mut(), start)?;
    let mut picked: Vec<NewMember> = Vec::new();
    for (f, x) in w.facts.customers.iter().zip(&w.assessed) {
        let Some(v) = &x.verdict else { continue };
        if !a.target.wants(v.decision) || f.do_not_contact {
            continue;
        }
        if !v.held_by.is_empty() && !a.include_held {
            left.held += 1;
            continue;
        }
        if capped.contains(&f.id) {
            left.capped += 1;
            continue;
        }
        let in_holdout = held_out.contains(&f.id);
        if in_holdout && !a.include_holdouts {
            left.holdout += 1;
            continue;
        }
        let cats: Vec<String> =
            reasons.get(&f.id).map_or_else(Vec::new, |r| r.iter().map(|r| r.category.to_string()).collect());
        let aud = Audience {
            audience: "gone",
            decision: Some(v.decision.name()),
            categories: &cats,
            tier: v.worth.tier.name(),
            segment: f.segment.as_deref(),
        };
        let Some((rule, strategy)) = pb.choose(&aud) else {
            left.no_rule += 1;
            continue;
        };
        let out: Vec<&str> = opt_outs.iter().filter(|(c, _)| *c == f.id).map(|(_, ch)| ch.as_str()).collect();
        let Some(channel) = channel_for(f, &strategy.channels, &out) else {
            left.no_channel += 1;
            continue;
        };
        from_other_holdouts += usize::from(in_holdout);
        let category = rule
            .categories
            .iter()
            .find(|c| cats.contains(c))
            .or(cats.first())
            .cloned()
            .unwrap_or_else(|| "none".into());
        picked.push(NewMember {
            customer_id: f.id,
            arm: Arm::Treatment,
            tier: v.worth.tier.name().into(),
            category,
            rule: rule.name.clone(),
            strategy: rule.strategy.clone(),
            channel,
            coupon: strategy.incentive.map(|_| coupon_code(rand::RngCore::next_u64(&mut rng))),
            // a placeholder nobody holds the token of: each member's token is
            // made when their message is sent (see `send`), and only its hash kept
            unsubscribe_token: winback_store::digest(&member_token(&mut rng)),
            value_if_won: v.worth.value_if_won,
            state: MemberState::Pending,
        });
    }
    picked.sort_by(|x, y| y.value_if_won.total_cmp(&x.value_if_won).then(x.customer_id.cmp(&y.customer_id)));
    let tiers: Vec<&str> = picked.iter().map(|m| m.tier.as_str()).collect();
    let arms = assign(&tiers, a.holdout, a.seed);
    let members: Vec<NewMember> = picked
        .into_iter()
        .zip(&arms)
        .map(|(mut m, arm)| {
            m.arm = *arm;
            m.state = if *arm == Arm::Treatment { MemberState::Pending } else { MemberState::Holdout };
            if *arm == Arm::Control {
                m.coupon = None;
            }
            m
        })
        .collect();
    let n_t = arms.iter().filter(|x| **x == Arm::Treatment).count();
    let n_c = arms.len() - n_t;
    let mde = minimum_detectable_lift(n_t as u64, n_c as u64, a.base_rate, 0.05, 0.8);
    let alternatives: Vec<(f64, f64)> = [0.1, 0.2, 0.3, 0.5]
        .iter()
        .map(|&h| {
            let c = (arms.len() as f64 * h).round() as u64;
            (h, minimum_detectable_lift(arms.len() as u64 - c, c, a.base_rate, 0.05, 0.8))
        })
        .collect();
    let mut by: HashMap<(&str, &str), usize> = HashMap::new();
    for m in &members {
        *by.entry((m.strategy.as_str(), m.channel.as_str())).or_default() += 1;
    }
    let mut by_strategy: Vec<(String, String, usize)> =
        by.into_iter().map(|((s, c), n)| (s.to_string(), c.to_string(), n)).collect();
    by_strategy.sort();
    let mut plan = Plan {
        id: None,
        name: a.name.to_string(),
        start,
        seed: a.seed,
        selected: members.len(),
        treatment: n_t,
        control: n_c,
        left_out: left,
        from_other_holdouts,
        detectable_lift: mde,
        alternatives,
        by_strategy,
        frozen: false,
    };
    if a.dry_run || members.is_empty() {
        return Ok(plan);
    }
    let c = NewCampaign {
        name: a.name.to_string(),
        start_day: start,
        target: a.target.stored().into(),
        holdout: a.holdout,
        seed: a.seed as i64,
        window_days: a.window_days,
        base_rate: a.base_rate,
        detectable_lift: mde,
        playbook: text,
        run_id: w.facts.run.as_ref().map(|r| r.id),
    };
    plan.id = Some(w.store.create_campaign(&c, &members)?);
    plan.frozen = true;
    Ok(plan)
}

/// A campaign with its members counted by arm and state.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub id: i64,
    pub name: String,
    #[serde(serialize_with = "winback_domain::period::iso_day")]
    pub start: i32,
    pub window_days: i32,
    pub members: usize,
    pub treatment: usize,
    pub control: usize,
    pub sent: usize,
    pub tasks: usize,
    pub pending: usize,
    /// Claimed by a send that stopped before confirming.
    pub unconfirmed: usize,
    pub failed: usize,
    pub skipped: usize,
    pub detectable_lift: f64,
}

pub fn summarise(c: &CampaignRow, m: &[MemberRow]) -> Summary {
    let state = |s: MemberState| m.iter().filter(|x| x.m.state == s).count();
    Summary {
        id: c.id,
        name: c.c.name.clone(),
        start: c.c.start_day,
        window_days: c.c.window_days,
        members: m.len(),
        treatment: m.iter().filter(|x| x.m.arm == Arm::Treatment).count(),
        control: m.iter().filter(|x| x.m.arm == Arm::Control).count(),
        sent: state(MemberState::Sent),
        tasks: state(MemberState::Task),
        pending: state(MemberState::Pending),
        unconfirmed: state(MemberState::Claimed),
        failed: state(MemberState::Failed),
        skipped: state(MemberState::Skipped),
        detectable_lift: c.c.detectable_lift,
    }
}

/// Every campaign, oldest first, with its counts (counted in the store: a
/// campaign can have hundreds of thousands of members).
pub fn list(store: &mut dyn Store) -> Result<Vec<Summary>> {
    let mut out = Vec::new();
    for c in store.campaigns()? {
        let counts = store.member_counts(c.id)?;
        let n = |arm: Option<&str>, state: Option<&str>| {
            counts
                .iter()
                .filter(|(a, s, _)| arm.is_none_or(|x| x == a) && state.is_none_or(|x| x == s))
                .map(|x| x.2 as usize)
                .sum::<usize>()
        };
        out.push(Summary {
            id: c.id,
            name: c.c.name.clone(),
            start: c.c.start_day,
            window_days: c.c.window_days,
            members: n(None, None),
            treatment: n(Some(Arm::Treatment.name()), None),
            control: n(Some(Arm::Control.name()), None),
            sent: n(None, Some(MemberState::Sent.name())),
            tasks: n(None, Some(MemberState::Task.name())),
            pending: n(None, Some(MemberState::Pending.name())),
            unconfirmed: n(None, Some(MemberState::Claimed.name())),
            failed: n(None, Some(MemberState::Failed.name())),
            skipped: n(None, Some(MemberState::Skipped.name())),
            detectable_lift: c.c.detectable_lift,
        });
    }
    Ok(out)
}

/// A campaign's members.
pub fn members(store: &mut dyn Store, name: &str) -> Result<Vec<MemberRow>> {
    let c = find(store, name)?;
    Ok(store.campaign_members(c.id)?)
}

/// What messages are written from besides the customer: reasons, root causes
/// and the taxonomy's labels.
pub struct Knowledge<'a> {
    pub reasons: &'a [Reason],
    pub causes: &'a [RootCause],
    pub taxonomy: &'a Taxonomy,
}

impl World {
    pub fn knowledge(&self) -> Knowledge<'_> {
        Knowledge { reasons: &self.reasons, causes: &self.causes, taxonomy: &self.config.taxonomy }
    }
}

/// What a member's message template sees.
pub fn context(w: &Knowledge, c: &CampaignRow, pb: &Playbook, m: &MemberRow, facts: &CustomerFacts) -> Value {
    let mine = || w.reasons.iter().filter(|r| r.customer_id == m.m.customer_id);
    let reasons: Vec<Value> = mine()
        .map(|r| {
            json!({"category": r.category.as_str(), "label": w.taxonomy.label(&r.category),
                "detail": r.detail.clone().unwrap_or_default(), "suggestion": r.suggestion.clone().unwrap_or_default()})
        })
        .collect();
    let fix = mine()
        .filter_map(|r| r.cause)
        .filter_map(|id| w.causes.iter().find(|c| c.id == id))
        .find(|c| c.status == CauseStatus::Fixed && c.announcement.is_some())
        .map_or(Value::Null, |c| json!({"title": c.title, "announcement": c.announcement}));
    let strategy = pb.strategies.get(&m.m.strategy);
    let offer = match (strategy.and_then(|s| s.incentive), &m.m.coupon) {
        (Some(i), Some(code)) => {
            json!({"code": code, "text": i.text(), "expires": date_of(c.c.start_day + i.expiry_days).to_string()})
        }
        _ => Value::Null,
    };
    let name = facts.name.clone().unwrap_or_else(|| facts.external_id.clone());
    let first = name.split_whitespace().next().unwrap_or(&name).to_string();
    json!({
        "customer": {"id": facts.external_id, "name": name, "first_name": first, "email": facts.email,
            "segment": facts.segment},
        "history": {"purchases": facts.purchases, "net_revenue": (facts.net_revenue() * 100.0).round() / 100.0,
            "last_purchase": facts.last_day.map(|d| date_of(d).to_string()),
            "days_since": facts.last_day.map(|d| c.c.start_day - d)},
        "reasons": reasons,
        "fix": fix,
        "offer": offer,
        "strategy": m.m.strategy,
        "unsubscribe_url": pb.defaults.unsubscribe_url.replace("{token}", &m.m.unsubscribe_token),
        "survey_url": pb.defaults.survey_url.replace("{token}", &m.m.unsubscribe_token),
    })
}

/// Render one member's message: (subject, body).
pub fn message(
    w: &Knowledge,
    c: &CampaignRow,
    pb: &Playbook,
    m: &MemberRow,
    facts: &CustomerFacts,
) -> Result<(String, String)> {
    let strategy =
        pb.strategies.get(&m.m.strategy).ok_or_else(|| AppError::Invalid(format!("no strategy '{}'", m.m.strategy)))?;
    pb.render(&strategy.template, &context(w, c, pb, m, facts))
        .map_err(|e| AppError::Invalid(format!("template '{}' for {}: {e}", strategy.template, m.external_id)))
}

/// One member's message as it would go out.
#[derive(Debug, Clone, Serialize)]
pub struct Preview {
    pub customer: String,
    pub name: Option<String>,
    pub strategy: String,
    pub channel: String,
    pub tier: String,
    pub state: MemberState,
    pub coupon: Option<String>,
    pub subject: String,
    pub body: String,
}

/// Up to `limit` treatment members' messages (or `customer`'s), and how many
/// treatment members there are.
pub fn preview(w: &mut World, name: &str, customer: Option<&str>, limit: usize) -> Result<(Vec<Preview>, usize)> {
    let c = find(w.store.as_mut(), name)?;
    let pb = frozen_playbook(&c, &w.config.taxonomy)?;
    let members = w.store.campaign_members(c.id)?;
    let facts: HashMap<i64, &CustomerFacts> = w.facts.customers.iter().map(|f| (f.id, f)).collect();
    let mut out = Vec::new();
    for m in members.iter().filter(|m| m.m.arm == Arm::Treatment && customer.is_none_or(|x| x == m.external_id)) {
        if out.len() >= limit {
            break;
        }
        let Some(f) = facts.get(&m.m.customer_id) else { continue };
        // tokens are made at sending; a preview's links show where they go
        let mut shown = m.clone();
        shown.m.unsubscribe_token = "TOKEN".into();
        let (subject, body) = message(&w.knowledge(), &c, &pb, &shown, f)?;
        out.push(Preview {
            customer: m.external_id.clone(),
            name: f.name.clone(),
            strategy: m.m.strategy.clone(),
            channel: m.m.channel.clone(),
            tier: m.m.tier.clone(),
            state: m.m.state,
            coupon: m.m.coupon.clone(),
            subject,
            body,
        });
    }
    if out.is_empty() {
        return Err(AppError::NotFound(format!(
            "no treatment member{} in campaign '{name}'",
            customer.map_or(String::new(), |c| format!(" '{c}'"))
        )));
    }
    let treatment = members.iter().filter(|m| m.m.arm == Arm::Treatment).count();
    Ok((out, treatment))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(check_name("spring 2025").is_ok());
        assert!(check_name("../../x").is_err());
        assert!(check_name(".hidden").is_err());
        assert!(check_name("a\nb").is_err());
        assert!(check_name(" ").is_err());
        assert!(check_name(&"x".repeat(101)).is_err());
    }

    #[test]
    fn tokens_are_128_bits_and_differ() {
        let mut rng = secret_rng();
        let (a, b) = (member_token(&mut rng), member_token(&mut rng));
        assert_eq!(a.len(), 32);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }
}
