//! Root causes, tracked until fixed: while one is open, customers whose
//! reasons link to it are held from outreach (fix first, then reach out).

use serde::Serialize;
use winback_domain::causes::{CauseStatus, CauseUpdate, NewCause, RootCause};
use winback_domain::reasons::{Category, Taxonomy};
use winback_store::Store;

use crate::assess::World;
use crate::{AppError, Result};

/// Parse a list of category names (blank entries ignored, repeats dropped);
/// at least one is needed.
pub fn categories(t: &Taxonomy, given: &[String]) -> Result<Vec<Category>> {
    let mut out: Vec<Category> = Vec::new();
    for c in given.iter().map(|c| c.trim()).filter(|c| !c.is_empty()) {
        let c = t.parse(c).map_err(|e| AppError::Invalid(e.to_string()))?;
        if !out.contains(&c) {
            out.push(c);
        }
    }
    if out.is_empty() {
        return Err(AppError::Invalid("name at least one reason category (--categories delivery,price)".into()));
    }
    Ok(out)
}

/// A cause as stored, with how many reasons link to it.
#[derive(Debug, Clone, Serialize)]
pub struct Saved {
    pub cause: RootCause,
    /// Reasons linked to it by this change.
    pub linked: usize,
}

/// Record a cause; existing reasons in its categories link to it.
pub fn add(store: &mut dyn Store, c: &NewCause) -> Result<Saved> {
    if c.title.trim().is_empty() {
        return Err(AppError::Invalid("the title must not be empty".into()));
    }
    if c.fixed_on.is_some() && c.status != CauseStatus::Fixed {
        return Err(AppError::Invalid("a fixed-on date needs the status fixed".into()));
    }
    let (id, linked) = store.add_cause(c)?;
    let cause = store
        .causes()?
        .into_iter()
        .find(|x| x.id == id)
        .ok_or_else(|| AppError::NotFound(format!("root cause #{id} vanished after it was added")))?;
    Ok(Saved { cause, linked })
}

pub fn update(store: &mut dyn Store, id: i64, u: &CauseUpdate) -> Result<Saved> {
    let (cause, linked) = store.update_cause(id, u)?;
    Ok(Saved { cause, linked })
}

/// Close a cause: fixed (on `fixed_on`, default today) with the improvement
/// to announce, or won't fix.
pub fn close(
    store: &mut dyn Store,
    id: i64,
    wont_fix: bool,
    fixed_on: Option<i32>,
    announce: Option<String>,
) -> Result<Saved> {
    let u = CauseUpdate {
        status: Some(if wont_fix { CauseStatus::WontFix } else { CauseStatus::Fixed }),
        fixed_on: if wont_fix { None } else { fixed_on },
        announcement: announce,
        ..Default::default()
    };
    update(store, id, &u)
}

/// A cause with what it is holding back.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    #[serde(flatten)]
    pub cause: RootCause,
    pub reasons: usize,
    pub held_customers: usize,
    pub held_value: f64,
}

pub fn list(w: &World) -> Vec<Row> {
    w.causes
        .iter()
        .map(|c| {
            let reasons = w.reasons.iter().filter(|r| r.cause == Some(c.id)).count();
            let (mut held_customers, mut held_value) = (0, 0.0);
            for v in w.assessed.iter().filter_map(|x| x.verdict.as_ref()) {
                if v.held_by.iter().any(|h| h.cause == c.id) {
                    held_customers += 1;
                    held_value += v.worth.value_if_won;
                }
            }
            Row { cause: c.clone(), reasons, held_customers, held_value }
        })
        .collect()
}
