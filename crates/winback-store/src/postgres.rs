//! The PostgreSQL back end, for teams sharing one server. Imports stream rows with
//! COPY into a temporary table and merge them in one transaction. A `schema=NAME`
//! query parameter in the URL keeps winback's tables in that schema (created if
//! needed), so several stores can share a database.

use std::io::Write;

use postgres::{Client, NoTls, Row, Transaction};
use winback_domain::causes::{CauseUpdate, NewCause, RootCause};
use winback_domain::facts::{CustomerFacts, LatestScore};
use winback_domain::import::ImportBatch;
use winback_domain::log::TransactionLog;
use winback_domain::reasons::{NewReason, Reason};

use crate::migrations::{self, now, MigrationState, MIGRATIONS};
use crate::reasons::{
    apply, categories_text, not_found, pick_cause, reason_key, to_cause, to_reason, unknown_customer,
};
use crate::{CampaignRow, FollowupRow, Mark, MemberRow, NewCampaign, NewMember};
use crate::{
    CustomerDetail, CustomerQuery, CustomerRecord, CustomerView, EventRecord, Facts, ImportMeta, ImportOutcome, NewRun,
    ReasonsOutcome, Result, RunInfo, ScoreRow, Store, StoreError, StoredLog,
};

pub struct PgStore {
    client: Client,
}

/// Split `schema=NAME` off a URL's query string.
fn split_schema(url: &str) -> (String, Option<String>) {
    let Some((base, query)) = url.split_once('?') else { return (url.to_owned(), None) };
    let mut schema = None;
    let rest: Vec<&str> = query
        .split('&')
        .filter(|kv| match kv.strip_prefix("schema=") {
            Some(s) => {
                schema = Some(s.to_owned());
                false
            }
            None => true,
        })
        .collect();
    let url = if rest.is_empty() { base.to_owned() } else { format!("{base}?{}", rest.join("&")) };
    (url, schema)
}

impl PgStore {
    pub fn open(url: &str) -> Result<Self> {
        let (url, schema) = split_schema(url);
        let mut client = Client::connect(&url, NoTls)?;
        if let Some(s) = schema {
            if !s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') || s.is_empty() {
                return Err(StoreError::Invalid(format!("schema name '{s}': use letters, digits and _")));
            }
            client.batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS {s}; SET search_path TO {s}"))?;
        }
        let mut st = PgStore { client };
        st.migrate()?;
        Ok(st)
    }

    fn applied(&mut self) -> Result<Vec<(i64, String)>> {
        Ok(self
            .client
            .query("SELECT version, applied_at FROM schema_migrations ORDER BY version", &[])?
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect())
    }

    fn migrate(&mut self) -> Result<()> {
        self.client.batch_execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)",
        )?;
        let applied = self.applied()?;
        if let Some(&(v, _)) = applied.last() {
            if v > migrations::latest() {
                return Err(StoreError::TooNew { found: v, known: migrations::latest() });
            }
        }
        for m in MIGRATIONS.iter().filter(|m| !applied.iter().any(|(v, _)| *v == m.version)) {
            let mut tx = self.client.transaction()?;
            tx.batch_execute(m.postgres)?;
            tx.execute(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
                &[&m.version, &m.name, &now()],
            )?;
            tx.commit()?;
            tracing::info!(version = m.version, "applied PostgreSQL migration");
        }
        Ok(())
    }
}

/// A value in COPY's text format.
fn copy_text(out: &mut Vec<u8>, v: Option<&str>) {
    match v {
        None => out.extend_from_slice(b"\\N"),
        Some(s) => {
            for b in s.bytes() {
                match b {
                    b'\\' => out.extend_from_slice(b"\\\\"),
                    b'\t' => out.extend_from_slice(b"\\t"),
                    b'\n' => out.extend_from_slice(b"\\n"),
                    b'\r' => out.extend_from_slice(b"\\r"),
                    _ => out.push(b),
                }
            }
        }
    }
}

fn copy_num(out: &mut Vec<u8>, v: Option<f64>) {
    match v {
        Some(x) if x.is_finite() => {
            let _ = write!(out, "{x}");
        }
        _ => out.extend_from_slice(b"\\N"),
    }
}

