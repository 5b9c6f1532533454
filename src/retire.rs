//! Retirement and freeing: what replaces Go's garbage collector (gomap
//! only; `docs/memory.md` gives the rules).
//!
//! A block the map stops using is freed at once when no iterator can reach
//! it; otherwise it is *retired* onto the map's retire list and freed when
//! the last iterator ends ([`mapiterend`]). Out-of-line keys and elems that
//! stale slots of the old array still point to wait on `oldstorage` until
//! that array leaves the map. [`mapfree`] frees everything.

#![deny(clippy::multiple_unsafe_ops_per_block)]

use core::ptr::{self, NonNull};
use core::sync::atomic::Ordering;

use crate::alloc::{self, Allocator, Header, Kind};
use crate::fatal::MapError;
use crate::map::*;
use crate::maptype::MapType;

impl Header {
    /// Clears the retire-list link.
    pub(crate) fn clear_next(&mut self) {
        self.set_next(ptr::null_mut());
    }
}

// ---------------------------------------------------------------------------
// Retirement: what replaces the GC (gomap only; see docs/memory.md)
// ---------------------------------------------------------------------------

/// Frees a block now, running whatever its kind requires.
///
/// # Safety
/// `p` must be a live block of a map of type `t` allocated with `a`, that
/// nothing will use again.
unsafe fn free_now(t: &MapType, a: &Allocator, p: NonNull<u8>) {
    // SAFETY: forwarded.
    match unsafe { alloc::block_kind(p) } {
        Kind::Key => {
            if let Some(drop_key) = t.key_drop {
                // SAFETY: a Key block holds one key whose drop was deferred.
                unsafe { drop_key(p.as_ptr(), t.ctx) };
            }
            // SAFETY: forwarded.
            unsafe { alloc::free_block(a, p) }
        }
        // An array's heap overflow buckets are not reached from here: they
        // are on the `extra` list released with it (`retire_overflow`).
        // SAFETY: forwarded.
        Kind::Array | Kind::Plain | Kind::Hmap => unsafe { alloc::free_block(a, p) },
    }
}

impl HMap {
    /// Frees `p` now if no iterator is live, else retires it until the last
    /// live iterator ends.
    ///
    /// # Safety
    /// `p` must be a live block of this map that the map itself no longer
    /// references; `t` this map's type.
    pub(crate) unsafe fn retire(&self, t: &MapType, p: NonNull<u8>) {
        if self.live_iters.load(Ordering::Acquire) == 0 {
            // SAFETY: forwarded; no iterator can reach it.
            unsafe { free_now(t, &self.alloc, p) };
        } else {
            let mut head = self.retired.load(Ordering::Acquire);
            // SAFETY: forwarded; the block is on no list.
            unsafe { alloc::push_retired(&mut head, p) };
            self.retired.store(head, Ordering::Release);
        }
    }

    /// Retires the out-of-line storage of a removed key or elem, which the
    /// map's live slots no longer reference. While the map grows with
    /// `OLD_ITERATOR` set, `evacuate` keeps the old buckets' data (as Go
    /// does), so an evacuated old slot may still point to it: the storage
    /// then goes on `oldstorage` and stays allocated until the old array
    /// leaves the map ([`Self::release_oldstorage`]), whether or not an
    /// iterator is live. Otherwise the old slot was cleared by `evacuate`
    /// (or cut off with its overflow bucket), and [`Self::retire`] applies.
    ///
    /// `OLD_ITERATOR` is never cleared during a growth (only `hashGrow`
    /// clears it), so storage removed without it set was never left behind
    /// in a reachable old slot.
    ///
    /// # Safety
    /// `p` is a live out-of-line key or elem block of this map that no live
    /// slot references any more; `t` is this map's type; under a write.
    unsafe fn retire_storage(&self, t: &MapType, p: NonNull<u8>) {
        if self.growing() && self.flags() & OLD_ITERATOR != 0 {
            let mut head = self.oldstorage.load(Ordering::Relaxed);
            // SAFETY: 1. `p` is a live block (caller); 2. it is on no list:
            // it was referenced by a live slot until now.
            unsafe { alloc::push_retired(&mut head, p) };
            self.oldstorage.store(head, Ordering::Relaxed);
        } else {
            // SAFETY: `p` is a live block of this map (caller), referenced
            // by no live slot and by no reachable old slot (see above).
            unsafe { self.retire(t, p) };
        }
    }

