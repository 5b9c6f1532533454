//! A process-wide host hook: a C function pointer and its context, published
//! and replaced as one unit (gomap only; Go's runtime has no hooks).
//!
//! A hook is called from any thread, at any time, and replaced by the host
//! while other threads may be calling it. Two separate atomics (one for the
//! function, one for the context) let a caller pair the new function with the
//! old context. Here each (function, context) pair lives in one of two slots;
//! `active` names the slot callers use, and every call counts itself in its
//! slot's `inflight` while it runs:
//!
//! ```text
//!   caller:  i = active; inflight[i] += 1; if active != i { undo, retry }
//!            read slot i's pair; call it; inflight[i] -= 1
//!   setter:  (under a lock) write the pair into the idle slot n;
//!            active = n; wait until inflight[old] == 0
//! ```
//!
//! All four steps use sequentially consistent atomics, so a caller that
//! counted itself in slot `i` after the setter's switch sees the switch and
//! retries; a caller that saw slot `i` active before the switch is waited for.
//! Hence the guarantee the C API documents: **when the setter returns, no
//! thread is running the previous hook or will call it again**, and the host
//! may free the previous context. The setter writes only the idle slot, which
//! the previous setter drained, so no caller reads a half-written pair.
//!
//! A hook that calls its own setter would wait for itself: the setter
//! refuses that (`None`), detected with a per-thread mark.

use core::cell::Cell;
use core::ffi::c_void;
use core::sync::atomic::{AtomicBool, AtomicPtr, AtomicUsize, Ordering::SeqCst};
use std::sync::Mutex;

/// One (function, context) pair and the number of calls using it.
struct Slot {
    /// The function, type-erased (null = no hook); a pointer, not an
    /// integer, so that it keeps its provenance.
    f: AtomicPtr<()>,
    ctx: AtomicPtr<c_void>,
    /// Calls that counted themselves in this slot and have not finished.
    inflight: AtomicUsize,
}

impl Slot {
    const fn new() -> Self {
        Self {
            f: AtomicPtr::new(core::ptr::null_mut()),
            ctx: AtomicPtr::new(core::ptr::null_mut()),
            inflight: AtomicUsize::new(0),
        }
    }
}

/// A replaceable process-wide hook. `id` (0..32) names it for the
/// re-entrancy check.
pub struct Hook {
    id: u32,
    /// Whether any hook was ever installed: callers that find it clear skip
    /// the counting (the common case: no host hook).
    ever: AtomicBool,
    /// Index (0 or 1) of the slot calls use.
    active: AtomicUsize,
    slots: [Slot; 2],
    /// Serialises setters.
    set_lock: Mutex<()>,
}

thread_local! {
    /// Bit `id` is set while this thread runs hook `id`.
    static RUNNING: Cell<u32> = const { Cell::new(0) };
}

impl Hook {
    pub const fn new(id: u32) -> Self {
        assert!(id < 32);
        Self {
            id,
            ever: AtomicBool::new(false),
            active: AtomicUsize::new(0),
            slots: [Slot::new(), Slot::new()],
            set_lock: Mutex::new(()),
        }
    }

    /// Calls `call(f, ctx)` with the installed pair, or returns `None` when
    /// no hook is installed. The pair is consistent: both from one setter.
    #[inline]
    pub fn with<R>(&self, call: impl FnOnce(*mut (), *mut c_void) -> R) -> Option<R> {
        if !self.ever.load(SeqCst) {
            return None;
        }
        self.with_slow(call)
    }

    #[cold]
    fn with_slow<R>(&self, call: impl FnOnce(*mut (), *mut c_void) -> R) -> Option<R> {
        let slot = loop {
            let i = self.active.load(SeqCst);
            let s = &self.slots[i];
            s.inflight.fetch_add(1, SeqCst);
            if self.active.load(SeqCst) == i {
                break s;
            }
            s.inflight.fetch_sub(1, SeqCst);
        };
        // Uncounts the call on return and on unwind alike.
        struct Done<'a>(&'a Slot, u32);
        impl Drop for Done<'_> {
            fn drop(&mut self) {
                RUNNING.with(|r| r.set(self.1));
                self.0.inflight.fetch_sub(1, SeqCst);
            }
        }
        let _done = Done(slot, RUNNING.with(|r| r.replace(r.get() | 1 << self.id)));
        let f = slot.f.load(SeqCst);
        if f.is_null() {
            return None;
        }
        Some(call(f, slot.ctx.load(SeqCst)))
    }

    /// Installs `(f, ctx)` (null `f`: no hook) and returns once no thread
    /// runs the previous pair or can call it again. `None` when called from
    /// inside this hook (it would wait for itself).
    pub fn set(&self, f: *mut (), ctx: *mut c_void) -> Option<()> {
        if RUNNING.with(Cell::get) & (1 << self.id) != 0 {
            return None;
        }
        let _g = self.set_lock.lock().unwrap_or_else(|e| e.into_inner());
        let old = self.active.load(SeqCst);
        let new = &self.slots[1 - old];
        // The idle slot was drained by the setter that left it; callers that
        // count themselves in it now see it inactive and do not read it.
        new.ctx.store(ctx, SeqCst);
        new.f.store(f, SeqCst);
        self.active.store(1 - old, SeqCst);
        self.ever.store(true, SeqCst);
        while self.slots[old].inflight.load(SeqCst) != 0 {
            std::thread::yield_now();
        }
        Some(())
    }
}
