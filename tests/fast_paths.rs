//! The fast paths (`gomap::fast32`, `fast64`, `faststr`; Go's
//! map_fast{32,64,str}_noswiss.go) against the generic functions.
//!
//! Main check: a seeded random sequence of operations is applied to two maps
//! made with the same random draws (so the same `hash0`): one driven only
//! through the generic functions, the other through a random mix of fast
//! and generic calls. After every operation both maps must be laid out
//! identically (`inspect::snapshot`), pass `check_invariants`, agree with a
//! model, and have run the same drop hooks. The sequences go through
//! doubling and same-size growth, with iterators started mid-grow and kept
//! alive across writes.
//!
//! Plus Go's TestSingleBucketMapStringKeys_DupLen/_NoDupLen (map_test.go)
//! for the one-bucket string lookups, and the long-key `dohash` fallback.

mod common;

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::ptr::{self, NonNull};
use std::rc::Rc;

use common::scale;
use gomap::alg::GoString;
use gomap::inspect::{Snapshot, check_invariants, snapshot};
use gomap::map::{self, HIter, HMap, MIN_TOP_HASH, SAME_SIZE_GROW, Slot};
use gomap::maptype::{MapType, MapTypeBuilder, TypeInfo};
use gomap::{fast32, fast64, faststr, rand};

/// SplitMix64: the operation generator (separate from the maps' source).
struct Gen(u64);
impl Gen {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn coin(&mut self) -> bool {
        self.next() & 1 == 0
    }
}

/// A random source shared across calls, so each map sees its own stream.
type Src = Rc<RefCell<Box<dyn FnMut() -> u64>>>;

fn source(seed: u64) -> Src {
    Rc::new(RefCell::new(Box::new(rand::seeded(seed))))
}

fn with<R>(src: &Src, f: impl FnOnce() -> R) -> R {
    let s = src.clone();
    rand::with_source(move || (s.borrow_mut())(), f)
}

thread_local! {
    /// (number of drop-hook calls, sum of the dropped values' first 8 bytes)
    static DROPS: Cell<(u64, u64)> = const { Cell::new((0, 0)) };
}

unsafe fn count_drop(p: *mut u8, _ctx: *const ()) {
    // SAFETY: keys and elems here are at least 4 bytes; read what is there.
    let v = unsafe { p.cast::<u32>().read_unaligned() } as u64;
    DROPS.with(|d| {
        let (n, s) = d.get();
        d.set((n + 1, s.wrapping_add(v)));
    });
}

fn drops() -> (u64, u64) {
    DROPS.with(Cell::get)
}

/// One key type and its fast functions.
trait Kind {
    type Key: Copy;
    const NAME: &'static str;
    fn map_type(elem: TypeInfo) -> MapType;
    /// The same layout through caller-supplied (untrusted) callbacks, which
    /// makes evacuation decide destinations in a pre-pass, if the kind has one.
    fn untrusted(_elem: TypeInfo) -> Option<MapType> {
        None
    }
    /// Key number `i`; `alt` picks another representation of the same key
    /// where one exists (string copies).
    fn key(&mut self, i: u64, alt: bool) -> Self::Key;
    /// Whether empty slots' stale bytes may differ between fast and generic
    /// deletes (Go's mapdelete_faststr clears only the string pointer).
    const STR: bool = false;
    unsafe fn access2(t: &MapType, h: *const HMap, k: Self::Key) -> (*const u8, bool);
    unsafe fn access1(t: &MapType, h: *const HMap, k: Self::Key) -> *const u8;
    unsafe fn assign(t: &MapType, h: *mut HMap, k: Self::Key) -> Slot;
    unsafe fn delete(t: &MapType, h: *mut HMap, k: Self::Key);
}

