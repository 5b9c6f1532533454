//! The study page: one self-contained HTML file that shows, step by step,
//! the Go source a step runs beside the bucket picture it leaves.
//!
//! Layout (one step at a time once the page's script runs; every step one
//! below the other without it):
//!
//! ```text
//! ┌ bar: ◀ prev | Step n/N | next ▶ | evacuation ◀ ▶ | fit ───────────────┐
//! │ step list │ title, calls (gomap twin → Go function :line), notes     │
//! │  1 …      │ ┌ Go source (map_noswiss.go) ┐ ┌ bucket picture (SVG) ┐ │
//! │  2 …      │ │ cited lines highlighted    │ │ rows, cells, X/Y      │ │
//! └───────────┴─┴────────────────────────────┴─┴───────────────────────┴─┘
//! ```
//!
//! The Go source is never part of gomap: [`GoSource`] reads it from an
//! installed Go 1.24.11 when the page is generated and embeds it in the
//! page only. Without it, every line reference links to the same line of
//! Go 1.24.11's source online ([`GO_SOURCE_URL`]).
//!
//! Highlighted lines are the lines a step cites: the first line of every
//! function in its call chain and every `:N` / `:N-M` reference in its
//! title and notes. They are not a line-by-line trace of Go's execution.
//!
//! Keys: → / j / n next step, ← / k / p previous, Home / End, ] / [ (or ↓ /
//! ↑ on a growth step) evacuation bucket by bucket, z fit / actual size.
//! Deep links: `#step-N`.

use core::fmt::Write as _;

use super::{CALLS, Frame, SAME_SIZE_GROW, Step, Tour, calls_line, diff_frames, esc, fresh_evacuations, step_svg};
use gomap::map::{EVACUATED_X, EVACUATED_Y, MIN_TOP_HASH};

/// Go's release whose `map_noswiss.go` the line numbers refer to.
pub const GO_VERSION: &str = "go1.24.11";

/// `map_noswiss.go` of [`GO_VERSION`] online; a line is `#L<n>`.
pub const GO_SOURCE_URL: &str = "https://github.com/golang/go/blob/go1.24.11/src/runtime/map_noswiss.go";

/// `runtime/map_noswiss.go` read from an installed Go, checked to be the
/// file the line numbers of [`CALLS`] refer to.
#[derive(Clone, Debug)]
pub struct GoSource {
    lines: Vec<String>,
}

impl GoSource {
    /// Takes the text of `map_noswiss.go`. Fails unless every function of
    /// [`CALLS`] starts on its recorded line (another Go release would put
    /// the highlights on the wrong lines).
    pub fn new(text: &str) -> Result<GoSource, String> {
        let src = GoSource { lines: text.lines().map(str::to_string).collect() };
        for c in CALLS {
            let l = src.line(c.line).unwrap_or_default();
            if !(l.starts_with("func ") && l.contains(&format!("{}(", c.go))) {
                return Err(format!(
                    "map_noswiss.go line {} is not func {} (not Go {GO_VERSION}'s file?): {l:?}",
                    c.line, c.go
                ));
            }
        }
        Ok(src)
    }

    /// Line `n` (1-based).
    pub fn line(&self, n: u32) -> Option<&str> {
        self.lines.get((n as usize).checked_sub(1)?).map(String::as_str)
    }

    /// The function around line `n`: its `func` line and its closing brace
    /// (the first `}` at column 0 after it), both 1-based.
    pub fn func_around(&self, n: u32) -> Option<(u32, u32)> {
        let i = (n as usize).checked_sub(1)?;
        if i >= self.lines.len() {
            return None;
        }
        let start = (0..=i).rev().find(|&j| self.lines[j].starts_with("func "))?;
        let end = (start..self.lines.len()).find(|&j| self.lines[j] == "}")?;
        (end >= i).then_some((start as u32 + 1, end as u32 + 1))
    }
}

