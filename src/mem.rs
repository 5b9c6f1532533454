//! Zeroing big ranges with non-temporal stores (gomap only): the `huge`
//! path of Go's `memclrNoHeapPointers` on amd64, used by [`memclr`]
//! (`crate::map`'s twin of Go's memclr helpers) for ranges too large for the
//! caches.
//!
//! [`memclr`]: crate::map::memclr

use core::ptr;

/// From this size on, [`memclr`](crate::map::memclr) writes with non-temporal stores, as Go's
/// `memclrNoHeapPointers` does on amd64 (memclr_amd64.s, its `huge` path
/// from 32 MiB): an array that large does not fit the caches, and stores
/// that bypass them skip reading every line before overwriting it (the
/// measured gain: docs/benchmarks.md, "Huge pages and streaming stores").
/// In gomap only `mapclear` zeroes that much at once.
pub(crate) const MEMCLR_STREAM_MIN: usize = 32 << 20;

/// [`memclr`](crate::map::memclr) for big ranges: 16-byte non-temporal
/// stores between the aligned ends, ordinary stores for the unaligned head
/// and tail, then a store fence so that the zeroes are ordered before
/// anything after the call (e.g. the write that publishes the cleared map).
///
/// # Safety
/// * `p` is valid for writes of `n` bytes (within one allocation).
#[cold]
pub(crate) unsafe fn memclr_stream(p: *mut u8, n: usize) {
    #[cfg(all(target_arch = "x86_64", not(miri)))]
    {
        use core::arch::x86_64::_mm_sfence;
        // `head`, the 64-aligned `body` and the tail partition [p, p + n).
        // `align_offset` may give up (usize::MAX): then `head == n` and
        // everything is written bytewise.
        let head = p.align_offset(64).min(n);
        let body = (n - head) & !63;
        // SAFETY: `head <= n` bytes at `p`: writable (caller).
        unsafe { ptr::write_bytes(p, 0, head) };
        // SAFETY: `head <= n`: `p + head` is inside the caller's range or one
        // past it.
        let mut q = unsafe { p.add(head) };
        // SAFETY: `head + body <= n`: inside the range or one past it.
        let end = unsafe { q.add(body) };
        while q < end {
            // SAFETY: 1. `q + 64 <= end` (`body` is a multiple of 64), so 64
            // writable bytes; 2. `q` is 64-aligned: `body > 0` means `head`
            // is `p`'s real distance to 64-alignment.
            unsafe { stream_zero64(q) };
            // SAFETY: `q + 64 <= end`: still inside the range or one past it.
            q = unsafe { q.add(64) };
        }
        // SAFETY: SSE (x86_64 baseline); a fence, no memory access.
        unsafe { _mm_sfence() };
        // SAFETY: the tail, `n - head - body` bytes from `end`: writable
        // (caller).
        unsafe { ptr::write_bytes(end, 0, n - head - body) }
    }
    #[cfg(not(all(target_arch = "x86_64", not(miri))))]
    // SAFETY: `p` is valid for writes of `n` bytes (caller). (Not reached:
    // `memclr` only calls this on x86_64 outside Miri.)
    unsafe {
        ptr::write_bytes(p, 0, n)
    }
}

/// Zeroes the 64 bytes at `q` with four non-temporal 16-byte stores
/// (`MOVNTDQ`; SSE2, part of the x86_64 baseline).
///
/// # Safety
/// * `q` is valid for writes of 64 bytes;
/// * `q` is 16-aligned.
#[cfg(all(target_arch = "x86_64", not(miri)))]
#[inline(always)]
unsafe fn stream_zero64(q: *mut u8) {
    use core::arch::x86_64::{__m128i, _mm_setzero_si128, _mm_stream_si128};
    // SAFETY: SSE2 (x86_64 baseline); register-only.
    let z = unsafe { _mm_setzero_si128() };
    for k in 0..4 {
        // SAFETY: `16 * k < 64`: inside the 64 writable bytes (point 1).
        let r = unsafe { q.add(16 * k) };
        // SAFETY: 16 writable bytes at `r` (point 1), 16-aligned (point 2,
        // and `16 * k`).
        unsafe { _mm_stream_si128(r.cast::<__m128i>(), z) };
    }
}

#[cfg(test)]
mod memclr_tests {
    use super::*;
    use crate::map::memclr;

    /// The streaming path zeroes exactly the range it is given, whatever the
    /// alignment of its ends, and nothing around it.
    #[test]
    #[cfg_attr(miri, ignore = "40 MB buffers; Miri takes the plain path anyway")]
    fn big_clears_zero_exactly_the_range() {
        let n = MEMCLR_STREAM_MIN + 4096 + 100;
        let mut v = vec![0xa5u8; n + 200];
        for (start, len) in [(0, n), (3, n - 7), (61, n - 61), (64, MEMCLR_STREAM_MIN + 1)] {
            v.fill(0xa5);
            let range = &mut v[start..start + len];
            // SAFETY: `range` is valid for writes of `len` bytes.
            unsafe { memclr(range.as_mut_ptr(), len) };
            assert!(v[..start].iter().all(|&x| x == 0xa5), "before {start}");
            assert!(v[start..start + len].iter().all(|&x| x == 0), "inside {start}+{len}");
            assert!(v[start + len..].iter().all(|&x| x == 0xa5), "after {start}+{len}");
        }
    }
}
