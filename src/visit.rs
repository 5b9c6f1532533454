//! A visitor over everything a map holds, for hosts with a garbage collector
//! (the C ABI's `gomap_visit`).
//!
//! [`visit`] reports every live key and elem (so a host can trace the
//! pointers its keys and elems hold) and every block the map owns (so a host
//! that allocates maps from its own heap can mark them): the `hmap`, the
//! current and old bucket arrays, heap overflow buckets, out-of-line keys and
//! elems, blocks retired while iterators live, and reserved spare overflow
//! buckets. It reads the map through the same internals as
//! [`crate::inspect`] and changes nothing.
//!
//! Blocks are reported as the allocator saw them: the pointer its
//! `alloc_zeroed` returned and the size that was asked of it, so the reported
//! blocks of a map are exactly the live allocations it made.

use core::ptr::NonNull;
use core::sync::atomic::Ordering;

use crate::alloc::{self, HEADER, Kind};
use crate::map::{HMap, bucket_at, deref_slot, elem_at, for_each_live, key_at, overflow};
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
    /// A block retired while iterators live (freed when the last one ends).
    AllocRetired = 21,
    /// A spare overflow bucket reserved ahead of a write.
    AllocSpare = 22,
}

/// Base pointer and total size of the block whose payload is `p`.
///
/// # Safety
/// `p` is the payload of a live block.
unsafe fn block(p: NonNull<u8>) -> (*mut u8, usize) {
    // SAFETY: forwarded: a live block's header precedes its payload.
    unsafe { (alloc::header_of(p).as_ptr().cast::<u8>(), alloc::block_size(p) + HEADER) }
}

/// Reports the array block at `arr` as `what`, and every heap overflow
/// bucket its chains reach (the walk `free_array` frees).
///
/// # Safety
/// `arr` is a live array block of a map of type `t` whose chains are intact.
unsafe fn visit_array(t: &MapType, arr: NonNull<u8>, what: Item, f: &mut dyn FnMut(Item, *mut u8, usize)) {
    // SAFETY: forwarded.
    let (base, total) = unsafe { block(arr) };
    f(what, base, total);
    let size = total - HEADER;
    let (lo, hi) = (arr.as_ptr().addr(), arr.as_ptr().addr() + size);
    for i in 0..size / t.bucketsize() {
        // SAFETY: i indexes a bucket of the array.
        let b = unsafe { bucket_at(t, arr.as_ptr(), i) };
        // SAFETY: `b` is a bucket.
        let mut o = unsafe { overflow(t, b) };
        while !o.is_null() && !(lo..hi).contains(&o.addr()) {
            // SAFETY: a live heap overflow bucket of this array.
            let (ob, os) = unsafe { block(NonNull::new_unchecked(o)) };
            f(Item::AllocOverflow, ob, os);
            // SAFETY: as above.
            o = unsafe { overflow(t, o) };
        }
    }
}

/// Calls `f(item, ptr, size)` for every live key and elem of the map and
/// every block it owns (see the module docs). A null map reports nothing.
///
/// # Safety
/// `h` is null or a live map of type `t` that no write runs on during the
/// call; `f` must not touch the map.
pub unsafe fn visit(t: &MapType, h: *const HMap, f: &mut dyn FnMut(Item, *mut u8, usize)) {
    // SAFETY: null or a live map (caller).
    let Some(hr) = (unsafe { h.as_ref() }) else { return };
    // SAFETY: `h` is the payload of the map's Hmap block.
    let (hb, hs) = unsafe { block(NonNull::new_unchecked(h.cast_mut().cast::<u8>())) };
    f(Item::AllocHmap, hb, hs);

    if hr.count != 0 {
        // SAFETY: a live map of type `t`; the closure only reads slots.
        unsafe {
            for_each_live(t, hr, |b, i| {
                let ks = key_at(t, b, i);
                let es = elem_at(t, b, i);
                let k = if t.indirect_key() { deref_slot(ks) } else { ks };
                let e = if t.indirect_elem() { deref_slot(es) } else { es };
                if t.indirect_key() {
                    let (kb, kz) = block(NonNull::new_unchecked(k));
                    f(Item::AllocKey, kb, kz);
                }
                if t.indirect_elem() {
                    let (eb, ez) = block(NonNull::new_unchecked(e));
                    f(Item::AllocElem, eb, ez);
                }
                f(Item::Key, k, t.key.size);
                f(Item::Elem, e, t.elem.size);
            })
        };
    }

    if let Some(b) = NonNull::new(hr.buckets) {
        // SAFETY: the current array, chains intact.
        unsafe { visit_array(t, b, Item::AllocBuckets, f) };
    }
    if let Some(b) = NonNull::new(hr.oldbuckets) {
        // SAFETY: the old array, chains intact (evacuation cuts a chain only
        // after retiring the heap buckets it held).
        unsafe { visit_array(t, b, Item::AllocBuckets, f) };
    }

    let mut head = hr.retired.load(Ordering::Acquire);
    // SAFETY: the retire list holds live blocks of this map; popping from a
    // local copy of its head only reads the links.
    while let Some(p) = unsafe { alloc::pop_retired(&mut head) } {
        // SAFETY: a live retired block.
        if unsafe { alloc::block_kind(p) } == Kind::Array {
            // SAFETY: retired arrays keep their chains (free_array walks them).
            unsafe { visit_array(t, p, Item::AllocRetired, f) };
        } else {
            // SAFETY: a live retired block.
            let (rb, rs) = unsafe { block(p) };
            f(Item::AllocRetired, rb, rs);
        }
    }

    let mut head = hr.spare;
    // SAFETY: the spare list holds live blocks; only read through a copy.
    while let Some(p) = unsafe { alloc::pop_retired(&mut head) } {
        // SAFETY: a live spare block.
        let (sb, ss) = unsafe { block(p) };
        f(Item::AllocSpare, sb, ss);
    }
}
