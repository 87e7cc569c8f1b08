//! The owner's overview: what was lost and why, what holds outreach back, who
//! to act on, and how campaigns are doing, computed by the same services as
//! the command line (`lost`, `report defection`, `at-risk`, `followups`,
//! `campaign list`), so the numbers agree.

use serde::Serialize;
use winback_domain::defection::{CauseRow, MonthRow, ReasonRow};
use winback_domain::period::date_of;

use crate::assess::World;
use crate::campaigns::Summary;
use crate::Result;

#[derive(Debug, Clone, Serialize)]
pub struct Overview {
    pub as_of: String,
    pub horizon: String,
    pub customers: usize,
    /// Gone (lapsed, lost, churned) customers, as `report defection` counts them.
    pub lost: usize,
    pub lost_net_revenue: f64,
    pub lost_without_reason: usize,
    pub share_without_reason: f64,
    /// (decision, customers, held), as the footer of `winback lost`.
    pub by_decision: Vec<(String, usize, usize)>,
    /// Lost customers and their net revenue by the month they were lost.
    pub by_month: Vec<MonthRow>,
    /// Top reasons by revenue lost.
    pub reasons: Vec<ReasonRow>,
    /// Unfixed causes holding customers back, with the value at stake.
    pub open_causes: Vec<CauseRow>,
    pub at_risk: usize,
    pub followups_due: usize,
    pub campaigns: Vec<Summary>,
    pub survey_answers_week: usize,
    pub survey_answers: usize,
}

/// Compute the overview as of the store's latest analysis; `now` in unix
/// seconds dates "this week" for survey answers.
pub fn overview(w: &mut World, now: i64) -> Result<Overview> {
    let report = crate::reports::defection(w, None)?;
    let mut by: Vec<(String, usize, usize)> = Vec::new();
    for d in winback_domain::decision::Decision::ALL {
        let (mut n, mut held) = (0, 0);
        for v in w.assessed.iter().filter_map(|a| a.verdict.as_ref()).filter(|v| v.decision == d) {
            n += 1;
            held += usize::from(!v.held_by.is_empty());
        }
        by.push((d.name().to_string(), n, held));
    }
    let at_risk = crate::outcomes::at_risk(
        w,
        &crate::outcomes::AtRiskRequest {
            min_drop: 0.1,
            window_days: 90,
            playbook: None,
            method: crate::outcomes::AtRiskMethod::default(),
        },
    )?
    .len();
    let as_of = w.as_of;
    let followups_due = crate::outcomes::followups(w, as_of, true)?.len();
    let campaigns = crate::campaigns::list(w.store.as_mut())?;
    let answers = w.store.survey_responses()?;
    let week = answers.iter().filter(|a| a.first_at >= now - 7 * 86_400).count();
    Ok(Overview {
        as_of: date_of(w.as_of).to_string(),
        horizon: w.horizon.clone(),
        customers: report.customers,
        lost: report.lost,
        lost_net_revenue: report.lost_net_revenue,
        lost_without_reason: report.lost_without_reason,
        share_without_reason: report.share_without_reason,
        by_decision: by,
        by_month: report.by_month,
        reasons: report.reasons.into_iter().take(8).collect(),
        open_causes: report.open_causes,
        at_risk,
        followups_due,
        campaigns,
        survey_answers_week: week,
        survey_answers: answers.len(),
    })
}
