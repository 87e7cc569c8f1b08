//! Root causes behind reasons for leaving, tracked until fixed. A customer whose
//! reason links to a cause that is not fixed is held from outreach: asking them
//! back about a problem that still exists wastes the second chance.

use serde::Serialize;

use crate::reasons::{names, Category, ReasonError, Scope};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CauseStatus {
    Open,
    InProgress,
    Fixed,
    WontFix,
}

names!(CauseStatus, "status", "open, in_progress, fixed, wont_fix",
    Open => "open", InProgress => "in_progress", Fixed => "fixed", WontFix => "wont_fix");

impl CauseStatus {
    /// Customers whose reasons link here are held from outreach.
    pub fn holds(self) -> bool {
        self != CauseStatus::Fixed
    }
}

/// A root cause as stored.
#[derive(Debug, Clone, Serialize)]
pub struct RootCause {
    pub id: i64,
    pub title: String,
    pub categories: Vec<Category>,
    pub scope: Scope,
    pub status: CauseStatus,
    /// Day it was fixed (day number).
    #[serde(serialize_with = "crate::period::iso_opt_day")]
    pub fixed_on: Option<i32>,
    /// The improvement to announce to customers ("we doubled weekend staff").
    pub announcement: Option<String>,
    pub created_at: String,
}

impl RootCause {
    pub fn covers(&self, c: &Category) -> bool {
        self.categories.contains(c)
    }
}

/// A cause to record.
#[derive(Debug, Clone)]
pub struct NewCause {
    pub title: String,
    pub categories: Vec<Category>,
    pub scope: Scope,
    pub status: CauseStatus,
    pub fixed_on: Option<i32>,
    pub announcement: Option<String>,
}

/// Changes to a cause; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct CauseUpdate {
    pub title: Option<String>,
    pub categories: Option<Vec<Category>>,
    pub status: Option<CauseStatus>,
    pub fixed_on: Option<i32>,
    pub announcement: Option<String>,
}

impl NewCause {
    /// A fixed cause needs the day it was fixed; a date on an unfixed one is an error.
    pub fn check(&self) -> Result<(), ReasonError> {
        check_fixed(self.status, self.fixed_on)
    }
}

pub fn check_fixed(status: CauseStatus, fixed_on: Option<i32>) -> Result<(), ReasonError> {
    if fixed_on.is_some() && status != CauseStatus::Fixed {
        return Err(ReasonError::UnknownValue {
            what: "status for a cause with a fixed date",
            given: status.name().into(),
            expected: "fixed",
        });
    }
    Ok(())
}
