//! The C ABI called from Rust, so that Miri checks the FFI layer too. Small
//! sizes (smaller still under Miri). The C tests (`tests/c_abi.rs`) cover
//! the same ground from C under ASan/UBSan and valgrind.

use std::collections::BTreeMap;
use std::ffi::{CStr, c_int, c_void};
use std::ptr;
use std::sync::Mutex;

use gomap_capi::gomap_status::*;
use gomap_capi::*;

/// The hooks are process-wide: tests take this lock so that one test's
/// allocator or random source never leaks into another's maps.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

const N: u64 = if cfg!(miri) { 40 } else { 2000 };

fn u64_type() -> *mut gomap_type {
    let mut t = ptr::null_mut();
    // SAFETY: `t` is writable.
    assert_eq!(unsafe { gomap_type_preset(GOMAP_KEY_U64, 8, 8, false, &mut t) }, GOMAP_OK);
    assert!(!t.is_null());
    t
}

/// # Safety
/// `m` is a live u64 -> u64 map.
unsafe fn put(m: *mut gomap_map, k: u64, v: u64) {
    let mut e = ptr::null_mut();
    // SAFETY: forwarded; the slot holds a u64 elem.
    unsafe {
        assert_eq!(gomap_mapassign(m, (&raw const k).cast(), &mut e), GOMAP_OK);
        e.cast::<u64>().write(v);
    }
}

/// # Safety
/// `m` is NULL or a live u64 -> u64 map.
unsafe fn get(m: *const gomap_map, k: u64) -> Option<u64> {
    let mut e = ptr::null();
    let mut ok = false;
    // SAFETY: forwarded; a found elem is a u64.
    unsafe {
        assert_eq!(gomap_mapaccess2(m, (&raw const k).cast(), &mut e, &mut ok), GOMAP_OK);
        ok.then(|| e.cast::<u64>().read())
    }
}

/// # Safety
/// `m` is NULL or a live map.
unsafe fn len(m: *const gomap_map) -> usize {
    let mut n = usize::MAX;
    // SAFETY: forwarded.
    assert_eq!(unsafe { gomap_len(m, &mut n) }, GOMAP_OK);
    n
}

/// Collects `(key, elem)` of a u64 -> u64 map through the C iterator.
///
/// # Safety
/// `m` is NULL or a live u64 -> u64 map.
unsafe fn entries(m: *const gomap_map) -> Vec<(u64, u64)> {
    let mut it = gomap_hiter { opaque: [0; GOMAP_HITER_SIZE] };
    let mut out = Vec::new();
    // SAFETY: a zeroed iterator over a live map; key/elem are u64s.
    unsafe {
        assert_eq!(gomap_mapiterinit(m, &mut it), GOMAP_OK);
        while !gomap_hiter_key(&it).is_null() {
            out.push((gomap_hiter_key(&it).cast::<u64>().read(), gomap_hiter_elem(&it).cast::<u64>().read()));
            assert_eq!(gomap_mapiternext(&mut it), GOMAP_OK);
        }
        assert!(gomap_hiter_elem(&it).is_null());
    }
    out
}

#[test]
fn roundtrip_iterate_clone_clear() {
    let _g = serial();
    // SAFETY: every handle is used while live and freed once.
    unsafe {
        let t = u64_type();
        let mut m = ptr::null_mut();
        assert_eq!(gomap_makemap(t, 0, &mut m), GOMAP_OK);
        gomap_type_free(t);
        let mut model = BTreeMap::new();
        for i in 0..N {
            put(m, i, i * 7);
            model.insert(i, i * 7);
        }
        for i in (0..N).step_by(3) {
            assert_eq!(gomap_mapdelete(m, (&raw const i).cast()), GOMAP_OK);
            model.remove(&i);
        }
        assert_eq!(len(m), model.len());
        for i in 0..N {
            assert_eq!(get(m, i), model.get(&i).copied());
        }
        let mut seen: Vec<_> = entries(m);
        seen.sort();
        assert_eq!(seen, model.iter().map(|(k, v)| (*k, *v)).collect::<Vec<_>>());

        let mut c = ptr::null_mut();
        assert_eq!(gomap_mapclone(m, &mut c), GOMAP_OK);
        assert_eq!(gomap_mapclear(m), GOMAP_OK);
        assert_eq!(len(m), 0);
        assert_eq!(len(c), model.len());
        assert_eq!(get(c, 1), Some(7));
        let mut z = ptr::null();
        let absent = N;
        assert_eq!(gomap_mapaccess1(m, (&raw const absent).cast(), &mut z), GOMAP_OK);
        assert_eq!(z.cast::<u64>().read(), 0);
        assert_eq!(gomap_free(m), GOMAP_OK);
        assert_eq!(gomap_free(c), GOMAP_OK);
    }
}

