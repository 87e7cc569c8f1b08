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
    /// `D/M/Y` (also with `.` or `-`), 2- or 4-digit year, optional time; ISO
    /// dates are read too.
    DayFirst,
    /// `M/D/Y`, as US platforms write it; otherwise as [`DateFormat::DayFirst`].
    MonthFirst,
    /// A chrono `strftime` pattern such as `%d/%m/%Y` or `%Y%m%d`.
    Pattern(String),
    /// Excel's date serial numbers (days since 1899-12-30, a fraction for the
    /// time), as a sheet saves dates whose cells are formatted as numbers.
    ExcelSerial,
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
    #[error("'{value}' is not a date written {layout}, as the rest of the column")]
    Layout { value: String, layout: &'static str },
    #[error("'{value}' does not match the date format '{pattern}'")]
    Pattern { value: String, pattern: String },
    #[error("'{0}' is a placeholder that systems write for a missing date, not a purchase day")]
    Placeholder(String),
}

/// The days systems write when a date is missing: .NET's and Java's minimum
/// (0001-01-01), SQL Server's datetime minimum (1753-01-01), spreadsheet day
/// zero (1899-12-30, 1899-12-31, 1900-01-01), the Unix epoch (1970-01-01),
/// and the "no end" maximum (9999-12-31). Read as purchases they would make a
/// customer thousands of years old; so would any day before 1900.
const PLACEHOLDER_DAYS: [i32; 4] = [
    days_from_civil(1753, 1, 1),
    days_from_civil(1899, 12, 31),
    days_from_civil(1900, 1, 1),
    days_from_civil(1970, 1, 1),
];
const FIRST_PURCHASE_DAY: i32 = days_from_civil(1899, 12, 30);
const LAST_PURCHASE_DAY: i32 = days_from_civil(9999, 12, 30);

/// `day` (read from `field`) as a purchase day: refused when it is a
/// placeholder for a missing date (see [`PLACEHOLDER_DAYS`]).
pub fn purchase_day(day: i32, field: &[u8]) -> Result<i32, DateError> {
    if day <= FIRST_PURCHASE_DAY || day > LAST_PURCHASE_DAY || PLACEHOLDER_DAYS.contains(&day) {
        return Err(DateError::Placeholder(String::from_utf8_lossy(field).into_owned()));
    }
    Ok(day)
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

/// A numeric date with the year last: the two leading numbers, the year (two
/// digits mapped as POSIX `%y` does: 69–99 → 19xx, 00–68 → 20xx), and whether
/// what follows may be a time.
fn numeric(field: &[u8]) -> Option<(u32, u32, i32)> {
    let mut parts = [0u32; 3];
    let mut lens = [0usize; 3];
    let mut k = 0;
    let mut sep = None;
    let mut i = 0;
    while i < field.len() {
        let c = field[i];
        if c.is_ascii_digit() {
            if lens[k] == 4 {
                return None;
            }
            parts[k] = parts[k] * 10 + u32::from(c - b'0');
            lens[k] += 1;
        } else if k < 2 && matches!(c, b'/' | b'.' | b'-') && lens[k] > 0 && sep.is_none_or(|s| s == c) {
            sep = Some(c);
            k += 1;
        } else if k == 2 && (c == b' ' || c == b'T' || c == b',') {
            break;
        } else {
            return None;
        }
        i += 1;
    }
    if k != 2 || lens[0] > 2 || lens[1] > 2 || !(lens[2] == 2 || lens[2] == 4) {
        return None;
    }
    let y = match lens[2] {
        2 if parts[2] >= 69 => 1900 + parts[2] as i32,
        2 => 2000 + parts[2] as i32,
        _ => parts[2] as i32,
    };
    Some((parts[0], parts[1], y))
}

/// Whether a cell is a date in some layout winback reads without being told
/// (ISO, or numeric with the year last).
pub fn looks_like_date(field: &[u8]) -> bool {
    parse_date(field, &DateFormat::Auto).is_ok()
        || numeric(field).is_some_and(|(a, b, _)| a <= 31 && b <= 31 && a > 0 && b > 0)
}

/// An Excel date serial (five digits: 1927 to 2173; a fraction is the time
/// of day): its whole days.
fn excel_serial(field: &[u8]) -> Option<u32> {
    let (days, frac) = match field.iter().position(|&c| c == b'.') {
        Some(p) => (&field[..p], &field[p + 1..]),
        None => (field, &b""[..]),
    };
    (days.len() == 5 && frac.iter().all(u8::is_ascii_digit)).then_some(())?;
    digits::<5>(days)
}

/// What the dates of a column say about their layout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DateInference {
    /// The layout to read the column with.
    Decided(DateFormat),
    /// Numeric dates where no value tells day from month (every day is 12 or
    /// less): a few of them, with their lines.
    Ambiguous(Vec<(u64, String)>),
    /// Some values can only be day first, others only month first.
    Conflict { day_first: (u64, String), month_first: (u64, String) },
}

