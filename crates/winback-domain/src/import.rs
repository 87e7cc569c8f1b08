//! Turning a parsed transaction file into rows for the store, each with a
//! dedupe key, so that importing the same file twice, or a newer export that
//! overlaps an older one, adds only what is new.
//!
//! The key of a row with a transaction id is the id. Without one it is the row's
//! content (customer, day, amount, cost, return flag, channel, store, product)
//! plus its occurrence number among identical rows of the file: two identical
//! lines in one export are two purchases, and the same lines in the next export
//! are recognised as already imported.

use rustc_hash::FxHashMap;

use crate::log::{CustomerIds, TransactionLog};

/// One transaction ready for the store: 56 bytes, so ten million fit in memory
/// next to the parsed file. Its optional texts live in the batch's arena
/// ([`ImportBatch::text`]), read with [`TxnRow::texts`].
#[derive(Debug, Clone, PartialEq)]
pub struct TxnRow {
    pub key: [u8; 16],
    amount: f64,
    cost: f64,
    /// Where the row's texts start in the arena; `NO_TEXT` for none (most rows).
    text: u64,
    pub line: u32,
    /// Index into [`ImportBatch::customers`].
    pub customer: u32,
    pub day: i32,
    /// A return or refund: negative amount or a return flag. Kept, but not a purchase.
    pub is_return: bool,
}

const NO_TEXT: u64 = u64::MAX;

/// A row's optional texts, as read from the arena.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct TxnTexts<'a> {
    pub txn_id: Option<&'a str>,
    pub channel: Option<&'a str>,
    pub store: Option<&'a str>,
    pub product: Option<&'a str>,
}

/// Append a row's texts to the arena: a byte with one bit per present field,
/// then each present field as a LEB128 length and its bytes. An order id costs
/// its length plus two bytes instead of two heap blocks (on ten million ids,
/// about 1 GB).
fn put_texts(arena: &mut Vec<u8>, t: [Option<&str>; 4]) -> u64 {
    if t.iter().all(Option::is_none) {
        return NO_TEXT;
    }
    let at = arena.len() as u64;
    arena.push(t.iter().enumerate().fold(0u8, |m, (k, f)| if f.is_some() { m | 1 << k } else { m }));
    for f in t.into_iter().flatten() {
        let mut n = f.len();
        loop {
            let b = (n & 0x7f) as u8;
            n >>= 7;
            if n == 0 {
                arena.push(b);
                break;
            }
            arena.push(b | 0x80);
        }
        arena.extend_from_slice(f.as_bytes());
    }
    at
}

impl TxnRow {
    pub fn amount(&self) -> Option<f64> {
        (!self.amount.is_nan()).then_some(self.amount)
    }
    pub fn cost(&self) -> Option<f64> {
        (!self.cost.is_nan()).then_some(self.cost)
    }
    /// The row's texts from the batch's arena.
    pub fn texts<'a>(&self, arena: &'a [u8]) -> TxnTexts<'a> {
        let mut out = [None; 4];
        let Some(rest) = usize::try_from(self.text).ok().and_then(|at| arena.get(at..)) else {
            return TxnTexts::default();
        };
        let Some((&mask, mut rest)) = rest.split_first() else { return TxnTexts::default() };
        for (k, slot) in out.iter_mut().enumerate() {
            if mask & 1 << k == 0 {
                continue;
            }
            let (mut n, mut shift) = (0usize, 0);
            while let Some((&b, r)) = rest.split_first() {
                rest = r;
                n |= usize::from(b & 0x7f) << shift;
                shift += 7;
                if b & 0x80 == 0 {
                    break;
                }
            }
            let Some((field, r)) = rest.split_at_checked(n) else { break };
            *slot = std::str::from_utf8(field).ok();
            rest = r;
        }
        let [txn_id, channel, store, product] = out;
        TxnTexts { txn_id, channel, store, product }
    }
}

