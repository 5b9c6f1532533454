//! Go's fast paths for maps whose keys are 4 bytes of plain memory
//! (`uint32`, `int32`, `rune`, `[4]byte`, ...): a function-by-function port
//! of Go 1.24.11's `runtime/map_fast32_noswiss.go`.
//!
//! Go's compiler calls these instead of the generic functions of
//! [`crate::map`] when the key type's hash is `memhash32` and the elem is at
//! most 128 bytes (so stored inline). They work on the very same `hmap` and
//! bucket layout, so a map can be used through both sets of functions at
//! once; they only skip work the generic code does for every key type:
//! keys are compared as `u32` values instead of through the equality
//! callback, lookups in a one-bucket map do not hash at all, and keys are
//! copied with one 4-byte store.
//!
//! gomap's additions are kept exactly as in [`crate::map`]: spare overflow
//! buckets are reserved before growth work (so a write fails before changing
//! anything, or not at all), the write flag is held by a guard, deletes run
//! the descriptor's drop hooks (retiring what an iterator could still read),
//! and the heap overflow buckets evacuation cuts off stay on
//! `extra.oldoverflow` until growth ends, which releases the whole list.
//!
//! Every function requires a descriptor with 4-byte, inline keys hashed by a
//! function that reads exactly those 4 bytes and compared bytewise (e.g.
//! [`MapType::u32_key`](crate::maptype::MapType)), and inline elems (at
//! most 128 bytes); violations are caught by debug assertions only.

use core::ptr::{self, NonNull};

use crate::fatal::{CONCURRENT_READ_WRITE, CONCURRENT_WRITES, MapError, fatal, throw};
use crate::map::{
    EMPTY_REST, EVACUATED_EMPTY, EVACUATED_X, EvacDst, HASH_WRITING, HMap, MIN_TOP_HASH, OLD_ITERATOR, Slot,
    advance_evacuation_mark, bucket_at, bucket_mask, decode_decision, evac_decisions, evacuated, find_in_chain,
    hash_grow, is_empty, lookup_bucket, memclr, memmove, over_load_factor, overflow, set_th, th,
    too_many_overflow_buckets, tophash, zero_val,
};
use crate::maptype::{BUCKET_CNT, DATA_OFFSET, MapType, PTR_SIZE};
use crate::reserve::{grow_work_decided, needs_decisions};
use crate::scan::{nonempty_slots, tophash_word};

/// Width of a key slot.
const KEY: usize = 4;

/// Key slot `i` of bucket `b` (Go: `add(unsafe.Pointer(b), dataOffset+i*4)`).
///
/// # Safety
/// `b` points to a bucket of a map with 4-byte keys; `i < 8`.
#[inline(always)]
unsafe fn key32(b: *mut u8, i: usize) -> *mut u8 {
    debug_assert!(i < BUCKET_CNT);
    // SAFETY: the 8 key slots follow tophash[8] inside the bucket.
    unsafe { b.add(DATA_OFFSET + i * KEY) }
}

/// Elem slot `i` of bucket `b` (Go: `dataOffset+bucketCnt*4+i*ValueSize`).
///
/// # Safety
/// As [`key32`], for a bucket of `t`.
#[inline(always)]
unsafe fn elem32(t: &MapType, b: *mut u8, i: usize) -> *mut u8 {
    debug_assert!(i < BUCKET_CNT);
    // SAFETY: the 8 elem slots follow the 8 key slots inside the bucket.
    unsafe { b.add(DATA_OFFSET + BUCKET_CNT * KEY + i * t.valuesize()) }
}

/// The stored key of slot `i` (stale bytes for an empty slot).
///
/// # Safety
/// As [`key32`].
#[inline(always)]
unsafe fn load32(b: *mut u8, i: usize) -> u32 {
    // SAFETY: buckets are 8-aligned, so 4-byte slots at 8 + 4i are 4-aligned;
    // the bytes are initialised (blocks are zeroed when allocated).
    unsafe { key32(b, i).cast::<u32>().read() }
}

/// Checks (in debug builds) that `t` is a descriptor the fast32 paths may use.
#[inline(always)]
fn debug_check(t: &MapType) {
    debug_assert!(
        t.keysize() == KEY && !t.indirect_key() && !t.indirect_elem(),
        "fast32 map function used with a descriptor it does not fit: {t:?}"
    );
}

