//! Per-customer scores from fitted models: probability alive, expected purchases,
//! expected spend, lifetime value, and the value at stake if the customer has left.

use serde::Serialize;
use winback_stats::clv::{discounted_purchases_if_alive, ValueSettings};
use winback_stats::data::BitsMap;
use winback_stats::models::{gammagamma::GammaGamma, PurchaseModel};
use winback_stats::parallel::{map_rows, map_rows_with};

use crate::analysis::Histories;
use crate::summary::CustomerSummary;

/// How future value is counted.
#[derive(Debug, Clone, Copy)]
pub struct ScoreSettings {
    /// Prediction horizon, in the summary's time unit.
    pub horizon: f64,
    /// Share of revenue kept as profit (1 = value in revenue).
    pub margin: f64,
    /// Discount rate per year, and the length of one time unit in days.
    pub annual_discount_rate: f64,
    pub unit_days: f64,
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct CustomerScore {
    pub p_alive: f64,
    /// Expected purchases in the horizon.
    pub expected_purchases: f64,
    /// Expected spend per purchase (Gamma-Gamma), when the log has amounts.
    pub expected_spend: Option<f64>,
    /// Discounted expected margin over the horizon.
    pub lifetime_value: Option<f64>,
    /// (1 − P(alive)) × what the customer spent in the observed period (or their
    /// purchase count without amounts): the revenue of a relationship that has
    /// probably ended. Sorting by it puts the most valuable lost customers first.
    pub value_at_stake: f64,
}

/// What depends only on (x, t_x, T): computed once per distinct history.
#[derive(Clone, Copy)]
struct HistoryScore {
    p_alive: f64,
    expected: f64,
    /// Discounted expected purchases over the horizon (CLV per unit of spend and margin).
    discounted: f64,
}

/// Cash-flow steps: about one a month (30.4 days), as analysts and lifetimes'
/// `customer_lifetime_value` discount, and never shorter than one time unit.
fn value_settings(s: &ScoreSettings) -> ValueSettings {
    let month = 30.4375 / s.unit_days;
    let step = month.max(1.0).min(s.horizon.max(f64::MIN_POSITIVE));
    ValueSettings {
        horizon: s.horizon,
        step,
        discount_per_step: (1.0 + s.annual_discount_rate).powf(step * s.unit_days / 365.25) - 1.0,
        margin: 1.0,
    }
}

/// Score every customer. Histories are scored once per distinct (x, t_x, T) —
/// in a real base many customers share one — on two threads for large bases.
pub fn score(
    model: &(dyn PurchaseModel + Sync),
    spend: Option<&GammaGamma>,
    customers: &[CustomerSummary],
    s: &ScoreSettings,
) -> Vec<CustomerScore> {
    score_histories(model, spend, customers, &Histories::of(customers), s)
}

/// [`score`] with the customers' histories already found (as for the fit).
pub fn score_histories(
    model: &(dyn PurchaseModel + Sync),
    spend: Option<&GammaGamma>,
    customers: &[CustomerSummary],
    histories: &Histories,
    s: &ScoreSettings,
) -> Vec<CustomerScore> {
    let scored = score_lazily(model, spend, histories, s);
    map_rows(customers.len(), |i| scored.get(i, &customers[i]))
}

/// Scores computed once per distinct history and finished per customer when
/// asked for: what writing every customer's score needs, without a 56-byte
/// score per customer held in memory (240 MB of fresh pages for 4.3M customers).
pub struct HistoryScores<'a> {
    scores: Vec<HistoryScore>,
    /// Each customer's history.
    slots: &'a [u32],
    spend: Option<GammaGamma>,
    margin: f64,
}

