//! Evacuation's pre-pass (the destination of every entry of an old chain,
//! decided before any entry moves, for descriptors whose callbacks may
//! unwind) and where its memory comes from.
//!
//! * Map operations allocate only through the map's own `Allocator`: this
//!   binary's global allocator counts the allocations each thread makes
//!   while a map workload runs on a map with a counting `Allocator`, and
//!   the count must be 0 (the pre-pass once kept its decisions in a `Vec`).
//! * A chain too long for the pre-pass's stack buffer takes its decisions
//!   from the map's allocator: if that allocation fails, the write fails
//!   with `AllocFailed` before anything moved; a hasher that panics part-way
//!   through the pre-pass of such a chain leaves every entry in place.

mod common;

use std::cell::Cell;
use std::ffi::c_void;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::ptr::NonNull;

use common::counting::{CountingGlobal, allocs_in};
use gomap::alloc::Allocator;
use gomap::fatal::MapError;
use gomap::inspect::{check_invariants, header};
use gomap::map::{self, HIter, HMap};
use gomap::maptype::{MapType, MapTypeBuilder, TypeInfo};

#[global_allocator]
static GLOBAL: CountingGlobal = CountingGlobal;

// ---------------------------------------------------------------------------
// The map's allocator: libc, counting live blocks; one size can be made to fail
// ---------------------------------------------------------------------------

thread_local! {
    static MAP_ALLOCS: Cell<usize> = const { Cell::new(0) };
    static LIVE: Cell<isize> = const { Cell::new(0) };
    /// Requests of exactly this many bytes (header included) fail.
    static FAIL_SIZE: Cell<usize> = const { Cell::new(usize::MAX) };
}

unsafe extern "C" fn map_calloc(_ctx: *mut c_void, size: usize) -> *mut c_void {
    if size == FAIL_SIZE.with(Cell::get) {
        return std::ptr::null_mut();
    }
    MAP_ALLOCS.with(|n| n.set(n.get() + 1));
    LIVE.with(|l| l.set(l.get() + 1));
    // SAFETY: plain calloc.
    unsafe { libc::calloc(1, size) }
}

unsafe extern "C" fn map_free(_ctx: *mut c_void, p: *mut c_void, _size: usize) {
    LIVE.with(|l| l.set(l.get() - 1));
    // SAFETY: from map_calloc.
    unsafe { libc::free(p) }
}

fn map_alloc() -> Allocator {
    // SAFETY: calloc/free wrappers, callable from any thread (thread-local
    // counters; each test uses its own thread).
    unsafe { Allocator::new(map_calloc, map_free, std::ptr::null_mut()) }
}

// ---------------------------------------------------------------------------
// Descriptors: caller-supplied (untrusted) callbacks, so evacuation runs the
// pre-pass
// ---------------------------------------------------------------------------

thread_local! {
    /// Panic at the N-th hash call from now (0 = never).
    static HASH_PANIC_IN: Cell<usize> = const { Cell::new(0) };
}

