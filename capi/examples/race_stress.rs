//! Racy programs against libgomap, as a language runtime hosting a Go
//! program with a map race would run them: each trial is a child process
//! whose threads misuse one map through the C ABI, and the parent counts
//! how each trial ended. Not a timed test: a stress program for CI, run
//! under AddressSanitizer with the Rust side instrumented (`.ci/run`).
//!
//! ```text
//! cargo run --release -p gomap-capi --example race_stress -- [--trials N]
//!     [--pattern NAME]... [--go BIN] [--check]
//! ```
//!
//! Patterns (each trial: a fresh `map[uint64][200]byte`, whose 200-byte
//! elems live out of line, so deletes free memory; 64 keys present from the
//! start and never deleted; the writer inserts keys from 64 on and deletes
//! each 2,000 inserts later, so the map grows through five sizes and then
//! churns):
//! * `writers`: two writers at once (Go: "concurrent map writes");
//! * `readwrite`: one writer, one thread looking up the 64 fixed keys;
//! * `iterate`: one writer, one thread ranging over the map;
//! * `clear`: a writer filling 1,000 keys and clearing, a thread looking
//!   them up.
//!
//! A reader checks what it gets: an elem whose words are not the key's
//! pattern, or a fixed key not found, is a wrong result.
//!
//! Outcomes: `fatal` (gomap's fatal handler ran: a detected race), `ok`
//! (undetected, results right), `wrong` (undetected, a wrong result),
//! `crash` (a signal; for Go, also its other fatal errors, such as "bad
//! map state"), `asan` (an AddressSanitizer report: exit code 66),
//! `hang` (still running after [`DEADLINE`]: a gomap child is sent
//! SIGSEGV, which ASan answers with the stack of the thread it lands on, a
//! Go child SIGQUIT, which dumps every goroutine; SIGKILL 5 s later),
//! `other`.
//! `--go BIN` runs the same trials with Go's classic map
//! (`go-ref/cmd/racestress`, built with `GOEXPERIMENT=noswissmap`),
//! interleaved with gomap's. `--check` fails if any gomap trial crashed,
//! drew an ASan report, hung or ended otherwise. Detection counts are reported
//! only: they measure how often the threads happened to overlap inside a
//! map call, which the scheduler decides (see docs/memory.md).

use std::ffi::{CStr, c_char, c_void};
use std::process::{Command, ExitCode, Output, Stdio};
use std::ptr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Barrier, mpsc};
use std::time::Duration;

use gomap_capi::gomap_status::*;
use gomap_capi::*;

const PATTERNS: [&str; 4] = ["writers", "readwrite", "iterate", "clear"];
/// Keys present from the start, never deleted (`readwrite`, `iterate`).
const FIXED: u64 = 64;
/// Writer operations per trial (`--ops`): set once, before any trial.
static OPS: AtomicU64 = AtomicU64::new(20_000);

fn ops() -> u64 {
    OPS.load(Ordering::Relaxed)
}
/// The writer deletes a key this many inserts after inserting it.
const WINDOW: u64 = 2_000;
/// Elem words: 25 x 8 = 200 bytes, above Go's 128-byte inline limit.
const WORDS: usize = 25;
/// Exit code of a trial whose fatal handler ran.
const EXIT_FATAL: i32 = 3;
/// How long a trial may run before it counts as a hang. A 20,000-op trial
/// takes under 1 s under ASan on the 2-core VM, even with seven other
/// trials running beside it; a stop of CI once waited 4,400 s on one child
/// (which map's, the log does not say) before this deadline existed.
const DEADLINE: Duration = Duration::from_secs(60);
/// Exit code AddressSanitizer is told to use (`ASAN_OPTIONS=exitcode=66`).
const EXIT_ASAN: i32 = 66;

/// The elem pattern of key `k`: every word the same.
fn word(k: u64) -> u64 {
    k.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0x5555
}

/// The map, shared by the trial's threads: racing on it is the point.
#[derive(Clone, Copy)]
struct Shared(*mut gomap_map);
// SAFETY: the handle is only passed to the C ABI, which is what the trial
// races on deliberately (a map is not thread-safe for writes, as in Go).
unsafe impl Send for Shared {}
// SAFETY: as for Send.
unsafe impl Sync for Shared {}

/// The fatal handler: Go's line, then exit with [`EXIT_FATAL`].
///
/// # Safety
/// `msg` is a NUL-terminated string (the C ABI's promise).
unsafe extern "C" fn on_fatal(msg: *const c_char, _ctx: *mut c_void) {
    // SAFETY: NUL-terminated (point 1), live for the call.
    let m = unsafe { CStr::from_ptr(msg) }.to_string_lossy();
    eprintln!("fatal error: {m}");
    // SAFETY: `_exit` may be called at any time; it never returns.
    unsafe { libc::_exit(EXIT_FATAL) }
}

