//go:build !goexperiment.swissmap

package main

import (
	"bufio"
	"fmt"
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"unsafe"

	"gomap/go-ref/internal/rt"
)

// Large traces (format gomap-large/1, docs/trace-format.md section 10):
// maps grown to B = 16 and 17, where only large sizes reach map_noswiss.go's
// paths: advanceEvacuationMark's 1024-bucket scan limit (:1348), the
// sampled incrnoverflow (:227), the NaN X/Y choice of evacuate under an
// iterator (:1290) and mapiternext's checkBucket filter (:1000) over tens
// of thousands of unevacuated buckets.
//
// Half a million ops cannot each print a state, so a line covers a run of
// ops of one kind on one map and records, per op, only how the header
// changed beyond what the op implies (a token), how many draws the op took,
// and a digest of the results; the draws themselves are scripted
// (rt.ScriptedDraw), so a replayer recomputes them. Full-state digests are
// taken when a growth starts or ends, at checkpoints and at the end.

// lineCap bounds the ops of one line, so a result digest localises a
// divergence to at most this many ops.
const lineCap = 4096

type lhdr struct {
	count     int
	flags     uint8
	B         uint8
	noverflow uint16
	hash0     uint32
	nevacuate uintptr
	clearseq  uint64
	old       bool
	nextov    int // -1: null
}

// lline is the line being built.
type lline struct {
	op     string
	m, it  int
	n0     uint64
	ops    int
	ids    []uint64
	toks   []string
	nres   int
	rfnv   uint64
	done   bool
	digest bool        // take a state digest when the line ends
	extra  func(j *jb) // op-specific fields before "ev"
	res    func(j *jb) // result, nil: none
}

type ltracer struct {
	k     kind
	rnd   *rt.Rand
	seed  uint64
	n     uint64
	w     *bufio.Writer
	maps  []any
	prev  []lhdr
	iters []*rt.Hiter
	cur   *lline
	line  jb
}

// ---- keys and elems by id ----

const lNaNEvery = 61

func (L *ltracer) isNaN(id uint64) bool {
	return L.k.name() == "f64" && id%lNaNEvery == lNaNEvery-1
}

// keyBytes: u64 as kU64.key; f64: every 61st id a NaN (two payloads in
// turn), else id*0.75+1.
func (L *ltracer) keyBytes(id uint64) []byte {
	switch L.k.name() {
	case "u64":
		return u64b(id*0x100000001B3 + 0x1234)
	case "f64":
		if L.isNaN(id) {
			if (id/lNaNEvery)%2 == 0 {
				return u64b(0x7ff8000000000001)
			}
			return u64b(f64NaNPayload)
		}
		return u64b(math.Float64bits(float64(id)*0.75 + 1))
	}
	fatalf("large traces support u64 and f64 keys")
	return nil
}

// elemBytes is the elem stored by op n.
func (L *ltracer) elemBytes(n uint64) []byte {
	if L.k.name() == "f64" {
		return u64b(n*0x165667B19E3779F9 + 5)
	}
	return u64b(n*0x9E3779B97F4A7C15 + 1)
}

// ---- header tokens ----

func (L *ltracer) hdrOf(m int) lhdr {
	v := L.view(m)
	h := v.h
	no, err := v.nextOverflow()
	if err != nil {
		fatalf("op %d: %v", L.n, err)
	}
	return lhdr{h.Count, h.Flags, h.B, h.Noverflow, h.Hash0, h.Nevacuate, h.ClearSeq, h.Oldbuckets != nil, no}
}

func (L *ltracer) view(m int) mapView {
	mt, h := rt.Eface(L.maps[m])
	return mapView{t: mt, h: h}
}

func sdelta(b []byte, c byte, d int64) []byte {
	b = append(b, c)
	return strconv.AppendInt(b, d, 10)
}