/// Score the distinct histories; see [`HistoryScores`].
pub fn score_lazily<'a>(
    model: &(dyn PurchaseModel + Sync),
    spend: Option<&GammaGamma>,
    histories: &'a Histories,
    s: &ScoreSettings,
) -> HistoryScores<'a> {
    let value = value_settings(s);
    // within the distinct histories (x, t_x, T), the distinct (x, T): what an
    // active customer is expected to buy depends on (x, T) alone, and holds the
    // hypergeometric functions; P(alive) is all a history adds.
    let mut pairs_seen: BitsMap<(u32, u64), u32> = BitsMap::default();
    let mut pairs: Vec<(f64, f64)> = Vec::new();
    let keys: Vec<(u32, f64, f64, u32)> = histories
        .0
        .keys
        .iter()
        .map(|&(x, tx, t)| {
            let pair = *pairs_seen.entry((x, t)).or_insert_with(|| {
                pairs.push((f64::from(x), f64::from_bits(t)));
                (pairs.len() - 1) as u32
            });
            (x, f64::from_bits(tx), f64::from_bits(t), pair)
        })
        .collect();
    // (a few µs a pair: the hypergeometric series of a dozen discounting
    // steps; two threads for the 1M log's 2,975 pairs took `scored` from
    // 0.010 to 0.008 s in `bench/stages.py`)
    let active: Vec<(f64, f64)> = par_map(&pairs, 64, |&(x, t)| {
        let expected = model.expected_purchases_if_alive(s.horizon, x, t).max(0.0);
        let discounted = if spend.is_some() { discounted_purchases_if_alive(model, x, t, &value) } else { 0.0 };
        (expected, discounted)
    });
    let scores = par_map(&keys, 5_000, |&(x, tx, t, pair)| {
        let p = model.prob_alive(f64::from(x), tx, t);
        let (expected, discounted) = active[pair as usize];
        HistoryScore { p_alive: p, expected: expected * p, discounted: discounted * p }
    });
    HistoryScores { scores, slots: &histories.0.slots, spend: spend.copied(), margin: s.margin }
}

impl HistoryScores<'_> {
    /// Number of distinct histories.
    pub fn histories(&self) -> usize {
        self.scores.len()
    }

    /// Customer `i`'s history, below [`HistoryScores::histories`].
    #[inline]
    pub fn history_of(&self, i: usize) -> usize {
        self.slots[i] as usize
    }

    /// P(alive) and expected purchases of history `h`: what every customer
    /// with that history scores alike.
    #[inline]
    pub fn shared(&self, h: usize) -> (f64, f64) {
        let s = &self.scores[h];
        (s.p_alive, s.expected)
    }

    /// The score of customer `i`, `c`, of the customers the histories were found in.
    #[inline]
    pub fn get(&self, i: usize, c: &CustomerSummary) -> CustomerScore {
        let h = self.scores[self.slots[i] as usize];
        let x = f64::from(c.frequency);
        // none where Gamma-Gamma has no mean (q ≤ 1 and no repeat purchase):
        // unknown, not infinite (the fit report says why)
        let expected_spend = self.spend.map(|g| g.expected_spend(x, c.monetary_value)).filter(|v| v.is_finite());
        CustomerScore {
            p_alive: h.p_alive,
            expected_purchases: h.expected,
            expected_spend,
            lifetime_value: expected_spend.map(|m| self.margin * m * h.discounted),
            value_at_stake: self.value_at_stake(c, h.p_alive),
        }
    }

    #[inline]
    fn value_at_stake(&self, c: &CustomerSummary, p_alive: f64) -> f64 {
        let past = if self.spend.is_some() { c.total_value } else { f64::from(c.frequency) + 1.0 };
        (1.0 - p_alive) * past
    }

    /// The customers in the order of [`rank_by_value_at_stake`], from their
    /// P(alive) and value at stake alone.
    pub fn rank(&self, customers: &[CustomerSummary]) -> Vec<usize> {
        // Customers the model is sure are alive (P(alive) = 1, nothing at
        // stake: under BG/NBD everyone without a repeat purchase, often half
        // the base) tie, and a tie goes by position: they are set aside in
        // order rather than sorted, and put back where their key falls.
        let (tie_value, tie_p, _) = rank_key(0.0, 1.0, 0);
        struct Part {
            keys: Vec<RankKey>,
            tied: Vec<usize>,
            below: usize,
        }
        // room for a thread's whole share either way (untouched capacity
        // costs no memory; growing by doubling copies and faults it twice)
        let share = customers.len().div_ceil(2);
        let init = || Part { keys: Vec::with_capacity(share), tied: Vec::with_capacity(share), below: 0 };
        let (_, mut parts) = map_rows_with(customers.len(), init, |part, i| {
            let p = self.scores[self.slots[i] as usize].p_alive;
            let key = rank_key(self.value_at_stake(&customers[i], p), p, i as u32);
            if (key.0, key.1) == (tie_value, tie_p) {
                part.tied.push(i);
            } else {
                part.below += usize::from((key.0, key.1) < (tie_value, tie_p));
                part.keys.push(key);
            }
        });
        let tied: usize = parts.iter().map(|p| p.tied.len()).sum();
        let mut order = if let [a, b] = &mut parts[..] {
            // each thread's keys sorted where they lie, the two runs merged:
            // no copy of them end to end (11 MB of fresh pages on a million)
            std::thread::scope(|s| {
                s.spawn(|| b.keys.sort_unstable());
                a.keys.sort_unstable();
            });
            merged(&a.keys, &b.keys, tied)
        } else {
            let keys = if parts.len() == 1 {
                std::mem::take(&mut parts[0].keys)
            } else {
                parts.iter_mut().flat_map(|p| std::mem::take(&mut p.keys)).collect()
            };
            rank_keys(keys, tied)
        };
        let at: usize = parts.iter().map(|p| p.below).sum();
        // (the parts cover the customers in order, so their tied lists are)
        order.splice(at..at, parts.iter().flat_map(|p| p.tied.iter().copied()));
        order
    }
}

