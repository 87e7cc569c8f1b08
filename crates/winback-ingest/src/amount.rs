//! Money as exports write it: `1234.50`, `$1,234.50`, `1.234,50 €`, `(12.00)`,
//! `-3`, `USD 12`.
//!
//! Whether `,` or `.` is the decimal mark is a property of the column, not of
//! one value: `1.234` alone could be either. [`infer_decimal`] decides it from
//! every value of a column; [`parse_amount_as`] then reads each value under that
//! convention and rejects what does not fit it, so a file never mixes readings.

/// Why an amount could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AmountError {
    #[error("empty amount")]
    Empty,
    #[error("'{0}' is not an amount")]
    NotANumber(String),
    #[error("'{0}' does not fit the column's decimal {1} (thousands groups of three digits, one decimal mark)")]
    Convention(String, &'static str),
    #[error("'{0}' is beyond ±{MAX_AMOUNT:e}, not a plausible amount")]
    TooLarge(String),
}

/// The decimal mark of a column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Decimal {
    Point,
    Comma,
}

impl Decimal {
    fn mark(self) -> char {
        match self {
            Decimal::Point => '.',
            Decimal::Comma => ',',
        }
    }
    fn name(self) -> &'static str {
        match self {
            Decimal::Point => "point",
            Decimal::Comma => "comma",
        }
    }
}

impl std::str::FromStr for Decimal {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "point" | "." | "dot" => Ok(Decimal::Point),
            "comma" | "," => Ok(Decimal::Comma),
            other => Err(format!("decimal mark '{other}': give 'point' or 'comma'")),
        }
    }
}

/// Largest magnitude accepted: no single transaction of a business is worth a
/// trillion, and sums of such values would lose every cent.
pub const MAX_AMOUNT: f64 = 1e12;

/// ISO 4217 codes, for `USD 12` and `12 EUR`; any other letters make the value
/// not an amount (`abc12` is not 12).
const CODES: &str = "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP BYN BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VES VND VUV WST XAF XCD XOF XPF YER ZAR ZMW ZWL";

/// Currency words written beside numbers besides the ISO codes.
const WORDS: &[&str] =
    &["kr", "zł", "zl", "rs", "r$", "us$", "ca$", "a$", "nz$", "hk$", "s$", "fr", "chf", "lei", "kč"];

fn is_currency_text(t: &str) -> bool {
    let t = t.trim();
    if t.is_empty() {
        return true;
    }
    if t.chars().count() == 1 && "$€£¥₹₩₽¢₺₪₫฿₱₴₦₲₡".contains(t) {
        return true;
    }
    if t.len() == 3 && t.bytes().all(|b| b.is_ascii_alphabetic()) {
        let up = t.to_ascii_uppercase();
        return CODES.split(' ').any(|c| c == up);
    }
    WORDS.contains(&t.to_lowercase().as_str())
}

/// The number inside a money cell: sign, and the digits with their separators.
struct Body {
    negative: bool,
    /// Digits, `.` and `,` only (spaces, `'`, `_` and NBSP grouping removed).
    core: String,
}

fn body(field: &[u8]) -> Result<Body, AmountError> {
    let shown = || String::from_utf8_lossy(field).into_owned();
    let s = std::str::from_utf8(field).map_err(|_| AmountError::NotANumber(shown()))?.trim();
    if s.is_empty() {
        return Err(AmountError::Empty);
    }
    let mut signs = 0;
    let mut b = s;
    if b.starts_with('(') && b.ends_with(')') && b.len() >= 2 {
        signs += 1;
        b = b[1..b.len() - 1].trim();
    }
    // the number: from the first digit (or a separator before one) to the last digit
    let first = b.find(|c: char| c.is_ascii_digit()).ok_or_else(|| AmountError::NotANumber(shown()))?;
    let last = b.rfind(|c: char| c.is_ascii_digit()).unwrap_or(first);
    let mut start = first;
    if start > 0 && matches!(b.as_bytes()[start - 1], b'.' | b',') {
        start -= 1; // ".50"
    }
    let (mut pre, num, mut post) = (&b[..start], &b[start..=last], &b[last + 1..]);
    // a sign may stand before the currency or the number, or trail the number
    let mut strip_signs = |t: &str| -> String {
        t.chars()
            .filter(|&c| {
                let sign = matches!(c, '-' | '\u{2212}' | '+');
                if sign && c != '+' {
                    signs += 1;
                }
                !sign
            })
            .collect()
    };
    let pre_text = strip_signs(pre);
    let post_text = strip_signs(post);
    pre = pre_text.as_str();
    post = post_text.as_str();
    if signs > 1 || !is_currency_text(pre) || !is_currency_text(post) {
        return Err(AmountError::NotANumber(shown()));
    }
    let mut core = String::with_capacity(num.len());
    for ch in num.chars() {
        match ch {
            '0'..='9' | '.' | ',' => core.push(ch),
            ' ' | '\'' | '_' | '\u{a0}' | '\u{202f}' => {}
            _ => return Err(AmountError::NotANumber(shown())),
        }
    }
    Ok(Body { negative: signs == 1, core })
}

