//! SQL both back ends share. Parameters are `$1`, `$2`… in order of first
//! appearance: SQLite numbers them that way whatever the digits say.

use crate::CustomerQuery;

pub const TABLES: &[&str] = &[
    "customers",
    "transactions",
    "events",
    "imports",
    "analysis_runs",
    "scores",
    "reasons",
    "root_causes",
    "campaigns",
    "campaign_members",
    "opt_outs",
    "followups",
];

pub const RUNS: &str =
    "SELECT id, created_at, model, params, log_likelihood, customers, converged, observation_end, horizon, time_unit
    FROM analysis_runs ORDER BY id";

pub const CUSTOMER_FIELDS: &str = "SELECT id, phone, preferred_channel, consent_email, consent_sms, consent_phone, consent_mail,
    do_not_contact, flags, segment, tags, cost_to_serve, contract_start, contract_end FROM customers WHERE external_id = $1";

/// Runs first, then each run's score by its primary key (run_id, customer_id):
/// CROSS JOIN fixes that order in SQLite, whose planner otherwise may scan every
/// score for the customer id (28 ms on a 1M-customer store; 0.05 ms this way).
pub const HISTORY: &str = "SELECT r.id, r.created_at, s.frequency, s.recency, s.t, s.monetary_value, s.p_alive,
    s.expected_purchases, s.expected_spend, s.lifetime_value, s.value_at_stake
    FROM analysis_runs r CROSS JOIN scores s WHERE s.run_id = r.id AND s.customer_id = $1 ORDER BY r.id";

pub const TRANSACTIONS: &str =
    "SELECT day, amount, is_return, txn_id, product FROM transactions WHERE customer_id = $1 ORDER BY day, id";

pub const EVENTS: &str = "SELECT day, kind, attributes FROM events WHERE customer_id = $1 ORDER BY day, id";

/// Per-customer purchase totals, before its WHERE and GROUP BY.
const TOTALS: &str = "SELECT customer_id,
                   SUM(CASE WHEN is_return THEN 0 ELSE 1 END) AS n,
                   SUM(CASE WHEN is_return THEN -ABS(COALESCE(amount, 0)) ELSE COALESCE(amount, 0) END) AS revenue,
                   SUM(CASE WHEN is_return THEN 1 ELSE 0 END) AS returns,
                   MIN(day) AS first_day, MAX(day) AS last_day
            FROM transactions";

/// A customer view's columns: the totals (`agg`) and the latest run's scores.
const VIEW: &str = "SELECT c.id, c.external_id, c.name, c.email, COALESCE(agg.n, 0), COALESCE(agg.revenue, 0), COALESCE(agg.returns, 0),
               agg.first_day, agg.last_day,
               s.frequency, s.recency, s.t, s.monetary_value, s.p_alive, s.expected_purchases, s.expected_spend,
               s.lifetime_value, s.value_at_stake
        FROM customers c
        LEFT JOIN agg ON agg.customer_id = c.id
        LEFT JOIN scores s ON s.customer_id = c.id AND s.run_id = (SELECT max(id) FROM analysis_runs)";

/// One customer's view by external id ($1), reading only that customer's
/// transactions (an index lookup, not a scan of every transaction).
pub fn customer_view() -> String {
    format!(
        "WITH one AS (SELECT id FROM customers WHERE external_id = $1),
        agg AS ({TOTALS} WHERE customer_id = (SELECT id FROM one) GROUP BY customer_id)
        {VIEW} WHERE c.id = (SELECT id FROM one)"
    )
}

/// Customers with purchase totals and their scores in the latest run, most
/// value at stake first.
pub fn customers(q: &CustomerQuery) -> String {
    let mut filter = String::new();
    if let Some(p) = q.alive_below.filter(|p| p.is_finite()) {
        filter += &format!(" AND s.p_alive < {p}");
    }
    if let Some(p) = q.alive_at_least.filter(|p| p.is_finite()) {
        filter += &format!(" AND s.p_alive >= {p}");
    }
    let limit = q.limit.map_or(String::new(), |n| format!(" LIMIT {n}"));
    format!(
        "WITH agg AS ({TOTALS} GROUP BY customer_id)
        {VIEW} WHERE 1 = 1{filter}
        ORDER BY s.value_at_stake DESC NULLS LAST, c.id{limit}"
    )
}

