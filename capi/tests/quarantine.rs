//! The quarantine of C ABI maps (`gomap::quarantine`, docs/memory.md,
//! "Racing threads"): what a write releases stays allocated for threads
//! that race with it, up to the grace, and then waits in a pool for reuse
//! by the same role; `gomap_map_quiesce`, `gomap_mapshrink`, `gomap_free`
//! and `gomap_map_quarantine(m, 0)` give it back. Counted through a host
//! allocator, so every byte is the map's own.

use std::ffi::c_void;
use std::ptr;

use gomap_capi::gomap_status::*;
use gomap_capi::*;

#[path = "support/arena.rs"]
mod arena;
use arena::{Arena, arena_calloc, arena_free};

const WORDS: usize = 25; // 200-byte elems: out of line

/// `map[uint64][200]byte` on `arena`, keys `0..n`, elem words = key.
fn big_map(arena: &Arena, n: u64) -> (*mut gomap_type, *mut gomap_map) {
    let mut t = ptr::null_mut();
    // SAFETY: `t` is writable.
    assert_eq!(unsafe { gomap_type_preset(GOMAP_KEY_U64, WORDS * 8, 8, false, &mut t) }, GOMAP_OK);
    let ctx = arena.ctx();
    let mut m = ptr::null_mut();
    // SAFETY: a live type; the functions follow the allocator contract with
    // `ctx`, which outlives the map.
    let st = unsafe { gomap_makemap_with_allocator(t, 0, Some(arena_calloc), Some(arena_free), ctx, &mut m) };
    assert_eq!(st, GOMAP_OK);
    for k in 0..n {
        put(m, k);
    }
    (t, m)
}

fn put(m: *mut gomap_map, k: u64) {
    let mut e: *mut c_void = ptr::null_mut();
    // SAFETY: a live map of u64 keys; `e` writable.
    assert_eq!(unsafe { gomap_mapassign(m, (&raw const k).cast(), &mut e) }, GOMAP_OK);
    for i in 0..WORDS {
        // SAFETY: the elem slot holds WORDS words, 8-aligned.
        unsafe { e.cast::<u64>().add(i).write(k) };
    }
}

fn del(m: *mut gomap_map, k: u64) {
    // SAFETY: a live map of u64 keys.
    assert_eq!(unsafe { gomap_mapdelete(m, (&raw const k).cast()) }, GOMAP_OK);
}

fn get(m: *mut gomap_map, k: u64) -> *const u64 {
    let mut e: *const c_void = ptr::null();
    let mut ok = false;
    // SAFETY: a live map of u64 keys; outs writable.
    assert_eq!(unsafe { gomap_mapaccess2(m, (&raw const k).cast(), &mut e, &mut ok) }, GOMAP_OK);
    assert!(ok, "key {k}");
    e.cast()
}

fn stats(m: *mut gomap_map) -> gomap_stats {
    let mut s = gomap_stats::default();
    // SAFETY: a live map; `s` writable.
    assert_eq!(unsafe { gomap_map_stats(m, &mut s) }, GOMAP_OK);
    s
}

fn free(t: *mut gomap_type, m: *mut gomap_map) {
    // SAFETY: a live map, no iterator; not used again.
    assert_eq!(unsafe { gomap_free(m) }, GOMAP_OK);
    // SAFETY: its last map is freed.
    unsafe { gomap_type_free(t) };
}

/// A reader that looked an elem up just before another thread deleted it
/// reads it afterwards: the block must still be allocated (Go's GC keeps
/// it). Before the quarantine the delete freed it at once: the arena's
/// bytes fell by the block's 216, and the read below was a use after free
/// (reported by Miri, ASan and valgrind, which run this file).
#[test]
fn a_deleted_elem_stays_readable() {
    let arena = Arena::default();
    let (t, m) = big_map(&arena, 100);
    let e = get(m, 5);
    let before = arena.live.get();
    // The growths that filled the map left their old arrays there already.
    let q0 = stats(m);
    del(m, 5);
    assert_eq!(arena.live.get(), before, "the delete freed memory a racing reader may hold");
    // SAFETY: the block is still allocated (checked above): the stale
    // elem, as a reader racing with the delete would read it.
    let stale: Vec<u64> = (0..WORDS).map(|i| unsafe { e.add(i).read() }).collect();
    assert!(stale.iter().all(|&w| w == 5 || w == 0), "{stale:?}");
    let s = stats(m);
    assert_eq!((s.quarantined_blocks - q0.quarantined_blocks, s.quarantined_bytes - q0.quarantined_bytes), (1, 216));
    free(t, m);
    assert_eq!(arena.live.get(), 0);
}