#[test]
fn iterator_keeps_map_busy_and_survives_growth() {
    let _g = serial();
    // SAFETY: as above; the iterator is ended before the map is freed.
    unsafe {
        let t = u64_type();
        let mut m = ptr::null_mut();
        assert_eq!(gomap_makemap_small(t, &mut m), GOMAP_OK);
        for i in 0..9 {
            put(m, i, i);
        }
        let mut it = gomap_hiter { opaque: [0; GOMAP_HITER_SIZE] };
        assert_eq!(gomap_mapiterinit(m, &mut it), GOMAP_OK);
        assert!(!gomap_hiter_key(&it).is_null());
        for i in 9..N {
            put(m, i, i); // grows under the iterator
        }
        let mut st = gomap_stats::default();
        assert_eq!(gomap_map_stats(m, &mut st), GOMAP_OK);
        assert_eq!(st.live_iterators, 1);
        let mut seen = vec![false; N as usize];
        while !gomap_hiter_key(&it).is_null() {
            let k = gomap_hiter_key(&it).cast::<u64>().read();
            assert!(!seen[k as usize]);
            seen[k as usize] = true;
            assert_eq!(gomap_mapiternext(&mut it), GOMAP_OK);
        }
        assert!(seen[..9].iter().all(|s| *s));
        assert_eq!(gomap_mapiterend(&mut it), GOMAP_OK);
        assert_eq!(gomap_free(m), GOMAP_OK);
        gomap_type_free(t);
    }
}

#[test]
fn errors_and_nil_maps() {
    let _g = serial();
    // SAFETY: invalid arguments are exactly what is being tested; every one
    // is NULL or rejected before use.
    unsafe {
        let mut t = ptr::null_mut();
        assert_eq!(gomap_type_preset(GOMAP_KEY_U64, 8, 8, false, ptr::null_mut()), GOMAP_ERR_NULL);
        assert_eq!(gomap_type_preset(12345, 8, 8, false, &mut t), GOMAP_ERR_BAD_ARG);
        assert_eq!(gomap_type_preset(GOMAP_KEY_U64, 8, 3, false, &mut t), GOMAP_ERR_BAD_TYPE);
        assert_eq!(gomap_type_preset(GOMAP_KEY_U64, 8, 16, false, &mut t), GOMAP_ERR_BAD_TYPE);
        assert_eq!(gomap_type_preset(GOMAP_KEY_U64, 12, 8, false, &mut t), GOMAP_ERR_BAD_TYPE);
        assert_eq!(gomap_type_preset(GOMAP_KEY_U64, usize::MAX, 1, false, &mut t), GOMAP_ERR_BAD_TYPE);
        let overlap = [
            gomap_field { offset: 0, size: 8, kind: GOMAP_FIELD_MEM },
            gomap_field { offset: 4, size: 4, kind: GOMAP_FIELD_F32 },
        ];
        assert_eq!(gomap_type_composite(overlap.as_ptr(), 2, 8, 8, 8, 8, false, &mut t), GOMAP_ERR_BAD_TYPE);
        assert_eq!(gomap_type_composite(ptr::null(), 1, 8, 8, 8, 8, false, &mut t), GOMAP_ERR_NULL);
        assert_eq!(gomap_type_custom(ptr::null(), &mut t), GOMAP_ERR_NULL);
        let d = gomap_type_desc {
            key_size: 8,
            key_align: 8,
            elem_size: 8,
            elem_align: 8,
            flags: 0,
            hash: None,
            equal: Some(eq8),
            key_check: None,
            ctx: ptr::null_mut(),
        };
        assert_eq!(gomap_type_custom(&d, &mut t), GOMAP_ERR_BAD_TYPE);
        assert!(t.is_null());

        let k = 1u64;
        let mut e = ptr::null_mut();
        assert_eq!(gomap_mapassign(ptr::null_mut(), (&raw const k).cast(), &mut e), GOMAP_ERR_NIL_MAP_ASSIGN);
        assert!(e.is_null());
        assert_eq!(get(ptr::null(), 1), None);
        assert_eq!(len(ptr::null()), 0);
        assert_eq!(gomap_mapdelete(ptr::null_mut(), (&raw const k).cast()), GOMAP_OK);
        assert_eq!(gomap_mapclear(ptr::null_mut()), GOMAP_OK);
        assert!(entries(ptr::null()).is_empty());
        assert_eq!(gomap_free(ptr::null_mut()), GOMAP_OK);
        gomap_type_free(ptr::null_mut());
        assert_eq!(gomap_mapiternext(ptr::null_mut()), GOMAP_ERR_NULL);
        let mut garbage = gomap_hiter { opaque: [0xFF; GOMAP_HITER_SIZE] };
        assert_eq!(gomap_mapiterend(&mut garbage), GOMAP_ERR_BAD_ARG);

        let msg = CStr::from_ptr(gomap_strerror(GOMAP_ERR_UNHASHABLE as c_int));
        assert_eq!(msg.to_str().unwrap(), "runtime error: hash of unhashable type");
        assert_eq!(CStr::from_ptr(gomap_strerror(-3)).to_str().unwrap(), "unknown gomap status");
    }
}

