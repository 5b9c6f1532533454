//! Callback failure, misuse detection and hash-flooding resistance.
//!
//! * A hasher or equality that panics mid-assign, mid-delete, mid-evacuation
//!   or mid-clone leaves the map valid, the write flag clear, and every entry
//!   that was there before still there.
//! * Re-entrant access from a callback during a write hits Go's fatal path
//!   with Go's exact message (through the fatal hook, and once in a child
//!   process with the default abort).
//! * Seeds differ per map and change on delete-to-empty and clear; keys
//!   crafted to collide under one seed spread under another.

mod common;

use std::cell::Cell;
use std::cell::RefCell;
use std::collections::{BTreeMap, HashSet};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::ptr::NonNull;

use gomap::fatal;
use gomap::inspect::{check_invariants, header};
use gomap::map::{self, HIter, HMap};
use gomap::maptype::{MapType, MapTypeBuilder, TypeInfo};

thread_local! {
    /// Fail the N-th hash call from now (0 = never).
    static HASH_FAIL_IN: Cell<usize> = const { Cell::new(0) };
    /// Fail the N-th equality call from now (0 = never).
    static EQ_FAIL_IN: Cell<usize> = const { Cell::new(0) };
    /// A map the equality callback touches re-entrantly (null = none).
    static REENTER: Cell<*mut HMap> = const { Cell::new(std::ptr::null_mut()) };
    static REENTER_KIND: Cell<u8> = const { Cell::new(0) };
}

fn countdown(c: &'static std::thread::LocalKey<Cell<usize>>) -> bool {
    c.with(|c| match c.get() {
        0 => false,
        1 => {
            c.set(0);
            true
        }
        n => {
            c.set(n - 1);
            false
        }
    })
}

unsafe fn flaky_hash(k: *const u8, seed: usize, _: *const ()) -> usize {
    if countdown(&HASH_FAIL_IN) {
        panic!("hasher failed");
    }
    // SAFETY: a u64 key.
    unsafe { gomap::alg::memhash64(k, seed) }
}

unsafe fn flaky_equal(a: *const u8, b: *const u8, _: *const ()) -> bool {
    if countdown(&EQ_FAIL_IN) {
        panic!("equality failed");
    }
    let h = REENTER.with(Cell::get);
    if !h.is_null() {
        REENTER.with(|r| r.set(std::ptr::null_mut()));
        let t = flaky_type();
        let k = 1u64;
        // SAFETY: the map is live; this is the misuse under test.
        unsafe {
            match REENTER_KIND.with(Cell::get) {
                0 => {
                    let _ = map::mapaccess2(&t, h, (&raw const k).cast());
                }
                1 => {
                    struct End(HIter);
                    impl Drop for End {
                        fn drop(&mut self) {
                            // SAFETY: the map outlives this callback.
                            unsafe { map::mapiterend(&mut self.0) }
                        }
                    }
                    let mut it = End(HIter::new());
                    map::mapiterinit(&t, h, &mut it.0);
                }
                3 | 4 => {
                    // Go's keys/values (maps.Keys, maps.Values) during a write.
                    let mut buf = [0u64; 8];
                    let _ = if REENTER_KIND.with(Cell::get) == 3 {
                        map::keys(&t, h, buf.as_mut_ptr().cast(), buf.len())
                    } else {
                        map::values(&t, h, buf.as_mut_ptr().cast(), buf.len())
                    };
                }
                _ => {
                    let _ = map::mapassign(&t, h, (&raw const k).cast());
                }
            }
        }
    }
    // SAFETY: u64 keys.
    unsafe { a.cast::<u64>().read_unaligned() == b.cast::<u64>().read_unaligned() }
}

fn flaky_type() -> MapType {
    MapTypeBuilder::new(TypeInfo::of::<u64>(), TypeInfo::of::<u64>(), flaky_hash, flaky_equal).build().unwrap()
}

struct M {
    t: MapType,
    h: NonNull<HMap>,
}

