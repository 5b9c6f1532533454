//! Shrinking (`gomap::shrink`): the layout a shrink leaves equals a fresh
//! `makemap(t, hint)` filled with the same entries in shrink order; memory is
//! given back; iteration, growth and clear keep Go's semantics afterwards;
//! live iterators make it refuse; every failed allocation leaves the map as it
//! was; drop hooks run exactly once; the automatic policy is off by default
//! and does what it says when on. Invariants are checked after every step.

mod common;

use std::cell::Cell;
use std::collections::{BTreeMap, HashSet};
use std::ops::ControlFlow;
use std::ptr::NonNull;
use std::rc::Rc;

use common::alloc::{Counter, allocs, counting, failing_nth, live_blocks};
use common::map::{check, hdr};
use gomap::GoMap;
use gomap::fatal::MapError;
use gomap::inspect::{Snapshot, check_invariants, header, snapshot};
use gomap::map::{self, EVACUATED_X, HIter, HMap, MIN_TOP_HASH, SAME_SIZE_GROW};
use gomap::maptype::{MapType, TypeInfo};
use gomap::shrink::{self, ShrinkPolicy, bucket_bits_for_hint, capacity, shrink_hint};

/// Scale a size down under Miri (`common::scale`) and, unlike the other
/// test files, in debug builds too: these workloads are slow unoptimised.
fn scale(release: usize, debug: usize, miri: usize) -> usize {
    common::scale(if cfg!(debug_assertions) { debug } else { release }, miri)
}

// ---------------------------------------------------------------------------
// A raw map over byte keys and elems, with a model
// ---------------------------------------------------------------------------

/// Key and elem types under test.
struct Kind {
    name: &'static str,
    t: MapType,
    key: fn(u64) -> Vec<u8>,
    elem: fn(u64) -> Vec<u8>,
}

fn u64_kind() -> Kind {
    Kind {
        name: "u64->u64",
        t: MapType::u64_key(TypeInfo::of::<u64>()).unwrap(),
        key: |k| k.to_le_bytes().to_vec(),
        elem: |k| (k.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1).to_le_bytes().to_vec(),
    }
}

/// Keys and elems stored out of line (200-byte keys, 136-byte elems).
fn indirect_kind() -> Kind {
    let t = MapType::bytes_key(200, TypeInfo { size: 136, align: 8, pointers: false }).unwrap();
    assert!(t.indirect_key() && t.indirect_elem());
    Kind {
        name: "[200]byte->[136]byte",
        t,
        key: |k| {
            let mut v = vec![0xa5u8; 200];
            v[..8].copy_from_slice(&k.to_le_bytes());
            v[192..].copy_from_slice(&(!k).to_le_bytes());
            v
        },
        elem: |k| {
            let mut v = vec![0u8; 136];
            v[..8].copy_from_slice(&k.to_le_bytes());
            v[128..].copy_from_slice(&k.wrapping_mul(31).to_le_bytes());
            v
        },
    }
}

/// A pointerful bucket type (different size-class rounding of arrays).
fn ptr_kind() -> Kind {
    Kind {
        name: "ptr->u32",
        t: MapType::ptr_key(TypeInfo::of::<u32>()).unwrap(),
        key: |k| (k.wrapping_mul(8) + 8).to_le_bytes().to_vec(),
        elem: |k| (k as u32 ^ 0xdead_beef).to_le_bytes().to_vec(),
    }
}

/// The kinds under test (the pointerful one is left to native runs under
/// Miri, which is slow: it shares every code path with the other two).
fn kinds() -> Vec<Kind> {
    if cfg!(miri) { vec![u64_kind(), indirect_kind()] } else { vec![u64_kind(), indirect_kind(), ptr_kind()] }
}

struct Raw<'a> {
    k: &'a Kind,
    h: NonNull<HMap>,
    model: BTreeMap<u64, Vec<u8>>,
    /// This map's memory (outlives the map: `Drop` frees the map first).
    mem: Rc<Counter>,
}

