//go:build !goexperiment.swissmap

package main

import (
	"bytes"
	"sort"
	"unsafe"
)

// ---------------------------------------------------------------------------
// Model: what each map should contain, used to pick keys and to cross-check
// lookups and lengths (a mismatch means the oracle itself is broken).

type entry struct{ canon, kid, vid int }

type model struct {
	live []entry // ordinary keys, in insertion order
	nans []entry // NaN keys: present but unreachable
}

func (m *model) find(c int) int {
	for i, e := range m.live {
		if e.canon == c {
			return i
		}
	}
	return -1
}

func (m *model) clone() *model {
	return &model{live: append([]entry(nil), m.live...), nans: append([]entry(nil), m.nans...)}
}

// errBudget unwinds a scenario once its op budget is used up.
type errBudget struct{}

type sc struct {
	t       *tracer
	k       kind
	rng     uint64
	ops     int // total op lines, including the final check
	models  []*model
	nextKey int
	nextVal int
	live    []int // iterator ids not yet ended
}

func (s *sc) spend() {
	if s.t.n >= s.ops-1 {
		panic(errBudget{})
	}
}

func (s *sc) rand() uint64 { return splitmix(&s.rng) }
func (s *sc) r(n int) int {
	if n <= 0 {
		return 0
	}
	return int(s.rand() % uint64(n))
}
func (s *sc) chance(p float64) bool { return float64(s.rand()>>11)/(1<<53) < p }

func (s *sc) val() int { s.nextVal++; return s.nextVal }

// fresh returns a key id never used before (ordinary keys only).
func (s *sc) fresh() int {
	if s.k.maxKeys() == 1 {
		return s.k.normalKey(0)
	}
	s.nextKey++
	return s.k.normalKey(s.nextKey - 1)
}

// special returns an edge-case key id, or -1 when the type has none.
func (s *sc) special() int {
	sp := s.k.specialKeys()
	if len(sp) == 0 {
		return -1
	}
	return sp[s.r(len(sp))]
}

// liveKey returns a present ordinary key of map m, or -1.
func (s *sc) liveKey(m int) int {
	md := s.models[m]
	if len(md.live) == 0 {
		return -1
	}
	return md.live[s.r(len(md.live))].kid
}

// bucketOf is the main bucket ordinary key k hashes to in map m now
// (generation-time helper: it calls the map's hasher outside any traced op).
func (s *sc) bucketOf(m, k int) int {
	v := s.t.view(m)
	var p unsafe.Pointer
	if sk, ok := s.k.(structuredKey); ok {
		p = sk.keyPtr(s.k.keyBytes(k))
	} else if s.k.isString() {
		str := string(s.k.keyBytes(k))
		p = unsafe.Pointer(&str)
	} else {
		b := append(make([]byte, 0, 256), s.k.keyBytes(k)...)
		p = unsafe.Pointer(unsafe.SliceData(b))
	}
	return int(v.t.Hasher(p, uintptr(v.h.Hash0)) & (uintptr(1)<<v.h.B - 1))
}

// chainLens is the number of buckets in each chain of m's current array.
func (s *sc) chainLens(m int) []int {
	v := s.t.view(m)
	n := 1 << v.h.B
	out := make([]int, n)
	if v.h.Buckets == nil {
		return out
	}
	for i := 0; i < n; i++ {
		for b := unsafe.Add(v.h.Buckets, uintptr(i)*v.bs()); b != nil; b = v.ovf(b) {
			out[i]++
		}
	}
	return out
}

// spreadKey picks a present key to delete so that load moves away from
// chains that already have overflow buckets: new keys then fill the other
// chains until they overflow too, which drives tooManyOverflowBuckets.
func (s *sc) spreadKey(m int) int {
	lens := s.chainLens(m)
	var cand []int
	for _, e := range s.models[m].live {
		if lens[s.bucketOf(m, e.kid)] > 1 {
			cand = append(cand, e.kid)
		}
	}
	if len(cand) == 0 || s.chance(0.2) {
		return s.liveKey(m)
	}
	return cand[s.r(len(cand))]
}

