//! Model inputs, validated on construction and compressed to distinct histories.
//!
//! Customers with the same (x, t_x, T) contribute the same likelihood term, so each
//! distinct history is stored once with a weight: a million customers cost what a
//! few thousand distinct histories cost.

use rustc_hash::FxHashMap;

/// A hash map for keys built from `f64::to_bits`. FxHash multiplies, which
/// carries entropy only upwards, and the bits of round numbers like 144.0 vary
/// only at the top: with it, a million histories piled into a few buckets and
/// building `RfmData` took 150 ms instead of 25. foldhash mixes both ways;
/// fixed seed, so runs are repeatable.
pub type BitsMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::FixedState>;

/// The step of a systematic sample of `rows` rows for a fit's warm start,
/// if they are enough for one.
fn sample_step(rows: usize) -> Option<usize> {
    (rows >= crate::fit::SAMPLE_ABOVE).then_some(rows / crate::fit::SAMPLE_ROWS)
}

/// Whether the keys of `rows` (those `key` gives one for) are so nearly all
/// distinct that finding the distinct ones would save nothing: judged on
/// every 64th row, for inputs large enough to be fitted on a sample first
/// (smaller ones, the literature's data sets among them, are always made
/// distinct). Fewer than 1 in 200 of the sample's keys repeating one before.
fn nearly_all_distinct<T, K: Ord>(rows: &[T], key: impl Fn(&T) -> Option<K>) -> bool {
    if rows.len() < crate::fit::SAMPLE_ABOVE {
        return false;
    }
    let mut sample: Vec<K> = rows.iter().step_by(64).filter_map(key).collect();
    if sample.len() < 1000 {
        return false;
    }
    sample.sort_unstable();
    let repeats = sample.windows(2).filter(|w| w[0] == w[1]).count();
    repeats * 200 < sample.len()
}

/// Rows 0, k, 2k… of a column.
fn every_kth<T: Copy>(v: &[T], k: usize) -> Vec<T> {
    v.iter().step_by(k).copied().collect()
}

/// Why input rows were refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DataError {
    #[error("row {row}: {reason}")]
    InvalidRow { row: usize, reason: String },
    #[error("no rows to fit")]
    Empty,
}

fn bad(row: usize, reason: impl Into<String>) -> DataError {
    DataError::InvalidRow { row, reason: reason.into() }
}

/// Recency/frequency data for the continuous-time models (BG/NBD, Pareto/NBD,
/// MBG/NBD): per customer the number of repeat purchases `x`, the time of the last
/// purchase `t_x` and the length of observation `T`, all measured from the first
/// purchase (Fader, Hardie & Lee 2005, "Counting Your Customers the Easy Way", §2).
#[derive(Debug, Clone, Default)]
pub struct RfmData {
    pub(crate) x: Vec<f64>,
    pub(crate) t_x: Vec<f64>,
    pub(crate) t: Vec<f64>,
    pub(crate) weight: Vec<f64>,
    /// Distinct x values and, per row, the index of its x: terms that depend on x
    /// alone (ln Γ(r + x), ψ(r + x)…) are computed once per distinct x.
    pub(crate) xs: Vec<f64>,
    pub(crate) x_idx: Vec<u32>,
    /// Distinct T and t_x values and each row's index into them: ln(α + T) and
    /// the like are computed once per distinct value per evaluation. With daily
    /// periods a million histories hold a few hundred of each.
    pub(crate) ts: Vec<f64>,
    pub(crate) t_idx: Vec<u32>,
    pub(crate) txs: Vec<f64>,
    pub(crate) tx_idx: Vec<u32>,
    customers: f64,
}

impl RfmData {
    /// Build from one row per customer, checking each: x a non-negative whole number,
    /// 0 ≤ t_x ≤ T, T > 0, t_x = 0 when x = 0.
    pub fn new<I>(rows: I) -> Result<RfmData, DataError>
    where
        I: IntoIterator<Item = (f64, f64, f64)>,
    {
        Self::weighted(rows.into_iter().map(|(x, tx, t)| (x, tx, t, 1.0)))
    }

