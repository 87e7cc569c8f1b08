//! The PostgreSQL back end, for teams sharing one server. Imports stream rows with
//! COPY into a temporary table and merge them in one transaction. A `schema=NAME`
//! query parameter in the URL keeps winback's tables in that schema (created if
//! needed), so several stores can share a database.

use std::io::Write;

use postgres::{Client, NoTls, Row, Transaction};
use winback_domain::causes::{CauseUpdate, NewCause, RootCause};
use winback_domain::facts::{CustomerFacts, LatestScore};
use winback_domain::import::{ImportBatch, TxnRow};
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

/// New rows from which an import drops and rebuilds the indexes.
const BULK_ROWS: usize = 200_000;

pub struct PgStore {
    pub(crate) client: Client,
}

/// Advisory lock key held while a store is created or migrated ("winback" in ASCII).
const MIGRATION_LOCK: i64 = 0x77696e6261636b;

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
        if let Some(s) = &schema {
            if !s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') || s.is_empty() {
                return Err(StoreError::Invalid(format!("schema name '{s}': use letters, digits and _")));
            }
        }
        // CREATE … IF NOT EXISTS is not safe against a concurrent CREATE: several
        // processes opening a new store take turns on an advisory lock (released
        // with the session if anything fails).
        client.batch_execute(&format!("SELECT pg_advisory_lock({MIGRATION_LOCK})"))?;
        if let Some(s) = schema {
            client.batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS {s}; SET search_path TO {s}"))?;
        }
        let mut st = PgStore { client };
        st.migrate()?;
        st.client.batch_execute(&format!("SELECT pg_advisory_unlock({MIGRATION_LOCK})"))?;
        Ok(st)
    }

    fn applied(&mut self) -> Result<Vec<(i64, String)>> {
        self.client
            .query("SELECT version, applied_at FROM schema_migrations ORDER BY version", &[])?
            .iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect::<Result<_>>()
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

/// A dedupe key in COPY's text format (bytea hex).
fn copy_key(out: &mut Vec<u8>, key: &[u8; 16]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.extend_from_slice(b"\\\\x");
    for b in key {
        out.push(HEX[usize::from(b >> 4)]);
        out.push(HEX[usize::from(b & 15)]);
    }
}

/// Which rows of the batch are stored already (by dedupe key).
fn stored_keys(tx: &mut Transaction, rows: &[TxnRow]) -> Result<Vec<bool>> {
    tx.batch_execute("CREATE TEMP TABLE wb_keys (dedupe_key BYTEA, pos BIGINT) ON COMMIT DROP")?;
    let mut w = tx.copy_in("COPY wb_keys FROM STDIN")?;
    let mut buf = Vec::with_capacity(1 << 20);
    for (i, r) in rows.iter().enumerate() {
        copy_key(&mut buf, &r.key);
        let _ = writeln!(buf, "\t{i}");
        if buf.len() > 1 << 20 {
            w.write_all(&buf)?;
            buf.clear();
        }
    }
    w.write_all(&buf)?;
    w.finish()?;
    tx.batch_execute("ANALYZE wb_keys")?;
    let mut dup = vec![false; rows.len()];
    copy_out_ints(
        tx,
        "COPY (SELECT k.pos FROM wb_keys k JOIN transactions t ON t.dedupe_key = k.dedupe_key) TO STDOUT",
        |v| {
            if let Some(d) = v.first().and_then(|&pos| dup.get_mut(pos as usize)) {
                *d = true;
            }
        },
    )?;
    tx.batch_execute("DROP TABLE wb_keys")?;
    Ok(dup)
}

fn start_import(tx: &mut Transaction, meta: &ImportMeta) -> Result<i64> {
    Ok(tx
        .query_one(
            "INSERT INTO imports (kind, source, imported_at, rows, imported, duplicates, rejected) VALUES ($1, $2, $3, $4, 0, 0, $5) RETURNING id",
            &[&meta.kind, &meta.source, &now(), &(meta.rows as i64), &(meta.rejected as i64)],
        )?
        .try_get(0)?)
}

fn finish_import(tx: &mut Transaction, id: i64, out: &ImportOutcome, meta: &ImportMeta) -> Result<()> {
    tx.execute(
        "UPDATE imports SET imported = $1, duplicates = $2 WHERE id = $3",
        &[&(out.imported as i64), &((out.duplicate_lines.len() + meta.duplicates_in_file) as i64), &id],
    )?;
    Ok(())
}

/// Store ids for external ids, creating the missing customers (COPY + merge).
/// Store ids for external ids, creating the missing customers. Known ones are
/// found with a join; new ones get ids taken from the identity sequence in one
/// step and are written with COPY in name order (the unique index fills front to
/// back). The table is locked against other writers meanwhile; readers go on.
fn customer_ids(tx: &mut Transaction, external: &CustomerIds, created: &mut usize) -> Result<Vec<i64>> {
    let t0 = std::time::Instant::now();
    tx.batch_execute("LOCK TABLE customers IN SHARE ROW EXCLUSIVE MODE")?;
    let mut ids = vec![0i64; external.len()];
    let any: bool = tx.query_one("SELECT EXISTS (SELECT 1 FROM customers)", &[])?.try_get(0)?;
    if any {
        tx.batch_execute("CREATE TEMP TABLE wb_ext (pos BIGINT, external_id TEXT COLLATE \"C\") ON COMMIT DROP")?;
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
        // streamed with COPY: millions of rows as `Row`s would cost more memory
        // than the rest of the import
        copy_out_ints(
            tx,
            "COPY (SELECT e.pos, c.id FROM wb_ext e JOIN customers c ON c.external_id = e.external_id) TO STDOUT",
            |v| {
                if let (Some(&pos), Some(&id)) = (v.first(), v.get(1)) {
                    if let Some(slot) = ids.get_mut(pos as usize) {
                        *slot = id;
                    }
                }
            },
        )?;
        tx.batch_execute("DROP TABLE wb_ext")?;
        tracing::debug!(secs = t0.elapsed().as_secs_f64(), "known customers found");
    }
    let mut new: Vec<u32> = (0..external.len() as u32).filter(|&i| ids[i as usize] == 0).collect();
    if new.is_empty() {
        return Ok(ids);
    }
    new.sort_unstable_by(|&a, &b| external[a as usize].cmp(&external[b as usize]));
    // a name listed more than once (a customers file, events) is one customer
    let distinct = 1 + new.windows(2).filter(|w| external[w[0] as usize] != external[w[1] as usize]).count();
    let seq: String = tx.query_one("SELECT pg_get_serial_sequence('customers', 'id')", &[])?.try_get(0)?;
    // past both the sequence and the largest id, then move the sequence past the block
    let last: i64 = tx
        .query_one(
            &format!(
                "SELECT setval('{seq}', GREATEST((SELECT CASE WHEN is_called THEN last_value ELSE last_value - 1 END FROM {seq}),
                                                (SELECT COALESCE(max(id), 0) FROM customers)) + $1)"
            ),
            &[&(distinct as i64)],
        )?
        .try_get(0)?;
    let mut next = last - distinct as i64;
    // Many new customers next to few stored: the unique index on external ids is
    // built again by sorting (4.3M customers: 11.9 s → 9.6 s). Nobody else can
    // add customers meanwhile: the table is locked against writers.
    let stored: i64 = if any {
        tx.query_one("SELECT count(*) FROM (SELECT 1 FROM customers LIMIT $1) s", &[&(2 * distinct as i64 + 1)])?
            .try_get(0)?
    } else {
        0
    };
    let bulk = distinct >= BULK_ROWS && distinct * 2 >= stored as usize;
    if bulk {
        tx.batch_execute("ALTER TABLE customers DROP CONSTRAINT customers_external_id_key")?;
    }
    let mut w = tx.copy_in("COPY customers (id, external_id) FROM STDIN")?;
    let mut buf = Vec::with_capacity(1 << 20);
    let mut prev: Option<&str> = None;
    for &i in &new {
        let name = &external[i as usize];
        if prev != Some(name) {
            next += 1;
            let _ = write!(buf, "{next}\t");
            copy_text(&mut buf, Some(name));
            buf.push(b'\n');
            prev = Some(name);
        }
        ids[i as usize] = next;
        if buf.len() > 1 << 20 {
            w.write_all(&buf)?;
            buf.clear();
        }
    }
    w.write_all(&buf)?;
    w.finish()?;
    if bulk {
        tx.batch_execute("ALTER TABLE customers ADD CONSTRAINT customers_external_id_key UNIQUE (external_id)")?;
    }
    // fresh statistics, so the foreign-key check that follows a bulk import
    // sizes its hash table for the customers there are
    tx.batch_execute("ANALYZE customers")?;
    *created += distinct;
    tracing::debug!(secs = t0.elapsed().as_secs_f64(), new = distinct, "new customers copied");
    Ok(ids)
}

