// Command bench runs gomap's benchmark workloads on real Go maps and prints
// them in the line format of gomap's Rust harness (benches/map.rs), so that
// scripts/bench-vs-go.sh can put both side by side. Standard library only.
//
// Build it twice:
//
//	GOEXPERIMENT=noswissmap go build -o bench-classic ./bench   # impl=go-classic (the map gomap ports)
//	go build -o bench-swiss ./bench                             # impl=go-swiss (Go 1.24's default)
//
// Everything below mirrors benches/map.rs; keep the two in step:
//
//   - keys: mix is splitmix64's finaliser of x + golden gamma (a bijection);
//     key i is mix(i), miss key i is mix(i | 1<<63), string key i is the 16
//     lowercase hex digits of mix(i); values are the insertion index i; the
//     shuffled order is a Fisher-Yates shuffle of 0..n from i = n-1 down to
//     1 with j = mix(shuffleSeed + step) % (i+1), step counting draws from 0;
//   - method: one untimed warmup sample, then BENCH_SAMPLES (default 5)
//     samples of reps repetitions covering at least BENCH_TARGET_OPS (default
//     200000) operations; median, min and max of the per-sample ns/op;
//     setup (building the map a lookup, delete, clear or clone works on) is
//     untimed. Go only: runtime.GC() runs (untimed) before every sample, so
//     each starts from a collected heap; collections triggered by a sample's
//     own allocations are part of its time, as they are of a Go program's;
//   - sizes: 1e3, 1e5, 1e7, each capped by BENCH_MAX_N (default 1e6); clone
//     and bytes_per_entry use min(1e6, cap); BENCH_FILTER is a
//     comma-separated list of substrings of "impl/key/op/n";
//   - output: "BENCH impl=go-classic key=u64 op=insert n=1000 unit=ns/op
//     median=... min=... max=... samples=5 ops=200000"; "#" lines are comments.
//
// BENCH_CPUPROFILE=file writes a CPU profile of the whole run (go tool pprof).
package main

import (
	"fmt"
	"maps"
	"os"
	"runtime"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"time"
)

// ---------------------------------------------------------------------------
// Keys

