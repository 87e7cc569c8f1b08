//! Reading a transaction log: customer, date and (optionally) amount columns from
//! a delimited file. Every data line is either read or rejected with its line
//! number and reason.

use std::borrow::Cow;

use serde::Serialize;
use winback_domain::log::TransactionLog;
use winback_domain::period::day_number;

use crate::amount::parse_amount;
use crate::date::{parse_date, DateFormat};
use crate::split::{detect_delimiter, Delimiter, Records};
use crate::{IngestError, Reject};

/// A column chosen by header name or by 1-based position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Column {
    Name(String),
    Position(usize),
}

impl std::str::FromStr for Column {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.parse::<usize>() {
            Ok(0) => Err("column positions start at 1".into()),
            Ok(n) => Ok(Column::Position(n)),
            Err(_) if s.trim().is_empty() => Err("empty column name".into()),
            Err(_) => Ok(Column::Name(s.trim().to_owned())),
        }
    }
}

/// How to read a log; `None` means detect.
#[derive(Debug, Clone, Default)]
pub struct LogOptions {
    pub delimiter: Option<Delimiter>,
    pub header: Option<bool>,
    pub customer: Option<Column>,
    pub date: Option<Column>,
    pub amount: Option<Column>,
    /// Ignore amounts even if a column looks like one.
    pub no_amount: bool,
    pub date_format: DateFormat,
    /// Optional columns kept by imports: transaction id, cost (or margin's
    /// complement), return flag, channel, store, product. With `detect_extras`,
    /// common header names are recognised too.
    pub txn_id: Option<Column>,
    pub cost: Option<Column>,
    pub returned: Option<Column>,
    pub channel: Option<Column>,
    pub store: Option<Column>,
    pub product: Option<Column>,
    pub detect_extras: bool,
}

/// Text values of one optional column, packed.
#[derive(Debug, Clone, Default)]
pub struct TextColumn {
    buf: String,
    ends: Vec<usize>,
}

impl TextColumn {
    fn push(&mut self, b: &[u8]) {
        self.buf.push_str(&String::from_utf8_lossy(b));
        self.ends.push(self.buf.len());
    }

    fn extend(&mut self, other: TextColumn) {
        let base = self.buf.len();
        self.buf.push_str(&other.buf);
        self.ends.extend(other.ends.into_iter().map(|e| e + base));
    }

    /// Row `i`'s value; None when empty or past the end.
    pub fn get(&self, i: usize) -> Option<&str> {
        let start = if i == 0 { 0 } else { *self.ends.get(i - 1)? };
        let s = self.buf.get(start..*self.ends.get(i)?)?;
        (!s.is_empty()).then_some(s)
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }
}

impl winback_domain::import::TextSource for TextColumn {
    fn get(&self, i: usize) -> Option<&str> {
        TextColumn::get(self, i)
    }
}

/// Per-row values beyond customer, date and amount, aligned with the log's rows.
#[derive(Debug, Clone, Default)]
pub struct LogExtras {
    /// Line number of each row read (saturating at u32::MAX: 4 bytes a row
    /// instead of 8 on files of tens of millions of lines).
    pub lines: Vec<u32>,
    pub txn_id: Option<TextColumn>,
    /// Cost of the sale (NaN where the cell is empty).
    pub cost: Option<Vec<f64>>,
    pub returned: Option<Vec<bool>>,
    pub channel: Option<TextColumn>,
    pub store: Option<TextColumn>,
    pub product: Option<TextColumn>,
}

/// The columns used, for showing to the user.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Mapping {
    pub delimiter: String,
    pub header: bool,
    /// 0-based position and header name (or "column N").
    pub customer: (usize, String),
    pub date: (usize, String),
    pub amount: Option<(usize, String)>,
    /// Optional columns used: (what, position, header name).
    pub extras: Vec<(&'static str, usize, String)>,
}

impl std::fmt::Display for Mapping {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "delimiter {}, {}; customer = column {} ({}), date = column {} ({})",
            self.delimiter,
            if self.header { "header row" } else { "no header row" },
            self.customer.0 + 1,
            self.customer.1,
            self.date.0 + 1,
            self.date.1
        )?;
        match &self.amount {
            Some((i, n)) => write!(f, ", amount = column {} ({n})", i + 1)?,
            None => write!(f, ", no amount column")?,
        }
        for (what, i, n) in &self.extras {
            write!(f, ", {what} = column {} ({n})", i + 1)?;
        }
        Ok(())
    }
}