/// Finds the elem slot of `key`, or null: the lookup shared by
/// [`mapaccess1_fast32`] and [`mapaccess2_fast32`] (Go repeats it in both).
///
/// # Safety
/// `h` is a live, non-empty map of type `t`, `t` fits the fast32 paths.
#[inline(always)]
unsafe fn lookup_fast32(t: &MapType, h: &HMap, key: u32) -> *mut u8 {
    if h.b == 0 {
        // A single bucket: no need to hash (and a one-bucket map never grows
        // in place, so there are no old buckets to consult). Go walks
        // i = 0..8 and returns the first slot whose key equals `key` and
        // whose tophash is not empty; the same slot, from all 8 comparisons
        // at once: the lowest bit of the match mask.
        let mut b = h.buckets;
        while !b.is_null() {
            // SAFETY: a bucket of the chain.
            let m = unsafe { key_matches(b, key) };
            if m != 0 {
                // SAFETY: slot m.trailing_zeros() (< 8) of the bucket.
                return unsafe { elem32(t, b, m.trailing_zeros() as usize) };
            }
            // SAFETY: a bucket.
            b = unsafe { overflow(t, b) };
        }
        return ptr::null_mut();
    }
    // SAFETY: `key` is a 4-byte key for `t`'s hasher.
    let hash = unsafe { t.hash32((&raw const key).cast(), h.hash0 as usize) };
    // With B > 0 the hash is at hand, so the walk is the generic lookup's
    // (see `find_in_chain` for why it finds the slot Go's loop returns).
    // SAFETY: a live non-empty map (caller); slots of its live buckets.
    match unsafe { find_in_chain(t, lookup_bucket(t, h, hash), tophash(hash), |b, i| load32(b, i) == key) } {
        // SAFETY: slot i of a live bucket.
        Some((b, i)) => unsafe { elem32(t, b, i) },
        None => ptr::null_mut(),
    }
}

/// Bit `i` set iff slot `i` of `b` holds `key` and is not empty: the slots
/// Go's fast lookup loop accepts (`k == key && !isEmpty(b.tophash[i])`).
///
/// # Safety
/// `b` points to a bucket of a map with 4-byte keys.
#[inline(always)]
unsafe fn key_matches(b: *mut u8, key: u32) -> u32 {
    let mut m = 0u32;
    for i in 0..BUCKET_CNT {
        // SAFETY: slot i of the bucket.
        m |= ((unsafe { load32(b, i) } == key) as u32) << i;
    }
    // SAFETY: a bucket.
    m & nonempty_slots(unsafe { tophash_word(b) })
}

/// `v := m[k]` for 4-byte keys (`mapaccess1_fast32`, map_fast32_noswiss.go:16):
/// a pointer to the elem, or to the shared zero value. Never fails; the
/// `Result` matches [`crate::map::mapaccess1`].
///
/// # Safety
/// `h` is null or a live map of type `t`; `t` has 4-byte inline keys
/// compared bytewise and inline elems. The result is valid until the next
/// write to the map.
#[inline]
pub unsafe fn mapaccess1_fast32(t: &MapType, h: *const HMap, key: u32) -> Result<*const u8, MapError> {
    // SAFETY: forwarded.
    let (e, _) = unsafe { mapaccess2_fast32(t, h, key) }?;
    Ok(e)
}

/// `v, ok := m[k]` for 4-byte keys (`mapaccess2_fast32`, map_fast32_noswiss.go:65).
///
/// # Safety
/// As [`mapaccess1_fast32`].
#[inline]
pub unsafe fn mapaccess2_fast32(t: &MapType, h: *const HMap, key: u32) -> Result<(*const u8, bool), MapError> {
    // SAFETY: forwarded.
    Ok(unsafe { access2_fast32(t, h, key) })
}

