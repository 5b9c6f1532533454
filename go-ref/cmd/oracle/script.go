//go:build !goexperiment.swissmap

package main

import (
	"bufio"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"

	"gomap/go-ref/internal/rt"
)

// Scripts: a student's own list of map operations (the language is
// documented in docs/study-guide.md, "Your own program"), run on a real map
// and traced like a scenario, with a full state after every op and each op
// line carrying the script line it came from ("line"). The Rust inspector
// parses the same script, runs it on gomap with the draws recorded here and
// checks every op line against its own reading of the script, so the two
// parsers cannot drift apart unnoticed.

// sop is one script operation.
type sop struct {
	line int
	verb string   // make assign delete lookup len clear clone range start next break
	keys [][]byte // assign, delete, lookup: the key bytes (trace encoding)
	val  []byte   // assign: the elem bytes; nil: the assignment counter
	hint int      // make
	n    int      // next: iterations; -1: to the end
}

type scriptErr struct {
	line int
	msg  string
}

func (e scriptErr) Error() string { return fmt.Sprintf("line %d: %s", e.line, e.msg) }

// maxRange bounds the keys of one A..B range.
const maxRange = 4096

// maxHint keeps make's hint below B = 16, which traces never reach.
const maxHint = 100000

// scriptTokens splits a line into words; a word starting with '"' runs to
// the next unescaped '"' (escapes \" and \\); '#' outside quotes starts a
// comment. Quoted words keep their quotes, so keys can tell them apart.
func scriptTokens(s string) ([]string, error) {
	var out []string
	i := 0
	for i < len(s) {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\r':
			i++
		case c == '#':
			return out, nil
		case c == '"':
			var b strings.Builder
			b.WriteByte('"')
			j := i + 1
			for ; j < len(s) && s[j] != '"'; j++ {
				if s[j] == '\\' {
					if j+1 >= len(s) || (s[j+1] != '"' && s[j+1] != '\\') {
						return nil, fmt.Errorf(`only \" and \\ are escapes in a quoted key`)
					}
					j++
				}
				b.WriteByte(s[j])
			}
			if j >= len(s) {
				return nil, fmt.Errorf("unterminated quoted key")
			}
			b.WriteByte('"')
			out = append(out, b.String())
			i = j + 1
		default:
			j := i
			for j < len(s) && s[j] != ' ' && s[j] != '\t' && s[j] != '\r' && s[j] != '#' {
				j++
			}
			out = append(out, s[i:j])
			i = j
		}
	}
	return out, nil
}

