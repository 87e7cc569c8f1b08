//! `winback campaign create|list|members|preview|send|report|simulate-outcomes`
//! and `winback playbook init|check`: arguments in, the application layer's
//! campaign services called, their results rendered.

use std::path::Path;

use anyhow::{bail, Context, Result};
use serde_json::{json, Value};
use winback_app::campaigns::{self, CreateRequest, Plan};
use winback_domain::campaign::Target as DomainTarget;
use winback_domain::period::{date_of, day_number};
use winback_domain::playbook::DEFAULT;

use crate::cli::{CampaignCommand, CampaignCreateArgs, Format, PlaybookCommand, Target};
use crate::output::{emit, emit_json, emit_rows, num, Rows};

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
            let p = campaigns::parse_playbook(&text, &cfg.taxonomy, &file.display().to_string())?;
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

fn create(db: &str, config: Option<&Path>, a: &CampaignCreateArgs) -> Result<()> {
    campaigns::check_name(&a.name)?;
    let mut w = super::assess::load(db, config)?;
    let req = CreateRequest {
        name: &a.name,
        target: match a.target {
            Target::WinBack => DomainTarget::WinBack,
            Target::KeepInTouch => DomainTarget::KeepInTouch,
            Target::All => DomainTarget::All,
        },
        holdout: a.holdout,
        seed: a.seed,
        window_days: a.window,
        base_rate: a.base_rate,
        start: a.start.map(day_number),
        cap_days: a.cap_days,
        include_held: a.include_held,
        include_holdouts: a.include_holdouts,
        playbook: a.playbook.as_deref(),
        dry_run: a.dry_run,
    };
    let plan = campaigns::create(&mut w, &req)?;
    if a.format == Format::Json {
        return emit_json(&plan);
    }
    emit(&plan_text(&plan, a))
}

fn plan_text(p: &Plan, a: &CampaignCreateArgs) -> String {
    let l = &p.left_out;
    let mut s = format!(
        "campaign '{}' on {}: {} customers selected ({} treatment, {} held out, stratified by value tier; seed {}).\n",
        p.name,
        date_of(p.start),
        p.selected,
        p.treatment,
        p.control,
        p.seed
    );
    s += &format!(
        "left out: {} held by an unfixed cause{}, {} contacted in the last {} days, {} in the holdout of a campaign still measuring, {} with no consented channel, {} matched no playbook rule.\n",
        l.held,
        if a.include_held { "" } else { " (--include-held to add them)" },
        l.capped,
        a.cap_days,
        l.holdout,
        l.no_channel,
        l.no_rule
    );
    if p.from_other_holdouts > 0 {
        s += &format!(
            "warning: {} members come from the holdout of a campaign still measuring (--include-holdouts); that campaign's report will say its comparison is contaminated.\n",
            p.from_other_holdouts
        );
    }
    let mde = p.detectable_lift;
    s += &format!(
        "smallest lift this campaign can detect (80% power, 5% two-sided, around a {:.0}% base rate, {}-day window): {}\n",
        100.0 * a.base_rate,
        a.window,
        if mde.is_finite() { format!("{:.1} percentage points", 100.0 * mde) } else { "none: a group is empty".into() }
    );
    if mde > 0.1 {
        s += "  that is large: only a big effect would show. With other holdout shares:\n";
        for (h, m) in &p.alternatives {
            s += &format!(
                "    holdout {:.0}%: {}\n",
                100.0 * h,
                if m.is_finite() { format!("{:.1} points", 100.0 * m) } else { "–".into() }
            );
        }
    }
    for (strategy, channel, n) in &p.by_strategy {
        s += &format!("  {n:>5} × {strategy} by {channel}\n");
    }
    match p.id {
        Some(id) => {
            s += &format!(
                "frozen as campaign #{id}. next: winback campaign preview {0}; winback campaign send {0}\n",
                p.name
            )
        }
        None if p.selected == 0 => s += "nobody to contact: nothing frozen.\n",
        None => s += "dry run: nothing frozen.\n",
    }
    s
}

/// Every member of a campaign: arm, state, channel, strategy, contact and error.
fn members(db: &str, name: &str, format: Format) -> Result<()> {
    let mut store = super::store::open(db)?;
    let mut rows = Rows::for_format(
        vec!["customer", "arm", "state", "tier", "channel", "strategy", "coupon", "contacted", "error"],
        format,
    );
    for m in campaigns::members(store.as_mut(), name)? {
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
            "skipped",
            "detectable_lift",
        ],
        format,
    );
    for c in campaigns::list(store.as_mut())? {
        rows.push(vec![
            json!(c.name),
            json!(date_of(c.start).to_string()),
            json!(c.window_days),
            json!(c.members),
            json!(c.treatment),
            json!(c.control),
            json!(c.sent),
            json!(c.tasks),
            json!(c.pending),
            // claimed by a send that stopped before confirming (see send --release-unconfirmed)
            json!(c.unconfirmed),
            json!(c.failed),
            json!(c.skipped),
            num(c.detectable_lift),
        ]);
    }
    emit_rows(rows, format, 3)
}

fn preview(db: &str, config: Option<&Path>, name: &str, customer: Option<&str>, limit: usize) -> Result<()> {
    let mut w = super::assess::load(db, config)?;
    let (shown, treatment) = campaigns::preview(&mut w, name, customer, limit)?;
    let mut s = String::new();
    for p in &shown {
        s += &format!(
            "── {} {} · {} by {} · tier {} · {}{}\nSubject: {}\n\n{}\n",
            p.customer,
            p.name.as_deref().unwrap_or(""),
            p.strategy,
            p.channel,
            p.tier,
            p.state.name(),
            p.coupon.as_ref().map_or(String::new(), |c| format!(" · coupon {c}")),
            p.subject,
            p.body
        );
    }
    s += &format!(
        "{} of {treatment} messages shown (--limit N, --customer ID). Held-out members get nothing.\n",
        shown.len()
    );
    emit(&s)
}