/// The body of [`mapaccess2_fast32`] without the `Result`, always inlined:
/// for callers that are themselves thin wrappers (the C ABI's
/// `gomap_mapaccess*_fast32`), so that a lookup is one call, not two.
///
/// # Safety
/// As [`mapaccess1_fast32`].
#[inline(always)]
pub unsafe fn access2_fast32(t: &MapType, h: *const HMap, key: u32) -> (*const u8, bool) {
    debug_check(t);
    // SAFETY: null or a live map (caller).
    let Some(h) = (unsafe { h.as_ref() }) else { return (zero_val(), false) };
    if h.count == 0 {
        return (zero_val(), false);
    }
    if h.flags() & HASH_WRITING != 0 {
        fatal(CONCURRENT_READ_WRITE);
    }
    // SAFETY: a live non-empty map of type `t`, which fits.
    let e = unsafe { lookup_fast32(t, h, key) };
    if e.is_null() { (zero_val(), false) } else { (e, true) }
}

/// `m[k] = v`, first half, for 4-byte keys (`mapassign_fast32`,
/// map_fast32_noswiss.go:115): the elem slot for `key`, inserting the key if
/// it is new. Errors as [`crate::map::mapassign`]: nil map, allocation
/// failure; the map's contents are then unchanged.
///
/// # Safety
/// As [`mapaccess1_fast32`]. The returned slot is valid until the next write.
pub unsafe fn mapassign_fast32(t: &MapType, h: *mut HMap, key: u32) -> Result<Slot, MapError> {
    debug_check(t);
    // SAFETY: null or a live map, used exclusively by this write (caller).
    let Some(h) = (unsafe { h.as_mut() }) else { return Err(MapError::NilMapAssign) };
    if h.flags() & HASH_WRITING != 0 {
        fatal(CONCURRENT_WRITES);
    }
    // SAFETY: a 4-byte key for `t`'s hasher.
    let hash = unsafe { t.hash32((&raw const key).cast(), h.hash0 as usize) };

    // Mark the write only after hashing, as mapassign does.
    // `h` is the write's guard from here: an early exit clears the flag.
    let mut h = h.start_writing();

    // SAFETY: a live map of type `t`, under this write.
    unsafe { h.ensure_buckets(t) }?;

    let mut inserted = false;
    let insertb: *mut u8;
    let inserti: usize;
    'done: {
        'again: loop {
            let bucket = hash & bucket_mask(h.b);
            if h.growing() {
                // SAFETY: a growing map of type `t`.
                unsafe { h.reserve_grow_work(t, bucket, 1) }?;
                // SAFETY: growing, under this write, reserved just above.
                unsafe { grow_work_fast32(t, &mut h, bucket) }?;
            }
            // SAFETY: bucket < 2^B.
            let mut b = unsafe { bucket_at(t, h.buckets, bucket) };

            let mut ib: *mut u8 = ptr::null_mut();
            let mut ii = 0usize;

            'bucketloop: loop {
                for i in 0..BUCKET_CNT {
                    // SAFETY: slot i of a bucket of the chain.
                    let thi = unsafe { th(b, i) };
                    if is_empty(thi) {
                        if ib.is_null() {
                            ii = i;
                            ib = b;
                        }
                        if thi == EMPTY_REST {
                            break 'bucketloop;
                        }
                        continue;
                    }
                    // SAFETY: slot i of the bucket.
                    let k = unsafe { load32(b, i) };
                    if k != key {
                        continue;
                    }
                    inserti = i;
                    insertb = b;
                    break 'done;
                }
                // SAFETY: a bucket.
                let ovf = unsafe { overflow(t, b) };
                if ovf.is_null() {
                    break;
                }
                b = ovf;
            }

            // The key is new. Grow first if the map is over the load factor
            // or has too many overflow buckets (and is not growing already).
            if !h.growing()
                && (over_load_factor(h.count as isize + 1, h.b) || too_many_overflow_buckets(h.noverflow, h.b))
            {
                // SAFETY: `t` is the map's type; not growing; under a write.
                unsafe { hash_grow(t, &mut h) }?;
                continue 'again; // every bucket pointer is stale now
            }

            if ib.is_null() {
                // The whole chain is full: hang a new overflow bucket off it.
                // SAFETY: `b` ends its chain. While growing the reserve makes
                // this infallible; otherwise it fails before any change.
                ib = unsafe { h.newoverflow(t, b) }?;
                ii = 0;
            }
            // SAFETY: slot ii of bucket ib (masked like Go's, < 8).
            unsafe { set_th(ib, ii & (BUCKET_CNT - 1), tophash(hash)) };

            // SAFETY: key slot ii of `ib`, 4-aligned.
            unsafe { key32(ib, ii).cast::<u32>().write(key) };

            h.count += 1;
            inserted = true;
            inserti = ii;
            insertb = ib;
            break 'done;
        }
    }

    // SAFETY: slot inserti of bucket insertb.
    let elem = unsafe { elem32(t, insertb, inserti) };
    h.end_writing();
    // SAFETY: a slot address is never null.
    Ok(Slot { elem: unsafe { NonNull::new_unchecked(elem) }, inserted })
}

