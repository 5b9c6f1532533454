//! Go's own map benchmarks (`runtime/map_benchmark_test.go` of Go 1.24.11),
//! ported to `GoMap`, so that gomap can be compared with Go on a yardstick
//! Go's developers chose rather than one written here.
//!
//! `scripts/bench-vs-go.sh --go-suite` runs this binary interleaved with
//! Go's runtime test binary (`go test -c runtime`, built with
//! `GOEXPERIMENT=noswissmap` and by default) and prints one table.
//!
//! # What is ported
//!
//! Every benchmark of that file that exercises the map itself, with the
//! sizes Go runs by default (`benchSizes` without `-mapbench`: 6, 64 and
//! 65536; map_benchmark_test.go:526): the fixed-key lookups (`MegMap` ..
//! `ComplexAlgMap`), `MakeMap`, `NewEmptyMap*`, `NewSmallMap`,
//! `MapPopulate`, `GoMapClear`, and the generic families `MapIter`,
//! `MapIterLowLoad`, `MapAccessHit`/`Miss`, `MapAssignExists`,
//! `MapAssignFillNoHint`/`Hint`/`Clear`, `MapAssignAddition`, `MapDelete`,
//! `MapPop`, `MapDeleteLargeKey` and `MapSmallAccessHit`/`Miss`, over the
//! same key and elem types (Go's `string` is [`GoStrRef`], a header over
//! bytes kept alive elsewhere, as Go's GC keeps them; `smallType`,
//! `mediumType`, `bigType` are `[u8; 16]`, `[u8; 512]`, `[u8; 4096]`;
//! `*int32` is the address as a `usize`, hashed as Go hashes a pointer).
//!
//! Left out, and why: the `Hash*Speed` benchmarks (the hash functions, not
//! the map; `tests/hash_vectors.rs` checks them against Go);
//! `MegEmptyMapWithInterfaceKey`, `MapInterfaceString`/`Ptr` (`map[any]`:
//! gomap's interface keys take a host-described dynamic type, not a Rust
//! type); `MapStringConversion` (a Go compiler optimisation of
//! `m[string(bytes)]`; Rust looks up with a borrowed `&str` anyway);
//! `MapAssignGrowLatency` (reports latency percentiles, not ns/op);
//! `MapAssignAppend` and the `string` elems of `MapAssignAddition` (Go's
//! `append` and `+` on strings allocate through Go's GC; that measures the
//! allocator, not the map).
//!
//! Differences that remain: `MapCycle` builds its single-cycle permutation
//! from this file's own generator, not Go's `math/rand` (any single cycle
//! over 3127 keys visits the same entries in a data-dependent order); the
//! `sink` stores of Go become `black_box` (one copy of the value, where Go
//! copies the range variable and then the sink); maps Go leaves to its GC
//! are freed here when they are replaced, inside the timed loop.
//!
//! # Method (Go's `testing.B`)
//!
//! Each benchmark runs with `b.N = 1`, then with a `b.N` predicted to fill
//! the bench time (`predictN` of testing/benchmark.go: +20%, at most 100x
//! the previous, at least +1, at most 1e9), until one run lasts at least
//! `GOSUITE_BENCHTIME` seconds (default 1, Go's `-benchtime`). The line
//! printed is Go's: `BenchmarkName/sub-P  N  X ns/op`, P the CPU count.
//!
//! # Environment
//!
//! * `GOSUITE_IMPL=cabi`: the C ABI column instead of `GoMap`: the generic
//!   families (less `MapIterLowLoad`, `MapAssignAddition`, `MapAssignFillClear`
//!   and the `*int32` pairs), `NewEmptyMap*` and `GoMapClear/Reflexive`,
//!   through the exported `gomap_*` functions (fast variants for int32,
//!   int64 and string keys, the generic ones for arrays).
//! * `GOSUITE_BENCH`: comma-separated top-level names without `Benchmark`
//!   (e.g. `MapIter,MegMap`); all when unset.
//! * `GOSUITE_ONLY`: comma-separated full names (`MapFirst/1`,
//!   `MapAccessHit/Key=int64/Elem=int64/len=6`): only these rows run.
//! * `GOSUITE_BENCHTIME`: seconds per benchmark (default 1), or `<N>x` for
//!   exactly N iterations, as Go's `-benchtime` (instruction counts: run
//!   twice under callgrind with different N and take the difference).
//!
//! Without `--bench` (as `cargo test --benches` runs it) every benchmark
//! runs once with `b.N = 1` and maps of at most 64 entries: a smoke test.

use std::hint::black_box;
use std::time::{Duration, Instant};

use gomap::maptype::{MapType, TypeInfo};
use gomap::presets::Field;
use gomap::{GoKey, GoMap, GoStrRef};

// ---------------------------------------------------------------------------
// testing.B
// ---------------------------------------------------------------------------

/// The part of Go's `testing.B` these benchmarks use.
struct B {
    n: usize,
    start: Option<Instant>,
    elapsed: Duration,
}

impl B {
    fn reset_timer(&mut self) {
        self.elapsed = Duration::ZERO;
        if self.start.is_some() {
            self.start = Some(Instant::now());
        }
    }
}

/// One run with `b.N = n`. What the benchmark returns (its maps and key
/// slices) is dropped after the timer stops: Go's GC frees them later,
/// outside the benchmark's time.
fn run_n<T>(f: &mut impl FnMut(&mut B) -> T, n: usize) -> Duration {
    let mut b = B { n, start: Some(Instant::now()), elapsed: Duration::ZERO };
    let keep = f(&mut b);
    if let Some(s) = b.start.take() {
        b.elapsed += s.elapsed();
    }
    drop(keep);
    b.elapsed
}

/// Go's `B.launch` with `predictN` (testing/benchmark.go): the next `b.N`
/// aims at the bench time from the last run's speed, grows by a fifth for
/// safety, at most 100-fold, at least by one, capped at 1e9.
fn launch<T>(f: &mut impl FnMut(&mut B) -> T, goal: Duration) -> (usize, Duration) {
    let mut n = 1usize;
    let mut d = run_n(f, n);
    while d < goal && n < 1_000_000_000 {
        let last = n as u128;
        let prevns = d.as_nanos().max(1);
        let mut next = goal.as_nanos() * last / prevns;
        next += next / 5;
        next = next.min(100 * last).max(last + 1).min(1_000_000_000);
        n = next as usize;
        d = run_n(f, n);
    }
    (n, d)
}

