//! Ready-made [`MapType`]s for common key kinds, with the hasher, equality
//! and flags Go's compiler would pick for the corresponding Go key type.
//!
//! How Go chooses (Go 1.24.11):
//!
//! * the hasher: `reflectdata.genhash` (cmd/compile/internal/reflectdata/alg.go:52)
//!   switches on `AlgType` (same file, :22). Plain memory ("regular memory":
//!   integers, pointers, bools, arrays and unpadded structs of those) of
//!   size 0, 1, 2, 4, 8 or 16 gets `memhash0/8/16/32/64/128`, other sizes
//!   `memhash_varlen` with the size in the closure; floats, complex numbers
//!   and strings get `f32hash`..`c128hash`, `strhash`; everything else (structs
//!   with padding, blank fields or non-memory fields; arrays of non-memory
//!   elements) gets a generated function that walks the fields
//!   (`hashFunc`, :137);
//! * the flags: `reflexive` from `types.IsReflexive` (types/type.go:1813),
//!   false as soon as a float or complex is involved; `need key update` from
//!   `reflectdata.needkeyupdate` (reflectdata/reflect.go:620), true for
//!   floats, complex numbers and strings.
//!
//! `tests/hash_vectors.rs` checks every preset against the hasher and flags
//! read out of real Go map types (`tests/data/hash_vectors.json`).
//!
//! # Safety
//!
//! Every hasher and equality here is a [`HashFn`] / [`EqualFn`]: the map
//! calls it with keys of the descriptor it belongs to. Each one's `# Safety`
//! says what that key must hold, and every descriptor this module builds
//! pairs a function only with a key type of exactly that shape (a memory
//! hasher with keys of its size, `h_str` with `GoString` keys, the
//! composite functions with the layout their `Composite` was made from).

use core::any::Any;
use core::ptr;
use std::sync::Arc;

use crate::alg::{self, GoString};
use crate::maptype::{
    EqualFn, GO_ARCH_ALIGNMENT, HashFn, KeyKind, KeySpec, MapType, MapTypeBuilder, TypeError, TypeInfo,
};

/// Which hash path the dispatching hashers currently use: `"aes"` or
/// `"fallback"`.
pub fn hash_path_name() -> &'static str {
    if alg::use_aeshash() { "aes" } else { "fallback" }
}

// ---------------------------------------------------------------------------
// Hasher and equality adapters with the descriptor's `ctx` argument.

macro_rules! hash_adapter {
    ($name:ident, $f:path) => {
        #[doc = concat!("[`", stringify!($f), "`] as a [`HashFn`].")]
        ///
        /// # Safety
        #[doc = concat!("* `p` meets the `# Safety` of [`", stringify!($f), "`]: it is a key of a")]
        ///   descriptor built with this hasher, whose key type is what that
        ///   function reads.
        unsafe fn $name(p: *const u8, seed: usize, _ctx: *const ()) -> usize {
            // SAFETY: `p` meets the callee's `# Safety`, point for point
            // (our point 1).
            unsafe { $f(p, seed) }
        }
    };
}

hash_adapter!(h_mem0, alg::memhash0);
hash_adapter!(h_mem8, alg::memhash8);
hash_adapter!(h_mem16, alg::memhash16);
hash_adapter!(h_mem32, alg::memhash32);
hash_adapter!(h_mem64, alg::memhash64);
hash_adapter!(h_mem128, alg::memhash128);
hash_adapter!(h_f32, alg::f32hash);
hash_adapter!(h_f64, alg::f64hash);
hash_adapter!(h_c64, alg::c64hash);
hash_adapter!(h_c128, alg::c128hash);
hash_adapter!(h_str, alg::strhash);

/// Go's `memhash_varlen` (alg.go:37): the size travels in the closure; here
/// it is the address value of `ctx`.
///
/// # Safety
/// * `ctx` is the descriptor's own context: its key size `n` as an address
///   ([`KeySpec::memory`]);
/// * `p` is valid for reads of `n` bytes (a key of that descriptor).
unsafe fn h_memvar(p: *const u8, seed: usize, ctx: *const ()) -> usize {
    // SAFETY: `p` is valid for reads of `ctx.addr()` bytes (points 1, 2).
    unsafe { alg::memhash(p, seed, ctx.addr()) }
}

macro_rules! eq_adapter {
    ($name:ident, $f:path) => {
        #[doc = concat!("[`", stringify!($f), "`] as an [`EqualFn`].")]
        ///
        /// # Safety
        #[doc = concat!("* `a` and `b` meet the `# Safety` of [`", stringify!($f), "`]: they are")]
        ///   keys of a descriptor built with this equality, whose key type is
        ///   what that function reads.
        unsafe fn $name(a: *const u8, b: *const u8, _ctx: *const ()) -> bool {
            // SAFETY: `a` and `b` meet the callee's `# Safety`, point for
            // point (our point 1).
            unsafe { $f(a, b) }
        }
    };
}

