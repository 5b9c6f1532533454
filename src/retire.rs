//! Retirement and freeing: what replaces Go's garbage collector (gomap
//! only; `docs/memory.md` gives the rules).
//!
//! A block the map stops using is freed at once when no iterator can reach
//! it; otherwise it is kept in a record for the iterators whose pins meet
//! the generations it was in the map (`crate::pins`), or, when no record
//! can be allocated, on the map's retire list until the last iterator ends
//! ([`mapiterend`]). Out-of-line keys and elems that stale slots of the old
//! array still point to wait on `oldkeys`/`oldstorage` until that array
//! leaves the map. [`mapfree`] frees everything.

use core::ptr::{self, NonNull};
use core::sync::atomic::Ordering;

use crate::alloc::{self, Allocator, Header, Kind};
use crate::fatal::MapError;
use crate::map::*;
use crate::maptype::MapType;
use crate::pins::{Home, PinRange};

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
/// 1. `p` is the payload of a live block that [`alloc::alloc_block`] or
///    [`alloc::alloc_block_aligned`] allocated with `a` for a map of type
///    `t` (a [`Kind::Key`] block holds one key of `t` whose drop is still
///    due, aligned for it, [`HMap::drop_key_value`]);
/// 2. nothing uses the block afterwards.
pub(crate) unsafe fn free_now(t: &MapType, a: &Allocator, p: NonNull<u8>) {
    // SAFETY: [`alloc::block_kind`]: 1. `p` is a live block's payload
    // (point 1).
    match unsafe { alloc::block_kind(p) } {
        Kind::Key => {
            if let Some(drop_key) = t.key_drop {
                // SAFETY: [`crate::maptype::DropFn`]: 1. `p` holds a live key
                // of `t` whose drop is due (point 1), valid for reads and
                // writes of `t.key.size` bytes (the block's payload) and
                // aligned for the key (point 1);
                // never used as a value again (point 2); 2. `t.hook_ctx` is `t`'s hook context.
                unsafe { drop_key(p.as_ptr(), t.hook_ctx) };
            }
            // SAFETY: [`alloc::free_block`]: 1. a live block allocated with
            // `a` (point 1); 2. nothing uses it afterwards (point 2).
            unsafe { alloc::free_block(a, p) }
        }
        // An array's heap overflow buckets are not reached from here: they
        // are on the `extra` list released with it (`retire_overflow`).
        // SAFETY: [`alloc::free_block`]: 1. a live block allocated with `a`
        // (point 1); 2. nothing uses it afterwards (point 2).
        Kind::Array | Kind::Plain | Kind::Hmap => unsafe { alloc::free_block(a, p) },
    }
}

impl HMap {
    /// Frees `p` now if no iterator is live, else retires it until the last
    /// live iterator ends.
    ///
    /// # Safety
    /// 1. `p` is the payload of a live block that [`alloc::alloc_block`]
    ///    allocated with `self.alloc` for this map, whose blocks are made
    ///    for type `t` (a live map of `t`, or a staging map built for `t`);
    ///    the block is on no block list;
    /// 2. the map no longer references `p`, and nothing else uses it
    ///    afterwards except the map's registered iterators;
    /// 3. no one else writes the map's retire list during the call (the
    ///    caller holds the map under a write, or has it to itself).
    pub(crate) unsafe fn retire(&self, t: &MapType, p: NonNull<u8>) {
        if self.live_iters.load(Ordering::Acquire) == 0 {
            // SAFETY: [`free_now`]: 1. a live block of `self.alloc` for a
            // map of type `t` (point 1); 2. no registered iterator is live
            // and the map no longer references it (point 2): nothing uses
            // it afterwards.
            unsafe { free_now(t, &self.alloc, p) };
        } else {
            let mut head = self.retired.load(Ordering::Acquire);
            // SAFETY: [`alloc::push_retired`]: 1. `p` is a live block's
            // payload, on no list (point 1); 2. `head` is null or heads the
            // retire list, built only by `push_retired`, whose blocks stay
            // live until `free_retired` takes the list (not concurrently:
            // point 3).
            unsafe { alloc::push_retired(&mut head, p) };
            self.retired.store(head, Ordering::Release);
        }
    }