// token appends the changes from p to c that the op does not imply (it
// implies count += dcount), then the number of draws.
func token(b []byte, p, c lhdr, dcount int, draws int) []byte {
	if d := c.count - p.count; d != dcount {
		b = sdelta(b, 'c', int64(d))
	}
	if c.flags != p.flags {
		b = sdelta(b, 'f', int64(c.flags))
	}
	if c.B != p.B {
		b = sdelta(b, 'b', int64(c.B))
	}
	if c.noverflow != p.noverflow {
		b = sdelta(b, 'o', int64(c.noverflow)-int64(p.noverflow))
	}
	if c.hash0 != p.hash0 {
		b = sdelta(b, 'h', int64(c.hash0))
	}
	if c.nevacuate != p.nevacuate {
		b = sdelta(b, 'e', int64(c.nevacuate)-int64(p.nevacuate))
	}
	if c.clearseq != p.clearseq {
		b = sdelta(b, 's', int64(c.clearseq))
	}
	if c.old != p.old {
		v := int64(0)
		if c.old {
			v = 1
		}
		b = sdelta(b, 'g', v)
	}
	if c.nextov != p.nextov {
		switch {
		case c.nextov < 0:
			b = append(b, 'x', '-')
		case p.nextov < 0:
			b = sdelta(append(b, 'x'), '=', int64(c.nextov))
		default:
			b = sdelta(b, 'x', int64(c.nextov-p.nextov))
		}
	}
	if draws > 0 {
		b = sdelta(b, 'd', int64(draws))
	}
	return b
}

// encodeTokens joins one token per op with commas, writing a run of ops
// with empty tokens as ~N and a run of tokens that are just e1..e9 (the
// usual op during a growth) as their digits.
func encodeTokens(toks []string) []byte {
	var out, digits []byte
	quiet := 0
	item := func(b []byte) {
		if len(out) > 0 {
			out = append(out, ',')
		}
		out = append(out, b...)
	}
	end := func() {
		if quiet > 0 {
			item(sdelta(nil, '~', int64(quiet)))
			quiet = 0
		}
		if len(digits) > 0 {
			item(digits)
			digits = nil
		}
	}
	for _, t := range toks {
		switch {
		case t == "":
			if len(digits) > 0 {
				end()
			}
			quiet++
		case len(t) == 2 && t[0] == 'e' && t[1] >= '1' && t[1] <= '9':
			if quiet > 0 {
				end()
			}
			digits = append(digits, t[1])
		default:
			end()
			item([]byte(t))
		}
	}
	end()
	return out
}

// ---- running ops ----

// exec runs one Go statement with op n's scripted draws loaded and returns
// how many it took.
func (L *ltracer) exec(f func()) int {
	if err := L.rnd.Script(L.seed, L.n); err != nil {
		fatalf("op %d: %v", L.n, err)
	}
	f()
	d, err := L.rnd.ScriptUsed()
	if err != nil {
		fatalf("op %d: %v", L.n, err)
	}
	L.n++
	return d
}

// begin makes the open line one of op on map m (iterator it), ending the
// open one if it is of another kind or full.
func (L *ltracer) begin(op string, m, it int) *lline {
	if c := L.cur; c != nil && (c.op != op || c.m != m || c.it != it || c.ops >= lineCap) {
		L.flush()
	}
	if L.cur == nil {
		L.cur = &lline{op: op, m: m, it: it, n0: L.n, rfnv: fnvBasis}
	}
	return L.cur
}

const fnvBasis = 0xcbf29ce484222325

func fnvAdd(h uint64, b []byte) uint64 {
	for _, c := range b {
		h ^= uint64(c)
		h *= 0x100000001b3
	}
	return h
}

// after records the op just run on the open line: its header token. A
// growth starting or ending, a reseed or a clear ends the line with a state
// digest; a flags change ends it without one.
func (L *ltracer) after(dcount, draws int) {
	c := L.cur
	m := c.m
	h := L.hdrOf(m)
	p := L.prev[m]
	L.prev[m] = h
	c.ops++
	c.toks = append(c.toks, string(token(nil, p, h, dcount, draws)))
	if h.B != p.B || h.old != p.old || h.hash0 != p.hash0 || h.clearseq != p.clearseq {
		c.digest = true
		L.flush()
	} else if h.flags != p.flags {
		L.flush()
	}
}

