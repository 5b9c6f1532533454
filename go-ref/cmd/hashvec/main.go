// Command hashvec records known-answer vectors from the real Go runtime's
// hash functions (Go 1.24.11, GOEXPERIMENT=noswissmap) for gomap's tests.
//
// Usage (from go-ref/):
//
//	GOEXPERIMENT=noswissmap ../.venv-go/bin/go run -ldflags=-checklinkname=0 \
//	    ./cmd/hashvec -out ../tests/data/hash_vectors.json
//
// How it works: after all setup that might touch a Go map (flag parsing,
// reflect, runtime.FuncForPC), the process's hash key material
// (runtime.aeskeysched, runtime.hashkey) is replaced by gomap's canonical test
// material, every vector is computed into a byte buffer for both hash paths
// (flipping runtime.useAeshash, exactly what the assembly dispatchers test),
// and the original material and path are restored before any I/O. No Go map
// is used while the material is swapped, so nothing in the process observes
// the change. With GODEBUG=cpu.aes=off (or on a CPU without AES) only the
// fallback section is produced; its vectors must equal the fallback section
// of a normal run (a cross-check that flipping useAeshash is faithful).
package main

import (
	"flag"
	"fmt"
	"math"
	"os"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"unsafe"
)

const wantVersion = "go1.24.11"

// testAeskeysched and testHashkey are gomap's alg::test_key_material().
func testAeskeysched() (k [hashRandomBytes]byte) {
	for i := range k {
		k[i] = byte(i*7 + 3)
	}
	return k
}

// On 32-bit, hashkey's words are uintptr: the material's low 32 bits.
var testHashkey = func() (k [4]uintptr) {
	for i, w := range [4]uint64{
		0x9e3779b97f4a7c15,
		0xc2b2ae3d27d4eb4f,
		0x165667b19e3779f9,
		0x27d4eb2f165667c5,
	} {
		k[i] = uintptr(w)
	}
	return k
}()

// splitmix64: the deterministic data source (also easy to reproduce anywhere).
type prng struct{ s uint64 }

