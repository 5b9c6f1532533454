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
use crate::scan::{TopScan, first_empty_slot, tophash_word};

/// Width of a key slot: a string header (Go: `2*goarch.PtrSize`).
const KEY: usize = 2 * PTR_SIZE;
const _: () = assert!(core::mem::size_of::<GoString>() == KEY);

/// Key slot `i` of bucket `b` (Go: `dataOffset+i*2*goarch.PtrSize`).
///
/// # Safety
/// 1. `b` is a bucket of `t` for some `t` that fits the faststr paths (key
///    slots [`KEY`] bytes wide);
/// 2. `i < 8`.
#[inline(always)]
unsafe fn keystr(b: *mut u8, i: usize) -> *mut GoString {
    debug_assert!(i < BUCKET_CNT);
    // SAFETY: [`pointer::add`]: the 8 key slots of `KEY` bytes follow
    // `tophash[8]` (`DATA_OFFSET` bytes) inside the bucket (point 1), and `i
    // < 8` (point 2), so the offset stays inside the bucket's allocation.
    unsafe { b.add(DATA_OFFSET + i * KEY).cast() }
}

/// Elem slot `i` of bucket `b` (Go: `dataOffset+bucketCnt*2*goarch.PtrSize+i*ValueSize`).
///
/// # Safety
/// 1. `b` is a bucket of `t`, and `t` fits the faststr paths;
/// 2. `i < 8`.
#[inline(always)]
unsafe fn elemstr(t: &MapType, b: *mut u8, i: usize) -> *mut u8 {
    debug_assert!(i < BUCKET_CNT);
    // SAFETY: [`pointer::add`]: the 8 elem slots of `t.valuesize()` bytes
    // follow the 8 key slots of `KEY` bytes inside a bucket of `t` (point
    // 1), and `i < 8` (point 2), so the offset stays inside the bucket.
    unsafe { b.add(DATA_OFFSET + BUCKET_CNT * KEY + i * t.valuesize()) }
}

/// The string header stored in slot `i` (stale for an empty slot).
///
/// # Safety
/// 1.-2. As [`keystr`];
/// 3. no one writes the slot during the call.
#[inline(always)]
unsafe fn loadstr(b: *mut u8, i: usize) -> GoString {
    // SAFETY: [`keystr`]: 1. and 2. are points 1 and 2.
    let p = unsafe { keystr(b, i) };
    // SAFETY: [`pointer::read`]: `p` is a 16-byte key slot inside the
    // bucket, 8-aligned (buckets are 8-aligned; `DATA_OFFSET` and `KEY` are
    // multiples of 8), of initialised bytes (zeroed when allocated, or a
    // written header), not written meanwhile (point 3); any bit pattern
    // is a valid `GoString` value.
    unsafe { p.read() }
}

