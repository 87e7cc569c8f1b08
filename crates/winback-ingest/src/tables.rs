//! Small tables with a header row: per-customer RFM summaries, BG/BB
//! (frequency, recency, periods, weights) patterns, and cohort survival tables.

use std::collections::HashMap;

use serde::Serialize;
use winback_domain::summary::CustomerSummary;

use crate::{IngestError, Reject};

/// A per-customer summary file: `frequency,recency,T` (or `x,t_x,T`), optional
/// `monetary_value` (or `zbar`) and an id column.
#[derive(Debug, Clone, Serialize)]
pub struct RfmTable {
    pub ids: Vec<String>,
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

struct Table {
    header: Vec<String>,
    records: Vec<(u64, csv::StringRecord)>,
    rejected: Vec<Reject>,
    rows: usize,
}

fn norm(s: &str) -> String {
    s.trim().trim_start_matches('\u{feff}').to_ascii_lowercase()
}

fn read_table(data: &[u8]) -> Result<Table, IngestError> {
    let delim = match crate::split::detect_delimiter(data) {
        crate::split::Delimiter::Byte(b) => b,
        crate::split::Delimiter::Whitespace => b' ',
    };
    let mut rdr = csv::ReaderBuilder::new().delimiter(delim).flexible(true).has_headers(true).from_reader(data);
    let header: Vec<String> =
        rdr.headers().map_err(|e| IngestError::Column(format!("header row: {e}")))?.iter().map(norm).collect();
    if header.iter().all(|h| h.is_empty()) {
        return Err(IngestError::Empty);
    }
    let mut records = Vec::new();
    let mut rejected = Vec::new();
    let mut rows = 0;
    for rec in rdr.records() {
        rows += 1;
        match rec {
            Ok(r) => {
                let line = r.position().map_or(0, |p| p.line());
                if r.len() != header.len() {
                    rejected
                        .push(Reject { line, reason: format!("expected {} fields, found {}", header.len(), r.len()) });
                } else {
                    records.push((line, r));
                }
            }
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                rejected.push(Reject { line, reason: e.to_string() });
            }
        }
    }
    Ok(Table { header, records, rejected, rows })
}

fn find(header: &[String], names: &[&str]) -> Option<usize> {
    names.iter().find_map(|n| header.iter().position(|h| h == n))
}

fn num(rec: &csv::StringRecord, i: usize, what: &str) -> Result<f64, String> {
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
        Err(format!("{what} {v} is not a whole number ≥ 0"))
    }
}

/// Read an RFM summary file.
pub fn read_rfm(data: &[u8]) -> Result<RfmTable, IngestError> {
    let t = read_table(data)?;
    let missing = |what: &str| {
        IngestError::Column(format!(
            "no {what} column; the header has: {} (expected frequency,recency,T or x,t_x,T)",
            t.header.join(", ")
        ))
    };
    let fx = find(&t.header, &["frequency", "x"]).ok_or_else(|| missing("frequency"))?;
    let fr = find(&t.header, &["recency", "t_x"]).ok_or_else(|| missing("recency"))?;
    // "T" and "t" are the same after lower-casing; neither may be t_x.
    let ft = find(&t.header, &["t", "age"]).ok_or_else(|| missing("T"))?;
    let fm = find(&t.header, &["monetary_value", "zbar", "m", "monetary"]);
    let fid = find(&t.header, &["id", "customer_id", "customer", "cust_id", "client_id", "user_id", "email"]);
    let mut out = RfmTable {
        ids: Vec::new(),
        customers: Vec::new(),
        has_monetary: fm.is_some(),
        rows: t.rows,
        rejected: t.rejected,
    };
    for (line, rec) in &t.records {
        let row = (|| -> Result<(u32, f64, f64, f64), String> {
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
                return Err(format!(
                    "recency {tx} with frequency 0: a customer without repeat purchases has recency 0"
                ));
            }
            if m < 0.0 {
                return Err(format!("monetary value {m} is negative"));
            }
            Ok((x, tx, tt, m))
        })();
        match row {
            Ok((x, tx, tt, m)) => {
                let idx = out.customers.len() as u32;
                out.ids
                    .push(fid.and_then(|i| rec.get(i)).map_or_else(|| (idx + 1).to_string(), |s| s.trim().to_owned()));
                out.customers.push(CustomerSummary::from_rfm(idx, x, tx, tt, m));
            }
            Err(reason) => out.rejected.push(Reject { line: *line, reason }),
        }
    }
    out.rejected.sort_by_key(|r| r.line);
    Ok(out)
}

/// Read BG/BB patterns: `frequency,recency,periods[,weights]` (also `x,t_x,n`).
pub fn read_patterns(data: &[u8]) -> Result<PatternTable, IngestError> {
    let t = read_table(data)?;
    let missing = |what: &str| {
        IngestError::Column(format!(
            "no {what} column; the header has: {} (expected frequency,recency,periods[,weights])",
            t.header.join(", ")
        ))
    };
    let fx = find(&t.header, &["frequency", "x"]).ok_or_else(|| missing("frequency"))?;
    let fr = find(&t.header, &["recency", "t_x"]).ok_or_else(|| missing("recency"))?;
    let fnn = find(&t.header, &["periods", "n", "opportunities"]).ok_or_else(|| missing("periods"))?;
    let fw = find(&t.header, &["weights", "weight", "count", "customers"]);
    let mut out = PatternTable { rows: Vec::new(), rejected: t.rejected };
    for (line, rec) in &t.records {
        let row = (|| -> Result<(u32, u32, u32, f64), String> {
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
            Ok((x, tx, n, w))
        })();
        match row {
            Ok(r) => out.rows.push(r),
            Err(reason) => out.rejected.push(Reject { line: *line, reason }),
        }
    }
    Ok(out)
}

/// Read a survival table: a `year` or `period` column and one column of survivor
/// counts per segment. Any bad cell is an error (the table is the whole input).
pub fn read_survival(data: &[u8]) -> Result<SurvivalTable, IngestError> {
    let t = read_table(data)?;
    if let Some(r) = t.rejected.first() {
        return Err(IngestError::Line { line: r.line, reason: r.reason.clone() });
    }
    let fp = find(&t.header, &["year", "period", "t", "month"]);
    let mut segments: Vec<(String, Vec<f64>)> =
        t.header.iter().enumerate().filter(|(i, _)| Some(*i) != fp).map(|(_, h)| (h.clone(), Vec::new())).collect();
    if segments.is_empty() {
        return Err(IngestError::Column("no survivor-count column: expected e.g. year,regular,highend".into()));
    }
    let mut seen = HashMap::new();
    for (line, rec) in &t.records {
        if let Some(i) = fp {
            let p = num(rec, i, "period").map_err(|reason| IngestError::Line { line: *line, reason })?;
            if seen.insert(p.to_bits(), *line).is_some() {
                return Err(IngestError::Line { line: *line, reason: format!("period {p} appears twice") });
            }
        }
        let mut k = 0;
        for i in 0..t.header.len() {
            if Some(i) == fp {
                continue;
            }
            let v = num(rec, i, &t.header[i]).map_err(|reason| IngestError::Line { line: *line, reason })?;
            segments[k].1.push(v);
            k += 1;
        }
    }
    Ok(SurvivalTable { segments })
}
