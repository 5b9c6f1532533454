//go:build !goexperiment.swissmap

// Command ifacevec prints known-answer hashes of interface keys from the
// real Go 1.24.11 runtime (map[any]V's hasher, nilinterhash) under gomap's
// canonical test key material, one line per case: "name seed hash".
// tests/iface_vectors.rs rebuilds each value with gomap's DynType
// descriptors and requires the same hash. Run once per hash path:
//
//	GOEXPERIMENT=noswissmap ../.venv-go/bin/go run -ldflags=-checklinkname=0 ./cmd/ifacevec > ../tests/data/iface_vectors_aes.txt
//	GODEBUG=cpu.aes=off GOEXPERIMENT=noswissmap ... > ../tests/data/iface_vectors_fallback.txt
//
// NaN cases are left out: their hash draws a random number.
package main

import (
	"fmt"
	"math"
	"os"
	"unsafe"

	"gomap/go-ref/internal/rt"
)

type MyInt int

// P: A at 0, S at 8, F at 24 (not regular memory: hashed field by field).
type P struct {
	A int32
	S string
	F float64
}

// W: a nested interface at 0, N at 16.
type W struct {
	I any
	N uint8
}

// B: a blank field, neither hashed nor compared.
type B struct {
	A uint16
	_ [2]byte
	C uint32
}

func main() {
	path, err := rt.InstallTestKeys()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	mt, _ := rt.Eface(map[any]uint64(nil))
	cases := []struct {
		name string
		v    any
	}{
		{"nil", nil},
		{"int-7", int(-7)},
		{"myint-7", MyInt(-7)},
		{"int32-5", int32(5)},
		{"uint8-200", uint8(200)},
		{"int16-3", int16(-3)},
		{"str-hello", "hello"},
		{"str-empty", ""},
		{"str-long", "0123456789abcdef0123456789abcdef-long-string"},
		{"f64-1.5", 1.5},
		{"f64-negzero", math.Copysign(0, -1)},
		{"f32-2.25", float32(2.25)},
		{"c128-1+2i", complex(1, 2)},
		{"c64-3-4i", complex64(complex(3, -4))},
		{"struct-P", P{A: 3, S: "p", F: 0.5}},
		{"arr-u16x3", [3]uint16{1, 2, 3}},
		{"arr-f32x2", [2]float32{1, float32(math.Copysign(0, -1))}},
		{"struct-W-str", W{I: "x", N: 9}},
		{"struct-W-nil", W{I: nil, N: 1}},
		{"struct-W-int", W{I: int(42), N: 2}},
		{"struct-B", B{A: 1, C: 2}},
		{"ptr-0x1000", unsafe.Pointer(uintptr(0x1000))},
	}
	seeds := []uintptr{0, 0x1234567, 0xdeadbeefcafebabe}
	type res struct {
		name string
		seed uintptr
		h    uintptr
	}
	var out []res
	for _, c := range cases {
		for _, s := range seeds {
			v := c.v
			out = append(out, res{c.name, s, mt.Hasher(unsafe.Pointer(&v), s)})
		}
	}
	fmt.Printf("# go1.24.11 nilinterhash vectors, path %s\n", path)
	for _, r := range out {
		fmt.Printf("%s %d %d\n", r.name, r.seed, r.h)
	}
}