unsafe extern "C" fn hash8(_ctx: *mut c_void, key: *const c_void, seed: u64, err: *mut c_int) -> u64 {
    // SAFETY: keys are 8 bytes; `err` is writable (the ABI).
    unsafe {
        let k = key.cast::<u64>().read_unaligned();
        if k == 666 {
            err.write(1);
        }
        (k ^ seed).wrapping_mul(0x9E37_79B9_7F4A_7C15)
    }
}

unsafe extern "C" fn eq8(_ctx: *mut c_void, a: *const c_void, b: *const c_void) -> bool {
    // SAFETY: keys are 8 bytes.
    unsafe { a.cast::<u64>().read_unaligned() == b.cast::<u64>().read_unaligned() }
}

#[test]
fn failing_custom_hasher_is_unhashable_and_harmless() {
    let _g = serial();
    // SAFETY: a valid descriptor; handles used while live.
    unsafe {
        let d = gomap_type_desc {
            key_size: 8,
            key_align: 8,
            elem_size: 8,
            elem_align: 8,
            flags: GOMAP_DESC_REFLEXIVE,
            hash: Some(hash8),
            equal: Some(eq8),
            key_check: None,
            ctx: ptr::null_mut(),
        };
        let mut t = ptr::null_mut();
        assert_eq!(gomap_type_custom(&d, &mut t), GOMAP_OK);
        let mut m = ptr::null_mut();
        assert_eq!(gomap_makemap(t, 0, &mut m), GOMAP_OK);
        for i in 0..20 {
            put(m, i, i);
        }
        let bad = 666u64;
        let mut e = ptr::null_mut();
        assert_eq!(gomap_mapassign(m, (&raw const bad).cast(), &mut e), GOMAP_ERR_UNHASHABLE);
        assert!(e.is_null());
        assert_eq!(gomap_mapdelete(m, (&raw const bad).cast()), GOMAP_ERR_UNHASHABLE);
        assert_eq!(len(m), 20);
        put(m, 20, 20); // still writable: the write flag was not left set
        assert_eq!(get(m, 20), Some(20));
        assert_eq!(gomap_free(m), GOMAP_OK);
        gomap_type_free(t);
    }
}

/// A counting allocator: live blocks by address, with their sizes.
struct Counting {
    live: Mutex<BTreeMap<usize, usize>>,
}

