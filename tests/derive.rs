//! `#[derive(GoKey)]`, tuple, array and `()` keys (`gomap::keys`): their
//! descriptors hash and compare as the hand-built ones of the same Go types
//! (`MapType::composite_key`), replay Go's golden traces bit for bit, and
//! work in a `GoMap`, padded keys included (run under Miri: padding is
//! never read). Every test holds the hash path: the golden replay changes
//! the process-wide hash key, which would move live maps' keys.

mod common;

use core::mem::offset_of;
use std::path::Path;

use common::golden::replay_file_with;
use common::replay::{hold_hash_path, replay_dir};
use gomap::gomap::FastKind;
use gomap::maptype::{KeyKind, MapType, TypeError, TypeInfo};
use gomap::presets::Field;
use gomap::{GoKey, GoMap, GoStr};

/// Go's `Comp` (oracle kinds.go): `A uint32; F float64; S uint16`.
#[derive(GoKey, Clone, Debug, PartialEq)]
#[repr(C)]
struct Comp {
    a: u32,
    f: f64,
    s: u16,
}

/// Go's `SS` (oracle kinds_more.go): `B uint8; S string; F float32`.
#[derive(GoKey)]
#[repr(C)]
struct Ss {
    b: u8,
    s: GoStr,
    f: f32,
}

/// Go's `Nest` and `NestIn` (oracle kinds_more.go): a nested non-memory
/// struct abutting memory, a bool, padding.
#[derive(GoKey, Clone, Copy)]
#[repr(C)]
struct NestIn {
    a: u32,
    f: f32,
}
#[derive(GoKey, Clone, Copy)]
#[repr(C)]
struct Nest {
    a: u32,
    inner: NestIn,
    ok: bool,
    c: u16,
}

/// A tuple struct with padding: 1 + 7 + 8 bytes.
#[derive(GoKey, Clone, Copy, Debug, PartialEq)]
#[repr(C)]
struct Padded(u8, u64);

/// A nested struct that is not plain memory (a float), between bytes.
#[derive(GoKey, Clone, Copy)]
#[repr(C)]
struct Inner {
    a: u32,
    f: f32,
}
#[derive(GoKey, Clone, Copy)]
#[repr(C)]
struct Outer {
    x: u8,
    inner: Inner,
    y: u8,
    ok: bool,
}

/// A nested non-memory struct right after and before memory: Go hashes it
/// with its own function, so no memory run crosses its edges.
#[derive(GoKey, Clone, Copy)]
#[repr(C)]
struct Abut {
    a: u32,
    inner: Inner,
    b: u32,
}

/// A nested regular-memory struct: the whole key is plain memory.
#[derive(GoKey, Clone, Copy)]
#[repr(C)]
struct Pair {
    a: u16,
    b: u16,
}
#[derive(GoKey, Clone, Copy)]
#[repr(C)]
struct Mem8 {
    p: Pair,
    c: u32,
}

/// A generic key.
#[derive(GoKey, Clone, Copy, Debug, PartialEq)]
#[repr(C)]
struct Tagged<T> {
    tag: u8,
    v: T,
}

/// A unit struct: Go's `struct{}`.
#[derive(GoKey)]
struct Unit;

const U32: TypeInfo = TypeInfo::of::<u32>();

/// The derived descriptor of `K` (what `GoMap<K, u32>` builds).
fn derived<K: GoKey>() -> MapType {
    K::map_type(U32)
}

/// A deterministic xorshift, so every run hashes the same keys.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// Asserts that `a` and `b` describe the same key: sizes, flags (reflexive,
/// need-key-update, indirect), kind, and equal hashes and equalities on
/// `keys` with fixed seeds (NaN keys hash randomly: only their equality).
fn assert_same<K>(a: &MapType, b: &MapType, keys: &[K]) {
    assert_eq!(a.keysize(), b.keysize(), "keysize");
    assert_eq!(a.key().size, b.key().size, "key size");
    assert_eq!(a.key().align, b.key().align, "key align");
    assert_eq!(a.flags(), b.flags(), "flags (reflexive, need key update, indirect)");
    assert_eq!(a.indirect_key(), b.indirect_key(), "indirect key");
    assert_eq!(a.bucketsize(), b.bucketsize(), "bucket size");
    assert_eq!(a.bucket_pointers(), b.bucket_pointers(), "bucket pointers");
    assert_eq!(a.kind(), b.kind(), "key kind");
    for (i, k) in keys.iter().enumerate() {
        let p = (k as *const K).cast::<u8>();
        // SAFETY: `p` is a live `K`, a key of both descriptors.
        let (sa, sb) = unsafe { (a.key_equal(p, p), b.key_equal(p, p)) };
        assert_eq!(sa, sb, "key {i} equals itself");
        if !sa {
            // A NaN: Go hashes it to a random value.
            continue;
        }
        for seed in [0, 1, 0x9e37_79b9_7f4a_7c15u64 as usize] {
            // SAFETY: `p` is a live `K`, a key of both descriptors.
            let ha = unsafe { a.hash(p, seed) };
            // SAFETY: as above.
            let hb = unsafe { b.hash(p, seed) };
            assert_eq!(ha, hb, "hash of key {i} with seed {seed:#x}");
        }
        let q = (&keys[(i + 1) % keys.len()] as *const K).cast::<u8>();
        // SAFETY: `p` and `q` are live `K`s, keys of both descriptors.
        let (ea, eb) = unsafe { (a.key_equal(p, q), b.key_equal(p, q)) };
        assert_eq!(ea, eb, "equality of keys {i} and the next");
    }
}

