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

// A kind drives one concrete map type with real Go statements, so the
// compiler picks the same runtime entry points ordinary code gets
// (mapassign_fast32/fast64/faststr, mapassign, mapaccess2*, mapdelete*,
// mapclear, maps.Clone -> runtime.mapclone).
//
// Scenarios name keys and elems by integer ids (keyBytes/elemBytes give the
// value bytes); operations take those bytes, so a trace can be replayed from
// its own "k"/"v" fields. Every *Op method decodes its operands first and
// returns a closure holding only the Go statement, so that nothing else runs
// while the generator is armed.
type kind interface {
	name() string
	goKey() string    // Go key type, for the header
	goElem() string   // Go elem type
	elemName() string // short elem name: u32, u64, b144, zst
	keySize() uintptr
	elemSize() uintptr
	makeOp(hint int, out *any) func()
	assignOp(m any, kb, vb []byte) func()
	deleteOp(m any, kb []byte) func()
	getOp(m any, kb []byte, ok *bool, vout *[]byte) func()
	clearOp(m any) func()
	cloneOp(m any, out *any) func()
	lenOp(m any, out *int) func()
	keyBytes(k int) []byte  // the key's value bytes (string: content)
	elemBytes(v int) []byte // the elem's value bytes
	canon(k int) int        // equality class of key id; -1 for NaN (never equal)
	normalKey(i int) int    // i-th ordinary key id (i >= 0)
	specialKeys() []int     // ids of edge-case keys (NaN, ±0, ±Inf, ...)
	maxKeys() int           // number of distinct keys the type has (0 = unbounded)
	isString() bool
	zero() any // a nil map of the type (for its type descriptor)
}

func u32b(x uint32) []byte { return binary.LittleEndian.AppendUint32(nil, x) }
func u64b(x uint64) []byte { return binary.LittleEndian.AppendUint64(nil, x) }

// ---- u32: map[uint32]uint32 (fast32 paths) ----

type kU32 struct{}

func (kU32) name() string            { return "u32" }
func (kU32) goKey() string           { return "uint32" }
func (kU32) goElem() string          { return "uint32" }
func (kU32) keySize() uintptr        { return 4 }
func (kU32) elemSize() uintptr       { return 4 }
func (kU32) key(k int) uint32        { return uint32(k)*0x01000193 + 7 }
func (kU32) elem(v int) uint32       { return uint32(v)*0x9E3779B1 + 1 }
func (x kU32) keyBytes(k int) []byte { return u32b(x.key(k)) }
func (x kU32) elemBytes(v int) []byte {
	return u32b(x.elem(v))
}
func (kU32) canon(k int) int     { return k }
func (kU32) normalKey(i int) int { return i }
func (kU32) specialKeys() []int  { return nil }
func (kU32) maxKeys() int        { return 0 }
func (kU32) isString() bool      { return false }
func (kU32) zero() any           { return map[uint32]uint32(nil) }
func (kU32) elemName() string    { return "u32" }
func (kU32) makeOp(hint int, out *any) func() {
	if hint == 0 {
		return func() { *out = make(map[uint32]uint32) }
	}
	return func() { *out = make(map[uint32]uint32, hint) }
}
func (kU32) assignOp(m any, kb, vb []byte) func() {
	mm, kk, vv := m.(map[uint32]uint32), binary.LittleEndian.Uint32(kb), binary.LittleEndian.Uint32(vb)
	return func() { mm[kk] = vv }
}
func (kU32) deleteOp(m any, kb []byte) func() {
	mm, kk := m.(map[uint32]uint32), binary.LittleEndian.Uint32(kb)
	return func() { delete(mm, kk) }
}
func (kU32) getOp(m any, kb []byte, ok *bool, vout *[]byte) func() {
	mm, kk := m.(map[uint32]uint32), binary.LittleEndian.Uint32(kb)
	var v uint32
	return func() { v, *ok = mm[kk]; *vout = u32b(v) }
}
func (kU32) clearOp(m any) func() {
	mm := m.(map[uint32]uint32)
	return func() { clear(mm) }
}
func (kU32) cloneOp(m any, out *any) func() {
	mm := m.(map[uint32]uint32)
	return func() { *out = maps.Clone(mm) }
}
func (kU32) lenOp(m any, out *int) func() {
	mm := m.(map[uint32]uint32)
	return func() { *out = len(mm) }
}

// ---- u64: map[uint64]uint64 (fast64 paths) ----

type kU64 struct{}

