#!/usr/bin/env bash
# Real Go on arm (GOARCH=arm, GOARM=7) under qemu-arm, against gomap built
# for armv7 (armv7-unknown-linux-gnueabihf) and run under qemu-arm too.
#
#   scripts/arm32.sh           install what is missing, then:
#     1. build go-ref/cmd/hashvec with GOARCH=arm and run it under qemu-arm
#        (Go's arm has no AES path: the file holds the fallback section
#        only); its output must equal tests/data/hash_vectors_arm.json;
#     2. build go-ref/cmd/oracle the same way and regenerate the traces of
#        tests/golden-arm/ under qemu, each twice (identical bytes) and
#        re-executed by `oracle -replay`; they must equal the committed
#        files;
#     3. build gomap's tests for armv7 (Debian's arm-linux-gnueabihf cross
#        linker) and run them under qemu-arm: the hash vectors, the
#        golden traces of every 32-bit file and the same set recorded by
#        Go arm with a random seed (live), then the whole core suite
#        (its tests against a live oracle build Go's arm oracle and run it
#        through GOMAP_RUNNER, as they run child processes).
#   scripts/arm32.sh --vectors regenerate tests/data/hash_vectors_arm.json
#   scripts/arm32.sh --golden  regenerate tests/golden-arm/*.jsonl
#
# Needs: apt (qemu-user, gcc-arm-linux-gnueabihf, libc6-dev-armhf-cross),
# rustup (the armv7 rust-std), Go 1.24.11 in .venv-go. A tool that cannot
# be installed fails the run (set -e).
set -euo pipefail
# shellcheck source=scripts/lib/goarch.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/goarch.sh"
goarch_mode 23 "$@"

need=()
command -v qemu-arm >/dev/null || need+=(qemu-user)
command -v arm-linux-gnueabihf-gcc >/dev/null || need+=(gcc-arm-linux-gnueabihf)
[ -e /usr/arm-linux-gnueabihf/lib/libc.so.6 ] || need+=(libc6-dev-armhf-cross)
apt_install "${need[@]}"
rustup target list --installed | grep -qx armv7-unknown-linux-gnueabihf ||
  rustup target add armv7-unknown-linux-gnueabihf >/dev/null
RUN=(qemu-arm)
LABEL="Go arm (qemu)"
NO_AES=1
go_tools GOARCH=arm GOARM=7

# ---- 1. hash vectors ----
check_vectors tests/data/hash_vectors_arm.json

# ---- 2. golden traces ----
# type scenario ops snapshot-every hash-path (seed 1, all on hash32.go's
# path: Go's arm has no AES; tests/golden-arm/README.md)
SET='
u32  grow     300 50 fallback
u64  grow     300 50 fallback
u64  iter     300 50 fallback
str  mixed    300 50 fallback
f64  iter     400 60 fallback
comp mixed    300 50 fallback
c128 mixed    300 50 fallback
'
check_traces tests/golden-arm "$SET"

[ "$MODE" = check ] || exit 0

# ---- 3. gomap on armv7, under qemu-arm ----
target=armv7-unknown-linux-gnueabihf
runner="qemu-arm -L /usr/arm-linux-gnueabihf"
export CARGO_TARGET_ARMV7_UNKNOWN_LINUX_GNUEABIHF_LINKER=arm-linux-gnueabihf-gcc
export CARGO_TARGET_ARMV7_UNKNOWN_LINUX_GNUEABIHF_RUNNER="$runner"
export GOMAP_RUNNER="$runner"
t=$SECONDS
if ! CI=true cargo test --target "$target" -p gomap --test hash_vectors --test replay \
  -- --nocapture >"$WORK/armv7.log" 2>&1; then
  cat "$WORK/armv7.log"
  echo "armv7: the hash vectors or the replay failed" >&2
  exit 1
fi
grep -E "match Go|maphash vectors|replayed [1-9]|golden-arm/" "$WORK/armv7.log"
# The same trace set from Go arm with a random seed, replayed on armv7.
live_traces "$SET"
GOMAP_TRACE_DIR="$WORK/live" CI=true cargo test --target "$target" -p gomap --test replay live_traces \
  -- --nocapture 2>&1 | grep -E "replayed|live_traces"
CI=true cargo test --target "$target" -p gomap
echo "gomap's tests on armv7 under qemu-arm ($((SECONDS - t)) s)"