/// A row skipped before it reaches the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Duplicate {
    pub line: u64,
    pub reason: String,
}

#[derive(Debug, Clone, Default)]
pub struct ImportBatch {
    pub customers: CustomerIds,
    /// In key order.
    pub rows: Vec<TxnRow>,
    /// The rows' optional texts (see [`TxnRow::texts`]).
    pub text: Vec<u8>,
    /// Rows repeating a transaction id seen earlier in the same file.
    pub duplicates: Vec<Duplicate>,
    /// Lines added to an earlier line of their transaction id: line items of
    /// one order.
    pub folded: Vec<u64>,
}

/// A column of optional texts, one per row of the log.
pub trait TextSource {
    /// Row `i`'s text; None when empty or absent.
    fn get(&self, i: usize) -> Option<&str>;
    /// Keep only the first `rows` rows, giving the memory of the rest back
    /// (the batch is built from the last row to the first).
    fn truncate(&mut self, _rows: usize) {}
}

impl<S: AsRef<str>> TextSource for Vec<S> {
    fn get(&self, i: usize) -> Option<&str> {
        self.as_slice().get(i).map(AsRef::as_ref).filter(|s| !s.is_empty())
    }
}

/// Optional per-row values, aligned with the log (see `winback_ingest`).
pub struct RowExtras<'a> {
    /// Line number of each row (saturating at u32::MAX).
    pub lines: &'a [u32],
    pub txn_id: Option<&'a mut dyn TextSource>,
    pub cost: Option<&'a [f64]>,
    pub returned: Option<&'a [bool]>,
    pub channel: Option<&'a mut dyn TextSource>,
    pub store: Option<&'a mut dyn TextSource>,
    pub product: Option<&'a mut dyn TextSource>,
}

/// 128-bit FNV-1a: stable across versions and platforms (keys live in the store).
struct Fnv128(u128);

impl Fnv128 {
    const OFFSET: u128 = 0x6c62272e07bb014262b821756295c58d;
    const PRIME: u128 = 0x0000000001000000000000000000013B;

    fn new() -> Self {
        Fnv128(Self::OFFSET)
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u128::from(b);
            self.0 = self.0.wrapping_mul(Self::PRIME);
        }
        // field separator, so ("ab","c") and ("a","bc") differ
        self.0 ^= 0xff;
        self.0 = self.0.wrapping_mul(Self::PRIME);
    }

    fn finish(&self) -> [u8; 16] {
        self.0.to_be_bytes()
    }
}

