//! `winback summary`: the per-customer RFM summary, for inspection or other tools.

use anyhow::Result;
use serde_json::{json, Value};
use winback_domain::period::date_of;

use std::io::Write;
use winback_domain::summary::{CustomerSummary, Summariser, SummaryCounts};

use crate::cli::{Format, SummaryArgs};
use crate::input::{load, read_log, summary_notes, LogInput};
use crate::output::{
    emit, emit_csv, num, row_limit, summary_cells, write_csv_f64, write_csv_str, write_rows_parallel, Rows,
};

pub fn run(args: &SummaryArgs) -> Result<()> {
    if args.format == Format::Csv && args.top.is_none() && args.input.summary.is_none() {
        return stream_csv(args);
    }
    let loaded = load(&args.input)?;
    let holdout = loaded.holdout.is_some();
    if args.format == Format::Csv {
        let clock = std::time::Instant::now();
        typed_csv(&loaded, holdout, row_limit(args.top, args.format))?;
        tracing::info!(
            secs = clock.elapsed().as_secs_f64(),
            page_faults = crate::progress::page_faults(),
            "wrote the summary"
        );
        return Ok(());
    }
    let mut columns =
        vec!["customer", "frequency", "recency", "T", "monetary_value", "first_purchase", "last_purchase"];
    if holdout {
        columns.extend(["holdout_frequency", "holdout_monetary_value"]);
    }
    let mut rows = Rows::for_format(columns, args.format);
    let limit = row_limit(args.top, args.format);
    let day = |d: Option<i32>| d.map_or(Value::Null, |d| json!(date_of(d).to_string()));
    for c in loaded.customers.iter().take(limit) {
        let mut row = summary_cells(&loaded.ids, c, loaded.has_monetary);
        row.extend([day(c.first_day()), day(c.last_day())]);
        if holdout {
            row.extend([json!(c.holdout_frequency), num(c.holdout_monetary_value)]);
        }
        rows.push(row);
    }
    match args.format {
        Format::Csv => emit_csv(rows),
        Format::Json => emit(&format!("{}\n", serde_json::to_string_pretty(&rows.json())?)),
        Format::Table => {
            let mut s = format!(
                "{} customers from {}; time in {}s\n{}\n",
                loaded.customers.len(),
                loaded.source,
                loaded.time_unit.name(),
                rows.table(2)
            );
            if loaded.customers.len() > limit {
                s += &format!("… {} more (--top N, or --format csv for all)\n", loaded.customers.len() - limit);
            }
            emit(&s)
        }
    }
}

/// Days as `YYYY-MM-DD`, each distinct day formatted once.
struct Dates {
    lo: i32,
    names: Vec<String>,
}

impl Dates {
    /// Days `lo` to `hi`; a span too long to be worth a table (a typo'd year)
    /// is formatted day by day instead.
    fn new(lo: i32, hi: i32) -> Self {
        let names = if lo <= hi && hi - lo <= 200_000 {
            (lo..=hi).map(|d| date_of(d).to_string()).collect()
        } else {
            Vec::new()
        };
        Dates { lo, names }
    }

    fn write(&self, w: &mut Vec<u8>, d: Option<i32>) {
        if let Some(d) = d {
            match d.checked_sub(self.lo).and_then(|i| usize::try_from(i).ok()).and_then(|i| self.names.get(i)) {
                Some(s) => w.extend_from_slice(s.as_bytes()),
                None => w.extend_from_slice(date_of(d).to_string().as_bytes()),
            }
        }
    }
}

/// What a summary row holds besides the customer.
#[derive(Clone, Copy)]
struct RowShape {
    has_monetary: bool,
    holdout: bool,
}

impl RowShape {
    fn header(self) -> &'static [u8] {
        if self.holdout {
            b"customer,frequency,recency,T,monetary_value,first_purchase,last_purchase,holdout_frequency,holdout_monetary_value\n"
        } else {
            b"customer,frequency,recency,T,monetary_value,first_purchase,last_purchase\n"
        }
    }

    /// One CSV row: integers by itoa, floats by zmij (the same bytes the
    /// generic rows give; a test compares them).
    fn write(self, w: &mut Vec<u8>, id: &str, c: &CustomerSummary, dates: &Dates) {
        let (mut f, mut n) = (zmij::Buffer::new(), itoa::Buffer::new());
        // writing into a Vec cannot fail
        let _ = write_csv_str(w, id);
        w.push(b',');
        w.extend_from_slice(n.format(c.frequency).as_bytes());
        w.push(b',');
        let _ = write_csv_f64(w, &mut f, c.recency);
        w.push(b',');
        let _ = write_csv_f64(w, &mut f, c.t);
        w.push(b',');
        if self.has_monetary {
            let _ = write_csv_f64(w, &mut f, c.monetary_value);
        }
        w.push(b',');
        dates.write(w, c.first_day());
        w.push(b',');
        dates.write(w, c.last_day());
        if self.holdout {
            w.push(b',');
            w.extend_from_slice(n.format(c.holdout_frequency).as_bytes());
            w.push(b',');
            let _ = write_csv_f64(w, &mut f, c.holdout_monetary_value);
        }
        w.push(b'\n');
    }
}

