//! Transaction log → per-customer purchase summary, with the definitions of the
//! literature (Fader, Hardie & Lee 2005, "Counting your customers the easy way",
//! §2; lifetimes' `summary_data_from_transaction_data`):
//!
//! * `frequency` x: periods with a purchase, after the first one (several purchases
//!   in one period count once; the first purchase is not a repeat);
//! * `recency` t_x: time from the first to the last purchase;
//! * `T`: time from the first purchase to the end of observation;
//! * `monetary_value`: mean of the per-period totals of the repeat periods.
//!
//! Refunds (negative amounts) are not purchases and are left out of all four.

use chrono::NaiveDate;
use serde::Serialize;

use crate::log::{CustomerIndex, CustomerRows, TransactionLog};
use crate::period::{day_number, Period};

/// How to summarise a log.
#[derive(Debug, Clone, Copy)]
pub struct SummaryOptions {
    /// Purchases within one period count once.
    pub period: Period,
    /// Unit of recency and T (default: the period). CDNOW's published summary
    /// counts repeat *days* and measures time in *weeks*.
    pub time_unit: Option<Period>,
    /// Last day observed (inclusive); later transactions are ignored and counted.
    pub observation_end: NaiveDate,
    /// Last day of the calibration period: later purchases (up to the observation
    /// end) become the holdout, and customers first seen after it are left out.
    pub calibration_end: Option<NaiveDate>,
}

/// One customer's summary: 64 bytes, aligned to a cache line (a million of
/// them are written, read in passes and gathered in rank order; at 72 bytes
/// most straddled two lines).
#[derive(Debug, Clone, Copy, PartialEq)]
#[repr(align(64))]
pub struct CustomerSummary {
    pub customer: CustomerIndex,
    pub frequency: u32,
    pub recency: f64,
    pub t: f64,
    /// Mean value of the repeat periods (0 when there are none or no amounts).
    pub monetary_value: f64,
    /// Total spend in the calibration period, first purchase included.
    pub total_value: f64,
    /// Day numbers of the first and last purchase, both unknown for summaries
    /// read from a file (one `Option` for the two: 4 bytes less than two).
    pub days: Option<(i32, i32)>,
    /// Repeat periods and their mean value after the calibration end.
    pub holdout_frequency: u32,
    pub holdout_monetary_value: f64,
}

const _: () = assert!(std::mem::size_of::<CustomerSummary>() == 64);

impl CustomerSummary {
    /// Day number of the first purchase.
    pub fn first_day(&self) -> Option<i32> {
        self.days.map(|d| d.0)
    }

    /// Day number of the last purchase in the calibration period.
    pub fn last_day(&self) -> Option<i32> {
        self.days.map(|d| d.1)
    }
}

/// Serialised as it always was: `T`, and the two days apart.
impl Serialize for CustomerSummary {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut o = s.serialize_struct("CustomerSummary", 10)?;
        o.serialize_field("customer", &self.customer)?;
        o.serialize_field("frequency", &self.frequency)?;
        o.serialize_field("recency", &self.recency)?;
        o.serialize_field("T", &self.t)?;
        o.serialize_field("monetary_value", &self.monetary_value)?;
        o.serialize_field("total_value", &self.total_value)?;
        o.serialize_field("first_day", &self.first_day())?;
        o.serialize_field("last_day", &self.last_day())?;
        o.serialize_field("holdout_frequency", &self.holdout_frequency)?;
        o.serialize_field("holdout_monetary_value", &self.holdout_monetary_value)?;
        o.end()
    }
}

/// What the summary did with every transaction.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct SummaryCounts {
    pub transactions: usize,
    /// Used in the calibration summary.
    pub calibration: usize,
    /// After the calibration end, up to the observation end.
    pub holdout: usize,
    pub after_observation_end: usize,
    pub refunds: usize,
    /// Customers whose first purchase is after the calibration end (or who only
    /// have refunds or late transactions).
    pub customers_left_out: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub customers: Vec<CustomerSummary>,
    pub counts: SummaryCounts,
    /// Length of the holdout period in time units (0 without a calibration end).
    pub holdout_length: f64,
    pub time_unit: Period,
    pub period: Period,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SummaryError {
    #[error("the calibration end {calibration} is after the observation end {observation}")]
    CalibrationAfterEnd { calibration: NaiveDate, observation: NaiveDate },
    #[error("no customer has a purchase on or before {0}: check --observation-end (and --calibration-end) against the dates in the file")]
    Empty(NaiveDate),
}

