//! Borrowed lookups (`GoQuery`) and `remove_entry` (issue 19).
//!
//! * `get`/`contains_key`/`remove` by `&str` on `GoStr`, `GoStrRef` and
//!   `String` keys allocate nothing: this binary's global allocator counts
//!   the allocations made around 1,000 lookups;
//! * a borrowed lookup finds exactly what the owned lookup finds: random
//!   strings, short and longer than 32 bytes, present and absent, checked
//!   after every insert and delete as the map grows;
//! * `remove_entry` moves the stored key out: inline and out-of-line
//!   (> 128 bytes) keys, with and without a compile-time descriptor, each
//!   key dropped exactly once and no storage leaked (run under Miri, which
//!   also reports leaks and double frees).

mod common;

use common::counting::{CountingGlobal, allocs_in};

use std::cell::Cell;

use common::map::{check, hdr};
use common::scale;
use gomap::maptype::{KeyKind, KeySpec, MapType, MapTypeBuilder, TypeInfo};
use gomap::{GoKey, GoMap, GoStr, GoStrRef};

#[global_allocator]
static GLOBAL: CountingGlobal = CountingGlobal;

/// A xorshift generator: the tests' strings, reproducible.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    /// A string of 0..=8 or 33..=60 bytes (short, or past `strhash`'s
    /// 32-byte block), from a small alphabet so that some repeat.
    fn string(&mut self) -> String {
        let len = if self.next() % 2 == 0 { (self.next() % 9) as usize } else { 33 + (self.next() % 28) as usize };
        (0..len).map(|_| char::from(b'a' + (self.next() % 3) as u8)).collect()
    }
}

/// The words the allocation tests look up: 1,000 of them, half long.
fn words(n: usize) -> Vec<String> {
    (0..n).map(|i| if i % 2 == 0 { format!("w{i}") } else { format!("{i:0>40}") }).collect()
}

#[test]
fn str_lookups_on_gostr_keys_allocate_nothing() {
    let n = scale(1000, 40);
    let ws = words(n);
    let mut m: GoMap<GoStr, usize> = ws.iter().enumerate().map(|(i, w)| (GoStr::new(w), i)).collect();
    let mut sum = 0;
    let got = allocs_in(|| {
        for (i, w) in ws.iter().enumerate() {
            sum += *m.get(w.as_str()).unwrap();
            assert!(m.contains_key(w.as_str()));
            assert!(!m.contains_key("absent"));
            assert_eq!(m.get(w), Some(&i), "a `&String` query");
            *m.get_mut(w.as_str()).unwrap() += 1;
            assert_eq!(m[w.as_str()], i + 1);
        }
        for w in &ws {
            assert!(m.remove(w.as_str()).is_some());
        }
    });
    assert_eq!(got, 0, "{got} allocations in {n} borrowed lookups");
    assert_eq!(sum, n * (n - 1) / 2);
    assert!(m.is_empty());
}

#[test]
fn str_lookups_on_big_elem_gostr_keys_allocate_nothing() {
    // Elems over 128 bytes: the generic paths, not faststr.
    let n = scale(1000, 40);
    let ws = words(n);
    let mut m: GoMap<GoStr, [u8; 200]> = ws.iter().map(|w| (GoStr::new(w), [w.len() as u8; 200])).collect();
    let got = allocs_in(|| {
        for w in &ws {
            assert_eq!(m.get(w.as_str()).unwrap()[199], w.len() as u8);
            assert!(m.contains_key(w.as_str()) && !m.contains_key("absent"));
            assert!(m.get_key_value(w.as_str()).is_some_and(|(k, _)| &**k == w));
        }
        for w in &ws {
            assert!(m.remove(w.as_str()).is_some());
        }
    });
    assert_eq!(got, 0);
    assert!(m.is_empty());
}

