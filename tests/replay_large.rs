//! Parity with real Go at large sizes: replays the oracle's `gomap-large/1`
//! traces (`docs/trace-format.md` section 10), maps grown to B = 17 through
//! half a million inserts and a million and a half iterator steps.
//!
//! Per op it compares the header token (every header field that changed
//! beyond what the op implies, and the number of random draws the op took),
//! so a divergence is reported at its first op and field; per line the
//! result digests (lookups, iterator steps); at every growth start and end,
//! checkpoints and the end, the header and FNV-1a digests of the full
//! bucket arrays.
//!
//! * `large_traces`: the committed traces in `tests/golden/large/` (about
//!   8 million ops: ~3 s per trace in release, ~8 s in a debug build).
//! * `live_large_traces`: the traces in `$GOMAP_LARGE_TRACE_DIR`, if set
//!   (`scripts/gen-golden.sh --live-large DIR` makes fresh ones).

mod common;

use std::cell::Cell;
use std::path::Path;
use std::ptr::NonNull;
use std::rc::Rc;

use common::replay::{FNV_BASIS, HashPath, Trace, fnv, header_diffs, replay_dir};
use gomap::inspect::{At, header, snapshot};
use gomap::map::{self, HIter, HMap};
use gomap::maptype::{MapType, TypeInfo};
use gomap::{fast64, rand};
use gomap_inspector::json::{Json, hex};

