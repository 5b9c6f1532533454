//! The C ABI (`capi/include/gomap.h`, documented in `docs/c-api.md`).
//!
//! Every function is `extern "C"`, checks every pointer for NULL, catches any
//! panic (returning [`gomap_status::GOMAP_ERR_PANIC`]) and writes its
//! out-parameters (always last) only on success.
//!
//! Handles:
//! * [`gomap_type`]: a validated descriptor, shared by reference count with
//!   every map made from it, so it may be freed while its maps live.
//! * [`gomap_map`]: the map's `hmap` itself, holding a reference to its type;
//!   a NULL `gomap_map *` is Go's nil map.
//! * `gomap_hiter`: caller-owned storage for an [`HIter`] (104 bytes,
//!   8-aligned, zero-initialised).
//!
//! Custom hashers report failure through an `int *err` out-parameter; the
//! trampoline turns that into an unwind with a private payload that the
//! boundary maps to `GOMAP_ERR_UNHASHABLE`. Map code hashes a new key before
//! it starts writing, and growth work hashes a whole old bucket chain before
//! moving any of it, so a failure on either leaves every entry in place and
//! the map valid (`tests/reliability.rs`). A hasher that keeps failing for a
//! stored key makes every write that evacuates its bucket fail.
//!
//! # Contracts
//!
//! Every `# Safety` section below is a bullet list in the following terms,
//! and every `// SAFETY:` comment answers the points of the operation it
//! guards: "point 2" is the second bullet of the enclosing function's own
//! `# Safety` list (what its caller promised); a callee's points are named by
//! what they ask for.
//!
//! * **Live type handle**: a `gomap_type *` that a `gomap_type_*`
//!   constructor wrote to its out-parameter and that has not been passed to
//!   [`gomap_type_free`] since. It is immutable: any thread may use it at any
//!   time.
//! * **Live handle**: a `gomap_map *` that [`gomap_makemap`] (or another
//!   `gomap_makemap*` function, or [`gomap_mapclone`]) wrote to its
//!   out-parameter and that no call of [`gomap_free`] has freed since (a
//!   `gomap_free` that fails frees nothing). It is the map's `hmap`, whose
//!   owner word holds a counted reference to the map's type, so the type
//!   lives as long as the map. NULL is not a live handle but Go's nil map;
//!   most functions accept "NULL or a live handle".
//! * **Not being written**: no other thread runs a write (`mapassign`,
//!   `mapdelete`, `mapclear`, `mapshrink`, `free` and their fast variants) on
//!   the map during the call; other readers may run. **Used by no other
//!   thread**: the call is a write, and no other thread reads or writes the
//!   map during it. (Go's rule: many readers or one writer.)
//! * **Key of the map's type**: a pointer valid for reads of the type's key
//!   size, aligned to its key alignment, holding a key of that type; for
//!   string keys the `gomap_string`'s `len` bytes at `ptr` are readable and,
//!   once the key is in the map, stay readable and unchanged while it is
//!   there.
//! * **Caller-owned iterator storage**: a `gomap_hiter *` valid for reads
//!   and writes of [`GOMAP_HITER_SIZE`] bytes, accessed by nothing else
//!   during the call, whose bytes were zeroed by the caller or last written
//!   by gomap (never copied from another live iterator). Its alignment is
//!   checked (`GOMAP_ERR_BAD_ARG`), not required.
//! * **Registered iterator**: iterator storage on which [`gomap_mapiterinit`]
//!   found entries and which has neither produced its end nor been passed to
//!   [`gomap_mapiterend`] since (the header's "live iterator"). While it is
//!   registered, its map must stay a live handle (`gomap_free` refuses with
//!   `GOMAP_ERR_BUSY`). Zeroed storage, and storage whose iteration ended,
//!   are not registered and reference no map.
//! * **Out-parameter**: a pointer parameter named `out…`, after every input:
//!   NULL (rejected with `GOMAP_ERR_NULL`) or valid for writes of its pointee
//!   type and aligned for it. Written only on `GOMAP_OK`.
//! * **Callback contract**: a C function pointer installed with a `ctx` is
//!   called with that `ctx`, possibly from any thread, for as long as the
//!   function that installed it says; it must not unwind or `longjmp`
//!   through gomap's frames, and must not use the map it is called for.
//!
//! Inside the crate, a `MapRef` is an opened live handle: its `h` is a live
//! map, its `t` the type the map was made with.

#![allow(non_camel_case_types)]
#![deny(clippy::multiple_unsafe_ops_per_block)]

// gomap.h fixes its structs' layouts for 8-byte pointers (its
// `_Static_assert`s); the core builds on 32-bit x86 too, the C ABI does
// not yet (issue 17).
#[cfg(not(target_pointer_width = "64"))]
compile_error!("libgomap's C ABI supports 64-bit targets only: gomap.h assumes 8-byte pointers (issue 17)");

use core::ffi::{CStr, c_char, c_int, c_void};
use core::ptr::{self, NonNull};
use std::alloc::Layout;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::Arc;

use gomap::alloc::{Allocator, set_default_allocator};
use gomap::fatal::{MapError, set_fatal_hook};
use gomap::hook::Hook;
use gomap::iface::{DynField, DynKind, DynType};
use gomap::map::{self, HIter, HMap, ZERO_VAL_SIZE, zero_val};
use gomap::maptype::{MapType, MapTypeBuilder, TypeError, TypeInfo};
use gomap::presets::{Field, FieldKind};
use gomap::quarantine;
use gomap::visit::{self, Item};

// ---------------------------------------------------------------------------
// Status codes
// ---------------------------------------------------------------------------

/// Result of every fallible C function. The numeric values are part of the
/// ABI and never change; new codes are only ever appended.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum gomap_status {
    /// Success.
    GOMAP_OK = 0,
    /// A required pointer argument was NULL.
    GOMAP_ERR_NULL = 1,
    /// A type descriptor was malformed.
    GOMAP_ERR_BAD_TYPE = 2,
    /// Assignment to an entry in a nil (NULL) map.
    GOMAP_ERR_NIL_MAP_ASSIGN = 3,
    /// The key cannot be hashed.
    GOMAP_ERR_UNHASHABLE = 4,
    /// The allocator returned no memory; the map is unchanged.
    GOMAP_ERR_NOMEM = 5,
    /// The map has live iterators (shrink), or a setter came too late.
    GOMAP_ERR_BUSY = 6,
    /// An internal panic was caught at the boundary.
    GOMAP_ERR_PANIC = 7,
    /// An argument was out of range (unknown kind, misaligned iterator, ...).
    GOMAP_ERR_BAD_ARG = 8,
}

use gomap_status::*;

const _: () = assert!(core::mem::size_of::<gomap_status>() == 4);

impl From<MapError> for gomap_status {
    fn from(e: MapError) -> Self {
        match e {
            MapError::NilMapAssign => GOMAP_ERR_NIL_MAP_ASSIGN,
            MapError::UnhashableKey => GOMAP_ERR_UNHASHABLE,
            MapError::AllocFailed => GOMAP_ERR_NOMEM,
            MapError::Busy => GOMAP_ERR_BUSY,
        }
    }
}

impl From<TypeError> for gomap_status {
    fn from(_: TypeError) -> Self {
        GOMAP_ERR_BAD_TYPE
    }
}

/// The private unwind payload of a failing C hasher.
struct Unhashable;

/// Runs `f`, turning any unwind into a status.
#[inline(always)]
fn guard(f: impl FnOnce() -> gomap_status) -> gomap_status {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(s) => s,
        Err(p) => unwind_status(p),
    }
}

/// The status of a caught unwind. Out of line and cold, so that the landing
/// pad of every C function is a call and not inlined payload handling, which
/// would make each function save callee-saved registers on its hot path.
#[cold]
#[inline(never)]
fn unwind_status(p: Box<dyn core::any::Any + Send>) -> gomap_status {
    if p.is::<Unhashable>() { GOMAP_ERR_UNHASHABLE } else { GOMAP_ERR_PANIC }
}

/// Drops a caught unwind's payload, out of line (as [`unwind_status`]).
#[cold]
#[inline(never)]
fn drop_unwind(p: Box<dyn core::any::Any + Send>) {
    drop(p);
}

/// Runs `f` for a function without a status; an unwind yields `fallback`.
#[inline(always)]
fn guard_val<T>(fallback: T, f: impl FnOnce() -> T) -> T {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(v) => v,
        Err(p) => {
            drop_unwind(p);
            fallback
        }
    }
}

macro_rules! nonnull {
    ($($p:expr),*) => {
        $(if $p.is_null() { return GOMAP_ERR_NULL; })*
    };
}

/// Returns a static, NUL-terminated description of a status code.
///
/// # Safety
/// Always safe to call; `unsafe` only for uniformity of the ABI.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn gomap_strerror(status: c_int) -> *const c_char {
    let s: &'static [u8] = match status {
        0 => b"ok\0",
        1 => b"null pointer argument\0",
        2 => b"malformed type descriptor\0",
        3 => b"assignment to entry in nil map\0",
        4 => b"runtime error: hash of unhashable type\0",
        5 => b"out of memory\0",
        6 => b"busy: the map has live iterators, or the setting is already in use\0",
        7 => b"internal panic\0",
        8 => b"bad argument\0",
        _ => b"unknown gomap status\0",
    };
    s.as_ptr().cast()
}

/// Major version of this library (`GOMAP_VERSION_MAJOR` in the header).
pub const GOMAP_VERSION_MAJOR: u32 = parse_version_part(env!("CARGO_PKG_VERSION_MAJOR"));
/// Minor version (`GOMAP_VERSION_MINOR`).
pub const GOMAP_VERSION_MINOR: u32 = parse_version_part(env!("CARGO_PKG_VERSION_MINOR"));
/// Patch version (`GOMAP_VERSION_PATCH`).
pub const GOMAP_VERSION_PATCH: u32 = parse_version_part(env!("CARGO_PKG_VERSION_PATCH"));

/// Cargo's version components as numbers, at compile time.
const fn parse_version_part(s: &str) -> u32 {
    let b = s.as_bytes();
    let mut i = 0;
    let mut n = 0;
    while i < b.len() {
        assert!(b[i].is_ascii_digit(), "a version part is a decimal number");
        n = n * 10 + (b[i] - b'0') as u32;
        i += 1;
    }
    n
}

/// The library's version, `"MAJOR.MINOR.PATCH"` (Cargo's package version),
/// as a static NUL-terminated string. A program compiled against one header
/// and run against another library compares it with `GOMAP_VERSION_STRING`.
///
/// # Safety
/// Always safe to call; `unsafe` only for uniformity of the ABI.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn gomap_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

// ---------------------------------------------------------------------------
// Type descriptors
// ---------------------------------------------------------------------------

/// Largest key or elem size accepted (1 GiB): anything larger is a
/// malformed descriptor.
pub const GOMAP_MAX_TYPE_SIZE: usize = 1 << 30;

/// A map type descriptor handle (opaque to C).
pub struct gomap_type {
    t: Arc<FfiType>,
}

/// A descriptor plus the zero elem `mapaccess1` returns for absent keys.
struct FfiType {
    t: MapType,
    /// Which fast-path families fit `t` (`FAST32 | FAST64 | FASTSTR` bits),
    /// decided once when the descriptor is made so that the fast functions
    /// test one byte per call.
    fast: u8,
    /// A zeroed buffer of the elem size when it exceeds [`ZERO_VAL_SIZE`]
    /// (Go's `mapaccess1_fat` zero value); null otherwise.
    big_zero: *mut u8,
    /// The ownership callbacks (`gomap_type_with_ownership`), also `t`'s
    /// hook context.
    own: Option<Arc<Ownership>>,
}

// SAFETY: `t` is Send; `big_zero` is null or a global-allocator buffer that
// this `FfiType` owns alone and frees in `drop`, which any thread may do.
unsafe impl Send for FfiType {}
// SAFETY: `t` is Sync; `big_zero` is never written after `finish_type`
// zeroed it, so threads sharing an `&FfiType` only ever read it.
unsafe impl Sync for FfiType {}

impl FfiType {
    /// A zero elem of the type: readable for the elem size, 8-aligned,
    /// never written (Go's zero value for absent keys).
    fn zero(&self) -> *const u8 {
        if self.big_zero.is_null() { zero_val() } else { self.big_zero }
    }
}

impl Drop for FfiType {
    fn drop(&mut self) {
        if !self.big_zero.is_null() {
            let l = Layout::from_size_align(self.t.elem().size, 8).expect("validated at creation");
            // SAFETY: `big_zero` is non-null, so `finish_type` allocated it
            // with the global allocator and `l` (elem size, align 8: the
            // same computation); it is freed only here, once.
            unsafe { std::alloc::dealloc(self.big_zero, l) };
        }
    }
}

fn check_info(size: usize, align: usize) -> Result<(), gomap_status> {
    if size > GOMAP_MAX_TYPE_SIZE || align == 0 || !align.is_power_of_two() || align > 8 || size % align != 0 {
        return Err(GOMAP_ERR_BAD_TYPE);
    }
    Ok(())
}

/// Boxes a built descriptor and writes the handle to `out`.
///
/// # Safety
/// * `out` is an out-parameter, checked non-null: valid for writes of a
///   pointer and aligned.
unsafe fn finish_type(r: Result<MapType, TypeError>, out: *mut *mut gomap_type) -> gomap_status {
    // SAFETY: the caller's point, passed on.
    unsafe { finish_type_own(r, None, out) }
}

/// [`finish_type`] for a type with ownership callbacks `own` (its hook
/// context).
///
/// # Safety
/// * `out` is valid for writes of a pointer, and aligned.
unsafe fn finish_type_own(
    r: Result<MapType, TypeError>,
    own: Option<Arc<Ownership>>,
    out: *mut *mut gomap_type,
) -> gomap_status {
    let t = match r {
        Ok(t) => t,
        Err(e) => return e.into(),
    };
    let mut big_zero = ptr::null_mut();
    if t.elem().size > ZERO_VAL_SIZE {
        let Ok(l) = Layout::from_size_align(t.elem().size, 8) else { return GOMAP_ERR_BAD_TYPE };
        // SAFETY: `l` has a non-zero size: the elem size exceeds
        // ZERO_VAL_SIZE.
        big_zero = unsafe { std::alloc::alloc_zeroed(l) };
        if big_zero.is_null() {
            return GOMAP_ERR_NOMEM;
        }
    }
    let fast = fast_bits(&t);
    let h = Box::new(gomap_type { t: Arc::new(FfiType { t, fast, big_zero, own }) });
    // SAFETY: `out` is valid for writes of a pointer and aligned (point 1).
    unsafe { out.write(Box::into_raw(h)) };
    GOMAP_OK
}

fn elem_info(size: usize, align: usize, pointers: bool) -> Result<TypeInfo, gomap_status> {
    check_info(size, align)?;
    Ok(TypeInfo { size, align, pointers })
}

