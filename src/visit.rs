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

use crate::alloc::{self, HEADER};
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
}

/// Base pointer and total size of the block whose payload is `p`.
///
/// # Safety
/// `p` is the payload of a live block.
unsafe fn block(p: NonNull<u8>) -> (*mut u8, usize) {
    // SAFETY: forwarded: a live block's header precedes its payload.
    unsafe { (alloc::header_of(p).as_ptr().cast::<u8>(), alloc::block_size(p) + HEADER) }
}

/// Reports every block of an intrusive block list (`extra.overflow`,
/// `extra.oldoverflow`, the retire or spare list) as `what`.
///
/// # Safety
/// `head` heads a list of live blocks built by `alloc::push_retired`; it is
/// only read.
unsafe fn visit_list(mut head: *mut alloc::Header, what: Item, f: &mut dyn FnMut(Item, *mut u8, usize)) {
    // SAFETY: popping from a local copy of the head only reads the links.
    while let Some(p) = unsafe { alloc::pop_retired(&mut head) } {
        // SAFETY: a live block of the list.
        let (b, size) = unsafe { block(p) };
        f(what, b, size);
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

    for arr in [hr.buckets, hr.oldbuckets] {
        if let Some(b) = NonNull::new(arr) {
            // SAFETY: a live array block of the map.
            let (bb, bs) = unsafe { block(b) };
            f(Item::AllocBuckets, bb, bs);
        }
    }
    // SAFETY: the map's lists of live heap overflow buckets (every bucket its
    // chains reach outside the arrays is on one of them).
    unsafe {
        visit_list(hr.extra.overflow, Item::AllocOverflow, f);
        visit_list(hr.extra.oldoverflow, Item::AllocOverflow, f);
    }

    // SAFETY: the retire, oldstorage and spare lists hold live blocks of
    // this map (retired arrays no longer own chains: their overflow buckets
    // were retired with them, one by one).
    unsafe {
        visit_list(hr.retired.load(Ordering::Acquire), Item::AllocRetired, f);
        visit_list(hr.oldstorage.load(Ordering::Relaxed), Item::AllocRetired, f);
        visit_list(hr.spare, Item::AllocSpare, f);
    }
}