impl M {
    fn new() -> M {
        let t = flaky_type();
        let h = map::makemap(&t, 0).unwrap();
        M { t, h }
    }
    fn put(&self, k: u64) -> Result<(), ()> {
        catch_unwind(AssertUnwindSafe(|| {
            // SAFETY: a live map of u64 -> u64.
            let s = unsafe { map::mapassign(&self.t, self.h.as_ptr(), (&raw const k).cast()) }.unwrap();
            // SAFETY: a u64 elem slot.
            unsafe { s.elem.as_ptr().cast::<u64>().write(k + 1) };
        }))
        .map_err(|_| ())
    }
    fn del(&self, k: u64) -> Result<(), ()> {
        catch_unwind(AssertUnwindSafe(|| {
            // SAFETY: as above.
            unsafe { map::mapdelete(&self.t, self.h.as_ptr(), (&raw const k).cast()) }.unwrap();
        }))
        .map_err(|_| ())
    }
    fn has(&self, k: u64) -> bool {
        // SAFETY: as above.
        let (e, ok) = unsafe { map::mapaccess2(&self.t, self.h.as_ptr(), (&raw const k).cast()) }.unwrap();
        // SAFETY: a u64 elem.
        ok && unsafe { e.cast::<u64>().read() } == k + 1
    }
    fn check(&self, model: &HashSet<u64>) {
        // SAFETY: a live map, not being written.
        unsafe { check_invariants(&self.t, self.h) }.unwrap();
        // SAFETY: live.
        let hd = unsafe { header(&self.t, self.h) };
        assert_eq!(hd.flags & map::HASH_WRITING, 0, "write flag left set");
        assert_eq!(hd.count, model.len());
        for &k in model {
            assert!(self.has(k), "{k} lost");
        }
    }
}

impl Drop for M {
    fn drop(&mut self) {
        // SAFETY: live, no iterators.
        unsafe { map::mapfree(&self.t, self.h.as_ptr()) }.unwrap();
    }
}

/// Panics from the hasher or equality at every call position of a workload
/// that grows the map twice (so some of them land mid-evacuation).
#[test]
fn panicking_callbacks_leave_the_map_intact() {
    let mut failures = 0;
    let mut mid_growth = 0;
    for which in [&HASH_FAIL_IN, &EQ_FAIL_IN] {
        for n in (1..400).step_by(if cfg!(miri) { 97 } else { 3 }) {
            let m = M::new();
            let mut model = HashSet::new();
            which.with(|c| c.set(n));
            for k in 0..60u64 {
                let key = k * 7 % 50;
                // SAFETY: a live map.
                let growing = unsafe { header(&m.t, m.h) }.growing;
                if m.put(key).is_ok() {
                    model.insert(key);
                } else {
                    failures += 1;
                    mid_growth += growing as usize;
                }
                if k % 4 == 3 {
                    let d = k * 3 % 50;
                    if m.del(d).is_ok() {
                        model.remove(&d);
                    } else {
                        failures += 1;
                    }
                }
                let (h, e) = (HASH_FAIL_IN.with(Cell::get), EQ_FAIL_IN.with(Cell::get));
                HASH_FAIL_IN.with(|c| c.set(0));
                EQ_FAIL_IN.with(|c| c.set(0));
                m.check(&model);
                HASH_FAIL_IN.with(|c| c.set(h));
                EQ_FAIL_IN.with(|c| c.set(e));
            }
            // and a clone that fails part-way leaves the source intact
            which.with(|c| c.set(3));
            // SAFETY: a live map.
            let r = catch_unwind(AssertUnwindSafe(|| unsafe { map::mapclone2(&m.t, m.h.as_ptr()) }));
            which.with(|c| c.set(0));
            if let Ok(Ok(c)) = r {
                // SAFETY: the clone is live and ours.
                unsafe { map::mapfree(&m.t, c.as_ptr()) }.unwrap();
            }
            m.check(&model);
        }
    }
    // Miri samples a few call positions; natively every third one.
    let (want, want_growth) = if cfg!(miri) { (2, 0) } else { (30, 3) };
    assert!(failures > want, "callbacks failed only {failures} times");
    assert!(mid_growth >= want_growth, "only {mid_growth} failures during growth work");
    println!("callback failures injected and survived: {failures} ({mid_growth} in writes doing growth work)");
}

