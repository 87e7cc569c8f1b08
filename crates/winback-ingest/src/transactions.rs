//! Reading a transaction log: customer, date and (optionally) amount columns from
//! a delimited file. Every data line is either read or rejected with its line
//! number and reason.

use std::borrow::Cow;
use std::mem::MaybeUninit;

use serde::Serialize;
use winback_domain::log::{CustomerIds, TransactionLog};

use crate::amount::{infer_decimal, parse_amount, parse_amount_as, Decimal};
use crate::date::{infer_dates, parse_date, parse_day, purchase_day, DateFormat, DateInference};
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
    /// `Auto`: decided from the column's values (ISO, day first or month first).
    pub date_format: DateFormat,
    /// The decimal mark of amount and cost columns; `None`: decided from each
    /// column's values.
    pub decimal: Option<Decimal>,
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
    /// Read the file with the generic column detection even when its header is
    /// a platform export winback recognises.
    pub generic: bool,
    /// Keep each row's line number in `LogExtras::lines` (imports report
    /// duplicates by line; analyses need no line numbers, and skip 4 bytes a
    /// row written and merged).
    pub keep_lines: bool,
    /// The input's length in bytes, when known (a file's): the log's columns
    /// are sized once for the rows it holds, estimated from the first part
    /// read, rather than grown by doubling (each step a copy and fresh pages).
    pub size_hint: Option<u64>,
}

impl LogOptions {
    /// Whether the user chose columns or conventions, which only the generic
    /// reader takes.
    fn explicit(&self) -> bool {
        self.generic
            || self.customer.is_some()
            || self.date.is_some()
            || self.amount.is_some()
            || self.delimiter.is_some()
            || self.header.is_some()
            || self.txn_id.is_some()
            || self.decimal.is_some()
    }
}

/// Text values of one optional column, packed.
#[derive(Debug, Clone, Default)]
pub struct TextColumn {
    buf: String,
    ends: Vec<usize>,
}

