//! `winback fix add|list|update|close`: root causes, tracked until fixed.

use std::path::Path;

use anyhow::{bail, Result};
use serde_json::json;
use winback_domain::causes::{CauseStatus, CauseUpdate, NewCause, RootCause};
use winback_domain::period::{date_of, day_number};
use winback_domain::reasons::{Category, Scope, Taxonomy};

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

fn categories(t: &Taxonomy, given: &[String]) -> Result<Vec<Category>> {
    let mut out: Vec<Category> =
        given.iter().filter(|c| !c.trim().is_empty()).map(|c| t.parse(c)).collect::<Result<_, _>>()?;
    out.dedup();
    if out.is_empty() {
        bail!("name at least one reason category (--categories delivery,price)");
    }
    Ok(out)
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
        categories: categories(&cfg.taxonomy, &a.categories)?,
        scope: if a.specific { Scope::Specific } else { Scope::Systemic },
        status,
        fixed_on,
        announcement: a.announce.clone(),
    };
    if c.title.is_empty() {
        bail!("--title must not be empty");
    }
    let mut store = super::store::open(db)?;
    let (id, linked) = store.add_cause(&c)?;
    let saved = store.causes()?.into_iter().find(|x| x.id == id).expect("just added");
    show(&saved, linked, "added", a.format)
}

fn update(db: &str, config: Option<&Path>, a: &FixUpdateArgs) -> Result<()> {
    let cfg = crate::config::load(config)?;
    let u = CauseUpdate {
        title: a.title.clone(),
        categories: a.categories.as_ref().map(|c| categories(&cfg.taxonomy, c)).transpose()?,
        status: a.status.as_deref().map(str::parse).transpose()?,
        fixed_on: a.fixed_on.map(day_number),
        announcement: a.announce.clone(),
    };
    let (c, linked) = super::store::open(db)?.update_cause(a.id, &u)?;
    show(&c, linked, "updated", a.format)
}

fn close(db: &str, a: &FixCloseArgs) -> Result<()> {
    let u = CauseUpdate {
        status: Some(if a.wont_fix { CauseStatus::WontFix } else { CauseStatus::Fixed }),
        fixed_on: if a.wont_fix { None } else { a.fixed_on.map(day_number) },
        announcement: a.announce.clone(),
        ..Default::default()
    };
    let (c, linked) = super::store::open(db)?.update_cause(a.id, &u)?;
    show(&c, linked, "closed", a.format)
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
    for c in &w.causes {
        let reasons = w.reasons.iter().filter(|r| r.cause == Some(c.id)).count();
        let (mut held, mut value) = (0, 0.0);
        for v in w.assessed.iter().filter_map(|x| x.verdict.as_ref()) {
            if v.held_by.iter().any(|h| h.cause == c.id) {
                held += 1;
                value += v.worth.value_if_won;
            }
        }
        rows.push(vec![
            json!(c.id),
            json!(c.title),
            json!(categories_text(c)),
            json!(c.scope.name()),
            json!(c.status.name()),
            json!(c.fixed_on.map(|d| date_of(d).to_string())),
            json!(reasons),
            json!(held),
            num(value),
            json!(c.announcement),
        ]);
    }
    emit_rows(rows, format, 2)
}
