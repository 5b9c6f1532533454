//! The map type descriptor: Go's `abi.OldMapType` (internal/abi/map_noswiss.go)
//! plus what a runtime without a compiler needs to be told explicitly.
//!
//! Go's compiler derives a map type's bucket layout and flags from the key and
//! elem types (`cmd/compile/internal/reflectdata.MapBucketType`, `reflect.MapOf`)
//! and `reflect_makemap` (map_noswiss.go:1388) re-checks them. gomap has no
//! compiler: callers describe the key and elem ([`TypeInfo`]), give a hasher and
//! an equality, and [`MapTypeBuilder::build`] derives the same layout and flags,
//! turning every check `reflect_makemap` would `throw` on into a [`TypeError`].
//! The result is computed once and never changes, so the map code can trust it.
//!
//! One rule is gomap's own: a key or elem type aligned above 8 (`u128`,
//! `#[repr(align(16))]`) is stored out of line whatever its size, like a
//! type over 128 bytes: its slot holds a pointer (8 bytes, align 8) to a
//! block allocated with the type's alignment (`alloc::alloc_block_aligned`).
//! Go's types are never aligned above 8 on 64-bit targets, so Go's layout
//! of every type it has is unchanged; the bucket's slots never need more
//! than 8-byte alignment.

use core::any::Any;
use core::fmt;
use std::sync::Arc;

/// Slots per bucket (`abi.OldMapBucketCount`).
pub const BUCKET_CNT: usize = 8;
/// log2 of [`BUCKET_CNT`] (`abi.OldMapBucketCountBits`).
pub const BUCKET_CNT_BITS: u32 = 3;
/// Keys larger than this are stored out of line (`abi.OldMapMaxKeyBytes`).
pub const MAX_KEY_BYTES: usize = 128;
/// Elems larger than this are stored out of line (`abi.OldMapMaxElemBytes`).
pub const MAX_ELEM_BYTES: usize = 128;
/// Offset of the first key in a bucket: just past `tophash[8]`, and already a
/// multiple of the largest alignment an inline slot needs (map_noswiss.go
/// `dataOffset`).
pub const DATA_OFFSET: usize = BUCKET_CNT;
/// Size of a pointer-sized slot (an out-of-line key or elem, the overflow link).
pub const PTR_SIZE: usize = core::mem::size_of::<usize>();

/// Key and elem types aligned above this are stored out of line (gomap's
/// rule, see the module docs): the most a bucket slot is aligned to. The
/// pointer size, or 8 where Rust aligns `u64` to 8 on a 32-bit target
/// (arm, wasm32): 8 on 64-bit, 4 on i686 (where Go aligns no type above 4
/// either), 8 on armv7 and wasm32, so that Rust's `u64` and `f64` stay
/// inline there.
pub const MAX_INLINE_ALIGN: usize =
    if core::mem::align_of::<u64>() > PTR_SIZE { core::mem::align_of::<u64>() } else { PTR_SIZE };

/// Go's `Arch.Alignment` for this target's Go architecture
/// (cmd/internal/sys/arch.go: 1 on amd64, arm64 and 386, 4 on arm): the
/// largest alignment a load needs. Above 1, Go's compiler hashes small
/// under-aligned memory keys (`[4]byte`, `[2]uint16`) with `memhash_varlen`
/// instead of `memhash32` (reflectdata `AlgType`, alg.go:25) and ends a
/// struct's memory run where a wider load would need more alignment than
/// the run's start has (`compare.Memrun`, compare.go:43). armv7 and wasm32
/// follow Go's arm.
pub const GO_ARCH_ALIGNMENT: usize = if cfg!(any(target_arch = "arm", target_arch = "wasm32")) { 4 } else { 1 };

/// The alignment Go's compiler gives a type of natural alignment `align`
/// on this target's Go architecture: at most the pointer size (Go's 386
/// and arm align `uint64`, `float64` and `complex128` to 4). Descriptors
/// built with it ([`TypeInfo::go_aligned`]) get Go's bucket layout byte
/// for byte; the map code reads their 8-byte keys with unaligned loads.
pub const fn go_align(align: usize) -> usize {
    if align > PTR_SIZE { PTR_SIZE } else { align }
}
/// The largest alignment a key or elem type may have (Rust's own limit,
/// 2^29); above it a descriptor is rejected ([`TypeError::AlignTooBig`]).
pub const MAX_ALIGN: usize = 1 << 29;

/// Flag: keys are stored as pointers to out-of-line copies (`IndirectKey`).
pub const FLAG_INDIRECT_KEY: u32 = 1;
/// Flag: elems are stored as pointers to out-of-line copies (`IndirectElem`).
pub const FLAG_INDIRECT_ELEM: u32 = 2;
/// Flag: `k == k` holds for every key (`ReflexiveKey`); false for floats.
pub const FLAG_REFLEXIVE_KEY: u32 = 4;
/// Flag: an overwrite must also overwrite the stored key (`NeedKeyUpdate`),
/// because equal keys can differ in bits (+0/-0, strings sharing no memory).
pub const FLAG_NEED_KEY_UPDATE: u32 = 8;
/// Flag: hashing a key may fail (`HashMightPanic`), e.g. interface keys
/// holding an unhashable dynamic type.
pub const FLAG_HASH_MIGHT_PANIC: u32 = 16;

/// Hashes the key at `key` with `seed`. `ctx` is the descriptor's context.
///
/// Go's `Hasher func(unsafe.Pointer, uintptr) uintptr`; Go's closures carry
/// their context implicitly, ours is the explicit `ctx`.
///
/// # Safety
/// The map calls the hasher of a descriptor `t` only with:
/// * `key` a key of `t` (valid for reads of `t.key().size` bytes);
/// * `ctx` `t`'s own context (the one given to [`MapTypeBuilder::ctx`], or
///   [`KeySpec::ctx`]).
pub type HashFn = unsafe fn(key: *const u8, seed: usize, ctx: *const ()) -> usize;
/// Reports whether the keys at `a` and `b` are equal (Go's `Key.Equal`).
///
/// # Safety
/// The map calls the equality of a descriptor `t` only with:
/// * `a` and `b` keys of `t` (each valid for reads of `t.key().size`
///   bytes);
/// * `ctx` `t`'s own context.
pub type EqualFn = unsafe fn(a: *const u8, b: *const u8, ctx: *const ()) -> bool;
/// Reports whether the key at `key` can be hashed (Go's `mapKeyError`, used
/// only when [`FLAG_HASH_MIGHT_PANIC`] is set).
///
/// # Safety
/// The map calls the key check of a descriptor `t` only with:
/// * `key` a key of `t` (valid for reads of `t.key().size` bytes);
/// * `ctx` `t`'s own context.
pub type KeyCheckFn = unsafe fn(key: *const u8, ctx: *const ()) -> bool;
/// Writes a copy of the value at `src` into the uninitialised slot `dst`.
///
/// # Safety
/// The map calls the clone hook of a descriptor `t` only with:
/// * `src` a live key (elem) of `t`, valid for reads of its type's size
///   and aligned for its type;
/// * `dst` valid for writes of that many bytes and aligned for the type (a
///   slot, an out-of-line block or scratch space), holding no live value
///   (overwritten, not dropped), not overlapping `src`;
/// * `ctx` `t`'s hook context (its own context unless
///   [`MapType::with_hook_ctx`] gave another).
pub type CloneFn = unsafe fn(dst: *mut u8, src: *const u8, ctx: *const ());
/// Drops the value at `p` in place.
///
/// # Safety
/// The map calls the drop hook of a descriptor `t` only with:
/// * `p` a live key (elem) of `t`, valid for reads and writes of its type's
///   size and aligned for its type, which the map never uses as a value
///   again (the hook runs once per value);
/// * `ctx` `t`'s hook context (its own context unless
///   [`MapType::with_hook_ctx`] gave another).
///
/// The hook must not unwind, except out of [`mapclear`](crate::map::mapclear)
/// (which leaves the map empty and leaks the values it had not reached) and
/// [`mapfree`](crate::map::mapfree) (after which the map is gone, its
/// remaining values and blocks leaked). Anywhere else (a delete, a key
/// update) an unwind leaves the entry in the map with its value already
/// dropped. [`GoMap`](crate::GoMap) aborts when a key's `Drop` unwinds.
pub type DropFn = unsafe fn(p: *mut u8, ctx: *const ());