// someKey: a present key with probability pHit, else a fresh one; now and
// then an edge-case key.
func (s *sc) someKey(m int, pHit, pSpecial float64) int {
	if b, ok := s.k.(interface{ boostSpecials() bool }); (ok && b.boostSpecials()) || s.k.name() == "f64" || s.k.name() == "comp" {
		pSpecial *= 2.5
	}
	if s.chance(pSpecial) {
		if k := s.special(); k >= 0 {
			return k
		}
	}
	if s.chance(pHit) {
		if k := s.liveKey(m); k >= 0 {
			return k
		}
	}
	return s.fresh()
}

func (s *sc) hdr(m int) (count int, B uint8, growing, sameSize bool) {
	h := s.t.view(m).h
	return h.Count, h.B, h.Oldbuckets != nil, h.Flags&8 != 0
}

func (s *sc) count(m int) int { c, _, _, _ := s.hdr(m); return c }
func (s *sc) B(m int) uint8   { _, b, _, _ := s.hdr(m); return b }
func (s *sc) growing(m int) bool {
	_, _, g, _ := s.hdr(m)
	return g
}

// capacity is the largest count 1<<B buckets hold without a load-factor grow.
func capacity(B uint8) int {
	if B == 0 {
		return 8
	}
	return 13 * (1 << B) / 2
}

// ---- traced operations with model upkeep ----

func (s *sc) mk(hint int) int {
	s.spend()
	id := s.t.opMake(hint)
	s.models = append(s.models, &model{})
	return id
}

func (s *sc) assign(m, k int) {
	s.spend()
	v := s.val()
	s.t.opAssign(m, s.k.keyBytes(k), s.k.elemBytes(v))
	md := s.models[m]
	c := s.k.canon(k)
	if c < 0 {
		md.nans = append(md.nans, entry{c, k, v})
	} else if i := md.find(c); i >= 0 {
		md.live[i].vid = v
		md.live[i].kid = k
	} else {
		md.live = append(md.live, entry{c, k, v})
	}
	s.check(m)
}

func (s *sc) del(m, k int) {
	s.spend()
	s.t.opDelete(m, s.k.keyBytes(k))
	md := s.models[m]
	if c := s.k.canon(k); c >= 0 {
		if i := md.find(c); i >= 0 {
			md.live = append(md.live[:i], md.live[i+1:]...)
		}
	}
	s.check(m)
}

func (s *sc) get(m, k int) {
	s.spend()
	ok, vb := s.t.opGet(m, s.k.keyBytes(k))
	md := s.models[m]
	wantOK, want := false, make([]byte, len(s.k.elemBytes(0)))
	if c := s.k.canon(k); c >= 0 {
		if i := md.find(c); i >= 0 {
			wantOK, want = true, s.k.elemBytes(md.live[i].vid)
		}
	}
	if ok != wantOK || !bytes.Equal(vb, want) {
		fatalf("op %d: get result disagrees with the model", s.t.n-1)
	}
}

func (s *sc) clr(m int) {
	s.spend()
	s.t.opClear(m)
	s.models[m] = &model{}
	s.check(m)
}

func (s *sc) clone(m int) int {
	s.spend()
	id := s.t.opClone(m)
	s.models = append(s.models, s.models[m].clone())
	s.check(id)
	return id
}

func (s *sc) length(m int) {
	s.spend()
	s.t.opLen(m)
}

func (s *sc) check(m int) {
	md := s.models[m]
	if got := s.count(m); got != len(md.live)+len(md.nans) {
		fatalf("op %d: map %d count %d, model %d", s.t.n-1, m, got, len(md.live)+len(md.nans))
	}
}

func (s *sc) itInit(m int) int {
	s.spend()
	id := s.t.opIterInit(m)
	s.live = append(s.live, id)
	return id
}