/// Decide how a column's dates are written from all its values (line, cell).
/// ISO dates need nothing; numeric `a/b/year` dates are day first when some `a`
/// exceeds 12, month first when some `b` does. Values where `a == b` read the
/// same either way and decide nothing.
pub fn infer_dates<'a>(values: impl IntoIterator<Item = (u64, &'a [u8])>) -> DateInference {
    let (mut day_first, mut month_first) = (None, None);
    let mut ambiguous = Vec::new();
    let mut numeric_seen = false;
    // Excel serials: every value one (empty cells aside), and at least one
    let (mut serials, mut others) = (0usize, 0usize);
    for (line, v) in values {
        if excel_serial(v).is_some() {
            serials += 1;
            continue;
        }
        others += usize::from(!v.is_empty());
        let Some((a, b, _)) = numeric(v) else { continue };
        numeric_seen = true;
        let shown = || String::from_utf8_lossy(v).into_owned();
        if a > 12 && b <= 12 {
            day_first.get_or_insert_with(|| (line, shown()));
        } else if b > 12 && a <= 12 {
            month_first.get_or_insert_with(|| (line, shown()));
        } else if a != b && a <= 12 && ambiguous.len() < 3 {
            ambiguous.push((line, shown()));
        }
    }
    if serials > 0 && others == 0 {
        return DateInference::Decided(DateFormat::ExcelSerial);
    }
    match (day_first, month_first) {
        (Some(d), Some(m)) => DateInference::Conflict { day_first: d, month_first: m },
        (Some(_), None) => DateInference::Decided(DateFormat::DayFirst),
        (None, Some(_)) => DateInference::Decided(DateFormat::MonthFirst),
        (None, None) if !ambiguous.is_empty() => DateInference::Ambiguous(ambiguous),
        (None, None) if numeric_seen => DateInference::Decided(DateFormat::MonthFirst),
        (None, None) => DateInference::Decided(DateFormat::Auto),
    }
}

impl DateInference {
    /// The message for a column that cannot be decided.
    pub fn problem(&self, column: &str) -> Option<String> {
        match self {
            DateInference::Decided(_) => None,
            DateInference::Ambiguous(v) => Some(format!(
                "the dates of column '{column}' could be day/month or month/day: no day is above 12 ({}); pass --date-format %d/%m/%Y or --date-format %m/%d/%Y (or dmy / mdy)",
                v.iter().map(|(l, s)| format!("line {l}: '{s}'")).collect::<Vec<_>>().join(", ")
            )),
            DateInference::Conflict { day_first: (ld, d), month_first: (lm, m) } => Some(format!(
                "the dates of column '{column}' mix day first (line {ld}: '{d}') and month first (line {lm}: '{m}'); pass --date-format"
            )),
        }
    }
}

