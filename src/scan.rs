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

/// What Go's lookup and assign loops see in one bucket for a tophash
/// `top >= MIN_TOP_HASH` (never an empty marker): the slots whose tophash
/// is `top` before the first `emptyRest`, in slot order (the keys the loop
/// compares), and whether an `emptyRest` ends the chain in this bucket.
pub(crate) struct TopScan {
    /// The candidate slots not yet returned, one bit each.
    cand: u32,
    /// Whether the bucket holds an `emptyRest`: the chain ends here.
    pub(crate) chain_ends: bool,
}

impl TopScan {
    /// The scan of the bucket whose tophash word is `w` for `top`.
    #[inline(always)]
    pub(crate) fn new(w: u64, top: u8) -> TopScan {
        let rest = match_byte(w, crate::map::EMPTY_REST);
        TopScan { cand: match_byte(w, top) & below_first(rest), chain_ends: rest != 0 }
    }
}

impl Iterator for TopScan {
    type Item = usize;

    /// The next candidate slot, in slot order.
    #[inline(always)]
    fn next(&mut self) -> Option<usize> {
        if self.cand == 0 {
            return None;
        }
        let i = self.cand.trailing_zeros() as usize;
        self.cand &= self.cand - 1;
        Some(i)
    }
}

/// The first slot a Go assign loop over one bucket finds empty
/// (`isEmpty(tophash[i])`), if any. Go's loop visits the slots up to and
/// including the first `emptyRest`, which is itself empty, so the first
/// empty slot it sees is the bucket's first empty slot.
#[inline(always)]
pub(crate) fn first_empty_slot(w: u64) -> Option<usize> {
    let empty = !nonempty_slots(w) & 0xff;
    if empty == 0 { None } else { Some(empty.trailing_zeros() as usize) }
}

/// Bit `i` set iff the `i`-th of the 8 little-endian `u64` keys at `keys`
/// equals `key`: the key comparisons of a fast64 bucket (its keys start
/// at `dataOffset`), all 8 at once. With SSE2 (every x86-64): 4 loads,
/// 4 compares of 32-bit halves, and packs that AND each pair of halves,
/// instead of 8 compares and shifts.
///
/// # Safety
/// * `keys` is valid for reads of 64 initialised bytes (any alignment)
///   that no other thread writes during the call.
#[inline(always)]
pub(crate) unsafe fn eq64_slots(keys: *const u8, key: u64) -> u32 {
    #[cfg(all(target_arch = "x86_64", not(miri)))]
    {
        // SAFETY: SSE2, the target feature `eq64_sse2` enables, is part of
        // x86-64's baseline; its point: the 64 bytes at `keys` are readable
        // and not written concurrently (this function's point).
        unsafe { eq64_sse2(keys, key) }
    }
    #[cfg(not(all(target_arch = "x86_64", not(miri))))]
    {
        // SAFETY: the point above.
        unsafe { eq64_slots_scalar(keys, key) }
    }
}

/// [`eq64_slots`] with SSE2: 4 loads, 4 compares of 32-bit halves, and
/// saturating packs (which keep 0 and -1 exact) that AND each key's two
/// halves and leave one byte per key.
///
/// # Safety
/// * `keys` is valid for reads of 64 initialised bytes (any alignment)
///   that no other thread writes during the call.
#[cfg(all(target_arch = "x86_64", not(miri)))]
#[target_feature(enable = "sse2")]
#[inline]
unsafe fn eq64_sse2(keys: *const u8, key: u64) -> u32 {
    use core::arch::x86_64::{
        __m128i, _mm_cmpeq_epi32, _mm_loadu_si128, _mm_movemask_epi8, _mm_packs_epi16, _mm_packs_epi32, _mm_set1_epi32,
        _mm_set1_epi64x,
    };
    let p = keys.cast::<__m128i>();
    let load = |j: usize| {
        // SAFETY: `add(j)` with `j < 4` stays within the 64 bytes at `keys`
        // (the point above), one allocation.
        let q = unsafe { p.add(j) };
        // SAFETY: `q` is valid for reads of 16 of those bytes, initialised
        // and not written concurrently (the point above); any alignment.
        unsafe { _mm_loadu_si128(q) }
    };
    let k = _mm_set1_epi64x(key as i64);
    // Per 32-bit half: all ones iff equal to the key's half.
    let c = [0, 1, 2, 3].map(|j| _mm_cmpeq_epi32(load(j), k));
    // One i16 per half; each key is then one i32 lane, -1 iff both halves
    // matched.
    let (p01, p23, ones) = (_mm_packs_epi32(c[0], c[1]), _mm_packs_epi32(c[2], c[3]), _mm_set1_epi32(-1));
    let e = _mm_packs_epi32(_mm_cmpeq_epi32(p01, ones), _mm_cmpeq_epi32(p23, ones));
    _mm_movemask_epi8(_mm_packs_epi16(e, e)) as u32 & 0xff
}

