//! Interface keys: Go's `map[any]V` and `map[error]V` (`nilinterhash`,
//! `interhash`, `typehash`, `efaceeq`, `ifaceeq`, `mapKeyError` of Go
//! 1.24.11's `runtime/alg.go`).
//!
//! An interface value is two words, [`Iface`]: a pointer to the
//! descriptor of its dynamic type (null for a nil interface) and a data
//! word. For a pointer-shaped ("direct") dynamic type the data word *is*
//! the value; for any other type it points to the value (Go's
//! `isDirectIface`). Go's empty (`eface`, first word `*_type`) and
//! non-empty (`iface`, first word `*itab`) interfaces hash and compare
//! the same way once the dynamic type is known, so gomap uses one
//! representation for both.
//!
//! gomap has no type system: the host describes each dynamic type once
//! with a [`DynType`], saying how Go's `typehash` (alg.go:201) treats it:
//! regular memory, a float or complex, a string, a nested interface, an
//! array of another type, a struct of fields (blank fields skipped), or
//! unhashable (slices, maps, funcs, and anything holding one) with the Go
//! type name the panic message prints. Two interface values hold the same
//! dynamic type exactly when their type words are the same pointer (Go's
//! types are unique too), so a host makes one descriptor per type and
//! keeps it alive while keys use it.
//!
//! ```text
//! Iface (two words)                 DynType
//! +------------------+------+      +------------------------------+
//! | typ: *DynType ---+----- | ---> | name, size, direct, kind     |
//! | data             |      |      +------------------------------+
//! +------------------+------+
//!   direct type:   data is the value (one word)
//!   otherwise:     data points to `size` bytes of the value
//! ```
//!
//! Hashing follows `nilinterhash` (alg.go:163): a nil interface hashes to
//! the seed itself; otherwise `c1 * typehash(t, value, seed ^ c0)`.
//! Equality follows `nilinterequal`/`efaceeq` (alg.go:363, :368): the
//! dynamic types first, then the values (so `int(1)` and a named
//! `MyInt(1)` hash alike but never match, and a NaN never equals itself).
//! A key whose dynamic type (or the type of an interface nested in it) is
//! unhashable is refused before anything is hashed (Go's `mapKeyError`,
//! alg.go:252): the map operation fails with
//! [`MapError::UnhashableKey`] and the map is unchanged; [`key_error`]
//! names the type as Go's panic does.

use core::fmt;
use core::ptr;
use std::sync::Arc;

use crate::alg;
use crate::fatal::MapError;
use crate::maptype::{MapType, MapTypeBuilder, PTR_SIZE, TypeError, TypeInfo};

/// An interface value as stored in a map: Go's `eface`/`iface`
/// (runtime/runtime2.go), with the dynamic type's descriptor in place of
/// `*_type`/`*itab`.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Iface {
    /// The dynamic type, or null for a nil interface.
    pub typ: *const DynType,
    /// The value itself for a direct type, else a pointer to the value.
    pub data: *const u8,
}

// Go's `eface`/`iface`: two words (16 bytes on 64-bit, 8 on 32-bit).
const _: () = assert!(size_of::<Iface>() == 2 * size_of::<usize>() && align_of::<Iface>() == align_of::<usize>());

impl Iface {
    /// The nil interface.
    pub const NIL: Iface = Iface { typ: ptr::null(), data: ptr::null() };
}

/// How Go's `typehash` and the type's equality treat a dynamic type (the
/// cases of alg.go:201-250).
#[derive(Clone, Debug)]
pub enum DynKind {
    /// Not comparable (`t.Equal == nil`): a slice, map or func, or a struct
    /// or array holding one. Hashing it is Go's "hash of unhashable type".
    Unhashable,
    /// Regular memory of the type's size (`TFlagRegularMemory`): integers,
    /// bools, pointers, channels, arrays and structs of those without
    /// padding or blank fields.
    Memory,
    /// `float32` (`f32hash`).
    F32,
    /// `float64` (`f64hash`).
    F64,
    /// `complex64` (`c64hash`).
    C64,
    /// `complex128` (`c128hash`).
    C128,
    /// `string`: an [`alg::GoString`] header (`strhash`).
    Str,
    /// An interface type (empty or not): an [`Iface`] (`nilinterhash`,
    /// `interhash`).
    Interface,
    /// `[len]elem`: each element hashed in turn.
    Array {
        /// The element type.
        elem: Arc<DynType>,
        /// The number of elements.
        len: usize,
    },
    /// A struct: each non-blank field hashed in turn, in declaration order.
    Struct {
        /// The fields in declaration (offset) order.
        fields: Vec<DynField>,
    },
}

