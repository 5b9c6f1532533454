//! Read-only introspection and the invariant checker.
//!
//! [`snapshot`] copies out everything map.go keeps in an `hmap` and its
//! buckets (header fields, every chain of the current and old arrays, tophash
//! bytes, raw key/elem slot bytes, where each overflow bucket came from). The
//! tests, the parity replay and the inspector read maps only through it.
//!
//! [`check_invariants`] plays the role of Go's `MapTombstoneCheck`
//! (export_test.go) and more; tests call it after every operation.
//!
//! Every function here only reads: its map must be live and not under a
//! write while it runs. Stale slots (emptied, or evacuated while an old
//! iterator lived) are read too: their bytes stay initialised (arrays are
//! allocated zeroed), and an out-of-line slot holds null or a pointer to a
//! block the map keeps allocated (see `docs/memory.md`).

use core::ptr::NonNull;

use crate::alloc;
use crate::map::*;
use crate::maptype::{BUCKET_CNT, MapType};

/// Header fields of an `hmap`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    /// `count`
    pub count: usize,
    /// `flags`
    pub flags: u8,
    /// `B`
    pub b: u8,
    /// `noverflow`
    pub noverflow: u16,
    /// `hash0`
    pub hash0: u32,
    /// `nevacuate`
    pub nevacuate: usize,
    /// `clearSeq`
    pub clear_seq: u64,
    /// Whether `oldbuckets` is non-null.
    pub growing: bool,
    /// Index (within the bucket array) of `extra.nextOverflow`, if any.
    pub next_overflow: Option<usize>,
    /// Total buckets allocated in the current array (2^B + preallocated).
    pub array_buckets: usize,
}

/// Where a bucket of a chain lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum At {
    /// A main bucket (index < 2^B) of its array.
    Main(usize),
    /// A preallocated overflow bucket at this index of the array.
    Pre(usize),
    /// A separately allocated overflow bucket.
    Heap,
}

/// One bucket's contents.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bucket {
    /// Where it lives.
    pub at: At,
    /// `tophash[8]`
    pub tophash: [u8; BUCKET_CNT],
    /// Key slot values (for out-of-line keys: the pointee, or `None` if the
    /// slot pointer is null). Raw bytes, stale bytes of empty slots included.
    pub keys: Vec<Option<Vec<u8>>>,
    /// Elem slot values, as `keys`.
    pub elems: Vec<Option<Vec<u8>>>,
}

/// A full copy of a map's state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Snapshot {
    /// Header fields.
    pub header: Header,
    /// One chain per main bucket of the current array.
    pub buckets: Vec<Vec<Bucket>>,
    /// One chain per main bucket of the old array, while growing.
    pub oldbuckets: Option<Vec<Vec<Bucket>>>,
}

/// Reads the header of a live map.
///
/// # Safety
/// * `h` is a live map of type `t`, not under a write during the call.
pub unsafe fn header(t: &MapType, h: NonNull<HMap>) -> Header {
    // SAFETY: a live map (point 1): aligned, readable, not written while
    // this reference lives.
    let h = unsafe { h.as_ref() };
    let array_buckets = match NonNull::new(h.buckets) {
        None => 0,
        // SAFETY: a live map's non-null current array is the payload of a
        // live block.
        Some(arr) => (unsafe { alloc::block_size(arr) }) / t.bucketsize(),
    };
    let next_overflow =
        (!h.extra.next_overflow.is_null()).then(|| (h.extra.next_overflow.addr() - h.buckets.addr()) / t.bucketsize());
    Header {
        count: h.count,
        // Go's flags only (gomap's EXCLUSIVE_WRITES has no Go twin).
        flags: h.flags() & !crate::guards::EXCLUSIVE_WRITES,
        b: h.b,
        noverflow: h.noverflow,
        hash0: h.hash0,
        nevacuate: h.nevacuate,
        clear_seq: h.clear_seq,
        growing: h.growing(),
        next_overflow,
        array_buckets,
    }
}

