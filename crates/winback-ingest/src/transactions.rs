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
    read_log_from(data, opts)
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
    /// Blocks at least this long (and without quotes) are parsed in two halves
    /// on two threads.
    pub split_min: usize,
}

impl Blocking {
    pub const DEFAULT: Blocking = Blocking { block: 32 << 20, split_min: 4 << 20 };
}

/// What the first lines of a file say about it.
struct Layout {
    delimiter: Delimiter,
    mapping: Mapping,
    cols: Cols,
    leading_blank: Vec<u64>,
    body_start: usize,
    body_line: u64,
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
    let (body_start, body_line) = if header { records_pos_after(data, delimiter, first_line) } else { (0, 1) };
    if !header {
        leading_blank.clear(); // read again as part of the body
    }
    Ok(Layout { delimiter, mapping, cols, leading_blank, body_start, body_line })
}

/// Read the log block by block. Each block ends where its last record starts
/// (that record may be cut off; it is read again at the head of the next block),
/// except the last block of the file.
pub fn read_blocks(
    mut reader: impl std::io::Read,
    opts: &LogOptions,
    blocking: Blocking,
) -> Result<(TransactionLog, LogExtras, LogReport), IngestError> {
    let block = blocking.block.max(1);
    let mut buf = Vec::new();
    // the first lines decide the layout: read enough to hold them whole
    let mut want = block.max(1 << 16);
    let mut eof = fill(&mut reader, &mut buf, want)?;
    let layout = loop {
        let l = layout(&buf, opts);
        let cut_short = match &l {
            Ok(l) => l.body_start >= buf.len(),
            Err(IngestError::Empty) => true,
            Err(_) => false,
        };
        if eof || !cut_short {
            break l?;
        }
        want += block.max(1 << 16);
        eof = fill(&mut reader, &mut buf, want)?;
    };
    let Layout { delimiter, mapping, cols, leading_blank, body_start, body_line } = layout;
    let mut merged = Merged::new(&cols);
    merged.rejected = leading_blank.iter().map(|&line| Reject { line, reason: "blank line".into() }).collect();
    merged.rows = merged.rejected.len();
    let (mut pos, mut line) = (body_start, body_line);
    // bytes parsed at a time: a block, more while one record does not fit
    let mut window = block;
    loop {
        let end = buf.len().min(pos.saturating_add(window));
        let last = eof && end == buf.len();
        let (used, next_line) = {
            let chunk = &buf[pos..end];
            let parts = split_for_threads(chunk, delimiter, line, last, blocking.split_min);
            let results: Vec<Part> = std::thread::scope(|s| {
                let handles: Vec<_> = parts
                    .iter()
                    .map(|&(part, line, complete)| {
                        let cols = &cols;
                        s.spawn(move || parse_part(part, delimiter, line, complete, cols, &opts.date_format))
                    })
                    .collect();
                handles.into_iter().map(|h| h.join().expect("parser thread panicked")).collect()
            });
            let mut used = 0;
            let mut next_line = line;
            for ((part, _, _), result) in parts.iter().zip(results) {
                // parts are consecutive slices of the chunk
                used = part.as_ptr() as usize - chunk.as_ptr() as usize + result.used;
                next_line = result.next_line;
                merged.add(result);
            }
            (used, next_line)
        };
        if last {
            break;
        }
        if used == 0 {
            // one record longer than the window: widen it and try again
            window = window.saturating_add(block);
        } else {
            pos += used;
            line = next_line;
            window = block;
        }
        if !eof && buf.len() - pos < window {
            buf.drain(..pos);
            pos = 0;
            eof = fill(&mut reader, &mut buf, window)?;
        }
    }
    Ok(merged.finish(mapping))
}

