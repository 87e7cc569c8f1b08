//! Commands that work on the store: import, analyze, customers, customer, export, db.

use std::io::Write;
use std::path::Path;

use anyhow::{bail, Context, Result};
use serde_json::{json, Value};
use winback_domain::analysis::{fit_purchase, fit_spend};
use winback_domain::import::{build_batch, RowExtras, TextSource};
use winback_domain::period::{date_of, day_number};
use winback_domain::score::{score, ScoreSettings};
use winback_domain::summary::{summarise, SummaryOptions};
use winback_ingest::date::DateFormat;
use winback_ingest::transactions::{read_log_from, LogOptions};
use winback_store::{CustomerView, ImportMeta, NewRun, ScoreRow, Store};

use crate::cli::{
    AnalyzeArgs, CustomerArgs, CustomersArgs, DbCommand, ExportArgs, ExportFormat, Format, ImportCommand,
    ImportFileArgs, ImportTransactionsArgs, Status,
};
use crate::input::read_file;
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

/// What happened to every line of an imported file: imported, part of an order
/// on another line, skipped by a stated rule, a duplicate, or rejected. The five
/// counts add up to the file's lines.
struct Accounting {
    rows: usize,
    /// What the file was recognised as, and its one-line summary.
    recognised: Option<winback_ingest::exports::Recognised>,
    imported: usize,
    folded: usize,
    skipped: Vec<(u64, String)>,
    /// Duplicates within the file, with their reason.
    duplicates: Vec<(u64, String)>,
    /// Lines already in the store: one reason for all, so no text per line (a
    /// re-import of 10M lines held 640 MB of copies of it).
    stored: Vec<u64>,
    rejected: Vec<(u64, String)>,
}

const ALREADY_STORED: &str = "already in the store";

impl Accounting {
    fn new(rows: usize) -> Self {
        Accounting {
            rows,
            recognised: None,
            imported: 0,
            folded: 0,
            skipped: Vec::new(),
            duplicates: Vec::new(),
            stored: Vec::new(),
            rejected: Vec::new(),
        }
    }

    fn duplicate_count(&self) -> usize {
        self.duplicates.len() + self.stored.len()
    }

    /// Where the list of lines goes: `--rejects`, else beside the store (the
    /// input's folder may be read-only or shared), else the working folder.
    fn rejects_path(file: &Path, chosen: Option<&Path>, db: &str) -> std::path::PathBuf {
        if let Some(p) = chosen {
            return p.to_path_buf();
        }
        let name = format!("{}.rejects.csv", file.file_name().map_or("import".into(), |f| f.to_string_lossy()));
        let dir = winback_store::sqlite_path(db).and_then(|p| p.parent().map(Path::to_path_buf));
        match dir {
            Some(d) if !d.as_os_str().is_empty() => d.join(name),
            _ => std::path::PathBuf::from(name),
        }
    }

    /// Write the duplicate, skipped and rejected lines, in line order, when
    /// there are any. A failure is reported and does not undo the import.
    fn write_rejects(&self, path: &Path) -> Option<std::path::PathBuf> {
        if self.duplicates.is_empty() && self.stored.is_empty() && self.rejected.is_empty() && self.skipped.is_empty() {
            if path.exists() {
                std::fs::remove_file(path).ok();
            }
            return None;
        }
        match self.try_write(path) {
            Ok(()) => Some(path.to_path_buf()),
            Err(e) => {
                eprintln!(
                    "warning: could not write the list of duplicate, skipped and rejected lines to {}: {e:#}; pass --rejects FILE to write it elsewhere",
                    path.display()
                );
                None
            }
        }
    }

    fn try_write(&self, path: &Path) -> Result<()> {
        // four lists, each in line order, merged as they are written
        let mut lists: [Box<dyn Iterator<Item = (u64, &str, &str)>>; 4] = [
            Box::new(self.duplicates.iter().map(|(l, r)| (*l, "duplicate", r.as_str()))),
            Box::new(self.stored.iter().map(|&l| (l, "duplicate", ALREADY_STORED))),
            Box::new(self.skipped.iter().map(|(l, r)| (*l, "skipped", r.as_str()))),
            Box::new(self.rejected.iter().map(|(l, r)| (*l, "rejected", r.as_str()))),
        ];
        let mut heads: Vec<Option<(u64, &str, &str)>> = lists.iter_mut().map(|l| l.next()).collect();
        let mut w = csv::Writer::from_path(path).with_context(|| format!("cannot write {}", path.display()))?;
        w.write_record(["line", "outcome", "reason"])?;
        while let Some((i, _)) = heads.iter().enumerate().filter_map(|(i, h)| h.map(|h| (i, h.0))).min_by_key(|x| x.1) {
            if let Some((l, o, r)) = heads[i] {
                w.write_record([l.to_string().as_str(), o, &crate::output::csv_safe(r)])?;
            }
            heads[i] = lists[i].next();
        }
        w.flush()?;
        Ok(())
    }

