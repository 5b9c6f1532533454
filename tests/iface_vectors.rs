//! Interface keys hash as Go's `nilinterhash` does, bit for bit, on both
//! hash paths: `tests/data/iface_vectors_{aes,fallback}.txt` are printed by
//! the real Go 1.24.11 runtime (`go-ref/cmd/ifacevec`, map[any]V's hasher
//! under the canonical test key material); each case is rebuilt here with
//! `DynType` descriptors of the same Go types and hashed by gomap.
//! Also: `map[any]V` behaviour through the generic entry points (type
//! identity, NaN, ±0 key update, the unhashable error leaving the map
//! unchanged).
//!
//! 64-bit targets only: the vectors and the Go types' sizes are amd64's
//! (Go 386's interface vectors are not recorded yet).
#![cfg(target_pointer_width = "64")]

use std::sync::Arc;

use gomap::alg::{self, GoString};
use gomap::fatal::MapError;
use gomap::iface::{DynField, DynKind, DynType, Iface, key_error, nilinterhash};
use gomap::map;
use gomap::maptype::{MapType, TypeInfo};

/// Held by each test: the vector test switches the process's hash path,
/// which must not happen under a live map.
static PATH_LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// The dynamic types of the Go cases (ifacevec's `P`, `W`, `B`...).
struct Types {
    int: Arc<DynType>,
    myint: Arc<DynType>,
    i32: Arc<DynType>,
    u8: Arc<DynType>,
    i16: Arc<DynType>,
    str: Arc<DynType>,
    f64: Arc<DynType>,
    f32: Arc<DynType>,
    c128: Arc<DynType>,
    c64: Arc<DynType>,
    p: Arc<DynType>,
    u16x3: Arc<DynType>,
    f32x2: Arc<DynType>,
    w: Arc<DynType>,
    b: Arc<DynType>,
    ptr: Arc<DynType>,
    slice: Arc<DynType>,
}

fn ty(name: &str, size: usize, kind: DynKind) -> Arc<DynType> {
    Arc::new(DynType::new(name, size, false, kind).unwrap())
}

fn field(offset: usize, typ: &Arc<DynType>) -> DynField {
    DynField { offset, typ: typ.clone(), blank: false }
}

impl Types {
    fn new() -> Types {
        let int = ty("int", 8, DynKind::Memory);
        let i32 = ty("int32", 4, DynKind::Memory);
        let u8 = ty("uint8", 1, DynKind::Memory);
        let u16 = ty("uint16", 2, DynKind::Memory);
        let u32 = ty("uint32", 4, DynKind::Memory);
        let str = ty("string", 16, DynKind::Str);
        let f64 = ty("float64", 8, DynKind::F64);
        let f32 = ty("float32", 4, DynKind::F32);
        let any = ty("interface {}", 16, DynKind::Interface);
        let u8x2 = ty("[2]uint8", 2, DynKind::Memory);
        Types {
            myint: ty("main.MyInt", 8, DynKind::Memory),
            i16: ty("int16", 2, DynKind::Memory),
            c128: ty("complex128", 16, DynKind::C128),
            c64: ty("complex64", 8, DynKind::C64),
            p: ty("main.P", 32, DynKind::Struct { fields: vec![field(0, &i32), field(8, &str), field(24, &f64)] }),
            // [3]uint16 is regular memory: one memhash of 6 bytes.
            u16x3: ty("[3]uint16", 6, DynKind::Memory),
            f32x2: ty("[2]float32", 8, DynKind::Array { elem: f32.clone(), len: 2 }),
            w: ty("main.W", 24, DynKind::Struct { fields: vec![field(0, &any), field(16, &u8)] }),
            b: ty(
                "main.B",
                8,
                DynKind::Struct {
                    fields: vec![field(0, &u16), DynField { offset: 2, typ: u8x2, blank: true }, field(4, &u32)],
                },
            ),
            ptr: Arc::new(DynType::new("unsafe.Pointer", 8, true, DynKind::Memory).unwrap()),
            slice: ty("[]int", 24, DynKind::Unhashable),
            int,
            i32,
            u8,
            str,
            f64,
            f32,
        }
    }
}

/// Hashes an interface holding `t` and the value `v` (its bytes).
fn hash_of<V>(t: &Arc<DynType>, v: &V, seed: usize) -> usize {
    let k = Iface { typ: &**t, data: (v as *const V).cast() };
    // SAFETY: 1. `t` is live, `v` a value of it (the case builds them so).
    unsafe { nilinterhash(&k, seed) }.unwrap()
}