/// Churn with a steady 100 entries: the queue holds at most the grace (64
/// KiB, above the largest block), blocks past it go to the pool and are
/// reused by later inserts, so the map's memory levels off and inserts
/// stop calling the allocator. Without the pool (quarantine only) every
/// insert would allocate its elem; without either, every delete freed it.
#[test]
fn churn_levels_off_and_reuses_blocks() {
    let arena = Arena::default();
    let (t, m) = big_map(&arena, 100);
    let rounds: u64 = if cfg!(miri) { 600 } else { 5_000 };
    let mut peak = 0;
    let mut calls_half = 0;
    for i in 0..rounds {
        put(m, 100 + i);
        del(m, i);
        let s = stats(m);
        // Everything the map holds is in the stats, the quarantine too.
        assert_eq!(s.total_bytes as isize, arena.live.get());
        // Queued: the grace (64 KiB) plus the newest block; pooled: at most
        // what the map once held live (its elems and arrays: 100-some
        // entries), so the total is bounded by a constant.
        peak = peak.max(arena.live.get());
        if i == rounds / 2 {
            calls_half = arena.calls.get();
        }
    }
    let s = stats(m);
    let late_calls = arena.calls.get() - calls_half;
    println!(
        "peak {peak} bytes, {} quarantined ({} blocks), {late_calls} allocations in the second half, {:?}",
        s.quarantined_bytes, s.quarantined_blocks, s
    );
    // 100 live entries take ~22 KB of elems plus ~3 KB of buckets; grace
    // 64 KiB; the pool at most the same again as the live map plus the
    // arrays of its growths.
    assert!(peak < 200_000, "peak {peak}");
    // The second half of the churn allocated (almost) nothing: every elem
    // came from the pool. Without the pool each of its inserts allocates
    // its elem (2,500 here); what remains is the map's own growth, which
    // depends on the seed: overflow buckets, a same-size growth's array not
    // pooled yet (0 to 12 in 200 runs).
    let bound = 20;
    assert!(
        late_calls <= bound && late_calls * 10 < (rounds / 2) as usize,
        "{late_calls} allocations in the second half"
    );
    free(t, m);
    assert_eq!(arena.live.get(), 0);
}

/// `gomap_map_quiesce` frees what the quarantine holds and keeps it;
/// `gomap_map_quarantine(m, 0)` frees it and turns it off (deletes then
/// free at once); a non-zero floor turns it back on.
#[test]
fn quiesce_and_off_give_memory_back() {
    let arena = Arena::default();
    let (t, m) = big_map(&arena, 200);
    for k in 0..100 {
        del(m, k);
    }
    let held = stats(m).quarantined_bytes as isize;
    assert!(held >= 100 * 216, "{held}");
    let live = arena.live.get();
    // SAFETY: a live map, no other thread.
    assert_eq!(unsafe { gomap_map_quiesce(m) }, GOMAP_OK);
    assert_eq!(arena.live.get(), live - held);
    assert_eq!(stats(m).quarantined_bytes, 0);
    del(m, 100);
    assert_eq!(stats(m).quarantined_blocks, 1, "still on after quiesce");
    assert_eq!(stats(m).total_bytes as isize, arena.live.get());
    // SAFETY: a live map, no other thread.
    assert_eq!(unsafe { gomap_map_quarantine(m, 0) }, GOMAP_OK);
    assert_eq!(stats(m).quarantined_bytes, 0);
    let live = arena.live.get();
    del(m, 101);
    assert_eq!(arena.live.get(), live - 216, "off: a delete frees its elem at once");
    // SAFETY: a live map, no other thread.
    assert_eq!(unsafe { gomap_map_quarantine(m, 4096) }, GOMAP_OK);
    del(m, 102);
    assert_eq!(stats(m).quarantined_blocks, 1);
    // SAFETY: NULL is rejected / a no-op.
    assert_eq!(unsafe { gomap_map_quarantine(ptr::null_mut(), 1) }, GOMAP_ERR_NULL);
    // SAFETY: NULL is a no-op.
    assert_eq!(unsafe { gomap_map_quiesce(ptr::null_mut()) }, GOMAP_OK);
    free(t, m);
    assert_eq!(arena.live.get(), 0);
}

