//! Money as exports write it: `1234.50`, `$1,234.50`, `1.234,50 €`, `(12.00)`,
//! `-3`, `USD 12`.

/// Why an amount could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AmountError {
    #[error("empty amount")]
    Empty,
    #[error("'{0}' is not an amount")]
    NotANumber(String),
}

/// Parse an amount. Currency symbols and codes and spaces are ignored; when both
/// `,` and `.` appear the later one is the decimal mark; a lone `,` followed by
/// exactly three digits groups thousands, otherwise it is a decimal comma.
pub fn parse_amount(field: &[u8]) -> Result<f64, AmountError> {
    // Fast path: plain ASCII decimal.
    if let Some(v) = plain(field) {
        return Ok(v);
    }
    let shown = || String::from_utf8_lossy(field).into_owned();
    let s = std::str::from_utf8(field).map_err(|_| AmountError::NotANumber(shown()))?.trim();
    if s.is_empty() {
        return Err(AmountError::Empty);
    }
    let mut negative = false;
    let mut body = s;
    if body.starts_with('(') && body.ends_with(')') {
        negative = true;
        body = &body[1..body.len() - 1];
    }
    // Currency symbols and codes sit before or after the number ("$12", "12 EUR").
    let is_currency = |c: char| c.is_alphabetic() || c.is_whitespace() || "$€£¥₹₩₽¢".contains(c);
    let body = body.trim_matches(is_currency);
    let mut cleaned = String::with_capacity(body.len());
    let mut seen_digit = false;
    for (i, ch) in body.char_indices() {
        match ch {
            '0'..='9' => {
                seen_digit = true;
                cleaned.push(ch)
            }
            '.' | ',' => cleaned.push(ch),
            '-' | '\u{2212}' if !seen_digit || i + ch.len_utf8() == body.len() => negative = !negative,
            '+' if !seen_digit => {}
            c if c.is_whitespace() || c == '\'' || c == '_' => {}
            _ => return Err(AmountError::NotANumber(shown())),
        }
    }
    if !seen_digit {
        return Err(AmountError::NotANumber(shown()));
    }
    let last_dot = cleaned.rfind('.');
    let last_comma = cleaned.rfind(',');
    let normal: String = match (last_dot, last_comma) {
        // 1,234.50 / 1.234,50: the later mark is the decimal one
        (Some(d), Some(c)) if d > c && grouped(&cleaned[..d], ',') => cleaned.replace(',', ""),
        (Some(d), Some(c)) if c > d && grouped(&cleaned[..c], '.') => cleaned.replace('.', "").replace(',', "."),
        (Some(_), Some(_)) => return Err(AmountError::NotANumber(shown())),
        (None, Some(c)) => {
            if grouped(&cleaned, ',') && (cleaned.matches(',').count() > 1 || cleaned.len() - c - 1 == 3) {
                cleaned.replace(',', "")
            } else if cleaned.matches(',').count() == 1 {
                cleaned.replace(',', ".")
            } else {
                return Err(AmountError::NotANumber(shown()));
            }
        }
        (Some(_), None) if cleaned.matches('.').count() > 1 => {
            if grouped(&cleaned, '.') {
                cleaned.replace('.', "")
            } else {
                return Err(AmountError::NotANumber(shown()));
            }
        }
        _ => cleaned,
    };
    let v: f64 = normal.parse().map_err(|_| AmountError::NotANumber(shown()))?;
    if !v.is_finite() {
        return Err(AmountError::NotANumber(shown()));
    }
    Ok(if negative { -v } else { v })
}

/// Digits in thousands groups: 1 to 3 digits, then groups of exactly 3.
fn grouped(s: &str, sep: char) -> bool {
    let mut parts = s.split(sep);
    let first = parts.next().unwrap_or("");
    (1..=3).contains(&first.len())
        && first.bytes().all(|b| b.is_ascii_digit())
        && parts.all(|g| g.len() == 3 && g.bytes().all(|b| b.is_ascii_digit()))
}

/// `-?\d+(\.\d+)?` without allocation.
fn plain(b: &[u8]) -> Option<f64> {
    let (neg, digits) = match b.first()? {
        b'-' => (true, &b[1..]),
        _ => (false, b),
    };
    if digits.is_empty() || digits.len() > 15 {
        return None;
    }
    let mut int: u64 = 0;
    let mut frac: u64 = 0;
    let mut scale = 1u64;
    let mut in_frac = false;
    for &c in digits {
        match c {
            b'0'..=b'9' if in_frac => {
                frac = frac * 10 + u64::from(c - b'0');
                scale *= 10;
            }
            b'0'..=b'9' => int = int * 10 + u64::from(c - b'0'),
            b'.' if !in_frac => in_frac = true,
            _ => return None,
        }
    }
    if in_frac && scale == 1 {
        return None;
    }
    let v = int as f64 + frac as f64 / scale as f64;
    Some(if neg { -v } else { v })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts() {
        let ok = |s: &str, v: f64| assert_eq!(parse_amount(s.as_bytes()), Ok(v), "{s}");
        ok("29.33", 29.33);
        ok("0.00", 0.0);
        ok("-3", -3.0);
        ok("$1,234.50", 1234.5);
        ok("1.234,50 €", 1234.5);
        ok("12,5", 12.5);
        ok("1,234", 1234.0);
        ok("1,234,567", 1_234_567.0);
        ok("(12.00)", -12.0);
        ok("USD 12", 12.0);
        ok("£ 7.5", 7.5);
        ok("1.234.567", 1_234_567.0);
        ok(" 12 ", 12.0);
        assert_eq!(parse_amount(b""), Err(AmountError::Empty));
        for bad in ["abc", "12..3x", "1e999", "--", "1,2,3", "12.3.4,5,6"] {
            assert!(parse_amount(bad.as_bytes()).is_err(), "{bad}");
        }
    }
}
