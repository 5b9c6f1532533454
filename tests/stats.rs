//! `visit::stats` / `GoMap::stats` / `gomap_map_stats`: what a map reports
//! holding must be what its allocator handed out. A per-map counting
//! allocator is the independent witness: after every operation of a churn
//! with iterators (so blocks get retired), growth of both kinds, clear and
//! out-of-line keys and elems, `total_bytes` equals the bytes the map's
//! allocator has outstanding, and the other fields agree with the header.

mod common;

use std::ptr::NonNull;

use common::alloc::{Counter, counting};
use common::scale;
use gomap::inspect::{header, retained};
use gomap::map::{self, HIter};
use gomap::maptype::{MapType, TypeInfo};
use gomap::visit::stats;

/// Checks `stats` of `h` against the counter and the header.
///
/// # Safety
/// `h` is a live map of type `t` made with `c`'s counting allocator, not
/// being written.
unsafe fn check(t: &MapType, h: NonNull<map::HMap>, c: &Counter, iters: usize, at: &str) {
    // SAFETY: the caller's point.
    let s = unsafe { stats(t, h.as_ptr()) };
    // SAFETY: as above.
    let hd = unsafe { header(t, h) };
    // SAFETY: as above.
    let r = unsafe { retained(h) };
    assert_eq!(s.total_bytes as isize, c.bytes.get(), "{at}: total_bytes vs the allocator");
    assert_eq!((s.count, s.b, s.growing != 0), (hd.count, usize::from(hd.b), hd.growing), "{at}: header fields");
    assert_eq!(s.live_iterators, iters, "{at}: live iterators");
    assert_eq!(s.retired_blocks, r.blocks + r.old_blocks, "{at}: retired blocks");
    // Allocation sizes include each block's 16-byte header.
    assert_eq!(s.retired_bytes, r.bytes + r.old_bytes + 16 * s.retired_blocks, "{at}: retired bytes");
    let parts = s.bucket_array_bytes + s.overflow_bytes + s.out_of_line_bytes + s.retired_bytes + s.spare_bytes;
    assert!(parts < s.total_bytes, "{at}: the parts leave room for the hmap");
}

/// A churn of `steps` operations on a map of `t` (keys from `key`): a
/// sliding window of live keys, iterators started and ended along the way,
/// a clear every 1000 steps; stats checked after each operation.
fn churn(t: &MapType, key_size: usize, steps: u64) {
    let c = Counter::default();
    let h = map::makemap_in(t, 0, &counting(Some(&c))).unwrap();
    let key = |id: u64| {
        let mut k = vec![0x5au8; key_size];
        k[..8].copy_from_slice(&id.to_le_bytes());
        k
    };
    let mut its: Vec<Box<HIter>> = Vec::new();
    let (mut grew, mut retired_seen, mut ool_seen) = (0, 0, 0);
    for step in 0..steps {
        let k = key(step);
        // SAFETY: a live map; `k` is one key; the elem slot is written with
        // its size in bytes.
        let slot = unsafe { map::mapassign(t, h.as_ptr(), k.as_ptr()) }.unwrap();
        // SAFETY: the elem slot holds t.elem().size writable bytes.
        unsafe { slot.elem.as_ptr().write_bytes(7, t.elem().size) };
        if step >= 40 {
            let old = key(step - 40);
            // SAFETY: a live map; `old` is one key.
            unsafe { map::mapdelete(t, h.as_ptr(), old.as_ptr()) }.unwrap();
        }
        if step % 97 == 0 {
            let mut it = Box::new(HIter::new());
            // SAFETY: a live map that outlives the iterator (ended below).
            unsafe { map::mapiterinit(t, h.as_ptr(), &mut it) };
            its.push(it);
        }
        if step % 97 == 50 {
            while let Some(mut it) = its.pop() {
                // SAFETY: a registered iterator of the live map.
                unsafe { map::mapiterend(&mut it) };
            }
        }
        if step % 1000 == 999 {
            // SAFETY: a live map, not otherwise in use.
            unsafe { map::mapclear(t, h.as_ptr()) };
        }
        // SAFETY: a live map made with `c`'s allocator, no write running.
        unsafe { check(t, h, &c, its.len(), &format!("step {step}")) };
        // SAFETY: as above.
        let s = unsafe { stats(t, h.as_ptr()) };
        grew += usize::from(s.growing != 0);
        retired_seen += usize::from(s.retired_blocks != 0);
        ool_seen += usize::from(s.out_of_line_bytes != 0);
    }
    while let Some(mut it) = its.pop() {
        // SAFETY: a registered iterator of the live map.
        unsafe { map::mapiterend(&mut it) };
    }
    // SAFETY: as above.
    unsafe { check(t, h, &c, 0, "end") };
    assert!(grew > 0 && retired_seen > 0, "the churn reached growth ({grew}) and retirement ({retired_seen})");
    assert_eq!(ool_seen > 0, t.indirect_key() || t.indirect_elem(), "out-of-line bytes iff out-of-line types");
    // SAFETY: a live map, no iterators; freed once.
    unsafe { map::mapfree(t, h.as_ptr()) }.unwrap();
    assert_eq!(c.bytes.get(), 0, "freed");
}

#[test]
fn stats_match_the_allocator_inline() {
    let t = MapType::u64_key(TypeInfo::of::<u64>()).unwrap();
    churn(&t, 8, scale(3000, 300) as u64);
}

#[test]
fn stats_match_the_allocator_out_of_line() {
    let big = TypeInfo { size: 144, align: 8, pointers: false };
    let t = MapType::mem_key(144, 8, big).unwrap();
    churn(&t, 144, scale(3000, 300) as u64);
}

/// The wrapper and the nil map.
#[test]
fn gomap_stats_and_nil() {
    let mut m = gomap::GoMap::<u64, u64>::new();
    let s0 = m.stats();
    assert_eq!((s0.count, s0.b, s0.bucket_array_bytes), (0, 0, 0), "no buckets before the first insert");
    m.insert(1, 1);
    // One bucket of u64 -> u64: 8 tophash + 8 keys + 8 elems + overflow
    // pointer = 8 + 64 + 64 + 8 = 144 bytes, plus the 16-byte block header.
    assert_eq!(m.stats().bucket_array_bytes, 160);
    // A borrowed iteration (`iter`) is not counted: no write can run while
    // it lives, so it pins nothing; one that was never ended (forgotten)
    // leaves nothing behind either.
    let it = m.iter();
    assert_eq!(m.stats().live_iterators, 0);
    drop(it);
    std::mem::forget(m.iter());
    assert_eq!(m.stats().live_iterators, 0);
    // One started through the erased API, which writes may run beside, is
    // counted until it ends.
    let mut it = HIter::new();
    // SAFETY: `m`'s map, live, of type `m.map_type()`; `it` is fresh and
    // ended below while `m` is alive and not written.
    unsafe { map::mapiterinit(m.map_type(), m.hmap().map_or(std::ptr::null_mut(), |h| h.as_ptr()), &mut it) };
    assert_eq!(m.stats().live_iterators, 1);
    // SAFETY: `it` is registered on `m`'s map, which is alive.
    unsafe { map::mapiterend(&mut it) };
    assert_eq!(m.stats().live_iterators, 0);
    let t = MapType::u64_key(TypeInfo::of::<u64>()).unwrap();
    // SAFETY: a null map is Go's nil map.
    assert_eq!(unsafe { stats(&t, std::ptr::null()) }, gomap::visit::MapStats::default());
}
