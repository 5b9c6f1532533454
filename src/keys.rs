//! Keys made of other keys: tuples, arrays `[K; N]`, `()` and
//! `#[derive(GoKey)]` structs (the `derive` feature), hashed exactly as
//! Go's compiler-generated hashers hash a struct or array with the same
//! field types.
//!
//! A key type that can be part of a larger key implements [`KeyFields`]:
//! it lists its fields, flattened, as [`Field`]s at a base offset
//! (integers, `bool` and `char` are plain memory, `f32`/`f64` Go's float
//! hashes, [`GoStr`]/[`GoStrRef`] Go strings). A composite
//! key's descriptor is then [`MapType::composite_key`] of its fields, which
//! applies Go's rules (`hashFunc`, reflectdata/alg.go): memory runs end at
//! padding and before other fields, floats and strings use their own hash,
//! a nested struct (or array element) that is not plain memory is hashed by
//! itself (bracketed with zero-size blank fields here), a regular-memory
//! struct is plain memory, a one-field struct is its field. Padding is
//! never read or compared, so padded keys are fine (unlike
//! [`KeySpec::memory`], which must not describe them).
//!
//! Fields are taken in offset order. Go walks a struct in declaration
//! order, which in Go is offset order; a Rust struct therefore matches a Go
//! struct field for field when it is `#[repr(C)]` with the same field
//! types (`u32` for `uint32`, [`GoStr`] for `string`, `[T; N]` for `[N]T`,
//! ...). Tuples and `repr(Rust)` structs hash consistently too, in the
//! layout the compiler chose.
//!
//! Keys that are plain memory throughout (every field plain memory, no
//! padding) get a constant [`GoKey::SPEC`], so their maps use a static
//! descriptor and the fast paths when 4 or 8 bytes (as Go's `mapfast`
//! would); other composite keys build their descriptor in `map_type`, once
//! per map: the composite hasher's program is a `Vec` behind an `Arc`
//! ([`MapType::composite_key`]), which a `const` cannot build.
//!
//! Rust's `String` is not a Go string header (24 bytes, another layout)
//! and is rejected as a field: use [`GoStr`]. `u128`/`i128` are plain
//! memory (Go's `[16]byte`); a key that contains one is aligned to 16, so
//! the map stores it out of line (see [`crate::gomap`]'s layout notes).
//!
//! ```
//! use gomap::GoMap;
//!
//! // Go's map[struct{ a int32; b string }]bool, as a tuple key.
//! let mut m: GoMap<(i32, gomap::GoStr), bool> = GoMap::new();
//! m.insert((1, "one".into()), true);
//! assert_eq!(m.get(&(1, "one".into())), Some(&true));
//! // Go's map[[2]float64]int: NaN never equals itself, +0 == -0.
//! let mut a: GoMap<[f64; 2], i32> = GoMap::new();
//! a.insert([0.0, 1.0], 7);
//! assert_eq!(a.get(&[-0.0, 1.0]), Some(&7));
//! // Go's map[struct{}]int: one key.
//! let mut z: GoMap<(), i32> = GoMap::new();
//! z.insert((), 1);
//! z.insert((), 2);
//! assert_eq!(z.len(), 1);
//! ```

use crate::gomap::{FastKind, GoKey};
use crate::gostr::{GoStr, GoStrRef};
use crate::maptype::{KeyKind, KeySpec, MapType, TypeInfo};
use crate::presets::{Field, FieldKind};

/// A key that can be a field of a composite key (a tuple, an array, a
/// `#[derive(GoKey)]` struct): it lists its fields, flattened.
///
/// # Safety
/// `append_fields(base, out)` must append, in offset order, fields that
/// describe `Self` placed at `base` exactly: every field lies inside
/// `base..base + size_of::<Self>()`, none overlaps padding (bytes that may
/// be uninitialised), `Mem` fields cover only initialised plain memory,
/// `F32`/`F64` fields are `f32`/`f64` values and `Str` fields Go string
/// headers (`alg::GoString`) whose bytes stay readable while the key
/// lives. `GoKey`'s descriptor of `Self` must hash and compare as
/// [`MapType::composite_key`] of those fields at base 0 does.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a field of a Go map key",
    label = "not a Go-hashable key field",
    note = "fields of a `#[derive(GoKey)]` struct, tuple or array key must be integers, bool, char, f32, f64, \
            `gomap::GoStr`, `()`, tuples, arrays or `#[derive(GoKey)]` structs of those",
    note = "for a string field use `gomap::GoStr` (Go's string header), not `String`"
)]
pub unsafe trait KeyFields: GoKey {
    /// Appends the fields of a `Self` at `base`, in offset order.
    fn append_fields(base: usize, out: &mut Vec<Field>);
}

