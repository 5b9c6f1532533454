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
//! # Safety vocabulary
//!
//! The `# Safety` points of this file use the crate's terms (live map,
//! bucket of `t`, slot `i`, under a write, reserved, key of `t`: see the
//! [crate docs](crate#safety-vocabulary)) and one more:
//!
//! * **`t` fits fast32**: `t` has 4-byte keys stored inline
//!   (`t.keysize() == 4`, `!t.indirect_key()`), compared bytewise and
//!   hashed by a function that reads exactly those 4 bytes, so any 4 bytes
//!   are a key of `t` (e.g. [`MapType::u32_key`](crate::maptype::MapType));
//!   and inline elems (`!t.indirect_elem()`, at most 128 bytes), so an elem
//!   slot is `t.valuesize() == t.elem().size` bytes. A bucket of such a `t`
//!   holds key slot `i` at `8 + 4 * i` (4-aligned) and elem slot `i` at
//!   `40 + i * t.valuesize()`, both inside its
//!   `t.bucketsize() == 8 * (1 + 4 + t.valuesize()) + 8` bytes. Violations
//!   are caught by debug assertions only (`debug_check`).

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
use crate::scan::{eq32_slots, nonempty_slots, tophash_word};

/// Width of a key slot.
const KEY: usize = 4;

/// Key slot `i` of bucket `b` (Go: `add(unsafe.Pointer(b), dataOffset+i*4)`).
///
/// # Safety
/// 1. `b` is a bucket of some `t` that fits fast32;
/// 2. `i` is a slot: `i < BUCKET_CNT`.
#[inline(always)]
unsafe fn key32(b: *mut u8, i: usize) -> *mut u8 {
    debug_assert!(i < BUCKET_CNT);
    // SAFETY: `add`: the offset `8 + 4 * i <= 36` (point 2) stays inside
    // the bucket's `t.bucketsize() >= 48` bytes, one allocation (point 1).
    unsafe { b.add(DATA_OFFSET + i * KEY) }
}

/// Elem slot `i` of bucket `b` (Go: `dataOffset+bucketCnt*4+i*ValueSize`).
///
/// # Safety
/// 1. `b` is a bucket of `t`;
/// 2. `i` is a slot: `i < BUCKET_CNT`;
/// 3. `t` fits fast32.
#[inline(always)]
unsafe fn elem32(t: &MapType, b: *mut u8, i: usize) -> *mut u8 {
    debug_assert!(i < BUCKET_CNT);
    // SAFETY: `add`: with 4-byte keys (point 3) the offset
    // `40 + i * t.valuesize()` is at most `t.bucketsize() - 8` (point 2), so
    // it stays inside the bucket, one allocation (point 1).
    unsafe { b.add(DATA_OFFSET + BUCKET_CNT * KEY + i * t.valuesize()) }
}

/// The stored key of slot `i` (stale bytes for an empty slot).
///
/// # Safety
/// 1. `b` is a bucket of some `t` that fits fast32;
/// 2. `i` is a slot: `i < BUCKET_CNT`;
/// 3. no other thread writes the bucket during the call.
#[inline(always)]
unsafe fn load32(b: *mut u8, i: usize) -> u32 {
    // SAFETY: key32's points 1 and 2 are this function's.
    let k = unsafe { key32(b, i) };
    // SAFETY: `read`: `k` is key slot `i`, 4 bytes inside the bucket
    // (points 1, 2), 4-aligned (buckets are 8-aligned, the slot is at
    // `8 + 4 * i`), initialised (bucket blocks are zeroed when allocated
    // and only ever written with whole keys), and not written concurrently
    // (point 3).
    unsafe { k.cast::<u32>().read() }
}

/// Checks (in debug builds) that `t` is a descriptor the fast32 paths may use.
#[inline(always)]
fn debug_check(t: &MapType) {
    debug_assert!(
        t.keysize() == KEY && !t.indirect_key() && !t.indirect_elem(),
        "fast32 map function used with a descriptor it does not fit: {t:?}"
    );
}

