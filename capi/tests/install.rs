//! The C library as a C user gets it: `cargo cinstall` (cargo-c, configured
//! by `[package.metadata.capi]` in capi/Cargo.toml) into a staging directory,
//! then `examples/c/hello.c` built with nothing but what `pkg-config` says.
//!
//! * shared: `cargo cinstall --destdir D --prefix /usr/local`; the installed
//!   header is byte for byte `capi/include/gomap.h`, `gomap.pc` is
//!   prefix-relative with rustc's native static libs as `Libs.private`,
//!   `libgomap.so.X.Y.Z` carries the SONAME `libgomap.so.<semver-major>`
//!   (`0.MINOR` while the major is 0), and hello.c, linked with
//!   `pkg-config --cflags --libs gomap`, runs against it.
//! * static: `cargo cinstall --library-type staticlib` into a second staging
//!   directory; hello.c linked with `pkg-config --static --cflags --libs
//!   gomap` needs no libgomap.so at run time.
//! * the in-tree static link line of README.md, docs/c-api.md,
//!   examples/c/hello.c and tests/c_abi.rs names exactly the native libraries
//!   rustc prints for the staticlib (`--print native-static-libs`).
//!
//! Each cargo run uses its own `--target-dir` under `CARGO_TARGET_TMPDIR`:
//! it never contends with the outer `cargo test` for its target directory's
//! lock (which an inherited `CARGO_TARGET_DIR` would point it at), nor mixes
//! its artifacts (built with `--features capi`, cargo-c's crate types and
//! SONAME flags) into the outer build's. A missing
//! cargo-c, pkg-config, C compiler or readelf skips on a developer's machine
//! and fails under `CI=true` (`common::ci::missing`).

#[path = "../../tests/common/mod.rs"]
mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The workspace root (this crate is `capi/`).
fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().expect("capi/ has a parent").to_path_buf()
}

fn tmp(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("install").join(name)
}

/// The cargo that runs this test (`cargo +nightly test` gets nightly's),
/// without the outer run's `RUSTFLAGS`: a sanitizer run's flags would build a
/// library no plain C program links against, and what is tested here is the
/// library a user installs.
fn cargo() -> Command {
    let mut c = Command::new(env!("CARGO"));
    c.current_dir(root()).env_remove("RUSTFLAGS").env_remove("CARGO_ENCODED_RUSTFLAGS");
    c
}

fn works(cmd: &mut Command) -> bool {
    cmd.output().is_ok_and(|o| o.status.success())
}

/// Runs `cmd`; panics with its output unless it succeeds; returns stdout.
fn run(cmd: &mut Command, what: &str) -> String {
    let o = cmd.output().unwrap_or_else(|e| panic!("{what}: cannot run {cmd:?}: {e}"));
    let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{what} failed ({}): {cmd:?}\n--- stdout\n{stdout}\n--- stderr\n{stderr}", o.status);
    stdout
}

/// Checks the tools the install tests need: false (skip) when one is missing
/// on a developer's machine, a panic under `CI=true`.
fn tools_present() -> bool {
    let need = [
        (works(cargo().args(["cinstall", "--version"])), "cargo-c (`cargo install cargo-c --locked`)"),
        (works(Command::new("pkg-config").arg("--version")), "`pkg-config` on PATH"),
        (works(Command::new("cc").arg("--version")), "`cc` (a C compiler on PATH)"),
        (works(Command::new("readelf").arg("--version")), "`readelf` (binutils)"),
    ];
    need.iter().all(|&(ok, what)| ok || !common::ci::missing(what, "the cargo-c install test"))
}

/// `cargo cinstall -p gomap-capi --destdir tmp/NAME --prefix /usr/local`
/// plus `extra`, built in `tmp/NAME-target`; returns the staging directory.
fn cinstall(name: &str, extra: &[&str]) -> PathBuf {
    let destdir = tmp(name);
    let _ = std::fs::remove_dir_all(&destdir);
    let t = std::time::Instant::now();
    run(
        cargo()
            .args(["cinstall", "--locked", "-p", "gomap-capi", "--prefix", "/usr/local", "--destdir"])
            .arg(&destdir)
            .arg("--target-dir")
            .arg(tmp(&format!("{name}-target")))
            .args(extra),
        "cargo cinstall",
    );
    eprintln!("cargo cinstall {extra:?}: {:.1} s", t.elapsed().as_secs_f64());
    destdir
}

