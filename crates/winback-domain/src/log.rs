//! A transaction log held column-wise: compact (16 bytes a row) and fast to group.

/// Index of a customer in [`TransactionLog::ids`].
pub type CustomerIndex = u32;

/// External customer ids packed into one string: 16 bytes of overhead an id
/// instead of the 48 of a `String` and its heap block (4.3M ids: 240 MB → 70 MB).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CustomerIds {
    buf: String,
    /// Where each id ends in `buf`.
    ends: Vec<usize>,
}

impl CustomerIds {
    pub fn new() -> Self {
        Self::default()
    }

    /// Room for `ids` ids of `bytes` bytes in all, so that filling it does
    /// not copy (every copy lands in fresh pages, each a page fault).
    pub fn with_capacity(ids: usize, bytes: usize) -> Self {
        CustomerIds { buf: String::with_capacity(bytes), ends: Vec::with_capacity(ids) }
    }

    /// Ids from their bytes end to end and where each ends (one UTF-8 check
    /// for all of them); both given back unless the bytes are UTF-8 and the
    /// ends, in order, fall on character boundaries.
    #[allow(clippy::result_large_err)]
    pub fn from_parts(buf: Vec<u8>, ends: Vec<usize>) -> Result<Self, (Vec<u8>, Vec<usize>)> {
        let buf = match String::from_utf8(buf) {
            Ok(b) => b,
            Err(e) => return Err((e.into_bytes(), ends)),
        };
        let mut before = 0;
        for &end in &ends {
            if end < before || !buf.is_char_boundary(end) {
                return Err((buf.into_bytes(), ends));
            }
            before = end;
        }
        Ok(CustomerIds { buf, ends })
    }

    #[inline]
    pub fn push(&mut self, id: &str) {
        self.buf.push_str(id);
        self.ends.push(self.buf.len());
    }

    #[inline]
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Where id `i` lies in [`CustomerIds::as_str`], for gathering many ids in
    /// two passes (all spans, then all bytes) whose cache misses overlap.
    #[inline]
    pub fn span(&self, i: usize) -> std::ops::Range<usize> {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        start..self.ends[i]
    }

    /// Every id, end to end.
    #[inline]
    pub fn as_str(&self) -> &str {
        &self.buf
    }

    #[inline]
    pub fn get(&self, i: usize) -> Option<&str> {
        let start = if i == 0 { 0 } else { *self.ends.get(i - 1)? };
        self.buf.get(start..*self.ends.get(i)?)
    }

    pub fn iter(&self) -> impl ExactSizeIterator<Item = &str> + '_ {
        (0..self.len()).map(|i| &self[i])
    }

    pub fn shrink_to_fit(&mut self) {
        self.buf.shrink_to_fit();
        self.ends.shrink_to_fit();
    }
}

impl std::ops::Index<usize> for CustomerIds {
    type Output = str;
    #[inline]
    fn index(&self, i: usize) -> &str {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.buf[start..self.ends[i]]
    }
}

impl<S: AsRef<str>> FromIterator<S> for CustomerIds {
    fn from_iter<I: IntoIterator<Item = S>>(iter: I) -> Self {
        let mut ids = CustomerIds::new();
        for s in iter {
            ids.push(s.as_ref());
        }
        ids
    }
}

/// Purchases (and refunds, as negative amounts) of many customers.
#[derive(Debug, Clone, Default)]
pub struct TransactionLog {
    /// External customer ids, in order of first appearance.
    pub ids: CustomerIds,
    pub customer: Vec<CustomerIndex>,
    /// Day numbers ([`crate::period::day_number`]).
    pub day: Vec<i32>,
    /// Amounts, when the log has them (same length as `customer`).
    pub amount: Option<Vec<f64>>,
}

impl TransactionLog {
    pub fn len(&self) -> usize {
        self.customer.len()
    }

    pub fn is_empty(&self) -> bool {
        self.customer.is_empty()
    }

    pub fn customers(&self) -> usize {
        self.ids.len()
    }

