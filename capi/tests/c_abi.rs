//! Builds `capi/tests/c/test_gomap.c` and `examples/c/hello.c` against the static
//! library cargo built for this test profile (`target/<profile>/libgomap_capi.a`:
//! the lib's `staticlib` crate type is built whenever the lib is) and runs
//! them: with AddressSanitizer + UndefinedBehaviorSanitizer, and, when
//! `valgrind` is on PATH, a plain build under valgrind's leak checker.
//!
//! Skipped under Miri; a missing C compiler or valgrind skips with a note on
//! a developer's machine and fails under `CI=true` (`common::ci::missing`).

/// The root crate's shared test helpers: `ci` alone (the others need
/// gomap-inspector, not a dependency of this crate).
#[path = "../../tests/common"]
mod common {
    pub mod ci;
}
mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::ci::on_path;
use support::{manifest, static_lib};

/// What a C program linking the staticlib needs besides it: rustc's
/// `--print native-static-libs` for this crate (tests/install.rs checks that
/// this, the docs' link lines and rustc agree).
const NATIVE_STATIC_LIBS: &str = "-lgcc_s -lutil -lrt -lpthread -lm -ldl -lc";

fn out_dir() -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("c_abi");
    std::fs::create_dir_all(&d).expect("create tmpdir");
    d
}

/// Compiles `src` to `out` with `extra` flags; panics with the compiler's
/// output on failure.
fn compile(src: &Path, out: &Path, extra: &[&str]) {
    let lib = static_lib();
    let mut cmd = Command::new("cc");
    cmd.args(["-std=c11", "-Wall", "-Wextra", "-Werror", "-g"])
        .args(extra)
        .arg("-I")
        .arg(manifest().join("include"))
        .arg(src)
        .arg(&lib)
        .args(NATIVE_STATIC_LIBS.split(' '))
        .arg("-o")
        .arg(out);
    let o = cmd.output().expect("run cc");
    assert!(
        o.status.success(),
        "cc failed for {}:\n{}{}",
        src.display(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

fn run(cmd: &mut Command, what: &str) -> String {
    let o = cmd.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(o.status.success(), "{what} failed ({}):\n--- stdout\n{stdout}\n--- stderr\n{stderr}", o.status);
    eprintln!("{what}: ok\n{stdout}{stderr}");
    stdout
}

fn skip() -> bool {
    if cfg!(miri) {
        return true;
    }
    !on_path("cc") && common::ci::missing("`cc` (a C compiler on PATH)", "the C ABI tests")
}

const SAN: &[&str] = &["-O1", "-fsanitize=address,undefined", "-fno-omit-frame-pointer", "-fno-sanitize-recover=all"];

#[test]
fn c_tests_under_asan_ubsan() {
    if skip() {
        return;
    }
    let exe = out_dir().join("test_gomap_asan");
    compile(&manifest().join("tests/c/test_gomap.c"), &exe, SAN);
    let out = run(
        Command::new(&exe)
            .env("GOMAP_TEST_FORK", "1")
            .env("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0:halt_on_error=1")
            .env("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1"),
        "test_gomap (ASan+UBSan)",
    );
    assert!(out.contains("all checks passed"));
}

#[test]
fn c_tests_under_valgrind() {
    if skip() {
        return;
    }
    if !on_path("valgrind") && common::ci::missing("`valgrind` on PATH", "the C tests under valgrind") {
        return;
    }
    let exe = out_dir().join("test_gomap_plain");
    compile(&manifest().join("tests/c/test_gomap.c"), &exe, &["-O1"]);
    let out = run(
        Command::new("valgrind")
            .args(["-q", "--error-exitcode=1", "--leak-check=full", "--errors-for-leak-kinds=definite,indirect"])
            .arg(&exe),
        "test_gomap (valgrind)",
    );
    assert!(out.contains("all checks passed"));
}

#[test]
fn c_example_hello() {
    if skip() {
        return;
    }
    let exe = out_dir().join("hello_asan");
    compile(&manifest().join("../examples/c/hello.c"), &exe, SAN);
    let out = run(&mut Command::new(&exe), "examples/c/hello.c");
    assert!(out.contains("len=3"), "unexpected output: {out}");
}
