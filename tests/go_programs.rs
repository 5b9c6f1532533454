//! Go's map programs from its top-level `test/` directory (Go 1.24.11:
//! `test/map.go`, `test/maplinear.go`, `test/mapclear.go` and the map
//! regressions of `test/fixedbugs`), ported by name through gomap's public
//! API. Where a program only checks that Go does not crash, the port also
//! asserts the state Go reaches (printed by `go-ref/cmd/portfacts`).
//!
//! golang/go#64474 has no program in `test/fixedbugs`: its regression test
//! is maps.TestCloneLarge, ported as `go_map_tests.rs::test_clone_large`.

mod common;

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::ops::ControlFlow;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::map::{check, hdr};
use common::scale;
use gomap::alg::GoString;
use gomap::inspect::snapshot;
use gomap::map::{self, HIter};
use gomap::maptype::{MapType, MapTypeBuilder, TypeInfo};
use gomap::{GoKey, GoMap, GoStr};

/// Go's complex64 as a key: `c64hash`, `==` on both parts.
#[derive(Clone, Copy, Debug, PartialEq)]
#[repr(C)]
struct C64(f32, f32);

// SAFETY: the descriptor is Go's complex64 key, laid out as C64.
unsafe impl GoKey for C64 {
    fn map_type(elem: TypeInfo) -> MapType {
        MapType::c64_key(elem).unwrap()
    }
}

/// Go's complex128 as a key: `c128hash`, `==` on both parts.
#[derive(Clone, Copy, Debug, PartialEq)]
#[repr(C)]
struct C128(f64, f64);

// SAFETY: the descriptor is Go's complex128 key, laid out as C128.
unsafe impl GoKey for C128 {
    fn map_type(elem: TypeInfo) -> MapType {
        MapType::c128_key(elem).unwrap()
    }
}

// --- test/map.go ---

const COUNT: i64 = 100;

/// map.go's `T`.
#[derive(Clone, Copy, Debug, PartialEq)]
struct T {
    i: i64,
    f: f32,
}