/// What happened to the file's lines.
#[derive(Debug, Clone, Serialize)]
pub struct LogReport {
    pub mapping: Mapping,
    /// Data lines (header excluded; blank lines included).
    pub rows: usize,
    pub read: usize,
    pub rejected: Vec<Reject>,
}

const CUSTOMER_NAMES: &[&str] = &[
    "customer_id",
    "customerid",
    "customer",
    "cust_id",
    "client_id",
    "clientid",
    "user_id",
    "userid",
    "buyer_id",
    "member_id",
    "account_id",
    "customer_email",
    "email",
    "customer_no",
    "customer_number",
    "id",
];
const DATE_NAMES: &[&str] = &[
    "order_date",
    "date",
    "created_at",
    "purchase_date",
    "transaction_date",
    "invoice_date",
    "invoicedate",
    "order_time",
    "datetime",
    "timestamp",
    "time",
    "created",
    "paid_at",
];
const TXN_ID_NAMES: &[&str] = &[
    "order_id",
    "transaction_id",
    "txn_id",
    "invoice_id",
    "invoice",
    "invoiceno",
    "invoice_no",
    "order_number",
    "receipt_id",
];
const COST_NAMES: &[&str] = &["cost", "cogs", "unit_cost", "total_cost", "cost_of_goods"];
const RETURN_NAMES: &[&str] = &["is_return", "return", "returned", "refund", "is_refund"];
const CHANNEL_NAMES: &[&str] = &["channel", "sales_channel", "source"];
const STORE_NAMES: &[&str] = &["store", "store_id", "shop", "location", "branch"];
const PRODUCT_NAMES: &[&str] = &["product", "product_id", "sku", "item", "stockcode", "product_name"];

const AMOUNT_NAMES: &[&str] = &[
    "amount",
    "total",
    "order_total",
    "total_price",
    "revenue",
    "value",
    "dollar_value",
    "sales",
    "grand_total",
    "net_amount",
    "subtotal",
    "spend",
    "monetary_value",
    "price",
    "total_amount",
];

fn normalise(name: &[u8]) -> String {
    let s = String::from_utf8_lossy(name).to_lowercase();
    let s: String = s.chars().map(|c| if c.is_alphanumeric() { c } else { '_' }).collect();
    s.trim_matches('_').to_owned()
}

/// Read a transaction log from the bytes of a file.
pub fn read_log(data: &[u8], opts: &LogOptions) -> Result<(TransactionLog, LogReport), IngestError> {
    read_log_full(data, opts).map(|(log, _, report)| (log, report))
}