impl<'a> Raw<'a> {
    fn new(k: &'a Kind, hint: isize) -> Self {
        let mem = Rc::<Counter>::default();
        let h = map::makemap_in(&k.t, hint, &counting(Some(&mem))).unwrap();
        Raw { k, h, model: BTreeMap::new(), mem }
    }
    /// Bytes of every live block of this map (headers not included).
    fn bytes(&self) -> isize {
        self.mem.bytes.get()
    }
    /// Bytes of its tables alone: hmap, bucket arrays, overflow buckets (not
    /// the out-of-line keys and elems).
    fn table_bytes(&self) -> isize {
        let per = |indirect: bool, size: usize| if indirect { (size.next_multiple_of(8) + 16) as isize } else { 0 };
        self.bytes()
            - self.len() as isize
                * (per(self.k.t.indirect_key(), self.k.t.key().size)
                    + per(self.k.t.indirect_elem(), self.k.t.elem().size))
    }
    fn put(&mut self, key: u64) -> Result<(), MapError> {
        let kb = (self.k.key)(key);
        let eb = (self.k.elem)(key);
        // SAFETY: a live map of type t; a key of t's size.
        let s = unsafe { map::mapassign(&self.k.t, self.h.as_ptr(), kb.as_ptr()) }?;
        // SAFETY: an elem slot of the elem's size.
        unsafe { std::ptr::copy_nonoverlapping(eb.as_ptr(), s.elem.as_ptr(), eb.len()) };
        self.model.insert(key, eb);
        Ok(())
    }
    fn del(&mut self, key: u64) {
        let kb = (self.k.key)(key);
        // SAFETY: as in `put`.
        unsafe { map::mapdelete(&self.k.t, self.h.as_ptr(), kb.as_ptr()) }.unwrap();
        self.model.remove(&key);
    }
    fn clear(&mut self) {
        // SAFETY: a live map.
        unsafe { map::mapclear(&self.k.t, self.h.as_ptr()) };
        self.model.clear();
    }
    fn shrink(&mut self, min_capacity: usize) -> Result<(), MapError> {
        // SAFETY: a live map of type t, on this thread only.
        unsafe { shrink::mapshrink(&self.k.t, self.h.as_ptr(), min_capacity) }
    }
    fn snap(&self) -> Snapshot {
        // SAFETY: a live map, not being written.
        unsafe { snapshot(&self.k.t, self.h) }
    }
    fn hdr(&self) -> gomap::inspect::Header {
        // SAFETY: a live map.
        unsafe { header(&self.k.t, self.h) }
    }
    fn len(&self) -> usize {
        // SAFETY: a live map.
        unsafe { self.h.as_ref() }.len()
    }
    /// Invariants, count, every model entry found with its elem, and a full
    /// iteration producing exactly the model.
    fn verify(&self) {
        // SAFETY: a live map, not being written.
        unsafe { check_invariants(&self.k.t, self.h) }.unwrap_or_else(|e| panic!("{}: {e}", self.k.name));
        assert_eq!(self.len(), self.model.len());
        let esize = self.k.t.elem().size;
        for (&key, eb) in &self.model {
            let kb = (self.k.key)(key);
            // SAFETY: a live map; a key of t.
            let (e, ok) = unsafe { map::mapaccess2(&self.k.t, self.h.as_ptr(), kb.as_ptr()) }.unwrap();
            assert!(ok, "{}: key {key} lost", self.k.name);
            // SAFETY: an elem of esize bytes.
            assert_eq!(unsafe { std::slice::from_raw_parts(e, esize) }, &eb[..]);
        }
        let mut it = HIter::new();
        let mut seen = HashSet::new();
        // SAFETY: a live map; the iterator runs to its end (which ends it).
        unsafe { map::mapiterinit(&self.k.t, self.h.as_ptr(), &mut it) };
        while !it.key.is_null() {
            // SAFETY: the iterator points at a live key of t.
            let kb = unsafe { std::slice::from_raw_parts(it.key, self.k.t.key().size) }.to_vec();
            assert!(seen.insert(kb), "{}: entry produced twice", self.k.name);
            // SAFETY: a registered iterator on a live map.
            unsafe { map::mapiternext(&mut it) };
        }
        assert_eq!(seen.len(), self.model.len(), "{}: iteration missed entries", self.k.name);
    }
}

impl Drop for Raw<'_> {
    fn drop(&mut self) {
        // SAFETY: a live map with no live iterator.
        unsafe { map::mapfree(&self.k.t, self.h.as_ptr()) }.unwrap();
    }
}

/// The live entries of a snapshot in shrink order: the current array's
/// chains in bucket order, then the old buckets not yet evacuated.
fn shrink_order(s: &Snapshot) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut out = Vec::new();
    let mut chain = |chain: &[gomap::inspect::Bucket]| {
        for b in chain {
            for j in 0..8 {
                if b.tophash[j] >= MIN_TOP_HASH {
                    out.push((b.keys[j].clone().unwrap(), b.elems[j].clone().unwrap()));
                }
            }
        }
    };
    for c in &s.buckets {
        chain(c);
    }
    for c in s.oldbuckets.iter().flatten() {
        if !(EVACUATED_X..MIN_TOP_HASH).contains(&c[0].tophash[0]) {
            chain(c);
        }
    }
    out
}

/// `makemap(t, hint)` with seed `hash0`, then `mapassign` of every entry in
/// order: the map a shrink must be indistinguishable from.
fn fresh_fill(t: &MapType, entries: &[(Vec<u8>, Vec<u8>)], hint: usize, hash0: u32, mem: &Counter) -> NonNull<HMap> {
    let a = counting(Some(mem));
    let h = gomap::rand::with_source(gomap::rand::scripted(vec![u64::from(hash0)]), || {
        map::makemap_in(t, hint as isize, &a)
    })
    .unwrap();
    for (k, e) in entries {
        // SAFETY: a live map of type t; key and elem of t's sizes.
        unsafe {
            let s = map::mapassign(t, h.as_ptr(), k.as_ptr()).unwrap();
            assert!(s.inserted);
            std::ptr::copy_nonoverlapping(e.as_ptr(), s.elem.as_ptr(), e.len());
        }
    }
    h
}

