//! What a test does when something it needs is missing on this machine.
//!
//! On a developer's machine a missing tool (a C compiler, valgrind) or CPU
//! feature (AES-NI) skips that check with a message. Under `CI=true` the same
//! absence is a failure: CI must run every check, and a check that silently
//! did nothing would let the suite pass without testing anything.
#![allow(dead_code, reason = "each test crate uses the part it needs")]

/// Reports that `what` is unavailable: panics under `CI=true`, otherwise
/// prints why `check` is skipped and returns `true` (so the caller returns).
pub fn missing(what: &str, check: &str) -> bool {
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{what} is missing, and under CI=true a missing tool or feature fails: {check} cannot be skipped");
    }
    eprintln!("{what} is missing: {check} skipped (this would fail under CI=true)");
    true
}

/// Whether `tool` runs here (`tool --version` succeeds).
pub fn on_path(tool: &str) -> bool {
    std::process::Command::new(tool).arg("--version").output().is_ok_and(|o| o.status.success())
}