/// What one value says about its column's decimal mark.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Evidence {
    Point,
    Comma,
    /// One separator followed by exactly three digits: `1.234`, `1,234`.
    Either,
    /// No separator.
    None,
}

fn evidence(core: &str) -> Evidence {
    let dots = core.matches('.').count();
    let commas = core.matches(',').count();
    match (dots, commas) {
        (0, 0) => Evidence::None,
        // several of one mark: thousands groups, if they are groups (2,0,0
        // is no evidence of anything; the reader rejects it)
        (_, 0) if dots > 1 => {
            if grouped(core, '.') {
                Evidence::Comma
            } else {
                Evidence::None
            }
        }
        (0, _) if commas > 1 => {
            if grouped(core, ',') {
                Evidence::Point
            } else {
                Evidence::None
            }
        }
        (1, 0) | (0, 1) => {
            let at = core.find(['.', ',']).unwrap_or(0);
            let (int, frac) = (&core[..at], &core[at + 1..]);
            let dot = dots == 1;
            // three digits after, and an integer part that thousands groups allow
            if frac.len() == 3 && (1..=3).contains(&int.len()) && int != "0" {
                Evidence::Either
            } else if dot {
                Evidence::Point
            } else {
                Evidence::Comma
            }
        }
        _ => {
            // both marks: the later one is the decimal mark
            if core.rfind('.') > core.rfind(',') {
                Evidence::Point
            } else {
                Evidence::Comma
            }
        }
    }
}

/// The decimal mark of a column from its values (line number, cell). Values that
/// are not amounts are left to the reader to reject. `Ok(None)`: no value says
/// (integers only); the caller may take its default.
pub fn infer_decimal<'a>(values: impl IntoIterator<Item = (u64, &'a [u8])>) -> Result<Option<Decimal>, String> {
    type Seen = Option<(u64, String)>;
    let (mut point, mut comma): (Seen, Seen) = (None, None);
    let mut either: Vec<(u64, String)> = Vec::new();
    for (line, v) in values {
        let Ok(b) = body(v) else { continue };
        let shown = || String::from_utf8_lossy(v).into_owned();
        match evidence(&b.core) {
            Evidence::Point if point.is_none() => point = Some((line, shown())),
            Evidence::Comma if comma.is_none() => comma = Some((line, shown())),
            Evidence::Either if either.len() < 3 => either.push((line, shown())),
            _ => {}
        }
    }
    match (point, comma) {
        (Some((lp, p)), Some((lc, c))) => Err(format!(
            "the column mixes a decimal point (line {lp}: '{p}') and a decimal comma (line {lc}: '{c}'); pass --decimal point or --decimal comma"
        )),
        (Some(_), None) => Ok(Some(Decimal::Point)),
        (None, Some(_)) => Ok(Some(Decimal::Comma)),
        (None, None) if !either.is_empty() => Err(format!(
            "every amount with a separator has exactly three digits after it ({}), so ',' or '.' could be the decimal mark or group thousands; pass --decimal point or --decimal comma",
            either.iter().map(|(l, v)| format!("line {l}: '{v}'")).collect::<Vec<_>>().join(", ")
        )),
        (None, None) => Ok(None),
    }
}

/// Parse an amount on its own, without a column to decide the decimal mark: when
/// both `,` and `.` appear the later one is the decimal mark; a lone separator is
/// a decimal mark unless thousands groups (`1,234,567`) make it grouping. Prefer
/// [`parse_amount_as`] for columns.
pub fn parse_amount(field: &[u8]) -> Result<f64, AmountError> {
    if let Some(v) = plain(field) {
        return Ok(v);
    }
    let b = body(field)?;
    let dec = match evidence(&b.core) {
        Evidence::Comma => Decimal::Comma,
        _ => Decimal::Point,
    };
    finish(field, b, dec)
}

/// Parse an amount whose column uses `decimal` as its decimal mark.
#[inline]
pub fn parse_amount_as(field: &[u8], decimal: Decimal) -> Result<f64, AmountError> {
    if decimal == Decimal::Point || memchr::memchr(b'.', field).is_none() {
        if let Some(v) = plain(field) {
            return Ok(v);
        }
    }
    let b = body(field)?;
    finish(field, b, decimal)
}