struct Suite {
    filter: Option<Vec<String>>,
    goal: Duration,
    /// Go's `-benchtime Nx`: exactly `N` iterations (for instruction counts).
    fixed_n: Option<usize>,
    /// `GOSUITE_ONLY`: full sub-benchmark names to run (the rest skipped).
    only: Option<Vec<String>>,
    smoke: bool,
    procs: usize,
}

impl Suite {
    fn wants(&self, top: &str) -> bool {
        self.filter.as_ref().is_none_or(|f| f.iter().any(|x| x == top))
    }

    /// Runs one (sub-)benchmark and prints Go's result line.
    fn run<T>(&self, name: &str, mut f: impl FnMut(&mut B) -> T) {
        if self.only.as_ref().is_some_and(|o| !o.iter().any(|x| x == name)) {
            return;
        }
        let (n, d) = match (self.smoke, self.fixed_n) {
            (true, _) => (1, run_n(&mut f, 1)),
            (false, Some(n)) => (n, run_n(&mut f, n)),
            (false, None) => launch(&mut f, self.goal),
        };
        let ns = d.as_nanos() as f64 / n as f64;
        println!("Benchmark{name}-{}\t{n:>10}\t{ns:>12.3} ns/op", self.procs);
    }

    /// Go's `benchSizes` cases run by default (map_benchmark_test.go:526);
    /// the smoke run keeps the small ones.
    fn sizes(&self) -> &'static [usize] {
        if self.smoke { &[6, 64] } else { &[6, 64, 1 << 16] }
    }
}

// ---------------------------------------------------------------------------
// Key and elem types (Go's mapBenchmarkKeyType / ElemType and genValues)
// ---------------------------------------------------------------------------

type Str = GoStrRef<'static>;
type Small = [u8; 16];
type Medium = [u8; 1 << 9];
type Big = [u8; 1 << 12];

/// `strconv.Itoa(i)` for every `i` a benchmark asks for, made once and kept
/// for the process (Go's GC keeps the strings alive while the map holds
/// them; here they simply live forever).
fn itoa_strings() -> &'static [Str] {
    static S: std::sync::OnceLock<Vec<Str>> = std::sync::OnceLock::new();
    S.get_or_init(|| (0..(2 << 16) + 16).map(|i| GoStrRef::new(String::leak(i.to_string()))).collect())
}

/// Distinct addresses for `*int32` keys and elems (Go: `new(int32)` each).
fn int32_cells() -> &'static [i32] {
    static C: std::sync::OnceLock<&'static [i32]> = std::sync::OnceLock::new();
    C.get_or_init(|| Vec::leak(vec![0i32; (2 << 16) + 16]))
}

trait Val: Copy + 'static {
    /// Go's spelling of the type in benchmark names.
    const NAME: &'static str;
    /// Go's `genValues[T](start, end)` (map_benchmark_test.go:663).
    fn values(start: usize, end: usize) -> Vec<Self>;
}

macro_rules! int_val {
    ($t:ty, $name:literal) => {
        impl Val for $t {
            const NAME: &'static str = $name;
            fn values(start: usize, end: usize) -> Vec<Self> {
                (start..end).map(|i| i as $t).collect()
            }
        }
    };
}
int_val!(i32, "int32");
int_val!(i64, "int64");

impl Val for Str {
    const NAME: &'static str = "string";
    fn values(start: usize, end: usize) -> Vec<Self> {
        itoa_strings()[start..end].to_vec()
    }
}

macro_rules! array_val {
    ($n:expr, $name:literal) => {
        impl Val for [u8; $n] {
            const NAME: &'static str = $name;
            fn values(start: usize, end: usize) -> Vec<Self> {
                (start..end)
                    .map(|i| {
                        let mut v = [0u8; $n];
                        v[..8].copy_from_slice(&(i as u64).to_ne_bytes());
                        v
                    })
                    .collect()
            }
        }
    };
}
array_val!(16, "smallType");
array_val!(512, "mediumType");
array_val!(4096, "bigType");

/// Go's `*int32`: an address.
impl Val for usize {
    const NAME: &'static str = "*int32";
    fn values(start: usize, end: usize) -> Vec<Self> {
        int32_cells()[start..end].iter().map(|c| std::ptr::from_ref(c).addr()).collect()
    }
}

/// Go's `checkAllocSize`: skip sizes whose keys and elems need 1 GiB.
fn too_big<K, E>(n: usize) -> bool {
    (n as u64) * (size_of::<K>() + size_of::<E>()) as u64 >= 1 << 30
}

/// Go's `*sink = v`: one copy of the value into memory the optimiser must
/// assume is read (Go's sinks are heap variables).
#[inline(always)]
fn sink<T: Copy>(slot: &mut T, v: &T) {
    *slot = *v;
    black_box(slot);
}

fn fill_map<K: GoKey + Val, E: Val>(k: &[K], e: &[E]) -> GoMap<K, E> {
    let mut m = GoMap::with_capacity(k.len());
    for (k, e) in k.iter().zip(e) {
        m.insert(*k, *e);
    }
    assert_eq!(m.len(), k.len(), "genValues made distinct keys");
    m
}

/// Go's `iterCount`: iterations of a whole map so that ns/op is per entry.
fn iter_count(b: &B, n: usize) -> usize {
    b.n.checked_div(n).unwrap_or(b.n)
}

// ---------------------------------------------------------------------------
// The generic families (map_benchmark_test.go:726-1190)
// ---------------------------------------------------------------------------

fn map_iter<K: GoKey + Val, E: Val>(b: &mut B, n: usize) -> impl Sized + use<K, E> {
    let (k, e) = (K::values(0, n), E::values(0, n));
    let m = fill_map(&k, &e);
    let iterations = iter_count(b, n);
    let (mut sk, mut se) = (Box::new(k[0]), Box::new(e[0]));
    b.reset_timer();
    for _ in 0..iterations {
        for (k, e) in &m {
            sink(&mut *sk, k);
            sink(&mut *se, e);
        }
    }
    (m, k, e)
}

