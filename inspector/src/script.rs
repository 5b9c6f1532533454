//! Your own program: a short script of map operations, run on gomap and
//! shown like the tour, one step per operation; with real Go's trace of the
//! same script (go-ref's `oracle -script`), every runtime call is compared
//! and each step says whether gomap matched Go.
//!
//! ```text
//! # comment                      blank lines and # comments are ignored
//! seed 7                         the random source's seed (before make; default --seed)
//! make 10                        m := make(map[K]V, 10)     (make alone: no hint)
//! assign 5 50                    m[5] = 50                  (alias set; V defaults to a counter)
//! assign 1..20                   m[1] = 1 … m[20] = 20      (a range: one step)
//! delete 5                       delete(m, 5)
//! lookup 5                       v, ok := m[5]              (alias get)
//! len                            len(m)
//! clear                          clear(m)
//! clone                          m = maps.Clone(m)
//! shrink                         gomap only: give memory back (docs/shrink.md)
//! range                          for k, v := range m {}     (the whole loop)
//! range start                    for k, v := range m {      (mapiterinit: the first entry)
//! next 3                           three more iterations    (mapiternext; next all: to the end)
//! break                          }                          (leave the loop)
//! ```
//!
//! Between `range start` and the end of the loop, `assign`, `delete`,
//! `lookup`, `len` and `clear` are the loop's body: they run mid-iteration
//! with Go's semantics (entries added may or may not be seen, deleted ones
//! are not, a growth started now is followed by the iterator).
//!
//! Keys by `--key`: `u64`/`u32` decimal or `0x` hex; `f64` a decimal
//! literal, `NaN` (`math.NaN()`'s bits), `+Inf`, `-Inf`; `str` a word or a
//! `"quoted string"` (escapes `\"`, `\\`). Ranges `A..B` take whole numbers
//! (for `str`, `PREFIXa..PREFIXb`, e.g. `k1..k20`), at most 4096 keys.
//! Values are `uint64` (`uint32` for `u32`); without one, the n-th
//! assignment of the script stores n. `go-ref/cmd/oracle/script.go` reads
//! the same language; [`run`] checks every op line of Go's trace against its
//! own reading of the script, so the two readers cannot drift apart unseen.

use core::ptr::NonNull;
use std::cell::RefCell;
use std::rc::Rc;

use super::json::{Json, hex, unhex};
use super::{
    Call, Frame, KeyChoice, LEGEND, Replayer, SAME_SIZE_GROW, Step, Tour, abbreviate, call, check_maps, go_stmt,
    header_delta, op_calls, run_with_draws, show_value,
};
use gomap::inspect::{self, Header};
use gomap::map::HMap;

/// At most this many keys in one `A..B` range.
pub const MAX_RANGE: u64 = 4096;

/// The largest `make` hint: it keeps maps below B = 16, which traces never
/// reach (docs/trace-format.md section 7).
pub const MAX_HINT: u64 = 100_000;

/// A parsed script.
#[derive(Clone, Debug, PartialEq)]
pub struct Script {
    /// The operations, in order (`seed` is a setting, not an operation).
    pub ops: Vec<ScriptOp>,
    /// The seed the script sets, if it does.
    pub seed: Option<u64>,
}

/// One operation and where it came from.
#[derive(Clone, Debug, PartialEq)]
pub struct ScriptOp {
    /// 1-based line number in the script.
    pub line: usize,
    /// The line's words, as written.
    pub text: String,
    /// What it does.
    pub op: Op,
}

/// A script operation. Keys are the trace's key bytes (docs/trace-format.md
/// section 3).
#[derive(Clone, Debug, PartialEq)]
pub enum Op {
    /// `make [HINT]`.
    Make(u64),
    /// `assign K [V]`: the keys (one, or a range) and the value, if given.
    Assign(Vec<Vec<u8>>, Option<u64>),
    /// `delete K`.
    Delete(Vec<Vec<u8>>),
    /// `lookup K`.
    Lookup(Vec<Vec<u8>>),
    /// `len`.
    Len,
    /// `clear`.
    Clear,
    /// `clone`: the script goes on with the clone.
    Clone,
    /// `shrink` (gomap only).
    Shrink,
    /// `range`: the whole loop.
    Range,
    /// `range start`: the loop's first iteration.
    RangeStart,
    /// `next [N|all]`: `None` runs the loop to its end.
    Next(Option<u64>),
    /// `break`.
    Break,
}