/// The first difference between two snapshots, for failure messages.
fn diff(a: &Snapshot, b: &Snapshot) -> String {
    if a.header != b.header {
        return format!("header {:?} != {:?}", a.header, b.header);
    }
    for (i, (x, y)) in a.buckets.iter().zip(&b.buckets).enumerate() {
        if x != y {
            return format!("bucket {i}: {x:?} != {y:?}");
        }
    }
    format!("old buckets {:?} != {:?}", a.oldbuckets.is_some(), b.oldbuckets.is_some())
}

/// Shrinks `m` to `min_capacity` and checks the result against a fresh fill
/// (layout, then memory to the byte), then the map's behaviour.
fn shrink_and_compare(m: &mut Raw<'_>, min_capacity: usize) {
    let before = m.snap();
    let entries = shrink_order(&before);
    assert_eq!(entries.len(), m.len());
    let hint = shrink_hint(before.header.count, before.header.b, min_capacity);
    m.shrink(min_capacity).unwrap();
    let mut got = m.snap(); // before verify(), whose iteration sets the iterator flags
    m.verify();
    assert_eq!(got.header.b, bucket_bits_for_hint(hint));
    assert_eq!(got.header.hash0, before.header.hash0, "hash0 kept");
    assert_eq!(got.header.clear_seq, before.header.clear_seq, "clearSeq kept");

    let mem = Counter::default();
    let r = fresh_fill(&m.k.t, &entries, hint, before.header.hash0, &mem);
    // SAFETY: a live map.
    let want = unsafe { snapshot(&m.k.t, r) };
    got.header.clear_seq = want.header.clear_seq;
    assert!(
        got == want,
        "{}: layout differs from a fresh fill (min_capacity {min_capacity}): {}",
        m.k.name,
        diff(&got, &want)
    );
    // The same memory as the fresh map, block for block, byte for byte.
    assert_eq!((m.bytes(), m.mem.blocks.get()), (mem.bytes.get(), mem.blocks.get()), "{}: memory", m.k.name);
    // SAFETY: frees the reference (its own key/elem copies included).
    unsafe { map::mapfree(&m.k.t, r.as_ptr()) }.unwrap();
}

/// Inserts `0..n`, deletes all keys but every `keep`-th.
fn filled(k: &Kind, n: u64, keep: u64) -> Raw<'_> {
    let mut m = Raw::new(k, 0);
    for i in 0..n {
        m.put(i).unwrap();
    }
    for i in 0..n {
        if i % keep != 0 {
            m.del(i);
        }
    }
    m.verify();
    m
}

/// Inserts until the map is growing to double size, then `extra` more
/// inserts and `deletes` deletes (every 7th key); returns it mid-growth.
fn growing(k: &Kind, extra: u64, deletes: usize) -> Raw<'_> {
    let mut m = Raw::new(k, 0);
    let threshold = scale(3000, 3000, 200) as u64;
    let mut i = 0;
    loop {
        m.put(i).unwrap();
        i += 1;
        if m.hdr().growing && i > threshold {
            break;
        }
    }
    for _ in 0..extra {
        m.put(i).unwrap();
        i += 1;
    }
    for j in (0..i).step_by(7).take(deletes) {
        m.del(j);
    }
    assert!(m.hdr().growing, "{}: growth finished too early", k.name);
    m.verify();
    m
}

/// Churns (insert a new key, delete an old one) near the load factor until a
/// same-size growth starts; `None` if it did not within the budget.
fn same_size_growing(k: &Kind) -> Option<Raw<'_>> {
    let mut m = Raw::new(k, 0);
    // 200 (100 under Miri) entries at B = 5 (4): full enough that overflow
    // buckets pile up within a few hundred operations.
    let n = scale(200, 200, 100) as u64;
    for i in 0..n {
        m.put(i).unwrap();
    }
    for i in n..n + scale(200_000, 200_000, 20_000) as u64 {
        m.put(i).unwrap();
        m.del(i - n);
        let h = m.hdr();
        if h.growing && h.flags & SAME_SIZE_GROW != 0 {
            m.verify();
            return Some(m);
        }
    }
    None
}

fn seeded<R>(seed: u64, body: impl FnOnce() -> R) -> R {
    gomap::rand::with_source(gomap::rand::seeded(seed), body)
}

// ---------------------------------------------------------------------------
// Layout equality
// ---------------------------------------------------------------------------

