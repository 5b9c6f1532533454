//! Host allocators given per map (`gomap_makemap_with_allocator`): each map
//! keeps its host's functions and context itself, so a runtime that gives
//! every map (or every arena) its own context pays nothing process-wide.
//! Before, each distinct context went into a registry that was never
//! shrunk and was searched linearly under a lock: 20k contexts per batch
//! slowed `make` from 0.27 s to 5.3 s per batch and kept ~8 MB.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::ptr;

use gomap_capi::gomap_status::*;
use gomap_capi::*;

#[path = "support/arena.rs"]
mod arena;
use arena::{Arena, arena_calloc, arena_free};

thread_local! {
    /// Bytes this thread holds through the global allocator (per thread:
    /// the test harness allocates on its own threads meanwhile).
    static RUST_LIVE: Cell<isize> = const { Cell::new(0) };
}

fn rust_live() -> isize {
    RUST_LIVE.with(Cell::get)
}

struct Counting;

// SAFETY: forwards to System, only counting.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        RUST_LIVE.with(|b| b.set(b.get() + l.size() as isize));
        // SAFETY: the caller's layout, forwarded.
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        RUST_LIVE.with(|b| b.set(b.get() - l.size() as isize));
        // SAFETY: `p` came from `alloc` with `l`, forwarded.
        unsafe { System.dealloc(p, l) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Makes a u64 -> u64 map on `arena`, fills it with `n` entries, frees it.
fn one_map(t: *const gomap_type, arena: &Arena, n: u64) {
    let ctx = arena.ctx();
    let mut m = ptr::null_mut();
    // SAFETY: a live type; the functions follow the allocator contract with
    // `ctx`, which outlives the map (freed below).
    let st = unsafe { gomap_makemap_with_allocator(t, 0, Some(arena_calloc), Some(arena_free), ctx, &mut m) };
    assert_eq!(st, GOMAP_OK);
    for k in 0..n {
        let mut e = ptr::null_mut();
        // SAFETY: a live map of `t`; the elem slot holds a u64.
        assert_eq!(unsafe { gomap_mapassign(m, (&raw const k).cast(), &mut e) }, GOMAP_OK);
        // SAFETY: the elem slot of a u64 elem.
        unsafe { e.cast::<u64>().write(k) };
    }
    // SAFETY: a live map, no iterators.
    assert_eq!(unsafe { gomap_free(m) }, GOMAP_OK);
}

/// Every map allocates and frees through its own context only, and making
/// maps with ever new contexts leaves nothing behind on the Rust side.
#[test]
fn each_map_keeps_its_own_allocator_context() {
    let mut t = ptr::null_mut();
    // SAFETY: `t` is writable.
    assert_eq!(unsafe { gomap_type_preset(GOMAP_KEY_U64, 8, 8, false, &mut t) }, GOMAP_OK);
    let maps = if cfg!(miri) { 50 } else { 20_000 };
    // Warm up whatever the first map and the test harness allocate once.
    one_map(t, &Arena::default(), 20);
    // Distinct contexts: all arenas live at once, so no address repeats.
    let arenas: Vec<Arena> = (0..maps).map(|_| Arena::default()).collect();
    let before = rust_live();
    for (i, arena) in arenas.iter().enumerate() {
        one_map(t, arena, 1 + i as u64 % 40);
        assert!(arena.calls.get() >= 2, "map {i}: its arena was not used ({} calls)", arena.calls.get());
        assert_eq!(arena.live.get(), 0, "map {i}: bytes left in its arena");
    }
    let grown = rust_live() - before;
    assert!(grown <= 0, "{maps} distinct allocator contexts left {grown} bytes on the Rust heap");
    // SAFETY: a live type handle, no maps left.
    unsafe { gomap_type_free(t) };
}
