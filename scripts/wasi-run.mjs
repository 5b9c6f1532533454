#!/usr/bin/env node
// Cargo's runner for wasm32-wasip1: runs a WASI (preview1) program under
// Node's built-in `node:wasi`, which comes with Debian's `nodejs` package
// (Node 20 here).
//
//   CARGO_TARGET_WASM32_WASIP1_RUNNER="node --no-turbo-fast-api-calls $PWD/scripts/wasi-run.mjs"
//   node --no-turbo-fast-api-calls scripts/wasi-run.mjs prog.wasm [args...]
//
// The program gets its arguments (argv[0] is the .wasm's path, as a native
// test binary gets its own), the whole environment, and two directories
// preopened at their own absolute paths: the repository root (tests read
// their data through `env!("CARGO_MANIFEST_DIR")`, an absolute path) and
// /tmp. Node exits with the program's exit code (`proc_exit`, or 0 when
// `_start` returns); a wasm trap (a Rust panic, which aborts on this target)
// prints Node's error and exits with 1 (Node's uncaught-exception code).
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';

// Node 20's V8 (11.3) can crash with SIGSEGV (in KeyedLoadIC, seen from
// gdb) when optimised wasm code calls node:wasi's syscalls, which Node
// registers as V8 "fast API" C++ functions: the whole lib suite of
// scripts/wasm32.sh's unwinding build crashed this way on every run after
// its last test had passed, and passed 5 of 5 runs with the fast path off.
// Give the flag on node's command line; set here, once the heap is up, it
// covers only code compiled afterwards.
setFlagsFromString('--no-turbo-fast-api-calls');

// node:wasi warns that it is experimental on every run; the warning would
// interleave with the test output.
const emitWarning = process.emitWarning;
process.emitWarning = (warning, ...rest) => {
  const type = typeof rest[0] === 'string' ? rest[0] : rest[0]?.type;
  if (type === 'ExperimentalWarning' && String(warning).includes('WASI')) return;
  emitWarning.call(process, warning, ...rest);
};
const { WASI } = await import('node:wasi');

const [wasmPath, ...args] = process.argv.slice(2);
if (!wasmPath) {
  console.error('usage: node scripts/wasi-run.mjs prog.wasm [args...]');
  process.exit(2);
}
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const preopens = { [root]: root, '/tmp': '/tmp' };

const wasi = new WASI({
  version: 'preview1',
  args: [wasmPath, ...args],
  env: process.env,
  preopens,
  returnOnExit: true,
});
const module = await WebAssembly.compile(await readFile(wasmPath));
const instance = await WebAssembly.instantiate(module, wasi.getImportObject());
process.exitCode = wasi.start(instance);
