//! Rendering: tables for people, JSON and CSV for machines.

use std::io::Write;

use anyhow::Result;
use comfy_table::{presets::UTF8_FULL_CONDENSED, Cell, CellAlignment, Table};
use serde_json::{json, Value};
use winback_domain::analysis::FitReport;

/// A table of named columns, rendered in any format. For CSV the rows go
/// straight to stdout as they come, so millions of customers never sit in memory.
pub struct Rows {
    pub columns: Vec<&'static str>,
    pub rows: Vec<Vec<Value>>,
    stream: Option<(std::io::BufWriter<std::io::StdoutLock<'static>>, Option<std::io::Error>)>,
}

impl Rows {
    pub fn new(columns: Vec<&'static str>) -> Self {
        Rows { columns, rows: Vec::new(), stream: None }
    }

    /// Rows for `format`: streamed to stdout when it is CSV.
    pub fn for_format(columns: Vec<&'static str>, format: crate::cli::Format) -> Self {
        let mut r = Rows::new(columns);
        if format == crate::cli::Format::Csv {
            let mut w = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
            let err = w.write_all(r.columns.join(",").as_bytes()).and_then(|_| w.write_all(b"\n")).err();
            r.stream = Some((w, err));
        }
        r
    }

    pub fn push(&mut self, row: Vec<Value>) {
        match &mut self.stream {
            Some((w, err @ None)) => {
                if let Err(e) = write_csv_row(w, &row) {
                    *err = Some(e);
                }
            }
            Some(_) => {}
            None => self.rows.push(row),
        }
    }

    /// All held rows as CSV to `out`.
    pub fn write_csv(&self, out: &mut dyn Write) -> Result<()> {
        writeln!(out, "{}", self.columns.join(","))?;
        for r in &self.rows {
            write_csv_row(out, r)?;
        }
        Ok(())
    }

    /// Flush a streamed CSV; a closed pipe (`| head`) is a normal end.
    pub fn finish(mut self) -> Result<()> {
        if let Some((mut w, err)) = self.stream.take() {
            let err = err.or_else(|| w.flush().err());
            match err {
                Some(e) if e.kind() != std::io::ErrorKind::BrokenPipe => return Err(e.into()),
                _ => {}
            }
        }
        Ok(())
    }

    /// The rows for people; `(none)` when there are none (a header over
    /// nothing reads as a broken table).
    pub fn table(&self, decimals: usize) -> Shown {
        if self.rows.is_empty() {
            return Shown::Nothing;
        }
        let mut t = Table::new();
        t.load_preset(UTF8_FULL_CONDENSED);
        t.set_header(self.columns.iter().map(Cell::new));
        for r in &self.rows {
            t.add_row(r.iter().map(|v| match v {
                Value::Number(n) => {
                    Cell::new(fmt_num(n.as_f64().unwrap_or(f64::NAN), decimals)).set_alignment(CellAlignment::Right)
                }
                Value::Null => Cell::new("–").set_alignment(CellAlignment::Right),
                Value::String(s) => Cell::new(s),
                other => Cell::new(other.to_string()),
            }));
        }
        Shown::Table(t)
    }

    pub fn json(&self) -> Value {
        Value::Array(
            self.rows
                .iter()
                .map(|r| Value::Object(self.columns.iter().map(|c| c.to_string()).zip(r.iter().cloned()).collect()))
                .collect(),
        )
    }
}

/// What [`Rows::table`] shows.
pub enum Shown {
    Table(Table),
    Nothing,
}

impl std::fmt::Display for Shown {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Shown::Table(t) => t.fmt(f),
            Shown::Nothing => f.write_str("(none)"),
        }
    }
}

pub use winback_app::import::csv_safe;

fn write_csv_row(w: &mut (impl Write + ?Sized), r: &[Value]) -> std::io::Result<()> {
    for (i, v) in r.iter().enumerate() {
        if i > 0 {
            w.write_all(b",")?;
        }
        match v {
            Value::String(s) => write_csv_str(w, s)?,
            Value::Null => {}
            Value::Number(n) => write!(w, "{n}")?,
            other => write!(w, "{other}")?,
        }
    }
    w.write_all(b"\n")
}

/// One text cell: guarded against spreadsheet formulas, quoted when needed.
pub fn write_csv_str(w: &mut (impl Write + ?Sized), s: &str) -> std::io::Result<()> {
    let s = csv_safe(s);
    if s.contains([',', '"', '\n', '\r']) {
        write!(w, "\"{}\"", s.replace('"', "\"\""))
    } else {
        w.write_all(s.as_bytes())
    }
}