func (r *prng) next() uint64 {
	r.s += 0x9e3779b97f4a7c15
	z := r.s
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

func (r *prng) fill(b []byte) {
	for i := range b {
		b[i] = byte(r.next())
	}
}

// Seeds: with the top bit of the word (0x8000000000000001 on 64-bit,
// 0x80000001 on 32-bit) and all ones.
var memhashSeeds = []uintptr{0, 1, 0xdeadbeef, 1<<(ptrSize*8-1) | 1, ^uintptr(0)}
var shortSeeds = []uintptr{0, 0xdeadbeef, 1<<(ptrSize*8-1) | 1}

func memhashLens() []int {
	var ls []int
	for l := 0; l <= 300; l++ {
		ls = append(ls, l)
	}
	return append(ls, 383, 384, 385, 511, 512, 513, 1023, 1024, 1025)
}

func strhashLens() []int {
	var ls []int
	for l := 0; l <= 40; l++ {
		ls = append(ls, l)
	}
	return append(ls, 63, 64, 65, 127, 128, 129, 255, 256, 257, 1025)
}

// Offset of a length's input inside the shared data block: varies the
// alignment of the loads.
func offFor(l int) int { return (l * 7) % 16 }

const dataLen = 1025 + 16

type key struct {
	words []uint64 // the key's bytes (8-aligned backing)
	strs  [][]byte // string field contents, kept alive here
	soff  []uintptr
	shown []byte // the key's bytes as recorded: string data pointers zeroed
}

func (k *key) ptr() unsafe.Pointer { return unsafe.Pointer(&k.words[0]) }

func makeKey(t *keyType, idx int, r *prng) key {
	size := t.rt.Size()
	words := make([]uint64, (size+7)/8+1)
	buf := unsafe.Slice((*byte)(unsafe.Pointer(&words[0])), size)
	r.fill(buf) // padding and blank fields keep this garbage on purpose
	if t.name == "bool" {
		buf[0] = byte(idx & 1)
	}
	k := key{words: words}
	for li, lf := range t.leaves {
		p := unsafe.Add(unsafe.Pointer(&words[0]), lf.off)
		switch lf.kind {
		case reflect.Float32:
			b := *(*uint32)(p)
			switch idx {
			case 0:
				b = 0
			case 1:
				b = 0x80000000
			case 2:
				b = math.Float32bits(float32(math.Inf(1 - 2*(li&1))))
			}
			if f := math.Float32frombits(b); f != f {
				b &^= 0x40000000 // NaN would draw from runtime.rand
			}
			*(*uint32)(p) = b
		case reflect.Float64:
			b := *(*uint64)(p)
			switch idx {
			case 0:
				b = 0
			case 1:
				b = 0x8000000000000000
			case 2:
				b = math.Float64bits(math.Inf(1 - 2*(li&1)))
			}
			if f := math.Float64frombits(b); f != f {
				b &^= 0x4000000000000000
			}
			*(*uint64)(p) = b
		case reflect.String:
			n := (idx*7 + li*3) % 41
			s := make([]byte, n+1) // +1: never a zero-size allocation
			r.fill(s[:n])
			var sp unsafe.Pointer
			if n > 0 {
				sp = unsafe.Pointer(&s[0])
			}
			*(*unsafe.Pointer)(p) = sp
			*(*int)(unsafe.Add(p, ptrSize)) = n
			k.strs = append(k.strs, s[:n])
			k.soff = append(k.soff, lf.off)
		}
	}
	// Addresses differ from run to run; the recorded bytes carry zeros where
	// the string data pointers are (the consumer patches in its own).
	k.shown = append([]byte(nil), buf...)
	for _, off := range k.soff {
		clear(k.shown[off : off+ptrSize])
	}
	return k
}

// Output helpers: the JSON is written by hand, one vector per line.
type out struct{ b []byte }

func (o *out) s(x string) { o.b = append(o.b, x...) }
func (o *out) hex(b []byte) {
	const digits = "0123456789abcdef"
	o.b = append(o.b, '"')
	for _, c := range b {
		o.b = append(o.b, digits[c>>4], digits[c&15])
	}
	o.b = append(o.b, '"')
}
func (o *out) u64(x uint64) {
	o.b = append(o.b, `"0x`...)
	s := strconv.FormatUint(x, 16)
	for i := len(s); i < 16; i++ {
		o.b = append(o.b, '0')
	}
	o.b = append(o.b, s...)
	o.b = append(o.b, '"')
}
func (o *out) int(x int) { o.b = strconv.AppendInt(o.b, int64(x), 10) }

var firstVec = true

func (o *out) vec(path, fn string) {
	if !firstVec {
		o.s(",\n")
	}
	firstVec = false
	o.s(`{"path":"`)
	o.s(path)
	o.s(`","fn":"`)
	o.s(fn)
	o.s(`"`)
}

func main() {
	outPath := flag.String("out", "-", "output file (- for stdout)")
	flag.Parse()

	if v := runtime.Version(); strings.Fields(v)[0] != wantVersion {
		fail("built with %q; the vectors must come from %s", v, wantVersion)
	}
	if !noswissmap {
		fail("build with GOEXPERIMENT=noswissmap")
	}
	// The AES section is the assembly of the GOARCH it runs on
	// (asm_amd64.s, asm_arm64.s or asm_386.s); the file records which in
	// "goarch". arm has no AES path (its file holds the fallback only).
	switch runtime.GOARCH {
	case "amd64", "arm64", "386", "arm":
	default:
		fail("GOARCH=%s: only amd64, arm64, 386 and arm are recorded here", runtime.GOARCH)
	}

	// ---- Setup: everything that may use Go maps happens here. ----
	r := &prng{s: 0x676f6d6170} // "gomap"
	data := make([]byte, dataLen)
	r.fill(data)
	types := keyTypes()
	keys := make([][]key, len(types))
	for i := range types {
		for k := 0; k < 6; k++ {
			keys[i] = append(keys[i], makeKey(&types[i], k, r))
		}
	}
	m32 := make([]uint32, 32)
	m64 := make([]uint64, 32)
	for i := range m32 {
		m32[i] = uint32(r.next())
		m64[i] = r.next()
	}
	f32s := []float32{1, -1, 0.5, 3.1415927, math.SmallestNonzeroFloat32, -math.MaxFloat32,
		float32(math.Inf(1)), float32(math.Inf(-1)), 0, float32(math.Copysign(0, -1)), 1e38, 123456.78}
	f64s := []float64{1, -1, 0.5, math.Pi, math.SmallestNonzeroFloat64, -math.MaxFloat64,
		math.Inf(1), math.Inf(-1), 0, math.Copysign(0, -1), 1e300, 123456.789}
	negz := math.Copysign(0, -1)
	c128s := []complex128{complex(1, 2), complex(0, negz), complex(negz, 1), complex(math.Inf(1), -1),
		complex(1.5, 0), complex(negz, negz), complex(-3.25, math.Pi)}
	o := &out{b: make([]byte, 0, 1<<20)}

	// ---- Swap in the test key material. No map use until restored. ----
	origAes, origHk, origUse := rtAeskeysched, rtHashkey, rtUseAeshash
	rtAeskeysched = testAeskeysched()
	rtHashkey = testHashkey
	paths := []string{"fallback"}
	if origUse {
		paths = []string{"aes", "fallback"}
	}
	for _, path := range paths {
		rtUseAeshash = path == "aes"
		for _, l := range memhashLens() {
			off := offFor(l)
			for _, seed := range memhashSeeds {
				h := rtMemhash(unsafe.Pointer(&data[off]), seed, uintptr(l))
				o.vec(path, "memhash")
				o.s(`,"off":`)
				o.int(off)
				o.s(`,"len":`)
				o.int(l)
				o.s(`,"seed":`)
				o.u64(uint64(seed))
				o.s(`,"hash":`)
				o.u64(uint64(h))
				o.s("}")
			}
		}
		for _, l := range strhashLens() {
			off := offFor(l) ^ 5
			for _, seed := range []uintptr{0, 0xdeadbeef} {
				s := unsafe.String(&data[off], l)
				h := rtStrhash(unsafe.Pointer(&s), seed)
				o.vec(path, "strhash")
				o.s(`,"off":`)
				o.int(off)
				o.s(`,"len":`)
				o.int(l)
				o.s(`,"seed":`)
				o.u64(uint64(seed))
				o.s(`,"hash":`)
				o.u64(uint64(h))
				o.s("}")
			}
		}
		for i := range m32 {
			for _, seed := range memhashSeeds {
				o.vec(path, "memhash32")
				o.s(`,"bits":`)
				o.u64(uint64(m32[i]))
				o.s(`,"seed":`)
				o.u64(uint64(seed))
				o.s(`,"hash":`)
				o.u64(uint64(rtMemhash32(unsafe.Pointer(&m32[i]), seed)))
				o.s("}")
				o.vec(path, "memhash64")
				o.s(`,"bits":`)
				o.u64(m64[i])
				o.s(`,"seed":`)
				o.u64(uint64(seed))
				o.s(`,"hash":`)
				o.u64(uint64(rtMemhash64(unsafe.Pointer(&m64[i]), seed)))
				o.s("}")
			}
		}
		for _, seed := range memhashSeeds {
			for i := range f32s {
				o.vec(path, "f32hash")
				o.s(`,"bits":`)
				o.u64(uint64(math.Float32bits(f32s[i])))
				o.s(`,"seed":`)
				o.u64(uint64(seed))
				o.s(`,"hash":`)
				o.u64(uint64(rtF32hash(unsafe.Pointer(&f32s[i]), seed)))
				o.s("}")
			}
			for i := range f64s {
				o.vec(path, "f64hash")
				o.s(`,"bits":`)
				o.u64(math.Float64bits(f64s[i]))
				o.s(`,"seed":`)
				o.u64(uint64(seed))
				o.s(`,"hash":`)
				o.u64(uint64(rtF64hash(unsafe.Pointer(&f64s[i]), seed)))
				o.s("}")
			}
			for i := range c128s {
				c := c128s[i]
				c64 := complex64(c)
				o.vec(path, "c64hash")
				o.s(`,"re":`)
				o.u64(uint64(math.Float32bits(real(c64))))
				o.s(`,"im":`)
				o.u64(uint64(math.Float32bits(imag(c64))))
				o.s(`,"seed":`)
				o.u64(uint64(seed))
				o.s(`,"hash":`)
				o.u64(uint64(rtC64hash(unsafe.Pointer(&c64), seed)))
				o.s("}")
				o.vec(path, "c128hash")
				o.s(`,"re":`)
				o.u64(math.Float64bits(real(c)))
				o.s(`,"im":`)
				o.u64(math.Float64bits(imag(c)))
				o.s(`,"seed":`)
				o.u64(uint64(seed))
				o.s(`,"hash":`)
				o.u64(uint64(rtC128hash(unsafe.Pointer(&c), seed)))
				o.s("}")
			}
		}
		for ti := range types {
			t := &types[ti]
			for ki := range keys[ti] {
				k := &keys[ti][ki]
				for _, seed := range shortSeeds {
					h := t.mt.hasher(k.ptr(), seed)
					o.vec(path, "maphash")
					o.s(`,"type":"`)
					o.s(t.name)
					o.s(`","key":`)
					o.hex(k.shown)
					o.s(`,"strs":[`)
					for si := range k.strs {
						if si > 0 {
							o.s(",")
						}
						o.s(`{"off":`)
						o.int(int(k.soff[si]))
						o.s(`,"data":`)
						o.hex(k.strs[si])
						o.s("}")
					}
					o.s(`],"seed":`)
					o.u64(uint64(seed))
					o.s(`,"hash":`)
					o.u64(uint64(h))
					o.s("}")
				}
			}
		}
	}
	// ---- Restore the process's own material before doing anything else. ----
	rtAeskeysched, rtHashkey, rtUseAeshash = origAes, origHk, origUse
	runtime.KeepAlive(keys)
	vectors := o.b

	// ---- Header and map type descriptors. ----
	h := &out{}
	h.s("{\n")
	h.s(`"generator":"go-ref/cmd/hashvec",` + "\n")
	h.s(`"go_version":"` + runtime.Version() + `",` + "\n")
	h.s(`"goexperiment":"noswissmap",` + "\n")
	h.s(`"goarch":"` + runtime.GOARCH + `",` + "\n")
	h.s(`"paths":[`)
	for i, p := range paths {
		if i > 0 {
			h.s(",")
		}
		h.s(`"` + p + `"`)
	}
	h.s("],\n")
	ks := testAeskeysched()
	h.s(`"aeskeysched":`)
	h.hex(ks[:])
	h.s(",\n")
	h.s(`"hashkey":[`)
	for i, w := range testHashkey {
		if i > 0 {
			h.s(",")
		}
		h.u64(uint64(w))
	}
	h.s("],\n")
	h.s(`"data":`)
	h.hex(data)
	h.s(",\n")
	h.s(`"maptypes":[` + "\n")
	for ti := range types {
		t := &types[ti]
		if ti > 0 {
			h.s(",\n")
		}
		h.s(`{"type":"` + t.name + `","go":"` + strings.ReplaceAll(t.rt.String(), `"`, `'`) + `","hasher":"` + t.hasher + `"`)
		h.s(`,"size":`)
		h.int(int(t.mt.key.size))
		h.s(`,"align":`)
		h.int(int(t.mt.key.align))
		h.s(`,"key_pointers":` + strconv.FormatBool(t.mt.key.ptrBytes != 0))
		h.s(`,"keysize":`)
		h.int(int(t.mt.keySize))
		h.s(`,"valuesize":`)
		h.int(int(t.mt.valueSize))
		h.s(`,"bucketsize":`)
		h.int(int(t.mt.bucketSize))
		h.s(`,"flags":`)
		h.int(int(t.mt.flags))
		h.s(`,"bucket_pointers":` + strconv.FormatBool(t.mt.bucket.ptrBytes != 0))
		h.s("}")
	}
	h.s("\n],\n")
	h.s(`"vectors":[` + "\n")
	h.b = append(h.b, vectors...)
	h.s("\n]\n}\n")

	if *outPath == "-" {
		os.Stdout.Write(h.b)
		return
	}
	if err := os.WriteFile(*outPath, h.b, 0o644); err != nil {
		fail("%v", err)
	}
	fmt.Fprintf(os.Stderr, "hashvec: wrote %s (%d bytes, paths %v)\n", *outPath, len(h.b), paths)
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "hashvec: "+format+"\n", args...)
	os.Exit(1)
}
