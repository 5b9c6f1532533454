//! `GoMap<K, V>`: a safe, typed map with Go's semantics, on the erased core.
//!
//! Keys are the types Go allows as map keys and that have a Go hash
//! ([`GoKey`]): integers, `bool`, `char`, floats (NaN never equals itself,
//! +0 == -0), [`GoStr`]/[`GoStrRef`] (Go's string header) and `String`
//! (hashed with Go's `strhash` over its bytes; stored as Rust's 24-byte
//! `String`, so string maps differ from Go's in slot size, not in
//! hashing); and keys made of keys ([`crate::keys`]): arrays `[K; N]`,
//! tuples, `()` (Go's `struct{}`) and, with the `derive` feature,
//! `#[derive(GoKey)]` structs, hashed as Go hashes the same struct or
//! array, padding never read. Values are any type.
//!
//! # Layout
//!
//! Keys and values live in the buckets as Go lays them out (`tophash[8] |
//! keys[8] | elems[8] | overflow`), inline when at most 128 bytes, else out
//! of line: the slot holds a pointer to a block of their own. gomap adds one
//! rule Go has no use for (no Go type is aligned above 8 on 64-bit targets):
//! a key or value type aligned above 8 (`u128`, `#[repr(align(16))]`
//! types) is always stored out of line, in a block allocated through the
//! map's allocator with the type's own alignment, so `&V` is always
//! properly aligned. Such maps use the generic map functions, not the fast
//! paths; maps of types aligned at most 8 keep Go's layout bit for bit.
//! See `docs/memory.md`, "Out-of-line keys and elems".
//!
//! Iteration follows Go: a random start every time, and [`GoMap::range`]
//! lets the body insert and delete while iterating, with Go's guarantees.
//!
//! # Safety
//!
//! A [`GoMap`] keeps one invariant, set by `with_capacity` and `clone` and
//! ended by `drop`: `h` is a live map of type `*t` (see the crate docs),
//! reachable only through this `GoMap`, whose keys are `K`s and elems `V`s,
//! and `t` describes `map[K]V` exactly (`GoKey`'s contract, the typed
//! hooks); or `h` is `NO_HMAP`, for an empty map whose hmap is not made
//! yet (`new`, and `with_capacity` of at most 8, which Go makes without
//! buckets). Such a map gives lookups `NO_HMAP`, a shared empty map that
//! they only read, and Go's other functions null, which they read as a nil
//! map; its first write makes its hmap (`GoMap::live`) with the seed `make`
//! drew, so the random draws happen in Go's order. "`h` is null or a live
//! map" below means `GoMap::hp`'s value. Reads borrow the `GoMap`, writes
//! borrow it mutably, so no write
//! runs during a read, and an iterator ([`Iter`], `range`) is ended before
//! the borrow it holds ends. The SAFETY comments below discharge the map
//! functions' points from this invariant ("the invariant").

use core::fmt;
use core::marker::PhantomData;
use core::ops::ControlFlow;
use core::ptr::{self, NonNull};

use crate::alg::GoString;
pub use crate::gostr::{GoStr, GoStrRef};
use crate::map::{self, HIter, HMap};
use crate::maptype::{KeySpec, MAX_ELEM_BYTES, MAX_INLINE_ALIGN, MapType, TypeInfo};
use crate::scopeguard::{ScopeGuard, guard};
use crate::{fast32, fast64, faststr};

/// Which of Go's specialised map functions serve a key type. Go's compiler
/// picks them from the key's hash algorithm (`mapfast`,
/// cmd/compile/internal/walk/walk.go), for elems of at most 128 bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FastKind {
    /// The generic functions of [`crate::map`].
    None,
    /// [`crate::fast32`]: keys of 4 bytes of plain memory (`memhash32`).
    Fast32,
    /// [`crate::fast64`]: keys of 8 bytes of plain memory (`memhash64`).
    Fast64,
    /// [`crate::faststr`]: Go string headers (`strhash`), i.e. [`GoStr`].
    FastStr,
}

impl FastKind {
    /// The fast kind of a word-sized key (`usize`, `isize`: Go's `uintptr`
    /// and `int`): fast64 on 64-bit targets, fast32 on 32-bit ones.
    const WORD: FastKind = if size_of::<usize>() == 8 { FastKind::Fast64 } else { FastKind::Fast32 };
}

/// A key type with Go's hashing and equality.
///
/// Implemented for the built-in keys, arrays, tuples and `()`; derive it
/// for a struct of keys (feature `derive`, see [`crate::keys`]) rather
/// than implementing it by hand.
///
/// # Safety
/// The descriptor (`SPEC`, or `map_type` when there is no `SPEC`) must
/// describe `Self` exactly: size and alignment of `Self`, a hasher and
/// equality that read one `Self` at the key pointer, equal keys hashing
/// alike. `FAST` may be [`FastKind::Fast32`] (or `Fast64`) only if `Self` is
/// 4 (or 8) bytes of plain memory, hashed over exactly those bytes and
/// compared bytewise; `FastStr` only if `Self` is laid out as a Go string
/// header (`alg::GoString`) and described by [`KeySpec::string`].
///
/// A key's `Drop` should not panic: the map drops keys in the middle of a
/// delete or key update, where it cannot recover, so it aborts the process
/// (printing `fatal error: a key's Drop panicked inside the map ...`).
/// Values may panic in `Drop` like in std's collections: they are moved out
/// before they are dropped, and `clear` and `drop` survive the panic.
pub unsafe trait GoKey: Sized {
    /// The key's half of the descriptor, when it needs no owned context
    /// (every built-in key type). With it, [`GoMap`] builds its descriptor
    /// at compile time and keeps it in static memory; without it (`None`),
    /// `map_type` is called and the result boxed, once per map.
    const SPEC: Option<KeySpec> = None;
    /// The descriptor for maps from `Self` to values described by `elem`,
    /// without drop or clone hooks (the wrapper adds them). The default
    /// builds it from `SPEC`; implement it when `SPEC` is `None`.
    fn map_type(elem: TypeInfo) -> MapType {
        match Self::SPEC {
            Some(spec) => MapType::try_from_spec(spec, elem).expect("valid descriptor"),
            None => panic!("GoKey: a key type without SPEC must implement map_type"),
        }
    }
    /// The fast paths Go's compiler would use for this key type.
    const FAST: FastKind = FastKind::None;
}

macro_rules! mem_key {
    ($($t:ty => $fast:ident),*) => {$(
        // SAFETY: plain memory of the type's size: memhash by size, byte
        // equality; the fast kind matches the size (4: Fast32, 8: Fast64,
        // the word: WORD).
        unsafe impl GoKey for $t {
            const SPEC: Option<KeySpec> = Some(KeySpec::memory(TypeInfo::of::<$t>()));
            const FAST: FastKind = FastKind::$fast;
        }
    )*};
}
mem_key!(
    u8 => None, u16 => None, u32 => Fast32, u64 => Fast64, usize => WORD,
    i8 => None, i16 => None, i32 => Fast32, i64 => Fast64, isize => WORD,
    bool => None, char => Fast32,
    // Go has no 128-bit integers; these hash as Go's `[16]byte` (memhash
    // of 16 bytes). Aligned to 16, they are stored out of line.
    u128 => None, i128 => None
);

// SAFETY: Go's f32 key: f32hash and float equality.
unsafe impl GoKey for f32 {
    const SPEC: Option<KeySpec> = Some(KeySpec::f32());
}
// SAFETY: Go's f64 key: f64hash and float equality.
unsafe impl GoKey for f64 {
    const SPEC: Option<KeySpec> = Some(KeySpec::f64());
}
/// Hashes a Rust `String` key the way Go hashes a string with its bytes.
///
/// # Safety
/// * `p` is a key of a `String`-keyed descriptor: a live, aligned `String`
///   (as [`HashFn`](crate::maptype::HashFn) promises).
unsafe fn string_hash(p: *const u8, seed: usize, _ctx: *const ()) -> usize {
    // SAFETY: `p` points to a live, aligned `String` (point 1), only read.
    let s = unsafe { &*p.cast::<String>() };
    let hdr = crate::alg::GoString { ptr: s.as_ptr(), len: s.len() };
    // SAFETY: 1. `hdr` is a readable local header; 2. its bytes are the
    // `String`'s, readable while `s` is borrowed.
    unsafe { crate::alg::strhash((&raw const hdr).cast(), seed) }
}

/// Compares two Rust `String` keys.
///
/// # Safety
/// * `a` and `b` are keys of a `String`-keyed descriptor: live, aligned
///   `String`s (as [`EqualFn`](crate::maptype::EqualFn) promises).
unsafe fn string_equal(a: *const u8, b: *const u8, _ctx: *const ()) -> bool {
    // SAFETY: `a` points to a live, aligned `String` (point 1), only read.
    let a = unsafe { &*a.cast::<String>() };
    // SAFETY: as for `a`, for `b` (point 1).
    let b = unsafe { &*b.cast::<String>() };
    a == b
}

// SAFETY: the hasher and equality read one String.
unsafe impl GoKey for String {
    const SPEC: Option<KeySpec> = Some(KeySpec {
        key: TypeInfo::of_pointerful::<String>(),
        hasher: string_hash,
        equal: string_equal,
        kind: crate::maptype::KeyKind::Custom,
        reflexive: true,
        need_key_update: false,
        trusted: true,
        ctx: ptr::null(),
    });
}

/// A type that can look up keys of a `GoMap<K, _>` by reference, std's
/// `Borrow` for Go maps: `Q: GoQuery<K>` hashes as the `K` it equals, with
/// Go's hash of `K` and the map's seed, so it finds exactly the entries an
/// owned `K` finds, without building one. Implemented for:
///
/// * every key type, querying itself: the path `get(&k)` always took
///   (Go's fast paths for `u64`, [`GoStr`], ...);
/// * `str` and `String` on [`GoStr`] and [`GoStrRef`] keys: a Go string
///   header over the query's bytes, built on the stack, on the `faststr`
///   paths;
/// * `str` on `String` keys: Go's `strhash` over the bytes, equality of
///   the bytes.
///
/// Sealed: the lookups rely on the hash agreeing with the map's.
///
/// ```
/// use gomap::{GoMap, GoStr};
/// let mut m: GoMap<GoStr, u32> = GoMap::new();
/// m.insert(GoStr::new("go"), 1);
/// assert_eq!(m.get("go"), Some(&1)); // no `GoStr` built
/// let mut s: GoMap<String, u32> = GoMap::new();
/// s.insert("rust".to_string(), 2);
/// assert!(s.contains_key("rust"));
/// ```
pub trait GoQuery<K: GoKey>: query::Probe<K> {}

mod query {
    use super::{GoKey, GoMap};

    /// How a query probes a map of `K`: [`GoQuery`](super::GoQuery)'s
    /// methods, out of reach of other crates (the trait is sealed).
    pub trait Probe<K: GoKey> {
        /// `mapaccess2` for the query: the elem, and whether it was found.
        fn access2<V>(&self, m: &GoMap<K, V>) -> (*const u8, bool);
        /// `mapaccessK` for the query: the stored key and elem, or nulls.
        fn access_k<V>(&self, m: &GoMap<K, V>) -> (*mut u8, *mut u8);
        /// `mapdelete` for the query, moving the elem to `out` (see
        /// `GoMap::delete_into`); reports whether the key was present.
        ///
        /// # Safety
        /// * `out` is null or valid for writes of one `V`, not overlapping
        ///   the map.
        unsafe fn delete_into<V>(&self, m: &mut GoMap<K, V>, out: *mut u8) -> bool;
    }
}

impl<K: GoKey> GoQuery<K> for K {}

impl<K: GoKey> query::Probe<K> for K {
    #[inline(always)]
    fn access2<V>(&self, m: &GoMap<K, V>) -> (*const u8, bool) {
        m.access2(self)
    }
    #[inline(always)]
    fn access_k<V>(&self, m: &GoMap<K, V>) -> (*mut u8, *mut u8) {
        let (t, h, kp) = (m.t(), m.h_lookup(), (self as *const K).cast::<u8>());
        // Every arm: `h` is null or a live map of type `t` (the invariant), not
        // written while `m` is borrowed (writes take `&mut`).
        match GoMap::<K, V>::FAST {
            FastKind::Fast32 => {
                // SAFETY: `FAST == Fast32` only for a 4-byte plain-memory
                // `K` (GoKey): `kp` is valid for reads of 4 bytes.
                let key = unsafe { kp.cast::<u32>().read_unaligned() };
                // SAFETY: access_k_fast32's points: 1. null or a live map;
                // 2. `t` fits fast32 (`FAST`, as in `access2_raw`); 3. no
                // write runs.
                unsafe { fast32::access_k_fast32(t, h, key) }
            }
            FastKind::Fast64 => {
                // SAFETY: `FAST == Fast64` only for an 8-byte plain-memory
                // `K` (GoKey): `kp` is valid for reads of 8 bytes.
                let key = unsafe { kp.cast::<u64>().read_unaligned() };
                // SAFETY: access_k_fast64's points: 1. null or a live map;
                // 2. `t` fits fast64 (`FAST`, as in `access2_raw`); 3. no
                // write runs.
                unsafe { fast64::access_k_fast64(t, h, key) }
            }
            // SAFETY: mapaccess_k's points: 1. null or a live map of type `t`,
            // not written meanwhile; 2. `self` is a `K`, a key of `t` (GoKey:
            // `t` describes `K`).
            _ => unsafe { map::mapaccess_k(t, h, kp) },
        }
    }
    #[inline(always)]
    unsafe fn delete_into<V>(&self, m: &mut GoMap<K, V>, out: *mut u8) -> bool {
        // SAFETY: 1. `self` is a `K`; 2. `out` as the caller's point.
        unsafe { m.delete_into((self as *const K).cast(), out) }
    }
}

