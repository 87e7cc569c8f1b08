//! `winback demo`: a synthetic shop through the whole flow — files written as a
//! shop would export them, imported, analysed, causes recorded — then the headline.

use std::path::Path;

use anyhow::{Context, Result};
use clap::Parser;
use winback_domain::business::{generate, iso, Business};
use winback_domain::decision::{format_money as money, Decision};

use crate::cli::{Cli, DemoArgs};
use crate::output::emit;

fn write_csv(path: &Path, header: &[&str], rows: impl Iterator<Item = Vec<String>>) -> Result<()> {
    let mut w = csv::Writer::from_path(path).with_context(|| format!("cannot write {}", path.display()))?;
    w.write_record(header)?;
    for r in rows {
        w.write_record(&r)?;
    }
    w.flush()?;
    Ok(())
}

fn yes(b: Option<bool>) -> String {
    b.map_or(String::new(), |b| if b { "yes".into() } else { "no".into() })
}

/// Write the shop's exports: customers (CRM), orders with refunds, touchpoints, reasons.
pub fn write_files(b: &Business, dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let opt = |s: &Option<String>| s.clone().unwrap_or_default();
    write_csv(
        &dir.join("customers.csv"),
        &[
            "customer_id",
            "name",
            "email",
            "phone",
            "preferred_channel",
            "consent_email",
            "consent_sms",
            "consent_phone",
            "consent_mail",
            "do_not_contact",
            "flags",
            "cost_to_serve",
            "segment",
            "tags",
            "contract_start",
            "contract_end",
        ],
        b.customers.iter().map(|c| {
            vec![
                c.external_id.clone(),
                opt(&c.name),
                opt(&c.email),
                opt(&c.phone),
                opt(&c.preferred_channel),
                yes(c.consent_email),
                yes(c.consent_sms),
                yes(c.consent_phone),
                yes(c.consent_mail),
                yes(c.do_not_contact),
                opt(&c.flags),
                c.cost_to_serve.map_or(String::new(), |v| format!("{v:.2}")),
                opt(&c.segment),
                opt(&c.tags),
                c.contract_start.map_or(String::new(), iso),
                c.contract_end.map_or(String::new(), iso),
            ]
        }),
    )?;
    write_csv(
        &dir.join("orders.csv"),
        &["order_id", "customer_id", "order_date", "total", "cost", "channel", "product"],
        b.orders.iter().map(|o| {
            vec![
                o.order_id.clone(),
                o.customer.clone(),
                iso(o.day),
                format!("{:.2}", o.amount),
                o.cost.map_or(String::new(), |c| format!("{c:.2}")),
                o.channel.into(),
                o.product.into(),
            ]
        }),
    )?;
    write_csv(
        &dir.join("events.csv"),
        &["customer_id", "date", "kind", "details"],
        b.events.iter().map(|e| vec![e.customer.clone(), iso(e.day), e.kind.clone(), e.attributes.clone()]),
    )?;
    write_csv(
        &dir.join("reasons.csv"),
        &["customer", "category", "scope", "detail", "suggestion", "source", "date", "recorded_by"],
        b.reasons.iter().map(|r| {
            vec![
                r.customer.clone(),
                r.category.into(),
                r.scope.into(),
                r.detail.clone(),
                r.suggestion.unwrap_or("").into(),
                r.source.into(),
                iso(r.day),
                "customer care".into(),
            ]
        }),
    )?;
    Ok(())
}

fn step(db: &str, args: &[&str]) -> Result<()> {
    let mut full = vec!["winback", "--db", db];
    full.extend_from_slice(args);
    let cli = Cli::try_parse_from(&full).with_context(|| format!("demo step {args:?}"))?;
    crate::dispatch(&cli)
}

