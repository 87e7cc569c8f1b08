//! The exports small businesses actually have, recognised from their header and
//! read with their platform's rules, so that `winback import transactions FILE`
//! needs no options for them.
//!
//! Every record ends in one of five outcomes, and they add up to the file's
//! records: imported (one or two stored transactions: a sale, and its refund),
//! part of an order on another line (line items folded into their order),
//! skipped by a stated rule (a failed payment, a test order, an authorisation…),
//! rejected with its reason, or — later, in the store — a duplicate.
//!
//! The rules come from each platform's export documentation and from real
//! exports (see `bench/exports.py`):
//! * Shopify orders (Admin → Orders → Export): one row per line item, the order's
//!   own fields (`Financial Status`, `Total`, `Refunded Amount`, `Cancelled at`)
//!   on its first row only. `Refunded Amount` has no date: the refund is dated
//!   with the order.
//! * Stripe payments (Dashboard → Payments → Export): `Converted Amount` (one
//!   currency for the whole account) when present, else `Amount`; failed or
//!   uncaptured charges are not sales.
//! * Etsy sold orders, PayPal activity downloads, Square transactions,
//!   WooCommerce order exports, UCI Online Retail I and II.

use rustc_hash::FxHashMap;
use serde::Serialize;
use winback_domain::log::TransactionLog;
use winback_domain::period::day_number;

use crate::amount::{infer_decimal, parse_amount_as, Decimal};
use crate::date::{infer_dates, parse_date, DateFormat, DateInference};
use crate::table::{Row, Table};
use crate::transactions::{LogExtras, LogReport, Mapping, TextColumn};
use crate::{IngestError, Reject};

/// A platform export winback knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Platform {
    ShopifyOrders,
    ShopifyCustomers,
    ShopifyTransactions,
    StripePayments,
    StripeSubscriptions,
    StripeCustomers,
    StripeInvoices,
    WooCommerceOrders,
    SquareTransactions,
    EtsySoldOrders,
    PayPalActivity,
    UciOnlineRetail,
}

/// What a file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Holds {
    Transactions,
    Customers,
    /// Neither: the message says what to import instead.
    Other(&'static str),
}

impl Platform {
    pub fn name(self) -> &'static str {
        match self {
            Platform::ShopifyOrders => "Shopify orders export",
            Platform::ShopifyCustomers => "Shopify customers export",
            Platform::ShopifyTransactions => "Shopify transactions export",
            Platform::StripePayments => "Stripe payments export",
            Platform::StripeSubscriptions => "Stripe subscriptions export",
            Platform::StripeCustomers => "Stripe customers export",
            Platform::StripeInvoices => "Stripe invoices export",
            Platform::WooCommerceOrders => "WooCommerce orders export",
            Platform::SquareTransactions => "Square transactions export",
            Platform::EtsySoldOrders => "Etsy sold orders",
            Platform::PayPalActivity => "PayPal activity download",
            Platform::UciOnlineRetail => "UCI Online Retail data set",
        }
    }

    pub fn holds(self) -> Holds {
        match self {
            Platform::ShopifyCustomers | Platform::StripeSubscriptions | Platform::StripeCustomers => Holds::Customers,
            Platform::ShopifyTransactions => Holds::Other(
                "it has no customer column (only the order name): export the orders instead (Admin → Orders → Export) and import that",
            ),
            Platform::StripeInvoices => Holds::Other(
                "invoices repeat the payments export: import the payments export (Payments → Export) instead",
            ),
            _ => Holds::Transactions,
        }
    }
}