    /// Releases the out-of-line storage of a removed elem (its drop has
    /// run). While the map grows with `OLD_ITERATOR` set, `evacuate` keeps
    /// the old buckets' data (as Go does), so an evacuated old slot may
    /// still point to it, and `inspect::snapshot` reads every old slot: the
    /// block then goes on `oldstorage` until the old array leaves the map
    /// ([`Self::release_old_array`]). Otherwise it is freed now: iterators
    /// read elems only through live entries (`mapiternext` produces a stale
    /// slot's elem only for a key that is not equal to itself, an entry
    /// that no write but `clear` removes, and `clear` bumps `clear_seq`;
    /// every other moved entry is looked up in the live map).
    ///
    /// `OLD_ITERATOR` is never cleared during a growth (only `hashGrow`
    /// clears it), so storage removed without it set was never left behind
    /// in a reachable old slot.
    ///
    /// # Safety
    /// 1. `p` is the payload of a live out-of-line elem block of this map,
    ///    whose blocks are made for type `t`, on no block list;
    /// 2. no live slot references it any more;
    /// 3. the caller has the map to itself: under a write, or a map no one
    ///    else reaches (a clone under construction, a map being freed).
    unsafe fn retire_elem_storage(&self, p: NonNull<u8>) {
        if self.growing() && self.flags() & OLD_ITERATOR != 0 {
            let mut head = self.oldstorage.load(Ordering::Relaxed);
            // SAFETY: [`alloc::push_retired`]: 1. `p` is a live block's
            // payload, on no list (point 1); 2. `head` is null or heads
            // `oldstorage`, built only by this call of `push_retired` on
            // live blocks, which no one else changes meanwhile (point 3).
            unsafe { alloc::push_retired(&mut head, p) };
            self.oldstorage.store(head, Ordering::Relaxed);
        } else {
            // SAFETY: [`alloc::free_block`]: 1. a live block of the map's
            // allocator (point 1); 2. no live slot references it (point 2),
            // no reachable old slot does (see above), and iterators never
            // read an elem of a removed entry.
            unsafe { alloc::free_block(&self.alloc, p) };
        }
    }

    /// Keeps the key block `k` (an out-of-line key block, or a `Key` copy
    /// of an inline key) where [`HMap::key_home`] said, or frees it.
    ///
    /// # Safety
    /// 1. `k` is a live key block of this map of type `t`, on no list,
    ///    whose drop (if due) runs when it is freed ([`Kind::Key`]);
    /// 2. `home` is what `key_home` answered for it, under this same write
    ///    (or with the map the caller's alone);
    /// 3. as [`Self::retire`]'s point 3.
    unsafe fn keep_key(&self, t: &MapType, home: Home, k: NonNull<u8>) {
        match home {
            Home::Free => {
                // SAFETY: [`free_now`]: 1. a live key block of the map of
                // type `t` (point 1); 2. nothing can reach a copy of it
                // (`key_home`, point 2).
                unsafe { free_now(t, &self.alloc, k) }
            }
            Home::Old => {
                let mut head = self.oldkeys.load(Ordering::Relaxed);
                // SAFETY: [`alloc::push_retired`]: 1. on no list (point 1);
                // 2. `oldkeys` is built only here, by `push_retired`.
                unsafe { alloc::push_retired(&mut head, k) };
                self.oldkeys.store(head, Ordering::Relaxed);
            }
            // SAFETY: [`HMap::keep_in_record`]: 1. `r` is a live record of
            // this map (`key_home`, point 2); 2. point 1; 3. point 3.
            Home::Record(r) => unsafe { self.keep_in_record(r, k) },
            // SAFETY: [`Self::retire`]: 1. point 1; 2. the map no longer
            // references it, only iterators may; 3. point 3.
            Home::Fallback => unsafe { self.retire(t, k) },
        }
    }

    /// Frees what `oldstorage` and `oldkeys` kept for the old array's stale
    /// slots, once that array left the map without being kept for an
    /// iterator: elems are freed, keys go to a record that may still hold
    /// them, or are freed.
    ///
    /// # Safety
    /// 1. `self` is a live map of type `t`;
    /// 2. the old array has left the map and no iterator pin reaches it;
    /// 3. the caller has the map to itself: under a write, or in `mapfree`.
    pub(crate) unsafe fn release_oldstorage(&self, t: &MapType) {
        let mut elems = self.oldstorage.swap(ptr::null_mut(), Ordering::Relaxed);
        // SAFETY: [`alloc::pop_retired`]: 1. the list `retire_elem_storage`
        // built, taken out of the map (the swap).
        while let Some(p) = unsafe { alloc::pop_retired(&mut elems) } {
            // SAFETY: [`alloc::free_block`]: 1. an elem block of the map's
            // allocator; 2. its slot was removed and the old array that held
            // stale copies is unreachable (point 2).
            unsafe { alloc::free_block(&self.alloc, p) };
        }
        let keys = self.oldkeys.swap(ptr::null_mut(), Ordering::Relaxed);
        // SAFETY: 1. a list of kept key blocks, out of the map (the swap);
        // 2. the array they were kept for is unreachable (point 2); 3.
        // point 3.
        unsafe { self.place_keys(t, keys) };
    }