    fn print(&self, file: &Path, format: Format, rejects: Option<&Path>) -> Result<()> {
        let v = json!({
            "file": file.display().to_string(),
            "recognised": self.recognised.as_ref().map(|r| json!({"platform": r.platform, "name": r.name, "summary": r.summary, "notes": r.notes})),
            "rows": self.rows,
            "imported": self.imported,
            "part_of_an_order": self.folded,
            "skipped": self.skipped.len(),
            "duplicates": self.duplicate_count(),
            "rejected": self.rejected.len(),
            "rejects_file": rejects.map(|p| p.display().to_string()),
        });
        match format {
            Format::Json => emit(&format!("{}\n", serde_json::to_string_pretty(&v)?)),
            _ => {
                let mut s = format!("{}: {} lines: {} imported", file.display(), self.rows, self.imported);
                if self.folded > 0 {
                    s += &format!(", {} part of an order on another line", self.folded);
                }
                if !self.skipped.is_empty() {
                    s += &format!(", {} skipped", self.skipped.len());
                }
                s += &format!(", {} duplicates, {} rejected\n", self.duplicate_count(), self.rejected.len());
                if !self.skipped.is_empty() {
                    // the rules, most frequent first
                    let mut by_rule: std::collections::BTreeMap<String, usize> = std::collections::BTreeMap::new();
                    for (_, r) in &self.skipped {
                        *by_rule.entry(rule_of(r)).or_default() += 1;
                    }
                    let mut rules: Vec<_> = by_rule.into_iter().collect();
                    rules.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
                    s += "  skipped:";
                    for (i, (r, n)) in rules.iter().take(6).enumerate() {
                        s += &format!("{} {n} {r}", if i == 0 { "" } else { ";" });
                    }
                    s += "\n";
                }
                for (l, r) in self.rejected.iter().take(10) {
                    s += &format!("  line {l}: {r}\n");
                }
                if let Some(p) = rejects {
                    s += &format!("every duplicate, skipped and rejected line is listed in {}\n", p.display());
                }
                emit(&s)
            }
        }
    }
}

/// A skip reason without the order or invoice it names, to count lines by rule.
fn rule_of(reason: &str) -> String {
    let words: Vec<&str> = reason
        .split_whitespace()
        .filter(|w| !w.chars().any(|c| c.is_ascii_digit() || c == '#' || c == '_' || c == '@'))
        .collect();
    words.join(" ").trim_start_matches("order ").trim_start_matches("invoice ").trim_start_matches(": ").to_owned()
}

