//! `winback predict`

use anyhow::{bail, Result};
use serde_json::{json, Value};
use winback_domain::analysis::{fit_histories, fit_spend, Histories, ModelKind};
use winback_domain::score::{
    rank_by_value_at_stake, score_histories, score_lazily, CustomerScore, HistoryScores, ScoreSettings,
};
use winback_domain::summary::CustomerSummary;
use winback_domain::tracking::{choose, CANDIDATES};
use winback_stats::fit::FitOptions;

use crate::cli::{Format, PredictArgs};
use crate::input::load_comparing;
use crate::output::{
    comparison_text, emit, emit_csv, fit_json, fit_text, fmt_num, num, row_limit, summary_cells, Rows,
};
use crate::progress::Spinner;

pub fn run(args: &PredictArgs) -> Result<()> {
    if args.model == ModelKind::Bgbb {
        return bgbb(args);
    }
    if args.model.purchase().is_none() && args.model != ModelKind::Auto {
        bail!("predict needs a purchase model: auto, bgnbd, paretonbd, mbgnbd (or bgbb); Gamma-Gamma is fitted alongside when there are amounts");
    }
    if !(args.margin > 0.0 && args.margin <= 1.0) {
        bail!("--margin is a share of revenue between 0 and 1, got {}", args.margin);
    }
    let auto = (args.model == ModelKind::Auto).then_some(&CANDIDATES[..]);
    let (loaded, comparison) = load_comparing(&args.input, auto)?;
    let Some(kind) = choose(args.model, comparison.as_ref()) else {
        bail!("predict needs a purchase model");
    };
    if let Some(c) = &comparison {
        eprint!("{}", comparison_text(c));
    }
    // CSV carries scores only: the fits' standard errors would not be shown
    let opts = FitOptions { std_errors: args.format != Format::Csv, ..FitOptions::default() };
    let spin = Spinner::new(format!("fitting {} to {} customers", args.model.name(), loaded.customers.len()));
    // The two models are independent: the spend model is fitted on a thread
    // of its own meanwhile (each fit leaves a core idle between its parallel
    // evaluations).
    // the distinct histories, found once for the fit and the scores, first
    // and on both cores (alongside the spend fit's threads they took twice
    // as long)
    let clock = std::time::Instant::now();
    let histories = Histories::of(&loaded.customers);
    tracing::debug!(histories = histories.len(), secs = clock.elapsed().as_secs_f64(), "found the distinct histories");
    let (fitted, spend) = std::thread::scope(|s| {
        let spend = loaded.has_monetary.then(|| {
            s.spawn(|| {
                let clock = std::time::Instant::now();
                let spend = fit_spend(&loaded.customers, &opts);
                tracing::info!(
                    secs = clock.elapsed().as_secs_f64(),
                    page_faults = crate::progress::page_faults(),
                    "fitted the spend model"
                );
                spend
            })
        });
        let fitted = fit_histories(kind, &loaded.customers, &histories, &opts);
        if let Ok(fitted) = &fitted {
            tracing::info!(
                model = fitted.report.model,
                evaluations = fitted.report.evaluations,
                secs = clock.elapsed().as_secs_f64(),
                page_faults = crate::progress::page_faults(),
                "fitted"
            );
        }
        // a panic in the spend fit is a bug: passed on as it is
        let spend = spend.map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)));
        (fitted, spend)
    });
    let fitted = fitted?;
    let spend = match spend {
        Some(Ok(s)) => Some(s),
        Some(Err(e)) => {
            eprintln!("note: no spend model ({e}); values are left out");
            None
        }
        None => None,
    };
    spin.finish();
    if !fitted.report.converged {
        eprintln!("warning: the {} fit did not converge: {}", args.model.name(), fitted.report.message);
    }
    let unit = loaded.time_unit;
    let horizon = args.horizon.or(loaded.holdout).unwrap_or((365.0 / unit.days()).round());
    if !(horizon > 0.0 && horizon.is_finite()) {
        bail!("--horizon must be a positive number of {}s", unit.name());
    }
    let settings = ScoreSettings {
        horizon,
        margin: args.margin,
        annual_discount_rate: args.discount_rate,
        unit_days: unit.days(),
    };
    let holdout = loaded.holdout.is_some();
    let mut columns = vec![
        "customer",
        "frequency",
        "recency",
        "T",
        "monetary_value",
        "p_alive",
        "expected_purchases",
        "expected_spend",
        "lifetime_value",
        "value_at_stake",
    ];
    if holdout {
        columns.push("holdout_purchases");
    }
    let limit = row_limit(args.top, args.format);
    let (model, spend_model) = (fitted.model.as_ref(), spend.as_ref().map(|s| &s.0));
    if args.format == Format::Csv {
        // every customer goes out: each score is finished as its row is written
        let clock = std::time::Instant::now();
        let scored = score_lazily(model, spend_model, &histories, &settings);
        tracing::info!(secs = clock.elapsed().as_secs_f64(), page_faults = crate::progress::page_faults(), "scored");
        let clock = std::time::Instant::now();
        let order = scored.rank(&loaded.customers);
        tracing::info!(secs = clock.elapsed().as_secs_f64(), page_faults = crate::progress::page_faults(), "ranked");
        let clock = std::time::Instant::now();
        typed_csv(&loaded, &scored, &order, &columns, limit)?;
        tracing::info!(
            secs = clock.elapsed().as_secs_f64(),
            page_faults = crate::progress::page_faults(),
            "wrote the scores"
        );
        return Ok(());
    }
    let clock = std::time::Instant::now();
    let scores = score_histories(model, spend_model, &loaded.customers, &histories, &settings);
    // (4 bytes a customer, not needed by the ranking and the rows)
    drop(histories);
    tracing::info!(secs = clock.elapsed().as_secs_f64(), page_faults = crate::progress::page_faults(), "scored");
    let clock = std::time::Instant::now();
    let order = rank_by_value_at_stake(&scores);
    tracing::info!(secs = clock.elapsed().as_secs_f64(), page_faults = crate::progress::page_faults(), "ranked");

    let mut rows = Rows::for_format(columns, args.format);
    for &i in order.iter().take(limit) {
        let (c, s) = (&loaded.customers[i], &scores[i]);
        let mut row = summary_cells(&loaded.ids, c, loaded.has_monetary);
        row.extend([
            num(s.p_alive),
            num(s.expected_purchases),
            s.expected_spend.map_or(Value::Null, num),
            s.lifetime_value.map_or(Value::Null, num),
            num(s.value_at_stake),
        ]);
        if holdout {
            row.push(json!(c.holdout_frequency));
        }
        rows.push(row);
    }
    let expected_total: f64 = scores.iter().map(|s| s.expected_purchases).sum();
    let actual_total: u64 = loaded.customers.iter().map(|c| u64::from(c.holdout_frequency)).sum();
    let likely_lost = scores.iter().filter(|s| s.p_alive < 0.5).count();
    let at_stake: f64 = scores.iter().filter(|s| s.p_alive < 0.5).map(|s| s.value_at_stake).sum();

    match args.format {
        Format::Json => {
            let mut o = json!({
                "model": args.model.name(),
                "source": loaded.source,
                "time_unit": unit.name(),
                "horizon": horizon,
                "margin": args.margin,
                "annual_discount_rate": args.discount_rate,
                "fit": fit_json(&fitted.report),
                "spend_fit": spend.as_ref().map(|s| fit_json(&s.1)),
                "customers": rows.json(),
            });
            if let (Some(len), Some(m)) = (loaded.holdout, o.as_object_mut()) {
                m.insert(
                    "holdout".into(),
                    json!({"length": len, "expected_purchases": num(expected_total), "actual_purchases": actual_total}),
                );
            }
            emit(&format!("{}\n", serde_json::to_string_pretty(&o)?))
        }
        Format::Csv => emit_csv(rows),
        Format::Table => {
            let mut s = fit_text(&fitted.report);
            if let Some((_, r)) = &spend {
                s += &fit_text(r);
            }
            s += &format!(
                "\n{} customers; {} have probably left (P(alive) < 0.5){}.\n",
                loaded.customers.len(),
                likely_lost,
                if loaded.has_monetary {
                    format!(", with {} of past spend at stake", fmt_num(at_stake, 2))
                } else {
                    String::new()
                }
            );
            s += &format!(
                "Most valuable customers who have probably left first; expected purchases over the next {} {}s:\n{}\n",
                fmt_num(horizon, 1),
                unit.name(),
                rows.table(3)
            );
            if order.len() > limit {
                s += &format!("… {} more (--top N, or --format csv for all)\n", order.len() - limit);
            }
            if let Some(len) = loaded.holdout {
                if (len - horizon).abs() < 1e-9 {
                    s += &format!(
                        "Holdout check ({} {}s after the calibration end): expected {:.1} repeat purchases, actual {} ({:+.1}%).\n",
                        fmt_num(len, 2),
                        unit.name(),
                        expected_total,
                        actual_total,
                        100.0 * (expected_total / actual_total.max(1) as f64 - 1.0)
                    );
                }
            }
            emit(&s)
        }
    }
}

