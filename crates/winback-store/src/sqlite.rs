//! The SQLite back end: one file, created on first use. Write-ahead logging keeps
//! readers unblocked; an import is one transaction, so a killed import leaves
//! the file as it was.

use rusqlite::{params, Connection, OptionalExtension};
use winback_domain::causes::{CauseUpdate, NewCause, RootCause};
use winback_domain::facts::{CustomerFacts, LatestScore};
use winback_domain::import::ImportBatch;
use winback_domain::log::{CustomerIds, TransactionLog};
use winback_domain::reasons::{NewReason, Reason};

use crate::migrations::{self, now, MigrationState, MIGRATIONS};
use crate::reasons::{
    apply, categories_text, not_found, pick_cause, reason_key, to_cause, to_reason, unknown_customer,
};
use crate::{AssessedQuery, AssessedRow, CacheInfo};
use crate::{CampaignRow, FollowupRow, Mark, MemberRow, NewCampaign, NewMember};
use crate::{
    CustomerDetail, CustomerQuery, CustomerRecord, CustomerView, EventRecord, Facts, ImportMeta, ImportOutcome, NewRun,
    ReasonsOutcome, Result, RunInfo, ScoreRow, Store, StoreError, StoredLog,
};

/// Batches at least this large are bulk imports: a rollback journal and a small page cache.
const BULK_ROWS: usize = 200_000;
/// Page cache in KiB: 256 MiB normally (random probes into big indexes), less
/// during a bulk import.
const CACHE_KIB: u32 = 262_144;
const BULK_CACHE_KIB: u32 = 65_536;
/// Rows per INSERT statement, and columns per row (SQLite allows 32,766 parameters).
const CHUNK: usize = 256;
const COLS: usize = 11;
/// Keys per INSERT into the ledger.
const KEY_CHUNK: usize = 1024;

pub struct SqliteStore {
    pub(crate) conn: Connection,
}

impl SqliteStore {
    pub fn open(path: &str) -> Result<Self> {
        // Several processes opening a new file at once: switching it to WAL and
        // migrating can meet a lock that SQLite reports at once (SQLITE_BUSY
        // without calling the busy handler, to avoid a deadlock); try again.
        let t0 = std::time::Instant::now();
        loop {
            match Self::try_open(path) {
                Err(StoreError::Sqlite(rusqlite::Error::SqliteFailure(e, _)))
                    if matches!(e.code, rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
                        && t0.elapsed() < std::time::Duration::from_secs(20) =>
                {
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                other => return other,
            }
        }
    }

    fn try_open(path: &str) -> Result<Self> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        // A 256 MiB page cache: imports update two indexes in random order, and with
        // SQLite's 2 MiB default they spend most of their time paging.
        conn.execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; ")?;
        conn.execute_batch(&format!("PRAGMA cache_size = -{CACHE_KIB}"))?;
        let mut s = SqliteStore { conn };
        s.migrate()?;
        Ok(s)
    }

    fn applied(&self) -> Result<Vec<(i64, String)>> {
        let mut st = self.conn.prepare("SELECT version, applied_at FROM schema_migrations ORDER BY version")?;
        let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<std::result::Result<_, _>>()?;
        Ok(rows)
    }

    /// Apply pending migrations. Several processes may open a new store at
    /// once: the check and the migrations run under one write lock (BEGIN
    /// IMMEDIATE; the others wait on the busy timeout, then find them applied).
    fn migrate(&mut self) -> Result<()> {
        let too_new = |applied: &[(i64, String)]| match applied.last() {
            Some(&(v, _)) if v > migrations::latest() => {
                Err(StoreError::TooNew { found: v, known: migrations::latest() })
            }
            _ => Ok(()),
        };
        let pending = |applied: &[(i64, String)]| {
            MIGRATIONS.iter().filter(|m| !applied.iter().any(|(v, _)| *v == m.version)).collect::<Vec<_>>()
        };
        if let Ok(applied) = self.applied() {
            too_new(&applied)?;
            if pending(&applied).is_empty() {
                return Ok(());
            }
        }
        let tx = self.conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        tx.execute_batch(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)",
        )?;
        let applied: Vec<(i64, String)> = {
            let mut st = tx.prepare("SELECT version, applied_at FROM schema_migrations ORDER BY version")?;
            let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<std::result::Result<_, _>>()?;
            rows
        };
        too_new(&applied)?;
        for m in pending(&applied) {
            tx.execute_batch(m.sqlite)?;
            tx.execute(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?1, ?2, ?3)",
                params![m.version, m.name, now()],
            )?;
            tracing::info!(version = m.version, "applied SQLite migration");
        }
        tx.commit()?;
        Ok(())
    }
}

impl SqliteStore {
    /// Switch the journal mode; returns the mode in force afterwards. Another
    /// connection to the file makes the switch fail with "busy": the mode then
    /// stays as it was, which is not an error (the import goes on in WAL mode;
    /// after an import, the next open sets WAL again).
    fn journal_mode(&self, mode: &str) -> Result<String> {
        let now = match self.conn.query_row(&format!("PRAGMA journal_mode = {mode}"), [], |r| r.get::<_, String>(0)) {
            Ok(now) => now.to_lowercase(),
            Err(rusqlite::Error::SqliteFailure(e, _))
                if matches!(e.code, rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked) =>
            {
                self.conn.query_row("PRAGMA journal_mode", [], |r| r.get::<_, String>(0))?.to_lowercase()
            }
            Err(e) => return Err(e.into()),
        };
        tracing::info!(asked = mode, now = now.as_str(), "journal mode");
        Ok(now)
    }

