//! The workspace's shape, as `cargo metadata` reports it: four crates,
//! only the C-ABI crate builds C libraries, so a Rust program that depends
//! on `gomap` (or on the inspector) compiles no staticlib or cdylib, and
//! `gomap`'s default build depends on libc, rand and rand_chacha only
//! (serde and the derive macro come with the optional `serde` and `derive`
//! features).

use std::process::Command;

use gomap_inspector::json::Json;

#[test]
#[cfg_attr(miri, ignore = "runs cargo")]
#[cfg_attr(target_os = "wasi", ignore = "WASI has no processes: runs cargo metadata")]
fn four_crates_and_only_the_capi_builds_c_libraries() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--no-deps", "--offline"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo metadata runs");
    assert!(out.status.success(), "cargo metadata: {}", String::from_utf8_lossy(&out.stderr));
    let meta = Json::parse(&out.stdout).expect("cargo metadata prints JSON");
    let mut crates: Vec<(String, Vec<String>)> = meta
        .get("packages")
        .arr()
        .iter()
        .map(|p| {
            let not_lib = ["test", "bench", "example", "bin", "custom-build"];
            let lib =
                p.get("targets").arr().iter().find(|t| t.get("kind").arr().iter().all(|k| !not_lib.contains(&k.str())));
            let types =
                lib.map_or(Vec::new(), |t| t.get("crate_types").arr().iter().map(|c| c.str().to_string()).collect());
            (p.get("name").str().to_string(), types)
        })
        .collect();
    crates.sort();
    let want: Vec<(String, Vec<String>)> = vec![
        ("gomap".into(), vec!["lib".into()]),
        ("gomap-capi".into(), vec!["rlib".into(), "staticlib".into(), "cdylib".into()]),
        ("gomap-derive".into(), vec!["proc-macro".into()]),
        ("gomap-inspector".into(), vec!["lib".into()]),
    ];
    assert_eq!(crates, want, "the workspace's crates and their library types");
    // What `gomap` itself pulls in for a dependent with the default
    // features (dev-dependencies aside), and what only features add.
    let gomap = meta.get("packages").arr().iter().find(|p| p.get("name").str() == "gomap").unwrap();
    let normal = |optional: bool| {
        let mut deps: Vec<&str> = gomap
            .get("dependencies")
            .arr()
            .iter()
            .filter(|d| d.get("kind").is_null() && d.get("optional").bool() == optional)
            .map(|d| d.get("name").str())
            .collect();
        deps.sort();
        deps
    };
    // rand_chacha comes with rand (its StdRng); named for its ChaCha8.
    assert_eq!(normal(false), ["libc", "rand", "rand_chacha"], "gomap's default dependencies");
    assert_eq!(normal(true), ["gomap-derive", "serde"], "gomap's optional dependencies");
    let derive: Vec<&str> = gomap.get("features").get("derive").arr().iter().map(Json::str).collect();
    assert_eq!(derive, ["dep:gomap-derive"], "the `derive` feature");
    assert!(gomap.get("features").get("default").is_null(), "no default features");
}
