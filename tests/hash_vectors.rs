//! Known-answer tests against hashes recorded from the real Go 1.24.11
//! runtime (written by go-ref/cmd/hashvec: `tests/data/hash_vectors.json`
//! on amd64, `tests/data/hash_vectors_arm64.json` on arm64 under
//! qemu-aarch64, `tests/data/hash_vectors_386.json` on 386), plus
//! properties ported from Go's runtime/hash_test.go.
//!
//! The AES sections are the assembly of one architecture each, so only the
//! file of the target's own architecture is checked on the AES path; the
//! fallback sections are checked from every file of the target's word size
//! (runtime/hash64.go on amd64 and arm64, runtime/hash32.go on 386).
//!
//! Every test installs `test_key_material()` (the same material the
//! generator used) and calls `gomap::alg::fallback::*` / `gomap::alg::aes::*`
//! directly. Only `maphash_vectors_match_presets` switches the global path
//! (the presets' hashers dispatch on it); no other test here depends on it.

use std::collections::HashMap;
use std::sync::OnceLock;

use gomap::alg::{self, C0, C1, GoString};
use gomap::maptype::{KeyKind, MapType, TypeInfo, go_align};
use gomap::presets::Field;
use gomap_inspector::json::Json;

mod common;

use common::replay::goarch_ptr_size;

/// The vector files, by Go architecture. Go's arm has no AES path: its
/// file holds the fallback section only (hash32.go, as 386's).
const FILES: [(&str, &str); 4] = [
    ("amd64", "hash_vectors.json"),
    ("arm64", "hash_vectors_arm64.json"),
    ("386", "hash_vectors_386.json"),
    ("arm", "hash_vectors_arm.json"),
];

/// The Go architecture whose AES assembly this target's `alg::aes` ports.
const NATIVE: &str = common::replay::NATIVE_GOARCH;

/// The recorded architectures of this target's word size: their fallback
/// sections are this target's fallback.
fn same_word_size() -> impl Iterator<Item = &'static str> {
    FILES.iter().map(|f| f.0).filter(|a| goarch_ptr_size(a) == size_of::<usize>())
}

/// The vectors recorded on Go architecture `goarch` (`"amd64"`, `"arm64"`,
/// `"386"`).
fn doc_of(goarch: &str) -> &'static Json {
    static DOCS: [OnceLock<Json>; 4] = [OnceLock::new(), OnceLock::new(), OnceLock::new(), OnceLock::new()];
    let i = FILES.iter().position(|f| f.0 == goarch).expect("a recorded architecture");
    DOCS[i].get_or_init(|| {
        let path = format!("{}/tests/data/{}", env!("CARGO_MANIFEST_DIR"), FILES[i].1);
        let text = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let d = Json::parse(text).unwrap_or_else(|e| panic!("{path}: {e}"));
        assert_eq!(d.get("goarch").str(), goarch, "{path}");
        d
    })
}

/// The vectors of this target's architecture.
fn doc() -> &'static Json {
    doc_of(NATIVE)
}

fn setup() {
    // Every test installs the same material, so concurrent calls are benign.
    alg::set_key_material(&alg::test_key_material());
}

// ---------------------------------------------------------------------------
// Runtime function vectors.

#[derive(Clone, Copy)]
enum Path {
    Fallback,
    #[cfg(any(target_arch = "x86_64", target_arch = "x86", target_arch = "aarch64"))]
    Aes,
}