fn insert(m: Shared, k: u64) {
    let mut e: *mut c_void = ptr::null_mut();
    // SAFETY: `m` is a live map (raced on by design); `k` is a key of its
    // type; `e` is writable. (Go's compiler uses the generic paths for
    // elems above 128 bytes, and so does this program.)
    let st = unsafe { gomap_mapassign(m.0, (&raw const k).cast(), &mut e) };
    assert_eq!(st, GOMAP_OK);
    let e = e.cast::<u64>();
    for i in 0..WORDS {
        // SAFETY: the elem slot has room for WORDS words, 8-aligned.
        unsafe { e.add(i).write(word(k)) };
    }
}

fn delete(m: Shared, k: u64) {
    // SAFETY: `m` is a live map (raced on by design).
    assert_eq!(unsafe { gomap_mapdelete(m.0, (&raw const k).cast()) }, GOMAP_OK);
}

/// Whether an elem holds key `k`'s pattern.
fn elem_ok(e: *const c_void, k: u64) -> bool {
    let e = e.cast::<u64>();
    // SAFETY: `e` is an elem of WORDS words, 8-aligned, as the map gave it.
    (0..WORDS).all(|i| unsafe { e.add(i).read_volatile() } == word(k))
}

/// The writer of `readwrite`/`iterate`/`writers`: keys `base + FIXED ..`,
/// each deleted WINDOW inserts later.
fn churn(m: Shared, base: u64) {
    for i in 0..ops() {
        insert(m, base + FIXED + i);
        if i >= WINDOW {
            delete(m, base + FIXED + i - WINDOW);
        }
    }
}

fn lookup_fixed(m: Shared, wrong: &AtomicU64) {
    for k in 0..FIXED {
        let mut e: *const c_void = ptr::null();
        let mut ok = false;
        // SAFETY: `m` is a live map (raced on by design); outs writable.
        let st = unsafe { gomap_mapaccess2(m.0, (&raw const k).cast(), &mut e, &mut ok) };
        if st != GOMAP_OK || !ok || !elem_ok(e, k) {
            wrong.fetch_add(1, Ordering::Relaxed);
        }
    }
}

fn range_once(m: Shared, wrong: &AtomicU64) {
    let mut it = gomap_hiter { opaque: [0; GOMAP_HITER_SIZE] };
    // SAFETY: `m` is a live map; `it` is zeroed iterator storage.
    assert_eq!(unsafe { gomap_mapiterinit(m.0, &mut it) }, GOMAP_OK);
    let mut fixed = 0;
    // mapiterinit stands on the first entry, as Go's does.
    // SAFETY: `it` was started by mapiterinit above.
    let (mut k, mut e) = unsafe { (gomap_hiter_key(&it), gomap_hiter_elem(&it)) };
    while !k.is_null() {
        // SAFETY: a key of the map: 8 bytes, 8-aligned.
        let key = unsafe { k.cast::<u64>().read_volatile() };
        fixed += u64::from(key < FIXED);
        if !elem_ok(e, key) {
            wrong.fetch_add(1, Ordering::Relaxed);
        }
        // SAFETY: `it` is live (started above, not at its end); outs writable.
        assert_eq!(unsafe { gomap_mapiternext_kv(&mut it, &mut k, &mut e) }, GOMAP_OK);
    }
    if fixed != FIXED {
        wrong.fetch_add(1, Ordering::Relaxed);
    }
}