/// Key kinds of [`gomap_type_preset`].
pub const GOMAP_KEY_BOOL: u32 = 1;
/// `uint8`
pub const GOMAP_KEY_U8: u32 = 2;
/// `uint16`
pub const GOMAP_KEY_U16: u32 = 3;
/// `uint32`
pub const GOMAP_KEY_U32: u32 = 4;
/// `uint64`
pub const GOMAP_KEY_U64: u32 = 5;
/// `int8`
pub const GOMAP_KEY_I8: u32 = 6;
/// `int16`
pub const GOMAP_KEY_I16: u32 = 7;
/// `int32`
pub const GOMAP_KEY_I32: u32 = 8;
/// `int64`
pub const GOMAP_KEY_I64: u32 = 9;
/// `uintptr` / `uint` / `int`
pub const GOMAP_KEY_UINTPTR: u32 = 10;
/// a pointer
pub const GOMAP_KEY_PTR: u32 = 11;
/// `float32`
pub const GOMAP_KEY_F32: u32 = 12;
/// `float64`
pub const GOMAP_KEY_F64: u32 = 13;
/// `complex64`
pub const GOMAP_KEY_C64: u32 = 14;
/// `complex128`
pub const GOMAP_KEY_C128: u32 = 15;
/// `string` as `gomap_string {ptr, len}`
pub const GOMAP_KEY_STRING: u32 = 16;

/// Makes a descriptor for a built-in key kind (`GOMAP_KEY_*`) and an elem of
/// `elem_size` bytes aligned to `elem_align`.
///
/// # Safety
/// * `out` is an out-parameter.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn gomap_type_preset(
    kind: u32,
    elem_size: usize,
    elem_align: usize,
    elem_has_pointers: bool,
    out: *mut *mut gomap_type,
) -> gomap_status {
    guard(|| {
        nonnull!(out);
        let elem = match elem_info(elem_size, elem_align, elem_has_pointers) {
            Ok(e) => e,
            Err(s) => return s,
        };
        let r = match kind {
            GOMAP_KEY_BOOL => MapType::bool_key(elem),
            GOMAP_KEY_U8 => MapType::u8_key(elem),
            GOMAP_KEY_U16 => MapType::u16_key(elem),
            GOMAP_KEY_U32 => MapType::u32_key(elem),
            GOMAP_KEY_U64 => MapType::u64_key(elem),
            GOMAP_KEY_I8 => MapType::i8_key(elem),
            GOMAP_KEY_I16 => MapType::i16_key(elem),
            GOMAP_KEY_I32 => MapType::i32_key(elem),
            GOMAP_KEY_I64 => MapType::i64_key(elem),
            GOMAP_KEY_UINTPTR => MapType::usize_key(elem),
            GOMAP_KEY_PTR => MapType::ptr_key(elem),
            GOMAP_KEY_F32 => MapType::f32_key(elem),
            GOMAP_KEY_F64 => MapType::f64_key(elem),
            GOMAP_KEY_C64 => MapType::c64_key(elem),
            GOMAP_KEY_C128 => MapType::c128_key(elem),
            GOMAP_KEY_STRING => MapType::str_key(elem),
            _ => return GOMAP_ERR_BAD_ARG,
        };
        // SAFETY: finish_type's point 1: `out` is an out-parameter (point 1),
        // checked non-null.
        unsafe { finish_type(r, out) }
    })
}

/// Makes a descriptor for `[n]byte` keys (plain memory of `n` bytes).
///
/// # Safety
/// * `out` is an out-parameter.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn gomap_type_bytes(
    n: usize,
    elem_size: usize,
    elem_align: usize,
    elem_has_pointers: bool,
    out: *mut *mut gomap_type,
) -> gomap_status {
    guard(|| {
        nonnull!(out);
        if n > GOMAP_MAX_TYPE_SIZE {
            return GOMAP_ERR_BAD_TYPE;
        }
        let elem = match elem_info(elem_size, elem_align, elem_has_pointers) {
            Ok(e) => e,
            Err(s) => return s,
        };
        // SAFETY: finish_type's point 1: `out` is an out-parameter (point 1),
        // checked non-null.
        unsafe { finish_type(MapType::bytes_key(n, elem), out) }
    })
}

/// A field of a composite key (`gomap_field`).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct gomap_field {
    /// Byte offset in the key.
    pub offset: usize,
    /// Size in bytes.
    pub size: usize,
    /// `GOMAP_FIELD_*`.
    pub kind: u32,
}

const _: () = assert!(core::mem::size_of::<gomap_field>() == 24);
const _: () = assert!(core::mem::align_of::<gomap_field>() == 8);

/// Plain memory without pointers.
pub const GOMAP_FIELD_MEM: u32 = 0;
/// Plain memory holding a pointer.
pub const GOMAP_FIELD_PTR: u32 = 1;
/// `float32`
pub const GOMAP_FIELD_F32: u32 = 2;
/// `float64`
pub const GOMAP_FIELD_F64: u32 = 3;
/// `complex64`
pub const GOMAP_FIELD_C64: u32 = 4;
/// `complex128`
pub const GOMAP_FIELD_C128: u32 = 5;
/// `gomap_string`
pub const GOMAP_FIELD_STRING: u32 = 6;
/// A blank (`_`) field.
pub const GOMAP_FIELD_BLANK: u32 = 7;

/// Makes a descriptor for a struct key described field by field (see
/// `MapType::composite_key`).
///
/// # Safety
/// * `fields` is NULL only if `nfields` is 0; otherwise it is valid for
///   reads of `nfields` initialised `gomap_field`s (`24 * nfields` bytes in
///   one allocation), aligned to 8, and not written during the call.
/// * `out` is an out-parameter.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn gomap_type_composite(
    fields: *const gomap_field,
    nfields: usize,
    size: usize,
    align: usize,
    elem_size: usize,
    elem_align: usize,
    elem_has_pointers: bool,
    out: *mut *mut gomap_type,
) -> gomap_status {
    guard(|| {
        nonnull!(out);
        if fields.is_null() && nfields != 0 {
            return GOMAP_ERR_NULL;
        }
        if nfields > GOMAP_MAX_TYPE_SIZE || check_info(size, align).is_err() {
            return GOMAP_ERR_BAD_TYPE;
        }
        let elem = match elem_info(elem_size, elem_align, elem_has_pointers) {
            Ok(e) => e,
            Err(s) => return s,
        };
        let cf: &[gomap_field] = if nfields == 0 {
            &[]
        } else {
            // SAFETY: `fields` is non-null (`nfields` != 0 and the check
            // above), valid for reads of `nfields` initialised fields in one
            // allocation, aligned, and not written while `cf` lives, which
            // is this call (point 1); `nfields` <= GOMAP_MAX_TYPE_SIZE
            // (checked), so the 24 * `nfields` bytes fit in an isize.
            unsafe { core::slice::from_raw_parts(fields, nfields) }
        };
        let mut fs = Vec::with_capacity(nfields);
        let mut end = 0usize;
        for f in cf {
            let (kind, want) = match f.kind {
                GOMAP_FIELD_MEM => (FieldKind::Mem, None),
                GOMAP_FIELD_PTR => (FieldKind::Ptr, None),
                GOMAP_FIELD_F32 => (FieldKind::F32, Some(4)),
                GOMAP_FIELD_F64 => (FieldKind::F64, Some(8)),
                GOMAP_FIELD_C64 => (FieldKind::C64, Some(8)),
                GOMAP_FIELD_C128 => (FieldKind::C128, Some(16)),
                GOMAP_FIELD_STRING => (FieldKind::Str, Some(16)),
                GOMAP_FIELD_BLANK => (FieldKind::Blank, None),
                _ => return GOMAP_ERR_BAD_TYPE,
            };
            // The checks composite_key asserts, as errors.
            if want.is_some_and(|w| w != f.size) || f.offset < end {
                return GOMAP_ERR_BAD_TYPE;
            }
            match f.offset.checked_add(f.size) {
                Some(e) if e <= size => end = e,
                _ => return GOMAP_ERR_BAD_TYPE,
            }
            fs.push(Field::new(f.offset, f.size, kind));
        }
        // SAFETY: finish_type's point 1: `out` is an out-parameter (point 2),
        // checked non-null.
        unsafe { finish_type(MapType::composite_key(&fs, size, align, elem), out) }
    })
}

/// C hasher: returns the hash of `key` with `seed`; sets `*err` non-zero if
/// the key cannot be hashed.
pub type gomap_hash_fn = unsafe extern "C" fn(ctx: *mut c_void, key: *const c_void, seed: u64, err: *mut c_int) -> u64;
/// C equality.
pub type gomap_equal_fn = unsafe extern "C" fn(ctx: *mut c_void, a: *const c_void, b: *const c_void) -> bool;
/// C hashability check (Go's `mapKeyError`): true if `key` can be hashed.
pub type gomap_key_check_fn = unsafe extern "C" fn(ctx: *mut c_void, key: *const c_void) -> bool;

/// `gomap_type_desc.flags`: the key holds pointers.
pub const GOMAP_DESC_KEY_POINTERS: u32 = 1;
/// The elem holds pointers.
pub const GOMAP_DESC_ELEM_POINTERS: u32 = 2;
/// `k == k` for every key (`ReflexiveKey`).
pub const GOMAP_DESC_REFLEXIVE: u32 = 4;
/// Overwrites store the new key's bytes (`NeedKeyUpdate`).
pub const GOMAP_DESC_NEED_KEY_UPDATE: u32 = 8;
/// Hashing may fail (`HashMightPanic`); requires `key_check`.
pub const GOMAP_DESC_HASH_MIGHT_PANIC: u32 = 16;
const DESC_ALL: u32 = 31;

/// A custom type descriptor (`gomap_type_desc`).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct gomap_type_desc {
    /// Key size in bytes.
    pub key_size: usize,
    /// Key alignment: a power of two, at most 8.
    pub key_align: usize,
    /// Elem size in bytes.
    pub elem_size: usize,
    /// Elem alignment: a power of two, at most 8.
    pub elem_align: usize,
    /// `GOMAP_DESC_*` bits.
    pub flags: u32,
    /// Required.
    pub hash: Option<gomap_hash_fn>,
    /// Required.
    pub equal: Option<gomap_equal_fn>,
    /// Required with `GOMAP_DESC_HASH_MIGHT_PANIC`, else must be NULL.
    pub key_check: Option<gomap_key_check_fn>,
    /// Passed to every callback.
    pub ctx: *mut c_void,
}

const _: () = assert!(core::mem::size_of::<gomap_type_desc>() == 72);
const _: () = assert!(core::mem::align_of::<gomap_type_desc>() == 8);

/// The context of a custom descriptor: the C callbacks and their context.
struct CCallbacks {
    hash: gomap_hash_fn,
    equal: gomap_equal_fn,
    key_check: Option<gomap_key_check_fn>,
    ctx: *mut c_void,
}

// SAFETY: the callbacks may be called with `ctx` from any thread
// (gomap_type_custom, point 2), so the struct may move to any thread.
unsafe impl Send for CCallbacks {}
// SAFETY: never mutated after construction, and the callbacks may be called
// with `ctx` from any thread, several at once (gomap_type_custom, point 2:
// concurrent readers of a map each hash and compare).
unsafe impl Sync for CCallbacks {}

/// The Rust hasher of custom descriptors.
///
/// # Safety
/// * `ctx` points to a live [`CCallbacks`]: the descriptor's context, which
///   the descriptor keeps alive ([`gomap_type_custom`]).
/// * `key` points to a key of the descriptor's type.
/// * A map of the type is live, so its C callbacks may be called now, on
///   this thread ([`gomap_type_custom`], point 2).
unsafe fn tramp_hash(key: *const u8, seed: usize, ctx: *const ()) -> usize {
    // SAFETY: `ctx` points to a live, never mutated CCallbacks (point 1);
    // the reference does not outlive this call.
    let c = unsafe { &*ctx.cast::<CCallbacks>() };
    let mut err: c_int = 0;
    // SAFETY: the C hasher's contract: it may be called now with its own
    // `ctx` (point 3), a key of its type (point 2) and a writable `int`.
    let h = unsafe { (c.hash)(c.ctx, key.cast(), seed as u64, &mut err) };
    if err != 0 {
        // No panic hook runs: the boundary turns this into GOMAP_ERR_UNHASHABLE.
        resume_unwind(Box::new(Unhashable));
    }
    h as usize
}

/// The Rust equality of custom descriptors.
///
/// # Safety
/// * `ctx` points to a live [`CCallbacks`] (as for [`tramp_hash`]).
/// * `a` and `b` point to keys of the descriptor's type.
/// * A map of the type is live, so its C callbacks may be called now.
unsafe fn tramp_equal(a: *const u8, b: *const u8, ctx: *const ()) -> bool {
    // SAFETY: `ctx` points to a live, never mutated CCallbacks (point 1);
    // the reference does not outlive this call.
    let c = unsafe { &*ctx.cast::<CCallbacks>() };
    // SAFETY: the C equality's contract: it may be called now with its own
    // `ctx` (point 3) and two keys of its type (point 2).
    unsafe { (c.equal)(c.ctx, a.cast(), b.cast()) }
}

/// The Rust key check of custom descriptors.
///
/// # Safety
/// * `ctx` points to a live [`CCallbacks`] (as for [`tramp_hash`]).
/// * `key` points to a key of the descriptor's type.
/// * A map of the type is live, so its C callbacks may be called now.
unsafe fn tramp_key_check(key: *const u8, ctx: *const ()) -> bool {
    // SAFETY: `ctx` points to a live, never mutated CCallbacks (point 1);
    // the reference does not outlive this call.
    let c = unsafe { &*ctx.cast::<CCallbacks>() };
    match c.key_check {
        // SAFETY: the C key check's contract: it may be called now with its
        // own `ctx` (point 3) and a key of its type (point 2).
        Some(f) => unsafe { f(c.ctx, key.cast()) },
        None => true,
    }
}

/// Makes a descriptor from caller-supplied callbacks.
///
/// # Safety
/// * `desc` is NULL (rejected) or valid for reads of a `gomap_type_desc`
///   and aligned; its callback fields are NULL or functions of their
///   declared types.
/// * `hash`, `equal` and `key_check` follow the callback contract with
///   `desc->ctx`: callable from any thread, several at once, for as long as
///   any map of the type lives, with keys of the type (and for `hash` a
///   writable `int *err`).
/// * `out` is an out-parameter.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn gomap_type_custom(desc: *const gomap_type_desc, out: *mut *mut gomap_type) -> gomap_status {
    guard(|| {
        nonnull!(desc, out);
        // SAFETY: `desc` is non-null (checked), valid for reads of a
        // gomap_type_desc and aligned (point 1); its callback fields are
        // NULL, i.e. `None` (Option<fn> has a null niche), or functions
        // (point 1), so every field holds a valid value.
        let d = unsafe { desc.read() };
        let (Some(hash), Some(equal)) = (d.hash, d.equal) else { return GOMAP_ERR_BAD_TYPE };
        if d.flags & !DESC_ALL != 0 || (d.flags & GOMAP_DESC_HASH_MIGHT_PANIC != 0) != d.key_check.is_some() {
            return GOMAP_ERR_BAD_TYPE;
        }
        let key = match elem_info(d.key_size, d.key_align, d.flags & GOMAP_DESC_KEY_POINTERS != 0) {
            Ok(k) => k,
            Err(s) => return s,
        };
        let elem = match elem_info(d.elem_size, d.elem_align, d.flags & GOMAP_DESC_ELEM_POINTERS != 0) {
            Ok(e) => e,
            Err(s) => return s,
        };
        let cb = Arc::new(CCallbacks { hash, equal, key_check: d.key_check, ctx: d.ctx });
        let ctx = Arc::as_ptr(&cb).cast::<()>();
        let mut b = MapTypeBuilder::new(key, elem, tramp_hash, tramp_equal)
            .reflexive(d.flags & GOMAP_DESC_REFLEXIVE != 0)
            .need_key_update(d.flags & GOMAP_DESC_NEED_KEY_UPDATE != 0);
        if d.key_check.is_some() {
            b = b.key_check(tramp_key_check);
        }
        // SAFETY: MapTypeBuilder::ctx asks that every callback be callable
        // with `ctx` from any thread while the descriptor lives. They are
        // tramp_hash, tramp_equal and tramp_key_check: their point 1 holds,
        // `ctx` points into `cb`, which the descriptor owns (`owner`); the
        // map code calls them only on maps of the type, with keys of it
        // (their point 2), and while such a map lives point 2 here lets
        // them call the C callbacks from any thread (their point 3).
        let b = unsafe { b.ctx(ctx, Some(cb)) };
        // SAFETY: finish_type's point 1: `out` is an out-parameter (point 3),
        // checked non-null.
        unsafe { finish_type(b.build(), out) }
    })
}

