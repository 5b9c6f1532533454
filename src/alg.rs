//! Go's map hash functions, bit for bit (64-bit targets only).
//!
//! This is the hashing half of Go 1.24.11's `runtime/alg.go`, together with
//! the two implementations it dispatches to:
//!
//! * [`aes`]: the AES-NI hash of `runtime/asm_amd64.s` (`aeshashbody`,
//!   `memhash32`, `memhash64`), used by Go on x86-64 CPUs with AES, SSSE3 and
//!   SSE4.1;
//! * [`fallback`]: the wyhash-derived hash of `runtime/hash64.go`, used by Go
//!   when those instructions are missing or `GODEBUG=cpu.aes=off` is set.
//!
//! The functions at the top level ([`memhash`], [`strhash`], [`f64hash`], ...)
//! dispatch between the two like Go's assembly stubs do on `useAeshash`
//! (asm_amd64.s:1211). Every function keeps Go's name and argument order:
//! `p` points to the key, `seed` is Go's `h`.
//!
//! # Key material
//!
//! Go seeds its hashes with per-process random material (`alginit`,
//! alg.go:446): the 128-byte `aeskeysched` for the AES path and the four
//! words of `hashkey` for the fallback. gomap keeps both in [`KeyMaterial`],
//! fills them lazily from the OS on first use, and lets callers replace them
//! with [`set_key_material`] (to replay a Go process, or for tests with
//! [`test_key_material`]). See `docs/hashes.md` for every function beside
//! its Go twin and for how the known-answer vectors in
//! `tests/data/hash_vectors.json` are produced from the real Go runtime.

use core::ptr;
use core::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::sync::Once;

/// Go's string header (`runtime.stringStruct`): a pointer to the bytes and a
/// length. String keys are stored in maps as this 16-byte header.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct GoString {
    /// The first byte (may dangle or be null when `len == 0`).
    pub ptr: *const u8,
    /// Number of bytes.
    pub len: usize,
}

impl GoString {
    /// A header viewing `b`. The header does not keep `b` alive.
    pub const fn from_bytes(b: &[u8]) -> Self {
        Self { ptr: b.as_ptr(), len: b.len() }
    }

    /// A header viewing `s`. The header does not keep `s` alive.
    #[allow(clippy::should_implement_trait)]
    pub const fn from_str(s: &str) -> Self {
        Self::from_bytes(s.as_bytes())
    }

    /// The bytes the header points to.
    ///
    /// # Safety
    /// `ptr` must be valid for reads of `len` bytes for `'a` (or `len == 0`),
    /// and the bytes must not be mutated during `'a`.
    pub unsafe fn as_bytes<'a>(&self) -> &'a [u8] {
        if self.len == 0 {
            return &[];
        }
        // SAFETY: guaranteed by the caller.
        unsafe { core::slice::from_raw_parts(self.ptr, self.len) }
    }
}

/// Go's `c0` (alg.go:16) on 64-bit targets: mixed into the hash of ±0 and NaN.
pub const C0: usize = 33054211828000289;
/// Go's `c1` (alg.go:17) on 64-bit targets.
pub const C1: usize = 23344194077549503;
/// Go's `m5` (hash64.go:18): the fallback's final-round constant.
const M5: u64 = 0x1d8e4e27c47d124f;
/// Size of `aeskeysched` (`hashRandomBytes`, alg.go:438) on 64-bit targets.
pub const HASH_RANDOM_BYTES: usize = 128;

/// The per-process hash seeds: Go's `runtime.aeskeysched` (alg.go:441) and
/// `runtime.hashkey` (alg.go:444).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeyMaterial {
    /// Key schedule XORed into and used as round keys by the AES path.
    pub aeskeysched: [u8; HASH_RANDOM_BYTES],
    /// Secrets of the fallback path.
    pub hashkey: [u64; 4],
}

/// The canonical deterministic material shared by gomap's tests and the Go
/// vector generator (`go-ref/cmd/hashvec`): `aeskeysched[i] = i*7 + 3`
/// (mod 256) and four fixed odd `hashkey` words.
///
/// Go 1.24.11 fills `hashkey` with raw `bootstrapRand()` words (alg.go:459);
/// earlier Go versions forced them odd. Odd constants are used here so the
/// material is valid under either convention; nothing in 1.24.11 requires it.
pub const fn test_key_material() -> KeyMaterial {
    let mut aeskeysched = [0u8; HASH_RANDOM_BYTES];
    let mut i = 0;
    while i < HASH_RANDOM_BYTES {
        aeskeysched[i] = (i * 7 + 3) as u8;
        i += 1;
    }
    KeyMaterial {
        aeskeysched,
        hashkey: [0x9e3779b97f4a7c15, 0xc2b2ae3d27d4eb4f, 0x165667b19e3779f9, 0x27d4eb2f165667c5],
    }
}

// The process-wide material, as little-endian words so that the hot path can
// read it with plain relaxed loads.
#[allow(clippy::declare_interior_mutable_const)]
const ZERO: AtomicU64 = AtomicU64::new(0);
static AES_WORDS: [AtomicU64; HASH_RANDOM_BYTES / 8] = [ZERO; HASH_RANDOM_BYTES / 8];
static HASHKEY: [AtomicU64; 4] = [ZERO; 4];
static KEYS_INIT: Once = Once::new();

/// Draws fresh material from the OS (Go: `bootstrapRand`, seeded from the OS
/// at startup). Unlike Go, which fills only the array its chosen path uses
/// (alg.go:446-471), both are filled because [`set_use_aeshash`] can change
/// the path later.
fn os_key_material() -> KeyMaterial {
    use rand::TryRngCore;
    let mut buf = [0u8; HASH_RANDOM_BYTES + 32];
    if rand::rngs::OsRng.try_fill_bytes(&mut buf).is_err() {
        // Go treats a failed read of OS randomness at startup as fatal; the
        // thread RNG is itself seeded from the OS, so use it as a last try.
        use rand::RngCore;
        rand::rng().fill_bytes(&mut buf);
    }
    let mut km = KeyMaterial { aeskeysched: [0; HASH_RANDOM_BYTES], hashkey: [0; 4] };
    km.aeskeysched.copy_from_slice(&buf[..HASH_RANDOM_BYTES]);
    for (i, w) in km.hashkey.iter_mut().enumerate() {
        let o = HASH_RANDOM_BYTES + 8 * i;
        *w = u64::from_le_bytes(buf[o..o + 8].try_into().unwrap());
    }
    km
}

fn store_key_material(km: &KeyMaterial) {
    for (i, w) in AES_WORDS.iter().enumerate() {
        let b: [u8; 8] = km.aeskeysched[8 * i..8 * i + 8].try_into().unwrap();
        w.store(u64::from_le_bytes(b), Ordering::Relaxed);
    }
    for (w, &v) in HASHKEY.iter().zip(&km.hashkey) {
        w.store(v, Ordering::Relaxed);
    }
}