/// The 4 bytes at `p` (Go: `*((*[4]byte)(p))`).
///
/// # Safety
/// 1. `p` is valid for reads of 4 initialised bytes.
#[inline(always)]
unsafe fn four(p: *const u8) -> [u8; 4] {
    // SAFETY: [`pointer::read`]: `p` is valid for reads of 4 initialised
    // bytes (point 1); `[u8; 4]` needs no alignment.
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
/// 1. `h` is a live map of type `t` with `h.count > 0` (so it has a bucket
///    array);
/// 2. `t` fits the faststr paths (see the module docs);
/// 3. `ky` is a key of `t`: its `len` bytes at `ptr` are readable;
/// 4. no one writes the map during the call.
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
                    // SAFETY: [`loadstr`]: 1. `b` is the map's only bucket
                    // (`h.buckets`, non-null as `count > 0`, point 1), of a
                    // `t` that fits (point 2); 2. `i < 8`; 3. not written
                    // meanwhile (point 4).
                    let k = unsafe { loadstr(b, i) };
                    // SAFETY: [`th`]: `b` is a bucket of `t` (as above); `i <
                    // 8`.
                    let top = unsafe { th(b, i) };
                    if k.len != key.len || is_empty(top) {
                        if top == EMPTY_REST {
                            break;
                        }
                        continue;
                    }
                    // SAFETY: [`memequal`]: 1. `key.ptr` is valid for reads
                    // of `key.len` bytes (point 3); so is `k.ptr`: slot `i`
                    // is filled (not empty; a one-bucket map is never
                    // evacuated), its key a key of `t` with readable bytes,
                    // and `k.len == key.len`.
                    if k.ptr == key.ptr || unsafe { memequal(k.ptr, key.ptr, key.len) } {
                        // SAFETY: [`elemstr`]: 1. `b` is a bucket of `t`,
                        // which fits; 2. `i < 8`.
                        return unsafe { elemstr(t, b, i) };
                    }
                }
                return ptr::null_mut();
            }
            // Long key: avoid full comparisons. Remember one candidate whose
            // first and last 4 bytes match; a second one means hashing.
            let mut keymaybe = BUCKET_CNT;
            for i in 0..BUCKET_CNT {
                // SAFETY: [`loadstr`]: 1. `b` is the map's only bucket
                // (non-null as `count > 0`, point 1), of a `t` that fits
                // (point 2); 2. `i < 8`; 3. not written meanwhile (point 4).
                let k = unsafe { loadstr(b, i) };
                // SAFETY: [`th`]: `b` is a bucket of `t` (as above); `i < 8`.
                let top = unsafe { th(b, i) };
                if k.len != key.len || is_empty(top) {
                    if top == EMPTY_REST {
                        break;
                    }
                    continue;
                }
                if k.ptr == key.ptr {
                    // SAFETY: [`elemstr`]: 1. `b` is a bucket of `t`, which
                    // fits; 2. `i < 8`.
                    return unsafe { elemstr(t, b, i) };
                }
                // Both strings are `key.len >= 32` bytes long and readable:
                // `key` by point 3, `k` as the key of a filled slot (not
                // empty; a one-bucket map is never evacuated) with `k.len ==
                // key.len`. Each is one allocation.
                // SAFETY: [`four`]: 1. `key.ptr` is readable for `key.len >=
                // 4` bytes.
                let key_head = unsafe { four(key.ptr) };
                // SAFETY: [`four`]: 1. `k.ptr` is readable for `k.len >= 4`
                // bytes.
                if key_head != unsafe { four(k.ptr) } {
                    continue;
                }
                // SAFETY: [`pointer::add`]: `key.len - 4 < key.len`: inside
                // `key`'s bytes.
                let key_last4 = unsafe { key.ptr.add(key.len - 4) };
                // SAFETY: [`four`]: 1. `key_last4` starts the last 4 of
                // `key`'s readable bytes.
                let key_tail = unsafe { four(key_last4) };
                // SAFETY: [`pointer::add`]: `key.len - 4 < k.len`: inside
                // `k`'s bytes.
                let k_last4 = unsafe { k.ptr.add(key.len - 4) };
                // SAFETY: [`four`]: 1. `k_last4` starts the last 4 of `k`'s
                // readable bytes.
                if key_tail != unsafe { four(k_last4) } {
                    continue;
                }
                if keymaybe != BUCKET_CNT {
                    // Two candidates: let the hash decide.
                    break 'dohash;
                }
                keymaybe = i;
            }
            if keymaybe != BUCKET_CNT {
                // SAFETY: [`loadstr`]: 1. `b` is the map's only bucket, of a
                // `t` that fits; 2. `keymaybe` was set from a slot index, so
                // `< 8`; 3. not written meanwhile (point 4).
                let k = unsafe { loadstr(b, keymaybe) };
                // SAFETY: [`memequal`]: 1. `key.ptr` is readable for
                // `key.len` bytes (point 3), and so is `k.ptr`: the key of
                // the filled slot `keymaybe`, with `k.len == key.len`.
                if unsafe { memequal(k.ptr, key.ptr, key.len) } {
                    // SAFETY: [`elemstr`]: 1. `b` is a bucket of `t`, which
                    // fits; 2. `keymaybe < 8`.
                    return unsafe { elemstr(t, b, keymaybe) };
                }
            }
            return ptr::null_mut();
        }
    }
    // dohash:
    // SAFETY: [`MapType::hash_str`]: 1. `&raw const ky` points to a
    // `GoString` header on our stack whose bytes are readable (point 3).
    let hash = unsafe { t.hash_str((&raw const ky).cast(), h.hash0 as usize) };
    // Go checks every slot's length and tophash; the tophash matches are
    // found with word operations first (see `find_in_chain` for why this is
    // the slot Go's loop returns), so other slots' keys are never read.
    // SAFETY: [`lookup_bucket`]: `h` is a live map of type `t` with a bucket
    // array (point 1).
    let b0 = unsafe { lookup_bucket(t, h, hash) };
    // `find_in_chain` calls this only for a bucket `b` of `t` on the chain
    // and a slot `i < 8` whose tophash is `top >= MIN_TOP_HASH`: filled.
    let eq = |b: *mut u8, i: usize| {
        // SAFETY: [`loadstr`]: 1. `b` is a bucket of `t`, which fits (point
        // 2); 2. `i < 8`; 3. not written meanwhile (point 4).
        let k = unsafe { loadstr(b, i) };
        // SAFETY: [`memequal`]: 1. `key.ptr` is readable for `key.len` bytes
        // (point 3), and so is `k.ptr`: the live key of a filled slot, with
        // `k.len == key.len` (checked first).
        k.len == key.len && (k.ptr == key.ptr || unsafe { memequal(k.ptr, key.ptr, key.len) })
    };
    // SAFETY: [`find_in_chain`]: `b0` is a bucket of the live map of type
    // `t` (from `lookup_bucket`); `eq` reads only the key slot it is given.
    let found = unsafe { find_in_chain(t, b0, tophash(hash), eq) };
    match found {
        // SAFETY: [`elemstr`]: 1. `b` is a bucket of `t` (from
        // `find_in_chain`), which fits; 2. `i < 8`.
        Some((b, i)) => unsafe { elemstr(t, b, i) },
        None => ptr::null_mut(),
    }
}