/// Read a transaction log with its optional columns and line numbers.
pub fn read_log_full(data: &[u8], opts: &LogOptions) -> Result<(TransactionLog, LogExtras, LogReport), IngestError> {
    let delimiter = opts.delimiter.unwrap_or_else(|| detect_delimiter(data));
    let mut records = Records::new(data, delimiter, 1);
    let mut first: Vec<Cow<[u8]>> = Vec::new();
    // the first non-blank line decides header and columns
    let mut leading_blank = Vec::new();
    let first_line = loop {
        match records.next_into(&mut first) {
            None => return Err(IngestError::Empty),
            Some(line) if first.is_empty() => leading_blank.push(line),
            Some(line) => break line,
        }
    };
    let looks_like_date = |f: &[u8]| parse_date(f, &opts.date_format).is_ok();
    let header = opts.header.unwrap_or_else(|| !first.iter().any(|f| looks_like_date(f)));
    let names: Vec<String> = if header {
        first.iter().map(|f| String::from_utf8_lossy(f).into_owned()).collect()
    } else {
        (1..=first.len()).map(|i| format!("column {i}")).collect()
    };
    let normal: Vec<String> = if header { first.iter().map(|f| normalise(f)).collect() } else { Vec::new() };
    let resolve = |spec: &Column, what: &str| -> Result<usize, IngestError> {
        match spec {
            Column::Position(p) if *p <= names.len() => Ok(p - 1),
            Column::Position(p) => {
                Err(IngestError::Column(format!("{what} column {p}: the file has only {} columns", names.len())))
            }
            Column::Name(n) => {
                let want = normalise(n.as_bytes());
                normal.iter().position(|h| *h == want).ok_or_else(|| {
                    IngestError::Column(if header {
                        format!("{what} column '{n}' not found; the header has: {}", names.join(", "))
                    } else {
                        format!("{what} column '{n}': the file has no header row, give a position (1 = first column)")
                    })
                })
            }
        }
    };
    let by_name = |cands: &[&str], taken: &[usize]| {
        cands.iter().find_map(|c| normal.iter().position(|h| h == c).filter(|i| !taken.contains(i)))
    };
    let date = match &opts.date {
        Some(spec) => resolve(spec, "date")?,
        None if header => by_name(DATE_NAMES, &[]).ok_or_else(|| {
            IngestError::Column(format!(
                "no date column recognised; pass --date-col (the header has: {})",
                names.join(", ")
            ))
        })?,
        None => first.iter().position(|f| looks_like_date(f)).ok_or_else(|| {
            IngestError::Column("no column of the first line is a date; pass --date-col and --date-format".into())
        })?,
    };
    let customer = match &opts.customer {
        Some(spec) => resolve(spec, "customer")?,
        None if header => by_name(CUSTOMER_NAMES, &[date]).ok_or_else(|| {
            IngestError::Column(format!(
                "no customer column recognised; pass --customer-col (the header has: {})",
                names.join(", ")
            ))
        })?,
        None => (0..first.len()).find(|&i| i != date).ok_or_else(|| {
            IngestError::Column("the file has one column; it needs a customer and a date column".into())
        })?,
    };
    let amount = if opts.no_amount {
        None
    } else {
        match &opts.amount {
            Some(spec) => Some(resolve(spec, "amount")?),
            None if header => by_name(AMOUNT_NAMES, &[date, customer]),
            // without a header: the last other column holding a decimal number
            None => (0..first.len())
                .rev()
                .find(|&i| i != date && i != customer && first[i].contains(&b'.') && parse_amount(&first[i]).is_ok()),
        }
    };
    if customer == date || Some(customer) == amount || Some(date) == amount {
        return Err(IngestError::Column("the customer, date and amount columns must be different columns".into()));
    }
    let mut taken = vec![customer, date];
    taken.extend(amount);
    let mut extra = |spec: &Option<Column>, names: &[&str], what: &'static str| -> Result<Option<usize>, IngestError> {
        let found = match spec {
            Some(s) => Some(resolve(s, what)?),
            None if header && opts.detect_extras => by_name(names, &taken),
            None => None,
        };
        if let Some(i) = found {
            if taken.contains(&i) && spec.is_some() {
                return Err(IngestError::Column(format!("the {what} column is already used for another field")));
            }
            taken.push(i);
        }
        Ok(found)
    };
    let x_id = extra(&opts.txn_id, TXN_ID_NAMES, "transaction id")?;
    let x_cost = extra(&opts.cost, COST_NAMES, "cost")?;
    let x_ret = extra(&opts.returned, RETURN_NAMES, "return flag")?;
    let x_channel = extra(&opts.channel, CHANNEL_NAMES, "channel")?;
    let x_store = extra(&opts.store, STORE_NAMES, "store")?;
    let x_product = extra(&opts.product, PRODUCT_NAMES, "product")?;
    let extras_used: Vec<(&'static str, usize, String)> = [
        ("transaction id", x_id),
        ("cost", x_cost),
        ("return flag", x_ret),
        ("channel", x_channel),
        ("store", x_store),
        ("product", x_product),
    ]
    .into_iter()
    .filter_map(|(w, i)| i.map(|i| (w, i, names[i].clone())))
    .collect();
    let mapping = Mapping {
        delimiter: delimiter.describe(),
        header,
        customer: (customer, names[customer].clone()),
        date: (date, names[date].clone()),
        amount: amount.map(|a| (a, names[a].clone())),
        extras: extras_used,
    };

    let cols = Cols {
        customer,
        date,
        amount,
        txn_id: x_id,
        cost: x_cost,
        returned: x_ret,
        channel: x_channel,
        store: x_store,
        product: x_product,
        need: taken.iter().max().copied().unwrap_or(0) + 1,
    };
    let body_start = if header { records_pos_after(data, delimiter, first_line) } else { 0 };
    let body = &data[body_start..];
    let body_line = if header { first_line + 1 } else { 1 };
    let parts = split_for_threads(body, delimiter, body_line);
    let results: Vec<Part> = std::thread::scope(|s| {
        let handles: Vec<_> = parts
            .iter()
            .map(|&(chunk, line)| {
                let cols = &cols;
                s.spawn(move || parse_part(chunk, delimiter, line, cols, &opts.date_format))
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("parser thread panicked")).collect()
    });

    // Merge: customers keep their order of first appearance across parts. The
    // first part's local indices are already global.
    let mut log = TransactionLog { amount: amount.map(|_| Vec::new()), ..Default::default() };
    let mut rejected: Vec<Reject> = if header {
        leading_blank.iter().map(|&line| Reject { line, reason: "blank line".into() }).collect()
    } else {
        Vec::new()
    };
    let mut rows = rejected.len();
    let mut results = results.into_iter();
    let mut index: hashbrown::HashTable<u32> = hashbrown::HashTable::new();
    let mut extras = LogExtras::default();
    if let Some(first) = results.next() {
        rows += first.rows;
        rejected.extend(first.rejected);
        // the first part's map is the global one: its indices are already global
        index = first.index;
        log.ids = first.ids.iter().map(|id| String::from_utf8_lossy(id).into_owned()).collect();
        log.customer = first.customer;
        log.day = first.day;
        log.amount = first.amount;
        extras = first.extras;
    }
    for part in results {
        rows += part.rows;
        rejected.extend(part.rejected);
        let remap: Vec<u32> = part
            .ids
            .into_iter()
            .map(|id| {
                let h = hash_id(&id);
                match index.find(h, |&c| log.ids[c as usize].as_bytes() == &*id) {
                    Some(&c) => c,
                    None => {
                        let c = log.ids.len() as u32;
                        log.ids.push(std::str::from_utf8(&id).unwrap_or_default());
                        let ids = &log.ids;
                        index.insert_unique(h, c, |&c| hash_id(ids[c as usize].as_bytes()));
                        c
                    }
                }
            })
            .collect();
        log.customer.extend(part.customer.iter().map(|&c| remap[c as usize]));
        log.day.extend(part.day);
        if let (Some(a), Some(p)) = (log.amount.as_mut(), part.amount) {
            a.extend(p);
        }
        let (x, p) = (&mut extras, part.extras);
        x.lines.extend(p.lines);
        for (mine, theirs) in [
            (&mut x.txn_id, p.txn_id),
            (&mut x.channel, p.channel),
            (&mut x.store, p.store),
            (&mut x.product, p.product),
        ] {
            if let (Some(m), Some(t)) = (mine.as_mut(), theirs) {
                m.extend(t);
            }
        }
        if let (Some(m), Some(t)) = (x.cost.as_mut(), p.cost) {
            m.extend(t);
        }
        if let (Some(m), Some(t)) = (x.returned.as_mut(), p.returned) {
            m.extend(t);
        }
    }
    rejected.sort_by_key(|r| r.line);
    let read = log.len();
    Ok((log, extras, LogReport { mapping, rows, read, rejected }))
}