/// Recognise a platform from a header row ([`crate::transactions::normalise`]d names).
pub fn recognise(norm: &[String]) -> Option<Platform> {
    let has = |names: &[&str]| names.iter().all(|n| norm.iter().any(|h| h == n));
    let any = |names: &[&str]| names.iter().any(|n| norm.iter().any(|h| h == n));
    if has(&["name", "email", "financial_status", "total", "lineitem_name"]) && any(&["created_at", "paid_at"]) {
        return Some(Platform::ShopifyOrders);
    }
    if has(&["first_name", "last_name", "email", "accepts_email_marketing", "total_spent", "total_orders"]) {
        return Some(Platform::ShopifyCustomers);
    }
    if has(&["order", "name", "kind", "gateway", "status", "amount"]) && any(&["created_at"]) {
        return Some(Platform::ShopifyTransactions);
    }
    if has(&["customer_id", "plan", "interval", "status"]) && any(&["start_date", "current_period_end", "start"]) {
        return Some(Platform::StripeSubscriptions);
    }
    if has(&["id", "email", "delinquent"]) && any(&["total_spend", "payment_count"]) {
        return Some(Platform::StripeCustomers);
    }
    if has(&["amount_due", "customer", "subscription", "amount_paid"]) {
        return Some(Platform::StripeInvoices);
    }
    if has(&["amount", "status"])
        && any(&["created_date", "created"])
        && any(&["customer_id", "customer_email"])
        && any(&["captured", "converted_amount", "amount_refunded", "seller_message"])
    {
        return Some(Platform::StripePayments);
    }
    if has(&["sale_date", "order_id", "buyer_user_id", "order_total"]) {
        return Some(Platform::EtsySoldOrders);
    }
    if has(&["date", "time", "type", "status", "gross", "transaction_id"])
        && any(&["from_email_address", "balance_impact"])
    {
        return Some(Platform::PayPalActivity);
    }
    if has(&["date", "gross_sales", "total_collected", "transaction_id"]) {
        return Some(Platform::SquareTransactions);
    }
    if has(&["stockcode", "description", "quantity", "invoicedate"])
        && any(&["invoiceno", "invoice"])
        && any(&["unitprice", "price"])
        && any(&["customerid", "customer_id"])
    {
        return Some(Platform::UciOnlineRetail);
    }
    let woo_total = any(&["order_total", "order_total_amount"]);
    let woo_id = any(&["order_id", "order_number"]);
    let woo_status = any(&["status", "order_status"]);
    let woo_who = any(&["billing_email", "email_billing", "customer_id", "customer_user", "customer_user_id"]);
    if woo_total && woo_id && woo_status && woo_who && any(&["order_date", "date_created", "paid_date"]) {
        return Some(Platform::WooCommerceOrders);
    }
    None
}

/// What winback recognised and how it read the file.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Recognised {
    pub platform: Platform,
    pub name: &'static str,
    /// One sentence of what the file holds, in the platform's terms.
    pub summary: String,
    /// How ambiguous columns were read ("dates month first, as Etsy writes them").
    pub notes: Vec<String>,
}

/// The transactions built from a recognised export.
struct Out {
    log: TransactionLog,
    amounts: Vec<f64>,
    extras: LogExtras,
    index: FxHashMap<String, u32>,
    /// Lines read into a transaction of their own.
    imported_lines: usize,
    folded: Vec<u64>,
    skipped: Vec<Reject>,
    rejected: Vec<Reject>,
    notes: Vec<String>,
    /// The line last rejected by [`Out::txn`] (its refund row is not stored either).
    bad_line: Option<u64>,
}

impl Out {
    fn new() -> Self {
        Out {
            log: TransactionLog::default(),
            amounts: Vec::new(),
            extras: LogExtras {
                txn_id: Some(TextColumn::default()),
                channel: Some(TextColumn::default()),
                product: Some(TextColumn::default()),
                ..LogExtras::default()
            },
            index: FxHashMap::default(),
            imported_lines: 0,
            folded: Vec::new(),
            skipped: Vec::new(),
            rejected: Vec::new(),
            notes: Vec::new(),
            bad_line: None,
        }
    }

    /// A transaction from `line`; the first of a line counts the line imported.
    #[allow(clippy::too_many_arguments)]
    fn txn(
        &mut self,
        line: u64,
        first_of_line: bool,
        customer: &str,
        day: i32,
        amount: f64,
        id: &str,
        product: &str,
        channel: &str,
    ) {
        // ids the store's index can hold (the refund's id adds "/refund")
        let max = crate::transactions::MAX_ID_BYTES;
        if first_of_line && (customer.len() > max || id.len() + 7 > max) {
            self.rejected.push(Reject { line, reason: format!("customer or order id longer than {max} bytes") });
            self.bad_line = Some(line);
            return;
        }
        if self.bad_line == Some(line) {
            return;
        }
        let c = match self.index.get(customer) {
            Some(&c) => c,
            None => {
                let c = self.log.ids.len() as u32;
                self.log.ids.push(customer);
                self.index.insert(customer.to_owned(), c);
                c
            }
        };
        self.log.customer.push(c);
        self.log.day.push(day);
        self.amounts.push(amount);
        let x = &mut self.extras;
        x.lines.push(u32::try_from(line).unwrap_or(u32::MAX));
        for (col, v) in [(&mut x.txn_id, id), (&mut x.product, product), (&mut x.channel, channel)] {
            if let Some(c) = col.as_mut() {
                c.push(v.as_bytes());
            }
        }
        if first_of_line {
            self.imported_lines += 1;
        }
    }

    fn skip(&mut self, line: u64, reason: impl Into<String>) {
        self.skipped.push(Reject { line, reason: reason.into() });
    }

    fn reject(&mut self, line: u64, reason: impl Into<String>) {
        self.rejected.push(Reject { line, reason: reason.into() });
    }
}

/// The value, or else the line rejected with the error and the loop moved on.
macro_rules! or_reject {
    ($out:expr, $line:expr, $e:expr) => {
        match $e {
            Ok(v) => v,
            Err(e) => {
                $out.reject($line, e);
                continue;
            }
        }
    };
}