/// What the map needs to know about a key or elem type (Go's `abi.Type`,
/// reduced to what map code reads).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TypeInfo {
    /// Size in bytes (`Size_`). May be 0.
    pub size: usize,
    /// Alignment in bytes (`Align_`): a power of two, at most [`MAX_ALIGN`].
    /// Types aligned above [`MAX_INLINE_ALIGN`] are stored out of line.
    pub align: usize,
    /// Whether values hold pointers the map must treat as such (`Pointers()`).
    /// It decides whether buckets are "noscan", which changes Go's size-class
    /// rounding of bucket arrays and so the number of preallocated overflow
    /// buckets, and whether Go clears evacuated and deleted slots.
    pub pointers: bool,
}

impl TypeInfo {
    /// Describes a plain-data Rust type.
    pub const fn of<T>() -> Self {
        Self { size: core::mem::size_of::<T>(), align: core::mem::align_of::<T>(), pointers: false }
    }
    /// Describes a Rust type that holds pointers.
    pub const fn of_pointerful<T>() -> Self {
        Self { size: core::mem::size_of::<T>(), align: core::mem::align_of::<T>(), pointers: true }
    }
    /// The same type as Go's compiler aligns it on this target's Go
    /// architecture ([`go_align`]): unchanged except on armv7 and wasm32,
    /// where 8-aligned Rust types become 4-aligned as on Go's arm. The
    /// presets named after Go types (`MapType::u64_key`, ...) use it for
    /// their keys; a Rust reference must not be formed to such a slot.
    ///
    /// ```
    /// use gomap::maptype::{TypeInfo, PTR_SIZE};
    /// let t = TypeInfo::of::<u64>().go_aligned();
    /// assert_eq!(t.align, 8.min(PTR_SIZE));
    /// ```
    pub const fn go_aligned(self) -> Self {
        Self { align: go_align(self.align), ..self }
    }
}

/// Which built-in hash a descriptor uses; lets the fast paths and the
/// inspector know the key kind without comparing function pointers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyKind {
    /// Plain memory of the key's size (ints, bools, pointers, byte arrays).
    Memory,
    /// 32-bit float (`f32hash`).
    F32,
    /// 64-bit float (`f64hash`).
    F64,
    /// complex64 (`c64hash`).
    C64,
    /// complex128 (`c128hash`).
    C128,
    /// A Go string header `{ptr, len}` (`strhash`).
    Str,
    /// A composite key hashed field by field.
    Composite,
    /// A caller-supplied hasher.
    Custom,
}

/// Why a descriptor was rejected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TypeError {
    /// An alignment is zero or not a power of two.
    BadAlign(&'static str),
    /// An alignment exceeds [`MAX_ALIGN`] (`key align too big`; Go's own
    /// limit is 8, but gomap stores types aligned above 8 out of line).
    AlignTooBig(&'static str),
    /// A size is not a multiple of its alignment
    /// (`key size not a multiple of key align`).
    SizeNotMultipleOfAlign(&'static str),
    /// A size is too large to allocate (`> isize::MAX`).
    SizeTooLarge(&'static str),
}

impl fmt::Display for TypeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TypeError::BadAlign(w) => write!(f, "{w} alignment is zero or not a power of two"),
            TypeError::AlignTooBig(w) => write!(f, "{w} align too big"),
            TypeError::SizeNotMultipleOfAlign(w) => write!(f, "{w} size not a multiple of {w} align"),
            TypeError::SizeTooLarge(w) => write!(f, "{w} size too large"),
        }
    }
}

impl std::error::Error for TypeError {}

/// A validated map type descriptor (Go's `maptype`, `abi.OldMapType`).
///
/// ```text
/// bucket (bmap), BucketSize bytes:
/// +-------------+---------------------+-----------------------+----------+
/// | tophash[8]  | keys[8]             | elems[8]              | overflow |
/// | 8 x u8      | 8 x KeySize         | 8 x ValueSize         | *bmap    |
/// +-------------+---------------------+-----------------------+----------+
/// 0             8 (DATA_OFFSET)       8+8*KeySize            BucketSize-8
/// ```
///
/// `KeySize`/`ValueSize` are the slot sizes: the type's size, or 8 (a pointer)
/// when the key/elem is stored out of line (larger than 128 bytes, or
/// aligned above [`MAX_INLINE_ALIGN`]).
pub struct MapType {
    pub(crate) key: TypeInfo,
    pub(crate) elem: TypeInfo,
    pub(crate) hasher: HashFn,
    pub(crate) equal: EqualFn,
    pub(crate) key_check: Option<KeyCheckFn>,
    pub(crate) key_clone: Option<CloneFn>,
    pub(crate) elem_clone: Option<CloneFn>,
    pub(crate) key_drop: Option<DropFn>,
    pub(crate) elem_drop: Option<DropFn>,
    pub(crate) ctx: *const (),
    /// Keeps whatever `ctx` points into alive for as long as the descriptor.
    _ctx_owner: Option<Arc<dyn Any + Send + Sync>>,
    /// The context the drop and clone hooks receive: `ctx` unless
    /// [`MapType::with_hook_ctx`] set another (a C host's ownership
    /// callbacks on a preset, whose `ctx` the hasher needs).
    pub(crate) hook_ctx: *const (),
    /// Keeps whatever `hook_ctx` points into alive.
    _hook_owner: Option<Arc<dyn Any + Send + Sync>>,
    pub(crate) kind: KeyKind,
    /// Whether the hasher or equality may unwind (caller-supplied callbacks
    /// not declared trusted). Evacuation then decides every entry's
    /// destination before moving anything, so a failing callback leaves the
    /// map as it was.
    pub(crate) may_unwind: bool,
    /// Slot size of a key (`KeySize`).
    pub(crate) keysize: u8,
    /// Slot size of an elem (`ValueSize`).
    pub(crate) valuesize: u8,
    /// Size of a bucket (`BucketSize`, also `Bucket.Size_`).
    pub(crate) bucketsize: u16,
    /// `FLAG_*` bits (`Flags`).
    pub(crate) flags: u32,
    /// Whether buckets hold pointers (`Bucket.Pointers()`).
    pub(crate) bucket_pointers: bool,
    /// Payload sizes of the roles a quarantine pools for maps of this type
    /// (`quarantine::pool_roles`; gomap-only).
    pub(crate) pool_roles: [usize; 3],
}

