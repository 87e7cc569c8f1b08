//! Importing files into the store: transactions (any export, streamed), customers
//! and events. Every line ends in one of five outcomes — imported, part of an
//! order on another line, skipped by a stated rule, a duplicate, rejected — and
//! the counts add up to the file's lines. Duplicate, skipped and rejected lines
//! are written to a rejects file beside the store (or where the caller says);
//! failing to write it is a note, not a failed import.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use serde::Serialize;
use winback_domain::import::{build_batch, RowExtras, TextSource};
use winback_ingest::date::DateFormat;
use winback_ingest::exports::Recognised;
use winback_ingest::people::{Parsed, StatedTotals};
use winback_ingest::transactions::{read_log_from, LogOptions, TextColumn};
use winback_store::{ImportMeta, Store, StoreError};

use crate::{AppError, Result};

/// Where the file is and how strict to be.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    pub file: &'a Path,
    /// The store's URL: a SQLite store's folder receives the rejects file.
    pub db_url: &'a str,
    /// Write the rejects file here instead.
    pub rejects: Option<&'a Path>,
    /// Import nothing when more than this share of lines is rejected.
    pub max_reject_rate: f64,
    /// How the file's text is read.
    pub encoding: crate::files::Encoding,
}

/// What the service is doing, for progress displays.
#[derive(Debug)]
pub enum Progress<'a> {
    /// The file is read: what it was recognised as (or the columns used), with
    /// notes on how ambiguous columns were read.
    Read { described: &'a str, notes: &'a [String] },
    /// Rows written to the store so far, of all.
    Storing { done: u64, of: u64 },
}

/// What happened to every line of an imported file.
#[derive(Debug, Clone, Serialize)]
pub struct ImportReport {
    pub file: String,
    pub recognised: Option<Recognised>,
    pub rows: usize,
    pub imported: usize,
    pub part_of_an_order: usize,
    pub skipped: usize,
    pub duplicates: usize,
    pub rejected: usize,
    pub rejects_file: Option<String>,
    /// Skip rules and how many lines each left out, most first.
    pub skipped_by_rule: Vec<(String, usize)>,
    /// The first rejected lines, with their reasons.
    pub first_rejects: Vec<(u64, String)>,
    /// Things the user should know (a rejects file that could not be written,
    /// customers' stated totals against their orders, reasons recorded).
    pub notes: Vec<String>,
    /// What reading a file that is not a platform export said (its encoding,
    /// emails merged, dates as Excel numbers), already told with
    /// [`Progress::Read`]; a platform export's are in `recognised`.
    pub read_notes: Vec<String>,
}

impl ImportReport {
    /// Every line's outcome in words, as the command line and the web page say
    /// it: `5 lines: 3 imported, 1 skipped, 0 duplicates, 1 rejected`.
    pub fn counts(&self) -> String {
        let s = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
        if self.rows == 0 {
            return "no lines after the header: nothing to import".into();
        }
        let mut out = format!("{}: {} imported", s(self.rows, "line"), self.imported);
        if self.part_of_an_order > 0 {
            out += &format!(", {} part of an order on another line", self.part_of_an_order);
        }
        if self.skipped > 0 {
            out += &format!(", {} skipped", self.skipped);
        }
        out + &format!(", {}, {} rejected", s(self.duplicates, "duplicate"), self.rejected)
    }
}

/// The outcome of every line, kept until the rejects file is written.
struct Accounting {
    rows: usize,
    recognised: Option<Recognised>,
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

    /// Refuse the import when too many lines were rejected (after writing them).
    fn check_rate(&self, req: &Request, notes: &mut Vec<String>) -> Result<()> {
        if self.rows > 0 && self.rejected.len() as f64 > req.max_reject_rate * self.rows as f64 {
            self.write_rejects(&rejects_path(req), notes);
            return Err(AppError::TooManyRejects {
                path: req.file.display().to_string(),
                rejected: self.rejected.len(),
                rows: self.rows,
                share: 100.0 * self.rejected.len() as f64 / self.rows as f64,
                max: req.max_reject_rate,
                hint: if self.rejected.iter().any(|(_, r)| r.contains(winback_ingest::NOT_UTF8)) {
                    crate::files::ENCODING_HINT
                } else {
                    ""
                },
            });
        }
        Ok(())
    }

