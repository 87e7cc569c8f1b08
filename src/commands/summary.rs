//! `winback summary`: the per-customer RFM summary, for inspection or other tools.

use anyhow::Result;
use serde_json::{json, Value};
use winback_domain::period::date_of;

use crate::cli::{Format, SummaryArgs};
use crate::input::load;
use crate::output::{emit, emit_csv, num, row_limit, summary_cells, Rows};

pub fn run(args: &SummaryArgs) -> Result<()> {
    let loaded = load(&args.input)?;
    let holdout = loaded.holdout.is_some();
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
        row.extend([day(c.first_day), day(c.last_day)]);
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