unsafe extern "C" fn count_alloc(ctx: *mut c_void, size: usize) -> *mut c_void {
    // SAFETY: ctx is a live Counting (the test's).
    let c = unsafe { &*ctx.cast::<Counting>() };
    // SAFETY: plain calloc.
    let p = unsafe { libc::calloc(1, size) };
    if !p.is_null() {
        c.live.lock().unwrap().insert(p as usize, size);
    }
    p
}

unsafe extern "C" fn count_free(ctx: *mut c_void, p: *mut c_void, size: usize) {
    // SAFETY: ctx is a live Counting.
    let c = unsafe { &*ctx.cast::<Counting>() };
    assert_eq!(c.live.lock().unwrap().remove(&(p as usize)), Some(size));
    // SAFETY: from count_alloc.
    unsafe { libc::free(p) };
}

unsafe extern "C" fn collect(ctx: *mut c_void, what: u32, p: *mut c_void, size: usize) {
    // SAFETY: ctx is the test's Vec.
    let v = unsafe { &mut *ctx.cast::<Vec<(u32, usize, usize)>>() };
    v.push((what, p as usize, size));
}

#[test]
fn allocator_hooks_and_visitor_agree() {
    let _g = serial();
    let c = Counting { live: Mutex::new(BTreeMap::new()) };
    let ctx = (&raw const c).cast_mut().cast::<c_void>();
    // SAFETY: the allocator outlives every map made with it (all freed below).
    unsafe {
        let t = u64_type();
        assert_eq!(gomap_set_allocator(Some(count_alloc), Some(count_free), ctx), GOMAP_OK);
        let mut m = ptr::null_mut();
        let r = gomap_makemap(t, 0, &mut m);
        assert_eq!(gomap_set_allocator(None, None, ptr::null_mut()), GOMAP_OK);
        assert_eq!(r, GOMAP_OK);
        let mut m2 = ptr::null_mut();
        assert_eq!(gomap_makemap_with_allocator(t, 0, Some(count_alloc), Some(count_free), ctx, &mut m2), GOMAP_OK);
        let mut it = gomap_hiter { opaque: [0; GOMAP_HITER_SIZE] };
        for i in 0..N {
            put(m, i, i);
            put(m2, i, i);
            if i == N / 4 {
                assert_eq!(gomap_mapiterinit(m, &mut it), GOMAP_OK);
            }
        }
        for i in 0..N / 2 {
            assert_eq!(gomap_mapdelete(m, (&raw const i).cast()), GOMAP_OK);
        }
        let mut seen: Vec<(u32, usize, usize)> = Vec::new();
        let sp = (&raw mut seen).cast::<c_void>();
        assert_eq!(gomap_visit(m, Some(collect), sp), GOMAP_OK);
        assert_eq!(gomap_visit(m2, Some(collect), sp), GOMAP_OK);
        let mut blocks: Vec<(usize, usize)> = seen.iter().filter(|s| s.0 >= 16).map(|s| (s.1, s.2)).collect();
        blocks.sort();
        let live: Vec<(usize, usize)> = c.live.lock().unwrap().iter().map(|(a, s)| (*a, *s)).collect();
        assert_eq!(blocks, live, "visited blocks are exactly the live allocations");
        let keys = seen.iter().filter(|s| s.0 == 1).count();
        assert_eq!(keys, len(m) + len(m2));
        assert_eq!(gomap_mapiterend(&mut it), GOMAP_OK);
        assert_eq!(gomap_free(m), GOMAP_OK);
        assert_eq!(gomap_free(m2), GOMAP_OK);
        assert!(c.live.lock().unwrap().is_empty(), "allocs and frees balance");
        gomap_type_free(t);
    }
}

unsafe extern "C" fn lcg(ctx: *mut c_void) -> u64 {
    // SAFETY: ctx is the test's u64 state.
    let s = unsafe { &mut *ctx.cast::<u64>() };
    *s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    *s
}

