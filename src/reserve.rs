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
    /// `t` must be this map's type.
    pub(crate) unsafe fn reserve_overflow(&mut self, t: &MapType, n: usize) -> Result<(), MapError> {
        while self.nspare < n {
            // SAFETY: our allocator.
            let b =
                unsafe { alloc::alloc_block(&self.alloc, t.bucketsize(), Kind::Plain) }.ok_or(MapError::AllocFailed)?;
            // SAFETY: a fresh block, on no list.
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
    /// The map is growing and `t` is its type.
    #[inline(never)]
    pub(crate) unsafe fn reserve_grow_work(
        &mut self,
        t: &MapType,
        bucket: usize,
        extra: usize,
    ) -> Result<(), MapError> {
        // SAFETY: forwarded.
        let need = unsafe { grow_work_need(t, self, bucket) } + extra;
        // SAFETY: `t` is the map's type.
        unsafe { self.reserve_overflow(t, need) }
    }
}

/// How many spare overflow buckets the growth work for `bucket` could need:
/// [`grow_work`] evacuates two old buckets; one evacuated chain holding `n`
/// entries needs at most `n / 8 + 1` overflow buckets across X and Y.
///
/// # Safety
/// `h` is a live growing map of type `t`.
pub(crate) unsafe fn grow_work_need(t: &MapType, h: &HMap, bucket: usize) -> usize {
    // SAFETY: forwarded.
    let chains = unsafe { grow_work_chains(t, h, bucket) };
    chains.into_iter().flatten().map(|n| n / BUCKET_CNT + 1).sum()
}

/// The live entries of the two old chains the growth work for `bucket`
/// evacuates ([`grow_work`]: the one `bucket` maps to, then the one at
/// `nevacuate` once that has advanced), `None` for a chain it does not
/// evacuate (already evacuated, or no second one).
///
/// # Safety
/// `h` is a live growing map of type `t`.
#[inline(always)]
unsafe fn grow_work_chains(t: &MapType, h: &HMap, bucket: usize) -> [Option<usize>; 2] {
    // SAFETY: forwarded; each index is inside the old array.
    unsafe {
        let chain = |i: usize| -> Option<usize> {
            let mut b = bucket_at(t, h.oldbuckets, i);
            if evacuated(b) {
                return None;
            }
            let mut n = 0;
            while !b.is_null() {
                n += (0..BUCKET_CNT).filter(|&j| !is_empty(th(b, j))).count();
                b = overflow(t, b);
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
            while nev != stop && (nev == first || evacuated(bucket_at(t, h.oldbuckets, nev))) {
                nev += 1;
            }
        }
        let second = if nev >= newbit || nev == first { None } else { chain(nev) };
        [chain(first), second]
    }
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
/// * `h` is a live growing map of type `t`, under a write, reserved
///   ([`grow_work_need`]), and [`needs_decisions`] holds;
/// * `evacuate` is the evacuation function for `t`'s paths.
#[cold]
#[inline(never)]
pub(crate) unsafe fn grow_work_decided(
    t: &MapType,
    h: &mut HMap,
    bucket: usize,
    evacuate: EvacuateFn,
) -> Result<(), MapError> {
    // SAFETY: a live growing map of type `t` (caller).
    let mut d = unsafe { Decisions::reserve(t, h, bucket) }?;
    // SAFETY: 1. growing, under a write, reserved (caller); 2. the index is
    // masked into the old array; 3. a pre-pass runs (caller), and `d` has
    // room for the chain.
    unsafe { evacuate(t, h, bucket & h.oldbucketmask(), Some(d.buf())) };
    if h.growing() {
        // SAFETY: as above; `nevacuate` < the old bucket count while
        // growing, and `d` has room for this chain too.
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
    /// * `h` is a live growing map of type `t`.
    unsafe fn reserve(t: &MapType, h: &HMap, bucket: usize) -> Result<Decisions, MapError> {
        // SAFETY: a live growing map of type `t` (caller).
        let chains = unsafe { grow_work_chains(t, h, bucket) };
        let n = chains.into_iter().flatten().max().unwrap_or(0);
        let heap = if n > DECISIONS_ON_STACK {
            // SAFETY: the map's own allocator.
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
            // SAFETY: the guard's live block of at least `n` bytes (zeroed
            // when allocated, so initialised), used only through this
            // borrow of `self`, which owns it.
            Some((block, n)) => unsafe { core::slice::from_raw_parts_mut(block.as_ptr(), *n) },
            None => &mut self.stack,
        }
    }
}