#[cold]
fn init_keys_slow() {
    KEYS_INIT.call_once(|| store_key_material(&os_key_material()));
}

#[inline(always)]
fn ensure_keys() {
    if !KEYS_INIT.is_completed() {
        init_keys_slow();
    }
}

/// The current process-wide material.
pub fn key_material() -> KeyMaterial {
    ensure_keys();
    let mut km = KeyMaterial { aeskeysched: [0; HASH_RANDOM_BYTES], hashkey: [0; 4] };
    for (i, w) in AES_WORDS.iter().enumerate() {
        km.aeskeysched[8 * i..8 * i + 8].copy_from_slice(&w.load(Ordering::Relaxed).to_le_bytes());
    }
    for (d, w) in km.hashkey.iter_mut().zip(&HASHKEY) {
        *d = w.load(Ordering::Relaxed);
    }
    km
}

/// Replaces the process-wide material (Go never does this after `alginit`;
/// gomap allows it to replay a Go process or for deterministic tests).
///
/// Every existing map becomes unusable: its keys were placed with the old
/// hashes. Safe to call from many threads; a hash computed concurrently with
/// a replacement may combine old and new words, so replace it only while no
/// map is in use (or, as tests do, only ever with the same material).
pub fn set_key_material(km: &KeyMaterial) {
    // Finish the lazy OS initialisation first so it cannot land afterwards.
    ensure_keys();
    store_key_material(km);
}

/// Where the hash functions read their material: the process-wide atomics
/// ([`Global`]) or, in unit tests, an explicit [`KeyMaterial`].
trait Keys: Copy {
    /// `hashkey[i]`.
    fn hashkey(self, i: usize) -> u64;
    /// Little-endian word `i` of `aeskeysched`.
    #[cfg_attr(
        not(target_arch = "x86_64"),
        expect(dead_code, reason = "only the x86_64 AES path reads the key schedule")
    )]
    fn aes_word(self, i: usize) -> u64;
}

/// The process-wide material; obtained through [`global_keys`], which makes
/// sure it has been initialised.
#[derive(Clone, Copy)]
struct Global(());

#[inline(always)]
fn global_keys() -> Global {
    ensure_keys();
    Global(())
}

/// The process-wide material without the initialisation check, for callers
/// that have just seen [`PATH`] set: it is only set once the material is
/// (see [`init_path_slow`] and [`set_use_aeshash`]).
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn ready_keys() -> Global {
    debug_assert!(KEYS_INIT.is_completed());
    Global(())
}

impl Keys for Global {
    #[inline(always)]
    fn hashkey(self, i: usize) -> u64 {
        HASHKEY[i].load(Ordering::Relaxed)
    }
    #[inline(always)]
    fn aes_word(self, i: usize) -> u64 {
        AES_WORDS[i].load(Ordering::Relaxed)
    }
}

impl Keys for &KeyMaterial {
    #[inline(always)]
    fn hashkey(self, i: usize) -> u64 {
        self.hashkey[i]
    }
    #[inline(always)]
    fn aes_word(self, i: usize) -> u64 {
        u64::from_le_bytes(self.aeskeysched[8 * i..8 * i + 8].try_into().unwrap())
    }
}

// ---------------------------------------------------------------------------
// Path selection (Go: `useAeshash`, alg.go:46, set by `alginit`, alg.go:446).

const PATH_UNKNOWN: u8 = 0;
const PATH_FALLBACK: u8 = 1;
const PATH_AES: u8 = 2;
static PATH: AtomicU8 = AtomicU8::new(PATH_UNKNOWN);

/// Whether this CPU can run the AES path: x86-64 with AES, SSSE3 and SSE4.1,
/// the same test as `alginit` (alg.go:448-451). Always false under Miri,
/// which cannot execute the AES intrinsics.
pub fn aes_available() -> bool {
    #[cfg(all(target_arch = "x86_64", not(miri)))]
    {
        std::is_x86_feature_detected!("aes")
            && std::is_x86_feature_detected!("ssse3")
            && std::is_x86_feature_detected!("sse4.1")
    }
    #[cfg(not(all(target_arch = "x86_64", not(miri))))]
    {
        false
    }
}

/// Which path the dispatching functions use (Go's `useAeshash`). Defaults to
/// [`aes_available`], like `alginit`.
#[inline]
pub fn use_aeshash() -> bool {
    match PATH.load(Ordering::Acquire) {
        PATH_AES => true,
        PATH_FALLBACK => false,
        _ => init_path_slow(),
    }
}

/// Reports whether the AES path is selected, without deciding it: false
/// while [`PATH`] is still unknown. True implies the key material is
/// initialised (what [`ready_keys`] relies on).
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn aes_selected() -> bool {
    PATH.load(Ordering::Acquire) == PATH_AES
}

#[cold]
fn init_path_slow() -> bool {
    // The material first: a path is published only once the material is
    // there (the release below pairs with the acquire loads of `PATH`).
    ensure_keys();
    let on = aes_available();
    // Only the first initialiser wins; a racing `set_use_aeshash` is kept.
    let want = if on { PATH_AES } else { PATH_FALLBACK };
    match PATH.compare_exchange(PATH_UNKNOWN, want, Ordering::Release, Ordering::Acquire) {
        Ok(_) => on,
        Err(cur) => cur == PATH_AES,
    }
}

/// Selects the path the dispatching functions use; `false` is the
/// equivalent of `GODEBUG=cpu.aes=off`. Asking for the AES path on a CPU (or
/// target, or under Miri) that cannot run it leaves the fallback selected.
/// Returns whether the AES path is now in use.
///
/// Like [`set_key_material`], this changes every hash: switch only while no
/// map is in use.
pub fn set_use_aeshash(on: bool) -> bool {
    let on = on && aes_available();
    // As in `init_path_slow`: material first, then the path.
    ensure_keys();
    PATH.store(if on { PATH_AES } else { PATH_FALLBACK }, Ordering::Release);
    on
}

// ---------------------------------------------------------------------------
// Dispatching functions (alg.go). They pick a path per call, exactly like
// Go's assembly stubs test `useAeshash` on every call.

/// Hashes `s` bytes at `p` (Go's `memhash`, alg.go:67; asm_amd64.s:1207).
///
/// # Safety
/// `p` must be valid for reads of `s` bytes (any pointer when `s == 0`).
#[inline]
pub unsafe fn memhash(p: *const u8, seed: usize, s: usize) -> usize {
    #[cfg(target_arch = "x86_64")]
    if use_aeshash() {
        // SAFETY: `use_aeshash` is only true when `aes_available()`; the
        // pointer contract is the caller's.
        return unsafe { aes::memhash(p, seed, s) };
    }
    // SAFETY: forwarded from the caller.
    unsafe { fallback::memhash(p, seed, s) }
}

