//! `winback customers`, `winback customer ID` and `winback export`.

use std::io::Write;
use std::path::Path;

use anyhow::{bail, Context, Result};
use serde_json::{json, Value};
use winback_domain::period::date_of;
use winback_store::CustomerView;

use crate::cli::{CustomerArgs, CustomersArgs, ExportArgs, ExportFormat, Format, Status};
use crate::output::{emit, emit_csv, fmt_num, money, num, Rows};

/// Customers in the order of value at stake (unscored last), each with its
/// status, keeping those `status` selects. Built from the same per-customer
/// facts as the statuses, in one pass over the transactions.
fn with_status(
    db: &str,
    config: Option<&Path>,
    status: Status,
    limit: Option<usize>,
) -> Result<Vec<(CustomerView, String)>> {
    let w = super::assess::load(db, config)?;
    let mut order: Vec<usize> = (0..w.facts.customers.len())
        .filter(|&i| super::lost::status_matches(status, w.assessed[i].status.status))
        .collect();
    let stake = |i: usize| w.facts.customers[i].score.map(|s| s.value_at_stake);
    order.sort_by(|&i, &j| match (stake(i), stake(j)) {
        (Some(a), Some(b)) => b.total_cmp(&a).then(i.cmp(&j)),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => i.cmp(&j),
    });
    order.truncate(limit.unwrap_or(usize::MAX));
    Ok(order
        .into_iter()
        .map(|i| {
            let f = &w.facts.customers[i];
            let view = CustomerView {
                external_id: f.external_id.clone(),
                name: f.name.clone(),
                email: f.email.clone(),
                transactions: f.purchases,
                revenue: f.net_revenue(),
                returns: f.returns,
                first_day: f.first_day,
                last_day: f.last_day,
                score: None,
            };
            (view, w.assessed[i].status.status.name().to_string(), f.score)
        })
        .map(|(mut v, s, sc)| {
            v.score = sc.map(|x| winback_store::ScoreRow {
                customer_id: 0,
                frequency: x.frequency,
                recency: 0.0,
                t: 0.0,
                monetary_value: 0.0,
                p_alive: x.p_alive,
                expected_purchases: x.expected_purchases,
                expected_spend: x.expected_spend,
                lifetime_value: x.lifetime_value,
                value_at_stake: x.value_at_stake,
            });
            (v, s)
        })
        .collect())
}

const CUSTOMER_COLUMNS: [&str; 13] = [
    "customer",
    "status",
    "name",
    "email",
    "transactions",
    "revenue",
    "returns",
    "first_purchase",
    "last_purchase",
    "p_alive",
    "expected_purchases",
    "lifetime_value",
    "value_at_stake",
];

fn customer_row(c: &CustomerView, status: &str) -> Vec<Value> {
    let day = |d: Option<i32>| d.map_or(Value::Null, |d| json!(date_of(d).to_string()));
    let opt = |v: Option<f64>| v.map_or(Value::Null, num);
    vec![
        json!(c.external_id),
        json!(status),
        json!(c.name),
        json!(c.email),
        json!(c.transactions),
        money(c.revenue),
        json!(c.returns),
        day(c.first_day),
        day(c.last_day),
        opt(c.score.map(|s| s.p_alive)),
        opt(c.score.map(|s| s.expected_purchases)),
        c.score.and_then(|s| s.lifetime_value).map_or(Value::Null, money),
        c.score.map(|s| s.value_at_stake).map_or(Value::Null, money),
    ]
}

pub fn customers(db: &str, config: Option<&Path>, a: &CustomersArgs) -> Result<()> {
    let limit = a.top.or((a.format == Format::Table).then_some(20));
    let list = with_status(db, config, a.status, limit)?;
    let mut rows = Rows::for_format(CUSTOMER_COLUMNS.to_vec(), a.format);
    for (c, s) in &list {
        rows.push(customer_row(c, s));
    }
    match a.format {
        Format::Csv => emit_csv(rows),
        Format::Json => emit(&format!("{}\n", serde_json::to_string_pretty(&rows.json())?)),
        Format::Table => emit(&format!("{}\n", rows.table(3))),
    }
}

