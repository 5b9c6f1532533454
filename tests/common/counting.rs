//! A global allocator that counts the calling thread's allocations while
//! armed, for tests that prove an operation allocates nothing (or how
//! much). A test crate installs it with
//! `#[global_allocator] static GLOBAL: CountingGlobal = CountingGlobal;`
//! and measures with [`allocs_in`].

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

thread_local! {
    /// Whether this thread's global allocations are being counted.
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    /// Global allocations made by this thread while counting.
    static ALLOCS: Cell<usize> = const { Cell::new(0) };
}

/// [`System`], counting this thread's allocations while [`allocs_in`] runs.
pub struct CountingGlobal;

impl CountingGlobal {
    fn note() {
        // `try_with`: the allocator also runs while thread locals are torn down.
        let _ = COUNTING.try_with(|c| {
            if c.get() {
                let _ = ALLOCS.try_with(|n| n.set(n.get() + 1));
            }
        });
    }
}

// SAFETY: forwards every call to `System`, which upholds GlobalAlloc's
// contract; the counting touches only const-initialised thread locals
// (which never allocate).
unsafe impl GlobalAlloc for CountingGlobal {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        Self::note();
        // SAFETY: the caller's contract, forwarded to `System` unchanged.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        Self::note();
        // SAFETY: the caller's contract, forwarded to `System` unchanged.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        Self::note();
        // SAFETY: the caller's contract (`ptr` from this allocator, that is
        // from `System`), forwarded unchanged.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as for `realloc`.
        unsafe { System.dealloc(ptr, layout) }
    }
}

/// Runs `f` and returns how many global allocations this thread made in it
/// (counted only where the test crate installed [`CountingGlobal`]).
pub fn allocs_in(f: impl FnOnce()) -> usize {
    ALLOCS.with(|n| n.set(0));
    COUNTING.with(|c| c.set(true));
    f();
    COUNTING.with(|c| c.set(false));
    ALLOCS.with(Cell::get)
}