/// Write `rows` rows in order: chunks of rows are formatted on two threads
/// (number formatting is most of the work of writing a million-row CSV) by
/// `chunk`, which appends the rows of a range to a buffer, and written one
/// after the other.
///
/// Both threads claim the next chunk as they come free, and this one also
/// writes, in order, every chunk that is ready, before it claims another: a
/// slow `write` (a file, a pipe) is overlapped by the other thread's
/// formatting instead of holding both up. (Rounds of two chunks with a
/// thread spawned for each cost a spawn, ~0.15 ms here, and a wait for the
/// slower half every round, and left a core idle while the rows were written.)
/// At most `AHEAD` chunks are formatted and not yet written, so the memory
/// stays a few buffers.
pub fn write_rows_parallel(
    w: &mut (impl Write + ?Sized),
    rows: usize,
    chunk: impl Fn(std::ops::Range<usize>, &mut Vec<u8>) + Sync,
) -> std::io::Result<()> {
    const CHUNK: usize = 16_384;
    const AHEAD: usize = 4;
    let chunks = rows.div_ceil(CHUNK);
    let range = |k: usize| k * CHUNK..rows.min((k + 1) * CHUNK);
    if chunks <= 1 {
        let mut buf = Vec::new();
        chunk(0..rows, &mut buf);
        return w.write_all(&buf);
    }
    struct State {
        /// The next chunk to format, and the next to write.
        claim: usize,
        written: usize,
        /// Formatted chunks not yet written, by chunk number modulo `AHEAD`.
        ready: [Option<Vec<u8>>; AHEAD],
        /// Emptied buffers (fresh ones cost a page fault every 4 KiB).
        spare: Vec<Vec<u8>>,
        /// The writer stopped (an error): the other thread stops too.
        stop: bool,
        /// The other thread is done (or panicked: then nothing more comes).
        gone: bool,
    }
    let state = std::sync::Mutex::new(State {
        claim: 0,
        written: 0,
        ready: Default::default(),
        spare: Vec::new(),
        stop: false,
        gone: false,
    });
    let changed = std::sync::Condvar::new();
    // (a poisoned lock means the other thread panicked: a bug, passed on by the scope)
    let lock = || state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    // Format chunk `k` into a buffer of this thread's own (a `Vec` shared
    // through a cache line would stall every push) and hand it in.
    let format = |k: usize, mut buf: Vec<u8>| {
        buf.clear();
        chunk(range(k), &mut buf);
        lock().ready[k % AHEAD] = Some(buf);
        changed.notify_all();
    };
    // the next chunk to format, if one may be claimed now
    let claim = |st: &mut State| {
        (st.claim < chunks && st.claim < st.written + AHEAD).then(|| {
            st.claim += 1;
            (st.claim - 1, st.spare.pop().unwrap_or_default())
        })
    };
    std::thread::scope(|s| {
        s.spawn(|| {
            // (however this thread ends, a panic included: the writer must
            // not wait for a chunk that will never come)
            let _gone = OnDrop(&|| {
                lock().gone = true;
                changed.notify_all();
            });
            let mut st = lock();
            loop {
                if st.stop || st.claim >= chunks {
                    return;
                }
                match claim(&mut st) {
                    Some((k, buf)) => {
                        drop(st);
                        format(k, buf);
                        st = lock();
                    }
                    None => st = changed.wait(st).unwrap_or_else(std::sync::PoisonError::into_inner),
                }
            }
        });
        // (however this thread ends, a panic included: the other must not
        // wait for room that will never come)
        let _stop = OnDrop(&|| {
            lock().stop = true;
            changed.notify_all();
        });
        (|| {
            let mut st = lock();
            while st.written < chunks {
                let at = st.written % AHEAD;
                if let Some(buf) = st.ready[at].take() {
                    drop(st);
                    let wrote = w.write_all(&buf);
                    st = lock();
                    st.spare.push(buf);
                    st.written += 1;
                    changed.notify_all();
                    wrote?;
                } else if let Some((k, buf)) = claim(&mut st) {
                    drop(st);
                    format(k, buf);
                    st = lock();
                } else if st.gone {
                    // the other thread panicked with a chunk claimed: the
                    // scope passes its panic on
                    break;
                } else {
                    st = changed.wait(st).unwrap_or_else(std::sync::PoisonError::into_inner);
                }
            }
            Ok(())
        })()
    })
}