/// A money column read under the decimal mark its values show.
struct Money {
    col: Option<usize>,
    decimal: Decimal,
    name: String,
}

impl Money {
    fn new(t: &Table, col: Option<usize>) -> Result<Money, IngestError> {
        let name = col.map_or(String::new(), |c| t.names[c].clone());
        let decimal = match col {
            None => Decimal::Point,
            Some(c) => infer_decimal(t.rows.iter().map(|r| (r.line, r.get(Some(c)).as_bytes())))
                .map_err(|e| IngestError::Column(format!("column '{name}': {e}")))?
                .unwrap_or(Decimal::Point),
        };
        Ok(Money { col, decimal, name })
    }

    /// The amount in `row`; `Ok(None)` when the cell is empty.
    fn get(&self, row: &Row) -> Result<Option<f64>, String> {
        let s = row.get(self.col);
        if s.is_empty() {
            return Ok(None);
        }
        parse_amount_as(s.as_bytes(), self.decimal).map(Some).map_err(|e| format!("{}: {e}", self.name))
    }

    fn or_zero(&self, row: &Row) -> Result<f64, String> {
        self.get(row).map(|v| v.unwrap_or(0.0))
    }
}

/// A date column read in the layout its values show; `default` decides a
/// column where no day is above 12 (with the note to show), else it is an error.
struct Dates {
    col: Option<usize>,
    format: DateFormat,
    name: String,
}

impl Dates {
    fn new(
        t: &Table,
        col: Option<usize>,
        default: Option<(DateFormat, String)>,
        notes: &mut Vec<String>,
    ) -> Result<Dates, IngestError> {
        let name = col.map_or(String::new(), |c| t.names[c].clone());
        let format = match col {
            None => DateFormat::Auto,
            Some(c) => match infer_dates(t.rows.iter().map(|r| (r.line, r.get(Some(c)).as_bytes()))) {
                DateInference::Decided(DateFormat::ExcelSerial) => {
                    notes.push(format!("{name}: {}", crate::transactions::EXCEL_SERIAL_NOTE));
                    DateFormat::ExcelSerial
                }
                DateInference::Decided(f) => f,
                DateInference::Ambiguous(_) if default.is_some() => {
                    let (f, why) = default.unwrap_or_default();
                    notes.push(why);
                    f
                }
                other => return Err(IngestError::Column(other.problem(&name).unwrap_or_default())),
            },
        };
        Ok(Dates { col, format, name })
    }

    fn day(&self, row: &Row) -> Result<i32, String> {
        let field = row.get(self.col).as_bytes();
        parse_date(field, &self.format)
            .and_then(|d| crate::date::purchase_day(day_number(d), field))
            .map_err(|e| format!("{}: {e}", self.name))
    }
}

/// The orders of an export written one line per item, by order id.
#[derive(Default)]
struct Orders<'t> {
    lines: FxHashMap<&'t str, Vec<&'t Row>>,
}

impl<'t> Orders<'t> {
    /// Whether `r` is a later line of an order already seen, and then what it
    /// is: a line item (folded into the order's first line), or a copy of one
    /// of the order's lines, field for field (the order is in the file twice,
    /// as exports that overlap put it). A first line is kept, and false.
    fn again(&mut self, order: &'t str, r: &'t Row, out: &mut Out) -> bool {
        let lines = self.lines.entry(order).or_default();
        let again = !lines.is_empty();
        if lines.iter().any(|l| l.fields == r.fields) {
            out.skip(r.line, format!("order {order} is in the file twice (exports that overlap)"));
        } else if again {
            out.folded.push(r.line);
        }
        lines.push(r);
        again
    }
}

/// Read a recognised transactions export.
pub fn read_transactions(
    t: &Table,
    platform: Platform,
    date_format: &DateFormat,
) -> Result<(TransactionLog, LogExtras, LogReport), IngestError> {
    let mut out = Out::new();
    let forced = (*date_format != DateFormat::Auto).then(|| date_format.clone());
    let (summary, mapping) = match platform {
        Platform::ShopifyOrders => shopify_orders(t, &mut out, forced)?,
        Platform::StripePayments => stripe_payments(t, &mut out, forced)?,
        Platform::EtsySoldOrders => etsy(t, &mut out, forced)?,
        Platform::PayPalActivity => paypal(t, &mut out, forced)?,
        Platform::SquareTransactions => square(t, &mut out, forced)?,
        Platform::UciOnlineRetail => uci(t, &mut out, forced)?,
        Platform::WooCommerceOrders => woocommerce(t, &mut out, forced)?,
        other => {
            return Err(IngestError::Column(match other.holds() {
                Holds::Customers => format!(
                    "this is a {}: it holds customers, not transactions; import it with `winback import customers`",
                    other.name()
                ),
                Holds::Other(why) => format!("this is a {}: {why}", other.name()),
                Holds::Transactions => format!("this is a {}, which winback does not read yet", other.name()),
            }))
        }
    };
    let mut rejected = t.rejected.clone();
    rejected.append(&mut out.rejected);
    rejected.sort_by_key(|r| r.line);
    let mut skipped = out.skipped;
    skipped.extend(t.blank.iter().map(|&line| Reject { line, reason: "blank line".into() }));
    skipped.extend(t.headers_again());
    skipped.sort_by_key(|r| r.line);
    let rows = t.records() + t.blank.len();
    debug_assert_eq!(rows, out.imported_lines + out.folded.len() + skipped.len() + rejected.len());
    let read = out.log.customer.len();
    let mut log = out.log;
    log.amount = Some(out.amounts);
    let report = LogReport {
        mapping,
        rows,
        read,
        rejected,
        recognised: Some(Recognised { platform, name: platform.name(), summary, notes: out.notes }),
        imported_lines: Some(out.imported_lines),
        folded: out.folded.len(),
        skipped,
        notes: Vec::new(),
    };
    Ok((log, out.extras, report))
}