    fn import_rows(
        &mut self,
        batch: ImportBatch,
        meta: &ImportMeta,
        progress: &mut dyn FnMut(u64),
        t0: std::time::Instant,
    ) -> Result<ImportOutcome> {
        let tx = self.conn.transaction()?;

        let import_id = start_import(&tx, meta)?;
        let mut out = ImportOutcome { import_id, ..Default::default() };
        let ImportBatch { customers, rows, text, .. } = batch;
        let ids = customer_ids(&tx, &customers, &mut out.customers_created)?;
        drop(customers);
        let mut rows = rows;
        let n = rows.len();
        tracing::info!(customers = ids.len(), secs = t0.elapsed().as_secs_f64(), "customers resolved");
        // 1. The key ledger, in key order (the batch's order): a key already there
        //    is a row imported before. Keys within a batch are distinct, so a key
        //    recorded under this import was recorded by this statement.
        let mut dup = vec![false; n];
        {
            let mut full = tx.prepare(&values_sql("transaction_keys (dedupe_key, import_id)", 2, KEY_CHUNK, true))?;
            let mut find = tx.prepare("SELECT import_id FROM transaction_keys WHERE dedupe_key = ?1")?;
            for (c, chunk) in rows.chunks(KEY_CHUNK).enumerate() {
                let mut st = (chunk.len() < KEY_CHUNK)
                    .then(|| tx.prepare(&values_sql("transaction_keys (dedupe_key, import_id)", 2, chunk.len(), true)))
                    .transpose()?;
                let st = st.as_mut().unwrap_or(&mut full);
                for (j, r) in chunk.iter().enumerate() {
                    st.raw_bind_parameter(2 * j + 1, &r.key[..])?;
                    st.raw_bind_parameter(2 * j + 2, import_id)?;
                }
                if st.raw_execute()? < chunk.len() {
                    for (j, r) in chunk.iter().enumerate() {
                        let by: i64 = find.query_row([&r.key[..]], |x| x.get(0))?;
                        if by != import_id {
                            dup[c * KEY_CHUNK + j] = true;
                            out.duplicate_lines.push(u64::from(r.line));
                        }
                    }
                }
            }
        }
        out.duplicate_lines.sort_unstable();
        tracing::info!(duplicates = out.duplicate_lines.len(), secs = t0.elapsed().as_secs_f64(), "keys recorded");
        // 2. The new rows in customer order: the customer index is filled front to
        //    back (customers new to the store get ids in that order too).
        let mut keep = dup.iter().map(|d| !d);
        rows.retain(|_| keep.next().unwrap_or(false));
        drop(dup);
        rows.sort_unstable_by_key(|r| (ids[r.customer as usize], r.day));
        {
            let mut full = tx.prepare(&insert_sql(CHUNK))?;
            let mut done = 0;
            for chunk in rows.chunks(CHUNK) {
                let mut st = (chunk.len() < CHUNK).then(|| tx.prepare(&insert_sql(chunk.len()))).transpose()?;
                let st = st.as_mut().unwrap_or(&mut full);
                for (j, r) in chunk.iter().enumerate() {
                    let p = j * COLS;
                    st.raw_bind_parameter(p + 1, ids[r.customer as usize])?;
                    st.raw_bind_parameter(p + 2, r.day)?;
                    st.raw_bind_parameter(p + 3, r.amount())?;
                    st.raw_bind_parameter(p + 4, r.cost())?;
                    st.raw_bind_parameter(p + 5, r.is_return)?;
                    let t = r.texts(&text);
                    st.raw_bind_parameter(p + 6, t.txn_id)?;
                    st.raw_bind_parameter(p + 7, t.channel)?;
                    st.raw_bind_parameter(p + 8, t.store)?;
                    st.raw_bind_parameter(p + 9, t.product)?;
                    st.raw_bind_parameter(p + 10, import_id)?;
                    st.raw_bind_parameter(p + 11, i64::from(r.line))?;
                }
                out.imported += st.raw_execute()?;
                done += chunk.len();
                if done % (CHUNK * 1024) < CHUNK {
                    progress(done as u64);
                }
            }
        }
        tracing::info!(rows = out.imported, secs = t0.elapsed().as_secs_f64(), "rows inserted");
        drop(rows);
        finish_import(&tx, import_id, &out, meta)?;
        tx.commit()?;
        tracing::info!(secs = t0.elapsed().as_secs_f64(), "committed");
        progress(n as u64);
        Ok(out)
    }
}

/// `INSERT INTO table (cols) VALUES (?, …), …` for `rows` rows of `cols` values.
fn values_sql(table: &str, cols: usize, rows: usize, skip_conflicts: bool) -> String {
    let mut sql = format!("INSERT INTO {table} VALUES ");
    for i in 0..rows {
        let p = i * cols;
        sql += if i == 0 { "(" } else { ",(" };
        sql += &(1..=cols).map(|c| format!("?{}", p + c)).collect::<Vec<_>>().join(",");
        sql += ")";
    }
    if skip_conflicts {
        sql += " ON CONFLICT DO NOTHING";
    }
    sql
}

/// An INSERT of `rows` transactions.
fn insert_sql(rows: usize) -> String {
    values_sql(
        "transactions (customer_id, day, amount, cost, is_return, txn_id, channel, store, product, import_id, line)",
        COLS,
        rows,
        false,
    )
}

/// The ids of many customers, creating the unknown ones. In name order, so the
/// external id index is probed and filled front to back; new customers are
/// inserted many to a statement with ids we assign (the transaction holds the
/// write lock, so nobody else can take them).
fn customer_ids(tx: &rusqlite::Transaction, external: &CustomerIds, created: &mut usize) -> Result<Vec<i64>> {
    let mut order: Vec<u32> = (0..external.len() as u32).collect();
    order.sort_unstable_by(|&a, &b| external[a as usize].cmp(&external[b as usize]));
    let mut ids = vec![0i64; external.len()];
    let mut new = Vec::new();
    let stored: i64 = tx.query_row("SELECT COUNT(*) FROM (SELECT 1 FROM customers LIMIT 1)", [], |r| r.get(0))?;
    if stored == 0 {
        new = order;
    } else {
        let mut find = tx.prepare_cached("SELECT id FROM customers WHERE external_id = ?1")?;
        for &i in &order {
            match find.query_row([&external[i as usize]], |r| r.get(0)).optional()? {
                Some(id) => ids[i as usize] = id,
                None => new.push(i),
            }
        }
    }
    let mut next: i64 = tx.query_row("SELECT COALESCE(MAX(id), 0) + 1 FROM customers", [], |r| r.get(0))?;
    const PER: usize = 512;
    let sql = |n: usize| {
        let values: Vec<String> = (0..n).map(|i| format!("(?{}, ?{})", 2 * i + 1, 2 * i + 2)).collect();
        format!("INSERT INTO customers (id, external_id) VALUES {}", values.join(","))
    };
    let mut full = tx.prepare(&sql(PER))?;
    for chunk in new.chunks(PER) {
        let mut st = if chunk.len() == PER { None } else { Some(tx.prepare(&sql(chunk.len()))?) };
        let st = st.as_mut().unwrap_or(&mut full);
        for (j, &i) in chunk.iter().enumerate() {
            st.raw_bind_parameter(2 * j + 1, next)?;
            st.raw_bind_parameter(2 * j + 2, &external[i as usize])?;
            ids[i as usize] = next;
            next += 1;
        }
        st.raw_execute()?;
    }
    *created += new.len();
    Ok(ids)
}