eq_adapter!(e_f32, alg::f32equal);
eq_adapter!(e_f64, alg::f64equal);
eq_adapter!(e_c64, alg::c64equal);
eq_adapter!(e_c128, alg::c128equal);
eq_adapter!(e_str, alg::strequal);

/// `memequal0` (alg.go:325): zero-size keys are all equal.
///
/// # Safety
/// None needed; `unsafe` only to be an [`EqualFn`].
unsafe fn e_mem0(_a: *const u8, _b: *const u8, _ctx: *const ()) -> bool {
    true
}

macro_rules! eq_fixed {
    ($name:ident, $t:ty) => {
        #[doc = concat!("Bytewise equality of `", stringify!($t), "`-sized keys, as an [`EqualFn`].")]
        ///
        /// # Safety
        #[doc = concat!("* `a` and `b` are each valid for reads of `size_of::<", stringify!($t), ">()` bytes")]
        ///   (keys of a descriptor of that key size; no alignment needed).
        unsafe fn $name(a: *const u8, b: *const u8, _ctx: *const ()) -> bool {
            // SAFETY: `a` is valid for reads of the type's size (point 1);
            // unaligned load.
            let x = unsafe { ptr::read_unaligned(a.cast::<$t>()) };
            // SAFETY: as for `x`, for `b` (point 1).
            let y = unsafe { ptr::read_unaligned(b.cast::<$t>()) };
            x == y
        }
    };
}

eq_fixed!(e_mem8, u8);
eq_fixed!(e_mem16, u16);
eq_fixed!(e_mem32, u32);
eq_fixed!(e_mem64, u64);
eq_fixed!(e_mem128, u128);

/// `memequal_varlen`: the size is the address value of `ctx`.
///
/// # Safety
/// * `ctx` is the descriptor's own context: its key size `n` as an address
///   ([`KeySpec::memory`]);
/// * `a` and `b` are each valid for reads of `n` bytes (keys of that
///   descriptor).
unsafe fn e_memvar(a: *const u8, b: *const u8, ctx: *const ()) -> bool {
    // SAFETY: `a` and `b` are valid for reads of `ctx.addr()` bytes
    // (points 1, 2).
    unsafe { alg::memequal(a, b, ctx.addr()) }
}

// ---------------------------------------------------------------------------
// Plain memory keys.

impl KeySpec {
    /// Plain memory of `key.size` bytes: Go's `AlgType` size switch
    /// (reflectdata/alg.go:30) picks `memhash{0,8,16,32,64,128}` or `memhash`
    /// with the size (carried in `ctx`). Its alignment escape (:25) fires
    /// only where [`GO_ARCH_ALIGNMENT`] exceeds 1 (Go's arm: armv7 and
    /// wasm32 here): a key aligned below it and below its size is hashed
    /// with `memhash` of its size.
    ///
    /// Every one of the `key.size` bytes is hashed and compared, so the key
    /// type must not have padding (or any other possibly uninitialised
    /// byte): a padded struct would hash uninitialised memory (undefined
    /// behaviour, which Miri reports) and equal keys could hash apart.
    /// Describe padded structs with [`MapType::composite_key`], or derive
    /// their descriptor ([`crate::keys`], which never reads padding).
    pub const fn memory(key: TypeInfo) -> KeySpec {
        // The alignment escape: on Go's arm, `[4]byte` is not hashed as a
        // uint32 (`memhash_varlen` instead).
        let size = if key.align < GO_ARCH_ALIGNMENT && key.align < key.size { usize::MAX } else { key.size };
        let (hasher, equal): (HashFn, EqualFn) = match size {
            0 => (h_mem0, e_mem0),
            1 => (h_mem8, e_mem8),
            2 => (h_mem16, e_mem16),
            4 => (h_mem32, e_mem32),
            8 => (h_mem64, e_mem64),
            16 => (h_mem128, e_mem128),
            _ => (h_memvar, e_memvar),
        };
        // The ctx of h_memvar/e_memvar is the key size as a plain integer:
        // it never dangles and is thread-agnostic.
        let ctx = match size {
            0 | 1 | 2 | 4 | 8 | 16 => ptr::null(),
            _ => ptr::without_provenance(key.size),
        };
        KeySpec {
            key,
            hasher,
            equal,
            kind: KeyKind::Memory,
            reflexive: true,
            need_key_update: false,
            trusted: true,
            ctx,
        }
    }

    /// `float32` keys: `f32hash`/`f32equal`; not reflexive (NaN), keys
    /// updated on overwrite (+0/-0).
    pub const fn f32() -> KeySpec {
        Self::float_like(TypeInfo::of::<f32>(), h_f32, e_f32, KeyKind::F32)
    }