#[test]
fn shrunk_layout_equals_fresh_fill() {
    let n = scale(6000, 3000, 120) as u64;
    for k in kinds() {
        seeded(1, || {
            // Mostly deleted: tombstones, long chains, overflow buckets.
            for (keep, min_cap) in [(10, 0), (10, 200), (10, usize::MAX), (3, 0), (1, 0), (97, 0), (1, 5)] {
                let mut m = filled(&k, n, keep);
                shrink_and_compare(&mut m, min_cap);
                // Shrinking a shrunk map: same entries per bucket, in the
                // same order (which overflow bucket a chain gets can differ:
                // the insertion order differs).
                let s = m.snap();
                shrink_and_compare(&mut m, min_cap);
                let chains = |s: &Snapshot| -> Vec<Vec<(u8, Option<Vec<u8>>)>> {
                    let slots = |c: &Vec<gomap::inspect::Bucket>| {
                        c.iter().flat_map(|b| b.tophash.into_iter().zip(b.keys.clone())).collect()
                    };
                    s.buckets.iter().map(slots).collect()
                };
                assert!(chains(&m.snap()) == chains(&s));
            }
            // B = 0 with entries; empty map (array freed: buckets null).
            let mut m = filled(&k, 20, 5);
            shrink_and_compare(&mut m, 0);
            assert_eq!(m.hdr().b, 0);
            let mut m = filled(&k, 200, 1);
            for i in 0..200 {
                m.del(i);
            }
            shrink_and_compare(&mut m, 0);
            assert_eq!(m.hdr().array_buckets, 0, "an empty shrunk map has no bucket array");
            let mut m = filled(&k, 200, 1);
            m.clear();
            shrink_and_compare(&mut m, 100);
            assert_eq!(m.hdr().b, bucket_bits_for_hint(100));
        });
    }
}

#[test]
fn growing_maps_fold_the_old_buckets_in() {
    for k in kinds() {
        seeded(2, || {
            // Just after a doubling started: old buckets need hashing (the
            // new B has one more bit than theirs)...
            let extras = if cfg!(miri) { [0, 2, 4] } else { [0, 5, 40] };
            for (extra, deletes, min_cap) in
                [(extras[0], 0, 0), (extras[1], 0, 0), (extras[2], 0, 0), (extras[0], 0, 1 << 20)]
            {
                let mut m = growing(&k, extra, deletes);
                shrink_and_compare(&mut m, min_cap);
                assert!(!m.hdr().growing);
            }
            // ...unless a few deletes brought the count back to what the old
            // size holds: then nothing is hashed and both arrays shrink.
            for (extra, deletes, min_cap) in [(0, 10, 0), (extras[1], extras[1] as usize + 3, 0), (0, 10, 40)] {
                let mut m = growing(&k, extra, deletes);
                let old_b = m.hdr().b - 1;
                shrink_and_compare(&mut m, min_cap);
                assert!(m.hdr().b <= old_b);
            }
        });
        // Same-size growth.
        let m = seeded(3, || same_size_growing(&k));
        let mut m = m.unwrap_or_else(|| panic!("{}: no same-size growth", k.name));
        let extra = m.model.keys().max().unwrap() + 1;
        // While it lasts, push the count over the load factor: the shrink
        // must then pick a larger B (every entry hashed).
        let b = m.hdr().b;
        let mut i = extra;
        while m.hdr().growing && m.len() <= capacity(b) {
            m.put(i).unwrap();
            i += 1;
        }
        m.verify();
        shrink_and_compare(&mut m, 0);
    }
}

#[test]
fn same_size_growth_shrink_without_overload() {
    for k in [u64_kind(), indirect_kind()] {
        let m = seeded(4, || same_size_growing(&k));
        let mut m = m.unwrap_or_else(|| panic!("{}: no same-size growth", k.name));
        shrink_and_compare(&mut m, 0);
    }
}

// ---------------------------------------------------------------------------
// Memory: churn, then shrink
// ---------------------------------------------------------------------------

#[test]
fn churn_gives_memory_back() {
    let n = scale(1_000_000, 50_000, 1500) as u64;
    for k in [u64_kind(), indirect_kind()] {
        let n = if k.t.indirect_key() { n / 5 } else { n };
        let blocks = live_blocks();
        let mut m = seeded(5, || filled(&k, n, 100));
        let (before, tables_before, b_before) = (m.bytes(), m.table_bytes(), m.hdr().b);
        let t0 = std::time::Instant::now();
        m.shrink(0).unwrap();
        let dt = t0.elapsed();
        m.verify();
        println!(
            "{}: {n} inserted, {} kept: B {} -> {}, map {} -> {} bytes (tables {} -> {}), shrink {:?}",
            k.name,
            m.len(),
            b_before,
            m.hdr().b,
            before,
            m.bytes(),
            tables_before,
            m.table_bytes(),
            dt
        );
        assert!(m.hdr().b < b_before);
        let factor = if cfg!(miri) { 4 } else { 40 };
        assert!(m.table_bytes() * factor < tables_before, "tables should shrink about 64-fold");
        // Exactly what a fresh map of the same entries takes.
        let entries = shrink_order(&m.snap());
        let mem = Counter::default();
        let r = fresh_fill(&k.t, &entries, entries.len(), m.hdr().hash0, &mem);
        assert_eq!(m.bytes(), mem.bytes.get(), "{}: a shrunk map takes what a fresh one takes", k.name);
        // SAFETY: frees the reference.
        unsafe { map::mapfree(&k.t, r.as_ptr()) }.unwrap();
        // And it still works, growth included.
        for i in n..n + n / 50 {
            m.put(i).unwrap();
        }
        m.verify();
        drop(m);
        assert_eq!(live_blocks(), blocks, "leak");
    }
}

