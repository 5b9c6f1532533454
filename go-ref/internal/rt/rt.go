//go:build !goexperiment.swissmap

// Package rt mirrors the Go 1.24.11 runtime's classic ("noswiss") hash-map
// data structures and binds the few runtime symbols the oracle needs through
// //go:linkname. Everything here is tied to one exact toolchain release:
// Check() verifies the release and the mirror sizes and must be called first.
//
// Build with GOEXPERIMENT=noswissmap and -ldflags=-checklinkname=0.
//
// References are to $GOROOT/src of go1.24.11.
package rt

import (
	"fmt"
	"runtime"
	"slices"
	"strings"
	"unsafe"
)

// GoVersion is the only toolchain release these mirrors were written against.
const GoVersion = "go1.24.11"

// Type mirrors internal/abi.Type (internal/abi/type.go:20). 48 bytes on
// 64-bit, 32 on 32-bit.
type Type struct {
	Size_       uintptr
	PtrBytes    uintptr
	Hash        uint32
	TFlag       uint8
	Align_      uint8
	FieldAlign_ uint8
	Kind_       uint8
	Equal       func(unsafe.Pointer, unsafe.Pointer) bool
	GCData      *byte
	Str         int32
	PtrToThis   int32
}

// MapType mirrors internal/abi.OldMapType (internal/abi/map_noswiss.go:25).
type MapType struct {
	Type
	Key        *Type
	Elem       *Type
	Bucket     *Type
	Hasher     func(unsafe.Pointer, uintptr) uintptr
	KeySize    uint8
	ValueSize  uint8
	BucketSize uint16
	Flags      uint32
}

// Map type flag bits (internal/abi/map_noswiss.go:40-54).
const (
	FlagIndirectKey    = 1
	FlagIndirectElem   = 2
	FlagReflexiveKey   = 4
	FlagNeedKeyUpdate  = 8
	FlagHashMightPanic = 16
)

// Hmap mirrors runtime.hmap (runtime/map_noswiss.go:114). 56 bytes on
// 64-bit, 36 on 386 and arm (uint64 is 4-aligned there).
type Hmap struct {
	Count      int
	Flags      uint8
	B          uint8
	Noverflow  uint16
	Hash0      uint32
	Buckets    unsafe.Pointer
	Oldbuckets unsafe.Pointer
	Nevacuate  uintptr
	ClearSeq   uint64
	Extra      *Mapextra
}

// Mapextra mirrors runtime.mapextra (runtime/map_noswiss.go:132).
type Mapextra struct {
	Overflow     unsafe.Pointer // *[]*bmap
	Oldoverflow  unsafe.Pointer // *[]*bmap
	NextOverflow unsafe.Pointer // *bmap
}

// Hiter mirrors runtime.hiter (runtime/map_noswiss.go:164). 8+12*PtrSize
// bytes (104 on 64-bit, 56 on 32-bit); mapiterinit (line 892) throws if the
// runtime's own size differs.
// Pointer-typed fields stay pointers so the GC sees what the runtime stores.
type Hiter struct {
	Key         unsafe.Pointer
	Elem        unsafe.Pointer
	T           *MapType
	H           *Hmap
	Buckets     unsafe.Pointer
	Bptr        unsafe.Pointer
	Overflow    unsafe.Pointer
	Oldoverflow unsafe.Pointer
	StartBucket uintptr
	Offset      uint8
	Wrapped     bool
	B           uint8
	I           uint8
	Bucket      uintptr
	CheckBucket uintptr
	ClearSeq    uint64
}

// NoCheck is the sentinel hiter.checkBucket value (runtime/map_noswiss.go:105).
const NoCheck = ^uintptr(0)

// Bucket layout constants (runtime/map_noswiss.go:69-102).
const (
	BucketCnt  = 8
	DataOffset = 8 // tophash [8]uint8, then keys
	EmptyRest  = 0
	EmptyOne   = 1
	EvacuatedX = 2
	EvacuatedY = 3
	EvacEmpty  = 4
	MinTopHash = 5
	FlIterator = 1
	FlOldIter  = 2
	FlWriting  = 4
	FlSameSize = 8
	// PtrSize is goarch.PtrSize: 8 on amd64 and arm64, 4 on 386 and arm.
	PtrSize = 4 << (^uintptr(0) >> 63)
	// The mirrors' sizes, checked by Check: hmap is count, four bytes of
	// flags/B/noverflow, hash0, three pointer words, clearSeq (8 bytes,
	// 4-aligned on 32-bit) and extra; hiter is 8+12*PtrSize (the size
	// mapiterinit checks, map_noswiss.go:892).
	HmapSize    = 5*PtrSize + 16
	HiterSize   = 8 + 12*PtrSize
	TypeSize    = 4*PtrSize + 16
	MapTypeSize = TypeSize + 4*PtrSize + 8
)

//go:linkname mapiterinit runtime.mapiterinit
func mapiterinit(t *MapType, h *Hmap, it *Hiter)

//go:linkname mapiternext runtime.mapiternext
func mapiternext(it *Hiter)

