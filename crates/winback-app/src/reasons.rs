//! Why customers left: reasons recorded by staff (a call, an email), imported
//! from a file, or given by the customer in the survey.

use std::path::Path;

use serde::Serialize;
use winback_domain::reasons::{Category, NewReason, Reason};
use winback_ingest::date::DateFormat;
use winback_ingest::people::{read_reasons, ReasonDefaults};
use winback_ingest::Reject;
use winback_store::Store;

use crate::config::Config;
use crate::{AppError, Result};

/// Record one reason. `Ok(None)` when the customer already has the same
/// reason (same category, day, source and detail): recording is idempotent.
pub fn add(store: &mut dyn Store, r: &NewReason) -> Result<Option<Reason>> {
    let out = match store.add_reasons(std::slice::from_ref(r)) {
        Err(winback_store::StoreError::UnknownCustomer(why)) => match email_fallback(&r.customer) {
            Some(customer) => store.add_reasons(&[NewReason { customer, ..r.clone() }])?,
            None => return Err(winback_store::StoreError::UnknownCustomer(why).into()),
        },
        other => other?,
    };
    let Some(id) = out.ids.first() else { return Ok(None) };
    Ok(store.reasons()?.into_iter().find(|x| x.id == *id))
}

/// An email typed as the shop's platform shows it (`Ann@X.com`), for a
/// customer stored lowercase (emails are read without case): the lowercase
/// to try when the id as typed is not found.
pub fn email_fallback(id: &str) -> Option<String> {
    (id.contains('@') && id.chars().any(char::is_uppercase)).then(|| id.to_lowercase())
}

/// Which reasons to list.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    pub customer: Option<String>,
    pub category: Option<Category>,
}

pub fn list(store: &mut dyn Store, f: &ListFilter) -> Result<Vec<Reason>> {
    Ok(store
        .reasons_of(f.customer.as_deref())?
        .into_iter()
        .filter(|r| {
            f.customer.as_ref().is_none_or(|c| &r.customer == c) && f.category.as_ref().is_none_or(|c| &r.category == c)
        })
        .collect())
}

/// What importing a reasons file did.
#[derive(Debug, Clone, Serialize)]
pub struct Imported {
    pub file: String,
    /// How the file's bytes were read, when the user should know.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<&'static str>,
    pub rows: usize,
    pub imported: usize,
    pub duplicates: usize,
    pub duplicate_lines: Vec<u64>,
    pub linked_to_causes: usize,
}

/// Import a reasons file, all or nothing: a file with any bad row imports
/// nothing and [`AppError::Rejected`] lists the rows.
pub fn import(
    store: &mut dyn Store,
    config: &Config,
    file: (&Path, crate::files::Encoding),
    date_format: Option<&str>,
    today: i32,
    recorded_by: String,
) -> Result<Imported> {
    let (path, encoding) = file;
    let (data, note) = crate::files::read_text(path, encoding)?;
    let fmt = DateFormat::from_cli(date_format);
    let file = path.display().to_string();
    let parsed = read_reasons(&data, &fmt, &config.taxonomy, &ReasonDefaults { day: today, recorded_by })
        .map_err(|source| AppError::Ingest { path: file.clone(), source })?;
    if !parsed.rejected.is_empty() {
        return Err(AppError::Rejected { path: file, rows: parsed.rejected });
    }
    let out = store.add_reasons(&parsed.rows)?;
    Ok(Imported {
        file,
        note,
        rows: parsed.total,
        imported: out.ids.len(),
        duplicates: out.duplicate_lines.len(),
        duplicate_lines: out.duplicate_lines,
        linked_to_causes: out.linked,
    })
}

/// Describe rejected rows for a message: the first 20 with their line numbers.
pub fn describe_rejects(rows: &[Reject]) -> String {
    let mut msg = String::new();
    for r in rows.iter().take(20) {
        msg += &format!("\n  line {}: {}", r.line, r.reason);
    }
    if rows.len() > 20 {
        msg += &format!("\n  … and {} more", rows.len() - 20);
    }
    msg
}