/// Hashes the 4 bytes at `p` (Go's `memhash32`, alg.go:69;
/// asm_amd64.s:1568). Not the same function as `memhash(p, seed, 4)` on the
/// AES path.
///
/// # Safety
/// `p` must be valid for reads of 4 bytes (no alignment needed).
#[inline]
pub unsafe fn memhash32(p: *const u8, seed: usize) -> usize {
    // The AES path decided with one load and entered with a jump; anything
    // else (not decided yet, or the fallback) out of line.
    #[cfg(target_arch = "x86_64")]
    if aes_selected() {
        // SAFETY: PATH_AES is only selected when `aes_available()`, and
        // after the material is initialised; pointer from the caller.
        return unsafe { aes::memhash32_ready(p, seed) };
    }
    // SAFETY: forwarded from the caller.
    unsafe { memhash32_slow(p, seed) }
}

/// [`memhash32`] when the AES path is not (yet) known to be selected.
///
/// # Safety
/// As [`memhash32`].
#[inline(never)]
unsafe fn memhash32_slow(p: *const u8, seed: usize) -> usize {
    #[cfg(target_arch = "x86_64")]
    if use_aeshash() {
        // SAFETY: AES path available (see `memhash`); pointer from the caller.
        return unsafe { aes::memhash32(p, seed) };
    }
    // SAFETY: forwarded from the caller.
    unsafe { fallback::memhash32(p, seed) }
}

/// Hashes the 8 bytes at `p` (Go's `memhash64`, alg.go:71;
/// asm_amd64.s:1585).
///
/// # Safety
/// `p` must be valid for reads of 8 bytes (no alignment needed).
#[inline]
pub unsafe fn memhash64(p: *const u8, seed: usize) -> usize {
    // The AES path decided with one load and entered with a jump; anything
    // else (not decided yet, or the fallback) out of line.
    #[cfg(target_arch = "x86_64")]
    if aes_selected() {
        // SAFETY: PATH_AES is only selected when `aes_available()`, and
        // after the material is initialised; pointer from the caller.
        return unsafe { aes::memhash64_ready(p, seed) };
    }
    // SAFETY: forwarded from the caller.
    unsafe { memhash64_slow(p, seed) }
}

/// [`memhash64`] when the AES path is not (yet) known to be selected.
///
/// # Safety
/// As [`memhash64`].
#[inline(never)]
unsafe fn memhash64_slow(p: *const u8, seed: usize) -> usize {
    #[cfg(target_arch = "x86_64")]
    if use_aeshash() {
        // SAFETY: AES path available (see `memhash`); pointer from the caller.
        return unsafe { aes::memhash64(p, seed) };
    }
    // SAFETY: forwarded from the caller.
    unsafe { fallback::memhash64(p, seed) }
}

/// Hashes the string whose header is at `p` (Go's `strhash`, alg.go:86;
/// asm_amd64.s:1218).
///
/// # Safety
/// `p` must point to a readable [`GoString`] (no alignment needed) whose
/// bytes are readable.
#[inline]
pub unsafe fn strhash(p: *const u8, seed: usize) -> usize {
    #[cfg(target_arch = "x86_64")]
    if use_aeshash() {
        // SAFETY: AES path available (see `memhash`); pointer from the caller.
        return unsafe { aes::strhash(p, seed) };
    }
    // SAFETY: forwarded from the caller.
    unsafe { fallback::strhash(p, seed) }
}

/// Hash of a zero-size key: the seed itself (Go's `memhash0`, alg.go:20).
///
/// # Safety
/// None needed; `unsafe` only to share the signature of its siblings.
#[inline]
pub unsafe fn memhash0(_p: *const u8, seed: usize) -> usize {
    seed
}

/// `memhash(p, seed, 1)` (Go's `memhash8`, alg.go:24).
///
/// # Safety
/// `p` must be valid for reads of 1 byte.
#[inline]
pub unsafe fn memhash8(p: *const u8, seed: usize) -> usize {
    // SAFETY: forwarded from the caller.
    unsafe { memhash(p, seed, 1) }
}

/// `memhash(p, seed, 2)` (Go's `memhash16`, alg.go:28).
///
/// # Safety
/// `p` must be valid for reads of 2 bytes.
#[inline]
pub unsafe fn memhash16(p: *const u8, seed: usize) -> usize {
    // SAFETY: forwarded from the caller.
    unsafe { memhash(p, seed, 2) }
}

/// `memhash(p, seed, 16)` (Go's `memhash128`, alg.go:32).
///
/// # Safety
/// `p` must be valid for reads of 16 bytes.
#[inline]
pub unsafe fn memhash128(p: *const u8, seed: usize) -> usize {
    // SAFETY: forwarded from the caller.
    unsafe { memhash(p, seed, 16) }
}

/// Shared shape of Go's `f32hash`/`f64hash` (alg.go:98, :110): ±0 hash
/// alike, every NaN hashes to a fresh random value (one `rand()` draw),
/// anything else hashes its bytes with `mem`.
#[inline(always)]
fn float_hash(is_zero: bool, is_nan: bool, seed: usize, mem: impl FnOnce() -> usize) -> usize {
    if is_zero {
        C1.wrapping_mul(C0 ^ seed)
    } else if is_nan {
        C1.wrapping_mul(C0 ^ seed ^ crate::rand::rand() as usize)
    } else {
        mem()
    }
}