    /// Hands every key block of `list` to a record that may hold it, or
    /// frees it.
    ///
    /// # Safety
    /// 1. `list` is null or a `push_retired` list of live key blocks of
    ///    this map of type `t` (drop deferred as [`Kind::Key`]), out of the
    ///    map;
    /// 2. nothing but the map's records can reach a copy of them;
    /// 3. as [`Self::retire`]'s point 3.
    unsafe fn place_keys(&self, t: &MapType, mut list: *mut Header) {
        // SAFETY: [`alloc::pop_retired`]: 1. point 1.
        while let Some(k) = unsafe { alloc::pop_retired(&mut list) } {
            let home = if self.live_iters.load(Ordering::Acquire) == 0 {
                Home::Free
            } else {
                // SAFETY: [`HMap::find_record`]: 1. a live map of type `t`;
                // 2. `k` is a kept key of `t`, its drop deferred.
                unsafe { self.find_record(t, k.as_ptr()) }.map_or(Home::Free, Home::Record)
            };
            // SAFETY: [`Self::keep_key`]: 1. `k` was just popped (point 1);
            // 2. `home` answered for it just now; 3. point 3.
            unsafe { self.keep_key(t, home, k) };
        }
    }

    /// The old array leaves the map (the growth ends, `clear`, `mapfree`):
    /// with its heap overflow buckets and the keys kept for its stale
    /// slots, it becomes a record while an iterator pin meets the
    /// generations it was in the map, and is freed otherwise. The elems
    /// kept for its stale slots are freed (see
    /// [`Self::retire_elem_storage`]).
    ///
    /// # Safety
    /// 1. `self` is a live map of type `t`, growing;
    /// 2. the caller has the map to itself (under a write, or in `mapfree`),
    ///    and nothing of the map reads the old array again.
    pub(crate) unsafe fn release_old_array(&mut self, t: &MapType) {
        let old = self.oldbuckets;
        let old_b = self.noldbuckets().trailing_zeros() as u8;
        self.oldbuckets = ptr::null_mut();
        let ovf = core::mem::replace(&mut self.extra.oldoverflow, ptr::null_mut());
        let keys = self.oldkeys.swap(ptr::null_mut(), Ordering::Relaxed);
        let range = PinRange { lo: self.old_first, hi: self.generation };
        // SAFETY: [`Self::release_oldstorage`]: 1. point 1; 2. the elems
        // are freed (no iterator reads them); `oldkeys` was taken above;
        // 3. point 2.
        unsafe { self.release_oldstorage(t) };
        // SAFETY: [`Self::retire_range`]: 1. `old` is the old array (point
        // 1: not null), of `2^old_b` buckets, placed with `old_hash0`; 2.
        // `ovf` its heap overflow buckets and `keys` the keys kept for it,
        // all out of the map; 3. in the map during `range`; 4. point 2.
        unsafe { self.retire_range(t, range, old, old_b, self.old_hash0, ovf, keys) };
    }

