//! `GoMap::new` and `GoMap::with_capacity` of at most 8 (Go's
//! `makemap_small`: B = 0, no buckets) make no hmap until the first write,
//! as std's `HashMap::new` allocates nothing; the seed is still drawn at
//! `make`, so every random draw happens where Go makes it.
//!
//! One test binary of its own: the typed map allocates through the default
//! allocator, which these tests replace with a counting one (its counts
//! are per thread, so only the maps of this test's thread are counted).

mod common;

use common::alloc::{allocs, counting, failing_nth, live_blocks};
use gomap::GoMap;
use gomap::inspect::header;

/// Restores the libc default allocator, also if the test fails.
struct LibcAgain;
impl Drop for LibcAgain {
    fn drop(&mut self) {
        gomap::alloc::set_default_allocator(gomap::alloc::Allocator::LIBC);
    }
}

#[test]
fn no_hmap_until_the_first_write() {
    gomap::alloc::set_default_allocator(counting(None));
    let _restore = LibcAgain;
    let (a0, l0) = (allocs(), live_blocks());

    let mut m: GoMap<u64, String> = GoMap::new();
    let h8: GoMap<u64, u64> = GoMap::with_capacity(8);
    // Every read and every write that adds nothing: answered as Go answers
    // them for an empty map, without an hmap.
    assert_eq!((m.len(), m.capacity(), m.get(&1), m.contains_key(&1)), (0, 8, None, false));
    assert!(m.iter().next().is_none() && m.keys().next().is_none());
    assert_eq!(m.remove(&1), None);
    m.clear();
    m.retain(|_, _| true);
    m.shrink_to_fit();
    assert_eq!(m.shrink_policy(), None);
    assert_eq!((m.stats().count, m.stats().total_bytes), (0, 0));
    let c = m.clone();
    assert!(c.is_empty() && h8.is_empty() && m.drain().next().is_none());
    assert_eq!(m, c);
    assert_eq!(format!("{m:?}"), "{}");
    // `drain` alone makes the hmap (it takes a live map), and a
    // placeholder it frees when it ends.
    assert_eq!((allocs() - a0, live_blocks() - l0), (2, 1));

    // The first write makes the hmap, then the bucket.
    let mut n: GoMap<u64, String> = GoMap::new();
    assert_eq!(allocs() - a0, 2);
    n.insert(7, "seven".into());
    assert_eq!(allocs() - a0, 4, "the hmap and the first bucket");
    assert_eq!(n[&7], "seven");
    // A failed first write leaves the map without an hmap, and usable.
    let mut f: GoMap<u64, u64> = GoMap::new();
    let r = failing_nth(1, || f.try_insert(1, 2));
    assert!(matches!(r, Err((gomap::fatal::MapError::AllocFailed, 1, 2))));
    assert_eq!((f.len(), f.stats().total_bytes), (0, 0));
    assert_eq!(f.try_insert(1, 2).ok(), Some(None));
    drop((m, c, h8, n, f));
    assert_eq!(live_blocks(), l0, "every block freed");

    // Over 8, Go allocates the buckets at make, and so does gomap.
    let a1 = allocs();
    let big: GoMap<u64, u64> = GoMap::with_capacity(9);
    assert_eq!(allocs() - a1, 2, "the hmap and two buckets' array");
    drop(big);
    assert_eq!(live_blocks(), l0);
}

/// Go draws `hash0 = uint32(rand())` in `makemap_small` and `makemap`
/// (map_noswiss.go:303, :329), and `mapclone2` makes its destination with
/// `makemap` (one draw) before copying the source's `hash0` over it
/// (:1512-1518). With draws D1, D2, D3 in that order: `a := make(map)`
/// gets D1, `b := maps.Clone(a)` draws D2 and keeps D1, `e := make(map, 9)`
/// gets D3. An hmap made at a later write must not draw again.
#[test]
fn seeds_are_drawn_at_make_in_gos_order() {
    const D: [u64; 3] = [0x0123_4567_89ab_cdef, 0xfedc_ba98_7654_3210, 0x0f1e_2d3c_4b5a_6978];
    let (a, b, e, before) = gomap::rand::with_source(gomap::rand::scripted(D.to_vec()), || {
        let mut a: GoMap<u64, u64> = GoMap::new();
        let mut b = a.clone();
        let e: GoMap<u64, u64> = GoMap::with_capacity(9);
        let before = (a.header().hash0, b.header().hash0, a.hmap().is_none() && b.hmap().is_none());
        // The first writes make the hmaps: a scripted source that is
        // exhausted panics if they draw.
        a.insert(1, 1);
        b.insert(2, 2);
        (a, b, e, before)
    });
    let seeds = (a.header().hash0, b.header().hash0, e.header().hash0);
    assert_eq!(seeds, (D[0] as u32, D[0] as u32, D[2] as u32));
    assert_eq!(before, (D[0] as u32, D[0] as u32, true), "the seeds before the first write");
}

/// `raw` (introspection) makes the hmap of a map that has none, as its
/// first write would: same seed, and the map stays usable.
#[test]
fn raw_makes_the_hmap_with_the_drawn_seed() {
    let mut m: GoMap<u64, u64> = GoMap::new();
    let seed = m.header().hash0;
    assert!(m.hmap().is_none());
    let h = m.raw();
    assert_eq!(m.hmap(), Some(h));
    // SAFETY: `h` is a live map of type `map_type`, not written during the
    // call.
    assert_eq!(unsafe { header(m.map_type(), h) }, m.header());
    assert_eq!((m.header().hash0, m.header().count), (seed, 0));
    m.insert(3, 4);
    assert_eq!((m.raw(), m[&3]), (h, 4), "the first write kept the hmap raw made");
}