/// Finds the slot of `key` (its bucket and index), or `None`: the lookup
/// shared by [`mapaccess1_fast32`], [`mapaccess2_fast32`] (Go repeats it in
/// both) and [`access_k_fast32`].
///
/// # Safety
/// 1. `h` is a live map of type `t`, non-empty (`h.count > 0`, so it has a
///    bucket array);
/// 2. `t` fits fast32;
/// 3. no write to the map runs during the call.
#[inline(always)]
unsafe fn lookup_fast32(t: &MapType, h: &HMap, key: u32) -> Option<(*mut u8, usize)> {
    if h.b == 0 {
        // A single bucket: no need to hash (and a one-bucket map never grows
        // in place, so there are no old buckets to consult). Go walks
        // i = 0..8 and returns the first slot whose key equals `key` and
        // whose tophash is not empty; the same slot, from all 8 comparisons
        // at once: the lowest bit of the match mask.
        let mut b = h.buckets;
        while !b.is_null() {
            // SAFETY: 1. `b` is a bucket of `t`, which fits (point 2): the
            // map's one bucket (point 1) or an overflow bucket linked from
            // it; 2. no write runs (point 3).
            let m = unsafe { key_matches(b, key) };
            if m != 0 {
                // `m != 0` has only bits 0..8 (masked by `nonempty_slots`),
                // so its lowest set bit is a slot.
                return Some((b, m.trailing_zeros() as usize));
            }
            // SAFETY: `b` is a bucket of `t` (as above).
            b = unsafe { overflow(t, b) };
        }
        return None;
    }
    // SAFETY: 1. `&key` is a key of `t`: 4 readable bytes of a local, and
    // any 4 bytes are a key of a `t` that fits (point 2); 2.
    // `t.key().size == 4` (point 2).
    let hash = unsafe { t.hash32((&raw const key).cast(), h.hash0 as usize) };
    // With B > 0 the hash is at hand, so the walk is the generic lookup's
    // (see `find_in_chain` for why it finds the slot Go's loop returns).
    // SAFETY: `h` is a live map of type `t` with a bucket array (point 1).
    let start = unsafe { lookup_bucket(t, h, hash) };
    // The key comparison, called by find_in_chain only with a bucket of
    // the chain at `start` and a slot of it (its doc).
    let eq = |b, i| {
        // SAFETY: 1. `b` is a bucket of the live map `h`, of `t`, which fits
        // (point 2); 2. `i` is a slot; 3. no write runs (point 3).
        (unsafe { load32(b, i) }) == key
    };
    // SAFETY: 1. `start` is a bucket of the live map `h` of type `t`
    // (lookup_bucket's result); 2. `eq` reads only the key slot it is given.
    unsafe { find_in_chain(t, start, tophash(hash), eq) }
}

/// Bit `i` set iff slot `i` of `b` holds `key` and is not empty: the slots
/// Go's fast lookup loop accepts (`k == key && !isEmpty(b.tophash[i])`).
///
/// # Safety
/// 1. `b` is a bucket of some `t` that fits fast32;
/// 2. no other thread writes the bucket during the call.
#[inline(always)]
unsafe fn key_matches(b: *mut u8, key: u32) -> u32 {
    // SAFETY: key32's points: 1. `b` is a bucket of a `t` that fits
    // (point 1); 2. slot 0.
    let keys = unsafe { key32(b, 0) };
    // SAFETY: the bucket's 8 key slots, 32 bytes from `keys`, are inside the
    // bucket (point 1), initialised (buckets are zeroed when allocated) and
    // not written concurrently (point 2).
    let m = unsafe { eq32_slots(keys, key) };
    // SAFETY: 1. `b` is a bucket of some `t` (point 1): 8-aligned, its
    // first 8 bytes, `tophash[8]`, readable and not written concurrently
    // (point 2).
    m & nonempty_slots(unsafe { tophash_word(b) })
}

/// `v := m[k]` for 4-byte keys (`mapaccess1_fast32`, map_fast32_noswiss.go:16):
/// a pointer to the elem, or to the shared zero value. Never fails; the
/// `Result` matches [`crate::map::mapaccess1`].
///
/// # Safety
/// 1. `h` is null or a live map of type `t`;
/// 2. `t` fits fast32 (see the [module docs](self)): 4-byte inline keys
///    compared bytewise, inline elems;
/// 3. no write to the map runs during the call (concurrent reads are fine,
///    as in Go, whose "concurrent map read and map write" check catches
///    some violations, best effort).
///
/// The result is valid until the next write to the map.
#[inline]
pub unsafe fn mapaccess1_fast32(t: &MapType, h: *const HMap, key: u32) -> Result<*const u8, MapError> {
    // SAFETY: mapaccess2_fast32's points 1-3 are this function's.
    let (e, _) = unsafe { mapaccess2_fast32(t, h, key) }?;
    Ok(e)
}

/// `v, ok := m[k]` for 4-byte keys (`mapaccess2_fast32`, map_fast32_noswiss.go:65).
///
/// # Safety
/// 1. `h` is null or a live map of type `t`;
/// 2. `t` fits fast32;
/// 3. no write to the map runs during the call.
///
/// These are [`mapaccess1_fast32`]'s points; the result is valid until the
/// next write to the map.
#[inline]
pub unsafe fn mapaccess2_fast32(t: &MapType, h: *const HMap, key: u32) -> Result<(*const u8, bool), MapError> {
    // SAFETY: access2_fast32's points 1-3 are this function's.
    Ok(unsafe { access2_fast32(t, h, key) })
}

/// The body of [`mapaccess2_fast32`] without the `Result`, always inlined:
/// for callers that are themselves thin wrappers (the C ABI's
/// `gomap_mapaccess*_fast32`), so that a lookup is one call, not two.
///
/// # Safety
/// 1. `h` is null or a live map of type `t`;
/// 2. `t` fits fast32;
/// 3. no write to the map runs during the call.
///
/// These are [`mapaccess1_fast32`]'s points; the result is valid until the
/// next write to the map.
#[inline(always)]
pub unsafe fn access2_fast32(t: &MapType, h: *const HMap, key: u32) -> (*const u8, bool) {
    debug_check(t);
    // SAFETY: `as_ref`: `h` is null or a live map (point 1), so aligned and
    // initialised; no write runs (point 3), so nothing mutates it while the
    // shared reference lives (this call).
    let Some(h) = (unsafe { h.as_ref() }) else { return (zero_val(), false) };
    if h.count == 0 {
        return (zero_val(), false);
    }
    if h.flags() & HASH_WRITING != 0 {
        fatal(CONCURRENT_READ_WRITE);
    }
    // SAFETY: 1. a live map of type `t` (point 1), non-empty (checked); 2.
    // `t` fits (point 2); 3. no write runs (point 3).
    match unsafe { lookup_fast32(t, h, key) } {
        // SAFETY: 1. `b` is a bucket of `t` and 2. `i` a slot (the
        // lookup's result); 3. `t` fits (point 2).
        Some((b, i)) => (unsafe { elem32(t, b, i) }, true),
        None => (zero_val(), false),
    }
}