struct U32;
impl Kind for U32 {
    type Key = u32;
    const NAME: &'static str = "u32";
    fn map_type(elem: TypeInfo) -> MapType {
        MapType::u32_key(elem).unwrap()
    }
    fn untrusted(elem: TypeInfo) -> Option<MapType> {
        unsafe fn hash(p: *const u8, seed: usize, _: *const ()) -> usize {
            // SAFETY: a 4-byte key.
            unsafe { gomap::alg::memhash32(p, seed) }
        }
        unsafe fn eq(a: *const u8, b: *const u8, _: *const ()) -> bool {
            // SAFETY: 4-byte keys.
            unsafe { a.cast::<u32>().read_unaligned() == b.cast::<u32>().read_unaligned() }
        }
        Some(MapTypeBuilder::new(TypeInfo::of::<u32>(), elem, hash, eq).build().unwrap())
    }
    fn key(&mut self, i: u64, _: bool) -> u32 {
        i as u32
    }
    unsafe fn access2(t: &MapType, h: *const HMap, k: u32) -> (*const u8, bool) {
        // SAFETY: forwarded (a u32-key map).
        unsafe { fast32::mapaccess2_fast32(t, h, k) }.unwrap()
    }
    unsafe fn access1(t: &MapType, h: *const HMap, k: u32) -> *const u8 {
        // SAFETY: forwarded.
        unsafe { fast32::mapaccess1_fast32(t, h, k) }.unwrap()
    }
    unsafe fn assign(t: &MapType, h: *mut HMap, k: u32) -> Slot {
        // SAFETY: forwarded.
        unsafe { fast32::mapassign_fast32(t, h, k) }.unwrap()
    }
    unsafe fn delete(t: &MapType, h: *mut HMap, k: u32) {
        // SAFETY: forwarded.
        unsafe { fast32::mapdelete_fast32(t, h, k) }.unwrap()
    }
}

struct U64;
impl Kind for U64 {
    type Key = u64;
    const NAME: &'static str = "u64";
    fn map_type(elem: TypeInfo) -> MapType {
        MapType::u64_key(elem).unwrap()
    }
    fn key(&mut self, i: u64, _: bool) -> u64 {
        i.wrapping_mul(0x1_0000_0001) ^ (i << 40)
    }
    unsafe fn access2(t: &MapType, h: *const HMap, k: u64) -> (*const u8, bool) {
        // SAFETY: forwarded (a u64-key map).
        unsafe { fast64::mapaccess2_fast64(t, h, k) }.unwrap()
    }
    unsafe fn access1(t: &MapType, h: *const HMap, k: u64) -> *const u8 {
        // SAFETY: forwarded.
        unsafe { fast64::mapaccess1_fast64(t, h, k) }.unwrap()
    }
    unsafe fn assign(t: &MapType, h: *mut HMap, k: u64) -> Slot {
        // SAFETY: forwarded.
        unsafe { fast64::mapassign_fast64(t, h, k) }.unwrap()
    }
    unsafe fn delete(t: &MapType, h: *mut HMap, k: u64) {
        // SAFETY: forwarded.
        unsafe { fast64::mapdelete_fast64(t, h, k) }.unwrap()
    }
}

/// Pointer keys: Go uses mapassign_fast64ptr for them, and the plain fast64
/// functions for lookups and deletes (on 32-bit targets mapassign_fast32ptr
/// and the fast32 functions).
struct Ptr;
impl Kind for Ptr {
    type Key = *mut u8;
    const NAME: &'static str = "ptr";
    fn map_type(elem: TypeInfo) -> MapType {
        MapType::ptr_key(elem).unwrap()
    }
    fn key(&mut self, i: u64, _: bool) -> *mut u8 {
        // Addresses only: never dereferenced.
        ptr::without_provenance_mut(0x10_0000 + 16 * i as usize)
    }
    #[cfg(target_pointer_width = "64")]
    unsafe fn access2(t: &MapType, h: *const HMap, k: *mut u8) -> (*const u8, bool) {
        // SAFETY: forwarded (an 8-byte-key map).
        unsafe { fast64::mapaccess2_fast64(t, h, k.addr() as u64) }.unwrap()
    }
    #[cfg(target_pointer_width = "64")]
    unsafe fn access1(t: &MapType, h: *const HMap, k: *mut u8) -> *const u8 {
        // SAFETY: forwarded.
        unsafe { fast64::mapaccess1_fast64(t, h, k.addr() as u64) }.unwrap()
    }
    #[cfg(target_pointer_width = "64")]
    unsafe fn assign(t: &MapType, h: *mut HMap, k: *mut u8) -> Slot {
        // SAFETY: forwarded.
        unsafe { fast64::mapassign_fast64ptr(t, h, k) }.unwrap()
    }
    #[cfg(target_pointer_width = "64")]
    unsafe fn delete(t: &MapType, h: *mut HMap, k: *mut u8) {
        // SAFETY: forwarded.
        unsafe { fast64::mapdelete_fast64(t, h, k.addr() as u64) }.unwrap()
    }
    #[cfg(target_pointer_width = "32")]
    unsafe fn access2(t: &MapType, h: *const HMap, k: *mut u8) -> (*const u8, bool) {
        // SAFETY: forwarded (a 4-byte-key map).
        unsafe { fast32::mapaccess2_fast32(t, h, k.addr() as u32) }.unwrap()
    }
    #[cfg(target_pointer_width = "32")]
    unsafe fn access1(t: &MapType, h: *const HMap, k: *mut u8) -> *const u8 {
        // SAFETY: forwarded.
        unsafe { fast32::mapaccess1_fast32(t, h, k.addr() as u32) }.unwrap()
    }
    #[cfg(target_pointer_width = "32")]
    unsafe fn assign(t: &MapType, h: *mut HMap, k: *mut u8) -> Slot {
        // SAFETY: forwarded.
        unsafe { fast32::mapassign_fast32ptr(t, h, k) }.unwrap()
    }
    #[cfg(target_pointer_width = "32")]
    unsafe fn delete(t: &MapType, h: *mut HMap, k: *mut u8) {
        // SAFETY: forwarded.
        unsafe { fast32::mapdelete_fast32(t, h, k.addr() as u32) }.unwrap()
    }
}

