//! Dates as they appear in exports. Fast paths for the common layouts; anything
//! else through an explicit chrono format.

use chrono::{NaiveDate, NaiveDateTime};

/// How dates are written.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum DateFormat {
    /// `YYYY-MM-DD`, `YYYY/MM/DD`, `YYYYMMDD`, each optionally followed by a time
    /// (`T` or space, then anything, e.g. `2024-03-01T10:00:00+02:00`): the date
    /// is taken as written.
    #[default]
    Auto,
    /// A chrono `strftime` pattern such as `%d/%m/%Y` or `%Y%m%d`.
    Pattern(String),
}

/// Why a date could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DateError {
    #[error("empty date")]
    Empty,
    #[error("'{0}' is not a date (expected YYYY-MM-DD, YYYYMMDD or YYYY/MM/DD; pass --date-format for others)")]
    Unrecognised(String),
    #[error("'{0}' is not a valid calendar date")]
    OutOfRange(String),
    #[error("'{value}' does not match the date format '{pattern}'")]
    Pattern { value: String, pattern: String },
}

fn digits<const N: usize>(b: &[u8]) -> Option<u32> {
    if b.len() < N {
        return None;
    }
    let mut v = 0u32;
    for &c in &b[..N] {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + u32::from(c - b'0');
    }
    Some(v)
}

/// Parse a date field (bytes, already trimmed).
pub fn parse_date(field: &[u8], format: &DateFormat) -> Result<NaiveDate, DateError> {
    if field.is_empty() {
        return Err(DateError::Empty);
    }
    let shown = || String::from_utf8_lossy(field).into_owned();
    match format {
        DateFormat::Auto => {
            let (y, m, d, rest) = if let (Some(y), Some(&sep)) = (digits::<4>(field), field.get(4)) {
                if (sep == b'-' || sep == b'/') && field.get(7) == Some(&sep) {
                    let m = digits::<2>(&field[5..]).ok_or_else(|| DateError::Unrecognised(shown()))?;
                    let d =
                        digits::<2>(field.get(8..).unwrap_or(&[])).ok_or_else(|| DateError::Unrecognised(shown()))?;
                    (y, m, d, &field[10..])
                } else if let Some(v) = digits::<8>(field) {
                    (v / 10000, v / 100 % 100, v % 100, &field[8..])
                } else {
                    return Err(DateError::Unrecognised(shown()));
                }
            } else {
                return Err(DateError::Unrecognised(shown()));
            };
            if !(rest.is_empty() || rest[0] == b'T' || rest[0] == b' ') {
                return Err(DateError::Unrecognised(shown()));
            }
            NaiveDate::from_ymd_opt(y as i32, m, d).ok_or_else(|| DateError::OutOfRange(shown()))
        }
        DateFormat::Pattern(p) => {
            let s = std::str::from_utf8(field).map_err(|_| DateError::Unrecognised(shown()))?;
            NaiveDate::parse_from_str(s, p)
                .or_else(|_| NaiveDateTime::parse_from_str(s, p).map(|t| t.date()))
                .or_else(|_| chrono::DateTime::parse_from_str(s, p).map(|t| t.date_naive()))
                .map_err(|_| DateError::Pattern { value: s.to_owned(), pattern: p.clone() })
        }
    }
}

/// Parse a date given on the command line (`YYYY-MM-DD` or `YYYYMMDD`).
pub fn parse_cli_date(s: &str) -> Result<NaiveDate, String> {
    parse_date(s.trim().as_bytes(), &DateFormat::Auto).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, dd: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, dd).unwrap()
    }

    #[test]
    fn layouts() {
        let a = DateFormat::Auto;
        assert_eq!(parse_date(b"1997-01-01", &a), Ok(d(1997, 1, 1)));
        assert_eq!(parse_date(b"19970101", &a), Ok(d(1997, 1, 1)));
        assert_eq!(parse_date(b"2014/03/08", &a), Ok(d(2014, 3, 8)));
        assert_eq!(parse_date(b"2014-03-08 00:00:00", &a), Ok(d(2014, 3, 8)));
        assert_eq!(parse_date(b"2024-03-01T23:30:00+02:00", &a), Ok(d(2024, 3, 1)));
        assert!(matches!(parse_date(b"2014-02-30", &a), Err(DateError::OutOfRange(_))));
        assert!(matches!(parse_date(b"03/08/2014", &a), Err(DateError::Unrecognised(_))));
        assert!(matches!(parse_date(b"2014-3-8", &a), Err(DateError::Unrecognised(_))));
        assert!(matches!(parse_date(b"199701011", &a), Err(DateError::Unrecognised(_))));
        let p = DateFormat::Pattern("%d/%m/%Y".into());
        assert_eq!(parse_date(b"08/03/2014", &p), Ok(d(2014, 3, 8)));
        let p = DateFormat::Pattern("%Y-%m-%d %H:%M:%S".into());
        assert_eq!(parse_date(b"2014-03-08 10:00:00", &p), Ok(d(2014, 3, 8)));
    }
}