/// Computes one raw-function vector on `path`; `None` for maphash vectors.
fn eval(path: Path, v: &Json, data: &[u8]) -> Option<u64> {
    let seed = v.get("seed").hexnum() as usize;
    let fname = v.get("fn").str();
    let bits = || v.get("bits").hexnum();
    let (re, im) = (|| v.get("re").hexnum(), || v.get("im").hexnum());
    type F1 = unsafe fn(*const u8, usize) -> usize;
    type Fns = (MemFn, F1, F1, F1, F1, F1, F1, F1);
    let (mem, m32, m64, st, f32h, f64h, c64h, c128h): Fns = match path {
        Path::Fallback => (
            alg::fallback::memhash,
            alg::fallback::memhash32,
            alg::fallback::memhash64,
            alg::fallback::strhash,
            alg::fallback::f32hash,
            alg::fallback::f64hash,
            alg::fallback::c64hash,
            alg::fallback::c128hash,
        ),
        #[cfg(any(target_arch = "x86_64", target_arch = "x86", target_arch = "aarch64"))]
        Path::Aes => (
            alg::aes::memhash,
            alg::aes::memhash32,
            alg::aes::memhash64,
            alg::aes::strhash,
            alg::aes::f32hash,
            alg::aes::f64hash,
            alg::aes::c64hash,
            alg::aes::c128hash,
        ),
    };
    // SAFETY: every pointer below addresses live, correctly sized data; the
    // AES path is only evaluated when `aes_available()`.
    let h = unsafe {
        match fname {
            "memhash" => {
                let (off, len) = (v.get("off").num(), v.get("len").num());
                mem(data[off..off + len].as_ptr(), seed, len)
            }
            "strhash" => {
                let (off, len) = (v.get("off").num(), v.get("len").num());
                let s = GoString::from_bytes(&data[off..off + len]);
                st((&s as *const GoString).cast(), seed)
            }
            "memhash32" => m32((bits() as u32).to_ne_bytes().as_ptr(), seed),
            "memhash64" => m64(bits().to_ne_bytes().as_ptr(), seed),
            "f32hash" => f32h((bits() as u32).to_ne_bytes().as_ptr(), seed),
            "f64hash" => f64h(bits().to_ne_bytes().as_ptr(), seed),
            "c64hash" => {
                let mut b = [0u8; 8];
                b[..4].copy_from_slice(&(re() as u32).to_ne_bytes());
                b[4..].copy_from_slice(&(im() as u32).to_ne_bytes());
                c64h(b.as_ptr(), seed)
            }
            "c128hash" => {
                let mut b = [0u8; 16];
                b[..8].copy_from_slice(&re().to_ne_bytes());
                b[8..].copy_from_slice(&im().to_ne_bytes());
                c128h(b.as_ptr(), seed)
            }
            "maphash" => return None,
            f => panic!("unknown fn {f}"),
        }
    };
    Some(h as u64)
}

/// Checks every raw-function vector of `name`'s path in `d`; returns how
/// many.
fn check_path(d: &Json, path: Path, name: &str) -> usize {
    setup();
    let data = d.get("data").bytes();
    let mut n = 0;
    let mut bad = Vec::new();
    for v in d.get("vectors").arr().iter().filter(|v| v.get("path").str() == name) {
        if let Some(got) = eval(path, v, &data) {
            n += 1;
            let want = v.get("hash").hexnum();
            if got != want {
                bad.push(format!("{v:?}: got {got:#018x}, want {want:#018x}"));
            }
        }
    }
    assert!(
        bad.is_empty(),
        "{} of {n} {name} vectors differ, e.g.:\n{}",
        bad.len(),
        bad[..bad.len().min(8)].join("\n")
    );
    n
}

