//go:build !goexperiment.swissmap

package main

import (
	"encoding/binary"
	"maps"
	"math"
	"strconv"
	"unsafe"

	"gomap/go-ref/internal/rt"
)

// More map types, each reaching code paths the hand-written kinds do not
// (docs/trace-format.md section 3 lists them). They share one generic
// implementation: every map statement below is an ordinary Go statement on
// map[K]V, and for these key types the compiler emits the generic runtime
// entry points (mapassign, mapaccess2, mapdelete), exactly as for
// non-generic code (none has a fast variant: only 4- and 8-byte plain
// memory keys and strings do).

// gkind is a map[K]V driven by generic statements.
type gkind[K comparable, V any] struct {
	nm, gotype, gelem, ename string
	// strs: offsets of the string headers inside K, ascending (keys with
	// strings are encoded as in docs/trace-format.md section 3).
	strs []uintptr
	// pad: byte ranges of K that are padding; assignments then go through
	// runtime.mapassign with a zeroed key buffer (see kComp).
	pad      [][2]uintptr
	key      func(k int) K
	elem     func(v int) V
	canonF   func(k int) int // nil: identity
	specials []int
	normal   int  // id of the first ordinary key
	boostSp  bool // scenarios pick special keys more often (float keys)
}

func (g *gkind[K, V]) name() string      { return g.nm }
func (g *gkind[K, V]) goKey() string     { return g.gotype }
func (g *gkind[K, V]) goElem() string    { return g.gelem }
func (g *gkind[K, V]) elemName() string  { return g.ename }
func (g *gkind[K, V]) keySize() uintptr  { var k K; return unsafe.Sizeof(k) }
func (g *gkind[K, V]) elemSize() uintptr { var v V; return unsafe.Sizeof(v) }
func (g *gkind[K, V]) canon(k int) int {
	if g.canonF == nil {
		return k
	}
	return g.canonF(k)
}
func (g *gkind[K, V]) normalKey(i int) int { return g.normal + i }
func (g *gkind[K, V]) specialKeys() []int  { return g.specials }
func (g *gkind[K, V]) maxKeys() int        { return 0 }
func (g *gkind[K, V]) isString() bool      { return false }
func (g *gkind[K, V]) zero() any           { return map[K]V(nil) }
func (g *gkind[K, V]) boostSpecials() bool { return g.boostSp }

// keyBytes encodes key id k with zero padding.
func (g *gkind[K, V]) keyBytes(k int) []byte {
	p := new(K)
	*p = g.key(k)
	for _, r := range g.pad {
		// A struct copy may carry stack garbage in padding: zero it.
		clear(mem(unsafe.Add(unsafe.Pointer(p), r[0]), r[1]-r[0]))
	}
	return encMemStr(unsafe.Pointer(p), g.keySize(), g.strs)
}

func (g *gkind[K, V]) elemBytes(v int) []byte {
	e := g.elem(v)
	return append([]byte(nil), mem(unsafe.Pointer(&e), g.elemSize())...)
}

// encKey encodes the key at p (the trace's key text).
func (g *gkind[K, V]) encKey(p unsafe.Pointer) []byte { return encMemStr(p, g.keySize(), g.strs) }

// keyPtr decodes trace key bytes into a fresh zeroed K.
func (g *gkind[K, V]) keyPtr(kb []byte) unsafe.Pointer {
	p := new(K)
	decMemStr(kb, unsafe.Pointer(p), g.keySize(), g.strs)
	return unsafe.Pointer(p)
}

func (g *gkind[K, V]) decElem(vb []byte) V {
	var v V
	copy(mem(unsafe.Pointer(&v), g.elemSize()), vb)
	return v
}