    /// Write the duplicate, skipped and rejected lines, in line order, when there
    /// are any. A failure is a note and does not undo the import.
    fn write_rejects(&self, path: &Path, notes: &mut Vec<String>) -> Option<PathBuf> {
        if self.duplicates.is_empty() && self.stored.is_empty() && self.rejected.is_empty() && self.skipped.is_empty() {
            if path.exists() {
                std::fs::remove_file(path).ok();
            }
            return None;
        }
        match self.try_write(path) {
            Ok(()) => Some(path.to_path_buf()),
            Err(e) => {
                notes.push(format!(
                    "warning: could not write the list of duplicate, skipped and rejected lines to {}: {e}; pass --rejects FILE to write it elsewhere",
                    path.display()
                ));
                None
            }
        }
    }

    fn try_write(&self, path: &Path) -> std::result::Result<(), csv::Error> {
        // four lists, each in line order, merged as they are written
        let mut lists: [Box<dyn Iterator<Item = (u64, &str, &str)>>; 4] = [
            Box::new(self.duplicates.iter().map(|(l, r)| (*l, "duplicate", r.as_str()))),
            Box::new(self.stored.iter().map(|&l| (l, "duplicate", ALREADY_STORED))),
            Box::new(self.skipped.iter().map(|(l, r)| (*l, "skipped", r.as_str()))),
            Box::new(self.rejected.iter().map(|(l, r)| (*l, "rejected", r.as_str()))),
        ];
        let mut heads: Vec<Option<(u64, &str, &str)>> = lists.iter_mut().map(|l| l.next()).collect();
        let mut w = csv::Writer::from_path(path)?;
        w.write_record(["line", "outcome", "reason"])?;
        while let Some((i, _)) = heads.iter().enumerate().filter_map(|(i, h)| h.map(|h| (i, h.0))).min_by_key(|x| x.1) {
            if let Some((l, o, r)) = heads[i] {
                w.write_record([l.to_string().as_str(), o, &csv_safe(r)])?;
            }
            heads[i] = lists[i].next();
        }
        w.flush()?;
        Ok(())
    }

    fn report(self, file: &Path, rejects: Option<PathBuf>, notes: Vec<String>) -> ImportReport {
        let mut by_rule: BTreeMap<String, usize> = BTreeMap::new();
        for (_, r) in &self.skipped {
            *by_rule.entry(rule_of(r)).or_default() += 1;
        }
        let mut skipped_by_rule: Vec<(String, usize)> = by_rule.into_iter().collect();
        skipped_by_rule.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        ImportReport {
            file: file.display().to_string(),
            recognised: self.recognised.clone(),
            rows: self.rows,
            imported: self.imported,
            part_of_an_order: self.folded,
            skipped: self.skipped.len(),
            duplicates: self.duplicate_count(),
            rejected: self.rejected.len(),
            rejects_file: rejects.map(|p| p.display().to_string()),
            skipped_by_rule,
            first_rejects: self.rejected.iter().take(10).cloned().collect(),
            notes,
            read_notes: Vec::new(),
        }
    }
}