// SAFETY: a MapType is immutable after construction. `ctx` is only ever passed
// to the descriptor's own callbacks, which `MapTypeBuilder::ctx`'s contract
// requires to be callable from any thread.
unsafe impl Send for MapType {}
// SAFETY: see the Send impl; shared access never mutates.
unsafe impl Sync for MapType {}

impl fmt::Debug for MapType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MapType")
            .field("key", &self.key)
            .field("elem", &self.elem)
            .field("kind", &self.kind)
            .field("keysize", &self.keysize)
            .field("valuesize", &self.valuesize)
            .field("bucketsize", &self.bucketsize)
            .field("flags", &self.flags)
            .field("bucket_pointers", &self.bucket_pointers)
            .finish_non_exhaustive()
    }
}

impl MapType {
    /// `IndirectKey()`: keys are stored out of line.
    #[inline(always)]
    pub fn indirect_key(&self) -> bool {
        self.flags & FLAG_INDIRECT_KEY != 0
    }
    /// `IndirectElem()`: elems are stored out of line.
    #[inline(always)]
    pub fn indirect_elem(&self) -> bool {
        self.flags & FLAG_INDIRECT_ELEM != 0
    }
    /// `ReflexiveKey()`: `k == k` for every key.
    #[inline(always)]
    pub fn reflexive_key(&self) -> bool {
        self.flags & FLAG_REFLEXIVE_KEY != 0
    }
    /// `NeedKeyUpdate()`: overwrite the key on an update.
    #[inline(always)]
    pub fn need_key_update(&self) -> bool {
        self.flags & FLAG_NEED_KEY_UPDATE != 0
    }
    /// `HashMightPanic()`: hashing may fail.
    #[inline(always)]
    pub fn hash_might_panic(&self) -> bool {
        self.flags & FLAG_HASH_MIGHT_PANIC != 0
    }
    /// The key type.
    pub fn key(&self) -> TypeInfo {
        self.key
    }
    /// The elem type.
    pub fn elem(&self) -> TypeInfo {
        self.elem
    }
    /// Key slot size (`KeySize`).
    pub fn keysize(&self) -> usize {
        self.keysize as usize
    }
    /// Elem slot size (`ValueSize`).
    pub fn valuesize(&self) -> usize {
        self.valuesize as usize
    }
    /// Bucket size (`BucketSize`).
    pub fn bucketsize(&self) -> usize {
        self.bucketsize as usize
    }
    /// The `FLAG_*` bits.
    pub fn flags(&self) -> u32 {
        self.flags
    }
    /// Whether buckets hold pointers (`Bucket.Pointers()`).
    pub fn bucket_pointers(&self) -> bool {
        self.bucket_pointers
    }
    /// Which built-in hash the key uses.
    pub fn kind(&self) -> KeyKind {
        self.kind
    }
    /// Hashes `key` with `seed` (Go's `t.Hasher(key, seed)`).
    ///
    /// For the built-in kinds the fast paths use (`memhash32`, `memhash64`,
    /// `strhash`) the built-in function is called directly rather than
    /// through `hasher`: the same function by the descriptor's contract
    /// ([`MapTypeBuilder::kind`]), one indirect call fewer per operation.
    ///
    /// # Safety
    /// * `key` is a key of `self` (valid for reads of `self.key().size`
    ///   bytes; for [`KeyKind::Str`], a `GoString` header whose bytes are
    ///   readable).
    #[inline(always)]
    pub unsafe fn hash(&self, key: *const u8, seed: usize) -> usize {
        match (self.kind, self.key.size) {
            // SAFETY: a key of `self` (caller) that is 8 bytes of memory:
            // valid for reads of 8 bytes.
            (KeyKind::Memory, 8) => unsafe { crate::alg::memhash64(key, seed) },
            // SAFETY: a key of `self` (caller) that is 4 bytes of memory:
            // valid for reads of 4 bytes.
            (KeyKind::Memory, 4) => unsafe { crate::alg::memhash32(key, seed) },
            // SAFETY: a `Str` key of `self` (caller) is a readable
            // `GoString` header whose bytes are readable.
            (KeyKind::Str, 16) => unsafe { crate::alg::strhash(key, seed) },
            // SAFETY: the hasher's contract ([`HashFn`]): 1. `key` is a key
            // of `self` (caller); 2. `ctx` is `self`'s own context.
            _ => unsafe { (self.hasher)(key, seed, self.ctx) },
        }
    }
    /// [`Self::hash`] for the fast64 paths, whose keys are 8 bytes: one
    /// check of the kind.
    ///
    /// # Safety
    /// * `key` is a key of `self`;
    /// * `self.key().size == 8`.
    #[inline(always)]
    pub unsafe fn hash64(&self, key: *const u8, seed: usize) -> usize {
        debug_assert_eq!(self.key.size, 8);
        if self.kind == KeyKind::Memory {
            // SAFETY: a key of `self` of 8 bytes (caller): valid for reads
            // of 8 bytes.
            unsafe { crate::alg::memhash64(key, seed) }
        } else {
            // SAFETY: [`HashFn`]: 1. a key of `self` (caller); 2. `self`'s
            // own context.
            unsafe { (self.hasher)(key, seed, self.ctx) }
        }
    }
    /// [`Self::hash`] for the fast32 paths, whose keys are 4 bytes.
    ///
    /// # Safety
    /// * `key` is a key of `self`;
    /// * `self.key().size == 4`.
    #[inline(always)]
    pub unsafe fn hash32(&self, key: *const u8, seed: usize) -> usize {
        debug_assert_eq!(self.key.size, 4);
        if self.kind == KeyKind::Memory {
            // SAFETY: a key of `self` of 4 bytes (caller): valid for reads
            // of 4 bytes.
            unsafe { crate::alg::memhash32(key, seed) }
        } else {
            // SAFETY: [`HashFn`]: 1. a key of `self` (caller); 2. `self`'s
            // own context.
            unsafe { (self.hasher)(key, seed, self.ctx) }
        }
    }
    /// [`Self::hash`] for the faststr paths, whose keys are string headers.
    ///
    /// # Safety
    /// * `key` is a key of `self`: a `GoString` header whose bytes are
    ///   readable.
    #[inline(always)]
    pub unsafe fn hash_str(&self, key: *const u8, seed: usize) -> usize {
        if self.kind == KeyKind::Str {
            // SAFETY: a readable `GoString` header with readable bytes
            // (caller).
            unsafe { crate::alg::strhash(key, seed) }
        } else {
            // SAFETY: [`HashFn`]: 1. a key of `self` (caller); 2. `self`'s
            // own context.
            unsafe { (self.hasher)(key, seed, self.ctx) }
        }
    }
    /// Compares two keys (Go's `t.Key.Equal(a, b)`).
    ///
    /// # Safety
    /// * `a` and `b` are keys of `self`.
    #[inline(always)]
    pub unsafe fn key_equal(&self, a: *const u8, b: *const u8) -> bool {
        // SAFETY: [`EqualFn`]: 1. `a` and `b` are keys of `self` (caller);
        // 2. `ctx` is `self`'s own context.
        unsafe { (self.equal)(a, b, self.ctx) }
    }
}

