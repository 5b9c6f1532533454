//! The C ABI's process-wide hooks (`gomap_set_rand`, `gomap_set_fatal_handler`)
//! replaced while other threads use them: every call gets a function with its
//! own context, and once the setter returns the previous pair is never called
//! again (the host may free its context).
//!
//! Hooks are process-wide, so this file holds one test that runs both
//! scenarios in sequence.

use std::ffi::c_void;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::SeqCst};
use std::sync::{Arc, Barrier};

use gomap_capi::*;

/// A hook context: which function it belongs to, and whether the host has
/// already "freed" it (the setter that replaced it returned).
struct Ctx {
    tag: u64,
    freed: AtomicBool,
}

static MISMATCHED: AtomicU64 = AtomicU64::new(0);
static AFTER_FREE: AtomicU64 = AtomicU64::new(0);
static CALLS: AtomicU64 = AtomicU64::new(0);

fn check(ctx: *mut c_void, tag: u64) -> u64 {
    // SAFETY: every context this test installs is a `Ctx` kept alive (in
    // `retired`) until the test ends.
    let c = unsafe { &*ctx.cast::<Ctx>() };
    CALLS.fetch_add(1, SeqCst);
    if c.tag != tag {
        MISMATCHED.fetch_add(1, SeqCst);
    }
    if c.freed.load(SeqCst) {
        AFTER_FREE.fetch_add(1, SeqCst);
    }
    tag
}

unsafe extern "C" fn rand_a(ctx: *mut c_void) -> u64 {
    check(ctx, 1)
}

unsafe extern "C" fn rand_b(ctx: *mut c_void) -> u64 {
    check(ctx, 2)
}

/// Tries to replace the random source from inside it: must be refused
/// (it would wait for itself).
unsafe extern "C" fn rand_reentrant(_ctx: *mut c_void) -> u64 {
    // SAFETY: installing a valid function with a context it accepts.
    let st = unsafe { gomap_set_rand(Some(rand_a), std::ptr::null_mut()) };
    assert_eq!(st, gomap_status::GOMAP_ERR_BUSY);
    7
}

fn swaps() -> u64 {
    if cfg!(miri) { 200 } else { 1_000_000 }
}

#[test]
#[cfg_attr(miri, ignore = "a million hook swaps")]
fn hooks_swapped_under_load_pair_function_and_context() {
    let mut t = std::ptr::null_mut();
    // SAFETY: a valid out-pointer.
    assert_eq!(unsafe { gomap_type_preset(GOMAP_KEY_U64, 8, 8, false, &mut t) }, gomap_status::GOMAP_OK);
    let ty = t as usize;
    let done = Arc::new(AtomicBool::new(false));
    let start = Arc::new(Barrier::new(3));
    let readers: Vec<_> = (0..2)
        .map(|_| {
            let (done, start) = (done.clone(), start.clone());
            std::thread::spawn(move || {
                start.wait();
                let mut maps = 0u64;
                while !done.load(SeqCst) {
                    let mut m = std::ptr::null_mut();
                    // SAFETY: a live type (freed after the threads end); each
                    // makemap_small draws the map's seed from the hook.
                    unsafe {
                        assert_eq!(gomap_makemap_small(ty as *const gomap_type, &mut m), gomap_status::GOMAP_OK);
                        assert_eq!(gomap_free(m), gomap_status::GOMAP_OK);
                    }
                    maps += 1;
                }
                maps
            })
        })
        .collect();
    start.wait();
    let mut retired: Vec<Box<Ctx>> = Vec::with_capacity(swaps() as usize + 1);
    let mut prev: Option<Box<Ctx>> = None;
    for i in 0..swaps() {
        let tag = 1 + (i & 1);
        let f: gomap_rand_fn = if tag == 1 { rand_a } else { rand_b };
        let ctx = Box::new(Ctx { tag, freed: AtomicBool::new(false) });
        // SAFETY: `f` accepts `ctx`, which stays alive until the test ends.
        let st = unsafe { gomap_set_rand(Some(f), (&*ctx as *const Ctx).cast_mut().cast()) };
        assert_eq!(st, gomap_status::GOMAP_OK);
        // The setter returned: the previous context may be freed now.
        if let Some(p) = prev.replace(ctx) {
            p.freed.store(true, SeqCst);
            retired.push(p);
        }
    }
    done.store(true, SeqCst);
    let maps: u64 = readers.into_iter().map(|r| r.join().unwrap()).sum();
    // SAFETY: removing the hook; then nothing calls the contexts again.
    assert_eq!(unsafe { gomap_set_rand(None, std::ptr::null_mut()) }, gomap_status::GOMAP_OK);
    retired.extend(prev);
    let (calls, bad, late) = (CALLS.load(SeqCst), MISMATCHED.load(SeqCst), AFTER_FREE.load(SeqCst));
    println!(
        "{} swaps, {maps} maps made, {calls} hook calls: {bad} with another function's context, {late} after their setter returned",
        swaps()
    );
    assert!(calls > 1000, "the readers barely ran: {calls} calls");
    assert_eq!(bad, 0, "calls paired a function with another function's context");
    assert_eq!(late, 0, "calls of a hook after the setter that replaced it returned");

    // A hook that replaces itself from inside is refused (it would wait for
    // itself), and the hook stays installed.
    // SAFETY: a valid function ignoring its context.
    assert_eq!(unsafe { gomap_set_rand(Some(rand_reentrant), std::ptr::null_mut()) }, gomap_status::GOMAP_OK);
    let mut m = std::ptr::null_mut();
    // SAFETY: a live type; the seed draw runs `rand_reentrant`.
    unsafe {
        assert_eq!(gomap_makemap_small(ty as *const gomap_type, &mut m), gomap_status::GOMAP_OK);
        assert_eq!(gomap_free(m), gomap_status::GOMAP_OK);
        assert_eq!(gomap_set_rand(None, std::ptr::null_mut()), gomap_status::GOMAP_OK);
        gomap_type_free(t);
    }
}