fn finish(field: &[u8], b: Body, decimal: Decimal) -> Result<f64, AmountError> {
    let shown = || String::from_utf8_lossy(field).into_owned();
    let mark = decimal.mark();
    let group = if mark == '.' { ',' } else { '.' };
    if b.core.matches(mark).count() > 1 {
        return Err(AmountError::Convention(shown(), decimal.name()));
    }
    let (int, frac) = match b.core.find(mark) {
        Some(at) => (&b.core[..at], &b.core[at + 1..]),
        None => (b.core.as_str(), ""),
    };
    if frac.contains(group) || (int.contains(group) && !grouped(int, group)) {
        return Err(AmountError::Convention(shown(), decimal.name()));
    }
    let int: String = int.chars().filter(|c| *c != group).collect();
    if int.is_empty() && frac.is_empty() {
        return Err(AmountError::NotANumber(shown()));
    }
    let normal = format!("{}.{}", if int.is_empty() { "0" } else { &int }, if frac.is_empty() { "0" } else { frac });
    let v: f64 = normal.parse().map_err(|_| AmountError::NotANumber(shown()))?;
    if !v.is_finite() || v.abs() > MAX_AMOUNT {
        return Err(AmountError::TooLarge(shown()));
    }
    Ok(if b.negative { -v } else { v })
}

/// Digits in thousands groups: 1 to 3 digits, then groups of exactly 3.
fn grouped(s: &str, sep: char) -> bool {
    let mut parts = s.split(sep);
    let first = parts.next().unwrap_or("");
    (1..=3).contains(&first.len())
        && first.bytes().all(|b| b.is_ascii_digit())
        && parts.all(|g| g.len() == 3 && g.bytes().all(|b| b.is_ascii_digit()))
}

