//! Owned iteration and capacity (`gomap::owned`): `into_iter`,
//! `into_keys`, `into_values`, `drain`, `extract_if`, `reserve`,
//! `try_reserve`.
//!
//! Every tracked key and value registers a serial while alive; a drop of a
//! serial that is not alive (a double drop) is counted. Each test checks
//! that every key and value is dropped exactly once (or, where the API says
//! so, leaked), whether the iterator is consumed in full, in part, leaked,
//! or a value's drop panics. Maps are made with the counting allocator, so
//! that the map's own memory is seen to be freed. Shapes: keys and values
//! inline and out of line (with and without a static descriptor), `String`
//! keys and values, `[u8; 200]` keys; one bucket, many, and a map in the
//! middle of a doubling growth. Under Miri, fewer entries (every path
//! still reached).

mod common;

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, BTreeSet};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Mutex, Once};

use common::alloc::{counting, failing_nth, live_blocks};
use common::map::{check, hdr};
use common::scale;
use gomap::fatal::MapError;
use gomap::maptype::{KeyKind, KeySpec, MapType, MapTypeBuilder, TypeInfo};
use gomap::rand::{seeded, with_source};
use gomap::{GoKey, GoMap};

// ---------------------------------------------------------------------------
// Tracked keys and values
// ---------------------------------------------------------------------------

thread_local! {
    static NEXT_SERIAL: Cell<u64> = const { Cell::new(1) };
    /// Serials alive now.
    static ALIVE: RefCell<BTreeSet<u64>> = const { RefCell::new(BTreeSet::new()) };
    /// Drops of a serial that was not alive.
    static BAD_DROPS: Cell<usize> = const { Cell::new(0) };
    /// Value drops so far, and the one (1-based) that panics (0: none).
    static VAL_DROPS: Cell<usize> = const { Cell::new(0) };
    static VAL_PANIC_AT: Cell<usize> = const { Cell::new(0) };
}

const KEY: u8 = 0;
const VAL: u8 = 1;

/// A key (`SIDE == KEY`) or value that registers a serial while alive.
/// `PAD` words make it out of line (PAD = 20: 176 bytes). No heap: a value
/// leaked on purpose (after a panicking drop) leaves nothing for Miri's
/// leak check.
#[derive(Debug)]
struct Tracked<const SIDE: u8, const PAD: usize> {
    serial: u64,
    id: u64,
    _pad: [u64; PAD],
}

impl<const SIDE: u8, const PAD: usize> Tracked<SIDE, PAD> {
    fn new(id: u64) -> Self {
        let serial = NEXT_SERIAL.with(|n| {
            let s = n.get();
            n.set(s + 1);
            s
        });
        ALIVE.with(|a| a.borrow_mut().insert(serial));
        Tracked { serial, id, _pad: [id; PAD] }
    }
}

impl<const SIDE: u8, const PAD: usize> Drop for Tracked<SIDE, PAD> {
    fn drop(&mut self) {
        if !ALIVE.with(|a| a.borrow_mut().remove(&self.serial)) {
            BAD_DROPS.with(|b| b.set(b.get() + 1));
        }
        if SIDE == VAL {
            let n = VAL_DROPS.with(|d| {
                d.set(d.get() + 1);
                d.get()
            });
            if n == VAL_PANIC_AT.with(Cell::get) {
                panic!("injected drop panic");
            }
        }
    }
}

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
// alike. Small keys have a SPEC (static descriptor); big ones do not (their
// maps box a descriptor, the `owned_t` path).
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
            .trusted_callbacks()
            .build()
            .unwrap()
    }
}

type SmallKey = Tracked<KEY, 0>;
type BigKey = Tracked<KEY, 20>;
type SmallVal = Tracked<VAL, 0>;
type BigVal = Tracked<VAL, 20>;

fn alive() -> usize {
    ALIVE.with(|a| a.borrow().len())
}

