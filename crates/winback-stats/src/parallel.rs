//! Row sums and maps split across the machine's cores. Plain scoped threads: the work is one
//! flat loop, so a thread pool crate would add build time and nothing else.

use std::sync::OnceLock;

/// Below this many rows a second thread costs more than it saves.
const MIN_ROWS_PER_THREAD: usize = 20_000;

/// Threads for `n` rows. The machine's core count is asked only when `n` could
/// use two: on Linux it reads cgroup files, a quarter of a millisecond that a
/// 2,000-customer fit would otherwise pay.
fn threads(n: usize) -> usize {
    let wanted = n / MIN_ROWS_PER_THREAD;
    if wanted < 2 {
        return 1;
    }
    wanted.min(cores())
}

/// `f()` in a stack frame a few cache lines below the caller's. Summarising
/// a million customers took 0.040 s instead of 0.030 s for half of the stack
/// offsets (`bash bench/stack_offsets.sh`: `setarch -R`, the environment
/// grown 8 bytes at a time, a 64-byte period) until this thread's share ran
/// here; most likely what the other thread reads through the caller's frames
/// (the closures it was handed) and what this thread spills to its own frame
/// at every row shared a cache line, as ASLR placed the stack.
#[inline(never)]
fn apart<S>(f: impl FnOnce() -> S) -> S {
    let gap = [0u8; 256];
    std::hint::black_box(&gap);
    f()
}

/// The cores this process may use, asked once.
fn cores() -> usize {
    static N: OnceLock<usize> = OnceLock::new();
    *N.get_or_init(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1))
}

/// The distinct keys of some rows, in order of first appearance.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Distinct<K> {
    pub keys: Vec<K>,
    /// Rows holding each key.
    pub counts: Vec<u32>,
    /// Each row's key, as an index into `keys` (empty unless asked for).
    pub slots: Vec<u32>,
}

/// The distinct `key(row)` of `rows` in order of first appearance, with their
/// counts and, when `with_slots`, each row's key index: what a serial pass with
/// one hash map gives, on two threads for large inputs. Each thread finds the
/// keys of its half; the second half's are then looked up in the first's map
/// (a few hundred thousand lookups for a million rows, against a million).
pub fn distinct<T: Sync, K>(rows: &[T], key: impl Fn(&T) -> K + Sync, with_slots: bool) -> Distinct<K>
where
    K: Copy + Eq + std::hash::Hash + Send,
{
    distinct_of(rows, |r| Some(key(r)), with_slots)
}

/// [`distinct`] over the rows `key` gives a key for, the others left out
/// (and no slots: a left-out row would have none).
pub fn distinct_where<T: Sync, K>(rows: &[T], key: impl Fn(&T) -> Option<K> + Sync) -> Distinct<K>
where
    K: Copy + Eq + std::hash::Hash + Send,
{
    distinct_of(rows, key, false)
}

