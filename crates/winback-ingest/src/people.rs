//! Customer (CRM) and event (touchpoint) files: CSV with a header row.

use std::collections::BTreeMap;

pub use winback_domain::customer::{CustomerRecord, EventRecord};
use winback_domain::period::day_number;
use winback_domain::reasons::{NewReason, ReasonError, Scope, Source, Taxonomy};

use crate::date::{parse_date, DateFormat};
use crate::{IngestError, Reject};

#[derive(Debug, Clone)]
pub struct Parsed<T> {
    pub rows: Vec<T>,
    pub total: usize,
    pub rejected: Vec<Reject>,
}

fn norm(s: &str) -> String {
    s.trim().trim_start_matches('\u{feff}').to_ascii_lowercase().replace([' ', '-'], "_")
}

fn reader(data: &[u8]) -> csv::Reader<&[u8]> {
    let delim = match crate::split::detect_delimiter(data) {
        crate::split::Delimiter::Byte(b) => b,
        crate::split::Delimiter::Whitespace => b',',
    };
    csv::ReaderBuilder::new().delimiter(delim).flexible(true).from_reader(data)
}

fn flag(s: &str) -> Result<Option<bool>, String> {
    match s.trim().to_ascii_lowercase().as_str() {
        "" => Ok(None),
        "1" | "true" | "yes" | "y" | "t" | "opt_in" | "opted_in" => Ok(Some(true)),
        "0" | "false" | "no" | "n" | "f" | "opt_out" | "opted_out" => Ok(Some(false)),
        other => Err(format!("'{other}' is not yes/no")),
    }
}

fn text(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_owned())
}

