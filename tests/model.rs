//! Stateful model test: random operations on gomap maps of several key kinds,
//! checked after every operation against a model: a `HashMap` of the live
//! entries plus an explicit model of Go's iteration guarantees for every live
//! iterator:
//!
//! * an entry produced must be live at that moment, with its current value
//!   (so entries deleted before being reached are never produced, and after a
//!   `clear` nothing from before the clear is produced);
//! * no entry is produced twice (NaN entries are told apart by their unique
//!   values);
//! * when an iterator finishes, every entry that was present for its whole
//!   lifetime (never deleted, never cleared) was produced.
//!
//! `check_invariants` runs after every operation. The seed is printed on
//! failure; `GOMAP_MODEL_SEED` replays one, `GOMAP_MODEL_OPS` sets the
//! number of operations per key kind (CI runs 10^6 in total in release).

use std::collections::{HashMap, HashSet};
use std::ptr::NonNull;

use gomap::alg::GoString;
use gomap::inspect::check_invariants;
use gomap::map::{self, HIter, HMap};
use gomap::maptype::{MapType, TypeInfo};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// A model key: the canonical identity of a Go key (for floats, +0 and -0
/// are one key; every NaN is its own entry and is tracked by value).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum MKey {
    Id(u64),
    Nan,
}

/// One key kind under test.
struct Kind {
    name: &'static str,
    t: MapType,
    /// Number of distinct non-NaN key ids (small: forces collisions/reuse).
    nkeys: u64,
    /// Whether NaN keys exist for this kind.
    nan: bool,
    /// Key bytes for an id (`u64::MAX` = NaN with a varying payload `p`).
    key: Box<dyn Fn(u64, u64) -> Vec<u8>>,
    /// The model key of the key stored at a pointer.
    id_of: Box<dyn Fn(*const u8) -> MKey>,
}

fn kinds() -> Vec<Kind> {
    // Strings live in a pool that outlives every map of the test.
    static POOL: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    let pool: &'static Vec<String> =
        POOL.get_or_init(|| (0..4000).map(|i| format!("key-{i}-{}", "x".repeat(i % 40))).collect());
    let e8 = TypeInfo::of::<u64>();
    vec![
        Kind {
            name: "u64",
            t: MapType::u64_key(e8).unwrap(),
            nkeys: 1 << 40,
            nan: false,
            key: Box::new(|id, _| id.to_le_bytes().to_vec()),
            // SAFETY: points to a u64 key.
            id_of: Box::new(|p| MKey::Id(unsafe { p.cast::<u64>().read_unaligned() })),
        },
        Kind {
            name: "u32",
            t: MapType::u32_key(e8).unwrap(),
            nkeys: 1 << 31,
            nan: false,
            key: Box::new(|id, _| (id as u32).to_le_bytes().to_vec()),
            // SAFETY: points to a u32 key.
            id_of: Box::new(|p| MKey::Id(unsafe { p.cast::<u32>().read_unaligned() } as u64)),
        },
        Kind {
            name: "f64",
            t: MapType::f64_key(e8).unwrap(),
            nkeys: 1 << 40,
            nan: true,
            key: Box::new(|id, p| {
                let x = if id == u64::MAX {
                    f64::from_bits(0x7ff8_0000_0000_0000 | (p & 0xffff))
                } else if id == 0 {
                    if p & 1 == 0 { 0.0 } else { -0.0 }
                } else {
                    id as f64 * 0.5
                };
                x.to_le_bytes().to_vec()
            }),
            id_of: Box::new(|p| {
                // SAFETY: points to an f64 key.
                let x = unsafe { p.cast::<f64>().read_unaligned() };
                if x.is_nan() { MKey::Nan } else { MKey::Id((x * 2.0) as u64) }
            }),
        },
        Kind {
            name: "string",
            t: MapType::str_key(e8).unwrap(),
            nkeys: 4000,
            nan: false,
            key: Box::new(move |id, _| {
                let s = &pool[id as usize];
                let g = GoString { ptr: s.as_ptr(), len: s.len() };
                // SAFETY: GoString is plain data; its bytes are the key.
                unsafe { std::slice::from_raw_parts((&raw const g).cast::<u8>(), 16) }.to_vec()
            }),
            id_of: Box::new(move |p| {
                // SAFETY: points to a GoString into the pool.
                let g = unsafe { p.cast::<GoString>().read_unaligned() };
                // SAFETY: the pool's bytes.
                let s = unsafe { std::str::from_utf8_unchecked(std::slice::from_raw_parts(g.ptr, g.len)) };
                MKey::Id(s[4..].split('-').next().unwrap().parse().unwrap())
            }),
        },
        Kind {
            name: "indirect",
            t: MapType::bytes_key(144, TypeInfo { size: 136, align: 8, pointers: false }).unwrap(),
            nkeys: 1 << 40,
            nan: false,
            key: Box::new(|id, _| {
                let mut k = vec![0xa5u8; 144];
                k[..8].copy_from_slice(&id.to_le_bytes());
                k
            }),
            // SAFETY: points to a 144-byte key.
            id_of: Box::new(|p| MKey::Id(unsafe { p.cast::<u64>().read_unaligned() })),
        },
    ]
}

