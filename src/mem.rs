//! Zeroing big ranges with non-temporal stores (gomap only): the `huge`
//! path of Go's `memclrNoHeapPointers` on amd64, used by [`memclr`]
//! (`crate::map`'s twin of Go's memclr helpers) for ranges too large for the
//! caches.
//!
//! [`memclr`]: crate::map

use core::ptr;

/// From this size on, [`memclr`] writes with non-temporal stores, as Go's
/// `memclrNoHeapPointers` does on amd64 (memclr_amd64.s, its `huge` path
/// from 32 MiB): an array that large does not fit the caches, and stores
/// that bypass them skip reading every line before overwriting it (on the
/// 2-core VM: 317 MB zeroed in 17 ms instead of memset's 31 ms). In gomap
/// only `mapclear` zeroes that much at once.
pub(crate) const MEMCLR_STREAM_MIN: usize = 32 << 20;

/// [`memclr`] for big ranges: 16-byte non-temporal stores between the
/// aligned ends, ordinary stores for the unaligned head and tail, then a
/// store fence so that the zeroes are ordered before anything after the
/// call (e.g. the write that publishes the cleared map).
///
/// # Safety
/// As [`memclr`].
#[cold]
pub(crate) unsafe fn memclr_stream(p: *mut u8, n: usize) {
    #[cfg(all(target_arch = "x86_64", not(miri)))]
    {
        use core::arch::x86_64::{__m128i, _mm_setzero_si128, _mm_sfence, _mm_stream_si128};
        let head = p.align_offset(64).min(n);
        let body = (n - head) & !63;
        // SAFETY: `p` is valid for writes of `n` bytes (caller); the head,
        // the 64-aligned body and the tail partition them. SSE2 is part of
        // the x86_64 baseline; `q` is 16-aligned for the streaming stores.
        unsafe {
            ptr::write_bytes(p, 0, head);
            let z = _mm_setzero_si128();
            let mut q = p.add(head);
            let end = q.add(body);
            while q < end {
                _mm_stream_si128(q.cast::<__m128i>(), z);
                _mm_stream_si128(q.add(16).cast::<__m128i>(), z);
                _mm_stream_si128(q.add(32).cast::<__m128i>(), z);
                _mm_stream_si128(q.add(48).cast::<__m128i>(), z);
                q = q.add(64);
            }
            _mm_sfence();
            ptr::write_bytes(end, 0, n - head - body);
        }
    }
    #[cfg(not(all(target_arch = "x86_64", not(miri))))]
    // SAFETY: forwarded (not reached: `memclr` only calls this on x86_64).
    unsafe {
        ptr::write_bytes(p, 0, n)
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
            // SAFETY: start + len <= v.len().
            unsafe { memclr(v.as_mut_ptr().add(start), len) };
            assert!(v[..start].iter().all(|&x| x == 0xa5), "before {start}");
            assert!(v[start..start + len].iter().all(|&x| x == 0), "inside {start}+{len}");
            assert!(v[start + len..].iter().all(|&x| x == 0xa5), "after {start}+{len}");
        }
    }
}
