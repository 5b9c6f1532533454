//! A visitor over everything a map holds, for hosts with a garbage collector
//! (the C ABI's `gomap_visit`).
//!
//! [`visit`] reports every live key and elem (so a host can trace the
//! pointers its keys and elems hold) and every block the map owns (so a host
//! that allocates maps from its own heap can mark them): the `hmap`, the
//! current and old bucket arrays, heap overflow buckets, out-of-line keys and
//! elems, blocks retired while iterators live or kept for stale slots of the
//! old array, and reserved spare overflow buckets. It reads the map through
//! the same internals as [`crate::inspect`] and changes nothing.
//!
//! Blocks are reported as the allocator saw them: the pointer its
//! `alloc_zeroed` returned and the size that was asked of it, so the reported
//! blocks of a map are exactly the live allocations it made.

use core::ptr::NonNull;
use core::sync::atomic::Ordering;

use crate::alloc;
use crate::map::{HMap, deref_slot, elem_at, for_each_live, key_at};
use crate::maptype::MapType;

/// What a visited item is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum Item {
    /// A live key: the key's address and the key type's size.
    Key = 1,
    /// A live elem: the elem's address and the elem type's size.
    Elem = 2,
    /// The `hmap` block.
    AllocHmap = 16,
    /// A bucket array (current or old).
    AllocBuckets = 17,
    /// A separately allocated overflow bucket hanging off a bucket array.
    AllocOverflow = 18,
    /// The out-of-line storage of a live key.
    AllocKey = 19,
    /// The out-of-line storage of a live elem.
    AllocElem = 20,
    /// A block retired while iterators live (freed when the last one ends),
    /// or an out-of-line key or elem of a removed entry kept while stale
    /// slots of the old array point to it (freed when growth ends).
    AllocRetired = 21,
    /// A spare overflow bucket reserved ahead of a write.
    AllocSpare = 22,
    /// A block the map released, held in its quarantine
    /// (`crate::quarantine`) for threads that race with its writes.
    AllocQuarantined = 23,
}

/// Base pointer and total size of the block whose payload is `p`.
///
/// # Safety
/// * `p` is the payload of a live block from `alloc::alloc_block` or
///   `alloc::alloc_block_aligned`.
unsafe fn block(p: NonNull<u8>) -> (*mut u8, usize) {
    // SAFETY: a live block's payload (point 1) is `block_extent`'s point 1.
    let (base, total) = unsafe { alloc::block_extent(p) };
    (base.as_ptr(), total)
}

/// Reports every block of an intrusive block list (`extra.overflow`,
/// `extra.oldoverflow`, the retire or spare list) as `what`.
///
/// # Safety
/// * `head` is null or heads a list of live blocks built by
///   `alloc::push_retired`, not changed during the call (it is only read).
unsafe fn visit_list(mut head: *mut alloc::Header, what: Item, f: &mut dyn FnMut(Item, *mut u8, usize)) {
    // SAFETY: `head` (a local copy of the list head) is null or heads a
    // list of live blocks (point 1); popping only reads the links and moves
    // the copy.
    while let Some(p) = unsafe { alloc::pop_retired(&mut head) } {
        // SAFETY: `p` is the payload of a live block of the list (point 1).
        let (b, size) = unsafe { block(p) };
        f(what, b, size);
    }
}

