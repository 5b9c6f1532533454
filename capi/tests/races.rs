//! Races a host program can have, played out deterministically: two
//! threads whose callbacks hold each other at the exact point where the
//! race matters. Each case runs in a child process, because a detected
//! race is a fatal error (the handler prints Go's line and exits).

use std::ffi::{CStr, c_char, c_int, c_void};
use std::process::Command;
use std::ptr;
use std::sync::{Barrier, OnceLock};

use gomap_capi::gomap_status::*;
use gomap_capi::*;

/// Exit status of a child whose fatal handler ran.
const FATAL_EXIT: i32 = 3;

static STEP: [OnceLock<Barrier>; 3] = [OnceLock::new(), OnceLock::new(), OnceLock::new()];

fn step(i: usize) {
    STEP[i].get_or_init(|| Barrier::new(2)).wait();
}

thread_local! {
    /// 1: the writer (held in its equality callback with the flag set);
    /// 2: the reader (held in its hash callback, past Go's entry check).
    static ROLE: std::cell::Cell<u8> = const { std::cell::Cell::new(0) };
}

unsafe extern "C" fn gated_hash(_ctx: *mut c_void, key: *const c_void, seed: u64, _err: *mut c_int) -> u64 {
    if ROLE.with(|r| r.get()) == 2 {
        ROLE.with(|r| r.set(0));
        step(0); // the reader passed the entry check: the writer may start
        step(1); // the writer holds the flag
    }
    // SAFETY: a u64 key.
    let k = unsafe { key.cast::<u64>().read_unaligned() };
    (k ^ seed).wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

unsafe extern "C" fn gated_eq(_ctx: *mut c_void, a: *const c_void, b: *const c_void) -> bool {
    if ROLE.with(|r| r.get()) == 1 {
        ROLE.with(|r| r.set(0));
        step(1); // tell the reader: the flag is set
        step(2); // wait (released only if the reader came back unnoticed)
    }
    // SAFETY: u64 keys.
    unsafe { a.cast::<u64>().read_unaligned() == b.cast::<u64>().read_unaligned() }
}

unsafe extern "C" fn on_fatal(msg: *const c_char, _ctx: *mut c_void) {
    // SAFETY: NUL-terminated (the C ABI's promise).
    let m = unsafe { CStr::from_ptr(msg) }.to_string_lossy();
    eprintln!("fatal error: {m}");
    // SAFETY: `_exit` never returns.
    unsafe { libc::_exit(FATAL_EXIT) }
}

/// The child: a lookup that starts before a write and ends during it.
fn lookup_ends_during_a_write() {
    // SAFETY: the handler exits; no context.
    assert_eq!(unsafe { gomap_set_fatal_handler(Some(on_fatal), ptr::null_mut()) }, GOMAP_OK);
    let d = gomap_type_desc {
        key_size: 8,
        key_align: 8,
        elem_size: 8,
        elem_align: 8,
        flags: GOMAP_DESC_REFLEXIVE,
        hash: Some(gated_hash),
        equal: Some(gated_eq),
        key_check: None,
        ctx: ptr::null_mut(),
    };
    let (mut t, mut m) = (ptr::null_mut(), ptr::null_mut());
    // SAFETY: a valid descriptor; outs writable.
    assert_eq!(unsafe { gomap_type_custom(&d, &mut t) }, GOMAP_OK);
    // SAFETY: a live type.
    assert_eq!(unsafe { gomap_makemap(t, 0, &mut m) }, GOMAP_OK);
    for k in 0..5u64 {
        let mut e = ptr::null_mut();
        // SAFETY: a live map, no other thread yet.
        assert_eq!(unsafe { gomap_mapassign(m, (&raw const k).cast(), &mut e) }, GOMAP_OK);
    }
    struct Shared(*mut gomap_map);
    // SAFETY: shared on purpose: the race under test.
    unsafe impl Send for Shared {}
    let shared = Shared(m);
    let reader = std::thread::spawn(move || {
        let shared = shared;
        ROLE.with(|r| r.set(2));
        let k = 3u64;
        let (mut e, mut ok) = (ptr::null(), false);
        // SAFETY: a live map; the race is the test.
        let st = unsafe { gomap_mapaccess2(shared.0, (&raw const k).cast(), &mut e, &mut ok) };
        println!("reader returned {st:?} found={ok}: the race went unnoticed");
        step(2);
    });
    step(0);
    ROLE.with(|r| r.set(1));
    let k = 3u64; // an update: equality runs with the flag set
    let mut e = ptr::null_mut();
    // SAFETY: a live map; the race is the test.
    let _ = unsafe { gomap_mapassign(m, (&raw const k).cast(), &mut e) };
    reader.join().unwrap();
    std::process::exit(0);
}

/// A lookup that passed Go's entry check before a writer set the flag, and
/// finishes while the write is under way, is caught by the C ABI's check
/// after the lookup (`map::recheck_read`) with Go's "concurrent map read
/// and map write". Before, the lookup returned its result and the race went
/// unnoticed (the child exited 0): Go checks only at the entry, and so did
/// gomap.
#[test]
#[cfg_attr(miri, ignore = "spawns a process")]
fn a_lookup_that_ends_during_a_write_is_caught() {
    if std::env::var("GOMAP_RACE_CHILD").is_ok() {
        lookup_ends_during_a_write();
    }
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "a_lookup_that_ends_during_a_write_is_caught", "--nocapture", "--test-threads=1"])
        .env("GOMAP_RACE_CHILD", "1")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(FATAL_EXIT), "stdout: {stdout}\nstderr: {err}");
    assert!(err.contains("fatal error: concurrent map read and map write"), "stderr: {err}");
}
