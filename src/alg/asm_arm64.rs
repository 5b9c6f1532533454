//! The AES hash of Go's `runtime/asm_arm64.s` (Go 1.24.11): `aeshashbody`
//! (:597), `memhash32` (:533) and `memhash64` (:555), with the ARMv8
//! Cryptography Extension's `AESE` and `AESMC` through `core::arch::aarch64`.
//!
//! Go uses it when `cpu.ARM64.HasAES` (alginit, alg.go:453). It is not the
//! amd64 hash on other instructions: the seed block, the 0..15-byte block,
//! the round structure and `memhash32`'s seed width all differ, so the two
//! architectures hash alike only on the fallback path.
//!
//! # One round
//!
//! `AESE Vk, Vx` (Go operand order) sets `Vx = ShiftRows(SubBytes(Vx ^ Vk))`
//! and `AESMC Vx, Vx` mixes its columns: [`em`] is the pair, [`e`] the
//! single `AESE` Go uses as the last round of a lane. Both operands of
//! `AESE` enter through one XOR, so which of them Go calls the key and
//! which the state does not matter to the result.
//!
//! # Lanes
//!
//! `V30` (here `sl`, "seed and length") holds the seed in its low and the
//! full 64-bit length in its high half. Lane `i`'s seed is key block `i`
//! (`aeskeysched[16i..16i + 16]`) through one `em` with `sl` (:604, :656,
//! :682, :726); a key of `s >= 17` bytes uses `min(8, ceil(s / 16))` lanes,
//! each encrypting one 16-byte piece of the key three times with its seed
//! as the round key, and the result is the low 64 bits of all lanes XORed.
//!
//! All loads stay inside the key (Go's loads do too on arm64).

use core::arch::aarch64::*;

use super::{Block16, KeyBlock, Keys, r1, r4, r8};

/// `AESE` then `AESMC`: one full round of `x` with round key `k`.
#[inline]
#[target_feature(enable = "aes")]
fn em(x: uint8x16_t, k: uint8x16_t) -> uint8x16_t {
    vaesmcq_u8(vaeseq_u8(x, k))
}

/// `AESE` alone: the last round of a lane.
#[inline]
#[target_feature(enable = "aes")]
fn e(x: uint8x16_t, k: uint8x16_t) -> uint8x16_t {
    vaeseq_u8(x, k)
}

/// Three rounds with the same key, the last without `AESMC`: what every
/// lane of the 17-byte-and-longer cases does to its data (e.g. :662-673).
#[inline]
#[target_feature(enable = "aes")]
fn rounds3(x: uint8x16_t, k: uint8x16_t) -> uint8x16_t {
    e(em(em(x, k), k), k)
}

/// The vector whose low half is `lo` and high half `hi` (byte `j` of the
/// vector is byte `j` of the little-endian pair, as `VMOV R, V.D[n]` and
/// `VLD1` lay them out).
#[inline]
#[target_feature(enable = "neon")]
fn pair(lo: u64, hi: u64) -> uint8x16_t {
    vcombine_u8(vcreate_u8(lo), vcreate_u8(hi))
}

/// The low 64 bits (`VMOV V.D[0], R0`): the hash.
#[inline]
#[target_feature(enable = "neon")]
fn low(x: uint8x16_t) -> usize {
    vgetq_lane_u64::<0>(vreinterpretq_u64_u8(x)) as usize
}

/// XOR of two vectors (`VEOR`).
#[inline]
#[target_feature(enable = "neon")]
fn xor(a: uint8x16_t, b: uint8x16_t) -> uint8x16_t {
    veorq_u8(a, b)
}

/// Key block `i`: bytes `16i..16i + 16` of `aeskeysched`.
#[inline]
#[target_feature(enable = "neon")]
fn block(k: &KeyBlock, i: usize) -> uint8x16_t {
    let b: *const Block16 = k.aes_block(i);
    // SAFETY: `b` comes from a reference to a `Block16`, so it is valid for
    // reads of its 16 bytes; `vld1q_u8` reads `u8`s, which need no
    // alignment (the block is 16-byte aligned anyway, one `LDR Q`).
    unsafe { vld1q_u8(b.cast()) }
}

/// The 16 bytes at `p + off` (`VLD1`, no alignment needed).
///
/// # Safety
/// * `p` is valid for reads of `off + 16` bytes.
#[inline(always)]
unsafe fn load16(p: *const u8, off: usize) -> uint8x16_t {
    // SAFETY: `p + off` is inside the `off + 16` bytes readable at `p`
    // (caller), so inside their allocation.
    let q = unsafe { p.add(off) };
    // SAFETY: `q` is valid for reads of 16 bytes (the last 16 of them);
    // `vld1q_u8` reads `u8`s, which need no alignment.
    unsafe { vld1q_u8(q) }
}

