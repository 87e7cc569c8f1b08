//! Commands on the store as a whole: open it, analyze, db status.

use anyhow::{Context, Result};
use serde_json::json;
use winback_domain::period::date_of;
use winback_store::Store;

use crate::cli::{AnalyzeArgs, DbCommand, Format};
use crate::output::{emit, fit_json, fit_text, Rows};

pub fn open(db: &str) -> Result<Box<dyn Store>> {
    winback_store::open(db).with_context(|| format!("opening the store {}", redact(db)))
}

/// A URL without its password, for messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.find('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

pub use winback_app::analyze::Analysis;

pub fn analyze(db: &str, a: &AnalyzeArgs) -> Result<()> {
    let r = run_analysis(db, a)?;
    match a.format {
        Format::Json => {
            let mut v = json!({"run": r.id, "observation_end": r.end.to_string(), "customers": r.customers, "probably_lost": r.lost,
                "returns_excluded": r.returns, "fit": fit_json(&r.fit)});
            if let Some(o) = v.as_object_mut() {
                if let Some(sp) = &r.spend {
                    o.insert("spend_fit".into(), fit_json(sp));
                }
                if let Some(c) = &r.comparison {
                    o.insert("selection".into(), serde_json::to_value(c)?);
                }
            }
            emit(&format!("{}\n", serde_json::to_string_pretty(&v)?))
        }
        _ => {
            let mut s = r.comparison.as_ref().map(crate::output::comparison_text).unwrap_or_default();
            s += &fit_text(&r.fit);
            if let Some(sp) = &r.spend {
                s += &fit_text(sp);
            }
            s += &format!(
                "run {}: {} customers scored as of {}; {} have probably left (P(alive) < 0.5).\nnext: winback lost (which also weighs each customer's own rhythm of purchases)\n",
                r.id, r.customers, r.end, r.lost
            );
            emit(&s)
        }
    }
}

/// Fit, score and record a run (the notes go to stderr).
pub fn run_analysis(db: &str, a: &AnalyzeArgs) -> Result<Analysis> {
    let mut store = open(db)?;
    let req = winback_app::analyze::AnalyzeRequest {
        model: a.model,
        observation_end: a.observation_end,
        period: a.period,
        time_unit: a.time_unit,
        horizon: a.horizon,
        margin: a.margin,
        discount_rate: a.discount_rate,
    };
    let r = winback_app::analyze::run(store.as_mut(), &req)?;
    for n in &r.notes {
        eprintln!("note: {n}");
    }
    Ok(r)
}

pub fn db(db: &str, cmd: &DbCommand) -> Result<()> {
    let DbCommand::Status { format } = cmd;
    let mut store = open(db)?;
    let migrations = store.migration_status()?;
    let counts = store.counts()?;
    let runs = store.runs()?;
    if *format == Format::Json {
        let v = json!({
            "backend": store.backend(),
            "url": redact(db),
            "migrations": migrations,
            "counts": counts.iter().map(|(t, n)| (t.to_string(), json!(n))).collect::<serde_json::Map<_, _>>(),
            "latest_run": runs.last(),
        });
        return emit(&format!("{}\n", serde_json::to_string_pretty(&v)?));
    }
    let mut m = Rows::new(vec!["version", "migration", "applied"]);
    for x in &migrations {
        m.push(vec![json!(x.version), json!(x.name), json!(x.applied_at.clone().unwrap_or_else(|| "pending".into()))]);
    }
    let mut c = Rows::new(vec!["table", "rows"]);
    for (t, n) in &counts {
        c.push(vec![json!(t), json!(n)]);
    }
    let mut s = format!("{} store at {}\n{}\n{}\n", store.backend(), redact(db), m.table(0), c.table(0));
    if let Some(r) = runs.last() {
        s += &format!(
            "latest analysis: run {} at {} ({}, {} customers, as of {})\n",
            r.id,
            r.created_at,
            r.model,
            r.customers,
            date_of(r.observation_end)
        );
    }
    emit(&s)
}
