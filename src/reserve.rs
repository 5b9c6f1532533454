//! Reservation (gomap only): before a write changes anything, it reserves
//! the overflow buckets that its growth work and its own insert may need,
//! so that an allocation failure is reported before the map is touched and
//! never half-way through an evacuation; likewise the room for evacuation's
//! pre-pass ([`Decisions`]). Go's allocations cannot fail, so Go has no twin
//! of this.

use crate::alloc::{self, Kind};
use crate::fatal::MapError;
use crate::guards::OwnedBlock;
use crate::map::*;
use crate::maptype::{BUCKET_CNT, MapType};

impl HMap {
    /// Makes sure `n` spare overflow buckets are reserved, so that the growth
    /// work of the coming write cannot fail half-way. gomap only: Go's
    /// allocations cannot fail.
    ///
    /// # Safety
    /// 1. `self` is a live map of type `t` (its spare buckets are
    ///    `t.bucketsize()` bytes, as [`HMap::newoverflow`] takes them).
    pub(crate) unsafe fn reserve_overflow(&mut self, t: &MapType, n: usize) -> Result<(), MapError> {
        while self.nspare < n {
            // SAFETY: [`alloc::alloc_block`]: 1. `self.alloc` is the allocator
            // the live map was made with (point 1), valid by
            // [`crate::alloc::Allocator::new`]'s contract.
            let b = unsafe { alloc::alloc_reusable(&self.alloc, t.bucketsize(), 8, Kind::Plain) }
                .ok_or(MapError::AllocFailed)?;
            // SAFETY: [`alloc::push_retired`]: 1. `b` is the payload of a
            // live block `alloc_block` just returned, on no list yet; 2.
            // `self.spare` is null or heads the map's spare list, built only
            // by `push_retired` of live blocks.
            unsafe { alloc::push_retired(&mut self.spare, b) };
            self.nspare += 1;
        }
        Ok(())
    }

    /// Reserves what the growth work for `bucket` may need (plus `extra`
    /// buckets for the write itself), so that [`grow_work`] and the insert
    /// cannot fail half-way (gomap only; see [`grow_work_need`]).
    ///
    /// Out of line: it runs only while the map grows, and inlined its setup
    /// is hoisted into every write (STYLE practice 18).
    ///
    /// # Safety
    /// 1. `self` is a live map of type `t`, and it is growing;
    /// 2. under a write (the caller's `&mut` is the write's).
    #[inline(never)]
    pub(crate) unsafe fn reserve_grow_work(
        &mut self,
        t: &MapType,
        bucket: usize,
        extra: usize,
    ) -> Result<(), MapError> {
        // SAFETY: [`grow_work_need`]: 1. `self` is a live growing map of
        // type `t` (point 1); 2. no one else writes it: under a write
        // (point 2).
        let need = unsafe { grow_work_need(t, self, bucket) } + extra;
        // SAFETY: [`Self::reserve_overflow`]: 1. `self` is a live map of
        // type `t` (point 1).
        unsafe { self.reserve_overflow(t, need) }
    }
}

/// How many spare overflow buckets the growth work for `bucket` could need:
/// [`grow_work`] evacuates two old buckets; one evacuated chain holding `n`
/// entries needs at most `n / 8 + 1` overflow buckets across X and Y.
///
/// # Safety
/// 1. `h` is a live map of type `t`, and it is growing;
/// 2. no one else writes the map during the call (the caller holds it under
///    a write).
pub(crate) unsafe fn grow_work_need(t: &MapType, h: &HMap, bucket: usize) -> usize {
    // SAFETY: [`grow_work_chains`]: 1. and 2. are this function's points 1
    // and 2.
    let chains = unsafe { grow_work_chains(t, h, bucket) };
    chains.into_iter().flatten().map(|n| n / BUCKET_CNT + 1).sum()
}

