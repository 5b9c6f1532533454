//! The entry API (issue 19): std's names and semantics on Go's map. A
//! vacant insert is `mapassign` (it may grow the map); an occupied entry's
//! key is the stored key; a NaN key is always vacant, and inserting it
//! twice makes two entries, as Go's `m[NaN] = v` does.

mod common;

use std::collections::HashMap;
use std::rc::Rc;

use common::map::{check, hdr};
use common::scale;
use gomap::gomap::Entry;
use gomap::{GoMap, GoStr};

#[test]
fn word_count_matches_std() {
    let text = "the quick brown fox jumps over the lazy dog the end fox";
    let words: Vec<&str> = text.split(' ').cycle().take(scale(5000, 200)).collect();
    let mut ours: GoMap<GoStr, u32> = GoMap::new();
    let mut strings: GoMap<String, u32> = GoMap::new();
    let mut std_counts: HashMap<&str, u32> = HashMap::new();
    for w in &words {
        *ours.entry(GoStr::new(w)).or_insert(0) += 1;
        *strings.entry(w.to_string()).or_default() += 1;
        *std_counts.entry(w).or_insert(0) += 1;
    }
    assert_eq!(ours.len(), std_counts.len());
    for (w, n) in &std_counts {
        assert_eq!((ours.get(*w), strings.get(*w)), (Some(n), Some(n)), "{w}");
    }
    check(&ours);
}

#[test]
fn entries_across_growth_match_std() {
    let n = scale(5000, 300) as u64;
    let mut m: GoMap<u64, u64> = GoMap::new();
    let mut s: HashMap<u64, u64> = HashMap::new();
    let mut grew = false;
    for i in 0..n {
        let k = i.wrapping_mul(0x9e37_79b9) % (n / 2);
        match i % 4 {
            0 => *m.entry(k).or_insert(i) += 1,
            1 => *m.entry(k).and_modify(|v| *v *= 3).or_insert_with(|| i) += 0,
            2 => {
                m.entry(k).or_insert_with_key(|k| k + 7);
            }
            _ => {
                if let Entry::Occupied(e) = m.entry(k) {
                    assert_eq!(e.remove(), s[&k]);
                }
            }
        }
        match i % 4 {
            0 => *s.entry(k).or_insert(i) += 1,
            1 => *s.entry(k).and_modify(|v| *v *= 3).or_insert_with(|| i) += 0,
            2 => {
                s.entry(k).or_insert_with_key(|k| k + 7);
            }
            _ => {
                s.remove(&k);
            }
        }
        grew |= hdr(&m).growing;
    }
    assert!(grew, "the map should have grown under entry inserts");
    check(&m);
    assert_eq!(m.len(), s.len());
    for (k, v) in &s {
        assert_eq!(m.get(k), Some(v));
    }
}

#[test]
fn nan_entries_are_always_vacant() {
    let mut m: GoMap<f64, u8> = GoMap::new();
    assert!(matches!(m.entry(f64::NAN), Entry::Vacant(_)));
    *m.entry(f64::NAN).or_insert(1) += 1;
    *m.entry(f64::NAN).or_insert(1) += 1;
    assert_eq!(m.len(), 2, "two NaN entries, as Go's m[NaN] = v twice");
    assert!(m.iter().all(|(k, v)| k.is_nan() && *v == 2));
    let e = m.entry(f64::NAN).insert_entry(5);
    assert!(e.key().is_nan() && *e.get() == 5);
    assert_eq!(m.len(), 3);
}

#[test]
fn removing_a_nan_entry_panics_and_changes_nothing() {
    // Go cannot delete a NaN key; neither can an occupied entry. Checked
    // with a key-carrying value type: nothing is dropped twice (Miri).
    let mut m: GoMap<f64, Rc<u8>> = GoMap::new();
    let v = Rc::new(1);
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        m.entry(f64::NAN).insert_entry(v.clone()).remove();
    }));
    assert!(r.is_err());
    assert_eq!((m.len(), Rc::strong_count(&v)), (1, 2), "the entry and its value stay");
    m.clear();
    assert_eq!(Rc::strong_count(&v), 1);
}

#[test]
fn negative_zero_finds_positive_zero() {
    let mut m: GoMap<f64, u8> = GoMap::new();
    m.insert(0.0, 1);
    match m.entry(-0.0) {
        Entry::Occupied(mut e) => {
            assert!(e.key().is_sign_positive(), "the stored key");
            assert_eq!(e.insert(2), 1);
        }
        Entry::Vacant(_) => panic!("-0.0 should find +0.0"),
    }
    let (k, v) = m.get_key_value(&0.0).unwrap();
    assert!(k.is_sign_positive() && *v == 2, "OccupiedEntry::insert keeps the stored key");
    assert_eq!(m.len(), 1);
    if let Entry::Occupied(e) = m.entry(-0.0) {
        let (k, v) = e.remove_entry();
        assert!(k.is_sign_positive() && v == 2);
    }
    assert!(m.is_empty());
}