    /// Build from rows that each stand for `weight` customers.
    pub fn weighted<I>(rows: I) -> Result<RfmData, DataError>
    where
        I: IntoIterator<Item = (f64, f64, f64, f64)>,
    {
        Self::build(rows, true)
    }

    /// [`RfmData::weighted`] from rows known to be distinct histories (as a
    /// distinct pass over the customers gives them): kept as they come, without
    /// looking each up among the others (a million-entry table, 24 ms on one
    /// core for a million customers). A repeated row would only be summed twice.
    pub fn weighted_distinct<I>(rows: I) -> Result<RfmData, DataError>
    where
        I: IntoIterator<Item = (f64, f64, f64, f64)>,
    {
        Self::build(rows, false)
    }

    fn build<I>(rows: I, merge: bool) -> Result<RfmData, DataError>
    where
        I: IntoIterator<Item = (f64, f64, f64, f64)>,
    {
        let mut index: BitsMap<(u64, u64, u64), usize> = BitsMap::default();
        let mut data = RfmData::default();
        let mut x_index: BitsMap<u64, u32> = BitsMap::default();
        let mut t_index: BitsMap<u64, u32> = BitsMap::default();
        let mut tx_index: BitsMap<u64, u32> = BitsMap::default();
        for (row, (x, tx, t, w)) in rows.into_iter().enumerate() {
            let row = row + 1;
            if !(x.is_finite() && x >= 0.0 && x == x.floor()) {
                return Err(bad(row, format!("frequency must be a whole number ≥ 0, got {x}")));
            }
            if !(t.is_finite() && t > 0.0) {
                return Err(bad(row, format!("T (time since first purchase) must be > 0, got {t}")));
            }
            if !(tx.is_finite() && tx >= 0.0 && tx <= t * (1.0 + 1e-9)) {
                return Err(bad(row, format!("recency must be between 0 and T={t}, got {tx}")));
            }
            if x == 0.0 && tx != 0.0 {
                return Err(bad(row, format!("a customer with no repeat purchase has recency 0, got {tx}")));
            }
            if x > 0.0 && tx == 0.0 {
                return Err(bad(
                    row,
                    "repeat purchases need a recency > 0 (did you count the first purchase as a repeat?)",
                ));
            }
            if !(w.is_finite() && w >= 0.0) {
                return Err(bad(row, format!("weight must be ≥ 0, got {w}")));
            }
            let tx = tx.min(t);
            let key = (x.to_bits(), tx.to_bits(), t.to_bits());
            let mut add = || {
                data.x.push(x);
                data.t_x.push(tx);
                data.t.push(t);
                data.weight.push(0.0);
                let next = data.xs.len() as u32;
                let xi = *x_index.entry(x.to_bits()).or_insert_with(|| {
                    data.xs.push(x);
                    next
                });
                data.x_idx.push(xi);
                let next = data.ts.len() as u32;
                let ti = *t_index.entry(t.to_bits()).or_insert_with(|| {
                    data.ts.push(t);
                    next
                });
                data.t_idx.push(ti);
                let next = data.txs.len() as u32;
                let txi = *tx_index.entry(tx.to_bits()).or_insert_with(|| {
                    data.txs.push(tx);
                    next
                });
                data.tx_idx.push(txi);
                data.x.len() - 1
            };
            let i = if merge { *index.entry(key).or_insert_with(add) } else { add() };
            data.weight[i] += w;
            data.customers += w;
        }
        if data.customers <= 0.0 {
            return Err(DataError::Empty);
        }
        Ok(data)
    }

    /// Number of customers (sum of weights).
    pub fn customers(&self) -> f64 {
        self.customers
    }

    /// Number of distinct (x, t_x, T) histories.
    pub fn distinct(&self) -> usize {
        self.x.len()
    }