    /// Storage leaving the map (a bucket array with its heap overflow
    /// buckets, or overflow buckets `clear` cut off) with the keys kept for
    /// its stale slots: a record while a pin meets `range` (or, if the
    /// record cannot be allocated, the retire list), otherwise freed now,
    /// its keys handed to other records that may hold them.
    ///
    /// # Safety
    /// 1. `array` is null or a bucket array of this map of type `t`, of
    ///    `2^b` buckets whose entries were placed with seed `hash0`;
    /// 2. `ovf` and `keys` are null or `push_retired` lists of live heap
    ///    overflow buckets (of `array`'s chains) and kept key blocks, out of
    ///    the map; `array` is out of the map too;
    /// 3. the storage was in the map during the generations `range` only:
    ///    no iterator that did not step in `range` can reach it;
    /// 4. as [`Self::retire`]'s point 3.
    #[expect(clippy::too_many_arguments, reason = "a record's fields")]
    pub(crate) unsafe fn retire_range(
        &self,
        t: &MapType,
        range: PinRange,
        array: *mut u8,
        b: u8,
        hash0: u32,
        ovf: *mut Header,
        mut keys: *mut Header,
    ) {
        if array.is_null() && ovf.is_null() && keys.is_null() {
            // Nothing leaves the map (a `clear` of an array that had no
            // heap overflow buckets): no record, no pin table lookup.
            return;
        }
        if self.pinned(range) {
            if let Some(r) = self.new_record(range, array, b, hash0) {
                // SAFETY: [`HMap::link_record`]: 1. a fresh record; 2. point
                // 2; 3. point 4.
                unsafe { self.link_record(r, ovf) };
                // SAFETY: [`alloc::pop_retired`]: 1. point 2.
                while let Some(k) = unsafe { alloc::pop_retired(&mut keys) } {
                    // SAFETY: [`HMap::keep_in_record`]: 1. `r` was just
                    // linked; 2. `k` just popped; 3. point 4.
                    unsafe { self.keep_in_record(r, k) };
                }
                return;
            }
            // No memory for a record: the retire list, freed when the last
            // iterator ends, keeps it all.
            if let Some(a) = NonNull::new(array) {
                // SAFETY: [`Self::retire`]: 1. a live array block of the map,
                // on no list; 2. out of the map (point 2); 3. point 4.
                unsafe { self.retire(t, a) };
            }
            // SAFETY: [`Self::retire_overflow`]: 1.-2. point 2; 3. point 4.
            unsafe { self.retire_overflow(t, ovf) };
            // SAFETY: as above, for the key blocks.
            unsafe { self.retire_overflow(t, keys) };
            return;
        }
        if let Some(a) = NonNull::new(array) {
            // SAFETY: [`alloc::free_block`]: 1. a live array block of the
            // map's allocator (point 1); 2. no pin meets `range` (point 3).
            unsafe { alloc::free_block(&self.alloc, a) };
        }
        let mut ovf = ovf;
        // SAFETY: [`alloc::pop_retired`]: 1. point 2.
        while let Some(p) = unsafe { alloc::pop_retired(&mut ovf) } {
            // SAFETY: [`alloc::free_block`]: 1. a heap overflow bucket of
            // the map's allocator; 2. unreachable, as the array.
            unsafe { alloc::free_block(&self.alloc, p) };
        }
        // SAFETY: [`Self::place_keys`]: 1. point 2; 2. only records may
        // still hold copies (this storage is unreachable); 3. point 4.
        unsafe { self.place_keys(t, keys) };
    }

    /// Releases a whole list of heap overflow buckets (`extra.overflow` or
    /// `extra.oldoverflow`, taken out of the map by the caller): each is
    /// freed now, or retired while an iterator is live. Go drops the slice
    /// and lets its GC do the same.
    ///
    /// # Safety
    /// 1. `list` is null or heads a list built by [`alloc::push_retired`]
    ///    of live heap overflow buckets of this map, whose blocks are made
    ///    for type `t`, and that list is out of the map (the caller took it);
    /// 2. the map no longer references those buckets (their array is being
    ///    dropped or cleared);
    /// 3. the caller has the map to itself (as for [`Self::retire`]).
    pub(crate) unsafe fn retire_overflow(&self, t: &MapType, mut list: *mut Header) {
        // SAFETY: [`alloc::pop_retired`]: 1. `list` is null or heads a list
        // of live blocks built by `push_retired` (point 1).
        while let Some(p) = unsafe { alloc::pop_retired(&mut list) } {
            // SAFETY: [`Self::retire`]: 1. a live block of this map for `t`
            // (point 1), just popped: on no list; 2. unreferenced by the map
            // (point 2); 3. the map is the caller's alone (point 3).
            unsafe { self.retire(t, p) };
        }
    }

