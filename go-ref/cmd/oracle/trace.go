//go:build !goexperiment.swissmap

package main

import (
	"encoding/hex"
	"fmt"
	"runtime"
	"strconv"
	"unsafe"

	"gomap/go-ref/internal/rt"
)

// ---------------------------------------------------------------------------
// Compact JSON building. Everything the trace contains is ASCII without
// characters needing escapes (hex, numbers, fixed names), which is what makes
// the checksum of the "state" text reproducible byte for byte.

type jb struct{ b []byte }

func (j *jb) raw(s string) { j.b = append(j.b, s...) }
func (j *jb) q(s string)   { j.b = append(j.b, '"'); j.b = append(j.b, s...); j.b = append(j.b, '"') }
func (j *jb) u(x uint64)   { j.b = strconv.AppendUint(j.b, x, 10) }
func (j *jb) i(x int)      { j.b = strconv.AppendInt(j.b, int64(x), 10) }
func (j *jb) hexq(b []byte) {
	j.b = append(j.b, '"')
	j.b = hex.AppendEncode(j.b, b)
	j.b = append(j.b, '"')
}
func (j *jb) boolv(v bool)   { j.b = strconv.AppendBool(j.b, v) }
func (j *jb) comma()         { j.b = append(j.b, ',') }
func (j *jb) bytes(b []byte) { j.b = append(j.b, b...) }
func (j *jb) fnv() uint64    { return fnv1a(j.b) }
func (j *jb) reset()         { j.b = j.b[:0] }
func (j *jb) strq(s string) {
	j.b = strconv.AppendQuote(j.b, s)
}

// fnv1a is 64-bit FNV-1a.
func fnv1a(b []byte) uint64 {
	h := uint64(0xcbf29ce484222325)
	for _, c := range b {
		h ^= uint64(c)
		h *= 0x100000001b3
	}
	return h
}

// ---------------------------------------------------------------------------
// Slot and value encoding.

func mem(p unsafe.Pointer, n uintptr) []byte {
	if n == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(p), n)
}

// encVal writes the value of type size sz at p (already dereferenced for
// indirect slots). Strings are written as their content bytes.
func encVal(j *jb, p unsafe.Pointer, sz uintptr, isStr bool) {
	if isStr {
		s := *(*string)(p)
		j.hexq([]byte(s))
		return
	}
	j.hexq(mem(p, sz))
}

// structuredKey is implemented by kinds whose keys hold strings inside a
// larger value: their key text is encMemStr's encoding.
type structuredKey interface {
	encKey(p unsafe.Pointer) []byte
	keyPtr(kb []byte) unsafe.Pointer
}

// encSlot writes a key or elem slot as it sits in a bucket: indirect slots
// are null when the pointer is nil, else the pointee; string slots whose data
// pointer is nil are "~<len>" (mapdelete_faststr clears only the pointer).
// enc, when non-nil, encodes a (dereferenced) value.
func encSlot(j *jb, p unsafe.Pointer, sz uintptr, indirect, isStr bool, enc func(unsafe.Pointer) []byte) {
	if indirect {
		q := *(*unsafe.Pointer)(p)
		if q == nil {
			j.raw("null")
			return
		}
		if enc != nil {
			j.hexq(enc(q))
			return
		}
		encVal(j, q, sz, false)
		return
	}
	if enc != nil {
		j.hexq(enc(p))
		return
	}
	if isStr {
		hd := (*[2]uintptr)(p)
		if hd[0] == 0 {
			j.raw(`"~`)
			j.b = strconv.AppendUint(j.b, uint64(hd[1]), 10)
			j.raw(`"`)
			return
		}
	}
	encVal(j, p, sz, isStr)
}

// mapView bundles what the dumper needs about one traced map.
type mapView struct {
	t     *rt.MapType
	h     *rt.Hmap
	isStr bool
	enc   func(unsafe.Pointer) []byte // key encoder of a structuredKey kind, else nil
}

func (v mapView) bs() uintptr { return uintptr(v.t.BucketSize) }