/// Frees a type handle. Maps made from it keep their own reference, so it
/// may be freed while they live. NULL is a no-op.
///
/// # Safety
/// * `t` is NULL or a live type handle, not used after this call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn gomap_type_free(t: *mut gomap_type) {
    guard(|| {
        if !t.is_null() {
            // SAFETY: `t` is non-null, so a live type handle (point 1):
            // finish_type made it with Box::into_raw and it was not freed
            // since; this call ends its life (point 1), so it is freed once.
            drop(unsafe { Box::from_raw(t) });
        }
        GOMAP_OK
    });
}

/// Reports a type's key size, elem size and `FLAG_*` bits (Go's
/// `IndirectKey`=1, `IndirectElem`=2, `ReflexiveKey`=4, `NeedKeyUpdate`=8,
/// `HashMightPanic`=16).
///
/// # Safety
/// * `t` is NULL (rejected) or a live type handle.
/// * `out_key_size`, `out_elem_size` and `out_flags` are out-parameters.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn gomap_type_info(
    t: *const gomap_type,
    out_key_size: *mut usize,
    out_elem_size: *mut usize,
    out_flags: *mut u32,
) -> gomap_status {
    guard(|| {
        nonnull!(t, out_key_size, out_elem_size, out_flags);
        // SAFETY: `t` is non-null (checked), so a live type handle (point
        // 1): a boxed gomap_type, aligned and never written after
        // finish_type; the reference lives for this call.
        let ty = unsafe { &(&*t).t.t };
        // SAFETY: `out_key_size` is an out-parameter (point 2), checked
        // non-null.
        unsafe { out_key_size.write(ty.key().size) };
        // SAFETY: `out_elem_size` is an out-parameter (point 2), checked
        // non-null.
        unsafe { out_elem_size.write(ty.elem().size) };
        // SAFETY: `out_flags` is an out-parameter (point 2), checked
        // non-null.
        unsafe { out_flags.write(ty.flags()) };
        GOMAP_OK
    })
}

// ---------------------------------------------------------------------------
// Maps
// ---------------------------------------------------------------------------

/// A map handle (opaque to C). A `gomap_map *` is the map's `hmap` itself,
/// whose `owner` word holds the map's counted reference to its `FfiType`
/// (from [`Arc::into_raw`], released by [`gomap_free`]): making a map costs
/// no allocation besides the map's own, all from its allocator.
#[repr(C)]
pub struct gomap_map {
    _opaque: [u8; 0],
}

/// A live handle seen from Rust: its type and its `hmap`.
#[derive(Clone, Copy)]
struct MapRef<'a> {
    /// The type the map was made with (`t.t` is "the map's type" for every
    /// core call), alive as long as the map.
    t: &'a FfiType,
    /// The `owner` word: the map's counted reference, as `Arc::into_raw`
    /// made it (provenance over the whole Arc allocation, counts included,
    /// which `t` lacks).
    owner: *const FfiType,
    /// The map: live until `gomap_free` succeeds.
    h: NonNull<HMap>,
}

/// Opens a handle: `None` for NULL (Go's nil map).
///
/// # Safety
/// * `m` is NULL or a live handle.
/// * The result is not used after the map is freed (`'a` is unbounded).
#[inline(always)]
unsafe fn map_ref<'a>(m: *const gomap_map) -> Option<MapRef<'a>> {
    let h = NonNull::new(m.cast_mut().cast::<HMap>())?;
    // SAFETY: HMap::owner asks for a live map: `m` is non-null, so a live
    // handle (point 1), i.e. a map made by makemap and not yet freed.
    let owner = unsafe { HMap::owner(h) }.cast::<FfiType>();
    // SAFETY: `finish_map` set the owner word of every live handle to the
    // data pointer of an `Arc<FfiType>` whose count the map holds until
    // `gomap_free` succeeds: non-null, aligned, a live FfiType that is
    // never mutated; `'a` ends before the map is freed (point 2), so before
    // the count is released.
    let t = unsafe { &*owner };
    Some(MapRef { t, owner, h })
}

/// Turns a fresh map into a handle: stores a new counted reference to the
/// type in its `owner` word and writes it to `out`.
///
/// # Safety
/// * `out` is an out-parameter, checked non-null.
/// * On `Ok`, `h` is a fresh map of the type `tp` points to (`t.t`), made
///   by this call's caller and seen by no other thread yet.
/// * `tp` is the data pointer of a live [`Arc`] in the global allocator,
///   with the Arc's own provenance (`Arc::as_ptr` of a type handle's Arc,
///   or a live map's `owner` word), and the Arc stays live during the call.
unsafe fn finish_map(r: Result<NonNull<HMap>, MapError>, tp: *const FfiType, out: *mut *mut gomap_map) -> gomap_status {
    let h = match r {
        Ok(h) => h,
        Err(e) => return e.into(),
    };
    // SAFETY: `tp` is the data pointer of an `Arc<FfiType>` (what
    // `Arc::into_raw` returns for it), in the global allocator, live during
    // the call (point 3). The count taken here is the map's, released by
    // gomap_free.
    unsafe { Arc::increment_strong_count(tp) };
    // SAFETY: HMap::set_owner asks for a live map no other thread uses: `h`
    // is fresh and not yet published (point 2).
    unsafe { HMap::set_owner(h, tp.cast()) };
    // SAFETY: `out` is valid for writes of a pointer and aligned (point 1).
    unsafe { out.write(h.as_ptr().cast()) };
    GOMAP_OK
}

/// The grace floor maps of the C ABI start with (`gomap_map_quarantine`).
pub const GOMAP_QUARANTINE_DEFAULT: usize = 64 * 1024;
const _: () = assert!(GOMAP_QUARANTINE_DEFAULT == quarantine::DEFAULT_MIN);

/// The default allocator, for maps with a quarantine (`quarantined`).
fn shared_allocator() -> Allocator {
    gomap::alloc::default_allocator().with_quarantine()
}

/// A map the C ABI made, given its quarantine (`gomap::quarantine`): a host
/// program may race on it, and the blocks its writes release wait there
/// before being freed, so that a racing reader reads stale memory, as in
/// Go, rather than freed memory. `gomap_map_quarantine` changes or removes
/// it. Clones inherit their source's setting (`map::mapclone`).
fn quarantined(t: &MapType, r: Result<NonNull<HMap>, MapError>) -> Result<NonNull<HMap>, MapError> {
    let h = r?;
    // Made with `shared_allocator`, the map has its quarantine already (in
    // its hmap block); this names the roles it pools, which need the type
    // (`makemap_in` names them itself; `makemap_small_in` has no type).
    // SAFETY: [`quarantine::set_quarantine`]: 1. `h` is a live map of type
    // `t`, just made; 2. not yet handed to the host, so no other thread
    // uses it.
    if let Err(e) = unsafe { quarantine::set_quarantine(t, h, Some(quarantine::DEFAULT_MIN)) } {
        // SAFETY: [`map::mapfree`]: 1. the live map of type `t` just made;
        // 2. no one else has it, and it is not used again.
        let _ = unsafe { map::mapfree(t, h.as_ptr()) };
        return Err(e);
    }
    Ok(h)
}

/// Sets map `m`'s quarantine: blocks it releases (old bucket arrays,
/// overflow buckets, out-of-line keys and elems) are freed only once
/// more than `max(min_bytes, its largest released block)` bytes have been
/// released after them, so that threads racing with its writes read stale
/// memory rather than freed memory. Maps start with `GOMAP_QUARANTINE_DEFAULT`
/// (64 KiB); 0 removes the quarantine (what it holds is freed now, and
/// later releases are freed at once): for a host whose programs never
/// share a map between threads. `GOMAP_ERR_NOMEM` if a quarantine cannot
/// be allocated (the map unchanged).
///
/// # Safety
/// * `m` is NULL (rejected) or a live handle used by no other thread
///   during the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn gomap_map_quarantine(m: *mut gomap_map, min_bytes: usize) -> gomap_status {
    guard(|| {
        nonnull!(m);
        // SAFETY: map_ref's points: 1. `m` is a live handle (point 1);
        // 2. the MapRef is used only during this call.
        let Some(mr) = (unsafe { map_ref(m) }) else { return GOMAP_ERR_NULL };
        // SAFETY: [`quarantine::set_quarantine`]: 1. a live map (point 1)
        // of type `mr.t.t`, its own; 2. no other thread uses it during the
        // call (point 1).
        match unsafe { quarantine::set_quarantine(&mr.t.t, mr.h, (min_bytes != 0).then_some(min_bytes)) } {
            Ok(()) => GOMAP_OK,
            Err(e) => e.into(),
        }
    })
}

/// Frees everything map `m`'s quarantine holds, now, keeping the
/// quarantine: for a host at a point where no thread can be inside the map
/// (a safepoint, all threads paused). NULL is a no-op.
///
/// # Safety
/// * `m` is NULL or a live handle.
/// * No other thread is inside any call on `m`, or still reads an elem or
///   key pointer a call on `m` returned before its last write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn gomap_map_quiesce(m: *mut gomap_map) -> gomap_status {
    guard(|| {
        // SAFETY: map_ref's points: 1. `m` is NULL or a live handle (point
        // 1); 2. the MapRef is used only during this call.
        let Some(mr) = (unsafe { map_ref(m) }) else { return GOMAP_OK };
        // SAFETY: [`quarantine::release`]: 1. a live map (point 1); 2. no
        // thread is inside it or reads what it returned (point 2).
        unsafe { quarantine::release(mr.h) };
        GOMAP_OK
    })
}

/// `make(map[K]V, hint)` (`makemap`). A negative or absurd hint counts as 0.
///
/// # Safety
/// * `t` is NULL (rejected) or a live type handle.
/// * `out` is an out-parameter.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn gomap_makemap(t: *const gomap_type, hint: isize, out: *mut *mut gomap_map) -> gomap_status {
    guard(|| {
        nonnull!(t, out);
        // SAFETY: `t` is non-null (checked), so a live type handle (point
        // 1): a boxed gomap_type, aligned, never written; the reference
        // lives for this call.
        let ty = unsafe { &(&*t).t };
        // SAFETY: finish_map's points: 1. `out` is an out-parameter (point
        // 2), checked non-null; 2. the map was just made with `ty.t`, and
        // is unpublished; 3. `Arc::as_ptr(ty)` is the data pointer of the
        // type handle's Arc, which `t` keeps live during the call.
        unsafe { finish_map(map::makemap_in(&ty.t, hint, &shared_allocator()), Arc::as_ptr(ty), out) }
    })
}

/// `makemap64`: as [`gomap_makemap`] with a 64-bit hint.
///
/// # Safety
/// * `t` is NULL (rejected) or a live type handle.
/// * `out` is an out-parameter.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn gomap_makemap64(t: *const gomap_type, hint: i64, out: *mut *mut gomap_map) -> gomap_status {
    guard(|| {
        nonnull!(t, out);
        // SAFETY: `t` is non-null (checked), so a live type handle (point
        // 1): a boxed gomap_type, aligned, never written; the reference
        // lives for this call.
        let ty = unsafe { &(&*t).t };
        // SAFETY: finish_map's points: 1. `out` is an out-parameter (point
        // 2), checked non-null; 2. the map was just made with `ty.t`, and
        // is unpublished; 3. `Arc::as_ptr(ty)` is the data pointer of the
        // type handle's Arc, which `t` keeps live during the call.
        // makemap64 is makemap on 64-bit targets (the C ABI's only ones).
        unsafe { finish_map(map::makemap_in(&ty.t, hint as isize, &shared_allocator()), Arc::as_ptr(ty), out) }
    })
}

/// `makemap_small`: `make(map[K]V)` without a hint; no buckets until the
/// first insert.
///
/// # Safety
/// * `t` is NULL (rejected) or a live type handle.
/// * `out` is an out-parameter.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn gomap_makemap_small(t: *const gomap_type, out: *mut *mut gomap_map) -> gomap_status {
    guard(|| {
        nonnull!(t, out);
        // SAFETY: `t` is non-null (checked), so a live type handle (point
        // 1): a boxed gomap_type, aligned, never written; the reference
        // lives for this call.
        let ty = unsafe { &(&*t).t };
        // SAFETY: finish_map's points: 1. `out` is an out-parameter (point
        // 2), checked non-null; 2. the map was just made with `ty.t`, and
        // is unpublished; 3. `Arc::as_ptr(ty)` is the data pointer of the
        // type handle's Arc, which `t` keeps live during the call.
        unsafe { finish_map(quarantined(&ty.t, map::makemap_small_in(&shared_allocator())), Arc::as_ptr(ty), out) }
    })
}

/// A host allocator: zeroed, 8-aligned memory of `size` bytes, or NULL.
/// The same type as the core's [`gomap::alloc::AllocZeroedFn`]: a map
/// stores the host's functions and context as they are, so any number of
/// distinct contexts costs nothing beyond the maps that use them.
pub type gomap_calloc_fn = unsafe extern "C" fn(ctx: *mut c_void, size: usize) -> *mut c_void;
/// Frees what the matching [`gomap_calloc_fn`] returned (`size` as requested).
/// The same type as the core's [`gomap::alloc::FreeFn`].
pub type gomap_free_fn = unsafe extern "C" fn(ctx: *mut c_void, p: *mut c_void, size: usize);

/// Compiles only while the C allocator types are the core's own.
const _: fn(gomap_calloc_fn, gomap_free_fn) -> (gomap::alloc::AllocZeroedFn, gomap::alloc::FreeFn) = |a, f| (a, f);

/// The allocator made of a C pair.
///
/// # Safety
/// * `alloc` returns NULL or `size` zeroed bytes aligned to 8, valid until
///   passed to `free` with the same size.
/// * `alloc` and `free` may be called with `ctx` from any thread for as
///   long as any map made with the result lives.
unsafe fn host_allocator(alloc: gomap_calloc_fn, free: gomap_free_fn, ctx: *mut c_void) -> Allocator {
    // SAFETY: Allocator::new's points: 1. `alloc` returns NULL or `size`
    // zeroed bytes aligned to 8, valid until passed to `free` (point 1);
    // 2. `free` releases such a block (point 1); 3. both are callable with
    // `ctx` from any thread while a map made with them lives (point 2).
    unsafe { Allocator::new(alloc, free, ctx) }
}