fn start_import(tx: &mut Transaction, meta: &ImportMeta) -> Result<i64> {
    Ok(tx
        .query_one(
            "INSERT INTO imports (kind, source, imported_at, rows, imported, duplicates, rejected) VALUES ($1, $2, $3, $4, 0, 0, $5) RETURNING id",
            &[&meta.kind, &meta.source, &now(), &(meta.rows as i64), &(meta.rejected as i64)],
        )?
        .get(0))
}

fn finish_import(tx: &mut Transaction, id: i64, out: &ImportOutcome, meta: &ImportMeta) -> Result<()> {
    tx.execute(
        "UPDATE imports SET imported = $1, duplicates = $2 WHERE id = $3",
        &[&(out.imported as i64), &((out.duplicate_lines.len() + meta.duplicates_in_file) as i64), &id],
    )?;
    Ok(())
}

/// Store ids for external ids, creating the missing customers (COPY + merge).
fn customer_ids(tx: &mut Transaction, external: &[String], created: &mut usize) -> Result<Vec<i64>> {
    tx.batch_execute("CREATE TEMP TABLE wb_ext (pos BIGINT, external_id TEXT) ON COMMIT DROP")?;
    let mut w = tx.copy_in("COPY wb_ext (pos, external_id) FROM STDIN")?;
    let mut buf = Vec::with_capacity(1 << 20);
    for (i, e) in external.iter().enumerate() {
        let _ = write!(buf, "{i}\t");
        copy_text(&mut buf, Some(e));
        buf.push(b'\n');
        if buf.len() > 1 << 20 {
            w.write_all(&buf)?;
            buf.clear();
        }
    }
    w.write_all(&buf)?;
    w.finish()?;
    tx.batch_execute("ANALYZE wb_ext")?;
    *created += tx.execute(
        "INSERT INTO customers (external_id) SELECT external_id FROM wb_ext ORDER BY external_id ON CONFLICT (external_id) DO NOTHING",
        &[],
    )? as usize;
    let mut ids = vec![0i64; external.len()];
    for r in tx.query("SELECT e.pos, c.id FROM wb_ext e JOIN customers c ON c.external_id = e.external_id", &[])? {
        let pos: i64 = r.get(0);
        ids[pos as usize] = r.get(1);
    }
    tx.batch_execute("DROP TABLE wb_ext")?;
    Ok(ids)
}