/// `k, v := mapaccessK(m, k)` for 4-byte keys (gomap: Go has no fast
/// variant): the stored key's and its elem's slots, or two nulls; what the
/// typed map's `entry` looks up first. Valid until the next write.
///
/// # Safety
/// 1. `h` is null or a live map of type `t`;
/// 2. `t` fits fast32;
/// 3. no write to the map runs during the call.
#[inline(always)]
pub(crate) unsafe fn access_k_fast32(t: &MapType, h: *const HMap, key: u32) -> (*mut u8, *mut u8) {
    debug_check(t);
    // SAFETY: `as_ref`: `h` is null or a live map (point 1), so aligned and
    // initialised; no write runs (point 3) while the reference lives.
    let Some(h) = (unsafe { h.as_ref() }) else { return (ptr::null_mut(), ptr::null_mut()) };
    if h.count == 0 {
        return (ptr::null_mut(), ptr::null_mut());
    }
    if h.flags() & HASH_WRITING != 0 {
        fatal(CONCURRENT_READ_WRITE);
    }
    // SAFETY: 1. a live map of type `t` (point 1), non-empty (checked); 2.
    // `t` fits (point 2); 3. no write runs (point 3).
    match unsafe { lookup_fast32(t, h, key) } {
        Some((b, i)) => {
            // SAFETY: key32's points: 1. `b` is a bucket of `t`, 2. `i` a
            // slot (the lookup's result).
            let k = unsafe { key32(b, i) };
            // SAFETY: 1. `b` is a bucket of `t` and 2. `i` a slot (as
            // above); 3. `t` fits (point 2).
            (k, unsafe { elem32(t, b, i) })
        }
        None => (ptr::null_mut(), ptr::null_mut()),
    }
}

/// `m[k] = v`, first half, for 4-byte keys (`mapassign_fast32`,
/// map_fast32_noswiss.go:115): the elem slot for `key`, inserting the key if
/// it is new. Errors as [`crate::map::mapassign`]: nil map, allocation
/// failure; the map's contents are then unchanged.
///
/// # Safety
/// 1. `h` is null or a live map of type `t`;
/// 2. `t` fits fast32;
/// 3. nothing else accesses the map during the call: no other thread, and
///    no reference the caller holds (the call is under a write from when it
///    sets the flag; Go's "concurrent map writes" check catches some
///    violations, best effort).
///
/// Points 1 and 2 are [`mapaccess1_fast32`]'s. The returned slot is valid
/// until the next write to the map.
pub unsafe fn mapassign_fast32(t: &MapType, h: *mut HMap, key: u32) -> Result<Slot, MapError> {
    debug_check(t);
    // SAFETY: `as_mut`: `h` is null or a live map (point 1), so aligned and
    // initialised, and nothing else accesses it during the call (point 3),
    // so this is the only reference to it while it lives (this call).
    let Some(h) = (unsafe { h.as_mut() }) else { return Err(MapError::NilMapAssign) };
    if h.flags() & HASH_WRITING != 0 {
        fatal(CONCURRENT_WRITES);
    }
    // SAFETY: 1. `&key` is a key of `t`: 4 readable bytes of a local, and
    // any 4 bytes are a key of a `t` that fits (point 2); 2.
    // `t.key().size == 4` (point 2).
    let hash = unsafe { t.hash32((&raw const key).cast(), h.hash0 as usize) };

    // Mark the write only after hashing, as mapassign does.
    // `h` is the write's guard from here: an early exit clears the flag.
    let mut h = h.start_writing();

    // SAFETY: 1. the map is under this write (the guard set the flag; no
    // one else accesses the map, point 3) and of type `t` (point 1).
    unsafe { h.ensure_buckets(t) }?;

    let mut inserted = false;
    let insertb: *mut u8;
    let inserti: usize;
    'done: {
        'again: loop {
            let bucket = hash & bucket_mask(h.b);
            if h.growing() {
                // SAFETY: the map is growing (checked) and `t` is its type
                // (point 1).
                unsafe { h.reserve_grow_work(t, bucket, 1) }?;
                // SAFETY: 1. a live map of type `t` (point 1), growing
                // (checked), under this write; 2. reserved: the call just
                // above reserved `grow_work_need(t, h, bucket) + 1` buckets;
                // 3. `t` fits (point 2).
                unsafe { grow_work_fast32(t, &mut h, bucket) }?;
            }
            // SAFETY: `h.buckets` is an array of 2^B buckets of `t` (it
            // exists: ensure_buckets; growth work does not replace it), and
            // `bucket = hash & (2^B - 1)` indexes it.
            let mut b = unsafe { bucket_at(t, h.buckets, bucket) };

            let mut ib: *mut u8 = ptr::null_mut();
            let mut ii = 0usize;

            'bucketloop: loop {
                for i in 0..BUCKET_CNT {
                    // SAFETY: 1. `b` is a bucket of `t`: bucket `bucket` of
                    // the array or an overflow bucket of its chain; 2.
                    // `i < 8`: the loop bound.
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
                    // SAFETY: 1. `b` is a bucket of `t`, which fits (point
                    // 2); 2. `i < 8`; 3. no other thread writes the map
                    // (point 3).
                    let k = unsafe { load32(b, i) };
                    if k != key {
                        continue;
                    }
                    inserti = i;
                    insertb = b;
                    break 'done;
                }
                // SAFETY: `b` is a bucket of `t` (as above).
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
                // SAFETY: a live map of type `t` (point 1), not growing
                // (checked), under this write.
                unsafe { hash_grow(t, &mut h) }?;
                continue 'again; // every bucket pointer is stale now
            }

            if ib.is_null() {
                // The whole chain is full: hang a new overflow bucket off it.
                // SAFETY: `b` is the last bucket of its chain: with no empty
                // slot seen, the walk ended on a null overflow link. While
                // growing the reserve makes this infallible; otherwise it
                // fails before any change.
                ib = unsafe { h.newoverflow(t, b) }?;
                ii = 0;
            }
            // SAFETY: 1. `ib` is a bucket of `t` (of the chain, or the new
            // overflow bucket); 2. `ii & 7 < 8` (masked like Go's); 3. no
            // other thread reads it: under this write.
            unsafe { set_th(ib, ii & (BUCKET_CNT - 1), tophash(hash)) };

            // SAFETY: 1. `ib` is a bucket of `t`, which fits (point 2); 2.
            // `ii < 8`: a loop index or 0.
            let k = unsafe { key32(ib, ii) };
            // SAFETY: `write`: `k` is key slot `ii` of `ib`, 4 writable
            // bytes, 4-aligned (see `load32`), under this write.
            unsafe { k.cast::<u32>().write(key) };

            h.count += 1;
            inserted = true;
            inserti = ii;
            insertb = ib;
            break 'done;
        }
    }

    // SAFETY: 1. `insertb` is a bucket of `t`; 2. `inserti < 8` (a loop
    // index or `ii`); 3. `t` fits (point 2).
    let elem = unsafe { elem32(t, insertb, inserti) };
    h.end_writing();
    // SAFETY: `elem` is an in-bounds offset of the non-null bucket
    // `insertb`, so not null.
    Ok(Slot { elem: unsafe { NonNull::new_unchecked(elem) }, inserted })
}