    /// `float64` keys: `f64hash`/`f64equal`.
    pub const fn f64() -> KeySpec {
        Self::float_like(TypeInfo::of::<f64>(), h_f64, e_f64, KeyKind::F64)
    }

    /// The same spec with its key aligned as Go aligns it
    /// ([`TypeInfo::go_aligned`]): Go's layout on armv7 and wasm32, no
    /// change elsewhere.
    pub const fn go_aligned(self) -> KeySpec {
        KeySpec { key: self.key.go_aligned(), ..self }
    }

    const fn float_like(key: TypeInfo, hasher: HashFn, equal: EqualFn, kind: KeyKind) -> KeySpec {
        KeySpec { key, hasher, equal, kind, reflexive: false, need_key_update: true, trusted: true, ctx: ptr::null() }
    }

    /// `string` keys (a Go string header): `strhash`/`strequal`; keys
    /// updated on overwrite (equal strings may live at other addresses).
    pub const fn string() -> KeySpec {
        KeySpec {
            key: TypeInfo::of_pointerful::<GoString>(),
            hasher: h_str,
            equal: e_str,
            kind: KeyKind::Str,
            reflexive: true,
            need_key_update: true,
            trusted: true,
            ctx: ptr::null(),
        }
    }
}

/// Whether a memory run from offset `start` may grow to `end` in a struct
/// aligned to `align` (`compare.Memrun`'s clause for issue 46283,
/// compare.go:43): always where Go's `Alignment` is 1; on Go's arm only
/// while the run is no wider than the alignment its start offset has.
const fn run_fits(start: usize, end: usize, align: usize) -> bool {
    // A bad `align` is refused by the layout check after the walk
    // (`TypeError::BadAlign`); the walk must not trip over it first.
    if GO_ARCH_ALIGNMENT <= 1 || !align.is_power_of_two() {
        return true;
    }
    let mut a = align;
    if start & (a - 1) != 0 {
        a = 1 << start.trailing_zeros();
    }
    end - start <= a
}

#[inline]
fn mem_key_info(key: TypeInfo, elem: TypeInfo) -> Result<MapType, TypeError> {
    MapType::try_from_spec(KeySpec::memory(key), elem)
}