impl TextColumn {
    pub(crate) fn push(&mut self, b: &[u8]) {
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

    fn truncate(&mut self, rows: usize) {
        if rows >= self.ends.len() {
            return;
        }
        let end = rows.checked_sub(1).map_or(0, |r| self.ends[r]);
        self.buf.truncate(end);
        self.buf.shrink_to_fit();
        self.ends.truncate(rows);
        self.ends.shrink_to_fit();
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
    /// Data records (header excluded; blank lines included).
    pub rows: usize,
    /// Transactions read (a recognised export may give two for one line: a
    /// sale and its refund).
    pub read: usize,
    pub rejected: Vec<Reject>,
    /// The platform export recognised from the header, if any.
    pub recognised: Option<crate::exports::Recognised>,
    /// Lines read into transactions of their own; `None`: one each (`read`).
    pub imported_lines: Option<usize>,
    /// Lines that are part of an order on another line (line items).
    pub folded: usize,
    /// Lines left out by a stated rule (failed payment, test order…).
    pub skipped: Vec<Reject>,
    /// What the reader did that the user should know (emails merged by case…).
    pub notes: Vec<String>,
}

impl LogReport {
    /// Lines read into transactions.
    pub fn lines_read(&self) -> usize {
        self.imported_lines.unwrap_or(self.read)
    }
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
    "buyer_user_id",
    "buyer_email",
    "email",
    "billing_email",
    "customer_no",
    "customer_number",
    "id",
    // German, French, Spanish, Italian, Portuguese, Dutch (after the English names)
    "e_mail",
    "kunde",
    "kunden_id",
    "kundenid",
    "kundennummer",
    "kundennr",
    "kunden_nr",
    "client",
    "id_client",
    "numero_client",
    "n_client",
    "cliente",
    "id_cliente",
    "cliente_id",
    "codigo_cliente",
    "klant",
    "klant_id",
    "klantid",
    "klantnummer",
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
    "created_date",
    "sale_date",
    "order_purchase_timestamp",
    "purchase_timestamp",
    "date_created",
    "order_created_at",
    "created_on",
    "time",
    "created",
    "paid_at",
    // German, French, Spanish, Italian, Portuguese, Dutch (after the English names)
    "datum",
    "bestelldatum",
    "rechnungsdatum",
    "kaufdatum",
    "auftragsdatum",
    "buchungsdatum",
    "date_de_commande",
    "date_commande",
    "date_d_achat",
    "date_achat",
    "fecha",
    "fecha_pedido",
    "fecha_de_pedido",
    "fecha_compra",
    "fecha_de_compra",
    "data_pedido",
    "data_do_pedido",
    "data_ordine",
    "data_acquisto",
    "besteldatum",
    "orderdatum",
    "factuurdatum",
    "data",
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
    // German, French, Spanish, Italian, Portuguese, Dutch (after the English names)
    "bestellnummer",
    "bestell_nr",
    "rechnungsnummer",
    "auftragsnummer",
    "numero_commande",
    "n_commande",
    "numero_pedido",
    "id_pedido",
    "numero_ordine",
    "bestelnummer",
    "ordernummer",
    "factuurnummer",
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
    "gross",
    "order_value",
    "amount_paid",
    // German, French, Spanish, Italian, Portuguese, Dutch (after the English names)
    "betrag",
    "summe",
    "gesamtsumme",
    "gesamtbetrag",
    "gesamtpreis",
    "rechnungsbetrag",
    "umsatz",
    "bruttobetrag",
    "brutto",
    "montant",
    "montant_total",
    "montant_ttc",
    "total_ttc",
    "importe",
    "importe_total",
    "total_pedido",
    "valor",
    "valor_total",
    "importo",
    "importo_totale",
    "bedrag",
    "totaalbedrag",
    "totaal",
    "totale",
];

/// A header name for matching: lower case, a trailing parenthesised note dropped
/// (`Total (EUR)`, `Created date (UTC)`), runs of other characters as one `_`.
pub fn normalise(name: &[u8]) -> String {
    let s = String::from_utf8_lossy(name).trim().trim_start_matches('\u{feff}').to_lowercase();
    let s = match (s.rfind('('), s.ends_with(')')) {
        (Some(open), true) if open > 0 => s[..open].to_owned(),
        _ => s,
    };
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    out.trim_matches('_').to_owned()
}

/// Read a transaction log from the bytes of a file.
pub fn read_log(data: &[u8], opts: &LogOptions) -> Result<(TransactionLog, LogReport), IngestError> {
    read_log_full(data, opts).map(|(log, _, report)| (log, report))
}

/// Read a transaction log with its optional columns and line numbers.
pub fn read_log_full(data: &[u8], opts: &LogOptions) -> Result<(TransactionLog, LogExtras, LogReport), IngestError> {
    read_log_slice(data, opts, Blocking::DEFAULT, &mut |_| {})
}

/// Read a transaction log from a stream, a block at a time: only the block being
/// parsed is held, not the file (on a 400 MB export, 370 MB less at the peak).
pub fn read_log_from(
    reader: impl std::io::Read,
    opts: &LogOptions,
) -> Result<(TransactionLog, LogExtras, LogReport), IngestError> {
    read_blocks(reader, opts, Blocking::DEFAULT)
}

/// Block sizes; small ones in tests put block edges everywhere.
#[derive(Debug, Clone, Copy)]
pub struct Blocking {
    /// Bytes read at a time.
    pub block: usize,
    /// Blocks at least this long (and without quotes) are parsed in parts on
    /// two threads.
    pub split_min: usize,
    /// Bytes per part of a split block (two parts at least, 16 at most): with
    /// more parts than threads, one thread merges a part into the log while
    /// the other parses the next.
    pub part: usize,
}

impl Blocking {
    /// 16 MB blocks: 4–8% faster than 32 MB (and 64 MB slower still) on the 1M-
    /// and 10M-row benchmark logs, A/B on 2026-12-02: halves and their id tables
    /// that fit the cache better outweigh the extra merges. Parts of 1 MB: at
    /// a block's end one thread waits while the other finishes its last part,
    /// so smaller parts wait less (read of the 1M log 0.262 s median with
    /// 2 MB parts, 0.246–0.256 s with 1 MB or 512 KB).
    pub const DEFAULT: Blocking = Blocking { block: 16 << 20, split_min: 4 << 20, part: 1 << 20 };
}

/// What the first lines of a file say about it.
struct Layout {
    delimiter: Delimiter,
    mapping: Mapping,
    cols: Cols,
    leading_blank: Vec<u64>,
    body_start: usize,
    body_line: u64,
    /// The columns' names as shown (the header's, or `column N`).
    names: Vec<String>,
}

/// Delimiter, header and columns, from the first block.
fn layout(data: &[u8], opts: &LogOptions) -> Result<Layout, IngestError> {
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
    let looks_like_date = |f: &[u8]| parse_date(f, &opts.date_format).is_ok() || crate::date::looks_like_date(f);
    let header = opts.header.unwrap_or_else(|| !first.iter().any(|f| looks_like_date(f)));
    if header && first.len() > 1 && first.last().is_some_and(|f| f.is_empty()) {
        // a header ending in a delimiter: no column, the records may end so too
        first.pop();
    }
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
                        format!("{what} column '{n}' not found; the header has: {}", crate::header_list(&names))
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
                crate::header_list(&names)
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
                crate::header_list(&names)
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
        width: first.len(),
        header: if header { first.iter().map(|f| f.to_vec()).collect() } else { Vec::new() },
        date_format: opts.date_format.clone(),
        decimal: opts.decimal.unwrap_or(Decimal::Point),
        cost_decimal: opts.decimal.unwrap_or(Decimal::Point),
        keep_lines: opts.keep_lines,
    };
    let (body_start, body_line) = if header { records_pos_after(data, delimiter, first_line) } else { (0, 1) };
    if !header {
        leading_blank.clear(); // read again as part of the body
    }
    Ok(Layout { delimiter, mapping, cols, leading_blank, body_start, body_line, names })
}

/// Decide the date layout and decimal marks the user left open from the values
/// of the layout's window (a whole shop export; the first 16 MB of larger
/// files, whose later values are read under the same conventions or rejected).
fn decide_conventions(
    body: &[u8],
    line: u64,
    delimiter: Delimiter,
    eof: bool,
    opts: &LogOptions,
    names: &[String],
    cols: &mut Cols,
) -> Result<(), IngestError> {
    let want_dates = opts.date_format == DateFormat::Auto;
    let want_dec = opts.decimal.is_none();
    if !want_dates && !want_dec {
        return Ok(());
    }
    // both halves of the block at once (as the parse does), in file order
    let parts = split_for_threads(body, delimiter, line, eof, Blocking::DEFAULT.split_min);
    let found: Vec<Telling> = std::thread::scope(|sc| {
        let handles: Vec<_> = parts
            .iter()
            .map(|&(part, line, complete)| {
                let cols = &*cols;
                sc.spawn(move || telling_values(part, line, complete, delimiter, cols, want_dates, want_dec))
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("convention scan panicked")).collect()
    });
    let (mut dates, mut amounts, mut costs) = (Vec::new(), Vec::new(), Vec::new());
    let (mut plain_amount, mut plain_cost) = (None, None);
    for t in found {
        dates.extend(t.dates);
        amounts.extend(t.amounts);
        costs.extend(t.costs);
        plain_amount = plain_amount.or(t.plain_amount);
        plain_cost = plain_cost.or(t.plain_cost);
    }
    amounts.extend(plain_amount);
    costs.extend(plain_cost);
    if want_dates {
        match infer_dates(dates.iter().map(|(l, v)| (*l, v.as_slice()))) {
            DateInference::Decided(f) => cols.date_format = f,
            other => return Err(IngestError::Column(other.problem(&names[cols.date]).unwrap_or_default())),
        }
    }
    if want_dec {
        if let Some(a) = cols.amount {
            cols.decimal = infer_decimal(amounts.iter().map(|(l, v)| (*l, v.as_slice())))
                .map_err(|e| IngestError::Column(format!("amount column '{}': {e}", names[a])))?
                .unwrap_or(Decimal::Point);
        }
        if let Some(c) = cols.cost {
            cols.cost_decimal = infer_decimal(costs.iter().map(|(l, v)| (*l, v.as_slice())))
                .map_err(|e| IngestError::Column(format!("cost column '{}': {e}", names[c])))?
                .unwrap_or(Decimal::Point);
        }
    }
    Ok(())
}

type Cells = Vec<(u64, Vec<u8>)>;

/// The values of one part of the first block that say something about the
/// column conventions.
#[derive(Default)]
struct Telling {
    dates: Cells,
    amounts: Cells,
    costs: Cells,
    plain_amount: Option<(u64, Vec<u8>)>,
    plain_cost: Option<(u64, Vec<u8>)>,
}

/// `YYYY-MM-DD`, `YYYY/MM/DD` or `YYYYMMDD` by shape: such a date (valid or not)
/// says nothing about the layout of the others.
fn iso_shaped(f: &[u8]) -> bool {
    let d = |r: std::ops::Range<usize>| f.get(r).is_some_and(|b| b.iter().all(u8::is_ascii_digit));
    (d(0..4) && matches!(f.get(4), Some(b'-' | b'/')) && f.get(7) == f.get(4) && d(5..7) && d(8..10))
        || (d(0..8) && f.get(8).is_none_or(|b| !b.is_ascii_digit()))
}

/// A date that may say something about the layout: ISO dates, and others
/// the automatic layout reads, decide nothing.
fn telling_date(f: &[u8]) -> bool {
    !iso_shaped(f) && parse_date(f, &DateFormat::Auto).is_err()
}

/// An amount that may say something about the decimal mark beyond `29.33`.
fn telling_amount(f: &[u8]) -> bool {
    // (one pass: this runs on every record of the first block)
    let mut dots = 0;
    for &b in f {
        match b {
            b'0'..=b'9' | b'-' => {}
            b'.' => dots += 1,
            _ => return true,
        }
    }
    dots > 1 || (f.len() >= 5 && f[f.len() - 4] == b'.')
}

/// Which conventions a parse watches for telling values (see [`read_source`]).
#[derive(Debug, Clone, Copy, Default)]
struct Spec {
    dates: bool,
    decimal: bool,
}

impl Spec {
    fn any(self) -> bool {
        self.dates || self.decimal
    }

    /// Whether a record (of the header's width) holds a value that says
    /// something: what [`telling_values`] keeps.
    fn telling(self, fields: &[Cow<[u8]>], cols: &Cols) -> bool {
        (self.dates && telling_date(&fields[cols.date]))
            || (self.decimal && [cols.amount, cols.cost].iter().flatten().any(|&c| telling_amount(&fields[c])))
    }
}

fn telling_values(
    part: &[u8],
    line: u64,
    complete: bool,
    delimiter: Delimiter,
    cols: &Cols,
    want_dates: bool,
    want_dec: bool,
) -> Telling {
    let mut t = Telling::default();
    let mut records = Records::new(part, delimiter, line).expect_fields(cols.width).partial(!complete);
    let mut fields = Vec::new();
    while let Some(l) = records.next_into(&mut fields) {
        if !complete && records.remaining() == 0 {
            break; // may be cut short
        }
        if records.unclosed() || fields.len() != cols.width {
            continue;
        }
        let date = &fields[cols.date];
        if want_dates && telling_date(date) {
            t.dates.push((l, date.to_vec()));
        }
        if want_dec {
            for (col, kept, plain) in
                [(cols.amount, &mut t.amounts, &mut t.plain_amount), (cols.cost, &mut t.costs, &mut t.plain_cost)]
            {
                let Some(f) = col.map(|c| &fields[c]) else { continue };
                if telling_amount(f) {
                    kept.push((l, f.to_vec()));
                } else if plain.is_none() && f.contains(&b'.') {
                    // one plain decimal point (`29.33`) is evidence enough
                    *plain = Some((l, f.to_vec()));
                }
            }
        }
    }
    t
}

/// The platform export a file's first record names, if any.
pub fn recognise_header(data: &[u8]) -> Option<crate::exports::Platform> {
    let d = detect_delimiter(data);
    let mut r = Records::new(data, d, 1);
    let mut f = Vec::new();
    while r.next_into(&mut f).is_some() {
        if !f.is_empty() {
            let norm: Vec<String> = f.iter().map(|x| normalise(x)).collect();
            return crate::exports::recognise(&norm);
        }
    }
    None
}

/// Read the log block by block. Each block ends where its last record starts
/// (that record may be cut off; it is read again at the head of the next block),
/// except the last block of the file.
pub fn read_blocks(
    reader: impl std::io::Read,
    opts: &LogOptions,
    blocking: Blocking,
) -> Result<(TransactionLog, LogExtras, LogReport), IngestError> {
    read_source(&mut Stream { reader, buf: Vec::new(), start: 0, next: Vec::new(), ended: false }, opts, blocking)
}

/// Read a transaction log held whole in memory (a mapped file, a built-in
/// sample) where it lies, without copying it through a read buffer.
/// `done(n)` is called as the first `n` bytes are parsed and no longer
/// borrowed, so that the owner of a mapping can let their pages go.
pub fn read_log_slice(
    data: &[u8],
    opts: &LogOptions,
    blocking: Blocking,
    done: &mut dyn FnMut(usize),
) -> Result<(TransactionLog, LogExtras, LogReport), IngestError> {
    read_source(&mut Whole { data, start: 0, done }, opts, blocking)
}

/// Where [`read_source`] takes its bytes from: the bytes not yet consumed,
/// topped up on demand.
trait Source {
    /// The bytes held from the first one not consumed.
    fn bytes(&self) -> &[u8];
    /// Hold at least `want` bytes (from the first not consumed), or all that
    /// are left; true once the input has ended.
    fn fill(&mut self, want: usize) -> Result<bool, IngestError>;
    /// The first `n` held bytes are parsed.
    fn consume(&mut self, n: usize);
    /// Everything, for an export read by its platform's rules.
    fn whole(&mut self) -> Result<&[u8], IngestError>;
    /// The held bytes, and for a stream a way to read what follows them into
    /// a buffer of its own while they are parsed (the next `fill` takes it).
    fn ahead(&mut self) -> (&[u8], Option<Ahead<'_>>) {
        (self.bytes(), None)
    }
    /// Everything is parsed: let go of the buffers.
    fn release(&mut self) {}
}

/// Room kept at the front of the read-ahead buffer for the bytes a block
/// leaves unparsed (its last, cut record), so that they go in front of the
/// bytes read ahead without moving those.
const AHEAD_ROOM: usize = 64 << 10;

/// What [`Source::ahead`] hands out: reading the next bytes of a stream.
struct Ahead<'a> {
    reader: &'a mut dyn std::io::Read,
    next: &'a mut Vec<u8>,
    ended: &'a mut bool,
}

impl Ahead<'_> {
    /// Read up to `n` more bytes after those held (nothing if some are read
    /// ahead already, or the input has ended).
    fn read(&mut self, n: usize) -> Result<(), IngestError> {
        if self.next.len() > AHEAD_ROOM || *self.ended || n == 0 {
            return Ok(());
        }
        // (the room's bytes are overwritten before use: only its length matters)
        if self.next.len() < AHEAD_ROOM {
            self.next.resize(AHEAD_ROOM, 0);
        }
        *self.ended = fill(self.reader, self.next, AHEAD_ROOM + n)?;
        Ok(())
    }
}