/// The block `aes0to15` (:617-633) builds from a key of 1..=15 bytes, as
/// `(low word, high word)`. Go walks the bits of the length from 8 down to
/// 1 and consumes the key front to back: 8 bytes into bytes 0..8 of the
/// block, then 4 into bytes 8..12, 2 into bytes 12..14 and 1 into byte 14.
/// So the key is not simply zero-padded: a 3-byte key lands in bytes 12..15.
///
/// # Safety
/// * `1 <= s <= 15`;
/// * `p` is valid for reads of `s` bytes.
#[inline(always)]
unsafe fn small_block(p: *const u8, s: usize) -> (u64, u64) {
    debug_assert!((1..16).contains(&s));
    let (mut lo, mut hi, mut off) = (0, 0, 0);
    if s & 8 != 0 {
        // SAFETY: `0 + 8 <= s` (bit 3 set): readable (point 2).
        lo = unsafe { r8(p, 0) };
        off = 8;
    }
    if s & 4 != 0 {
        // SAFETY: `off` counts the bits above 2 of `s`, so `off + 4 <= s`:
        // readable (point 2).
        hi = unsafe { r4(p, off) };
        off += 4;
    }
    if s & 2 != 0 {
        // SAFETY: `off` counts the bits above 1, so `off + 2 <= s`: byte
        // `off` is readable (point 2).
        let b0 = unsafe { r1(p, off) };
        // SAFETY: as above, `off + 1 < s`: readable (point 2).
        let b1 = unsafe { r1(p, off + 1) };
        hi |= (b0 | b1 << 8) << 32;
        off += 2;
    }
    if s & 1 != 0 {
        // SAFETY: `off == s - 1`: readable (point 2).
        hi |= unsafe { r1(p, off) } << 48;
    }
    (lo, hi)
}

/// `aeshashbody` (asm_arm64.s:597) over explicit key material.
///
/// # Safety
/// * The CPU supports the `aes` feature;
/// * `p` is valid for reads of `s` bytes (any pointer when `s == 0`).
#[target_feature(enable = "aes")]
pub(super) unsafe fn aes_hashbody<K: Keys>(k: K, p: *const u8, seed: usize, s: usize) -> usize {
    let k = k.block();
    // :598-607: seed and length; lane 0's seed.
    let sl = pair(seed as u64, s as u64);
    let lane_seed = |i: usize| em(block(k, i), sl);
    let x0 = lane_seed(0);

    if s < 16 {
        if s == 0 {
            // `aes0` (:645): lane 0's seed itself.
            return low(x0);
        }
        // `aes0to15` and `done` (:617-643): three full rounds.
        // SAFETY: 1. `1 <= s <= 15`; 2. `s` readable bytes (point 2).
        let (lo, hi) = unsafe { small_block(p, s) };
        return low(em(em(em(pair(lo, hi), x0), x0), x0));
    }
    if s == 16 {
        // `aes16` (:649): the key is the block, then `done`.
        // SAFETY: `0 + 16 == s`: readable (point 2).
        let d = unsafe { load16(p, 0) };
        return low(em(em(em(d, x0), x0), x0));
    }
    if s <= 32 {
        // `aes17to32` (:653): first and last 16 bytes, lanes 0 and 1.
        // SAFETY: `0 + 16 < s`: readable (point 2).
        let a = unsafe { load16(p, 0) };
        // SAFETY: `(s - 16) + 16 == s`: readable (point 2).
        let b = unsafe { load16(p, s - 16) };
        return low(xor(rounds3(a, x0), rounds3(b, lane_seed(1))));
    }
    if s <= 64 {
        // `aes33to64` (:680): first and last 32 bytes, lanes 0..4.
        let offs = [0, 16, s - 32, s - 16];
        let mut h = vdupq_n_u8(0);
        for (i, &off) in offs.iter().enumerate() {
            // SAFETY: every `off + 16 <= s` (s > 32): readable (point 2).
            let d = unsafe { load16(p, off) };
            let seed_i = if i == 0 { x0 } else { lane_seed(i) };
            h = xor(h, rounds3(d, seed_i));
        }
        return low(h);
    }
    let mut seeds = [x0; 8];
    for (i, sd) in seeds.iter_mut().enumerate().skip(1) {
        *sd = lane_seed(i);
    }
    if s <= 128 {
        // `aes65to128` (:723): first and last 64 bytes, lanes 0..8.
        let mut h = vdupq_n_u8(0);
        for (i, &sd) in seeds.iter().enumerate() {
            let off = if i < 4 { 16 * i } else { s + 16 * i - 128 };
            // SAFETY: `off + 16 <= s`: `48 + 16 < s` for the first four,
            // `s + 112 - 128 + 16 == s` for the last: readable (point 2).
            let d = unsafe { load16(p, off) };
            h = xor(h, rounds3(d, sd));
        }
        return low(h);
    }
    // `aes129plus` (:798): here the seeds are the state and the key's
    // bytes the round keys. Round keys start as the last 128 bytes; each
    // of the `(s - 1) / 128` loop passes (`aesloop`, :823) runs one round
    // with the current keys, loads the next 128 bytes from the front of
    // the key (the last pass's may overlap the tail) and runs one round
    // with them. Then two full rounds and a last `AESE` with the keys
    // loaded last (:863-904).
    let mut st = seeds;
    let mut cur = [x0; 8];
    for (i, c) in cur.iter_mut().enumerate() {
        // SAFETY: `(s - 128 + 16 i) + 16 <= s` for `i < 8`: readable
        // (point 2).
        *c = unsafe { load16(p, s - 128 + 16 * i) };
    }
    let mut off = 0;
    for _ in 0..(s - 1) >> 7 {
        for (x, c) in st.iter_mut().zip(cur.iter_mut()) {
            *x = em(*x, *c);
        }
        for (i, (x, c)) in st.iter_mut().zip(cur.iter_mut()).enumerate() {
            // SAFETY: this pass's block starts at `off <= s - 129` (there
            // are `(s - 1) >> 7` passes of 128 bytes), so `off + 16 i +
            // 16 <= off + 128 < s`: readable (point 2).
            *c = unsafe { load16(p, off + 16 * i) };
            *x = em(*x, *c);
        }
        off += 128;
    }
    let mut h = vdupq_n_u8(0);
    for (x, c) in st.iter().zip(cur.iter()) {
        h = xor(h, rounds3(*x, *c));
    }
    low(h)
}

