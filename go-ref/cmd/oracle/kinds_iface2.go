//go:build !goexperiment.swissmap

package main

import (
	"encoding/binary"
	"maps"
	"unsafe"
)

// kind "iface": map[I]uint64 with I = interface{ M() } (Go hashes it with
// interhash through the itab, compares with interequal). Same key ids and
// trace encoding as "any" (kinds_iface.go), each value converted to the
// named type with an M method of the same underlying type: ids 1 MInt,
// 2 MMyInt, 3 MI32, 4 MStr, 5 MF64, 6 MIP, 7 MA3.
type I interface{ M() }

type (
	MInt   int
	MMyInt int
	MI32   int32
	MStr   string
	MF64   float64
	MIP    IP
	MA3    [3]uint16
)

func (MInt) M()   {}
func (MMyInt) M() {}
func (MI32) M()   {}
func (MStr) M()   {}
func (MF64) M()   {}
func (MIP) M()    {}
func (MA3) M()    {}

type kIface struct{ kAny }

func (kIface) name() string  { return "iface" }
func (kIface) goKey() string { return "main.I" }
func (kIface) zero() any     { return map[I]uint64(nil) }

// toI converts an "any" key to its I twin.
func toI(v any) I {
	switch v := v.(type) {
	case nil:
		return nil
	case int:
		return MInt(v)
	case MyInt:
		return MMyInt(v)
	case int32:
		return MI32(v)
	case string:
		return MStr(v)
	case float64:
		return MF64(v)
	case IP:
		return MIP(v)
	case [3]uint16:
		return MA3(v)
	}
	fatalf("iface key of unexpected type %T", v)
	return nil
}

// fromI is toI's inverse.
func fromI(v I) any {
	switch v := v.(type) {
	case nil:
		return nil
	case MInt:
		return int(v)
	case MMyInt:
		return MyInt(v)
	case MI32:
		return int32(v)
	case MStr:
		return string(v)
	case MF64:
		return float64(v)
	case MIP:
		return IP(v)
	case MA3:
		return [3]uint16(v)
	}
	fatalf("iface key of unexpected type %T", v)
	return nil
}

func (x kIface) keyBytes(k int) []byte { v := x.key(k); return encAny(&v) }
func (kIface) encKey(p unsafe.Pointer) []byte {
	v := fromI(*(*I)(p))
	return encAny(&v)
}
func (kIface) keyPtr(kb []byte) unsafe.Pointer {
	v := toI(decAny(kb))
	return unsafe.Pointer(&v)
}
func (kIface) makeOp(hint int, out *any) func() {
	if hint == 0 {
		return func() { *out = make(map[I]uint64) }
	}
	return func() { *out = make(map[I]uint64, hint) }
}
func (kIface) assignOp(m any, kb, vb []byte) func() {
	mm, kk, vv := m.(map[I]uint64), toI(decAny(kb)), binary.LittleEndian.Uint64(vb)
	return func() { mm[kk] = vv }
}
func (kIface) deleteOp(m any, kb []byte) func() {
	mm, kk := m.(map[I]uint64), toI(decAny(kb))
	return func() { delete(mm, kk) }
}
func (kIface) getOp(m any, kb []byte, ok *bool, vout *[]byte) func() {
	mm, kk := m.(map[I]uint64), toI(decAny(kb))
	var v uint64
	return func() { v, *ok = mm[kk]; *vout = u64b(v) }
}
func (kIface) clearOp(m any) func() {
	mm := m.(map[I]uint64)
	return func() { clear(mm) }
}
func (kIface) cloneOp(m any, out *any) func() {
	mm := m.(map[I]uint64)
	return func() { *out = maps.Clone(mm) }
}
func (kIface) lenOp(m any, out *int) func() {
	mm := m.(map[I]uint64)
	return func() { *out = len(mm) }
}

func init() { kinds = append(kinds, kIface{}) }