/// Sets the allocator of maps made from now on (existing maps keep theirs).
/// All three NULL restores calloc/free.
///
/// # Safety
/// * `alloc_fn` returns NULL or `size` zeroed bytes aligned to 8, valid
///   until passed to `free_fn`.
/// * `free_fn` is given what `alloc_fn` returned, with the size requested.
/// * Both follow the callback contract with `ctx`: callable from any
///   thread for as long as any map made with them lives.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn gomap_set_allocator(
    alloc_fn: Option<gomap_calloc_fn>,
    free_fn: Option<gomap_free_fn>,
    ctx: *mut c_void,
) -> gomap_status {
    guard(|| match (alloc_fn, free_fn) {
        (None, None) => {
            set_default_allocator(Allocator::LIBC);
            GOMAP_OK
        }
        (Some(a), Some(f)) => {
            // SAFETY: host_allocator's points: 1. `a` returns NULL or
            // zeroed, 8-aligned memory valid until freed with its size
            // (points 1 and 2); 2. `a` and `f` are callable with `ctx` from
            // any thread while a map made with them lives (point 3).
            set_default_allocator(unsafe { host_allocator(a, f, ctx) });
            GOMAP_OK
        }
        _ => GOMAP_ERR_NULL,
    })
}

/// [`gomap_makemap`] with an explicit allocator for this map (and its
/// clones).
///
/// # Safety
/// * `t` is NULL (rejected) or a live type handle.
/// * `alloc_fn` returns NULL or `size` zeroed bytes aligned to 8, valid
///   until passed to `free_fn`, which is given the size requested.
/// * Both follow the callback contract with `ctx`: callable from any
///   thread for as long as this map or a clone of it lives.
/// * `out` is an out-parameter.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn gomap_makemap_with_allocator(
    t: *const gomap_type,
    hint: isize,
    alloc_fn: Option<gomap_calloc_fn>,
    free_fn: Option<gomap_free_fn>,
    ctx: *mut c_void,
    out: *mut *mut gomap_map,
) -> gomap_status {
    guard(|| {
        nonnull!(t, out);
        let (Some(a), Some(f)) = (alloc_fn, free_fn) else { return GOMAP_ERR_NULL };
        // SAFETY: host_allocator's points: 1. `a` returns NULL or zeroed,
        // 8-aligned memory valid until freed with its size (point 2); 2. `a`
        // and `f` are callable with `ctx` from any thread while a map made
        // with them lives (point 3).
        let al = unsafe { host_allocator(a, f, ctx) };
        // SAFETY: `t` is non-null (checked), so a live type handle (point
        // 1): a boxed gomap_type, aligned, never written; the reference
        // lives for this call.
        let ty = unsafe { &(&*t).t };
        // SAFETY: finish_map's points: 1. `out` is an out-parameter (point
        // 4), checked non-null; 2. the map was just made with `ty.t`, and
        // is unpublished; 3. `Arc::as_ptr(ty)` is the data pointer of the
        // type handle's Arc, which `t` keeps live during the call.
        unsafe { finish_map(map::makemap_in(&ty.t, hint, &al.with_quarantine()), Arc::as_ptr(ty), out) }
    })
}

/// Copies a key to aligned scratch space, so that a key pointing into the
/// map's own memory (an iterator's key) stays valid while the map changes.
/// Calls `f` with the copy.
///
/// # Safety
/// * `key` is valid for reads of `size` bytes.
unsafe fn with_key_copy(key: *const c_void, size: usize, f: impl FnOnce(*const u8) -> gomap_status) -> gomap_status {
    const INLINE: usize = 16;
    if size <= INLINE * 8 {
        let mut buf = [0u64; INLINE];
        // SAFETY: `key` is valid for reads of `size` bytes (point 1); `buf`
        // is a local of 128 >= `size` bytes, so valid for writes and not
        // overlapping `key`; byte copies need no alignment.
        unsafe { ptr::copy_nonoverlapping(key.cast::<u8>(), buf.as_mut_ptr().cast(), size) };
        f(buf.as_ptr().cast())
    } else {
        let mut v: Vec<u64> = Vec::new();
        if v.try_reserve_exact(size.div_ceil(8)).is_err() {
            return GOMAP_ERR_NOMEM;
        }
        // SAFETY: `key` is valid for reads of `size` bytes (point 1); `v`'s
        // fresh allocation has room for 8 * ceil(`size` / 8) >= `size`
        // bytes, so it is valid for writes and does not overlap `key`; byte
        // copies need no alignment.
        unsafe { ptr::copy_nonoverlapping(key.cast::<u8>(), v.as_mut_ptr().cast(), size) };
        f(v.as_ptr().cast())
    }
}

/// `v := m[k]` (`mapaccess1`): `*out` points to the elem, or to a zero elem
/// if the key is absent (for a NULL map: to `GOMAP_ZERO_SIZE` zero bytes).
/// Valid until the next write to the map.
///
/// # Safety
/// * `m` is NULL or a live handle, not being written.
/// * `key` is NULL (rejected) or a key of the map's type.
/// * `out` is an out-parameter.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn gomap_mapaccess1(
    m: *const gomap_map,
    key: *const c_void,
    out: *mut *const c_void,
) -> gomap_status {
    guard(|| {
        nonnull!(key, out);
        let mut e = zero_val();
        // SAFETY: map_ref's points: 1. `m` is NULL or a live handle (point
        // 1); 2. the MapRef is used only during this call, while the map
        // lives.
        if let Some(m) = unsafe { map_ref(m) } {
            // SAFETY: mapaccess1_fat's points: 1. `h` is a live map (point
            // 1) of type `t`, its own (MapRef::t), not being written (point
            // 1); 2. `key` points to a key of `t` (point 2); 3. `zero` points
            // to a zero elem (FfiType::zero).
            match unsafe { map::mapaccess1_fat(&m.t.t, m.h.as_ptr(), key.cast(), m.t.zero()) } {
                Ok(p) => e = p,
                Err(err) => return err.into(),
            }
            // SAFETY: [`map::recheck_read`]: 1. a live map (point 1).
            unsafe { map::recheck_read(m.h) };
        }
        // SAFETY: `out` is an out-parameter (point 3), checked non-null.
        unsafe { out.write(e.cast()) };
        GOMAP_OK
    })
}

/// `v, ok := m[k]` (`mapaccess2`).
///
/// # Safety
/// * `m` is NULL or a live handle, not being written.
/// * `key` is NULL (rejected) or a key of the map's type.
/// * `out_elem` and `out_ok` are out-parameters.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn gomap_mapaccess2(
    m: *const gomap_map,
    key: *const c_void,
    out_elem: *mut *const c_void,
    out_ok: *mut bool,
) -> gomap_status {
    guard(|| {
        nonnull!(key, out_elem, out_ok);
        let (mut e, mut ok) = (zero_val(), false);
        // SAFETY: map_ref's points: 1. `m` is NULL or a live handle (point
        // 1); 2. the MapRef is used only during this call, while the map
        // lives.
        if let Some(m) = unsafe { map_ref(m) } {
            // SAFETY: mapaccess2_fat's points (mapaccess1_fat's): 1. `h` is
            // a live map (point 1) of type `t`, its own (MapRef::t), not
            // being written (point 1); 2. `key` points to a key of `t`
            // (point 2); 3. `zero` points to a zero elem (FfiType::zero).
            match unsafe { map::mapaccess2_fat(&m.t.t, m.h.as_ptr(), key.cast(), m.t.zero()) } {
                Ok(r) => (e, ok) = r,
                Err(err) => return err.into(),
            }
            // SAFETY: [`map::recheck_read`]: 1. a live map (point 1).
            unsafe { map::recheck_read(m.h) };
        }
        // SAFETY: `out_elem` is an out-parameter (point 3), checked non-null.
        unsafe { out_elem.write(e.cast()) };
        // SAFETY: `out_ok` is an out-parameter (point 3), checked non-null.
        unsafe { out_ok.write(ok) };
        GOMAP_OK
    })
}

/// `m[k] = ...` (`mapassign`): finds or inserts `key` and returns its elem
/// slot in `*out_elem`, for the caller to write the elem into. Valid until the
/// next write to the map. A new entry's elem is zeroed.
///
/// # Safety
/// * `m` is NULL or a live handle used by no other thread.
/// * `key` is NULL (rejected) or a key of the map's type; it may point into
///   the map (an iterator's key).
/// * `out_elem` is an out-parameter.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn gomap_mapassign(
    m: *mut gomap_map,
    key: *const c_void,
    out_elem: *mut *mut c_void,
) -> gomap_status {
    let mut flags = 0;
    // SAFETY: gomap_mapassign2's points: `m`, `key` and `out_elem` as this
    // function's (points 1-3); `flags` is a local out-parameter.
    unsafe { gomap_mapassign2(m, key, out_elem, &mut flags) }
}

/// `delete(m, k)` (`mapdelete`). Deleting from a NULL map or an absent key
/// is a no-op.
///
/// # Safety
/// * `m` is NULL or a live handle used by no other thread.
/// * `key` is NULL (rejected) or a key of the map's type; it may point into
///   the map (an iterator's key).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn gomap_mapdelete(m: *mut gomap_map, key: *const c_void) -> gomap_status {
    guard(|| {
        nonnull!(key);
        // SAFETY: map_ref's points: 1. `m` is NULL or a live handle (point
        // 1); 2. the MapRef is used only during this call, while the map
        // lives.
        let Some(m) = (unsafe { map_ref(m) }) else { return GOMAP_OK };
        let t = &m.t.t;
        let delete = |k: *const u8| {
            // SAFETY: mapdelete's points: 1. `h` is a live map (point 1) of
            // type `t`, its own (MapRef::t), used by no other thread (point
            // 1); 2. `k` points to a key of `t` (point 2), copied to scratch
            // by with_key_copy.
            match unsafe { map::mapdelete(t, m.h.as_ptr(), k) } {
                Ok(()) => GOMAP_OK,
                Err(e) => e.into(),
            }
        };
        // SAFETY: with_key_copy's point 1: `key` is a key of `t` (point 2),
        // so valid for reads of its key size.
        unsafe { with_key_copy(key, t.key().size, delete) }
    })
}

/// `clear(m)` (`mapclear`). Live iterators stop producing old entries.
///
/// # Safety
/// * `m` is NULL or a live handle used by no other thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn gomap_mapclear(m: *mut gomap_map) -> gomap_status {
    guard(|| {
        // SAFETY: map_ref's points: 1. `m` is NULL or a live handle (point
        // 1); 2. the MapRef is used only during this call, while the map
        // lives.
        if let Some(m) = unsafe { map_ref(m) } {
            // SAFETY: mapclear's point: `h` is a live map (point 1) of type
            // `t`, its own (MapRef::t), used by no other thread (point 1).
            unsafe { map::mapclear(&m.t.t, m.h.as_ptr()) };
        }
        GOMAP_OK
    })
}

/// gomap only: rebuilds the map at the smallest size that holds its entries
/// (at least `min_capacity`), giving back the old bucket array and every
/// overflow bucket (`shrink::mapshrink`, docs/shrink.md). Go semantics are
/// unchanged. GOMAP_ERR_BUSY while an iterator of the map is live,
/// GOMAP_ERR_NOMEM with the map unchanged if allocation fails; a NULL map is
/// a no-op.
///
/// # Safety
/// * `m` is NULL or a live handle used by no other thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn gomap_mapshrink(m: *mut gomap_map, min_capacity: usize) -> gomap_status {
    guard(|| {
        // SAFETY: map_ref's points: 1. `m` is NULL or a live handle (point
        // 1); 2. the MapRef is used only during this call, while the map
        // lives.
        let Some(m) = (unsafe { map_ref(m) }) else { return GOMAP_OK };
        // SAFETY: mapshrink's point: `h` is a live map (point 1) of type `t`,
        // its own (MapRef::t), not accessed by another thread during the
        // call (point 1).
        match unsafe { gomap::shrink::mapshrink(&m.t.t, m.h.as_ptr(), min_capacity) } {
            Ok(()) => GOMAP_OK,
            Err(e) => e.into(),
        }
    })
}

/// `maps.Clone(m)` (`mapclone2`): a new map with the same entries, type and
/// allocator. Cloning a NULL map yields NULL.
///
/// # Safety
/// * `m` is NULL or a live handle, not being written.
/// * `out` is an out-parameter.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn gomap_mapclone(m: *const gomap_map, out: *mut *mut gomap_map) -> gomap_status {
    guard(|| {
        nonnull!(out);
        // SAFETY: map_ref's points: 1. `m` is NULL or a live handle (point
        // 1); 2. the MapRef is used only during this call, while the map
        // lives.
        let Some(m) = (unsafe { map_ref(m) }) else {
            // SAFETY: `out` is an out-parameter (point 2), checked non-null.
            unsafe { out.write(ptr::null_mut()) };
            return GOMAP_OK;
        };
        // SAFETY: mapclone2's point: `src` is a live map (point 1) of type
        // `t`, its own (MapRef::t), not being written (point 1).
        let r = unsafe { map::mapclone2(&m.t.t, m.h.as_ptr()) };
        // SAFETY: finish_map's points: 1. `out` is an out-parameter (point
        // 2), checked non-null; 2. the clone was just made with `m.t.t`, and
        // is unpublished; 3. `m.owner` is the source map's owner word: the
        // data pointer of the type's Arc with its provenance, which the
        // source map (live during the call, point 1) keeps live.
        unsafe { finish_map(r, m.owner, out) }
    })
}

/// `len(m)`: 0 for a NULL map.
///
/// # Safety
/// * `m` is NULL or a live handle, not being written.
/// * `out` is an out-parameter.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn gomap_len(m: *const gomap_map, out: *mut usize) -> gomap_status {
    guard(|| {
        nonnull!(out);
        // SAFETY: `m` is NULL or a live handle (point 1), i.e. the map's
        // `hmap`: aligned and initialised; not being written (point 1), so
        // nothing mutates it while the reference, used only here, lives.
        let n = unsafe { m.cast::<HMap>().as_ref() }.map_or(0, HMap::len);
        // SAFETY: `out` is an out-parameter (point 2), checked non-null.
        unsafe { out.write(n) };
        GOMAP_OK
    })
}

/// Frees a map and everything it owns, retired memory included, even while
/// iterators of the map are live (a program that left a `range` loop
/// without ending it): those iterators are dead from then on and must not
/// be passed to any function again, not even `gomap_mapiterend`. NULL is a
/// no-op.
///
/// # Safety
/// * `m` is NULL or a live handle used by no other thread, not used again
///   after `GOMAP_OK`.
/// * No iterator of the map is used after the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn gomap_free(m: *mut gomap_map) -> gomap_status {
    guard(|| {
        // SAFETY: map_ref's points: 1. `m` is NULL or a live handle (point
        // 1); 2. `mr.t` is not used after mapfree succeeds (only the raw
        // `mr.owner` is).
        let Some(mr) = (unsafe { map_ref(m) }) else { return GOMAP_OK };
        // SAFETY: mapfree_abandoning_iterators's points: 1. `h` is a live
        // map (point 1) of type `t`, its own (MapRef::t); 2. used by no one
        // else, and not again (point 1); 3. its iterators are not used
        // again (point 2).
        match unsafe { map::mapfree_abandoning_iterators(&mr.t.t, mr.h.as_ptr()) } {
            Ok(()) => {
                // SAFETY: `mr.owner` is the data pointer of the type's Arc
                // whose count finish_map took for this map (what
                // `Arc::into_raw` would return); the map is gone, so that
                // count is released here, once.
                drop(unsafe { Arc::from_raw(mr.owner) });
                GOMAP_OK
            }
            Err(e) => e.into(),
        }
    })
}

