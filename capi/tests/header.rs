//! `capi/include/gomap.h` is written by hand; this test keeps it from drifting
//! from the Rust definitions in `capi/src/lib.rs` and from what `libgomap_capi.a`
//! exports.
//!
//! From `capi/src/lib.rs` (read as text, the `fast_ffi!` template expanded for
//! each of its invocations) it derives a C declaration of every exported
//! function, callback typedef, `#[repr(C)]` struct, status code and
//! constant, and compiles them after `#include "gomap.h"` with `-Werror`:
//! C rejects a redeclared function or typedef whose type differs ("conflicting
//! types"), and the generated `_Static_assert`s compare struct field offsets
//! and types, enum values and macro values. Then three name sets must be
//! equal: the functions the header declares, the functions `capi/src/lib.rs`
//! exports, and the `gomap_*` symbols `libgomap_capi.a` defines.

/// The root crate's shared test helpers: `ci` alone (the others need
/// gomap-inspector, not a dependency of this crate).
#[path = "../../tests/common"]
mod common {
    pub mod ci;
}
mod support;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;

use common::ci::on_path;
use support::{manifest, static_lib};

const FFI: &str = include_str!("../src/lib.rs");
const HEADER: &str = include_str!("../include/gomap.h");
const ALG: &str = include_str!("../../src/alg.rs");

/// A C function or function-pointer type: name, parameter types, return type
/// (all as Rust source text).
#[derive(Debug, Clone)]
struct Sig {
    name: String,
    params: Vec<String>,
    ret: Option<String>,
}

/// `a: T, b: U` (no trailing comma needed) → `[T, U]`, splitting only at
/// top-level commas.
fn param_types(list: &str) -> Vec<String> {
    let (mut out, mut depth, mut cur) = (Vec::new(), 0i32, String::new());
    for c in list.chars() {
        match c {
            '<' | '(' => depth += 1,
            '>' | ')' => depth -= 1,
            ',' if depth == 0 => {
                out.push(std::mem::take(&mut cur));
                continue;
            }
            _ => {}
        }
        cur.push(c);
    }
    out.push(cur);
    out.iter()
        .map(|p| p.trim())
        .filter(|p| !p.is_empty())
        .map(|p| p.split_once(':').map_or(p, |(_, t)| t).trim().to_string())
        .collect()
}

/// Parses `NAME(PARAMS) -> RET` starting at `s` (after `fn `); returns the
/// signature and the rest of the text.
fn parse_fn(s: &str) -> (Sig, &str) {
    let open = s.find('(').unwrap();
    let name = s[..open].trim().to_string();
    let (mut depth, mut close) = (0, 0);
    for (i, c) in s[open..].char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    close = open + i;
                    break;
                }
            }
            _ => {}
        }
    }
    let params = param_types(&s[open + 1..close]);
    let rest = &s[close + 1..];
    let end = rest.find(['{', ';']).unwrap();
    let ret = rest[..end].trim().strip_prefix("->").map(|r| r.trim().to_string());
    (Sig { name, params, ret }, &rest[end..])
}

/// Every `pub unsafe extern "C" fn` outside `macro_rules!`, and the
/// `fast_ffi!` template instantiated for each invocation.
fn exported_fns() -> Vec<Sig> {
    let (before, after) = FFI.split_once("macro_rules! fast_ffi").unwrap();
    let (template, rest) = after.split_once("\n}\n").unwrap();
    let mut out = Vec::new();
    for text in [before, rest] {
        let mut s = text;
        while let Some(i) = s.find("pub unsafe extern \"C\" fn ") {
            let (sig, r) = parse_fn(&s[i + "pub unsafe extern \"C\" fn ".len()..]);
            out.push(sig);
            s = r;
        }
    }
    // fast_ffi!(KEY, BIT, ACC1, ACC2 => path, ASG => path, DEL => path);
    let mut s = rest;
    while let Some(i) = s.find("fast_ffi!(") {
        let body = &s[i + "fast_ffi!(".len()..];
        let end = body.find(");").unwrap();
        let words: Vec<&str> = body[..end].split([',', '\n']).map(str::trim).filter(|w| !w.is_empty()).collect();
        let ident = |w: &str| w.split("=>").next().unwrap().trim().to_string();
        let subst = [
            ("$key", words[0].to_string()),
            ("$acc1", ident(words[2])),
            ("$acc2", ident(words[3])),
            ("$asg", ident(words[4])),
            ("$del", ident(words[5])),
        ];
        let mut t = template;
        while let Some(j) = t.find("pub unsafe extern \"C\" fn ") {
            let (mut sig, r) = parse_fn(&t[j + "pub unsafe extern \"C\" fn ".len()..]);
            for (from, to) in &subst {
                if sig.name == *from {
                    sig.name = to.clone();
                }
                for p in &mut sig.params {
                    *p = p.replace(from, to);
                }
            }
            out.push(sig);
            t = r;
        }
        s = &body[end..];
    }
    out
}