/// `m[k] = v`, first half, for 4-byte pointer keys (`mapassign_fast32ptr`,
/// map_fast32_noswiss.go:214).
///
/// Go's compiler uses this only where pointers are 4 bytes wide (32-bit
/// targets): on 64-bit targets a pointer does not fit a 4-byte key slot, so
/// the function exists only where `target_pointer_width = "32"`, as in Go
/// (built on i686, and checked there against the generic path by
/// `tests/fast_paths.rs`).
///
/// # Safety
/// 1. `h` is null or a live map of type `t`;
/// 2. `t` fits fast32;
/// 3. nothing else accesses the map during the call.
///
/// These are [`mapassign_fast32`]'s points; `key` is stored and compared as
/// a value, never dereferenced. The returned slot is valid until the next
/// write to the map.
#[cfg(target_pointer_width = "32")]
pub unsafe fn mapassign_fast32ptr(t: &MapType, h: *mut HMap, key: *mut u8) -> Result<Slot, MapError> {
    debug_check(t);
    // SAFETY: `as_mut`: `h` is null or a live map (point 1), so aligned and
    // initialised, and nothing else accesses it during the call (point 3),
    // so this is the only reference to it while it lives (this call).
    let Some(h) = (unsafe { h.as_mut() }) else { return Err(MapError::NilMapAssign) };
    if h.flags() & HASH_WRITING != 0 {
        fatal(CONCURRENT_WRITES);
    }
    // SAFETY: 1. `&key` is a key of `t`: the readable bytes of a local
    // pointer, 4 where this can run (Go hashes `&key` too), and any 4 bytes
    // are a key of a `t` that fits (point 2); 2. `t.key().size == 4`
    // (point 2).
    let hash = unsafe { t.hash32((&raw const key).cast(), h.hash0 as usize) };

    // Mark the write only after hashing, as mapassign does.
    // `h` is the write's guard from here: an early exit clears the flag.
    let mut h = h.start_writing();

    // SAFETY: 1. the map is under this write (the guard set the flag; no
    // one else accesses the map, point 3) and of type `t` (point 1).
    unsafe { h.ensure_buckets(t) }?;

    let mut inserted = false;
    let insertb: *mut u8;
    let inserti: usize;
    'done: {
        'again: loop {
            let bucket = hash & bucket_mask(h.b);
            if h.growing() {
                // SAFETY: the map is growing (checked) and `t` is its type
                // (point 1).
                unsafe { h.reserve_grow_work(t, bucket, 1) }?;
                // SAFETY: 1. a live map of type `t` (point 1), growing
                // (checked), under this write; 2. reserved: the call just
                // above reserved `grow_work_need(t, h, bucket) + 1` buckets;
                // 3. `t` fits (point 2).
                unsafe { grow_work_fast32(t, &mut h, bucket) }?;
            }
            // SAFETY: `h.buckets` is an array of 2^B buckets of `t` (it
            // exists: ensure_buckets; growth work does not replace it), and
            // `bucket = hash & (2^B - 1)` indexes it.
            let mut b = unsafe { bucket_at(t, h.buckets, bucket) };

            let mut ib: *mut u8 = ptr::null_mut();
            let mut ii = 0usize;

            'bucketloop: loop {
                for i in 0..BUCKET_CNT {
                    // SAFETY: 1. `b` is a bucket of `t`: bucket `bucket` of
                    // the array or an overflow bucket of its chain; 2.
                    // `i < 8`: the loop bound.
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
                    // SAFETY: 1. `b` is a bucket of `t`, which fits (point
                    // 2); 2. `i < 8`: the loop bound.
                    let slot = unsafe { key32(b, i) };
                    // SAFETY: `read_unaligned`: `slot` is key slot `i` of
                    // `b`, 4 readable bytes (pointer-sized where this can
                    // run), initialised (see `load32`), not written
                    // concurrently (point 3); any 4 bytes are a valid
                    // `*mut u8` there.
                    let k = unsafe { slot.cast::<*mut u8>().read_unaligned() };
                    if k != key {
                        continue;
                    }
                    inserti = i;
                    insertb = b;
                    break 'done;
                }
                // SAFETY: `b` is a bucket of `t` (as above).
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
                // SAFETY: a live map of type `t` (point 1), not growing
                // (checked), under this write.
                unsafe { hash_grow(t, &mut h) }?;
                continue 'again; // every bucket pointer is stale now
            }

            if ib.is_null() {
                // The whole chain is full: hang a new overflow bucket off it.
                // SAFETY: `b` is the last bucket of its chain: with no empty
                // slot seen, the walk ended on a null overflow link (see
                // mapassign_fast32).
                ib = unsafe { h.newoverflow(t, b) }?;
                ii = 0;
            }
            // SAFETY: 1. `ib` is a bucket of `t` (of the chain, or the new
            // overflow bucket); 2. `ii & 7 < 8` (masked like Go's); 3. no
            // other thread reads it: under this write.
            unsafe { set_th(ib, ii & (BUCKET_CNT - 1), tophash(hash)) };

            // SAFETY: 1. `ib` is a bucket of `t`, which fits (point 2); 2.
            // `ii < 8`: a loop index or 0.
            let k = unsafe { key32(ib, ii) };
            // SAFETY: `write_unaligned`: `k` is key slot `ii` of `ib`, 4
            // writable bytes (pointer-sized where this can run), under this
            // write.
            unsafe { k.cast::<*mut u8>().write_unaligned(key) };

            h.count += 1;
            inserted = true;
            inserti = ii;
            insertb = ib;
            break 'done;
        }
    }

    // SAFETY: 1. `insertb` is a bucket of `t`; 2. `inserti < 8` (a loop
    // index or `ii`); 3. `t` fits (point 2).
    let elem = unsafe { elem32(t, insertb, inserti) };
    h.end_writing();
    // SAFETY: `elem` is an in-bounds offset of the non-null bucket
    // `insertb`, so not null.
    Ok(Slot { elem: unsafe { NonNull::new_unchecked(elem) }, inserted })
}

