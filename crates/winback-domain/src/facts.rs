//! What the store knows about one customer, gathered for status and decisions.

use serde::Serialize;

/// A customer's scores in the latest analysis run.
#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
pub struct LatestScore {
    pub frequency: i64,
    pub p_alive: f64,
    /// Expected purchases over the run's horizon.
    pub expected_purchases: f64,
    /// Expected spend per purchase (Gamma-Gamma), when amounts are known.
    pub expected_spend: Option<f64>,
    pub value_at_stake: f64,
    /// Discounted expected margin over the run's horizon.
    pub lifetime_value: Option<f64>,
}

/// One customer's history and record, as the store aggregates it.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct CustomerFacts {
    pub id: i64,
    pub external_id: String,
    pub name: Option<String>,
    pub email: Option<String>,
    /// Purchases (returns excluded) and their gross amount.
    pub purchases: i64,
    pub revenue: f64,
    /// Returns and refunds, counted and summed as positive amounts.
    pub returns: i64,
    pub refunds: f64,
    /// Cost of goods of the purchases that record one, and those purchases' revenue.
    pub cost: f64,
    pub revenue_with_cost: f64,
    #[serde(serialize_with = "crate::period::iso_opt_day")]
    pub first_day: Option<i32>,
    #[serde(serialize_with = "crate::period::iso_opt_day")]
    pub last_day: Option<i32>,
    /// Cost to serve per year (account management, support), from the CRM.
    pub cost_to_serve: Option<f64>,
    pub flags: String,
    pub tags: String,
    pub segment: Option<String>,
    pub do_not_contact: bool,
    pub contract_end: Option<i32>,
    pub score: Option<LatestScore>,
    pub phone: Option<String>,
    pub preferred_channel: Option<String>,
    /// Consent per channel: email, sms, phone, mail.
    pub consent: [bool; 4],
}

impl CustomerFacts {
    /// Revenue net of refunds.
    pub fn net_revenue(&self) -> f64 {
        self.revenue - self.refunds
    }

    /// Share of what they bought that came back, by value.
    pub fn return_rate(&self) -> f64 {
        if self.revenue > 0.0 {
            self.refunds / self.revenue
        } else {
            0.0
        }
    }

    /// Gross margin rate of the purchases that record a cost (None without costs).
    pub fn margin_rate(&self) -> Option<f64> {
        (self.revenue_with_cost > 0.0).then(|| 1.0 - self.cost / self.revenue_with_cost)
    }

    /// Years from the first purchase to `as_of` (at least one day).
    pub fn tenure_years(&self, as_of: i32) -> f64 {
        self.first_day.map_or(0.0, |f| f64::from((as_of - f).max(1)) / 365.25)
    }

    /// Margin earned: net revenue × margin rate (1 without costs), less the cost
    /// to serve over the customer's tenure.
    pub fn net_margin(&self, as_of: i32) -> f64 {
        self.net_revenue() * self.margin_rate().unwrap_or(1.0)
            - self.cost_to_serve.unwrap_or(0.0) * self.tenure_years(as_of)
    }

    /// Whether `flags` (comma- or space-separated) holds `flag`.
    pub fn has_flag(&self, flag: &str) -> bool {
        words(&self.flags).any(|f| f.eq_ignore_ascii_case(flag))
    }

    pub fn has_tag(&self, tag: &str) -> bool {
        words(&self.tags).any(|f| f.eq_ignore_ascii_case(tag))
    }
}

/// The channels consent is recorded for, in the order of `CustomerFacts::consent`.
pub const CONSENT_CHANNELS: [&str; 4] = ["email", "sms", "phone", "mail"];

impl CustomerFacts {
    /// Can we reach them on `channel`: consent (where recorded) and the contact
    /// detail it needs? In person needs neither.
    pub fn reachable(&self, channel: &str) -> bool {
        let consent = |c: &str| CONSENT_CHANNELS.iter().position(|x| *x == c).is_some_and(|i| self.consent[i]);
        match channel {
            "email" => consent("email") && self.email.as_deref().is_some_and(|e| e.contains('@')),
            "sms" | "phone" => consent(channel) && self.phone.as_deref().is_some_and(|p| !p.trim().is_empty()),
            "mail" => consent("mail"),
            "in_person" => true,
            _ => false,
        }
    }
}

fn words(s: &str) -> impl Iterator<Item = &str> {
    s.split([',', ';', ' ', '|']).map(str::trim).filter(|w| !w.is_empty())
}
