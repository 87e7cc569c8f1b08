//! Is a lapsed or lost customer worth winning back? Value net of refunds and cost
//! to serve, what they would bring if they came back, their return rate and
//! flags, and what they told us — turned into a decision with every reason for it.

use serde::Serialize;

use crate::causes::{CauseStatus, RootCause};
use crate::facts::CustomerFacts;
use crate::reasons::{Reason, Taxonomy};
use crate::rules::DecisionRules;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    WinBack,
    KeepInTouch,
    WalkAway,
}

impl Decision {
    pub const ALL: [Decision; 3] = [Decision::WinBack, Decision::KeepInTouch, Decision::WalkAway];

    pub fn name(self) -> &'static str {
        match self {
            Decision::WinBack => "win_back",
            Decision::KeepInTouch => "keep_in_touch",
            Decision::WalkAway => "walk_away",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    Top,
    Mid,
    Low,
}

impl Tier {
    pub fn name(self) -> &'static str {
        match self {
            Tier::Top => "top",
            Tier::Mid => "mid",
            Tier::Low => "low",
        }
    }
}

/// One reason behind a decision, as a stable code and in words.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Why {
    pub code: String,
    pub text: String,
}

/// A cause that holds a customer from outreach.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Hold {
    pub cause: i64,
    pub title: String,
    pub status: CauseStatus,
}

/// What a customer is worth.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Worth {
    pub revenue: f64,
    pub net_revenue: f64,
    /// Net revenue × gross margin rate, less cost to serve over the tenure.
    pub net_margin: f64,
    /// Expected revenue over the run's horizon if they come back.
    pub value_if_won: f64,
    /// Their share of all customers' net revenue.
    pub share_of_revenue: f64,
    pub return_rate: f64,
    pub tier: Tier,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verdict {
    pub decision: Decision,
    pub why: Vec<Why>,
    pub held_by: Vec<Hold>,
    pub worth: Worth,
}

/// Shared by every customer's decision.
#[derive(Debug, Clone)]
pub struct Context<'a> {
    pub as_of: i32,
    pub total_net_revenue: f64,
    /// Net revenue at or above which a customer is top tier, and mid tier.
    pub tier_cutoffs: (f64, f64),
    /// Words for the run's horizon, e.g. "the next 52 weeks".
    pub horizon: &'a str,
    pub rules: &'a DecisionRules,
    pub taxonomy: &'a Taxonomy,
    pub causes: &'a [RootCause],
}

/// Net-revenue cut-offs of the top and mid tiers among all customers.
pub fn tier_cutoffs(all: &[CustomerFacts], r: &DecisionRules) -> (f64, f64) {
    let mut v: Vec<f64> = all.iter().filter(|f| f.purchases > 0).map(CustomerFacts::net_revenue).collect();
    if v.is_empty() {
        return (f64::INFINITY, f64::INFINITY);
    }
    v.sort_by(|a, b| b.total_cmp(a));
    let at = |share: f64| v[((share * v.len() as f64).ceil() as usize).clamp(1, v.len()) - 1];
    (at(r.top_tier_share), at(r.top_tier_share + r.mid_tier_share))
}

/// Expected revenue over the run's horizon if the customer comes back. For
/// BG/NBD, E[Y(t) | x, t_x, T] = P(alive | x, t_x, T) × E[Y(t) | alive, x, T]
/// (Fader, Hardie & Lee 2005, eq. 10 with eq. 11 factored out), so dividing by
/// P(alive) leaves the purchases of a customer who is (again) active. Spend per
/// purchase is the Gamma-Gamma expectation, else their own mean net purchase.
/// Without a score: their past net revenue per year of tenure.
pub fn value_if_won(f: &CustomerFacts, as_of: i32) -> f64 {
    let mean = if f.purchases > 0 { f.net_revenue() / f.purchases as f64 } else { 0.0 };
    match f.score {
        Some(s) if s.p_alive > 1e-12 => s.expected_purchases / s.p_alive * s.expected_spend.unwrap_or(mean),
        Some(s) => s.expected_spend.unwrap_or(mean) * f.purchases as f64 / f.tenure_years(as_of).max(1.0),
        None => f.net_revenue() / f.tenure_years(as_of).max(1.0),
    }
}