impl DateFormat {
    /// From `--date-format`: none means decide from the column.
    pub fn from_cli(s: Option<&str>) -> DateFormat {
        match s.map(str::parse) {
            Some(Ok(f)) => f,
            Some(Err(never)) => match never {},
            None => DateFormat::Auto,
        }
    }
}

impl std::str::FromStr for DateFormat {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s.trim().to_ascii_lowercase().as_str() {
            "auto" | "iso" => DateFormat::Auto,
            "dmy" | "day-first" | "d/m/y" => DateFormat::DayFirst,
            "mdy" | "month-first" | "m/d/y" => DateFormat::MonthFirst,
            "excel" | "serial" | "excel-serial" => DateFormat::ExcelSerial,
            _ => DateFormat::Pattern(s.to_owned()),
        })
    }
}

/// Year, month and day of an ISO-like date (`YYYY-MM-DD`, `YYYY/MM/DD`,
/// `YYYYMMDD`, each optionally followed by a time), not yet checked as a
/// calendar date.
fn auto_ymd(field: &[u8]) -> Result<(i32, u32, u32), DateError> {
    let shown = || String::from_utf8_lossy(field).into_owned();
    let (y, m, d, rest) = if let (Some(y), Some(&sep)) = (digits::<4>(field), field.get(4)) {
        if (sep == b'-' || sep == b'/' || sep == b'.') && field.get(7) == Some(&sep) {
            let m = digits::<2>(&field[5..]).ok_or_else(|| DateError::Unrecognised(shown()))?;
            let d = digits::<2>(field.get(8..).unwrap_or(&[])).ok_or_else(|| DateError::Unrecognised(shown()))?;
            (y, m, d, &field[10..])
        } else if let Some(v) = digits::<8>(field) {
            (v / 10000, v / 100 % 100, v % 100, &field[8..])
        } else {
            return named_ymd(field).ok_or_else(|| DateError::Unrecognised(shown()));
        }
    } else {
        return named_ymd(field).ok_or_else(|| DateError::Unrecognised(shown()));
    };
    if !(rest.is_empty() || rest[0] == b'T' || rest[0] == b' ') {
        return Err(DateError::Unrecognised(shown()));
    }
    Ok((y as i32, m, d))
}

/// A date with the month's English name (`Jan 5, 2024`, `January 5 2024`,
/// `05-Jan-2024`, `5 Jan 24`, `Tue, Jan 5, 2024`), which says which number is
/// the day: year, month and day, not yet checked as a calendar date.
/// Anything after the year must be a time (after a space, `T` or comma).
fn named_ymd(field: &[u8]) -> Option<(i32, u32, u32)> {
    const MONTHS: [&[u8]; 12] =
        [b"jan", b"feb", b"mar", b"apr", b"may", b"jun", b"jul", b"aug", b"sep", b"oct", b"nov", b"dec"];
    const FULL: [&[u8]; 12] = [
        b"january",
        b"february",
        b"march",
        b"april",
        b"may",
        b"june",
        b"july",
        b"august",
        b"september",
        b"october",
        b"november",
        b"december",
    ];
    const DAYS: [&[u8]; 7] = [b"mon", b"tue", b"wed", b"thu", b"fri", b"sat", b"sun"];
    let month = |w: &[u8]| {
        let w = w.to_ascii_lowercase();
        let w = w.strip_suffix(b".").unwrap_or(&w);
        MONTHS
            .iter()
            .position(|m| *m == w)
            .or_else(|| FULL.iter().position(|m| *m == w))
            .or_else(|| (w == b"sept").then_some(8))
            .map(|i| i as u32 + 1)
    };
    // the first three words (letters or digits), and where the third ends
    let mut words: Vec<&[u8]> = Vec::with_capacity(4);
    let mut i = 0;
    let mut end = 0;
    while words.len() < 3 && i < field.len() {
        while i < field.len() && matches!(field[i], b' ' | b'-' | b',' | b'/' | b'.') {
            i += 1;
        }
        let start = i;
        while i < field.len() && field[i].is_ascii_alphanumeric() {
            i += 1;
        }
        if start == i {
            return None;
        }
        let w = &field[start..i];
        let weekday = words.is_empty() && w.len() >= 3 && DAYS.iter().any(|d| w[..3].eq_ignore_ascii_case(d));
        if weekday && month(w).is_none() {
            continue;
        }
        words.push(w);
        end = i;
    }
    let rest = &field[end..];
    if words.len() != 3 || !(rest.is_empty() || matches!(rest[0], b' ' | b'T' | b',')) {
        return None;
    }
    let number = |w: &[u8]| -> Option<u32> {
        (w.len() <= 4 && w.iter().all(u8::is_ascii_digit))
            .then(|| w.iter().fold(0, |v, c| v * 10 + u32::from(c - b'0')))
    };
    let (m, d) = match (month(words[0]), month(words[1])) {
        (Some(m), None) => (m, words[1]),
        (None, Some(m)) => (m, words[0]),
        _ => return None,
    };
    // (an ordinal day, `5th`, reads as its number)
    let d = d
        .strip_suffix(b"st")
        .or(d.strip_suffix(b"nd"))
        .or(d.strip_suffix(b"rd"))
        .or(d.strip_suffix(b"th"))
        .unwrap_or(d);
    let (d, y) = (number(d).filter(|_| d.len() <= 2)?, words[2]);
    let y = match (y.len(), number(y)?) {
        (4, y) => y as i32,
        (2, y) if y >= 69 => 1900 + y as i32,
        (2, y) => 2000 + y as i32,
        _ => return None,
    };
    Some((y, m, d))
}