/// Generates `f32hash`, `f64hash`, `c64hash` and `c128hash` over a given
/// `memhash` (the dispatcher, or one path's).
macro_rules! float_hashes {
    ($memhash:path, $safety_mem:literal) => {
        /// Hashes the `f32` at `p` (Go's `f32hash`, alg.go:98): +0 and -0
        /// hash alike, a NaN draws one `crate::rand::rand()`.
        ///
        /// # Safety
        /// `p` must be valid for reads of 4 bytes (no alignment needed).
        #[doc = $safety_mem]
        #[inline]
        pub unsafe fn f32hash(p: *const u8, seed: usize) -> usize {
            // SAFETY: the caller guarantees 4 readable bytes at `p`.
            let f = unsafe { core::ptr::read_unaligned(p.cast::<f32>()) };
            // SAFETY: same 4 bytes; path requirements are the caller's.
            $crate::alg::float_hash(f == 0.0, f.is_nan(), seed, || unsafe { $memhash(p, seed, 4) })
        }

        /// Hashes the `f64` at `p` (Go's `f64hash`, alg.go:110): +0 and -0
        /// hash alike, a NaN draws one `crate::rand::rand()`.
        ///
        /// # Safety
        /// `p` must be valid for reads of 8 bytes (no alignment needed).
        #[doc = $safety_mem]
        #[inline]
        pub unsafe fn f64hash(p: *const u8, seed: usize) -> usize {
            // SAFETY: the caller guarantees 8 readable bytes at `p`.
            let f = unsafe { core::ptr::read_unaligned(p.cast::<f64>()) };
            // SAFETY: same 8 bytes; path requirements are the caller's.
            $crate::alg::float_hash(f == 0.0, f.is_nan(), seed, || unsafe { $memhash(p, seed, 8) })
        }

        /// Hashes the `complex64` (two `f32`) at `p`: real part, then
        /// imaginary part chained (Go's `c64hash`, alg.go:122).
        ///
        /// # Safety
        /// `p` must be valid for reads of 8 bytes (no alignment needed).
        #[doc = $safety_mem]
        #[inline]
        pub unsafe fn c64hash(p: *const u8, seed: usize) -> usize {
            // SAFETY: both halves lie in the caller's 8 bytes.
            unsafe { f32hash(p.add(4), f32hash(p, seed)) }
        }

        /// Hashes the `complex128` (two `f64`) at `p`: real part, then
        /// imaginary part chained (Go's `c128hash`, alg.go:127).
        ///
        /// # Safety
        /// `p` must be valid for reads of 16 bytes (no alignment needed).
        #[doc = $safety_mem]
        #[inline]
        pub unsafe fn c128hash(p: *const u8, seed: usize) -> usize {
            // SAFETY: both halves lie in the caller's 16 bytes.
            unsafe { f64hash(p.add(8), f64hash(p, seed)) }
        }
    };
}

float_hashes!(memhash, "");

// ---------------------------------------------------------------------------
// Equality functions (alg.go:325-357), used by the presets.

/// Compares `size` bytes (Go's `memequal`, memequal_varlen).
///
/// # Safety
/// `p` and `q` must be valid for reads of `size` bytes.
#[inline]
pub unsafe fn memequal(p: *const u8, q: *const u8, size: usize) -> bool {
    if size == 0 || p == q {
        return true;
    }
    // SAFETY: guaranteed by the caller.
    unsafe { core::slice::from_raw_parts(p, size) == core::slice::from_raw_parts(q, size) }
}

/// Compares two `f32` with `==` (Go's `f32equal`, alg.go:343): `+0 == -0`,
/// `NaN != NaN`.
///
/// # Safety
/// `p` and `q` must be valid for reads of 4 bytes (no alignment needed).
#[inline]
pub unsafe fn f32equal(p: *const u8, q: *const u8) -> bool {
    // SAFETY: guaranteed by the caller.
    unsafe { ptr::read_unaligned(p.cast::<f32>()) == ptr::read_unaligned(q.cast::<f32>()) }
}

/// Compares two `f64` with `==` (Go's `f64equal`, alg.go:346).
///
/// # Safety
/// `p` and `q` must be valid for reads of 8 bytes (no alignment needed).
#[inline]
pub unsafe fn f64equal(p: *const u8, q: *const u8) -> bool {
    // SAFETY: guaranteed by the caller.
    unsafe { ptr::read_unaligned(p.cast::<f64>()) == ptr::read_unaligned(q.cast::<f64>()) }
}

/// Compares two `complex64` part-wise with `==` (Go's `c64equal`, alg.go:349).
///
/// # Safety
/// `p` and `q` must be valid for reads of 8 bytes (no alignment needed).
#[inline]
pub unsafe fn c64equal(p: *const u8, q: *const u8) -> bool {
    // SAFETY: guaranteed by the caller; both halves are in range.
    unsafe { f32equal(p, q) && f32equal(p.add(4), q.add(4)) }
}

/// Compares two `complex128` part-wise with `==` (Go's `c128equal`, alg.go:352).
///
/// # Safety
/// `p` and `q` must be valid for reads of 16 bytes (no alignment needed).
#[inline]
pub unsafe fn c128equal(p: *const u8, q: *const u8) -> bool {
    // SAFETY: guaranteed by the caller; both halves are in range.
    unsafe { f64equal(p, q) && f64equal(p.add(8), q.add(8)) }
}

/// Compares two strings by content (Go's `strequal`, alg.go:355).
///
/// # Safety
/// `p` and `q` must point to readable [`GoString`]s (no alignment needed)
/// whose bytes are readable.
#[inline]
pub unsafe fn strequal(p: *const u8, q: *const u8) -> bool {
    // SAFETY: guaranteed by the caller.
    let (a, b) = unsafe { (ptr::read_unaligned(p.cast::<GoString>()), ptr::read_unaligned(q.cast::<GoString>())) };
    // SAFETY: the headers' bytes are readable (caller).
    a.len == b.len && unsafe { memequal(a.ptr, b.ptr, a.len) }
}

// ---------------------------------------------------------------------------
// The fallback path (hash64.go).

/// Go's `mix` (hash64.go:77): the 128-bit product of `a` and `b`, folded by
/// XOR of its halves.
#[inline(always)]
fn mix(a: u64, b: u64) -> u64 {
    let r = (a as u128) * (b as u128);
    ((r >> 64) as u64) ^ (r as u64)
}

/// Go's `r4` (hash64.go:82): a native-endian unaligned 32-bit load.
///
/// # Safety
/// `p` must be valid for reads of 4 bytes.
#[inline(always)]
unsafe fn r4(p: *const u8) -> u64 {
    // SAFETY: guaranteed by the caller.
    unsafe { ptr::read_unaligned(p.cast::<u32>()) as u64 }
}

/// Go's `r8` (hash64.go:86): a native-endian unaligned 64-bit load.
///
/// # Safety
/// `p` must be valid for reads of 8 bytes.
#[inline(always)]
unsafe fn r8(p: *const u8) -> u64 {
    // SAFETY: guaranteed by the caller.
    unsafe { ptr::read_unaligned(p.cast::<u64>()) }
}