/// A piece of step text: plain, or a reference to lines of map_noswiss.go.
enum Piece<'a> {
    Text(&'a str),
    Cite(&'a str, u32, u32),
}

/// Splits `s` at its line references: `:N` or `:N-M` that follow a space,
/// `(`, the start of the text or `map_noswiss.go`.
fn pieces(s: &str) -> Vec<Piece<'_>> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let (mut from, mut i) = (0, 0);
    while i < b.len() {
        let before_ok = i == 0 || matches!(b[i - 1], b' ' | b'(') || b[..i].ends_with(b"map_noswiss.go");
        if b[i] == b':' && before_ok && b.get(i + 1).is_some_and(u8::is_ascii_digit) {
            let num = |k: usize| -> (u32, usize) {
                let e = (k..b.len()).find(|&j| !b[j].is_ascii_digit()).unwrap_or(b.len());
                (s[k..e].parse().unwrap_or(0), e)
            };
            let (a, mut e) = num(i + 1);
            let mut z = a;
            if b.get(e) == Some(&b'-') && b.get(e + 1).is_some_and(u8::is_ascii_digit) {
                let (m, e2) = num(e + 1);
                if m >= a {
                    z = m;
                    e = e2;
                }
            }
            let start = if b[..i].ends_with(b"map_noswiss.go") { i - "map_noswiss.go".len() } else { i };
            if start > from {
                out.push(Piece::Text(&s[from..start]));
            }
            out.push(Piece::Cite(&s[start..e], a, z));
            from = e;
            i = e;
            continue;
        }
        i += 1;
    }
    if from < s.len() {
        out.push(Piece::Text(&s[from..]));
    }
    out
}

/// The line ranges `s` cites.
pub fn citations(s: &str) -> Vec<(u32, u32)> {
    pieces(s)
        .into_iter()
        .filter_map(|p| match p {
            Piece::Cite(_, a, z) => Some((a, z)),
            Piece::Text(_) => None,
        })
        .collect()
}

fn line_url(a: u32, z: u32) -> String {
    if a == z { format!("{GO_SOURCE_URL}#L{a}") } else { format!("{GO_SOURCE_URL}#L{a}-L{z}") }
}

