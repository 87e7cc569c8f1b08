//! Commands that work on the store: import, analyze, customers, customer, export, db.

use std::io::Write;
use std::path::Path;

use anyhow::{bail, Context, Result};
use serde_json::{json, Value};
use winback_domain::period::date_of;
use winback_ingest::date::DateFormat;
use winback_ingest::transactions::LogOptions;
use winback_store::{CustomerView, Store};

use crate::cli::{
    AnalyzeArgs, CustomerArgs, CustomersArgs, DbCommand, ExportArgs, ExportFormat, Format, ImportCommand,
    ImportFileArgs, ImportTransactionsArgs, Status,
};
use crate::output::{emit, emit_csv, fit_json, fit_text, fmt_num, money, num, Rows};

pub fn open(db: &str) -> Result<Box<dyn Store>> {
    winback_store::open(db).with_context(|| format!("opening the store {}", redact(db)))
}

/// A URL without its password, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.find('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

pub fn import(db: &str, cmd: &ImportCommand) -> Result<()> {
    match cmd {
        ImportCommand::Transactions(a) => import_transactions(db, a),
        ImportCommand::Customers(a) => import_people(db, a, true),
        ImportCommand::Events(a) => import_people(db, a, false),
    }
}

/// Peak and current resident memory, for `-v` logs (Linux; empty elsewhere).
fn memrep() -> String {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kib = |field: &str| {
        status.lines().find_map(|l| l.strip_prefix(field)?.split_whitespace().next()?.parse::<u64>().ok())
    };
    match (kib("VmHWM:"), kib("VmRSS:")) {
        (Some(peak), Some(now)) => format!("peak {} MB, now {} MB", peak / 1024, now / 1024),
        _ => String::new(),
    }
}

fn import_transactions(db: &str, a: &ImportTransactionsArgs) -> Result<()> {
    let m = &a.mapping;
    let opts = LogOptions {
        delimiter: m.delimiter,
        header: m.header(),
        customer: m.customer_col.clone(),
        date: m.date_col.clone(),
        amount: m.amount_col.clone(),
        no_amount: m.no_amount,
        date_format: DateFormat::from_cli(m.date_format.as_deref()),
        decimal: m.decimal,
        txn_id: a.id_col.clone(),
        cost: a.cost_col.clone(),
        returned: a.return_col.clone(),
        channel: a.channel_col.clone(),
        store: a.store_col.clone(),
        product: a.product_col.clone(),
        detect_extras: true,
        generic: m.generic,
    };
    let req = winback_app::import::Request {
        file: &a.file,
        db_url: db,
        rejects: a.rejects.as_deref(),
        max_reject_rate: a.max_reject_rate,
    };
    let t0 = std::time::Instant::now();
    let pb = crate::progress::bar(0, "rows");
    let report = winback_app::import::transactions(&req, &opts, &mut || open_store(db), &mut |p| {
        show_progress(&a.file, &pb, p, t0)
    })?;
    pb.finish_and_clear();
    tracing::info!(mem = memrep(), "stored");
    print_import(&report, a.format)
}

fn import_people(db: &str, a: &ImportFileArgs, customers: bool) -> Result<()> {
    let req = winback_app::import::Request {
        file: &a.file,
        db_url: db,
        rejects: a.rejects.as_deref(),
        max_reject_rate: a.max_reject_rate,
    };
    let kind = if customers { winback_app::import::People::Customers } else { winback_app::import::People::Events };
    let fmt = DateFormat::from_cli(a.date_format.as_deref());
    let t0 = std::time::Instant::now();
    let pb = indicatif::ProgressBar::hidden();
    let report = winback_app::import::people(&req, kind, &fmt, &mut || open_store(db), &mut |p| {
        show_progress(&a.file, &pb, p, t0)
    })?;
    print_import(&report, a.format)
}

fn open_store(db: &str) -> std::result::Result<Box<dyn Store>, winback_store::StoreError> {
    winback_store::open(db)
}

fn show_progress(file: &Path, pb: &indicatif::ProgressBar, p: winback_app::import::Progress, t0: std::time::Instant) {
    match p {
        winback_app::import::Progress::Read { described, notes } => {
            tracing::info!(secs = t0.elapsed().as_secs_f64(), mem = memrep(), "file read");
            eprintln!("{}: {described}", file.display());
            for n in notes {
                eprintln!("  {n}");
            }
        }
        winback_app::import::Progress::Storing { done, of } => {
            pb.set_length(of);
            pb.set_position(done);
        }
    }
}