fn hash_id(id: &[u8]) -> u64 {
    use std::hash::{BuildHasher, BuildHasherDefault};
    BuildHasherDefault::<rustc_hash::FxHasher>::default().hash_one(id)
}

struct Cols {
    customer: usize,
    date: usize,
    amount: Option<usize>,
    txn_id: Option<usize>,
    cost: Option<usize>,
    returned: Option<usize>,
    channel: Option<usize>,
    store: Option<usize>,
    product: Option<usize>,
    need: usize,
}

impl Cols {
    fn extras(&self) -> LogExtras {
        let text = |c: Option<usize>| c.map(|_| TextColumn::default());
        LogExtras {
            lines: Vec::new(),
            txn_id: text(self.txn_id),
            cost: self.cost.map(|_| Vec::new()),
            returned: self.returned.map(|_| Vec::new()),
            channel: text(self.channel),
            store: text(self.store),
            product: text(self.product),
        }
    }
}

fn parse_flag(b: &[u8]) -> Option<bool> {
    match b.to_ascii_lowercase().as_slice() {
        b"" | b"0" | b"false" | b"no" | b"n" | b"f" | b"sale" | b"purchase" => Some(false),
        b"1" | b"true" | b"yes" | b"y" | b"t" | b"return" | b"returned" | b"refund" => Some(true),
        _ => None,
    }
}

struct Part<'a> {
    ids: Vec<Cow<'a, [u8]>>,
    customer: Vec<u32>,
    day: Vec<i32>,
    amount: Option<Vec<f64>>,
    rows: usize,
    rejected: Vec<Reject>,
    extras: LogExtras,
    index: hashbrown::HashTable<u32>,
}

/// Byte offset just after the record that starts on `line` (the header).
fn records_pos_after(data: &[u8], delimiter: Delimiter, header_line: u64) -> usize {
    let mut r = Records::new(data, delimiter, 1);
    let mut f = Vec::new();
    while let Some(line) = r.next_into(&mut f) {
        if line == header_line {
            return data.len() - r.remaining();
        }
    }
    data.len()
}

