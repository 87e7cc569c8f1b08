//! Row sums split across the machine's cores. Plain scoped threads: the work is one
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

/// (0..n).map(f) collected, in two halves on two threads when n is large.
pub(crate) fn map_rows<T: Send>(n: usize, f: impl Fn(usize) -> T + Sync) -> Vec<T> {
    let t = threads(n);
    if t == 1 {
        return (0..n).map(f).collect();
    }
    let per = n.div_ceil(t);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..t)
            .map(|j| {
                let f = &f;
                s.spawn(move || (j * per..((j + 1) * per).min(n)).map(f).collect::<Vec<T>>())
            })
            .collect();
        let mut out = Vec::with_capacity(n);
        for h in handles {
            out.extend(h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)));
        }
        out
    })
}
