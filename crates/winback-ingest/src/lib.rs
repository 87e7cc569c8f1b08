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
