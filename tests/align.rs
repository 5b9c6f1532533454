//! Keys and values aligned above 8 (`u128`, `#[repr(align(N))]`), which Go
//! never has: `GoMap` stores them out of line, each in a block allocated with
//! the type's own alignment (src/maptype.rs's module docs, docs/memory.md).
//! Every value handed out must be aligned, every value dropped exactly once,
//! across growth, iteration, clone (also mid-growth), remove, retain,
//! shrink and clear. Runs under Miri (`scripts/miri.sh`).

mod common;

use std::cell::Cell;
use std::ops::ControlFlow;

use common::map::{check, hdr};
use common::scale;
use gomap::maptype::{MAX_INLINE_ALIGN, MapType, TypeInfo};
use gomap::{GoKey, GoMap};

/// Asserts that `r` is aligned for `T`, and returns it.
fn aligned<T>(r: &T) -> &T {
    let a = core::mem::align_of::<T>();
    assert_eq!((r as *const T).addr() % a, 0, "a {} at {:p} is not {a}-aligned", core::any::type_name::<T>(), r);
    r
}

/// The word size: an out-of-line slot holds a pointer.
const W: usize = size_of::<usize>();

/// Whether `u128` is stored out of line: it is where Rust aligns it to 16
/// (64-bit targets, i686, wasm32: above the slots' limit); armv7 aligns it
/// to 8, which a slot allows there.
const U128_OOL: bool = align_of::<u128>() > MAX_INLINE_ALIGN;

/// A `u128` no smaller integer could hold, distinct per `k`.
fn big(k: u64) -> u128 {
    (u128::from(k) << 64) | u128::from(!k)
}

#[test]
fn u128_values_are_out_of_line_and_aligned() {
    let n = scale(2000, 150) as u64;
    let mut m: GoMap<u64, u128> = GoMap::new();
    let t = m.map_type();
    assert!(!t.indirect_key() && t.indirect_elem() == U128_OOL);
    if U128_OOL {
        // A pointer slot: on 64-bit the bucket is that of map[uint64]uint64;
        // rounded up to u64's alignment (108 bytes on i686, where it is 4,
        // 112 on wasm32, where it is 8).
        let size = (8 * (1 + 8 + W) + W).next_multiple_of(align_of::<u64>());
        assert_eq!((t.keysize(), t.valuesize(), t.bucketsize()), (8, W, size));
    } else {
        // Inline, 8-aligned: the bucket rounds up to 8.
        assert_eq!((t.keysize(), t.valuesize(), t.bucketsize()), (8, 16, (8 * (1 + 8 + 16) + W).next_multiple_of(8)));
    }
    for k in 0..n {
        assert_eq!(m.insert(k, big(k)), None);
        if k % 64 == 0 {
            check(&m);
        }
    }
    assert!(hdr(&m).b >= 4, "the map grew");
    for k in 0..n {
        assert_eq!(*aligned(m.get(&k).unwrap()), big(k));
    }
    // One block per value: 16 bytes of payload, a 16-byte header and 16
    // bytes of room for the alignment (none where the values are inline).
    assert_eq!(m.stats().out_of_line_bytes, if U128_OOL { n as usize * 48 } else { 0 });

    // Iteration hands out aligned values.
    let mut seen = 0;
    for (k, v) in m.iter() {
        assert_eq!(*aligned(v), big(*k));
        seen += 1;
    }
    assert_eq!(seen, n);

    // Overwrite and get_mut write through the out-of-line block.
    assert_eq!(m.insert(3, 7), Some(big(3)));
    *m.get_mut(&4).unwrap() += 1;
    assert_eq!((m[&3], m[&4]), (7, big(4) + 1));
    m.insert(3, big(3));
    m.insert(4, big(4));

    // A clone has its own aligned blocks.
    let c = m.clone();
    check(&c);
    for k in 0..n {
        let (a, b) = (aligned(m.get(&k).unwrap()), aligned(c.get(&k).unwrap()));
        assert_eq!(*a, *b);
        assert!(!core::ptr::eq(a, b), "the clone shares a value block");
    }
    drop(c);

    for k in (0..n).step_by(2) {
        assert_eq!(m.remove(&k), Some(big(k)));
    }
    assert_eq!(m.remove(&0), None);
    m.retain(|k, v| {
        assert_eq!(*aligned(v), big(*k));
        k % 3 != 0
    });
    let left: Vec<u64> = (0..n).filter(|k| k % 2 == 1 && k % 3 != 0).collect();
    assert_eq!(m.len(), left.len());
    check(&m);
    let before = hdr(&m).b;
    m.shrink_to_fit();
    assert!(hdr(&m).b < before, "shrink_to_fit rebuilt a smaller map");
    check(&m);
    for &k in &left {
        assert_eq!(*aligned(m.get(&k).unwrap()), big(k));
    }
    assert_eq!(m.stats().out_of_line_bytes, if U128_OOL { left.len() * 48 } else { 0 });
    m.clear();
    assert!(m.is_empty());
    assert_eq!(m.stats().out_of_line_bytes, 0);
}