/// test/map.go, `testbasic`: maps of many key and value kinds, filled with
/// COUNT entries; lengths, lookups, `v, ok` for present keys and for the
/// next COUNT absent ones, updates through values that are references
/// (`*T`, slices, maps), and ranging over a nil map. Go's `map[*T]int` is
/// keyed by the pointer's address here; its `map[int]M` holds shared maps.
#[test]
fn map_go_testbasic() {
    let mlit: GoMap<GoStr, i64> = (0..5).map(|i| (GoStr::new(&i.to_string()), i)).collect();
    for i in 0..mlit.len() as i64 {
        let s = GoStr::new(&i.to_string());
        assert_eq!(mlit.get(&s), Some(&i), "mlit[{s}]");
    }

    let mut mib: GoMap<i64, bool> = GoMap::new();
    let mut mii: GoMap<i64, i64> = GoMap::new();
    let mut mfi: GoMap<f32, i64> = GoMap::new();
    let mut mif: GoMap<i64, f32> = GoMap::new();
    let mut msi: GoMap<GoStr, i64> = GoMap::new();
    let mut mis: GoMap<i64, String> = GoMap::new();
    let mut mss: GoMap<GoStr, String> = GoMap::new();
    let mut mspa: GoMap<GoStr, Vec<String>> = GoMap::new();
    let mut mipt: GoMap<i64, Rc<RefCell<T>>> = GoMap::new();
    let mut mpti: GoMap<usize, i64> = GoMap::new();
    let mut mit: GoMap<i64, T> = GoMap::new();
    let mut mipm: GoMap<i64, Rc<RefCell<GoMap<i64, i64>>>> = GoMap::new();
    // Go's apT: 2*COUNT pointers, some nil; the second half are never keys.
    let mut apt: Vec<Option<Rc<RefCell<T>>>> = vec![None; 2 * COUNT as usize];
    let addr = |p: &Option<Rc<RefCell<T>>>| p.as_ref().map_or(0, |p| Rc::as_ptr(p).addr());

    for i in 0..COUNT {
        let (s, s10) = (i.to_string(), (i * 10).to_string());
        let f = i as f32;
        let t = T { i, f };
        apt[i as usize] = Some(Rc::new(RefCell::new(t)));
        apt[2 * i as usize] = Some(Rc::new(RefCell::new(t)));
        let mut m = GoMap::new();
        m.insert(i, i + 1);
        mib.insert(i, i != 0);
        mii.insert(i, 10 * i);
        mfi.insert(f, 10 * i);
        mif.insert(i, 10.0 * f);
        mis.insert(i, s.clone());
        msi.insert(GoStr::new(&s), i);
        mss.insert(GoStr::new(&s), s10.clone());
        mss.insert(GoStr::new(&s), s10.clone());
        mspa.insert(GoStr::new(&s), vec![s10.clone(), s10]);
        mipt.insert(i, apt[i as usize].clone().unwrap());
        mpti.insert(addr(&apt[i as usize]), i);
        mipm.insert(i, Rc::new(RefCell::new(m)));
        mit.insert(i, t);
    }

    let lens = [
        ("mib", mib.len()),
        ("mii", mii.len()),
        ("mfi", mfi.len()),
        ("mif", mif.len()),
        ("msi", msi.len()),
        ("mis", mis.len()),
        ("mss", mss.len()),
        ("mspa", mspa.len()),
        ("mipT", mipt.len()),
        ("mpTi", mpti.len()),
        ("mipM", mipm.len()),
        ("mit", mit.len()),
    ];
    for (name, len) in lens {
        assert_eq!(len, COUNT as usize, "len({name})");
    }

    // Lookups, and `v, ok` for present keys.
    for i in 0..COUNT {
        let (s, s10) = (GoStr::new(&i.to_string()), (i * 10).to_string());
        let f = i as f32;
        assert_eq!(mib.get(&i), Some(&(i != 0)), "mib[{i}]");
        assert_eq!(mii.get(&i), Some(&(10 * i)), "mii[{i}]");
        assert_eq!(mfi.get(&f), Some(&(10 * i)), "mfi[{i}]");
        assert_eq!(mif.get(&i), Some(&(10.0 * f)), "mif[{i}]");
        assert_eq!(mis.get(&i).map(String::as_str), Some(&*i.to_string()), "mis[{i}]");
        assert_eq!(msi.get(&s), Some(&i), "msi[{s}]");
        assert_eq!(mss.get(&s), Some(&s10), "mss[{s}]");
        assert_eq!(mspa.get(&s), Some(&vec![s10.clone(), s10]), "mspa[{s}]");
        assert_eq!(*mipt.get(&i).expect("mipT").borrow(), T { i, f }, "mipT[{i}]");
        assert_eq!(mpti.get(&addr(&apt[i as usize])), Some(&i), "mpTi[apT[{i}]]");
        assert_eq!(mipm.get(&i).expect("mipM").borrow().get(&i), Some(&(i + 1)), "mipM[{i}][{i}]");
        assert_eq!(mit.get(&i), Some(&T { i, f }), "mit[{i}]");
    }

    // `v, ok` for absent keys: all false.
    for i in COUNT..2 * COUNT {
        let s = GoStr::new(&i.to_string());
        let f = i as f32;
        let present = [
            ("mib", mib.contains_key(&i)),
            ("mii", mii.contains_key(&i)),
            ("mfi", mfi.contains_key(&f)),
            ("mif", mif.contains_key(&i)),
            ("mis", mis.contains_key(&i)),
            ("msi", msi.contains_key(&s)),
            ("mss", mss.contains_key(&s)),
            ("mspa", mspa.contains_key(&s)),
            ("mipT", mipt.contains_key(&i)),
            ("mpTi", mpti.contains_key(&addr(&apt[i as usize]))),
            ("mipM", mipm.contains_key(&i)),
            ("mit", mit.contains_key(&i)),
        ];
        for (name, ok) in present {
            assert!(!ok, "tuple nonexistence: {name}[{i}]");
        }
    }

    // Updates through values that refer to shared data.
    for i in 0..COUNT {
        let s = GoStr::new(&i.to_string());
        mspa.get_mut(&s).unwrap()[(i % 2) as usize] = "deleted".into();
        assert_eq!(mspa.get(&s).unwrap()[(i % 2) as usize], "deleted", "update mspa[{s}][{}]", i % 2);
        mipt.get(&i).unwrap().borrow_mut().i += 1;
        assert_eq!(mipt.get(&i).unwrap().borrow().i, i + 1, "update mipT[{i}].i");
        // The map holds the pointer, not a copy: apT sees the update.
        assert_eq!(apt[i as usize].as_ref().unwrap().borrow().i, i + 1);
        mipt.get(&i).unwrap().borrow_mut().f = (i + 1) as f32;
        assert_eq!(mipt.get(&i).unwrap().borrow().f, (i + 1) as f32, "update mipT[{i}].f");
        *mipm.get(&i).unwrap().borrow_mut().get_mut(&i).unwrap() += 1;
        assert_eq!(mipm.get(&i).unwrap().borrow().get(&i), Some(&(i + 2)), "update mipM[{i}][{i}]");
    }

    // Ranging over a nil map produces nothing.
    let t = MapType::str_key(TypeInfo::of::<i64>()).unwrap();
    let mut it = HIter::new();
    // SAFETY: a nil map.
    unsafe { map::mapiterinit(&t, std::ptr::null_mut(), &mut it) };
    assert!(it.key.is_null(), "range mnil");
    check(&msi);
    check(&mpti);
}