#[test]
#[cfg_attr(miri, ignore = "reads a file; the properties below run under Miri")]
fn header_matches_test_material() {
    for (goarch, _) in FILES {
        let d = doc_of(goarch);
        assert!(d.get("go_version").str().starts_with("go1.24.11"));
        assert_eq!(d.get("goexperiment").str(), "noswissmap");
        // 32-bit Go's material: 64 bytes of schedule, 32-bit key words.
        let km = alg::test_key_material();
        let w = goarch_ptr_size(goarch);
        assert_eq!(d.get("aeskeysched").bytes(), (0..w * 16).map(|i| (i * 7 + 3) as u8).collect::<Vec<_>>());
        assert_eq!(km.aeskeysched[..], (0..alg::HASH_RANDOM_BYTES).map(|i| (i * 7 + 3) as u8).collect::<Vec<_>>());
        let hk: Vec<u64> = d.get("hashkey").arr().iter().map(Json::hexnum).collect();
        assert_eq!(hk, km.hashkey.map(|k| k & (u64::MAX >> (64 - 8 * w))));
        // Every architecture with an AES path records both paths
        // (qemu-aarch64 reports AES); arm has none.
        let paths: Vec<&str> = d.get("paths").arr().iter().map(Json::str).collect();
        let want: &[&str] = if goarch == "arm" { &["fallback"] } else { &["aes", "fallback"] };
        assert_eq!(paths, want, "{goarch}");
    }
}

#[test]
#[cfg_attr(miri, ignore = "reads a file; the properties below run under Miri")]
fn fallback_vectors_match_go() {
    // hash64.go is the same function on amd64 and arm64: both files'
    // fallback sections hold on a 64-bit target; hash32.go is 386's and
    // arm's (their raw-function vectors are identical).
    for goarch in same_word_size() {
        let n = check_path(doc_of(goarch), Path::Fallback, "fallback");
        assert!(n > 2000, "only {n} {goarch} fallback vectors");
        eprintln!("fallback ({goarch}): {n} runtime-function vectors match Go");
    }
}

#[cfg(any(target_arch = "x86_64", target_arch = "x86", target_arch = "aarch64"))]
#[test]
#[cfg_attr(miri, ignore = "AES intrinsics")]
fn aes_vectors_match_go() {
    if !alg::aes_available() && common::ci::missing("AES instructions on this CPU", "the AES hash vectors") {
        return;
    }
    let n = check_path(doc(), Path::Aes, "aes");
    assert!(n > 2000, "only {n} aes vectors");
    eprintln!("aes ({NATIVE}): {n} runtime-function vectors match Go");
}

// ---------------------------------------------------------------------------
// Map type vectors: the presets against the hashers and flags of real Go map
// types `map[K]uint64`.