//go:linkname mapassign runtime.mapassign
func mapassign(t *MapType, h *Hmap, key unsafe.Pointer) unsafe.Pointer

//go:linkname roundupsize runtime.roundupsize
func roundupsize(size uintptr, noscan bool) uintptr

// IterInit runs runtime.mapiterinit (map_noswiss.go:881), which draws the
// start position and already advances to the first entry.
func IterInit(t *MapType, h *Hmap, it *Hiter) { mapiterinit(t, h, it) }

// IterNext runs runtime.mapiternext (map_noswiss.go:941).
func IterNext(it *Hiter) { mapiternext(it) }

// MapAssign runs runtime.mapassign (map_noswiss.go:620), which is what the
// compiler emits for m[k] = v on key types without a fast variant. It returns
// the elem slot (already dereferenced for indirect elems).
func MapAssign(t *MapType, h *Hmap, key unsafe.Pointer) unsafe.Pointer {
	return mapassign(t, h, key)
}

// Eface splits an interface holding a map into its map type and header.
func Eface(m any) (*MapType, *Hmap) {
	w := (*[2]unsafe.Pointer)(unsafe.Pointer(&m))
	return (*MapType)(w[0]), (*Hmap)(w[1])
}

// ArrayLen is the number of buckets makeBucketArray (map_noswiss.go:365)
// allocates for 1<<b main buckets, including preallocated overflow buckets.
func ArrayLen(t *MapType, b uint8) uintptr {
	base := uintptr(1) << b
	n := base
	if b >= 4 {
		n += uintptr(1) << (b - 4)
		sz := t.Bucket.Size_ * n
		up := roundupsize(sz, t.Bucket.PtrBytes == 0)
		if up != sz {
			n = up / t.Bucket.Size_
		}
	}
	return n
}

// TopHash is runtime.tophash (map_noswiss.go:195): the hash's top byte.
func TopHash(hash uintptr) uint8 {
	top := uint8(hash >> (PtrSize*8 - 8))
	if top < MinTopHash {
		top += MinTopHash
	}
	return top
}

// Check fails loudly unless this binary runs on the exact runtime the
// mirrors describe.
func Check() error {
	// A GOEXPERIMENT build reports e.g. "go1.24.11 X:noswissmap".
	v := runtime.Version()
	base, exp, _ := strings.Cut(v, " ")
	if base != GoVersion {
		return fmt.Errorf("runtime.Version() = %q, want %q", v, GoVersion)
	}
	if !slices.Contains(strings.Split(strings.TrimPrefix(exp, "X:"), ","), "noswissmap") {
		return fmt.Errorf("runtime.Version() = %q: build with GOEXPERIMENT=noswissmap", v)
	}
	switch runtime.GOARCH {
	case "amd64", "arm64", "386", "arm":
	default:
		return fmt.Errorf("GOARCH %s unsupported (amd64, arm64, 386, arm only)", runtime.GOARCH)
	}
	if s := unsafe.Sizeof(Hmap{}); s != HmapSize {
		return fmt.Errorf("sizeof(hmap mirror) = %d, want %d", s, HmapSize)
	}
	if s := unsafe.Sizeof(Hiter{}); s != HiterSize {
		return fmt.Errorf("sizeof(hiter mirror) = %d, want %d", s, HiterSize)
	}
	if s := unsafe.Sizeof(Type{}); s != TypeSize {
		return fmt.Errorf("sizeof(abi.Type mirror) = %d, want %d", s, TypeSize)
	}
	if s := unsafe.Sizeof(MapType{}); s != MapTypeSize {
		return fmt.Errorf("sizeof(abi.OldMapType mirror) = %d, want %d", s, MapTypeSize)
	}
	return nil
}

// CheckMapType sanity-checks a map type read through the mirror against the
// sizes the Go compiler reports for K and V (so a swiss-map build or a layout
// change is caught before anything is traced).
func CheckMapType(t *MapType, keySize, elemSize uintptr) error {
	wantK, wantE := keySize, elemSize
	if keySize > 128 {
		wantK = PtrSize
	}
	if elemSize > 128 {
		wantE = PtrSize
	}
	if uintptr(t.KeySize) != wantK || uintptr(t.ValueSize) != wantE {
		return fmt.Errorf("map type slot sizes %d/%d, want %d/%d", t.KeySize, t.ValueSize, wantK, wantE)
	}
	if t.Key.Size_ != keySize || t.Elem.Size_ != elemSize {
		return fmt.Errorf("map key/elem type sizes %d/%d, want %d/%d", t.Key.Size_, t.Elem.Size_, keySize, elemSize)
	}
	want := uintptr(DataOffset) + BucketCnt*wantK + BucketCnt*wantE
	want = (want+PtrSize-1)&^(PtrSize-1) + PtrSize
	if uintptr(t.BucketSize) != want || t.Bucket.Size_ != want {
		return fmt.Errorf("bucket size %d (type %d), want %d", t.BucketSize, t.Bucket.Size_, want)
	}
	return nil
}