impl Script {
    /// The line of the first `shrink`, which has no Go twin.
    pub fn shrink_line(&self) -> Option<usize> {
        self.ops.iter().find(|o| o.op == Op::Shrink).map(|o| o.line)
    }
}

/// Splits a line into words (see the module docs); quoted words keep their
/// quotes.
fn tokens(s: &str) -> Result<Vec<String>, String> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b' ' | b'\t' | b'\r' => i += 1,
            b'#' => break,
            b'"' => {
                let mut w = vec![b'"'];
                let mut j = i + 1;
                while j < b.len() && b[j] != b'"' {
                    if b[j] == b'\\' {
                        if j + 1 >= b.len() || (b[j + 1] != b'"' && b[j + 1] != b'\\') {
                            return Err(r#"only \" and \\ are escapes in a quoted key"#.into());
                        }
                        j += 1;
                    }
                    w.push(b[j]);
                    j += 1;
                }
                if j >= b.len() {
                    return Err("unterminated quoted key".into());
                }
                w.push(b'"');
                out.push(String::from_utf8_lossy(&w).into_owned());
                i = j + 1;
            }
            _ => {
                let j = (i..b.len()).find(|&j| matches!(b[j], b' ' | b'\t' | b'\r' | b'#')).unwrap_or(b.len());
                out.push(s[i..j].to_string());
                i = j;
            }
        }
    }
    Ok(out)
}

/// A decimal or `0x` hexadecimal number of at most `bits` bits.
fn uint(s: &str, bits: u32) -> Option<u64> {
    let v = if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        if h.is_empty() || !h.bytes().all(|c| c.is_ascii_hexdigit()) {
            return None;
        }
        u64::from_str_radix(h, 16).ok()?
    } else {
        if s.is_empty() || !s.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        s.parse().ok()?
    };
    (bits == 64 || v >> bits == 0).then_some(v)
}

/// Go's `math.NaN()`: the NaN a script's `NaN` key is.
pub const GO_NAN_BITS: u64 = 0x7FF8_0000_0000_0001;

/// A float64 key (see the module docs), as Go's `strconv.ParseFloat` reads it.
fn float(s: &str) -> Option<f64> {
    match s {
        "NaN" => return Some(f64::from_bits(GO_NAN_BITS)),
        "Inf" | "+Inf" => return Some(f64::INFINITY),
        "-Inf" => return Some(f64::NEG_INFINITY),
        _ => {}
    }
    let b = s.as_bytes();
    let mut digits = false;
    for (i, &c) in b.iter().enumerate() {
        match c {
            b'0'..=b'9' => digits = true,
            b'.' | b'e' | b'E' => {}
            b'+' | b'-' if i == 0 || matches!(b[i - 1], b'e' | b'E') => {}
            _ => return None,
        }
    }
    let v: f64 = s.parse().ok()?;
    // ParseFloat refuses a literal beyond the largest float64 (ErrRange).
    (digits && v.is_finite()).then_some(v)
}

/// `"key12"` as `("key", 12)`.
fn split_num(s: &str) -> Option<(&str, u64)> {
    let i = s.trim_end_matches(|c: char| c.is_ascii_digit()).len();
    if i == s.len() || s.len() - i > 9 {
        return None;
    }
    Some((&s[..i], s[i..].parse().ok()?))
}

/// A key or an `A..B` range of keys, as trace key bytes.
fn keys(key: KeyChoice, w: &str) -> Result<Vec<Vec<u8>>, String> {
    let one = |w: &str| -> Result<Vec<u8>, String> {
        match key {
            KeyChoice::U64 | KeyChoice::U32 => {
                let bits = if key == KeyChoice::U32 { 32 } else { 64 };
                let v = uint(w, bits).ok_or_else(|| format!("key {w:?} is not a uint{bits} (decimal or 0x hex)"))?;
                Ok(if bits == 32 { (v as u32).to_le_bytes().to_vec() } else { v.to_le_bytes().to_vec() })
            }
            KeyChoice::F64 => {
                let f = float(w)
                    .ok_or_else(|| format!("key {w:?} is not a float64 (e.g. 1.5, -0, 1e9, NaN, +Inf, -Inf)"))?;
                Ok(f.to_bits().to_le_bytes().to_vec())
            }
            KeyChoice::Str => {
                let s = w.strip_prefix('"').and_then(|x| x.strip_suffix('"')).unwrap_or(w);
                if s.is_empty() {
                    return Err("empty string keys are not supported".into());
                }
                Ok(s.as_bytes().to_vec())
            }
        }
    };
    let Some((a, b)) = w.split_once("..").filter(|_| !w.starts_with('"')) else {
        return Ok(vec![one(w)?]);
    };
    let (prefix, na, nb) = if key == KeyChoice::Str {
        match (split_num(a), split_num(b)) {
            (Some((pa, na)), Some((pb, nb))) if pa == pb => (pa, na, nb),
            _ => return Err(format!("range {w:?}: a string range is PREFIXm..PREFIXn (same prefix, e.g. k1..k20)")),
        }
    } else {
        match (uint(a, 64), uint(b, 64)) {
            (Some(na), Some(nb)) => ("", na, nb),
            _ => return Err(format!("range {w:?}: ends must be whole numbers (e.g. 1..20)")),
        }
    };
    if nb < na || nb - na >= MAX_RANGE {
        return Err(format!("range {w:?}: want A <= B and at most {MAX_RANGE} keys"));
    }
    (na..=nb).map(|n| one(&format!("{prefix}{n}"))).collect()
}

