//! Small tables with a header row: per-customer RFM summaries, BG/BB
//! (frequency, recency, periods, weights) patterns, and cohort survival tables.

use std::collections::HashMap;

use winback_domain::log::CustomerIds;
use winback_domain::summary::CustomerSummary;

use std::borrow::Cow;

use crate::amount::{infer_decimal, parse_amount_as, AmountError, Decimal};
use crate::split::{detect_delimiter, Delimiter, Records};
use crate::transactions::UNCLOSED;
use crate::{IngestError, Reject};

/// A per-customer summary file: `frequency,recency,T` (or `x,t_x,T`), optional
/// `monetary_value` (or `zbar`) and an id column.
#[derive(Debug, Clone)]
pub struct RfmTable {
    pub ids: CustomerIds,
    pub customers: Vec<CustomerSummary>,
    pub has_monetary: bool,
    pub rows: usize,
    pub rejected: Vec<Reject>,
}

/// Discrete-time patterns for BG/BB: (x, t_x, n, weight).
#[derive(Debug, Clone)]
pub struct PatternTable {
    pub rows: Vec<(u32, u32, u32, f64)>,
    pub rejected: Vec<Reject>,
}

/// A survival table: one column of survivor counts per segment.
#[derive(Debug, Clone)]
pub struct SurvivalTable {
    pub segments: Vec<(String, Vec<f64>)>,
}

/// A table's header, with its rows still to read: rows stream through one
/// reused list of fields, so a summary file costs no allocation per line.
/// Split by [`crate::split::Records`], the transaction reader's splitter (the
/// csv crate took ~0.3 ms of the ~3.5 ms `winback fit` on the 2,357-row
/// CDNOW summary).
struct Table<'a> {
    header: Vec<String>,
    records: Records<'a>,
    /// The file and its delimiter, to look at the numbers before reading them.
    data: &'a [u8],
    delimiter: Delimiter,
    /// The numbers' decimal mark: a point unless [`Table::infer_decimal`]
    /// finds commas (`30,4` in a `;` file a European spreadsheet saved).
    decimal: Decimal,
    /// The whole file is UTF-8 (the rule): fields cut at ASCII delimiters
    /// then are too, and need no check of their own.
    utf8: bool,
}

/// One row's fields, all valid UTF-8 (a row with a field that is not is
/// rejected before it gets here).
struct Rec<'r, 'a>(&'r [Cow<'a, [u8]>], Decimal);

impl Rec<'_, '_> {
    fn get(&self, i: usize) -> Option<&str> {
        self.0.get(i).and_then(|f| std::str::from_utf8(f).ok())
    }
}

fn norm(s: &str) -> String {
    s.trim().trim_start_matches('\u{feff}').to_ascii_lowercase()
}

impl<'a> Table<'a> {
    fn open(data: &'a [u8]) -> Result<Self, IngestError> {
        let delimiter = detect_delimiter(data);
        let mut records = Records::new(data, delimiter, 1);
        let mut fields = Vec::new();
        let mut header: Vec<String> = loop {
            match records.next_into(&mut fields) {
                None => return Err(IngestError::Empty),
                Some(_) if fields.is_empty() => continue,
                Some(_) => break fields.iter().map(|f| norm(&String::from_utf8_lossy(f))).collect(),
            }
        };
        if header.len() > 1 && header.last().is_some_and(String::is_empty) {
            header.pop(); // a header ending in a delimiter
        }
        if header.iter().all(|h| h.is_empty()) {
            return Err(IngestError::Empty);
        }
        let records = records.expect_fields(header.len());
        Ok(Table { header, records, data, delimiter, decimal: Decimal::Point, utf8: std::str::from_utf8(data).is_ok() })
    }

    /// Decide the decimal mark of the number columns `cols` from all their
    /// values, as the transaction reader does for amounts, unless `given`. Only where a comma
    /// can be a decimal mark: the file is not comma-separated and has one.
    fn infer_decimal(&mut self, cols: &[usize], given: Option<Decimal>) -> Result<(), IngestError> {
        if let Some(d) = given {
            self.decimal = d;
            return Ok(());
        }
        if self.delimiter == Delimiter::Byte(b',') || memchr::memchr(b',', self.data).is_none() {
            return Ok(());
        }
        let mut records = Records::new(self.data, self.delimiter, 1).expect_fields(self.header.len());
        let (mut fields, mut cells) = (Vec::new(), Vec::new());
        let mut header_seen = false;
        while let Some(line) = records.next_into(&mut fields) {
            if fields.is_empty() {
                continue;
            }
            if !std::mem::replace(&mut header_seen, true) {
                continue;
            }
            cells.extend(cols.iter().filter_map(|&c| fields.get(c)).map(|f| (line, f.trim_ascii().to_vec())));
        }
        let names = cols.iter().map(|&c| self.header[c].as_str()).collect::<Vec<_>>().join(", ");
        self.decimal = infer_decimal(cells.iter().map(|(l, v)| (*l, v.as_slice())))
            .map_err(|e| IngestError::Column(format!("columns {names}: {e}")))?
            .unwrap_or(Decimal::Point);
        Ok(())
    }

