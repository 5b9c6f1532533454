//! `maps.Clone` that stops part-way: a key or value clone that panics at its
//! k-th call, for every k a clone makes, and an allocation that fails at
//! each allocation a clone makes. In every case:
//!
//! * the source map is untouched: same entries (compared by iteration), the
//!   same values (by serial: none dropped, none replaced), invariants intact;
//! * the partial clone is released completely: every value it cloned is
//!   dropped exactly once, nothing is dropped twice, nothing leaks (every
//!   block back to the allocator in the tests with a counting allocator);
//! * the source stays usable: a later clone succeeds, writes work.
//!
//! Every tracked key and value gets a fresh serial when made or cloned,
//! registered until it is dropped: a drop of a serial that is not alive
//! (a double drop, or a drop of bytes that never held a value) is counted,
//! and the registry must end up holding exactly the source's serials.
//! Shapes: one bucket (B = 0, the byte-copy path), B > 0, a map mid-way
//! through a doubling growth (entries re-inserted one by one) and through a
//! same-size growth (old chains appended); keys and values inline and out
//! of line. Under Miri: fewer type combinations, sizes and positions
//! (every path still reached).

mod common;

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, BTreeSet};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::ptr::NonNull;

use common::alloc::{self, allocs, failing_nth, live_blocks};
use common::{panic_message, scale};
use gomap::fatal::MapError;
use gomap::inspect::{check_invariants, header};
use gomap::map::{self, HIter, HMap};
use gomap::maptype::{KeyKind, KeySpec, MapType, MapTypeBuilder, TypeInfo};
use gomap::{GoKey, GoMap};

// ---------------------------------------------------------------------------
// Tracked values
// ---------------------------------------------------------------------------

thread_local! {
    static NEXT_SERIAL: Cell<u64> = const { Cell::new(1) };
    /// Serials of the tracked values alive now.
    static ALIVE: RefCell<BTreeSet<u64>> = const { RefCell::new(BTreeSet::new()) };
    /// Drops of a serial that was not alive.
    static BAD_DROPS: Cell<usize> = const { Cell::new(0) };
    /// Clone calls so far, per side ([KEY, VAL]).
    static CLONES: [Cell<usize>; 2] = const { [Cell::new(0), Cell::new(0)] };
    /// The clone call of each side that panics (0: none).
    static PANIC_AT: [Cell<usize>; 2] = const { [Cell::new(0), Cell::new(0)] };
}

const KEY: u8 = 0;
const VAL: u8 = 1;
const INJECTED: &str = "injected clone panic";

fn born() -> u64 {
    let s = NEXT_SERIAL.with(|n| {
        let s = n.get();
        n.set(s + 1);
        s
    });
    ALIVE.with(|a| a.borrow_mut().insert(s));
    s
}

fn died(serial: u64) {
    if !ALIVE.with(|a| a.borrow_mut().remove(&serial)) {
        BAD_DROPS.with(|b| b.set(b.get() + 1));
    }
}

fn alive() -> BTreeSet<u64> {
    ALIVE.with(|a| a.borrow().clone())
}

fn bad_drops() -> usize {
    BAD_DROPS.with(Cell::get)
}

fn clone_calls(side: u8) -> usize {
    CLONES.with(|c| c[side as usize].get())
}

fn arm(side: u8, at: usize) {
    CLONES.with(|c| c.iter().for_each(|c| c.set(0)));
    PANIC_AT.with(|p| {
        p.iter().for_each(|p| p.set(0));
        p[side as usize].set(at);
    });
}

fn disarm() {
    PANIC_AT.with(|p| p.iter().for_each(|p| p.set(0)));
}

/// A key (`SIDE == KEY`) or value (`SIDE == VAL`) that registers itself
/// while alive. `id` is what the test compares; `_heap` gives Miri and ASan
/// an allocation to see leaked or freed twice; `PAD` words make it large
/// enough (PAD = 16: 152 bytes) to be stored out of line.
#[derive(Debug)]
struct Tracked<const SIDE: u8, const PAD: usize> {
    serial: u64,
    id: u64,
    _heap: Box<u8>,
    _pad: [u64; PAD],
}