/// One trial of `pattern` in this process; returns the wrong results.
fn trial(pattern: &str) -> u64 {
    // SAFETY: `on_fatal` never returns (it exits); no context.
    assert_eq!(unsafe { gomap_set_fatal_handler(Some(on_fatal), ptr::null_mut()) }, GOMAP_OK);
    let mut t = ptr::null_mut();
    // SAFETY: `t` is writable.
    assert_eq!(unsafe { gomap_type_preset(GOMAP_KEY_U64, WORDS * 8, 8, false, &mut t) }, GOMAP_OK);
    let mut m = ptr::null_mut();
    // SAFETY: `t` is a live type; `m` writable.
    assert_eq!(unsafe { gomap_makemap(t, 0, &mut m) }, GOMAP_OK);
    if let Some(g) = std::env::var("RACE_STRESS_GRACE").ok().and_then(|v| v.parse().ok()) {
        // SAFETY: `m` is a live map no other thread uses yet.
        assert_eq!(unsafe { gomap_map_quarantine(m, g) }, GOMAP_OK);
    }
    let m = Shared(m);
    if pattern != "clear" {
        for k in 0..FIXED {
            insert(m, k);
        }
    }
    let wrong = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicBool::new(false));
    let start = Arc::new(Barrier::new(2));
    // The writer starts only once the other thread runs: a thread still
    // waking up when the writes end cannot race (same in the Go program).
    let running = Arc::new(AtomicBool::new(false));
    let other = {
        let (wrong, done, start, running) = (wrong.clone(), done.clone(), start.clone(), running.clone());
        let pattern = pattern.to_owned();
        std::thread::spawn(move || {
            start.wait();
            running.store(true, Ordering::Release);
            match pattern.as_str() {
                "writers" => churn(m, 1 << 40),
                "iterate" => {
                    while !done.load(Ordering::Relaxed) {
                        range_once(m, &wrong);
                    }
                }
                "clear" => {
                    while !done.load(Ordering::Relaxed) {
                        for k in 0..1000 {
                            let mut e: *const c_void = ptr::null();
                            let mut ok = false;
                            // SAFETY: as in lookup_fixed.
                            let st = unsafe { gomap_mapaccess2(m.0, (&raw const k).cast(), &mut e, &mut ok) };
                            if st != GOMAP_OK || (ok && !elem_ok(e, k)) {
                                wrong.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                    }
                }
                _ => {
                    while !done.load(Ordering::Relaxed) {
                        lookup_fixed(m, &wrong);
                    }
                }
            }
        })
    };
    start.wait();
    while !running.load(Ordering::Acquire) {
        std::hint::spin_loop();
    }
    if pattern == "clear" {
        for _ in 0..ops().div_ceil(1000) {
            for k in 0..1000 {
                insert(m, k);
            }
            // SAFETY: `m` is a live map (raced on by design).
            assert_eq!(unsafe { gomap_mapclear(m.0) }, GOMAP_OK);
        }
    } else {
        churn(m, 0);
    }
    done.store(true, Ordering::Relaxed);
    other.join().expect("the other thread");
    // SAFETY: both threads are done with the map; it is not used again.
    assert_eq!(unsafe { gomap_free(m.0) }, GOMAP_OK);
    // SAFETY: the type's last map is freed; not used again.
    unsafe { gomap_type_free(t) };
    wrong.load(Ordering::Relaxed)
}

/// How a trial ended.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Outcome {
    Fatal,
    Ok,
    Wrong,
    Segv,
    Asan,
    Hang,
    Other,
}

const OUTCOMES: [Outcome; 7] =
    [Outcome::Fatal, Outcome::Ok, Outcome::Wrong, Outcome::Segv, Outcome::Asan, Outcome::Hang, Outcome::Other];