/// `-?\d+(\.\d+)?` without allocation: at most 15 characters, so the digits
/// make an integer m < 10^14 and the value is m / 10^k, one division of two
/// exact doubles, rounded once: the double `str::parse` gives. (Adding the
/// fraction to the integer part instead rounds twice, and was 1 ulp off for
/// 51 of 12M amounts.) Above [`MAX_AMOUNT`], the slow path says why.
#[inline]
pub(crate) fn plain(b: &[u8]) -> Option<f64> {
    let (neg, digits) = match b.first()? {
        b'-' => (true, &b[1..]),
        _ => (false, b),
    };
    if digits.is_empty() || digits.len() > 15 {
        return None;
    }
    // (signed integers: one instruction each to convert, where u64 takes a
    // branch and several on x86-64 without AVX-512)
    const POW10: [f64; 16] = [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15];
    let mut m: i64 = 0;
    let mut places = 0usize;
    let mut in_frac = false;
    for &c in digits {
        match c {
            b'0'..=b'9' => {
                m = m * 10 + i64::from(c - b'0');
                places += usize::from(in_frac);
            }
            b'.' if !in_frac => in_frac = true,
            _ => return None,
        }
    }
    // m / 10^places > MAX_AMOUNT (1e12), tested on the integers so that
    // nothing waits for the division: with at most 15 digits no quotient
    // above 1e12 rounds down to it, so this is the test on the double
    const ABOVE: [i64; 16] = {
        let mut t = [i64::MAX; 16];
        let mut k = 0;
        while k <= 6 {
            t[k] = 10i64.pow(12 + k as u32);
            k += 1;
        }
        t
    };
    if (in_frac && places == 0) || m > ABOVE[places] {
        return None;
    }
    let v = m as f64 / POW10[places];
    Some(if neg { -v } else { v })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fast path gives the double `str::parse` gives, for every amount of
    /// up to two decimals below 100,000 and for a spread of longer ones.
    #[test]
    fn plain_amounts_are_correctly_rounded() {
        let check = |s: &str| {
            let want: f64 = s.parse().unwrap();
            assert_eq!(plain(s.as_bytes()).map(f64::to_bits), Some(want.to_bits()), "{s}");
        };
        for cents in 0..10_000_000u64 {
            check(&format!("{}.{:02}", cents / 100, cents % 100));
        }
        for k in 0..200_000u64 {
            check(&format!("{}.{:06}", k * 37, (k * 7919) % 1_000_000));
            check(&format!("-{}.{:04}", k / 3, k % 10_000));
            check(&format!("{}", k * 1_000_003));
        }
        check("0.1");
        check(".5");
        check("99999999999.99");
        assert_eq!(plain(b"-0.00").map(f64::to_bits), Some((-0.0f64).to_bits()));
        assert_eq!(plain(b"5."), None);
        assert_eq!(plain(b"1234567890.123456"), None); // 17 characters: the slow path

        // beyond ±1e12 the slow path says why: exactly where the double is
        for s in [
            "1000000000000",
            "1000000000001",
            "999999999999.99",
            "1000000000000.1",
            "-1000000000000",
            "-1000000000001",
            "100000000000.01",
            "999999999999999",
            "1000000000000.",
            "0.000000000001",
        ] {
            let v: f64 = s.parse().unwrap();
            let want = (v.abs() <= MAX_AMOUNT && !s.ends_with('.')).then_some(v.to_bits());
            assert_eq!(plain(s.as_bytes()).map(f64::to_bits), want, "{s}");
        }
    }

    #[test]
    fn amounts() {
        let ok = |s: &str, v: f64| assert_eq!(parse_amount(s.as_bytes()), Ok(v), "{s}");
        ok("29.33", 29.33);
        ok("0.00", 0.0);
        ok("-3", -3.0);
        ok("$1,234.50", 1234.5);
        ok("1.234,50 €", 1234.5);
        ok("12,5", 12.5);
        ok("1,234,567", 1_234_567.0);
        ok("(12.00)", -12.0);
        ok("USD 12", 12.0);
        ok("12.00 eur", 12.0);
        ok("£ 7.5", 7.5);
        ok("1.234.567", 1_234_567.0);
        ok(" 12 ", 12.0);
        ok("-$5.00", -5.0);
        ok("$-5.00", -5.0);
        ok("5.00-", -5.0);
        ok(".50", 0.5);
        ok("1 234,50", 1234.5);
        assert_eq!(parse_amount(b""), Err(AmountError::Empty));
        for bad in
            ["abc", "abc12", "12abc", "--5", "-(5)", "12..3x", "1e999", "--", "1,2,3", "12.3.4,5,6", "1-2", "ABC12"]
        {
            assert!(parse_amount(bad.as_bytes()).is_err(), "{bad}");
        }
        let huge = format!("1{}", "0".repeat(308));
        assert!(matches!(parse_amount(huge.as_bytes()), Err(AmountError::TooLarge(_))));
        assert!(matches!(parse_amount(b"10000000000000"), Err(AmountError::TooLarge(_))));
    }

    fn infer(vals: &[&str]) -> Result<Option<Decimal>, String> {
        infer_decimal(vals.iter().enumerate().map(|(i, v)| (i as u64 + 2, v.as_bytes())))
    }

    #[test]
    fn the_column_decides_the_decimal_mark() {
        // 1.234 alone is ambiguous; 1.234,56 beside it settles it: comma
        assert_eq!(infer(&["1.234,56", "1.234", "2.500", "7"]), Ok(Some(Decimal::Comma)));
        assert_eq!(parse_amount_as(b"1.234", Decimal::Comma), Ok(1234.0));
        assert_eq!(parse_amount_as(b"2.500", Decimal::Comma), Ok(2500.0));
        assert_eq!(parse_amount_as(b"1.234,56", Decimal::Comma), Ok(1234.56));
        assert_eq!(infer(&["1,234.56", "1,234", "12.5"]), Ok(Some(Decimal::Point)));
        assert_eq!(parse_amount_as(b"1,234", Decimal::Point), Ok(1234.0));
        assert!(infer(&["1.234", "2.500"]).unwrap_err().contains("line 2: '1.234'"));
        assert!(infer(&["1.50", "1,50"]).unwrap_err().contains("mixes"));
        assert_eq!(infer(&["1", "20", "abc"]), Ok(None));
        // a value that does not fit the column's mark is rejected, not misread
        assert!(matches!(parse_amount_as(b"1,5", Decimal::Point), Err(AmountError::Convention(..))));
        assert!(matches!(parse_amount_as(b"1.5", Decimal::Comma), Err(AmountError::Convention(..))));
        assert!(matches!(parse_amount_as(b"1.2.3", Decimal::Point), Err(AmountError::Convention(..))));
        // several of one mark are thousands groups only when they are groups:
        // 2,0,0 votes for nothing (it used to outvote 30,5 as a "point"), and is
        // then rejected on its own line
        assert_eq!(infer(&["30,5", "2,0,0"]), Ok(Some(Decimal::Comma)));
        assert_eq!(infer(&["1.234.567", "2,5"]), Ok(Some(Decimal::Comma)));
        assert_eq!(infer(&["1,234,567", "2.5"]), Ok(Some(Decimal::Point)));
        assert!(matches!(parse_amount_as(b"2,0,0", Decimal::Comma), Err(AmountError::Convention(..))));
    }
}
