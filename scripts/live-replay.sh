#!/usr/bin/env bash
# Live parity check: generates fresh traces from real Go 1.24.11 (classic map)
# with a random seed (printed; GOMAP_LIVE_SEED=<seed> reproduces it) and
# replays them on gomap operation by operation. Installs Go if missing.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-target/live-traces}
rm -rf "$dir"
bash scripts/gen-golden.sh --live "$dir"
GOMAP_TRACE_DIR="$(realpath "$dir")" cargo test --release --test replay live_traces -- --nocapture
GOMAP_LARGE_TRACE_DIR="$(realpath "$dir")/large" cargo test --release --test replay_large live_large_traces -- --nocapture