    /// Mean of x, t_x and T over customers (used for scale-aware starting values).
    pub(crate) fn means(&self) -> (f64, f64, f64) {
        let n = self.customers;
        let mut s = (0.0, 0.0, 0.0);
        for i in 0..self.x.len() {
            s.0 += self.weight[i] * self.x[i];
            s.1 += self.weight[i] * self.t_x[i];
            s.2 += self.weight[i] * self.t[i];
        }
        (s.0 / n, s.1 / n, s.2 / n)
    }

    /// Every k-th row, for a fit's warm start ([`crate::fit::fit_model_sampled`]),
    /// when there are rows enough for one to pay: the distinct-value tables
    /// are kept as they are.
    pub(crate) fn sample(&self) -> Option<RfmData> {
        let every = sample_step(self.x.len())?;
        let weight = every_kth(&self.weight, every);
        Some(RfmData {
            x: every_kth(&self.x, every),
            t_x: every_kth(&self.t_x, every),
            t: every_kth(&self.t, every),
            customers: weight.iter().sum(),
            weight,
            xs: self.xs.clone(),
            x_idx: every_kth(&self.x_idx, every),
            ts: self.ts.clone(),
            t_idx: every_kth(&self.t_idx, every),
            txs: self.txs.clone(),
            tx_idx: every_kth(&self.tx_idx, every),
        })
        .filter(|d| d.customers > 0.0)
    }

    /// Customers with at least one repeat purchase (sum of weights).
    pub fn repeaters(&self) -> f64 {
        self.x.iter().zip(&self.weight).filter(|(x, _)| **x > 0.0).map(|(_, w)| w).sum()
    }
}

/// Discrete-time data for BG/BB: repeat transactions `x` in `n` opportunities, the
/// last at opportunity `t_x` (Fader, Hardie & Shang 2010, "Customer-Base Analysis
/// in a Discrete-Time Noncontractual Setting", Marketing Science 29(6)).
#[derive(Debug, Clone, Default)]
pub struct DiscreteData {
    pub(crate) x: Vec<u32>,
    pub(crate) t_x: Vec<u32>,
    pub(crate) n: Vec<u32>,
    pub(crate) weight: Vec<f64>,
    customers: f64,
}

impl DiscreteData {
    /// Rows of (x, t_x, n, weight). Requires x ≤ t_x ≤ n and t_x = 0 iff x = 0.
    pub fn weighted<I>(rows: I) -> Result<DiscreteData, DataError>
    where
        I: IntoIterator<Item = (u32, u32, u32, f64)>,
    {
        let mut index: FxHashMap<(u32, u32, u32), usize> = FxHashMap::default();
        let mut d = DiscreteData::default();
        for (row, (x, tx, n, w)) in rows.into_iter().enumerate() {
            let row = row + 1;
            if n == 0 {
                return Err(bad(row, "periods (opportunities) must be ≥ 1"));
            }
            if tx > n || x > tx {
                return Err(bad(row, format!("need frequency ≤ recency ≤ periods, got {x}, {tx}, {n}")));
            }
            if (x == 0) != (tx == 0) {
                return Err(bad(row, format!("recency must be 0 exactly when frequency is 0, got {x}, {tx}")));
            }
            if !(w.is_finite() && w >= 0.0) {
                return Err(bad(row, format!("weight must be ≥ 0, got {w}")));
            }
            let i = *index.entry((x, tx, n)).or_insert_with(|| {
                d.x.push(x);
                d.t_x.push(tx);
                d.n.push(n);
                d.weight.push(0.0);
                d.x.len() - 1
            });
            d.weight[i] += w;
            d.customers += w;
        }
        if d.customers <= 0.0 {
            return Err(DataError::Empty);
        }
        Ok(d)
    }

    pub fn customers(&self) -> f64 {
        self.customers
    }
}

