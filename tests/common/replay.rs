//! What the two trace replays share: `replay.rs` (`gomap-trace/1`) and
//! `replay_large.rs` (`gomap-large/1`), both described in
//! docs/trace-format.md. Both read traces with `gomap_inspector::json`.
#![allow(dead_code, reason = "each test crate uses the part it needs")]

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::Instant;

use gomap::alg::{self, KeyMaterial};
use gomap::inspect::Header;
use gomap_inspector::json::Json;

/// The Go architecture whose AES hash `gomap::alg::aes` is on this target
/// (or, without one, whose layout and hash it follows: armv7 and wasm32
/// follow Go's arm).
pub const NATIVE_GOARCH: &str = if cfg!(target_arch = "aarch64") {
    "arm64"
} else if cfg!(target_arch = "x86") {
    "386"
} else if cfg!(any(target_arch = "arm", target_arch = "wasm32")) {
    "arm"
} else {
    "amd64"
};

/// The pointer size of Go architecture `goarch` (`goarch.PtrSize`): a
/// trace replays only on a target of the same word size, whose layout
/// (slot and bucket sizes, hash width) is the trace's.
pub fn goarch_ptr_size(goarch: &str) -> usize {
    match goarch {
        "386" | "arm" | "mips" | "mipsle" => 4,
        _ => 8,
    }
}

/// The hash path is process-wide: replays take turns.
static PATH_LOCK: Mutex<()> = Mutex::new(());

/// Holds the hash path and key material as they are (no replay changes
/// them) until dropped: for tests that compare hashes while replays run.
pub fn hold_hash_path() -> MutexGuard<'static, ()> {
    PATH_LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

/// A trace's hash path and key material, installed until dropped (then the
/// default path is back, and the next replay may run).
pub struct HashPath {
    _lock: MutexGuard<'static, ()>,
}

impl HashPath {
    /// Installs the hash path (`"hash"`: `aes` or `fallback`) and the key
    /// material (`aeskeysched`, `hashkey`) of the trace header `hdr`.
    /// `None` if the trace needs AES-NI and this CPU has none: the trace is
    /// skipped (`ci::missing`: a failure under `CI=true`).
    ///
    /// An AES trace recorded on another architecture (`"goarch"`, absent
    /// for amd64) is `None` too: Go's AES hash is a different function on
    /// amd64, 386 and arm64, and gomap runs only its own target's. So is
    /// any trace of another word size (a 64-bit trace on a 32-bit target,
    /// or the reverse): its layout and hashes are not this target's.
    pub fn install(hdr: &Json, name: &str) -> Option<HashPath> {
        let aes = hdr.get("hash").str() == "aes";
        let goarch = hdr.get("goarch");
        let goarch = if goarch.is_null() { "amd64" } else { goarch.str() };
        if goarch_ptr_size(goarch) != size_of::<usize>() {
            println!("{name}: skipped (Go {goarch}'s {}-byte words)", goarch_ptr_size(goarch));
            return None;
        }
        if aes && goarch != NATIVE_GOARCH {
            println!("{name}: skipped (the AES hash of {goarch}; this target runs {NATIVE_GOARCH}'s)");
            return None;
        }
        if aes
            && !alg::aes_available()
            && super::ci::missing("AES instructions on this CPU", &format!("replay of {name}"))
        {
            return None;
        }
        let lock = PATH_LOCK.lock().unwrap_or_else(|e| e.into_inner());
        let sched: [u8; alg::HASH_RANDOM_BYTES] = hdr.get("aeskeysched").bytes().try_into().unwrap();
        let hk: Vec<u64> = hdr.get("hashkey").arr().iter().map(Json::hexnum).collect();
        alg::set_key_material(&KeyMaterial { aeskeysched: sched, hashkey: hk.try_into().unwrap() });
        assert!(alg::set_use_aeshash(aes) == aes);
        Some(HashPath { _lock: lock })
    }
}