/// Runs a function when dropped, on unwinding too.
struct OnDrop<'a>(&'a dyn Fn());

impl Drop for OnDrop<'_> {
    fn drop(&mut self) {
        (self.0)()
    }
}

/// A number cell exactly as `num` then `write_csv_row` write it (serde_json
/// formats floats with zmij: `31.0`, `55.39`, `1e+16`), empty when not finite.
/// zmij writes ryu's shortest round-trip digits about twice as fast.
pub fn write_csv_f64(w: &mut (impl Write + ?Sized), buf: &mut zmij::Buffer, v: f64) -> std::io::Result<()> {
    if let Some((digits, len)) = short_decimal(v) {
        w.write_all(&digits[..len])
    } else if v.is_finite() {
        w.write_all(buf.format_finite(v).as_bytes())
    } else {
        Ok(())
    }
}

/// [`write_csv_f64`] for numbers that are seldom short decimals (probabilities,
/// model expectations): straight to zmij, the same bytes without the test.
pub fn write_csv_f64_long(w: &mut (impl Write + ?Sized), buf: &mut zmij::Buffer, v: f64) -> std::io::Result<()> {
    if v.is_finite() {
        w.write_all(buf.format_finite(v).as_bytes())
    } else {
        Ok(())
    }
}

/// One number's cell, kept to be copied when the number comes again.
#[derive(Clone, Copy, Default)]
struct Kept {
    bits: u64,
    /// 0: nothing kept.
    len: u8,
    text: [u8; 32],
}

impl Kept {
    /// Write `v` by `write` into `w`, or copy its kept cell; keep what was written.
    #[inline]
    fn write(&mut self, w: &mut Vec<u8>, v: f64, write: impl FnOnce(&mut Vec<u8>, f64)) {
        let b = v.to_bits();
        if self.len > 0 && self.bits == b {
            w.extend_from_slice(&self.text[..self.len as usize]);
            return;
        }
        let start = w.len();
        write(w, v);
        let cell = &w[start..];
        // (at most 24 bytes; non-finite values write nothing and are not kept)
        if !cell.is_empty() && cell.len() <= 32 {
            self.text[..cell.len()].copy_from_slice(cell);
            self.len = cell.len() as u8;
            self.bits = b;
        }
    }
}

/// [`write_csv_f64`] remembering the bytes of recent values: for columns that
/// hold few distinct numbers (recency and T in weeks are whole days over 7,
/// `7.285714285714286`, a few hundred values on a million rows), a lookup
/// instead of a shortest-digits search per row.
pub struct F64Memo {
    /// Direct-mapped by the value's bits.
    slots: Vec<Kept>,
}

impl F64Memo {
    const SLOTS: usize = 1024;

    pub fn new() -> Self {
        F64Memo { slots: vec![Kept::default(); Self::SLOTS] }
    }

    pub fn write(&mut self, w: &mut Vec<u8>, buf: &mut zmij::Buffer, v: f64) {
        // the top bits of a Fibonacci hash: neighbouring values spread out
        let slot = (v.to_bits().wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 54) as usize;
        // writing into a Vec cannot fail
        self.slots[slot].write(w, v, |w, v| drop(write_csv_f64(w, buf, v)));
    }
}

/// [`write_csv_f64_long`] remembering the last value's bytes: for columns
/// whose equal values come in runs (in rank order, the customers with nothing
/// at stake come together, with the one expected spend of no repeat purchase).
#[derive(Default)]
pub struct LastF64(Kept);

impl LastF64 {
    pub fn write(&mut self, w: &mut Vec<u8>, buf: &mut zmij::Buffer, v: f64) {
        // writing into a Vec cannot fail
        self.0.write(w, v, |w, v| drop(write_csv_f64_long(w, buf, v)));
    }
}

impl Default for F64Memo {
    fn default() -> Self {
        Self::new()
    }
}

