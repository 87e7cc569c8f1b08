//! Customer (CRM) and event (touchpoint) files: CSV with a header row.

use std::collections::BTreeMap;

pub use winback_domain::customer::{CustomerRecord, EventRecord};
use winback_domain::period::day_number;
use winback_domain::reasons::{NewReason, ReasonError, Scope, Source, Taxonomy};

use crate::date::{infer_dates, parse_date, DateFormat, DateInference};
use crate::exports::{Holds, Platform, Recognised};
use crate::table::Table;
use crate::{IngestError, Reject};

#[derive(Debug, Clone)]
pub struct Parsed<T> {
    pub rows: Vec<T>,
    /// Records (blank lines excluded): rows + skipped + rejected.
    pub total: usize,
    pub rejected: Vec<Reject>,
    /// Records left out by a stated rule (a customer without an email…).
    pub skipped: Vec<Reject>,
    /// The platform export recognised from the header, if any.
    pub recognised: Option<Recognised>,
    /// Reasons the file gives for leaving (Stripe's cancellation feedback),
    /// in winback's taxonomy.
    pub reasons: Vec<NewReason>,
    /// What the file says each customer spent and ordered (Shopify's `Total
    /// Spent` and `Total Orders`), to check against their imported orders.
    pub stated: Vec<StatedTotals>,
}

/// A customer's totals as a customers export states them.
#[derive(Debug, Clone, PartialEq)]
pub struct StatedTotals {
    pub line: u64,
    pub customer: String,
    pub spent: f64,
    pub orders: u32,
}

impl<T> Parsed<T> {
    fn new(t: &Table) -> Self {
        Parsed {
            rows: Vec::new(),
            total: t.records(),
            rejected: t.rejected.clone(),
            skipped: t.headers_again().collect(),
            recognised: None,
            reasons: Vec::new(),
            stated: Vec::new(),
        }
    }
}

fn flag(s: &str) -> Result<Option<bool>, String> {
    match s.trim().to_ascii_lowercase().as_str() {
        "" => Ok(None),
        "1" | "true" | "yes" | "y" | "t" | "opt_in" | "opted_in" | "subscribed" => Ok(Some(true)),
        "0" | "false" | "no" | "n" | "f" | "opt_out" | "opted_out" | "unsubscribed" | "not_subscribed" => {
            Ok(Some(false))
        }
        other => Err(format!("'{other}' is not yes/no")),
    }
}

/// A customer id the store's index can hold.
fn check_id(id: &str) -> Result<(), String> {
    let max = crate::transactions::MAX_ID_BYTES;
    if id.len() > max {
        return Err(format!("customer id is {} bytes long, more than {max}", id.len()));
    }
    Ok(())
}

fn text(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_owned())
}

/// Read a customers file. An id column (`customer_id`, `id`, `external_id`,
/// `customer`, or failing those `email`) is required. Shopify customers
/// exports are keyed by email (lower case), as Shopify's orders export names
/// customers; Stripe subscriptions give contract start and end, and their
/// cancellation feedback becomes reasons.
pub fn read_customers(data: &[u8], date_format: &DateFormat) -> Result<Parsed<CustomerRecord>, IngestError> {
    let t = Table::read(data)?;
    match crate::exports::recognise(&t.norm) {
        Some(Platform::ShopifyCustomers) => return Ok(shopify_customers(&t)),
        Some(Platform::StripeSubscriptions) => return stripe_subscriptions(&t, date_format),
        Some(Platform::StripeCustomers) => return Ok(stripe_customers(&t)),
        Some(p) if p.holds() == Holds::Transactions => {
            return Err(IngestError::Column(format!(
                "this is a {}: it holds transactions, not customers; import it with `winback import transactions`",
                p.name()
            )))
        }
        Some(p) => {
            if let Holds::Other(why) = p.holds() {
                return Err(IngestError::Column(format!("this is a {}: {why}", p.name())));
            }
        }
        _ => {}
    }
    read_generic_customers(&t, date_format)
}

