//! The system allocator, with large blocks mapped straight from the kernel
//! on transparent huge pages.
//!
//! The pipeline's large buffers (16 MB reader blocks, per-row and
//! per-customer columns) are fresh memory, and on 4 KiB pages every first
//! touch is a page fault: on a 1M-customer log a profile put 15-20% of
//! `winback predict` in the kernel's fault path, much of it in glibc's
//! `realloc` copying a growing column into fresh pages. Blocks of 4 MiB and
//! more are therefore mapped here, 2 MiB-aligned and advised with
//! `MADV_HUGEPAGE` (THP is `madvise` on Debian), so one fault serves 2 MiB,
//! and they grow with `mremap`, which moves pages instead of copying bytes.
//! It is what glibc's `glibc.malloc.hugetlb=1` tunable does for its own
//! mmapped chunks. Everything smaller goes to the system allocator as before.

use std::alloc::{GlobalAlloc, Layout, System};
use std::ptr::null_mut;

/// Blocks at least this large are mapped here.
const MIN_MAPPED: usize = 1 << 20;
const HUGE_PAGE: usize = 2 << 20;
const PAGE: usize = 4096;

pub struct HugePages;

fn mapped(layout: &Layout) -> bool {
    layout.size() >= MIN_MAPPED && layout.align() <= PAGE
}

/// Whole huge pages: a mapping shorter than 2 MiB, or its last partial
/// 2 MiB, would get 4 KiB pages only. Untouched pages cost nothing.
fn map_len(size: usize) -> usize {
    size.div_ceil(HUGE_PAGE) * HUGE_PAGE
}

/// A fresh, zeroed, 2 MiB-aligned mapping of `len` bytes (a multiple of the
/// huge page size), advised for huge pages; null when the kernel refuses.
unsafe fn map(len: usize) -> *mut u8 {
    let Some(padded) = len.checked_add(HUGE_PAGE) else { return null_mut() };
    // SAFETY: an anonymous private mapping touches no existing memory.
    let raw = unsafe {
        libc::mmap(
            null_mut(),
            padded,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    if raw == libc::MAP_FAILED {
        return null_mut();
    }
    let raw = raw as usize;
    let start = raw.div_ceil(HUGE_PAGE) * HUGE_PAGE;
    // SAFETY: both trimmed ranges lie in the mapping just made and are page
    // aligned; what stays is [start, start + len).
    unsafe {
        if start > raw {
            libc::munmap(raw as *mut libc::c_void, start - raw);
        }
        let tail = raw + padded - (start + len);
        if tail > 0 {
            libc::munmap((start + len) as *mut libc::c_void, tail);
        }
        // Only a hint: where THP is off it changes nothing.
        libc::madvise(start as *mut libc::c_void, len, libc::MADV_HUGEPAGE);
    }
    start as *mut u8
}

// SAFETY: blocks of `MIN_MAPPED` bytes and more (with page alignment or less)
// come from `map` and go back with `munmap` of the same length, which
// `mapped(layout)` and `map_len(layout.size())` recompute from the layout the
// caller must pass back; everything else is forwarded to `System` unchanged.
unsafe impl GlobalAlloc for HugePages {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if mapped(&layout) {
            unsafe { map(map_len(layout.size())) }
        } else {
            unsafe { System.alloc(layout) }
        }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if mapped(&layout) {
            // fresh anonymous mappings are zero already
            unsafe { map(map_len(layout.size())) }
        } else {
            unsafe { System.alloc_zeroed(layout) }
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if mapped(&layout) {
            unsafe {
                libc::munmap(ptr as *mut libc::c_void, map_len(layout.size()));
            }
        } else {
            unsafe { System.dealloc(ptr, layout) }
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller guarantees `new_size`, rounded to the alignment,
        // does not overflow isize.
        let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        match (mapped(&layout), mapped(&new_layout)) {
            (false, false) => unsafe { System.realloc(ptr, layout, new_size) },
            (true, true) => {
                let (old_len, new_len) = (map_len(layout.size()), map_len(new_size));
                if old_len == new_len {
                    return ptr;
                }
                // SAFETY: [ptr, ptr + old_len) is a mapping made by `map`.
                let new = unsafe { libc::mremap(ptr as *mut libc::c_void, old_len, new_len, libc::MREMAP_MAYMOVE) };
                if new == libc::MAP_FAILED {
                    return null_mut();
                }
                if new_len > old_len {
                    unsafe {
                        libc::madvise(new, new_len, libc::MADV_HUGEPAGE);
                    }
                }
                new as *mut u8
            }
            // crossing the threshold either way: a new block and a copy of
            // what both hold
            _ => {
                let new = unsafe { self.alloc(new_layout) };
                if !new.is_null() {
                    unsafe {
                        std::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size));
                        self.dealloc(ptr, layout);
                    }
                }
                new
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pattern(i: usize) -> u8 {
        (i.wrapping_mul(31) >> 3) as u8
    }

    #[test]
    fn growing_and_shrinking_across_the_threshold_keeps_every_byte() {
        let a = HugePages;
        let small = Layout::from_size_align(1000, 8).unwrap();
        unsafe {
            let mut p = a.alloc(small);
            assert!(!p.is_null());
            for i in 0..1000 {
                *p.add(i) = pattern(i);
            }
            let mut layout = small;
            // small -> mapped -> same huge page -> mremap larger -> small again
            for &size in &[3 << 20, (3 << 20) + 100, 9 << 20, 40 << 20, 5000] {
                let old = layout.size();
                p = a.realloc(p, layout, size);
                assert!(!p.is_null());
                layout = Layout::from_size_align(size, 8).unwrap();
                for i in 0..old.min(size) {
                    assert_eq!(*p.add(i), pattern(i), "byte {i} after growing to {size}");
                }
                for i in old.min(size)..size {
                    *p.add(i) = pattern(i);
                }
            }
            a.dealloc(p, layout);
        }
    }

    #[test]
    fn zeroed_large_blocks_are_zero_and_aligned() {
        let a = HugePages;
        let layout = Layout::from_size_align(5 << 20, 64).unwrap();
        unsafe {
            let p = a.alloc_zeroed(layout);
            assert!(!p.is_null());
            assert_eq!(p as usize % HUGE_PAGE, 0);
            assert!((0..layout.size()).step_by(4093).all(|i| *p.add(i) == 0));
            a.dealloc(p, layout);
        }
        // alignment beyond a page goes to the system allocator
        let wide = Layout::from_size_align(2 << 20, 1 << 16).unwrap();
        assert!(!mapped(&wide));
        unsafe {
            let p = a.alloc(wide);
            assert_eq!(p as usize % (1 << 16), 0);
            a.dealloc(p, wide);
        }
    }
}
