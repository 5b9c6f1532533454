//go:build !goexperiment.swissmap

package rt

import (
	"fmt"
	_ "unsafe" // go:linkname
)

// Scripted draws for the large traces (docs/trace-format.md section 10).
//
// Instead of recording the values runtime.rand returned, a large trace
// dictates them: before op n the M's ChaCha8 buffer is loaded with the 32
// values ScriptedDraw(seed, n, 0..31), which runtime.rand (rand.go:160)
// hands out in order, exactly as after a refill. A replayer computes the
// same values from the formula, so the trace only needs the number of draws
// each op took. An op that wants more than 32 makes the runtime refill the
// block, which ScriptUsed reports as an error.

// A new M takes one value from the generator of the M that creates it:
// mcommoninit (proc.go:942) calls mrandinit (rand.go:190), whose
// `mp.cheaprand = rand()` runs on the creating M. A runtime-internal
// thread start during a traced op (the first GC cycles start their
// workers) would thus pass for a map draw. The large oracle turns the GC
// off, and Script/ScriptUsed fail if the number of Ms changed during the op.

//go:linkname mcount runtime.mcount
func mcount() int32

var scriptMs int32

// ScriptedDraw is draw i of op n of a large trace with the given seed:
// splitmix64's output function applied to a mix of the three.
func ScriptedDraw(seed, n, i uint64) uint64 {
	z := seed ^ n*0xD1B54A32D192ED03 ^ (i+1)*0x9E3779B97F4A7C15
	z = (z ^ z>>30) * 0xBF58476D1CE4E5B9
	z = (z ^ z>>27) * 0x94D049BB133111EB
	return z ^ z>>31
}

// Script loads the M's generator with the 32 scripted draws of op n.
func (r *Rand) Script(seed, n uint64) error {
	mp := acquirem()
	releasem(mp)
	if mp != r.mp {
		return fmt.Errorf("oracle goroutine moved to another M")
	}
	r.st.seed = [4]uint64{}
	for i := range r.st.buf {
		r.st.buf[i] = ScriptedDraw(seed, n, uint64(i))
	}
	r.st.c, r.st.i, r.st.n = 0, 0, chChunk
	scriptMs = mcount()
	return nil
}

// ScriptUsed is the number of scripted draws consumed since Script.
func (r *Rand) ScriptUsed() (int, error) {
	if m := mcount(); m != scriptMs {
		return 0, fmt.Errorf("the runtime started an M during the op (%d -> %d Ms); its mrandinit may have taken a draw", scriptMs, m)
	}
	if r.st.c != 0 || r.st.n != chChunk || r.st.i > chChunk {
		return 0, fmt.Errorf("operation took more than %d draws", chChunk)
	}
	return int(r.st.i), nil
}
