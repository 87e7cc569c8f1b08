//! Reports over the whole store: why customers left and what it cost (the
//! defection report), and the touchpoints that precede defection (journey).

use winback_domain::defection::{build, Input, Report};
use winback_domain::journey::{signals, Signal};

use crate::assess::World;
use crate::{AppError, Result};

/// The defection report as of the latest analysis, counting customers lost
/// since `since` (a day number) when given.
pub fn defection(w: &mut World, since: Option<i32>) -> Result<Report> {
    let products = w.store.product_revenue()?;
    let statuses: Vec<_> = w.assessed.iter().map(|a| a.status.clone()).collect();
    let tracking = w.facts.run.as_ref().and_then(|r| {
        let v: serde_json::Value = serde_json::from_str(&r.params).ok()?;
        serde_json::from_value(v.get("selection")?.clone()).ok()
    });
    let mut report = build(&Input {
        facts: &w.facts.customers,
        statuses: &statuses,
        reasons: &w.reasons,
        causes: &w.causes,
        taxonomy: &w.config.taxonomy,
        products: &products,
        as_of: w.as_of,
        since,
    });
    report.tracking = tracking;
    Ok(report)
}

/// Touchpoints in the `window` days before customers were lost, against those
/// who stayed: the journey signals.
pub fn journey(w: &mut World, window: i32) -> Result<Vec<Signal>> {
    if window <= 0 {
        return Err(AppError::Invalid("--window must be at least one day".into()));
    }
    let events = w.store.events()?;
    let statuses: Vec<_> = w.assessed.iter().map(|x| x.status.clone()).collect();
    Ok(signals(&w.facts.customers, &statuses, &events, w.as_of, window))
}
