//! The demo: a synthetic coffee shop through the whole flow — files written
//! as a shop would export them, imported through the same services as real
//! files, reasons and root causes recorded, the store analysed.

use std::path::{Path, PathBuf};

use serde::Serialize;
use winback_domain::analysis::ModelKind;
use winback_domain::business::{generate_with, iso, Business, Churn};
use winback_domain::causes::NewCause;
use winback_domain::period::{day_number, Period};
use winback_domain::reasons::Scope;
use winback_ingest::date::DateFormat;
use winback_ingest::transactions::LogOptions;
use winback_store::{Store, StoreError};

use crate::analyze::{Analysis, AnalyzeRequest};
use crate::config::Config;
use crate::import::{ImportReport, People, Progress, Request};
use crate::{AppError, Result};

fn write_csv(path: &Path, header: &[&str], rows: impl Iterator<Item = Vec<String>>) -> Result<()> {
    let fail = |e: &dyn std::fmt::Display| AppError::File {
        path: path.display().to_string(),
        message: format!("cannot write: {e}"),
    };
    let mut w = csv::Writer::from_path(path).map_err(|e| fail(&e))?;
    w.write_record(header).map_err(|e| fail(&e))?;
    for r in rows {
        w.write_record(&r).map_err(|e| fail(&e))?;
    }
    w.flush().map_err(|e| fail(&e))
}

fn yes(b: Option<bool>) -> String {
    b.map_or(String::new(), |b| if b { "yes".into() } else { "no".into() })
}

/// Write the shop's exports: customers (CRM), orders with refunds, touchpoints, reasons.
pub fn write_files(b: &Business, dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir)
        .map_err(|e| AppError::File { path: dir.display().to_string(), message: format!("cannot create: {e}") })?;
    let opt = |s: &Option<String>| s.clone().unwrap_or_default();
    write_csv(
        &dir.join("customers.csv"),
        &[
            "customer_id",
            "name",
            "email",
            "phone",
            "preferred_channel",
            "consent_email",
            "consent_sms",
            "consent_phone",
            "consent_mail",
            "do_not_contact",
            "flags",
            "cost_to_serve",
            "segment",
            "tags",
            "contract_start",
            "contract_end",
        ],
        b.customers.iter().map(|c| {
            vec![
                c.external_id.clone(),
                opt(&c.name),
                opt(&c.email),
                opt(&c.phone),
                opt(&c.preferred_channel),
                yes(c.consent_email),
                yes(c.consent_sms),
                yes(c.consent_phone),
                yes(c.consent_mail),
                yes(c.do_not_contact),
                opt(&c.flags),
                c.cost_to_serve.map_or(String::new(), |v| format!("{v:.2}")),
                opt(&c.segment),
                opt(&c.tags),
                c.contract_start.map_or(String::new(), iso),
                c.contract_end.map_or(String::new(), iso),
            ]
        }),
    )?;
    write_csv(
        &dir.join("orders.csv"),
        &["order_id", "customer_id", "order_date", "total", "cost", "channel", "product"],
        b.orders.iter().map(|o| {
            vec![
                o.order_id.clone(),
                o.customer.clone(),
                iso(o.day),
                format!("{:.2}", o.amount),
                o.cost.map_or(String::new(), |c| format!("{c:.2}")),
                o.channel.into(),
                o.product.into(),
            ]
        }),
    )?;
    write_csv(
        &dir.join("events.csv"),
        &["customer_id", "date", "kind", "details"],
        b.events.iter().map(|e| vec![e.customer.clone(), iso(e.day), e.kind.clone(), e.attributes.clone()]),
    )?;
    write_csv(
        &dir.join("reasons.csv"),
        &["customer", "category", "scope", "detail", "suggestion", "source", "date", "recorded_by"],
        b.reasons.iter().map(|r| {
            vec![
                r.customer.clone(),
                r.category.into(),
                r.scope.into(),
                r.detail.clone(),
                r.suggestion.unwrap_or("").into(),
                r.source.into(),
                iso(r.day),
                "customer care".into(),
            ]
        }),
    )?;
    Ok(())
}

