//! gomap: Go's classic runtime hash map (`runtime/map_noswiss.go` and
//! `map_fast{32,64,str}_noswiss.go` of Go 1.24.11), ported to Rust function
//! for function and bit for bit: given the same hash seed, hash key material
//! and random draws, gomap's buckets, tophash bytes, overflow chains, growth
//! steps and iteration order are the ones real Go produces (checked on every
//! CI run by replaying traces recorded from real Go maps).
//!
//! Three audiences use it:
//!
//! * **Rust programs** that want Go's map semantics: [`GoMap<K, V>`](GoMap),
//!   a safe map with std's method names (`get`, `insert`, `remove`,
//!   `iter`, `retain`, ...) and Go's behaviour where Go defines it:
//!   randomized iteration order, NaN keys that never match, `+0.0 == -0.0`,
//!   a `range` whose body may insert and delete, `clear` that keeps the
//!   buckets.
//! * **Language runtimes and VMs**, through the C ABI of the `gomap-capi`
//!   crate (`libgomap`, `gomap.h`), built on this crate's erased core
//!   ([`map`], [`maptype`], [`alloc`], [`hook`]).
//! * **People studying map.go** side by side with [`map`] (each function
//!   cites its Go twin and line), the concordance (`docs/concordance.md` in
//!   the repository) and the inspector (`cargo run --release --example
//!   tour`).
//!
//! # A first map
//!
//! ```
//! use gomap::{GoMap, GoStr};
//!
//! // make(map[string]uint64)
//! let mut m: GoMap<GoStr, u64> = GoMap::new();
//! m.insert("one".into(), 1); // m["one"] = 1
//! m.insert("two".into(), 2);
//! assert_eq!(m.get(&GoStr::from("one")), Some(&1)); // v, ok := m["one"]
//! assert_eq!(m.len(), 2); // len(m)
//!
//! // for k, v := range m { ... }: Go's order, a fresh random start each time.
//! let mut total = 0;
//! for (_k, v) in &m {
//!     total += v;
//! }
//! assert_eq!(total, 3);
//!
//! m.remove(&GoStr::from("one")); // delete(m, "one")
//! m.clear(); // clear(m)
//! assert!(m.is_empty());
//! ```
//!
//! Go's float keys, as Go defines them:
//!
//! ```
//! let mut m = gomap::GoMap::<f64, &str>::new();
//! m.insert(0.0, "zero");
//! assert_eq!(m.get(&-0.0), Some(&"zero")); // +0 == -0
//! m.insert(f64::NAN, "a");
//! m.insert(f64::NAN, "b"); // NaN != NaN: two more entries
//! assert_eq!(m.len(), 3);
//! assert_eq!(m.get(&f64::NAN), None); // and neither can be found
//! ```
//!
//! A range loop whose body writes to the map, which Go allows (entries
//! added during the loop may or may not be visited; deleted ones that were
//! not reached yet are not):
//!
//! ```
//! use core::ops::ControlFlow;
//! let mut m: gomap::GoMap<u64, u64> = (0..100).map(|i| (i, i)).collect();
//! m.range(|m, k, _v| {
//!     if k % 2 == 1 {
//!         m.remove(&k); // delete(m, k) inside the range
//!     }
//!     ControlFlow::Continue(())
//! });
//! assert_eq!(m.len(), 50);
//! ```
//!
//! Keys are the types Go allows as map keys ([`GoKey`]: integers, `bool`,
//! `char`, floats, byte arrays, [`GoStr`] with Go's string layout, Rust's
//! `String`); values are any type.
//!
//! # Features
//!
//! * `serde`: `Serialize`/`Deserialize` for [`GoMap`] (a map, entries in
//!   Go's iteration order; deserializing assigns in input order, so a
//!   repeated key keeps its last value), [`GoStr`] and [`GoStrRef`]
//!   (strings). Off by default: the default build depends on `libc` and
//!   `rand` only.
//!
//! # Modules
//!
//! The API a Rust program uses is [`GoMap`] and its key types; the rest is
//! the erased core the C ABI and the inspector are built on, public so that
//! it can be studied and embedded:
//!
//! * Go's map, one file per Go file: [`map`] (`map_noswiss.go`), [`fast32`],
//!   [`fast64`], [`faststr`], [`maptype`] (the descriptor, `type.go`'s
//!   `MapType`), [`alg`] (`alg.go`, `hash64.go`, the AES hash of
//!   `asm_amd64.s`), [`msize`] (`msize.go`).
//! * The machinery gomap needs because it has no GC and its allocations can
//!   fail, in private modules named for what they do: `retire` (what
//!   replaces the GC), `reserve` (overflow buckets reserved before a write),
//!   `scan` (word-at-a-time tophash scans), `guards` (the write flag and
//!   blocks owned by a write, released on error and unwind alike),
//!   `iter_inline`, `mem`, `scopeguard`; [`alloc`] (blocks and the allocator hook), [`hook`],
//!   [`rand`], [`fatal`].
//! * The typed shell: [`GoMap`] (its owned iteration and `reserve` in
//!   [`owned`]), [`GoStr`], [`presets`], [`visit`],
//!   [`shrink`], [`inspect`].
//!
//! The C ABI (`capi/`, crate `gomap-capi`) and the inspector (`inspector/`,
//! crate `gomap-inspector`) are crates of their own, built on this crate's
//! public API.
//!
//! # Safety vocabulary
//!
//! The `# Safety` sections of the core's unsafe functions are bullet lists
//! built from these terms; each `// SAFETY:` comment at a call site answers
//! the callee's points one by one, in these words.
//!
//! * **live map** (of type `t`): a pointer returned by [`map::makemap`] (or
//!   a sibling: `makemap64`, `makemap_small`, `mapclone2`) that has not been
//!   passed to a successful [`map::mapfree`], and whose buckets were made
//!   for the layout of `t` (the same `MapType`, or one with the same
//!   key/elem sizes and flags). A null pointer is Go's nil map; functions
//!   that accept it say "null or a live map".
//! * **bucket of `t`**: a pointer to the first byte of a bucket (`bmap`)
//!   inside a bucket array or an overflow block of a live map of type `t`:
//!   `t.bucketsize()` bytes, 8-aligned, laid out as `tophash[8] | keys[8] |
//!   elems[8] | overflow` with offsets from `t`. Retired buckets (on the
//!   retire list, still allocated) count while a registered iterator of the
//!   map is live.
//! * **slot `i`**: an index `i < BUCKET_CNT` (8) into a bucket; a *filled*
//!   slot has `tophash >= MIN_TOP_HASH` and holds a live key and elem (for
//!   indirect keys/elems: a pointer to a live out-of-line block).
//! * **under a write**: the caller set `HASH_WRITING` on the map (through
//!   the writing guard) and is the only writer; no other thread reads or
//!   writes the map's buckets until the flag is cleared. Go's concurrent-
//!   misuse checks detect (best effort) callers that break this.
//! * **reserved**: before the call, the map's spare list holds the overflow
//!   buckets the call may need (`HMap::reserve_grow_work`, computed by
//!   `grow_work_need`), so the call cannot fail on allocation half-way.
//! * **registered iterator**: an [`map::HIter`] that [`map::mapiterinit`]
//!   started (counted in the map's `live_iters`) and that
//!   [`map::mapiterend`] has not ended yet; while one is live, what it can
//!   still reach (the storage of the generations it pins) stays allocated,
//!   and its map and type must stay alive.
//! * **key of `t`** / **elem of `t`**: a pointer valid for reads of
//!   `t.key().size` (`t.elem().size`) bytes holding a value the descriptor's
//!   hooks accept (for strings: a `GoString` whose bytes are readable); not
//!   pointing into the map's own buckets unless the function says so.

