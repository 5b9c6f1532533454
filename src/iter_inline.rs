//! The inline iteration step (gomap only): the common cases of
//! [`mapiternext`] in a form the compiler can inline into a caller's loop,
//! handing every other case to `mapiternext` itself, with a differential
//! test that steps the two side by side.

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
/// concurrent write), is left to [`mapiternext`] from the unchanged state.
/// The result is therefore always `mapiternext`'s: same entry, same
/// iterator state.
///
/// # Safety
/// As [`mapiternext`]; `t` is the type of the iterator's map.
#[inline(always)]
pub unsafe fn mapiternext_inline(t: &MapType, it: &mut HIter) {
    if it.registered && !it.bptr.is_null() && it.check_bucket == NO_CHECK {
        // SAFETY: a registered iterator's map is alive (caller).
        let h = unsafe { &*it.h };
        if h.flags() & HASH_WRITING == 0 && it.clear_seq == h.clear_seq {
            // SAFETY: `it.bptr` is the live (or retired, still allocated)
            // bucket the iterator stands in.
            match unsafe { iter_next_slot(t, it.bptr, it.i as usize, it.offset) } {
                IterStep::Produced(i, k, e) => {
                    (it.key, it.elem, it.i) = (k, e, i);
                    return;
                }
                // The bucket is done. Without an overflow bucket mapiternext
                // moves to main bucket `it.bucket` of the iterator's array,
                // unless that ends the walk or an old bucket must be read.
                IterStep::BucketDone
                    // SAFETY: as above.
                    if unsafe { overflow(t, it.bptr) }.is_null()
                        && !(it.bucket == it.start_bucket && it.wrapped)
                        && !(h.growing() && it.b == h.b) =>
                {
                    // SAFETY: it.bucket < 2^it.B buckets of it.buckets (kept
                    // alive by this iterator's registration).
                    let b = unsafe { bucket_at(t, it.buckets, it.bucket) };
                    // SAFETY: as above, for that bucket, from its slot 0.
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
    // SAFETY: forwarded.
    unsafe { mapiternext(it) }
}

/// [`mapiternext_inline`] with the iterator's own descriptor, for callers
/// that do not hold the type (the C ABI).
///
/// # Safety
/// As [`mapiternext`].
#[inline(always)]
pub unsafe fn mapiternext_own_type(it: &mut HIter) {
    if it.registered {
        // SAFETY: a registered iterator's type outlives the iteration
        // (mapiternext's contract).
        let t = unsafe { &*it.t };
        // SAFETY: forwarded; `t` is the iterator's map type.
        unsafe { mapiternext_inline(t, it) }
    } else {
        // SAFETY: forwarded (an ended or fresh iterator).
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
/// `b` is a bucket of `t` the iterator may read; the caller checked
/// `checkBucket == noCheck` and that no clear happened since the start.
#[inline(always)]
unsafe fn iter_next_slot(t: &MapType, b: *mut u8, i: usize, offset: u8) -> IterStep {
    // As in mapiternext: bit `i` of the rotated mask is slot
    // `(i + offset) & 7`; `i <= 8`, so `ahead` is 0 past the end.
    // SAFETY: `b` is a bucket (caller).
    let live = (unsafe { iter_slots(tophash_word(b)) } as u8).rotate_right(offset as u32) as u32;
    let ahead = live >> i;
    if ahead == 0 {
        return IterStep::BucketDone;
    }
    let i = i + ahead.trailing_zeros() as usize;
    let offi = (i + offset as usize) & (BUCKET_CNT - 1);
    // SAFETY: slot offi of `b`.
    let top = unsafe { th(b, offi) };
    if top == EVACUATED_X || top == EVACUATED_Y {
        return IterStep::Slow;
    }
    // SAFETY: slot offi holds a live key and elem.
    let (k, e) = unsafe { (key_of(t, b, offi), elem_at(t, b, offi)) };
    // SAFETY: as above.
    let e = if t.indirect_elem() { unsafe { deref_slot(e) } } else { e };
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
            let h = makemap(&t, 0).unwrap().as_ptr();
            let n0 = [0, 5, 13, 40, 200][round % 5];
            // SAFETY: a live map of type `t`; keys are u64 values on the stack;
            // both iterators are ended before the map is freed.
            unsafe {
                for _ in 0..n0 {
                    let k = next() % 400;
                    mapassign(&t, h, (&raw const k).cast()).unwrap().elem.cast::<u64>().as_ptr().write(k);
                }
                // Every other round starts iterating in the middle of a
                // growth, where old buckets are read through checkBucket.
                let mut k = 1000;
                while round % 2 == 1 && !(*h).growing() {
                    mapassign(&t, h, (&raw const k).cast()).unwrap().elem.cast::<u64>().as_ptr().write(k);
                    k += 1;
                }
                let (mut a, mut b) = (HIter::new(), HIter::new());
                crate::rand::with_source(crate::rand::seeded(round as u64), || mapiterinit(&t, h, &mut a));
                crate::rand::with_source(crate::rand::seeded(round as u64), || mapiterinit(&t, h, &mut b));
                let mut steps = 0;
                while !a.key.is_null() {
                    assert_eq!(format!("{a:?}"), format!("{b:?}"), "round {round} step {steps}");
                    match next() % 16 {
                        0..=5 => {
                            let k = next() % 400;
                            mapassign(&t, h, (&raw const k).cast()).unwrap().elem.cast::<u64>().as_ptr().write(!k);
                        }
                        6..=8 => {
                            let k = next() % 400;
                            mapdelete(&t, h, (&raw const k).cast()).unwrap();
                        }
                        9 if next() % 3 == 0 => mapclear(&t, h),
                        _ => {}
                    }
                    mapiternext(&mut a);
                    mapiternext_inline(&t, &mut b);
                    steps += 1;
                }
                assert_eq!(format!("{a:?}"), format!("{b:?}"), "round {round} end");
                mapiterend(&mut a);
                mapiterend(&mut b);
                mapfree(&t, h).unwrap();
            }
        }
    }
}
