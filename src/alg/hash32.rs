//! The fallback hash of 32-bit Go, `runtime/hash32.go` (Go 1.24.11):
//! `memhashFallback` (:33), `memhash32Fallback` (:14), `memhash64Fallback`
//! (:24) and their `mix32` (:59). Go builds it on 386, arm, mips and mipsle
//! and uses it when the AES path is off (on 386: a CPU without AES, SSSE3
//! or SSE4.1, or `GODEBUG=cpu.aes=off`; arm has no AES path).
//!
//! It is not `hash64.go` on narrower words: the state is two 32-bit words
//! `a`, `b`, each `mix32` multiplies them (after XOR with `hashkey[1]` and
//! `hashkey[2]`) into one 64-bit product whose halves become the new pair,
//! the key is consumed 8 bytes per round, and the hash is `a ^ b`. Seeds,
//! `hashkey` words and hashes are `uintptr`, 32 bits: gomap keeps
//! `hashkey` as 64-bit words and uses their low halves, which is what Go's
//! `[4]uintptr` holds on 32-bit.
//!
//! Every load stays inside the key (Go's do too).

use super::{KeyBlock, Keys, r1, r4};

/// Go's `mix32` (hash32.go:59): the 64-bit product of `a ^ hashkey[1]` and
/// `b ^ hashkey[2]` (low 32 bits of each key word), as (low, high) halves.
#[inline(always)]
fn mix32(k: &KeyBlock, a: u32, b: u32) -> (u32, u32) {
    let c = (a ^ k.hashkey(1) as u32) as u64 * (b ^ k.hashkey(2) as u32) as u64;
    (c as u32, (c >> 32) as u32)
}

/// Go's `readUnaligned32` (alg.go:474) of bytes `i..i + 4` of the key at
/// `p`, as the 32-bit word it is.
///
/// # Safety
/// * `p` is valid for reads of `i + 4` bytes.
#[inline(always)]
unsafe fn w4(p: *const u8, i: usize) -> u32 {
    // SAFETY: `p` is valid for reads of `i + 4` bytes (caller).
    unsafe { r4(p, i) as u32 }
}

/// `memhashFallback` (hash32.go:33) over explicit key material.
///
/// # Safety
/// * `p` is valid for reads of `s` bytes (any pointer when `s == 0`).
#[inline(always)]
pub(super) unsafe fn fb_memhash<K: Keys>(k: K, p: *const u8, seed: usize, s: usize) -> usize {
    let k = k.block();
    let (mut a, mut b) = mix32(k, seed as u32, s as u32 ^ k.hashkey(0) as u32);
    if s == 0 {
        return (a ^ b) as usize;
    }
    // Bytes `off..s` are left, `l = s - off` of them (Go advances `p` and
    // counts `s` down instead: the same loads).
    let (mut off, mut l) = (0, s);
    while l > 8 {
        // SAFETY: `off + 4 < off + l == s` (l > 8): readable (caller).
        a ^= unsafe { w4(p, off) };
        // SAFETY: `off + 8 < s` (l > 8): readable (caller).
        b ^= unsafe { w4(p, off + 4) };
        (a, b) = mix32(k, a, b);
        off += 8;
        l -= 8;
    }
    // Now 1 <= l <= 8 and `off + l == s`.
    if l >= 4 {
        // SAFETY: `off + 4 <= off + l == s`: readable (caller).
        a ^= unsafe { w4(p, off) };
        // SAFETY: `(off + l - 4) + 4 == s`: readable (caller).
        b ^= unsafe { w4(p, off + l - 4) };
    } else {
        // First, middle and last of the 1..3 remaining bytes.
        // SAFETY: `off + 1 <= s` (l >= 1): readable (caller).
        let first = unsafe { r1(p, off) } as u32;
        // SAFETY: `off + (l >> 1) + 1 <= off + l == s`: readable (caller).
        let mid = unsafe { r1(p, off + (l >> 1)) } as u32;
        // SAFETY: `(off + l - 1) + 1 == s`: readable (caller).
        let last = unsafe { r1(p, off + l - 1) } as u32;
        b ^= first | mid << 8 | last << 16;
    }
    (a, b) = mix32(k, a, b);
    (a, b) = mix32(k, a, b);
    (a ^ b) as usize
}

/// `memhash32Fallback` (hash32.go:14): the word XORed into both halves.
///
/// # Safety
/// * `p` is valid for reads of 4 bytes.
#[inline(always)]
pub(super) unsafe fn fb_memhash32<K: Keys>(k: K, p: *const u8, seed: usize) -> usize {
    let k = k.block();
    let (mut a, mut b) = mix32(k, seed as u32, 4 ^ k.hashkey(0) as u32);
    // SAFETY: `0 + 4` bytes at `p` are readable (caller).
    let t = unsafe { w4(p, 0) };
    a ^= t;
    b ^= t;
    (a, b) = mix32(k, a, b);
    (a, b) = mix32(k, a, b);
    (a ^ b) as usize
}

/// `memhash64Fallback` (hash32.go:24): one word into each half.
///
/// # Safety
/// * `p` is valid for reads of 8 bytes.
#[inline(always)]
pub(super) unsafe fn fb_memhash64<K: Keys>(k: K, p: *const u8, seed: usize) -> usize {
    let k = k.block();
    let (mut a, mut b) = mix32(k, seed as u32, 8 ^ k.hashkey(0) as u32);
    // SAFETY: `0 + 4 <= 8` bytes at `p` are readable (caller).
    a ^= unsafe { w4(p, 0) };
    // SAFETY: `4 + 4 == 8` bytes at `p` are readable (caller).
    b ^= unsafe { w4(p, 4) };
    (a, b) = mix32(k, a, b);
    (a, b) = mix32(k, a, b);
    (a ^ b) as usize
}
