#!/usr/bin/env bash
# The runtime example (examples/runtime/runtime.c), built the way a language
# runtime would build it: against libgomap as `cargo cinstall` installs it,
# with nothing but `pkg-config`. Checks (issue 15, "the proof"):
#   * shared and static builds print the same program output, and the
#     runtime's own count says every object was released exactly once;
#   * under AddressSanitizer + UBSan, with libgomap itself built with
#     -Zsanitizer=address (nightly), so the map code is checked too: no
#     report, no leak;
#   * under valgrind (memcheck, leak check): no error, no leak;
#   * two processes with the same --seed print the same iteration order,
#     and another seed a different one.
# Needs cargo-c, nightly with rust-src, a C compiler, pkg-config, valgrind
# (.ci/run installs them). Measured on the 2-core VM: 18 s with fresh
# target dirs (two cargo-c builds of gomap-capi), 3 s once built.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=target/runtime
target=x86_64-unknown-linux-gnu
rm -rf "$out/plain" "$out/static" "$out/asan"
mkdir -p "$out"

step() { echo "== runtime: $1"; }

step "install libgomap with cargo-c: shared, and static-only in a second prefix"
cargo cinstall -p gomap-capi --release --destdir "$out/plain" --prefix /usr --libdir /usr/lib \
  --target-dir target/runtime-plain >/dev/null
cargo cinstall -p gomap-capi --release --library-type staticlib --destdir "$out/static" --prefix /usr \
  --libdir /usr/lib --target-dir target/runtime-plain >/dev/null
step "install an AddressSanitizer build of libgomap (nightly)"
RUSTFLAGS="-Zsanitizer=address" cargo +nightly cinstall -p gomap-capi --release --library-type staticlib \
  --destdir "$out/asan" --prefix /usr --libdir /usr/lib --target "$target" --target-dir target/runtime-asan >/dev/null
if ! nm "$out/asan/usr/lib/libgomap.a" 2>/dev/null | grep '__asan_report_load' >/dev/null; then
  echo "runtime: the ASan libgomap.a is not instrumented" >&2
  exit 1
fi

pc() { PKG_CONFIG_SYSROOT_DIR="$1" PKG_CONFIG_PATH="$1/usr/lib/pkgconfig" pkg-config "${@:2}" gomap; }
cflags=(-std=c11 -Wall -Wextra -Werror -O1 -g)
src=examples/runtime/runtime.c
# shellcheck disable=SC2046 # pkg-config's words are meant to split
cc "${cflags[@]}" "$src" $(pc "$out/plain" --cflags --libs) -o "$out/runtime-shared"
# shellcheck disable=SC2046
cc "${cflags[@]}" "$src" $(pc "$out/static" --static --cflags --libs) -o "$out/runtime-static"
# shellcheck disable=SC2046
cc "${cflags[@]}" -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer \
  "$src" $(pc "$out/asan" --static --cflags --libs) -o "$out/runtime-asan"

step "shared library"
LD_LIBRARY_PATH="$out/plain/usr/lib" "$out/runtime-shared" | tee "$out/shared.txt"
step "static library"
"$out/runtime-static" >"$out/static.txt"
step "ASan + UBSan, libgomap instrumented"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 "$out/runtime-asan" >"$out/asan.txt"
step "valgrind"
valgrind -q --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite,indirect,possible \
  "$out/runtime-static" >"$out/valgrind.txt"
for f in static asan valgrind; do
  cmp "$out/shared.txt" "$out/$f.txt" || { echo "runtime: $f output differs" >&2; exit 1; }
done
grep -q ', 0 live objects$' "$out/shared.txt"

step "fixed seed: two processes agree"
"$out/runtime-static" --seed 7 >"$out/seed7a.txt"
"$out/runtime-static" --seed 7 >"$out/seed7b.txt"
"$out/runtime-static" --seed 8 >"$out/seed8.txt"
cmp "$out/seed7a.txt" "$out/seed7b.txt"
if cmp -s "$out/seed7a.txt" "$out/seed8.txt"; then
  echo "runtime: seeds 7 and 8 printed the same iteration order" >&2
  exit 1
fi
grep '^order:' "$out/seed7a.txt"
echo "runtime: ok"