/// The import's outcome: five counts that add up to the file's lines.
fn print_import(r: &winback_app::import::ImportReport, format: Format) -> Result<()> {
    for n in &r.notes {
        eprintln!("{}: {n}", r.file);
    }
    if format == Format::Json {
        let v = json!({
            "file": r.file,
            "recognised": r.recognised,
            "rows": r.rows,
            "imported": r.imported,
            "part_of_an_order": r.part_of_an_order,
            "skipped": r.skipped,
            "duplicates": r.duplicates,
            "rejected": r.rejected,
            "rejects_file": r.rejects_file,
        });
        return emit(&format!("{}\n", serde_json::to_string_pretty(&v)?));
    }
    let mut s = format!("{}: {} lines: {} imported", r.file, r.rows, r.imported);
    if r.part_of_an_order > 0 {
        s += &format!(", {} part of an order on another line", r.part_of_an_order);
    }
    if r.skipped > 0 {
        s += &format!(", {} skipped", r.skipped);
    }
    s += &format!(", {} duplicates, {} rejected\n", r.duplicates, r.rejected);
    if !r.skipped_by_rule.is_empty() {
        s += "  skipped:";
        for (i, (rule, n)) in r.skipped_by_rule.iter().take(6).enumerate() {
            s += &format!("{} {n} {rule}", if i == 0 { "" } else { ";" });
        }
        s += "\n";
    }
    for (l, why) in &r.first_rejects {
        s += &format!("  line {l}: {why}\n");
    }
    if let Some(p) = &r.rejects_file {
        s += &format!("every duplicate, skipped and rejected line is listed in {p}\n");
    }
    emit(&s)
}

pub use winback_app::analyze::Analysis;

pub fn analyze(db: &str, a: &AnalyzeArgs) -> Result<()> {
    let r = run_analysis(db, a)?;
    match a.format {
        Format::Json => {
            let mut v = json!({"run": r.id, "observation_end": r.end.to_string(), "customers": r.customers, "probably_lost": r.lost,
                "returns_excluded": r.returns, "fit": fit_json(&r.fit)});
            if let (Some(sp), Some(o)) = (&r.spend, v.as_object_mut()) {
                o.insert("spend_fit".into(), fit_json(sp));
            }
            emit(&format!("{}\n", serde_json::to_string_pretty(&v)?))
        }
        _ => {
            let mut s = fit_text(&r.fit);
            if let Some(sp) = &r.spend {
                s += &fit_text(sp);
            }
            s += &format!(
                "run {}: {} customers scored as of {}; {} have probably left (P(alive) < 0.5).\nnext: winback lost\n",
                r.id, r.customers, r.end, r.lost
            );
            emit(&s)
        }
    }
}

/// Fit, score and record a run (the notes go to stderr).
pub fn run_analysis(db: &str, a: &AnalyzeArgs) -> Result<Analysis> {
    let mut store = open(db)?;
    let req = winback_app::analyze::AnalyzeRequest {
        model: a.model,
        observation_end: a.observation_end,
        period: a.period,
        time_unit: a.time_unit,
        horizon: a.horizon,
        margin: a.margin,
        discount_rate: a.discount_rate,
    };
    let r = winback_app::analyze::run(store.as_mut(), &req)?;
    for n in &r.notes {
        eprintln!("note: {n}");
    }
    Ok(r)
}

/// Customers in the order of value at stake (unscored last), each with its
/// status, keeping those `status` selects. Built from the same per-customer
/// facts as the statuses, in one pass over the transactions.
fn with_status(
    db: &str,
    config: Option<&Path>,
    status: Status,
    limit: Option<usize>,
) -> Result<Vec<(CustomerView, String)>> {
    let w = super::assess::load(db, config)?;
    let mut order: Vec<usize> = (0..w.facts.customers.len())
        .filter(|&i| super::lost::status_matches(status, w.assessed[i].status.status))
        .collect();
    let stake = |i: usize| w.facts.customers[i].score.map(|s| s.value_at_stake);
    order.sort_by(|&i, &j| match (stake(i), stake(j)) {
        (Some(a), Some(b)) => b.total_cmp(&a).then(i.cmp(&j)),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => i.cmp(&j),
    });
    order.truncate(limit.unwrap_or(usize::MAX));
    Ok(order
        .into_iter()
        .map(|i| {
            let f = &w.facts.customers[i];
            let view = CustomerView {
                external_id: f.external_id.clone(),
                name: f.name.clone(),
                email: f.email.clone(),
                transactions: f.purchases,
                revenue: f.net_revenue(),
                returns: f.returns,
                first_day: f.first_day,
                last_day: f.last_day,
                score: None,
            };
            (view, w.assessed[i].status.status.name().to_string(), f.score)
        })
        .map(|(mut v, s, sc)| {
            v.score = sc.map(|x| winback_store::ScoreRow {
                customer_id: 0,
                frequency: x.frequency,
                recency: 0.0,
                t: 0.0,
                monetary_value: 0.0,
                p_alive: x.p_alive,
                expected_purchases: x.expected_purchases,
                expected_spend: x.expected_spend,
                lifetime_value: x.lifetime_value,
                value_at_stake: x.value_at_stake,
            });
            (v, s)
        })
        .collect())
}