/// A text cell a spreadsheet will not run as a formula (OWASP: a leading `'`
/// for cells starting with `= + - @`, tab or CR), plain numbers left alone.
pub fn csv_safe(s: &str) -> std::borrow::Cow<'_, str> {
    let risky = s.starts_with(['=', '+', '-', '@', '\t', '\r']);
    if risky && s.parse::<f64>().map_or(true, |v| !v.is_finite() || s.contains(['e', 'E'])) {
        std::borrow::Cow::Owned(format!("'{s}"))
    } else {
        std::borrow::Cow::Borrowed(s)
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

/// Where the list of lines goes: the request's path, else beside a SQLite store
/// (the input's folder may be read-only or shared), else the working folder.
pub fn rejects_path(req: &Request) -> PathBuf {
    if let Some(p) = req.rejects {
        return p.to_path_buf();
    }
    // (`-`, standard input, has no name of its own)
    let file = req.file.file_name().filter(|f| *f != "-");
    let name = format!("{}.rejects.csv", file.map_or("import".into(), |f| f.to_string_lossy()));
    match winback_store::sqlite_path(req.db_url).and_then(|p| p.parent().map(Path::to_path_buf)) {
        Some(d) if !d.as_os_str().is_empty() => d.join(name),
        _ => PathBuf::from(name),
    }
}

fn meta(kind: &'static str, file: &Path, rows: usize, rejected: usize, dup_in_file: usize) -> ImportMeta {
    ImportMeta { kind, source: file.display().to_string(), rows, rejected, duplicates_in_file: dup_in_file }
}

/// Import a transaction file: any export, read as a stream. The store is
/// opened (by `open`) only once the file is read and accepted.
pub fn transactions(
    req: &Request,
    opts: &LogOptions,
    open: &mut dyn FnMut() -> std::result::Result<Box<dyn Store>, StoreError>,
    progress: &mut dyn FnMut(Progress),
) -> Result<ImportReport> {
    let (data, decoding) = crate::files::open_text(req.file, req.encoding)?;
    let path = || req.file.display().to_string();
    let (log, x, mut report) = read_log_from(data, opts).map_err(|source| AppError::Ingest { path: path(), source })?;
    if let Some(note) = decoding.note() {
        match &mut report.recognised {
            Some(r) => r.notes.insert(0, note.into()),
            None => report.notes.insert(0, note.into()),
        }
    }
    let described = match &report.recognised {
        Some(r) => format!("{}: {}", r.name, r.summary),
        None => report.mapping.to_string(),
    };
    progress(Progress::Read {
        described: &described,
        notes: report.recognised.as_ref().map_or(&report.notes, |r| &r.notes),
    });
    // lines that gave two rows (a sale and its refund): a duplicate only when both are
    let two_rows: HashSet<u32> = x.lines.windows(2).filter(|w| w[0] == w[1]).map(|w| w[0]).collect();
    fn src(c: &mut Option<TextColumn>) -> Option<&mut dyn TextSource> {
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
    drop(x);
    let mut acc = Accounting::new(report.rows);
    acc.recognised = report.recognised.clone();
    // line items of generic files fold into the first line of their order id
    acc.folded = report.folded + batch.folded.len();
    acc.skipped = report.skipped.iter().map(|r| (r.line, r.reason.clone())).collect();
    acc.duplicates = batch.duplicates.iter().map(|d| (d.line, d.reason.clone())).collect();
    acc.rejected = report.rejected.iter().map(|r| (r.line, r.reason.clone())).collect();
    let mut notes = Vec::new();
    acc.check_rate(req, &mut notes)?;
    let batch_folded = batch.folded.len();
    let mut store = open()?;
    let total = batch.rows.len() as u64;
    let meta = meta("transactions", req.file, report.rows, report.rejected.len(), batch.duplicates.len());
    let out = store.import_transactions(batch, &meta, &mut |n| progress(Progress::Storing { done: n, of: total }))?;
    acc.stored = out.duplicate_lines;
    if !two_rows.is_empty() {
        collapse_two_row_lines(&mut acc, &two_rows);
    }
    acc.imported = report.lines_read() - acc.duplicate_count() - batch_folded;
    let rejects = acc.write_rejects(&rejects_path(req), &mut notes);
    let mut out = acc.report(req.file, rejects, notes);
    out.read_notes = report.notes;
    Ok(out)
}

/// A line read into a sale and its refund is a duplicate when both rows are:
/// list it once; when only one is, the line counts as imported.
fn collapse_two_row_lines(acc: &mut Accounting, two_rows: &HashSet<u32>) {
    let mut count: HashMap<u64, usize> = HashMap::new();
    for l in acc.duplicates.iter().map(|d| d.0).chain(acc.stored.iter().copied()) {
        if u32::try_from(l).is_ok_and(|l| two_rows.contains(&l)) {
            *count.entry(l).or_default() += 1;
        }
    }
    let keep = |l: u64, seen: &mut HashSet<u64>| match count.get(&l) {
        None => true,
        Some(2..) => seen.insert(l),
        Some(_) => false,
    };
    let mut seen = HashSet::new();
    acc.duplicates.retain(|d| keep(d.0, &mut seen));
    acc.stored.retain(|&l| keep(l, &mut seen));
}

/// Customers or events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum People {
    Customers,
    Events,
}

/// Import a customers or events file (read whole: CRM exports are small).
pub fn people(
    req: &Request,
    kind: People,
    date_format: &DateFormat,
    open: &mut dyn FnMut() -> std::result::Result<Box<dyn Store>, StoreError>,
    progress: &mut dyn FnMut(Progress),
) -> Result<ImportReport> {
    let (data, note) = crate::files::read_text(req.file, req.encoding)?;
    let ingest = |source| AppError::Ingest { path: req.file.display().to_string(), source };
    let mut notes: Vec<String> = note.into_iter().map(String::from).collect();
    let (mut acc, out) = match kind {
        People::Customers => {
            let p = winback_ingest::people::read_customers(&data, date_format).map_err(ingest)?;
            let acc = accounting(&p, progress);
            acc.check_rate(req, &mut notes)?;
            let mut store = open()?;
            let out = store.import_customers(&p.rows, &meta("customers", req.file, p.total, acc.rejected.len(), 0))?;
            if !p.stated.is_empty() {
                notes.extend(check_stated_totals(store.as_mut(), &p.stated)?);
            }
            if !p.reasons.is_empty() {
                let r = store.add_reasons(&p.reasons)?;
                notes.push(format!(
                    "{} cancellation reasons recorded ({} already stored)",
                    r.ids.len(),
                    r.duplicate_lines.len()
                ));
            }
            (acc, out)
        }
        People::Events => {
            let p = winback_ingest::people::read_events(&data, date_format).map_err(ingest)?;
            let acc = accounting(&p, progress);
            acc.check_rate(req, &mut notes)?;
            let mut store = open()?;
            let out = store.import_events(&p.rows, &meta("events", req.file, p.total, acc.rejected.len(), 0))?;
            (acc, out)
        }
    };
    acc.stored = out.duplicate_lines;
    acc.imported = out.imported;
    let rejects = acc.write_rejects(&rejects_path(req), &mut notes);
    Ok(acc.report(req.file, rejects, notes))
}

fn accounting<T>(p: &Parsed<T>, progress: &mut dyn FnMut(Progress)) -> Accounting {
    if let Some(r) = &p.recognised {
        progress(Progress::Read { described: &format!("{}: {}", r.name, r.summary), notes: &r.notes });
    }
    let mut acc = Accounting::new(p.total);
    acc.recognised = p.recognised.clone();
    acc.skipped = p.skipped.iter().map(|r| (r.line, r.reason.clone())).collect();
    acc.rejected = p.rejected.iter().map(|r| (r.line, r.reason.clone())).collect();
    acc
}

/// Compare what a customers export says each customer spent and ordered with
/// the orders imported for them; the notes say how far they agree.
fn check_stated_totals(store: &mut dyn Store, stated: &[StatedTotals]) -> Result<Vec<String>> {
    let facts = store.customer_facts()?;
    let by_id: HashMap<&str, &winback_domain::facts::CustomerFacts> =
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
    let mut notes = Vec::new();
    if compared == 0 {
        return Ok(notes);
    }
    notes.push(format!(
        "Total Spent and Total Orders agree with the imported orders for {} of {compared} customers with orders in the store",
        compared - differ.len()
    ));
    for (s, net, n) in differ.iter().take(5) {
        notes.push(format!(
            "  line {}: {}: the file says {:.2} over {} orders, the store has {net:.2} over {n}",
            s.line, s.customer, s.spent, s.orders
        ));
    }
    if differ.len() > 5 {
        notes
            .push(format!("  … and {} more (orders outside the imported export, or cancelled ones)", differ.len() - 5));
    }
    Ok(notes)
}

/// What a file looks like before it is imported: its columns, first rows, and
/// the platform export it was recognised as (with what it holds).
#[derive(Debug, Clone, Serialize)]
pub struct FilePreview {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
    /// "Shopify orders export", …
    pub recognised: Option<String>,
    /// "transactions", "customers", or what to import instead.
    pub holds: Option<String>,
    /// The kind of import that suits it: "transactions" or "customers".
    pub suggested: &'static str,
    /// Whether its start reads as a Windows code page rather than UTF-8 (as
    /// the import will read it, unless told otherwise).
    pub windows_1252: bool,
}

/// Read the header and the first `n` rows of a file (CSV, TSV, .gz, Parquet).
pub fn preview(path: &Path, n: usize) -> Result<FilePreview> {
    use std::io::Read;
    let mut head = Vec::new();
    let (text, decoding) = crate::files::open_text(path, crate::files::Encoding::Auto)?;
    text.take(256 * 1024)
        .read_to_end(&mut head)
        .map_err(|e| AppError::File { path: path.display().to_string(), message: format!("cannot read it ({e})") })?;
    let delim = match winback_ingest::split::detect_delimiter(&head) {
        winback_ingest::split::Delimiter::Byte(b) => b,
        _ => b',',
    };
    // (an Excel `sep=` line is not the header)
    let start = winback_ingest::split::excel_sep(&head).map_or(0, |(_, next)| next);
    let mut rd =
        csv::ReaderBuilder::new().delimiter(delim).flexible(true).has_headers(false).from_reader(&head[start..]);
    let mut records = rd.records().filter_map(std::result::Result::ok);
    let columns: Vec<String> = records.next().map(|r| r.iter().map(str::to_string).collect()).unwrap_or_default();
    // the last row read may be cut at the 256 KiB mark: shown rows stop before it
    let rows: Vec<Vec<String>> =
        records.take(n).map(|r| r.iter().map(|c| c.chars().take(80).collect()).collect()).collect();
    let norm: Vec<String> = columns.iter().map(|c| winback_ingest::transactions::normalise(c.as_bytes())).collect();
    let platform = winback_ingest::exports::recognise(&norm);
    let (holds, suggested) = match platform.map(|p| p.holds()) {
        Some(winback_ingest::exports::Holds::Customers) => (Some("customers".to_string()), "customers"),
        Some(winback_ingest::exports::Holds::Other(what)) => (Some(what.to_string()), "transactions"),
        Some(winback_ingest::exports::Holds::Transactions) => (Some("transactions".to_string()), "transactions"),
        None => (
            None,
            if norm.iter().any(|c| c == "email" || c == "e_mail")
                && !norm.iter().any(|c| c.contains("amount") || c.contains("total") || c.contains("betrag"))
            {
                "customers"
            } else {
                "transactions"
            },
        ),
    };
    Ok(FilePreview {
        columns,
        rows,
        recognised: platform.map(|p| p.name().to_string()),
        holds,
        suggested,
        windows_1252: decoding.note().is_some(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_drop_what_names_one_order() {
        assert_eq!(rule_of("order #1007 has no customer email"), "has no customer email");
        assert_eq!(rule_of("invoice 536366: no CustomerID (a guest sale)"), "no CustomerID (a guest sale)");
        // the line number last, so the rule still reads as a sentence
        assert_eq!(
            rule_of("another subscription of the same customer, folded into their line 31"),
            "another subscription of the same customer, folded into their line"
        );
    }

    #[test]
    fn counts_read_as_a_sentence() {
        let mut r = Accounting::new(1).report(Path::new("f.csv"), None, Vec::new());
        r.imported = 1;
        assert_eq!(r.counts(), "1 line: 1 imported, 0 duplicates, 0 rejected");
        (r.rows, r.part_of_an_order, r.skipped, r.duplicates, r.rejected) = (7, 2, 1, 1, 2);
        assert_eq!(
            r.counts(),
            "7 lines: 1 imported, 2 part of an order on another line, 1 skipped, 1 duplicate, 2 rejected"
        );
        r.rows = 0;
        assert_eq!(r.counts(), "no lines after the header: nothing to import");
    }

    #[test]
    fn formulas_are_escaped_numbers_are_not() {
        assert_eq!(csv_safe("=1+2"), "'=1+2");
        assert_eq!(csv_safe("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv_safe("-12.5"), "-12.5");
        assert_eq!(csv_safe("-1e5"), "'-1e5");
        assert_eq!(csv_safe("plain"), "plain");
    }

    #[test]
    fn rejects_go_beside_a_sqlite_store() {
        let req = Request {
            file: Path::new("/in/orders.csv"),
            db_url: "/data/w.db",
            rejects: None,
            max_reject_rate: 0.01,
            encoding: Default::default(),
        };
        assert_eq!(rejects_path(&req), PathBuf::from("/data/orders.csv.rejects.csv"));
        let pg = Request { db_url: "postgres://u@h/db", ..req.clone() };
        assert_eq!(rejects_path(&pg), PathBuf::from("orders.csv.rejects.csv"));
        let stdin = Request { file: Path::new("-"), ..req.clone() };
        assert_eq!(rejects_path(&stdin), PathBuf::from("/data/import.rejects.csv"));
    }
}
