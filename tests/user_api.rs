//! The Rust API as a user meets it (issue 19's "scratch crate"): this file
//! is its own crate, depending on `gomap` with the `derive` and `serde`
//! features as a downstream crate would, using only safe code and only the
//! public API, one section per API a std `HashMap` user reaches for.
#![forbid(unsafe_code)]

use std::collections::HashMap;
use std::ops::ControlFlow;
use std::panic::{RefUnwindSafe, UnwindSafe};

use gomap::{GoKey, GoMap, GoStr};

/// Go's `struct { ID uint32; Name string; Score float64 }`, derived.
#[derive(GoKey, Clone, Debug, PartialEq)]
#[repr(C)]
struct Player {
    id: u32,
    name: GoStr,
    score: f64,
}

fn player(id: u32, name: &str, score: f64) -> Player {
    Player { id, name: name.into(), score }
}

#[test]
fn a_derived_struct_key() {
    let mut m: GoMap<Player, u32> = GoMap::new();
    m.insert(player(1, "ann", 0.0), 10);
    m.insert(player(2, "bob", 1.5), 20);
    // Go's float field rules: -0 == +0, NaN never matches.
    assert_eq!(m.get(&player(1, "ann", -0.0)), Some(&10));
    m.insert(player(3, "nan", f64::NAN), 30);
    assert_eq!(m.get(&player(3, "nan", f64::NAN)), None);
    assert_eq!(m.len(), 3);
    // Tuples and arrays of keys are keys too.
    let mut t: GoMap<(u8, GoStr), [u16; 2]> = GoMap::new();
    t.insert((1, "x".into()), [1, 2]);
    assert_eq!(t[&(1, "x".into())], [1, 2]);
    let mut a: GoMap<[f32; 3], ()> = GoMap::new();
    a.insert([1.0, 2.0, 3.0], ());
    assert!(a.contains_key(&[1.0, 2.0, 3.0]));
}

#[test]
fn string_keys_looked_up_by_str() {
    let mut m: GoMap<String, u32> = GoMap::new();
    m.insert("alpha".to_string(), 1);
    assert_eq!(m.get("alpha"), Some(&1));
    assert!(m.contains_key("alpha"));
    *m.get_mut("alpha").unwrap() += 1;
    assert_eq!(m["alpha"], 2);
    assert_eq!(m.get_key_value("alpha").map(|(k, v)| (k.as_str(), *v)), Some(("alpha", 2)));
    assert_eq!(m.remove_entry("alpha"), Some(("alpha".to_string(), 2)));
    assert!(m.is_empty());
    let mut g: GoMap<GoStr, u32> = GoMap::new();
    g.insert("go".into(), 7);
    assert_eq!(g.get("go"), Some(&7));
    assert_eq!(g.remove("go"), Some(7));
    assert_eq!(g.get("go"), None);
}

#[test]
fn u128_values_and_keys() {
    let mut m: GoMap<u64, u128> = GoMap::new();
    m.insert(1, u128::MAX);
    assert_eq!(m[&1], u128::MAX);
    let mut k: GoMap<u128, &str> = GoMap::new();
    k.insert(1 << 100, "big");
    assert_eq!(k[&(1 << 100)], "big");
}

#[test]
fn the_entry_api() {
    let text = "the quick brown fox jumps over the lazy dog the end";
    let mut counts: GoMap<GoStr, usize> = GoMap::new();
    for w in text.split(' ') {
        *counts.entry(w.into()).or_insert(0) += 1;
    }
    let mut std_counts: HashMap<&str, usize> = HashMap::new();
    for w in text.split(' ') {
        *std_counts.entry(w).or_insert(0) += 1;
    }
    assert_eq!(counts.len(), std_counts.len());
    for (w, n) in &std_counts {
        assert_eq!(counts[*w], *n);
    }
    counts.entry("fox".into()).and_modify(|n| *n += 10).or_default();
    assert_eq!(counts["fox"], 11);
    assert_eq!(*counts.entry("new".into()).or_insert_with(|| 5), 5);
    assert_eq!(*counts.get_or_insert_with("new".into(), || 99), 5);
    match counts.entry("the".into()) {
        gomap::gomap::Entry::Occupied(o) => assert_eq!(o.remove(), 3),
        gomap::gomap::Entry::Vacant(_) => unreachable!("\"the\" is in the map"),
    }
    assert!(!counts.contains_key("the"));
}

#[test]
fn iteration_and_bulk_operations() {
    let mut m: GoMap<u64, u64> = (0..100).map(|i| (i, i)).collect();
    for (_, v) in m.iter_mut() {
        *v *= 2;
    }
    m.values_mut().for_each(|v| *v += 1);
    assert_eq!(m[&10], 21);
    m.retain(|k, _| k % 2 == 0);
    assert_eq!(m.len(), 50);
    let odd_tens: Vec<(u64, u64)> = m.extract_if(|k, _| k % 10 == 0).collect();
    assert_eq!(odd_tens.len(), 10);
    assert_eq!(m.len(), 40);
    let drained: u64 = m.drain().map(|(_, v)| v).sum();
    assert!(m.is_empty() && drained > 0);
    m.extend([(1, 1), (2, 2)]);
    let mut sorted: Vec<(u64, u64)> = m.into_iter().collect();
    sorted.sort();
    assert_eq!(sorted, [(1, 1), (2, 2)]);
    // Go's range, writing to the map.
    let mut r: GoMap<u64, u64> = (0..10).map(|i| (i, i)).collect();
    r.range(|m, k, _| {
        m.remove(&k);
        ControlFlow::Continue(())
    });
    assert!(r.is_empty());
}

#[test]
fn construction_equality_and_capacity() {
    let a: GoMap<GoStr, u8> = [("a".into(), 1), ("b".into(), 2)].into();
    let mut b: GoMap<GoStr, u8> = GoMap::new();
    b.extend(a.iter().map(|(k, v)| (k.clone(), *v)));
    assert_eq!(a, b); // maps.Equal
    let mut c: GoMap<u32, u8> = GoMap::new();
    c.extend([(1u32, 2u8)].iter().map(|(k, v)| (k, v)));
    assert_eq!(c[&1], 2);
    let mut d: GoMap<u64, u64> = GoMap::with_capacity(100);
    assert!(d.capacity() >= 100);
    d.reserve(1000);
    assert!(d.capacity() >= 1000);
    assert!(d.try_reserve(10).is_ok());
    assert_eq!(d.try_insert(1, 1).ok(), Some(None));
    let e = d.clone();
    assert_eq!(e, d);
    fn unwind_safe<T: UnwindSafe + RefUnwindSafe>(_: &T) {}
    unwind_safe(&e);
}

#[test]
fn serde_round_trip() {
    let m: GoMap<GoStr, Vec<u32>> = [("a".into(), vec![1, 2]), ("b".into(), vec![])].into();
    let json = serde_json::to_string(&m).unwrap();
    let back: GoMap<GoStr, Vec<u32>> = serde_json::from_str(&json).unwrap();
    assert_eq!(back, m);
}