/// Reads one slot value (following an indirection).
///
/// # Safety
/// * `slot` is a key (elem) slot of a bucket of a live map of type `t`,
///   not under a write, and `indirect`, `size` are `t`'s indirection and
///   key (elem) size;
/// * the slot's bytes are initialised: inline, `size` of them; indirect, a
///   null or a pointer to a live block of at least `size` initialised
///   bytes (see the module docs).
unsafe fn slot_value(slot: *mut u8, indirect: bool, size: usize) -> Option<Vec<u8>> {
    let p = if indirect {
        // SAFETY: an indirect slot is 8-aligned pointer storage (point 1).
        let p = unsafe { deref_slot(slot) };
        if p.is_null() {
            return None;
        }
        p
    } else {
        slot
    };
    // SAFETY: `p` (the slot, or the block it points to) is valid for reads
    // of `size` initialised bytes (points 1, 2), not written meanwhile.
    Some(unsafe { core::slice::from_raw_parts(p, size) }.to_vec())
}

/// Reads every chain of an array with `n` main buckets.
///
/// # Safety
/// * `arr` is a bucket array (current or old) of a live map of type `t`,
///   not under a write during the call;
/// * `n` is at most its number of main buckets.
unsafe fn read_array(t: &MapType, arr: NonNull<u8>, n: usize) -> Vec<Vec<Bucket>> {
    // SAFETY: a live map's bucket array is the payload of a live block
    // (point 1).
    let size = unsafe { alloc::block_size(arr) };
    let arr = arr.as_ptr();
    let lo = arr.addr();
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let mut chain = Vec::new();
        // SAFETY: `i < n`, at most the array's bucket count (point 2).
        let mut b = unsafe { bucket_at(t, arr, i) };
        let mut first = true;
        while !b.is_null() {
            let at = if first {
                At::Main(i)
            } else if (lo..lo + size).contains(&b.addr()) {
                At::Pre((b.addr() - lo) / t.bucketsize())
            } else {
                At::Heap
            };
            first = false;
            let mut tophash = [0u8; BUCKET_CNT];
            let mut keys = Vec::with_capacity(BUCKET_CNT);
            let mut elems = Vec::with_capacity(BUCKET_CNT);
            for (j, th_j) in tophash.iter_mut().enumerate() {
                // `b` is a bucket of `t` on a chain of the array (point 1),
                // `j < BUCKET_CNT`.
                // SAFETY: `th`'s points: a bucket, `j < 8`.
                *th_j = unsafe { th(b, j) };
                // SAFETY: `key_at`'s points: a bucket of `t`, `j < 8`.
                let ks = unsafe { key_at(t, b, j) };
                // SAFETY: 1. key slot `j` of a bucket of the live map, with
                // `t`'s indirection and key size; 2. its bytes are
                // initialised (module docs).
                keys.push(unsafe { slot_value(ks, t.indirect_key(), t.key().size) });
                // SAFETY: `elem_at`'s points: a bucket of `t`, `j < 8`.
                let es = unsafe { elem_at(t, b, j) };
                // SAFETY: 1. elem slot `j` of that bucket, with `t`'s
                // indirection and elem size; 2. initialised (module docs).
                elems.push(unsafe { slot_value(es, t.indirect_elem(), t.elem().size) });
            }
            chain.push(Bucket { at, tophash, keys, elems });
            // SAFETY: `b` is a bucket of `t` (`overflow`'s point).
            b = unsafe { overflow(t, b) };
        }
        out.push(chain);
    }
    out
}

/// Copies out a map's whole state.
///
/// # Safety
/// * `h` is a live map of type `t`, not under a write during the call.
pub unsafe fn snapshot(t: &MapType, h: NonNull<HMap>) -> Snapshot {
    // SAFETY: `h` is a live map of type `t`, not under a write (point 1).
    let header = unsafe { header(t, h) };
    // SAFETY: a live map (point 1): aligned, readable, not written while
    // this reference lives.
    let hr = unsafe { h.as_ref() };
    let buckets = match NonNull::new(hr.buckets) {
        None => Vec::new(),
        // SAFETY: 1. the current array of a live map of type `t`, not under
        // a write (point 1); 2. it has 2^B main buckets.
        Some(arr) => unsafe { read_array(t, arr, bucket_shift(hr.b)) },
    };
    let oldbuckets = NonNull::new(hr.oldbuckets).map(|old| {
        // SAFETY: 1. the old array of a live map of type `t`, not under a
        // write (point 1); 2. it has `noldbuckets()` main buckets.
        unsafe { read_array(t, old, hr.noldbuckets()) }
    });
    Snapshot { header, buckets, oldbuckets }
}