/// `m[k] = v`, first half, for 4-byte pointer keys (`mapassign_fast32ptr`,
/// map_fast32_noswiss.go:214).
///
/// Go's compiler uses this only where pointers are 4 bytes wide (32-bit
/// targets): on 64-bit targets a pointer does not fit a 4-byte key slot, so
/// the function exists only where `target_pointer_width = "32"`, as in Go.
/// (gomap's layout constants are 64-bit only today, so no build compiles it
/// yet.)
///
/// # Safety
/// As [`mapassign_fast32`].
#[cfg(target_pointer_width = "32")]
pub unsafe fn mapassign_fast32ptr(t: &MapType, h: *mut HMap, key: *mut u8) -> Result<Slot, MapError> {
    debug_check(t);
    // SAFETY: null or a live map, used exclusively by this write (caller).
    let Some(h) = (unsafe { h.as_mut() }) else { return Err(MapError::NilMapAssign) };
    if h.flags() & HASH_WRITING != 0 {
        fatal(CONCURRENT_WRITES);
    }
    // SAFETY: a pointer-sized key for `t`'s hasher (Go hashes &key too).
    let hash = unsafe { t.hash32((&raw const key).cast(), h.hash0 as usize) };

    // Mark the write only after hashing, as mapassign does.
    // `h` is the write's guard from here: an early exit clears the flag.
    let mut h = h.start_writing();

    // SAFETY: a live map of type `t`, under this write.
    unsafe { h.ensure_buckets(t) }?;

    let mut inserted = false;
    let insertb: *mut u8;
    let inserti: usize;
    'done: {
        'again: loop {
            let bucket = hash & bucket_mask(h.b);
            if h.growing() {
                // SAFETY: a growing map of type `t`.
                unsafe { h.reserve_grow_work(t, bucket, 1) }?;
                // SAFETY: growing, under this write, reserved just above.
                unsafe { grow_work_fast32(t, &mut h, bucket) }?;
            }
            // SAFETY: bucket < 2^B.
            let mut b = unsafe { bucket_at(t, h.buckets, bucket) };

            let mut ib: *mut u8 = ptr::null_mut();
            let mut ii = 0usize;

            'bucketloop: loop {
                for i in 0..BUCKET_CNT {
                    // SAFETY: slot i of a bucket of the chain.
                    let thi = unsafe { th(b, i) };
                    if is_empty(thi) {
                        if ib.is_null() {
                            ii = i;
                            ib = b;
                        }
                        if thi == EMPTY_REST {
                            break 'bucketloop;
                        }
                        continue;
                    }
                    // SAFETY: key slot i (pointer-sized where this can run).
                    let k = unsafe { key32(b, i).cast::<*mut u8>().read_unaligned() };
                    if k != key {
                        continue;
                    }
                    inserti = i;
                    insertb = b;
                    break 'done;
                }
                // SAFETY: a bucket.
                let ovf = unsafe { overflow(t, b) };
                if ovf.is_null() {
                    break;
                }
                b = ovf;
            }

            // The key is new. Grow first if the map is over the load factor
            // or has too many overflow buckets (and is not growing already).
            if !h.growing()
                && (over_load_factor(h.count as isize + 1, h.b) || too_many_overflow_buckets(h.noverflow, h.b))
            {
                // SAFETY: `t` is the map's type; not growing; under a write.
                unsafe { hash_grow(t, &mut h) }?;
                continue 'again; // every bucket pointer is stale now
            }

            if ib.is_null() {
                // The whole chain is full: hang a new overflow bucket off it.
                // SAFETY: `b` ends its chain (see mapassign_fast32).
                ib = unsafe { h.newoverflow(t, b) }?;
                ii = 0;
            }
            // SAFETY: slot ii of bucket ib (masked like Go's, < 8).
            unsafe { set_th(ib, ii & (BUCKET_CNT - 1), tophash(hash)) };

            // SAFETY: key slot ii of `ib` (pointer-sized where this can run).
            unsafe { key32(ib, ii).cast::<*mut u8>().write_unaligned(key) };

            h.count += 1;
            inserted = true;
            inserti = ii;
            insertb = ib;
            break 'done;
        }
    }

    // SAFETY: slot inserti of bucket insertb.
    let elem = unsafe { elem32(t, insertb, inserti) };
    h.end_writing();
    // SAFETY: a slot address is never null.
    Ok(Slot { elem: unsafe { NonNull::new_unchecked(elem) }, inserted })
}