#[repr(C)]
struct P {
    a: i32,
    s: GoString,
    f: f64,
}

#[repr(C)]
struct W {
    i: Iface,
    n: u8,
}

/// gomap's hash of the Go case `name`.
fn case(ts: &Types, name: &str, seed: usize) -> usize {
    match name {
        "nil" => {
            // SAFETY: 1. the nil interface.
            unsafe { nilinterhash(&Iface::NIL, seed) }.unwrap()
        }
        "int-7" => hash_of(&ts.int, &-7i64, seed),
        "myint-7" => hash_of(&ts.myint, &-7i64, seed),
        "int32-5" => hash_of(&ts.i32, &5i32, seed),
        "uint8-200" => hash_of(&ts.u8, &200u8, seed),
        "int16-3" => hash_of(&ts.i16, &-3i16, seed),
        "str-hello" => hash_of(&ts.str, &GoString::from_str("hello"), seed),
        "str-empty" => hash_of(&ts.str, &GoString::from_str(""), seed),
        "str-long" => hash_of(&ts.str, &GoString::from_str("0123456789abcdef0123456789abcdef-long-string"), seed),
        "f64-1.5" => hash_of(&ts.f64, &1.5f64, seed),
        "f64-negzero" => hash_of(&ts.f64, &-0.0f64, seed),
        "f32-2.25" => hash_of(&ts.f32, &2.25f32, seed),
        "c128-1+2i" => hash_of(&ts.c128, &[1.0f64, 2.0], seed),
        "c64-3-4i" => hash_of(&ts.c64, &[3.0f32, -4.0], seed),
        "struct-P" => hash_of(&ts.p, &P { a: 3, s: GoString::from_str("p"), f: 0.5 }, seed),
        "arr-u16x3" => hash_of(&ts.u16x3, &[1u16, 2, 3], seed),
        "arr-f32x2" => hash_of(&ts.f32x2, &[1.0f32, -0.0], seed),
        "struct-W-str" => {
            let x = GoString::from_str("x");
            let w = W { i: Iface { typ: &*ts.str, data: (&raw const x).cast() }, n: 9 };
            hash_of(&ts.w, &w, seed)
        }
        "struct-W-nil" => hash_of(&ts.w, &W { i: Iface::NIL, n: 1 }, seed),
        "struct-W-int" => {
            let x = 42i64;
            let w = W { i: Iface { typ: &*ts.int, data: (&raw const x).cast() }, n: 2 };
            hash_of(&ts.w, &w, seed)
        }
        // The blank bytes hold garbage here: Go never hashes them.
        "struct-B" => hash_of(&ts.b, &[1u16, 0xABCD, 2, 0], seed),
        "ptr-0x1000" => {
            // A direct type: the data word is the value.
            let k = Iface { typ: &*ts.ptr, data: std::ptr::without_provenance(0x1000) };
            // SAFETY: 1. a live direct type; its value is the data word.
            unsafe { nilinterhash(&k, seed) }.unwrap()
        }
        n => panic!("unknown case {n}"),
    }
}

fn check_file(ts: &Types, path: &str) -> usize {
    let text = std::fs::read_to_string(format!("{}/tests/data/{path}", env!("CARGO_MANIFEST_DIR"))).unwrap();
    let mut n = 0;
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let f: Vec<&str> = line.split(' ').collect();
        let (seed, want): (usize, usize) = (f[1].parse().unwrap(), f[2].parse().unwrap());
        assert_eq!(case(ts, f[0], seed), want, "{path}: {} seed {seed}", f[0]);
        n += 1;
    }
    n
}

#[test]
#[cfg_attr(miri, ignore = "AES path needs the CPU; the fallback alone is slow under Miri")]
fn nilinterhash_matches_go_on_both_paths() {
    let _g = PATH_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    alg::set_key_material(&alg::test_key_material());
    let ts = Types::new();
    let was = alg::use_aeshash();
    assert!(!alg::set_use_aeshash(false));
    assert_eq!(check_file(&ts, "iface_vectors_fallback.txt"), 66);
    if alg::aes_available() {
        assert!(alg::set_use_aeshash(true));
        assert_eq!(check_file(&ts, "iface_vectors_aes.txt"), 66);
    } else {
        eprintln!("no AES on this CPU: AES vectors skipped");
    }
    alg::set_use_aeshash(was);
}