/// A stream read into one buffer a block at a time.
struct Stream<R> {
    reader: R,
    buf: Vec<u8>,
    /// Consumed bytes at the front of `buf`, dropped at the next fill.
    start: usize,
    /// Bytes read ahead, after `AHEAD_ROOM` bytes of room (none: no longer
    /// than the room).
    next: Vec<u8>,
    /// The read ahead reached the end of the input.
    ended: bool,
}

impl<R: std::io::Read> Source for Stream<R> {
    fn bytes(&self) -> &[u8] {
        &self.buf[self.start..]
    }
    fn fill(&mut self, want: usize) -> Result<bool, IngestError> {
        if self.buf.len() - self.start >= want {
            return Ok(false);
        }
        if self.next.len() > AHEAD_ROOM {
            // the bytes held go in the room before those read ahead, which
            // become the buffer (the old one is the next read ahead's)
            let held = self.buf.len() - self.start;
            if held <= AHEAD_ROOM {
                let at = AHEAD_ROOM - held;
                self.next[at..AHEAD_ROOM].copy_from_slice(&self.buf[self.start..]);
                std::mem::swap(&mut self.buf, &mut self.next);
                self.start = at;
            } else {
                self.buf.drain(..self.start);
                self.start = 0;
                self.buf.extend_from_slice(&self.next[AHEAD_ROOM..]);
            }
            self.next.truncate(AHEAD_ROOM);
            if self.buf.len() - self.start >= want || self.ended {
                return Ok(self.ended);
            }
        }
        self.buf.drain(..self.start);
        self.start = 0;
        // Room for the read ahead's room too: the two buffers swap, and one
        // `AHEAD_ROOM` short was grown by the next read ahead into fresh
        // memory (16 MB of page faults, the 1M log's second and third read
        // aheads 22-28 ms instead of 7 ms).
        self.buf.reserve_exact((want + AHEAD_ROOM).saturating_sub(self.buf.len()));
        fill(&mut self.reader, &mut self.buf, want)
    }
    fn consume(&mut self, n: usize) {
        self.start += n;
    }
    fn whole(&mut self) -> Result<&[u8], IngestError> {
        // (called before any read ahead)
        std::io::Read::read_to_end(&mut self.reader, &mut self.buf).map_err(|e| IngestError::Read(e.to_string()))?;
        Ok(&self.buf[self.start..])
    }
    fn release(&mut self) {
        (self.buf, self.next, self.start) = (Vec::new(), Vec::new(), 0);
    }
    fn ahead(&mut self) -> (&[u8], Option<Ahead<'_>>) {
        let ahead = Ahead { reader: &mut self.reader, next: &mut self.next, ended: &mut self.ended };
        (&self.buf[self.start..], Some(ahead))
    }
}

/// Bytes already in memory.
struct Whole<'a, 'd> {
    data: &'a [u8],
    start: usize,
    done: &'d mut dyn FnMut(usize),
}

impl Source for Whole<'_, '_> {
    fn bytes(&self) -> &[u8] {
        &self.data[self.start..]
    }
    fn fill(&mut self, _: usize) -> Result<bool, IngestError> {
        Ok(true)
    }
    fn consume(&mut self, n: usize) {
        self.start += n;
        (self.done)(self.start);
    }
    fn whole(&mut self) -> Result<&[u8], IngestError> {
        Ok(&self.data[self.start..])
    }
}