/// `v := m[k]` for string keys (`mapaccess1_faststr`, map_faststr_noswiss.go:16):
/// a pointer to the elem, or to the shared zero value. Never fails; the
/// `Result` matches [`crate::map::mapaccess1`].
///
/// # Safety
/// 1. `h` is null or a live map of type `t`;
/// 2. `t` fits the faststr paths (see the module docs);
/// 3. `ky` is a key of `t`: its `len` bytes at `ptr` are readable;
/// 4. no other thread writes the map during the call.
///
/// The result is valid until the next write to the map.
#[inline]
pub unsafe fn mapaccess1_faststr(t: &MapType, h: *const HMap, ky: GoString) -> Result<*const u8, MapError> {
    // SAFETY: [`mapaccess2_faststr`]: 1.-4. are points 1-4.
    let (e, _) = unsafe { mapaccess2_faststr(t, h, ky) }?;
    Ok(e)
}

/// `v, ok := m[k]` for string keys (`mapaccess2_faststr`, map_faststr_noswiss.go:120).
///
/// # Safety
/// 1.-4. As [`mapaccess1_faststr`].
#[inline]
pub unsafe fn mapaccess2_faststr(t: &MapType, h: *const HMap, ky: GoString) -> Result<(*const u8, bool), MapError> {
    // SAFETY: [`access2_faststr`]: 1.-4. are points 1-4.
    Ok(unsafe { access2_faststr(t, h, ky) })
}