// Every unsafe block of the crate holds one unsafe operation, so that its
// `// SAFETY:` comment answers exactly one callee's contract.
#![deny(clippy::multiple_unsafe_ops_per_block)]

// Go's 32-bit layout (4-byte pointers and hashes, hash32.go, the 32-bit
// size classes) is checked against real Go on 386 (i686) and arm (armv7).
// wasm32 has no Go architecture of its own (Go's `wasm` is 64-bit): it
// follows Go arm's layout and fallback hash, checked against Go arm's
// vectors and traces (scripts/wasm32.sh, under Node's WASI).
#[cfg(not(any(
    target_pointer_width = "64",
    all(target_pointer_width = "32", any(target_arch = "x86", target_arch = "arm", target_arch = "wasm32"))
)))]
compile_error!(
    "gomap supports 64-bit targets, 32-bit x86 (i686, Go's 386), armv7 (Go's arm) and \
     wasm32 (Go arm's layout); other 32-bit targets are not verified against Go yet (issue 17)"
);

pub mod alg;
pub mod alloc;
pub mod fast32;
pub mod fast64;
pub mod faststr;
pub mod fatal;
pub mod gomap;
pub mod gostr;
mod guards;
pub mod hook;
pub mod iface;
pub mod inspect;
mod iter_inline;
pub mod keys;
pub mod map;
pub mod maptype;
mod mem;
pub mod msize;
pub mod owned;
mod pins;
pub mod presets;
pub mod quarantine;
pub mod rand;
mod reserve;
mod retire;
mod scan;
mod scopeguard;
#[cfg(feature = "serde")]
mod serde_impls;
pub mod shrink;
pub mod visit;
pub use gomap::{GoKey, GoMap, GoQuery, GoStr, GoStrRef};
/// `#[derive(GoKey)]` (feature `derive`): see [`keys`].
#[cfg(feature = "derive")]
pub use gomap_derive::GoKey;
pub use keys::KeyFields;
