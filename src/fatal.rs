//! Go's two failure paths, surfaced for a library.
//!
//! * **Fatal errors** (`fatal`/`throw` in Go, map_noswiss.go): the map has been
//!   misused (concurrent writes) or its state is impossible. Go prints
//!   `fatal error: <msg>` and exits. gomap calls the installed hook with the
//!   exact message; if there is none, or the hook returns, it prints Go's line
//!   to stderr and aborts. The map must not be used again after a fatal error.
//! * **Recoverable panics** (`panic(plainError(..))` in Go): assignment to a
//!   nil map and unhashable keys. gomap returns these as [`MapError`] values.

use core::cell::Cell;
use core::fmt;
use core::sync::atomic::{AtomicPtr, Ordering};

/// Go's fatal message for two writers at once (mapassign, mapdelete, mapclear).
pub const CONCURRENT_WRITES: &str = "concurrent map writes";
/// Go's fatal message for a read racing a write (mapaccess*).
pub const CONCURRENT_READ_WRITE: &str = "concurrent map read and map write";
/// Go's fatal message for iteration racing a write (mapiternext).
pub const CONCURRENT_ITER_WRITE: &str = "concurrent map iteration and map write";
/// Go's fatal message for clone racing a write (mapclone2).
pub const CONCURRENT_CLONE_WRITE: &str = "concurrent map clone and map write";

/// A fatal-error handler. It receives Go's message without the
/// `fatal error: ` prefix. It should not return; if it does, gomap aborts.
/// A Rust handler may panic to unwind out of the failing operation (tests do).
pub type FatalHook = fn(msg: &'static str);

/// The process-wide hook as a pointer (null = none), keeping provenance.
static HOOK: AtomicPtr<()> = AtomicPtr::new(core::ptr::null_mut());

thread_local! {
    static LOCAL_HOOK: Cell<Option<FatalHook>> = const { Cell::new(None) };
}

/// Installs (or removes) the process-wide fatal hook.
pub fn set_fatal_hook(hook: Option<FatalHook>) {
    HOOK.store(hook.map_or(core::ptr::null_mut(), |f| f as *mut ()), Ordering::Release);
}

/// Runs `body` with `hook` as this thread's fatal hook (tests).
pub fn with_fatal_hook<R>(hook: FatalHook, body: impl FnOnce() -> R) -> R {
    struct Restore(Option<FatalHook>);
    impl Drop for Restore {
        fn drop(&mut self) {
            LOCAL_HOOK.with(|h| h.set(self.0));
        }
    }
    let _restore = Restore(LOCAL_HOOK.with(|h| h.replace(Some(hook))));
    body()
}

/// Reports a fatal map error the way Go does (`fatal`, panic.go) and never
/// returns.
#[cold]
#[inline(never)]
pub fn fatal(msg: &'static str) -> ! {
    if let Some(h) = LOCAL_HOOK.with(Cell::get) {
        h(msg);
    } else {
        let f = HOOK.load(Ordering::Acquire);
        if !f.is_null() {
            // SAFETY: HOOK holds null or a `FatalHook` stored by `set_fatal_hook`.
            let h: FatalHook = unsafe { core::mem::transmute::<*mut (), FatalHook>(f) };
            h(msg);
        }
    }
    eprintln!("fatal error: {msg}");
    std::process::abort()
}

/// Go's `throw`: an internal invariant is broken. Same path as [`fatal`].
#[cold]
#[inline(never)]
pub fn throw(msg: &'static str) -> ! {
    fatal(msg)
}

/// The recoverable failures of map operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MapError {
    /// Go: `panic: assignment to entry in nil map`.
    NilMapAssign,
    /// Go: `panic: runtime error: hash of unhashable type`.
    UnhashableKey,
    /// The allocator returned no memory; the map's contents are unchanged.
    AllocFailed,
    /// The map still has live iterators (freeing or shrinking it now would
    /// pull memory out from under them).
    Busy,
}

impl MapError {
    /// The message Go prints for the same failure (or ours, where Go has none).
    pub const fn message(self) -> &'static str {
        match self {
            MapError::NilMapAssign => "assignment to entry in nil map",
            MapError::UnhashableKey => "runtime error: hash of unhashable type",
            MapError::AllocFailed => "out of memory",
            MapError::Busy => "map has live iterators",
        }
    }
}

impl fmt::Display for MapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

impl std::error::Error for MapError {}
