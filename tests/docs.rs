//! Documentation that checks itself against the real Go source.
//!
//! `docs/concordance.md` gives, for every Go function and type it maps, the
//! line range in Go 1.24.11's `runtime/map*_noswiss.go`. These tests read the
//! installed reference (`.venv-go`'s GOROOT, as `scripts/gen-golden.sh`
//! installs it) and require each range to start on the declaration it names
//! and to end on the line that closes it.

mod common;

use std::path::PathBuf;
use std::process::Command;

/// The Go 1.24.11 `src/runtime` directory, or `None` (skipped; a failure
/// under `CI=true`) when `.venv-go` is not installed.
fn runtime_dir() -> Option<PathBuf> {
    let go = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".venv-go/bin/go");
    let out = Command::new(&go).args(["env", "GOROOT"]).output().ok().filter(|o| o.status.success());
    match out {
        Some(o) => Some(PathBuf::from(String::from_utf8(o.stdout).unwrap().trim()).join("src/runtime")),
        None => {
            common::ci::missing("Go 1.24.11 in .venv-go (scripts/gen-golden.sh installs it)", "the concordance check");
            None
        }
    }
}

/// One row of a concordance table: the Go file, the names in the first
/// cell, and the cited range.
struct Row {
    file: String,
    cell: String,
    start: usize,
    end: usize,
}

fn rows() -> Vec<Row> {
    let conc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/concordance.md")).unwrap();
    let mut file = None;
    let mut rows = Vec::new();
    for l in conc.lines() {
        if let Some(h) = l.strip_prefix("## ") {
            file = h.split_whitespace().next().filter(|f| f.ends_with(".go")).map(str::to_string);
            continue;
        }
        let (Some(file), Some(cell)) = (&file, l.strip_prefix("| ").and_then(|r| r.split(" | ").next())) else {
            continue;
        };
        let Some((names, range)) = cell.rsplit_once(" (") else { continue };
        let Some((a, b)) = range.strip_suffix(')').and_then(|r| r.split_once('-')) else { continue };
        let (Ok(start), Ok(end)) = (a.parse(), b.parse()) else { continue };
        rows.push(Row { file: file.clone(), cell: names.to_string(), start, end });
    }
    rows
}

/// The Go declaration keyword and name a cell names: `` `mapassign` ``,
/// `` `(*hmap).growing` `` (a method), `` `hmap` `` (a type), or `constants …`.
fn declares(cell: &str, line: &str) -> bool {
    if cell.starts_with("constants") {
        return line == "const (";
    }
    let first = cell.split('`').nth(1).unwrap_or(cell);
    if first.contains('*') {
        // a list of names (`reflect_mapaccess*`, …): a function declaration
        return line.starts_with("func ");
    }
    let name = first.rsplit_once(").").map_or(first, |x| x.1);
    line.starts_with(&format!("func {name}("))
        || (line.starts_with("func (") && line.contains(&format!(") {name}(")))
        || line.starts_with(&format!("type {name} "))
}

#[test]
#[cfg_attr(miri, ignore = "runs the Go toolchain")]
#[cfg_attr(target_os = "wasi", ignore = "WASI has no processes: runs go env GOROOT")]
fn concordance_ranges_match_go_source() {
    let Some(dir) = runtime_dir() else { return };
    let rows = rows();
    assert!(rows.len() >= 70, "only {} concordance rows parsed", rows.len());
    let mut bad = Vec::new();
    for r in &rows {
        let src = std::fs::read_to_string(dir.join(&r.file)).unwrap_or_else(|e| panic!("{}: {e}", r.file));
        let lines: Vec<&str> = src.lines().collect();
        let at = |n: usize| lines.get(n - 1).copied().unwrap_or("");
        if !declares(&r.cell, at(r.start)) {
            bad.push(format!("{} ({}-{}): line {} is `{}`", r.cell, r.start, r.end, r.start, at(r.start)));
            continue;
        }
        // The end is the first line at column 0 that closes a block, counted
        // from the last declaration inside the range (a row may cover several).
        let last_decl =
            (r.start..=r.end).rev().find(|&n| ["func ", "type ", "const ("].iter().any(|p| at(n).starts_with(p)));
        let close = last_decl.and_then(|d| (d..=lines.len()).find(|&n| at(n) == "}" || at(n) == ")"));
        if close != Some(r.end) {
            bad.push(format!("{} ({}-{}): the declaration closes at line {close:?}", r.cell, r.start, r.end));
        }
    }
    assert!(
        bad.is_empty(),
        "{} of {} concordance ranges disagree with Go's source:\n{}",
        bad.len(),
        rows.len(),
        bad.join("\n")
    );
}