impl<const SIDE: u8, const PAD: usize> Tracked<SIDE, PAD> {
    fn new(id: u64) -> Self {
        Tracked { serial: born(), id, _heap: Box::new(id as u8), _pad: [id; PAD] }
    }
}

impl<const SIDE: u8, const PAD: usize> Clone for Tracked<SIDE, PAD> {
    fn clone(&self) -> Self {
        let n = CLONES.with(|c| {
            let c = &c[SIDE as usize];
            c.set(c.get() + 1);
            c.get()
        });
        if n == PANIC_AT.with(|p| p[SIDE as usize].get()) {
            panic!("{INJECTED}: {} clone #{n}", if SIDE == KEY { "key" } else { "value" });
        }
        Tracked::new(self.id)
    }
}

impl<const SIDE: u8, const PAD: usize> Drop for Tracked<SIDE, PAD> {
    fn drop(&mut self) {
        died(self.serial);
    }
}

type SmallKey = Tracked<KEY, 0>;
type BigKey = Tracked<KEY, 16>;
type SmallVal = Tracked<VAL, 0>;
type BigVal = Tracked<VAL, 16>;

unsafe fn key_hash<const PAD: usize>(k: *const u8, seed: usize, _: *const ()) -> usize {
    // SAFETY: `k` points to a key of this type (the descriptor's contract).
    let id = unsafe { (*k.cast::<Tracked<KEY, PAD>>()).id };
    // SAFETY: `id` is 8 readable bytes.
    unsafe { gomap::alg::memhash64((&raw const id).cast(), seed) }
}

unsafe fn key_equal<const PAD: usize>(a: *const u8, b: *const u8, _: *const ()) -> bool {
    // SAFETY: both point to keys of this type.
    unsafe { (*a.cast::<Tracked<KEY, PAD>>()).id == (*b.cast::<Tracked<KEY, PAD>>()).id }
}

// SAFETY: the hasher and equality read the `id` of one key; equal ids hash
// alike. Small keys have a SPEC (static descriptor); big ones do not, so
// their maps box a descriptor of their own (the `map_type` path), and they
// need key updates (indirect keys with NeedKeyUpdate: Go's exception to its
// one-bucket byte copy).
unsafe impl<const PAD: usize> GoKey for Tracked<KEY, PAD> {
    const SPEC: Option<KeySpec> = if PAD == 0 {
        Some(KeySpec {
            key: TypeInfo::of_pointerful::<Self>(),
            hasher: key_hash::<PAD>,
            equal: key_equal::<PAD>,
            kind: KeyKind::Custom,
            reflexive: true,
            need_key_update: false,
            trusted: true,
            ctx: std::ptr::null(),
        })
    } else {
        None
    };
    fn map_type(elem: TypeInfo) -> MapType {
        MapTypeBuilder::new(TypeInfo::of_pointerful::<Self>(), elem, key_hash::<PAD>, key_equal::<PAD>)
            .need_key_update(PAD != 0)
            .trusted_callbacks()
            .build()
            .unwrap()
    }
}

/// Keys and values the shapes below can make from an id.
trait Make {
    fn make(id: u64) -> Self;
    fn id(&self) -> u64;
    fn serial(&self) -> u64;
}

impl<const SIDE: u8, const PAD: usize> Make for Tracked<SIDE, PAD> {
    fn make(id: u64) -> Self {
        Tracked::new(id)
    }
    fn id(&self) -> u64 {
        self.id
    }
    fn serial(&self) -> u64 {
        self.serial
    }
}

/// Hides the injected panics' messages (thousands of them); other panics
/// are reported as usual.
fn quiet_injected_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let msg = info.payload().downcast_ref::<String>().map(String::as_str).unwrap_or("");
            if !msg.starts_with(INJECTED) {
                default(info);
            }
        }));
    });
}

// ---------------------------------------------------------------------------
// Shapes of source maps
// ---------------------------------------------------------------------------

#[derive(Clone, Copy, Debug)]
enum Shape {
    /// n entries (≤ 8), B = 0.
    OneBucket(u64),
    /// n entries, B > 0, not growing.
    Large(u64),
    /// Mid-way through a doubling growth, at least n entries.
    Doubling(u64),
    /// Mid-way through a same-size growth (golang/go#69110's recipe).
    SameSize,
}

