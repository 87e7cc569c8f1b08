//! `winback fix add|list|update|close`: root causes, tracked until fixed.

use std::path::Path;

use anyhow::{bail, Result};
use serde_json::json;
use winback_domain::causes::{CauseStatus, CauseUpdate, NewCause, RootCause};
use winback_domain::period::{date_of, day_number};
use winback_domain::reasons::{Category, Scope};

use crate::cli::{FixAddArgs, FixCloseArgs, FixCommand, FixUpdateArgs, Format};
use crate::output::{emit, emit_json, emit_rows, num, Rows};

pub fn run(db: &str, config: Option<&Path>, cmd: &FixCommand) -> Result<()> {
    match cmd {
        FixCommand::Add(a) => add(db, config, a),
        FixCommand::List { format } => list(db, config, *format),
        FixCommand::Update(a) => update(db, config, a),
        FixCommand::Close(a) => close(db, a),
    }
}

fn describe(c: &RootCause, linked: usize, verb: &str) -> String {
    let fixed = c.fixed_on.map_or(String::new(), |d| format!(" on {}", date_of(d)));
    let mut s =
        format!("{verb} root cause #{}: {} [{}] {}{fixed}\n", c.id, c.title, categories_text(c), c.status.name());
    if linked > 0 {
        s += &format!("linked {linked} reasons in its categories\n");
    }
    if c.status.holds() {
        s += "customers whose reasons link to it are held from outreach until it is fixed\n";
    } else if let Some(a) = &c.announcement {
        s += &format!("announce: {a}\n");
    }
    s
}

fn categories_text(c: &RootCause) -> String {
    c.categories.iter().map(Category::as_str).collect::<Vec<_>>().join(", ")
}

fn show(c: &RootCause, linked: usize, verb: &str, format: Format) -> Result<()> {
    if format == Format::Json {
        return emit_json(&json!({"cause": c, "linked": linked}));
    }
    emit(&describe(c, linked, verb))
}

fn add(db: &str, config: Option<&Path>, a: &FixAddArgs) -> Result<()> {
    let cfg = crate::config::load(config)?;
    let status: CauseStatus = a.status.parse()?;
    let fixed_on = match (status, a.fixed_on) {
        (CauseStatus::Fixed, d) => Some(d.map_or_else(|| day_number(chrono::Utc::now().date_naive()), day_number)),
        (_, Some(_)) => bail!("--fixed-on needs --status fixed"),
        (_, None) => None,
    };
    let c = NewCause {
        title: a.title.trim().to_string(),
        categories: winback_app::causes::categories(&cfg.taxonomy, &a.categories)?,
        scope: if a.specific { Scope::Specific } else { Scope::Systemic },
        status,
        fixed_on,
        announcement: a.announce.clone(),
    };
    if c.title.is_empty() {
        bail!("--title must not be empty");
    }
    let s = winback_app::causes::add(super::store::open(db)?.as_mut(), &c)?;
    show(&s.cause, s.linked, "added", a.format)
}

fn update(db: &str, config: Option<&Path>, a: &FixUpdateArgs) -> Result<()> {
    let cfg = crate::config::load(config)?;
    let u = CauseUpdate {
        title: a.title.clone(),
        categories: a.categories.as_ref().map(|c| winback_app::causes::categories(&cfg.taxonomy, c)).transpose()?,
        status: a.status.as_deref().map(str::parse).transpose()?,
        fixed_on: a.fixed_on.map(day_number),
        announcement: a.announce.clone(),
    };
    let s = winback_app::causes::update(super::store::open(db)?.as_mut(), a.id, &u)?;
    show(&s.cause, s.linked, "updated", a.format)
}

fn close(db: &str, a: &FixCloseArgs) -> Result<()> {
    let mut store = super::store::open(db)?;
    let s =
        winback_app::causes::close(store.as_mut(), a.id, a.wont_fix, a.fixed_on.map(day_number), a.announce.clone())?;
    show(&s.cause, s.linked, "closed", a.format)
}

fn list(db: &str, config: Option<&Path>, format: Format) -> Result<()> {
    let w = super::assess::load(db, config)?;
    let mut rows = Rows::for_format(
        vec![
            "id",
            "title",
            "categories",
            "scope",
            "status",
            "fixed_on",
            "reasons",
            "held_customers",
            "held_value",
            "announcement",
        ],
        format,
    );
    for x in winback_app::causes::list(&w) {
        let c = &x.cause;
        rows.push(vec![
            json!(c.id),
            json!(c.title),
            json!(categories_text(c)),
            json!(c.scope.name()),
            json!(c.status.name()),
            json!(c.fixed_on.map(|d| date_of(d).to_string())),
            json!(x.reasons),
            json!(x.held_customers),
            num(x.held_value),
            json!(c.announcement),
        ]);
    }
    emit_rows(rows, format, 2)
}