fn map_iter_low_load<K: GoKey + Val, E: Val>(b: &mut B, n: usize) -> impl Sized + use<K, E> {
    let mut m = GoMap::with_capacity(n);
    let (k, e) = (K::values(0, 1)[0], E::values(0, 1)[0]);
    m.insert(k, e);
    let iterations = iter_count(b, n);
    let (mut sk, mut se) = (Box::new(k), Box::new(e));
    b.reset_timer();
    for _ in 0..iterations {
        for (k, e) in &m {
            sink(&mut *sk, k);
            sink(&mut *se, e);
        }
    }
    m
}

fn map_access_hit<K: GoKey + Val, E: Val>(b: &mut B, n: usize) -> impl Sized + use<K, E> {
    let (k, e) = (K::values(0, n), E::values(0, n));
    let m = fill_map(&k, &e);
    let mut se = Box::new(e[0]);
    b.reset_timer();
    for i in 0..b.n {
        if let Some(e) = m.get(&k[i % n]) {
            sink(&mut *se, e);
        }
    }
    (m, k, e)
}

fn map_access_miss<K: GoKey + Val, E: Val>(b: &mut B, n: usize) -> impl Sized + use<K, E> {
    let m = fill_map(&K::values(0, n), &E::values(0, n));
    let n = n.max(1);
    let w = K::values(n, 2 * n);
    b.reset_timer();
    let mut ok = false;
    for i in 0..b.n {
        ok = black_box(m.contains_key(&w[i % n]));
    }
    assert!(!ok, "a miss key was found");
    (m, w)
}

fn map_assign_exists<K: GoKey + Val, E: Val>(b: &mut B, n: usize) -> impl Sized + use<K, E> {
    let (k, e) = (K::values(0, n), E::values(0, n));
    let mut m = fill_map(&k, &e);
    b.reset_timer();
    for i in 0..b.n {
        m.insert(k[i % n], e[i % n]);
    }
    (m, k, e)
}

fn map_assign_fill<K: GoKey + Val, E: Val>(b: &mut B, n: usize, hint: bool) -> impl Sized + use<K, E> {
    let (k, e) = (K::values(0, n), E::values(0, n));
    b.reset_timer();
    let mut m = GoMap::new();
    for i in 0..b.n {
        if i % n == 0 {
            m = if hint { GoMap::with_capacity(n) } else { GoMap::new() };
        }
        m.insert(k[i % n], e[i % n]);
    }
    (m, k, e)
}

fn map_assign_fill_clear<K: GoKey + Val, E: Val>(b: &mut B, n: usize) -> impl Sized + use<K, E> {
    let (k, e) = (K::values(0, n), E::values(0, n));
    let mut m = fill_map(&k, &e);
    b.reset_timer();
    for i in 0..b.n {
        if i % n == 0 {
            m.clear();
        }
        m.insert(k[i % n], e[i % n]);
    }
    (m, k, e)
}

/// `m[k] += e`: one `mapassign`, read-modify-write through the slot (the
/// wrapper's `entry().or_insert()`).
fn map_assign_addition<K: GoKey + Val, E: Val + std::ops::AddAssign + Default>(
    b: &mut B,
    n: usize,
) -> impl Sized + use<K, E> {
    let (k, e) = (K::values(0, n), E::values(0, n));
    let mut m = fill_map(&k, &e);
    b.reset_timer();
    for i in 0..b.n {
        *m.entry(k[i % n]).or_insert(E::default()) += e[i % n];
    }
    (m, k, e)
}

fn map_delete<K: GoKey + Val, E: Val>(b: &mut B, n: usize) -> impl Sized + use<K, E> {
    let (k, e) = (K::values(0, n), E::values(0, n));
    let mut m = fill_map(&k, &e);
    b.reset_timer();
    for i in 0..b.n {
        if m.is_empty() {
            for j in 0..k.len() {
                m.insert(k[j], e[j]);
            }
        }
        m.remove(&k[i % n]);
    }
    (m, k, e)
}

fn map_pop<K: GoKey + Val, E: Val>(b: &mut B, n: usize) -> impl Sized + use<K, E> {
    let (k, e) = (K::values(0, n), E::values(0, n));
    let mut m = fill_map(&k, &e);
    b.reset_timer();
    for _ in 0..b.n {
        if m.is_empty() {
            for j in 0..k.len() {
                m.insert(k[j], e[j]);
            }
        }
        let first = m.keys().next().copied();
        if let Some(key) = first {
            m.remove(&key);
        }
    }
    (m, k, e)
}

/// One generic family over Go's ten key/elem pairs, at the default sizes.
macro_rules! family {
    ($s:expr, $top:literal, $f:ident $(, $arg:expr)*) => {{
        let s: &Suite = $s;
        if s.wants($top) {
            family!(@one s, $top, $f, i32, i32 $(, $arg)*);
            family!(@one s, $top, $f, i64, i64 $(, $arg)*);
            family!(@one s, $top, $f, Str, Str $(, $arg)*);
            family!(@one s, $top, $f, Small, i32 $(, $arg)*);
            family!(@one s, $top, $f, Medium, i32 $(, $arg)*);
            family!(@one s, $top, $f, Big, i32 $(, $arg)*);
            family!(@one s, $top, $f, Big, Big $(, $arg)*);
            family!(@one s, $top, $f, i32, Big $(, $arg)*);
            family!(@one s, $top, $f, usize, i32 $(, $arg)*);
            family!(@one s, $top, $f, i32, usize $(, $arg)*);
        }
    }};
    (@one $s:ident, $top:literal, $f:ident, $k:ty, $e:ty $(, $arg:expr)*) => {
        for &n in $s.sizes() {
            if !too_big::<$k, $e>(n) {
                let name = format!("{}/Key={}/Elem={}/len={n}", $top, <$k as Val>::NAME, <$e as Val>::NAME);
                $s.run(&name, |b| $f::<$k, $e>(b, n $(, $arg)*));
            }
        }
    };
}