// ---------------------------------------------------------------------------
// Semantics after a shrink
// ---------------------------------------------------------------------------

#[test]
fn iteration_growth_and_clear_after_shrink() {
    let n = scale(20_000, 4000, 150) as u64;
    for k in [u64_kind(), indirect_kind()] {
        seeded(6, || {
            let mut m = filled(&k, n, 7);
            m.shrink(0).unwrap();
            m.verify(); // iteration produces exactly the model
            let b0 = m.hdr().b;
            // Growth after a shrink: past several doublings, checking as we go.
            let mut i = n;
            while m.hdr().b < b0 + 3 {
                m.put(i).unwrap();
                i += 1;
                if i % 97 == 0 {
                    m.verify();
                }
            }
            m.verify();
            // Delete, shrink mid-growth, iterate with writes in between.
            for j in (0..i).step_by(2) {
                m.del(j);
            }
            m.shrink(0).unwrap();
            m.verify();
            let mut it = HIter::new();
            let mut seen = HashSet::new();
            // SAFETY: a live map; the iterator is ended below.
            unsafe { map::mapiterinit(&k.t, m.h.as_ptr(), &mut it) };
            let mut step = 0u64;
            while !it.key.is_null() {
                // SAFETY: a live key of t.
                let kb = unsafe { std::slice::from_raw_parts(it.key, k.t.key().size) }.to_vec();
                assert!(seen.insert(kb));
                step += 1;
                m.put(i + step).unwrap(); // writes while iterating: Go's rules
                // SAFETY: registered iterator on a live map.
                unsafe { map::mapiternext(&mut it) };
            }
            m.verify();
            m.clear();
            m.verify();
            assert_eq!(m.len(), 0);
            m.shrink(0).unwrap();
            m.verify();
            m.put(1).unwrap();
            m.verify();
        });
    }
}

#[test]
fn gomap_shrink_to_fit_keeps_entries() {
    let n = scale(10_000, 3000, 100);
    let mut m: GoMap<u64, String> = GoMap::new();
    for i in 0..n as u64 {
        m.insert(i, format!("v{i}"));
    }
    for i in 0..n as u64 {
        if i % 9 != 0 {
            assert_eq!(m.remove(&i), Some(format!("v{i}")));
        }
    }
    let b0 = m.header().b;
    m.shrink_to_fit();
    // SAFETY: a live map, not being written.
    m.hmap().map_or(Ok(()), |h| unsafe { check_invariants(m.map_type(), h) }).unwrap();
    let b1 = m.header().b;
    assert!(b1 < b0);
    let mut got: Vec<(u64, String)> = m.iter().map(|(k, v)| (*k, v.clone())).collect();
    got.sort();
    let want: Vec<(u64, String)> = (0..n as u64).filter(|i| i % 9 == 0).map(|i| (i, format!("v{i}"))).collect();
    assert_eq!(got, want);
    m.shrink_to(n);
    assert_eq!(m.header().b, b1, "shrink_to never grows the array");
    m.shrink_to(0);
    for i in 0..n as u64 {
        m.insert(i, format!("w{i}"));
    }
    // SAFETY: a live map, not being written.
    m.hmap().map_or(Ok(()), |h| unsafe { check_invariants(m.map_type(), h) }).unwrap();
    assert_eq!(m.len(), n);
    assert_eq!(m.get(&5), Some(&"w5".to_string()));
}

// ---------------------------------------------------------------------------
// Live iterators
// ---------------------------------------------------------------------------

#[test]
fn busy_while_an_iterator_is_live() {
    let n = scale(3000, 1000, 100) as u64;
    for k in [u64_kind(), indirect_kind()] {
        seeded(7, || {
            let mut m = filled(&k, n, 4);
            let before = m.snap();
            let mut it = HIter::new();
            // SAFETY: a live map; the iterator runs to its end below.
            unsafe { map::mapiterinit(&k.t, m.h.as_ptr(), &mut it) };
            let mut seen = HashSet::new();
            let mut first = true;
            while !it.key.is_null() {
                // SAFETY: a live key.
                let kb = unsafe { std::slice::from_raw_parts(it.key, k.t.key().size) }.to_vec();
                assert!(seen.insert(kb));
                if first {
                    assert_eq!(m.shrink(0), Err(MapError::Busy));
                    assert!(m.snap() == before, "a refused shrink changes nothing");
                    first = false;
                }
                // SAFETY: registered iterator.
                unsafe { map::mapiternext(&mut it) };
            }
            assert_eq!(seen.len(), m.len());
            // The iterator ended by reaching its end: shrinking works now.
            m.shrink(0).unwrap();
            m.verify();
            // An iterator ended early also releases the map.
            // SAFETY: a live map; ended just after.
            unsafe { map::mapiterinit(&k.t, m.h.as_ptr(), &mut it) };
            assert_eq!(m.shrink(0), Err(MapError::Busy));
            // SAFETY: the registered iterator.
            unsafe { map::mapiterend(&mut it) };
            m.shrink(0).unwrap();
            m.verify();
        });
    }
}