/// A clone gets a quarantine of its own with its source's setting: on for a
/// default map, off for a map whose host turned it off. Freeing the source
/// leaves the clone's intact (each frees only its own).
#[test]
fn clones_inherit_the_setting() {
    for on in [true, false] {
        let arena = Arena::default();
        let (t, m) = big_map(&arena, 50);
        if !on {
            // SAFETY: a live map, no other thread.
            assert_eq!(unsafe { gomap_map_quarantine(m, 0) }, GOMAP_OK);
        }
        let mut c = ptr::null_mut();
        // SAFETY: a live map; `c` writable.
        assert_eq!(unsafe { gomap_mapclone(m, &mut c) }, GOMAP_OK);
        del(m, 1);
        // SAFETY: the source is used by no one; not used again.
        assert_eq!(unsafe { gomap_free(m) }, GOMAP_OK);
        let live = arena.live.get();
        del(c, 2);
        let freed = live - arena.live.get();
        assert_eq!((stats(c).quarantined_blocks, freed), if on { (1, 0) } else { (0, 216) }, "on: {on}");
        free(t, c);
        assert_eq!(arena.live.get(), 0);
    }
}

/// `gomap_mapshrink` is the host asking for memory back: it frees the
/// quarantine too (a shrink policy's shrinks inside writes do not).
#[test]
fn shrink_frees_the_quarantine() {
    let arena = Arena::default();
    let (t, m) = big_map(&arena, 2_000);
    for k in 10..2_000 {
        del(m, k);
    }
    assert!(stats(m).quarantined_bytes > 0);
    // SAFETY: a live map, no iterator, no other thread.
    assert_eq!(unsafe { gomap_mapshrink(m, 0) }, GOMAP_OK);
    let s = stats(m);
    assert_eq!((s.quarantined_blocks, s.quarantined_bytes), (0, 0));
    assert_eq!(s.total_bytes as isize, arena.live.get());
    assert!(arena.live.get() < 10_000, "{}", arena.live.get());
    free(t, m);
}

/// `gomap_visit` reports the quarantine's blocks as
/// `GOMAP_VISIT_ALLOC_QUARANTINED`, so that the allocations it reports are
/// still every allocation the map holds.
#[test]
fn visit_reports_quarantined_blocks() {
    let arena = Arena::default();
    let (t, m) = big_map(&arena, 100);
    for k in 0..30 {
        del(m, k);
    }
    #[derive(Default)]
    struct Sum {
        alloc: usize,
        quarantined: usize,
    }
    unsafe extern "C" fn visitor(ctx: *mut c_void, what: u32, _p: *mut c_void, size: usize) {
        // SAFETY: ctx is the `Sum` below, alive during the visit.
        let s = unsafe { &mut *ctx.cast::<Sum>() };
        if what >= 16 {
            s.alloc += size;
        }
        if what == 23 {
            s.quarantined += size;
        }
    }
    let q = stats(m).quarantined_bytes;
    assert!(q >= 30 * 216, "{q}");
    let mut sum = Sum::default();
    // SAFETY: a live map; the visitor does not touch it.
    assert_eq!(unsafe { gomap_visit(m, Some(visitor), (&raw mut sum).cast()) }, GOMAP_OK);
    assert_eq!(sum.alloc as isize, arena.live.get());
    assert_eq!(sum.quarantined, q);
    free(t, m);
}