/// [`eq64_slots`] one key at a time (other targets, Miri, and the tests'
/// reference).
///
/// # Safety
/// The points of [`eq64_slots`].
#[cfg_attr(
    all(target_arch = "x86_64", not(miri)),
    allow(dead_code, reason = "the SSE2 version is used on x86-64; this one by the tests")
)]
#[inline(always)]
pub(crate) unsafe fn eq64_slots_scalar(keys: *const u8, key: u64) -> u32 {
    let mut m = 0u32;
    for i in 0..8 {
        // SAFETY: `add(8 * i)` with `i < 8` stays within the 64 bytes
        // at `keys` (the point of eq64_slots), one allocation.
        let q = unsafe { keys.add(8 * i) };
        // SAFETY: `q` is valid for reads of 8 of those bytes, initialised
        // and written by no one meanwhile (same point); unaligned.
        let k = unsafe { q.cast::<u64>().read_unaligned() };
        m |= ((k == key) as u32) << i;
    }
    m
}

/// Bit `i` set iff the `i`-th of the 8 `u32` keys at `keys` equals `key`:
/// the key comparisons of a fast32 bucket, all 8 at once (SSE2: 2 loads, 2
/// compares, 2 packs).
///
/// # Safety
/// * `keys` is valid for reads of 32 initialised bytes (any alignment)
///   that no other thread writes during the call.
#[inline(always)]
pub(crate) unsafe fn eq32_slots(keys: *const u8, key: u32) -> u32 {
    #[cfg(all(target_arch = "x86_64", not(miri)))]
    {
        // SAFETY: SSE2, the target feature `eq32_sse2` enables, is part of
        // x86-64's baseline; its point: the 32 bytes at `keys` are readable
        // and not written concurrently (this function's point).
        unsafe { eq32_sse2(keys, key) }
    }
    #[cfg(not(all(target_arch = "x86_64", not(miri))))]
    {
        // SAFETY: the point above.
        unsafe { eq32_slots_scalar(keys, key) }
    }
}

/// [`eq32_slots`] with SSE2: 2 loads, 2 compares, 2 packs.
///
/// # Safety
/// * `keys` is valid for reads of 32 initialised bytes (any alignment)
///   that no other thread writes during the call.
#[cfg(all(target_arch = "x86_64", not(miri)))]
#[target_feature(enable = "sse2")]
#[inline]
unsafe fn eq32_sse2(keys: *const u8, key: u32) -> u32 {
    use core::arch::x86_64::{
        __m128i, _mm_cmpeq_epi32, _mm_loadu_si128, _mm_movemask_epi8, _mm_packs_epi16, _mm_packs_epi32, _mm_set1_epi32,
    };
    let p = keys.cast::<__m128i>();
    // SAFETY: the first 16 of the 32 readable bytes at `keys`, initialised
    // and not written concurrently (the point above); any alignment.
    let lo = unsafe { _mm_loadu_si128(p) };
    // SAFETY: `add(1)`: 16 bytes on, still within the 32 at `keys`.
    let q = unsafe { p.add(1) };
    // SAFETY: the last 16 of those bytes, as for `lo`.
    let hi = unsafe { _mm_loadu_si128(q) };
    let k = _mm_set1_epi32(key as i32);
    // One i32 mask per key, packed (saturation keeps 0 and -1) to one
    // byte per key.
    let e = _mm_packs_epi32(_mm_cmpeq_epi32(lo, k), _mm_cmpeq_epi32(hi, k));
    _mm_movemask_epi8(_mm_packs_epi16(e, e)) as u32 & 0xff
}

/// [`eq32_slots`] one key at a time.
///
/// # Safety
/// The points of [`eq32_slots`].
#[cfg_attr(
    all(target_arch = "x86_64", not(miri)),
    allow(dead_code, reason = "the SSE2 version is used on x86-64; this one by the tests")
)]
#[inline(always)]
pub(crate) unsafe fn eq32_slots_scalar(keys: *const u8, key: u32) -> u32 {
    let mut m = 0u32;
    for i in 0..8 {
        // SAFETY: `add(4 * i)` with `i < 8` stays within the 32 bytes
        // at `keys` (the point of eq32_slots), one allocation.
        let q = unsafe { keys.add(4 * i) };
        // SAFETY: `q` is valid for reads of 4 of those bytes, initialised
        // and written by no one meanwhile (same point); unaligned.
        let k = unsafe { q.cast::<u32>().read_unaligned() };
        m |= ((k == key) as u32) << i;
    }
    m
}