/// BG/BB: per history pattern, P(alive) and expected purchases in the next
/// `horizon` opportunities.
fn bgbb(args: &PredictArgs) -> Result<()> {
    let (m, report, patterns) = super::fit::fit_bgbb(args.input.summary.as_deref())?;
    let horizon = args.horizon.unwrap_or(5.0);
    if !(horizon >= 1.0 && horizon.fract() == 0.0) {
        bail!("--horizon for BG/BB is a whole number of future opportunities");
    }
    let mut rows = Rows::for_format(
        vec!["frequency", "recency", "periods", "customers", "p_alive", "expected_purchases"],
        args.format,
    );
    for &(x, tx, n, w) in &patterns {
        rows.push(vec![
            json!(x),
            json!(tx),
            json!(n),
            num(w),
            num(m.prob_alive(x, tx, n)),
            num(m.expected_purchases(horizon as u32, x, tx, n)),
        ]);
    }
    match args.format {
        Format::Json => emit(&format!(
            "{}\n",
            serde_json::to_string_pretty(
                &json!({"model": "bgbb", "horizon": horizon, "fit": fit_json(&report), "patterns": rows.json()})
            )?
        )),
        Format::Csv => emit_csv(rows),
        Format::Table => emit(&format!(
            "{}expected purchases over the next {horizon} opportunities:\n{}\n",
            fit_text(&report),
            rows.table(3)
        )),
    }
}

