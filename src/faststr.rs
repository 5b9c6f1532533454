//! Go's fast paths for maps with string keys: a function-by-function port of
//! Go 1.24.11's `runtime/map_faststr_noswiss.go`.
//!
//! Go's compiler calls these instead of the generic functions of
//! [`crate::map`] for `map[string]V` with an elem of at most 128 bytes. Keys
//! are 16-byte string headers ([`GoString`]), exactly as
//! [`MapType::str_key`](crate::maptype::MapType) lays them out, so a map can
//! be used through both sets of functions at once. What the fast paths save:
//! the length is compared before the bytes, the pointers before the bytes,
//! and in a one-bucket map a lookup usually needs no hash at all (short keys
//! are compared directly; long keys are first filtered by their first and
//! last 4 bytes, and hashed only when two candidates survive).
//!
//! gomap's additions are kept exactly as in [`crate::map`]: spare overflow
//! buckets are reserved before growth work, the write flag is held by a
//! guard, an overwritten or deleted key goes through the descriptor's drop
//! hook (deferred while iterators live), deleted elems are dropped, and
//! the heap overflow buckets evacuation cuts off stay on `extra.oldoverflow`
//! until growth ends, which releases the whole list.
//!
//! Every function requires a descriptor with [`GoString`] keys hashed with
//! `strhash` semantics and compared by content, with `NeedKeyUpdate` set (as
//! for every Go string key), and inline elems (at most 128 bytes);
//! violations are caught by debug assertions only.

use core::ptr::{self, NonNull};

use crate::alg::{GoString, memequal};
use crate::fatal::{CONCURRENT_READ_WRITE, CONCURRENT_WRITES, MapError, fatal, throw};
use crate::map::{
    EMPTY_REST, EVACUATED_EMPTY, EVACUATED_X, EvacDst, HASH_WRITING, HMap, MIN_TOP_HASH, OLD_ITERATOR, Slot,
    advance_evacuation_mark, bucket_at, bucket_mask, decode_decision, evac_decisions, evacuated, find_in_chain,
    hash_grow, is_empty, lookup_bucket, memclr, memmove, over_load_factor, overflow, set_th, th,
    too_many_overflow_buckets, tophash, zero_val,
};
use crate::maptype::{BUCKET_CNT, DATA_OFFSET, MapType, PTR_SIZE};
use crate::reserve::{grow_work_decided, needs_decisions};

/// Width of a key slot: a string header (Go: `2*goarch.PtrSize`).
const KEY: usize = 2 * PTR_SIZE;
const _: () = assert!(core::mem::size_of::<GoString>() == KEY);

/// Key slot `i` of bucket `b` (Go: `dataOffset+i*2*goarch.PtrSize`).
///
/// # Safety
/// `b` points to a bucket of a map with string keys; `i < 8`.
#[inline(always)]
unsafe fn keystr(b: *mut u8, i: usize) -> *mut GoString {
    debug_assert!(i < BUCKET_CNT);
    // SAFETY: the 8 key slots follow tophash[8] inside the bucket.
    unsafe { b.add(DATA_OFFSET + i * KEY).cast() }
}

/// Elem slot `i` of bucket `b` (Go: `dataOffset+bucketCnt*2*goarch.PtrSize+i*ValueSize`).
///
/// # Safety
/// As [`keystr`], for a bucket of `t`.
#[inline(always)]
unsafe fn elemstr(t: &MapType, b: *mut u8, i: usize) -> *mut u8 {
    debug_assert!(i < BUCKET_CNT);
    // SAFETY: the 8 elem slots follow the 8 key slots inside the bucket.
    unsafe { b.add(DATA_OFFSET + BUCKET_CNT * KEY + i * t.valuesize()) }
}

/// The string header stored in slot `i` (stale for an empty slot).
///
/// # Safety
/// As [`keystr`].
#[inline(always)]
unsafe fn loadstr(b: *mut u8, i: usize) -> GoString {
    // SAFETY: 8-aligned 16-byte slots of initialised (zeroed or written)
    // bytes; any bit pattern is a valid GoString value.
    unsafe { keystr(b, i).read() }
}

/// The 4 bytes at `p` (Go: `*((*[4]byte)(p))`).
///
/// # Safety
/// `p` is valid for reads of 4 bytes.
#[inline(always)]
unsafe fn four(p: *const u8) -> [u8; 4] {
    // SAFETY: forwarded; [u8; 4] needs no alignment.
    unsafe { p.cast::<[u8; 4]>().read() }
}