/// Escapes `s` for HTML and turns its line references into links.
fn linked(s: &str) -> String {
    let mut o = String::new();
    for p in pieces(s) {
        match p {
            Piece::Text(t) => o.push_str(&esc(t)),
            Piece::Cite(t, a, z) => {
                let _ = write!(o, r#"<a class="gl" href="{}" data-line="{a}">{}</a>"#, esc(&line_url(a, z)), esc(t));
            }
        }
    }
    o
}

/// Every line range a step cites, its call chain's first lines first.
fn step_citations(s: &Step) -> Vec<(u32, u32)> {
    let mut v: Vec<(u32, u32)> = s.calls.iter().map(|c| (c.line, c.line)).collect();
    v.extend(citations(&s.title));
    for n in &s.notes {
        v.extend(citations(n));
    }
    v.dedup();
    v
}

fn ranges_attr(v: &[(u32, u32)]) -> String {
    v.iter().map(|&(a, z)| if a == z { a.to_string() } else { format!("{a}-{z}") }).collect::<Vec<_>>().join(" ")
}

/// One old bucket's evacuation, for stepping through a growth step: the
/// old row, the new rows it fed, and the cells (`arr-chain-bucket-slot`,
/// as in the SVG's `data-c`) of the keys it sent there.
struct Move {
    old: usize,
    to: Vec<usize>,
    cells: Vec<String>,
    keys: Vec<String>,
}

/// The old buckets this step evacuated, with where their keys went
/// (found by the stale key an evacuated slot keeps when the bucket holds
/// no pointers; otherwise only the rows are known).
fn evac_moves(s: &Step, prev: Option<&Frame>) -> Vec<Move> {
    let f = &s.frame;
    let Some(old) = &f.oldbuckets else { return Vec::new() };
    let n = old.len();
    let same = f.header.flags & SAME_SIZE_GROW != 0;
    let mut out = Vec::new();
    for i in fresh_evacuations(f, prev) {
        let Some(chain) = old.get(i) else { continue };
        let to = if same { vec![i] } else { vec![i, i + n] };
        let (mut cells, mut keys) = (Vec::new(), Vec::new());
        for (j, b) in chain.iter().enumerate() {
            for (k, sl) in b.slots.iter().enumerate() {
                let dest = match sl.top {
                    EVACUATED_X => i,
                    EVACUATED_Y if !same => i + n,
                    _ => continue,
                };
                if sl.key.is_empty() {
                    continue;
                }
                cells.push(format!("1-{i}-{j}-{k}"));
                keys.push(sl.key.clone());
                let hit = f.buckets.get(dest).and_then(|c| {
                    c.iter().enumerate().find_map(|(jj, nb)| {
                        nb.slots.iter().position(|x| x.top >= MIN_TOP_HASH && x.key == sl.key).map(|kk| (jj, kk))
                    })
                });
                if let Some((jj, kk)) = hit {
                    cells.push(format!("0-{dest}-{jj}-{kk}"));
                }
            }
        }
        out.push(Move { old: i, to, cells, keys });
    }
    out
}

/// `data-evac`: `old:to,to:cell,cell:key key;…` (keys are shown as text, so
/// `;` and `:` in them are replaced).
fn evac_attr(moves: &[Move]) -> String {
    moves
        .iter()
        .map(|m| {
            let to: Vec<String> = m.to.iter().map(usize::to_string).collect();
            let keys: Vec<String> = m.keys.iter().map(|k| k.replace([';', ':'], "·")).collect();
            format!("{}:{}:{}:{}", m.old, to.join(","), m.cells.join(","), keys.join(" "))
        })
        .collect::<Vec<_>>()
        .join(";")
}

/// JSON string literal that contains no `<`, `>` or `&`, so that it can sit
/// in a `<script>` and the page stays well-formed XML.
fn js_string(s: &str) -> String {
    let mut o = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            '\n' => o.push_str("\\n"),
            '\t' => o.push_str("\\t"),
            '<' | '>' | '&' => {
                let _ = write!(o, "\\u{:04x}", c as u32);
            }
            c if (c as u32) < 0x20 => {
                let _ = write!(o, "\\u{:04x}", c as u32);
            }
            c => o.push(c),
        }
    }
    o.push('"');
    o
}