/// Feeds the shape's inserts and removes to `put`/`del`; `growing` reports
/// (oldbuckets non-null, same-size growth). Returns false if the shape was
/// not reached (a same-size growth needs luck with the seed).
fn drive(shape: Shape, put: &mut dyn FnMut(u64), del: &mut dyn FnMut(u64), growing: &dyn Fn() -> (bool, bool)) -> bool {
    match shape {
        Shape::OneBucket(n) | Shape::Large(n) => {
            (0..n).for_each(put);
            !growing().0
        }
        Shape::Doubling(n) => {
            // Stop at the first doubling that a later insert would not have
            // finished already (from B = 2 on, one insert evacuates at most
            // two old buckets).
            let mut id = 0;
            while id < n || !growing().0 {
                put(id);
                id += 1;
                if id > 10_000 {
                    return false;
                }
            }
            true
        }
        Shape::SameSize => {
            // 26 entries in 4 buckets, then churn: deletes leave overflow
            // buckets behind until a same-size growth starts.
            let ne = 26;
            (0..ne).for_each(&mut *put);
            for id in ne..ne + 1000 {
                del(id - ne);
                put(id);
                if growing() == (true, true) {
                    return true;
                }
            }
            false
        }
    }
}

fn build<K: GoKey + Make, V: Make>(shape: Shape) -> Option<GoMap<K, V>> {
    for _ in 0..100 {
        let m = RefCell::new(GoMap::<K, V>::new());
        let reached = drive(
            shape,
            &mut |id| assert!(m.borrow_mut().insert(K::make(id), V::make(id + 1_000_000)).is_none()),
            &mut |id| assert!(m.borrow_mut().remove(&K::make(id)).is_some()),
            &|| {
                let m = m.borrow();
                let h = m.header();
                (h.growing, h.flags & map::SAME_SIZE_GROW != 0)
            },
        );
        if reached {
            return Some(m.into_inner());
        }
    }
    None
}

/// The source is in the state the shape names, and the clone takes the
/// path meant: B = 0; B > 0; entries of old buckets not yet evacuated,
/// re-inserted one by one (old B < the clone's B) or appended chain by chain
/// (old B == the clone's B).
fn assert_shape(shape: Shape, src: &gomap::inspect::Header, clone_b: u8, what: &str) {
    let ssg = src.flags & map::SAME_SIZE_GROW != 0;
    let unevacuated = src.growing && src.nevacuate < 1 << (src.b - !ssg as u8);
    let ok = match shape {
        Shape::OneBucket(_) => src.b == 0 && clone_b == 0,
        Shape::Large(_) => src.b > 0 && !src.growing,
        Shape::Doubling(_) => unevacuated && !ssg && src.b - 1 < clone_b,
        Shape::SameSize => unevacuated && ssg && src.b >= clone_b,
    };
    assert!(ok, "{what}: shape not reached: source {src:?}, clone B {clone_b}");
}

/// What a map holds: key id -> value id, and the serials of its keys and
/// values.
fn contents<K: GoKey + Make, V: Make>(m: &GoMap<K, V>) -> (BTreeMap<u64, u64>, BTreeSet<u64>) {
    let mut ids = BTreeMap::new();
    let mut serials = BTreeSet::new();
    for (k, v) in m {
        assert!(ids.insert(k.id(), v.id()).is_none(), "key {} produced twice", k.id());
        assert!(serials.insert(k.serial()) && serials.insert(v.serial()), "a serial held twice");
    }
    assert_eq!(ids.len(), m.len());
    (ids, serials)
}

/// The source after a failed clone: same entries, same values, invariants
/// intact; alive are exactly its serials; nothing was dropped twice.
fn verify<K: GoKey + Make, V: Make>(
    m: &GoMap<K, V>,
    want: &BTreeMap<u64, u64>,
    serials: &BTreeSet<u64>,
) -> Result<(), String> {
    // SAFETY: a live map, not being written.
    m.hmap().map_or(Ok(()), |h| unsafe { check_invariants(m.map_type(), h) })?;
    let (ids, now) = contents(m);
    if &ids != want {
        return Err(format!("source entries changed: {} of {} left", ids.len(), want.len()));
    }
    if &now != serials {
        return Err("source values replaced".into());
    }
    let alive = alive();
    if &alive != serials || bad_drops() != 0 {
        let lost = serials.difference(&alive).count();
        let extra = alive.difference(serials).count();
        return Err(format!(
            "live values {} (want {}): {lost} of the source's dropped, {extra} clones leaked, {} dropped twice or never alive",
            alive.len(),
            serials.len(),
            bad_drops()
        ));
    }
    Ok(())
}