// ---------------------------------------------------------------------------
// Allocation failure
// ---------------------------------------------------------------------------

/// Fails each allocation a shrink makes, once: the shrink returns
/// `AllocFailed`, the map is exactly as before and valid, nothing leaks; the
/// retried shrink gives the layout the unfailed one gives.
fn every_shrink_allocation_fails(k: &Kind, build: &dyn for<'a> Fn(&'a Kind) -> Raw<'a>, min_cap: usize) -> usize {
    let start = live_blocks();
    let (total, good) = {
        let mut m = build(k);
        let a0 = allocs();
        m.shrink(min_cap).unwrap();
        (allocs() - a0, m.snap())
    };
    assert_eq!(live_blocks(), start);
    assert!(total >= 1);
    for n in 1..=total {
        let mut m = build(k);
        let before = m.snap();
        let blocks = live_blocks();
        let r = failing_nth(n, || m.shrink(min_cap));
        assert_eq!(r, Err(MapError::AllocFailed), "{}: allocation {n} of {total}", k.name);
        assert!(m.snap() == before, "{}: a failed shrink changed the map", k.name);
        assert_eq!(live_blocks(), blocks, "{}: a failed shrink leaked", k.name);
        m.verify();
        m.shrink(min_cap).unwrap();
        let mut s = m.snap();
        s.header.clear_seq = good.header.clear_seq;
        assert!(s == good);
        m.verify();
    }
    assert_eq!(live_blocks(), start);
    println!("{}: failed each of {total} allocations of a shrink", k.name);
    total
}

#[test]
fn every_shrink_allocation_fails_once() {
    /// Pins a closure to the higher-ranked signature the helper takes.
    fn builder<F: for<'a> Fn(&'a Kind) -> Raw<'a>>(f: F) -> F {
        f
    }
    // Full load (6.5 per bucket): more overflow buckets than are
    // preallocated (none below B = 4), so heap ones are usually allocated.
    // Whether a given layout has one depends on the process's hash key
    // material, so try hash seeds until one does.
    fn grow(k: &Kind) -> Raw<'_> {
        // Mid-doubling: the hash scratch block too.
        seeded(10, || growing(k, 3, 0))
    }
    let with_heap_overflow = |k: &Kind, n: u64, b: u64| {
        (0..64u64).any(|s| {
            let build = builder(move |k| seeded(s, || filled(k, n, b)));
            every_shrink_allocation_fails(k, &build, 0) > 1
        })
    };
    for k in kinds() {
        assert!(with_heap_overflow(&k, 52, 1), "no heap overflow bucket exercised");
        if cfg!(miri) {
            // Same paths as the full-load case, at a size Miri gets through quickly.
            every_shrink_allocation_fails(&k, &grow, 0);
            continue;
        }
        assert!(with_heap_overflow(&k, 3 * capacity(7) as u64, 3), "no heap overflow bucket exercised");
        every_shrink_allocation_fails(&k, &grow, 0);
        every_shrink_allocation_fails(&k, &grow, 1 << 20);
    }
}

// ---------------------------------------------------------------------------
// Drop hooks and ownership (typed wrapper)
// ---------------------------------------------------------------------------

#[test]
fn drop_hooks_run_exactly_once() {
    let n = scale(5000, 2000, 120);
    let rc = Rc::new(());
    {
        let mut m: GoMap<String, Rc<()>> = GoMap::new();
        for i in 0..n {
            m.insert(format!("key-{i}"), rc.clone());
        }
        for i in 0..n {
            if i % 10 != 0 {
                assert!(m.remove(&format!("key-{i}")).is_some());
            }
        }
        let live = m.len();
        assert_eq!(Rc::strong_count(&rc), 1 + live);
        m.shrink_to_fit();
        assert_eq!(Rc::strong_count(&rc), 1 + live, "a shrink neither drops nor clones");
        // SAFETY: a live map, not being written.
        m.hmap().map_or(Ok(()), |h| unsafe { check_invariants(m.map_type(), h) }).unwrap();
        for i in (0..n).step_by(10) {
            assert!(m.contains_key(&format!("key-{i}")));
        }
        assert_eq!(m.iter().count(), live);
        m.shrink_to_fit();
        m.clear();
        assert_eq!(Rc::strong_count(&rc), 1);
        for i in 0..n / 10 {
            m.insert(format!("again-{i}"), rc.clone());
        }
        m.shrink_to_fit();
        // SAFETY: a live map, not being written.
        m.hmap().map_or(Ok(()), |h| unsafe { check_invariants(m.map_type(), h) }).unwrap();
    }
    assert_eq!(Rc::strong_count(&rc), 1, "every value dropped once");

    // Out-of-line elems with drop glue: the pointer moves, the value stays.
    let rc = Rc::new(());
    {
        // 160 bytes on every word size: over MaxElemBytes.
        const N: usize = 160 / size_of::<usize>();
        let mut m: GoMap<String, [Rc<()>; N]> = GoMap::new();
        assert!(m.map_type().indirect_elem());
        for i in 0..n / 4 {
            m.insert(format!("k{i}"), std::array::from_fn(|_| rc.clone()));
        }
        for i in 0..n / 4 {
            if i % 5 != 0 {
                drop(m.remove(&format!("k{i}")));
            }
        }
        let live = m.len();
        m.shrink_to_fit();
        assert_eq!(Rc::strong_count(&rc), 1 + N * live);
        // SAFETY: a live map, not being written.
        m.hmap().map_or(Ok(()), |h| unsafe { check_invariants(m.map_type(), h) }).unwrap();
        for i in (0..n / 4).step_by(5) {
            assert_eq!(m.get(&format!("k{i}")).map(|a| a.len()), Some(N));
        }
    }
    assert_eq!(Rc::strong_count(&rc), 1);
}