/// `delete(m, k)` for 4-byte keys (`mapdelete_fast32`, map_fast32_noswiss.go:304).
/// Errors as [`crate::map::mapdelete`] (allocation failure while growth work
/// needs an overflow bucket, or for a deferred key drop); the map's contents
/// are then unchanged.
///
/// # Safety
/// As [`mapaccess1_fast32`].
pub unsafe fn mapdelete_fast32(t: &MapType, h: *mut HMap, key: u32) -> Result<(), MapError> {
    // SAFETY: forwarded (caller); a null `out` drops the elem.
    unsafe { mapdelete_fast32_into(t, h, key, ptr::null_mut()) }.map(|_| ())
}

/// [`mapdelete_fast32`] that moves the deleted entry's elem to `out` instead of
/// dropping it (when `out` is not null) and reports whether an entry was
/// deleted (gomap: one lookup for a typed `remove`, where Go's `delete`
/// returns nothing). The decisions and the map's state are exactly
/// [`mapdelete_fast32`]'s.
///
/// # Safety
/// As [`mapdelete_fast32`]; `out` is null or valid for writing one elem (not
/// overlapping the map).
#[doc(alias = "mapdelete_fast32")]
pub unsafe fn mapdelete_fast32_into(t: &MapType, h: *mut HMap, key: u32, out: *mut u8) -> Result<bool, MapError> {
    debug_check(t);
    // SAFETY: null or a live map, used exclusively by this write (caller).
    let Some(h) = (unsafe { h.as_mut() }) else { return Ok(false) };
    if h.count == 0 {
        return Ok(false);
    }
    if h.flags() & HASH_WRITING != 0 {
        fatal(CONCURRENT_WRITES);
    }

    // SAFETY: a 4-byte key for `t`'s hasher.
    let hash = unsafe { t.hash32((&raw const key).cast(), h.hash0 as usize) };

    // Mark the write only after hashing, as mapdelete does.
    // `h` is the write's guard from here: an early exit clears the flag.
    let mut h = h.start_writing();

    let bucket = hash & bucket_mask(h.b);
    if h.growing() {
        // SAFETY: a growing map of type `t`.
        unsafe { h.reserve_grow_work(t, bucket, 0) }?;
        // SAFETY: growing, under this write, reserved just above.
        unsafe { grow_work_fast32(t, &mut h, bucket) }?;
    }
    // SAFETY: bucket < 2^B.
    let mut b = unsafe { bucket_at(t, h.buckets, bucket) };
    let b_orig = b;
    let mut found = false;
    'search: while !b.is_null() {
        for i in 0..BUCKET_CNT {
            // SAFETY: slot i of a bucket of the chain.
            if key != unsafe { load32(b, i) } || is_empty(unsafe { th(b, i) }) {
                continue;
            }
            // SAFETY: slot i of the bucket.
            let k = unsafe { key32(b, i) };
            // gomap: release the key first, the only step that can fail.
            // SAFETY: the entry is being removed.
            unsafe { h.release_key(t, k) }?;
            // Go clears the key only if it holds a pointer, which a 4-byte
            // key can only do where pointers are 4 bytes wide.
            if PTR_SIZE == KEY && t.key().pointers {
                // SAFETY: the key slot.
                unsafe { memclr(k, KEY) };
            }
            // SAFETY: slot i of the bucket.
            let e = unsafe { elem32(t, b, i) };
            // SAFETY: the entry is being removed (gomap: drop hook, or moved
            // to `out`).
            unsafe { h.release_elem_into(t, e, out) };
            // SAFETY: an inline elem slot.
            unsafe { memclr(e, t.elem().size) };
            // SAFETY: slot i of `b`, on the chain from `b_orig`, held the entry.
            unsafe { crate::map::delete_slot(t, &mut h, b_orig, b, i) };
            found = true;
            break 'search;
        }
        // SAFETY: a bucket.
        b = unsafe { overflow(t, b) };
    }

    let h = h.end_writing();
    // gomap: a map with a shrink policy may give memory back now, exactly
    // as after `mapdelete`.
    if h.shrink_policy.is_some() {
        // SAFETY: a live map of type `t`, no longer being written.
        unsafe { crate::shrink::after_delete(t, h) };
    }
    Ok(found)
}