/// The body of [`mapaccess2_faststr`] without the `Result`, always inlined:
/// for callers that are themselves thin wrappers (the C ABI's
/// `gomap_mapaccess*_faststr`), so that a lookup is one call, not two.
///
/// # Safety
/// 1.-4. As [`mapaccess1_faststr`].
#[inline(always)]
pub unsafe fn access2_faststr(t: &MapType, h: *const HMap, ky: GoString) -> (*const u8, bool) {
    debug_check(t);
    // SAFETY: [`pointer::as_ref`]: `h` is null or a live map (point 1): an
    // aligned, initialised `HMap`, not written by another thread (point 4).
    let Some(h) = (unsafe { h.as_ref() }) else { return (zero_val(), false) };
    if h.count == 0 {
        return (zero_val(), false);
    }
    if h.flags() & HASH_WRITING != 0 {
        fatal(CONCURRENT_READ_WRITE);
    }
    // SAFETY: [`lookup_faststr`]: 1. a live map of type `t` (point 1) with
    // `count > 0` (checked); 2. `t` fits (point 2); 3. `ky` is a key of `t`
    // (point 3); 4. no other thread writes it (point 4), nor this one: no
    // write is in progress (the flag is clear).
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
/// 1. `h` is null or a live map of type `t`;
/// 2. `t` fits the faststr paths (see the module docs);
/// 3. `s` is a key of `t` whose bytes are readable, and stay readable while
///    the map holds it: the map takes `s` over;
/// 4. no other thread accesses the map during the call.
///
/// The returned slot is valid until the next write.
pub unsafe fn mapassign_faststr(t: &MapType, h: *mut HMap, s: GoString) -> Result<Slot, MapError> {
    debug_check(t);
    // SAFETY: [`pointer::as_mut`]: `h` is null or a live map (point 1): an
    // aligned, initialised `HMap`, which no other thread uses (point 4).
    let Some(h) = (unsafe { h.as_mut() }) else { return Err(MapError::NilMapAssign) };
    if h.flags() & HASH_WRITING != 0 {
        fatal(CONCURRENT_WRITES);
    }
    let key = s;
    // SAFETY: [`MapType::hash_str`]: 1. `&raw const s` points to a
    // `GoString` header on our stack whose bytes are readable (point 3).
    let hash = unsafe { t.hash_str((&raw const s).cast(), h.hash0 as usize) };

    // Mark the write only after hashing, as mapassign does.
    // `h` is the write's guard from here: an early exit clears the flag.
    let mut h = h.start_writing();

    // SAFETY: [`HMap::ensure_buckets`]: 1. a live map of type `t` (point
    // 1), under this write (the guard).
    unsafe { h.ensure_buckets(t) }?;

    let mut inserted = false;
    let insertb: *mut u8;
    let inserti: usize;
    'done: {
        'again: loop {
            let bucket = hash & bucket_mask(h.b);
            if h.growing() {
                // SAFETY: [`HMap::reserve_grow_work`]: 1. a live map of type
                // `t` (point 1), growing (checked); 2. under this write.
                unsafe { h.reserve_grow_work(t, bucket, 1) }?;
                // SAFETY: [`grow_work_faststr`]: 1. a live map of type `t`,
                // growing (checked), under this write, reserved just above
                // (`grow_work_need` plus one for the insert); 2. `t` fits
                // (point 2).
                unsafe { grow_work_faststr(t, &mut h, bucket) }?;
            }
            // SAFETY: [`bucket_at`]: `h.buckets` holds `2^B` buckets of `t`
            // (`ensure_buckets`; growth work leaves the array alone, and
            // `hash_grow` is followed by `continue 'again`), and `bucket =
            // hash & bucket_mask(B) < 2^B`.
            let mut b = unsafe { bucket_at(t, h.buckets, bucket) };
            let top = tophash(hash);

            let mut ib: *mut u8 = ptr::null_mut();
            let mut ii = 0usize;

            'bucketloop: loop {
                // Go's loop over the 8 slots, a word at a time (see
                // `crate::scan`): it stops at the first `emptyRest`, compares
                // the keys of the slots before it whose tophash is `top`
                // (never an empty marker: `top >= MIN_TOP_HASH`), in order,
                // and remembers the chain's first empty slot.
                // SAFETY: [`tophash_word`]: `b` is a bucket of `t` on the
                // chain (the main bucket, then non-null overflow links).
                let w = unsafe { tophash_word(b) };
                let mut scan = TopScan::new(w, top);
                for i in scan.by_ref() {
                    // SAFETY: [`keystr`]: 1. `b` is a bucket of `t`, which
                    // fits (point 2); 2. `i < 8` (a slot of the scan).
                    let kp = unsafe { keystr(b, i) };
                    // SAFETY: [`pointer::read`]: `kp` is a 16-byte key slot,
                    // 8-aligned, initialised (see [`loadstr`]); any bits are
                    // a valid `GoString`.
                    let k = unsafe { kp.read() };
                    if k.len != key.len {
                        continue;
                    }
                    // SAFETY: [`memequal`]: 1. `key.ptr` is readable for
                    // `key.len` bytes (point 3), and so is `k.ptr`: slot `i`
                    // is filled (its tophash is `top >= MIN_TOP_HASH`), its
                    // key a key of `t`, and `k.len == key.len`.
                    if k.ptr != key.ptr && !unsafe { memequal(k.ptr, key.ptr, key.len) } {
                        continue;
                    }
                    // The key is already there: update it.
                    // gomap: the stored key value is being replaced; give it
                    // to the drop hook (deferred while iterators live).
                    // SAFETY: [`HMap::drop_key_value`]: 1. a live map of
                    // type `t` (point 1); 2. `kp` holds the key of filled
                    // slot `i` of this map, 16 readable and writable bytes,
                    // 8-aligned, whose value is discarded: the slot takes
                    // `key`'s pointer just below; 3. under this write.
                    unsafe { h.drop_key_value(t, kp.cast()) }?;
                    inserti = i;
                    insertb = b;
                    // Store the new pointer (the lengths are equal already),
                    // so the map refers to the caller's latest string.
                    // SAFETY: `&raw mut (*kp).ptr`: `kp` is an aligned key
                    // slot holding a `GoString` (above), so the place of its
                    // `ptr` field is in bounds.
                    let pp = unsafe { &raw mut (*kp).ptr };
                    // SAFETY: [`pointer::write`]: `pp` is the slot's `ptr`
                    // field, valid for writes and aligned; under this write,
                    // no one else reads it.
                    unsafe { pp.write(key.ptr) };
                    break 'done;
                }
                if ib.is_null() {
                    if let Some(i) = first_empty_slot(w) {
                        ib = b;
                        ii = i;
                    }
                }
                if scan.chain_ends {
                    break 'bucketloop;
                }
                // SAFETY: [`overflow`]: `b` is a bucket of `t`.
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
                // SAFETY: [`hash_grow`]: a live map of type `t` (point 1),
                // not growing (checked), under this write.
                unsafe { hash_grow(t, &mut h) }?;
                continue 'again; // every bucket pointer is stale now
            }

            if ib.is_null() {
                // The whole chain is full: hang a new overflow bucket off it.
                // SAFETY: [`HMap::newoverflow`]: `b` is the last bucket of
                // its chain: `'bucketloop` ends early only at an
                // `EMPTY_REST`, which sets `ib`, so with `ib` null it ended
                // at a null link. While growing the reserve makes this
                // infallible; otherwise it fails before any change.
                ib = unsafe { h.newoverflow(t, b) }?;
                ii = 0;
            }
            // SAFETY: [`set_th`]: `ib` is a bucket of `t` (on the chain, or
            // just hung on it); `ii & 7 < 8` (masked like Go's); under this
            // write, no one else reads the bucket.
            unsafe { set_th(ib, ii & (BUCKET_CNT - 1), top) };

            // SAFETY: [`keystr`]: 1. `ib` is a bucket of `t`, which fits; 2.
            // `ii < 8`: a slot index of the loop, or 0.
            let kp = unsafe { keystr(ib, ii) };
            // SAFETY: [`pointer::write`]: `kp` is a 16-byte key slot, valid
            // for writes and 8-aligned; under this write. The stale header
            // there needs no drop (`GoString` is plain data).
            unsafe { kp.write(key) };
            h.count += 1;
            inserted = true;
            inserti = ii;
            insertb = ib;
            break 'done;
        }
    }

    // SAFETY: [`elemstr`]: 1. `insertb` is a bucket of `t`, which fits; 2.
    // `inserti < 8` (a slot index of the loop, or 0).
    let elem = unsafe { elemstr(t, insertb, inserti) };
    h.end_writing();
    // SAFETY: [`NonNull::new_unchecked`]: `elem` is an in-bounds offset from
    // a non-null bucket pointer, so it is not null.
    Ok(Slot { elem: unsafe { NonNull::new_unchecked(elem) }, inserted })
}