fn generic_families(s: &Suite) {
    family!(s, "MapIter", map_iter);
    family!(s, "MapIterLowLoad", map_iter_low_load);
    family!(s, "MapAccessHit", map_access_hit);
    family!(s, "MapAccessMiss", map_access_miss);
    family!(s, "MapAssignExists", map_assign_exists);
    family!(s, "MapAssignFillNoHint", map_assign_fill, false);
    family!(s, "MapAssignFillHint", map_assign_fill, true);
    family!(s, "MapAssignFillClear", map_assign_fill_clear);
    if s.wants("MapAssignAddition") {
        // Go's six pairs (map_benchmark_test.go:1062) less string elems
        // (see the module doc).
        macro_rules! add {
            ($k:ty, $e:ty) => {
                for &n in s.sizes() {
                    let name = format!("MapAssignAddition/Key={}/Elem={}/len={n}", <$k as Val>::NAME, <$e as Val>::NAME);
                    s.run(&name, |b| map_assign_addition::<$k, $e>(b, n));
                }
            };
        }
        add!(i32, i32);
        add!(i64, i64);
        add!(Small, i32);
        add!(Medium, i32);
        add!(Big, i32);
    }
    family!(s, "MapDelete", map_delete);
    family!(s, "MapPop", map_pop);
    for (top, hit) in [("MapSmallAccessHit", true), ("MapSmallAccessMiss", false)] {
        if !s.wants(top) {
            continue;
        }
        macro_rules! small {
            ($k:ty, $e:ty) => {
                for n in 1..=8 {
                    let name = format!("{top}/Key={}/Elem={}/len={n}", <$k as Val>::NAME, <$e as Val>::NAME);
                    if hit {
                        s.run(&name, |b| map_access_hit::<$k, $e>(b, n));
                    } else {
                        s.run(&name, |b| map_access_miss::<$k, $e>(b, n));
                    }
                }
            };
        }
        small!(i32, i32);
        small!(i64, i64);
        small!(Str, Str);
    }
}

// ---------------------------------------------------------------------------
// The fixed benchmarks (map_benchmark_test.go:136-524)
// ---------------------------------------------------------------------------

fn leak(s: String) -> Str {
    GoStrRef::new(String::leak(s))
}

/// A lookup loop over a `map[string]bool` (`_, _ = m[key]`).
fn str_lookups(b: &mut B, m: &GoMap<Str, bool>, key: Str) {
    b.reset_timer();
    for _ in 0..b.n {
        black_box(m.get(&key));
    }
}

fn repeat(c: &str, n: usize) -> String {
    c.repeat(n)
}

fn fixed_lookups(s: &Suite) {
    let meg = 1 << 20;
    if s.wants("MegMap") {
        s.run("MegMap", |b| {
            let mut m = GoMap::new();
            for suffix in 'A'..='G' {
                // fmt.Sprint of a rune is its number.
                m.insert(leak(repeat("X", meg - 1) + &(suffix as u32).to_string()), true);
            }
            str_lookups(b, &m, leak(repeat("X", meg - 1) + "k"));
        });
    }
    if s.wants("MegOneMap") {
        s.run("MegOneMap", |b| {
            let mut m = GoMap::new();
            m.insert(leak(repeat("X", meg)), true);
            str_lookups(b, &m, leak(repeat("Y", meg)));
        });
    }
    if s.wants("MegEqMap") {
        s.run("MegEqMap", |b| {
            let mut m = GoMap::new();
            m.insert(leak(repeat("X", meg)), true);
            str_lookups(b, &m, leak(repeat("X", meg)));
        });
    }
    if s.wants("MegEmptyMap") {
        s.run("MegEmptyMap", |b| str_lookups(b, &GoMap::new(), leak(repeat("X", meg))));
    }
    if s.wants("SmallStrMap") {
        s.run("SmallStrMap", |b| {
            let mut m = GoMap::new();
            for suffix in 'A'..='G' {
                m.insert(leak((suffix as u32).to_string()), true);
            }
            str_lookups(b, &m, leak("k".into()));
        });
    }
    for (size, label) in [(16, "16"), (32, "32"), (64, "64"), (128, "128"), (256, "256"), (meg, "1M")] {
        let top = format!("MapStringKeysEight_{label}");
        if s.wants(&top) {
            s.run(&top, |b| {
                let mut m = GoMap::new();
                for i in 0..8 {
                    m.insert(leak(repeat("K", i + 1)), true);
                }
                str_lookups(b, &m, leak(repeat("K", size)));
            });
        }
    }
    for (top, which) in [("MapFirst", 0), ("MapMid", 1), ("MapLast", 2)] {
        if !s.wants(top) {
            continue;
        }
        for n in 1..=16i64 {
            s.run(&format!("{top}/{n}"), |b| {
                let mut m: GoMap<i64, bool> = GoMap::new();
                for i in 0..n {
                    m.insert(i, true);
                }
                let key = [0, n >> 1, n - 1][which];
                b.reset_timer();
                for _ in 0..b.n {
                    black_box(m.get(&key));
                }
            });
        }
    }
    if s.wants("MapCycle") {
        s.run("MapCycle", |b| {
            const N: usize = 3127;
            let p = cyclic_permutation(N);
            let mut m: GoMap<i64, i64> = GoMap::new();
            for (i, &pi) in p.iter().enumerate() {
                m.insert(i as i64, pi as i64);
            }
            b.reset_timer();
            let mut j = 0i64;
            for _ in 0..b.n {
                j = m.get(&j).copied().unwrap_or(0);
            }
            black_box(j);
        });
    }
    for (size, label) in [(32, "32"), (meg, "1M")] {
        let top = format!("RepeatedLookupStrMapKey{label}");
        if s.wants(&top) {
            s.run(&top, |b| {
                let mut m = GoMap::new();
                for i in 0..64 {
                    m.insert(leak(format!("some key {i}")), true);
                }
                let base = repeat("x", size - 1);
                let (k1, k2) = (leak(base.clone() + "1"), leak(base + "2"));
                b.reset_timer();
                for _ in 0..b.n / 4 {
                    black_box(m.get(&k1));
                    black_box(m.get(&k1));
                    black_box(m.get(&k2));
                    black_box(m.get(&k2));
                }
            });
        }
    }
    if s.wants("SameLengthMap") {
        s.run("SameLengthMap", |b| {
            let mut m = GoMap::new();
            let s1 = leak(format!("foo{}bar", repeat("-", 100)));
            let s2 = leak(format!("goo{}ber", repeat("-", 100)));
            m.insert(s1, true);
            m.insert(s2, true);
            str_lookups(b, &m, s1);
        });
    }
    if s.wants("SmallKeyMap") {
        s.run("SmallKeyMap", |b| {
            let mut m: GoMap<i16, bool> = GoMap::new();
            m.insert(5, true);
            // Go's version does not reset the timer either.
            for _ in 0..b.n {
                black_box(m.get(&5));
            }
        });
    }
    if s.wants("ComplexAlgMap") {
        s.run("ComplexAlgMap", |b| {
            let mut m: GoMap<ComplexAlgKey, bool> = GoMap::new();
            let k = ComplexAlgKey::default();
            m.insert(k, true);
            for _ in 0..b.n {
                black_box(m.get(&k));
            }
        });
    }
    if s.wants("MapDeleteLargeKey") {
        s.run("MapDeleteLargeKey", |b| {
            let mut m: GoMap<Str, i64> = GoMap::new();
            for i in 0..9 {
                m.insert(leak(i.to_string()), i);
            }
            let key = leak(repeat("*", 10000));
            for _ in 0..b.n {
                m.remove(&key);
            }
        });
    }
}