    /// Frees everything on the retire list.
    ///
    /// # Safety
    /// 1. `self` is a live map of type `t`;
    /// 2. no registered iterator of the map remains that could reach
    ///    retired memory (the map itself references none of it);
    /// 3. no write of the map runs during the call (none may retire a block
    ///    meanwhile).
    pub(crate) unsafe fn free_retired(&self, t: &MapType) {
        // An empty list (the common case: every free of a map and every end
        // of an iteration gets here) costs a plain load, not the locked
        // exchange below; a list another caller empties meanwhile is theirs
        // to free.
        if self.retired.load(Ordering::Acquire).is_null() {
            return;
        }
        let mut head = self.retired.swap(ptr::null_mut(), Ordering::AcqRel);
        // SAFETY: [`alloc::pop_retired`]: 1. `head` is null or heads the
        // retire list, built only by `push_retired` of live blocks
        // ([`Self::retire`]), now taken out of the map (the swap).
        while let Some(p) = unsafe { alloc::pop_retired(&mut head) } {
            // SAFETY: [`free_now`]: 1. a live block that `self.alloc`
            // allocated for this map of type `t` (point 1); 2. nothing uses
            // it afterwards: the map no longer references it and no
            // iterator can reach it (point 2).
            unsafe { free_now(t, &self.alloc, p) };
        }
    }

    /// Runs the drop hook of the key value at `k` now, or, while a stale
    /// copy of it may still be hashed (a slot of the old array, or of a
    /// record an iterator pins: [`HMap::key_home`]), moves its bytes to a
    /// [`Kind::Key`] block kept with that copy, whose drop runs when the
    /// copy can no longer be reached.
    ///
    /// An out-of-line key updated in place (`k` its block) is dropped now:
    /// stale slots point to the block, which keeps an equal key.
    ///
    /// # Safety
    /// 1. `self` is a live map of type `t` (or a clone of type `t` under
    ///    construction);
    /// 2. `k` points to a key of `t` held by this map (in a slot, or the
    ///    out-of-line block a slot points to), valid for reads and writes
    ///    of `t.key.size` bytes and aligned for the key, that is being
    ///    discarded: its drop is due and the map never uses it as a value
    ///    again;
    /// 3. the caller has the map to itself (as for [`Self::retire`]).
    #[inline(always)]
    pub(crate) unsafe fn drop_key_value(&self, t: &MapType, k: *mut u8) -> Result<(), MapError> {
        // A key without a drop hook needs nothing (the common case, decided
        // here so that it costs no call: for a static descriptor the test
        // folds away).
        match t.key_drop {
            None => Ok(()),
            // SAFETY: [`Self::drop_key_value_with`]: points 1-3 are this
            // function's; 4. `d` is `t.key_drop`.
            Some(d) => unsafe { self.drop_key_value_with(t, k, d) },
        }
    }

    /// [`Self::drop_key_value`] for a key type with a drop hook.
    ///
    /// # Safety
    /// 1-3. as for [`Self::drop_key_value`];
    /// 4. `d` is `t.key_drop`.
    #[inline(never)]
    unsafe fn drop_key_value_with(&self, t: &MapType, k: *mut u8, d: crate::maptype::DropFn) -> Result<(), MapError> {
        let home = if t.indirect_key() {
            Home::Free
        } else {
            // SAFETY: [`HMap::key_home`]: 1. point 1, under a write (point
            // 3); 2. `k` is the leaving inline key value (point 2).
            unsafe { self.key_home(t, k) }
        };
        if let Home::Free = home {
            // SAFETY: [`crate::maptype::DropFn`]: 1. `k` is a live key of
            // `t`, readable, writable and aligned, never used as a value
            // again (point 2): dropped once, here; 2. `t.hook_ctx` is `t`'s
            // hook context.
            unsafe { d(k, t.hook_ctx) };
            return Ok(());
        }
        // SAFETY: [`alloc::alloc_block_aligned`]: 1. `self.alloc` is the
        // allocator the map (point 1) was made with, a valid allocator; 2. a
        // validated alignment, a power of two. (The drop hook runs on the
        // copy: it must be aligned for the key.)
        let copy = unsafe { alloc::alloc_block_aligned(&self.alloc, t.key.size, t.key.align, Kind::Key) }
            .ok_or(MapError::AllocFailed)?;
        // SAFETY: [`memmove`]: `copy` is valid for writes of `t.key.size`
        // bytes (a fresh block's payload of that size) and `k` for reads of
        // as many (point 2).
        unsafe { memmove(copy.as_ptr(), k, t.key.size) };
        // SAFETY: [`Self::keep_key`]: 1. a fresh `Key` block holding the key
        // whose drop is due, on no list; 2. `home` answered for this key
        // under this write; 3. point 3.
        unsafe { self.keep_key(t, home, copy) };
        Ok(())
    }