/// Clones `m` once per clone call of `side` a clean clone makes, the k-th
/// call panicking (every k natively, a sample under Miri); checks the
/// source, and that it is still usable, after each. Returns the positions
/// tried.
fn every_clone_panic<K, V>(shape: Shape, side: u8) -> usize
where
    K: GoKey + Make + Clone,
    V: Make + Clone,
{
    quiet_injected_panics();
    let Some(mut m) = build::<K, V>(shape) else { return 0 };
    let (want, serials) = contents(&m);
    let what = format!(
        "{shape:?} {}->{} {} panics",
        std::any::type_name::<K>(),
        std::any::type_name::<V>(),
        if side == KEY { "key" } else { "value" }
    );

    arm(side, 0);
    let c = m.clone();
    let total = clone_calls(side);
    assert_eq!(contents(&c).0, want, "{what}: clean clone");
    let (hs, hc) = (m.header(), c.header());
    assert_shape(shape, &hs, hc.b, &what);
    drop(c);
    assert_eq!(total, want.len(), "{what}: one clone call per entry");

    let step = if cfg!(miri) { (total / 3).max(1) } else { 1 };
    let mut tried = 0;
    for k in (1..=total).step_by(step) {
        arm(side, k);
        let r = catch_unwind(AssertUnwindSafe(|| m.clone()));
        disarm();
        match r {
            Ok(_) => panic!("{what}: clone returned although clone #{k} panicked"),
            Err(e) => assert!(panic_message(&*e).starts_with(INJECTED), "{what}: {}", panic_message(&*e)),
        }
        if let Err(e) = verify(&m, &want, &serials) {
            // Do not drop a map whose values may already be gone.
            std::mem::forget(m);
            panic!("{what}, clone #{k} of {total}: {e}");
        }
        tried += 1;
    }

    // Still usable: a clean clone, then writes.
    let c = m.clone();
    assert_eq!(contents(&c).0, want, "{what}: clone after failures");
    drop(c);
    m.insert(K::make(1 << 40), V::make(1));
    let first = *want.keys().next().unwrap();
    assert!(m.remove(&K::make(first)).is_some());
    assert_eq!(m.len(), want.len());
    drop(m);
    assert_eq!(alive(), BTreeSet::new(), "{what}: values alive after dropping everything");
    assert_eq!(bad_drops(), 0, "{what}: values dropped twice");
    tried
}

/// Both sides, every combination of inline and out-of-line keys and values.
fn all_types(shape: Shape) -> usize {
    let mut tried = 0;
    for side in [KEY, VAL] {
        tried += every_clone_panic::<SmallKey, SmallVal>(shape, side);
        tried += every_clone_panic::<BigKey, BigVal>(shape, side);
        if !cfg!(miri) {
            tried += every_clone_panic::<BigKey, SmallVal>(shape, side);
            tried += every_clone_panic::<SmallKey, BigVal>(shape, side);
        }
    }
    tried
}

// ---------------------------------------------------------------------------
// Panicking clone hooks
// ---------------------------------------------------------------------------

/// Issue 13's report: one bucket, 4 entries, the value clone panicking at
/// its 2nd call. The partial clone used to free the byte copies of the 3
/// entries it had not cloned yet, dropping the source's values.
#[test]
fn value_clone_panicking_in_one_bucket_map_drops_nothing_twice() {
    quiet_injected_panics();
    let m: GoMap<SmallKey, SmallVal> = (0..4).map(|i| (SmallKey::make(i), SmallVal::make(i))).collect();
    let (want, serials) = contents(&m);
    arm(VAL, 2);
    let r = catch_unwind(AssertUnwindSafe(|| m.clone()));
    disarm();
    assert!(r.is_err());
    let live = alive().len() as isize - 2 * bad_drops() as isize;
    if let Err(e) = verify(&m, &want, &serials) {
        std::mem::forget(m);
        panic!("{e} (live count {live})");
    }
    drop(m);
    assert_eq!((alive().len(), bad_drops()), (0, 0));
}

