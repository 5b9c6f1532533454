//! Go's map hash functions, bit for bit (64-bit targets and 32-bit x86).
//!
//! This is the hashing half of Go 1.24.11's `runtime/alg.go`, together with
//! the two implementations it dispatches to:
//!
//! * [`aes`]: the AES hash of the target's Go assembly, `aeshashbody`,
//!   `memhash32` and `memhash64` of `runtime/asm_amd64.s` (AES-NI, used by Go
//!   on x86-64 CPUs with AES, SSSE3 and SSE4.1), of `runtime/asm_386.s`
//!   (the same instructions on 32-bit x86, 32-bit hashes and four lanes;
//!   `src/alg/asm_386.rs`) or of `runtime/asm_arm64.s` (`AESE`/`AESMC`,
//!   used by Go on arm64 CPUs with AES; `src/alg/asm_arm64.rs`). The three
//!   are different functions;
//! * [`fallback`]: the wyhash-derived hash of `runtime/hash64.go` on 64-bit
//!   targets, of `runtime/hash32.go` on 32-bit ones (`src/alg/hash32.rs`),
//!   used by Go when those instructions are missing or `GODEBUG=cpu.aes=off`
//!   is set.
//!
//! The functions at the top level ([`memhash`], [`strhash`], [`f64hash`], ...)
//! dispatch between the two like Go's assembly stubs do on `useAeshash`
//! (asm_amd64.s:1211). Every function keeps Go's name and argument order:
//! `p` points to the key, `seed` is Go's `h`.
//!
//! # Key material
//!
//! Go seeds its hashes with per-process random material (`alginit`,
//! alg.go:446): the `aeskeysched` for the AES path (128 bytes on 64-bit, 64
//! on 32-bit) and the four words of `hashkey` for the fallback. gomap keeps both in [`KeyMaterial`],
//! fills them lazily from the OS on first use, and lets callers replace them
//! with [`set_key_material`] (to replay a Go process, or for tests with
//! [`test_key_material`]). See `docs/hashes.md` for every function beside
//! its Go twin and for how the known-answer vectors in
//! `tests/data/hash_vectors.json` are produced from the real Go runtime.
//!
//! # Safety
//!
//! Every hash and equality function reads the key bytes its `# Safety`
//! names and nothing else (no load strays past the key, unlike Go's AES
//! path, which may read a whole 16-byte block). The AES functions also
//! need a CPU that can run them (x86-64 and x86: AES, SSSE3 and SSE4.1;
//! aarch64: AES), which the dispatchers check
//! through [`use_aeshash`] / `aes_selected` (the path is only ever set to
//! AES when [`aes_available`] holds).

use core::ptr;
use core::sync::atomic::{AtomicPtr, AtomicU8, Ordering};
use std::sync::{Mutex, Once, OnceLock, PoisonError};

/// Go's string header (`runtime.stringStruct`): a pointer to the bytes and a
/// length. String keys are stored in maps as this two-word header (16
/// bytes on 64-bit, 8 on 32-bit).
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
    /// * `len == 0`, or `ptr` is valid for reads of `len` bytes (within one
    ///   allocation) for `'a`;
    /// * the bytes are not mutated during `'a`.
    pub unsafe fn as_bytes<'a>(&self) -> &'a [u8] {
        if self.len == 0 {
            return &[];
        }
        // SAFETY: `len != 0`, so (point 1) `ptr` is non-null and valid for
        // reads of `len` bytes of one allocation for `'a` (which also bounds
        // `len` by `isize::MAX`; `u8` needs no alignment); point 2: not
        // mutated during `'a`.
        unsafe { core::slice::from_raw_parts(self.ptr, self.len) }
    }
}

/// Go's `c0` (alg.go:16) on 64-bit targets: mixed into the hash of ±0 and NaN.
#[cfg(target_pointer_width = "64")]
pub const C0: usize = 33054211828000289;
/// Go's `c1` (alg.go:17) on 64-bit targets.
#[cfg(target_pointer_width = "64")]
pub const C1: usize = 23344194077549503;
/// Go's `c0` (alg.go:16) on 32-bit targets: mixed into the hash of ±0 and NaN.
#[cfg(target_pointer_width = "32")]
pub const C0: usize = 2860486313;
/// Go's `c1` (alg.go:17) on 32-bit targets.
#[cfg(target_pointer_width = "32")]
pub const C1: usize = 3267000013;
/// Go's `m5` (hash64.go:18): the 64-bit fallback's final-round constant.
#[cfg(target_pointer_width = "64")]
const M5: u64 = 0x1d8e4e27c47d124f;
/// Size of `aeskeysched` (`hashRandomBytes`, alg.go:438): 128 bytes on
/// 64-bit targets, 64 on 32-bit ones.
pub const HASH_RANDOM_BYTES: usize = core::mem::size_of::<usize>() / 4 * 64;

/// The per-process hash seeds: Go's `runtime.aeskeysched` (alg.go:441) and
/// `runtime.hashkey` (alg.go:444).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeyMaterial {
    /// Key schedule XORed into and used as round keys by the AES path.
    pub aeskeysched: [u8; HASH_RANDOM_BYTES],
    /// Secrets of the fallback path. Go's are `uintptr`: on 32-bit targets
    /// only the low 32 bits of each word are used.
    pub hashkey: [u64; 4],
}

/// The canonical deterministic material shared by gomap's tests and the Go
/// vector generator (`go-ref/cmd/hashvec`): `aeskeysched[i] = i*7 + 3`
/// (mod 256) and four fixed odd `hashkey` words (32-bit Go holds their low
/// halves).
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

// ---------------------------------------------------------------------------
// The process-wide material.
//
// Go keeps `aeskeysched` in a plain global that the AES assembly uses as a
// memory operand of `AESENC`. gomap lets `set_key_material` replace the
// material while other threads hash, so it cannot be a plain global (a write
// racing with reads is undefined behaviour). Instead each material lives in
// an immutable, never-freed [`KeyBlock`] and [`KEYS`] points to the current
// one: a hash loads the pointer once (an acquire load, a plain `mov` on
// x86) and reads the round keys straight from the block as aligned 16-byte
// memory, as Go does. Replacing the material publishes another block;
// blocks are never mutated or freed because a concurrent hash may still be
// reading the old one. The first material (drawn by the first hash, or
// fixed by `init_key_material`) goes to a static, [`FIRST`], so that the
// lazy initialisation inside a map's first hash makes no heap allocation
// (map operations allocate only through the map's own allocator); later
// ones are leaked and interned in [`BLOCKS`] (one per distinct material,
// about 160 bytes each), so replacing back and forth between materials
// allocates nothing new. The registry also keeps every leaked block
// reachable, which is what Miri's leak check expects.

/// One 16-byte round key of `aeskeysched`, aligned for `MOVDQA` /
/// `_mm_load_si128` (or a memory operand of `AESENC`) by its type.
#[repr(C, align(16))]
#[derive(Clone, Copy, PartialEq, Eq)]
struct Block16([u8; 16]);

/// The key material as the hash functions read it: `aeskeysched` as aligned
/// round keys, then `hashkey`.
#[repr(C, align(16))]
#[derive(Clone, Copy, PartialEq, Eq)]
struct KeyBlock {
    /// `aeskeysched[16i..16i + 16]` is `aes[i]`.
    aes: [Block16; HASH_RANDOM_BYTES / 16],
    /// Go's `hashkey` (low halves on 32-bit targets).
    hashkey: [u64; 4],
}

impl KeyBlock {
    const fn new(km: &KeyMaterial) -> Self {
        let mut aes = [Block16([0; 16]); HASH_RANDOM_BYTES / 16];
        let mut i = 0;
        while i < HASH_RANDOM_BYTES {
            aes[i / 16].0[i % 16] = km.aeskeysched[i];
            i += 1;
        }
        Self { aes, hashkey: km.hashkey }
    }

    fn material(&self) -> KeyMaterial {
        let mut aeskeysched = [0; HASH_RANDOM_BYTES];
        for (d, b) in aeskeysched.chunks_exact_mut(16).zip(&self.aes) {
            d.copy_from_slice(&b.0);
        }
        KeyMaterial { aeskeysched, hashkey: self.hashkey }
    }

    /// `hashkey[i]`.
    #[inline(always)]
    fn hashkey(&self, i: usize) -> u64 {
        self.hashkey[i]
    }

    /// Round key `i`: bytes `16i..16i + 16` of `aeskeysched`, 16-byte
    /// aligned.
    #[cfg_attr(
        not(any(target_arch = "x86_64", target_arch = "x86", target_arch = "aarch64")),
        allow(dead_code, reason = "only the AES paths read the key schedule")
    )]
    #[inline(always)]
    fn aes_block(&self, i: usize) -> &Block16 {
        &self.aes[i]
    }
}

