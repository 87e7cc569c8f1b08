//! What both back ends share for reasons and root causes: dedupe keys, linking a
//! reason to its cause, and reading stored text back into domain types.

use winback_domain::causes::{check_fixed, CauseStatus, CauseUpdate, RootCause};
use winback_domain::reasons::{Category, NewReason, Reason, Scope, Source};

use crate::{Result, StoreError};

/// Same customer, category, day, source and detail: the same reason recorded twice.
pub(crate) fn reason_key(r: &NewReason) -> [u8; 16] {
    winback_domain::import::stable_key(&[
        b"reason",
        r.customer.as_bytes(),
        r.category.as_str().as_bytes(),
        &r.day.to_le_bytes(),
        r.source.name().as_bytes(),
        r.detail.as_deref().unwrap_or("").as_bytes(),
    ])
}

fn at(r: &NewReason) -> String {
    if r.line > 0 {
        format!("line {}: ", r.line)
    } else {
        String::new()
    }
}

pub(crate) fn unknown_customer(r: &NewReason) -> StoreError {
    StoreError::UnknownCustomer(format!("{}unknown customer '{}'; import or add the customer first", at(r), r.customer))
}

/// The cause a new reason links to: the one named (which must exist), else the
/// most recent cause covering its category, whatever its status (a fixed one
/// gives outreach an improvement to announce).
pub(crate) fn pick_cause(causes: &[RootCause], r: &NewReason) -> Result<Option<i64>> {
    match r.cause {
        Some(id) if causes.iter().any(|c| c.id == id) => Ok(Some(id)),
        Some(id) => Err(StoreError::NotFound(format!("{}no root cause #{id}; see `winback fix list`", at(r)))),
        None => Ok(causes.iter().rev().find(|c| c.covers(&r.category)).map(|c| c.id)),
    }
}

fn parse<T: std::str::FromStr>(s: &str) -> Result<T>
where
    T::Err: std::fmt::Display,
{
    s.parse().map_err(|e: T::Err| StoreError::Invalid(format!("stored value: {e}")))
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn to_reason(
    id: i64,
    customer_id: i64,
    customer: String,
    category: String,
    scope: &str,
    detail: Option<String>,
    suggestion: Option<String>,
    source: &str,
    day: i32,
    recorded_by: String,
    recorded_at: String,
    cause: Option<i64>,
    wont_return: bool,
) -> Result<Reason> {
    Ok(Reason {
        id,
        customer_id,
        customer,
        category: Category::stored(category),
        scope: parse::<Scope>(scope)?,
        detail,
        suggestion,
        source: parse::<Source>(source)?,
        day,
        recorded_by,
        recorded_at,
        cause,
        wont_return,
    })
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn to_cause(
    id: i64,
    title: String,
    categories: &str,
    scope: &str,
    status: &str,
    fixed_on: Option<i32>,
    announcement: Option<String>,
    created_at: String,
) -> Result<RootCause> {
    Ok(RootCause {
        id,
        title,
        categories: categories.split(',').filter(|c| !c.is_empty()).map(|c| Category::stored(c.into())).collect(),
        scope: parse::<Scope>(scope)?,
        status: parse::<CauseStatus>(status)?,
        fixed_on,
        announcement,
        created_at,
    })
}

pub(crate) fn categories_text(c: &[Category]) -> String {
    c.iter().map(Category::as_str).collect::<Vec<_>>().join(",")
}

/// The cause after an update; a cause marked fixed without a date is fixed today.
pub(crate) fn apply(mut c: RootCause, u: &CauseUpdate, today: i32) -> Result<RootCause> {
    if let Some(t) = &u.title {
        c.title = t.clone();
    }
    if let Some(cats) = &u.categories {
        c.categories = cats.clone();
    }
    if let Some(s) = u.status {
        c.status = s;
        if s != CauseStatus::Fixed {
            c.fixed_on = None;
        }
    }
    if u.fixed_on.is_some() {
        c.fixed_on = u.fixed_on;
    }
    if c.status == CauseStatus::Fixed && c.fixed_on.is_none() {
        c.fixed_on = Some(today);
    }
    if let Some(a) = &u.announcement {
        c.announcement = Some(a.clone());
    }
    check_fixed(c.status, c.fixed_on).map_err(|e| StoreError::Invalid(e.to_string()))?;
    Ok(c)
}

pub(crate) fn not_found(id: i64) -> StoreError {
    StoreError::NotFound(format!("no root cause #{id}; see `winback fix list`"))
}

pub(crate) fn today() -> i32 {
    winback_domain::period::day_number(chrono::Utc::now().date_naive())
}