/// A Go string header over `s`'s bytes: a key of a [`GoStr`] or
/// [`GoStrRef`] map while `s` is borrowed (`KeySpec::string()` reads the
/// header and its `len` bytes).
#[inline(always)]
fn str_header(s: &str) -> GoString {
    GoString { ptr: s.as_ptr(), len: s.len() }
}

/// Go's hash of a string with `s`'s bytes (`strhash`), as the `String` and
/// `GoStr` keys with those bytes hash.
#[inline]
fn str_hash(s: &str, seed: usize) -> usize {
    let hdr = str_header(s);
    // SAFETY: 1. `hdr` is a readable local header; 2. its bytes are `s`'s,
    // readable while `s` is borrowed.
    unsafe { crate::alg::strhash((&raw const hdr).cast(), seed) }
}

/// `str` (and `String`) on Go string-header keys: the header on the stack
/// is the key; every path is the one the owned key takes.
macro_rules! str_on_header_keys {
    ($($q:ty => [$($lt:lifetime)?] $k:ty),*) => {$(
        impl<$($lt)?> GoQuery<$k> for $q {}

        impl<$($lt)?> query::Probe<$k> for $q {
            #[inline(always)]
            fn access2<V>(&self, m: &GoMap<$k, V>) -> (*const u8, bool) {
                let hdr = str_header(self);
                // SAFETY: `hdr` is a Go string header over `self`'s bytes,
                // a key of `t` (`KeySpec::string()`), readable, aligned as
                // the key (both are `GoString`s), for the call.
                unsafe { m.access2_raw((&raw const hdr).cast()) }
            }
            #[inline(always)]
            fn access_k<V>(&self, m: &GoMap<$k, V>) -> (*mut u8, *mut u8) {
                let hdr = str_header(self);
                // SAFETY: mapaccess_k's points: 1. `h` is null or a live map of
                // type `t` (the invariant), not written while `m` is borrowed;
                // 2. `hdr` is a key of `t` (as in `access2`).
                unsafe { map::mapaccess_k(m.t(), m.hp(), (&raw const hdr).cast()) }
            }
            #[inline(always)]
            unsafe fn delete_into<V>(&self, m: &mut GoMap<$k, V>, out: *mut u8) -> bool {
                let hdr = str_header(self);
                // SAFETY: 1. `hdr` is a key of `t` (as in `access2`), read,
                // never dropped; 2. `out` as the caller's point.
                unsafe { m.delete_into((&raw const hdr).cast(), out) }
            }
        }
    )*};
}
str_on_header_keys!(
    str => [] GoStr, String => [] GoStr,
    str => ['a] GoStrRef<'a>, String => ['a] GoStrRef<'a>
);

impl GoQuery<String> for str {}

impl query::Probe<String> for str {
    #[inline]
    fn access2<V>(&self, m: &GoMap<String, V>) -> (*const u8, bool) {
        let (_, e) = query::Probe::<String>::access_k(self, m);
        (e, !e.is_null())
    }
    #[inline]
    fn access_k<V>(&self, m: &GoMap<String, V>) -> (*mut u8, *mut u8) {
        let eq = |k: *const u8| {
            // SAFETY: `mapaccess_k_by` passes a live, aligned key of the
            // map, a `String`, only read here.
            let k = unsafe { &*k.cast::<String>() };
            k.as_bytes() == self.as_bytes()
        };
        // SAFETY: mapaccess_k_by's points: 1. `h` is null or a live map of type
        // `t` (the invariant), not written while `m` is borrowed; 2. `t`'s
        // hasher is `string_hash`, `strhash` over the `String`'s bytes, and
        // `eq` accepts only `String`s with `self`'s bytes: `str_hash` returns
        // their hash.
        unsafe { map::mapaccess_k_by(m.t(), m.hp(), |seed| str_hash(self, seed), eq) }
    }
    #[inline]
    unsafe fn delete_into<V>(&self, m: &mut GoMap<String, V>, out: *mut u8) -> bool {
        let (k, _) = query::Probe::<String>::access_k(self, m);
        if k.is_null() {
            return false;
        }
        // The delete needs a key of the map's type: a bitwise copy of the
        // stored key, never dropped (the map drops its own), as `retain`.
        let mut copy = core::mem::MaybeUninit::<String>::uninit();
        // SAFETY: `k` is the stored key, a readable `String`; `copy` has
        // room for one, not overlapping.
        unsafe { ptr::copy_nonoverlapping(k.cast::<String>(), copy.as_mut_ptr(), 1) };
        // SAFETY: 1. `copy` holds a `String`'s bytes, outside the map; the
        // map reads it before it drops the stored key; 2. `out` as the
        // caller's point.
        unsafe { m.delete_into(copy.as_ptr().cast(), out) }
    }
}

/// The drop hook of a `T` key or elem.
///
/// # Safety
/// * `p` is a live `T` of the map, aligned, never used as a value again
///   ([`DropFn`](crate::maptype::DropFn)'s point 1, for a descriptor whose
///   key or elem type is `T`).
unsafe fn drop_fn<T>(p: *mut u8, _ctx: *const ()) {
    // SAFETY: a live, aligned `T`, valid for reads and writes, dropped once
    // and never used again (point 1).
    unsafe { ptr::drop_in_place(p.cast::<T>()) }
}

/// The drop hook of a `T` key: [`drop_fn`], except that a panic out of
/// `T`'s `Drop` aborts the process. The map drops a key in the middle of
/// its own bookkeeping (a delete, a key update), where an unwind would
/// leave the entry in place with its key already dropped, to be dropped a
/// second time later; values are moved out of the map before they are
/// dropped, or dropped by `clear` and `drop`, which survive a panic.
///
/// # Safety
/// As [`drop_fn`].
unsafe fn drop_key_fn<T>(p: *mut u8, ctx: *const ()) {
    /// Aborts when dropped, i.e. when `T`'s drop unwinds past it.
    struct AbortOnUnwind;
    impl Drop for AbortOnUnwind {
        fn drop(&mut self) {
            // No fatal hook: this runs during an unwind, where a hook that
            // unwinds in turn would abort anyway.
            eprintln!("fatal error: a key's Drop panicked inside the map (GoKey: a key's Drop must not unwind)");
            std::process::abort()
        }
    }
    let bomb = AbortOnUnwind;
    // SAFETY: the caller's point 1, passed on unchanged.
    unsafe { drop_fn::<T>(p, ctx) };
    core::mem::forget(bomb);
}

/// The clone hook of a `T` key or elem.
///
/// # Safety
/// * `src` is a live, aligned `T`, and `dst` is valid for writes of one
///   `T`, aligned, holding no value, not overlapping `src`
///   ([`CloneFn`](crate::maptype::CloneFn)'s points, for a descriptor whose
///   key or elem type is `T`).
unsafe fn clone_fn<T: Clone>(dst: *mut u8, src: *const u8, _ctx: *const ()) {
    // SAFETY: `src` is a live, aligned `T` (point 1), only read.
    let v = unsafe { &*src.cast::<T>() }.clone();
    // SAFETY: `dst` is valid for writes of one aligned `T` and holds no
    // value, so nothing is leaked by overwriting it (point 1).
    unsafe { dst.cast::<T>().write(v) }
}

pub(crate) const fn type_info<T>() -> TypeInfo {
    if core::mem::needs_drop::<T>() { TypeInfo::of_pointerful::<T>() } else { TypeInfo::of::<T>() }
}

const fn key_drop_hook<T>() -> Option<crate::maptype::DropFn> {
    if core::mem::needs_drop::<T>() { Some(drop_key_fn::<T> as crate::maptype::DropFn) } else { None }
}

const fn drop_hook<T>() -> Option<crate::maptype::DropFn> {
    if core::mem::needs_drop::<T>() { Some(drop_fn::<T> as crate::maptype::DropFn) } else { None }
}

const fn clone_hook<T: Clone>() -> Option<crate::maptype::CloneFn> {
    if core::mem::needs_drop::<T>() { Some(clone_fn::<T> as crate::maptype::CloneFn) } else { None }
}

/// What a [`GoMap`] without an hmap yet points to: an empty map (count 0,
/// B = 0, no buckets) that lookups read and that nothing ever writes (every
/// write makes the map's own hmap first, and the map's other functions are
/// given null instead). One for all maps, in static memory.
struct NoHmap(HMap);
// SAFETY: never written (see above), so shared reads from any thread are
// all that happens to it.
unsafe impl Sync for NoHmap {}
static NO_HMAP: NoHmap = NoHmap(HMap::new(crate::alloc::Allocator::LIBC));

/// The address of [`NO_HMAP`].
#[inline(always)]
fn no_hmap() -> NonNull<HMap> {
    NonNull::from(&NO_HMAP.0)
}

/// A Go map from `K` to `V`.
///
/// Values may be any type, including types aligned above 8, which are
/// stored out of line with their own alignment (see the module docs):
///
/// ```
/// use gomap::GoMap;
///
/// let mut m: GoMap<u64, u128> = GoMap::new();
/// m.insert(1, u128::MAX - 1);
/// let v = m.get(&1).unwrap();
/// assert_eq!(*v, u128::MAX - 1);
/// assert_eq!((v as *const u128).addr() % core::mem::align_of::<u128>(), 0);
/// // Out of line where u128 is aligned to 16 (not on armv7, where Rust
/// // aligns it to 8).
/// let ool = core::mem::align_of::<u128>() > gomap::maptype::MAX_INLINE_ALIGN;
/// assert_eq!(m.map_type().indirect_elem(), ool);
/// ```
pub struct GoMap<K: GoKey, V> {
    /// The descriptor: in static memory (built at compile time from
    /// `K::SPEC`), or boxed for this map when `owned_t` (keys without a
    /// `SPEC`). Either way `make` costs no descriptor work for built-in keys,
    /// and the map handle stays three words. Valid until `drop`.
    pub(crate) t: NonNull<MapType>,
    /// Whether `t` is a `Box` this map owns (freed in `drop`).
    pub(crate) owned_t: bool,
    /// The seed (`hash0`) `make` drew for the map, given to its hmap when
    /// the first write makes it (while `h` is null).
    seed: u32,
    /// A live map of type `*t` owned by this value, or, while the map has
    /// no hmap yet (see the module docs), [`NO_HMAP`]. Only `&mut self`
    /// methods change it.
    pub(crate) h: NonNull<HMap>,
    _marker: PhantomData<(K, V)>,
}

// SAFETY: the map owns its keys and values; moving it moves them.
unsafe impl<K: GoKey + Send, V: Send> Send for GoMap<K, V> {}
// SAFETY: shared access only reads (lookups, iteration), which Go allows
// concurrently; the iterator flag update is atomic.
unsafe impl<K: GoKey + Sync, V: Sync> Sync for GoMap<K, V> {}

fn oom<T>(r: Result<T, crate::fatal::MapError>) -> T {
    r.unwrap_or_else(|e| panic!("gomap: {e}"))
}

impl<K: GoKey, V> GoMap<K, V> {
    /// The map functions Go's compiler would call for `map[K]V`: none when
    /// `V` is stored out of line (over 128 bytes, or aligned above 8).
    const FAST: FastKind =
        if core::mem::size_of::<V>() > MAX_ELEM_BYTES || core::mem::align_of::<V>() > MAX_INLINE_ALIGN {
            FastKind::None
        } else {
            K::FAST
        };

    /// The map, or null while it has no hmap yet, which Go's functions
    /// read as a nil map (empty).
    #[inline(always)]
    pub(crate) fn hp(&self) -> *mut HMap {
        if self.h == no_hmap() { ptr::null_mut() } else { self.h.as_ptr() }
    }

    /// The map for a lookup: [`NO_HMAP`] while it has no hmap yet, an empty
    /// map that lookups read (its count of 0 ends them) and nothing writes,
    /// so that a lookup needs no null check.
    #[inline(always)]
    fn h_lookup(&self) -> *mut HMap {
        self.h.as_ptr()
    }

    /// The map's hmap, made now if the map has none yet (its first write):
    /// Go's `makemap_small` with the seed `make` drew.
    #[inline(always)]
    pub(crate) fn live(&mut self) -> Result<NonNull<HMap>, crate::fatal::MapError> {
        if self.h != no_hmap() { Ok(self.h) } else { self.make_hmap() }
    }

    /// The first write's half of [`Self::live`].
    #[cold]
    #[inline(never)]
    fn make_hmap(&mut self) -> Result<NonNull<HMap>, crate::fatal::MapError> {
        let h = self.new_hmap()?;
        self.h = h;
        Ok(h)
    }

    /// An hmap for this map (B = 0, no buckets, `hash0` the drawn seed),
    /// made with the default allocator, not yet stored.
    fn new_hmap(&self) -> Result<NonNull<HMap>, crate::fatal::MapError> {
        let mut h = map::makemap_seeded_in(self.t(), &crate::alloc::default_allocator(), self.seed)?;
        // SAFETY: the map just made: live, and referenced only here.
        unsafe { h.as_mut() }.mark_exclusive_writes();
        Ok(h)
    }

    /// `mapaccess2`, or its fast variant.
    #[inline(always)]
    fn access2(&self, k: &K) -> (*const u8, bool) {
        // SAFETY: `k` is a `K`, a key of `t` (GoKey: `t` describes `K`),
        // borrowed for the call.
        unsafe { self.access2_raw((k as *const K).cast::<u8>()) }
    }

    /// [`Self::access2`] for a key given by address: a `K`, or bytes laid
    /// out as one that `t`'s hasher and equality read as a key (a Go string
    /// header on the stack, for a `&str` looking up [`GoStr`] keys).
    ///
    /// # Safety
    /// * `kp` points to a key of `t`, readable (with any bytes it refers to)
    ///   for the call, and aligned as `K`.
    #[inline(always)]
    unsafe fn access2_raw(&self, kp: *const u8) -> (*const u8, bool) {
        let (t, h) = (self.t(), self.h_lookup());
        // Every arm: `h` is null or a live map of type `t` (the invariant); the
        // result stays valid while `self` is borrowed (no write runs).
        oom(match Self::FAST {
            FastKind::Fast32 => {
                // SAFETY: `FAST == Fast32` only for a 4-byte plain-memory `K`
                // (GoKey): `kp`, a key of `t` (point 1), is valid for reads
                // of 4 bytes.
                let key = unsafe { kp.cast::<u32>().read_unaligned() };
                // SAFETY: mapaccess2_fast32's points: 1. null or a live map
                // (the invariant); 2. `t` fits fast32: 4-byte inline keys
                // compared bytewise (GoKey's `FAST`), inline elems (`FAST` is
                // `None` for a `V` over 128 bytes or aligned above 8); 3. no
                // write runs: `&self` is shared, writes take `&mut self`.
                unsafe { fast32::mapaccess2_fast32(t, h, key) }
            }
            FastKind::Fast64 => {
                // SAFETY: `FAST == Fast64` only for an 8-byte plain-memory
                // `K` (GoKey): `kp`, a key of `t` (point 1), is valid for
                // reads of 8 bytes.
                let key = unsafe { kp.cast::<u64>().read_unaligned() };
                // SAFETY: mapaccess2_fast64's points: 1. null or a live map
                // (the invariant); 2. `t` fits fast64: 8-byte inline keys
                // compared bytewise (GoKey's `FAST`), inline elems (`FAST` is
                // `None` for a `V` over 128 bytes or aligned above 8); 3. no
                // write runs: `&self` is shared, writes take `&mut self`.
                unsafe { fast64::mapaccess2_fast64(t, h, key) }
            }
            FastKind::FastStr => {
                // SAFETY: `FAST == FastStr` only for a `K` laid out as a
                // `GoString` (GoKey): `kp`, a key of `t` aligned as `K`
                // (point 1), is a readable, aligned header.
                let key = unsafe { kp.cast::<GoString>().read() };
                // SAFETY: mapaccess2_faststr's points: 1. null or a live map of
                // type `t` (the invariant); 2. `t` is `KeySpec::string()`'s
                // (GoKey's `FAST`) with inline elems: it fits the faststr
                // paths; 3. `key`'s bytes are readable for the call (point 1);
                // 4. no write runs: `&self` is shared.
                unsafe { faststr::mapaccess2_faststr(t, h, key) }
            }
            // SAFETY: 1. null or a live map of type `t` (the invariant); 2.
            // `kp` points to a key of `t` (point 1).
            FastKind::None => unsafe { map::mapaccess2(t, h, kp) },
        })
    }

    /// `mapassign`, or its fast variant.
    ///
    /// # Safety
    /// * `kp` points to a `K` outside the map (a key of `self`'s type that
    ///   does not alias the map's memory);
    /// * the map takes that `K` over when it keeps its bytes (the returned
    ///   slot says `inserted`, or the type needs key updates): the caller
    ///   must not drop or use it then.
    unsafe fn assign(&mut self, kp: *const u8) -> map::Slot {
        // SAFETY: the caller's points, passed on.
        oom(unsafe { self.try_assign(kp) })
    }

    /// [`Self::assign`] reporting allocation failure (the map unchanged,
    /// the key not taken) instead of panicking.
    ///
    /// # Safety
    /// As [`Self::assign`] (point 2 applies to a success only).
    unsafe fn try_assign(&mut self, kp: *const u8) -> Result<map::Slot, crate::fatal::MapError> {
        let h = self.live()?.as_ptr();
        let t = self.t();
        match Self::FAST {
            FastKind::Fast32 => {
                // SAFETY: a 4-byte plain-memory `K` (GoKey's `FAST`) at `kp`
                // (point 1): valid for reads of 4 bytes.
                let key = unsafe { kp.cast::<u32>().read_unaligned() };
                // SAFETY: mapassign_fast32's points: 1. a live map of type `t`
                // (the invariant); 2. `t` fits fast32 (see `access2`); 3.
                // `&mut self`: nothing else accesses the map.
                unsafe { fast32::mapassign_fast32(t, h, key) }
            }
            FastKind::Fast64 => {
                // SAFETY: an 8-byte plain-memory `K` (GoKey's `FAST`) at `kp`
                // (point 1): valid for reads of 8 bytes.
                let key = unsafe { kp.cast::<u64>().read_unaligned() };
                // SAFETY: mapassign_fast64's points: 1. a live map of type `t`
                // (the invariant); 2. `t` fits fast64 (see `access2`); 3.
                // `&mut self`: nothing else accesses the map.
                unsafe { fast64::mapassign_fast64(t, h, key) }
            }
            FastKind::FastStr => {
                // SAFETY: a `K` laid out as a `GoString` (GoKey's `FAST`) at
                // `kp` (point 1): a readable header, aligned (the caller's
                // `K`).
                let key = unsafe { kp.cast::<GoString>().read() };
                // SAFETY: mapassign_faststr's points: 1. a live map of type `t`
                // (the invariant); 2. `t` fits the faststr paths (see
                // `access2`); 3. `key`'s bytes are readable, and stay so
                // while the map holds them: the map takes the `K` over
                // (point 2; string keys always need key updates); 4. `&mut
                // self`: no other thread accesses the map.
                unsafe { faststr::mapassign_faststr(t, h, key) }
            }
            // SAFETY: 1. a live map of type `t` (`live`); 2. `kp` is a
            // key of `t` outside the map (point 1).
            FastKind::None => unsafe { map::mapassign(t, h, kp) },
        }
    }

    /// `mapdelete`, or its fast variant, moving the elem to `out` (see
    /// [`map::mapdelete_into`]); reports whether the key was present.
    ///
    /// # Safety
    /// * `kp` points to a `K` (a key of `self`'s type);
    /// * `out` is null (the removed elem is dropped in the map) or valid for
    ///   writes of one `V`, not overlapping the map.
    #[inline(always)]
    unsafe fn delete_into(&mut self, kp: *const u8, out: *mut u8) -> bool {
        let h = self.hp();
        // SAFETY: 1. `h` is null or a live map of type `self.t()` (the
        // invariant), and `&mut self` keeps every other access out; 2. and
        // 3. the caller's points 1 and 2 (`t` describes `K` and `V`).
        unsafe { Self::delete_raw(self.t(), h, kp, out) }
    }

    /// [`Self::delete_into`] on the map `h` of type `t`: the map's own
    /// descriptor, or one that differs from it in its key drop hook only
    /// (see [`Self::take_entry`]).
    ///
    /// # Safety
    /// 1. `h` is this `GoMap`'s map, `t` its descriptor or one equal to it
    ///    but for `key_drop`, and the caller has the map to itself (it
    ///    borrows the `GoMap` mutably);
    /// 2. `kp` points to a key of `t`, readable for the call;
    /// 3. `out` is null or valid for writes of one `V`, not overlapping the
    ///    map.
    #[inline(always)]
    unsafe fn delete_raw(t: &MapType, h: *mut HMap, kp: *const u8, out: *mut u8) -> bool {
        oom(match Self::FAST {
            FastKind::Fast32 => {
                // SAFETY: a 4-byte plain-memory `K` (GoKey's `FAST`) at `kp`
                // (point 2): valid for reads of 4 bytes.
                let key = unsafe { kp.cast::<u32>().read_unaligned() };
                // SAFETY: mapdelete_fast32_into's points: 1. null or a live map
                // of type `t` (point 1); 2. `t` fits fast32 (see `access2`; the
                // key drop hook plays no part); 3. the caller has the map to
                // itself (point 1); 4. `out` is valid for writing one elem, not
                // overlapping (point 3).
                unsafe { fast32::mapdelete_fast32_into(t, h, key, out) }
            }
            FastKind::Fast64 => {
                // SAFETY: an 8-byte plain-memory `K` (GoKey's `FAST`) at `kp`
                // (point 2): valid for reads of 8 bytes.
                let key = unsafe { kp.cast::<u64>().read_unaligned() };
                // SAFETY: mapdelete_fast64_into's points: 1. null or a live map
                // of type `t` (point 1); 2. `t` fits fast64 (see `access2`; the
                // key drop hook plays no part); 3. the caller has the map to
                // itself (point 1); 4. `out` is valid for writing one elem, not
                // overlapping (point 3).
                unsafe { fast64::mapdelete_fast64_into(t, h, key, out) }
            }
            FastKind::FastStr => {
                // SAFETY: a `K` laid out as a `GoString` (GoKey's `FAST`) at
                // `kp` (point 2): a readable, aligned header.
                let key = unsafe { kp.cast::<GoString>().read() };
                // SAFETY: mapdelete_faststr_into's points: 1. live map of
                // type `t` (point 1); 2. `t` fits the faststr paths (its key
                // drop hook plays no part); 3. `key`'s bytes are readable
                // (point 2); 4. the caller has the map to itself (point 1);
                // 5. `out` is valid for writing one elem, not overlapping
                // (point 3).
                unsafe { faststr::mapdelete_faststr_into(t, h, key, out) }
            }
            // SAFETY: mapdelete_into's points: 1. null or a live map of type
            // `t`, the caller's alone (point 1); 2. `kp` a key of `t` (point
            // 2); 3. `out` is valid for writing one elem, not overlapping
            // (point 3).
            FastKind::None => unsafe { map::mapdelete_into(t, h, kp, out) },
        })
    }

    /// The descriptor of `map[K]V` with Rust's drop glue as hooks, built at
    /// compile time when `K` has a [`GoKey::SPEC`].
    pub(crate) const STATIC_T: Option<&'static MapType> = match K::SPEC {
        Some(spec) => {
            Some(&MapType::from_spec(spec, type_info::<V>(), key_drop_hook::<K>(), drop_hook::<V>(), None, None))
        }
        None => None,
    };

    /// The descriptor: the static one, or a fresh boxed one (`owned`).
    #[inline]
    fn descriptor() -> (NonNull<MapType>, bool) {
        match Self::STATIC_T {
            Some(t) => (NonNull::from(t), false),
            None => {
                let t = K::map_type(type_info::<V>()).with_hooks(key_drop_hook::<K>(), drop_hook::<V>(), None, None);
                (NonNull::from(Box::leak(Box::new(t))), true)
            }
        }
    }

    /// The descriptor.
    #[inline(always)]
    pub(crate) fn t(&self) -> &MapType {
        // The static descriptor is named directly (it is what `self.t` points
        // to then), so its fields are constants where the map functions
        // inline: no loads, and hooks that are `None` vanish.
        match Self::STATIC_T {
            Some(t) => t,
            // SAFETY: `t` is a `Box` this map owns until `drop` (no
            // `STATIC_T`, so `owned_t`), never mutated: valid for the borrow
            // of `self`.
            None => unsafe { self.t.as_ref() },
        }
    }

    /// `make(map[K]V)`: an empty map, B = 0. Allocates nothing, as std's
    /// `HashMap::new`: it draws the map's seed now, where Go's
    /// `makemap_small` draws it, and the first write makes the `hmap`
    /// header (with the default allocator of that moment) and the first
    /// bucket, as Go's first insert makes the bucket.
    ///
    /// ```
    /// let m = gomap::GoMap::<u64, &str>::new(); // m := make(map[uint64]string)
    /// assert!(m.is_empty());
    /// assert_eq!((m.stats().b, m.stats().bucket_array_bytes), (0, 0));
    /// assert_eq!(m.capacity(), 8);
    /// ```
    pub fn new() -> Self {
        Self::with_capacity(0)
    }

    /// `make(map[K]V, hint)`: room for `hint` entries before the first growth
    /// (Go's `makemap`: the smallest B with `hint` under the load factor of
    /// 6.5 per bucket), the bucket array allocated now when B > 0. A hint of
    /// at most 8 (B = 0) allocates nothing, as [`Self::new`].
    ///
    /// # Panics
    /// If the bucket array cannot be allocated.
    ///
    /// ```
    /// let m = gomap::GoMap::<u64, u64>::with_capacity(100); // make(map[uint64]uint64, 100)
    /// assert!(m.capacity() >= 100);
    /// assert_eq!(m.stats().b, 4); // 16 buckets hold 104
    /// assert!(m.is_empty());
    /// ```
    pub fn with_capacity(hint: usize) -> Self {
        let (t, owned_t) = Self::descriptor();
        if hint <= crate::maptype::BUCKET_CNT {
            // Go's `makemap_small` (B = 0): the seed is drawn now, as Go
            // draws it, and the hmap is made by the first write.
            let seed = crate::rand::rand() as u32;
            return GoMap { t, owned_t, seed, h: no_hmap(), _marker: PhantomData };
        }
        // SAFETY: `t` is the static descriptor or a fresh box: valid, never
        // mutated.
        let made = map::makemap(unsafe { t.as_ref() }, hint.min(isize::MAX as usize) as isize);
        let mut h = match made {
            Ok(h) => h,
            Err(e) => {
                if owned_t {
                    // SAFETY: `descriptor` leaked this box just above; the
                    // failed `makemap` kept no reference to it.
                    drop(unsafe { Box::from_raw(t.as_ptr()) });
                }
                oom(Err(e))
            }
        };
        // SAFETY: the map `makemap` just made: live, and referenced only
        // here.
        let hr = unsafe { h.as_mut() };
        hr.mark_exclusive_writes();
        GoMap { t, owned_t, seed: hr.hash0, h, _marker: PhantomData }
    }

    /// The descriptor (Go's `maptype`) the map functions run with: key,
    /// elem and bucket sizes, flags. For introspection.
    ///
    /// ```
    /// let m = gomap::GoMap::<u64, u64>::new();
    /// let t = m.map_type();
    /// // tophash[8] | keys[8] | elems[8] | overflow pointer, rounded up to
    /// // u64's alignment (a 140-byte bucket becomes 144 on armv7 and wasm32,
    /// // where Rust aligns u64 to 8)
    /// let ptr = size_of::<usize>(); // 8 (4 on 32-bit targets)
    /// assert_eq!(t.bucketsize(), (8 + 8 * 8 + 8 * 8 + ptr).next_multiple_of(align_of::<u64>()));
    /// assert_eq!((t.keysize(), t.valuesize()), (8, 8));
    /// ```
    pub fn map_type(&self) -> &MapType {
        self.t()
    }

    /// The erased map (Go's `*hmap`), for introspection with
    /// [`crate::inspect`] together with [`Self::map_type`]. Writing through
    /// it is not allowed. A map that has had no write yet has no hmap (see
    /// [`Self::new`]): this makes it, as the first write would, which is
    /// why it takes `&mut self`.
    ///
    /// # Panics
    /// If that hmap cannot be allocated.
    ///
    /// ```
    /// let mut m: gomap::GoMap<u64, u64> = (0..20).map(|i| (i, i)).collect();
    /// let h = m.raw();
    /// // SAFETY: `h` is a live map of type `map_type`, not written during the call.
    /// let h = unsafe { gomap::inspect::header(m.map_type(), h) };
    /// assert_eq!((h.count, h.b), (20, 2));
    /// ```
    pub fn raw(&mut self) -> NonNull<HMap> {
        oom(self.live())
    }

    /// The map's hmap, if it has one (every map after its first write, and
    /// one made with more than 8 entries' capacity): [`Self::raw`] for a
    /// shared borrow. Writing through it is not allowed.
    ///
    /// ```
    /// let mut m = gomap::GoMap::<u64, u64>::new();
    /// assert!(m.hmap().is_none());
    /// m.insert(1, 1);
    /// assert!(m.hmap().is_some());
    /// ```
    pub fn hmap(&self) -> Option<NonNull<HMap>> {
        NonNull::new(self.hp())
    }

    /// The header fields of the map's hmap ([`crate::inspect::header`]);
    /// for a map without one yet, those of the empty map its first write
    /// will make (B = 0, no buckets, the seed drawn at `make`).
    ///
    /// ```
    /// let mut m = gomap::GoMap::<u64, u64>::new();
    /// let seed = m.header().hash0;
    /// m.insert(1, 1);
    /// assert_eq!((m.header().count, m.header().hash0), (1, seed));
    /// ```
    pub fn header(&self) -> crate::inspect::Header {
        match self.hmap() {
            // SAFETY: `h` is a live map of type `t` (the invariant), not
            // written while `self` is borrowed.
            Some(h) => unsafe { crate::inspect::header(self.t(), h) },
            None => crate::inspect::Header {
                count: 0,
                flags: 0,
                b: 0,
                noverflow: 0,
                hash0: self.seed,
                nevacuate: 0,
                clear_seq: 0,
                growing: false,
                next_overflow: None,
                array_buckets: 0,
            },
        }
    }

    /// `len(m)`: the number of entries, O(1). NaN keys count once per
    /// insert (each `m[NaN] = v` adds an entry).
    ///
    /// ```
    /// let mut m = gomap::GoMap::<f64, u8>::new();
    /// m.insert(1.0, 1);
    /// m.insert(f64::NAN, 2); // m[math.NaN()] = 2
    /// m.insert(f64::NAN, 3); // a second entry: NaN != NaN
    /// assert_eq!(m.len(), 3); // len(m)
    /// ```
    pub fn len(&self) -> usize {
        // SAFETY: `h` is null or a live map (the invariant), not written
        // while `self` is borrowed.
        unsafe { self.hp().as_ref() }.map_or(0, HMap::len)
    }

    /// What the map holds in memory ([`crate::visit::MapStats`]): bucket
    /// arrays, overflow buckets, out-of-line storage, retired blocks, live
    /// iterators. Walks the map: O(buckets + entries), for watching, not
    /// for hot paths.
    ///
    /// ```
    /// let m: gomap::GoMap<u64, u64> = (0..100).map(|i| (i, i)).collect();
    /// let s = m.stats();
    /// assert_eq!(s.count, 100);
    /// assert!(s.b >= 4 && s.bucket_array_bytes >= (1 << s.b) * m.map_type().bucketsize());
    /// assert!(s.total_bytes >= s.bucket_array_bytes);
    /// ```
    pub fn stats(&self) -> crate::visit::MapStats {
        // SAFETY: stats's point: `h` is null or a live map of type `t` (the
        // invariant), not written while `self` is borrowed.
        unsafe { crate::visit::stats(self.t(), self.hp()) }
    }

    /// Reports whether the map is empty (`len(m) == 0`).
    ///
    /// ```
    /// let mut m = gomap::GoMap::<u64, u64>::new();
    /// assert!(m.is_empty());
    /// m.insert(1, 1);
    /// assert!(!m.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `v, ok := m[k]`. `k` is a `&K` or a borrowed form of it
    /// ([`GoQuery`]: `&str` for string keys).
    ///
    /// ```
    /// let mut m = gomap::GoMap::<String, u8>::new();
    /// m.insert("a".to_string(), 1);
    /// assert_eq!(m.get("a"), Some(&1));
    /// assert_eq!(m.get(&"b".to_string()), None);
    /// ```
    #[inline]
    pub fn get<Q: ?Sized + GoQuery<K>>(&self, k: &Q) -> Option<&V> {
        let (e, ok) = k.access2(self);
        // SAFETY: a found elem is a live, aligned `V` of the map (the
        // invariant), not written while `self` is borrowed.
        ok.then(|| unsafe { &*e.cast::<V>() })
    }

    /// Mutable access to the value for `k` (a `&K` or a borrowed form of
    /// it, see [`GoQuery`]).
    ///
    /// ```
    /// let mut m = gomap::GoMap::<gomap::GoStr, u8>::new();
    /// m.insert("a".into(), 1);
    /// *m.get_mut("a").unwrap() += 1;
    /// assert_eq!(m["a"], 2);
    /// ```
    #[inline]
    pub fn get_mut<Q: ?Sized + GoQuery<K>>(&mut self, k: &Q) -> Option<&mut V> {
        let (e, ok) = k.access2(self);
        // SAFETY: a found elem is a live, aligned `V` of the map (the
        // invariant); `&mut self` makes the access exclusive for the borrow.
        ok.then(|| unsafe { &mut *e.cast_mut().cast::<V>() })
    }

    /// Reports whether `k` (a `&K` or a borrowed form of it, see
    /// [`GoQuery`]) is present.
    ///
    /// ```
    /// let m: gomap::GoMap<u64, ()> = [(1, ())].into();
    /// assert!(m.contains_key(&1) && !m.contains_key(&2));
    /// ```
    #[inline]
    pub fn contains_key<Q: ?Sized + GoQuery<K>>(&self, k: &Q) -> bool {
        self.get(k).is_some()
    }

    /// `m[k] = v` (Go's `mapassign`); returns the previous value. The map
    /// may grow (amortised O(1); Go's incremental evacuation). An existing
    /// entry keeps its stored key and `k` is dropped, except for key types
    /// whose equal keys can differ (floats: +0 and -0), where Go overwrites
    /// the stored key. A NaN key never matches: each insert adds an entry.
    ///
    /// # Panics
    /// If the map cannot grow (allocation failure); see [`Self::try_insert`].
    ///
    /// ```
    /// let mut m = gomap::GoMap::<f64, &str>::new();
    /// assert_eq!(m.insert(0.0, "a"), None); // m[0.0] = "a"
    /// assert_eq!(m.insert(-0.0, "b"), Some("a")); // m[-0.0] = "b": same key
    /// let (k, v) = m.get_key_value(&0.0).unwrap();
    /// assert!(k.is_sign_negative() && *v == "b"); // the key was updated too
    /// assert_eq!(m.len(), 1);
    /// ```
    pub fn insert(&mut self, k: K, v: V) -> Option<V> {
        let k = core::mem::ManuallyDrop::new(k);
        // SAFETY: 1. `k` is a `K` on our stack, outside the map; 2. it is in
        // a `ManuallyDrop`: dropped below only when the map did not keep it.
        let slot = unsafe { self.assign((&raw const *k).cast()) };
        if !slot.inserted && !self.t().need_key_update() {
            // The map kept its own key: ours is still ours to drop.
            drop(core::mem::ManuallyDrop::into_inner(k));
        }
        let e = slot.elem.as_ptr().cast::<V>();
        if slot.inserted {
            // SAFETY: a new entry's elem slot: valid for writes of one
            // aligned `V`, holding none.
            unsafe { e.write(v) };
            None
        } else {
            // SAFETY: an existing entry's elem slot holds a live, aligned
            // `V` (the invariant); `&mut self` is exclusive.
            Some(unsafe { e.replace(v) })
        }
    }

    /// [`Self::insert`] that reports an allocation failure instead of
    /// panicking: `Err` gives the key and value back, the map unchanged.
    ///
    /// ```
    /// let mut m = gomap::GoMap::<u64, &str>::new();
    /// assert_eq!(m.try_insert(1, "a").ok(), Some(None));
    /// assert_eq!(m.try_insert(1, "b").ok(), Some(Some("a")));
    /// ```
    #[allow(clippy::type_complexity)]
    pub fn try_insert(&mut self, k: K, v: V) -> Result<Option<V>, (crate::fatal::MapError, K, V)> {
        let k = core::mem::ManuallyDrop::new(k);
        // SAFETY: 1. `k` is a `K` on our stack, outside the map; 2. it is in
        // a `ManuallyDrop`: taken back on failure, dropped below only when
        // the map did not keep it.
        let slot = match unsafe { self.try_assign((&raw const *k).cast()) } {
            Ok(slot) => slot,
            Err(e) => return Err((e, core::mem::ManuallyDrop::into_inner(k), v)),
        };
        if !slot.inserted && !self.t().need_key_update() {
            drop(core::mem::ManuallyDrop::into_inner(k));
        }
        let e = slot.elem.as_ptr().cast::<V>();
        if slot.inserted {
            // SAFETY: a new entry's elem slot: valid for writes of one
            // aligned `V`, holding none.
            unsafe { e.write(v) };
            Ok(None)
        } else {
            // SAFETY: an existing entry's elem slot holds a live, aligned
            // `V` (the invariant); `&mut self` is exclusive.
            Ok(Some(unsafe { e.replace(v) }))
        }
    }

    /// The stored key and its value (Go's `mapaccessK`): the key the map
    /// holds may differ from `k` in ways equality ignores (`-0.0` vs `0.0`).
    ///
    /// ```
    /// let mut m = gomap::GoMap::<f64, u8>::new();
    /// m.insert(0.0, 1);
    /// let (k, v) = m.get_key_value(&-0.0).unwrap();
    /// assert!(k.is_sign_positive() && *v == 1);
    /// ```
    pub fn get_key_value<Q: ?Sized + GoQuery<K>>(&self, k: &Q) -> Option<(&K, &V)> {
        let (kp, ep) = k.access_k(self);
        if kp.is_null() {
            return None;
        }
        // SAFETY: a found key is a live, aligned `K` of the map, valid
        // while `self` is borrowed (no write runs).
        let k = unsafe { &*kp.cast::<K>() };
        // SAFETY: likewise, a found elem is the entry's live, aligned `V`.
        let v = unsafe { &*ep.cast::<V>() };
        Some((k, v))
    }

    /// How many entries the map holds before its bucket array doubles
    /// (Go's load factor: 8 for one bucket, 6.5 per bucket beyond).
    ///
    /// ```
    /// assert_eq!(gomap::GoMap::<u64, u64>::new().capacity(), 8);
    /// assert_eq!(gomap::GoMap::<u64, u64>::with_capacity(100).capacity(), 104);
    /// ```
    pub fn capacity(&self) -> usize {
        // SAFETY: `h` is null or a live map (the invariant), not written
        // while `self` is borrowed.
        let b = unsafe { self.hp().as_ref() }.map_or(0, |h| h.b);
        if b == 0 { 8 } else { 13 << (b - 1) }
    }

    /// Mutable references to every value, in Go's order.
    ///
    /// ```
    /// let mut m: gomap::GoMap<u64, u64> = [(1, 10), (2, 20)].into();
    /// m.values_mut().for_each(|v| *v += 1);
    /// assert_eq!((m[&1], m[&2]), (11, 21));
    /// ```
    pub fn values_mut(&mut self) -> impl Iterator<Item = &mut V> {
        self.iter_mut().map(|(_, v)| v)
    }

    /// Every entry, the value mutable, in Go's order.
    ///
    /// ```
    /// let mut m: gomap::GoMap<u64, u64> = [(1, 10), (2, 20)].into();
    /// for (k, v) in m.iter_mut() {
    ///     *v += *k;
    /// }
    /// assert_eq!((m[&1], m[&2]), (11, 22));
    /// ```
    pub fn iter_mut(&mut self) -> IterMut<'_, K, V> {
        let mut it = HIter::new();
        // SAFETY: 1. `h` is null or a live map of type `t` (the invariant); 2.
        // `it` is fresh; 3. the iteration ends in `IterMut`'s drop, which the
        // borrow of `self` (holding the map and `t`) outlives; 4. that borrow,
        // held by `IterMut`, lets no write run until then (the items change
        // elems in place, which is no write to the map).
        unsafe { map::mapiterinit_borrowed(self.t(), self.hp(), &mut it) };
        IterMut { it, t: self.t(), _marker: PhantomData }
    }

    /// Keeps the entries for which `f` returns true, deleting the others
    /// during one iteration (Go: `for k, v := range m { if !f(k, v) {
    /// delete(m, k) } }`, which Go allows).
    ///
    /// ```
    /// let mut m: gomap::GoMap<u64, u64> = (0..10).map(|i| (i, i)).collect();
    /// m.retain(|k, _| k % 2 == 0);
    /// assert_eq!(m.len(), 5);
    /// ```
    pub fn retain(&mut self, mut f: impl FnMut(&K, &mut V) -> bool) {
        let mut it = HIter::new();
        // SAFETY: 1. `h` is null or a live map of type `t` (the invariant); 2.
        // `it` is fresh; 3. the guard below ends the iteration (also on unwind)
        // while `retain` still borrows the map and its type.
        unsafe { map::mapiterinit(self.t(), self.hp(), &mut it) };
        let mut it = guard(it, |it| {
            // SAFETY: if registered, the iterator's map and type are alive:
            // `retain` borrows the map mutably until the guard drops.
            unsafe { map::mapiterend(it) }
        });
        while !it.key.is_null() {
            let keep = {
                // SAFETY: a non-null `it.key` is an aligned `K` of the map (a
                // live entry's key, or a byte copy of it in an old bucket),
                // only read, and no write runs while `f` holds it.
                let k = unsafe { &*it.key.cast::<K>() };
                // SAFETY: `it.elem` is that entry's live, aligned `V`; no
                // other reference to it exists while `f` runs.
                let v = unsafe { &mut *it.elem.cast::<V>() };
                f(k, v)
            };
            if !keep {
                // The delete needs a key outside the map: a bitwise copy,
                // never dropped (the map drops its own).
                let mut copy = core::mem::MaybeUninit::<K>::uninit();
                // SAFETY: `it.key` is a readable `K`; `copy` has room for one.
                unsafe { ptr::copy_nonoverlapping(it.key.cast::<K>(), copy.as_mut_ptr(), 1) };
                // SAFETY: delete_into's points: 1. `copy` holds the entry's
                // key bytes, outside the map; 2. a null `out` drops the elem
                // in the map.
                unsafe { self.delete_into(copy.as_ptr().cast(), ptr::null_mut()) };
            }
            // SAFETY: as `mapiternext`: `it` was started by `mapiterinit`,
            // and its map and type are alive (the invariant, `&mut self`);
            // `self.t()` is the type of the iterator's map.
            unsafe { map::mapiternext_inline(self.t(), &mut it) };
        }
    }

    /// `delete(m, k)`; returns the removed value. `k` is a `&K` or a
    /// borrowed form of it ([`GoQuery`]).
    ///
    /// ```
    /// let mut m = gomap::GoMap::<String, u8>::new();
    /// m.insert("a".to_string(), 1);
    /// assert_eq!(m.remove("a"), Some(1));
    /// assert_eq!(m.remove("a"), None);
    /// ```
    #[inline]
    pub fn remove<Q: ?Sized + GoQuery<K>>(&mut self, k: &Q) -> Option<V> {
        let mut v = core::mem::MaybeUninit::<V>::uninit();
        // SAFETY: `v` is a local with room for one `V`, outside the map; the
        // delete moves the removed elem into it (not dropping it).
        let found = unsafe { k.delete_into(self, v.as_mut_ptr().cast()) };
        // SAFETY: a found entry's elem was moved into `v`: initialised.
        found.then(|| unsafe { v.assume_init() })
    }

    /// [`Self::remove`] that also gives back the key the map stored (which
    /// may differ from `k` in ways equality ignores: `-0.0` vs `0.0`).
    ///
    /// ```
    /// let mut m = gomap::GoMap::<String, u8>::new();
    /// m.insert("a".to_string(), 1);
    /// assert_eq!(m.remove_entry("a"), Some(("a".to_string(), 1)));
    /// assert!(m.is_empty());
    /// ```
    pub fn remove_entry<Q: ?Sized + GoQuery<K>>(&mut self, k: &Q) -> Option<(K, V)> {
        let (kp, _) = k.access_k(self);
        if kp.is_null() {
            return None;
        }
        // SAFETY: `kp` is a live key of the map, just found, and nothing
        // wrote the map since.
        Some(unsafe { self.take_entry(kp) })
    }

    /// [`Self::STATIC_T`] without a key drop hook: deletes with it move the
    /// stored key out instead of dropping it (its out-of-line storage, if
    /// any, is still freed).
    const STATIC_T_KEEP_KEY: Option<&'static MapType> = match K::SPEC {
        Some(spec) => Some(&MapType::from_spec(spec, type_info::<V>(), None, drop_hook::<V>(), None, None)),
        None => None,
    };

    /// Removes the entry whose stored key is at `kp`, moving its key and
    /// value out: a bitwise copy of the key becomes the caller's, and the
    /// delete runs with a descriptor that does not drop the key.
    ///
    /// # Panics
    /// If the key is not found by its own value: a key that never equals
    /// itself (NaN), which Go cannot delete either. The map is then
    /// unchanged and nothing is dropped twice.
    ///
    /// # Safety
    /// * `kp` is the stored key of a live entry of the map, and the map was
    ///   not written since it was found.
    unsafe fn take_entry(&mut self, kp: *const u8) -> (K, V) {
        // A bitwise copy of the stored key, in a `MaybeUninit` until the
        // delete succeeds: the map owns the key until then, so a panic drops
        // nothing; and the copy is not a typed value while the delete reads
        // the stored key (a `Box` inside it would be retagged as unique and
        // then invalidated by those reads, under Stacked Borrows).
        let mut key = core::mem::MaybeUninit::<K>::uninit();
        // SAFETY: `kp` is a live, aligned `K` of the map (the caller's
        // point), readable; `key` has room for one, not overlapping.
        unsafe { ptr::copy_nonoverlapping(kp.cast::<K>(), key.as_mut_ptr(), 1) };
        let mut v = core::mem::MaybeUninit::<V>::uninit();
        let boxed;
        let t = match Self::STATIC_T_KEEP_KEY {
            Some(t) => t,
            None if self.t().key_drop.is_none() => self.t(),
            None => {
                boxed = self.t().duplicate().with_hooks(None, self.t().elem_drop, None, None);
                &boxed
            }
        };
        // SAFETY: 1. `h` is this map and `t` its descriptor but for the key
        // drop hook (`STATIC_T` with none, or a duplicate of `self.t()`
        // with none), `&mut self` keeps every other access out; 2. `key`
        // holds the stored key's bytes, a readable key of `t` on the stack;
        // 3. `v` has room for one `V`, outside the map.
        let found = unsafe { Self::delete_raw(t, self.hp(), key.as_ptr().cast(), v.as_mut_ptr().cast()) };
        assert!(found, "gomap: cannot remove an entry whose key never equals itself (NaN); only clear can");
        // SAFETY: the delete moved the elem into `v`.
        let v = unsafe { v.assume_init() };
        // SAFETY: `key` holds the bytes of the stored key, which the delete
        // took out of the map without dropping it: it is ours now.
        (unsafe { key.assume_init() }, v)
    }

    /// The entry for `k`, for in-place manipulation (std's `HashMap::entry`).
    /// An occupied entry's key is the stored key (`k` is dropped); a vacant
    /// one inserts `k` with Go's `mapassign` (the map may grow). A key that
    /// never equals itself (NaN) is always vacant, and inserting it twice
    /// makes two entries, as Go's `m[NaN] = v` does.
    ///
    /// ```
    /// let mut counts = gomap::GoMap::<String, u32>::new();
    /// for w in ["a", "b", "a"] {
    ///     *counts.entry(w.to_string()).or_insert(0) += 1;
    /// }
    /// assert_eq!((counts["a"], counts["b"]), (2, 1));
    /// ```
    pub fn entry(&mut self, k: K) -> Entry<'_, K, V> {
        let (kp, ep) = query::Probe::<K>::access_k(&k, self);
        if kp.is_null() {
            Entry::Vacant(VacantEntry { m: self, key: k })
        } else {
            drop(k);
            Entry::Occupied(OccupiedEntry { m: self, key: kp.cast(), elem: ep.cast(), own_key: None })
        }
    }

    /// The value for `k`, inserting `f()` first if `k` is absent (the name
    /// of hashbrown's `HashSet::get_or_insert_with`; std's
    /// `entry(k).or_insert_with(f)`).
    ///
    /// ```
    /// let mut m = gomap::GoMap::<u64, Vec<u8>>::new();
    /// m.get_or_insert_with(1, Vec::new).push(7);
    /// m.get_or_insert_with(1, Vec::new).push(8);
    /// assert_eq!(m[&1], [7, 8]);
    /// ```
    pub fn get_or_insert_with(&mut self, k: K, f: impl FnOnce() -> V) -> &mut V {
        self.entry(k).or_insert_with(f)
    }

    /// `clear(m)` (Go's `mapclear`): drops every entry, NaN keys included
    /// (the only way to remove those), O(buckets). Like Go it keeps the
    /// bucket array for reuse, unless a [`Self::set_shrink_policy`] says
    /// otherwise.
    ///
    /// ```
    /// let mut m: gomap::GoMap<u64, u64> = (0..100).map(|i| (i, i)).collect();
    /// m.insert(u64::MAX, 0);
    /// let b = m.stats().b;
    /// m.clear(); // clear(m)
    /// assert!(m.is_empty());
    /// assert_eq!(m.stats().b, b); // the buckets stay
    /// ```
    pub fn clear(&mut self) {
        // SAFETY: `h` is null or a live map of type `t` (the invariant).
        unsafe { map::mapclear(self.t(), self.hp()) }
    }

    /// Iterates over `(&K, &V)` like Go's `for k, v := range m`, in Go's
    /// order: a fresh random start bucket and offset each time, so never
    /// rely on it. The map cannot change while the iterator lives (it
    /// borrows it); see [`Self::range`] for a loop that may change it.
    ///
    /// ```
    /// let m: gomap::GoMap<u64, u64> = [(1, 10), (2, 20), (3, 30)].into();
    /// let mut seen: Vec<_> = m.iter().map(|(k, v)| (*k, *v)).collect(); // for k, v := range m
    /// seen.sort(); // the order is random
    /// assert_eq!(seen, [(1, 10), (2, 20), (3, 30)]);
    /// ```
    pub fn iter(&self) -> Iter<'_, K, V> {
        let mut it = HIter::new();
        // SAFETY: 1. `h` is null or a live map of type `t` (the invariant); 2.
        // `it` is fresh; 3. the iteration ends in `Iter`'s drop, which the
        // borrow of `self` (holding the map and `t`) outlives; 4. that shared
        // borrow, held by `Iter`, lets no write run until then.
        unsafe { map::mapiterinit_borrowed(self.t(), self.hp(), &mut it) };
        Iter { it, t: self.t(), _marker: PhantomData }
    }

    /// Keys in Go's iteration order (random, as [`Self::iter`]): `for k :=
    /// range m`. Go 1.23's `maps.Keys`.
    ///
    /// ```
    /// let m: gomap::GoMap<u64, &str> = [(1, "a"), (2, "b")].into();
    /// let mut keys: Vec<u64> = m.keys().copied().collect(); // for k := range m
    /// keys.sort();
    /// assert_eq!(keys, [1, 2]);
    /// ```
    pub fn keys(&self) -> impl Iterator<Item = &K> {
        self.iter().map(|(k, _)| k)
    }

    /// Values in Go's iteration order (random, as [`Self::iter`]): `for _, v
    /// := range m`. Go 1.23's `maps.Values`.
    ///
    /// ```
    /// let m: gomap::GoMap<u64, u64> = [(1, 10), (2, 20)].into();
    /// assert_eq!(m.values().sum::<u64>(), 30); // for _, v := range m { sum += v }
    /// ```
    pub fn values(&self) -> impl Iterator<Item = &V> {
        self.iter().map(|(_, v)| v)
    }

    /// Go's `for k, v := range m { ... }` with a body that may change the
    /// map: entries inserted during the loop may or may not be produced,
    /// entries deleted before being reached are not, every other entry is
    /// produced exactly once, with its current value. The body gets copies of
    /// the key and value (clones), and a [`RangeMap`] to read and write the
    /// map through; `ControlFlow::Break(())` is Go's `break`. A panic in the
    /// body ends the iteration cleanly.
    ///
    /// ```
    /// use core::ops::ControlFlow;
    /// let mut m: gomap::GoMap<u64, u64> = (0..10).map(|i| (i, i)).collect();
    /// m.range(|m, k, _| {
    ///     if k % 2 == 1 {
    ///         m.remove(&k); // delete(m, k): allowed during range
    ///     }
    ///     ControlFlow::Continue(())
    /// });
    /// assert_eq!(m.len(), 5);
    /// let mut n = 0;
    /// m.range(|_, _, _| {
    ///     n += 1;
    ///     if n == 2 { ControlFlow::Break(()) } else { ControlFlow::Continue(()) } // break
    /// });
    /// assert_eq!(n, 2);
    /// ```
    pub fn range(&mut self, mut body: impl FnMut(&mut RangeMap<'_, K, V>, K, V) -> ControlFlow<()>)
    where
        K: Clone,
        V: Clone,
    {
        let mut it = HIter::new();
        // SAFETY: 1. `h` is null or a live map of type `t` (the invariant); 2.
        // `it` is fresh; 3. the guard below ends the iteration (also on unwind)
        // while `range` still borrows the map and its type.
        unsafe { map::mapiterinit(self.t(), self.hp(), &mut it) };
        let mut it = guard(it, |it| {
            // SAFETY: if registered, the iterator's map and type are alive:
            // `range` borrows the map mutably until the guard drops.
            unsafe { map::mapiterend(it) }
        });
        loop {
            if it.key.is_null() {
                break;
            }
            // SAFETY: a non-null `it.key` is an aligned `K` of the map (a
            // live entry's key, or a byte copy of it in an old bucket), only
            // read; the body cannot write the map before the clone is done.
            let k = unsafe { &*it.key.cast::<K>() }.clone();
            // SAFETY: likewise, `it.elem` is the entry's live, aligned `V`.
            let v = unsafe { &*it.elem.cast::<V>() }.clone();
            let mut rm = RangeMap { m: self };
            if body(&mut rm, k, v).is_break() {
                break;
            }
            // SAFETY: as `mapiternext`: `it` was started by `mapiterinit`,
            // and its map and type are alive (the invariant, `&mut self`);
            // `self.t()` is the type of the iterator's map.
            unsafe { map::mapiternext_inline(self.t(), &mut it) };
        }
    }

    /// Gives memory back (beyond Go: Go's maps never shrink): rebuilds the
    /// map at the smallest size that holds its entries, freeing the old
    /// bucket array and every overflow bucket. Entries move; no value is
    /// dropped, cloned or rehashed. If the new array cannot be allocated the
    /// map stays as it was. O(entries + buckets), done at once; peak memory
    /// is the old and new arrays together. An empty map loses its bucket
    /// array, as a fresh `make(map[K]V)`. Go has no equivalent; there one
    /// copies the survivors into a new map. See [`crate::shrink`].
    ///
    /// ```
    /// let mut m: gomap::GoMap<u64, u64> = (0..1000).map(|i| (i, i)).collect();
    /// m.retain(|k, _| *k < 10);
    /// assert_eq!(m.stats().b, 8); // Go keeps 256 buckets for 10 entries
    /// m.shrink_to_fit();
    /// assert_eq!(m.stats().b, 1); // 2 buckets hold 13
    /// assert_eq!(m.len(), 10);
    /// assert_eq!(m[&9], 9);
    /// ```
    pub fn shrink_to_fit(&mut self) {
        self.shrink_to(0);
    }

    /// As [`Self::shrink_to_fit`], keeping room for at least `min_capacity`
    /// entries (the size `with_capacity(min_capacity)` would have). Never
    /// makes the bucket array larger than it is.
    ///
    /// ```
    /// let mut m: gomap::GoMap<u64, u64> = (0..1000).map(|i| (i, i)).collect();
    /// m.clear(); // clear(m) keeps 256 buckets
    /// m.shrink_to(100);
    /// assert_eq!(m.stats().b, 4); // as make(map[uint64]uint64, 100)
    /// assert!(m.capacity() >= 100);
    /// m.shrink_to(10_000); // never grows
    /// assert_eq!(m.stats().b, 4);
    /// ```
    pub fn shrink_to(&mut self, min_capacity: usize) {
        // SAFETY: `h` is null or a live map of type `t` (the invariant), and
        // `&mut self` keeps every other access out during the call. `&mut self`
        // also excludes live iterators (they borrow the map), so the only
        // failure is an allocation failure, which leaves the map unchanged.
        let _ = unsafe { crate::shrink::mapshrink(self.t(), self.hp(), min_capacity) };
    }

    /// Sets when the map shrinks by itself (after `clear`, or after deletes
    /// leave it mostly empty); `None`, the default, keeps Go's never-shrink
    /// behaviour. A policy shrink costs as [`Self::shrink_to_fit`]; one that
    /// fails or is refused (inside [`Self::range`]) is skipped. See
    /// [`crate::shrink::ShrinkPolicy`].
    ///
    /// ```
    /// use gomap::shrink::ShrinkPolicy;
    /// let mut m: gomap::GoMap<u64, u64> = (0..1000).map(|i| (i, i)).collect();
    /// m.set_shrink_policy(Some(ShrinkPolicy { after_clear: true, ..Default::default() }));
    /// m.clear();
    /// assert_eq!((m.stats().b, m.stats().bucket_array_bytes), (0, 0)); // as a fresh map
    /// ```
    ///
    /// # Panics
    /// If the map has had no write yet and its hmap, which holds the
    /// policy, cannot be allocated.
    pub fn set_shrink_policy(&mut self, policy: Option<crate::shrink::ShrinkPolicy>) {
        let h = oom(self.live());
        // SAFETY: `h` is a live map (the invariant), accessed by no other
        // thread (`&mut self`).
        unsafe { crate::shrink::set_shrink_policy(h.as_ptr(), policy) }
    }

    /// The map's shrink policy: `None` (Go's never-shrink) unless set with
    /// [`Self::set_shrink_policy`].
    ///
    /// ```
    /// use gomap::shrink::ShrinkPolicy;
    /// let mut m = gomap::GoMap::<u64, u64>::new();
    /// assert_eq!(m.shrink_policy(), None);
    /// let p = ShrinkPolicy { below_fraction: Some(10), ..Default::default() };
    /// m.set_shrink_policy(Some(p));
    /// assert_eq!(m.shrink_policy(), Some(p));
    /// ```
    pub fn shrink_policy(&self) -> Option<crate::shrink::ShrinkPolicy> {
        // SAFETY: `h` is null or a live map (the invariant), not written while
        // `self` is borrowed.
        unsafe { crate::shrink::shrink_policy(self.hp()) }
    }
}

/// A view into one entry of a [`GoMap`], occupied or vacant
/// ([`GoMap::entry`]).
pub enum Entry<'a, K: GoKey, V> {
    /// The key is present.
    Occupied(OccupiedEntry<'a, K, V>),
    /// The key is absent.
    Vacant(VacantEntry<'a, K, V>),
}

/// A present entry ([`Entry::Occupied`]).
pub struct OccupiedEntry<'a, K: GoKey, V> {
    m: &'a mut GoMap<K, V>,
    /// The stored key: a live, aligned `K` of `m`, valid while `m` is
    /// borrowed through this entry; or, when `own_key` is set, unused.
    key: *mut K,
    /// The entry's live, aligned `V` in `m`.
    elem: *mut V,
    /// A bitwise copy of the stored key, for an entry made by
    /// [`VacantEntry::insert_entry`] whose key cannot be found again (it
    /// never equals itself); never dropped (the map owns the key), and not
    /// a typed value (see [`GoMap::take_entry`]).
    own_key: Option<core::mem::MaybeUninit<K>>,
}

/// An absent entry ([`Entry::Vacant`]), holding the key to insert.
pub struct VacantEntry<'a, K: GoKey, V> {
    m: &'a mut GoMap<K, V>,
    key: K,
}