fn recognised(p: Platform, summary: String) -> Recognised {
    Recognised { platform: p, name: p.name(), summary, notes: Vec::new() }
}

fn read_generic_customers(t: &Table, date_format: &DateFormat) -> Result<Parsed<CustomerRecord>, IngestError> {
    let header = &t.norm;
    let find = |names: &[&str]| names.iter().find_map(|n| header.iter().position(|h| h == n));
    // (English names first; then German, French, Spanish, Italian, Dutch)
    let id = find(&[
        "customer_id",
        "id",
        "external_id",
        "customer",
        "client_id",
        "kundennummer",
        "kunden_id",
        "kundennr",
        "kunde",
        "id_client",
        "numero_client",
        "client",
        "id_cliente",
        "cliente",
        "codice_cliente",
        "klantnummer",
        "klant_id",
        "email",
        "e_mail",
    ])
    .ok_or_else(|| {
        IngestError::Column(format!(
            "no customer id column (customer_id, id, external_id, customer or email); the header has: {}",
            crate::header_list(&t.names)
        ))
    })?;
    let col = |names: &[&str]| find(names).filter(|&i| i != id || names.contains(&"email"));
    let (name, first, last) = (
        col(&["name", "full_name", "customer_name", "nom", "nombre", "nome", "naam"]),
        col(&["first_name", "vorname", "prénom", "prenom", "nombre_de_pila", "voornaam"]),
        col(&["last_name", "nachname", "nom_de_famille", "apellido", "apellidos", "cognome", "achternaam"]),
    );
    let email = col(&["email", "e_mail", "email_address", "courriel", "correo", "correo_electronico"]);
    let phone =
        col(&["phone", "phone_number", "mobile", "telefon", "telefonnummer", "téléphone", "telefono", "telefoon"]);
    let channel = col(&["preferred_channel", "channel"]);
    let consent = [
        col(&["consent_email", "email_consent", "email_opt_in", "accepts_email_marketing"]),
        col(&["consent_sms", "sms_consent", "sms_opt_in", "accepts_sms_marketing"]),
        col(&["consent_phone", "phone_consent"]),
        col(&["consent_mail", "mail_consent", "post_consent"]),
    ];
    let dnc = col(&["do_not_contact", "dnc", "no_contact"]);
    let flags = col(&["flags", "behaviour_flags", "behavior_flags"]);
    let cost = col(&["cost_to_serve", "service_cost"]);
    let segment = col(&["segment"]);
    let tags = col(&["tags"]);
    let (cs, ce) = (
        col(&["contract_start", "subscription_start", "start_date"]),
        col(&["contract_end", "subscription_end", "cancelled_at", "end_date"]),
    );
    let mut out = Parsed::new(t);
    for r in &t.rows {
        let line = r.line;
        let res = (|| -> Result<CustomerRecord, String> {
            let get = |i: Option<usize>| r.get(i);
            let external_id = text(get(Some(id))).ok_or("missing customer id")?;
            check_id(&external_id)?;
            let date = |i: Option<usize>, what: &str| -> Result<Option<i32>, String> {
                let s = get(i);
                if s.is_empty() {
                    return Ok(None);
                }
                parse_date(s.as_bytes(), date_format).map(|d| Some(day_number(d))).map_err(|e| format!("{what}: {e}"))
            };
            let mut c = CustomerRecord { line, external_id, ..Default::default() };
            c.name = text(get(name)).or_else(|| text(&format!("{} {}", get(first), get(last))));
            c.email = text(get(email));
            c.phone = text(get(phone));
            c.preferred_channel = text(get(channel)).map(|s| s.to_ascii_lowercase());
            let consents = consent.map(|i| flag(get(i)));
            for (k, v) in consents.iter().enumerate() {
                if let Err(e) = v {
                    return Err(format!("consent column {}: {e}", ["email", "sms", "phone", "mail"][k]));
                }
            }
            let [e, s, p, m] = consents.map(|v| v.unwrap_or(None));
            (c.consent_email, c.consent_sms, c.consent_phone, c.consent_mail) = (e, s, p, m);
            c.do_not_contact = flag(get(dnc)).map_err(|e| format!("do_not_contact: {e}"))?;
            c.flags = text(get(flags));
            c.cost_to_serve = match text(get(cost)) {
                Some(s) => Some(crate::amount::parse_amount(s.as_bytes()).map_err(|e| format!("cost_to_serve: {e}"))?),
                None => None,
            };
            c.segment = text(get(segment));
            c.tags = text(get(tags));
            c.contract_start = date(cs, "contract_start")?;
            c.contract_end = date(ce, "contract_end")?;
            Ok(c)
        })();
        match res {
            Ok(c) => out.rows.push(c),
            Err(reason) => out.rejected.push(Reject { line, reason }),
        }
    }
    out.rejected.sort_by_key(|r| r.line);
    Ok(out)
}

