//! Helpers shared by integration tests: here, Miri scaling ([`scale`]) and
//! caught panics ([`panic_message`], [`catch_fatal`]); in the modules:
//!
//! * [`ci`]: what a test does when a tool or CPU feature is missing;
//! * [`alloc`]: a counting allocator with an injectable failure;
//! * [`counting`]: a counting global allocator (`#[global_allocator]`);
//! * [`map`]: invariant checks and headers of `GoMap`s;
//! * [`replay`]: what the two trace replays (`replay.rs`, `replay_large.rs`)
//!   share: the hash path a trace names, its files, its checksum.
//!
//! The C ABI's tests (`capi/tests`) take [`ci`] alone: their crate does not
//! depend on gomap-inspector, which [`replay`] reads traces with.
#![allow(dead_code, reason = "each test crate uses the part it needs")]

pub mod alloc;
pub mod ci;
pub mod counting;
pub mod golden;
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

/// The payload [`catch_fatal`] raises Go's fatal errors with.
struct Fatal(&'static str);

/// Runs `f` with Go's fatal errors (`gomap::fatal::fatal`, which would end
/// the process) raised as panics and caught: `Err` with the message Go
/// prints if `f` hit one, `Ok` with its result if not. Other panics go on
/// unwinding.
pub fn catch_fatal<R>(f: impl FnOnce() -> R) -> Result<R, &'static str> {
    use std::panic::{AssertUnwindSafe, catch_unwind, panic_any, resume_unwind};
    let r = gomap::fatal::with_fatal_hook(|msg| panic_any(Fatal(msg)), || catch_unwind(AssertUnwindSafe(f)));
    r.map_err(|e| match e.downcast::<Fatal>() {
        Ok(fatal) => fatal.0,
        Err(other) => resume_unwind(other),
    })
}

/// A command that runs this test binary again (for tests whose child
/// process must abort): directly, or through the emulator
/// `GOMAP_RUNNER` names (`gomap_inspector::goref::target_command`).
pub fn self_command() -> std::process::Command {
    gomap_inspector::goref::target_command(&std::env::current_exe().expect("the test binary's path"))
}
