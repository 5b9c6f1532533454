//! Fails the N-th allocation of a workload, for every N the workload reaches:
//! each operation either completes or returns `AllocFailed` with the map's
//! contents unchanged and its invariants intact, and every block is freed.

mod common;

use std::collections::BTreeMap;

use common::alloc::{self, allocs, failing_nth, live_blocks};
use gomap::fatal::MapError;
use gomap::inspect::{check_invariants, header};
use gomap::map::{self, HIter};
use gomap::maptype::{MapType, TypeInfo};

/// Runs the workload with the `fail_at`-th allocation failing (`None`:
/// none). Returns the number of allocations the workload made and how many
/// ops failed.
fn run(t: &MapType, key: &dyn Fn(u64) -> Vec<u8>, esize: usize, fail_at: Option<usize>) -> (usize, usize) {
    let (allocs0, blocks0) = (allocs(), live_blocks());
    let failed = match fail_at {
        Some(n) => failing_nth(n, || workload(t, key, esize)),
        None => workload(t, key, esize),
    };
    assert_eq!(live_blocks(), blocks0, "blocks leaked (fail_at={fail_at:?})");
    (allocs() - allocs0, failed)
}

/// The workload of [`run`], on a map of its own; returns how many ops
/// failed.
fn workload(t: &MapType, key: &dyn Fn(u64) -> Vec<u8>, esize: usize) -> usize {
    let mut failed = 0;
    let mut model: BTreeMap<u64, u8> = BTreeMap::new();
    let h = match map::makemap_in(t, 0, &alloc::counting(None)) {
        Ok(h) => h,
        Err(e) => {
            assert_eq!(e, MapError::AllocFailed);
            return 1;
        }
    };
    let hp = h.as_ptr();
    let verify = |model: &BTreeMap<u64, u8>| {
        // SAFETY: a live map, not being written.
        unsafe { check_invariants(t, h) }.unwrap();
        // SAFETY: live.
        assert_eq!(unsafe { h.as_ref() }.len(), model.len());
        for (&k, &v) in model {
            let kb = key(k);
            // SAFETY: live map; key of t's size.
            let (e, ok) = unsafe { map::mapaccess2(t, hp, kb.as_ptr()) }.unwrap();
            assert!(ok, "key {k} lost");
            // SAFETY: elem of esize bytes.
            assert_eq!(unsafe { *e }, v);
        }
    };
    let n = if cfg!(miri) { 40 } else { 300 };
    // Iterators alive for a while (retirement), started every 4 ops, the
    // oldest stepped after every op: those started in different generations
    // pin different ranges, more than the pin table's 4 inline entries, so its
    // spill block is among the allocations that fail (an iterator then
    // pins every generation: nothing to report, nothing lost).
    let mut iters: Vec<Box<HIter>> = Vec::new();
    let mut start_sizes = std::collections::BTreeSet::new();
    for i in 0..n {
        if i < 2 * n / 3 && i % 4 == 0 {
            // SAFETY: a live map, not being written.
            start_sizes.insert(unsafe { header(t, h) }.b);
            let mut it = Box::new(HIter::new());
            // SAFETY: live map; ended below.
            unsafe { map::mapiterinit(t, hp, &mut it) };
            iters.push(it);
        }
        if let Some(it) = iters.first_mut() {
            // The oldest iterator steps on: its range widens (repin).
            // SAFETY: started on the live map (a no-op once done).
            unsafe { map::mapiternext(it) };
        }
        let k = (i * 7) % (n / 2 + 3);
        let kb = key(k);
        // SAFETY: live map, key of t.
        match unsafe { map::mapassign(t, hp, kb.as_ptr()) } {
            Ok(s) => {
                // SAFETY: elem slot of esize bytes.
                unsafe { std::ptr::write_bytes(s.elem.as_ptr(), i as u8, esize) };
                model.insert(k, i as u8);
            }
            Err(e) => {
                assert_eq!(e, MapError::AllocFailed);
                failed += 1;
            }
        }
        if i % 3 == 0 {
            let d = key((i * 5) % (n / 2 + 3));
            // SAFETY: as above.
            match unsafe { map::mapdelete(t, hp, d.as_ptr()) } {
                Ok(()) => {
                    model.remove(&((i * 5) % (n / 2 + 3)));
                }
                Err(e) => {
                    assert_eq!(e, MapError::AllocFailed);
                    failed += 1;
                }
            }
        }
        if i == 2 * n / 3 {
            // Each growth is a generation: at least 5 distinct ranges.
            assert!(cfg!(miri) || start_sizes.len() >= 5, "iterators started at B in {start_sizes:?}");
            for mut it in iters.drain(..) {
                // SAFETY: the iterator is registered on the live map.
                unsafe { map::mapiterend(&mut it) };
            }
        }
        if i % 17 == 0 {
            verify(&model);
        }
    }
    verify(&model);
    // SAFETY: live map.
    match unsafe { map::mapclone2(t, hp) } {
        Ok(c) => {
            // SAFETY: live clone.
            unsafe { check_invariants(t, c) }.unwrap();
            // SAFETY: freed once.
            unsafe { map::mapfree(t, c.as_ptr()) }.unwrap();
        }
        Err(e) => {
            assert_eq!(e, MapError::AllocFailed);
            failed += 1;
        }
    }
    // SAFETY: live map, no iterators.
    unsafe { map::mapclear(t, hp) };
    // SAFETY: freed once.
    unsafe { map::mapfree(t, hp) }.unwrap();
    failed
}

fn every_allocation(t: &MapType, key: &dyn Fn(u64) -> Vec<u8>, esize: usize) {
    let (total, failed) = run(t, key, esize, None);
    assert_eq!(failed, 0);
    assert!(total > 5);
    let step = if cfg!(miri) { (total / 6).max(1) } else { 1 };
    let mut sites = 0;
    for n in (1..=total).step_by(step) {
        let (_, failed) = run(t, key, esize, Some(n));
        assert!(failed <= 1, "one failed allocation failed {failed} operations");
        sites += 1;
    }
    println!("failed each of {sites} allocation sites of {total}");
}

#[test]
fn u64_map_every_allocation_fails_once() {
    let t = MapType::u64_key(TypeInfo::of::<u64>()).unwrap();
    every_allocation(&t, &|k| k.to_le_bytes().to_vec(), 8);
}

#[test]
fn indirect_map_every_allocation_fails_once() {
    let t = MapType::bytes_key(200, TypeInfo { size: 136, align: 8, pointers: false }).unwrap();
    assert!(t.indirect_key() && t.indirect_elem());
    every_allocation(
        &t,
        &|k| {
            let mut v = vec![0u8; 200];
            v[..8].copy_from_slice(&k.to_le_bytes());
            v
        },
        136,
    );
}

#[test]
fn overaligned_map_every_allocation_fails_once() {
    // Key and elem aligned above 8: out of line, in over-aligned blocks
    // (docs/memory.md), whose allocation can fail like any other.
    let t = MapType::mem_key(16, 16, TypeInfo { size: 64, align: 64, pointers: false }).unwrap();
    assert!(t.indirect_key() && t.indirect_elem());
    every_allocation(
        &t,
        &|k| {
            let mut v = vec![0u8; 16];
            v[..8].copy_from_slice(&k.to_le_bytes());
            v
        },
        64,
    );
}