pub fn run(a: &DemoArgs) -> Result<()> {
    anyhow::ensure!(a.customers >= 50, "--customers: at least 50 for a meaningful demo");
    let b = generate(a.customers, a.seed);
    write_files(&b, &a.dir)?;
    let db = match &a.store {
        Some(url) => url.clone(),
        None => {
            // the demo's own file: start afresh each run
            for suffix in ["", "-wal", "-shm"] {
                let p = a.dir.join(format!("winback.db{suffix}"));
                if p.exists() {
                    std::fs::remove_file(&p).with_context(|| format!("cannot replace {}", p.display()))?;
                }
            }
            a.dir.join("winback.db").display().to_string()
        }
    };
    let file = |n: &str| a.dir.join(n).display().to_string();
    eprintln!(
        "a synthetic coffee shop: {} customers, {} order lines, {} touchpoints, {} reasons given ({} to {}), in {}",
        b.customers.len(),
        b.orders.len(),
        b.events.len(),
        b.reasons.len(),
        b.start,
        b.end,
        a.dir.display()
    );
    step(&db, &["import", "customers", &file("customers.csv")])?;
    step(&db, &["import", "transactions", &file("orders.csv")])?;
    step(&db, &["import", "events", &file("events.csv")])?;
    step(&db, &["reason", "import", &file("reasons.csv")])?;
    for c in &b.causes {
        let cats = c.categories.join(",");
        let mut args = vec!["fix", "add", "--title", c.title, "--categories", &cats, "--status", c.status];
        let fixed = c.fixed_on.map(iso);
        if let Some(d) = &fixed {
            args.extend_from_slice(&["--fixed-on", d]);
        }
        if let Some(x) = c.announcement {
            args.extend_from_slice(&["--announce", x]);
        }
        step(&db, &args)?;
    }
    let end = b.end.to_string();
    let cli = Cli::try_parse_from(["winback", "analyze", "--observation-end", &end])?;
    let crate::cli::Command::Analyze(args) = &cli.command else { unreachable!("parsed as analyze") };
    let run = super::store::run_analysis(&db, args)?;
    eprintln!(
        "analysis run {}: BG/NBD fitted to {} customers (log-likelihood {:.1})",
        run.id, run.customers, run.fit.log_likelihood
    );
    headline(&db)
}

fn headline(db: &str) -> Result<()> {
    let mut w = super::assess::load(db, None)?;
    let r = super::report::defection_report(&mut w, None)?;
    let mut s = format!(
        "\n== winback demo: {} ==\n{} of {} customers are lost, worth {} in net revenue ({:.0}% gave no reason yet).\n",
        r.as_of,
        r.lost,
        r.customers,
        money(r.lost_net_revenue),
        100.0 * r.share_without_reason
    );
    s += "\ntop reasons by revenue lost:\n";
    for x in r.reasons.iter().take(5) {
        s += &format!(
            "  {:<30} {:>4} customers  {:>12}  ({:.0}%)\n",
            x.label,
            x.customers,
            money(x.revenue_lost),
            100.0 * x.share_of_revenue_lost
        );
    }
    if !r.open_causes.is_empty() {
        s += "\nopen causes holding customers back (fix first, then reach out):\n";
        for c in &r.open_causes {
            s += &format!(
                "  #{} {} [{}]: {} customers held, {} at stake\n",
                c.id,
                c.title,
                c.status,
                c.held_customers,
                money(c.held_value)
            );
        }
    }
    let mut win: Vec<usize> = (0..w.assessed.len())
        .filter(|&i| w.assessed[i].verdict.as_ref().is_some_and(|v| v.decision == Decision::WinBack))
        .collect();
    let value = |i: usize| w.assessed[i].verdict.as_ref().map_or(0.0, |v| v.worth.value_if_won);
    win.sort_by(|&i, &j| value(j).total_cmp(&value(i)));
    s += &format!("\nthe ten most valuable customers to win back ({} in all):\n", win.len());
    for &i in win.iter().take(10) {
        let (f, x) = (&w.facts.customers[i], &w.assessed[i]);
        let v = x.verdict.as_ref().expect("filtered");
        let held = v.held_by.first().map_or(String::new(), |h| format!("  HELD by #{} {}", h.cause, h.title));
        s += &format!(
            "  {} {:<18} {:<8} worth {:>9} if won back; {}{held}\n",
            f.external_id,
            f.name.as_deref().unwrap_or(""),
            x.status.status.name(),
            money(v.worth.value_if_won),
            x.status.explanation
        );
    }
    s += &format!(
        "\nexplore (the store is {db}):\n  export WINBACK_DB={db}\n  winback lost --decision win_back --not-held\n  winback lost --decision walk_away\n  winback customer {}\n  winback reason list --category delivery\n  winback fix list\n  winback report defection --format html -o defection.html\n  winback report journey\n  winback campaign create first --holdout 0.2 --dry-run\n",
        win.first().map_or("C00001", |&i| w.facts.customers[i].external_id.as_str())
    );
    emit(&s)
}
