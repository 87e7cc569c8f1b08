//! `winback fit`

use anyhow::{bail, Context, Result};
use serde_json::{json, Value};
use winback_domain::analysis::{fit_purchase, fit_spend, FitReport, ModelKind};
use winback_domain::tracking::{choose, Comparison, CANDIDATES};
use winback_stats::data::{DiscreteData, SurvivalData};
use winback_stats::fit::FitOptions;
use winback_stats::models;
use winback_stats::models::bgbb::BgBb;

use crate::cli::{FitArgs, Format};
use crate::input::{load_comparing, read_file};
use crate::output::{comparison_text, emit, emit_csv, fit_json, fit_text, num, Rows};
use crate::progress::Spinner;

pub fn run(args: &FitArgs) -> Result<()> {
    match args.model {
        ModelKind::Sbg => return sbg(args),
        ModelKind::Bgbb => return bgbb(args),
        _ => {}
    }
    if args.survival.is_some() {
        bail!("--survival is the input of the sBG model: add --model sbg");
    }
    let auto = (args.model == ModelKind::Auto).then_some(&CANDIDATES[..]);
    let (loaded, comparison) = load_comparing(&args.input, auto)?;
    let opts = FitOptions::default();
    let spin = Spinner::new(format!("fitting {} to {} customers", args.model.name(), loaded.customers.len()));
    let clock = std::time::Instant::now();
    let report = match choose(args.model, comparison.as_ref()) {
        Some(kind) => fit_purchase(kind, &loaded.customers, &opts)?.report,
        None => {
            if !loaded.has_monetary {
                bail!("the Gamma-Gamma spend model needs amounts: a monetary_value (or zbar) column in the summary, or an amount column in the transactions");
            }
            fit_spend(&loaded.customers, &opts)?.1
        }
    };
    tracing::info!(
        model = report.model,
        evaluations = report.evaluations,
        secs = clock.elapsed().as_secs_f64(),
        page_faults = crate::progress::page_faults(),
        "fitted"
    );
    spin.finish();
    print_report(&report, comparison.as_ref(), args.format)
}

fn print_report(report: &FitReport, comparison: Option<&Comparison>, format: Format) -> Result<()> {
    match format {
        Format::Json => {
            let mut v = fit_json(report);
            if let (Some(c), Some(m)) = (comparison, v.as_object_mut()) {
                m.insert("selection".into(), serde_json::to_value(c)?);
            }
            emit(&format!("{}\n", serde_json::to_string_pretty(&v)?))
        }
        Format::Table => emit(&(comparison.map(comparison_text).unwrap_or_default() + &fit_text(report))),
        Format::Csv => {
            let mut rows = Rows::for_format(
                vec!["model", "parameter", "estimate", "std_error", "log_likelihood", "customers", "converged"],
                format,
            );
            for ((n, v), se) in report.params.iter().zip(&report.std_errors) {
                rows.push(vec![
                    json!(report.model),
                    json!(n),
                    num(*v),
                    num(*se),
                    num(report.log_likelihood),
                    num(report.customers),
                    json!(report.converged),
                ]);
            }
            emit_csv(rows)
        }
    }
}

/// BG/BB history patterns: (frequency, recency, periods, customers).
pub type Patterns = Vec<(u32, u32, u32, f64)>;

/// Read BG/BB patterns from a `--summary` file and fit; shared with `predict`.
pub fn fit_bgbb(summary: Option<&std::path::Path>) -> Result<(BgBb, FitReport, Patterns)> {
    let Some(path) = summary else {
        bail!("BG/BB takes --summary FILE with columns frequency,recency,periods[,weights]");
    };
    let t = winback_ingest::tables::read_patterns(&read_file(path)?)
        .with_context(|| format!("reading {}", path.display()))?;
    for r in &t.rejected {
        eprintln!("warning: line {}: {}", r.line, r.reason);
    }
    let data = DiscreteData::weighted(t.rows.iter().copied())?;
    let fit = models::bgbb::fit(&data, &FitOptions::default())?;
    let p = fit.params;
    Ok((p, FitReport::new("bgbb", &fit, vec![p.alpha, p.beta, p.gamma, p.delta]), t.rows))
}

fn bgbb(args: &FitArgs) -> Result<()> {
    let (_, report, _) = fit_bgbb(args.input.summary.as_deref())?;
    print_report(&report, None, args.format)
}

fn sbg(args: &FitArgs) -> Result<()> {
    let Some(path) = &args.survival else {
        bail!("sBG takes --survival FILE: a year (or period) column and one column of survivor counts per segment");
    };
    let table = winback_ingest::tables::read_survival(&read_file(path)?)
        .with_context(|| format!("reading {}", path.display()))?;
    let segments: Vec<&(String, Vec<f64>)> = match &args.segment {
        Some(name) => vec![table.segments.iter().find(|(s, _)| s.eq_ignore_ascii_case(name)).with_context(|| {
            let names: Vec<&str> = table.segments.iter().map(|(s, _)| s.as_str()).collect();
            format!("no segment '{name}' in {}; it has: {}", path.display(), names.join(", "))
        })?],
        None => table.segments.iter().collect(),
    };
    let mut json_out = Vec::new();
    let mut text = String::new();
    for (name, counts) in segments {
        let used = args.fit_periods.map_or(counts.len(), |k| (k + 1).min(counts.len()));
        let data = SurvivalData::new(counts[..used].to_vec()).with_context(|| format!("segment {name}"))?;
        let fit = models::sbg::fit(&data, &FitOptions::default()).with_context(|| format!("segment {name}"))?;
        let m = fit.params;
        let report = FitReport::new("sbg", &fit, vec![m.alpha, m.beta]);
        let cohort = counts[0];
        let mut rows = Rows::new(vec!["period", "survivors", "expected", "retention", "fitted"]);
        for (t, &c) in counts.iter().enumerate() {
            let t32 = t as u32;
            rows.push(vec![
                json!(t),
                num(c),
                num(cohort * m.survival(t32)),
                if t == 0 { Value::Null } else { num(m.retention_rate(t32)) },
                json!(t < used),
            ]);
        }
        let derl = m.discounted_residual_lifetime(used.saturating_sub(1) as u32, args.discount_rate);
        let mut j = fit_json(&report);
        if let Some(o) = j.as_object_mut() {
            o.insert("segment".into(), json!(name));
            o.insert("fit_periods".into(), json!(used - 1));
            o.insert("projection".into(), rows.json());
            o.insert("discounted_residual_lifetime".into(), num(derl));
        }
        json_out.push(j);
        text += &format!("segment {name}\n{}", fit_text(&report));
        text += &format!("{}\n", rows.table(3));
        text += &format!(
            "a subscriber who has renewed {} times is worth {:.3} more periods of payments (discount rate {} per period)\n\n",
            used - 1,
            derl,
            args.discount_rate
        );
    }
    match args.format {
        Format::Json if json_out.len() == 1 => emit(&format!("{}\n", serde_json::to_string_pretty(&json_out[0])?)),
        Format::Json => {
            emit(&format!("{}\n", serde_json::to_string_pretty(&json!({"model": "sbg", "segments": json_out}))?))
        }
        _ => emit(&text),
    }
}