impl<'a, K: GoKey, V> Entry<'a, K, V> {
    /// The value, inserting `default` if vacant.
    ///
    /// ```
    /// let mut m = gomap::GoMap::<u64, u32>::new();
    /// *m.entry(1).or_insert(10) += 1;
    /// assert_eq!(*m.entry(1).or_insert(10), 11);
    /// ```
    pub fn or_insert(self, default: V) -> &'a mut V {
        match self {
            Entry::Occupied(e) => e.into_mut(),
            Entry::Vacant(e) => e.insert(default),
        }
    }

    /// The value, inserting `f()` if vacant (`f` runs only then).
    ///
    /// ```
    /// let mut m = gomap::GoMap::<u64, String>::new();
    /// m.entry(1).or_insert_with(|| "one".into());
    /// assert_eq!(m[&1], "one");
    /// ```
    pub fn or_insert_with(self, f: impl FnOnce() -> V) -> &'a mut V {
        match self {
            Entry::Occupied(e) => e.into_mut(),
            Entry::Vacant(e) => e.insert(f()),
        }
    }

    /// The value, inserting `f(&key)` if vacant.
    ///
    /// ```
    /// let mut m = gomap::GoMap::<u64, u64>::new();
    /// assert_eq!(*m.entry(3).or_insert_with_key(|k| k * 2), 6);
    /// ```
    pub fn or_insert_with_key(self, f: impl FnOnce(&K) -> V) -> &'a mut V {
        match self {
            Entry::Occupied(e) => e.into_mut(),
            Entry::Vacant(e) => {
                let v = f(&e.key);
                e.insert(v)
            }
        }
    }

    /// The value, inserting `V::default()` if vacant.
    ///
    /// ```
    /// let mut m = gomap::GoMap::<u64, Vec<u8>>::new();
    /// m.entry(1).or_default().push(1);
    /// assert_eq!(m[&1], [1]);
    /// ```
    pub fn or_default(self) -> &'a mut V
    where
        V: Default,
    {
        self.or_insert_with(V::default)
    }

    /// Runs `f` on the value if occupied; the entry comes back either way.
    ///
    /// ```
    /// let mut m = gomap::GoMap::<u64, u32>::new();
    /// m.entry(1).and_modify(|v| *v += 1).or_insert(0);
    /// m.entry(1).and_modify(|v| *v += 1).or_insert(0);
    /// assert_eq!(m[&1], 1);
    /// ```
    pub fn and_modify(self, f: impl FnOnce(&mut V)) -> Self {
        match self {
            Entry::Occupied(mut e) => {
                f(e.get_mut());
                Entry::Occupied(e)
            }
            Entry::Vacant(e) => Entry::Vacant(e),
        }
    }

    /// The key: the stored one if occupied, the one given if vacant.
    ///
    /// ```
    /// let mut m = gomap::GoMap::<f64, u8>::new();
    /// m.insert(0.0, 1);
    /// assert!(m.entry(-0.0).key().is_sign_positive()); // the stored +0
    /// ```
    pub fn key(&self) -> &K {
        match self {
            Entry::Occupied(e) => e.key(),
            Entry::Vacant(e) => e.key(),
        }
    }

    /// Sets the value (inserting if vacant) and returns the occupied entry.
    /// An occupied entry keeps its stored key.
    ///
    /// ```
    /// let mut m = gomap::GoMap::<u64, u32>::new();
    /// let e = m.entry(1).insert_entry(5);
    /// assert_eq!((*e.key(), *e.get()), (1, 5));
    /// ```
    pub fn insert_entry(self, v: V) -> OccupiedEntry<'a, K, V> {
        match self {
            Entry::Occupied(mut e) => {
                e.insert(v);
                e
            }
            Entry::Vacant(e) => e.insert_entry(v),
        }
    }
}