/// String keys: two separately allocated copies of every string, so that
/// pointer-equal and content-equal matches both occur. Every fifth key is
/// long (>= 32 bytes) with the same first and last 4 bytes as the others,
/// so one-bucket lookups take the `keymaybe`/`dohash` path.
#[derive(Default)]
struct Str {
    pool: Vec<[Box<str>; 2]>,
}
impl Kind for Str {
    type Key = GoString;
    const NAME: &'static str = "string";
    const STR: bool = true;
    fn map_type(elem: TypeInfo) -> MapType {
        MapType::str_key(elem).unwrap()
    }
    fn key(&mut self, i: u64, alt: bool) -> GoString {
        while self.pool.len() <= i as usize {
            let j = self.pool.len();
            let s = match j % 5 {
                0 => format!("abcd-long-key-{j:08}-padding-padding-wxyz"),
                1 => String::new() + &"x".repeat(j % 7) + &j.to_string(),
                _ => format!("k{j}"),
            };
            self.pool.push([s.clone().into_boxed_str(), s.into_boxed_str()]);
        }
        GoString::from_str(&self.pool[i as usize][alt as usize])
    }
    unsafe fn access2(t: &MapType, h: *const HMap, k: GoString) -> (*const u8, bool) {
        // SAFETY: forwarded (a string-key map; the pool outlives the maps).
        unsafe { faststr::mapaccess2_faststr(t, h, k) }.unwrap()
    }
    unsafe fn access1(t: &MapType, h: *const HMap, k: GoString) -> *const u8 {
        // SAFETY: forwarded.
        unsafe { faststr::mapaccess1_faststr(t, h, k) }.unwrap()
    }
    unsafe fn assign(t: &MapType, h: *mut HMap, k: GoString) -> Slot {
        // SAFETY: forwarded.
        unsafe { faststr::mapassign_faststr(t, h, k) }.unwrap()
    }
    unsafe fn delete(t: &MapType, h: *mut HMap, k: GoString) {
        // SAFETY: forwarded.
        unsafe { faststr::mapdelete_faststr(t, h, k) }.unwrap()
    }
}

/// Zeroes the length half of string slots that are empty and whose pointer
/// half is zero: Go's generic mapdelete clears the whole header, while
/// mapdelete_faststr clears only the pointer. Nothing reads those bytes.
fn normalise(s: &mut Snapshot) {
    let chains = s.buckets.iter_mut().chain(s.oldbuckets.iter_mut().flatten());
    for chain in chains {
        for b in chain {
            for (i, k) in b.keys.iter_mut().enumerate() {
                if b.tophash[i] < MIN_TOP_HASH {
                    if let Some(k) = k {
                        let w = size_of::<usize>();
                        if k[..w].iter().all(|&x| x == 0) {
                            k[w..].fill(0);
                        }
                    }
                }
            }
        }
    }
}

/// One map and everything attached to it.
struct Side {
    h: NonNull<HMap>,
    src: Src,
    it: Option<Box<HIter>>,
}

/// What the random runs reached (all must be reached, summed over runs).
#[derive(Default, Debug)]
struct Reached {
    doubling: usize,
    same_size: usize,
    iter_started_growing: usize,
    fast_writes_growing: usize,
    fast_reads_growing: usize,
    one_bucket_fast_reads: usize,
}

fn read_u64(p: *const u8) -> u64 {
    // SAFETY: elems are 8-byte values (or the zero value); only 4-aligned
    // in Go's 32-bit layout (`go_layout` in `run`).
    unsafe { p.cast::<u64>().read_unaligned() }
}

/// Ops, key window, make hint, slide.
type Ep = (usize, u64, isize, bool);

