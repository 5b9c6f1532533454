//! Points of the Go-compatible contract (`docs/semantics.md`) that no other
//! test file checks directly. Each test names the point it pins down.

mod common;

use std::cell::Cell;
use std::collections::HashSet;
use std::ops::ControlFlow;

use common::map::{check, hdr};
use gomap::GoMap;
use gomap::fatal;
use gomap::inspect::{check_invariants, header};
use gomap::map::{self, HMap};
use gomap::maptype::{MapType, MapTypeBuilder, TypeInfo};

/// Iteration order: random per iteration, but a pure function of the map's
/// operations and the random draws (gomap's replay guarantee).
#[test]
fn iteration_order_is_a_function_of_the_draws() {
    let order = |seed: u64| {
        gomap::rand::with_source(gomap::rand::seeded(seed), || {
            let mut m: GoMap<u64, u64> = GoMap::new();
            for i in 0..100 {
                m.insert(i, i);
            }
            let a: Vec<u64> = m.keys().copied().collect();
            let b: Vec<u64> = m.keys().copied().collect();
            (a, b)
        })
    };
    let (a1, b1) = order(7);
    let (a2, b2) = order(7);
    assert_eq!((&a1, &b1), (&a2, &b2), "same draws, same orders");
    // two iterations of one map start at different places (with these draws)
    assert_ne!(a1, b1);
    let mut sorted = a1.clone();
    sorted.sort();
    assert_eq!(sorted, (0..100).collect::<Vec<_>>());
}

/// Entries inserted during iteration may or may not be produced, but no
/// entry is produced twice, and every entry present throughout is produced,
/// across the growth the inserts cause.
#[test]
fn entries_added_during_iteration_are_produced_at_most_once() {
    for round in 0..20u64 {
        let mut m: GoMap<u64, u64> = GoMap::new();
        for i in 0..50 {
            m.insert(i, i);
        }
        let mut seen = HashSet::new();
        let mut next = 1000 + round * 10_000;
        m.range(|m, k, _| {
            assert!(seen.insert(k), "key {k} produced twice");
            for _ in 0..5 {
                m.insert(next, next);
                next += 1;
            }
            ControlFlow::Continue(())
        });
        for i in 0..50 {
            assert!(seen.contains(&i), "round {round}: original key {i} not produced");
        }
        assert!(hdr(&m).b > 3, "the inserts grew the map");
        check(&m);
    }
}

/// An entry produced after it was updated shows its current value, also
/// when the map grew in between (the iterator re-looks it up).
#[test]
fn iteration_sees_updates_made_during_the_loop() {
    for grow in [false, true] {
        let mut m: GoMap<u64, u64> = GoMap::new();
        for i in 0..40 {
            m.insert(i, i);
        }
        let mut first = true;
        let mut got = Vec::new();
        m.range(|m, k, v| {
            if first {
                first = false;
                if grow {
                    for i in 1000..1100 {
                        m.insert(i, i);
                    }
                }
                for i in 0..40 {
                    if i != k {
                        m.insert(i, i + 500);
                    }
                }
            } else if k < 40 {
                got.push((k, v));
            }
            ControlFlow::Continue(())
        });
        assert_eq!(got.len(), 39, "grow={grow}");
        for (k, v) in got {
            assert_eq!(v, k + 500, "grow={grow}: stale value for {k}");
        }
    }
}

/// NaN keys: delete cannot remove them (NaN != NaN), only clear can.
#[test]
fn nan_keys_cannot_be_deleted_only_cleared() {
    let mut m: GoMap<f64, u32> = GoMap::new();
    for i in 0..20 {
        m.insert(f64::NAN, i);
    }
    m.insert(1.5, 99);
    assert_eq!(m.remove(&f64::NAN), None);
    assert_eq!(m.len(), 21);
    assert_eq!(m.iter().filter(|(k, _)| k.is_nan()).count(), 20);
    assert_eq!(m.remove(&1.5), Some(99));
    m.clear();
    assert_eq!(m.len(), 0);
    assert_eq!(m.iter().count(), 0);
    check(&m);
}