/// Spend data for the Gamma-Gamma model: per customer with x ≥ 1 repeat purchases,
/// their mean spend per repeat purchase `mean_spend` (z̄ in Fader & Hardie 2013).
#[derive(Debug, Clone, Default)]
pub struct SpendData {
    pub(crate) x: Vec<f64>,
    pub(crate) z: Vec<f64>,
    pub(crate) weight: Vec<f64>,
    /// ln z̄ per row (data, not parameters: taken once), and the distinct x
    /// values with each row's index, for the terms in x alone.
    pub(crate) ln_z: Vec<f64>,
    pub(crate) xs: Vec<f64>,
    pub(crate) x_idx: Vec<u32>,
    customers: f64,
}

impl SpendData {
    /// Rows of (x, mean spend). Customers with x = 0 carry no spend information and
    /// must be left out by the caller ([`SpendData::from_customers`] does that).
    pub fn new<I>(rows: I) -> Result<SpendData, DataError>
    where
        I: IntoIterator<Item = (f64, f64)>,
    {
        Self::from_rows(&rows.into_iter().collect::<Vec<_>>())
    }

    fn from_rows(rows: &[(f64, f64)]) -> Result<SpendData, DataError> {
        for (row, &(x, z)) in rows.iter().enumerate() {
            let row = row + 1;
            if !(x.is_finite() && x >= 1.0 && x == x.floor()) {
                return Err(bad(row, format!("Gamma-Gamma needs frequency ≥ 1, got {x}")));
            }
            if !(z.is_finite() && z > 0.0) {
                return Err(bad(row, format!("mean spend must be > 0, got {z}")));
            }
        }
        // distinct (x, mean spend) in order of first appearance, each weighted
        // by its customers
        Self::from_distinct(crate::parallel::distinct(rows, |&(x, z)| (x.to_bits(), z.to_bits()), false))
    }

    fn from_distinct(found: crate::parallel::Distinct<(u64, u64)>) -> Result<SpendData, DataError> {
        let mut x_index: BitsMap<u64, u32> = BitsMap::default();
        let mut d = SpendData::default();
        for (&(x, z), &n) in found.keys.iter().zip(&found.counts) {
            let (x, z) = (f64::from_bits(x), f64::from_bits(z));
            d.x.push(x);
            d.z.push(z);
            d.ln_z.push(z.ln());
            d.weight.push(f64::from(n));
            let next = d.xs.len() as u32;
            let xi = *x_index.entry(x.to_bits()).or_insert_with(|| {
                d.xs.push(x);
                next
            });
            d.x_idx.push(xi);
            d.customers += f64::from(n);
        }
        if d.customers <= 0.0 {
            return Err(DataError::Empty);
        }
        Ok(d)
    }

    /// Every k-th row, as [`RfmData::sample`].
    pub(crate) fn sample(&self) -> Option<SpendData> {
        let every = sample_step(self.x.len())?;
        let weight = every_kth(&self.weight, every);
        Some(SpendData {
            x: every_kth(&self.x, every),
            z: every_kth(&self.z, every),
            customers: weight.iter().sum(),
            weight,
            ln_z: every_kth(&self.ln_z, every),
            xs: self.xs.clone(),
            x_idx: every_kth(&self.x_idx, every),
        })
        .filter(|d| d.customers > 0.0)
    }

    /// Keep the customers the model applies to (x ≥ 1 and a positive mean spend) and
    /// say how many were left out.
    pub fn from_customers<I>(rows: I) -> Result<(SpendData, usize), DataError>
    where
        I: IntoIterator<Item = (f64, f64)>,
    {
        Self::from_slice(&rows.into_iter().collect::<Vec<_>>(), |&r| r)
    }