const STYLE: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:0;color:#111}\
code,pre,.mono{font-family:'DejaVu Sans Mono',Menlo,Consolas,monospace;font-size:13px}\
.bar{position:sticky;top:0;z-index:2;background:#fff;border-bottom:1px solid #cbd5e1;padding:6px 12px;display:flex;flex-wrap:wrap;gap:8px;align-items:center}\
.bar h1{font-size:15px;margin:0 12px 0 0}.bar button{font-size:13px;padding:3px 10px}.bar .keys{color:#64748b;font-size:12px}\
#evac{display:none;gap:6px;align-items:center;color:#c2410c;font-size:13px}\
.layout{display:grid;grid-template-columns:230px minmax(0,1fr)}\
nav.steps{position:sticky;top:44px;align-self:start;max-height:calc(100vh - 44px);overflow:auto;font-size:12px;border-right:1px solid #e2e8f0}\
nav.steps ol{padding-left:34px;margin:8px 4px}nav.steps a{text-decoration:none;color:#1e3a8a}nav.steps li.cur a{font-weight:bold;color:#c2410c}\
main{padding:0 14px 40px}.intro{background:#f1f5f9;padding:6px 10px;margin-top:8px;font-size:13px}.intro pre{white-space:pre-wrap;font-size:12px}\
section.step h2{font-size:17px;margin:14px 0 6px}.calls{color:#334155;margin:4px 0}.ops{color:#1d4ed8;margin:4px 0}\
.hdr{background:#f8fafc;border:1px solid #cbd5e1;padding:6px;font-size:12px;overflow-x:auto}.diff{color:#b91c1c}\
.side{display:grid;grid-template-columns:minmax(300px,36%) minmax(0,1fr);gap:12px;align-items:start}\
.src{position:relative;max-height:78vh;overflow:auto;border:1px solid #cbd5e1;background:#fbfbfb;font-size:12px}\
.src pre{margin:0 0 8px;font-size:12px;line-height:1.35}.src .fnh{position:sticky;top:0;background:#e2e8f0;padding:3px 6px;font-size:12px;font-weight:bold}\
.src .l{display:block;white-space:pre;tab-size:4}.src .hl{background:#fff1a8}.src .flash{outline:2px solid #c2410c}\
.src .ln{display:inline-block;width:4em;text-align:right;padding-right:8px;color:#94a3b8;user-select:none}\
.src .off{padding:8px}.pic{overflow:auto}.pic svg{max-width:100%;height:auto}body.actual .pic svg{max-width:none}\
svg.focus g.row{opacity:.22}svg.focus g.row.hot{opacity:1}svg rect.hotc{stroke:#c2410c;stroke-width:4}\
a.gl{color:#7c2d12}\
.verdict{font-size:13px;font-weight:bold;margin:4px 0}.verdict.good{color:#15803d}.verdict.bad{color:#b91c1c}\
nav.steps li.differs a{color:#b91c1c}nav.steps li.differs a::before{content:'≠ '}section.step.differs h2{color:#b91c1c}\
html.js section.step{display:none}html.js section.step.cur{display:block}\
@media (max-width:1000px){.layout{grid-template-columns:1fr}nav.steps{display:none}.side{grid-template-columns:1fr}}";

/// The page's script. It holds no `<` (comparisons are written with `>`)
/// and no `&`, so the page stays well-formed XML.
const SCRIPT: &str = r##"(function () {
"use strict";
var d = document, root = d.documentElement;
root.classList.add("js");
var steps = [].slice.call(d.querySelectorAll("section.step"));
var items = [].slice.call(d.querySelectorAll("nav.steps li"));
var srcEl = d.getElementById("go-src");
var src = srcEl ? JSON.parse(srcEl.textContent) : null;
var cur = -1, ev = -1;
function ranges(s) {
  var out = [];
  (s || "").split(" ").forEach(function (p) {
    if (p) { var a = p.split("-"); out.push([+a[0], a.length > 1 ? +a[1] : +a[0]]); }
  });
  return out;
}
function inside(n, rs) {
  return rs.some(function (r) { return n >= r[0] ? r[1] >= n : false; });
}
function renderSrc(sec) {
  var box = sec.querySelector(".src");
  if (!src || !box || box.getAttribute("data-done")) { return; }
  box.setAttribute("data-done", "1");
  box.textContent = "";
  var hl = ranges(sec.getAttribute("data-hl"));
  (sec.getAttribute("data-fns") || "").split(" ").forEach(function (f) {
    if (!f) { return; }
    var p = f.split("|"), r = ranges(p[0])[0];
    var h = d.createElement("div");
    h.className = "fnh";
    h.textContent = p[1] + "  map_noswiss.go:" + r[0] + "-" + r[1] + "   gomap: " + p[2];
    box.appendChild(h);
    var pre = d.createElement("pre");
    for (var n = r[0]; r[1] >= n; n++) {
      var line = d.createElement("span");
      line.className = inside(n, hl) ? "l hl" : "l";
      line.setAttribute("data-line", n);
      var num = d.createElement("span");
      num.className = "ln";
      num.textContent = n;
      line.appendChild(num);
      line.appendChild(d.createTextNode(src[n - 1] === undefined ? "" : src[n - 1]));
      pre.appendChild(line);
    }
    box.appendChild(pre);
  });
}
function scrollToLine(sec, n, flash) {
  var box = sec.querySelector(".src");
  var e = box ? box.querySelector('.l[data-line="' + n + '"]') : null;
  if (!e) { return false; }
  box.scrollTop = Math.max(0, e.offsetTop - 60);
  if (flash) {
    e.classList.add("flash");
    setTimeout(function () { e.classList.remove("flash"); }, 1200);
  }
  return true;
}
function moves(sec) {
  var s = sec.getAttribute("data-evac");
  if (!s) { return []; }
  return s.split(";").map(function (p) {
    var a = p.split(":");
    return { old: a[0], to: a[1].split(","), cells: a[2] ? a[2].split(",") : [], keys: a[3] || "" };
  });
}
function showEvac() {
  var sec = steps[cur], list = moves(sec), box = d.getElementById("evac");
  var svg = sec.querySelector(".pic svg");
  box.style.display = list.length ? "flex" : "none";
  if (!svg) { return; }
  var frame = svg.querySelector('g.frame[data-side="0"]') || svg;
  [].forEach.call(frame.querySelectorAll(".hot"), function (e) { e.classList.remove("hot"); });
  [].forEach.call(frame.querySelectorAll(".hotc"), function (e) { e.classList.remove("hotc"); });
  var info = d.getElementById("evac-info");
  if (ev === -1 || !list.length) {
    svg.classList.remove("focus");
    info.textContent = list.length ? list.length + " old bucket(s) evacuated here: step through them" : "";
    return;
  }
  var m = list[ev];
  svg.classList.add("focus");
  var mark = function (arr, i) {
    var g = frame.querySelector('g.row[data-arr="' + arr + '"][data-i="' + i + '"]');
    if (g) { g.classList.add("hot"); }
  };
  mark(1, m.old);
  m.to.forEach(function (t) { mark(0, t); });
  m.cells.forEach(function (c) {
    var r = frame.querySelector('rect[data-c="' + c + '"]');
    if (r) { r.classList.add("hotc"); }
  });
  var dest = m.to.length === 2 ? "X [" + m.to[0] + "] / Y [" + m.to[1] + "]" : "X [" + m.to[0] + "]";
  info.textContent = "old bucket " + m.old + " → " + dest + (m.keys ? ": " + m.keys : "") +
    " (" + (ev + 1) + "/" + list.length + ")";
}
function evStep(k) {
  var n = moves(steps[cur]).length;
  if (!n) { return false; }
  ev = Math.min(n - 1, Math.max(-1, ev + k));
  showEvac();
  return true;
}
function go(i, fromHash) {
  if (0 > i || i >= steps.length || i === cur) { return; }
  if (cur >= 0) { steps[cur].classList.remove("cur"); items[cur].classList.remove("cur"); }
  cur = i;
  ev = -1;
  var sec = steps[cur];
  sec.classList.add("cur");
  items[cur].classList.add("cur");
  d.getElementById("count").textContent = "Step " + (cur + 1) + "/" + steps.length;
  d.getElementById("prev").disabled = cur === 0;
  d.getElementById("next").disabled = cur === steps.length - 1;
  if (!fromHash) { history.replaceState(null, "", "#" + sec.id); }
  renderSrc(sec);
  var hl = ranges(sec.getAttribute("data-hl"));
  if (hl.length) { scrollToLine(sec, hl[0][0], false); }
  showEvac();
  items[cur].scrollIntoView({ block: "nearest" });
  window.scrollTo(0, 0);
}
function fromHash() {
  var m = /^#step-0*(\d+)$/.exec(location.hash);
  return m ? Math.min(steps.length, Math.max(1, +m[1])) - 1 : 0;
}
d.getElementById("prev").addEventListener("click", function () { go(cur - 1); });
d.getElementById("next").addEventListener("click", function () { go(cur + 1); });
d.getElementById("evac-prev").addEventListener("click", function () { evStep(-1); });
d.getElementById("evac-next").addEventListener("click", function () { evStep(1); });
d.getElementById("fit").addEventListener("click", function () { d.body.classList.toggle("actual"); });
window.addEventListener("hashchange", function () { go(fromHash(), true); });
d.addEventListener("click", function (e) {
  var a = e.target.closest ? e.target.closest("a.gl") : null;
  if (a ? src : false) {
    if (scrollToLine(steps[cur], a.getAttribute("data-line"), true)) { e.preventDefault(); }
  }
});
d.addEventListener("keydown", function (e) {
  if (e.altKey || e.ctrlKey || e.metaKey) { return; }
  var k = e.key, done = true;
  if (k === "ArrowRight" || k === "j" || k === "n") { go(cur + 1); }
  else if (k === "ArrowLeft" || k === "k" || k === "p") { go(cur - 1); }
  else if (k === "Home") { go(0); }
  else if (k === "End") { go(steps.length - 1); }
  else if (k === "]" || k === "ArrowDown") { done = evStep(1); }
  else if (k === "[" || k === "ArrowUp") { done = evStep(-1); }
  else if (k === "z") { d.body.classList.toggle("actual"); }
  else { done = false; }
  if (done) { e.preventDefault(); }
});
go(fromHash(), true);
})();
"##;

/// Whether a step differs from the other implementation it is compared
/// with: a `DIFFERENCE:` note (a script or trace compared with Go) or a
/// recorded state that differs from the picture.
pub fn differs(s: &Step) -> bool {
    s.notes.iter().any(|n| n.starts_with("DIFFERENCE"))
        || s.other.as_ref().is_some_and(|(_, o)| !diff_frames(&s.frame, o).is_empty())
}

/// The study page of `t` (see the module docs). With `src`, the Go
/// source is embedded; without it, line references link online.
pub fn page(t: &Tour, src: Option<&GoSource>) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "<!DOCTYPE html>");
    let _ = writeln!(o, r#"<html lang="en"><head><meta charset="utf-8"/>"#);
    let _ = writeln!(o, r#"<meta name="viewport" content="width=device-width, initial-scale=1"/>"#);
    let _ = writeln!(o, "<title>{}</title>", esc(&t.title));
    let _ = writeln!(o, "<style>{STYLE}</style></head><body>");
    let total = t.steps.len();
    let _ = writeln!(
        o,
        concat!(
            r#"<div class="bar"><h1>{}</h1>"#,
            r#"<button type="button" id="prev">◀ prev</button><span id="count" class="mono">{} steps</span>"#,
            r#"<button type="button" id="next">next ▶</button>"#,
            r#"<span id="evac"><button type="button" id="evac-prev">◀ bucket</button>"#,
            r#"<button type="button" id="evac-next">bucket ▶</button><span id="evac-info"></span></span>"#,
            r#"<button type="button" id="fit">fit / actual size</button>"#,
            r#"<span class="keys">keys: ← → steps, [ ] evacuation, z size</span></div>"#
        ),
        esc(&t.title),
        total
    );
    let _ = writeln!(o, r#"<div class="layout"><nav class="steps"><ol>"#);
    for (i, s) in t.steps.iter().enumerate() {
        let class = if differs(s) { r#" class="differs""# } else { "" };
        let _ = writeln!(o, r##"<li{class}><a href="#step-{}">{}</a></li>"##, i + 1, esc(&s.title));
    }
    let _ = writeln!(o, "</ol></nav><main>");
    let _ = writeln!(
        o,
        r#"<details class="intro"><summary>About this tour, and how to read a bucket</summary><pre>{}</pre></details>"#,
        esc(&t.intro.join("\n"))
    );
    for (i, s) in t.steps.iter().enumerate() {
        let n = i + 1;
        let prev = t.prev(i);
        let cites = step_citations(s);
        let mut fns: Vec<(u32, u32)> = Vec::new();
        if let Some(src) = src {
            for &(a, _) in &cites {
                if let Some(r) = src.func_around(a) {
                    if !fns.contains(&r) {
                        fns.push(r);
                    }
                }
            }
        }
        let fns_attr: Vec<String> = fns
            .iter()
            .map(|&(a, z)| {
                let (go, twin) = CALLS.iter().find(|c| c.line == a).map_or(("func", "-"), |c| (c.go, c.gomap));
                format!("{a}-{z}|{go}|{twin}")
            })
            .collect();
        let moves = evac_moves(s, prev);
        let _ = write!(
            o,
            r#"<section id="step-{n}" class="step{}" data-hl="{}" data-fns="{}""#,
            if differs(s) { " differs" } else { "" },
            ranges_attr(&cites),
            esc(&fns_attr.join(" "))
        );
        if !moves.is_empty() {
            let _ = write!(o, r#" data-evac="{}""#, esc(&evac_attr(&moves)));
        }
        let _ = writeln!(o, ">");
        let _ = writeln!(o, "<h2>Step {n}/{total}: {}</h2>", linked(&s.title));
        if !s.calls.is_empty() {
            let (gm, go) = calls_line(&s.calls);
            let _ = writeln!(
                o,
                r#"<p class="calls mono">gomap: {}<br/>Go (map_noswiss.go): {}</p>"#,
                esc(&gm),
                linked(&go)
            );
        }
        if !s.ops.is_empty() {
            let _ = writeln!(o, r#"<pre class="ops">{}</pre>"#, esc(&s.ops.join("\n")));
        }
        if differs(s) {
            let _ = writeln!(o, r#"<p class="verdict bad">This step differs from real Go.</p>"#);
        } else if s.notes.iter().any(|n| n.starts_with("gomap matches Go")) {
            let _ = writeln!(o, r#"<p class="verdict good">gomap matches real Go at this step.</p>"#);
        }
        if !s.notes.is_empty() {
            let _ = writeln!(o, "<ul>");
            for note in &s.notes {
                let class = if note.starts_with("DIFFERENCE") { r#" class="diff""# } else { "" };
                let _ = writeln!(o, "<li{class}>{}</li>", linked(note));
            }
            let _ = writeln!(o, "</ul>");
        }
        let _ = writeln!(o, r#"<p class="hdr mono">{}: {}</p>"#, esc(&s.map), esc(&s.frame.header_line()));
        if let Some((name, other)) = &s.other {
            let d = diff_frames(&s.frame, other);
            if d.is_empty() {
                let _ = writeln!(o, r#"<p class="mono">{}: identical</p>"#, esc(name));
            } else {
                let _ = writeln!(o, r#"<ul class="diff mono">"#);
                for x in d.iter().take(40) {
                    let _ = writeln!(o, "<li>{}</li>", esc(x));
                }
                let _ = writeln!(o, "</ul>");
            }
        }
        let _ = writeln!(o, r#"<div class="side"><div class="src">"#);
        if src.is_none() {
            let _ = write!(
                o,
                r#"<p class="off">Go source not embedded (no Go {GO_VERSION} at generation time). This step's lines online:"#
            );
            for &(a, z) in &cites {
                let name = CALLS.iter().find(|c| c.line == a).map_or(String::new(), |c| format!("{} ", c.go));
                let label = if a == z { format!("{name}:{a}") } else { format!("{name}:{a}-{z}") };
                let _ =
                    write!(o, r#" <a class="gl" href="{}" data-line="{a}">{}</a>"#, esc(&line_url(a, z)), esc(&label));
            }
            let _ = writeln!(o, "</p>");
        } else if fns.is_empty() {
            let _ = writeln!(o, r#"<p class="off">This step cites no line of map_noswiss.go.</p>"#);
        } else {
            let _ = writeln!(o, r#"<p class="off">Go source: map_noswiss.go lines {}</p>"#, ranges_attr(&fns));
        }
        let _ = writeln!(o, r#"</div><div class="pic">"#);
        o.push_str(&step_svg(s, prev, n, total, false));
        let _ = writeln!(o, "</div></div></section>");
    }
    let _ = writeln!(o, "</main></div>");
    if let Some(src) = src {
        let _ = write!(o, r#"<script type="application/json" id="go-src">["#);
        for (i, l) in src.lines.iter().enumerate() {
            if i > 0 {
                o.push(',');
            }
            o.push_str(&js_string(l));
        }
        let _ = writeln!(o, "]</script>");
    }
    let _ = writeln!(o, "<script>{SCRIPT}</script>");
    let _ = writeln!(o, "</body></html>");
    o
}