/// [`auto_ymd`] for `YYYY-MM-DD` and `YYYY/MM/DD` (optionally followed by a
/// time), the transaction logs' usual layout: the eight digits checked at once
/// (one word, no branch per byte). None for anything else, which `auto_ymd`
/// then reads.
#[inline]
fn separated_ymd(field: &[u8]) -> Option<(i32, u32, u32)> {
    let b: &[u8; 10] = field.get(..10)?.try_into().ok()?;
    let rest = &field[10..];
    if b[4] != b[7] || !matches!(b[4], b'-' | b'/') || !(rest.is_empty() || rest[0] == b'T' || rest[0] == b' ') {
        return None;
    }
    let w = u64::from_le_bytes([b[0], b[1], b[2], b[3], b[5], b[6], b[8], b[9]]).wrapping_sub(0x3030_3030_3030_3030);
    // every byte a digit: no byte below '0' (it would wrap to 0xCF or more)
    // nor above '9' (0x0A or more, which adding 6 carries into the high half)
    if (w | w.wrapping_add(0x0606_0606_0606_0606)) & 0xF0F0_F0F0_F0F0_F0F0 != 0 {
        return None;
    }
    let d = w.to_le_bytes().map(u32::from);
    Some(((d[0] * 1000 + d[1] * 100 + d[2] * 10 + d[3]) as i32, d[4] * 10 + d[5], d[6] * 10 + d[7]))
}

/// Days since 1970-01-01 of a valid calendar date (proleptic Gregorian, as
/// chrono counts); None for a month or day that does not exist. Months of
/// [`TABLE_FROM`]..+[`TABLE_YEARS`] come from a table of their first days (a
/// load and a compare where the arithmetic took ~10 ns of a transaction
/// row's ~100 ns); other years are computed.
fn civil_day(y: i32, m: u32, d: u32) -> Option<i32> {
    // (below TABLE_FROM and month 0 wrap round to large numbers)
    let (year, month) = (y.wrapping_sub(TABLE_FROM) as u32 as usize, (m as usize).wrapping_sub(1));
    if year < TABLE_YEARS && month < 12 {
        let k = year * 12 + month;
        let (start, next) = (MONTH_START[k], MONTH_START[k + 1]);
        return (d >= 1 && d as i32 <= next - start).then(|| start + d as i32 - 1);
    }
    civil_day_computed(y, m, d)
}