thread_local! {
    /// Drops of [`Aligned64`] values on this thread.
    static DROPS: Cell<usize> = const { Cell::new(0) };
    /// [`Aligned64`] values alive on this thread (made minus dropped).
    static LIVE: Cell<isize> = const { Cell::new(0) };
}

fn drops() -> usize {
    DROPS.with(Cell::get)
}

fn live() -> isize {
    LIVE.with(Cell::get)
}

/// A cache-line-aligned value whose drops are counted; its `Drop` checks
/// its own alignment (a misaligned `&mut self` is also what Miri reports).
#[repr(align(64))]
#[derive(Debug, PartialEq)]
struct Aligned64([u8; 64]);

impl Aligned64 {
    fn new(id: u32) -> Self {
        LIVE.with(|l| l.set(l.get() + 1));
        let mut b = [0u8; 64];
        b[..4].copy_from_slice(&id.to_le_bytes());
        b[63] = id as u8 ^ 0xa5;
        Aligned64(b)
    }

    fn id(&self) -> u32 {
        let id = u32::from_le_bytes(self.0[..4].try_into().unwrap());
        assert_eq!(self.0[63], id as u8 ^ 0xa5, "torn value");
        id
    }
}

impl Clone for Aligned64 {
    fn clone(&self) -> Self {
        Aligned64::new(aligned(self).id())
    }
}

impl Drop for Aligned64 {
    fn drop(&mut self) {
        aligned(&*self);
        DROPS.with(|d| d.set(d.get() + 1));
        LIVE.with(|l| l.set(l.get() - 1));
    }
}

#[test]
fn aligned64_values_drop_exactly_once() {
    let n = scale(1500, 120) as u32;
    let d0 = drops();
    let mut m: GoMap<u32, Aligned64> = GoMap::new();
    assert!(m.map_type().indirect_elem());
    for k in 0..n {
        assert!(m.insert(k, Aligned64::new(k)).is_none());
    }
    check(&m);
    assert_eq!((drops() - d0, live()), (0, n as isize));
    for k in 0..n {
        assert_eq!(aligned(m.get(&k).unwrap()).id(), k);
    }
    for (k, v) in &m {
        assert_eq!(aligned(v).id(), *k);
    }

    // Overwrite: the old value comes back, nothing is dropped in the map.
    let old = m.insert(5, Aligned64::new(5)).unwrap();
    assert_eq!((aligned(&old).id(), drops() - d0), (5, 0));
    drop(old);
    assert_eq!((drops() - d0, live()), (1, n as isize));

    // Remove hands the value out; dropping it is the one drop.
    let v = m.remove(&7).unwrap();
    assert_eq!(aligned(&v).id(), 7);
    assert_eq!(drops() - d0, 1);
    drop(v);
    assert_eq!((drops() - d0, live()), (2, n as isize - 1));

    // Clone: one new value per entry; dropping the clone drops them.
    let c = m.clone();
    check(&c);
    assert_eq!((drops() - d0, live()), (2, 2 * (n as isize - 1)));
    for (k, v) in &c {
        assert_eq!(aligned(v).id(), *k);
    }
    drop(c);
    assert_eq!((drops() - d0, live()), (2 + n as usize - 1, n as isize - 1));

    // Retain drops exactly what it removes.
    let d1 = drops();
    m.retain(|k, v| {
        assert_eq!(aligned(&*v).id(), *k);
        k % 4 != 0
    });
    let kept = (0..n).filter(|k| *k != 7 && k % 4 != 0).count();
    assert_eq!(m.len(), kept);
    assert_eq!((drops() - d1, live()), (n as usize - 1 - kept, kept as isize));
    check(&m);

    // Shrinking moves pointers, never values.
    let d2 = drops();
    m.shrink_to_fit();
    check(&m);
    assert_eq!((drops() - d2, live()), (0, kept as isize));
    for (k, v) in &m {
        assert_eq!(aligned(v).id(), *k);
    }

    // Clear drops every value, once.
    m.clear();
    assert_eq!((drops() - d2, live()), (kept, 0));
    for k in 0..n / 2 {
        m.insert(k, Aligned64::new(k));
    }
    let d3 = drops();
    drop(m);
    assert_eq!((drops() - d3, live()), (n as usize / 2, 0));
}