    /// Releases a key leaving the map: its drop (see [`Self::drop_key_value`])
    /// and its out-of-line storage (kept while a stale slot an iterator may
    /// read points to it). The slot itself is not touched.
    ///
    /// # Safety
    /// 1. `self` is a live map of type `t` (or a clone of type `t` under
    ///    construction);
    /// 2. `slot` is a key slot of a bucket of `t` of this map holding a key
    ///    the map owns (inline, or the address of its live out-of-line
    ///    block): a filled slot's, or, in a clone under construction, one
    ///    whose tophash is not set yet; the key is being removed, and
    ///    released once, here;
    /// 3. the caller has the map to itself: under a write, or a map no one
    ///    else reaches (a clone under construction, a map being freed).
    #[inline(always)]
    pub(crate) unsafe fn release_key(&self, t: &MapType, slot: *mut u8) -> Result<(), MapError> {
        // An inline key without a drop hook needs nothing (the common case,
        // decided here so that it costs no call).
        if t.key_drop.is_none() && !t.indirect_key() {
            return Ok(());
        }
        // SAFETY: [`Self::release_key_slow`]: 1.-3. are points 1-3.
        unsafe { self.release_key_slow(t, slot) }
    }

    /// [`Self::release_key`] for keys with a drop hook or out-of-line storage.
    ///
    /// # Safety
    /// 1.-3. As [`Self::release_key`].
    #[inline(never)]
    unsafe fn release_key_slow(&self, t: &MapType, slot: *mut u8) -> Result<(), MapError> {
        if !t.indirect_key() {
            // SAFETY: [`Self::drop_key_value`]: 1. point 1; 2. the slot's
            // live inline key, readable, writable and aligned (slots are
            // laid out for `t`), being discarded (point 2); 3. point 3.
            return unsafe { self.drop_key_value(t, slot) };
        }
        // SAFETY: [`deref_slot`]: `slot` is an indirect key slot (checked),
        // 8-aligned pointer storage inside a bucket of `t` (point 2).
        let k = unsafe { deref_slot(slot) };
        // SAFETY: [`NonNull::new_unchecked`]: `k` was read from an indirect
        // key slot holding an owned key (point 2), that is the address of
        // its live key block: never null.
        let k = unsafe { NonNull::new_unchecked(k) };
        // SAFETY: [`HMap::key_home`]: 1. point 1, under a write (point 3);
        // 2. `k` is the leaving key's block (point 2).
        let home = unsafe { self.key_home(t, k.as_ptr()) };
        if !matches!(home, Home::Free) && t.key_drop.is_some() {
            // The block itself carries the deferred drop.
            // SAFETY: [`alloc::set_key_kind`]: 1. `k` is the key's live
            // `Plain` block holding the key whose drop is due, aligned for
            // it; 2. the map's own block, ours under this write (point 3).
            unsafe { alloc::set_key_kind(k) };
        }
        if let (Home::Free, Some(d)) = (&home, t.key_drop) {
            // SAFETY: [`crate::maptype::DropFn`]: 1. `k` holds the live key
            // of `t`, readable, writable, aligned, never used again: its
            // entry is being removed (point 2); 2. `t.hook_ctx` is `t`'s.
            unsafe { d(k.as_ptr(), t.hook_ctx) };
        }
        // SAFETY: [`Self::keep_key`]: 1. `k` is the live key block of this
        // map, on no list, whose drop is either done (just above) or
        // deferred to its freeing (`Kind::Key`); 2. `home` answered for it
        // under this write; 3. point 3.
        unsafe { self.keep_key(t, home, k) };
        Ok(())
    }