func (kU64) name() string             { return "u64" }
func (kU64) goKey() string            { return "uint64" }
func (kU64) goElem() string           { return "uint64" }
func (kU64) keySize() uintptr         { return 8 }
func (kU64) elemSize() uintptr        { return 8 }
func (kU64) key(k int) uint64         { return uint64(k)*0x100000001B3 + 0x1234 }
func (kU64) elem(v int) uint64        { return uint64(v)*0x9E3779B97F4A7C15 + 1 }
func (x kU64) keyBytes(k int) []byte  { return u64b(x.key(k)) }
func (x kU64) elemBytes(v int) []byte { return u64b(x.elem(v)) }
func (kU64) canon(k int) int          { return k }
func (kU64) normalKey(i int) int      { return i }
func (kU64) specialKeys() []int       { return nil }
func (kU64) maxKeys() int             { return 0 }
func (kU64) isString() bool           { return false }
func (kU64) zero() any                { return map[uint64]uint64(nil) }
func (kU64) elemName() string         { return "u64" }
func (kU64) makeOp(hint int, out *any) func() {
	if hint == 0 {
		return func() { *out = make(map[uint64]uint64) }
	}
	return func() { *out = make(map[uint64]uint64, hint) }
}
func (kU64) assignOp(m any, kb, vb []byte) func() {
	mm, kk, vv := m.(map[uint64]uint64), binary.LittleEndian.Uint64(kb), binary.LittleEndian.Uint64(vb)
	return func() { mm[kk] = vv }
}
func (kU64) deleteOp(m any, kb []byte) func() {
	mm, kk := m.(map[uint64]uint64), binary.LittleEndian.Uint64(kb)
	return func() { delete(mm, kk) }
}
func (kU64) getOp(m any, kb []byte, ok *bool, vout *[]byte) func() {
	mm, kk := m.(map[uint64]uint64), binary.LittleEndian.Uint64(kb)
	var v uint64
	return func() { v, *ok = mm[kk]; *vout = u64b(v) }
}
func (kU64) clearOp(m any) func() {
	mm := m.(map[uint64]uint64)
	return func() { clear(mm) }
}
func (kU64) cloneOp(m any, out *any) func() {
	mm := m.(map[uint64]uint64)
	return func() { *out = maps.Clone(mm) }
}
func (kU64) lenOp(m any, out *int) func() {
	mm := m.(map[uint64]uint64)
	return func() { *out = len(mm) }
}

// ---- str: map[string]uint64 (faststr paths) ----
//
// Key ids map to non-empty strings. Every 7th id (k%7 == 3) is a long key
// (> 32 bytes) sharing its first and last 4 bytes with the other long keys,
// which drives mapaccess*_faststr's one-bucket long-key comparison and its
// fall back to hashing.

type kStr struct{}

func (kStr) name() string      { return "str" }
func (kStr) goKey() string     { return "string" }
func (kStr) goElem() string    { return "uint64" }
func (kStr) keySize() uintptr  { return 2 * rt.PtrSize }
func (kStr) elemSize() uintptr { return 8 }
func (kStr) key(k int) string {
	if k%7 == 3 {
		return "LONG/" + strconv.Itoa(k) + "/padding-padding-padding-padding/TAIL"
	}
	return "k" + strconv.Itoa(k)
}
func (kStr) elem(v int) uint64        { return uint64(v)*0xC2B2AE3D27D4EB4F + 3 }
func (x kStr) keyBytes(k int) []byte  { return []byte(x.key(k)) }
func (x kStr) elemBytes(v int) []byte { return u64b(x.elem(v)) }
func (kStr) canon(k int) int          { return k }
func (kStr) normalKey(i int) int      { return i }
func (kStr) specialKeys() []int       { return nil }
func (kStr) maxKeys() int             { return 0 }
func (kStr) isString() bool           { return true }
func (kStr) zero() any                { return map[string]uint64(nil) }
func (kStr) elemName() string         { return "u64" }
func (kStr) makeOp(hint int, out *any) func() {
	if hint == 0 {
		return func() { *out = make(map[string]uint64) }
	}
	return func() { *out = make(map[string]uint64, hint) }
}
func (kStr) assignOp(m any, kb, vb []byte) func() {
	mm, kk, vv := m.(map[string]uint64), string(kb), binary.LittleEndian.Uint64(vb)
	return func() { mm[kk] = vv }
}
func (kStr) deleteOp(m any, kb []byte) func() {
	mm, kk := m.(map[string]uint64), string(kb)
	return func() { delete(mm, kk) }
}
func (kStr) getOp(m any, kb []byte, ok *bool, vout *[]byte) func() {
	mm, kk := m.(map[string]uint64), string(kb)
	var v uint64
	return func() { v, *ok = mm[kk]; *vout = u64b(v) }
}
func (kStr) clearOp(m any) func() {
	mm := m.(map[string]uint64)
	return func() { clear(mm) }
}
func (kStr) cloneOp(m any, out *any) func() {
	mm := m.(map[string]uint64)
	return func() { *out = maps.Clone(mm) }
}
func (kStr) lenOp(m any, out *int) func() {
	mm := m.(map[string]uint64)
	return func() { *out = len(mm) }
}