#[test]
fn clone_mid_growth_copies_aligned_values() {
    // Cloning a growing map re-inserts entries through a scratch block
    // holding the key and value copies: the value's copy must be aligned.
    let max = scale(120, 40) as u32;
    let mut grew = 0;
    for n in 1..=max {
        let mut m: GoMap<u32, Aligned64> = GoMap::new();
        for k in 0..n {
            m.insert(k, Aligned64::new(k));
        }
        grew += m.stats().growing;
        let before = live();
        let c = m.clone();
        check(&c);
        assert_eq!(live(), before + n as isize);
        assert_eq!(c.len(), n as usize);
        for k in 0..n {
            assert_eq!(aligned(c.get(&k).unwrap()).id(), k);
        }
        drop(c);
        drop(m);
        assert_eq!(live(), 0);
    }
    assert!(grew > 0, "no clone of a growing map was made");
}

thread_local! {
    /// Drops of [`Key16`] and [`Key64`] values on this thread.
    static KEY_DROPS: Cell<usize> = const { Cell::new(0) };
}

/// A test key aligned above 8, made from a number.
trait BigKey: GoKey + Clone + PartialEq + core::fmt::Debug {
    fn make(i: u64) -> Self;
    fn lo(&self) -> u64;
}

/// Defines a key type of plain memory (two `u64` and zeroed filler, no
/// padding) with `#[repr(align($align))]` and a counted, alignment-checking
/// `Drop`: an out-of-line key.
macro_rules! big_key {
    ($name:ident, $align:literal, $fill:literal) => {
        #[repr(C, align($align))]
        #[derive(Clone, Debug, PartialEq)]
        struct $name {
            lo: u64,
            hi: u64,
            fill: [u64; $fill],
        }

        impl Drop for $name {
            fn drop(&mut self) {
                aligned(&*self);
                KEY_DROPS.with(|d| d.set(d.get() + 1));
            }
        }

        // SAFETY: plain memory of the type's size (no padding: the filler
        // makes the fields fill it), hashed over it by `mem_key` and compared
        // bytewise; its `Drop` only counts.
        unsafe impl GoKey for $name {
            fn map_type(elem: TypeInfo) -> MapType {
                const { assert!(core::mem::size_of::<$name>() == 16 + 8 * $fill) };
                MapType::mem_key(core::mem::size_of::<$name>(), $align, elem).expect("a valid descriptor")
            }
        }

        impl BigKey for $name {
            fn make(i: u64) -> Self {
                $name { lo: i, hi: i.wrapping_mul(0x9e37_79b9_7f4a_7c15), fill: [0; $fill] }
            }
            fn lo(&self) -> u64 {
                self.lo
            }
        }
    };
}
big_key!(Key16, 16, 0);
big_key!(Key64, 64, 6);

