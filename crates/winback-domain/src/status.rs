//! Active, at risk, lapsed, lost or churned: from the model's probability alive
//! and the days since the last purchase against the customer's own rhythm.

use serde::Serialize;

use crate::facts::CustomerFacts;
use crate::period::date_of;
use crate::rules::StatusRules;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Active,
    AtRisk,
    Lapsed,
    Lost,
    /// The contract or subscription ended: lost by definition.
    Churned,
}

impl Status {
    pub fn name(self) -> &'static str {
        match self {
            Status::Active => "active",
            Status::AtRisk => "at_risk",
            Status::Lapsed => "lapsed",
            Status::Lost => "lost",
            Status::Churned => "churned",
        }
    }
    /// Lost for good or by contract: counted in defection reports.
    pub fn is_lost(self) -> bool {
        matches!(self, Status::Lost | Status::Churned)
    }
    /// Candidates for win-back decisions.
    pub fn is_gone(self) -> bool {
        matches!(self, Status::Lapsed | Status::Lost | Status::Churned)
    }
    pub const ALL: [Status; 5] = [Status::Active, Status::AtRisk, Status::Lapsed, Status::Lost, Status::Churned];
}

/// A status with the evidence for it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct StatusCall {
    pub status: Status,
    pub days_since_last: Option<i32>,
    /// Usual days between purchases: the customer's own, or the shop's for one-time buyers.
    pub usual_gap_days: Option<f64>,
    pub explanation: String,
}

/// A repeat customer's mean days between purchases.
pub fn own_gap(f: &CustomerFacts) -> Option<f64> {
    match (f.first_day, f.last_day) {
        (Some(a), Some(b)) if f.purchases >= 2 => Some(f64::from(b - a) / (f.purchases - 1) as f64),
        _ => None,
    }
}

/// The shop's usual gap: the median of repeat customers' own gaps (30 days when
/// nobody bought twice). One-time buyers are measured against it.
pub fn shop_gap(all: &[CustomerFacts]) -> f64 {
    let mut g: Vec<f64> = all.iter().filter_map(own_gap).filter(|g| *g > 0.0).collect();
    if g.is_empty() {
        return 30.0;
    }
    g.sort_by(f64::total_cmp);
    let n = g.len();
    if n % 2 == 1 {
        g[n / 2]
    } else {
        (g[n / 2 - 1] + g[n / 2]) / 2.0
    }
}

