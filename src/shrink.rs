//! Beyond Go: maps that give memory back.
//!
//! Go's maps never shrink (golang/go#20135; `maps.Shrink` was proposed in
//! #54454, see also #16070 and #23156): a map that once held a million
//! entries keeps its million-entry bucket array after `delete` or `clear`.
//! This module adds what Go lacks, without changing anything Go does:
//!
//! * [`mapshrink`] rebuilds a map at the smallest size that holds its entries
//!   (or a caller-given minimum capacity), releasing the old bucket array(s)
//!   and every overflow bucket.
//! * A per-map [`ShrinkPolicy`], off by default, shrinks automatically at the
//!   end of `mapdelete` / `mapclear`.
//!
//! # What a shrunk map is
//!
//! Exactly the map that `makemap(t, hint)` followed by `mapassign` of every
//! entry would build, with the map's own hash seed kept, where
//!
//! * `hint = max(count, min(min_capacity, capacity(B)))` — [`shrink_hint`]:
//!   a shrink never makes the bucket array larger than it is (like Rust's
//!   `shrink_to`), except when `count` itself needs more room than `B` gives
//!   (possible only in the middle of a same-size growth);
//! * the entries are inserted in **shrink order**: the chains of the current
//!   bucket array in bucket order (each chain front to back, slots 0..8),
//!   then, while the map is growing, the chains of the old buckets that are
//!   not evacuated yet, in the same order (the order `mapclear` walks live
//!   entries in).
//!
//! Bucket, slot, tophash, overflow chain (preallocated or heap), `noverflow`
//! and `nextOverflow` all match; `tests/shrink.rs` checks it with
//! [`crate::inspect::snapshot`]. What is kept rather than reset: `hash0` (so
//! the layout is a function of the entries; a fresh map would draw a new seed,
//! which nothing observable depends on) and `clearSeq` (a counter only
//! iterators read). `flags` become those of a fresh map (no iterator can be
//! live: see below), the overflow-bucket reserve is freed.
//!
//! Keys that are not equal to themselves (NaNs) have no reproducible hash: a
//! NaN entry keeps its tophash and goes where its bucket index sends it when
//! no hash is needed, and gets a fresh hash (as `mapassign` would give it)
//! when one is. Any of these placements is one a fresh map could have drawn.
//! Above B = 15 `noverflow` is a sampled counter (`incrnoverflow`), drawn
//! afresh during the rebuild as during a fresh fill.
//!
//! # How
//!
//! The rebuild never touches the old buckets: it copies every entry bitwise
//! (tophash, key slot, elem slot; for out-of-line keys and elems that is the
//! pointer: the block moves to the new slot, nothing is cloned or dropped)
//! into a fresh array, then frees the old array(s) with their overflow
//! chains. Which new bucket an entry goes to needs no hashing when the map
//! does not get bigger (bucket `i` of a 2^b array lands in bucket
//! `i & (2^new_b - 1)`), so no caller callback runs. When it does (the old
//! buckets of a doubling growth, or a map over its load factor), every hash is
//! computed into a scratch block *before* anything is written, so a hasher
//! that unwinds leaves the map untouched.
//!
//! Allocation failure at any point (scratch block, new array, a heap
//! overflow bucket) frees what the rebuild allocated and returns
//! [`MapError::AllocFailed`] with the map exactly as it was. While it runs, the
//! map is marked as being written (`hashWriting`), with Go's fatal checks.
//!
//! # Iterators
//!
//! A shrink while an iterator is live is refused with [`MapError::Busy`].
//! An iterator holds pointers into the bucket array it started on, a bucket
//! index and a slot offset in it, and relies on entries never moving within an
//! array and on growth moving them only along Go's X/Y evacuation (which
//! `mapiternext` knows how to follow through `checkBucket` and `mapaccessK`).
//! A shrink moves every entry to a bucket of a *smaller* array: an
//! evacuation in a direction the iterator logic does not know, which could
//! make it produce an entry twice or miss one. Making that sound would need an
//! incremental shrink with its own iterator rules; refusing is the simple
//! sound choice. The typed wrapper cannot hit it ([`crate::GoMap::shrink_to`]
//! takes `&mut self`, which no iterator can coexist with); the automatic
//! policy just skips the shrink (e.g. deletes inside `GoMap::range`).
//!
//! # Cost
//!
//! O(live entries + buckets), done at once (not incrementally); peak memory is
//! the old and the new arrays together. The numbers are in `docs/shrink.md`.