func (v mapView) keyAt(b unsafe.Pointer, i int) unsafe.Pointer {
	return unsafe.Add(b, rt.DataOffset+uintptr(i)*uintptr(v.t.KeySize))
}
func (v mapView) elemAt(b unsafe.Pointer, i int) unsafe.Pointer {
	return unsafe.Add(b, rt.DataOffset+rt.BucketCnt*uintptr(v.t.KeySize)+uintptr(i)*uintptr(v.t.ValueSize))
}
func (v mapView) ovf(b unsafe.Pointer) unsafe.Pointer {
	return *(*unsafe.Pointer)(unsafe.Add(b, v.bs()-rt.PtrSize))
}
func (v mapView) indKey() bool  { return v.t.Flags&rt.FlagIndirectKey != 0 }
func (v mapView) indElem() bool { return v.t.Flags&rt.FlagIndirectElem != 0 }

// oldB is log2 of the old array's main bucket count (valid while growing).
func (v mapView) oldB() uint8 {
	if v.h.Flags&rt.FlSameSize != 0 {
		return v.h.B
	}
	return v.h.B - 1
}

// encBuckets writes the chains of the array at base (1<<b main buckets).
func (v mapView) encBuckets(j *jb, base unsafe.Pointer, b uint8) error {
	nmain := uintptr(1) << b
	narr := rt.ArrayLen(v.t, b)
	bs := v.bs()
	j.raw("[")
	for i := uintptr(0); i < nmain; i++ {
		if i > 0 {
			j.comma()
		}
		j.raw("[")
		bk := unsafe.Add(base, i*bs)
		first := true
		for steps := 0; bk != nil; steps++ {
			if steps > 1<<16 {
				return fmt.Errorf("overflow chain loop")
			}
			if !first {
				j.comma()
			}
			j.raw(`{"at":`)
			if first {
				j.q("main")
			} else {
				off := uintptr(bk) - uintptr(base)
				if uintptr(bk) >= uintptr(base) && off < narr*bs {
					if off%bs != 0 || off/bs < nmain {
						return fmt.Errorf("overflow pointer into main bucket area (offset %d)", off)
					}
					j.raw(`{"pre":`)
					j.u(uint64(off / bs))
					j.raw("}")
				} else {
					j.q("heap")
				}
			}
			first = false
			j.raw(`,"tophash":[`)
			th := (*[8]uint8)(bk)
			for s := 0; s < 8; s++ {
				if s > 0 {
					j.comma()
				}
				j.u(uint64(th[s]))
			}
			j.raw(`],"keys":[`)
			for s := 0; s < 8; s++ {
				if s > 0 {
					j.comma()
				}
				encSlot(j, v.keyAt(bk, s), v.t.Key.Size_, v.indKey(), v.isStr, v.enc)
			}
			j.raw(`],"elems":[`)
			for s := 0; s < 8; s++ {
				if s > 0 {
					j.comma()
				}
				encSlot(j, v.elemAt(bk, s), v.t.Elem.Size_, v.indElem(), false, nil)
			}
			j.raw("]}")
			bk = v.ovf(bk)
		}
		j.raw("]")
	}
	j.raw("]")
	return nil
}

// encState writes {"buckets":...,"oldbuckets":...}.
func (v mapView) encState(j *jb) error {
	j.raw(`{"buckets":`)
	if v.h.Buckets == nil {
		j.raw("null")
	} else if err := v.encBuckets(j, v.h.Buckets, v.h.B); err != nil {
		return err
	}
	j.raw(`,"oldbuckets":`)
	if v.h.Oldbuckets == nil {
		j.raw("null")
	} else if err := v.encBuckets(j, v.h.Oldbuckets, v.oldB()); err != nil {
		return err
	}
	j.raw("}")
	return nil
}

// nextOverflow is the index of hmap.extra.nextOverflow within the current
// bucket array, or -1 when there is none.
func (v mapView) nextOverflow() (int, error) {
	h := v.h
	if h.Extra == nil || h.Extra.NextOverflow == nil {
		return -1, nil
	}
	off := uintptr(h.Extra.NextOverflow) - uintptr(h.Buckets)
	narr := rt.ArrayLen(v.t, h.B)
	if uintptr(h.Extra.NextOverflow) < uintptr(h.Buckets) || off%v.bs() != 0 || off/v.bs() >= narr || off/v.bs() < uintptr(1)<<h.B {
		return 0, fmt.Errorf("nextOverflow outside the preallocated area")
	}
	return int(off / v.bs()), nil
}