fn read_source(
    src: &mut dyn Source,
    opts: &LogOptions,
    blocking: Blocking,
) -> Result<(TransactionLog, LogExtras, LogReport), IngestError> {
    let block = blocking.block.max(1);
    // the first lines decide the layout: read enough to hold them whole
    let mut want = block.max(1 << 16);
    let mut eof = src.fill(want)?;
    if !opts.explicit() {
        if let Some(platform) = recognise_header(src.bytes()) {
            // platform exports are a shop's history: read whole, then by their rules
            let table = crate::table::Table::read(src.whole()?)?;
            return crate::exports::read_transactions(&table, platform, &opts.date_format);
        }
    }
    let started = std::time::Instant::now();
    // the layout's window of the input, and whether the input ends in it
    let (layout, scan_len, scan_ended) = loop {
        // (a source held whole holds more than the first block: the layout
        // reads as much as it would from a stream)
        let all = src.bytes();
        let buf = &all[..all.len().min(want)];
        let ended = eof && buf.len() == all.len();
        let l = layout(buf, opts);
        let cut_short = match &l {
            Ok(l) => l.body_start >= buf.len(),
            Err(IngestError::Empty) => true,
            Err(_) => false,
        };
        if ended || !cut_short {
            break (l?, buf.len(), ended);
        }
        want += block.max(1 << 16);
        eof = src.fill(want)?;
    };
    let Layout { delimiter, mapping, mut cols, leading_blank, body_start, body_line, names } = layout;
    let fresh = |cols: &Cols| {
        let mut merged = Merged::new(cols);
        merged.size_hint = opts.size_hint;
        merged.rejected = leading_blank.iter().map(|&line| Reject { line, reason: "blank line".into() }).collect();
        merged.rows = merged.rejected.len();
        merged
    };
    src.consume(body_start);
    // The conventions the user left open (date layout, decimal mark) are
    // decided from the values of the layout's window. Most logs hold only ISO
    // dates and plain amounts, which decide nothing: the first block is parsed
    // at once under the conventions those give, watching for a value that
    // says more; only then is the window scanned and the block parsed again.
    // (The scan on its own cost ~20 ms of the 1M log's ~0.2 s read.) The first
    // block holds the whole window with the default blocks; with smaller ones
    // the window is scanned first.
    let spec = Spec {
        dates: opts.date_format == DateFormat::Auto,
        decimal: opts.decimal.is_none() && (cols.amount.is_some() || cols.cost.is_some()),
    };
    let decide = |cols: &mut Cols, window: &[u8]| {
        decide_conventions(
            &window[..scan_len - body_start.min(scan_len)],
            body_line,
            delimiter,
            scan_ended,
            opts,
            &names,
            cols,
        )
    };
    let mut speculating = spec.any() && scan_len.saturating_sub(body_start) <= block;
    if spec.any() && !speculating {
        decide(&mut cols, src.bytes())?;
    }
    // (the stage timings below, with `winback -vv`, are what bench/README's
    // figures on the read's serial parts come from)
    tracing::debug!(secs = started.elapsed().as_secs_f64(), speculating, "decided the columns");
    let mut merged = fresh(&cols);
    let mut line = body_line;
    // bytes parsed at a time: a block, more while one record does not fit
    let mut window = block;
    let mut pool: Vec<Scratch> = Vec::new();
    loop {
        let (buf, mut ahead) = src.ahead();
        let end = buf.len().min(window);
        let last = eof && end == buf.len();
        let (used, next_line) = {
            let chunk = &buf[..end];
            let quoted = matches!(delimiter, Delimiter::Byte(_)) && memchr::memchr(b'"', chunk).is_some();
            let parts = if chunk.len() < blocking.split_min.max(2) || quoted {
                vec![(chunk, line, last)]
            } else {
                split_parts(chunk, line, last, (chunk.len() / blocking.part.max(1)).clamp(2, 16))
            };
            let n = parts.len();
            // each part's share of the columns: its line ends, one more at
            // its end (split_parts cuts after line ends and counts them)
            let caps: Vec<usize> = (0..n)
                .map(|i| match parts.get(i + 1) {
                    Some(next) => (next.1 - parts[i].1) as usize,
                    None => crate::split::count_lines(parts[i].0) as usize + 1,
                })
                .collect();
            let room: usize = caps.iter().sum();
            // the columns, out of `merged` while the parts write into them
            let mut customer = std::mem::take(&mut merged.log.customer);
            let mut day = std::mem::take(&mut merged.log.day);
            let mut amount = merged.log.amount.take();
            let first_rows = customer.len();
            // (the first block sizes them for the whole input, 10% over, if
            // the hint's size can be had: it is only a hint)
            if let (Some(total), 0) = (opts.size_hint, first_rows) {
                let want = (room as f64 * (total as f64 / chunk.len().max(1) as f64) * 1.1).min(total as f64) as usize;
                let _ = customer.try_reserve(want);
                let _ = day.try_reserve(want);
                if let Some(a) = amount.as_mut() {
                    let _ = a.try_reserve(want);
                }
            }
            customer.reserve(room);
            day.reserve(room);
            if let Some(a) = amount.as_mut() {
                a.reserve(room);
            }
            let sinks: std::sync::Mutex<Vec<Option<Sink>>> = {
                let (c, d) = (shares(&mut customer, &caps), shares(&mut day, &caps));
                let mut a = amount.as_mut().map(|a| shares(a, &caps).into_iter());
                let sinks = c.into_iter().zip(d).map(|(customer, day)| {
                    Some(Sink { customer, day, amount: a.as_mut().and_then(Iterator::next), taken: 0 })
                });
                std::sync::Mutex::new(sinks.collect())
            };
            // the rows each part wrote and where its ids start, in part order
            let written: std::sync::Mutex<Vec<(usize, u32)>> = std::sync::Mutex::new(Vec::with_capacity(n));
            let overflow = std::sync::atomic::AtomicBool::new(false);
            // Parts are claimed in order by both threads, and merged in order
            // by whichever thread finds the next one parsed and the merge free
            // (the merge is serial). When one thread did every merge, it fell
            // behind, and at each block's end the other waited for it: 56 ms
            // over the four blocks of the 1M log's 0.28 s read. Shared, and
            // with 1 MB parts, the read takes 0.246 s (medians of 8 runs).
            let claimed = std::sync::atomic::AtomicUsize::new(0);
            let shared = std::sync::Mutex::new(std::mem::take(&mut pool));
            let cols = &cols;
            let spec = if speculating { spec } else { Spec::default() };
            let parse = |i: usize| {
                let (part, line, complete) = parts[i];
                let scratch = shared.lock().ok().and_then(|mut p| p.pop()).unwrap_or_default();
                let sink = sinks.lock().expect("a parser thread panicked")[i].take().expect("each part is parsed once");
                parse_part(part, delimiter, line, complete, cols, spec, scratch, sink)
            };
            let claim = || claimed.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let slots: std::sync::Mutex<Vec<Option<Part>>> = std::sync::Mutex::new((0..n).map(|_| None).collect());
            // the next part to merge, and where the parts merged so far end
            let merging = std::sync::Mutex::new((&mut merged, 0usize, 0usize, line, 0.0f64));
            let ready = |m: usize| m < n && slots.lock().expect("a parser thread panicked")[m].is_some();
            // Merge, in order, the parts that are parsed, unless the other
            // thread is at it; a part handed in while this one held the merge
            // is seen by the look after letting go.
            let drain = |wait: bool| loop {
                let st = if wait { merging.lock().ok() } else { merging.try_lock().ok() };
                let Some(mut st) = st else { return };
                let (merged, next, used, next_line, merge_secs) = &mut *st;
                while let Some(p) = (*next < n).then(|| slots.lock().ok().and_then(|mut s| s[*next].take())).flatten() {
                    // parts are consecutive slices of the chunk
                    *used = parts[*next].0.as_ptr() as usize - chunk.as_ptr() as usize + p.used;
                    *next_line = p.next_line;
                    let clock = std::time::Instant::now();
                    if p.overflow {
                        overflow.store(true, std::sync::atomic::Ordering::Relaxed);
                    }
                    let (scratch, taken, base) = merged.add(p);
                    if let Ok(mut w) = written.lock() {
                        w.push((taken, base));
                    }
                    *merge_secs += clock.elapsed().as_secs_f64();
                    if let Ok(mut pool) = shared.lock() {
                        pool.push(scratch);
                    }
                    *next += 1;
                }
                let next = *next;
                drop(st);
                if !ready(next) {
                    return;
                }
            };
            // when each thread ran out of parts: the first waits for the last
            let done = std::sync::Mutex::new(Vec::with_capacity(2));
            let block_start = std::time::Instant::now();
            let work = || loop {
                let i = claim();
                if i >= n {
                    if let Ok(mut d) = done.lock() {
                        d.push(std::time::Instant::now());
                    }
                    break;
                }
                let p = parse(i);
                slots.lock().expect("a parser thread panicked")[i] = Some(p);
                drain(false);
            };
            // While the other thread parses, this one reads what the next
            // block needs (its window, less what this block leaves over)
            // into a buffer of its own: the read (~5 ms a 16 MB block from
            // the page cache) no longer holds both threads up between blocks.
            let mut read_ahead = Ok(());
            std::thread::scope(|s| {
                if n > 1 {
                    s.spawn(work);
                    if let (Some(a), false) = (ahead.as_mut(), last) {
                        let clock = std::time::Instant::now();
                        read_ahead = a.read(window.saturating_sub(buf.len() - end));
                        tracing::debug!(secs = clock.elapsed().as_secs_f64(), "read ahead");
                    }
                }
                work();
            });
            read_ahead?;
            // every part is parsed now: whatever is left to merge
            drain(true);
            let (_, merged_parts, used, next_line, merge_secs) =
                merging.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner);
            debug_assert_eq!(merged_parts, n);
            let done = done.into_inner().unwrap_or_default();
            let waited = match (done.iter().min(), done.iter().max()) {
                (Some(first), Some(last)) => last.duration_since(*first).as_secs_f64(),
                _ => 0.0,
            };
            tracing::debug!(
                bytes = chunk.len(),
                parts = n,
                secs = block_start.elapsed().as_secs_f64(),
                merge_secs,
                waited_secs = waited,
                "parsed a block"
            );
            pool = shared.into_inner().unwrap_or_default();
            drop(sinks);
            if overflow.into_inner() {
                return Err(IngestError::Read(format!(
                    "lines {line}–{next_line}: more records than line ends (a bug in winback: please report it)"
                )));
            }
            // The parts' rows side by side: a part wrote fewer rows than its
            // share when it had rejected lines, blank lines or records cut
            // by the block's end, and the rows after such a gap move down.
            let written = written.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner);
            debug_assert_eq!(written.len(), n);
            let filled: Vec<(usize, usize)> =
                caps.iter().zip(&written).map(|(&cap, &(taken, _))| (cap, taken)).collect();
            close_gaps(&mut customer, &filled);
            close_gaps(&mut day, &filled);
            if let Some(a) = amount.as_mut() {
                close_gaps(a, &filled);
            }
            let mut rows = first_rows;
            for &(taken, base) in written.iter().filter(|(taken, _)| *taken > 0) {
                rows += taken;
                merged.bases.push((rows, base));
            }
            (merged.log.customer, merged.log.day, merged.log.amount) = (customer, day, amount);
            (used, next_line)
        };
        if speculating && merged.telling {
            // a value that says something: decide, and read the block again
            let clock = std::time::Instant::now();
            speculating = false;
            decide(&mut cols, src.bytes())?;
            merged = fresh(&cols);
            tracing::debug!(secs = clock.elapsed().as_secs_f64(), "decided the conventions from the first block");
            continue;
        }
        // (a first record longer than the block is read again, watched again)
        speculating &= used == 0 && !last;
        if last {
            break;
        }
        if used == 0 {
            // one record longer than the window: widen it and try again
            window = window.saturating_add(block);
        } else {
            src.consume(used);
            line = next_line;
            window = block;
        }
        if !eof {
            let clock = std::time::Instant::now();
            eof = src.fill(window)?;
            tracing::debug!(secs = clock.elapsed().as_secs_f64(), "read the next block");
        }
    }
    // (what the numbering allocates then reuses the blocks' memory rather
    // than fresh pages: ~15 MB of page faults on the 1M log)
    drop(pool);
    src.release();
    let (log, extras, mut report) = merged.finish(mapping);
    if cols.date_format == DateFormat::ExcelSerial {
        report.notes.push(EXCEL_SERIAL_NOTE.into());
    }
    Ok((log, extras, report))
}