/// `delete(m, k)` for 4-byte keys (`mapdelete_fast32`, map_fast32_noswiss.go:304).
/// Errors as [`crate::map::mapdelete`] (allocation failure while growth work
/// needs an overflow bucket, or for a deferred key drop); the map's contents
/// are then unchanged.
///
/// # Safety
/// 1. `h` is null or a live map of type `t`;
/// 2. `t` fits fast32;
/// 3. nothing else accesses the map during the call.
///
/// These are [`mapassign_fast32`]'s points.
pub unsafe fn mapdelete_fast32(t: &MapType, h: *mut HMap, key: u32) -> Result<(), MapError> {
    // SAFETY: mapdelete_fast32_into's points 1-3 are this function's; 4.
    // `out` is null: the elem is dropped.
    unsafe { mapdelete_fast32_into(t, h, key, ptr::null_mut()) }.map(|_| ())
}

/// [`mapdelete_fast32`] that moves the deleted entry's elem to `out` instead of
/// dropping it (when `out` is not null) and reports whether an entry was
/// deleted (gomap: one lookup for a typed `remove`, where Go's `delete`
/// returns nothing). The decisions and the map's state are exactly
/// [`mapdelete_fast32`]'s.
///
/// # Safety
/// 1. `h` is null or a live map of type `t`;
/// 2. `t` fits fast32;
/// 3. nothing else accesses the map during the call;
/// 4. `out` is null or valid for writes of `t.elem().size` bytes (one
///    elem), not overlapping the map's memory.
///
/// Points 1-3 are [`mapdelete_fast32`]'s.
#[doc(alias = "mapdelete_fast32")]
pub unsafe fn mapdelete_fast32_into(t: &MapType, h: *mut HMap, key: u32, out: *mut u8) -> Result<bool, MapError> {
    debug_check(t);
    // SAFETY: `as_mut`: `h` is null or a live map (point 1), so aligned and
    // initialised, and nothing else accesses it during the call (point 3),
    // so this is the only reference to it while it lives (this call).
    let Some(h) = (unsafe { h.as_mut() }) else { return Ok(false) };
    if h.count == 0 {
        return Ok(false);
    }
    if h.flags() & HASH_WRITING != 0 {
        fatal(CONCURRENT_WRITES);
    }

    // SAFETY: 1. `&key` is a key of `t`: 4 readable bytes of a local, and
    // any 4 bytes are a key of a `t` that fits (point 2); 2.
    // `t.key().size == 4` (point 2).
    let hash = unsafe { t.hash32((&raw const key).cast(), h.hash0 as usize) };

    // Mark the write only after hashing, as mapdelete does.
    // `h` is the write's guard from here: an early exit clears the flag.
    let mut h = h.start_writing();

    let bucket = hash & bucket_mask(h.b);
    if h.growing() {
        // SAFETY: the map is growing (checked) and `t` is its type (point 1).
        unsafe { h.reserve_grow_work(t, bucket, 0) }?;
        // SAFETY: 1. a live map of type `t` (point 1), growing (checked),
        // under this write (the guard set the flag; no one else accesses
        // the map, point 3); 2. reserved: the call just above reserved
        // `grow_work_need(t, h, bucket)` buckets; 3. `t` fits (point 2).
        unsafe { grow_work_fast32(t, &mut h, bucket) }?;
    }
    // SAFETY: the map is non-empty (checked), so `h.buckets` is an array of
    // 2^B buckets of `t` (growth work does not replace it), and
    // `bucket = hash & (2^B - 1)` indexes it.
    let mut b = unsafe { bucket_at(t, h.buckets, bucket) };
    let b_orig = b;
    let mut found = false;
    'search: while !b.is_null() {
        for i in 0..BUCKET_CNT {
            // SAFETY: 1. `b` is a bucket of `t`, which fits (point 2):
            // bucket `bucket` of the array or an overflow bucket of its
            // chain; 2. `i < 8`: the loop bound; 3. under this write.
            let stored = unsafe { load32(b, i) };
            // SAFETY: 1. `b` is a bucket (as above); 2. `i < 8`.
            if key != stored || is_empty(unsafe { th(b, i) }) {
                continue;
            }
            // SAFETY: 1. `b` is a bucket of `t`, which fits (point 2); 2.
            // `i < 8`: the loop bound.
            let k = unsafe { key32(b, i) };
            // gomap: release the key first, the only step that can fail.
            // SAFETY: `k` is a live key slot of this map: slot `i` of a
            // bucket of the current array's chain is not empty, so filled
            // (the current array holds no evacuation marks); its entry is
            // being removed.
            unsafe { h.release_key(t, k) }?;
            // Go clears the key only if it holds a pointer, which a 4-byte
            // key can only do where pointers are 4 bytes wide.
            if PTR_SIZE == KEY && t.key().pointers {
                // SAFETY: `k` is key slot `i`: valid for writes of its `KEY`
                // bytes, under this write.
                unsafe { memclr(k, KEY) };
            }
            // SAFETY: 1. `b` is a bucket of `t`; 2. `i < 8`; 3. `t` fits
            // (point 2).
            let e = unsafe { elem32(t, b, i) };
            // SAFETY: release_elem's point: `e` is the live elem slot of the
            // entry being removed (slot `i`, filled); `out` is null or valid
            // for writing one elem (point 4). (gomap: drop hook, or moved to
            // `out`.)
            unsafe { h.release_elem_into(t, e, out) };
            // SAFETY: `e` is an inline elem slot (point 2): valid for writes
            // of `t.elem().size` bytes, under this write.
            unsafe { memclr(e, t.elem().size) };
            // SAFETY: a live map of type `t` (point 1) under this write; `b`
            // is on the chain starting at `b_orig` (the walk's); slot `i < 8`
            // held the entry just removed.
            unsafe { crate::map::delete_slot(t, &mut h, b_orig, b, i) };
            found = true;
            break 'search;
        }
        // SAFETY: `b` is a bucket of `t` (as above).
        b = unsafe { overflow(t, b) };
    }

    let h = h.end_writing();
    // gomap: a map with a shrink policy may give memory back now, exactly
    // as after `mapdelete`.
    if h.shrink_policy.is_some() {
        // SAFETY: `h` is a live map of type `t` (point 1), just written by
        // this delete (and no longer being written).
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
/// 1. `h` is a live map of type `t`, growing, under a write;
/// 2. reserved: the spare list holds
///    [`crate::reserve::grow_work_need`]`(t, h, bucket)` overflow buckets;
/// 3. `t` fits fast32.
#[doc(alias = "growWork_fast32")]
#[inline]
pub(crate) unsafe fn grow_work_fast32(t: &MapType, h: &mut HMap, bucket: usize) -> Result<(), MapError> {
    if needs_decisions(t, h) {
        // gomap: with room for the pre-pass, out of line, as in `grow_work`.
        // SAFETY: 1. a live growing map of type `t` under a write (point
        // 1), reserved (point 2), and `needs_decisions` holds (checked);
        // 2. `evacuate_fast32` is the evacuation of the fast32 paths, which
        // `t` fits (point 3).
        return unsafe { grow_work_decided(t, h, bucket, evacuate_fast32) };
    }

    // First the old bucket the caller is about to use...
    // SAFETY: 1. growing, under a write, reserved (points 1, 2); 2. the
    // index is masked into the old array; 3. no pre-pass runs
    // (`needs_decisions` is false) and `decisions` is `None`; 4. `t` fits
    // (point 3).
    unsafe { evacuate_fast32(t, h, bucket & h.oldbucketmask(), None) };

    // ...then one more, so that growth keeps moving.
    if h.growing() {
        // SAFETY: 1. still growing (checked), under a write, reserved
        // (points 1, 2); 2. `nevacuate` < the old bucket count while
        // growing; 3. no pre-pass, `None`; 4. `t` fits (point 3).
        unsafe { evacuate_fast32(t, h, h.nevacuate, None) };
    }
    Ok(())
}

/// Moves the entries of old bucket `oldbucket` to the new array
/// (`evacuate_fast32`, map_fast32_noswiss.go:405), as
/// [`crate::map::evacuate`] does but with 4-byte key copies and no NaN case.
///
/// # Safety
/// 1. As [`grow_work_fast32`] points 1 and 2: `h` is a live map of type
///    `t`, growing, under a write, reserved;
/// 2. `oldbucket` indexes the old array (`oldbucket < h.noldbuckets()`);
/// 3. `decisions` is `Some` exactly when evacuation runs a pre-pass
///    ([`needs_decisions`]), with room for every live entry of the chain
///    (as for [`crate::map::evacuate`], point 3);
/// 4. `t` fits fast32.
pub(crate) unsafe fn evacuate_fast32(t: &MapType, h: &mut HMap, oldbucket: usize, decisions: Option<&mut [u8]>) {
    // gomap: one body compiled twice, as in `evacuate`.
    match decisions {
        // SAFETY: evacuate_fast32_body's points 1-4 are this function's.
        None => unsafe { evacuate_fast32_body(t, h, oldbucket, None) },
        // SAFETY: evacuate_fast32_decided's points 1-4 are this function's,
        // with `Some(out)`.
        Some(out) => unsafe { evacuate_fast32_decided(t, h, oldbucket, out) },
    }
}

/// [`evacuate_fast32`] with a pre-pass.
///
/// # Safety
/// 1. `h` is a live map of type `t`, growing, under a write, reserved;
/// 2. `oldbucket` indexes the old array;
/// 3. evacuation runs a pre-pass ([`needs_decisions`]), and `out` has room
///    for every live entry of the chain;
/// 4. `t` fits fast32.
///
/// These are [`evacuate_fast32`]'s points, with `Some(out)`.
#[cold]
#[inline(never)]
unsafe fn evacuate_fast32_decided(t: &MapType, h: &mut HMap, oldbucket: usize, out: &mut [u8]) {
    // SAFETY: evacuate_fast32_body's points 1-4 are this function's, with
    // `decisions = Some(out)`.
    unsafe { evacuate_fast32_body(t, h, oldbucket, Some(out)) }
}

/// The body of [`evacuate_fast32`].
///
/// # Safety
/// 1. `h` is a live map of type `t`, growing, under a write, reserved;
/// 2. `oldbucket` indexes the old array;
/// 3. `decisions` is `Some` exactly when evacuation runs a pre-pass, with
///    room for every live entry of the chain;
/// 4. `t` fits fast32.
///
/// These are [`evacuate_fast32`]'s points.
#[inline(always)]
unsafe fn evacuate_fast32_body(t: &MapType, h: &mut HMap, oldbucket: usize, decisions: Option<&mut [u8]>) {
    // SAFETY: `h.oldbuckets` is the old array of `h.noldbuckets()` buckets
    // of `t` (growing, point 1), and `oldbucket` indexes it (point 2).
    let mut b = unsafe { bucket_at(t, h.oldbuckets, oldbucket) };
    let newbit = h.noldbuckets();
    // SAFETY: 1. `b` is a bucket of `t` (of the old array); 2. slot 0.
    if !unsafe { evacuated(b) } {
        // Destinations: X, the bucket with the same index, and when doubling
        // Y, the one `newbit` higher.
        let dst = |i: usize| {
            // SAFETY: `h.buckets` is the new array of 2^B buckets of `t`,
            // and `i` is `oldbucket < newbit <= 2^B`, or, when doubling,
            // `oldbucket + newbit < 2 * newbit = 2^B`.
            let b = unsafe { bucket_at(t, h.buckets, i) };
            // SAFETY: 1. `b` is a bucket of `t`, which fits (point 4); 2.
            // slot 0.
            let k = unsafe { key32(b, 0) };
            // SAFETY: 1. `b` is a bucket of `t`; 2. slot 0; 3. `t` fits
            // (point 4).
            let e = unsafe { elem32(t, b, 0) };
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
            // SAFETY: evac_decision's point: `h` is growing to double size
            // (`Some` only when `needs_decisions`, point 3, which excludes
            // a same-size growth), `newbit` is its old bucket count, and
            // evac_decisions passes it only live keys of `t`; `b` is an old
            // bucket not yet evacuated (checked), whose chain holds at most
            // `out.len()` live entries (point 3).
            unsafe { evac_decisions(t, h, b, newbit, out) };
        }
        let mut n = 0usize;

        while !b.is_null() {
            for i in 0..BUCKET_CNT {
                // SAFETY: 1. `b` is a bucket of `t`: old bucket `oldbucket`
                // or an overflow bucket of its chain; 2. `i < 8`: the loop
                // bound.
                let top = unsafe { th(b, i) };
                if is_empty(top) {
                    // SAFETY: 1. `b` is a bucket (as above); 2. `i < 8`; 3.
                    // no other thread reads it: under a write (point 1).
                    unsafe { set_th(b, i, EVACUATED_EMPTY) };
                    continue;
                }
                if top < MIN_TOP_HASH {
                    throw("bad map state");
                }
                // SAFETY: 1. `b` is a bucket of `t`, which fits (point 4);
                // 2. `i < 8`.
                let k = unsafe { key32(b, i) };
                // SAFETY: 1. `b` is a bucket of `t`; 2. `i < 8`; 3. `t`
                // fits (point 4).
                let e = unsafe { elem32(t, b, i) };
                let mut use_y = 0usize;
                if let Some(d) = &pre {
                    use_y = decode_decision(d[n], top).0;
                } else if !h.same_size_grow() {
                    // The hash bit the doubled mask adds picks X or Y.
                    // SAFETY: 1. `k` is a key of `t`: the inline key of a
                    // filled slot (`top >= MIN_TOP_HASH`), 4 readable bytes
                    // (hashing only reads it, so it may lie in the bucket);
                    // 2. `t.key().size == 4` (point 4).
                    let hash = unsafe { t.hash32(k, h.hash0 as usize) };
                    if hash & newbit != 0 {
                        use_y = 1;
                    }
                }
                n += 1;

                // SAFETY: 1. `b` is a bucket; 2. `i < 8`; 3. under a write
                // (point 1).
                unsafe { set_th(b, i, EVACUATED_X + use_y as u8) }; // X + 1 is Y
                let d = &mut xy[use_y];

                if d.i == BUCKET_CNT {
                    // SAFETY: `d.b` is the last bucket of its chain: a
                    // destination chain in the new array is empty until its
                    // old bucket is evacuated (a write runs growth work on
                    // that old bucket before it touches the new one), and
                    // each new overflow bucket is hung off the last, `d.b`.
                    // Spare buckets were reserved (point 1), so it cannot fail.
                    d.b = unsafe { h.newoverflow(t, d.b) }.unwrap_or_else(|_| fatal("out of memory"));
                    d.i = 0;
                    // SAFETY: 1. `d.b` is a bucket of `t` (the new overflow
                    // bucket), which fits (point 4); 2. slot 0.
                    d.k = unsafe { key32(d.b, 0) };
                    // SAFETY: 1. `d.b` is a bucket of `t`; 2. slot 0; 3. `t`
                    // fits (point 4).
                    d.e = unsafe { elem32(t, d.b, 0) };
                }
                // SAFETY: 1. `d.b` is a bucket of `t` of the new array's
                // chains; 2. `d.i & 7 < 8` (masked like Go's); 3. under a
                // write (point 1).
                unsafe { set_th(d.b, d.i & (BUCKET_CNT - 1), top) };

                // From here `d.i < 8`, and `d.k`, `d.e` are key and elem
                // slot `d.i` of `d.b` (set together with `d.i`, advanced
                // together below).
                // The key: one 4-byte copy. (Go copies a 4-byte pointer with
                // a write barrier on 32-bit targets; there is no GC here.)
                let dk = d.k.cast::<u32>();
                // SAFETY: `read`: `k` is key slot `i` of `b`, 4 readable
                // bytes, 4-aligned (see `load32`), initialised (a filled
                // slot).
                let key = unsafe { k.cast::<u32>().read() };
                // SAFETY: `write`: `dk` is key slot `d.i` of `d.b`, 4
                // writable bytes, 4-aligned, under a write (point 1).
                unsafe { dk.write(key) };

                // SAFETY: `e` (elem slot `i` of `b`) and `d.e` (elem slot
                // `d.i` of `d.b`) are inline elem slots of `t` (point 4),
                // each valid for `t.elem().size` bytes.
                unsafe { memmove(d.e, e, t.elem().size) };
                d.i += 1;
                // After slot 7 these point past the slot arrays; they are
                // only used after the `d.i == 8` check replaces them.
                d.k = d.k.wrapping_add(KEY);
                d.e = d.e.wrapping_add(t.valuesize());
            }
            // SAFETY: `b` is a bucket of `t` (as above).
            b = unsafe { overflow(t, b) };
        }
        // With no iterator on the old array, zero the first old bucket's
        // data (keys, elems, overflow link), keeping its tophash marks.
        if h.flags() & OLD_ITERATOR == 0 && t.bucket_pointers() {
            // SAFETY: `h.oldbuckets` is still the old array (evacuation does
            // not replace it) and `oldbucket` indexes it (point 2).
            let first = unsafe { bucket_at(t, h.oldbuckets, oldbucket) };
            // Cutting the chain leaves its heap overflow buckets on
            // `extra.oldoverflow` until growth ends, as in `evacuate`.
            // SAFETY: `add`: `DATA_OFFSET` (8) is inside the bucket's
            // `t.bucketsize()` bytes, one allocation.
            let data = unsafe { first.add(DATA_OFFSET) };
            // SAFETY: `data` is valid for writes of the bucket's remaining
            // `t.bucketsize() - DATA_OFFSET` bytes, under a write (point 1);
            // no iterator walks the old array (`OLD_ITERATOR` is clear).
            unsafe { memclr(data, t.bucketsize() - DATA_OFFSET) };
        }
    }

    if oldbucket == h.nevacuate {
        // SAFETY: grow_work's points: 1. a live map of type `t`, still
        // growing (only this call ends a growth), under a write (point 1);
        // 2. reserved (point 1); it hangs no overflow bucket, so what is left
        // of the reserve is enough. `newbit` is `h.noldbuckets()`.
        unsafe { advance_evacuation_mark(h, t, newbit) };
    }
}