// ---------------------------------------------------------------------------
// The automatic policy
// ---------------------------------------------------------------------------

#[test]
fn policy_is_off_by_default() {
    let n = scale(5000, 2000, 100);
    let mut m: GoMap<String, u64> = GoMap::new();
    assert_eq!(m.shrink_policy(), None);
    for i in 0..n {
        m.insert(i.to_string(), i as u64);
    }
    let b = hdr(&m).b;
    for i in 0..n - 1 {
        m.remove(&i.to_string());
    }
    check(&m);
    assert_eq!(hdr(&m).b, b, "Go's maps never shrink");
    m.clear();
    assert_eq!(hdr(&m).b, b);
    check(&m);
}

#[test]
fn policy_after_clear() {
    let n = scale(5000, 2000, 100);
    let mut m: GoMap<String, u64> = GoMap::new();
    m.set_shrink_policy(Some(ShrinkPolicy { after_clear: true, ..Default::default() }));
    for i in 0..n {
        m.insert(i.to_string(), i as u64);
    }
    assert!(hdr(&m).b > 0);
    m.remove(&"1".to_string());
    assert!(hdr(&m).b > 0, "deletes do not shrink with below_fraction unset");
    m.clear();
    check(&m);
    let h = m.header();
    assert_eq!((h.b, h.array_buckets), (0, 0), "cleared to a fresh make(map)");
    m.insert("x".into(), 1);
    assert_eq!(m.get("x"), Some(&1));
    check(&m);

    let p = ShrinkPolicy { after_clear: true, below_fraction: None, min_capacity: 1000 };
    m.set_shrink_policy(Some(p));
    assert_eq!(m.shrink_policy(), Some(p));
    for i in 0..n {
        m.insert(i.to_string(), i as u64);
    }
    m.clear();
    check(&m);
    assert_eq!(hdr(&m).b, bucket_bits_for_hint(1000).min(bucket_bits_for_hint(n)));
}

#[test]
fn policy_below_fraction() {
    let n = scale(3000, 1000, 80);
    for pct in [10u8, 25, 60] {
        let mut m: GoMap<String, u64> = GoMap::new();
        let p = ShrinkPolicy { after_clear: false, below_fraction: Some(pct), min_capacity: 0 };
        m.set_shrink_policy(Some(p));
        for i in 0..n {
            m.insert(i.to_string(), i as u64);
        }
        let mut b = hdr(&m).b;
        let mut shrinks = 0;
        for i in 0..n {
            m.remove(&i.to_string());
            check(&m);
            let nb = hdr(&m).b;
            assert!(nb <= b, "deletes never grow the map");
            if nb < b {
                shrinks += 1;
            }
            b = nb;
            // The policy never leaves the map in a state it should have shrunk.
            let c = m.len();
            let should = c * 100 < pct as usize * capacity(b) && bucket_bits_for_hint(shrink_hint(c, b, 2 * c)) < b;
            assert!(!should, "pct {pct}: count {c} at B {b} left unshrunk");
        }
        assert!(shrinks >= 2, "pct {pct}: only {shrinks} shrinks");
        assert_eq!(hdr(&m).b, 0, "an emptied map is back at B = 0");
    }
    // min_capacity is a floor.
    let mut m: GoMap<String, u64> = GoMap::new();
    m.set_shrink_policy(Some(ShrinkPolicy { after_clear: false, below_fraction: Some(25), min_capacity: 500 }));
    for i in 0..n {
        m.insert(i.to_string(), i as u64);
    }
    for i in 0..n {
        m.remove(&i.to_string());
    }
    check(&m);
    assert_eq!(hdr(&m).b, bucket_bits_for_hint(500).min(bucket_bits_for_hint(n)));
}