impl<'a, K: GoKey, V> OccupiedEntry<'a, K, V> {
    /// The stored key.
    ///
    /// ```
    /// let mut m = gomap::GoMap::<u64, u8>::new();
    /// m.insert(1, 0);
    /// if let gomap::gomap::Entry::Occupied(e) = m.entry(1) {
    ///     assert_eq!(*e.key(), 1);
    /// }
    /// ```
    pub fn key(&self) -> &K {
        let kp = match &self.own_key {
            Some(k) => k.as_ptr(),
            None => self.key,
        };
        // SAFETY: `kp` is the entry's live, aligned `K` in the map, or a
        // bitwise copy of it, initialised; the entry borrows the map, so the
        // key stays live and unwritten while the reference lives.
        unsafe { &*kp }
    }

    /// The value.
    ///
    /// ```
    /// let mut m = gomap::GoMap::<u64, u8>::new();
    /// m.insert(1, 9);
    /// if let gomap::gomap::Entry::Occupied(e) = m.entry(1) {
    ///     assert_eq!(*e.get(), 9);
    /// }
    /// ```
    pub fn get(&self) -> &V {
        // SAFETY: `elem` is the entry's live, aligned `V`; the entry borrows
        // the map mutably, so nothing else reaches it.
        unsafe { &*self.elem }
    }