    /// Each customer's rows: where the log already holds them together, in
    /// order of first appearance (an export sorted by customer), they are runs
    /// of the log found in one pass, with no list of rows made; else as
    /// [`TransactionLog::by_customer`] lists them.
    pub fn grouped(&self) -> CustomerRows {
        match runs(&self.customer, self.customers()) {
            Some(start) => CustomerRows { order: None, start },
            None => {
                let (order, start) = self.by_customer();
                CustomerRows { order: Some(order), start }
            }
        }
    }

    /// Row indices grouped by customer (a counting sort: O(rows)), as offsets into
    /// the returned order: customer c's rows are `order[start[c]..start[c + 1]]`.
    pub fn by_customer(&self) -> (Vec<u32>, Vec<u32>) {
        let n = self.ids.len();
        let mut start = vec![0u32; n + 1];
        for &c in &self.customer {
            start[c as usize + 1] += 1;
        }
        for i in 0..n {
            start[i + 1] += start[i];
        }
        let mut next = start.clone();
        let mut order = vec![0u32; self.customer.len()];
        for (row, &c) in self.customer.iter().enumerate() {
            let slot = &mut next[c as usize];
            order[*slot as usize] = row as u32;
            *slot += 1;
        }
        (order, start)
    }
}

/// The first row of each of `customers` customers and the log's length after,
/// when the column is runs of customers 0, 1, 2, … (each one run, none
/// missing); None as soon as it is not.
fn runs(customer: &[CustomerIndex], customers: usize) -> Option<Vec<u32>> {
    // the rows' starts of customers in `rows`, the row before holding `prev`
    let starts = |rows: std::ops::Range<usize>, prev: CustomerIndex, start: &mut Vec<u32>| {
        let mut prev = prev;
        for (row, &c) in rows.clone().zip(&customer[rows]) {
            if c != prev {
                if c != prev.wrapping_add(1) {
                    return false;
                }
                start.push(row as u32);
                prev = c;
            }
        }
        true
    };
    let mut start = Vec::with_capacity(customers + 1);
    let n = customer.len();
    if n < 1 << 20 {
        if !starts(0..n, CustomerIndex::MAX, &mut start) {
            return None;
        }
    } else {
        // on two threads for long logs, the second half going on from the
        // customer the first half ends with
        let mid = n / 2;
        let (first, second) = std::thread::scope(|s| {
            let second = s.spawn(|| {
                let mut later = Vec::with_capacity(customers / 2 + 1);
                starts(mid..n, customer[mid - 1], &mut later).then_some(later)
            });
            let first = starts(0..mid, CustomerIndex::MAX, &mut start);
            (first, second.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
        });
        match (first, second) {
            (true, Some(later)) => start.extend(later),
            _ => return None,
        }
    }
    if start.len() != customers {
        return None;
    }
    start.push(customer.len() as u32);
    Some(start)
}

/// The rows of each customer of a log ([`TransactionLog::grouped`]).
#[derive(Debug, Clone)]
pub struct CustomerRows {
    /// Row numbers by customer; None when each customer's rows are a run of the log.
    order: Option<Vec<u32>>,
    start: Vec<u32>,
}

impl CustomerRows {
    /// Customer `c`'s rows, in the log's order.
    #[inline]
    pub fn rows(&self, c: usize) -> RowsOf<'_> {
        let (lo, hi) = (self.start[c], self.start[c + 1]);
        match &self.order {
            Some(order) => RowsOf::Listed(order[lo as usize..hi as usize].iter()),
            None => RowsOf::Run(lo..hi),
        }
    }

    /// Whether the log held each customer's rows together (no row list was made).
    pub fn is_runs(&self) -> bool {
        self.order.is_none()
    }
}

/// Row numbers of one customer ([`CustomerRows::rows`]).
pub enum RowsOf<'a> {
    Listed(std::slice::Iter<'a, u32>),
    Run(std::ops::Range<u32>),
}