/// What is said when a date column holds Excel's date numbers.
pub const EXCEL_SERIAL_NOTE: &str =
    "the dates are Excel's date numbers (the cells were formatted as numbers; 45292 is 2024-01-01): read as such";

/// Read until `buf` holds `want` bytes; true at the end of the input.
fn fill<R: std::io::Read + ?Sized>(reader: &mut R, buf: &mut Vec<u8>, want: usize) -> Result<bool, IngestError> {
    if buf.len() >= want {
        return Ok(false);
    }
    let have = buf.len();
    buf.reserve_exact(want - have);
    let n = std::io::Read::read_to_end(&mut std::io::Read::take(reader, (want - have) as u64), buf)
        .map_err(|e| IngestError::Read(e.to_string()))?;
    Ok(have + n < want)
}

/// The log so far, parts added in file order. Customers keep their order of
/// first appearance.
///
/// Each part's distinct ids are kept as they come ("entries"), and the rows
/// point at entries; customers are numbered once the whole input is read
/// ([`number_entries`]). Looking each part's ids up in one table as it came
/// cost ~90 ns an id on the 1M log: a table of millions of ids does not stay
/// in cache while the other thread streams its block through it.
struct Merged {
    log: TransactionLog,
    extras: LogExtras,
    /// The ids of every part's entries, end to end, and where each ends.
    entry_bytes: Vec<u8>,
    entry_ends: Vec<usize>,
    /// [`id_hash`] of each entry.
    entry_hashes: Vec<u32>,
    rows: usize,
    rejected: Vec<Reject>,
    /// A part stopped at a value that says something about a convention.
    telling: bool,
    /// See [`LogOptions::size_hint`]; taken by the first part with rows.
    size_hint: Option<u64>,
    /// Where each part's rows end in the log, and where its ids start among
    /// the entries: its rows hold its own numbers for them until
    /// [`Merged::finish`].
    bases: Vec<(usize, u32)>,
}

impl Merged {
    fn new(cols: &Cols) -> Self {
        Merged {
            log: TransactionLog { amount: cols.amount.map(|_| Vec::new()), ..Default::default() },
            extras: cols.extras(),
            entry_bytes: Vec::new(),
            entry_ends: Vec::new(),
            entry_hashes: Vec::new(),
            rows: 0,
            rejected: Vec::new(),
            telling: false,
            size_hint: None,
            bases: Vec::new(),
        }
    }

    /// Room for the entries (and extras) the input holds if the rest of it is
    /// like `part`: 30% more entries and 10% more rows (new ids vary more from
    /// part to part; on the 1M log the first part's ratio fell 7% short, and
    /// the last part's merge then copied the entries whole, 12 ms). What is
    /// left over is address space, never touched. (The columns are sized
    /// before each block, in `read_source`.)
    fn size_for(&mut self, part: &Part) {
        let (Some(total), rows) = (self.size_hint, part.sink.taken) else { return };
        if rows == 0 || part.used == 0 {
            return;
        }
        self.size_hint = None;
        let scale = total as f64 / part.used as f64;
        let room = |n: usize, more: f64| (n as f64 * scale * more).min(total as f64) as usize;
        let (rows, entries) = (room(rows, 1.1), room(part.id_ends.len(), 1.3));
        let _ = self.entry_ends.try_reserve(entries);
        let _ = self.entry_hashes.try_reserve(entries);
        let _ = self.entry_bytes.try_reserve(room(part.id_bytes.len(), 1.3));
        let x = &mut self.extras;
        if !part.extras.lines.is_empty() {
            let _ = x.lines.try_reserve(rows);
        }
        if let Some(c) = x.cost.as_mut() {
            let _ = c.try_reserve(rows);
        }
    }

    /// Take in a parsed part, whose rows are in the log's columns already:
    /// its buffers to use again, the rows it wrote, and where its ids start
    /// among the entries.
    fn add(&mut self, part: Part) -> (Scratch, usize, u32) {
        self.size_for(&part);
        self.telling |= part.telling;
        self.rows += part.rows;
        self.rejected.extend(part.rejected);
        // rows point at entries until the customers are numbered
        let base = self.entry_ends.len() as u32;
        // (the part's ids end to end: one copy, not a call per id)
        let at = self.entry_bytes.len();
        self.entry_bytes.extend_from_slice(&part.id_bytes);
        self.entry_ends.extend(part.id_ends.iter().map(|&e| at + e));
        self.entry_hashes.extend_from_slice(&part.hashes);
        let (x, p) = (&mut self.extras, part.extras);
        x.lines.extend_from_slice(&p.lines);
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
        let scratch = Scratch {
            id_bytes: part.id_bytes,
            id_ends: part.id_ends,
            hashes: part.hashes,
            lines: p.lines,
            index: part.index,
        };
        (scratch, part.sink.taken, base)
    }

    fn finish(mut self, mapping: Mapping) -> (TransactionLog, LogExtras, LogReport) {
        let clock = std::time::Instant::now();
        let entries = self.entry_ends.len();
        let (bytes, ends) = (&self.entry_bytes, &self.entry_ends);
        let entry = |e: usize| &bytes[if e == 0 { 0 } else { ends[e - 1] }..ends[e]];
        let (number, firsts) = number_entries(&self.entry_hashes, &entry);
        // the first entries' ids, moved down in place over the others, a run
        // of consecutive entries at a time (no fresh memory)
        let (mut buf, mut at) = (std::mem::take(&mut self.entry_bytes), std::mem::take(&mut self.entry_ends));
        let (mut bytes_to, mut ends_to) = (0, 0);
        for run in firsts.chunk_by(|a, b| b.wrapping_sub(*a) == 1) {
            let (e0, e1) = (run[0] as usize, run[run.len() - 1] as usize);
            let lo = if e0 == 0 { 0 } else { at[e0 - 1] };
            let hi = at[e1];
            buf.copy_within(lo..hi, bytes_to);
            for k in e0..=e1 {
                at[ends_to] = at[k] - lo + bytes_to;
                ends_to += 1;
            }
            bytes_to += hi - lo;
        }
        buf.truncate(bytes_to);
        at.truncate(ends_to);
        self.log.ids = CustomerIds::from_parts(buf, at).unwrap_or_else(|(buf, at)| {
            // (not reached: parse_part lets only UTF-8 ids through)
            let span = |k: usize| &buf[if k == 0 { 0 } else { at[k - 1] }..at[k]];
            (0..at.len()).map(|k| String::from_utf8_lossy(span(k)).into_owned()).collect()
        });
        let customer = &mut self.log.customer;
        let mid = customer.len() / 2;
        let (a, b) = customer.split_at_mut(mid);
        // rows `lo..` hold their part's own numbers for its ids: the part's
        // base among the entries, plus that, is the entry
        let bases = &self.bases;
        let renumber = |lo: usize, rows: &mut [u32]| {
            let mut k = bases.partition_point(|&(end, _)| end <= lo);
            let mut at = lo;
            while at < lo + rows.len() {
                let (end, base) = bases[k];
                let stop = end.min(lo + rows.len());
                for c in &mut rows[at - lo..stop - lo] {
                    *c = number[(base + *c) as usize];
                }
                (at, k) = (stop, k + 1);
            }
        };
        std::thread::scope(|s| {
            if !b.is_empty() {
                s.spawn(|| renumber(mid, b));
            }
            renumber(0, a);
        });
        tracing::debug!(
            entries,
            customers = firsts.len(),
            secs = clock.elapsed().as_secs_f64(),
            "numbered the customers"
        );
        self.rejected.sort_by_key(|r| r.line);
        let (skipped, rejected) =
            self.rejected.into_iter().partition(|r| r.reason == crate::HEADER_AGAIN || r.reason == crate::TOTALS_ROW);
        let read = self.log.len();
        let mut notes = Vec::new();
        if is_email_column(&mapping.customer.1) {
            let merged = fold_email_case(&mut self.log);
            if merged > 0 {
                notes.push(format!(
                    "{merged} customer email{} differed from another only in capitals and {} merged with it (emails are compared without case, as the platforms' exports are read)",
                    if merged == 1 { "" } else { "s" },
                    if merged == 1 { "was" } else { "were" }
                ));
            }
        }
        let report = LogReport {
            mapping,
            rows: self.rows,
            read,
            rejected,
            recognised: None,
            imported_lines: None,
            folded: 0,
            skipped,
            notes,
        };
        (self.log, self.extras, report)
    }
}