/// Builds a [`MapType`], deriving the layout and flags the way Go's compiler
/// does and rejecting what `reflect_makemap` would reject.
///
/// For key types with a hash of their own (the presets in
/// [`crate::presets`] and [`GoMap`](crate::GoMap)'s key types cover Go's
/// key kinds). A descriptor for `map[K]uint64` whose 8-byte ASCII keys
/// compare case-insensitively: equal keys must hash alike, so the hasher
/// lowers the letters before Go's `memhash64`:
///
/// ```
/// use gomap::maptype::{MapTypeBuilder, TypeInfo};
///
/// /// # Safety
/// /// `p` is a key of the descriptor: 8 readable bytes.
/// unsafe fn hash(p: *const u8, seed: usize, _ctx: *const ()) -> usize {
///     // SAFETY: 8 readable bytes (point 1).
///     let k = unsafe { p.cast::<[u8; 8]>().read() }.map(|b| b.to_ascii_lowercase());
///     // SAFETY: `k` is 8 readable bytes.
///     unsafe { gomap::alg::memhash64(k.as_ptr(), seed) }
/// }
/// /// # Safety
/// /// `a` and `b` are keys of the descriptor: 8 readable bytes each.
/// unsafe fn eq(a: *const u8, b: *const u8, _ctx: *const ()) -> bool {
///     // SAFETY: 8 readable bytes each (point 1).
///     let a = unsafe { a.cast::<[u8; 8]>().read() };
///     // SAFETY: as for `a`.
///     let b = unsafe { b.cast::<[u8; 8]>().read() };
///     a.eq_ignore_ascii_case(&b)
/// }
///
/// let t = MapTypeBuilder::new(TypeInfo::of::<[u8; 8]>(), TypeInfo::of::<u64>(), hash, eq)
///     .trusted_callbacks() // neither callback can panic
///     .build()
///     .unwrap();
/// // Go's layout for an 8-byte key and elem: 8 tophash bytes, 8 keys, 8
/// // elems, the overflow pointer (8 bytes; 4 on 32-bit targets), rounded
/// // up to the elem's alignment (Rust's u64 is 8-aligned on armv7 and
/// // wasm32: 144 bytes there, Go's arm has 140).
/// let go = 8 + 8 * 8 + 8 * 8 + size_of::<usize>();
/// assert_eq!(t.bucketsize(), go.next_multiple_of(align_of::<u64>()));
/// assert!(t.reflexive_key() && !t.need_key_update());
/// ```
pub struct MapTypeBuilder {
    key: TypeInfo,
    elem: TypeInfo,
    hasher: HashFn,
    equal: EqualFn,
    reflexive: bool,
    need_key_update: bool,
    key_check: Option<KeyCheckFn>,
    key_clone: Option<CloneFn>,
    elem_clone: Option<CloneFn>,
    key_drop: Option<DropFn>,
    elem_drop: Option<DropFn>,
    ctx: *const (),
    ctx_owner: Option<Arc<dyn Any + Send + Sync>>,
    kind: KeyKind,
    trusted: bool,
}