fn mapping(t: &Table, customer: Option<usize>, date: Option<usize>, amount: Option<usize>) -> Mapping {
    let named = |c: Option<usize>| c.map(|c| (c, t.names[c].clone()));
    Mapping {
        delimiter: t.delimiter.describe(),
        header: true,
        customer: named(customer).unwrap_or((0, String::new())),
        date: named(date).unwrap_or((0, String::new())),
        amount: named(amount),
        extras: Vec::new(),
    }
}

fn need(t: &Table, names: &[&str], what: &str) -> Result<usize, IngestError> {
    t.col(names).ok_or_else(|| IngestError::Column(format!("the {what} column ({}) is missing", names.join(" or "))))
}

const US_DATES: &str = "dates read month first (no day above 12 decides it), as the platform writes them";

fn email_key(s: &str) -> String {
    s.trim().trim_start_matches('\'').to_lowercase()
}

type Read = Result<(String, Mapping), IngestError>;

fn shopify_orders(t: &Table, out: &mut Out, forced: Option<DateFormat>) -> Read {
    let name = need(t, &["name"], "order name")?;
    let email = t.col(&["email"]);
    let status = t.col(&["financial_status"]);
    let created = need(t, &["created_at", "paid_at"], "Created at")?;
    let total = Money::new(t, t.col(&["total"]))?;
    let refunded = Money::new(t, t.col(&["refunded_amount"]))?;
    let cancelled = t.col(&["cancelled_at"]);
    let payment = t.col(&["payment_method", "payment_gateway_names"]);
    let item = t.col(&["lineitem_name"]);
    let source = t.col(&["source"]);
    let dates = Dates::new(t, Some(created), forced.map(|f| (f, String::new())), &mut out.notes)?;
    let (mut orders, mut refunds, mut partly, mut cancels) = (0, 0, 0, 0);
    let mut first_line: FxHashMap<&str, u64> = FxHashMap::default();
    let mut statuses: std::collections::BTreeMap<String, usize> = std::collections::BTreeMap::new();
    for r in &t.rows {
        let order = r.get(Some(name));
        if order.is_empty() {
            out.reject(r.line, "no order name (Name)");
            continue;
        }
        if first_line.contains_key(order) {
            // the order's own fields are on its first line only: with them
            // again, the order is in the file twice (exports that overlap)
            if r.get(status).is_empty() {
                out.folded.push(r.line);
            } else {
                out.skip(r.line, format!("order {order} is in the file twice (exports that overlap)"));
            }
            continue;
        }
        first_line.insert(order, r.line);
        let fs = r.get(status).to_ascii_lowercase();
        if !fs.is_empty() {
            *statuses.entry(fs.clone()).or_default() += 1;
        }
        if fs.is_empty() {
            out.reject(r.line, format!("order {order}: the order's own fields (Financial Status, Total) are empty and its first line is not in the file"));
            continue;
        }
        let gateway = r.get(payment);
        if gateway.contains("Bogus Gateway") || gateway.contains("(for testing)") {
            out.skip(r.line, format!("test order {order} (payment: {gateway})"));
            continue;
        }
        match fs.as_str() {
            "paid" | "partially_paid" | "partially_refunded" | "refunded" => {}
            "voided" => {
                out.skip(r.line, format!("order {order} was voided (never paid)"));
                continue;
            }
            "pending" | "authorized" | "expired" | "unpaid" => {
                out.skip(r.line, format!("order {order} is not paid (Financial Status {fs})"));
                continue;
            }
            other => {
                out.skip(r.line, format!("order {order}: Financial Status '{other}' is not a sale"));
                continue;
            }
        }
        let customer = email_key(r.get(email));
        if customer.is_empty() {
            out.skip(r.line, format!("order {order} has no customer email, so no customer to attribute it to"));
            continue;
        }
        let tot = or_reject!(out, r.line, total.or_zero(r));
        let refd = or_reject!(out, r.line, refunded.or_zero(r));
        let day = or_reject!(out, r.line, dates.day(r));
        if !r.get(cancelled).is_empty() {
            cancels += 1;
            if tot - refd <= 0.005 {
                out.skip(r.line, format!("order {order} was cancelled and refunded in full"));
                continue;
            }
        }
        orders += 1;
        out.txn(r.line, true, &customer, day, tot, order, r.get(item), r.get(source));
        if refd > 0.0 {
            if refd + 0.005 >= tot {
                refunds += 1;
            } else {
                partly += 1;
            }
            out.txn(r.line, false, &customer, day, -refd, &format!("{order}/refund"), r.get(item), r.get(source));
        }
    }
    let mut by_status: Vec<(String, usize)> = statuses.into_iter().collect();
    by_status.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let shown: Vec<String> = by_status.iter().map(|(s, n)| format!("{n} {}", s.replace('_', " "))).collect();
    let summary = format!(
        "{} orders on {} lines ({}; {cancels} cancelled); {orders} imported, {refunds} of them refunded in full and {partly} in part",
        by_status.iter().map(|(_, n)| n).sum::<usize>(),
        t.records() + t.blank.len(),
        shown.join(", ")
    );
    Ok((summary, mapping(t, email, Some(created), total.col)))
}