/// One of a map's two bucket arrays.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Array {
    /// `buckets`.
    Current,
    /// `oldbuckets` (empty unless growing).
    Old,
}

/// The string each key slot of an array points to, for a map whose keys are
/// [`GoString`](crate::alg::GoString) headers: one entry per chain, bucket
/// and slot, `None` where the slot's pointer is null. Stale slots are read
/// too (the snapshot's raw key bytes tell which ones are filled).
///
/// # Safety
/// * `h` is a live map of type `t`, not under a write during the call.
/// * `t`'s keys are stored inline as `GoString` headers, and every non-null
///   header in a slot of the array points to readable bytes of its length.
pub unsafe fn string_keys(t: &MapType, h: NonNull<HMap>, which: Array) -> Vec<Vec<Vec<Option<Vec<u8>>>>> {
    // SAFETY: a live map (point 1): aligned, readable, not written while
    // this reference lives.
    let hr = unsafe { h.as_ref() };
    let (arr, n) = match which {
        Array::Current if !hr.buckets.is_null() => (hr.buckets, bucket_shift(hr.b)),
        Array::Old if hr.growing() => (hr.oldbuckets, hr.noldbuckets()),
        _ => return Vec::new(),
    };
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let mut chain = Vec::new();
        // SAFETY: i < n, the array's main bucket count.
        let mut b = unsafe { bucket_at(t, arr, i) };
        while !b.is_null() {
            let mut slots = Vec::with_capacity(BUCKET_CNT);
            for j in 0..BUCKET_CNT {
                // SAFETY: `key_at`'s points: `b` is a bucket of `t` on a
                // chain of the array, `j < BUCKET_CNT`.
                let ks = unsafe { key_at(t, b, j) };
                // SAFETY: an inline key slot of `t` holds a `GoString`
                // header: 16 readable bytes (point 2); unaligned load.
                let gs = unsafe { ks.cast::<crate::alg::GoString>().read_unaligned() };
                slots.push(if gs.ptr.is_null() {
                    None
                } else {
                    // SAFETY: a non-null header points to readable bytes
                    // (caller point 2).
                    Some(unsafe { gs.as_bytes() }.to_vec())
                });
            }
            chain.push(slots);
            // SAFETY: `b` is a bucket of `t` (`overflow`'s point).
            b = unsafe { overflow(t, b) };
        }
        out.push(chain);
    }
    out
}

/// Reports whether `p` points into a bucket (main or overflow) of the old
/// array of a growing map.
///
/// # Safety
/// * `h` is a live map of type `t`, not under a write during the call.
pub unsafe fn in_old_array(t: &MapType, h: NonNull<HMap>, p: *const u8) -> bool {
    // SAFETY: a live map (point 1): aligned, readable, not written while
    // this reference lives.
    let hr = unsafe { h.as_ref() };
    if !hr.growing() {
        return false;
    }
    let bs = t.bucketsize();
    for i in 0..hr.noldbuckets() {
        // SAFETY: i < noldbuckets(), the old array's main bucket count.
        let mut b = unsafe { bucket_at(t, hr.oldbuckets, i) };
        while !b.is_null() {
            if (b.addr()..b.addr() + bs).contains(&p.addr()) {
                return true;
            }
            // SAFETY: `b` is a bucket of `t` on an old chain (`overflow`'s
            // point).
            b = unsafe { overflow(t, b) };
        }
    }
    false
}

/// Which bucket array an iterator walks, relative to its map now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IterArray {
    /// The map's current array (`it.buckets == h.buckets`).
    Current,
    /// The map's old array during a growth (`it.buckets == h.oldbuckets`).
    Old,
    /// Neither: an array the map has since retired (or none).
    Other,
}

/// The `hiter` fields map.go keeps (map_noswiss.go:164), except the
/// pointers, which become [`IterArray`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IterFields {
    /// Whether `it.h` is set (false after `mapiterinit` on an empty map).
    pub has_map: bool,
    /// `startBucket`
    pub start_bucket: usize,
    /// `offset`
    pub offset: u8,
    /// `B` at `mapiterinit` time.
    pub b: u8,
    /// `bucket`: the next bucket index to visit.
    pub bucket: usize,
    /// `i`: the next slot to look at.
    pub i: u8,
    /// `wrapped`
    pub wrapped: bool,
    /// `checkBucket`, `None` for the `noCheck` sentinel.
    pub check_bucket: Option<usize>,
    /// `clearSeq` at `mapiterinit` time.
    pub clear_seq: u64,
    /// Where `it.buckets` points.
    pub array: IterArray,
}