// itNext steps iterator id unless it already finished; false at the end.
func (s *sc) itNext(id int) bool {
	if s.t.iters[id].done {
		return false
	}
	s.spend()
	return s.t.opIterNext(id)
}

// itKey is the key id of the entry iterator id returned last, or -1.
func (s *sc) itKey(id int) int {
	it := s.t.iters[id]
	if it.done || it.it.Key == nil {
		return -1
	}
	v := s.t.view(it.m)
	var got []byte
	if v.enc != nil {
		got = v.enc(it.it.Key)
	} else if v.isStr {
		got = []byte(*(*string)(it.it.Key))
	} else {
		got = append([]byte(nil), mem(it.it.Key, v.t.Key.Size_)...)
	}
	for _, e := range s.models[it.m].live {
		if bytes.Equal(s.k.keyBytes(e.kid), got) {
			return e.kid
		}
	}
	return -1
}

func (s *sc) itEnd(id int) {
	s.spend()
	s.t.opIterEnd(id)
	for i, x := range s.live {
		if x == id {
			s.live = append(s.live[:i], s.live[i+1:]...)
			break
		}
	}
}

func (s *sc) endAll() {
	ids := append([]int(nil), s.live...)
	sort.Ints(ids)
	for _, id := range ids {
		s.itEnd(id)
	}
}

// ---------------------------------------------------------------------------
// Scenarios. Each runs until the op budget is used up.

// (A slice, not a Go map: maps built before main installs the test hash
// keys would be looked up with different keys afterwards.)
var scenarios = []struct {
	name string
	fn   func(s *sc)
}{
	{"grow", scGrow},
	{"samesize", scSameSize},
	{"iter", scIter},
	{"clear", scClear},
	{"clone", scClone},
	{"mixed", scMixed},
	{"clonesmall", scCloneSmall},
}

// canGrow is false for types with a single possible key (zst).
func (s *sc) canGrow() bool { return s.k.maxKeys() == 0 }

// grow: inserts through several doubling growths, with lookups, updates,
// some deletes, and a second map made with a size hint (B >= 4, so its
// bucket array carries preallocated overflow buckets).
func scGrow(s *sc) {
	m := s.mk(0)
	m1 := -1
	for step := 0; ; step++ {
		if m1 < 0 && step >= s.ops/4 {
			m1 = s.mk(100)
		}
		tgt := m
		if m1 >= 0 && s.chance(0.25) {
			tgt = m1
		}
		switch x := s.r(100); {
		case x < 75:
			s.assign(tgt, s.someKey(tgt, 0.1, 0.04))
		case x < 87:
			s.get(tgt, s.someKey(tgt, 0.6, 0.05))
		case x < 90:
			s.length(tgt)
		default:
			if k := s.someKey(tgt, 0.9, 0.05); k >= 0 {
				s.del(tgt, k)
			}
		}
	}
}

// samesize: keep a map at its load-factor limit and churn (delete a present
// key, insert a new one) until overflow buckets pile up and trigger same-size
// growth (tooManyOverflowBuckets); lookups and an iterator run during those
// growths; after the first one, delete most keys and refill with new ones.
func scSameSize(s *sc) {
	targetB := uint8(3)
	if s.ops < 700 {
		targetB = 2
	}
	if s.k.keySize() > 100 {
		targetB = 2 // big keys: keep the trace small
	}
	m := s.mk(0)
	limit := capacity(targetB)
	for s.count(m) < limit {
		s.assign(m, s.fresh())
	}
	it := -1
	sameSeen, purged := 0, false
	wasSame := false
	for {
		_, _, growing, same := s.hdr(m)
		if same && !wasSame {
			sameSeen++
		}
		wasSame = same
		if sameSeen >= 1 && !growing && !purged {
			purged = true
			n := len(s.models[m].live) * 3 / 4
			for i := 0; i < n; i++ {
				s.del(m, s.liveKey(m))
			}
			for s.count(m) < limit {
				s.assign(m, s.fresh())
			}
			continue
		}
		limit = capacity(s.B(m))
		if same && it < 0 && s.chance(0.3) {
			it = s.itInit(m)
		}
		if it >= 0 && s.chance(0.4) {
			if !s.itNext(it) {
				s.itEnd(it)
				it = -1
			}
			continue
		}
		switch x := s.r(100); {
		case x < 10:
			s.get(m, s.someKey(m, 0.7, 0.05))
		case x < 13:
			s.length(m)
		default:
			if s.count(m) >= limit {
				if k := s.spreadKey(m); k >= 0 {
					s.del(m, k)
				}
			}
			if s.chance(0.03) {
				if k := s.special(); k >= 0 {
					s.assign(m, k)
					continue
				}
			}
			s.assign(m, s.fresh())
		}
	}
}

