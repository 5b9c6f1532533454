#!/usr/bin/env bash
# gomap on wasm32 (wasm32-wasip1), run under Node's WASI (node:wasi, WASI
# preview1, in Debian's nodejs package) through scripts/wasi-run.mjs.
#
# wasm32 has no Go architecture of its own (Go's `wasm` is 64-bit): it
# follows Go arm's layout and hashes (4-byte pointers, hash32.go's fallback
# hash, Alignment 4), so Go arm's vectors and traces, and the 386 fallback
# traces, must replay bit-exactly, as on armv7 (scripts/arm32.sh).
#
#   1. the default build (stable, panic=abort as wasm32-wasip1 has it): the
#      hash vectors and the golden traces (--nocapture, counts shown), then
#      the doctests;
#   2. the whole core suite (lib and tests) built so that panics unwind:
#      nightly's -Zbuild-std=std,panic_unwind with -Cpanic=unwind and wasm
#      exception handling (the legacy instructions, which Node 20's V8 runs;
#      LLVM's default, exnref, it does not), linked with the wasi-libc of
#      stable's wasm32-wasip1 sysroot (nightly's rust-std for wasm32-wasip1
#      is not always published) and the `_Unwind_*` shim of
#      scripts/wasi-unwind.rs (that sysroot ships no libunwind). Tests that
#      need threads or processes are ignored on WASI, each saying so
#      (`cfg_attr(target_os = "wasi", ignore = ...)`).
#
# Needs: node >= 20 (apt nodejs), rustup (stable's wasm32-wasip1 rust-std,
# nightly with rust-src), binutils' ar. A tool that cannot be installed
# fails the run (set -e).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$PWD
start=$SECONDS
target=wasm32-wasip1

command -v node >/dev/null || {
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs >/dev/null
}
node -e 'require("node:wasi")' || { echo "this node ($(node --version)) has no node:wasi" >&2; exit 1; }
command -v ar >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq binutils >/dev/null
rustup target list --installed | grep -qx "$target" || rustup target add "$target" >/dev/null
rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal >/dev/null
rustup component list --toolchain nightly --installed | grep -q '^rust-src' ||
  rustup component add --toolchain nightly rust-src >/dev/null
echo "runtime: node $(node --version), node:wasi (preview1)"

# --no-turbo-fast-api-calls: Node 20's V8 crashes (SIGSEGV) in some wasm
# calls of node:wasi's C++ functions through V8's fast-API path
# (scripts/wasi-run.mjs).
export CARGO_TARGET_WASM32_WASIP1_RUNNER="node --no-turbo-fast-api-calls $root/scripts/wasi-run.mjs"
export CI=true
log=$(mktemp)
trap 'rm -f "$log"' EXIT

# ---- 1. the default build: hash vectors, golden traces, doctests ----
t=$SECONDS
if ! cargo test --target "$target" -p gomap --test hash_vectors --test replay -- --nocapture >"$log" 2>&1; then
  cat "$log"
  echo "wasm32: the hash vectors or the replay failed" >&2
  exit 1
fi
grep -E "match Go|maphash vectors|replayed [1-9]|golden-arm/" "$log"
cargo test --target "$target" -p gomap --doc
echo "wasm32 (panic=abort): vectors, traces and doctests in $((SECONDS - t)) s"

# ---- 2. the core suite with unwinding panics ----
t=$SECONDS
eh_dir=$root/target/wasm32-eh
lib=$eh_dir/wasi-lib
mkdir -p "$lib"
sysroot=$(rustc --print sysroot)/lib/rustlib/$target/lib/self-contained
cp "$sysroot/crt1-command.o" "$sysroot/libc.a" "$lib/"
# The shim is built by stable's rustc for wasm32-wasip1 (whose `core` is
# installed; nightly has none for this target): RUSTC_BOOTSTRAP for the two
# features that Rust's own unwind crate uses for the same code.
RUSTC_BOOTSTRAP=1 rustc --target "$target" --crate-type=lib --emit=obj -Copt-level=2 \
  -Cpanic=unwind -Ctarget-feature=+exception-handling \
  scripts/wasi-unwind.rs -o "$lib/wasi-unwind.o" 2>/dev/null
rm -f "$lib/libunwind.a"
ar rcs "$lib/libunwind.a" "$lib/wasi-unwind.o"
export RUSTFLAGS="-Cpanic=unwind -Ctarget-feature=+exception-handling -Cllvm-args=-wasm-use-legacy-eh=true \
-Clink-self-contained=no -Lnative=$lib -Clink-arg=$lib/crt1-command.o"
# Doctests stay with part 1: rustdoc does not take -Zbuild-std's sysroot.
cargo +nightly test -Zbuild-std=std,panic_unwind --target "$target" --target-dir "$eh_dir" \
  --config 'profile.dev.package."*".opt-level=2' -p gomap --lib --tests
echo "gomap's core suite on wasm32 with unwinding, under Node's WASI ($((SECONDS - t)) s)"
echo "wasm32 script: $((SECONDS - start)) s"
