//! The AES hash of Go's `runtime/asm_386.s` (Go 1.24.11): `aeshashbody`
//! (:975), `memhash32` (:1171) and `memhash64` (:1185), with AES-NI through
//! `core::arch::x86`.
//!
//! Go uses it on 386 CPUs with AES, SSSE3 and SSE4.1 (alginit, alg.go:448).
//! It is the amd64 hash cut down to 32-bit words and four lanes, which
//! makes it a different function:
//!
//! * the seed block holds the 32-bit seed zero-extended in its low half (the
//!   high half is the low 16 bits of the length repeated four times, as on
//!   amd64), and the hash is the low 32 bits of the result;
//! * `aeskeysched` is 64 bytes (`hashRandomBytes`, alg.go:438), so at most
//!   four lanes: keys of 65 bytes and more (`aes65plus`, :1101) start from
//!   the last 64 bytes, each lane encrypted once with its seed as round key,
//!   then per 64-byte block from the front one round with the block's 16
//!   bytes as round key and one self-round, three self-rounds to finish;
//! * `memhash32` encrypts `[seed | data | 0 | 0]` (dwords), `memhash64`
//!   `[data low | data high | seed | 0]`, each with key blocks 0, 1 and 2 as
//!   round keys.
//!
//! The 0..16 and 17..64-byte cases are amd64's (:992-1099). Go's operand
//! order is `AESENC key, state`; here `_mm_aesenc_si128(state, key)`. As on
//! amd64, Go's 1..15-byte case may load 16 bytes around the key and mask
//! them; gomap builds the same zero-padded block from loads inside the key
//! (`small_block`).

use core::arch::x86::*;

use super::{Block16, KeyBlock, Keys, small_block};

/// The 16 bytes at `p + off` as one unaligned vector load (`MOVOU`).
///
/// # Safety
/// * `p` is valid for reads of `off + 16` bytes.
#[inline(always)]
unsafe fn load16(p: *const u8, off: usize) -> __m128i {
    // SAFETY: `p + off` is inside the `off + 16` bytes readable at `p`
    // (caller), so inside their allocation.
    let q = unsafe { p.add(off) };
    // SAFETY: `q` is valid for reads of 16 bytes (the last 16 of them);
    // `_mm_loadu_si128` needs no alignment and only SSE2 (part of the
    // i686 target's baseline).
    unsafe { _mm_loadu_si128(q.cast()) }
}

/// Round key `i` of `k` (`aeskeysched[16i..16i + 16]`) as one aligned
/// 16-byte load (`MOVDQA`), which LLVM folds into the memory operand of
/// `AESENC`, as Go's `AESENC runtime·aeskeysched+16*i(SB), X0`.
#[inline(always)]
fn key_block(k: &KeyBlock, i: usize) -> __m128i {
    let b: *const Block16 = k.aes_block(i);
    // SAFETY: `b` comes from a reference to a `Block16`, so it is valid for
    // reads of its 16 bytes and 16-byte aligned (`Block16` is `align(16)`),
    // as `_mm_load_si128` requires; it needs only SSE2 (part of the i686
    // target's baseline).
    unsafe { _mm_load_si128(b.cast()) }
}