fn keys_out_of_line<K: BigKey>() {
    let n = scale(1200, 100) as u64;
    let kd = || KEY_DROPS.with(Cell::get);
    let mut m: GoMap<K, u128> = GoMap::new();
    let t = m.map_type();
    assert!(t.indirect_key() && t.indirect_elem() == U128_OOL);
    assert_eq!(t.keysize(), W);
    for i in 0..n {
        assert!(m.insert(K::make(i), big(i)).is_none());
    }
    check(&m);
    let d0 = kd();
    for i in 0..n {
        let want = K::make(i);
        let (k, v) = m.get_key_value(&want).unwrap();
        assert_eq!((aligned(k), *aligned(v)), (&want, big(i)));
    }
    // Each lookup dropped only its own probe key.
    assert_eq!(kd() - d0, n as usize);

    // Deleting during `range` keeps a live iterator: the removed keys'
    // drops are deferred to copies of their own (aligned: their `Drop`
    // checks) until it ends.
    let d1 = kd();
    let mut removed = 0;
    m.range(|r, k, v| {
        assert_eq!(big(k.lo()), v);
        if k.lo() % 3 == 0 {
            assert_eq!(r.remove(&k), Some(v));
            removed += 1;
        }
        ControlFlow::Continue(())
    });
    // Per visited entry: the body's key copy; per removal: the map's key.
    assert_eq!(kd() - d1, n as usize + removed);
    assert_eq!(m.len(), n as usize - removed);
    check(&m);

    let c = m.clone();
    for (k, v) in &c {
        assert_eq!(big(aligned(k).lo()), *aligned(v));
    }
    let d2 = kd();
    drop(c);
    m.shrink_to_fit();
    check(&m);
    drop(m);
    assert_eq!(kd() - d2, 2 * (n as usize - removed));
}

#[test]
fn keys_aligned_to_16_are_out_of_line() {
    keys_out_of_line::<Key16>();
}

#[test]
fn keys_aligned_to_64_are_out_of_line() {
    keys_out_of_line::<Key64>();
}

/// `u128`/`i128` keys: plain memory aligned to 16, so out of line (8 on
/// armv7: inline there, see `U128_OOL`); Go has no
/// 128-bit integers, and the hash is the one Go gives a `[16]byte` with the
/// same bytes (`memhash` of 16 bytes), which tests/hash_vectors.rs checks
/// against real Go for `memhash128`.
#[test]
fn u128_keys_hash_as_16_bytes_and_live_out_of_line() {
    let n = scale(3000, 120) as u64;
    let mut m: GoMap<u128, u64> = GoMap::new();
    let t = m.map_type();
    assert!(t.indirect_key() == U128_OOL && !t.indirect_elem());
    assert_eq!(t.keysize(), if U128_OOL { W } else { 16 });
    for seed in [0usize, 1, 0x9e37_79b9_7f4a_7c15u64 as usize] {
        for k in [0u128, 1, u128::MAX, big(7)] {
            let bytes = k.to_ne_bytes();
            // SAFETY: `k` is a key of `t` (a u128); `bytes` is 16 readable bytes.
            let (ours, go) =
                unsafe { (t.hash((&raw const k).cast(), seed), gomap::alg::memhash(bytes.as_ptr(), seed, 16)) };
            assert_eq!(ours, go, "u128 {k:#x} seed {seed:#x}");
        }
    }
    for k in 0..n {
        assert_eq!(m.insert(big(k), k), None);
    }
    assert_eq!(m.len() as u64, n);
    for k in 0..n {
        assert_eq!(m.get(&big(k)), Some(&k));
        let (stored, _) = m.get_key_value(&big(k)).unwrap();
        assert_eq!(*aligned(stored), big(k));
    }
    for k in (0..n).step_by(3) {
        assert_eq!(m.remove(&big(k)), Some(k));
    }
    let mut seen = 0;
    for (key, v) in &m {
        assert_eq!(*aligned(key), big(*v));
        seen += 1;
    }
    assert_eq!(seen, m.len());
    check(&m);
    let mut s: GoMap<i128, u8> = GoMap::new();
    s.insert(-1, 1);
    s.insert(i128::MIN, 2);
    assert_eq!((s[&-1], s[&i128::MIN], s.get(&0)), (1, 2, None));
    // In a composite key: a tuple aligned to 16, hashed field by field.
    let mut c: GoMap<(u8, u128), u8> = GoMap::new();
    c.insert((1, 2), 3);
    assert_eq!(c.map_type().indirect_key(), U128_OOL);
    assert_eq!(c.get(&(1, 2)), Some(&3));
    assert_eq!(c.get(&(2, 1)), None);
}
