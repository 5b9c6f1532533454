//! Helpers shared by integration tests.
//!
//! * [`ci`]: what a test does when a tool or CPU feature is missing;
//! * [`replay`]: what the two trace replays (`replay.rs`, `replay_large.rs`)
//!   share: the hash path a trace names, its files, its checksum.
//!
//! The C ABI's tests (`capi/tests`) take [`ci`] alone: their crate does not
//! depend on gomap-inspector, which [`replay`] reads traces with.
#![allow(dead_code, reason = "each test crate uses the part it needs")]

pub mod ci;
pub mod replay;

/// The message of a caught panic (`catch_unwind`'s payload), or "".
pub fn panic_message(e: &(dyn std::any::Any + Send)) -> String {
    e.downcast_ref::<String>().cloned().or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string())).unwrap_or_default()
}