/// Calls `f(item, ptr, size)` for every live key and elem of the map and
/// every block it owns (see the module docs). A null map reports nothing.
///
/// # Safety
/// * `h` is null or a live map of type `t`, not under a write during the
///   call;
/// * `f` does not access the map.
pub unsafe fn visit(t: &MapType, h: *const HMap, f: &mut dyn FnMut(Item, *mut u8, usize)) {
    let Some(hp) = NonNull::new(h.cast_mut()) else { return };
    // SAFETY: `h` is a live map (point 1): aligned, valid for reads, and not
    // written while this reference lives (no write runs, and `f` does not
    // touch the map: points 1, 2).
    let hr = unsafe { hp.as_ref() };
    // SAFETY: a live map is the payload of its `Hmap` block.
    let (hb, hs) = unsafe { block(hp.cast::<u8>()) };
    f(Item::AllocHmap, hb, hs);

    if hr.count != 0 {
        // `for_each_live` calls this with a bucket `b` of `t` and a slot
        // `i < BUCKET_CNT` holding a live entry.
        let each = |b: *mut u8, i: usize| {
            // SAFETY: `for_each_live` passes a bucket of `t` and a slot
            // `i < BUCKET_CNT` (`key_at`'s points).
            let ks = unsafe { key_at(t, b, i) };
            // SAFETY: as for `ks`: a bucket of `t`, `i < BUCKET_CNT`.
            let es = unsafe { elem_at(t, b, i) };
            let k = if t.indirect_key() {
                // SAFETY: an indirect key slot of a live entry: 8-aligned
                // pointer storage.
                unsafe { deref_slot(ks) }
            } else {
                ks
            };
            let e = if t.indirect_elem() {
                // SAFETY: an indirect elem slot of a live entry: 8-aligned
                // pointer storage.
                unsafe { deref_slot(es) }
            } else {
                es
            };
            if t.indirect_key() {
                // SAFETY: a live entry's indirect key slot points to its
                // key block: non-null.
                let kp = unsafe { NonNull::new_unchecked(k) };
                // SAFETY: `kp` is the payload of that live block.
                let (kb, kz) = unsafe { block(kp) };
                f(Item::AllocKey, kb, kz);
            }
            if t.indirect_elem() {
                // SAFETY: a live entry's indirect elem slot points to its
                // elem block: non-null.
                let ep = unsafe { NonNull::new_unchecked(e) };
                // SAFETY: `ep` is the payload of that live block.
                let (eb, ez) = unsafe { block(ep) };
                f(Item::AllocElem, eb, ez);
            }
            f(Item::Key, k, t.key.size);
            f(Item::Elem, e, t.elem.size);
        };
        // SAFETY: 1. `h` is a live map of type `t` (point 1); 2. `each` only
        // reads slots and calls `f`, which does not touch the map (point 2):
        // the chains do not change.
        unsafe { for_each_live(t, hr, each) };
    }

    for arr in [hr.buckets, hr.oldbuckets] {
        if let Some(b) = NonNull::new(arr) {
            // SAFETY: a non-null bucket array of a live map is the payload of
            // a live `Array` block.
            let (bb, bs) = unsafe { block(b) };
            f(Item::AllocBuckets, bb, bs);
        }
    }
    // The lists below are the map's lists of live blocks (every heap bucket
    // its chains reach is on `extra.overflow` or `extra.oldoverflow`;
    // retired arrays no longer own chains: their overflow buckets were
    // retired with them, one by one), built by `push_retired`; no write runs
    // (point 1), so none changes during the call.
    // SAFETY: `extra.overflow` is such a list.
    unsafe { visit_list(hr.extra.overflow, Item::AllocOverflow, f) };
    // SAFETY: `extra.oldoverflow` is such a list.
    unsafe { visit_list(hr.extra.oldoverflow, Item::AllocOverflow, f) };
    // SAFETY: the retire list is such a list.
    unsafe { visit_list(hr.retired.load(Ordering::Acquire), Item::AllocRetired, f) };
    // SAFETY: `oldstorage` is such a list.
    unsafe { visit_list(hr.oldstorage.load(Ordering::Relaxed), Item::AllocRetired, f) };
    // SAFETY: `oldkeys` is such a list.
    unsafe { visit_list(hr.oldkeys.load(Ordering::Relaxed), Item::AllocRetired, f) };
    // The records iterator pins keep, and the pin table's spill block.
    let each = |p| {
        // SAFETY: `p` is the payload of a live block the map keeps.
        let (b, size) = unsafe { block(p) };
        f(Item::AllocRetired, b, size);
    };
    // SAFETY: [`HMap::for_each_kept`]: 1. a live map, not under a write
    // (point 1); `each` only calls `f`, which does not touch it (point 2).
    unsafe { hr.for_each_kept(each) };
    // SAFETY: the spare list is such a list.
    unsafe { visit_list(hr.spare, Item::AllocSpare, f) };
    if let Some(q) = hr.quarantine() {
        // A quarantine in a block of its own (`gomap_map_quarantine` on a
        // map made without one) is the map's bookkeeping, reported as the
        // hmap is; one in the hmap's block (`qtail`) is part of that
        // allocation. Read through the stored pointer, whose provenance
        // covers the whole block and its header, not through `q`.
        let own = (!core::ptr::eq(hr.alloc.q, hr.qtail)).then_some(hr.alloc.q);
        let qb = own.and_then(|q| NonNull::new(q.cast_mut())).map(NonNull::cast::<u8>);
        if let Some(qb) = qb {
            // SAFETY: a live block's payload (`HMap::quarantine`).
            let (b, size) = unsafe { block(qb) };
            f(Item::AllocHmap, b, size);
        }
        q.for_each(|p| {
            // SAFETY: `p` is the payload of a live block the quarantine holds.
            let (b, size) = unsafe { block(p) };
            f(Item::AllocQuarantined, b, size);
        });
    }
}