/// An interface key holding `t` and `v`.
fn key<V>(t: &Arc<DynType>, v: &V) -> Iface {
    Iface { typ: &**t, data: (v as *const V).cast() }
}

#[test]
fn map_any_semantics() {
    let _g = PATH_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let ts = Types::new();
    let t = MapType::iface_key(TypeInfo::of::<u64>()).unwrap();
    let h = map::makemap_small().unwrap().as_ptr();
    let set = |k: &Iface, v: u64| -> Result<(), MapError> {
        // SAFETY: a live map of `t`; `k` holds a live type and value.
        let s = unsafe { map::mapassign(&t, h, (k as *const Iface).cast()) }?;
        // SAFETY: the elem slot of a u64 map.
        unsafe { s.elem.as_ptr().cast::<u64>().write(v) };
        Ok(())
    };
    let get = |k: &Iface| -> Option<u64> {
        // SAFETY: as in `set`.
        let (e, ok) = unsafe { map::mapaccess2(&t, h, (k as *const Iface).cast()) }.unwrap();
        // SAFETY: `e` points to a u64 elem (or the zero value).
        ok.then(|| unsafe { e.cast::<u64>().read() })
    };
    let len = || {
        // SAFETY: a live map.
        unsafe { (*h).len() }
    };
    let (five, five32) = (5i64, 5i32);
    set(&key(&ts.int, &five), 1).unwrap();
    set(&key(&ts.myint, &five), 2).unwrap();
    set(&key(&ts.i32, &five32), 3).unwrap();
    set(&Iface::NIL, 4).unwrap();
    assert_eq!(len(), 4, "int(5), MyInt(5), int32(5) and nil are four keys");
    assert_eq!(get(&key(&ts.int, &5i64)), Some(1));
    assert_eq!(get(&key(&ts.myint, &5i64)), Some(2));
    assert_eq!(get(&Iface::NIL), Some(4));
    // NaN inside an interface never matches; ±0 do, and the key is updated.
    let nan = f64::NAN;
    set(&key(&ts.f64, &nan), 5).unwrap();
    set(&key(&ts.f64, &nan), 6).unwrap();
    assert_eq!(len(), 6);
    assert_eq!(get(&key(&ts.f64, &nan)), None);
    let (pz, nz) = (0.0f64, -0.0f64);
    set(&key(&ts.f64, &pz), 7).unwrap();
    set(&key(&ts.f64, &nz), 8).unwrap();
    assert_eq!(len(), 7);
    assert_eq!(get(&key(&ts.f64, &0.0f64)), Some(8));
    // Unhashable: an error naming the type, and the map unchanged.
    let sv = [0u8; 24];
    let bad = key(&ts.slice, &sv);
    // SAFETY: a live type and 24 readable bytes.
    let e = unsafe { key_error(&bad) }.unwrap();
    assert_eq!(e.to_string(), "runtime error: hash of unhashable type []int");
    let before = len();
    assert_eq!(set(&bad, 9), Err(MapError::UnhashableKey));
    // SAFETY: as in `get`.
    assert_eq!(unsafe { map::mapaccess2(&t, h, (&raw const bad).cast()) }.map(|r| r.1), Err(MapError::UnhashableKey));
    // SAFETY: a live map of `t`; a key of it.
    assert_eq!(unsafe { map::mapdelete(&t, h, (&raw const bad).cast()) }, Err(MapError::UnhashableKey));
    assert_eq!(len(), before);
    // Nested unhashable, inside a struct's interface field.
    let w = W { i: bad, n: 0 };
    assert_eq!(set(&key(&ts.w, &w), 1), Err(MapError::UnhashableKey));
    assert_eq!(len(), before);
    // Grow past a few buckets with mixed types; every key stays findable.
    let ints: Vec<i64> = (0..200).collect();
    let strs: Vec<String> = (0..200).map(|i| format!("s{i}")).collect();
    let gs: Vec<GoString> = strs.iter().map(|s| GoString::from_str(s)).collect();
    for i in 0..200 {
        set(&key(&ts.int, &ints[i]), i as u64).unwrap();
        set(&key(&ts.str, &gs[i]), 1000 + i as u64).unwrap();
    }
    for i in 0..200 {
        assert_eq!(get(&key(&ts.int, &ints[i])), Some(i as u64));
        assert_eq!(get(&key(&ts.str, &gs[i])), Some(1000 + i as u64));
    }
    // SAFETY: no iterators; freed once.
    unsafe { map::mapfree(&t, h) }.unwrap();
}