/// A customer column named for emails (`email`, `Customer E-mail`, `mail`).
fn is_email_column(header: &str) -> bool {
    let h = header.to_lowercase();
    h.contains("mail")
}

/// Emails that differ only in capitals are one customer: a checkout that
/// once had `Ann@X.com` and once `ann@x.com` is one person, and a customers
/// export keyed by email matches them lowercased. The ids become lowercase,
/// in order of first appearance; returns how many ids were merged into
/// another. Nothing is copied when no id has a capital.
fn fold_email_case(log: &mut TransactionLog) -> usize {
    if !log.ids.iter().any(|id| id.bytes().any(|b| b.is_ascii_uppercase() || !b.is_ascii())) {
        return 0;
    }
    let n = log.ids.len();
    let mut first: std::collections::HashMap<String, u32> = std::collections::HashMap::with_capacity(n);
    let mut ids = CustomerIds::with_capacity(n, 0);
    let remap: Vec<u32> = log
        .ids
        .iter()
        .map(|id| {
            let key = id.to_lowercase();
            let next = first.len() as u32;
            *first.entry(key).or_insert_with_key(|k| {
                ids.push(k);
                next
            })
        })
        .collect();
    for c in &mut log.customer {
        *c = remap[*c as usize];
    }
    let merged = n - ids.len();
    log.ids = ids;
    merged
}

/// Customer numbers for entries (ids, with their hashes, some of them the
/// same id): each entry's number, and the first entry of each number, numbers
/// given in order of first entry. The entries are split by the top bits of
/// their hash into partitions of a few thousand, each deduplicated with a
/// table that stays in cache, half the partitions on each thread.
fn number_entries<'b>(hashes: &[u32], entry: &(dyn Fn(usize) -> &'b [u8] + Sync)) -> (Vec<u32>, Vec<u32>) {
    use std::sync::atomic::{AtomicU32, Ordering::Relaxed};
    let n = hashes.len();
    let bits = (n / 4096).max(1).next_power_of_two().trailing_zeros().min(12);
    let partition = |h: u32| if bits == 0 { 0 } else { (h >> (32 - bits)) as usize };
    let parts = 1usize << bits;
    // entries by partition, each partition's in entry order (a counting sort),
    // each entry with its hash so that the tables below need not look it up;
    // on two threads, the first half of the entries taking the front of each
    // partition (the scatter alone was 50 ms on one core for 4.3M entries)
    let half = if n > 65_536 { n / 2 } else { n };
    let (front, back) = hashes.split_at(half);
    let histogram = |hs: &[u32]| {
        let mut counts = vec![0usize; parts];
        for &h in hs {
            counts[partition(h)] += 1;
        }
        counts
    };
    let (counts_front, counts_back) = std::thread::scope(|s| {
        let back = s.spawn(|| histogram(back));
        let front = histogram(front);
        (front, back.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
    });
    let mut start = vec![0usize; parts + 1];
    for p in 0..parts {
        start[p + 1] = start[p] + counts_front[p] + counts_back[p];
    }
    let mut order = vec![0u64; n];
    // each partition's slots cut in two: the front entries', the back entries'
    let (mut to_front, mut to_back) = (Vec::with_capacity(parts), Vec::with_capacity(parts));
    let mut rest = order.as_mut_slice();
    for p in 0..parts {
        let (mine, tail) = std::mem::take(&mut rest).split_at_mut(start[p + 1] - start[p]);
        let (f, b) = mine.split_at_mut(counts_front[p]);
        to_front.push(f);
        to_back.push(b);
        rest = tail;
    }
    let scatter = |hs: &[u32], base: usize, slots: &mut Vec<&mut [u64]>| {
        let mut next = vec![0usize; parts];
        for (k, &h) in hs.iter().enumerate() {
            let p = partition(h);
            slots[p][next[p]] = (u64::from(h) << 32) | (base + k) as u64;
            next[p] += 1;
        }
    };
    std::thread::scope(|s| {
        s.spawn(|| scatter(back, half, &mut to_back));
        scatter(front, 0, &mut to_front);
    });
    let largest = start.windows(2).map(|w| w[1] - w[0]).max().unwrap_or(0);
    // each entry's first entry of the same id
    let first: Vec<AtomicU32> = (0..n).map(|_| AtomicU32::new(0)).collect();
    let dedup = |from: usize, to: usize| {
        // (the hash's top bits are the partition's: the table takes them mixed)
        let key = |x: u64| (x >> 32).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let mut table: hashbrown::HashTable<u64> = hashbrown::HashTable::with_capacity(largest);
        let mut same_hash: Vec<(u32, u32)> = Vec::new();
        for p in from..to {
            let mine = &order[start[p]..start[p + 1]];
            // by hash alone first: each entry's first entry with its hash
            table.clear();
            same_hash.clear();
            for &x in mine {
                let e = x as u32;
                match table.find(key(x), |&y| y >> 32 == x >> 32) {
                    Some(&y) => same_hash.push((e, y as u32)),
                    None => {
                        table.insert_unique(key(x), x, |&y| key(y));
                        first[e as usize].store(e, Relaxed);
                    }
                }
            }
            // then the ids of those pairs compared, in a loop of their own (a
            // compare inside the look-up waited on two random reads each: 0.45 s
            // for 5.5M repeats on the date-ordered 10M log)
            if same_hash.iter().all(|&(e, f)| same_id(entry(e as usize), entry(f as usize))) {
                for &(e, f) in &same_hash {
                    first[e as usize].store(f, Relaxed);
                }
                continue;
            }
            // two ids with one hash in this partition: compared at every look-up
            table.clear();
            for &x in mine {
                let e = x as u32;
                let same = |&y: &u64| y >> 32 == x >> 32 && same_id(entry(y as u32 as usize), entry(e as usize));
                let f = match table.find(key(x), same) {
                    Some(&y) => y as u32,
                    None => {
                        table.insert_unique(key(x), x, |&y| key(y));
                        e
                    }
                };
                first[e as usize].store(f, Relaxed);
            }
        }
    };
    // the partitions in two halves of about as many entries
    let mid = start.partition_point(|&s| s < n / 2).min(parts);
    std::thread::scope(|s| {
        if n > 4096 {
            s.spawn(|| dedup(mid, parts));
            dedup(0, mid);
        } else {
            dedup(0, parts);
        }
    });
    // numbers in order of first entry: an entry's first comes before it, so
    // its number is already there when a later entry asks
    let mut number: Vec<u32> = first.into_iter().map(AtomicU32::into_inner).collect();
    let mut firsts = Vec::new();
    for e in 0..n {
        let f = number[e] as usize;
        number[e] = if f == e {
            firsts.push(e as u32);
            (firsts.len() - 1) as u32
        } else {
            number[f]
        };
    }
    (number, firsts)
}

/// Customer ids to their index in a part, by [`id_hash`].
type IdIndex = winback_stats::parallel::KeyTable;

/// A customer id's 32-bit hash, for [`IdIndex`] and the numbering.
fn id_hash(id: &[u8]) -> u32 {
    use std::hash::{BuildHasher, BuildHasherDefault};
    let h = BuildHasherDefault::<rustc_hash::FxHasher>::default().hash_one(id);
    (h ^ (h >> 32)) as u32
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
    /// Fields in every record: the header's (or the first line's) count.
    width: usize,
    /// The header's fields (none without a header), to tell it repeated.
    header: Vec<Vec<u8>>,
    date_format: DateFormat,
    decimal: Decimal,
    cost_decimal: Decimal,
    keep_lines: bool,
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

/// A part's buffers, emptied after its merge and handed to the next block's
/// part: fresh ones for every block cost a page fault per 4 KiB written
/// (about 200 MB of them on a 60 MB log).
#[derive(Default)]
struct Scratch {
    id_bytes: Vec<u8>,
    id_ends: Vec<usize>,
    hashes: Vec<u32>,
    lines: Vec<u32>,
    index: IdIndex,
}

/// A part's share of the log's columns, where it writes each row's customer
/// (the part's own number for the id: the merge knows where the part's ids
/// start), day and amount. Shares are cut from the columns' spare room
/// before a block is parsed, one a part, as large as the part has line ends
/// (plus one at its end): a record ends at a line end or at the part's end.
/// Parts writing in place saved the merge copying every row (~10 ms a 16 MB
/// block, on one thread at a time).
struct Sink<'s> {
    customer: &'s mut [MaybeUninit<u32>],
    day: &'s mut [MaybeUninit<i32>],
    amount: Option<&'s mut [MaybeUninit<f64>]>,
    /// Rows written: the first `taken` slots of each.
    taken: usize,
}

impl Sink<'_> {
    /// Write a row; false when the share is full (never, by its size).
    #[inline]
    fn push(&mut self, customer: u32, day: i32, amount: Option<f64>) -> bool {
        let k = self.taken;
        let (Some(c), Some(d)) = (self.customer.get_mut(k), self.day.get_mut(k)) else { return false };
        c.write(customer);
        d.write(day);
        if let (Some(slots), Some(a)) = (self.amount.as_deref_mut(), amount) {
            match slots.get_mut(k) {
                Some(slot) => {
                    slot.write(a);
                }
                None => return false,
            }
        }
        self.taken += 1;
        true
    }
}