/// A field of a [`DynKind::Struct`] (Go's `abi.StructField`).
#[derive(Clone, Debug)]
pub struct DynField {
    /// Offset of the field in the struct.
    pub offset: usize,
    /// The field's type.
    pub typ: Arc<DynType>,
    /// Whether the field is named `_`: neither hashed nor compared.
    pub blank: bool,
}

/// The descriptor of a dynamic type (Go's `abi.Type`, reduced to what
/// hashing and equality of interface values read).
///
/// Invariants, checked by [`DynType::new`]: the size matches the kind
/// (4 for `F32`, two words for `Str`...; an array is `len` elements; fields lie
/// inside the struct in ascending order); a direct type is 8 bytes; a
/// struct or array holding an unhashable type is itself unhashable (so the
/// panic names the outermost type, as Go's does).
#[derive(Clone, Debug)]
pub struct DynType {
    name: Box<str>,
    size: usize,
    direct: bool,
    kind: DynKind,
}

/// Why a [`DynType`] was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DynTypeError {
    /// The size does not fit the kind (`F64` not 8 bytes, an array whose
    /// size is not `len` elements, an overflowing size...).
    BadSize,
    /// A direct (pointer-shaped) type is not one word.
    DirectNotPointerSized,
    /// A struct field lies outside the struct or before the previous one.
    BadField,
}

impl fmt::Display for DynTypeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DynTypeError::BadSize => "dynamic type size does not fit its kind",
            DynTypeError::DirectNotPointerSized => "direct (pointer-shaped) dynamic type is not 8 bytes",
            DynTypeError::BadField => "struct field outside the struct or out of order",
        })
    }
}

impl std::error::Error for DynTypeError {}

impl DynType {
    /// Describes a dynamic type named `name` (Go's type string, e.g.
    /// `main.Point` or `[]int`: what "hash of unhashable type" prints) of
    /// `size` bytes; `direct` when its values are stored in the data word
    /// itself (pointer-shaped types).
    ///
    /// A struct or array with an unhashable field or element becomes
    /// [`DynKind::Unhashable`] (its own name is then the one reported).
    ///
    /// ```
    /// use gomap::iface::{DynKind, DynType};
    /// let int = DynType::new("int", 8, false, DynKind::Memory).unwrap();
    /// assert_eq!(int.name(), "int");
    /// assert!(DynType::new("float64", 4, false, DynKind::F64).is_err());
    /// ```
    pub fn new(name: &str, size: usize, direct: bool, kind: DynKind) -> Result<DynType, DynTypeError> {
        let want = match &kind {
            DynKind::Unhashable | DynKind::Memory => Some(size),
            DynKind::F32 => Some(4),
            DynKind::F64 | DynKind::C64 => Some(8),
            DynKind::C128 => Some(16),
            // Two words: 16 bytes on 64-bit, 8 on 32-bit.
            DynKind::Str | DynKind::Interface => Some(2 * PTR_SIZE),
            DynKind::Array { elem, len } => elem.size.checked_mul(*len),
            DynKind::Struct { fields } => {
                let mut end = 0usize;
                for f in fields {
                    let fend = f.offset.checked_add(f.typ.size).ok_or(DynTypeError::BadField)?;
                    if f.offset < end || fend > size {
                        return Err(DynTypeError::BadField);
                    }
                    end = fend;
                }
                Some(size)
            }
        };
        if want != Some(size) || size > isize::MAX as usize {
            return Err(DynTypeError::BadSize);
        }
        if direct && size != PTR_SIZE {
            return Err(DynTypeError::DirectNotPointerSized);
        }
        let kind = match kind {
            DynKind::Array { elem, .. } if !elem.hashable() => DynKind::Unhashable,
            DynKind::Struct { fields } if fields.iter().any(|f| !f.typ.hashable()) => DynKind::Unhashable,
            k => k,
        };
        Ok(DynType { name: name.into(), size, direct, kind })
    }
    /// The Go type name given to [`DynType::new`].
    pub fn name(&self) -> &str {
        &self.name
    }
    /// The size of a value in bytes.
    pub fn size(&self) -> usize {
        self.size
    }
    /// Whether values live in the data word (Go's `isDirectIface`).
    pub fn direct(&self) -> bool {
        self.direct
    }
    /// How the type hashes.
    pub fn kind(&self) -> &DynKind {
        &self.kind
    }
    /// Whether the type is comparable (Go: `t.Equal != nil`).
    pub fn hashable(&self) -> bool {
        !matches!(self.kind, DynKind::Unhashable)
    }
}