/// The one `gomap.pc` under `destdir` (cargo-c picks the libdir:
/// `lib/<multiarch>` on Debian, `lib64` or `lib` elsewhere).
fn find_pc(destdir: &Path) -> PathBuf {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.file_name().is_some_and(|n| n == "gomap.pc") {
                out.push(p);
            }
        }
    }
    let mut found = Vec::new();
    walk(destdir, &mut found);
    assert_eq!(found.len(), 1, "expected one gomap.pc under {}: {found:?}", destdir.display());
    found.pop().unwrap()
}

/// pkg-config reading only the staged `gomap.pc`, as a consumer of a DESTDIR
/// install does: the `.pc` says where the files will live once the staging
/// directory is copied to `/`, `PKG_CONFIG_SYSROOT_DIR` tells pkg-config
/// that this tree is rooted at `destdir` (the mechanism made for staged and
/// cross-compilation roots: it prefixes the `-I`/`-L` paths), and
/// `PKG_CONFIG_LIBDIR` replaces the default search path, so that a gomap.pc
/// installed on the machine cannot be picked up instead. Rewriting the
/// prefix (sed, or `--define-variable=prefix=`) would also work, but would
/// build against a `.pc` other than the one installed; that the file is
/// relocatable (paths under `${prefix}`) is checked on its text instead.
fn pkg_config(destdir: &Path, args: &[&str]) -> Vec<String> {
    let pc = find_pc(destdir);
    let out = run(
        Command::new("pkg-config")
            .env("PKG_CONFIG_SYSROOT_DIR", destdir)
            .env("PKG_CONFIG_LIBDIR", pc.parent().unwrap())
            .env_remove("PKG_CONFIG_PATH")
            .args(args)
            .arg("gomap"),
        "pkg-config",
    );
    out.split_whitespace().map(str::to_string).collect()
}

/// The staged libdir, as pkg-config's `-L` flag gives it.
fn libdir(destdir: &Path) -> PathBuf {
    let flags = pkg_config(destdir, &["--libs-only-L"]);
    let [l] = flags.as_slice() else { panic!("expected one -L flag, got {flags:?}") };
    let dir = PathBuf::from(l.strip_prefix("-L").unwrap());
    assert!(dir.starts_with(destdir), "{} is outside the staging dir {}", dir.display(), destdir.display());
    dir
}

/// `cc -std=c11 -Wall -Wextra -Werror examples/c/hello.c <flags> -o exe`.
fn build_hello(flags: &[String], exe: &Path) {
    run(
        Command::new("cc")
            .args(["-std=c11", "-Wall", "-Wextra", "-Werror"])
            .arg(root().join("examples/c/hello.c"))
            .args(flags)
            .arg("-o")
            .arg(exe),
        "cc examples/c/hello.c",
    );
}

fn check_hello_output(out: &str) {
    assert!(out.contains("two -> 2 (ok=1)") && out.contains("len=3"), "unexpected output of hello:\n{out}");
    for w in ["one = 1", "two = 2", "three = 3"] {
        assert!(out.contains(w), "hello did not print `{w}`:\n{out}");
    }
}

/// `readelf -d`'s dynamic section of `file`.
fn dynamic_section(file: &Path) -> String {
    run(Command::new("readelf").arg("-d").arg(file), "readelf -d")
}

/// Shared-library entries `[lib…]` of the `kind` lines (SONAME, NEEDED).
fn dyn_entries(dynamic: &str, kind: &str) -> Vec<String> {
    dynamic
        .lines()
        .filter(|l| l.contains(&format!("({kind})")))
        .filter_map(|l| l.split_once('[').and_then(|(_, r)| r.split_once(']')).map(|(n, _)| n.to_string()))
        .collect()
}

/// The SONAME cargo-c gives a semver-versioned library: `libgomap.so.MAJOR`,
/// or `libgomap.so.0.MINOR` while the major version is 0.
fn expected_soname() -> String {
    match env!("CARGO_PKG_VERSION_MAJOR") {
        "0" => format!("libgomap.so.0.{}", env!("CARGO_PKG_VERSION_MINOR")),
        major => format!("libgomap.so.{major}"),
    }
}