/// Copies out an iterator's fields.
///
/// # Safety
/// * `it.h` is null or a live map, not under a write during the call.
pub unsafe fn iter_fields(it: &HIter) -> IterFields {
    // SAFETY: `it.h` is null or a live map (point 1): aligned, readable, not
    // written while this reference lives.
    let array = match unsafe { it.h.as_ref() } {
        Some(h) if !it.buckets.is_null() && it.buckets == h.buckets => IterArray::Current,
        Some(h) if !it.buckets.is_null() && it.buckets == h.oldbuckets => IterArray::Old,
        _ => IterArray::Other,
    };
    IterFields {
        has_map: !it.h.is_null(),
        start_bucket: it.start_bucket,
        offset: it.offset,
        b: it.b,
        bucket: it.bucket,
        i: it.i,
        wrapped: it.wrapped,
        check_bucket: (it.check_bucket != NO_CHECK).then_some(it.check_bucket),
        clear_seq: it.clear_seq,
        array,
    }
}

/// What a map keeps allocated beyond what it references (gomap only, see
/// docs/memory.md): block counts and payload bytes of its two retire lists.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Retained {
    /// Blocks on the retire list, waiting for the last live iterator.
    pub blocks: usize,
    /// Their payload bytes.
    pub bytes: usize,
    /// Out-of-line keys/elems of removed entries kept while stale slots of
    /// the old array may point to them (until growth ends).
    pub old_blocks: usize,
    /// Their payload bytes.
    pub old_bytes: usize,
}

/// Counts what `h` keeps on its retire lists.
///
/// # Safety
/// * `h` is a live map, not under a write during the call.
pub unsafe fn retained(h: NonNull<HMap>) -> Retained {
    // SAFETY: a live map (point 1): aligned, readable, not written while
    // this reference lives.
    let hr = unsafe { h.as_ref() };
    let sum = |head: *mut alloc::Header| {
        // SAFETY: `head` is one of the map's retire lists: live blocks built
        // by `push_retired`, unchanged while no write runs (point 1).
        let blocks = unsafe { list_blocks(head) };
        // SAFETY: each is the payload of a live block of that list.
        let bytes = blocks.iter().map(|&p| unsafe { alloc::block_size(p) }).sum();
        (blocks.len(), bytes)
    };
    let (mut blocks, mut bytes) = sum(hr.retired.load(core::sync::atomic::Ordering::Acquire));
    let count = |p| {
        blocks += 1;
        // SAFETY: the payload of a live block the map keeps.
        bytes += unsafe { alloc::block_size(p) };
    };
    // SAFETY: [`HMap::for_each_kept`]: 1. a live map, not under a write
    // (point 1); `count` only counts.
    unsafe { hr.for_each_kept(count) };
    let (old_blocks, old_bytes) = sum(hr.oldstorage.load(core::sync::atomic::Ordering::Relaxed));
    let (ok_blocks, ok_bytes) = sum(hr.oldkeys.load(core::sync::atomic::Ordering::Relaxed));
    Retained { blocks, bytes, old_blocks: old_blocks + ok_blocks, old_bytes: old_bytes + ok_bytes }
}