/// The error of hashing an interface holding an unhashable dynamic type:
/// Go's `panic: runtime error: hash of unhashable type T`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnhashableType {
    /// The Go type name of the offending dynamic type.
    pub name: String,
}

impl fmt::Display for UnhashableType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "runtime error: hash of unhashable type {}", self.name)
    }
}

impl std::error::Error for UnhashableType {}

impl From<UnhashableType> for MapError {
    fn from(_: UnhashableType) -> MapError {
        MapError::UnhashableKey
    }
}

/// The value of the interface at `p`: its type (None for nil) and the
/// address of its value.
///
/// # Safety
/// 1. `p` is valid for reads of an [`Iface`] (two words, no alignment
///    needed) whose `typ` is null or points to a live [`DynType`] for `'a`.
#[inline]
unsafe fn open<'a>(p: *const u8) -> Option<(&'a DynType, *const u8)> {
    // SAFETY: 1. `p` is valid for reads of an Iface; unaligned load.
    let i = unsafe { ptr::read_unaligned(p.cast::<Iface>()) };
    // SAFETY: 1. `typ` is null or points to a live DynType for `'a`.
    let t = unsafe { i.typ.as_ref() }?;
    // Direct types keep their value in the data word itself: its address
    // inside the interface (Go passes `&a.data`).
    let data = if t.direct { p.wrapping_byte_add(PTR_SIZE) } else { i.data };
    Some((t, data))
}

/// The vocabulary of this module's unsafe functions: "a value of `t` at
/// `p`" means `p` is valid for reads of `t.size` bytes laid out as `t`
/// says: every string header's bytes readable, every nested interface
/// holding null or a live [`DynType`] and (unless direct) a pointer valid
/// for reads of a value of that type, recursively.
///
/// Go's `typehash` (alg.go:201): hashes the value of `t` at `p` with seed
/// `h`. A float NaN draws one `crate::rand::rand()`, as in Go.
///
/// # Safety
/// 1. `p` holds a value of `t`;
/// 2. `t` holds no unhashable type (checked by [`key_error`] first).
pub unsafe fn typehash(t: &DynType, p: *const u8, h: usize) -> usize {
    // SAFETY (every arm): 1. `p` holds a value of `t`, so it is valid for
    // reads of `t.size` bytes of the layout the kind names.
    match &t.kind {
        DynKind::Memory => match t.size {
            // SAFETY: 4 readable bytes (point 1).
            4 => unsafe { alg::memhash32(p, h) },
            // SAFETY: 8 readable bytes (point 1).
            8 => unsafe { alg::memhash64(p, h) },
            // SAFETY: `t.size` readable bytes (point 1).
            n => unsafe { alg::memhash(p, h, n) },
        },
        // SAFETY: an f32 (point 1).
        DynKind::F32 => unsafe { alg::f32hash(p, h) },
        // SAFETY: an f64 (point 1).
        DynKind::F64 => unsafe { alg::f64hash(p, h) },
        // SAFETY: a complex64 (point 1).
        DynKind::C64 => unsafe { alg::c64hash(p, h) },
        // SAFETY: a complex128 (point 1).
        DynKind::C128 => unsafe { alg::c128hash(p, h) },
        // SAFETY: a readable header whose bytes are readable (point 1).
        DynKind::Str => unsafe { alg::strhash(p, h) },
        // SAFETY: 1. a nested interface (point 1); 2. hashable (point 2).
        DynKind::Interface => unsafe { nilinterhash_seed(p, h) },
        DynKind::Array { elem, len } => {
            let mut h = h;
            for i in 0..*len {
                // SAFETY: 1. element `i` lies inside the array's value
                // (`size == len * elem.size`, checked by `DynType::new`);
                // 2. the element type is hashable (point 2).
                h = unsafe { typehash(elem, p.wrapping_byte_add(i * elem.size), h) };
            }
            h
        }
        DynKind::Struct { fields } => {
            let mut h = h;
            for f in fields.iter().filter(|f| !f.blank) {
                // SAFETY: 1. the field lies inside the struct's value
                // (checked by `DynType::new`); 2. hashable (point 2).
                h = unsafe { typehash(&f.typ, p.wrapping_byte_add(f.offset), h) };
            }
            h
        }
        DynKind::Unhashable => crate::fatal::throw("hash of unhashable type"),
    }
}

