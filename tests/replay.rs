//! Parity with real Go: replays the oracle's traces (`docs/trace-format.md`)
//! on gomap, feeding it the random draws Go took, and compares after every
//! operation: the result, the header fields, the FNV-1a checksum of the full
//! state (every bucket's tophash, keys, elems and overflow chain, stale bytes
//! included), the full state where the trace prints it, every recorded
//! iterator field and the bucket array length; up front, the descriptor's
//! sizes, flags and per-B array lengths against the trace header.
//!
//! * `golden_traces`: the committed traces in `tests/golden/` (no Go needed;
//!   recorded on amd64, so on aarch64 only the fallback ones replay, and
//!   none on 32-bit targets).
//! * `golden_arm64_traces`: `tests/golden-arm64/`, recorded by Go arm64
//!   under qemu-aarch64 (`scripts/arm64.sh`); their AES path replays on
//!   aarch64 only (CI runs it under qemu).
//! * `golden_386_traces`: `tests/golden-386/`, recorded by Go 386
//!   (`scripts/x86-32.sh`); Go's 32-bit layout, so they replay on 32-bit
//!   targets only, their AES path on x86 (i686) only.
//! * `golden_arm_traces`: `tests/golden-arm/`, recorded by Go arm under
//!   qemu-arm (`scripts/arm32.sh`): the same 32-bit layout and hash32.go
//!   as 386's, so they replay on armv7 (CI: under qemu-arm), wasm32
//!   (under Node's WASI) and i686.
//! * `live_traces`: the traces in `$GOMAP_TRACE_DIR`, if set (CI generates
//!   fresh ones with a random seed via `scripts/live-replay.sh`).
//!
//! On the first divergence it prints the trace, the op number and a readable
//! diff of the two states.

mod common;

use std::path::Path;

use common::golden::replay_file;
use common::replay::replay_dir;

#[test]
#[cfg_attr(miri, ignore = "replays thousands of ops through a JSON parser")]
fn golden_traces() {
    replay_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden"), replay_file);
}

#[test]
#[cfg_attr(miri, ignore = "replays thousands of ops through a JSON parser")]
fn golden_arm64_traces() {
    replay_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden-arm64"), replay_file);
}

#[test]
#[cfg_attr(miri, ignore = "replays thousands of ops through a JSON parser")]
fn golden_386_traces() {
    replay_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden-386"), replay_file);
}

#[test]
#[cfg_attr(miri, ignore = "replays thousands of ops through a JSON parser")]
fn golden_arm_traces() {
    replay_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden-arm"), replay_file);
}

#[test]
#[cfg_attr(miri, ignore = "needs Go-generated files")]
fn live_traces() {
    if let Ok(dir) = std::env::var("GOMAP_TRACE_DIR") {
        replay_dir(Path::new(&dir), replay_file);
    }
}