/// Classify one customer as of day `as_of`.
/// A customer whose contract ended is churned, unless they have bought since:
/// then they came back, and the usual signals tell their status.
pub fn classify(f: &CustomerFacts, as_of: i32, shop_gap_days: f64, r: &StatusRules) -> StatusCall {
    let ended = f.contract_end.filter(|&e| e <= as_of);
    if let Some(end) = ended.filter(|&e| f.last_day.is_none_or(|l| l <= e)) {
        return StatusCall {
            status: Status::Churned,
            days_since_last: f.last_day.map(|d| as_of - d),
            usual_gap_days: own_gap(f),
            explanation: format!("contract ended {}", date_of(end)),
        };
    }
    let Some(last) = f.last_day else {
        return StatusCall {
            status: Status::Active,
            days_since_last: None,
            usual_gap_days: None,
            explanation: "no purchases recorded".into(),
        };
    };
    let days = (as_of - last).max(0);
    let (gap, whose) = match own_gap(f) {
        Some(g) => (g.max(r.min_gap_days), "usual gap"),
        None => (shop_gap_days.max(r.min_gap_days), "one purchase; shop's usual gap"),
    };
    let gaps = f64::from(days) / gap;
    let by_gap = if gaps > r.lost_gaps {
        Status::Lost
    } else if gaps > r.lapsed_gaps {
        Status::Lapsed
    } else if gaps > r.at_risk_gaps {
        Status::AtRisk
    } else {
        Status::Active
    };
    let by_p = f.score.map(|s| {
        if s.p_alive < r.lost_below {
            Status::Lost
        } else if s.p_alive < r.lapsed_below {
            Status::Lapsed
        } else if s.p_alive < r.at_risk_below {
            Status::AtRisk
        } else {
            Status::Active
        }
    });
    let status = by_p.map_or(by_gap, |p| p.max(by_gap));
    let mut explanation = match ended {
        Some(e) => format!("came back after the contract ended {}; ", date_of(e)),
        None => String::new(),
    };
    explanation += &match f.score {
        Some(s) => format!("P(alive) {:.2}; ", s.p_alive),
        None => "not scored yet; ".into(),
    };
    explanation += &format!("{days} days since last order, {whose} {gap:.0} days");
    StatusCall { status, days_since_last: Some(days), usual_gap_days: Some(gap), explanation }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::LatestScore;

    fn facts(purchases: i64, first: i32, last: i32, p: Option<f64>) -> CustomerFacts {
        CustomerFacts {
            id: 1,
            external_id: "c1".into(),
            name: None,
            email: None,
            purchases,
            revenue: 100.0,
            returns: 0,
            refunds: 0.0,
            cost: 0.0,
            revenue_with_cost: 0.0,
            first_day: Some(first),
            last_day: Some(last),
            cost_to_serve: None,
            flags: String::new(),
            tags: String::new(),
            segment: None,
            do_not_contact: false,
            contract_end: None,
            score: p.map(|p| LatestScore {
                frequency: purchases - 1,
                p_alive: p,
                expected_purchases: 1.0,
                expected_spend: None,
                value_at_stake: 0.0,
                lifetime_value: None,
            }),
            ..Default::default()
        }
    }

    #[test]
    fn takes_the_worse_of_probability_and_rhythm_and_explains() {
        let r = StatusRules::default();
        // 7 purchases over 186 days: a 31-day rhythm; 212 quiet days is 6.8 gaps
        let c = classify(&facts(7, 0, 186, Some(0.9)), 398, 45.0, &r);
        assert_eq!(c.status, Status::Lost);
        assert_eq!(c.explanation, "P(alive) 0.90; 212 days since last order, usual gap 31 days");
        let c = classify(&facts(7, 0, 186, Some(0.08)), 200, 45.0, &r);
        assert_eq!(c.status, Status::Lost);
        assert_eq!(classify(&facts(7, 0, 186, Some(0.5)), 200, 45.0, &r).status, Status::AtRisk);
        assert_eq!(classify(&facts(7, 0, 186, Some(0.3)), 200, 45.0, &r).status, Status::Lapsed);
        assert_eq!(classify(&facts(7, 0, 186, Some(0.95)), 200, 45.0, &r).status, Status::Active);
        // one-time buyer: the shop's rhythm
        let c = classify(&facts(1, 100, 100, Some(1.0)), 200, 30.0, &r);
        assert_eq!(c.status, Status::Lapsed, "{c:?}");
        assert!(c.explanation.contains("shop's usual gap 30 days"));
        let mut f = facts(3, 0, 50, Some(0.99));
        f.contract_end = Some(60);
        assert_eq!(classify(&f, 70, 30.0, &r).status, Status::Churned);
        assert_eq!(classify(&f, 59, 30.0, &r).status, Status::Active);
        // they came back after the contract ended: not churned
        let mut back = facts(11, 0, 65, Some(0.99));
        back.contract_end = Some(60);
        let c = classify(&back, 70, 30.0, &r);
        assert_eq!(c.status, Status::Active, "{c:?}");
        assert!(c.explanation.starts_with("came back after the contract ended"), "{c:?}");
    }

    #[test]
    fn shop_gap_is_the_median_repeat_gap() {
        let all = [facts(2, 0, 10, None), facts(3, 0, 40, None), facts(2, 0, 30, None), facts(1, 5, 5, None)];
        assert_eq!(shop_gap(&all), 20.0);
    }
}