use core::ptr::{self, NonNull};
use core::sync::atomic::Ordering;

use crate::alloc::{self, Kind};
use crate::fatal::{CONCURRENT_WRITES, MapError, fatal, throw};
use crate::guards::OwnedBlock;
use crate::map::*;
use crate::maptype::{BUCKET_CNT, MapType};
use crate::scopeguard::{ScopeGuard, guard};

/// When a map shrinks by itself. Off unless set ([`set_shrink_policy`]):
/// maps follow Go and never shrink by default.
///
/// A shrink the policy asks for that fails (allocation failure) or is refused
/// (live iterators) is skipped; the map is as it was.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ShrinkPolicy {
    /// After `clear(m)`: shrink to room for `min_capacity` entries (freeing
    /// the bucket array altogether when that is 8 or fewer, like a fresh
    /// `make(map[k]v)`), unless the map already has that size.
    pub after_clear: bool,
    /// After a delete that leaves fewer entries than this percentage of the
    /// map's capacity (6.5 entries per bucket): shrink to room for twice
    /// the entries (and at least `min_capacity`), if that halves the bucket
    /// array at least. The shrunk map is then between a quarter and a half
    /// full, so it has to double before growing again and halve before
    /// shrinking again: alternating inserts and deletes cannot make it
    /// rebuild over and over. Because of that, percentages above 25 act as 25
    /// (from B = 2 on; 2 buckets hold 13 entries, 1 holds 8). `None` or
    /// `Some(0)`: deletes never shrink.
    pub below_fraction: Option<u8>,
    /// The policy never shrinks below room for this many entries.
    pub min_capacity: usize,
}

/// How many entries 2^b buckets hold before the map grows: 6.5 per bucket
/// (Go's load factor), and 8 for the single bucket of B = 0.
pub fn capacity(b: u8) -> usize {
    (LOAD_FACTOR_NUM * (bucket_shift(b) / LOAD_FACTOR_DEN)).max(BUCKET_CNT)
}

/// The B that `makemap(t, hint)` picks: the smallest whose buckets hold
/// `hint` entries under the load factor.
pub fn bucket_bits_for_hint(hint: usize) -> u8 {
    let hint = hint.min(isize::MAX as usize) as isize;
    let mut b = 0u8;
    while over_load_factor(hint, b) {
        b += 1;
    }
    b
}

/// The `makemap` hint a shrink of a map with `count` entries and `b` bucket
/// bits to `min_capacity` builds for: `max(count, min(min_capacity,
/// capacity(b)))`.
pub fn shrink_hint(count: usize, b: u8, min_capacity: usize) -> usize {
    count.max(min_capacity.min(capacity(b)))
}

