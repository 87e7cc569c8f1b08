//! `winback demo`: a synthetic shop through the whole flow — files written as a
//! shop would export them, imported, analysed, causes recorded — then the headline.

use anyhow::Result;
use winback_domain::decision::{format_money as money, Decision};

use crate::cli::DemoArgs;
use crate::output::emit;

pub fn run(a: &DemoArgs) -> Result<()> {
    let req = winback_app::demo::DemoRequest {
        customers: a.customers,
        seed: a.seed,
        dir: a.dir.clone(),
        store: a.store.clone(),
        churn: match a.churn {
            crate::cli::ChurnArg::Mixed => winback_domain::business::Churn::Mixed,
            crate::cli::ChurnArg::Events => winback_domain::business::Churn::Events,
        },
    };
    let config = crate::config::load(None)?;
    let d = winback_app::demo::run(&req, &config, &mut |step| tracing::info!("demo: {step}"))?;
    eprintln!(
        "a synthetic coffee shop: {} customers, {} order lines, {} touchpoints, {} reasons given ({} to {}), in {}",
        d.customers,
        d.orders,
        d.events,
        d.reasons_given,
        d.start,
        d.end,
        a.dir.display()
    );
    for r in &d.imports {
        eprintln!("{}: {}", r.file, r.counts());
    }
    eprintln!(
        "{}: {} reasons imported, {} linked to a root cause",
        d.reasons.file, d.reasons.imported, d.reasons.linked_to_causes
    );
    for c in &d.causes {
        eprintln!("root cause #{}: {} ({})", c.cause.id, c.cause.title, c.cause.status.name());
    }
    for n in &d.analysis.notes {
        eprintln!("note: {n}");
    }
    eprintln!(
        "analysis run {}: BG/NBD fitted to {} customers (log-likelihood {:.1})",
        d.analysis.id, d.analysis.customers, d.analysis.fit.log_likelihood
    );
    headline(&d.store)
}

fn headline(db: &str) -> Result<()> {
    let mut w = super::assess::load(db, None)?;
    let r = winback_app::reports::defection(&mut w, None)?;
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
