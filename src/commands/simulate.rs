//! `winback simulate`

use std::io::Write;

use anyhow::{bail, Context, Result};
use winback_domain::period::date_of;
use winback_domain::synthetic::{generate, SyntheticLog};
use winback_stats::models::gammagamma::GammaGamma;

use crate::cli::SimulateArgs;

pub fn run(args: &SimulateArgs) -> Result<()> {
    let Some(model) = args.model.purchase() else {
        bail!("simulate draws purchase logs: --model bgnbd, paretonbd or mbgnbd");
    };
    // Published CDNOW estimates (weeks): FHL 2005 Table/Fig., Fader-Hardie notes.
    let default = match model {
        winback_domain::analysis::PurchaseModelKind::Bgnbd => [0.243, 4.414, 0.793, 2.426],
        winback_domain::analysis::PurchaseModelKind::Paretonbd => [0.553, 10.578, 0.606, 11.669],
        winback_domain::analysis::PurchaseModelKind::Mbgnbd => [0.525, 6.183, 0.891, 1.614],
    };
    let params = match &args.params {
        Some(p) if p.len() == 4 && p.iter().all(|v| *v > 0.0 && v.is_finite()) => [p[0], p[1], p[2], p[3]],
        Some(_) => bail!("--params takes four positive numbers, e.g. --params 0.243,4.414,0.793,2.426"),
        None => default,
    };
    let spend = match args.spend.as_deref() {
        None => Some(GammaGamma { p: 6.25, q: 3.74, gamma: 15.44 }),
        Some("none") => None,
        Some(s) => {
            let v: Vec<f64> = s
                .split(',')
                .map(|x| x.trim().parse::<f64>())
                .collect::<Result<_, _>>()
                .ok()
                .filter(|v: &Vec<f64>| v.len() == 3 && v.iter().all(|x| *x > 0.0 && x.is_finite()))
                .context("--spend takes p,q,gamma (three positive numbers) or 'none'")?;
            Some(GammaGamma { p: v[0], q: v[1], gamma: v[2] })
        }
    };
    if args.observation_end <= args.start {
        bail!("--observation-end must be after --start");
    }
    let log = generate(&SyntheticLog {
        model,
        params,
        spend,
        customers: args.customers,
        start: args.start,
        acquisition_days: args.acquisition_days,
        observation_end: args.observation_end,
        unit_days: args.time_unit.days(),
        seed: args.seed,
    });
    let sink: Box<dyn Write> = match &args.output {
        Some(p) => Box::new(std::fs::File::create(p).with_context(|| format!("cannot write {}", p.display()))?),
        None => Box::new(std::io::stdout().lock()),
    };
    let mut w = std::io::BufWriter::with_capacity(1 << 20, sink);
    let mut write = || -> std::io::Result<()> {
        writeln!(w, "customer_id,date,amount")?;
        // dates repeat a lot: format each distinct day once
        let mut cache: Option<(i32, String)> = None;
        for i in 0..log.len() {
            let d = log.day[i];
            if cache.as_ref().is_none_or(|(k, _)| *k != d) {
                cache = Some((d, date_of(d).format("%Y-%m-%d").to_string()));
            }
            let ds = &cache.as_ref().expect("set above").1;
            match &log.amount {
                Some(a) => writeln!(w, "{},{},{:.2}", &log.ids[log.customer[i] as usize], ds, a[i])?,
                None => writeln!(w, "{},{},", &log.ids[log.customer[i] as usize], ds)?,
            }
        }
        w.flush()
    };
    match write() {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        other => other?,
    }
    eprintln!("wrote {} transactions of {} customers (last day {})", log.len(), log.customers(), args.observation_end);
    Ok(())
}