fn distinct_of<T: Sync, K>(rows: &[T], key: impl Fn(&T) -> Option<K> + Sync, with_slots: bool) -> Distinct<K>
where
    K: Copy + Eq + std::hash::Hash + Send,
{
    // (keys hash with foldhash, fixed seed: see `BitsMap`)
    let hasher = foldhash::fast::FixedState::default();
    let hash = |k: &K| {
        let h = std::hash::BuildHasher::hash_one(&hasher, k);
        (h ^ (h >> 32)) as u32
    };
    // `room`: slots to make room for (the first half's take the second's too)
    let half = |rows: &[T], room: usize| {
        // room for a key per four rows from the start: growing the table step
        // by step rehashed it a dozen times
        let mut table = KeyTable::with_capacity(rows.len() / 4);
        let mut d = Distinct { keys: Vec::new(), counts: Vec::new(), slots: Vec::new() };
        if with_slots {
            d.slots.reserve_exact(room);
        }
        for r in rows {
            let Some(k) = key(r) else { continue };
            let h = hash(&k);
            let i = match table.find(h, |i| d.keys[i as usize] == k) {
                Some(i) => i,
                None => {
                    let i = d.keys.len() as u32;
                    d.keys.push(k);
                    d.counts.push(0);
                    table.insert(h, i);
                    i
                }
            };
            d.counts[i as usize] += 1;
            if with_slots {
                d.slots.push(i);
            }
        }
        (table, d)
    };
    if threads(rows.len()) < 2 {
        return half(rows, rows.len()).1;
    }
    let (a, b) = rows.split_at(rows.len() / 2);
    let ((map, mut d), (_, second)) = std::thread::scope(|s| {
        let h = s.spawn(|| half(b, b.len()));
        let first = half(a, rows.len());
        // a panic in a worker is a bug here, not bad data: propagate it
        (first, h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
    });
    // the second half's keys, in their order, after the first half's: the
    // order one pass over all rows gives. Looked up all first, then added:
    // lookups that do not wait on each other's inserts overlap their cache
    // misses (the map outgrows the cache on a million customers).
    let found: Vec<Option<u32>> = second.keys.iter().map(|k| map.find(hash(k), |i| d.keys[i as usize] == *k)).collect();
    let remap: Vec<u32> = second
        .keys
        .iter()
        .zip(&second.counts)
        .zip(found)
        .map(|((&k, &c), f)| {
            let i = f.unwrap_or_else(|| {
                // (the second half's keys are distinct: none is added twice)
                d.keys.push(k);
                d.counts.push(0);
                (d.keys.len() - 1) as u32
            });
            d.counts[i as usize] += c;
            i
        })
        .collect();
    d.slots.extend(second.slots.iter().map(|&i| remap[i as usize]));
    d
}

/// Indices by a 32-bit hash of what they index (ids, keys): each entry holds
/// the hash next to the index, 8 bytes, so the table stays small enough for
/// the cache and grows without reading what it indexes again (reading 4.3M
/// customer ids in table order, a cache miss each, cost 2 s of a 7 s parse;
/// a million customers' histories take 2 MB a thread, not 8 MB of (key,
/// index) buckets). The caller hashes and says which entry is the one.
#[derive(Default)]
pub struct KeyTable(hashbrown::HashTable<u64>);

impl KeyTable {
    pub fn with_capacity(n: usize) -> Self {
        KeyTable(hashbrown::HashTable::with_capacity(n))
    }

    /// hashbrown takes a bucket from the low bits and a tag from the top 7.
    fn spread(h: u32) -> u64 {
        (u64::from(h) << 32) | u64::from(h)
    }

    /// The index with hash `h` for which `same` holds.
    #[inline]
    pub fn find(&self, h: u32, same: impl Fn(u32) -> bool) -> Option<u32> {
        self.0.find(Self::spread(h), |&e| (e >> 32) as u32 == h && same(e as u32)).map(|&e| e as u32)
    }

    /// Index `i`, whose hash is `h`, not in the table yet.
    #[inline]
    pub fn insert(&mut self, h: u32, i: u32) {
        self.0.insert_unique(Self::spread(h), (u64::from(h) << 32) | u64::from(i), |&e| Self::spread((e >> 32) as u32));
    }

    /// Empty, keeping its room.
    pub fn clear(&mut self) {
        self.0.clear();
    }

    /// Room for `n` more entries.
    pub fn reserve(&mut self, n: usize) {
        self.0.reserve(n, |&e| Self::spread((e >> 32) as u32));
    }
}

/// Σ_i f(i) for i in 0..n, componentwise over N accumulators.
pub(crate) fn sum_rows<const N: usize>(n: usize, f: impl Fn(usize) -> [f64; N] + Sync) -> [f64; N] {
    sum_blocks(n, usize::MAX, |rows, acc| {
        for i in rows {
            let v = f(i);
            for k in 0..N {
                acc[k] += v[k];
            }
        }
    })
}

/// As [`sum_rows`], a block of at most `block` consecutive rows at a time:
/// `f(lo..hi, acc)` adds rows lo..hi to `acc` in order, so the sums come out
/// in the same order as row by row (batched work, like [`crate::batch`],
/// amortises over the block).
pub(crate) fn sum_blocks<const N: usize>(
    n: usize,
    block: usize,
    f: impl Fn(std::ops::Range<usize>, &mut [f64; N]) + Sync,
) -> [f64; N] {
    let chunk_sum = |lo: usize, hi: usize| {
        let mut acc = [0.0; N];
        let mut i = lo;
        while i < hi {
            let end = i.saturating_add(block).min(hi);
            f(i..end, &mut acc);
            i = end;
        }
        acc
    };
    let t = threads(n);
    if t == 1 {
        return chunk_sum(0, n);
    }
    let per = n.div_ceil(t);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..t)
            .map(|j| {
                let cs = &chunk_sum;
                s.spawn(move || cs(j * per, ((j + 1) * per).min(n)))
            })
            .collect();
        let mut acc = [0.0; N];
        for h in handles {
            // A panic in a worker is a bug in this crate, not bad data: propagate it.
            let v = h.join().unwrap_or_else(|e| std::panic::resume_unwind(e));
            for k in 0..N {
                acc[k] += v[k];
            }
        }
        acc
    })
}

