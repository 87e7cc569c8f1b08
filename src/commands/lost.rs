//! `winback lost`: lapsed, lost and churned customers with their decisions.

use std::path::Path;

use anyhow::Result;
use serde_json::{json, Value};
use winback_domain::decision::Decision;
use winback_domain::status::Status as St;

use crate::cli::{DecisionArg, Format, LostArgs, Status};
use crate::output::{emit, emit_rows, money, num, row_limit, Rows};
use winback_app::assess::LostFilter;

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
    let mut c = super::assess::cached(db, config)?;
    let filter = LostFilter {
        statuses: a.status.map_or_else(Vec::new, |want| {
            [St::Active, St::AtRisk, St::Lapsed, St::Lost, St::Churned]
                .into_iter()
                .filter(|s| status_matches(want, *s))
                .collect()
        }),
        decision: a.decision.map(decision),
        held: if a.held {
            Some(true)
        } else if a.not_held {
            Some(false)
        } else {
            None
        },
        limit: Some(row_limit(a.top, a.format)).filter(|n| *n != usize::MAX),
        segment: a.segment.clone(),
        tier: a.tier.clone(),
        order: match a.sort.as_str() {
            "recent" => winback_store::AssessedOrder::Recent,
            "longest" => winback_store::AssessedOrder::Longest,
            _ => winback_store::AssessedOrder::Value,
        },
        ..Default::default()
    };
    let list = winback_app::assess::lost(&mut c, &filter)?;
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
    let opt_money = |v: Option<f64>| v.map_or(Value::Null, money);
    let opt_num = |v: Option<f64>| v.map_or(Value::Null, num);
    for x in &list.customers {
        if table {
            rows.push(vec![
                json!(x.customer),
                json!(x.name),
                json!(x.status),
                json!(x.decision),
                opt_money(x.value_if_won),
                money(x.net_revenue),
                json!(format!("{:.0}%", 100.0 * x.return_rate.unwrap_or(0.0))),
                json!(x.why.join("; ")),
                json!(x.held_by.join("; ")),
            ]);
        } else {
            let list = |xs: &[String]| if a.format == Format::Json { json!(xs) } else { json!(xs.join("; ")) };
            rows.push(vec![
                json!(x.customer),
                json!(x.name),
                json!(x.email),
                json!(x.status),
                json!(x.status_explanation),
                json!(x.decision),
                list(&x.codes),
                list(&x.why),
                list(&x.held_by),
                json!(x.tier),
                opt_money(x.value_if_won),
                money(x.net_revenue),
                opt_money(x.net_margin),
                opt_num(x.share_of_revenue),
                opt_num(x.return_rate),
                opt_money(x.value_at_stake),
                opt_num(x.p_alive),
                list(&x.reasons_given),
            ]);
        }
    }
    if !table {
        return emit_rows(rows, a.format, 2);
    }
    // the same counts as the filters give: `lost --held` lists `held`
    let count = |d: Decision| list.by_decision.iter().find(|x| x.0 == d.name()).map_or((0, 0), |x| (x.1, x.2));
    let held: usize = list.by_decision.iter().map(|x| x.2).sum();
    emit(&format!(
        "{}\n{} of {} shown; value if won back = expected revenue over {}.\nall gone customers: {} win_back, {} keep_in_touch, {} walk_away; {held} held by an unfixed cause ({} of them win_back; `winback lost --held`).\n",
        rows.table(2),
        list.customers.len(),
        list.total,
        list.horizon,
        count(Decision::WinBack).0,
        count(Decision::KeepInTouch).0,
        count(Decision::WalkAway).0,
        count(Decision::WinBack).1,
    ))
}