/// A single-cycle permutation of `0..n` (Sattolo's algorithm, splitmix64
/// draws): Go builds one from `math/rand`; any single cycle serves.
fn cyclic_permutation(n: usize) -> Vec<usize> {
    let mut state = 1u64;
    let mut next = || {
        state = state.wrapping_add(0x9e3779b97f4a7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58476d1ce4e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d049bb133111eb);
        z ^ (z >> 31)
    };
    let mut p: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        let j = (next() % i as u64) as usize;
        p.swap(i, j);
    }
    // p is one cycle: following it from 0 visits every index once.
    let mut j = 0;
    for step in 1..n {
        j = p[j];
        assert!(j != 0, "cycle closed after {step} steps");
    }
    assert_eq!(p[j], 0);
    p
}

/// Go's `ComplexAlgKey` (map_benchmark_test.go:399): int64s, an int32, a
/// string and three blank `int` fields, which Go's generated hash and
/// equality skip.
#[repr(C)]
#[derive(Clone, Copy)]
struct ComplexAlgKey {
    a: i64,
    b: i64,
    c: i64,
    _blank1: i64,
    d: i32,
    _blank2: i64,
    e: Str,
    _blank3: i64,
    f: i64,
    g: i64,
    h: i64,
}

impl Default for ComplexAlgKey {
    fn default() -> Self {
        let z = 0;
        Self { a: z, b: z, c: z, _blank1: z, d: 0, _blank2: z, e: GoStrRef::new(""), _blank3: z, f: z, g: z, h: z }
    }
}

// SAFETY: the descriptor names every field at its `offset_of!` with the kind
// Go gives it (memory runs, a string header, blank fields that are neither
// hashed nor compared); the size and alignment are the type's own.
unsafe impl GoKey for ComplexAlgKey {
    fn map_type(elem: TypeInfo) -> MapType {
        use std::mem::offset_of;
        let k = |off: usize| Field::mem(off, 8);
        let fields = [
            k(offset_of!(Self, a)),
            k(offset_of!(Self, b)),
            k(offset_of!(Self, c)),
            Field::blank(offset_of!(Self, _blank1), 8),
            Field::mem(offset_of!(Self, d), 4),
            Field::blank(offset_of!(Self, _blank2), 8),
            Field::str(offset_of!(Self, e)),
            Field::blank(offset_of!(Self, _blank3), 8),
            k(offset_of!(Self, f)),
            k(offset_of!(Self, g)),
            k(offset_of!(Self, h)),
        ];
        MapType::composite_key(&fields, size_of::<Self>(), align_of::<Self>(), elem).expect("valid descriptor")
    }
}

fn make_and_fill(s: &Suite) {
    if s.wants("MakeMap") {
        // Go stores each map in a package-level sink, so it escapes to the
        // heap; here the previous map is freed when replaced.
        s.run("MakeMap/[Byte]Byte", |b| {
            let mut m: GoMap<u8, u8> = GoMap::new();
            for _ in 0..b.n {
                m = black_box(GoMap::with_capacity(10));
            }
            drop(m);
        });
        s.run("MakeMap/[Int]Int", |b| {
            let mut m: GoMap<i64, i64> = GoMap::new();
            for _ in 0..b.n {
                m = black_box(GoMap::with_capacity(10));
            }
            drop(m);
        });
    }
    // Go's compiler allocates these maps on the stack when they do not
    // escape (hmap and, for NewSmallMap, its first bucket): see docs/benchmarks.md.
    if s.wants("NewEmptyMap") {
        s.run("NewEmptyMap", |b| {
            for _ in 0..b.n {
                black_box(GoMap::<i64, i64>::new());
            }
        });
    }
    if s.wants("NewSmallMap") {
        s.run("NewSmallMap", |b| {
            for _ in 0..b.n {
                let mut m: GoMap<i64, i64> = GoMap::new();
                m.insert(0, 0);
                m.insert(1, 1);
                black_box(&m);
            }
        });
    }
    for (top, hint) in [("NewEmptyMapHintLessThan8", 7), ("NewEmptyMapHintGreaterThan8", 32)] {
        if s.wants(top) {
            s.run(top, |b| {
                for _ in 0..b.n {
                    black_box(GoMap::<i64, i64>::with_capacity(black_box(hint)));
                }
            });
        }
    }
    if s.wants("MapPopulate") {
        let mut size = 1;
        while size < if s.smoke { 100 } else { 1_000_000 } {
            s.run(&format!("MapPopulate/{size}"), |b| {
                for _ in 0..b.n {
                    let mut m: GoMap<i64, bool> = GoMap::new();
                    for j in 0..size {
                        m.insert(j, true);
                    }
                    black_box(&m);
                }
            });
            size *= 10;
        }
    }
    if s.wants("GoMapClear") {
        let mut size = 1;
        while size < if s.smoke { 100 } else { 100_000 } {
            s.run(&format!("GoMapClear/Reflexive/{size}"), |b| {
                let mut m: GoMap<i64, i64> = GoMap::with_capacity(size as usize);
                for _ in 0..b.n {
                    m.insert(0, size);
                    m.clear();
                }
            });
            size *= 10;
        }
        let mut size = 1;
        while size < if s.smoke { 100 } else { 100_000 } {
            s.run(&format!("GoMapClear/NonReflexive/{size}"), |b| {
                let mut m: GoMap<f64, i64> = GoMap::with_capacity(size as usize);
                for _ in 0..b.n {
                    m.insert(1.0, size);
                    m.clear();
                }
            });
            size *= 10;
        }
    }
}