const TABLE_FROM: i32 = 1900;
const TABLE_YEARS: usize = 256;

/// The day number of the first of each month from January [`TABLE_FROM`], and
/// of the month after the last.
static MONTH_START: [i32; TABLE_YEARS * 12 + 1] = {
    let mut t = [0; TABLE_YEARS * 12 + 1];
    let mut k = 0;
    while k < t.len() {
        t[k] = days_from_civil(TABLE_FROM + (k / 12) as i32, (k % 12) as u32 + 1, 1);
        k += 1;
    }
    t
};

fn civil_day_computed(y: i32, m: u32, d: u32) -> Option<i32> {
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let month_days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    if d == 0 || d > month_days {
        return None;
    }
    Some(days_from_civil(y, m, d))
}

/// Hinnant's `days_from_civil` for a valid date.
const fn days_from_civil(y: i32, m: u32, d: u32) -> i32 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m as i32 + 9) % 12; // March = 0
    let doy = (153 * mp + 2) / 5 + d as i32 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// [`parse_date`] as a day number (days since 1970-01-01), without building a
/// date for the common ISO layouts: the transaction reader's hot path.
pub fn parse_day(field: &[u8], format: &DateFormat) -> Result<i32, DateError> {
    if *format == DateFormat::Auto && !field.is_empty() {
        let (y, m, d) = match separated_ymd(field) {
            Some(ymd) => ymd,
            None => auto_ymd(field)?,
        };
        return civil_day(y, m, d).ok_or_else(|| DateError::OutOfRange(String::from_utf8_lossy(field).into_owned()));
    }
    let d = parse_date(field, format)?;
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).expect("valid epoch");
    Ok((d - epoch).num_days() as i32)
}