/// The operation names, for error messages.
const VERBS: &str = "make, assign, delete, lookup, len, clear, clone, shrink, range, range start, next, break, seed";

/// Parses a script for maps with keys of type `key` (see the module docs).
/// Errors name the line: `line 3: assign before make: …`.
pub fn parse(text: &str, key: KeyChoice) -> Result<Script, String> {
    let mut ops = Vec::new();
    let mut seed = None;
    let mut made = false;
    let mut open = 0; // line of the open `range start`
    for (ln, raw) in text.split('\n').enumerate() {
        let line = ln + 1;
        let fail = |m: String| Err(format!("line {line}: {m}"));
        let w = match tokens(raw) {
            Ok(w) => w,
            Err(e) => return fail(e),
        };
        let Some(first) = w.first() else { continue };
        let mut verb = match first.as_str() {
            "set" => "assign",
            "get" => "lookup",
            v => v,
        };
        let mut args = &w[1..];
        if verb == "range" && args.len() == 1 && args[0] == "start" {
            verb = "start";
            args = &[];
        }
        let value_bits = if key == KeyChoice::U32 { 32 } else { 64 };
        let op = match verb {
            "seed" => {
                if args.len() != 1 {
                    return fail("seed takes one number: seed N".into());
                }
                if made || seed.is_some() {
                    return fail("seed must come once, before the first make".into());
                }
                seed =
                    Some(uint(&args[0], 63).ok_or_else(|| format!("line {line}: seed {:?} is not a number", args[0]))?);
                continue;
            }
            "make" => match args {
                [] => Op::Make(0),
                [h] => match uint(h, 64).filter(|&h| h <= MAX_HINT) {
                    Some(h) => Op::Make(h),
                    None => return fail(format!("make: hint {h:?} is not a number from 0 to {MAX_HINT}")),
                },
                _ => return fail("make takes at most one number: make [HINT]".into()),
            },
            "assign" | "delete" | "lookup" => {
                let max = if verb == "assign" { 2 } else { 1 };
                if args.is_empty() || args.len() > max {
                    return fail(if verb == "assign" {
                        "assign takes a key and an optional value: assign K [V]".into()
                    } else {
                        format!("{verb} takes one key: {verb} K")
                    });
                }
                let ks = keys(key, &args[0]).map_err(|e| format!("line {line}: {e}"))?;
                match verb {
                    "assign" => {
                        let v = match args.get(1) {
                            None => None,
                            Some(v) => match uint(v, value_bits) {
                                Some(x) => Some(x),
                                None => {
                                    return fail(format!("value {v:?} is not a uint{value_bits} (decimal or 0x hex)"));
                                }
                            },
                        };
                        Op::Assign(ks, v)
                    }
                    "delete" => Op::Delete(ks),
                    _ => Op::Lookup(ks),
                }
            }
            "len" | "clear" | "clone" | "shrink" | "range" | "start" | "break" => {
                if !args.is_empty() {
                    return fail(if verb == "range" {
                        "range takes nothing, or start: range | range start".into()
                    } else {
                        format!("{verb} takes no arguments")
                    });
                }
                match verb {
                    "len" => Op::Len,
                    "clear" => Op::Clear,
                    "clone" => Op::Clone,
                    "shrink" => Op::Shrink,
                    "range" => Op::Range,
                    "start" => Op::RangeStart,
                    _ => Op::Break,
                }
            }
            "next" => match args {
                [] => Op::Next(Some(1)),
                [a] if a == "all" => Op::Next(None),
                [a] => match uint(a, 31).filter(|&n| n > 0) {
                    Some(n) => Op::Next(Some(n)),
                    None => return fail(format!("next: {a:?} is not a count (1, 2, ... or all)")),
                },
                _ => return fail("next takes an optional count: next [N|all]".into()),
            },
            _ => return fail(format!("unknown operation {verb:?} ({VERBS})")),
        };
        if !made && verb != "make" {
            return fail(format!("{first} before make: a script starts with make [HINT]"));
        }
        match op {
            Op::Make(_) | Op::Clone | Op::Shrink | Op::Range | Op::RangeStart if open > 0 => {
                return fail(format!("{} inside the range loop opened on line {open}: break first", w.join(" ")));
            }
            Op::Next(_) | Op::Break if open == 0 => {
                return fail(format!("{verb} without an open loop: range start first"));
            }
            _ => {}
        }
        match op {
            Op::Make(_) => made = true,
            Op::RangeStart => open = line,
            Op::Break | Op::Next(None) => open = 0,
            _ => {}
        }
        ops.push(ScriptOp { line, text: w.join(" "), op });
    }
    if ops.is_empty() {
        return Err("the script has no operations".into());
    }
    Ok(Script { ops, seed })
}