/// `memhashFallback` (hash64.go:21) over explicit key material.
///
/// # Safety
/// `p` must be valid for reads of `s` bytes.
#[inline(always)]
unsafe fn fb_memhash<K: Keys>(k: K, p: *const u8, seed: usize, s: usize) -> usize {
    let mut seed = seed as u64 ^ k.hashkey(0);
    let (a, b);
    // SAFETY: (whole block) every load below reads bytes in [p, p+s), which
    // the caller guarantees readable: the case analysis mirrors Go's.
    unsafe {
        match s {
            0 => return seed as usize,
            1..=3 => {
                // First, middle and last byte (they overlap for s < 3).
                a = *p as u64 | (*p.add(s >> 1) as u64) << 8 | (*p.add(s - 1) as u64) << 16;
                b = 0;
            }
            4 => {
                a = r4(p);
                b = a;
            }
            5..=7 => {
                a = r4(p);
                b = r4(p.add(s - 4));
            }
            8 => {
                a = r8(p);
                b = a;
            }
            9..=16 => {
                a = r8(p);
                b = r8(p.add(s - 8));
            }
            _ => {
                let mut p = p;
                let mut l = s;
                if l > 48 {
                    let mut seed1 = seed;
                    let mut seed2 = seed;
                    while l > 48 {
                        seed = mix(r8(p) ^ k.hashkey(1), r8(p.add(8)) ^ seed);
                        seed1 = mix(r8(p.add(16)) ^ k.hashkey(2), r8(p.add(24)) ^ seed1);
                        seed2 = mix(r8(p.add(32)) ^ k.hashkey(3), r8(p.add(40)) ^ seed2);
                        p = p.add(48);
                        l -= 48;
                    }
                    seed ^= seed1 ^ seed2;
                }
                while l > 16 {
                    seed = mix(r8(p) ^ k.hashkey(1), r8(p.add(8)) ^ seed);
                    p = p.add(16);
                    l -= 16;
                }
                // The last 16 bytes of the key, which may overlap bytes
                // already mixed in (s > 16, so they are inside the key).
                let end = p.add(l);
                a = r8(end.sub(16));
                b = r8(end.sub(8));
            }
        }
    }
    mix(M5 ^ s as u64, mix(a ^ k.hashkey(1), b ^ seed)) as usize
}

/// `memhash32Fallback` (hash64.go:67).
///
/// # Safety
/// `p` must be valid for reads of 4 bytes.
#[inline(always)]
unsafe fn fb_memhash32<K: Keys>(k: K, p: *const u8, seed: usize) -> usize {
    // SAFETY: guaranteed by the caller.
    let a = unsafe { r4(p) };
    mix(M5 ^ 4, mix(a ^ k.hashkey(1), a ^ seed as u64 ^ k.hashkey(0))) as usize
}

/// `memhash64Fallback` (hash64.go:72).
///
/// # Safety
/// `p` must be valid for reads of 8 bytes.
#[inline(always)]
unsafe fn fb_memhash64<K: Keys>(k: K, p: *const u8, seed: usize) -> usize {
    // SAFETY: guaranteed by the caller.
    let a = unsafe { r8(p) };
    mix(M5 ^ 8, mix(a ^ k.hashkey(1), a ^ seed as u64 ^ k.hashkey(0))) as usize
}

/// The fallback hashes of `runtime/hash64.go`, always available (also under
/// Miri). They read the process-wide `hashkey`.
pub mod fallback {
    use super::{GoString, fb_memhash, fb_memhash32, fb_memhash64, global_keys};

    /// Go's `memhashFallback` (hash64.go:21).
    ///
    /// # Safety
    /// `p` must be valid for reads of `s` bytes (any pointer when `s == 0`).
    #[inline]
    pub unsafe fn memhash(p: *const u8, seed: usize, s: usize) -> usize {
        // SAFETY: forwarded from the caller.
        unsafe { fb_memhash(global_keys(), p, seed, s) }
    }

    /// Go's `memhash32Fallback` (hash64.go:67).
    ///
    /// # Safety
    /// `p` must be valid for reads of 4 bytes (no alignment needed).
    #[inline]
    pub unsafe fn memhash32(p: *const u8, seed: usize) -> usize {
        // SAFETY: forwarded from the caller.
        unsafe { fb_memhash32(global_keys(), p, seed) }
    }

    /// Go's `memhash64Fallback` (hash64.go:72).
    ///
    /// # Safety
    /// `p` must be valid for reads of 8 bytes (no alignment needed).
    #[inline]
    pub unsafe fn memhash64(p: *const u8, seed: usize) -> usize {
        // SAFETY: forwarded from the caller.
        unsafe { fb_memhash64(global_keys(), p, seed) }
    }

    /// Go's `strhashFallback` (alg.go:88).
    ///
    /// # Safety
    /// `p` must point to a readable [`GoString`] (no alignment needed) whose
    /// bytes are readable.
    #[inline]
    pub unsafe fn strhash(p: *const u8, seed: usize) -> usize {
        // SAFETY: guaranteed by the caller.
        let s = unsafe { core::ptr::read_unaligned(p.cast::<GoString>()) };
        // SAFETY: the string's bytes are readable (caller).
        unsafe { memhash(s.ptr, seed, s.len) }
    }

    float_hashes!(memhash, "");
}

// ---------------------------------------------------------------------------
// The AES path (asm_amd64.s).

/// The 1..=15 bytes at `p` as a zero-padded little-endian 16-byte block
/// `(low word, high word)`, read with (possibly overlapping) loads that stay
/// inside the key.
///
/// # Safety
/// `1 <= s <= 15` and `p` must be valid for reads of `s` bytes.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn small_block(p: *const u8, s: usize) -> (u64, u64) {
    debug_assert!((1..16).contains(&s));
    // SAFETY: every load lies in [p, p+s): 8..=15 bytes are read as the
    // first and the last 8, 4..=7 as the first and the last 4, 1..=3 bytewise.
    unsafe {
        if s >= 8 {
            // The last 8 bytes hold bytes s-8..s; keep the top s-8 of them.
            let hi = if s == 8 { 0 } else { r8(p.add(s - 8)) >> (8 * (16 - s)) };
            (r8(p), hi)
        } else if s >= 4 {
            let top = r4(p.add(s - 4)) >> (8 * (8 - s));
            (r4(p) | top << 32, 0)
        } else {
            let mut lo = *p as u64;
            if s > 1 {
                lo |= (*p.add(1) as u64) << 8;
            }
            if s > 2 {
                lo |= (*p.add(2) as u64) << 16;
            }
            (lo, 0)
        }
    }
}

