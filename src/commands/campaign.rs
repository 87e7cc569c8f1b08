//! `winback campaign create|list|preview|send|report|simulate-outcomes` and
//! `winback playbook init|check`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde_json::{json, Value};
use winback_domain::campaign::{assign, coupon_code, Arm, MemberState};
use winback_domain::causes::CauseStatus;
use winback_domain::decision::Decision;
use winback_domain::facts::CustomerFacts;
use winback_domain::period::{date_of, day_number};
use winback_domain::playbook::{Audience, Playbook, DEFAULT};
use winback_domain::reasons::{Reason, Taxonomy};
use winback_stats::proportions::minimum_detectable_lift;
use winback_store::{CampaignRow, MemberRow, NewCampaign, NewMember, Store};

use super::assess::World;
use crate::cli::{CampaignCommand, CampaignCreateArgs, Format, PlaybookCommand, Target};
use crate::output::{emit, emit_json, emit_rows, num, Rows};

pub fn today() -> i32 {
    day_number(chrono::Utc::now().date_naive())
}

/// The playbook in use: `--playbook FILE`, else ./playbook.toml, else the default.
pub fn load_playbook(path: Option<&Path>, taxonomy: &Taxonomy) -> Result<(String, Playbook)> {
    let file = path.map(Path::to_path_buf).or_else(|| Some(PathBuf::from("playbook.toml")).filter(|p| p.exists()));
    let text = match &file {
        Some(f) => std::fs::read_to_string(f).with_context(|| format!("cannot read {}", f.display()))?,
        None => DEFAULT.to_string(),
    };
    let name = file.as_ref().map_or_else(|| "the default playbook".to_string(), |f| f.display().to_string());
    parse_playbook(&text, taxonomy, &name).map(|p| (text, p))
}

fn parse_playbook(text: &str, taxonomy: &Taxonomy, name: &str) -> Result<Playbook> {
    Playbook::parse(text, taxonomy).map_err(|problems| {
        let list: Vec<String> = problems.iter().map(|p| format!("  {name}: {p}")).collect();
        anyhow::anyhow!("the playbook has {} problem(s):\n{}", problems.len(), list.join("\n"))
    })
}

pub fn playbook(config: Option<&Path>, cmd: &PlaybookCommand) -> Result<()> {
    match cmd {
        PlaybookCommand::Init { file, force } => {
            if file.exists() && !force {
                bail!("{} exists; use --force to overwrite it", file.display());
            }
            std::fs::write(file, DEFAULT).with_context(|| format!("cannot write {}", file.display()))?;
            emit(&format!(
                "wrote {} (the default playbook, commented); check it with `winback playbook check`\n",
                file.display()
            ))
        }
        PlaybookCommand::Check { file } => {
            let cfg = crate::config::load(config)?;
            let text = std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
            let p = parse_playbook(&text, &cfg.taxonomy, &file.display().to_string())?;
            emit(&format!(
                "{}: ok — {} rules, {} strategies, {} templates\n",
                file.display(),
                p.rules.len(),
                p.strategies.len(),
                p.templates.len()
            ))
        }
    }
}

pub fn run(db: &str, config: Option<&Path>, cmd: &CampaignCommand) -> Result<()> {
    match cmd {
        CampaignCommand::Create(a) => create(db, config, a),
        CampaignCommand::List { format } => list(db, *format),
        CampaignCommand::Members { name, format } => members(db, name, *format),
        CampaignCommand::Preview { name, customer, limit } => preview(db, config, name, customer.as_deref(), *limit),
        CampaignCommand::Send(a) => super::send::run(db, config, a),
        CampaignCommand::Report { name, as_of, format } => super::outcomes::report(db, config, name, *as_of, *format),
        CampaignCommand::SimulateOutcomes { name, base_rate, lift, seed, output } => {
            super::outcomes::simulate(db, name, *base_rate, *lift, *seed, output)
        }
    }
}

