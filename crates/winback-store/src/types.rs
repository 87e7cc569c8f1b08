//! Values passed in and out of a store.

use serde::Serialize;
pub use winback_domain::customer::{CustomerRecord, EventRecord};
use winback_domain::log::TransactionLog;

/// About an import, recorded with it.
#[derive(Debug, Clone)]
pub struct ImportMeta {
    pub kind: &'static str,
    pub source: String,
    /// Lines of the file (header excluded) and lines rejected before the store.
    pub rows: usize,
    pub rejected: usize,
    /// Duplicates found before the store (e.g. a repeated transaction id).
    pub duplicates_in_file: usize,
}

/// What an import did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ImportOutcome {
    pub import_id: i64,
    pub imported: usize,
    /// Lines skipped because the store already held them.
    pub duplicate_lines: Vec<u64>,
    pub customers_created: usize,
}

/// Transactions from the store, for analysis.
pub struct StoredLog {
    pub log: TransactionLog,
    /// Store ids of the customers, aligned with `log.ids`.
    pub customer_ids: Vec<i64>,
    /// Returns or refunds (left out of the log).
    pub returns: usize,
}

/// An analysis run to record.
#[derive(Debug, Clone, Serialize)]
pub struct NewRun {
    pub model: String,
    /// JSON object of named parameters (and fit quality).
    pub params: String,
    pub spend_params: Option<String>,
    pub log_likelihood: f64,
    pub customers: i64,
    pub converged: bool,
    pub period: String,
    pub time_unit: String,
    #[serde(serialize_with = "winback_domain::period::iso_day")]
    pub observation_end: i32,
    pub horizon: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct RunInfo {
    pub id: i64,
    pub created_at: String,
    pub model: String,
    pub params: String,
    pub log_likelihood: f64,
    pub customers: i64,
    pub converged: bool,
    #[serde(serialize_with = "winback_domain::period::iso_day")]
    pub observation_end: i32,
    pub horizon: f64,
    pub time_unit: String,
}

/// One customer's scores in a run.
#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
pub struct ScoreRow {
    pub customer_id: i64,
    pub frequency: i64,
    pub recency: f64,
    pub t: f64,
    pub monetary_value: f64,
    pub p_alive: f64,
    pub expected_purchases: f64,
    pub expected_spend: Option<f64>,
    pub lifetime_value: Option<f64>,
    pub value_at_stake: f64,
}

/// Which customers to list.
#[derive(Debug, Clone, Default)]
pub struct CustomerQuery {
    /// Only customers whose latest P(alive) is below (true) or at least (false) this.
    pub alive_below: Option<f64>,
    pub alive_at_least: Option<f64>,
    pub limit: Option<usize>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CustomerView {
    pub external_id: String,
    pub name: Option<String>,
    pub email: Option<String>,
    pub transactions: i64,
    pub revenue: f64,
    pub returns: i64,
    #[serde(serialize_with = "winback_domain::period::iso_opt_day")]
    pub first_day: Option<i32>,
    #[serde(serialize_with = "winback_domain::period::iso_opt_day")]
    pub last_day: Option<i32>,
    pub score: Option<ScoreRow>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CustomerDetail {
    pub view: CustomerView,
    pub phone: Option<String>,
    pub preferred_channel: Option<String>,
    pub consent: Vec<(&'static str, bool)>,
    pub do_not_contact: bool,
    pub flags: String,
    pub segment: Option<String>,
    pub tags: String,
    pub cost_to_serve: Option<f64>,
    pub contract_start: Option<i32>,
    pub contract_end: Option<i32>,
    /// (run id, created at, scores)
    pub history: Vec<(i64, String, ScoreRow)>,
    pub transactions: Vec<StoredTransaction>,
    /// (day, kind, attributes)
    pub events: Vec<(i32, String, String)>,
}

/// (day, amount, is_return, transaction id, product)
pub type StoredTransaction = (i32, Option<f64>, bool, Option<String>, Option<String>);

/// A campaign to freeze.
#[derive(Debug, Clone, Serialize)]
pub struct NewCampaign {
    pub name: String,
    #[serde(serialize_with = "winback_domain::period::iso_day")]
    pub start_day: i32,
    pub target: String,
    pub holdout: f64,
    pub seed: i64,
    pub window_days: i32,
    pub base_rate: f64,
    pub detectable_lift: f64,
    pub playbook: String,
    pub run_id: Option<i64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CampaignRow {
    pub id: i64,
    pub created_at: String,
    #[serde(flatten)]
    pub c: NewCampaign,
}

/// A member to freeze with the campaign.
#[derive(Debug, Clone, Serialize)]
pub struct NewMember {
    pub customer_id: i64,
    pub arm: winback_domain::campaign::Arm,
    pub tier: String,
    /// The reason category the strategy was chosen for ("none" without a reason).
    pub category: String,
    pub rule: String,
    pub strategy: String,
    pub channel: String,
    pub coupon: Option<String>,
    pub unsubscribe_token: String,
    pub value_if_won: f64,
    /// "pending" for treatment, "holdout" for control.
    pub state: winback_domain::campaign::MemberState,
}

#[derive(Debug, Clone, Serialize)]
pub struct MemberRow {
    #[serde(flatten)]
    pub m: NewMember,
    pub external_id: String,
    #[serde(serialize_with = "winback_domain::period::iso_opt_day")]
    pub contacted_day: Option<i32>,
    pub message_id: Option<String>,
    pub error: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FollowupRow {
    pub campaign_id: i64,
    pub customer_id: i64,
    pub offset_days: i32,
    #[serde(serialize_with = "winback_domain::period::iso_day")]
    pub done_day: i32,
    pub satisfied: Option<bool>,
    pub score: Option<i32>,
    pub note: Option<String>,
}

/// Which state of the store and config a cached assessment was computed from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CacheInfo {
    pub fingerprint: String,
    /// The analysis date of that assessment.
    pub as_of: i32,
    pub horizon: String,
}

/// One customer's cached assessment. Saved in the order given: gone customers
/// by value if won back, highest first, then the rest.
#[derive(Debug, Clone, PartialEq)]
pub struct AssessedRow {
    pub customer_id: i64,
    pub external_id: String,
    pub status: String,
    /// None for customers who have not gone.
    pub decision: Option<String>,
    /// Held by an unfixed root cause.
    pub held: bool,
    pub value_if_won: Option<f64>,
    /// The assessment as JSON, for display.
    pub detail: String,
    /// The customer's segment (from the CRM) and value tier (top, mid, low).
    pub segment: Option<String>,
    pub tier: Option<String>,
    /// Day of the last purchase.
    pub last_day: Option<i32>,
}

/// Which cached assessments to read: gone customers by value if won back,
/// highest first.
#[derive(Debug, Clone, Default)]
pub struct AssessedQuery {
    pub external_id: Option<String>,
    /// Only customers with a decision (gone).
    pub gone_only: bool,
    /// Any of these statuses (empty: any).
    pub statuses: Vec<String>,
    pub decision: Option<String>,
    pub held: Option<bool>,
    /// Segment, compared without regard to case.
    pub segment: Option<String>,
    /// Value tier: top, mid or low.
    pub tier: Option<String>,
    /// Customer id, or part of a name or email (case-insensitive).
    pub search: Option<String>,
    pub limit: Option<usize>,
    /// Rows to skip first (pages).
    pub offset: Option<usize>,
    pub order: AssessedOrder,
}

/// The order of a cached-assessment list.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum AssessedOrder {
    /// Gone customers by value if won back, highest first (the saved order).
    #[default]
    Value,
    /// Most recent last purchase first.
    Recent,
    /// Longest since the last purchase first.
    Longest,
}
