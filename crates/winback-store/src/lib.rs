//! # winback-store
//!
//! One interface ([`Store`]) over two back ends: SQLite, embedded and the
//! default (a file created on first use), and PostgreSQL for teams (selected by
//! a `postgres://` URL). Both apply the same versioned, forward-only migrations
//! on open and behave the same; the shared test suite runs against both.

mod facts;
mod migrations;
mod pool;
pub mod postgres;
mod reasons;
mod sql;
pub mod sqlite;
mod types;
mod web;

pub use migrations::MigrationState;
pub use pool::{Pool, Pooled};
pub use types::*;
pub use web::{Accounts, NewUser, SurveyAnswer, SurveyResponse, SurveySave, SurveyTarget, Surveys, User};

use winback_domain::causes::{CauseUpdate, NewCause, RootCause};
use winback_domain::facts::CustomerFacts;
use winback_domain::import::ImportBatch;
use winback_domain::reasons::{NewReason, Reason};

/// What can go wrong talking to a store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("SQLite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("PostgreSQL: {0}")]
    Postgres(#[from] ::postgres::Error),
    /// Something asked for by id that is not there (a root cause…).
    #[error("{0}")]
    NotFound(String),
    /// A write that clashes with what is stored (a campaign name in use…).
    #[error("{0}")]
    Conflict(String),
    /// A row naming a customer the store does not have.
    #[error("{0}")]
    UnknownCustomer(String),
    /// A value the store refuses or cannot read back.
    #[error("{0}")]
    Invalid(String),
    #[error("I/O: {0}")]
    Io(#[from] std::io::Error),
    /// Every pooled store stayed in use for this long.
    #[error("the store is busy (no connection came free in {0:?}); try again")]
    Busy(std::time::Duration),
    #[error("the store's schema is at version {found}, newer than this winback knows ({known}); upgrade winback")]
    TooNew { found: i64, known: i64 },
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// The operations winback needs from a store. One import is one database
/// transaction: it lands whole or not at all. A store moves between threads (a
/// server hands one to a blocking task per request).
pub trait Store: Send + Accounts + Surveys {
    /// "sqlite" or "postgres".
    fn backend(&self) -> &'static str;
    /// The connection is gone (a PostgreSQL server restarted): a pool closes
    /// it instead of lending it again.
    fn is_broken(&self) -> bool {
        false
    }
    /// Every known migration and whether (and when) it was applied.
    fn migration_status(&mut self) -> Result<Vec<MigrationState>>;
    /// Store a batch of transactions; rows whose dedupe key is already stored are
    /// duplicates. `progress` is called with the number of rows written so far.
    /// Takes the batch so that its parts can be freed as soon as they are written.
    fn import_transactions(
        &mut self,
        batch: ImportBatch,
        meta: &ImportMeta,
        progress: &mut dyn FnMut(u64),
    ) -> Result<ImportOutcome>;
    /// Insert or update customers by external id.
    fn import_customers(&mut self, rows: &[CustomerRecord], meta: &ImportMeta) -> Result<ImportOutcome>;
    /// Store events (support tickets, complaints, returns…), deduplicated by content.
    fn import_events(&mut self, rows: &[EventRecord], meta: &ImportMeta) -> Result<ImportOutcome>;
    /// Purchases and returns, as a log whose customer indices map to `ids`.
    fn transaction_log(&mut self) -> Result<StoredLog>;
    /// Record an analysis run and its per-customer scores; returns the run id.
    fn save_run(&mut self, run: &NewRun, scores: &[ScoreRow]) -> Result<i64>;
    fn runs(&mut self) -> Result<Vec<RunInfo>>;
    /// Customers with their scores from the latest run.
    fn customers(&mut self, q: &CustomerQuery) -> Result<Vec<CustomerView>>;
    /// One customer, their scores across runs, their transactions and events.
    fn customer(&mut self, external_id: &str) -> Result<Option<CustomerDetail>>;
    /// Row counts per table, for `db status`.
    fn counts(&mut self) -> Result<Vec<(&'static str, i64)>>;

    /// Record reasons in one transaction: an unknown customer or cause fails the
    /// whole batch and stores nothing. A reason already stored is a duplicate.
    fn add_reasons(&mut self, rows: &[NewReason]) -> Result<ReasonsOutcome>;
    fn reasons(&mut self) -> Result<Vec<Reason>> {
        self.reasons_of(None)
    }
    /// Every reason, or one customer's (by external id).
    fn reasons_of(&mut self, customer: Option<&str>) -> Result<Vec<Reason>>;
    /// Record a root cause and link the unlinked reasons in its categories;
    /// returns its id and how many reasons were linked.
    fn add_cause(&mut self, c: &NewCause) -> Result<(i64, usize)>;
    /// Change a cause; new categories link their unlinked reasons too.
    fn update_cause(&mut self, id: i64, u: &CauseUpdate) -> Result<(RootCause, usize)>;
    fn causes(&mut self) -> Result<Vec<RootCause>>;
    /// Every customer's totals and their scores in the latest run (and that run).
    fn customer_facts(&mut self) -> Result<Facts> {
        self.customer_facts_until(None)
    }
    /// As `customer_facts`, counting only the transactions up to and including
    /// day `until` (and then with no scores: the latest run knows later days).
    /// A backtest replays the store as it was on that day.
    fn customer_facts_until(&mut self, until: Option<i32>) -> Result<Facts>;
    /// Every event as (customer id, day, kind).
    fn events(&mut self) -> Result<Vec<(i64, i32, String)>>;
    /// Net revenue per (customer id, product).
    fn product_revenue(&mut self) -> Result<Vec<(i64, String, f64)>>;

    /// Freeze a campaign and its members in one transaction; a name in use is an error.
    fn create_campaign(&mut self, c: &NewCampaign, members: &[NewMember]) -> Result<i64>;
    fn campaigns(&mut self) -> Result<Vec<CampaignRow>>;
    fn campaign_members(&mut self, campaign_id: i64) -> Result<Vec<MemberRow>>;
    /// The campaigns a customer (by external id) is in: (campaign, arm, state,
    /// strategy, channel, contacted day), oldest first.
    fn memberships(&mut self, customer: &str) -> Result<Vec<Membership>>;
    /// (arm, state, members) of a campaign, counted in the store.
    fn member_counts(&mut self, campaign_id: i64) -> Result<Vec<(String, String, i64)>>;
    /// Take a pending member for sending (committed before anything is sent);
    /// false if someone already took it. A crash after this never sends twice.
    /// `token` is the member's new token for the links in this message; only
    /// its SHA-256 is kept.
    fn claim(&mut self, campaign_id: i64, customer_id: i64, day: i32, token: &str) -> Result<bool>;
    /// Record what happened to a claimed member: sent, task or failed.
    fn mark(&mut self, campaign_id: i64, customer_id: i64, m: &Mark) -> Result<()>;
    /// Customers contacted in any campaign on or after `day` (the frequency cap).
    fn contacted_since(&mut self, day: i32) -> Result<Vec<i64>>;
    /// Record an opt-out from a member's token and withdraw that channel's
    /// consent; returns the customer, or None for an unknown token. Idempotent.
    /// (Tokens are matched by their SHA-256; tokens stored in clear by winback
    /// before version 7 of the schema still match as they are.)
    fn opt_out(&mut self, token: &str, channel: &str, day: i32, source: &str) -> Result<Option<i64>>;
    fn opt_outs(&mut self) -> Result<Vec<(i64, String)>>;
    /// Mark a customer (by external id) do-not-contact, or clear it; a later
    /// customers import that states it sets it again.
    fn set_do_not_contact(&mut self, customer: &str, value: bool) -> Result<()>;
    fn record_followup(&mut self, f: &FollowupRow) -> Result<()>;
    fn followups(&mut self) -> Result<Vec<FollowupRow>>;
    /// (customer id, P(alive)) of one analysis run.
    fn run_scores(&mut self, run_id: i64) -> Result<Vec<(i64, f64)>>;

    /// A summary of what assessments depend on in the store: it changes with
    /// every import, analysis run, reason and opt-out.
    fn fingerprint(&mut self) -> Result<String>;
    /// What the cached assessment was computed from, if there is one.
    fn assessment_cache(&mut self) -> Result<Option<CacheInfo>>;
    /// Replace the cached assessment, in one transaction.
    fn save_assessments(&mut self, info: &CacheInfo, rows: &[AssessedRow]) -> Result<()>;
    fn assessed(&mut self, q: &AssessedQuery) -> Result<Vec<AssessedRow>>;
    /// (status, decision, held, customers) over the cached gone customers.
    fn assessed_counts(&mut self) -> Result<Vec<(String, String, bool, i64)>>;
    /// How many cached assessments `q` selects, its limit and offset aside.
    fn assessed_count(&mut self, q: &AssessedQuery) -> Result<usize>;
}

/// A customer's place in one campaign.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Membership {
    pub campaign: String,
    pub arm: String,
    pub state: String,
    pub strategy: String,
    pub channel: String,
    pub contacted_day: Option<i32>,
}

/// The result of contacting a claimed member.
#[derive(Debug, Clone)]
pub struct Mark {
    pub state: winback_domain::campaign::MemberState,
    pub day: Option<i32>,
    pub message_id: Option<String>,
    pub error: Option<String>,
}

/// The consent column of a channel (None: no consent column, e.g. in person).
pub(crate) fn consent_column(channel: &str) -> Option<&'static str> {
    match channel {
        "email" => Some("consent_email"),
        "sms" => Some("consent_sms"),
        "phone" => Some("consent_phone"),
        "mail" => Some("consent_mail"),
        _ => None,
    }
}

/// What `add_reasons` did.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct ReasonsOutcome {
    pub ids: Vec<i64>,
    pub duplicate_lines: Vec<u64>,
    /// Reasons linked to a root cause.
    pub linked: usize,
}