// ---- f64: map[float64]uint64 (generic paths, NaN draws) ----
//
// Ids: 0 = +0, 1 = -0 (equal to +0, NeedKeyUpdate rewrites the stored key),
// 2 = +Inf, 3 = -Inf, 4 = the default quiet NaN, 5 = a negative NaN with a
// payload; id >= 6 are ordinary values.

type kF64 struct{}

const f64NaNPayload = 0xFFF8_0000_DEAD_BEEF

func (kF64) name() string      { return "f64" }
func (kF64) goKey() string     { return "float64" }
func (kF64) goElem() string    { return "uint64" }
func (kF64) keySize() uintptr  { return 8 }
func (kF64) elemSize() uintptr { return 8 }
func (kF64) key(k int) float64 {
	switch k {
	case 0:
		return 0
	case 1:
		return math.Copysign(0, -1)
	case 2:
		return math.Inf(1)
	case 3:
		return math.Inf(-1)
	case 4:
		return math.NaN()
	case 5:
		return math.Float64frombits(f64NaNPayload)
	}
	return float64(k-6)*0.75 + 1
}
func (kF64) elem(v int) uint64        { return uint64(v)*0x165667B19E3779F9 + 5 }
func (x kF64) keyBytes(k int) []byte  { return u64b(math.Float64bits(x.key(k))) }
func (x kF64) elemBytes(v int) []byte { return u64b(x.elem(v)) }
func (kF64) canon(k int) int {
	switch k {
	case 1:
		return 0
	case 4, 5:
		return -1
	}
	return k
}
func (kF64) normalKey(i int) int { return i + 6 }
func (kF64) specialKeys() []int  { return []int{0, 1, 2, 3, 4, 5} }
func (kF64) maxKeys() int        { return 0 }
func (kF64) isString() bool      { return false }
func (kF64) zero() any           { return map[float64]uint64(nil) }
func (kF64) elemName() string    { return "u64" }
func (kF64) makeOp(hint int, out *any) func() {
	if hint == 0 {
		return func() { *out = make(map[float64]uint64) }
	}
	return func() { *out = make(map[float64]uint64, hint) }
}
func (kF64) assignOp(m any, kb, vb []byte) func() {
	mm, kk, vv := m.(map[float64]uint64), math.Float64frombits(binary.LittleEndian.Uint64(kb)), binary.LittleEndian.Uint64(vb)
	return func() { mm[kk] = vv }
}
func (kF64) deleteOp(m any, kb []byte) func() {
	mm, kk := m.(map[float64]uint64), math.Float64frombits(binary.LittleEndian.Uint64(kb))
	return func() { delete(mm, kk) }
}
func (kF64) getOp(m any, kb []byte, ok *bool, vout *[]byte) func() {
	mm, kk := m.(map[float64]uint64), math.Float64frombits(binary.LittleEndian.Uint64(kb))
	var v uint64
	return func() { v, *ok = mm[kk]; *vout = u64b(v) }
}
func (kF64) clearOp(m any) func() {
	mm := m.(map[float64]uint64)
	return func() { clear(mm) }
}
func (kF64) cloneOp(m any, out *any) func() {
	mm := m.(map[float64]uint64)
	return func() { *out = maps.Clone(mm) }
}
func (kF64) lenOp(m any, out *int) func() {
	mm := m.(map[float64]uint64)
	return func() { *out = len(mm) }
}

// ---- big: map[[136]byte][144]byte (indirect key and elem) ----

type bigK = [136]byte
type bigE = [144]byte

type kBig struct{}