/// map.go's `testfloat` for one key type: +0 and -0 are one key (reads and
/// writes through either reach it, and a write stores the written key);
/// two different NaNs are never found, and each insert adds an entry.
fn testfloat_case<K: GoKey + Clone>(name: &str, pz: K, nz: K, nana: K, nanb: K, sign_of: impl Fn(&K) -> bool) {
    let mut m: GoMap<K, &str> = GoMap::new();
    m.insert(pz.clone(), "+0");
    m.insert(nana.clone(), "NaN");
    m.insert(nanb.clone(), "NaN");
    assert_eq!(m.get(&pz), Some(&"+0"), "{name} map cannot read back m[+0]");
    assert_eq!(m.get(&nz), Some(&"+0"), "{name} map does not treat -0 and +0 as equal for read");
    m.insert(nz.clone(), "-0");
    assert_eq!(m.get(&pz), Some(&"-0"), "{name} map does not treat -0 and +0 as equal for write");
    // The stored key is now -0 (NeedKeyUpdate).
    let zeros: Vec<bool> = m.iter().filter(|(_, v)| **v == "-0").map(|(k, _)| sign_of(k)).collect();
    assert_eq!(zeros, [true], "{name} map did not store the -0 key");
    assert!(m.get(&nana).is_none(), "{name} map allows NaN lookup (a)");
    assert!(m.get(&nanb).is_none(), "{name} map allows NaN lookup (b)");
    assert_eq!(m.len(), 3, "{name} map should have 3 entries");
    m.insert(nana, "NaN");
    m.insert(nanb, "NaN");
    assert_eq!(m.len(), 5, "{name} map should have 5 entries");
    check(&m);
}

/// test/map.go, `testfloat`, for float32, float64, complex64, complex128
/// (NaNs: Go's NaN and the NaN with bit 1 flipped; complex NaNs in the
/// imaginary part, -0 in the imaginary part).
#[test]
fn map_go_testfloat() {
    let nan32 = f64::NAN as f32;
    let nanb32 = f32::from_bits(nan32.to_bits() ^ 2);
    let nanb64 = f64::from_bits(f64::NAN.to_bits() ^ 2);
    testfloat_case("float32", 0.0f32, f32::from_bits(1 << 31), nan32, nanb32, |k| k.is_sign_negative());
    testfloat_case("float64", 0.0f64, f64::from_bits(1 << 63), f64::NAN, nanb64, |k| k.is_sign_negative());
    testfloat_case(
        "complex64",
        C64(0.0, 0.0),
        C64(0.0, f32::from_bits(1 << 31)),
        C64(5.0, nan32),
        C64(5.0, nanb32),
        |k| k.1.is_sign_negative(),
    );
    testfloat_case(
        "complex128",
        C128(0.0, 0.0),
        C128(0.0, f64::from_bits(1 << 63)),
        C128(5.0, f64::NAN),
        C128(5.0, nanb64),
        |k| k.1.is_sign_negative(),
    );
}