macro_rules! mem_fields {
    ($($t:ty),*) => {$(
        // SAFETY: plain memory of the type's size (no padding), as its
        // `SPEC` (`KeySpec::memory`) says.
        unsafe impl KeyFields for $t {
            fn append_fields(base: usize, out: &mut Vec<Field>) {
                out.push(Field::mem(base, size_of::<$t>()));
            }
        }
    )*};
}
mem_fields!(u8, u16, u32, u64, usize, i8, i16, i32, i64, isize, bool, char, u128, i128);

// SAFETY: an f32, hashed as its `SPEC` (`f32hash`).
unsafe impl KeyFields for f32 {
    fn append_fields(base: usize, out: &mut Vec<Field>) {
        out.push(Field::f32(base));
    }
}
// SAFETY: an f64, hashed as its `SPEC` (`f64hash`).
unsafe impl KeyFields for f64 {
    fn append_fields(base: usize, out: &mut Vec<Field>) {
        out.push(Field::f64(base));
    }
}
// SAFETY: a Go string header owning its bytes, hashed as its `SPEC`.
unsafe impl KeyFields for GoStr {
    fn append_fields(base: usize, out: &mut Vec<Field>) {
        out.push(Field::str(base));
    }
}
// SAFETY: a Go string header borrowing bytes that outlive the key.
unsafe impl KeyFields for GoStrRef<'_> {
    fn append_fields(base: usize, out: &mut Vec<Field>) {
        out.push(Field::str(base));
    }
}

// SAFETY: zero bytes of plain memory: `memhash0`, every `()` equal (Go's
// `struct{}` key).
unsafe impl GoKey for () {
    const SPEC: Option<KeySpec> = Some(KeySpec::memory(TypeInfo::of::<()>()));
}
// SAFETY: zero bytes of plain memory.
unsafe impl KeyFields for () {
    fn append_fields(base: usize, out: &mut Vec<Field>) {
        out.push(Field::mem(base, 0));
    }
}

// SAFETY: an array of `N` keys `K` laid out back to back (no padding
// between elements: `size_of` is a multiple of the alignment). Plain-memory
// elements make plain memory of the whole size (`regular_spec`'s rule),
// whose fast kind matches the size; otherwise each element is listed at
// its offset, as Go's array hasher hashes each element with the element's
// own hasher.
unsafe impl<K: KeyFields, const N: usize> GoKey for [K; N] {
    const SPEC: Option<KeySpec> = match K::SPEC {
        Some(s) if is_memory(&s) => Some(KeySpec::memory(TypeInfo::of::<[K; N]>())),
        _ if N == 0 => Some(KeySpec::memory(TypeInfo::of::<[K; N]>())),
        _ => None,
    };
    const FAST: FastKind = __private::fast_kind(Self::SPEC);
    fn map_type(elem: TypeInfo) -> MapType {
        __private::key_map_type::<Self>(elem)
    }
}
// SAFETY: as for the `GoKey` impl: element `i` at `base + i * size_of::<K>()`.
unsafe impl<K: KeyFields, const N: usize> KeyFields for [K; N] {
    fn append_fields(base: usize, out: &mut Vec<Field>) {
        if Self::SPEC.is_some() {
            out.push(Field::mem(base, size_of::<Self>()));
            return;
        }
        for i in 0..N {
            __private::push_field::<K>(base + i * size_of::<K>(), out);
        }
    }
}

macro_rules! tuple_key {
    ($(($($n:tt $T:ident),+))*) => {$(
        // SAFETY: a tuple's fields at their `offset_of!` offsets, each a
        // `KeyFields` key (`push_struct`); plain memory only when every
        // field is and they tile the tuple (`regular_spec`).
        unsafe impl<$($T: KeyFields),+> GoKey for ($($T,)+) {
            const SPEC: Option<KeySpec> = __private::regular_spec::<Self>(&[$($T::SPEC),+]);
            const FAST: FastKind = __private::fast_kind(Self::SPEC);
            fn map_type(elem: TypeInfo) -> MapType {
                __private::key_map_type::<Self>(elem)
            }
        }
        // SAFETY: as for the `GoKey` impl.
        unsafe impl<$($T: KeyFields),+> KeyFields for ($($T,)+) {
            fn append_fields(base: usize, out: &mut Vec<Field>) {
                let mut fields = [$((core::mem::offset_of!(Self, $n), __private::push_field::<$T> as __private::PushFn)),+];
                __private::push_struct(base, &mut fields, out)
            }
        }
    )*};
}
tuple_key! {
    (0 A)
    (0 A, 1 B)
    (0 A, 1 B, 2 C)
    (0 A, 1 B, 2 C, 3 D)
    (0 A, 1 B, 2 C, 3 D, 4 E)
    (0 A, 1 B, 2 C, 3 D, 4 E, 5 F)
    (0 A, 1 B, 2 C, 3 D, 4 E, 5 F, 6 G)
    (0 A, 1 B, 2 C, 3 D, 4 E, 5 F, 6 G, 7 H)
    (0 A, 1 B, 2 C, 3 D, 4 E, 5 F, 6 G, 7 H, 8 I)
    (0 A, 1 B, 2 C, 3 D, 4 E, 5 F, 6 G, 7 H, 8 I, 9 J)
    (0 A, 1 B, 2 C, 3 D, 4 E, 5 F, 6 G, 7 H, 8 I, 9 J, 10 K)
    (0 A, 1 B, 2 C, 3 D, 4 E, 5 F, 6 G, 7 H, 8 I, 9 J, 10 K, 11 L)
}

