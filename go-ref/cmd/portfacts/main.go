// Command portfacts prints the facts of real Go maps that gomap's ports of
// Go's map tests assert (tests/go_map_tests.rs, tests/go_programs.rs):
// bucket counts after make with bogus hints, and the bucket counts of maps
// and their clones in the situations of golang/go#59411, #62203, #64474
// and #69110.
// It reads the hmap header through unsafe (the 56-byte layout of
// map_noswiss.go), so it needs GOEXPERIMENT=noswissmap.
//
//	cd go-ref && GOEXPERIMENT=noswissmap go run ./cmd/portfacts
package main

import (
	"fmt"
	"maps"
	"math"
	"unsafe"
)

// header mirrors the start of runtime.hmap (map_noswiss.go:114).
type header struct {
	count      int
	flags      uint8
	b          uint8
	noverflow  uint16
	hash0      uint32
	buckets    unsafe.Pointer
	oldbuckets unsafe.Pointer
}

func hdr[K comparable, V any](m map[K]V) *header {
	return *(**header)(unsafe.Pointer(&m))
}

func desc[K comparable, V any](m map[K]V) string {
	h := hdr(m)
	return fmt.Sprintf("count=%d B=%d growing=%v samesize=%v", h.count, h.b, h.oldbuckets != nil, h.flags&8 != 0)
}

func main() {
	// makemap: hints whose bucket memory overflows or exceeds maxAlloc count as 0.
	for _, hint := range []int64{-1, -(1 << 40), 1 << 62, 1 << 50, 1 << 45, (1<<48)/144 + 1} {
		m := make(map[int64]int64, hint)
		fmt.Printf("make(map[int64]int64, %d): %s\n", hint, desc(m))
	}
	m9 := make(map[int64]int64, 1<<62)
	for i := int64(0); i < 9; i++ {
		m9[i] = i
	}
	fmt.Printf("make(map[int64]int64, 1<<62) + 9 inserts: %s\n", desc(m9))

	// TestMapOperatorAssignment.
	mo := map[int]int{0: 12345}
	mo[0] += 67890
	mo[0] /= 123
	mo[0] %= 456
	fmt.Printf("operator assignment: %d\n", mo[0])

	// issue 59411: 13<<4 NaNs, then one more.
	mn := map[float64]int{}
	for i := 0; i < 13<<4; i++ {
		mn[math.NaN()] = i
	}
	fmt.Printf("59411 after 13<<4 NaNs: %s\n", desc(mn))
	mn[math.NaN()] = 13 << 4
	fmt.Printf("59411 after one more: %s\n", desc(mn))

	// issue 62203.
	ms := map[string]struct{}{}
	for i := 0; i < 48; i++ {
		ms[fmt.Sprintf("%d", i)] = struct{}{}
	}
	fmt.Printf("62203 after 48: %s\n", desc(ms))
	ms["foo"] = struct{}{}
	fmt.Printf("62203 after foo: %s\n", desc(ms))
	delete(ms, "foo")
	fmt.Printf("62203 after delete: %s\n", desc(ms))
	cs := maps.Clone(ms)
	fmt.Printf("62203 clone: %s\n", desc(cs))
	// The situation the issue describes, at the sizes where it arises: the
	// source grows from 8 to 16 buckets, its count fits 8.
	mt := map[string]struct{}{}
	for i := 0; i < 52; i++ {
		mt[fmt.Sprintf("%d", i)] = struct{}{}
	}
	fmt.Printf("62203/52 after 52: %s\n", desc(mt))
	mt["foo"] = struct{}{}
	delete(mt, "foo")
	fmt.Printf("62203/52 after foo, delete: %s\n", desc(mt))
	ct := maps.Clone(mt)
	fmt.Printf("62203/52 clone: %s\n", desc(ct))

	// maps.TestCloneLarge (issue 64474).
	type K [17]float64
	type V [17]float64
	for tst, extra := range []int{0, 8, 26} {
		m := map[K]V{}
		var k1 K
		var v1 V
		m[k1] = v1
		for i := 0; i < extra; i++ {
			m[K{float64(i) + 1}] = V{}
		}
		src := desc(m)
		c := maps.Clone(m)
		k2, v2 := k1, v1
		k2[0] = math.Copysign(0, -1)
		v2[0] = 1
		m[k2] = v2
		neg, ones := 0, 0
		for k, v := range c {
			if math.Signbit(k[0]) {
				neg++
			}
			if v[0] == 1 {
				ones++
			}
		}
		mneg := 0
		for k, v := range m {
			if math.Signbit(k[0]) && v[0] == 1 {
				mneg++
			}
		}
		fmt.Printf("64474 tst%d: src %s; clone %s; clone -0 keys=%d v[0]==1=%d; original {-0,1} entries=%d len=%d\n",
			tst, src, desc(c), neg, ones, mneg, len(m))
	}

	// issue 69110.
	hits := 0
	for r := 0; r < 100; r++ {
		const nb = 4
		ne := nb * 13 / 2
		m := map[int]int{}
		for i := 0; i < ne; i++ {
			m[i] = i
		}
		ssg := false
		for i := ne; i < ne+1000; i++ {
			delete(m, i-ne)
			m[i] = i
			if hdr(m).flags&8 != 0 && hdr(m).oldbuckets != nil {
				ssg = true
				break
			}
		}
		if !ssg {
			continue
		}
		m[-1] = -1
		src := desc(m)
		c := maps.Clone(m)
		if hits < 3 {
			fmt.Printf("69110: src %s; clone %s\n", src, desc(c))
		}
		hits++
	}
	fmt.Printf("69110: same-size grow reached in %d of 100 runs\n", hits)
}
