//! A synthetic shop for demos and end-to-end tests: a few thousand customers over
//! two years with orders, refunds, costs, flags, consent, touchpoints, and the
//! reasons the ones who left gave — deterministic by seed.
//!
//! The story it tells: purchases follow a BG/NBD-like process (a Poisson rate
//! per customer, a chance of leaving after each order). Three things drive extra
//! defections, each with its own root cause: a courier switch made web deliveries
//! late for eight months (fixed), weekend support tickets go unanswered (open),
//! and a discount competitor undercuts prices (in progress). Staff complaints
//! drive a few specific defections; business customers sometimes outgrow the
//! shop; a tenth are members on yearly contracts, some of which are not renewed.

use chrono::NaiveDate;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::{Beta, Distribution, Exp, Gamma, LogNormal};

use crate::customer::{CustomerRecord, EventRecord};
use crate::period::{date_of, day_number};

/// One order line as a shop exports it; refunds are separate negative rows.
#[derive(Debug, Clone, PartialEq)]
pub struct Order {
    pub order_id: String,
    pub customer: String,
    pub day: i32,
    pub amount: f64,
    pub cost: Option<f64>,
    pub channel: &'static str,
    pub product: &'static str,
}

/// A reason a departed customer gave, with who asked and how.
#[derive(Debug, Clone, PartialEq)]
pub struct GivenReason {
    pub customer: String,
    pub category: &'static str,
    pub scope: &'static str,
    pub detail: String,
    pub suggestion: Option<&'static str>,
    pub source: &'static str,
    pub day: i32,
}

/// A root cause the shop knows about, and what it did about it.
#[derive(Debug, Clone, PartialEq)]
pub struct KnownCause {
    pub title: &'static str,
    pub categories: &'static [&'static str],
    pub scope: &'static str,
    pub status: &'static str,
    pub fixed_on: Option<i32>,
    pub announcement: Option<&'static str>,
}

#[derive(Debug, Clone)]
pub struct Business {
    pub start: NaiveDate,
    pub end: NaiveDate,
    pub customers: Vec<CustomerRecord>,
    pub orders: Vec<Order>,
    pub events: Vec<EventRecord>,
    pub reasons: Vec<GivenReason>,
    pub causes: Vec<KnownCause>,
    /// The generator's truth: who left, on which day, and why (whether or not
    /// they ever said so). For tests and backtests with a known future.
    pub departures: Vec<(String, i32, &'static str)>,
}

/// What makes customers leave in the synthetic shop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Churn {
    /// Each customer has a drop-out propensity of their own (Beta-distributed, as
    /// BG/NBD assumes), and bad experiences add to it.
    #[default]
    Mixed,
    /// Nobody has a propensity of their own (a common 1% after any order); people
    /// leave after bad experiences: late parcels (at any time, many more while
    /// the courier was bad), unanswered weekend tickets, a rude assistant.
    Events,
}

const FIRST: &[&str] = &[
    "Ada", "Ben", "Chloe", "Dev", "Elena", "Farid", "Grace", "Hugo", "Ines", "Jonas", "Kemi", "Liam", "Maya", "Noor",
    "Oscar", "Priya", "Quinn", "Rosa", "Sven", "Tara", "Umar", "Vera", "Wen", "Yusuf", "Zoe",
];
const LAST: &[&str] = &[
    "Adams", "Berg", "Costa", "Dubois", "Evans", "Fischer", "Garcia", "Hughes", "Ivanova", "Jensen", "Khan", "Larsen",
    "Moreau", "Novak", "Okafor", "Patel", "Rossi", "Santos", "Tanaka", "Weber",
];
const PRODUCTS: &[(&str, f64)] =
    &[("coffee beans", 0.35), ("tea", 0.2), ("brewing kit", 0.15), ("grinder", 0.1), ("mugs", 0.1), ("gift box", 0.1)];

/// Courier trouble: web orders in these days (from the start) are often late.
const COURIER: (i32, i32) = (240, 470);