/// The bytes zmij (and ryu) write for `v` when `v` is a decimal of at most four places
/// below 10^11 (days and weeks, 2-decimal prices: most of a summary's numbers),
/// found without the general search. If m / 10^4, correctly rounded, is `v`,
/// the decimal m·10^-4 reads back as `v`; no other decimal of at most four
/// places lies within half an ulp of `v` at this size, and the shortest
/// round-trip string has no more places than that one, so it is this one with
/// its trailing zeros dropped. One multiply and one divide reject the rest
/// (|v·10^4 − m| < 0.5 here, so m is v·10^4 rounded). Checked against zmij in
/// the tests.
fn short_decimal(v: f64) -> Option<([u8; 24], usize)> {
    let a = v.abs();
    if !(a < 1e11) || v == 0.0 {
        return None;
    }
    let mut out = [0u8; 24];
    let mut n = 0;
    if v < 0.0 {
        out[0] = b'-';
        n = 1;
    }
    // a < 2^63, so the cast is exact for whole numbers (days, counts), which
    // need no division at all
    let whole = a as u64;
    if whole as f64 == a {
        let mut ib = itoa::Buffer::new();
        let is = ib.format(whole).as_bytes();
        out[n..n + is.len()].copy_from_slice(is);
        n += is.len();
        out[n..n + 2].copy_from_slice(b".0");
        return Some((out, n + 2));
    }
    // a·10^4 < 2^53: the cast rounds half up exactly
    let mut m = (a * 1e4 + 0.5) as u64;
    if m as f64 / 1e4 != a {
        return None;
    }
    let mut k = 4;
    while k > 0 && m % 10 == 0 {
        m /= 10;
        k -= 1;
    }
    let scale = 10u64.pow(k as u32);
    let (int, frac) = (m / scale, m % scale);
    let mut ib = itoa::Buffer::new();
    let is = ib.format(int).as_bytes();
    out[n..n + is.len()].copy_from_slice(is);
    n += is.len();
    out[n] = b'.';
    n += 1;
    if k == 0 {
        out[n] = b'0';
        return Some((out, n + 1));
    }
    // k places, leading zeros kept
    let mut f = frac;
    for i in (0..k).rev() {
        out[n + i] = b'0' + (f % 10) as u8;
        f /= 10;
    }
    Some((out, n + k))
}

/// The summary cells every per-customer listing starts with: customer,
/// frequency, recency, T, monetary_value.
pub fn summary_cells(
    ids: &winback_domain::log::CustomerIds,
    c: &winback_domain::summary::CustomerSummary,
    has_monetary: bool,
) -> Vec<Value> {
    vec![
        json!(&ids[c.customer as usize]),
        json!(c.frequency),
        num(c.recency),
        num(c.t),
        if has_monetary { num(c.monetary_value) } else { Value::Null },
    ]
}

/// Rows to show: `--top`, else 20 for tables and all for machines.
pub fn row_limit(top: Option<usize>, format: crate::cli::Format) -> usize {
    top.unwrap_or(if format == crate::cli::Format::Table { 20 } else { usize::MAX })
}

/// A number for people: integers as integers, others to `decimals` places.
pub fn fmt_num(v: f64, decimals: usize) -> String {
    if v.is_finite() && v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{v:.0}")
    } else if v.is_finite() && v.abs() < 1e12 {
        format!("{v:.decimals$}")
    } else {
        format!("{v:.3e}")
    }
}

/// A finite number as JSON, or null.
/// Money to the cent, so sums print as `11252.43`, not `11252.430000000002`
/// (winback keeps one currency per store; currencies without cents round to
/// whole units in their own exports already).
pub fn money(v: f64) -> Value {
    num((v * 100.0).round() / 100.0)
}

pub fn num(v: f64) -> Value {
    serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number)
}

pub use winback_app::analyze::fit_json;

/// A parameter for people: four decimals in the usual range, else scientific
/// (β = 3e-304 should not read 0.0000).
fn fmt_estimate(v: f64) -> String {
    if v == 0.0 || (1e-3..1e7).contains(&v.abs()) {
        format!("{v:.4}")
    } else {
        format!("{v:.4e}")
    }
}