// iter: iterators started before and during growth, stepped between inserts
// and deletes, and iterated to the end; then a full iteration that deletes
// returned keys and inserts new ones (which may start a growth under it).
func scIter(s *sc) {
	m := s.mk(0)
	e := s.itInit(m) // empty map: no draw, immediately at the end
	s.itEnd(e)
	for cycle := 0; ; cycle++ {
		_, B, _, _ := s.hdr(m)
		for s.count(m) < capacity(B) && (s.canGrow() || s.count(m) == 0) {
			s.assign(m, s.someKey(m, 0, 0.06))
		}
		it0 := s.itInit(m)
		for i := 0; i < 2+s.r(3); i++ {
			s.itNext(it0)
		}
		for i := 0; !s.growing(m) && (s.canGrow() || i < 3); i++ {
			s.assign(m, s.someKey(m, 0, 0.06))
			if s.chance(0.5) {
				s.itNext(it0)
			}
		}
		it1 := s.itInit(m)
		for i := 0; s.growing(m) || (!s.canGrow() && i < 6); i++ {
			switch x := s.r(100); {
			case x < 30:
				s.itNext(it1)
			case x < 50:
				s.itNext(it0)
			case x < 75:
				s.assign(m, s.someKey(m, 0.1, 0.06))
			case x < 90:
				k := s.itKey(it1)
				if k < 0 || s.chance(0.5) {
					k = s.liveKey(m)
				}
				if k >= 0 {
					s.del(m, k)
				}
			default:
				s.get(m, s.someKey(m, 0.7, 0.06))
			}
		}
		for i := 0; ; i++ {
			a, b := s.itNext(it0), s.itNext(it1)
			if !a && !b {
				break
			}
			if i%3 == 2 {
				s.assign(m, s.someKey(m, 0.2, 0.05))
			}
		}
		it2 := s.itInit(m)
		for i := 0; s.itNext(it2); i++ {
			if i%2 == 0 {
				if k := s.itKey(it2); k >= 0 {
					s.del(m, k)
				}
			}
			if i%4 == 3 {
				s.assign(m, s.fresh())
			}
		}
		s.endAll()
		s.length(m)
	}
}

// clear: clear on an empty map (no draw), clear during live iteration
// (before and during growth), continue the iterator, reinsert old and new
// keys, and clear a hinted map (B >= 4) so its preallocated overflow
// buckets are recovered.
func scClear(s *sc) {
	m := s.mk(0)
	s.clr(m)
	h := -1
	for cycle := 0; ; cycle++ {
		n := 10 + s.r(50)
		var old []int
		for i := 0; i < n; i++ {
			k := s.someKey(m, 0.1, 0.05)
			old = append(old, k)
			s.assign(m, k)
		}
		it := s.itInit(m)
		for i := 0; i < 3; i++ {
			s.itNext(it)
		}
		if cycle%2 == 1 {
			for s.canGrow() && !s.growing(m) {
				s.assign(m, s.fresh())
			}
			s.itNext(it)
		}
		s.clr(m)
		s.itNext(it)
		s.get(m, old[0])
		s.length(m)
		for i := 0; i < 6 && i < len(old); i++ {
			s.assign(m, old[s.r(len(old))])
		}
		for i := 0; i < 4; i++ {
			s.assign(m, s.fresh())
		}
		for s.itNext(it) {
		}
		s.endAll()
		if h < 0 {
			h = s.mk(100)
		}
		for i := 0; i < 60+s.r(60); i++ {
			s.assign(h, s.fresh())
		}
		s.clr(h)
		s.clr(h) // already empty: no draw
		s.assign(h, s.fresh())
		s.get(h, s.fresh())
	}
}