/// `pub type gomap_x = unsafe extern "C" fn(..) -> ..;` (one line each).
fn callback_types() -> Vec<Sig> {
    FFI.lines()
        .filter_map(|l| l.strip_prefix("pub type gomap_"))
        .map(|l| {
            let (name, def) = l.split_once(" = unsafe extern \"C\" fn").expect("a callback type on one line");
            let mut sig = parse_fn(&format!("X{def}")).0;
            sig.name = format!("gomap_{name}");
            sig
        })
        .collect()
}

/// `#[repr(C…)] pub struct NAME { pub f: T, .. }` in `text` whose name starts
/// with `prefix` → (name, [(field, type)]); a `repr(C, align(N))` adds the
/// pseudo-field `("#align", N)`.
fn repr_c_structs(text: &str, prefix: &str) -> Vec<(String, Vec<(String, String)>)> {
    let mut out = Vec::new();
    let mut s = text;
    while let Some(i) = s.find("#[repr(C") {
        s = &s[i + 8..];
        let Some(j) = s.find(&format!("pub struct {prefix}")) else { break };
        if s[..j].contains("pub ") {
            continue; // this repr(C) item was not a struct (the status enum)
        }
        let align = s[..s.find(']').unwrap()].split_once("align(").map(|(_, a)| a.split(')').next().unwrap());
        let head = &s[j + "pub struct ".len()..];
        let open = head.find('{').unwrap();
        let close = head.find("\n}").unwrap();
        let mut fields: Vec<(String, String)> =
            align.map(|a| ("#align".to_string(), a.to_string())).into_iter().collect();
        fields.extend(head[open + 1..close].lines().map(str::trim).filter_map(|l| l.strip_prefix("pub ")).map(|l| {
            let (f, t) = l.split_once(':').unwrap();
            (f.trim().to_string(), t.trim().trim_end_matches(',').to_string())
        }));
        out.push((head[..open].trim().to_string(), fields));
    }
    out
}

/// The structs the header defines (not the opaque ones), with their Rust
/// twins: `capi/src/lib.rs`'s `gomap_*` and `alg::GoString` (`gomap_string`).
fn shared_structs() -> Vec<(String, Vec<(String, String)>)> {
    let mut all = repr_c_structs(FFI, "gomap_");
    for (_, fields) in repr_c_structs(ALG, "GoString") {
        all.push(("gomap_string".into(), fields));
    }
    all.retain(|(name, _)| HEADER.contains(&format!("typedef struct {name} {{")));
    all
}

/// The enum's variants and values, and `pub const GOMAP_*: u32|usize = …;`.
fn constants() -> Vec<(String, String)> {
    let mut out = Vec::new();
    let status = FFI.split_once("pub enum gomap_status {").unwrap().1.split_once("\n}").unwrap().0;
    for l in status.lines().map(str::trim).filter(|l| l.starts_with("GOMAP_")) {
        let (n, v) = l.trim_end_matches(',').split_once(" = ").unwrap();
        out.push((n.to_string(), v.to_string()));
    }
    for l in FFI.lines().filter_map(|l| l.strip_prefix("pub const GOMAP_")) {
        let (n, v) = l.split_once(':').unwrap();
        let v = v.split_once('=').unwrap().1.trim().trim_end_matches(';');
        if n.starts_with("VERSION_") {
            continue; // checked against Cargo's version below
        }
        out.push((format!("GOMAP_{n}"), v.replace("1 << 30", "((size_t)1 << 30)")));
    }
    out
}