pub const REASONS: &str = "SELECT r.id, r.customer_id, c.external_id, r.category, r.scope, r.detail, r.suggestion, r.source,
    r.day, r.recorded_by, r.recorded_at, r.cause_id, r.wont_return FROM reasons r JOIN customers c ON c.id = r.customer_id ORDER BY r.id";

/// One customer's reasons (by external id), from the reasons' customer index.
pub const REASONS_OF: &str = "SELECT r.id, r.customer_id, c.external_id, r.category, r.scope, r.detail, r.suggestion, r.source,
    r.day, r.recorded_by, r.recorded_at, r.cause_id, r.wont_return FROM customers c JOIN reasons r ON r.customer_id = c.id
    WHERE c.external_id = $1 ORDER BY r.id";

pub const INSERT_REASON: &str = "INSERT INTO reasons (customer_id, category, scope, detail, suggestion, source, day,
    recorded_by, recorded_at, cause_id, dedupe_key, wont_return) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
    ON CONFLICT (dedupe_key) DO NOTHING RETURNING id";

pub const CAUSES: &str =
    "SELECT id, title, categories, scope, status, fixed_on, announcement, created_at FROM root_causes ORDER BY id";

pub const INSERT_CAUSE: &str = "INSERT INTO root_causes (title, categories, scope, status, fixed_on, announcement,
    created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id";

/// SQLite numbers `$N` parameters in order of first appearance: keep them in order.
pub const UPDATE_CAUSE: &str = "UPDATE root_causes SET title = $1, categories = $2, status = $3, fixed_on = $4,
    announcement = $5, updated_at = $6 WHERE id = $7";

/// Link a category's unlinked reasons to a cause.
pub const LINK_CATEGORY: &str = "UPDATE reasons SET cause_id = $1 WHERE cause_id IS NULL AND category = $2";

pub const CUSTOMER_ID: &str = "SELECT id FROM customers WHERE external_id = $1";

/// Customers; their scores (`FACT_SCORES`) and purchase totals (`FACT_ROWS`)
/// are merged in by streaming, 4–5x faster than a join and GROUP BY here.
pub const FACT_CUSTOMERS: &str = "SELECT id, external_id, name, email, cost_to_serve, flags, tags, segment,
           do_not_contact, contract_end, phone, preferred_channel, consent_email, consent_sms, consent_phone, consent_mail
    FROM customers ORDER BY id";

pub const FACT_SCORES: &str =
    "SELECT customer_id, frequency, p_alive, expected_purchases, expected_spend, value_at_stake,
    lifetime_value FROM scores WHERE run_id = $1";

pub const FACT_ROWS: &str = "SELECT customer_id, day, amount, cost, is_return FROM transactions";

pub const ALL_EVENTS: &str = "SELECT customer_id, day, kind FROM events ORDER BY customer_id, day";

/// Summed in Rust (`facts::product_revenue`): a GROUP BY here scans as long and sorts too.
pub const PRODUCT_ROWS: &str =
    "SELECT customer_id, product, amount, is_return FROM transactions WHERE product IS NOT NULL";

pub const INSERT_CAMPAIGN: &str =
    "INSERT INTO campaigns (name, created_at, start_day, target, holdout, seed, window_days,
    base_rate, detectable_lift, playbook, run_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id";

pub const INSERT_MEMBER: &str = "INSERT INTO campaign_members (campaign_id, customer_id, arm, tier, category, rule,
    strategy, channel, coupon, unsubscribe_token, value_if_won, state) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)";

pub const CAMPAIGNS: &str = "SELECT id, created_at, name, start_day, target, holdout, seed, window_days, base_rate,
    detectable_lift, playbook, run_id FROM campaigns ORDER BY id";

pub const MEMBERS: &str = "SELECT m.customer_id, m.arm, m.tier, m.category, m.rule, m.strategy, m.channel, m.coupon,
    m.unsubscribe_token, m.value_if_won, m.state, c.external_id, m.contacted_day, m.message_id, m.error
    FROM campaign_members m JOIN customers c ON c.id = m.customer_id WHERE m.campaign_id = $1 ORDER BY m.customer_id";

