#!/usr/bin/env bash
# gomap on i686 against real Go on 386, natively on an x86-64 Linux machine
# (both run 32-bit x86 binaries without emulation).
#
#   scripts/x86-32.sh           install what is missing, then:
#     1. build go-ref/cmd/hashvec with GOARCH=386 and run it; its output
#        must equal tests/data/hash_vectors_386.json byte for byte (both
#        paths: asm_386.s's AES hash and hash32.go's fallback);
#     2. build go-ref/cmd/oracle the same way and regenerate the traces of
#        tests/golden-386/, each twice (identical bytes) and re-executed by
#        `oracle -replay`; they must equal the committed files;
#     3. build gomap's tests for i686-unknown-linux-gnu (Debian's
#        i686-linux-gnu-gcc as the linker) and run tests/hash_vectors.rs and
#        tests/replay.rs (the 386 vectors and traces), the same trace set
#        recorded by Go 386 with a random seed (live), then the rest of
#        the core crate's suite, natively.
#   scripts/x86-32.sh --vectors regenerate tests/data/hash_vectors_386.json
#   scripts/x86-32.sh --golden  regenerate tests/golden-386/*.jsonl
#
# Needs: apt (gcc-i686-linux-gnu, libc6-dev-i386-cross, libc6-i386,
# lib32gcc-s1), rustup
# (target i686-unknown-linux-gnu), Go 1.24.11 in .venv-go. A tool that
# cannot be installed fails the run (set -e).
set -euo pipefail
# shellcheck source=scripts/lib/goarch.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/goarch.sh"
goarch_mode 21 "$@"

# Debian's i686 cross linker (not gcc-multilib, which conflicts with the
# aarch64 cross compiler scripts/arm64.sh installs) and the i386 loader the
# test binaries run with (/lib/ld-linux.so.2, from libc6-i386).
need=()
command -v i686-linux-gnu-gcc >/dev/null || need+=(gcc-i686-linux-gnu)
[ -e /usr/i686-linux-gnu/lib/libc.so.6 ] || need+=(libc6-dev-i386-cross)
[ -e /lib/ld-linux.so.2 ] || need+=(libc6-i386)
# libgcc_s.so.1 for i386, which Rust's std links (dynamic unwinder): a
# machine without lib32gcc-s1 fails the first test binary with "error while
# loading shared libraries: libgcc_s.so.1" (seen on a fresh machine).
[ -e /usr/lib32/libgcc_s.so.1 ] || need+=(lib32gcc-s1)
apt_install "${need[@]}"
rustup target list --installed | grep -qx i686-unknown-linux-gnu ||
  rustup target add i686-unknown-linux-gnu >/dev/null
RUN=()
LABEL="Go 386"
go_tools GOARCH=386

# ---- 1. hash vectors ----
check_vectors tests/data/hash_vectors_386.json
# The fallback section alone, with the runtime choosing it at startup.
GODEBUG=cpu.aes=off "$WORK/hashvec" -out "$WORK/noaes.json" 2>/dev/null
if ! diff -q <(grep '"path":"fallback"' tests/data/hash_vectors_386.json | sed 's/,$//') \
  <(grep '"path":"fallback"' "$WORK/noaes.json" | sed 's/,$//') >/dev/null; then
  echo "GODEBUG=cpu.aes=off gives another fallback section than tests/data/hash_vectors_386.json" >&2
  exit 1
fi

# ---- 2. golden traces ----
# type scenario ops snapshot-every hash-path (seed 1; tests/golden-386/README.md)
SET='
u32  grow     300 50 aes
u32  samesize 500 80 aes
u64  grow     300 50 aes
u64  iter     300 50 aes
u64  clear    300 50 aes
u64  clone    300 50 aes
str  grow     300 50 aes
str  mixed    300 50 aes
f64  iter     400 60 aes
comp mixed    300 50 aes
c128 mixed    300 50 aes
big  grow     200 50 aes
u32  grow     300 50 fallback
u64  grow     300 50 fallback
str  mixed    300 50 fallback
'
check_traces tests/golden-386 "$SET"

# ---- 3. gomap's tests on i686 ----
# The core crate's whole suite (the C ABI is 64-bit only, so -p gomap).
# CI=true turns a missing AES feature or tool into a failure
# (tests/common/ci.rs) instead of a skip.
export CARGO_TARGET_I686_UNKNOWN_LINUX_GNU_LINKER=i686-linux-gnu-gcc
t=$SECONDS
if ! CI=true cargo test --target i686-unknown-linux-gnu -p gomap --test hash_vectors --test replay \
  -- --nocapture >"$WORK/i686.log" 2>&1; then
  cat "$WORK/i686.log"
  echo "i686: the hash vectors or the replay failed" >&2
  exit 1
fi
grep -E "match Go|maphash vectors|replayed [1-9]" "$WORK/i686.log"
# The same trace set from Go 386 with a random seed, replayed on i686.
live_traces "$SET"
GOMAP_TRACE_DIR="$WORK/live" CI=true cargo test --target i686-unknown-linux-gnu -p gomap --test replay live_traces \
  -- --nocapture 2>&1 | grep -E "replayed|live_traces"
CI=true cargo test --target i686-unknown-linux-gnu -p gomap
echo "gomap's tests on i686 ($((SECONDS - t)) s)"