fn money(x: f64) -> String {
    let neg = x < 0.0;
    let cents = (x.abs() * 100.0).round() as u64;
    let units = (cents / 100).to_string();
    let mut out = String::new();
    for (i, ch) in units.chars().enumerate() {
        if i > 0 && (units.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    format!("{}{out}.{:02}", if neg { "−" } else { "" }, cents % 100)
}

/// Decide for one customer, given the reasons they gave (theirs only).
pub fn decide(f: &CustomerFacts, reasons: &[&Reason], cx: &Context) -> Verdict {
    let r = cx.rules;
    let net = f.net_revenue();
    let tier = if net >= cx.tier_cutoffs.0 {
        Tier::Top
    } else if net >= cx.tier_cutoffs.1 {
        Tier::Mid
    } else {
        Tier::Low
    };
    let worth = Worth {
        revenue: f.revenue,
        net_revenue: net,
        net_margin: f.net_margin(cx.as_of),
        value_if_won: value_if_won(f, cx.as_of),
        share_of_revenue: if cx.total_net_revenue > 0.0 { net / cx.total_net_revenue } else { 0.0 },
        return_rate: f.return_rate(),
        tier,
    };
    let why = |code: String, text: String| Why { code, text };
    let mut away = Vec::new();
    for flag in &r.walk_away_flags {
        if f.has_flag(flag) {
            away.push(why(format!("flag_{}", flag.to_lowercase()), format!("flagged {flag}")));
        }
    }
    if f.do_not_contact {
        away.push(why("do_not_contact".into(), "asked not to be contacted".into()));
    }
    if worth.return_rate > r.max_return_rate {
        away.push(why(
            "high_return_rate".into(),
            format!(
                "returns {:.0}% of what they buy (limit {:.0}%)",
                100.0 * worth.return_rate,
                100.0 * r.max_return_rate
            ),
        ));
    }
    if r.walk_away_if_unprofitable && f.purchases > 0 && worth.net_margin <= 0.0 {
        away.push(why(
            "unprofitable".into(),
            format!("never profitable: net margin {} after refunds and cost to serve", money(worth.net_margin)),
        ));
    }
    let held_by: Vec<Hold> = {
        let mut ids: Vec<i64> = reasons.iter().filter_map(|x| x.cause).collect();
        ids.sort_unstable();
        ids.dedup();
        ids.iter()
            .filter_map(|id| cx.causes.iter().find(|c| c.id == *id))
            .filter(|c| c.status.holds())
            .map(|c| Hold { cause: c.id, title: c.title.clone(), status: c.status })
            .collect()
    };
    if !away.is_empty() {
        return Verdict { decision: Decision::WalkAway, why: away, held_by, worth };
    }
    let mut keep = Vec::new();
    if reasons.iter().any(|x| x.wont_return) {
        keep.push(why("wont_return".into(), "said they would not come back: keep in touch, don't chase".into()));
    }
    for tag in &r.keep_in_touch_tags {
        if f.has_tag(tag) {
            keep.push(why(format!("tag_{}", tag.to_lowercase()), format!("tagged {tag}: keep in touch, don't chase")));
        }
    }
    let mut said: Vec<&str> = reasons.iter().map(|x| x.category.as_str()).collect();
    said.sort_unstable();
    said.dedup();
    for c in reasons.iter().map(|x| &x.category).filter(|c| cx.taxonomy.keep_in_touch(c)) {
        let code = format!("reason_{c}");
        if !keep.iter().any(|w: &Why| w.code == code) {
            keep.push(why(code, format!("said: {}", cx.taxonomy.label(c).to_lowercase())));
        }
    }
    if worth.value_if_won < r.min_value {
        keep.push(why(
            "low_value".into(),
            format!(
                "worth {} over {} if won back, below {}",
                money(worth.value_if_won),
                cx.horizon,
                money(r.min_value)
            ),
        ));
    }
    if !keep.is_empty() {
        return Verdict { decision: Decision::KeepInTouch, why: keep, held_by, worth };
    }
    let mut win = vec![why(
        format!("valuable_{}", tier.name()),
        format!(
            "worth {} over {} if won back; {} net so far ({:.2}% of revenue, {} tier)",
            money(worth.value_if_won),
            cx.horizon,
            money(net),
            100.0 * worth.share_of_revenue,
            tier.name()
        ),
    )];
    if !said.is_empty() {
        win.push(why("reasons_known".into(), format!("told us why: {}", said.join(", "))));
    }
    Verdict { decision: Decision::WinBack, why: win, held_by, worth }
}

pub fn format_money(x: f64) -> String {
    money(x)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::LatestScore;
    use crate::reasons::{Scope, Source};

    fn base() -> CustomerFacts {
        CustomerFacts {
            id: 1,
            external_id: "c1".into(),
            name: None,
            email: None,
            purchases: 10,
            revenue: 1000.0,
            returns: 1,
            refunds: 100.0,
            cost: 500.0,
            revenue_with_cost: 1000.0,
            first_day: Some(0),
            last_day: Some(300),
            cost_to_serve: Some(36.525),
            flags: String::new(),
            tags: String::new(),
            segment: None,
            do_not_contact: false,
            contract_end: None,
            score: Some(LatestScore {
                frequency: 9,
                p_alive: 0.2,
                expected_purchases: 0.4,
                expected_spend: Some(90.0),
                value_at_stake: 720.0,
                lifetime_value: None,
            }),
            ..Default::default()
        }
    }

    fn reason(cat: &str, cause: Option<i64>) -> Reason {
        Reason {
            id: 1,
            customer_id: 1,
            customer: "c1".into(),
            category: Taxonomy::default().parse(cat).unwrap(),
            scope: Scope::Systemic,
            detail: None,
            suggestion: None,
            source: Source::Call,
            day: 0,
            recorded_by: "me".into(),
            recorded_at: String::new(),
            cause,
            wont_return: false,
        }
    }

    #[test]
    fn decides_with_reasons_and_holds() {
        let rules = DecisionRules::default();
        let tax = Taxonomy::default();
        let causes = vec![RootCause {
            id: 7,
            title: "Late courier".into(),
            categories: vec![tax.parse("delivery").unwrap()],
            scope: Scope::Systemic,
            status: CauseStatus::Open,
            fixed_on: None,
            announcement: None,
            created_at: String::new(),
        }];
        let cx = Context {
            as_of: 3653,
            total_net_revenue: 90_000.0,
            tier_cutoffs: (800.0, 300.0),
            horizon: "the next year",
            rules: &rules,
            taxonomy: &tax,
            causes: &causes,
        };
        let f = base();
        // margin: 900 × 0.5 − 36.525 a year × 10.001 years; value if won = 0.4 / 0.2 × 90 = 180
        let late = reason("delivery", Some(7));
        let v = decide(&f, &[&late], &cx);
        assert_eq!(v.decision, Decision::WinBack);
        assert!((v.worth.net_margin - (450.0 - 36.525 * 3653.0 / 365.25)).abs() < 1e-9);
        assert!((v.worth.value_if_won - 180.0).abs() < 1e-9);
        assert_eq!(v.worth.tier, Tier::Top);
        assert_eq!(
            v.why[0].text,
            "worth 180.00 over the next year if won back; 900.00 net so far (1.00% of revenue, top tier)"
        );
        assert_eq!(v.held_by, vec![Hold { cause: 7, title: "Late courier".into(), status: CauseStatus::Open }]);

        let mut g = base();
        g.refunds = 460.0;
        g.flags = "abusive".into();
        let v = decide(&g, &[], &cx);
        assert_eq!(v.decision, Decision::WalkAway);
        let codes: Vec<&str> = v.why.iter().map(|w| w.code.as_str()).collect();
        assert_eq!(codes, ["flag_abusive", "high_return_rate", "unprofitable"]);
        assert_eq!(v.why[1].text, "returns 46% of what they buy (limit 30%)");

        let moved = reason("outgrew us", None);
        let v = decide(&f, &[&moved], &cx);
        assert_eq!(v.decision, Decision::KeepInTouch);
        assert_eq!(v.why[0].code, "reason_outgrew_us");
        assert!(v.held_by.is_empty());

        // the survey's "no, I won't come back" outweighs their value
        let no = Reason { wont_return: true, source: Source::Survey, ..reason("price", None) };
        let v = decide(&f, &[&no], &cx);
        assert_eq!(v.decision, Decision::KeepInTouch);
        assert_eq!(v.why[0].code, "wont_return");

        let mut small = base();
        small.score = Some(LatestScore { expected_purchases: 0.01, ..small.score.unwrap() });
        let v = decide(&small, &[], &cx);
        assert_eq!(v.decision, Decision::KeepInTouch);
        assert_eq!(v.why[0].text, "worth 4.50 over the next year if won back, below 25.00");
    }

    #[test]
    fn money_groups_thousands() {
        assert_eq!(money(1234567.891), "1,234,567.89");
        assert_eq!(money(-12.4), "−12.40");
        assert_eq!(money(0.0), "0.00");
    }
}
