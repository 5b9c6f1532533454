//go:build !goexperiment.swissmap

package rt

import (
	"fmt"
	"runtime"
	"unsafe"
)

// Deterministic runtime randomness.
//
// Every draw a map operation makes goes through runtime.rand (runtime/rand.go:160),
// which reads the ChaCha8 state embedded in the current M (runtime2.go:619,
// m.chacha8, an internal/chacha8rand.State, chacha8.go:27). The oracle locks its
// goroutine to one OS thread (hence one M), finds that state once, and before
// every traced operation re-initialises it from a seed derived from the scenario
// seed and the operation index. Afterwards it replays the same generator on a
// private copy until the copy reaches the M's position again: the values
// produced on the way are exactly the draws the operation consumed, in order
// (hash0 reseeds, mapiterinit's start, one per NaN hash, ...).
//
// The window. The map is not the only caller of runtime.rand on that M: every
// new M is set up by mcommoninit (proc.go:942, called from allocm at :2278),
// whose mrandinit (rand.go:188) seeds the new M's cheaprand with one
// runtime.rand value taken from the M that creates it (rand.go:195), not
// from the new one. The oracle's M creates Ms whenever it runs scheduler code
// that finds no idle M for a P it hands off or wakes (startm, proc.go:2977,
// then newm, :2799, and allocm): starting a GC cycle from mallocgc
// (gcStart), being preempted while locked to its thread (schedule ->
// stoplockedm -> handoffp, proc.go:4051, :3192), stopping or starting the
// world. Any of these inside a traced operation slipped one foreign value
// into the operation's stream: the map's own draws shifted by one and the
// count grew by one. So the whole window, from seeding (Arm, Inject) to
// taking a copy of the generator state (Consumed, Injected), runs with the M
// acquired (m.locks > 0, runtime1.go:605): gcStart then declines to start a
// cycle (mgc.go:635), assists are skipped (mgcmark.go:427), neither
// synchronous (stack.go:1027) nor asynchronous (preempt.go:374) preemption
// takes the goroutine off the M, and schedule() would throw rather than run
// (proc.go:4046). The map statement runs to completion on the same M with no
// scheduler code of its own, so the generator moves for the map's draws
// only. The copy is taken before the M is released: the first allocation
// after the window may start the GC cycle that was held back, and the thread
// creation that comes with it must not be counted.

// chachaState mirrors internal/chacha8rand.State.
type chachaState struct {
	buf  [32]uint64
	seed [4]uint64
	i    uint32
	n    uint32
	c    uint32
}

//go:linkname chachaBlock internal/chacha8rand.block
func chachaBlock(seed *[4]uint64, blocks *[32]uint64, counter uint32)

//go:linkname rtRand runtime.rand
func rtRand() uint64

//go:linkname acquirem runtime.acquirem
func acquirem() unsafe.Pointer

//go:linkname releasem runtime.releasem
func releasem(mp unsafe.Pointer)

// Generator constants of chacha8rand (chacha8.go:12-17): 32 words per block,
// block counter steps by 4 up to 16, then the last 4 words become the new key.
const (
	chChunk  = 32
	chCtrInc = 4
	chCtrMax = 16
	chReseed = 4
)

func (s *chachaState) init64(seed [4]uint64) {
	s.seed = seed
	chachaBlock(&s.seed, &s.buf, 0)
	s.c, s.i, s.n = 0, 0, chChunk
}

func (s *chachaState) refill() {
	s.c += chCtrInc
	if s.c == chCtrMax {
		copy(s.seed[:], s.buf[chChunk-chReseed:])
		s.c = 0
	}
	chachaBlock(&s.seed, &s.buf, s.c)
	s.i, s.n = 0, chChunk
	if s.c == chCtrMax-chCtrInc {
		s.n = chChunk - chReseed
	}
}

func (s *chachaState) draw() uint64 {
	for s.i >= s.n {
		s.refill()
	}
	v := s.buf[s.i&31]
	s.i++
	return v
}

func (s *chachaState) samePos(o *chachaState) bool {
	return s.seed == o.seed && s.c == o.c && s.i == o.i && s.n == o.n
}

// Rand controls the runtime generator of the oracle's (locked) M.
type Rand struct {
	mp       unsafe.Pointer
	st       *chachaState
	seed     [4]uint64
	armed    bool
	injected int
	held     bool // the M is acquired: a window is open (enter .. leave)
}