fn stripe_payments(t: &Table, out: &mut Out, forced: Option<DateFormat>) -> Read {
    let id = t.col(&["id"]);
    let created = need(t, &["created_date", "created"], "Created date (UTC)")?;
    let converted = t.col(&["converted_amount"]);
    let amount = Money::new(t, converted.or(t.col(&["amount"])))?;
    let refunded = Money::new(
        t,
        if converted.is_some() { t.col(&["converted_amount_refunded"]) } else { t.col(&["amount_refunded"]) },
    )?;
    let currency = t.col(&["converted_currency", "currency"]);
    let status = t.col(&["status"]);
    let captured = t.col(&["captured"]);
    let cust_id = t.col(&["customer_id"]);
    let cust_email = t.col(&["customer_email"]);
    let mode = t.col(&["mode"]);
    let descr = t.col(&["description"]);
    let refund_date = t.col(&["refunded_date"]);
    let default = forced.or(Some(DateFormat::MonthFirst)).map(|f| (f, US_DATES.to_string()));
    let dates = Dates::new(t, Some(created), default.clone(), &mut out.notes)?;
    let refund_dates = Dates::new(t, refund_date, default, &mut out.notes)?;
    let (mut paid, mut failed, mut refunds) = (0, 0, 0);
    let mut currencies: Vec<String> = Vec::new();
    for r in &t.rows {
        let st = r.get(status).to_ascii_lowercase();
        if r.get(mode).eq_ignore_ascii_case("test") {
            out.skip(r.line, "test-mode payment");
            continue;
        }
        if st == "failed" || r.get(captured).eq_ignore_ascii_case("false") {
            failed += 1;
            out.skip(r.line, "failed or uncaptured charge (no money moved)");
            continue;
        }
        if !matches!(st.as_str(), "paid" | "succeeded" | "refunded" | "partially refunded" | "partially_refunded" | "")
        {
            out.skip(r.line, format!("payment status '{}' is not a completed sale", r.get(status)));
            continue;
        }
        let customer = match (r.get(cust_id), email_key(r.get(cust_email))) {
            (id, _) if !id.is_empty() => id.to_owned(),
            (_, e) if !e.is_empty() => e,
            _ => {
                out.skip(r.line, "no Customer ID or Customer Email: a one-off payment no customer can be tied to");
                continue;
            }
        };
        let amt = or_reject!(out, r.line, amount.or_zero(r));
        let refd = or_reject!(out, r.line, refunded.or_zero(r));
        let day = or_reject!(out, r.line, dates.day(r));
        let cur = r.get(currency).to_ascii_uppercase();
        if !cur.is_empty() && !currencies.contains(&cur) {
            currencies.push(cur);
        }
        paid += 1;
        let pid = r.get(id);
        out.txn(r.line, true, &customer, day, amt, pid, r.get(descr), "stripe");
        if refd > 0.0 {
            refunds += 1;
            let rday = if r.get(refund_date).is_empty() { Ok(day) } else { refund_dates.day(r) };
            let rid = if pid.is_empty() { String::new() } else { format!("{pid}/refund") };
            out.txn(r.line, false, &customer, rday.unwrap_or(day), -refd, &rid, r.get(descr), "stripe");
        }
    }
    if currencies.len() > 1 {
        out.notes.push(format!(
            "amounts are in several currencies ({}); no conversion column was found",
            currencies.join(", ")
        ));
    }
    let summary = format!(
        "{paid} payments{}; {failed} failed charges left out, {refunds} with refunds",
        if converted.is_some() { " (converted amounts)" } else { "" }
    );
    Ok((summary, mapping(t, cust_id.or(cust_email), Some(created), amount.col)))
}