fn preset(name: &str) -> MapType {
    use gomap::presets::FieldKind::Blank;
    // Go's uint64, as Go aligns it (4 on 32-bit).
    let e = TypeInfo::of::<u64>().go_aligned();
    let comp = |f: &[Field], size, align| MapType::composite_key(f, size, align, e);
    let m = Field::mem;
    let t = match name {
        "bool" => MapType::bool_key(e),
        "uint8" => MapType::u8_key(e),
        "int16" => MapType::i16_key(e),
        "uint32" => MapType::u32_key(e),
        "int64" => MapType::i64_key(e),
        "uintptr" => MapType::usize_key(e),
        "ptr" => MapType::ptr_key(e),
        "[3]byte" => MapType::bytes_key(3, e),
        "[4]byte" => MapType::bytes_key(4, e),
        "[16]byte" => MapType::bytes_key(16, e),
        "[24]byte" => MapType::bytes_key(24, e),
        "[200]byte" => MapType::bytes_key(200, e),
        "[2]uint16" => MapType::mem_key(4, 2, e),
        "float32" => MapType::f32_key(e),
        "float64" => MapType::f64_key(e),
        "complex64" => MapType::c64_key(e),
        "complex128" => MapType::c128_key(e),
        "string" => MapType::str_key(e),
        // The composite types as Go lays them out on the target's word
        // size (go-ref/cmd/hashvec/maptypes.go): on 32-bit, 8-byte fields
        // are 4-aligned and strings are 8 bytes.
        // struct{ A uint32; F float64; S uint16 }
        #[cfg(target_pointer_width = "64")]
        "S1" => comp(&[m(0, 4), Field::f64(8), m(16, 2)], 24, 8),
        #[cfg(target_pointer_width = "32")]
        "S1" => comp(&[m(0, 4), Field::f64(4), m(12, 2)], 16, 4),
        // struct{ A uint8; B uint64; S string }
        #[cfg(target_pointer_width = "64")]
        "S2" => comp(&[m(0, 1), m(8, 8), Field::str(16)], 32, 8),
        #[cfg(target_pointer_width = "32")]
        "S2" => comp(&[m(0, 1), m(4, 8), Field::str(12)], 20, 4),
        // struct{ A uint8; B uint32; C, D uint16; E uint64 }
        #[cfg(target_pointer_width = "64")]
        "S3" => comp(&[m(0, 1), m(4, 4), m(8, 2), m(10, 2), m(16, 8)], 24, 8),
        #[cfg(target_pointer_width = "32")]
        "S3" => comp(&[m(0, 1), m(4, 4), m(8, 2), m(10, 2), m(12, 8)], 20, 4),
        // struct{ A, B uint16; C uint32 } (regular memory)
        "S4" => comp(&[m(0, 2), m(2, 2), m(4, 4)], 8, 4),
        // struct{ A uint32; _ uint32; B uint32; F float32 }
        "S5" => comp(&[m(0, 4), Field::new(4, 4, Blank), m(8, 4), Field::f32(12)], 16, 4),
        // [2]struct{ A uint32; F float32; B uint32 }: element boundary marked
        "A6" => {
            comp(&[m(0, 4), Field::f32(4), m(8, 4), Field::blank(12, 0), m(12, 4), Field::f32(16), m(20, 4)], 24, 4)
        }
        // struct{ C complex64; S string; Z [3]byte }
        #[cfg(target_pointer_width = "64")]
        "S7" => comp(&[Field::c64(0), Field::str(8), m(24, 3)], 32, 8),
        #[cfg(target_pointer_width = "32")]
        "S7" => comp(&[Field::c64(0), Field::str(8), m(16, 3)], 20, 4),
        // struct{ In struct{ A uint32; F float32; B uint32 }; C uint32 }
        "S8" => comp(&[m(0, 4), Field::f32(4), m(8, 4), Field::blank(12, 0), m(12, 4)], 16, 4),
        // struct{ X struct{ A, B uint16; C uint32 }; C uint32; F float64 }
        #[cfg(target_pointer_width = "64")]
        "S9" => comp(&[m(0, 2), m(2, 2), m(4, 4), m(8, 4), Field::f64(16)], 24, 8),
        // (X is regular memory: one field, as Go's Memrun sees it, which
        // matters on arm, where runs stop at the alignment.)
        #[cfg(target_pointer_width = "32")]
        "S9" => comp(&[m(0, 8), m(8, 4), Field::f64(12)], 20, 4),
        #[cfg(target_pointer_width = "64")]
        "[2]string" => comp(&[Field::str(0), Field::str(16)], 32, 8),
        #[cfg(target_pointer_width = "32")]
        "[2]string" => comp(&[Field::str(0), Field::str(8)], 16, 4),
        "[2]float64" => comp(&[Field::f64(0), Field::f64(8)], 16, go_align(align_of::<f64>())),
        n => panic!("no preset for Go key type {n}"),
    };
    t.unwrap()
}

/// The key kind a Go hasher corresponds to.
fn kind_of_go_hasher(h: &str) -> KeyKind {
    match h {
        "runtime.memhash8"
        | "runtime.memhash16"
        | "runtime.memhash32"
        | "runtime.memhash64"
        | "runtime.memhash128"
        | "runtime.memhash_varlen"
        | "runtime.memhash0" => KeyKind::Memory,
        "runtime.f32hash" => KeyKind::F32,
        "runtime.f64hash" => KeyKind::F64,
        "runtime.c64hash" => KeyKind::C64,
        "runtime.c128hash" => KeyKind::C128,
        "runtime.strhash" => KeyKind::Str,
        h if h.starts_with("type:.hash.") => KeyKind::Composite,
        h => panic!("unknown Go hasher {h}"),
    }
}

