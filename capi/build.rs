//! Build script: exports gomap's C header directory to dependent crates and
//! writes a pkg-config file for C users.
//!
//! * `links = "gomap"` plus `cargo:include=` lets a `-sys`-style dependent read
//!   `DEP_GOMAP_INCLUDE` and compile C against `include/gomap.h`.
//! * `gomap.pc` is written next to the built libraries (`target/<profile>/`)
//!   with the absolute paths of this build, so `pkg-config --libs gomap` works
//!   with `PKG_CONFIG_PATH=target/release`.

use std::env;
use std::fs;
use std::path::PathBuf;

fn main() {
    let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let include = manifest.join("include");
    println!("cargo:rerun-if-changed=include/gomap.h");
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:include={}", include.display());

    // OUT_DIR is target/<profile>/build/gomap-<hash>/out; the libraries land
    // three levels up, in target/<profile>.
    let out = PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    let Some(libdir) = out.ancestors().nth(3).map(PathBuf::from) else { return };
    let version = env::var("CARGO_PKG_VERSION").unwrap_or_default();
    let pc = format!(
        "prefix={libdir}\nlibdir={libdir}\nincludedir={inc}\n\n\
         Name: gomap\nDescription: Go's classic runtime hash map as a C library\nVersion: {version}\n\
         Libs: -L${{libdir}} -lgomap_capi\nLibs.private: -lpthread -ldl -lm\nCflags: -I${{includedir}}\n",
        libdir = libdir.display(),
        inc = include.display(),
    );
    // Failing to write the .pc file must not fail the build of the library.
    let _ = fs::write(libdir.join("gomap.pc"), pc);
}
