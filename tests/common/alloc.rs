//! A counting allocator for maps made through the core API
//! (`map::makemap_in`; a `GoMap` always uses the default allocator), with
//! one injectable failure.
//!
//! The counts are per thread: each test runs on its own thread and each
//! map stays on the thread that made it. [`allocs`] counts allocations,
//! [`live_blocks`] the blocks not yet freed; [`failing_nth`] makes one
//! allocation return null, which the map reports as `AllocFailed`. A
//! [`Counter`] given as the allocator's context also counts for one map
//! alone.
//!
//! tests/retirement.rs has an allocator of its own on purpose: it poisons
//! and quarantines freed blocks instead of freeing them.
#![allow(dead_code, reason = "each test crate uses the part it needs")]

use std::cell::Cell;
use std::ffi::c_void;

use gomap::alloc::Allocator;

thread_local! {
    /// Allocations made (failed ones included).
    static ALLOCS: Cell<usize> = const { Cell::new(0) };
    /// Blocks allocated and not yet freed.
    static LIVE_BLOCKS: Cell<isize> = const { Cell::new(0) };
    /// The value of `ALLOCS` at which the allocation fails (`usize::MAX`:
    /// none does).
    static FAIL_AT: Cell<usize> = const { Cell::new(usize::MAX) };
}

/// One map's bytes and blocks (the allocator's context).
#[derive(Default)]
pub struct Counter {
    pub bytes: Cell<isize>,
    pub blocks: Cell<isize>,
}

/// # Safety
/// `ctx` is null or points to a [`Counter`] that outlives the map.
unsafe extern "C" fn counting_calloc(ctx: *mut c_void, size: usize) -> *mut c_void {
    let n = ALLOCS.with(|a| {
        a.set(a.get() + 1);
        a.get()
    });
    if n == FAIL_AT.with(Cell::get) {
        return std::ptr::null_mut();
    }
    LIVE_BLOCKS.with(|l| l.set(l.get() + 1));
    // SAFETY: the context is null or a Counter that outlives the map (caller).
    if let Some(c) = unsafe { ctx.cast::<Counter>().as_ref() } {
        c.bytes.set(c.bytes.get() + size as isize);
        c.blocks.set(c.blocks.get() + 1);
    }
    // SAFETY: calloc with any size returns null or `size` zeroed bytes,
    // aligned for any fundamental type.
    unsafe { libc::calloc(1, size) }
}

/// # Safety
/// `p` is a block of `size` bytes from [`counting_calloc`] with the same
/// `ctx`, freed once.
unsafe extern "C" fn counting_free(ctx: *mut c_void, p: *mut c_void, size: usize) {
    LIVE_BLOCKS.with(|l| l.set(l.get() - 1));
    // SAFETY: as in counting_calloc.
    if let Some(c) = unsafe { ctx.cast::<Counter>().as_ref() } {
        c.bytes.set(c.bytes.get() - size as isize);
        c.blocks.set(c.blocks.get() - 1);
    }
    // SAFETY: a block from calloc (counting_calloc), freed once (caller).
    unsafe { libc::free(p) }
}

/// The counting allocator; with a counter, it also counts for that map.
pub fn counting(c: Option<&Counter>) -> Allocator {
    let ctx = c.map_or(std::ptr::null_mut(), |c| (c as *const Counter).cast_mut().cast());
    // SAFETY: calloc/free wrappers; the counters are thread-local or owned
    // by the map's owner, which frees the map first; each map stays on one
    // thread.
    unsafe { Allocator::new(counting_calloc, counting_free, ctx) }
}

/// Allocations made on this thread so far.
pub fn allocs() -> usize {
    ALLOCS.with(Cell::get)
}

/// Blocks allocated on this thread and not freed.
pub fn live_blocks() -> isize {
    LIVE_BLOCKS.with(Cell::get)
}

/// Runs `f` with the `n`-th allocation it makes failing (1: the first).
pub fn failing_nth<R>(n: usize, f: impl FnOnce() -> R) -> R {
    /// Disarms the failure, also if `f` panics.
    struct Disarm;
    impl Drop for Disarm {
        fn drop(&mut self) {
            FAIL_AT.with(|f| f.set(usize::MAX));
        }
    }
    FAIL_AT.with(|f| f.set(allocs().saturating_add(n)));
    let _disarm = Disarm;
    f()
}
