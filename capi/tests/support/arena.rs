//! A host arena allocator for the C ABI's tests (`allocators.rs`,
//! `quarantine.rs`): counts the allocation calls and the bytes a map holds
//! from it, so a test sees every block a map allocates and frees.

use std::cell::Cell;
use std::ffi::c_void;

/// What one map allocated and still holds.
#[derive(Default)]
pub struct Arena {
    /// Calls to `arena_calloc`.
    pub calls: Cell<usize>,
    /// Bytes allocated and not freed.
    pub live: Cell<isize>,
}

impl Arena {
    /// The context pointer to give `gomap_makemap_with_allocator`.
    pub fn ctx(&self) -> *mut c_void {
        std::ptr::from_ref(self).cast_mut().cast()
    }
}

/// `gomap_calloc_fn` over `calloc`, counting into the `Arena` at `ctx`.
///
/// # Safety
/// `ctx` is a live `Arena`, used by this thread only.
pub unsafe extern "C" fn arena_calloc(ctx: *mut c_void, size: usize) -> *mut c_void {
    // SAFETY: a live `Arena` (the contract).
    let a = unsafe { &*ctx.cast::<Arena>() };
    a.calls.set(a.calls.get() + 1);
    a.live.set(a.live.get() + size as isize);
    // SAFETY: calloc accepts any size.
    unsafe { libc::calloc(1, size) }
}

/// `gomap_free_fn` for [`arena_calloc`].
///
/// # Safety
/// As [`arena_calloc`]; `p` came from it with `size`, freed once.
pub unsafe extern "C" fn arena_free(ctx: *mut c_void, p: *mut c_void, size: usize) {
    // SAFETY: a live `Arena` (the contract).
    let a = unsafe { &*ctx.cast::<Arena>() };
    a.live.set(a.live.get() - size as isize);
    // SAFETY: `p` came from arena_calloc's calloc, freed once.
    unsafe { libc::free(p) }
}