/// Runs one random episode for kind `K` with elems `elem` (8 bytes).
/// With `slide`, writes keep exactly `window` keys in the map.
fn episode<K: Kind>(kind: &mut K, t: &MapType, seed: u64, (ops, window, hint, slide): Ep, r: &mut Reached) {
    let mut g = Gen(seed);
    let mk = |src: &Src| with(src, || map::makemap(t, hint).unwrap());
    let (sa, sb) = (source(seed), source(seed));
    let mut a = Side { h: mk(&sa), src: sa, it: None };
    let mut b = Side { h: mk(&sb), src: sb, it: None };
    let mut model: BTreeMap<u64, u64> = BTreeMap::new();
    let (mut lo, mut hi) = (0u64, 0u64);
    let ksize = t.key().size;

    let compared = std::cell::Cell::new(0usize);
    let compare = |a: &Side, b: &Side, what: &str| {
        // Under Miri, snapshots are expensive: compare every 4th time.
        compared.set(compared.get() + 1);
        if cfg!(miri) && compared.get() % 4 != 0 {
            return;
        }
        // SAFETY: live maps of type `t`, not being written.
        let (mut x, mut y) = unsafe { (snapshot(t, a.h), snapshot(t, b.h)) };
        if K::STR {
            normalise(&mut x);
            normalise(&mut y);
        }
        assert_eq!(x, y, "{}: layouts differ after {what}", K::NAME);
        for s in [a, b] {
            // SAFETY: as above.
            unsafe { check_invariants(t, s.h) }.unwrap_or_else(|e| panic!("{}: {e} after {what}", K::NAME));
        }
    };
    let iter_item = |s: &Side| -> Option<(Vec<u8>, u64)> {
        let it = s.it.as_ref()?;
        if it.key.is_null() {
            return None;
        }
        // SAFETY: the iterator points at a live key and elem.
        Some((unsafe { std::slice::from_raw_parts(it.key, ksize) }.to_vec(), read_u64(it.elem)))
    };

    for step in 0..ops {
        let growing = {
            // SAFETY: a live map.
            let hd = unsafe { gomap::inspect::header(t, b.h) };
            if hd.growing {
                if hd.flags & SAME_SIZE_GROW != 0 {
                    r.same_size += 1;
                } else {
                    r.doubling += 1;
                }
            }
            hd.growing
        };
        let one_bucket = {
            // SAFETY: a live map.
            unsafe { gomap::inspect::header(t, b.h) }.b == 0
        };
        let fast = g.coin();
        let alt = g.coin();
        let below_window = hi - lo < window;
        // Iterators started mid-grow are what this is about: favour them.
        let op = if growing && g.below(4) == 0 { 92 } else { g.below(100) };
        // Sliding: writes keep the window [lo, hi) full, deleting the oldest
        // key and inserting a fresh one.
        let op = if slide && op < 70 { if below_window { 0 } else { 45 } } else { op };
        let before = drops();
        let what;
        match op {
            0..=44 => {
                // insert a fresh key, or update one in the window
                // (Fresh keys only below the window: at a window of 6.5 * 2^B
                // the map then churns at its load limit and piles up
                // overflow buckets, which starts same-size growth.)
                let i = if below_window { hi } else { lo + g.below(hi - lo) };
                if i == hi {
                    hi += 1;
                }
                let k = kind.key(i, alt);
                let v = step as u64 + 1;
                // SAFETY: a live map of type `t`; `k` is a key of `t` (string bytes live in the pool).
                let sa = with(&a.src, || unsafe { map::mapassign(t, a.h.as_ptr(), (&raw const k).cast()) }).unwrap();
                // SAFETY: as above.
                let sb = with(&b.src, || unsafe {
                    if fast {
                        K::assign(t, b.h.as_ptr(), k)
                    } else {
                        map::mapassign(t, b.h.as_ptr(), (&raw const k).cast()).unwrap()
                    }
                });
                assert_eq!(sa.inserted, sb.inserted, "{}: inserted differs at step {step}", K::NAME);
                assert_eq!(sa.inserted, !model.contains_key(&i));
                // SAFETY: fresh or existing 8-byte elem slots, valid until the next write.
                unsafe {
                    sa.elem.cast::<u64>().write_unaligned(v);
                    sb.elem.cast::<u64>().write_unaligned(v);
                }
                model.insert(i, v);
                if fast && growing {
                    r.fast_writes_growing += 1;
                }
                what = "assign";
            }
            45..=69 => {
                // delete the oldest key of the window, or a random one
                let i = if !below_window && (slide || g.below(3) != 0) { lo } else { lo + g.below(hi - lo + 3) };
                if i == lo && lo < hi {
                    lo += 1;
                }
                let k = kind.key(i, alt);
                // SAFETY: a live map of type `t`; `k` is a key of `t`.
                with(&a.src, || unsafe { map::mapdelete(t, a.h.as_ptr(), (&raw const k).cast()) }).unwrap();
                let d1 = drops();
                // SAFETY: as above.
                with(&b.src, || unsafe {
                    if fast {
                        K::delete(t, b.h.as_ptr(), k)
                    } else {
                        map::mapdelete(t, b.h.as_ptr(), (&raw const k).cast()).unwrap()
                    }
                });
                let d2 = drops();
                assert_eq!(
                    (d1.0 - before.0, d1.1.wrapping_sub(before.1)),
                    (d2.0 - d1.0, d2.1.wrapping_sub(d1.1)),
                    "{}: drop hooks differ at step {step}",
                    K::NAME
                );
                model.remove(&i);
                if fast && growing {
                    r.fast_writes_growing += 1;
                }
                what = "delete";
            }
            70..=91 => {
                // look up a key, present or not
                let i = lo.saturating_sub(5) + g.below(hi - lo + 10);
                let k = kind.key(i, alt);
                let want = model.get(&i).copied();
                // SAFETY: a live map of type `t`; `k` is a key of `t`.
                let ga = unsafe { map::mapaccess2(t, a.h.as_ptr(), (&raw const k).cast()) }.unwrap();
                // SAFETY: as above.
                let gb = unsafe {
                    match (fast, g.coin()) {
                        (true, true) => K::access2(t, b.h.as_ptr(), k),
                        (true, false) => {
                            let p = K::access1(t, b.h.as_ptr(), k);
                            (p, p != map::zero_val())
                        }
                        _ => map::mapaccess2(t, b.h.as_ptr(), (&raw const k).cast()).unwrap(),
                    }
                };
                assert_eq!(ga.1, want.is_some(), "{}: generic lookup of key {i} at step {step}", K::NAME);
                assert_eq!(gb.1, want.is_some(), "{}: lookup of key {i} at step {step}", K::NAME);
                assert_eq!(read_u64(ga.0), want.unwrap_or(0));
                assert_eq!(read_u64(gb.0), want.unwrap_or(0));
                if fast && growing {
                    r.fast_reads_growing += 1;
                }
                if fast && one_bucket {
                    r.one_bucket_fast_reads += 1;
                }
                what = "lookup";
            }
            92..=95 => {
                // start an iterator on both maps (ending any previous one)
                for s in [&mut a, &mut b] {
                    let it = s.it.get_or_insert_with(|| Box::new(HIter::new()));
                    // SAFETY: a live map of type `t`; the iterator is ended before the map is freed.
                    with(&s.src, || unsafe { map::mapiterinit(t, s.h.as_ptr(), it) });
                }
                if growing {
                    r.iter_started_growing += 1;
                }
                // The current entry is only meaningful right after init/next
                // (later writes may clear its slot).
                assert_eq!(iter_item(&a), iter_item(&b), "{}: iterators differ at step {step}", K::NAME);
                what = "mapiterinit";
            }
            96..=98 => {
                // advance the iterators a few steps
                for _ in 0..1 + g.below(4) {
                    for s in [&mut a, &mut b] {
                        if let Some(it) = s.it.as_mut() {
                            // SAFETY: registered (or finished) on a live map.
                            unsafe { map::mapiternext(it) };
                        }
                    }
                    assert_eq!(iter_item(&a), iter_item(&b), "{}: iterators differ at step {step}", K::NAME);
                }
                what = "mapiternext";
            }
            _ => {
                if g.below(4) == 0 {
                    for s in [&mut a, &mut b] {
                        // SAFETY: a live map of type `t`.
                        with(&s.src, || unsafe { map::mapclear(t, s.h.as_ptr()) });
                    }
                    model.clear();
                    what = "mapclear";
                } else {
                    for s in [&mut a, &mut b] {
                        if let Some(mut it) = s.it.take() {
                            // SAFETY: the iterator belongs to a live map.
                            unsafe { map::mapiterend(&mut it) };
                        }
                    }
                    what = "mapiterend";
                }
            }
        }
        // SAFETY: live maps.
        let (la, lb) = unsafe { (a.h.as_ref().len(), b.h.as_ref().len()) };
        assert_eq!((la, lb), (model.len(), model.len()), "{}: len after {what} at step {step}", K::NAME);
        compare(&a, &b, what);
    }

    let before = drops();
    for s in [&mut a, &mut b] {
        if let Some(it) = s.it.as_mut() {
            // SAFETY: registered on a live map.
            unsafe { map::mapiterend(it) };
        }
        // SAFETY: a live map with no live iterators.
        unsafe { map::mapfree(t, s.h.as_ptr()) }.unwrap();
    }
    let after = drops();
    assert_eq!((after.0 - before.0) % 2, 0, "{}: both maps drop the same number of values", K::NAME);
}