// ---------------------------------------------------------------------------
// The C ABI column (GOSUITE_IMPL=cabi): the same families through the
// exported `gomap_*` functions, as a C host that knows its key type calls
// them (fast variants for int32, int64 and string keys, the generic ones
// with a key pointer for arrays), status checks included.
// ---------------------------------------------------------------------------

#[cfg(target_pointer_width = "64")]
mod cabi {
    use super::{B, Big, Medium, Small, Str, Suite, Val, black_box, iter_count, sink};
    use gomap::alg::GoString;
    use gomap_capi as ffi;
    use std::any::TypeId;
    use std::collections::HashMap;
    use std::ffi::c_void;
    use std::ptr;
    use std::sync::Mutex;

    fn check(st: ffi::gomap_status) {
        assert!(st == ffi::gomap_status::GOMAP_OK, "gomap C ABI: {st:?}");
    }

    /// How a C host with keys of this type calls the map functions.
    pub(super) trait CKey: Val {
        /// `gomap_type_preset` or `gomap_type_bytes` for this key and an
        /// elem of `size`/`align`.
        fn make_type(size: usize, align: usize, out: &mut *mut ffi::gomap_type) -> ffi::gomap_status;
        /// `v, ok := m[k]` in a map of `E` elems: the elem, null if absent.
        fn access<E>(m: *const ffi::gomap_map, k: &Self) -> *const c_void;
        /// `m[k] = ...`: the elem slot.
        fn assign<E>(m: *mut ffi::gomap_map, k: &Self) -> *mut c_void;
        /// `delete(m, k)`.
        fn delete<E>(m: *mut ffi::gomap_map, k: &Self);
    }

    /// The generic functions with a key pointer (arrays; and any key with
    /// an elem over 128 bytes, which the fast variants refuse, as Go's
    /// compiler does not use them for such maps either).
    mod generic {
        use super::{check, ffi};
        use std::ffi::c_void;
        use std::ptr;
        #[inline(always)]
        pub(super) fn access<K>(m: *const ffi::gomap_map, k: &K) -> *const c_void {
            let (mut e, mut ok) = (ptr::null(), false);
            // SAFETY: `m` is a live map whose key type is `K`'s (the family
            // made it); `k` is a readable `K`; `e` and `ok` are writable.
            check(unsafe { ffi::gomap_mapaccess2(m, (k as *const K).cast(), &mut e, &mut ok) });
            if ok { e } else { ptr::null() }
        }
        #[inline(always)]
        pub(super) fn assign<K>(m: *mut ffi::gomap_map, k: &K) -> *mut c_void {
            let mut e = ptr::null_mut();
            // SAFETY: as in `access`.
            check(unsafe { ffi::gomap_mapassign(m, (k as *const K).cast(), &mut e) });
            e
        }
        #[inline(always)]
        pub(super) fn delete<K>(m: *mut ffi::gomap_map, k: &K) {
            // SAFETY: as in `access`.
            check(unsafe { ffi::gomap_mapdelete(m, (k as *const K).cast()) });
        }
    }

    /// Elems the fast variants take (Go: at most 128 bytes).
    const fn fast_elem<E>() -> bool {
        size_of::<E>() <= 128
    }

    macro_rules! fast_key {
        ($t:ty, $kind:expr, $conv:expr, $acc:ident, $asg:ident, $del:ident) => {
            impl CKey for $t {
                fn make_type(size: usize, align: usize, out: &mut *mut ffi::gomap_type) -> ffi::gomap_status {
                    // SAFETY: `out` is writable; elem size and alignment are
                    // a Rust type's.
                    unsafe { ffi::gomap_type_preset($kind, size, align, false, out) }
                }
                #[inline(always)]
                fn access<E>(m: *const ffi::gomap_map, k: &Self) -> *const c_void {
                    if !fast_elem::<E>() {
                        return generic::access(m, k);
                    }
                    let (mut e, mut ok) = (ptr::null(), false);
                    // SAFETY: `m` is a live map of this key type (the
                    // family made it) with small elems; `e` and `ok` are
                    // writable.
                    check(unsafe { ffi::$acc(m, $conv(k), &mut e, &mut ok) });
                    if ok { e } else { ptr::null() }
                }
                #[inline(always)]
                fn assign<E>(m: *mut ffi::gomap_map, k: &Self) -> *mut c_void {
                    if !fast_elem::<E>() {
                        return generic::assign(m, k);
                    }
                    let mut e = ptr::null_mut();
                    // SAFETY: as in `access`.
                    check(unsafe { ffi::$asg(m, $conv(k), &mut e) });
                    e
                }
                #[inline(always)]
                fn delete<E>(m: *mut ffi::gomap_map, k: &Self) {
                    if !fast_elem::<E>() {
                        return generic::delete(m, k);
                    }
                    // SAFETY: as in `access`.
                    check(unsafe { ffi::$del(m, $conv(k)) });
                }
            }
        };
    }
    fast_key!(
        i32,
        ffi::GOMAP_KEY_I32,
        |k: &i32| *k as u32,
        gomap_mapaccess2_fast32,
        gomap_mapassign_fast32,
        gomap_mapdelete_fast32
    );
    fast_key!(
        i64,
        ffi::GOMAP_KEY_I64,
        |k: &i64| *k as u64,
        gomap_mapaccess2_fast64,
        gomap_mapassign_fast64,
        gomap_mapdelete_fast64
    );
    fast_key!(
        Str,
        ffi::GOMAP_KEY_STRING,
        |k: &Str| GoString { ptr: k.as_str().as_ptr(), len: k.as_str().len() },
        gomap_mapaccess2_faststr,
        gomap_mapassign_faststr,
        gomap_mapdelete_faststr
    );

    macro_rules! bytes_key {
        ($t:ty) => {
            impl CKey for $t {
                fn make_type(size: usize, align: usize, out: &mut *mut ffi::gomap_type) -> ffi::gomap_status {
                    // SAFETY: `out` is writable; elem size and alignment are
                    // a Rust type's.
                    unsafe { ffi::gomap_type_bytes(size_of::<$t>(), size, align, false, out) }
                }
                #[inline(always)]
                fn access<E>(m: *const ffi::gomap_map, k: &Self) -> *const c_void {
                    generic::access(m, k)
                }
                #[inline(always)]
                fn assign<E>(m: *mut ffi::gomap_map, k: &Self) -> *mut c_void {
                    generic::assign(m, k)
                }
                #[inline(always)]
                fn delete<E>(m: *mut ffi::gomap_map, k: &Self) {
                    generic::delete(m, k)
                }
            }
        };
    }
    bytes_key!(Small);
    bytes_key!(Medium);
    bytes_key!(Big);