/// Go's `nilinterhash`/`interhash` (alg.go:163, :132) with Go's argument
/// order: the nil interface hashes to `h`, any other to `c1 *
/// typehash(t, value, h ^ c0)`.
///
/// # Safety
/// 1. `p` is valid for reads of an [`Iface`] holding null or a live
///    [`DynType`] and a value of it;
/// 2. the dynamic type (and any type nested in the value) is hashable.
#[doc(alias = "nilinterhash")]
#[doc(alias = "interhash")]
pub unsafe fn nilinterhash_seed(p: *const u8, h: usize) -> usize {
    // SAFETY: 1. an Iface whose type is null or live (point 1).
    let Some((t, data)) = (unsafe { open(p) }) else { return h };
    // SAFETY: 1. `data` holds a value of `t` (point 1); 2. hashable
    // (point 2).
    alg::C1.wrapping_mul(unsafe { typehash(t, data, h ^ alg::C0) })
}

/// [`nilinterhash_seed`] as a descriptor's hasher.
///
/// # Safety
/// As [`nilinterhash_seed`]; `ctx` is unused.
unsafe fn hash_fn(p: *const u8, seed: usize, _ctx: *const ()) -> usize {
    // SAFETY: the map hashes only keys that passed `key_check` (points 1
    // and 2 of `nilinterhash_seed`, `mapKeyError` first).
    unsafe { nilinterhash_seed(p, seed) }
}

/// Go's `efaceeq`/`t.Equal` for values of one type `t` at `x` and `y`
/// (alg.go:368 and the per-kind equalities): floats with `==`, strings by
/// content, arrays and structs element by element (blank fields skipped),
/// direct types by their data word.
///
/// # Safety
/// 1. `x` and `y` each hold a value of `t`.
unsafe fn valequal(t: &DynType, x: *const u8, y: *const u8) -> bool {
    // SAFETY (every arm): 1. both hold a value of `t`.
    match &t.kind {
        // SAFETY: `t.size` readable bytes each (point 1).
        DynKind::Memory => unsafe { alg::memequal(x, y, t.size) },
        // SAFETY: an f32 each (point 1).
        DynKind::F32 => unsafe { alg::f32equal(x, y) },
        // SAFETY: an f64 each (point 1).
        DynKind::F64 => unsafe { alg::f64equal(x, y) },
        // SAFETY: a complex64 each (point 1).
        DynKind::C64 => unsafe { alg::c64equal(x, y) },
        // SAFETY: a complex128 each (point 1).
        DynKind::C128 => unsafe { alg::c128equal(x, y) },
        // SAFETY: a readable string header each (point 1).
        DynKind::Str => unsafe { alg::strequal(x, y) },
        // SAFETY: 1. an interface each (point 1).
        DynKind::Interface => unsafe { nilinterequal_raw(x, y) },
        DynKind::Array { elem, len } => (0..*len).all(|i| {
            let off = i * elem.size;
            // SAFETY: 1. element `i` of each array (inside, as in typehash).
            unsafe { valequal(elem, x.wrapping_byte_add(off), y.wrapping_byte_add(off)) }
        }),
        DynKind::Struct { fields } => fields.iter().filter(|f| !f.blank).all(|f| {
            // SAFETY: 1. the field of each struct (inside, as in typehash).
            unsafe { valequal(&f.typ, x.wrapping_byte_add(f.offset), y.wrapping_byte_add(f.offset)) }
        }),
        // Go panics "comparing uncomparable type"; a map never compares
        // such keys (they fail `key_check` before any comparison).
        DynKind::Unhashable => false,
    }
}

