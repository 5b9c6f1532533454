//! The inline iteration step (gomap only): the common cases of
//! [`mapiternext`] in a form the compiler can inline into a caller's loop,
//! handing every other case to `mapiternext` itself, with a differential
//! test that steps the two side by side.

use crate::fatal::CONCURRENT_ITER_WRITE;
use crate::map::*;
use crate::maptype::{BUCKET_CNT, MapType};
use crate::scan::{iter_slots, tophash_word};

/// The common cases of [`mapiternext`], small enough to inline into a
/// caller's loop (gomap only, no Go twin). With no growth filter active
/// (`checkBucket == noCheck`) and no clear since the start, it produces, as
/// is, the next "golden" slot (not an evacuated copy) of the bucket the
/// iterator stands in, or else, when that bucket has no overflow bucket, of
/// the next main bucket, taking the very steps `mapiternext` takes to get
/// there. The iterator is only written when a slot is produced; every other
/// case, and every check `mapiternext` makes first (nil map, ended iterator,
/// concurrent write, a pin to widen), is left to [`mapiternext`] from the
/// unchanged state.
/// The result is therefore always `mapiternext`'s: same entry, same
/// iterator state.
///
/// # Safety
/// * `it` was started by [`mapiterinit`], and its map and type are alive
///   ([`mapiternext`]'s point), the map not under a write during the call;
/// * `t` is the type of the iterator's map.
#[inline(always)]
pub unsafe fn mapiternext_inline(t: &MapType, it: &mut HIter) {
    if it.registered && !it.bptr.is_null() && it.check_bucket == NO_CHECK {
        // SAFETY: a registered iterator's `it.h` is its map, alive and
        // aligned (point 1); only read here, and no write runs meanwhile.
        let h = unsafe { &*it.h };
        // (A map that moved to a new generation since the last step is left
        // to `mapiternext`, which widens the iterator's pin first.)
        if h.flags() & HASH_WRITING == 0 && it.clear_seq == h.clear_seq && it.pins.hi == h.generation {
            // SAFETY: 1. `it.bptr` is the bucket of `t` (point 2) the
            // iterator stands in: live, or retired and kept allocated by the
            // registration; 2. `checkBucket == noCheck` and no clear since
            // the start (both checked above).
            match unsafe { iter_next_slot(t, it.bptr, it.i as usize, it.offset) } {
                IterStep::Produced(i, k, e) => {
                    (it.key, it.elem, it.i) = (k, e, i);
                    return;
                }
                // The bucket is done. Without an overflow bucket mapiternext
                // moves to main bucket `it.bucket` of the iterator's array,
                // unless that ends the walk or an old bucket must be read.
                IterStep::BucketDone
                    // SAFETY: `it.bptr` is a bucket of `t`, as for the step
                    // above (`overflow`'s point).
                    if unsafe { overflow(t, it.bptr) }.is_null()
                        && !(it.bucket == it.start_bucket && it.wrapped)
                        && !(h.growing() && it.b == h.b) =>
                {
                    // SAFETY: `it.bucket < 2^it.B`, the bucket count of
                    // `it.buckets` (kept allocated by this iterator's
                    // registration): `bucket_at`'s point.
                    let b = unsafe { bucket_at(t, it.buckets, it.bucket) };
                    // SAFETY: 1. `b` is a bucket of `t` of the iterator's
                    // array, kept allocated by the registration; 2. as for
                    // the first step: no growth filter, no clear (checked).
                    if let IterStep::Produced(i, k, e) = unsafe { iter_next_slot(t, b, 0, it.offset) } {
                        it.bucket += 1;
                        if it.bucket == bucket_shift(it.b) {
                            it.bucket = 0;
                            it.wrapped = true;
                        }
                        (it.bptr, it.key, it.elem, it.i) = (b, k, e, i);
                        return;
                    }
                }
                _ => {}
            }
        }
    }
    // SAFETY: `it` was started by `mapiterinit`, its map and type alive
    // (point 1).
    unsafe { mapiternext(it) }
}

/// [`mapiternext_inline`] with the iterator's own descriptor, for callers
/// that do not hold the type (the C ABI).
///
/// # Safety
/// * `it` was started by [`mapiterinit`], and its map and type are alive
///   ([`mapiternext`]'s point), the map not under a write during the call.
#[inline(always)]
pub unsafe fn mapiternext_own_type(it: &mut HIter) {
    if it.registered {
        // SAFETY: a registered iterator's `it.t` is its map's type, alive
        // (point 1) and never mutated.
        let t = unsafe { &*it.t };
        // SAFETY: 1. point 1; 2. `t` is the type of the iterator's map.
        unsafe { mapiternext_inline(t, it) }
    } else {
        // SAFETY: point 1 (an ended iterator: `mapiternext` only reports
        // the end).
        unsafe { mapiternext(it) }
    }
}

/// What [`iter_next_slot`] found.
enum IterStep {
    /// The next slot, produced as is: the iterator's next `i`, key, elem.
    Produced(u8, *mut u8, *mut u8),
    /// The bucket has no slot left at or after `i`.
    BucketDone,
    /// The next slot is an evacuated copy: `mapiternext` must decide.
    Slow,
}