fn n(full: usize) -> usize {
    common::scale(full, 8)
}

fn comp_keys() -> Vec<Comp> {
    let mut r = Rng(7);
    let mut v: Vec<Comp> = (0..n(200))
        .map(|_| Comp { a: r.next() as u32 % 16, f: (r.next() % 8) as f64, s: r.next() as u16 % 4 })
        .collect();
    v.push(Comp { a: 1, f: -0.0, s: 2 });
    v.push(Comp { a: 1, f: 0.0, s: 2 });
    v.push(Comp { a: 1, f: f64::NAN, s: 2 });
    v
}

#[test]
fn comp_matches_hand_built() {
    let _hold = hold_hash_path();
    // Offsets, size and alignment from the Rust struct (on x86-64: f at 8,
    // s at 16, 24 bytes; on i686, as on Go's 386: f at 4, s at 12, 16).
    let f = [Field::mem(0, 4), Field::f64(offset_of!(Comp, f)), Field::mem(offset_of!(Comp, s), 2)];
    let want = MapType::composite_key(&f, size_of::<Comp>(), align_of::<Comp>(), U32).unwrap();
    assert_same(&derived::<Comp>(), &want, &comp_keys());
}

#[test]
fn nest_matches_hand_built() {
    let _hold = hold_hash_path();
    let want = MapType::composite_key(&common::golden::NEST_FIELDS, 16, 4, U32).unwrap();
    let mut r = Rng(5);
    let keys: Vec<Nest> = (0..n(100))
        .map(|_| Nest {
            a: r.next() as u32 % 3,
            inner: NestIn { a: r.next() as u32 % 3, f: [0.0, -0.0, 1.0, f32::NAN][r.next() as usize % 4] },
            ok: r.next() % 2 == 0,
            c: r.next() as u16 % 3,
        })
        .collect();
    assert_same(&derived::<Nest>(), &want, &keys);
}

#[test]
fn ss_matches_hand_built() {
    let _hold = hold_hash_path();
    let f = [Field::mem(0, 1), Field::str(offset_of!(Ss, s)), Field::f32(offset_of!(Ss, f))];
    let want = MapType::composite_key(&f, size_of::<Ss>(), align_of::<Ss>(), U32).unwrap();
    let mut r = Rng(9);
    let keys: Vec<Ss> = (0..n(100))
        .map(|_| Ss { b: r.next() as u8 % 3, s: GoStr::new(&format!("s{}", r.next() % 5)), f: (r.next() % 3) as f32 })
        .collect();
    assert_same(&derived::<Ss>(), &want, &keys);
}

#[test]
fn arrays_match_hand_built() {
    let _hold = hold_hash_path();
    let f17: Vec<Field> = (0..17).map(|i| Field::f64(8 * i)).collect();
    let want = MapType::composite_key(&f17, 136, align_of::<f64>(), U32).unwrap();
    let mut r = Rng(11);
    let keys: Vec<[f64; 17]> = (0..n(50)).map(|_| core::array::from_fn(|_| (r.next() % 3) as f64 - 1.0)).collect();
    assert_same(&derived::<[f64; 17]>(), &want, &keys);

    let w = size_of::<GoStr>();
    let s9: Vec<Field> = (0..9).map(|i| Field::str(w * i)).collect();
    let want = MapType::composite_key(&s9, 9 * w, align_of::<GoStr>(), U32).unwrap();
    let keys: Vec<[GoStr; 9]> =
        (0..n(50)).map(|_| core::array::from_fn(|_| GoStr::new(&format!("{}", r.next() % 3)))).collect();
    assert_same(&derived::<[GoStr; 9]>(), &want, &keys);

    let keys: Vec<[u8; 3]> = (0..n(50)).map(|_| core::array::from_fn(|_| r.next() as u8)).collect();
    assert_same(&derived::<[u8; 3]>(), &MapType::mem_key(3, 1, U32).unwrap(), &keys);
    let keys: Vec<[u16; 5]> = (0..n(50)).map(|_| core::array::from_fn(|_| r.next() as u16)).collect();
    assert_same(&derived::<[u16; 5]>(), &MapType::mem_key(10, 2, U32).unwrap(), &keys);
    // Plain-memory arrays keep a constant descriptor and their fast paths.
    assert_eq!(<[u8; 4]>::FAST, FastKind::Fast32);
    assert_eq!(<[u8; 8]>::FAST, FastKind::Fast64);
    assert_eq!(<[u32; 2]>::FAST, FastKind::Fast64);
    assert_eq!(<[u8; 3]>::FAST, FastKind::None);
    assert!(<[u8; 200]>::SPEC.is_some() && <[u16; 5]>::SPEC.is_some());
    assert!(<[f64; 2]>::SPEC.is_none());
    assert!(derived::<[u8; 200]>().indirect_key());
}