    /// The value, mutable for the entry's borrow.
    ///
    /// ```
    /// let mut m = gomap::GoMap::<u64, u8>::new();
    /// m.insert(1, 9);
    /// if let gomap::gomap::Entry::Occupied(mut e) = m.entry(1) {
    ///     *e.get_mut() += 1;
    /// }
    /// assert_eq!(m[&1], 10);
    /// ```
    pub fn get_mut(&mut self) -> &mut V {
        // SAFETY: as `get`; `&mut self` makes the access exclusive.
        unsafe { &mut *self.elem }
    }

    /// The value, mutable for the map's borrow.
    ///
    /// ```
    /// let mut m = gomap::GoMap::<u64, u8>::new();
    /// m.insert(1, 9);
    /// if let gomap::gomap::Entry::Occupied(e) = m.entry(1) {
    ///     *e.into_mut() = 3;
    /// }
    /// assert_eq!(m[&1], 3);
    /// ```
    pub fn into_mut(self) -> &'a mut V {
        // SAFETY: `elem` is the entry's live, aligned `V`; the map is
        // borrowed mutably for 'a, and the entry, the only other way to it,
        // is consumed.
        unsafe { &mut *self.elem }
    }

    /// Replaces the value, returning the old one. The stored key stays
    /// (unlike [`GoMap::insert`], which, as Go's `m[k] = v`, also stores
    /// the new key for floats and strings).
    ///
    /// ```
    /// let mut m = gomap::GoMap::<u64, u8>::new();
    /// m.insert(1, 9);
    /// if let gomap::gomap::Entry::Occupied(mut e) = m.entry(1) {
    ///     assert_eq!(e.insert(4), 9);
    /// }
    /// assert_eq!(m[&1], 4);
    /// ```
    pub fn insert(&mut self, v: V) -> V {
        core::mem::replace(self.get_mut(), v)
    }

    /// Removes the entry, returning the value (Go's `delete`).
    ///
    /// # Panics
    /// If the key never equals itself (a NaN inserted by
    /// [`VacantEntry::insert_entry`]): Go cannot delete such a key.
    ///
    /// ```
    /// let mut m = gomap::GoMap::<u64, u8>::new();
    /// m.insert(1, 9);
    /// if let gomap::gomap::Entry::Occupied(e) = m.entry(1) {
    ///     assert_eq!(e.remove(), 9);
    /// }
    /// assert!(m.is_empty());
    /// ```
    pub fn remove(self) -> V {
        self.remove_entry().1
    }

    /// Removes the entry, returning the stored key and the value.
    ///
    /// # Panics
    /// As [`Self::remove`].
    ///
    /// ```
    /// let mut m = gomap::GoMap::<f64, u8>::new();
    /// m.insert(0.0, 9);
    /// if let gomap::gomap::Entry::Occupied(e) = m.entry(-0.0) {
    ///     let (k, v) = e.remove_entry();
    ///     assert!(k.is_sign_positive() && v == 9);
    /// }
    /// ```
    pub fn remove_entry(self) -> (K, V) {
        let kp: *const K = match &self.own_key {
            Some(k) => k.as_ptr(),
            None => self.key,
        };
        // SAFETY: `kp` is the stored key of the entry (or a bitwise copy of
        // it, whose lookup finds nothing and panics without a change), and
        // the map was not written since (the entry borrows it mutably).
        unsafe { self.m.take_entry(kp.cast()) }
    }
}

