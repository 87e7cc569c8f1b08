//! `winback lost`: lapsed, lost and churned customers with their decisions.

use std::path::Path;

use anyhow::Result;
use serde_json::{json, Value};
use winback_domain::decision::Decision;
use winback_domain::status::Status as St;

use crate::cli::{DecisionArg, Format, LostArgs, Status};
use crate::output::{emit, emit_rows, money, num, row_limit, Rows};

pub fn status_matches(want: Status, s: St) -> bool {
    match want {
        Status::Active => s == St::Active,
        Status::AtRisk => s == St::AtRisk,
        Status::Lapsed => s == St::Lapsed,
        Status::Lost => s == St::Lost,
        Status::Churned => s == St::Churned,
        Status::Gone => s.is_gone(),
        Status::All => true,
    }
}

fn decision(d: DecisionArg) -> Decision {
    match d {
        DecisionArg::WinBack => Decision::WinBack,
        DecisionArg::KeepInTouch => Decision::KeepInTouch,
        DecisionArg::WalkAway => Decision::WalkAway,
    }
}

pub fn run(db: &str, config: Option<&Path>, a: &LostArgs) -> Result<()> {
    let w = super::assess::load(db, config)?;
    let mut picked: Vec<usize> = (0..w.assessed.len())
        .filter(|&i| {
            let x = &w.assessed[i];
            let Some(v) = &x.verdict else { return false };
            a.status.is_none_or(|s| status_matches(s, x.status.status))
                && a.decision.is_none_or(|d| v.decision == decision(d))
                && (!a.held || !v.held_by.is_empty())
                && (!a.not_held || v.held_by.is_empty())
        })
        .collect();
    let value = |i: usize| w.assessed[i].verdict.as_ref().map_or(0.0, |v| v.worth.value_if_won);
    picked.sort_by(|&i, &j| value(j).total_cmp(&value(i)).then(i.cmp(&j)));
    let total = picked.len();
    picked.truncate(row_limit(a.top, a.format));

    let table = a.format == Format::Table;
    let columns = if table {
        vec!["customer", "name", "status", "decision", "value if won", "net revenue", "returns", "why", "held by"]
    } else {
        vec![
            "customer",
            "name",
            "email",
            "status",
            "status_explanation",
            "decision",
            "codes",
            "why",
            "held_by",
            "tier",
            "value_if_won",
            "net_revenue",
            "net_margin",
            "share_of_revenue",
            "return_rate",
            "value_at_stake",
            "p_alive",
            "reasons_given",
        ]
    };
    let mut rows = Rows::for_format(columns, a.format);
    let mut given: std::collections::HashMap<i64, Vec<&str>> = Default::default();
    for r in &w.reasons {
        given.entry(r.customer_id).or_default().push(r.category.as_str());
    }
    for &i in &picked {
        let (f, x) = (&w.facts.customers[i], &w.assessed[i]);
        let v = x.verdict.as_ref().expect("filtered to customers with a verdict");
        let held: Vec<String> =
            v.held_by.iter().map(|h| format!("#{} {} ({})", h.cause, h.title, h.status.name())).collect();
        let why: Vec<&str> = v.why.iter().map(|y| y.text.as_str()).collect();
        if table {
            rows.push(vec![
                json!(f.external_id),
                json!(f.name),
                json!(x.status.status.name()),
                json!(v.decision.name()),
                money(v.worth.value_if_won),
                money(v.worth.net_revenue),
                json!(format!("{:.0}%", 100.0 * v.worth.return_rate)),
                json!(why.join("; ")),
                json!(held.join("; ")),
            ]);
        } else {
            let codes: Vec<&str> = v.why.iter().map(|y| y.code.as_str()).collect();
            let mut cats = given.get(&f.id).cloned().unwrap_or_default();
            cats.sort_unstable();
            cats.dedup();
            let list = |xs: Vec<String>| if a.format == Format::Json { json!(xs) } else { json!(xs.join("; ")) };
            rows.push(vec![
                json!(f.external_id),
                json!(f.name),
                json!(f.email),
                json!(x.status.status.name()),
                json!(x.status.explanation),
                json!(v.decision.name()),
                list(codes.iter().map(|s| s.to_string()).collect()),
                list(why.iter().map(|s| s.to_string()).collect()),
                list(held),
                json!(v.worth.tier.name()),
                money(v.worth.value_if_won),
                money(v.worth.net_revenue),
                money(v.worth.net_margin),
                num(v.worth.share_of_revenue),
                num(v.worth.return_rate),
                f.score.map_or(Value::Null, |s| money(s.value_at_stake)),
                f.score.map_or(Value::Null, |s| num(s.p_alive)),
                list(cats.iter().map(|s| s.to_string()).collect()),
            ]);
        }
    }
    if table {
        let mut counts = [0usize; 3];
        // the same counts as the filters give: `lost --held` lists `held`
        let (mut held, mut held_win_back) = (0, 0);
        for v in w.assessed.iter().filter_map(|x| x.verdict.as_ref()) {
            counts[v.decision as usize] += 1;
            held += usize::from(!v.held_by.is_empty());
            held_win_back += usize::from(!v.held_by.is_empty() && v.decision == Decision::WinBack);
        }
        emit(&format!(
            "{}\n{} of {total} shown; value if won back = expected revenue over {}.\nall gone customers: {} win_back, {} keep_in_touch, {} walk_away; {held} held by an unfixed cause ({held_win_back} of them win_back; `winback lost --held`).\n",
            rows.table(2),
            picked.len(),
            w.horizon,
            counts[0],
            counts[1],
            counts[2],
        ))
    } else {
        emit_rows(rows, a.format, 2)
    }
}