/// Checks everything that must hold between operations; returns the first
/// violation found. Mirrors Go's `MapTombstoneCheck` (export_test.go) and
/// adds: counts match the live slots, no filled slot carries a marker, keys
/// sit in the bucket their hash selects, old buckets below `nevacuate` are
/// evacuated, no write flag is left set, and the overflow count is exact
/// while B < 16.
///
/// # Safety
/// * `h` is a live map of type `t`, not under a write during the call.
pub unsafe fn check_invariants(t: &MapType, h: NonNull<HMap>) -> Result<(), String> {
    // SAFETY: `h` is a live map of type `t`, not under a write (point 1).
    let s = unsafe { snapshot(t, h) };
    // SAFETY: a live map (point 1): aligned, readable, not written while
    // this reference lives.
    let hr = unsafe { h.as_ref() };
    let hd = &s.header;
    if hd.flags & HASH_WRITING != 0 {
        return Err("hashWriting left set".into());
    }
    if !hd.growing && hd.flags & SAME_SIZE_GROW != 0 {
        return Err("sameSizeGrow set while not growing".into());
    }
    let check_chain = |chain: &[Bucket], evacuated_ok: bool| -> Result<usize, String> {
        // tombstones: after an emptyRest only emptyRest may follow.
        let mut live = 0;
        let mut rest = false;
        for (bi, b) in chain.iter().enumerate() {
            for (i, &x) in b.tophash.iter().enumerate() {
                if rest && x != EMPTY_REST && !(evacuated_ok && x == EVACUATED_EMPTY) {
                    return Err(format!("slot {bi}/{i} = {x} after emptyRest"));
                }
                if x == EMPTY_REST {
                    rest = true;
                }
                if !evacuated_ok && (EVACUATED_X..MIN_TOP_HASH).contains(&x) {
                    return Err(format!("evacuation marker {x} in a live bucket at {bi}/{i}"));
                }
                if x >= MIN_TOP_HASH {
                    live += 1;
                }
            }
        }
        // a slot followed (in chain order) only by empty slots must be
        // emptyRest, not emptyOne
        let flat: Vec<u8> = chain.iter().flat_map(|b| b.tophash).collect();
        if !evacuated_ok {
            if let Some(last) = flat.iter().rposition(|&x| !is_empty(x)) {
                if flat[last + 1..].contains(&EMPTY_ONE) {
                    return Err(format!("emptyOne where emptyRest belongs: {flat:?}"));
                }
            } else if flat.contains(&EMPTY_ONE) {
                return Err(format!("emptyOne in an all-empty chain: {flat:?}"));
            }
        }
        Ok(live)
    };
    let mut live = 0;
    let mut overflow_buckets = 0;
    for (bi, chain) in s.buckets.iter().enumerate() {
        live += check_chain(chain, false).map_err(|e| format!("bucket {bi}: {e}"))?;
        overflow_buckets += chain.len() - 1;
        // every live key hashes to this bucket
        // SAFETY: `s.buckets` has one chain per main bucket of the current
        // array, so `bi < 2^B`, its bucket count.
        let mut b = unsafe { bucket_at(t, hr.buckets, bi) };
        while !b.is_null() {
            for i in 0..BUCKET_CNT {
                // SAFETY: `th`'s points: `b` is a bucket of a current chain,
                // `i < 8`.
                let top = unsafe { th(b, i) };
                if top < MIN_TOP_HASH {
                    continue;
                }
                // SAFETY: `key_of`'s points (as `key_at`'s): a bucket of
                // `t`, `i < 8`; the slot is filled, so an indirect slot
                // points to the live key.
                let k = unsafe { key_of(t, b, i) };
                // SAFETY: `k` is a live key of `t` (a filled slot).
                if t.reflexive_key() || unsafe { t.key_equal(k, k) } {
                    // SAFETY: `k` is a live key of `t` (a filled slot).
                    let hash = unsafe { t.hash(k, hr.hash0 as usize) };
                    if hash & bucket_mask(hr.b) != bi {
                        return Err(format!("key in bucket {bi} hashes to {}", hash & bucket_mask(hr.b)));
                    }
                    if tophash(hash) != top {
                        return Err(format!("bucket {bi} slot {i}: tophash {top} != {}", tophash(hash)));
                    }
                }
            }
            // SAFETY: `b` is a bucket of `t` (`overflow`'s point).
            b = unsafe { overflow(t, b) };
        }
    }
    if let Some(old) = &s.oldbuckets {
        for (bi, chain) in old.iter().enumerate() {
            let ev = (EVACUATED_X..MIN_TOP_HASH).contains(&chain[0].tophash[0]);
            if bi < hd.nevacuate && !ev {
                return Err(format!("old bucket {bi} < nevacuate {} not evacuated", hd.nevacuate));
            }
            if ev {
                for b in chain {
                    if b.tophash.iter().any(|&x| x >= MIN_TOP_HASH || x == EMPTY_ONE) {
                        return Err(format!("evacuated old bucket {bi} holds a live slot"));
                    }
                }
            } else {
                live += check_chain(chain, false).map_err(|e| format!("old bucket {bi}: {e}"))?;
            }
        }
        if hd.nevacuate >= old.len() {
            return Err("growth finished but oldbuckets kept".into());
        }
    }
    if live != hd.count {
        return Err(format!("count {} but {live} live slots", hd.count));
    }
    // SAFETY: `hr` is a live map of type `t`, not under a write (point 1).
    unsafe { check_overflow_lists(t, hr) }?;
    // SAFETY: `hr` is a live map, not under a write (point 1).
    unsafe { check_retire_lists(hr) }?;
    if hd.b < 16 && !hd.growing && hd.noverflow as usize != overflow_buckets {
        // Exact only without old buckets: hashGrow resets noverflow while
        // the old array still has its overflow buckets.
        return Err(format!("noverflow {} but {overflow_buckets} overflow buckets", hd.noverflow));
    }
    Ok(())
}