impl<'a, K: GoKey, V> VacantEntry<'a, K, V> {
    /// The key that would be inserted.
    ///
    /// ```
    /// let mut m = gomap::GoMap::<u64, u8>::new();
    /// assert_eq!(*m.entry(5).key(), 5);
    /// ```
    pub fn key(&self) -> &K {
        &self.key
    }

    /// Takes the key back, inserting nothing.
    ///
    /// ```
    /// let mut m = gomap::GoMap::<String, u8>::new();
    /// if let gomap::gomap::Entry::Vacant(e) = m.entry("k".to_string()) {
    ///     assert_eq!(e.into_key(), "k");
    /// }
    /// assert!(m.is_empty());
    /// ```
    pub fn into_key(self) -> K {
        self.key
    }

    /// Inserts the key with `v` (Go's `mapassign`: the map may grow) and
    /// returns the value, mutable for the map's borrow.
    ///
    /// ```
    /// let mut m = gomap::GoMap::<u64, u8>::new();
    /// if let gomap::gomap::Entry::Vacant(e) = m.entry(1) {
    ///     *e.insert(2) += 1;
    /// }
    /// assert_eq!(m[&1], 3);
    /// ```
    pub fn insert(self, v: V) -> &'a mut V {
        let (_, e) = self.insert_raw(v);
        // SAFETY: `e` is the new entry's live, aligned `V`; the map is
        // borrowed mutably for 'a.
        unsafe { &mut *e }
    }

    /// Inserts the key with `v` and returns the occupied entry.
    ///
    /// ```
    /// let mut m = gomap::GoMap::<u64, u8>::new();
    /// if let gomap::gomap::Entry::Vacant(e) = m.entry(1) {
    ///     assert_eq!(*e.insert_entry(2).key(), 1);
    /// }
    /// ```
    pub fn insert_entry(self, v: V) -> OccupiedEntry<'a, K, V> {
        // The stored key's bits are the inserted key's: keep a copy to find
        // it again (and to show, for a key that never equals itself).
        let mut copy = core::mem::MaybeUninit::<K>::uninit();
        // SAFETY: `self.key` is a readable `K`; `copy` has room for one.
        unsafe { ptr::copy_nonoverlapping(&raw const self.key, copy.as_mut_ptr(), 1) };
        let (m, elem) = self.insert_raw(v);
        // SAFETY: `copy` holds the bits of the key the map now owns: a
        // readable key of `t` (never dropped: a `MaybeUninit`).
        let (kp, _) = unsafe { map::mapaccess_k(m.t(), m.hp(), copy.as_ptr().cast()) };
        let own_key = if kp.is_null() { Some(copy) } else { None };
        OccupiedEntry { m, key: kp.cast(), elem, own_key }
    }

    /// `mapassign` of the key and a write of `v` into the new slot.
    fn insert_raw(self, v: V) -> (&'a mut GoMap<K, V>, *mut V) {
        let VacantEntry { m, key } = self;
        let key = core::mem::ManuallyDrop::new(key);
        // SAFETY: 1. `key` is a `K` on our stack, outside the map; 2. in a
        // `ManuallyDrop`: dropped below only when the map did not keep it.
        let slot = unsafe { m.assign((&raw const *key).cast()) };
        let e = slot.elem.as_ptr().cast::<V>();
        if slot.inserted {
            // SAFETY: a new entry's elem slot: valid for writes of one
            // aligned `V`, holding none.
            unsafe { e.write(v) };
        } else {
            // Not reached: the entry was absent and the map was not written
            // since. Kept as `insert` would do it.
            if !m.t().need_key_update() {
                drop(core::mem::ManuallyDrop::into_inner(key));
            }
            // SAFETY: an existing entry's elem slot holds a live, aligned
            // `V` (the invariant); `&mut` access is exclusive.
            drop(unsafe { e.replace(v) });
        }
        (m, e)
    }
}

