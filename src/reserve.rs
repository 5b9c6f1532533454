//! Reservation (gomap only): before a write changes anything, it reserves
//! the overflow buckets that its growth work and its own insert may need,
//! so that an allocation failure is reported before the map is touched and
//! never half-way through an evacuation. Go's allocations cannot fail, so
//! Go has no twin of this.

use crate::alloc::{self, Kind};
use crate::fatal::MapError;
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
    /// # Safety
    /// The map is growing and `t` is its type.
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
    // SAFETY: forwarded; each index is inside the old array.
    unsafe {
        let chain_need = |i: usize| -> usize {
            let mut b = bucket_at(t, h.oldbuckets, i);
            if evacuated(b) {
                return 0;
            }
            let mut n = 0;
            while !b.is_null() {
                n += (0..BUCKET_CNT).filter(|&j| !is_empty(th(b, j))).count();
                b = overflow(t, b);
            }
            n / BUCKET_CNT + 1
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
        let second = if nev >= newbit || nev == first { 0 } else { chain_need(nev) };
        chain_need(first) + second
    }
}