fn etsy(t: &Table, out: &mut Out, forced: Option<DateFormat>) -> Read {
    let date = need(t, &["sale_date"], "Sale Date")?;
    let order = need(t, &["order_id"], "Order ID")?;
    let buyer = need(t, &["buyer_user_id"], "Buyer User ID")?;
    let total = Money::new(t, t.col(&["order_total"]))?;
    let adjusted = Money::new(t, t.col(&["adjusted_order_total"]))?;
    let sku = t.col(&["sku"]);
    let kind = t.col(&["order_type"]);
    let dates = Dates::new(
        t,
        Some(date),
        Some((forced.clone().unwrap_or(DateFormat::MonthFirst), US_DATES.into())),
        &mut out.notes,
    )?;
    let (mut orders, mut adjusted_n, mut guests) = (0, 0, 0);
    let mut seen = Orders::default();
    for r in &t.rows {
        let oid = r.get(Some(order));
        if !oid.is_empty() && seen.again(oid, r, out) {
            continue;
        }
        let customer = r.get(Some(buyer));
        if customer.is_empty() {
            guests += 1;
            out.skip(r.line, format!("order {oid}: guest checkout, no Buyer User ID to tie it to a customer"));
            continue;
        }
        let tot = or_reject!(out, r.line, total.or_zero(r));
        let adj = or_reject!(out, r.line, adjusted.get(r));
        let day = or_reject!(out, r.line, dates.day(r));
        orders += 1;
        out.txn(r.line, true, customer, day, tot, oid, r.get(sku), r.get(kind));
        // `Adjusted Order Total` is 0 or blank when nothing was adjusted
        if let Some(adj) = adj.filter(|a| *a > 0.0 && *a + 0.005 < tot) {
            adjusted_n += 1;
            out.txn(r.line, false, customer, day, adj - tot, &format!("{oid}/refund"), r.get(sku), r.get(kind));
        }
    }
    Ok((
        format!("{orders} orders; {guests} guest checkouts left out, {adjusted_n} partly refunded"),
        mapping(t, Some(buyer), Some(date), total.col),
    ))
}

/// PayPal activity types that are money received for a sale.
fn paypal_sale(kind: &str) -> bool {
    let k = kind.to_ascii_lowercase();
    (k.ends_with("payment") || k.contains("payment received") || k.contains("checkout payment"))
        && !k.contains("non reference credit")
        && !k.contains("withdrawal")
}

fn paypal(t: &Table, out: &mut Out, forced: Option<DateFormat>) -> Read {
    let date = need(t, &["date"], "Date")?;
    let kind = need(t, &["type"], "Type")?;
    let status = t.col(&["status"]);
    let impact = t.col(&["balance_impact"]);
    let gross = Money::new(t, t.col(&["gross"]))?;
    let currency = t.col(&["currency"]);
    let from = t.col(&["from_email_address"]);
    let to = t.col(&["to_email_address"]);
    let id = t.col(&["transaction_id"]);
    let item = t.col(&["item_title"]);
    let dates =
        Dates::new(t, Some(date), Some((forced.unwrap_or(DateFormat::MonthFirst), US_DATES.into())), &mut out.notes)?;
    // the account's main currency: that of most sales
    let mut counts: FxHashMap<&str, usize> = FxHashMap::default();
    for r in &t.rows {
        if paypal_sale(r.get(Some(kind))) {
            *counts.entry(r.get(currency)).or_default() += 1;
        }
    }
    let main = counts.into_iter().max_by_key(|(c, n)| (*n, std::cmp::Reverse(*c))).map(|(c, _)| c.to_owned());
    let (mut sales, mut refunds, mut other) = (0, 0, 0);
    for r in &t.rows {
        let k = r.get(Some(kind));
        let st = r.get(status);
        let imp = r.get(impact);
        let completed = st.eq_ignore_ascii_case("completed");
        let sale = paypal_sale(k) && completed && (imp.is_empty() || imp.eq_ignore_ascii_case("credit"));
        let refund = k.to_ascii_lowercase().contains("refund")
            && completed
            && (imp.is_empty() || imp.eq_ignore_ascii_case("debit"));
        if !sale && !refund {
            other += 1;
            out.skip(r.line, format!("PayPal '{k}' ({st}, {imp}): not a sale or a refund"));
            continue;
        }
        if main.as_deref().is_some_and(|m| m != r.get(currency)) {
            out.reject(
                r.line,
                format!(
                    "amount in {}, not in the account's main currency {}",
                    r.get(currency),
                    main.as_deref().unwrap_or("")
                ),
            );
            continue;
        }
        let customer = email_key(r.get(if sale { from } else { to }));
        if customer.is_empty() {
            out.skip(r.line, format!("PayPal '{k}' without the customer's email"));
            continue;
        }
        let amt = or_reject!(out, r.line, gross.or_zero(r));
        let day = or_reject!(out, r.line, dates.day(r));
        if sale {
            sales += 1;
            out.txn(r.line, true, &customer, day, amt.abs(), r.get(id), r.get(item), "paypal");
        } else {
            refunds += 1;
            out.txn(r.line, true, &customer, day, -amt.abs(), r.get(id), r.get(item), "paypal");
        }
    }
    Ok((
        format!("{sales} sales and {refunds} refunds; {other} other activity lines (authorisations, holds, transfers, card spending, memos) left out"),
        mapping(t, from, Some(date), gross.col),
    ))
}