/// `items.iter().map(f)`, in two halves on two threads when there are enough.
/// `min`: items below which one thread does it all (a second costs ~50 µs
/// to start).
fn par_map<T: Sync, U: Send>(items: &[T], min: usize, f: impl Fn(&T) -> U + Sync) -> Vec<U> {
    if items.len() < min.max(2) {
        return items.iter().map(f).collect();
    }
    let (a, b) = items.split_at(items.len() / 2);
    std::thread::scope(|sc| {
        let h = sc.spawn(|| b.iter().map(&f).collect::<Vec<_>>());
        let mut out: Vec<U> = a.iter().map(&f).collect();
        out.extend(h.join().expect("scoring worker panicked"));
        out
    })
}

/// The ranking's order as one key: value at stake descending, P(alive)
/// ascending, position ascending.
type RankKey = (u64, u64, u32);

/// The ranking's key of a customer: bits that order as `total_cmp` does.
#[inline]
fn rank_key(value_at_stake: f64, p_alive: f64, i: u32) -> RankKey {
    let ordered = |v: f64| {
        let b = v.to_bits();
        if b >> 63 == 1 {
            !b
        } else {
            b | (1 << 63)
        }
    };
    (!ordered(value_at_stake), ordered(p_alive), i)
}

/// Indices of `scores` ordered by value at stake, largest first (ties: least
/// likely alive first).
pub fn rank_by_value_at_stake(scores: &[CustomerScore]) -> Vec<usize> {
    rank_keys(map_rows(scores.len(), |i| rank_key(scores[i].value_at_stake, scores[i].p_alive, i as u32)), 0)
}

/// The positions the keys carry, in the keys' order. Sorted on keys laid out
/// side by side rather than through the scores (a cache miss per comparison
/// on millions of customers).
/// The order has room for `more` positions after them.
fn rank_keys(mut keys: Vec<RankKey>, more: usize) -> Vec<usize> {
    if keys.len() < 100_000 {
        let mut order = Vec::with_capacity(keys.len() + more);
        keys.sort_unstable();
        order.extend(keys.into_iter().map(|(_, _, i)| i as usize));
        return order;
    }
    // two halves sorted on two threads, then merged
    let mid = keys.len() / 2;
    let (a, b) = keys.split_at_mut(mid);
    std::thread::scope(|s| {
        s.spawn(|| b.sort_unstable());
        a.sort_unstable();
    });
    let (a, b) = keys.split_at(mid);
    merged(a, b, more)
}