func (g *gkind[K, V]) makeOp(hint int, out *any) func() {
	if hint == 0 {
		return func() { *out = make(map[K]V) }
	}
	return func() { *out = make(map[K]V, hint) }
}
func (g *gkind[K, V]) assignOp(m any, kb, vb []byte) func() {
	vv := g.decElem(vb)
	if len(g.pad) > 0 {
		t, h := rt.Eface(m)
		key := g.keyPtr(kb)
		return func() { *(*V)(rt.MapAssign(t, h, key)) = vv }
	}
	mm, kk := m.(map[K]V), *(*K)(g.keyPtr(kb))
	return func() { mm[kk] = vv }
}
func (g *gkind[K, V]) deleteOp(m any, kb []byte) func() {
	mm, kk := m.(map[K]V), *(*K)(g.keyPtr(kb))
	return func() { delete(mm, kk) }
}
func (g *gkind[K, V]) getOp(m any, kb []byte, ok *bool, vout *[]byte) func() {
	mm, kk := m.(map[K]V), *(*K)(g.keyPtr(kb))
	var v V
	return func() {
		v, *ok = mm[kk]
		*vout = append([]byte(nil), mem(unsafe.Pointer(&v), unsafe.Sizeof(v))...)
	}
}
func (g *gkind[K, V]) clearOp(m any) func() {
	mm := m.(map[K]V)
	return func() { clear(mm) }
}
func (g *gkind[K, V]) cloneOp(m any, out *any) func() {
	mm := m.(map[K]V)
	return func() { *out = maps.Clone(mm) }
}
func (g *gkind[K, V]) lenOp(m any, out *int) func() {
	mm := m.(map[K]V)
	return func() { *out = len(mm) }
}

// encMemStr encodes size bytes at p, with each string header (at the
// offsets strs) replaced by its length (8 bytes LE) and content. A header
// with a nil data pointer must have length 0 (Go clears such keys whole).
func encMemStr(p unsafe.Pointer, size uintptr, strs []uintptr) []byte {
	var out []byte
	off := uintptr(0)
	for _, so := range strs {
		out = append(out, mem(unsafe.Add(p, off), so-off)...)
		hd := (*[2]uintptr)(unsafe.Add(p, so))
		if hd[0] == 0 && hd[1] != 0 {
			fatalf("string field at offset %d: nil data with length %d", so, hd[1])
		}
		out = binary.LittleEndian.AppendUint64(out, uint64(hd[1]))
		if hd[0] != 0 {
			out = append(out, *(*string)(unsafe.Add(p, so))...)
		}
		off = so + 2*rt.PtrSize
	}
	return append(out, mem(unsafe.Add(p, off), size-off)...)
}

// decMemStr is the inverse of encMemStr into the zeroed value at p.
func decMemStr(kb []byte, p unsafe.Pointer, size uintptr, strs []uintptr) {
	off, i := uintptr(0), uintptr(0)
	for _, so := range strs {
		n := so - off
		copy(mem(unsafe.Add(p, off), n), kb[i:i+n])
		i += n
		l := uintptr(binary.LittleEndian.Uint64(kb[i:]))
		i += 8
		*(*string)(unsafe.Add(p, so)) = string(kb[i : i+l])
		i += l
		off = so + 2*rt.PtrSize
	}
	copy(mem(unsafe.Add(p, off), size-off), kb[i:])
	if uintptr(len(kb))-i != size-off {
		fatalf("key encoding has %d trailing bytes, want %d", uintptr(len(kb))-i, size-off)
	}
}

// floatCanon: ids 0 and 1 are +0 and -0 (one key), 4 and 5 NaNs.
func floatCanon(k int) int {
	switch k {
	case 1:
		return 0
	case 4, 5:
		return -1
	}
	return k
}

// f32key: ids as kF64's (0 +0, 1 -0, 2 +Inf, 3 -Inf, 4 NaN, 5 NaN with a
// payload, >= 6 ordinary values).
func f32key(k int) float32 {
	switch k {
	case 0:
		return 0
	case 1:
		return float32(math.Copysign(0, -1))
	case 2:
		return float32(math.Inf(1))
	case 3:
		return float32(math.Inf(-1))
	case 4:
		return float32(math.NaN())
	case 5:
		return math.Float32frombits(0xFFC0_BEEF)
	}
	return float32(k-6)*0.375 + 1
}

