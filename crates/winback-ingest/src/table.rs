//! A delimited file with a header row, read whole into text records with their
//! line numbers: the reader behind customer, event and reason files and the
//! recognised platform exports. The same splitting rules as transaction logs
//! ([`crate::split`]); records of the wrong width, with a quote that does not
//! close, or with bytes that are not UTF-8 are rejected with their line.

use crate::split::{detect_delimiter, Delimiter, Records};
use crate::transactions::{normalise, width_reason, UNCLOSED};
use crate::{IngestError, Reject};

/// Longest field kept (64 KiB): a note or address, not a pasted document.
pub const MAX_FIELD_BYTES: usize = 1 << 16;

/// One record: the line it starts on and its fields.
#[derive(Debug, Clone)]
pub struct Row {
    pub line: u64,
    pub fields: Vec<String>,
}

impl Row {
    /// Field `i`, trimmed; empty when the column is absent.
    pub fn get(&self, i: Option<usize>) -> &str {
        i.and_then(|i| self.fields.get(i)).map_or("", |s| s.trim())
    }
}

#[derive(Debug, Clone)]
pub struct Table {
    pub delimiter: Delimiter,
    /// Header names as written (BOM and spaces trimmed).
    pub names: Vec<String>,
    /// Header names for matching ([`normalise`]).
    pub norm: Vec<String>,
    pub rows: Vec<Row>,
    /// Records that could not be read.
    pub rejected: Vec<Reject>,
    /// Blank lines (not records).
    pub blank: Vec<u64>,
    /// Records that repeat the header ([`crate::HEADER_AGAIN`]).
    pub headers_again: Vec<u64>,
}

impl Table {
    /// Read a file with a header row.
    pub fn read(data: &[u8]) -> Result<Table, IngestError> {
        let delimiter = match detect_delimiter(data) {
            Delimiter::Whitespace => Delimiter::Byte(b','),
            d => d,
        };
        let mut records = Records::new(data, delimiter, 1);
        let mut fields = Vec::new();
        let mut blank = Vec::new();
        let mut names: Vec<String> = loop {
            match records.next_into(&mut fields) {
                None => return Err(IngestError::Empty),
                Some(l) if fields.is_empty() => blank.push(l),
                Some(_) => break fields.iter().map(|f| String::from_utf8_lossy(f).trim().to_owned()).collect(),
            }
        };
        if names.len() > 1 && names.last().is_some_and(String::is_empty) {
            // a header ending in a delimiter: no column, the records may end so too
            names.pop();
        }
        let width = names.len();
        let rest = data.len() - records.remaining();
        let mut records = Records::new(&data[rest..], delimiter, records.line()).expect_fields(width);
        let mut t = Table {
            delimiter,
            norm: names.iter().map(|n| normalise(n.as_bytes())).collect(),
            names,
            rows: Vec::new(),
            rejected: Vec::new(),
            blank,
            headers_again: Vec::new(),
        };
        while let Some(line) = records.next_into(&mut fields) {
            if records.unclosed() {
                t.rejected.push(Reject { line, reason: UNCLOSED.into() });
            } else if fields.is_empty() {
                t.blank.push(line);
            } else if fields.len() != width {
                t.rejected.push(Reject { line, reason: width_reason(width, fields.len()) });
            } else if crate::is_header_again(&fields, &t.names) {
                t.headers_again.push(line);
            } else if fields.iter().any(|f| memchr::memchr(0, f).is_some()) {
                // no database text column holds a NUL byte
                t.rejected.push(Reject { line, reason: "the line contains a NUL byte".into() });
            } else if let Some(f) = fields.iter().find(|f| f.len() > MAX_FIELD_BYTES) {
                t.rejected.push(Reject {
                    line,
                    reason: format!("a field is {} bytes long, more than {MAX_FIELD_BYTES}", f.len()),
                });
            } else {
                match fields.iter().map(|f| String::from_utf8(f.to_vec())).collect::<Result<Vec<_>, _>>() {
                    Ok(fields) => t.rows.push(Row { line, fields }),
                    Err(_) => t.rejected.push(Reject { line, reason: format!("the line is {}", crate::NOT_UTF8) }),
                }
            }
        }
        Ok(t)
    }

    /// The first column whose normalised name is one of `names`, in that order.
    pub fn col(&self, names: &[&str]) -> Option<usize> {
        names.iter().find_map(|n| self.norm.iter().position(|h| h == n))
    }

    /// Whether every one of `names` is a column.
    pub fn has(&self, names: &[&str]) -> bool {
        names.iter().all(|n| self.norm.iter().any(|h| h == n))
    }

    /// Records read, rejected or repeating the header (blank lines excluded).
    pub fn records(&self) -> usize {
        self.rows.len() + self.rejected.len() + self.headers_again.len()
    }

    /// The records that repeat the header, as skipped lines.
    pub fn headers_again(&self) -> impl Iterator<Item = Reject> + '_ {
        self.headers_again.iter().map(|&line| Reject { line, reason: crate::HEADER_AGAIN.into() })
    }
}