#[test]
fn policy_through_the_fast_deletes() {
    // GoMap dispatches 4- and 8-byte keys to mapdelete_fast32/64.
    let n = scale(3000, 1000, 80);
    let p = Some(ShrinkPolicy { after_clear: true, below_fraction: Some(25), min_capacity: 0 });
    let mut m64: GoMap<u64, u64> = GoMap::new();
    let mut m32: GoMap<u32, u32> = GoMap::new();
    m64.set_shrink_policy(p);
    m32.set_shrink_policy(p);
    for i in 0..n {
        m64.insert(i as u64, i as u64);
        m32.insert(i as u32, i as u32);
    }
    let (b64, b32) = (hdr(&m64).b, hdr(&m32).b);
    for i in 0..n - 5 {
        assert_eq!(m64.remove(&(i as u64)), Some(i as u64));
        assert_eq!(m32.remove(&(i as u32)), Some(i as u32));
    }
    check(&m64);
    check(&m32);
    assert!(hdr(&m64).b < b64 && hdr(&m32).b < b32);
    assert_eq!(m64.iter().count(), 5);
    assert_eq!(m32.get(&(n as u32 - 1)), Some(&(n as u32 - 1)));
}

#[test]
fn policy_skips_while_iterating_then_resumes() {
    let n = scale(2000, 1000, 80);
    let mut m: GoMap<String, u64> = GoMap::new();
    m.set_shrink_policy(Some(ShrinkPolicy { after_clear: true, below_fraction: Some(25), min_capacity: 0 }));
    for i in 0..n {
        m.insert(i.to_string(), i as u64);
    }
    let b = hdr(&m).b;
    // Go's range with deletes: every entry produced once, or not at all if
    // deleted before being reached; the policy must not pull the array out
    // from under the loop.
    let mut seen = HashSet::new();
    m.range(|rm, k, _| {
        assert!(seen.insert(k.clone()), "entry produced twice");
        rm.remove(&k);
        ControlFlow::Continue(())
    });
    assert_eq!(seen.len(), n);
    check(&m);
    assert_eq!(m.len(), 0);
    assert_eq!(hdr(&m).b, b, "no shrink while the iterator was live");
    // Deletes that happen with no iterator shrink again.
    for i in 0..n {
        m.insert(i.to_string(), i as u64);
    }
    for i in 0..n {
        m.remove(&i.to_string());
    }
    check(&m);
    assert!(hdr(&m).b < b);
    // A clear inside range is skipped too, and honoured outside.
    for i in 0..n {
        m.insert(i.to_string(), i as u64);
    }
    let b = hdr(&m).b;
    m.range(|rm, _, _| {
        rm.clear();
        ControlFlow::Break(())
    });
    assert_eq!(hdr(&m).b, b);
    m.insert("a".into(), 1);
    m.clear();
    assert_eq!(hdr(&m).b, 0);
    check(&m);
}

#[test]
fn policy_on_the_raw_api() {
    let k = u64_kind();
    let n = scale(3000, 1000, 80) as u64;
    seeded(11, || {
        let mut m = filled(&k, n, 1);
        // SAFETY: a live map.
        unsafe {
            shrink::set_shrink_policy(
                m.h.as_ptr(),
                Some(ShrinkPolicy { below_fraction: Some(25), ..Default::default() }),
            )
        };
        let b = m.hdr().b;
        for i in 0..n - 10 {
            m.del(i);
            if i % 13 == 0 {
                m.verify();
            }
        }
        m.verify();
        assert!(m.hdr().b < b);
        // SAFETY: a null map is a no-op.
        unsafe { shrink::set_shrink_policy(std::ptr::null_mut(), None) };
        // SAFETY: as above.
        assert_eq!(unsafe { shrink::mapshrink(&k.t, std::ptr::null_mut(), 0) }, Ok(()));
    });
}

// ---------------------------------------------------------------------------
// Go's fatal check for concurrent writes
// ---------------------------------------------------------------------------

thread_local! {
    static REENTER: Cell<(*mut HMap, *const MapType)> = const { Cell::new((std::ptr::null_mut(), std::ptr::null())) };
}

/// An elem drop hook that tries to shrink the map it is being dropped from.
unsafe fn reentrant_drop(_p: *mut u8, _ctx: *const ()) {
    let (h, t) = REENTER.with(|r| r.replace((std::ptr::null_mut(), std::ptr::null())));
    if !h.is_null() {
        // SAFETY: the test's live map and type.
        let _ = unsafe { shrink::mapshrink(&*t, h, 0) };
    }
}

#[test]
fn shrink_during_a_write_is_fatal() {
    let t = MapType::u64_key(TypeInfo::of::<u64>()).unwrap().with_hooks(None, Some(reentrant_drop), None, None);
    let h = map::makemap(&t, 0).unwrap();
    for i in 0..100u64 {
        // SAFETY: a live map; u64 key and elem.
        unsafe { map::mapassign(&t, h.as_ptr(), (&raw const i).cast()) }.unwrap();
    }
    REENTER.with(|r| r.set((h.as_ptr(), &t)));
    let r = common::catch_fatal(|| {
        let k = 7u64;
        // SAFETY: a live map; the drop hook re-enters.
        unsafe { map::mapdelete(&t, h.as_ptr(), (&raw const k).cast()) }
    });
    assert_eq!(r.expect_err("must be fatal"), "concurrent map writes");
    // The unwound delete cleared the writing flag; the map can be freed.
    // SAFETY: a live map, no iterator.
    unsafe { map::mapfree(&t, h.as_ptr()) }.unwrap();
}