// ---------------------------------------------------------------------------
// Iteration
// ---------------------------------------------------------------------------

/// Size of `gomap_hiter`: Go's `hiter` (8 + 12 pointers, the core's
/// [`HIter`]) followed by one word, the address the iterator was started
/// at, which tells a live iterator from a byte copy of one.
pub const GOMAP_HITER_SIZE: usize = 112;
/// Where the start address lives in `gomap_hiter`.
const HITER_HOME: usize = core::mem::size_of::<HIter>();
const _: () = assert!(HITER_HOME + 8 == GOMAP_HITER_SIZE);
const _: () = assert!(core::mem::align_of::<HIter>() == 8);

/// Caller-owned iterator storage (`gomap_hiter`), zero-initialised.
#[repr(C, align(8))]
pub struct gomap_hiter {
    /// Opaque.
    pub opaque: [u8; GOMAP_HITER_SIZE],
}

const _: () = assert!(core::mem::size_of::<gomap_hiter>() == GOMAP_HITER_SIZE);
const _: () = assert!(core::mem::align_of::<gomap_hiter>() == 8);

/// Whether the live iterator in `it` was started at this very address. A
/// byte copy of a live iterator (or storage moved while live) is not: it
/// must not step or end the original's registration (ending both would
/// count the map's live iterators down twice).
///
/// # Safety
/// * `it` is non-null, 8-aligned caller-owned iterator storage, readable
///   for [`GOMAP_HITER_SIZE`] bytes.
unsafe fn started_here(it: *const gomap_hiter) -> bool {
    // SAFETY: HITER_HOME + 8 == GOMAP_HITER_SIZE: in bounds of the storage
    // (point 1).
    let p = unsafe { it.cast::<u8>().add(HITER_HOME) };
    // SAFETY: `p` is readable (point 1), 8-aligned (HITER_HOME is a
    // multiple of 8 and `it` is aligned), initialised: zeroed by the caller
    // or written by gomap_mapiterinit.
    let home = unsafe { p.cast::<usize>().read() };
    home == it.addr()
}

/// Records that the iterator in `it` was started at this address.
///
/// # Safety
/// * As [`started_here`], writable.
unsafe fn set_home(it: *mut gomap_hiter) {
    // SAFETY: HITER_HOME + 8 == GOMAP_HITER_SIZE: in bounds (point 1).
    let p = unsafe { it.cast::<u8>().add(HITER_HOME) };
    // SAFETY: `p` is writable (point 1) and 8-aligned, as in started_here.
    unsafe { p.cast::<usize>().write(it.addr()) };
}
// gomap_hiter_key and gomap_hiter_elem read these two words directly.
const _: () = assert!(core::mem::offset_of!(HIter, key) == 0);
const _: () = assert!(core::mem::offset_of!(HIter, elem) == 8);

/// Checks that `it` is aligned storage holding a valid `HIter` (its one
/// field with invalid bit patterns, the `registered` bool, is 0 or 1).
///
/// # Safety
/// * `it` is non-null caller-owned iterator storage.
/// * The result is used only during the C call that received `it` (`'a`
///   is unbounded).
unsafe fn hiter<'a>(it: *mut gomap_hiter) -> Option<&'a mut HIter> {
    // SAFETY: HIter::from_raw's points: 1. `it` is non-null, valid for reads
    // and writes of GOMAP_HITER_SIZE >= size_of::<HIter>() bytes (asserted
    // above) and accessed by nothing else during the C call (point 1),
    // which `'a` does not outlast (point 2); 2. its bytes were zeroed by
    // the caller or last written by gomap as an HIter (point 1).
    unsafe { HIter::from_raw(it.cast::<u8>()) }
}

/// [`hiter`] for the calls that step or end an iteration: `None` also for a
/// copy of a live iterator (it was started elsewhere, see
/// [`started_here`]), which such calls report as `GOMAP_ERR_BAD_ARG`
/// without touching the map.
///
/// # Safety
/// * As [`hiter`].
unsafe fn own_hiter<'a>(it: *mut gomap_hiter) -> Option<&'a mut HIter> {
    // SAFETY: hiter's points, passed on.
    let h = unsafe { hiter(it) }?;
    // SAFETY: started_here's point: `it` is non-null, aligned (hiter
    // checked it) and readable for GOMAP_HITER_SIZE bytes (point 1).
    if h.is_registered() && !unsafe { started_here(it) } {
        return None;
    }
    Some(h)
}

/// `for k, v := range m` (`mapiterinit`): starts iterating `m` from a random
/// position and advances to the first entry. A still-live iteration in `it`
/// is ended first. A NULL map iterates nothing.
///
/// # Safety
/// * `m` is NULL or a live handle, not being written.
/// * `it` is NULL (rejected) or caller-owned iterator storage.
/// * If `it` is a registered iterator, its map is a live handle.
/// * `m` stays a live handle for as long as `it` is registered after the
///   call (until its end or [`gomap_mapiterend`]).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn gomap_mapiterinit(m: *const gomap_map, it: *mut gomap_hiter) -> gomap_status {
    guard(|| {
        nonnull!(it);
        // SAFETY: hiter's points: 1. `it` is non-null (checked) caller-owned
        // iterator storage (point 2); 2. the result is used only in this
        // call.
        let raw = it;
        // SAFETY: started_here's point: `it` is non-null (checked) storage
        // (point 2), 8-aligned (checked first: `&&` short-circuits).
        let copy = raw.addr() % 8 == 0 && !unsafe { started_here(raw) };
        // SAFETY: hiter's points: 1. `it` is non-null (checked) caller-owned
        // iterator storage (point 2); 2. the result is used only in this
        // call.
        let Some(it) = (unsafe { hiter(it) }) else { return GOMAP_ERR_BAD_ARG };
        if it.is_registered() && copy {
            // A byte copy of another live iterator: not ours to end.
            *it = HIter::new();
        }
        // End a still-live iteration here rather than in mapiterinit, so
        // that mapiterinit gets the ended iterator its contract asks for.
        // SAFETY: mapiterend's point: if `it` is registered, its map is a
        // live handle (point 3), which holds its type.
        unsafe { map::mapiterend(it) };
        // SAFETY: map_ref's points: 1. `m` is NULL or a live handle (point
        // 1); 2. the MapRef is used only during this call.
        match unsafe { map_ref(m) } {
            // SAFETY: mapiterinit's points: `h` is a live map (point 1) of
            // type `t`, its own (MapRef::t), not being written (point 1);
            // `it` was ended just above, so no iteration uses it; the map
            // outlives the iteration (point 4), and holds its type `t`.
            Some(m) => unsafe { map::mapiterinit(&m.t.t, m.h.as_ptr(), it) },
            None => *it = HIter::new(),
        }
        // SAFETY: set_home's point: `raw` is the same aligned, writable
        // storage (point 2); `it`'s borrow ended above.
        unsafe { set_home(raw) };
        GOMAP_OK
    })
}

/// Advances to the next entry (`mapiternext`). At the end the key becomes
/// NULL and the iterator ends itself.
///
/// # Safety
/// * `it` is NULL (rejected) or caller-owned iterator storage.
/// * If `it` is a registered iterator, its map is a live handle.
/// * That map is not being written.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn gomap_mapiternext(it: *mut gomap_hiter) -> gomap_status {
    guard(|| {
        nonnull!(it);
        // SAFETY: hiter's points: 1. `it` is non-null (checked) caller-owned
        // iterator storage (point 1); 2. the result is used only in this
        // call.
        let Some(it) = (unsafe { own_hiter(it) }) else { return GOMAP_ERR_BAD_ARG };
        // SAFETY: mapiternext_own_type's point (mapiternext's): a
        // registered `it` was started by mapiterinit and its map is a live
        // handle (point 2) holding its type, not being written (point 3);
        // an unregistered one (zeroed or ended) reaches no map or type
        // (mapiternext_own_type's fresh-or-ended branch).
        unsafe { map::mapiternext_own_type(it) };
        GOMAP_OK
    })
}

/// [`gomap_mapiternext`], then the new current key and elem in `*out_key`
/// and `*out_elem` (both NULL at the end): one call per entry instead of
/// three. Same iterator, same semantics; the two may be mixed.
///
/// # Safety
/// * `it` is NULL (rejected) or caller-owned iterator storage.
/// * If `it` is a registered iterator, its map is a live handle.
/// * That map is not being written.
/// * `out_key` and `out_elem` are out-parameters.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn gomap_mapiternext_kv(
    it: *mut gomap_hiter,
    out_key: *mut *mut c_void,
    out_elem: *mut *mut c_void,
) -> gomap_status {
    guard(|| {
        nonnull!(it, out_key, out_elem);
        // SAFETY: hiter's points: 1. `it` is non-null (checked) caller-owned
        // iterator storage (point 1); 2. the result is used only in this
        // call.
        let Some(it) = (unsafe { own_hiter(it) }) else { return GOMAP_ERR_BAD_ARG };
        // SAFETY: mapiternext_own_type's point (mapiternext's): a
        // registered `it` was started by mapiterinit and its map is a live
        // handle (point 2) holding its type, not being written (point 3);
        // an unregistered one (zeroed or ended) reaches no map or type
        // (mapiternext_own_type's fresh-or-ended branch).
        unsafe { map::mapiternext_own_type(it) };
        // mapiternext sets both, and both to null at the end.
        debug_assert!(!it.key.is_null() || it.elem.is_null());
        // SAFETY: `out_key` is an out-parameter (point 4), checked non-null.
        unsafe { out_key.write(it.key.cast()) };
        // SAFETY: `out_elem` is an out-parameter (point 4), checked non-null.
        unsafe { out_elem.write(it.elem.cast()) };
        GOMAP_OK
    })
}

/// Ends an iteration early, releasing the memory it kept alive. Idempotent.
///
/// # Safety
/// * `it` is NULL (rejected) or caller-owned iterator storage.
/// * If `it` is a registered iterator, its map is a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn gomap_mapiterend(it: *mut gomap_hiter) -> gomap_status {
    guard(|| {
        nonnull!(it);
        // SAFETY: hiter's points: 1. `it` is non-null (checked) caller-owned
        // iterator storage (point 1); 2. the result is used only in this
        // call.
        let Some(it) = (unsafe { own_hiter(it) }) else { return GOMAP_ERR_BAD_ARG };
        // SAFETY: mapiterend's point: if `it` is registered, its map is a
        // live handle (point 2), which holds its type.
        unsafe { map::mapiterend(it) };
        GOMAP_OK
    })
}

/// The current key, or NULL when iteration is over (or `it` is NULL).
///
/// # Safety
/// * `it` is NULL or caller-owned iterator storage (misaligned storage
///   gives NULL).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn gomap_hiter_key(it: *const gomap_hiter) -> *mut c_void {
    guard_val(ptr::null_mut(), || {
        if it.is_null() || it.addr() % 8 != 0 {
            return ptr::null_mut();
        }
        // SAFETY: `it` is non-null and 8-aligned (checked) and valid for
        // reads of GOMAP_HITER_SIZE bytes (point 1); its first word is
        // HIter's `key` (offset 0, asserted), initialised: zeroed or written
        // by gomap (point 1).
        unsafe { it.cast::<*mut c_void>().read() }
    })
}

/// The current elem, or NULL when iteration is over (or `it` is NULL).
///
/// # Safety
/// * `it` is NULL or caller-owned iterator storage (misaligned storage
///   gives NULL).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn gomap_hiter_elem(it: *const gomap_hiter) -> *mut c_void {
    guard_val(ptr::null_mut(), || {
        if it.is_null() || it.addr() % 8 != 0 {
            return ptr::null_mut();
        }
        let words = it.cast::<*mut c_void>();
        // `key` is null exactly when iteration is over.
        // SAFETY: `it` is non-null and 8-aligned (checked) and valid for
        // reads of GOMAP_HITER_SIZE bytes (point 1); its first word is
        // HIter's `key` (offset 0, asserted), initialised: zeroed or written
        // by gomap (point 1).
        if unsafe { words.read() }.is_null() {
            return ptr::null_mut();
        }
        // SAFETY: offset 8 (HIter's `elem`, asserted) is within the
        // GOMAP_HITER_SIZE bytes of the storage (point 1).
        let elem = unsafe { words.add(1) };
        // SAFETY: `elem` is 8-aligned (`it` is), valid for reads (point 1)
        // and initialised: zeroed or written by gomap (point 1).
        unsafe { elem.read() }
    })
}

// ---------------------------------------------------------------------------
// Host hooks
// ---------------------------------------------------------------------------

/// A GC visitor callback: `what` is a `GOMAP_VISIT_*` code; for keys and
/// elems `ptr`/`size` are the value's address and type size, for blocks the
/// pointer the allocator returned and the size it was asked for.
pub type gomap_visitor = unsafe extern "C" fn(ctx: *mut c_void, what: u32, ptr: *mut c_void, size: usize);

/// Reports every live key and elem of `m` and every allocation it owns.
///
/// # Safety
/// * `m` is NULL or a live handle, not being written.
/// * `visitor` is NULL (rejected) or follows the callback contract with
///   `ctx` during the call: callable on this thread, and it does not use
///   the map.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn gomap_visit(
    m: *const gomap_map,
    visitor: Option<gomap_visitor>,
    ctx: *mut c_void,
) -> gomap_status {
    guard(|| {
        let Some(v) = visitor else { return GOMAP_ERR_NULL };
        // SAFETY: map_ref's points: 1. `m` is NULL or a live handle (point
        // 1); 2. the MapRef is used only during this call.
        let Some(m) = (unsafe { map_ref(m) }) else { return GOMAP_OK };
        let mut f = |what: Item, p: *mut u8, size: usize| {
            // SAFETY: the visitor's contract: callable now with its `ctx`
            // (point 2), given a code, an address and a size.
            unsafe { v(ctx, what as u32, p.cast(), size) }
        };
        // SAFETY: visit's points: `h` is a live map (point 1) of type `t`,
        // its own (MapRef::t), on which no write runs (point 1); `f` only
        // calls the visitor, which does not touch the map (point 2).
        unsafe { visit::visit(&m.t.t, m.h.as_ptr(), &mut f) };
        GOMAP_OK
    })
}