/// Run `COPY (…) TO STDOUT` whose columns are integers, calling `f` per row.
fn copy_out_ints(tx: &mut Transaction, sql: &str, mut f: impl FnMut(&[i64])) -> Result<()> {
    let mut r = std::io::BufReader::with_capacity(1 << 16, tx.copy_out(sql)?);
    let mut line = Vec::new();
    let mut vals = Vec::new();
    while std::io::BufRead::read_until(&mut r, b'\n', &mut line)? > 0 {
        vals.clear();
        for field in line.trim_ascii_end().split(|&b| b == b'\t') {
            let v = std::str::from_utf8(field).ok().and_then(|s| s.parse::<i64>().ok());
            vals.push(v.ok_or_else(|| StoreError::Invalid("COPY returned a value that is not an integer".into()))?);
        }
        f(&vals);
        line.clear();
    }
    Ok(())
}

impl Store for PgStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    fn is_broken(&self) -> bool {
        self.client.is_closed()
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
        let mut tx = self.client.transaction()?;
        // Room to sort and hash the batch in memory; the commit's durability is
        // still checked before we report success.
        tx.batch_execute("SET LOCAL work_mem = '256MB'; SET LOCAL maintenance_work_mem = '256MB'")?;
        // One import at a time (readers go on): what is not stored when we look
        // is still not stored when we write.
        tx.batch_execute("LOCK TABLE transactions IN SHARE ROW EXCLUSIVE MODE")?;
        let import_id = start_import(&mut tx, meta)?;
        let mut out = ImportOutcome { import_id, ..Default::default() };
        let ids = customer_ids(&mut tx, &batch.customers, &mut out.customers_created)?;
        let ImportBatch { customers, rows, text, .. } = batch;
        drop(customers);
        tracing::info!(customers = ids.len(), secs = t0.elapsed().as_secs_f64(), "customers resolved");
        let n = rows.len();
        let stored: i64 = tx
            .query_one("SELECT count(*) FROM (SELECT 1 FROM transactions LIMIT $1) s", &[&(2 * n as i64 + 1)])?
            .try_get(0)?;
        let stored = stored as usize;
        let dup = if stored > 0 { stored_keys(&mut tx, &rows)? } else { vec![false; n] };
        out.duplicate_lines = rows.iter().zip(&dup).filter(|(_, &d)| d).map(|(r, _)| u64::from(r.line)).collect();
        out.duplicate_lines.sort_unstable();
        let new = n - out.duplicate_lines.len();
        tracing::info!(duplicates = n - new, secs = t0.elapsed().as_secs_f64(), "stored keys looked up");
        // Many new rows next to few stored: drop the indexes and foreign keys, copy,
        // and build them again by sorting, instead of updating them row by row
        // (per-row foreign-key checks alone made a 3M-row merge 6x slower). DDL is
        // transactional, so an interrupted import leaves them as they were.
        let bulk = new >= BULK_ROWS && new * 2 >= stored;
        if bulk {
            tx.batch_execute(
                "ALTER TABLE transactions DROP CONSTRAINT transactions_customer_id_fkey, DROP CONSTRAINT transactions_import_id_fkey,
                   DROP CONSTRAINT transactions_pkey;
                 DROP INDEX transactions_customer",
            )?;
        }
        {
            // binary COPY: the server parses no numbers or hex, which was half its work
            use postgres::types::Type;
            let w = tx.copy_in(
                "COPY transactions (customer_id, day, amount, cost, is_return, txn_id, channel, store, product, dedupe_key, import_id, line)
                 FROM STDIN (FORMAT binary)",
            )?;
            let types = [
                Type::INT8,
                Type::INT4,
                Type::FLOAT8,
                Type::FLOAT8,
                Type::BOOL,
                Type::TEXT,
                Type::TEXT,
                Type::TEXT,
                Type::TEXT,
                Type::BYTEA,
                Type::INT8,
                Type::INT8,
            ];
            let mut w = postgres::binary_copy::BinaryCopyInWriter::new(w, &types);
            for (i, (r, _)) in rows.iter().zip(&dup).enumerate().filter(|(_, (_, &d))| !d) {
                let key: &[u8] = &r.key;
                let t = r.texts(&text);
                w.write(&[
                    &ids[r.customer as usize],
                    &r.day,
                    &r.amount().filter(|x| x.is_finite()),
                    &r.cost().filter(|x| x.is_finite()),
                    &r.is_return,
                    &t.txn_id,
                    &t.channel,
                    &t.store,
                    &t.product,
                    &key,
                    &import_id,
                    &i64::from(r.line),
                ])?;
                if i % 65_536 == 0 {
                    progress(i as u64);
                }
            }
            out.imported = w.finish()? as usize;
        }
        drop((rows, ids, dup, text));
        tracing::info!(rows = out.imported, secs = t0.elapsed().as_secs_f64(), "rows copied");
        if bulk {
            tx.batch_execute(
                "ALTER TABLE transactions ADD CONSTRAINT transactions_pkey PRIMARY KEY (dedupe_key);
                 CREATE INDEX transactions_customer ON transactions(customer_id, day);",
            )?;
            tracing::info!(secs = t0.elapsed().as_secs_f64(), "indexes rebuilt");
            tx.batch_execute(
                "ALTER TABLE transactions
                   ADD CONSTRAINT transactions_customer_id_fkey FOREIGN KEY (customer_id) REFERENCES customers(id),
                   ADD CONSTRAINT transactions_import_id_fkey FOREIGN KEY (import_id) REFERENCES imports(id)",
            )?;
            tracing::info!(secs = t0.elapsed().as_secs_f64(), "foreign keys checked");
        }
        finish_import(&mut tx, import_id, &out, meta)?;
        tx.commit()?;
        tracing::info!(secs = t0.elapsed().as_secs_f64(), "committed");
        progress(n as u64);
        Ok(out)
    }

    fn import_customers(&mut self, rows: &[CustomerRecord], meta: &ImportMeta) -> Result<ImportOutcome> {
        let mut tx = self.client.transaction()?;
        let import_id = start_import(&mut tx, meta)?;
        let mut out = ImportOutcome { import_id, ..Default::default() };
        let external: CustomerIds = rows.iter().map(|r| &r.external_id).collect();
        let ids = customer_ids(&mut tx, &external, &mut out.customers_created)?;
        let st = tx.prepare(
            "UPDATE customers SET name = COALESCE($2, name), email = COALESCE($3, email), phone = COALESCE($4, phone),
               preferred_channel = COALESCE($5, preferred_channel), consent_email = COALESCE($6, consent_email),
               consent_sms = COALESCE($7, consent_sms), consent_phone = COALESCE($8, consent_phone),
               consent_mail = COALESCE($9, consent_mail), do_not_contact = COALESCE($10, do_not_contact),
               flags = COALESCE($11, flags), cost_to_serve = COALESCE($12, cost_to_serve), segment = COALESCE($13, segment),
               tags = COALESCE($14, tags), contract_start = COALESCE($15, contract_start), contract_end = COALESCE($16, contract_end)
             WHERE id = $1 AND (COALESCE($2, name) IS DISTINCT FROM name OR COALESCE($3, email) IS DISTINCT FROM email OR
                   COALESCE($4, phone) IS DISTINCT FROM phone OR
                   COALESCE($5, preferred_channel) IS DISTINCT FROM preferred_channel OR
                   COALESCE($6, consent_email) IS DISTINCT FROM consent_email OR
                   COALESCE($7, consent_sms) IS DISTINCT FROM consent_sms OR
                   COALESCE($8, consent_phone) IS DISTINCT FROM consent_phone OR
                   COALESCE($9, consent_mail) IS DISTINCT FROM consent_mail OR
                   COALESCE($10, do_not_contact) IS DISTINCT FROM do_not_contact OR
                   COALESCE($11, flags) IS DISTINCT FROM flags OR
                   COALESCE($12, cost_to_serve) IS DISTINCT FROM cost_to_serve OR
                   COALESCE($13, segment) IS DISTINCT FROM segment OR
                   COALESCE($14, tags) IS DISTINCT FROM tags OR
                   COALESCE($15, contract_start) IS DISTINCT FROM contract_start OR
                   COALESCE($16, contract_end) IS DISTINCT FROM contract_end)",
        )?;
        for (r, id) in rows.iter().zip(&ids) {
            let changed = tx.execute(
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
            // (as on SQLite: a line that changes nothing is a duplicate)
            if changed == 0 && r.has_fields() {
                out.duplicate_lines.push(r.line);
            } else {
                out.imported += 1;
            }
        }
        finish_import(&mut tx, import_id, &out, meta)?;
        tx.commit()?;
        Ok(out)
    }

    fn import_events(&mut self, rows: &[EventRecord], meta: &ImportMeta) -> Result<ImportOutcome> {
        let mut tx = self.client.transaction()?;
        let import_id = start_import(&mut tx, meta)?;
        let mut out = ImportOutcome { import_id, ..Default::default() };
        let external: CustomerIds = rows.iter().map(|r| &r.customer).collect();
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
            let id: i64 = r.try_get(0)?;
            index.insert(id, log.ids.len() as u32);
            customer_ids.push(id);
            log.ids.push(r.get::<_, &str>(1));
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
            let c: i64 = r.try_get(0)?;
            log.customer.push(index[&c]);
            log.day.push(r.try_get(1)?);
            let a: Option<f64> = r.try_get(2)?;
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
            .try_get(0)?;
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
        self.client
            .query(crate::sql::RUNS, &[])?
            .iter()
            .map(|r| {
                Ok(RunInfo {
                    id: r.try_get(0)?,
                    created_at: r.try_get(1)?,
                    model: r.try_get(2)?,
                    params: r.try_get(3)?,
                    log_likelihood: r.try_get(4)?,
                    customers: r.try_get(5)?,
                    converged: r.try_get(6)?,
                    observation_end: r.try_get(7)?,
                    horizon: r.try_get(8)?,
                    time_unit: r.try_get(9)?,
                })
            })
            .collect::<Result<_>>()
    }

    fn customers(&mut self, q: &CustomerQuery) -> Result<Vec<CustomerView>> {
        self.client.query(&crate::sql::customers(q), &[])?.iter().map(pg_view).collect::<Result<_>>()
    }

    fn customer(&mut self, external_id: &str) -> Result<Option<CustomerDetail>> {
        let rows = self.client.query(&crate::sql::customer_view(), &[&external_id])?;
        let Some(view) = rows.first().map(pg_view).transpose()? else { return Ok(None) };
        let r = self.client.query_one(crate::sql::CUSTOMER_FIELDS, &[&external_id])?;
        let id: i64 = r.try_get(0)?;
        let mut d = CustomerDetail {
            view,
            phone: r.try_get(1)?,
            preferred_channel: r.try_get(2)?,
            consent: vec![
                ("email", r.try_get(3)?),
                ("sms", r.try_get(4)?),
                ("phone", r.try_get(5)?),
                ("mail", r.try_get(6)?),
            ],
            do_not_contact: r.try_get(7)?,
            flags: r.try_get(8)?,
            segment: r.try_get(9)?,
            tags: r.try_get(10)?,
            cost_to_serve: r.try_get(11)?,
            contract_start: r.try_get(12)?,
            contract_end: r.try_get(13)?,
            history: Vec::new(),
            transactions: Vec::new(),
            events: Vec::new(),
        };
        d.history = self
            .client
            .query(crate::sql::HISTORY, &[&id])?
            .iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, score_at(r, 2, id)?)))
            .collect::<Result<_>>()?;
        d.transactions = self
            .client
            .query(crate::sql::TRANSACTIONS, &[&id])?
            .iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?, r.try_get(4)?)))
            .collect::<Result<_>>()?;
        d.events = self
            .client
            .query(crate::sql::EVENTS, &[&id])?
            .iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)))
            .collect::<Result<_>>()?;
        Ok(Some(d))
    }

    fn counts(&mut self) -> Result<Vec<(&'static str, i64)>> {
        crate::sql::TABLES
            .iter()
            .map(|t| Ok((*t, self.client.query_one(&format!("SELECT count(*) FROM {t}"), &[])?.try_get(0)?)))
            .collect()
    }

    fn add_reasons(&mut self, rows: &[NewReason]) -> Result<ReasonsOutcome> {
        let mut tx = self.client.transaction()?;
        let out = insert_reasons(&mut tx, rows)?;
        tx.commit()?;
        Ok(out)
    }

    fn reasons_of(&mut self, customer: Option<&str>) -> Result<Vec<Reason>> {
        let rows = match customer {
            Some(c) => self.client.query(crate::sql::REASONS_OF, &[&c])?,
            None => self.client.query(crate::sql::REASONS, &[])?,
        };
        rows.iter()
            .map(|r| {
                to_reason(
                    r.try_get(0)?,
                    r.try_get(1)?,
                    r.try_get(2)?,
                    r.try_get(3)?,
                    r.try_get(4)?,
                    r.try_get(5)?,
                    r.try_get(6)?,
                    r.try_get(7)?,
                    r.try_get(8)?,
                    r.try_get(9)?,
                    r.try_get(10)?,
                    r.try_get(11)?,
                    r.try_get(12)?,
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
            .try_get(0)?;
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

    fn customer_facts_until(&mut self, until: Option<i32>) -> Result<Facts> {
        use postgres::fallible_iterator::FallibleIterator;
        let run = if until.is_some() { None } else { self.runs()?.pop() };
        let run_id = run.as_ref().map_or(-1, |r| r.id);
        let mut customers: Vec<CustomerFacts> = self
            .client
            .query(crate::sql::FACT_CUSTOMERS, &[])?
            .iter()
            .map(|r| {
                Ok(CustomerFacts {
                    id: r.try_get(0)?,
                    external_id: r.try_get(1)?,
                    name: r.try_get(2)?,
                    email: r.try_get(3)?,
                    cost_to_serve: r.try_get(4)?,
                    flags: r.try_get(5)?,
                    tags: r.try_get(6)?,
                    segment: r.try_get(7)?,
                    do_not_contact: r.try_get(8)?,
                    contract_end: r.try_get(9)?,
                    phone: r.try_get(10)?,
                    preferred_channel: r.try_get(11)?,
                    consent: [r.try_get(12)?, r.try_get(13)?, r.try_get(14)?, r.try_get(15)?],
                    ..Default::default()
                })
            })
            .collect::<Result<_>>()?;
        let index = crate::facts::index(&customers);
        let mut scores = self.client.query_raw(crate::sql::FACT_SCORES, [&run_id as &dyn postgres::types::ToSql])?;
        while let Some(r) = scores.next()? {
            if let Some(k) = index.get(r.try_get::<_, i64>(0)?) {
                customers[k].score = Some(LatestScore {
                    frequency: r.try_get(1)?,
                    p_alive: r.try_get(2)?,
                    expected_purchases: r.try_get(3)?,
                    expected_spend: r.try_get(4)?,
                    value_at_stake: r.try_get(5)?,
                    lifetime_value: r.try_get(6)?,
                });
            }
        }
        drop(scores);
        let mut it = self.client.query_raw(crate::sql::FACT_ROWS, std::iter::empty::<&dyn postgres::types::ToSql>())?;
        while let Some(r) = it.next()? {
            let day: i32 = r.try_get(1)?;
            if until.is_some_and(|u| day > u) {
                continue;
            }
            if let Some(k) = index.get(r.try_get::<_, i64>(0)?) {
                crate::facts::add(&mut customers[k], day, r.try_get(2)?, r.try_get(3)?, r.try_get(4)?);
            }
        }
        Ok(Facts { run, customers })
    }

    fn events(&mut self) -> Result<Vec<(i64, i32, String)>> {
        self.client
            .query(crate::sql::ALL_EVENTS, &[])?
            .iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)))
            .collect::<Result<_>>()
    }

    fn product_revenue(&mut self) -> Result<Vec<(i64, String, f64)>> {
        let rows = self.client.query(crate::sql::PRODUCT_ROWS, &[])?;
        let rows = rows
            .iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?)))
            .collect::<Result<Vec<_>>>()?;
        Ok(crate::facts::product_revenue(rows.into_iter()))
    }

    fn create_campaign(&mut self, c: &NewCampaign, members: &[NewMember]) -> Result<i64> {
        let mut tx = self.client.transaction()?;
        if tx.query_opt("SELECT id FROM campaigns WHERE name = $1", &[&c.name])?.is_some() {
            return Err(StoreError::Conflict(format!("a campaign named '{}' exists already", c.name)));
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
            .try_get(0)?;
        let ins = tx.prepare(crate::sql::INSERT_MEMBER)?;
        for m in members {
            tx.execute(
                &ins,
                &[
                    &id,
                    &m.customer_id,
                    &m.arm.name(),
                    &m.tier,
                    &m.category,
                    &m.rule,
                    &m.strategy,
                    &m.channel,
                    &m.coupon,
                    &m.unsubscribe_token,
                    &m.value_if_won,
                    &m.state.name(),
                ],
            )?;
        }
        tx.commit()?;
        Ok(id)
    }

    fn campaigns(&mut self) -> Result<Vec<CampaignRow>> {
        self.client
            .query(crate::sql::CAMPAIGNS, &[])?
            .iter()
            .map(|r| {
                Ok(CampaignRow {
                    id: r.try_get(0)?,
                    created_at: r.try_get(1)?,
                    c: NewCampaign {
                        name: r.try_get(2)?,
                        start_day: r.try_get(3)?,
                        target: r.try_get(4)?,
                        holdout: r.try_get(5)?,
                        seed: r.try_get(6)?,
                        window_days: r.try_get(7)?,
                        base_rate: r.try_get(8)?,
                        detectable_lift: r.try_get(9)?,
                        playbook: r.try_get(10)?,
                        run_id: r.try_get(11)?,
                    },
                })
            })
            .collect::<Result<_>>()
    }

    fn set_do_not_contact(&mut self, customer: &str, value: bool) -> Result<()> {
        match self.client.execute(crate::sql::SET_DO_NOT_CONTACT, &[&value, &customer])? {
            0 => Err(StoreError::UnknownCustomer(format!("unknown customer '{customer}'"))),
            _ => Ok(()),
        }
    }

    fn memberships(&mut self, customer: &str) -> Result<Vec<crate::Membership>> {
        self.client
            .query(crate::sql::MEMBERSHIPS, &[&customer])?
            .iter()
            .map(|r| {
                Ok(crate::Membership {
                    campaign: r.try_get(0)?,
                    arm: r.try_get(1)?,
                    state: r.try_get(2)?,
                    strategy: r.try_get(3)?,
                    channel: r.try_get(4)?,
                    contacted_day: r.try_get(5)?,
                })
            })
            .collect()
    }

    fn member_counts(&mut self, campaign_id: i64) -> Result<Vec<(String, String, i64)>> {
        self.client
            .query(crate::sql::MEMBER_COUNTS, &[&campaign_id])?
            .iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)))
            .collect()
    }

    fn campaign_members(&mut self, campaign_id: i64) -> Result<Vec<MemberRow>> {
        self.client
            .query(crate::sql::MEMBERS, &[&campaign_id])?
            .iter()
            .map(|r| {
                let arm: String = r.try_get(1)?;
                let state: String = r.try_get(10)?;
                Ok(MemberRow {
                    m: NewMember {
                        customer_id: r.try_get(0)?,
                        arm: arm.parse().map_err(StoreError::Invalid)?,
                        tier: r.try_get(2)?,
                        category: r.try_get(3)?,
                        rule: r.try_get(4)?,
                        strategy: r.try_get(5)?,
                        channel: r.try_get(6)?,
                        coupon: r.try_get(7)?,
                        unsubscribe_token: r.try_get(8)?,
                        value_if_won: r.try_get(9)?,
                        state: state.parse().map_err(StoreError::Invalid)?,
                    },
                    external_id: r.try_get(11)?,
                    contacted_day: r.try_get(12)?,
                    message_id: r.try_get(13)?,
                    error: r.try_get(14)?,
                })
            })
            .collect()
    }

    fn claim(&mut self, campaign_id: i64, customer_id: i64, day: i32, token: &str) -> Result<bool> {
        Ok(self.client.execute(crate::sql::CLAIM, &[&day, &crate::digest(token), &campaign_id, &customer_id])? == 1)
    }

    fn mark(&mut self, campaign_id: i64, customer_id: i64, m: &Mark) -> Result<()> {
        self.client.execute(
            crate::sql::MARK,
            &[&m.state.name(), &m.day, &m.message_id, &m.error, &campaign_id, &customer_id],
        )?;
        Ok(())
    }

    fn contacted_since(&mut self, day: i32) -> Result<Vec<i64>> {
        self.client
            .query(crate::sql::CONTACTED_SINCE, &[&day])?
            .iter()
            .map(|r| Ok(r.try_get(0)?))
            .collect::<Result<_>>()
    }

    fn opt_out(&mut self, token: &str, channel: &str, day: i32, source: &str) -> Result<Option<i64>> {
        let mut tx = self.client.transaction()?;
        let h = crate::digest(token);
        let Some(row) = tx.query_opt(crate::sql::MEMBER_BY_TOKEN, &[&h, &token])? else { return Ok(None) };
        let customer: i64 = row.try_get(0)?;
        tx.execute(crate::sql::OPT_OUT, &[&customer, &channel, &day, &source, &now()])?;
        if let Some(col) = crate::consent_column(channel) {
            tx.execute(&format!("UPDATE customers SET {col} = FALSE WHERE id = $1"), &[&customer])?;
        }
        tx.commit()?;
        Ok(Some(customer))
    }

    fn opt_outs(&mut self) -> Result<Vec<(i64, String)>> {
        self.client
            .query(crate::sql::OPT_OUTS, &[])?
            .iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect::<Result<_>>()
    }

    fn record_followup(&mut self, f: &FollowupRow) -> Result<()> {
        self.client.execute(
            crate::sql::UPSERT_FOLLOWUP,
            &[&f.campaign_id, &f.customer_id, &f.offset_days, &f.done_day, &f.satisfied, &f.score, &f.note, &now()],
        )?;
        Ok(())
    }

    fn followups(&mut self) -> Result<Vec<FollowupRow>> {
        self.client
            .query(crate::sql::FOLLOWUPS, &[])?
            .iter()
            .map(|r| {
                Ok(FollowupRow {
                    campaign_id: r.try_get(0)?,
                    customer_id: r.try_get(1)?,
                    offset_days: r.try_get(2)?,
                    done_day: r.try_get(3)?,
                    satisfied: r.try_get(4)?,
                    score: r.try_get(5)?,
                    note: r.try_get(6)?,
                })
            })
            .collect::<Result<_>>()
    }

    fn run_scores(&mut self, run_id: i64) -> Result<Vec<(i64, f64)>> {
        self.client
            .query(crate::sql::RUN_SCORES, &[&run_id])?
            .iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect::<Result<_>>()
    }

    fn fingerprint(&mut self) -> Result<String> {
        let r = self.client.query_one(crate::sql::FINGERPRINT, &[])?;
        let v: Vec<i64> = (0..6).map(|i| r.try_get::<_, i64>(i)).collect::<std::result::Result<_, _>>()?;
        Ok(format!("{v:?}"))
    }

    fn assessment_cache(&mut self) -> Result<Option<CacheInfo>> {
        match self.client.query_opt(crate::sql::ASSESSMENT_CACHE, &[])? {
            None => Ok(None),
            Some(r) => Ok(Some(CacheInfo { fingerprint: r.try_get(0)?, as_of: r.try_get(1)?, horizon: r.try_get(2)? })),
        }
    }

    fn save_assessments(&mut self, info: &CacheInfo, rows: &[AssessedRow]) -> Result<()> {
        let mut tx = self.client.transaction()?;
        tx.batch_execute(
            "DROP INDEX IF EXISTS assessments_external; DROP INDEX IF EXISTS assessments_counts; DROP INDEX IF EXISTS assessments_decision; DROP INDEX IF EXISTS assessments_last; TRUNCATE assessments;",
        )?;
        {
            let mut w = tx.copy_in(
                "COPY assessments (position, customer_id, external_id, status, decision, held, value_if_won, detail, segment, tier, last_day) FROM STDIN",
            )?;
            let mut buf = Vec::with_capacity(1 << 20);
            for (i, r) in rows.iter().enumerate() {
                let _ = write!(buf, "{i}\t{}\t", r.customer_id);
                copy_text(&mut buf, Some(&r.external_id));
                buf.push(b'\t');
                copy_text(&mut buf, Some(&r.status));
                buf.push(b'\t');
                copy_text(&mut buf, r.decision.as_deref());
                buf.push(b'\t');
                buf.extend_from_slice(if r.held { b"t\t" } else { b"f\t" });
                copy_num(&mut buf, r.value_if_won);
                buf.push(b'\t');
                copy_text(&mut buf, Some(&r.detail));
                buf.push(b'\t');
                copy_text(&mut buf, r.segment.as_deref());
                buf.push(b'\t');
                copy_text(&mut buf, r.tier.as_deref());
                buf.push(b'\t');
                copy_num(&mut buf, r.last_day.map(f64::from));
                buf.push(b'\n');
                if buf.len() > 1 << 20 {
                    w.write_all(&buf)?;
                    buf.clear();
                }
            }
            w.write_all(&buf)?;
            w.finish()?;
        }
        tx.batch_execute(crate::sql::ASSESSMENT_INDEXES)?;
        tx.execute(
            "INSERT INTO assessment_cache (id, fingerprint, as_of, horizon, computed_at) VALUES (1, $1, $2, $3, $4)
             ON CONFLICT (id) DO UPDATE SET fingerprint = excluded.fingerprint, as_of = excluded.as_of, horizon = excluded.horizon, computed_at = excluded.computed_at",
            &[&info.fingerprint, &info.as_of, &info.horizon, &now()],
        )?;
        tx.commit()?;
        Ok(())
    }

    fn assessed(&mut self, q: &AssessedQuery) -> Result<Vec<AssessedRow>> {
        let (sql, args) = crate::sql::assessed(q, |n| format!("${n}"));
        let params: Vec<&(dyn postgres::types::ToSql + Sync)> =
            args.iter().map(|a| a as &(dyn postgres::types::ToSql + Sync)).collect();
        self.client
            .query(&sql, &params)?
            .iter()
            .map(|r| {
                {
                    Ok(AssessedRow {
                        customer_id: r.try_get(0)?,
                        external_id: r.try_get(1)?,
                        status: r.try_get(2)?,
                        decision: r.try_get(3)?,
                        held: r.try_get(4)?,
                        value_if_won: r.try_get(5)?,
                        detail: r.try_get(6)?,
                        segment: r.try_get(7)?,
                        tier: r.try_get(8)?,
                        last_day: r.try_get(9)?,
                    })
                }
            })
            .collect()
    }

    fn assessed_count(&mut self, q: &AssessedQuery) -> Result<usize> {
        let (sql, args) = crate::sql::assessed_count(q, |n| format!("${n}"));
        let params: Vec<&(dyn postgres::types::ToSql + Sync)> =
            args.iter().map(|a| a as &(dyn postgres::types::ToSql + Sync)).collect();
        let n: i64 = self.client.query_one(&sql, &params)?.try_get(0)?;
        Ok(n as usize)
    }

    fn assessed_counts(&mut self) -> Result<Vec<(String, String, bool, i64)>> {
        self.client
            .query(crate::sql::ASSESSED_COUNTS, &[])?
            .iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?)))
            .collect()
    }
}