/// test/map.go, `testnan`, without the clock: n NaN inserts make n entries.
/// Its timing check (2n inserts take under 3x the time of n) is
/// `maplinear_go`'s NaN case, which counts operations instead.
#[test]
fn map_go_testnan() {
    let n = scale(30000, 300);
    let mut m: GoMap<f64, i64> = GoMap::new();
    for _ in 0..n {
        m.insert(f64::NAN, 1);
    }
    assert_eq!(m.len(), n, "wrong size map after nan insertion");
}

// --- test/maplinear.go ---

/// A descriptor whose hasher and equality forward to `inner`'s and count
/// their calls: the work a map does, measured without a clock.
struct Counted {
    inner: MapType,
    calls: AtomicUsize,
}

unsafe fn counted_hash(k: *const u8, seed: usize, ctx: *const ()) -> usize {
    // SAFETY: ctx is the descriptor's `Counted` (kept alive by it).
    let c = unsafe { &*ctx.cast::<Counted>() };
    c.calls.fetch_add(1, Ordering::Relaxed);
    // SAFETY: a key of `inner`'s type.
    unsafe { c.inner.hash(k, seed) }
}

unsafe fn counted_equal(a: *const u8, b: *const u8, ctx: *const ()) -> bool {
    // SAFETY: as above.
    let c = unsafe { &*ctx.cast::<Counted>() };
    c.calls.fetch_add(1, Ordering::Relaxed);
    // SAFETY: two keys of `inner`'s type.
    unsafe { c.inner.key_equal(a, b) }
}

/// What inserting keys `0..n` costs: hash and equality calls, and the shape
/// reached (B, and the longest bucket chain in either array).
fn insert_cost(inner: &MapType, n: usize, key: &dyn Fn(usize) -> Vec<u8>) -> (usize, u8, usize) {
    let c = Arc::new(Counted { inner: inner.duplicate(), calls: AtomicUsize::new(0) });
    let ctx = Arc::as_ptr(&c).cast::<()>();
    let b = MapTypeBuilder::new(inner.key(), inner.elem(), counted_hash, counted_equal)
        .reflexive(inner.reflexive_key())
        .need_key_update(inner.need_key_update());
    // SAFETY: the callbacks only read `Counted` (an atomic counter and an
    // immutable descriptor), which `owner` keeps alive.
    let t = unsafe { b.ctx(ctx, Some(c.clone())) }.build().unwrap();
    let h = map::makemap(&t, 0).unwrap();
    for i in 0..n {
        let k = key(i);
        // SAFETY: a live map of `t`; `k` is one key.
        let s = unsafe { map::mapassign(&t, h.as_ptr(), k.as_ptr()) }.unwrap();
        // SAFETY: the elem slot (an i64 in every case here).
        unsafe { s.elem.as_ptr().cast::<i64>().write(1) };
    }
    // SAFETY: a live map.
    let snap = unsafe { snapshot(&t, h) };
    assert_eq!(snap.header.count, n);
    let chains = snap.buckets.iter().chain(snap.oldbuckets.iter().flatten());
    let longest = chains.map(Vec::len).max().unwrap_or(0);
    let calls = c.calls.load(Ordering::Relaxed);
    // SAFETY: freed once.
    unsafe { map::mapfree(&t, h.as_ptr()) }.unwrap();
    (calls, snap.header.b, longest)
}

/// maplinear.go's `checkLinear`, counting instead of timing: inserting 2n
/// keys must cost under 3x the hash and equality calls of n (Go's bound on
/// the time: "should be 2x, allow up to 3x"); and the map must have the
/// shape of a well-spread map: B the smallest with n <= 6.5 * 2^B (what
/// the load factor gives for any n distinct keys) and no bucket chain
/// longer than 4 buckets (32 entries; for a random hash a bucket over 32
/// entries at <= 6.5 per bucket is a ~1e-12 event). A hash that sent keys
/// to few buckets (what made NaN inserts quadratic) breaks both.
fn check_linear(typ: &str, n: usize, t: &MapType, key: &dyn Fn(usize) -> Vec<u8>) {
    let want_b = |n: usize| (0u8..64).find(|&b| !map::over_load_factor(n as isize, b)).unwrap();
    let (c1, b1, l1) = insert_cost(t, n, key);
    let (c2, b2, l2) = insert_cost(t, 2 * n, key);
    assert!(c2 < 3 * c1, "{typ}: too slow: {n} inserts: {c1} calls; {} inserts: {c2} calls", 2 * n);
    assert_eq!((b1, b2), (want_b(n), want_b(2 * n)), "{typ}: B after {n} and {} inserts", 2 * n);
    assert!(l1 <= 4 && l2 <= 4, "{typ}: bucket chains of {l1} and {l2} buckets");
}