fn detail(category: &str, rng: &mut StdRng) -> (String, Option<&'static str>) {
    let pick = |rng: &mut StdRng, xs: &[&'static str]| xs[rng.random_range(0..xs.len())];
    let (d, s): (&[&str], &[&str]) = match category {
        "delivery" => (
            &["parcel arrived a week late", "order came late twice", "delivery lost, then late"],
            &["use a reliable courier", "offer next-day delivery", "send tracking updates"],
        ),
        "poor_service" => (
            &["weekend ticket unanswered until Tuesday", "nobody answered the phone on Saturday"],
            &["staff the phones at weekends", "answer tickets within a day"],
        ),
        "price" => (
            &["found it cheaper elsewhere", "prices went up too often"],
            &["loyalty discount for regulars", "price match"],
        ),
        "competitor" => (
            &["switched to BeanBox subscription", "BeanBox offered 30% off"],
            &["a subscription with free shipping", "loyalty discount for regulars"],
        ),
        "staff" => (&["shop assistant was rude", "was talked down to in the shop"], &["train staff on service"]),
        "product_quality" => (&["beans tasted stale", "grinder broke after a month"], &["roast dates on every bag"]),
        "indifference" => (&["never heard from you", "felt like a number"], &["remember regular customers"]),
        "unmet_need" => (&["wanted decaf options", "needed bulk office orders"], &["more decaf", "office plans"]),
        "outgrew_us" => (&["our office needs a wholesale supplier now"], &[]),
        "moved" => (&["moved abroad", "moved out of the delivery area"], &[]),
        _ => (&["billing mistake on an invoice"], &["clearer invoices"]),
    };
    let sug = if s.is_empty() || rng.random::<f64>() < 0.3 { None } else { Some(pick(rng, s)) };
    (pick(rng, d).to_string(), sug)
}

/// Generate `n` customers over two years from 2024-01-01, deterministic by `seed`.
pub fn generate(n: usize, seed: u64) -> Business {
    generate_with(n, seed, Churn::Mixed)
}

/// As `generate`, with the given churn process.
pub fn generate_with(n: usize, seed: u64, churn: Churn) -> Business {
    let events_only = churn == Churn::Events;
    let start = NaiveDate::from_ymd_opt(2024, 1, 1).expect("valid date");
    let end = NaiveDate::from_ymd_opt(2025, 12, 31).expect("valid date");
    let (d0, d1) = (day_number(start), day_number(end));
    let mut rng = StdRng::seed_from_u64(seed);
    let leave = Beta::new(1.2, 16.0).expect("valid");
    let gap_retail = Gamma::new(2.5, 16.0).expect("valid"); // mean 40 days
    let gap_business = Gamma::new(3.0, 8.0).expect("valid"); // mean 24 days
    let mut b = Business {
        start,
        end,
        customers: vec![],
        orders: vec![],
        events: vec![],
        reasons: vec![],
        causes: vec![],
        departures: vec![],
    };
    b.causes = vec![
        KnownCause {
            title: "Late deliveries after the courier switch",
            categories: &["delivery"],
            scope: "systemic",
            status: "fixed",
            fixed_on: Some(d0 + COURIER.1),
            announcement: Some("we moved back to next-day delivery with our own drivers"),
        },
        KnownCause {
            title: "No phone or ticket support at weekends",
            categories: &["poor_service"],
            scope: "systemic",
            status: "open",
            fixed_on: None,
            announcement: Some("weekend support, 9 to 5, from next month"),
        },
        KnownCause {
            title: "Undercut by a discount subscription competitor",
            categories: &["price", "competitor"],
            scope: "systemic",
            status: "in_progress",
            fixed_on: None,
            announcement: Some("a loyalty price for regulars"),
        },
    ];
    let mut order_no = 100_000u32;
    for i in 0..n {
        let id = format!("C{:05}", i + 1);
        let u: f64 = rng.random();
        let segment = if u < 0.15 {
            "business"
        } else if u < 0.25 {
            "member"
        } else {
            "retail"
        };
        let first = FIRST[rng.random_range(0..FIRST.len())];
        let last = LAST[rng.random_range(0..LAST.len())];
        let fraud = rng.random::<f64>() < 0.007;
        let abusive = rng.random::<f64>() < 0.012;
        let returner = rng.random::<f64>() < 0.06;
        let acquired = d0 + rng.random_range(0..540);
        let mut flags = vec![];
        if fraud {
            flags.push("fraud");
        }
        if abusive {
            flags.push("abusive");
        }
        let contract = (segment == "member").then(|| {
            let mut e = acquired + 365;
            while e <= d1 && rng.random::<f64>() < 0.6 {
                e += 365;
            }
            (acquired, e)
        });
        b.customers.push(CustomerRecord {
            line: 0,
            external_id: id.clone(),
            name: Some(format!("{first} {last}")),
            email: Some(format!("{}.{}{}@example.com", first.to_lowercase(), last.to_lowercase(), i + 1)),
            phone: Some(format!("+44 7700 9{:05}", i % 100_000)),
            preferred_channel: Some(if rng.random::<f64>() < 0.7 { "email" } else { "phone" }.into()),
            consent_email: Some(rng.random::<f64>() < 0.85),
            consent_sms: Some(rng.random::<f64>() < 0.4),
            consent_phone: Some(rng.random::<f64>() < 0.5),
            consent_mail: Some(rng.random::<f64>() < 0.3),
            do_not_contact: Some(rng.random::<f64>() < 0.03),
            flags: Some(flags.join(",")),
            cost_to_serve: Some(if segment == "business" { rng.random_range(40.0..160.0) } else { 6.0 }),
            segment: Some(segment.into()),
            tags: Some(String::new()),
            contract_start: contract.map(|c| c.0),
            contract_end: contract.map(|c| c.1),
        });

        let gap_mean: f64 =
            if segment == "business" { gap_business.sample(&mut rng) } else { gap_retail.sample(&mut rng) };
        let spend_mean: f64 = if segment == "business" { 220.0 } else { 45.0 }
            * LogNormal::new(0.0, 0.35).expect("valid").sample(&mut rng);
        let p_leave: f64 = leave.sample(&mut rng);
        let p_leave = if events_only { 0.01 } else { p_leave };
        let web_share = rng.random_range(0.4..0.95);
        let wait = Exp::new(1.0 / gap_mean.max(3.0)).expect("valid");
        let mut t = acquired;
        let mut gone: Option<(&'static str, i32)> = None;
        loop {
            if let Some((_, e)) = contract {
                if t >= e && e <= d1 {
                    // contract not renewed: churned, sometimes says why
                    let cat = if rng.random::<f64>() < 0.5 { "price" } else { "indifference" };
                    gone = Some((cat, e));
                    break;
                }
            }
            if t > d1 {
                break;
            }
            order_no += 1;
            let web = rng.random::<f64>() < web_share;
            let product = pick_product(&mut rng);
            // Gamma(4) around the customer's own mean: spend varies order to order as
            // the Gamma-Gamma model assumes (Fader, Hardie & Lee 2005b)
            let amount: f64 =
                (Gamma::new(4.0, spend_mean / 4.0).expect("valid").sample(&mut rng) * 100.0).round() / 100.0;
            let amount = amount.max(1.0);
            let cost = ((amount * rng.random_range(0.45..0.65)) * 100.0).round() / 100.0;
            b.orders.push(Order {
                order_id: format!("O{order_no}"),
                customer: id.clone(),
                day: t,
                amount,
                cost: Some(cost),
                channel: if web { "web" } else { "store" },
                product,
            });
            let mut push = |day: i32, kind: &str, attrs: String| {
                if day <= d1 {
                    b.events.push(EventRecord {
                        line: 0,
                        customer: id.clone(),
                        day,
                        kind: kind.into(),
                        attributes: attrs,
                    });
                }
            };
            let mut risk: Vec<(&'static str, f64)> = vec![];
            let in_courier = (d0 + COURIER.0..d0 + COURIER.1).contains(&t);
            if web && rng.random::<f64>() < if in_courier { 0.35 } else { 0.04 } {
                push(t + 4, "late_delivery", format!("{{\"order\":\"O{order_no}\"}}"));
                if in_courier || events_only {
                    risk.push(("delivery", 0.30));
                }
            }
            let order = format!("O{order_no}");
            if rng.random::<f64>() < if returner { 0.5 } else { 0.04 } {
                order_no += 1;
                let refund: f64 = -((amount * rng.random_range(0.5..1.0_f64)) * 100.0).round() / 100.0;
                if t + 12 <= d1 {
                    b.orders.push(Order {
                        order_id: format!("R{order_no}"),
                        customer: id.clone(),
                        day: t + 12,
                        amount: refund,
                        cost: None,
                        channel: if web { "web" } else { "store" },
                        product,
                    });
                }
                push(t + 10, "return", format!("{{\"order\":\"{order}\"}}"));
            }
            if rng.random::<f64>() < 0.08 {
                let day = t + rng.random_range(1..10);
                // day numbers count from Thursday 1970-01-01: Saturday and Sunday are 2 and 3 mod 7
                let weekend = matches!(day.rem_euclid(7), 2 | 3);
                push(day, "support_ticket", format!("{{\"order\":\"{order}\",\"weekend\":{weekend}}}"));
                if weekend {
                    risk.push(("poor_service", 0.35));
                }
            }
            if rng.random::<f64>() < if abusive { 0.25 } else { 0.015 } {
                push(t + 1, "complaint", format!("{{\"order\":\"{order}\",\"about\":\"staff\"}}"));
                if !abusive {
                    risk.push(("staff", 0.4));
                }
            }
            // leave after this order? base chance plus the risks met on it
            let base = match segment {
                "business" => {
                    [("outgrew_us", 0.4), ("price", 0.2), ("competitor", 0.2), ("unmet_need", 0.2)].as_slice()
                }
                _ => [
                    ("price", 0.25),
                    ("competitor", 0.2),
                    ("indifference", 0.2),
                    ("product_quality", 0.15),
                    ("unmet_need", 0.08),
                    ("moved", 0.07),
                    ("billing", 0.05),
                ]
                .as_slice(),
            };
            let extra: f64 = risk.iter().map(|r| r.1).sum();
            let u: f64 = rng.random();
            if u < p_leave + extra {
                let cat = if u < extra {
                    let mut acc = 0.0;
                    risk.iter()
                        .find(|r| {
                            acc += r.1;
                            u < acc
                        })
                        .map_or("other", |r| r.0)
                } else {
                    let mut v: f64 = rng.random();
                    base.iter()
                        .find(|c| {
                            v -= c.1;
                            v < 0.0
                        })
                        .map_or("other", |c| c.0)
                };
                gone = Some((cat, t));
                break;
            }
            t += (wait.sample(&mut rng).ceil() as i32).max(1);
        }
        if let Some((cat, when)) = gone {
            b.departures.push((id.clone(), when, cat));
        }
        // some who left are asked (survey, call, email) a month or two later
        if let Some((cat, when)) = gone {
            let day = when + rng.random_range(30..90);
            if day <= d1 && rng.random::<f64>() < 0.55 {
                let (detail, suggestion) = detail(cat, &mut rng);
                let scope = match cat {
                    "delivery" | "poor_service" | "price" | "competitor" | "billing" => "systemic",
                    "product_quality" if rng.random::<f64>() < 0.5 => "systemic",
                    _ => "specific",
                };
                let v: f64 = rng.random();
                let source = if v < 0.5 {
                    "survey"
                } else if v < 0.8 {
                    "call"
                } else {
                    "email"
                };
                b.reasons.push(GivenReason {
                    customer: id.clone(),
                    category: cat,
                    scope,
                    detail,
                    suggestion,
                    source,
                    day,
                });
            }
            if cat == "outgrew_us" {
                if let Some(c) = b.customers.last_mut() {
                    c.tags = Some("outgrew_us".into());
                }
            }
        }
    }
    b.orders.sort_by(|a, b| a.day.cmp(&b.day).then(a.order_id.cmp(&b.order_id)));
    b.events.sort_by(|a, b| a.day.cmp(&b.day).then(a.customer.cmp(&b.customer)));
    b
}

fn pick_product(rng: &mut StdRng) -> &'static str {
    let mut v: f64 = rng.random();
    for (p, w) in PRODUCTS {
        v -= w;
        if v < 0.0 {
            return p;
        }
    }
    PRODUCTS[0].0
}

/// The date of a day number, as CSV files write it.
pub fn iso(day: i32) -> String {
    date_of(day).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn is_deterministic_and_plausible() {
        let a = generate(500, 7);
        let b = generate(500, 7);
        assert_eq!(a.orders, b.orders);
        assert_eq!(a.reasons, b.reasons);
        assert_eq!(a.customers.len(), 500);
        let purchases = a.orders.iter().filter(|o| o.amount > 0.0).count();
        assert!(purchases > 2_000, "{purchases}");
        assert!(a.orders.iter().any(|o| o.amount < 0.0));
        assert!(a.reasons.len() > 50, "{}", a.reasons.len());
        assert!(a.events.iter().any(|e| e.kind == "late_delivery"));
        assert_ne!(generate(500, 8).orders, a.orders);
    }
}
