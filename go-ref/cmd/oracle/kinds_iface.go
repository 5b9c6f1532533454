//go:build !goexperiment.swissmap

package main

import (
	"encoding/binary"
	"maps"
	"math"
	"strconv"
	"unsafe"
)

// kind "any": map[any]uint64 with mixed dynamic types (docs/trace-format.md
// section 3, interface keys). A key's trace text holds no address: one
// byte naming the dynamic type, then its value:
//
//	0 nil (nothing follows)      4 string: length (8 LE) + bytes
//	1 int: 8 bytes LE            5 float64: 8 bytes LE
//	2 main.MyInt: 8 bytes LE     6 main.IP{A int32; S string; F float64}:
//	3 int32: 4 bytes LE            A (4), S as type 4, F (8)
//	                             7 [3]uint16: 6 bytes LE
//
// Key ids: 0 nil; 1 +0.0, 2 -0.0 (one key); 3, 4 NaNs; 5 int(5) and
// 6 MyInt(5) (equal hashes, different types); >= 7 ordinary, the type
// chosen by (id-7) % 6 among int, int32, string, float64, IP, [3]uint16.

// MyInt is a named int: its values hash as int's but never equal them.
type MyInt int

// IP is a struct with padding (4..8) and a string, hashed field by field.
type IP struct {
	A int32
	S string
	F float64
}

type kAny struct{}

func (kAny) name() string      { return "any" }
func (kAny) goKey() string     { return "any" }
func (kAny) goElem() string    { return "uint64" }
func (kAny) elemName() string  { return "u64" }
func (kAny) keySize() uintptr  { return 16 }
func (kAny) elemSize() uintptr { return 8 }
func (kAny) canon(k int) int {
	switch k {
	case 2:
		return 1
	case 3, 4:
		return -1
	}
	return k
}
func (kAny) normalKey(i int) int            { return 7 + i }
func (kAny) specialKeys() []int             { return []int{0, 1, 2, 3, 4, 5, 6} }
func (kAny) maxKeys() int                   { return 0 }
func (kAny) isString() bool                 { return false }
func (kAny) zero() any                      { return map[any]uint64(nil) }
func (kAny) boostSpecials() bool            { return true }
func (kAny) elemBytes(v int) []byte         { return u64b(uint64(v)*0x9E3779B97F4A7C15 + 23) }
func (x kAny) keyBytes(k int) []byte        { v := x.key(k); return encAny(&v) }
func (kAny) encKey(p unsafe.Pointer) []byte { return encAny((*any)(p)) }
func (kAny) keyPtr(kb []byte) unsafe.Pointer {
	v := decAny(kb)
	return unsafe.Pointer(&v)
}

func (kAny) key(k int) any {
	switch k {
	case 0:
		return nil
	case 1:
		return 0.0
	case 2:
		return math.Copysign(0, -1)
	case 3:
		return math.NaN()
	case 4:
		return math.Float64frombits(f64NaNPayload)
	case 5:
		return int(5)
	case 6:
		return MyInt(5)
	}
	j := k - 7
	switch j % 6 {
	case 0:
		return int(int64(j) * 0x9E3779B1)
	case 1:
		return int32(j) * 7
	case 2:
		return "s" + strconv.Itoa(j)
	case 3:
		return float64(j)*0.5 + 1
	case 4:
		return IP{A: int32(j), S: "p" + strconv.Itoa(j), F: float64(j) * 0.25}
	}
	return [3]uint16{uint16(j), uint16(j + 1), uint16(j >> 16)}
}

func appStr(b []byte, s string) []byte {
	b = binary.LittleEndian.AppendUint64(b, uint64(len(s)))
	return append(b, s...)
}

func encAny(p *any) []byte {
	switch v := (*p).(type) {
	case nil:
		return []byte{0}
	case int:
		return binary.LittleEndian.AppendUint64([]byte{1}, uint64(v))
	case MyInt:
		return binary.LittleEndian.AppendUint64([]byte{2}, uint64(v))
	case int32:
		return binary.LittleEndian.AppendUint32([]byte{3}, uint32(v))
	case string:
		return appStr([]byte{4}, v)
	case float64:
		return binary.LittleEndian.AppendUint64([]byte{5}, math.Float64bits(v))
	case IP:
		b := binary.LittleEndian.AppendUint32([]byte{6}, uint32(v.A))
		b = appStr(b, v.S)
		return binary.LittleEndian.AppendUint64(b, math.Float64bits(v.F))
	case [3]uint16:
		b := []byte{7}
		for _, x := range v {
			b = binary.LittleEndian.AppendUint16(b, x)
		}
		return b
	}
	fatalf("any key of unexpected type %T", *p)
	return nil
}

func decStr(b []byte) (string, []byte) {
	n := binary.LittleEndian.Uint64(b)
	return string(b[8 : 8+n]), b[8+n:]
}

func decAny(b []byte) any {
	le := binary.LittleEndian
	switch b[0] {
	case 0:
		return nil
	case 1:
		return int(le.Uint64(b[1:]))
	case 2:
		return MyInt(le.Uint64(b[1:]))
	case 3:
		return int32(le.Uint32(b[1:]))
	case 4:
		s, _ := decStr(b[1:])
		return s
	case 5:
		return math.Float64frombits(le.Uint64(b[1:]))
	case 6:
		s, rest := decStr(b[5:])
		return IP{A: int32(le.Uint32(b[1:])), S: s, F: math.Float64frombits(le.Uint64(rest))}
	case 7:
		return [3]uint16{le.Uint16(b[1:]), le.Uint16(b[3:]), le.Uint16(b[5:])}
	}
	fatalf("bad any key encoding %x", b)
	return nil
}

func (kAny) makeOp(hint int, out *any) func() {
	if hint == 0 {
		return func() { *out = make(map[any]uint64) }
	}
	return func() { *out = make(map[any]uint64, hint) }
}
func (kAny) assignOp(m any, kb, vb []byte) func() {
	mm, kk, vv := m.(map[any]uint64), decAny(kb), binary.LittleEndian.Uint64(vb)
	return func() { mm[kk] = vv }
}
func (kAny) deleteOp(m any, kb []byte) func() {
	mm, kk := m.(map[any]uint64), decAny(kb)
	return func() { delete(mm, kk) }
}
func (kAny) getOp(m any, kb []byte, ok *bool, vout *[]byte) func() {
	mm, kk := m.(map[any]uint64), decAny(kb)
	var v uint64
	return func() { v, *ok = mm[kk]; *vout = u64b(v) }
}
func (kAny) clearOp(m any) func() {
	mm := m.(map[any]uint64)
	return func() { clear(mm) }
}
func (kAny) cloneOp(m any, out *any) func() {
	mm := m.(map[any]uint64)
	return func() { *out = maps.Clone(mm) }
}
func (kAny) lenOp(m any, out *int) func() {
	mm := m.(map[any]uint64)
	return func() { *out = len(mm) }
}

func init() { kinds = append(kinds, kAny{}) }