    /// [`SpendData::from_customers`] from a slice of anything that gives the
    /// (x, mean spend) of a customer: the rows kept are never gathered (a
    /// copy of 444k rows on the 1M log, read from 64 MB of summaries).
    pub fn from_slice<T: Sync>(
        rows: &[T],
        spend: impl Fn(&T) -> (f64, f64) + Sync,
    ) -> Result<(SpendData, usize), DataError> {
        let key = |r: &T| {
            let (x, z) = spend(r);
            (x >= 1.0 && z > 0.0 && z.is_finite()).then_some((x.to_bits(), z.to_bits()))
        };
        let found = if nearly_all_distinct(rows, key) {
            // Mean spends are seldom equal: on the 1M log 440k distinct of
            // 444k. Finding them took a hash table of 440k keys (~50 ms, the
            // longest part of the fit stage); the rows go in as they are, each
            // its own key. A key that does come twice is then two rows of
            // weight 1 rather than one of 2: the same likelihood, summed in
            // another order.
            let keys: Vec<(u64, u64)> = rows.iter().filter_map(key).collect();
            crate::parallel::Distinct { counts: vec![1; keys.len()], keys, slots: Vec::new() }
        } else {
            crate::parallel::distinct_where(rows, key)
        };
        let kept: u64 = found.counts.iter().map(|&n| u64::from(n)).sum();
        for (row, &(x, _)) in found.keys.iter().enumerate() {
            let x = f64::from_bits(x);
            if !(x.is_finite() && x == x.floor()) {
                return Err(bad(row + 1, format!("Gamma-Gamma needs a whole number of repeat purchases, got {x}")));
            }
        }
        Ok((Self::from_distinct(found)?, rows.len() - kept as usize))
    }

    pub fn customers(&self) -> f64 {
        self.customers
    }
}

/// A cohort's survivor counts for the sBG model: `survivors[t]` customers still
/// active at the start of period t, with `survivors[0]` the cohort size
/// (Fader & Hardie 2007, "How to Project Customer Retention").
#[derive(Debug, Clone)]
pub struct SurvivalData {
    pub(crate) survivors: Vec<f64>,
}

impl SurvivalData {
    /// Counts must start positive and never increase.
    pub fn new(survivors: Vec<f64>) -> Result<SurvivalData, DataError> {
        if survivors.len() < 2 {
            return Err(bad(1, "need the cohort size and at least one later count"));
        }
        for (i, w) in survivors.windows(2).enumerate() {
            if !(w[1].is_finite() && w[1] >= 0.0) {
                return Err(bad(i + 2, format!("survivor count must be ≥ 0, got {}", w[1])));
            }
            if w[1] > w[0] {
                return Err(bad(i + 2, format!("survivors cannot increase ({} after {})", w[1], w[0])));
            }
        }
        if !(survivors[0] > 0.0) {
            return Err(bad(1, "the cohort size must be > 0"));
        }
        Ok(SurvivalData { survivors })
    }

    pub fn cohort(&self) -> f64 {
        self.survivors[0]
    }