/// Build the batch: rows with keys, and in-file duplicate transaction ids.
///
/// Rows are built from the last to the first while the log's columns are cut
/// back behind them, so the log and the rows are not both held in full: on ten
/// million rows this keeps about 200 MB off the peak. The rows are then sorted
/// by key, which also brings repeated transaction ids together (their keys are
/// the id's): each repeat is a duplicate of its first appearance in the file.
pub fn build_batch(mut log: TransactionLog, x: &mut RowExtras) -> ImportBatch {
    let n = log.len();
    let mut batch = ImportBatch {
        customers: CustomerIds::new(),
        rows: Vec::with_capacity(n),
        duplicates: Vec::new(),
        folded: Vec::new(),
        text: Vec::new(),
    };
    let mut occurrence = occurrences(&log, x);
    const GIVE_BACK: usize = 1 << 20;
    for i in (0..n).rev() {
        if i % GIVE_BACK == 0 && i > 0 {
            // glibc hands large blocks back with mremap when they shrink
            log.customer.truncate(i + 1);
            log.customer.shrink_to_fit();
            log.day.truncate(i + 1);
            log.day.shrink_to_fit();
            if let Some(a) = log.amount.as_mut() {
                a.truncate(i + 1);
                a.shrink_to_fit();
            }
            occurrence.truncate(i + 1);
            occurrence.shrink_to_fit();
            for f in [&mut x.txn_id, &mut x.channel, &mut x.store, &mut x.product].into_iter().flatten() {
                f.truncate(i + 1);
            }
        }
        let line = x.lines.get(i).copied().unwrap_or(0);
        let amount = log.amount.as_ref().map(|a| a[i]);
        let cost = x.cost.map(|c| c[i]).filter(|c| !c.is_nan());
        let flagged = x.returned.is_some_and(|r| r[i]);
        let txn_id = x.txn_id.as_deref().and_then(|f| f.get(i));
        let channel = x.channel.as_deref().and_then(|f| f.get(i));
        let store = x.store.as_deref().and_then(|f| f.get(i));
        let product = x.product.as_deref().and_then(|f| f.get(i));
        let customer = log.customer[i];
        let key = match txn_id {
            Some(id) => {
                let mut h = Fnv128::new();
                h.write(b"id");
                h.write(id.as_bytes());
                h.finish()
            }
            None => {
                let mut h = Fnv128::new();
                h.write(b"row");
                h.write(log.ids[customer as usize].as_bytes());
                h.write(&log.day[i].to_le_bytes());
                h.write(&amount.unwrap_or(f64::NAN).to_bits().to_le_bytes());
                h.write(&cost.unwrap_or(f64::NAN).to_bits().to_le_bytes());
                h.write(&[u8::from(flagged)]);
                for s in [channel, store, product] {
                    h.write(s.unwrap_or("\u{0}").as_bytes());
                }
                h.write(&occurrence[i].to_le_bytes());
                h.finish()
            }
        };
        let text = put_texts(&mut batch.text, [txn_id, channel, store, product]);
        batch.rows.push(TxnRow {
            key,
            amount: amount.unwrap_or(f64::NAN),
            cost: cost.unwrap_or(f64::NAN),
            text,
            line,
            customer,
            day: log.day[i],
            is_return: flagged || amount.is_some_and(|a| a < 0.0),
        });
    }
    drop(occurrence);
    batch.customers = std::mem::take(&mut log.ids);
    drop(log);
    batch.text.shrink_to_fit();
    // Key order: stores fill their unique key index front to back, reading the
    // rows in memory order (sorting an index vector instead made every row a
    // cache miss).
    batch.rows.sort_unstable_by_key(|r| (r.key, r.line));
    if x.txn_id.is_some() {
        fold_repeated_ids(&mut batch);
    }
    batch
}

/// Rows sharing a key share a transaction id (keys without an id are distinct
/// by their occurrence number); `rows` is sorted by (key, line). An order is
/// the id's lines of one customer on one day: lines of the id for another
/// customer or day are not that order (a column of placeholder ids, `0` or
/// `N/A`, must not make a shop's history one order) and make orders of their
/// own, keyed by id, customer and day. Within an order, a line repeating an
/// earlier one field for field (pasted twice, exports that overlap) is a
/// duplicate; any other is a line item, whose amount and cost are added to the
/// order's first line; a refund line becomes the order's refund row, and its
/// later refund lines are added to it.
fn fold_repeated_ids(batch: &mut ImportBatch) {
    let n = batch.rows.len();
    let mut keep = vec![true; n];
    let mut rekeyed = false;
    let mut a = 0;
    while a < n {
        let mut b = a + 1;
        while b < n && batch.rows[b].key == batch.rows[a].key {
            b += 1;
        }
        if b - a > 1 {
            rekeyed |= fold_group(batch, a, b, &mut keep);
        }
        a = b;
    }
    if keep.iter().all(|k| *k) && !rekeyed {
        return;
    }
    let mut k = keep.iter();
    batch.rows.retain(|_| k.next().copied().unwrap_or(true));
    if rekeyed {
        batch.rows.sort_unstable_by_key(|r| (r.key, r.line));
    }
    batch.duplicates.sort_by_key(|d| d.line);
    batch.folded.sort_unstable();
}