/// Claim a pending member for sending: only one sender ever gets it.
pub const MEMBERSHIPS: &str = "SELECT c.name, m.arm, m.state, m.strategy, m.channel, m.contacted_day
    FROM campaign_members m JOIN campaigns c ON c.id = m.campaign_id JOIN customers k ON k.id = m.customer_id
    WHERE k.external_id = $1 ORDER BY c.id";

pub const MEMBER_COUNTS: &str =
    "SELECT arm, state, COUNT(*) FROM campaign_members WHERE campaign_id = $1 GROUP BY arm, state ORDER BY arm, state";

/// `$1` the flag, `$2` the external id (SQLite numbers parameters by first use).
pub const SET_DO_NOT_CONTACT: &str = "UPDATE customers SET do_not_contact = $1 WHERE external_id = $2";

pub const CLAIM: &str = "UPDATE campaign_members SET state = 'claimed', contacted_day = $1, unsubscribe_token = $2
    WHERE campaign_id = $3 AND customer_id = $4 AND state = 'pending'";

pub const MARK: &str = "UPDATE campaign_members SET state = $1, contacted_day = $2, message_id = $3, error = $4
    WHERE campaign_id = $5 AND customer_id = $6";

/// Customers contacted (or being contacted) on or after day $1, in any campaign.
pub const CONTACTED_SINCE: &str = "SELECT DISTINCT customer_id FROM campaign_members
    WHERE state IN ('claimed', 'sent', 'task') AND contacted_day >= $1";

/// By the token's hash ($1), or as it is ($2) for the 32-character tokens
/// stored in clear before schema version 7 (a stored hash is never a token).
pub const MEMBER_BY_TOKEN: &str = "SELECT customer_id FROM campaign_members
    WHERE unsubscribe_token = $1 OR (unsubscribe_token = $2 AND length(unsubscribe_token) < 64)";

pub const OPT_OUT: &str =
    "INSERT INTO opt_outs (customer_id, channel, day, source, recorded_at) VALUES ($1, $2, $3, $4, $5)
    ON CONFLICT (customer_id, channel) DO NOTHING";

pub const OPT_OUTS: &str = "SELECT customer_id, channel FROM opt_outs ORDER BY customer_id, channel";

pub const UPSERT_FOLLOWUP: &str = "INSERT INTO followups (campaign_id, customer_id, offset_days, done_day, satisfied,
    score, note, recorded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
    ON CONFLICT (campaign_id, customer_id, offset_days) DO UPDATE SET done_day = excluded.done_day,
    satisfied = excluded.satisfied, score = excluded.score, note = excluded.note, recorded_at = excluded.recorded_at";

pub const FOLLOWUPS: &str =
    "SELECT campaign_id, customer_id, offset_days, done_day, satisfied, score, note FROM followups
    ORDER BY campaign_id, customer_id, offset_days";

pub const RUN_SCORES: &str = "SELECT customer_id, p_alive FROM scores WHERE run_id = $1";

/// What an assessment depends on, summarised cheaply: the latest import and
/// run, the reasons and opt-outs recorded, the customers (root causes are few
/// and compared whole by the caller).
pub const FINGERPRINT: &str = "SELECT (SELECT COALESCE(MAX(id), 0) FROM imports), (SELECT COALESCE(MAX(id), 0) FROM analysis_runs), (SELECT COUNT(*) FROM reasons), (SELECT COALESCE(MAX(id), 0) FROM reasons), (SELECT COUNT(*) FROM opt_outs), (SELECT COALESCE(MAX(id), 0) FROM customers)";

pub const ASSESSMENT_CACHE: &str = "SELECT fingerprint, as_of, horizon FROM assessment_cache WHERE id = 1";