/// The heap overflow buckets hung into the chains of array `arr` (the
/// buckets a chain reaches outside the array block), in chain order.
///
/// # Safety
/// * `arr` is null or a bucket array (current or old) of a live map of
///   type `t`, not under a write during the call (its chains intact, or cut
///   by evacuation).
unsafe fn heap_buckets_of(t: &MapType, arr: *mut u8) -> Vec<usize> {
    let mut out = Vec::new();
    let Some(a) = NonNull::new(arr) else { return out };
    // SAFETY: a live map's bucket array is the payload of a live block
    // (point 1).
    let size = unsafe { alloc::block_size(a) };
    let (lo, hi) = (arr.addr(), arr.addr() + size);
    for i in 0..size / t.bucketsize() {
        // SAFETY: `i < size / bucketsize`: the block holds at least `i + 1`
        // buckets of `t` (main and preallocated).
        let b = unsafe { bucket_at(t, arr, i) };
        // SAFETY: `b` is a bucket of `t` (`overflow`'s point).
        let mut o = unsafe { overflow(t, b) };
        while !o.is_null() && !(lo..hi).contains(&o.addr()) {
            out.push(o.addr());
            // SAFETY: a chain link outside the array: a live heap overflow
            // bucket of `t` (`overflow`'s point).
            o = unsafe { overflow(t, o) };
        }
    }
    out
}

/// The payloads of the blocks on an intrusive block list.
///
/// # Safety
/// * `head` is null or heads a list of live blocks built by
///   `alloc::push_retired`, not changed during the call (it is only read).
unsafe fn list_blocks(mut head: *mut alloc::Header) -> Vec<NonNull<u8>> {
    let mut out = Vec::new();
    // SAFETY: `head` (a local copy) is null or heads a list of live blocks
    // (point 1); popping only reads the links and moves the copy.
    while let Some(p) = unsafe { alloc::pop_retired(&mut head) } {
        out.push(p);
    }
    out
}

/// The payload addresses on an intrusive block list.
///
/// # Safety
/// * `head` is null or heads a list of live blocks built by
///   `alloc::push_retired`, not changed during the call.
unsafe fn list_addrs(head: *mut alloc::Header) -> Vec<usize> {
    // SAFETY: `list_blocks`'s point 1 is our point 1.
    unsafe { list_blocks(head) }.iter().map(|p| p.as_ptr().addr()).collect()
}