/// AES `memhash32` (asm_arm64.s:533): the low 32 bits of the seed in bytes
/// 0..4, the data in bytes 4..8, the rest zero; three rounds with key
/// block 0 (the last without `AESMC`).
///
/// # Safety
/// * The CPU supports the `aes` feature;
/// * `p` is valid for reads of 4 bytes.
#[target_feature(enable = "aes")]
pub(super) unsafe fn aes_memhash32<K: Keys>(k: K, p: *const u8, seed: usize) -> usize {
    let k = k.block();
    // SAFETY: `0 + 4` bytes at `p` are readable (point 2).
    let d = unsafe { r4(p, 0) };
    // `VMOV R1, V0.S[0]` moves only the seed's low word.
    let x = pair((seed as u64 & 0xffff_ffff) | d << 32, 0);
    low(rounds3(x, block(k, 0)))
}

/// AES `memhash64` (asm_arm64.s:555): the seed in the low half, the data
/// in the high half; three rounds with key block 0.
///
/// # Safety
/// * The CPU supports the `aes` feature;
/// * `p` is valid for reads of 8 bytes.
#[target_feature(enable = "aes")]
pub(super) unsafe fn aes_memhash64<K: Keys>(k: K, p: *const u8, seed: usize) -> usize {
    let k = k.block();
    // SAFETY: `0 + 8` bytes at `p` are readable (point 2).
    let d = unsafe { r8(p, 0) };
    low(rounds3(pair(seed as u64, d), block(k, 0)))
}

#[cfg(test)]
mod tests {
    use super::small_block;

    /// `aes0to15`'s block from exact-size keys (so Miri checks that no load
    /// leaves the key): each present length bit takes the next key bytes,
    /// 8 → bytes 0..8, 4 → 8..12, 2 → 12..14, 1 → 14. The hash values
    /// themselves are checked against Go arm64 in tests/hash_vectors.rs.
    #[test]
    fn alg_arm64_small_block_layout() {
        for s in 1..16usize {
            let key: Box<[u8]> = (0..s).map(|i| 0xa0 + i as u8).collect();
            let mut want = [0u8; 16];
            let mut off = 0;
            for (bit, at) in [(8, 0), (4, 8), (2, 12), (1, 14)] {
                if s & bit != 0 {
                    want[at..at + bit].copy_from_slice(&key[off..off + bit]);
                    off += bit;
                }
            }
            // SAFETY: 1. `1 <= s <= 15`; 2. `key` holds exactly `s` bytes.
            let (lo, hi) = unsafe { small_block(key.as_ptr(), s) };
            assert_eq!(lo.to_le_bytes(), want[..8], "s={s}");
            assert_eq!(hi.to_le_bytes(), want[8..], "s={s}");
        }
    }
}
