//! Guards that own a write's cleanup (gomap only): the write flag, and the
//! blocks an operation allocates before it hands them to a map.
//!
//! Each guard undoes its part when it is dropped. A write that stops early,
//! by returning an error (`?`) or because a caller-supplied callback
//! unwinds, drops its guards on the way out, so the error path and the
//! unwind path are one path and cannot disagree (STYLE practice 16;
//! hashbrown's `scopeguard.rs`, of which [`crate::scopeguard`] is the
//! general form). The success path defuses them explicitly:
//! [`WritingGuard::end_writing`], [`OwnedBlock::publish`].
//!
//! ```text
//! let mut h = h.start_writing();       // hashWriting set; cleared on drop
//! h.reserve_grow_work(t, bucket, 1)?;  // error: flag cleared, map as before
//! let k = OwnedBlock::alloc(..)?;      // error: k's guard frees nothing yet
//! let b = h.newoverflow(t, b)?;        // error: k freed, then flag cleared
//! write_slot_ptr(slot, k.publish());   // the map owns k now
//! h.end_writing();                     // Go's check, flag cleared
//! ```

use core::mem::ManuallyDrop;
use core::ops::{Deref, DerefMut};
use core::ptr::{self, NonNull};

use crate::alloc::{self, Allocator, Kind};
use crate::fatal::{CONCURRENT_WRITES, MapError, fatal};
use crate::map::{HASH_WRITING, HMap};

/// A write in progress on a map: `HASH_WRITING` is set from
/// [`HMap::start_writing`] until [`WritingGuard::end_writing`] (the write
/// succeeded) or until the guard is dropped (any other way out).
///
/// The guard holds the write's `&mut HMap` and derefs to it, so a write
/// body reads as Go's does (`h.count += 1` on the guard). Holding the
/// borrow is what makes the drop sound: the map outlives the guard (no write
/// body can free the map it writes), and nothing else reaches the flag in
/// between except the misuse Go's checks detect.
pub(crate) struct WritingGuard<'a> {
    h: &'a mut HMap,
}

/// `hmap.flags`, gomap only: every write to this map is exclusive by
/// construction, so [`HMap::start_writing`] may take `HASH_WRITING` with a
/// plain load and store, as Go does. Set on the maps of [`crate::GoMap`],
/// whose writes all take `&mut self`: the borrow checker has already ruled
/// out a second writer. Never reported as a Go flag (the inspector masks
/// it).
pub(crate) const EXCLUSIVE_WRITES: u8 = 0x80;

impl HMap {
    /// Marks the map's writes as exclusive ([`EXCLUSIVE_WRITES`]); for
    /// owners whose every write holds the only `&mut` to the map.
    #[inline]
    pub(crate) fn mark_exclusive_writes(&mut self) {
        let f = self.flags();
        self.set_flags(f | EXCLUSIVE_WRITES);
    }

    /// Starts a write (Go's `h.flags ^= hashWriting`, mapassign,
    /// map_noswiss.go:643; the same line in mapdelete, :773, mapclear,
    /// :1085, and the fast assigns and deletes) and returns its guard.
    ///
    /// gomap: on maps that other code can reach through a raw pointer (the
    /// C ABI's, the erased API's), an atomic or, and a writer that finds
    /// the flag already set dies at once with Go's "concurrent map writes"
    /// (Go's check at the end of the write, :727, comes too late for gomap:
    /// two writers that both passed the check at the start would free and
    /// relink the same blocks before either noticed, where Go's GC keeps
    /// whatever they drop). So no two write bodies ever overlap, racing
    /// threads or not. On [`EXCLUSIVE_WRITES`] maps no second writer can
    /// exist, and the plain load and store of Go suffice (the locked or's
    /// cost: docs/benchmarks.md, "Huge pages and streaming stores").
    #[inline(always)]
    pub(crate) fn start_writing(&mut self) -> WritingGuard<'_> {
        let f = self.flags();
        if f & EXCLUSIVE_WRITES != 0 {
            if f & HASH_WRITING != 0 {
                fatal(CONCURRENT_WRITES);
            }
            self.set_flags(f | HASH_WRITING);
        } else if self.flags.fetch_or(HASH_WRITING, core::sync::atomic::Ordering::Acquire) & HASH_WRITING != 0 {
            fatal(CONCURRENT_WRITES);
        }
        WritingGuard { h: self }
    }
}

impl<'a> WritingGuard<'a> {
    /// Ends a write that succeeded: Go's check that the flag is still set
    /// (cleared by someone else: "concurrent map writes"), then the clear
    /// (mapassign, map_noswiss.go:727-730; mapdelete, :856-859; mapclear,
    /// :1112-1115). Returns the map, for what runs after the write (the
    /// shrink policy hooks).
    #[inline(always)]
    pub(crate) fn end_writing(self) -> &'a mut HMap {
        // Defused: the drop's unchecked clear must not run as well.
        let g = ManuallyDrop::new(self);
        // SAFETY: [`ptr::read`]: `&g.h` is a reference, so valid for reads,
        // aligned, and the field initialised; reading it duplicates the
        // `&mut HMap`, but `g` is never used again and never dropped
        // (`ManuallyDrop`), so only the copy is live afterwards.
        let h = unsafe { ptr::read(&g.h) };
        let f = h.flags();
        if f & HASH_WRITING == 0 {
            fatal(CONCURRENT_WRITES);
        }
        h.set_flags(f & !HASH_WRITING);
        h
    }
}