/// test/maplinear.go: inserts of NaNs (each a new entry), ints, strings,
/// float32, float64, complex64 and complex128 keys grow linearly (Go's
/// tries: 30000 NaNs, 10000 of the others). Not expressible: the `eface`
/// and `iface` cases (`map[interface{}]int`, `map[I]int`): gomap has no
/// interface keys.
#[test]
fn maplinear_go() {
    let i64t = TypeInfo::of::<i64>();
    let nan = f64::NAN;
    check_linear("NaN", scale(30000, 300), &MapType::f64_key(i64t).unwrap(), &|_| nan.to_le_bytes().to_vec());
    let n = scale(10000, 200);
    check_linear("int", n, &MapType::i64_key(i64t).unwrap(), &|i| (i as i64).to_le_bytes().to_vec());
    let strs: Vec<String> = (0..2 * n).map(|i| i.to_string()).collect();
    check_linear("string", n, &MapType::str_key(i64t).unwrap(), &|i| {
        let s = &strs[i];
        // The header is written as a pointer, not as its address's bytes,
        // so the key keeps the string's provenance (the map copies key
        // bytes with `copy_nonoverlapping`, which carries it along).
        let mut k = vec![0u8; size_of::<GoString>()];
        // SAFETY: `k` is exactly one `GoString` long; the write is unaligned.
        unsafe { k.as_mut_ptr().cast::<GoString>().write_unaligned(GoString::from_bytes(s.as_bytes())) };
        k
    });
    // The string keys above are headers over `strs`; the maps are gone now.
    check_linear("float32", n, &MapType::f32_key(i64t).unwrap(), &|i| (i as f32).to_le_bytes().to_vec());
    check_linear("float64", n, &MapType::f64_key(i64t).unwrap(), &|i| (i as f64).to_le_bytes().to_vec());
    check_linear("complex64", n, &MapType::c64_key(i64t).unwrap(), &|i| {
        [(i as f32).to_le_bytes(), (i as f32).to_le_bytes()].concat()
    });
    check_linear("complex128", n, &MapType::c128_key(i64t).unwrap(), &|i| {
        [(i as f64).to_le_bytes(), (i as f64).to_le_bytes()].concat()
    });
}

// --- test/mapclear.go ---

/// mapclear.go's `checkcleared`: a range loop deleting every key empties
/// the map, which then works normally.
#[test]
fn mapclear_go_checkcleared() {
    let mut m: GoMap<u8, i64> = GoMap::new();
    m.insert(1, 1);
    m.insert(2, 2);
    m.range(|m, k, _| {
        m.remove(&k);
        ControlFlow::Continue(())
    });
    assert_eq!(m.len(), 0, "len after map clear");
    m.insert(0, 0);
    assert_eq!(m.iter().count(), 1, "number of keys found");
    check(&m);
}

/// mapclear.go's `checkloopvars`: the loop variable keeps the last key.
#[test]
fn mapclear_go_checkloopvars() {
    let mut m: GoMap<i64, i64> = GoMap::new();
    m.insert(42, 0);
    let mut last = 0;
    m.range(|m, k, _| {
        last = k;
        m.remove(&k);
        ControlFlow::Continue(())
    });
    assert_eq!(last, 42, "var after range with side-effect");
}

