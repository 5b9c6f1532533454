//! Word-at-a-time tophash scans (gomap only; no Go twin).
//!
//! Go's loops look at a bucket's 8 tophash bytes one at a time. These
//! helpers read the 8 bytes as one little-endian word and find, with a few
//! arithmetic operations and no data-dependent branch per slot, exactly the
//! slots Go's byte loops would stop at: the slots whose tophash equals a
//! value (lookups), the live slots (iteration), the non-empty ones. The fast
//! paths and the generic code use them; `swar_tests` checks them against
//! the byte loops for every byte value in every position.

use crate::map::EVACUATED_EMPTY;

// ---------------------------------------------------------------------------

const LO7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
const HI: u64 = 0x8080_8080_8080_8080;
const ONES: u64 = 0x0101_0101_0101_0101;

/// The 8 tophash bytes of bucket `b` as one word, byte `i` = slot `i`.
///
/// # Safety
/// * `b` is a bucket of some `t` (see the crate docs): valid for reads of
///   its first 8 bytes, `tophash[8]`. Only 4-aligned in general: Go's
///   32-bit buckets can be 140 bytes, so every other bucket of an array
///   starts at 4 mod 8.
#[inline(always)]
pub(crate) unsafe fn tophash_word(b: *const u8) -> u64 {
    // SAFETY: `read_unaligned`: `b` is valid for reads of 8 initialised
    // bytes (`tophash[8]`, point 1); no alignment needed (on x86 and arm64
    // the same load as an aligned one).
    u64::from_le(unsafe { b.cast::<u64>().read_unaligned() })
}

/// High bit of each byte of `w` set iff that byte is not zero (exact: no
/// carries cross bytes).
#[inline(always)]
fn nonzero_bytes(w: u64) -> u64 {
    (((w & LO7) + LO7) | w) & HI
}

/// One bit per byte (bit `i` = byte `i`'s high bit) from a [`nonzero_bytes`]-
/// style word.
#[inline(always)]
fn byte_mask(hi_bits: u64) -> u32 {
    ((hi_bits >> 7).wrapping_mul(0x0102_0408_1020_4080) >> 56) as u32
}

/// Bit `i` set iff slot `i`'s tophash equals `top`.
#[inline(always)]
pub(crate) fn match_byte(w: u64, top: u8) -> u32 {
    #[cfg(all(target_arch = "x86_64", not(miri)))]
    {
        use core::arch::x86_64::{_mm_cmpeq_epi8, _mm_cvtsi64_si128, _mm_movemask_epi8, _mm_set1_epi8};
        // SSE2: compare the 8 bytes at once and take one bit per byte (the
        // upper 8 lanes are zero, `top` is not compared there because their
        // bits are masked off). Each intrinsic's only requirement is SSE2,
        // part of the x86_64 baseline; none touches memory.
        // SAFETY: SSE2 is enabled on every x86_64 target; register-only.
        let words = unsafe { _mm_cvtsi64_si128(w as i64) };
        // SAFETY: SSE2 is enabled on every x86_64 target; register-only.
        let tops = unsafe { _mm_set1_epi8(top as i8) };
        // SAFETY: SSE2 is enabled on every x86_64 target; register-only.
        let eq = unsafe { _mm_cmpeq_epi8(words, tops) };
        // SAFETY: SSE2 is enabled on every x86_64 target; register-only.
        (unsafe { _mm_movemask_epi8(eq) }) as u32 & 0xff
    }
    #[cfg(not(all(target_arch = "x86_64", not(miri))))]
    {
        !byte_mask(nonzero_bytes(w ^ (ONES * top as u64))) & 0xff
    }
}

/// The bits below the lowest set bit of `mask` (all 8 if `mask` is 0): the
/// slots a byte loop visits before it stops at the first slot in `mask`.
#[inline(always)]
pub(crate) fn below_first(mask: u32) -> u32 {
    (mask.wrapping_sub(1) & !mask) & 0xff
}

/// Bit `i` set iff slot `i` is one an iteration produces or checks:
/// neither empty ([`is_empty`](crate::map::is_empty)) nor [`EVACUATED_EMPTY`].
#[inline(always)]
pub(crate) fn iter_slots(w: u64) -> u32 {
    // byte > 1 <=> byte & 0xfe != 0; byte != 4 <=> byte ^ 4 != 0.
    byte_mask(nonzero_bytes(w & (ONES * 0xfe)) & nonzero_bytes(w ^ (ONES * EVACUATED_EMPTY as u64)))
}

/// Bit `i` set iff slot `i` is not empty (`!isEmpty(tophash[i])`): its
/// tophash is neither `emptyRest` (0) nor `emptyOne` (1).
#[inline(always)]
pub(crate) fn nonempty_slots(w: u64) -> u32 {
    // byte > 1 <=> byte & 0xfe != 0.
    byte_mask(nonzero_bytes(w & (ONES * 0xfe)))
}

#[cfg(test)]
mod swar_tests {
    use super::*;
    use crate::map::{MIN_TOP_HASH, is_empty};

    /// The word-at-a-time scans agree with the byte loops they replace, for
    /// every byte value in every position and for random mixes of the
    /// special tophash values.
    #[test]
    fn word_scans_equal_byte_loops() {
        let check = |bytes: [u8; 8]| {
            let w = u64::from_le_bytes(bytes);
            let want_live =
                (0..8).filter(|&i| !is_empty(bytes[i]) && bytes[i] != EVACUATED_EMPTY).fold(0, |m, i| m | 1 << i);
            assert_eq!(iter_slots(w), want_live, "{bytes:?}");
            let want_nonempty = (0..8).filter(|&i| !is_empty(bytes[i])).fold(0, |m, i| m | 1 << i);
            assert_eq!(nonempty_slots(w), want_nonempty, "{bytes:?}");
            for top in [0u8, 1, 2, 4, 5, 0x7f, 0x80, 0xfe, 0xff, bytes[3]] {
                let want = (0..8).filter(|&i| bytes[i] == top).fold(0, |m, i| m | 1 << i);
                assert_eq!(match_byte(w, top), want, "{bytes:?} top {top}");
            }
        };
        for v in 0..=255u8 {
            for pos in 0..8 {
                let mut b = [MIN_TOP_HASH; 8];
                b[pos] = v;
                check(b);
                let mut b = [0u8; 8];
                b[pos] = v;
                check(b);
            }
        }
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..if cfg!(miri) { 200 } else { 20_000 } {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let special = [0u8, 1, 2, 3, 4, 5, 6, 0x80, 0xff];
            let b: [u8; 8] = core::array::from_fn(|i| {
                let r = (x >> (8 * i)) as u8;
                if r & 1 == 0 { special[(r as usize >> 1) % special.len()] } else { r }
            });
            check(b);
        }
    }
}