/// One id's rows `a..b` (see [`fold_repeated_ids`]); whether a row was given a
/// new key.
fn fold_group(batch: &mut ImportBatch, a: usize, b: usize, keep: &mut [bool]) -> bool {
    let ImportBatch { customers, rows, text, duplicates, folded } = batch;
    // (the rows as read, before any sum is added to them)
    let read: Vec<TxnRow> = rows[a..b].to_vec();
    let id = read[0].texts(text).txn_id.unwrap_or_default();
    let key = |parts: &[&[u8]]| {
        let mut h = Fnv128::new();
        h.write(b"id");
        for p in parts {
            h.write(p);
        }
        h.finish()
    };
    // the id's orders, by customer and day, in the order of their first lines
    let mut orders: Vec<Vec<usize>> = Vec::new();
    let mut order_of: rustc_hash::FxHashMap<(u32, i32), usize> = rustc_hash::FxHashMap::default();
    for (k, r) in read.iter().enumerate() {
        let o = *order_of.entry((r.customer, r.day)).or_insert_with(|| {
            orders.push(Vec::new());
            orders.len() - 1
        });
        orders[o].push(k);
    }
    let mut rekeyed = false;
    let mut sums: Vec<(usize, f64, f64)> = Vec::new();
    for (o, ks) in orders.iter().enumerate() {
        let head = ks[0];
        let (who, day) =
            (customers.get(read[head].customer as usize).unwrap_or_default(), read[head].day.to_le_bytes());
        // the first order keeps the id's own key; the others are the id's on
        // their customer and day
        let order_key = |suffix: &str| {
            if o == 0 {
                key(&[format!("{id}{suffix}").as_bytes()])
            } else {
                key(&[format!("{id}{suffix}").as_bytes(), who.as_bytes(), &day])
            }
        };
        if o > 0 {
            rows[a + head].key = order_key("");
            rekeyed = true;
        }
        let mut seen: rustc_hash::FxHashMap<(u64, u64, bool, TxnTexts), u32> = rustc_hash::FxHashMap::default();
        let mut refund: Option<usize> = None;
        for (n, &k) in ks.iter().enumerate() {
            let r = &read[k];
            let content = (r.amount.to_bits(), r.cost.to_bits(), r.is_return, r.texts(text));
            if let Some(&first) = seen.get(&content) {
                keep[a + k] = false;
                duplicates.push(Duplicate {
                    line: u64::from(r.line),
                    reason: format!("same transaction id '{id}' as line {first}"),
                });
                continue;
            }
            seen.insert(content, r.line);
            if n == 0 {
                continue;
            }
            keep[a + k] = false;
            if r.is_return == read[head].is_return {
                folded.push(u64::from(r.line));
                sums.push((a + head, r.amount, r.cost));
            } else if let Some(f) = refund {
                folded.push(u64::from(r.line));
                sums.push((f, r.amount, r.cost));
            } else {
                // the order's refund: a row of its own, keyed apart from the sale
                keep[a + k] = true;
                refund = Some(a + k);
                rows[a + k].key = order_key("/refund");
                rekeyed = true;
            }
        }
    }
    let add = |x: f64, y: f64| {
        if y.is_nan() {
            x
        } else if x.is_nan() {
            y
        } else {
            x + y
        }
    };
    for (to, amount, cost) in sums {
        let row = &mut rows[to];
        row.amount = add(row.amount, amount);
        row.cost = add(row.cost, cost);
    }
    rekeyed
}