/// Generates one-line conveniences for fixed-size plain-memory keys.
macro_rules! mem_presets {
    ($($(#[$doc:meta])* $name:ident => $info:expr;)*) => {
        impl MapType {
            $(
                $(#[$doc])*
                #[inline]
                pub fn $name(elem: TypeInfo) -> Result<MapType, TypeError> {
                    mem_key_info($info.go_aligned(), elem)
                }
            )*
        }
    };
}

mem_presets! {
    /// `map[bool]V`: `memhash8`.
    bool_key => TypeInfo::of::<bool>();
    /// `map[uint8]V`: `memhash8`.
    u8_key => TypeInfo::of::<u8>();
    /// `map[int8]V`: `memhash8`.
    i8_key => TypeInfo::of::<i8>();
    /// `map[uint16]V`: `memhash16`.
    u16_key => TypeInfo::of::<u16>();
    /// `map[int16]V`: `memhash16`.
    i16_key => TypeInfo::of::<i16>();
    /// `map[uint32]V`: `memhash32`.
    u32_key => TypeInfo::of::<u32>();
    /// `map[int32]V`: `memhash32`.
    i32_key => TypeInfo::of::<i32>();
    /// `map[uint64]V`: `memhash64`.
    u64_key => TypeInfo::of::<u64>();
    /// `map[int64]V`: `memhash64`.
    i64_key => TypeInfo::of::<i64>();
    /// `map[uintptr]V` / `map[uint]V`: `memhash64`.
    usize_key => TypeInfo::of::<usize>();
    /// `map[int]V`: `memhash64`.
    isize_key => TypeInfo::of::<isize>();
    /// `map[*T]V` (also `unsafe.Pointer`, channels): `memhash64` on the
    /// address; the key holds a pointer, so buckets are not "noscan".
    ptr_key => TypeInfo::of_pointerful::<*const u8>();
}

impl MapType {
    /// Keys of `size` bytes of plain memory aligned to `align` (integers,
    /// arrays and unpadded structs of those): `memhash0/8/16/32/64/128` for
    /// sizes 0, 1, 2, 4, 8, 16, otherwise `memhash(p, h, size)` (Go's
    /// `memhash_varlen`). Keys over 128 bytes are stored out of line.
    #[inline]
    pub fn mem_key(size: usize, align: usize, elem: TypeInfo) -> Result<MapType, TypeError> {
        mem_key_info(TypeInfo { size, align, pointers: false }, elem)
    }

    /// `map[[n]byte]V`: plain memory of `n` bytes, alignment 1.
    pub fn bytes_key(n: usize, elem: TypeInfo) -> Result<MapType, TypeError> {
        Self::mem_key(n, 1, elem)
    }

    /// `map[float32]V`: `f32hash`/`f32equal`; not reflexive (NaN), keys
    /// updated on overwrite (+0/-0).
    #[inline]
    pub fn f32_key(elem: TypeInfo) -> Result<MapType, TypeError> {
        MapType::try_from_spec(KeySpec::f32(), elem)
    }

    /// `map[float64]V`: `f64hash`/`f64equal`.
    #[inline]
    pub fn f64_key(elem: TypeInfo) -> Result<MapType, TypeError> {
        MapType::try_from_spec(KeySpec::f64().go_aligned(), elem)
    }

    /// `map[complex64]V` (two `f32`, align 4): `c64hash`/`c64equal`.
    pub fn c64_key(elem: TypeInfo) -> Result<MapType, TypeError> {
        float_like(TypeInfo { size: 8, align: 4, pointers: false }, elem, h_c64, e_c64, KeyKind::C64)
    }

    /// `map[complex128]V` (two `f64`, aligned as Go aligns `float64`: 8
    /// on 64-bit, 4 on 32-bit as on Go's 386 and arm): `c128hash`/`c128equal`.
    pub fn c128_key(elem: TypeInfo) -> Result<MapType, TypeError> {
        let key = TypeInfo { size: 16, align: align_of::<f64>(), pointers: false }.go_aligned();
        float_like(key, elem, h_c128, e_c128, KeyKind::C128)
    }

    /// `map[string]V`: keys are [`GoString`] headers hashed with `strhash`
    /// and compared by content; reflexive, keys updated on overwrite (the
    /// new key may have a smaller backing store).
    #[inline]
    pub fn str_key(elem: TypeInfo) -> Result<MapType, TypeError> {
        MapType::try_from_spec(KeySpec::string(), elem)
    }

    /// A struct (or array) key described field by field, hashed as Go's
    /// compiler-generated hasher does (`hashFunc`, reflectdata/alg.go:137):
    ///
    /// * fields are visited in order; [`FieldKind::Blank`] fields are skipped;
    /// * a maximal run of adjacent plain-memory fields ([`FieldKind::Mem`],
    ///   [`FieldKind::Ptr`]) is hashed with one `memhash(p+off, h, len)`
    ///   (`compare.Memrun`, compare/compare.go:28): a run ends at padding
    ///   (the next field does not start where the previous ends), before a
    ///   blank field and before any other kind of field; where Go's
    ///   `Alignment` exceeds 1 ([`GO_ARCH_ALIGNMENT`]: armv7 and wasm32,
    ///   as Go's arm), also before a field that would make the run wider
    ///   than the alignment of its start (the struct's `align`, or less
    ///   if the start offset is less aligned). There a nested
    ///   regular-memory struct is one [`FieldKind::Mem`] field, as Go
    ///   sees it, not its flattened fields;
    /// * floats, complex numbers and strings use their own hash, chained.
    ///
    /// A struct that is regular memory (only memory fields, no gaps, no
    /// blank fields) is hashed as plain memory of its size instead, and a
    /// one-field struct exactly like its field (Go's `AlgType` rules,
    /// types/size.go:560), which also gives it the field's [`KeyKind`].
    ///
    /// Nested structs and arrays are described flattened. Go hashes a nested
    /// struct (or an array element) that is *not* regular memory with its
    /// own generated function, so memory runs never cross its boundaries:
    /// put a zero-size [`FieldKind::Blank`] at its start and end offsets to
    /// reproduce that. Nested regular-memory structs merge with neighbouring
    /// memory fields, like plain fields (no markers).
    ///
    /// Flags: reflexive unless a float or complex field exists; key update
    /// when a float, complex or string field exists; the key holds pointers
    /// when a string or [`FieldKind::Ptr`] field exists. Blank fields count
    /// as plain memory for the flags (Go would look at their type).
    ///
    /// # Panics
    /// If the fields are not sorted by offset, overlap, extend past `size`,
    /// or a float/complex/string field has the wrong size.
    pub fn composite_key(fields: &[Field], size: usize, align: usize, elem: TypeInfo) -> Result<MapType, TypeError> {
        validate_fields(fields, size);
        let pointers = fields.iter().any(|f| matches!(f.kind, FieldKind::Str | FieldKind::Ptr));
        let key = TypeInfo { size, align, pointers };

        // Regular memory: only memory fields tiling [0, size).
        let mut end = 0;
        let mut regular = true;
        for f in fields {
            if !matches!(f.kind, FieldKind::Mem | FieldKind::Ptr) || f.offset != end {
                regular = false;
                break;
            }
            end = f.offset + f.size;
        }
        if regular && end == size {
            return mem_key_info(key, elem);
        }

        // A one-field struct is its field. (A lone memory field was handled
        // above; a lone blank field hashes nothing, like the general walk.)
        if let [f] = fields {
            if f.offset == 0 && f.size == size {
                let (h, e, kind): (HashFn, EqualFn, KeyKind) = match f.kind {
                    FieldKind::F32 => (h_f32, e_f32, KeyKind::F32),
                    FieldKind::F64 => (h_f64, e_f64, KeyKind::F64),
                    FieldKind::C64 => (h_c64, e_c64, KeyKind::C64),
                    FieldKind::C128 => (h_c128, e_c128, KeyKind::C128),
                    FieldKind::Str => (h_str, e_str, KeyKind::Str),
                    FieldKind::Mem | FieldKind::Ptr | FieldKind::Blank => {
                        (h_composite, e_composite, KeyKind::Composite)
                    }
                };
                if kind == KeyKind::Str {
                    return MapTypeBuilder::new(key, elem, h, e).kind(kind).need_key_update(true).build();
                }
                if kind != KeyKind::Composite {
                    return float_like(key, elem, h, e, kind);
                }
            }
        }

        // The general walk.
        let mut ops: Vec<Op> = Vec::new();
        let mut run: Option<(usize, usize)> = None; // (start, end) of the open memory run
        fn flush(run: &mut Option<(usize, usize)>, ops: &mut Vec<Op>) {
            if let Some((s, e)) = run.take() {
                ops.push(Op::Mem { off: s, len: e - s });
            }
        }
        let mut has_float = false;
        let mut has_update = false;
        for f in fields {
            match f.kind {
                FieldKind::Mem | FieldKind::Ptr => match &mut run {
                    Some((s, e)) if *e == f.offset && run_fits(*s, f.offset + f.size, align) => *e += f.size,
                    _ => {
                        flush(&mut run, &mut ops);
                        run = Some((f.offset, f.offset + f.size));
                    }
                },
                FieldKind::Blank => flush(&mut run, &mut ops),
                k => {
                    flush(&mut run, &mut ops);
                    has_update = true;
                    has_float |= k != FieldKind::Str;
                    ops.push(match k {
                        FieldKind::F32 => Op::F32(f.offset),
                        FieldKind::F64 => Op::F64(f.offset),
                        FieldKind::C64 => Op::C64(f.offset),
                        FieldKind::C128 => Op::C128(f.offset),
                        _ => Op::Str(f.offset),
                    });
                }
            }
        }
        flush(&mut run, &mut ops);
        let ctx = Arc::new(Composite { ops });
        let ctx_ptr = Arc::as_ptr(&ctx).cast::<()>();
        let owner: Arc<dyn Any + Send + Sync> = ctx;
        let b = MapTypeBuilder::new(key, elem, h_composite, e_composite)
            .kind(KeyKind::Composite)
            .reflexive(!has_float)
            .need_key_update(has_update);
        // SAFETY: the callbacks are `h_composite` and `e_composite`, whose
        // point 1 `ctx_ptr` meets for as long as any descriptor holding it
        // lives: it points to the `Composite` that `owner` keeps alive (the
        // descriptor and its duplicates hold `owner`), built from these very
        // fields; `Composite` is immutable plain data (`Send + Sync`), so any
        // thread may read it. No clone, drop or key-check hook is set.
        unsafe { b.ctx(ctx_ptr, Some(owner)) }.build()
    }
}

#[inline]
fn float_like(key: TypeInfo, elem: TypeInfo, h: HashFn, e: EqualFn, kind: KeyKind) -> Result<MapType, TypeError> {
    MapTypeBuilder::new(key, elem, h, e).kind(kind).reflexive(false).need_key_update(true).build()
}

// ---------------------------------------------------------------------------
// Composite keys.

/// What a field of a composite key is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldKind {
    /// Plain memory without pointers (integers, bools, arrays and
    /// regular-memory structs of those).
    Mem,
    /// Plain memory that holds a pointer (hashed like [`FieldKind::Mem`];
    /// makes the key pointerful).
    Ptr,
    /// `float32`: `f32hash`, compared with `==`.
    F32,
    /// `float64`: `f64hash`, compared with `==`.
    F64,
    /// `complex64`: `c64hash`, compared part-wise with `==`.
    C64,
    /// `complex128`: `c128hash`, compared part-wise with `==`.
    C128,
    /// A [`GoString`] header: `strhash`, compared by content.
    Str,
    /// A blank (`_`) field: neither hashed nor compared, and it ends a memory
    /// run. Zero-size blank fields mark the boundaries of nested non-memory
    /// structs and array elements (see [`MapType::composite_key`]).
    Blank,
}

/// A field of a composite key: `size` bytes at `offset`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Field {
    /// Byte offset in the key.
    pub offset: usize,
    /// Size in bytes.
    pub size: usize,
    /// How it is hashed and compared.
    pub kind: FieldKind,
}

impl Field {
    /// A field of `kind` with `size` bytes at `offset`.
    pub const fn new(offset: usize, size: usize, kind: FieldKind) -> Self {
        Self { offset, size, kind }
    }
    /// `size` bytes of plain memory at `offset`.
    pub const fn mem(offset: usize, size: usize) -> Self {
        Self::new(offset, size, FieldKind::Mem)
    }
    /// A `float32` at `offset`.
    pub const fn f32(offset: usize) -> Self {
        Self::new(offset, 4, FieldKind::F32)
    }
    /// A `float64` at `offset`.
    pub const fn f64(offset: usize) -> Self {
        Self::new(offset, 8, FieldKind::F64)
    }
    /// A `complex64` at `offset`.
    pub const fn c64(offset: usize) -> Self {
        Self::new(offset, 8, FieldKind::C64)
    }
    /// A `complex128` at `offset`.
    pub const fn c128(offset: usize) -> Self {
        Self::new(offset, 16, FieldKind::C128)
    }
    /// A string header at `offset` (two words).
    pub const fn str(offset: usize) -> Self {
        Self::new(offset, size_of::<GoString>(), FieldKind::Str)
    }
    /// A blank field of `size` bytes at `offset` (0 for a run boundary).
    pub const fn blank(offset: usize, size: usize) -> Self {
        Self::new(offset, size, FieldKind::Blank)
    }
}

fn validate_fields(fields: &[Field], size: usize) {
    let mut end = 0;
    for (i, f) in fields.iter().enumerate() {
        let want = match f.kind {
            FieldKind::F32 => Some(4),
            FieldKind::F64 | FieldKind::C64 => Some(8),
            FieldKind::C128 => Some(16),
            FieldKind::Str => Some(size_of::<GoString>()),
            FieldKind::Mem | FieldKind::Ptr | FieldKind::Blank => None,
        };
        if let Some(w) = want {
            assert!(f.size == w, "composite_key: field {i} ({:?}) must be {w} bytes, not {}", f.kind, f.size);
        }
        assert!(f.offset >= end, "composite_key: field {i} at {} overlaps or is out of order", f.offset);
        end = f.offset.checked_add(f.size).expect("composite_key: field end overflows");
        assert!(end <= size, "composite_key: field {i} ends at {end}, past the key size {size}");
    }
}

/// One step of a composite hash/equality: a field (or memory run) at an
/// offset. [`validate_fields`] makes every step lie inside the key: for the
/// key size `size`, `off + len <= size` (`Mem`), `off + 4 <= size` (`F32`),
/// `off + 8 <= size` (`F64`, `C64`), `off + 16 <= size` (`C128`),
/// `off + size_of::<GoString>() <= size` (`Str`).
#[derive(Clone, Copy, Debug)]
enum Op {
    Mem { off: usize, len: usize },
    F32(usize),
    F64(usize),
    C64(usize),
    C128(usize),
    Str(usize),
}

impl Op {
    /// The step's byte offset in the key.
    #[inline]
    fn off(self) -> usize {
        match self {
            Op::Mem { off, .. } | Op::F32(off) | Op::F64(off) | Op::C64(off) | Op::C128(off) | Op::Str(off) => off,
        }
    }
}

/// The context of a composite descriptor: the steps of its hash and
/// equality, each inside the key (see [`Op`]). Never changed once built.
#[derive(Debug)]
struct Composite {
    ops: Vec<Op>,
}

/// The generated struct hasher (reflectdata/alg.go:190-226), interpreted.
///
/// # Safety
/// * `ctx` is the descriptor's own context: a live [`Composite`] built by
///   [`MapType::composite_key`] for this key layout;
/// * `p` is a key of that descriptor: valid for reads of the key size, its
///   string fields holding headers whose bytes are readable.
unsafe fn h_composite(p: *const u8, mut h: usize, ctx: *const ()) -> usize {
    // SAFETY: `ctx` points to a live, never mutated `Composite` (point 1).
    let c = unsafe { &*ctx.cast::<Composite>() };
    for &op in &c.ops {
        // SAFETY: `op.off() <= size` ([`Op`]), so `p + off` stays inside the
        // key's readable bytes (point 2) or one past them.
        let f = unsafe { p.add(op.off()) };
        h = match op {
            // SAFETY: the run's `len` bytes at `f` lie inside the key
            // (`off + len <= size`): readable (point 2).
            Op::Mem { len, .. } => unsafe { alg::memhash(f, h, len) },
            // SAFETY: 4 bytes at `f` inside the key: readable (point 2).
            Op::F32(_) => unsafe { alg::f32hash(f, h) },
            // SAFETY: 8 bytes at `f` inside the key: readable (point 2).
            Op::F64(_) => unsafe { alg::f64hash(f, h) },
            // SAFETY: 8 bytes at `f` inside the key: readable (point 2).
            Op::C64(_) => unsafe { alg::c64hash(f, h) },
            // SAFETY: 16 bytes at `f` inside the key: readable (point 2).
            Op::C128(_) => unsafe { alg::c128hash(f, h) },
            // SAFETY: 1. a 16-byte header at `f` inside the key; 2. its
            // bytes are readable (point 2).
            Op::Str(_) => unsafe { alg::strhash(f, h) },
        };
    }
    h
}

/// The generated struct equality (`geneq`, reflectdata/alg.go:294),
/// interpreted: blank fields and padding are ignored.
///
/// # Safety
/// * `ctx` is the descriptor's own context, as for [`h_composite`];
/// * `a` and `b` are keys of that descriptor, as `p` is for
///   [`h_composite`].
unsafe fn e_composite(a: *const u8, b: *const u8, ctx: *const ()) -> bool {
    // SAFETY: `ctx` points to a live, never mutated `Composite` (point 1).
    let c = unsafe { &*ctx.cast::<Composite>() };
    c.ops.iter().all(|&op| {
        // SAFETY: `op.off() <= size` ([`Op`]): inside key `a` (point 2) or
        // one past it.
        let fa = unsafe { a.add(op.off()) };
        // SAFETY: as for `fa`, inside key `b` (point 2).
        let fb = unsafe { b.add(op.off()) };
        match op {
            // SAFETY: `len` bytes at `fa` and at `fb` inside the keys
            // (`off + len <= size`): readable (point 2).
            Op::Mem { len, .. } => unsafe { alg::memequal(fa, fb, len) },
            // SAFETY: 4 bytes at each, inside the keys: readable (point 2).
            Op::F32(_) => unsafe { alg::f32equal(fa, fb) },
            // SAFETY: 8 bytes at each, inside the keys: readable (point 2).
            Op::F64(_) => unsafe { alg::f64equal(fa, fb) },
            // SAFETY: 8 bytes at each, inside the keys: readable (point 2).
            Op::C64(_) => unsafe { alg::c64equal(fa, fb) },
            // SAFETY: 16 bytes at each, inside the keys: readable (point 2).
            Op::C128(_) => unsafe { alg::c128equal(fa, fb) },
            // SAFETY: 1. a 16-byte header at each, inside the keys; 2.
            // their bytes are readable (point 2).
            Op::Str(_) => unsafe { alg::strequal(fa, fb) },
        }
    })
}

#[cfg(test)]
mod tests {
    //! No test here changes the process-wide hash path or material.
    use super::*;
    use crate::maptype::{FLAG_NEED_KEY_UPDATE, FLAG_REFLEXIVE_KEY};

    const U64: TypeInfo = TypeInfo::of::<u64>();

    fn ops(t: &MapType) -> Vec<Op> {
        // SAFETY: only called on composite descriptors, whose ctx is a Composite.
        unsafe { (*t.ctx.cast::<Composite>()).ops.clone() }
    }

    #[test]
    fn presets_flags_and_kinds() {
        let t = MapType::u32_key(U64).unwrap();
        assert_eq!((t.kind(), t.flags()), (KeyKind::Memory, FLAG_REFLEXIVE_KEY));
        let t = MapType::f64_key(U64).unwrap();
        assert_eq!((t.kind(), t.flags()), (KeyKind::F64, FLAG_NEED_KEY_UPDATE));
        let t = MapType::str_key(U64).unwrap();
        assert_eq!((t.kind(), t.flags()), (KeyKind::Str, FLAG_REFLEXIVE_KEY | FLAG_NEED_KEY_UPDATE));
        assert!(t.bucket_pointers());
        let t = MapType::bytes_key(200, U64).unwrap();
        assert!(t.indirect_key());
        assert!(matches!(hash_path_name(), "aes" | "fallback"));
    }

    /// A composite key with an alignment of 0 is a descriptor error, on
    /// every target: on Go's arm layout the memory-run limit reads the
    /// alignment before the layout check does (it underflowed there).
    #[test]
    fn presets_composite_bad_align_is_an_error() {
        let f = [Field::mem(0, 4), Field::mem(4, 4), Field::f32(8)];
        for align in [0, 3] {
            let e = MapType::composite_key(&f, 12, align, U64).unwrap_err();
            assert!(matches!(e, TypeError::BadAlign(_)), "align {align}: {e:?}");
        }
    }

    #[test]
    fn presets_composite_runs() {
        // struct{A uint8; B uint32; C, D uint16; E uint64} as laid out on
        // 64-bit (aligned as u64 is on the target, so it stays inline):
        // three runs.
        let f = [Field::mem(0, 1), Field::mem(4, 4), Field::mem(8, 2), Field::mem(10, 2), Field::mem(16, 8)];
        let t = MapType::composite_key(&f, 24, align_of::<u64>(), U64).unwrap();
        assert_eq!(t.kind(), KeyKind::Composite);
        assert_eq!(t.flags(), FLAG_REFLEXIVE_KEY);
        let got: Vec<_> = ops(&t).iter().map(|o| format!("{o:?}")).collect();
        if GO_ARCH_ALIGNMENT == 1 {
            assert_eq!(got, ["Mem { off: 0, len: 1 }", "Mem { off: 4, len: 8 }", "Mem { off: 16, len: 8 }"]);
        } else {
            // Go's arm (Memrun, compare.go:43): from B at 4 the run may not
            // grow past 4 bytes (B, then C+D), E alone.
            assert_eq!(
                got,
                [
                    "Mem { off: 0, len: 1 }",
                    "Mem { off: 4, len: 4 }",
                    "Mem { off: 8, len: 4 }",
                    "Mem { off: 16, len: 8 }"
                ]
            );
        }
        // The same on Go's arm with a struct aligned to 8: the run from B
        // (offset 4: its own alignment, 4) still stops at 4 bytes; from 8
        // (8-aligned) it could take 8.
        let t = MapType::composite_key(&[Field::mem(0, 4), Field::mem(4, 4), Field::mem(8, 8)], 16, 8, U64).unwrap();
        assert_eq!(t.kind(), KeyKind::Memory, "regular memory is never split");
        // Regular memory collapses to plain memory of the whole size.
        let t = MapType::composite_key(&[Field::mem(0, 2), Field::mem(2, 2), Field::mem(4, 4)], 8, 4, U64).unwrap();
        assert_eq!(t.kind(), KeyKind::Memory);
        // A one-field struct is its field.
        let t = MapType::composite_key(&[Field::str(0)], size_of::<GoString>(), align_of::<usize>(), U64).unwrap();
        assert_eq!(t.kind(), KeyKind::Str);
        // Blank markers split runs.
        let f = [Field::mem(0, 4), Field::blank(4, 0), Field::mem(4, 4), Field::f32(8)];
        let t = MapType::composite_key(&f, 12, 4, U64).unwrap();
        assert_eq!(ops(&t).len(), 3);
        assert_eq!(t.flags(), FLAG_NEED_KEY_UPDATE);
    }

    #[test]
    fn presets_composite_equality_ignores_padding_and_blank() {
        let f = [Field::mem(0, 1), Field::blank(1, 3), Field::f64(8), Field::str(16)];
        let t = MapType::composite_key(&f, 32, 8, U64).unwrap();
        let (s1, s2) = (b"abc".to_vec(), b"abc".to_vec());
        let mut a = [0u8; 32];
        let mut b = [0xffu8; 32];
        for (k, s) in [(&mut a, &s1), (&mut b, &s2)] {
            k[0] = 7;
            k[8..16].copy_from_slice(&0.0f64.to_ne_bytes());
            let g = GoString::from_bytes(s);
            let dst = k[16..].as_mut_ptr().cast::<GoString>();
            // SAFETY: `dst` is valid for writes of the 16 bytes `k[16..]`;
            // unaligned store.
            unsafe { ptr::write_unaligned(dst, g) };
        }
        b[8..16].copy_from_slice(&(-0.0f64).to_ne_bytes());
        // SAFETY: `a` and `b` are keys of `t`: 32 readable bytes of its
        // layout, whose string headers point to `s1` and `s2` (alive).
        assert!(unsafe { t.key_equal(a.as_ptr(), b.as_ptr()) });
        // SAFETY: `a` is a key of `t` (see above).
        let ha = unsafe { t.hash(a.as_ptr(), 99) };
        // SAFETY: `b` is a key of `t` (see above).
        assert_eq!(ha, unsafe { t.hash(b.as_ptr(), 99) });
        b[0] = 8;
        // SAFETY: `a` and `b` are still keys of `t` (only a byte changed).
        assert!(!unsafe { t.key_equal(a.as_ptr(), b.as_ptr()) });
    }

    /// Caught rather than `#[should_panic]`, which libtest ignores on wasm
    /// even where panics unwind (scripts/wasm32.sh runs this there).
    #[test]
    fn presets_composite_rejects_bad_float_size() {
        let r = std::panic::catch_unwind(|| MapType::composite_key(&[Field::new(0, 4, FieldKind::F64)], 8, 8, U64));
        let e = r.expect_err("a 4-byte F64 field is refused");
        let msg = e.downcast_ref::<String>().map(String::as_str).or_else(|| e.downcast_ref::<&str>().copied());
        assert!(msg.is_some_and(|m| m.contains("must be 8 bytes")), "{msg:?}");
    }
}