fn check_reject_rate(rejected: usize, rows: usize, max: f64, file: &Path) -> Result<()> {
    if rows > 0 && rejected as f64 > max * rows as f64 {
        bail!(
            "{}: {rejected} of {rows} lines ({:.1}%) could not be read, more than --max-reject-rate {}; nothing was imported (see the rejects file)",
            file.display(),
            100.0 * rejected as f64 / rows as f64,
            max
        );
    }
    Ok(())
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
    let data = crate::input::open_stream(&a.file)?;
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
    let t0 = std::time::Instant::now();
    let (log, x, report) = read_log_from(data, &opts).with_context(|| format!("reading {}", a.file.display()))?;
    tracing::info!(rows = report.rows, secs = t0.elapsed().as_secs_f64(), mem = memrep(), "file parsed");
    match &report.recognised {
        Some(r) => {
            eprintln!("{}: {}: {}", a.file.display(), r.name, r.summary);
            for n in &r.notes {
                eprintln!("  {n}");
            }
        }
        None => eprintln!("{}: {}", a.file.display(), report.mapping),
    }
    // lines that gave two rows (a sale and its refund): a duplicate only when both are
    let two_rows: std::collections::HashSet<u32> = x.lines.windows(2).filter(|w| w[0] == w[1]).map(|w| w[0]).collect();
    fn src(c: &mut Option<winback_ingest::transactions::TextColumn>) -> Option<&mut dyn TextSource> {
        c.as_mut().map(|c| c as &mut dyn TextSource)
    }
    let mut x = x;
    let mut extras = RowExtras {
        lines: &x.lines,
        txn_id: src(&mut x.txn_id),
        cost: x.cost.as_deref(),
        returned: x.returned.as_deref(),
        channel: src(&mut x.channel),
        store: src(&mut x.store),
        product: src(&mut x.product),
    };
    let batch = build_batch(log, &mut extras);
    tracing::info!(secs = t0.elapsed().as_secs_f64(), mem = memrep(), "batch built");
    drop(x);
    let mut acc = Accounting::new(report.rows);
    acc.recognised = report.recognised.clone();
    acc.folded = report.folded;
    acc.skipped = report.skipped.iter().map(|r| (r.line, r.reason.clone())).collect();
    acc.duplicates = batch.duplicates.iter().map(|d| (d.line, d.reason.clone())).collect();
    acc.rejected = report.rejected.iter().map(|r| (r.line, r.reason.clone())).collect();
    let rejects_path = Accounting::rejects_path(&a.file, a.rejects.as_deref(), db);
    if let Err(e) = check_reject_rate(acc.rejected.len(), acc.rows, a.max_reject_rate, &a.file) {
        acc.write_rejects(&rejects_path);
        return Err(e);
    }
    let mut store = open(db)?;
    let pb = crate::progress::bar(batch.rows.len() as u64, "rows");
    let meta = ImportMeta {
        kind: "transactions",
        source: a.file.display().to_string(),
        rows: report.rows,
        rejected: report.rejected.len(),
        duplicates_in_file: batch.duplicates.len(),
    };
    let out = store.import_transactions(batch, &meta, &mut |n| pb.set_position(n))?;
    tracing::info!(mem = memrep(), "stored");
    pb.finish_and_clear();
    acc.stored = out.duplicate_lines;
    if !two_rows.is_empty() {
        collapse_two_row_lines(&mut acc, &two_rows);
    }
    acc.imported = report.lines_read() - acc.duplicate_count();
    let rejects = acc.write_rejects(&rejects_path);
    acc.print(&a.file, a.format, rejects.as_deref())
}

/// A line read into a sale and its refund is a duplicate when both rows are:
/// list it once; when only one is, the line counts as imported.
fn collapse_two_row_lines(acc: &mut Accounting, two_rows: &std::collections::HashSet<u32>) {
    let mut count: std::collections::HashMap<u64, usize> = std::collections::HashMap::new();
    for l in acc.duplicates.iter().map(|d| d.0).chain(acc.stored.iter().copied()) {
        if u32::try_from(l).is_ok_and(|l| two_rows.contains(&l)) {
            *count.entry(l).or_default() += 1;
        }
    }
    let keep = |l: u64, seen: &mut std::collections::HashSet<u64>| match count.get(&l) {
        None => true,
        Some(2..) => seen.insert(l),
        Some(_) => false,
    };
    let mut seen = std::collections::HashSet::new();
    acc.duplicates.retain(|d| keep(d.0, &mut seen));
    acc.stored.retain(|&l| keep(l, &mut seen));
}

fn import_people(db: &str, a: &ImportFileArgs, customers: bool) -> Result<()> {
    let data = read_file(&a.file)?;
    let fmt = DateFormat::from_cli(a.date_format.as_deref());
    let rejects_path = Accounting::rejects_path(&a.file, a.rejects.as_deref(), db);
    let mut store;
    let (mut acc, out) = if customers {
        let p = winback_ingest::people::read_customers(&data, &fmt)
            .with_context(|| format!("reading {}", a.file.display()))?;
        let acc = people_accounting(&p, &a.file);
        check_early(&a.file, &acc, a.max_reject_rate, &rejects_path)?;
        store = open(db)?;
        let meta = meta("customers", &a.file, p.total, acc.rejected.len());
        let out = store.import_customers(&p.rows, &meta)?;
        if !p.stated.is_empty() {
            check_stated_totals(store.as_mut(), &p.stated, &a.file)?;
        }
        if !p.reasons.is_empty() {
            let r = store.add_reasons(&p.reasons)?;
            eprintln!(
                "{}: {} cancellation reasons recorded ({} already stored)",
                a.file.display(),
                r.ids.len(),
                r.duplicate_lines.len()
            );
        }
        (acc, out)
    } else {
        let p = winback_ingest::people::read_events(&data, &fmt)
            .with_context(|| format!("reading {}", a.file.display()))?;
        let acc = people_accounting(&p, &a.file);
        check_early(&a.file, &acc, a.max_reject_rate, &rejects_path)?;
        store = open(db)?;
        let meta = meta("events", &a.file, p.total, acc.rejected.len());
        (acc, store.import_events(&p.rows, &meta)?)
    };
    acc.stored = out.duplicate_lines;
    acc.imported = out.imported;
    let rejects = acc.write_rejects(&rejects_path);
    acc.print(&a.file, a.format, rejects.as_deref())
}

