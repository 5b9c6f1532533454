//! Interface keys through the C ABI: dynamic type descriptors (NULL and
//! malformed input refused), `map[any]uint64` operations, and the
//! unhashable path (an error with Go's message, the map unchanged).

use std::ffi::{CStr, c_void};
use std::ptr;

use gomap_capi::gomap_status::*;
use gomap_capi::*;

/// A dynamic type (panics on failure).
fn dyntype(name: &CStr, size: usize, direct: bool, kind: u32) -> *mut gomap_dyntype {
    let mut t = ptr::null_mut();
    // SAFETY: a C string, no elem or fields, an out-parameter.
    let s = unsafe { gomap_dyntype_new(name.as_ptr(), size, direct, kind, ptr::null(), 0, ptr::null(), 0, &mut t) };
    assert_eq!(s, GOMAP_OK);
    t
}

#[test]
fn dyntype_null_and_malformed() {
    let mut t = ptr::null_mut();
    let new = |name: *const std::ffi::c_char,
               size,
               direct,
               kind,
               elem: *const gomap_dyntype,
               len,
               fields: *const gomap_dynfield,
               n,
               out: *mut *mut gomap_dyntype| {
        // SAFETY: every pointer is NULL or valid (the cases below).
        unsafe { gomap_dyntype_new(name, size, direct, kind, elem, len, fields, n, out) }
    };
    let nul: *const gomap_dyntype = ptr::null();
    assert_eq!(new(ptr::null(), 8, false, GOMAP_DYN_MEMORY, nul, 0, ptr::null(), 0, &mut t), GOMAP_ERR_NULL);
    assert_eq!(
        new(c"int".as_ptr(), 8, false, GOMAP_DYN_MEMORY, nul, 0, ptr::null(), 0, ptr::null_mut()),
        GOMAP_ERR_NULL
    );
    assert_eq!(new(c"x".as_ptr(), 8, false, 99, nul, 0, ptr::null(), 0, &mut t), GOMAP_ERR_BAD_ARG);
    assert_eq!(new(c"x".as_ptr(), 4, false, GOMAP_DYN_F64, nul, 0, ptr::null(), 0, &mut t), GOMAP_ERR_BAD_TYPE);
    assert_eq!(new(c"x".as_ptr(), 4, true, GOMAP_DYN_MEMORY, nul, 0, ptr::null(), 0, &mut t), GOMAP_ERR_BAD_TYPE);
    assert_eq!(new(c"x".as_ptr(), 8, false, GOMAP_DYN_ARRAY, nul, 2, ptr::null(), 0, &mut t), GOMAP_ERR_NULL);
    assert_eq!(new(c"x".as_ptr(), 8, false, GOMAP_DYN_STRUCT, nul, 0, ptr::null(), 1, &mut t), GOMAP_ERR_NULL);
    assert_eq!(
        new(c"x".as_ptr(), 1 << 40, false, GOMAP_DYN_MEMORY, nul, 0, ptr::null(), 0, &mut t),
        GOMAP_ERR_BAD_TYPE
    );
    let i32t = dyntype(c"int32", 4, false, GOMAP_DYN_MEMORY);
    let nullfield = [gomap_dynfield { offset: 0, type_: ptr::null(), blank: false }];
    assert_eq!(new(c"S".as_ptr(), 4, false, GOMAP_DYN_STRUCT, nul, 0, nullfield.as_ptr(), 1, &mut t), GOMAP_ERR_NULL);
    let overlap = [
        gomap_dynfield { offset: 0, type_: i32t, blank: false },
        gomap_dynfield { offset: 2, type_: i32t, blank: false },
    ];
    assert_eq!(new(c"S".as_ptr(), 8, false, GOMAP_DYN_STRUCT, nul, 0, overlap.as_ptr(), 2, &mut t), GOMAP_ERR_BAD_TYPE);
    assert_eq!(new(c"A".as_ptr(), 11, false, GOMAP_DYN_ARRAY, i32t, 3, ptr::null(), 0, &mut t), GOMAP_ERR_BAD_TYPE);
    assert!(t.is_null(), "out written only on success");
    assert_eq!(new(c"[3]int32".as_ptr(), 12, false, GOMAP_DYN_ARRAY, i32t, 3, ptr::null(), 0, &mut t), GOMAP_OK);
    // SAFETY: live handles, released once (the array keeps its element alive).
    unsafe { gomap_dyntype_free(i32t) };
    // SAFETY: as above.
    unsafe { gomap_dyntype_free(t) };
    // SAFETY: NULL is a no-op.
    unsafe { gomap_dyntype_free(ptr::null_mut()) };
    // SAFETY: NULL out-parameter refused.
    assert_eq!(unsafe { gomap_type_iface(8, 8, false, ptr::null_mut()) }, GOMAP_ERR_NULL);
    let mut mt = ptr::null_mut();
    // SAFETY: an out-parameter; bad elem alignment.
    assert_eq!(unsafe { gomap_type_iface(8, 3, false, &mut mt) }, GOMAP_ERR_BAD_TYPE);
}