/// Go's `nilinterequal`/`interequal` (alg.go:363, :358): same dynamic
/// type, then equal values; two nil interfaces are equal.
///
/// # Safety
/// 1. `p` and `q` are each valid for reads of an [`Iface`] holding null
///    or a live [`DynType`] and a value of it.
#[doc(alias = "nilinterequal")]
#[doc(alias = "interequal")]
#[doc(alias = "efaceeq")]
#[doc(alias = "ifaceeq")]
pub unsafe fn nilinterequal_raw(p: *const u8, q: *const u8) -> bool {
    // SAFETY: 1. an Iface (point 1); unaligned load.
    let a = unsafe { ptr::read_unaligned(p.cast::<Iface>()) };
    // SAFETY: 1. an Iface (point 1); unaligned load.
    let b = unsafe { ptr::read_unaligned(q.cast::<Iface>()) };
    if a.typ != b.typ {
        return false;
    }
    // SAFETY: 1. `typ` is null or live (point 1).
    let Some(t) = (unsafe { a.typ.as_ref() }) else { return true };
    if t.direct {
        // `efaceeq`: the data words are the values.
        return a.data == b.data;
    }
    // SAFETY: 1. both data pointers hold a value of `t` (point 1).
    unsafe { valequal(t, a.data, b.data) }
}

/// [`nilinterequal_raw`] as a descriptor's equality.
///
/// # Safety
/// As [`nilinterequal_raw`]; `ctx` is unused.
unsafe fn equal_fn(p: *const u8, q: *const u8, _ctx: *const ()) -> bool {
    // SAFETY: 1. keys of an interface map (the descriptor's contract).
    unsafe { nilinterequal_raw(p, q) }
}

/// Go's `mapKeyError2` (alg.go:259) for a value of `t` at `p`: the first
/// unhashable dynamic type in it, walking as [`typehash`] would.
///
/// # Safety
/// 1. `p` holds a value of `t`.
unsafe fn type_key_error(t: &DynType, p: *const u8) -> Option<&DynType> {
    match &t.kind {
        DynKind::Unhashable => Some(t),
        // SAFETY: 1. a nested interface (point 1).
        DynKind::Interface => unsafe { iface_key_error(p) },
        DynKind::Array { elem, len } => (0..*len).find_map(|i| {
            // SAFETY: 1. element `i`, inside the array (as in typehash).
            unsafe { type_key_error(elem, p.wrapping_byte_add(i * elem.size)) }
        }),
        DynKind::Struct { fields } => fields.iter().filter(|f| !f.blank).find_map(|f| {
            // SAFETY: 1. the field, inside the struct (as in typehash).
            unsafe { type_key_error(&f.typ, p.wrapping_byte_add(f.offset)) }
        }),
        _ => None,
    }
}

/// Go's `mapKeyError` for an interface at `p`: the unhashable dynamic type
/// it (or an interface nested in its value) holds, if any.
///
/// # Safety
/// 1. `p` is valid for reads of an [`Iface`] holding null or a live
///    [`DynType`] and a value of it.
unsafe fn iface_key_error<'a>(p: *const u8) -> Option<&'a DynType> {
    // SAFETY: 1. an Iface whose type is null or live (point 1).
    let (t, data) = unsafe { open(p) }?;
    if !t.hashable() {
        return Some(t);
    }
    // SAFETY: 1. `data` holds a value of `t` (point 1).
    unsafe { type_key_error(t, data) }
}

/// Why the interface `key` cannot be a map key: Go's "hash of unhashable
/// type T" naming the dynamic type, or `None` when it can be hashed.
///
/// # Safety
/// 1. `key.typ` is null or points to a live [`DynType`], and `key.data`
///    holds a value of it (see [`typehash`]'s vocabulary).
///
/// ```
/// use gomap::iface::{DynKind, DynType, Iface, key_error};
/// let slice = DynType::new("[]int", 24, false, DynKind::Unhashable).unwrap();
/// let v = [0u8; 24];
/// let k = Iface { typ: &slice, data: v.as_ptr() };
/// // SAFETY: a live type and 24 readable bytes.
/// let e = unsafe { key_error(&k) }.unwrap();
/// assert_eq!(e.to_string(), "runtime error: hash of unhashable type []int");
/// ```
pub unsafe fn key_error(key: &Iface) -> Option<UnhashableType> {
    // SAFETY: 1. an Iface of live type and value (point 1).
    unsafe { iface_key_error((key as *const Iface).cast()) }.map(|t| UnhashableType { name: t.name().into() })
}

/// The descriptor's key check ([`crate::maptype::KeyCheckFn`]).
///
/// # Safety
/// 1. `p` is a key of an interface map.
unsafe fn key_check_fn(p: *const u8, _ctx: *const ()) -> bool {
    // SAFETY: 1. a key of an interface map: an Iface of live type and value.
    unsafe { iface_key_error(p) }.is_none()
}