struct ModelIter {
    it: Box<HIter>,
    /// Entries present at start and not removed since (NaN entries by
    /// value: `Nan` keys are listed as `Id(value)` in `must_nan`).
    must: HashSet<MKey>,
    must_nan: HashSet<u64>,
    /// Non-NaN keys produced, and NaN entries produced (by value).
    produced: HashSet<MKey>,
    produced_nan: HashSet<u64>,
    /// Whether a clear happened since the start. Go's mapclear zeroes only
    /// the bucket array: an iterator standing in a heap overflow bucket still
    /// reads its stale keys and re-finds those inserted again after the clear
    /// (mapaccessK), so Go 1.24.11 can then produce such an entry twice.
    cleared: bool,
    done: bool,
}

struct State<'a> {
    k: &'a Kind,
    h: NonNull<HMap>,
    /// Live non-NaN entries: key -> value.
    live: HashMap<u64, u64>,
    /// Live NaN entries, by their unique values.
    nans: HashSet<u64>,
    iters: Vec<ModelIter>,
    next_val: u64,
    esize: usize,
}

impl State<'_> {
    fn elem_val(&self, e: *const u8) -> u64 {
        // SAFETY: elems are at least 8 bytes; the first 8 hold the value.
        unsafe { e.cast::<u64>().read_unaligned() }
    }

    fn assign(&mut self, id: u64, payload: u64) {
        let kb = (self.k.key)(id, payload);
        let v = self.next_val;
        self.next_val += 1;
        // SAFETY: a live map of this kind; key bytes of the key type.
        let s = unsafe { map::mapassign(&self.k.t, self.h.as_ptr(), kb.as_ptr()) }.unwrap();
        // SAFETY: the elem slot has `esize` >= 8 bytes.
        unsafe {
            std::ptr::write_bytes(s.elem.as_ptr(), 0, self.esize);
            s.elem.as_ptr().cast::<u64>().write_unaligned(v);
        }
        if id == u64::MAX {
            assert!(s.inserted, "a NaN key updated an entry");
            self.nans.insert(v);
        } else {
            // An update keeps the entry present: iterators still owe it
            // (with whichever value is current when they reach it).
            let old = self.live.insert(id, v);
            assert_eq!(s.inserted, old.is_none(), "inserted flag wrong for {id}");
        }
    }

    fn delete(&mut self, id: u64) {
        let kb = (self.k.key)(id, 0);
        // SAFETY: as above.
        unsafe { map::mapdelete(&self.k.t, self.h.as_ptr(), kb.as_ptr()) }.unwrap();
        if self.live.remove(&id).is_some() {
            for it in &mut self.iters {
                it.must.remove(&MKey::Id(id));
                // A later insert of this key is a new entry, which Go may
                // produce (again).
                it.produced.remove(&MKey::Id(id));
            }
        }
    }

    fn get(&self, id: u64) {
        let kb = (self.k.key)(id, 0);
        // SAFETY: as above.
        let (e, ok) = unsafe { map::mapaccess2(&self.k.t, self.h.as_ptr(), kb.as_ptr()) }.unwrap();
        if id == u64::MAX {
            assert!(!ok, "a NaN key was found");
            return;
        }
        match self.live.get(&id) {
            Some(&v) => {
                assert!(ok, "{id} missing");
                assert_eq!(self.elem_val(e), v, "{id} has a stale value");
            }
            None => assert!(!ok, "{id} found after delete"),
        }
    }

    fn clear(&mut self) {
        // SAFETY: a live map.
        unsafe { map::mapclear(&self.k.t, self.h.as_ptr()) };
        self.live.clear();
        self.nans.clear();
        for it in &mut self.iters {
            it.must.clear();
            it.must_nan.clear();
            it.produced.clear();
            it.produced_nan.clear();
            it.cleared = true;
        }
    }

    fn clone_check(&self) {
        // SAFETY: a live map, not being written.
        let c = unsafe { map::mapclone2(&self.k.t, self.h.as_ptr()) }.unwrap();
        // SAFETY: the live clone.
        unsafe { check_invariants(&self.k.t, c) }.unwrap();
        // SAFETY: live.
        assert_eq!(unsafe { c.as_ref() }.len(), self.live.len() + self.nans.len());
        for (&id, &v) in self.live.iter().take(20) {
            let kb = (self.k.key)(id, 0);
            // SAFETY: the clone is live.
            let (e, ok) = unsafe { map::mapaccess2(&self.k.t, c.as_ptr(), kb.as_ptr()) }.unwrap();
            assert!(ok && self.elem_val(e) == v, "clone lost {id}");
        }
        // SAFETY: freed once; no iterators on the clone.
        unsafe { map::mapfree(&self.k.t, c.as_ptr()) }.unwrap();
    }

    /// gomap only: `mapshrink` keeps every entry (refused while iterators live).
    fn shrink(&mut self) {
        // SAFETY: a live map.
        let r = unsafe { gomap::shrink::mapshrink(&self.k.t, self.h.as_ptr(), 0) };
        if self.iters.iter().any(|i| !i.done) {
            assert_eq!(r, Err(gomap::fatal::MapError::Busy), "{}: shrink under a live iterator", self.k.name);
        } else {
            r.unwrap();
        }
    }

    fn iter_start(&mut self) {
        let mut it = Box::new(HIter::new());
        let must: HashSet<MKey> = self.live.keys().map(|&k| MKey::Id(k)).collect();
        let must_nan = self.nans.clone();
        // SAFETY: a live map; the iterator is ended before the map is freed.
        unsafe { map::mapiterinit(&self.k.t, self.h.as_ptr(), &mut it) };
        let mut mi = ModelIter {
            it,
            must,
            must_nan,
            produced: HashSet::new(),
            produced_nan: HashSet::new(),
            cleared: false,
            done: false,
        };
        self.observe(&mut mi);
        self.iters.push(mi);
    }

    /// Checks the entry the iterator stands on (or its end).
    fn observe(&self, mi: &mut ModelIter) {
        if mi.it.key.is_null() {
            mi.done = true;
            let missing: Vec<_> = mi.must.difference(&mi.produced).collect();
            assert!(missing.is_empty(), "{}: iteration ended without producing {missing:?}", self.k.name);
            let missing: Vec<_> = mi.must_nan.difference(&mi.produced_nan).collect();
            assert!(missing.is_empty(), "{}: iteration ended without NaN entries {missing:?}", self.k.name);
            return;
        }
        let mk = (self.k.id_of)(mi.it.key);
        let v = self.elem_val(mi.it.elem);
        match mk {
            MKey::Id(id) => {
                assert_eq!(self.live.get(&id), Some(&v), "{}: produced {id}={v}, not live/current", self.k.name)
            }
            MKey::Nan => assert!(self.nans.contains(&v), "{}: produced a dead NaN entry", self.k.name),
        }
        let fresh = match mk {
            MKey::Id(_) => mi.produced.insert(mk),
            MKey::Nan => mi.produced_nan.insert(v),
        };
        assert!(fresh || mi.cleared, "{}: produced {mk:?}={v} twice", self.k.name);
    }

    fn iter_step(&mut self, i: usize) {
        let mut mi = self.iters.swap_remove(i);
        if !mi.done {
            // SAFETY: registered on the live map (or ended: then a no-op).
            unsafe { map::mapiternext(&mut mi.it) };
            self.observe(&mut mi);
        }
        self.iters.push(mi);
    }

    fn iter_end(&mut self, i: usize) {
        let mut mi = self.iters.swap_remove(i);
        // SAFETY: the map is live.
        unsafe { map::mapiterend(&mut mi.it) };
    }

    fn check(&self) {
        // SAFETY: a live map, not being written.
        unsafe { check_invariants(&self.k.t, self.h) }.unwrap();
        // SAFETY: live.
        assert_eq!(unsafe { self.h.as_ref() }.len(), self.live.len() + self.nans.len());
    }
}