impl Store for PgStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    fn migration_status(&mut self) -> Result<Vec<MigrationState>> {
        Ok(migrations::states(&self.applied()?))
    }

    fn import_transactions(
        &mut self,
        batch: &ImportBatch,
        meta: &ImportMeta,
        progress: &mut dyn FnMut(u64),
    ) -> Result<ImportOutcome> {
        let mut tx = self.client.transaction()?;
        // Room to sort and hash the batch in memory; the commit's durability is
        // still checked before we report success.
        tx.batch_execute("SET LOCAL work_mem = '256MB'")?;
        let import_id = start_import(&mut tx, meta)?;
        let mut out = ImportOutcome { import_id, ..Default::default() };
        let ids = customer_ids(&mut tx, &batch.customers, &mut out.customers_created)?;
        tracing::info!(customers = ids.len(), "customers resolved");
        tx.batch_execute(
            "CREATE TEMP TABLE wb_tx (customer_id BIGINT, day INTEGER, amount DOUBLE PRECISION, cost DOUBLE PRECISION,
               is_return BOOLEAN, txn_id TEXT, channel TEXT, store TEXT, product TEXT, dedupe_key BYTEA, line BIGINT) ON COMMIT DROP",
        )?;
        {
            let mut w = tx.copy_in("COPY wb_tx FROM STDIN")?;
            let mut buf = Vec::with_capacity(1 << 20);
            for (i, r) in batch.rows.iter().enumerate() {
                let _ = write!(buf, "{}\t{}\t", ids[r.customer as usize], r.day);
                copy_num(&mut buf, r.amount());
                buf.push(b'\t');
                copy_num(&mut buf, r.cost());
                buf.extend_from_slice(if r.is_return { b"\tt\t" } else { b"\tf\t" });
                for v in [r.txn_id(), r.channel(), r.store(), r.product()] {
                    copy_text(&mut buf, v);
                    buf.push(b'\t');
                }
                buf.extend_from_slice(b"\\\\x");
                for b in r.key {
                    let _ = write!(buf, "{b:02x}");
                }
                let _ = writeln!(buf, "\t{}", r.line);
                if buf.len() > 1 << 20 {
                    w.write_all(&buf)?;
                    buf.clear();
                    progress(i as u64);
                }
            }
            w.write_all(&buf)?;
            w.finish()?;
        }
        tx.batch_execute("ANALYZE wb_tx")?;
        tracing::info!("rows copied");
        // A large batch rebuilds the customer index once, by sorting, instead of
        // updating it row by row; DDL is transactional, so an interrupted import
        // leaves it as it was.
        // Per-row foreign-key checks made the merge six times slower (measured:
        // 3M rows, 17.6 s without, 100 s with); re-adding the constraints checks
        // the whole table in one join instead.
        let bulk = batch.rows.len() >= 200_000;
        if bulk {
            tx.batch_execute(
                "DROP INDEX transactions_customer;
                 ALTER TABLE transactions DROP CONSTRAINT transactions_customer_id_fkey, DROP CONSTRAINT transactions_import_id_fkey",
            )?;
        }
        // rows already stored, then everything else (a file's own repeats were
        // removed before, so keys in wb_tx are distinct)
        let dup: Vec<i64> = tx
            .query(
                "SELECT w.line FROM wb_tx w JOIN transactions t ON t.dedupe_key = w.dedupe_key ORDER BY w.line",
                &[],
            )?
            .iter()
            .map(|r| r.get(0))
            .collect();
        out.duplicate_lines = dup.into_iter().map(|l| l as u64).collect();
        out.imported = tx.execute(
            "INSERT INTO transactions (customer_id, day, amount, cost, is_return, txn_id, channel, store, product, dedupe_key, import_id, line)
             SELECT customer_id, day, amount, cost, is_return, txn_id, channel, store, product, dedupe_key, $1, line FROM wb_tx
             ORDER BY dedupe_key ON CONFLICT (dedupe_key) DO NOTHING",
            &[&import_id],
        )? as usize;
        tracing::info!(rows = out.imported, "rows merged");
        if bulk {
            tx.batch_execute(
                "SET LOCAL maintenance_work_mem = '256MB';
                 CREATE INDEX transactions_customer ON transactions(customer_id, day);
                 ALTER TABLE transactions
                   ADD CONSTRAINT transactions_customer_id_fkey FOREIGN KEY (customer_id) REFERENCES customers(id),
                   ADD CONSTRAINT transactions_import_id_fkey FOREIGN KEY (import_id) REFERENCES imports(id)",
            )?;
            tracing::info!("customer index and foreign keys rebuilt");
        }
        finish_import(&mut tx, import_id, &out, meta)?;
        tx.commit()?;
        progress(batch.rows.len() as u64);
        Ok(out)
    }

    fn import_customers(&mut self, rows: &[CustomerRecord], meta: &ImportMeta) -> Result<ImportOutcome> {
        let mut tx = self.client.transaction()?;
        let import_id = start_import(&mut tx, meta)?;
        let mut out = ImportOutcome { import_id, ..Default::default() };
        let external: Vec<String> = rows.iter().map(|r| r.external_id.clone()).collect();
        let ids = customer_ids(&mut tx, &external, &mut out.customers_created)?;
        let st = tx.prepare(
            "UPDATE customers SET name = COALESCE($2, name), email = COALESCE($3, email), phone = COALESCE($4, phone),
               preferred_channel = COALESCE($5, preferred_channel), consent_email = COALESCE($6, consent_email),
               consent_sms = COALESCE($7, consent_sms), consent_phone = COALESCE($8, consent_phone),
               consent_mail = COALESCE($9, consent_mail), do_not_contact = COALESCE($10, do_not_contact),
               flags = COALESCE($11, flags), cost_to_serve = COALESCE($12, cost_to_serve), segment = COALESCE($13, segment),
               tags = COALESCE($14, tags), contract_start = COALESCE($15, contract_start), contract_end = COALESCE($16, contract_end)
             WHERE id = $1",
        )?;
        for (r, id) in rows.iter().zip(&ids) {
            tx.execute(
                &st,
                &[
                    id,
                    &r.name,
                    &r.email,
                    &r.phone,
                    &r.preferred_channel,
                    &r.consent_email,
                    &r.consent_sms,
                    &r.consent_phone,
                    &r.consent_mail,
                    &r.do_not_contact,
                    &r.flags,
                    &r.cost_to_serve,
                    &r.segment,
                    &r.tags,
                    &r.contract_start,
                    &r.contract_end,
                ],
            )?;
            out.imported += 1;
        }
        finish_import(&mut tx, import_id, &out, meta)?;
        tx.commit()?;
        Ok(out)
    }

    fn import_events(&mut self, rows: &[EventRecord], meta: &ImportMeta) -> Result<ImportOutcome> {
        let mut tx = self.client.transaction()?;
        let import_id = start_import(&mut tx, meta)?;
        let mut out = ImportOutcome { import_id, ..Default::default() };
        let external: Vec<String> = rows.iter().map(|r| r.customer.clone()).collect();
        let ids = customer_ids(&mut tx, &external, &mut out.customers_created)?;
        let st = tx.prepare(
            "INSERT INTO events (customer_id, day, kind, attributes, dedupe_key, import_id) VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (dedupe_key) DO NOTHING",
        )?;
        for (r, id) in rows.iter().zip(&ids) {
            let key = crate::event_key(r);
            let n = tx.execute(&st, &[id, &r.day, &r.kind, &r.attributes, &&key[..], &import_id])?;
            if n == 0 {
                out.duplicate_lines.push(r.line);
            } else {
                out.imported += 1;
            }
        }
        finish_import(&mut tx, import_id, &out, meta)?;
        tx.commit()?;
        Ok(out)
    }

    fn transaction_log(&mut self) -> Result<StoredLog> {
        let mut log = TransactionLog::default();
        let mut customer_ids = Vec::new();
        let mut index = std::collections::HashMap::new();
        for r in self.client.query("SELECT id, external_id FROM customers ORDER BY id", &[])? {
            let id: i64 = r.get(0);
            index.insert(id, log.ids.len() as u32);
            customer_ids.push(id);
            log.ids.push(r.get(1));
        }
        let mut amounts = Vec::new();
        let mut any_amount = false;
        let mut returns = 0;
        let mut it = self.client.query_raw(
            "SELECT customer_id, day, amount, is_return FROM transactions ORDER BY id",
            std::iter::empty::<&dyn postgres::types::ToSql>(),
        )?;
        use postgres::fallible_iterator::FallibleIterator;
        while let Some(r) = it.next()? {
            if r.get::<_, bool>(3) {
                returns += 1;
                continue;
            }
            let c: i64 = r.get(0);
            log.customer.push(index[&c]);
            log.day.push(r.get(1));
            let a: Option<f64> = r.get(2);
            any_amount |= a.is_some();
            amounts.push(a.unwrap_or(0.0));
        }
        if any_amount {
            log.amount = Some(amounts);
        }
        Ok(StoredLog { log, customer_ids, returns })
    }

    fn save_run(&mut self, run: &NewRun, scores: &[ScoreRow]) -> Result<i64> {
        let mut tx = self.client.transaction()?;
        let id: i64 = tx
            .query_one(
                "INSERT INTO analysis_runs (created_at, model, params, spend_params, log_likelihood, customers, converged, period, time_unit, observation_end, horizon)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
                &[
                    &now(),
                    &run.model,
                    &run.params,
                    &run.spend_params,
                    &run.log_likelihood,
                    &run.customers,
                    &run.converged,
                    &run.period,
                    &run.time_unit,
                    &run.observation_end,
                    &run.horizon,
                ],
            )?
            .get(0);
        {
            let mut w = tx.copy_in("COPY scores (run_id, customer_id, frequency, recency, t, monetary_value, p_alive, expected_purchases, expected_spend, lifetime_value, value_at_stake) FROM STDIN")?;
            let mut buf = Vec::with_capacity(1 << 20);
            for s in scores {
                let _ = write!(buf, "{id}\t{}\t{}\t", s.customer_id, s.frequency);
                for v in [
                    Some(s.recency),
                    Some(s.t),
                    Some(s.monetary_value),
                    Some(s.p_alive),
                    Some(s.expected_purchases),
                    s.expected_spend,
                    s.lifetime_value,
                ] {
                    copy_num(&mut buf, v);
                    buf.push(b'\t');
                }
                copy_num(&mut buf, Some(s.value_at_stake));
                buf.push(b'\n');
                if buf.len() > 1 << 20 {
                    w.write_all(&buf)?;
                    buf.clear();
                }
            }
            w.write_all(&buf)?;
            w.finish()?;
        }
        tx.commit()?;
        Ok(id)
    }

    fn runs(&mut self) -> Result<Vec<RunInfo>> {
        Ok(self
            .client
            .query(crate::sql::RUNS, &[])?
            .iter()
            .map(|r| RunInfo {
                id: r.get(0),
                created_at: r.get(1),
                model: r.get(2),
                params: r.get(3),
                log_likelihood: r.get(4),
                customers: r.get(5),
                converged: r.get(6),
                observation_end: r.get(7),
                horizon: r.get(8),
                time_unit: r.get(9),
            })
            .collect())
    }

    fn customers(&mut self, q: &CustomerQuery) -> Result<Vec<CustomerView>> {
        let none: Option<String> = None;
        Ok(self.client.query(&crate::sql::customers(q), &[&none])?.iter().map(pg_view).collect())
    }

    fn customer(&mut self, external_id: &str) -> Result<Option<CustomerDetail>> {
        let ext = Some(external_id.to_owned());
        let rows = self.client.query(&crate::sql::customers(&CustomerQuery::default()), &[&ext])?;
        let Some(view) = rows.first().map(pg_view) else { return Ok(None) };
        let r = self.client.query_one(crate::sql::CUSTOMER_FIELDS, &[&external_id])?;
        let id: i64 = r.get(0);
        let mut d = CustomerDetail {
            view,
            phone: r.get(1),
            preferred_channel: r.get(2),
            consent: vec![("email", r.get(3)), ("sms", r.get(4)), ("phone", r.get(5)), ("mail", r.get(6))],
            do_not_contact: r.get(7),
            flags: r.get(8),
            segment: r.get(9),
            tags: r.get(10),
            cost_to_serve: r.get(11),
            contract_start: r.get(12),
            contract_end: r.get(13),
            history: Vec::new(),
            transactions: Vec::new(),
            events: Vec::new(),
        };
        d.history = self
            .client
            .query(crate::sql::HISTORY, &[&id])?
            .iter()
            .map(|r| (r.get(0), r.get(1), score_at(r, 2, id)))
            .collect();
        d.transactions = self
            .client
            .query(crate::sql::TRANSACTIONS, &[&id])?
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4)))
            .collect();
        d.events =
            self.client.query(crate::sql::EVENTS, &[&id])?.iter().map(|r| (r.get(0), r.get(1), r.get(2))).collect();
        Ok(Some(d))
    }

    fn counts(&mut self) -> Result<Vec<(&'static str, i64)>> {
        crate::sql::TABLES
            .iter()
            .map(|t| Ok((*t, self.client.query_one(&format!("SELECT count(*) FROM {t}"), &[])?.get(0))))
            .collect()
    }

    fn add_reasons(&mut self, rows: &[NewReason]) -> Result<ReasonsOutcome> {
        let mut tx = self.client.transaction()?;
        let causes = causes(&mut tx)?;
        let mut out = ReasonsOutcome::default();
        let find = tx.prepare(crate::sql::CUSTOMER_ID)?;
        let ins = tx.prepare(crate::sql::INSERT_REASON)?;
        let at = now();
        for r in rows {
            let customer: i64 = tx.query_opt(&find, &[&r.customer])?.ok_or_else(|| unknown_customer(r))?.get(0);
            let cause = pick_cause(&causes, r)?;
            let key = reason_key(r);
            let row = tx.query_opt(
                &ins,
                &[
                    &customer,
                    &r.category.as_str(),
                    &r.scope.name(),
                    &r.detail,
                    &r.suggestion,
                    &r.source.name(),
                    &r.day,
                    &r.recorded_by,
                    &at,
                    &cause,
                    &&key[..],
                ],
            )?;
            match row {
                Some(x) => {
                    out.ids.push(x.get(0));
                    out.linked += usize::from(cause.is_some());
                }
                None => out.duplicate_lines.push(r.line),
            }
        }
        tx.commit()?;
        Ok(out)
    }

    fn reasons(&mut self) -> Result<Vec<Reason>> {
        self.client
            .query(crate::sql::REASONS, &[])?
            .iter()
            .map(|r| {
                to_reason(
                    r.get(0),
                    r.get(1),
                    r.get(2),
                    r.get(3),
                    r.get(4),
                    r.get(5),
                    r.get(6),
                    r.get(7),
                    r.get(8),
                    r.get(9),
                    r.get(10),
                    r.get(11),
                )
            })
            .collect()
    }

    fn add_cause(&mut self, c: &NewCause) -> Result<(i64, usize)> {
        c.check().map_err(|e| StoreError::Invalid(e.to_string()))?;
        let mut tx = self.client.transaction()?;
        let id: i64 = tx
            .query_one(
                crate::sql::INSERT_CAUSE,
                &[
                    &c.title,
                    &categories_text(&c.categories),
                    &c.scope.name(),
                    &c.status.name(),
                    &c.fixed_on,
                    &c.announcement,
                    &now(),
                ],
            )?
            .get(0);
        let mut linked = 0;
        for cat in &c.categories {
            linked += tx.execute(crate::sql::LINK_CATEGORY, &[&id, &cat.as_str()])? as usize;
        }
        tx.commit()?;
        Ok((id, linked))
    }

    fn update_cause(&mut self, id: i64, u: &CauseUpdate) -> Result<(RootCause, usize)> {
        let mut tx = self.client.transaction()?;
        let old = causes(&mut tx)?.into_iter().find(|c| c.id == id).ok_or_else(|| not_found(id))?;
        let c = apply(old, u, crate::reasons::today())?;
        tx.execute(
            crate::sql::UPDATE_CAUSE,
            &[&c.title, &categories_text(&c.categories), &c.status.name(), &c.fixed_on, &c.announcement, &now(), &id],
        )?;
        let mut linked = 0;
        if u.categories.is_some() {
            for cat in &c.categories {
                linked += tx.execute(crate::sql::LINK_CATEGORY, &[&id, &cat.as_str()])? as usize;
            }
        }
        tx.commit()?;
        Ok((c, linked))
    }

    fn causes(&mut self) -> Result<Vec<RootCause>> {
        let mut tx = self.client.transaction()?;
        let out = causes(&mut tx)?;
        tx.commit()?;
        Ok(out)
    }

    fn customer_facts(&mut self) -> Result<Facts> {
        use postgres::fallible_iterator::FallibleIterator;
        let run = self.runs()?.pop();
        let run_id = run.as_ref().map_or(-1, |r| r.id);
        let mut customers: Vec<CustomerFacts> = self
            .client
            .query(crate::sql::FACT_CUSTOMERS, &[])?
            .iter()
            .map(|r| CustomerFacts {
                id: r.get(0),
                external_id: r.get(1),
                name: r.get(2),
                email: r.get(3),
                cost_to_serve: r.get(4),
                flags: r.get(5),
                tags: r.get(6),
                segment: r.get(7),
                do_not_contact: r.get(8),
                contract_end: r.get(9),
                phone: r.get(10),
                preferred_channel: r.get(11),
                consent: [r.get(12), r.get(13), r.get(14), r.get(15)],
                ..Default::default()
            })
            .collect();
        let index = crate::facts::index(&customers);
        let mut scores = self.client.query_raw(crate::sql::FACT_SCORES, [&run_id as &dyn postgres::types::ToSql])?;
        while let Some(r) = scores.next()? {
            if let Some(k) = index.get(r.get::<_, i64>(0)) {
                customers[k].score = Some(LatestScore {
                    frequency: r.get(1),
                    p_alive: r.get(2),
                    expected_purchases: r.get(3),
                    expected_spend: r.get(4),
                    value_at_stake: r.get(5),
                    lifetime_value: r.get(6),
                });
            }
        }
        drop(scores);
        let mut it = self.client.query_raw(crate::sql::FACT_ROWS, std::iter::empty::<&dyn postgres::types::ToSql>())?;
        while let Some(r) = it.next()? {
            if let Some(k) = index.get(r.get::<_, i64>(0)) {
                crate::facts::add(&mut customers[k], r.get(1), r.get(2), r.get(3), r.get(4));
            }
        }
        Ok(Facts { run, customers })
    }

    fn events(&mut self) -> Result<Vec<(i64, i32, String)>> {
        Ok(self.client.query(crate::sql::ALL_EVENTS, &[])?.iter().map(|r| (r.get(0), r.get(1), r.get(2))).collect())
    }

    fn product_revenue(&mut self) -> Result<Vec<(i64, String, f64)>> {
        let rows = self.client.query(crate::sql::PRODUCT_ROWS, &[])?;
        Ok(crate::facts::product_revenue(rows.iter().map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))))
    }

    fn create_campaign(&mut self, c: &NewCampaign, members: &[NewMember]) -> Result<i64> {
        let mut tx = self.client.transaction()?;
        if tx.query_opt("SELECT id FROM campaigns WHERE name = $1", &[&c.name])?.is_some() {
            return Err(StoreError::Invalid(format!("a campaign named '{}' exists already", c.name)));
        }
        let id: i64 = tx
            .query_one(
                crate::sql::INSERT_CAMPAIGN,
                &[
                    &c.name,
                    &now(),
                    &c.start_day,
                    &c.target,
                    &c.holdout,
                    &c.seed,
                    &c.window_days,
                    &c.base_rate,
                    &c.detectable_lift,
                    &c.playbook,
                    &c.run_id,
                ],
            )?
            .get(0);
        let ins = tx.prepare(crate::sql::INSERT_MEMBER)?;
        for m in members {
            tx.execute(
                &ins,
                &[
                    &id,
                    &m.customer_id,
                    &m.arm,
                    &m.tier,
                    &m.category,
                    &m.rule,
                    &m.strategy,
                    &m.channel,
                    &m.coupon,
                    &m.unsubscribe_token,
                    &m.value_if_won,
                    &m.state,
                ],
            )?;
        }
        tx.commit()?;
        Ok(id)
    }

    fn campaigns(&mut self) -> Result<Vec<CampaignRow>> {
        Ok(self
            .client
            .query(crate::sql::CAMPAIGNS, &[])?
            .iter()
            .map(|r| CampaignRow {
                id: r.get(0),
                created_at: r.get(1),
                c: NewCampaign {
                    name: r.get(2),
                    start_day: r.get(3),
                    target: r.get(4),
                    holdout: r.get(5),
                    seed: r.get(6),
                    window_days: r.get(7),
                    base_rate: r.get(8),
                    detectable_lift: r.get(9),
                    playbook: r.get(10),
                    run_id: r.get(11),
                },
            })
            .collect())
    }

    fn campaign_members(&mut self, campaign_id: i64) -> Result<Vec<MemberRow>> {
        Ok(self
            .client
            .query(crate::sql::MEMBERS, &[&campaign_id])?
            .iter()
            .map(|r| MemberRow {
                m: NewMember {
                    customer_id: r.get(0),
                    arm: r.get(1),
                    tier: r.get(2),
                    category: r.get(3),
                    rule: r.get(4),
                    strategy: r.get(5),
                    channel: r.get(6),
                    coupon: r.get(7),
                    unsubscribe_token: r.get(8),
                    value_if_won: r.get(9),
                    state: r.get(10),
                },
                external_id: r.get(11),
                contacted_day: r.get(12),
                message_id: r.get(13),
                error: r.get(14),
            })
            .collect())
    }

    fn claim(&mut self, campaign_id: i64, customer_id: i64, day: i32) -> Result<bool> {
        Ok(self.client.execute(crate::sql::CLAIM, &[&day, &campaign_id, &customer_id])? == 1)
    }

    fn mark(&mut self, campaign_id: i64, customer_id: i64, m: &Mark) -> Result<()> {
        self.client
            .execute(crate::sql::MARK, &[&m.state, &m.day, &m.message_id, &m.error, &campaign_id, &customer_id])?;
        Ok(())
    }

    fn contacted_since(&mut self, day: i32) -> Result<Vec<i64>> {
        Ok(self.client.query(crate::sql::CONTACTED_SINCE, &[&day])?.iter().map(|r| r.get(0)).collect())
    }

    fn opt_out(&mut self, token: &str, channel: &str, day: i32, source: &str) -> Result<Option<i64>> {
        let mut tx = self.client.transaction()?;
        let Some(row) = tx.query_opt(crate::sql::MEMBER_BY_TOKEN, &[&token])? else { return Ok(None) };
        let customer: i64 = row.get(0);
        tx.execute(crate::sql::OPT_OUT, &[&customer, &channel, &day, &source, &now()])?;
        if let Some(col) = crate::consent_column(channel) {
            tx.execute(&format!("UPDATE customers SET {col} = FALSE WHERE id = $1"), &[&customer])?;
        }
        tx.commit()?;
        Ok(Some(customer))
    }

    fn opt_outs(&mut self) -> Result<Vec<(i64, String)>> {
        Ok(self.client.query(crate::sql::OPT_OUTS, &[])?.iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    fn record_followup(&mut self, f: &FollowupRow) -> Result<()> {
        self.client.execute(
            crate::sql::UPSERT_FOLLOWUP,
            &[&f.campaign_id, &f.customer_id, &f.offset_days, &f.done_day, &f.satisfied, &f.score, &f.note, &now()],
        )?;
        Ok(())
    }

    fn followups(&mut self) -> Result<Vec<FollowupRow>> {
        Ok(self
            .client
            .query(crate::sql::FOLLOWUPS, &[])?
            .iter()
            .map(|r| FollowupRow {
                campaign_id: r.get(0),
                customer_id: r.get(1),
                offset_days: r.get(2),
                done_day: r.get(3),
                satisfied: r.get(4),
                score: r.get(5),
                note: r.get(6),
            })
            .collect())
    }

    fn run_scores(&mut self, run_id: i64) -> Result<Vec<(i64, f64)>> {
        Ok(self.client.query(crate::sql::RUN_SCORES, &[&run_id])?.iter().map(|r| (r.get(0), r.get(1))).collect())
    }
}

fn causes(tx: &mut Transaction) -> Result<Vec<RootCause>> {
    tx.query(crate::sql::CAUSES, &[])?
        .iter()
        .map(|r| to_cause(r.get(0), r.get(1), r.get(2), r.get(3), r.get(4), r.get(5), r.get(6), r.get(7)))
        .collect()
}

fn score_at(r: &Row, i: usize, customer_id: i64) -> ScoreRow {
    ScoreRow {
        customer_id,
        frequency: r.get(i),
        recency: r.get(i + 1),
        t: r.get(i + 2),
        monetary_value: r.get(i + 3),
        p_alive: r.get(i + 4),
        expected_purchases: r.get(i + 5),
        expected_spend: r.get(i + 6),
        lifetime_value: r.get(i + 7),
        value_at_stake: r.get(i + 8),
    }
}

fn pg_view(r: &Row) -> CustomerView {
    let id: i64 = r.get(0);
    let scored: Option<i64> = r.get(9);
    CustomerView {
        external_id: r.get(1),
        name: r.get(2),
        email: r.get(3),
        transactions: r.get(4),
        revenue: r.get(5),
        returns: r.get(6),
        first_day: r.get(7),
        last_day: r.get(8),
        score: scored.map(|_| score_at(r, 9, id)),
    }
}