func (L *ltracer) flush() {
	c := L.cur
	if c == nil {
		return
	}
	L.cur = nil
	j := &L.line
	j.reset()
	j.raw(`{"n":`)
	j.u(c.n0)
	j.raw(`,"op":`)
	j.q(c.op)
	j.raw(`,"map":`)
	j.i(c.m)
	if c.it >= 0 {
		j.raw(`,"it":`)
		j.i(c.it)
	}
	if c.extra != nil {
		c.extra(j)
	}
	j.raw(`,"ops":`)
	j.i(c.ops)
	if len(c.ids) > 0 {
		seq := true
		for i := range c.ids {
			seq = seq && c.ids[i] == c.ids[0]+uint64(i)
		}
		if seq {
			j.raw(`,"k0":`)
			j.u(c.ids[0])
		} else {
			j.raw(`,"ks":[`)
			for i, id := range c.ids {
				if i > 0 {
					j.comma()
				}
				j.u(id)
			}
			j.raw("]")
		}
	}
	j.raw(`,"ev":`)
	j.q(string(encodeTokens(c.toks)))
	if c.res != nil {
		j.raw(`,"res":`)
		c.res(j)
	}
	if c.digest {
		L.state(j, c.m, true)
	}
	j.raw("}\n")
	if _, err := L.w.Write(j.b); err != nil {
		fatalf("write: %v", err)
	}
}

// state appends "hdr":{...},"sum":[buckets,oldbuckets] for map m (after a
// comma when comma is set), after checking the map's structure.
func (L *ltracer) state(j *jb, m int, comma bool) {
	v := L.view(m)
	if err := lverify(v); err != nil {
		fatalf("op %d map %d: %v", L.n, m, err)
	}
	if comma {
		j.comma()
	}
	j.raw(`"hdr":`)
	if err := v.encHdr(j); err != nil {
		fatalf("%v", err)
	}
	b, o := digest(v)
	j.raw(`,"sum":[`)
	j.q(fmt.Sprintf("%016x", b))
	j.comma()
	j.q(fmt.Sprintf("%016x", o))
	j.raw("]")
}

// digest is FNV-1a 64 of each array's binary form: per chain, per bucket,
// a tag ('M' main, 'P' + u32 LE index for a preallocated overflow bucket,
// 'H' heap), then the bucket's tophash, key and elem bytes (inline slots
// only: the large traces use 8-byte keys and elems).
func digest(v mapView) (uint64, uint64) {
	arr := func(base unsafe.Pointer, b uint8) uint64 {
		h := uint64(fnvBasis)
		if base == nil {
			return h
		}
		bs := v.bs()
		narr := rt.ArrayLen(v.t, b)
		data := rt.DataOffset + rt.BucketCnt*uintptr(v.t.KeySize) + rt.BucketCnt*uintptr(v.t.ValueSize)
		for i := uintptr(0); i < uintptr(1)<<b; i++ {
			bk := unsafe.Add(base, i*bs)
			for first := true; bk != nil; first = false {
				off := uintptr(bk) - uintptr(base)
				switch {
				case first:
					h = fnvAdd(h, []byte{'M'})
				case uintptr(bk) >= uintptr(base) && off < narr*bs:
					h = fnvAdd(h, []byte{'P', byte(off / bs), byte(off / bs >> 8), byte(off / bs >> 16), byte(off / bs >> 24)})
				default:
					h = fnvAdd(h, []byte{'H'})
				}
				h = fnvAdd(h, mem(bk, data))
				bk = v.ovf(bk)
			}
		}
		return h
	}
	bd := arr(v.h.Buckets, v.h.B)
	var od uint64 = fnvBasis
	if v.h.Oldbuckets != nil {
		od = arr(v.h.Oldbuckets, v.oldB())
	}
	return bd, od
}

