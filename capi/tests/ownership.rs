//! Ownership callbacks for refcounting hosts (`gomap_type_with_ownership`,
//! `gomap_mapassign2`, `gomap_mapaccessK`, `gomap_mapdelete2`), driven as
//! a refcounting runtime would drive them. Every key and elem is an object
//! with a reference count: the runtime creates it with one reference and
//! follows the protocol of gomap.h (hand the key over when the map stored
//! it, release the old elem before overwriting it, release what a
//! `mapdelete2` handed back). The map calls retain/release. After every
//! operation, with no iterator live, each map entry holds exactly one
//! reference to its key and one to its elem and nothing else holds any:
//! the sum of all counts is 2 x the entries of all maps, none negative, and
//! 0 once every map is freed. Covered: insert, update, key update (the
//! stored key replaced and released), delete, delete handing the entry
//! over, lookup of the stored key, clear, clone (retains), free, deletes
//! during iteration (releases deferred to the iterator's end), allocation
//! failure and a hasher reporting an error (nothing changes).

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::ffi::{c_int, c_void};
use std::ptr;

use gomap_capi::gomap_status::*;
use gomap_capi::*;

/// A key: the map compares and hashes `id` only; `obj` is the refcounted
/// object the key holds (two keys with the same id may hold different
/// objects: a key update replaces the stored one).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
struct Key {
    id: u64,
    obj: u64,
}

thread_local! {
    /// Reference count of every object ever made.
    static COUNTS: RefCell<BTreeMap<u64, i64>> = const { RefCell::new(BTreeMap::new()) };
    static NEXT: Cell<u64> = const { Cell::new(1) };
    /// Allocations left before the map's allocator fails (`u64::MAX`: never).
    static ALLOC_BUDGET: Cell<u64> = const { Cell::new(u64::MAX) };
}

const POISON_ID: u64 = 666;

fn new_obj() -> u64 {
    let o = NEXT.with(|n| n.replace(n.get() + 1));
    COUNTS.with(|c| c.borrow_mut().insert(o, 1));
    o
}

fn adjust(obj: u64, by: i64) {
    COUNTS.with(|c| {
        let mut c = c.borrow_mut();
        let n = c.get_mut(&obj).unwrap_or_else(|| panic!("object {obj} never made"));
        // A count that reached 0 freed its object: a retain then would
        // resurrect freed memory.
        assert!(!(by > 0 && *n == 0), "object {obj} retained after its last release");
        *n += by;
        assert!(*n >= 0, "object {obj} released below zero");
    });
}

fn total() -> i64 {
    COUNTS.with(|c| c.borrow().values().sum())
}

unsafe extern "C" fn key_retain(_: *mut c_void, p: *mut c_void) {
    // SAFETY: the map passes a key of the type.
    adjust(unsafe { p.cast::<Key>().read() }.obj, 1);
}
unsafe extern "C" fn key_release(_: *mut c_void, p: *mut c_void) {
    // SAFETY: as above.
    adjust(unsafe { p.cast::<Key>().read() }.obj, -1);
}
unsafe extern "C" fn elem_retain(_: *mut c_void, p: *mut c_void) {
    // SAFETY: the map passes an elem (a u64 object id).
    adjust(unsafe { p.cast::<u64>().read() }, 1);
}
unsafe extern "C" fn elem_release(_: *mut c_void, p: *mut c_void) {
    // SAFETY: as above.
    adjust(unsafe { p.cast::<u64>().read() }, -1);
}