fn customer_id(tx: &rusqlite::Transaction, external: &str, created: &mut usize) -> Result<i64> {
    let found: Option<i64> = tx
        .prepare_cached("SELECT id FROM customers WHERE external_id = ?1")?
        .query_row([external], |r| r.get(0))
        .optional()?;
    match found {
        Some(id) => Ok(id),
        None => {
            tx.prepare_cached("INSERT INTO customers (external_id) VALUES (?1)")?.execute([external])?;
            *created += 1;
            Ok(tx.last_insert_rowid())
        }
    }
}

fn start_import(tx: &rusqlite::Transaction, meta: &ImportMeta) -> Result<i64> {
    tx.execute(
        "INSERT INTO imports (kind, source, imported_at, rows, imported, duplicates, rejected) VALUES (?1, ?2, ?3, ?4, 0, 0, ?5)",
        params![meta.kind, meta.source, now(), meta.rows as i64, meta.rejected as i64],
    )?;
    Ok(tx.last_insert_rowid())
}

fn finish_import(tx: &rusqlite::Transaction, id: i64, out: &ImportOutcome, meta: &ImportMeta) -> Result<()> {
    tx.execute(
        "UPDATE imports SET imported = ?1, duplicates = ?2 WHERE id = ?3",
        params![out.imported as i64, (out.duplicate_lines.len() + meta.duplicates_in_file) as i64, id],
    )?;
    Ok(())
}