/// Customers' totals with the run their scores come from.
pub struct Facts {
    pub run: Option<RunInfo>,
    pub customers: Vec<CustomerFacts>,
}

/// The SHA-256 of a secret as lowercase hex: what the store keeps in place of
/// tokens that grant access (member tokens, survey links, session ids).
pub fn digest(secret: &str) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(secret.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// Open the store at `url`: `postgres://…` or `postgresql://…` for PostgreSQL,
/// anything else is a SQLite file path (`sqlite://` prefix optional).
pub fn open(url: &str) -> Result<Box<dyn Store>> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Box::new(postgres::PgStore::open(url)?))
    } else {
        let path = url.strip_prefix("sqlite://").unwrap_or(url);
        Ok(Box::new(sqlite::SqliteStore::open(path)?))
    }
}

/// The file of a SQLite store URL; `None` for PostgreSQL.
pub fn sqlite_path(url: &str) -> Option<std::path::PathBuf> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        None
    } else {
        Some(std::path::PathBuf::from(url.strip_prefix("sqlite://").unwrap_or(url)))
    }
}

/// Dedupe key of an event: its customer, day, kind and attributes.
pub(crate) fn event_key(e: &EventRecord) -> [u8; 16] {
    winback_domain::import::stable_key(&[
        b"event",
        e.customer.as_bytes(),
        &e.day.to_le_bytes(),
        e.kind.as_bytes(),
        e.attributes.as_bytes(),
    ])
}