/// The next slot `mapiternext` would look at in bucket `b` (the first live
/// one at or after `i`, in the rotated order of `offset`), if `mapiternext`
/// would produce it as is.
///
/// # Safety
/// * `b` is a bucket of `t` the iterator may read (of its map's arrays, or
///   retired and kept allocated by its registration), not under a write;
/// * the iterator has no growth filter (`checkBucket == noCheck`) and no
///   clear ran since it started, so a filled slot holds a live entry (a
///   clear drops the entries its slots still show).
#[inline(always)]
unsafe fn iter_next_slot(t: &MapType, b: *mut u8, i: usize, offset: u8) -> IterStep {
    // As in mapiternext: bit `i` of the rotated mask is slot
    // `(i + offset) & 7`; `i <= 8`, so `ahead` is 0 past the end.
    // SAFETY: `b` is a bucket (point 1): its `tophash[8]` is readable and
    // 8-aligned.
    let live = (iter_slots(unsafe { tophash_word(b) }) as u8).rotate_right(offset as u32) as u32;
    let ahead = live >> i;
    if ahead == 0 {
        return IterStep::BucketDone;
    }
    let i = i + ahead.trailing_zeros() as usize;
    let offi = (i + offset as usize) & (BUCKET_CNT - 1);
    // SAFETY: `th`'s points: a bucket (point 1), `offi < BUCKET_CNT`.
    let top = unsafe { th(b, offi) };
    if top == EVACUATED_X || top == EVACUATED_Y {
        return IterStep::Slow;
    }
    // SAFETY: `key_of`'s points: a bucket of `t` (point 1), `offi < 8`; the
    // slot is filled with a live entry (point 2), so an indirect slot points
    // to its live key.
    let k = unsafe { key_of(t, b, offi) };
    // SAFETY: `elem_at`'s points: a bucket of `t`, `offi < 8`.
    let e = unsafe { elem_at(t, b, offi) };
    let e = if t.indirect_elem() {
        // SAFETY: an indirect elem slot of a live entry (point 2): 8-aligned
        // pointer storage.
        unsafe { deref_live(e, CONCURRENT_ITER_WRITE) }
    } else {
        e
    };
    IterStep::Produced((i + 1) as u8, k, e)
}

#[cfg(test)]
mod iter_inline_tests {
    use super::*;
    use crate::maptype::TypeInfo;

    /// `mapiternext_inline` leaves every iterator field exactly as
    /// `mapiternext` does: two iterators started with the same random draws
    /// walk one map side by side, one through each function, while the map
    /// is written between steps (inserts that start and finish growths,
    /// deletes, overwrites, the odd clear).
    #[test]
    fn inline_step_equals_mapiternext() {
        let t = MapType::u64_key(TypeInfo::of::<u64>()).unwrap();
        // Seeds (hash0, the hash key material) differ per run; 3000 rounds
        // reach every case the inline step hands back (checked by breaking
        // each of its guards in turn: each broken guard fails this test).
        let rounds = if cfg!(miri) { 3 } else { 3000 };
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for round in 0..rounds {
            // `h` is a live map of type `t` until the `mapfree` at the end
            // of the round; both iterators end before it.
            let h = makemap(&t, 0).unwrap().as_ptr();
            let assign = |k: u64, v: u64| {
                // SAFETY: `h` is null or a live map of type `t`; `k` is a key
                // of `t` on the stack, outside the map.
                let slot = unsafe { mapassign(&t, h, (&raw const k).cast()) }.unwrap();
                // SAFETY: the new or found elem slot is valid for writes of
                // one aligned `u64` until the next write to the map.
                unsafe { slot.elem.cast::<u64>().as_ptr().write(v) };
            };
            // SAFETY: `h` is a live map, not under a write: readable.
            let growing = || unsafe { (*h).growing() };
            let n0 = [0, 5, 13, 40, 200][round % 5];
            for _ in 0..n0 {
                let k = next() % 400;
                assign(k, k);
            }
            // Every other round starts iterating in the middle of a
            // growth, where old buckets are read through checkBucket.
            let mut k = 1000;
            while round % 2 == 1 && !growing() {
                assign(k, k);
                k += 1;
            }
            let (mut a, mut b) = (HIter::new(), HIter::new());
            crate::rand::with_source(crate::rand::seeded(round as u64), || {
                // SAFETY: `h` is a live map of type `t`; `a` is fresh; `t`
                // and the map outlive the iteration (ended below).
                unsafe { mapiterinit(&t, h, &mut a) }
            });
            crate::rand::with_source(crate::rand::seeded(round as u64), || {
                // SAFETY: as for `a`: live map of type `t`, fresh `b`, both
                // outlive the iteration.
                unsafe { mapiterinit(&t, h, &mut b) }
            });
            let mut steps = 0;
            while !a.key.is_null() {
                assert_eq!(format!("{a:?}"), format!("{b:?}"), "round {round} step {steps}");
                match next() % 16 {
                    0..=5 => {
                        let k = next() % 400;
                        assign(k, !k);
                    }
                    6..=8 => {
                        let k = next() % 400;
                        // SAFETY: `h` is a live map of type `t`; `k` is a key
                        // of `t`.
                        unsafe { mapdelete(&t, h, (&raw const k).cast()) }.unwrap();
                    }
                    // SAFETY: `h` is a live map of type `t`.
                    9 if next() % 3 == 0 => unsafe { mapclear(&t, h) },
                    _ => {}
                }
                // SAFETY: `a` was started by `mapiterinit`; its map and `t`
                // are alive.
                unsafe { mapiternext(&mut a) };
                // SAFETY: 1. `b` was started by `mapiterinit`, its map and
                // `t` alive; 2. `t` is its map's type.
                unsafe { mapiternext_inline(&t, &mut b) };
                steps += 1;
            }
            assert_eq!(format!("{a:?}"), format!("{b:?}"), "round {round} end");
            // SAFETY: `a`'s map and type are alive.
            unsafe { mapiterend(&mut a) };
            // SAFETY: `b`'s map and type are alive.
            unsafe { mapiterend(&mut b) };
            // SAFETY: `h` is a live map of type `t`, not used again.
            unsafe { mapfree(&t, h) }.unwrap();
        }
    }
}