impl Store for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    fn migration_status(&mut self) -> Result<Vec<MigrationState>> {
        Ok(migrations::states(&self.applied()?))
    }

    fn import_transactions(
        &mut self,
        batch: ImportBatch,
        meta: &ImportMeta,
        progress: &mut dyn FnMut(u64),
    ) -> Result<ImportOutcome> {
        let t0 = std::time::Instant::now();
        // Every row's customer and import are created in this same transaction, so
        // the per-row foreign-key lookups (two per row) only cost time here.
        self.conn.execute_batch("PRAGMA foreign_keys = OFF")?;
        // A bulk import writes its pages once through a rollback journal (pages
        // the file did not have before need no journal) instead of twice, to the
        // WAL and then to the file. Only possible while no one else has the store
        // open; otherwise it stays in WAL mode.
        let bulk = batch.rows.len() >= BULK_ROWS;
        let rollback = bulk && self.journal_mode("DELETE")? == "delete";
        // A bulk import appends to its B-trees in order and needs few pages
        // cached; the rows in memory need the room (measured on 10M rows: peak
        // 1.12 GB with the 256 MiB cache).
        if bulk {
            self.conn.execute_batch(&format!("PRAGMA cache_size = -{}", BULK_CACHE_KIB))?;
        }
        let result = self.import_rows(batch, meta, progress, t0);
        // The import has committed or rolled back by now: putting the settings
        // back must not turn its outcome into an error (the next open sets them).
        let mut restore = vec![format!("PRAGMA cache_size = -{CACHE_KIB}"), "PRAGMA foreign_keys = ON".to_owned()];
        if rollback {
            restore.push("PRAGMA journal_mode = WAL".to_owned());
        }
        for sql in restore {
            if let Err(e) = self.conn.execute_batch(&sql) {
                tracing::warn!(sql = sql.as_str(), error = %e, "could not restore a setting after the import");
            }
        }
        result
    }

    fn import_customers(&mut self, rows: &[CustomerRecord], meta: &ImportMeta) -> Result<ImportOutcome> {
        let tx = self.conn.transaction()?;
        let import_id = start_import(&tx, meta)?;
        let mut out = ImportOutcome { import_id, ..Default::default() };
        for r in rows {
            let id = customer_id(&tx, &r.external_id, &mut out.customers_created)?;
            let changed = tx.prepare_cached(
                "UPDATE customers SET name = COALESCE(?2, name), email = COALESCE(?3, email), phone = COALESCE(?4, phone),
                   preferred_channel = COALESCE(?5, preferred_channel), consent_email = COALESCE(?6, consent_email),
                   consent_sms = COALESCE(?7, consent_sms), consent_phone = COALESCE(?8, consent_phone),
                   consent_mail = COALESCE(?9, consent_mail), do_not_contact = COALESCE(?10, do_not_contact),
                   flags = COALESCE(?11, flags), cost_to_serve = COALESCE(?12, cost_to_serve), segment = COALESCE(?13, segment),
                   tags = COALESCE(?14, tags), contract_start = COALESCE(?15, contract_start), contract_end = COALESCE(?16, contract_end)
                 WHERE id = ?1 AND (COALESCE(?2, name) IS NOT name OR COALESCE(?3, email) IS NOT email OR
                   COALESCE(?4, phone) IS NOT phone OR
                   COALESCE(?5, preferred_channel) IS NOT preferred_channel OR
                   COALESCE(?6, consent_email) IS NOT consent_email OR
                   COALESCE(?7, consent_sms) IS NOT consent_sms OR
                   COALESCE(?8, consent_phone) IS NOT consent_phone OR
                   COALESCE(?9, consent_mail) IS NOT consent_mail OR
                   COALESCE(?10, do_not_contact) IS NOT do_not_contact OR
                   COALESCE(?11, flags) IS NOT flags OR COALESCE(?12, cost_to_serve) IS NOT cost_to_serve OR
                   COALESCE(?13, segment) IS NOT segment OR COALESCE(?14, tags) IS NOT tags OR
                   COALESCE(?15, contract_start) IS NOT contract_start OR
                   COALESCE(?16, contract_end) IS NOT contract_end)",
            )?
            .execute(params![
                id,
                r.name,
                r.email,
                r.phone,
                r.preferred_channel,
                r.consent_email,
                r.consent_sms,
                r.consent_phone,
                r.consent_mail,
                r.do_not_contact,
                r.flags,
                r.cost_to_serve,
                r.segment,
                r.tags,
                r.contract_start,
                r.contract_end
            ])?;
            // a line that changes nothing stored (this file or an earlier
            // import said the same) is a duplicate; one that names only an id
            // is imported, as it may have made the customer
            if changed == 0 && r.has_fields() {
                out.duplicate_lines.push(r.line);
            } else {
                out.imported += 1;
            }
        }
        finish_import(&tx, import_id, &out, meta)?;
        tx.commit()?;
        Ok(out)
    }

    fn import_events(&mut self, rows: &[EventRecord], meta: &ImportMeta) -> Result<ImportOutcome> {
        let tx = self.conn.transaction()?;
        let import_id = start_import(&tx, meta)?;
        let mut out = ImportOutcome { import_id, ..Default::default() };
        for r in rows {
            let id = customer_id(&tx, &r.customer, &mut out.customers_created)?;
            let n = tx
                .prepare_cached(
                    "INSERT INTO events (customer_id, day, kind, attributes, dedupe_key, import_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                     ON CONFLICT (dedupe_key) DO NOTHING",
                )?
                .execute(params![id, r.day, r.kind, r.attributes, &crate::event_key(r)[..], import_id])?;
            if n == 0 {
                out.duplicate_lines.push(r.line);
            } else {
                out.imported += 1;
            }
        }
        finish_import(&tx, import_id, &out, meta)?;
        tx.commit()?;
        Ok(out)
    }

    fn transaction_log(&mut self) -> Result<StoredLog> {
        let mut log = TransactionLog::default();
        let mut customer_ids = Vec::new();
        let mut index = std::collections::HashMap::new();
        {
            let mut st = self.conn.prepare("SELECT id, external_id FROM customers ORDER BY id")?;
            let mut rows = st.query([])?;
            while let Some(r) = rows.next()? {
                let id: i64 = r.get(0)?;
                index.insert(id, log.ids.len() as u32);
                customer_ids.push(id);
                log.ids.push(r.get_ref(1)?.as_str().map_err(rusqlite::Error::from)?);
            }
        }
        let mut amounts = Vec::new();
        let mut any_amount = false;
        let mut returns = 0;
        let mut st = self.conn.prepare("SELECT customer_id, day, amount, is_return FROM transactions ORDER BY id")?;
        let mut rows = st.query([])?;
        while let Some(r) = rows.next()? {
            if r.get::<_, bool>(3)? {
                returns += 1;
                continue;
            }
            let c: i64 = r.get(0)?;
            log.customer.push(index[&c]);
            log.day.push(r.get(1)?);
            let a: Option<f64> = r.get(2)?;
            any_amount |= a.is_some();
            amounts.push(a.unwrap_or(0.0));
        }
        if any_amount {
            log.amount = Some(amounts);
        }
        Ok(StoredLog { log, customer_ids, returns })
    }

    fn save_run(&mut self, run: &NewRun, scores: &[ScoreRow]) -> Result<i64> {
        let tx = self.conn.transaction()?;
        tx.execute(
            "INSERT INTO analysis_runs (created_at, model, params, spend_params, log_likelihood, customers, converged, period, time_unit, observation_end, horizon)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            params![
                now(),
                run.model,
                run.params,
                run.spend_params,
                run.log_likelihood,
                run.customers,
                run.converged,
                run.period,
                run.time_unit,
                run.observation_end,
                run.horizon
            ],
        )?;
        let id = tx.last_insert_rowid();
        {
            let mut st = tx.prepare_cached(
                "INSERT INTO scores (run_id, customer_id, frequency, recency, t, monetary_value, p_alive, expected_purchases, expected_spend, lifetime_value, value_at_stake)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            )?;
            for s in scores {
                st.execute(params![
                    id,
                    s.customer_id,
                    s.frequency,
                    s.recency,
                    s.t,
                    s.monetary_value,
                    s.p_alive,
                    s.expected_purchases,
                    s.expected_spend,
                    s.lifetime_value,
                    s.value_at_stake
                ])?;
            }
        }
        tx.commit()?;
        Ok(id)
    }

    fn runs(&mut self) -> Result<Vec<RunInfo>> {
        let mut st = self.conn.prepare(crate::sql::RUNS)?;
        let rows = st
            .query_map([], |r| {
                Ok(RunInfo {
                    id: r.get(0)?,
                    created_at: r.get(1)?,
                    model: r.get(2)?,
                    params: r.get(3)?,
                    log_likelihood: r.get(4)?,
                    customers: r.get(5)?,
                    converged: r.get(6)?,
                    observation_end: r.get(7)?,
                    horizon: r.get(8)?,
                    time_unit: r.get(9)?,
                })
            })?
            .collect::<std::result::Result<_, _>>()?;
        Ok(rows)
    }

    fn customers(&mut self, q: &CustomerQuery) -> Result<Vec<CustomerView>> {
        let sql = crate::sql::customers(q);
        let mut st = self.conn.prepare(&sql)?;
        let rows = st.query_map([], sqlite_view)?.collect::<std::result::Result<_, _>>()?;
        Ok(rows)
    }

    fn customer(&mut self, external_id: &str) -> Result<Option<CustomerDetail>> {
        let view = self.conn.prepare(&crate::sql::customer_view())?.query_row([external_id], sqlite_view).optional()?;
        let Some(view) = view else { return Ok(None) };
        let (id, mut d) = self.conn.query_row(crate::sql::CUSTOMER_FIELDS, [external_id], |r| {
            let d = CustomerDetail {
                view,
                phone: r.get(1)?,
                preferred_channel: r.get(2)?,
                consent: vec![("email", r.get(3)?), ("sms", r.get(4)?), ("phone", r.get(5)?), ("mail", r.get(6)?)],
                do_not_contact: r.get(7)?,
                flags: r.get(8)?,
                segment: r.get(9)?,
                tags: r.get(10)?,
                cost_to_serve: r.get(11)?,
                contract_start: r.get(12)?,
                contract_end: r.get(13)?,
                history: Vec::new(),
                transactions: Vec::new(),
                events: Vec::new(),
            };
            Ok((r.get::<_, i64>(0)?, d))
        })?;
        d.history = self
            .conn
            .prepare(crate::sql::HISTORY)?
            .query_map([id], |r| Ok((r.get(0)?, r.get(1)?, score_at(r, 2, id)?)))?
            .collect::<std::result::Result<_, _>>()?;
        d.transactions = self
            .conn
            .prepare(crate::sql::TRANSACTIONS)?
            .query_map([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))?
            .collect::<std::result::Result<_, _>>()?;
        d.events = self
            .conn
            .prepare(crate::sql::EVENTS)?
            .query_map([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<std::result::Result<_, _>>()?;
        Ok(Some(d))
    }

    fn counts(&mut self) -> Result<Vec<(&'static str, i64)>> {
        crate::sql::TABLES
            .iter()
            .map(|t| Ok((*t, self.conn.query_row(&format!("SELECT count(*) FROM {t}"), [], |r| r.get(0))?)))
            .collect()
    }

    fn add_reasons(&mut self, rows: &[NewReason]) -> Result<ReasonsOutcome> {
        let tx = self.conn.transaction()?;
        let out = insert_reasons(&tx, rows)?;
        tx.commit()?;
        Ok(out)
    }

    fn reasons_of(&mut self, customer: Option<&str>) -> Result<Vec<Reason>> {
        let mut st =
            self.conn.prepare(if customer.is_some() { crate::sql::REASONS_OF } else { crate::sql::REASONS })?;
        let mut rows = match customer {
            Some(c) => st.query([c])?,
            None => st.query([])?,
        };
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            out.push(to_reason(
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                &r.get::<_, String>(4)?,
                r.get(5)?,
                r.get(6)?,
                &r.get::<_, String>(7)?,
                r.get(8)?,
                r.get(9)?,
                r.get(10)?,
                r.get(11)?,
                r.get(12)?,
            )?);
        }
        Ok(out)
    }

    fn add_cause(&mut self, c: &NewCause) -> Result<(i64, usize)> {
        c.check().map_err(|e| StoreError::Invalid(e.to_string()))?;
        let tx = self.conn.transaction()?;
        let id: i64 = tx.query_row(
            crate::sql::INSERT_CAUSE,
            params![
                c.title,
                categories_text(&c.categories),
                c.scope.name(),
                c.status.name(),
                c.fixed_on,
                c.announcement,
                now()
            ],
            |r| r.get(0),
        )?;
        let mut linked = 0;
        for cat in &c.categories {
            linked += tx.execute(crate::sql::LINK_CATEGORY, params![id, cat.as_str()])?;
        }
        tx.commit()?;
        Ok((id, linked))
    }

    fn update_cause(&mut self, id: i64, u: &CauseUpdate) -> Result<(RootCause, usize)> {
        let tx = self.conn.transaction()?;
        let old = causes(&tx)?.into_iter().find(|c| c.id == id).ok_or_else(|| not_found(id))?;
        let c = apply(old, u, crate::reasons::today())?;
        tx.execute(
            crate::sql::UPDATE_CAUSE,
            params![c.title, categories_text(&c.categories), c.status.name(), c.fixed_on, c.announcement, now(), id],
        )?;
        let mut linked = 0;
        if u.categories.is_some() {
            for cat in &c.categories {
                linked += tx.execute(crate::sql::LINK_CATEGORY, params![id, cat.as_str()])?;
            }
        }
        tx.commit()?;
        Ok((c, linked))
    }

    fn causes(&mut self) -> Result<Vec<RootCause>> {
        causes(&self.conn)
    }

    fn customer_facts_until(&mut self, until: Option<i32>) -> Result<Facts> {
        let run = if until.is_some() { None } else { self.runs()?.pop() };
        let run_id = run.as_ref().map_or(-1, |r| r.id);
        let mut st = self.conn.prepare(crate::sql::FACT_CUSTOMERS)?;
        let mut customers: Vec<CustomerFacts> = st
            .query_map([], |r| {
                Ok(CustomerFacts {
                    id: r.get(0)?,
                    external_id: r.get(1)?,
                    name: r.get(2)?,
                    email: r.get(3)?,
                    cost_to_serve: r.get(4)?,
                    flags: r.get(5)?,
                    tags: r.get(6)?,
                    segment: r.get(7)?,
                    do_not_contact: r.get(8)?,
                    contract_end: r.get(9)?,
                    phone: r.get(10)?,
                    preferred_channel: r.get(11)?,
                    consent: [r.get(12)?, r.get(13)?, r.get(14)?, r.get(15)?],
                    ..Default::default()
                })
            })?
            .collect::<std::result::Result<_, _>>()?;
        let index = crate::facts::index(&customers);
        let mut st = self.conn.prepare(crate::sql::FACT_SCORES)?;
        let mut rows = st.query([run_id])?;
        while let Some(r) = rows.next()? {
            if let Some(k) = index.get(r.get::<_, i64>(0)?) {
                customers[k].score = Some(LatestScore {
                    frequency: r.get(1)?,
                    p_alive: r.get(2)?,
                    expected_purchases: r.get(3)?,
                    expected_spend: r.get(4)?,
                    value_at_stake: r.get(5)?,
                    lifetime_value: r.get(6)?,
                });
            }
        }
        let mut st = self.conn.prepare(crate::sql::FACT_ROWS)?;
        let mut rows = st.query([])?;
        while let Some(r) = rows.next()? {
            let day: i32 = r.get(1)?;
            if until.is_some_and(|u| day > u) {
                continue;
            }
            if let Some(k) = index.get(r.get::<_, i64>(0)?) {
                crate::facts::add(&mut customers[k], day, r.get(2)?, r.get(3)?, r.get(4)?);
            }
        }
        Ok(Facts { run, customers })
    }

    fn events(&mut self) -> Result<Vec<(i64, i32, String)>> {
        let mut st = self.conn.prepare(crate::sql::ALL_EVENTS)?;
        let rows =
            st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?.collect::<std::result::Result<_, _>>()?;
        Ok(rows)
    }

    fn product_revenue(&mut self) -> Result<Vec<(i64, String, f64)>> {
        let mut st = self.conn.prepare(crate::sql::PRODUCT_ROWS)?;
        let rows: Vec<(i64, String, Option<f64>, bool)> = st
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
            .collect::<std::result::Result<_, _>>()?;
        Ok(crate::facts::product_revenue(rows.into_iter()))
    }

    fn create_campaign(&mut self, c: &NewCampaign, members: &[NewMember]) -> Result<i64> {
        let tx = self.conn.transaction()?;
        let taken: Option<i64> =
            tx.query_row("SELECT id FROM campaigns WHERE name = $1", [&c.name], |r| r.get(0)).optional()?;
        if taken.is_some() {
            return Err(StoreError::Conflict(format!("a campaign named '{}' exists already", c.name)));
        }
        let id: i64 = tx.query_row(
            crate::sql::INSERT_CAMPAIGN,
            params![
                c.name,
                now(),
                c.start_day,
                c.target,
                c.holdout,
                c.seed,
                c.window_days,
                c.base_rate,
                c.detectable_lift,
                c.playbook,
                c.run_id
            ],
            |r| r.get(0),
        )?;
        {
            let mut ins = tx.prepare_cached(crate::sql::INSERT_MEMBER)?;
            for m in members {
                ins.execute(params![
                    id,
                    m.customer_id,
                    m.arm.name(),
                    m.tier,
                    m.category,
                    m.rule,
                    m.strategy,
                    m.channel,
                    m.coupon,
                    m.unsubscribe_token,
                    m.value_if_won,
                    m.state.name()
                ])?;
            }
        }
        tx.commit()?;
        Ok(id)
    }

    fn campaigns(&mut self) -> Result<Vec<CampaignRow>> {
        let mut st = self.conn.prepare(crate::sql::CAMPAIGNS)?;
        let rows = st
            .query_map([], |r| {
                Ok(CampaignRow {
                    id: r.get(0)?,
                    created_at: r.get(1)?,
                    c: NewCampaign {
                        name: r.get(2)?,
                        start_day: r.get(3)?,
                        target: r.get(4)?,
                        holdout: r.get(5)?,
                        seed: r.get(6)?,
                        window_days: r.get(7)?,
                        base_rate: r.get(8)?,
                        detectable_lift: r.get(9)?,
                        playbook: r.get(10)?,
                        run_id: r.get(11)?,
                    },
                })
            })?
            .collect::<std::result::Result<_, _>>()?;
        Ok(rows)
    }

    fn set_do_not_contact(&mut self, customer: &str, value: bool) -> Result<()> {
        match self.conn.execute(crate::sql::SET_DO_NOT_CONTACT, params![value, customer])? {
            0 => Err(StoreError::UnknownCustomer(format!("unknown customer '{customer}'"))),
            _ => Ok(()),
        }
    }

    fn memberships(&mut self, customer: &str) -> Result<Vec<crate::Membership>> {
        let mut st = self.conn.prepare_cached(crate::sql::MEMBERSHIPS)?;
        let rows = st
            .query_map([customer], |r| {
                Ok(crate::Membership {
                    campaign: r.get(0)?,
                    arm: r.get(1)?,
                    state: r.get(2)?,
                    strategy: r.get(3)?,
                    channel: r.get(4)?,
                    contacted_day: r.get(5)?,
                })
            })?
            .collect::<std::result::Result<_, _>>()?;
        Ok(rows)
    }

    fn member_counts(&mut self, campaign_id: i64) -> Result<Vec<(String, String, i64)>> {
        let mut st = self.conn.prepare_cached(crate::sql::MEMBER_COUNTS)?;
        let rows = st
            .query_map([campaign_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<std::result::Result<_, _>>()?;
        Ok(rows)
    }

    fn campaign_members(&mut self, campaign_id: i64) -> Result<Vec<MemberRow>> {
        let mut st = self.conn.prepare(crate::sql::MEMBERS)?;
        let rows = st
            .query_map([campaign_id], |r| {
                Ok(MemberRow {
                    m: NewMember {
                        customer_id: r.get(0)?,
                        arm: vocab(r.get::<_, String>(1)?.parse(), 1)?,
                        tier: r.get(2)?,
                        category: r.get(3)?,
                        rule: r.get(4)?,
                        strategy: r.get(5)?,
                        channel: r.get(6)?,
                        coupon: r.get(7)?,
                        unsubscribe_token: r.get(8)?,
                        value_if_won: r.get(9)?,
                        state: vocab(r.get::<_, String>(10)?.parse(), 10)?,
                    },
                    external_id: r.get(11)?,
                    contacted_day: r.get(12)?,
                    message_id: r.get(13)?,
                    error: r.get(14)?,
                })
            })?
            .collect::<std::result::Result<_, _>>()?;
        Ok(rows)
    }

    fn claim(&mut self, campaign_id: i64, customer_id: i64, day: i32, token: &str) -> Result<bool> {
        Ok(self.conn.execute(crate::sql::CLAIM, params![day, crate::digest(token), campaign_id, customer_id])? == 1)
    }

    fn mark(&mut self, campaign_id: i64, customer_id: i64, m: &Mark) -> Result<()> {
        self.conn.execute(
            crate::sql::MARK,
            params![m.state.name(), m.day, m.message_id, m.error, campaign_id, customer_id],
        )?;
        Ok(())
    }

    fn contacted_since(&mut self, day: i32) -> Result<Vec<i64>> {
        let mut st = self.conn.prepare(crate::sql::CONTACTED_SINCE)?;
        let rows = st.query_map([day], |r| r.get(0))?.collect::<std::result::Result<_, _>>()?;
        Ok(rows)
    }

    fn opt_out(&mut self, token: &str, channel: &str, day: i32, source: &str) -> Result<Option<i64>> {
        let tx = self.conn.transaction()?;
        let Some(customer): Option<i64> = tx
            .query_row(crate::sql::MEMBER_BY_TOKEN, [crate::digest(token).as_str(), token], |r| r.get(0))
            .optional()?
        else {
            return Ok(None);
        };
        tx.execute(crate::sql::OPT_OUT, params![customer, channel, day, source, now()])?;
        if let Some(col) = crate::consent_column(channel) {
            tx.execute(&format!("UPDATE customers SET {col} = FALSE WHERE id = $1"), [customer])?;
        }
        tx.commit()?;
        Ok(Some(customer))
    }

    fn opt_outs(&mut self) -> Result<Vec<(i64, String)>> {
        let mut st = self.conn.prepare(crate::sql::OPT_OUTS)?;
        let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<std::result::Result<_, _>>()?;
        Ok(rows)
    }

    fn record_followup(&mut self, f: &FollowupRow) -> Result<()> {
        self.conn.execute(
            crate::sql::UPSERT_FOLLOWUP,
            params![f.campaign_id, f.customer_id, f.offset_days, f.done_day, f.satisfied, f.score, f.note, now()],
        )?;
        Ok(())
    }

    fn followups(&mut self) -> Result<Vec<FollowupRow>> {
        let mut st = self.conn.prepare(crate::sql::FOLLOWUPS)?;
        let rows = st
            .query_map([], |r| {
                Ok(FollowupRow {
                    campaign_id: r.get(0)?,
                    customer_id: r.get(1)?,
                    offset_days: r.get(2)?,
                    done_day: r.get(3)?,
                    satisfied: r.get(4)?,
                    score: r.get(5)?,
                    note: r.get(6)?,
                })
            })?
            .collect::<std::result::Result<_, _>>()?;
        Ok(rows)
    }

    fn run_scores(&mut self, run_id: i64) -> Result<Vec<(i64, f64)>> {
        let mut st = self.conn.prepare(crate::sql::RUN_SCORES)?;
        let rows = st.query_map([run_id], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<std::result::Result<_, _>>()?;
        Ok(rows)
    }

    fn fingerprint(&mut self) -> Result<String> {
        let v: [i64; 6] = self.conn.query_row(crate::sql::FINGERPRINT, [], |r| {
            Ok([r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?])
        })?;
        Ok(format!("{v:?}"))
    }

    fn assessment_cache(&mut self) -> Result<Option<CacheInfo>> {
        Ok(self
            .conn
            .query_row(crate::sql::ASSESSMENT_CACHE, [], |r| {
                Ok(CacheInfo { fingerprint: r.get(0)?, as_of: r.get(1)?, horizon: r.get(2)? })
            })
            .optional()?)
    }

    fn save_assessments(&mut self, info: &CacheInfo, rows: &[AssessedRow]) -> Result<()> {
        // written once through a rollback journal when no one else has the
        // store open, as a bulk import is (see import_transactions)
        let rollback = rows.len() >= BULK_ROWS && self.journal_mode("DELETE")? == "delete";
        let result = (|| -> Result<()> {
            let tx = self.conn.transaction()?;
            tx.execute_batch(crate::sql::DROP_ASSESSMENT_INDEXES)?;
            {
                let mut st = tx.prepare(
                    "INSERT INTO assessments (position, customer_id, external_id, status, decision, held, value_if_won, detail, segment, tier, last_day) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                )?;
                for (i, r) in rows.iter().enumerate() {
                    st.execute(params![
                        i as i64,
                        r.customer_id,
                        r.external_id,
                        r.status,
                        r.decision,
                        r.held,
                        r.value_if_won,
                        r.detail,
                        r.segment,
                        r.tier,
                        r.last_day
                    ])?;
                }
            }
            tx.execute_batch(crate::sql::ASSESSMENT_INDEXES)?;
            tx.execute(
                "INSERT INTO assessment_cache (id, fingerprint, as_of, horizon, computed_at) VALUES (1, ?1, ?2, ?3, ?4)
                 ON CONFLICT (id) DO UPDATE SET fingerprint = excluded.fingerprint, as_of = excluded.as_of, horizon = excluded.horizon, computed_at = excluded.computed_at",
                params![info.fingerprint, info.as_of, info.horizon, now()],
            )?;
            tx.commit()?;
            Ok(())
        })();
        if rollback {
            if let Err(e) = self.conn.execute_batch("PRAGMA journal_mode = WAL") {
                tracing::warn!(error = %e, "could not switch back to WAL after caching the assessment");
            }
        }
        result
    }

    fn assessed(&mut self, q: &AssessedQuery) -> Result<Vec<AssessedRow>> {
        let (sql, args) = crate::sql::assessed(q, |n| format!("?{n}"));
        let mut st = self.conn.prepare(&sql)?;
        let rows = st
            .query_map(rusqlite::params_from_iter(args.iter()), |r| {
                Ok(AssessedRow {
                    customer_id: r.get(0)?,
                    external_id: r.get(1)?,
                    status: r.get(2)?,
                    decision: r.get(3)?,
                    held: r.get(4)?,
                    value_if_won: r.get(5)?,
                    detail: r.get(6)?,
                    segment: r.get(7)?,
                    tier: r.get(8)?,
                    last_day: r.get(9)?,
                })
            })?
            .collect::<std::result::Result<_, _>>()?;
        Ok(rows)
    }

    fn assessed_count(&mut self, q: &AssessedQuery) -> Result<usize> {
        let (sql, args) = crate::sql::assessed_count(q, |n| format!("?{n}"));
        let n: i64 = self.conn.query_row(&sql, rusqlite::params_from_iter(args.iter()), |r| r.get(0))?;
        Ok(n as usize)
    }

    fn assessed_counts(&mut self) -> Result<Vec<(String, String, bool, i64)>> {
        let mut st = self.conn.prepare(crate::sql::ASSESSED_COUNTS)?;
        let rows = st
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
            .collect::<std::result::Result<_, _>>()?;
        Ok(rows)
    }
}

fn causes(conn: &Connection) -> Result<Vec<RootCause>> {
    let mut st = conn.prepare(crate::sql::CAUSES)?;
    let mut rows = st.query([])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        out.push(to_cause(
            r.get(0)?,
            r.get(1)?,
            &r.get::<_, String>(2)?,
            &r.get::<_, String>(3)?,
            &r.get::<_, String>(4)?,
            r.get(5)?,
            r.get(6)?,
            r.get(7)?,
        )?);
    }
    Ok(out)
}

/// Scores from columns starting at `i` (frequency … value_at_stake), or None when
/// the customer has no score.
fn score_at(r: &rusqlite::Row, i: usize, customer_id: i64) -> rusqlite::Result<ScoreRow> {
    Ok(ScoreRow {
        customer_id,
        frequency: r.get(i)?,
        recency: r.get(i + 1)?,
        t: r.get(i + 2)?,
        monetary_value: r.get(i + 3)?,
        p_alive: r.get(i + 4)?,
        expected_purchases: r.get(i + 5)?,
        expected_spend: r.get(i + 6)?,
        lifetime_value: r.get(i + 7)?,
        value_at_stake: r.get(i + 8)?,
    })
}

fn sqlite_view(r: &rusqlite::Row) -> rusqlite::Result<CustomerView> {
    let id: i64 = r.get(0)?;
    let scored: Option<i64> = r.get(9)?;
    Ok(CustomerView {
        external_id: r.get(1)?,
        name: r.get(2)?,
        email: r.get(3)?,
        transactions: r.get(4)?,
        revenue: r.get(5)?,
        returns: r.get(6)?,
        first_day: r.get(7)?,
        last_day: r.get(8)?,
        score: match scored {
            Some(_) => Some(score_at(r, 9, id)?),
            None => None,
        },
    })
}

/// A stored word of winback's vocabulary (arm, member state) read back; an
/// unknown one is a schema problem, reported as a conversion failure.
fn vocab<T>(parsed: std::result::Result<T, String>, column: usize) -> rusqlite::Result<T> {
    parsed.map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(column, rusqlite::types::Type::Text, Box::new(StoreError::Invalid(e)))
    })
}

/// Insert reasons inside `tx` (duplicates by dedupe key are left out).
pub(crate) fn insert_reasons(tx: &rusqlite::Transaction, rows: &[NewReason]) -> Result<ReasonsOutcome> {
    let causes = causes(tx)?;
    let mut out = ReasonsOutcome::default();
    {
        let mut find = tx.prepare_cached(crate::sql::CUSTOMER_ID)?;
        let mut ins = tx.prepare_cached(crate::sql::INSERT_REASON)?;
        let at = now();
        for r in rows {
            let customer: i64 =
                find.query_row([&r.customer], |x| x.get(0)).optional()?.ok_or_else(|| unknown_customer(r))?;
            let cause = pick_cause(&causes, r)?;
            let id: Option<i64> = ins
                .query_row(
                    params![
                        customer,
                        r.category.as_str(),
                        r.scope.name(),
                        r.detail,
                        r.suggestion,
                        r.source.name(),
                        r.day,
                        r.recorded_by,
                        at,
                        cause,
                        &reason_key(r)[..],
                        r.wont_return
                    ],
                    |x| x.get(0),
                )
                .optional()?;
            match id {
                Some(id) => {
                    out.ids.push(id);
                    out.linked += usize::from(cause.is_some());
                }
                None => out.duplicate_lines.push(r.line),
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use winback_domain::import::{build_batch, RowExtras};

    /// `n` purchases spread over 1,000 customers, days offset by `shift`.
    fn batch(n: usize, shift: i32) -> ImportBatch {
        let log = TransactionLog {
            ids: (0..1000).map(|c| format!("C{c}")).collect(),
            customer: (0..n).map(|i| (i % 1000) as u32).collect(),
            day: (0..n).map(|i| shift + (i / 1000) as i32).collect(),
            amount: Some((0..n).map(|i| (i % 97) as f64 + 1.0).collect()),
        };
        let lines: Vec<u32> = (2..n as u32 + 2).collect();
        let mut x = RowExtras {
            lines: &lines,
            txn_id: None,
            cost: None,
            returned: None,
            channel: None,
            store: None,
            product: None,
        };
        build_batch(log, &mut x)
    }

    fn meta(rows: usize) -> ImportMeta {
        ImportMeta { kind: "transactions", source: "test".into(), rows, rejected: 0, duplicates_in_file: 0 }
    }

    fn mode(s: &SqliteStore) -> String {
        s.conn.query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap()
    }

    #[test]
    fn bulk_import_switches_journal_only_when_alone_and_lands_whole_either_way() {
        let dir = std::env::temp_dir().join(format!("winback-journal-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("store.db");
        let path = path.to_str().unwrap();
        let mut store = SqliteStore::open(path).unwrap();
        let n = BULK_ROWS + 1000;

        // another process has the store open: the import stays in WAL mode, and
        // does not wait for the reader
        let reader = Connection::open(path).unwrap();
        let _: i64 = reader.query_row("SELECT count(*) FROM customers", [], |r| r.get(0)).unwrap();
        let t = std::time::Instant::now();
        let out = store.import_transactions(batch(n, 0), &meta(n), &mut |_| {}).unwrap();
        assert!(t.elapsed() < std::time::Duration::from_secs(8), "waited for the reader");
        assert_eq!((out.imported, out.duplicate_lines.len()), (n, 0));
        assert_eq!(mode(&store), "wal");
        let count: i64 = reader.query_row("SELECT count(*) FROM transactions", [], |r| r.get(0)).unwrap();
        assert_eq!(count as usize, n, "the reader sees the committed import");
        drop(reader);

        // alone: a rollback journal for the import, WAL again after
        let out = store.import_transactions(batch(n, 10_000), &meta(n), &mut |_| {}).unwrap();
        assert_eq!(out.imported, n);
        assert_eq!(mode(&store), "wal");
        // the same rows again are all duplicates, by line
        let out = store.import_transactions(batch(n, 10_000), &meta(n), &mut |_| {}).unwrap();
        assert_eq!(out.imported, 0);
        assert_eq!(out.duplicate_lines, (2..n as u64 + 2).collect::<Vec<_>>());
        let keys: i64 = store.conn.query_row("SELECT count(*) FROM transaction_keys", [], |r| r.get(0)).unwrap();
        assert_eq!(keys as usize, 2 * n);
        std::fs::remove_dir_all(&dir).ok();
    }
}
