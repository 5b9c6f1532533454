//! The process-wide key material as the hash functions read it
//! (`alg::set_key_material`): replacing it changes every hash, installing
//! the current material again changes nothing, going back to an earlier
//! material gives its hashes back, and a hash racing with replacements
//! uses one material whole. A binary of its own: it replaces the material,
//! which concurrent tests of other binaries must not see.

use gomap::alg::{self, GoString, KeyMaterial};

/// Material other than `test_key_material()` in every byte and word.
fn other_material() -> KeyMaterial {
    let mut km = alg::test_key_material();
    for b in km.aeskeysched.iter_mut() {
        *b = b.wrapping_mul(31).wrapping_add(1);
    }
    km.hashkey = km.hashkey.map(|w| w.rotate_left(17) ^ 0x5555_5555_5555_5555);
    km
}

/// Hashes through the dispatchers, which read the process-wide material:
/// memhash32 and memhash64 (the AES path's `_ready` entry points), strhash
/// of 16 bytes and memhash of 100 bytes (every AES key block on 64-bit).
fn hashes() -> [usize; 4] {
    let w = 0x0123_4567_89ab_cdefu64.to_ne_bytes();
    let s = GoString::from_str("sixteen byte key");
    let long: Vec<u8> = (0..100u8).map(|i| i.wrapping_mul(37)).collect();
    // SAFETY: `w` holds 8 readable bytes (so 4).
    let h32 = unsafe { alg::memhash32(w.as_ptr(), 7) };
    // SAFETY: as for `h32`.
    let h64 = unsafe { alg::memhash64(w.as_ptr(), 7) };
    // SAFETY: a live header over a string literal.
    let hs = unsafe { alg::strhash((&raw const s).cast(), 7) };
    // SAFETY: `long` holds 100 readable bytes.
    let hl = unsafe { alg::memhash(long.as_ptr(), 7, long.len()) };
    [h32, h64, hs, hl]
}

#[test]
fn replacing_key_material() {
    let a = alg::test_key_material();
    let b = other_material();
    let mut paths = vec![false];
    if alg::aes_available() {
        paths.push(true);
    }
    for aes in paths {
        assert_eq!(alg::set_use_aeshash(aes), aes);
        alg::set_key_material(&a);
        assert!(!alg::init_key_material(&b), "the material is in use");
        let ha = hashes();
        assert_eq!(alg::key_material(), a);
        // The same material again: nothing changes.
        alg::set_key_material(&a);
        assert_eq!(hashes(), ha, "aes={aes}");
        // Other material: every hash changes.
        alg::set_key_material(&b);
        assert_eq!(alg::key_material(), b);
        let hb = hashes();
        for i in 0..ha.len() {
            assert_ne!(ha[i], hb[i], "aes={aes} hash {i}");
        }
        // Back and forth: each material gives its own hashes back.
        alg::set_key_material(&a);
        assert_eq!(hashes(), ha, "aes={aes}");
        alg::set_key_material(&b);
        assert_eq!(hashes(), hb, "aes={aes}");

        // Replacements racing with hashes: each hash sees one material
        // whole, never a mix of the two. WASI has no threads: there the
        // test stops at the sequential half (one test, not two, so that no
        // other test of this binary replaces the material meanwhile).
        if cfg!(target_os = "wasi") {
            continue;
        }
        let (flips, rounds) = if cfg!(miri) { (20, 20) } else { (20_000, 20_000) };
        std::thread::scope(|sc| {
            sc.spawn(|| {
                for i in 0..flips {
                    alg::set_key_material(if i % 2 == 0 { &a } else { &b });
                }
            });
            for _ in 0..rounds {
                let h = hashes();
                for i in 0..h.len() {
                    assert!(h[i] == ha[i] || h[i] == hb[i], "aes={aes} hash {i}: a mix of materials");
                }
            }
        });
        alg::set_key_material(&a);
        assert_eq!(hashes(), ha, "aes={aes}");
    }
}