/// clear keeps the bucket array (no shrinking), draws a new hash seed and
/// bumps clearSeq; the map is then empty and usable.
#[test]
fn clear_keeps_the_bucket_array_and_reseeds() {
    gomap::rand::with_source(gomap::rand::seeded(3), || {
        let mut m: GoMap<u64, u64> = GoMap::new();
        for i in 0..1000 {
            m.insert(i, i);
        }
        let before = hdr(&m);
        m.clear();
        let after = hdr(&m);
        assert_eq!(after.count, 0);
        assert_eq!(after.b, before.b, "clear does not shrink");
        assert_eq!(after.array_buckets, before.array_buckets);
        assert_ne!(after.hash0, before.hash0, "clear draws a new seed");
        assert_eq!(after.clear_seq, before.clear_seq + 1);
        assert_eq!(after.noverflow, 0);
        m.insert(5, 5);
        assert_eq!(m.get(&5), Some(&5));
        check(&m);
    });
}

/// Deleting entries never shrinks the map: B and the bucket array stay.
/// (Shrinking happens only when asked: `GoMap::shrink_to_fit`, src/shrink.rs.)
#[test]
fn deletes_never_shrink() {
    let mut m: GoMap<u64, u64> = GoMap::new();
    for i in 0..5000 {
        m.insert(i, i);
    }
    let before = hdr(&m);
    for i in 0..5000 {
        m.remove(&i);
    }
    let after = hdr(&m);
    assert_eq!(after.count, 0);
    assert_eq!((after.b, after.array_buckets), (before.b, before.array_buckets));
    check(&m);
}

/// Deleting the last entry draws a new hash seed (Go issue 25237).
#[test]
fn emptying_by_delete_reseeds() {
    gomap::rand::with_source(gomap::rand::seeded(11), || {
        let mut m: GoMap<u64, u64> = GoMap::new();
        m.insert(1, 1);
        m.insert(2, 2);
        let h0 = hdr(&m).hash0;
        m.remove(&1);
        assert_eq!(hdr(&m).hash0, h0, "not empty yet: same seed");
        m.remove(&2);
        assert_ne!(hdr(&m).hash0, h0, "emptied: new seed");
        // deleting from an empty map draws nothing and changes nothing
        let h1 = hdr(&m).hash0;
        m.remove(&3);
        assert_eq!(hdr(&m).hash0, h1);
    });
}

/// A missing key reads as the zero value (mapaccess1), never as an error.
#[test]
fn missing_keys_read_as_zero() {
    let m: GoMap<u64, u64> = GoMap::new();
    let k = 42u64;
    // SAFETY: null (no hmap before the first write: a nil map) or a live
    // map of u64 -> u64; the result points to the zero value.
    let v = unsafe {
        map::mapaccess1(m.map_type(), m.hmap().map_or(std::ptr::null_mut(), |h| h.as_ptr()), (&raw const k).cast())
    }
    .unwrap();
    // SAFETY: a u64-sized zero value.
    assert_eq!(unsafe { v.cast::<u64>().read() }, 0);
    // and through a nil map
    // SAFETY: a null map is Go's nil map.
    let v = unsafe { map::mapaccess1(m.map_type(), std::ptr::null(), (&raw const k).cast()) }.unwrap();
    // SAFETY: as above.
    assert_eq!(unsafe { v.cast::<u64>().read() }, 0);
}

thread_local! {
    /// The map to clone from inside the hasher, and how many hash calls to
    /// let pass first.
    static CLONE_DURING_WRITE: Cell<(*mut HMap, u32)> = const { Cell::new((std::ptr::null_mut(), 0)) };
}

fn plain_hash_type() -> MapType {
    MapTypeBuilder::new(TypeInfo::of::<u64>(), TypeInfo::of::<u64>(), reentrant_hash, plain_equal).build().unwrap()
}

unsafe fn plain_equal(a: *const u8, b: *const u8, _: *const ()) -> bool {
    // SAFETY: u64 keys.
    unsafe { a.cast::<u64>().read_unaligned() == b.cast::<u64>().read_unaligned() }
}