/// What a map holds, for a host watching its memory (`gomap_stats`;
/// [`gomap::visit::MapStats`], field for field). Byte counts are what the
/// map's allocator was asked for.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct gomap_stats {
    /// Live entries.
    pub count: usize,
    /// log2 of the bucket count.
    pub b: usize,
    /// 1 while a growth is under way.
    pub growing: usize,
    /// Current and old bucket arrays.
    pub bucket_array_bytes: usize,
    /// Heap overflow buckets: how many.
    pub overflow_buckets: usize,
    /// Their bytes.
    pub overflow_bytes: usize,
    /// Out-of-line storage of live keys and elems.
    pub out_of_line_bytes: usize,
    /// Blocks kept for live iterators or stale old slots.
    pub retired_blocks: usize,
    /// Their bytes.
    pub retired_bytes: usize,
    /// Spare overflow buckets reserved ahead of a write.
    pub spare_bytes: usize,
    /// Iterators started and not ended yet.
    pub live_iterators: usize,
    /// Everything the map holds, its header included.
    pub total_bytes: usize,
    /// Blocks released by the map and held in its quarantine.
    pub quarantined_blocks: usize,
    /// Their bytes.
    pub quarantined_bytes: usize,
}

const _: () = assert!(core::mem::size_of::<gomap_stats>() == 112);
const _: () = assert!(core::mem::align_of::<gomap_stats>() == 8);

impl From<gomap::visit::MapStats> for gomap_stats {
    fn from(s: gomap::visit::MapStats) -> Self {
        gomap_stats {
            count: s.count,
            b: s.b,
            growing: s.growing,
            bucket_array_bytes: s.bucket_array_bytes,
            overflow_buckets: s.overflow_buckets,
            overflow_bytes: s.overflow_bytes,
            out_of_line_bytes: s.out_of_line_bytes,
            retired_blocks: s.retired_blocks,
            retired_bytes: s.retired_bytes,
            spare_bytes: s.spare_bytes,
            live_iterators: s.live_iterators,
            total_bytes: s.total_bytes,
            quarantined_blocks: s.quarantined_blocks,
            quarantined_bytes: s.quarantined_bytes,
        }
    }
}

/// Fills `out` with what map `m` holds now (all zero for NULL): entries,
/// B, whether it is growing, bucket-array bytes, heap overflow buckets and
/// bytes, out-of-line key/elem bytes, retired blocks and bytes (kept for
/// live iterators or stale old slots), reserved spare bytes, live
/// iterators, and the total. Walks the map; for watching, not hot paths.
///
/// # Safety
/// * `m` is NULL or a live handle, not being written.
/// * `out` is an out-parameter.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn gomap_map_stats(m: *const gomap_map, out: *mut gomap_stats) -> gomap_status {
    guard(|| {
        nonnull!(out);
        // SAFETY: map_ref's points: 1. `m` is NULL or a live handle (point
        // 1); 2. the MapRef is used only during this call.
        let s = match unsafe { map_ref(m) } {
            // SAFETY: stats's point: `h` is a live map (point 1) of type
            // `t`, its own (MapRef::t), not being written (point 1).
            Some(m) => unsafe { visit::stats(&m.t.t, m.h.as_ptr()) }.into(),
            None => gomap_stats::default(),
        };
        // SAFETY: `out` is an out-parameter (point 2), checked non-null.
        unsafe { out.write(s) };
        GOMAP_OK
    })
}

/// A fatal-error handler: receives Go's message ("concurrent map writes",
/// ...), without the "fatal error: " prefix.
pub type gomap_fatal_fn = unsafe extern "C" fn(msg: *const c_char, ctx: *mut c_void);

/// The C handler and its context, published as one pair.
static FATAL: Hook = Hook::new(1);

/// The Rust fatal hook that forwards to the C handler.
fn fatal_bridge(msg: &'static str) {
    let mut buf = [0u8; 256];
    let n = msg.len().min(buf.len() - 1);
    buf[..n].copy_from_slice(&msg.as_bytes()[..n]);
    FATAL.with(|f, ctx| {
        // SAFETY: `f` is non-null (Hook::with calls only with an installed
        // pair) and was a `gomap_fatal_fn` cast to `*mut ()` by
        // gomap_set_fatal_handler, the only setter of FATAL; data and
        // function pointers have the same size and representation on every
        // supported target.
        let f = unsafe { core::mem::transmute::<*mut (), gomap_fatal_fn>(f) };
        // SAFETY: the handler's contract: callable from any thread with its
        // own `ctx`, which FATAL pairs with it (gomap_set_fatal_handler,
        // point 1); `buf` is a NUL-terminated string (n < 256 bytes copied
        // into zeros).
        unsafe { f(buf.as_ptr().cast(), ctx) };
    });
}

/// Installs (or with NULL removes) the process-wide fatal-error handler. It
/// should not return; if it does, gomap prints Go's message and aborts.
/// Returns once no thread runs the previous handler or can call it again
/// (so its context may be freed); `GOMAP_ERR_BUSY` from inside the handler.
///
/// # Safety
/// * `f` is NULL or follows the callback contract with `ctx`: callable from
///   any thread with a NUL-terminated message while installed, without
///   unwinding or `longjmp`ing through gomap's frames.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn gomap_set_fatal_handler(f: Option<gomap_fatal_fn>, ctx: *mut c_void) -> gomap_status {
    guard(|| {
        if FATAL.set(f.map_or(ptr::null_mut(), |f| f as *mut ()), ctx).is_none() {
            return GOMAP_ERR_BUSY;
        }
        set_fatal_hook(f.map(|_| fatal_bridge as fn(&'static str)));
        GOMAP_OK
    })
}

/// A host random source.
pub type gomap_rand_fn = unsafe extern "C" fn(ctx: *mut c_void) -> u64;

/// Installs (or with NULL removes) the process-wide random source used for
/// hash seeds, iteration starts and NaN hashes. Returns once no thread runs
/// the previous source or can call it again (so its context may be freed);
/// `GOMAP_ERR_BUSY` from inside the source itself.
///
/// # Safety
/// * `f` is NULL or follows the callback contract with `ctx`: callable from
///   any thread while installed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn gomap_set_rand(f: Option<gomap_rand_fn>, ctx: *mut c_void) -> gomap_status {
    guard(|| {
        // SAFETY: set_host_source's point: `f` is safe to call from any
        // thread with `ctx` while installed (point 1).
        if unsafe { gomap::rand::set_host_source(f, ctx) } { GOMAP_OK } else { GOMAP_ERR_BUSY }
    })
}

/// Bytes of hash key material [`gomap_set_hash_key`] takes.
pub const GOMAP_HASH_KEY_SIZE: usize = 160;
const _: () = assert!(GOMAP_HASH_KEY_SIZE == gomap::alg::KEY_MATERIAL_BYTES);

/// Fixes the process's hash key material (Go's `aeskeysched` and `hashkey`)
/// before anything has hashed: `aeskeysched` (128 bytes), then `hashkey`'s
/// four words little-endian. With the random source fixed too
/// ([`gomap_set_rand`]), every process then hashes, seeds and iterates
/// alike. `GOMAP_ERR_BUSY` (nothing changed) once the material is in use;
/// `GOMAP_ERR_BAD_ARG` unless `len` is [`GOMAP_HASH_KEY_SIZE`].
///
/// # Safety
/// * `material` is NULL (rejected) or valid for reads of `len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn gomap_set_hash_key(material: *const u8, len: usize) -> gomap_status {
    guard(|| {
        nonnull!(material);
        if len != GOMAP_HASH_KEY_SIZE {
            return GOMAP_ERR_BAD_ARG;
        }
        // SAFETY: `material` is non-null (checked) and valid for reads of
        // `len` = GOMAP_HASH_KEY_SIZE bytes (point 1); u8 needs no alignment.
        let bytes = unsafe { &*material.cast::<[u8; GOMAP_HASH_KEY_SIZE]>() };
        let km = gomap::alg::KeyMaterial::from_bytes(bytes);
        if gomap::alg::init_key_material(&km) { GOMAP_OK } else { GOMAP_ERR_BUSY }
    })
}

const _: () = assert!(core::mem::size_of::<gomap::alg::GoString>() == 16);
const _: () = assert!(core::mem::align_of::<gomap::alg::GoString>() == 8);

// ---------------------------------------------------------------------------
// Ownership: retain/release for refcounting hosts
// ---------------------------------------------------------------------------

/// Retains or releases the key or elem at `value` (a refcounting host's
/// incref/decref).
pub type gomap_ref_fn = unsafe extern "C" fn(ctx: *mut c_void, value: *mut c_void);

/// Ownership callbacks of a type (`gomap_type_with_ownership`): for keys and
/// for elems, retain and release both NULL or both set.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct gomap_ownership {
    /// Called on each key a clone copies.
    pub key_retain: Option<gomap_ref_fn>,
    /// Called on each key the map discards.
    pub key_release: Option<gomap_ref_fn>,
    /// Called on each elem a clone copies.
    pub elem_retain: Option<gomap_ref_fn>,
    /// Called on each elem the map discards.
    pub elem_release: Option<gomap_ref_fn>,
    /// Passed to all four.
    pub ctx: *mut c_void,
}

const _: () = assert!(core::mem::size_of::<gomap_ownership>() == 40);

/// The hook context of a type with ownership callbacks.
struct Ownership {
    o: gomap_ownership,
    key_size: usize,
    elem_size: usize,
}

// SAFETY: the callbacks may be called with `ctx` from any thread
// (gomap_type_with_ownership, point 3); the struct is never mutated.
unsafe impl Send for Ownership {}
// SAFETY: as above: shared only for reading, callbacks callable anywhere.
unsafe impl Sync for Ownership {}

/// Which callback of an [`Ownership`] a trampoline forwards to.
#[derive(Clone, Copy)]
enum Side {
    Key,
    Elem,
}

/// Calls the retain or release callback of `side`.
///
/// # Safety
/// 1. `ctx` points to a live [`Ownership`] (the hook context, kept alive by
///    the descriptor);
/// 2. `p` is a key (elem) of the type, and the callback may be called now
///    (a map of the type is live).
unsafe fn own_call(ctx: *const (), p: *mut u8, side: Side, retain: bool) {
    // SAFETY: point 1; read only during this call.
    let o = unsafe { &*ctx.cast::<Ownership>() };
    let f = match (side, retain) {
        (Side::Key, true) => o.o.key_retain,
        (Side::Key, false) => o.o.key_release,
        (Side::Elem, true) => o.o.elem_retain,
        (Side::Elem, false) => o.o.elem_release,
    };
    if let Some(f) = f {
        // SAFETY: the callback's contract: callable now with its `ctx`
        // (gomap_type_with_ownership, point 3) and a value of its type
        // (point 2).
        unsafe { f(o.o.ctx, p.cast()) }
    }
}

/// Releases a key retained for the caller unless defused (forgotten):
/// `gomap_mapdelete2`'s undo when the delete fails or unwinds.
struct Release {
    ctx: *const (),
    p: *mut u8,
}

impl Drop for Release {
    fn drop(&mut self) {
        // SAFETY: own_call's points: 1. `ctx` is the type's live Ownership
        // (the map, which keeps it alive, is live during the delete); 2.
        // `p` is the caller's copy of a stored key, retained just before.
        unsafe { own_call(self.ctx, self.p, Side::Key, false) }
    }
}

/// The drop hook of keys: `key_release`.
///
/// # Safety
/// As [`gomap::maptype::DropFn`], with `ctx` an [`Ownership`].
unsafe fn own_key_drop(p: *mut u8, ctx: *const ()) {
    // SAFETY: own_call's points: 1. the hook context is the Ownership;
    // 2. `p` is a live key the map discards (DropFn's point 1).
    unsafe { own_call(ctx, p, Side::Key, false) }
}

/// The drop hook of elems: `elem_release`.
///
/// # Safety
/// As [`gomap::maptype::DropFn`], with `ctx` an [`Ownership`].
unsafe fn own_elem_drop(p: *mut u8, ctx: *const ()) {
    // SAFETY: as own_key_drop, for an elem.
    unsafe { own_call(ctx, p, Side::Elem, false) }
}

/// Copies a value of `side` from `src` to `dst` and retains the copy.
///
/// # Safety
/// As [`gomap::maptype::CloneFn`], with `ctx` an [`Ownership`].
unsafe fn own_clone(dst: *mut u8, src: *const u8, ctx: *const (), side: Side) {
    // SAFETY: the hook context is a live Ownership (CloneFn's ctx point).
    let o = unsafe { &*ctx.cast::<Ownership>() };
    let size = match side {
        Side::Key => o.key_size,
        Side::Elem => o.elem_size,
    };
    // SAFETY: CloneFn's points: `src` is readable and `dst` writable for
    // the type's size, not overlapping.
    unsafe { ptr::copy_nonoverlapping(src, dst, size) };
    // SAFETY: own_call's points: 1. the Ownership; 2. `dst` now holds a
    // key (elem) of the type, a copy the map owns.
    unsafe { own_call(ctx, dst, side, true) }
}

/// The clone hook of keys: copy, then `key_retain`.
///
/// # Safety
/// As [`own_clone`].
unsafe fn own_key_clone(dst: *mut u8, src: *const u8, ctx: *const ()) {
    // SAFETY: forwarded unchanged (own_clone's points are this fn's).
    unsafe { own_clone(dst, src, ctx, Side::Key) }
}

/// The clone hook of elems: copy, then `elem_retain`.
///
/// # Safety
/// As [`own_clone`].
unsafe fn own_elem_clone(dst: *mut u8, src: *const u8, ctx: *const ()) {
    // SAFETY: forwarded unchanged (own_clone's points are this fn's).
    unsafe { own_clone(dst, src, ctx, Side::Elem) }
}

/// A new type handle: `t` plus ownership callbacks for a refcounting host.
/// The map then calls `*_release` on every key and elem it discards (delete,
/// clear, free, and the stored key a key update replaces), and `*_retain` on
/// every key and elem a clone copies; nothing else (insertion takes the
/// caller's key as it is: see `gomap_mapassign2`). A release may run later
/// than the delete that discarded the value, when the map's last live
/// iterator ends (iterators may still hash the old key), on the thread that
/// ends it. `GOMAP_ERR_BAD_ARG` if a retain/release pair is half set.
///
/// # Safety
/// 1. `t` is NULL (rejected) or a live type handle.
/// 2. `o` is NULL (rejected) or points to a readable `gomap_ownership`.
/// 3. The callbacks follow the callback contract with `o->ctx`: callable
///    from any thread with a key (elem) of the type while a map of the new
///    type lives, without unwinding or `longjmp`ing through gomap.
/// 4. `out` is an out-parameter.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn gomap_type_with_ownership(
    t: *const gomap_type,
    o: *const gomap_ownership,
    out: *mut *mut gomap_type,
) -> gomap_status {
    guard(|| {
        nonnull!(t, o, out);
        // SAFETY: `o` is non-null and readable (point 2); copied out.
        let o = unsafe { o.read() };
        if o.key_retain.is_some() != o.key_release.is_some() || o.elem_retain.is_some() != o.elem_release.is_some() {
            return GOMAP_ERR_BAD_ARG;
        }
        // SAFETY: `t` is non-null, so a live type handle (point 1): a boxed
        // gomap_type, never written; the reference lives for this call.
        let base = unsafe { &(&*t).t.t };
        let own = Arc::new(Ownership { o, key_size: base.key().size, elem_size: base.elem().size });
        let ctx = Arc::as_ptr(&own).cast::<()>();
        let keys = o.key_release.is_some();
        let elems = o.elem_release.is_some();
        let with = base.duplicate().with_hooks(
            keys.then_some(own_key_drop as gomap::maptype::DropFn),
            elems.then_some(own_elem_drop as gomap::maptype::DropFn),
            keys.then_some(own_key_clone as gomap::maptype::CloneFn),
            elems.then_some(own_elem_clone as gomap::maptype::CloneFn),
        );
        // SAFETY: with_hook_ctx's points: 1. the four hooks take an
        // Ownership as their ctx, which `ctx` is; 2. `own` keeps it alive
        // as long as the descriptor and its duplicates.
        let with = unsafe { with.with_hook_ctx(ctx, Some(own.clone())) };
        // SAFETY: finish_type_own's point: `out` is an out-parameter (point
        // 4), checked non-null.
        unsafe { finish_type_own(Ok(with), Some(own), out) }
    })
}