/// Checks (in debug builds) that `t` is a descriptor the faststr paths may use.
#[inline(always)]
fn debug_check(t: &MapType) {
    debug_assert!(
        t.keysize() == KEY && !t.indirect_key() && !t.indirect_elem() && t.need_key_update(),
        "faststr map function used with a descriptor it does not fit: {t:?}"
    );
}

/// Finds the elem slot of `ky`, or null: the lookup shared by
/// [`mapaccess1_faststr`] and [`mapaccess2_faststr`] (Go repeats it in both).
///
/// # Safety
/// `h` is a live, non-empty map of type `t`, `t` fits the faststr paths;
/// `ky`'s bytes are readable.
#[inline(always)]
unsafe fn lookup_faststr(t: &MapType, h: &HMap, ky: GoString) -> *mut u8 {
    let key = ky;
    'dohash: {
        if h.b == 0 {
            // A single bucket (which never has old buckets).
            let b = h.buckets;
            if key.len < 32 {
                // Short key: comparing every candidate is cheap enough.
                for i in 0..BUCKET_CNT {
                    // SAFETY: slot i of the bucket.
                    let (k, top) = unsafe { (loadstr(b, i), th(b, i)) };
                    if k.len != key.len || is_empty(top) {
                        if top == EMPTY_REST {
                            break;
                        }
                        continue;
                    }
                    // SAFETY: both strings have key.len readable bytes.
                    if k.ptr == key.ptr || unsafe { memequal(k.ptr, key.ptr, key.len) } {
                        // SAFETY: slot i of the bucket.
                        return unsafe { elemstr(t, b, i) };
                    }
                }
                return ptr::null_mut();
            }
            // Long key: avoid full comparisons. Remember one candidate whose
            // first and last 4 bytes match; a second one means hashing.
            let mut keymaybe = BUCKET_CNT;
            for i in 0..BUCKET_CNT {
                // SAFETY: slot i of the bucket.
                let (k, top) = unsafe { (loadstr(b, i), th(b, i)) };
                if k.len != key.len || is_empty(top) {
                    if top == EMPTY_REST {
                        break;
                    }
                    continue;
                }
                if k.ptr == key.ptr {
                    // SAFETY: slot i of the bucket.
                    return unsafe { elemstr(t, b, i) };
                }
                // SAFETY: both strings are key.len >= 32 bytes long.
                if unsafe { four(key.ptr) != four(k.ptr) } {
                    continue;
                }
                // SAFETY: as above; key.len - 4 + 4 <= len.
                if unsafe { four(key.ptr.add(key.len - 4)) != four(k.ptr.add(key.len - 4)) } {
                    continue;
                }
                if keymaybe != BUCKET_CNT {
                    // Two candidates: let the hash decide.
                    break 'dohash;
                }
                keymaybe = i;
            }
            if keymaybe != BUCKET_CNT {
                // SAFETY: slot keymaybe of the bucket.
                let k = unsafe { loadstr(b, keymaybe) };
                // SAFETY: both strings have key.len readable bytes.
                if unsafe { memequal(k.ptr, key.ptr, key.len) } {
                    // SAFETY: slot keymaybe of the bucket.
                    return unsafe { elemstr(t, b, keymaybe) };
                }
            }
            return ptr::null_mut();
        }
    }
    // dohash:
    // SAFETY: `ky` is a string header whose bytes are readable.
    let hash = unsafe { t.hash_str((&raw const ky).cast(), h.hash0 as usize) };
    // Go checks every slot's length and tophash; the tophash matches are
    // found with word operations first (see `find_in_chain` for why this is
    // the slot Go's loop returns), so other slots' keys are never read.
    // SAFETY: a live non-empty map (caller); slots of its live buckets, and
    // a live key and `key` both have key.len readable bytes.
    let found = unsafe {
        find_in_chain(t, lookup_bucket(t, h, hash), tophash(hash), |b, i| {
            let k = loadstr(b, i);
            k.len == key.len && (k.ptr == key.ptr || memequal(k.ptr, key.ptr, key.len))
        })
    };
    match found {
        // SAFETY: slot i of a live bucket.
        Some((b, i)) => unsafe { elemstr(t, b, i) },
        None => ptr::null_mut(),
    }
}