    /// Releases the storage [`Self::retire_storage`] kept for the old
    /// array's stale slots: each block is freed now, or retired while an
    /// iterator is live (an iterator that started before the growth may
    /// still walk the old array, which then is on the retire list too).
    ///
    /// # Safety
    /// The old array has left the map (`oldbuckets` is null or is being
    /// dropped by the caller), so no part of the map references these
    /// blocks; `t` is this map's type; under a write or in `mapfree`.
    pub(crate) unsafe fn release_oldstorage(&self, t: &MapType) {
        let mut head = self.oldstorage.swap(ptr::null_mut(), Ordering::Relaxed);
        // SAFETY: a list built by push_retired of live blocks (retire_storage).
        while let Some(p) = unsafe { alloc::pop_retired(&mut head) } {
            // SAFETY: 1. a live block of this map, off its list; 2. no part
            // of the map references it: its live slot was removed, and the
            // old array that held stale copies has left the map (caller).
            unsafe { self.retire(t, p) };
        }
    }

    /// Releases a whole list of heap overflow buckets (`extra.overflow` or
    /// `extra.oldoverflow`, taken out of the map by the caller): each is
    /// freed now, or retired while an iterator is live. Go drops the slice
    /// and lets its GC do the same.
    ///
    /// # Safety
    /// `list` holds live heap overflow buckets of this map that the map no
    /// longer references (their array is being dropped or cleared); `t` is
    /// this map's type.
    pub(crate) unsafe fn retire_overflow(&self, t: &MapType, mut list: *mut Header) {
        // SAFETY: a list built by push_retired of live blocks (caller).
        while let Some(p) = unsafe { alloc::pop_retired(&mut list) } {
            // SAFETY: off its list; unreferenced by the map (caller).
            unsafe { self.retire(t, p) };
        }
    }

    /// Frees everything on the retire list.
    ///
    /// # Safety
    /// No live iterator may remain that could reach retired memory.
    pub(crate) unsafe fn free_retired(&self, t: &MapType) {
        let mut head = self.retired.swap(ptr::null_mut(), Ordering::AcqRel);
        // SAFETY: the list holds live retired blocks of this map.
        while let Some(p) = unsafe { alloc::pop_retired(&mut head) } {
            // SAFETY: unreachable by the map and by any iterator.
            unsafe { free_now(t, &self.alloc, p) };
        }
    }

    /// Runs the drop hook of the key value at `k`, or, while an iterator
    /// could still hash a stale copy of it, moves its bytes to a retired
    /// block whose drop runs when the last iterator ends.
    ///
    /// # Safety
    /// `k` is a live key value of this map that is being discarded.
    pub(crate) unsafe fn drop_key_value(&self, t: &MapType, k: *mut u8) -> Result<(), MapError> {
        let Some(d) = t.key_drop else { return Ok(()) };
        if self.live_iters.load(Ordering::Acquire) != 0 {
            // SAFETY: our allocator.
            let copy =
                unsafe { alloc::alloc_block(&self.alloc, t.key.size, Kind::Key) }.ok_or(MapError::AllocFailed)?;
            // SAFETY: `copy` has room for one key; `k` holds one.
            unsafe { memmove(copy.as_ptr(), k, t.key.size) };
            // SAFETY: a fresh block, unreferenced by the map.
            unsafe { self.retire(t, copy) };
        } else {
            // SAFETY: the live key, dropped once.
            unsafe { d(k, t.ctx) };
        }
        Ok(())
    }

    /// Releases a key leaving the map: its drop (see [`Self::drop_key_value`])
    /// and its out-of-line storage (retired while iterators live). The slot
    /// itself is not touched.
    ///
    /// # Safety
    /// `slot` is a live key slot of this map, whose entry is being removed.
    #[inline(always)]
    pub(crate) unsafe fn release_key(&self, t: &MapType, slot: *mut u8) -> Result<(), MapError> {
        // An inline key without a drop hook needs nothing (the common case,
        // decided here so that it costs no call).
        if t.key_drop.is_none() && !t.indirect_key() {
            return Ok(());
        }
        // SAFETY: forwarded (caller).
        unsafe { self.release_key_slow(t, slot) }
    }

    /// [`Self::release_key`] for keys with a drop hook or out-of-line storage.
    ///
    /// # Safety
    /// As [`Self::release_key`].
    #[inline(never)]
    unsafe fn release_key_slow(&self, t: &MapType, slot: *mut u8) -> Result<(), MapError> {
        // SAFETY: a live key slot (caller).
        let k = if t.indirect_key() { unsafe { deref_slot(slot) } } else { slot };
        // SAFETY: as above.
        unsafe { self.drop_key_value(t, k) }?;
        if t.indirect_key() {
            // SAFETY: `k` was read from an indirect key slot, which holds a
            // pointer to a live key block: never null.
            let k = unsafe { NonNull::new_unchecked(k) };
            // SAFETY: `k` is a live key block of this map (allocated by it
            // for type `t`), which the map's live slots stop referencing now.
            unsafe { self.retire_storage(t, k) };
        }
        Ok(())
    }