#[test]
fn host_random_source_makes_order_deterministic() {
    let _g = serial();
    let order = |seed: u64| {
        let mut state = seed;
        // SAFETY: `state` outlives its installation (removed below).
        unsafe {
            assert_eq!(gomap_set_rand(Some(lcg), (&raw mut state).cast()), GOMAP_OK);
            let t = u64_type();
            let mut m = ptr::null_mut();
            assert_eq!(gomap_makemap(t, 0, &mut m), GOMAP_OK);
            for i in 0..50 {
                put(m, i, i);
            }
            let e = entries(m);
            assert_eq!(gomap_set_rand(None, ptr::null_mut()), GOMAP_OK);
            assert_eq!(gomap_free(m), GOMAP_OK);
            gomap_type_free(t);
            e
        }
    };
    assert_eq!(order(1), order(1));
    assert_ne!(order(1), order(2));
}

/// `gomap_map_stats`: NULL out is an error, a NULL map all zero; a map's
/// entries, bucket array and live iterators as the operations left them.
#[test]
fn map_stats() {
    let _g = serial();
    let t = u64_type();
    // SAFETY: a NULL out-parameter is rejected before use.
    assert_eq!(unsafe { gomap_map_stats(ptr::null(), ptr::null_mut()) }, GOMAP_ERR_NULL);
    let mut s = gomap_stats { count: 9, ..Default::default() };
    // SAFETY: a NULL map is the nil map; `s` is writable.
    assert_eq!(unsafe { gomap_map_stats(ptr::null(), &mut s) }, GOMAP_OK);
    assert_eq!(s, gomap_stats::default());
    let mut m = ptr::null_mut();
    // SAFETY: a live type; `m` is writable.
    assert_eq!(unsafe { gomap_makemap(t, 0, &mut m) }, GOMAP_OK);
    for k in 0..N {
        // SAFETY: a live u64 -> u64 map.
        unsafe { put(m, k, k) };
    }
    // SAFETY: a live map, not being written; `s` is writable.
    assert_eq!(unsafe { gomap_map_stats(m, &mut s) }, GOMAP_OK);
    assert_eq!(s.count, N as usize);
    assert!(s.b >= 1 && s.bucket_array_bytes >= (144 << s.b), "{s:?}");
    assert_eq!(s.live_iterators, 0);
    let mut it = gomap_hiter { opaque: [0; GOMAP_HITER_SIZE] };
    // SAFETY: zeroed iterator storage over a live map.
    assert_eq!(unsafe { gomap_mapiterinit(m, &mut it) }, GOMAP_OK);
    // SAFETY: as above.
    assert_eq!(unsafe { gomap_map_stats(m, &mut s) }, GOMAP_OK);
    assert_eq!(s.live_iterators, 1);
    // SAFETY: a registered iterator of the live map.
    assert_eq!(unsafe { gomap_mapiterend(&mut it) }, GOMAP_OK);
    // SAFETY: as above.
    assert_eq!(unsafe { gomap_map_stats(m, &mut s) }, GOMAP_OK);
    assert_eq!((s.live_iterators, s.retired_blocks), (0, 0));
    // SAFETY: a live map, no iterators; the type handle freed after it.
    unsafe {
        assert_eq!(gomap_free(m), GOMAP_OK);
        gomap_type_free(t);
    }
}

