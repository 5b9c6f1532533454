//go:build !goexperiment.swissmap

package rt

import (
	"fmt"
	_ "unsafe" // go:linkname
)

// Per-process hash keys (runtime/alg.go:441 aeskeysched, :444 hashkey).
// aeskeysched has hashRandomBytes (alg.go:438) bytes: 128 on 64-bit, 64 on
// 32-bit; hashkey's words are uintptr, so the test material's words are
// truncated to their low 32 bits on 32-bit.
// alginit (alg.go:446) fills them from the bootstrap generator; the oracle
// overwrites them with the canonical test material before any traced map
// exists, so every hash value is reproducible by gomap::alg::test_key_material.

//go:linkname aeskeysched runtime.aeskeysched
var aeskeysched [HashRandomBytes]byte

// HashRandomBytes is runtime.hashRandomBytes (alg.go:438).
const HashRandomBytes = PtrSize / 4 * 64

//go:linkname hashkey runtime.hashkey
var hashkey [4]uintptr

//go:linkname useAeshash runtime.useAeshash
var useAeshash bool

// TestHashKey is the canonical fallback-path key material (as 64-bit
// words; InstallTestKeys stores uintptr(w), see TestHashKeyInForce).
var TestHashKey = [4]uint64{
	0x9E3779B97F4A7C15 | 1,
	0xC2B2AE3D27D4EB4F | 1,
	0x165667B19E3779F9 | 1,
	0x27D4EB2F165667C5 | 1,
}

// TestAESKeySched is the canonical AES-path key schedule: byte i = i*7+3.
func TestAESKeySched() [HashRandomBytes]byte {
	var k [HashRandomBytes]byte
	for i := range k {
		k[i] = byte(i*7 + 3)
	}
	return k
}

// InstallTestKeys overwrites both key sets with the canonical material and
// reports which hash path the runtime uses ("aes" or "fallback";
// GODEBUG=cpu.aes=off selects the fallback on amd64).
func InstallTestKeys() (string, error) {
	aeskeysched = TestAESKeySched()
	for i, v := range TestHashKey {
		hashkey[i] = uintptr(v)
	}
	if aeskeysched != TestAESKeySched() {
		return "", fmt.Errorf("aeskeysched write did not stick")
	}
	if useAeshash {
		return "aes", nil
	}
	return "fallback", nil
}

// TestHashKeyInForce is TestHashKey as InstallTestKeys stores it in
// runtime.hashkey: each word converted to uintptr (its low 32 bits on
// 32-bit).
func TestHashKeyInForce() [4]uint64 {
	var k [4]uint64
	for i, v := range TestHashKey {
		k[i] = uint64(uintptr(v))
	}
	return k
}