/// Shopify's customers export: keyed by email (as its orders export names
/// customers), consent from `Accepts Email Marketing` and `Accepts SMS
/// Marketing`; customers without an email cannot be tied to orders.
fn shopify_customers(t: &Table) -> Parsed<CustomerRecord> {
    let c = |n: &[&str]| t.col(n);
    let (email, first, last, phone) = (c(&["email"]), c(&["first_name"]), c(&["last_name"]), c(&["phone"]));
    let (acc_email, acc_sms, tags) = (c(&["accepts_email_marketing"]), c(&["accepts_sms_marketing"]), c(&["tags"]));
    let phone2 = c(&["default_address_phone"]);
    let orders = c(&["total_orders"]);
    let spent = c(&["total_spent"]);
    let mut out = Parsed::new(t);
    let mut with_orders = 0;
    for r in &t.rows {
        let key = r.get(email).trim_start_matches('\'').to_lowercase();
        if key.is_empty() {
            out.skipped
                .push(Reject { line: r.line, reason: "no email: Shopify's orders name customers by email".into() });
            continue;
        }
        let (ce, cs) = match (flag(r.get(acc_email)), flag(r.get(acc_sms))) {
            (Ok(a), Ok(b)) => (a, b),
            (Err(e), _) | (_, Err(e)) => {
                out.rejected.push(Reject { line: r.line, reason: format!("marketing consent: {e}") });
                continue;
            }
        };
        let n_orders = r.get(orders).parse::<f64>().ok().filter(|n| n.is_finite() && *n >= 0.0);
        if n_orders.is_some_and(|n| n > 0.0) {
            with_orders += 1;
        }
        if let (Some(n), Ok(spent)) = (n_orders, crate::amount::parse_amount(r.get(spent).as_bytes())) {
            out.stated.push(StatedTotals { line: r.line, customer: key.clone(), spent, orders: n as u32 });
        }
        out.rows.push(CustomerRecord {
            line: r.line,
            external_id: key.clone(),
            name: text(&format!("{} {}", r.get(first), r.get(last))),
            email: Some(key),
            phone: text(r.get(phone).trim_start_matches('\'')).or_else(|| text(r.get(phone2).trim_start_matches('\''))),
            consent_email: ce,
            consent_sms: cs,
            tags: text(r.get(tags)),
            ..Default::default()
        });
    }
    out.rejected.sort_by_key(|r| r.line);
    let n = out.rows.len();
    out.recognised = Some(recognised(
        Platform::ShopifyCustomers,
        format!(
            "{n} customers ({with_orders} with orders, {} without); {} without an email left out",
            n - with_orders,
            out.skipped.len()
        ),
    ));
    out
}