/// For each row, its number (1, 2, …) among identical rows of the file. Identical
/// rows share a customer, so they are found within each customer's rows (a
/// counting sort away) without a hash map over the whole file.
fn occurrences(log: &TransactionLog, x: &RowExtras) -> Vec<u32> {
    let (order, start) = log.by_customer();
    let mut occ = vec![1u32; log.len()];
    let amount = |i: usize| log.amount.as_ref().map_or(0, |a| a[i].to_bits());
    let cost = |i: usize| x.cost.map_or(0, |c| c[i].to_bits());
    let flag = |i: usize| x.returned.is_some_and(|r| r[i]);
    fn text<'a>(f: &'a Option<&mut dyn TextSource>, i: usize) -> Option<&'a str> {
        f.as_deref().and_then(|f| f.get(i))
    }
    let same = |i: usize, j: usize| {
        log.day[i] == log.day[j]
            && amount(i) == amount(j)
            && cost(i) == cost(j)
            && flag(i) == flag(j)
            && [&x.channel, &x.store, &x.product].iter().all(|f| text(f, i) == text(f, j))
    };
    for c in 0..log.customers() {
        let rows = &order[start[c] as usize..start[c + 1] as usize];
        if rows.len() > 256 {
            // a very active customer: group by a content hash instead of pairwise
            let mut seen: FxHashMap<(i32, u64, u64, bool), Vec<usize>> = FxHashMap::default();
            for &r in rows {
                let r = r as usize;
                let earlier = seen.entry((log.day[r], amount(r), cost(r), flag(r))).or_default();
                occ[r] += earlier.iter().filter(|&&e| same(e, r)).count() as u32;
                earlier.push(r);
            }
        } else {
            for (k, &r) in rows.iter().enumerate() {
                let r = r as usize;
                occ[r] += rows[..k].iter().filter(|&&e| same(e as usize, r)).count() as u32;
            }
        }
    }
    occ
}

