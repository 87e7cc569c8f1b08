//! Win-back campaigns: random holdout assignment stratified by value tier,
//! coupon codes, and outcomes measured against the holdout (win-back rate, lift
//! with its confidence interval, incremental revenue, offer cost, ROI), plus the
//! business's own win-back rates starting from the industry band as a prior.

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use serde::Serialize;
use winback_stats::proportions::{beta_from_band, beta_quantile, diff_interval, normal_quantile, wilson};

/// Industry figures put the chance of winning back an ex-customer at 20–40%.
pub const INDUSTRY_BAND: (f64, f64) = (0.2, 0.4);

/// Which lost customers a campaign selects, by their decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    WinBack,
    KeepInTouch,
    /// Every decision but walk_away.
    All,
}

impl Target {
    /// As stored with the campaign (the names the first versions wrote).
    pub fn stored(self) -> &'static str {
        match self {
            Target::WinBack => "winback",
            Target::KeepInTouch => "keepintouch",
            Target::All => "all",
        }
    }

    pub fn wants(self, d: crate::decision::Decision) -> bool {
        use crate::decision::Decision;
        match self {
            Target::WinBack => d == Decision::WinBack,
            Target::KeepInTouch => d == Decision::KeepInTouch,
            Target::All => d != Decision::WalkAway,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Arm {
    Treatment,
    Control,
}

impl Arm {
    pub fn name(self) -> &'static str {
        match self {
            Arm::Treatment => "treatment",
            Arm::Control => "control",
        }
    }
}

impl std::str::FromStr for Arm {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "treatment" => Ok(Arm::Treatment),
            "control" => Ok(Arm::Control),
            other => Err(format!("unknown arm '{other}'")),
        }
    }
}

/// Where a campaign member stands. Treatment members start `Pending`; a send
/// `Claimed`s one (committed) before contacting them and marks the result
/// after; control members are `Holdout` for good.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MemberState {
    Pending,
    /// Taken by a send that has not confirmed the result (it may have died).
    Claimed,
    /// Emailed.
    Sent,
    /// Written to the task list (phone, SMS, mail, in person).
    Task,
    /// Refused for good by the mail server, or a message that could not be built.
    Failed,
    /// Opted out or withdrew consent after the campaign was frozen.
    Skipped,
    Holdout,
}

impl MemberState {
    pub const ALL: [MemberState; 7] = [
        MemberState::Pending,
        MemberState::Claimed,
        MemberState::Sent,
        MemberState::Task,
        MemberState::Failed,
        MemberState::Skipped,
        MemberState::Holdout,
    ];

    pub fn name(self) -> &'static str {
        match self {
            MemberState::Pending => "pending",
            MemberState::Claimed => "claimed",
            MemberState::Sent => "sent",
            MemberState::Task => "task",
            MemberState::Failed => "failed",
            MemberState::Skipped => "skipped",
            MemberState::Holdout => "holdout",
        }
    }
}

impl std::str::FromStr for MemberState {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        MemberState::ALL.into_iter().find(|m| m.name() == s).ok_or_else(|| format!("unknown member state '{s}'"))
    }
}

/// Assign each member to treatment or control: within each stratum (value tier),
/// shuffle with the seed and hold out round(n × share) — so every tier keeps the
/// holdout share, and the same seed gives the same split.
pub fn assign(strata: &[&str], holdout: f64, seed: u64) -> Vec<Arm> {
    let mut out = vec![Arm::Treatment; strata.len()];
    let mut keys: Vec<&str> = strata.to_vec();
    keys.sort_unstable();
    keys.dedup();
    let mut rng = StdRng::seed_from_u64(seed);
    for k in keys {
        let mut idx: Vec<usize> = (0..strata.len()).filter(|&i| strata[i] == k).collect();
        idx.shuffle(&mut rng);
        let n = (idx.len() as f64 * holdout).round() as usize;
        for &i in idx.iter().take(n) {
            out[i] = Arm::Control;
        }
    }
    out
}

/// A coupon code: "WB-" and ten characters of an unambiguous alphabet spelling
/// 50 bits of `random`, which the caller draws from a secure source (the
/// store's UNIQUE constraint guards the rare collision).
pub fn coupon_code(random: u64) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    // ten symbols of five bits: 50 random bits
    let mut code = String::from("WB-");
    for i in 0..10 {
        code.push(ALPHABET[((random >> (5 * i)) & 31) as usize] as char);
    }
    code
}

/// What one member did after the campaign.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct MemberOutcome {
    /// First purchase in the window, if any.
    #[serde(serialize_with = "crate::period::iso_opt_day")]
    pub returned_day: Option<i32>,
    pub first_order: f64,
    /// Revenue in the window.
    pub revenue: f64,
}