/// `v := m[k]` for string keys (`mapaccess1_faststr`, map_faststr_noswiss.go:16):
/// a pointer to the elem, or to the shared zero value. Never fails; the
/// `Result` matches [`crate::map::mapaccess1`].
///
/// # Safety
/// `h` is null or a live map of type `t`; `t` fits the faststr paths (see
/// the module docs); `ky`'s bytes are readable. The result is valid until
/// the next write to the map.
#[inline]
pub unsafe fn mapaccess1_faststr(t: &MapType, h: *const HMap, ky: GoString) -> Result<*const u8, MapError> {
    // SAFETY: forwarded.
    let (e, _) = unsafe { mapaccess2_faststr(t, h, ky) }?;
    Ok(e)
}

/// `v, ok := m[k]` for string keys (`mapaccess2_faststr`, map_faststr_noswiss.go:120).
///
/// # Safety
/// As [`mapaccess1_faststr`].
#[inline]
pub unsafe fn mapaccess2_faststr(t: &MapType, h: *const HMap, ky: GoString) -> Result<(*const u8, bool), MapError> {
    // SAFETY: forwarded.
    Ok(unsafe { access2_faststr(t, h, ky) })
}

/// The body of [`mapaccess2_faststr`] without the `Result`, always inlined:
/// for callers that are themselves thin wrappers (the C ABI's
/// `gomap_mapaccess*_faststr`), so that a lookup is one call, not two.
///
/// # Safety
/// As [`mapaccess1_faststr`].
#[inline(always)]
pub unsafe fn access2_faststr(t: &MapType, h: *const HMap, ky: GoString) -> (*const u8, bool) {
    debug_check(t);
    // SAFETY: null or a live map (caller).
    let Some(h) = (unsafe { h.as_ref() }) else { return (zero_val(), false) };
    if h.count == 0 {
        return (zero_val(), false);
    }
    if h.flags() & HASH_WRITING != 0 {
        fatal(CONCURRENT_READ_WRITE);
    }
    // SAFETY: a live non-empty map of type `t`, which fits; `ky` readable.
    let e = unsafe { lookup_faststr(t, h, ky) };
    if e.is_null() { (zero_val(), false) } else { (e, true) }
}

/// `m[k] = v`, first half, for string keys (`mapassign_faststr`,
/// map_faststr_noswiss.go:225): the elem slot for `s`, inserting the key if
/// it is new. The map stores the header `s` itself (not a copy of the
/// bytes), as Go does; for an existing key it stores `s`'s pointer, after
/// passing the old key to the drop hook as [`crate::map::mapassign`] does
/// for key updates. Errors as `mapassign`: nil map, allocation failure; the
/// map's contents are then unchanged.
///
/// # Safety
/// As [`mapaccess1_faststr`]; the map takes `s` over (its bytes must stay
/// readable while it is in the map). The returned slot is valid until the
/// next write.
pub unsafe fn mapassign_faststr(t: &MapType, h: *mut HMap, s: GoString) -> Result<Slot, MapError> {
    debug_check(t);
    // SAFETY: null or a live map, used exclusively by this write (caller).
    let Some(h) = (unsafe { h.as_mut() }) else { return Err(MapError::NilMapAssign) };
    if h.flags() & HASH_WRITING != 0 {
        fatal(CONCURRENT_WRITES);
    }
    let key = s;
    // SAFETY: a string header whose bytes are readable.
    let hash = unsafe { t.hash_str((&raw const s).cast(), h.hash0 as usize) };

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
                unsafe { grow_work_faststr(t, &mut h, bucket) }?;
            }
            // SAFETY: bucket < 2^B.
            let mut b = unsafe { bucket_at(t, h.buckets, bucket) };
            let top = tophash(hash);

            let mut ib: *mut u8 = ptr::null_mut();
            let mut ii = 0usize;

            'bucketloop: loop {
                for i in 0..BUCKET_CNT {
                    // SAFETY: slot i of a bucket of the chain.
                    let thi = unsafe { th(b, i) };
                    if thi != top {
                        if is_empty(thi) && ib.is_null() {
                            ib = b;
                            ii = i;
                        }
                        if thi == EMPTY_REST {
                            break 'bucketloop;
                        }
                        continue;
                    }
                    // SAFETY: slot i of the bucket.
                    let kp = unsafe { keystr(b, i) };
                    // SAFETY: as above.
                    let k = unsafe { kp.read() };
                    if k.len != key.len {
                        continue;
                    }
                    // SAFETY: a live key and `key` both have key.len bytes.
                    if k.ptr != key.ptr && !unsafe { memequal(k.ptr, key.ptr, key.len) } {
                        continue;
                    }
                    // The key is already there: update it.
                    // gomap: the stored key value is being replaced; give it
                    // to the drop hook (deferred while iterators live).
                    // SAFETY: a live key of this map.
                    unsafe { h.drop_key_value(t, kp.cast()) }?;
                    inserti = i;
                    insertb = b;
                    // Store the new pointer (the lengths are equal already),
                    // so the map refers to the caller's latest string.
                    // SAFETY: the key slot's pointer field.
                    unsafe { (&raw mut (*kp).ptr).write(key.ptr) };
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
            unsafe { set_th(ib, ii & (BUCKET_CNT - 1), top) };

            // SAFETY: key slot ii of `ib`, 8-aligned.
            unsafe { keystr(ib, ii).write(key) };
            h.count += 1;
            inserted = true;
            inserti = ii;
            insertb = ib;
            break 'done;
        }
    }

    // SAFETY: slot inserti of bucket insertb.
    let elem = unsafe { elemstr(t, insertb, inserti) };
    h.end_writing();
    // SAFETY: a slot address is never null.
    Ok(Slot { elem: unsafe { NonNull::new_unchecked(elem) }, inserted })
}