/// The flags after `Field:` in a `.pc` file.
fn pc_field<'a>(pc: &'a str, field: &str) -> Option<&'a str> {
    pc.lines().find_map(|l| l.strip_prefix(field)?.strip_prefix(':')).map(str::trim)
}

/// What rustc says a C program linking the staticlib needs besides it: one
/// `cargo rustc --crate-type staticlib -- --print native-static-libs=FILE`,
/// shared by the tests of this binary.
fn rustc_native_static_libs() -> &'static str {
    static LIBS: OnceLock<String> = OnceLock::new();
    LIBS.get_or_init(|| {
        let file = tmp("native-static-libs.txt");
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        run(
            cargo()
                .args(["rustc", "--locked", "-p", "gomap-capi", "--lib", "--crate-type", "staticlib", "--target-dir"])
                .arg(tmp("native-target"))
                .arg("--")
                .arg(format!("--print=native-static-libs={}", file.display())),
            "cargo rustc --print native-static-libs",
        );
        let libs = std::fs::read_to_string(&file).unwrap().split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(libs.contains("-l"), "rustc printed no native static libs: {libs:?}");
        eprintln!("rustc's native-static-libs: {libs}");
        libs
    })
}

#[test]
#[cfg_attr(miri, ignore = "runs cargo, cc and pkg-config")]
fn cinstall_shared_library_via_pkg_config() {
    if !tools_present() {
        return;
    }
    let destdir = cinstall("shared", &[]);

    // The header: capi/include/gomap.h itself, at <includedir>/gomap.h.
    let header = destdir.join("usr/local/include/gomap.h");
    let installed = std::fs::read(&header).unwrap_or_else(|e| panic!("{}: {e}", header.display()));
    assert!(
        installed == include_bytes!("../include/gomap.h"),
        "the installed {} differs from capi/include/gomap.h",
        header.display()
    );

    // gomap.pc: relocatable, -lgomap, rustc's native libs as Libs.private.
    let pc_text = std::fs::read_to_string(find_pc(&destdir)).unwrap();
    assert!(pc_text.lines().any(|l| l == "prefix=/usr/local"), "gomap.pc:\n{pc_text}");
    for var in ["libdir=", "includedir="] {
        let line = pc_text.lines().find(|l| l.starts_with(var)).unwrap_or_else(|| panic!("no {var} in:\n{pc_text}"));
        assert!(
            line[var.len()..].starts_with("${prefix}") || line[var.len()..].starts_with("${exec_prefix}"),
            "gomap.pc's {line} is not relative to its prefix (gomap.pc is not relocatable)"
        );
    }
    assert_eq!(pc_field(&pc_text, "Libs"), Some("-L${libdir} -lgomap"), "gomap.pc:\n{pc_text}");
    assert_eq!(pc_field(&pc_text, "Libs.private"), Some(rustc_native_static_libs()), "gomap.pc:\n{pc_text}");
    assert_eq!(pkg_config(&destdir, &["--modversion"]), [env!("CARGO_PKG_VERSION")]);

    // The shared library: real file, SONAME symlink, dev symlink.
    let lib = libdir(&destdir);
    let soname = expected_soname();
    let real = lib.join(format!("libgomap.so.{}", env!("CARGO_PKG_VERSION")));
    let dynamic = dynamic_section(&real);
    assert_eq!(
        dyn_entries(&dynamic, "SONAME"),
        std::slice::from_ref(&soname),
        "readelf -d {}:\n{dynamic}",
        real.display()
    );
    eprintln!("SONAME of {}: {soname}", real.display());
    for link in [soname.clone(), "libgomap.so".to_string()] {
        let target = std::fs::canonicalize(lib.join(&link)).unwrap_or_else(|e| panic!("{link}: {e}"));
        assert_eq!(target, std::fs::canonicalize(&real).unwrap(), "{link} does not lead to {}", real.display());
    }
    assert!(lib.join("libgomap.a").is_file(), "libgomap.a not installed in {}", lib.display());

    // hello.c with `pkg-config --cflags --libs gomap`, nothing else.
    let flags = pkg_config(&destdir, &["--cflags", "--libs"]);
    eprintln!("pkg-config --cflags --libs gomap: {}", flags.join(" "));
    let exe = tmp("hello-shared");
    build_hello(&flags, &exe);
    let needed = dyn_entries(&dynamic_section(&exe), "NEEDED");
    assert!(needed.contains(&soname), "hello does not need {soname} (NEEDED: {needed:?}): linked statically?");

    // It runs against the staged library.
    let out = run(Command::new(&exe).env("LD_LIBRARY_PATH", &lib), "hello (shared)");
    check_hello_output(&out);
    let ldd = run(Command::new("ldd").arg(&exe).env("LD_LIBRARY_PATH", &lib), "ldd hello");
    let resolved = ldd.lines().find(|l| l.trim_start().starts_with(&soname)).unwrap_or("");
    assert!(resolved.contains(&*lib.to_string_lossy()), "{soname} resolved outside {}:\n{ldd}", lib.display());
}