/// Summarise `log`. Customers are grouped with a counting sort and summarised in
/// parallel, so ten million rows take well under a second.
pub fn summarise(log: &TransactionLog, opts: &SummaryOptions) -> Result<Summary, SummaryError> {
    let summariser = Summariser::new(log, opts)?;
    // Every customer's slot is written in place by the thread that summarises
    // it (no per-thread vectors to join: fresh memory costs a page fault per
    // 4 KiB, microseconds each on a VM); customers left out are marked and
    // dropped in place after.
    let (mut customers, states) = winback_stats::parallel::map_rows_with(
        summariser.len(),
        || (Vec::new(), SummaryCounts::default()),
        |(rows, counts), c| summariser.customer(c, rows, counts).unwrap_or(LEFT_OUT),
    );
    let mut counts = summariser.counts();
    for (_, k) in &states {
        counts.add(k);
    }
    // (a pass over every summary, 64 MB for a million customers: only when
    // someone was left out)
    if counts.customers_left_out > 0 {
        customers.retain(|c| !c.t.is_nan());
    }
    if customers.is_empty() {
        return Err(summariser.empty());
    }
    Ok(Summary {
        customers,
        counts,
        holdout_length: summariser.holdout_length(),
        time_unit: summariser.time_unit,
        period: opts.period,
    })
}

/// The summary one customer at a time, for callers that stream summaries out
/// instead of holding them all ([`summarise`] is built on it; `winback summary
/// -f csv` writes each row as it is made, sparing a vector of 64 bytes a
/// customer that would be written once and read once).
pub struct Summariser<'a> {
    ctx: Ctx<'a>,
    opts: SummaryOptions,
    time_unit: Period,
}

impl<'a> Summariser<'a> {
    pub fn new(log: &'a TransactionLog, opts: &SummaryOptions) -> Result<Self, SummaryError> {
        let obs_end = day_number(opts.observation_end);
        let cal_end = match opts.calibration_end {
            Some(c) if c > opts.observation_end => {
                return Err(SummaryError::CalibrationAfterEnd { calibration: c, observation: opts.observation_end })
            }
            Some(c) => day_number(c),
            None => obs_end,
        };
        let unit = opts.time_unit.unwrap_or(opts.period);
        let scale = opts.period.days() / unit.days();
        let rows = log.grouped();
        let ctx = Ctx { log, rows, period: opts.period, obs_end, cal_end, scale };
        Ok(Summariser { ctx, opts: *opts, time_unit: unit })
    }

    /// Customers in the log: [`Summariser::customer`] takes 0 to len − 1.
    pub fn len(&self) -> usize {
        self.ctx.log.customers()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Customer `c`'s summary (the log's customer number), None when they are
    /// left out; what happened to their transactions is added to `counts`.
    /// `scratch` is reused from call to call.
    pub fn customer(
        &self,
        c: usize,
        scratch: &mut Vec<(i32, f64)>,
        counts: &mut SummaryCounts,
    ) -> Option<CustomerSummary> {
        self.ctx.customer(c, scratch, counts)
    }

    /// The counts that do not come from customers, to which theirs are added.
    pub fn counts(&self) -> SummaryCounts {
        SummaryCounts { transactions: self.ctx.log.len(), ..Default::default() }
    }

    /// Length of the holdout period in time units (0 without a calibration end).
    pub fn holdout_length(&self) -> f64 {
        let p = self.ctx.period;
        f64::from(p.index(self.ctx.obs_end) - p.index(self.ctx.cal_end)) * self.ctx.scale
    }

    pub fn time_unit(&self) -> Period {
        self.time_unit
    }

    /// The error for a log in which every customer was left out.
    pub fn empty(&self) -> SummaryError {
        SummaryError::Empty(self.opts.calibration_end.unwrap_or(self.opts.observation_end))
    }
}

impl SummaryCounts {
    /// Add another part's counts of customers' transactions.
    pub fn add(&mut self, k: &SummaryCounts) {
        self.calibration += k.calibration;
        self.holdout += k.holdout;
        self.after_observation_end += k.after_observation_end;
        self.refunds += k.refunds;
        self.customers_left_out += k.customers_left_out;
    }
}

/// A customer left out of the summary, in [`summarise`]'s slots until they
/// are dropped: no summary has a T that is not a number.
const LEFT_OUT: CustomerSummary = CustomerSummary {
    customer: 0,
    frequency: 0,
    recency: 0.0,
    t: f64::NAN,
    monetary_value: 0.0,
    total_value: 0.0,
    days: None,
    holdout_frequency: 0,
    holdout_monetary_value: 0.0,
};