func (v mapView) encHdr(j *jb) error {
	h := v.h
	no, err := v.nextOverflow()
	if err != nil {
		return err
	}
	j.raw(`{"count":`)
	j.i(h.Count)
	j.raw(`,"flags":`)
	j.u(uint64(h.Flags))
	j.raw(`,"B":`)
	j.u(uint64(h.B))
	j.raw(`,"noverflow":`)
	j.u(uint64(h.Noverflow))
	j.raw(`,"hash0":`)
	j.u(uint64(h.Hash0))
	j.raw(`,"nevacuate":`)
	j.u(uint64(h.Nevacuate))
	j.raw(`,"clearseq":`)
	j.u(h.ClearSeq)
	j.raw(`,"oldbuckets":`)
	j.boolv(h.Oldbuckets != nil)
	j.raw(`,"nextoverflow":`)
	if no < 0 {
		j.raw("null")
	} else {
		j.i(no)
	}
	j.raw("}")
	return nil
}

// verify checks invariants of the dumped structure that must hold for any
// real map, to catch mirror or dumper mistakes: no writer flag left behind,
// live slots sit in the bucket their hash selects with the right tophash,
// and count matches the number of live entries.
func (v mapView) verify() error {
	h, t := v.h, v.t
	if h.Flags&rt.FlWriting != 0 {
		return fmt.Errorf("hashWriting flag set after the operation")
	}
	if h.B >= 16 {
		return fmt.Errorf("B=%d: traced maps must stay below B=16 (incrnoverflow draws)", h.B)
	}
	live := 0
	check := func(base unsafe.Pointer, b uint8, old bool) error {
		if base == nil {
			return nil
		}
		mask := uintptr(1)<<b - 1
		for i := uintptr(0); i <= mask; i++ {
			first := unsafe.Add(base, i*v.bs())
			if old && (*[8]uint8)(first)[0] > rt.EmptyOne && (*[8]uint8)(first)[0] < rt.MinTopHash {
				continue // evacuated
			}
			for bk := first; bk != nil; bk = v.ovf(bk) {
				th := (*[8]uint8)(bk)
				for s := 0; s < 8; s++ {
					if th[s] < rt.MinTopHash {
						continue
					}
					live++
					k := v.keyAt(bk, s)
					if v.indKey() {
						k = *(*unsafe.Pointer)(k)
					}
					if !t.Key.Equal(k, k) {
						continue // NaN: hash is not reproducible
					}
					hash := t.Hasher(k, uintptr(h.Hash0))
					if hash&mask != i || rt.TopHash(hash) != th[s] {
						return fmt.Errorf("slot in bucket %d (old=%v) has hash %#x / tophash %d", i, old, hash, th[s])
					}
				}
			}
		}
		return nil
	}
	if err := check(h.Buckets, h.B, false); err != nil {
		return err
	}
	if h.Oldbuckets != nil {
		if err := check(h.Oldbuckets, v.oldB(), true); err != nil {
			return err
		}
	}
	if live != h.Count {
		return fmt.Errorf("count %d but %d live slots", h.Count, live)
	}
	return nil
}

// ---------------------------------------------------------------------------
// Tracer.

type iterSlot struct {
	it   *rt.Hiter
	m    int
	done bool // iteration reached its end (res null); no more iternext
	gone bool // iterend issued
}

type tracer struct {
	sink       func(line []byte) // receives each complete line, with its newline
	k          kind
	rnd        *rt.Rand
	seed       uint64
	snapEvery  int
	n          int // index of the next op
	maps       []any
	iters      []*iterSlot
	line       jb
	scratch    jb
	replay     *replayOp // non-nil while re-executing a recorded op
	scriptLine int       // script line of the ops being traced (script.go); 0: none
}

func splitmix(x *uint64) uint64 {
	*x += 0x9E3779B97F4A7C15
	z := *x
	z = (z ^ z>>30) * 0xBF58476D1CE4E5B9
	z = (z ^ z>>27) * 0x94D049BB133111EB
	return z ^ z>>31
}

// opSeed is the generator seed armed before op n.
func (t *tracer) opSeed() [4]uint64 {
	x := t.seed ^ uint64(t.n)*0xD1B54A32D192ED03
	return [4]uint64{splitmix(&x), splitmix(&x), splitmix(&x), splitmix(&x)}
}