/// Runs the random episodes for one kind, with a plain 8-byte elem and with
/// a "pointerful" elem plus drop hooks on keys and elems (which makes
/// evacuation clear old buckets and retire their overflow buckets, and
/// deletes run the hooks).
fn run<K: Kind>(mut kind: K, seed: u64) {
    // Fixed hash keys (the same material in every test of this binary), so
    // that each run takes the same path through growth.
    gomap::alg::set_key_material(&gomap::alg::test_key_material());
    let mut r = Reached::default();
    let plain = K::map_type(TypeInfo::of::<u64>());
    let hooked =
        K::map_type(TypeInfo::of_pointerful::<u64>()).with_hooks(Some(count_drop), Some(count_drop), None, None);
    let mut g = Gen(seed);
    // Sliding at 13, 26 and 52 keys keeps B = 1, 2, 3 at the load limit.
    let episodes: [Ep; 6] = [
        (scale(500, 60), 13, 0, true),
        (scale(600, 100), 26, 0, true),
        (scale(600, 80), 52, 0, true),
        (scale(500, 80), 60, 0, false),
        (scale(500, 40), 300, 100, false),
        (scale(200, 40), 8, 0, false),
    ];
    let untrusted = K::untrusted(TypeInfo::of_pointerful::<u64>());
    // Go's own layout where it differs from Rust's (armv7, wasm32): 8-byte
    // elems aligned to 4, so every other bucket of an array (140 bytes for
    // u64 keys) holds its keys and elems at 4 mod 8; the fast paths and
    // the tophash scans read them unaligned (Miri checks it on armv7).
    let go_elem = TypeInfo::of::<u64>().go_aligned();
    let go_layout = (go_elem.align != align_of::<u64>()).then(|| K::map_type(go_elem));
    // Under Miri: one episode (at B = 3's load limit) per descriptor.
    let episodes = if cfg!(miri) { &episodes[2..3] } else { &episodes[..] };
    for t in [Some(&plain), Some(&hooked), untrusted.as_ref(), go_layout.as_ref()].into_iter().flatten() {
        for &ep in episodes {
            episode(&mut kind, t, g.next(), ep, &mut r);
        }
    }
    println!("{}: {r:?}", K::NAME);
    if !cfg!(miri) {
        assert!(r.doubling > 0, "{}: no doubling growth reached: {r:?}", K::NAME);
        assert!(r.same_size > 0, "{}: no same-size growth reached: {r:?}", K::NAME);
        assert!(r.iter_started_growing > 0, "{}: no iterator started mid-grow: {r:?}", K::NAME);
        assert!(r.fast_writes_growing > 0 && r.fast_reads_growing > 0, "{}: {r:?}", K::NAME);
        assert!(r.one_bucket_fast_reads > 0, "{}: {r:?}", K::NAME);
    }
}