/// Two halves split at a line break for large files without quotes (a quote
/// could hide a newline inside a field, so quoted files are read in one part).
fn split_for_threads(body: &[u8], delimiter: Delimiter, first_line: u64) -> Vec<(&[u8], u64)> {
    let quoted = matches!(delimiter, Delimiter::Byte(_)) && memchr::memchr(b'"', body).is_some();
    if body.len() < 4 << 20 || quoted {
        return vec![(body, first_line)];
    }
    let mid = body.len() / 2;
    let Some(nl) = memchr::memchr(b'\n', &body[mid..]).map(|i| mid + i + 1) else {
        return vec![(body, first_line)];
    };
    let lines_before = memchr::memchr_iter(b'\n', &body[..nl]).count() as u64;
    vec![(&body[..nl], first_line), (&body[nl..], first_line + lines_before)]
}

fn parse_part<'a>(chunk: &'a [u8], delimiter: Delimiter, line0: u64, cols: &Cols, fmt: &DateFormat) -> Part<'a> {
    let mut part = Part {
        ids: Vec::new(),
        customer: Vec::with_capacity(chunk.len() / 24),
        day: Vec::with_capacity(chunk.len() / 24),
        amount: cols.amount.map(|_| Vec::with_capacity(chunk.len() / 24)),
        rows: 0,
        rejected: Vec::new(),
        extras: cols.extras(),
        index: hashbrown::HashTable::new(),
    };
    // about one customer per few transactions is typical; growing is the fallback
    let mut index: hashbrown::HashTable<u32> = hashbrown::HashTable::with_capacity(chunk.len() / 64);
    let mut records = Records::new(chunk, delimiter, line0);
    let mut fields: Vec<Cow<'a, [u8]>> = Vec::new();
    while let Some(line) = records.next_into(&mut fields) {
        part.rows += 1;
        let reject = |reason: String| Reject { line, reason };
        if fields.is_empty() {
            part.rejected.push(reject("blank line".into()));
            continue;
        }
        if fields.len() < cols.need {
            part.rejected.push(reject(format!("expected at least {} fields, found {}", cols.need, fields.len())));
            continue;
        }
        let id = &fields[cols.customer];
        if id.is_empty() {
            part.rejected.push(reject("missing customer id".into()));
            continue;
        }
        let day = match parse_date(&fields[cols.date], fmt) {
            Ok(d) => day_number(d),
            Err(e) => {
                part.rejected.push(reject(format!("date: {e}")));
                continue;
            }
        };
        let amount = match cols.amount {
            Some(a) => match parse_amount(&fields[a]) {
                Ok(v) => Some(v),
                Err(e) => {
                    part.rejected.push(reject(format!("amount: {e}")));
                    continue;
                }
            },
            None => None,
        };
        let cost = match cols.cost.map(|i| &fields[i]) {
            Some(f) if f.is_empty() => Some(f64::NAN),
            Some(f) => match parse_amount(f) {
                Ok(v) => Some(v),
                Err(e) => {
                    part.rejected.push(reject(format!("cost: {e}")));
                    continue;
                }
            },
            None => None,
        };
        let returned = match cols.returned.map(|i| &fields[i]) {
            Some(f) => match parse_flag(f) {
                Some(v) => Some(v),
                None => {
                    part.rejected.push(reject(format!(
                        "return flag '{}' is not yes/no, true/false or 1/0",
                        String::from_utf8_lossy(f)
                    )));
                    continue;
                }
            },
            None => None,
        };
        let h = hash_id(id);
        let c = match index.find(h, |&c| part.ids[c as usize].as_ref() == id.as_ref()) {
            Some(&c) => c,
            None => {
                if std::str::from_utf8(id).is_err() {
                    part.rejected.push(reject("customer id is not valid UTF-8".into()));
                    continue;
                }
                let c = part.ids.len() as u32;
                part.ids.push(std::mem::take(&mut fields[cols.customer]));
                let ids = &part.ids;
                index.insert_unique(h, c, |&c| hash_id(&ids[c as usize]));
                c
            }
        };
        part.customer.push(c);
        part.day.push(day);
        if let (Some(v), Some(a)) = (part.amount.as_mut(), amount) {
            v.push(a);
        }
        let x = &mut part.extras;
        x.lines.push(u32::try_from(line).unwrap_or(u32::MAX));
        for (col, idx) in [
            (&mut x.txn_id, cols.txn_id),
            (&mut x.channel, cols.channel),
            (&mut x.store, cols.store),
            (&mut x.product, cols.product),
        ] {
            if let (Some(c), Some(i)) = (col.as_mut(), idx) {
                c.push(&fields[i]);
            }
        }
        if let (Some(v), Some(c)) = (x.cost.as_mut(), cost) {
            v.push(c);
        }
        if let (Some(v), Some(r)) = (x.returned.as_mut(), returned) {
            v.push(r);
        }
    }
    part.index = index;
    part
}