#[test]
fn map_any_through_c() {
    let int = dyntype(c"int", 8, false, GOMAP_DYN_MEMORY);
    let myint = dyntype(c"main.MyInt", 8, false, GOMAP_DYN_MEMORY);
    let slice = dyntype(c"[]int", 24, false, GOMAP_DYN_UNHASHABLE);
    let mut mt = ptr::null_mut();
    // SAFETY: an out-parameter.
    assert_eq!(unsafe { gomap_type_iface(8, 8, false, &mut mt) }, GOMAP_OK);
    let mut m = ptr::null_mut();
    // SAFETY: a live type; an out-parameter.
    assert_eq!(unsafe { gomap_makemap_small(mt, &mut m) }, GOMAP_OK);
    let five = 5i64;
    let key = |t: *const gomap_dyntype, v: *const c_void| gomap_iface { type_: t, data: v };
    let set = |k: &gomap_iface, v: u64| {
        let mut e = ptr::null_mut();
        // SAFETY: a live map of interface keys; `k` holds a live type.
        let s = unsafe { gomap_mapassign(m, (k as *const gomap_iface).cast(), &mut e) };
        if s == GOMAP_OK {
            // SAFETY: a u64 elem slot.
            unsafe { e.cast::<u64>().write(v) };
        }
        s
    };
    let get = |k: &gomap_iface| {
        let (mut e, mut ok) = (ptr::null(), false);
        // SAFETY: as in `set`.
        let s = unsafe { gomap_mapaccess2(m, (k as *const gomap_iface).cast(), &mut e, &mut ok) };
        assert_eq!(s, GOMAP_OK);
        // SAFETY: a u64 elem or the zero value.
        ok.then(|| unsafe { e.cast::<u64>().read() })
    };
    let len = || {
        let mut n = 0;
        // SAFETY: a live map; an out-parameter.
        assert_eq!(unsafe { gomap_len(m, &mut n) }, GOMAP_OK);
        n
    };
    let fp = (&raw const five).cast();
    assert_eq!(set(&key(int, fp), 1), GOMAP_OK);
    assert_eq!(set(&key(myint, fp), 2), GOMAP_OK);
    assert_eq!(set(&key(ptr::null(), ptr::null()), 3), GOMAP_OK);
    assert_eq!(len(), 3);
    assert_eq!(get(&key(int, fp)), Some(1));
    assert_eq!(get(&key(myint, fp)), Some(2));
    assert_eq!(get(&key(ptr::null(), ptr::null())), Some(3));
    // Unhashable: refused, the map unchanged, Go's message available.
    let sv = [0u8; 24];
    let bad = key(slice, sv.as_ptr().cast());
    assert_eq!(set(&bad, 9), GOMAP_ERR_UNHASHABLE);
    // SAFETY: as in `set`.
    assert_eq!(unsafe { gomap_mapdelete(m, (&raw const bad).cast()) }, GOMAP_ERR_UNHASHABLE);
    assert_eq!(len(), 3);
    let mut buf = [0 as std::ffi::c_char; 64];
    let mut n = 0;
    // SAFETY: a key of a live type; a 64-byte buffer; an out-parameter.
    let s = unsafe { gomap_iface_key_error(&bad, buf.as_mut_ptr(), buf.len(), &mut n) };
    assert_eq!(s, GOMAP_ERR_UNHASHABLE);
    // SAFETY: NUL-terminated by the call.
    let msg = unsafe { CStr::from_ptr(buf.as_ptr()) }.to_str().unwrap();
    assert_eq!((msg, n), ("runtime error: hash of unhashable type []int", msg.len()));
    let mut small = [0 as std::ffi::c_char; 8];
    // SAFETY: as above, an 8-byte buffer (truncated).
    assert_eq!(unsafe { gomap_iface_key_error(&bad, small.as_mut_ptr(), 8, &mut n) }, GOMAP_ERR_UNHASHABLE);
    // SAFETY: NUL-terminated by the call.
    assert_eq!(unsafe { CStr::from_ptr(small.as_ptr()) }.to_bytes(), b"runtime");
    // SAFETY: a hashable key.
    assert_eq!(unsafe { gomap_iface_key_error(&key(int, fp), ptr::null_mut(), 0, &mut n) }, GOMAP_OK);
    assert_eq!(n, 0);
    // SAFETY: NULL key / NULL buffer with a capacity refused.
    assert_eq!(unsafe { gomap_iface_key_error(ptr::null(), ptr::null_mut(), 0, &mut n) }, GOMAP_ERR_NULL);
    // SAFETY: as above.
    assert_eq!(unsafe { gomap_iface_key_error(&bad, ptr::null_mut(), 4, &mut n) }, GOMAP_ERR_NULL);
    // SAFETY: no iterators; live handles released once, after the map.
    assert_eq!(unsafe { gomap_free(m) }, GOMAP_OK);
    // SAFETY: as above.
    unsafe { gomap_type_free(mt) };
    for t in [int, myint, slice] {
        // SAFETY: live handles, released once.
        unsafe { gomap_dyntype_free(t) };
    }
}