/// A stable 128-bit key of several fields (for rows without an id of their own).
pub fn stable_key(parts: &[&[u8]]) -> [u8; 16] {
    let mut h = Fnv128::new();
    for p in parts {
        h.write(p);
    }
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log(rows: &[(u32, i32, f64)]) -> TransactionLog {
        TransactionLog {
            ids: ["a", "b"].into_iter().collect(),
            customer: rows.iter().map(|r| r.0).collect(),
            day: rows.iter().map(|r| r.1).collect(),
            amount: Some(rows.iter().map(|r| r.2).collect()),
        }
    }

    #[test]
    fn texts_round_trip_through_the_arena() {
        let mut arena = Vec::new();
        let long = "p".repeat(300); // a length of two LEB128 bytes
        let cases: [[Option<&str>; 4]; 4] = [
            [Some("O-1"), None, None, None],
            [None, Some("web"), Some("Zürich"), Some(&long)],
            [None, None, None, None],
            [Some(""), Some("x"), None, Some("y")],
        ];
        let rows: Vec<TxnRow> = cases
            .iter()
            .map(|t| TxnRow {
                key: [0; 16],
                amount: 1.0,
                cost: f64::NAN,
                text: put_texts(&mut arena, *t),
                line: 2,
                customer: 0,
                day: 0,
                is_return: false,
            })
            .collect();
        for (r, t) in rows.iter().zip(cases) {
            let got = r.texts(&arena);
            assert_eq!([got.txn_id, got.channel, got.store, got.product], t);
        }
        assert_eq!(rows[2].text, NO_TEXT);
    }

    #[test]
    fn identical_rows_get_distinct_keys_and_ids_dedupe() {
        let l = log(&[(0, 10, 5.0), (0, 10, 5.0), (1, 10, -5.0)]);
        let lines = [2, 3, 4];
        let mut x = RowExtras {
            lines: &lines,
            txn_id: None,
            cost: None,
            returned: None,
            channel: None,
            store: None,
            product: None,
        };
        let b = build_batch(l.clone(), &mut x);
        assert_eq!(b.rows.len(), 3);
        assert!(b.rows.windows(2).all(|w| w[0].key < w[1].key), "in key order, keys distinct");
        let line = |l: u32| b.rows.iter().find(|r| r.line == l).unwrap();
        assert!(line(4).is_return && !line(2).is_return && !line(3).is_return);
        // the same file again gives the same keys
        let again = build_batch(l.clone(), &mut x);
        assert!(again.rows.iter().zip(&b.rows).all(|(a, b)| a.key == b.key && a.line == b.line));

        let mut ids = vec!["T1", "T2", "T1"];
        let mut x = RowExtras { txn_id: Some(&mut ids), ..x };
        let b = build_batch(l.clone(), &mut x);
        // T1 again for another customer is an order of its own
        assert_eq!(b.rows.len(), 3);
        assert!(b.duplicates.is_empty());
    }

    /// An order exported one line per item keeps its whole value; a line
    /// pasted twice is a duplicate; a refund line is the order's refund row.
    #[test]
    fn line_items_of_an_order_fold_and_repeats_are_duplicates() {
        // lines 2–8: order O1 of a (items 5 and 7, item 5 again verbatim, a
        // refund of 3 and another of 1), order O2 of a, and O1 again for b
        let l =
            log(&[(0, 10, 5.0), (0, 10, 7.0), (0, 10, 5.0), (0, 12, -3.0), (0, 12, -1.0), (0, 11, 4.0), (1, 10, 9.0)]);
        let lines = [2, 3, 4, 5, 6, 7, 8];
        let mut ids = vec!["O1", "O1", "O1", "O1", "O1", "O2", "O1"];
        let cost = [1.0, f64::NAN, 1.0, f64::NAN, f64::NAN, 0.5, 2.0];
        let mut x = RowExtras {
            lines: &lines,
            txn_id: Some(&mut ids),
            cost: Some(&cost),
            returned: None,
            channel: None,
            store: None,
            product: None,
        };
        let b = build_batch(l.clone(), &mut x);
        let by_line = |n: u32| b.rows.iter().find(|r| r.line == n);
        let sale = by_line(2).unwrap();
        assert_eq!((sale.amount, sale.cost, sale.is_return), (12.0, 1.0, false));
        let refund = by_line(5).unwrap();
        assert_eq!((refund.amount, refund.is_return, refund.day), (-4.0, true, 12));
        assert_eq!(by_line(7).unwrap().amount, 4.0);
        // O1 of another customer is not a's order: an order of its own
        assert_eq!((by_line(8).unwrap().amount, by_line(8).unwrap().customer), (9.0, 1));
        assert_eq!(b.rows.len(), 4);
        assert!(b.rows.windows(2).all(|w| w[0].key < w[1].key), "in key order, keys distinct");
        assert_eq!(b.folded, [3, 6]);
        assert_eq!(
            b.duplicates.iter().map(|d| (d.line, d.reason.as_str())).collect::<Vec<_>>(),
            [(4, "same transaction id 'O1' as line 2")]
        );
        // the same file again: the same keys, so a store finds every row already there
        let again = build_batch(l, &mut x);
        assert!(again.rows.iter().zip(&b.rows).all(|(a, b)| a.key == b.key && a.amount == b.amount));
    }

    /// A column of placeholder ids (`0` on every line) does not make a shop's
    /// history one order: each customer's day is an order of its own.
    #[test]
    fn a_placeholder_id_is_not_one_order() {
        let l = log(&[(0, 10, 5.0), (1, 10, 7.0), (0, 11, 2.0), (0, 11, 3.0), (1, 12, 1.0)]);
        let lines = [2, 3, 4, 5, 6];
        let mut ids = vec!["0"; 5];
        let mut x = RowExtras {
            lines: &lines,
            txn_id: Some(&mut ids),
            cost: None,
            returned: None,
            channel: None,
            store: None,
            product: None,
        };
        let b = build_batch(l, &mut x);
        let mut got: Vec<(u32, i32, f64)> = b.rows.iter().map(|r| (r.customer, r.day, r.amount)).collect();
        got.sort_by(|x, y| x.partial_cmp(y).unwrap());
        assert_eq!(got, [(0, 10, 5.0), (0, 11, 5.0), (1, 10, 7.0), (1, 12, 1.0)]);
        assert!(b.duplicates.is_empty());
        assert_eq!(b.folded, [5]);
    }
}