/// The summary of a transaction log as CSV, each row written as it is made
/// on two threads: no vector of every customer's summary is held (on a
/// million customers that is 64 MB of fresh memory, a page fault every 4 KiB).
/// Rows come in the log's customer order, as `summarise` gives them.
fn stream_csv(args: &SummaryArgs) -> Result<()> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let LogInput { log, summary_opts, demo, .. } = read_log(&args.input)?;
    let clock = std::time::Instant::now();
    let summariser = Summariser::new(&log, &summary_opts)?;
    tracing::debug!(secs = clock.elapsed().as_secs_f64(), "grouped the rows by customer");
    let shape = RowShape { has_monetary: log.amount.is_some(), holdout: summary_opts.calibration_end.is_some() };
    // first and last purchases are days of the log, or the starts of their
    // weeks (at most 6 days earlier)
    let (lo, hi) = log.day.iter().fold((i32::MAX, i32::MIN), |(lo, hi), &d| (lo.min(d), hi.max(d)));
    let dates = Dates::new(lo.saturating_sub(6), hi);
    let counts = std::sync::Mutex::new(summariser.counts());
    let written = AtomicUsize::new(0);
    let chunk = |customers: std::ops::Range<usize>, w: &mut Vec<u8>| {
        let (mut scratch, mut k, mut rows) = (Vec::new(), SummaryCounts::default(), 0);
        for c in customers {
            if let Some(s) = summariser.customer(c, &mut scratch, &mut k) {
                shape.write(w, &log.ids[c], &s, &dates);
                rows += 1;
            }
        }
        if let Ok(mut all) = counts.lock() {
            all.add(&k);
        }
        written.fetch_add(rows, Ordering::Relaxed);
    };
    let mut w = std::io::BufWriter::with_capacity(1 << 20, std::io::stdout().lock());
    let mut write = || -> std::io::Result<()> {
        w.write_all(shape.header())?;
        write_rows_parallel(&mut w, summariser.len(), chunk)
    };
    match write() {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return Ok(()),
        other => other?,
    }
    if written.load(Ordering::Relaxed) == 0 {
        // nothing but the header, still in the buffer: drop it unwritten
        let _ = w.into_parts();
        return Err(summariser.empty().into());
    }
    match w.flush() {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return Ok(()),
        other => other?,
    }
    let counts = counts.into_inner().unwrap_or_else(|e| e.into_inner());
    summary_notes(&counts, &summary_opts, demo);
    tracing::info!(
        customers = written.load(Ordering::Relaxed),
        secs = clock.elapsed().as_secs_f64(),
        page_faults = crate::progress::page_faults(),
        "summarised and wrote the summary"
    );
    Ok(())
}

/// The summary as CSV straight from the typed rows (the same bytes the generic
/// rows give, about 5x faster on a million customers): integers by itoa, floats
/// by zmij, each distinct day formatted once.
fn typed_csv(loaded: &crate::input::Loaded, holdout: bool, limit: usize) -> Result<()> {
    let mut w = std::io::BufWriter::with_capacity(1 << 20, std::io::stdout().lock());
    let (lo, hi) = loaded
        .customers
        .iter()
        .flat_map(|c| [c.first_day(), c.last_day()])
        .flatten()
        .fold(None, |r, d| Some(r.map_or((d, d), |(lo, hi): (i32, i32)| (lo.min(d), hi.max(d)))))
        .unwrap_or((0, 0));
    let dates = Dates::new(lo, hi);
    let customers = &loaded.customers[..loaded.customers.len().min(limit)];
    let shape = RowShape { has_monetary: loaded.has_monetary, holdout };
    let mut write = || -> std::io::Result<()> {
        w.write_all(shape.header())?;
        write_rows_parallel(&mut w, customers.len(), |rows, buf| {
            rows.for_each(|k| shape.write(buf, &loaded.ids[customers[k].customer as usize], &customers[k], &dates))
        })?;
        w.flush()
    };
    match write() {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}
