//! # winback-app
//!
//! The use cases of winback as plain synchronous services over a store: what the
//! command line and the web server both call. A service takes typed inputs and
//! a store, reports progress through a callback, and returns a typed,
//! serialisable result with its notes; it parses no arguments and prints
//! nothing. Data flows one way: import → store → analyse → decide → act → measure.
//!
//! So far: the configuration ([`config`]), reading input files ([`files`]),
//! importing them ([`import`]), analysing the store ([`analyze`]) and assessing
//! every customer ([`assess`]: statuses, decisions, holds).
//! The other use cases still live in the binary's `src/commands/` and move here
//! one by one.

pub mod accounts;
pub mod analyze;
pub mod assess;
pub mod backtest;
pub mod campaigns;
pub mod causes;
pub mod config;
pub mod demo;
pub mod files;
pub mod import;
pub mod outcomes;
pub mod overview;
pub mod reasons;
pub mod reports;
pub mod send;
pub mod survey;

/// Why a use case could not run.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// A file that cannot be opened or decoded.
    #[error("{path}: {message}")]
    File { path: String, message: String },
    /// A file whose layout cannot be read (no date column, an ambiguous column…).
    #[error("reading {path}: {source}")]
    Ingest {
        path: String,
        #[source]
        source: winback_ingest::IngestError,
    },
    /// More lines rejected than the caller allows: nothing was imported.
    #[error(
        "{path}: {rejected} of {rows} lines ({share:.1}%) could not be read, more than --max-reject-rate {max}; nothing was imported (see the rejects file){hint}"
    )]
    TooManyRejects { path: String, rejected: usize, rows: usize, share: f64, max: f64, hint: &'static str },
    /// A config file that cannot be read or does not check.
    #[error("{path}: {message}")]
    Config { path: String, message: String },
    /// A file with bad rows, imported all or nothing: nothing was imported.
    #[error("{path}: {} bad rows; nothing was imported:{}", rows.len(), crate::reasons::describe_rejects(rows))]
    Rejected { path: String, rows: Vec<winback_ingest::Reject> },
    /// Something asked for by name that is not there (a campaign, a customer).
    #[error("{0}")]
    NotFound(String),
    /// A request that cannot be carried out as asked (the message says why and what to do).
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Store(#[from] winback_store::StoreError),
}

pub type Result<T> = std::result::Result<T, AppError>;