/// `aeshashbody` (asm_amd64.s:1233) over explicit key material.
///
/// # Safety
/// The CPU must support AES, SSSE3 and SSE4.1; `p` must be valid for reads of
/// `s` bytes.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "aes,ssse3,sse4.1")]
unsafe fn aes_hashbody<K: Keys>(k: K, p: *const u8, seed: usize, s: usize) -> usize {
    use core::arch::x86_64::*;
    // SAFETY: (whole block) the intrinsics need the target features this
    // function is compiled with (the caller guarantees the CPU has them);
    // every load reads 16 bytes inside [p, p+s) (for s >= 16) or a local
    // buffer, and the caller guarantees [p, p+s) readable.
    unsafe {
        let block = |i: usize| _mm_set_epi64x(k.aes_word(2 * i + 1) as i64, k.aes_word(2 * i) as i64);
        let load = |off: usize| _mm_loadu_si128(p.add(off).cast::<__m128i>());
        let enc = |x: __m128i| _mm_aesenc_si128(x, x);
        let low = |x: __m128i| _mm_cvtsi128_si64(x) as u64 as usize;

        // The seed block (asm :1235-1240): the 64-bit seed in the low half,
        // the low 16 bits of the length repeated four times in the high half
        // (PINSRW + PSHUFHW). `x1` keeps it unscrambled for the extra lanes.
        let len16 = (s as u64) & 0xffff;
        let x1 = _mm_set_epi64x((len16 * 0x0001_0001_0001_0001) as i64, seed as i64);
        let x0 = enc(_mm_xor_si128(x1, block(0)));

        // Scrambles one data block with the seed three times (`final1`).
        let final1 = |data: __m128i| {
            let x = _mm_xor_si128(data, x0);
            low(enc(enc(enc(x))))
        };

        if s < 16 {
            if s == 0 {
                // `aes0` (:1285): one more scramble of the seed.
                return low(enc(x0));
            }
            // `aes0to15` (:1253): Go loads 16 bytes and masks (`masks<>`)
            // or shifts (`shifts<>`, near a page end) away all but the key's
            // `s` bytes, leaving them zero-padded in a block. The same block
            // is built here from loads inside the key only.
            let (lo, hi) = small_block(p, s);
            return final1(_mm_set_epi64x(hi as i64, lo as i64));
        }
        if s == 16 {
            // `aes16` (:1291).
            return final1(load(0));
        }
        // Seeds of lanes 1.. (:1297, :1325, :1371): the unscrambled seed
        // block XOR key block i, scrambled once.
        let lane_seed = |i: usize| {
            if i == 0 { x0 } else { enc(_mm_xor_si128(x1, block(i))) }
        };
        if s <= 32 {
            // `aes17to32` (:1295): first and last 16 bytes (overlapping).
            let a = enc(enc(enc(_mm_xor_si128(load(0), x0))));
            let b = enc(enc(enc(_mm_xor_si128(load(s - 16), lane_seed(1)))));
            return low(_mm_xor_si128(a, b));
        }
        if s <= 64 {
            // `aes33to64` (:1321): first 32 and last 32 bytes.
            let offs = [0, 16, s - 32, s - 16];
            let mut x = [_mm_setzero_si128(); 4];
            for i in 0..4 {
                x[i] = enc(enc(enc(_mm_xor_si128(load(offs[i]), lane_seed(i)))));
            }
            // PXOR X6,X4; PXOR X7,X5; PXOR X5,X4.
            return low(_mm_xor_si128(_mm_xor_si128(x[0], x[2]), _mm_xor_si128(x[1], x[3])));
        }
        let mut seeds = [_mm_setzero_si128(); 8];
        for (i, sd) in seeds.iter_mut().enumerate() {
            *sd = lane_seed(i);
        }
        // Folds the eight lanes as Go does (:1435-1441 and :1554-1560).
        let fold = |x: [__m128i; 8]| {
            let a = _mm_xor_si128(x[0], x[4]);
            let b = _mm_xor_si128(x[1], x[5]);
            let c = _mm_xor_si128(x[2], x[6]);
            let d = _mm_xor_si128(x[3], x[7]);
            low(_mm_xor_si128(_mm_xor_si128(a, c), _mm_xor_si128(b, d)))
        };
        if s <= 128 {
            // `aes65to128` (:1363): first 64 and last 64 bytes.
            let mut x = [_mm_setzero_si128(); 8];
            for i in 0..8 {
                let off = if i < 4 { 16 * i } else { s + 16 * i - 128 };
                x[i] = enc(enc(enc(_mm_xor_si128(load(off), seeds[i]))));
            }
            return fold(x);
        }
        // `aes129plus` (:1447): the state starts as the last 128 bytes XOR
        // the lane seeds; then for each of the ceil(s/128)-1 leading blocks
        // of 128 bytes (the last may overlap the tail) every lane is
        // scrambled and then encrypted with the block's 16 bytes as round
        // key; three final scrambles.
        let mut x = [_mm_setzero_si128(); 8];
        for i in 0..8 {
            x[i] = _mm_xor_si128(load(s - 128 + 16 * i), seeds[i]);
        }
        let mut off = 0;
        for _ in 0..(s - 1) >> 7 {
            for (i, xi) in x.iter_mut().enumerate() {
                *xi = _mm_aesenc_si128(enc(*xi), load(off + 16 * i));
            }
            off += 128;
        }
        for xi in x.iter_mut() {
            *xi = enc(enc(enc(*xi)));
        }
        fold(x)
    }
}

/// AES `memhash32` (asm_amd64.s:1568): the seed in the low half, the 4 data
/// bytes in dword 2, encrypted with key blocks 0, 1 and 2.
///
/// # Safety
/// The CPU must support AES, SSSE3 and SSE4.1; `p` must be valid for reads of
/// 4 bytes.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "aes,ssse3,sse4.1")]
unsafe fn aes_memhash32<K: Keys>(k: K, p: *const u8, seed: usize) -> usize {
    use core::arch::x86_64::*;
    // SAFETY: target features as in `aes_hashbody`; 4 readable bytes at `p`.
    unsafe {
        let block = |i: usize| _mm_set_epi64x(k.aes_word(2 * i + 1) as i64, k.aes_word(2 * i) as i64);
        let d = ptr::read_unaligned(p.cast::<u32>());
        let mut x = _mm_insert_epi32::<2>(_mm_cvtsi64_si128(seed as i64), d as i32);
        for i in 0..3 {
            x = _mm_aesenc_si128(x, block(i));
        }
        _mm_cvtsi128_si64(x) as u64 as usize
    }
}

/// AES `memhash64` (asm_amd64.s:1585): the seed in the low half, the 8 data
/// bytes in the high half, encrypted with key blocks 0, 1 and 2.
///
/// # Safety
/// The CPU must support AES, SSSE3 and SSE4.1; `p` must be valid for reads of
/// 8 bytes.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "aes,ssse3,sse4.1")]
unsafe fn aes_memhash64<K: Keys>(k: K, p: *const u8, seed: usize) -> usize {
    use core::arch::x86_64::*;
    // SAFETY: target features as in `aes_hashbody`; 8 readable bytes at `p`.
    unsafe {
        let block = |i: usize| _mm_set_epi64x(k.aes_word(2 * i + 1) as i64, k.aes_word(2 * i) as i64);
        let d = ptr::read_unaligned(p.cast::<u64>());
        let mut x = _mm_set_epi64x(d as i64, seed as i64);
        for i in 0..3 {
            x = _mm_aesenc_si128(x, block(i));
        }
        _mm_cvtsi128_si64(x) as u64 as usize
    }
}