struct Ctx<'a> {
    log: &'a TransactionLog,
    rows: CustomerRows,
    period: Period,
    obs_end: i32,
    cal_end: i32,
    scale: f64,
}

impl CustomerSummary {
    /// A summary known only by its numbers (read from a file). The total value is
    /// estimated as the repeat-purchase mean times all purchases.
    pub fn from_rfm(customer: CustomerIndex, frequency: u32, recency: f64, t: f64, monetary_value: f64) -> Self {
        CustomerSummary {
            customer,
            frequency,
            recency,
            t,
            monetary_value,
            total_value: monetary_value * f64::from(frequency + 1),
            days: None,
            holdout_frequency: 0,
            holdout_monetary_value: 0.0,
        }
    }
}

impl Ctx<'_> {
    /// Customer `c`'s summary, `rows` a scratch buffer, the fate of each of
    /// their transactions added to `counts`.
    fn customer(&self, c: usize, rows: &mut Vec<(i32, f64)>, counts: &mut SummaryCounts) -> Option<CustomerSummary> {
        rows.clear();
        for r in self.rows.rows(c) {
            let day = self.log.day[r];
            let amount = self.log.amount.as_ref().map_or(0.0, |a| a[r]);
            if day > self.obs_end {
                counts.after_observation_end += 1;
            } else if amount < 0.0 {
                counts.refunds += 1;
            } else {
                rows.push((self.period.index(day), amount));
                if day <= self.cal_end {
                    counts.calibration += 1;
                } else {
                    counts.holdout += 1;
                }
            }
        }
        let s = self.one(c as CustomerIndex, rows);
        if s.is_none() {
            counts.customers_left_out += 1;
        }
        s
    }

    /// Summary of one customer from (period index, amount) rows.
    fn one(&self, customer: CustomerIndex, rows: &mut [(i32, f64)]) -> Option<CustomerSummary> {
        rows.sort_unstable_by_key(|r| r.0);
        let cal_period = self.period.index(self.cal_end);
        let &(first, _) = rows.first()?;
        if first > cal_period {
            return None;
        }
        let first_day = first;
        let mut s = CustomerSummary { customer, t: 0.0, ..LEFT_OUT };
        let (mut repeat_total, mut holdout_total) = (0.0, 0.0);
        let mut last_cal = first;
        let mut i = 0;
        while i < rows.len() {
            let p = rows[i].0;
            let mut total = 0.0;
            while i < rows.len() && rows[i].0 == p {
                total += rows[i].1;
                i += 1;
            }
            if p <= cal_period {
                s.total_value += total;
                last_cal = p;
                if p != first {
                    s.frequency += 1;
                    repeat_total += total;
                }
            } else {
                s.holdout_frequency += 1;
                holdout_total += total;
            }
        }
        s.recency = f64::from(last_cal - first) * self.scale;
        s.t = f64::from(cal_period - first) * self.scale;
        if s.frequency > 0 {
            s.monetary_value = repeat_total / f64::from(s.frequency);
        }
        if s.holdout_frequency > 0 {
            s.holdout_monetary_value = holdout_total / f64::from(s.holdout_frequency);
        }
        // Report real days (period starts for weekly summaries).
        s.days = Some((self.period_start(first_day), self.period_start(last_cal)));
        Some(s)
    }

    fn period_start(&self, index: i32) -> i32 {
        match self.period {
            Period::Day => index,
            Period::Week => index * 7 - 3,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, dd: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, dd).unwrap()
    }

    fn log(rows: &[(u32, NaiveDate, f64)]) -> TransactionLog {
        let n = rows.iter().map(|r| r.0).max().unwrap() + 1;
        TransactionLog {
            ids: (0..n).map(|i| format!("c{i}")).collect(),
            customer: rows.iter().map(|r| r.0).collect(),
            day: rows.iter().map(|r| day_number(r.1)).collect(),
            amount: Some(rows.iter().map(|r| r.2).collect()),
        }
    }

    #[test]
    fn same_day_purchases_count_once_and_first_is_not_a_repeat() {
        let l = log(&[
            (0, d(2020, 1, 1), 10.0),
            (0, d(2020, 1, 1), 5.0),
            (0, d(2020, 1, 11), 20.0),
            (0, d(2020, 1, 11), 20.0),
            (0, d(2020, 1, 21), 10.0),
            (0, d(2020, 1, 25), -10.0),
            (0, d(2020, 2, 15), 99.0),
            (1, d(2020, 1, 31), 7.0),
        ]);
        let opts = SummaryOptions {
            period: Period::Day,
            time_unit: None,
            observation_end: d(2020, 1, 31),
            calibration_end: None,
        };
        let s = summarise(&l, &opts).unwrap();
        let c = s.customers[0];
        assert_eq!((c.frequency, c.recency, c.t), (2, 20.0, 30.0));
        assert_eq!(c.monetary_value, 25.0);
        assert_eq!(c.total_value, 65.0);
        assert_eq!(s.customers[1].frequency, 0);
        assert_eq!(s.customers[1].t, 0.0);
        assert_eq!(s.counts.refunds, 1);
        assert_eq!(s.counts.after_observation_end, 1);

        let weekly = summarise(&l, &SummaryOptions { period: Period::Week, ..opts }).unwrap();
        // 2020-01-01 is a Wednesday: weeks of Dec 30, Jan 6, Jan 20 (and Jan 27 for c1).
        let c = weekly.customers[0];
        assert_eq!((c.frequency, c.recency, c.t), (2, 3.0, 4.0));

        let cal = summarise(&l, &SummaryOptions { calibration_end: Some(d(2020, 1, 15)), ..opts }).unwrap();
        assert_eq!(cal.customers.len(), 1, "customer 1 arrives after the calibration end");
        let c = cal.customers[0];
        assert_eq!((c.frequency, c.recency, c.t, c.holdout_frequency), (1, 10.0, 14.0, 1));
        assert_eq!(c.holdout_monetary_value, 10.0);
        assert_eq!(cal.holdout_length, 16.0);
        assert_eq!(cal.counts.customers_left_out, 1);
    }

    #[test]
    fn calibration_after_observation_end_is_an_error() {
        let l = log(&[(0, d(2020, 1, 1), 1.0)]);
        let opts = SummaryOptions {
            period: Period::Day,
            time_unit: None,
            observation_end: d(2020, 1, 31),
            calibration_end: Some(d(2020, 2, 1)),
        };
        assert!(matches!(summarise(&l, &opts), Err(SummaryError::CalibrationAfterEnd { .. })));
    }

    /// 100k customers (both cores at work): every summary and every count is
    /// what summarising each customer alone gives; those first seen after the
    /// calibration end are left out wherever they fall.
    #[test]
    fn many_customers_summarise_as_each_alone() {
        let mut rows = Vec::new();
        for c in 0..100_000u32 {
            let first = d(2020, 1, 1) + chrono::Days::new(u64::from(c % 200));
            for k in 0..(c % 4) {
                let day = first + chrono::Days::new(u64::from(k * 17 + c % 5));
                let amount = if (c + k) % 13 == 0 { -5.0 } else { f64::from(k + 1) * 2.5 };
                rows.push((c, day, amount));
            }
            rows.push((c, first, 1.0));
        }
        let opts = SummaryOptions {
            period: Period::Day,
            time_unit: Some(Period::Week),
            observation_end: d(2020, 7, 1),
            calibration_end: Some(d(2020, 5, 1)),
        };
        let all = summarise(&log(&rows), &opts).unwrap();
        let (obs, cal) = (d(2020, 7, 1), d(2020, 5, 1));
        let mut counts = SummaryCounts {
            transactions: rows.len(),
            calibration: rows.iter().filter(|r| r.1 <= cal && r.2 >= 0.0).count(),
            holdout: rows.iter().filter(|r| r.1 > cal && r.1 <= obs && r.2 >= 0.0).count(),
            after_observation_end: rows.iter().filter(|r| r.1 > obs).count(),
            refunds: rows.iter().filter(|r| r.1 <= obs && r.2 < 0.0).count(),
            customers_left_out: 0,
        };
        let mut want = Vec::new();
        // rows come grouped by customer
        for mine in rows.chunk_by(|a, b| a.0 == b.0) {
            let alone: Vec<_> = mine.iter().map(|&(_, day, a)| (0, day, a)).collect();
            match summarise(&log(&alone), &opts) {
                Ok(one) => want.push(CustomerSummary { customer: mine[0].0, ..one.customers[0] }),
                Err(_) => counts.customers_left_out += 1,
            }
        }
        assert!(counts.customers_left_out > 1000 && counts.refunds > 0);
        assert_eq!(all.counts, counts);
        assert_eq!(all.customers, want);
        // the same rows in date order: each customer's rows are listed, not
        // runs of the log, and summarise the same
        let mut by_date = rows.clone();
        by_date.sort_by_key(|r| r.1);
        let (grouped, dated) = (log(&rows), log(&by_date));
        assert!(grouped.grouped().is_runs() && !dated.grouped().is_runs());
        let again = summarise(&dated, &opts).unwrap();
        assert_eq!((again.counts, again.customers), (all.counts, all.customers));
    }
}
