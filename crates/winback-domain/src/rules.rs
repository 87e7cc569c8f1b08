//! The thresholds behind statuses and decisions, with documented defaults. A
//! business overrides any of them in its config file (`winback config init`
//! writes the commented defaults).

use serde::{Deserialize, Serialize};

use crate::reasons::CategoryDef;

/// When a customer counts as at risk, lapsed or lost. A customer takes the worse
/// of two signals: the model's probability alive, and the days since their last
/// purchase measured against their own usual gap between purchases.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct StatusRules {
    /// P(alive) below this: at risk.
    pub at_risk_below: f64,
    /// P(alive) below this: lapsed.
    pub lapsed_below: f64,
    /// P(alive) below this: lost.
    pub lost_below: f64,
    /// Days since the last purchase above this many usual gaps: at risk.
    pub at_risk_gaps: f64,
    /// … lapsed.
    pub lapsed_gaps: f64,
    /// … lost.
    pub lost_gaps: f64,
    /// The usual gap is never taken shorter than this many days (a customer who
    /// bought twice in one week has not left after three quiet weeks).
    pub min_gap_days: f64,
}

impl Default for StatusRules {
    fn default() -> Self {
        StatusRules {
            at_risk_below: 0.7,
            lapsed_below: 0.4,
            lost_below: 0.15,
            at_risk_gaps: 2.0,
            lapsed_gaps: 3.0,
            lost_gaps: 5.0,
            min_gap_days: 14.0,
        }
    }
}

/// Who is worth winning back.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct DecisionRules {
    /// Refunds above this share of what a customer bought: walk away.
    pub max_return_rate: f64,
    /// Expected revenue if won back (over the run's horizon) below this: keep in
    /// touch instead of a win-back effort.
    pub min_value: f64,
    /// Walk away from customers who never earned a margin (after refunds and cost to serve).
    pub walk_away_if_unprofitable: bool,
    /// Customer flags that rule out contact.
    pub walk_away_flags: Vec<String>,
    /// Customer tags that mean "keep in touch" (they outgrew us, their needs changed).
    pub keep_in_touch_tags: Vec<String>,
    /// Top share of customers by net revenue that form the "top" value tier, and
    /// the next share the "mid" tier.
    pub top_tier_share: f64,
    pub mid_tier_share: f64,
}

impl Default for DecisionRules {
    fn default() -> Self {
        DecisionRules {
            max_return_rate: 0.3,
            min_value: 25.0,
            walk_away_if_unprofitable: true,
            walk_away_flags: vec!["fraud".into(), "abusive".into()],
            keep_in_touch_tags: vec!["outgrew_us".into(), "moved".into()],
            top_tier_share: 0.1,
            mid_tier_share: 0.3,
        }
    }
}

/// Everything a business can configure for statuses, decisions and reasons.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Rules {
    pub status: StatusRules,
    pub decision: DecisionRules,
    /// Extra reason categories, or new labels for default ones.
    pub categories: Vec<CategoryDef>,
    /// Which event kinds expose a customer to a cause in a reason category
    /// (`winback at-risk`): category → event kinds.
    pub exposure: std::collections::BTreeMap<String, Vec<String>>,
    /// Check-ins after a customer is won back, in days after their return.
    pub followup_days: Vec<i32>,
}

impl Default for Rules {
    fn default() -> Self {
        let kinds = |k: &[&str]| k.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        Rules {
            status: StatusRules::default(),
            decision: DecisionRules::default(),
            categories: Vec::new(),
            exposure: [
                ("delivery", kinds(&["late_delivery"])),
                ("poor_service", kinds(&["support_ticket"])),
                ("staff", kinds(&["complaint"])),
                ("product_quality", kinds(&["return"])),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
            followup_days: vec![14, 60],
        }
    }
}

impl Rules {
    /// Thresholds must be ordered and in range; says which is not.
    pub fn check(&self) -> Result<(), String> {
        let s = &self.status;
        let ordered = (0.0..=1.0).contains(&s.lost_below)
            && s.lost_below <= s.lapsed_below
            && s.lapsed_below <= s.at_risk_below
            && s.at_risk_below <= 1.0;
        if !ordered {
            return Err("status: need 0 ≤ lost_below ≤ lapsed_below ≤ at_risk_below ≤ 1".into());
        }
        if !(s.at_risk_gaps > 0.0 && s.at_risk_gaps <= s.lapsed_gaps && s.lapsed_gaps <= s.lost_gaps) {
            return Err("status: need 0 < at_risk_gaps ≤ lapsed_gaps ≤ lost_gaps".into());
        }
        if !(s.min_gap_days >= 1.0) {
            return Err("status: min_gap_days must be at least 1".into());
        }
        let d = &self.decision;
        if !(d.max_return_rate > 0.0) || !(d.min_value >= 0.0) {
            return Err("decision: max_return_rate must be > 0 and min_value ≥ 0".into());
        }
        if !(d.top_tier_share > 0.0 && d.mid_tier_share >= 0.0 && d.top_tier_share + d.mid_tier_share <= 1.0) {
            return Err("decision: tier shares must be positive and add up to at most 1".into());
        }
        Ok(())
    }
}
