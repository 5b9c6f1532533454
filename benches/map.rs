//! gomap benchmarks: the same workloads as `go-ref/bench` (real Go maps), in the
//! same output format, so `scripts/bench-vs-go.sh` can put them side by side.
//!
//! # Why a purpose-built harness and not criterion
//!
//! * Build time: criterion pulls in ~40 crates (plotters, rayon, serde, clap,
//!   ...). On the 2-core CI VM that is minutes of extra build for every bench
//!   run; this harness is std only and builds in seconds.
//! * The Go side must print exactly the same thing. Criterion's statistics
//!   (bootstrapped means, outlier classification, its own iteration scaling)
//!   cannot be reproduced line for line in Go; a harness this small can be,
//!   and `go-ref/bench/main.go` is its twin: same warmup, same rounds, same
//!   statistics, same line format, same key streams.
//! * We compare medians between implementations in one interleaved run, not
//!   a benchmark against its own history, so criterion's change detection
//!   buys nothing here.
//!
//! # Method
//!
//! Every workload runs one untimed warmup sample, then `BENCH_SAMPLES`
//! (default 5) timed samples. A sample repeats the workload `reps` times so
//! that it covers at least `BENCH_TARGET_OPS` (default 200000) operations;
//! ns/op is the sample's time divided by its operations. Reported: median,
//! min and max of the per-sample ns/op. Setup (building the map a lookup,
//! delete, clear or clone works on; freeing maps) is never timed.
//!
//! # Output: one line per workload
//!
//! ```text
//! BENCH impl=gomap-wrapper key=u64 op=insert n=1000 unit=ns/op median=21.503 min=21.101 max=22.930 samples=5 ops=200000
//! ```
//!
//! * `impl`: `gomap-wrapper` (`GoMap<K, u64>`), `gomap-erased`
//!   (`map::mapassign`/`mapaccess2`/... with the preset descriptor),
//!   `gomap-cabi` (the `gomap_*` C functions; the `_fast64` / `_faststr`
//!   ones for insert, lookup and delete), `std-hashmap`
//!   (`std::collections::HashMap`, default SipHash); Go prints `go-classic`
//!   or `go-swiss`.
//! * `key`: `u64` (u64 keys, u64 values) or `str16` (16-byte string keys, u64
//!   values). String keys are what Go's `string` is, a header pointing at
//!   bytes kept alive elsewhere (an arena here, the GC heap in Go): `GoString`
//!   for the erased and C paths, `GoStrRef` for the wrapper (so it uses the
//!   faststr paths and 16-byte slots like Go), `&str` for std. No path owns
//!   its string bytes, so none frees or copies them on clear, delete or clone.
//! * `op`, with what one "op" is:
//!   `insert` (one insert into a map made without hint, growth included),
//!   `hit` (one successful lookup, keys in a shuffled order),
//!   `miss` (one failed lookup), `delete` (one delete, shuffled order, until
//!   empty), `iterate` (one entry of a full `range`), `clear` (one entry of an
//!   N-entry map cleared), `clone` (one entry of the cloned map),
//!   `make_empty` / `make_hint7` / `make_hint32` (one map made and freed;
//!   `n=0`), `bytes_per_entry` (`unit=B/entry`: live heap bytes of a u64→u64
//!   map built by N inserts without hint, divided by N; `samples=1`).
//! * Lines starting with `#` are comments.
//!
//! # Keys (identical in Go)
//!
//! `mix` is the splitmix64 finaliser (a bijection on u64). Key `i` is
//! `mix(i)`; miss key `i` is `mix(i | 1<<63)`, so misses never hit. String
//! key `i` is the 16 lowercase hex digits of the u64 key `i`. Values are the
//! insertion index `i`. The shuffled order is a Fisher–Yates shuffle of
//! `0..n` (from `i = n-1` down to 1, `j = mix(SHUFFLE_SEED + step) % (i+1)`,
//! `step` counting draws from 0).
//!
//! # Environment
//!
//! * `BENCH_MAX_N` (default `1e6`): caps N; sizes are 1e3, 1e5, 1e7, each
//!   capped (so 1e3, 1e5, 1e6 by default). `clone` uses `min(1e6, cap)`,
//!   `bytes_per_entry` too.
//! * `BENCH_SAMPLES` (default 5), `BENCH_TARGET_OPS` (default 200000).
//! * `BENCH_FILTER`: comma-separated substrings; a workload runs if its
//!   `impl/key/op/n` (e.g. `gomap-erased/u64/hit/1000000`) contains one.
//!
//! Run: `cargo bench --bench map`, or build with
//! `cargo build --release --benches` and run `target/release/deps/map-<hash> --bench`.
//! Without `--bench` (as `cargo test --benches` runs it) the defaults become a
//! smoke run: `BENCH_MAX_N=1e3`, one sample of 1000 ops per workload, all
//! results still checked.

#![warn(clippy::undocumented_unsafe_blocks)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::HashMap;
use std::ffi::c_void;
use std::hint::black_box;
use std::ptr::{self, NonNull};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicIsize, AtomicPtr, Ordering};
use std::time::{Duration, Instant};