/// Stripe's customers export: keyed by `id` (`cus_…`), or by the email for
/// customers without one, as the payments export names them.
fn stripe_customers(t: &Table) -> Parsed<CustomerRecord> {
    let (id, email, name) = (t.col(&["id"]), t.col(&["email"]), t.col(&["name"]));
    let mut out = Parsed::new(t);
    for r in &t.rows {
        let mail = r.get(email).to_lowercase();
        let key = match r.get(id) {
            "" => mail.clone(),
            id => id.to_owned(),
        };
        if key.is_empty() {
            out.skipped.push(Reject { line: r.line, reason: "no id and no email: nothing ties it to payments".into() });
            continue;
        }
        out.rows.push(CustomerRecord {
            line: r.line,
            external_id: key,
            name: text(r.get(name)),
            email: text(&mail),
            ..Default::default()
        });
    }
    let by_email = t.rows.iter().filter(|r| r.get(id).is_empty() && !r.get(email).is_empty()).count();
    out.recognised = Some(recognised(
        Platform::StripeCustomers,
        format!(
            "{} customers ({by_email} without a Stripe id, named by email as in the payments export)",
            out.rows.len()
        ),
    ));
    out
}

/// Stripe's cancellation feedback values, in winback's taxonomy.
pub fn stripe_feedback(value: &str) -> Option<&'static str> {
    Some(match value.trim().to_ascii_lowercase().as_str() {
        "customer_service" => "poor_service",
        "low_quality" => "product_quality",
        "missing_features" => "unmet_need",
        "switched_service" => "competitor",
        "too_complex" => "unmet_need",
        "too_expensive" => "price",
        "unused" => "moved",
        "other" => "other",
        _ => return None,
    })
}

/// Stripe's subscriptions export: one customer per `Customer ID`, their contract
/// from the earliest start to the latest end when every subscription has ended
/// (`Ended At`, else `Canceled At`); the cancellation feedback becomes a reason.
fn stripe_subscriptions(t: &Table, date_format: &DateFormat) -> Result<Parsed<CustomerRecord>, IngestError> {
    let c = |n: &[&str]| t.col(n);
    let cust = c(&["customer_id"]).ok_or_else(|| IngestError::Column("no Customer ID column".into()))?;
    let (email, name, status) = (c(&["customer_email"]), c(&["customer_name"]), c(&["status"]));
    let start = c(&["start_date", "start", "created"]);
    let ended = c(&["ended_at", "ended_at_utc"]);
    let canceled = c(&["canceled_at", "cancelled_at"]);
    let feedback = c(&["cancellation_feedback", "cancellation_details_feedback", "feedback"]);
    let comment = c(&["cancellation_comment", "cancellation_details_comment"]);
    let mut notes = Vec::new();
    let mut fmt = date_format.clone();
    if fmt == DateFormat::Auto {
        let values = t.rows.iter().flat_map(|r| [start, ended, canceled].map(|i| (r.line, r.get(i).as_bytes())));
        fmt = match infer_dates(values) {
            DateInference::Decided(f) => f,
            DateInference::Ambiguous(_) => {
                notes.push("dates read month first (no day above 12 decides it), as Stripe writes them".to_string());
                DateFormat::MonthFirst
            }
            other => return Err(IngestError::Column(other.problem("dates").unwrap_or_default())),
        };
    }
    let mut out: Parsed<CustomerRecord> = Parsed::new(t);
    // per customer: (index in rows, still active)
    let mut seen: std::collections::HashMap<String, (usize, bool)> = std::collections::HashMap::new();
    let day = |s: &str| -> Result<Option<i32>, String> {
        if s.is_empty() {
            return Ok(None);
        }
        parse_date(s.as_bytes(), &fmt).map(|d| Some(day_number(d))).map_err(|e| e.to_string())
    };
    let taxonomy = Taxonomy::default();
    for r in &t.rows {
        let id = r.get(Some(cust));
        if id.is_empty() {
            out.skipped.push(Reject { line: r.line, reason: "no Customer ID".into() });
            continue;
        }
        let (s, e) = match (day(r.get(start)), day(r.get(ended)).and_then(|e| Ok(e.or(day(r.get(canceled))?)))) {
            (Ok(s), Ok(e)) => (s, e),
            (Err(e), _) | (_, Err(e)) => {
                out.rejected.push(Reject { line: r.line, reason: e });
                continue;
            }
        };
        let active = e.is_none()
            && !matches!(r.get(status).to_ascii_lowercase().as_str(), "canceled" | "cancelled" | "incomplete_expired");
        if let Some(cat) = stripe_feedback(r.get(feedback)) {
            if let (Ok(category), Some(d)) = (taxonomy.parse(cat), e) {
                out.reasons.push(NewReason {
                    line: r.line,
                    customer: id.to_owned(),
                    category,
                    scope: Scope::Specific,
                    detail: text(r.get(comment))
                        .or_else(|| Some(format!("Stripe cancellation feedback: {}", r.get(feedback)))),
                    suggestion: None,
                    source: Source::Import,
                    day: d,
                    recorded_by: "stripe".into(),
                    cause: None,
                    wont_return: false,
                });
            }
        }
        match seen.get_mut(id) {
            Some((i, any_active)) => {
                let first = out.rows[*i].line;
                let c = &mut out.rows[*i];
                c.contract_start = match (c.contract_start, s) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
                *any_active |= active;
                c.contract_end = if *any_active { None } else { c.contract_end.max(e) };
                out.skipped.push(Reject {
                    line: r.line,
                    reason: format!("another subscription of the same customer, folded into their line {first}"),
                });
            }
            None => {
                seen.insert(id.to_owned(), (out.rows.len(), active));
                out.rows.push(CustomerRecord {
                    line: r.line,
                    external_id: id.to_owned(),
                    name: text(r.get(name)),
                    email: text(r.get(email)).map(|e| e.to_lowercase()),
                    contract_start: s,
                    contract_end: if active { None } else { e },
                    ..Default::default()
                });
            }
        }
    }
    let ended_n = out.rows.iter().filter(|c| c.contract_end.is_some()).count();
    out.rejected.sort_by_key(|r| r.line);
    out.recognised = Some(Recognised {
        platform: Platform::StripeSubscriptions,
        name: Platform::StripeSubscriptions.name(),
        summary: format!(
            "{} customers on {} subscriptions; {ended_n} whose subscriptions all ended (contract churn); {} cancellation reasons{}",
            out.rows.len(),
            t.rows.len(),
            out.reasons.len(),
            if ended.is_none() && canceled.is_none() { " (no Canceled At or Ended At column: no ends to read)" } else { "" }
        ),
        notes,
    });
    Ok(out)
}