#[cfg(test)]
mod swar_tests {
    use super::*;
    use crate::map::{EMPTY_REST, MIN_TOP_HASH, is_empty};

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
            // Go's assign loops (mapassign, mapassign_faststr; fast64's
            // compares every filled slot): slots are visited in order until
            // the first `emptyRest`; the first empty one seen is
            // remembered; filled ones are compared.
            let (mut first_empty, mut stop, mut compared) = (None, false, 0u32);
            for (i, &thi) in bytes.iter().enumerate() {
                if is_empty(thi) {
                    first_empty = first_empty.or(Some(i));
                    if thi == EMPTY_REST {
                        stop = true;
                        break;
                    }
                    continue;
                }
                compared |= 1 << i;
            }
            // Go's lookup loops for a tophash `top` (>= MIN_TOP_HASH): the
            // slots visited before the first `emptyRest` whose tophash is
            // `top`, in order.
            for top in [MIN_TOP_HASH, 0x80, 0xff, bytes[2].max(MIN_TOP_HASH)] {
                let want: Vec<usize> = bytes
                    .iter()
                    .take_while(|&&x| x != EMPTY_REST)
                    .enumerate()
                    .filter(|&(_, &x)| x == top)
                    .map(|(i, _)| i)
                    .collect();
                let scan = TopScan::new(w, top);
                assert_eq!(scan.chain_ends, stop, "{bytes:?}");
                assert_eq!(scan.collect::<Vec<_>>(), want, "{bytes:?} top {top}");
            }
            let rest = match_byte(w, EMPTY_REST);
            assert_eq!(first_empty_slot(w), first_empty, "{bytes:?}");
            assert_eq!(rest != 0, stop, "{bytes:?}");
            assert_eq!(nonempty_slots(w) & below_first(rest), compared, "{bytes:?}");
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

    /// The 8-keys-at-once comparisons agree with the scalar loops: every
    /// single-slot match, every mask of equal slots, and keys that differ
    /// from the probe in one half or one byte only.
    #[test]
    fn key_scans_equal_scalar_loops() {
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for round in 0..if cfg!(miri) { 64 } else { 4096 } {
            let key = next();
            let mask = (round % 256) as u32;
            let mut keys = [0u8; 64 + 1];
            for i in 0..8 {
                let k = if mask & 1 << i != 0 {
                    key
                } else {
                    match next() % 4 {
                        0 => key ^ 1,         // low half differs by a bit
                        1 => key ^ (1 << 63), // high half differs
                        2 => key ^ (0xff_u64 << (8 * (i % 8))),
                        _ => next(),
                    }
                };
                // At offset 1: the scans must not need alignment.
                keys[1 + 8 * i..9 + 8 * i].copy_from_slice(&k.to_ne_bytes());
            }
            let p = keys[1..].as_ptr();
            // SAFETY: 64 readable bytes at `p`, written by no one.
            let simd = unsafe { eq64_slots(p, key) };
            // SAFETY: as above.
            let scalar = unsafe { eq64_slots_scalar(p, key) };
            assert_eq!(simd, mask, "eq64 round {round}");
            assert_eq!(scalar, mask, "eq64 scalar round {round}");
            let key32 = key as u32;
            let mut keys32 = [0u8; 32 + 1];
            for i in 0..8 {
                let k = if mask & 1 << i != 0 {
                    key32
                } else {
                    match next() % 3 {
                        0 => key32 ^ 1,
                        1 => key32 ^ (1 << 31),
                        _ => next() as u32,
                    }
                };
                let k = if mask & 1 << i == 0 && k == key32 { k ^ 2 } else { k };
                keys32[1 + 4 * i..5 + 4 * i].copy_from_slice(&k.to_ne_bytes());
            }
            let p = keys32[1..].as_ptr();
            // SAFETY: 32 readable bytes at `p`, written by no one.
            let simd = unsafe { eq32_slots(p, key32) };
            // SAFETY: as above.
            let scalar = unsafe { eq32_slots_scalar(p, key32) };
            assert_eq!(simd, mask, "eq32 round {round}");
            assert_eq!(scalar, mask, "eq32 scalar round {round}");
        }
    }
}
