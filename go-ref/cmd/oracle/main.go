//go:build !goexperiment.swissmap

// Command oracle drives real Go 1.24.11 maps (GOEXPERIMENT=noswissmap) and
// dumps their internals after every operation as a JSON-lines trace, the
// reference the Rust port gomap is replayed against. The format is defined
// in docs/trace-format.md.
//
//	go run -ldflags=-checklinkname=0 ./cmd/oracle -type u64 -scenario grow -seed 1 -ops 400 -out FILE
//	go run -ldflags=-checklinkname=0 ./cmd/oracle -type str -script FILE -out FILE
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"strings"

	"gomap/go-ref/internal/rt"
)

func fatalf(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "oracle: "+format+"\n", a...)
	os.Exit(1)
}

func main() {
	// Hash keys first: no traced map may exist before they are in place.
	hash, err := rt.InstallTestKeys()
	if err != nil {
		fatalf("%v", err)
	}
	if err := rt.Check(); err != nil {
		fatalf("%v", err)
	}
	rnd, err := rt.LockRand()
	if err != nil {
		fatalf("%v", err)
	}

	var names []string
	for _, k := range kinds {
		names = append(names, k.name())
	}
	var scNames []string
	for _, s := range scenarios {
		scNames = append(scNames, s.name)
	}
	typ := flag.String("type", "u64", "map type: "+strings.Join(names, ", "))
	scen := flag.String("scenario", "mixed", "scenario: "+strings.Join(scNames, ", "))
	seed := flag.Uint64("seed", 1, "scenario seed (also seeds the runtime generator)")
	ops := flag.Int("ops", 400, "number of trace lines after the header, including the final check")
	snap := flag.Int("snap", 0, "emit full states every K ops (0: ops/8)")
	out := flag.String("out", "-", "output file (- for stdout)")
	replayFile := flag.String("replay", "", "re-execute the trace in this file, injecting its recorded draws, and require identical output")
	largeScen := flag.String("large", "", "write a large trace (format gomap-large/1) of this scenario: b16, b17")
	scriptFile := flag.String("script", "", "run the operations of this script (docs/study-guide.md) on a map of -type u64, u32, f64 or str, full state after every op")
	flag.Parse()

	if *replayFile != "" {
		if err := replay(*replayFile, rnd, hash); err != nil {
			fatalf("replay %s: %v", *replayFile, err)
		}
		return
	}

	if *scriptFile != "" {
		runScript(rnd, hash, *typ, *scriptFile, *seed, *out)
		return
	}

	if *largeScen != "" {
		runLarge(rnd, hash, *typ, *largeScen, *seed, *out)
		return
	}

	k := kindByName(*typ)
	if k == nil {
		fatalf("unknown type %q", *typ)
	}
	var fn func(*sc)
	for _, s := range scenarios {
		if s.name == *scen {
			fn = s.fn
		}
	}
	if fn == nil {
		fatalf("unknown scenario %q", *scen)
	}
	if *ops < 2 {
		fatalf("-ops must be at least 2")
	}
	if *snap <= 0 {
		*snap = max(1, *ops/8)
	}

	f := os.Stdout
	if *out != "-" {
		f, err = os.Create(*out)
		if err != nil {
			fatalf("%v", err)
		}
	}
	w := bufio.NewWriterSize(f, 1<<20)
	t := &tracer{k: k, rnd: rnd, seed: *seed, snapEvery: *snap}
	t.sink = func(b []byte) {
		if _, err := w.Write(b); err != nil {
			fatalf("write: %v", err)
		}
	}
	mt, _ := rt.Eface(k.zero())
	if err := rt.CheckMapType(mt, k.keySize(), k.elemSize()); err != nil {
		fatalf("%v", err)
	}
	t.header(*scen, hash, *seed, mt)

	s := &sc{t: t, k: k, rng: *seed ^ 0x5EED5EED5EED5EED, ops: *ops}
	func() {
		defer func() {
			if r := recover(); r != nil {
				if _, ok := r.(errBudget); !ok {
					panic(r)
				}
			}
		}()
		fn(s)
	}()
	t.opFinal()
	if err := w.Flush(); err != nil {
		fatalf("%v", err)
	}
	if f != os.Stdout {
		if err := f.Close(); err != nil {
			fatalf("%v", err)
		}
	}
}
