//! Row sums and maps split across the machine's cores. Plain scoped threads: the work is one
//! flat loop, so a thread pool crate would add build time and nothing else.

use std::sync::OnceLock;

/// Below this many rows a second thread costs more than it saves.
const MIN_ROWS_PER_THREAD: usize = 20_000;

/// Threads for `n` rows. The machine's core count is asked only when `n` could
/// use two: on Linux it reads cgroup files, a quarter of a millisecond that a
/// 2,000-customer fit would otherwise pay.
fn threads(n: usize) -> usize {
    static N: OnceLock<usize> = OnceLock::new();
    let wanted = n / MIN_ROWS_PER_THREAD;
    if wanted < 2 {
        return 1;
    }
    wanted.min(*N.get_or_init(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)))
}

/// Σ_i f(i) for i in 0..n, componentwise over N accumulators.
pub(crate) fn sum_rows<const N: usize>(n: usize, f: impl Fn(usize) -> [f64; N] + Sync) -> [f64; N] {
    let chunk_sum = |lo: usize, hi: usize| {
        let mut acc = [0.0; N];
        for i in lo..hi {
            let v = f(i);
            for k in 0..N {
                acc[k] += v[k];
            }
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
        let mut states: Vec<S> = first.map(|mut fill| fill()).into_iter().collect();
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

#[cfg(test)]
mod tests {
    use super::*;

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