impl<K: GoKey + fmt::Debug, V: fmt::Debug> fmt::Debug for Entry<'_, K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Entry::Occupied(e) => f.debug_tuple("Entry").field(e).finish(),
            Entry::Vacant(e) => f.debug_tuple("Entry").field(e).finish(),
        }
    }
}

impl<K: GoKey + fmt::Debug, V: fmt::Debug> fmt::Debug for OccupiedEntry<'_, K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OccupiedEntry").field("key", self.key()).field("value", self.get()).finish()
    }
}

impl<K: GoKey + fmt::Debug, V> fmt::Debug for VacantEntry<'_, K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("VacantEntry").field(self.key()).finish()
    }
}

/// The map as seen from inside [`GoMap::range`]: reads and writes, but it
/// cannot be replaced or dropped while the loop runs.
pub struct RangeMap<'a, K: GoKey, V> {
    m: &'a mut GoMap<K, V>,
}

impl<K: GoKey, V> RangeMap<'_, K, V> {
    /// `v, ok := m[k]` inside the loop: sees every write the body made so
    /// far. See [`GoMap::get`].
    ///
    /// ```
    /// # use core::ops::ControlFlow;
    /// let mut m: gomap::GoMap<u64, u64> = [(1, 10), (2, 20)].into();
    /// m.range(|m, k, v| {
    ///     assert_eq!(m.get(&k), Some(&v)); // m[k] while ranging
    ///     assert_eq!(m.get(&3), None);
    ///     ControlFlow::Continue(())
    /// });
    /// ```
    pub fn get<Q: ?Sized + GoQuery<K>>(&self, k: &Q) -> Option<&V> {
        self.m.get(k)
    }
    /// `m[k] = v` inside the loop; returns the previous value. An updated
    /// entry not reached yet is produced with its new value; a new entry may
    /// or may not be produced (Go's rule). See [`GoMap::insert`].
    ///
    /// ```
    /// # use core::ops::ControlFlow;
    /// let mut m: gomap::GoMap<u64, u64> = [(1, 10), (2, 20)].into();
    /// m.range(|m, k, v| {
    ///     if k < 100 {
    ///         m.insert(k + 100, v); // m[k+100] = v: may or may not be visited
    ///     }
    ///     ControlFlow::Continue(())
    /// });
    /// assert!(m.len() >= 4 && m[&101] == 10 && m[&102] == 20);
    /// ```
    pub fn insert(&mut self, k: K, v: V) -> Option<V> {
        self.m.insert(k, v)
    }
    /// `delete(m, k)` inside the loop; returns the removed value. An entry
    /// deleted before the loop reaches it is not produced. See
    /// [`GoMap::remove`].
    ///
    /// ```
    /// # use core::ops::ControlFlow;
    /// let mut m: gomap::GoMap<u64, u64> = (0..8).map(|i| (i, i)).collect();
    /// let mut seen = 0;
    /// m.range(|m, k, _| {
    ///     seen += 1;
    ///     m.remove(&(k ^ 1)); // delete(m, k^1): the partner is never produced
    ///     ControlFlow::Continue(())
    /// });
    /// assert_eq!((seen, m.len()), (4, 4));
    /// ```
    pub fn remove<Q: ?Sized + GoQuery<K>>(&mut self, k: &Q) -> Option<V> {
        self.m.remove(k)
    }
    /// `clear(m)` inside the loop: the loop produces nothing more that was
    /// in the map before (Go's `clearSeq`). See [`GoMap::clear`].
    ///
    /// ```
    /// # use core::ops::ControlFlow;
    /// let mut m: gomap::GoMap<u64, u64> = (0..8).map(|i| (i, i)).collect();
    /// let mut seen = 0;
    /// m.range(|m, _, _| {
    ///     seen += 1;
    ///     m.clear(); // clear(m) ends what the range produces
    ///     ControlFlow::Continue(())
    /// });
    /// assert_eq!((seen, m.len()), (1, 0));
    /// ```
    pub fn clear(&mut self) {
        self.m.clear()
    }
    /// `len(m)` inside the loop: counts the body's inserts and deletes so
    /// far. See [`GoMap::len`].
    ///
    /// ```
    /// # use core::ops::ControlFlow;
    /// let mut m: gomap::GoMap<u64, u64> = [(1, 1), (2, 2)].into();
    /// m.range(|m, k, _| {
    ///     let before = m.len();
    ///     m.remove(&k);
    ///     assert_eq!(m.len(), before - 1); // len(m)
    ///     ControlFlow::Continue(())
    /// });
    /// assert!(m.is_empty());
    /// ```
    pub fn len(&self) -> usize {
        self.m.len()
    }
    /// `len(m) == 0` inside the loop. See [`GoMap::is_empty`].
    ///
    /// ```
    /// # use core::ops::ControlFlow;
    /// let mut m: gomap::GoMap<u64, u64> = [(1, 1)].into();
    /// m.range(|m, k, _| {
    ///     assert!(!m.is_empty());
    ///     m.remove(&k);
    ///     assert!(m.is_empty());
    ///     ControlFlow::Continue(())
    /// });
    /// ```
    pub fn is_empty(&self) -> bool {
        self.m.is_empty()
    }
}

impl<K: GoKey, V> Drop for GoMap<K, V> {
    fn drop(&mut self) {
        // An iterator that was leaked (`mem::forget`) is still registered:
        // it is never used again, so its registration dies with the map.
        // SAFETY: mapfree_abandoning_iterators's points: 1. `h` is a live
        // map of type `t` (the invariant); 2. no one else uses it, and no
        // one uses `h` again; 3. no iterator of it is used again: live ones
        // borrow the map, so only leaked ones can remain.
        let r = unsafe { map::mapfree_abandoning_iterators(self.t(), self.hp()) };
        debug_assert!(r.is_ok());
        if self.owned_t {
            // SAFETY: boxed by `descriptor` for this map alone; the map is
            // gone, nothing refers to it any more.
            drop(unsafe { Box::from_raw(self.t.as_ptr()) });
        }
    }
}

impl<K: GoKey, V> Default for GoMap<K, V> {
    fn default() -> Self {
        Self::new()
    }
}

impl<K: GoKey + Clone, V: Clone> GoMap<K, V> {
    /// [`Self::STATIC_T`] plus clone hooks: what `clone` copies with.
    const STATIC_T_CLONE: Option<&'static MapType> = match K::SPEC {
        Some(spec) => Some(&MapType::from_spec(
            spec,
            type_info::<V>(),
            key_drop_hook::<K>(),
            drop_hook::<V>(),
            clone_hook::<K>(),
            clone_hook::<V>(),
        )),
        None => None,
    };
}

