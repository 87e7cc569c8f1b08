//! Loading customer summaries from a summary file, a transaction log or the demo.

use std::io::Write;

use anyhow::{bail, Context, Result};
use chrono::NaiveDate;
use winback_app::files::Decoding;
use winback_domain::analysis::PurchaseModelKind;
use winback_domain::period::Period;
use winback_domain::summary::{summarise, CustomerSummary, SummaryCounts, SummaryOptions};
use winback_domain::tracking::{compare, Comparison};
use winback_ingest::date::DateFormat;
use winback_ingest::transactions::{read_log_from, LogOptions};
use winback_ingest::Reject;

use crate::cli::InputArgs;
use crate::progress::Spinner;

/// The CDNOW 1/10 sample (Fader, Hardie & Lee 2005), built into the binary.
pub const DEMO_LOG: &[u8] = include_bytes!("../tests/data/CDNOW_sample.txt");
/// The published analysis uses a 39-week calibration period ending here.
pub const DEMO_CALIBRATION_END: (i32, u32, u32) = (1997, 9, 30);
pub const DEMO_OBSERVATION_END: (i32, u32, u32) = (1998, 6, 30);

/// Customer summaries ready for the models.
pub struct Loaded {
    pub ids: winback_domain::log::CustomerIds,
    pub customers: Vec<CustomerSummary>,
    pub has_monetary: bool,
    pub time_unit: Period,
    /// Holdout length in time units, when there is a calibration split.
    pub holdout: Option<f64>,
    pub source: String,
}

fn ymd((y, m, d): (i32, u32, u32)) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid built-in date")
}

/// Read a file whole; `.gz` files are decompressed, and Parquet files become CSV.
pub fn read_file(path: &std::path::Path) -> Result<Vec<u8>> {
    Ok(winback_app::files::read_file(path)?)
}

/// Load summaries from whichever input was given.
pub fn load(args: &InputArgs) -> Result<Loaded> {
    Ok(load_comparing(args, None)?.0)
}

/// As `load`, and with `candidates`, compare them on a calibration/holdout split of
/// the transactions (`--model auto`). A summary file has no history to split.
pub fn load_comparing(
    args: &InputArgs,
    candidates: Option<&[PurchaseModelKind]>,
) -> Result<(Loaded, Option<Comparison>)> {
    if candidates.is_some() && args.summary.is_some() {
        bail!("--model auto compares the models on a holdout of the purchase history: give --transactions (or --demo), or name a model");
    }
    if let Some(path) = &args.summary {
        if args.observation_end.is_some() || args.calibration_end.is_some() {
            bail!("--observation-end and --calibration-end apply to --transactions; a --summary file is already summarised");
        }
        let (text, note) = winback_app::files::read_text(path, args.mapping.encoding)?;
        if let Some(n) = note {
            eprintln!("{}: {n}", path.display());
        }
        let t = winback_ingest::tables::read_rfm_as(&text, args.mapping.decimal)
            .with_context(|| format!("reading the summary file {}", path.display()))?;
        report_rejects(&t.rejected, t.rows, args)?;
        if t.customers.is_empty() {
            bail!("{}: no customer rows could be read", path.display());
        }
        return Ok((
            Loaded {
                ids: t.ids,
                customers: t.customers,
                has_monetary: t.has_monetary,
                time_unit: args.time_unit.unwrap_or(args.period),
                holdout: None,
                source: path.display().to_string(),
            },
            None,
        ));
    }
    let LogInput { log, summary_opts, source, demo } = read_log(args)?;
    let started = std::time::Instant::now();
    let s = summarise(&log, &summary_opts)?;
    tracing::info!(
        customers = s.customers.len(),
        secs = started.elapsed().as_secs_f64(),
        page_faults = crate::progress::page_faults(),
        "summarised"
    );
    let comparison = match candidates {
        Some(kinds) => {
            let spin = Spinner::new("comparing the models on the last third of the history".to_string());
            // judged on the calibration period the user set, else on the whole history
            let end = summary_opts.calibration_end.unwrap_or(summary_opts.observation_end);
            let c =
                compare(&log, &SummaryOptions { observation_end: end, calibration_end: None, ..summary_opts }, kinds);
            spin.finish();
            c
        }
        None => None,
    };
    summary_notes(&s.counts, &summary_opts, demo);
    let has_monetary = log.amount.is_some();
    let ids = log.ids;
    let mut customers = s.customers;
    // keep only the ids of summarised customers, in summary order: when every
    // customer was summarised (the usual case), that is the log's own list
    // (a summary that left nobody out holds customer i at i: known without a
    // pass over the summaries, 64 MB on a million customers, on one core)
    let in_order = if s.counts.customers_left_out == 0 && customers.len() == ids.len() {
        debug_assert!(customers.iter().enumerate().all(|(i, c)| c.customer as usize == i));
        true
    } else {
        customers.iter().enumerate().all(|(i, c)| c.customer as usize == i) && customers.len() == ids.len()
    };
    let kept = if in_order {
        ids
    } else {
        let mut kept = winback_domain::log::CustomerIds::new();
        for (i, c) in customers.iter_mut().enumerate() {
            kept.push(&ids[c.customer as usize]);
            c.customer = i as u32;
        }
        kept
    };
    Ok((
        Loaded {
            ids: kept,
            customers,
            has_monetary,
            time_unit: s.time_unit,
            holdout: summary_opts.calibration_end.map(|_| s.holdout_length),
            source,
        },
        comparison,
    ))
}

/// A transaction log read from `--transactions` or the demo, with how to
/// summarise it.
pub struct LogInput {
    pub log: winback_domain::log::TransactionLog,
    pub summary_opts: SummaryOptions,
    pub source: String,
    pub demo: bool,
}