/// Read a customers file. An id column (`customer_id`, `id`, `external_id`,
/// `customer`, or failing those `email`) is required.
pub fn read_customers(data: &[u8], date_format: &DateFormat) -> Result<Parsed<CustomerRecord>, IngestError> {
    let mut rdr = reader(data);
    let header: Vec<String> = rdr.headers().map_err(|e| IngestError::Column(e.to_string()))?.iter().map(norm).collect();
    let find = |names: &[&str]| names.iter().find_map(|n| header.iter().position(|h| h == n));
    let id = find(&["customer_id", "id", "external_id", "customer", "client_id", "email"]).ok_or_else(|| {
        IngestError::Column(format!(
            "no customer id column (customer_id, id, external_id, customer or email); the header has: {}",
            header.join(", ")
        ))
    })?;
    let col = |names: &[&str]| find(names).filter(|&i| i != id || names.contains(&"email"));
    let (name, first, last) = (col(&["name", "full_name", "customer_name"]), col(&["first_name"]), col(&["last_name"]));
    let email = col(&["email", "e_mail", "email_address"]);
    let phone = col(&["phone", "phone_number", "mobile"]);
    let channel = col(&["preferred_channel", "channel"]);
    let consent = [
        col(&["consent_email", "email_consent", "email_opt_in"]),
        col(&["consent_sms", "sms_consent", "sms_opt_in"]),
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
    Ok(each_record(rdr, |line, rec| {
        let get = |i: Option<usize>| i.and_then(|i| rec.get(i)).unwrap_or("");
        let external_id = text(get(Some(id))).ok_or("missing customer id")?;
        let date = |i: Option<usize>, what: &str| -> Result<Option<i32>, String> {
            let s = get(i).trim();
            if s.is_empty() {
                return Ok(None);
            }
            parse_date(s.as_bytes(), date_format).map(|d| Some(day_number(d))).map_err(|e| format!("{what}: {e}"))
        };
        let mut c = CustomerRecord { line, external_id, ..Default::default() };
        c.name = text(get(name)).or_else(|| {
            let full = format!("{} {}", get(first).trim(), get(last).trim());
            text(&full)
        });
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
    }))
}

/// Read an events file: customer, date and kind columns; the rest become attributes.
pub fn read_events(data: &[u8], date_format: &DateFormat) -> Result<Parsed<EventRecord>, IngestError> {
    let mut rdr = reader(data);
    let raw: Vec<String> =
        rdr.headers().map_err(|e| IngestError::Column(e.to_string()))?.iter().map(|s| s.trim().to_owned()).collect();
    let header: Vec<String> = raw.iter().map(|s| norm(s)).collect();
    let find = |names: &[&str]| names.iter().find_map(|n| header.iter().position(|h| h == n));
    let missing = |what: &str| IngestError::Column(format!("no {what} column; the header has: {}", raw.join(", ")));
    let cust = find(&["customer_id", "customer", "id", "external_id", "email"]).ok_or_else(|| missing("customer"))?;
    let date = find(&["date", "occurred_at", "created_at", "timestamp", "time", "event_date"])
        .ok_or_else(|| missing("date"))?;
    let kind = find(&["kind", "type", "event", "event_type", "touchpoint"]).ok_or_else(|| missing("kind"))?;
    Ok(each_record(rdr, |line, rec| {
        if rec.len() != header.len() {
            return Err(format!("expected {} fields, found {}", header.len(), rec.len()));
        }
        let customer = text(&rec[cust]).ok_or("missing customer id")?;
        let d = parse_date(rec[date].trim().as_bytes(), date_format).map_err(|e| format!("date: {e}"))?;
        let kind_value = text(&rec[kind]).ok_or("missing event kind")?.to_ascii_lowercase().replace([' ', '-'], "_");
        let attrs: BTreeMap<&str, &str> = (0..rec.len())
            .filter(|&i| i != cust && i != date && i != kind)
            .filter(|&i| !rec[i].trim().is_empty())
            .map(|i| (raw[i].as_str(), rec[i].trim()))
            .collect();
        Ok(EventRecord {
            line,
            customer,
            day: day_number(d),
            kind: kind_value,
            attributes: serde_json::to_string(&attrs).unwrap_or_else(|_| "{}".into()),
        })
    }))
}

/// Run `row` on every record, collecting rows and line-numbered rejects.
fn each_record<T>(
    mut rdr: csv::Reader<&[u8]>,
    mut row: impl FnMut(u64, &csv::StringRecord) -> Result<T, String>,
) -> Parsed<T> {
    let mut out = Parsed { rows: Vec::new(), total: 0, rejected: Vec::new() };
    for rec in rdr.records() {
        out.total += 1;
        match rec {
            Ok(rec) => {
                let line = rec.position().map_or(0, |p| p.line());
                match row(line, &rec) {
                    Ok(r) => out.rows.push(r),
                    Err(reason) => out.rejected.push(Reject { line, reason }),
                }
            }
            Err(e) => out.rejected.push(Reject { line: e.position().map_or(0, |p| p.line()), reason: e.to_string() }),
        }
    }
    out
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
    let mut rdr = reader(data);
    let raw: Vec<String> =
        rdr.headers().map_err(|e| IngestError::Column(e.to_string()))?.iter().map(|s| s.trim().to_owned()).collect();
    let header: Vec<String> = raw.iter().map(|s| norm(s)).collect();
    let find = |names: &[&str]| names.iter().find_map(|n| header.iter().position(|h| h == n));
    let missing = |what: &str| IngestError::Column(format!("no {what} column; the header has: {}", raw.join(", ")));
    let cust = find(&["customer_id", "customer", "id", "external_id", "email"]).ok_or_else(|| missing("customer"))?;
    let cat = find(&["category", "reason", "reason_category"]).ok_or_else(|| missing("category"))?;
    let scope = find(&["scope", "kind"]);
    let detail = find(&["detail", "details", "comment", "note"]);
    let suggestion = find(&["suggestion", "suggestions"]);
    let source = find(&["source", "channel", "how"]);
    let date = find(&["date", "day", "recorded_on", "given_on"]);
    let by = find(&["recorded_by", "by", "agent"]);
    let cause = find(&["cause", "cause_id", "root_cause"]);
    Ok(each_record(rdr, |line, rec| {
        if rec.len() != header.len() {
            return Err(format!("expected {} fields, found {}", header.len(), rec.len()));
        }
        let get = |i: Option<usize>| i.and_then(|i| text(&rec[i]));
        let customer = text(&rec[cust]).ok_or("missing customer id")?;
        let category = taxonomy.parse(&rec[cat]).map_err(|e| e.to_string())?;
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
            source: get(source).map_or(Ok(Source::Import), |s| s.parse()).map_err(|e: ReasonError| e.to_string())?,
            day,
            recorded_by: get(by).unwrap_or_else(|| defaults.recorded_by.clone()),
            cause: match get(cause) {
                Some(c) => {
                    Some(c.trim_start_matches('#').parse::<i64>().map_err(|_| format!("cause '{c}' is not a number"))?)
                }
                None => None,
            },
        })
    }))
}