use gomap::alg::GoString;
use gomap::alloc::Allocator;
use gomap::map::{self, HIter, HMap};
use gomap::maptype::{MapType, TypeInfo};
use gomap::{GoMap, GoStrRef};
use gomap_capi as ffi;

// ---------------------------------------------------------------------------
// Allocation counting (bytes per entry)
// ---------------------------------------------------------------------------

/// Live bytes counted while `COUNTING` is on: std's allocations through the
/// global allocator below, gomap's through [`COUNTING_ALLOC`].
static LIVE: AtomicIsize = AtomicIsize::new(0);
static COUNTING: AtomicBool = AtomicBool::new(false);

/// `System`, plus a byte count while [`COUNTING`] is set (one relaxed load
/// per allocation otherwise).
struct CountingGlobal;

// SAFETY: forwards every call to `System` unchanged; only bookkeeping added.
unsafe impl GlobalAlloc for CountingGlobal {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        if COUNTING.load(Ordering::Relaxed) {
            LIVE.fetch_add(l.size() as isize, Ordering::Relaxed);
        }
        // SAFETY: forwarded with the caller's layout.
        unsafe { System.alloc(l) }
    }
    unsafe fn alloc_zeroed(&self, l: Layout) -> *mut u8 {
        if COUNTING.load(Ordering::Relaxed) {
            LIVE.fetch_add(l.size() as isize, Ordering::Relaxed);
        }
        // SAFETY: forwarded with the caller's layout.
        unsafe { System.alloc_zeroed(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        if COUNTING.load(Ordering::Relaxed) {
            LIVE.fetch_sub(l.size() as isize, Ordering::Relaxed);
        }
        // SAFETY: `p` came from `System` with layout `l` (caller).
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        if COUNTING.load(Ordering::Relaxed) {
            LIVE.fetch_add(new as isize - l.size() as isize, Ordering::Relaxed);
        }
        // SAFETY: forwarded with the caller's arguments.
        unsafe { System.realloc(p, l, new) }
    }
}

#[global_allocator]
static GLOBAL: CountingGlobal = CountingGlobal;

/// gomap's `Allocator` hook: calloc/free (like `Allocator::LIBC`), counting
/// the requested sizes (block headers included) into [`LIVE`].
unsafe extern "C" fn counting_calloc(_ctx: *mut c_void, size: usize) -> *mut c_void {
    LIVE.fetch_add(size as isize, Ordering::Relaxed);
    // SAFETY: calloc accepts any size; returns null or 16-aligned memory.
    unsafe { libc::calloc(1, size) }
}

unsafe extern "C" fn counting_free(_ctx: *mut c_void, p: *mut c_void, size: usize) {
    LIVE.fetch_sub(size as isize, Ordering::Relaxed);
    // SAFETY: `p` came from `counting_calloc` (the Allocator contract).
    unsafe { libc::free(p) }
}

fn counting_allocator() -> Allocator {
    // SAFETY: calloc/free satisfy the contract and are callable from any thread.
    unsafe { Allocator::new(counting_calloc, counting_free, ptr::null_mut()) }
}

// ---------------------------------------------------------------------------
// Keys (must match go-ref/bench/main.go bit for bit)
// ---------------------------------------------------------------------------

/// splitmix64's finaliser applied to `x + golden gamma`: a bijection.
fn mix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

const MISS_BIT: u64 = 1 << 63;
const SHUFFLE_SEED: u64 = 0x5eed_0000_0000_0000;

/// The shuffled visiting order of `0..n`.
fn shuffled(n: usize) -> Vec<usize> {
    let mut p: Vec<usize> = (0..n).collect();
    for (step, i) in (1..n).rev().enumerate() {
        let j = (mix(SHUFFLE_SEED.wrapping_add(step as u64)) % (i as u64 + 1)) as usize;
        p.swap(i, j);
    }
    p
}

fn hex16(x: u64) -> [u8; 16] {
    const D: &[u8; 16] = b"0123456789abcdef";
    let mut out = [0u8; 16];
    for (i, c) in out.iter_mut().enumerate() {
        *c = D[((x >> (60 - 4 * i)) & 15) as usize];
    }
    out
}

/// Keys in insertion order, in shuffled order, and misses.
struct KeySet<K> {
    ins: Vec<K>,
    perm: Vec<K>,
    miss: Vec<K>,
}

impl<K: Clone> KeySet<K> {
    fn from_fn(n: usize, order: &[usize], f: impl Fn(u64) -> K) -> Self {
        let ins: Vec<K> = (0..n as u64).map(mix).map(&f).collect();
        let perm = order.iter().map(|&i| ins[i].clone()).collect();
        let miss = (0..n as u64).map(|i| mix(i | MISS_BIT)).map(&f).collect();
        KeySet { ins, perm, miss }
    }
}

/// The bytes behind `GoString` keys: they must outlive every map using them.
struct HexArena {
    ins: Vec<[u8; 16]>,
    miss: Vec<[u8; 16]>,
}

impl HexArena {
    fn new(n: usize) -> Self {
        HexArena {
            ins: (0..n as u64).map(|i| hex16(mix(i))).collect(),
            miss: (0..n as u64).map(|i| hex16(mix(i | MISS_BIT))).collect(),
        }
    }
    /// Headers into the arena; the shuffled ones point at the insertion
    /// keys' bytes, as Go's shuffled `[]string` does.
    fn keyset(&self, order: &[usize]) -> KeySet<GoString> {
        let ins: Vec<GoString> = self.ins.iter().map(|b| GoString::from_bytes(b)).collect();
        let perm = order.iter().map(|&i| ins[i]).collect();
        let miss = self.miss.iter().map(|b| GoString::from_bytes(b)).collect();
        KeySet { ins, perm, miss }
    }
    /// The same keys as `&str`s into the arena, shuffled ones sharing the
    /// insertion keys' bytes (so, as in Go, a hit finds a stored key with the
    /// very same data pointer).
    fn str_keyset(&self, order: &[usize]) -> KeySet<&str> {
        fn s(b: &[u8; 16]) -> &str {
            std::str::from_utf8(b).expect("hex is ASCII")
        }
        let ins: Vec<&str> = self.ins.iter().map(s).collect();
        let perm = order.iter().map(|&i| ins[i]).collect();
        let miss = self.miss.iter().map(s).collect();
        KeySet { ins, perm, miss }
    }
}

impl<'a> KeySet<&'a str> {
    /// The same keys converted by `f` (`GoStrRef::new`).
    fn map<K>(&self, f: impl Fn(&'a str) -> K) -> KeySet<K> {
        let conv = |v: &[&'a str]| v.iter().map(|&s| f(s)).collect();
        KeySet { ins: conv(&self.ins), perm: conv(&self.perm), miss: conv(&self.miss) }
    }
}

/// Prints fingerprints of one size's key streams; the script checks that
/// Rust and Go print the same ones. fold: `h = mix(h ^ x)` over the keys in
/// order; strings: FNV-1a over the bytes of the shuffled strings in order.
fn keys_line(u: &KeySet<u64>, s: &KeySet<&str>) {
    let fold = |ks: &[u64]| ks.iter().fold(0u64, |h, &k| mix(h ^ k));
    let mut fnv = 0xcbf2_9ce4_8422_2325u64;
    for b in s.perm.iter().flat_map(|k| k.bytes()) {
        fnv = (fnv ^ b as u64).wrapping_mul(0x100_0000_01b3);
    }
    println!(
        "# keys n={} ins={:016x} perm={:016x} miss={:016x} strperm={fnv:016x}",
        u.ins.len(),
        fold(&u.ins),
        fold(&u.perm),
        fold(&u.miss)
    );
}

// ---------------------------------------------------------------------------
// The implementations under test
// ---------------------------------------------------------------------------

/// One map implementation with `u64` values and keys of type `K`.
trait Impl {
    const NAME: &'static str;
    type K: Clone;
    type M;
    fn make(hint: usize) -> Self::M;
    fn insert(m: &mut Self::M, k: Self::K, v: u64);
    fn get(m: &Self::M, k: &Self::K) -> Option<u64>;
    fn remove(m: &mut Self::M, k: &Self::K);
    /// Iterates all entries: (count, sum of values).
    fn iterate(m: &Self::M) -> (usize, u64);
    fn len(m: &Self::M) -> usize;
    fn clear(m: &mut Self::M);
    fn clone_map(m: &Self::M) -> Self::M;
    fn free(m: Self::M);
}

/// `GoMap<K, u64>`: the typed wrapper (and whatever fast paths it dispatches to).
struct Wrapper<K>(core::marker::PhantomData<K>);

impl<K: gomap::GoKey + Clone> Impl for Wrapper<K> {
    const NAME: &'static str = "gomap-wrapper";
    type K = K;
    type M = GoMap<K, u64>;
    fn make(hint: usize) -> Self::M {
        GoMap::with_capacity(hint)
    }
    #[inline]
    fn insert(m: &mut Self::M, k: K, v: u64) {
        m.insert(k, v);
    }
    #[inline]
    fn get(m: &Self::M, k: &K) -> Option<u64> {
        m.get(k).copied()
    }
    #[inline]
    fn remove(m: &mut Self::M, k: &K) {
        m.remove(k);
    }
    fn iterate(m: &Self::M) -> (usize, u64) {
        let (mut c, mut s) = (0, 0u64);
        for (_, v) in m {
            c += 1;
            s = s.wrapping_add(*v);
        }
        (c, s)
    }
    fn len(m: &Self::M) -> usize {
        m.len()
    }
    fn clear(m: &mut Self::M) {
        m.clear();
    }
    fn clone_map(m: &Self::M) -> Self::M {
        m.clone()
    }
    fn free(m: Self::M) {
        drop(m);
    }
}

/// `std::collections::HashMap<K, u64>` with its default hasher.
struct Std<K>(core::marker::PhantomData<K>);

impl<K: std::hash::Hash + Eq + Clone> Impl for Std<K> {
    const NAME: &'static str = "std-hashmap";
    type K = K;
    type M = HashMap<K, u64>;
    fn make(hint: usize) -> Self::M {
        HashMap::with_capacity(hint)
    }
    #[inline]
    fn insert(m: &mut Self::M, k: K, v: u64) {
        m.insert(k, v);
    }
    #[inline]
    fn get(m: &Self::M, k: &K) -> Option<u64> {
        m.get(k).copied()
    }
    #[inline]
    fn remove(m: &mut Self::M, k: &K) {
        m.remove(k);
    }
    fn iterate(m: &Self::M) -> (usize, u64) {
        let (mut c, mut s) = (0, 0u64);
        for v in m.values() {
            c += 1;
            s = s.wrapping_add(*v);
        }
        (c, s)
    }
    fn len(m: &Self::M) -> usize {
        m.len()
    }
    fn clear(m: &mut Self::M) {
        m.clear();
    }
    fn clone_map(m: &Self::M) -> Self::M {
        m.clone()
    }
    fn free(m: Self::M) {
        drop(m);
    }
}

/// A key type the erased and C paths can describe.
trait RawKey: Copy {
    /// The preset descriptor (`MapType::u64_key` / `MapType::str_key`).
    fn descriptor() -> &'static MapType;
    /// The C ABI's `GOMAP_KEY_*` kind.
    const C_KIND: u32;
    /// `gomap_mapassign_fast64` / `_faststr`: the fast C functions, which a
    /// C caller uses for these key types as Go's compiler does.
    const C_ASSIGN: unsafe extern "C" fn(*mut ffi::gomap_map, Self, *mut *mut c_void) -> ffi::gomap_status;
    /// `gomap_mapaccess2_fast64` / `_faststr`.
    const C_ACCESS2: unsafe extern "C" fn(
        *const ffi::gomap_map,
        Self,
        *mut *const c_void,
        *mut bool,
    ) -> ffi::gomap_status;
    /// `gomap_mapdelete_fast64` / `_faststr`.
    const C_DELETE: unsafe extern "C" fn(*mut ffi::gomap_map, Self) -> ffi::gomap_status;
}

impl RawKey for u64 {
    fn descriptor() -> &'static MapType {
        static T: OnceLock<MapType> = OnceLock::new();
        T.get_or_init(|| MapType::u64_key(TypeInfo::of::<u64>()).expect("u64 preset"))
    }
    const C_KIND: u32 = ffi::GOMAP_KEY_U64;
    const C_ASSIGN: unsafe extern "C" fn(*mut ffi::gomap_map, u64, *mut *mut c_void) -> ffi::gomap_status =
        ffi::gomap_mapassign_fast64;
    const C_ACCESS2: unsafe extern "C" fn(
        *const ffi::gomap_map,
        u64,
        *mut *const c_void,
        *mut bool,
    ) -> ffi::gomap_status = ffi::gomap_mapaccess2_fast64;
    const C_DELETE: unsafe extern "C" fn(*mut ffi::gomap_map, u64) -> ffi::gomap_status = ffi::gomap_mapdelete_fast64;
}

impl RawKey for GoString {
    fn descriptor() -> &'static MapType {
        static T: OnceLock<MapType> = OnceLock::new();
        T.get_or_init(|| MapType::str_key(TypeInfo::of::<u64>()).expect("string preset"))
    }
    const C_KIND: u32 = ffi::GOMAP_KEY_STRING;
    const C_ASSIGN: unsafe extern "C" fn(*mut ffi::gomap_map, GoString, *mut *mut c_void) -> ffi::gomap_status =
        ffi::gomap_mapassign_faststr;
    const C_ACCESS2: unsafe extern "C" fn(
        *const ffi::gomap_map,
        GoString,
        *mut *const c_void,
        *mut bool,
    ) -> ffi::gomap_status = ffi::gomap_mapaccess2_faststr;
    const C_DELETE: unsafe extern "C" fn(*mut ffi::gomap_map, GoString) -> ffi::gomap_status =
        ffi::gomap_mapdelete_faststr;
}

/// The erased core: `map::makemap` / `mapassign` / `mapaccess2` / ... with
/// the preset descriptor, exactly as a compiler-generated caller would.
struct Erased<K>(core::marker::PhantomData<K>);

impl<K: RawKey> Impl for Erased<K> {
    const NAME: &'static str = "gomap-erased";
    type K = K;
    type M = NonNull<HMap>;
    fn make(hint: usize) -> Self::M {
        map::makemap(K::descriptor(), hint as isize).expect("makemap")
    }
    #[inline]
    fn insert(m: &mut Self::M, k: K, v: u64) {
        // SAFETY: a live map of this descriptor; `k` is a key of it outside the map.
        let slot = unsafe { map::mapassign(K::descriptor(), m.as_ptr(), (&raw const k).cast()) }.expect("mapassign");
        // SAFETY: the elem slot holds (or receives) a u64.
        unsafe { slot.elem.as_ptr().cast::<u64>().write(v) };
    }
    #[inline]
    fn get(m: &Self::M, k: &K) -> Option<u64> {
        // SAFETY: a live map of this descriptor; `k` is a key of it.
        let (e, ok) = unsafe { map::mapaccess2(K::descriptor(), m.as_ptr(), (k as *const K).cast()) }.expect("access");
        // SAFETY: a found elem slot holds a u64.
        ok.then(|| unsafe { e.cast::<u64>().read() })
    }
    #[inline]
    fn remove(m: &mut Self::M, k: &K) {
        // SAFETY: a live map of this descriptor; `k` is a key of it.
        unsafe { map::mapdelete(K::descriptor(), m.as_ptr(), (k as *const K).cast()) }.expect("mapdelete");
    }
    fn iterate(m: &Self::M) -> (usize, u64) {
        let (mut c, mut s) = (0, 0u64);
        let mut it = HIter::new();
        // SAFETY: a live map; the iterator is fresh and ended below.
        unsafe { map::mapiterinit(K::descriptor(), m.as_ptr(), &mut it) };
        while !it.key.is_null() {
            c += 1;
            // SAFETY: a live entry's elem is a u64.
            s = s.wrapping_add(unsafe { it.elem.cast::<u64>().read() });
            // SAFETY: the iterator is registered on a live map of this type.
            unsafe { map::mapiternext_inline(K::descriptor(), &mut it) };
        }
        // SAFETY: the iterator's map is alive (it has already ended itself).
        unsafe { map::mapiterend(&mut it) };
        (c, s)
    }
    fn len(m: &Self::M) -> usize {
        // SAFETY: a live map.
        unsafe { m.as_ref() }.len()
    }
    fn clear(m: &mut Self::M) {
        // SAFETY: a live map of this descriptor.
        unsafe { map::mapclear(K::descriptor(), m.as_ptr()) };
    }
    fn clone_map(m: &Self::M) -> Self::M {
        // SAFETY: a live map of this descriptor, not being written.
        unsafe { map::mapclone2(K::descriptor(), m.as_ptr()) }.expect("mapclone2")
    }
    fn free(m: Self::M) {
        // SAFETY: a live map without iterators, not used again.
        unsafe { map::mapfree(K::descriptor(), m.as_ptr()) }.expect("mapfree");
    }
}

/// The C ABI, called from Rust through the exported `extern "C"` functions
/// (status checks and unwind guards included). Inserts, lookups and deletes
/// use the fast functions (`gomap_mapassign_fast64`, `..._faststr`, ...), as
/// a C program that knows its key type would, and as Go's compiler does;
/// the rest (make, iterate, clear, clone, free) has no fast variant.
struct CAbi<K>(core::marker::PhantomData<K>);

fn c_type<K: RawKey>() -> *mut ffi::gomap_type {
    // One handle per key kind for the whole process (never freed).
    static U64: AtomicPtr<ffi::gomap_type> = AtomicPtr::new(ptr::null_mut());
    static STR: AtomicPtr<ffi::gomap_type> = AtomicPtr::new(ptr::null_mut());
    let slot = if K::C_KIND == ffi::GOMAP_KEY_U64 { &U64 } else { &STR };
    let t = slot.load(Ordering::Relaxed);
    if !t.is_null() {
        return t;
    }
    let mut t = ptr::null_mut();
    // SAFETY: `t` is writable; u64 elems are 8 bytes, 8-aligned, pointer-free.
    let st = unsafe { ffi::gomap_type_preset(K::C_KIND, 8, 8, false, &mut t) };
    check(st);
    slot.store(t, Ordering::Relaxed);
    t
}

#[inline]
fn check(st: ffi::gomap_status) {
    if st != ffi::gomap_status::GOMAP_OK {
        panic!("gomap C ABI: {st:?}");
    }
}

impl<K: RawKey> Impl for CAbi<K> {
    const NAME: &'static str = "gomap-cabi";
    type K = K;
    type M = *mut ffi::gomap_map;
    fn make(hint: usize) -> Self::M {
        let mut m = ptr::null_mut();
        // SAFETY: a live type handle; `m` writable.
        check(unsafe { ffi::gomap_makemap(c_type::<K>(), hint as isize, &mut m) });
        m
    }
    #[inline]
    fn insert(m: &mut Self::M, k: K, v: u64) {
        let mut e = ptr::null_mut();
        // SAFETY: a live map; `k` a key of its type; `e` writable.
        check(unsafe { K::C_ASSIGN(*m, k, &mut e) });
        // SAFETY: the elem slot of a u64 map.
        unsafe { e.cast::<u64>().write(v) };
    }
    #[inline]
    fn get(m: &Self::M, k: &K) -> Option<u64> {
        let (mut e, mut ok) = (ptr::null(), false);
        // SAFETY: a live map; `k` a key of its type; outputs writable.
        check(unsafe { K::C_ACCESS2(*m, *k, &mut e, &mut ok) });
        // SAFETY: a found elem of a u64 map.
        ok.then(|| unsafe { e.cast::<u64>().read() })
    }
    #[inline]
    fn remove(m: &mut Self::M, k: &K) {
        // SAFETY: a live map; `k` a key of its type.
        check(unsafe { K::C_DELETE(*m, *k) });
    }
    fn iterate(m: &Self::M) -> (usize, u64) {
        let (mut c, mut s) = (0, 0u64);
        let mut it = ffi::gomap_hiter { opaque: [0; ffi::GOMAP_HITER_SIZE] };
        // SAFETY: a live map; zeroed iterator storage.
        check(unsafe { ffi::gomap_mapiterinit(*m, &mut it) });
        // The documented one-call-per-entry loop: the accessors once, then
        // `gomap_mapiternext_kv` (advance + key + elem).
        // SAFETY: iterator storage of a live iteration.
        let (mut k, mut e) = unsafe { (ffi::gomap_hiter_key(&it), ffi::gomap_hiter_elem(&it)) };
        while !k.is_null() {
            c += 1;
            // SAFETY: a live entry's elem is a u64.
            s = s.wrapping_add(unsafe { e.cast::<u64>().read() });
            // SAFETY: a live iteration of a live map; outputs writable.
            check(unsafe { ffi::gomap_mapiternext_kv(&mut it, &mut k, &mut e) });
        }
        // SAFETY: as above (idempotent after the end).
        check(unsafe { ffi::gomap_mapiterend(&mut it) });
        (c, s)
    }
    fn len(m: &Self::M) -> usize {
        let mut n = 0;
        // SAFETY: a live map; `n` writable.
        check(unsafe { ffi::gomap_len(*m, &mut n) });
        n
    }
    fn clear(m: &mut Self::M) {
        // SAFETY: a live map.
        check(unsafe { ffi::gomap_mapclear(*m) });
    }
    fn clone_map(m: &Self::M) -> Self::M {
        let mut c = ptr::null_mut();
        // SAFETY: a live map; `c` writable.
        check(unsafe { ffi::gomap_mapclone(*m, &mut c) });
        c
    }
    fn free(m: Self::M) {
        // SAFETY: a live map without iterators, not used again.
        check(unsafe { ffi::gomap_free(m) });
    }
}

// ---------------------------------------------------------------------------
// Harness
// ---------------------------------------------------------------------------

struct Cfg {
    max_n: usize,
    samples: usize,
    target_ops: usize,
    filters: Vec<String>,
}

fn env_num(name: &str, default: f64) -> f64 {
    match std::env::var(name) {
        Ok(s) if !s.trim().is_empty() => {
            s.trim().parse::<f64>().unwrap_or_else(|_| panic!("{name}={s:?}: not a number (1e6 and 1000000 both work)"))
        }
        _ => default,
    }
}

impl Cfg {
    /// Defaults: the real run with `--bench` (what `cargo bench` and the
    /// script pass), a smoke run otherwise (`cargo test --benches` runs this
    /// binary without arguments: every workload once, tiny, still checked).
    fn from_env(bench: bool) -> Self {
        let (max_n, samples, target) = if bench { (1e6, 5.0, 2e5) } else { (1e3, 1.0, 1e3) };
        let filters = std::env::var("BENCH_FILTER")
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect();
        Cfg {
            max_n: (env_num("BENCH_MAX_N", max_n) as usize).max(1),
            samples: (env_num("BENCH_SAMPLES", samples) as usize).max(1),
            target_ops: (env_num("BENCH_TARGET_OPS", target) as usize).max(1),
            filters,
        }
    }
    fn sizes(&self) -> Vec<usize> {
        let mut v: Vec<usize> = [1_000, 100_000, 10_000_000].iter().map(|&n| n.min(self.max_n)).collect();
        v.dedup();
        v
    }
    fn clone_n(&self) -> usize {
        self.max_n.min(1_000_000)
    }
    fn wants(&self, imp: &str, key: &str, op: &str, n: usize) -> bool {
        let id = format!("{imp}/{key}/{op}/{n}");
        self.filters.is_empty() || self.filters.iter().any(|f| id.contains(f.as_str()))
    }
}

fn print_line(imp: &str, key: &str, op: &str, n: usize, unit: &str, vals: &mut [f64], ops: usize) {
    vals.sort_by(f64::total_cmp);
    let k = vals.len();
    let median = if k % 2 == 1 { vals[k / 2] } else { (vals[k / 2 - 1] + vals[k / 2]) / 2.0 };
    println!(
        "BENCH impl={imp} key={key} op={op} n={n} unit={unit} median={median:.3} min={:.3} max={:.3} samples={k} ops={ops}",
        vals[0],
        vals[k - 1],
    );
}

/// Runs one workload: `sample(reps)` returns the timed part of `reps`
/// repetitions, each of `ops_per_rep` operations.
fn measure(
    cfg: &Cfg,
    imp: &str,
    key: &str,
    op: &str,
    n: usize,
    ops_per_rep: usize,
    mut sample: impl FnMut(usize) -> Duration,
) {
    if !cfg.wants(imp, key, op, n) {
        return;
    }
    let reps = cfg.target_ops.div_ceil(ops_per_rep.max(1)).max(1);
    let ops = reps * ops_per_rep.max(1);
    black_box(sample(reps)); // warmup
    let mut vals: Vec<f64> = (0..cfg.samples).map(|_| sample(reps).as_nanos() as f64 / ops as f64).collect();
    print_line(imp, key, op, n, "ns/op", &mut vals, ops);
}

fn build<I: Impl>(keys: &[I::K]) -> I::M {
    let mut m = I::make(0);
    for (i, k) in keys.iter().enumerate() {
        I::insert(&mut m, k.clone(), i as u64);
    }
    m
}

/// The per-N workloads of one implementation.
fn sized<I: Impl>(cfg: &Cfg, key: &str, ks: &KeySet<I::K>) {
    let n = ks.ins.len();
    let nm = I::NAME;
    let expect_sum = (n as u64).wrapping_mul(n as u64 - 1) / 2;

    measure(cfg, nm, key, "insert", n, n, |reps| {
        let mut t = Duration::ZERO;
        for _ in 0..reps {
            let keys = ks.ins.clone();
            let mut m = I::make(0);
            let mut it = keys.into_iter();
            let t0 = Instant::now();
            for (i, k) in (&mut it).enumerate() {
                I::insert(&mut m, k, i as u64);
            }
            t += t0.elapsed();
            drop(it);
            assert_eq!(I::len(&m), n);
            I::free(black_box(m));
        }
        t
    });

    let wants = |op: &str| cfg.wants(nm, key, op, n);
    if wants("hit") || wants("miss") || wants("iterate") {
        let m = build::<I>(&ks.ins);
        measure(cfg, nm, key, "hit", n, n, |reps| {
            let mut sum = 0u64;
            let t0 = Instant::now();
            for _ in 0..reps {
                for k in &ks.perm {
                    if let Some(v) = I::get(&m, k) {
                        sum = sum.wrapping_add(v);
                    }
                }
            }
            let t = t0.elapsed();
            assert_eq!(black_box(sum), expect_sum.wrapping_mul(reps as u64));
            t
        });
        measure(cfg, nm, key, "miss", n, n, |reps| {
            let mut found = 0usize;
            let t0 = Instant::now();
            for _ in 0..reps {
                for k in &ks.miss {
                    found += I::get(&m, k).is_some() as usize;
                }
            }
            let t = t0.elapsed();
            assert_eq!(black_box(found), 0);
            t
        });
        measure(cfg, nm, key, "iterate", n, n, |reps| {
            let mut sum = 0u64;
            let t0 = Instant::now();
            for _ in 0..reps {
                let (c, s) = I::iterate(&m);
                debug_assert_eq!(c, n);
                sum = sum.wrapping_add(s);
            }
            let t = t0.elapsed();
            assert_eq!(black_box(sum), expect_sum.wrapping_mul(reps as u64));
            t
        });
        I::free(m);
    }

    measure(cfg, nm, key, "delete", n, n, |reps| {
        let mut t = Duration::ZERO;
        for _ in 0..reps {
            let mut m = build::<I>(&ks.ins);
            let t0 = Instant::now();
            for k in &ks.perm {
                I::remove(&mut m, k);
            }
            t += t0.elapsed();
            assert_eq!(I::len(&m), 0);
            I::free(m);
        }
        t
    });

    measure(cfg, nm, key, "clear", n, n, |reps| {
        let mut t = Duration::ZERO;
        for _ in 0..reps {
            let mut m = build::<I>(&ks.ins);
            let t0 = Instant::now();
            I::clear(black_box(&mut m));
            t += t0.elapsed();
            assert_eq!(I::len(&m), 0);
            I::free(m);
        }
        t
    });
}

fn clone_workload<I: Impl>(cfg: &Cfg, key: &str, ks: &KeySet<I::K>) {
    let n = ks.ins.len();
    if !cfg.wants(I::NAME, key, "clone", n) {
        return;
    }
    let m = build::<I>(&ks.ins);
    measure(cfg, I::NAME, key, "clone", n, n, |reps| {
        let mut t = Duration::ZERO;
        for _ in 0..reps {
            let t0 = Instant::now();
            let c = I::clone_map(black_box(&m));
            t += t0.elapsed();
            assert_eq!(I::len(&c), n);
            I::free(c);
        }
        t
    });
    I::free(m);
}

fn make_workloads<I: Impl>(cfg: &Cfg, key: &str) {
    for (op, hint) in [("make_empty", 0), ("make_hint7", 7), ("make_hint32", 32)] {
        measure(cfg, I::NAME, key, op, 0, 1, |reps| {
            let t0 = Instant::now();
            for _ in 0..reps {
                let m = I::make(black_box(hint));
                I::free(black_box(m));
            }
            t0.elapsed()
        });
    }
}

/// All workloads of one key type for one implementation, given key sets per
/// size (the last one for `clone`).
fn run_impl<I: Impl>(cfg: &Cfg, key: &str, sets: &[&KeySet<I::K>], clone_set: &KeySet<I::K>) {
    make_workloads::<I>(cfg, key);
    for ks in sets {
        sized::<I>(cfg, key, ks);
    }
    clone_workload::<I>(cfg, key, clone_set);
}

/// Live bytes of a u64→u64 map built by `n` inserts without hint, per entry.
fn bytes_per_entry(cfg: &Cfg, n: usize) {
    let keys: Vec<u64> = (0..n as u64).map(mix).collect();
    let report = |imp: &str, bytes: isize| {
        print_line(imp, "u64", "bytes_per_entry", n, "B/entry", &mut [bytes as f64 / n as f64], n);
    };
    let wants = |imp: &str| cfg.wants(imp, "u64", "bytes_per_entry", n);

    if wants("gomap-wrapper") {
        let prev = gomap::alloc::default_allocator();
        gomap::alloc::set_default_allocator(counting_allocator());
        let before = LIVE.load(Ordering::Relaxed);
        let mut m: GoMap<u64, u64> = GoMap::new();
        for (i, &k) in keys.iter().enumerate() {
            m.insert(k, i as u64);
        }
        let bytes = LIVE.load(Ordering::Relaxed) - before;
        drop(m);
        gomap::alloc::set_default_allocator(prev);
        report("gomap-wrapper", bytes);
    }
    if wants("gomap-erased") {
        let t = <u64 as RawKey>::descriptor();
        let before = LIVE.load(Ordering::Relaxed);
        let mut m = map::makemap_in(t, 0, &counting_allocator()).expect("makemap_in");
        for (i, &k) in keys.iter().enumerate() {
            Erased::<u64>::insert(&mut m, k, i as u64);
        }
        let bytes = LIVE.load(Ordering::Relaxed) - before;
        Erased::<u64>::free(m);
        report("gomap-erased", bytes);
    }
    if wants("gomap-cabi") {
        let before = LIVE.load(Ordering::Relaxed);
        let mut m = ptr::null_mut();
        // SAFETY: a live type handle; the counting pair satisfies the
        // allocator contract; `m` writable.
        check(unsafe {
            ffi::gomap_makemap_with_allocator(
                c_type::<u64>(),
                0,
                Some(counting_calloc),
                Some(counting_free),
                ptr::null_mut(),
                &mut m,
            )
        });
        for (i, &k) in keys.iter().enumerate() {
            CAbi::<u64>::insert(&mut m, k, i as u64);
        }
        // The handle is the hmap block, counted like every other block.
        let bytes = LIVE.load(Ordering::Relaxed) - before;
        CAbi::<u64>::free(m);
        report("gomap-cabi", bytes);
    }
    if wants("std-hashmap") {
        COUNTING.store(true, Ordering::Relaxed);
        let before = LIVE.load(Ordering::Relaxed);
        let mut m: HashMap<u64, u64> = HashMap::new();
        for (i, &k) in keys.iter().enumerate() {
            m.insert(k, i as u64);
        }
        let bytes = LIVE.load(Ordering::Relaxed) - before;
        COUNTING.store(false, Ordering::Relaxed);
        drop(m);
        report("std-hashmap", bytes);
    }
}

fn main() {
    // The only argument looked at is `--bench` (see `Cfg::from_env`); all
    // settings come from the environment.
    let bench = std::env::args().skip(1).any(|a| a == "--bench");
    let cfg = Cfg::from_env(bench);
    let sizes = cfg.sizes();
    if !bench {
        println!("# smoke run (no --bench argument): tiny sizes, one sample; use `cargo bench --bench map`");
    }
    println!(
        "# gomap bench: max_n={} sizes={:?} clone_n={} samples={} target_ops={} hash={}",
        cfg.max_n,
        sizes,
        cfg.clone_n(),
        cfg.samples,
        cfg.target_ops,
        gomap::presets::hash_path_name()
    );

    let orders: Vec<Vec<usize>> = sizes.iter().map(|&n| shuffled(n)).collect();
    for (&n, o) in sizes.iter().zip(&orders) {
        keys_line(&KeySet::from_fn(n, o, |x| x), &HexArena::new(n).str_keyset(o));
    }
    let clone_n = cfg.clone_n();
    let clone_order = shuffled(clone_n);

    // u64 keys.
    {
        let sets: Vec<KeySet<u64>> = sizes.iter().zip(&orders).map(|(&n, o)| KeySet::from_fn(n, o, |x| x)).collect();
        let refs: Vec<&KeySet<u64>> = sets.iter().collect();
        let clone_set = KeySet::from_fn(clone_n, &clone_order, |x| x);
        run_impl::<Wrapper<u64>>(&cfg, "u64", &refs, &clone_set);
        run_impl::<Erased<u64>>(&cfg, "u64", &refs, &clone_set);
        run_impl::<CAbi<u64>>(&cfg, "u64", &refs, &clone_set);
        run_impl::<Std<u64>>(&cfg, "u64", &refs, &clone_set);
    }

    // 16-byte string keys: the arenas own the bytes and outlive every map
    // below. `GoStrRef` for the wrapper, `&str` for std, `GoString` headers
    // for the erased and C paths, all pointing at the same bytes.
    {
        let arenas: Vec<HexArena> = sizes.iter().map(|&n| HexArena::new(n)).collect();
        let clone_arena = HexArena::new(clone_n);
        let strs: Vec<KeySet<&str>> = arenas.iter().zip(&orders).map(|(a, o)| a.str_keyset(o)).collect();
        let clone_strs = clone_arena.str_keyset(&clone_order);

        let sets: Vec<KeySet<GoStrRef<'_>>> = strs.iter().map(|ks| ks.map(GoStrRef::new)).collect();
        let refs: Vec<&KeySet<GoStrRef<'_>>> = sets.iter().collect();
        run_impl::<Wrapper<GoStrRef<'_>>>(&cfg, "str16", &refs, &clone_strs.map(GoStrRef::new));

        let refs: Vec<&KeySet<&str>> = strs.iter().collect();
        run_impl::<Std<&str>>(&cfg, "str16", &refs, &clone_strs);

        let sets: Vec<KeySet<GoString>> = arenas.iter().zip(&orders).map(|(a, o)| a.keyset(o)).collect();
        let refs: Vec<&KeySet<GoString>> = sets.iter().collect();
        let clone_set = clone_arena.keyset(&clone_order);
        run_impl::<Erased<GoString>>(&cfg, "str16", &refs, &clone_set);
        run_impl::<CAbi<GoString>>(&cfg, "str16", &refs, &clone_set);
    }

    bytes_per_entry(&cfg, clone_n);
}