#[test]
fn str_lookups_on_string_keys_allocate_nothing() {
    let n = scale(1000, 40);
    let ws = words(n);
    let mut m: GoMap<String, usize> = ws.iter().cloned().enumerate().map(|(i, w)| (w, i)).collect();
    let got = allocs_in(|| {
        for (i, w) in ws.iter().enumerate() {
            assert_eq!(m.get(w.as_str()), Some(&i));
            assert!(m.contains_key(w.as_str()) && !m.contains_key("absent"));
            assert_eq!(m.get_key_value(w.as_str()).map(|(k, _)| k.as_str()), Some(w.as_str()));
            *m.get_mut(w.as_str()).unwrap() += 1;
        }
        for (i, w) in ws.iter().enumerate() {
            assert_eq!(m.remove(w.as_str()), Some(i + 1));
            assert_eq!(m.remove(w.as_str()), None);
        }
    });
    assert_eq!(got, 0);
    assert!(m.is_empty());
}

#[test]
fn str_lookups_on_gostrref_keys() {
    let ws = words(scale(200, 20));
    let mut m: GoMap<GoStrRef<'_>, usize> = ws.iter().enumerate().map(|(i, w)| (GoStrRef::new(w), i)).collect();
    let got = allocs_in(|| {
        for (i, w) in ws.iter().enumerate() {
            assert_eq!(m.get(w.as_str()), Some(&i));
            assert_eq!(m.get(w), Some(&i));
        }
        for w in &ws {
            assert!(m.remove(w.as_str()).is_some());
        }
    });
    assert_eq!(got, 0);
    assert!(m.is_empty());
}

/// Every lookup form on `m` for `s` agrees with the owned lookup.
fn agree_gostr(m: &GoMap<GoStr, u32>, s: &str) {
    let owned = m.get(&GoStr::new(s));
    assert_eq!(m.get(s), owned, "{s:?}");
    assert_eq!(m.get(&s.to_string()), owned, "{s:?}");
    assert_eq!(m.contains_key(s), owned.is_some());
    assert_eq!(m.get_key_value(s).map(|(k, v)| (k.as_str(), v)), owned.map(|v| (s, v)));
}

fn agree_string(m: &GoMap<String, u32>, s: &str) {
    let owned = m.get(&s.to_string());
    assert_eq!(m.get(s), owned, "{s:?}");
    assert_eq!(m.contains_key(s), owned.is_some());
    assert_eq!(m.get_key_value(s).map(|(k, v)| (k.as_str(), v)), owned.map(|v| (s, v)));
}

#[test]
fn borrowed_lookups_find_what_owned_lookups_find() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let n = scale(3000, 150);
    let mut a: GoMap<GoStr, u32> = GoMap::new();
    let mut b: GoMap<String, u32> = GoMap::new();
    let mut big: GoMap<GoStr, [u32; 40]> = GoMap::new();
    let mut model = std::collections::HashMap::new();
    let (mut grew, mut max_b) = (false, 0);
    for i in 0..n as u32 {
        let s = rng.string();
        if rng.next() % 4 == 0 {
            // Delete: borrowed on one map, owned on the other, same answer.
            let want = model.remove(&s);
            assert_eq!(a.remove(s.as_str()), want);
            assert_eq!(b.remove(&s), want);
            assert_eq!(big.remove(s.as_str()).map(|v| v[0]), want);
        } else {
            model.insert(s.clone(), i);
            a.insert(GoStr::new(&s), i);
            b.insert(s.clone(), i);
            big.insert(GoStr::new(&s), [i; 40]);
        }
        let probe = rng.string();
        for q in [s.as_str(), probe.as_str()] {
            agree_gostr(&a, q);
            agree_string(&b, q);
            assert_eq!(a.get(q), model.get(q));
            assert_eq!(big.get(q).map(|v| &v[0]), model.get(q));
        }
        grew |= hdr(&a).growing;
        max_b = max_b.max(hdr(&a).b);
    }
    check(&a);
    check(&b);
    assert!(grew && max_b >= 2, "the maps should have grown (B = {max_b})");
    for (k, v) in &model {
        assert_eq!(
            (a.get(k.as_str()), b.get(k.as_str()), big.get(k.as_str()).map(|x| &x[0])),
            (Some(v), Some(v), Some(v))
        );
    }
    assert_eq!((a.len(), b.len(), big.len()), (model.len(), model.len(), model.len()));
}

