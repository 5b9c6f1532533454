package main

// Handles onto the Go runtime's own hash state and hash functions, reached
// with pull-style //go:linkname. Building therefore needs
// -ldflags=-checklinkname=0 (Go 1.23+ refuses pull linknames to runtime
// symbols that are not marked push). The bodyless declarations need the empty
// stub.s in this directory so the compiler accepts them.
//
// Go 1.24.11 definitions:
//   runtime.aeskeysched  alg.go:441  [hashRandomBytes]byte (128 on 64-bit, 64 on 32-bit)
//   runtime.hashkey      alg.go:444  [4]uintptr
//   runtime.useAeshash   alg.go:46   bool, read by the asm dispatchers
//   runtime.memhash      asm_amd64.s:1207 (dispatches to aeshashbody or memhashFallback)
//   runtime.strhash      asm_amd64.s:1218
//   runtime.memhash32    asm_amd64.s:1568
//   runtime.memhash64    asm_amd64.s:1585
//   runtime.f32hash etc  alg.go:98-130

import "unsafe"

//go:linkname rtAeskeysched runtime.aeskeysched
var rtAeskeysched [hashRandomBytes]byte

// ptrSize is goarch.PtrSize; hashRandomBytes is the runtime's (alg.go:438).
const (
	ptrSize         = 4 << (^uintptr(0) >> 63)
	hashRandomBytes = ptrSize / 4 * 64
)

//go:linkname rtHashkey runtime.hashkey
var rtHashkey [4]uintptr

//go:linkname rtUseAeshash runtime.useAeshash
var rtUseAeshash bool

//go:linkname rtMemhash runtime.memhash
func rtMemhash(p unsafe.Pointer, h, s uintptr) uintptr

//go:linkname rtStrhash runtime.strhash
func rtStrhash(p unsafe.Pointer, h uintptr) uintptr

//go:linkname rtMemhash32 runtime.memhash32
func rtMemhash32(p unsafe.Pointer, h uintptr) uintptr

//go:linkname rtMemhash64 runtime.memhash64
func rtMemhash64(p unsafe.Pointer, h uintptr) uintptr

//go:linkname rtF32hash runtime.f32hash
func rtF32hash(p unsafe.Pointer, h uintptr) uintptr

//go:linkname rtF64hash runtime.f64hash
func rtF64hash(p unsafe.Pointer, h uintptr) uintptr

//go:linkname rtC64hash runtime.c64hash
func rtC64hash(p unsafe.Pointer, h uintptr) uintptr

//go:linkname rtC128hash runtime.c128hash
func rtC128hash(p unsafe.Pointer, h uintptr) uintptr