func (t *tracer) view(id int) mapView {
	mt, h := rt.Eface(t.maps[id])
	v := mapView{t: mt, h: h, isStr: t.k.isString()}
	if sk, ok := t.k.(structuredKey); ok {
		v.enc = sk.encKey
	}
	return v
}

func (t *tracer) header(scenario, hash string, seed uint64, mt *rt.MapType) {
	j := &t.line
	j.reset()
	j.raw(`{"format":"gomap-trace/1","go":`)
	j.q(rt.GoVersion)
	j.raw(`,"key":`)
	j.q(t.k.name())
	j.raw(`,"elem":`)
	j.q(t.k.elemName())
	j.raw(`,"gotype":`)
	j.strq("map[" + t.k.goKey() + "]" + t.k.goElem())
	j.raw(`,"keysize":`)
	j.u(uint64(mt.KeySize))
	j.raw(`,"valuesize":`)
	j.u(uint64(mt.ValueSize))
	j.raw(`,"keytypesize":`)
	j.u(uint64(mt.Key.Size_))
	j.raw(`,"elemtypesize":`)
	j.u(uint64(mt.Elem.Size_))
	j.raw(`,"bucketsize":`)
	j.u(uint64(mt.BucketSize))
	j.raw(`,"flags":`)
	j.u(uint64(mt.Flags))
	j.raw(`,"bucketpointers":`)
	j.boolv(mt.Bucket.PtrBytes != 0)
	j.raw(`,"arraylen":[`)
	for b := uint8(0); b < 16; b++ {
		if b > 0 {
			j.comma()
		}
		j.u(uint64(rt.ArrayLen(mt, b)))
	}
	j.raw(`],"hash":`)
	j.q(hash)
	// The AES path is a different function on each architecture
	// (asm_amd64.s, asm_arm64.s); traces without "goarch" are amd64's.
	if runtime.GOARCH != "amd64" {
		j.raw(`,"goarch":`)
		j.q(runtime.GOARCH)
	}
	j.raw(`,"aeskeysched":`)
	ks := rt.TestAESKeySched()
	j.hexq(ks[:])
	j.raw(`,"hashkey":[`)
	for i, v := range rt.TestHashKeyInForce() {
		if i > 0 {
			j.comma()
		}
		j.q("0x" + strconv.FormatUint(v, 16))
	}
	j.raw(`],"rand":"exact","scenario":`)
	j.q(scenario)
	j.raw(`,"seed":`)
	j.u(seed)
	j.raw(`,"snapshot_every":`)
	j.i(t.snapEvery)
	j.raw("}\n")
	t.sink(j.b)
}

// run arms the generator, runs f (the Go statement) and returns the draws.
// When replaying, the generator is loaded with the recorded draws instead,
// and the op must consume exactly those.
func (t *tracer) run(f func()) []uint64 {
	if t.replay != nil {
		d := t.replay.draws
		if err := t.rnd.Inject(d); err != nil {
			fatalf("line %d: %v", t.n, err)
		}
		f()
		if err := t.rnd.Injected(); err != nil {
			fatalf("op %d (%s): %v", t.n, t.replay.op, err)
		}
		return d
	}
	t.rnd.Arm(t.opSeed())
	f()
	d, err := t.rnd.Consumed()
	if err != nil {
		fatalf("op %d: %v", t.n, err)
	}
	return d
}

type opRec struct {
	op     string
	fields func(j *jb) // op-specific fields after "map"
	mapID  int         // -1: none
	draws  []uint64
	res    func(j *jb) // nil: null
	touch  []int       // maps whose hdr/sum/state are listed
	all    bool        // list every map with its state (final)
}

