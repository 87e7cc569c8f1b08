//! `winback import transactions|customers|events`: the file and options in,
//! the application layer's import called, its accounting printed.

use std::path::Path;

use anyhow::Result;
use serde_json::json;
use winback_ingest::date::DateFormat;
use winback_ingest::transactions::LogOptions;
use winback_store::Store;

use crate::cli::{Format, ImportCommand, ImportFileArgs, ImportTransactionsArgs};
use crate::output::emit;

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
        keep_lines: true,
        generic: m.generic,
        size_hint: std::fs::metadata(&a.file).ok().filter(|m| m.is_file()).map(|m| m.len()),
    };
    let req = winback_app::import::Request {
        file: &a.file,
        db_url: db,
        rejects: a.rejects.as_deref(),
        max_reject_rate: a.max_reject_rate,
        encoding: m.encoding,
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
        encoding: a.encoding,
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
            "skipped_by_rule": r.skipped_by_rule,
            "notes": r.read_notes.iter().chain(&r.notes).collect::<Vec<_>>(),
        });
        return emit(&format!("{}\n", serde_json::to_string_pretty(&v)?));
    }
    let mut s = format!("{}: {}\n", r.file, r.counts());
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