#[test]
#[cfg_attr(miri, ignore = "reads a file")]
fn maptypes_match_go_descriptors() {
    for mt in doc().get("maptypes").arr() {
        let name = mt.get("type").str();
        let t = preset(name);
        let ctx = format!("map[{}]uint64", mt.get("go").str());
        assert_eq!(t.key().size, mt.get("size").num(), "{ctx}: key size");
        assert_eq!(t.key().align, mt.get("align").num(), "{ctx}: key align");
        assert_eq!(t.key().pointers, mt.get("key_pointers").bool(), "{ctx}: key pointers");
        assert_eq!(t.keysize(), mt.get("keysize").num(), "{ctx}: KeySize");
        assert_eq!(t.valuesize(), mt.get("valuesize").num(), "{ctx}: ValueSize");
        assert_eq!(t.bucketsize(), mt.get("bucketsize").num(), "{ctx}: BucketSize");
        assert_eq!(t.flags() as usize, mt.get("flags").num(), "{ctx}: Flags");
        assert_eq!(t.bucket_pointers(), mt.get("bucket_pointers").bool(), "{ctx}: bucket pointers");
        assert_eq!(t.kind(), kind_of_go_hasher(mt.get("hasher").str()), "{ctx}: hasher {}", mt.get("hasher").str());
    }
}

/// A key recorded by the generator, rebuilt in memory: an 8-aligned buffer
/// with the recorded bytes and our own string headers patched in.
struct Key {
    words: Vec<u64>,
    _strs: Vec<Vec<u8>>,
}

impl Key {
    fn new(v: &Json) -> Key {
        let bytes = v.get("key").bytes();
        let mut words = vec![0u64; bytes.len().div_ceil(8) + 1];
        let p = words.as_mut_ptr().cast::<u8>();
        // SAFETY: `words` has room for `bytes.len()` bytes.
        unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), p, bytes.len()) };
        let mut strs = Vec::new();
        for s in v.get("strs").arr() {
            let data = s.get("data").bytes();
            let off = s.get("off").num();
            let hdr = GoString::from_bytes(&data);
            // SAFETY: the generator only records headers inside the key.
            unsafe { std::ptr::write_unaligned(p.add(off).cast::<GoString>(), hdr) };
            strs.push(data); // moving the Vec keeps its heap buffer in place
        }
        Key { words, _strs: strs }
    }
    fn ptr(&self) -> *const u8 {
        self.words.as_ptr().cast()
    }
}

#[test]
#[cfg_attr(miri, ignore = "reads a file")]
fn maphash_vectors_match_presets() {
    setup();
    let d = doc();
    let mut types: HashMap<String, MapType> = HashMap::new();
    let mut checked = Vec::new();
    for path in d.get("paths").arr().iter().map(Json::str) {
        let on = path == "aes";
        if alg::set_use_aeshash(on) != on
            && common::ci::missing(&format!("the {path} hash path"), "its maphash vectors")
        {
            continue;
        }
        assert_eq!(gomap::presets::hash_path_name(), path);
        let mut n = 0;
        for v in d.get("vectors").arr() {
            if v.get("path").str() != path || v.get("fn").str() != "maphash" {
                continue;
            }
            let name = v.get("type").str();
            let t = types.entry(name.to_owned()).or_insert_with(|| preset(name));
            let k = Key::new(v);
            let seed = v.get("seed").hexnum() as usize;
            // SAFETY: `k` holds a key of `t`'s layout with live strings.
            let got = unsafe { t.hash(k.ptr(), seed) } as u64;
            assert_eq!(got, v.get("hash").hexnum(), "{path} map[{name}] seed {seed:#x} key {}", v.get("key").str());
            // A key equals itself unless it holds a NaN (none recorded).
            // SAFETY: as above.
            assert!(unsafe { t.key_equal(k.ptr(), k.ptr()) });
            n += 1;
        }
        checked.push(format!("{path}: {n}"));
    }
    alg::set_use_aeshash(alg::aes_available());
    eprintln!("maphash vectors matching Go's map hashers: {}", checked.join(", "));
}