/// mapclear.go's `checksideeffects`: a delete whose key expression has a
/// side effect runs once per entry, and so does the loop body.
#[test]
fn mapclear_go_checksideeffects() {
    let mut x = 0;
    let mut m: GoMap<i64, i64> = GoMap::new();
    m.insert(0, 0);
    m.insert(1, 1);
    m.range(|m, k, _| {
        x += 1;
        m.remove(&k);
        ControlFlow::Continue(())
    });
    assert_eq!(x, 2, "var after range with side-effect");
    assert_eq!(m.len(), 0);

    let mut n = 0;
    let mut m: GoMap<i64, i64> = GoMap::new();
    m.insert(0, 0);
    m.insert(1, 1);
    m.range(|m, k, _| {
        m.remove(&k);
        n += 1;
        ControlFlow::Continue(())
    });
    assert_eq!(n, 2, "counter for range with side-effect");
}

// --- test/fixedbugs ---

/// Fills a NaN-keyed map to 13 << 4 entries (the most 32 buckets hold) and
/// adds one more, which starts a growth to 64 buckets (Go 1.24.11: B = 5
/// not growing, then B = 6 growing; go-ref/cmd/portfacts).
fn nan_map_growing() -> GoMap<f64, i64> {
    let mut m: GoMap<f64, i64> = GoMap::new();
    const N: i64 = 13 << 4;
    for i in 0..N {
        m.insert(f64::NAN, i);
    }
    assert_eq!((hdr(&m).b, hdr(&m).growing), (5, false));
    m.insert(f64::NAN, N);
    assert_eq!((hdr(&m).b, hdr(&m).growing), (6, true));
    m
}

/// Issue 59411, `f`: clear during the iteration of a growing NaN map ends
/// the iteration and empties the map (Go's 100 rounds).
#[test]
fn issue59411() {
    for _ in 0..scale(100, 1) {
        let mut m = nan_map_growing();
        let mut i = 0;
        m.range(|m, _, _| {
            if i == 6 {
                m.clear();
            } else if i > 6 {
                panic!("BAD: iteration continued after clear");
            }
            i += 1;
            ControlFlow::Continue(())
        });
        assert_eq!(i, 7);
        assert_eq!(m.len(), 0, "clear did not empty the map");
        check(&m);
    }
}

/// Issue 59411, `g`: the same through reflect's `MapRange` and
/// `Value.Clear`, i.e. the generic `mapiterinit`/`mapiternext` and
/// `mapclear` (Go's 100 rounds).
#[test]
fn issue59411_reflect() {
    for _ in 0..scale(100, 1) {
        let m = nan_map_growing();
        let (t, h) = (m.map_type(), m.hmap().map_or(std::ptr::null_mut(), |h| h.as_ptr()));
        let mut it = HIter::new();
        let mut i = 0;
        // SAFETY: a live map; the iterator runs to its end.
        unsafe { map::mapiterinit(t, h, &mut it) };
        while !it.key.is_null() {
            if i == 6 {
                // SAFETY: a live map, not borrowed elsewhere.
                unsafe { map::mapclear(t, h) };
            } else if i > 6 {
                panic!("BAD: iteration continued after clear");
            }
            i += 1;
            // SAFETY: registered on the live map.
            unsafe { map::mapiternext(&mut it) };
        }
        assert_eq!(i, 7);
        assert_eq!(m.len(), 0, "clear did not empty the map");
        check(&m);
    }
}

/// Issue 62203: a clone of a map whose growth started and whose count then
/// fell back gets fewer buckets than the source's new array. Go's program
/// (48 string keys, "foo" added and deleted, clone) never grows in Go
/// 1.24.11: 48 entries already have 8 buckets, the 49th starts no growth
/// (go-ref/cmd/portfacts: B = 3 throughout, clone B = 3). The situation
/// the issue names arises at 52 entries: the 53rd starts an 8 -> 16 bucket
/// growth, deleting it leaves 52, and the clone gets 8 buckets (Go: source
/// B = 4 growing, clone B = 3). Both are checked, with the clone's entries.
#[test]
fn issue62203() {
    for (n, src_b, growing, clone_b) in [(48, 3, false, 3), (52, 4, true, 3)] {
        let mut m: GoMap<GoStr, ()> = GoMap::new();
        for i in 0..n {
            m.insert(GoStr::new(&i.to_string()), ());
        }
        m.insert("foo".into(), ());
        m.remove("foo");
        assert_eq!((hdr(&m).b, hdr(&m).growing), (src_b, growing), "{n}: source state differs from Go's");
        let c = m.clone();
        check(&c);
        assert_eq!((hdr(&c).b, hdr(&c).growing), (clone_b, false), "{n}: clone state differs from Go's");
        assert_eq!(c.len(), n);
        for i in 0..n {
            assert!(c.contains_key(&GoStr::new(&i.to_string())), "{n}: clone lost {i}");
        }
    }
}