impl<K: GoKey + Clone, V: Clone> Clone for GoMap<K, V> {
    /// `maps.Clone(m)`: same seed and layout.
    fn clone(&self) -> Self {
        let boxed;
        let with_clone = match Self::STATIC_T_CLONE {
            Some(t) => t,
            None => {
                boxed = self.t().duplicate().with_hooks(
                    self.t().key_drop,
                    self.t().elem_drop,
                    clone_hook::<K>(),
                    clone_hook::<V>(),
                );
                &boxed
            }
        };
        let (t, owned_t) = Self::descriptor();
        // A boxed descriptor goes if the clone fails or a clone hook panics.
        let t = guard(t, |t| {
            if owned_t {
                // SAFETY: `descriptor` leaked this box just above; nothing
                // refers to it yet (the clone failed or unwound).
                drop(unsafe { Box::from_raw(t.as_ptr()) });
            }
        });
        let Some(src) = NonNull::new(self.hp()) else {
            // No hmap yet: Go's `mapclone2` of an empty map, which makes
            // the clone (drawing a seed), then gives it the source's seed;
            // the clone's hmap waits for its first write too.
            let _ = crate::rand::rand();
            let t = ScopeGuard::into_inner(t);
            return GoMap { t, owned_t, seed: self.seed, h: no_hmap(), _marker: PhantomData };
        };
        // SAFETY: `src` is a live map of type `with_clone` (the invariant:
        // `with_clone` is `t` plus clone hooks, same layout, hasher and
        // drop hooks), not written while `self` is borrowed.
        let mut h = oom(unsafe { map::mapclone2(with_clone, src.as_ptr()) });
        // SAFETY: the clone just made: live, and referenced only here.
        let hr = unsafe { h.as_mut() };
        hr.mark_exclusive_writes();
        let seed = hr.hash0;
        GoMap { t: ScopeGuard::into_inner(t), owned_t, seed, h, _marker: PhantomData }
    }
}

impl<K: GoKey + fmt::Debug, V: fmt::Debug> fmt::Debug for GoMap<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl<K: GoKey, V> Extend<(K, V)> for GoMap<K, V> {
    fn extend<I: IntoIterator<Item = (K, V)>>(&mut self, iter: I) {
        for (k, v) in iter {
            self.insert(k, v);
        }
    }
}

impl<K: GoKey, V> FromIterator<(K, V)> for GoMap<K, V> {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut m = GoMap::new();
        m.extend(iter);
        m
    }
}

/// `m[&k]`: the value for `k`.
///
/// # Panics
/// If `k` is not in the map (Go would return the zero value; Rust's maps
/// panic).
impl<K: GoKey, V, Q: ?Sized + GoQuery<K>> core::ops::Index<&Q> for GoMap<K, V> {
    type Output = V;
    fn index(&self, k: &Q) -> &V {
        self.get(k).expect("GoMap: key not in map")
    }
}

/// Go's `maps.Equal`: the same length, and every key of one maps to an
/// equal value in the other. A map holding a NaN key equals no map, itself
/// included (NaN never finds itself), so there is no `Eq`.
impl<K: GoKey, V: PartialEq> PartialEq for GoMap<K, V> {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().all(|(k, v)| other.get(k).is_some_and(|w| v == w))
    }
}

impl<K: GoKey, V, const N: usize> From<[(K, V); N]> for GoMap<K, V> {
    /// A map holding the pairs (later pairs replace earlier ones with an
    /// equal key), sized for `N` entries.
    fn from(pairs: [(K, V); N]) -> Self {
        let mut m = Self::with_capacity(N);
        m.extend(pairs);
        m
    }
}

impl<'a, K: GoKey + Copy, V: Copy> Extend<(&'a K, &'a V)> for GoMap<K, V> {
    fn extend<I: IntoIterator<Item = (&'a K, &'a V)>>(&mut self, iter: I) {
        for (k, v) in iter {
            self.insert(*k, *v);
        }
    }
}

// The map's state is valid after any panic (every operation restores it
// through guards), so observing it after an unwind is sound.
impl<K: GoKey + core::panic::UnwindSafe, V: core::panic::UnwindSafe> core::panic::UnwindSafe for GoMap<K, V> {}
impl<K: GoKey + core::panic::RefUnwindSafe, V: core::panic::RefUnwindSafe> core::panic::RefUnwindSafe for GoMap<K, V> {}

/// Iterator over a map's entries with mutable values ([`GoMap::iter_mut`]).
pub struct IterMut<'a, K, V> {
    it: HIter,
    /// The map's descriptor (see [`GoMap::t`]).
    t: &'a MapType,
    _marker: PhantomData<(&'a K, &'a mut V)>,
}

impl<'a, K: GoKey, V> Iterator for IterMut<'a, K, V> {
    type Item = (&'a K, &'a mut V);
    fn next(&mut self) -> Option<Self::Item> {
        if self.it.key.is_null() {
            return None;
        }
        // SAFETY: a non-null `it.key` is an aligned `K` of the map, and the
        // map is borrowed mutably for 'a: no write runs while it lives.
        let k = unsafe { &*self.it.key.cast::<K>() };
        // SAFETY: `it.elem` is the entry's live, aligned `V`; the iteration
        // produces each entry once and the map is borrowed mutably for 'a,
        // so this is the only reference to it.
        let v = unsafe { &mut *self.it.elem.cast::<V>() };
        let t = GoMap::<K, V>::STATIC_T.unwrap_or(self.t);
        // SAFETY: as `mapiternext`: `it` was started by `mapiterinit` and
        // its map and type are alive (borrowed for 'a); `t` is that type.
        unsafe { map::mapiternext_inline(t, &mut self.it) };
        Some((k, v))
    }
}

impl<K, V> Drop for IterMut<'_, K, V> {
    fn drop(&mut self) {
        // SAFETY: if registered, the iterator's map and type are alive: both
        // are borrowed for the iterator's lifetime.
        unsafe { map::mapiterend(&mut self.it) }
    }
}

impl<'a, K: GoKey, V> IntoIterator for &'a GoMap<K, V> {
    type Item = (&'a K, &'a V);
    type IntoIter = Iter<'a, K, V>;
    fn into_iter(self) -> Iter<'a, K, V> {
        self.iter()
    }
}

/// Iterator over a borrowed map, in Go's order.
pub struct Iter<'a, K, V> {
    it: HIter,
    /// The map's descriptor (see [`GoMap::t`]).
    t: &'a MapType,
    _marker: PhantomData<&'a (K, V)>,
}

impl<'a, K: GoKey, V> Iterator for Iter<'a, K, V> {
    type Item = (&'a K, &'a V);
    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        if self.it.key.is_null() {
            return None;
        }
        // SAFETY: a non-null `it.key` is an aligned `K` of the map (a live
        // entry's key, or a byte copy of it), and the map is borrowed shared
        // for 'a: nothing writes it while the reference lives.
        let k = unsafe { &*self.it.key.cast::<K>() };
        // SAFETY: likewise, `it.elem` is the entry's live, aligned `V`.
        let v = unsafe { &*self.it.elem.cast::<V>() };
        // The static descriptor by name where there is one, as in `GoMap::t`.
        let t = GoMap::<K, V>::STATIC_T.unwrap_or(self.t);
        // SAFETY: as `mapiternext`: `it` was started by `mapiterinit` and
        // its map and type are alive (borrowed for 'a); `t` is that type.
        unsafe { map::mapiternext_inline(t, &mut self.it) };
        Some((k, v))
    }
}

impl<K, V> Drop for Iter<'_, K, V> {
    fn drop(&mut self) {
        // SAFETY: if registered, the iterator's map and type are alive: both
        // are borrowed for the iterator's lifetime.
        unsafe { map::mapiterend(&mut self.it) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Caller-owned iterator storage that claims to be a borrowed
    /// iteration (which only the typed map starts) is refused, as garbage.
    #[test]
    fn from_raw_refuses_a_borrowed_iterator() {
        let mut it = HIter::new();
        it.borrowed = true;
        // SAFETY: `it`'s own bytes, written as an `HIter`, unaliased.
        assert!(unsafe { HIter::from_raw((&raw mut it).cast()) }.is_none());
        it.borrowed = false;
        // SAFETY: as above.
        assert!(unsafe { HIter::from_raw((&raw mut it).cast()) }.is_some());
    }

    /// A typed map takes its write flag without a locked instruction
    /// (`EXCLUSIVE_WRITES`) through every way its map is made or remade
    /// (make, clone, growth, clear, shrink), and the bit never shows as a
    /// Go flag.
    #[test]
    fn typed_maps_keep_exclusive_writes() {
        use crate::guards::EXCLUSIVE_WRITES;
        // `raw` makes the hmap of a map that has none (as its first write).
        let excl = |m: &mut GoMap<u64, u64>| {
            // SAFETY: the map is live while `m` is borrowed.
            let h = unsafe { m.raw().as_ref() };
            h.flags() & EXCLUSIVE_WRITES != 0
        };
        let go_flags = |m: &mut GoMap<u64, u64>| {
            let h = m.raw();
            // SAFETY: the map of `m`, live and not written meanwhile, with
            // its own descriptor.
            let s = unsafe { crate::inspect::snapshot(m.map_type(), h) };
            s.header.flags
        };
        let mut m: GoMap<u64, u64> = GoMap::new();
        assert!(excl(&mut GoMap::new()), "made by raw");
        m.insert(0, 0);
        assert!(excl(&mut m), "made by the first write");
        assert!(excl(&mut GoMap::<u64, u64>::with_capacity(100)));
        for i in 0..1000 {
            m.insert(i, i);
        }
        assert!(excl(&mut m), "after growth");
        assert_eq!(go_flags(&mut m) & EXCLUSIVE_WRITES, 0);
        let mut c = m.clone();
        assert!(excl(&mut c), "clone");
        for i in 0..990 {
            m.remove(&i);
        }
        m.shrink_to_fit();
        assert!(excl(&mut m), "after shrink");
        m.clear();
        assert!(excl(&mut m), "after clear");
        assert_eq!(go_flags(&mut m), 0);
        // The erased API's maps keep the atomic path.
        let t = m.map_type();
        let h = crate::map::makemap(t, 0).unwrap();
        // SAFETY: `h` was just made, live until the free below.
        assert_eq!(unsafe { h.as_ref() }.flags() & EXCLUSIVE_WRITES, 0);
        // SAFETY: `h` is a live map of type `t`, unused afterwards.
        unsafe { crate::retire::mapfree(t, h.as_ptr()) }.unwrap();
    }

    /// The compile-time descriptor of a typed map equals the runtime preset
    /// for the same key and elem: same layout, flags and key kind, and the
    /// same hash of the same key under the same seed.
    #[test]
    fn static_descriptors_equal_the_runtime_presets() {
        fn same<K: GoKey, V>(preset: MapType, key: K) {
            let m: GoMap<K, V> = GoMap::new();
            let t = m.map_type();
            assert!(GoMap::<K, V>::STATIC_T.is_some(), "static descriptor expected");
            assert_eq!(
                (t.keysize(), t.valuesize(), t.bucketsize(), t.flags(), t.bucket_pointers(), t.kind()),
                (
                    preset.keysize(),
                    preset.valuesize(),
                    preset.bucketsize(),
                    preset.flags(),
                    preset.bucket_pointers(),
                    preset.kind()
                ),
                "{t:?} vs {preset:?}"
            );
            for seed in [0usize, 1, 0x9e37_79b9, usize::MAX] {
                let kp = (&raw const key).cast::<u8>();
                // SAFETY: `kp` points to `key`, a key of `t` (`K`'s own).
                let got = unsafe { t.hash(kp, seed) };
                // SAFETY: `key` is a key of `preset` too (same key type).
                assert_eq!(got, unsafe { preset.hash(kp, seed) });
            }
        }
        // Typed maps lay out Rust's types: where Rust aligns u64/f64 above
        // Go (armv7, wasm32), their presets are Go's layout, not theirs,
        // so the comparison is with the spec at Rust's alignment.
        let u64e = TypeInfo::of::<u64>();
        let rust_aligned = |spec: KeySpec, elem| MapType::try_from_spec(spec, elem).unwrap();
        same::<u64, u64>(rust_aligned(KeySpec::memory(TypeInfo::of::<u64>()), u64e), 0x1234_5678_9abc_def0);
        same::<u32, [u8; 200]>(MapType::u32_key(TypeInfo::of::<[u8; 200]>()).unwrap(), 77);
        same::<[u8; 3], u8>(MapType::bytes_key(3, TypeInfo::of::<u8>()).unwrap(), *b"abc");
        same::<[u8; 200], u8>(MapType::bytes_key(200, TypeInfo::of::<u8>()).unwrap(), [9; 200]);
        same::<f64, ()>(rust_aligned(KeySpec::f64(), TypeInfo::of::<()>()), -0.0);
        if core::mem::align_of::<u64>() <= crate::maptype::PTR_SIZE {
            // Elsewhere the Go-named presets are the same descriptors.
            same::<u64, u64>(MapType::u64_key(u64e).unwrap(), 0x1234_5678_9abc_def0);
            same::<f64, ()>(MapType::f64_key(TypeInfo::of::<()>()).unwrap(), -0.0);
        }
        same::<f32, u16>(MapType::f32_key(TypeInfo::of::<u16>()).unwrap(), 1.5);
        same::<GoStr, String>(MapType::str_key(TypeInfo::of_pointerful::<String>()).unwrap(), GoStr::new("key"));
        same::<GoStrRef<'_>, u64>(MapType::str_key(u64e).unwrap(), GoStrRef::new("key"));
    }
}