fn square(t: &Table, out: &mut Out, forced: Option<DateFormat>) -> Read {
    let date = need(t, &["date"], "Date")?;
    let total = Money::new(t, t.col(&["total_collected"]))?;
    let id = t.col(&["transaction_id", "payment_id"]);
    let customer = t.col(&["customer_id"]);
    let name = t.col(&["customer_name"]);
    let event = t.col(&["event_type"]);
    let location = t.col(&["location"]);
    let descr = t.col(&["description", "details"]);
    let dates =
        Dates::new(t, Some(date), Some((forced.unwrap_or(DateFormat::MonthFirst), US_DATES.into())), &mut out.notes)?;
    let (mut sales, mut refunds) = (0, 0);
    for r in &t.rows {
        let who = r.get(customer);
        if who.is_empty() {
            out.skip(
                r.line,
                format!(
                    "no Customer ID (a walk-in sale{})",
                    if r.get(name).is_empty() { "" } else { " with only a name" }
                ),
            );
            continue;
        }
        let amt = or_reject!(out, r.line, total.or_zero(r));
        let day = or_reject!(out, r.line, dates.day(r));
        let is_refund = r.get(event).eq_ignore_ascii_case("refund") || amt < 0.0;
        if is_refund {
            refunds += 1;
        } else {
            sales += 1;
        }
        let amt = if is_refund { -amt.abs() } else { amt };
        let tid =
            if is_refund && !r.get(id).is_empty() { format!("{}/refund", r.get(id)) } else { r.get(id).to_owned() };
        out.txn(r.line, true, who, day, amt, &tid, r.get(descr), r.get(location));
    }
    Ok((format!("{sales} payments and {refunds} refunds"), mapping(t, customer, Some(date), total.col)))
}

fn woocommerce(t: &Table, out: &mut Out, forced: Option<DateFormat>) -> Read {
    let order = need(t, &["order_number", "order_id"], "order number")?;
    let date = need(t, &["order_date", "date_created", "paid_date"], "order date")?;
    let status = t.col(&["status", "order_status"]);
    let total = Money::new(t, t.col(&["order_total", "order_total_amount"]))?;
    let refunded = Money::new(t, t.col(&["refunded_total", "order_refund", "refund_total", "total_refunded"]))?;
    let cust_id = t.col(&["customer_id", "customer_user", "customer_user_id"]);
    let email = t.col(&["billing_email", "email_billing", "customer_email"]);
    let item = t.col(&["item_name", "product_name", "line_items"]);
    let dates = Dates::new(t, Some(date), forced.map(|f| (f, String::new())), &mut out.notes)?;
    let (mut orders, mut refunds) = (0, 0);
    let mut seen = Orders::default();
    for r in &t.rows {
        let oid = r.get(Some(order));
        if !oid.is_empty() && seen.again(oid, r, out) {
            continue;
        }
        let st = r.get(status).to_ascii_lowercase();
        let st = st.strip_prefix("wc-").unwrap_or(&st);
        match st {
            "completed" | "processing" | "refunded" | "" => {}
            other => {
                out.skip(r.line, format!("order {oid} is {other}, not a sale"));
                continue;
            }
        }
        // registered customers by their id; guests by their billing email
        let customer = match (r.get(cust_id), email_key(r.get(email))) {
            (id, _) if !id.is_empty() && id != "0" => id.to_owned(),
            (_, e) if !e.is_empty() => e,
            _ => {
                out.skip(r.line, format!("order {oid} has no customer id or billing email"));
                continue;
            }
        };
        let (tot, refd) = match (total.or_zero(r), refunded.or_zero(r)) {
            (Ok(a), Ok(b)) => (a, if st == "refunded" && b == 0.0 { a } else { b }),
            (Err(e), _) | (_, Err(e)) => {
                out.reject(r.line, e);
                continue;
            }
        };
        let day = or_reject!(out, r.line, dates.day(r));
        orders += 1;
        out.txn(r.line, true, &customer, day, tot, oid, r.get(item), "woocommerce");
        if refd.abs() > 0.0 {
            refunds += 1;
            out.txn(r.line, false, &customer, day, -refd.abs(), &format!("{oid}/refund"), r.get(item), "woocommerce");
        }
    }
    Ok((format!("{orders} orders, {refunds} with refunds"), mapping(t, cust_id.or(email), Some(date), total.col)))
}