fn bad_drops() -> usize {
    BAD_DROPS.with(Cell::get)
}

/// Keys and values the tests make from an id, and read it back.
trait Make {
    fn make(id: u64) -> Self;
    fn id(&self) -> u64;
}

impl<const SIDE: u8, const PAD: usize> Make for Tracked<SIDE, PAD> {
    fn make(id: u64) -> Self {
        Tracked::new(id)
    }
    fn id(&self) -> u64 {
        self.id
    }
}

impl Make for String {
    fn make(id: u64) -> Self {
        format!("entry {id}")
    }
    fn id(&self) -> u64 {
        self[6..].parse().unwrap()
    }
}

impl Make for gomap::GoStr {
    fn make(id: u64) -> Self {
        gomap::GoStr::new(&format!("entry {id}"))
    }
    fn id(&self) -> u64 {
        self.as_str()[6..].parse().unwrap()
    }
}

impl Make for [u8; 200] {
    fn make(id: u64) -> Self {
        let mut k = [7u8; 200];
        k[..8].copy_from_slice(&id.to_le_bytes());
        k
    }
    fn id(&self) -> u64 {
        u64::from_le_bytes(self[..8].try_into().unwrap())
    }
}

impl Make for u64 {
    fn make(id: u64) -> Self {
        id
    }
    fn id(&self) -> u64 {
        *self
    }
}

/// Installs the counting allocator as the default (process-wide; the
/// counts are per thread).
fn counting_default() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| gomap::alloc::set_default_allocator(counting(None)));
}