#[test]
fn nested_and_padded_match_hand_built() {
    let _hold = hold_hash_path();
    // Outer: x at 0, Inner {a, f} at 4..12 (not plain memory: own hasher,
    // so memory runs stop at its edges), y at 12, ok at 13, 2 bytes pad.
    let f =
        [Field::mem(0, 1), Field::blank(4, 0), Field::mem(4, 4), Field::f32(8), Field::blank(12, 0), Field::mem(12, 2)];
    let want = MapType::composite_key(&f, 16, 4, U32).unwrap();
    let mut r = Rng(13);
    let keys: Vec<Outer> = (0..n(100))
        .map(|_| Outer {
            x: r.next() as u8 % 2,
            inner: Inner { a: r.next() as u32 % 2, f: (r.next() % 2) as f32 },
            y: r.next() as u8 % 2,
            ok: r.next() % 2 == 0,
        })
        .collect();
    assert_same(&derived::<Outer>(), &want, &keys);

    // Abut: `a` and `inner.a` abut but are hashed apart (two memhash32, not
    // one memhash64), as are `inner.f` and `b`.
    let f =
        [Field::mem(0, 4), Field::blank(4, 0), Field::mem(4, 4), Field::f32(8), Field::blank(12, 0), Field::mem(12, 4)];
    let want = MapType::composite_key(&f, 16, 4, U32).unwrap();
    let keys: Vec<Abut> = (0..n(100))
        .map(|_| Abut {
            a: r.next() as u32 % 3,
            inner: Inner { a: r.next() as u32 % 3, f: 1.0 },
            b: r.next() as u32 % 3,
        })
        .collect();
    assert_same(&derived::<Abut>(), &want, &keys);

    let f = [Field::mem(0, 1), Field::mem(offset_of!(Padded, 1), 8)];
    let want = MapType::composite_key(&f, size_of::<Padded>(), align_of::<Padded>(), U32).unwrap();
    let keys: Vec<Padded> = (0..n(100)).map(|_| Padded(r.next() as u8 % 3, r.next() % 3)).collect();
    assert_same(&derived::<Padded>(), &want, &keys);
    assert!(Padded::SPEC.is_none(), "a padded key must not be hashed as memory");

    // Nested regular memory merges: the key is 8 bytes of plain memory.
    assert!(Mem8::SPEC.is_some());
    assert_eq!(Mem8::FAST, FastKind::Fast64);
    assert_eq!(derived::<Mem8>().kind(), KeyKind::Memory);
}