pub fn fit_text(r: &FitReport) -> String {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED);
    t.set_header(vec!["parameter", "estimate", "std. error", "95% interval"]);
    for (((name, v), se), (lo, hi)) in r.params.iter().zip(&r.std_errors).zip(&r.intervals) {
        let ci = if lo.is_finite() && hi.is_finite() {
            format!("{} – {}", fmt_estimate(*lo), fmt_estimate(*hi))
        } else {
            "not identified".into()
        };
        t.add_row(vec![
            Cell::new(name),
            Cell::new(fmt_estimate(*v)).set_alignment(CellAlignment::Right),
            Cell::new(if se.is_finite() { fmt_estimate(*se) } else { "–".into() }).set_alignment(CellAlignment::Right),
            Cell::new(ci),
        ]);
    }
    let mut s = format!("{} fitted to {} customers\n{t}\n", model_title(r.model), fmt_num(r.customers, 0));
    s += &format!(
        "log-likelihood {:.2}   AIC {:.2}   BIC {:.2}\n{} after {} iterations{}: {}\n",
        r.log_likelihood,
        r.aic,
        r.bic,
        if r.converged { "converged" } else { "DID NOT CONVERGE" },
        r.iterations,
        if r.starts > 1 { format!(" from {} starting points", r.starts) } else { String::new() },
        r.message
    );
    if let Some((n, why)) = r.excluded {
        if n > 0 {
            s += &format!("left out: {n} {why}\n");
        }
    }
    if let Some(words) = &r.caution {
        s += &format!("caution: {words}\n");
    }
    if let Some(lambda) = r.common_rate {
        s += &format!(
            "at the edge: purchase rates do not vary between customers here: each buys about {} times per time unit (λ = r/α; r and α run to ∞ together, so only their ratio is known)\n",
            fmt_estimate(lambda)
        );
    }
    if let Some(words) = &r.limit {
        s += &format!("at the edge: {words}\n");
        if let Some((ll, _)) = &r.edge {
            s += &format!(
                "  (the full model ran towards that edge, log-likelihood {ll:.2}; the limit fits as well with one parameter fewer)\n"
            );
        }
    }
    s
}

/// The model comparison of `--model auto`, for people.
pub fn comparison_text(c: &winback_domain::tracking::Comparison) -> String {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED);
    t.set_header(vec!["model", "log-lik. (calibration)", "predicted", "actual", "RMSE per customer", "MAE", "note"]);
    for m in &c.models {
        let right = |s: String| Cell::new(s).set_alignment(CellAlignment::Right);
        let chosen = c.best.is_some_and(|b| winback_domain::tracking::kind_name(b) == m.model);
        t.add_row(vec![
            Cell::new(format!("{}{}", model_title(m.model), if chosen { " ✓" } else { "" })),
            right(if m.log_likelihood.is_finite() { format!("{:.1}", m.log_likelihood) } else { "–".into() }),
            right(if m.predicted.is_finite() { fmt_num(m.predicted, 0) } else { "–".into() }),
            right(fmt_num(c.actual, 0)),
            right(if m.rmse.is_finite() { format!("{:.3}", m.rmse) } else { "–".into() }),
            right(if m.mae.is_finite() { format!("{:.3}", m.mae) } else { "–".into() }),
            Cell::new(match (&m.error, &m.limit) {
                (Some(e), _) => format!("not fitted: {e}"),
                (None, Some(_)) => "at its limit (drop-out common to all)".into(),
                _ => String::new(),
            }),
        ]);
    }
    let sample = if c.sample > 1 { format!(", on 1 customer in {}", c.sample) } else { String::new() };
    format!(
        "which model predicts this shop best: fitted to purchases up to {}, judged on the {} {}s after (repeat purchases of the {} customer{} seen by then{sample})\n{t}\n{}\n\n",
        c.calibration_end,
        fmt_num(c.holdout, 0),
        c.time_unit,
        fmt_num(c.customers as f64, 0),
        if c.customers == 1 { "" } else { "s" },
        match c.best {
            Some(b) => format!("chosen: {} (the lowest root mean squared error per customer; within 1% of it, the faster model); force another with --model", model_title(winback_domain::tracking::kind_name(b))),
            None => c.undecided.clone().unwrap_or_else(|| "no model could be fitted on the calibration period; BG/NBD is used".into()),
        }
    )
}

pub fn model_title(m: &str) -> &'static str {
    match m {
        "bgnbd" => "BG/NBD",
        "paretonbd" => "Pareto/NBD",
        "mbgnbd" => "MBG/NBD",
        "gammagamma" => "Gamma-Gamma spend",
        "bgbb" => "BG/BB",
        "sbg" => "sBG",
        _ => "model",
    }
}