/// `gomap_mapassign2`'s flag: a new entry was made.
pub const GOMAP_ASSIGN_INSERTED: u32 = 1;
/// `gomap_mapassign2`'s flag: the map stored the caller's key bytes (a new
/// entry, or a key update that replaced, and released, the stored key).
pub const GOMAP_ASSIGN_KEY_STORED: u32 = 2;

/// [`gomap_mapassign`] that also reports, in `*out_flags`, whether a new
/// entry was made (`GOMAP_ASSIGN_INSERTED`) and whether the map now holds
/// the caller's key bytes (`GOMAP_ASSIGN_KEY_STORED`: a refcounting host
/// hands the map its reference then, and keeps it otherwise). For an
/// existing entry the elem slot holds the old elem, which the host
/// releases before writing the new one.
///
/// # Safety
/// * `m` is NULL or a live handle used by no other thread.
/// * `key` is NULL (rejected) or a key of the map's type; it may point into
///   the map (an iterator's key).
/// * `out_elem` and `out_flags` are out-parameters.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn gomap_mapassign2(
    m: *mut gomap_map,
    key: *const c_void,
    out_elem: *mut *mut c_void,
    out_flags: *mut u32,
) -> gomap_status {
    guard(|| {
        nonnull!(key, out_elem, out_flags);
        // SAFETY: map_ref's points: 1. `m` is NULL or a live handle (point
        // 1); 2. the MapRef is used only during this call, while the map
        // lives.
        let Some(m) = (unsafe { map_ref(m) }) else { return GOMAP_ERR_NIL_MAP_ASSIGN };
        let t = &m.t.t;
        let assign = |k: *const u8| {
            // SAFETY: mapassign's points: 1. `h` is a live map (point 1) of
            // type `t`, its own (MapRef::t), used by no other thread (point
            // 1); 2. `k` points to a key of `t` (point 2) copied to scratch
            // by with_key_copy, so it does not point into the map.
            match unsafe { map::mapassign(t, m.h.as_ptr(), k) } {
                Ok(slot) => {
                    let mut flags = 0;
                    if slot.inserted {
                        flags |= GOMAP_ASSIGN_INSERTED;
                    }
                    if slot.inserted || t.need_key_update() {
                        flags |= GOMAP_ASSIGN_KEY_STORED;
                    }
                    // SAFETY: `out_elem` is an out-parameter (point 3),
                    // checked non-null.
                    unsafe { out_elem.write(slot.elem.as_ptr().cast()) };
                    // SAFETY: `out_flags` is an out-parameter (point 3),
                    // checked non-null.
                    unsafe { out_flags.write(flags) };
                    GOMAP_OK
                }
                Err(e) => e.into(),
            }
        };
        // SAFETY: with_key_copy's point 1: `key` is a key of `t` (point 2),
        // so valid for reads of its key size.
        unsafe { with_key_copy(key, t.key().size, assign) }
    })
}

/// Go's `mapaccessK`: pointers to the stored key and elem of `key`, or two
/// NULLs when absent (or for a NULL map). Valid until the next write.
///
/// # Safety
/// * `m` is NULL or a live handle, not being written.
/// * `key` is NULL (rejected) or a key of the map's type.
/// * `out_key` and `out_elem` are out-parameters.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn gomap_mapaccessK(
    m: *const gomap_map,
    key: *const c_void,
    out_key: *mut *mut c_void,
    out_elem: *mut *mut c_void,
) -> gomap_status {
    guard(|| {
        nonnull!(key, out_key, out_elem);
        let (mut k, mut e) = (ptr::null_mut(), ptr::null_mut());
        // SAFETY: map_ref's points: 1. `m` is NULL or a live handle (point
        // 1); 2. the MapRef is used only during this call.
        if let Some(m) = unsafe { map_ref(m) } {
            // Go's mapaccessK serves iterators, whose keys are hashable; a
            // caller's key is checked first, as mapaccess1/2 check it.
            // SAFETY: map_key_error's point: `key` is a key of `t` (point 2).
            if let Err(e) = unsafe { map::map_key_error(&m.t.t, key.cast()) } {
                return e.into();
            }
            // SAFETY: mapaccess_k's points: 1. `h` is a live map (point 1)
            // of type `t`, its own (MapRef::t), not being written (point
            // 1); 2. `key` is a key of `t` (point 2), hashable (checked).
            (k, e) = unsafe { map::mapaccess_k(&m.t.t, m.h.as_ptr(), key.cast()) };
        }
        // SAFETY: `out_key` is an out-parameter (point 3), checked non-null.
        unsafe { out_key.write(k.cast()) };
        // SAFETY: `out_elem` is an out-parameter (point 3), checked non-null.
        unsafe { out_elem.write(e.cast()) };
        GOMAP_OK
    })
}

/// `delete(m, k)` that hands the removed entry to the caller: the stored
/// key is copied to `out_key` (then retained with `key_retain`, if the type
/// has one: the map releases its own copy as for any delete) and the elem
/// is moved to `out_elem` (not released: the caller owns it now). Either
/// out pointer may be NULL (that half is discarded as `gomap_mapdelete`
/// does). `*out_found` says whether the key was present; if not, nothing is
/// written to the buffers. On an error the map and the buffers are as
/// before.
///
/// # Safety
/// * `m` is NULL or a live handle used by no other thread.
/// * `key` is NULL (rejected) or a key of the map's type; it may point into
///   the map (an iterator's key).
/// * `out_key` is NULL or valid for writes of the key size, aligned for the
///   key, not overlapping the map; `out_elem` likewise for the elem.
/// * `out_found` is an out-parameter.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn gomap_mapdelete2(
    m: *mut gomap_map,
    key: *const c_void,
    out_key: *mut c_void,
    out_elem: *mut c_void,
    out_found: *mut bool,
) -> gomap_status {
    guard(|| {
        nonnull!(key, out_found);
        // SAFETY: map_ref's points: 1. `m` is NULL or a live handle (point
        // 1); 2. the MapRef is used only during this call, while the map
        // lives.
        let Some(m) = (unsafe { map_ref(m) }) else {
            // SAFETY: `out_found` is an out-parameter (point 4), non-null.
            unsafe { out_found.write(false) };
            return GOMAP_OK;
        };
        let t = &m.t.t;
        let own = m.t.own.as_deref();
        let delete = |k: *const u8| {
            // The copy handed out: retained before the map releases its own
            // (which may free the value), released again if the delete
            // fails, so that an error leaves every count as it was.
            let mut handed = None;
            // An unhashable key fails before the lookup below hashes it.
            // SAFETY: map_key_error's point: `k` is a key of `t`.
            if let Err(e) = unsafe { map::map_key_error(t, k) } {
                return e.into();
            }
            if !out_key.is_null() {
                // SAFETY: mapaccess_k's points: 1. `h` is a live map (point
                // 1) of type `t`, its own (MapRef::t), used by no other
                // thread (point 1); 2. `k` is a key of `t` (scratch copy).
                let (sk, _) = unsafe { map::mapaccess_k(t, m.h.as_ptr(), k) };
                if sk.is_null() {
                    // SAFETY: `out_found` is an out-parameter (point 4).
                    unsafe { out_found.write(false) };
                    return GOMAP_OK;
                }
                // SAFETY: `sk` is the stored key (readable for the key size)
                // and `out_key` is writable for as many bytes, aligned,
                // outside the map (point 3).
                unsafe { ptr::copy_nonoverlapping(sk, out_key.cast::<u8>(), t.key().size) };
                if let Some(o) = own.filter(|o| o.o.key_retain.is_some()) {
                    let ctx = ptr::from_ref(o).cast::<()>();
                    // SAFETY: own_call's points: 1. `o` is the type's live
                    // Ownership; 2. `out_key` holds a copy of a stored key.
                    unsafe { own_call(ctx, out_key.cast(), Side::Key, true) };
                    handed = Some(Release { ctx, p: out_key.cast() });
                }
            }
            // SAFETY: mapdelete_into's points: 1. `h` is a live map (point
            // 1) of type `t`, its own, used by no other thread (point 1);
            // 2. `k` is a key of `t`; 3. `out_elem` is null or writable for
            // one elem, outside the map (point 3).
            match unsafe { map::mapdelete_into(t, m.h.as_ptr(), k, out_elem.cast()) } {
                Ok(found) => {
                    // The map let go of the entry: the copy is the caller's.
                    core::mem::forget(handed);
                    // SAFETY: `out_found` is an out-parameter (point 4).
                    unsafe { out_found.write(found) };
                    GOMAP_OK
                }
                Err(e) => e.into(),
            }
        };
        // SAFETY: with_key_copy's point 1: `key` is a key of `t` (point 2),
        // so valid for reads of its key size.
        unsafe { with_key_copy(key, t.key().size, delete) }
    })
}

// ---------------------------------------------------------------------------
// Fast paths (map_fast32/64/str_noswiss.go)
// ---------------------------------------------------------------------------

use gomap::alg::GoString;
use gomap::maptype::KeyKind;
use gomap::{fast32, fast64, faststr};

/// Whether `t` fits the fast paths for `width`-byte memory keys (Go's
/// compiler picks them for `AMEM32`/`AMEM64` keys with inline elems).
fn fits_mem(t: &MapType, width: usize) -> bool {
    t.kind() == KeyKind::Memory && t.key().size == width && !t.indirect_key() && !t.indirect_elem()
}

/// Whether `t` fits the faststr paths (`string` keys, inline elems).
fn fits_str(t: &MapType) -> bool {
    t.kind() == KeyKind::Str && t.need_key_update() && !t.indirect_key() && !t.indirect_elem()
}

/// [`FfiType::fast`] bit: `t` fits the fast32 functions.
const FAST32: u8 = 1;
/// `t` fits the fast64 functions (and `mapassign_fast64ptr`).
const FAST64: u8 = 2;
/// `t` fits the faststr functions.
const FASTSTR: u8 = 4;

/// The [`FfiType::fast`] bits of `t`.
fn fast_bits(t: &MapType) -> u8 {
    let mut bits = 0;
    if fits_mem(t, 4) {
        bits |= FAST32;
    }
    if fits_mem(t, 8) {
        bits |= FAST64;
    }
    if fits_str(t) {
        bits |= FASTSTR;
    }
    bits
}

/// Defines the four fast functions for one key kind.
macro_rules! fast_ffi {
    (
        $key:ty, $bit:expr,
        $acc1:ident, $acc2:ident => $racc:path,
        $asg:ident => $rasg:path,
        $del:ident => $rdel:path
    ) => {
        /// Go's fast `mapaccess1` for this key kind. `GOMAP_ERR_BAD_TYPE` if
        /// the map's type does not fit the fast path (see the header).
        ///
        /// # Safety
        /// * `m` is NULL or a live handle, not being written.
        /// * For string keys, `key`'s `len` bytes at `ptr` are readable.
        /// * `out` is an out-parameter.
        #[unsafe(no_mangle)]
        pub unsafe extern "C" fn $acc1(m: *const gomap_map, key: $key, out: *mut *const c_void) -> gomap_status {
            guard(|| {
                nonnull!(out);
                let mut e = zero_val();
                // SAFETY: map_ref's points: 1. `m` is NULL or a live handle
                // (point 1); 2. the MapRef is used only during this call.
                if let Some(m) = unsafe { map_ref(m) } {
                    if m.t.fast & $bit == 0 {
                        return GOMAP_ERR_BAD_TYPE;
                    }
                    // SAFETY: the fast lookup's points, by meaning (their
                    // numbers differ between the u32/u64 and string
                    // variants): `h` is a live map (point 1) of type `t`, its
                    // own (MapRef::t); `t` fits this path (its `fast` bit,
                    // set by fast_bits, checked); a string key's bytes are
                    // readable (point 2); no write runs (point 1: not being
                    // written).
                    e = unsafe { $racc(&m.t.t, m.h.as_ptr(), key) }.0;
                    // SAFETY: [`map::recheck_read`]: 1. a live map (point 1).
                    unsafe { map::recheck_read(m.h) };
                }
                // SAFETY: `out` is an out-parameter (point 3), checked
                // non-null.
                unsafe { out.write(e.cast()) };
                GOMAP_OK
            })
        }

        /// Go's fast `mapaccess2` for this key kind.
        ///
        /// # Safety
        /// * `m` is NULL or a live handle, not being written.
        /// * For string keys, `key`'s `len` bytes at `ptr` are readable.
        /// * `out_elem` and `out_ok` are out-parameters.
        #[unsafe(no_mangle)]
        pub unsafe extern "C" fn $acc2(
            m: *const gomap_map,
            key: $key,
            out_elem: *mut *const c_void,
            out_ok: *mut bool,
        ) -> gomap_status {
            guard(|| {
                nonnull!(out_elem, out_ok);
                let (mut e, mut ok) = (zero_val(), false);
                // SAFETY: map_ref's points: 1. `m` is NULL or a live handle
                // (point 1); 2. the MapRef is used only during this call.
                if let Some(m) = unsafe { map_ref(m) } {
                    if m.t.fast & $bit == 0 {
                        return GOMAP_ERR_BAD_TYPE;
                    }
                    // SAFETY: the fast lookup's points, by meaning (their
                    // numbers differ between the u32/u64 and string
                    // variants): `h` is a live map (point 1) of type `t`, its
                    // own (MapRef::t); `t` fits this path (its `fast` bit,
                    // set by fast_bits, checked); a string key's bytes are
                    // readable (point 2); no write runs (point 1: not being
                    // written).
                    (e, ok) = unsafe { $racc(&m.t.t, m.h.as_ptr(), key) };
                    // SAFETY: [`map::recheck_read`]: 1. a live map (point 1).
                    unsafe { map::recheck_read(m.h) };
                }
                // SAFETY: `out_elem` is an out-parameter (point 3), checked
                // non-null.
                unsafe { out_elem.write(e.cast()) };
                // SAFETY: `out_ok` is an out-parameter (point 3), checked
                // non-null.
                unsafe { out_ok.write(ok) };
                GOMAP_OK
            })
        }

        /// Go's fast `mapassign` for this key kind.
        ///
        /// # Safety
        /// * `m` is NULL or a live handle used by no other thread.
        /// * For string keys, `key`'s `len` bytes at `ptr` are readable and,
        ///   once the key is in the map, stay readable and unchanged while it
        ///   is there.
        /// * `out_elem` is an out-parameter.
        #[unsafe(no_mangle)]
        pub unsafe extern "C" fn $asg(m: *mut gomap_map, key: $key, out_elem: *mut *mut c_void) -> gomap_status {
            guard(|| {
                nonnull!(out_elem);
                // SAFETY: map_ref's points: 1. `m` is NULL or a live handle
                // (point 1); 2. the MapRef is used only during this call.
                let Some(m) = (unsafe { map_ref(m) }) else { return GOMAP_ERR_NIL_MAP_ASSIGN };
                if m.t.fast & $bit == 0 {
                    return GOMAP_ERR_BAD_TYPE;
                }
                // SAFETY: the fast assign's points, by meaning: `h` is a
                // live map (point 1) of type `t`, its own (MapRef::t); `t`
                // fits this path (its `fast` bit, set by fast_bits, checked);
                // a string key's bytes are readable and stay so while in the
                // map (point 2); nothing else accesses the map (point 1:
                // used by no other thread).
                match unsafe { $rasg(&m.t.t, m.h.as_ptr(), key) } {
                    Ok(slot) => {
                        // SAFETY: `out_elem` is an out-parameter (point 3),
                        // checked non-null.
                        unsafe { out_elem.write(slot.elem.as_ptr().cast()) };
                        GOMAP_OK
                    }
                    Err(e) => e.into(),
                }
            })
        }

        /// Go's fast `mapdelete` for this key kind.
        ///
        /// # Safety
        /// * `m` is NULL or a live handle used by no other thread.
        /// * For string keys, `key`'s `len` bytes at `ptr` are readable.
        #[unsafe(no_mangle)]
        pub unsafe extern "C" fn $del(m: *mut gomap_map, key: $key) -> gomap_status {
            guard(|| {
                // SAFETY: map_ref's points: 1. `m` is NULL or a live handle
                // (point 1); 2. the MapRef is used only during this call.
                let Some(m) = (unsafe { map_ref(m) }) else { return GOMAP_OK };
                if m.t.fast & $bit == 0 {
                    return GOMAP_ERR_BAD_TYPE;
                }
                // SAFETY: the fast delete's points, by meaning: `h` is a
                // live map (point 1) of type `t`, its own (MapRef::t); `t`
                // fits this path (its `fast` bit, set by fast_bits, checked);
                // a string key's bytes are readable (point 2); nothing else
                // accesses the map (point 1: used by no other thread).
                match unsafe { $rdel(&m.t.t, m.h.as_ptr(), key) } {
                    Ok(()) => GOMAP_OK,
                    Err(e) => e.into(),
                }
            })
        }
    };
}