fn causes(tx: &mut Transaction) -> Result<Vec<RootCause>> {
    tx.query(crate::sql::CAUSES, &[])?
        .iter()
        .map(|r| {
            to_cause(
                r.try_get(0)?,
                r.try_get(1)?,
                r.try_get(2)?,
                r.try_get(3)?,
                r.try_get(4)?,
                r.try_get(5)?,
                r.try_get(6)?,
                r.try_get(7)?,
            )
        })
        .collect()
}

fn score_at(r: &Row, i: usize, customer_id: i64) -> Result<ScoreRow> {
    Ok(ScoreRow {
        customer_id,
        frequency: r.try_get(i)?,
        recency: r.try_get(i + 1)?,
        t: r.try_get(i + 2)?,
        monetary_value: r.try_get(i + 3)?,
        p_alive: r.try_get(i + 4)?,
        expected_purchases: r.try_get(i + 5)?,
        expected_spend: r.try_get(i + 6)?,
        lifetime_value: r.try_get(i + 7)?,
        value_at_stake: r.try_get(i + 8)?,
    })
}

fn pg_view(r: &Row) -> Result<CustomerView> {
    let id: i64 = r.try_get(0)?;
    let scored: Option<i64> = r.try_get(9)?;
    Ok(CustomerView {
        external_id: r.try_get(1)?,
        name: r.try_get(2)?,
        email: r.try_get(3)?,
        transactions: r.try_get(4)?,
        revenue: r.try_get(5)?,
        returns: r.try_get(6)?,
        first_day: r.try_get(7)?,
        last_day: r.try_get(8)?,
        score: scored.map(|_| score_at(r, 9, id)).transpose()?,
    })
}

/// Insert reasons inside `tx` (duplicates by dedupe key are left out).
pub(crate) fn insert_reasons(tx: &mut postgres::Transaction, rows: &[NewReason]) -> Result<ReasonsOutcome> {
    let causes = causes(tx)?;
    let mut out = ReasonsOutcome::default();
    let find = tx.prepare(crate::sql::CUSTOMER_ID)?;
    let ins = tx.prepare(crate::sql::INSERT_REASON)?;
    let at = now();
    for r in rows {
        let customer: i64 = tx.query_opt(&find, &[&r.customer])?.ok_or_else(|| unknown_customer(r))?.try_get(0)?;
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
                &r.wont_return,
            ],
        )?;
        match row {
            Some(x) => {
                out.ids.push(x.try_get(0)?);
                out.linked += usize::from(cause.is_some());
            }
            None => out.duplicate_lines.push(r.line),
        }
    }
    Ok(out)
}