/// Hashes u64 keys; when armed, clones the armed map first (the misuse).
unsafe fn reentrant_hash(k: *const u8, seed: usize, _: *const ()) -> usize {
    let (h, skip) = CLONE_DURING_WRITE.with(Cell::get);
    if !h.is_null() && skip > 0 {
        CLONE_DURING_WRITE.with(|c| c.set((h, skip - 1)));
    } else if !h.is_null() {
        CLONE_DURING_WRITE.with(|c| c.set((std::ptr::null_mut(), 0)));
        let t = plain_hash_type();
        // SAFETY: the map is live; cloning it during its own write is the
        // misuse under test, detected before anything is read.
        if let Ok(c) = unsafe { map::mapclone2(&t, h) } {
            // SAFETY: the clone is ours.
            unsafe { map::mapfree(&t, c.as_ptr()) }.unwrap();
        }
    }
    // SAFETY: a u64 key.
    unsafe { gomap::alg::memhash64(k, seed) }
}

/// Cloning a map while it is being written is Go's fatal
/// "concurrent map clone and map write" (mapclone2 :1654).
#[test]
fn clone_during_a_write_is_fatal() {
    let t = plain_hash_type();
    let h = map::makemap(&t, 0).unwrap();
    let put = |k: u64| {
        // SAFETY: a live map of u64 -> u64.
        let s = unsafe { map::mapassign(&t, h.as_ptr(), (&raw const k).cast()) }.unwrap();
        // SAFETY: a u64 elem slot.
        unsafe { s.elem.as_ptr().cast::<u64>().write(k) };
    };
    for k in 0..20 {
        put(k);
    }
    // mapassign hashes its key before it marks the write, so the clone is
    // armed for the hash call after that one: during a doubling growth,
    // evacuate hashes the entries it moves inside the write.
    let r = common::catch_fatal(|| {
        let mut k = 1000;
        loop {
            // SAFETY: a live map.
            let growing = unsafe { header(&t, h) }.growing;
            if growing {
                CLONE_DURING_WRITE.with(|c| c.set((h.as_ptr(), 1)));
            }
            put(k);
            k += 1;
            assert!(k < 100_000, "never reached growth work");
        }
    });
    CLONE_DURING_WRITE.with(|c| c.set((std::ptr::null_mut(), 0)));
    let msg = r.expect_err("the clone during a write was not detected");
    assert_eq!(msg, fatal::CONCURRENT_CLONE_WRITE);
    assert_eq!(fatal::CONCURRENT_CLONE_WRITE, "concurrent map clone and map write");
    // SAFETY: the write flag was cleared on unwind; the map is intact.
    unsafe { check_invariants(&t, h) }.unwrap();
    // SAFETY: freed once; no iterators.
    unsafe { map::mapfree(&t, h.as_ptr()) }.unwrap();
}

unsafe fn u64_hash(k: *const u8, seed: usize, _: *const ()) -> usize {
    // SAFETY: a u64 key.
    unsafe { gomap::alg::memhash64(k, seed) }
}