/// The AES-NI hashes of `runtime/asm_amd64.s`. They read the process-wide
/// `aeskeysched`.
///
/// Every function requires a CPU with AES, SSSE3 and SSE4.1: check
/// [`aes_available`] first.
#[cfg(target_arch = "x86_64")]
pub mod aes {
    use super::{GoString, aes_hashbody, aes_memhash32, aes_memhash64, global_keys, ready_keys};

    /// Go's AES `memhash` (asm_amd64.s:1207 → `aeshashbody`, :1233).
    ///
    /// # Safety
    /// The CPU must support AES, SSSE3 and SSE4.1 ([`super::aes_available`]);
    /// `p` must be valid for reads of `s` bytes (any pointer when `s == 0`).
    #[inline]
    #[target_feature(enable = "aes,ssse3,sse4.1")]
    pub unsafe fn memhash(p: *const u8, seed: usize, s: usize) -> usize {
        // SAFETY: forwarded from the caller.
        unsafe { aes_hashbody(global_keys(), p, seed, s) }
    }

    /// Go's AES `memhash32` (asm_amd64.s:1568).
    ///
    /// # Safety
    /// The CPU must support AES, SSSE3 and SSE4.1; `p` must be valid for
    /// reads of 4 bytes (no alignment needed).
    #[inline]
    #[target_feature(enable = "aes,ssse3,sse4.1")]
    pub unsafe fn memhash32(p: *const u8, seed: usize) -> usize {
        // SAFETY: forwarded from the caller.
        unsafe { aes_memhash32(global_keys(), p, seed) }
    }

    /// [`memhash32`] for a caller that has seen the AES path selected (so the
    /// material is initialised): no initialisation check.
    ///
    /// # Safety
    /// As [`memhash32`]; `super::aes_selected()` was true.
    #[inline]
    #[target_feature(enable = "aes,ssse3,sse4.1")]
    pub(crate) unsafe fn memhash32_ready(p: *const u8, seed: usize) -> usize {
        // SAFETY: forwarded from the caller.
        unsafe { aes_memhash32(ready_keys(), p, seed) }
    }

    /// Go's AES `memhash64` (asm_amd64.s:1585).
    ///
    /// # Safety
    /// The CPU must support AES, SSSE3 and SSE4.1; `p` must be valid for
    /// reads of 8 bytes (no alignment needed).
    #[inline]
    #[target_feature(enable = "aes,ssse3,sse4.1")]
    pub unsafe fn memhash64(p: *const u8, seed: usize) -> usize {
        // SAFETY: forwarded from the caller.
        unsafe { aes_memhash64(global_keys(), p, seed) }
    }

    /// [`memhash64`] for a caller that has seen the AES path selected (so the
    /// material is initialised): no initialisation check.
    ///
    /// # Safety
    /// As [`memhash64`]; `super::aes_selected()` was true.
    #[inline]
    #[target_feature(enable = "aes,ssse3,sse4.1")]
    pub(crate) unsafe fn memhash64_ready(p: *const u8, seed: usize) -> usize {
        // SAFETY: forwarded from the caller.
        unsafe { aes_memhash64(ready_keys(), p, seed) }
    }

    /// Go's AES `strhash` (asm_amd64.s:1218): `aeshashbody` over the
    /// string's bytes.
    ///
    /// # Safety
    /// The CPU must support AES, SSSE3 and SSE4.1; `p` must point to a
    /// readable [`GoString`] (no alignment needed) whose bytes are readable.
    #[inline]
    #[target_feature(enable = "aes,ssse3,sse4.1")]
    pub unsafe fn strhash(p: *const u8, seed: usize) -> usize {
        // SAFETY: guaranteed by the caller.
        let s = unsafe { core::ptr::read_unaligned(p.cast::<GoString>()) };
        // SAFETY: the string's bytes are readable (caller).
        unsafe { memhash(s.ptr, seed, s.len) }
    }

    float_hashes!(memhash, "\nThe CPU must also support AES, SSSE3 and SSE4.1.");
}

#[cfg(test)]
mod tests {
    //! These tests never touch the process-wide material or path: other unit
    //! tests in this binary run maps concurrently. They use explicit material.
    use super::*;

    const TK: KeyMaterial = test_key_material();

    /// The generator's deterministic data (splitmix64 from "gomap"), to
    /// reproduce a few vectors of tests/data/hash_vectors.json here.
    fn data(n: usize) -> Vec<u8> {
        let mut s: u64 = 0x676f6d6170;
        (0..n)
            .map(|_| {
                s = s.wrapping_add(0x9e3779b97f4a7c15);
                let mut z = s;
                z = (z ^ (z >> 30)).wrapping_mul(0xbf58476d1ce4e5b9);
                z = (z ^ (z >> 27)).wrapping_mul(0x94d049bb133111eb);
                (z ^ (z >> 31)) as u8
            })
            .collect()
    }

    fn fb(b: &[u8], seed: usize) -> usize {
        // SAFETY: `b` is readable for its length.
        unsafe { fb_memhash(&TK, b.as_ptr(), seed, b.len()) }
    }

    /// A few vectors of tests/data/hash_vectors.json (real Go 1.24.11 with
    /// `test_key_material()`), one per length class of `aeshashbody`:
    /// memhash over `data[off..off+len]` with seed 0xdeadbeef, as
    /// (len, off, aes, fallback).
    const KNOWN: [(usize, usize, u64, u64); 8] = [
        (0, 0, 0x55588aabb96aa176, 0x9e3779b9a1e7c2fa),
        (3, 5, 0xae1841477c8f34cd, 0x143f8880f6690966),
        (16, 0, 0x37e25efcd9088d3d, 0x31715513c77ff059),
        (17, 7, 0x3fc57b9305284de9, 0x1ed5a6efb6ff74ea),
        (40, 8, 0x4fc7a545fc2340a3, 0xa2d14309620feb84),
        (100, 12, 0x980320124a0fc1ff, 0x7fcbd36612756f99),
        (300, 4, 0x80109721bd3ed282, 0xaf0c421b88a030dc),
        (1025, 7, 0xcdef1c759fb4bb78, 0x2b222bcf03245c08),
    ];
    const SEED: usize = 0xdeadbeef;
    /// memhash32/memhash64 of the recorded values, seed 0xdeadbeef:
    /// (value, aes, fallback).
    const KNOWN32: (u32, u64, u64) = (0xace33e60, 0x5f2135f035061028, 0xa235853bf3ae5783);
    const KNOWN64: (u64, u64, u64) = (0xaa336f0d9dd577a0, 0x605b9cb8b692b820, 0xf3fa3ace108fbf8f);