// ---------------------------------------------------------------------------
// Running a script.

/// The trace names of the map type a key preset stands for in scripts
/// (the oracle's kinds): key, elem, Go type.
pub fn trace_kind(key: KeyChoice) -> (&'static str, &'static str, &'static str) {
    match key {
        KeyChoice::U64 => ("u64", "u64", "map[uint64]uint64"),
        KeyChoice::U32 => ("u32", "u32", "map[uint32]uint32"),
        KeyChoice::F64 => ("f64", "u64", "map[float64]uint64"),
        KeyChoice::Str => ("str", "u64", "map[string]uint64"),
    }
}

/// Real Go's trace of the script (`oracle -script FILE -type … -seed …`).
#[derive(Clone, Copy, Debug)]
pub struct GoTrace<'a> {
    /// The trace's text.
    pub text: &'a str,
    /// Where it came from, for the introduction.
    pub source: &'a str,
}

/// One runtime call of a step (a trace op).
struct Done {
    op: String,
    /// The functions of `map_noswiss.go` the call runs.
    calls: Vec<Call>,
    res: String,
    stmt: String,
    draws: Vec<u64>,
}

/// gomap's seeded random source, shared by the calls of a run.
type Source = Rc<RefCell<Box<dyn FnMut() -> u64>>>;

/// The state of a run.
struct Exec<'a> {
    r: Replayer,
    /// Go's trace: its header and the op lines not yet used.
    go: Option<(Json, core::iter::Peekable<core::str::Lines<'a>>)>,
    /// Without Go: the seeded random source.
    source: Option<Source>,
    /// Index of the next op.
    n: u64,
    cur: u64,
    /// The open loop's iterator.
    it: Option<u64>,
    iters: u64,
    assigned: u64,
    /// This step's differences from Go, and Go's state of `cur` after its
    /// last call.
    probs: Vec<String>,
    go_frame: Option<Frame>,
}

/// The fields of a trace op line that say what the op is.
const OP_FIELDS: [&str; 6] = ["op", "map", "hint", "k", "v", "it"];

