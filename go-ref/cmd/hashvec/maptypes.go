package main

import (
	"fmt"
	"reflect"
	"runtime"
	"unsafe"
)

// rtType mirrors the leading fields of internal/abi.Type (internal/abi/type.go:20
// in Go 1.24.11). Only the fields read below matter; the sizes must match.
type rtType struct {
	size      uintptr
	ptrBytes  uintptr
	hash      uint32
	tflag     uint8
	align     uint8
	fieldAlgn uint8
	kind      uint8
	equal     unsafe.Pointer
	gcdata    unsafe.Pointer
	str       int32
	ptrToThis int32
}

// rtOldMapType mirrors internal/abi.OldMapType (internal/abi/map_noswiss.go:25).
// hasher is the very closure the runtime calls as t.Hasher(key, h.hash0) in
// mapaccess/mapassign; for struct keys the compiler generated it with
// reflectdata.genhash (cmd/compile/internal/reflectdata/alg.go:52).
type rtOldMapType struct {
	typ        rtType
	key        *rtType
	elem       *rtType
	bucket     *rtType
	hasher     func(unsafe.Pointer, uintptr) uintptr
	keySize    uint8
	valueSize  uint8
	bucketSize uint16
	flags      uint32
}

type eface struct {
	typ  *rtType
	data unsafe.Pointer
}

const kindMap = 21 // abi.Map

// mapTypeOf returns the runtime descriptor of map[K]uint64, taken from the
// type word of an interface holding a nil map of that type.
func mapTypeOf[K comparable]() *rtOldMapType {
	var m map[K]uint64
	var e any = m
	t := (*eface)(unsafe.Pointer(&e)).typ
	if t.kind&0x1f != kindMap {
		panic("not a map type")
	}
	return (*rtOldMapType)(unsafe.Pointer(t))
}

// Composite key types whose compiler-generated hashers are recorded.
type S1 struct {
	A uint32
	F float64
	S uint16
}

type S2 struct {
	A uint8
	B uint64
	S string
}

// Padded plain memory: not regular memory, hashed in three runs.
type S3 struct {
	A uint8
	B uint32
	C uint16
	D uint16
	E uint64
}

// Unpadded plain memory: regular memory of size 8, hashed with memhash64.
type S4 struct {
	A, B uint16
	C    uint32
}

// A blank field: skipped by the hasher and it ends a memory run.
type S5 struct {
	A uint32
	_ uint32
	B uint32
	F float32
}

type E6 struct {
	A uint32
	F float32
	B uint32
}

type S7 struct {
	C complex64
	S string
	Z [3]byte
}

// A nested non-memory struct: its hasher is called as a unit, so its last
// memory field does not merge with C.
type S8 struct {
	In E6
	C  uint32
}

// A nested regular-memory struct merges with the following memory field.
type S9 struct {
	X S4
	C uint32
	F float64
}

// leaf is a field the generator must fill specially.
type leaf struct {
	off  uintptr
	kind reflect.Kind // Float32, Float64 or String
}

type keyType struct {
	name   string
	rt     reflect.Type
	mt     *rtOldMapType
	leaves []leaf
	hasher string // name of the function the hasher closure calls
}

func flatten(t reflect.Type, base uintptr, out []leaf) []leaf {
	switch t.Kind() {
	case reflect.Float32, reflect.Float64, reflect.String:
		return append(out, leaf{base, t.Kind()})
	case reflect.Complex64:
		return append(out, leaf{base, reflect.Float32}, leaf{base + 4, reflect.Float32})
	case reflect.Complex128:
		return append(out, leaf{base, reflect.Float64}, leaf{base + 8, reflect.Float64})
	case reflect.Array:
		for i := 0; i < t.Len(); i++ {
			out = flatten(t.Elem(), base+uintptr(i)*t.Elem().Size(), out)
		}
	case reflect.Struct:
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if f.Name == "_" {
				continue // left as garbage on purpose
			}
			out = flatten(f.Type, base+f.Offset, out)
		}
	}
	return out
}

func kt[K comparable](name string) keyType {
	var zero K
	rt := reflect.TypeOf(zero)
	mt := mapTypeOf[K]()
	if mt.key.size != rt.Size() || uintptr(mt.key.align) != uintptr(rt.Align()) {
		panic(fmt.Sprintf("%s: abi.OldMapType layout mismatch (key size %d align %d)", name, mt.key.size, mt.key.align))
	}
	if mt.elem.size != 8 {
		panic(name + ": elem is not uint64")
	}
	code := **(**uintptr)(unsafe.Pointer(&mt.hasher))
	fn := runtime.FuncForPC(code)
	hn := "?"
	if fn != nil {
		hn = fn.Name()
	}
	return keyType{name: name, rt: rt, mt: mt, leaves: flatten(rt, 0, nil), hasher: hn}
}

func keyTypes() []keyType {
	return []keyType{
		kt[bool]("bool"),
		kt[uint8]("uint8"),
		kt[int16]("int16"),
		kt[uint32]("uint32"),
		kt[int64]("int64"),
		kt[uintptr]("uintptr"),
		kt[*byte]("ptr"),
		kt[[3]byte]("[3]byte"),
		kt[[4]byte]("[4]byte"),
		kt[[16]byte]("[16]byte"),
		kt[[24]byte]("[24]byte"),
		kt[[200]byte]("[200]byte"),
		kt[[2]uint16]("[2]uint16"),
		kt[float32]("float32"),
		kt[float64]("float64"),
		kt[complex64]("complex64"),
		kt[complex128]("complex128"),
		kt[string]("string"),
		kt[S1]("S1"),
		kt[S2]("S2"),
		kt[S3]("S3"),
		kt[S4]("S4"),
		kt[S5]("S5"),
		kt[[2]E6]("A6"),
		kt[S7]("S7"),
		kt[S8]("S8"),
		kt[S9]("S9"),
		kt[[2]string]("[2]string"),
		kt[[2]float64]("[2]float64"),
	}
}