/// Evacuates the old bucket `bucket` maps to, then one more
/// (`growWork_fast32`, map_fast32_noswiss.go:394).
///
/// Fails (`AllocFailed`) only before anything moved, as
/// [`crate::map::grow_work`].
///
/// # Safety
/// `h` is a live growing map of type `t` (fitting the fast32 paths), under a
/// write, with spare overflow buckets reserved
/// ([`crate::reserve::grow_work_need`]).
#[doc(alias = "growWork_fast32")]
#[inline]
pub(crate) unsafe fn grow_work_fast32(t: &MapType, h: &mut HMap, bucket: usize) -> Result<(), MapError> {
    if needs_decisions(t, h) {
        // gomap: with room for the pre-pass, out of line, as in `grow_work`.
        // SAFETY: forwarded (caller); `evacuate_fast32` is this path's.
        return unsafe { grow_work_decided(t, h, bucket, evacuate_fast32) };
    }

    // First the old bucket the caller is about to use...
    // SAFETY: forwarded; the index is inside the old array; no pre-pass.
    unsafe { evacuate_fast32(t, h, bucket & h.oldbucketmask(), None) };

    // ...then one more, so that growth keeps moving.
    if h.growing() {
        // SAFETY: forwarded; nevacuate < old bucket count while growing;
        // no pre-pass.
        unsafe { evacuate_fast32(t, h, h.nevacuate, None) };
    }
    Ok(())
}

/// Moves the entries of old bucket `oldbucket` to the new array
/// (`evacuate_fast32`, map_fast32_noswiss.go:405), as
/// [`crate::map::evacuate`] does but with 4-byte key copies and no NaN case.
///
/// # Safety
/// As [`grow_work_fast32`]; `oldbucket` indexes the old array; `decisions`
/// as for [`crate::map::evacuate`] (point 3).
pub(crate) unsafe fn evacuate_fast32(t: &MapType, h: &mut HMap, oldbucket: usize, decisions: Option<&mut [u8]>) {
    // gomap: one body compiled twice, as in `evacuate`.
    match decisions {
        // SAFETY: forwarded (caller).
        None => unsafe { evacuate_fast32_body(t, h, oldbucket, None) },
        // SAFETY: forwarded (caller).
        Some(out) => unsafe { evacuate_fast32_decided(t, h, oldbucket, out) },
    }
}

/// [`evacuate_fast32`] with a pre-pass.
///
/// # Safety
/// As [`evacuate_fast32`], with `Some(out)`.
#[cold]
#[inline(never)]
unsafe fn evacuate_fast32_decided(t: &MapType, h: &mut HMap, oldbucket: usize, out: &mut [u8]) {
    // SAFETY: forwarded (caller).
    unsafe { evacuate_fast32_body(t, h, oldbucket, Some(out)) }
}

