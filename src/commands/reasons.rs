//! `winback reason add|list|import|categories`.

use std::path::Path;

use anyhow::{bail, Result};
use serde_json::json;
use winback_domain::period::{date_of, day_number};
use winback_domain::reasons::{NewReason, Reason, Scope, Source};

use crate::cli::{Format, ReasonAddArgs, ReasonCommand, ReasonImportArgs, ReasonListArgs};
use crate::output::{emit, emit_json, emit_rows, Rows};

pub fn run(db: &str, config: Option<&Path>, cmd: &ReasonCommand) -> Result<()> {
    match cmd {
        ReasonCommand::Add(a) => add(db, config, a),
        ReasonCommand::List(a) => list(db, config, a),
        ReasonCommand::Import(a) => import(db, config, a),
        ReasonCommand::Categories { format } => categories(config, *format),
    }
}

fn today() -> i32 {
    day_number(chrono::Utc::now().date_naive())
}

fn user() -> String {
    std::env::var("USER").or_else(|_| std::env::var("USERNAME")).unwrap_or_else(|_| "unknown".into())
}

fn add(db: &str, config: Option<&Path>, a: &ReasonAddArgs) -> Result<()> {
    let cfg = crate::config::load(config)?;
    let r = NewReason {
        line: 0,
        customer: a.customer.trim().to_string(),
        category: cfg.taxonomy.parse(&a.category)?,
        scope: if a.systemic { Scope::Systemic } else { Scope::Specific },
        detail: a.detail.clone(),
        suggestion: a.suggestion.clone(),
        source: a.source.parse::<Source>()?,
        day: a.date.map_or_else(today, day_number),
        recorded_by: a.by.clone().unwrap_or_else(user),
        cause: a.cause,
        wont_return: false,
    };
    let mut store = super::store::open(db)?;
    let Some(saved) = winback_app::reasons::add(store.as_mut(), &r)? else {
        bail!("customer {} already has this reason recorded (same category, day, source and detail)", r.customer);
    };
    if a.format == Format::Json {
        return emit_json(&saved);
    }
    let cause = saved.cause.map_or_else(String::new, |c| format!(", linked to root cause #{c}"));
    emit(&format!(
        "recorded reason #{} for {}: {} ({}){cause}\n",
        saved.id,
        saved.customer,
        cfg.taxonomy.label(&saved.category),
        saved.scope.name()
    ))
}

const COLUMNS: [&str; 11] = [
    "id",
    "customer",
    "date",
    "category",
    "scope",
    "detail",
    "suggestion",
    "source",
    "recorded_by",
    "recorded_at",
    "cause",
];

fn row(r: &Reason) -> Vec<serde_json::Value> {
    vec![
        json!(r.id),
        json!(r.customer),
        json!(date_of(r.day).to_string()),
        json!(r.category.as_str()),
        json!(r.scope.name()),
        json!(r.detail),
        json!(r.suggestion),
        json!(r.source.name()),
        json!(r.recorded_by),
        json!(r.recorded_at),
        json!(r.cause),
    ]
}

fn list(db: &str, config: Option<&Path>, a: &ReasonListArgs) -> Result<()> {
    let cfg = crate::config::load(config)?;
    let category = a.category.as_deref().map(|c| cfg.taxonomy.parse(c)).transpose()?;
    let filter = winback_app::reasons::ListFilter { customer: a.customer.clone(), category };
    let all = winback_app::reasons::list(super::store::open(db)?.as_mut(), &filter)?;
    let mut rows = Rows::for_format(COLUMNS.to_vec(), a.format);
    for r in &all {
        rows.push(row(r));
    }
    emit_rows(rows, a.format, 0)
}

fn import(db: &str, config: Option<&Path>, a: &ReasonImportArgs) -> Result<()> {
    let cfg = crate::config::load(config)?;
    let mut store = super::store::open(db)?;
    let file = (a.file.as_path(), a.encoding);
    let out =
        winback_app::reasons::import(store.as_mut(), &cfg, file, a.date_format.as_deref(), today(), a.by.clone())?;
    if a.format == Format::Json {
        return emit_json(&out);
    }
    if let Some(n) = out.note {
        eprintln!("{}: {n}", a.file.display());
    }
    emit(&format!(
        "{}: {} rows: {} imported, {} already recorded; {} linked to a root cause\n",
        a.file.display(),
        out.rows,
        out.imported,
        out.duplicates,
        out.linked_to_causes
    ))
}

fn categories(config: Option<&Path>, format: Format) -> Result<()> {
    let cfg = crate::config::load(config)?;
    let mut rows = Rows::for_format(vec!["category", "label", "keep_in_touch"], format);
    for c in &cfg.taxonomy.categories {
        rows.push(vec![json!(c.key), json!(c.label), json!(c.keep_in_touch)]);
    }
    emit_rows(rows, format, 0)
}