func (t *tracer) emit(r opRec) {
	j := &t.line
	j.reset()
	j.raw(`{"n":`)
	j.i(t.n)
	j.raw(`,"op":`)
	j.q(r.op)
	if r.mapID >= 0 {
		j.raw(`,"map":`)
		j.i(r.mapID)
	}
	if r.fields != nil {
		r.fields(j)
	}
	if t.scriptLine > 0 {
		j.raw(`,"line":`)
		j.i(t.scriptLine)
	}
	j.raw(`,"rand":[`)
	for i, d := range r.draws {
		if i > 0 {
			j.comma()
		}
		j.u(d)
	}
	j.raw(`],"res":`)
	if r.res == nil {
		j.raw("null")
	} else {
		r.res(j)
	}
	snap := r.all || (t.snapEvery > 0 && (t.n+1)%t.snapEvery == 0)
	j.raw(`,"maps":{`)
	touch := r.touch
	if r.all {
		touch = nil
		for id := range t.maps {
			touch = append(touch, id)
		}
	}
	for i, id := range touch {
		if i > 0 {
			j.comma()
		}
		v := t.view(id)
		if err := v.verify(); err != nil {
			fatalf("op %d map %d: %v", t.n, id, err)
		}
		j.q(strconv.Itoa(id))
		j.raw(`:{"hdr":`)
		if err := v.encHdr(j); err != nil {
			fatalf("op %d map %d: %v", t.n, id, err)
		}
		s := &t.scratch
		s.reset()
		if err := v.encState(s); err != nil {
			fatalf("op %d map %d: %v", t.n, id, err)
		}
		j.raw(`,"sum":`)
		j.q(fmt.Sprintf("%016x", s.fnv()))
		if snap {
			j.raw(`,"state":`)
			j.bytes(s.b)
		}
		j.raw("}")
	}
	j.raw("}}\n")
	t.sink(j.b)
	t.n++
}

// ---- operations ----

func (t *tracer) opMake(hint int) int {
	var m any
	f := t.k.makeOp(hint, &m)
	d := t.run(f)
	id := len(t.maps)
	t.maps = append(t.maps, m)
	v := t.view(id)
	if err := rt.CheckMapType(v.t, t.k.keySize(), t.k.elemSize()); err != nil {
		fatalf("%v", err)
	}
	if len(d) != 1 || uint32(d[0]) != v.h.Hash0 {
		fatalf("op %d: make drew %v but hash0=%d", t.n, d, v.h.Hash0)
	}
	t.emit(opRec{op: "make", mapID: id, draws: d, touch: []int{id},
		fields: func(j *jb) { j.raw(`,"hint":`); j.i(hint) }})
	return id
}

func (t *tracer) opAssign(m int, kb, vb []byte) {
	d := t.run(t.k.assignOp(t.maps[m], kb, vb))
	t.emit(opRec{op: "assign", mapID: m, draws: d, touch: []int{m},
		fields: func(j *jb) { j.raw(`,"k":`); j.hexq(kb); j.raw(`,"v":`); j.hexq(vb) }})
}

func (t *tracer) opDelete(m int, kb []byte) {
	h := t.view(m).h
	before := h.Count
	d := t.run(t.k.deleteOp(t.maps[m], kb))
	if before > 0 && h.Count == 0 && (len(d) == 0 || uint32(d[len(d)-1]) != h.Hash0) {
		fatalf("op %d: delete emptied the map but hash0 is not its last draw", t.n)
	}
	t.emit(opRec{op: "delete", mapID: m, draws: d, touch: []int{m},
		fields: func(j *jb) { j.raw(`,"k":`); j.hexq(kb) }})
}

func (t *tracer) opGet(m int, kb []byte) (bool, []byte) {
	var ok bool
	var vb []byte
	d := t.run(t.k.getOp(t.maps[m], kb, &ok, &vb))
	t.emit(opRec{op: "get", mapID: m, draws: d, touch: []int{m},
		fields: func(j *jb) { j.raw(`,"k":`); j.hexq(kb) },
		res: func(j *jb) {
			j.raw(`{"ok":`)
			j.boolv(ok)
			j.raw(`,"v":`)
			j.hexq(vb)
			j.raw("}")
		}})
	return ok, vb
}

func (t *tracer) opClear(m int) {
	h := t.view(m).h
	before := h.Count
	d := t.run(t.k.clearOp(t.maps[m]))
	if (before == 0) != (len(d) == 0) || (len(d) > 0 && (len(d) != 1 || uint32(d[0]) != h.Hash0)) {
		fatalf("op %d: clear draws %v do not match hash0 %d", t.n, d, h.Hash0)
	}
	t.emit(opRec{op: "clear", mapID: m, draws: d, touch: []int{m}})
}

func (t *tracer) opClone(m int) int {
	var out any
	d := t.run(t.k.cloneOp(t.maps[m], &out))
	id := len(t.maps)
	t.maps = append(t.maps, out)
	t.emit(opRec{op: "clone", mapID: m, draws: d, touch: []int{m, id},
		res: func(j *jb) { j.raw(`{"map":`); j.i(id); j.raw("}") }})
	return id
}

