// Command racestress runs one trial of a racy map program with Go's classic
// map (build with GOEXPERIMENT=noswissmap): the Go side of gomap's
// capi/examples/race_stress.rs, which runs the same patterns through
// libgomap and compares how often each runtime detects the race.
//
// Each trial uses a fresh map[uint64][200]byte (elems stored out of line),
// 64 keys present from the start and never deleted, and a writer that
// inserts keys from 64 on and deletes each one 2,000 inserts later
// (20,000 inserts). Patterns:
//
//	writers    two such writers on disjoint keys
//	readwrite  a writer and a goroutine looking up the 64 fixed keys
//	iterate    a writer and a goroutine ranging over the map
//	clear      a writer filling 1,000 keys and clearing, 20 times, and a
//	           goroutine looking them up
//
// A trial that finishes prints "wrong=N", the number of wrong results the
// reader saw (an elem not holding its key's pattern, or a fixed key
// missing). A detected race ends the process with Go's "fatal error:
// concurrent map ..." and exit status 2.
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
)

const (
	fixed  = 64
	window = 2000
	words  = 25
)

// ops is the number of writer operations per trial (-ops).
var ops uint64 = 20000

type elem [words]uint64

func word(k uint64) uint64 { return k*0x9E3779B97F4A7C15 ^ 0x5555 }

func elemOK(e *elem, k uint64) bool {
	for i := range e {
		if e[i] != word(k) {
			return false
		}
	}
	return true
}

func insert(m map[uint64]elem, k uint64) {
	var e elem
	for i := range e {
		e[i] = word(k)
	}
	m[k] = e
}

func churn(m map[uint64]elem, base uint64) {
	for i := uint64(0); i < ops; i++ {
		insert(m, base+fixed+i)
		if i >= window {
			delete(m, base+fixed+i-window)
		}
	}
}

func main() {
	pattern := flag.String("pattern", "readwrite", "writers, readwrite, iterate or clear")
	flag.Uint64Var(&ops, "ops", ops, "writer operations per trial")
	flag.Parse()
	runtime.GOMAXPROCS(2)
	m := make(map[uint64]elem)
	if *pattern != "clear" {
		for k := uint64(0); k < fixed; k++ {
			insert(m, k)
		}
	}
	var wrong atomic.Uint64
	var done, running atomic.Bool
	var start, wg sync.WaitGroup
	start.Add(1)
	wg.Add(1)
	go func() {
		defer wg.Done()
		start.Wait()
		// The writer starts once this goroutine runs (as in the Rust
		// driver): one still waking up when the writes end cannot race.
		running.Store(true)
		switch *pattern {
		case "writers":
			churn(m, 1<<40)
		case "iterate":
			for !done.Load() {
				n := uint64(0)
				for k, e := range m {
					if k < fixed {
						n++
					}
					if !elemOK(&e, k) {
						wrong.Add(1)
					}
				}
				if n != fixed {
					wrong.Add(1)
				}
			}
		case "clear":
			for !done.Load() {
				for k := uint64(0); k < 1000; k++ {
					if e, ok := m[k]; ok && !elemOK(&e, k) {
						wrong.Add(1)
					}
				}
			}
		default:
			for !done.Load() {
				for k := uint64(0); k < fixed; k++ {
					e, ok := m[k]
					if !ok || !elemOK(&e, k) {
						wrong.Add(1)
					}
				}
			}
		}
	}()
	start.Done()
	for !running.Load() {
		runtime.Gosched()
	}
	if *pattern == "clear" {
		for r := uint64(0); r < (ops+999)/1000; r++ {
			for k := uint64(0); k < 1000; k++ {
				insert(m, k)
			}
			clear(m)
		}
	} else {
		churn(m, 0)
	}
	done.Store(true)
	wg.Wait()
	fmt.Printf("wrong=%d\n", wrong.Load())
	os.Exit(0)
}
