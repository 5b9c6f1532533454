//! Looking inside a `GoMap` from a test.
#![allow(dead_code, reason = "each test crate uses the part it needs")]

use gomap::inspect::{Header, check_invariants};
use gomap::{GoKey, GoMap};

/// Checks the map's invariants (`inspect::check_invariants`); panics with
/// the broken one.
/// A map without an hmap yet (no write so far) has nothing to check.
pub fn check<K: GoKey, V>(m: &GoMap<K, V>) {
    let Some(h) = m.hmap() else { return };
    // SAFETY: a live map (a `GoMap` owns one), not being written (`&` borrow).
    unsafe { check_invariants(m.map_type(), h) }.unwrap_or_else(|e| panic!("invariant broken: {e}"));
}

/// The map's header fields.
pub fn hdr<K: GoKey, V>(m: &GoMap<K, V>) -> Header {
    m.header()
}