/// The live entries of the two old chains the growth work for `bucket`
/// evacuates ([`grow_work`]: the one `bucket` maps to, then the one at
/// `nevacuate` once that has advanced), `None` for a chain it does not
/// evacuate (already evacuated, or no second one).
///
/// # Safety
/// 1. `h` is a live map of type `t`, and it is growing (so `h.oldbuckets`
///    is an array of `h.noldbuckets()` buckets of `t`);
/// 2. no one else writes the map during the call.
#[inline(always)]
unsafe fn grow_work_chains(t: &MapType, h: &HMap, bucket: usize) -> [Option<usize>; 2] {
    // The live entries of the chain at old bucket `i`; called below only
    // with `i < h.noldbuckets()`.
    let chain = |i: usize| -> Option<usize> {
        // SAFETY: [`bucket_at`]: `h.oldbuckets` holds `h.noldbuckets()`
        // buckets of `t` (point 1) and `i` is below that (both calls).
        let mut b = unsafe { bucket_at(t, h.oldbuckets, i) };
        // SAFETY: [`evacuated`], as [`th`]: `b` is a bucket of `t` (just
        // above), its tophash written only under a write, which no one
        // else holds (point 2); slot 0 < 8.
        if unsafe { evacuated(b) } {
            return None;
        }
        let mut n = 0;
        while !b.is_null() {
            // SAFETY: [`th`]: `b` is a non-null bucket of `t` on the chain
            // (the old bucket, then overflow links of a live map, point 1);
            // `j < 8` (the range).
            n += (0..BUCKET_CNT).filter(|&j| !is_empty(unsafe { th(b, j) })).count();
            // SAFETY: [`overflow`]: `b` is a bucket of `t` (as above), its
            // link not written meanwhile (point 2).
            b = unsafe { overflow(t, b) };
        }
        Some(n)
    };
    let first = bucket & h.oldbucketmask();
    // The second evacuation targets h.nevacuate after the first one has
    // possibly advanced it; replay advanceEvacuationMark's scan.
    let newbit = h.noldbuckets();
    let mut nev = h.nevacuate;
    if first == nev {
        nev += 1;
        let stop = (nev + 1024).min(newbit);
        while nev != stop
            && (nev == first || {
                // SAFETY: [`bucket_at`]: `h.oldbuckets` holds `newbit`
                // buckets of `t` (point 1), and `nev < stop <= newbit`.
                let b = unsafe { bucket_at(t, h.oldbuckets, nev) };
                // SAFETY: [`evacuated`], as [`th`]: `b` is a bucket of `t`
                // (just above), not written meanwhile (point 2); slot 0 < 8.
                unsafe { evacuated(b) }
            })
        {
            nev += 1;
        }
    }
    // `first <= oldbucketmask < newbit`; `nev < newbit` where `chain` gets it.
    let second = if nev >= newbit || nev == first { None } else { chain(nev) };
    [chain(first), second]
}

/// Decisions that fit on the stack: 64, the live entries of 8 full buckets,
/// more than a chain holds at a doubling unless the hasher piles keys into
/// few buckets.
const DECISIONS_ON_STACK: usize = 64;

/// Reports whether evacuation runs its pre-pass ([`evac_decisions`]):
/// callbacks that may unwind, during a doubling (a same-size growth keeps
/// every entry in X, so there is nothing to decide).
#[inline(always)]
pub(crate) fn needs_decisions(t: &MapType, h: &HMap) -> bool {
    t.may_unwind && !h.same_size_grow()
}

/// [`evacuate`] or one of its fast twins, given the room for its pre-pass
/// when it runs one.
pub(crate) type EvacuateFn = unsafe fn(&MapType, &mut HMap, usize, Option<&mut [u8]>);

