//! Looking inside a `GoMap` from a test.
#![allow(dead_code, reason = "each test crate uses the part it needs")]

use gomap::inspect::{Header, check_invariants, header};
use gomap::{GoKey, GoMap};

/// Checks the map's invariants (`inspect::check_invariants`); panics with
/// the broken one.
pub fn check<K: GoKey, V>(m: &GoMap<K, V>) {
    // SAFETY: a live map (a `GoMap` owns one), not being written (`&` borrow).
    unsafe { check_invariants(m.map_type(), m.raw()) }.unwrap_or_else(|e| panic!("invariant broken: {e}"));
}

/// The map's header fields.
pub fn hdr<K: GoKey, V>(m: &GoMap<K, V>) -> Header {
    // SAFETY: a live map (a `GoMap` owns one).
    unsafe { header(m.map_type(), m.raw()) }
}