    /// Hand every row with the header's number of fields to `row`; a row that
    /// does not parse, has another number of fields or that `row` refuses is
    /// rejected with its line. Blank lines are not rows. Returns the number of
    /// rows and the rejects, in line order.
    fn for_each(mut self, mut row: impl FnMut(&Rec) -> Result<(), String>) -> (usize, Vec<Reject>) {
        let (mut rejected, mut rows, mut fields) = (Vec::new(), 0, Vec::new());
        while let Some(line) = self.records.next_into(&mut fields) {
            if fields.is_empty() {
                continue;
            }
            rows += 1;
            let checked = if self.records.unclosed() {
                Err(UNCLOSED.to_string())
            } else if fields.len() != self.header.len() {
                Err(format!("expected {} fields, found {}", self.header.len(), fields.len()))
            } else if let Some(k) = fields.iter().position(|f| !self.utf8 && std::str::from_utf8(f).is_err()) {
                Err(format!("field {} is {}", k + 1, crate::NOT_UTF8))
            } else {
                row(&Rec(&fields, self.decimal))
            };
            if let Err(reason) = checked {
                rejected.push(Reject { line, reason });
            }
        }
        (rows, rejected)
    }
}

fn find(header: &[String], names: &[&str]) -> Option<usize> {
    names.iter().find_map(|n| header.iter().position(|h| h == n))
}

fn num(rec: &Rec, i: usize, what: &str) -> Result<f64, String> {
    let f = rec.0.get(i).map_or(&b""[..], |f| f.trim_ascii());
    // the amount reader, for a decimal comma (30,4) or thousands groups (1,234.56)
    let as_amount = |decimal| {
        parse_amount_as(f, decimal).map_err(|e| match e {
            AmountError::Empty | AmountError::NotANumber(_) => {
                format!("{what} '{}' is not a number", String::from_utf8_lossy(f))
            }
            e => format!("{what}: {e}"),
        })
    };
    if rec.1 == Decimal::Comma {
        // (plain digits still take the fast path inside)
        return as_amount(Decimal::Comma);
    }
    // plain decimals (most cells) straight from the bytes, without the general
    // parser or a UTF-8 check: the same double
    if let Some(v) = crate::amount::plain(f) {
        return Ok(v);
    }
    if memchr::memchr(b',', f).is_some() {
        return as_amount(Decimal::Point);
    }
    let s = rec.get(i).unwrap_or("").trim();
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(v),
        _ => Err(format!("{what} '{s}' is not a number")),
    }
}

fn count(v: f64, what: &str) -> Result<u32, String> {
    if v >= 0.0 && v.fract() == 0.0 && v <= f64::from(u32::MAX) {
        Ok(v as u32)
    } else {
        // 1e308 as written, not as 309 digits
        let shown = if v.abs() < 1e16 { format!("{v}") } else { format!("{v:e}") };
        Err(format!("{what} {shown} is not a whole number from 0 to {}", u32::MAX))
    }
}

/// Read an RFM summary file.
pub fn read_rfm(data: &[u8]) -> Result<RfmTable, IngestError> {
    read_rfm_as(data, None)
}

