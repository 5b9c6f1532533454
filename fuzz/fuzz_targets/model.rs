//! Fuzz target: the fuzzer's bytes are a program of map operations on a
//! u64 -> u64 map and an f64 -> u64 map (NaN and ±0 included), checked
//! against a model of the entries and of Go's iteration guarantees, with the
//! invariant checker after every operation. Random draws come from the
//! input too, so a crash reproduces exactly.
//!
//! Run: `cargo +nightly fuzz run model -- -max_total_time=300`

#![no_main]

use std::collections::{HashMap, HashSet};

use gomap::inspect::check_invariants;
use gomap::map::{self, HIter};
use gomap::maptype::{MapType, TypeInfo};
use libfuzzer_sys::fuzz_target;

struct Input<'a>(&'a [u8]);

impl Input<'_> {
    fn byte(&mut self) -> Option<u8> {
        let (&b, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(b)
    }
}

fn run(data: &[u8], float: bool) {
    let t = if float {
        MapType::f64_key(TypeInfo::of::<u64>()).unwrap()
    } else {
        MapType::u64_key(TypeInfo::of::<u64>()).unwrap()
    };
    let mut inp = Input(data);
    let draws: Vec<u64> = data.chunks(8).map(|c| c.iter().fold(0u64, |a, &b| a << 8 | b as u64)).collect();
    let mut di = 0usize;
    gomap::rand::with_source(
        move || {
            di += 1;
            draws.get(di % draws.len().max(1)).copied().unwrap_or(di as u64).wrapping_mul(0x9e3779b97f4a7c15)
        },
        || {
            let h = map::makemap(&t, 0).unwrap();
            let hp = h.as_ptr();
            let mut live: HashMap<u64, u64> = HashMap::new();
            let mut nans = 0usize;
            let mut val = 1u64;
            // iterator, keys it must still produce, keys produced
            let mut iter: Option<(Box<HIter>, HashSet<u64>, HashSet<u64>)> = None;
            // Whether the live iterator has seen a clear: Go's mapclear zeroes
            // only the bucket array, so an iterator standing in a heap overflow
            // bucket still reads its stale keys and re-finds those inserted
            // again after the clear (mapaccessK): Go 1.24.11 can produce such an
            // entry twice, and so does gomap.
            let mut cleared = false;
            let key = |id: u64| -> [u8; 8] {
                if float {
                    let x = match id {
                        255 => f64::NAN,
                        0 => 0.0,
                        1 => -0.0,
                        n => n as f64,
                    };
                    x.to_le_bytes()
                } else {
                    id.to_le_bytes()
                }
            };
            let canon = |id: u64| if float && id == 1 { 0 } else { id };
            let trace = std::env::var("GOMAP_FUZZ_TRACE").is_ok();
            while let Some(op) = inp.byte() {
                let id = inp.byte().unwrap_or(0) as u64;
                if trace {
                    // SAFETY: a live map.
                    let hd = unsafe { gomap::inspect::header(&t, h) };
                    eprintln!("op {} id {id} | count {} B {} flags {} growing {} nev {}", op % 8, hd.count, hd.b, hd.flags, hd.growing, hd.nevacuate);
                }
                match op % 8 {
                    0..=2 => {
                        let k = key(id);
                        // SAFETY: a live map; an 8-byte key.
                        let s = unsafe { map::mapassign(&t, hp, k.as_ptr()) }.unwrap();
                        // SAFETY: a u64 elem slot.
                        unsafe { s.elem.as_ptr().cast::<u64>().write(val) };
                        if float && id == 255 {
                            nans += 1;
                        } else {
                            live.insert(canon(id), val);
                        }
                        val += 1;
                    }
                    3 | 4 => {
                        let k = key(id);
                        // SAFETY: as above.
                        unsafe { map::mapdelete(&t, hp, k.as_ptr()) }.unwrap();
                        if live.remove(&canon(id)).is_some() {
                            if let Some((_, must, produced)) = &mut iter {
                                must.remove(&canon(id));
                                produced.remove(&canon(id));
                            }
                        }
                    }
                    5 => {
                        if id < 4 {
                            // SAFETY: a live map.
                            unsafe { map::mapclear(&t, hp) };
                            live.clear();
                            nans = 0;
                            if let Some((_, must, produced)) = &mut iter {
                                must.clear();
                                produced.clear();
                                cleared = true;
                            }
                        } else {
                            let k = key(id);
                            // SAFETY: as above.
                            let (e, ok) = unsafe { map::mapaccess2(&t, hp, k.as_ptr()) }.unwrap();
                            match live.get(&canon(id)) {
                                Some(&v) if !(float && id == 255) => {
                                    // SAFETY: a found u64 elem.
                                    assert!(ok && unsafe { e.cast::<u64>().read() } == v)
                                }
                                _ => assert!(!ok),
                            }
                        }
                    }
                    _ => {
                        if iter.is_none() {
                            let mut it = Box::new(HIter::new());
                            // SAFETY: a live map; ended below.
                            unsafe { map::mapiterinit(&t, hp, &mut it) };
                            iter = Some((it, live.keys().copied().collect(), HashSet::new()));
                            cleared = false;
                        } else if let Some((it, _, _)) = &mut iter {
                            // SAFETY: registered on the live map (or ended).
                            unsafe { map::mapiternext(it) };
                        }
                        let (it, must, produced) = iter.as_mut().unwrap();
                        if it.key.is_null() {
                            assert!(must.is_subset(produced), "iteration missed live entries");
                            iter = None;
                        } else {
                            // SAFETY: the iterator's key and elem.
                            let (kb, v) = unsafe { (it.key.cast::<u64>().read(), it.elem.cast::<u64>().read()) };
                            if trace {
                                eprintln!("   produced {} = {v}", f64::from_bits(kb));
                            }
                            let x = f64::from_bits(kb);
                            if !(float && x.is_nan()) {
                                let id = if float { if x == 0.0 { 0 } else { x as u64 } } else { kb };
                                assert_eq!(live.get(&id), Some(&v), "produced a dead or stale entry");
                                assert!(produced.insert(id) || cleared, "produced twice");
                            }
                        }
                    }
                }
                // SAFETY: a live map, not being written.
                unsafe { check_invariants(&t, h) }.unwrap();
                // SAFETY: live.
                assert_eq!(unsafe { h.as_ref() }.len(), live.len() + nans);
            }
            if let Some((mut it, _, _)) = iter {
                // SAFETY: the map is live.
                unsafe { map::mapiterend(&mut it) };
            }
            // SAFETY: no live iterators.
            unsafe { map::mapfree(&t, hp) }.unwrap();
        },
    );
}

fuzz_target!(|data: &[u8]| {
    if let Some((&sel, rest)) = data.split_first() {
        run(rest, sel & 1 == 1);
    }
});