/// The customer column of an events or reasons file (English names first, then
/// German, French, Spanish, Dutch).
const CUSTOMER_COLUMNS: &[&str] = &[
    "customer_id",
    "customer",
    "id",
    "external_id",
    "email",
    "e_mail",
    "kundennummer",
    "kunde",
    "client",
    "cliente",
    "klantnummer",
];

/// Read an events file: customer, date and kind columns; the rest become attributes.
pub fn read_events(data: &[u8], date_format: &DateFormat) -> Result<Parsed<EventRecord>, IngestError> {
    let t = Table::read(data)?;
    let find = |names: &[&str]| t.col(names);
    let missing =
        |what: &str| IngestError::Column(format!("no {what} column; the header has: {}", crate::header_list(&t.names)));
    let cust = find(CUSTOMER_COLUMNS).ok_or_else(|| missing("customer"))?;
    let date =
        find(&["date", "occurred_at", "created_at", "timestamp", "time", "event_date", "datum", "fecha", "data"])
            .ok_or_else(|| missing("date"))?;
    let kind = find(&["kind", "type", "event", "event_type", "touchpoint", "art", "typ", "ereignis", "tipo", "soort"])
        .ok_or_else(|| missing("kind"))?;
    let mut out = Parsed::new(&t);
    for r in &t.rows {
        let res = (|| -> Result<EventRecord, String> {
            let customer = text(r.get(Some(cust))).ok_or("missing customer id")?;
            check_id(&customer)?;
            let d = parse_date(r.get(Some(date)).as_bytes(), date_format).map_err(|e| format!("date: {e}"))?;
            let kind_value =
                text(r.get(Some(kind))).ok_or("missing event kind")?.to_ascii_lowercase().replace([' ', '-'], "_");
            let attrs: BTreeMap<&str, &str> = (0..r.fields.len())
                .filter(|&i| i != cust && i != date && i != kind)
                .filter(|&i| !r.fields[i].trim().is_empty())
                .map(|i| (t.names[i].as_str(), r.fields[i].trim()))
                .collect();
            Ok(EventRecord {
                line: r.line,
                customer,
                day: day_number(d),
                kind: kind_value,
                attributes: serde_json::to_string(&attrs).unwrap_or_else(|_| "{}".into()),
            })
        })();
        match res {
            Ok(e) => out.rows.push(e),
            Err(reason) => out.rejected.push(Reject { line: r.line, reason }),
        }
    }
    out.rejected.sort_by_key(|r| r.line);
    Ok(out)
}