/// What a map holds, for a host watching its memory (the C ABI's
/// `gomap_map_stats`). Every byte count is what the map's allocator was
/// asked for (block headers included); their sum is `total_bytes`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C)]
pub struct MapStats {
    /// Live entries (`len(m)`).
    pub count: usize,
    /// log2 of the bucket count (Go's `B`).
    pub b: usize,
    /// 1 while a growth is under way (an old bucket array exists), else 0.
    pub growing: usize,
    /// The current and old bucket arrays (preallocated overflow buckets
    /// included).
    pub bucket_array_bytes: usize,
    /// Heap overflow buckets hanging off the arrays: how many.
    pub overflow_buckets: usize,
    /// Their bytes.
    pub overflow_bytes: usize,
    /// Out-of-line storage of live keys and elems (types over 128 bytes
    /// or aligned above 8), block headers and alignment slack included.
    pub out_of_line_bytes: usize,
    /// Blocks kept only because an iterator may still reach them, or
    /// because stale slots of the old array still point at them.
    pub retired_blocks: usize,
    /// Their bytes.
    pub retired_bytes: usize,
    /// Spare overflow buckets reserved ahead of a write: their bytes.
    pub spare_bytes: usize,
    /// Iterators started by `mapiterinit` and not ended yet: the ones a
    /// write may run beside (C ABI, erased API, `GoMap::range` and
    /// `retain`). `GoMap::iter`, `keys`, `values` and `iter_mut` borrow
    /// the map, so no write runs while they live, and are not counted.
    pub live_iterators: usize,
    /// Everything the map holds now, the `hmap` included.
    pub total_bytes: usize,
    /// Blocks the map released and holds in its quarantine
    /// (`crate::quarantine`), for threads racing with its writes.
    pub quarantined_blocks: usize,
    /// Their bytes.
    pub quarantined_bytes: usize,
}

/// The [`MapStats`] of a map; all zero for a null (nil) map. Walks the map
/// (its buckets, entries and block lists): for watching, not for hot paths.
///
/// # Safety
/// * `h` is null or a live map of type `t`, not under a write during the
///   call.
pub unsafe fn stats(t: &MapType, h: *const HMap) -> MapStats {
    let Some(hp) = NonNull::new(h.cast_mut()) else { return MapStats::default() };
    // SAFETY: `h` is a live map (point 1): aligned, valid for reads, and not
    // written while this reference lives (no write runs: point 1).
    let hr = unsafe { hp.as_ref() };
    let mut s = MapStats {
        count: hr.count,
        b: usize::from(hr.b),
        growing: usize::from(!hr.oldbuckets.is_null()),
        live_iterators: hr.live_iters.load(Ordering::Acquire),
        ..MapStats::default()
    };
    let mut add = |what: Item, _p: *mut u8, size: usize| {
        match what {
            Item::Key | Item::Elem => return,
            Item::AllocHmap => {}
            Item::AllocBuckets => s.bucket_array_bytes += size,
            Item::AllocOverflow => {
                s.overflow_buckets += 1;
                s.overflow_bytes += size;
            }
            Item::AllocKey | Item::AllocElem => s.out_of_line_bytes += size,
            Item::AllocRetired => {
                s.retired_blocks += 1;
                s.retired_bytes += size;
            }
            Item::AllocSpare => s.spare_bytes += size,
            Item::AllocQuarantined => {
                s.quarantined_blocks += 1;
                s.quarantined_bytes += size;
            }
        }
        s.total_bytes += size;
    };
    // SAFETY: visit's points: 1. `h` is a live map of type `t`, not under a
    // write (point 1); 2. `add` only counts, never touching the map.
    unsafe { visit(t, h, &mut add) };
    s
}