/// What to make.
#[derive(Debug, Clone)]
pub struct DemoRequest {
    pub customers: usize,
    pub seed: u64,
    /// Folder for the exports (and the store when `store` is `None`).
    pub dir: PathBuf,
    /// A store URL to fill instead of a fresh `winback.db` in `dir`.
    pub store: Option<String>,
    /// What makes the shop's customers leave.
    pub churn: Churn,
}

/// What the demo made and where.
#[derive(Debug, Clone, Serialize)]
pub struct Demo {
    pub store: String,
    pub start: String,
    pub end: String,
    pub customers: usize,
    pub orders: usize,
    pub events: usize,
    pub reasons_given: usize,
    pub imports: Vec<ImportReport>,
    pub reasons: crate::reasons::Imported,
    pub causes: Vec<crate::causes::Saved>,
    pub analysis: Analysis,
}

/// Generate the shop, write its files and run them through the services.
/// `progress` hears about each file as it is imported.
pub fn run(a: &DemoRequest, config: &Config, progress: &mut dyn FnMut(&str)) -> Result<Demo> {
    if a.customers < 50 {
        return Err(AppError::Invalid("--customers: at least 50 for a meaningful demo".into()));
    }
    let b = generate_with(a.customers, a.seed, a.churn);
    write_files(&b, &a.dir)?;
    let db = match &a.store {
        Some(url) => url.clone(),
        None => {
            // the demo's own file: start afresh each run
            for suffix in ["", "-wal", "-shm", "-journal"] {
                let p = a.dir.join(format!("winback.db{suffix}"));
                if p.exists() {
                    std::fs::remove_file(&p).map_err(|e| AppError::File {
                        path: p.display().to_string(),
                        message: format!("cannot replace: {e}"),
                    })?;
                }
            }
            a.dir.join("winback.db").display().to_string()
        }
    };
    let mut open = || -> std::result::Result<Box<dyn Store>, StoreError> { winback_store::open(&db) };
    let mut imports = Vec::new();
    let file = |n: &str| a.dir.join(n);
    for (name, kind) in
        [("customers.csv", Some(People::Customers)), ("orders.csv", None), ("events.csv", Some(People::Events))]
    {
        progress(name);
        let path = file(name);
        let req = Request {
            file: &path,
            db_url: &db,
            rejects: None,
            max_reject_rate: 0.0,
            encoding: crate::files::Encoding::Auto,
        };
        let mut quiet = |_: Progress| {};
        imports.push(match kind {
            Some(k) => crate::import::people(&req, k, &DateFormat::default(), &mut open, &mut quiet)?,
            None => {
                let opts = LogOptions { detect_extras: true, keep_lines: true, ..Default::default() };
                crate::import::transactions(&req, &opts, &mut open, &mut quiet)?
            }
        });
    }
    progress("reasons.csv");
    let mut store = open()?;
    let today = day_number(b.end);
    let reasons = crate::reasons::import(
        store.as_mut(),
        config,
        (&file("reasons.csv"), Default::default()),
        None,
        today,
        "customer care".into(),
    )?;
    let mut causes = Vec::new();
    for c in &b.causes {
        let cause = NewCause {
            title: c.title.to_string(),
            categories: crate::causes::categories(
                &config.taxonomy,
                &c.categories.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
            )?,
            scope: if c.scope == "specific" { Scope::Specific } else { Scope::Systemic },
            status: c
                .status
                .parse()
                .map_err(|e: winback_domain::reasons::ReasonError| AppError::Invalid(e.to_string()))?,
            fixed_on: c.fixed_on,
            announcement: c.announcement.map(str::to_string),
        };
        causes.push(crate::causes::add(store.as_mut(), &cause)?);
    }
    progress("analysis");
    let analysis = crate::analyze::run(
        store.as_mut(),
        &AnalyzeRequest {
            model: ModelKind::Auto,
            observation_end: Some(b.end),
            period: Period::Day,
            time_unit: None,
            horizon: None,
            margin: 1.0,
            discount_rate: 0.10,
        },
    )?;
    Ok(Demo {
        store: db,
        start: b.start.to_string(),
        end: b.end.to_string(),
        customers: b.customers.len(),
        orders: b.orders.len(),
        events: b.events.len(),
        reasons_given: b.reasons.len(),
        imports,
        reasons,
        causes,
        analysis,
    })
}