    /// Releases an elem leaving the map: drop hook now (iterators only read
    /// elems of live entries), storage retired or freed.
    ///
    /// # Safety
    /// 1. `self` is a live map of type `t`;
    /// 2. `slot` is the elem slot of a filled slot `i` of a bucket of `t` of
    ///    this map (its elem live, an out-of-line one's block too), whose
    ///    entry is being removed: its elem is released once, here;
    /// 3. the caller has the map to itself (as for [`Self::release_key`]).
    pub(crate) unsafe fn release_elem(&self, t: &MapType, slot: *mut u8) {
        if t.indirect_elem() {
            // SAFETY: [`deref_slot`]: `slot` is an indirect elem slot
            // (checked), 8-aligned pointer storage inside a bucket of `t`
            // (point 2).
            let e = unsafe { deref_slot(slot) };
            // SAFETY: [`NonNull::new_unchecked`]: a filled indirect elem
            // slot (point 2) holds the address of its live elem block:
            // never null.
            let e = unsafe { NonNull::new_unchecked(e) };
            if let Some(d) = t.elem_drop {
                // SAFETY: [`crate::maptype::DropFn`]: 1. `e` holds the live
                // elem of `t` (point 2), valid for reads and writes of
                // `t.elem.size` bytes and aligned for the elem (its block
                // was allocated with the elem's alignment), never used as a
                // value again: its entry is being removed; 2. `t.hook_ctx`
                // is `t`'s hook context.
                unsafe { d(e.as_ptr(), t.hook_ctx) };
            }
            // SAFETY: [`Self::retire_elem_storage`]: 1. `e` is the payload of a
            // live elem block of this map, allocated for `t`, on no list (a
            // filled slot's block); 2. its entry is being removed (point
            // 2): no live slot references it any more; 3. point 3.
            unsafe { self.retire_elem_storage(e) };
        } else if let Some(d) = t.elem_drop {
            // SAFETY: [`crate::maptype::DropFn`]: 1. `slot` holds the live
            // inline elem of `t` (point 2), readable and writable for
            // `t.elem.size` bytes and aligned for it (bucket layout of
            // `t`), never used as a value again: its entry is being
            // removed; 2. `t.hook_ctx` is `t`'s hook context.
            unsafe { d(slot, t.hook_ctx) };
        }
    }

    /// [`Self::release_elem`], or, when `out` is not null, moves the elem to
    /// `out` instead of dropping it (its out-of-line storage is still
    /// retired or freed).
    ///
    /// # Safety
    /// 1.-3. As [`Self::release_elem`];
    /// 4. `out` is null, or valid for writes of `t.elem.size` bytes and not
    ///    overlapping the map.
    #[inline(always)]
    pub(crate) unsafe fn release_elem_into(&self, t: &MapType, slot: *mut u8, out: *mut u8) {
        if out.is_null() {
            // SAFETY: [`Self::release_elem`]: 1.-3. are points 1-3.
            return unsafe { self.release_elem(t, slot) };
        }
        if t.indirect_elem() {
            // SAFETY: [`deref_slot`]: `slot` is an indirect elem slot
            // (checked), 8-aligned pointer storage inside a bucket of `t`
            // (point 2).
            let e = unsafe { deref_slot(slot) };
            // SAFETY: [`NonNull::new_unchecked`]: a filled indirect elem
            // slot (point 2) holds the address of its live elem block:
            // never null.
            let e = unsafe { NonNull::new_unchecked(e) };
            // SAFETY: [`ptr::copy_nonoverlapping`]: `e` is valid for reads
            // of `t.elem.size` bytes (the live elem's block, point 2);
            // `out` for writes of as many (point 4); both 1-aligned as `u8`
            // needs; `out` does not overlap the map (point 4), which holds
            // `e`. Moved out: the elem is not dropped.
            unsafe { ptr::copy_nonoverlapping(e.as_ptr(), out, t.elem.size) };
            // SAFETY: [`Self::retire_elem_storage`]: 1. `e` is the payload of a
            // live elem block of this map, allocated for `t`, on no list; 2.
            // its entry is being removed (point 2): no live slot references
            // it any more; 3. point 3.
            unsafe { self.retire_elem_storage(e) };
        } else {
            // SAFETY: [`ptr::copy_nonoverlapping`]: `slot` is valid for
            // reads of `t.elem.size` bytes (an inline elem slot of a bucket
            // of `t`, point 2), `out` for writes of as many (point 4), and
            // they do not overlap (point 4: `out` is outside the map). Moved
            // out: the elem is not dropped.
            unsafe { ptr::copy_nonoverlapping(slot, out, t.elem.size) };
        }
    }
}

/// [`mapfree`] for a map whose iterators may still be registered (a host
/// whose program abandoned a `range` loop without ending it): they are
/// declared dead and the map is freed with everything it owns, retired
/// memory included. Never fails with [`MapError::Busy`].
///
/// # Safety
/// 1. `h` is null or a live map of type `t`;
/// 2. no one else uses the map during the call, and no one uses `h` again;
/// 3. no iterator of the map is used again (stepped, read or ended): its
///    registration dies with the map.
pub unsafe fn mapfree_abandoning_iterators(t: &MapType, h: *mut HMap) -> Result<(), MapError> {
    if let Some(hp) = NonNull::new(h) {
        // SAFETY: `hp` is a live map (point 1), used by no one else during
        // the call (point 2): an initialised, aligned `HMap`, read here.
        let hr = unsafe { hp.as_ref() };
        // The registrations die here (point 3): with no iterator left to
        // reach them, deferred drops run and retired blocks are freed.
        hr.live_iters.store(0, Ordering::Release);
        // SAFETY: [`HMap::free_pins`]: 1. a live map of type `t` (point 1),
        // ours alone (point 2); 2. no iterator is used again (point 3).
        unsafe { hr.free_pins(t) };
    }
    // SAFETY: mapfree's points: 1. point 1; 2. point 2.
    unsafe { mapfree(t, h) }
}