pub fn find(store: &mut dyn Store, name: &str) -> Result<CampaignRow> {
    let all = store.campaigns()?;
    let names: Vec<String> = all.iter().map(|c| c.c.name.clone()).collect();
    all.into_iter().find(|c| c.c.name == name).ok_or_else(|| {
        anyhow::anyhow!(
            "no campaign '{name}'{}",
            if names.is_empty() {
                "; create one with `winback campaign create NAME`".into()
            } else {
                format!(" (campaigns: {})", names.join(", "))
            }
        )
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
/// random source (the previous clock-derived secret was guessable).
fn secret_rng() -> rand::rngs::StdRng {
    <rand::rngs::StdRng as rand::SeedableRng>::from_os_rng()
}

/// An unguessable unsubscribe token: 128 random bits, stored with the member.
fn unsubscribe_token(rng: &mut rand::rngs::StdRng) -> String {
    let (a, b) = (rand::RngCore::next_u64(rng), rand::RngCore::next_u64(rng));
    format!("{a:016x}{b:016x}")
}

/// A name for a campaign: printable, short, not a path.
fn check_name(name: &str) -> Result<()> {
    if name.trim().is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        bail!("campaign name '{}': give 1 to 100 printable characters", name.escape_debug());
    }
    if name.contains(['/', '\\']) || name.starts_with('.') {
        bail!("campaign name '{name}': no slashes and no leading dot (it names the task list file)");
    }
    Ok(())
}

struct Selected {
    member: NewMember,
    value: f64,
}

fn create(db: &str, config: Option<&Path>, a: &CampaignCreateArgs) -> Result<()> {
    if !(0.0..1.0).contains(&a.holdout) {
        bail!("--holdout must be at least 0 and below 1");
    }
    if !(a.base_rate > 0.0 && a.base_rate < 1.0) {
        bail!("--base-rate must be between 0 and 1");
    }
    check_name(&a.name)?;
    let mut w = super::assess::load(db, config)?;
    if w.facts.run.is_none() {
        bail!("no analysis run yet: run `winback analyze` first, so decisions have scores behind them");
    }
    let (text, pb) = load_playbook(a.playbook.as_deref(), &w.config.taxonomy)?;
    let start = a.start.map_or_else(today, day_number);
    let capped: std::collections::HashSet<i64> = w.store.contacted_since(start - a.cap_days)?.into_iter().collect();
    let opt_outs = w.store.opt_outs()?;
    let reasons = by_customer(&w.reasons);
    let (mut skipped_held, mut skipped_cap, mut skipped_channel, mut skipped_rule) = (0, 0, 0, 0);
    let mut rng = secret_rng();
    // the holdout of a campaign whose window is still open stays untouched, or
    // its report would count contacted customers as controls
    let mut held_out: std::collections::HashSet<i64> = std::collections::HashSet::new();
    for other in w.store.campaigns()? {
        if other.c.start_day + other.c.window_days >= start {
            held_out.extend(
                w.store
                    .campaign_members(other.id)?
                    .into_iter()
                    .filter(|m| m.m.arm == Arm::Control)
                    .map(|m| m.m.customer_id),
            );
        }
    }
    let mut skipped_holdout = 0;
    let mut picked: Vec<Selected> = Vec::new();
    for (f, x) in w.facts.customers.iter().zip(&w.assessed) {
        let Some(v) = &x.verdict else { continue };
        let wanted = match a.target {
            Target::WinBack => v.decision == Decision::WinBack,
            Target::KeepInTouch => v.decision == Decision::KeepInTouch,
            Target::All => v.decision != Decision::WalkAway,
        };
        if !wanted || f.do_not_contact {
            continue;
        }
        if !v.held_by.is_empty() && !a.include_held {
            skipped_held += 1;
            continue;
        }
        if capped.contains(&f.id) {
            skipped_cap += 1;
            continue;
        }
        if held_out.contains(&f.id) {
            skipped_holdout += 1;
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
            skipped_rule += 1;
            continue;
        };
        let out: Vec<&str> = opt_outs.iter().filter(|(c, _)| *c == f.id).map(|(_, ch)| ch.as_str()).collect();
        let Some(channel) = channel_for(f, &strategy.channels, &out) else {
            skipped_channel += 1;
            continue;
        };
        let category = rule
            .categories
            .iter()
            .find(|c| cats.contains(c))
            .or(cats.first())
            .cloned()
            .unwrap_or_else(|| "none".into());
        picked.push(Selected {
            member: NewMember {
                customer_id: f.id,
                arm: Arm::Treatment,
                tier: v.worth.tier.name().into(),
                category,
                rule: rule.name.clone(),
                strategy: rule.strategy.clone(),
                channel,
                coupon: strategy.incentive.map(|_| coupon_code(rand::RngCore::next_u64(&mut rng))),
                unsubscribe_token: unsubscribe_token(&mut rng),
                value_if_won: v.worth.value_if_won,
                state: MemberState::Pending,
            },
            value: v.worth.value_if_won,
        });
    }
    picked.sort_by(|x, y| y.value.total_cmp(&x.value).then(x.member.customer_id.cmp(&y.member.customer_id)));
    let tiers: Vec<&str> = picked.iter().map(|s| s.member.tier.as_str()).collect();
    let arms = assign(&tiers, a.holdout, a.seed);
    let members: Vec<NewMember> = picked
        .into_iter()
        .zip(&arms)
        .map(|(s, arm)| {
            let mut m = s.member;
            m.arm = *arm;
            m.state = if *arm == Arm::Treatment { MemberState::Pending } else { MemberState::Holdout };
            if *arm == Arm::Control {
                m.coupon = None;
            }
            m
        })
        .collect();
    let n_t = arms.iter().filter(|x| **x == Arm::Treatment).count() as u64;
    let n_c = arms.len() as u64 - n_t;
    let mde = minimum_detectable_lift(n_t, n_c, a.base_rate, 0.05, 0.8);
    let alternatives: Vec<(f64, f64)> = [0.1, 0.2, 0.3, 0.5]
        .iter()
        .map(|&h| {
            let c = (arms.len() as f64 * h).round() as u64;
            (h, minimum_detectable_lift(arms.len() as u64 - c, c, a.base_rate, 0.05, 0.8))
        })
        .collect();
    let mut s = format!(
        "campaign '{}' on {}: {} customers selected ({} treatment, {} held out, stratified by value tier; seed {}).\n",
        a.name,
        date_of(start),
        members.len(),
        n_t,
        n_c,
        a.seed
    );
    s += &format!(
        "left out: {skipped_held} held by an unfixed cause{}, {skipped_cap} contacted in the last {} days, {skipped_holdout} in the holdout of a campaign still measuring, {skipped_channel} with no consented channel, {skipped_rule} matched no playbook rule.\n",
        if a.include_held { "" } else { " (--include-held to add them)" },
        a.cap_days
    );
    s += &format!(
        "smallest lift this campaign can detect (80% power, 5% two-sided, around a {:.0}% base rate, {}-day window): {}\n",
        100.0 * a.base_rate,
        a.window,
        if mde.is_finite() { format!("{:.1} percentage points", 100.0 * mde) } else { "none: a group is empty".into() }
    );
    if mde > 0.1 {
        s += "  that is large: only a big effect would show. With other holdout shares:\n";
        for (h, m) in &alternatives {
            s += &format!(
                "    holdout {:.0}%: {}\n",
                100.0 * h,
                if m.is_finite() { format!("{:.1} points", 100.0 * m) } else { "–".into() }
            );
        }
    }
    let mut by: HashMap<(&str, &str), usize> = HashMap::new();
    for m in &members {
        *by.entry((m.strategy.as_str(), m.channel.as_str())).or_default() += 1;
    }
    let mut by: Vec<_> = by.into_iter().collect();
    by.sort();
    for ((strategy, channel), n) in &by {
        s += &format!("  {n:>5} × {strategy} by {channel}\n");
    }
    if a.dry_run || members.is_empty() {
        if a.format == Format::Json {
            return emit_json(&json!({"name": a.name, "selected": members.len(), "treatment": n_t, "control": n_c,
                "detectable_lift": mde, "alternatives": alternatives, "frozen": false}));
        }
        s += if members.is_empty() { "nobody to contact: nothing frozen.\n" } else { "dry run: nothing frozen.\n" };
        return emit(&s);
    }
    let c = NewCampaign {
        name: a.name.clone(),
        start_day: start,
        target: format!("{:?}", a.target).to_lowercase(),
        holdout: a.holdout,
        seed: a.seed as i64,
        window_days: a.window,
        base_rate: a.base_rate,
        detectable_lift: mde,
        playbook: text,
        run_id: w.facts.run.as_ref().map(|r| r.id),
    };
    let id = w.store.create_campaign(&c, &members)?;
    if a.format == Format::Json {
        return emit_json(
            &json!({"id": id, "name": a.name, "selected": members.len(), "treatment": n_t, "control": n_c,
            "detectable_lift": mde, "alternatives": alternatives, "frozen": true}),
        );
    }
    s += &format!("frozen as campaign #{id}. next: winback campaign preview {0}; winback campaign send {0}\n", a.name);
    emit(&s)
}

pub fn by_customer(reasons: &[Reason]) -> HashMap<i64, Vec<&Reason>> {
    let mut m: HashMap<i64, Vec<&Reason>> = HashMap::new();
    for r in reasons {
        m.entry(r.customer_id).or_default().push(r);
    }
    m
}

/// Every member of a campaign: arm, state, channel, strategy, contact and error.
fn members(db: &str, name: &str, format: Format) -> Result<()> {
    let mut store = super::store::open(db)?;
    let c = find(store.as_mut(), name)?;
    let mut rows = Rows::for_format(
        vec!["customer", "arm", "state", "tier", "channel", "strategy", "coupon", "contacted", "error"],
        format,
    );
    for m in store.campaign_members(c.id)? {
        rows.push(vec![
            json!(m.external_id),
            json!(m.m.arm),
            json!(m.m.state),
            json!(m.m.tier),
            json!(m.m.channel),
            json!(m.m.strategy),
            json!(m.m.coupon),
            m.contacted_day.map_or(Value::Null, |d| json!(date_of(d).to_string())),
            json!(m.error),
        ]);
    }
    emit_rows(rows, format, 2)
}

fn list(db: &str, format: Format) -> Result<()> {
    let mut store = super::store::open(db)?;
    let mut rows = Rows::for_format(
        vec![
            "campaign",
            "date",
            "window_days",
            "members",
            "treatment",
            "control",
            "sent",
            "tasks",
            "pending",
            "unconfirmed",
            "failed",
            "detectable_lift",
        ],
        format,
    );
    for c in store.campaigns()? {
        let m = store.campaign_members(c.id)?;
        let count = |f: &dyn Fn(&MemberRow) -> bool| m.iter().filter(|x| f(x)).count();
        rows.push(vec![
            json!(c.c.name),
            json!(date_of(c.c.start_day).to_string()),
            json!(c.c.window_days),
            json!(m.len()),
            json!(count(&|x| x.m.arm == Arm::Treatment)),
            json!(count(&|x| x.m.arm == Arm::Control)),
            json!(count(&|x| x.m.state == MemberState::Sent)),
            json!(count(&|x| x.m.state == MemberState::Task)),
            json!(count(&|x| x.m.state == MemberState::Pending)),
            // claimed by a send that stopped before confirming (see send --release-unconfirmed)
            json!(count(&|x| x.m.state == MemberState::Claimed)),
            json!(count(&|x| x.m.state == MemberState::Failed)),
            num(c.c.detectable_lift),
        ]);
    }
    emit_rows(rows, format, 3)
}

/// What a member's message template sees.
pub fn context(w: &World, c: &CampaignRow, pb: &Playbook, m: &MemberRow, facts: &CustomerFacts) -> Value {
    let reasons: Vec<Value> = w
        .reasons
        .iter()
        .filter(|r| r.customer_id == m.m.customer_id)
        .map(|r| {
            json!({"category": r.category.as_str(), "label": w.config.taxonomy.label(&r.category),
                "detail": r.detail.clone().unwrap_or_default(), "suggestion": r.suggestion.clone().unwrap_or_default()})
        })
        .collect();
    let fix = w
        .reasons
        .iter()
        .filter(|r| r.customer_id == m.m.customer_id)
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
    })
}