#[test]
fn fast32_matches_generic() {
    // Key material is process-wide: every test pins the same one first.
    gomap::alg::set_key_material(&gomap::alg::test_key_material());
    run(U32, 0x3232);
}

#[test]
fn fast64_matches_generic() {
    // Key material is process-wide: every test pins the same one first.
    gomap::alg::set_key_material(&gomap::alg::test_key_material());
    run(U64, 0x6464);
}

/// `mapassign_fast64ptr` on 64-bit targets, `mapassign_fast32ptr` on
/// 32-bit ones (pointer keys are 4 bytes there).
#[test]
fn fast64ptr_matches_generic() {
    // Key material is process-wide: every test pins the same one first.
    gomap::alg::set_key_material(&gomap::alg::test_key_material());
    // The seed is one whose episodes reach same-size growth: 4-byte
    // pointer keys (32-bit targets) hash differently from 8-byte ones.
    run(Ptr, if size_of::<usize>() == 8 { 0x7070 } else { 0x7272 });
}

#[test]
fn faststr_matches_generic() {
    // Key material is process-wide: every test pins the same one first.
    gomap::alg::set_key_material(&gomap::alg::test_key_material());
    run(Str::default(), 0x5757);
}

#[test]
fn fast_paths_on_nil_and_empty_maps() {
    // Key material is process-wide: every test pins the same one first.
    gomap::alg::set_key_material(&gomap::alg::test_key_material());
    let t32 = MapType::u32_key(TypeInfo::of::<u64>()).unwrap();
    let t64 = MapType::u64_key(TypeInfo::of::<u64>()).unwrap();
    let ts = MapType::str_key(TypeInfo::of::<u64>()).unwrap();
    let s = GoString::from_str("k");
    // SAFETY: null maps are nil maps; lookups and deletes are no-ops,
    // assignments fail like Go's panic.
    unsafe {
        assert_eq!(fast32::mapaccess2_fast32(&t32, ptr::null(), 1).unwrap(), (map::zero_val(), false));
        assert_eq!(fast64::mapaccess1_fast64(&t64, ptr::null(), 1).unwrap(), map::zero_val());
        assert_eq!(faststr::mapaccess2_faststr(&ts, ptr::null(), s).unwrap(), (map::zero_val(), false));
        fast32::mapdelete_fast32(&t32, ptr::null_mut(), 1).unwrap();
        fast64::mapdelete_fast64(&t64, ptr::null_mut(), 1).unwrap();
        faststr::mapdelete_faststr(&ts, ptr::null_mut(), s).unwrap();
        let nil = gomap::fatal::MapError::NilMapAssign;
        assert_eq!(fast32::mapassign_fast32(&t32, ptr::null_mut(), 1).unwrap_err(), nil);
        assert_eq!(fast64::mapassign_fast64(&t64, ptr::null_mut(), 1).unwrap_err(), nil);
        #[cfg(target_pointer_width = "64")]
        assert_eq!(fast64::mapassign_fast64ptr(&t64, ptr::null_mut(), ptr::null_mut()).unwrap_err(), nil);
        #[cfg(target_pointer_width = "32")]
        assert_eq!(fast32::mapassign_fast32ptr(&t32, ptr::null_mut(), ptr::null_mut()).unwrap_err(), nil);
        assert_eq!(faststr::mapassign_faststr(&ts, ptr::null_mut(), s).unwrap_err(), nil);
    }
}

