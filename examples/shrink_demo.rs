//! Maps that give memory back: 10^6 inserts, 99% deleted, then a shrink.
//! Prints the memory a map holds before and after (counted by its
//! allocator), against a fresh map of the same entries, and the time of the
//! shrink; then the same churn with the automatic policy on.
//!
//! Run: `cargo run --release --example shrink_demo [n]`

use std::ffi::c_void;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicIsize, Ordering};
use std::time::{Duration, Instant};

use gomap::alloc::Allocator;
use gomap::map::{self, HMap};
use gomap::maptype::{MapType, TypeInfo};
use gomap::shrink::{self, ShrinkPolicy};

static BYTES: AtomicIsize = AtomicIsize::new(0);

unsafe extern "C" fn counting_calloc(_ctx: *mut c_void, size: usize) -> *mut c_void {
    BYTES.fetch_add(size as isize, Ordering::Relaxed);
    // SAFETY: plain calloc.
    unsafe { libc::calloc(1, size) }
}

unsafe extern "C" fn counting_free(_ctx: *mut c_void, p: *mut c_void, size: usize) {
    BYTES.fetch_sub(size as isize, Ordering::Relaxed);
    // SAFETY: from counting_calloc.
    unsafe { libc::free(p) }
}

fn counting() -> Allocator {
    // SAFETY: calloc/free wrappers with an atomic counter: callable from any thread.
    unsafe { Allocator::new(counting_calloc, counting_free, std::ptr::null_mut()) }
}

fn bytes() -> isize {
    BYTES.load(Ordering::Relaxed)
}

struct Map<'t> {
    t: &'t MapType,
    h: NonNull<HMap>,
}

impl<'t> Map<'t> {
    fn new(t: &'t MapType, hint: isize) -> Self {
        Map { t, h: map::makemap_in(t, hint, &counting()).expect("makemap") }
    }
    fn put(&self, k: u64) {
        // SAFETY: a live u64->u64 map.
        let s = unsafe { map::mapassign(self.t, self.h.as_ptr(), (&raw const k).cast()) }.expect("assign");
        // SAFETY: a u64 elem slot.
        unsafe { s.elem.as_ptr().cast::<u64>().write(k ^ 0x5555) };
    }
    fn del(&self, k: u64) {
        // SAFETY: as above.
        unsafe { map::mapdelete(self.t, self.h.as_ptr(), (&raw const k).cast()) }.expect("delete");
    }
    fn b(&self) -> u8 {
        // SAFETY: a live map.
        unsafe { gomap::inspect::header(self.t, self.h) }.b
    }
    fn check(&self) {
        // SAFETY: a live map, not being written.
        unsafe { gomap::inspect::check_invariants(self.t, self.h) }.expect("invariants");
    }
}

impl Drop for Map<'_> {
    fn drop(&mut self) {
        // SAFETY: a live map, no iterators.
        unsafe { map::mapfree(self.t, self.h.as_ptr()) }.expect("free");
    }
}

fn mib(b: isize) -> String {
    format!("{:.2} MiB", b as f64 / (1024.0 * 1024.0))
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let n: u64 = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(1_000_000);
    let keep = 100; // keep every 100th key: 99% deleted
    let t = MapType::u64_key(TypeInfo::of::<u64>()).expect("type");
    println!("map[uint64]uint64, bucket {} bytes; {n} inserts, then every key but 1 in {keep} deleted", t.bucketsize());

    let runs = 5;
    let mut times = Vec::new();
    let mut report = None;
    for _ in 0..runs {
        let base = bytes();
        let m = Map::new(&t, 0);
        for k in 0..n {
            m.put(k);
        }
        let full = bytes() - base;
        let b_full = m.b();
        for k in 0..n {
            if k % keep != 0 {
                m.del(k);
            }
        }
        let before = bytes() - base;
        let t0 = Instant::now();
        // SAFETY: a live map, no iterators, this thread only.
        unsafe { shrink::mapshrink(&t, m.h.as_ptr(), 0) }.expect("shrink");
        times.push(t0.elapsed());
        let after = bytes() - base;
        let b_after = m.b();
        m.check();
        // make(map[uint64]uint64, 10000) with the same entries, for comparison.
        let mark = bytes();
        let f = Map::new(&t, (n / keep) as isize);
        for k in (0..n).step_by(keep as usize) {
            f.put(k);
        }
        let fresh = bytes() - mark;
        drop(f);
        report = Some((full, b_full, before, after, b_after, fresh));
    }
    let (full, b_full, before, after, b_after, fresh) = report.expect("one run");
    println!("  after {n} inserts:           {:>12} bytes ({}), B = {b_full}", full, mib(full));
    println!("  after deleting 99% (Go):     {:>12} bytes ({}), B = {b_full}", before, mib(before));
    println!("  after mapshrink:             {:>12} bytes ({}), B = {b_after}", after, mib(after));
    println!("  make(map, {}) + same entries: {:>9} bytes ({})", n / keep, fresh, mib(fresh));
    println!(
        "  given back: {:.1}% ; shrink time: median {:?} of {runs} (min {:?}, max {:?})",
        100.0 * (before - after) as f64 / before as f64,
        median(times.clone()),
        times.iter().min().expect("runs"),
        times.iter().max().expect("runs")
    );

    // A full map rebuilt at its own size: cost per live entry.
    let m = Map::new(&t, 0);
    for k in 0..n {
        m.put(k);
    }
    let mut full_times = Vec::new();
    for _ in 0..runs {
        let t0 = Instant::now();
        // SAFETY: as above.
        unsafe { shrink::mapshrink(&t, m.h.as_ptr(), 0) }.expect("shrink");
        full_times.push(t0.elapsed());
    }
    m.check();
    let med = median(full_times);
    println!(
        "  rebuild of the full {n}-entry map (nothing to give back): median {med:?} ({:.1} ns/entry)",
        med.as_nanos() as f64 / n as f64
    );
    drop(m);

    // The same churn with the automatic policy: deletes shrink as they go.
    println!("\nthe same churn, deletes timed, policy off vs below_fraction = 25%:");
    for policy in [None, Some(ShrinkPolicy { below_fraction: Some(25), ..Default::default() })] {
        let base = bytes();
        let m = Map::new(&t, 0);
        // SAFETY: a live map.
        unsafe { shrink::set_shrink_policy(m.h.as_ptr(), policy) };
        for k in 0..n {
            m.put(k);
        }
        let b0 = m.b();
        let t0 = Instant::now();
        let mut shrinks = 0;
        let mut b = b0;
        for k in 0..n {
            if k % keep != 0 {
                m.del(k);
                let nb = m.b();
                if nb != b {
                    shrinks += 1;
                    b = nb;
                }
            }
        }
        let dt = t0.elapsed();
        m.check();
        println!(
            "  {:<10} deletes took {dt:?}; B {b0} -> {}, {shrinks} shrinks; map holds {} bytes ({})",
            if policy.is_some() { "policy on" } else { "policy off" },
            m.b(),
            bytes() - base,
            mib(bytes() - base)
        );
    }
    assert_eq!(bytes(), 0, "every block freed");
}