impl MapTypeBuilder {
    /// Starts a descriptor for keys `key` hashed by `hasher` and compared by
    /// `equal`, with elems `elem`. Defaults: reflexive keys, no key update,
    /// hashing never fails, plain bytes (copied with memcpy, never dropped).
    ///
    /// ```
    /// # use gomap::maptype::{MapTypeBuilder, TypeInfo};
    /// #     /// Go's memhash64 of the key with ASCII letters lowered.
    /// # unsafe fn hash(p: *const u8, seed: usize, _: *const ()) -> usize {
    /// #     let k = unsafe { p.cast::<[u8; 8]>().read() }.map(|b| b.to_ascii_lowercase());
    /// #     unsafe { gomap::alg::memhash64(k.as_ptr(), seed) }
    /// # }
    /// # unsafe fn eq(a: *const u8, b: *const u8, _: *const ()) -> bool {
    /// #     let (a, b) = unsafe { (a.cast::<[u8; 8]>().read(), b.cast::<[u8; 8]>().read()) };
    /// #     a.eq_ignore_ascii_case(&b)
    /// # }
    /// # let (key, elem) = (TypeInfo::of::<[u8; 8]>(), TypeInfo::of::<u64>());
    /// let t = MapTypeBuilder::new(key, elem, hash, eq).build().unwrap();
    /// assert_eq!((t.keysize(), t.valuesize()), (8, 8));
    /// ```
    #[inline]
    pub fn new(key: TypeInfo, elem: TypeInfo, hasher: HashFn, equal: EqualFn) -> Self {
        Self {
            key,
            elem,
            hasher,
            equal,
            reflexive: true,
            need_key_update: false,
            key_check: None,
            key_clone: None,
            elem_clone: None,
            key_drop: None,
            elem_drop: None,
            ctx: core::ptr::null(),
            ctx_owner: None,
            kind: KeyKind::Custom,
            trusted: false,
        }
    }
    /// Declares that the hasher and equality never unwind (never panic),
    /// which spares evacuation a pre-pass. Built-in presets are trusted.
    /// Untrusted callbacks cost one extra pass over each evacuated bucket
    /// (hashing before anything moves, so a panic leaves the map intact).
    ///
    /// ```
    /// # use gomap::maptype::{MapTypeBuilder, TypeInfo};
    /// #     /// Go's memhash64 of the key with ASCII letters lowered.
    /// # unsafe fn hash(p: *const u8, seed: usize, _: *const ()) -> usize {
    /// #     let k = unsafe { p.cast::<[u8; 8]>().read() }.map(|b| b.to_ascii_lowercase());
    /// #     unsafe { gomap::alg::memhash64(k.as_ptr(), seed) }
    /// # }
    /// # unsafe fn eq(a: *const u8, b: *const u8, _: *const ()) -> bool {
    /// #     let (a, b) = unsafe { (a.cast::<[u8; 8]>().read(), b.cast::<[u8; 8]>().read()) };
    /// #     a.eq_ignore_ascii_case(&b)
    /// # }
    /// # let (key, elem) = (TypeInfo::of::<[u8; 8]>(), TypeInfo::of::<u64>());
    /// let t = MapTypeBuilder::new(key, elem, hash, eq).trusted_callbacks().build();
    /// assert!(t.is_ok());
    /// ```
    #[inline]
    pub fn trusted_callbacks(mut self) -> Self {
        self.trusted = true;
        self
    }
    /// Whether `k == k` for all keys (false for floats and anything holding
    /// one). Go's evacuation and iteration treat non-reflexive keys (NaN)
    /// specially.
    ///
    /// ```
    /// # use gomap::maptype::{MapTypeBuilder, TypeInfo};
    /// #     /// Go's memhash64 of the key with ASCII letters lowered.
    /// # unsafe fn hash(p: *const u8, seed: usize, _: *const ()) -> usize {
    /// #     let k = unsafe { p.cast::<[u8; 8]>().read() }.map(|b| b.to_ascii_lowercase());
    /// #     unsafe { gomap::alg::memhash64(k.as_ptr(), seed) }
    /// # }
    /// # unsafe fn eq(a: *const u8, b: *const u8, _: *const ()) -> bool {
    /// #     let (a, b) = unsafe { (a.cast::<[u8; 8]>().read(), b.cast::<[u8; 8]>().read()) };
    /// #     a.eq_ignore_ascii_case(&b)
    /// # }
    /// # let (key, elem) = (TypeInfo::of::<[u8; 8]>(), TypeInfo::of::<u64>());
    /// use gomap::maptype::FLAG_REFLEXIVE_KEY;
    /// let t = MapTypeBuilder::new(key, elem, hash, eq).reflexive(false).build().unwrap();
    /// assert_eq!(t.flags() & FLAG_REFLEXIVE_KEY, 0);
    /// ```
    #[inline]
    pub fn reflexive(mut self, yes: bool) -> Self {
        self.reflexive = yes;
        self
    }
    /// Whether an overwrite must store the new key's bits (floats, strings).
    /// Here: `m["GOMAP"] = 1` after `m["gomap"] = 0` keeps the new spelling.
    ///
    /// ```
    /// # use gomap::maptype::{MapTypeBuilder, TypeInfo};
    /// #     /// Go's memhash64 of the key with ASCII letters lowered.
    /// # unsafe fn hash(p: *const u8, seed: usize, _: *const ()) -> usize {
    /// #     let k = unsafe { p.cast::<[u8; 8]>().read() }.map(|b| b.to_ascii_lowercase());
    /// #     unsafe { gomap::alg::memhash64(k.as_ptr(), seed) }
    /// # }
    /// # unsafe fn eq(a: *const u8, b: *const u8, _: *const ()) -> bool {
    /// #     let (a, b) = unsafe { (a.cast::<[u8; 8]>().read(), b.cast::<[u8; 8]>().read()) };
    /// #     a.eq_ignore_ascii_case(&b)
    /// # }
    /// # let (key, elem) = (TypeInfo::of::<[u8; 8]>(), TypeInfo::of::<u64>());
    /// let t = MapTypeBuilder::new(key, elem, hash, eq).need_key_update(true).build().unwrap();
    /// assert!(t.need_key_update());
    /// ```
    #[inline]
    pub fn need_key_update(mut self, yes: bool) -> Self {
        self.need_key_update = yes;
        self
    }
    /// Declares that hashing may fail and gives the check Go's `mapKeyError`
    /// makes; sets `HashMightPanic`. A key the check refuses makes the
    /// operation fail with [`MapError`](crate::fatal::MapError) (Go: "hash of
    /// unhashable type"), the map unchanged.
    ///
    /// ```
    /// # use gomap::maptype::{MapTypeBuilder, TypeInfo};
    /// #     /// Go's memhash64 of the key with ASCII letters lowered.
    /// # unsafe fn hash(p: *const u8, seed: usize, _: *const ()) -> usize {
    /// #     let k = unsafe { p.cast::<[u8; 8]>().read() }.map(|b| b.to_ascii_lowercase());
    /// #     unsafe { gomap::alg::memhash64(k.as_ptr(), seed) }
    /// # }
    /// # unsafe fn eq(a: *const u8, b: *const u8, _: *const ()) -> bool {
    /// #     let (a, b) = unsafe { (a.cast::<[u8; 8]>().read(), b.cast::<[u8; 8]>().read()) };
    /// #     a.eq_ignore_ascii_case(&b)
    /// # }
    /// # let (key, elem) = (TypeInfo::of::<[u8; 8]>(), TypeInfo::of::<u64>());
    /// /// # Safety
    /// /// `p` is a key of the descriptor: 8 readable bytes.
    /// unsafe fn ascii_only(p: *const u8, _ctx: *const ()) -> bool {
    ///     // SAFETY: 8 readable bytes (point 1).
    ///     unsafe { p.cast::<[u8; 8]>().read() }.is_ascii()
    /// }
    /// let t = MapTypeBuilder::new(key, elem, hash, eq).key_check(ascii_only).build().unwrap();
    /// assert!(t.hash_might_panic());
    /// ```
    #[inline]
    pub fn key_check(mut self, check: KeyCheckFn) -> Self {
        self.key_check = Some(check);
        self
    }
    /// Copy hooks used where Go does `typedmemmove` between maps (clone);
    /// without them, slots are copied bytewise.
    ///
    /// ```
    /// # use gomap::maptype::{MapTypeBuilder, TypeInfo};
    /// #     /// Go's memhash64 of the key with ASCII letters lowered.
    /// # unsafe fn hash(p: *const u8, seed: usize, _: *const ()) -> usize {
    /// #     let k = unsafe { p.cast::<[u8; 8]>().read() }.map(|b| b.to_ascii_lowercase());
    /// #     unsafe { gomap::alg::memhash64(k.as_ptr(), seed) }
    /// # }
    /// # unsafe fn eq(a: *const u8, b: *const u8, _: *const ()) -> bool {
    /// #     let (a, b) = unsafe { (a.cast::<[u8; 8]>().read(), b.cast::<[u8; 8]>().read()) };
    /// #     a.eq_ignore_ascii_case(&b)
    /// # }
    /// # let (key, elem) = (TypeInfo::of::<[u8; 8]>(), TypeInfo::of::<u64>());
    /// /// # Safety
    /// /// `dst` and `src` are 8-byte elems of the descriptor, not overlapping.
    /// unsafe fn copy_elem(dst: *mut u8, src: *const u8, _ctx: *const ()) {
    ///     // SAFETY: 8 readable bytes at `src`, 8 writable at `dst` (point 1).
    ///     unsafe { core::ptr::copy_nonoverlapping(src, dst, 8) }
    /// }
    /// let t = MapTypeBuilder::new(key, elem, hash, eq).clone_fns(None, Some(copy_elem)).build();
    /// assert!(t.is_ok());
    /// ```
    #[inline]
    pub fn clone_fns(mut self, key: Option<CloneFn>, elem: Option<CloneFn>) -> Self {
        self.key_clone = key;
        self.elem_clone = elem;
        self
    }
    /// Drop hooks run on a live entry's key/elem when the entry leaves the map
    /// (delete, clear, drop of the map); without them nothing is run. An
    /// elem that owns something is described with
    /// [`TypeInfo::of_pointerful`] and given a drop hook:
    ///
    /// ```
    /// # use gomap::maptype::{MapTypeBuilder, TypeInfo};
    /// #     /// Go's memhash64 of the key with ASCII letters lowered.
    /// # unsafe fn hash(p: *const u8, seed: usize, _: *const ()) -> usize {
    /// #     let k = unsafe { p.cast::<[u8; 8]>().read() }.map(|b| b.to_ascii_lowercase());
    /// #     unsafe { gomap::alg::memhash64(k.as_ptr(), seed) }
    /// # }
    /// # unsafe fn eq(a: *const u8, b: *const u8, _: *const ()) -> bool {
    /// #     let (a, b) = unsafe { (a.cast::<[u8; 8]>().read(), b.cast::<[u8; 8]>().read()) };
    /// #     a.eq_ignore_ascii_case(&b)
    /// # }
    /// # let (key, elem) = (TypeInfo::of::<[u8; 8]>(), TypeInfo::of::<u64>());
    /// /// # Safety
    /// /// `p` is a live, aligned `String` elem the map gives up.
    /// unsafe fn drop_string(p: *mut u8, _ctx: *const ()) {
    ///     // SAFETY: a live, aligned `String`, dropped once (point 1).
    ///     unsafe { core::ptr::drop_in_place(p.cast::<String>()) }
    /// }
    /// let elem = TypeInfo::of_pointerful::<String>();
    /// let t = MapTypeBuilder::new(key, elem, hash, eq).drop_fns(None, Some(drop_string)).build().unwrap();
    /// assert!(t.bucket_pointers());
    /// ```
    #[inline]
    pub fn drop_fns(mut self, key: Option<DropFn>, elem: Option<DropFn>) -> Self {
        self.key_drop = key;
        self.elem_drop = elem;
        self
    }
    /// Context passed to every callback; `owner` keeps it alive.
    ///
    /// # Safety
    /// * Every callback (hasher, equality, key check, clone and drop hooks)
    ///   must be callable with `ctx`, under its contract ([`HashFn`],
    ///   [`EqualFn`], [`KeyCheckFn`], [`CloneFn`], [`DropFn`]), from any
    ///   thread, for as long as the descriptor (or a
    ///   [`duplicate`](MapType::duplicate) of it) lives; `owner` may keep
    ///   what `ctx` points to alive.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use gomap::maptype::{MapTypeBuilder, TypeInfo};
    /// /// Keys compared modulo the `u64` at `ctx`.
    /// /// # Safety
    /// /// `p` is an 8-byte key; `ctx` points to a live `u64`.
    /// unsafe fn hash(p: *const u8, seed: usize, ctx: *const ()) -> usize {
    ///     // SAFETY: `ctx` points to the `u64` the descriptor keeps (point 2).
    ///     let m = unsafe { *ctx.cast::<u64>() };
    ///     // SAFETY: an 8-byte key (point 1).
    ///     let k = unsafe { p.cast::<u64>().read_unaligned() } % m;
    ///     // SAFETY: `k` is 8 readable bytes.
    ///     unsafe { gomap::alg::memhash64((&raw const k).cast(), seed) }
    /// }
    /// /// # Safety
    /// /// `a` and `b` are 8-byte keys; `ctx` points to a live `u64`.
    /// unsafe fn eq(a: *const u8, b: *const u8, ctx: *const ()) -> bool {
    ///     // SAFETY: as in `hash`.
    ///     let m = unsafe { *ctx.cast::<u64>() };
    ///     // SAFETY: an 8-byte key (point 1).
    ///     let a = unsafe { a.cast::<u64>().read_unaligned() };
    ///     // SAFETY: an 8-byte key (point 1).
    ///     let b = unsafe { b.cast::<u64>().read_unaligned() };
    ///     a % m == b % m
    /// }
    /// let modulus = Arc::new(1000u64);
    /// let ctx = Arc::as_ptr(&modulus).cast::<()>();
    /// let b = MapTypeBuilder::new(TypeInfo::of::<u64>(), TypeInfo::of::<u64>(), hash, eq);
    /// // SAFETY: both callbacks read a `u64` at `ctx`, which `modulus` keeps
    /// // alive as long as the descriptor (it holds the `Arc`), from any thread.
    /// let t = unsafe { b.ctx(ctx, Some(modulus)) }.build().unwrap();
    /// let (k1, k2) = (1234u64, 234u64);
    /// // SAFETY: both are 8-byte keys of `t`.
    /// assert!(unsafe { t.key_equal((&raw const k1).cast(), (&raw const k2).cast()) });
    /// ```
    #[inline]
    pub unsafe fn ctx(mut self, ctx: *const (), owner: Option<Arc<dyn Any + Send + Sync>>) -> Self {
        self.ctx = ctx;
        self.ctx_owner = owner;
        self
    }
    /// Records which built-in hash the hasher is. The map relies on it:
    /// for [`KeyKind::Memory`] keys of 4 or 8 bytes and [`KeyKind::Str`]
    /// keys it calls `memhash32`/`memhash64`/`strhash` itself (see
    /// [`MapType::hash`]), so the hasher must be that function; any other
    /// hasher is [`KeyKind::Custom`] (the default).
    ///
    /// ```
    /// use gomap::maptype::{KeyKind, MapTypeBuilder, TypeInfo};
    /// /// # Safety
    /// /// `p` is an 8-byte key.
    /// unsafe fn h(p: *const u8, seed: usize, _: *const ()) -> usize {
    ///     // SAFETY: 8 readable bytes (point 1).
    ///     unsafe { gomap::alg::memhash64(p, seed) }
    /// }
    /// /// # Safety
    /// /// `a` and `b` are 8-byte keys.
    /// unsafe fn e(a: *const u8, b: *const u8, _: *const ()) -> bool {
    ///     // SAFETY: 8 readable bytes each (point 1).
    ///     unsafe { a.cast::<u64>().read_unaligned() == b.cast::<u64>().read_unaligned() }
    /// }
    /// let t = MapTypeBuilder::new(TypeInfo::of::<u64>(), TypeInfo::of::<u64>(), h, e)
    ///     .kind(KeyKind::Memory) // `h` is memhash64: the map may call it directly
    ///     .build()
    ///     .unwrap();
    /// assert_eq!(t.kind(), KeyKind::Memory);
    /// ```
    #[inline]
    pub fn kind(mut self, kind: KeyKind) -> Self {
        self.kind = kind;
        self
    }