#[test]
fn one_bucket_clone_panics_at_every_position() {
    let mut tried = 0;
    for n in if cfg!(miri) { &[4, 8][..] } else { &[1, 4, 8] } {
        let n = *n;
        tried += all_types(Shape::OneBucket(n));
    }
    println!("{tried} clone panics survived");
}

#[test]
fn large_clone_panics_at_every_position() {
    let tried = all_types(Shape::Large(scale(100, 12) as u64));
    println!("{tried} clone panics survived");
}

#[test]
fn mid_doubling_clone_panics_at_every_position() {
    let tried = all_types(Shape::Doubling(scale(40, 0) as u64));
    println!("{tried} clone panics survived");
}

#[test]
fn mid_same_size_growth_clone_panics_at_every_position() {
    let tried = all_types(Shape::SameSize);
    assert!(tried > 0, "no same-size growth reached");
    println!("{tried} clone panics survived");
}

// ---------------------------------------------------------------------------
// Failing allocations (the core API: `GoMap` always uses the default
// allocator; the counting one is tests/common/alloc.rs)
// ---------------------------------------------------------------------------

unsafe fn drop_hook<T>(p: *mut u8, _: *const ()) {
    // SAFETY: the map drops each live T once.
    unsafe { std::ptr::drop_in_place(p.cast::<T>()) }
}

unsafe fn clone_hook<T: Clone>(dst: *mut u8, src: *const u8, _: *const ()) {
    // SAFETY: `src` holds a T, `dst` has room for one.
    unsafe { dst.cast::<T>().write((*src.cast::<T>()).clone()) }
}

/// A map made with the counting allocator through the core API.
struct Raw<K, V> {
    t: MapType,
    h: NonNull<HMap>,
    _m: std::marker::PhantomData<(K, V)>,
}

impl<K: GoKey + Make + Clone, V: Make + Clone> Raw<K, V> {
    fn new() -> Self {
        let t = K::map_type(TypeInfo::of_pointerful::<V>()).with_hooks(
            Some(drop_hook::<K>),
            Some(drop_hook::<V>),
            Some(clone_hook::<K>),
            Some(clone_hook::<V>),
        );
        let h = map::makemap_in(&t, 0, &alloc::counting(None)).unwrap();
        Raw { t, h, _m: std::marker::PhantomData }
    }

    fn put(&mut self, id: u64) {
        let k = std::mem::ManuallyDrop::new(K::make(id));
        // SAFETY: a live map of K -> V; the map takes the new key's bytes.
        let s = unsafe { map::mapassign(&self.t, self.h.as_ptr(), (&raw const *k).cast()) }.unwrap();
        assert!(s.inserted);
        // SAFETY: a fresh elem slot for one V.
        unsafe { s.elem.as_ptr().cast::<V>().write(V::make(id + 1_000_000)) };
    }

    fn del(&mut self, id: u64) {
        let k = K::make(id);
        // SAFETY: a live map; the entry's key and value are dropped.
        unsafe { map::mapdelete(&self.t, self.h.as_ptr(), (&raw const k).cast()) }.unwrap();
    }

    fn contents_of(&self, h: NonNull<HMap>) -> (BTreeMap<u64, u64>, BTreeSet<u64>) {
        let (mut ids, mut serials) = (BTreeMap::new(), BTreeSet::new());
        let mut it = HIter::new();
        // SAFETY: a live map, not written while iterated; ended below.
        unsafe {
            map::mapiterinit(&self.t, h.as_ptr(), &mut it);
            while !it.key.is_null() {
                let (k, v) = (&*it.key.cast::<K>(), &*it.elem.cast::<V>());
                ids.insert(k.id(), v.id());
                serials.insert(k.serial());
                serials.insert(v.serial());
                map::mapiternext(&mut it);
            }
            map::mapiterend(&mut it);
        }
        (ids, serials)
    }
}

impl<K, V> Drop for Raw<K, V> {
    fn drop(&mut self) {
        // SAFETY: live, no iterators.
        unsafe { map::mapfree(&self.t, self.h.as_ptr()) }.unwrap();
    }
}