#[test]
fn empty_and_missing() {
    let m: GoMap<String, u8> = GoMap::new();
    assert_eq!(m.get(""), None);
    let mut m: GoMap<GoStr, u8> = GoMap::new();
    assert_eq!(m.remove("x"), None);
    m.insert(GoStr::new(""), 1);
    assert_eq!(m.get(""), Some(&1), "the empty string is a key like any other");
    assert_eq!(m.remove_entry(""), Some((GoStr::new(""), 1)));
    // Integer literals still infer as the key type.
    let m: GoMap<u64, u8> = [(1, 2)].into();
    assert_eq!((m.get(&1), m[&1], m.contains_key(&1)), (Some(&2), 2, true));
}

// ---------------------------------------------------------------------------
// remove_entry
// ---------------------------------------------------------------------------

#[test]
fn remove_entry_returns_the_stored_key() {
    let mut m = GoMap::<f64, u8>::new();
    m.insert(0.0, 1);
    let (k, v) = m.remove_entry(&-0.0).unwrap();
    assert!(k.is_sign_positive() && v == 1, "the stored +0, not the query's -0");
    assert!(m.is_empty() && m.remove_entry(&0.0).is_none());
    m.insert(f64::NAN, 1);
    assert_eq!(m.remove_entry(&f64::NAN), None, "NaN never matches");

    let mut s: GoMap<String, Vec<u8>> = GoMap::new();
    s.insert("key".to_string(), vec![1]);
    let (k, v) = s.remove_entry("key").unwrap();
    assert_eq!((k.as_str(), v), ("key", vec![1]));
    assert!(s.is_empty());
    let mut g: GoMap<GoStr, String> = GoMap::new();
    g.insert("x".into(), "y".into());
    assert_eq!(g.remove_entry("x"), Some((GoStr::new("x"), "y".to_string())));
}

thread_local! {
    /// Live `DKey`s made by this thread, to see each dropped exactly once
    /// (per thread: the tests run in parallel).
    static LIVE: Cell<isize> = const { Cell::new(0) };
}

fn live() -> isize {
    LIVE.with(|l| l.get())
}

/// A key with drop glue and `PAD` bytes of padding (over 128 bytes: stored
/// out of line), hashing and comparing its boxed id. `SPEC` says whether it
/// has a compile-time descriptor (`STATIC`) or a boxed one per map.
#[derive(Debug)]
#[repr(C)]
struct DKey<const PAD: usize, const STATIC: bool> {
    id: Box<u64>,
    pad: [u8; PAD],
}

impl<const PAD: usize, const STATIC: bool> DKey<PAD, STATIC> {
    fn new(id: u64) -> Self {
        LIVE.with(|l| l.set(l.get() + 1));
        DKey { id: Box::new(id), pad: [id as u8; PAD] }
    }
}

impl<const PAD: usize, const STATIC: bool> Drop for DKey<PAD, STATIC> {
    fn drop(&mut self) {
        LIVE.with(|l| l.set(l.get() - 1));
    }
}

/// # Safety
/// `p` is a live `DKey<PAD, S>`.
unsafe fn dkey_hash<const PAD: usize, const S: bool>(p: *const u8, seed: usize, _: *const ()) -> usize {
    // SAFETY: a live `DKey` (the hasher's contract).
    let k = unsafe { &*p.cast::<DKey<PAD, S>>() };
    // SAFETY: 8 readable bytes of a live `u64`.
    unsafe { gomap::alg::memhash64((&raw const *k.id).cast(), seed) }
}

/// # Safety
/// `a` and `b` are live `DKey<PAD, S>`s.
unsafe fn dkey_equal<const PAD: usize, const S: bool>(a: *const u8, b: *const u8, _: *const ()) -> bool {
    // SAFETY: live `DKey`s (the equality's contract).
    unsafe { *(*a.cast::<DKey<PAD, S>>()).id == *(*b.cast::<DKey<PAD, S>>()).id }
}

