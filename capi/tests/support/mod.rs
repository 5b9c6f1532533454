//! What the C ABI's tests that build C share: where this crate and the
//! static library cargo built for the test profile are.

use std::path::{Path, PathBuf};

/// This crate's directory (`capi/`).
pub fn manifest() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `target/<profile>`: a test binary lives in `target/<profile>/deps`.
fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    exe.parent().and_then(Path::parent).expect("target/<profile>/deps/<test>").to_path_buf()
}

/// The newest of `target/<profile>/libgomap_capi.a` (uplifted by `cargo build`)
/// and `target/<profile>/deps/libgomap_capi.a` (what `cargo test` builds): the
/// uplifted copy is stale after a source change that only `cargo test` saw.
pub fn static_lib() -> PathBuf {
    let dir = profile_dir();
    let mtime = |p: &PathBuf| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    [dir.join("libgomap_capi.a"), dir.join("deps").join("libgomap_capi.a")]
        .into_iter()
        .filter_map(|p| mtime(&p).map(|t| (t, p)))
        .max_by_key(|(t, _)| *t)
        .map(|(_, p)| p)
        .unwrap_or_else(|| {
            panic!(
                "libgomap_capi.a not found in {} (the lib's staticlib crate type should have been built)",
                dir.display()
            )
        })
}