/// Shrinks the map: rebuilds it as `makemap(t, hint)` plus an insert of
/// every entry, in shrink order, with the same hash seed (see the module
/// docs), where `hint` is [`shrink_hint`]`(count, B, min_capacity)`. The old
/// bucket arrays and every overflow bucket are freed. Always rebuilds (also
/// when the size does not change: that compacts the overflow chains and
/// drops tombstones). A nil map is left alone.
///
/// Errors, each leaving the map exactly as it was:
/// * [`MapError::Busy`]: an iterator is live on the map.
/// * [`MapError::AllocFailed`]: the new array, a heap overflow bucket or the
///   hash scratch block could not be allocated.
///
/// Fatal ("concurrent map writes") if another write is in progress.
///
/// # Safety
/// 1. `h` is null or a live map of type `t` (any descriptor with `t`'s
///    layout and hasher will do: no drop or clone hook runs);
/// 2. no other thread accesses the map during the call (Go allows none
///    during a write).
pub unsafe fn mapshrink(t: &MapType, h: *mut HMap, min_capacity: usize) -> Result<(), MapError> {
    // Go's concurrent-write check comes first, through a shared reference:
    // a write already in progress (the misuse it detects) may hold
    // references into the map, which an exclusive one would invalidate.
    // SAFETY: [`pointer::as_ref`]: `h` is null or a live map (point 1): an
    // aligned, initialised `HMap`, which no other thread writes (point 2).
    let Some(hr) = (unsafe { h.as_ref() }) else { return Ok(()) };
    if hr.flags() & HASH_WRITING != 0 {
        fatal(CONCURRENT_WRITES);
    }
    // SAFETY: `&mut *`: `h` is non-null (`as_ref` gave `Some`), a live,
    // aligned, initialised `HMap` (point 1); no other thread uses it (point
    // 2) and no write of this thread is in progress (the flag is clear), so
    // no other reference to it is in use while this one lives.
    let hm = unsafe { &mut *h };
    // SAFETY: [`shrink`]: 1. a live map of type `t` (point 1); 2. no other
    // thread accesses it (point 2).
    unsafe { shrink(t, hm, min_capacity) }?;
    // A shrink asked for gives the memory back, including what the map's
    // quarantine holds (`crate::quarantine`): like every write it runs
    // with no other thread in the map (point 2), and it is the host's
    // request for memory. (A shrink policy's shrinks, inside other writes,
    // leave the quarantine alone.)
    if let Some(q) = hm.quarantine() {
        // SAFETY: [`crate::quarantine::Quarantine::drain`]: 1. the queue
        // holds only blocks of the map's allocator; 2. no other thread
        // accesses the map (point 2), so none reads them.
        unsafe { q.drain(&hm.alloc) };
    }
    Ok(())
}

/// Sets (or with `None`, removes) a map's shrink policy.
///
/// # Safety
/// 1. `h` is null (a no-op) or a live map;
/// 2. no other thread accesses the map during the call.
pub unsafe fn set_shrink_policy(h: *mut HMap, policy: Option<ShrinkPolicy>) {
    // SAFETY: [`pointer::as_mut`]: `h` is null or a live map (point 1): an
    // aligned, initialised `HMap`, which no one else uses meanwhile (point
    // 2).
    if let Some(h) = unsafe { h.as_mut() } {
        h.shrink_policy = policy;
    }
}

/// A map's shrink policy (`None` for a nil map or no policy).
///
/// # Safety
/// 1. `h` is null or a live map;
/// 2. the map is not being written during the call.
pub unsafe fn shrink_policy(h: *const HMap) -> Option<ShrinkPolicy> {
    // SAFETY: [`pointer::as_ref`]: `h` is null or a live map (point 1): an
    // aligned, initialised `HMap`, not written meanwhile (point 2).
    unsafe { h.as_ref() }.and_then(|h| h.shrink_policy)
}

/// The policy hook at the end of `mapdelete` (called only when a policy is
/// set).
///
/// # Safety
/// 1. `h` is a live map of type `t`, just written by the calling delete
///    (whose write has ended);
/// 2. no other thread accesses the map during the call.
pub(crate) unsafe fn after_delete(t: &MapType, h: &mut HMap) {
    let Some(ShrinkPolicy { below_fraction: Some(pct), min_capacity, .. }) = h.shrink_policy else { return };
    if h.buckets.is_null() || h.count.saturating_mul(100) >= capacity(h.b).saturating_mul(pct as usize) {
        return;
    }
    let want = h.count.saturating_mul(2).max(min_capacity);
    if bucket_bits_for_hint(shrink_hint(h.count, h.b, want)) >= h.b {
        return;
    }
    // Skipped on failure or with live iterators: the map is unchanged.
    // SAFETY: [`shrink`]: 1. a live map of type `t` (point 1); 2. no other
    // thread accesses it (point 2).
    let _ = unsafe { shrink(t, h, want) };
}