/// Issue 69110: a clone taken during a same-size growth of a map that is
/// over its load factor (it cannot grow while growing) must not get a
/// bucket array larger than the source's (Go's program only checks that
/// the clone does not crash; 100 rounds of `map[int]int`, 4 buckets).
/// Asserted here: the clone has the source's B and is not growing (Go
/// 1.24.11: source B = 2 same-size growing with 27 entries -> clone B = 2;
/// when the extra insert finished the same-size growth and started a
/// doubling, source B = 3 -> clone B = 3), holds exactly the source's
/// entries, and the two are independent afterwards: writes to the clone
/// (updates, deletes, inserts) leave the original unchanged and vice
/// versa.
#[test]
fn issue69110() {
    let mut hit = 0;
    let mut over_capacity = 0;
    for _ in 0..scale(100, 3) {
        const NB: i64 = 4;
        let ne = NB * 13 / 2;
        let mut m: GoMap<i64, i64> = GoMap::new();
        for i in 0..ne {
            m.insert(i, i);
        }
        let mut ssg = false;
        for i in ne..ne + 1000 {
            m.remove(&(i - ne));
            m.insert(i, i);
            if hdr(&m).flags & map::SAME_SIZE_GROW != 0 {
                ssg = true;
                break;
            }
        }
        if !ssg {
            continue;
        }
        hit += 1;
        m.insert(-1, -1);
        let src = hdr(&m);
        if src.flags & map::SAME_SIZE_GROW != 0 {
            over_capacity += 1;
            assert!(map::over_load_factor(src.count as isize, src.b), "not over capacity: {src:?}");
        }
        let mut c = m.clone();
        check(&c);
        assert_eq!((hdr(&c).b, hdr(&c).growing), (src.b, false), "clone of {src:?}");
        let before: BTreeMap<i64, i64> = m.iter().map(|(k, v)| (*k, *v)).collect();
        assert_eq!(before.len(), m.len());
        assert_eq!(c.iter().map(|(k, v)| (*k, *v)).collect::<BTreeMap<_, _>>(), before, "clone contents");
        // Writes to the clone: update every entry, delete a third, insert.
        let keys: Vec<i64> = before.keys().copied().collect();
        for &k in &keys {
            c.insert(k, -k - 1000);
        }
        for &k in keys.iter().step_by(3) {
            c.remove(&k);
        }
        for k in 5000..5100 {
            c.insert(k, k);
        }
        check(&c);
        assert_eq!(m.iter().map(|(k, v)| (*k, *v)).collect::<BTreeMap<_, _>>(), before, "original changed");
        let clone_now: BTreeMap<i64, i64> = c.iter().map(|(k, v)| (*k, *v)).collect();
        // Writes to the original.
        for &k in &keys {
            m.insert(k, k + 7);
        }
        for k in 9000..9100 {
            m.insert(k, k);
        }
        check(&m);
        assert_eq!(c.iter().map(|(k, v)| (*k, *v)).collect::<BTreeMap<_, _>>(), clone_now, "clone changed");
    }
    assert!(hit > 0, "never reached a same-size grow");
    println!("same-size grows: {hit}, cloned over capacity: {over_capacity}");
}

/// Issue 70189: clear ends a live iteration even after new inserts.
#[test]
fn issue70189() {
    let mut m: GoMap<f64, i64> = GoMap::new();
    for i in 0..8 {
        m.insert(f64::NAN, i);
    }
    let mut start = true;
    m.range(|m, _, v| {
        if start {
            for i in 0..10 {
                m.insert(i as f64, i);
            }
            m.clear();
            start = false;
        } else {
            panic!("reached after clear: {v}");
        }
        ControlFlow::Continue(())
    });
    assert!(!start);
    assert_eq!(m.len(), 0);
}
