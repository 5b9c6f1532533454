//! A short walkthrough of map.go at work, on a fixed seed: inserts until an
//! overflow bucket is taken, growth, incremental evacuation, an iterator that
//! starts mid-grow, deletes leaving emptyOne/emptyRest, and clear.
//!
//! Run: `cargo run --release --example tour`

use std::ptr::NonNull;

use gomap::inspect::{At, Snapshot, snapshot};
use gomap::map::{self, HIter, HMap};
use gomap::maptype::{MapType, TypeInfo};

struct Tour {
    t: MapType,
    h: NonNull<HMap>,
}

impl Tour {
    fn put(&self, k: u64) {
        // SAFETY: a live map of type t with u64 keys and elems.
        let s = unsafe { map::mapassign(&self.t, self.h.as_ptr(), (&raw const k).cast()) }.unwrap();
        // SAFETY: a u64 elem slot.
        unsafe { s.elem.as_ptr().cast::<u64>().write(k * 10) };
    }
    fn del(&self, k: u64) {
        // SAFETY: as above.
        unsafe { map::mapdelete(&self.t, self.h.as_ptr(), (&raw const k).cast()) }.unwrap();
    }
    fn snap(&self) -> Snapshot {
        // SAFETY: a live map, not being written.
        unsafe { snapshot(&self.t, self.h) }
    }
    fn show(&self, title: &str, gomap_fn: &str, go_fn: &str) {
        let s = self.snap();
        let h = &s.header;
        println!("\n== {title}\n   gomap: {gomap_fn}   map_noswiss.go: {go_fn}");
        println!(
            "   count={} B={} flags={:#06b} noverflow={} hash0={:#010x} nevacuate={} clearSeq={} growing={}",
            h.count, h.b, h.flags, h.noverflow, h.hash0, h.nevacuate, h.clear_seq, h.growing
        );
        print_array("buckets", &s.buckets);
        if let Some(old) = &s.oldbuckets {
            print_array("oldbuckets", old);
        }
    }
}

fn print_array(name: &str, chains: &[Vec<gomap::inspect::Bucket>]) {
    println!("   {name}:");
    for (i, chain) in chains.iter().enumerate() {
        let mut line = format!("     [{i:2}]");
        for b in chain {
            let at = match b.at {
                At::Main(_) => String::new(),
                At::Pre(j) => format!(" -> pre#{j}"),
                At::Heap => " -> heap".to_string(),
            };
            line.push_str(&at);
            line.push_str(" |");
            for (j, &top) in b.tophash.iter().enumerate() {
                let cell = match top {
                    0 => "  .".to_string(),
                    1 => "  _".to_string(),
                    2 => "  X".to_string(),
                    3 => "  Y".to_string(),
                    4 => "  e".to_string(),
                    _ => {
                        let k = u64::from_le_bytes(b.keys[j].as_ref().unwrap()[..8].try_into().unwrap());
                        format!(" {k:2}")
                    }
                };
                line.push_str(&cell);
            }
            line.push_str(" |");
        }
        println!("{line}");
    }
}

fn main() {
    gomap::alg::set_key_material(&gomap::alg::test_key_material());
    println!("gomap tour: Go's classic map, step by step (hash path: {}).", gomap::presets::hash_path_name());
    println!("Cells show keys; markers: . emptyRest, _ emptyOne, X/Y evacuated to X/Y, e evacuatedEmpty.");
    gomap::rand::with_source(gomap::rand::seeded(1), || {
        let t = MapType::u64_key(TypeInfo::of::<u64>()).unwrap();
        let h = map::makemap(&t, 0).unwrap();
        let tour = Tour { t, h };
        tour.show("make(map[uint64]uint64)", "makemap", "makemap :324");
        for k in 0..8 {
            tour.put(k);
        }
        tour.show("8 inserts fill bucket 0 (B = 0)", "mapassign", "mapassign :620");
        tour.put(8);
        tour.show(
            "the 9th insert exceeds 6.5/bucket: hashGrow doubles, growWork evacuates",
            "hash_grow, grow_work, evacuate",
            "hashGrow :1118, growWork :1210, evacuate :1234",
        );
        for k in 9..27 {
            tour.put(k);
        }
        tour.show(
            "more inserts: a second doubling is under way (old array on the right half of the picture)",
            "mapassign -> hash_grow",
            "hashGrow :1118",
        );
        let mut it = HIter::new();
        // SAFETY: a live map; the iterator is ended below.
        unsafe { map::mapiterinit(&tour.t, tour.h.as_ptr(), &mut it) };
        let (sb, off) = it.start();
        println!("\n== iterator started mid-grow at bucket {sb}, offset {off} (mapiterinit :881)");
        let mut out = Vec::new();
        while !it.key.is_null() {
            // SAFETY: the iterator's key is a u64.
            out.push(unsafe { it.key.cast::<u64>().read() });
            tour.put(100 + out.len() as u64);
            // SAFETY: registered on a live map.
            unsafe { map::mapiternext(&mut it) };
        }
        println!("   produced (while inserting 100+): {out:?}");
        tour.show(
            "after the iteration: growth finished by the inserts",
            "advance_evacuation_mark",
            "advanceEvacuationMark :1348",
        );
        for k in [0, 2, 4] {
            tour.del(k);
        }
        tour.show("deletes leave emptyOne (_) or, at the chain's end, emptyRest (.)", "mapdelete", "mapdelete :746");
        // SAFETY: live map, no live iterator.
        unsafe { map::mapclear(&tour.t, tour.h.as_ptr()) };
        tour.show("clear: same buckets, zeroed; clearSeq bumped; new hash0", "mapclear", "mapclear :1070");
        // SAFETY: freed once; no live iterators.
        unsafe { map::mapfree(&tour.t, tour.h.as_ptr()) }.unwrap();
    });
}