fast_ffi!(
    u32, FAST32,
    gomap_mapaccess1_fast32, gomap_mapaccess2_fast32 => fast32::access2_fast32,
    gomap_mapassign_fast32 => fast32::mapassign_fast32,
    gomap_mapdelete_fast32 => fast32::mapdelete_fast32
);

fast_ffi!(
    u64, FAST64,
    gomap_mapaccess1_fast64, gomap_mapaccess2_fast64 => fast64::access2_fast64,
    gomap_mapassign_fast64 => fast64::mapassign_fast64,
    gomap_mapdelete_fast64 => fast64::mapdelete_fast64
);

fast_ffi!(
    GoString, FASTSTR,
    gomap_mapaccess1_faststr, gomap_mapaccess2_faststr => faststr::access2_faststr,
    gomap_mapassign_faststr => faststr::mapassign_faststr,
    gomap_mapdelete_faststr => faststr::mapdelete_faststr
);

/// Go's `mapassign_fast64ptr`: 8-byte pointer keys (`map[*T]V`).
///
/// # Safety
/// * `m` is NULL or a live handle used by no other thread.
/// * `out_elem` is an out-parameter.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn gomap_mapassign_fast64ptr(
    m: *mut gomap_map,
    key: *mut c_void,
    out_elem: *mut *mut c_void,
) -> gomap_status {
    guard(|| {
        nonnull!(out_elem);
        // SAFETY: map_ref's points: 1. `m` is NULL or a live handle (point
        // 1); 2. the MapRef is used only during this call.
        let Some(m) = (unsafe { map_ref(m) }) else { return GOMAP_ERR_NIL_MAP_ASSIGN };
        if m.t.fast & FAST64 == 0 {
            return GOMAP_ERR_BAD_TYPE;
        }
        // SAFETY: mapassign_fast64ptr's points (mapassign_fast64's): 1. `h`
        // is a live map (point 1) of type `t`, its own (MapRef::t); 2. `t`
        // fits fast64 (its FAST64 bit, set by fast_bits, checked); 3.
        // nothing else accesses the map (point 1: used by no other thread).
        // The key is the pointer value itself, never dereferenced.
        match unsafe { fast64::mapassign_fast64ptr(&m.t.t, m.h.as_ptr(), key.cast()) } {
            Ok(slot) => {
                // SAFETY: `out_elem` is an out-parameter (point 2), checked
                // non-null.
                unsafe { out_elem.write(slot.elem.as_ptr().cast()) };
                GOMAP_OK
            }
            Err(e) => e.into(),
        }
    })
}

// ---------------------------------------------------------------------------
// Interface keys (map[any]V, map[error]V): gomap::iface

/// A dynamic type descriptor handle (opaque to C; `gomap::iface::DynType`).
/// The handle's address is the type's identity: an interface key
/// ([`gomap_iface`]) names its dynamic type with it.
pub struct gomap_dyntype {
    _opaque: [u8; 0],
}

/// An interface key: the dynamic type (NULL for a nil interface) and the
/// data word (the value itself for a direct type, else a pointer to it).
#[repr(C)]
pub struct gomap_iface {
    /// The dynamic type, or NULL.
    pub type_: *const gomap_dyntype,
    /// The value (direct types) or a pointer to it.
    pub data: *const c_void,
}

const _: () = assert!(size_of::<gomap_iface>() == 16 && size_of::<gomap::iface::Iface>() == 16);

/// A struct field of a dynamic type (`gomap_dynfield`).
#[repr(C)]
pub struct gomap_dynfield {
    /// Offset of the field in the struct.
    pub offset: usize,
    /// The field's type (not NULL).
    pub type_: *const gomap_dyntype,
    /// Whether the field is `_` (neither hashed nor compared).
    pub blank: bool,
}

/// Dynamic kind: not comparable (slices, maps, funcs, and what holds them).
pub const GOMAP_DYN_UNHASHABLE: u32 = 0;
/// Dynamic kind: regular memory of the type's size.
pub const GOMAP_DYN_MEMORY: u32 = 1;
/// Dynamic kind: float32.
pub const GOMAP_DYN_F32: u32 = 2;
/// Dynamic kind: float64.
pub const GOMAP_DYN_F64: u32 = 3;
/// Dynamic kind: complex64.
pub const GOMAP_DYN_C64: u32 = 4;
/// Dynamic kind: complex128.
pub const GOMAP_DYN_C128: u32 = 5;
/// Dynamic kind: string (a `gomap_string` header).
pub const GOMAP_DYN_STRING: u32 = 6;
/// Dynamic kind: an interface (a `gomap_iface`).
pub const GOMAP_DYN_INTERFACE: u32 = 7;
/// Dynamic kind: an array of `len` elements of `elem`.
pub const GOMAP_DYN_ARRAY: u32 = 8;
/// Dynamic kind: a struct of `nfields` fields.
pub const GOMAP_DYN_STRUCT: u32 = 9;

/// The `Arc` behind a non-null handle, with its count raised (a new owner).
///
/// # Safety
/// 1. `t` is a live handle from [`gomap_dyntype_new`].
unsafe fn dyn_arc(t: *const gomap_dyntype) -> Arc<DynType> {
    // SAFETY: 1. a live handle is `Arc::into_raw` of an `Arc<DynType>`
    // whose count this call raises before taking ownership.
    unsafe { Arc::increment_strong_count(t.cast::<DynType>()) };
    // SAFETY: the same pointer, now with one count owned by the result.
    unsafe { Arc::from_raw(t.cast::<DynType>()) }
}

/// Makes a dynamic type descriptor: `name` (NUL-terminated; Go's type
/// string, printed by the unhashable error), `size` in bytes, `direct` for
/// pointer-shaped types whose value is the interface's data word, `kind` a
/// `GOMAP_DYN_*`; `elem` and `len` for arrays, `fields`/`nfields` for
/// structs (ignored otherwise). The handle stays valid until
/// [`gomap_dyntype_free`]; the types it refers to are kept alive by it.
///
/// Errors: `GOMAP_ERR_NULL` (`name` or `out` NULL, an array without
/// `elem`, a struct with fields but `fields` NULL or a field type NULL),
/// `GOMAP_ERR_BAD_ARG` (unknown kind), `GOMAP_ERR_BAD_TYPE` (size does
/// not fit the kind, direct type not 8 bytes, fields overlapping or out of
/// order, size over `GOMAP_MAX_TYPE_SIZE`).
///
/// # Safety
/// 1. `name` is NULL or a NUL-terminated string;
/// 2. `elem` is NULL or a live handle;
/// 3. `fields` is NULL or valid for reads of `nfields` fields whose types
///    are NULL or live handles;
/// 4. `out` is an out-parameter.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn gomap_dyntype_new(
    name: *const c_char,
    size: usize,
    direct: bool,
    kind: u32,
    elem: *const gomap_dyntype,
    len: usize,
    fields: *const gomap_dynfield,
    nfields: usize,
    out: *mut *mut gomap_dyntype,
) -> gomap_status {
    guard(|| {
        nonnull!(name, out);
        if size > GOMAP_MAX_TYPE_SIZE {
            return GOMAP_ERR_BAD_TYPE;
        }
        // SAFETY: 1. a NUL-terminated string (point 1), checked non-null.
        let name = unsafe { CStr::from_ptr(name) }.to_string_lossy();
        let kind = match kind {
            GOMAP_DYN_UNHASHABLE => DynKind::Unhashable,
            GOMAP_DYN_MEMORY => DynKind::Memory,
            GOMAP_DYN_F32 => DynKind::F32,
            GOMAP_DYN_F64 => DynKind::F64,
            GOMAP_DYN_C64 => DynKind::C64,
            GOMAP_DYN_C128 => DynKind::C128,
            GOMAP_DYN_STRING => DynKind::Str,
            GOMAP_DYN_INTERFACE => DynKind::Interface,
            GOMAP_DYN_ARRAY => {
                nonnull!(elem);
                // SAFETY: 1. a live handle (point 2), checked non-null.
                DynKind::Array { elem: unsafe { dyn_arc(elem) }, len }
            }
            GOMAP_DYN_STRUCT => {
                if nfields > 0 {
                    nonnull!(fields);
                }
                let mut fs = Vec::with_capacity(nfields.min(1024));
                for i in 0..nfields {
                    // SAFETY: `i < nfields`: field `i` is inside the array
                    // valid for reads of `nfields` fields (point 3).
                    let fp = unsafe { fields.add(i) };
                    // SAFETY: a readable, aligned field (point 3).
                    let f = unsafe { &*fp };
                    nonnull!(f.type_);
                    // SAFETY: 1. a live handle (point 3), checked non-null.
                    fs.push(DynField { offset: f.offset, typ: unsafe { dyn_arc(f.type_) }, blank: f.blank });
                }
                DynKind::Struct { fields: fs }
            }
            _ => return GOMAP_ERR_BAD_ARG,
        };
        match DynType::new(&name, size, direct, kind) {
            Ok(t) => {
                // SAFETY: `out` is an out-parameter (point 4), checked non-null.
                unsafe { out.write(Arc::into_raw(Arc::new(t)).cast_mut().cast()) };
                GOMAP_OK
            }
            Err(_) => GOMAP_ERR_BAD_TYPE,
        }
    })
}

/// Releases a dynamic type handle; `NULL` is a no-op. Types that refer to
/// it (arrays, structs) keep it alive; keys of live maps must not use it
/// after this.
///
/// # Safety
/// 1. `t` is NULL or a live handle from [`gomap_dyntype_new`], released
///    once.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn gomap_dyntype_free(t: *mut gomap_dyntype) {
    if t.is_null() {
        return;
    }
    // SAFETY: 1. `Arc::into_raw` of an `Arc<DynType>`, released once: this
    // takes back the handle's count.
    drop(unsafe { Arc::from_raw(t.cast_const().cast::<DynType>()) });
}

/// Makes a descriptor for interface keys (`map[any]V`, `map[error]V`):
/// keys are `gomap_iface`, hashed and compared as Go does (nil interfaces,
/// type identity first, NaN inside never equal). An operation on a key
/// holding an unhashable dynamic type fails with `GOMAP_ERR_UNHASHABLE`
/// and leaves the map unchanged ([`gomap_iface_key_error`] names it).
///
/// # Safety
/// 1. `out` is an out-parameter.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn gomap_type_iface(
    elem_size: usize,
    elem_align: usize,
    elem_has_pointers: bool,
    out: *mut *mut gomap_type,
) -> gomap_status {
    guard(|| {
        nonnull!(out);
        let elem = match elem_info(elem_size, elem_align, elem_has_pointers) {
            Ok(e) => e,
            Err(s) => return s,
        };
        // SAFETY: finish_type's point 1: `out` is an out-parameter (point 1),
        // checked non-null.
        unsafe { finish_type(MapType::iface_key(elem), out) }
    })
}

/// Go's panic message for an interface key that cannot be hashed:
/// returns `GOMAP_OK` (and `*out_len = 0`) when `key` is hashable, else
/// `GOMAP_ERR_UNHASHABLE` with "runtime error: hash of unhashable type T"
/// written to `buf` (truncated to `cap - 1` bytes, NUL-terminated when
/// `cap > 0`) and its full length in `*out_len`.
///
/// # Safety
/// 1. `key` is a `gomap_iface` whose type is NULL or a live handle and
///    whose data holds a value of it;
/// 2. `buf` is NULL (with `cap == 0`) or valid for writes of `cap` bytes;
/// 3. `out_len` is an out-parameter.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn gomap_iface_key_error(
    key: *const gomap_iface,
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
) -> gomap_status {
    guard(|| {
        nonnull!(key, out_len);
        if buf.is_null() && cap != 0 {
            return GOMAP_ERR_NULL;
        }
        // SAFETY: `key` is readable and aligned (point 1); `gomap_iface`
        // and `Iface` have one layout (two pointers, asserted above).
        let k = unsafe { &*key.cast::<gomap::iface::Iface>() };
        // SAFETY: 1. a key of live type and value (point 1).
        let Some(e) = (unsafe { gomap::iface::key_error(k) }) else {
            // SAFETY: `out_len` is an out-parameter (point 3), non-null.
            unsafe { out_len.write(0) };
            return GOMAP_OK;
        };
        let msg = e.to_string();
        if cap > 0 {
            let n = msg.len().min(cap - 1);
            // SAFETY: `buf` is valid for writes of `cap > n` bytes (point
            // 2); `msg` is a distinct allocation.
            unsafe { ptr::copy_nonoverlapping(msg.as_ptr(), buf.cast::<u8>(), n) };
            // SAFETY: byte `n < cap` of the same buffer (point 2).
            let end = unsafe { buf.add(n) };
            // SAFETY: writable (point 2).
            unsafe { end.write(0) };
        }
        // SAFETY: `out_len` is an out-parameter (point 3), non-null.
        unsafe { out_len.write(msg.len()) };
        GOMAP_ERR_UNHASHABLE
    })
}