/// `delete(m, k)` for string keys (`mapdelete_faststr`, map_faststr_noswiss.go:323).
/// Like Go, it clears only the deleted key's pointer (the generic
/// [`crate::map::mapdelete`] clears the whole header). Errors as `mapdelete`;
/// the map's contents are then unchanged.
///
/// # Safety
/// As [`mapaccess1_faststr`].
pub unsafe fn mapdelete_faststr(t: &MapType, h: *mut HMap, ky: GoString) -> Result<(), MapError> {
    // SAFETY: forwarded (caller); a null `out` drops the elem.
    unsafe { mapdelete_faststr_into(t, h, ky, ptr::null_mut()) }.map(|_| ())
}

/// [`mapdelete_faststr`] that moves the deleted entry's elem to `out` instead of
/// dropping it (when `out` is not null) and reports whether an entry was
/// deleted (gomap: one lookup for a typed `remove`, where Go's `delete`
/// returns nothing). The decisions and the map's state are exactly
/// [`mapdelete_faststr`]'s.
///
/// # Safety
/// As [`mapdelete_faststr`]; `out` is null or valid for writing one elem (not
/// overlapping the map).
#[doc(alias = "mapdelete_faststr")]
pub unsafe fn mapdelete_faststr_into(t: &MapType, h: *mut HMap, ky: GoString, out: *mut u8) -> Result<bool, MapError> {
    debug_check(t);
    // SAFETY: null or a live map, used exclusively by this write (caller).
    let Some(h) = (unsafe { h.as_mut() }) else { return Ok(false) };
    if h.count == 0 {
        return Ok(false);
    }
    if h.flags() & HASH_WRITING != 0 {
        fatal(CONCURRENT_WRITES);
    }

    let key = ky;
    // SAFETY: a string header whose bytes are readable.
    let hash = unsafe { t.hash_str((&raw const ky).cast(), h.hash0 as usize) };

    // Mark the write only after hashing, as mapdelete does.
    // `h` is the write's guard from here: an early exit clears the flag.
    let mut h = h.start_writing();

    let bucket = hash & bucket_mask(h.b);
    if h.growing() {
        // SAFETY: a growing map of type `t`.
        unsafe { h.reserve_grow_work(t, bucket, 0) }?;
        // SAFETY: growing, under this write, reserved just above.
        unsafe { grow_work_faststr(t, &mut h, bucket) }?;
    }
    // SAFETY: bucket < 2^B.
    let mut b = unsafe { bucket_at(t, h.buckets, bucket) };
    let b_orig = b;
    let top = tophash(hash);
    let mut found = false;
    'search: while !b.is_null() {
        for i in 0..BUCKET_CNT {
            // SAFETY: slot i of a bucket of the chain.
            let kp = unsafe { keystr(b, i) };
            // SAFETY: as above.
            let k = unsafe { kp.read() };
            // SAFETY: as above.
            if k.len != key.len || unsafe { th(b, i) } != top {
                continue;
            }
            // SAFETY: a live key and `key` both have key.len readable bytes.
            if k.ptr != key.ptr && !unsafe { memequal(k.ptr, key.ptr, key.len) } {
                continue;
            }
            // gomap: release the key first, the only step that can fail.
            // SAFETY: the entry is being removed.
            unsafe { h.release_key(t, kp.cast()) }?;
            // Clear the key's pointer (only; Go leaves the length).
            // SAFETY: the key slot's pointer field.
            unsafe { (&raw mut (*kp).ptr).write(ptr::null()) };
            // SAFETY: slot i of the bucket.
            let e = unsafe { elemstr(t, b, i) };
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
/// (`growWork_faststr`, map_faststr_noswiss.go:413).
///
/// Fails (`AllocFailed`) only before anything moved, as
/// [`crate::map::grow_work`].
///
/// # Safety
/// `h` is a live growing map of type `t` (fitting the faststr paths), under
/// a write, with spare overflow buckets reserved
/// ([`crate::reserve::grow_work_need`]).
#[doc(alias = "growWork_faststr")]
#[inline]
pub(crate) unsafe fn grow_work_faststr(t: &MapType, h: &mut HMap, bucket: usize) -> Result<(), MapError> {
    if needs_decisions(t, h) {
        // gomap: with room for the pre-pass, out of line, as in `grow_work`.
        // SAFETY: forwarded (caller); `evacuate_faststr` is this path's.
        return unsafe { grow_work_decided(t, h, bucket, evacuate_faststr) };
    }

    // First the old bucket the caller is about to use...
    // SAFETY: forwarded; the index is inside the old array; no pre-pass.
    unsafe { evacuate_faststr(t, h, bucket & h.oldbucketmask(), None) };

    // ...then one more, so that growth keeps moving.
    if h.growing() {
        // SAFETY: forwarded; nevacuate < old bucket count while growing;
        // no pre-pass.
        unsafe { evacuate_faststr(t, h, h.nevacuate, None) };
    }
    Ok(())
}

/// Moves the entries of old bucket `oldbucket` to the new array
/// (`evacuate_faststr`, map_faststr_noswiss.go:424), as
/// [`crate::map::evacuate`] does but with header copies and no NaN case.
///
/// # Safety
/// As [`grow_work_faststr`]; `oldbucket` indexes the old array; `decisions`
/// as for [`crate::map::evacuate`] (point 3).
pub(crate) unsafe fn evacuate_faststr(t: &MapType, h: &mut HMap, oldbucket: usize, decisions: Option<&mut [u8]>) {
    // gomap: one body compiled twice, as in `evacuate`.
    match decisions {
        // SAFETY: forwarded (caller).
        None => unsafe { evacuate_faststr_body(t, h, oldbucket, None) },
        // SAFETY: forwarded (caller).
        Some(out) => unsafe { evacuate_faststr_decided(t, h, oldbucket, out) },
    }
}

/// [`evacuate_faststr`] with a pre-pass.
///
/// # Safety
/// As [`evacuate_faststr`], with `Some(out)`.
#[cold]
#[inline(never)]
unsafe fn evacuate_faststr_decided(t: &MapType, h: &mut HMap, oldbucket: usize, out: &mut [u8]) {
    // SAFETY: forwarded (caller).
    unsafe { evacuate_faststr_body(t, h, oldbucket, Some(out)) }
}

/// The body of [`evacuate_faststr`].
///
/// # Safety
/// As [`evacuate_faststr`].
#[inline(always)]
unsafe fn evacuate_faststr_body(t: &MapType, h: &mut HMap, oldbucket: usize, decisions: Option<&mut [u8]>) {
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
            let (k, e) = unsafe { (keystr(b, 0).cast::<u8>(), elemstr(t, b, 0)) };
            EvacDst { b, i: 0, k, e }
        };
        let mut xy = [dst(oldbucket), EvacDst { b: ptr::null_mut(), i: 0, k: ptr::null_mut(), e: ptr::null_mut() }];
        if !h.same_size_grow() {
            xy[1] = dst(oldbucket + newbit);
        }

        // gomap: with callbacks that may unwind, decide every entry's
        // destination before moving anything, as `evacuate` does. (Its
        // NaN case cannot arise: strings equal themselves.)
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
                let (k, e) = unsafe { (keystr(b, i), elemstr(t, b, i)) };
                let mut use_y = 0usize;
                if let Some(d) = &pre {
                    use_y = decode_decision(d[n], top).0;
                } else if !h.same_size_grow() {
                    // The hash bit the doubled mask adds picks X or Y.
                    // SAFETY: a live string key.
                    let hash = unsafe { t.hash_str(k.cast(), h.hash0 as usize) };
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
                        d.k = keystr(d.b, 0).cast();
                        d.e = elemstr(t, d.b, 0);
                    }
                }
                // SAFETY: slot d.i of a new bucket (masked like Go's, < 8).
                unsafe { set_th(d.b, d.i & (BUCKET_CNT - 1), top) };

                // The key: the 16-byte header.
                // SAFETY: 8-aligned key slots.
                unsafe { d.k.cast::<GoString>().write(k.read()) };

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