/// A byte copy of a live iterator cannot step or end the original's
/// registration: ending both used to count the map's live iterators down
/// twice (an underflow that pinned retired memory and made `gomap_free`
/// refuse forever).
#[test]
fn copied_iterator_is_refused() {
    let _g = serial();
    let t = u64_type();
    let mut m = ptr::null_mut();
    // SAFETY: a live type; `m` is writable.
    assert_eq!(unsafe { gomap_makemap(t, 0, &mut m) }, GOMAP_OK);
    for k in 0..N {
        // SAFETY: a live u64 -> u64 map.
        unsafe { put(m, k, k) };
    }
    let live = || {
        let mut s = gomap_stats::default();
        // SAFETY: a live map, not being written.
        assert_eq!(unsafe { gomap_map_stats(m, &mut s) }, GOMAP_OK);
        s.live_iterators
    };
    let mut it = Box::new(gomap_hiter { opaque: [0; GOMAP_HITER_SIZE] });
    // SAFETY: zeroed storage over a live map.
    assert_eq!(unsafe { gomap_mapiterinit(m, &mut *it) }, GOMAP_OK);
    let mut copy = Box::new(gomap_hiter { opaque: [0; GOMAP_HITER_SIZE] });
    // A C host's memcpy: bytes copied as they are (padding included).
    // SAFETY: two distinct boxes of one gomap_hiter each.
    unsafe { ptr::copy_nonoverlapping(&raw const *it, &raw mut *copy, 1) };
    // SAFETY: `copy` is storage holding a byte copy of a live iterator.
    unsafe {
        assert_eq!(gomap_mapiternext(&mut *copy), GOMAP_ERR_BAD_ARG);
        assert_eq!(gomap_mapiterend(&mut *copy), GOMAP_ERR_BAD_ARG);
    }
    assert_eq!(live(), 1);
    // SAFETY: the original, registered at its own address.
    unsafe {
        assert_eq!(gomap_mapiternext(&mut *it), GOMAP_OK);
        assert_eq!(gomap_mapiterend(&mut *it), GOMAP_OK);
        assert_eq!(gomap_mapiterend(&mut *it), GOMAP_OK);
    }
    assert_eq!(live(), 0);
    // SAFETY: still refused; a fresh start on the copy's storage is fine.
    unsafe {
        assert_eq!(gomap_mapiterend(&mut *copy), GOMAP_ERR_BAD_ARG);
        assert_eq!(gomap_mapiterinit(m, &mut *copy), GOMAP_OK);
    }
    assert_eq!(live(), 1);
    // SAFETY: the copy's storage now holds its own registered iterator.
    assert_eq!(unsafe { gomap_mapiterend(&mut *copy) }, GOMAP_OK);
    assert_eq!(live(), 0);
    // SAFETY: no iterators; freed once.
    unsafe {
        assert_eq!(gomap_free(m), GOMAP_OK);
        gomap_type_free(t);
    }
}

static ABANDON_LIVE: std::sync::atomic::AtomicIsize = std::sync::atomic::AtomicIsize::new(0);

unsafe extern "C" fn abandon_calloc(_: *mut c_void, size: usize) -> *mut c_void {
    ABANDON_LIVE.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    // SAFETY: calloc accepts any size.
    unsafe { libc::calloc(1, size) }
}

unsafe extern "C" fn abandon_free(_: *mut c_void, p: *mut c_void, _: usize) {
    ABANDON_LIVE.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
    // SAFETY: from abandon_calloc.
    unsafe { libc::free(p) }
}

/// `for k := range m { break }` compiled without the iterator's end, over
/// a churning map with 200-byte (out-of-line) elems: every abandoned
/// iterator keeps retired memory, and `gomap_free` still frees the map and
/// all of it (it refused with BUSY before).
#[test]
fn free_with_abandoned_iterators_frees_everything() {
    let _g = serial();
    let mut t = ptr::null_mut();
    // SAFETY: `t` is writable.
    assert_eq!(unsafe { gomap_type_preset(GOMAP_KEY_U64, 200, 8, false, &mut t) }, GOMAP_OK);
    let mut m = ptr::null_mut();
    // SAFETY: a live type; the allocator is callable from any thread.
    let st = unsafe {
        gomap_makemap_with_allocator(t, 0, Some(abandon_calloc), Some(abandon_free), ptr::null_mut(), &mut m)
    };
    assert_eq!(st, GOMAP_OK);
    let loops: u64 = if cfg!(miri) { 20 } else { 2000 };
    let mut abandoned = Vec::new();
    for i in 0..loops {
        for k in [i, i + 1] {
            let mut e = ptr::null_mut();
            // SAFETY: a live map; the slot has room for 200 bytes.
            assert_eq!(unsafe { gomap_mapassign(m, (&raw const k).cast(), &mut e) }, GOMAP_OK);
        }
        if i >= 8 {
            let old = i - 8;
            // SAFETY: a live map.
            assert_eq!(unsafe { gomap_mapdelete(m, (&raw const old).cast()) }, GOMAP_OK);
        }
        let mut it = Box::new(gomap_hiter { opaque: [0; GOMAP_HITER_SIZE] });
        // SAFETY: zeroed storage over a live map; the loop "breaks" at once.
        assert_eq!(unsafe { gomap_mapiterinit(m, &mut *it) }, GOMAP_OK);
        abandoned.push(it);
    }
    let mut s = gomap_stats::default();
    // SAFETY: a live map, not being written.
    assert_eq!(unsafe { gomap_map_stats(m, &mut s) }, GOMAP_OK);
    assert_eq!(s.live_iterators as u64, loops);
    // (Before pins this also asserted that the abandoned iterators kept
    // retired memory; now they keep only what they can reach, which in a
    // map this small that never grows past them can be nothing.)
    // SAFETY: a live map; its iterators are never used again.
    assert_eq!(unsafe { gomap_free(m) }, GOMAP_OK);
    assert_eq!(ABANDON_LIVE.load(std::sync::atomic::Ordering::Relaxed), 0, "blocks left after free");
    drop(abandoned);
    // SAFETY: no maps of the type remain.
    unsafe { gomap_type_free(t) };
}