/// Whether `s` is plain memory of its whole size (no pointers).
const fn is_memory(s: &KeySpec) -> bool {
    matches!(s.kind, KeyKind::Memory) && !s.key.pointers
}

/// The pieces the derived and generic impls call. Not a stable API.
#[doc(hidden)]
pub mod __private {
    use super::*;

    /// Appends the fields of one key field at an offset.
    pub type PushFn = fn(usize, &mut Vec<Field>);

    /// `SPEC` of a composite `T` whose fields have the `SPEC`s `fields`:
    /// plain memory of `T`'s size when every field is plain memory and
    /// their sizes add up to `T`'s (so no padding: Go's regular memory,
    /// `AlgType` AMEM), otherwise `None` (built by [`key_map_type`]).
    pub const fn regular_spec<T>(fields: &[Option<KeySpec>]) -> Option<KeySpec> {
        let mut total = 0;
        let mut i = 0;
        while i < fields.len() {
            match &fields[i] {
                Some(s) if is_memory(s) => total += s.key.size,
                _ => return None,
            }
            i += 1;
        }
        if total == size_of::<T>() { Some(KeySpec::memory(TypeInfo::of::<T>())) } else { None }
    }

    /// The fast paths of a key with `SPEC` `spec`: Go's `mapfast` picks
    /// `fast32`/`fast64` for 4- and 8-byte plain memory.
    pub const fn fast_kind(spec: Option<KeySpec>) -> FastKind {
        match spec {
            Some(s) if is_memory(&s) && s.key.size == 4 => FastKind::Fast32,
            Some(s) if is_memory(&s) && s.key.size == 8 => FastKind::Fast64,
            _ => FastKind::None,
        }
    }

    /// The descriptor of `map[K]V` for a composite `K`: from its `SPEC`
    /// when plain memory, otherwise [`MapType::composite_key`] of its
    /// fields.
    ///
    /// # Panics
    /// If the descriptor is invalid (an alignment over 8).
    pub fn key_map_type<K: KeyFields>(elem: TypeInfo) -> MapType {
        let r = match K::SPEC {
            Some(spec) => MapType::try_from_spec(spec, elem),
            None => {
                let mut fields = Vec::new();
                K::append_fields(0, &mut fields);
                MapType::composite_key(&fields, size_of::<K>(), align_of::<K>(), elem)
            }
        };
        r.unwrap_or_else(|e| panic!("GoKey for {}: {e:?}", core::any::type_name::<K>()))
    }

    /// Appends the fields of a `K` at `base` as a field of an enclosing
    /// key: one memory field when `K` is regular memory (it merges with
    /// neighbouring memory, as Go's `Memrun` merges it), its own fields when
    /// it is one field, otherwise its fields between zero-size blank
    /// markers at its start and end (Go hashes it with its own function, so
    /// no memory run crosses its boundaries).
    pub fn push_field<K: KeyFields>(base: usize, out: &mut Vec<Field>) {
        let size = size_of::<K>();
        let mut inner = Vec::new();
        K::append_fields(base, &mut inner);
        let mut end = base;
        let mut regular = true;
        let mut pointers = false;
        for f in &inner {
            if !matches!(f.kind, FieldKind::Mem | FieldKind::Ptr) || f.offset != end {
                regular = false;
                break;
            }
            pointers |= f.kind == FieldKind::Ptr;
            end = f.offset + f.size;
        }
        if regular && end == base + size {
            out.push(Field::new(base, size, if pointers { FieldKind::Ptr } else { FieldKind::Mem }));
        } else if inner.len() == 1 && inner[0].offset == base && inner[0].size == size {
            out.push(inner[0]);
        } else {
            out.push(Field::blank(base, 0));
            out.append(&mut inner);
            out.push(Field::blank(base + size, 0));
        }
    }

    /// Appends a struct's fields, given as `(offset, push)` pairs, in
    /// offset order (declaration order breaks ties, e.g. zero-size fields).
    pub fn push_struct(base: usize, fields: &mut [(usize, PushFn)], out: &mut Vec<Field>) {
        fields.sort_by_key(|&(off, _)| off);
        for &(off, push) in fields.iter() {
            push(base + off, out);
        }
    }
}
