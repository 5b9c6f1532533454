//go:build !goexperiment.swissmap

package main

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"

	"gomap/go-ref/internal/rt"
)

// Replay re-executes a trace on fresh real maps. Instead of seeding the
// runtime generator, each op gets exactly its recorded "rand" values loaded
// into the M's ChaCha8 buffer, and must consume all of them and nothing
// more. Every regenerated line (header included) must equal the recorded one
// byte for byte. This shows that the ops plus their recorded draws fully
// determine Go's behaviour, which is what the Rust replay relies on.

type replayOp struct {
	op    string
	draws []uint64
}

type traceHeader struct {
	Format        string `json:"format"`
	Key           string `json:"key"`
	Hash          string `json:"hash"`
	Scenario      string `json:"scenario"`
	Seed          uint64 `json:"seed"`
	SnapshotEvery int    `json:"snapshot_every"`
}

type traceLine struct {
	N    int      `json:"n"`
	Op   string   `json:"op"`
	Map  *int     `json:"map"`
	Hint *int     `json:"hint"`
	K    *string  `json:"k"`
	V    *string  `json:"v"`
	It   *int     `json:"it"`
	Rand []uint64 `json:"rand"`
	Res  json.RawMessage
}

func replay(path string, rnd *rt.Rand, hash string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<28)
	if !sc.Scan() {
		return fmt.Errorf("empty trace")
	}
	var hd traceHeader
	if err := json.Unmarshal(sc.Bytes(), &hd); err != nil {
		return fmt.Errorf("header: %v", err)
	}
	if hd.Format != "gomap-trace/1" {
		return fmt.Errorf("format %q", hd.Format)
	}
	if hd.Hash != hash {
		return fmt.Errorf("trace uses the %s hash path but this process uses %s (GODEBUG=cpu.aes=off selects fallback)", hd.Hash, hash)
	}
	k := kindByName(hd.Key)
	if k == nil {
		return fmt.Errorf("unknown key type %q", hd.Key)
	}
	var want []byte
	lineNo := 1
	mismatch := error(nil)
	t := &tracer{k: k, rnd: rnd, seed: hd.Seed, snapEvery: hd.SnapshotEvery}
	t.sink = func(b []byte) {
		if mismatch == nil && !bytes.Equal(bytes.TrimSuffix(b, []byte("\n")), want) {
			mismatch = fmt.Errorf("line %d differs:\n  recorded: %.400s\n  replayed: %.400s", lineNo, want, b)
		}
	}
	mt, _ := rt.Eface(k.zero())
	want = append(want[:0], sc.Bytes()...)
	t.header(hd.Scenario, hash, hd.Seed, mt)
	if mismatch != nil {
		return mismatch
	}
	unhex := func(p *string) []byte {
		if p == nil {
			fatalf("line %d: missing key/elem", lineNo)
		}
		b, err := hex.DecodeString(*p)
		if err != nil {
			fatalf("line %d: %v", lineNo, err)
		}
		return b
	}
	need := func(p *int) int {
		if p == nil {
			fatalf("line %d: missing field", lineNo)
		}
		return *p
	}
	for sc.Scan() {
		lineNo++
		want = append(want[:0], sc.Bytes()...)
		var l traceLine
		if err := json.Unmarshal(want, &l); err != nil {
			return fmt.Errorf("line %d: %v", lineNo, err)
		}
		if l.N != t.n {
			return fmt.Errorf("line %d: op index %d, expected %d", lineNo, l.N, t.n)
		}
		t.replay = &replayOp{op: l.Op, draws: l.Rand}
		switch l.Op {
		case "make":
			if id := t.opMake(need(l.Hint)); id != need(l.Map) {
				return fmt.Errorf("line %d: make created map %d", lineNo, id)
			}
		case "assign":
			t.opAssign(need(l.Map), unhex(l.K), unhex(l.V))
		case "delete":
			t.opDelete(need(l.Map), unhex(l.K))
		case "get":
			t.opGet(need(l.Map), unhex(l.K))
		case "clear":
			t.opClear(need(l.Map))
		case "clone":
			t.opClone(need(l.Map))
		case "len":
			t.opLen(need(l.Map))
		case "iterinit":
			if id := t.opIterInit(need(l.Map)); id != need(l.It) {
				return fmt.Errorf("line %d: iterinit created iterator %d", lineNo, id)
			}
		case "iternext":
			t.opIterNext(need(l.It))
		case "iterend":
			t.opIterEnd(need(l.It))
		case "final":
			t.opFinal()
		default:
			return fmt.Errorf("line %d: unknown op %q", lineNo, l.Op)
		}
		if mismatch != nil {
			return mismatch
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "replay %s: %d ops identical\n", path, t.n)
	return nil
}