// SAFETY: the descriptor describes `DKey<PAD, S>`: its size and alignment,
// a hasher and equality reading one, equal keys hashing alike.
unsafe impl<const PAD: usize, const S: bool> GoKey for DKey<PAD, S> {
    const SPEC: Option<KeySpec> = if S {
        Some(KeySpec {
            key: TypeInfo::of_pointerful::<Self>(),
            hasher: dkey_hash::<PAD, S>,
            equal: dkey_equal::<PAD, S>,
            kind: KeyKind::Custom,
            reflexive: true,
            need_key_update: false,
            trusted: true,
            ctx: std::ptr::null(),
        })
    } else {
        None
    };
    fn map_type(elem: TypeInfo) -> MapType {
        MapTypeBuilder::new(TypeInfo::of_pointerful::<Self>(), elem, dkey_hash::<PAD, S>, dkey_equal::<PAD, S>)
            .trusted_callbacks()
            .build()
            .unwrap()
    }
}

/// `remove_entry` on a map of `DKey<PAD, S>` across growth: every key comes
/// out with its value, each is dropped once, the map's out-of-line storage
/// goes back to zero.
fn remove_entry_moves_keys_out<const PAD: usize, const S: bool>() {
    let n = scale(300, 30) as u64;
    let base = live();
    {
        let mut m: GoMap<DKey<PAD, S>, String> = GoMap::new();
        assert_eq!(m.map_type().indirect_key(), PAD > 128);
        for i in 0..n {
            m.insert(DKey::new(i), i.to_string());
        }
        let mut removed = 0;
        for i in (0..n).step_by(2) {
            let (k, v) = m.remove_entry(&DKey::new(i)).unwrap();
            assert_eq!((*k.id, v), (i, i.to_string()));
            removed += 1;
            check(&m);
        }
        assert!(m.remove_entry(&DKey::new(0)).is_none());
        assert_eq!(m.len() as u64, n - removed);
        assert_eq!(live() - base, (n - removed) as isize, "keys in the map only");
        for i in (1..n).step_by(2) {
            let e = m.remove_entry(&DKey::new(i)).unwrap();
            assert_eq!(*e.0.id, i);
        }
        assert!(m.is_empty());
        let st = m.stats();
        assert_eq!((st.out_of_line_bytes, st.retired_blocks), (0, 0), "out-of-line keys freed: {st:?}");
    }
    assert_eq!(live(), base, "every key dropped once");
}

#[test]
fn remove_entry_inline_keys_static_descriptor() {
    remove_entry_moves_keys_out::<8, true>();
}

#[test]
fn remove_entry_inline_keys_boxed_descriptor() {
    remove_entry_moves_keys_out::<8, false>();
}

#[test]
fn remove_entry_out_of_line_keys_static_descriptor() {
    remove_entry_moves_keys_out::<200, true>();
}

#[test]
fn remove_entry_out_of_line_keys_boxed_descriptor() {
    remove_entry_moves_keys_out::<200, false>();
}

#[test]
fn remove_entry_big_byte_array_keys() {
    let n = scale(100, 12);
    let mut m: GoMap<[u8; 200], String> = GoMap::new();
    assert!(m.map_type().indirect_key());
    for i in 0..n {
        m.insert([i as u8; 200], format!("v{i}"));
    }
    for i in 0..n {
        let (k, v) = m.remove_entry(&[i as u8; 200]).unwrap();
        assert_eq!((k, v), ([i as u8; 200], format!("v{i}")));
    }
    assert!(m.is_empty());
    assert_eq!(m.stats().out_of_line_bytes, 0);
}

#[test]
fn iterating_allocates_nothing() {
    // `iter`, `iter_mut`, `keys`, `values` keep Go's `hiter` inside the
    // iterator value: no allocation per loop (std's iterators make none).
    let n = scale(1000, 40);
    let mut m: GoMap<u64, u64> = (0..n as u64).map(|i| (i, i)).collect();
    let mut sum = 0u64;
    let got = allocs_in(|| {
        for _ in 0..10 {
            sum += m.iter().map(|(_, v)| *v).sum::<u64>();
            sum += m.keys().count() as u64 + m.values().count() as u64;
            for (_, v) in m.iter_mut() {
                *v += 1;
            }
            // Dropped part-way: ended in `Drop`.
            assert!(m.iter().next().is_some());
        }
    });
    assert_eq!(got, 0, "{got} allocations in 50 iterations");
    let n = n as u64;
    assert_eq!(sum, 10 * (n * (n - 1) / 2) + 45 * n + 20 * n);
}