/// The growth work for `bucket` ([`grow_work`] and its fast twins, which
/// pass their `evacuate`) when evacuation runs its pre-pass: first the room
/// for the decisions, then the same two evacuations. Out of line, so that
/// the common case carries none of it. Fails (`AllocFailed`) only before
/// anything moved.
///
/// # Safety
/// 1. `h` is a live map of type `t`, growing, under a write, and reserved
///    ([`grow_work_need`]`(t, h, bucket)` spare buckets);
/// 2. [`needs_decisions`]`(t, h)` holds;
/// 3. `evacuate` is the evacuation function for `t`'s paths (a function
///    with [`evacuate`]'s `# Safety` points that `t` fits).
#[cold]
#[inline(never)]
pub(crate) unsafe fn grow_work_decided(
    t: &MapType,
    h: &mut HMap,
    bucket: usize,
    evacuate: EvacuateFn,
) -> Result<(), MapError> {
    // SAFETY: [`Decisions::reserve`]: 1. `h` is a live growing map of
    // type `t`; 2. under a write, so no one else writes it (point 1).
    let mut d = unsafe { Decisions::reserve(t, h, bucket) }?;
    // SAFETY: [`evacuate`] (point 3): 1. `h` is growing, under a write and
    // reserved for this growth work (point 1); 2. `bucket &
    // h.oldbucketmask()` < `h.noldbuckets()`: it indexes the old array; 3.
    // a pre-pass runs (point 2) and `Some` is passed, with room for every
    // live entry of this chain (`d` holds the longer of the two chains').
    unsafe { evacuate(t, h, bucket & h.oldbucketmask(), Some(d.buf())) };
    if h.growing() {
        // SAFETY: [`evacuate`] (point 3): 1. still growing (checked), under
        // a write, and the reservation covered this second evacuation too
        // ([`grow_work_need`] counts both chains); 2. `h.nevacuate <
        // h.noldbuckets()` while growing (the growth ends when it reaches
        // it); 3. as above, `d` has room for this chain, the one
        // [`grow_work_chains`] replayed.
        unsafe { evacuate(t, h, h.nevacuate, Some(d.buf())) };
    }
    Ok(())
}

/// Room for the decisions of evacuation's pre-pass ([`evac_decisions`]):
/// one byte per live entry of the longer of the two chains a write's growth
/// work evacuates, on the stack, or for longer chains in a block of the
/// map's own allocator, never the global one. Taken before either
/// evacuation ([`grow_work_decided`]), so that failing to get it is the
/// write's `AllocFailed` with nothing moved.
struct Decisions {
    stack: [u8; DECISIONS_ON_STACK],
    /// The block and its length in bytes, when the stack is too small.
    heap: Option<(OwnedBlock, usize)>,
}

impl Decisions {
    /// Room for the decisions of the growth work for `bucket`.
    ///
    /// # Safety
    /// 1. `h` is a live map of type `t`, and it is growing;
    /// 2. no one else writes the map during the call.
    unsafe fn reserve(t: &MapType, h: &HMap, bucket: usize) -> Result<Decisions, MapError> {
        // SAFETY: [`grow_work_chains`]: 1. and 2. are points 1 and 2.
        let chains = unsafe { grow_work_chains(t, h, bucket) };
        let n = chains.into_iter().flatten().max().unwrap_or(0);
        let heap = if n > DECISIONS_ON_STACK {
            // SAFETY: [`OwnedBlock::alloc`]: 1. `h.alloc` is the allocator
            // of a live map (point 1), a valid allocator.
            Some((unsafe { OwnedBlock::alloc(&h.alloc, n, Kind::Plain) }?, n))
        } else {
            None
        };
        Ok(Decisions { stack: [0; DECISIONS_ON_STACK], heap })
    }

    /// The buffer: room for one decision per live entry of either chain.
    #[inline]
    fn buf(&mut self) -> &mut [u8] {
        match &self.heap {
            // SAFETY: [`core::slice::from_raw_parts_mut`]: the pointer is
            // the payload of the guard's live block of at least `n` bytes
            // (one allocation; non-null; `u8` needs no alignment), zeroed
            // when allocated, so initialised; `n <= isize::MAX` (the block
            // exists); not aliased: the block is reached only through this
            // `&mut self`, which owns it, for the slice's lifetime.
            Some((block, n)) => unsafe { core::slice::from_raw_parts_mut(block.as_ptr(), *n) },
            None => &mut self.stack,
        }
    }
}