/// The positions two sorted runs of keys carry, in the order of the keys
/// merged, with room for `more` after them. Keys are distinct (the position
/// breaks every tie), so the order is the one a single sort gives. Merged on
/// two threads: the first half of the order takes a[..i] and b[..half - i],
/// the i at which those are the `half` smallest keys.
fn merged(a: &[RankKey], b: &[RankKey], more: usize) -> Vec<usize> {
    let n = a.len() + b.len();
    let mut order = Vec::with_capacity(n + more);
    let half = n / 2;
    let (mut lo, mut hi) = (half.saturating_sub(b.len()), half.min(a.len()));
    while lo < hi {
        let i = (lo + hi) / 2;
        // too few from a while a[i] is below the b key it would displace
        if a[i] < b[half - i - 1] {
            lo = i + 1;
        } else {
            hi = i;
        }
    }
    let i = lo;
    order.resize(n, 0);
    let (first, second) = order.split_at_mut(half);
    std::thread::scope(|s| {
        s.spawn(|| merge_into(&a[i..], &b[half - i..], second));
        merge_into(&a[..i], &b[..half - i], first);
    });
    order
}

/// The positions of two sorted runs of distinct keys, merged, into `out`.
fn merge_into(a: &[RankKey], b: &[RankKey], out: &mut [usize]) {
    let (mut i, mut j) = (0, 0);
    for slot in out.iter_mut() {
        let take_a = j == b.len() || (i < a.len() && a[i] < b[j]);
        *slot = if take_a {
            i += 1;
            a[i - 1].2 as usize
        } else {
            j += 1;
            b[j - 1].2 as usize
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use winback_stats::models::bgnbd::BgNbd;

    #[test]
    fn clv_is_discounted_expected_purchases_times_spend_and_margin() {
        let m = BgNbd { r: 0.243, alpha: 4.41, a: 0.793, b: 2.43 };
        let g = GammaGamma { p: 6.25, q: 3.74, gamma: 15.44 };
        let c = CustomerSummary::from_rfm(0, 2, 30.43, 38.86, 22.35);
        let s = ScoreSettings { horizon: 52.0, margin: 0.5, annual_discount_rate: 0.0, unit_days: 7.0 };
        let sc = score(&m, Some(&g), &[c, c], &s);
        assert_eq!(sc.len(), 2);
        let spend = g.expected_spend(2.0, 22.35);
        // without discounting, CLV = margin × spend × E[Y(52)]
        let want = 0.5 * spend * m.expected_purchases(52.0, 2.0, 30.43, 38.86);
        assert!((sc[0].lifetime_value.unwrap() / want - 1.0).abs() < 1e-12);
        let d = ScoreSettings { annual_discount_rate: 0.1, ..s };
        assert!(score(&m, Some(&g), &[c], &d)[0].lifetime_value.unwrap() < want);
        assert!((sc[1].value_at_stake - (1.0 - sc[1].p_alive) * 22.35 * 3.0).abs() < 1e-9);
    }

    #[test]
    fn ranking_is_by_value_then_least_alive_then_position() {
        let sc = |v: f64, p: f64| CustomerScore {
            p_alive: p,
            expected_purchases: 0.0,
            expected_spend: None,
            lifetime_value: None,
            value_at_stake: v,
        };
        let scores =
            [sc(1.0, 0.5), sc(3.0, 0.9), sc(-0.0, 0.1), sc(3.0, 0.2), sc(1.0, 0.5), sc(0.0, 0.1), sc(f64::NAN, 0.0)];
        let mut want: Vec<usize> = (0..scores.len()).collect();
        want.sort_by(|&i, &j| {
            let (a, b) = (&scores[i], &scores[j]);
            b.value_at_stake.total_cmp(&a.value_at_stake).then(a.p_alive.total_cmp(&b.p_alive))
        });
        assert_eq!(rank_by_value_at_stake(&scores), want);
        assert_eq!(want[..4], [6, 3, 1, 0]);
        // a large base goes through the two-thread sort and merge: same order
        let many: Vec<CustomerScore> = (0..150_001u64)
            .map(|i| {
                let h = i.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 40;
                // few distinct values, so ties on value and on P(alive) abound
                sc((h % 50) as f64 - 3.0, (h % 7) as f64 / 7.0)
            })
            .collect();
        let mut want: Vec<usize> = (0..many.len()).collect();
        want.sort_by(|&i, &j| {
            let (a, b) = (&many[i], &many[j]);
            b.value_at_stake.total_cmp(&a.value_at_stake).then(a.p_alive.total_cmp(&b.p_alive)).then(i.cmp(&j))
        });
        assert_eq!(rank_by_value_at_stake(&many), want);
        // the two-thread merge splits where the halves interleave, and at
        // either end when one half's keys all come first: odd and even sizes
        for n in [100_000usize, 100_001, 123_457] {
            for (name, value) in [
                ("rising", (|i: usize| i as f64) as fn(usize) -> f64),
                ("falling", |i| -(i as f64)),
                ("all equal", |_| 1.0),
                ("interleaved", |i| ((i * 7919) % 1000) as f64),
            ] {
                let scores: Vec<CustomerScore> = (0..n).map(|i| sc(value(i), 0.5)).collect();
                let mut want: Vec<usize> = (0..n).collect();
                want.sort_by(|&i, &j| scores[j].value_at_stake.total_cmp(&scores[i].value_at_stake).then(i.cmp(&j)));
                assert_eq!(rank_by_value_at_stake(&scores), want, "{name}, {n} customers");
            }
        }
    }

    #[test]
    fn lazy_scores_rank_and_score_as_the_eager_ones() {
        let m = BgNbd { r: 0.243, alpha: 4.41, a: 0.793, b: 2.43 };
        let g = GammaGamma { p: 6.25, q: 3.74, gamma: 15.44 };
        let s = ScoreSettings { horizon: 52.0, margin: 0.3, annual_discount_rate: 0.1, unit_days: 7.0 };
        // one-time buyers (P(alive) = 1 under BG/NBD, all tied at nothing at
        // stake), repeat buyers sharing histories, and negative and zero totals
        let base = |n: usize| -> Vec<CustomerSummary> {
            (0..n)
                .map(|i| {
                    let h = (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 40;
                    let x = (h % 5) as u32 * u32::from(h % 3 != 0);
                    let t = 30.0 + (h % 7) as f64;
                    let tx = if x == 0 { 0.0 } else { 1.0 + (h % 11) as f64 };
                    let mut c = CustomerSummary::from_rfm(i as u32, x, tx, t, ((h % 13) as f64) - 2.0);
                    if h % 17 == 0 {
                        c.total_value = -c.total_value.abs() - 1.0;
                    }
                    c
                })
                .collect()
        };
        for n in [1usize, 50, 5_000, 250_001] {
            let customers = base(n);
            let histories = Histories::of(&customers);
            for spend in [Some(&g), None] {
                let eager = score_histories(&m, spend, &customers, &histories, &s);
                let lazy = score_lazily(&m, spend, &histories, &s);
                for (i, c) in customers.iter().enumerate() {
                    let (a, b) = (lazy.get(i, c), eager[i]);
                    assert_eq!(
                        (a.p_alive, a.expected_purchases, a.expected_spend, a.lifetime_value, a.value_at_stake),
                        (b.p_alive, b.expected_purchases, b.expected_spend, b.lifetime_value, b.value_at_stake)
                    );
                    assert_eq!(lazy.shared(lazy.history_of(i)), (b.p_alive, b.expected_purchases));
                }
                assert_eq!(lazy.rank(&customers), rank_by_value_at_stake(&eager), "{n} customers");
            }
        }
    }
}