const CUSTOMER_COLUMNS: [&str; 13] = [
    "customer",
    "status",
    "name",
    "email",
    "transactions",
    "revenue",
    "returns",
    "first_purchase",
    "last_purchase",
    "p_alive",
    "expected_purchases",
    "lifetime_value",
    "value_at_stake",
];

fn customer_row(c: &CustomerView, status: &str) -> Vec<Value> {
    let day = |d: Option<i32>| d.map_or(Value::Null, |d| json!(date_of(d).to_string()));
    let opt = |v: Option<f64>| v.map_or(Value::Null, num);
    vec![
        json!(c.external_id),
        json!(status),
        json!(c.name),
        json!(c.email),
        json!(c.transactions),
        money(c.revenue),
        json!(c.returns),
        day(c.first_day),
        day(c.last_day),
        opt(c.score.map(|s| s.p_alive)),
        opt(c.score.map(|s| s.expected_purchases)),
        c.score.and_then(|s| s.lifetime_value).map_or(Value::Null, money),
        c.score.map(|s| s.value_at_stake).map_or(Value::Null, money),
    ]
}

pub fn customers(db: &str, config: Option<&Path>, a: &CustomersArgs) -> Result<()> {
    let limit = a.top.or((a.format == Format::Table).then_some(20));
    let list = with_status(db, config, a.status, limit)?;
    let mut rows = Rows::for_format(CUSTOMER_COLUMNS.to_vec(), a.format);
    for (c, s) in &list {
        rows.push(customer_row(c, s));
    }
    match a.format {
        Format::Csv => emit_csv(rows),
        Format::Json => emit(&format!("{}\n", serde_json::to_string_pretty(&rows.json())?)),
        Format::Table => emit(&format!("{}\n", rows.table(3))),
    }
}

pub fn customer(db: &str, config: Option<&Path>, a: &CustomerArgs) -> Result<()> {
    let mut c = super::assess::cached(db, config)?;
    let Some(d) = c.store.customer(&a.id)? else {
        bail!("no customer '{}' in the store", a.id);
    };
    let assessed = winback_app::assess::one(&mut c, &a.id)?;
    let all_reasons = c.store.reasons()?;
    let reasons: Vec<&winback_domain::reasons::Reason> = all_reasons.iter().filter(|r| r.customer == a.id).collect();
    if a.format == Format::Json {
        let mut v = serde_json::to_value(&d)?;
        if let (Some(x), Some(o)) = (&assessed, v.as_object_mut()) {
            o.insert("status".into(), json!({"status": x.status, "explanation": x.status_explanation}));
            o.insert("decision".into(), x.verdict.clone());
            o.insert("reasons".into(), serde_json::to_value(&reasons)?);
        }
        return emit(&format!("{}\n", serde_json::to_string_pretty(&v)?));
    }
    let v = &d.view;
    let mut s = format!(
        "{}{}{}\n",
        v.external_id,
        v.name.as_ref().map_or(String::new(), |n| format!("  {n}")),
        v.email.as_ref().map_or(String::new(), |e| format!("  <{e}>"))
    );
    let consents: Vec<&str> = d.consent.iter().filter(|(_, c)| *c).map(|(k, _)| *k).collect();
    s += &format!(
        "consent: {}{}; preferred channel: {}\n",
        if consents.is_empty() { "none".to_string() } else { consents.join(", ") },
        if d.do_not_contact { " (DO NOT CONTACT)" } else { "" },
        d.preferred_channel.as_deref().unwrap_or("–")
    );
    if !d.flags.is_empty() {
        s += &format!("flags: {}\n", d.flags);
    }
    s += &format!("{} purchases, {} returns, revenue {}\n", v.transactions, v.returns, fmt_num(v.revenue, 2));
    if let Some(x) = &assessed {
        s += &format!("status: {} ({})\n", x.status, x.status_explanation);
        if let Some(decision) = &x.decision {
            s += &format!("decision: {decision}: {}\n", x.why.join("; "));
            for h in &x.held_by {
                s += &format!("HELD by root cause {h}\n");
            }
        }
    }
    for r in &reasons {
        s += &format!(
            "reason ({} {}, {}): {}{}{}\n",
            r.source.name(),
            date_of(r.day),
            r.scope.name(),
            r.category,
            r.detail.as_ref().map_or(String::new(), |d| format!(" — {d}")),
            r.suggestion.as_ref().map_or(String::new(), |x| format!("; suggests: {x}"))
        );
    }
    let mut h =
        Rows::new(vec!["run", "at", "frequency", "p_alive", "expected_purchases", "lifetime_value", "value_at_stake"]);
    for (id, at, sc) in &d.history {
        h.push(vec![
            json!(id),
            json!(at),
            json!(sc.frequency),
            num(sc.p_alive),
            num(sc.expected_purchases),
            sc.lifetime_value.map_or(Value::Null, num),
            num(sc.value_at_stake),
        ]);
    }
    if !d.history.is_empty() {
        s += &format!("scores by run:\n{}\n", h.table(3));
    }
    let mut t = Rows::new(vec!["date", "amount", "return", "transaction", "product"]);
    for (day, amount, ret, id, product) in &d.transactions {
        t.push(vec![
            json!(date_of(*day).to_string()),
            amount.map_or(Value::Null, num),
            json!(if *ret { "yes" } else { "" }),
            json!(id),
            json!(product),
        ]);
    }
    s += &format!("purchase history:\n{}\n", t.table(2));
    if !d.events.is_empty() {
        let mut e = Rows::new(vec!["date", "event", "details"]);
        for (day, kind, attrs) in &d.events {
            e.push(vec![json!(date_of(*day).to_string()), json!(kind), json!(attrs)]);
        }
        s += &format!("events:\n{}\n", e.table(2));
    }
    emit(&s)
}