/// Parse a date field (bytes, already trimmed).
pub fn parse_date(field: &[u8], format: &DateFormat) -> Result<NaiveDate, DateError> {
    if field.is_empty() {
        return Err(DateError::Empty);
    }
    let shown = || String::from_utf8_lossy(field).into_owned();
    match format {
        DateFormat::DayFirst | DateFormat::MonthFirst => {
            if let Ok(d) = parse_date(field, &DateFormat::Auto) {
                return Ok(d);
            }
            let (a, b, y) = numeric(field).ok_or_else(|| DateError::Layout {
                value: shown(),
                layout: if *format == DateFormat::DayFirst { "day/month/year" } else { "month/day/year" },
            })?;
            let (m, d) = if *format == DateFormat::DayFirst { (b, a) } else { (a, b) };
            NaiveDate::from_ymd_opt(y, m, d).ok_or_else(|| DateError::OutOfRange(shown()))
        }
        DateFormat::Auto => {
            let (y, m, d) = auto_ymd(field)?;
            NaiveDate::from_ymd_opt(y, m, d).ok_or_else(|| DateError::OutOfRange(shown()))
        }
        DateFormat::ExcelSerial => {
            if let Ok(d) = parse_date(field, &DateFormat::Auto) {
                return Ok(d);
            }
            let days = excel_serial(field)
                .ok_or_else(|| DateError::Layout { value: shown(), layout: "as Excel's date numbers" })?;
            let base = NaiveDate::from_ymd_opt(1899, 12, 30).expect("valid base");
            base.checked_add_signed(chrono::Duration::days(i64::from(days)))
                .ok_or_else(|| DateError::OutOfRange(shown()))
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

    fn infer(v: &[&str]) -> DateInference {
        infer_dates(v.iter().enumerate().map(|(i, s)| (i as u64 + 2, s.as_bytes())))
    }

    /// Dates with the month's name say which number is the day; dotted ISO
    /// dates read as ISO.
    #[test]
    fn named_months_and_dotted_iso() {
        let auto = |s: &str| parse_date(s.as_bytes(), &DateFormat::Auto);
        for (s, want) in [
            ("Jan 5, 2024", d(2024, 1, 5)),
            ("January 5 2024", d(2024, 1, 5)),
            ("05-Jan-2024", d(2024, 1, 5)),
            ("5 jan 24", d(2024, 1, 5)),
            ("Tue, Jan 5, 2024 10:04 AM", d(2024, 1, 5)),
            ("Sept. 30, 2023", d(2023, 9, 30)),
            ("30 September 1999", d(1999, 9, 30)),
            ("Mar 1st, 2024", d(2024, 3, 1)),
            ("2024.01.07", d(2024, 1, 7)),
            ("2024.01.07 10:00", d(2024, 1, 7)),
        ] {
            assert_eq!(auto(s), Ok(want), "{s}");
            assert_eq!(parse_date(s.as_bytes(), &DateFormat::DayFirst), Ok(want), "{s}");
        }
        for s in ["Jan 2024", "Foo 5 2024", "Jan 5 2024x", "Jan 123 2024", "5 6 2024", "Jan Feb 2024", "Feb 30, 2024"] {
            assert!(auto(s).is_err(), "{s}");
        }
        assert!(looks_like_date(b"Jan 5, 2024"));
    }

    /// A column of Excel date serials (cells formatted as numbers) is read as
    /// such; a column with other values is not.
    #[test]
    fn excel_serials_are_told_by_the_whole_column() {
        let col = |v: &[&'static str]| infer_dates(v.iter().enumerate().map(|(i, s)| (i as u64 + 2, s.as_bytes())));
        assert_eq!(col(&["45292", "45300.5", ""]), DateInference::Decided(DateFormat::ExcelSerial));
        assert_ne!(col(&["45292", "2024-01-02x"]), DateInference::Decided(DateFormat::ExcelSerial));
        assert_eq!(col(&["20240101"]), DateInference::Decided(DateFormat::Auto), "YYYYMMDD is not a serial");
        let serial = |s: &str| parse_date(s.as_bytes(), &DateFormat::ExcelSerial);
        assert_eq!(serial("45292"), Ok(d(2024, 1, 1)));
        assert_eq!(serial("45300.75"), Ok(d(2024, 1, 9)));
        assert_eq!(serial("2024-01-02"), Ok(d(2024, 1, 2)));
        assert!(serial("4529").is_err() && serial("45292.x").is_err());
        assert_eq!("excel".parse::<DateFormat>(), Ok(DateFormat::ExcelSerial));
    }

    #[test]
    fn the_column_decides_day_or_month_first() {
        assert_eq!(infer(&["2024-01-02", "2024-05-06"]), DateInference::Decided(DateFormat::Auto));
        assert_eq!(infer(&["3/4/2020", "25/4/2020"]), DateInference::Decided(DateFormat::DayFirst));
        assert_eq!(infer(&["3/4/2020", "4/25/2020"]), DateInference::Decided(DateFormat::MonthFirst));
        assert_eq!(infer(&["1/1/2020", "2/2/20"]), DateInference::Decided(DateFormat::MonthFirst));
        let amb = infer(&["1/12/2010 8:26", "1/12/2010 9:00"]);
        assert!(matches!(&amb, DateInference::Ambiguous(v) if v[0].0 == 2));
        assert!(amb.problem("InvoiceDate").unwrap().contains("line 2: '1/12/2010 8:26'"));
        assert!(matches!(infer(&["25/4/2020", "4/25/2020"]), DateInference::Conflict { .. }));
    }

    /// The table of months gives chrono's day numbers, and refuses what
    /// chrono refuses, in and around its years.
    #[test]
    fn day_numbers_are_chronos() {
        let epoch = d(1970, 1, 1);
        for y in (TABLE_FROM - 3..TABLE_FROM + TABLE_YEARS as i32 + 3).chain([-400, 0, 1, 1600, 9999]) {
            for m in 0..=13 {
                for dd in 0..=32 {
                    let want = NaiveDate::from_ymd_opt(y, m, dd).map(|x| (x - epoch).num_days() as i32);
                    assert_eq!(civil_day(y, m, dd), want, "{y}-{m}-{dd}");
                }
            }
        }
    }

    /// The word-at-a-time reading of `YYYY-MM-DD` agrees with `auto_ymd`
    /// wherever it answers, and answers for every such date.
    #[test]
    fn separated_dates_read_as_auto_does() {
        let alphabet = b"0123456789-/T :9x\x00\xff";
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for i in 0..400_000 {
            let mut f: Vec<u8> = format!("{:04}-{:02}-{:02}", next() % 10_000, next() % 100, next() % 100).into_bytes();
            // a few bytes changed, or a time or junk after it
            for _ in 0..(i % 4) {
                let at = (next() % 12) as usize;
                let c = alphabet[(next() % alphabet.len() as u64) as usize];
                if at < f.len() {
                    f[at] = c;
                } else {
                    f.push(c);
                }
            }
            if let Some(ymd) = separated_ymd(&f) {
                assert_eq!(auto_ymd(&f), Ok(ymd), "{:?}", String::from_utf8_lossy(&f));
            }
        }
        for f in ["2024-01-31", "2024/12/01 10:00", "0000-00-00", "9999-99-99T", "1997-01-01T00:00:00Z"] {
            assert_eq!(separated_ymd(f.as_bytes()).map(Ok), Some(auto_ymd(f.as_bytes())), "{f}");
        }
        for f in ["2024-01-3", "2024-01/31", "2024-0a-31", "2024-01-31x", "202-01-31", "2024-01-3\u{0}", "+024-01-31"] {
            assert_eq!(separated_ymd(f.as_bytes()), None, "{f}");
        }
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
        let dmy = DateFormat::DayFirst;
        let mdy = DateFormat::MonthFirst;
        assert_eq!(parse_date(b"1/12/2010 8:26", &dmy), Ok(d(2010, 12, 1)));
        assert_eq!(parse_date(b"12/1/10 8:26", &mdy), Ok(d(2010, 12, 1)));
        assert_eq!(parse_date(b"07/16/22", &mdy), Ok(d(2022, 7, 16)));
        assert_eq!(parse_date(b"31.12.1999", &dmy), Ok(d(1999, 12, 31)));
        assert_eq!(parse_date(b"2024-03-01 10:00:00 -0500", &mdy), Ok(d(2024, 3, 1)));
        assert!(parse_date(b"13/1/2020", &mdy).is_err());
        assert!(parse_date(b"1/2/3/4", &mdy).is_err());
        let p = DateFormat::Pattern("%d/%m/%Y".into());
        assert_eq!(parse_date(b"08/03/2014", &p), Ok(d(2014, 3, 8)));
        let p = DateFormat::Pattern("%Y-%m-%d %H:%M:%S".into());
        assert_eq!(parse_date(b"2014-03-08 10:00:00", &p), Ok(d(2014, 3, 8)));
    }

    #[test]
    fn day_numbers_match_chrono_for_every_day_and_refuse_what_it_refuses() {
        let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap();
        for y in [1600, 1899, 1900, 1969, 1970, 1999, 2000, 2023, 2024, 2100, 2400, 9999] {
            for m in 0..=13 {
                for d in 0..=32 {
                    let want = NaiveDate::from_ymd_opt(y, m, d).map(|x| (x - epoch).num_days() as i32);
                    assert_eq!(civil_day(y, m, d), want, "{y}-{m}-{d}");
                    let text = format!("{y:04}-{m:02}-{d:02}");
                    assert_eq!(parse_day(text.as_bytes(), &DateFormat::Auto).ok(), want, "{text}");
                }
            }
        }
        assert_eq!(parse_day(b"2024-03-01T10:00:00+02:00", &DateFormat::Auto), Ok(19_783));
        assert!(parse_day(b"", &DateFormat::Auto).is_err());
        assert_eq!(parse_day(b"01/03/2024", &DateFormat::DayFirst), Ok(19_783));
    }
}