// scriptUint reads a decimal or 0x-hexadecimal number of at most bits bits.
func scriptUint(s string, bits int) (uint64, bool) {
	if strings.HasPrefix(s, "0x") || strings.HasPrefix(s, "0X") {
		v, err := strconv.ParseUint(s[2:], 16, bits)
		return v, err == nil && len(s) > 2
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	v, err := strconv.ParseUint(s, 10, bits)
	return v, err == nil
}

// scriptFloat reads a float64 key: NaN (math.NaN's bits), Inf, +Inf, -Inf,
// or a decimal literal ([+-]digits[.digits][e[+-]digits]).
func scriptFloat(s string) (float64, bool) {
	switch s {
	case "NaN":
		return math.NaN(), true
	case "Inf", "+Inf":
		return math.Inf(1), true
	case "-Inf":
		return math.Inf(-1), true
	}
	digits := false
	for i, c := range s {
		switch {
		case c >= '0' && c <= '9':
			digits = true
		case c == '.' || c == 'e' || c == 'E':
		case (c == '+' || c == '-') && (i == 0 || s[i-1] == 'e' || s[i-1] == 'E'):
		default:
			return 0, false
		}
	}
	v, err := strconv.ParseFloat(s, 64)
	return v, err == nil && digits
}

// splitNum splits "key12" into "key" and 12 (the trailing decimal digits).
func splitNum(s string) (string, uint64, bool) {
	i := len(s)
	for i > 0 && s[i-1] >= '0' && s[i-1] <= '9' {
		i--
	}
	if i == len(s) || len(s)-i > 9 {
		return "", 0, false
	}
	n, err := strconv.ParseUint(s[i:], 10, 64)
	return s[:i], n, err == nil
}

// scriptKeys reads a key or an A..B range of keys of map type typ, as
// trace key bytes.
func scriptKeys(typ, w string) ([][]byte, error) {
	one := func(w string) ([]byte, error) {
		switch typ {
		case "u64", "u32":
			bits := 64
			if typ == "u32" {
				bits = 32
			}
			v, ok := scriptUint(w, bits)
			if !ok {
				return nil, fmt.Errorf("key %q is not a uint%d (decimal or 0x hex)", w, bits)
			}
			if typ == "u32" {
				return u32b(uint32(v)), nil
			}
			return u64b(v), nil
		case "f64":
			f, ok := scriptFloat(w)
			if !ok {
				return nil, fmt.Errorf("key %q is not a float64 (e.g. 1.5, -0, 1e9, NaN, +Inf, -Inf)", w)
			}
			return u64b(math.Float64bits(f)), nil
		default: // str
			if strings.HasPrefix(w, `"`) {
				w = w[1 : len(w)-1]
			}
			if w == "" {
				return nil, fmt.Errorf("empty string keys are not supported")
			}
			return []byte(w), nil
		}
	}
	a, b, isRange := strings.Cut(w, "..")
	if !isRange || strings.HasPrefix(w, `"`) {
		k, err := one(w)
		if err != nil {
			return nil, err
		}
		return [][]byte{k}, nil
	}
	var pa, pb string
	var na, nb uint64
	var ok bool
	if typ == "str" {
		var okb bool
		pa, na, ok = splitNum(a)
		pb, nb, okb = splitNum(b)
		if !ok || !okb || pa != pb {
			return nil, fmt.Errorf("range %q: a string range is PREFIXm..PREFIXn (same prefix, e.g. k1..k20)", w)
		}
	} else {
		var okb bool
		na, ok = scriptUint(a, 64)
		nb, okb = scriptUint(b, 64)
		if !ok || !okb {
			return nil, fmt.Errorf("range %q: ends must be whole numbers (e.g. 1..20)", w)
		}
	}
	if nb < na || nb-na >= maxRange {
		return nil, fmt.Errorf("range %q: want A <= B and at most %d keys", w, maxRange)
	}
	var out [][]byte
	for n := na; n <= nb; n++ {
		k, err := one(pa + strconv.FormatUint(n, 10)) // pa is "" for numbers
		if err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, nil
}

// parseScript reads a script for map type typ. It returns the ops and the
// seed the script sets (or -1).
func parseScript(text, typ string) ([]sop, int64, error) {
	var ops []sop
	seed := int64(-1)
	made := false
	open := 0 // line of the open "range start", 0: none
	for ln, raw := range strings.Split(text, "\n") {
		line := ln + 1
		fail := func(f string, a ...any) ([]sop, int64, error) {
			return nil, 0, scriptErr{line, fmt.Sprintf(f, a...)}
		}
		w, err := scriptTokens(raw)
		if err != nil {
			return fail("%v", err)
		}
		if len(w) == 0 {
			continue
		}
		verb, args := w[0], w[1:]
		nargs := func(lo, hi int) bool { return len(args) >= lo && len(args) <= hi }
		switch verb {
		case "set":
			verb = "assign"
		case "get":
			verb = "lookup"
		}
		if verb == "range" && len(args) == 1 && args[0] == "start" {
			verb, args = "start", nil
		}
		op := sop{line: line, verb: verb}
		switch verb {
		case "seed":
			if !nargs(1, 1) {
				return fail("seed takes one number: seed N")
			}
			if made || seed >= 0 {
				return fail("seed must come once, before the first make")
			}
			v, ok := scriptUint(args[0], 63)
			if !ok {
				return fail("seed %q is not a number", args[0])
			}
			seed = int64(v)
			continue
		case "make":
			if !nargs(0, 1) {
				return fail("make takes at most one number: make [HINT]")
			}
			if len(args) == 1 {
				v, ok := scriptUint(args[0], 64)
				if !ok || v > maxHint {
					return fail("make: hint %q is not a number from 0 to %d", args[0], maxHint)
				}
				op.hint = int(v)
			}
		case "assign", "delete", "lookup":
			hi := 1
			if verb == "assign" {
				hi = 2
			}
			if !nargs(1, hi) {
				if verb == "assign" {
					return fail("assign takes a key and an optional value: assign K [V]")
				}
				return fail("%s takes one key: %s K", verb, verb)
			}
			ks, err := scriptKeys(typ, args[0])
			if err != nil {
				return fail("%v", err)
			}
			op.keys = ks
			if len(args) == 2 {
				bits := 64
				if typ == "u32" {
					bits = 32
				}
				v, ok := scriptUint(args[1], bits)
				if !ok {
					return fail("value %q is not a uint%d (decimal or 0x hex)", args[1], bits)
				}
				op.val = elemOf(typ, v)
			}
		case "len", "clear", "clone", "shrink", "range", "start", "break":
			if len(args) != 0 {
				if verb == "range" {
					return fail("range takes nothing, or start: range | range start")
				}
				return fail("%s takes no arguments", verb)
			}
		case "next":
			if !nargs(0, 1) {
				return fail("next takes an optional count: next [N|all]")
			}
			op.n = 1
			if len(args) == 1 {
				if args[0] == "all" {
					op.n = -1
				} else if v, ok := scriptUint(args[0], 31); ok && v > 0 {
					op.n = int(v)
				} else {
					return fail("next: %q is not a count (1, 2, ... or all)", args[0])
				}
			}
		default:
			return fail("unknown operation %q (make, assign, delete, lookup, len, clear, clone, shrink, range, range start, next, break, seed)", verb)
		}
		if !made && verb != "make" {
			return fail("%s before make: a script starts with make [HINT]", w[0])
		}
		switch verb {
		case "make", "clone", "shrink", "range", "start":
			if open > 0 {
				return fail("%s inside the range loop opened on line %d: break first", strings.Join(w, " "), open)
			}
		case "next", "break":
			if open == 0 {
				return fail("%s without an open loop: range start first", verb)
			}
		}
		switch {
		case verb == "make":
			made = true
		case verb == "start":
			open = line
		case verb == "break" || (verb == "next" && op.n < 0):
			open = 0
		}
		ops = append(ops, op)
	}
	if len(ops) == 0 {
		return nil, 0, fmt.Errorf("the script has no operations")
	}
	return ops, seed, nil
}

// elemOf is the elem bytes of value v for map type typ.
func elemOf(typ string, v uint64) []byte {
	if typ == "u32" {
		return u32b(uint32(v))
	}
	return u64b(v)
}

func runScript(rnd *rt.Rand, hash, typ, file string, seed uint64, out string) {
	k := kindByName(typ)
	if k == nil || (typ != "u64" && typ != "u32" && typ != "f64" && typ != "str") {
		fatalf("scripts: -type u64, u32, f64 or str")
	}
	text, err := os.ReadFile(file)
	if err != nil {
		fatalf("%v", err)
	}
	ops, sseed, err := parseScript(string(text), typ)
	if err != nil {
		fatalf("%s: %v", file, err)
	}
	for _, op := range ops {
		if op.verb == "shrink" {
			fatalf("%s: line %d: shrink has no Go twin (gomap's mapshrink, docs/shrink.md): run the script without --go", file, op.line)
		}
	}
	if sseed >= 0 {
		seed = uint64(sseed)
	}
	f := os.Stdout
	if out != "-" {
		if f, err = os.Create(out); err != nil {
			fatalf("%v", err)
		}
	}
	w := bufio.NewWriterSize(f, 1<<20)
	t := &tracer{k: k, rnd: rnd, seed: seed, snapEvery: 1}
	t.sink = func(b []byte) {
		if _, err := w.Write(b); err != nil {
			fatalf("write: %v", err)
		}
	}
	mt, _ := rt.Eface(k.zero())
	if err := rt.CheckMapType(mt, k.keySize(), k.elemSize()); err != nil {
		fatalf("%v", err)
	}
	t.header("script", hash, seed, mt)

	cur, it := -1, -1 // the map the script works on; the open loop's iterator
	assigned := uint64(0)
	next := func() bool {
		if t.opIterNext(it) {
			return true
		}
		t.opIterEnd(it) // the loop is over: its iterator is dropped
		it = -1
		return false
	}
	for _, op := range ops {
		t.scriptLine = op.line
		switch op.verb {
		case "make":
			cur = t.opMake(op.hint)
		case "assign":
			for _, kb := range op.keys {
				assigned++
				v := op.val
				if v == nil {
					v = elemOf(typ, assigned)
				}
				t.opAssign(cur, kb, v)
			}
		case "delete":
			for _, kb := range op.keys {
				t.opDelete(cur, kb)
			}
		case "lookup":
			for _, kb := range op.keys {
				t.opGet(cur, kb)
			}
		case "len":
			t.opLen(cur)
		case "clear":
			t.opClear(cur)
		case "clone":
			cur = t.opClone(cur)
		case "range":
			it = t.opIterInit(cur)
			if t.iters[it].done {
				t.opIterEnd(it)
				it = -1
			}
			for it >= 0 && next() {
			}
		case "start":
			it = t.opIterInit(cur)
			if t.iters[it].done {
				t.opIterEnd(it)
				it = -1
			}
		case "next":
			for i := 0; it >= 0 && (op.n < 0 || i < op.n); i++ {
				next()
			}
		case "break":
			if it >= 0 {
				t.opIterEnd(it)
				it = -1
			}
		}
	}
	t.scriptLine = 0
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