impl Exec<'_> {
    /// Performs one runtime call (an op of the trace format), with Go's
    /// recorded draws when there is a trace (then compared with Go's
    /// line), else with the seeded source's.
    fn call(&mut self, line: usize, fields: Vec<(&str, Json)>) -> Result<Done, String> {
        let prim = Json::Obj(fields.into_iter().map(|(k, v)| (k.to_string(), v)).collect());
        let n = self.n;
        self.n += 1;
        let stmt = go_stmt(&prim, &self.r);
        let Some((th, lines)) = self.go.as_mut() else {
            let source = self.source.clone().ok_or("no random source")?;
            let taken = Rc::new(RefCell::new(Vec::new()));
            let t2 = taken.clone();
            let r = &mut self.r;
            let res = gomap::rand::with_source(
                move || {
                    let v = (source.borrow_mut())();
                    t2.borrow_mut().push(v);
                    v
                },
                || r.op(&prim),
            )
            .map_err(|e| format!("line {line}: {e}"))?;
            let draws = taken.borrow().clone();
            return Ok(Done { op: prim.get("op").as_str().to_string(), calls: op_calls(&prim), res, stmt, draws });
        };
        let text = lines.next().ok_or_else(|| format!("line {line}: Go's trace ends before op {n} ({stmt})"))?;
        let gl = Json::parse(text).map_err(|e| format!("Go's trace, op {n}: {e}"))?;
        let same = gl.get("n").as_u64() == Some(n)
            && gl.get("line").as_u64() == Some(line as u64)
            && OP_FIELDS.iter().all(|f| gl.get(f) == prim.get(f));
        if !same {
            let show = |j: &Json| {
                let mut v: Vec<String> = OP_FIELDS
                    .iter()
                    .filter(|f| !j.get(f).is_null())
                    .map(|f| format!("{f}={}", j.get(f).compact()))
                    .collect();
                v.insert(0, format!("n={} line={}", j.get("n").compact(), j.get("line").compact()));
                v.join(" ")
            };
            let mut want = prim.clone();
            if let Json::Obj(o) = &mut want {
                o.insert(0, ("n".into(), Json::Num(n)));
                o.insert(1, ("line".into(), Json::Num(line as u64)));
            }
            return Err(format!(
                "Go's trace does not follow the script at line {line}: Go ran {}, gomap expected {}",
                show(&gl),
                show(&want)
            ));
        }
        let draws: Vec<u64> = gl.get("rand").as_arr().iter().filter_map(Json::as_u64).collect();
        let r = &mut self.r;
        let (res, draw_problem) = run_with_draws(&draws, || r.op(&prim));
        let res = res.map_err(|e| format!("line {line}: {e}"))?;
        let mut base: Vec<String> = draw_problem.into_iter().collect();
        let go_res = gl.get("res").compact();
        if go_res != res {
            base.push(format!("result: Go {go_res}, gomap {res}"));
        }
        let th = th.clone();
        let checks = check_maps(&self.r, &th, &gl, &base)?;
        let mut probs = base.clone();
        for c in checks {
            for p in c.probs.into_iter().skip(base.len()) {
                probs.push(format!("map {}: {p}", c.id));
            }
            if c.id == self.touched(&prim) {
                self.go_frame = c.go_frame;
            }
        }
        for p in probs {
            self.probs.push(format!("op {n} ({stmt}): {p}"));
        }
        Ok(Done { op: prim.get("op").as_str().to_string(), calls: op_calls(&prim), res, stmt, draws })
    }

    /// The map an op leaves the script on: a clone's new map, else its own.
    fn touched(&self, prim: &Json) -> u64 {
        match prim.get("op").as_str() {
            "clone" | "make" => self.r.maps.len() as u64 - 1,
            _ => prim.get("map").as_u64().unwrap_or(self.cur),
        }
    }

    fn map(&self) -> NonNull<HMap> {
        self.r.maps[self.cur as usize]
    }

    fn header(&self) -> Option<Header> {
        // SAFETY: a live map of the replayer's type.
        self.r.maps.get(self.cur as usize).map(|h| unsafe { inspect::header(&self.r.t, *h) })
    }

    fn key_fields(&self, k: &[u8]) -> Json {
        Json::Str(hex(k))
    }

    fn elem(&self, v: u64) -> Json {
        Json::Str(hex(&v.to_le_bytes()[..self.r.esize]))
    }

    /// One `mapiterinit` (`op` "iterinit") or `mapiternext` of the open
    /// loop; when it returns no entry the loop is over and its iterator is
    /// dropped (`iterend`). Returns whether the loop goes on.
    fn advance(&mut self, line: usize, op: &str, done: &mut Vec<Done>) -> Result<bool, String> {
        let it = self.it.ok_or("no open loop")?;
        let (m, itj) = (Json::Num(self.cur), Json::Num(it));
        let d = self.call(line, vec![("op", js(op)), ("map", m.clone()), ("it", itj.clone())])?;
        let more = d.res != "null";
        done.push(d);
        if !more {
            self.it = None;
            done.push(self.call(line, vec![("op", js("iterend")), ("map", m), ("it", itj)])?);
        }
        Ok(more)
    }
}

fn js(s: &str) -> Json {
    Json::Str(s.to_string())
}

/// Calls added to a step from what its header change shows: a growth
/// started (a doubling, or a same-size grow that resets `noverflow`),
/// evacuation work done by writes (`writes`), a new overflow bucket.
fn growth_calls(before: Option<&Header>, after: &Header, writes: bool) -> Vec<Call> {
    let mut v = Vec::new();
    let Some(b) = before else { return v };
    let doubled = after.b > b.b;
    let started = !b.growing && after.growing;
    let same = (started && after.flags & SAME_SIZE_GROW != 0) || (writes && !doubled && after.noverflow < b.noverflow);
    if doubled || started || same {
        v.push(call(if same { "tooManyOverflowBuckets" } else { "overLoadFactor" }));
        v.extend([call("hashGrow"), call("makeBucketArray")]);
    }
    if writes && (b.growing || after.growing || doubled || same) {
        v.extend([call("growWork"), call("evacuate"), call("advanceEvacuationMark")]);
    }
    if after.noverflow > b.noverflow && !doubled && !same {
        v.extend([call("newoverflow"), call("incrnoverflow")]);
    }
    v
}