/// Shares of `v`'s spare room, `caps[i]` slots each, from its length on
/// (`reserve` must have made the room).
fn shares<'v, T>(v: &'v mut Vec<T>, caps: &[usize]) -> Vec<&'v mut [MaybeUninit<T>]> {
    let mut rest = &mut v.spare_capacity_mut()[..caps.iter().sum()];
    caps.iter()
        .map(|&cap| {
            let (share, tail) = std::mem::take(&mut rest).split_at_mut(cap);
            rest = tail;
            share
        })
        .collect()
}

/// Take in the rows written into [`shares`] of `v`: each share's (size, rows
/// written), in order. The rows move down over the gaps and `v` grows by them.
fn close_gaps<T: Copy>(v: &mut Vec<T>, filled: &[(usize, usize)]) {
    let spare = v.spare_capacity_mut();
    let (mut from, mut to) = (0, 0);
    for &(cap, taken) in filled {
        if from != to {
            spare.copy_within(from..from + taken, to);
        }
        (from, to) = (from + cap, to + taken);
    }
    // SAFETY: each share's first `taken` slots were written (`Sink::push`:
    // only the slots it counts) before the parts were merged, and they now
    // lie side by side from the old length on, within the reserved room.
    unsafe { v.set_len(v.len() + to) };
}

struct Part<'s> {
    /// The part's distinct customer ids end to end, and where each ends.
    id_bytes: Vec<u8>,
    id_ends: Vec<usize>,
    /// [`id_hash`] of each id.
    hashes: Vec<u32>,
    sink: Sink<'s>,
    /// A row found its share full (a bug in the share's size): the read fails
    /// rather than lose the row.
    overflow: bool,
    rows: usize,
    rejected: Vec<Reject>,
    extras: LogExtras,
    /// Bytes of the part read: all of it when complete, else up to the start of
    /// its last record.
    used: usize,
    /// Line number where reading stopped.
    next_line: u64,
    index: IdIndex,
    /// Reading stopped at a value that says something about a convention.
    telling: bool,
}

/// Byte offset just after the record that starts on `line` (the header), and
/// the line number there.
fn records_pos_after(data: &[u8], delimiter: Delimiter, header_line: u64) -> (usize, u64) {
    let mut r = Records::new(data, delimiter, 1);
    let mut f = Vec::new();
    while let Some(line) = r.next_into(&mut f) {
        if line == header_line {
            return (data.len() - r.remaining(), r.line());
        }
    }
    (data.len(), r.line())
}

/// A block in two halves split at a line break when it is large and has no
/// quotes (a quote could hide a newline inside a field, so such blocks are read
/// in one part). Each part with its first line number and whether it is read to
/// its end (`complete`) or stops before its last record.
fn split_for_threads(
    body: &[u8],
    delimiter: Delimiter,
    first_line: u64,
    complete: bool,
    split_min: usize,
) -> Vec<(&[u8], u64, bool)> {
    let quoted = matches!(delimiter, Delimiter::Byte(_)) && memchr::memchr(b'"', body).is_some();
    if body.len() < split_min.max(2) || quoted {
        return vec![(body, first_line, complete)];
    }
    split_parts(body, first_line, complete, 2)
}

/// `body` (large, unquoted) cut at line breaks into about `n` parts of equal
/// size, each with its first line number and whether it is read to its end.
fn split_parts(body: &[u8], first_line: u64, complete: bool, n: usize) -> Vec<(&[u8], u64, bool)> {
    let mut parts = Vec::with_capacity(n);
    let (mut start, mut line) = (0, first_line);
    for i in 1..n {
        let target = (body.len() * i / n).max(start);
        let Some(cut) = memchr::memchr(b'\n', &body[target..]).map(|k| target + k + 1) else { break };
        if cut >= body.len() {
            break;
        }
        parts.push((&body[start..cut], line, true));
        line += crate::split::count_lines(&body[start..cut]);
        start = cut;
    }
    parts.push((&body[start..], line, complete));
    parts
}

/// Why a line whose quote did not close is rejected.
pub const UNCLOSED: &str = "a quoted field opened on this line does not close into a full record (stray quote?)";

/// Why a record of the wrong width is rejected.
pub fn width_reason(want: usize, got: usize) -> String {
    format!("expected {want} fields as in the header, found {got} (an unquoted delimiter inside a value?)")
}

/// Longest id (customer or transaction) kept, in bytes: a database index entry
/// must hold it (PostgreSQL's B-tree refuses entries over about 2.7 kB).
pub const MAX_ID_BYTES: usize = 512;

/// Ids are stored byte for byte and texts must be storable on every back end:
/// the reason to reject the line otherwise. A `known_customer` id (one that
/// passed before) is not checked again.
fn check_texts(fields: &[Cow<[u8]>], cols: &Cols, known_customer: bool) -> Option<String> {
    for (what, col, id) in [
        ("customer id", Some(cols.customer).filter(|_| !known_customer), true),
        ("transaction id", cols.txn_id, true),
        ("channel", cols.channel, false),
        ("store", cols.store, false),
        ("product", cols.product, false),
    ] {
        let Some(f) = col.and_then(|c| fields.get(c)) else { continue };
        if memchr::memchr(0, f).is_some() {
            return Some(format!("{what} contains a NUL byte"));
        }
        if id && f.len() > MAX_ID_BYTES {
            return Some(format!("{what} is {} bytes long, more than {MAX_ID_BYTES}", f.len()));
        }
        if id && std::str::from_utf8(f).is_err() {
            return Some(format!("{what} is {}", crate::NOT_UTF8));
        }
    }
    None
}

/// `a == b` for ids: those of 8 to 16 bytes (the usual) compared as two
/// words that may overlap, without a call to `memcmp` (the slice comparison's
/// call cost more than the comparing, on every row).
#[inline]
fn same_id(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    if (8..=16).contains(&n) {
        let word = |s: &[u8], at: usize| s.get(at..at + 8).map(|w| u64::from_le_bytes(w.try_into().unwrap_or([0; 8])));
        return word(a, 0) == word(b, 0) && word(a, n - 8) == word(b, n - 8);
    }
    a == b
}