/// gomap's ownership of heap overflow buckets (no Go twin): `extra.overflow`
/// holds exactly the heap buckets the current array's chains reach;
/// `extra.oldoverflow` is empty unless growing and holds every heap bucket
/// the old array's chains still reach (evacuation may cut chains of
/// pointer-holding buckets, so it may hold more); no bucket is on both.
///
/// # Safety
/// * `h` is a live map of type `t`, not under a write during the call.
unsafe fn check_overflow_lists(t: &MapType, h: &HMap) -> Result<(), String> {
    use std::collections::HashSet;
    // SAFETY: null or the current array of `h`, live, of type `t`, not
    // under a write (point 1).
    let cur = unsafe { heap_buckets_of(t, h.buckets) };
    // SAFETY: null or the old array of `h`, likewise (point 1).
    let old = unsafe { heap_buckets_of(t, h.oldbuckets) };
    // SAFETY: `extra.overflow` is a list of live blocks built by
    // `push_retired`, unchanged while no write runs (point 1).
    let ovf = unsafe { list_addrs(h.extra.overflow) };
    // SAFETY: `extra.oldoverflow`, likewise (point 1).
    let oldovf = unsafe { list_addrs(h.extra.oldoverflow) };
    let set = |v: &[usize], what: &str| -> Result<HashSet<usize>, String> {
        let s: HashSet<usize> = v.iter().copied().collect();
        if s.len() != v.len() { Err(format!("{what} lists a bucket twice")) } else { Ok(s) }
    };
    let (cur_s, ovf_s) = (set(&cur, "the current chains")?, set(&ovf, "extra.overflow")?);
    let (old_s, oldovf_s) = (set(&old, "the old chains")?, set(&oldovf, "extra.oldoverflow")?);
    if cur_s != ovf_s {
        return Err(format!(
            "extra.overflow has {} buckets, the current chains reach {} heap buckets ({} in common)",
            ovf_s.len(),
            cur_s.len(),
            cur_s.intersection(&ovf_s).count()
        ));
    }
    if h.oldbuckets.is_null() && !oldovf.is_empty() {
        return Err("extra.oldoverflow is not empty while not growing".into());
    }
    if !old_s.is_subset(&oldovf_s) {
        return Err("an old chain reaches a heap bucket missing from extra.oldoverflow".into());
    }
    if !ovf_s.is_disjoint(&oldovf_s) {
        return Err("a bucket is on both extra.overflow and extra.oldoverflow".into());
    }
    Ok(())
}

/// gomap's retire lists (no Go twin; docs/memory.md): the retire list is
/// empty while no iterator is live (the last one to end frees it);
/// `oldstorage` is empty unless the map grows with `oldIterator` set (the
/// only time `evacuate` leaves stale pointers in reachable old slots); no
/// block is on two of the map's lists.
///
/// # Safety
/// * `h` is a live map, not under a write during the call.
unsafe fn check_retire_lists(h: &HMap) -> Result<(), String> {
    use core::sync::atomic::Ordering;
    use std::collections::HashSet;
    // Each list below is one of the map's lists of live blocks built by
    // `push_retired`, unchanged while no write runs (point 1).
    // SAFETY: the retire list is such a list.
    let retired = unsafe { list_addrs(h.retired.load(Ordering::Acquire)) };
    // SAFETY: `oldstorage` is such a list.
    let old = unsafe { list_addrs(h.oldstorage.load(Ordering::Relaxed)) };
    // SAFETY: `oldkeys` is such a list.
    let oldkeys = unsafe { list_addrs(h.oldkeys.load(Ordering::Relaxed)) };
    let mut kept = Vec::new();
    // SAFETY: [`HMap::for_each_kept`]: 1. a live map, not under a write
    // (point 1); the closure only records addresses.
    unsafe { h.for_each_kept(|p| kept.push(p.as_ptr().addr())) };
    // SAFETY: `extra.overflow` is such a list.
    let ovf = unsafe { list_addrs(h.extra.overflow) };
    // SAFETY: `extra.oldoverflow` is such a list.
    let oldovf = unsafe { list_addrs(h.extra.oldoverflow) };
    // SAFETY: the spare list is such a list.
    let spare = unsafe { list_addrs(h.spare) };
    if h.live_iters.load(Ordering::Acquire) == 0 && !retired.is_empty() {
        return Err(format!("{} blocks retired with no live iterator", retired.len()));
    }
    if h.live_iters.load(Ordering::Acquire) == 0 && !kept.is_empty() {
        return Err(format!("{} blocks kept for iterators with no live iterator", kept.len()));
    }
    if !oldkeys.is_empty() && !h.growing() {
        return Err(format!("{} keys kept for stale old slots while not growing", oldkeys.len()));
    }
    let stale_slots_possible = h.growing() && h.flags() & OLD_ITERATOR != 0;
    if !old.is_empty() && !stale_slots_possible {
        return Err(format!("{} blocks kept for stale old slots while not growing with oldIterator", old.len()));
    }
    let total = retired.len() + old.len() + oldkeys.len() + kept.len() + ovf.len() + oldovf.len() + spare.len();
    let all: HashSet<usize> = [retired, old, oldkeys, kept, ovf, oldovf, spare].into_iter().flatten().collect();
    if all.len() != total {
        return Err("a block is on two of the map's lists (or twice on one)".into());
    }
    Ok(())
}