// clone: clone an empty map, a B=0 map, a map in the middle of a doubling
// growth, one in the middle of a same-size growth and a hinted map, then
// mutate originals and clones independently.
func scClone(s *sc) {
	m0 := s.mk(0)
	s.clone(m0)
	for i := 0; i < 5; i++ {
		s.assign(m0, s.someKey(m0, 0, 0.1))
	}
	c1 := s.clone(m0)
	s.assign(c1, s.fresh())
	s.assign(c1, s.fresh())
	if k := s.liveKey(m0); k >= 0 {
		s.del(m0, k)
	}
	drain := func(m int) {
		it := s.itInit(m)
		for s.itNext(it) {
		}
		s.itEnd(it)
	}
	drain(c1)
	if !s.canGrow() {
		scMixed(s)
		return
	}
	// Clone in the middle of a doubling growth with unevacuated old buckets
	// (B >= 3, cloned by the op right after the one that started growing):
	// runtime.mapclone2 re-inserts their entries with mapassign, which
	// hashes (and, for NaN keys, draws) again.
	for s.B(m0) < 2 || s.count(m0) < capacity(s.B(m0))-3 {
		s.assign(m0, s.someKey(m0, 0.05, 0.05))
	}
	for _, k := range s.k.specialKeys() {
		if s.k.canon(k) < 0 {
			s.assign(m0, k) // NaNs, to be re-inserted by the clone
		}
	}
	for !s.growing(m0) {
		s.assign(m0, s.fresh())
	}
	c2 := s.clone(m0)
	for i := 0; i < 12; i++ {
		s.assign(m0, s.fresh())
		s.assign(c2, s.someKey(c2, 0.3, 0.05))
		if k := s.liveKey(c2); k >= 0 && i%3 == 0 {
			s.del(c2, k)
		}
		s.get(m0, s.someKey(m0, 0.7, 0))
	}
	drain(c2)
	// same-size growth, then clone while it is in progress
	m3 := s.mk(0)
	limit := capacity(2)
	for tries := 0; ; tries++ {
		_, _, growing, same := s.hdr(m3)
		if growing && same {
			break
		}
		if s.count(m3) >= limit {
			s.del(m3, s.spreadKey(m3))
		}
		s.assign(m3, s.fresh())
	}
	c3 := s.clone(m3)
	s.assign(c3, s.fresh())
	s.assign(m3, s.fresh())
	drain(c3)
	m4 := s.mk(200)
	for i := 0; i < 40; i++ {
		s.assign(m4, s.fresh())
	}
	c4 := s.clone(m4)
	s.assign(c4, s.fresh())
	all := []int{m0, c1, c2, m3, c3, m4, c4}
	for {
		m := all[s.r(len(all))]
		switch x := s.r(100); {
		case x < 50:
			s.assign(m, s.someKey(m, 0.2, 0.05))
		case x < 70:
			if k := s.liveKey(m); k >= 0 {
				s.del(m, k)
			}
		case x < 90:
			s.get(m, s.someKey(m, 0.6, 0.05))
		case x < 95:
			if len(s.models) < 12 {
				all = append(all, s.clone(m))
			}
		default:
			drain(m)
		}
	}
}