/// [`read_rfm`] with the numbers' decimal mark given (`None`: decided from
/// the file; a comma only in a file not separated by commas).
pub fn read_rfm_as(data: &[u8], decimal: Option<Decimal>) -> Result<RfmTable, IngestError> {
    let mut t = Table::open(data)?;
    let missing = |what: &str| {
        IngestError::Column(format!(
            "no {what} column; the header has: {} (expected frequency,recency,T or x,t_x,T)",
            crate::header_list(&t.header)
        ))
    };
    let fx = find(&t.header, &["frequency", "x"]).ok_or_else(|| missing("frequency"))?;
    let fr = find(&t.header, &["recency", "t_x"]).ok_or_else(|| missing("recency"))?;
    // "T" and "t" are the same after lower-casing; neither may be t_x.
    let ft = find(&t.header, &["t", "age"]).ok_or_else(|| missing("T"))?;
    let fm = find(&t.header, &["monetary_value", "zbar", "m", "monetary"]);
    let fid = find(&t.header, &["id", "customer_id", "customer", "cust_id", "client_id", "user_id", "email"]);
    t.infer_decimal(&[Some(fx), Some(fr), Some(ft), fm].into_iter().flatten().collect::<Vec<_>>(), decimal)?;
    // sized from the line count, so that neither vector is copied as it grows
    let lines = memchr::memchr_iter(b'\n', data).count() + 1;
    let mut ids = CustomerIds::with_capacity(lines, data.len() / 4);
    let mut customers = Vec::with_capacity(lines);
    let (rows, mut rejected) = t.for_each(|rec| {
        let x = count(num(rec, fx, "frequency")?, "frequency")?;
        let tx = num(rec, fr, "recency")?;
        let tt = num(rec, ft, "T")?;
        let m = match fm {
            Some(i) => num(rec, i, "monetary value")?,
            None => 0.0,
        };
        if !(0.0 <= tx && tx <= tt) {
            return Err(format!("recency {tx} must be between 0 and T = {tt}"));
        }
        if x == 0 && tx != 0.0 {
            return Err(format!("recency {tx} with frequency 0: a customer without repeat purchases has recency 0"));
        }
        if m < 0.0 {
            return Err(format!("monetary value {m} is negative"));
        }
        let idx = customers.len() as u32;
        match fid.and_then(|i| rec.get(i)) {
            Some(id) => ids.push(id.trim()),
            None => ids.push(&(idx + 1).to_string()),
        }
        customers.push(CustomerSummary::from_rfm(idx, x, tx, tt, m));
        Ok(())
    });
    rejected.sort_by_key(|r| r.line);
    Ok(RfmTable { ids, customers, has_monetary: fm.is_some(), rows, rejected })
}

/// Read BG/BB patterns: `frequency,recency,periods[,weights]` (also `x,t_x,n`).
pub fn read_patterns(data: &[u8]) -> Result<PatternTable, IngestError> {
    let mut t = Table::open(data)?;
    let missing = |what: &str| {
        IngestError::Column(format!(
            "no {what} column; the header has: {} (expected frequency,recency,periods[,weights])",
            crate::header_list(&t.header)
        ))
    };
    let fx = find(&t.header, &["frequency", "x"]).ok_or_else(|| missing("frequency"))?;
    let fr = find(&t.header, &["recency", "t_x"]).ok_or_else(|| missing("recency"))?;
    let fnn = find(&t.header, &["periods", "n", "opportunities"]).ok_or_else(|| missing("periods"))?;
    let fw = find(&t.header, &["weights", "weight", "count", "customers"]);
    if let Some(w) = fw {
        t.infer_decimal(&[w], None)?;
    }
    let mut out = Vec::new();
    let (_, rejected) = t.for_each(|rec| {
        let x = count(num(rec, fx, "frequency")?, "frequency")?;
        let tx = count(num(rec, fr, "recency")?, "recency")?;
        let n = count(num(rec, fnn, "periods")?, "periods")?;
        let w = match fw {
            Some(i) => num(rec, i, "weight")?,
            None => 1.0,
        };
        if x > tx || tx > n {
            return Err(format!("need frequency ≤ recency ≤ periods, got {x}, {tx}, {n}"));
        }
        if w < 0.0 {
            return Err(format!("weight {w} is negative"));
        }
        out.push((x, tx, n, w));
        Ok(())
    });
    Ok(PatternTable { rows: out, rejected })
}

/// Read a survival table: a `year` or `period` column and one column of survivor
/// counts per segment. Any bad cell is an error (the table is the whole input).
pub fn read_survival(data: &[u8]) -> Result<SurvivalTable, IngestError> {
    let t = Table::open(data)?;
    let fp = find(&t.header, &["year", "period", "t", "month"]);
    let header = t.header.clone();
    let mut segments: Vec<(String, Vec<f64>)> =
        header.iter().enumerate().filter(|(i, _)| Some(*i) != fp).map(|(_, h)| (h.clone(), Vec::new())).collect();
    if segments.is_empty() {
        return Err(IngestError::Column("no survivor-count column: expected e.g. year,regular,highend".into()));
    }
    let mut seen = HashMap::new();
    let (_, rejected) = t.for_each(|rec| {
        if let Some(i) = fp {
            let p = num(rec, i, "period")?;
            if seen.insert(p.to_bits(), ()).is_some() {
                return Err(format!("period {p} appears twice"));
            }
        }
        let mut k = 0;
        for (i, name) in header.iter().enumerate() {
            if Some(i) == fp {
                continue;
            }
            segments[k].1.push(num(rec, i, name)?);
            k += 1;
        }
        Ok(())
    });
    if let Some(r) = rejected.into_iter().next() {
        return Err(IngestError::Line { line: r.line, reason: r.reason });
    }
    Ok(SurvivalTable { segments })
}