fn reentrant_message(kind: u8) -> &'static str {
    let m = M::new();
    for k in 0..5 {
        m.put(k).unwrap();
    }
    REENTER.with(|r| r.set(m.h.as_ptr()));
    REENTER_KIND.with(|r| r.set(kind));
    let r = common::catch_fatal(|| {
        // An update: equality runs while the write is in progress.
        let k = 3u64;
        // SAFETY: a live map.
        let _ = unsafe { map::mapassign(&m.t, m.h.as_ptr(), (&raw const k).cast()) };
    });
    REENTER.with(|r| r.set(std::ptr::null_mut()));
    let msg = r.expect_err("re-entrant access was not detected");
    // the map is still usable afterwards (the write flag was cleared on unwind)
    m.check(&(0..5).collect());
    msg
}

#[test]
#[cfg_attr(
    miri,
    ignore = "deliberate misuse: the callback re-enters a map its write holds as &mut, which Stacked Borrows rejects before the fatal check can run"
)]
fn reentrant_lookup_during_write_is_fatal() {
    assert_eq!(reentrant_message(0), fatal::CONCURRENT_READ_WRITE);
    assert_eq!(fatal::CONCURRENT_READ_WRITE, "concurrent map read and map write");
}

#[test]
#[cfg_attr(
    miri,
    ignore = "deliberate misuse: the callback re-enters a map its write holds as &mut, which Stacked Borrows rejects before the fatal check can run"
)]
fn reentrant_iteration_during_write_is_fatal() {
    assert_eq!(reentrant_message(1), fatal::CONCURRENT_ITER_WRITE);
    assert_eq!(fatal::CONCURRENT_ITER_WRITE, "concurrent map iteration and map write");
}

/// `map::keys` / `map::values` read every live slot; during a write they
/// die with Go's message (copyKeys/copyValues check hashWriting per slot).
#[test]
#[cfg_attr(
    miri,
    ignore = "deliberate misuse: the callback re-enters a map its write holds as &mut, which Stacked Borrows rejects before the fatal check can run"
)]
fn reentrant_keys_and_values_during_write_are_fatal() {
    assert_eq!(reentrant_message(3), fatal::CONCURRENT_READ_WRITE);
    assert_eq!(reentrant_message(4), fatal::CONCURRENT_READ_WRITE);
}

#[test]
#[cfg_attr(
    miri,
    ignore = "deliberate misuse: the callback re-enters a map its write holds as &mut, which Stacked Borrows rejects before the fatal check can run"
)]
fn reentrant_write_during_write_is_fatal() {
    assert_eq!(reentrant_message(2), fatal::CONCURRENT_WRITES);
    assert_eq!(fatal::CONCURRENT_WRITES, "concurrent map writes");
}