// mixed: a seeded random mix of every operation over up to three made maps
// plus clones and up to four live iterators, with small key ranges so keys
// repeat (updates, hits, re-inserts after deletes).
func scMixed(s *sc) {
	var ranges []int
	pick := func() int {
		if s.chance(0.6) {
			return 0 // the primary map gets most traffic, so it grows
		}
		return s.r(len(s.models))
	}
	newMap := func(m int) {
		for len(ranges) <= m {
			ranges = append(ranges, []int{24, 96, 400, 2000}[s.r(4)])
		}
	}
	key := func(m int) int {
		if s.chance(0.05) {
			if k := s.special(); k >= 0 {
				return k
			}
		}
		return s.k.normalKey(s.r(ranges[m]))
	}
	newMap(s.mk(0))
	ranges[0] = 400
	for {
		var open []int
		for _, id := range s.live {
			if !s.t.iters[id].done {
				open = append(open, id)
			}
		}
		switch x := s.r(100); {
		case x < 42:
			m := pick()
			s.assign(m, key(m))
		case x < 52:
			m := pick()
			k := s.liveKey(m)
			if k < 0 || s.chance(0.3) {
				k = key(m)
			}
			s.del(m, k)
		case x < 64:
			m := pick()
			s.get(m, key(m))
		case x < 67:
			s.length(pick())
		case x < 68:
			s.clr(s.r(len(s.models)))
		case x < 71:
			if len(s.models) < 6 {
				src := pick()
				c := s.clone(src)
				newMap(c)
				ranges[c] = ranges[src]
			}
		case x < 72:
			if len(s.models) < 3 {
				newMap(s.mk([]int{0, 0, 7, 9, 60, 120}[s.r(6)]))
			}
		case x < 77:
			if len(s.live) < 4 {
				s.itInit(pick())
			}
		case x < 97:
			if len(open) > 0 {
				s.itNext(open[s.r(len(open))])
			}
		default:
			if len(s.live) > 0 {
				s.itEnd(s.live[s.r(len(s.live))])
			}
		}
	}
}

// clonesmall: clones of small maps with holes. Rounds cycle through B = 0
// (one bucket), 1, 0 and 2: fill (some edge-case keys included), let any
// growth finish, delete a third to a half of the entries (emptyOne and
// emptyRest slots), clone, iterate the clone to its end, then write to the
// clone and the original (new keys land in the first free slot, so the
// clone's layout shows), look keys up in both, and iterate both again.
// Every third round clones the clone as well.
func scCloneSmall(s *sc) {
	drain := func(m int) {
		it := s.itInit(m)
		for s.itNext(it) {
		}
		s.itEnd(it)
	}
	for round := 0; ; round++ {
		tB := []uint8{0, 1, 0, 2}[round%4]
		if !s.canGrow() {
			tB = 0
		}
		lo := []int{5, 9, 14}[tB] + s.r(3)
		m := s.mk(0)
		for s.canGrow() && (s.B(m) < tB || s.growing(m) || s.count(m) < lo) {
			s.assign(m, s.someKey(m, 0, 0.08))
		}
		if !s.canGrow() {
			s.assign(m, s.fresh())
		}
		nd := s.count(m)/3 + s.r(s.count(m)/6+1)
		if !s.canGrow() {
			nd = s.r(2)
		}
		for i := 0; i < nd; i++ {
			if k := s.liveKey(m); k >= 0 {
				s.del(m, k)
			}
		}
		if round%4 == 3 {
			s.length(m)
		}
		c := s.clone(m)
		drain(c)
		s.assign(c, s.fresh())
		s.assign(m, s.fresh())
		if k := s.special(); k >= 0 {
			s.assign(c, k) // ±0 variants rewrite a stored key; NaNs add one
		}
		if k := s.liveKey(c); k >= 0 {
			s.assign(c, k) // update in place
		}
		if k := s.liveKey(m); k >= 0 {
			s.del(m, k)
			s.get(c, k) // still in the clone
		}
		if k := s.liveKey(c); k >= 0 {
			s.del(c, k)
		}
		s.get(m, s.someKey(m, 0.7, 0.05))
		drain(c)
		drain(m)
		if round%3 == 2 {
			cc := s.clone(c)
			s.assign(cc, s.fresh())
			drain(cc)
		}
	}
}