/// Go's testMapLookups: every key of the map finds its value, through the
/// fast lookups, while the map is a single bucket. Also checks absent keys
/// (same length as present ones, and equal first/last 4 bytes).
fn test_map_lookups(entries: &[(String, String)], absent: &[String]) {
    let t = MapType::str_key(TypeInfo::of::<GoString>()).unwrap();
    let h = map::makemap(&t, 0).unwrap();
    // SAFETY: a live string map; keys and values live in `entries`, which
    // outlives the map.
    unsafe {
        for (k, v) in entries {
            let slot = faststr::mapassign_faststr(&t, h.as_ptr(), GoString::from_str(k)).unwrap();
            slot.elem.cast::<GoString>().write(GoString::from_str(v));
        }
        assert_eq!(gomap::inspect::header(&t, h).b, 0, "the map must be a single bucket");
        for (k, v) in entries {
            // A separate copy of the key: found by content, not by pointer.
            let copy = k.clone();
            for key in [GoString::from_str(k), GoString::from_str(&copy)] {
                let got = faststr::mapaccess1_faststr(&t, h.as_ptr(), key).unwrap().cast::<GoString>().read();
                assert_eq!(
                    got.as_bytes(),
                    v.as_bytes(),
                    "m[{k:?}] = {:?}; want {v:?}",
                    std::str::from_utf8(got.as_bytes())
                );
                let (p, ok) = faststr::mapaccess2_faststr(&t, h.as_ptr(), key).unwrap();
                assert!(ok);
                assert_eq!(p.cast::<GoString>().read().as_bytes(), v.as_bytes());
                let (pg, okg) = map::mapaccess2(&t, h.as_ptr(), (&raw const key).cast()).unwrap();
                assert!(okg && pg == p);
            }
        }
        for k in absent {
            let key = GoString::from_str(k);
            assert_eq!(faststr::mapaccess2_faststr(&t, h.as_ptr(), key).unwrap(), (map::zero_val(), false), "{k:?}");
            assert_eq!(faststr::mapaccess1_faststr(&t, h.as_ptr(), key).unwrap(), map::zero_val());
        }
        check_invariants(&t, h).unwrap();
        map::mapfree(&t, h.as_ptr()).unwrap();
    }
}

fn owned(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|&(k, v)| (k.to_owned(), v.to_owned())).collect()
}

#[test]
fn test_single_bucket_map_string_keys_dup_len() {
    // Key material is process-wide: every test pins the same one first.
    gomap::alg::set_key_material(&gomap::alg::test_key_material());
    let (x128, y128) = ("x".repeat(128), "y".repeat(128));
    let mut e = owned(&[("x", "x1val"), ("xx", "x2val"), ("foo", "fooval"), ("bar", "barval"), ("xxxx", "x4val")]);
    e.push((x128.clone(), "longval1".into()));
    e.push((y128, "longval2".into()));
    let absent =
        ["baz", "", "xxx", &format!("{}z", "x".repeat(127)), &format!("x{}x", "z".repeat(126)), &"x".repeat(64)];
    test_map_lookups(&e, &absent.map(String::from));
}