#[test]
fn occupied_and_vacant_entries() {
    let mut m: GoMap<String, Vec<u32>> = GoMap::new();
    let e = m.entry("a".to_string());
    assert!(matches!(e, Entry::Vacant(_)));
    assert_eq!(e.key(), "a");
    let Entry::Vacant(e) = e else { unreachable!() };
    assert_eq!(e.into_key(), "a");
    assert!(m.is_empty(), "into_key inserts nothing");

    m.entry("a".to_string()).or_default().push(1);
    let mut called = false;
    m.entry("a".to_string()).or_insert_with(|| {
        called = true;
        vec![]
    });
    assert!(!called, "or_insert_with runs only when vacant");
    let Entry::Occupied(mut e) = m.entry("a".to_string()) else { panic!("present") };
    assert_eq!((e.key().as_str(), e.get().as_slice()), ("a", &[1][..]));
    e.get_mut().push(2);
    e.into_mut().push(3);
    assert_eq!(m["a"], [1, 2, 3]);

    let mut e = m.entry("b".to_string()).insert_entry(vec![9]);
    assert_eq!(e.insert(vec![8]), [9]);
    assert_eq!(e.remove_entry(), ("b".to_string(), vec![8]));
    let e = m.entry("a".to_string()).insert_entry(vec![0]);
    assert_eq!(e.get(), &[0]);
    assert_eq!(m.len(), 1);
    assert_eq!(format!("{:?}", m.entry("a".to_string())), r#"Entry(OccupiedEntry { key: "a", value: [0] })"#);
    assert_eq!(format!("{:?}", m.entry("z".to_string())), r#"Entry(VacantEntry("z"))"#);
}

#[test]
fn get_or_insert_with_inserts_once() {
    let mut m: GoMap<u64, Vec<u64>> = GoMap::new();
    for i in 0..scale(100, 20) as u64 {
        m.get_or_insert_with(i % 10, Vec::new).push(i);
    }
    assert_eq!(m.len(), 10);
    assert!(m.iter().all(|(k, v)| v.iter().all(|x| x % 10 == *k)));
}

#[test]
fn entry_values_and_keys_drop_once() {
    // Keys and values with drop glue through every entry path (Miri checks
    // for leaks and double drops).
    let v = Rc::new(());
    let mut m: GoMap<String, Rc<()>> = GoMap::new();
    for i in 0..scale(200, 30) {
        let k = format!("key-{}", i % 50);
        match i % 5 {
            0 => drop(m.entry(k).or_insert_with(|| v.clone())),
            1 => drop(m.entry(k).insert_entry(v.clone())),
            2 => {
                if let Entry::Occupied(e) = m.entry(k) {
                    drop(e.remove_entry());
                }
            }
            3 => {
                if let Entry::Vacant(e) = m.entry(k) {
                    drop(e.into_key());
                }
            }
            _ => drop(m.get_or_insert_with(k, || v.clone())),
        }
        assert_eq!(Rc::strong_count(&v), 1 + m.len());
    }
    drop(m);
    assert_eq!(Rc::strong_count(&v), 1);
}

/// Occupied entries of fast-path keys (4- and 8-byte keys, found by the
/// fast lookups) give the stored key and its value, distinct from each
/// other, in single-bucket maps (B = 0, no hash) and grown ones.
#[test]
fn occupied_entries_of_fast_keys() {
    fn run<K: gomap::GoKey + Copy + PartialEq + std::fmt::Debug>(key: impl Fn(u64) -> K) {
        for n in [5u64, scale(2000, 300) as u64] {
            let mut m: GoMap<K, (u64, u64)> = GoMap::new();
            for i in 0..n {
                m.insert(key(i), (i * 7 + 1, !i));
            }
            for i in 0..n {
                match m.entry(key(i)) {
                    Entry::Occupied(mut e) => {
                        assert_eq!(*e.key(), key(i));
                        assert_eq!(*e.get(), (i * 7 + 1, !i));
                        e.get_mut().0 += 1;
                    }
                    Entry::Vacant(_) => panic!("key {i} of {n} is present"),
                }
                assert!(matches!(m.entry(key(i + n)), Entry::Vacant(_)));
            }
            for i in 0..n {
                assert_eq!(m.get(&key(i)), Some(&(i * 7 + 2, !i)));
            }
            check(&m);
        }
    }
    run(|i| i as u32 ^ 0x5a5a_0000);
    run(|i| i.wrapping_mul(0x9e37_79b9_7f4a_7c15));
}