impl Iterator for RowsOf<'_> {
    type Item = usize;
    #[inline]
    fn next(&mut self) -> Option<usize> {
        match self {
            RowsOf::Listed(i) => i.next().map(|&r| r as usize),
            RowsOf::Run(r) => r.next().map(|r| r as usize),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match self {
            RowsOf::Listed(i) => i.size_hint(),
            RowsOf::Run(r) => r.size_hint(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::CustomerIds;

    #[test]
    fn rows_by_customer_as_runs_or_listed() {
        use super::TransactionLog;
        let log = |customer: Vec<u32>, n: usize| TransactionLog {
            ids: (0..n).map(|i| i.to_string()).collect(),
            day: vec![0; customer.len()],
            customer,
            amount: None,
        };
        let all = |l: &TransactionLog| {
            let g = l.grouped();
            let (order, start) = l.by_customer();
            for c in 0..l.customers() {
                let listed: Vec<usize> =
                    order[start[c] as usize..start[c + 1] as usize].iter().map(|&r| r as usize).collect();
                assert_eq!(g.rows(c).collect::<Vec<_>>(), listed, "customer {c}");
            }
            g.is_runs()
        };
        // runs: found without a list
        assert!(all(&log(vec![0, 0, 1, 2, 2, 2], 3)));
        assert!(all(&log(vec![], 0)));
        // not runs: listed, same rows
        assert!(!all(&log(vec![0, 1, 0, 2], 3)));
        assert!(!all(&log(vec![1, 1, 0], 2)));
        assert!(!all(&log(vec![0, 2, 2], 3)), "customer 1 has no rows");
        assert!(!all(&log(vec![0, 1], 3)), "customer 2 has no rows");
        // long logs are checked in two halves: a run across the middle, a
        // customer starting at it, a break in either half or at it
        let n = (1 << 20) + 7;
        let mid = n / 2;
        // runs of three rows, a new one starting at `cut`
        let runs = |cut: usize| {
            (0..n).map(|r| if r < cut { r / 3 } else { (cut - 1) / 3 + 1 + (r - cut) / 3 } as u32).collect::<Vec<u32>>()
        };
        for cut in [n, mid, mid + 1] {
            let c = runs(cut);
            let customers = *c.last().unwrap_or(&0) as usize + 1;
            assert!(all(&log(c, customers)), "cut at {cut}");
        }
        for at in [10, mid - 1, mid, mid + 1, n - 1] {
            let mut c = runs(n);
            let customers = c[n - 1] as usize + 1;
            c.swap(at, 0);
            assert!(!all(&log(c, customers)), "out of order at {at}");
        }
        let mut c = runs(n);
        // a customer of the first half back in the second
        c[mid + 2] = 5;
        assert!(!all(&log(c, (n - 1) / 3 + 1)));
    }

    #[test]
    fn ids_pack_and_index() {
        let ids: CustomerIds = ["a@x.com", "", "Zoë", "C42"].into_iter().collect();
        assert_eq!(ids.len(), 4);
        assert_eq!((&ids[0], &ids[1], &ids[2], &ids[3]), ("a@x.com", "", "Zoë", "C42"));
        assert_eq!(ids.get(3), Some("C42"));
        assert_eq!(ids.get(4), None);
        let parts = CustomerIds::from_parts(b"a@x.comZo\xc3\xabC42".to_vec(), vec![7, 7, 11, 14]).ok().unwrap();
        assert_eq!(parts.iter().collect::<Vec<_>>(), ["a@x.com", "", "Zoë", "C42"]);
        // not UTF-8; an end inside a character; ends out of order; past the end
        // (each given back as it came)
        assert_eq!(CustomerIds::from_parts(b"a\xff".to_vec(), vec![2]).err(), Some((b"a\xff".to_vec(), vec![2])));
        assert!(CustomerIds::from_parts("Zoë".as_bytes().to_vec(), vec![3, 4]).is_err());
        assert!(CustomerIds::from_parts(b"ab".to_vec(), vec![2, 1]).is_err());
        assert!(CustomerIds::from_parts(b"ab".to_vec(), vec![3]).is_err());
        assert_eq!(ids.iter().collect::<Vec<_>>(), ["a@x.com", "", "Zoë", "C42"]);
    }
}
