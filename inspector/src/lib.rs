//! The inspector's library half: pictures of a map's internals.
//!
//! * [`Frame`]: a map's state ready to draw. It is built from an
//!   [`inspect::Snapshot`] ([`Frame::from_snapshot`]) or, for maps whose keys
//!   point elsewhere (Go strings), straight from the live map
//!   ([`Frame::capture`]), which turns every key and elem into text while
//!   the memory it points to is still alive.
//! * [`Step`]: one moment of a walkthrough: what ran (Go statements), which
//!   gomap and `map_noswiss.go` functions did the work ([`Call`]), notes,
//!   and the frame after it.
//! * Renderers: [`Tour::text`] (a terminal report), [`Tour::svg`] (one
//!   standalone SVG per step), [`Tour::html`] (one self-contained page, all
//!   steps, inline SVG, no external resources).
//! * [`walkthrough`]: the built-in tour of `examples/tour.rs`: growth,
//!   overflow, evacuation, iteration mid-grow, tombstones, same-size growth,
//!   NaN and ±0, and clear, on a deterministic random source.
//! * [`json`]: the JSON reader for go-ref's traces (the root crate's tests
//!   read the golden traces and hash vectors with it too).
//!
//! Text layout of a bucket (one chain per main bucket, overflow buckets
//! follow their predecessor):
//!
//! ```text
//!   [ 3] main      | 0x9c 0xe1 emptyOne 0x6a   emptyRest×4
//!                  | 3=30 7=70          12=120
//!       → heap     | 0x77   emptyRest×7
//!                  | 99=990
//! ```
//!
//! The first row holds the tophash bytes (hex for filled slots, Go's marker
//! names otherwise), the second the slot's `key=elem`. Under `evacuatedX`/`Y`
//! the key left behind in the old bucket is shown in parentheses.

use core::fmt::Write as _;
use core::ptr::NonNull;

use gomap::alg::{self, GoString};
use gomap::inspect::{self, At, Header, Snapshot};
use gomap::map::{
    self, EMPTY_ONE, EMPTY_REST, EVACUATED_EMPTY, EVACUATED_X, EVACUATED_Y, HASH_WRITING, HIter, HMap, ITERATOR,
    MIN_TOP_HASH, OLD_ITERATOR, SAME_SIZE_GROW,
};
use gomap::maptype::{BUCKET_CNT, MapType, TypeInfo};

pub mod goref;
pub mod json;
pub mod script;
pub mod study;

use json::{Json, hex, unhex};

// ---------------------------------------------------------------------------
// Where things are in map_noswiss.go (docs/concordance.md).

/// A function of `map_noswiss.go` (Go 1.24.11) and its gomap twin.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Call {
    /// Go's name.
    pub go: &'static str,
    /// First line of the Go function in `map_noswiss.go`.
    pub line: u32,
    /// The gomap item (path below the crate root).
    pub gomap: &'static str,
}

/// Every function the walkthrough names, with the start line of its Go
/// original (the ranges of `docs/concordance.md`).
pub const CALLS: &[Call] = &[
    Call { go: "tophash", line: 195, gomap: "map::tophash" },
    Call { go: "incrnoverflow", line: 227, gomap: "map::HMap::incrnoverflow" },
    Call { go: "newoverflow", line: 246, gomap: "map::HMap::newoverflow" },
    Call { go: "makemap_small", line: 303, gomap: "map::makemap_small" },
    Call { go: "makemap", line: 324, gomap: "map::makemap" },
    Call { go: "makeBucketArray", line: 365, gomap: "map::make_bucket_array" },
    Call { go: "mapaccess2", line: 485, gomap: "map::mapaccess2" },
    Call { go: "mapaccessK", line: 547, gomap: "map::mapaccess_k" },
    Call { go: "mapassign", line: 620, gomap: "map::mapassign" },
    Call { go: "mapdelete", line: 746, gomap: "map::mapdelete" },
    Call { go: "mapiterinit", line: 881, gomap: "map::mapiterinit" },
    Call { go: "mapiternext", line: 941, gomap: "map::mapiternext" },
    Call { go: "mapclear", line: 1070, gomap: "map::mapclear" },
    Call { go: "hashGrow", line: 1118, gomap: "map::hash_grow" },
    Call { go: "overLoadFactor", line: 1162, gomap: "map::over_load_factor" },
    Call { go: "tooManyOverflowBuckets", line: 1169, gomap: "map::too_many_overflow_buckets" },
    Call { go: "growWork", line: 1210, gomap: "map::grow_work" },
    Call { go: "evacuate", line: 1234, gomap: "map::evacuate" },
    Call { go: "advanceEvacuationMark", line: 1348, gomap: "map::advance_evacuation_mark" },
    Call { go: "mapclone2", line: 1654, gomap: "map::mapclone2" },
];

/// Looks up a [`Call`] by Go name. Panics on an unknown name (a bug in the
/// caller, caught by the tests).
pub fn call(go: &str) -> Call {
    *CALLS.iter().find(|c| c.go == go).unwrap_or_else(|| panic!("no Call entry for {go}"))
}

// ---------------------------------------------------------------------------
// Values.

/// How to show a key or elem's bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValueKind {
    /// Little-endian `uint64`.
    U64,
    /// Little-endian `uint32`.
    U32,
    /// `float64`; NaN and the sign of zero are shown (`NaN`, `+0`, `-0`).
    F64,
    /// A Go string header `{ptr, len}`. Only [`Frame::capture`] can show
    /// the text; from bytes alone it is shown as `<str len=N>`.
    Str,
    /// Raw bytes in hex.
    Hex,
}

/// Formats a float64 the way the inspector shows keys: `NaN`, `+0`, `-0`,
/// else Rust's shortest round-trip form.
pub fn fmt_f64(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v == 0.0 {
        if v.is_sign_negative() { "-0".into() } else { "+0".into() }
    } else {
        format!("{v}")
    }
}

/// Quotes string key text the way Go's `%q` would for simple text.
pub fn quote(s: &str) -> String {
    let mut o = String::with_capacity(s.len() + 2);
    o.push('"');
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            c if c.is_control() => {
                let _ = write!(o, "\\u{{{:x}}}", c as u32);
            }
            c => o.push(c),
        }
    }
    o.push('"');
    o
}

impl ValueKind {
    /// Shows a value from its bytes (as [`inspect::Bucket`] holds them).
    pub fn show(self, b: &[u8]) -> String {
        /// A string header's word: its length is the second.
        const W: usize = size_of::<usize>();
        fn arr<const N: usize>(b: &[u8]) -> Option<[u8; N]> {
            b.get(..N).and_then(|s| s.try_into().ok())
        }
        match self {
            ValueKind::U64 => arr::<8>(b).map_or_else(|| hex(b), |a| u64::from_le_bytes(a).to_string()),
            ValueKind::U32 => arr::<4>(b).map_or_else(|| hex(b), |a| u32::from_le_bytes(a).to_string()),
            ValueKind::F64 => arr::<8>(b).map_or_else(|| hex(b), |a| fmt_f64(f64::from_le_bytes(a))),
            ValueKind::Str => match b.get(W..2 * W).and_then(|s| <[u8; W]>::try_from(s).ok()) {
                Some(l) => format!("<str len={}>", usize::from_le_bytes(l)),
                None => hex(b),
            },
            ValueKind::Hex => hex(b),
        }
    }
}

// ---------------------------------------------------------------------------
// Frames.

/// One slot, ready to draw.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SlotView {
    /// The tophash byte.
    pub top: u8,
    /// Key text: filled slots; the stale copy under `evacuatedX/Y` when it
    /// can be shown from bytes alone; empty otherwise.
    pub key: String,
    /// Elem text of filled slots; empty otherwise.
    pub elem: String,
}

/// One bucket of a chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BucketView {
    /// Where it lives.
    pub at: At,
    /// Its 8 slots.
    pub slots: Vec<SlotView>,
}

/// A map's state, ready to draw: header, the chains of the current array,
/// and those of the old array while growing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    /// `hmap` fields.
    pub header: Header,
    /// One chain per main bucket.
    pub buckets: Vec<Vec<BucketView>>,
    /// One chain per old main bucket, while growing.
    pub oldbuckets: Option<Vec<Vec<BucketView>>>,
}

/// Go's name of a tophash marker, or `None` for a filled slot.
pub fn marker_name(top: u8) -> Option<&'static str> {
    Some(match top {
        EMPTY_REST => "emptyRest",
        EMPTY_ONE => "emptyOne",
        EVACUATED_X => "evacuatedX",
        EVACUATED_Y => "evacuatedY",
        EVACUATED_EMPTY => "evacuatedEmpty",
        _ => return None,
    })
}

/// Names of the `hmap.flags` bits that are set, Go's names, `|`-joined.
pub fn flag_names(flags: u8) -> String {
    let names: Vec<&str> = [
        (ITERATOR, "iterator"),
        (OLD_ITERATOR, "oldIterator"),
        (HASH_WRITING, "hashWriting"),
        (SAME_SIZE_GROW, "sameSizeGrow"),
    ]
    .iter()
    .filter(|(bit, _)| flags & bit != 0)
    .map(|&(_, n)| n)
    .collect();
    names.join("|")
}

fn is_evacuated_chain(chain: &[BucketView]) -> bool {
    chain.first().is_some_and(|b| (EVACUATED_X..MIN_TOP_HASH).contains(&b.slots[0].top))
}

impl Frame {
    /// Builds a frame from a snapshot. String keys can't be followed from
    /// bytes alone and show as `<str len=N>`; use [`Frame::capture`] for them.
    pub fn from_snapshot(s: &Snapshot, key: ValueKind, elem: ValueKind) -> Frame {
        let conv = |chains: &Vec<Vec<inspect::Bucket>>| -> Vec<Vec<BucketView>> {
            chains
                .iter()
                .map(|chain| {
                    chain
                        .iter()
                        .map(|b| BucketView {
                            at: b.at,
                            slots: (0..BUCKET_CNT)
                                .map(|i| {
                                    let top = b.tophash[i];
                                    let show_key = top >= MIN_TOP_HASH
                                        || ((top == EVACUATED_X || top == EVACUATED_Y) && key != ValueKind::Str);
                                    let k = if show_key { b.keys[i].as_deref().map(|k| key.show(k)) } else { None };
                                    let e = if top >= MIN_TOP_HASH {
                                        b.elems[i].as_deref().map(|e| elem.show(e))
                                    } else {
                                        None
                                    };
                                    SlotView { top, key: k.unwrap_or_default(), elem: e.unwrap_or_default() }
                                })
                                .collect(),
                        })
                        .collect()
                })
                .collect()
        };
        Frame { header: s.header.clone(), buckets: conv(&s.buckets), oldbuckets: s.oldbuckets.as_ref().map(conv) }
    }

    /// Builds a frame from a live map, following string keys while the map
    /// (and so the bytes its keys point to) is alive.
    ///
    /// # Safety
    /// `h` is a live map of type `t`, not being written. If `key` is
    /// [`ValueKind::Str`], `t`'s keys are [`GoString`] headers (as
    /// [`MapType::str_key`]) and every filled slot's header points to
    /// readable bytes (what any string-keyed map guarantees).
    pub unsafe fn capture(t: &MapType, h: NonNull<HMap>, key: ValueKind, elem: ValueKind) -> Frame {
        // SAFETY: a live map, not being written (caller).
        let s = unsafe { inspect::snapshot(t, h) };
        let mut f = Frame::from_snapshot(&s, key, elem);
        if t.bucket_pointers() {
            // evacuate may have cleared the old slots (:1333): show no stale keys.
            for b in f.buckets.iter_mut().chain(f.oldbuckets.iter_mut().flatten()).flatten() {
                for slot in b.slots.iter_mut().filter(|s| s.top < MIN_TOP_HASH) {
                    slot.key.clear();
                }
            }
        }
        if key == ValueKind::Str && t.key().size == core::mem::size_of::<GoString>() {
            // SAFETY: a live map not being written, with string keys whose
            // filled slots point to readable bytes (caller).
            let cur = unsafe { inspect::string_keys(t, h, inspect::Array::Current) };
            fill_strings(&cur, &mut f.buckets);
            if let Some(old) = f.oldbuckets.as_mut() {
                // SAFETY: as for the current array.
                let olds = unsafe { inspect::string_keys(t, h, inspect::Array::Old) };
                fill_strings(&olds, old);
            }
        }
        f
    }

    /// Number of filled slots (tophash ≥ minTopHash) in the current array
    /// and in old buckets not yet evacuated: what `count` must be.
    pub fn live(&self) -> usize {
        let count = |chains: &[Vec<BucketView>], skip_evacuated: bool| -> usize {
            chains
                .iter()
                .filter(|c| !(skip_evacuated && is_evacuated_chain(c)))
                .flatten()
                .flat_map(|b| &b.slots)
                .filter(|s| s.top >= MIN_TOP_HASH)
                .count()
        };
        count(&self.buckets, false) + self.oldbuckets.as_deref().map_or(0, |o| count(o, true))
    }

    /// Overflow buckets hanging off the current array.
    pub fn overflow_buckets(&self) -> usize {
        self.buckets.iter().map(|c| c.len().saturating_sub(1)).sum()
    }

    /// Old buckets already evacuated.
    pub fn evacuated_old(&self) -> Vec<usize> {
        self.oldbuckets.as_deref().map_or_else(Vec::new, |o| {
            o.iter().enumerate().filter(|(_, c)| is_evacuated_chain(c)).map(|(i, _)| i).collect()
        })
    }

    /// The current array's preallocated overflow buckets (index in the
    /// array) and the chain using each, if any.
    pub fn preallocated(&self) -> Vec<(usize, Option<usize>)> {
        let nmain = self.buckets.len();
        (nmain..self.header.array_buckets)
            .map(|p| (p, self.buckets.iter().position(|c| c.iter().any(|b| b.at == At::Pre(p)))))
            .collect()
    }

    /// One line on the preallocated overflow buckets, if the array has any.
    pub fn preallocated_line(&self) -> Option<String> {
        let pre = self.preallocated();
        if pre.is_empty() {
            return None;
        }
        let items: Vec<String> = pre
            .iter()
            .map(|&(p, used)| match used {
                Some(c) => format!("#{p} in chain [{c}]"),
                None if self.header.next_overflow == Some(p) => format!("#{p} free (nextOverflow)"),
                None => format!("#{p} free"),
            })
            .collect();
        Some(format!("preallocated overflow buckets: {}", items.join(", ")))
    }

    /// `name=value` pairs of the header, in the order the renderers show them.
    pub fn header_fields(&self) -> Vec<(&'static str, String)> {
        let h = &self.header;
        let flags = if h.flags == 0 { "0".to_string() } else { format!("{:#04x}({})", h.flags, flag_names(h.flags)) };
        let nmain = self.buckets.len();
        vec![
            ("count", h.count.to_string()),
            ("B", h.b.to_string()),
            ("flags", flags),
            ("noverflow", h.noverflow.to_string()),
            ("hash0", format!("{:#010x}", h.hash0)),
            ("nevacuate", h.nevacuate.to_string()),
            ("clearSeq", h.clear_seq.to_string()),
            ("oldbuckets", self.oldbuckets.as_ref().map_or_else(|| "nil".to_string(), |o| o.len().to_string())),
            ("nextOverflow", h.next_overflow.map_or_else(|| "nil".to_string(), |i| format!("#{i}"))),
            ("array", format!("{}+{}", nmain, h.array_buckets.saturating_sub(nmain))),
        ]
    }