/// `purchases` are one customer's (day, amount), any order. Won back: a purchase
/// in (start, start + window].
pub fn outcome(purchases: &[(i32, f64)], start: i32, window: i32) -> MemberOutcome {
    let mut inside: Vec<(i32, f64)> =
        purchases.iter().copied().filter(|&(d, _)| d > start && d <= start + window).collect();
    inside.sort_by_key(|p| p.0);
    MemberOutcome {
        returned_day: inside.first().map(|p| p.0),
        first_order: inside.first().map_or(0.0, |p| p.1),
        revenue: inside.iter().map(|p| p.1).sum(),
    }
}

/// A rate with its 95% Wilson interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Rate {
    pub n: u64,
    pub won: u64,
    pub rate: f64,
    pub low: f64,
    pub high: f64,
}

pub fn rate(won: u64, n: u64) -> Rate {
    let (low, high) = wilson(won, n, normal_quantile(0.975));
    Rate { n, won, rate: if n > 0 { won as f64 / n as f64 } else { 0.0 }, low, high }
}

/// Treatment against control for one group of members.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    pub group: String,
    pub treatment: Rate,
    pub control: Rate,
    /// Absolute lift (treatment − control) with Newcombe's 95% interval.
    pub lift: f64,
    pub lift_low: f64,
    pub lift_high: f64,
}

pub fn compare(group: &str, t: (u64, u64), c: (u64, u64)) -> Comparison {
    let (lift, lift_low, lift_high) = diff_interval(t.0, t.1, c.0, c.1, normal_quantile(0.975));
    Comparison { group: group.into(), treatment: rate(t.0, t.1), control: rate(c.0, c.1), lift, lift_low, lift_high }
}

/// One member as the report sees it.
#[derive(Debug, Clone)]
pub struct Measured<'a> {
    pub arm: Arm,
    pub strategy: &'a str,
    pub category: &'a str,
    pub tier: &'a str,
    pub outcome: MemberOutcome,
    /// What the member's incentive cost when redeemed (treatment, won back).
    pub offer_cost: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub overall: Comparison,
    /// Revenue in the window per member, by arm.
    pub revenue_per_treated: f64,
    pub revenue_per_control: f64,
    /// (revenue per treated − revenue per control) × treated members.
    pub incremental_revenue: f64,
    pub incremental_margin: f64,
    pub offer_cost: f64,
    /// (incremental margin − offer cost) / offer cost; None without offers.
    pub roi: Option<f64>,
    pub by_strategy: Vec<Comparison>,
    pub by_category: Vec<Comparison>,
    /// Where the treatment's win-back rate falls against the 20–40% industry band.
    pub industry_band: (f64, f64),
    pub against_band: String,
}

fn grouped<'a>(m: &'a [Measured], key: impl Fn(&'a Measured) -> &'a str) -> Vec<Comparison> {
    let mut keys: Vec<&str> = m.iter().map(&key).collect();
    keys.sort_unstable();
    keys.dedup();
    keys.into_iter()
        .map(|k| {
            let count = |arm: Arm| {
                let g: Vec<&Measured> = m.iter().filter(|x| key(x) == k && x.arm == arm).collect();
                (g.iter().filter(|x| x.outcome.returned_day.is_some()).count() as u64, g.len() as u64)
            };
            compare(k, count(Arm::Treatment), count(Arm::Control))
        })
        .collect()
}

/// The campaign report. `margin_rate` turns revenue into margin.
pub fn report(m: &[Measured], margin_rate: f64) -> Report {
    let arm = |a: Arm| m.iter().filter(move |x| x.arm == a);
    let won = |a: Arm| arm(a).filter(|x| x.outcome.returned_day.is_some()).count() as u64;
    let n = |a: Arm| arm(a).count() as u64;
    let per = |a: Arm| {
        let k = n(a);
        if k > 0 {
            arm(a).map(|x| x.outcome.revenue).sum::<f64>() / k as f64
        } else {
            0.0
        }
    };
    let overall = compare("all", (won(Arm::Treatment), n(Arm::Treatment)), (won(Arm::Control), n(Arm::Control)));
    let (rt, rc) = (per(Arm::Treatment), per(Arm::Control));
    let incremental_revenue = (rt - rc) * n(Arm::Treatment) as f64;
    let incremental_margin = incremental_revenue * margin_rate;
    let offer_cost: f64 = arm(Arm::Treatment).map(|x| x.offer_cost).sum();
    let t = overall.treatment;
    let against_band = if t.high < INDUSTRY_BAND.0 {
        "below the 20–40% industry band".to_string()
    } else if t.low > INDUSTRY_BAND.1 {
        "above the 20–40% industry band".to_string()
    } else {
        "consistent with the 20–40% industry band".to_string()
    };
    Report {
        overall,
        revenue_per_treated: rt,
        revenue_per_control: rc,
        incremental_revenue,
        incremental_margin,
        offer_cost,
        roi: (offer_cost > 0.0).then(|| (incremental_margin - offer_cost) / offer_cost),
        by_strategy: grouped(m, |x| x.strategy),
        by_category: grouped(m, |x| x.category),
        industry_band: INDUSTRY_BAND,
        against_band,
    }
}

