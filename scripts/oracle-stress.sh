#!/usr/bin/env bash
# Stress the Go oracle's own checks under GC and scheduler pressure.
#
#   scripts/oracle-stress.sh [RUNS [JOBS]]     default 1000 runs, 2 parallel jobs
#
# One run = one trace of a random type, scenario and seed (hash path aes, 300 ops, 150
# for big), generated twice and compared, then re-executed with `oracle -replay`: the
# checks scripts/gen-golden.sh makes, one small trace at a time. Runs with GOGC=1 and
# GOMAXPROCS=16 (override by setting them), so GC cycles start and threads are created
# often, inside the traced operations if anything lets them. Prints every failure with
# what reproduces it and ends with "runs=N failures=F"; exits 1 if F > 0.
# Types and scenarios are read from `oracle -h`.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RUNS=${1:-1000}
JOBS=${2:-2}
GO=$ROOT/.venv-go/bin/go
[ -x "$GO" ] || { echo "no $GO: run scripts/gen-golden.sh once to install Go" >&2; exit 1; }
export GOTOOLCHAIN=local GOEXPERIMENT=noswissmap GOFLAGS=
export GOGC=${GOGC:-1} GOMAXPROCS=${GOMAXPROCS:-16}

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
ORACLE=$WORK/oracle
(cd "$ROOT/go-ref" && "$GO" build -ldflags=-checklinkname=0 -o "$ORACLE" ./cmd/oracle)
help=$("$ORACLE" -h 2>&1 || true)
read -r -a TYPES <<<"$(sed -n 's/.*map type: //p' <<<"$help" | tr -d ',' | sed 's/ *(default.*//')"
read -r -a SCENS <<<"$(sed -n 's/.*scenario: //p' <<<"$help" | tr -d ',' | sed 's/ *(default.*//')"

# worker J RUNS: prints one line per failure, then "done J F"
worker() {
  local j=$1 n=$2 d=$WORK/w$1 fail=0 i typ scen seed ops what
  mkdir -p "$d"
  for ((i = 0; i < n; i++)); do
    typ=${TYPES[$((RANDOM % ${#TYPES[@]}))]}
    scen=${SCENS[$((RANDOM % ${#SCENS[@]}))]}
    seed=$((RANDOM * 32768 + RANDOM))
    ops=300; [ "$typ" = big ] && ops=150
    what=
    for f in a b; do
      "$ORACLE" -type "$typ" -scenario "$scen" -seed "$seed" -ops "$ops" -snap 50 -out "$d/$f" 2>"$d/err" ||
        what="GENERATION FAILED ($(head -c 200 "$d/err"))"
      [ -z "$what" ] || break
    done
    if [ -z "$what" ] && ! cmp -s "$d/a" "$d/b"; then what="NOT DETERMINISTIC"; fi
    if [ -z "$what" ] && ! "$ORACLE" -replay "$d/a" 2>"$d/err"; then
      what="REPLAY MISMATCH ($(head -c 200 "$d/err"))"
    fi
    if [ -n "$what" ]; then
      fail=$((fail + 1))
      echo "$what: -type $typ -scenario $scen -seed $seed -ops $ops -snap 50"
    fi
  done
  echo "done $j $fail"
}

start=$SECONDS
per=$((RUNS / JOBS))
for ((j = 0; j < JOBS; j++)); do
  n=$per; [ "$j" = 0 ] && n=$((RUNS - per * (JOBS - 1)))
  worker "$j" "$n" >"$WORK/out$j" &
done
wait
fails=0
for ((j = 0; j < JOBS; j++)); do
  grep -v '^done ' "$WORK/out$j" || true
  fails=$((fails + $(sed -n 's/^done [0-9]* //p' "$WORK/out$j")))
done
echo "runs=$RUNS failures=$fails GOGC=$GOGC GOMAXPROCS=$GOMAXPROCS jobs=$JOBS wall=$((SECONDS - start))s"
[ "$fails" = 0 ]