    /// The header as one line: `hmap: count=9 B=1 …` (shared by every
    /// renderer, so tests can compare them).
    pub fn header_line(&self) -> String {
        let mut s = String::from("hmap:");
        for (k, v) in self.header_fields() {
            let _ = write!(s, " {k}={v}");
        }
        s
    }
}

/// Replaces the key text of filled slots with the strings they point to
/// (`strs` from [`inspect::string_keys`] of the same array).
fn fill_strings(strs: &[Vec<Vec<Option<Vec<u8>>>>], chains: &mut [Vec<BucketView>]) {
    for (chain, schain) in chains.iter_mut().zip(strs) {
        for (view, sb) in chain.iter_mut().zip(schain) {
            for (slot, sk) in view.slots.iter_mut().zip(sb) {
                if slot.top < MIN_TOP_HASH {
                    continue;
                }
                if let Some(bytes) = sk {
                    slot.key = quote(&String::from_utf8_lossy(bytes));
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Steps and tours.

/// One moment of a walkthrough.
#[derive(Clone, Debug)]
pub struct Step {
    /// What happened, in a few words.
    pub title: String,
    /// The functions that did the work, in call order.
    pub calls: Vec<Call>,
    /// The Go statements run since the previous step (abbreviated when long).
    pub ops: Vec<String>,
    /// Explanations and observations.
    pub notes: Vec<String>,
    /// The map shown (`m := make(map[uint64]uint64)` style declaration).
    pub map: String,
    /// The state after the step.
    pub frame: Frame,
    /// The same moment in another implementation (real Go), shown side by
    /// side with differences marked.
    pub other: Option<(String, Frame)>,
}

/// A sequence of steps with an introduction.
#[derive(Clone, Debug)]
pub struct Tour {
    /// Heading.
    pub title: String,
    /// Lines printed before the steps (setup, legend).
    pub intro: Vec<String>,
    /// The steps.
    pub steps: Vec<Step>,
}

/// The legend lines shared by the text and HTML renderers.
pub const LEGEND: &[&str] = &[
    "tophash row: 0x9c = a filled slot (top byte of the key's hash, bumped to >= minTopHash = 5 by tophash :195);",
    "  emptyRest (0) = empty and nothing after it in the chain; emptyOne (1) = empty, keep looking;",
    "  evacuatedX (2) / evacuatedY (3) = moved to the X (same index) / Y (index + old size) bucket;",
    "  evacuatedEmpty (4) = was empty when evacuated (map_noswiss.go:91-96). emptyRest×N: N of them.",
    "key row: key=elem; (k) = the stale key left in an old bucket after evacuation.",
    "chains: main = bucket i of the array; → pre#N = preallocated overflow bucket N of the same array",
    "  (makeBucketArray :365); → heap = allocated by newoverflow :246.",
];

impl Tour {
    /// The whole tour as terminal text.
    pub fn text(&self) -> String {
        let mut o = String::new();
        let _ = writeln!(o, "{}", self.title);
        for l in &self.intro {
            let _ = writeln!(o, "{l}");
        }
        for (i, s) in self.steps.iter().enumerate() {
            o.push('\n');
            o.push_str(&step_text(s, i + 1, self.steps.len()));
        }
        o
    }

    /// Step `i` (0-based) as a standalone SVG document.
    pub fn svg(&self, i: usize) -> String {
        step_svg(&self.steps[i], self.prev(i), i + 1, self.steps.len(), true)
    }

    /// The previous step's frame if it shows the same map.
    pub fn prev(&self, i: usize) -> Option<&Frame> {
        let p = self.steps.get(i.checked_sub(1)?)?;
        (p.map == self.steps[i].map).then_some(&p.frame)
    }

    /// All steps as one self-contained study page ([`study`]): inline SVG,
    /// CSS and script, no external resources; line references link to Go's
    /// source online. Well-formed XML as well.
    pub fn html(&self) -> String {
        study::page(self, None)
    }

    /// As [`Tour::html`], with `map_noswiss.go` embedded beside the pictures.
    pub fn html_with_source(&self, src: &study::GoSource) -> String {
        study::page(self, Some(src))
    }
}

fn calls_line(calls: &[Call]) -> (String, String) {
    let g: Vec<String> = calls.iter().map(|c| c.gomap.to_string()).collect();
    let go: Vec<String> = calls.iter().map(|c| format!("{} :{}", c.go, c.line)).collect();
    (g.join(" → "), go.join(" → "))
}

/// Renders one step as text.
pub fn step_text(s: &Step, n: usize, total: usize) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "== Step {n}/{total}: {}", s.title);
    if !s.calls.is_empty() {
        let (g, go) = calls_line(&s.calls);
        let _ = writeln!(o, "   gomap: {g}");
        let _ = writeln!(o, "   Go:    {go}   (map_noswiss.go)");
    }
    for op in &s.ops {
        let _ = writeln!(o, "   > {op}");
    }
    for note in &s.notes {
        let _ = writeln!(o, "   * {note}");
    }
    let _ = writeln!(o, "   {}: {}", s.map, s.frame.header_line());
    o.push_str(&frame_text(&s.frame, "   "));
    if let Some((name, other)) = &s.other {
        let diffs = diff_frames(&s.frame, other);
        let _ = writeln!(o, "   --- {name}: {}", other.header_line());
        if diffs.is_empty() {
            let _ = writeln!(o, "   --- {name}: identical to the state above");
        } else {
            let _ = writeln!(o, "   --- {name}: {} difference(s):", diffs.len());
            for d in diffs.iter().take(40) {
                let _ = writeln!(o, "   !! {d}");
            }
            o.push_str(&frame_text(other, "   "));
        }
    }
    o
}

/// Renders a frame's arrays as text (see the module docs for the layout).
pub fn frame_text(f: &Frame, ind: &str) -> String {
    let mut o = String::new();
    let nb = f.buckets.len();
    if nb == 0 {
        let _ = writeln!(o, "{ind}buckets: nil (allocated by the first insert)");
    } else {
        let pre = f.header.array_buckets.saturating_sub(nb);
        let _ = writeln!(
            o,
            "{ind}buckets: 2^{} = {nb} main{}",
            f.header.b,
            if pre > 0 { format!(" + {pre} preallocated overflow") } else { String::new() }
        );
        for (i, chain) in f.buckets.iter().enumerate() {
            chain_text(&mut o, ind, i, chain, nb);
        }
        if let Some(l) = f.preallocated_line() {
            let _ = writeln!(o, "{ind}{l}");
        }
    }
    if let Some(old) = &f.oldbuckets {
        let n = old.len();
        let same = f.header.flags & SAME_SIZE_GROW != 0;
        let _ = writeln!(
            o,
            "{ind}oldbuckets: {n} main, being evacuated ({}); nevacuate={}: old buckets below it are done",
            if same { "same-size grow: all to X".to_string() } else { format!("old bucket i → X [i] or Y [i+{n}]") },
            f.header.nevacuate
        );
        for (i, chain) in old.iter().enumerate() {
            chain_text(&mut o, ind, i, chain, n);
        }
    }
    o
}

fn slot_cells(b: &BucketView) -> (Vec<String>, Vec<String>) {
    // Collapse a trailing run (two or more) of emptyRest or evacuatedEmpty.
    let last = b.slots[BUCKET_CNT - 1].top;
    let mut end = BUCKET_CNT;
    if last == EMPTY_REST || last == EVACUATED_EMPTY {
        while end > 0 && b.slots[end - 1].top == last {
            end -= 1;
        }
    }
    let run = BUCKET_CNT - end;
    let (end, run) = if run >= 2 { (end, run) } else { (BUCKET_CNT, 0) };
    let mut tops = Vec::new();
    let mut keys = Vec::new();
    for s in &b.slots[..end] {
        match marker_name(s.top) {
            Some(m) => {
                tops.push(m.to_string());
                keys.push(if s.key.is_empty() { String::new() } else { format!("({})", s.key) });
            }
            None => {
                tops.push(format!("{:#04x}", s.top));
                keys.push(if s.elem.is_empty() { s.key.clone() } else { format!("{}={}", s.key, s.elem) });
            }
        }
    }
    if run > 0 {
        tops.push(format!("{}×{run}", marker_name(last).unwrap_or("?")));
    }
    (tops, keys)
}

fn chain_text(o: &mut String, ind: &str, i: usize, chain: &[BucketView], n: usize) {
    let w = n.saturating_sub(1).to_string().len().max(1);
    for b in chain {
        let label = match b.at {
            At::Main(_) => format!("[{i:>w$}] main"),
            At::Pre(p) => format!("{:w$}  → pre#{p}", ""),
            At::Heap => format!("{:w$}  → heap", ""),
        };
        let (tops, keys) = slot_cells(b);
        let widths: Vec<usize> = (0..tops.len())
            .map(|c| tops[c].chars().count().max(keys.get(c).map_or(0, |k| k.chars().count())))
            .collect();
        let lw = w + 13;
        let mut l1 = format!("{ind}{label:<lw$}|");
        let mut l2 = format!("{ind}{:<lw$}|", "");
        for (c, width) in widths.iter().enumerate() {
            let _ = write!(l1, " {:<width$}", tops[c]);
            let _ = write!(l2, " {:<width$}", keys.get(c).map_or("", String::as_str));
        }
        let _ = writeln!(o, "{}", l1.trim_end());
        let l2 = l2.trim_end();
        if !l2.ends_with('|') {
            // (a key row only when some slot shows a key)
            let _ = writeln!(o, "{l2}");
        }
    }
}

/// Lists the differences between two frames (header fields, then slots).
pub fn diff_frames(a: &Frame, b: &Frame) -> Vec<String> {
    let mut d = Vec::new();
    for ((k, va), (_, vb)) in a.header_fields().iter().zip(b.header_fields()) {
        if *va != vb {
            d.push(format!("hmap.{k}: {va} vs {vb}"));
        }
    }
    let arrays =
        [("buckets", Some(&a.buckets), Some(&b.buckets)), ("oldbuckets", a.oldbuckets.as_ref(), b.oldbuckets.as_ref())];
    for (name, x, y) in arrays {
        let (x, y) = match (x, y) {
            (Some(x), Some(y)) => (x, y),
            (None, None) => continue,
            _ => {
                d.push(format!("{name}: present in one state only"));
                continue;
            }
        };
        if x.len() != y.len() {
            d.push(format!("{name}: {} vs {} main buckets", x.len(), y.len()));
            continue;
        }
        for (i, (cx, cy)) in x.iter().zip(y).enumerate() {
            if cx.len() != cy.len() {
                d.push(format!("{name}[{i}]: chain of {} vs {} buckets", cx.len(), cy.len()));
            }
            for (j, (bx, by)) in cx.iter().zip(cy).enumerate() {
                if bx.at != by.at {
                    d.push(format!("{name}[{i}] bucket {j}: at {:?} vs {:?}", bx.at, by.at));
                }
                for (s, (sx, sy)) in bx.slots.iter().zip(&by.slots).enumerate() {
                    if sx != sy {
                        d.push(format!(
                            "{name}[{i}] bucket {j} slot {s}: {} {}={} vs {} {}={}",
                            sx.top, sx.key, sx.elem, sy.top, sy.key, sy.elem
                        ));
                    }
                }
            }
        }
    }
    d
}

// ---------------------------------------------------------------------------
// XML helpers.

/// Escapes text for XML/HTML content and attribute values.
pub fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

fn wrap(s: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut cur = String::new();
    for w in s.split(' ') {
        if !cur.is_empty() && cur.chars().count() + 1 + w.chars().count() > width {
            lines.push(std::mem::take(&mut cur));
        }
        if !cur.is_empty() {
            cur.push(' ');
        }
        cur.push_str(w);
    }
    if !cur.is_empty() {
        lines.push(cur);
    }
    lines
}

// ---------------------------------------------------------------------------
// SVG.

const CELL_W: i64 = 66;
const CELL_H: i64 = 42;
const ROW_H: i64 = 52;
const LABEL_W: i64 = 58;
const LINK_W: i64 = 62;
const CHAR_W: f64 = 6.7; // monospace 11px, generously
const BUCKET_W: i64 = CELL_W * BUCKET_CNT as i64;

fn fill_of(top: u8) -> (&'static str, &'static str) {
    // (fill, class)
    match top {
        EMPTY_REST => ("#ffffff", "er"),
        EMPTY_ONE => ("#fde2e2", "eo"),
        EVACUATED_X => ("#d9f5dd", "ex"),
        EVACUATED_Y => ("#fdebc8", "ey"),
        EVACUATED_EMPTY => ("#eeeeee", "ee"),
        _ => ("#dce9fb", "live"),
    }
}

fn short_marker(top: u8) -> &'static str {
    match top {
        EMPTY_REST => "emptyRest",
        EMPTY_ONE => "emptyOne",
        EVACUATED_X => "evacX",
        EVACUATED_Y => "evacY",
        EVACUATED_EMPTY => "evacEmpty",
        _ => "",
    }
}

fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

struct Svg {
    o: String,
    /// The step number: ids inside the picture end in it, so that the
    /// pictures of one HTML page never share an id.
    step: usize,
}

impl Svg {
    fn text(&mut self, x: i64, y: i64, class: &str, s: &str) {
        let _ = writeln!(self.o, r#"<text x="{x}" y="{y}" class="{class}">{}</text>"#, esc(s));
    }
    fn text_mid(&mut self, x: i64, y: i64, class: &str, s: &str) {
        let _ = writeln!(self.o, r#"<text x="{x}" y="{y}" class="{class}" text-anchor="middle">{}</text>"#, esc(s));
    }
    fn rect(&mut self, (x, y, w, h): (i64, i64, i64, i64), fill: &str, (stroke, sw): (&str, f64)) {
        let _ = writeln!(
            self.o,
            r#"<rect x="{x}" y="{y}" width="{w}" height="{h}" fill="{fill}" stroke="{stroke}" stroke-width="{sw}"/>"#
        );
    }
}

/// Per-slot difference marks for side-by-side pictures: (array, chain,
/// bucket, slot) positions that differ.
type DiffSet = std::collections::BTreeSet<(u8, usize, usize, usize)>;

fn diff_set(a: &Frame, b: &Frame) -> DiffSet {
    let mut s = DiffSet::new();
    let pairs = [(0u8, Some(&a.buckets), Some(&b.buckets)), (1u8, a.oldbuckets.as_ref(), b.oldbuckets.as_ref())];
    for (arr, x, y) in pairs {
        let (Some(x), Some(y)) = (x, y) else { continue };
        for (i, cx) in x.iter().enumerate() {
            let cy = y.get(i);
            for (j, bx) in cx.iter().enumerate() {
                let by = cy.and_then(|c| c.get(j));
                for (k, sx) in bx.slots.iter().enumerate() {
                    if by.is_none_or(|by| by.at != bx.at || by.slots[k] != *sx) {
                        s.insert((arr, i, j, k));
                    }
                }
            }
        }
    }
    s
}

fn array_width(chains: &[Vec<BucketView>]) -> i64 {
    let maxlen = chains.iter().map(Vec::len).max().unwrap_or(1).max(1) as i64;
    LABEL_W + maxlen * BUCKET_W + (maxlen - 1) * LINK_W + 10
}

fn frame_width(f: &Frame) -> i64 {
    let a = array_width(&f.buckets);
    let b = f.oldbuckets.as_deref().map_or(0, |o| array_width(o) + 300);
    a.max(b).max(760)
}

/// What [`draw_array`] needs to annotate an old array.
struct OldInfo {
    nevacuate: usize,
    same: bool,
    /// Old buckets evacuated since the previous step.
    fresh: Vec<usize>,
}

/// Old buckets evacuated between `prev` and `f` (all evacuated ones if
/// the growth started in between).
fn fresh_evacuations(f: &Frame, prev: Option<&Frame>) -> Vec<usize> {
    let now = f.evacuated_old();
    match prev {
        Some(p) if p.oldbuckets.is_some() && p.header.b == f.header.b => {
            let before = p.evacuated_old();
            now.into_iter().filter(|i| !before.contains(i)).collect()
        }
        Some(_) => now,
        None => Vec::new(),
    }
}

/// Draws one array; returns the height used.
#[allow(clippy::too_many_arguments)]
fn draw_array(
    g: &mut Svg,
    x0: i64,
    y0: i64,
    title: &str,
    chains: &[Vec<BucketView>],
    arr: u8,
    old: Option<&OldInfo>,
    (diffs, changed): (&DiffSet, &DiffSet),
) -> i64 {
    g.text(x0, y0 + 14, "h2", title);
    let mut y = y0 + 24;
    let n = chains.len();
    for (i, chain) in chains.iter().enumerate() {
        let evac = is_evacuated_chain(chain);
        let label_class = if old.is_some() && evac { "lbl dim" } else { "lbl" };
        let _ = writeln!(g.o, r#"<g class="row" data-arr="{arr}" data-i="{i}">"#);
        g.text(x0, y + CELL_H / 2 + 4, label_class, &format!("[{i}]"));
        let mut x = x0 + LABEL_W;
        for (j, b) in chain.iter().enumerate() {
            if j > 0 {
                // link from the previous bucket's overflow pointer
                let ly = y + CELL_H / 2;
                let _ = writeln!(
                    g.o,
                    r##"<line x1="{}" y1="{ly}" x2="{}" y2="{ly}" stroke="#555" stroke-width="1.5" marker-end="url(#arrow-{})"/>"##,
                    x - LINK_W + 2,
                    x - 4,
                    g.step
                );
                let origin = match b.at {
                    At::Pre(p) => format!("pre#{p}"),
                    At::Heap => "heap".to_string(),
                    At::Main(_) => String::new(),
                };
                g.text_mid(x - LINK_W / 2, ly - 6, "org", &origin);
            }
            for (k, s) in b.slots.iter().enumerate() {
                let cx = x + k as i64 * CELL_W;
                let (fill, class) = fill_of(s.top);
                let (stroke, sw) = if diffs.contains(&(arr, i, j, k)) {
                    ("#d00000", 3.0)
                } else if changed.contains(&(arr, i, j, k)) {
                    ("#f08c00", 2.5)
                } else {
                    ("#9aa4b2", 1.0)
                };
                let _ = writeln!(
                    g.o,
                    r#"<rect x="{cx}" y="{y}" width="{CELL_W}" height="{CELL_H}" fill="{fill}" stroke="{stroke}" stroke-width="{sw}" class="{class}" data-c="{arr}-{i}-{j}-{k}"/>"#
                );
                let mid = cx + CELL_W / 2;
                if s.top >= MIN_TOP_HASH {
                    g.text_mid(mid, y + 12, "th", &format!("{:#04x}", s.top));
                    g.text_mid(mid, y + 25, "k", &clip(&s.key, 9));
                    g.text_mid(mid, y + 37, "e", &clip(&s.elem, 9));
                } else {
                    g.text_mid(mid, y + 12, if s.top == EMPTY_REST { "mk er" } else { "mk" }, short_marker(s.top));
                    if !s.key.is_empty() {
                        g.text_mid(mid, y + 25, "stale", &clip(&format!("({})", s.key), 9));
                    }
                }
            }
            // bucket outline
            let _ = writeln!(
                g.o,
                r##"<rect x="{x}" y="{y}" width="{BUCKET_W}" height="{CELL_H}" fill="none" stroke="#334155" stroke-width="1.6"/>"##
            );
            x += BUCKET_W + LINK_W;
        }
        if let Some(&OldInfo { nevacuate, same, ref fresh }) = old {
            let now = fresh.contains(&i);
            let done = if now { "newly evacuated" } else { "evacuated" };
            let status = if evac {
                if same { format!("{done} → X [{i}]") } else { format!("{done} → X [{i}], Y [{}]", i + n) }
            } else if same {
                format!("pending → X [{i}]")
            } else {
                format!("pending → X [{i}] or Y [{}]", i + n)
            };
            let sx = x - LINK_W + 14; // right after the chain's last bucket
            let class = if now {
                "st now"
            } else if evac {
                "st dim"
            } else {
                "st"
            };
            g.text(sx, y + CELL_H / 2 + 4, class, &status);
            if i == nevacuate {
                g.text(sx, y + CELL_H / 2 + 17, "nev", "◀ nevacuate");
            }
        }
        let _ = writeln!(g.o, "</g>");
        y += ROW_H;
    }
    if let Some(&OldInfo { nevacuate, .. }) = old {
        if nevacuate >= n {
            g.text(x0, y + 4, "nev", &format!("nevacuate = {nevacuate}"));
            y += 12;
        }
    }
    y - y0
}

fn header_boxes(g: &mut Svg, x0: i64, y0: i64, f: &Frame, other: Option<&Frame>) -> i64 {
    let mut x = x0;
    let mut y = y0;
    let fields = f.header_fields();
    let ofields = other.map(Frame::header_fields);
    let maxx = x0 + frame_width(f).max(900) - 20;
    for (idx, (k, v)) in fields.iter().enumerate() {
        let w = ((k.len() as f64 * 6.2).max(v.len() as f64 * 7.6)) as i64 + 14;
        if x + w > maxx {
            x = x0;
            y += 40;
        }
        let differs = ofields.as_ref().is_some_and(|o| o[idx].1 != *v);
        let (stroke, sw) = if differs { ("#d00000", 3.0) } else { ("#94a3b8", 1.0) };
        g.rect((x, y, w, 34), "#f8fafc", (stroke, sw));
        g.text(x + 6, y + 13, "hk", k);
        g.text(x + 6, y + 28, "hv", v);
        x += w + 6;
    }
    y + 40 - y0
}

/// Draws a frame (header + arrays) at (x0, y0); returns (width, height).
#[allow(clippy::too_many_arguments)]
fn draw_frame(
    g: &mut Svg,
    x0: i64,
    y0: i64,
    name: &str,
    f: &Frame,
    prev: Option<&Frame>,
    other: Option<&Frame>,
) -> (i64, i64) {
    let diffs = other.map_or_else(DiffSet::new, |o| diff_set(f, o));
    // Cells this step changed: only when the previous step shows the same
    // arrays (same B, same growth), so positions correspond.
    let changed = match prev {
        Some(p)
            if p.buckets.len() == f.buckets.len()
                && p.oldbuckets.as_ref().map(Vec::len) == f.oldbuckets.as_ref().map(Vec::len) =>
        {
            diff_set(f, p)
        }
        _ => DiffSet::new(),
    };
    let mut y = y0;
    g.text(x0, y + 14, "h1", name);
    y += 22;
    y += header_boxes(g, x0, y, f, other);
    if f.buckets.is_empty() {
        g.text(x0, y + 16, "note", "buckets = nil: the first insert allocates the array");
        y += 28;
    } else {
        let pre = f.header.array_buckets.saturating_sub(f.buckets.len());
        let title = format!(
            "buckets: 2^{} = {} main{}",
            f.header.b,
            f.buckets.len(),
            if pre > 0 { format!(" + {pre} preallocated overflow") } else { String::new() }
        );
        y += draw_array(g, x0, y, &title, &f.buckets, 0, None, (&diffs, &changed));
        if let Some(l) = f.preallocated_line() {
            g.text(x0, y + 8, "pre", &l);
            y += 16;
        }
        y += 8;
    }
    if let Some(old) = &f.oldbuckets {
        let same = f.header.flags & SAME_SIZE_GROW != 0;
        let title = format!(
            "oldbuckets: {} main, being evacuated{} — nevacuate = {}",
            old.len(),
            if same { " (same-size grow)" } else { "" },
            f.header.nevacuate
        );
        let info = OldInfo { nevacuate: f.header.nevacuate, same, fresh: fresh_evacuations(f, prev) };
        y += draw_array(g, x0, y, &title, old, 1, Some(&info), (&diffs, &changed)) + 8;
    }
    (frame_width(f), y - y0)
}

const SVG_STYLE: &str = "text{font-family:'DejaVu Sans Mono',Menlo,Consolas,monospace;font-size:11px;fill:#111}\
.t{font-size:15px;font-weight:bold}.h1{font-size:13px;font-weight:bold}.h2{font-size:12px;font-weight:bold;fill:#334155}\
.sub{fill:#334155}.op{fill:#1d4ed8}.note{fill:#222}.lbl{font-weight:bold}.dim{fill:#94a3b8}\
.th{font-weight:bold;font-size:11px}.k{font-size:11px}.e{font-size:10px;fill:#64748b}\
.mk{font-size:10px;fill:#475569}.mk.er{fill:#b8c2cf}.stale{font-size:10px;fill:#64748b}.org{font-size:10px;fill:#7c3aed}\
.st{font-size:11px;fill:#0f766e}.st.now{font-weight:bold;fill:#c2410c}.pre{font-size:11px;fill:#7c3aed}.nev{font-size:11px;font-weight:bold;fill:#b45309}\
.hk{font-size:10px;fill:#64748b}.hv{font-size:12px;font-weight:bold}.lg{font-size:10px}";

fn legend(g: &mut Svg, x0: i64, y0: i64) -> i64 {
    let items = [
        (MIN_TOP_HASH, "0x9c  filled (tophash)"),
        (EMPTY_ONE, "emptyOne"),
        (EMPTY_REST, "emptyRest"),
        (EVACUATED_X, "evacuatedX → X"),
        (EVACUATED_Y, "evacuatedY → Y"),
        (EVACUATED_EMPTY, "evacuatedEmpty"),
    ];
    let mut x = x0;
    for (top, label) in items {
        let (fill, _) = fill_of(top);
        g.rect((x, y0, 14, 14), fill, ("#9aa4b2", 1.0));
        g.text(x + 19, y0 + 11, "lg", label);
        x += 24 + (label.chars().count() as f64 * 6.2) as i64 + 14;
    }
    g.rect((x, y0, 14, 14), "#ffffff", ("#f08c00", 2.5));
    g.text(x + 19, y0 + 11, "lg", "changed by this step");
    g.text(
        x0,
        y0 + 30,
        "lg",
        "cells: tophash / key / elem; (k) = stale key in an evacuated old slot; pre#N / heap = where an overflow bucket came from",
    );
    36
}

/// Renders one step as SVG. `standalone` adds the title, calls, ops and
/// notes (the HTML page shows those as text instead).
pub fn step_svg(s: &Step, prev: Option<&Frame>, n: usize, total: usize, standalone: bool) -> String {
    let mut g = Svg { o: String::new(), step: n };
    let x0 = 16;
    let mut y = 8;
    let fw = frame_width(&s.frame);
    let width = match &s.other {
        Some((_, o)) => fw + 40 + frame_width(o),
        None => fw,
    }
    .max(900)
        + 2 * x0;
    let wrap_at = ((width - 2 * x0) as f64 / CHAR_W) as usize;
    if standalone {
        g.text(x0, y + 16, "t", &format!("Step {n}/{total}: {}", s.title));
        y += 26;
        if !s.calls.is_empty() {
            let (gm, go) = calls_line(&s.calls);
            for l in wrap(&format!("gomap: {gm}"), wrap_at) {
                g.text(x0, y + 12, "sub", &l);
                y += 15;
            }
            for l in wrap(&format!("Go (map_noswiss.go): {go}"), wrap_at) {
                g.text(x0, y + 12, "sub", &l);
                y += 15;
            }
        }
        for op in &s.ops {
            for l in wrap(&format!("> {op}"), wrap_at) {
                g.text(x0, y + 12, "op", &l);
                y += 15;
            }
        }
        for note in &s.notes {
            for (i, l) in wrap(note, wrap_at - 2).into_iter().enumerate() {
                g.text(x0, y + 12, "note", &format!("{} {l}", if i == 0 { "•" } else { " " }));
                y += 15;
            }
        }
        y += 6;
    }
    let top = y;
    g.o.push_str("<g class=\"frame\" data-side=\"0\">\n");
    let (_, h1) = draw_frame(&mut g, x0, y, &s.map, &s.frame, prev, s.other.as_ref().map(|o| &o.1));
    g.o.push_str("</g>\n");
    let mut h = h1;
    if let Some((name, o)) = &s.other {
        let ndiff = diff_frames(&s.frame, o).len();
        let label =
            if ndiff == 0 { format!("{name} (identical)") } else { format!("{name} ({ndiff} differences, in red)") };
        g.o.push_str("<g class=\"frame\" data-side=\"1\">\n");
        let (_, h2) = draw_frame(&mut g, x0 + fw + 40, top, &label, o, None, Some(&s.frame));
        g.o.push_str("</g>\n");
        h = h.max(h2);
    }
    y = top + h + 4;
    y += legend(&mut g, x0, y);
    let height = y + 10;
    let hf: Vec<(&str, String)> = s.frame.header_fields();
    let mut data = String::new();
    for (k, v) in &hf {
        let _ = write!(data, r#" data-{}="{}""#, k.to_ascii_lowercase(), esc(v));
    }
    format!(
        concat!(
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" data-step="{n}"{data}>"#,
            "\n<title>{title}</title>\n<style>{style}</style>\n",
            r##"<defs><marker id="arrow-{n}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker></defs>"##,
            "\n",
            r##"<rect x="0" y="0" width="{w}" height="{h}" fill="#ffffff"/>"##,
            "\n{body}</svg>\n"
        ),
        w = width,
        h = height,
        n = n,
        data = data,
        title = esc(&format!("Step {n}/{total}: {}", s.title)),
        style = SVG_STYLE,
        body = g.o
    )
}

// ---------------------------------------------------------------------------
// The built-in walkthrough.

/// Key type of the walkthrough's main map.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyChoice {
    /// `map[uint64]uint64`, keys 0, 1, 2, …
    U64,
    /// `map[uint32]uint64`, keys 0, 1, 2, …
    U32,
    /// `map[float64]uint64`, keys 0.5, 1.5, 2.5, …
    F64,
    /// `map[string]uint64`, keys "k0", "k1", …
    Str,
}

impl KeyChoice {
    /// Parses `u64`, `u32`, `f64` or `str`.
    pub fn parse(s: &str) -> Option<KeyChoice> {
        Some(match s {
            "u64" | "uint64" => KeyChoice::U64,
            "u32" | "uint32" => KeyChoice::U32,
            "f64" | "float64" => KeyChoice::F64,
            "str" | "string" => KeyChoice::Str,
            _ => return None,
        })
    }
    /// Go's name of the key type.
    pub fn go_type(self) -> &'static str {
        match self {
            KeyChoice::U64 => "uint64",
            KeyChoice::U32 => "uint32",
            KeyChoice::F64 => "float64",
            KeyChoice::Str => "string",
        }
    }
    /// How keys of this type are shown.
    pub fn value_kind(self) -> ValueKind {
        match self {
            KeyChoice::U64 => ValueKind::U64,
            KeyChoice::U32 => ValueKind::U32,
            KeyChoice::F64 => ValueKind::F64,
            KeyChoice::Str => ValueKind::Str,
        }
    }
    fn map_type(self) -> MapType {
        // Go's uint64 elem, as Go aligns it (4 on 32-bit).
        let e = TypeInfo::of::<u64>().go_aligned();
        match self {
            KeyChoice::U64 => MapType::u64_key(e),
            KeyChoice::U32 => MapType::u32_key(e),
            KeyChoice::F64 => MapType::f64_key(e),
            KeyChoice::Str => MapType::str_key(e),
        }
        .expect("preset map types are valid")
    }
    /// The n-th key of the walkthrough's key sequence.
    fn key(self, n: u64) -> Key {
        match self {
            KeyChoice::U64 => Key::U64(n),
            KeyChoice::U32 => Key::U32(n as u32),
            KeyChoice::F64 => Key::F64(n as f64 + 0.5),
            KeyChoice::Str => Key::Str(format!("k{n}").into_bytes().into()),
        }
    }
}

/// Options of [`walkthrough`].
#[derive(Clone, Debug)]
pub struct TourOptions {
    /// Key type of the main map.
    pub key: KeyChoice,
    /// Seed of the random source (`rand::seeded`): hash seeds, iteration starts.
    pub seed: u64,
    /// Stop after this many map operations (the last step shows the state then).
    pub max_ops: Option<usize>,
}

impl Default for TourOptions {
    fn default() -> Self {
        TourOptions { key: KeyChoice::U64, seed: 1, max_ops: None }
    }
}

/// A key value of one of the walkthrough's key types.
#[derive(Clone, Debug)]
enum Key {
    U64(u64),
    U32(u32),
    F64(f64),
    Str(std::rc::Rc<[u8]>),
}

impl Key {
    /// Calls `f` with a pointer to the key as the map expects it (a
    /// [`GoString`] header for strings), valid during the call.
    fn with_ptr<R>(&self, f: impl FnOnce(*const u8) -> R) -> R {
        match self {
            Key::U64(v) => f((v as *const u64).cast()),
            Key::U32(v) => f((v as *const u32).cast()),
            Key::F64(v) => f((v as *const f64).cast()),
            Key::Str(s) => {
                let gs = GoString::from_bytes(s);
                f((&raw const gs).cast())
            }
        }
    }
    fn show(&self) -> String {
        match self {
            Key::U64(v) => v.to_string(),
            Key::U32(v) => v.to_string(),
            Key::F64(v) => fmt_f64(*v),
            Key::Str(s) => quote(&String::from_utf8_lossy(s)),
        }
    }
}

/// Why a walkthrough stopped early.
#[derive(Debug)]
enum Stop {
    /// `max_ops` reached.
    Budget,
    /// The invariant checker failed (a bug in the map code).
    Broken(String),
}

/// A map under the walkthrough's control. Keeps string keys' bytes alive
/// for as long as the map lives; frees the map on drop.
struct LiveMap {
    name: &'static str,
    decl: String,
    t: MapType,
    h: NonNull<HMap>,
    kind: ValueKind,
    arena: Vec<std::rc::Rc<[u8]>>,
}

impl LiveMap {
    fn frame(&self) -> Frame {
        // SAFETY: a live map of type t, not being written; string keys point
        // into `arena`, alive as long as the map.
        unsafe { Frame::capture(&self.t, self.h, self.kind, ValueKind::U64) }
    }
    fn header(&self) -> Header {
        // SAFETY: a live map of type t.
        unsafe { inspect::header(&self.t, self.h) }
    }
    /// The bucket of the current array a key hashes to.
    fn bucket_of(&self, k: &Key) -> usize {
        let h = self.header();
        // SAFETY: `p` points to a key of the map's type.
        let hash = k.with_ptr(|p| unsafe { self.t.hash(p, h.hash0 as usize) });
        hash & map::bucket_mask(h.b)
    }
    /// The current array's bucket of the key at `k` (a pointer into the map).
    ///
    /// # Safety
    /// `k` points to a key of the map's type.
    unsafe fn bucket_of_ptr(&self, k: *const u8) -> usize {
        let h = self.header();
        // SAFETY: forwarded.
        unsafe { self.t.hash(k, h.hash0 as usize) & map::bucket_mask(h.b) }
    }
    /// Whether `p` lies inside a bucket of the old array's chains (main
    /// buckets, preallocated or heap overflow buckets).
    fn in_old_buckets(&self, p: *const u8) -> bool {
        // SAFETY: a live map of type `t`, not being written.
        unsafe { inspect::in_old_array(&self.t, self.h, p) }
    }
}

impl Drop for LiveMap {
    fn drop(&mut self) {
        // SAFETY: freed once; every iterator of the walkthrough has ended.
        let _ = unsafe { map::mapfree(&self.t, self.h.as_ptr()) };
    }
}

/// A finished iteration: what it returned and where from.
struct IterLog {
    start: (usize, u8),
    /// (key, elem, current-array bucket it belongs to, read from the old array)
    got: Vec<(String, String, Option<usize>, bool)>,
}

struct Walk {
    key: KeyChoice,
    steps: Vec<Step>,
    pending: Vec<String>,
    ops: usize,
    max_ops: Option<usize>,
    next: u64,
}

fn abbreviate(ops: &[String]) -> Vec<String> {
    if ops.len() <= 6 {
        return ops.to_vec();
    }
    let mut v: Vec<String> = ops[..3].to_vec();
    v.push(format!("… {} more statements …", ops.len() - 5));
    v.extend_from_slice(&ops[ops.len() - 2..]);
    v
}

fn calls(names: &[&str]) -> Vec<Call> {
    names.iter().map(|n| call(n)).collect()
}

/// Reports what growth work happened between two frames of the same map.
fn describe_growth(before: &Frame, after: &Frame) -> Vec<String> {
    let mut notes = Vec::new();
    let same = after.header.flags & SAME_SIZE_GROW != 0;
    let old_n = after.oldbuckets.as_ref().map(Vec::len);
    let was_evacuated: Vec<usize> = if before.oldbuckets.is_some() && before.header.b == after.header.b {
        before.evacuated_old()
    } else {
        Vec::new()
    };
    if let (Some(n), Some(old)) = (old_n, after.oldbuckets.as_ref()) {
        let mut moved = Vec::new();
        for j in after.evacuated_old() {
            if was_evacuated.contains(&j) {
                continue;
            }
            let (mut x, mut y) = (0, 0);
            for b in &old[j] {
                for s in &b.slots {
                    match s.top {
                        EVACUATED_X => x += 1,
                        EVACUATED_Y => y += 1,
                        _ => {}
                    }
                }
            }
            moved.push(if same {
                format!("old [{j}]: {x} → X [{j}]")
            } else {
                format!("old [{j}]: {x} → X [{j}], {y} → Y [{}]", j + n)
            });
        }
        if !moved.is_empty() {
            notes.push(format!("evacuate moved {}.", moved.join("; ")));
        }
        notes.push(format!(
            "nevacuate {} → {}: {} of {n} old buckets evacuated; writes keep calling growWork until all are.",
            if before.oldbuckets.is_some() { before.header.nevacuate } else { 0 },
            after.header.nevacuate,
            after.evacuated_old().len()
        ));
    } else if before.oldbuckets.is_some() {
        let pending: Vec<String> = before
            .oldbuckets
            .as_deref()
            .unwrap_or_default()
            .iter()
            .enumerate()
            .filter(|(_, c)| !is_evacuated_chain(c))
            .map(|(i, _)| format!("[{i}]"))
            .collect();
        notes.push(format!(
            "growWork evacuated the remaining old bucket(s) {}; advanceEvacuationMark saw nevacuate reach {} (every old bucket) and dropped oldbuckets: the growth is over.",
            pending.join(" "),
            before.oldbuckets.as_ref().map_or(0, Vec::len)
        ));
    }
    notes
}

impl Walk {
    fn tick(&mut self) -> Result<(), Stop> {
        if self.max_ops.is_some_and(|m| self.ops >= m) {
            return Err(Stop::Budget);
        }
        self.ops += 1;
        Ok(())
    }

    fn check(&self, m: &LiveMap) -> Result<(), Stop> {
        // SAFETY: a live map of type t, not being written.
        unsafe { inspect::check_invariants(&m.t, m.h) }.map_err(|e| Stop::Broken(format!("{}: {e}", m.name)))
    }

    fn make(&mut self, name: &'static str, key: KeyChoice) -> Result<LiveMap, Stop> {
        self.tick()?;
        let t = key.map_type();
        let h = map::makemap(&t, 0).map_err(|e| Stop::Broken(format!("makemap: {e:?}")))?;
        let decl = format!("{name} := make(map[{}]uint64)", key.go_type());
        self.pending.push(decl.clone());
        Ok(LiveMap { name, decl, t, h, kind: key.value_kind(), arena: Vec::new() })
    }

    fn put(&mut self, m: &mut LiveMap, k: Key, v: u64) -> Result<bool, Stop> {
        self.tick()?;
        self.pending.push(format!("{}[{}] = {v}", m.name, k.show()));
        if let Key::Str(s) = &k {
            m.arena.push(s.clone());
        }
        // SAFETY: a live map of type t; the key pointer is valid for the call
        // and does not alias the map.
        let slot = k
            .with_ptr(|p| unsafe { map::mapassign(&m.t, m.h.as_ptr(), p) })
            .map_err(|e| Stop::Broken(format!("mapassign: {e:?}")))?;
        // SAFETY: the elem slot of a map[_]uint64, valid until the next write.
        unsafe { slot.elem.as_ptr().cast::<u64>().write_unaligned(v) };
        self.check(m)?;
        Ok(slot.inserted)
    }

    /// Inserts the next key of the sequence.
    fn put_next(&mut self, m: &mut LiveMap) -> Result<(), Stop> {
        let n = self.next;
        self.next += 1;
        self.put(m, self.key.key(n), n * 10)?;
        Ok(())
    }

    /// The next key of the sequence that hashes to bucket `b` of the
    /// current array (skipped candidates are not used).
    fn key_for_bucket(&mut self, m: &LiveMap, b: usize) -> (Key, u64) {
        loop {
            let n = self.next;
            self.next += 1;
            let k = self.key.key(n);
            if m.bucket_of(&k) == b {
                return (k, n);
            }
        }
    }

    fn del(&mut self, m: &mut LiveMap, k: &Key) -> Result<(), Stop> {
        self.tick()?;
        self.pending.push(format!("delete({}, {})", m.name, k.show()));
        // SAFETY: a live map of type t; the key pointer is valid for the call.
        k.with_ptr(|p| unsafe { map::mapdelete(&m.t, m.h.as_ptr(), p) })
            .map_err(|e| Stop::Broken(format!("mapdelete: {e:?}")))?;
        self.check(m)
    }

    fn get(&mut self, m: &LiveMap, k: &Key) -> Result<Option<u64>, Stop> {
        self.tick()?;
        // SAFETY: a live map of type t; the key pointer is valid for the call.
        let (p, ok) = k
            .with_ptr(|p| unsafe { map::mapaccess2(&m.t, m.h.as_ptr(), p) })
            .map_err(|e| Stop::Broken(format!("mapaccess2: {e:?}")))?;
        // SAFETY: an elem of a map[_]uint64 (or the zero value), read at once.
        let v = unsafe { p.cast::<u64>().read_unaligned() };
        self.pending.push(format!("v, ok := {}[{}]  // {v}, {ok}", m.name, k.show()));
        Ok(ok.then_some(v))
    }

    /// Iterates `m`; `body(i)` runs after the i-th entry and may stop the
    /// loop by returning false (the iterator is then ended).
    fn range(
        &mut self,
        m: &mut LiveMap,
        mut body: impl FnMut(&mut Self, &mut LiveMap, usize) -> Result<bool, Stop>,
    ) -> Result<IterLog, Stop> {
        self.tick()?;
        let mut it = HIter::new();
        // SAFETY: a live map; the iterator is ended below on every path.
        unsafe { map::mapiterinit(&m.t, m.h.as_ptr(), &mut it) };
        let mut log = IterLog { start: it.start(), got: Vec::new() };
        let result = (|| {
            while !it.key.is_null() {
                let k = it.key.cast_const();
                let key = match m.kind {
                    ValueKind::Str => {
                        // SAFETY: the iterator's key is a string header of the
                        // map, pointing into the walkthrough's arena.
                        let b = unsafe { k.cast::<GoString>().read_unaligned().as_bytes() };
                        quote(&String::from_utf8_lossy(b))
                    }
                    // SAFETY: the iterator's key is a key of the map's type.
                    kind => kind.show(unsafe { core::slice::from_raw_parts(k, m.t.key().size) }),
                };
                // SAFETY: the iterator's elem is a u64.
                let elem = unsafe { it.elem.cast::<u64>().read_unaligned() }.to_string();
                // SAFETY: a key of the map (reflexive keys only: NaN has no bucket).
                let reflexive = m.t.reflexive_key() || unsafe { m.t.key_equal(k, k) };
                // SAFETY: as above.
                let bucket = reflexive.then(|| unsafe { m.bucket_of_ptr(k) });
                log.got.push((key, elem, bucket, m.in_old_buckets(k)));
                if !body(self, m, log.got.len())? {
                    return Ok(());
                }
                self.tick()?;
                // SAFETY: the iterator is registered on a live map.
                unsafe { map::mapiternext(&mut it) };
            }
            Ok(())
        })();
        // SAFETY: ends the iterator (a no-op if it ran to its end).
        unsafe { map::mapiterend(&mut it) };
        result.map(|()| log)
    }

    fn step(&mut self, m: &LiveMap, title: impl Into<String>, calls_: &[&str], notes: Vec<String>) {
        let ops = abbreviate(&std::mem::take(&mut self.pending));
        self.steps.push(Step {
            title: title.into(),
            calls: calls(calls_),
            ops,
            notes,
            map: m.decl.clone(),
            frame: m.frame(),
            other: None,
        });
    }
}

fn fullest_chain(f: &Frame) -> usize {
    let live = |c: &Vec<BucketView>| c.iter().flat_map(|b| &b.slots).filter(|s| s.top >= MIN_TOP_HASH).count();
    (0..f.buckets.len()).max_by_key(|&i| (live(&f.buckets[i]), usize::MAX - i)).unwrap_or(0)
}

/// Runs the built-in walkthrough. The hash functions use whatever key
/// material and hash path are installed (the example installs
/// `alg::test_key_material()` and the fallback path, so the output is the
/// same on every machine); every random draw comes from `rand::seeded(seed)`.
pub fn walkthrough(o: &TourOptions) -> Tour {
    let mut w = Walk { key: o.key, steps: Vec::new(), pending: Vec::new(), ops: 0, max_ops: o.max_ops, next: 0 };
    let mut last: Option<(String, Frame)> = None;
    let outcome = gomap::rand::with_source(gomap::rand::seeded(o.seed), || tour_body(&mut w, &mut last));
    match outcome {
        Ok(()) => {}
        Err(Stop::Budget) => {
            let ops = abbreviate(&std::mem::take(&mut w.pending));
            if let Some((map, frame)) = last {
                w.steps.push(Step {
                    title: format!("stopped after --ops {} operations", w.ops),
                    calls: Vec::new(),
                    ops,
                    notes: vec!["The operation budget ran out; this is the state after the last one.".into()],
                    map,
                    frame,
                    other: None,
                });
            }
        }
        Err(Stop::Broken(e)) => {
            let ops = abbreviate(&std::mem::take(&mut w.pending));
            if let Some((map, frame)) = last {
                w.steps.push(Step {
                    title: "INVARIANT VIOLATED".into(),
                    calls: Vec::new(),
                    ops,
                    notes: vec![format!("inspect::check_invariants failed: {e}")],
                    map,
                    frame,
                    other: None,
                });
            }
        }
    }
    let km = if alg::key_material() == alg::test_key_material() {
        "alg::test_key_material()"
    } else {
        "this process's random key material (not reproducible)"
    };
    let path = gomap::presets::hash_path_name();
    let path_desc = if path == "aes" {
        "aes (asm_amd64.s aeshash, Go's choice on CPUs with AES)"
    } else {
        "fallback (hash64.go wyhash, Go's choice with GODEBUG=cpu.aes=off)"
    };
    let mut intro = vec![
        format!("map[{}]uint64, walked through gomap's port of map_noswiss.go (Go 1.24.11).", o.key.go_type()),
        format!("hash path: {path_desc}; hash key material: {km};"),
        format!("random source: rand::seeded({}) (hash0 seeds, iteration starts, NaN hashes).", o.seed),
        format!(
            "{} steps, {} map operations; inspect::check_invariants passed after every write.",
            w.steps.len(),
            w.ops
        ),
        String::new(),
    ];
    intro.extend(LEGEND.iter().map(|s| s.to_string()));
    Tour { title: "gomap inspector: Go's classic map, step by step".into(), intro, steps: w.steps }
}

/// Runs `f` and remembers the map's frame if it stops early, so the final
/// "stopped" step can show it.
fn guard<T>(last: &mut Option<(String, Frame)>, m: &LiveMap, r: Result<T, Stop>) -> Result<T, Stop> {
    if r.is_err() {
        *last = Some((m.decl.clone(), m.frame()));
    }
    r
}

fn tour_body(w: &mut Walk, last: &mut Option<(String, Frame)>) -> Result<(), Stop> {
    let kt = w.key;
    let mut m = w.make("m", kt)?;
    let r = main_map(w, &mut m);
    guard(last, &m, r)?;
    let mut f = w.make("f", KeyChoice::F64)?;
    let r = float_map(w, &mut f);
    guard(last, &f, r)?;
    drop(f);
    let r = clear_during_range(w, &mut m);
    guard(last, &m, r)
}

fn main_map(w: &mut Walk, m: &mut LiveMap) -> Result<(), Stop> {
    let ty = w.key.go_type();
    w.step(
        m,
        "make: an empty map, B = 0, no buckets yet",
        &["makemap"],
        vec![
            "makemap :324 picks the smallest B with hint <= 6.5 x 2^B: hint 0 gives B = 0 (one bucket).".into(),
            "A B = 0 map gets its bucket lazily: buckets stays nil until the first insert. hash0, the hash seed, is drawn from runtime.rand.".into(),
            "(Go compiles make(map[K]V) without a hint to makemap_small :303, which leaves the same state.)".into(),
        ],
    );

    // The first insert allocates the bucket.
    w.put_next(m)?;
    let f = m.frame();
    let th = f.buckets[0][0].slots.iter().find(|s| s.top >= MIN_TOP_HASH).map_or(0, |s| s.top);
    w.step(
        m,
        "first insert: mapassign allocates the single bucket",
        &["mapassign", "tophash"],
        vec![
            "mapassign :620 hashes the key with hash0, finds buckets == nil and allocates one bucket (Go: newobject(t.Bucket)).".into(),
            format!(
                "The key goes to the first free slot of bucket hash & bucketMask(B) = 0; the slot's tophash byte is the hash's top byte, {th:#04x} (tophash :195 bumps values below minTopHash = 5 up by 5, so they cannot be mistaken for markers)."
            ),
            format!(
                "Go's compiler calls the fast variants (mapassign_fast64 and friends) for {ty} keys; they lay buckets out identically."
            ),
        ],
    );

    // Fill bucket 0.
    while m.header().count < BUCKET_CNT {
        w.put_next(m)?;
    }
    w.step(
        m,
        "8 entries: bucket 0 is full",
        &["mapassign"],
        vec![
            "With B = 0 every key lands in bucket 0, filling slots 0..7 in order.".into(),
            "overLoadFactor :1162 is count > 8 && count > 6.5 x 2^B: still false at 8 entries.".into(),
        ],
    );

    // The ninth entry: growth B 0 -> 1, over at once.
    w.put_next(m)?;
    let f = m.frame();
    let split: Vec<usize> =
        f.buckets.iter().map(|c| c.iter().flat_map(|b| &b.slots).filter(|s| s.top >= MIN_TOP_HASH).count()).collect();
    w.step(
        m,
        "9th entry: overLoadFactor → hashGrow doubles to B = 1; growWork evacuates at once",
        &["mapassign", "overLoadFactor", "hashGrow", "growWork", "evacuate", "advanceEvacuationMark"],
        vec![
            "overLoadFactor(9, B=0) is true (9 > 8), so mapassign :699 calls hashGrow :1118: a new array of 2 buckets; the old one becomes oldbuckets, nevacuate = 0.".into(),
            "mapassign then retries ('goto again') and calls growWork :1210, which evacuates old bucket 0 (the one the key maps to): every entry goes to X = bucket 0 or Y = bucket 1, chosen by the hash bit the larger mask adds (bit 0).".into(),
            format!(
                "advanceEvacuationMark :1348 moved nevacuate to 1 = the number of old buckets and dropped oldbuckets: the whole growth happened inside this one insert. The entries split {} / {}.",
                split.first().copied().unwrap_or(0),
                split.get(1).copied().unwrap_or(0)
            ),
        ],
    );

    // Overflow: fill the fuller bucket and one more.
    let target = fullest_chain(&m.frame());
    while m.header().noverflow == 0 && m.header().b == 1 {
        let (k, n) = w.key_for_bucket(m, target);
        w.put(m, k, n * 10)?;
    }
    let h = m.header();
    w.step(
        m,
        format!("bucket {target} overflows: newoverflow chains an overflow bucket"),
        &["mapassign", "newoverflow", "incrnoverflow"],
        vec![
            format!("These keys were picked because their hash & bucketMask(1) = {target} (the inspector hashes candidates and skips the others)."),
            format!(
                "With B = 1 the map holds up to 6.5 x 2 = 13 entries before growing (count is {} now). The last key found all 8 slots of its bucket full, so mapassign :706 called newoverflow :246.",
                h.count
            ),
            "Arrays with B < 4 have no preallocated overflow buckets, so this one was allocated (→ heap); incrnoverflow :227 counted it: noverflow = 1.".into(),
            "A lookup in this bucket scans the 8 slots of the main bucket, then follows the overflow pointer.".into(),
        ],
    );

    // Growth to B = 2 (over at once) and B = 3 (spread over later writes).
    while m.header().b < 2 {
        w.put_next(m)?;
    }
    w.step(
        m,
        "overLoadFactor again: B 1 → 2, finished within the insert",
        &["mapassign", "overLoadFactor", "hashGrow", "growWork", "evacuate", "advanceEvacuationMark"],
        vec![
            format!("count {} > 6.5 x 2: hashGrow doubled to 4 buckets.", m.header().count),
            "growWork evacuates the old bucket the new key maps to, then old bucket nevacuate: with only 2 old buckets that finished the growth at once.".into(),
            "The old overflow bucket was not carried over: evacuate copies entries into the new array, and hashGrow reset noverflow to 0.".into(),
        ],
    );

    while m.header().b < 3 {
        w.put_next(m)?;
    }
    let before_grow = m.frame();
    let mut notes = vec![
        format!(
            "count {} > 6.5 x 4 = 26: hashGrow :1118 allocated 8 new buckets; the 4 old ones stay as oldbuckets until evacuated.",
            m.header().count
        ),
        "mapassign :652 calls growWork(bucket) on every write while growing: evacuate(bucket & oldbucketmask), then evacuate(nevacuate).".into(),
    ];
    notes.extend(describe_growth(&Frame { oldbuckets: None, ..before_grow }, &m.frame()));
    notes.push("Lookups meanwhile check the old bucket first when it is not evacuated yet (mapaccess1 :415).".into());
    w.step(
        m,
        "hashGrow: B 2 → 3; this time evacuation is spread over later writes",
        &["mapassign", "overLoadFactor", "hashGrow", "growWork", "evacuate"],
        notes,
    );

    let mut guard_n = 0;
    while m.header().growing && guard_n < 64 {
        guard_n += 1;
        let before = m.frame();
        w.put_next(m)?;
        let after = m.frame();
        let done = !after.header.growing;
        let notes = describe_growth(&before, &after);
        let title = if done {
            "growWork: the last old buckets are evacuated, oldbuckets dropped".to_string()
        } else {
            format!("growWork on the next insert: nevacuate = {}", after.header.nevacuate)
        };
        let c: &[&str] = if done {
            &["mapassign", "growWork", "evacuate", "advanceEvacuationMark"]
        } else {
            &["mapassign", "growWork", "evacuate"]
        };
        w.step(m, title, c, notes);
    }

    // Growth to B = 4, and an iterator that starts in the middle of it.
    while m.header().b < 4 {
        w.put_next(m)?;
    }
    let mut notes = vec![
        format!("count {} > 6.5 x 8 = 52: hashGrow to B = 4 (16 buckets).", m.header().count),
        format!(
            "For B >= 4, makeBucketArray :365 adds 2^(B-4) overflow buckets and rounds the allocation up to a malloc size class: this array has {} buckets, 16 main + {} preallocated overflow (nextOverflow points at the first).",
            m.header().array_buckets,
            m.header().array_buckets - 16
        ),
    ];
    notes.extend(describe_growth(&Frame { oldbuckets: None, ..m.frame() }, &m.frame()));
    w.step(
        m,
        "hashGrow: B 3 → 4",
        &["mapassign", "overLoadFactor", "hashGrow", "makeBucketArray", "growWork", "evacuate"],
        notes,
    );

    let at_init = m.frame();
    let live_before: Vec<String> = {
        let mut v: Vec<String> = at_init
            .buckets
            .iter()
            .chain(at_init.oldbuckets.iter().flatten().filter(|c| !is_evacuated_chain(c)))
            .flatten()
            .flat_map(|b| &b.slots)
            .filter(|s| s.top >= MIN_TOP_HASH)
            .map(|s| s.key.clone())
            .collect();
        v.sort();
        v
    };
    let mut init_frame = None;
    let log = w.range(m, |_, m, i| {
        if i == 1 {
            init_frame = Some(m.frame());
        }
        Ok(true)
    })?;
    w.pending.clear();
    w.pending.push(format!("for k, v := range {} {{ }}  // {} entries", m.name, log.got.len()));
    let mut got_keys: Vec<String> = log.got.iter().map(|g| g.0.clone()).collect();
    got_keys.sort();
    let (sb, off) = log.start;
    let mut notes = vec![
        format!(
            "mapiterinit :881 drew r = runtime.rand(): startBucket = r & bucketMask(B) = {sb}, offset = r >> B & 7 = {off} (:913-914). Every bucket is read from slot {off} on, wrapping around."
        ),
        format!(
            "mapiterinit set the iterator and oldIterator flags. The iterator walks the new buckets {sb}, {}, … 15, 0, … {}. For a bucket whose old bucket is not evacuated yet, mapiternext :941 reads the old bucket instead and keeps only the keys that will land in the bucket it stands for (checkBucket :972, :1012): new buckets i and i+8 both read old bucket i, each taking its half.",
            (sb + 1) % 16,
            (sb + 15) % 16
        ),
        format!(
            "It returned {} entries{}; by bucket (old[j] = read from the not yet evacuated old bucket j):",
            log.got.len(),
            if got_keys == live_before {
                ", every key exactly once (checked against the live entries at mapiterinit)"
            } else {
                " — NOT the set of live entries at mapiterinit!"
            }
        ),
    ];
    let mut groups: Vec<(Option<usize>, bool, Vec<String>)> = Vec::new();
    for (k, _, b, old) in &log.got {
        match groups.last_mut() {
            Some(g) if g.0 == *b && g.1 == *old => g.2.push(k.clone()),
            _ => groups.push((*b, *old, vec![k.clone()])),
        }
    }
    for (b, old, keys) in groups {
        let b = b.map_or_else(|| "?".to_string(), |b| b.to_string());
        let src = if old { format!("old[{}]", b.parse::<usize>().map_or(0, |b| b & 7)) } else { "new".to_string() };
        notes.push(format!("  bucket {b:>2} ({src}): {}", keys.join(" ")));
    }
    w.steps.push(Step {
        title: "range m in the middle of the growth: mapiterinit picks a random start".into(),
        calls: calls(&["mapiterinit", "mapiternext"]),
        ops: abbreviate(&std::mem::take(&mut w.pending)),
        notes,
        map: m.decl.clone(),
        frame: init_frame.unwrap_or(at_init),
        other: None,
    });

    let before = m.frame();
    while m.header().growing {
        w.put_next(m)?;
    }
    let mut notes = describe_growth(&before, &m.frame());
    notes.push(
        "The iterator has ended, but the flags keep iterator|oldIterator: they only say an iterator may be reading. hashGrow (:1127-1131) turns iterator into oldIterator; nothing else clears them.".into(),
    );
    w.step(
        m,
        "more inserts finish the growth to B = 4",
        &["mapassign", "growWork", "evacuate", "advanceEvacuationMark"],
        notes,
    );

    // Deletes: emptyOne, then emptyRest walking back.
    let f = m.frame();
    let bi = fullest_chain(&f);
    let positions: Vec<(usize, usize, String)> = f.buckets[bi]
        .iter()
        .enumerate()
        .flat_map(|(j, b)| b.slots.iter().enumerate().map(move |(s, v)| (j, s, v)))
        .filter(|(_, _, v)| v.top >= MIN_TOP_HASH)
        .map(|(j, s, v)| (j, s, v.key.clone()))
        .collect();
    let n = positions.len();
    let key_of_text = |w: &Walk, txt: &str| -> Key {
        match w.key {
            KeyChoice::U64 => Key::U64(txt.parse().unwrap_or(0)),
            KeyChoice::U32 => Key::U32(txt.parse().unwrap_or(0)),
            KeyChoice::F64 => Key::F64(txt.parse().unwrap_or(0.0)),
            KeyChoice::Str => Key::Str(txt.trim_matches('"').as_bytes().into()),
        }
    };
    let where_ = |p: &(usize, usize, String)| {
        if p.0 == 0 { format!("slot {}", p.1) } else { format!("slot {} of overflow bucket {}", p.1, p.0) }
    };
    if n >= 3 {
        let a = &positions[n - 3];
        let k = key_of_text(w, &a.2);
        w.del(m, &k)?;
        w.step(
            m,
            format!("delete: bucket {bi} {} becomes emptyOne", where_(a)),
            &["mapdelete"],
            vec![
                format!("delete(m, {}) found the key in bucket {bi}, {}. mapdelete :746 cleared the elem (and the key if it holds pointers) and set the tophash to emptyOne (:813).", a.2, where_(a)),
                "emptyOne means: this slot is free, but later slots of the chain still hold keys, so lookups must keep scanning. The next insert into this bucket reuses the slot.".into(),
            ],
        );
        let b = &positions[n - 2];
        let k = key_of_text(w, &b.2);
        w.del(m, &k)?;
        w.step(
            m,
            format!("delete: bucket {bi} {} becomes emptyOne as well", where_(b)),
            &["mapdelete"],
            vec![format!("delete(m, {}): the slot after it still holds a key, so it is emptyOne too.", b.2)],
        );
        let c = &positions[n - 1];
        let k = key_of_text(w, &c.2);
        w.del(m, &k)?;
        w.step(
            m,
            "delete the chain's last key: emptyRest, and the emptyOnes before it turn into emptyRest".to_string(),
            &["mapdelete"],
            vec![
                format!("delete(m, {}): nothing follows {} in the chain, so mapdelete set it to emptyRest and walked backwards (:818-844), turning the emptyOne slots before it into emptyRest until it met a filled slot.", c.2, where_(c)),
                "emptyRest means: nothing after this slot, in this bucket or its overflow buckets. Lookups and inserts stop scanning at the first emptyRest.".into(),
            ],
        );
    }

    // Churn: overflow buckets pile up until a same-size grow.
    let nb = m.frame().buckets.len();
    let mut shown_pre = false;
    let mut shown_heap = false;
    let mut round = 0usize;
    let mut steps_guard = 0;
    while !m.header().growing && steps_guard < 10_000 {
        steps_guard += 1;
        let h0 = m.header();
        if map::too_many_overflow_buckets(h0.noverflow, h0.b) {
            let f = m.frame();
            let empty_ovf = f
                .buckets
                .iter()
                .flat_map(|c| c.iter().skip(1))
                .filter(|b| b.slots.iter().all(|s| s.top == EMPTY_REST))
                .count();
            w.step(
                m,
                format!("churn: noverflow = {} = 2^B, {empty_ovf} of those overflow buckets empty", h0.noverflow),
                &["mapassign", "newoverflow", "incrnoverflow", "mapdelete"],
                vec![
                    format!(
                        "{round} rounds of insert-until-overflow, delete-again, one bucket after the other: count is back to {}, but every round left an overflow bucket behind.",
                        h0.count
                    ),
                    format!(
                        "incrnoverflow :227 counts them exactly while B < 16: noverflow = {} = 2^B. The next insert of a new key checks tooManyOverflowBuckets.",
                        h0.noverflow
                    ),
                ],
            );
            // The next new key triggers the same-size grow.
            let before = m.frame();
            w.put_next(m)?;
            let mut notes = vec![
                format!(
                    "count {} is well under 6.5 x 16 = 104, but noverflow = {} >= 2^B = {}: tooManyOverflowBuckets :1169 is true, so mapassign :699 called hashGrow, which saw the map was not over the load factor (:1123) and started a same-size grow (flag sameSizeGrow, B stays {}).",
                    before.header.count + 1,
                    before.header.noverflow,
                    1usize << before.header.b,
                    before.header.b
                ),
                "A same-size grow copies every old bucket i to X = new bucket i, packing the live entries: chains emptied by deletes lose their overflow buckets.".into(),
            ];
            notes.extend(describe_growth(&Frame { oldbuckets: None, ..before }, &m.frame()));
            w.step(
                m,
                "churn: too many overflow buckets → same-size grow",
                &["mapassign", "tooManyOverflowBuckets", "hashGrow", "growWork", "evacuate"],
                notes,
            );
            break;
        }
        let target = round % nb;
        round += 1;
        let nov = h0.noverflow;
        let pre_before = h0.next_overflow;
        let mut added = Vec::new();
        while m.header().noverflow == nov {
            let (k, n) = w.key_for_bucket(m, target);
            w.put(m, k.clone(), n * 10)?;
            added.push(k);
        }
        let taken = m.frame().buckets[target].last().map(|b| b.at);
        for k in added.iter().rev() {
            w.del(m, k)?;
        }
        let h1 = m.header();
        match taken {
            Some(At::Pre(p)) if !shown_pre => {
                shown_pre = true;
                w.step(
                    m,
                    format!("churn: bucket {target} overflows into preallocated bucket #{p}; the deletes leave it empty but chained"),
                    &["mapassign", "newoverflow", "mapdelete"],
                    vec![
                        format!("{} keys for bucket {target} were inserted until its chain needed a new bucket, then deleted again.", added.len()),
                        format!(
                            "newoverflow :246 took the preallocated bucket #{p} that nextOverflow pointed at (:248) and advanced nextOverflow{}.",
                            if pre_before.is_some() && h1.next_overflow.is_none() { " (the last one: nextOverflow is nil now)" } else { "" }
                        ),
                        format!("After the deletes the overflow bucket is all emptyRest but stays chained: mapdelete never unlinks buckets, only growth drops them. noverflow = {}.", h1.noverflow),
                    ],
                );
            }
            Some(At::Heap) if !shown_heap => {
                shown_heap = true;
                w.step(
                    m,
                    format!("churn: preallocated overflow buckets used up; bucket {target} gets a heap overflow bucket"),
                    &["mapassign", "newoverflow", "incrnoverflow", "mapdelete"],
                    vec![
                        format!("Round {round} of insert-until-overflow, delete-again: nextOverflow is nil, so newoverflow allocated a new bucket (→ heap)."),
                        format!("noverflow = {} overflow buckets for 2^B = {} buckets; tooManyOverflowBuckets :1169 fires at noverflow >= 2^B.", h1.noverflow, 1usize << h1.b),
                    ],
                );
            }
            _ => {}
        }
    }
    let before = m.frame();
    while m.header().growing {
        w.put_next(m)?;
    }
    let after = m.frame();
    let mut notes = describe_growth(&before, &after);
    notes.push(format!(
        "noverflow {} → {}: only the overflow buckets the compacted chains still need (count {} → {}: the inserts that drove the evacuation).",
        before.header.noverflow,
        after.header.noverflow,
        before.header.count,
        after.header.count
    ));
    w.step(
        m,
        "same-size growth done: chains compacted",
        &["mapassign", "growWork", "evacuate", "advanceEvacuationMark"],
        notes,
    );
    Ok(())
}

fn float_map(w: &mut Walk, f: &mut LiveMap) -> Result<(), Stop> {
    w.put(f, Key::F64(0.0), 1)?;
    w.put(f, Key::F64(-0.0), 2)?;
    let fr = f.frame();
    let key = fr.buckets[0][0].slots.iter().find(|s| s.top >= MIN_TOP_HASH).map(|s| s.key.clone()).unwrap_or_default();
    w.step(
        f,
        "float64 keys: +0 and -0 are one key, and the stored key becomes -0",
        &["makemap", "mapassign"],
        vec![
            format!("+0 == -0, so f[-0] = 2 found the +0 entry: len(f) = {}.", fr.header.count),
            format!("float64 keys need key updates (cmd/compile needkeyupdate), so mapassign (:682) overwrote the stored key with the new one: the map now holds {key} → 2."),
            "f64hash hashes +0 and -0 alike (alg.go f64hash: case f == 0), so both find the same bucket.".into(),
        ],
    );

    let nan = Key::F64(f64::NAN);
    w.put(f, nan.clone(), 3)?;
    w.put(f, nan.clone(), 4)?;
    let got = w.get(f, &nan)?;
    w.del(f, &nan)?;
    let count = f.header().count;
    let log = w.range(f, |_, _, _| Ok(true))?;
    let order: Vec<String> = log.got.iter().map(|(k, v, _, _)| format!("{k}:{v}")).collect();
    w.pending.push(format!("for k, v := range f {{ }}  // {}", order.join(" ")));
    w.step(
        f,
        "NaN keys: every NaN is a new key that no lookup finds",
        &["mapassign", "mapaccess2", "mapdelete", "mapiterinit", "mapiternext"],
        vec![
            "NaN != NaN, so each f[NaN] = v inserted a new entry, a lookup never finds one (mapaccess2 returned ok = false) and delete(f, NaN) removed nothing.".into(),
            format!("len(f) = {count}. f64hash mixes a runtime.rand() draw into a NaN's hash, so the two NaNs land wherever the draws send them."),
            format!("range still returns every entry, NaNs included ({} entries, from start bucket {} offset {}). Only clear(f) removes NaN keys.", log.got.len(), log.start.0, log.start.1),
            if got.is_none() { "v, ok := f[NaN] gave 0, false.".into() } else { "f[NaN] was FOUND — a bug.".into() },
        ],
    );
    Ok(())
}

fn clear_during_range(w: &mut Walk, m: &mut LiveMap) -> Result<(), Stop> {
    let before = m.frame();
    let mut after_clear = None;
    let log = w.range(m, |w, m, i| {
        if i == 3 {
            w.tick()?;
            // SAFETY: a live map, not being written; the iterator is not
            // mid-step (clear during range is legal Go).
            unsafe { map::mapclear(&m.t, m.h.as_ptr()) };
            w.check(m)?;
            after_clear = Some(m.frame());
        }
        Ok(true)
    })?;
    let got: Vec<String> = log.got.iter().map(|g| g.0.clone()).collect();
    w.pending.clear();
    w.pending.push(format!(
        "for k := range {} {{ if third key {{ clear({}) }} }}  // keys: {}",
        m.name,
        m.name,
        got.join(" ")
    ));
    let a = after_clear.unwrap_or_else(|| m.frame());
    let (sb, off) = log.start;
    let notes = vec![
        format!(
            "The iterator (start bucket {sb}, offset {off}) returned {} before the body called clear(m).",
            got.join(", ")
        ),
        format!(
            "mapclear :1070 zeroed the bucket array in place (makeBucketArray with dirtyalloc), set count = 0, noverflow = 0, nextOverflow back to the first preallocated bucket, drew a new hash0 ({:#010x} → {:#010x}) and incremented clearSeq {} → {} (:1091).",
            before.header.hash0, a.header.hash0, before.header.clear_seq, a.header.clear_seq
        ),
        format!(
            "The next mapiternext returned no entry: the array it walks is all emptyRest now, and anything it could still reach in an old array is looked up again because it.clearSeq != h.clearSeq (:1028), which finds nothing (golang/go#70189). The loop ran {} times in all.",
            got.len()
        ),
        format!("clear keeps the bucket array ({} buckets): a cleared map does not shrink.", a.header.array_buckets),
    ];
    w.steps.push(Step {
        title: "clear(m) during range m: the iterator stops".into(),
        calls: calls(&["mapiterinit", "mapiternext", "mapclear", "makeBucketArray"]),
        ops: abbreviate(&std::mem::take(&mut w.pending)),
        notes,
        map: m.decl.clone(),
        frame: a,
        other: None,
    });
    Ok(())
}

// ---------------------------------------------------------------------------
// go-ref traces (docs/trace-format.md): parse, replay on gomap, picture.

/// 64-bit FNV-1a, the trace's state checksum.
pub fn fnv1a(b: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf29ce484222325;
    for &c in b {
        h ^= c as u64;
        h = h.wrapping_mul(0x100000001b3);
    }
    h
}

/// Which ops of a trace become steps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TraceSelect {
    /// The ops whose line carries a full state (every `snapshot_every` ops,
    /// and `final`).
    Snapshots,
    /// Op `n` only (with or without a recorded state).
    Op(usize),
    /// Ops that change the map's structure (B, flags, noverflow, growth,
    /// nevacuate, clearSeq), ops where gomap differs from Go, and `final`.
    Structural,
}

/// The hash path a trace was recorded with (`"aes"` or `"fallback"`), read
/// from its header line.
pub fn trace_hash_path(text: &str) -> Result<String, String> {
    let first = text.lines().next().ok_or("empty trace")?;
    let h = Json::parse(first).map_err(|e| format!("header: {e}"))?;
    if h.get("format").as_str() != "gomap-trace/1" {
        return Err(format!("not a gomap-trace/1 file (format {:?})", h.get("format").as_str()));
    }
    Ok(h.get("hash").as_str().to_string())
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TKey {
    U32,
    U64,
    Str,
    F64,
    Big,
    Zst,
    Comp,
}

/// gomap maps driven by a trace's ops.
struct Replayer {
    key: TKey,
    t: MapType,
    esize: usize,
    kv: ValueKind,
    ev: ValueKind,
    gotype: String,
    maps: Vec<NonNull<HMap>>,
    /// Boxed: an iterator stays at one address while it is registered.
    #[allow(clippy::vec_box)]
    iters: Vec<Box<HIter>>,
    arena: Vec<std::rc::Rc<[u8]>>,
}

impl Drop for Replayer {
    fn drop(&mut self) {
        for it in &mut self.iters {
            // SAFETY: every iterator's map is still alive here.
            unsafe { map::mapiterend(it) };
        }
        for h in &self.maps {
            // SAFETY: freed once, after their iterators ended.
            let _ = unsafe { map::mapfree(&self.t, h.as_ptr()) };
        }
    }
}

/// Short display text: long values are cut (the checksum still covers
/// them); a quoted string keeps its closing quote.
fn short(s: String) -> String {
    if s.chars().count() <= 20 {
        s
    } else if s.starts_with('"') {
        format!("{}…\"", s.chars().take(15).collect::<String>())
    } else {
        format!("{}…", s.chars().take(16).collect::<String>())
    }
}

fn show_value(kind: ValueKind, b: &[u8]) -> String {
    if b.is_empty() {
        return "{}".into();
    }
    match kind {
        ValueKind::Str => quote(&String::from_utf8_lossy(b)),
        k => short(k.show(b)),
    }
}

/// A buffer aligned for any key type of the traces.
fn aligned(b: &[u8]) -> Vec<u64> {
    let mut v = vec![0u64; b.len().div_ceil(8).max(1)];
    // SAFETY: `v` has at least b.len() bytes; u64 has no invalid bit patterns.
    unsafe { core::ptr::copy_nonoverlapping(b.as_ptr(), v.as_mut_ptr().cast::<u8>(), b.len()) };
    v
}

impl Replayer {
    /// A replayer for the trace whose header is `hdr`, checked against
    /// gomap's descriptor of the same type.
    fn new(hdr: &Json) -> Result<Replayer, String> {
        let r = Replayer::of_kind(hdr.get("key").as_str(), hdr.get("elem").as_str(), hdr.get("gotype").as_str())?;
        for (name, ours) in [
            ("keysize", r.t.keysize() as u64),
            ("valuesize", r.t.valuesize() as u64),
            ("bucketsize", r.t.bucketsize() as u64),
            ("flags", r.t.flags() as u64),
        ] {
            if hdr.get(name).as_u64() != Some(ours) {
                return Err(format!("type mismatch: trace {name} = {:?}, gomap {ours}", hdr.get(name)));
            }
        }
        Ok(r)
    }

    /// A replayer for the trace map type `key` with elem `elem` (the names
    /// of docs/trace-format.md section 3); `gotype` is its Go spelling.
    fn of_kind(key: &str, elem: &str, gotype: &str) -> Result<Replayer, String> {
        use gomap::presets::{Field, FieldKind};
        let key = match key {
            "u32" => TKey::U32,
            "u64" => TKey::U64,
            "str" => TKey::Str,
            "f64" => TKey::F64,
            "big" => TKey::Big,
            "zst" => TKey::Zst,
            "comp" => TKey::Comp,
            k => return Err(format!("unknown key type {k:?}")),
        };
        let (elem, ev) = match elem {
            "u32" => (TypeInfo::of::<u32>(), ValueKind::U32),
            // As Go aligns it (4 on 32-bit): Go's layout.
            "u64" => (TypeInfo::of::<u64>().go_aligned(), ValueKind::U64),
            "b144" => (TypeInfo { size: 144, align: 1, pointers: false }, ValueKind::Hex),
            "zst" => (TypeInfo { size: 0, align: 1, pointers: false }, ValueKind::Hex),
            e => return Err(format!("unknown elem type {e:?}")),
        };
        let t = match key {
            TKey::U32 => MapType::u32_key(elem),
            TKey::U64 => MapType::u64_key(elem),
            TKey::Str => MapType::str_key(elem),
            TKey::F64 => MapType::f64_key(elem),
            TKey::Big => MapType::bytes_key(136, elem),
            TKey::Zst => MapType::mem_key(0, 1, elem),
            // Go's struct{A uint32; F float64; S uint16}: F at float64's
            // Go alignment (8 on 64-bit, 4 on 32-bit).
            TKey::Comp => {
                let a = gomap::maptype::go_align(align_of::<f64>());
                MapType::composite_key(
                    &[
                        Field { offset: 0, size: 4, kind: FieldKind::Mem },
                        Field { offset: a, size: 8, kind: FieldKind::F64 },
                        Field { offset: a + 8, size: 2, kind: FieldKind::Mem },
                    ],
                    (a + 10).next_multiple_of(a),
                    a,
                    elem,
                )
            }
        }
        .map_err(|e| e.to_string())?;
        let kv = match key {
            TKey::U32 => ValueKind::U32,
            TKey::U64 => ValueKind::U64,
            TKey::Str => ValueKind::Str,
            TKey::F64 => ValueKind::F64,
            _ => ValueKind::Hex,
        };
        Ok(Replayer {
            key,
            t,
            esize: elem.size,
            kv,
            ev,
            gotype: gotype.to_string(),
            maps: Vec::new(),
            iters: Vec::new(),
            arena: Vec::new(),
        })
    }

    fn map(&self, id: u64) -> Result<NonNull<HMap>, String> {
        self.maps.get(id as usize).copied().ok_or_else(|| format!("no map {id}"))
    }

    /// Calls `f` with a pointer to the trace key `k` as gomap stores it.
    fn with_key<R>(&mut self, k: &Json, f: impl FnOnce(&Self, *const u8) -> R) -> Result<R, String> {
        let raw = unhex(k.as_str())?;
        if self.key == TKey::Str {
            let rc: std::rc::Rc<[u8]> = raw.into();
            self.arena.push(rc.clone());
            let gs = GoString::from_bytes(&rc);
            return Ok(f(self, (&raw const gs).cast()));
        }
        let buf = aligned(&raw);
        Ok(f(self, buf.as_ptr().cast()))
    }

    /// The bytes of the key at `p` as the trace writes them (string contents).
    ///
    /// # Safety
    /// `p` points to a key of the map's type whose string bytes (if any) are alive.
    unsafe fn key_bytes(&self, p: *const u8) -> Vec<u8> {
        if self.key == TKey::Str {
            // SAFETY: a string key (caller); its bytes are alive.
            unsafe { p.cast::<GoString>().read_unaligned().as_bytes() }.to_vec()
        } else {
            // SAFETY: a key of keytypesize bytes (caller).
            unsafe { core::slice::from_raw_parts(p, self.t.key().size) }.to_vec()
        }
    }

    /// Performs one op line; returns our `res` (compact JSON text).
    fn op(&mut self, line: &Json) -> Result<String, String> {
        let op = line.get("op").as_str();
        let id = line.get("map").as_u64();
        let need_id = || id.ok_or_else(|| format!("op {op} without a map"));
        let esize = self.esize;
        Ok(match op {
            "make" => {
                let hint = line.get("hint").as_u64().unwrap_or(0);
                let h = if hint == 0 { map::makemap_small() } else { map::makemap(&self.t, hint as isize) }
                    .map_err(|e| e.to_string())?;
                self.maps.push(h);
                "null".into()
            }
            "assign" => {
                let h = self.map(need_id()?)?.as_ptr();
                let v = unhex(line.get("v").as_str())?;
                let slot = self
                    .with_key(line.get("k"), |r, p| {
                        // SAFETY: a live map of type t; `p` points to a key of t.
                        unsafe {
                            match r.key {
                                TKey::U32 => gomap::fast32::mapassign_fast32(&r.t, h, p.cast::<u32>().read()),
                                TKey::U64 => gomap::fast64::mapassign_fast64(&r.t, h, p.cast::<u64>().read()),
                                TKey::Str => gomap::faststr::mapassign_faststr(&r.t, h, p.cast::<GoString>().read()),
                                _ => map::mapassign(&r.t, h, p),
                            }
                        }
                    })?
                    .map_err(|e| e.to_string())?;
                if v.len() != esize {
                    return Err(format!("elem of {} bytes, want {esize}", v.len()));
                }
                // SAFETY: the elem slot has esize bytes.
                unsafe { core::ptr::copy_nonoverlapping(v.as_ptr(), slot.elem.as_ptr(), esize) };
                "null".into()
            }
            "delete" => {
                let h = self.map(need_id()?)?.as_ptr();
                self.with_key(line.get("k"), |r, p| {
                    // SAFETY: as for assign.
                    unsafe {
                        match r.key {
                            TKey::U32 => gomap::fast32::mapdelete_fast32(&r.t, h, p.cast::<u32>().read()),
                            TKey::U64 => gomap::fast64::mapdelete_fast64(&r.t, h, p.cast::<u64>().read()),
                            TKey::Str => gomap::faststr::mapdelete_faststr(&r.t, h, p.cast::<GoString>().read()),
                            _ => map::mapdelete(&r.t, h, p),
                        }
                    }
                })?
                .map_err(|e| e.to_string())?;
                "null".into()
            }
            "get" => {
                let h = self.map(need_id()?)?.as_ptr();
                let (e, ok) = self
                    .with_key(line.get("k"), |r, p| {
                        // SAFETY: as for assign.
                        unsafe {
                            match r.key {
                                TKey::U32 => gomap::fast32::mapaccess2_fast32(&r.t, h, p.cast::<u32>().read()),
                                TKey::U64 => gomap::fast64::mapaccess2_fast64(&r.t, h, p.cast::<u64>().read()),
                                TKey::Str => gomap::faststr::mapaccess2_faststr(&r.t, h, p.cast::<GoString>().read()),
                                _ => map::mapaccess2(&r.t, h, p),
                            }
                        }
                    })?
                    .map_err(|e| e.to_string())?;
                // SAFETY: an elem (or the zero value) of esize bytes.
                let v = unsafe { core::slice::from_raw_parts(e, esize) };
                format!("{{\"ok\":{ok},\"v\":\"{}\"}}", hex(v))
            }
            "clear" => {
                // SAFETY: a live map of type t.
                unsafe { map::mapclear(&self.t, self.map(need_id()?)?.as_ptr()) };
                "null".into()
            }
            "clone" => {
                // SAFETY: a live map of type t, not being written.
                let c =
                    unsafe { map::mapclone2(&self.t, self.map(need_id()?)?.as_ptr()) }.map_err(|e| e.to_string())?;
                self.maps.push(c);
                format!("{{\"map\":{}}}", self.maps.len() - 1)
            }
            "len" => {
                // SAFETY: a live map.
                unsafe { self.map(need_id()?)?.as_ref() }.len().to_string()
            }
            "iterinit" => {
                let h = self.map(need_id()?)?.as_ptr();
                let mut it = Box::new(HIter::new());
                // SAFETY: a live map; the iterator ends before the map is freed (Drop).
                unsafe { map::mapiterinit(&self.t, h, &mut it) };
                let r = self.res_entry(&it);
                self.iters.push(it);
                r
            }
            "iternext" => {
                let k = line.get("it").as_u64().ok_or("iternext without it")? as usize;
                let it = self.iters.get_mut(k).ok_or_else(|| format!("no iterator {k}"))?;
                // SAFETY: an iterator started on a live map.
                unsafe { map::mapiternext(it) };
                self.res_entry(&self.iters[k])
            }
            "iterend" => {
                let k = line.get("it").as_u64().ok_or("iterend without it")? as usize;
                let it = self.iters.get_mut(k).ok_or_else(|| format!("no iterator {k}"))?;
                // SAFETY: its map is alive.
                unsafe { map::mapiterend(it) };
                "null".into()
            }
            "final" => "null".into(),
            o => return Err(format!("unknown op {o:?}")),
        })
    }

    fn res_entry(&self, it: &HIter) -> String {
        if it.key.is_null() {
            return "null".into();
        }
        // SAFETY: the iterator's key and elem belong to a live map.
        let (k, v) = unsafe { (self.key_bytes(it.key), core::slice::from_raw_parts(it.elem, self.esize)) };
        format!("{{\"k\":\"{}\",\"v\":\"{}\"}}", hex(&k), hex(v))
    }

    /// gomap's STATE text (docs/trace-format.md section 5) for map `h`.
    fn state_text(&self, h: NonNull<HMap>) -> String {
        // SAFETY: a live map of type t, not being written.
        let s = unsafe { inspect::snapshot(&self.t, h) };
        let strs = |which| -> Vec<Vec<Vec<Option<Vec<u8>>>>> {
            if self.key != TKey::Str {
                return Vec::new();
            }
            // SAFETY: a live map of this type, not being written; string keys
            // point into the replayer's arena (alive) or are null.
            unsafe { inspect::string_keys(&self.t, h, which) }
        };
        let cur_strs = strs(inspect::Array::Current);
        let old_strs = strs(inspect::Array::Old);
        let slot = |v: &Option<Vec<u8>>, st: Option<&Option<Vec<u8>>>| -> String {
            match (v, st) {
                (None, _) => "null".into(),
                (Some(b), Some(content)) => match content {
                    Some(c) => format!("\"{}\"", hex(c)),
                    None => {
                        // A cleared key keeps its length word (Go's
                        // mapdelete_faststr clears only the pointer).
                        const W: usize = size_of::<usize>();
                        let len = b.get(W..2 * W).map_or(0, |l| usize::from_le_bytes(l.try_into().unwrap_or([0; W])));
                        format!("\"~{len}\"")
                    }
                },
                (Some(b), None) => format!("\"{}\"", hex(b)),
            }
        };
        let array = |a: Option<&Vec<Vec<inspect::Bucket>>>, ss: &Vec<Vec<Vec<Option<Vec<u8>>>>>| -> String {
            let Some(a) = a else { return "null".into() };
            let chains: Vec<String> = a
                .iter()
                .enumerate()
                .map(|(i, chain)| {
                    let bs: Vec<String> = chain
                        .iter()
                        .enumerate()
                        .map(|(j, b)| {
                            let at = match b.at {
                                At::Main(_) => "\"main\"".to_string(),
                                At::Pre(p) => format!("{{\"pre\":{p}}}"),
                                At::Heap => "\"heap\"".into(),
                            };
                            let th: Vec<String> = b.tophash.iter().map(u8::to_string).collect();
                            let ks: Vec<String> = b
                                .keys
                                .iter()
                                .enumerate()
                                .map(|(x, k)| slot(k, ss.get(i).and_then(|c| c.get(j)).and_then(|b| b.get(x))))
                                .collect();
                            let es: Vec<String> = b.elems.iter().map(|e| slot(e, None)).collect();
                            format!(
                                "{{\"at\":{at},\"tophash\":[{}],\"keys\":[{}],\"elems\":[{}]}}",
                                th.join(","),
                                ks.join(","),
                                es.join(",")
                            )
                        })
                        .collect();
                    format!("[{}]", bs.join(","))
                })
                .collect();
            format!("[{}]", chains.join(","))
        };
        // A null array has no chains; an allocated one has 2^B >= 1.
        let buckets = if s.buckets.is_empty() { None } else { Some(&s.buckets) };
        format!(
            "{{\"buckets\":{},\"oldbuckets\":{}}}",
            array(buckets, &cur_strs),
            array(s.oldbuckets.as_ref(), &old_strs)
        )
    }

    fn frame(&self, h: NonNull<HMap>) -> Frame {
        // SAFETY: a live map of type t; string keys point into the arena.
        let mut f = unsafe { Frame::capture(&self.t, h, self.kv, self.ev) };
        tidy_frame(&mut f, self.kv, self.ev);
        f
    }
}

/// Uniform display rules for replayed frames of both sides: short hex,
/// `{}` for zero-size values.
fn tidy_frame(f: &mut Frame, kv: ValueKind, ev: ValueKind) {
    let _ = (kv, ev);
    for b in f.buckets.iter_mut().chain(f.oldbuckets.iter_mut().flatten()).flatten() {
        for s in &mut b.slots {
            s.key = short(std::mem::take(&mut s.key));
            s.elem = short(std::mem::take(&mut s.elem));
            if s.top >= MIN_TOP_HASH {
                // a filled slot of a zero-size type
                for t in [&mut s.key, &mut s.elem] {
                    if t.is_empty() {
                        t.push_str("{}");
                    }
                }
            }
        }
    }
}

/// Builds the Go side's frame from a trace's `hdr` and `state`.
fn trace_frame(hdr: &Json, state: &Json, th: &Json, kv: ValueKind, ev: ValueKind) -> Result<Frame, String> {
    let num = |k: &str| hdr.get(k).as_u64().ok_or_else(|| format!("hdr.{k} missing"));
    let b = num("B")? as u8;
    let arraylen = th.get("arraylen").as_arr().get(b as usize).and_then(Json::as_u64).unwrap_or(0) as usize;
    let ptrs = matches!(th.get("bucketpointers"), Json::Bool(true));
    let conv = |a: &Json| -> Result<Option<Vec<Vec<BucketView>>>, String> {
        let Json::Arr(chains) = a else { return Ok(None) };
        let mut out = Vec::new();
        for (i, chain) in chains.iter().enumerate() {
            let mut c = Vec::new();
            for bk in chain.as_arr() {
                let at = match bk.get("at") {
                    Json::Str(s) if s == "main" => At::Main(i),
                    Json::Str(s) if s == "heap" => At::Heap,
                    o => At::Pre(o.get("pre").as_u64().ok_or("bad at")? as usize),
                };
                let tops = bk.get("tophash").as_arr();
                let keys = bk.get("keys").as_arr();
                let elems = bk.get("elems").as_arr();
                let mut slots = Vec::new();
                for x in 0..BUCKET_CNT {
                    let top = tops.get(x).and_then(Json::as_u64).ok_or("bad tophash")? as u8;
                    let bytes = |j: Option<&Json>| -> Result<Option<Vec<u8>>, String> {
                        match j {
                            Some(Json::Str(s)) if !s.starts_with('~') => unhex(s).map(Some),
                            _ => Ok(None),
                        }
                    };
                    let k = bytes(keys.get(x))?;
                    let e = bytes(elems.get(x))?;
                    let live = top >= MIN_TOP_HASH;
                    let stale_ok = (top == EVACUATED_X || top == EVACUATED_Y) && kv != ValueKind::Str && !ptrs;
                    slots.push(SlotView {
                        top,
                        key: if live || stale_ok {
                            k.map(|k| show_value(kv, &k)).unwrap_or_default()
                        } else {
                            String::new()
                        },
                        elem: if live { e.map(|e| show_value(ev, &e)).unwrap_or_default() } else { String::new() },
                    });
                }
                c.push(BucketView { at, slots });
            }
            out.push(c);
        }
        Ok(Some(out))
    };
    let buckets = conv(state.get("buckets"))?.unwrap_or_default();
    let oldbuckets = conv(state.get("oldbuckets"))?;
    let header = Header {
        count: num("count")? as usize,
        flags: num("flags")? as u8,
        b,
        noverflow: num("noverflow")? as u16,
        hash0: num("hash0")? as u32,
        nevacuate: num("nevacuate")? as usize,
        clear_seq: num("clearseq")?,
        growing: matches!(hdr.get("oldbuckets"), Json::Bool(true)),
        next_overflow: hdr.get("nextoverflow").as_u64().map(|x| x as usize),
        array_buckets: if buckets.is_empty() { 0 } else { arraylen },
    };
    let mut f = Frame { header, buckets, oldbuckets };
    tidy_frame(&mut f, kv, ev);
    Ok(f)
}

/// What changed between two headers of a map, e.g. `B 2→3, growing`.
fn header_delta(a: &Header, b: &Header) -> String {
    let mut d = Vec::new();
    if a.b != b.b {
        d.push(format!("B {}→{}", a.b, b.b));
    }
    if !a.growing && b.growing {
        d.push(if b.flags & SAME_SIZE_GROW != 0 { "same-size grow starts".into() } else { "grow starts".to_string() });
    }
    if a.growing && !b.growing {
        d.push("growth done".into());
    }
    if b.growing && a.nevacuate != b.nevacuate {
        d.push(format!("nevacuate {}→{}", a.nevacuate, b.nevacuate));
    }
    if a.noverflow != b.noverflow {
        d.push(format!("noverflow {}→{}", a.noverflow, b.noverflow));
    }
    if a.clear_seq != b.clear_seq {
        d.push(format!("clearSeq {}→{}", a.clear_seq, b.clear_seq));
    }
    let iter_bits = ITERATOR | OLD_ITERATOR;
    if a.flags & iter_bits != b.flags & iter_bits {
        d.push(format!("flags {}→{}", flag_names(a.flags & iter_bits), flag_names(b.flags & iter_bits)));
    }
    d.join(", ")
}

/// The trace's `hdr` for a gomap header, for comparison.
fn hdr_json(h: &Header) -> String {
    format!(
        "{{\"count\":{},\"flags\":{},\"B\":{},\"noverflow\":{},\"hash0\":{},\"nevacuate\":{},\"clearseq\":{},\"oldbuckets\":{},\"nextoverflow\":{}}}",
        h.count,
        h.flags,
        h.b,
        h.noverflow,
        h.hash0,
        h.nevacuate,
        h.clear_seq,
        h.growing,
        h.next_overflow.map_or_else(|| "null".to_string(), |x| x.to_string())
    )
}

fn go_stmt(line: &Json, r: &Replayer) -> String {
    let m = line.get("map").as_u64().map_or_else(String::new, |m| format!("m{m}"));
    let key = |j: &Json| unhex(j.as_str()).map(|b| show_value(r.kv, &b)).unwrap_or_default();
    let val = |j: &Json| unhex(j.as_str()).map(|b| show_value(r.ev, &b)).unwrap_or_default();
    let it = line.get("it").as_u64().unwrap_or(0);
    match line.get("op").as_str() {
        "make" => match line.get("hint").as_u64() {
            Some(0) | None => format!("{m} := make({})", r.gotype),
            Some(h) => format!("{m} := make({}, {h})", r.gotype),
        },
        "assign" => format!("{m}[{}] = {}", key(line.get("k")), val(line.get("v"))),
        "delete" => format!("delete({m}, {})", key(line.get("k"))),
        "get" => format!("v, ok := {m}[{}]", key(line.get("k"))),
        "clear" => format!("clear({m})"),
        "clone" => format!("maps.Clone({m})"),
        "len" => format!("len({m})"),
        "iterinit" => format!("it{it} := range {m}  (mapiterinit)"),
        "iternext" => format!("it{it}: next entry of range {m}  (mapiternext)"),
        "iterend" => format!("it{it} dropped"),
        "final" => "final check of every map".into(),
        o => o.to_string(),
    }
}

/// The functions of `map_noswiss.go` a trace op line runs. `make` without a
/// hint is `make(map[K]V)`, which Go's compiler turns into `makemap_small`
/// for a map that escapes (every oracle map does); with a hint it calls
/// `makemap` (the replayer makes the same choice, [`Replayer::op`]).
fn op_calls(line: &Json) -> Vec<Call> {
    let names: &[&str] = match line.get("op").as_str() {
        "make" if line.get("hint").as_u64().unwrap_or(0) == 0 => &["makemap_small"],
        "make" => &["makemap"],
        "assign" => &["mapassign"],
        "delete" => &["mapdelete"],
        "get" => &["mapaccess2"],
        "clear" => &["mapclear"],
        "iterinit" => &["mapiterinit", "mapiternext"],
        "iternext" => &["mapiternext"],
        _ => &[],
    };
    calls(names)
}

/// Runs `f` with `draws` as the random source, in order. Returns its result
/// and, if `f` did not take exactly those draws, the difference.
fn run_with_draws<R>(draws: &[u64], f: impl FnOnce() -> R) -> (R, Option<String>) {
    let queue = std::rc::Rc::new(core::cell::RefCell::new(std::collections::VecDeque::from(draws.to_vec())));
    let over = std::rc::Rc::new(core::cell::Cell::new(0usize));
    let (q2, o2) = (queue.clone(), over.clone());
    let res = gomap::rand::with_source(
        move || {
            q2.borrow_mut().pop_front().unwrap_or_else(|| {
                o2.set(o2.get() + 1);
                0
            })
        },
        f,
    );
    let left = queue.borrow().len();
    let problem = (over.get() > 0 || left > 0).then(|| {
        format!("random draws: the trace recorded {}, gomap asked for {}", draws.len(), draws.len() - left + over.get())
    });
    (res, problem)
}

/// One map of a trace line, compared with gomap's map of the same id.
struct MapCheck {
    id: u64,
    h: NonNull<HMap>,
    /// gomap's header after the op.
    ours: Header,
    /// Go's recorded state, when the line carries one.
    go_frame: Option<Frame>,
    /// Every difference: the op's (`base`) and this map's.
    probs: Vec<String>,
    sum_ok: bool,
}

/// Compares every map a trace line lists (`maps`: header, state checksum,
/// recorded state) with gomap's; `base` holds the op's own differences
/// (result, draws), repeated in every map's list.
fn check_maps(r: &Replayer, th: &Json, line: &Json, base: &[String]) -> Result<Vec<MapCheck>, String> {
    let n = line.get("n").as_u64().unwrap_or(0);
    let mut out = Vec::new();
    for (id, m) in match line.get("maps") {
        Json::Obj(o) => o.clone(),
        _ => Vec::new(),
    } {
        let idn: u64 = id.parse().map_err(|_| format!("op {n}: bad map id {id}"))?;
        let h = r.map(idn)?;
        // SAFETY: a live map of the replayer's type.
        let ours = unsafe { inspect::header(&r.t, h) };
        let mut probs = base.to_vec();
        let go_hdr = m.get("hdr").compact();
        if go_hdr != hdr_json(&ours) {
            probs.push(format!("hmap: Go {go_hdr}, gomap {}", hdr_json(&ours)));
        }
        let go_frame = match m.get("state") {
            Json::Null => None,
            st => Some(trace_frame(m.get("hdr"), st, th, r.kv, r.ev)?),
        };
        if let Some(g) = &go_frame {
            let d = diff_frames(&r.frame(h), g);
            if !d.is_empty() {
                probs.push(format!("recorded state: {} difference(s), first: {}", d.len(), d[0]));
            }
        }
        let sum = format!("{:016x}", fnv1a(r.state_text(h).as_bytes()));
        let go_sum = m.get("sum").as_str();
        let sum_ok = sum == go_sum;
        if !sum_ok {
            probs.push(format!("state checksum: Go {go_sum}, gomap {sum}"));
        }
        out.push(MapCheck { id: idn, h, ours, go_frame, probs, sum_ok });
    }
    Ok(out)
}

/// Replays a `gomap-trace/1` trace on gomap (feeding each op its recorded
/// draws) and turns the selected ops into steps: gomap's state, with the
/// trace's recorded state of real Go beside it when the line carries one,
/// differences marked. Compares every op's result, header and state
/// checksum; the intro says where gomap first differs, if anywhere.
///
/// The caller installs the trace's hash path first (see [`trace_hash_path`];
/// the key material must be `alg::test_key_material()`).
pub fn replay_trace(text: &str, select: TraceSelect, source: &str) -> Result<Tour, String> {
    let mut lines = text.lines();
    let th = Json::parse(lines.next().ok_or("empty trace")?).map_err(|e| format!("header: {e}"))?;
    if th.get("format").as_str() != "gomap-trace/1" {
        return Err("not a gomap-trace/1 trace".into());
    }
    let path = gomap::presets::hash_path_name();
    if th.get("hash").as_str() != path {
        return Err(format!("the trace uses the {} hash path but gomap uses {path}", th.get("hash").as_str()));
    }
    if alg::key_material() != alg::test_key_material() {
        return Err("install alg::test_key_material() first".into());
    }
    let mut r = Replayer::new(&th)?;
    let snap_every = th.get("snapshot_every").as_u64().unwrap_or(0);
    let mut steps = Vec::new();
    let mut first_diff: Option<String> = None;
    let mut prev_hdr: PrevHeaders = Vec::new();
    let mut nops = 0;
    for (ln, l) in lines.enumerate() {
        if l.trim().is_empty() {
            continue;
        }
        let line = Json::parse(l).map_err(|e| format!("line {}: {e}", ln + 2))?;
        let n = line.get("n").as_u64().ok_or_else(|| format!("line {}: no n", ln + 2))? as usize;
        nops = n + 1;
        let draws: Vec<u64> = line.get("rand").as_arr().iter().filter_map(Json::as_u64).collect();
        let (res, draw_problem) = run_with_draws(&draws, || r.op(&line));
        let res = res.map_err(|e| format!("op {n}: {e}"))?;
        let mut problems: Vec<String> = draw_problem.into_iter().collect();
        let go_res = line.get("res").compact();
        if go_res != res {
            problems.push(format!("result: Go {go_res}, gomap {res}"));
        }
        let op = line.get("op").as_str().to_string();
        let mut shown = Vec::new();
        for MapCheck { id: idn, h, ours, go_frame, probs, sum_ok } in check_maps(&r, &th, &line, &problems)? {
            if first_diff.is_none() && !probs.is_empty() {
                first_diff = Some(format!("op {n} ({}, map {idn}): {}", op, probs.join("; ")));
            }
            let key_fields = |h: &Header| (h.b, h.flags, h.noverflow, h.growing, h.nevacuate, h.clear_seq);
            let prev = prev_hdr.iter().find(|(i, _)| *i == idn).map(|(_, p)| p.clone());
            let changed = prev.as_ref().is_none_or(|p| key_fields(p) != key_fields(&ours));
            let delta = prev.as_ref().map_or_else(String::new, |p| header_delta(p, &ours));
            prev_hdr.retain(|(i, _)| *i != idn);
            prev_hdr.push((idn, ours.clone()));
            let state = line.get("maps").get(&idn.to_string()).get("state");
            let want = match select {
                TraceSelect::Snapshots => !matches!(state, Json::Null),
                TraceSelect::Op(k) => k == n,
                TraceSelect::Structural => changed || !probs.is_empty() || op == "final",
            };
            // one map per op: the op's own (the new one for clone), all for final
            let is_main = op == "final"
                || (op == "clone" && Some(idn) != line.get("map").as_u64())
                || (op != "clone" && Some(idn) == line.get("map").as_u64());
            if want && is_main {
                shown.push((idn, h, go_frame, probs, sum_ok, delta));
            }
        }
        for (idn, h, go_frame, probs, sum_ok, delta) in shown {
            let go_sum = line.get("maps").get(&idn.to_string()).get("sum").as_str().to_string();
            let other = go_frame.map(|f| ("real Go (trace)".to_string(), f));
            let mut notes =
                vec![format!("draws: {}", if draws.is_empty() { "none".to_string() } else { format!("{draws:?}") })];
            notes.push(format!("result: {}", res));
            if probs.is_empty() {
                notes.push(format!(
                    "gomap matches Go: result, hmap header, and state checksum {go_sum} (FNV-1a of the STATE text, docs/trace-format.md §5)."
                ));
            } else {
                for p in &probs {
                    notes.push(format!("DIFFERENCE: {p}"));
                }
            }
            if other.is_none() {
                notes.push(format!(
                    "The trace records full states every {snap_every} ops, not at op {n}: the picture is gomap's replayed state, whose checksum {} Go's.",
                    if sum_ok { "equals" } else { "differs from" }
                ));
            }
            if matches!(r.key, TKey::U32 | TKey::U64 | TKey::Str) && matches!(op.as_str(), "assign" | "delete" | "get")
            {
                notes.push(format!(
                    "For this key type Go's compiler uses the fast variant ({}_fast{}); gomap replays it with its twin in src/fast{}.rs.",
                    match op.as_str() {
                        "assign" => "mapassign",
                        "delete" => "mapdelete",
                        _ => "mapaccess2",
                    },
                    match r.key {
                        TKey::U32 => "32",
                        TKey::U64 => "64",
                        _ => "str",
                    },
                    match r.key {
                        TKey::U32 => "32",
                        TKey::U64 => "64",
                        _ => "str",
                    }
                ));
            }
            steps.push(Step {
                title: if delta.is_empty() {
                    format!("op {n}: {}", go_stmt(&line, &r))
                } else {
                    format!("op {n}: {}  [{delta}]", go_stmt(&line, &r))
                },
                calls: op_calls(&line),
                ops: vec![go_stmt(&line, &r)],
                notes,
                map: format!("m{idn} ({})", r.gotype),
                frame: r.frame(h),
                other,
            });
        }
    }
    if let TraceSelect::Op(k) = select {
        if k >= nops {
            return Err(format!("--step {k}: the trace has ops 0..{}", nops.saturating_sub(1)));
        }
    }
    let mut intro = vec![
        format!("trace: {source}"),
        format!(
            "{} ({}), scenario {:?}, seed {}, hash path {}; {nops} ops, full states every {snap_every} ops.",
            r.gotype,
            th.get("go").as_str(),
            th.get("scenario").as_str(),
            th.get("seed").as_u64().unwrap_or(0),
            th.get("hash").as_str()
        ),
        "Replayed on gomap with each op's recorded random draws; results, headers and state checksums compared op by op.".into(),
        match &first_diff {
            None => format!("gomap matched real Go at all {nops} ops."),
            Some(d) => format!("FIRST DIFFERENCE at {d}"),
        },
        "Left: gomap after the op. Right (when the trace has the state): real Go, differing cells outlined in red.".into(),
        String::new(),
    ];
    intro.extend(LEGEND.iter().map(|s| s.to_string()));
    Ok(Tour { title: "gomap inspector: a go-ref trace, gomap beside real Go".into(), intro, steps })
}

type PrevHeaders = Vec<(u64, Header)>;