// ---------------------------------------------------------------------------
// Properties (runtime/hash_test.go), on every available path.

type MemFn = unsafe fn(*const u8, usize, usize) -> usize;

fn paths() -> Vec<(&'static str, MemFn)> {
    #[cfg_attr(not(any(target_arch = "x86_64", target_arch = "x86", target_arch = "aarch64")), allow(unused_mut))]
    let mut v: Vec<(&'static str, MemFn)> = vec![("fallback", alg::fallback::memhash)];
    #[cfg(any(target_arch = "x86_64", target_arch = "x86", target_arch = "aarch64"))]
    if alg::aes_available() {
        v.push(("aes", alg::aes::memhash));
    }
    v
}

fn bytes_hash(f: MemFn, b: &[u8], seed: usize) -> usize {
    // SAFETY: `b` is readable; `f` is only the AES path when available.
    unsafe { f(b.as_ptr(), seed, b.len()) }
}

/// Go's HashSet.check (hash_test.go:108): collisions must not exceed what a
/// random 64-bit function would produce, with generous slop.
fn check_collisions(what: &str, mut list: Vec<usize>) {
    list.sort_unstable();
    let collisions = list.windows(2).filter(|w| w[0] == w[1]).count();
    let n = list.len() as f64;
    let expected = n * (n - 1.0) / 2.0 / 2f64.powi(64);
    let stddev = expected.sqrt();
    let limit = expected + 50.0 * (3.0 * stddev + 1.0);
    assert!((collisions as f64) <= limit, "{what}: {collisions} collisions (limit {limit})");
}

/// A tiny deterministic generator for test data.
fn rng(seed: u64) -> impl FnMut() -> u64 {
    let mut s = seed;
    move || {
        s = s.wrapping_add(0x9e3779b97f4a7c15);
        let mut z = s;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58476d1ce4e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d049bb133111eb);
        z ^ (z >> 31)
    }
}

#[test]
fn memhash32_64_equal_memhash_on_fallback() {
    // TestMemHash32Equality / TestMemHash64Equality (hash_test.go:22, :39).
    setup();
    let mut r = rng(1234);
    let seed = r() as usize;
    for _ in 0..if cfg!(miri) { 10 } else { 100 } {
        let b = r().to_ne_bytes();
        // SAFETY: `b` has 8 readable bytes.
        unsafe {
            assert_eq!(alg::fallback::memhash32(b.as_ptr(), seed), alg::fallback::memhash(b.as_ptr(), seed, 4));
            assert_eq!(alg::fallback::memhash64(b.as_ptr(), seed), alg::fallback::memhash(b.as_ptr(), seed, 8));
        }
    }
}

#[cfg(any(target_arch = "x86_64", target_arch = "x86", target_arch = "aarch64"))]
#[test]
#[cfg_attr(miri, ignore = "AES intrinsics")]
fn aes_memhash32_64_are_distinct_functions() {
    // On the AES path Go's memhash32/64 (asm_amd64.s:1568, :1585;
    // asm_arm64.s:533, :555) are not memhash(p, h, 4/8) (which goes through
    // aeshashbody).
    setup();
    if !alg::aes_available() && common::ci::missing("AES instructions on this CPU", "the AES memhash32/64 check") {
        return;
    }
    let b = 0x0123456789abcdefu64.to_ne_bytes();
    // SAFETY: AES available; `b` has 8 readable bytes.
    unsafe {
        assert_ne!(alg::aes::memhash32(b.as_ptr(), 1), alg::aes::memhash(b.as_ptr(), 1, 4));
        assert_ne!(alg::aes::memhash64(b.as_ptr(), 1), alg::aes::memhash(b.as_ptr(), 1, 8));
    }
}