/// `aeshashbody` (asm_386.s:975) over explicit key material.
///
/// # Safety
/// * The CPU supports AES, SSSE3 and SSE4.1;
/// * `p` is valid for reads of `s` bytes (any pointer when `s == 0`).
#[target_feature(enable = "aes,ssse3,sse4.1")]
pub(super) unsafe fn aes_hashbody<K: Keys>(k: K, p: *const u8, seed: usize, s: usize) -> usize {
    let k = k.block();
    let block = |i: usize| key_block(k, i);
    let enc = |x: __m128i| _mm_aesenc_si128(x, x);
    let low = |x: __m128i| _mm_cvtsi128_si32(x) as u32 as usize;

    // The seed block (:976-979): the 32-bit seed zero-extended in the low
    // half (MOVL), the low 16 bits of the length four times in the high
    // half (PINSRW $4 + PSHUFHW). `x1` keeps it unscrambled for lanes 1-3.
    let len16 = (s as u64) & 0xffff;
    let x1 = _mm_set_epi64x((len16 * 0x0001_0001_0001_0001) as i64, seed as u32 as i64);
    let x0 = enc(_mm_xor_si128(x1, block(0)));

    // Scrambles one data block with the seed three times (`final1`, :1006).
    let final1 = |data: __m128i| {
        let x = _mm_xor_si128(data, x0);
        low(enc(enc(enc(x))))
    };

    if s < 16 {
        if s == 0 {
            // `aes0` (:1023): one more scramble of the seed.
            return low(enc(x0));
        }
        // `aes0to15` (:992): the key zero-padded to 16 bytes (Go masks or
        // shifts a 16-byte load; see the module docs).
        // SAFETY: 1. `1 <= s <= 15`; 2. `p` is valid for reads of `s` bytes
        // (caller point 2).
        let (lo, hi) = unsafe { small_block(p, s) };
        return final1(_mm_set_epi64x(hi as i64, lo as i64));
    }
    if s == 16 {
        // `aes16` (:1029).
        // SAFETY: `0 + 16 == s`: readable (caller point 2).
        return final1(unsafe { load16(p, 0) });
    }
    // Seeds of lanes 1..3 (:1035-1036, :1061-1069, :1103-1110): the unscrambled
    // seed block XOR key block i, scrambled once.
    let lane_seed = |i: usize| {
        if i == 0 { x0 } else { enc(_mm_xor_si128(x1, block(i))) }
    };
    if s <= 32 {
        // `aes17to32` (:1033): first and last 16 bytes (overlapping).
        // SAFETY: `0 + 16 < s`: readable (caller point 2).
        let first = unsafe { load16(p, 0) };
        // SAFETY: `(s - 16) + 16 == s`: readable (caller point 2).
        let last = unsafe { load16(p, s - 16) };
        let a = enc(enc(enc(_mm_xor_si128(first, x0))));
        let b = enc(enc(enc(_mm_xor_si128(last, lane_seed(1)))));
        return low(_mm_xor_si128(a, b));
    }
    // Folds the four lanes: PXOR X6, X4; PXOR X7, X5; PXOR X5, X4
    // (:1095-1097, :1165-1167).
    let fold = |x: [__m128i; 4]| low(_mm_xor_si128(_mm_xor_si128(x[0], x[2]), _mm_xor_si128(x[1], x[3])));
    if s <= 64 {
        // `aes33to64` (:1059): first 32 and last 32 bytes.
        let offs = [0, 16, s - 32, s - 16];
        let mut x = [_mm_setzero_si128(); 4];
        for i in 0..4 {
            // SAFETY: every `offs[i] + 16 <= s` (32 < s): readable (caller
            // point 2).
            let d = unsafe { load16(p, offs[i]) };
            x[i] = enc(enc(enc(_mm_xor_si128(d, lane_seed(i)))));
        }
        return fold(x);
    }
    // `aes65plus` (:1101): the last 64 bytes, each lane encrypted once
    // with its seed as round key (:1119-1122); then (s - 1) / 64 blocks of
    // 64 bytes from the front (`aesloop`, :1128: the last may overlap the
    // tail), each lane one round with the block's 16 bytes as round key and
    // one self-round; three self-rounds to finish (:1149-1163).
    let mut x = [_mm_setzero_si128(); 4];
    for (i, xi) in x.iter_mut().enumerate() {
        // SAFETY: `(s - 64 + 16 * i) + 16 <= s` for `i < 4`: readable
        // (caller point 2).
        let d = unsafe { load16(p, s - 64 + 16 * i) };
        *xi = _mm_aesenc_si128(d, lane_seed(i));
    }
    let mut off = 0;
    for _ in 0..(s - 1) >> 6 {
        for (i, xi) in x.iter_mut().enumerate() {
            // SAFETY: this block starts at `off <= s - 65` (there are
            // `(s - 1) >> 6` blocks of 64), so `off + 16 * i + 16 <=
            // off + 64 < s`: readable (caller point 2).
            let d = unsafe { load16(p, off + 16 * i) };
            *xi = enc(_mm_aesenc_si128(*xi, d));
        }
        off += 64;
    }
    for xi in x.iter_mut() {
        *xi = enc(enc(enc(*xi)));
    }
    fold(x)
}

/// AES `memhash32` (asm_386.s:1171): the seed in dword 0, the 4 data bytes
/// in dword 1 (`PINSRD $1`), encrypted with key blocks 0, 1 and 2.
///
/// # Safety
/// * The CPU supports AES, SSSE3 and SSE4.1;
/// * `p` is valid for reads of 4 bytes.
#[target_feature(enable = "aes,ssse3,sse4.1")]
pub(super) unsafe fn aes_memhash32<K: Keys>(k: K, p: *const u8, seed: usize) -> usize {
    let k = k.block();
    let block = |i: usize| key_block(k, i);
    // SAFETY: `p` is valid for reads of 4 bytes (point 2); unaligned load.
    let d = unsafe { core::ptr::read_unaligned(p.cast::<u32>()) };
    let mut x = _mm_set_epi32(0, 0, d as i32, seed as i32);
    for i in 0..3 {
        x = _mm_aesenc_si128(x, block(i));
    }
    _mm_cvtsi128_si32(x) as u32 as usize
}

/// AES `memhash64` (asm_386.s:1185): the 8 data bytes in the low half
/// (`MOVQ`), the seed in dword 2 (`PINSRD $2`), encrypted with key blocks
/// 0, 1 and 2.
///
/// # Safety
/// * The CPU supports AES, SSSE3 and SSE4.1;
/// * `p` is valid for reads of 8 bytes.
#[target_feature(enable = "aes,ssse3,sse4.1")]
pub(super) unsafe fn aes_memhash64<K: Keys>(k: K, p: *const u8, seed: usize) -> usize {
    let k = k.block();
    let block = |i: usize| key_block(k, i);
    // SAFETY: `p` is valid for reads of 8 bytes (point 2); unaligned load.
    let d = unsafe { core::ptr::read_unaligned(p.cast::<u64>()) };
    let mut x = _mm_set_epi32(0, seed as i32, (d >> 32) as i32, d as i32);
    for i in 0..3 {
        x = _mm_aesenc_si128(x, block(i));
    }
    _mm_cvtsi128_si32(x) as u32 as usize
}