/// The policy hook at the end of `mapclear` (called only when a policy is
/// set).
///
/// # Safety
/// 1. `h` is a live map of type `t`, just cleared by the calling `mapclear`
///    (whose write has ended);
/// 2. no other thread accesses the map during the call.
pub(crate) unsafe fn after_clear(t: &MapType, h: &mut HMap) {
    let Some(ShrinkPolicy { after_clear: true, min_capacity, .. }) = h.shrink_policy else { return };
    let b = bucket_bits_for_hint(shrink_hint(h.count, h.b, min_capacity));
    if b < h.b || (b == 0 && !h.buckets.is_null()) {
        // Skipped on failure or with live iterators: the map is unchanged.
        // SAFETY: [`shrink`]: 1. a live map of type `t` (point 1); 2. no
        // other thread accesses it (point 2).
        let _ = unsafe { shrink(t, h, min_capacity) };
    }
}

/// [`mapshrink`] on a non-null map.
///
/// # Safety
/// 1. `h` is a live map of type `t` (layout and hasher, as for
///    [`mapshrink`]);
/// 2. no other thread accesses the map during the call.
unsafe fn shrink(t: &MapType, h: &mut HMap, min_capacity: usize) -> Result<(), MapError> {
    if h.flags() & HASH_WRITING != 0 {
        fatal(CONCURRENT_WRITES);
    }
    if h.live_iters.load(Ordering::Acquire) != 0 {
        return Err(MapError::Busy);
    }
    let new_b = bucket_bits_for_hint(shrink_hint(h.count, h.b, min_capacity));
    let mut h = h.start_writing();
    // SAFETY: [`rebuild`]: 1. a live map of type `t` (point 1), under this
    // write (the guard; no other thread, point 2); 2. no registered
    // iterator (checked above; none can start: point 2).
    unsafe { rebuild(t, &mut h, new_b) }?;
    h.end_writing();
    Ok(())
}

/// Grows the map ahead of inserts (`GoMap::reserve`): rebuilds it, as
/// [`mapshrink`] does, into an array of `2^new_b` buckets, `new_b` above
/// its B: the map that `makemap(t, hint)` for a hint needing `new_b` plus
/// an insert of every entry would build, with the seed kept (an empty map
/// gets exactly `makemap`'s array). A growth in progress is completed by
/// the rebuild. Same errors as [`mapshrink`], each leaving the map as it was.
///
/// # Safety
/// 1. `h` is a live map of type `t` (layout and hasher, as for
///    [`mapshrink`]);
/// 2. no other thread accesses the map during the call;
/// 3. `new_b > h.b`, and `new_b` is one [`bucket_bits_for_hint`] returns.
pub(crate) unsafe fn grow_to(t: &MapType, h: &mut HMap, new_b: u8) -> Result<(), MapError> {
    debug_assert!(new_b > h.b);
    if h.flags() & HASH_WRITING != 0 {
        fatal(CONCURRENT_WRITES);
    }
    if h.live_iters.load(Ordering::Acquire) != 0 {
        return Err(MapError::Busy);
    }
    let mut h = h.start_writing();
    // SAFETY: [`rebuild`]: 1. a live map of type `t` (point 1), under this
    // write (the guard; no other thread, point 2); 2. no registered
    // iterator (checked above; none can start: point 2). A larger `new_b`
    // (point 3) makes every source `hashed`, which `rebuild` handles.
    unsafe { rebuild(t, &mut h, new_b) }?;
    h.end_writing();
    Ok(())
}

/// A bucket array whose live entries move into the new one.
#[derive(Clone, Copy)]
struct Source {
    /// The array.
    arr: *mut u8,
    /// Its main bucket count.
    n: usize,
    /// Skip main buckets marked evacuated (the old array of a growing map).
    old: bool,
    /// Whether the new bucket must come from the hash (the new array has
    /// more buckets than this one).
    hashed: bool,
}

