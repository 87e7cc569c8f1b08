//! The C allocator's settings for commands that run once over a file.
//!
//! By default glibc serves blocks of 128 KiB and more (the threshold rises to
//! the size of the largest block freed) with `mmap` and gives them back on
//! `free`, and trims the heap's top at 128 KiB: a vector freed in one stage
//! and one of the same size made in the next is memory the kernel clears
//! and maps again, a page fault a 4 KiB page (~2 µs on this VM). `predict`
//! on the 1M log took ~62k faults with 176 MiB at its peak: a third of them
//! were pages it had before. Blocks up to 32 MiB (the most the setting
//! allows) now come from the heap, which keeps what is freed, and one arena
//! serves every thread (the parser's threads free what the main thread
//! made): 1M `predict` 62k → 46k faults, medians −5% (bench/README, "Tenth
//! pass"); the peak grows (10M `predict` 557–570 → ~590–610 MiB).
//!
//! Not for `serve`: a server that runs for weeks gives back what it freed.

/// Tune the allocator for a batch command (a no-op off glibc).
pub fn for_batch() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        use std::ffi::c_int;
        // glibc's malloc.h
        const M_TRIM_THRESHOLD: c_int = -1;
        const M_MMAP_THRESHOLD: c_int = -3;
        const M_ARENA_MAX: c_int = -8;
        unsafe extern "C" {
            fn mallopt(param: c_int, value: c_int) -> c_int;
        }
        // SAFETY: mallopt only sets the allocator's parameters; called
        // before any thread is started (the arena limit is read when a thread
        // first allocates). Returns 0 when a value is refused: the default
        // stays, which is only slower.
        unsafe {
            mallopt(M_MMAP_THRESHOLD, 32 << 20);
            mallopt(M_TRIM_THRESHOLD, c_int::MAX);
            mallopt(M_ARENA_MAX, 1);
        }
    }
}