    /// The type handle for keys `K` and elems `E`, made once per process.
    fn c_type<K: CKey, E: Val>() -> *mut ffi::gomap_type {
        static TYPES: Mutex<Option<HashMap<(TypeId, TypeId), usize>>> = Mutex::new(None);
        let mut g = TYPES.lock().unwrap();
        let addr =
            *g.get_or_insert_with(HashMap::new).entry((TypeId::of::<K>(), TypeId::of::<E>())).or_insert_with(|| {
                let mut t = ptr::null_mut();
                check(K::make_type(size_of::<E>(), align_of::<E>(), &mut t));
                t.expose_provenance()
            });
        ptr::with_exposed_provenance_mut(addr)
    }

    /// A map made through the C ABI, freed on drop.
    pub(super) struct CMap(*mut ffi::gomap_map);

    impl CMap {
        fn new<K: CKey, E: Val>(hint: usize) -> CMap {
            CMap::of_type(c_type::<K, E>(), hint)
        }
        /// A map of the type handle `t`, which the timed loops look up
        /// before the timer starts: a runtime holds its type handles, it
        /// does not search a table per `make`.
        fn of_type(t: *mut ffi::gomap_type, hint: usize) -> CMap {
            let mut m = ptr::null_mut();
            // SAFETY: `t` is a live type handle (`c_type`'s, never freed);
            // `m` is writable.
            check(unsafe { ffi::gomap_makemap(t, hint as isize, &mut m) });
            CMap(m)
        }
        #[inline(always)]
        fn set<K: CKey, E: Val>(&self, k: &K, e: &E) {
            let slot = K::assign::<E>(self.0, k).cast::<E>();
            // SAFETY: `slot` is the elem slot of `k`, valid for writes of
            // one `E` (the map's elem type) until the next write.
            unsafe { slot.write_unaligned(*e) };
        }
        fn len(&self) -> usize {
            let mut n = 0;
            // SAFETY: a live map; `n` is writable.
            check(unsafe { ffi::gomap_len(self.0, &mut n) });
            n
        }
    }

    impl Drop for CMap {
        fn drop(&mut self) {
            // SAFETY: a live map, never used again.
            check(unsafe { ffi::gomap_free(self.0) });
        }
    }

    fn fill<K: CKey, E: Val>(k: &[K], e: &[E]) -> CMap {
        let m = CMap::new::<K, E>(k.len());
        for (k, e) in k.iter().zip(e) {
            m.set(k, e);
        }
        assert_eq!(m.len(), k.len(), "distinct keys");
        m
    }

    fn iterate<K: CKey, E: Val>(m: &CMap, mut f: impl FnMut(*mut c_void, *mut c_void) -> bool) {
        let mut it = ffi::gomap_hiter { opaque: [0; ffi::GOMAP_HITER_SIZE] };
        // SAFETY: a live map; `it` is zeroed storage at a fixed address.
        check(unsafe { ffi::gomap_mapiterinit(m.0, &mut it) });
        // SAFETY: `it` was started above.
        let (mut k, mut e) = unsafe { (ffi::gomap_hiter_key(&it), ffi::gomap_hiter_elem(&it)) };
        while !k.is_null() {
            if !f(k, e) {
                break;
            }
            // SAFETY: `it` is live, at the address it was started at.
            check(unsafe { ffi::gomap_mapiternext_kv(&mut it, &mut k, &mut e) });
        }
        // SAFETY: as above (idempotent after the end).
        check(unsafe { ffi::gomap_mapiterend(&mut it) });
    }

    pub(super) fn map_iter<K: CKey, E: Val>(b: &mut B, n: usize) -> impl Sized + use<K, E> {
        let (k, e) = (K::values(0, n), E::values(0, n));
        let m = fill(&k, &e);
        let iterations = iter_count(b, n);
        let (mut sk, mut se) = (Box::new(k[0]), Box::new(e[0]));
        b.reset_timer();
        for _ in 0..iterations {
            iterate::<K, E>(&m, |kp, ep| {
                // SAFETY: the iterator's current key and elem slots: a `K`
                // and an `E`, readable until the next step.
                let (kv, ev) = unsafe { (kp.cast::<K>().read_unaligned(), ep.cast::<E>().read_unaligned()) };
                sink(&mut *sk, &kv);
                sink(&mut *se, &ev);
                true
            });
        }
        (m, k, e)
    }

    pub(super) fn map_access_hit<K: CKey, E: Val>(b: &mut B, n: usize) -> impl Sized + use<K, E> {
        let (k, e) = (K::values(0, n), E::values(0, n));
        let m = fill(&k, &e);
        let mut se = Box::new(e[0]);
        b.reset_timer();
        for i in 0..b.n {
            let p = K::access::<E>(m.0, &k[i % n]).cast::<E>();
            if !p.is_null() {
                // SAFETY: the elem of a present key: one readable `E`.
                let v = unsafe { p.read_unaligned() };
                sink(&mut *se, &v);
            }
        }
        (m, k, e)
    }

    pub(super) fn map_access_miss<K: CKey, E: Val>(b: &mut B, n: usize) -> impl Sized + use<K, E> {
        let m = fill(&K::values(0, n), &E::values(0, n));
        let n = n.max(1);
        let w = K::values(n, 2 * n);
        b.reset_timer();
        let mut ok = false;
        for i in 0..b.n {
            ok = black_box(!K::access::<E>(m.0, &w[i % n]).is_null());
        }
        assert!(!ok, "a miss key was found");
        (m, w)
    }

    pub(super) fn map_assign_exists<K: CKey, E: Val>(b: &mut B, n: usize) -> impl Sized + use<K, E> {
        let (k, e) = (K::values(0, n), E::values(0, n));
        let m = fill(&k, &e);
        b.reset_timer();
        for i in 0..b.n {
            m.set(&k[i % n], &e[i % n]);
        }
        (m, k, e)
    }