/// Two writers on two threads, the second passing Go's entry check just
/// before the first sets the write flag (its hash callback holds it there
/// until the first writer is inside its equality callback, flag set). The
/// second writer must die with "concurrent map writes" before it changes
/// anything, and the first must finish its write.
///
/// Before, the second writer flipped the flag with a plain load and store
/// (Go's `h.flags ^= hashWriting`), which cleared the first writer's flag,
/// inserted its key into the map the first writer was changing, and only
/// its end-of-write check noticed; the first writer then died too. Two
/// threads racing that way corrupted gomap's block lists (16 SIGSEGVs in
/// 300 runs of two writers, issue 15). Now the flag is taken with an
/// atomic or.
#[test]
#[cfg_attr(miri, ignore = "deliberate data race on the map, which Miri reports before the fatal check")]
#[cfg_attr(target_os = "wasi", ignore = "WASI has no threads")]
fn second_writer_is_stopped_before_it_writes() {
    use std::sync::Barrier;
    use std::sync::atomic::{AtomicBool, Ordering};
    static STEP: [std::sync::OnceLock<Barrier>; 3] =
        [std::sync::OnceLock::new(), std::sync::OnceLock::new(), std::sync::OnceLock::new()];
    fn step(i: usize) {
        STEP[i].get_or_init(|| Barrier::new(2)).wait();
    }
    thread_local! {
        static ROLE: Cell<u8> = const { Cell::new(0) };
    }
    static IN_EQ: AtomicBool = AtomicBool::new(false);
    unsafe fn gated_hash(k: *const u8, seed: usize, _: *const ()) -> usize {
        if ROLE.with(Cell::get) == 2 {
            ROLE.with(|r| r.set(0));
            step(0); // B passed the entry check: A may start
            step(1); // A holds the flag, inside its equality
        }
        // SAFETY: a u64 key.
        unsafe { gomap::alg::memhash64(k, seed) }
    }
    unsafe fn gated_eq(a: *const u8, b: *const u8, _: *const ()) -> bool {
        if ROLE.with(Cell::get) == 1 {
            ROLE.with(|r| r.set(0));
            IN_EQ.store(true, Ordering::SeqCst);
            step(1); // tell B: the flag is set
            step(2); // wait for B to have run into it
        }
        // SAFETY: u64 keys.
        unsafe { a.cast::<u64>().read_unaligned() == b.cast::<u64>().read_unaligned() }
    }
    // Shared by both threads for the whole test, reclaimed at its end.
    let t: &'static MapType = Box::leak(Box::new(
        MapTypeBuilder::new(TypeInfo::of::<u64>(), TypeInfo::of::<u64>(), gated_hash, gated_eq).build().unwrap(),
    ));
    let h = map::makemap(t, 0).unwrap();
    for k in 0..5u64 {
        // SAFETY: a live map of u64 keys, no other thread yet.
        unsafe { map::mapassign(t, h.as_ptr(), (&raw const k).cast()) }.unwrap();
    }
    struct Send(*mut HMap);
    // SAFETY: the map is shared on purpose: the race under test.
    unsafe impl std::marker::Send for Send {}
    let (hb, tb) = (Send(h.as_ptr()), t);
    let b = std::thread::spawn(move || {
        let hb = hb;
        ROLE.with(|r| r.set(2));
        let r = common::catch_fatal(|| {
            let k = 100u64;
            // SAFETY: a live map; the race is the test.
            unsafe { map::mapassign(tb, hb.0, (&raw const k).cast()) }.map(|_| ())
        });
        step(2); // let A finish
        r
    });
    step(0);
    ROLE.with(|r| r.set(1));
    let a = common::catch_fatal(|| {
        let k = 3u64; // an update: equality runs with the flag set
        // SAFETY: a live map; the race is the test.
        unsafe { map::mapassign(t, h.as_ptr(), (&raw const k).cast()) }.map(|_| ())
    });
    let b = b.join().unwrap();
    assert!(IN_EQ.load(Ordering::SeqCst));
    assert_eq!(b.err(), Some(fatal::CONCURRENT_WRITES), "the second writer was not stopped");
    assert_eq!(a, Ok(Ok(())), "the first writer did not finish");
    let k = 100u64;
    // SAFETY: a live map, no other thread now.
    let (_, found) = unsafe { map::mapaccess2(t, h.as_ptr(), (&raw const k).cast()) }.unwrap();
    assert!(!found, "the second writer inserted its key");
    // SAFETY: a live map.
    assert_eq!(unsafe { (*h.as_ptr()).len() }, 5);
    // SAFETY: a live map, no iterator, no other thread.
    unsafe { map::mapfree(t, h.as_ptr()) }.unwrap();
    // SAFETY: `t` came from `Box::leak` above; both threads are done with
    // it (the other one was joined), so it is reclaimed once.
    drop(unsafe { Box::from_raw(std::ptr::from_ref(t).cast_mut()) });
}