pub fn export(db: &str, config: Option<&Path>, a: &ExportArgs) -> Result<()> {
    let list = with_status(db, config, a.status, None)?;
    let mut rows = Rows::new(CUSTOMER_COLUMNS.to_vec());
    for (c, s) in &list {
        rows.push(customer_row(c, s));
    }
    if a.format == ExportFormat::Parquet {
        let Some(p) = &a.output else { bail!("--format parquet writes a file: give it with --output FILE") };
        let bytes = winback_ingest::parquet::write_table(&rows.columns, &rows.rows)?;
        std::fs::write(p, bytes).with_context(|| format!("cannot write {}", p.display()))?;
        eprintln!("wrote {} customers to {}", rows.rows.len(), p.display());
        return Ok(());
    }
    let mut out: Box<dyn Write> = match &a.output {
        Some(p) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(p).with_context(|| format!("cannot write {}", p.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    match a.format {
        ExportFormat::Json => writeln!(out, "{}", serde_json::to_string_pretty(&rows.json())?)?,
        ExportFormat::Csv => rows.write_csv(&mut out)?,
        ExportFormat::Parquet => unreachable!("written above"),
    }
    out.flush()?;
    Ok(())
}

pub fn db(db: &str, cmd: &DbCommand) -> Result<()> {
    let DbCommand::Status { format } = cmd;
    let mut store = open(db)?;
    let migrations = store.migration_status()?;
    let counts = store.counts()?;
    let runs = store.runs()?;
    if *format == Format::Json {
        let v = json!({
            "backend": store.backend(),
            "url": redact(db),
            "migrations": migrations,
            "counts": counts.iter().map(|(t, n)| (t.to_string(), json!(n))).collect::<serde_json::Map<_, _>>(),
            "latest_run": runs.last(),
        });
        return emit(&format!("{}\n", serde_json::to_string_pretty(&v)?));
    }
    let mut m = Rows::new(vec!["version", "migration", "applied"]);
    for x in &migrations {
        m.push(vec![json!(x.version), json!(x.name), json!(x.applied_at.clone().unwrap_or_else(|| "pending".into()))]);
    }
    let mut c = Rows::new(vec!["table", "rows"]);
    for (t, n) in &counts {
        c.push(vec![json!(t), json!(n)]);
    }
    let mut s = format!("{} store at {}\n{}\n{}\n", store.backend(), redact(db), m.table(0), c.table(0));
    if let Some(r) = runs.last() {
        s += &format!(
            "latest analysis: run {} at {} ({}, {} customers, as of {})\n",
            r.id,
            r.created_at,
            r.model,
            r.customers,
            date_of(r.observation_end)
        );
    }
    emit(&s)
}
