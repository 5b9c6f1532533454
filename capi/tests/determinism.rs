//! Determinism across processes from C: with the random source
//! (`gomap_set_rand`) and the hash key material (`gomap_set_hash_key`)
//! fixed, two processes build the same maps and iterate them in the same
//! order; change either and the order changes. Each case runs in a child
//! process, since the material can be set only before anything hashes.
//! Both hash paths: AES (where the CPU has it) and the fallback.

use std::ffi::c_void;
use std::process::Command;
use std::ptr;
use std::sync::atomic::{AtomicU64, Ordering};

use gomap_capi::gomap_status::*;
use gomap_capi::*;

/// splitmix64: the test's deterministic generator.
fn mix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

unsafe extern "C" fn counter_rand(ctx: *mut c_void) -> u64 {
    // SAFETY: the context is the static STATE below, alive forever.
    let s = unsafe { &*ctx.cast::<AtomicU64>() };
    mix(s.fetch_add(1, Ordering::Relaxed))
}

static STATE: AtomicU64 = AtomicU64::new(0);

/// The child: fixes the draws (from `rand_seed`) and, unless `material` is
/// `None`, the key material; builds a u64 map of 200 keys and prints its
/// iteration order, twice over (two maps: the second gets later draws).
fn child(material: Option<u64>, rand_seed: u64, fallback: bool) {
    STATE.store(rand_seed, Ordering::Relaxed);
    // SAFETY: counter_rand may be called from any thread with STATE.
    let st = unsafe { gomap_set_rand(Some(counter_rand), ptr::from_ref(&STATE).cast_mut().cast()) };
    assert_eq!(st, GOMAP_OK);
    if let Some(m) = material {
        let bytes: Vec<u8> =
            (0..GOMAP_HASH_KEY_SIZE as u64 / 8).flat_map(|i| mix(m ^ (i << 32)).to_le_bytes()).collect();
        // SAFETY: NULL is rejected without reading.
        assert_eq!(unsafe { gomap_set_hash_key(ptr::null(), GOMAP_HASH_KEY_SIZE) }, GOMAP_ERR_NULL);
        // SAFETY: `bytes` holds GOMAP_HASH_KEY_SIZE bytes; 159 are read at most.
        assert_eq!(unsafe { gomap_set_hash_key(bytes.as_ptr(), GOMAP_HASH_KEY_SIZE - 1) }, GOMAP_ERR_BAD_ARG);
        // SAFETY: `bytes` holds GOMAP_HASH_KEY_SIZE bytes.
        assert_eq!(unsafe { gomap_set_hash_key(bytes.as_ptr(), bytes.len()) }, GOMAP_OK);
        // Once set (or once used), it stays.
        // SAFETY: as above.
        assert_eq!(unsafe { gomap_set_hash_key(bytes.as_ptr(), bytes.len()) }, GOMAP_ERR_BUSY);
    }
    if fallback {
        gomap::alg::set_use_aeshash(false);
    }
    let mut t = ptr::null_mut();
    // SAFETY: `t` is writable.
    assert_eq!(unsafe { gomap_type_preset(GOMAP_KEY_U64, 8, 8, false, &mut t) }, GOMAP_OK);
    for round in 0..2 {
        let mut m = ptr::null_mut();
        // SAFETY: a live type; `m` is writable.
        assert_eq!(unsafe { gomap_makemap(t, 0, &mut m) }, GOMAP_OK);
        for k in 0..200u64 {
            let mut e = ptr::null_mut();
            // SAFETY: a live u64 -> u64 map; the slot holds a u64.
            assert_eq!(unsafe { gomap_mapassign(m, (&raw const k).cast(), &mut e) }, GOMAP_OK);
            // SAFETY: the elem slot of a u64 elem.
            unsafe { e.cast::<u64>().write(k) };
        }
        let mut it = gomap_hiter { opaque: [0; GOMAP_HITER_SIZE] };
        let mut order = Vec::new();
        // SAFETY: a zeroed iterator over a live map; keys are u64s.
        unsafe {
            assert_eq!(gomap_mapiterinit(m, &mut it), GOMAP_OK);
            while !gomap_hiter_key(&it).is_null() {
                order.push(gomap_hiter_key(&it).cast::<u64>().read());
                assert_eq!(gomap_mapiternext(&mut it), GOMAP_OK);
            }
        }
        assert_eq!(order.len(), 200);
        println!("ORDER {round}: {order:?}");
        // SAFETY: a live map whose iteration ended.
        assert_eq!(unsafe { gomap_free(m) }, GOMAP_OK);
    }
    // Anything hashed: the material is in use now.
    let bytes = [0u8; GOMAP_HASH_KEY_SIZE];
    // SAFETY: `bytes` holds GOMAP_HASH_KEY_SIZE bytes.
    assert_eq!(unsafe { gomap_set_hash_key(bytes.as_ptr(), bytes.len()) }, GOMAP_ERR_BUSY);
    // SAFETY: a live type handle, no maps left.
    unsafe { gomap_type_free(t) };
}

/// Runs the child for `(material, rand_seed, fallback)` and returns its
/// printed orders.
fn run(material: Option<u64>, rand_seed: u64, fallback: bool) -> String {
    let arg = format!("{}:{rand_seed}:{fallback}", material.map_or("os".to_string(), |m| m.to_string()));
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "same_seed_and_material_same_order", "--nocapture", "--test-threads=1"])
        .env("GOMAP_DET_CHILD", &arg)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "child {arg}: {}\n{stdout}", String::from_utf8_lossy(&out.stderr));
    // The harness prints the test's name on the same line as the first.
    let orders: Vec<&str> = stdout.lines().filter_map(|l| l.find("ORDER ").map(|i| &l[i..])).collect();
    assert_eq!(orders.len(), 2, "child {arg}: {stdout}");
    orders.join("\n")
}

#[test]
#[cfg_attr(miri, ignore = "spawns processes")]
fn same_seed_and_material_same_order() {
    if let Ok(arg) = std::env::var("GOMAP_DET_CHILD") {
        let mut parts = arg.split(':');
        let material = parts.next().unwrap().parse().ok();
        let rand_seed = parts.next().unwrap().parse().unwrap();
        let fallback = parts.next().unwrap().parse().unwrap();
        return child(material, rand_seed, fallback);
    }
    for fallback in [false, true] {
        let a = run(Some(1), 7, fallback);
        assert_eq!(a, run(Some(1), 7, fallback), "fallback {fallback}: same seed and material, another order");
        assert_ne!(a, run(Some(2), 7, fallback), "fallback {fallback}: other material, same order");
        assert_ne!(a, run(Some(1), 8, fallback), "fallback {fallback}: other draws, same order");
        // OS material: a different order in every process.
        assert_ne!(run(None, 7, fallback), run(None, 7, fallback), "fallback {fallback}: OS material repeated");
    }
}