/// (0..n).map(f) collected, in one slice per thread when n is large. Each thread
/// writes its slice of the result in place: collecting per thread and joining
/// the pieces would touch twice the memory, and fresh memory costs a page
/// fault per 4 KiB (microseconds each on a VM: 56 MB of scores, 14k faults).
pub fn map_rows<T: Send>(n: usize, f: impl Fn(usize) -> T + Sync) -> Vec<T> {
    map_rows_with(n, || (), |_, i| f(i)).0
}

/// [`map_rows`] with a state per thread, made by `init` and handed to every
/// call of `f` on that thread (scratch buffers, counts); the states come back
/// in the order of the slices they covered.
pub fn map_rows_with<S: Send, T: Send>(
    n: usize,
    init: impl Fn() -> S + Sync,
    f: impl Fn(&mut S, usize) -> T + Sync,
) -> (Vec<T>, Vec<S>) {
    let t = threads(n);
    if t == 1 {
        let mut state = init();
        let out = (0..n).map(|i| f(&mut state, i)).collect();
        return (out, vec![state]);
    }
    let per = n.div_ceil(t);
    let mut out: Vec<T> = Vec::with_capacity(n);
    let states = std::thread::scope(|s| {
        let (f, init) = (&f, &init);
        let mut rest = &mut out.spare_capacity_mut()[..n];
        let (mut start, mut first, mut others) = (0, None, Vec::new());
        while !rest.is_empty() {
            let take = per.min(rest.len());
            let (slots, tail) = std::mem::take(&mut rest).split_at_mut(take);
            rest = tail;
            let lo = start;
            start += slots.len();
            let fill = move || {
                let mut state = init();
                for (k, slot) in slots.iter_mut().enumerate() {
                    slot.write(f(&mut state, lo + k));
                }
                state
            };
            match first {
                None => first = Some(fill),
                Some(_) => others.push(s.spawn(fill)),
            }
        }
        let mut states: Vec<S> = first.map(|fill| apart(fill)).into_iter().collect();
        // a panic in a worker is a bug, not bad data: passed on
        states.extend(others.into_iter().map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e))));
        states
    });
    // SAFETY: the scope has returned normally, so every thread it ran has
    // finished (a panic in any of them unwinds out of the scope instead), and
    // between them they wrote each of the first n slots exactly once.
    unsafe { out.set_len(n) };
    (out, states)
}

/// One map over the same rows at every evaluation of a likelihood whose rows
/// are costly (Pareto/NBD's hypergeometric terms, ~150 ns to tens of µs each),
/// shared with a second thread kept for the whole fit: starting a thread per
/// evaluation (~40 µs here) or waking a parked one (a round trip of 50–115 µs
/// on this VM, against 0.5 µs to a spinning one: `bench/vm_costs.rs`)
/// would eat what half of a 300 µs map saves, so the helper spins between
/// evaluations, and parks only after 2 ms without work. Both threads take
/// blocks of 16 rows until none are left; each row is computed alone, so the
/// result is the serial map's, bit for bit.
pub(crate) struct CostlyMap<'a, P, T, F> {
    n: usize,
    row: &'a F,
    helper: Option<HelperEnds<P, T>>,
    /// Generation in the high 32 bits, next unclaimed row in the low ones: a
    /// helper late for one evaluation claims nothing from the next.
    next: &'a std::sync::atomic::AtomicU64,
    /// Rows computed in this generation, by either thread.
    done: &'a std::sync::atomic::AtomicUsize,
    generation: std::sync::atomic::AtomicU32,
}

struct HelperEnds<P, T> {
    jobs: std::sync::mpsc::Sender<(u32, P)>,
    results: std::sync::Mutex<std::sync::mpsc::Receiver<(u32, usize, Vec<T>)>>,
}

const COSTLY_BLOCK: usize = 16;