#[test]
#[cfg_attr(miri, ignore = "runs cargo, cc and pkg-config")]
fn cinstall_static_library_via_pkg_config() {
    if !tools_present() {
        return;
    }
    // A static-only install: with libgomap.so next to libgomap.a, `-lgomap`
    // would pick the shared library whatever pkg-config's --static says.
    let destdir = cinstall("static", &["--library-type", "staticlib"]);
    let lib = libdir(&destdir);
    assert!(lib.join("libgomap.a").is_file() && !lib.join("libgomap.so").exists(), "{}", lib.display());

    let flags = pkg_config(&destdir, &["--static", "--cflags", "--libs"]);
    eprintln!("pkg-config --static --cflags --libs gomap: {}", flags.join(" "));
    let native: Vec<&str> = rustc_native_static_libs().split(' ').collect();
    assert!(
        native.iter().all(|l| flags.iter().any(|f| f == l)),
        "pkg-config --static lacks some of {native:?}: {flags:?}"
    );
    let exe = tmp("hello-static");
    build_hello(&flags, &exe);
    let needed = dyn_entries(&dynamic_section(&exe), "NEEDED");
    assert!(!needed.iter().any(|n| n.starts_with("libgomap")), "hello needs a shared libgomap: {needed:?}");
    let out = run(Command::new(&exe).env_remove("LD_LIBRARY_PATH"), "hello (static)");
    check_hello_output(&out);
}

/// The `-l…` flags that follow `libgomap_capi.a` in `text` (the in-tree
/// static link line), once per occurrence; `\` continuations and the `*` of
/// a C comment are skipped.
fn documented_link_lines(text: &str) -> Vec<String> {
    text.match_indices("libgomap_capi.a ")
        .map(|(i, m)| {
            text[i + m.len()..]
                .split_whitespace()
                .filter(|w| *w != "\\" && *w != "*")
                .take_while(|w| w.starts_with("-l"))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .filter(|l| !l.is_empty())
        .collect()
}

#[test]
#[cfg_attr(miri, ignore = "runs cargo")]
fn documented_native_static_libs_are_rustcs() {
    let libs = rustc_native_static_libs();
    let c_abi = include_str!("c_abi.rs");
    let (_, rest) =
        c_abi.split_once("const NATIVE_STATIC_LIBS: &str = \"").expect("tests/c_abi.rs's NATIVE_STATIC_LIBS");
    assert_eq!(rest.split_once('"').unwrap().0, libs, "capi/tests/c_abi.rs's NATIVE_STATIC_LIBS");
    for (file, text) in [
        ("README.md", include_str!("../../README.md")),
        ("docs/c-api.md", include_str!("../../docs/c-api.md")),
        ("examples/c/hello.c", include_str!("../../examples/c/hello.c")),
    ] {
        let lines = documented_link_lines(text);
        assert!(!lines.is_empty(), "{file} has no in-tree static link line (`… libgomap_capi.a -l…`)");
        for l in lines {
            assert_eq!(l, libs, "{file}'s link line after libgomap_capi.a: rustc prints `{libs}`");
        }
    }
}
