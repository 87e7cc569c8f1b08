//! Calendar periods. Days are counted from 1970-01-01; weeks run Monday to Sunday
//! (ISO weeks, the same grouping as pandas' `to_period("W")` used by lifetimes).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// Day number of a date: days since 1970-01-01.
pub fn day_number(d: NaiveDate) -> i32 {
    (d - NaiveDate::from_ymd_opt(1970, 1, 1).expect("valid epoch")).num_days() as i32
}

/// The date of a day number.
pub fn date_of(day: i32) -> NaiveDate {
    NaiveDate::from_ymd_opt(1970, 1, 1).expect("valid epoch") + chrono::Duration::days(day as i64)
}

/// A day number as an ISO date in serialised output (`"2024-06-30"`, not
/// `19904`); a day outside chrono's range stays a number.
pub fn iso_day<S: serde::Serializer>(day: &i32, s: S) -> Result<S::Ok, S::Error> {
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default();
    match epoch.checked_add_signed(chrono::Duration::days(i64::from(*day))) {
        Some(d) => s.collect_str(&d),
        None => s.serialize_i32(*day),
    }
}

/// [`iso_day`] for optional days (`null` when absent).
pub fn iso_opt_day<S: serde::Serializer>(day: &Option<i32>, s: S) -> Result<S::Ok, S::Error> {
    match day {
        Some(d) => iso_day(d, s),
        None => s.serialize_none(),
    }
}

/// The length of a period in which several purchases count as one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Period {
    #[default]
    Day,
    Week,
}

impl Period {
    pub fn days(self) -> f64 {
        match self {
            Period::Day => 1.0,
            Period::Week => 7.0,
        }
    }

    /// Index of the period holding `day`. 1970-01-01 was a Thursday, so shifting by
    /// 3 makes weeks start on Monday.
    pub fn index(self, day: i32) -> i32 {
        match self {
            Period::Day => day,
            Period::Week => (day + 3).div_euclid(7),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Period::Day => "day",
            Period::Week => "week",
        }
    }
}

impl std::str::FromStr for Period {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "day" | "d" | "days" => Ok(Period::Day),
            "week" | "w" | "weeks" => Ok(Period::Week),
            other => Err(format!("unknown period '{other}': use day or week")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weeks_start_on_monday() {
        let d = |y, m, dd| day_number(NaiveDate::from_ymd_opt(y, m, dd).unwrap());
        // 1997-01-05 is a Sunday, 1997-01-06 a Monday.
        assert_eq!(Period::Week.index(d(1997, 1, 5)), Period::Week.index(d(1996, 12, 30)));
        assert_eq!(Period::Week.index(d(1997, 1, 6)), Period::Week.index(d(1997, 1, 5)) + 1);
        assert_eq!(date_of(d(1998, 6, 30)), NaiveDate::from_ymd_opt(1998, 6, 30).unwrap());
        assert_eq!(Period::Week.index(-4), -1);
    }
}