/// Calls `f(index, bucket, slot)` for every live slot of `src`, in shrink
/// order; stops at the first error.
///
/// `f` gets, for each filled slot, the main bucket index `idx < src.n`, a
/// bucket `b` of `t` on that main bucket's chain, and the slot `i < 8`.
///
/// # Safety
/// 1. `src.arr` is an array of `src.n` main buckets of `t` of a live map of
///    type `t` (its current array; or, with `src.old`, its old array while
///    it grows);
/// 2. no one else writes the map during the call, and `f` does not change
///    the array's chains or tophashes.
#[inline(always)]
unsafe fn for_each_entry(
    t: &MapType,
    src: &Source,
    mut f: impl FnMut(usize, *mut u8, usize) -> Result<(), MapError>,
) -> Result<(), MapError> {
    for idx in 0..src.n {
        // SAFETY: [`bucket_at`]: `src.arr` holds `src.n` buckets of `t`
        // (point 1) and `idx < src.n` (the range).
        let mut b = unsafe { bucket_at(t, src.arr, idx) };
        // SAFETY: [`evacuated`], as [`th`]: `b` is a bucket of `t` (just
        // above), not written meanwhile (point 2); slot 0 < 8.
        if src.old && unsafe { evacuated(b) } {
            continue;
        }
        while !b.is_null() {
            for i in 0..BUCKET_CNT {
                // SAFETY: [`th`]: `b` is a non-null bucket of `t` on the
                // chain (the main bucket, then overflow links of a live
                // map, point 1), not written meanwhile (point 2); `i < 8`.
                if !is_empty(unsafe { th(b, i) }) {
                    f(idx, b, i)?;
                }
            }
            // SAFETY: [`overflow`]: `b` is a bucket of `t` (as above), its
            // link unchanged by `f` and by anyone else (point 2).
            b = unsafe { overflow(t, b) };
        }
    }
    Ok(())
}

/// Where the next entry for the last destination bucket goes (saves walking
/// the chain for consecutive entries bound for the same bucket).
struct Cursor {
    /// Destination main bucket index, or `usize::MAX` for none yet.
    dst: usize,
    /// Last bucket of its chain.
    b: *mut u8,
    /// First free slot of `b` (8: full).
    pos: usize,
}

/// Appends one entry to the chain of main bucket `dst` of the staging map
/// `s`, exactly where `mapassign` would put a new key in a map that has
/// only seen inserts: the first free slot, or slot 0 of a new overflow
/// bucket when the chain is full.
///
/// # Safety
/// 1. `s` is the private staging map, built for type `t` (no one else
///    reaches it), with a bucket array of `2^s.b` buckets;
/// 2. `dst < 2^s.b`;
/// 3. `cur` is fresh (`dst == usize::MAX`) or was last updated by `append`
///    on `s` (then `cur.b` ends the chain of main bucket `cur.dst` and
///    `cur.pos <= 8` is its first free slot);
/// 4. `k` and `e` are valid for reads of `t.keysize()` and `t.valuesize()`
///    bytes (a key slot and an elem slot of `t`), outside `s`.
#[inline(always)]
unsafe fn append(
    t: &MapType,
    s: &mut HMap,
    cur: &mut Cursor,
    dst: usize,
    top: u8,
    k: *const u8,
    e: *const u8,
) -> Result<(), MapError> {
    if cur.dst != dst {
        // SAFETY: [`bucket_at`]: `s.buckets` holds `2^s.b` buckets of `t`
        // (point 1) and `dst < 2^s.b` (point 2).
        let mut b = unsafe { bucket_at(t, s.buckets, dst) };
        // SAFETY: [`overflow`]: `b` is a bucket of `t` of the staging map's
        // chain (the main bucket, then non-null links), private (point 1).
        while !unsafe { overflow(t, b) }.is_null() {
            // SAFETY: [`overflow`]: as in the condition, the same `b`.
            b = unsafe { overflow(t, b) };
        }
        let mut pos = 0;
        // SAFETY: [`th`]: `b` is a bucket of `t` of the staging map (point
        // 1); `pos < 8` (checked first). Filled slots come first (inserts
        // only), so this finds the first free one.
        while pos < BUCKET_CNT && !is_empty(unsafe { th(b, pos) }) {
            pos += 1;
        }
        *cur = Cursor { dst, b, pos };
    }
    if cur.pos == BUCKET_CNT {
        // The current bucket and all the overflow buckets connected to it
        // are full, allocate a new one.
        // SAFETY: [`HMap::newoverflow`]: `cur.b` is the last bucket of the
        // chain of main bucket `dst` of `s`: found just above, or left so
        // by the previous `append` (point 3).
        cur.b = unsafe { s.newoverflow(t, cur.b) }?;
        cur.pos = 0;
    }
    // `cur.b` is a bucket of `t` of `s` and `cur.pos < 8` from here: a
    // `cur.pos` of 8 was replaced by 0 just above.
    // SAFETY: [`key_at`]: `cur.b` is a bucket of `t`, `cur.pos < 8`.
    let kd = unsafe { key_at(t, cur.b, cur.pos) };
    // SAFETY: [`ptr::copy_nonoverlapping`]: `k` is valid for reads of
    // `t.keysize()` bytes (point 4); `kd` for writes of as many (a key slot
    // inside a bucket of `s`); `u8` needs no alignment; disjoint, as `k` is
    // outside `s` (point 4).
    unsafe { ptr::copy_nonoverlapping(k, kd, t.keysize()) };
    // SAFETY: [`elem_at`]: `cur.b` is a bucket of `t`, `cur.pos < 8`.
    let ed = unsafe { elem_at(t, cur.b, cur.pos) };
    // SAFETY: [`ptr::copy_nonoverlapping`]: `e` is valid for reads of
    // `t.valuesize()` bytes (point 4); `ed` for writes of as many (an elem
    // slot inside a bucket of `s`); disjoint, as `e` is outside `s`.
    unsafe { ptr::copy_nonoverlapping(e, ed, t.valuesize()) };
    // SAFETY: [`set_th`]: `cur.b` is a bucket of `t`, `cur.pos < 8`; no
    // other thread reads it: `s` is private (point 1).
    unsafe { set_th(cur.b, cur.pos, top) };
    cur.pos += 1;
    s.count += 1;
    Ok(())
}