/// Compare what a customers export says each customer spent and ordered with
/// the orders imported for them, and say how far they agree.
fn check_stated_totals(
    store: &mut dyn Store,
    stated: &[winback_ingest::people::StatedTotals],
    file: &Path,
) -> Result<()> {
    let facts = store.customer_facts()?;
    let by_id: std::collections::HashMap<&str, &winback_domain::facts::CustomerFacts> =
        facts.customers.iter().map(|f| (f.external_id.as_str(), f)).collect();
    let (mut compared, mut differ) = (0usize, Vec::new());
    for s in stated {
        let Some(f) = by_id.get(s.customer.as_str()).filter(|f| f.purchases > 0 || f.returns > 0) else { continue };
        compared += 1;
        let net = f.net_revenue();
        if (net - s.spent).abs() > 0.01 || f.purchases != i64::from(s.orders) {
            differ.push((s, net, f.purchases));
        }
    }
    if compared == 0 {
        return Ok(());
    }
    eprintln!(
        "{}: Total Spent and Total Orders agree with the imported orders for {} of {compared} customers with orders in the store",
        file.display(),
        compared - differ.len()
    );
    for (s, net, n) in differ.iter().take(5) {
        eprintln!(
            "  line {}: {}: the file says {:.2} over {} orders, the store has {net:.2} over {n}",
            s.line, s.customer, s.spent, s.orders
        );
    }
    if differ.len() > 5 {
        eprintln!("  … and {} more (orders outside the imported export, or cancelled ones)", differ.len() - 5);
    }
    Ok(())
}

fn people_accounting<T>(p: &winback_ingest::people::Parsed<T>, file: &Path) -> Accounting {
    if let Some(r) = &p.recognised {
        eprintln!("{}: {}: {}", file.display(), r.name, r.summary);
        for n in &r.notes {
            eprintln!("  {n}");
        }
    }
    let mut acc = Accounting::new(p.total);
    acc.recognised = p.recognised.clone();
    acc.skipped = p.skipped.iter().map(|r| (r.line, r.reason.clone())).collect();
    acc.rejected = p.rejected.iter().map(|r| (r.line, r.reason.clone())).collect();
    acc
}

fn meta(kind: &'static str, file: &Path, rows: usize, rejected: usize) -> ImportMeta {
    ImportMeta { kind, source: file.display().to_string(), rows, rejected, duplicates_in_file: 0 }
}

fn check_early(file: &Path, acc: &Accounting, max: f64, rejects: &Path) -> Result<()> {
    if let Err(e) = check_reject_rate(acc.rejected.len(), acc.rows, max, file) {
        acc.write_rejects(rejects);
        return Err(e);
    }
    Ok(())
}

/// A recorded analysis run, for printing.
pub struct Analysis {
    pub id: i64,
    pub end: chrono::NaiveDate,
    pub customers: usize,
    pub lost: usize,
    pub returns: usize,
    pub fit: winback_domain::analysis::FitReport,
    pub spend: Option<winback_domain::analysis::FitReport>,
}

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