/// The scores as CSV straight from the typed rows, in rank order: the same
/// bytes the generic rows give (a test compares them), integers by itoa and
/// floats by zmij.
fn typed_csv(
    loaded: &crate::input::Loaded,
    scored: &HistoryScores,
    order: &[usize],
    columns: &[&str],
    limit: usize,
) -> Result<()> {
    use crate::output::{write_csv_f64, write_csv_f64_long, write_csv_str, write_rows_parallel, F64Memo, LastF64};

    use std::io::Write;
    let mut w = std::io::BufWriter::with_capacity(1 << 20, std::io::stdout().lock());
    let holdout = loaded.holdout.is_some();
    let order = &order[..order.len().min(limit)];
    // Rows go out in value order, so each one reads a customer, its history's
    // score and an id from random places: they are gathered a batch at a time,
    // one kind of read per pass, so that the cache misses of a pass overlap (a
    // row at a time, customer → id span → id bytes is a chain of three misses).
    const BATCH: usize = 256;
    let all_ids = loaded.ids.as_str();
    // P(alive) and the expected purchases are a history's, shared by its
    // customers (a million customers hold ~150k histories): their text is
    // made once per history, byte 0 its length.
    let shared: Vec<[u8; 64]> = winback_stats::parallel::map_rows(scored.histories(), |h| {
        let (p, e) = scored.shared(h);
        let mut f = zmij::Buffer::new();
        let mut text = Vec::with_capacity(64);
        text.push(0);
        for v in [p, e] {
            text.push(b',');
            let _ = write_csv_f64_long(&mut text, &mut f, v);
        }
        let mut out = [0u8; 64];
        // (two numbers of at most 24 characters and their commas: 50 bytes)
        out[..text.len()].copy_from_slice(&text);
        out[0] = (text.len() - 1) as u8;
        out
    });
    let chunk = |rows: std::ops::Range<usize>, w: &mut Vec<u8>| {
        let (mut f, mut n) = (zmij::Buffer::new(), itoa::Buffer::new());
        let (mut recency, mut t) = (F64Memo::new(), F64Memo::new());
        // (customers without a repeat purchase, half the base or more, come in
        // a run of like rows: the same expected spend and, per history, value)
        let (mut last_spend, mut last_value, mut last_at_stake) =
            (LastF64::default(), LastF64::default(), LastF64::default());
        let mut ids = String::with_capacity(BATCH * 16);
        let mut ends = Vec::with_capacity(BATCH);
        let mut spans: Vec<std::ops::Range<usize>> = Vec::with_capacity(BATCH);
        let mut picked: Vec<(CustomerSummary, CustomerScore)> = Vec::with_capacity(BATCH);
        let mut texts: Vec<[u8; 64]> = Vec::with_capacity(BATCH);
        // A customer without a repeat purchase (often half the base) has a
        // row that, from frequency to lifetime value, is their history's
        // alone: frequency and recency 0, T, no repeat spend, the history's
        // P(alive) and expectations, the one expected spend of no repeat
        // purchase and its lifetime value. A few hundred such histories (one
        // per first-purchase day): their text is kept, by history, and copied.
        const ZERO_SLOTS: usize = 512;
        let mut zero_rows: Vec<(u32, u8, [u8; 160])> = vec![(u32::MAX, 0, [0; 160]); ZERO_SLOTS];
        for batch in order[rows].chunks(BATCH) {
            picked.clear();
            picked.extend(batch.iter().map(|&i| (loaded.customers[i], scored.get(i, &loaded.customers[i]))));
            texts.clear();
            texts.extend(batch.iter().map(|&i| shared[scored.history_of(i)]));
            spans.clear();
            spans.extend(picked.iter().map(|(c, _)| loaded.ids.span(c.customer as usize)));
            ids.clear();
            ends.clear();
            for span in &spans {
                ids.push_str(&all_ids[span.clone()]);
                ends.push(ids.len());
            }
            let mut start = 0;
            for ((((c, s), &end), text), &i) in picked.iter().zip(&ends).zip(&texts).zip(batch.iter()) {
                // writing into a Vec cannot fail
                let _ = write_csv_str(w, &ids[start..end]);
                start = end;
                w.push(b',');
                let zero = (c.frequency == 0 && c.monetary_value.to_bits() == 0).then(|| {
                    let h = scored.history_of(i);
                    (h as u32, h % ZERO_SLOTS)
                });
                let kept = zero.filter(|&(h, slot)| zero_rows[slot].0 == h);
                if let Some((_, slot)) = kept {
                    let (_, len, bytes) = &zero_rows[slot];
                    w.extend_from_slice(&bytes[..*len as usize]);
                } else {
                    let cells = w.len();
                    w.extend_from_slice(n.format(c.frequency).as_bytes());
                    // recency and T take few values (whole days in the unit)
                    w.push(b',');
                    recency.write(w, &mut f, c.recency);
                    w.push(b',');
                    t.write(w, &mut f, c.t);
                    w.push(b',');
                    if loaded.has_monetary {
                        let _ = write_csv_f64(w, &mut f, c.monetary_value);
                    }
                    w.extend_from_slice(&text[1..=text[0] as usize]);
                    // the customer's own model outputs: long decimals, written without the short test
                    w.push(b',');
                    if let Some(v) = s.expected_spend {
                        last_spend.write(w, &mut f, v);
                    }
                    w.push(b',');
                    if let Some(v) = s.lifetime_value {
                        last_value.write(w, &mut f, v);
                    }
                    if let Some((h, slot)) = zero {
                        let text = &w[cells..];
                        if text.len() <= 160 {
                            let kept = &mut zero_rows[slot];
                            kept.2[..text.len()].copy_from_slice(text);
                            (kept.0, kept.1) = (h, text.len() as u8);
                        }
                    }
                }
                w.push(b',');
                last_at_stake.write(w, &mut f, s.value_at_stake);
                if holdout {
                    w.push(b',');
                    w.extend_from_slice(n.format(c.holdout_frequency).as_bytes());
                }
                w.push(b'\n');
            }
        }
    };
    let mut write = || -> std::io::Result<()> {
        w.write_all(columns.join(",").as_bytes())?;
        w.write_all(b"\n")?;
        write_rows_parallel(&mut w, order.len(), chunk)?;
        w.flush()
    };
    match write() {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}