/// Fails each allocation a clone makes in turn, then panics each clone
/// hook call in turn, counting blocks. Returns the failures tried.
fn every_clone_failure_with_counted_blocks<K: GoKey + Make + Clone, V: Make + Clone>(shape: Shape) -> usize {
    let m = RefCell::new(Raw::<K, V>::new());
    let reached = drive(shape, &mut |id| m.borrow_mut().put(id), &mut |id| m.borrow_mut().del(id), &|| {
        let m = m.borrow();
        // SAFETY: a live map.
        let h = unsafe { header(&m.t, m.h) };
        (h.growing, h.flags & map::SAME_SIZE_GROW != 0)
    });
    let m = m.into_inner();
    if !reached {
        return 0;
    }
    let what = format!("{shape:?} {}->{}", std::any::type_name::<K>(), std::any::type_name::<V>());
    let (want, serials) = m.contents_of(m.h);
    let blocks = live_blocks();

    let before = allocs();
    // SAFETY: a live map, not being written.
    let c = unsafe { map::mapclone2(&m.t, m.h.as_ptr()) }.unwrap();
    let total = allocs() - before;
    assert_eq!(m.contents_of(c).0, want, "{what}: clean clone");
    // SAFETY: live maps.
    unsafe { assert_shape(shape, &header(&m.t, m.h), header(&m.t, c).b, &what) };
    // SAFETY: the clone, freed once.
    unsafe { map::mapfree(&m.t, c.as_ptr()) }.unwrap();

    let check = |at: &str| {
        // SAFETY: a live map, not being written.
        unsafe { check_invariants(&m.t, m.h) }.unwrap();
        let (ids, now) = m.contents_of(m.h);
        assert_eq!(ids, want, "{what}: source entries changed ({at})");
        assert_eq!(now, serials, "{what}: source values replaced ({at})");
        let alive = alive();
        assert!(
            alive == serials && bad_drops() == 0,
            "{what}, {at}: {} clones leaked, {} source values dropped, {} bad drops",
            alive.difference(&serials).count(),
            serials.difference(&alive).count(),
            bad_drops()
        );
        assert_eq!(live_blocks(), blocks, "{what}: blocks leaked ({at})");
    };
    let sample = |total: usize| (1..=total).step_by(if cfg!(miri) { (total / 5).max(1) } else { 1 });

    let mut tried = 0;
    for n in sample(total) {
        tried += 1;
        // SAFETY: as above.
        let r = failing_nth(n, || unsafe { map::mapclone2(&m.t, m.h.as_ptr()) });
        assert_eq!(r.err(), Some(MapError::AllocFailed), "{what}: allocation {n} of {total}");
        check(&format!("allocation {n} of {total} failed"));
    }
    // And panicking hooks, with every block counted: out-of-line copies
    // and scratch space must go back too.
    quiet_injected_panics();
    for side in [KEY, VAL] {
        for k in sample(want.len()) {
            tried += 1;
            arm(side, k);
            // SAFETY: as above.
            let r = catch_unwind(AssertUnwindSafe(|| unsafe { map::mapclone2(&m.t, m.h.as_ptr()) }));
            disarm();
            assert!(r.is_err(), "{what}: clone returned although clone #{k} panicked");
            check(&format!("{} clone #{k} panicked", if side == KEY { "key" } else { "value" }));
        }
    }
    drop(m);
    assert_eq!((alive().len(), bad_drops()), (0, 0), "{what}: after dropping everything");
    assert_eq!(live_blocks(), 0, "{what}: blocks leaked");
    tried
}

#[test]
fn clone_allocation_failure_or_panic_returns_every_block() {
    let mut sites = 0;
    for shape in
        [Shape::OneBucket(6), Shape::Large(scale(60, 12) as u64), Shape::Doubling(scale(40, 0) as u64), Shape::SameSize]
    {
        sites += every_clone_failure_with_counted_blocks::<BigKey, BigVal>(shape);
        if !cfg!(miri) {
            sites += every_clone_failure_with_counted_blocks::<SmallKey, SmallVal>(shape);
            sites += every_clone_failure_with_counted_blocks::<BigKey, SmallVal>(shape);
            sites += every_clone_failure_with_counted_blocks::<SmallKey, BigVal>(shape);
        }
    }
    println!("{sites} allocation failures and panics survived");
}
