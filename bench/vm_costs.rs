//! What this machine charges for the things the fit code weighs: starting a
//! thread, waking a parked one, and the exp + ln + division of one BG/NBD row;
//! then how often the amount reader's old two-rounding fast path
//! (int + frac / 10^k) missed `str::parse`, against the one-rounding m / 10^k;
//! then what every process pays before its work: a `cpuid` (trapped by the
//! hypervisor; glibc, libgcc and Rust's feature detection each run several)
//! and a first-touch page fault, against faulting the same pages in with one
//! `madvise(MADV_POPULATE_WRITE)`.
//!
//!   rustc -O bench/vm_costs.rs -o /tmp/vm_costs && /tmp/vm_costs
use std::hint::black_box;
use std::sync::mpsc;
use std::time::Instant;

fn main() {
    // 1. a scoped thread started and joined
    let reps = 2000;
    let t = Instant::now();
    for i in 0..reps {
        std::thread::scope(|s| black_box(s.spawn(move || i * 2).join().unwrap_or(0)));
    }
    println!("scoped thread spawn + join: {:.1} us", t.elapsed().as_secs_f64() / reps as f64 * 1e6);

    // 2. a channel round trip to a helper thread; with a gap of busy work
    // between jobs the helper has parked by the time the job comes
    let (jt, jr) = mpsc::channel::<u64>();
    let (rt, rr) = mpsc::channel::<u64>();
    std::thread::scope(|s| {
        s.spawn(move || {
            for j in jr {
                if rt.send(j + 1).is_err() {
                    return;
                }
            }
        });
        for gap_us in [0u128, 100, 300] {
            let reps = 300;
            let mut total = 0.0;
            for i in 0..reps {
                let t0 = Instant::now();
                while t0.elapsed().as_micros() < gap_us {}
                let t = Instant::now();
                let _ = jt.send(i);
                let _ = rr.recv();
                total += t.elapsed().as_secs_f64();
            }
            println!("round trip to a helper after {gap_us:>3} us of other work: {:.1} us", total / reps as f64 * 1e6);
        }
        drop(jt);
    });

    // 2b. the same round trip to a helper that spins on try_recv (as the
    // Pareto/NBD helper does between evaluations)
    let (jt, jr) = mpsc::channel::<u64>();
    let (rt, rr) = mpsc::channel::<u64>();
    std::thread::scope(|s| {
        s.spawn(move || loop {
            match jr.try_recv() {
                Ok(j) => {
                    if rt.send(j + 1).is_err() {
                        return;
                    }
                }
                Err(mpsc::TryRecvError::Empty) => std::hint::spin_loop(),
                Err(mpsc::TryRecvError::Disconnected) => return,
            }
        });
        let reps = 3000;
        let t = Instant::now();
        for i in 0..reps {
            let _ = jt.send(i);
            loop {
                match rr.try_recv() {
                    Ok(_) => break,
                    Err(_) => std::hint::spin_loop(),
                }
            }
        }
        println!("round trip to a spinning helper: {:.1} us", t.elapsed().as_secs_f64() / reps as f64 * 1e6);
        drop(jt);
    });

    // 3. one BG/NBD row's transcendental work
    let xs: Vec<f64> = (0..1016).map(|i| -(i as f64) * 0.013 - 0.1).collect();
    let reps = 2000;
    let t = Instant::now();
    let mut s = 0.0;
    for _ in 0..reps {
        for &x in black_box(&xs) {
            let e = x.exp();
            s += (1.0 + e).ln() + 1.0 / (1.0 + e);
        }
    }
    let per_row = t.elapsed().as_secs_f64() / (reps * xs.len()) as f64;
    println!("exp + ln + division, one row: {:.2} ns ({})", per_row * 1e9, black_box(s) > 0.0);

    // 4. amounts: two roundings against one
    let parts = |s: &str| {
        let (i, f) = s.split_once('.').unwrap_or((s, ""));
        let scale = 10u64.pow(f.len() as u32);
        (i.parse::<u64>().unwrap_or(0), f.parse::<u64>().unwrap_or(0), scale)
    };
    let (mut n, mut twice, mut once) = (0, 0, 0);
    let mut check = |s: String| {
        let want: f64 = s.parse().unwrap_or(f64::NAN);
        let (i, f, scale) = parts(&s);
        n += 1;
        twice += usize::from(i as f64 + f as f64 / scale as f64 != want);
        once += usize::from((i * scale + f) as f64 / scale as f64 != want);
    };
    for cents in 0..10_000_000u64 {
        check(format!("{}.{:02}", cents / 100, cents % 100));
    }
    for k in 0..2_000_000u64 {
        check(format!("{}.{:04}", k / 7, (k * 7919) % 10_000));
    }
    println!("{n} amounts: int + frac/10^k differs from str::parse in {twice}, m/10^k in {once}");

    // 5. one cpuid (leaf 7)
    #[cfg(target_arch = "x86_64")]
    {
        let reps = 2000;
        let t = Instant::now();
        for _ in 0..reps {
            // (safe since Rust 1.87: cpuid exists on every x86_64 CPU)
            black_box(std::arch::x86_64::__cpuid_count(7, 0));
        }
        println!("cpuid: {:.2} us", t.elapsed().as_secs_f64() / reps as f64 * 1e6);
    }

    // 6. first touch of fresh anonymous pages, one fault each, against one
    // madvise(MADV_POPULATE_WRITE) over as many
    #[cfg(target_os = "linux")]
    {
        unsafe extern "C" {
            fn madvise(addr: *mut std::ffi::c_void, len: usize, advice: std::ffi::c_int) -> std::ffi::c_int;
        }
        const PAGES: usize = 4096;
        let fresh = || {
            let mut v: Vec<u8> = Vec::with_capacity(PAGES * 4096 + 4096);
            let at = (4096 - v.as_ptr() as usize % 4096) % 4096;
            (v.as_mut_ptr() as usize + at, v)
        };
        let (p, v) = fresh();
        let t = Instant::now();
        for k in 0..PAGES {
            // SAFETY: within v's capacity; a byte written, never read as a T
            unsafe { ((p + k * 4096) as *mut u8).write_volatile(1) };
        }
        let touched = t.elapsed().as_secs_f64() / PAGES as f64;
        drop(v);
        let (p, v) = fresh();
        let t = Instant::now();
        // SAFETY: madvise over memory v owns; MADV_POPULATE_WRITE (23) only faults pages in
        let ok = unsafe { madvise(p as *mut _, PAGES * 4096, 23) } == 0;
        let populated = t.elapsed().as_secs_f64() / PAGES as f64;
        drop(v);
        println!(
            "a fresh 4 KiB page: touched {:.2} us, populated {:.2} us{}",
            touched * 1e6,
            populated * 1e6,
            if ok { "" } else { " (madvise refused)" }
        );
    }
}