/// The body of [`evacuate_fast32`].
///
/// # Safety
/// As [`evacuate_fast32`].
#[inline(always)]
unsafe fn evacuate_fast32_body(t: &MapType, h: &mut HMap, oldbucket: usize, decisions: Option<&mut [u8]>) {
    // SAFETY: oldbucket indexes the old array.
    let mut b = unsafe { bucket_at(t, h.oldbuckets, oldbucket) };
    let newbit = h.noldbuckets();
    // SAFETY: a bucket.
    if !unsafe { evacuated(b) } {
        // Destinations: X, the bucket with the same index, and when doubling
        // Y, the one `newbit` higher.
        let dst = |i: usize| {
            // SAFETY: i < 2^B buckets of the new array.
            let b = unsafe { bucket_at(t, h.buckets, i) };
            // SAFETY: the first key and elem slots of `b`.
            let (k, e) = unsafe { (key32(b, 0), elem32(t, b, 0)) };
            EvacDst { b, i: 0, k, e }
        };
        let mut xy = [dst(oldbucket), EvacDst { b: ptr::null_mut(), i: 0, k: ptr::null_mut(), e: ptr::null_mut() }];
        if !h.same_size_grow() {
            xy[1] = dst(oldbucket + newbit);
        }

        // gomap: with callbacks that may unwind, decide every entry's
        // destination before moving anything, as `evacuate` does. (Its
        // NaN case cannot arise: 4-byte memory keys equal themselves.)
        debug_assert_eq!(decisions.is_some(), needs_decisions(t, h));
        let mut pre = decisions;
        if let Some(out) = pre.as_deref_mut() {
            // SAFETY: `b` is the old bucket being evacuated, of a map
            // doubling; `out` has room for its chain (caller).
            unsafe { evac_decisions(t, h, b, newbit, out) };
        }
        let mut n = 0usize;

        while !b.is_null() {
            for i in 0..BUCKET_CNT {
                // SAFETY: slot i of an old bucket.
                let top = unsafe { th(b, i) };
                if is_empty(top) {
                    // SAFETY: slot i.
                    unsafe { set_th(b, i, EVACUATED_EMPTY) };
                    continue;
                }
                if top < MIN_TOP_HASH {
                    throw("bad map state");
                }
                // SAFETY: slot i of the bucket.
                let (k, e) = unsafe { (key32(b, i), elem32(t, b, i)) };
                let mut use_y = 0usize;
                if let Some(d) = &pre {
                    use_y = decode_decision(d[n], top).0;
                } else if !h.same_size_grow() {
                    // The hash bit the doubled mask adds picks X or Y.
                    // SAFETY: a live 4-byte key.
                    let hash = unsafe { t.hash32(k, h.hash0 as usize) };
                    if hash & newbit != 0 {
                        use_y = 1;
                    }
                }
                n += 1;

                // SAFETY: slot i.
                unsafe { set_th(b, i, EVACUATED_X + use_y as u8) }; // X + 1 is Y
                let d = &mut xy[use_y];

                if d.i == BUCKET_CNT {
                    // SAFETY: d.b ends its chain; spare buckets were reserved.
                    d.b = unsafe { h.newoverflow(t, d.b) }.unwrap_or_else(|_| fatal("out of memory"));
                    d.i = 0;
                    // SAFETY: the first slots of the new bucket.
                    unsafe {
                        d.k = key32(d.b, 0);
                        d.e = elem32(t, d.b, 0);
                    }
                }
                // SAFETY: slot d.i of a new bucket (masked like Go's, < 8).
                unsafe { set_th(d.b, d.i & (BUCKET_CNT - 1), top) };

                // The key: one 4-byte copy. (Go copies a 4-byte pointer with
                // a write barrier on 32-bit targets; there is no GC here.)
                // SAFETY: 4-aligned key slots.
                unsafe { d.k.cast::<u32>().write(k.cast::<u32>().read()) };

                // SAFETY: inline elem slots of `t`.
                unsafe { memmove(d.e, e, t.elem().size) };
                d.i += 1;
                // After slot 7 these point past the slot arrays; they are
                // only used after the `d.i == 8` check replaces them.
                d.k = d.k.wrapping_add(KEY);
                d.e = d.e.wrapping_add(t.valuesize());
            }
            // SAFETY: a bucket.
            b = unsafe { overflow(t, b) };
        }
        // With no iterator on the old array, zero the first old bucket's
        // data (keys, elems, overflow link), keeping its tophash marks.
        if h.flags() & OLD_ITERATOR == 0 && t.bucket_pointers() {
            // SAFETY: oldbucket indexes the old array.
            let first = unsafe { bucket_at(t, h.oldbuckets, oldbucket) };
            // Cutting the chain leaves its heap overflow buckets on
            // `extra.oldoverflow` until growth ends, as in `evacuate`.
            // SAFETY: the first bucket's bytes after tophash.
            unsafe { memclr(first.add(DATA_OFFSET), t.bucketsize() - DATA_OFFSET) };
        }
    }

    if oldbucket == h.nevacuate {
        // SAFETY: forwarded.
        unsafe { advance_evacuation_mark(h, t, newbit) };
    }
}
