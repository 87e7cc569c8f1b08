//! # winback-ingest
//!
//! Reading customer data files into winback's domain types: transaction logs
//! ([`transactions`]), per-customer summaries and survival tables ([`tables`]).
//! Nothing is dropped silently: a line that cannot be read comes back as a
//! [`Reject`] with its line number and the reason.

pub mod amount;
pub mod date;
pub mod exports;
#[cfg(feature = "parquet")]
pub mod parquet;
pub mod people;
pub mod split;
pub mod table;
pub mod tables;
pub mod transactions;

use serde::Serialize;

/// What a reject's reason says of bytes that are not text in UTF-8 (so that a
/// front end can suggest the file's encoding).
pub const NOT_UTF8: &str = "not valid UTF-8";

/// The rule by which a line that repeats the header is skipped (monthly
/// exports joined with `cat`, each with its header).
pub const HEADER_AGAIN: &str = "the header row again (files joined end to end)";

/// Whether `fields` repeat the header `names` (a byte-order mark, which each
/// joined file may start with, aside).
pub fn is_header_again<F: AsRef<[u8]>, N: AsRef<[u8]>>(fields: &[F], names: &[N]) -> bool {
    fields.len() == names.len()
        && !names.is_empty()
        && fields.iter().zip(names).enumerate().all(|(i, (f, n))| {
            let f = f.as_ref();
            let f = if i == 0 { f.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(f) } else { f };
            f.trim_ascii() == n.as_ref().trim_ascii()
        })
}

/// The rule by which a spreadsheet's totals line is skipped.
pub const TOTALS_ROW: &str = "a totals line (Total, with no date or no customer)";

/// Whether a line without a date or a customer is a spreadsheet's totals
/// line: a field that says so (`Total`, `Grand total:`, `Summe`…).
pub fn is_totals_row<F: AsRef<[u8]>>(fields: &[F]) -> bool {
    const WORDS: [&str; 10] =
        ["total", "totals", "grand total", "subtotal", "sum", "summe", "gesamt", "totaal", "totale", "total général"];
    fields.iter().any(|f| {
        let f = String::from_utf8_lossy(f.as_ref()).trim().trim_end_matches(':').trim().to_lowercase();
        WORDS.contains(&f.as_str())
    })
}

/// A line that was not read, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reject {
    pub line: u64,
    pub reason: String,
}

/// A file that cannot be read at all.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("the file is empty")]
    Empty,
    #[error("{0}")]
    Column(String),
    #[error("{0}")]
    Read(String),
    #[error("line {line}: {reason}")]
    Line { line: u64, reason: String },
    #[error(transparent)]
    Data(#[from] winback_stats::data::DataError),
}

/// A header's names for an error message: as they are, or, when they are not
/// text (a binary file, a workbook, text in another encoding), saying so
/// rather than printing the bytes; long headers cut short.
pub(crate) fn header_list(names: &[String]) -> String {
    let garbled = |n: &String| n.chars().any(|c| c == '\u{fffd}' || (c.is_control() && c != '\t'));
    if names.iter().any(garbled) {
        return "bytes that are not text in UTF-8: is it a CSV file? (a spreadsheet: save it as CSV UTF-8)".into();
    }
    let all = names.join(", ");
    match all.char_indices().nth(300) {
        Some((cut, _)) => format!("{}…", &all[..cut]),
        None => all,
    }
}