/// Read until `buf` holds `want` bytes; true at the end of the input.
fn fill<R: std::io::Read>(reader: &mut R, buf: &mut Vec<u8>, want: usize) -> Result<bool, IngestError> {
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
struct Merged {
    log: TransactionLog,
    extras: LogExtras,
    index: IdIndex,
    rows: usize,
    rejected: Vec<Reject>,
}

impl Merged {
    fn new(cols: &Cols) -> Self {
        Merged {
            log: TransactionLog { amount: cols.amount.map(|_| Vec::new()), ..Default::default() },
            extras: cols.extras(),
            index: IdIndex::default(),
            rows: 0,
            rejected: Vec::new(),
        }
    }

    fn add(&mut self, part: Part) {
        let (log, index) = (&mut self.log, &mut self.index);
        self.rows += part.rows;
        self.rejected.extend(part.rejected);
        let remap: Vec<u32> = part
            .ids
            .into_iter()
            .zip(part.hashes)
            .map(|(id, h)| match index.find(h, |c| log.ids[c as usize].as_bytes() == &*id) {
                Some(c) => c,
                None => {
                    let c = log.ids.len() as u32;
                    // parse_part let only UTF-8 ids through
                    log.ids.push(std::str::from_utf8(&id).unwrap_or_default());
                    index.insert(h, c);
                    c
                }
            })
            .collect();
        log.customer.extend(part.customer.iter().map(|&c| remap[c as usize]));
        log.day.extend(part.day);
        if let (Some(a), Some(p)) = (log.amount.as_mut(), part.amount) {
            a.extend(p);
        }
        let (x, p) = (&mut self.extras, part.extras);
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

    fn finish(mut self, mapping: Mapping) -> (TransactionLog, LogExtras, LogReport) {
        self.rejected.sort_by_key(|r| r.line);
        let read = self.log.len();
        (self.log, self.extras, LogReport { mapping, rows: self.rows, read, rejected: self.rejected })
    }
}

/// Customer ids to their index. Each entry holds a 32-bit hash of the id next to
/// the index, so the table grows without reading the ids again (reading 4.3M ids
/// in table order, a cache miss each, cost 2 s of a 7 s parse).
#[derive(Default)]
struct IdIndex(hashbrown::HashTable<u64>);

impl IdIndex {
    fn with_capacity(n: usize) -> Self {
        IdIndex(hashbrown::HashTable::with_capacity(n))
    }

    fn hash(id: &[u8]) -> u32 {
        use std::hash::{BuildHasher, BuildHasherDefault};
        let h = BuildHasherDefault::<rustc_hash::FxHasher>::default().hash_one(id);
        (h ^ (h >> 32)) as u32
    }

    /// hashbrown takes a bucket from the low bits and a tag from the top 7.
    fn spread(h: u32) -> u64 {
        (u64::from(h) << 32) | u64::from(h)
    }

    /// The index of the id with hash `h` for which `same` holds.
    fn find(&self, h: u32, same: impl Fn(u32) -> bool) -> Option<u32> {
        self.0.find(Self::spread(h), |&e| (e >> 32) as u32 == h && same(e as u32)).map(|&e| e as u32)
    }

    fn insert(&mut self, h: u32, c: u32) {
        self.0.insert_unique(Self::spread(h), (u64::from(h) << 32) | u64::from(c), |&e| Self::spread((e >> 32) as u32));
    }
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
    /// [`IdIndex::hash`] of each id.
    hashes: Vec<u32>,
    customer: Vec<u32>,
    day: Vec<i32>,
    amount: Option<Vec<f64>>,
    rows: usize,
    rejected: Vec<Reject>,
    extras: LogExtras,
    /// Bytes of the part read: all of it when complete, else up to the start of
    /// its last record.
    used: usize,
    /// Line number where reading stopped.
    next_line: u64,
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
    let mid = body.len() / 2;
    let Some(nl) = memchr::memchr(b'\n', &body[mid..]).map(|i| mid + i + 1) else {
        return vec![(body, first_line, complete)];
    };
    let lines_before = memchr::memchr_iter(b'\n', &body[..nl]).count() as u64;
    vec![(&body[..nl], first_line, true), (&body[nl..], first_line + lines_before, complete)]
}

fn parse_part<'a>(
    chunk: &'a [u8],
    delimiter: Delimiter,
    line0: u64,
    complete: bool,
    cols: &Cols,
    fmt: &DateFormat,
) -> Part<'a> {
    let mut part = Part {
        ids: Vec::new(),
        hashes: Vec::new(),
        customer: Vec::with_capacity(chunk.len() / 24),
        day: Vec::with_capacity(chunk.len() / 24),
        amount: cols.amount.map(|_| Vec::with_capacity(chunk.len() / 24)),
        rows: 0,
        rejected: Vec::new(),
        extras: cols.extras(),
        used: chunk.len(),
        next_line: line0,
    };
    // about one customer per few transactions is typical; growing is the fallback
    let mut index = IdIndex::with_capacity(chunk.len() / 64);
    let mut records = Records::new(chunk, delimiter, line0);
    let mut fields: Vec<Cow<'a, [u8]>> = Vec::new();
    loop {
        let start = chunk.len() - records.remaining();
        let Some(line) = records.next_into(&mut fields) else { break };
        if !complete && records.remaining() == 0 {
            // the block may have cut this record short: the next block reads it
            part.used = start;
            part.next_line = line;
            return part;
        }
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
        let h = IdIndex::hash(id);
        let c = match index.find(h, |c| part.ids[c as usize].as_ref() == id.as_ref()) {
            Some(c) => c,
            None => {
                if std::str::from_utf8(id).is_err() {
                    part.rejected.push(reject("customer id is not valid UTF-8".into()));
                    continue;
                }
                let c = part.ids.len() as u32;
                part.ids.push(std::mem::take(&mut fields[cols.customer]));
                part.hashes.push(h);
                index.insert(h, c);
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
    part.next_line = records.line();
    part
}