    /// Validates and derives the layout (Go: `reflect.MapOf` +
    /// `reflect_makemap`'s checks, map_noswiss.go:1388-1431).
    ///
    /// ```
    /// # use gomap::maptype::{MapTypeBuilder, TypeInfo};
    /// #     /// Go's memhash64 of the key with ASCII letters lowered.
    /// # unsafe fn hash(p: *const u8, seed: usize, _: *const ()) -> usize {
    /// #     let k = unsafe { p.cast::<[u8; 8]>().read() }.map(|b| b.to_ascii_lowercase());
    /// #     unsafe { gomap::alg::memhash64(k.as_ptr(), seed) }
    /// # }
    /// # unsafe fn eq(a: *const u8, b: *const u8, _: *const ()) -> bool {
    /// #     let (a, b) = unsafe { (a.cast::<[u8; 8]>().read(), b.cast::<[u8; 8]>().read()) };
    /// #     a.eq_ignore_ascii_case(&b)
    /// # }
    /// # let (key, elem) = (TypeInfo::of::<[u8; 8]>(), TypeInfo::of::<u64>());
    /// use gomap::maptype::TypeError;
    /// // A key over 128 bytes goes out of line, as in Go.
    /// let big = TypeInfo { size: 200, align: 8, pointers: false };
    /// let t = MapTypeBuilder::new(big, elem, hash, eq).build().unwrap();
    /// assert!(t.indirect_key() && t.keysize() == size_of::<usize>());
    /// // A size that is not a multiple of the alignment is refused.
    /// let bad = TypeInfo { size: 12, align: 8, pointers: false };
    /// assert!(matches!(MapTypeBuilder::new(bad, elem, hash, eq).build(), Err(TypeError::SizeNotMultipleOfAlign(_))));
    /// ```
    #[inline]
    pub fn build(self) -> Result<MapType, TypeError> {
        let l = Layout::derive(self.key, self.elem, self.reflexive, self.need_key_update, self.key_check.is_some())?;
        Ok(MapType {
            key: self.key,
            elem: self.elem,
            hasher: self.hasher,
            equal: self.equal,
            key_check: self.key_check,
            key_clone: self.key_clone,
            elem_clone: self.elem_clone,
            key_drop: self.key_drop,
            elem_drop: self.elem_drop,
            ctx: self.ctx,
            _ctx_owner: self.ctx_owner,
            hook_ctx: self.ctx,
            _hook_owner: None,
            kind: self.kind,
            may_unwind: self.kind as u8 == KeyKind::Custom as u8 && !self.trusted,
            keysize: l.keysize,
            valuesize: l.valuesize,
            bucketsize: l.bucketsize,
            flags: l.flags,
            bucket_pointers: l.bucket_pointers,
            pool_roles: l.pool_roles,
        })
    }
}

/// The derived part of a descriptor: what Go's compiler computes from the
/// key and elem types (`reflectdata.MapBucketType`) and the flags.
#[derive(Clone, Copy)]
struct Layout {
    keysize: u8,
    valuesize: u8,
    bucketsize: u16,
    flags: u32,
    bucket_pointers: bool,
    pool_roles: [usize; 3],
}