/// A lookup whose key comparison runs while the same key is deleted (a
/// write racing with the read, played in one thread: the equality callback
/// deletes the entry it is comparing): the slot's tophash said "filled"
/// when the lookup chose it, but the delete zeroed the out-of-line elem
/// pointer before the lookup read it. Before, the lookup took the null
/// pointer for "no entry" and reported the key missing, an unnoticed race
/// with a wrong result (an iterator in the same spot handed the host a key
/// with a null elem: 3 SIGSEGVs in 400 runs of the race stress program's
/// iterate pattern; an assignment made a `NonNull` of it). Now it reports
/// the race as Go's "concurrent map read and map write".
#[test]
#[cfg_attr(miri, ignore = "deliberate misuse: the callback writes a map a lookup holds, which Stacked Borrows rejects")]
fn a_slot_emptied_under_a_lookup_is_a_detected_race() {
    thread_local! {
        static VICTIM: Cell<*mut HMap> = const { Cell::new(std::ptr::null_mut()) };
    }
    fn big_type() -> MapType {
        MapTypeBuilder::new(TypeInfo::of::<u64>(), TypeInfo::of::<[u64; 25]>(), racing_hash, racing_eq).build().unwrap()
    }
    unsafe fn racing_hash(k: *const u8, seed: usize, _: *const ()) -> usize {
        // SAFETY: a u64 key.
        unsafe { gomap::alg::memhash64(k, seed) }
    }
    unsafe fn racing_eq(a: *const u8, b: *const u8, _: *const ()) -> bool {
        let h = VICTIM.with(|v| v.replace(std::ptr::null_mut()));
        if !h.is_null() {
            let k = 7u64;
            // SAFETY: a live map; the write racing with the lookup is the
            // misuse under test.
            unsafe { map::mapdelete(&big_type(), h, (&raw const k).cast()) }.unwrap();
        }
        // SAFETY: u64 keys.
        unsafe { a.cast::<u64>().read_unaligned() == b.cast::<u64>().read_unaligned() }
    }
    let t = big_type();
    assert!(t.indirect_elem());
    let h = map::makemap(&t, 0).unwrap();
    for k in 0..5u64 {
        // SAFETY: a live map, u64 keys; the elem stays zero.
        unsafe { map::mapassign(&t, h.as_ptr(), (&raw const k).cast()) }.unwrap();
    }
    let k = 7u64;
    // SAFETY: as above.
    unsafe { map::mapassign(&t, h.as_ptr(), (&raw const k).cast()) }.unwrap();
    VICTIM.with(|v| v.set(h.as_ptr()));
    let r = common::catch_fatal(|| {
        // SAFETY: a live map; the callback's delete is the race.
        unsafe { map::mapaccess2(&t, h.as_ptr(), (&raw const k).cast()) }.map(|(e, found)| (e.is_null(), found))
    });
    assert_eq!(r, Err(fatal::CONCURRENT_READ_WRITE), "the lookup handed out the emptied slot");
    // SAFETY: a live map, no iterator.
    unsafe { map::mapfree(&t, h.as_ptr()) }.unwrap();
}

/// The default fatal path prints Go's line and aborts: run in a child.
#[test]
#[cfg_attr(miri, ignore = "spawns a process")]
#[cfg_attr(target_os = "wasi", ignore = "WASI has no processes: runs this test binary as a child")]
fn default_fatal_aborts_with_gos_message() {
    if std::env::var("GOMAP_FATAL_CHILD").is_ok() {
        // No hook: the default path must print Go's line and abort.
        let m = M::new();
        m.put(1).unwrap();
        REENTER.with(|r| r.set(m.h.as_ptr()));
        REENTER_KIND.with(|r| r.set(2));
        let _ = m.put(1);
        unreachable!("should have aborted");
    }
    let out = common::self_command()
        .args(["--exact", "default_fatal_aborts_with_gos_message", "--nocapture", "--test-threads=1"])
        .env("GOMAP_FATAL_CHILD", "1")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("fatal error: concurrent map writes"), "stderr: {err}");
}