/// Keys whose type cannot be hashed (Go: an interface holding a slice)
/// are rejected the way Go panics: `MapError::UnhashableKey`, with Go's
/// message; even on nil and empty maps (Go's mapKeyError), and the map is
/// unchanged.
#[test]
fn unhashable_keys_are_errors() {
    unsafe fn odd_is_unhashable(k: *const u8, _: *const ()) -> bool {
        // SAFETY: a u64 key.
        let v = unsafe { k.cast::<u64>().read_unaligned() };
        v % 2 == 0
    }
    let t = MapTypeBuilder::new(TypeInfo::of::<u64>(), TypeInfo::of::<u64>(), u64_hash, plain_equal)
        .key_check(odd_is_unhashable)
        .build()
        .unwrap();
    assert!(t.hash_might_panic());
    let bad = 3u64;
    let good = 4u64;
    // SAFETY: a null map is Go's nil map; keys of t.
    unsafe {
        assert_eq!(
            map::mapaccess2(&t, std::ptr::null(), (&raw const bad).cast()).unwrap_err(),
            gomap::fatal::MapError::UnhashableKey
        );
        assert_eq!(
            map::mapdelete(&t, std::ptr::null_mut(), (&raw const bad).cast()).unwrap_err(),
            gomap::fatal::MapError::UnhashableKey
        );
    }
    let h = map::makemap(&t, 0).unwrap();
    // SAFETY: a live map of t; keys of t.
    unsafe {
        assert_eq!(
            map::mapaccess2(&t, h.as_ptr(), (&raw const bad).cast()).unwrap_err(),
            gomap::fatal::MapError::UnhashableKey
        );
        let s = map::mapassign(&t, h.as_ptr(), (&raw const good).cast()).unwrap();
        s.elem.as_ptr().cast::<u64>().write(1);
        let e = map::mapassign(&t, h.as_ptr(), (&raw const bad).cast()).unwrap_err();
        assert_eq!(e, gomap::fatal::MapError::UnhashableKey);
        assert_eq!(e.to_string(), "runtime error: hash of unhashable type");
        assert_eq!(
            map::mapdelete(&t, h.as_ptr(), (&raw const bad).cast()).unwrap_err(),
            gomap::fatal::MapError::UnhashableKey
        );
        assert_eq!(header(&t, h).count, 1);
        check_invariants(&t, h).unwrap();
        map::mapfree(&t, h.as_ptr()).unwrap();
    }
}

/// A value that counts its drops, for ownership checks.
#[derive(Clone)]
struct Tracked {
    id: u64,
    drops: std::rc::Rc<Cell<usize>>,
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.drops.set(self.drops.get() + 1);
    }
}

/// An elem over 128 bytes: stored out of line (indirect elem, generic paths).
#[derive(Clone)]
struct BigTracked {
    t: Tracked,
    pad: [u64; 20],
}

/// `remove` moves the value out of the map with one delete (gomap's
/// `mapdelete*_into`): the caller gets the value, the map drops nothing for
/// it, and every value is dropped exactly once in the end. Covers the four
/// delete paths: fast32 (`u32`), fast64 (`u64`), faststr (`GoStr`) and the
/// generic one (`String` keys; `BigTracked` elems, stored out of line).
#[test]
fn remove_moves_the_value_out_exactly_once() {
    fn run<K: gomap::GoKey + Clone, V>(key: impl Fn(u64) -> K, val: impl Fn(Tracked) -> V, id: impl Fn(&V) -> u64) {
        let drops = std::rc::Rc::new(Cell::new(0));
        let n = if cfg!(miri) { 40 } else { 400 };
        let mut m: GoMap<K, V> = GoMap::new();
        for i in 0..n {
            m.insert(key(i), val(Tracked { id: i, drops: drops.clone() }));
        }
        check(&m);
        for i in (0..n).step_by(3) {
            let v = m.remove(&key(i)).expect("present");
            assert_eq!(id(&v), i);
            assert_eq!(drops.get(), (i / 3) as usize, "the map dropped a removed value");
            drop(v);
            assert_eq!(drops.get(), (i / 3 + 1) as usize);
            assert!(m.remove(&key(i)).is_none());
        }
        check(&m);
        let removed = drops.get();
        assert_eq!(m.len() + removed, n as usize);
        for i in 0..n {
            assert_eq!(m.get(&key(i)).map(&id), (i % 3 != 0).then_some(i));
        }
        drop(m);
        assert_eq!(drops.get(), n as usize, "every value dropped exactly once");
    }
    run(|i| i as u32, |t| t, |v| v.id);
    run(|i| i, |t| t, |v| v.id);
    run(|i| gomap::GoStr::new(&format!("k{i}")), |t| t, |v| v.id);
    run(|i| format!("k{i}"), |t| t, |v| v.id);
    run(
        |i| i,
        |t| BigTracked { t, pad: [7; 20] },
        |v| {
            assert_eq!(v.pad, [7; 20]);
            v.t.id
        },
    );
    run(|i| format!("k{i}"), |t| BigTracked { t, pad: [7; 20] }, |v| v.t.id);
}