func (kBig) name() string      { return "big" }
func (kBig) goKey() string     { return "[136]byte" }
func (kBig) goElem() string    { return "[144]byte" }
func (kBig) keySize() uintptr  { return 136 }
func (kBig) elemSize() uintptr { return 144 }
func (kBig) key(k int) (b bigK) {
	binary.LittleEndian.PutUint64(b[:], uint64(k)*0x9E3779B97F4A7C15)
	for i := 8; i < len(b); i++ {
		b[i] = byte(i)
	}
	b[135] = byte(k)
	return
}
func (kBig) elem(v int) (b bigE) {
	binary.LittleEndian.PutUint64(b[:], uint64(v))
	binary.LittleEndian.PutUint64(b[136:], ^uint64(v))
	return
}
func (x kBig) keyBytes(k int) []byte  { b := x.key(k); return b[:] }
func (x kBig) elemBytes(v int) []byte { b := x.elem(v); return b[:] }
func (kBig) canon(k int) int          { return k }
func (kBig) normalKey(i int) int      { return i }
func (kBig) specialKeys() []int       { return nil }
func (kBig) maxKeys() int             { return 0 }
func (kBig) isString() bool           { return false }
func (kBig) zero() any                { return map[bigK]bigE(nil) }
func (kBig) elemName() string         { return "b144" }
func (kBig) makeOp(hint int, out *any) func() {
	if hint == 0 {
		return func() { *out = make(map[bigK]bigE) }
	}
	return func() { *out = make(map[bigK]bigE, hint) }
}
func (kBig) assignOp(m any, kb, vb []byte) func() {
	mm, kk, vv := m.(map[bigK]bigE), bigK(kb), bigE(vb)
	return func() { mm[kk] = vv }
}
func (kBig) deleteOp(m any, kb []byte) func() {
	mm, kk := m.(map[bigK]bigE), bigK(kb)
	return func() { delete(mm, kk) }
}
func (kBig) getOp(m any, kb []byte, ok *bool, vout *[]byte) func() {
	mm, kk := m.(map[bigK]bigE), bigK(kb)
	var v bigE
	return func() { v, *ok = mm[kk]; *vout = v[:] }
}
func (kBig) clearOp(m any) func() {
	mm := m.(map[bigK]bigE)
	return func() { clear(mm) }
}
func (kBig) cloneOp(m any, out *any) func() {
	mm := m.(map[bigK]bigE)
	return func() { *out = maps.Clone(mm) }
}
func (kBig) lenOp(m any, out *int) func() {
	mm := m.(map[bigK]bigE)
	return func() { *out = len(mm) }
}

// ---- zst: map[struct{}]struct{} ----

type kZst struct{}

func (kZst) name() string         { return "zst" }
func (kZst) goKey() string        { return "struct{}" }
func (kZst) goElem() string       { return "struct{}" }
func (kZst) keySize() uintptr     { return 0 }
func (kZst) elemSize() uintptr    { return 0 }
func (kZst) keyBytes(int) []byte  { return nil }
func (kZst) elemBytes(int) []byte { return nil }
func (kZst) canon(int) int        { return 0 }
func (kZst) normalKey(int) int    { return 0 }
func (kZst) specialKeys() []int   { return nil }
func (kZst) maxKeys() int         { return 1 }
func (kZst) isString() bool       { return false }
func (kZst) zero() any            { return map[struct{}]struct{}(nil) }
func (kZst) elemName() string     { return "zst" }
func (kZst) makeOp(hint int, out *any) func() {
	if hint == 0 {
		return func() { *out = make(map[struct{}]struct{}) }
	}
	return func() { *out = make(map[struct{}]struct{}, hint) }
}
func (kZst) assignOp(m any, kb, vb []byte) func() {
	mm := m.(map[struct{}]struct{})
	return func() { mm[struct{}{}] = struct{}{} }
}
func (kZst) deleteOp(m any, kb []byte) func() {
	mm := m.(map[struct{}]struct{})
	return func() { delete(mm, struct{}{}) }
}
func (kZst) getOp(m any, kb []byte, ok *bool, vout *[]byte) func() {
	mm := m.(map[struct{}]struct{})
	return func() { _, *ok = mm[struct{}{}]; *vout = nil }
}
func (kZst) clearOp(m any) func() {
	mm := m.(map[struct{}]struct{})
	return func() { clear(mm) }
}
func (kZst) cloneOp(m any, out *any) func() {
	mm := m.(map[struct{}]struct{})
	return func() { *out = maps.Clone(mm) }
}
func (kZst) lenOp(m any, out *int) func() {
	mm := m.(map[struct{}]struct{})
	return func() { *out = len(mm) }
}

// ---- comp: map[Comp]uint32 ----
//
// Comp is 24 bytes on 64-bit: A at 0, 4 bytes padding, F at 8, S at 16, 6
// bytes padding (16 on 386 and arm, where float64 is 4-aligned: F at 4, S
// at 12, 2 bytes padding). A plain `m[k] = v` statement copies the key through a stack
// temporary whose padding bytes are whatever the stack held, so assignments
// call runtime.mapassign (exactly what the compiler emits for this key type)
// on a key whose padding is zero. Lookups and deletes never store the key and
// use ordinary statements.
//
// Ids: low 20 bits select the value (A = id&15, F = float64(id>>4 & 0xffff),
// S = id*7); bit 20 turns F == 0 into -0 (same key as +0, stored key
// rewritten on update); bit 21 makes F a NaN (the key is then unequal to
// everything, and hashing it draws through f64hash).