/// Customer `c`'s id among a part's.
#[inline]
fn part_id<'p>(part: &'p Part<'_>, c: u32) -> &'p [u8] {
    let c = c as usize;
    &part.id_bytes[if c == 0 { 0 } else { part.id_ends[c - 1] }..part.id_ends[c]]
}

#[allow(clippy::too_many_arguments)]
fn parse_part<'a, 's>(
    chunk: &'a [u8],
    delimiter: Delimiter,
    line0: u64,
    complete: bool,
    cols: &Cols,
    spec: Spec,
    scratch: Scratch,
    sink: Sink<'s>,
) -> Part<'s> {
    let fmt = &cols.date_format;
    // rows of 24 bytes or more are the rule; growing is the fallback
    let rows = chunk.len() / 24;
    fn emptied<T>(mut v: Vec<T>, rows: usize) -> Vec<T> {
        v.clear();
        v.reserve(rows);
        v
    }
    let Scratch { id_bytes, id_ends, hashes, lines, mut index } = scratch;
    let mut extras = cols.extras();
    extras.lines = emptied(lines, if cols.keep_lines { rows } else { 0 });
    let mut part = Part {
        id_bytes: emptied(id_bytes, 0),
        id_ends: emptied(id_ends, 0),
        hashes: emptied(hashes, 0),
        sink,
        overflow: false,
        rows: 0,
        rejected: Vec::new(),
        extras,
        used: chunk.len(),
        next_line: line0,
        index: IdIndex::default(),
        telling: false,
    };
    // about one customer per few transactions is typical; growing is the fallback
    index.clear();
    index.reserve(chunk.len() / 64);
    let mut records = Records::new(chunk, delimiter, line0).expect_fields(cols.width).partial(!complete);
    let mut fields: Vec<Cow<'a, [u8]>> = Vec::new();
    // the customer (number and id hash) of the last row taken
    let mut last: Option<(u32, u32)> = None;
    loop {
        let start = chunk.len() - records.remaining();
        let Some(line) = records.next_into(&mut fields) else { break };
        if !complete && records.remaining() == 0 {
            // the block may have cut this record short: the next block reads it
            part.used = start;
            part.next_line = line;
            part.index = index;
            return part;
        }
        part.rows += 1;
        let reject = |reason: String| Reject { line, reason };
        if records.unclosed() {
            part.rejected.push(reject(UNCLOSED.into()));
            continue;
        }
        if fields.is_empty() {
            part.rejected.push(reject("blank line".into()));
            continue;
        }
        if fields.len() != cols.width {
            part.rejected.push(reject(width_reason(cols.width, fields.len())));
            continue;
        }
        if spec.any() && spec.telling(&fields, cols) {
            // the block is read again under the conventions decided
            part.telling = true;
            break;
        }
        // An id already in the part's index passed every check on its first
        // row, so only a new one is checked (UTF-8, NUL, length), in the order
        // check_texts has always taken.
        // (a log sorted by customer holds runs of one id: the last row's
        // customer is tried first, without hashing or a look-up)
        let (h, known) = match last {
            Some((c, h)) if same_id(part_id(&part, c), &fields[cols.customer]) => (h, Some(c)),
            _ => {
                let h = id_hash(&fields[cols.customer]);
                (h, index.find(h, |c| same_id(part_id(&part, c), &fields[cols.customer])))
            }
        };
        if let Some(why) = check_texts(&fields, cols, known.is_some()) {
            part.rejected.push(reject(why));
            continue;
        }
        let id = &fields[cols.customer];
        if (id.is_empty() || fields[cols.date].is_empty()) && crate::is_totals_row(&fields) {
            part.rejected.push(reject(crate::TOTALS_ROW.into()));
            continue;
        }
        if id.is_empty() {
            part.rejected.push(reject("missing customer id".into()));
            continue;
        }
        let day = match parse_day(&fields[cols.date], fmt).and_then(|d| purchase_day(d, &fields[cols.date])) {
            Ok(d) => d,
            // (only a line that fails its date can be the header again)
            Err(_) if crate::is_header_again(&fields, &cols.header) => {
                part.rejected.push(reject(crate::HEADER_AGAIN.into()));
                continue;
            }
            Err(e) => {
                part.rejected.push(reject(format!("date: {e}")));
                continue;
            }
        };
        let amount = match cols.amount {
            Some(a) => match parse_amount_as(&fields[a], cols.decimal) {
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
            Some(f) => match parse_amount_as(f, cols.cost_decimal) {
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
        let c = match known {
            Some(c) => c,
            None => {
                let c = part.id_ends.len() as u32;
                part.id_bytes.extend_from_slice(&fields[cols.customer]);
                part.id_ends.push(part.id_bytes.len());
                part.hashes.push(h);
                index.insert(h, c);
                c
            }
        };
        last = Some((c, h));
        if !part.sink.push(c, day, amount) {
            part.overflow = true;
            break;
        }
        let x = &mut part.extras;
        if cols.keep_lines {
            x.lines.push(u32::try_from(line).unwrap_or(u32::MAX));
        }
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
    part.next_line = records.line();
    part.index = index;
    part
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two ids with the same 32-bit hash in different parts stay two customers,
    /// and each keeps its rows (the merge trusts a hash only after the bytes).
    #[test]
    fn ids_sharing_a_hash_stay_apart_across_parts() {
        let mut seen = std::collections::HashMap::new();
        let (a, b) = (0u64..)
            .find_map(|i| {
                let id = format!("k{i}");
                seen.insert(id_hash(id.as_bytes()), id.clone()).map(|other| (other, id))
            })
            .unwrap();
        assert_ne!(a, b);
        let mut file = String::from("customer,date,amount\n");
        for (i, id) in [&a, "x", &b, "y", &a, &b, &b].iter().enumerate() {
            file += &format!("{id},2024-01-{:02},{i}\n", i + 1);
        }
        let (log, _, report) =
            read_blocks(file.as_bytes(), &LogOptions::default(), Blocking { block: 64, split_min: 2, part: 20 })
                .unwrap();
        assert_eq!(report.rows, 7);
        assert_eq!(log.customers(), 4);
        let rows: Vec<&str> = log.customer.iter().map(|&c| &log.ids[c as usize]).collect();
        assert_eq!(rows, [&a, "x", &b, "y", &a, &b, &b]);
    }

    #[test]
    fn ids_compare_as_slices_do() {
        let ids: Vec<Vec<u8>> = (0..=20usize)
            .flat_map(|n| {
                let base: Vec<u8> = (0..n as u8).map(|i| b'a' + i).collect();
                // the same, and one byte changed at each end and in the middle
                let mut v = vec![base.clone()];
                for at in [0, n / 2, n.saturating_sub(1)] {
                    if n > 0 {
                        let mut w = base.clone();
                        w[at] ^= 1;
                        v.push(w);
                    }
                }
                v
            })
            .collect();
        for a in &ids {
            for b in &ids {
                assert_eq!(same_id(a, b), a == b, "{a:?} {b:?}");
            }
        }
    }

    /// Entries are numbered as a map from id to number, filled in entry order,
    /// numbers them: on both threads and many partitions, and with hashes
    /// made to collide (all equal, or a few values).
    #[test]
    fn entries_are_numbered_in_order_of_first_appearance() {
        // (more than 65,536 entries: the counting sort runs on two threads)
        let ids: Vec<String> = (0..140_000u64).map(|i| format!("c{}", (i * 7919) % 50_000)).collect();
        let entry = |e: usize| ids[e].as_bytes();
        let want = |n: usize| {
            let (mut seen, mut firsts) = (std::collections::HashMap::new(), Vec::new());
            let number: Vec<u32> = (0..n)
                .map(|e| {
                    *seen.entry(entry(e)).or_insert_with(|| {
                        firsts.push(e as u32);
                        firsts.len() as u32 - 1
                    })
                })
                .collect();
            (number, firsts)
        };
        let real: Vec<u32> = ids.iter().map(|id| id_hash(id.as_bytes())).collect();
        // (colliding hashes make each look-up compare many ids: fewer entries)
        let few: Vec<u32> = real[..6000].iter().map(|h| h & 0xC000_0003).collect();
        for hashes in [real, few, vec![7; 2000]] {
            assert!(number_entries(&hashes, &entry) == want(hashes.len()));
        }
        assert_eq!(number_entries(&[], &entry), (vec![], vec![]));
    }
}