/// Issue 15: `for k := range m { break }` lowered without an end, in a
/// loop over a churning map of 200-byte elems: the memory the abandoned
/// iterators keep stays within what they can reach (per generation an
/// abandoned iterator pins: one bucket array and its overflow buckets; plus
/// the elems kept for the current old array's stale slots), watched
/// through `gomap_map_stats`. Before pins every deleted elem and every
/// retired array stayed until `gomap_free`.
#[test]
fn abandoned_range_loops_keep_memory_bounded() {
    let _g = serial();
    let mut t = ptr::null_mut();
    // SAFETY: `t` is writable.
    assert_eq!(unsafe { gomap_type_preset(GOMAP_KEY_U64, 200, 8, false, &mut t) }, GOMAP_OK);
    let mut m = ptr::null_mut();
    // SAFETY: a live type; the allocator is callable from any thread.
    let st = unsafe {
        gomap_makemap_with_allocator(t, 0, Some(abandon_calloc), Some(abandon_free), ptr::null_mut(), &mut m)
    };
    assert_eq!(st, GOMAP_OK);
    let (rounds, window, per_round) = if cfg!(miri) { (30u64, 60u64, 6u64) } else { (2000, 1600, 20) };
    let put = |k: u64| {
        let mut e = ptr::null_mut();
        // SAFETY: a live map; the slot has room for 200 bytes.
        assert_eq!(unsafe { gomap_mapassign(m, (&raw const k).cast(), &mut e) }, GOMAP_OK);
        // SAFETY: the elem slot of `k`, 200 writable bytes.
        unsafe { e.cast::<u8>().write_bytes(k as u8, 200) };
    };
    for k in 0..window {
        put(k);
    }
    let (mut lo, mut hi) = (0u64, window);
    let mut abandoned = Vec::new();
    let (mut gens, mut was_growing) = (1usize, false);
    let (mut max_arrays, mut max_ovf, mut peak) = (0usize, 0usize, 0usize);
    for _ in 0..rounds {
        let mut it = Box::new(gomap_hiter { opaque: [0; GOMAP_HITER_SIZE] });
        // SAFETY: zeroed storage over a live map; the loop "breaks" at once.
        assert_eq!(unsafe { gomap_mapiterinit(m, &mut *it) }, GOMAP_OK);
        abandoned.push(it);
        for _ in 0..per_round {
            // SAFETY: a live map.
            assert_eq!(unsafe { gomap_mapdelete(m, (&raw const lo).cast()) }, GOMAP_OK);
            lo += 1;
            put(hi);
            hi += 1;
        }
        // (A growth of this map spans several rounds: each write evacuates
        // at most two of its 256 old buckets.)
        let mut s = gomap_stats::default();
        // SAFETY: a live map, not being written.
        assert_eq!(unsafe { gomap_map_stats(m, &mut s) }, GOMAP_OK);
        gens += usize::from(s.growing == 1 && !was_growing);
        was_growing = s.growing == 1;
        max_arrays = max_arrays.max(s.bucket_array_bytes);
        max_ovf = max_ovf.max(s.overflow_bytes);
        peak = peak.max(s.retired_bytes);
        let bound = gens * (max_arrays + max_ovf + 192) + (2 << s.b) * (16 + 200);
        assert!(s.retired_bytes <= bound, "retained {} > bound {bound}: {s:?}", s.retired_bytes);
    }
    println!("{rounds} abandoned iterators, {gens} generations: peak retained {peak} bytes");
    // SAFETY: a live u64-keyed map (`len` reads only the count).
    assert_eq!(unsafe { len(m) }, window as usize, "the deletes found their keys");
    // SAFETY: a live map; its iterators are never used again.
    assert_eq!(unsafe { gomap_free(m) }, GOMAP_OK);
    assert_eq!(ABANDON_LIVE.load(std::sync::atomic::Ordering::Relaxed), 0, "blocks left after free");
    drop(abandoned);
    // SAFETY: no maps of the type remain.
    unsafe { gomap_type_free(t) };
}