fn countdown() -> bool {
    HASH_PANIC_IN.with(|c| match c.get() {
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

unsafe fn spread_hash(k: *const u8, seed: usize, _: *const ()) -> usize {
    // SAFETY: a u64 key.
    unsafe { gomap::alg::memhash64(k, seed) }
}

/// Every key lands in bucket 0 while B <= 7 (the low 7 bits are zero); bit
/// 7, the one a doubling from B = 7 adds, still splits them into X and Y.
unsafe fn bucket0_hash(k: *const u8, seed: usize, _: *const ()) -> usize {
    if countdown() {
        panic!("hasher failed");
    }
    // SAFETY: a u64 key.
    unsafe { gomap::alg::memhash64(k, seed) << 7 }
}

unsafe fn u64_equal(a: *const u8, b: *const u8, _: *const ()) -> bool {
    // SAFETY: u64 keys.
    unsafe { a.cast::<u64>().read_unaligned() == b.cast::<u64>().read_unaligned() }
}

fn custom_type(hasher: gomap::maptype::HashFn) -> MapType {
    MapTypeBuilder::new(TypeInfo::of::<u64>(), TypeInfo::of::<u64>(), hasher, u64_equal).build().unwrap()
}

/// `m[k] = k + 1`.
///
/// # Safety
/// `h` is a live map of u64 -> u64 of type `t`.
unsafe fn put(t: &MapType, h: NonNull<HMap>, k: u64) -> Result<(), MapError> {
    // SAFETY: a live map; a u64 key.
    let s = unsafe { map::mapassign(t, h.as_ptr(), (&raw const k).cast()) }?;
    // SAFETY: a u64 elem slot.
    unsafe { s.elem.as_ptr().cast::<u64>().write(k + 1) };
    Ok(())
}

/// Checks the map holds exactly `0..n` (each `k -> k + 1`) and is valid.
///
/// # Safety
/// As [`put`].
unsafe fn holds(t: &MapType, h: NonNull<HMap>, n: u64) {
    // SAFETY: a live map, not being written.
    unsafe { check_invariants(t, h) }.unwrap();
    // SAFETY: live.
    assert_eq!(unsafe { header(t, h) }.count as u64, n);
    for k in 0..n {
        // SAFETY: a live map; a u64 key.
        let (e, ok) = unsafe { map::mapaccess2(t, h.as_ptr(), (&raw const k).cast()) }.unwrap();
        // SAFETY: a u64 elem.
        assert!(ok && unsafe { e.cast::<u64>().read() } == k + 1, "key {k} lost");
    }
}

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

/// Every map operation on a map with its own allocator makes no global
/// allocation: growth (with the evacuation pre-pass, short and long
/// chains), lookups, iteration, deletes, clone (mid-growth), clear, shrink
/// and free.
#[test]
fn map_operations_make_no_global_allocations() {
    let a = map_alloc();
    // Warm up what a thread sets up once (its random generator).
    let _ = map::makemap_small_in(&a).map(|h| {
        // SAFETY: a fresh map, freed once.
        unsafe { map::mapfree(&custom_type(spread_hash), h.as_ptr()) }.unwrap()
    });
    for hasher in [spread_hash as gomap::maptype::HashFn, bucket0_hash] {
        let t = custom_type(hasher);
        // Under Miri 120: the piling hasher's doubling from B = 4 still
        // decides a chain of 104 entries, in a block of the map's allocator.
        let n = if cfg!(miri) { 120 } else { 2000 };
        let count = allocs_in(|| {
            let h = map::makemap_in(&t, 0, &a).unwrap();
            // SAFETY: `h` is live until the mapfree below; no iterator
            // outlives its loop.
            unsafe {
                for k in 0..n {
                    put(&t, h, k).unwrap();
                    if k == n / 2 {
                        // a clone (of a map in mid-growth, for the
                        // spreading hasher), then freed
                        let c = map::mapclone2(&t, h.as_ptr()).unwrap();
                        map::mapfree(&t, c.as_ptr()).unwrap();
                    }
                }
                for k in 0..n {
                    let (_, ok) = map::mapaccess2(&t, h.as_ptr(), (&raw const k).cast()).unwrap();
                    assert!(ok);
                }
                let mut it = HIter::new();
                map::mapiterinit(&t, h.as_ptr(), &mut it);
                let mut seen = 0;
                while !it.key.is_null() {
                    seen += 1;
                    map::mapiternext(&mut it);
                }
                assert_eq!(seen, n);
                for k in (0..n).step_by(2) {
                    map::mapdelete(&t, h.as_ptr(), (&raw const k).cast()).unwrap();
                }
                gomap::shrink::mapshrink(&t, h.as_ptr(), 0).unwrap();
                map::mapclear(&t, h.as_ptr());
                map::mapfree(&t, h.as_ptr()).unwrap();
            }
        });
        assert_eq!(count, 0, "global allocations during map operations");
    }
    assert_eq!(LIVE.with(Cell::get), 0, "map blocks leaked");
}

/// Builds a map at B = 7 holding keys `0..832`, all in bucket 0's chain (104
/// buckets): one more insert starts a doubling whose first evacuation
/// decides all 832 entries, more than fit the pre-pass's stack buffer.
fn long_chain(t: &MapType) -> NonNull<HMap> {
    let h = map::makemap_in(t, 832, &map_alloc()).unwrap();
    // SAFETY: live.
    assert_eq!(unsafe { header(t, h) }.b, 7);
    for k in 0..832 {
        // SAFETY: a live map of u64 -> u64.
        unsafe { put(t, h, k) }.unwrap();
    }
    // SAFETY: live.
    let hd = unsafe { header(t, h) };
    assert!(!hd.growing && hd.b == 7 && hd.noverflow > 100, "{hd:?}");
    h
}

/// The pre-pass's decisions for a chain of 832 entries (one byte each,
/// plus the block header: 848 bytes) come from the map's allocator; when
/// that allocation fails, the write that would evacuate the chain fails
/// with `AllocFailed`, nothing evacuated, and succeeds once memory is back.
#[test]
#[cfg_attr(
    miri,
    ignore = "832-entry chains take minutes under Miri; the heap path runs in map_operations_make_no_global_allocations"
)]
fn long_chain_decisions_come_from_the_map_allocator() {
    let t = custom_type(bucket0_hash);
    LIVE.with(|l| l.set(0));
    let h = long_chain(&t);
    FAIL_SIZE.with(|f| f.set(832 + 16));
    // SAFETY: a live map of u64 -> u64.
    assert_eq!(unsafe { put(&t, h, 832) }, Err(MapError::AllocFailed));
    // The growth started (hashGrow ran), but no old bucket moved.
    // SAFETY: live.
    let hd = unsafe { header(&t, h) };
    assert!(hd.growing && hd.nevacuate == 0, "{hd:?}");
    // SAFETY: live, not being written.
    unsafe { holds(&t, h, 832) };
    FAIL_SIZE.with(|f| f.set(usize::MAX));
    // SAFETY: as above.
    unsafe {
        put(&t, h, 832).unwrap();
        assert!(header(&t, h).nevacuate > 0);
        holds(&t, h, 833);
        map::mapfree(&t, h.as_ptr()).unwrap();
    }
    assert_eq!(LIVE.with(Cell::get), 0, "map blocks leaked");
}

/// A hasher that panics at any point of the long chain's pre-pass (the
/// insert's own hash is call 1, the chain's 832 are calls 2..=833) leaves
/// every entry in place and the map usable.
#[test]
#[cfg_attr(
    miri,
    ignore = "832-entry chains take minutes under Miri; the heap path runs in map_operations_make_no_global_allocations"
)]
fn hasher_panic_in_a_long_chain_pre_pass_leaves_it_in_place() {
    let t = custom_type(bucket0_hash);
    let h = long_chain(&t);
    for at in [2, 3, 400, 833] {
        HASH_PANIC_IN.with(|c| c.set(at));
        // SAFETY: a live map of u64 -> u64.
        let r = catch_unwind(AssertUnwindSafe(|| unsafe { put(&t, h, 832) }));
        HASH_PANIC_IN.with(|c| c.set(0));
        assert!(r.is_err(), "no panic at hash call {at}");
        // SAFETY: live.
        let hd = unsafe { header(&t, h) };
        assert!(hd.growing && hd.nevacuate == 0 && hd.flags & map::HASH_WRITING == 0, "{hd:?}");
        // SAFETY: live, not being written.
        unsafe { holds(&t, h, 832) };
    }
    // SAFETY: as above.
    unsafe {
        put(&t, h, 832).unwrap();
        holds(&t, h, 833);
        map::mapfree(&t, h.as_ptr()).unwrap();
    }
}