func mix(x uint64) uint64 {
	z := x + 0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

const (
	missBit     = uint64(1) << 63
	shuffleSeed = uint64(0x5eed000000000000)
)

func shuffled(n int) []int {
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	step := uint64(0)
	for i := n - 1; i >= 1; i-- {
		j := int(mix(shuffleSeed+step) % uint64(i+1))
		step++
		p[i], p[j] = p[j], p[i]
	}
	return p
}

func hex16(x uint64) string {
	const d = "0123456789abcdef"
	var b [16]byte
	for i := range b {
		b[i] = d[(x>>(60-4*uint(i)))&15]
	}
	return string(b[:])
}

type u64Keys struct{ ins, perm, miss []uint64 }
type strKeys struct{ ins, perm, miss []string }

func makeU64Keys(n int, order []int) *u64Keys {
	k := &u64Keys{ins: make([]uint64, n), perm: make([]uint64, n), miss: make([]uint64, n)}
	for i := 0; i < n; i++ {
		k.ins[i] = mix(uint64(i))
		k.miss[i] = mix(uint64(i) | missBit)
	}
	for i, j := range order {
		k.perm[i] = k.ins[j]
	}
	return k
}

// makeStrKeys: the shuffled strings share the insertion keys' bytes.
func makeStrKeys(n int, order []int) *strKeys {
	k := &strKeys{ins: make([]string, n), perm: make([]string, n), miss: make([]string, n)}
	for i := 0; i < n; i++ {
		k.ins[i] = hex16(mix(uint64(i)))
	}
	for i := 0; i < n; i++ {
		k.miss[i] = hex16(mix(uint64(i) | missBit))
	}
	for i, j := range order {
		k.perm[i] = k.ins[j]
	}
	return k
}

// keysLine prints fingerprints of one size's key streams; the script checks
// that Rust and Go print the same ones. fold: h = mix(h ^ x) over the keys in
// order; strings: FNV-1a over the bytes of the shuffled strings in order.
func keysLine(u *u64Keys, s *strKeys) {
	fold := func(ks []uint64) uint64 {
		h := uint64(0)
		for _, k := range ks {
			h = mix(h ^ k)
		}
		return h
	}
	fnv := uint64(0xcbf29ce484222325)
	for _, k := range s.perm {
		for i := 0; i < len(k); i++ {
			fnv = (fnv ^ uint64(k[i])) * 0x100000001b3
		}
	}
	fmt.Printf("# keys n=%d ins=%016x perm=%016x miss=%016x strperm=%016x\n",
		len(u.ins), fold(u.ins), fold(u.perm), fold(u.miss), fnv)
}

// ---------------------------------------------------------------------------
// Harness

type config struct {
	maxN, samples, targetOps int
	filters                  []string
}

func envNum(name string, def float64) float64 {
	s := strings.TrimSpace(os.Getenv(name))
	if s == "" {
		return def
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s=%q: not a number (1e6 and 1000000 both work)\n", name, s)
		os.Exit(2)
	}
	return v
}

func configFromEnv() *config {
	c := &config{
		maxN:      max(int(envNum("BENCH_MAX_N", 1e6)), 1),
		samples:   max(int(envNum("BENCH_SAMPLES", 5)), 1),
		targetOps: max(int(envNum("BENCH_TARGET_OPS", 2e5)), 1),
	}
	for _, f := range strings.Split(os.Getenv("BENCH_FILTER"), ",") {
		if f = strings.TrimSpace(f); f != "" {
			c.filters = append(c.filters, f)
		}
	}
	return c
}

func (c *config) sizes() []int {
	var v []int
	for _, n := range []int{1_000, 100_000, 10_000_000} {
		n = min(n, c.maxN)
		if len(v) == 0 || v[len(v)-1] != n {
			v = append(v, n)
		}
	}
	return v
}

func (c *config) cloneN() int { return min(c.maxN, 1_000_000) }

func (c *config) wants(key, op string, n int) bool {
	if len(c.filters) == 0 {
		return true
	}
	id := fmt.Sprintf("%s/%s/%s/%d", implName, key, op, n)
	for _, f := range c.filters {
		if strings.Contains(id, f) {
			return true
		}
	}
	return false
}

func printLine(key, op string, n int, unit string, vals []float64, ops int) {
	sort.Float64s(vals)
	k := len(vals)
	med := vals[k/2]
	if k%2 == 0 {
		med = (vals[k/2-1] + vals[k/2]) / 2
	}
	f := func(x float64) string { return strconv.FormatFloat(x, 'f', 3, 64) }
	fmt.Printf("BENCH impl=%s key=%s op=%s n=%d unit=%s median=%s min=%s max=%s samples=%d ops=%d\n",
		implName, key, op, n, unit, f(med), f(vals[0]), f(vals[k-1]), k, ops)
}

func measure(c *config, key, op string, n, opsPerRep int, sample func(reps int) time.Duration) {
	if !c.wants(key, op, n) {
		return
	}
	opsPerRep = max(opsPerRep, 1)
	reps := max((c.targetOps+opsPerRep-1)/opsPerRep, 1)
	ops := reps * opsPerRep
	runtime.GC()
	sample(reps) // warmup
	vals := make([]float64, c.samples)
	for i := range vals {
		runtime.GC()
		vals[i] = float64(sample(reps).Nanoseconds()) / float64(ops)
	}
	printLine(key, op, n, "ns/op", vals, ops)
}

func check(ok bool, what string) {
	if !ok {
		panic("bench: check failed: " + what)
	}
}

// Sinks keep results observable, so nothing is optimised away.
var (
	sinkU64 map[uint64]uint64
	sinkStr map[string]uint64
	sinkSum uint64
)

// ---------------------------------------------------------------------------
// uint64 keys

func buildU64(keys []uint64) map[uint64]uint64 {
	m := make(map[uint64]uint64)
	for i, k := range keys {
		m[k] = uint64(i)
	}
	return m
}

func makeU64(c *config) {
	const key = "u64"
	measure(c, key, "make_empty", 0, 1, func(reps int) time.Duration {
		t0 := time.Now()
		for i := 0; i < reps; i++ {
			sinkU64 = make(map[uint64]uint64)
		}
		return time.Since(t0)
	})
	measure(c, key, "make_hint7", 0, 1, func(reps int) time.Duration {
		t0 := time.Now()
		for i := 0; i < reps; i++ {
			sinkU64 = make(map[uint64]uint64, 7)
		}
		return time.Since(t0)
	})
	measure(c, key, "make_hint32", 0, 1, func(reps int) time.Duration {
		t0 := time.Now()
		for i := 0; i < reps; i++ {
			sinkU64 = make(map[uint64]uint64, 32)
		}
		return time.Since(t0)
	})
}

func sizedU64(c *config, ks *u64Keys) {
	const key = "u64"
	n := len(ks.ins)
	expectSum := uint64(n) * uint64(n-1) / 2

	measure(c, key, "insert", n, n, func(reps int) time.Duration {
		var t time.Duration
		for r := 0; r < reps; r++ {
			m := make(map[uint64]uint64)
			t0 := time.Now()
			for i, k := range ks.ins {
				m[k] = uint64(i)
			}
			t += time.Since(t0)
			check(len(m) == n, "insert len")
			sinkU64 = m
		}
		return t
	})

	if c.wants(key, "hit", n) || c.wants(key, "miss", n) || c.wants(key, "iterate", n) {
		m := buildU64(ks.ins)
		measure(c, key, "hit", n, n, func(reps int) time.Duration {
			sum := uint64(0)
			t0 := time.Now()
			for r := 0; r < reps; r++ {
				for _, k := range ks.perm {
					if v, ok := m[k]; ok {
						sum += v
					}
				}
			}
			t := time.Since(t0)
			check(sum == expectSum*uint64(reps), "hit sum")
			sinkSum += sum
			return t
		})
		measure(c, key, "miss", n, n, func(reps int) time.Duration {
			found := 0
			t0 := time.Now()
			for r := 0; r < reps; r++ {
				for _, k := range ks.miss {
					if _, ok := m[k]; ok {
						found++
					}
				}
			}
			t := time.Since(t0)
			check(found == 0, "miss found")
			return t
		})
		measure(c, key, "iterate", n, n, func(reps int) time.Duration {
			sum := uint64(0)
			t0 := time.Now()
			for r := 0; r < reps; r++ {
				for _, v := range m {
					sum += v
				}
			}
			t := time.Since(t0)
			check(sum == expectSum*uint64(reps), "iterate sum")
			sinkSum += sum
			return t
		})
		runtime.KeepAlive(m)
	}

	measure(c, key, "delete", n, n, func(reps int) time.Duration {
		var t time.Duration
		for r := 0; r < reps; r++ {
			m := buildU64(ks.ins)
			t0 := time.Now()
			for _, k := range ks.perm {
				delete(m, k)
			}
			t += time.Since(t0)
			check(len(m) == 0, "delete len")
		}
		return t
	})

	measure(c, key, "clear", n, n, func(reps int) time.Duration {
		var t time.Duration
		for r := 0; r < reps; r++ {
			m := buildU64(ks.ins)
			t0 := time.Now()
			clear(m)
			t += time.Since(t0)
			check(len(m) == 0, "clear len")
			sinkU64 = m
		}
		return t
	})
}

func cloneU64(c *config, ks *u64Keys) {
	n := len(ks.ins)
	if !c.wants("u64", "clone", n) {
		return
	}
	m := buildU64(ks.ins)
	measure(c, "u64", "clone", n, n, func(reps int) time.Duration {
		var t time.Duration
		for r := 0; r < reps; r++ {
			t0 := time.Now()
			cl := maps.Clone(m)
			t += time.Since(t0)
			check(len(cl) == n, "clone len")
			sinkU64 = cl
		}
		return t
	})
	runtime.KeepAlive(m)
}

// ---------------------------------------------------------------------------
// 16-byte string keys (the same code with string for uint64)

func buildStr(keys []string) map[string]uint64 {
	m := make(map[string]uint64)
	for i, k := range keys {
		m[k] = uint64(i)
	}
	return m
}

func makeStr(c *config) {
	const key = "str16"
	measure(c, key, "make_empty", 0, 1, func(reps int) time.Duration {
		t0 := time.Now()
		for i := 0; i < reps; i++ {
			sinkStr = make(map[string]uint64)
		}
		return time.Since(t0)
	})
	measure(c, key, "make_hint7", 0, 1, func(reps int) time.Duration {
		t0 := time.Now()
		for i := 0; i < reps; i++ {
			sinkStr = make(map[string]uint64, 7)
		}
		return time.Since(t0)
	})
	measure(c, key, "make_hint32", 0, 1, func(reps int) time.Duration {
		t0 := time.Now()
		for i := 0; i < reps; i++ {
			sinkStr = make(map[string]uint64, 32)
		}
		return time.Since(t0)
	})
}

func sizedStr(c *config, ks *strKeys) {
	const key = "str16"
	n := len(ks.ins)
	expectSum := uint64(n) * uint64(n-1) / 2

	measure(c, key, "insert", n, n, func(reps int) time.Duration {
		var t time.Duration
		for r := 0; r < reps; r++ {
			m := make(map[string]uint64)
			t0 := time.Now()
			for i, k := range ks.ins {
				m[k] = uint64(i)
			}
			t += time.Since(t0)
			check(len(m) == n, "insert len")
			sinkStr = m
		}
		return t
	})

	if c.wants(key, "hit", n) || c.wants(key, "miss", n) || c.wants(key, "iterate", n) {
		m := buildStr(ks.ins)
		measure(c, key, "hit", n, n, func(reps int) time.Duration {
			sum := uint64(0)
			t0 := time.Now()
			for r := 0; r < reps; r++ {
				for _, k := range ks.perm {
					if v, ok := m[k]; ok {
						sum += v
					}
				}
			}
			t := time.Since(t0)
			check(sum == expectSum*uint64(reps), "hit sum")
			sinkSum += sum
			return t
		})
		measure(c, key, "miss", n, n, func(reps int) time.Duration {
			found := 0
			t0 := time.Now()
			for r := 0; r < reps; r++ {
				for _, k := range ks.miss {
					if _, ok := m[k]; ok {
						found++
					}
				}
			}
			t := time.Since(t0)
			check(found == 0, "miss found")
			return t
		})
		measure(c, key, "iterate", n, n, func(reps int) time.Duration {
			sum := uint64(0)
			t0 := time.Now()
			for r := 0; r < reps; r++ {
				for _, v := range m {
					sum += v
				}
			}
			t := time.Since(t0)
			check(sum == expectSum*uint64(reps), "iterate sum")
			sinkSum += sum
			return t
		})
		runtime.KeepAlive(m)
	}

	measure(c, key, "delete", n, n, func(reps int) time.Duration {
		var t time.Duration
		for r := 0; r < reps; r++ {
			m := buildStr(ks.ins)
			t0 := time.Now()
			for _, k := range ks.perm {
				delete(m, k)
			}
			t += time.Since(t0)
			check(len(m) == 0, "delete len")
		}
		return t
	})

	measure(c, key, "clear", n, n, func(reps int) time.Duration {
		var t time.Duration
		for r := 0; r < reps; r++ {
			m := buildStr(ks.ins)
			t0 := time.Now()
			clear(m)
			t += time.Since(t0)
			check(len(m) == 0, "clear len")
			sinkStr = m
		}
		return t
	})
}

func cloneStr(c *config, ks *strKeys) {
	n := len(ks.ins)
	if !c.wants("str16", "clone", n) {
		return
	}
	m := buildStr(ks.ins)
	measure(c, "str16", "clone", n, n, func(reps int) time.Duration {
		var t time.Duration
		for r := 0; r < reps; r++ {
			t0 := time.Now()
			cl := maps.Clone(m)
			t += time.Since(t0)
			check(len(cl) == n, "clone len")
			sinkStr = cl
		}
		return t
	})
	runtime.KeepAlive(m)
}

// ---------------------------------------------------------------------------
// Bytes per entry: HeapAlloc growth, after GC, of a u64->u64 map built by n
// inserts without hint (the keys exist before the first reading).

func bytesPerEntry(c *config, n int) {
	if !c.wants("u64", "bytes_per_entry", n) {
		return
	}
	keys := make([]uint64, n)
	for i := range keys {
		keys[i] = mix(uint64(i))
	}
	sinkU64 = nil
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	m := buildU64(keys)
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(m)
	runtime.KeepAlive(keys) // else the second GC frees the keys and skews the delta
	bytes := float64(after.HeapAlloc) - float64(before.HeapAlloc)
	printLine("u64", "bytes_per_entry", n, "B/entry", []float64{bytes / float64(n)}, n)
}

func main() {
	if f := os.Getenv("BENCH_CPUPROFILE"); f != "" {
		out, err := os.Create(f)
		if err != nil {
			panic(err)
		}
		if err := pprof.StartCPUProfile(out); err != nil {
			panic(err)
		}
		defer pprof.StopCPUProfile()
	}
	c := configFromEnv()
	sizes := c.sizes()
	fmt.Printf("# go bench: impl=%s %s max_n=%d sizes=%v clone_n=%d samples=%d target_ops=%d GOMAXPROCS=%d\n",
		implName, runtime.Version(), c.maxN, sizes, c.cloneN(), c.samples, c.targetOps, runtime.GOMAXPROCS(0))

	orders := make([][]int, len(sizes))
	for i, n := range sizes {
		orders[i] = shuffled(n)
		keysLine(makeU64Keys(n, orders[i]), makeStrKeys(n, orders[i]))
	}
	cloneOrder := shuffled(c.cloneN())

	// Same order as the Rust harness: u64 (make, sizes, clone), then str16.
	{
		makeU64(c)
		for i, n := range sizes {
			sizedU64(c, makeU64Keys(n, orders[i]))
		}
		cloneU64(c, makeU64Keys(c.cloneN(), cloneOrder))
	}
	{
		makeStr(c)
		for i, n := range sizes {
			sizedStr(c, makeStrKeys(n, orders[i]))
		}
		cloneStr(c, makeStrKeys(c.cloneN(), cloneOrder))
	}
	sinkU64, sinkStr = nil, nil
	bytesPerEntry(c, c.cloneN())
}