/// Write text to stdout, treating a closed pipe (`| head`) as the end.
pub fn emit(s: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(s.as_bytes()).and_then(|_| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}

/// Finish rows streamed as CSV.
pub fn emit_csv(rows: Rows) -> Result<()> {
    rows.finish()
}

/// Rows in `format`: a table for people, JSON or (streamed) CSV for machines.
pub fn emit_rows(rows: Rows, format: crate::cli::Format, decimals: usize) -> Result<()> {
    match format {
        crate::cli::Format::Csv => emit_csv(rows),
        crate::cli::Format::Json => emit(&format!("{}\n", serde_json::to_string_pretty(&rows.json())?)),
        crate::cli::Format::Table => emit(&format!("{}\n", rows.table(decimals))),
    }
}

/// Pretty JSON of any value, to stdout.
pub fn emit_json<T: serde::Serialize>(v: &T) -> Result<()> {
    emit(&format!("{}\n", serde_json::to_string_pretty(v)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn via_zmij(v: f64) -> String {
        zmij::Buffer::new().format_finite(v).to_string()
    }

    fn ours(v: f64) -> String {
        let mut out = Vec::new();
        write_csv_f64(&mut out, &mut zmij::Buffer::new(), v).unwrap();
        String::from_utf8(out).unwrap()
    }

    /// Every row once and in order, whatever the thread that formatted it,
    /// for row counts around the chunk size; a writer that fails stops both
    /// threads with its error; a chunk that panics panics the call.
    #[test]
    fn parallel_rows_come_out_in_order_and_errors_stop_them() {
        let line = |i: usize, w: &mut Vec<u8>| {
            // (uneven work, so that the threads overtake each other)
            if i % 7_919 == 0 {
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
            w.extend_from_slice(format!("{i}\n").as_bytes());
        };
        for rows in [0, 1, 16_383, 16_384, 16_385, 100_000, 300_001] {
            let mut out = Vec::new();
            write_rows_parallel(&mut out, rows, |r, w| r.for_each(|i| line(i, w))).unwrap();
            let want: String = (0..rows).map(|i| format!("{i}\n")).collect();
            assert!(out == want.as_bytes(), "{rows} rows");
        }
        struct Full(usize);
        impl Write for Full {
            fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                if self.0 == 0 {
                    return Err(std::io::Error::new(std::io::ErrorKind::StorageFull, "disk full"));
                }
                let n = b.len().min(self.0);
                self.0 -= n;
                Ok(n)
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let formatted = std::sync::atomic::AtomicUsize::new(0);
        let err = write_rows_parallel(&mut Full(200_000), 1_000_000, |r, w| {
            formatted.fetch_add(r.len(), std::sync::atomic::Ordering::Relaxed);
            r.for_each(|i| line(i, w))
        })
        .unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::StorageFull);
        // stopped within a few chunks of the failure, not after a million rows
        assert!(formatted.into_inner() < 200_000, "formatted on after the error");
        let panicked = std::panic::catch_unwind(|| {
            write_rows_parallel(&mut Vec::new(), 100_000, |r, w| {
                assert!(!r.contains(&40_000) && !r.contains(&60_000), "a bug");
                r.for_each(|i| line(i, w))
            })
        });
        assert!(panicked.is_err());
    }

    #[test]
    fn short_decimals_are_written_as_zmij_writes_them() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let edges = [
            0.0001,
            0.001,
            0.01,
            0.1,
            0.5,
            1.0,
            9.9999,
            10.0,
            144.0,
            552.2675,
            0.30000000000000004,
            1e-5,
            1e-4 * 3.0,
            99_999_999_999.99,
            1e11,
            1e11 - 0.0001,
            123_456_789.123_4,
            4503599627370496.0,
            2.5e-320,
            1.0 / 3.0,
            f64::EPSILON,
            1e10 + 0.5,
            0.07,
            1.005,
            2.675,
            1e16,
            2.5e22,
            1e-7,
        ];
        let mut values: Vec<f64> = edges.iter().flat_map(|&v| [v, -v]).collect();
        values.push(-0.0);
        for _ in 0..200_000 {
            let places = rng.random_range(0..7);
            let magnitude = 10f64.powi(rng.random_range(-3..12));
            let raw = rng.random::<f64>() * magnitude;
            let p = 10f64.powi(places);
            values.push((raw * p).round() / p);
            values.push(raw);
            values.push(-(rng.random_range(0..100_000_000u64) as f64) / 100.0);
        }
        for v in values {
            assert_eq!(ours(v), via_zmij(v), "{v:e}");
            assert_eq!(ours(v), serde_json::json!(v).to_string(), "{v:e}");
        }
        assert_eq!(ours(f64::NAN), "");
    }
}
