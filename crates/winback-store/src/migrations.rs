//! Versioned, forward-only migrations, embedded in the binary. Each back end has
//! its own SQL for each version; `schema_migrations` records what was applied.

use serde::Serialize;

pub struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub sqlite: &'static str,
    pub postgres: &'static str,
}

pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "customers, transactions, events, imports, analysis runs, scores",
        sqlite: include_str!("../migrations/sqlite/0001_init.sql"),
        postgres: include_str!("../migrations/postgres/0001_init.sql"),
    },
    Migration {
        version: 2,
        name: "reasons for leaving, root causes",
        sqlite: include_str!("../migrations/sqlite/0002_reasons_causes.sql"),
        postgres: include_str!("../migrations/postgres/0002_reasons_causes.sql"),
    },
    Migration {
        version: 3,
        name: "campaigns, members, opt-outs, follow-ups",
        sqlite: include_str!("../migrations/sqlite/0003_campaigns.sql"),
        postgres: include_str!("../migrations/postgres/0003_campaigns.sql"),
    },
    Migration {
        version: 4,
        name: "external ids compared byte by byte; transactions keyed by their dedupe key",
        sqlite: include_str!("../migrations/sqlite/0004_import_keys.sql"),
        postgres: include_str!("../migrations/postgres/0004_import_keys.sql"),
    },
    Migration {
        version: 5,
        name: "SQLite: dedupe keys in a ledger of their own",
        sqlite: include_str!("../migrations/sqlite/0005_key_ledger.sql"),
        postgres: include_str!("../migrations/postgres/0005_key_ledger.sql"),
    },
    Migration {
        version: 6,
        name: "a cache of every customer's status and decision",
        sqlite: include_str!("../migrations/sqlite/0006_assessment_cache.sql"),
        postgres: include_str!("../migrations/postgres/0006_assessment_cache.sql"),
    },
    Migration {
        version: 7,
        name: "web accounts and sessions; the exit survey",
        sqlite: include_str!("../migrations/sqlite/0007_accounts_survey.sql"),
        postgres: include_str!("../migrations/postgres/0007_accounts_survey.sql"),
    },
    Migration {
        version: 8,
        name: "campaign members counted from an index",
        sqlite: include_str!("../migrations/sqlite/0008_member_counts.sql"),
        postgres: include_str!("../migrations/postgres/0008_member_counts.sql"),
    },
    Migration {
        version: 9,
        name: "cached assessments paged by decision from an index",
        sqlite: include_str!("../migrations/sqlite/0009_assessments_by_decision.sql"),
        postgres: include_str!("../migrations/postgres/0009_assessments_by_decision.sql"),
    },
    Migration {
        version: 10,
        name: "cached assessments filtered by segment and value tier",
        sqlite: include_str!("../migrations/sqlite/0010_assessments_segment_tier.sql"),
        postgres: include_str!("../migrations/postgres/0010_assessments_segment_tier.sql"),
    },
    Migration {
        version: 11,
        name: "cached assessments sorted by last purchase",
        sqlite: include_str!("../migrations/sqlite/0011_assessments_last_purchase.sql"),
        postgres: include_str!("../migrations/postgres/0011_assessments_last_purchase.sql"),
    },
];

/// A migration and whether it has been applied.
#[derive(Debug, Clone, Serialize)]
pub struct MigrationState {
    pub version: i64,
    pub name: &'static str,
    pub applied_at: Option<String>,
}

pub fn latest() -> i64 {
    MIGRATIONS.last().map_or(0, |m| m.version)
}

pub fn states(applied: &[(i64, String)]) -> Vec<MigrationState> {
    MIGRATIONS
        .iter()
        .map(|m| MigrationState {
            version: m.version,
            name: m.name,
            applied_at: applied.iter().find(|(v, _)| *v == m.version).map(|(_, t)| t.clone()),
        })
        .collect()
}

pub fn now() -> String {
    chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string()
}
