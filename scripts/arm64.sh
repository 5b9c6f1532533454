#!/usr/bin/env bash
# gomap on aarch64 against real Go on arm64, on an x86-64 machine (qemu-user).
#
#   scripts/arm64.sh           install what is missing, then:
#     1. build go-ref/cmd/hashvec with GOARCH=arm64 and run it under
#        qemu-aarch64 (whose default CPU has AES); its output must equal
#        tests/data/hash_vectors_arm64.json byte for byte;
#     2. build go-ref/cmd/oracle the same way and regenerate the traces of
#        tests/golden-arm64/ under qemu, each twice (identical bytes) and
#        re-executed by `oracle -replay`; they must equal the committed files;
#     3. build gomap's tests for aarch64-unknown-linux-gnu (Debian's cross
#        linker) and run tests/hash_vectors.rs and tests/replay.rs under
#        qemu-aarch64 (asm_arm64.s's AES path, the fallback, the golden
#        traces: tests/golden-arm64/ and the fallback ones of tests/golden/).
#   scripts/arm64.sh --vectors regenerate tests/data/hash_vectors_arm64.json
#   scripts/arm64.sh --golden  regenerate tests/golden-arm64/*.jsonl
#
# Needs: apt (qemu-user, gcc-aarch64-linux-gnu, libc6-dev-arm64-cross),
# rustup (target aarch64-unknown-linux-gnu), Go 1.24.11 in .venv-go.
set -euo pipefail
# shellcheck source=scripts/lib/goarch.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/goarch.sh"
goarch_mode 19 "$@"

need=()
command -v qemu-aarch64 >/dev/null || need+=(qemu-user)
command -v aarch64-linux-gnu-gcc >/dev/null || need+=(gcc-aarch64-linux-gnu)
[ -e /usr/aarch64-linux-gnu/lib/libc.so.6 ] || need+=(libc6-dev-arm64-cross)
apt_install "${need[@]}"
rustup target list --installed | grep -qx aarch64-unknown-linux-gnu ||
  rustup target add aarch64-unknown-linux-gnu >/dev/null
QEMU="qemu-aarch64 -L /usr/aarch64-linux-gnu"
RUN=($QEMU)
LABEL="Go arm64 (qemu)"
go_tools GOARCH=arm64

# ---- 1. hash vectors ----
check_vectors tests/data/hash_vectors_arm64.json

# ---- 2. golden traces ----
# type scenario ops snapshot-every hash-path (seed 1; tests/golden-arm64/README.md)
SET='
u64  grow  300 50 aes
u64  iter  300 50 aes
str  grow  300 50 aes
str  mixed 300 50 aes
f64  grow  300 50 aes
f64  iter  400 60 aes
comp mixed 300 50 aes
u64  grow  300 50 fallback
'
check_traces tests/golden-arm64 "$SET"

# ---- 3. gomap's tests on aarch64 ----
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER="$QEMU"
# Both must exercise the AES path under qemu: CI=true turns a missing AES
# feature into a failure (tests/common/ci.rs) instead of a skip.
CI=true cargo test --target aarch64-unknown-linux-gnu -p gomap --test hash_vectors --test replay