/// Frees a map and everything it owns: drop hooks run on every live entry,
/// then every block is freed. Fails with [`MapError::Busy`] (freeing
/// nothing) while iterators are live. A null map is a no-op.
///
/// # Safety
/// 1. `h` is null or a live map of type `t`;
/// 2. no one else uses the map during the call, and after a success no one
///    uses `h` again.
pub unsafe fn mapfree(t: &MapType, h: *mut HMap) -> Result<(), MapError> {
    let Some(hp) = NonNull::new(h) else { return Ok(()) };
    // SAFETY: `&mut *`: `hp` is a live map (point 1): an initialised,
    // aligned `HMap` in its own block; no one else uses it during the call
    // (point 2), so the exclusive reference aliases nothing.
    let hr = unsafe { &mut *hp.as_ptr() };
    if hr.live_iters.load(Ordering::Acquire) != 0 {
        return Err(MapError::Busy);
    }
    // The quarantine goes first: what it holds is freed, and so is every
    // block from here on, at once (the hmap last, which holds the queue).
    hr.drop_quarantine();
    if hr.count != 0 {
        // SAFETY: [`release_all`]: `hr` is a live map of type `t` (point 1)
        // whose entries are all being removed (the map is freed), with no
        // registered iterator (checked) and no other user (point 2).
        unsafe { release_all(t, hr) };
    }
    // From here no iterator is live and the caller gives the map up: nothing
    // can reach its blocks any more, so each is freed (or its list drained)
    // exactly once. `t` is the map's type throughout (caller).
    // SAFETY: [`HMap::free_retired`]: 1. a live map of type `t` (point 1);
    // 2. no registered iterator (checked); 3. no write runs (point 2).
    unsafe { hr.free_retired(t) };
    if hr.growing() {
        // SAFETY: [`HMap::release_old_array`]: 1. a live growing map of
        // type `t` (point 1); 2. ours alone (point 2), and the old array is
        // never read again (the map is being freed). No pin meets its
        // generations (no iterator is live): it is freed.
        unsafe { hr.release_old_array(t) };
    }
    // SAFETY: [`HMap::retire_overflow`]: 1. `extra.overflow` is null or the
    // `push_retired` list of the current array's live heap overflow
    // buckets, which the map never reads again (it is being freed); 2. that
    // array is freed below, unread; 3. ours alone (point 2).
    unsafe { hr.retire_overflow(t, hr.extra.overflow) };
    if let Some(b) = NonNull::new(hr.buckets) {
        // SAFETY: [`alloc::free_block`]: 1. the current bucket array, a live
        // block allocated with `hr.alloc`; 2. unused afterwards, as above.
        unsafe { alloc::free_block(&hr.alloc, b) };
    }
    // SAFETY: [`alloc::pop_retired`]: 1. `hr.spare` is null or heads the
    // spare list, built only by `push_retired` of live blocks.
    while let Some(p) = unsafe { alloc::pop_retired(&mut hr.spare) } {
        // SAFETY: [`alloc::free_block`]: 1. a spare bucket, a live block
        // allocated with `hr.alloc`, just unlinked; 2. nothing uses it
        // afterwards: spares are referenced only by that list.
        unsafe { alloc::free_block(&hr.alloc, p) };
    }
    // SAFETY: [`HMap::free_pins`]: 1. a live map of type `t` (point 1),
    // ours alone (point 2); 2. no iterator is live.
    unsafe { hr.free_pins(t) };
    let a = hr.alloc;
    // SAFETY: [`alloc::free_block`]: 1. the hmap itself is a live block
    // allocated with `a` (`makemap` and its siblings take it from the map's
    // allocator); 2. nothing uses it afterwards: `hr` is dead from here and
    // the caller does not use `h` again (point 2).
    unsafe { alloc::free_block(&a, hp.cast()) };
    Ok(())
}
