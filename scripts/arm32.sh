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
# shellcheck source=scripts/lib/goarch.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/goarch.sh"
goarch_mode 20 "$@"

need=()
command -v qemu-arm >/dev/null || need+=(qemu-user)
apt_install "${need[@]}"
RUN=(qemu-arm)
LABEL="Go arm (qemu)"
NO_AES=1
go_tools GOARCH=arm GOARM=7

# ---- 1. hash vectors ----
check_vectors tests/data/hash_vectors_arm.json

# ---- 2. golden traces ----
# type scenario ops snapshot-every hash-path (seed 1, all on hash32.go's
# path: Go's arm has no AES; tests/golden-arm/README.md)
SET='
u32  grow     300 50 fallback
u64  grow     300 50 fallback
u64  iter     300 50 fallback
str  mixed    300 50 fallback
f64  iter     400 60 fallback
comp mixed    300 50 fallback
c128 mixed    300 50 fallback
'
check_traces tests/golden-arm "$SET"