/// Render one member's message: (subject, body).
pub fn message(
    w: &World,
    c: &CampaignRow,
    pb: &Playbook,
    m: &MemberRow,
    facts: &CustomerFacts,
) -> Result<(String, String)> {
    let strategy = pb.strategies.get(&m.m.strategy).with_context(|| format!("no strategy '{}'", m.m.strategy))?;
    pb.render(&strategy.template, &context(w, c, pb, m, facts))
        .map_err(|e| anyhow::anyhow!("template '{}' for {}: {e}", strategy.template, m.external_id))
}

fn preview(db: &str, config: Option<&Path>, name: &str, customer: Option<&str>, limit: usize) -> Result<()> {
    let mut w = super::assess::load(db, config)?;
    let c = find(w.store.as_mut(), name)?;
    let pb = parse_playbook(&c.c.playbook, &w.config.taxonomy, "the campaign's playbook")?;
    let members = w.store.campaign_members(c.id)?;
    let facts: HashMap<i64, &CustomerFacts> = w.facts.customers.iter().map(|f| (f.id, f)).collect();
    let mut s = String::new();
    let mut shown = 0;
    for m in members.iter().filter(|m| m.m.arm == Arm::Treatment && customer.is_none_or(|x| x == m.external_id)) {
        if shown >= limit {
            break;
        }
        let Some(f) = facts.get(&m.m.customer_id) else { continue };
        let (subject, body) = message(&w, &c, &pb, m, f)?;
        s += &format!(
            "── {} {} · {} by {} · tier {} · {}{}\nSubject: {subject}\n\n{body}\n",
            m.external_id,
            f.name.as_deref().unwrap_or(""),
            m.m.strategy,
            m.m.channel,
            m.m.tier,
            m.m.state.name(),
            m.m.coupon.as_ref().map_or(String::new(), |c| format!(" · coupon {c}")),
        );
        shown += 1;
    }
    if shown == 0 {
        bail!("no treatment member{} in campaign '{name}'", customer.map_or(String::new(), |c| format!(" '{c}'")));
    }
    let t = members.iter().filter(|m| m.m.arm == Arm::Treatment).count();
    s += &format!("{shown} of {t} messages shown (--limit N, --customer ID). Held-out members get nothing.\n");
    emit(&s)
}

/// A campaign's frozen playbook.
pub fn load_playbook_text(text: &str, taxonomy: &Taxonomy) -> Result<Playbook> {
    parse_playbook(text, taxonomy, "the campaign's frozen playbook")
}