#[test]
fn tuples_unit_and_generics() {
    let _hold = hold_hash_path();
    assert_eq!(<(u32, u32)>::FAST, FastKind::Fast64);
    assert_eq!(<(u16, u16)>::FAST, FastKind::Fast32);
    assert!(<(u8, u64)>::SPEC.is_none());
    assert_eq!(derived::<(f64,)>().kind(), KeyKind::F64);
    assert_eq!(derived::<(GoStr,)>().kind(), KeyKind::Str);
    assert_eq!(derived::<()>().keysize(), 0);
    assert_eq!(derived::<Unit>().keysize(), 0);
    type T12 = (u8, u16, u32, u64, i8, i16, i32, i64, f32, f64, bool, char);
    assert_eq!(derived::<T12>().kind(), KeyKind::Composite);
    assert_eq!(derived::<Tagged<f64>>().flags(), derived::<Comp>().flags());

    let mut m: GoMap<(u8, u64), u32> = GoMap::new();
    let mut g: GoMap<Tagged<f64>, u32> = GoMap::new();
    for i in 0..n(300) as u32 {
        m.insert(((i % 7) as u8, u64::from(i)), i);
        g.insert(Tagged { tag: (i % 3) as u8, v: f64::from(i) }, i);
    }
    for i in 0..n(300) as u32 {
        assert_eq!(m.get(&((i % 7) as u8, u64::from(i))), Some(&i));
        assert_eq!(g.get(&Tagged { tag: (i % 3) as u8, v: f64::from(i) }), Some(&i));
    }
    // Go's float keys: -0 finds +0; NaN finds nothing and never overwrites.
    assert_eq!(g.get(&Tagged { tag: 0, v: -0.0 }), Some(&0));
    g.insert(Tagged { tag: 0, v: f64::NAN }, 1);
    g.insert(Tagged { tag: 0, v: f64::NAN }, 2);
    assert_eq!(g.len(), n(300) + 2);
    assert_eq!(g.get(&Tagged { tag: 0, v: f64::NAN }), None);

    let mut u: GoMap<(), u32> = GoMap::new();
    u.insert((), 1);
    assert_eq!(u.insert((), 2), Some(1));
    assert_eq!(u.len(), 1);
}

/// The UB report behind this file: a padded key hashed as plain memory
/// reads uninitialised padding. A derived padded key never does (Miri
/// checks every byte the hasher and equality read).
#[test]
fn padded_derived_keys_in_a_map() {
    let _hold = hold_hash_path();
    let mut m: GoMap<Padded, u64> = GoMap::new();
    let mut o: GoMap<Outer, u32> = GoMap::new();
    let mut c: GoMap<Comp, u32> = GoMap::new();
    for i in 0..n(500) as u64 {
        m.insert(Padded(i as u8, i), i);
        let k = Outer { x: i as u8, inner: Inner { a: i as u32, f: i as f32 }, y: 1, ok: i % 2 == 0 };
        o.insert(k, i as u32);
        c.insert(Comp { a: i as u32, f: i as f64, s: 3 }, i as u32);
    }
    assert_eq!(m.len(), n(500));
    for i in 0..n(500) as u64 {
        assert_eq!(m.get(&Padded(i as u8, i)), Some(&i));
        let k = Outer { x: i as u8, inner: Inner { a: i as u32, f: i as f32 }, y: 1, ok: i % 2 == 0 };
        assert_eq!(o.get(&k), Some(&(i as u32)));
        if i % 2 == 0 {
            assert_eq!(m.remove(&Padded(i as u8, i)), Some(i));
        }
    }
    assert_eq!(m.len(), n(500) / 2);
    let c2 = c.clone();
    assert_eq!(c2.get(&Comp { a: 3, f: 3.0, s: 3 }), Some(&3));
    assert_eq!(c2.get(&Comp { a: 0, f: -0.0, s: 3 }), Some(&0));
    let mut s: GoMap<Ss, u32> = GoMap::new();
    s.insert(Ss { b: 1, s: "a".into(), f: 0.0 }, 1);
    assert_eq!(s.get(&Ss { b: 1, s: "a".into(), f: -0.0 }), Some(&1));
    assert_eq!(s.get(&Ss { b: 1, s: "b".into(), f: 0.0 }), None);
}

/// The derived descriptors of the oracle's composite key types, by trace
/// key name.
fn derived_key_type(key: &str, elem: TypeInfo) -> Option<Result<MapType, TypeError>> {
    Some(Ok(match key {
        "comp" => Comp::map_type(elem),
        "ss" => Ss::map_type(elem),
        "f17" => <[f64; 17]>::map_type(elem),
        "s9" => <[GoStr; 9]>::map_type(elem),
        "a3" => <[u8; 3]>::map_type(elem),
        "a5z" => <[u16; 5]>::map_type(elem),
        "nest" => Nest::map_type(elem),
        _ => return None,
    }))
}

/// Go's golden traces of `comp`, `ss`, `f17`, `s9`, `a3`, `a5z`, `nest` replay bit
/// for bit on the derived descriptors (results, states, checksums).
#[test]
#[cfg_attr(miri, ignore = "replays thousands of ops through a JSON parser")]
fn golden_traces_on_derived_descriptors() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let replayed = std::cell::Cell::new(0);
    replay_dir(&dir, |p| {
        let name = p.file_name().unwrap().to_str().unwrap();
        let key = name.split('-').next().unwrap();
        if derived_key_type(key, U32).is_none() {
            return Ok(0);
        }
        replayed.set(replayed.get() + 1);
        replay_file_with(p, &derived_key_type)
    });
    assert!(replayed.get() >= 7 * 7, "replayed {} traces of the seven key types", replayed.get());
}