/// UCI Online Retail I and II: line items folded into their invoice, amount =
/// Quantity × UnitPrice, `C` invoices are cancellations (negative amounts).
fn uci(t: &Table, out: &mut Out, forced: Option<DateFormat>) -> Read {
    let invoice = need(t, &["invoiceno", "invoice"], "InvoiceNo")?;
    let qty_col = need(t, &["quantity"], "Quantity")?;
    let date = need(t, &["invoicedate"], "InvoiceDate")?;
    let price = Money::new(t, t.col(&["unitprice", "price"]))?;
    let cust = need(t, &["customerid", "customer_id"], "CustomerID")?;
    let descr = t.col(&["description"]);
    let country = t.col(&["country"]);
    // UCI Online Retail (header InvoiceNo) covers 1 Dec 2010 – 9 Dec 2011, Online
    // Retail II (Invoice) 1 Dec 2009 – 9 Dec 2011. The published CSVs write dates
    // month first; a copy re-saved day first is recognised when only that
    // reading keeps every date inside the data set's span.
    let first_year = if t.col(&["invoiceno"]).is_some() { 2010 } else { 2009 };
    let default = match forced {
        Some(f) => Some((f, String::new())),
        None => {
            let lo = chrono::NaiveDate::from_ymd_opt(first_year, 12, 1).map_or(0, day_number);
            let hi = chrono::NaiveDate::from_ymd_opt(2011, 12, 9).map_or(0, day_number);
            let in_span = |f: &DateFormat| {
                t.rows.iter().all(|r| {
                    parse_date(r.get(Some(date)).as_bytes(), f).is_ok_and(|d| (lo..=hi).contains(&day_number(d)))
                })
            };
            if in_span(&DateFormat::DayFirst) && !in_span(&DateFormat::MonthFirst) {
                Some((
                    DateFormat::DayFirst,
                    format!("dates read day first: month first would put them outside the data set's span (Dec {first_year} – Dec 2011)"),
                ))
            } else {
                Some((
                    DateFormat::MonthFirst,
                    "dates read month first, as the published data set writes them".to_string(),
                ))
            }
        }
    };
    let dates = Dates::new(t, Some(date), default, &mut out.notes)?;
    // invoice → (position of its transaction, customer, first line)
    let mut open: FxHashMap<String, (usize, String, u64)> = FxHashMap::default();
    let (mut invoices, mut cancels) = (0, 0);
    for r in &t.rows {
        let inv = r.get(Some(invoice));
        let customer = r.get(Some(cust)).trim_end_matches(".0");
        if inv.is_empty() {
            out.reject(r.line, "no invoice number");
            continue;
        }
        if customer.is_empty() {
            out.skip(r.line, format!("invoice {inv}: no CustomerID (a guest sale)"));
            continue;
        }
        if inv.starts_with('A') {
            out.skip(r.line, format!("invoice {inv}: a bad-debt adjustment, not a sale"));
            continue;
        }
        let qty = match r.get(Some(qty_col)).parse::<f64>() {
            Ok(q) if q.is_finite() => q,
            _ => {
                out.reject(r.line, format!("Quantity '{}' is not a number", r.get(Some(qty_col))));
                continue;
            }
        };
        let unit = or_reject!(out, r.line, price.or_zero(r));
        let line_amount = qty * unit;
        if let Some((pos, who, first)) = open.get(inv) {
            if who != customer {
                out.reject(r.line, format!("invoice {inv} belongs to customer {who} (line {first}), not {customer}"));
                continue;
            }
            out.amounts[*pos] += line_amount;
            out.folded.push(r.line);
            continue;
        }
        let day = or_reject!(out, r.line, dates.day(r));
        if inv.starts_with('C') {
            cancels += 1;
        } else {
            invoices += 1;
        }
        let pos = out.amounts.len();
        out.txn(r.line, true, customer, day, line_amount, inv, r.get(descr), r.get(country));
        if out.amounts.len() > pos {
            open.insert(inv.to_owned(), (pos, customer.to_owned(), r.line));
        }
    }
    // sums of cents in binary: round each invoice to the cent
    for a in &mut out.amounts {
        *a = (*a * 100.0).round() / 100.0;
    }
    Ok((
        format!(
            "{invoices} invoices and {cancels} cancellations (C-invoices, as refunds); amount = Quantity × UnitPrice"
        ),
        mapping(t, Some(cust), Some(date), price.col),
    ))
}