/// The C spelling of a Rust FFI type.
fn c_type(t: &str) -> String {
    let t = t.trim();
    if let Some(inner) = t.strip_prefix("*const ") {
        return format!("{} const *", c_type(inner));
    }
    if let Some(inner) = t.strip_prefix("*mut ") {
        return format!("{} *", c_type(inner));
    }
    if let Some(inner) = t.strip_prefix("Option<").and_then(|r| r.strip_suffix('>')) {
        assert!(inner.starts_with("gomap_"), "Option<{inner}> is not a callback type");
        return inner.to_string();
    }
    match t {
        "c_void" => "void",
        "c_char" => "char",
        "c_int" => "int",
        "bool" => "bool",
        "u8" => "uint8_t",
        "u32" => "uint32_t",
        "u64" => "uint64_t",
        "i64" => "int64_t",
        "usize" => "size_t",
        "isize" => "ptrdiff_t",
        "GoString" => "gomap_string",
        _ if t.starts_with("gomap_") => t,
        _ => panic!("no C spelling for the Rust type `{t}` in capi/src/lib.rs: extend c_type"),
    }
    .to_string()
}

fn c_params(s: &Sig) -> String {
    if s.params.is_empty() { "void".into() } else { s.params.iter().map(|p| c_type(p)).collect::<Vec<_>>().join(", ") }
}

fn c_ret(s: &Sig) -> String {
    s.ret.as_deref().map_or("void".into(), c_type)
}

/// The C translation unit: the header, then everything derived from Rust.
fn generated_c() -> String {
    let mut c = String::from("#include \"gomap.h\"\n\n/* callback types, as capi/src/lib.rs defines them */\n");
    for t in callback_types() {
        c += &format!("typedef {} (*{})({});\n", c_ret(&t), t.name, c_params(&t));
    }
    c += "\n/* exported functions, as capi/src/lib.rs defines them */\n";
    for f in exported_fns() {
        c += &format!("{} {}({});\n", c_ret(&f), f.name, c_params(&f));
    }
    c += "\n/* #[repr(C)] structs: the same fields at the same offsets, of the same types */\n";
    for (name, fields) in shared_structs() {
        let align = fields.iter().find(|(f, _)| f == "#align").map(|(_, a)| a.clone());
        let fields: Vec<_> = fields.into_iter().filter(|(f, _)| f != "#align").collect();
        c += &format!("struct rust_{name} {{\n");
        if let Some(a) = align {
            c += &format!("    _Alignas({a}) char rust_align[0];\n");
        }
        for (f, t) in &fields {
            match t.strip_prefix('[').and_then(|a| a.strip_suffix(']')).and_then(|a| a.split_once(';')) {
                Some((elem, n)) => c += &format!("    {} {f}[{}];\n", c_type(elem), n.trim()),
                None => c += &format!("    {} {f};\n", c_type(t)),
            }
        }
        c += "};\n";
        c += &format!(
            "_Static_assert(sizeof(struct rust_{name}) == sizeof({name}), \"{name}: size\");\n\
             _Static_assert(alignof(struct rust_{name}) == alignof({name}), \"{name}: alignment\");\n"
        );
        for (f, _) in &fields {
            c += &format!(
                "_Static_assert(offsetof(struct rust_{name}, {f}) == offsetof({name}, {f}), \"{name}.{f}: offset\");\n\
                 _Static_assert(__builtin_types_compatible_p(__typeof__(((struct rust_{name} *)0)->{f}), \
                 __typeof__((({name} *)0)->{f})), \"{name}.{f}: type\");\n"
            );
        }
    }
    c += "\n/* status codes and constants */\n";
    for (n, v) in constants() {
        c += &format!("_Static_assert({n} == {v}, \"{n}\");\n");
    }
    let v = [env!("CARGO_PKG_VERSION_MAJOR"), env!("CARGO_PKG_VERSION_MINOR"), env!("CARGO_PKG_VERSION_PATCH")];
    c += &format!(
        "\n/* version macros: Cargo.toml's package version */\n\
         _Static_assert(GOMAP_VERSION_MAJOR == {} && GOMAP_VERSION_MINOR == {} && GOMAP_VERSION_PATCH == {}, \"version\");\n\
         static const char version[] = GOMAP_VERSION_STRING;\n\
         _Static_assert(sizeof version == sizeof \"{}\", \"GOMAP_VERSION_STRING\");\n",
        v[0],
        v[1],
        v[2],
        env!("CARGO_PKG_VERSION")
    );
    c
}