#[test]
fn hash_flooding_keys_spread_under_another_seed() {
    let t = MapType::u64_key(TypeInfo::of::<u64>()).unwrap();
    // Keys that all land in bucket 0 of a 64-bucket table under seed s1.
    let s1 = 0x1234_5678usize;
    let crafted: Vec<u64> = (0u64..)
        // SAFETY: a u64 key.
        .filter(|k| unsafe { t.hash((k as *const u64).cast(), s1) } & 63 == 0)
        .take(if cfg!(miri) { 16 } else { 200 })
        .collect();
    let s2 = 0x9abc_def0usize;
    let buckets: HashSet<usize> =
        // SAFETY: a u64 key.
        crafted.iter().map(|k| unsafe { t.hash((k as *const u64).cast(), s2) } & 63).collect();
    assert!(buckets.len() > if cfg!(miri) { 8 } else { 40 }, "crafted keys still collide: {} buckets", buckets.len());

    // Per-map seeds differ; delete-to-empty and clear reseed.
    let a = map::makemap(&t, 0).unwrap();
    let b = map::makemap(&t, 0).unwrap();
    // SAFETY: live maps.
    let (ha, hb) = unsafe { (header(&t, a).hash0, header(&t, b).hash0) };
    assert_ne!(ha, hb, "two maps share a seed");
    let k = 5u64;
    // SAFETY: live maps of u64 keys.
    unsafe {
        map::mapassign(&t, a.as_ptr(), (&raw const k).cast()).unwrap();
        let before = header(&t, a).hash0;
        map::mapdelete(&t, a.as_ptr(), (&raw const k).cast()).unwrap();
        assert_ne!(header(&t, a).hash0, before, "delete-to-empty kept the seed");
        map::mapassign(&t, a.as_ptr(), (&raw const k).cast()).unwrap();
        let before = header(&t, a).hash0;
        map::mapclear(&t, a.as_ptr());
        assert_ne!(header(&t, a).hash0, before, "clear kept the seed");
        map::mapfree(&t, a.as_ptr()).unwrap();
        map::mapfree(&t, b.as_ptr()).unwrap();
    }
}

thread_local! {
    /// Drops of `PanicDrop` values so far, and the drop (1-based) that
    /// panics (0: none).
    static DROPS: Cell<usize> = const { Cell::new(0) };
    static DROP_PANICS_AT: Cell<usize> = const { Cell::new(0) };
}