    /// Releases an elem leaving the map: drop hook now (iterators only read
    /// elems of live entries), storage retired or freed.
    ///
    /// # Safety
    /// `slot` is a live elem slot of this map, whose entry is being removed.
    pub(crate) unsafe fn release_elem(&self, t: &MapType, slot: *mut u8) {
        if t.indirect_elem() {
            // SAFETY: `slot` is a live elem slot of this map (caller), and
            // an indirect elem slot holds a pointer.
            let e = unsafe { deref_slot(slot) };
            // SAFETY: a live indirect elem slot points to its elem block:
            // never null.
            let e = unsafe { NonNull::new_unchecked(e) };
            if let Some(d) = t.elem_drop {
                // SAFETY: the live elem, dropped once.
                unsafe { d(e.as_ptr(), t.ctx) };
            }
            // SAFETY: no longer referenced by the map's live slots.
            unsafe { self.retire_storage(t, e) };
        } else if let Some(d) = t.elem_drop {
            // SAFETY: the live elem, dropped once.
            unsafe { d(slot, t.ctx) };
        }
    }

    /// [`Self::release_elem`], or, when `out` is not null, moves the elem to
    /// `out` instead of dropping it (its out-of-line storage is still
    /// retired or freed).
    ///
    /// # Safety
    /// As [`Self::release_elem`]; `out` is null or valid for writing one elem.
    #[inline(always)]
    pub(crate) unsafe fn release_elem_into(&self, t: &MapType, slot: *mut u8, out: *mut u8) {
        if out.is_null() {
            // SAFETY: forwarded (caller).
            return unsafe { self.release_elem(t, slot) };
        }
        if t.indirect_elem() {
            // SAFETY: `slot` is a live elem slot of this map (caller), and
            // an indirect elem slot holds a pointer.
            let e = unsafe { deref_slot(slot) };
            // SAFETY: a live indirect elem slot points to its elem block:
            // never null.
            let e = unsafe { NonNull::new_unchecked(e) };
            // SAFETY: a live elem of elem.size bytes; `out` is writable and
            // does not overlap the map (caller). Moved out: not dropped.
            unsafe { ptr::copy_nonoverlapping(e.as_ptr(), out, t.elem.size) };
            // SAFETY: no longer referenced by the map's live slots.
            unsafe { self.retire_storage(t, e) };
        } else {
            // SAFETY: as above, for an inline elem.
            unsafe { ptr::copy_nonoverlapping(slot, out, t.elem.size) };
        }
    }
}

/// Frees a map and everything it owns: drop hooks run on every live entry,
/// then every block is freed. Fails with [`MapError::Busy`] (freeing
/// nothing) while iterators are live. A null map is a no-op.
///
/// # Safety
/// `h` is null or a live map of type `t`, not used again after success.
pub unsafe fn mapfree(t: &MapType, h: *mut HMap) -> Result<(), MapError> {
    let Some(hp) = NonNull::new(h) else { return Ok(()) };
    // SAFETY: a live map, ours to free (caller).
    let hr = unsafe { &mut *hp.as_ptr() };
    if hr.live_iters.load(Ordering::Acquire) != 0 {
        return Err(MapError::Busy);
    }
    if hr.count != 0 {
        // SAFETY: every entry is being removed; no iterators are live.
        unsafe { release_all(t, hr) };
    }
    // From here no iterator is live and the caller gives the map up: nothing
    // can reach its blocks any more, so each is freed (or its list drained)
    // exactly once. `t` is the map's type throughout (caller).
    // SAFETY: no live iterator; `t` is the map's type.
    unsafe { hr.free_retired(t) };
    // SAFETY: the old array leaves with the map; `t` is its type.
    unsafe { hr.release_oldstorage(t) };
    // SAFETY: the old array's heap overflow buckets, on this list only.
    unsafe { hr.retire_overflow(t, hr.extra.oldoverflow) };
    // SAFETY: the current array's heap overflow buckets, on this list only.
    unsafe { hr.retire_overflow(t, hr.extra.overflow) };
    if let Some(old) = NonNull::new(hr.oldbuckets) {
        // SAFETY: the old bucket array, a live block of `hr.alloc`, no
        // longer referenced.
        unsafe { alloc::free_block(&hr.alloc, old) };
    }
    if let Some(b) = NonNull::new(hr.buckets) {
        // SAFETY: the current bucket array, a live block of `hr.alloc`, no
        // longer referenced.
        unsafe { alloc::free_block(&hr.alloc, b) };
    }
    // SAFETY: the spare list holds live blocks of `hr.alloc`, linked only
    // there.
    while let Some(p) = unsafe { alloc::pop_retired(&mut hr.spare) } {
        // SAFETY: a spare block, just unlinked: live, of `hr.alloc`, unused.
        unsafe { alloc::free_block(&hr.alloc, p) };
    }
    let a = hr.alloc;
    // SAFETY: the hmap itself, a live block of `a`; `hr` is not used after
    // this.
    unsafe { alloc::free_block(&a, hp.cast()) };
    Ok(())
}