/// Fit, score and record a run without printing.
pub fn run_analysis(db: &str, a: &AnalyzeArgs) -> Result<Analysis> {
    let Some(kind) = a.model.purchase() else {
        bail!("analyze fits a purchase model: bgnbd, paretonbd or mbgnbd");
    };
    let t0 = std::time::Instant::now();
    let mut store = open(db)?;
    let stored = store.transaction_log()?;
    tracing::info!(rows = stored.log.len(), secs = t0.elapsed().as_secs_f64(), "transactions loaded");
    if stored.log.is_empty() {
        bail!("the store has no purchases yet: run `winback import transactions FILE` first");
    }
    let end = a.observation_end.unwrap_or_else(|| date_of(stored.log.day.iter().copied().max().unwrap_or_default()));
    let opts = SummaryOptions { period: a.period, time_unit: a.time_unit, observation_end: end, calibration_end: None };
    let summary = summarise(&stored.log, &opts)?;
    tracing::info!(customers = summary.customers.len(), secs = t0.elapsed().as_secs_f64(), "summarised");
    let fit_opts = winback_stats::fit::FitOptions::default();
    let fitted = fit_purchase(kind, &summary.customers, &fit_opts)?;
    let spend = match stored.log.amount {
        Some(_) => match fit_spend(&summary.customers, &fit_opts) {
            Ok(s) if !s.1.converged => {
                eprintln!(
                    "note: the Gamma-Gamma spend model did not converge ({}); expected spend falls back to each customer's own mean",
                    s.1.message
                );
                None
            }
            Ok(s) => Some(s),
            Err(e) => {
                eprintln!("note: no spend model ({e})");
                None
            }
        },
        None => None,
    };
    let unit = summary.time_unit;
    let horizon = a.horizon.unwrap_or((365.0 / unit.days()).round());
    let settings =
        ScoreSettings { horizon, margin: a.margin, annual_discount_rate: a.discount_rate, unit_days: unit.days() };
    let scores = score(fitted.model.as_ref(), spend.as_ref().map(|s| &s.0), &summary.customers, &settings);
    let rows: Vec<ScoreRow> = summary
        .customers
        .iter()
        .zip(&scores)
        .map(|(c, s)| ScoreRow {
            customer_id: stored.customer_ids[c.customer as usize],
            frequency: i64::from(c.frequency),
            recency: c.recency,
            t: c.t,
            monetary_value: c.monetary_value,
            p_alive: s.p_alive,
            expected_purchases: s.expected_purchases,
            expected_spend: s.expected_spend,
            lifetime_value: s.lifetime_value,
            value_at_stake: s.value_at_stake,
        })
        .collect();
    let run = NewRun {
        model: a.model.name().into(),
        params: fit_json(&fitted.report).to_string(),
        spend_params: spend.as_ref().map(|s| fit_json(&s.1).to_string()),
        log_likelihood: fitted.report.log_likelihood,
        customers: rows.len() as i64,
        converged: fitted.report.converged,
        period: a.period.name().into(),
        time_unit: unit.name().into(),
        observation_end: day_number(end),
        horizon,
    };
    tracing::info!(secs = t0.elapsed().as_secs_f64(), "fitted and scored");
    let id = store.save_run(&run, &rows)?;
    tracing::info!(secs = t0.elapsed().as_secs_f64(), "run saved");
    let lost = scores.iter().filter(|s| s.p_alive < 0.5).count();
    Ok(Analysis {
        id,
        end,
        customers: rows.len(),
        lost,
        returns: stored.returns,
        fit: fitted.report,
        spend: spend.map(|s| s.1),
    })
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
    let mut w = super::assess::load(db, config)?;
    let Some(d) = w.store.customer(&a.id)? else {
        bail!("no customer '{}' in the store", a.id);
    };
    let k = w.facts.customers.iter().position(|f| f.external_id == a.id);
    let assessed = k.map(|k| &w.assessed[k]);
    let reasons: Vec<&winback_domain::reasons::Reason> = w.reasons.iter().filter(|r| r.customer == a.id).collect();
    if a.format == Format::Json {
        let mut v = serde_json::to_value(&d)?;
        if let (Some(x), Some(o)) = (assessed, v.as_object_mut()) {
            o.insert("status".into(), json!({"status": x.status.status.name(), "explanation": x.status.explanation}));
            o.insert("decision".into(), serde_json::to_value(&x.verdict)?);
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
    if let Some(x) = assessed {
        s += &format!("status: {} ({})\n", x.status.status.name(), x.status.explanation);
        if let Some(v) = &x.verdict {
            let why: Vec<&str> = v.why.iter().map(|y| y.text.as_str()).collect();
            s += &format!("decision: {}: {}\n", v.decision.name(), why.join("; "));
            for h in &v.held_by {
                s += &format!("HELD by root cause #{} {} ({})\n", h.cause, h.title, h.status.name());
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