/// Read the transaction log of `--transactions` (or `--demo`), telling the
/// user how its columns were read and which lines were rejected.
pub fn read_log(args: &InputArgs) -> Result<LogInput> {
    let ((data, decoding), source, opts, summary_opts) = if args.demo {
        // The published setting: repeat purchase days, time in weeks.
        let cal = args.calibration_end;
        let obs = args.observation_end.unwrap_or(if cal.is_some() {
            ymd(DEMO_OBSERVATION_END)
        } else {
            ymd(DEMO_CALIBRATION_END)
        });
        let opts = SummaryOptions {
            period: args.period,
            time_unit: Some(args.time_unit.unwrap_or(Period::Week)),
            observation_end: obs,
            calibration_end: cal,
        };
        let demo: Box<dyn std::io::Read + Send> = Box::new(DEMO_LOG);
        ((demo, Decoding::default()), "CDNOW demo sample".to_string(), LogOptions::default(), opts)
    } else if let Some(path) = &args.transactions {
        let Some(obs) = args.observation_end else {
            bail!("--transactions needs --observation-end DATE: the last day your data covers (e.g. the export date)");
        };
        let opts = LogOptions {
            delimiter: args.mapping.delimiter,
            header: args.mapping.header(),
            customer: args.mapping.customer_col.clone(),
            date: args.mapping.date_col.clone(),
            amount: args.mapping.amount_col.clone(),
            no_amount: args.mapping.no_amount,
            generic: args.mapping.generic,
            date_format: DateFormat::from_cli(args.mapping.date_format.as_deref()),
            decimal: args.mapping.decimal,
            // (a compressed file's length understates its rows: the columns grow from there)
            size_hint: std::fs::metadata(path).ok().filter(|m| m.is_file()).map(|m| m.len()),
            ..Default::default()
        };
        let s = SummaryOptions {
            period: args.period,
            time_unit: args.time_unit,
            observation_end: obs,
            calibration_end: args.calibration_end,
        };
        (winback_app::files::open_text(path, args.mapping.encoding)?, path.display().to_string(), opts, s)
    } else {
        bail!("no input: give --transactions FILE --observation-end DATE, --summary FILE, or --demo");
    };
    let spin = Spinner::new(format!("reading {source}"));
    let started = std::time::Instant::now();
    let (log, _, report) = read_log_from(data, &opts).with_context(|| format!("reading {source}"))?;
    spin.finish();
    tracing::info!(columns = %report.mapping, rows = report.rows, secs = started.elapsed().as_secs_f64(), page_faults = crate::progress::page_faults(), "read transaction log");
    if !args.demo {
        match &report.recognised {
            Some(r) => {
                eprintln!("{source}: {}: {}", r.name, r.summary);
                for n in &r.notes {
                    eprintln!("  {n}");
                }
            }
            None => eprintln!("{source}: {}", report.mapping),
        }
        if let Some(n) = decoding.note() {
            eprintln!("  {n}");
        }
        for n in &report.notes {
            eprintln!("  {n}");
        }
        let mut left = Vec::new();
        if report.folded > 0 {
            left.push(format!("{} lines are line items of an order on another line", report.folded));
        }
        if !report.skipped.is_empty() {
            let mut rules: Vec<&str> = report.skipped.iter().map(|r| r.reason.as_str()).collect();
            rules.dedup();
            let rule = if report.recognised.is_some() {
                "by the export's rules".to_string()
            } else {
                format!("as {}", rules.join("; "))
            };
            left.push(format!("{} skipped {rule}", report.skipped.len()));
        }
        if !left.is_empty() {
            eprintln!("note: {}; `winback import` lists them", left.join("; "));
        }
    }
    report_rejects(&report.rejected, report.rows, args)?;
    if log.is_empty() {
        bail!("{source}: no transaction could be read");
    }
    Ok(LogInput { log, summary_opts, source, demo: args.demo })
}

/// Tell the user about transactions the summary left out.
pub fn summary_notes(c: &SummaryCounts, opts: &SummaryOptions, demo: bool) {
    if c.after_observation_end > 0 && !demo {
        eprintln!("note: {} transactions after {} were left out", c.after_observation_end, opts.observation_end);
    }
    if c.refunds > 0 {
        eprintln!("note: {} refunds (negative amounts) are not counted as purchases", c.refunds);
    }
}

/// Tell the user about rejected lines: a count and the first few on stderr, all of
/// them in the --rejects file.
pub fn report_rejects(rejected: &[Reject], rows: usize, args: &InputArgs) -> Result<()> {
    if let Some(path) = &args.rejects {
        let mut f = std::io::BufWriter::new(
            std::fs::File::create(path).with_context(|| format!("cannot write {}", path.display()))?,
        );
        writeln!(f, "line,reason")?;
        for r in rejected {
            writeln!(f, "{},\"{}\"", r.line, crate::output::csv_safe(&r.reason).replace('"', "\"\""))?;
        }
        f.flush()?;
    }
    if rejected.is_empty() {
        return Ok(());
    }
    eprintln!("warning: {} of {rows} lines rejected:", rejected.len());
    for r in rejected.iter().take(10) {
        eprintln!("  line {}: {}", r.line, r.reason);
    }
    if rejected.len() > 10 {
        match &args.rejects {
            Some(p) => eprintln!("  … all {} in {}", rejected.len(), p.display()),
            None => eprintln!("  … {} more; --rejects FILE lists them all", rejected.len() - 10),
        }
    }
    if rejected.iter().any(|r| r.reason.contains(winback_ingest::NOT_UTF8)) {
        eprintln!("  {}", winback_app::files::ENCODING_HINT.trim_start_matches("; "));
    }
    Ok(())
}