/// Draw `i` of op `n` (rt.ScriptedDraw in go-ref/internal/rt/scripted.go).
fn scripted_draw(seed: u64, n: u64, i: u64) -> u64 {
    let mut z = seed ^ n.wrapping_mul(0xD1B5_4A32_D192_ED03) ^ (i + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum Key {
    U64,
    F64,
}

/// Header fields as the tokens see them.
#[derive(Clone, Copy, PartialEq, Debug)]
struct Hdr {
    count: i64,
    flags: u8,
    b: u8,
    noverflow: u16,
    hash0: u32,
    nevacuate: i64,
    clearseq: u64,
    old: bool,
    nextov: i64,
}

const ZERO_HDR: Hdr =
    Hdr { count: 0, flags: 0, b: 0, noverflow: 0, hash0: 0, nevacuate: 0, clearseq: 0, old: false, nextov: -1 };

/// The token of one op (`token` in go-ref/cmd/oracle/large.go).
fn token(p: &Hdr, c: &Hdr, dcount: i64, draws: usize) -> String {
    let mut t = String::new();
    if c.count - p.count != dcount {
        t += &format!("c{}", c.count - p.count);
    }
    if c.flags != p.flags {
        t += &format!("f{}", c.flags);
    }
    if c.b != p.b {
        t += &format!("b{}", c.b);
    }
    if c.noverflow != p.noverflow {
        t += &format!("o{}", c.noverflow as i64 - p.noverflow as i64);
    }
    if c.hash0 != p.hash0 {
        t += &format!("h{}", c.hash0);
    }
    if c.nevacuate != p.nevacuate {
        t += &format!("e{}", c.nevacuate - p.nevacuate);
    }
    if c.clearseq != p.clearseq {
        t += &format!("s{}", c.clearseq);
    }
    if c.old != p.old {
        t += &format!("g{}", c.old as u8);
    }
    if c.nextov != p.nextov {
        if c.nextov < 0 {
            t += "x-";
        } else if p.nextov < 0 {
            t += &format!("x={}", c.nextov);
        } else {
            t += &format!("x{}", c.nextov - p.nextov);
        }
    }
    if draws > 0 {
        t += &format!("d{draws}");
    }
    t
}

/// Joins tokens as the trace does: `~N` for N empty tokens, a digit string
/// for consecutive `e1`..`e9` tokens, commas between items.
fn encode_tokens(toks: &[String]) -> String {
    let mut items: Vec<String> = Vec::new();
    let (mut quiet, mut digits) = (0, String::new());
    let end = |items: &mut Vec<String>, quiet: &mut usize, digits: &mut String| {
        if *quiet > 0 {
            items.push(format!("~{quiet}"));
            *quiet = 0;
        }
        if !digits.is_empty() {
            items.push(std::mem::take(digits));
        }
    };
    for t in toks {
        let b = t.as_bytes();
        if t.is_empty() {
            if !digits.is_empty() {
                end(&mut items, &mut quiet, &mut digits);
            }
            quiet += 1;
        } else if b.len() == 2 && b[0] == b'e' && (b'1'..=b'9').contains(&b[1]) {
            if quiet > 0 {
                end(&mut items, &mut quiet, &mut digits);
            }
            digits.push(b[1] as char);
        } else {
            end(&mut items, &mut quiet, &mut digits);
            items.push(t.clone());
        }
    }
    end(&mut items, &mut quiet, &mut digits);
    items.join(",")
}

/// The per-op tokens of an encoded stream.
fn decode_tokens(ev: &str) -> Vec<String> {
    let mut out = Vec::new();
    for item in ev.split(',').filter(|s| !s.is_empty()) {
        if let Some(n) = item.strip_prefix('~') {
            out.extend(std::iter::repeat_n(String::new(), n.parse().unwrap()));
        } else if item.bytes().all(|c| c.is_ascii_digit()) {
            out.extend(item.chars().map(|c| format!("e{c}")));
        } else {
            out.push(item.into());
        }
    }
    out
}

/// A delta with its sign.
fn signed(v: &str) -> String {
    if v.starts_with('-') { v.into() } else { format!("+{v}") }
}

/// A token in words: `e1025d1` -> `nevacuate +1025, 1 draw`.
fn explain(tok: &str) -> String {
    if tok.is_empty() {
        return "no change beyond the op's count delta, no draws".into();
    }
    let mut parts = Vec::new();
    let b = tok.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let f = b[i] as char;
        let j = (i + 1..b.len()).find(|&j| b[j].is_ascii_alphabetic()).unwrap_or(b.len());
        let v = &tok[i + 1..j];
        parts.push(match f {
            'c' => format!("count delta {v}"),
            'f' => format!("flags = {v}"),
            'b' => format!("B = {v}"),
            'o' => format!("noverflow {}", signed(v)),
            'h' => format!("hash0 = {v}"),
            'e' => format!("nevacuate {}", signed(v)),
            's' => format!("clearseq = {v}"),
            'g' => format!("oldbuckets = {v}"),
            'x' if v == "-" => "nextoverflow = null".into(),
            'x' if v.starts_with('=') => format!("nextoverflow {v}"),
            'x' => format!("nextoverflow {}", signed(v)),
            'd' => format!("{v} draws"),
            _ => format!("{f}{v}"),
        });
        i = j;
    }
    parts.join(", ")
}

struct Large {
    key: Key,
    t: MapType,
    maps: Vec<NonNull<HMap>>,
    prev: Vec<Hdr>,
    iters: Vec<(HIter, usize)>,
    /// Index of the op being run (read by the draw source).
    n: Rc<Cell<u64>>,
    /// Draws the current op took.
    used: Rc<Cell<u64>>,
    name: String,
}

impl Large {
    fn key_bytes(&self, id: u64) -> [u8; 8] {
        match self.key {
            Key::U64 => id.wrapping_mul(0x100_0000_01B3).wrapping_add(0x1234).to_le_bytes(),
            Key::F64 if id % 61 == 60 => {
                if (id / 61) % 2 == 0 { 0x7ff8_0000_0000_0001u64 } else { 0xfff8_0000_dead_beefu64 }.to_le_bytes()
            }
            Key::F64 => (id as f64 * 0.75 + 1.0).to_bits().to_le_bytes(),
        }
    }

    fn elem_bytes(&self, n: u64) -> [u8; 8] {
        match self.key {
            Key::U64 => n.wrapping_mul(0x9E37_79B9_7F4A_7C15).wrapping_add(1),
            Key::F64 => n.wrapping_mul(0x1656_67B1_9E37_79F9).wrapping_add(5),
        }
        .to_le_bytes()
    }

    fn hdr(&self, m: usize) -> Hdr {
        // SAFETY: a live map of type t, not being written.
        let h = unsafe { header(&self.t, self.maps[m]) };
        Hdr {
            count: h.count as i64,
            flags: h.flags,
            b: h.b,
            noverflow: h.noverflow,
            hash0: h.hash0,
            nevacuate: h.nevacuate as i64,
            clearseq: h.clear_seq,
            old: h.growing,
            nextov: h.next_overflow.map_or(-1, |x| x as i64),
        }
    }

    /// FNV-1a digests of the current and old arrays (`digest` in large.go).
    fn digest(&self, m: usize) -> [String; 2] {
        // SAFETY: a live map of type t, not being written.
        let s = unsafe { snapshot(&self.t, self.maps[m]) };
        let arr = |a: Option<&Vec<Vec<gomap::inspect::Bucket>>>| -> String {
            let mut h = FNV_BASIS;
            for chain in a.into_iter().flatten() {
                for b in chain {
                    h = match b.at {
                        At::Main(_) => fnv(h, b"M"),
                        At::Pre(j) => fnv(fnv(h, b"P"), &(j as u32).to_le_bytes()),
                        At::Heap => fnv(h, b"H"),
                    };
                    h = fnv(h, &b.tophash);
                    for k in b.keys.iter().chain(b.elems.iter()) {
                        h = fnv(h, k.as_deref().expect("inline slots"));
                    }
                }
            }
            format!("{h:016x}")
        };
        let cur = if s.header.array_buckets == 0 { None } else { Some(&s.buckets) };
        [arr(cur), arr(s.oldbuckets.as_ref())]
    }

    fn check_state(&self, m: usize, n: u64, want: &Json) -> Result<(), String> {
        // SAFETY: a live map of type t, not being written.
        let ours = unsafe { header(&self.t, self.maps[m]) };
        let mut diffs = header_diffs(&ours, want.get("hdr"));
        let sums = self.digest(m);
        for (i, what) in ["buckets", "oldbuckets"].iter().enumerate() {
            let go = want.get("sum").arr()[i].str();
            if sums[i] != go {
                diffs.push(format!("{what} digest: gomap {}, Go {go}", sums[i]));
            }
        }
        if diffs.is_empty() {
            Ok(())
        } else {
            Err(format!("{}: after op {n}, map {m} state diverges from Go:\n  {}", self.name, diffs.join("\n  ")))
        }
    }

    /// Runs one op with its scripted draws; returns its token.
    fn step(&mut self, m: usize, dcount: i64, f: impl FnOnce(&mut Self)) -> String {
        self.used.set(0);
        f(self);
        let h = self.hdr(m);
        let tok = token(&self.prev[m], &h, dcount, self.used.get() as usize);
        self.prev[m] = h;
        self.n.set(self.n.get() + 1);
        tok
    }

    fn line(&mut self, l: &Json) -> Result<(), String> {
        let op = l.get("op").str();
        let n0 = l.get("n").u64();
        if n0 != self.n.get() {
            return Err(format!("{}: line for op {n0}, expected op {}", self.name, self.n.get()));
        }
        if op == "final" {
            for (id, st) in l.get("maps").fields() {
                self.check_state(id.parse().unwrap(), n0, st)?;
            }
            return Ok(());
        }
        let m = l.get("map").num();
        let ops = l.get("ops").num();
        let ids: Vec<u64> = if !l.get("k0").is_null() {
            let k0 = l.get("k0").u64();
            (0..ops as u64).map(|i| k0 + i).collect()
        } else if !l.get("ks").is_null() {
            l.get("ks").arr().iter().map(Json::u64).collect()
        } else {
            Vec::new()
        };
        let t: *const MapType = &self.t;
        // SAFETY: `t` lives as long as `self` and is never written.
        let t = unsafe { &*t };
        let mut toks = Vec::with_capacity(ops);
        let (mut nres, mut rfnv, mut done) = (0u64, FNV_BASIS, false);
        let mut res_text = None;
        match op {
            "make" => {
                let hint = l.get("hint").num();
                assert_eq!(m, self.maps.len(), "{}: map ids in order", self.name);
                self.prev.push(ZERO_HDR);
                let tok = self.step_make(hint);
                toks.push(tok);
            }
            "ins" | "del" | "get" => {
                for &id in &ids {
                    let kb = self.key_bytes(id);
                    let vb = self.elem_bytes(self.n.get());
                    let h = self.maps[m].as_ptr();
                    let key = self.key;
                    let dcount = match op {
                        "ins" => 1,
                        "del" => -1,
                        _ => 0,
                    };
                    let mut got = None;
                    let tok = self.step(m, dcount, |_| {
                        // SAFETY: a live map of type t; keys and elems of its types.
                        unsafe {
                            match (op, key) {
                                ("ins", k) => {
                                    let s = if k == Key::U64 {
                                        fast64::mapassign_fast64(t, h, u64::from_le_bytes(kb))
                                    } else {
                                        map::mapassign(t, h, kb.as_ptr())
                                    }
                                    .unwrap();
                                    std::ptr::copy_nonoverlapping(vb.as_ptr(), s.elem.as_ptr(), 8);
                                }
                                ("del", Key::U64) => fast64::mapdelete_fast64(t, h, u64::from_le_bytes(kb)).unwrap(),
                                ("del", _) => map::mapdelete(t, h, kb.as_ptr()).unwrap(),
                                (_, k) => {
                                    let (e, ok) = if k == Key::U64 {
                                        fast64::mapaccess2_fast64(t, h, u64::from_le_bytes(kb))
                                    } else {
                                        map::mapaccess2(t, h, kb.as_ptr())
                                    }
                                    .unwrap();
                                    got = Some((ok, std::slice::from_raw_parts(e, 8).to_vec()));
                                }
                            }
                        }
                    });
                    if let Some((ok, e)) = got {
                        nres += ok as u64;
                        rfnv = fnv(fnv(rfnv, &[ok as u8]), &e);
                    }
                    toks.push(tok);
                }
                if op == "get" {
                    res_text = Some(format!("{{\"hits\":{nres},\"fnv\":\"{rfnv:016x}\"}}"));
                }
            }
            "iterinit" => {
                let itid = l.get("it").num();
                assert_eq!(itid, self.iters.len(), "{}: iterator ids in order", self.name);
                let h = self.maps[m].as_ptr();
                let mut it = HIter::new();
                // SAFETY: a live map; iterators end before maps are freed.
                let tok = self.step(m, 0, |_| unsafe { map::mapiterinit(t, h, &mut it) });
                toks.push(tok);
                res_text = Some(if it.key.is_null() {
                    "null".into()
                } else {
                    let (sb, off) = it.start();
                    // SAFETY: key and elem of the current entry, 8 bytes each.
                    let (k, v) =
                        unsafe { (std::slice::from_raw_parts(it.key, 8), std::slice::from_raw_parts(it.elem, 8)) };
                    format!("{{\"k\":\"{}\",\"v\":\"{}\",\"start\":[{sb},{off}]}}", hex(k), hex(v))
                });
                self.iters.push((it, m));
            }
            "iter" => {
                let itid = l.get("it").num();
                let mut it = std::mem::take(&mut self.iters[itid].0);
                for _ in 0..ops {
                    // SAFETY: registered on a live map.
                    let tok = self.step(m, 0, |_| unsafe { map::mapiternext(&mut it) });
                    toks.push(tok);
                    if it.key.is_null() {
                        done = true;
                    } else {
                        nres += 1;
                        // SAFETY: as in iterinit.
                        unsafe {
                            rfnv = fnv(rfnv, std::slice::from_raw_parts(it.key, 8));
                            rfnv = fnv(rfnv, std::slice::from_raw_parts(it.elem, 8));
                        }
                    }
                }
                self.iters[itid].0 = it;
                res_text = Some(format!("{{\"n\":{nres},\"fnv\":\"{rfnv:016x}\",\"done\":{done}}}"));
            }
            "iterend" => {
                let itid = l.get("it").num();
                let mut it = std::mem::take(&mut self.iters[itid].0);
                // SAFETY: the map is live.
                let tok = self.step(m, 0, |_| unsafe { map::mapiterend(&mut it) });
                toks.push(tok);
            }
            o => return Err(format!("{}: unknown op {o}", self.name)),
        }
        let ev = encode_tokens(&toks);
        let want = l.get("ev").str();
        if ev != want {
            let go = decode_tokens(want);
            let i = (0..toks.len().max(go.len())).find(|&i| toks.get(i) != go.get(i)).unwrap_or(0);
            let (a, b) = (toks.get(i).cloned().unwrap_or_default(), go.get(i).cloned().unwrap_or_default());
            return Err(format!(
                "{}: op {} ({op} #{i} of the line at op {n0}) diverges from Go:\n  gomap: {a:?} ({})\n  Go:    {b:?} ({})",
                self.name,
                n0 + i as u64,
                explain(&a),
                explain(&b)
            ));
        }
        if let Some(r) = res_text {
            let want = l.get("res").compact();
            if r != want {
                return Err(format!(
                    "{}: ops {n0}..{} ({op}) results differ: gomap {r}, Go {want}",
                    self.name,
                    n0 + ops as u64 - 1
                ));
            }
        }
        if !l.get("sum").is_null() {
            self.check_state(m, self.n.get() - 1, l)?;
        }
        Ok(())
    }

    fn step_make(&mut self, hint: usize) -> String {
        self.used.set(0);
        let h = if hint == 0 { map::makemap_small() } else { map::makemap(&self.t, hint as isize) }.unwrap();
        self.maps.push(h);
        let m = self.maps.len() - 1;
        let c = self.hdr(m);
        let tok = token(&ZERO_HDR, &c, 0, self.used.get() as usize);
        self.prev[m] = c;
        self.n.set(self.n.get() + 1);
        tok
    }
}

/// Replays one trace; returns the number of ops.
fn replay_file(path: &Path) -> Result<u64, String> {
    let trace = Trace::open(path, "gomap-large/1");
    let (name, hdr) = (&trace.name, &trace.hdr);
    assert_eq!(hdr.get("rand").str(), "scripted", "{name}");
    let Some(_path) = HashPath::install(hdr, name) else { return Ok(0) };
    let key = match hdr.get("key").str() {
        "u64" => Key::U64,
        "f64" => Key::F64,
        k => panic!("{name}: large traces have u64 or f64 keys, not {k}"),
    };
    let t = match key {
        Key::U64 => MapType::u64_key(TypeInfo::of::<u64>()),
        Key::F64 => MapType::f64_key(TypeInfo::of::<u64>()),
    }
    .unwrap();
    assert_eq!(t.bucketsize(), hdr.get("bucketsize").num(), "{name}: bucketsize");
    assert_eq!(t.flags() as usize, hdr.get("flags").num(), "{name}: flags");
    let seed = hdr.get("seed").u64();
    let n = Rc::new(Cell::new(0u64));
    let used = Rc::new(Cell::new(0u64));
    let mut r = Large {
        key,
        t,
        maps: Vec::new(),
        prev: Vec::new(),
        iters: Vec::new(),
        n: n.clone(),
        used: used.clone(),
        name: name.clone(),
    };
    let (sn, su) = (n.clone(), used.clone());
    let source = move || {
        let i = su.get();
        su.set(i + 1);
        scripted_draw(seed, sn.get(), i)
    };
    let result = rand::with_source(source, || {
        for line in trace.lines() {
            let line = line?;
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| r.line(&line))).map_err(|e| {
                format!("{name}: line at op {} panicked: {}", line.get("n").u64(), common::panic_message(&*e))
            })??;
        }
        Ok(())
    });
    for (it, _) in &mut r.iters {
        // SAFETY: the maps are still alive.
        unsafe { map::mapiterend(it) };
    }
    for h in &r.maps {
        // SAFETY: no live iterators; freed once.
        unsafe { map::mapfree(&r.t, h.as_ptr()) }.unwrap();
    }
    result.map(|()| n.get())
}

#[test]
#[cfg_attr(miri, ignore = "millions of ops")]
fn large_traces() {
    replay_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/large"), replay_file);
}

#[test]
#[cfg_attr(miri, ignore = "needs Go-generated files")]
fn live_large_traces() {
    if let Ok(dir) = std::env::var("GOMAP_LARGE_TRACE_DIR") {
        replay_dir(Path::new(&dir), replay_file);
    }
}

#[test]
fn token_stream_round_trips() {
    let toks: Vec<String> =
        ["", "", "e1", "e3", "o1x1", "e1", "", "e10", "e1025"].iter().map(|s| s.to_string()).collect();
    let ev = encode_tokens(&toks);
    assert_eq!(ev, "~2,13,o1x1,1,~1,e10,e1025");
    assert_eq!(decode_tokens(&ev), toks);
    assert_eq!(explain("e1025d1"), "nevacuate +1025, 1 draws");
}