/// The rebuild proper (see the module docs). On error nothing of `h` has
/// changed and everything allocated here is freed.
///
/// # Safety
/// 1. `h` is a live map of type `t` (layout and hasher), under a write;
/// 2. no registered iterator of the map is live.
unsafe fn rebuild(t: &MapType, h: &mut HMap, new_b: u8) -> Result<(), MapError> {
    let newsize = bucket_shift(new_b);
    let cur = Source { arr: h.buckets, n: bucket_shift(h.b), old: false, hashed: h.b < new_b };
    let sources = [
        (!h.buckets.is_null()).then_some(cur),
        h.growing().then(|| {
            let n = h.noldbuckets();
            Source { arr: h.oldbuckets, n, old: true, hashed: n < newsize }
        }),
    ];
    let sources = sources.iter().flatten();

    // 1. Hashes, where the new bucket index needs more bits than the old
    //    one gives: all of them before anything is written.
    let mut nhash = 0usize;
    for src in sources.clone().filter(|s| s.hashed) {
        // SAFETY: [`for_each_entry`]: 1. `src` is the map's current array
        // of `2^B` buckets, or its old array of `noldbuckets()` while it
        // grows, with `old` set (point 1); 2. under a write (point 1), and
        // `f` only counts.
        let _ = unsafe {
            for_each_entry(t, src, |_, _, _| {
                nhash += 1;
                Ok(())
            })
        };
    }
    // The hashes' block, freed by its guard on every exit (also on unwind
    // from a hasher).
    let mut scratch = None;
    if nhash > 0 {
        // SAFETY: [`OwnedBlock::alloc`]: 1. `h.alloc` is the allocator of a
        // live map (point 1), a valid allocator. (`nhash <= count`, so the
        // size does not overflow.)
        let p = scratch.insert(unsafe { OwnedBlock::alloc(&h.alloc, nhash * size_of::<usize>(), Kind::Plain) }?);
        let hashes = p.as_ptr().cast::<usize>();
        let mut j = 0;
        for src in sources.clone().filter(|s| s.hashed) {
            let hash_entry = |_: usize, b: *mut u8, i: usize| {
                // SAFETY: [`pointer::add`]: `j < nhash`: this walk visits
                // the entries the count visited, in the same order (the map
                // has not changed), so the result stays inside the block of
                // `nhash` usizes.
                let slot = unsafe { hashes.add(j) };
                // SAFETY: [`key_of`]: `b` is a bucket of `t`, `i < 8`, and
                // slot `i` is filled ([`for_each_entry`]), so an indirect key
                // slot holds its key block's address.
                let k = unsafe { key_of(t, b, i) };
                // SAFETY: [`MapType::hash`]: 1. `k` is the live key of a
                // filled slot: a key of `t`.
                let hash = unsafe { t.hash(k, h.hash0 as usize) };
                // SAFETY: [`pointer::write`]: `slot` is inside the scratch
                // block (above), valid for writes, and aligned for `usize`
                // (payloads are 8-aligned, and `j` whole usizes in).
                unsafe { slot.write(hash) };
                j += 1;
                Ok(())
            };
            // SAFETY: [`for_each_entry`]: 1. as for the count; 2. under a
            // write, and `f` writes only the scratch block. (A hasher that
            // wrote the map would be a write during a write: Go's check.)
            let _ = unsafe { for_each_entry(t, src, hash_entry) };
        }
    }

    // 2. The new map, as makemap leaves it (B = 0 maps get their single
    //    bucket from the first insert, as in mapassign). Until the commit
    //    it is a staging map: the map still owns every entry (the copies in
    //    `s` are bitwise duplicates), so if the rebuild stops early (an
    //    overflow bucket that cannot be allocated) its guard frees the new
    //    array and the overflow buckets it took, nothing else.
    let mut s = HMap::new(h.alloc);
    s.b = new_b;
    s.hash0 = h.hash0;
    let mut s = guard(s, |s| {
        if let Some(arr) = NonNull::new(s.buckets) {
            // SAFETY: [`HMap::retire`]: 1. the staging array is a live block
            // `make_bucket_array` allocated with `s.alloc` (= `h.alloc`)
            // for `t`, on no list; 2. published nowhere, so nothing
            // references it (and `s` has no iterators: retire frees it
            // now); 3. `s` is private to this call.
            unsafe { s.retire(t, arr) };
        }
        // SAFETY: [`HMap::retire_overflow`]: 1. `s.extra.overflow` is null
        // or the `push_retired` list of the live heap overflow buckets
        // `newoverflow` took for `s`, which is being dropped; 2. their
        // array was just freed, and nothing else references them; 3. `s`
        // is private.
        unsafe { s.retire_overflow(t, s.extra.overflow) };
    });
    if h.count > 0 || new_b > 0 {
        // SAFETY: [`make_bucket_array`]: `dirtyalloc` is null (a fresh
        // array for `t`).
        let (arr, next_overflow) =
            unsafe { make_bucket_array(t, &h.alloc, new_b, ptr::null_mut()) }.ok_or(MapError::AllocFailed)?;
        s.buckets = arr;
        s.extra.next_overflow = next_overflow;
    }

    // 3. Move every entry, bitwise, in shrink order.
    if h.count > 0 {
        let hashes = scratch.as_ref().map_or(ptr::null(), |p| p.as_ptr().cast::<usize>().cast_const());
        let mut j = 0;
        let mut cursor = Cursor { dst: usize::MAX, b: ptr::null_mut(), pos: 0 };
        let mask = bucket_mask(new_b);
        for src in sources {
            let move_entry = |idx: usize, b: *mut u8, i: usize| {
                let (dst, top) = if src.hashed {
                    // SAFETY: [`pointer::add`]: a hashed source means
                    // `nhash > 0`, so `hashes` is the scratch block;
                    // `j < nhash`: this walk visits the hashed entries
                    // the walk that filled the hashes did, in the same
                    // order (`h` has not changed since).
                    let slot = unsafe { hashes.add(j) };
                    // SAFETY: [`pointer::read`]: inside the block, 8-aligned
                    // (as for the write), initialised by that walk.
                    let hash = unsafe { slot.read() };
                    j += 1;
                    (hash & mask, tophash(hash))
                } else {
                    // The low bits of the old index are the low bits
                    // of the hash; the tophash is the stored one.
                    // SAFETY: [`th`]: `b` is a bucket of `t`, `i < 8`
                    // (for_each_entry).
                    (idx & mask, unsafe { th(b, i) })
                };
                // SAFETY: [`key_at`]: `b` is a bucket of `t`, `i < 8`.
                let k = unsafe { key_at(t, b, i) };
                // SAFETY: [`elem_at`]: as for `key_at`.
                let e = unsafe { elem_at(t, b, i) };
                // SAFETY: [`append`]: 1. `s` is the private staging map
                // for `t`, and its array was made above (`h.count >
                // 0`); 2. `dst` is masked by `bucket_mask(s.b)`; 3.
                // `cursor` starts fresh and only `append` updates it;
                // 4. `k` and `e` are the slots of a filled slot of `h`'s
                // array, outside `s`.
                unsafe { append(t, &mut s, &mut cursor, dst, top, k, e) }
            };
            // SAFETY: [`for_each_entry`]: 1. as for the count; 2. under a
            // write (point 1), and `f` writes only the staging map `s`.
            unsafe { for_each_entry(t, src, move_entry) }?;
        }
        if s.count != h.count {
            throw("bad map state");
        }
    }
    let s = ScopeGuard::into_inner(s);

    // 4. Commit: the new array replaces the old ones, which are freed with
    //    their overflow chains (the entries they still show are now owned by
    //    the new slots: nothing is dropped).
    let (old_cur, old_old) = (h.buckets, h.oldbuckets);
    let (old_ovf, old_oldovf) = (h.extra.overflow, h.extra.oldoverflow);
    h.b = s.b;
    h.buckets = s.buckets;
    h.oldbuckets = ptr::null_mut();
    h.nevacuate = 0;
    h.noverflow = s.noverflow;
    h.extra =
        MapExtra { overflow: s.extra.overflow, oldoverflow: ptr::null_mut(), next_overflow: s.extra.next_overflow };
    // A fresh map's flags: no iterator is live, no growth is under way.
    // (gomap's EXCLUSIVE_WRITES bit is the map's, not the array's: kept.)
    let keep = h.flags() & crate::guards::EXCLUSIVE_WRITES;
    h.flags.store(HASH_WRITING | keep, Ordering::Relaxed);
    // gomap: a new array, a new generation.
    h.generation += 1;
    h.cur_first = h.generation;
    h.ovf_epoch = h.generation;
    for p in [old_old, old_cur] {
        if let Some(p) = NonNull::new(p) {
            // SAFETY: [`HMap::retire`]: 1. a bucket array of this map: a
            // live block `make_bucket_array` allocated with `h.alloc` for
            // `t`, on no list; 2. the map no longer references it (replaced
            // above), and with no registered iterator (point 2) it is
            // freed now; 3. under a write (point 1).
            unsafe { h.retire(t, p) };
        }
    }
    // SAFETY: [`HMap::retire_overflow`]: 1. `old_ovf` is null or the
    // `push_retired` list of the old current array's live heap overflow
    // buckets, taken out of the map (`h.extra` replaced above); 2. their
    // array was just released, so the map no longer references them; 3.
    // under a write (point 1).
    unsafe { h.retire_overflow(t, old_ovf) };
    // SAFETY: [`HMap::retire_overflow`]: 1.-3. as above, for the old
    // array's list `old_oldovf`.
    unsafe { h.retire_overflow(t, old_oldovf) };
    // SAFETY: [`HMap::release_oldstorage`]: 1. a live map of type `t`
    // (point 1); 2. the old array has left the map (`oldbuckets` is null
    // now); 3. under a write (point 1).
    unsafe { h.release_oldstorage(t) };
    // The overflow reserve: a fresh map has none.
    // SAFETY: [`alloc::pop_retired`]: 1. `h.spare` is null or heads the
    // map's spare list, built only by `push_retired` of live blocks.
    while let Some(p) = unsafe { alloc::pop_retired(&mut h.spare) } {
        // SAFETY: [`alloc::free_block`]: 1. a spare bucket, a live block
        // allocated with `h.alloc`, just unlinked; 2. nothing uses it
        // afterwards: spares are referenced only by that list.
        unsafe { alloc::free_block(&h.alloc, p) };
    }
    h.nspare = 0;
    Ok(())
}