impl Layout {
    /// Checks the types as `reflect_makemap` does and derives the layout.
    /// A `const fn`, so descriptors of Rust types can be built at compile
    /// time ([`MapType::from_spec`]).
    #[inline]
    const fn derive(
        key: TypeInfo,
        elem: TypeInfo,
        reflexive: bool,
        need_key_update: bool,
        hash_might_panic: bool,
    ) -> Result<Layout, TypeError> {
        if let Err(e) = check_type(&key, "key") {
            return Err(e);
        }
        if let Err(e) = check_type(&elem, "elem") {
            return Err(e);
        }
        let mut flags = 0;
        // Go's rule (size), and gomap's for types aligned above 8, which
        // Go does not have: a slot is at most 8-aligned.
        let indirect_key = key.size > MAX_KEY_BYTES || key.align > MAX_INLINE_ALIGN;
        let indirect_elem = elem.size > MAX_ELEM_BYTES || elem.align > MAX_INLINE_ALIGN;
        if indirect_key {
            flags |= FLAG_INDIRECT_KEY;
        }
        if indirect_elem {
            flags |= FLAG_INDIRECT_ELEM;
        }
        if reflexive {
            flags |= FLAG_REFLEXIVE_KEY;
        }
        if need_key_update {
            flags |= FLAG_NEED_KEY_UPDATE;
        }
        if hash_might_panic {
            flags |= FLAG_HASH_MIGHT_PANIC;
        }
        let keysize = if indirect_key { PTR_SIZE } else { key.size };
        let valuesize = if indirect_elem { PTR_SIZE } else { elem.size };
        // tophash[8] + keys[8] + elems[8] + overflow pointer. Each of the
        // first three parts is a multiple of 8 bytes wide, so every slot
        // array starts 8-aligned, and Go needs no padding (its slots are
        // aligned at most to the pointer size; the compiler's
        // MapBucketType checks the same). gomap's one addition: a slot
        // aligned above the pointer size (a Rust `u64` on armv7 or wasm32)
        // rounds the bucket up to its alignment, so that every bucket of an
        // array keeps it.
        let mut bucket_align = PTR_SIZE;
        if !indirect_key && key.align > bucket_align {
            bucket_align = key.align;
        }
        if !indirect_elem && elem.align > bucket_align {
            bucket_align = elem.align;
        }
        let bucketsize = (BUCKET_CNT * (1 + keysize + valuesize) + PTR_SIZE).next_multiple_of(bucket_align);
        let bucket_pointers = key.pointers || elem.pointers || indirect_key || indirect_elem;
        let pool_roles = crate::quarantine::pool_roles(
            bucketsize,
            (indirect_key, key.size, key.align),
            (indirect_elem, elem.size, elem.align),
        );
        Ok(Layout {
            keysize: keysize as u8,
            valuesize: valuesize as u8,
            bucketsize: bucketsize as u16,
            flags,
            bucket_pointers,
            pool_roles,
        })
    }
}

/// A key type's half of a descriptor, for keys whose hashing needs no
/// owned context: everything [`MapType::from_spec`] needs to build a
/// descriptor at compile time. The presets' specs are
/// [`KeySpec::memory`], [`KeySpec::f32`], [`KeySpec::f64`], [`KeySpec::string`].
#[derive(Clone, Copy, Debug)]
pub struct KeySpec {
    /// The key type.
    pub key: TypeInfo,
    /// The hasher.
    pub hasher: HashFn,
    /// The equality.
    pub equal: EqualFn,
    /// Which built-in hash `hasher` is ([`KeyKind::Custom`] if none).
    pub kind: KeyKind,
    /// `ReflexiveKey`.
    pub reflexive: bool,
    /// `NeedKeyUpdate`.
    pub need_key_update: bool,
    /// Whether `hasher` and `equal` never unwind (see
    /// [`MapTypeBuilder::trusted_callbacks`]); built-in kinds always are.
    pub trusted: bool,
    /// The context passed to `hasher` and `equal`: must stay valid forever
    /// (a constant, e.g. a size smuggled in a pointer, or null).
    pub ctx: *const (),
}

impl MapType {
    /// [`Self::from_spec`] without hooks, returning the builder's errors
    /// instead of panicking.
    pub fn try_from_spec(spec: KeySpec, elem: TypeInfo) -> Result<MapType, TypeError> {
        Layout::derive(spec.key, elem, spec.reflexive, spec.need_key_update, false)?;
        Ok(Self::from_spec(spec, elem, None, None, None, None))
    }

    /// The descriptor for `spec`'s keys and `elem`, with drop and clone
    /// hooks: what [`MapTypeBuilder::build`] derives, computed by a `const
    /// fn`, so that a typed map's descriptor can be a constant (the typed
    /// wrapper keeps one per `(K, V)` in static memory instead of building
    /// one per `make`).
    ///
    /// # Panics
    /// Where the builder returns a [`TypeError`] (at compile time when
    /// evaluated in a constant).
    pub const fn from_spec(
        spec: KeySpec,
        elem: TypeInfo,
        key_drop: Option<DropFn>,
        elem_drop: Option<DropFn>,
        key_clone: Option<CloneFn>,
        elem_clone: Option<CloneFn>,
    ) -> MapType {
        let l = match Layout::derive(spec.key, elem, spec.reflexive, spec.need_key_update, false) {
            Ok(l) => l,
            Err(TypeError::BadAlign(_)) => panic!("gomap: alignment is zero or not a power of two"),
            Err(TypeError::AlignTooBig(_)) => panic!("gomap: key or elem alignment above 2^29"),
            Err(TypeError::SizeNotMultipleOfAlign(_)) => panic!("gomap: size not a multiple of alignment"),
            Err(TypeError::SizeTooLarge(_)) => panic!("gomap: key or elem size too large"),
        };
        MapType {
            key: spec.key,
            elem,
            hasher: spec.hasher,
            equal: spec.equal,
            key_check: None,
            key_clone,
            elem_clone,
            key_drop,
            elem_drop,
            ctx: spec.ctx,
            _ctx_owner: None,
            hook_ctx: spec.ctx,
            _hook_owner: None,
            kind: spec.kind,
            may_unwind: spec.kind as u8 == KeyKind::Custom as u8 && !spec.trusted,
            keysize: l.keysize,
            valuesize: l.valuesize,
            bucketsize: l.bucketsize,
            flags: l.flags,
            bucket_pointers: l.bucket_pointers,
            pool_roles: l.pool_roles,
        }
    }
}

#[inline]
const fn check_type(t: &TypeInfo, what: &'static str) -> Result<(), TypeError> {
    if t.align == 0 || !t.align.is_power_of_two() {
        return Err(TypeError::BadAlign(what));
    }
    if t.align > MAX_ALIGN {
        return Err(TypeError::AlignTooBig(what));
    }
    if t.size % t.align != 0 {
        return Err(TypeError::SizeNotMultipleOfAlign(what));
    }
    if t.size > isize::MAX as usize / 2 {
        return Err(TypeError::SizeTooLarge(what));
    }
    Ok(())
}

impl MapType {
    /// Returns this descriptor with drop and clone hooks replaced (used by the
    /// typed wrapper to add Rust drop glue to a preset).
    #[inline]
    pub fn with_hooks(
        mut self,
        key_drop: Option<DropFn>,
        elem_drop: Option<DropFn>,
        key_clone: Option<CloneFn>,
        elem_clone: Option<CloneFn>,
    ) -> MapType {
        self.key_drop = key_drop;
        self.elem_drop = elem_drop;
        self.key_clone = key_clone;
        self.elem_clone = elem_clone;
        self
    }