/// Run `body` with a [`CostlyMap`] of `row` over `n` rows: with a helper
/// thread when there are two cores and at least `min_rows` rows.
pub(crate) fn with_costly_map<P, T, F, R>(
    n: usize,
    min_rows: usize,
    row: F,
    body: impl FnOnce(&CostlyMap<'_, P, T, F>) -> R,
) -> R
where
    P: Send + Clone,
    T: Send,
    F: Fn(&P, usize) -> T + Sync,
{
    use std::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering};
    use std::sync::mpsc::{channel, TryRecvError};
    let (next, done) = (AtomicU64::new(0), AtomicUsize::new(0));
    let generation = AtomicU32::new(0);
    if n < min_rows.max(2 * COSTLY_BLOCK) || cores() < 2 {
        return body(&CostlyMap { n, row: &row, helper: None, next: &next, done: &done, generation });
    }
    std::thread::scope(|s| {
        let (jobs, job_rx) = channel::<(u32, P)>();
        let (result_tx, results) = channel::<(u32, usize, Vec<T>)>();
        let (row, next, done) = (&row, &next, &done);
        s.spawn(move || {
            let mut idle = std::time::Instant::now();
            loop {
                let (generation, p) = match job_rx.try_recv() {
                    Ok(job) => job,
                    Err(TryRecvError::Empty) if idle.elapsed() < std::time::Duration::from_millis(2) => {
                        std::hint::spin_loop();
                        continue;
                    }
                    Err(TryRecvError::Empty) => match job_rx.recv() {
                        Ok(job) => job,
                        Err(_) => return,
                    },
                    Err(TryRecvError::Disconnected) => return,
                };
                while let Some(lo) = claim(next, generation, n) {
                    let hi = (lo + COSTLY_BLOCK).min(n);
                    if result_tx.send((generation, lo, (lo..hi).map(|k| row(&p, k)).collect())).is_err() {
                        return;
                    }
                    done.fetch_add(hi - lo, Ordering::Release);
                }
                idle = std::time::Instant::now();
            }
        });
        let map = CostlyMap {
            n,
            row,
            helper: Some(HelperEnds { jobs, results: std::sync::Mutex::new(results) }),
            next,
            done,
            generation,
        };
        // dropping the map closes the job channel: the helper returns, and the
        // scope joins it
        body(&map)
    })
}

/// Claim the next block of generation `generation`, if any is left.
fn claim(next: &std::sync::atomic::AtomicU64, generation: u32, n: usize) -> Option<usize> {
    use std::sync::atomic::Ordering;
    let mut cur = next.load(Ordering::Acquire);
    loop {
        let lo = (cur & u64::from(u32::MAX)) as usize;
        if (cur >> 32) as u32 != generation || lo >= n {
            return None;
        }
        match next.compare_exchange_weak(cur, cur + COSTLY_BLOCK as u64, Ordering::AcqRel, Ordering::Acquire) {
            Ok(_) => return Some(lo),
            Err(now) => cur = now,
        }
    }
}