/// A pointer to something leaked on purpose, never dereferenced.
struct Leaked(#[allow(dead_code)] *mut u8);

// SAFETY: never dereferenced; only kept so that what it points to stays
// reachable.
unsafe impl Send for Leaked {}

/// Where the leak tests put what they leak (as `mem::forget` would, its
/// drop never runs): memory reachable from a static is no leak to Miri.
static LEAKED: Mutex<Vec<Leaked>> = Mutex::new(Vec::new());

fn leak<T>(x: T) {
    let p = Box::into_raw(Box::new(x)).cast();
    LEAKED.lock().unwrap_or_else(|e| e.into_inner()).push(Leaked(p));
}

/// Whether owned iteration produces `iter()`'s order: unless it takes
/// entries by delete (keys that own memory, in a growing map), where the
/// deletes move entries the iteration has not reached.
fn same_order<K>(growing: bool) -> bool {
    !(std::mem::needs_drop::<K>() && growing)
}

/// A map of `n` entries `(make(i), make(i))`, values checked by id; with
/// `growing`, more entries until it is in the middle of a doubling growth.
fn map_of<K: GoKey + Make, V: Make>(n: usize, growing: bool) -> GoMap<K, V> {
    let mut m = GoMap::new();
    let mut i = 0u64;
    while (i as usize) < n || (growing && !hdr(&m).growing) {
        m.insert(K::make(i), V::make(i));
        i += 1;
    }
    if growing {
        assert!(hdr(&m).growing && hdr(&m).b > 1, "the map grows");
    }
    m
}

// ---------------------------------------------------------------------------
// into_iter
// ---------------------------------------------------------------------------

/// Consumes `m` fully: every entry once, each key with its value, in the
/// order `iter()` has under the same random source; every key and value
/// dropped once afterwards, the map's memory freed.
fn into_iter_full<K: GoKey + Make, V: Make>(what: &str, n: usize, growing: bool) {
    counting_default();
    let (alive0, bad0, blocks0) = (alive(), bad_drops(), live_blocks());
    let m: GoMap<K, V> = map_of(n, growing);
    let len = m.len();
    let want: Vec<u64> = with_source(seeded(9), || m.iter().map(|(k, _)| k.id()).collect());
    let it = with_source(seeded(9), || m.into_iter());
    assert_eq!(it.len(), len);
    let got: Vec<(K, V)> = it.collect();
    let ids: Vec<u64> = got
        .iter()
        .map(|(k, v)| {
            assert_eq!(k.id(), v.id(), "{what}: key and value of one entry");
            k.id()
        })
        .collect();
    if same_order::<K>(growing) {
        assert_eq!(ids, want, "{what}: Go's order");
    }
    assert_eq!(ids.iter().collect::<BTreeSet<_>>().len(), len, "{what}: each entry once");
    assert_eq!(live_blocks(), blocks0, "{what}: the map's memory is freed");
    drop(got);
    assert_eq!(alive(), alive0, "{what}: every key and value dropped");
    assert_eq!(bad_drops(), bad0, "{what}: nothing dropped twice");
}

#[test]
fn into_iter_yields_every_entry_once_in_go_order() {
    let n = scale(1200, 30);
    for growing in [false, true] {
        into_iter_full::<SmallKey, SmallVal>("small/small", n, growing);
        into_iter_full::<BigKey, BigVal>("big/big", n, growing);
        into_iter_full::<SmallKey, BigVal>("small/big", n, growing);
        into_iter_full::<String, String>("String/String", n, growing);
        into_iter_full::<[u8; 200], String>("[u8; 200]/String", n, growing);
        into_iter_full::<u64, u64>("u64/u64", n, growing);
        into_iter_full::<gomap::GoStr, u64>("GoStr/u64 (faststr)", n, growing);
    }
    into_iter_full::<String, String>("one bucket", 5, false);
    into_iter_full::<String, String>("empty", 0, false);
}

/// Consumes part of `m` and drops the iterator: the rest is dropped with
/// it, each once.
fn into_iter_part<K: GoKey + Make, V: Make>(what: &str, n: usize, growing: bool, take: usize) {
    counting_default();
    let (alive0, bad0, blocks0) = (alive(), bad_drops(), live_blocks());
    let m: GoMap<K, V> = map_of(n, growing);
    let mut it = m.into_iter();
    let got: Vec<(K, V)> = it.by_ref().take(take).collect();
    assert_eq!(it.len(), it.size_hint().0);
    drop(it);
    assert_eq!(live_blocks(), blocks0, "{what}: the map's memory is freed");
    drop(got);
    assert_eq!(alive(), alive0, "{what}: every key and value dropped");
    assert_eq!(bad_drops(), bad0, "{what}: nothing dropped twice");
}

#[test]
fn into_iter_dropped_early_drops_the_rest_once() {
    let n = scale(1200, 30);
    for growing in [false, true] {
        for take in [0, 1, n / 3] {
            into_iter_part::<SmallKey, SmallVal>("small/small", n, growing, take);
            into_iter_part::<BigKey, BigVal>("big/big", n, growing, take);
            into_iter_part::<String, String>("String/String", n, growing, take);
            into_iter_part::<[u8; 200], String>("[u8; 200]/String", n, growing, take);
        }
    }
}

#[test]
fn into_keys_and_into_values() {
    let n = scale(1000, 20);
    let m: GoMap<String, String> = map_of(n, false);
    let want: Vec<u64> = with_source(seeded(3), || m.iter().map(|(k, _)| k.id()).collect());
    let keys: Vec<u64> = with_source(seeded(3), || m.into_keys().map(|k| k.id()).collect());
    assert_eq!(keys, want);
    let m: GoMap<String, String> = map_of(n, true);
    let mut want: Vec<u64> = m.iter().map(|(_, v)| v.id()).collect();
    let vals = m.into_values();
    assert_eq!(vals.len(), want.len());
    let mut got: Vec<u64> = vals.map(|v| v.id()).collect();
    got.sort();
    want.sort();
    assert_eq!(got, want);
}

/// A value whose drop panics while `IntoIter` drops the rest: the map's
/// memory is still freed, nothing is dropped twice, the values not reached
/// are leaked.
#[test]
fn into_iter_survives_a_panicking_value_drop() {
    counting_default();
    let n = scale(300, 20);
    for growing in [false, true] {
        for at in [1, 2, n / 2] {
            let (alive0, bad0, blocks0) = (alive(), bad_drops(), live_blocks());
            let m: GoMap<BigKey, SmallVal> = map_of(n, growing);
            let len = m.len();
            let mut it = m.into_iter();
            let first = it.next().unwrap();
            drop(first);
            VAL_DROPS.with(|d| d.set(0));
            VAL_PANIC_AT.with(|p| p.set(at));
            let r = catch_unwind(AssertUnwindSafe(|| drop(it)));
            VAL_PANIC_AT.with(|p| p.set(0));
            assert!(r.is_err(), "the drop panicked");
            assert_eq!(live_blocks(), blocks0, "the map's memory is freed (panic at {at})");
            assert_eq!(bad_drops(), bad0, "nothing dropped twice (panic at {at})");
            // Dropped: the first entry and `at` values (and their keys);
            // the rest is leaked.
            let leaked = alive() - alive0;
            assert_eq!(leaked, 2 * (len - 1 - at), "growing {growing}, panic at {at}");
            ALIVE.with(|a| a.borrow_mut().clear());
        }
    }
}

// ---------------------------------------------------------------------------
// drain
// ---------------------------------------------------------------------------

fn drain_full<K: GoKey + Make, V: Make>(what: &str, n: usize, growing: bool) {
    counting_default();
    let (alive0, bad0) = (alive(), bad_drops());
    let mut m: GoMap<K, V> = map_of(n, growing);
    let (len, b) = (m.len(), hdr(&m).b);
    let want: Vec<u64> = with_source(seeded(11), || m.iter().map(|(k, _)| k.id()).collect());
    let d = with_source(seeded(11), || m.drain());
    assert_eq!(d.len(), len);
    let got: Vec<(K, V)> = d.collect();
    assert!(got.iter().all(|(k, v)| k.id() == v.id()), "{what}: pairs");
    let ids: Vec<u64> = got.iter().map(|(k, _)| k.id()).collect();
    if same_order::<K>(growing) {
        assert_eq!(ids, want, "{what}: Go's order");
    }
    assert_eq!(ids.iter().collect::<BTreeSet<_>>(), want.iter().collect::<BTreeSet<_>>(), "{what}: every entry");
    assert!(m.is_empty(), "{what}");
    assert_eq!(hdr(&m).b, b, "{what}: the bucket array is kept");
    check(&m);
    drop(got);
    assert_eq!(alive(), alive0, "{what}");
    // The map works afterwards.
    for i in 0..len as u64 {
        m.insert(K::make(i), V::make(i + 1));
    }
    assert_eq!(hdr(&m).b, b, "{what}: refilled without growth");
    assert!((0..len as u64).all(|i| m.get(&K::make(i)).map(V::id) == Some(i + 1)), "{what}");
    drop(m);
    assert_eq!(alive(), alive0, "{what}");
    assert_eq!(bad_drops(), bad0, "{what}: nothing dropped twice");
}

#[test]
fn drain_takes_everything_and_keeps_the_array() {
    let n = scale(1200, 30);
    for growing in [false, true] {
        drain_full::<SmallKey, SmallVal>("small/small", n, growing);
        drain_full::<BigKey, BigVal>("big/big", n, growing);
        drain_full::<String, String>("String/String", n, growing);
        drain_full::<[u8; 200], String>("[u8; 200]/String", n, growing);
        drain_full::<gomap::GoStr, u64>("GoStr/u64 (faststr)", n, growing);
    }
}

#[test]
fn drain_dropped_early_drops_the_rest_and_empties_the_map() {
    counting_default();
    let n = scale(1200, 30);
    for growing in [false, true] {
        let (alive0, bad0) = (alive(), bad_drops());
        let mut m: GoMap<BigKey, SmallVal> = map_of(n, growing);
        let cap = m.capacity();
        let got: Vec<_> = m.drain().take(n / 4).collect();
        assert!(m.is_empty());
        assert_eq!(m.capacity(), cap);
        check(&m);
        drop(got);
        assert_eq!(alive(), alive0);
        drop(m);
        assert_eq!(bad_drops(), bad0);
    }
}

/// A leaked `Drain` leaves the map empty, valid and usable; the entries it
/// did not produce are leaked, none dropped twice.
#[test]
fn leaked_drain_leaves_an_empty_usable_map() {
    let n = scale(1000, 20);
    for growing in [false, true] {
        let mut m: GoMap<String, String> = map_of(n, growing);
        let mut d = m.drain();
        let (k, v) = d.next().unwrap();
        assert_eq!(k.id(), v.id());
        leak(d); // as `mem::forget(d)`
        assert!(m.is_empty());
        check(&m);
        m.insert(k, v);
        m.insert("x".into(), "y".into());
        assert_eq!(m.len(), 2);
        assert_eq!(m.get(&"x".to_string()).map(String::as_str), Some("y"));
        assert_eq!(m.drain().count(), 2);
    }
}

#[test]
fn drain_survives_a_panicking_value_drop() {
    counting_default();
    let n = scale(300, 20);
    for at in [1, n / 2] {
        let bad0 = bad_drops();
        let mut m: GoMap<u64, SmallVal> = map_of(n, false);
        let cap = m.capacity();
        VAL_DROPS.with(|d| d.set(0));
        VAL_PANIC_AT.with(|p| p.set(at));
        let r = catch_unwind(AssertUnwindSafe(|| drop(m.drain())));
        VAL_PANIC_AT.with(|p| p.set(0));
        assert!(r.is_err());
        assert!(m.is_empty(), "cleared despite the panic");
        assert_eq!(m.capacity(), cap);
        check(&m);
        m.insert(1, SmallVal::new(1));
        drop(m);
        assert_eq!(bad_drops(), bad0, "nothing dropped twice (panic at {at})");
        ALIVE.with(|a| a.borrow_mut().clear());
    }
}

// ---------------------------------------------------------------------------
// extract_if
// ---------------------------------------------------------------------------

fn extract<K: GoKey + Make, V: Make>(what: &str, n: usize, growing: bool) {
    counting_default();
    let (alive0, bad0) = (alive(), bad_drops());
    let mut m: GoMap<K, V> = map_of(n, growing);
    let len = m.len() as u64;
    let mut seen = 0;
    let got: Vec<(K, V)> = m
        .extract_if(|k, v| {
            seen += 1;
            assert_eq!(k.id(), v.id());
            k.id() % 3 == 0
        })
        .collect();
    assert_eq!(seen, len, "{what}: every entry visited once");
    let mut ids: Vec<u64> = got
        .iter()
        .map(|(k, v)| {
            assert_eq!(k.id(), v.id());
            k.id()
        })
        .collect();
    ids.sort();
    assert_eq!(ids, (0..len).filter(|i| i % 3 == 0).collect::<Vec<_>>(), "{what}");
    assert_eq!(m.len() as u64, len - ids.len() as u64, "{what}");
    check(&m);
    assert!((0..len).all(|i| m.contains_key(&K::make(i)) == (i % 3 != 0)), "{what}");
    drop(got);
    // The map keeps working (and finishes its growth).
    for i in len..len + 100 {
        m.insert(K::make(i), V::make(i));
    }
    check(&m);
    drop(m);
    assert_eq!(alive(), alive0, "{what}");
    assert_eq!(bad_drops(), bad0, "{what}: nothing dropped twice");
}

#[test]
fn extract_if_removes_exactly_the_picked() {
    let n = scale(1200, 30);
    for growing in [false, true] {
        extract::<SmallKey, SmallVal>("small/small", n, growing);
        extract::<BigKey, BigVal>("big/big", n, growing);
        extract::<String, String>("String/String", n, growing);
        extract::<[u8; 200], String>("[u8; 200]/String", n, growing);
        extract::<u64, String>("u64/String", n, growing);
        extract::<gomap::GoStr, String>("GoStr/String (faststr)", n, growing);
    }
}

#[test]
fn extract_if_dropped_early_keeps_the_rest() {
    let n = scale(1200, 30);
    for growing in [false, true] {
        let (alive0, bad0) = (alive(), bad_drops());
        let mut m: GoMap<SmallKey, BigVal> = map_of(n, growing);
        let len = m.len();
        let got: Vec<_> = m.extract_if(|_, _| true).take(10).collect();
        assert_eq!(m.len(), len - 10);
        check(&m);
        for (k, _) in &got {
            assert!(!m.contains_key(k));
        }
        // The values `pred` may change stay changed.
        let mut it = m.extract_if(|_, v| {
            v.id += 1_000_000;
            false
        });
        assert!(it.next().is_none());
        drop(it);
        assert!(m.values().all(|v| v.id >= 1_000_000));
        drop(got);
        drop(m);
        assert_eq!(alive(), alive0);
        assert_eq!(bad_drops(), bad0);
    }
}

/// A leaked `ExtractIf` (and a leaked `Iter`) leaves a consistent map,
/// which drops normally: the leaked iterator's registration dies with it.
#[test]
fn leaked_iterators_leave_a_droppable_map() {
    counting_default();
    let n = scale(200, 20);
    let (alive0, bad0, blocks0) = (alive(), bad_drops(), live_blocks());
    let mut m: GoMap<String, SmallVal> = map_of(n, true);
    let mut x = m.extract_if(|k, _| k.id() % 2 == 0);
    let (k, v) = x.next().unwrap();
    assert_eq!(k.id() % 2, 0);
    leak(x);
    drop((k, v));
    let len = m.len();
    m.remove(&String::make(1));
    assert_eq!(m.len(), len - 1);
    check(&m);
    leak(m.iter());
    drop(m);
    assert_eq!(live_blocks(), blocks0, "the map's memory is freed");
    assert_eq!(alive(), alive0);
    assert_eq!(bad_drops(), bad0);
}

// ---------------------------------------------------------------------------
// reserve
// ---------------------------------------------------------------------------

#[test]
fn reserve_on_an_empty_map_is_the_make_hint() {
    let hints: &[usize] = if cfg!(miri) { &[0, 8, 9, 30] } else { &[0, 1, 8, 9, 13, 14, 100, 1000, 5000] };
    for &hint in hints {
        let mut m = GoMap::<u64, u64>::new();
        m.reserve(hint);
        let want = GoMap::<u64, u64>::with_capacity(hint);
        let (a, b) = (hdr(&m), hdr(&want));
        assert_eq!((a.b, a.array_buckets, a.next_overflow), (b.b, b.array_buckets, b.next_overflow), "hint {hint}");
        assert_eq!(m.capacity(), want.capacity());
        check(&m);
    }
}

#[test]
fn reserve_makes_room_without_growth() {
    let sizes: &[(usize, usize)] =
        if cfg!(miri) { &[(5, 30), (20, 3), (30, 40)] } else { &[(5, 1000), (100, 1), (1000, 3000), (1500, 10)] };
    for &(n, add) in sizes {
        for growing in [false, true] {
            let mut m: GoMap<String, u64> = map_of(n, growing);
            let len = m.len();
            m.reserve(add);
            assert!(m.capacity() >= len + add, "{n} + {add}");
            check(&m);
            let b = hdr(&m).b;
            assert!((0..len as u64).all(|i| m[&String::make(i)] == i), "entries kept");
            for i in len..len + add {
                m.insert(String::make(i as u64), i as u64);
            }
            // A growth the reserve could not avoid may still be finishing
            // (the rebuild completes it when it grows the array).
            assert_eq!(hdr(&m).b, b, "{n} + {add}: no doubling");
            assert_eq!(m.len(), len + add);
            check(&m);
        }
    }
}

#[test]
fn reserve_with_room_changes_nothing() {
    let mut m: GoMap<u64, u64> = (0..50).map(|i| (i, i)).collect();
    let before = hdr(&m);
    m.reserve(m.capacity() - m.len());
    let after = hdr(&m);
    assert_eq!((before.b, before.hash0, before.array_buckets), (after.b, after.hash0, after.array_buckets));
}

#[test]
fn try_reserve_reports_overflow_and_allocation_failure() {
    counting_default();
    let mut m: GoMap<String, u64> = map_of(scale(100, 10), false);
    let before = hdr(&m);
    assert_eq!(m.try_reserve(usize::MAX), Err(MapError::AllocFailed));
    assert_eq!(m.try_reserve(usize::MAX - m.len()), Err(MapError::AllocFailed));
    assert_eq!(m.try_reserve(isize::MAX as usize / 2), Err(MapError::AllocFailed));
    // Each allocation the rebuild makes (hash scratch, array, overflow
    // buckets) fails in turn; then it succeeds.
    let mut nth = 1;
    loop {
        let blocks0 = live_blocks();
        match failing_nth(nth, || m.try_reserve(5000)) {
            Ok(()) => break,
            Err(e) => assert_eq!(e, MapError::AllocFailed),
        }
        assert_eq!(live_blocks(), blocks0, "nothing leaked (allocation {nth} failed)");
        let after = hdr(&m);
        assert_eq!((before.b, before.count, before.array_buckets), (after.b, after.count, after.array_buckets));
        check(&m);
        assert!((0..m.len() as u64).all(|i| m[&String::make(i)] == i));
        nth += 1;
    }
    assert!(nth > 2, "the scratch block and the array were each refused once");
    assert!(m.capacity() >= m.len() + 5000);
    let r = catch_unwind(AssertUnwindSafe(|| m.reserve(usize::MAX)));
    assert!(r.is_err(), "reserve panics where try_reserve fails");
}

#[test]
fn with_random_keys_order_matches_iter() {
    // The same map, consumed three ways under one random source.
    let n = scale(1500, 40);
    let m: GoMap<String, u64> = (0..n as u64).map(|i| (String::make(i * 7919 % 10007), i)).collect();
    let mut by_iter = BTreeMap::new();
    for (k, v) in m.iter() {
        by_iter.insert(k.clone(), *v);
    }
    let owned: BTreeMap<String, u64> = m.into_iter().collect();
    assert_eq!(owned, by_iter);
}

/// NaN keys cannot be deleted (Go's `delete(m, NaN)` is a no-op):
/// `extract_if` leaves them in the map even when picked; `into_iter` and
/// `drain` (float keys are read bitwise) produce them.
#[test]
fn nan_keys_stay_in_extract_if_and_leave_with_into_iter() {
    let mut m = GoMap::<f64, String>::new();
    for i in 0..scale(100, 10) {
        m.insert(i as f64, i.to_string());
    }
    m.insert(f64::NAN, "nan1".into());
    m.insert(f64::NAN, "nan2".into());
    let n = m.len();
    let got = m.extract_if(|_, _| true).count();
    assert_eq!(got, n - 2);
    assert_eq!(m.len(), 2);
    check(&m);
    let mut nans: Vec<String> = m
        .drain()
        .map(|(k, v)| {
            assert!(k.is_nan());
            v
        })
        .collect();
    nans.sort();
    assert_eq!(nans, ["nan1", "nan2"]);
    m.insert(f64::NAN, "nan3".into());
    let all: Vec<(f64, String)> = m.into_iter().collect();
    assert_eq!(all.len(), 1);
    assert!(all[0].0.is_nan());
}

/// A key drop deferred for a leaked iterator (a delete while it could still
/// hash a stale copy of the key) runs when the map is consumed: `into_iter`
/// frees the map without hooks, but the deferred drops first, with them.
#[test]
fn into_iter_runs_key_drops_deferred_for_a_leaked_iterator() {
    let (alive0, bad0) = (alive(), bad_drops());
    let n = scale(100, 20);
    let mut m: GoMap<SmallKey, SmallVal> = map_of(n, false);
    // A registered iteration never ended: the erased API's. (A typed
    // `iter()` borrows the map, so a leaked one can never step again; it
    // pins nothing and defers no drop.)
    let mut it = gomap::map::HIter::new();
    // SAFETY: `m`'s map, live, of its own type; `it` is fresh, never
    // stepped or ended again, and dies with the map (`into_iter` below
    // frees the map and everything its iterators kept).
    unsafe { gomap::map::mapiterinit(m.map_type(), m.hmap().map_or(std::ptr::null_mut(), |h| h.as_ptr()), &mut it) };
    leak(it);
    // Until the map grows, a deleted key has no stale copy anywhere (its
    // slot is emptied), so its drop runs at once even with the leaked
    // iterator (which, before pins, deferred every drop).
    assert!(m.remove(&SmallKey::make(1)).is_some());
    assert_eq!(alive(), alive0 + 2 * m.len(), "no stale copy: dropped at once");
    // Grow past the iterator's array: that array is kept for the iterator,
    // its evacuated slots still holding the keys' bytes.
    let (mut i, b0) = (n as u64, hdr(&m).b);
    while hdr(&m).b == b0 || hdr(&m).growing {
        m.insert(SmallKey::make(i), SmallVal::make(i));
        i += 1;
    }
    assert!(m.remove(&SmallKey::make(3)).is_some());
    assert_eq!(alive(), alive0 + 2 * m.len() + 1, "the removed key's drop waits");
    drop(m.into_iter());
    assert_eq!(alive(), alive0, "every key and value dropped");
    assert_eq!(bad_drops(), bad0);
}

/// Key drops run exactly once whatever iterators do: leaked ones (their
/// pins keep the arrays they walk, and with them the keys whose stale
/// copies those arrays hold), ended ones, growths, deletes, `clear` and the
/// final drop, for inline keys (deferred drops copied into `Key` blocks) and
/// out-of-line ones (the key block carries its deferred drop).
#[test]
fn key_drops_run_once_through_pins() {
    fn run<K: GoKey + Make, V: Make>() {
        let (alive0, bad0) = (alive(), bad_drops());
        let n = scale(400, 40) as u64;
        let mut m: GoMap<K, V> = GoMap::new();
        let (mut first, mut next) = (0u64, 0u64);
        for round in 0..scale(12, 5) {
            if round % 3 == 0 {
                let mut it = m.iter();
                it.next();
                leak(it); // never ended
            } else {
                let mut it = m.iter();
                it.next();
            }
            for _ in 0..n / 2 {
                m.insert(K::make(next), V::make(next));
                next += 1;
            }
            for _ in 0..n / 4 {
                assert!(m.remove(&K::make(first)).is_some());
                first += 1;
            }
            if round % 4 == 3 {
                m.clear();
                first = next;
            }
            check(&m);
            assert_eq!(bad_drops(), bad0, "round {round}: a value dropped twice");
            // Live entries, plus keys whose drop waits for a leaked iterator.
            assert!(alive() >= alive0 + 2 * m.len(), "round {round}: a live value was dropped");
        }
        drop(m);
        assert_eq!(alive(), alive0, "every key and value dropped once");
        assert_eq!(bad_drops(), bad0);
    }
    run::<SmallKey, SmallVal>();
    run::<BigKey, BigVal>();
}