    #[test]
    fn alg_fallback_known_answers() {
        let d = data(1041);
        for &(len, off, _, want) in &KNOWN {
            if cfg!(miri) && len > 300 {
                continue;
            }
            assert_eq!(fb(&d[off..off + len], SEED) as u64, want, "len {len}");
        }
        let b32 = KNOWN32.0.to_ne_bytes();
        let b64 = KNOWN64.0.to_ne_bytes();
        // SAFETY: 4 and 8 readable bytes.
        unsafe {
            assert_eq!(fb_memhash32(&TK, b32.as_ptr(), SEED) as u64, KNOWN32.2);
            assert_eq!(fb_memhash64(&TK, b64.as_ptr(), SEED) as u64, KNOWN64.2);
        }
    }

    #[cfg(all(target_arch = "x86_64", not(miri)))]
    #[test]
    fn alg_aes_known_answers() {
        if !aes_available() {
            return;
        }
        let d = data(1041);
        let b32 = KNOWN32.0.to_ne_bytes();
        let b64 = KNOWN64.0.to_ne_bytes();
        // SAFETY: AES available; all ranges are readable.
        unsafe {
            for &(len, off, want, _) in &KNOWN {
                assert_eq!(aes_hashbody(&TK, d.as_ptr().add(off), SEED, len) as u64, want, "len {len}");
            }
            assert_eq!(aes_memhash32(&TK, b32.as_ptr(), SEED) as u64, KNOWN32.1);
            assert_eq!(aes_memhash64(&TK, b64.as_ptr(), SEED) as u64, KNOWN64.1);
        }
    }

    #[test]
    fn alg_test_material_shape() {
        assert_eq!(TK.aeskeysched[0], 3);
        assert_eq!(TK.aeskeysched[1], 10);
        assert_eq!(TK.aeskeysched[127], (127 * 7 + 3) as u8);
        assert!(TK.hashkey.iter().all(|w| w & 1 == 1));
        assert_eq!((&TK).aes_word(0), u64::from_le_bytes(TK.aeskeysched[0..8].try_into().unwrap()));
    }

    #[test]
    fn alg_fallback_32_64_equal_memhash() {
        // Go's TestMemHash32Equality / TestMemHash64Equality (hash_test.go:22,
        // :39): on the fallback path the fixed-size hashes equal memhash.
        let d = data(64);
        for i in 0..40 {
            for &seed in &[0usize, 1, 0xdeadbeef, usize::MAX] {
                // SAFETY: d has at least i + 8 bytes.
                unsafe {
                    assert_eq!(fb_memhash32(&TK, d.as_ptr().add(i), seed), fb_memhash(&TK, d.as_ptr().add(i), seed, 4));
                    assert_eq!(fb_memhash64(&TK, d.as_ptr().add(i), seed), fb_memhash(&TK, d.as_ptr().add(i), seed, 8));
                }
            }
        }
    }

    #[test]
    fn alg_fallback_ignores_bytes_outside_key() {
        // Go's TestSmhasherSanity (hash_test.go:67), scaled down.
        let n_max = if cfg!(miri) { 40 } else { 130 };
        let d = data(n_max + 64);
        let mut buf = vec![0xa5u8; n_max + 64];
        for n in 0..n_max {
            for off in [0usize, 1, 7, 13] {
                buf.fill(0x5a ^ (n as u8));
                buf[16 + off..16 + off + n].copy_from_slice(&d[16..16 + n]);
                assert_eq!(fb(&d[16..16 + n], 7), fb(&buf[16 + off..16 + off + n], 7), "n={n} off={off}");
            }
        }
    }

    #[cfg(all(target_arch = "x86_64", not(miri)))]
    #[test]
    fn alg_aes_ignores_bytes_outside_key_and_differs_by_length() {
        if !aes_available() {
            return;
        }
        let d = data(400);
        let mut buf = vec![0u8; 400];
        let mut seen = std::collections::HashSet::new();
        for n in 0..300 {
            buf.fill(n as u8);
            buf[32..32 + n].copy_from_slice(&d[8..8 + n]);
            // SAFETY: AES available; both ranges are inside their buffers.
            let (x, y) =
                unsafe { (aes_hashbody(&TK, d.as_ptr().add(8), 0, n), aes_hashbody(&TK, buf.as_ptr().add(32), 0, n)) };
            assert_eq!(x, y, "n={n}");
            assert!(seen.insert(x), "collision at n={n}");
        }
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn alg_aes_small_block_reads_only_the_key() {
        // The masked 16-byte block of `aes0to15`, built without reading past
        // the key: exact-size allocations make Miri check the bounds.
        let d = data(15);
        for s in 1..16 {
            let key: Box<[u8]> = d[..s].into();
            let mut want = [0u8; 16];
            want[..s].copy_from_slice(&key);
            // SAFETY: `key` holds exactly `s` readable bytes, 1 <= s <= 15.
            let (lo, hi) = unsafe { small_block(key.as_ptr(), s) };
            assert_eq!(lo.to_le_bytes(), want[..8], "s={s}");
            assert_eq!(hi.to_le_bytes(), want[8..], "s={s}");
        }
    }

    #[test]
    fn alg_float_zero_and_nan() {
        let pz = 0.0f64;
        let nz = -0.0f64;
        let h = 0x1234usize;
        // SAFETY: pointers to live locals of the right size.
        unsafe {
            assert_eq!(fallback::f64hash((&pz as *const f64).cast(), h), C1.wrapping_mul(C0 ^ h));
            assert_eq!(fallback::f64hash((&nz as *const f64).cast(), h), C1.wrapping_mul(C0 ^ h));
            let nan = f32::NAN;
            let got = crate::rand::with_source(crate::rand::scripted(vec![77]), || {
                fallback::f32hash((&nan as *const f32).cast(), h)
            });
            assert_eq!(got, C1.wrapping_mul(C0 ^ h ^ 77));
        }
    }

    #[test]
    fn alg_equalities() {
        let (a, b) = (0.0f64, -0.0f64);
        let n = f64::NAN;
        let s1 = GoString::from_str("hello");
        let s2 = GoString::from_bytes(b"hello");
        let s3 = GoString::from_str("hellp");
        // SAFETY: pointers to live locals of the right size.
        unsafe {
            assert!(f64equal((&a as *const f64).cast(), (&b as *const f64).cast()));
            assert!(!f64equal((&n as *const f64).cast(), (&n as *const f64).cast()));
            assert!(strequal((&s1 as *const GoString).cast(), (&s2 as *const GoString).cast()));
            assert!(!strequal((&s1 as *const GoString).cast(), (&s3 as *const GoString).cast()));
            assert!(memequal(b"abc".as_ptr(), b"abc".as_ptr(), 3));
            assert!(!memequal(b"abc".as_ptr(), b"abd".as_ptr(), 3));
        }
    }
}