type Comp struct {
	A uint32
	F float64
	S uint16
}

type kComp struct{}

// Comp's layout on this GOARCH.
const (
	compSize = unsafe.Sizeof(Comp{})
	compF    = unsafe.Offsetof(Comp{}.F)
	compS    = unsafe.Offsetof(Comp{}.S)
)

const (
	compNegZero = 1 << 20
	compNaN     = 1 << 21
)

func (kComp) name() string      { return "comp" }
func (kComp) goKey() string     { return "Comp" } // struct{A uint32; F float64; S uint16}
func (kComp) goElem() string    { return "uint32" }
func (kComp) keySize() uintptr  { return compSize }
func (kComp) elemSize() uintptr { return 4 }
func (kComp) key(k int) (c Comp) {
	base := k & (compNegZero - 1)
	c.A = uint32(base & 15)
	c.F = float64(base >> 4 & 0xffff)
	if c.F == 0 && k&compNegZero != 0 {
		c.F = math.Copysign(0, -1)
	}
	c.S = uint16(base * 7)
	if k&compNaN != 0 {
		c.F = math.NaN()
	}
	return
}
func (kComp) elem(v int) uint32 { return uint32(v)*0x27D4EB2F + 9 }
func (x kComp) keyBytes(k int) []byte {
	c := x.key(k)
	b := make([]byte, compSize)
	binary.LittleEndian.PutUint32(b[0:], c.A)
	binary.LittleEndian.PutUint64(b[compF:], math.Float64bits(c.F))
	binary.LittleEndian.PutUint16(b[compS:], c.S)
	return b
}
func compFromBytes(b []byte) Comp {
	return Comp{
		A: binary.LittleEndian.Uint32(b[0:]),
		F: math.Float64frombits(binary.LittleEndian.Uint64(b[compF:])),
		S: binary.LittleEndian.Uint16(b[compS:]),
	}
}
func (x kComp) elemBytes(v int) []byte { return u32b(x.elem(v)) }
func (kComp) canon(k int) int {
	if k&compNaN != 0 {
		return -1
	}
	return k & (compNegZero - 1)
}
func (kComp) normalKey(i int) int { return i + 1 }
func (kComp) specialKeys() []int {
	return []int{0, compNegZero, 1, 1 | compNegZero, 3 | compNaN, 21 | compNaN}
}
func (kComp) maxKeys() int     { return 0 }
func (kComp) isString() bool   { return false }
func (kComp) zero() any        { return map[Comp]uint32(nil) }
func (kComp) elemName() string { return "u32" }
func (kComp) makeOp(hint int, out *any) func() {
	if hint == 0 {
		return func() { *out = make(map[Comp]uint32) }
	}
	return func() { *out = make(map[Comp]uint32, hint) }
}
func (kComp) assignOp(m any, kb, vb []byte) func() {
	t, h := rt.Eface(m)
	// A zeroed heap buffer carries the key, so its padding is zero
	// (the trace's key bytes always have zero padding).
	buf := new([3]uint64)
	copy((*[compSize]byte)(unsafe.Pointer(buf))[:], kb)
	key := unsafe.Pointer(buf)
	vv := binary.LittleEndian.Uint32(vb)
	return func() { *(*uint32)(rt.MapAssign(t, h, key)) = vv }
}
func (kComp) deleteOp(m any, kb []byte) func() {
	mm, kk := m.(map[Comp]uint32), compFromBytes(kb)
	return func() { delete(mm, kk) }
}
func (kComp) getOp(m any, kb []byte, ok *bool, vout *[]byte) func() {
	mm, kk := m.(map[Comp]uint32), compFromBytes(kb)
	var v uint32
	return func() { v, *ok = mm[kk]; *vout = u32b(v) }
}
func (kComp) clearOp(m any) func() {
	mm := m.(map[Comp]uint32)
	return func() { clear(mm) }
}
func (kComp) cloneOp(m any, out *any) func() {
	mm := m.(map[Comp]uint32)
	return func() { *out = maps.Clone(mm) }
}
func (kComp) lenOp(m any, out *int) func() {
	mm := m.(map[Comp]uint32)
	return func() { *out = len(mm) }
}

var kinds = []kind{kU32{}, kU64{}, kStr{}, kF64{}, kBig{}, kZst{}, kComp{}}

func kindByName(n string) kind {
	for _, k := range kinds {
		if k.name() == n {
			return k
		}
	}
	return nil
}