func (t *tracer) opLen(m int) int {
	var n int
	d := t.run(t.k.lenOp(t.maps[m], &n))
	if n != t.view(m).h.Count {
		fatalf("len mismatch")
	}
	t.emit(opRec{op: "len", mapID: m, draws: d, touch: []int{m},
		res: func(j *jb) { j.i(n) }})
	return n
}

func (t *tracer) iterRes(j *jb, s *iterSlot) {
	it := s.it
	if it.Key == nil {
		j.raw("null")
		return
	}
	v := t.view(s.m)
	j.raw(`{"k":`)
	if v.enc != nil {
		j.hexq(v.enc(it.Key))
	} else {
		encVal(j, it.Key, v.t.Key.Size_, v.isStr)
	}
	j.raw(`,"v":`)
	encVal(j, it.Elem, v.t.Elem.Size_, false)
	j.raw("}")
}

func (t *tracer) iterFields(j *jb, id int, s *iterSlot) {
	j.raw(`,"it":`)
	j.i(id)
	it := s.it
	if it.H == nil {
		return
	}
	j.raw(`,"iter":{"startbucket":`)
	j.u(uint64(it.StartBucket))
	j.raw(`,"offset":`)
	j.u(uint64(it.Offset))
	j.raw(`,"B":`)
	j.u(uint64(it.B))
	j.raw(`,"bucket":`)
	j.u(uint64(it.Bucket))
	j.raw(`,"i":`)
	j.u(uint64(it.I))
	j.raw(`,"wrapped":`)
	j.boolv(it.Wrapped)
	j.raw(`,"checkbucket":`)
	if it.CheckBucket == rt.NoCheck {
		j.raw("null")
	} else {
		j.u(uint64(it.CheckBucket))
	}
	j.raw(`,"clearseq":`)
	j.u(it.ClearSeq)
	j.raw(`,"arr":`)
	h := it.H
	switch {
	case it.Buckets != nil && it.Buckets == h.Buckets:
		j.q("cur")
	case it.Buckets != nil && it.Buckets == h.Oldbuckets:
		j.q("old")
	default:
		j.q("other")
	}
	j.raw("}")
}

func (t *tracer) opIterInit(m int) int {
	s := &iterSlot{it: new(rt.Hiter), m: m}
	mt, h := rt.Eface(t.maps[m])
	d := t.run(func() { rt.IterInit(mt, h, s.it) })
	id := len(t.iters)
	t.iters = append(t.iters, s)
	if s.it.Key == nil {
		s.done = true
	}
	if len(d) == 1 {
		r := uintptr(d[0])
		if s.it.StartBucket != r&(uintptr(1)<<s.it.B-1) || uintptr(s.it.Offset) != r>>s.it.B&7 {
			fatalf("op %d: iterinit start does not match its draw", t.n)
		}
	}
	t.emit(opRec{op: "iterinit", mapID: m, draws: d, touch: []int{m},
		fields: func(j *jb) { t.iterFields(j, id, s) },
		res:    func(j *jb) { t.iterRes(j, s) }})
	return id
}

// opIterNext returns false when the iterator reached its end.
func (t *tracer) opIterNext(id int) bool {
	s := t.iters[id]
	if s.done || s.gone {
		fatalf("iternext on finished iterator %d", id)
	}
	d := t.run(func() { rt.IterNext(s.it) })
	if s.it.Key == nil {
		s.done = true
	}
	t.emit(opRec{op: "iternext", mapID: s.m, draws: d, touch: []int{s.m},
		fields: func(j *jb) { t.iterFields(j, id, s) },
		res:    func(j *jb) { t.iterRes(j, s) }})
	return !s.done
}

func (t *tracer) opIterEnd(id int) {
	s := t.iters[id]
	if s.gone {
		fatalf("iterend twice on %d", id)
	}
	d := t.run(func() { s.gone = true })
	s.it = &rt.Hiter{} // drop the runtime's pointers
	t.emit(opRec{op: "iterend", mapID: s.m, draws: d, touch: []int{s.m},
		fields: func(j *jb) { j.raw(`,"it":`); j.i(id) }})
}

func (t *tracer) opFinal() {
	t.emit(opRec{op: "final", mapID: -1, all: true})
}