/// Runs `script` on gomap for maps of key preset `key`, one step per
/// operation. With `go`, gomap takes each call's random draws from Go's
/// trace of the same script and every call is compared with Go's (result,
/// draws, `hmap` header, state checksum and the recorded state); a step
/// that differs carries `DIFFERENCE:` notes and the intro counts them.
/// Without `go`, the draws come from gomap's generator seeded with `seed`
/// (`rand::seeded`), so hash seeds and iteration starts differ from Go's.
///
/// The caller installs the hash path first (and, with `go`, the trace's:
/// [`super::trace_hash_path`]); the key material must be
/// `alg::test_key_material()`.
pub fn run(script: &Script, key: KeyChoice, seed: u64, go: Option<GoTrace<'_>>, name: &str) -> Result<Tour, String> {
    use gomap::alg;
    if alg::key_material() != alg::test_key_material() {
        return Err("install alg::test_key_material() first".into());
    }
    let (tk, te, gotype) = trace_kind(key);
    let path = gomap::presets::hash_path_name();
    let go_state = match go {
        None => None,
        Some(g) => {
            if let Some(l) = script.shrink_line() {
                return Err(format!(
                    "line {l}: shrink has no Go twin (gomap's mapshrink, docs/shrink.md): run the script without --go"
                ));
            }
            let mut lines = g.text.lines().peekable();
            let th = Json::parse(lines.next().ok_or("empty trace")?).map_err(|e| format!("Go's trace header: {e}"))?;
            if th.get("format").as_str() != "gomap-trace/1" || th.get("scenario").as_str() != "script" {
                return Err(format!("{}: not a script trace (oracle -script)", g.source));
            }
            if th.get("key").as_str() != tk {
                return Err(format!("Go's trace is of {} keys, the script runs {tk}", th.get("key").as_str()));
            }
            if th.get("seed").as_u64() != Some(seed) {
                return Err(format!("Go's trace used seed {}, the script runs seed {seed}", th.get("seed").compact()));
            }
            if th.get("hash").as_str() != path {
                return Err(format!("Go's trace uses the {} hash path but gomap uses {path}", th.get("hash").as_str()));
            }
            Replayer::new(&th)?; // the header describes the same type as gomap's
            Some((th, lines))
        }
    };
    let compare = go_state.is_some();
    let source: Option<Source> =
        (!compare).then(|| Rc::new(RefCell::new(Box::new(gomap::rand::seeded(seed)) as Box<dyn FnMut() -> u64>)));
    let mut x = Exec {
        r: Replayer::of_kind(tk, te, gotype)?,
        go: go_state,
        source,
        n: 0,
        cur: 0,
        it: None,
        iters: 0,
        assigned: 0,
        probs: Vec::new(),
        go_frame: None,
    };
    let (kv, ev) = (x.r.kv, x.r.ev);
    let mut steps = Vec::new();
    let mut differing = Vec::new();
    let mut calls_total = 0;
    for sop in &script.ops {
        let line = sop.line;
        let before = x.header();
        x.probs.clear();
        x.go_frame = None;
        let mut done: Vec<Done> = Vec::new();
        let mut notes = Vec::new();
        let cur = x.cur;
        let m = || Json::Num(cur);
        match &sop.op {
            Op::Make(h) => {
                let id = x.r.maps.len() as u64;
                done.push(x.call(line, vec![("op", js("make")), ("map", Json::Num(id)), ("hint", Json::Num(*h))])?);
                x.cur = id;
            }
            Op::Assign(ks, v) => {
                for k in ks {
                    x.assigned += 1;
                    let e = x.elem(v.unwrap_or(x.assigned));
                    let kf = x.key_fields(k);
                    done.push(x.call(line, vec![("op", js("assign")), ("map", m()), ("k", kf), ("v", e)])?);
                }
            }
            Op::Delete(ks) => {
                for k in ks {
                    let kf = x.key_fields(k);
                    done.push(x.call(line, vec![("op", js("delete")), ("map", m()), ("k", kf)])?);
                }
            }
            Op::Lookup(ks) => {
                for k in ks {
                    let kf = x.key_fields(k);
                    let d = x.call(line, vec![("op", js("get")), ("map", m()), ("k", kf)])?;
                    let r = Json::parse(&d.res).unwrap_or(Json::Null);
                    let v = unhex(r.get("v").as_str()).map(|b| show_value(ev, &b)).unwrap_or_default();
                    notes.push(format!(
                        "{}: v, ok = {v}, {}",
                        show_value(kv, k),
                        matches!(r.get("ok"), Json::Bool(true))
                    ));
                    done.push(d);
                }
            }
            Op::Len => {
                let d = x.call(line, vec![("op", js("len")), ("map", m())])?;
                notes.push(format!("len(m) = {}", d.res));
                done.push(d);
            }
            Op::Clear => done.push(x.call(line, vec![("op", js("clear")), ("map", m())])?),
            Op::Clone => {
                let d = x.call(line, vec![("op", js("clone")), ("map", m())])?;
                x.cur = x.r.maps.len() as u64 - 1;
                notes.push(format!(
                    "The script goes on with the clone, m{}; m{cur} is left as it was (in Go, garbage once unreachable).",
                    x.cur
                ));
                done.push(d);
            }
            Op::Shrink => {
                let h = x.map();
                let source = x.source.clone().ok_or("shrink needs gomap's random source")?;
                let t = &x.r.t;
                // SAFETY: a live map of type t, no iterator open (the parser
                // refuses shrink inside a loop), nothing else uses it.
                let r = gomap::rand::with_source(
                    move || (source.borrow_mut())(),
                    || unsafe { gomap::shrink::mapshrink(t, h.as_ptr(), 0) },
                );
                r.map_err(|e| format!("line {line}: shrink: {e}"))?;
                notes.push(
                    "gomap only: shrink::mapshrink rebuilt the map at the smallest size that holds its entries (docs/shrink.md); Go's maps never shrink (golang/go#20135).".into(),
                );
            }
            Op::Range | Op::RangeStart => {
                x.it = Some(x.iters);
                x.iters += 1;
                let mut more = x.advance(line, "iterinit", &mut done)?;
                while more && sop.op == Op::Range {
                    more = x.advance(line, "iternext", &mut done)?;
                }
            }
            Op::Next(count) => {
                let mut i = 0;
                while x.it.is_some() && count.is_none_or(|c| i < c) {
                    i += 1;
                    x.advance(line, "iternext", &mut done)?;
                }
                if i == 0 {
                    notes.push("The loop has already ended: nothing to do.".into());
                }
            }
            Op::Break => match x.it.take() {
                Some(it) => done.push(x.call(line, vec![("op", js("iterend")), ("map", m()), ("it", Json::Num(it))])?),
                None => notes.push("The loop has already ended: nothing to do.".into()),
            },
        }
        calls_total += done.len();
        // What the iterator handed out, in order.
        let entries: Vec<String> = done
            .iter()
            .filter(|d| d.op == "iterinit" || d.op == "iternext")
            .map(|d| {
                let r = Json::parse(&d.res).unwrap_or(Json::Null);
                if r.is_null() {
                    "end".to_string()
                } else {
                    let k = unhex(r.get("k").as_str()).map(|b| show_value(kv, &b)).unwrap_or_default();
                    let v = unhex(r.get("v").as_str()).map(|b| show_value(ev, &b)).unwrap_or_default();
                    format!("{k}={v}")
                }
            })
            .collect();
        if !entries.is_empty() {
            let shown: Vec<String> = entries.iter().take(40).cloned().collect();
            let more = if entries.len() > 40 { format!(" … ({} in all)", entries.len()) } else { String::new() };
            notes.insert(0, format!("the loop sees, in order: {}{more}", shown.join(", ")));
            if x.it.is_some() {
                notes.push("The loop is still open: the next operations run inside its body.".into());
            }
        }
        let draws: Vec<u64> = done.iter().flat_map(|d| d.draws.iter().copied()).collect();
        notes.push(format!("draws: {}", if draws.is_empty() { "none".to_string() } else { format!("{draws:?}") }));
        let after = x.header().ok_or("no map")?;
        let before_same = before.filter(|_| !matches!(sop.op, Op::Make(_) | Op::Clone));
        let delta = before_same.as_ref().map_or_else(String::new, |b| header_delta(b, &after));
        let mut calls: Vec<Call> = Vec::new();
        for d in &done {
            for c in d.calls.iter().copied() {
                if !calls.contains(&c) {
                    calls.push(c);
                }
            }
        }
        if matches!(sop.op, Op::Clone) {
            calls.push(call("mapclone2"));
        }
        let writes = matches!(sop.op, Op::Assign(..) | Op::Delete(_));
        for c in growth_calls(before_same.as_ref(), &after, writes) {
            if !calls.contains(&c) {
                calls.push(c);
            }
        }
        if compare {
            if x.probs.is_empty() {
                notes.push(format!(
                    "gomap matches Go at {} of this step: results, draws, hmap header and state (checksum and every slot).",
                    if done.len() == 1 { "the one runtime call".to_string() } else { format!("all {} runtime calls", done.len()) }
                ));
            } else {
                differing.push(line);
                for p in x.probs.iter().take(12) {
                    notes.push(format!("DIFFERENCE: {p}"));
                }
                if x.probs.len() > 12 {
                    notes.push(format!("DIFFERENCE: … {} more", x.probs.len() - 12));
                }
            }
        }
        let stmts: Vec<String> = done.iter().map(|d| d.stmt.clone()).collect();
        let mut ops = vec![format!("script line {line}: {}", sop.text)];
        ops.extend(abbreviate(&stmts));
        let what = match (&sop.op, stmts.len()) {
            (Op::Range, _) => {
                format!("for k, v := range m{cur} {{}}  ({} entries)", entries.iter().filter(|e| *e != "end").count())
            }
            (Op::Next(_), 0) | (Op::Break, 0) => format!("{}  (the loop has ended)", sop.text),
            (Op::Shrink, _) => format!("shrink m{cur}  (gomap only)"),
            (_, 1) => stmts[0].clone(),
            (_, k) => format!("{}  ({k} calls)", sop.text),
        };
        steps.push(Step {
            title: if delta.is_empty() {
                format!("line {line}: {what}")
            } else {
                format!("line {line}: {what}  [{delta}]")
            },
            calls,
            ops,
            notes,
            map: format!("m{} ({gotype})", x.cur),
            frame: x.r.frame(x.map()),
            other: x.go_frame.take().map(|f| ("real Go (trace)".to_string(), f)),
        });
    }
    // Go's final check: every map, once more.
    let mut final_note = String::new();
    if let Some((th, lines)) = x.go.as_mut() {
        let text = lines.next().ok_or("Go's trace has no final line")?;
        let gl = Json::parse(text).map_err(|e| format!("Go's trace, final line: {e}"))?;
        if gl.get("op").as_str() != "final" || gl.get("n").as_u64() != Some(x.n) {
            return Err(format!("Go's trace ran op {} where gomap's script ended", gl.get("n").compact()));
        }
        if lines.any(|l| !l.trim().is_empty()) {
            return Err("Go's trace goes on after its final line".into());
        }
        let th = th.clone();
        let bad: Vec<String> = check_maps(&x.r, &th, &gl, &[])?
            .into_iter()
            .flat_map(|c| c.probs.into_iter().map(move |p| format!("map {}: {p}", c.id)))
            .collect();
        if !bad.is_empty() {
            final_note = format!("Go's final check differs: {}", bad.join("; "));
        }
    }
    let nops = script.ops.len();
    let mut intro = vec![
        format!("script: {name} ({nops} operations, {calls_total} runtime calls)"),
        format!("{gotype}, seed {seed}, hash path {path}."),
    ];
    match go {
        Some(g) => {
            intro.push(format!("real Go: {}", g.source));
            intro.push(
                "gomap ran the script with each call's random draws taken from Go's trace; every call compared: results, draws, hmap header, state checksum and the recorded state.".into(),
            );
            intro.push(if differing.is_empty() && final_note.is_empty() {
                format!("gomap matched real Go at every step ({nops} of {nops}) and at the final check.")
            } else {
                let lines: Vec<String> = differing.iter().map(|l| l.to_string()).collect();
                format!(
                    "DIFFERENCES from real Go: {} of {nops} steps (script lines {}){}",
                    differing.len(),
                    lines.join(", "),
                    if final_note.is_empty() { String::new() } else { format!("; {final_note}") }
                )
            });
            intro.push("Left: gomap after the step. Right: real Go, differing cells outlined in red.".into());
        }
        None => intro.push(format!(
            "gomap alone: random draws from gomap's generator seeded with {seed} (not Go's chacha8rand), so hash seeds and iteration starts differ from a --go run of the same script."
        )),
    }
    intro.push(String::new());
    intro.extend(LEGEND.iter().map(|s| s.to_string()));
    Ok(Tour { title: format!("gomap inspector: your program, {name}"), intro, steps })
}