/// What [`KEYS`] points to until the material is initialised; never read
/// by a hash (they all initialise first, [`global_keys`], or have seen the
/// path set, which happens after, [`ready_keys`]).
static UNSET: KeyBlock = KeyBlock::new(&KeyMaterial { aeskeysched: [0; HASH_RANDOM_BYTES], hashkey: [0; 4] });
/// The current material. Invariant: it points to [`UNSET`], to the value
/// of [`FIRST`] or to a block leaked by [`publish`] (so to a valid
/// `KeyBlock` that is never mutated or freed); stores are releases made
/// after the block was written.
static KEYS: AtomicPtr<KeyBlock> = AtomicPtr::new(ptr::addr_of!(UNSET).cast_mut());
/// The first material published.
static FIRST: OnceLock<KeyBlock> = OnceLock::new();
/// Every block [`publish`] has leaked, to reuse one for the same material.
/// Its lock also serialises publications.
static BLOCKS: Mutex<Vec<&'static KeyBlock>> = Mutex::new(Vec::new());
static KEYS_INIT: Once = Once::new();

/// Draws fresh material from the OS (Go: `bootstrapRand`, seeded from the OS
/// at startup). Unlike Go, which fills only the array its chosen path uses
/// (alg.go:446-471), both are filled because [`set_use_aeshash`] can change
/// the path later.
fn os_key_material() -> KeyMaterial {
    use rand::TryRngCore;
    let mut buf = [0u8; KEY_MATERIAL_BYTES];
    if rand::rngs::OsRng.try_fill_bytes(&mut buf).is_err() {
        // Go treats a failed read of OS randomness at startup as fatal; the
        // thread RNG is itself seeded from the OS, so use it as a last try.
        use rand::RngCore;
        rand::rng().fill_bytes(&mut buf);
    }
    KeyMaterial::from_bytes(&buf)
}

/// The block [`KEYS`] points to now.
#[inline(always)]
fn current_block() -> &'static KeyBlock {
    let p = KEYS.load(Ordering::Acquire);
    // SAFETY: by the invariant of `KEYS`, `p` points to `UNSET`, to `FIRST`'s
    // value or to a block leaked by `publish`: valid, aligned and never
    // mutated or freed, so readable as `&'static`. Its contents were written before the release
    // store that published `p`, which this acquire load synchronises with.
    unsafe { &*p }
}

/// Makes `km` the current material. Installing the current material again
/// changes nothing (what concurrent tests do). The first material goes to
/// [`FIRST`] (no heap allocation); any other gets the block interned for
/// it, leaked on first use.
fn publish(km: &KeyMaterial) {
    let want = KeyBlock::new(km);
    // A panic while the lock is held leaves the registry consistent (a push
    // is the only change), so a poisoned lock is still usable.
    let mut blocks = BLOCKS.lock().unwrap_or_else(PoisonError::into_inner);
    if *current_block() == want {
        return;
    }
    let block: &'static KeyBlock = match FIRST.get() {
        None => FIRST.get_or_init(|| want),
        Some(first) if *first == want => first,
        Some(_) => match blocks.iter().find(|b| ***b == want) {
            Some(&b) => b,
            None => {
                let b = Box::leak(Box::new(want));
                blocks.push(b);
                b
            }
        },
    };
    // Keeps the invariant of `KEYS`: `FIRST`'s value (a `OnceLock` value is
    // never changed once set, and this static's is never taken) or a leaked
    // block, fully written before this release store.
    KEYS.store(ptr::from_ref(block).cast_mut(), Ordering::Release);
}

#[cold]
fn init_keys_slow() {
    KEYS_INIT.call_once(|| publish(&os_key_material()));
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
    current_block().material()
}

/// Replaces the process-wide material (Go never does this after `alginit`;
/// gomap allows it to replay a Go process or for deterministic tests).
///
/// Every existing map becomes unusable: its keys were placed with the old
/// hashes. Safe to call from many threads; each hash reads either the old
/// or the new material, but operations running concurrently with a
/// replacement may hash keys with both, so replace it only while no map is
/// in use (or, as tests do, only ever with the same material: installing
/// the current material is a no-op).
///
/// Each distinct material ever installed keeps one small block (about 160
/// bytes) alive until the process exits, since a concurrent hash may still
/// be reading it: all but the first are heap allocations, never freed.
pub fn set_key_material(km: &KeyMaterial) {
    // Finish the lazy OS initialisation first so it cannot land afterwards.
    ensure_keys();
    publish(km);
}

/// Size of [`KeyMaterial`] as bytes ([`KeyMaterial::from_bytes`]):
/// `aeskeysched`, then the four `hashkey` words little-endian.
pub const KEY_MATERIAL_BYTES: usize = HASH_RANDOM_BYTES + 32;

impl KeyMaterial {
    /// The material from its byte form: `aeskeysched` ([`HASH_RANDOM_BYTES`]), then
    /// `hashkey[0..4]` as little-endian words.
    pub fn from_bytes(b: &[u8; KEY_MATERIAL_BYTES]) -> Self {
        let mut km = KeyMaterial { aeskeysched: [0; HASH_RANDOM_BYTES], hashkey: [0; 4] };
        km.aeskeysched.copy_from_slice(&b[..HASH_RANDOM_BYTES]);
        for (i, w) in km.hashkey.iter_mut().enumerate() {
            let o = HASH_RANDOM_BYTES + 8 * i;
            *w = u64::from_le_bytes(b[o..o + 8].try_into().expect("8 bytes"));
        }
        km
    }
}

/// Fixes the process-wide material before anything has hashed with it
/// (Go draws it once at start-up, `alginit`, alg.go:446; a host that also
/// fixes the random draws, [`crate::rand`], then gets the same hashes,
/// seeds and iteration orders in every process). Returns `false`, changing
/// nothing, once the material is in use: drawn by a first hash, set
/// before, or read by [`key_material`]. Making a map does not hash, so
/// maps made before the call are fine as long as none holds keys.
///
/// Fixing both the material and the draws makes every hash predictable:
/// whoever knows them can choose keys that all land in one bucket chain
/// and make each insert and lookup linear (Go's per-process secrets exist
/// to prevent exactly that). Only for inputs the host trusts.
pub fn init_key_material(km: &KeyMaterial) -> bool {
    let mut set = false;
    KEYS_INIT.call_once(|| {
        publish(km);
        set = true;
    });
    set
}

/// Where the hash functions read their material: the process-wide block
/// ([`Global`]) or, in unit tests, an explicit [`KeyBlock`]. Each hash
/// function calls [`Keys::block`] once, on entry: for [`Global`] that is
/// the one load of [`KEYS`], done inside the (possibly out-of-line) hash
/// function rather than by its caller.
trait Keys: Copy {
    /// The material to hash with.
    fn block(self) -> &'static KeyBlock;
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
/// (see [`init_path_slow`] and [`set_use_aeshash`]), and the acquire load of
/// `PATH` makes that publication visible.
#[cfg(any(target_arch = "x86_64", target_arch = "x86", target_arch = "aarch64"))]
#[inline(always)]
fn ready_keys() -> Global {
    debug_assert!(KEYS_INIT.is_completed());
    Global(())
}

impl Keys for Global {
    #[inline(always)]
    fn block(self) -> &'static KeyBlock {
        current_block()
    }
}

impl Keys for &'static KeyBlock {
    #[inline(always)]
    fn block(self) -> &'static KeyBlock {
        self
    }
}

// ---------------------------------------------------------------------------
// Path selection (Go: `useAeshash`, alg.go:46, set by `alginit`, alg.go:446).

const PATH_UNKNOWN: u8 = 0;
const PATH_FALLBACK: u8 = 1;
const PATH_AES: u8 = 2;
static PATH: AtomicU8 = AtomicU8::new(PATH_UNKNOWN);

