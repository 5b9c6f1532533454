//! `GoMap::try_insert` under allocation failure: the key and value come
//! back, the map is unchanged and usable. Its own test binary: it installs
//! a process-wide default allocator.

use std::ffi::c_void;
use std::sync::atomic::{AtomicBool, Ordering};

use gomap::GoMap;
use gomap::alloc::{Allocator, set_default_allocator};
use gomap::fatal::MapError;

static FAIL: AtomicBool = AtomicBool::new(false);

unsafe extern "C" fn maybe_calloc(_: *mut c_void, size: usize) -> *mut c_void {
    if FAIL.load(Ordering::Relaxed) {
        return std::ptr::null_mut();
    }
    // SAFETY: calloc accepts any size.
    unsafe { libc::calloc(1, size) }
}

unsafe extern "C" fn plain_free(_: *mut c_void, p: *mut c_void, _: usize) {
    // SAFETY: from maybe_calloc.
    unsafe { libc::free(p) }
}

#[test]
fn try_insert_gives_back_key_and_value_on_allocation_failure() {
    // SAFETY: calloc/free wrappers, callable from any thread.
    set_default_allocator(unsafe { Allocator::new(maybe_calloc, plain_free, std::ptr::null_mut()) });
    let mut m = GoMap::<String, Vec<u8>>::new();
    for i in 0..8 {
        assert!(matches!(m.try_insert(i.to_string(), vec![i as u8]), Ok(None)));
    }
    FAIL.store(true, Ordering::Relaxed);
    // The ninth entry needs a bigger array.
    match m.try_insert("new".to_string(), vec![42]) {
        Err((MapError::AllocFailed, k, v)) => assert_eq!((k.as_str(), v.as_slice()), ("new", &[42u8][..])),
        other => panic!("expected AllocFailed with the pair back, got {:?}", other.map_err(|e| e.0)),
    }
    // An update needs no allocation.
    assert_eq!(m.try_insert("3".to_string(), vec![33]).ok(), Some(Some(vec![3])));
    FAIL.store(false, Ordering::Relaxed);
    assert_eq!(m.len(), 8);
    assert!(matches!(m.try_insert("new".to_string(), vec![42]), Ok(None)));
    assert_eq!(m.get(&"new".to_string()), Some(&vec![42]));
    set_default_allocator(Allocator::LIBC);
}