/// `delete(m, k)` for string keys (`mapdelete_faststr`, map_faststr_noswiss.go:323).
/// Like Go, it clears only the deleted key's pointer (the generic
/// [`crate::map::mapdelete`] clears the whole header). Errors as `mapdelete`;
/// the map's contents are then unchanged.
///
/// # Safety
/// 1. `h` is null or a live map of type `t`;
/// 2. `t` fits the faststr paths (see the module docs);
/// 3. `ky` is a key of `t`: its `len` bytes at `ptr` are readable;
/// 4. no other thread accesses the map during the call.
pub unsafe fn mapdelete_faststr(t: &MapType, h: *mut HMap, ky: GoString) -> Result<(), MapError> {
    // SAFETY: [`mapdelete_faststr_into`]: 1.-4. are points 1-4; 5. `out` is
    // null (the elem is dropped).
    unsafe { mapdelete_faststr_into(t, h, ky, ptr::null_mut()) }.map(|_| ())
}

/// [`mapdelete_faststr`] that moves the deleted entry's elem to `out` instead of
/// dropping it (when `out` is not null) and reports whether an entry was
/// deleted (gomap: one lookup for a typed `remove`, where Go's `delete`
/// returns nothing). The decisions and the map's state are exactly
/// [`mapdelete_faststr`]'s.
///
/// # Safety
/// 1.-4. As [`mapdelete_faststr`];
/// 5. `out` is null, or valid for writes of `t.elem().size` bytes and not
///    overlapping the map.
#[doc(alias = "mapdelete_faststr")]
pub unsafe fn mapdelete_faststr_into(t: &MapType, h: *mut HMap, ky: GoString, out: *mut u8) -> Result<bool, MapError> {
    debug_check(t);
    // SAFETY: [`pointer::as_mut`]: `h` is null or a live map (point 1): an
    // aligned, initialised `HMap`, which no other thread uses (point 4).
    let Some(h) = (unsafe { h.as_mut() }) else { return Ok(false) };
    if h.count == 0 {
        return Ok(false);
    }
    if h.flags() & HASH_WRITING != 0 {
        fatal(CONCURRENT_WRITES);
    }

    let key = ky;
    // SAFETY: [`MapType::hash_str`]: 1. `&raw const ky` points to a
    // `GoString` header on our stack whose bytes are readable (point 3).
    let hash = unsafe { t.hash_str((&raw const ky).cast(), h.hash0 as usize) };

    // Mark the write only after hashing, as mapdelete does.
    // `h` is the write's guard from here: an early exit clears the flag.
    let mut h = h.start_writing();

    let bucket = hash & bucket_mask(h.b);
    if h.growing() {
        // SAFETY: [`HMap::reserve_grow_work`]: 1. a live map of type `t`
        // (point 1), growing (checked); 2. under this write.
        unsafe { h.reserve_grow_work(t, bucket, 0) }?;
        // SAFETY: [`grow_work_faststr`]: 1. a live map of type `t`, growing
        // (checked), under this write, reserved just above; 2. `t` fits
        // (point 2).
        unsafe { grow_work_faststr(t, &mut h, bucket) }?;
    }
    // SAFETY: [`bucket_at`]: `h.buckets` holds `2^B` buckets of `t` (`count
    // > 0`, so the map has its array; growth work leaves it alone), and
    // `bucket = hash & bucket_mask(B) < 2^B`.
    let mut b = unsafe { bucket_at(t, h.buckets, bucket) };
    let b_orig = b;
    let top = tophash(hash);
    let mut found = false;
    'search: while !b.is_null() {
        for i in 0..BUCKET_CNT {
            // SAFETY: [`keystr`]: 1. `b` is a bucket of `t` on the chain (the
            // main bucket, then non-null overflow links), which fits (point
            // 2); 2. `i < 8`.
            let kp = unsafe { keystr(b, i) };
            // SAFETY: [`pointer::read`]: `kp` is a 16-byte key slot,
            // 8-aligned, initialised (see [`loadstr`]); any bits are a valid
            // `GoString`.
            let k = unsafe { kp.read() };
            // SAFETY: [`th`]: `b` is a bucket of `t`; `i < 8`.
            if k.len != key.len || unsafe { th(b, i) } != top {
                continue;
            }
            // SAFETY: [`memequal`]: 1. `key.ptr` is readable for `key.len`
            // bytes (point 3), and so is `k.ptr`: slot `i` is filled (its
            // tophash is `top >= MIN_TOP_HASH`), its key a key of `t`, and
            // `k.len == key.len`.
            if k.ptr != key.ptr && !unsafe { memequal(k.ptr, key.ptr, key.len) } {
                continue;
            }
            // gomap: release the key first, the only step that can fail.
            // SAFETY: [`HMap::release_key`]: 1. a live map of type `t` (point
            // 1); 2. `kp` is the key slot of filled slot `i` of a bucket of
            // `t` of this map, whose entry is being removed; 3. under this
            // write.
            unsafe { h.release_key(t, kp.cast()) }?;
            // Clear the key's pointer (only; Go leaves the length).
            // SAFETY: `&raw mut (*kp).ptr`: `kp` is an aligned key slot
            // holding a `GoString` (above), so the place of its `ptr` field
            // is in bounds.
            let pp = unsafe { &raw mut (*kp).ptr };
            // SAFETY: [`pointer::write`]: `pp` is the slot's `ptr` field,
            // valid for writes and aligned; under this write.
            unsafe { pp.write(ptr::null()) };
            // SAFETY: [`elemstr`]: 1. `b` is a bucket of `t`, which fits; 2.
            // `i < 8`.
            let e = unsafe { elemstr(t, b, i) };
            // SAFETY: [`HMap::release_elem_into`]: 1. a live map of type `t`
            // (point 1); 2. `e` is the elem slot of filled slot `i` (its
            // tophash is still `top`), whose entry is being removed (gomap:
            // drop hook, or moved to `out`); 3. under this write; 4. `out`
            // is null or valid for writes of the elem's size and not
            // overlapping the map (point 5).
            unsafe { h.release_elem_into(t, e, out) };
            // SAFETY: [`memclr`]: `e` is an inline elem slot (`t` fits,
            // point 2), valid for writes of `t.elem().size <=
            // t.valuesize()` bytes; under this write.
            unsafe { memclr(e, t.elem().size) };
            // SAFETY: [`crate::map::delete_slot`]: `h` is a live map of type
            // `t` under this write; `b` is on the chain starting at
            // `b_orig`; slot `i < 8` held the entry just removed.
            unsafe { crate::map::delete_slot(t, &mut h, b_orig, b, i) };
            found = true;
            break 'search;
        }
        // SAFETY: [`overflow`]: `b` is a bucket of `t`.
        b = unsafe { overflow(t, b) };
    }

    let h = h.end_writing();
    // gomap: a map with a shrink policy may give memory back now, exactly
    // as after `mapdelete`.
    if h.shrink_policy.is_some() {
        // SAFETY: [`crate::shrink::after_delete`]: 1. a live map of type `t`
        // just written by this delete, whose write has ended; 2. no other
        // thread accesses it (point 4).
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
/// 1. `h` is a live map of type `t`, growing, under a write, and reserved
///    ([`crate::reserve::grow_work_need`]`(t, h, bucket)` spare buckets);
/// 2. `t` fits the faststr paths.
#[doc(alias = "growWork_faststr")]
#[inline]
pub(crate) unsafe fn grow_work_faststr(t: &MapType, h: &mut HMap, bucket: usize) -> Result<(), MapError> {
    if needs_decisions(t, h) {
        // gomap: with room for the pre-pass, out of line, as in `grow_work`.
        // SAFETY: [`grow_work_decided`]: 1. point 1; 2. `needs_decisions`
        // holds (checked); 3. `evacuate_faststr` is this path's evacuation
        // function, with `evacuate`'s points plus "`t` fits" (point 2).
        return unsafe { grow_work_decided(t, h, bucket, evacuate_faststr) };
    }

    // First the old bucket the caller is about to use...
    // SAFETY: [`evacuate_faststr`]: 1. points 1 and 2; 2. `bucket &
    // h.oldbucketmask() < h.noldbuckets()`: it indexes the old array; 3.
    // `None`: no pre-pass runs (`needs_decisions` is false).
    unsafe { evacuate_faststr(t, h, bucket & h.oldbucketmask(), None) };

    // ...then one more, so that growth keeps moving.
    if h.growing() {
        // SAFETY: [`evacuate_faststr`]: 1. still growing (checked), under a
        // write, and the reservation covers this second evacuation too;
        // `t` fits; 2. `h.nevacuate < h.noldbuckets()` while growing; 3.
        // `None`: no pre-pass runs.
        unsafe { evacuate_faststr(t, h, h.nevacuate, None) };
    }
    Ok(())
}

/// Moves the entries of old bucket `oldbucket` to the new array
/// (`evacuate_faststr`, map_faststr_noswiss.go:424), as
/// [`crate::map::evacuate`] does but with header copies and no NaN case.
///
/// # Safety
/// The points of [`crate::map::evacuate`], for a `t` that fits:
/// 1. `h` is a live map of type `t`, growing, under a write, and reserved
///    for this evacuation; `t` fits the faststr paths;
/// 2. `oldbucket < h.noldbuckets()`: it indexes the old array;
/// 3. `decisions` is `Some` exactly when evacuation runs a pre-pass
///    ([`needs_decisions`]), with room for every live entry of the chain.
pub(crate) unsafe fn evacuate_faststr(t: &MapType, h: &mut HMap, oldbucket: usize, decisions: Option<&mut [u8]>) {
    // gomap: one body compiled twice, as in `evacuate`.
    match decisions {
        // SAFETY: [`evacuate_faststr_body`]: 1.-3. are points 1-3.
        None => unsafe { evacuate_faststr_body(t, h, oldbucket, None) },
        // SAFETY: [`evacuate_faststr_decided`]: 1.-3. are points 1-3, with
        // `Some(out)`.
        Some(out) => unsafe { evacuate_faststr_decided(t, h, oldbucket, out) },
    }
}

/// [`evacuate_faststr`] with a pre-pass.
///
/// # Safety
/// 1.-3. As [`evacuate_faststr`], with `Some(out)` for `decisions`.
#[cold]
#[inline(never)]
unsafe fn evacuate_faststr_decided(t: &MapType, h: &mut HMap, oldbucket: usize, out: &mut [u8]) {
    // SAFETY: [`evacuate_faststr_body`]: 1.-3. are points 1-3.
    unsafe { evacuate_faststr_body(t, h, oldbucket, Some(out)) }
}

/// The body of [`evacuate_faststr`].
///
/// # Safety
/// 1.-3. As [`evacuate_faststr`].
#[inline(always)]
unsafe fn evacuate_faststr_body(t: &MapType, h: &mut HMap, oldbucket: usize, decisions: Option<&mut [u8]>) {
    // SAFETY: [`bucket_at`]: `h.oldbuckets` holds `h.noldbuckets()` buckets
    // of `t` (growing, point 1), and `oldbucket` is below that (point 2).
    let mut b = unsafe { bucket_at(t, h.oldbuckets, oldbucket) };
    let newbit = h.noldbuckets();
    // SAFETY: [`evacuated`], as [`th`]: `b` is a bucket of `t`; slot 0 < 8.
    if !unsafe { evacuated(b) } {
        // Destinations: X, the bucket with the same index, and when doubling
        // Y, the one `newbit` higher.
        let dst = |i: usize| {
            // SAFETY: [`bucket_at`]: `h.buckets` holds `2^B` buckets of `t`,
            // and `i` is `oldbucket < newbit <= 2^B`, or, when doubling,
            // `oldbucket + newbit < 2 * newbit = 2^B`.
            let b = unsafe { bucket_at(t, h.buckets, i) };
            // SAFETY: [`keystr`]: 1. `b` is a bucket of `t`, which fits; 2.
            // slot 0.
            let k = unsafe { keystr(b, 0) }.cast::<u8>();
            // SAFETY: [`elemstr`]: 1. `b` is a bucket of `t`, which fits; 2.
            // slot 0.
            let e = unsafe { elemstr(t, b, 0) };
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
            // SAFETY: [`evac_decisions`]: as `evac_decision`, `h` is growing
            // to double size (a pre-pass runs only when doubling,
            // [`needs_decisions`], point 3); `b` is the old bucket being
            // evacuated, not evacuated yet (checked), and `out` has room for
            // every live entry of its chain (point 3).
            unsafe { evac_decisions(t, h, b, newbit, out) };
        }
        let mut n = 0usize;

        while !b.is_null() {
            for i in 0..BUCKET_CNT {
                // SAFETY: [`th`]: `b` is an old bucket of `t` on the chain
                // (the main one, then non-null overflow links); `i < 8`.
                let top = unsafe { th(b, i) };
                if is_empty(top) {
                    // SAFETY: [`set_th`]: as for `th`; under a write (point
                    // 1), no one else reads the bucket.
                    unsafe { set_th(b, i, EVACUATED_EMPTY) };
                    continue;
                }
                if top < MIN_TOP_HASH {
                    throw("bad map state");
                }
                // SAFETY: [`keystr`]: 1. `b` is a bucket of `t`, which fits
                // (point 1); 2. `i < 8`.
                let k = unsafe { keystr(b, i) };
                // SAFETY: [`elemstr`]: 1. as for `keystr`; 2. `i < 8`.
                let e = unsafe { elemstr(t, b, i) };
                let mut use_y = 0usize;
                if let Some(d) = &pre {
                    use_y = decode_decision(d[n], top).0;
                } else if !h.same_size_grow() {
                    // The hash bit the doubled mask adds picks X or Y.
                    // SAFETY: [`MapType::hash_str`]: 1. `k` is the key of a
                    // filled slot (`top >= MIN_TOP_HASH`): a live `GoString`
                    // whose bytes are readable.
                    let hash = unsafe { t.hash_str(k.cast(), h.hash0 as usize) };
                    if hash & newbit != 0 {
                        use_y = 1;
                    }
                }
                n += 1;

                // SAFETY: [`set_th`]: `b` is an old bucket of `t`, `i < 8`;
                // under a write (point 1).
                unsafe { set_th(b, i, EVACUATED_X + use_y as u8) }; // X + 1 is Y
                let d = &mut xy[use_y];

                if d.i == BUCKET_CNT {
                    // SAFETY: [`HMap::newoverflow`]: `d.b` is the last bucket
                    // of its chain: the new X/Y bucket is empty with no
                    // overflow until its old bucket is evacuated (writes
                    // reach it only after that), and each new one is hung
                    // at the end here. Spare buckets were reserved (point
                    // 1), so it does not fail.
                    d.b = unsafe { h.newoverflow(t, d.b) }.unwrap_or_else(|_| fatal("out of memory"));
                    d.i = 0;
                    // SAFETY: [`keystr`]: 1. `d.b` is a bucket of `t`, which
                    // fits; 2. slot 0.
                    d.k = unsafe { keystr(d.b, 0) }.cast();
                    // SAFETY: [`elemstr`]: 1. as for `keystr`; 2. slot 0.
                    d.e = unsafe { elemstr(t, d.b, 0) };
                }
                // SAFETY: [`set_th`]: `d.b` is a new bucket of `t`; `d.i & 7
                // < 8` (masked like Go's); under a write (point 1).
                unsafe { set_th(d.b, d.i & (BUCKET_CNT - 1), top) };

                // The key: the 16-byte header.
                // SAFETY: [`pointer::read`]: `k` is a 16-byte key slot,
                // 8-aligned, initialised (see [`loadstr`]).
                let kv = unsafe { k.read() };
                // SAFETY: [`pointer::write`]: `d.k` is key slot `d.i < 8` of
                // `d.b` (it advances by `KEY` with `d.i`, and is reset with
                // it), valid for 16-byte writes and 8-aligned; under a
                // write.
                unsafe { d.k.cast::<GoString>().write(kv) };

                // SAFETY: [`memmove`]: `d.e` (elem slot `d.i` of `d.b`, as
                // for `d.k`) and `e` (elem slot `i` of `b`) are inline elem
                // slots of `t` (it fits), each valid for `t.elem().size <=
                // t.valuesize()` bytes.
                unsafe { memmove(d.e, e, t.elem().size) };
                d.i += 1;
                // After slot 7 these point past the slot arrays; they are
                // only used after the `d.i == 8` check replaces them.
                d.k = d.k.wrapping_add(KEY);
                d.e = d.e.wrapping_add(t.valuesize());
            }
            // SAFETY: [`overflow`]: `b` is a bucket of `t`.
            b = unsafe { overflow(t, b) };
        }
        // With no iterator on the old array, zero the first old bucket's
        // data (keys, elems, overflow link), keeping its tophash marks.
        if h.flags() & OLD_ITERATOR == 0 && t.bucket_pointers() {
            // SAFETY: [`bucket_at`]: as at the top, `oldbucket <
            // h.noldbuckets()` (point 2).
            let first = unsafe { bucket_at(t, h.oldbuckets, oldbucket) };
            // Cutting the chain leaves its heap overflow buckets on
            // `extra.oldoverflow` until growth ends, as in `evacuate`.
            // SAFETY: [`pointer::add`]: `DATA_OFFSET < t.bucketsize()`: inside
            // the bucket.
            let data = unsafe { first.add(DATA_OFFSET) };
            // SAFETY: [`memclr`]: `data` is valid for writes of the bucket's
            // `t.bucketsize() - DATA_OFFSET` bytes after `tophash[8]`; under
            // a write (point 1), and no iterator reads the old array
            // (`OLD_ITERATOR` clear).
            unsafe { memclr(data, t.bucketsize() - DATA_OFFSET) };
        }
    }

    if oldbucket == h.nevacuate {
        // SAFETY: [`advance_evacuation_mark`], as [`crate::map::grow_work`]:
        // `h` is a live map of type `t`, still growing (only this call may
        // end the growth), under a write, reserved (point 1).
        unsafe { advance_evacuation_mark(h, t, newbit) };
    }
}