/// Written after the rows: one pass each instead of a B-tree insert per row.
/// `assessments_decision` serves pages of one decision in display order
/// (36 ms → 0.2 ms for page 4 of win-back on 1M customers).
pub const ASSESSMENT_INDEXES: &str = "CREATE INDEX assessments_external ON assessments(external_id); CREATE INDEX assessments_counts ON assessments(decision, status, held); CREATE INDEX assessments_decision ON assessments(decision, position); CREATE INDEX assessments_last ON assessments(last_day, position);";
/// SQLite has no TRUNCATE; a DELETE without WHERE is its truncate.
pub const DROP_ASSESSMENT_INDEXES: &str =
    "DROP INDEX IF EXISTS assessments_external; DROP INDEX IF EXISTS assessments_counts; DROP INDEX IF EXISTS assessments_decision; DROP INDEX IF EXISTS assessments_last; DELETE FROM assessments;";

pub const ASSESSED_COUNTS: &str =
    "SELECT status, decision, held, COUNT(*) FROM assessments WHERE decision IS NOT NULL GROUP BY status, decision, held ORDER BY status, decision, held";

/// The assessments `q` selects, with `p(n)` writing the n-th placeholder
/// (`?n` for SQLite, `$n` for PostgreSQL). Returns the SQL and its text
/// parameters in order.
pub fn assessed(q: &crate::AssessedQuery, p: fn(usize) -> String) -> (String, Vec<String>) {
    assessed_select(
        q,
        p,
        "SELECT a.customer_id, a.external_id, a.status, a.decision, a.held, a.value_if_won, a.detail, a.segment, a.tier, a.last_day",
    )
}

/// How many rows `assessed` would give without its limit and offset.
pub fn assessed_count(q: &crate::AssessedQuery, p: fn(usize) -> String) -> (String, Vec<String>) {
    let q = crate::AssessedQuery { limit: None, offset: None, ..q.clone() };
    let (sql, args) = assessed_select(&q, p, "SELECT COUNT(*)");
    (sql.split(" ORDER BY ").next().unwrap_or_default().to_string(), args)
}

fn assessed_select(q: &crate::AssessedQuery, p: fn(usize) -> String, select: &str) -> (String, Vec<String>) {
    let mut sql = format!("{select} FROM assessments a WHERE 1 = 1");
    let mut params = Vec::new();
    let mut bind = |sql: &mut String, clause: &str, v: &str| {
        params.push(v.to_string());
        sql.push_str(&clause.replace('#', &p(params.len())));
    };
    if let Some(id) = &q.external_id {
        bind(&mut sql, " AND a.external_id = #", id);
    }
    if q.gone_only {
        sql.push_str(" AND a.decision IS NOT NULL");
    }
    if !q.statuses.is_empty() {
        sql.push_str(" AND a.status IN (");
        for (i, s) in q.statuses.iter().enumerate() {
            if i > 0 {
                sql.push_str(", ");
            }
            bind(&mut sql, "#", s);
        }
        sql.push(')');
    }
    if let Some(d) = &q.decision {
        bind(&mut sql, " AND a.decision = #", d);
    }
    match q.held {
        Some(true) => sql.push_str(" AND a.held"),
        Some(false) => sql.push_str(" AND NOT a.held"),
        None => {}
    }
    if let Some(s) = q.segment.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        bind(&mut sql, " AND lower(a.segment) = #", &s.to_lowercase());
    }
    if let Some(t) = &q.tier {
        bind(&mut sql, " AND a.tier = #", t);
    }
    if let Some(s) = q.search.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        // the detail JSON holds the name and email; \ escapes LIKE's wildcards
        let like = format!("%{}%", s.to_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
        bind(&mut sql, " AND (a.external_id = #", s);
        bind(&mut sql, " OR lower(a.detail) LIKE # ESCAPE '\\')", &like);
    }
    sql.push_str(match q.order {
        crate::AssessedOrder::Value => " ORDER BY a.position",
        crate::AssessedOrder::Recent => " ORDER BY a.last_day DESC NULLS LAST, a.position",
        crate::AssessedOrder::Longest => " ORDER BY a.last_day ASC NULLS LAST, a.position",
    });
    if let Some(n) = q.limit {
        sql.push_str(&format!(" LIMIT {n}"));
    }
    if let Some(n) = q.offset {
        sql.push_str(&format!(" OFFSET {n}"));
    }
    (sql, params)
}