/// A business's own win-back rate for one group, from the industry band as a prior.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OwnRate {
    pub group: String,
    pub contacted: u64,
    pub won: u64,
    pub prior_mean: f64,
    pub posterior_mean: f64,
    pub low: f64,
    pub high: f64,
    /// posterior − prior mean: how far the business's own evidence moved it.
    pub moved: f64,
}

/// Beta(a₀, b₀) matched to the 20–40% band, updated with `won` of `contacted`
/// (conjugate Beta-binomial: Beta(a₀ + won, b₀ + contacted − won)).
pub fn own_rate(group: &str, won: u64, contacted: u64) -> OwnRate {
    let (a0, b0) = beta_from_band(INDUSTRY_BAND.0, INDUSTRY_BAND.1);
    let (a, b) = (a0 + won as f64, b0 + (contacted - won.min(contacted)) as f64);
    let prior_mean = a0 / (a0 + b0);
    let posterior_mean = a / (a + b);
    OwnRate {
        group: group.into(),
        contacted,
        won,
        prior_mean,
        posterior_mean,
        low: beta_quantile(a, b, 0.025),
        high: beta_quantile(a, b, 0.975),
        moved: posterior_mean - prior_mean,
    }
}

/// Is a won-back customer still active `days` after their return? They lapse again
/// `lapse_days` after their last purchase; None when not yet observable.
pub fn still_active(returned: i32, last_purchase: i32, lapse_days: i32, as_of: i32, days: i32) -> Option<bool> {
    let at = returned + days;
    if at > as_of {
        return None;
    }
    Some(at < last_purchase + lapse_days)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assignment_is_stratified_and_reproducible() {
        let strata: Vec<&str> = (0..1000)
            .map(|i| {
                if i % 10 == 0 {
                    "top"
                } else if i % 3 == 0 {
                    "mid"
                } else {
                    "low"
                }
            })
            .collect();
        let a = assign(&strata, 0.2, 9);
        assert_eq!(a, assign(&strata, 0.2, 9));
        assert_ne!(a, assign(&strata, 0.2, 10));
        for t in ["top", "mid", "low"] {
            let n = strata.iter().filter(|s| **s == t).count();
            let c = (0..1000).filter(|&i| strata[i] == t && a[i] == Arm::Control).count();
            assert_eq!(c, (n as f64 * 0.2).round() as usize, "{t}");
        }
    }

    #[test]
    fn outcomes_and_report() {
        let o = outcome(&[(5, 10.0), (12, 30.0), (20, 5.0), (40, 99.0)], 10, 20);
        assert_eq!(o, MemberOutcome { returned_day: Some(12), first_order: 30.0, revenue: 35.0 });
        assert_eq!(outcome(&[(10, 1.0)], 10, 20).returned_day, None, "the start day itself does not count");
        let mk = |arm, won: bool, rev| Measured {
            arm,
            strategy: "s",
            category: "price",
            tier: "low",
            outcome: MemberOutcome { returned_day: won.then_some(1), first_order: rev, revenue: rev },
            offer_cost: if won && arm == Arm::Treatment { 2.0 } else { 0.0 },
        };
        let mut m = Vec::new();
        for i in 0..70 {
            m.push(mk(Arm::Treatment, i < 56, if i < 56 { 10.0 } else { 0.0 }));
        }
        for i in 0..80 {
            m.push(mk(Arm::Control, i < 48, if i < 48 { 10.0 } else { 0.0 }));
        }
        let r = report(&m, 0.5);
        // Newcombe's example again: 56/70 vs 48/80
        assert!((r.overall.lift - 0.2).abs() < 1e-12);
        assert!((r.overall.lift_low - 0.0524).abs() < 5e-5);
        assert!((r.incremental_revenue - (8.0 - 6.0) * 70.0).abs() < 1e-9);
        assert!((r.offer_cost - 112.0).abs() < 1e-9);
        assert!((r.roi.unwrap() - (70.0 - 112.0) / 112.0).abs() < 1e-12);
        assert_eq!(r.against_band, "above the 20–40% industry band");
        assert_ne!(coupon_code(1), coupon_code(2));
        assert!(coupon_code(1).starts_with("WB-") && coupon_code(1).len() == 13);
        // the code is the 50 random bits it is given, one to one
        let codes: std::collections::HashSet<String> =
            (0..100_000u64).map(|i| coupon_code(i.wrapping_mul(0x9E37_79B9_7F4A_7C15))).collect();
        assert_eq!(codes.len(), 100_000);
    }

    #[test]
    fn own_rates_move_from_the_band() {
        let none = own_rate("all", 0, 0);
        assert!((none.posterior_mean - 0.3).abs() < 1e-12 && none.moved.abs() < 1e-12);
        let low = own_rate("price", 10, 200);
        assert!(low.posterior_mean < 0.15 && low.high < 0.2, "{low:?}");
        assert_eq!(still_active(100, 150, 60, 400, 90), Some(true));
        assert_eq!(still_active(100, 120, 60, 400, 90), Some(false));
        assert_eq!(still_active(100, 120, 60, 150, 90), None);
    }
}