    /// Number of observed periods after period 0.
    pub fn periods(&self) -> usize {
        self.survivors.len() - 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spend_rows_from_a_slice_are_those_from_an_iterator() {
        // (x, mean spend): left out without repeat purchases or without a
        // positive, finite spend; repeats weighted
        let rows: Vec<(f64, f64)> = (0..200_000)
            .map(|i| match i % 9 {
                0 => (0.0, 0.0),
                1 => (2.0, -1.0),
                2 => (3.0, f64::NAN),
                k => (f64::from(k % 4 + 1), 10.0 + f64::from(i % 5_000)),
            })
            .collect();
        let (a, skipped_a) = SpendData::from_customers(rows.iter().copied()).unwrap();
        let (b, skipped_b) = SpendData::from_slice(&rows, |&r| r).unwrap();
        assert_eq!(skipped_a, 200_000 / 9 * 3 + 2);
        assert_eq!((skipped_a, &a.x, &a.z, &a.weight, &a.x_idx), (skipped_b, &b.x, &b.z, &b.weight, &b.x_idx));
        assert_eq!(a.customers(), 200_000.0 - skipped_a as f64);
        let odd = [(1.5, 10.0)];
        assert!(SpendData::from_slice(&odd, |&r| r).is_err());
    }

    /// Spends that are nearly all distinct go in row by row; the fit is the
    /// one the distinct rows give. Spends that repeat are still made distinct.
    #[test]
    fn nearly_distinct_spends_are_not_made_distinct() {
        // 150k customers, mean spends all different but for one pair
        let mut rows: Vec<(f64, f64)> =
            (0..150_000).map(|i| (f64::from(i % 7 + 1), 20.0 + f64::from(i) / 997.0)).collect();
        rows[100] = rows[50];
        let (d, _) = SpendData::from_slice(&rows, |&r| r).unwrap();
        assert_eq!(d.x.len(), 150_000);
        assert!(d.weight.iter().all(|&w| w == 1.0));
        let distinct =
            SpendData::from_distinct(crate::parallel::distinct(&rows, |&(x, z)| (x.to_bits(), z.to_bits()), false))
                .unwrap();
        assert_eq!(distinct.x.len(), 149_999);
        let opts = crate::fit::FitOptions::default();
        let (a, b) = (
            crate::models::gammagamma::fit(&d, &opts).unwrap().params,
            crate::models::gammagamma::fit(&distinct, &opts).unwrap().params,
        );
        for (u, v) in [(a.p, b.p), (a.q, b.q), (a.gamma, b.gamma)] {
            assert!((u - v).abs() <= 1e-9 * v.abs(), "{u} vs {v}");
        }
        // whole-dollar spends over a few purchases repeat: made distinct
        let whole: Vec<(f64, f64)> = (0..150_000).map(|i| (1.0, f64::from(10 + i % 90))).collect();
        let (d, _) = SpendData::from_slice(&whole, |&r| r).unwrap();
        assert_eq!((d.x.len(), d.customers()), (90, 150_000.0));
    }

    #[test]
    fn compresses_identical_histories() {
        let d = RfmData::new([(0.0, 0.0, 10.0), (0.0, 0.0, 10.0), (2.0, 5.0, 10.0)]).unwrap();
        assert_eq!(d.distinct(), 2);
        assert_eq!(d.customers(), 3.0);
        assert_eq!(d.xs, vec![0.0, 2.0]);
    }

    #[test]
    fn distinct_rows_build_the_same_data_without_the_lookup() {
        let rows = [(0.0, 0.0, 10.0, 3.0), (2.0, 5.0, 10.0, 1.0), (2.0, 4.0, 8.0, 2.0), (1.0, 4.0, 10.0, 5.0)];
        let (a, b) = (RfmData::weighted(rows).unwrap(), RfmData::weighted_distinct(rows).unwrap());
        assert_eq!((&a.x, &a.t_x, &a.t, &a.weight), (&b.x, &b.t_x, &b.t, &b.weight));
        assert_eq!((&a.xs, &a.txs, &a.ts), (&b.xs, &b.txs, &b.ts));
        assert_eq!((&a.x_idx, &a.tx_idx, &a.t_idx), (&b.x_idx, &b.tx_idx, &b.t_idx));
        assert_eq!(a.customers(), b.customers());
        // the rows are still checked
        assert!(RfmData::weighted_distinct([(1.0, 12.0, 10.0, 1.0)]).is_err());
    }

    #[test]
    fn refuses_impossible_rows_with_their_number() {
        let e = RfmData::new([(0.0, 0.0, 10.0), (1.0, 12.0, 10.0)]).unwrap_err();
        assert!(matches!(e, DataError::InvalidRow { row: 2, .. }), "{e}");
        assert!(RfmData::new([(1.5, 1.0, 2.0)]).is_err());
        assert!(RfmData::new([(0.0, 1.0, 2.0)]).is_err());
        assert!(RfmData::new(Vec::new()).is_err());
        assert!(SurvivalData::new(vec![100.0, 120.0]).is_err());
    }
}
