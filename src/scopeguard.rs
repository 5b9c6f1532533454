//! Scope guards: cleanup that runs when a scope is left early, by an error
//! returned with `?` or by a callback unwinding, and is defused on success.
//!
//! Modelled on hashbrown's `src/scopeguard.rs` (itself from the
//! `scopeguard` crate). One guard holds the state the cleanup needs; the
//! operation updates that state as it makes progress (through `Deref` /
//! `DerefMut`), so the cleanup undoes exactly what was done so far. Error
//! and unwind then share one cleanup path: the guard's drop.
//!
//! ```text
//! let mut done = guard(0, |n| undo_first(*n));   // armed
//! for i in 0..len { step(i)?; *done = i + 1; }    // progress recorded
//! ScopeGuard::into_inner(done);                   // success: defused
//! ```

use core::mem::ManuallyDrop;
use core::ops::{Deref, DerefMut};
use core::ptr;

/// Runs `dropfn(&mut value)` when dropped, unless defused with
/// [`ScopeGuard::into_inner`].
pub(crate) struct ScopeGuard<T, F>
where
    F: FnMut(&mut T),
{
    dropfn: F,
    value: T,
}

/// Arms a guard over `value` that runs `dropfn` on it when dropped.
#[inline]
pub(crate) fn guard<T, F>(value: T, dropfn: F) -> ScopeGuard<T, F>
where
    F: FnMut(&mut T),
{
    ScopeGuard { dropfn, value }
}

impl<T, F> ScopeGuard<T, F>
where
    F: FnMut(&mut T),
{
    /// Defuses the guard: returns its value without running the cleanup.
    #[inline]
    pub(crate) fn into_inner(guard: Self) -> T {
        // Fields of a type with `Drop` cannot be moved out: read them from
        // a `ManuallyDrop` copy instead, which never runs our `drop`.
        let guard = ManuallyDrop::new(guard);
        // SAFETY: `guard.value` is initialised, aligned and read once; the
        // `ManuallyDrop` wrapper is never used again, so the value is not
        // duplicated.
        let value = unsafe { ptr::read(&guard.value) };
        // SAFETY: `guard.dropfn` is initialised, aligned and read once (the
        // `ManuallyDrop` is never used again, so it is not duplicated); read
        // so that whatever the closure captured is dropped here (without
        // calling it).
        drop(unsafe { ptr::read(&guard.dropfn) });
        value
    }
}

impl<T, F> Deref for ScopeGuard<T, F>
where
    F: FnMut(&mut T),
{
    type Target = T;
    #[inline]
    fn deref(&self) -> &T {
        &self.value
    }
}

impl<T, F> DerefMut for ScopeGuard<T, F>
where
    F: FnMut(&mut T),
{
    #[inline]
    fn deref_mut(&mut self) -> &mut T {
        &mut self.value
    }
}

impl<T, F> Drop for ScopeGuard<T, F>
where
    F: FnMut(&mut T),
{
    #[inline]
    fn drop(&mut self) {
        (self.dropfn)(&mut self.value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;
    use std::rc::Rc;

    /// The cleanup runs on a normal drop, on `?` and on unwind, with the
    /// progress recorded last; `into_inner` defuses it and drops the
    /// closure's captures exactly once.
    #[test]
    fn runs_on_drop_error_and_unwind_not_after_into_inner() {
        let ran = Cell::new(None);
        {
            let mut g = guard(0, |n| ran.set(Some(*n)));
            *g = 3;
        }
        assert_eq!(ran.take(), Some(3));

        let f = |fail_at: usize| -> Result<usize, usize> {
            let mut done = guard(0, |n| ran.set(Some(*n)));
            for i in 0..5 {
                if i == fail_at {
                    return Err(i);
                }
                *done = i + 1;
            }
            Ok(ScopeGuard::into_inner(done))
        };
        assert_eq!(f(2), Err(2));
        assert_eq!(ran.take(), Some(2));
        assert_eq!(f(9), Ok(5));
        assert_eq!(ran.take(), None);

        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let mut g = guard(0, |n| ran.set(Some(*n)));
            *g = 7;
            panic!("unwind");
        }));
        assert!(r.is_err());
        assert_eq!(ran.take(), Some(7));

        let captured = Rc::new(());
        let c = Rc::clone(&captured);
        let g = guard(Rc::new(1), move |_| drop(Rc::clone(&c)));
        let v = ScopeGuard::into_inner(g);
        assert_eq!((*v, Rc::strong_count(&captured)), (1, 1));
    }
}