// c128key ids: 0 = 0+0i, 1 = -0+0i, 2 = 0-0i, 3 = -0-0i (all equal),
// 4 = NaN+1i, 5 = 1+NaNi, 6 = NaN+NaNi (two draws when hashed),
// 7 = Inf-Inf i; >= 8 ordinary.
func c128key(k int) complex128 {
	nz := math.Copysign(0, -1)
	switch k {
	case 0:
		return 0
	case 1:
		return complex(nz, 0)
	case 2:
		return complex(0, nz)
	case 3:
		return complex(nz, nz)
	case 4:
		return complex(math.NaN(), 1)
	case 5:
		return complex(1, math.NaN())
	case 6:
		return complex(math.NaN(), math.Float64frombits(f64NaNPayload))
	case 7:
		return complex(math.Inf(1), math.Inf(-1))
	}
	return complex(float64(k-8)*0.5, float64(k%5)-2)
}

func c128canon(k int) int {
	switch {
	case k <= 3:
		return 0
	case k <= 6:
		return -1
	}
	return k
}

// SS is a struct key with padding, a string and a float:
// B at 0, 7 bytes padding, S at 8, F at 24, 4 bytes padding (32 bytes).
type SS struct {
	B uint8
	S string
	F float32
}

// ssKey ids: bit 20 turns F == 0 into -0, bit 21 makes F a NaN.
func ssKey(k int) SS {
	base := k & (1<<20 - 1)
	s := "s" + strconv.Itoa(base)
	if base%5 == 2 {
		s = "LONG-" + s + "-0123456789abcdef0123456789abcdef"
	}
	f := float32(base >> 3 & 0xff)
	if f == 0 && k&(1<<20) != 0 {
		f = float32(math.Copysign(0, -1))
	}
	if k&(1<<21) != 0 {
		f = float32(math.NaN())
	}
	return SS{B: uint8(base * 13), S: s, F: f}
}

func ssCanon(k int) int {
	if k&(1<<21) != 0 {
		return -1
	}
	return k & (1<<20 - 1)
}

// NestIn is not regular memory (a float): Go hashes it with its own
// generated function wherever it is nested.
type NestIn struct {
	A uint32
	F float32
}

// Nest is a struct key with a nested non-memory struct between memory
// fields it abuts, a bool and padding: A at 0, In at 4 (In.A at 4, In.F at
// 8), Ok at 12, 1 byte padding, C at 14 (16 bytes, align 4). Its generated
// hash: memhash32(A), NestIn's hash (memhash32(In.A), f32hash(In.F)),
// memhash8(Ok) (a padded field ends its run), memhash16(C); a hasher that
// merged A with In.A would differ.
type Nest struct {
	A  uint32
	In NestIn
	Ok bool
	C  uint16
}

// nestKey ids: bit 20 turns In.F == 0 into -0, bit 21 makes In.F a NaN.
func nestKey(k int) Nest {
	base := k & (1<<20 - 1)
	f := float32(base >> 2 & 0xff)
	if f == 0 && k&(1<<20) != 0 {
		f = float32(math.Copysign(0, -1))
	}
	if k&(1<<21) != 0 {
		f = float32(math.NaN())
	}
	return Nest{A: uint32(base) * 0x9E3779B1, In: NestIn{A: uint32(base >> 3), F: f}, Ok: base&1 == 1, C: uint16(base * 7)}
}

func nestCanon(k int) int {
	if k&(1<<21) != 0 {
		return -1
	}
	return k & (1<<20 - 1)
}

// f17Key ids: 0 all +0; 1 all +0 but element 5 is -0 (equal to 0: an
// update rewrites the out-of-line key); 2 element 3 NaN (one draw);
// 3 elements 0 and 16 NaN (two draws); >= 4 ordinary.
func f17Key(k int) (a [17]float64) {
	switch k {
	case 0:
	case 1:
		a[5] = math.Copysign(0, -1)
	case 2:
		a[3] = math.NaN()
	case 3:
		a[0], a[16] = math.NaN(), math.Float64frombits(f64NaNPayload)
	default:
		for i := range a {
			a[i] = float64((k-4)*17+i) * 0.25
		}
	}
	return
}

func f17Canon(k int) int {
	switch k {
	case 1:
		return 0
	case 2, 3:
		return -1
	}
	return k
}

func s9Key(k int) (a [9]string) {
	for i := range a {
		a[i] = strconv.Itoa(k) + ":" + strconv.Itoa(i)
	}
	if k%3 == 1 {
		a[8] = "long-" + a[8] + "-0123456789abcdef0123456789abcdef"
	}
	return
}