/// Function names declared by the header: identifiers `gomap_*` directly
/// followed by `(` on a line that starts a declaration (not a comment, a
/// macro or a typedef).
fn header_fns() -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for l in HEADER.lines() {
        let l = l.trim_start();
        if l.starts_with(['/', '*', '#']) || l.starts_with("typedef") || l.starts_with('_') {
            continue;
        }
        // the identifier right before the first '('
        if let Some(j) = l.find('(') {
            let before = l[..j].trim_end();
            let start = before.rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).map_or(0, |k| k + 1);
            if before[start..].starts_with("gomap_") {
                out.insert(before[start..].to_string());
            }
        }
    }
    out
}

/// `gomap_*` functions `libgomap_capi.a` defines (nm: text symbols).
fn library_exports() -> Option<BTreeSet<String>> {
    if !on_path("nm") && common::ci::missing("`nm` (binutils)", "the export check") {
        return None;
    }
    let lib = static_lib();
    let o = Command::new("nm").args(["-g", "--defined-only"]).arg(&lib).output().unwrap();
    assert!(o.status.success(), "nm failed on {}", lib.display());
    let names = String::from_utf8_lossy(&o.stdout)
        .lines()
        .filter_map(|l| l.rsplit_once(" T "))
        .map(|(_, n)| n.to_string())
        .filter(|n| n.starts_with("gomap_"))
        .collect();
    Some(names)
}

#[test]
#[cfg_attr(miri, ignore = "runs the C compiler and nm")]
fn header_agrees_with_the_rust_definitions() {
    if !on_path("cc") && common::ci::missing("`cc` (a C compiler on PATH)", "the header check") {
        return;
    }
    let fns = exported_fns();
    assert!(fns.len() >= 40, "only {} exported functions parsed from capi/src/lib.rs: {fns:?}", fns.len());
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("header");
    std::fs::create_dir_all(&dir).unwrap();
    let src = dir.join("header_check.c");
    std::fs::write(&src, generated_c()).unwrap();
    let o = Command::new("cc")
        .args(["-std=gnu11", "-Wall", "-Wextra", "-Werror", "-fsyntax-only", "-I"])
        .arg(manifest().join("include"))
        .arg(&src)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "capi/include/gomap.h disagrees with capi/src/lib.rs (generated check: {}):\n{}",
        src.display(),
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
#[cfg_attr(miri, ignore = "runs nm")]
fn header_declares_exactly_the_exports() {
    let rust: BTreeSet<String> = exported_fns().into_iter().map(|s| s.name).collect();
    let header = header_fns();
    let only_rust: Vec<_> = rust.difference(&header).collect();
    let only_header: Vec<_> = header.difference(&rust).collect();
    assert!(
        only_rust.is_empty() && only_header.is_empty(),
        "exported by capi/src/lib.rs but not declared in gomap.h: {only_rust:?}\n\
         declared in gomap.h but not exported by capi/src/lib.rs: {only_header:?}"
    );
    let Some(lib) = library_exports() else { return };
    let only_lib: Vec<_> = lib.difference(&rust).collect();
    let missing: Vec<_> = rust.difference(&lib).collect();
    assert!(
        only_lib.is_empty() && missing.is_empty(),
        "libgomap_capi.a defines but gomap.h does not declare: {only_lib:?}\n\
         declared but not defined by libgomap_capi.a: {missing:?}"
    );
}