impl Drop for HashPath {
    fn drop(&mut self) {
        alg::set_use_aeshash(alg::aes_available());
    }
}

/// One trace file: its name, its header (the first line), its op lines.
pub struct Trace {
    /// The file name, for messages.
    pub name: String,
    /// The header.
    pub hdr: Json,
    text: Vec<u8>,
}

impl Trace {
    /// Reads the trace at `path` and parses its header, which must name
    /// `format`.
    pub fn open(path: &Path, format: &str) -> Trace {
        let text = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let first = text.split(|&c| c == b'\n').find(|l| !l.is_empty()).unwrap_or_else(|| panic!("{name}: empty"));
        let hdr = Json::parse(first).unwrap_or_else(|e| panic!("{name}: header: {e}"));
        assert_eq!(hdr.get("format").str(), format, "{name}");
        Trace { name, hdr, text }
    }

    /// The lines after the header, parsed in turn (an error names the file
    /// and the line).
    pub fn lines(&self) -> impl Iterator<Item = Result<Json, String>> + '_ {
        let lines = self.text.split(|&c| c == b'\n').enumerate().filter(|(_, l)| !l.is_empty()).skip(1);
        lines.map(|(i, l)| Json::parse(l).map_err(|e| format!("{}: line {}: {e}", self.name, i + 1)))
    }
}

/// The header fields of `ours` that differ from a trace's `hdr` object
/// (docs/trace-format.md; both formats write the same one), one
/// "field: gomap X, Go Y" line each.
pub fn header_diffs(ours: &Header, want: &Json) -> Vec<String> {
    let no = want.get("nextoverflow");
    let fields = [
        ("count", ours.count as u64, want.get("count").u64()),
        ("flags", ours.flags as u64, want.get("flags").u64()),
        ("B", ours.b as u64, want.get("B").u64()),
        ("noverflow", ours.noverflow as u64, want.get("noverflow").u64()),
        ("hash0", ours.hash0 as u64, want.get("hash0").u64()),
        ("nevacuate", ours.nevacuate as u64, want.get("nevacuate").u64()),
        ("clearseq", ours.clear_seq, want.get("clearseq").u64()),
        ("oldbuckets", ours.growing as u64, want.get("oldbuckets").bool() as u64),
        (
            "nextoverflow",
            ours.next_overflow.map_or(u64::MAX, |x| x as u64),
            if no.is_null() { u64::MAX } else { no.u64() },
        ),
    ];
    fields.iter().filter(|f| f.1 != f.2).map(|(name, a, b)| format!("{name}: gomap {a}, Go {b}")).collect()
}

/// FNV-1a's offset basis: the digest of nothing.
pub const FNV_BASIS: u64 = 0xcbf2_9ce4_8422_2325;

/// The FNV-1a digest `h` extended by `b` (the traces' state checksums and
/// result digests).
pub fn fnv(mut h: u64, b: &[u8]) -> u64 {
    for &c in b {
        h ^= c as u64;
        h = h.wrapping_mul(0x100_0000_01b3);
    }
    h
}

/// Replays every trace (`*.jsonl`) in `dir`, in name order, with
/// `replay_file` (the ops replayed, or the divergence), printing each
/// trace's op count and time. Panics with every divergence if any trace
/// diverges, or if there is no trace.
pub fn replay_dir(dir: &Path, replay_file: impl Fn(&Path) -> Result<u64, String>) {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no traces in {}", dir.display());
    let (mut total, mut failures) = (0, Vec::new());
    for f in &files {
        let t0 = Instant::now();
        match replay_file(f) {
            Ok(n) => {
                println!("{}: {n} ops in {:.1?}", f.display(), t0.elapsed());
                total += n;
            }
            Err(e) => failures.push(e),
        }
    }
    println!("replayed {total} ops from {} traces in {}", files.len(), dir.display());
    assert!(failures.is_empty(), "{} of {} traces diverge:\n{}", failures.len(), files.len(), failures.join("\n\n"));
}