/// Runs `ops` operations on a map of kind `k`; returns the operations
/// made while doubling, while growing same-size, and with live iterators
/// during a growth.
fn run_kind(k: &Kind, seed: u64, ops: usize) -> [usize; 3] {
    gomap::rand::with_source(gomap::rand::seeded(seed), || {
        let mut rng = StdRng::seed_from_u64(seed ^ 0x5eed);
        let h = map::makemap(&k.t, rng.random_range(0..40usize) as isize).unwrap();
        let esize = k.t.elem().size;
        let mut s = State { k, h, live: HashMap::new(), nans: HashSet::new(), iters: Vec::new(), next_val: 1, esize };
        // Phases alternate between growing and shrinking key ranges, so both
        // doubling and same-size growth happen.
        let mut range = 8u64;
        let mut stats = [0usize; 3];
        // In drifting phases the key window slides (new keys in, the key
        // falling out of the window deleted): constant size with fresh keys
        // accumulates overflow buckets, which is what starts same-size growth.
        let mut base = 0u64;
        let mut drift = false;
        for op in 0..ops {
            if op % 2000 == 0 {
                // Capacities of B = 3..6 at 6.5 per bucket: a full window at max
                // load is what Go's issue 69110 test churns to reach same-size growth.
                range = [8, 52, 104, 208, 416][rng.random_range(0..5)];
                drift = rng.random_range(0..3) != 0;
                // Maps never shrink, so start over now and then: small
                // windows then run at full load in a small table again.
                if rng.random_range(0..2) == 0 {
                    while !s.iters.is_empty() {
                        s.iter_end(0);
                    }
                    // SAFETY: no live iterators; freed once.
                    unsafe { map::mapfree(&k.t, s.h.as_ptr()) }.unwrap();
                    s.h = map::makemap(&k.t, 0).unwrap();
                    s.live.clear();
                    s.nans.clear();
                }
            }
            if drift {
                base += 1;
                if base > range {
                    s.delete((base - range - 1) % k.nkeys);
                }
                s.assign((base + range - 1) % k.nkeys, rng.random());
            }
            let id = (base + rng.random_range(0..range)) % k.nkeys;
            let r = rng.random_range(0..1000);
            match r {
                0..=399 => s.assign(id, rng.random()),
                400..=429 if k.nan => s.assign(u64::MAX, rng.random()),
                400..=649 if !drift => s.delete(id),
                650..=799 => s.get(id),
                800 => s.clear(),
                802..=804 => s.clone_check(),
                805..=806 => s.shrink(),
                807..=829 if s.iters.len() < 3 => s.iter_start(),
                830..=989 if !s.iters.is_empty() => {
                    let i = rng.random_range(0..s.iters.len());
                    s.iter_step(i);
                }
                990..=999 if !s.iters.is_empty() => {
                    let i = rng.random_range(0..s.iters.len());
                    s.iter_end(i);
                }
                _ => s.get(id),
            }
            s.check();
            // SAFETY: a live map.
            let hd = unsafe { gomap::inspect::header(&k.t, s.h) };
            if hd.growing {
                stats[hd.flags as usize >> 3 & 1] += 1;
                if !s.iters.is_empty() {
                    stats[2] += 1;
                }
            }
        }
        if ops >= 100_000 {
            // Same-size growth needs a map that piles up overflow buckets
            // without doubling, which some seeds never give one kind in
            // 200,000 operations (f64 with GOMAP_MODEL_SEED=
            // 2154395187938276868: 0, where u64 and u32 got 109): it is
            // required of the run as a whole (`model_all_kinds`).
            assert!(stats[0] > 0 && stats[2] > 0, "{}: growth kinds not all reached: {stats:?}", k.name);
        }
        println!(
            "{}: ops while doubling {}, while same-size growing {}, with live iterators during growth {}",
            k.name, stats[0], stats[1], stats[2]
        );
        while !s.iters.is_empty() {
            s.iter_end(0);
        }
        // SAFETY: no live iterators; freed once.
        unsafe { map::mapfree(&k.t, s.h.as_ptr()) }.unwrap();
        stats
    })
}

#[test]
fn model_all_kinds() {
    gomap::alg::set_key_material(&gomap::alg::test_key_material());
    let ops: usize = std::env::var("GOMAP_MODEL_OPS").ok().and_then(|s| s.parse().ok()).unwrap_or(if cfg!(miri) {
        60
    } else {
        2_000
    });
    let seed: u64 = std::env::var("GOMAP_MODEL_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(rand::random);
    let mut same_size = 0;
    for k in kinds() {
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run_kind(&k, seed, ops)));
        match r {
            Ok(stats) => same_size += stats[1],
            Err(e) => {
                eprintln!("model test failed for key kind {}: replay with GOMAP_MODEL_SEED={seed}", k.name);
                std::panic::resume_unwind(e);
            }
        }
    }
    if ops >= 100_000 {
        assert!(same_size > 0, "no kind grew same-size: replay with GOMAP_MODEL_SEED={seed}");
    }
    println!("model: {} ops per kind x 5 kinds, seed {seed}", ops);
}