impl Drop for WritingGuard<'_> {
    /// Ends a write that stopped early: clears `HASH_WRITING`, without Go's
    /// check. An early exit left the map as it was before the write (errors)
    /// or valid (a callback unwinding: the guards of the write's other
    /// steps see to that), so it must not look busy afterwards. (Go leaves
    /// the flag set when a write panics, and later writes die with
    /// "concurrent map writes"; docs/concordance.md lists the difference.)
    ///
    /// Never fatal: this runs while unwinding too, where a second panic
    /// (a fatal hook that panics) would abort the process; and a flag
    /// already clear here can only come from the same misuse the next
    /// write's check reports.
    #[inline]
    fn drop(&mut self) {
        self.h.set_flags(self.h.flags() & !HASH_WRITING);
    }
}

impl Deref for WritingGuard<'_> {
    type Target = HMap;
    #[inline(always)]
    fn deref(&self) -> &HMap {
        self.h
    }
}

impl DerefMut for WritingGuard<'_> {
    #[inline(always)]
    fn deref_mut(&mut self) -> &mut HMap {
        self.h
    }
}

/// A block an operation allocated for itself and owns until it hands it to
/// a map ([`OwnedBlock::publish`]): a new entry's out-of-line key or elem
/// before the slot is filled, a clone's copy of one, a scratch block, the
/// `hmap` of a map being made. Dropped unpublished (an error or an unwind
/// stopped the operation first), it goes back to its allocator.
///
/// Until it is published, the block may be referenced only from places
/// nothing reads as live (a slot whose tophash is still empty), so freeing
/// it cannot leave a dangling live reference.
pub(crate) struct OwnedBlock {
    /// The payload, a live block of `a`.
    p: NonNull<u8>,
    /// The allocator it came from and goes back to.
    a: Allocator,
}

impl OwnedBlock {
    /// Allocates a zeroed block of `size` bytes of payload from `a`.
    ///
    /// # Safety
    /// 1. `a` is a valid allocator (its functions meet the points of
    ///    [`Allocator::new`]), such as the allocator of a live map.
    #[inline]
    pub(crate) unsafe fn alloc(a: &Allocator, size: usize, kind: Kind) -> Result<OwnedBlock, MapError> {
        // SAFETY: [`alloc::alloc_block`]: 1. `a` is a valid allocator
        // (point 1).
        let p = unsafe { alloc::alloc_block(a, size, kind) }.ok_or(MapError::AllocFailed)?;
        Ok(OwnedBlock { p, a: *a })
    }

    /// Allocates a zeroed block of `size` bytes of payload from `a`,
    /// aligned to `align` ([`alloc::alloc_block_aligned`]): the out-of-line
    /// storage of a key or elem, aligned for its type.
    ///
    /// # Safety
    /// 1. `a` is a valid allocator (its functions meet the points of
    ///    [`Allocator::new`]), such as the allocator of a live map;
    /// 2. `align` is a power of two.
    #[inline]
    pub(crate) unsafe fn alloc_aligned(
        a: &Allocator,
        size: usize,
        align: usize,
        kind: Kind,
    ) -> Result<OwnedBlock, MapError> {
        // SAFETY: [`alloc::alloc_block_aligned`]: 1. `a` is a valid
        // allocator (point 1); 2. `align` is a power of two (point 2).
        let p = unsafe { alloc::alloc_block_aligned(a, size, align, kind) }.ok_or(MapError::AllocFailed)?;
        Ok(OwnedBlock { p, a: *a })
    }

    /// [`OwnedBlock::alloc_aligned`] through [`alloc::alloc_reusable`]: the
    /// out-of-line storage of a key or elem of the map `a` belongs to,
    /// possibly a pooled block of its quarantine.
    ///
    /// # Safety
    /// 1. `a` is the allocator of a live map (its own copy), and the block
    ///    is for an out-of-line key or elem of that map;
    /// 2. `align` is a power of two.
    #[inline]
    pub(crate) unsafe fn alloc_reusable(a: &Allocator, size: usize, align: usize) -> Result<OwnedBlock, MapError> {
        // SAFETY: [`alloc::alloc_reusable`]: 1. a live map's allocator
        // (point 1); 2. `align` is a power of two (point 2); 3. an
        // out-of-line key or elem of that map (point 1).
        let p = unsafe { alloc::alloc_reusable(a, size, align, Kind::Plain) }.ok_or(MapError::AllocFailed)?;
        Ok(OwnedBlock { p, a: *a })
    }

    /// The payload, still owned by the guard.
    #[inline(always)]
    pub(crate) fn as_ptr(&self) -> *mut u8 {
        self.p.as_ptr()
    }

    /// Hands the block over: whatever now stores the pointer owns it, and the
    /// guard frees nothing.
    #[inline(always)]
    pub(crate) fn publish(self) -> NonNull<u8> {
        let p = self.p;
        core::mem::forget(self);
        p
    }
}

impl Drop for OwnedBlock {
    #[inline]
    fn drop(&mut self) {
        // SAFETY: [`alloc::free_block`]: 1. `self.p` is the payload of a
        // live block that `alloc_block` or `alloc_block_aligned` allocated
        // with `self.a` (the fields' invariant, set up by `OwnedBlock::alloc`
        // or `OwnedBlock::alloc_aligned`), not freed before: the
        // guard is dropped once, and never after `publish`; 2. nothing uses
        // the block afterwards: unpublished, it is referenced only from
        // places nothing reads as live (see the type's doc).
        unsafe { alloc::free_block(&self.a, self.p) }
    }
}