/// Go's `hash(key, seed)` for an interface key, failing as Go's
/// `nilinterhash` panics. Runs the check first, so a NaN is hashed (and
/// draws its random number) only if the whole key is hashable.
///
/// # Safety
/// 1. `key.typ` is null or points to a live [`DynType`], and `key.data`
///    holds a value of it.
pub unsafe fn nilinterhash(key: &Iface, seed: usize) -> Result<usize, UnhashableType> {
    // SAFETY: 1. as our point 1.
    if let Some(e) = unsafe { key_error(key) } {
        return Err(e);
    }
    // SAFETY: 1. as our point 1; 2. checked just above.
    Ok(unsafe { nilinterhash_seed((key as *const Iface).cast(), seed) })
}

/// Whether two interfaces are equal as map keys (Go's `nilinterequal`).
///
/// # Safety
/// 1. Each `typ` is null or points to a live [`DynType`], and each `data`
///    holds a value of it.
pub unsafe fn nilinterequal(a: &Iface, b: &Iface) -> bool {
    // SAFETY: 1. as our point 1.
    unsafe { nilinterequal_raw((a as *const Iface).cast(), (b as *const Iface).cast()) }
}

impl MapType {
    /// The descriptor of `map[any]V` (and of any interface-keyed map, such
    /// as `map[error]V`) for elems `elem`: keys are [`Iface`]s, hashed by
    /// `nilinterhash` and compared by `nilinterequal`. Go's flags for an
    /// interface key (reflectdata): not reflexive (a NaN inside), key
    /// update (`+0` replaced by `-0`), hash might panic (checked with
    /// [`key_error`]'s walk before any hash).
    ///
    /// Every key handed to the map must hold null or a [`DynType`] that
    /// outlives the map (and its value, if not direct, must too).
    ///
    /// ```
    /// use gomap::iface::{DynKind, DynType, Iface};
    /// use gomap::map;
    /// use gomap::maptype::{MapType, TypeInfo};
    ///
    /// let t = MapType::iface_key(TypeInfo::of::<u64>()).unwrap();
    /// assert!(t.hash_might_panic() && t.need_key_update() && !t.reflexive_key());
    /// let int = DynType::new("int", 8, false, DynKind::Memory).unwrap();
    /// let seven = 7i64;
    /// let k = Iface { typ: &int, data: (&raw const seven).cast() };
    /// let h = map::makemap_small().unwrap();
    /// // SAFETY: a live map of `t`; `k` holds a live type and value.
    /// unsafe {
    ///     let s = map::mapassign(&t, h.as_ptr(), (&raw const k).cast()).unwrap();
    ///     s.elem.as_ptr().cast::<u64>().write(1);
    ///     let (_, ok) = map::mapaccess2(&t, h.as_ptr(), (&raw const k).cast()).unwrap();
    ///     assert!(ok);
    ///     map::mapfree(&t, h.as_ptr()).unwrap();
    /// }
    /// ```
    pub fn iface_key(elem: TypeInfo) -> Result<MapType, TypeError> {
        MapTypeBuilder::new(TypeInfo::of_pointerful::<Iface>(), elem, hash_fn, equal_fn)
            .reflexive(false)
            .need_key_update(true)
            .key_check(key_check_fn)
            .trusted_callbacks()
            .build()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// [`nilinterhash`] of a key the test keeps alive.
    fn hash(k: &Iface, seed: usize) -> Result<usize, UnhashableType> {
        // SAFETY: 1. every test key holds null or a live type and value.
        unsafe { nilinterhash(k, seed) }
    }

    /// [`nilinterequal`] of keys the test keeps alive.
    fn eq(a: &Iface, b: &Iface) -> bool {
        // SAFETY: 1. as in `hash`.
        unsafe { nilinterequal(a, b) }
    }

    fn ty(name: &str, size: usize, kind: DynKind) -> Arc<DynType> {
        Arc::new(DynType::new(name, size, false, kind).unwrap())
    }

    #[test]
    fn descriptor_checks() {
        let i32t = ty("int32", 4, DynKind::Memory);
        let slice = ty("[]int", 24, DynKind::Unhashable);
        assert_eq!(DynType::new("x", 3, false, DynKind::F32).unwrap_err(), DynTypeError::BadSize);
        assert_eq!(DynType::new("p", 2, true, DynKind::Memory).unwrap_err(), DynTypeError::DirectNotPointerSized);
        let arr = DynKind::Array { elem: i32t.clone(), len: 3 };
        assert_eq!(DynType::new("[3]int32", 11, false, arr.clone()).unwrap_err(), DynTypeError::BadSize);
        assert!(DynType::new("[3]int32", 12, false, arr).unwrap().hashable());
        let huge = DynKind::Array { elem: i32t.clone(), len: usize::MAX / 2 };
        assert_eq!(DynType::new("big", 0, false, huge).unwrap_err(), DynTypeError::BadSize);
        let f = |offset, typ: &Arc<DynType>| DynField { offset, typ: typ.clone(), blank: false };
        let overlap = DynKind::Struct { fields: vec![f(0, &i32t), f(2, &i32t)] };
        assert_eq!(DynType::new("S", 8, false, overlap).unwrap_err(), DynTypeError::BadField);
        let outside = DynKind::Struct { fields: vec![f(0, &i32t), f(6, &i32t)] };
        assert_eq!(DynType::new("S", 8, false, outside).unwrap_err(), DynTypeError::BadField);
        // A struct holding a slice is unhashable under its own name.
        let s = DynType::new("main.S", 32, false, DynKind::Struct { fields: vec![f(0, &i32t), f(8, &slice)] });
        assert!(!s.unwrap().hashable());
    }

    #[test]
    fn nil_hashes_to_seed_and_equals_nil() {
        let nil = Iface::NIL;
        assert_eq!(hash(&nil, 12345), Ok(12345));
        assert!(eq(&nil, &nil));
    }

    #[test]
    fn type_identity_before_value() {
        let int = ty("int", 8, DynKind::Memory);
        let myint = ty("main.MyInt", 8, DynKind::Memory);
        let v = 5i64;
        let a = Iface { typ: &*int, data: (&raw const v).cast() };
        let b = Iface { typ: &*myint, data: (&raw const v).cast() };
        assert_eq!(hash(&a, 9), hash(&b, 9));
        assert!(!eq(&a, &b));
        assert!(eq(&a, &a));
        assert!(!eq(&a, &Iface::NIL));
    }

    #[test]
    fn nan_inside_is_never_equal_and_zeros_are() {
        let f64t = ty("float64", 8, DynKind::F64);
        let (nan, pz, nz) = (f64::NAN, 0.0f64, -0.0f64);
        let k = |v: &f64| Iface { typ: &*f64t, data: (v as *const f64).cast() };
        assert!(!eq(&k(&nan), &k(&nan)));
        assert!(eq(&k(&pz), &k(&nz)));
        assert_eq!(hash(&k(&pz), 3), hash(&k(&nz), 3));
    }

    #[test]
    fn unhashable_names_outermost_type() {
        // Go's layouts in words: []int is 3, interface {} 2, W 3.
        const P: usize = PTR_SIZE;
        let slice = ty("[]int", 3 * P, DynKind::Unhashable);
        let anyt = ty("interface {}", 2 * P, DynKind::Interface);
        let i8t = ty("uint8", 1, DynKind::Memory);
        let f = |offset, typ: &Arc<DynType>| DynField { offset, typ: typ.clone(), blank: false };
        let w = ty("main.W", 3 * P, DynKind::Struct { fields: vec![f(0, &i8t), f(P, &anyt)] });
        let sv = [0u8; 24];
        let inner = Iface { typ: &*slice, data: sv.as_ptr() };
        #[repr(C)]
        struct W {
            a: u8,
            i: Iface,
        }
        let wv = W { a: 1, i: inner };
        assert_eq!((wv.a, core::mem::offset_of!(W, i), size_of::<W>()), (1, P, 3 * P));
        let k = Iface { typ: &*w, data: (&raw const wv).cast() };
        let e = hash(&k, 1).unwrap_err();
        assert_eq!(e.to_string(), "runtime error: hash of unhashable type []int");
        // A blank field is not looked at.
        let wb = ty(
            "main.WB",
            3 * P,
            DynKind::Struct { fields: vec![f(0, &i8t), DynField { offset: P, typ: anyt.clone(), blank: true }] },
        );
        let kb = Iface { typ: &*wb, data: (&raw const wv).cast() };
        assert!(hash(&kb, 1).is_ok());
    }
}