pub fn customer(db: &str, config: Option<&Path>, a: &CustomerArgs) -> Result<()> {
    let mut c = super::assess::cached(db, config)?;
    let (id, d) = match c.store.customer(&a.id)? {
        Some(d) => (a.id.clone(), d),
        None => match winback_app::reasons::email_fallback(&a.id) {
            Some(lower) => match c.store.customer(&lower)? {
                Some(d) => (lower, d),
                None => bail!("no customer '{}' (nor '{lower}') in the store", a.id),
            },
            None => bail!("no customer '{}' in the store", a.id),
        },
    };
    let assessed = winback_app::assess::one(&mut c, &id)?;
    let all_reasons = c.store.reasons()?;
    let reasons: Vec<&winback_domain::reasons::Reason> = all_reasons.iter().filter(|r| r.customer == id).collect();
    if a.format == Format::Json {
        let mut v = serde_json::to_value(&d)?;
        if let (Some(x), Some(o)) = (&assessed, v.as_object_mut()) {
            o.insert("status".into(), json!({"status": x.status, "explanation": x.status_explanation}));
            o.insert("decision".into(), x.verdict());
            o.insert("reasons".into(), serde_json::to_value(&reasons)?);
        }
        return emit(&format!("{}\n", serde_json::to_string_pretty(&v)?));
    }
    let v = &d.view;
    let mut s = format!(
        "{}{}{}\n",
        v.external_id,
        v.name.as_ref().map_or(String::new(), |n| format!("  {n}")),
        v.email.as_ref().map_or(String::new(), |e| format!("  <{e}>"))
    );
    let consents: Vec<&str> = d.consent.iter().filter(|(_, c)| *c).map(|(k, _)| *k).collect();
    s += &format!(
        "consent: {}{}; preferred channel: {}\n",
        if consents.is_empty() { "none".to_string() } else { consents.join(", ") },
        if d.do_not_contact { " (DO NOT CONTACT)" } else { "" },
        d.preferred_channel.as_deref().unwrap_or("–")
    );
    if !d.flags.is_empty() {
        s += &format!("flags: {}\n", d.flags);
    }
    s += &format!("{} purchases, {} returns, revenue {}\n", v.transactions, v.returns, fmt_num(v.revenue, 2));
    if let Some(x) = &assessed {
        s += &format!("status: {} ({})\n", x.status, x.status_explanation);
        if let Some(decision) = &x.decision {
            s += &format!("decision: {decision}: {}\n", x.why.join("; "));
            for h in &x.held_by {
                s += &format!("HELD by root cause {h}\n");
            }
        }
    }
    for r in &reasons {
        s += &format!(
            "reason ({} {}, {}): {}{}{}\n",
            r.source.name(),
            date_of(r.day),
            r.scope.name(),
            r.category,
            r.detail.as_ref().map_or(String::new(), |d| format!(" — {d}")),
            r.suggestion.as_ref().map_or(String::new(), |x| format!("; suggests: {x}"))
        );
    }
    let mut h =
        Rows::new(vec!["run", "at", "frequency", "p_alive", "expected_purchases", "lifetime_value", "value_at_stake"]);
    for (id, at, sc) in &d.history {
        h.push(vec![
            json!(id),
            json!(at),
            json!(sc.frequency),
            num(sc.p_alive),
            num(sc.expected_purchases),
            sc.lifetime_value.map_or(Value::Null, num),
            num(sc.value_at_stake),
        ]);
    }
    if !d.history.is_empty() {
        s += &format!("scores by run:\n{}\n", h.table(3));
    }
    let mut t = Rows::new(vec!["date", "amount", "return", "transaction", "product"]);
    for (day, amount, ret, id, product) in &d.transactions {
        t.push(vec![
            json!(date_of(*day).to_string()),
            amount.map_or(Value::Null, num),
            json!(if *ret { "yes" } else { "" }),
            json!(id),
            json!(product),
        ]);
    }
    s += &format!("purchase history:\n{}\n", t.table(2));
    if !d.events.is_empty() {
        let mut e = Rows::new(vec!["date", "event", "details"]);
        for (day, kind, attrs) in &d.events {
            e.push(vec![json!(date_of(*day).to_string()), json!(kind), json!(attrs)]);
        }
        s += &format!("events:\n{}\n", e.table(2));
    }
    emit(&s)
}

pub fn export(db: &str, config: Option<&Path>, a: &ExportArgs) -> Result<()> {
    let list = with_status(db, config, a.status, None)?;
    let mut rows = Rows::new(CUSTOMER_COLUMNS.to_vec());
    for (c, s) in &list {
        rows.push(customer_row(c, s));
    }
    if a.format == ExportFormat::Parquet {
        let Some(p) = &a.output else { bail!("--format parquet writes a file: give it with --output FILE") };
        let bytes = winback_ingest::parquet::write_table(&rows.columns, &rows.rows)?;
        std::fs::write(p, bytes).with_context(|| format!("cannot write {}", p.display()))?;
        eprintln!("wrote {} customers to {}", rows.rows.len(), p.display());
        return Ok(());
    }
    let mut out: Box<dyn Write> = match &a.output {
        Some(p) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(p).with_context(|| format!("cannot write {}", p.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    match a.format {
        ExportFormat::Json => writeln!(out, "{}", serde_json::to_string_pretty(&rows.json())?)?,
        ExportFormat::Csv => rows.write_csv(&mut out)?,
        ExportFormat::Parquet => unreachable!("written above"),
    }
    out.flush()?;
    Ok(())
}