impl<P: Send + Clone, T: Send, F: Fn(&P, usize) -> T + Sync> CostlyMap<'_, P, T, F> {
    /// (0..n).map(|k| row(p, k)), shared with the helper when there is one.
    pub(crate) fn map(&self, p: P) -> Vec<T> {
        use std::sync::atomic::Ordering;
        let Some(h) = &self.helper else {
            return (0..self.n).map(|k| (self.row)(&p, k)).collect();
        };
        // the previous generation is complete (every row done), so neither
        // thread is still counting it
        let generation = self.generation.fetch_add(1, Ordering::Relaxed).wrapping_add(1);
        self.done.store(0, Ordering::Relaxed);
        self.next.store(u64::from(generation) << 32, Ordering::Release);
        // a helper that has stopped (it only does when the map is dropped)
        // leaves every block to this thread
        let _ = h.jobs.send((generation, p.clone()));
        let mut blocks = Vec::new();
        while let Some(lo) = claim(self.next, generation, self.n) {
            let hi = (lo + COSTLY_BLOCK).min(self.n);
            blocks.push((lo, (lo..hi).map(|k| (self.row)(&p, k)).collect::<Vec<T>>()));
            self.done.fetch_add(hi - lo, Ordering::Release);
        }
        let results = h.results.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            // the helper sends a block before counting it done, so once all
            // are counted, all are in the channel
            let complete = self.done.load(Ordering::Acquire) >= self.n;
            loop {
                match results.try_recv() {
                    Ok((g, lo, v)) if g == generation => blocks.push((lo, v)),
                    Ok(_) => {}
                    Err(std::sync::mpsc::TryRecvError::Empty) => break,
                    Err(std::sync::mpsc::TryRecvError::Disconnected) => {
                        // only a panic stops the helper while the map lives:
                        // a bug, passed on when the scope joins it
                        panic!("the fit's helper thread stopped");
                    }
                }
            }
            if complete {
                break;
            }
            std::hint::spin_loop();
        }
        blocks.sort_unstable_by_key(|b| b.0);
        blocks.into_iter().flat_map(|b| b.1).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distinct_where_is_distinct_over_the_rows_kept() {
        for n in [0, 7, 10_000, 300_001] {
            let rows: Vec<u64> = (0..n as u64).map(|i| i.wrapping_mul(0x9e37_79b9) % 5_003).collect();
            let keep = |&r: &u64| (r % 3 != 0).then_some(r);
            let kept: Vec<u64> = rows.iter().filter_map(keep).collect();
            assert_eq!(distinct_where(&rows, keep), distinct(&kept, |&r| r, false), "{n}");
        }
    }

    #[test]
    fn distinct_is_the_serial_pass() {
        // keys shared by both halves, keys only in the second, in scrambled order
        for n in [0, 1, 39_999, 40_000, 100_003] {
            let rows: Vec<u64> = (0..n as u64).map(|i| (i * 7919 % 1013) + (i / 60_000) * 5000).collect();
            let mut want = Distinct::default();
            let mut seen = std::collections::HashMap::new();
            for &r in &rows {
                let i = *seen.entry(r).or_insert_with(|| {
                    want.keys.push(r);
                    want.counts.push(0);
                    want.keys.len() - 1
                });
                want.counts[i] += 1;
                want.slots.push(i as u32);
            }
            assert_eq!(distinct(&rows, |&r| r, true), want, "{n}");
            let no_slots = distinct(&rows, |&r| r, false);
            assert_eq!((no_slots.keys, no_slots.counts, no_slots.slots.len()), (want.keys, want.counts, 0), "{n}");
        }
    }

    #[test]
    fn map_rows_is_the_serial_map() {
        for n in [0, 1, 19_999, 40_000, 100_003] {
            assert_eq!(map_rows(n, |i| i * 3), (0..n).map(|i| i * 3).collect::<Vec<_>>(), "{n}");
        }
        // owned values: each written once, each dropped once (Miri-free check:
        // the strings read back whole)
        let v = map_rows(50_001, |i| i.to_string());
        assert!(v.iter().enumerate().all(|(i, s)| *s == i.to_string()));
    }

    /// The shared map gives the serial map at every evaluation, whichever
    /// thread took which block: rows of very uneven cost, many generations
    /// (some far apart, so the helper parks and is woken), sizes around the
    /// block and the threshold, and owned values.
    #[test]
    fn costly_map_is_the_serial_map_at_every_evaluation() {
        let row = |p: &u64, k: usize| {
            // every 97th row is slow, so blocks finish out of order
            let spin = if k % 97 == 0 { 20_000 } else { 10 };
            let mut h = *p ^ k as u64;
            for _ in 0..spin {
                h = h.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            }
            format!("{h:x}")
        };
        for n in [0, 1, 15, 16, 17, 31, 32, 33, 511, 512, 513, 2_000] {
            with_costly_map(n, 0, row, |map| {
                for p in 0..40u64 {
                    if p % 13 == 12 {
                        // long enough for the helper to park
                        std::thread::sleep(std::time::Duration::from_millis(3));
                    }
                    let want: Vec<String> = (0..n).map(|k| row(&p, k)).collect();
                    assert_eq!(map.map(p), want, "n = {n}, evaluation {p}");
                }
            });
        }
    }

    #[test]
    fn map_rows_with_keeps_a_state_per_slice() {
        let (v, states) = map_rows_with(90_000, Vec::new, |seen: &mut Vec<usize>, i| {
            seen.push(i);
            i + 1
        });
        assert_eq!(v, (1..=90_000).collect::<Vec<_>>());
        assert_eq!(states.concat(), (0..90_000).collect::<Vec<_>>());
    }

    #[test]
    fn map_rows_passes_a_panic_on() {
        let r = std::panic::catch_unwind(|| map_rows(60_000, |i| if i == 59_000 { panic!("row {i}") } else { i }));
        assert!(r.is_err());
    }
}