    /// Returns this descriptor with `hook_ctx` as the context its drop and
    /// clone hooks receive (by default they receive the descriptor's own
    /// `ctx`, which the hasher and equality need), kept alive by `owner`.
    ///
    /// # Safety
    /// 1. The hooks of the result (set before or after this call) accept
    ///    `hook_ctx` as their `ctx` argument ([`DropFn`], [`CloneFn`]);
    /// 2. whatever `hook_ctx` points to stays valid while the descriptor
    ///    (or a [`MapType::duplicate`] of it) lives: `owner` keeps it alive,
    ///    or it is static.
    pub unsafe fn with_hook_ctx(mut self, hook_ctx: *const (), owner: Option<Arc<dyn Any + Send + Sync>>) -> MapType {
        self.hook_ctx = hook_ctx;
        self._hook_owner = owner;
        self
    }

    /// A copy of this descriptor sharing its callbacks and context (hooks
    /// included).
    pub fn duplicate(&self) -> MapType {
        MapType {
            key: self.key,
            elem: self.elem,
            hasher: self.hasher,
            equal: self.equal,
            key_check: self.key_check,
            key_clone: self.key_clone,
            elem_clone: self.elem_clone,
            key_drop: self.key_drop,
            elem_drop: self.elem_drop,
            ctx: self.ctx,
            _ctx_owner: self._ctx_owner.clone(),
            hook_ctx: self.hook_ctx,
            _hook_owner: self._hook_owner.clone(),
            kind: self.kind,
            may_unwind: self.may_unwind,
            keysize: self.keysize,
            valuesize: self.valuesize,
            bucketsize: self.bucketsize,
            flags: self.flags,
            bucket_pointers: self.bucket_pointers,
            pool_roles: self.pool_roles,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A constant [`HashFn`].
    ///
    /// # Safety
    /// None needed; `unsafe` only to be a [`HashFn`].
    unsafe fn h(_: *const u8, _: usize, _: *const ()) -> usize {
        0
    }
    /// An [`EqualFn`] for which all keys are equal.
    ///
    /// # Safety
    /// None needed; `unsafe` only to be an [`EqualFn`].
    unsafe fn e(_: *const u8, _: *const u8, _: *const ()) -> bool {
        true
    }

    #[test]
    fn layout_matches_go_formula() {
        // Pointer slots and the overflow word are P bytes: Go's
        // map[uint64]uint64 bucket is 144 bytes on 64-bit, 140 on 386.
        const P: usize = PTR_SIZE;
        let u64go = TypeInfo::of::<u64>().go_aligned();
        let t = MapTypeBuilder::new(u64go, u64go, h, e).build().unwrap();
        assert_eq!((t.keysize(), t.valuesize(), t.bucketsize()), (8, 8, 8 * 17 + P));
        // Rust's u64, aligned to 8 where Go aligns it to 4 (armv7, wasm32):
        // inline, and the bucket rounded up to 8 (144 bytes, not 140), so
        // that every bucket of an array keeps its slots 8-aligned.
        let t = MapTypeBuilder::new(TypeInfo::of::<u64>(), TypeInfo::of::<u64>(), h, e).build().unwrap();
        assert_eq!((t.keysize(), t.valuesize()), (8, 8));
        assert_eq!(t.bucketsize(), (8 * 17 + P).next_multiple_of(align_of::<u64>().max(P)));
        assert_eq!(t.bucketsize() % align_of::<u64>(), 0);
        let big = TypeInfo { size: 129, align: 1, pointers: false };
        let t = MapTypeBuilder::new(big, big, h, e).build().unwrap();
        assert!(t.indirect_key() && t.indirect_elem() && t.bucket_pointers());
        assert_eq!((t.keysize(), t.valuesize(), t.bucketsize()), (P, P, 8 * (1 + 2 * P) + P));
        let zero = TypeInfo { size: 0, align: 1, pointers: false };
        let t = MapTypeBuilder::new(zero, zero, h, e).build().unwrap();
        assert_eq!(t.bucketsize(), 8 + P);
        // 128 bytes stays inline (the limit is inclusive).
        let k128 = TypeInfo { size: 128, align: P, pointers: false };
        let t = MapTypeBuilder::new(k128, k128, h, e).build().unwrap();
        assert!(!t.indirect_key());
        assert_eq!(t.bucketsize(), 8 * (1 + 128 + 128) + P);
        // Aligned above the pointer size: out of line whatever the size
        // (gomap's rule); the pointer size stays inline.
        let a16 = TypeInfo { size: 16, align: 16, pointers: false };
        let t = MapTypeBuilder::new(u64go, a16, h, e).build().unwrap();
        assert!(!t.indirect_key() && t.indirect_elem() && t.bucket_pointers());
        assert_eq!((t.keysize(), t.valuesize(), t.bucketsize()), (8, P, 8 * (1 + 8 + P) + P));
        let t = MapTypeBuilder::new(a16, TypeInfo::of::<u8>(), h, e).build().unwrap();
        assert!(t.indirect_key() && !t.indirect_elem());
        assert_eq!((t.keysize(), t.valuesize(), t.bucketsize()), (P, 1, 8 * (1 + P + 1) + P));
        let a8 = TypeInfo { size: 16, align: MAX_INLINE_ALIGN, pointers: false };
        let t = MapTypeBuilder::new(a8, a8, h, e).build().unwrap();
        assert!(!t.indirect_key() && !t.indirect_elem() && !t.bucket_pointers());
        // On i686 8-aligned already goes out of line (Rust aligns u64 to 4
        // there, as Go does); on armv7 and wasm32 it stays inline.
        let a8 = TypeInfo { size: 16, align: 8, pointers: false };
        let t = MapTypeBuilder::new(a8, a8, h, e).build().unwrap();
        assert_eq!(t.indirect_key(), MAX_INLINE_ALIGN < 8);
        assert_eq!(MAX_INLINE_ALIGN, align_of::<u64>().max(P));
        let t =
            MapTypeBuilder::new(a16, TypeInfo { size: 0, align: MAX_ALIGN, pointers: false }, h, e).build().unwrap();
        assert!(t.indirect_key() && t.indirect_elem());
    }

    #[test]
    fn reflect_makemap_checks_become_errors() {
        let bad = |size, align| TypeInfo { size, align, pointers: false };
        let ok = TypeInfo::of::<u32>();
        let b = |k, v| MapTypeBuilder::new(k, v, h, e).build().map(|_| ()).unwrap_err();
        assert_eq!(b(bad(MAX_ALIGN * 2, MAX_ALIGN * 2), ok), TypeError::AlignTooBig("key"));
        assert_eq!(b(ok, bad(MAX_ALIGN * 2, MAX_ALIGN * 2)), TypeError::AlignTooBig("elem"));
        assert_eq!(b(bad(6, 4), ok), TypeError::SizeNotMultipleOfAlign("key"));
        assert_eq!(b(bad(4, 0), ok), TypeError::BadAlign("key"));
        assert_eq!(b(bad(6, 3), ok), TypeError::BadAlign("key"));
        assert_eq!(b(ok, bad(usize::MAX - 7, 8)), TypeError::SizeTooLarge("elem"));
    }
}
