//! Build script: exports gomap's C header directory to dependent crates.
//!
//! `links = "gomap"` plus `cargo:include=` lets a `-sys`-style dependent read
//! `DEP_GOMAP_INCLUDE` and compile C against `include/gomap.h`.
//!
//! The pkg-config file is cargo-c's job (`[package.metadata.capi]` in
//! Cargo.toml): `cargo cinstall` installs a relocatable `gomap.pc`, and
//! `cargo cbuild` writes `gomap-uninstalled.pc` for the build tree.

use std::env;
use std::path::PathBuf;

fn main() {
    let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    println!("cargo:rerun-if-changed=include/gomap.h");
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:include={}", manifest.join("include").display());
}