/// Defaults for reason columns a file leaves out.
pub struct ReasonDefaults {
    /// Day for rows without a date.
    pub day: i32,
    pub recorded_by: String,
}

/// Read a reasons file: `customer` and `category` columns are required; `scope`
/// (systemic or specific, default specific), `detail`, `suggestion`, `source`
/// (call, email, survey, in_person, import; default import), `date`,
/// `recorded_by` and `cause` (a root cause id) are optional. Categories must be
/// in the taxonomy.
pub fn read_reasons(
    data: &[u8],
    date_format: &DateFormat,
    taxonomy: &Taxonomy,
    defaults: &ReasonDefaults,
) -> Result<Parsed<NewReason>, IngestError> {
    let t = Table::read(data)?;
    let find = |names: &[&str]| t.col(names);
    let missing =
        |what: &str| IngestError::Column(format!("no {what} column; the header has: {}", crate::header_list(&t.names)));
    let cust = find(CUSTOMER_COLUMNS).ok_or_else(|| missing("customer"))?;
    let cat = find(&["category", "reason", "reason_category"]).ok_or_else(|| missing("category"))?;
    let scope = find(&["scope", "kind"]);
    let detail = find(&["detail", "details", "comment", "note"]);
    let suggestion = find(&["suggestion", "suggestions"]);
    let source = find(&["source", "channel", "how"]);
    let date = find(&["date", "day", "recorded_on", "given_on"]);
    let by = find(&["recorded_by", "by", "agent"]);
    let cause = find(&["cause", "cause_id", "root_cause"]);
    let mut out = Parsed::new(&t);
    for r in &t.rows {
        let line = r.line;
        let res = (|| -> Result<NewReason, String> {
            let get = |i: Option<usize>| text(r.get(i));
            let customer = text(r.get(Some(cust))).ok_or("missing customer id")?;
            check_id(&customer)?;
            let category = taxonomy.parse(r.get(Some(cat))).map_err(|e| e.to_string())?;
            let day = match get(date) {
                Some(d) => day_number(parse_date(d.as_bytes(), date_format).map_err(|e| format!("date: {e}"))?),
                None => defaults.day,
            };
            Ok(NewReason {
                line,
                customer,
                category,
                scope: get(scope).map_or(Ok(Scope::Specific), |s| s.parse()).map_err(|e: ReasonError| e.to_string())?,
                detail: get(detail),
                suggestion: get(suggestion),
                source: get(source)
                    .map_or(Ok(Source::Import), |s| s.parse())
                    .map_err(|e: ReasonError| e.to_string())?,
                day,
                recorded_by: get(by).unwrap_or_else(|| defaults.recorded_by.clone()),
                cause: match get(cause) {
                    Some(c) => Some(
                        c.trim_start_matches('#').parse::<i64>().map_err(|_| format!("cause '{c}' is not a number"))?,
                    ),
                    None => None,
                },
                wont_return: false,
            })
        })();
        match res {
            Ok(x) => out.rows.push(x),
            Err(reason) => out.rejected.push(Reject { line, reason }),
        }
    }
    out.rejected.sort_by_key(|r| r.line);
    Ok(out)
}