// lverify is mapView.verify without its B < 16 limit: live slots sit where
// their hash says, and count matches.
func lverify(v mapView) error {
	h, t := v.h, v.t
	if h.Flags&rt.FlWriting != 0 {
		return fmt.Errorf("hashWriting flag set after the operation")
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
				continue
			}
			for bk := first; bk != nil; bk = v.ovf(bk) {
				th := (*[8]uint8)(bk)
				for s := 0; s < 8; s++ {
					if th[s] < rt.MinTopHash {
						continue
					}
					live++
					k := v.keyAt(bk, s)
					if !t.Key.Equal(k, k) {
						continue
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

// ---- operations ----

func (L *ltracer) mk(hint int) int {
	L.flush()
	var m any
	f := L.k.makeOp(hint, &m)
	id := len(L.maps)
	c := &lline{op: "make", m: id, it: -1, n0: L.n, rfnv: fnvBasis,
		extra: func(j *jb) { j.raw(`,"hint":`); j.i(hint) }}
	d := L.exec(f)
	L.maps = append(L.maps, m)
	L.prev = append(L.prev, lhdr{nextov: -1})
	L.cur = c
	L.after(0, d)
	L.flush()
	return id
}

func (L *ltracer) ins(m int, id uint64) {
	c := L.begin("ins", m, -1)
	f := L.k.assignOp(L.maps[m], L.keyBytes(id), L.elemBytes(L.n))
	c.ids = append(c.ids, id)
	L.after(1, L.exec(f))
}

func (L *ltracer) del(m int, id uint64) {
	c := L.begin("del", m, -1)
	f := L.k.deleteOp(L.maps[m], L.keyBytes(id))
	c.ids = append(c.ids, id)
	L.after(-1, L.exec(f))
}

func (L *ltracer) get(m int, id uint64) {
	c := L.begin("get", m, -1)
	var ok bool
	var vb []byte
	f := L.k.getOp(L.maps[m], L.keyBytes(id), &ok, &vb)
	c.ids = append(c.ids, id)
	d := L.exec(f)
	if ok {
		c.nres++
		c.rfnv = fnvAdd(c.rfnv, []byte{1})
	} else {
		c.rfnv = fnvAdd(c.rfnv, []byte{0})
	}
	c.rfnv = fnvAdd(c.rfnv, vb)
	c.res = func(j *jb) {
		j.raw(`{"hits":`)
		j.i(c.nres)
		j.raw(`,"fnv":`)
		j.q(fmt.Sprintf("%016x", c.rfnv))
		j.raw("}")
	}
	L.after(0, d)
}

func (L *ltracer) iterinit(m int) int {
	L.flush()
	it := new(rt.Hiter)
	id := len(L.iters)
	L.iters = append(L.iters, it)
	mt, h := rt.Eface(L.maps[m])
	c := &lline{op: "iterinit", m: m, it: id, n0: L.n, rfnv: fnvBasis}
	d := L.exec(func() { rt.IterInit(mt, h, it) })
	v := L.view(m)
	c.res = func(j *jb) {
		if it.Key == nil {
			j.raw("null")
			return
		}
		j.raw(`{"k":`)
		encVal(j, it.Key, v.t.Key.Size_, false)
		j.raw(`,"v":`)
		encVal(j, it.Elem, v.t.Elem.Size_, false)
		j.raw(`,"start":[`)
		j.u(uint64(it.StartBucket))
		j.comma()
		j.u(uint64(it.Offset))
		j.raw("]}")
	}
	L.cur = c
	L.after(0, d)
	L.flush()
	return id
}

// iterSteps advances iterator id up to max times; false once it is done.
func (L *ltracer) iterSteps(id, max int) bool {
	it := L.iters[id]
	if it.Key == nil {
		return false
	}
	for s := 0; s < max; s++ {
		m := L.mapOfIter(id)
		c := L.begin("iter", m, id)
		d := L.exec(func() { rt.IterNext(it) })
		if it.Key != nil {
			v := L.view(m)
			c.nres++
			c.rfnv = fnvAdd(c.rfnv, mem(it.Key, v.t.Key.Size_))
			c.rfnv = fnvAdd(c.rfnv, mem(it.Elem, v.t.Elem.Size_))
		} else {
			c.done = true
		}
		c.res = func(j *jb) {
			j.raw(`{"n":`)
			j.i(c.nres)
			j.raw(`,"fnv":`)
			j.q(fmt.Sprintf("%016x", c.rfnv))
			j.raw(`,"done":`)
			j.boolv(c.done)
			j.raw("}")
		}
		L.after(0, d)
		if it.Key == nil {
			L.flush()
			return false
		}
	}
	return true
}

func (L *ltracer) mapOfIter(id int) int {
	h := L.iters[id].H
	for m := range L.maps {
		if _, mh := rt.Eface(L.maps[m]); mh == h {
			return m
		}
	}
	fatalf("iterator %d on an unknown map", id)
	return 0
}

func (L *ltracer) iterend(id int) {
	L.flush()
	m := L.mapOfIter(id)
	c := &lline{op: "iterend", m: m, it: id, n0: L.n, rfnv: fnvBasis}
	d := L.exec(func() {})
	*L.iters[id] = rt.Hiter{}
	L.cur = c
	L.after(0, d)
	L.flush()
}

// checkpoint ends the open line with a state digest.
func (L *ltracer) checkpoint() {
	if L.cur != nil {
		L.cur.digest = true
	}
	L.flush()
}

func (L *ltracer) final() {
	L.flush()
	j := &L.line
	j.reset()
	j.raw(`{"n":`)
	j.u(L.n)
	j.raw(`,"op":"final","maps":{`)
	for m := range L.maps {
		if m > 0 {
			j.comma()
		}
		j.q(strconv.Itoa(m))
		j.raw(`:{`)
		L.state(j, m, false)
		j.raw("}")
	}
	j.raw("}}\n")
	if _, err := L.w.Write(j.b); err != nil {
		fatalf("write: %v", err)
	}
}

// ---- the scenario ----

// hashOf is the map's hash of key id (generation-time helper, outside any
// traced op).
func (L *ltracer) hashOf(m int, id uint64) uintptr {
	v := L.view(m)
	b := L.keyBytes(id)
	return v.t.Hasher(unsafe.Pointer(unsafe.SliceData(b)), uintptr(v.h.Hash0))
}

// evacRun lines up, during a doubling, D inserts of new keys whose old
// buckets are nevacuate+D, +D+1, ...: each op also evacuates h.nevacuate,
// so when the mark reaches the run, D > 1024 buckets ahead of it are
// already evacuated and advanceEvacuationMark's scan stops at its limit.
func (L *ltracer) evacRun(m, D int, next *uint64) {
	v := L.view(m)
	oldB := v.oldB()
	mask := uintptr(1)<<oldB - 1
	s := v.h.Nevacuate + uintptr(D)
	if s+uintptr(D) > mask+1 {
		fatalf("evacRun: old array too small")
	}
	pick := make([]uint64, D)
	found := 0
	for found < D {
		id := *next
		*next++
		if L.isNaN(id) {
			continue
		}
		b := L.hashOf(m, id) & mask
		if b >= s && b < s+uintptr(D) && pick[b-s] == 0 {
			pick[b-s] = id
			found++
		}
	}
	for _, id := range pick {
		L.ins(m, id)
	}
}

func largeCapacity(B uint8) int { return 13 * (1 << B) / 2 }

// scLarge grows one map to 2^maxB buckets. At each doubling from B=14 on:
// an iterator started shortly before it (oldIterator path), one started
// right after it began (checkBucket path; for f64 it also sets the iterator
// flag, so NaN entries are evacuated by their tophash's low bit), both
// stepped between inserts while the growth runs and then to their end; for
// old B >= 15 an evacuation run longer than the 1024-bucket scan limit.
// Then inserts at B = maxB (sampled incrnoverflow), lookups and deletes.
func scLarge(L *ltracer, maxB uint8) {
	m := L.mk(0)
	next := uint64(1)
	far := uint64(1) << 40 // ids for evacRun, never met by next
	fresh := func() uint64 { next++; return next - 1 }
	h := L.view(m).h
	for !(h.B >= 14 && h.Oldbuckets == nil) {
		L.ins(m, fresh())
	}
	for h.B < maxB {
		B := h.B
		for h.Count < largeCapacity(B)-3000 {
			L.ins(m, fresh())
		}
		itA := L.iterinit(m)
		L.iterSteps(itA, 2000)
		for h.Oldbuckets == nil {
			L.ins(m, fresh())
		}
		itB := L.iterinit(m)
		if B >= 15 {
			L.evacRun(m, 1500, &far)
		}
		aLive, bLive := true, true
		for h.Oldbuckets != nil {
			for j := 0; j < 256 && h.Oldbuckets != nil; j++ {
				L.ins(m, fresh())
			}
			if aLive {
				aLive = L.iterSteps(itA, 1000)
			}
			if bLive {
				bLive = L.iterSteps(itB, 1500)
			}
		}
		L.checkpoint()
		for aLive {
			aLive = L.iterSteps(itA, lineCap)
		}
		for bLive {
			bLive = L.iterSteps(itB, lineCap)
		}
		L.iterend(itA)
		L.iterend(itB)
	}
	for j := 0; j < 20000; j++ {
		L.ins(m, fresh())
	}
	L.checkpoint()
	for id := next - 4000; id < next+4000; id++ { // half present
		L.get(m, id)
	}
	for id := uint64(1000); id < 5000; id++ { // NaN ids delete nothing
		L.del(m, id)
	}
	L.final()
}

func runLarge(rnd *rt.Rand, hash, typ, scen string, seed uint64, out string) {
	k := kindByName(typ)
	if k == nil || (typ != "u64" && typ != "f64") {
		fatalf("large traces: -type u64 or f64")
	}
	var maxB uint8
	switch scen {
	case "b16":
		maxB = 16
	case "b17":
		maxB = 17
	default:
		fatalf("unknown large scenario %q (b16, b17)", scen)
	}
	// No GC cycle may start during a traced op: starting its workers can
	// create Ms, and each new M takes a draw from this M's generator
	// (see rt.Script). The trace's maps and garbage stay below 300 MB.
	debug.SetGCPercent(-1)
	f := os.Stdout
	if out != "-" {
		var err error
		if f, err = os.Create(out); err != nil {
			fatalf("%v", err)
		}
	}
	w := bufio.NewWriterSize(f, 1<<20)
	L := &ltracer{k: k, rnd: rnd, seed: seed, w: w}
	mt, _ := rt.Eface(k.zero())
	if err := rt.CheckMapType(mt, k.keySize(), k.elemSize()); err != nil {
		fatalf("%v", err)
	}
	j := &L.line
	j.raw(`{"format":"gomap-large/1","go":`)
	j.q(rt.GoVersion)
	j.raw(`,"key":`)
	j.q(k.name())
	j.raw(`,"elem":`)
	j.q(k.elemName())
	j.raw(`,"keysize":`)
	j.u(uint64(mt.KeySize))
	j.raw(`,"valuesize":`)
	j.u(uint64(mt.ValueSize))
	j.raw(`,"bucketsize":`)
	j.u(uint64(mt.BucketSize))
	j.raw(`,"flags":`)
	j.u(uint64(mt.Flags))
	j.raw(`,"hash":`)
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
	j.raw(`],"rand":"scripted","scenario":`)
	j.q(scen)
	j.raw(`,"seed":`)
	j.u(seed)
	j.raw("}\n")
	if _, err := w.Write(j.b); err != nil {
		fatalf("%v", err)
	}
	scLarge(L, maxB)
	if err := w.Flush(); err != nil {
		fatalf("%v", err)
	}
	if f != os.Stdout {
		if err := f.Close(); err != nil {
			fatalf("%v", err)
		}
	}
}