/// Runs one trial to its end or to [`DEADLINE`]. Past the deadline the
/// child gets `stop_signal` (a stack dump on its stderr), then SIGKILL
/// 5 s later; the bool says whether that happened.
fn run_trial(cmd: &mut Command, stop_signal: i32) -> (Output, bool) {
    let child = cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("run a trial");
    let pid = child.id() as libc::pid_t;
    let (watch, reaped) = mpsc::channel::<()>();
    let watchdog = std::thread::spawn(move || {
        if reaped.recv_timeout(DEADLINE).is_ok() {
            return false;
        }
        // SAFETY: `kill` has no memory preconditions; the child is not yet
        // reaped (the main thread is still in wait_with_output, which has
        // not sent on the channel), so `pid` is still the child's.
        unsafe { libc::kill(pid, stop_signal) };
        if reaped.recv_timeout(Duration::from_secs(5)).is_err() {
            // SAFETY: as above.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
        true
    });
    let out = child.wait_with_output().expect("wait for a trial");
    // The watchdog may already have returned (it timed out and the child
    // ended): a closed channel is fine.
    let _ = watch.send(());
    (out, watchdog.join().expect("the watchdog"))
}

fn classify(out: &Output, hung: bool, go: bool) -> Outcome {
    use std::os::unix::process::ExitStatusExt;
    if hung {
        return Outcome::Hang;
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    if stderr.contains("AddressSanitizer") || out.status.code() == Some(EXIT_ASAN) {
        return Outcome::Asan;
    }
    if out.status.signal().is_some() {
        return Outcome::Segv;
    }
    let fatal = stderr.contains("fatal error: concurrent map");
    match out.status.code() {
        Some(EXIT_FATAL) if !go && fatal => Outcome::Fatal,
        // Go's fatal errors exit with status 2.
        Some(2) if go && fatal => Outcome::Fatal,
        // A Go program that dereferenced a bad pointer also exits 2.
        Some(2) if go => Outcome::Segv,
        Some(0) => {
            if stdout.trim() == "wrong=0" {
                Outcome::Ok
            } else {
                Outcome::Wrong
            }
        }
        _ => Outcome::Other,
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--trial") {
        if let Some(n) = args.get(2).and_then(|v| v.parse().ok()) {
            OPS.store(n, Ordering::Relaxed);
        }
        let wrong = trial(&args[1]);
        println!("wrong={wrong}");
        return ExitCode::SUCCESS;
    }
    let mut trials = 100usize;
    let mut patterns: Vec<String> = Vec::new();
    let mut go: Option<String> = None;
    let mut check = false;
    let mut it = args.into_iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--trials" => trials = it.next().and_then(|v| v.parse().ok()).expect("--trials N"),
            "--pattern" => patterns.push(it.next().expect("--pattern NAME")),
            "--go" => go = Some(it.next().expect("--go BIN")),
            "--ops" => OPS.store(it.next().and_then(|v| v.parse().ok()).expect("--ops N"), Ordering::Relaxed),
            "--check" => check = true,
            _ => {
                eprintln!("usage: race_stress [--trials N] [--ops N] [--pattern NAME]... [--go BIN] [--check]");
                return ExitCode::from(2);
            }
        }
    }
    if patterns.is_empty() {
        patterns = PATTERNS.iter().map(|s| s.to_string()).collect();
    }
    let me = std::env::current_exe().expect("own path");
    let mut failed = false;
    println!(
        "{trials} trials per pattern, {} writer operations each; counts: fatal ok wrong crash asan hang other",
        ops()
    );
    for p in &patterns {
        let mut ours = [0usize; OUTCOMES.len()];
        let mut theirs = [0usize; OUTCOMES.len()];
        let mut first_bad: Option<String> = None;
        for _ in 0..trials {
            let (out, hung) = run_trial(
                Command::new(&me)
                    .args(["--trial", p, &ops().to_string()])
                    .env("ASAN_OPTIONS", format!("exitcode={EXIT_ASAN}:detect_leaks=0")),
                libc::SIGSEGV,
            );
            let o = classify(&out, hung, false);
            ours[OUTCOMES.iter().position(|&x| x == o).unwrap()] += 1;
            if matches!(o, Outcome::Segv | Outcome::Asan | Outcome::Hang | Outcome::Other) && first_bad.is_none() {
                first_bad = Some(format!("{o:?} {:?} {}", out.status, String::from_utf8_lossy(&out.stderr)));
            }
            if let Some(g) = &go {
                let (out, hung) =
                    run_trial(Command::new(g).args(["-pattern", p, "-ops", &ops().to_string()]), libc::SIGQUIT);
                let o = classify(&out, hung, true);
                theirs[OUTCOMES.iter().position(|&x| x == o).unwrap()] += 1;
                if o == Outcome::Hang {
                    let cut: String = String::from_utf8_lossy(&out.stderr).chars().take(3000).collect();
                    println!("a Go trial of {p} hung; its SIGQUIT dump: {cut}");
                }
            }
        }
        let row = |c: &[usize; OUTCOMES.len()]| c.iter().map(|n| format!("{n:>5}")).collect::<String>();
        println!("{p:>10} gomap {}", row(&ours));
        if go.is_some() {
            println!("{p:>10} Go    {}", row(&theirs));
        }
        if let Some(b) = first_bad {
            let cut: String = b.chars().take(3000).collect();
            println!("first bad trial: {cut}");
        }
        if check {
            let bad = ours[3] + ours[4] + ours[5] + ours[6];
            if bad > 0 {
                println!("FAIL {p}: {bad} trials crashed, drew an ASan report, hung or ended otherwise");
                failed = true;
            }
            // Detection is reported, not checked: how often two threads
            // overlap inside a map call depends on the scheduler (on a
            // loaded machine both maps' counts fall, by different amounts),
            // so no threshold holds on every machine. The interleavings
            // themselves are checked deterministically in
            // tests/reliability.rs and capi/tests/races.rs.
            if go.is_some() && ours[0] < theirs[0] {
                println!(
                    "note {p}: gomap detected {} races, Go {} (not checked: depends on scheduling)",
                    ours[0], theirs[0]
                );
            }
        }
    }
    if failed { ExitCode::FAILURE } else { ExitCode::SUCCESS }
}