/// A value whose drop is counted and can be made to panic.
struct PanicDrop(#[allow(dead_code)] u64);

impl Drop for PanicDrop {
    fn drop(&mut self) {
        let n = DROPS.with(|d| {
            d.set(d.get() + 1);
            d.get()
        });
        if n == DROP_PANICS_AT.with(Cell::get) {
            panic!("drop failed");
        }
    }
}

/// A value's drop that panics part-way through `clear` leaves the map
/// cleared: no value is dropped twice (the ones not reached yet are
/// leaked), and the map is empty, valid and usable.
#[test]
fn panicking_drop_in_clear_drops_each_value_once() {
    let n = if cfg!(miri) { 20 } else { 200 };
    for at in [1, 2, n / 2, n] {
        DROPS.with(|d| d.set(0));
        let mut m = gomap::GoMap::<u64, PanicDrop>::new();
        for k in 0..n as u64 {
            m.insert(k, PanicDrop(k));
        }
        DROP_PANICS_AT.with(|p| p.set(at));
        assert!(catch_unwind(AssertUnwindSafe(|| m.clear())).is_err());
        DROP_PANICS_AT.with(|p| p.set(0));
        assert_eq!(DROPS.with(Cell::get), at, "drops after the panic at drop {at}");
        assert_eq!(m.len(), 0);
        m.insert(7, PanicDrop(7));
        assert!(m.get(&7).is_some());
        drop(m);
        assert_eq!(DROPS.with(Cell::get), at + 1, "a value was dropped twice (panic at drop {at})");
    }
}

thread_local! {
    /// Live `PanicKey` ids (a drop of an id not here is a double drop), and
    /// whether the next drop of a key stored in a map panics.
    static LIVE_KEYS: RefCell<BTreeMap<u64, usize>> = const { RefCell::new(BTreeMap::new()) };
    static KEY_DROP_PANICS: Cell<bool> = const { Cell::new(false) };
}

/// A key (8 bytes of plain memory, hashed and compared as its id) whose
/// drop is counted per id and can be made to panic; `FAST` picks the
/// fast64 paths (as `u64`) or the generic ones.
#[repr(transparent)]
#[derive(Debug)]
struct PanicKey<const FAST: bool>(u64);

impl<const FAST: bool> PanicKey<FAST> {
    fn new(id: u64) -> Self {
        LIVE_KEYS.with(|l| *l.borrow_mut().entry(id).or_default() += 1);
        PanicKey(id)
    }
}

impl<const FAST: bool> Drop for PanicKey<FAST> {
    fn drop(&mut self) {
        LIVE_KEYS.with(|l| {
            let mut l = l.borrow_mut();
            let n = l.get_mut(&self.0).expect("a key dropped more often than made");
            *n -= 1;
            if *n == 0 {
                l.remove(&self.0);
            }
        });
        if KEY_DROP_PANICS.with(|p| p.replace(false)) {
            panic!("key drop failed");
        }
    }
}

// SAFETY: a transparent u64: 8 bytes of plain memory, hashed over exactly
// those bytes and compared bytewise, as u64's own descriptor does; Fast64
// only for that 8-byte layout.
unsafe impl<const FAST: bool> gomap::GoKey for PanicKey<FAST> {
    const SPEC: Option<gomap::maptype::KeySpec> = <u64 as gomap::GoKey>::SPEC;
    const FAST: gomap::gomap::FastKind =
        if FAST { gomap::gomap::FastKind::Fast64 } else { gomap::gomap::FastKind::None };
}

/// Removes key 7 from a 20-entry map with the stored key's drop armed to
/// panic, then drops everything and checks every key was dropped once.
fn remove_with_panicking_key_drop<const FAST: bool>() {
    let mut m = gomap::GoMap::<PanicKey<FAST>, u64>::new();
    for id in 0..20 {
        m.insert(PanicKey::new(id), id);
    }
    let probe = PanicKey::new(7);
    KEY_DROP_PANICS.with(|p| p.set(true));
    let r = catch_unwind(AssertUnwindSafe(|| m.remove(&probe)));
    eprintln!("remove returned ({}), len {}", if r.is_ok() { "ok" } else { "unwound" }, m.len());
    drop(probe);
    drop(m);
    let live = LIVE_KEYS.with(|l| l.borrow().clone());
    assert!(live.is_empty(), "keys still live: {live:?}");
}

/// A key whose `Drop` panics while the map removes it would leave the
/// entry in the map with its key already dropped (a second drop when the
/// map goes: a use after free for a key that owns memory). The map aborts
/// the process instead, with a message naming the cause (the `GoKey`
/// contract). Both delete paths (fast64 and generic), each in a child.
#[test]
#[cfg_attr(miri, ignore = "spawns a process")]
#[cfg_attr(target_os = "wasi", ignore = "WASI has no processes: runs this test binary as a child")]
fn panicking_key_drop_in_remove_aborts() {
    match std::env::var("GOMAP_KEY_DROP_CHILD").as_deref() {
        Ok("fast") => return remove_with_panicking_key_drop::<true>(),
        Ok(_) => return remove_with_panicking_key_drop::<false>(),
        Err(_) => {}
    }
    for path in ["fast", "generic"] {
        let out = common::self_command()
            .args(["--exact", "panicking_key_drop_in_remove_aborts", "--nocapture", "--test-threads=1"])
            .env("GOMAP_KEY_DROP_CHILD", path)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{path}: the child passed: {err}");
        assert!(err.contains("a key's Drop panicked inside the map"), "{path}: stderr: {err}");
        assert!(!err.contains("remove returned"), "{path}: the panic escaped the map: {err}");
    }
}