#[test]
fn test_single_bucket_map_string_keys_no_dup_len() {
    // Key material is process-wide: every test pins the same one first.
    gomap::alg::set_key_material(&gomap::alg::test_key_material());
    let mut e = owned(&[
        ("x", "x1val"),
        ("xx", "x2val"),
        ("foo", "fooval"),
        ("xxxx", "x4val"),
        ("xxxxx", "x5val"),
        ("xxxxxx", "x6val"),
    ]);
    e.push(("x".repeat(128), "longval".into()));
    let absent = ["bar", "y", "xxx", &format!("{}y", "x".repeat(127))];
    test_map_lookups(&e, &absent.map(String::from));
}

/// Long keys in a one-bucket map that agree on their first and last 4
/// bytes: the first candidate is remembered (`keymaybe`), a second one
/// sends the lookup to the hashed path (`dohash`).
#[test]
fn single_bucket_long_keys_keymaybe_and_dohash() {
    // Key material is process-wide: every test pins the same one first.
    gomap::alg::set_key_material(&gomap::alg::test_key_material());
    let long = |mid: &str| format!("head{mid:-^40}tail");
    let keys: Vec<String> = ["a", "b", "c"].iter().map(|m| long(m)).collect();
    let mut e: Vec<(String, String)> = keys.iter().map(|k| (k.clone(), format!("v{k}"))).collect();
    e.push(("short".into(), "s".into()));
    // One candidate only: same head/tail as the keys, different middle.
    test_map_lookups(&e[..1], &[long("z")]);
    // Several candidates: hashed lookups, present and absent.
    test_map_lookups(&e, &[long("z"), long("a").replace("tail", "tai!")]);
}

/// `GoMap` picks the fast paths Go's compiler would pick, and they behave
/// like the generic ones through growth, updates and removals.
#[test]
fn gomap_wrapper_uses_fast_paths() {
    // Key material is process-wide: every test pins the same one first.
    gomap::alg::set_key_material(&gomap::alg::test_key_material());
    use gomap::gomap::FastKind;
    use gomap::{GoKey, GoMap};
    assert_eq!(<u32 as GoKey>::FAST, FastKind::Fast32);
    assert_eq!(<char as GoKey>::FAST, FastKind::Fast32);
    assert_eq!(<[u8; 4] as GoKey>::FAST, FastKind::Fast32);
    assert_eq!(<i64 as GoKey>::FAST, FastKind::Fast64);
    // Go's uintptr: the word's fast paths.
    let word = if size_of::<usize>() == 8 { FastKind::Fast64 } else { FastKind::Fast32 };
    assert_eq!(<usize as GoKey>::FAST, word);
    assert_eq!(<[u8; 8] as GoKey>::FAST, FastKind::Fast64);
    assert_eq!(<u16 as GoKey>::FAST, FastKind::None);
    assert_eq!(<f64 as GoKey>::FAST, FastKind::None);
    assert_eq!(<String as GoKey>::FAST, FastKind::None);

    fn exercise<K: GoKey + Copy + Ord + std::fmt::Debug, V: Clone + PartialEq + std::fmt::Debug>(
        key: impl Fn(u64) -> K,
        val: impl Fn(u64) -> V,
    ) {
        let n = scale(600, 60) as u64;
        let mut m: GoMap<K, V> = GoMap::new();
        let mut model = BTreeMap::new();
        for i in 0..n {
            assert_eq!(m.insert(key(i), val(i)), model.insert(key(i), val(i)));
            if i % 3 == 0 {
                let j = i / 2;
                assert_eq!(m.remove(&key(j)), model.remove(&key(j)));
            }
            if i % 5 == 0 {
                assert_eq!(m.insert(key(i / 3), val(i + 1)), model.insert(key(i / 3), val(i + 1)));
            }
        }
        assert_eq!(m.len(), model.len());
        for i in 0..n + 10 {
            assert_eq!(m.get(&key(i)), model.get(&key(i)));
        }
        if let Some(v) = m.get_mut(&key(n - 1)) {
            *v = val(0);
        }
        assert_eq!(m.get(&key(n - 1)), Some(&val(0)));
        // SAFETY: a live map, not being written.
        m.hmap().map_or(Ok(()), |h| unsafe { check_invariants(m.map_type(), h) }).unwrap();
    }
    exercise(|i| i as u32, |i| i.to_string());
    exercise(|i| (i as i64) * -7, |i| [i as u8; 3]);
    exercise(|i| (i as u32).to_le_bytes(), |i| i);
    exercise(|i| i as usize, |i| vec![i; 2]);
    // An elem over 128 bytes: Go's compiler keeps the generic functions.
    exercise(|i| i, |i| [i; 20]);
}