unsafe extern "C" fn hash(_: *mut c_void, k: *const c_void, seed: u64, err: *mut c_int) -> u64 {
    // SAFETY: a key of the type.
    let id = unsafe { k.cast::<Key>().read() }.id;
    if id == POISON_ID {
        // SAFETY: the map passes a writable int.
        unsafe { err.write(1) };
        return 0;
    }
    let mut z = id ^ seed.rotate_left(17);
    z = (z ^ (z >> 31)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    z ^ (z >> 29)
}

unsafe extern "C" fn equal(_: *mut c_void, a: *const c_void, b: *const c_void) -> bool {
    // SAFETY: two keys of the type.
    unsafe { a.cast::<Key>().read().id == b.cast::<Key>().read().id }
}

unsafe extern "C" fn budget_calloc(_: *mut c_void, size: usize) -> *mut c_void {
    let left = ALLOC_BUDGET.with(Cell::get);
    if left == 0 {
        return ptr::null_mut();
    }
    if left != u64::MAX {
        ALLOC_BUDGET.with(|b| b.set(left - 1));
    }
    // SAFETY: calloc accepts any size.
    unsafe { libc::calloc(1, size) }
}

unsafe extern "C" fn budget_free(_: *mut c_void, p: *mut c_void, _: usize) {
    // SAFETY: from budget_calloc.
    unsafe { libc::free(p) }
}

/// The refcounting runtime's view of one map.
struct Rt {
    m: *mut gomap_map,
}

impl Rt {
    /// `m[id] = new elem`, with a new key object each time.
    fn set(&self, id: u64) -> gomap_status {
        let key = Key { id, obj: new_obj() };
        let elem = new_obj();
        let (mut e, mut flags) = (ptr::null_mut(), 0u32);
        // SAFETY: a live map used by this thread only; `key` is a key.
        let st = unsafe { gomap_mapassign2(self.m, (&raw const key).cast(), &mut e, &mut flags) };
        if st != GOMAP_OK {
            // Nothing was stored: the runtime drops its own references.
            adjust(key.obj, -1);
            adjust(elem, -1);
            return st;
        }
        if flags & GOMAP_ASSIGN_KEY_STORED == 0 {
            adjust(key.obj, -1);
        }
        if flags & GOMAP_ASSIGN_INSERTED == 0 {
            // SAFETY: an existing entry's elem slot holds the old elem.
            adjust(unsafe { e.cast::<u64>().read() }, -1);
        }
        // SAFETY: the elem slot of a u64 elem.
        unsafe { e.cast::<u64>().write(elem) };
        GOMAP_OK
    }

    fn delete(&self, id: u64) -> gomap_status {
        let key = Key { id, obj: 0 };
        // SAFETY: a live map; `key` is a key.
        unsafe { gomap_mapdelete(self.m, (&raw const key).cast()) }
    }

    /// Deletes `id`, taking the entry; returns the stored key's object.
    fn take(&self, id: u64) -> (gomap_status, Option<u64>) {
        let key = Key { id, obj: 0 };
        let (mut k, mut e, mut found) = (Key { id: 0, obj: 0 }, 0u64, false);
        // SAFETY: a live map; the buffers fit a key and an elem.
        let st = unsafe {
            gomap_mapdelete2(self.m, (&raw const key).cast(), (&raw mut k).cast(), (&raw mut e).cast(), &mut found)
        };
        if st != GOMAP_OK || !found {
            return (st, None);
        }
        assert_eq!(k.id, id);
        // The runtime owns both now; it is done with them.
        adjust(k.obj, -1);
        adjust(e, -1);
        (st, Some(k.obj))
    }

    /// The stored key's object for `id`.
    fn stored_obj(&self, id: u64) -> Option<u64> {
        let key = Key { id, obj: 0 };
        let (mut k, mut e) = (ptr::null_mut(), ptr::null_mut());
        // SAFETY: a live map; `key` is a key.
        assert_eq!(unsafe { gomap_mapaccessK(self.m, (&raw const key).cast(), &mut k, &mut e) }, GOMAP_OK);
        assert_eq!(k.is_null(), e.is_null());
        // SAFETY: a found key pointer points to a stored Key.
        (!k.is_null()).then(|| unsafe { k.cast::<Key>().read() }.obj)
    }

    fn len(&self) -> i64 {
        let mut n = 0;
        // SAFETY: a live map.
        assert_eq!(unsafe { gomap_len(self.m, &mut n) }, GOMAP_OK);
        n as i64
    }
}

fn ownership_type() -> *mut gomap_type {
    let desc = gomap_type_desc {
        key_size: 16,
        key_align: 8,
        elem_size: 8,
        elem_align: 8,
        flags: GOMAP_DESC_KEY_POINTERS | GOMAP_DESC_ELEM_POINTERS | GOMAP_DESC_REFLEXIVE | GOMAP_DESC_NEED_KEY_UPDATE,
        hash: Some(hash),
        equal: Some(equal),
        key_check: None,
        ctx: ptr::null_mut(),
    };
    let (mut base, mut t) = (ptr::null_mut(), ptr::null_mut());
    // SAFETY: a valid descriptor; `base` is writable.
    assert_eq!(unsafe { gomap_type_custom(&desc, &mut base) }, GOMAP_OK);
    let half = gomap_ownership {
        key_retain: Some(key_retain),
        key_release: None,
        elem_retain: None,
        elem_release: None,
        ctx: ptr::null_mut(),
    };
    // SAFETY: a live type; `half` readable; `t` writable.
    assert_eq!(unsafe { gomap_type_with_ownership(base, &half, &mut t) }, GOMAP_ERR_BAD_ARG);
    let o = gomap_ownership {
        key_retain: Some(key_retain),
        key_release: Some(key_release),
        elem_retain: Some(elem_retain),
        elem_release: Some(elem_release),
        ctx: ptr::null_mut(),
    };
    // SAFETY: as above.
    assert_eq!(unsafe { gomap_type_with_ownership(base, &o, &mut t) }, GOMAP_OK);
    // SAFETY: the new handle does not need the base one.
    unsafe { gomap_type_free(base) };
    t
}

/// Every reference is held by a map entry, one per key and one per elem.
fn balanced(maps: &[&Rt], at: &str) {
    let entries: i64 = maps.iter().map(|m| m.len()).sum();
    assert_eq!(total(), 2 * entries, "{at}: references vs entries");
}

#[test]
fn reference_counts_balance_through_every_operation() {
    let t = ownership_type();
    let n = if cfg!(miri) { 30 } else { 300 };
    let mut m = ptr::null_mut();
    // SAFETY: a live type; `m` writable; the allocator is callable anywhere.
    let st =
        unsafe { gomap_makemap_with_allocator(t, 0, Some(budget_calloc), Some(budget_free), ptr::null_mut(), &mut m) };
    assert_eq!(st, GOMAP_OK);
    let rt = Rt { m };
    for id in 0..n {
        assert_eq!(rt.set(id), GOMAP_OK);
    }
    balanced(&[&rt], "inserts");
    // Updates: the key update replaces (and releases) each stored key.
    for id in (0..n).step_by(3) {
        let before = rt.stored_obj(id).unwrap();
        assert_eq!(rt.set(id), GOMAP_OK);
        let after = rt.stored_obj(id).unwrap();
        assert_ne!(before, after, "key update kept the old key");
        assert_eq!(COUNTS.with(|c| c.borrow()[&before]), 0, "old key {before} not released");
    }
    balanced(&[&rt], "updates");
    // Deletes, plain and handing the entry over.
    for id in (0..n).step_by(5) {
        assert_eq!(rt.delete(id), GOMAP_OK);
    }
    for id in (1..n).step_by(7) {
        let _ = rt.take(id);
    }
    assert_eq!(rt.take(n + 1), (GOMAP_OK, None), "absent key");
    balanced(&[&rt], "deletes");
    // A hasher error and allocation failures change nothing.
    assert_eq!(rt.set(POISON_ID), GOMAP_ERR_UNHASHABLE);
    assert_eq!(rt.delete(POISON_ID), GOMAP_ERR_UNHASHABLE);
    balanced(&[&rt], "hasher error");
    let mut failures = 0;
    for id in n..n + 64.max(n) {
        ALLOC_BUDGET.with(|b| b.set(0));
        if rt.set(id) == GOMAP_ERR_NOMEM {
            failures += 1;
        }
        ALLOC_BUDGET.with(|b| b.set(u64::MAX));
        balanced(&[&rt], &format!("allocation failure at {id}"));
    }
    assert!(failures > 0, "no insert needed an allocation");
    // Clone: every key and elem retained once more.
    let mut c = ptr::null_mut();
    // SAFETY: a live map, not being written; `c` writable.
    assert_eq!(unsafe { gomap_mapclone(rt.m, &mut c) }, GOMAP_OK);
    let cl = Rt { m: c };
    balanced(&[&rt, &cl], "clone");
    // Deletes during an iteration: key releases wait for its end.
    let mut it = gomap_hiter { opaque: [0; GOMAP_HITER_SIZE] };
    // SAFETY: zeroed iterator storage over a live map.
    assert_eq!(unsafe { gomap_mapiterinit(cl.m, &mut it) }, GOMAP_OK);
    let mut deleted = 0;
    // SAFETY: `it` is registered on a live map.
    while !unsafe { gomap_hiter_key(&it) }.is_null() {
        // SAFETY: the iterator's current key.
        let k = unsafe { gomap_hiter_key(&it).cast::<Key>().read() };
        if k.id % 2 == 0 {
            assert_eq!(cl.delete(k.id), GOMAP_OK);
            deleted += 1;
        }
        // SAFETY: a registered iterator of the live map.
        assert_eq!(unsafe { gomap_mapiternext(&mut it) }, GOMAP_OK);
    }
    assert!(deleted > 0);
    // SAFETY: the iteration ended; ending is idempotent.
    assert_eq!(unsafe { gomap_mapiterend(&mut it) }, GOMAP_OK);
    balanced(&[&rt, &cl], "deletes during iteration");
    // SAFETY: a live map used by this thread only.
    assert_eq!(unsafe { gomap_mapclear(cl.m) }, GOMAP_OK);
    balanced(&[&rt, &cl], "clear");
    // SAFETY: live maps, no iterators; freed once each.
    unsafe {
        assert_eq!(gomap_free(cl.m), GOMAP_OK);
        assert_eq!(gomap_free(rt.m), GOMAP_OK);
        gomap_type_free(t);
    }
    assert_eq!(total(), 0, "references left after freeing every map");
}