#[test]
fn hash_ignores_bytes_outside_key_and_alignment() {
    // TestSmhasherSanity (hash_test.go:67), scaled down.
    setup();
    let mut r = rng(99);
    let (keymax, reps) = if cfg!(miri) { (33, 1) } else { (130, 3) };
    for (name, f) in paths() {
        for _ in 0..reps {
            for n in 0..keymax {
                for off in [0usize, 1, 3, 8, 15] {
                    let b: Vec<u8> = (0..keymax + 48).map(|_| r() as u8).collect();
                    let mut c: Vec<u8> = (0..keymax + 48).map(|_| r() as u8).collect();
                    c[16 + off..16 + off + n].copy_from_slice(&b[16..16 + n]);
                    assert_eq!(
                        bytes_hash(f, &b[16..16 + n], 0),
                        bytes_hash(f, &c[16 + off..16 + off + n], 0),
                        "{name}: n={n} off={off}"
                    );
                }
            }
        }
    }
}

#[test]
fn smhasher_small_sets() {
    setup();
    for (name, f) in paths() {
        // TestSmhasherAppendedZeros (hash_test.go:132).
        let mut s = b"hello".to_vec();
        s.resize(5 + 256, 0);
        let n = if cfg!(miri) { 40 } else { s.len() };
        check_collisions(&format!("{name} appended zeros"), (0..=n).map(|i| bytes_hash(f, &s[..i], 0)).collect());

        // TestSmhasherSmallKeys in short mode (hash_test.go:142): all 1- and
        // 2-byte keys.
        let top = if cfg!(miri) { 8 } else { 256 };
        let mut list = Vec::new();
        for i in 0..top {
            list.push(bytes_hash(f, &[i as u8], 0));
            for j in 0..top {
                list.push(bytes_hash(f, &[i as u8, j as u8], 0));
            }
        }
        check_collisions(&format!("{name} small keys"), list);

        // TestSmhasherZeros in short mode (hash_test.go:167).
        let z = vec![0u8; if cfg!(miri) { 64 } else { 1024 }];
        check_collisions(&format!("{name} zeros"), (0..=z.len()).map(|i| bytes_hash(f, &z[..i], 0)).collect());

        // TestSmhasherSeed (hash_test.go:630), scaled down.
        let n = if cfg!(miri) { 100 } else { 20_000 };
        check_collisions(&format!("{name} seeds"), (0..n).map(|seed| bytes_hash(f, b"hello", seed)).collect());

        // TestIssue66841 (hash_test.go:640): 16-byte keys whose first half
        // is a constant the fallback once handled badly.
        let n = if cfg!(miri) { 50 } else { 1000 };
        let mut b = [0u8; 16];
        b[..8].copy_from_slice(&0xe7037ed1a0b428dbu64.to_le_bytes());
        let list = (0..n as u64)
            .map(|i| {
                b[8..].copy_from_slice(&i.to_le_bytes());
                bytes_hash(f, &b, 0)
            })
            .collect();
        check_collisions(&format!("{name} issue 66841"), list);
    }
}

#[test]
fn string_hash_is_memhash_of_bytes() {
    setup();
    let s = "the quick brown fox jumps over the lazy dog";
    let g = GoString::from_str(s);
    for seed in [0usize, 5, usize::MAX] {
        // SAFETY: `g` views the live `s`.
        unsafe {
            let p = (&g as *const GoString).cast();
            assert_eq!(alg::fallback::strhash(p, seed), alg::fallback::memhash(s.as_ptr(), seed, s.len()));
            #[cfg(all(any(target_arch = "x86_64", target_arch = "aarch64"), not(miri)))]
            if alg::aes_available() {
                assert_eq!(alg::aes::strhash(p, seed), alg::aes::memhash(s.as_ptr(), seed, s.len()));
            }
        }
    }
}

