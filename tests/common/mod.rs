//! Helpers shared by integration tests: here, Miri scaling ([`scale`]) and
//! caught panics' messages ([`panic_message`]); in the modules:
//!
//! * [`ci`]: what a test does when a tool or CPU feature is missing;
//! * [`alloc`]: a counting allocator with an injectable failure;
//! * [`map`]: invariant checks and headers of `GoMap`s;
//! * [`replay`]: what the two trace replays (`replay.rs`, `replay_large.rs`)
//!   share: the hash path a trace names, its files, its checksum.
//!
//! The C ABI's tests (`capi/tests`) take [`ci`] alone: their crate does not
//! depend on gomap-inspector, which [`replay`] reads traces with.
#![allow(dead_code, reason = "each test crate uses the part it needs")]

pub mod alloc;
pub mod ci;
pub mod map;
pub mod replay;

/// `n`, or `miri` under Miri: loop counts scaled down for Miri while still
/// reaching every path the test is for.
pub fn scale(n: usize, miri: usize) -> usize {
    if cfg!(miri) { miri } else { n }
}

/// The message of a caught panic (`catch_unwind`'s payload), or "".
pub fn panic_message(e: &(dyn std::any::Any + Send)) -> String {
    e.downcast_ref::<String>().cloned().or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string())).unwrap_or_default()
}