// enter opens a window: acquires the oracle's M (no GC start, no preemption,
// no scheduling on it until leave) and checks it is the M whose generator
// was located.
func (r *Rand) enter() error {
	if r.held {
		return fmt.Errorf("rand window opened twice")
	}
	mp := acquirem()
	if mp != r.mp {
		releasem(mp)
		return fmt.Errorf("oracle goroutine moved to another M")
	}
	r.held = true
	return nil
}

// leave closes the window: it copies the generator state while the M is
// still held, then releases the M, and returns the copy.
func (r *Rand) leave() chachaState {
	end := *r.st
	if r.held {
		r.held = false
		releasem(r.mp)
	}
	return end
}

// LockRand pins the calling goroutine to its OS thread, locates that M's
// ChaCha8 state and verifies that seeding it makes runtime.rand predictable.
// It must be called from the goroutine that performs all traced operations.
func LockRand() (*Rand, error) {
	runtime.LockOSThread()
	// Held while searching, so that no thread creation can draw between
	// the probe and the search (see "The window" above).
	mp := acquirem()
	// runtime.rand returns buf[i] and bumps i; find the word it returned
	// inside the M, then the State whose i counter matches that slot.
	x := rtRand()
	var st *chachaState
	// uint64 is 8-aligned on 64-bit, 4-aligned on 386 and arm.
	step := unsafe.Alignof(x)
	for o := uintptr(0); o < 8192 && st == nil; o += step {
		if *(*uint64)(unsafe.Add(mp, o)) != x {
			continue
		}
		for k := uintptr(0); k < 32 && k*8 <= o; k++ {
			c := (*chachaState)(unsafe.Add(mp, o-8*k))
			if c.i == uint32(k+1) && (c.n == chChunk || c.n == chChunk-chReseed) && c.c%chCtrInc == 0 && c.c < chCtrMax {
				st = c
				break
			}
		}
	}
	releasem(mp)
	if st == nil {
		return nil, fmt.Errorf("could not locate the M's chacha8 state")
	}
	r := &Rand{mp: mp, st: st}
	// Self-test: a seeded state must produce exactly the replica's values,
	// across a refill boundary.
	r.Arm([4]uint64{1, 2, 3, 4})
	var got [40]uint64
	for i := range got {
		got[i] = rtRand()
	}
	d, err := r.Consumed()
	if err != nil {
		return nil, err
	}
	if len(d) != len(got) {
		return nil, fmt.Errorf("rand self-test: replica counted %d draws, made %d", len(d), len(got))
	}
	for i := range got {
		if d[i] != got[i] {
			return nil, fmt.Errorf("rand self-test: draw %d differs", i)
		}
	}
	return r, nil
}

// Arm opens a window and re-initialises the M's generator with seed. Call it
// immediately before the traced Go statement and Consumed immediately after;
// the statement must not block, panic or call into the scheduler.
func (r *Rand) Arm(seed [4]uint64) {
	if err := r.enter(); err != nil {
		panic(err)
	}
	r.seed = seed
	r.st.init64(seed)
	r.armed = true
}

// Consumed closes the window and returns every value runtime.rand produced
// since Arm.
func (r *Rand) Consumed() ([]uint64, error) {
	end := r.leave()
	if !r.armed {
		return nil, fmt.Errorf("Consumed without Arm")
	}
	r.armed = false
	var rep chachaState
	rep.init64(r.seed)
	draws := []uint64{}
	for !rep.samePos(&end) {
		if len(draws) > 1<<16 {
			return nil, fmt.Errorf("could not match the M's generator position")
		}
		draws = append(draws, rep.draw())
	}
	return draws, nil
}

// Inject opens a window and loads the M's generator with exactly the given
// values, to replay a recorded operation: runtime.rand returns them in order.
// An operation that asks for more would make the runtime refill the block;
// Injected, which closes the window, detects it.
func (r *Rand) Inject(draws []uint64) error {
	if len(draws) > chChunk {
		return fmt.Errorf("cannot inject %d draws (at most %d per op)", len(draws), chChunk)
	}
	if err := r.enter(); err != nil {
		return err
	}
	r.st.seed = [4]uint64{}
	r.st.buf = [32]uint64{}
	copy(r.st.buf[:], draws)
	r.st.c, r.st.i, r.st.n = 0, 0, uint32(len(draws))
	r.injected = len(draws)
	return nil
}

// Injected checks that the operation consumed exactly the injected draws.
func (r *Rand) Injected() error {
	end := r.leave()
	if end.c != 0 || end.i != uint32(r.injected) || end.n != uint32(r.injected) {
		return fmt.Errorf("operation used a different number of draws than recorded (%d recorded; generator at i=%d c=%d)", r.injected, end.i, end.c)
	}
	return nil
}