#[test]
fn signed_zeros_hash_alike() {
    setup();
    let h = 0xfeed;
    let z = C1.wrapping_mul(C0 ^ h);
    let f32s = [0.0f32.to_ne_bytes(), (-0.0f32).to_ne_bytes()];
    let f64s = [0.0f64.to_ne_bytes(), (-0.0f64).to_ne_bytes()];
    let c128 = |re: f64, im: f64| {
        let mut b = [0u8; 16];
        b[..8].copy_from_slice(&re.to_ne_bytes());
        b[8..].copy_from_slice(&im.to_ne_bytes());
        b
    };
    // SAFETY: all pointers address live arrays of the right size; the
    // dispatching functions pick an available path.
    unsafe {
        for b in &f32s {
            assert_eq!(alg::f32hash(b.as_ptr(), h), z);
            assert_eq!(alg::fallback::f32hash(b.as_ptr(), h), z);
        }
        for b in &f64s {
            assert_eq!(alg::f64hash(b.as_ptr(), h), z);
            assert_eq!(alg::fallback::f64hash(b.as_ptr(), h), z);
        }
        let a = alg::fallback::c128hash(c128(0.0, 1.5).as_ptr(), h);
        assert_eq!(a, alg::fallback::c128hash(c128(-0.0, 1.5).as_ptr(), h));
        let a = alg::fallback::c128hash(c128(2.0, 0.0).as_ptr(), h);
        assert_eq!(a, alg::fallback::c128hash(c128(2.0, -0.0).as_ptr(), h));
    }
}

#[test]
fn nan_hash_draws_exactly_one_rand() {
    setup();
    let h = 0x1234_5678usize;
    let nan32 = f32::from_bits(0x7fc0_0001).to_ne_bytes();
    let nan64 = (-f64::NAN).to_ne_bytes();
    let one = 1.0f64.to_ne_bytes();
    let draw = 0xdead_beef_cafe_f00du64;
    let want = C1.wrapping_mul(C0 ^ h ^ draw as usize);
    // `scripted` panics if asked for more draws than given: each NaN hash
    // must take exactly one, ordinary values none.
    let got = gomap::rand::with_source(gomap::rand::scripted(vec![draw]), || {
        // SAFETY: a live 4-byte array.
        unsafe { alg::f32hash(nan32.as_ptr(), h) }
    });
    assert_eq!(got, want);
    let got = gomap::rand::with_source(gomap::rand::scripted(vec![draw]), || {
        // SAFETY: a live 8-byte array.
        unsafe { alg::fallback::f64hash(nan64.as_ptr(), h) }
    });
    assert_eq!(got, want);
    gomap::rand::with_source(gomap::rand::scripted(vec![]), || {
        // SAFETY: a live 8-byte array.
        unsafe { alg::f64hash(one.as_ptr(), h) }
    });
    // complex128(NaN, NaN): two draws, chained like Go's c128hash.
    let mut c = [0u8; 16];
    c[..8].copy_from_slice(&nan64);
    c[8..].copy_from_slice(&nan64);
    let got = gomap::rand::with_source(gomap::rand::scripted(vec![1, 2]), || {
        // SAFETY: a live 16-byte array.
        unsafe { alg::c128hash(c.as_ptr(), h) }
    });
    let first = C1.wrapping_mul(C0 ^ h ^ 1);
    assert_eq!(got, C1.wrapping_mul(C0 ^ first ^ 2));
    // The AES path takes the same draws.
    #[cfg(all(any(target_arch = "x86_64", target_arch = "aarch64"), not(miri)))]
    if alg::aes_available() {
        let got = gomap::rand::with_source(gomap::rand::scripted(vec![draw]), || {
            // SAFETY: a live 8-byte array; AES is available (checked).
            unsafe { alg::aes::f64hash(nan64.as_ptr(), h) }
        });
        assert_eq!(got, want);
    }
}

#[test]
fn key_material_round_trips() {
    setup();
    assert_eq!(alg::key_material(), alg::test_key_material());
}