/// Whether this CPU can run the AES path, the same test as `alginit`
/// (alg.go:446): x86-64 or x86 (Go's 386) with AES, SSSE3 and SSE4.1
/// (alg.go:448-451), or aarch64 with AES (alg.go:453, `cpu.ARM64.HasAES`).
/// Always false on other targets and under Miri, which cannot execute the
/// AES intrinsics.
pub fn aes_available() -> bool {
    #[cfg(all(any(target_arch = "x86_64", target_arch = "x86"), not(miri)))]
    {
        std::is_x86_feature_detected!("aes")
            && std::is_x86_feature_detected!("ssse3")
            && std::is_x86_feature_detected!("sse4.1")
    }
    #[cfg(all(target_arch = "aarch64", not(miri)))]
    {
        std::arch::is_aarch64_feature_detected!("aes")
    }
    #[cfg(not(all(any(target_arch = "x86_64", target_arch = "x86", target_arch = "aarch64"), not(miri))))]
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
#[cfg(any(target_arch = "x86_64", target_arch = "x86", target_arch = "aarch64"))]
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
/// * `p` is valid for reads of `s` bytes (any pointer when `s == 0`).
#[inline]
pub unsafe fn memhash(p: *const u8, seed: usize, s: usize) -> usize {
    // As `memhash64`: the AES path decided with one load, anything else out
    // of line.
    #[cfg(any(target_arch = "x86_64", target_arch = "x86", target_arch = "aarch64"))]
    if aes_selected() {
        // SAFETY: 1. the AES path is only selected when `aes_available()`;
        // 2. `p` is valid for reads of `s` bytes (caller); 3.
        // `aes_selected()` was just true.
        return unsafe { aes::memhash_ready(p, seed, s) };
    }
    // SAFETY: `p` is valid for reads of `s` bytes (caller).
    unsafe { memhash_slow(p, seed, s) }
}

/// [`memhash`] when the AES path is not (yet) known to be selected.
///
/// # Safety
/// As for [`memhash`].
#[inline(never)]
unsafe fn memhash_slow(p: *const u8, seed: usize, s: usize) -> usize {
    #[cfg(any(target_arch = "x86_64", target_arch = "x86", target_arch = "aarch64"))]
    if use_aeshash() {
        // SAFETY: 1. the CPU can run the AES path: `use_aeshash`
        // is only true once the path was set to AES, which happens only
        // when `aes_available()` holds; 2. `p` is valid for reads of `s`
        // bytes (caller).
        return unsafe { aes::memhash(p, seed, s) };
    }
    // SAFETY: `p` is valid for reads of `s` bytes (caller).
    unsafe { fallback::memhash(p, seed, s) }
}

/// Hashes the 4 bytes at `p` (Go's `memhash32`, alg.go:69;
/// asm_amd64.s:1568). Not the same function as `memhash(p, seed, 4)` on the
/// AES path.
///
/// # Safety
/// * `p` is valid for reads of 4 bytes (no alignment needed).
#[inline]
pub unsafe fn memhash32(p: *const u8, seed: usize) -> usize {
    // The AES path decided with one load and entered with a jump; anything
    // else (not decided yet, or the fallback) out of line.
    #[cfg(any(target_arch = "x86_64", target_arch = "x86", target_arch = "aarch64"))]
    if aes_selected() {
        // SAFETY: 1. the AES path is only selected when `aes_available()`;
        // 2. `p` is valid for reads of 4 bytes (caller); 3. `aes_selected()`
        // was just true.
        return unsafe { aes::memhash32_ready(p, seed) };
    }
    // SAFETY: `p` is valid for reads of 4 bytes (caller).
    unsafe { memhash32_slow(p, seed) }
}

/// [`memhash32`] when the AES path is not (yet) known to be selected.
///
/// # Safety
/// * `p` is valid for reads of 4 bytes (no alignment needed).
#[inline(never)]
unsafe fn memhash32_slow(p: *const u8, seed: usize) -> usize {
    #[cfg(any(target_arch = "x86_64", target_arch = "x86", target_arch = "aarch64"))]
    if use_aeshash() {
        // SAFETY: 1. AES path, so `aes_available()` (see `memhash`); 2. `p`
        // is valid for reads of 4 bytes (caller).
        return unsafe { aes::memhash32(p, seed) };
    }
    // SAFETY: `p` is valid for reads of 4 bytes (caller).
    unsafe { fallback::memhash32(p, seed) }
}

/// Hashes the 8 bytes at `p` (Go's `memhash64`, alg.go:71;
/// asm_amd64.s:1585).
///
/// # Safety
/// * `p` is valid for reads of 8 bytes (no alignment needed).
#[inline]
pub unsafe fn memhash64(p: *const u8, seed: usize) -> usize {
    // The AES path decided with one load and entered with a jump; anything
    // else (not decided yet, or the fallback) out of line.
    #[cfg(any(target_arch = "x86_64", target_arch = "x86", target_arch = "aarch64"))]
    if aes_selected() {
        // SAFETY: 1. the AES path is only selected when `aes_available()`;
        // 2. `p` is valid for reads of 8 bytes (caller); 3. `aes_selected()`
        // was just true.
        return unsafe { aes::memhash64_ready(p, seed) };
    }
    // SAFETY: `p` is valid for reads of 8 bytes (caller).
    unsafe { memhash64_slow(p, seed) }
}

/// [`memhash64`] when the AES path is not (yet) known to be selected.
///
/// # Safety
/// * `p` is valid for reads of 8 bytes (no alignment needed).
#[inline(never)]
unsafe fn memhash64_slow(p: *const u8, seed: usize) -> usize {
    #[cfg(any(target_arch = "x86_64", target_arch = "x86", target_arch = "aarch64"))]
    if use_aeshash() {
        // SAFETY: 1. AES path, so `aes_available()` (see `memhash`); 2. `p`
        // is valid for reads of 8 bytes (caller).
        return unsafe { aes::memhash64(p, seed) };
    }
    // SAFETY: `p` is valid for reads of 8 bytes (caller).
    unsafe { fallback::memhash64(p, seed) }
}

/// Hashes the string whose header is at `p` (Go's `strhash`, alg.go:86;
/// asm_amd64.s:1218).
///
/// # Safety
/// * `p` is valid for reads of a [`GoString`] (two words, no alignment
///   needed);
/// * that header's `ptr` is valid for reads of its `len` bytes (any
///   pointer when `len == 0`).
#[inline]
pub unsafe fn strhash(p: *const u8, seed: usize) -> usize {
    // As `memhash64`: the AES path decided with one load, anything else out
    // of line.
    #[cfg(any(target_arch = "x86_64", target_arch = "x86", target_arch = "aarch64"))]
    if aes_selected() {
        // SAFETY: 1. the AES path is only selected when `aes_available()`;
        // 2. and 3. a readable header with readable bytes (caller); 4.
        // `aes_selected()` was just true.
        return unsafe { aes::strhash_ready(p, seed) };
    }
    // SAFETY: a readable header with readable bytes (caller).
    unsafe { strhash_slow(p, seed) }
}

/// [`strhash`] when the AES path is not (yet) known to be selected.
///
/// # Safety
/// As for [`strhash`].
#[inline(never)]
unsafe fn strhash_slow(p: *const u8, seed: usize) -> usize {
    #[cfg(any(target_arch = "x86_64", target_arch = "x86", target_arch = "aarch64"))]
    if use_aeshash() {
        // SAFETY: 1. AES path, so `aes_available()` (see `memhash`); 2. and
        // 3. a readable header with readable bytes (caller).
        return unsafe { aes::strhash(p, seed) };
    }
    // SAFETY: 1. and 2. a readable header with readable bytes (caller).
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
/// * `p` is valid for reads of 1 byte.
#[inline]
pub unsafe fn memhash8(p: *const u8, seed: usize) -> usize {
    // SAFETY: `p` is valid for reads of `s == 1` byte (caller).
    unsafe { memhash(p, seed, 1) }
}

/// `memhash(p, seed, 2)` (Go's `memhash16`, alg.go:28).
///
/// # Safety
/// * `p` is valid for reads of 2 bytes.
#[inline]
pub unsafe fn memhash16(p: *const u8, seed: usize) -> usize {
    // SAFETY: `p` is valid for reads of `s == 2` bytes (caller).
    unsafe { memhash(p, seed, 2) }
}

/// `memhash(p, seed, 16)` (Go's `memhash128`, alg.go:32).
///
/// # Safety
/// * `p` is valid for reads of 16 bytes.
#[inline]
pub unsafe fn memhash128(p: *const u8, seed: usize) -> usize {
    // SAFETY: `p` is valid for reads of `s == 16` bytes (caller).
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
/// `memhash` (the dispatcher, or one path's). `$safety_mem` is the extra
/// `# Safety` point of that `memhash` (the CPU's features), or empty; each
/// generated function lists it as its own last point, and its SAFETY
/// comments discharge it by that point.
macro_rules! float_hashes {
    ($memhash:path, $safety_mem:literal) => {
        /// Hashes the `f32` at `p` (Go's `f32hash`, alg.go:98): +0 and -0
        /// hash alike, a NaN draws one `crate::rand::rand()`.
        ///
        /// # Safety
        /// * `p` is valid for reads of 4 bytes (no alignment needed).
        #[doc = $safety_mem]
        #[inline]
        pub unsafe fn f32hash(p: *const u8, seed: usize) -> usize {
            // SAFETY: `p` is valid for reads of 4 bytes (caller);
            // `read_unaligned` needs no alignment.
            let f = unsafe { core::ptr::read_unaligned(p.cast::<f32>()) };
            $crate::alg::float_hash(f == 0.0, f.is_nan(), seed, || {
                // SAFETY: `p` is valid for reads of `s == 4` bytes (caller);
                // this path's CPU requirement, if any, is our caller's too.
                unsafe { $memhash(p, seed, 4) }
            })
        }

        /// Hashes the `f64` at `p` (Go's `f64hash`, alg.go:110): +0 and -0
        /// hash alike, a NaN draws one `crate::rand::rand()`.
        ///
        /// # Safety
        /// * `p` is valid for reads of 8 bytes (no alignment needed).
        #[doc = $safety_mem]
        #[inline]
        pub unsafe fn f64hash(p: *const u8, seed: usize) -> usize {
            // SAFETY: `p` is valid for reads of 8 bytes (caller);
            // `read_unaligned` needs no alignment.
            let f = unsafe { core::ptr::read_unaligned(p.cast::<f64>()) };
            $crate::alg::float_hash(f == 0.0, f.is_nan(), seed, || {
                // SAFETY: `p` is valid for reads of `s == 8` bytes (caller);
                // this path's CPU requirement, if any, is our caller's too.
                unsafe { $memhash(p, seed, 8) }
            })
        }

        /// Hashes the `complex64` (two `f32`) at `p`: real part, then
        /// imaginary part chained (Go's `c64hash`, alg.go:122).
        ///
        /// # Safety
        /// * `p` is valid for reads of 8 bytes (no alignment needed).
        #[doc = $safety_mem]
        #[inline]
        pub unsafe fn c64hash(p: *const u8, seed: usize) -> usize {
            // SAFETY: bytes 0..4 of the caller's 8 readable bytes; the CPU
            // point, if any, is our caller's.
            let h = unsafe { f32hash(p, seed) };
            // SAFETY: `p + 4` stays inside the caller's 8 readable bytes.
            let q = unsafe { p.add(4) };
            // SAFETY: `q` is valid for reads of bytes 4..8 of them; the CPU
            // point, if any, is our caller's.
            unsafe { f32hash(q, h) }
        }

        /// Hashes the `complex128` (two `f64`) at `p`: real part, then
        /// imaginary part chained (Go's `c128hash`, alg.go:127).
        ///
        /// # Safety
        /// * `p` is valid for reads of 16 bytes (no alignment needed).
        #[doc = $safety_mem]
        #[inline]
        pub unsafe fn c128hash(p: *const u8, seed: usize) -> usize {
            // SAFETY: bytes 0..8 of the caller's 16 readable bytes; the CPU
            // point, if any, is our caller's.
            let h = unsafe { f64hash(p, seed) };
            // SAFETY: `p + 8` stays inside the caller's 16 readable bytes.
            let q = unsafe { p.add(8) };
            // SAFETY: `q` is valid for reads of bytes 8..16 of them; the CPU
            // point, if any, is our caller's.
            unsafe { f64hash(q, h) }
        }
    };
}

float_hashes!(memhash, "");

// ---------------------------------------------------------------------------
// Equality functions (alg.go:325-357), used by the presets.

/// Compares `size` bytes (Go's `memequal`, memequal_varlen).
///
/// # Safety
/// * `p` and `q` are each valid for reads of `size` bytes (within one
///   allocation; any pointers when `size == 0`).
#[inline]
pub unsafe fn memequal(p: *const u8, q: *const u8, size: usize) -> bool {
    if size == 0 || p == q {
        return true;
    }
    // SAFETY: `size != 0`, so `p` is non-null and valid for reads of `size`
    // bytes of one allocation (caller); `u8` needs no alignment; the bytes
    // are only read while the slice lives.
    let a = unsafe { core::slice::from_raw_parts(p, size) };
    // SAFETY: as for `a`, for `q` (caller).
    let b = unsafe { core::slice::from_raw_parts(q, size) };
    a == b
}

/// Compares two `f32` with `==` (Go's `f32equal`, alg.go:343): `+0 == -0`,
/// `NaN != NaN`.
///
/// # Safety
/// * `p` and `q` are each valid for reads of 4 bytes (no alignment needed).
#[inline]
pub unsafe fn f32equal(p: *const u8, q: *const u8) -> bool {
    // SAFETY: `p` is valid for reads of 4 bytes (caller); unaligned load.
    let a = unsafe { ptr::read_unaligned(p.cast::<f32>()) };
    // SAFETY: `q` is valid for reads of 4 bytes (caller); unaligned load.
    let b = unsafe { ptr::read_unaligned(q.cast::<f32>()) };
    a == b
}

/// Compares two `f64` with `==` (Go's `f64equal`, alg.go:346).
///
/// # Safety
/// * `p` and `q` are each valid for reads of 8 bytes (no alignment needed).
#[inline]
pub unsafe fn f64equal(p: *const u8, q: *const u8) -> bool {
    // SAFETY: `p` is valid for reads of 8 bytes (caller); unaligned load.
    let a = unsafe { ptr::read_unaligned(p.cast::<f64>()) };
    // SAFETY: `q` is valid for reads of 8 bytes (caller); unaligned load.
    let b = unsafe { ptr::read_unaligned(q.cast::<f64>()) };
    a == b
}

/// Compares two `complex64` part-wise with `==` (Go's `c64equal`, alg.go:349).
///
/// # Safety
/// * `p` and `q` are each valid for reads of 8 bytes (no alignment needed).
#[inline]
pub unsafe fn c64equal(p: *const u8, q: *const u8) -> bool {
    // SAFETY: bytes 0..4 of the 8 readable bytes at `p` and at `q` (caller).
    if !unsafe { f32equal(p, q) } {
        return false;
    }
    // SAFETY: `p + 4` stays inside the 8 readable bytes at `p` (caller).
    let p4 = unsafe { p.add(4) };
    // SAFETY: `q + 4` stays inside the 8 readable bytes at `q` (caller).
    let q4 = unsafe { q.add(4) };
    // SAFETY: bytes 4..8 of the same: 4 readable bytes at `p4` and `q4`.
    unsafe { f32equal(p4, q4) }
}

/// Compares two `complex128` part-wise with `==` (Go's `c128equal`, alg.go:352).
///
/// # Safety
/// * `p` and `q` are each valid for reads of 16 bytes (no alignment needed).
#[inline]
pub unsafe fn c128equal(p: *const u8, q: *const u8) -> bool {
    // SAFETY: bytes 0..8 of the 16 readable bytes at `p` and at `q` (caller).
    if !unsafe { f64equal(p, q) } {
        return false;
    }
    // SAFETY: `p + 8` stays inside the 16 readable bytes at `p` (caller).
    let p8 = unsafe { p.add(8) };
    // SAFETY: `q + 8` stays inside the 16 readable bytes at `q` (caller).
    let q8 = unsafe { q.add(8) };
    // SAFETY: bytes 8..16 of the same: 8 readable bytes at `p8` and `q8`.
    unsafe { f64equal(p8, q8) }
}

/// Compares two strings by content (Go's `strequal`, alg.go:355).
///
/// # Safety
/// * `p` and `q` are each valid for reads of a [`GoString`] (two words, no
///   alignment needed);
/// * each header's `ptr` is valid for reads of its `len` bytes (any pointer
///   when `len == 0`).
#[inline]
pub unsafe fn strequal(p: *const u8, q: *const u8) -> bool {
    // SAFETY: `p` is valid for reads of a header (caller point 1);
    // unaligned load.
    let a = unsafe { ptr::read_unaligned(p.cast::<GoString>()) };
    // SAFETY: as for `a`, for `q`.
    let b = unsafe { ptr::read_unaligned(q.cast::<GoString>()) };
    // SAFETY: `a.len == b.len` is checked first, so both `ptr`s are valid
    // for reads of `a.len` bytes (caller point 2).
    a.len == b.len && unsafe { memequal(a.ptr, b.ptr, a.len) }
}

// ---------------------------------------------------------------------------
// The fallback path (hash64.go).

/// Go's `mix` (hash64.go:77): the 128-bit product of `a` and `b`, folded by
/// XOR of its halves.
#[cfg(target_pointer_width = "64")]
#[inline(always)]
fn mix(a: u64, b: u64) -> u64 {
    let r = (a as u128) * (b as u128);
    ((r >> 64) as u64) ^ (r as u64)
}

/// Byte `i` of the key at `p`, widened.
///
/// # Safety
/// * `p` is valid for reads of `i + 1` bytes.
#[inline(always)]
unsafe fn r1(p: *const u8, i: usize) -> u64 {
    // SAFETY: `p + i` is inside the `i + 1` bytes readable at `p` (caller),
    // so inside their allocation.
    let q = unsafe { p.add(i) };
    // SAFETY: `q` is valid for reads of 1 byte (the last of them).
    unsafe { q.read() as u64 }
}

/// Go's `r4` (hash64.go:82): a native-endian unaligned 32-bit load of bytes
/// `i..i + 4` of the key at `p`.
///
/// # Safety
/// * `p` is valid for reads of `i + 4` bytes.
#[inline(always)]
unsafe fn r4(p: *const u8, i: usize) -> u64 {
    // SAFETY: `p + i` is inside the `i + 4` bytes readable at `p` (caller).
    let q = unsafe { p.add(i) };
    // SAFETY: `q` is valid for reads of 4 bytes (the last 4 of them);
    // `read_unaligned` needs no alignment.
    unsafe { ptr::read_unaligned(q.cast::<u32>()) as u64 }
}

/// Go's `r8` (hash64.go:86): a native-endian unaligned 64-bit load of bytes
/// `i..i + 8` of the key at `p`.
///
/// # Safety
/// * `p` is valid for reads of `i + 8` bytes.
#[cfg(any(target_pointer_width = "64", target_arch = "x86"))]
#[inline(always)]
unsafe fn r8(p: *const u8, i: usize) -> u64 {
    // SAFETY: `p + i` is inside the `i + 8` bytes readable at `p` (caller).
    let q = unsafe { p.add(i) };
    // SAFETY: `q` is valid for reads of 8 bytes (the last 8 of them);
    // `read_unaligned` needs no alignment.
    unsafe { ptr::read_unaligned(q.cast::<u64>()) }
}

/// `memhashFallback` (hash64.go:21) over explicit key material.
///
/// # Safety
/// * `p` is valid for reads of `s` bytes (any pointer when `s == 0`).
#[cfg(target_pointer_width = "64")]
#[inline(always)]
unsafe fn fb_memhash<K: Keys>(k: K, p: *const u8, seed: usize, s: usize) -> usize {
    let k = k.block();
    let mut seed = seed as u64 ^ k.hashkey(0);
    let (a, b);
    // Every load reads bytes inside [p, p + s), readable by the caller's
    // contract; the case analysis mirrors Go's.
    match s {
        0 => return seed as usize,
        1..=3 => {
            // First, middle and last byte (they overlap for s < 3).
            // SAFETY: `0 + 1 <= s`: readable (caller).
            let first = unsafe { r1(p, 0) };
            // SAFETY: `(s >> 1) + 1 <= s` for `s >= 1`: readable (caller).
            let mid = unsafe { r1(p, s >> 1) };
            // SAFETY: `(s - 1) + 1 == s`: readable (caller).
            let last = unsafe { r1(p, s - 1) };
            a = first | mid << 8 | last << 16;
            b = 0;
        }
        4 => {
            // SAFETY: `0 + 4 == s`: readable (caller).
            a = unsafe { r4(p, 0) };
            b = a;
        }
        5..=7 => {
            // SAFETY: `0 + 4 < s`: readable (caller).
            a = unsafe { r4(p, 0) };
            // SAFETY: `(s - 4) + 4 == s`: readable (caller).
            b = unsafe { r4(p, s - 4) };
        }
        8 => {
            // SAFETY: `0 + 8 == s`: readable (caller).
            a = unsafe { r8(p, 0) };
            b = a;
        }
        9..=16 => {
            // SAFETY: `0 + 8 < s`: readable (caller).
            a = unsafe { r8(p, 0) };
            // SAFETY: `(s - 8) + 8 == s`: readable (caller).
            b = unsafe { r8(p, s - 8) };
        }
        _ => {
            // Bytes `off..s` are left, `l = s - off` of them; Go advances
            // the pointer instead (the same loads).
            let mut off = 0;
            let mut l = s;
            if l > 48 {
                let mut seed1 = seed;
                let mut seed2 = seed;
                while l > 48 {
                    // SAFETY: `off + 8 <= off + l == s` (l > 48): readable.
                    let w0 = unsafe { r8(p, off) };
                    // SAFETY: `off + 16 <= s` (l > 48): readable.
                    let w1 = unsafe { r8(p, off + 8) };
                    // SAFETY: `off + 24 <= s` (l > 48): readable.
                    let w2 = unsafe { r8(p, off + 16) };
                    // SAFETY: `off + 32 <= s` (l > 48): readable.
                    let w3 = unsafe { r8(p, off + 24) };
                    // SAFETY: `off + 40 <= s` (l > 48): readable.
                    let w4 = unsafe { r8(p, off + 32) };
                    // SAFETY: `off + 48 < s` (l > 48): readable.
                    let w5 = unsafe { r8(p, off + 40) };
                    seed = mix(w0 ^ k.hashkey(1), w1 ^ seed);
                    seed1 = mix(w2 ^ k.hashkey(2), w3 ^ seed1);
                    seed2 = mix(w4 ^ k.hashkey(3), w5 ^ seed2);
                    off += 48;
                    l -= 48;
                }
                seed ^= seed1 ^ seed2;
            }
            while l > 16 {
                // SAFETY: `off + 8 <= off + l == s` (l > 16): readable.
                let w0 = unsafe { r8(p, off) };
                // SAFETY: `off + 16 < s` (l > 16): readable.
                let w1 = unsafe { r8(p, off + 8) };
                seed = mix(w0 ^ k.hashkey(1), w1 ^ seed);
                off += 16;
                l -= 16;
            }
            // The last 16 bytes of the key, which may overlap bytes
            // already mixed in (s > 16, so they are inside the key).
            // SAFETY: `(s - 16) + 8 < s`: readable (caller).
            a = unsafe { r8(p, s - 16) };
            // SAFETY: `(s - 8) + 8 == s`: readable (caller).
            b = unsafe { r8(p, s - 8) };
        }
    }
    mix(M5 ^ s as u64, mix(a ^ k.hashkey(1), b ^ seed)) as usize
}

/// `memhash32Fallback` (hash64.go:67).
///
/// # Safety
/// * `p` is valid for reads of 4 bytes.
#[cfg(target_pointer_width = "64")]
#[inline(always)]
unsafe fn fb_memhash32<K: Keys>(k: K, p: *const u8, seed: usize) -> usize {
    let k = k.block();
    // SAFETY: `0 + 4` bytes at `p` are readable (caller).
    let a = unsafe { r4(p, 0) };
    mix(M5 ^ 4, mix(a ^ k.hashkey(1), a ^ seed as u64 ^ k.hashkey(0))) as usize
}

/// `memhash64Fallback` (hash64.go:72).
///
/// # Safety
/// * `p` is valid for reads of 8 bytes.
#[cfg(target_pointer_width = "64")]
#[inline(always)]
unsafe fn fb_memhash64<K: Keys>(k: K, p: *const u8, seed: usize) -> usize {
    let k = k.block();
    // SAFETY: `0 + 8` bytes at `p` are readable (caller).
    let a = unsafe { r8(p, 0) };
    mix(M5 ^ 8, mix(a ^ k.hashkey(1), a ^ seed as u64 ^ k.hashkey(0))) as usize
}

// The 32-bit fallback (hash32.go), in its own file, with the same three
// functions.
#[cfg(target_pointer_width = "32")]
mod hash32;
#[cfg(target_pointer_width = "32")]
use hash32::{fb_memhash, fb_memhash32, fb_memhash64};

/// The fallback hashes of `runtime/hash64.go` (64-bit targets) or
/// `runtime/hash32.go` (32-bit targets), always available (also under
/// Miri). They read the process-wide `hashkey`.
pub mod fallback {
    use super::{GoString, fb_memhash, fb_memhash32, fb_memhash64, global_keys};

    /// Go's `memhashFallback` (hash64.go:21; hash32.go:33).
    ///
    /// # Safety
    /// * `p` is valid for reads of `s` bytes (any pointer when `s == 0`).
    #[inline]
    pub unsafe fn memhash(p: *const u8, seed: usize, s: usize) -> usize {
        // SAFETY: `p` is valid for reads of `s` bytes (caller).
        unsafe { fb_memhash(global_keys(), p, seed, s) }
    }

    /// Go's `memhash32Fallback` (hash64.go:67; hash32.go:14).
    ///
    /// # Safety
    /// * `p` is valid for reads of 4 bytes (no alignment needed).
    #[inline]
    pub unsafe fn memhash32(p: *const u8, seed: usize) -> usize {
        // SAFETY: `p` is valid for reads of 4 bytes (caller).
        unsafe { fb_memhash32(global_keys(), p, seed) }
    }

    /// Go's `memhash64Fallback` (hash64.go:72; hash32.go:24).
    ///
    /// # Safety
    /// * `p` is valid for reads of 8 bytes (no alignment needed).
    #[inline]
    pub unsafe fn memhash64(p: *const u8, seed: usize) -> usize {
        // SAFETY: `p` is valid for reads of 8 bytes (caller).
        unsafe { fb_memhash64(global_keys(), p, seed) }
    }

    /// Go's `strhashFallback` (alg.go:88).
    ///
    /// # Safety
    /// * `p` is valid for reads of a [`GoString`] (two words, no alignment
    ///   needed);
    /// * that header's `ptr` is valid for reads of its `len` bytes (any
    ///   pointer when `len == 0`).
    #[inline]
    pub unsafe fn strhash(p: *const u8, seed: usize) -> usize {
        // SAFETY: `p` is valid for reads of a header (caller point 1);
        // unaligned load.
        let s = unsafe { core::ptr::read_unaligned(p.cast::<GoString>()) };
        // SAFETY: `s.ptr` is valid for reads of `s.len` bytes (point 2).
        unsafe { memhash(s.ptr, seed, s.len) }
    }

    float_hashes!(memhash, "");
}

// ---------------------------------------------------------------------------
// The AES path on aarch64 (asm_arm64.s), in its own file.

#[cfg(target_arch = "aarch64")]
mod asm_arm64;
#[cfg(target_arch = "aarch64")]
use asm_arm64::{aes_hashbody, aes_memhash32, aes_memhash64};

// ---------------------------------------------------------------------------
// The AES path on 32-bit x86 (asm_386.s), in its own file.

#[cfg(target_arch = "x86")]
mod asm_386;
#[cfg(target_arch = "x86")]
use asm_386::{aes_hashbody, aes_memhash32, aes_memhash64};

// ---------------------------------------------------------------------------
// The AES path on x86-64 (asm_amd64.s).
//
// The SIMD intrinsics below are safe calls inside the `#[target_feature]`
// functions (and their closures): the only unsafe operations are the loads
// of key bytes and the calls between these functions.

/// The 1..=15 bytes at `p` as a zero-padded little-endian 16-byte block
/// `(low word, high word)`, read with (possibly overlapping) loads that stay
/// inside the key (the block `aes0to15` hashes on amd64 and 386).
///
/// # Safety
/// * `1 <= s <= 15`;
/// * `p` is valid for reads of `s` bytes.
#[cfg(any(target_arch = "x86_64", target_arch = "x86"))]
#[inline(always)]
unsafe fn small_block(p: *const u8, s: usize) -> (u64, u64) {
    debug_assert!((1..16).contains(&s));
    if s >= 8 {
        // The last 8 bytes hold bytes s-8..s; keep the top s-8 of them.
        let hi = if s == 8 {
            0
        } else {
            // SAFETY: `(s - 8) + 8 == s`: readable (point 2).
            unsafe { r8(p, s - 8) >> (8 * (16 - s)) }
        };
        // SAFETY: `0 + 8 <= s`: readable (point 2).
        let lo = unsafe { r8(p, 0) };
        (lo, hi)
    } else if s >= 4 {
        // SAFETY: `(s - 4) + 4 == s`: readable (point 2).
        let top = unsafe { r4(p, s - 4) } >> (8 * (8 - s));
        // SAFETY: `0 + 4 <= s`: readable (point 2).
        let lo = unsafe { r4(p, 0) };
        (lo | top << 32, 0)
    } else {
        // SAFETY: `0 + 1 <= s` (point 1): readable (point 2).
        let mut lo = unsafe { r1(p, 0) };
        if s > 1 {
            // SAFETY: `1 + 1 <= s`: readable (point 2).
            lo |= unsafe { r1(p, 1) } << 8;
        }
        if s > 2 {
            // SAFETY: `2 + 1 <= s`: readable (point 2).
            lo |= unsafe { r1(p, 2) } << 16;
        }
        (lo, 0)
    }
}

/// The 16 bytes at `p + off` as one unaligned vector load (`MOVOU`).
///
/// # Safety
/// * `p` is valid for reads of `off + 16` bytes.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn load16(p: *const u8, off: usize) -> core::arch::x86_64::__m128i {
    // SAFETY: `p + off` is inside the `off + 16` bytes readable at `p`
    // (caller), so inside their allocation.
    let q = unsafe { p.add(off) };
    // SAFETY: `q` is valid for reads of 16 bytes (the last 16 of them);
    // `_mm_loadu_si128` needs no alignment and only SSE2 (x86_64 baseline).
    unsafe { core::arch::x86_64::_mm_loadu_si128(q.cast()) }
}

/// Round key `i` of `k` (`aeskeysched[16i..16i + 16]`) as one aligned
/// 16-byte load (`MOVDQA`), which LLVM folds into the memory operand of
/// `AESENC`, as Go's `AESENC runtime·aeskeysched+16*i(SB), X0`.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn key_block(k: &KeyBlock, i: usize) -> core::arch::x86_64::__m128i {
    let b: *const Block16 = k.aes_block(i);
    // SAFETY: `b` comes from a reference to a `Block16`, so it is valid for
    // reads of its 16 bytes and 16-byte aligned (`Block16` is `align(16)`),
    // as `_mm_load_si128` requires; it needs only SSE2 (x86_64 baseline).
    unsafe { core::arch::x86_64::_mm_load_si128(b.cast()) }
}

/// `aeshashbody` (asm_amd64.s:1233) over explicit key material.
///
/// # Safety
/// * The CPU supports AES, SSSE3 and SSE4.1;
/// * `p` is valid for reads of `s` bytes (any pointer when `s == 0`).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "aes,ssse3,sse4.1")]
unsafe fn aes_hashbody<K: Keys>(k: K, p: *const u8, seed: usize, s: usize) -> usize {
    use core::arch::x86_64::*;
    let k = k.block();
    let block = |i: usize| key_block(k, i);
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
        // SAFETY: 1. `1 <= s <= 15`; 2. `p` is valid for reads of `s` bytes
        // (caller point 2).
        let (lo, hi) = unsafe { small_block(p, s) };
        return final1(_mm_set_epi64x(hi as i64, lo as i64));
    }
    if s == 16 {
        // `aes16` (:1291).
        // SAFETY: `0 + 16 == s`: readable (caller point 2).
        return final1(unsafe { load16(p, 0) });
    }
    // Seeds of lanes 1.. (:1297, :1325, :1371): the unscrambled seed
    // block XOR key block i, scrambled once.
    let lane_seed = |i: usize| {
        if i == 0 { x0 } else { enc(_mm_xor_si128(x1, block(i))) }
    };
    if s <= 32 {
        // `aes17to32` (:1295): first and last 16 bytes (overlapping).
        // SAFETY: `0 + 16 < s`: readable (caller point 2).
        let first = unsafe { load16(p, 0) };
        // SAFETY: `(s - 16) + 16 == s`: readable (caller point 2).
        let last = unsafe { load16(p, s - 16) };
        let a = enc(enc(enc(_mm_xor_si128(first, x0))));
        let b = enc(enc(enc(_mm_xor_si128(last, lane_seed(1)))));
        return low(_mm_xor_si128(a, b));
    }
    if s <= 64 {
        // `aes33to64` (:1321): first 32 and last 32 bytes.
        let offs = [0, 16, s - 32, s - 16];
        let mut x = [_mm_setzero_si128(); 4];
        for i in 0..4 {
            // SAFETY: every `offs[i] + 16 <= s` (32 < s): readable (caller
            // point 2).
            let d = unsafe { load16(p, offs[i]) };
            x[i] = enc(enc(enc(_mm_xor_si128(d, lane_seed(i)))));
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
            // SAFETY: `off + 16 <= s`: `16 * 3 + 16 < s` for the first
            // four, `s + 16 * 7 - 128 + 16 == s` for the last: readable
            // (caller point 2).
            let d = unsafe { load16(p, off) };
            x[i] = enc(enc(enc(_mm_xor_si128(d, seeds[i]))));
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
        // SAFETY: `(s - 128 + 16 * i) + 16 <= s` for `i < 8`: readable
        // (caller point 2).
        let d = unsafe { load16(p, s - 128 + 16 * i) };
        x[i] = _mm_xor_si128(d, seeds[i]);
    }
    let mut off = 0;
    for _ in 0..(s - 1) >> 7 {
        for (i, xi) in x.iter_mut().enumerate() {
            // SAFETY: this block starts at `off <= s - 129` (there are
            // `(s - 1) >> 7` blocks of 128), so `off + 16 * i + 16 <=
            // off + 128 < s`: readable (caller point 2).
            let d = unsafe { load16(p, off + 16 * i) };
            *xi = _mm_aesenc_si128(enc(*xi), d);
        }
        off += 128;
    }
    for xi in x.iter_mut() {
        *xi = enc(enc(enc(*xi)));
    }
    fold(x)
}

/// AES `memhash32` (asm_amd64.s:1568): the seed in the low half, the 4 data
/// bytes in dword 2, encrypted with key blocks 0, 1 and 2.
///
/// # Safety
/// * The CPU supports AES, SSSE3 and SSE4.1;
/// * `p` is valid for reads of 4 bytes.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "aes,ssse3,sse4.1")]
unsafe fn aes_memhash32<K: Keys>(k: K, p: *const u8, seed: usize) -> usize {
    use core::arch::x86_64::*;
    let k = k.block();
    let block = |i: usize| key_block(k, i);
    // SAFETY: `p` is valid for reads of 4 bytes (point 2); unaligned load.
    let d = unsafe { ptr::read_unaligned(p.cast::<u32>()) };
    let mut x = _mm_insert_epi32::<2>(_mm_cvtsi64_si128(seed as i64), d as i32);
    for i in 0..3 {
        x = _mm_aesenc_si128(x, block(i));
    }
    _mm_cvtsi128_si64(x) as u64 as usize
}

/// AES `memhash64` (asm_amd64.s:1585): the seed in the low half, the 8 data
/// bytes in the high half, encrypted with key blocks 0, 1 and 2.
///
/// # Safety
/// * The CPU supports AES, SSSE3 and SSE4.1;
/// * `p` is valid for reads of 8 bytes.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "aes,ssse3,sse4.1")]
unsafe fn aes_memhash64<K: Keys>(k: K, p: *const u8, seed: usize) -> usize {
    use core::arch::x86_64::*;
    let k = k.block();
    let block = |i: usize| key_block(k, i);
    // SAFETY: `p` is valid for reads of 8 bytes (point 2); unaligned load.
    let d = unsafe { ptr::read_unaligned(p.cast::<u64>()) };
    let mut x = _mm_set_epi64x(d as i64, seed as i64);
    for i in 0..3 {
        x = _mm_aesenc_si128(x, block(i));
    }
    _mm_cvtsi128_si64(x) as u64 as usize
}

/// The AES hashes of the target's Go assembly: `runtime/asm_amd64.s` on
/// x86-64, `runtime/asm_386.s` on x86, `runtime/asm_arm64.s` on aarch64
/// (different functions). They read the process-wide `aeskeysched`.
///
/// Every function requires a CPU that can run them (x86-64 and x86: AES,
/// SSSE3 and SSE4.1; aarch64: AES): check [`aes_available`] first.
#[cfg(any(target_arch = "x86_64", target_arch = "x86", target_arch = "aarch64"))]
pub mod aes {
    use super::{GoString, aes_hashbody, aes_memhash32, aes_memhash64, global_keys, ready_keys};

    /// Go's AES `memhash` (asm_amd64.s:1207 → `aeshashbody`, :1233;
    /// asm_386.s:951 → :975; asm_arm64.s:577 → :597).
    ///
    /// # Safety
    /// * The CPU can run the AES path ([`super::aes_available`]);
    /// * `p` is valid for reads of `s` bytes (any pointer when `s == 0`).
    #[inline]
    #[cfg_attr(any(target_arch = "x86_64", target_arch = "x86"), target_feature(enable = "aes,ssse3,sse4.1"))]
    #[cfg_attr(target_arch = "aarch64", target_feature(enable = "aes"))]
    pub unsafe fn memhash(p: *const u8, seed: usize, s: usize) -> usize {
        // SAFETY: 1. the CPU features (caller point 1); 2. `s` readable
        // bytes at `p` (caller point 2).
        unsafe { aes_hashbody(global_keys(), p, seed, s) }
    }

    /// [`memhash`] for a caller that has seen the AES path selected (so the
    /// material is initialised): no initialisation check.
    ///
    /// # Safety
    /// * The CPU can run the AES path ([`super::aes_available`]);
    /// * `p` is valid for reads of `s` bytes (any pointer when `s == 0`);
    /// * `super::aes_selected()` returned true (for the right material:
    ///   without it the hash is wrong, not unsound).
    #[inline]
    #[cfg_attr(any(target_arch = "x86_64", target_arch = "x86"), target_feature(enable = "aes,ssse3,sse4.1"))]
    #[cfg_attr(target_arch = "aarch64", target_feature(enable = "aes"))]
    pub(crate) unsafe fn memhash_ready(p: *const u8, seed: usize, s: usize) -> usize {
        // SAFETY: 1. the CPU features (caller point 1); 2. `s` readable
        // bytes at `p` (caller point 2).
        unsafe { aes_hashbody(ready_keys(), p, seed, s) }
    }

    /// Go's AES `memhash32` (asm_amd64.s:1568; asm_386.s:1171; asm_arm64.s:533).
    ///
    /// # Safety
    /// * The CPU can run the AES path ([`super::aes_available`]);
    /// * `p` is valid for reads of 4 bytes (no alignment needed).
    #[inline]
    #[cfg_attr(any(target_arch = "x86_64", target_arch = "x86"), target_feature(enable = "aes,ssse3,sse4.1"))]
    #[cfg_attr(target_arch = "aarch64", target_feature(enable = "aes"))]
    pub unsafe fn memhash32(p: *const u8, seed: usize) -> usize {
        // SAFETY: 1. the CPU features (caller point 1); 2. 4 readable bytes
        // at `p` (caller point 2).
        unsafe { aes_memhash32(global_keys(), p, seed) }
    }

    /// [`memhash32`] for a caller that has seen the AES path selected (so the
    /// material is initialised): no initialisation check.
    ///
    /// # Safety
    /// * The CPU can run the AES path ([`super::aes_available`]);
    /// * `p` is valid for reads of 4 bytes (no alignment needed);
    /// * `super::aes_selected()` returned true (for the right material:
    ///   without it the hash is wrong, not unsound).
    #[inline]
    #[cfg_attr(any(target_arch = "x86_64", target_arch = "x86"), target_feature(enable = "aes,ssse3,sse4.1"))]
    #[cfg_attr(target_arch = "aarch64", target_feature(enable = "aes"))]
    pub(crate) unsafe fn memhash32_ready(p: *const u8, seed: usize) -> usize {
        // SAFETY: 1. the CPU features (caller point 1); 2. 4 readable bytes
        // at `p` (caller point 2).
        unsafe { aes_memhash32(ready_keys(), p, seed) }
    }

    /// Go's AES `memhash64` (asm_amd64.s:1585; asm_386.s:1185; asm_arm64.s:555).
    ///
    /// # Safety
    /// * The CPU can run the AES path ([`super::aes_available`]);
    /// * `p` is valid for reads of 8 bytes (no alignment needed).
    #[inline]
    #[cfg_attr(any(target_arch = "x86_64", target_arch = "x86"), target_feature(enable = "aes,ssse3,sse4.1"))]
    #[cfg_attr(target_arch = "aarch64", target_feature(enable = "aes"))]
    pub unsafe fn memhash64(p: *const u8, seed: usize) -> usize {
        // SAFETY: 1. the CPU features (caller point 1); 2. 8 readable bytes
        // at `p` (caller point 2).
        unsafe { aes_memhash64(global_keys(), p, seed) }
    }

    /// [`memhash64`] for a caller that has seen the AES path selected (so the
    /// material is initialised): no initialisation check.
    ///
    /// # Safety
    /// * The CPU can run the AES path ([`super::aes_available`]);
    /// * `p` is valid for reads of 8 bytes (no alignment needed);
    /// * `super::aes_selected()` returned true (for the right material:
    ///   without it the hash is wrong, not unsound).
    #[inline]
    #[cfg_attr(any(target_arch = "x86_64", target_arch = "x86"), target_feature(enable = "aes,ssse3,sse4.1"))]
    #[cfg_attr(target_arch = "aarch64", target_feature(enable = "aes"))]
    pub(crate) unsafe fn memhash64_ready(p: *const u8, seed: usize) -> usize {
        // SAFETY: 1. the CPU features (caller point 1); 2. 8 readable bytes
        // at `p` (caller point 2).
        unsafe { aes_memhash64(ready_keys(), p, seed) }
    }

    /// Go's AES `strhash` (asm_amd64.s:1218; asm_386.s:961; asm_arm64.s:585):
    /// `aeshashbody` over the string's bytes.
    ///
    /// # Safety
    /// * The CPU can run the AES path ([`super::aes_available`]);
    /// * `p` is valid for reads of a [`GoString`] (two words, no alignment
    ///   needed);
    /// * that header's `ptr` is valid for reads of its `len` bytes (any
    ///   pointer when `len == 0`).
    #[inline]
    #[cfg_attr(any(target_arch = "x86_64", target_arch = "x86"), target_feature(enable = "aes,ssse3,sse4.1"))]
    #[cfg_attr(target_arch = "aarch64", target_feature(enable = "aes"))]
    pub unsafe fn strhash(p: *const u8, seed: usize) -> usize {
        // SAFETY: `p` is valid for reads of a header (caller point 2);
        // unaligned load.
        let s = unsafe { core::ptr::read_unaligned(p.cast::<GoString>()) };
        // SAFETY: 1. the CPU features (caller point 1); 2. `s.ptr` is valid
        // for reads of `s.len` bytes (caller point 3).
        unsafe { memhash(s.ptr, seed, s.len) }
    }

    /// [`strhash`] for a caller that has seen the AES path selected (so the
    /// material is initialised): no initialisation check.
    ///
    /// # Safety
    /// * The CPU can run the AES path ([`super::aes_available`]);
    /// * `p` is valid for reads of a [`GoString`] (two words, no alignment
    ///   needed);
    /// * that header's `ptr` is valid for reads of its `len` bytes (any
    ///   pointer when `len == 0`);
    /// * `super::aes_selected()` returned true (for the right material:
    ///   without it the hash is wrong, not unsound).
    #[inline]
    #[cfg_attr(any(target_arch = "x86_64", target_arch = "x86"), target_feature(enable = "aes,ssse3,sse4.1"))]
    #[cfg_attr(target_arch = "aarch64", target_feature(enable = "aes"))]
    pub(crate) unsafe fn strhash_ready(p: *const u8, seed: usize) -> usize {
        // SAFETY: `p` is valid for reads of a header (caller point 2);
        // unaligned load.
        let s = unsafe { core::ptr::read_unaligned(p.cast::<GoString>()) };
        // SAFETY: 1. the CPU features (caller point 1); 2. `s.ptr` is valid
        // for reads of `s.len` bytes (caller point 3).
        unsafe { aes_hashbody(ready_keys(), s.ptr, seed, s.len) }
    }

    float_hashes!(memhash, "* The CPU can run the AES path ([`super::aes_available`]).");
}

#[cfg(test)]
mod tests {
    //! These tests never touch the process-wide material or path: other unit
    //! tests in this binary run maps concurrently. They use explicit material.
    use super::*;

    const TK: KeyMaterial = test_key_material();
    static TKB: KeyBlock = KeyBlock::new(&TK);

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
        // SAFETY: `b.as_ptr()` is valid for reads of `b.len()` bytes.
        unsafe { fb_memhash(&TKB, b.as_ptr(), seed, b.len()) }
    }

    /// A few vectors of tests/data/hash_vectors.json (real Go 1.24.11 with
    /// `test_key_material()`), one per length class of `aeshashbody`:
    /// memhash over `data[off..off+len]` with seed 0xdeadbeef, as
    /// (len, off, aes, fallback).
    #[cfg(target_pointer_width = "64")]
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
    /// The same vectors of tests/data/hash_vectors_386.json (Go 386: its AES
    /// hash is the amd64 one's low half up to 64 bytes, not beyond).
    #[cfg(target_pointer_width = "32")]
    const KNOWN: [(usize, usize, u64, u64); 8] = [
        (0, 0, 0xb96aa176, 0x121a75c5),
        (3, 5, 0x7c8f34cd, 0xa80bb64d),
        (16, 0, 0xd9088d3d, 0x675dc777),
        (17, 7, 0x05284de9, 0x3afe374b),
        (40, 8, 0xfc2340a3, 0xd992db2b),
        (100, 12, 0x08207411, 0x03c615bf),
        (300, 4, 0x69c80427, 0x0f843919),
        (1025, 7, 0x33245d0d, 0x6aeac4ed),
    ];
    const SEED: usize = 0xdeadbeef;
    /// memhash32/memhash64 of the recorded values, seed 0xdeadbeef:
    /// (value, aes, fallback).
    #[cfg(target_pointer_width = "64")]
    const KNOWN32: (u32, u64, u64) = (0xace33e60, 0x5f2135f035061028, 0xa235853bf3ae5783);
    #[cfg(target_pointer_width = "64")]
    const KNOWN64: (u64, u64, u64) = (0xaa336f0d9dd577a0, 0x605b9cb8b692b820, 0xf3fa3ace108fbf8f);
    #[cfg(target_pointer_width = "32")]
    const KNOWN32: (u32, u64, u64) = (0xb3541de3, 0xc9a8162d, 0x1d98f99b);
    #[cfg(target_pointer_width = "32")]
    const KNOWN64: (u64, u64, u64) = (0xf908ea62c4c6ea22, 0xdcdfbbc3, 0x17e76a23);

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
        // SAFETY: `b32` holds 4 readable bytes.
        assert_eq!(unsafe { fb_memhash32(&TKB, b32.as_ptr(), SEED) } as u64, KNOWN32.2);
        // SAFETY: `b64` holds 8 readable bytes.
        assert_eq!(unsafe { fb_memhash64(&TKB, b64.as_ptr(), SEED) } as u64, KNOWN64.2);
    }

    #[cfg(all(any(target_arch = "x86_64", target_arch = "x86"), not(miri)))]
    #[test]
    fn alg_aes_known_answers() {
        if !aes_available() {
            return;
        }
        let d = data(1041);
        let b32 = KNOWN32.0.to_ne_bytes();
        let b64 = KNOWN64.0.to_ne_bytes();
        for &(len, off, want, _) in &KNOWN {
            let key = &d[off..off + len];
            // SAFETY: 1. AES, SSSE3 and SSE4.1 available (checked above);
            // 2. `key` holds `len` readable bytes.
            assert_eq!(unsafe { aes_hashbody(&TKB, key.as_ptr(), SEED, len) } as u64, want, "len {len}");
        }
        // SAFETY: 1. the CPU features (checked above); 2. 4 readable bytes.
        assert_eq!(unsafe { aes_memhash32(&TKB, b32.as_ptr(), SEED) } as u64, KNOWN32.1);
        // SAFETY: 1. the CPU features (checked above); 2. 8 readable bytes.
        assert_eq!(unsafe { aes_memhash64(&TKB, b64.as_ptr(), SEED) } as u64, KNOWN64.1);
    }

    #[test]
    fn alg_test_material_shape() {
        assert_eq!(TK.aeskeysched[0], 3);
        assert_eq!(TK.aeskeysched[1], 10);
        let last = HASH_RANDOM_BYTES - 1;
        assert_eq!(TK.aeskeysched[last], (last * 7 + 3) as u8);
        assert!(TK.hashkey.iter().all(|w| w & 1 == 1));
        assert_eq!(TKB.aes_block(1).0[..], TK.aeskeysched[16..32]);
        assert_eq!(TKB.hashkey(3), TK.hashkey[3]);
        assert_eq!(TKB.material(), TK);
        // The AES paths load round keys with aligned 16-byte loads.
        assert_eq!(align_of::<KeyBlock>(), 16);
        assert!(TKB.aes.iter().all(|b| ptr::from_ref(b).addr() % 16 == 0));
    }

    #[test]
    fn alg_set_current_material_is_a_no_op() {
        // No unit test replaces the process-wide material, so installing
        // the current one again must keep the very same block: no new
        // publication, no new leaked block.
        let km = key_material();
        let before = KEYS.load(Ordering::Acquire);
        let n = BLOCKS.lock().unwrap_or_else(PoisonError::into_inner).len();
        set_key_material(&km);
        assert_eq!(KEYS.load(Ordering::Acquire), before);
        assert_eq!(BLOCKS.lock().unwrap_or_else(PoisonError::into_inner).len(), n);
        assert_eq!(key_material(), km);
    }

    #[test]
    fn alg_fallback_32_64_equal_memhash() {
        // Go's TestMemHash32Equality / TestMemHash64Equality (hash_test.go:22,
        // :39): on the fallback path the fixed-size hashes equal memhash.
        let d = data(64);
        for i in 0..40 {
            let p = d[i..i + 8].as_ptr();
            for &seed in &[0usize, 1, 0xdeadbeef, usize::MAX] {
                // SAFETY: `p` is valid for reads of 8 (so 4) bytes.
                let h32 = unsafe { fb_memhash32(&TKB, p, seed) };
                // SAFETY: as for `h32`.
                assert_eq!(h32, unsafe { fb_memhash(&TKB, p, seed, 4) });
                // SAFETY: `p` is valid for reads of 8 bytes.
                let h64 = unsafe { fb_memhash64(&TKB, p, seed) };
                // SAFETY: as for `h64`.
                assert_eq!(h64, unsafe { fb_memhash(&TKB, p, seed, 8) });
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

    #[cfg(all(any(target_arch = "x86_64", target_arch = "x86"), not(miri)))]
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
            let (dk, bk) = (&d[8..8 + n], &buf[32..32 + n]);
            // SAFETY: 1. the CPU features (checked above); 2. `dk` holds `n`
            // readable bytes.
            let x = unsafe { aes_hashbody(&TKB, dk.as_ptr(), 0, n) };
            // SAFETY: 1. the CPU features; 2. `bk` holds `n` readable bytes.
            let y = unsafe { aes_hashbody(&TKB, bk.as_ptr(), 0, n) };
            assert_eq!(x, y, "n={n}");
            assert!(seen.insert(x), "collision at n={n}");
        }
    }

    #[cfg(any(target_arch = "x86_64", target_arch = "x86"))]
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
        // SAFETY: `pz` is a live local of 8 bytes.
        assert_eq!(unsafe { fallback::f64hash((&raw const pz).cast(), h) }, C1.wrapping_mul(C0 ^ h));
        // SAFETY: `nz` is a live local of 8 bytes.
        assert_eq!(unsafe { fallback::f64hash((&raw const nz).cast(), h) }, C1.wrapping_mul(C0 ^ h));
        let nan = f32::NAN;
        let got = crate::rand::with_source(crate::rand::scripted(vec![77]), || {
            // SAFETY: `nan` is a live local of 4 bytes.
            unsafe { fallback::f32hash((&raw const nan).cast(), h) }
        });
        assert_eq!(got, C1.wrapping_mul(C0 ^ h ^ 77));
    }

    #[test]
    fn alg_equalities() {
        let (a, b) = (0.0f64, -0.0f64);
        let n = f64::NAN;
        let s1 = GoString::from_str("hello");
        let s2 = GoString::from_bytes(b"hello");
        let s3 = GoString::from_str("hellp");
        let f = |x: &f64| (x as *const f64).cast::<u8>();
        let g = |x: &GoString| (x as *const GoString).cast::<u8>();
        // SAFETY: two live 8-byte locals.
        assert!(unsafe { f64equal(f(&a), f(&b)) });
        // SAFETY: a live 8-byte local.
        assert!(!unsafe { f64equal(f(&n), f(&n)) });
        // SAFETY: 1. two live headers; 2. over live string literals.
        assert!(unsafe { strequal(g(&s1), g(&s2)) });
        // SAFETY: 1. two live headers; 2. over live string literals.
        assert!(!unsafe { strequal(g(&s1), g(&s3)) });
        // SAFETY: two 3-byte literals.
        assert!(unsafe { memequal(b"abc".as_ptr(), b"abc".as_ptr(), 3) });
        // SAFETY: two 3-byte literals.
        assert!(!unsafe { memequal(b"abc".as_ptr(), b"abd".as_ptr(), 3) });
    }
}