    pub(super) fn map_assign_fill<K: CKey, E: Val>(b: &mut B, n: usize, hint: bool) -> impl Sized + use<K, E> {
        let (k, e) = (K::values(0, n), E::values(0, n));
        let t = c_type::<K, E>();
        b.reset_timer();
        let mut m = CMap::of_type(t, 0);
        for i in 0..b.n {
            if i % n == 0 {
                m = CMap::of_type(t, if hint { n } else { 0 });
            }
            m.set(&k[i % n], &e[i % n]);
        }
        (m, k, e)
    }

    pub(super) fn map_delete<K: CKey, E: Val>(b: &mut B, n: usize) -> impl Sized + use<K, E> {
        let (k, e) = (K::values(0, n), E::values(0, n));
        let m = fill(&k, &e);
        let mut left = n;
        b.reset_timer();
        for i in 0..b.n {
            if left == 0 {
                for j in 0..k.len() {
                    m.set(&k[j], &e[j]);
                }
                left = n;
            }
            K::delete::<E>(m.0, &k[i % n]);
            left -= 1;
        }
        (m, k, e)
    }

    pub(super) fn map_pop<K: CKey, E: Val>(b: &mut B, n: usize) -> impl Sized + use<K, E> {
        let (k, e) = (K::values(0, n), E::values(0, n));
        let m = fill(&k, &e);
        let mut left = n;
        b.reset_timer();
        for _ in 0..b.n {
            if left == 0 {
                for j in 0..k.len() {
                    m.set(&k[j], &e[j]);
                }
                left = n;
            }
            let mut first = None;
            iterate::<K, E>(&m, |kp, _| {
                // SAFETY: the iterator's current key slot: a readable `K`.
                first = Some(unsafe { kp.cast::<K>().read_unaligned() });
                false
            });
            K::delete::<E>(m.0, first.as_ref().expect("not empty"));
            left -= 1;
        }
        (m, k, e)
    }

    pub(super) fn families(s: &Suite) {
        macro_rules! fam {
            ($top:literal, $f:ident $(, $arg:expr)*) => {
                if s.wants($top) {
                    fam!(@one $top, $f, i32, i32 $(, $arg)*);
                    fam!(@one $top, $f, i64, i64 $(, $arg)*);
                    fam!(@one $top, $f, Str, Str $(, $arg)*);
                    fam!(@one $top, $f, Small, i32 $(, $arg)*);
                    fam!(@one $top, $f, Medium, i32 $(, $arg)*);
                    fam!(@one $top, $f, Big, i32 $(, $arg)*);
                    fam!(@one $top, $f, Big, Big $(, $arg)*);
                    fam!(@one $top, $f, i32, Big $(, $arg)*);
                }
            };
            (@one $top:literal, $f:ident, $k:ty, $e:ty $(, $arg:expr)*) => {
                for &n in s.sizes() {
                    if !super::too_big::<$k, $e>(n) {
                        let name = format!("{}/Key={}/Elem={}/len={n}", $top, <$k as Val>::NAME, <$e as Val>::NAME);
                        s.run(&name, |b| $f::<$k, $e>(b, n $(, $arg)*));
                    }
                }
            };
        }
        fam!("MapIter", map_iter);
        fam!("MapAccessHit", map_access_hit);
        fam!("MapAccessMiss", map_access_miss);
        fam!("MapAssignExists", map_assign_exists);
        fam!("MapAssignFillNoHint", map_assign_fill, false);
        fam!("MapAssignFillHint", map_assign_fill, true);
        fam!("MapDelete", map_delete);
        fam!("MapPop", map_pop);
        for (top, hint) in [("NewEmptyMapHintLessThan8", 7), ("NewEmptyMapHintGreaterThan8", 32)] {
            if s.wants(top) {
                s.run(top, |b| {
                    let t = c_type::<i64, i64>();
                    b.reset_timer();
                    for _ in 0..b.n {
                        black_box(CMap::of_type(t, black_box(hint)));
                    }
                });
            }
        }
        if s.wants("NewEmptyMap") {
            s.run("NewEmptyMap", |b| {
                let t = c_type::<i64, i64>();
                b.reset_timer();
                for _ in 0..b.n {
                    black_box(CMap::of_type(t, 0));
                }
            });
        }
        if s.wants("GoMapClear") {
            let mut size = 1;
            while size < if s.smoke { 100 } else { 100_000 } {
                s.run(&format!("GoMapClear/Reflexive/{size}"), |b| {
                    let m = CMap::new::<i64, i64>(size as usize);
                    for _ in 0..b.n {
                        m.set(&0i64, &size);
                        // SAFETY: a live map.
                        check(unsafe { ffi::gomap_mapclear(m.0) });
                    }
                    m
                });
                size *= 10;
            }
        }
    }
}

fn main() {
    let smoke = !std::env::args().any(|a| a == "--bench");
    let filter = std::env::var("GOSUITE_BENCH")
        .ok()
        .filter(|v| !v.trim().is_empty())
        .map(|v| v.split(',').map(|x| x.trim().trim_start_matches("Benchmark").to_string()).collect());
    let benchtime = std::env::var("GOSUITE_BENCHTIME").unwrap_or_default();
    let fixed_n = benchtime.strip_suffix('x').map(|n| n.parse().expect("GOSUITE_BENCHTIME=<N>x"));
    let secs: f64 = benchtime.trim_end_matches('s').parse().unwrap_or(1.0);
    let procs = std::thread::available_parallelism().map_or(1, |n| n.get());
    let only = std::env::var("GOSUITE_ONLY").ok().map(|v| v.split(',').map(|x| x.trim().to_string()).collect());
    let s = Suite { filter, goal: Duration::from_secs_f64(secs), fixed_n, only, smoke, procs };
    if std::env::var("GOSUITE_IMPL").as_deref() == Ok("cabi") {
        println!("# gomap-cabi: Go's runtime/map_benchmark_test.go ported (benches/gosuite.rs)");
        #[cfg(target_pointer_width = "64")]
        cabi::families(&s);
        return;
    }
    println!("# gomap-wrapper: Go's runtime/map_benchmark_test.go ported (benches/gosuite.rs)");
    fixed_lookups(&s);
    make_and_fill(&s);
    generic_families(&s);
}