var moreKinds = []kind{
	&gkind[float32, uint16]{
		nm: "f32", gotype: "float32", gelem: "uint16", ename: "u16",
		key:      f32key,
		elem:     func(v int) uint16 { return uint16(v)*0x9E37 + 1 },
		canonF:   floatCanon,
		specials: []int{0, 1, 2, 3, 4, 5}, normal: 6, boostSp: true,
	},
	&gkind[complex128, uint64]{
		nm: "c128", gotype: "complex128", gelem: "uint64", ename: "u64",
		key:      c128key,
		elem:     func(v int) uint64 { return uint64(v)*0x9E3779B97F4A7C15 + 7 },
		canonF:   c128canon,
		specials: []int{0, 1, 2, 3, 4, 5, 6, 7}, normal: 8, boostSp: true,
	},
	&gkind[[3]uint8, [5]uint16]{
		nm: "a3", gotype: "[3]uint8", gelem: "[5]uint16", ename: "u16x5",
		key: func(k int) [3]uint8 { x := uint32(k) * 0x9E3779; return [3]uint8{byte(x), byte(x >> 8), byte(x >> 16)} },
		elem: func(v int) (e [5]uint16) {
			for i := range e {
				e[i] = uint16(v*5 + i)
			}
			return
		},
	},
	&gkind[[5]uint16, struct{}]{
		nm: "a5z", gotype: "[5]uint16", gelem: "struct{}", ename: "zst",
		key: func(k int) (a [5]uint16) {
			for i := range a {
				a[i] = uint16(k*7 + i*k)
			}
			a[4] = uint16(k >> 16)
			return
		},
		elem: func(int) struct{} { return struct{}{} },
	},
	&gkind[SS, uint64]{
		nm: "ss", gotype: "SS", gelem: "uint64", ename: "u64",
		strs:     []uintptr{8},
		pad:      [][2]uintptr{{1, 8}, {28, 32}},
		key:      ssKey,
		elem:     func(v int) uint64 { return uint64(v)*0xC2B2AE3D27D4EB4F + 11 },
		canonF:   ssCanon,
		specials: []int{0, 1 << 20, 8, 8 | 1<<20, 3 | 1<<21, 17 | 1<<21}, normal: 1, boostSp: true,
	},
	&gkind[Nest, uint64]{
		nm: "nest", gotype: "Nest", gelem: "uint64", ename: "u64",
		pad:      [][2]uintptr{{13, 14}},
		key:      nestKey,
		elem:     func(v int) uint64 { return uint64(v)*0x9E3779B97F4A7C15 + 19 },
		canonF:   nestCanon,
		specials: []int{0, 1 << 20, 1, 1 | 1<<20, 3 | 1<<21, 17 | 1<<21}, normal: 1, boostSp: true,
	},
	&gkind[[16]uint64, [136]byte]{
		nm: "k128", gotype: "[16]uint64", gelem: "[136]byte", ename: "b136",
		key: func(k int) (a [16]uint64) {
			for i := range a {
				a[i] = uint64(k)*0x100000001B3 ^ uint64(i)<<56
			}
			return
		},
		elem: func(v int) (e [136]byte) {
			binary.LittleEndian.PutUint64(e[:], uint64(v))
			binary.LittleEndian.PutUint64(e[128:], ^uint64(v))
			return
		},
	},
	&gkind[[17]float64, uint32]{
		nm: "f17", gotype: "[17]float64", gelem: "uint32", ename: "u32",
		key:      f17Key,
		elem:     func(v int) uint32 { return uint32(v)*0x27D4EB2F + 13 },
		canonF:   f17Canon,
		specials: []int{0, 1, 2, 3}, normal: 4, boostSp: true,
	},
	&gkind[[9]string, uint64]{
		nm: "s9", gotype: "[9]string", gelem: "uint64", ename: "u64",
		strs: []uintptr{0, 16, 32, 48, 64, 80, 96, 112, 128},
		key:  s9Key,
		elem: func(v int) uint64 { return uint64(v)*0x165667B19E3779F9 + 17 },
	},
}

func init() { kinds = append(kinds, moreKinds...) }
