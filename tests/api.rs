//! The std-like parts of `GoMap` (issue 19's first batch): `get_key_value`,
//! `Index`, `PartialEq` (Go's `maps.Equal`), `From<[(K, V); N]>`,
//! `Extend<(&K, &V)>`, `iter_mut`, `values_mut`, `retain`, `capacity`.

mod common;

use std::cell::Cell;
use std::rc::Rc;

use common::map::hdr;
use gomap::GoMap;

#[test]
fn get_key_value_returns_the_stored_key() {
    let mut m = GoMap::<f64, u8>::new();
    m.insert(0.0, 1);
    let (k, v) = m.get_key_value(&-0.0).unwrap();
    assert!(k.is_sign_positive(), "the stored key is +0");
    assert_eq!(*v, 1);
    // A key update (floats need one) replaces it.
    m.insert(-0.0, 2);
    let (k, v) = m.get_key_value(&0.0).unwrap();
    assert!(k.is_sign_negative() && *v == 2);
    assert!(m.get_key_value(&1.0).is_none());
    assert!(GoMap::<f64, u8>::new().get_key_value(&1.0).is_none());
}

#[test]
fn index_and_missing_key() {
    let m: GoMap<u64, &str> = [(1, "a"), (2, "b")].into();
    assert_eq!((m[&1], m[&2]), ("a", "b"));
    let r = std::panic::catch_unwind(|| m[&3]);
    assert!(r.is_err(), "indexing a missing key panics");
}

#[test]
fn equality_is_maps_equal() {
    let a: GoMap<u64, u64> = (0..100).map(|i| (i, i * 2)).collect();
    let mut b: GoMap<u64, u64> = (0..100).rev().map(|i| (i, i * 2)).collect();
    assert!(a == b);
    b.insert(7, 0);
    assert!(a != b, "a different value");
    b.insert(7, 14);
    b.insert(100, 200);
    assert!(a != b, "a different length");
    let mut n = GoMap::<f64, u8>::new();
    n.insert(f64::NAN, 1);
    assert!(n != n, "a NaN key never finds itself: maps.Equal(m, m) is false");
}

#[test]
fn from_array_and_extend_by_reference() {
    let m: GoMap<u32, u32> = [(1, 1), (2, 2), (1, 3)].into();
    assert_eq!((m.len(), m[&1]), (2, 3), "later pairs replace earlier ones");
    let src = [(5u32, 50u32), (6, 60)];
    let mut m2 = m;
    m2.extend(src.iter().map(|(k, v)| (k, v)));
    assert_eq!((m2.len(), m2[&5], m2[&6]), (4, 50, 60));
}

#[test]
fn iter_mut_and_values_mut_reach_every_value_once() {
    let n = common::scale(1000, 60) as u64;
    let mut m: GoMap<u64, u64> = (0..n).map(|i| (i, i)).collect();
    let mut seen = 0;
    for (k, v) in m.iter_mut() {
        assert_eq!(*k, *v);
        *v += 1000;
        seen += 1;
    }
    assert_eq!(seen, n);
    m.values_mut().for_each(|v| *v *= 2);
    assert!((0..n).all(|i| m[&i] == (i + 1000) * 2));
}

/// A value counting its drops.
struct Counted(Rc<Cell<usize>>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.set(self.0.get() + 1);
    }
}

#[test]
fn retain_deletes_and_drops_exactly_the_rejected() {
    let drops = Rc::new(Cell::new(0));
    let n = common::scale(2000, 100) as u64;
    let mut m = GoMap::<u64, Counted>::new();
    for i in 0..n {
        m.insert(i, Counted(drops.clone()));
    }
    let mut calls = 0;
    m.retain(|k, _| {
        calls += 1;
        k % 3 != 0
    });
    let removed = (0..n).filter(|k| k % 3 == 0).count();
    assert_eq!(calls, n as usize, "f saw every entry once");
    assert_eq!(drops.get(), removed, "exactly the rejected values dropped");
    assert_eq!(m.len(), n as usize - removed);
    assert!((0..n).all(|k| m.contains_key(&k) == (k % 3 != 0)));
    drop(m);
    assert_eq!(drops.get(), n as usize);
}

#[test]
fn capacity_is_what_fits_before_doubling() {
    let hints: &[usize] = if cfg!(miri) { &[0, 9, 14] } else { &[0, 8, 9, 13, 14, 100, 1000] };
    for &hint in hints {
        let mut m = GoMap::<u64, u64>::with_capacity(hint);
        let cap = m.capacity();
        assert!(cap >= hint, "hint {hint}: capacity {cap}");
        let b = hdr(&m).b;
        for i in 0..cap as u64 {
            m.insert(i, i);
        }
        assert_eq!(hdr(&m).b, b, "hint {hint}: {cap} entries fit without growth");
        m.insert(u64::MAX, 0);
        assert_eq!(hdr(&m).b, b + 1, "hint {hint}: one more doubles the array");
    }
}

/// Where `leaked_iterator_does_not_stop_drop` puts its iterator: memory
/// reachable from a static is no leak to Miri, and the drop never runs.
static LEAKED_ITER: std::sync::atomic::AtomicPtr<u8> = std::sync::atomic::AtomicPtr::new(std::ptr::null_mut());

/// A leaked iterator (`mem::forget`) stays registered with the map; the
/// map's drop declares it dead and frees everything (it used to find the
/// map busy, leak it and fail a debug assertion).
#[test]
fn leaked_iterator_does_not_stop_drop() {
    let drops = Rc::new(Cell::new(0));
    let n = common::scale(100, 20) as u64;
    let mut m = GoMap::<String, Counted>::new();
    for i in 0..n {
        m.insert(i.to_string(), Counted(drops.clone()));
    }
    let mut it = m.iter();
    it.next();
    LEAKED_ITER.store(Box::into_raw(Box::new(it)).cast(), std::sync::atomic::Ordering::Release);
    // Deletes while the leaked iterator is registered defer their key drops.
    assert!(m.remove(&"3".to_string()).is_some());
    assert_eq!(drops.get(), 1);
    drop(m);
    assert_eq!(drops.get(), n as usize);
}