static HASHED_UNHASHABLE: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

unsafe extern "C" fn hash_u64(_: *mut c_void, k: *const c_void, seed: u64, _: *mut c_int) -> u64 {
    // SAFETY: a u64 key.
    let k = unsafe { k.cast::<u64>().read() };
    if k == 13 {
        HASHED_UNHASHABLE.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
    (k ^ seed).wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

unsafe extern "C" fn equal_u64(_: *mut c_void, a: *const c_void, b: *const c_void) -> bool {
    // SAFETY: two u64 keys.
    unsafe { a.cast::<u64>().read() == b.cast::<u64>().read() }
}

/// Key 13 is unhashable (the type's key check says so).
unsafe extern "C" fn not_13(_: *mut c_void, k: *const c_void) -> bool {
    // SAFETY: a u64 key.
    unsafe { k.cast::<u64>().read() != 13 }
}

/// `gomap_mapaccessK` and `gomap_mapdelete2` check the key before hashing
/// it, as the other lookups do: an unhashable key is reported and the
/// host's hasher never sees it.
#[test]
fn access_k_and_delete2_reject_unhashable_keys() {
    let _g = serial();
    let desc = gomap_type_desc {
        key_size: 8,
        key_align: 8,
        elem_size: 8,
        elem_align: 8,
        flags: GOMAP_DESC_REFLEXIVE | GOMAP_DESC_HASH_MIGHT_PANIC,
        hash: Some(hash_u64),
        equal: Some(equal_u64),
        key_check: Some(not_13),
        ctx: ptr::null_mut(),
    };
    let (mut t, mut m) = (ptr::null_mut(), ptr::null_mut());
    // SAFETY: a valid descriptor; out-parameters are writable.
    unsafe {
        assert_eq!(gomap_type_custom(&desc, &mut t), GOMAP_OK);
        assert_eq!(gomap_makemap(t, 0, &mut m), GOMAP_OK);
        put(m, 1, 1);
    }
    let k = 13u64;
    let (mut sk, mut se) = (ptr::null_mut(), ptr::null_mut());
    let (mut kk, mut ee, mut found) = (0u64, 0u64, false);
    // SAFETY: a live map; the buffers fit a key and an elem.
    unsafe {
        assert_eq!(gomap_mapaccessK(m, (&raw const k).cast(), &mut sk, &mut se), GOMAP_ERR_UNHASHABLE);
        let st = gomap_mapdelete2(m, (&raw const k).cast(), (&raw mut kk).cast(), (&raw mut ee).cast(), &mut found);
        assert_eq!(st, GOMAP_ERR_UNHASHABLE);
    }
    assert_eq!(HASHED_UNHASHABLE.load(std::sync::atomic::Ordering::Relaxed), 0, "the hasher saw key 13");
    // SAFETY: a live map.
    assert_eq!(unsafe { len(m) }, 1);
    // SAFETY: no iterators; freed once.
    unsafe {
        assert_eq!(gomap_free(m), GOMAP_OK);
        gomap_type_free(t);
    }
}
